//! The closure API end to end: exact schedules on virtual time (the testing
//! kit's `MockClock`, and tokio's paused clock under the `tokio` feature).
#![allow(clippy::std_instead_of_core)]

use core::cell::Cell;
use core::future::pending;
use core::time::Duration;
use std::vec::Vec;

use embassy_futures::block_on;
use tenace::testing::{MockClock, MockError};
use tenace::{
    BlockingRetryable, ExponentialBackoff, FailureKind, FixedDelay, Policy, Retryable, StopReason,
    TransientErrors, TransportError,
};

const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn exp() -> ExponentialBackoff {
    ExponentialBackoff::new(s(1), 2, s(30)).unwrap()
}

#[derive(Debug, PartialEq, Eq)]
enum AppError {
    Busy,
    Invalid,
}

impl AppError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Busy)
    }
}

/// Fails `fails` times with `Busy`, then answers the attempt number.
async fn flaky(n: &Cell<u32>, fails: u32) -> Result<u32, AppError> {
    n.set(n.get() + 1);
    if n.get() <= fails {
        Err(AppError::Busy)
    } else {
        Ok(n.get())
    }
}

#[test]
fn the_schedule_is_the_strategy_s() {
    let clock = MockClock::new();
    let n = Cell::new(0);
    let mut notes = Vec::new();
    let done = block_on(
        (|| flaky(&n, 3))
            .retry(exp())
            .when(|e| e.is_transient())
            .notify(|e, d| notes.push((e.map(AppError::is_transient), d)))
            .clock(&clock)
            .seed(1)
            .call_with_stats(),
    )
    .unwrap();
    assert_eq!((done.value, done.attempts, done.slept), (4, 4, s(14)));
    assert_eq!(clock.sleeps().as_slice(), [s(2), s(4), s(8)]);
    assert_eq!(
        notes,
        [(Some(true), s(2)), (Some(true), s(4)), (Some(true), s(8))]
    );
}

#[test]
fn a_refused_error_comes_back_at_once() {
    let clock = MockClock::new();
    let n = Cell::new(0);
    let err = block_on(
        (|| async {
            n.set(n.get() + 1);
            Err::<(), _>(AppError::Invalid)
        })
        .retry(exp())
        .when(|e| e.is_transient())
        .clock(&clock)
        .seed(1)
        .call(),
    )
    .unwrap_err();
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.into_last_error(), Some(AppError::Invalid));
    assert_eq!(n.get(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn exhausted_after_max_retries_with_the_last_error() {
    let clock = MockClock::new();
    let n = Cell::new(0);
    let err = block_on(
        (|| flaky(&n, 10))
            .retry(FixedDelay::new(s(1)))
            .max_retries(2)
            .clock(&clock)
            .seed(1)
            .call(),
    )
    .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert_eq!(err.last_error(), Some(&AppError::Busy));
    assert_eq!(n.get(), 3);
    assert_eq!(clock.total_slept(), s(2));
}

#[test]
fn the_deadline_stops_before_a_sleep_past_it() {
    let clock = MockClock::new();
    let n = Cell::new(0);
    let err = block_on(
        (|| flaky(&n, 10))
            .retry(exp())
            .max_retries(10)
            .deadline(s(10))
            .clock(&clock)
            .seed(1)
            .call(),
    )
    .unwrap_err();
    // 2 + 4 = 6 s slept; the next 8 s would end past 10 s.
    assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 3));
    assert_eq!(err.last_error(), Some(&AppError::Busy));
    assert_eq!(clock.sleeps().as_slice(), [s(2), s(4)]);
}

#[test]
fn an_attempt_timeout_is_retried_and_reported_without_an_error() {
    let clock = MockClock::new();
    let n = Cell::new(0);
    let mut notes = Vec::new();
    let err = block_on(
        (|| async {
            n.set(n.get() + 1);
            pending::<Result<(), AppError>>().await
        })
        .retry(FixedDelay::new(s(1)))
        .max_retries(1)
        .attempt_timeout(s(5))
        .notify(|e, d| notes.push((e.is_some(), d)))
        .clock(&clock)
        .seed(1)
        .call(),
    )
    .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 2));
    assert_eq!(err.last_error(), None);
    assert_eq!(n.get(), 2);
    assert_eq!(notes, [(false, s(1))]);
    // Two timeouts of 5 s and one backoff of 1 s.
    assert_eq!(clock.sleeps().as_slice(), [s(5), s(1), s(5)]);
}

