//! Every state transition on virtual time, the driver end to end, and one
//! probe among many threads.

use core::time::Duration;
use std::sync::{Arc, Barrier};
use std::vec::Vec;

use super::*;
use crate::testing::{MockClock, ScriptedTransport, Step};
use crate::{ConfigProblem, FixedDelay, Pipeline, Policy, SeededRng};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
const fn at(n: u64) -> Instant {
    Instant::from_millis(n)
}

const OK: CallResult = CallResult::Success;
const DOWN: CallResult = CallResult::Failed(StopReason::Exhausted, Some(FailureKind::Connect));

/// Window 4, at least 4 calls, 50 %, a 1 s break.
fn breaker() -> CircuitBreaker {
    CircuitBreaker::new(
        BreakerConfig::new()
            .with_window(4)
            .with_min_calls(4)
            .with_failure_percent(50)
            .with_break_duration(ms(1_000)),
    )
    .unwrap()
}

/// A call admitted at `start` that ends at `end` with `result`.
fn call(b: &CircuitBreaker, start: u64, end: u64, result: CallResult) -> Result<(), StopReason> {
    b.try_acquire(at(start))?;
    finish(b, start, end, result);
    Ok(())
}

fn finish(b: &CircuitBreaker, start: u64, end: u64, result: CallResult) {
    b.record(result, at(start), at(end));
}

