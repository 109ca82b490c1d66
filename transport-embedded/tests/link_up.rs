//! Wake on link-up on virtual time: exact instants, no sleeping.
//!
//! A small executor polls the call and a "Wi-Fi" task that raises the
//! signal; when nothing can make progress, virtual time jumps to the
//! earliest pending timer.

use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::{Pin, pin};
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::sync::Arc;
use std::task::Wake;

use embassy_futures::join::join;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::signal::Signal;
use tenace::testing::{ScriptedTransport, Step};
use tenace::{
    AttemptOutcome, Clock, FailureKind, FixedDelay, Instant, Middleware, Pipeline, Policy,
    SeededRng, StopReason,
};
use tenace_embedded::WakeOnLinkUp;

/// Virtual time: timers complete when `run` moves time to them.
#[derive(Debug, Default)]
struct VirtualClock {
    now: Cell<u64>,
    timers: RefCell<Vec<(u64, u64)>>, // (id, deadline in ns)
    next_id: Cell<u64>,
}

struct Sleep<'a> {
    clock: &'a VirtualClock,
    id: u64,
    deadline: u64,
}

impl Future for Sleep<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.now.get() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep<'_> {
    fn drop(&mut self) {
        self.clock
            .timers
            .borrow_mut()
            .retain(|&(id, _)| id != self.id);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        Instant::from_nanos(self.now.get())
    }
    async fn sleep(&self, duration: Duration) {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let deadline = self.now().saturating_add(duration).as_nanos();
        self.timers.borrow_mut().push((id, deadline));
        Sleep {
            clock: self,
            id,
            deadline,
        }
        .await;
    }
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls `fut` to completion; when it is stuck (pending and not woken),
/// jumps virtual time to the earliest timer.
fn run<F: Future>(clock: &VirtualClock, fut: F) -> F::Output {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        if flag.0.swap(false, Ordering::SeqCst) {
            continue;
        }
        let next = clock.timers.borrow().iter().map(|&(_, d)| d).min();
        let next = next.expect("stuck: pending with no timer and no wake-up");
        clock.now.set(clock.now.get().max(next));
    }
}

/// When each attempt ended, and how.
#[derive(Debug, Default)]
struct Attempts(RefCell<Vec<(AttemptOutcome, Duration)>>);

impl Middleware for Attempts {
    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        self.0.borrow_mut().push((outcome, now.as_duration()));
    }
}

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// A failed attempt at 0 s, a 30 s backoff, the link back at `link_up`
/// (never if `None`): returns the attempts and the time the call ended.
fn scenario(link_up: Option<Duration>) -> (Vec<(AttemptOutcome, Duration)>, Duration) {
    let clock = VirtualClock::default();
    let signal: Signal<NoopRawMutex, ()> = Signal::new();
    let wake = WakeOnLinkUp::new(&clock, &signal);
    let transport = ScriptedTransport::new([Step::fail(FailureKind::Connect), Step::ok(200u16)]);
    let policy = Policy::new(FixedDelay::new(SECS(30)));
    let attempts = Attempts::default();
    let pipeline = Pipeline::new().middleware(&attempts);
    let mut rng = SeededRng::new(1);
    let call = tenace::retry_with(&transport, &wake, &policy, &pipeline, &mut rng, "GET /");
    let wifi = async {
        if let Some(at) = link_up {
            clock.sleep(at).await;
            signal.signal(());
        }
    };
    let (result, ()) = run(&clock, join(call, wifi));
    assert_eq!(result.ok().map(|r| r.value), Some(200));
    let log = attempts.0.borrow().clone();
    (log, clock.now().as_duration())
}

#[test]
fn a_30_s_backoff_ends_when_the_link_comes_up_at_2_s() {
    let (attempts, ended) = scenario(Some(SECS(2)));
    assert_eq!(
        attempts,
        [
            (AttemptOutcome::Failure(FailureKind::Connect), SECS(0)),
            (AttemptOutcome::Success, SECS(2)),
        ]
    );
    assert_eq!(ended, SECS(2));
}

#[test]
fn without_the_signal_the_backoff_is_slept_out() {
    let (attempts, ended) = scenario(None);
    assert_eq!(
        attempts,
        [
            (AttemptOutcome::Failure(FailureKind::Connect), SECS(0)),
            (AttemptOutcome::Success, SECS(30)),
        ]
    );
    assert_eq!(ended, SECS(30));
}

#[test]
fn the_signal_never_cuts_a_timeout_short() {
    // The first attempt hangs; its 5 s timeout is measured with `sleep`, so
    // the link-up at 1 s does not end it. The signal stays raised, and the
    // backoff that follows ends at once: the retry happens at 5 s.
    let clock = VirtualClock::default();
    let signal: Signal<NoopRawMutex, ()> = Signal::new();
    let wake = WakeOnLinkUp::new(&clock, &signal);
    let transport = ScriptedTransport::new([Step::hang(), Step::ok(200u16)]);
    let policy = Policy::new(FixedDelay::new(SECS(30))).attempt_timeout(SECS(5));
    let attempts = Attempts::default();
    let pipeline = Pipeline::new().middleware(&attempts);
    let mut rng = SeededRng::new(1);
    let call = tenace::retry_with(&transport, &wake, &policy, &pipeline, &mut rng, "GET /");
    let wifi = async {
        clock.sleep(SECS(1)).await;
        signal.signal(());
    };
    let (result, ()) = run(&clock, join(call, wifi));
    assert_eq!(result.ok().map(|r| r.value), Some(200));
    assert_eq!(
        *attempts.0.borrow(),
        [
            (AttemptOutcome::Failure(FailureKind::Timeout), SECS(5)),
            (AttemptOutcome::Success, SECS(5)),
        ]
    );
    assert!(!signal.signaled());
}

#[test]
fn a_deadline_still_holds() {
    // Waking early never lets a call run past its deadline: a link-up at
    // 2 s with a 1 s deadline and a 30 s backoff stops at the failure.
    let clock = VirtualClock::default();
    let signal: Signal<NoopRawMutex, ()> = Signal::new();
    let wake = WakeOnLinkUp::new(&clock, &signal);
    let transport = ScriptedTransport::new([Step::fail(FailureKind::Connect), Step::ok(200u16)]);
    let policy = Policy::new(FixedDelay::new(SECS(30))).deadline(SECS(1));
    let mut rng = SeededRng::new(1);
    let call = tenace::retry(&transport, &wake, &policy, &mut rng, "GET /");
    let err = run(&clock, call).expect_err("deadline");
    assert_eq!(err.reason(), StopReason::Deadline);
    assert_eq!(err.attempts(), 1);
    assert_eq!(transport.calls(), 1);
}
