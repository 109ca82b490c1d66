//! Counters a user can read: attempts, retries, outcomes, refusals by the
//! budget and the circuit breaker, and stops on a server's wait. No heap, no lock: a handful of
//! atomics, so a `static` works on firmware and an `Arc` on a server.
//!
//! [`Metrics`] is middleware. Placed in a tuple, it sees what every
//! middleware sees: attempts, retries, how each call ended (a call stopped
//! by the budget ends with [`StopReason::Budget`]). A call *refused before
//! its first attempt* (an open circuit) never reaches the middleware after
//! the one that refused it, so to count those, wrap the others:
//! [`Metrics::around`]`((&breaker, &budget))` forwards every hook to them
//! and counts their refusals.
//!
//! ```
//! # use core::time::Duration;
//! use tenace::testing::{MockClock, ScriptedTransport, Step};
//! use tenace::{FailureKind, FixedDelay, Metrics, Pipeline, Policy, RetryBudget, SeededRng};
//!
//! static METRICS: Metrics = Metrics::new();
//! let budget = RetryBudget::new(10, 1, 10)?;
//! let clock = MockClock::new();
//! let transport = ScriptedTransport::<_, u16, 3>::new([
//!     Step::fail(FailureKind::Timeout),
//!     Step::fail(FailureKind::Io),
//!     Step::ok(200),
//! ]);
//! let policy = Policy::new(FixedDelay::new(Duration::from_millis(50))).max_retries(3);
//! let pipeline = Pipeline::new().middleware(METRICS.around(&budget));
//! let ok = embassy_futures::block_on(tenace::retry_with(&transport, &clock, &policy, &pipeline, &mut SeededRng::new(1), ()));
//! assert_eq!(ok.ok().map(|r| r.value), Some(200));
//! let m = METRICS.snapshot();
//! assert_eq!((m.calls, m.attempts, m.retries, m.successes), (1, 3, 2, 1));
//! # Ok::<(), tenace::ConfigError>(())
//! ```

use portable_atomic::{AtomicUsize, Ordering};

use crate::error::StopReason;
use crate::middleware::{AttemptOutcome, CallOutcome, CallResult, Middleware, RetryEvent};
use crate::time::Instant;

/// Counters of calls, attempts and refusals; see the
/// [module docs](crate::metrics). Counters wrap at `usize::MAX` (take
/// differences with `wrapping_sub` on 32-bit targets).
#[derive(Debug, Default)]
pub struct Metrics {
    calls: AtomicUsize,
    attempts: AtomicUsize,
    failed_attempts: AtomicUsize,
    retries: AtomicUsize,
    successes: AtomicUsize,
    failures: AtomicUsize,
    cancelled: AtomicUsize,
    refused_by_budget: AtomicUsize,
    refused_by_breaker: AtomicUsize,
    stopped_by_server_wait: AtomicUsize,
}

/// The counters of a [`Metrics`] at one moment (each read on its own, so a
/// snapshot taken during calls may be off by the calls in flight).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Calls that ended (successes + failures + cancelled), plus calls
    /// refused before any attempt (seen through [`Metrics::around`]).
    pub calls: usize,
    /// Attempts made, the first of each call included.
    pub attempts: usize,
    /// Attempts that failed.
    pub failed_attempts: usize,
    /// Retries that happened (each after its delay was chosen).
    pub retries: usize,
    /// Calls that returned a response.
    pub successes: usize,
    /// Calls that ended in an error, refusals included.
    pub failures: usize,
    /// Calls whose future was dropped before they ended.
    pub cancelled: usize,
    /// Calls stopped because the retry budget vetoed a retry.
    pub refused_by_budget: usize,
    /// Calls refused by an open circuit before any attempt (counted only
    /// by a [`Metrics::around`] wrapper).
    pub refused_by_breaker: usize,
    /// Calls stopped because the server asked for a wait past the cap or
    /// the deadline ([`StopReason::ServerWait`]).
    pub stopped_by_server_wait: usize,
}

impl Metrics {
    /// All counters at zero.
    pub const fn new() -> Self {
        Self {
            calls: AtomicUsize::new(0),
            attempts: AtomicUsize::new(0),
            failed_attempts: AtomicUsize::new(0),
            retries: AtomicUsize::new(0),
            successes: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
            cancelled: AtomicUsize::new(0),
            refused_by_budget: AtomicUsize::new(0),
            refused_by_breaker: AtomicUsize::new(0),
            stopped_by_server_wait: AtomicUsize::new(0),
        }
    }

