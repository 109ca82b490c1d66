//! `RetryMachine` driven by hand, as a bare-metal loop drives it: a
//! transport error judged through the policy's predicate (`on_error`), a
//! call the caller gives up on (`stop`), an answer refused after the retry
//! decision (`refuse`), and the middleware hearing of each
//! call's end exactly once, whether it ends by a success, a stop or a drop.

use core::cell::RefCell;
use core::time::Duration;

use tenace::testing::MockError;
use tenace::{
    CallOutcome, CallResult, Decision, FailureKind, FixedDelay, Instant, Middleware, Policy,
    Replay, RetryEvent, RetryMachine, SeededRng, StopReason,
};

const S: Duration = Duration::from_secs(1);

fn at(secs: u64) -> Instant {
    Instant::from_millis(secs * 1000)
}

/// Records the delay of every retry and how each call ended.
#[derive(Debug, Default)]
struct Ends {
    retries: RefCell<Vec<Duration>>,
    calls: RefCell<Vec<(CallResult, u32)>>,
}

impl Middleware for Ends {
    fn on_retry(&self, event: &RetryEvent) {
        self.retries.borrow_mut().push(event.delay);
    }
    fn after_call(&self, outcome: &CallOutcome) {
        self.calls
            .borrow_mut()
            .push((outcome.result, outcome.attempts));
    }
}

/// Retries `Status(503)` and I/O errors; refuses every other error.
fn policy() -> Policy<FixedDelay, impl Fn(&MockError) -> bool> {
    Policy::new(FixedDelay::new(S))
        .max_retries(3)
        .retry_after_cap(Duration::from_secs(10))
        .retry_on(|e: &MockError| matches!(e.kind, FailureKind::Status(503) | FailureKind::Io))
}

#[test]
fn on_error_judges_the_error_through_the_predicate_and_honours_its_hint() {
    let policy = policy();
    let ends = Ends::default();
    let mut rng = SeededRng::new(1);
    let mut m = RetryMachine::start(&policy, Replay::Safe, &ends, at(0)).unwrap();

    let _ = m.begin_attempt(at(0)).unwrap();
    let unavailable = MockError {
        kind: FailureKind::Status(503),
        retry_after: Some(Duration::from_secs(4)),
    };
    // Accepted by the predicate; the 4 s hint lengthens the 1 s delay.
    assert_eq!(
        m.on_error(&unavailable, at(0), &mut rng),
        Decision::Retry {
            delay: Duration::from_secs(4)
        }
    );
    let _ = m.begin_attempt(at(4)).unwrap();
    assert_eq!(
        m.on_error(&MockError::new(FailureKind::Io), at(4), &mut rng),
        Decision::Retry { delay: S }
    );
    let _ = m.begin_attempt(at(5)).unwrap();
    // Refused by the predicate: the call ends at once.
    assert_eq!(
        m.on_error(&MockError::new(FailureKind::Status(404)), at(5), &mut rng),
        Decision::Stop(StopReason::NotRetryable)
    );
    assert!(m.is_done());
    assert_eq!(m.attempts(), 3);
    assert_eq!(m.slept(), Duration::from_secs(5));
    assert_eq!(*ends.retries.borrow(), [Duration::from_secs(4), S]);
    assert_eq!(
        *ends.calls.borrow(),
        [(
            CallResult::Failed(StopReason::NotRetryable, Some(FailureKind::Status(404))),
            3
        )]
    );
}

#[test]
fn stop_ends_the_call_once_and_a_later_drop_tells_nothing_more() {
    let policy = policy();
    let ends = Ends::default();
    let mut rng = SeededRng::new(1);
    let mut m = RetryMachine::start(&policy, Replay::Safe, &ends, at(0)).unwrap();
    let _ = m.begin_attempt(at(0)).unwrap();
    let decision = m.on_error(&MockError::new(FailureKind::Io), at(0), &mut rng);
    assert_eq!(decision, Decision::Retry { delay: S });

    // The caller gives up during the backoff sleep.
    assert!(!m.is_done());
    assert_eq!(m.stop(StopReason::Deadline, at(0)), StopReason::Deadline);
    assert!(m.is_done());
    // A second stop, and the drop, are not a second end.
    assert_eq!(m.stop(StopReason::Deadline, at(1)), StopReason::Deadline);
    drop(m);
    assert_eq!(
        *ends.calls.borrow(),
        [(
            CallResult::Failed(StopReason::Deadline, Some(FailureKind::Io)),
            1
        )]
    );
}

#[test]
fn each_way_a_call_ends_is_told_once() {
    let policy = policy();
    let ends = Ends::default();
    let mut rng = SeededRng::new(1);

    // A success.
    let mut m = RetryMachine::start(&policy, Replay::Safe, &ends, at(0)).unwrap();
    let _ = m.begin_attempt(at(0)).unwrap();
    let done = m.on_success(at(0));
    assert_eq!((done.attempts, done.slept), (1, Duration::ZERO));
    drop(m);

    // Retries exhausted: one call and three retries.
    let mut m = RetryMachine::start(&policy, Replay::Safe, &ends, at(10)).unwrap();
    let mut decisions = Vec::new();
    for n in 0..4 {
        let _ = m.begin_attempt(at(10 + n)).unwrap();
        decisions.push(m.on_error(&MockError::new(FailureKind::Io), at(10 + n), &mut rng));
    }
    assert_eq!(decisions[..3], [Decision::Retry { delay: S }; 3]);
    assert_eq!(decisions[3], Decision::Stop(StopReason::Exhausted));
    drop(m);

    // A failure that may have reached the server, on a request that is not
    // replay-safe.
    let mut m = RetryMachine::start(&policy, Replay::Unsafe, &ends, at(20)).unwrap();
    let _ = m.begin_attempt(at(20)).unwrap();
    assert_eq!(
        m.on_error(&MockError::new(FailureKind::Io), at(20), &mut rng),
        Decision::Stop(StopReason::NotIdempotent)
    );
    drop(m);

    // Dropped mid-call.
    let mut m = RetryMachine::start(&policy, Replay::Safe, &ends, at(30)).unwrap();
    let _ = m.begin_attempt(at(30)).unwrap();
    drop(m);

    assert_eq!(
        *ends.calls.borrow(),
        [
            (CallResult::Success, 1),
            (
                CallResult::Failed(StopReason::Exhausted, Some(FailureKind::Io)),
                4
            ),
            (
                CallResult::Failed(StopReason::NotIdempotent, Some(FailureKind::Io)),
                1
            ),
            (CallResult::Cancelled, 1),
        ]
    );
}

#[test]
fn refuse_ends_the_call_after_an_answer_the_predicate_would_retry() {
    let policy = policy();
    let ends = Ends::default();
    let mut rng = SeededRng::new(1);
    let mut m = RetryMachine::start(&policy, Replay::Safe, &ends, at(0)).unwrap();
    let _ = m.begin_attempt(at(0)).unwrap();
    assert_eq!(
        m.on_error(&MockError::new(FailureKind::Io), at(1), &mut rng),
        Decision::Retry { delay: S }
    );
    let _ = m.begin_attempt(at(2)).unwrap();
    // A 503 the predicate would retry, raised after the decision (by a
    // final-only interceptor): the call ends at once.
    assert_eq!(
        m.refuse(FailureKind::Status(503), at(3)),
        StopReason::NotRetryable
    );
    assert!(m.is_done());
    assert_eq!(*ends.retries.borrow(), [S]);
    assert_eq!(
        *ends.calls.borrow(),
        [(
            CallResult::Failed(StopReason::NotRetryable, Some(FailureKind::Status(503))),
            2
        )]
    );
}