/// Opens `b` (from closed) with four failures ending at `t`.
fn open_at(b: &CircuitBreaker, t: u64) {
    for _ in 0..4 {
        call(b, t, t, DOWN).unwrap();
    }
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn stays_closed_below_min_calls() {
    let b = breaker();
    for _ in 0..3 {
        call(&b, 0, 0, DOWN).unwrap();
    }
    assert_eq!(
        (b.state(), b.window_counts()),
        (BreakerState::Closed, (3, 3))
    );
    call(&b, 0, 0, DOWN).unwrap();
    assert_eq!((b.state(), b.times_opened()), (BreakerState::Open, 1));
}

#[test]
fn opens_at_exactly_the_failure_ratio() {
    let b = breaker();
    for r in [OK, OK, OK, DOWN] {
        call(&b, 0, 0, r).unwrap();
    }
    // 1 of 4 is under 50 %.
    assert_eq!(
        (b.state(), b.window_counts()),
        (BreakerState::Closed, (4, 1))
    );
    // The ring drops the oldest success: OK OK DOWN DOWN is 2 of 4.
    call(&b, 0, 0, DOWN).unwrap();
    assert_eq!((b.state(), b.window_counts()), (BreakerState::Open, (4, 2)));
}

#[test]
fn window_slides_over_old_failures() {
    let b = CircuitBreaker::new(
        BreakerConfig::new()
            .with_window(3)
            .with_min_calls(3)
            .with_failure_percent(100)
            .with_break_duration(ms(1_000)),
    )
    .unwrap();
    for r in [DOWN, DOWN, OK, DOWN, DOWN] {
        call(&b, 0, 0, r).unwrap();
    }
    // The ring holds OK DOWN DOWN: not all failures.
    assert_eq!(
        (b.state(), b.window_counts()),
        (BreakerState::Closed, (3, 2))
    );
    call(&b, 0, 0, DOWN).unwrap();
    assert_eq!((b.state(), b.window_counts()), (BreakerState::Open, (3, 3)));
}

#[test]
fn successes_never_open_and_only_failures_evaluate() {
    let b = CircuitBreaker::new(
        BreakerConfig::new()
            .with_window(MAX_WINDOW)
            .with_min_calls(MAX_WINDOW)
            .with_failure_percent(1)
            .with_break_duration(ms(1)),
    )
    .unwrap();
    for _ in 0..1_000 {
        call(&b, 0, 0, OK).unwrap();
    }
    assert_eq!(
        (b.state(), b.window_counts()),
        (BreakerState::Closed, (128, 0))
    );
    // 1 failure in 128 is 0.78 %: under 1 %. Two are 1.56 %: over.
    call(&b, 0, 0, DOWN).unwrap();
    assert_eq!(
        (b.state(), b.window_counts()),
        (BreakerState::Closed, (128, 1))
    );
    call(&b, 0, 0, DOWN).unwrap();
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn open_refuses_until_the_break_ends_on_the_clock() {
    let b = breaker();
    open_at(&b, 500);
    assert_eq!(b.try_acquire(at(500)), Err(StopReason::CircuitOpen));
    assert_eq!(
        b.try_acquire(Instant::from_nanos(at(1_500).as_nanos() - 1)),
        Err(StopReason::CircuitOpen)
    );
    assert_eq!(b.refused(), 2);
    // At exactly 500 ms + 1 s: half-open, this call is the probe.
    assert_eq!(b.try_acquire(at(1_500)), Ok(()));
    assert_eq!(b.state(), BreakerState::HalfOpen);
}

#[test]
fn half_open_lets_exactly_one_probe() {
    let b = breaker();
    open_at(&b, 0);
    assert_eq!(b.try_acquire(at(1_000)), Ok(()));
    for t in [1_000, 1_200, 1_999] {
        assert_eq!(b.try_acquire(at(t)), Err(StopReason::CircuitOpen));
    }
    assert_eq!((b.state(), b.refused()), (BreakerState::HalfOpen, 3));
}

#[test]
fn probe_success_closes_with_an_empty_window() {
    let b = breaker();
    open_at(&b, 0);
    call(&b, 1_000, 1_050, OK).unwrap();
    assert_eq!(
        (b.state(), b.window_counts()),
        (BreakerState::Closed, (0, 0))
    );
    // A fresh window: min_calls applies again.
    for _ in 0..3 {
        call(&b, 1_100, 1_100, DOWN).unwrap();
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn probe_failure_reopens_for_a_break_from_its_end() {
    let b = breaker();
    open_at(&b, 0);
    call(&b, 1_000, 1_300, DOWN).unwrap();
    assert_eq!((b.state(), b.times_opened()), (BreakerState::Open, 2));
    assert_eq!(b.try_acquire(at(2_299)), Err(StopReason::CircuitOpen));
    assert_eq!(b.try_acquire(at(2_300)), Ok(()));
    assert_eq!(b.state(), BreakerState::HalfOpen);
}

#[test]
fn cancelled_probe_frees_its_slot() {
    let b = breaker();
    open_at(&b, 0);
    b.try_acquire(at(1_000)).unwrap();
    assert_eq!(b.try_acquire(at(1_001)), Err(StopReason::CircuitOpen));
    finish(&b, 1_000, 1_002, CallResult::Cancelled);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    // The next call probes, and its success closes.
    call(&b, 1_003, 1_004, OK).unwrap();
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn probe_that_says_nothing_frees_its_slot() {
    let b = breaker();
    open_at(&b, 0);
    // Ended before any attempt (a deadline already past), then a local
    // error: neither says anything about the server.
    call(
        &b,
        1_000,
        1_000,
        CallResult::Failed(StopReason::Deadline, None),
    )
    .unwrap();
    assert_eq!(b.state(), BreakerState::HalfOpen);
    call(
        &b,
        1_001,
        1_001,
        CallResult::Failed(StopReason::NotRetryable, Some(FailureKind::Other)),
    )
    .unwrap();
    assert_eq!((b.state(), b.times_opened()), (BreakerState::HalfOpen, 1));
    call(&b, 1_002, 1_002, DOWN).unwrap();
    assert_eq!((b.state(), b.times_opened()), (BreakerState::Open, 2));
}

#[test]
fn client_errors_mean_the_server_answered() {
    let b = breaker();
    let not_found = CallResult::Failed(StopReason::NotRetryable, Some(FailureKind::Status(404)));
    for _ in 0..8 {
        call(&b, 0, 0, not_found).unwrap();
    }
    assert_eq!(
        (b.state(), b.window_counts()),
        (BreakerState::Closed, (4, 0))
    );
    // A 503 is trouble, and so is a budget stop after a timeout.
    let unavailable = CallResult::Failed(StopReason::Exhausted, Some(FailureKind::Status(503)));
    let budget = CallResult::Failed(StopReason::Budget, Some(FailureKind::Timeout));
    call(&b, 0, 0, unavailable).unwrap();
    call(&b, 0, 0, budget).unwrap();
    assert_eq!((b.state(), b.window_counts()), (BreakerState::Open, (4, 2)));
    // A 404 from the probe closes: the server is up.
    call(&b, 1_000, 1_000, not_found).unwrap();
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn silent_probe_is_replaced_after_a_break() {
    let b = breaker();
    open_at(&b, 0);
    b.try_acquire(at(1_000)).unwrap(); // never reports
    assert_eq!(b.try_acquire(at(1_999)), Err(StopReason::CircuitOpen));
    assert_eq!(b.try_acquire(at(2_000)), Ok(()));
    // The lost probe's late report is ignored; the new probe decides.
    finish(&b, 1_000, 2_100, OK);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    finish(&b, 2_000, 2_200, DOWN);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn calls_from_before_the_break_do_not_decide() {
    let b = breaker();
    // Two calls admitted while closed, still running.
    b.try_acquire(at(0)).unwrap();
    b.try_acquire(at(1)).unwrap();
    open_at(&b, 10);
    // One ends while open: ignored.
    finish(&b, 0, 20, OK);
    assert_eq!(b.state(), BreakerState::Open);
    b.try_acquire(at(1_010)).unwrap();
    // The other ends while the probe is out: ignored too.
    finish(&b, 1, 1_020, OK);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    finish(&b, 1_010, 1_030, OK);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn reset_closes_and_clears() {
    let b = breaker();
    open_at(&b, 0);
    let _ = b.try_acquire(at(1));
    b.reset();
    assert_eq!(
        (b.state(), b.window_counts(), b.refused(), b.times_opened()),
        (BreakerState::Closed, (0, 0), 0, 0)
    );
    assert_eq!(b.try_acquire(at(2)), Ok(()));
}

#[test]
fn refuses_nonsense_config() {
    let e = |c: BreakerConfig| CircuitBreaker::new(c).unwrap_err();
    let c = BreakerConfig::new();
    assert_eq!(
        e(c.with_window(0)),
        ConfigError::new("window", ConfigProblem::Zero)
    );
    assert_eq!(
        e(c.with_window(129)),
        ConfigError::new("window", ConfigProblem::TooLarge)
    );
    assert_eq!(
        e(c.with_min_calls(0)),
        ConfigError::new("min_calls", ConfigProblem::Zero)
    );
    assert_eq!(
        e(c.with_min_calls(21)),
        ConfigError::new("min_calls", ConfigProblem::TooLarge)
    );
    assert_eq!(
        e(c.with_failure_percent(0)),
        ConfigError::new("failure_percent", ConfigProblem::Zero)
    );
    assert_eq!(
        e(c.with_failure_percent(101)),
        ConfigError::new("failure_percent", ConfigProblem::TooLarge)
    );
    assert_eq!(
        e(c.with_break_duration(Duration::ZERO)),
        ConfigError::new("break_duration", ConfigProblem::Zero)
    );
    assert_eq!(
        e(c.with_break_duration(Duration::MAX)),
        ConfigError::new("break_duration", ConfigProblem::TooLarge)
    );
    assert_eq!(BreakerConfig::default(), c);
    let max = CircuitBreaker::new(c.with_window(128).with_min_calls(128))
        .unwrap()
        .config();
    assert_eq!(
        (
            max.window(),
            max.min_calls(),
            max.failure_percent(),
            max.break_duration()
        ),
        (128, 128, 50, Duration::from_secs(5))
    );
}

#[test]
fn a_static_breaker_builds_in_const() {
    static BREAKER: CircuitBreaker = match CircuitBreaker::new(BreakerConfig::new()) {
        Ok(b) => b,
        Err(_) => panic!(),
    };
    assert_eq!(BREAKER.try_acquire(at(0)), Ok(()));
    assert_eq!(BREAKER.state().as_str(), "closed");
}

fn run<const N: usize>(
    b: &CircuitBreaker,
    clock: &MockClock,
    t: &ScriptedTransport<'_, (), u16, N>,
) -> Result<u16, crate::RetryError<crate::testing::MockError>> {
    let policy = Policy::new(FixedDelay::new(ms(10))).max_retries(1);
    let pipeline = Pipeline::new().middleware(b);
    embassy_futures::block_on(crate::retry_with(
        t,
        clock,
        &policy,
        &pipeline,
        &mut SeededRng::new(3),
        (),
    ))
    .map(|r| r.value)
}

#[test]
fn driver_open_circuit_fails_at_once_without_touching_the_transport() {
    let b = breaker();
    let clock = MockClock::new();
    let t = ScriptedTransport::<(), u16, 9>::new([
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Timeout),
        Step::fail(FailureKind::Timeout),
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Connect),
        Step::ok(200),
    ]);
    for _ in 0..4 {
        assert_eq!(
            run(&b, &clock, &t).unwrap_err().reason(),
            StopReason::Exhausted
        );
    }
    assert_eq!(
        (b.state(), t.calls(), clock.now()),
        (BreakerState::Open, 8, at(40))
    );
    let err = run(&b, &clock, &t).unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::CircuitOpen, 0));
    assert!(err.last_error().is_none());
    assert_eq!((t.calls(), clock.sleeps().len()), (8, 4));
    // A second later on the clock, the probe goes through and closes it.
    clock.advance(ms(1_000));
    assert_eq!(run(&b, &clock, &t).ok(), Some(200));
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn driver_dropped_probe_does_not_wedge() {
    let b = breaker();
    open_at(&b, 0);
    let clock = MockClock::new();
    clock.advance(ms(1_000));
    let t = ScriptedTransport::<(), u16, 2>::new([Step::hang(), Step::ok(200)]);
    {
        let policy = Policy::new(FixedDelay::none());
        let pipeline = Pipeline::new().middleware(&b);
        let mut rng = SeededRng::new(1);
        let mut fut = core::pin::pin!(crate::retry_with(
            &t,
            &clock,
            &policy,
            &pipeline,
            &mut rng,
            ()
        ));
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(b.try_acquire(clock.now()), Err(StopReason::CircuitOpen));
    }
    // Dropped: the slot is free at once, not after a break.
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(run(&b, &clock, &t).ok(), Some(200));
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn one_probe_among_many_threads() {
    const THREADS: usize = 8;
    let rounds = if cfg!(miri) { 2 } else { 50 };
    for round in 0..rounds {
        let b = Arc::new(breaker());
        open_at(&b, 0);
        let start = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS as u64)
            .map(|i| {
                let (b, start) = (Arc::clone(&b), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    b.try_acquire(at(1_000 + i)).is_ok()
                })
            })
            .collect();
        let admitted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&ok| ok)
            .count();
        assert_eq!(admitted, 1, "round {round}");
        assert_eq!(b.refused(), THREADS - 1);
    }
}

#[test]
fn many_threads_record_exactly_in_the_window() {
    let b = Arc::new(
        CircuitBreaker::new(
            BreakerConfig::new()
                .with_window(128)
                .with_min_calls(128)
                .with_failure_percent(100)
                .with_break_duration(ms(1)),
        )
        .unwrap(),
    );
    // 4 threads × 32 calls, a quarter failing: the window fills exactly.
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let b = Arc::clone(&b);
            std::thread::spawn(move || {
                for k in 0..32 {
                    let r = if k % 4 == i { DOWN } else { OK };
                    call(&b, 0, 0, r).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        (b.state(), b.window_counts()),
        (BreakerState::Closed, (128, 32))
    );
}

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<CircuitBreaker>();
}