#[derive(Debug)]
struct Http {
    status: u16,
    retry_after: Option<Duration>,
}

impl TransportError for Http {
    fn kind(&self) -> FailureKind {
        FailureKind::Status(self.status)
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    fn timed_out(_: Duration) -> Self {
        Self {
            status: 408,
            retry_after: None,
        }
    }
}

#[test]
fn a_transport_error_brings_its_kind_and_retry_after() {
    let clock = MockClock::new();
    let n = Cell::new(0);
    let done = block_on(
        (|| async {
            n.set(n.get() + 1);
            match n.get() {
                1 => Err(Http {
                    status: 503,
                    retry_after: Some(s(7)),
                }),
                2 => Err(Http {
                    status: 500,
                    retry_after: None,
                }),
                _ => Ok("ok"),
            }
        })
        .retry(exp())
        .classified(TransientErrors)
        .clock(&clock)
        .seed(1)
        .call(),
    );
    assert_eq!(done.unwrap(), "ok");
    // The server's 7 s is a floor over the strategy's 2 s; then 4 s.
    assert_eq!(clock.sleeps().as_slice(), [s(7), s(4)]);

    // A 404 is not transient: back at once.
    let err = block_on(
        (|| async {
            Err::<(), _>(Http {
                status: 404,
                retry_after: None,
            })
        })
        .retry(exp())
        .classified(TransientErrors)
        .clock(&clock)
        .seed(1)
        .call(),
    )
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
}

#[test]
fn a_policy_brings_strategy_limits_and_predicate() {
    let clock = MockClock::new();
    let policy = Policy::new(FixedDelay::new(s(3))).max_retries(1);
    let calls = Cell::new(0);
    let err = block_on(
        (|| async {
            calls.set(calls.get() + 1);
            Err::<(), _>(MockError::new(FailureKind::Connect))
        })
        .retry(exp())
        .policy(policy)
        .clock(&clock)
        .seed(1)
        .call(),
    )
    .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 2));
    assert_eq!(clock.sleeps().as_slice(), [s(3)]);
    // The policy's predicate (network errors only) refuses a status.
    let err = block_on(
        (|| async { Err::<(), _>(MockError::new(FailureKind::Status(503))) })
            .retry(exp())
            .policy(Policy::new(FixedDelay::new(s(3))))
            .clock(&clock)
            .seed(1)
            .call(),
    )
    .unwrap_err();
    assert_eq!(err.reason(), StopReason::NotRetryable);
}

#[test]
fn middleware_sees_the_call_and_a_breaker_refuses_the_next() {
    use tenace::{BreakerConfig, CallOutcome, CallResult, CircuitBreaker, Middleware};

    #[derive(Default)]
    struct Log(core::cell::RefCell<Vec<CallResult>>, Cell<u32>);
    impl Middleware for Log {
        fn on_retry(&self, _event: &tenace::RetryEvent) {
            self.1.set(self.1.get() + 1);
        }
        fn after_call(&self, outcome: &CallOutcome) {
            self.0.borrow_mut().push(outcome.result);
        }
    }
    let clock = MockClock::new();
    let log = Log::default();
    let breaker = CircuitBreaker::new(
        BreakerConfig::new()
            .with_window(2)
            .with_min_calls(1)
            .with_failure_percent(50)
            .with_break_duration(s(60)),
    )
    .unwrap();
    let down = || async { Err::<(), _>(MockError::new(FailureKind::Connect)) };
    let err = block_on(
        down.retry(FixedDelay::new(s(1)))
            .max_retries(2)
            .classified(tenace::NetworkErrors)
            .middleware((&breaker, &log))
            .clock(&clock)
            .seed(1)
            .call(),
    )
    .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert_eq!(log.1.get(), 2);
    assert_eq!(
        log.0.borrow().as_slice(),
        [CallResult::Failed(
            StopReason::Exhausted,
            Some(FailureKind::Connect)
        )]
    );
    // The breaker opened: the next call is refused before any attempt.
    let err = block_on(
        down.retry(FixedDelay::new(s(1)))
            .classified(tenace::NetworkErrors)
            .middleware(&breaker)
            .clock(&clock)
            .seed(1)
            .call(),
    )
    .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::CircuitOpen, 0));
    assert_eq!(err.last_error(), None);
}