    /// Middleware that runs `inner` and counts, besides everything
    /// [`Metrics`] counts, the calls `inner` refuses before any attempt.
    pub const fn around<M>(&self, inner: M) -> Metered<'_, M> {
        Metered {
            metrics: self,
            inner,
        }
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicUsize| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            calls: get(&self.calls),
            attempts: get(&self.attempts),
            failed_attempts: get(&self.failed_attempts),
            retries: get(&self.retries),
            successes: get(&self.successes),
            failures: get(&self.failures),
            cancelled: get(&self.cancelled),
            refused_by_budget: get(&self.refused_by_budget),
            refused_by_breaker: get(&self.refused_by_breaker),
            stopped_by_server_wait: get(&self.stopped_by_server_wait),
        }
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        for c in [
            &self.calls,
            &self.attempts,
            &self.failed_attempts,
            &self.retries,
            &self.successes,
            &self.failures,
            &self.cancelled,
            &self.refused_by_budget,
            &self.refused_by_breaker,
            &self.stopped_by_server_wait,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    fn bump(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn refused(&self, reason: StopReason) {
        Self::bump(&self.calls);
        Self::bump(&self.failures);
        match reason {
            StopReason::CircuitOpen => Self::bump(&self.refused_by_breaker),
            StopReason::Budget => Self::bump(&self.refused_by_budget),
            _ => {}
        }
    }
}

impl Middleware for Metrics {
    fn after_attempt(&self, outcome: AttemptOutcome, _now: Instant) {
        Self::bump(&self.attempts);
        if matches!(outcome, AttemptOutcome::Failure(_)) {
            Self::bump(&self.failed_attempts);
        }
    }

    fn on_retry(&self, _event: &RetryEvent) {
        Self::bump(&self.retries);
    }

    fn after_call(&self, outcome: &CallOutcome) {
        Self::bump(&self.calls);
        match outcome.result {
            CallResult::Success => Self::bump(&self.successes),
            CallResult::Failed(reason, _) => {
                Self::bump(&self.failures);
                match reason {
                    StopReason::Budget => Self::bump(&self.refused_by_budget),
                    StopReason::ServerWait(_) => Self::bump(&self.stopped_by_server_wait),
                    _ => {}
                }
            }
            CallResult::Cancelled => Self::bump(&self.cancelled),
        }
    }
}

/// Middleware `M` observed by a [`Metrics`]; made by [`Metrics::around`].
///
/// Every hook goes to `M` and to the metrics; a call `M` refuses in
/// [`before_call`](Middleware::before_call) is counted by its reason.
#[derive(Debug, Clone, Copy)]
pub struct Metered<'m, M> {
    metrics: &'m Metrics,
    inner: M,
}

impl<M> Metered<'_, M> {
    /// The wrapped middleware.
    pub const fn inner(&self) -> &M {
        &self.inner
    }
}