#[test]
fn the_blocking_twin_runs_the_same_schedule() {
    let clock = MockClock::new();
    let mut n = 0;
    let done = (|| {
        n += 1;
        if n < 4 { Err(AppError::Busy) } else { Ok(n) }
    })
    .retry(exp())
    .when(|e| e.is_transient())
    .clock(&clock)
    .seed(1)
    .call_with_stats()
    .unwrap();
    assert_eq!((done.value, done.attempts, done.slept), (4, 4, s(14)));
    assert_eq!(clock.sleeps().as_slice(), [s(2), s(4), s(8)]);

    let err = (|| Err::<(), _>(AppError::Invalid))
        .retry(exp())
        .when(|e| e.is_transient())
        .clock(&clock)
        .seed(1)
        .call()
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert_eq!(err.into_last_error(), Some(AppError::Invalid));
}

#[test]
fn jitter_is_drawn_from_the_given_rng() {
    let strategy = exp().full_jitter();
    let run = |seed| {
        let clock = MockClock::new();
        let _ = (|| Err::<(), _>(AppError::Busy))
            .retry(strategy)
            .clock(&clock)
            .seed(seed)
            .call();
        clock.sleeps()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[cfg(feature = "std")]
mod std_defaults {
    use super::*;

    #[test]
    fn the_blocking_twin_needs_no_clock_and_no_seed() {
        let mut n = 0;
        let started = std::time::Instant::now();
        let done = (|| {
            n += 1;
            if n < 3 { Err(AppError::Busy) } else { Ok(n) }
        })
        .retry(FixedDelay::new(Duration::from_millis(5)))
        .call();
        assert_eq!(done.unwrap(), 3);
        assert!(started.elapsed() >= Duration::from_millis(10));
    }
}

#[cfg(feature = "tokio")]
mod on_tokio {
    use super::*;

    fn is_send<T: Send>(t: T) -> T {
        t
    }

    #[tokio::test(start_paused = true)]
    async fn no_clock_no_seed_and_a_paused_schedule() {
        let start = tokio::time::Instant::now();
        let n = std::sync::atomic::AtomicU32::new(0);
        let done = (|| async {
            let k = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if k < 4 { Err(AppError::Busy) } else { Ok(k) }
        })
        .retry(exp())
        .when(|e| e.is_transient())
        .call_with_stats()
        .await
        .unwrap();
        assert_eq!((done.value, done.attempts, done.slept), (4, 4, s(14)));
        assert_eq!(start.elapsed(), s(14));
    }

    #[tokio::test(start_paused = true)]
    async fn attempt_timeout_and_deadline_on_tokio_time() {
        let start = tokio::time::Instant::now();
        let err = (|| async {
            tokio::time::sleep(s(60)).await;
            Ok::<(), AppError>(())
        })
        .retry(FixedDelay::new(s(1)))
        .max_retries(5)
        .attempt_timeout(s(2))
        .deadline(s(7))
        .call()
        .await
        .unwrap_err();
        // 2 + 1 + 2 + 1 = 6 s; the third attempt gets the last second.
        assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 3));
        assert_eq!(err.last_error(), None);
        assert_eq!(start.elapsed(), s(7));
    }

    #[tokio::test(start_paused = true)]
    async fn the_future_is_send_and_spawns() {
        async fn fetch(url: &'static str) -> Result<usize, AppError> {
            Ok(url.len())
        }
        let call = is_send((|| fetch("https://example.invalid/")).retry(exp()).call());
        let len = tokio::spawn(call).await.unwrap().unwrap();
        assert_eq!(len, 24);
    }

    /// A task that borrows its own state in the closure is `Send` too.
    #[tokio::test(start_paused = true)]
    async fn a_spawned_task_may_borrow_in_the_closure() {
        struct Client {
            base: String,
        }
        impl Client {
            async fn get(&self, path: &str) -> Result<usize, AppError> {
                tokio::task::yield_now().await;
                Ok(self.base.len() + path.len())
            }
        }
        let task = tokio::spawn(async {
            let client = Client {
                base: "https://example.invalid".into(),
            };
            let path = String::from("/users/7");
            (|| client.get(&path))
                .retry(exp())
                .when(|e| e.is_transient())
                .max_retries(2)
                .call()
                .await
        });
        assert_eq!(task.await.unwrap().unwrap(), 31);
    }
}