impl<M: Middleware> Middleware for Metered<'_, M> {
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        let result = self.inner.before_call(now);
        if let Err(reason) = result {
            self.metrics.refused(reason);
        }
        result
    }

    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        self.inner.after_attempt(outcome, now);
        self.metrics.after_attempt(outcome, now);
    }

    fn after_copy(&self, kind: crate::FailureKind, started: Instant, now: Instant) {
        self.inner.after_copy(kind, started, now);
    }

    fn allow_retry(&self, event: &RetryEvent) -> bool {
        self.inner.allow_retry(event)
    }

    fn on_retry(&self, event: &RetryEvent) {
        self.inner.on_retry(event);
        self.metrics.on_retry(event);
    }

    fn after_call(&self, outcome: &CallOutcome) {
        self.inner.after_call(outcome);
        self.metrics.after_call(outcome);
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;
    use crate::testing::{MockClock, ScriptedTransport, Step};
    use crate::{
        BreakerConfig, CircuitBreaker, FailureKind, FixedDelay, Pipeline, Policy, RetryBudget,
        SeededRng,
    };

    #[test]
    fn counts_attempts_retries_and_refusals() {
        let metrics = Metrics::new();
        let budget = RetryBudget::new(4, 1, 10).unwrap();
        let breaker = CircuitBreaker::new(
            BreakerConfig::new()
                .with_window(4)
                .with_min_calls(2)
                .with_failure_percent(100)
                .with_break_duration(Duration::from_secs(10)),
        )
        .unwrap();
        let clock = MockClock::new();
        // Budget: 4 tokens in tenths (40); a retry needs more than 20.
        let t = ScriptedTransport::<_, u16, 5>::new([
            // Call 1: fails (30), retried, succeeds (31).
            Step::fail(FailureKind::Io),
            Step::ok(200),
            // Call 2: fails (21), retried, fails (11): vetoed.
            Step::fail(FailureKind::Connect),
            Step::fail(FailureKind::Connect),
            // Call 3: fails (1): vetoed at once.
            Step::fail(FailureKind::Connect),
        ]);
        let policy = Policy::new(FixedDelay::new(Duration::from_millis(10))).max_retries(2);
        let pipeline = Pipeline::new().middleware(metrics.around((&breaker, &budget)));
        let call = || {
            embassy_futures::block_on(crate::retry_with(
                &t,
                &clock,
                &policy,
                &pipeline,
                &mut SeededRng::new(7),
                (),
            ))
        };
        assert_eq!(call().ok().map(|r| r.value), Some(200));
        assert_eq!(call().unwrap_err().reason(), StopReason::Budget);
        assert_eq!(call().unwrap_err().reason(), StopReason::Budget);
        // The window holds success, failure, failure: 2 of 3 is under 100 %.
        assert_eq!(breaker.window_counts(), (3, 2));
        let snap = metrics.snapshot();
        assert_eq!(
            snap,
            MetricsSnapshot {
                calls: 3,
                attempts: 5,
                failed_attempts: 4,
                retries: 2,
                successes: 1,
                failures: 2,
                cancelled: 0,
                refused_by_budget: 2,
                refused_by_breaker: 0,
                stopped_by_server_wait: 0,
            }
        );
        assert_eq!((budget.refused(), budget.scaled_tokens()), (2, 1));
        metrics.reset();
        assert_eq!(metrics.snapshot(), MetricsSnapshot::default());
    }

    #[test]
    fn counts_breaker_refusals_through_around() {
        let metrics = Metrics::new();
        let breaker = CircuitBreaker::new(
            BreakerConfig::new()
                .with_window(2)
                .with_min_calls(1)
                .with_failure_percent(100)
                .with_break_duration(Duration::from_secs(10)),
        )
        .unwrap();
        let clock = MockClock::new();
        let t = ScriptedTransport::<_, u16, 1>::new([Step::fail(FailureKind::Timeout)]);
        let policy = Policy::new(FixedDelay::none()).max_retries(0);
        let pipeline = Pipeline::new().middleware(metrics.around(&breaker));
        for _ in 0..3 {
            let _ = embassy_futures::block_on(crate::retry_with(
                &t,
                &clock,
                &policy,
                &pipeline,
                &mut SeededRng::new(7),
                (),
            ));
        }
        let snap = metrics.snapshot();
        assert_eq!(
            (
                snap.calls,
                snap.attempts,
                snap.failures,
                snap.refused_by_breaker
            ),
            (3, 1, 3, 2)
        );
        assert_eq!(breaker.refused(), 2);
        assert_eq!(t.calls(), 1);
    }

    #[test]
    fn counts_stops_on_a_servers_wait() {
        let metrics = Metrics::new();
        let clock = MockClock::new();
        let t = ScriptedTransport::<_, u16, 3>::new([
            Step::status(429, Some(Duration::from_secs(2))),
            Step::ok(200),
            Step::status(429, Some(Duration::from_secs(3600))),
        ]);
        let policy = Policy::new(FixedDelay::new(Duration::from_millis(10)))
            .retry_on(crate::TransientErrors);
        let pipeline = Pipeline::new().middleware(&metrics);
        let call = || {
            embassy_futures::block_on(crate::retry_with(
                &t,
                &clock,
                &policy,
                &pipeline,
                &mut SeededRng::new(7),
                (),
            ))
        };
        assert_eq!(call().ok().map(|r| r.value), Some(200));
        assert_eq!(clock.total_slept(), Duration::from_secs(2));
        let err = call().unwrap_err();
        assert_eq!(err.server_wait(), Some(Duration::from_secs(3600)));
        let snap = metrics.snapshot();
        assert_eq!(
            (snap.calls, snap.attempts, snap.retries, snap.failures),
            (2, 3, 1, 1)
        );
        assert_eq!(snap.stopped_by_server_wait, 1);
        assert_eq!(clock.total_slept(), Duration::from_secs(2));
    }

    #[test]
    fn counts_cancellations() {
        let metrics = Metrics::new();
        let clock = MockClock::new();
        let t = ScriptedTransport::<_, u16, 1>::new([Step::hang()]);
        let policy = Policy::new(FixedDelay::none());
        let pipeline = Pipeline::new().middleware(&metrics);
        {
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
            for _ in 0..3 {
                assert!(fut.as_mut().poll(&mut cx).is_pending());
            }
        }
        let snap = metrics.snapshot();
        assert_eq!((snap.calls, snap.attempts, snap.cancelled), (1, 0, 1));
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Metrics>();
        check::<Metered<'static, (&'static CircuitBreaker, &'static RetryBudget)>>();
    }
}
