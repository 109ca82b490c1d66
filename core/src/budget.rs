//! A retry budget: a token bucket that stops retries when too many calls
//! fail, so a fleet in an outage does not multiply its load.
//!
//! # Why a budget and not only `max_retries`
//!
//! `max_retries(3)` lets every call make four attempts. When one call in a
//! thousand fails, that is harmless; when the server is down, every call
//! fails and the fleet sends four times its normal load to a server that is
//! trying to come back. A budget limits retries by how the *recent* calls
//! went, not per call: while most attempts succeed, retries are free; once
//! failures dominate, retries stop until successes refill the bucket.
//!
//! # The rule (gRPC retry throttling)
//!
//! This is gRPC's retry throttling (proposal A6, "Retry Throttling"), the
//! same scheme as the AWS SDKs' retry quota:
//!
//! - the bucket starts full, at `max_tokens`;
//! - every failed attempt that signals trouble (a network failure, 408, 429
//!   or a 5xx other than 501 and 505) takes one token, down to zero;
//! - every successful attempt puts back `token_ratio` of a token, up to
//!   `max_tokens`;
//! - a retry is allowed only while the bucket holds **more than half** of
//!   `max_tokens`.
//!
//! Other failures (a 404, a malformed response) say nothing about the
//! server's load: they neither take nor give tokens, as in gRPC, where only
//! retryable status codes count. Asking for a retry takes nothing: the
//! failure already paid. Nothing is reserved, so a call that is cancelled
//! owes nothing and gets nothing back.
//!
//! In a full outage every attempt fails, so a budget that starts full lets
//! through about `max_tokens / 2` retries and then none: over `n` calls the
//! load is at most `n + max_tokens / 2` attempts, an amplification that
//! tends to 1 as the outage lasts.
//!
//! # Exact fractions
//!
//! `token_ratio` is a fraction `numerator / denominator` and the bucket
//! counts in `1 / denominator` of a token, in integers: ten thousand
//! successes at 1/10 add exactly a thousand tokens, and 3/5 is 3/5, not
//! rounded to a whole retry per success (tower's `TpsBudget` truncated
//! `1 / retry_percent`, tower issue 857).
//!
//! # Sharing
//!
//! One budget serves every concurrent call: the state is one atomic word
//! (through `portable-atomic`, so it also builds for targets without
//! compare-and-swap, such as `thumbv6m`). On firmware make it a `static`;
//! on a server share it with an `Arc` or a `&'static`. Since
//! [`Middleware`] is implemented for `&M`, pass `&BUDGET` or `&*arc`.
//!
//! ```
//! # use core::time::Duration;
//! use tenace::testing::{MockClock, ScriptedTransport, Step};
//! use tenace::{FailureKind, FixedDelay, Pipeline, Policy, RetryBudget, SeededRng, StopReason};
//!
//! /// gRPC's example: ten tokens, a tenth of a token back per success.
//! static BUDGET: RetryBudget = match RetryBudget::new(10, 1, 10) {
//!     Ok(budget) => budget,
//!     Err(_) => panic!("invalid budget"),
//! };
//!
//! let clock = MockClock::new();
//! let transport = ScriptedTransport::<_, u16, 8>::new(core::array::from_fn(|_| Step::fail(FailureKind::Connect)));
//! let policy = Policy::new(FixedDelay::new(Duration::from_millis(10))).max_retries(7);
//! let pipeline = Pipeline::new().middleware(&BUDGET);
//! let err = embassy_futures::block_on(tenace::retry_with(&transport, &clock, &policy, &pipeline, &mut SeededRng::new(1), "GET /"))
//!     .unwrap_err();
//! // 10 → 9, 8, 7, 6: retried; 5 is not more than half of 10: refused.
//! assert_eq!(err.reason(), StopReason::Budget);
//! assert_eq!(err.attempts(), 5);
//! assert_eq!(BUDGET.tokens(), 5);
//! ```

use portable_atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::error::{ConfigError, ConfigProblem};
use crate::middleware::{AttemptOutcome, Middleware, RetryEvent};
use crate::time::Instant;

/// A token bucket that vetoes retries while too many attempts fail (gRPC
/// retry throttling); see the [module docs](crate::budget) for the rule.
///
/// As [`Middleware`] it charges failed attempts
/// ([`after_attempt`](Middleware::after_attempt)), refunds successes, and
/// vetoes a retry ([`allow_retry`](Middleware::allow_retry)) when the
/// bucket is at or below half, which ends the call with
/// [`StopReason::Budget`](crate::StopReason::Budget). The same operations
/// are plain methods ([`record_success`](Self::record_success),
/// [`record_failure`](Self::record_failure),
/// [`allows_retry`](Self::allows_retry)) for code that runs its own loop.
#[derive(Debug)]
pub struct RetryBudget {
    /// Tokens, in units of `1 / per_token`.
    units: AtomicU32,
    /// `max_tokens × per_token`.
    max_units: u32,
    /// Units in one token: the ratio's reduced denominator.
    per_token: u32,
    /// Units a success puts back: the ratio's reduced numerator.
    refund: u32,
    refused: AtomicUsize,
}

impl RetryBudget {
    /// A full bucket of `max_tokens`; each success puts back
    /// `numerator / denominator` of a token (gRPC's `token_ratio`).
    ///
    /// Refused: zero tokens, a zero numerator or denominator, and a bucket
    /// too fine to count in 32 bits (`max_tokens × reduced denominator`
    /// over `u32::MAX`, e.g. 1000 tokens at a ratio of 1/10 000 000).
    ///
    /// ```
    /// use tenace::RetryBudget;
    /// let budget = RetryBudget::new(100, 3, 5)?; // 0.6 of a token per success
    /// assert_eq!(budget.max_tokens(), 100);
    /// assert_eq!(budget.token_ratio(), (3, 5));
    /// assert_eq!(RetryBudget::new(10, 100, 1000)?.token_ratio(), (1, 10));
    /// # Ok::<(), tenace::ConfigError>(())
    /// ```
    pub const fn new(
        max_tokens: u32,
        numerator: u32,
        denominator: u32,
    ) -> Result<Self, ConfigError> {
        if max_tokens == 0 {
            return Err(ConfigError::new("max_tokens", ConfigProblem::Zero));
        }
        if numerator == 0 || denominator == 0 {
            return Err(ConfigError::new("token_ratio", ConfigProblem::Zero));
        }
        let g = gcd(numerator, denominator);
        let (refund, per_token) = (numerator / g, denominator / g);
        let Some(max_units) = max_tokens.checked_mul(per_token) else {
            return Err(ConfigError::new("token_ratio", ConfigProblem::TooLarge));
        };
        Ok(Self {
            units: AtomicU32::new(max_units),
            max_units,
            per_token,
            refund,
            refused: AtomicUsize::new(0),
        })
    }

    /// The bucket's capacity in tokens.
    pub const fn max_tokens(&self) -> u32 {
        self.max_units / self.per_token
    }

    /// The refund per success as a reduced fraction `(numerator,
    /// denominator)`.
    pub const fn token_ratio(&self) -> (u32, u32) {
        (self.refund, self.per_token)
    }

    /// Whole tokens in the bucket now (rounded down).
    pub fn tokens(&self) -> u32 {
        self.units.load(Ordering::Relaxed) / self.per_token
    }

    /// The exact content of the bucket, in units of
    /// `1 / `[`token_scale()`](Self::token_scale) of a token.
    pub fn scaled_tokens(&self) -> u32 {
        self.units.load(Ordering::Relaxed)
    }

    /// How many units make one token: the reduced denominator of the
    /// ratio. [`scaled_tokens`](Self::scaled_tokens) `/ token_scale()` is
    /// the exact token count.
    pub const fn token_scale(&self) -> u32 {
        self.per_token
    }

    /// A successful attempt: puts back `token_ratio` of a token, up to
    /// `max_tokens`.
    pub fn record_success(&self) {
        let (refund, max) = (self.refund, self.max_units);
        // `None` when already full: no write, no contention.
        let _ = self
            .units
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                (u < max).then(|| u.saturating_add(refund).min(max))
            });
    }

    /// A failed attempt that signals trouble: takes one token, down to
    /// zero.
    pub fn record_failure(&self) {
        let cost = self.per_token;
        let _ = self
            .units
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                (u > 0).then(|| u.saturating_sub(cost))
            });
    }

    /// Records an attempt's outcome by the budget's rule: successes refund,
    /// failures that [signal trouble](crate::budget) cost, other failures
    /// do nothing.
    pub fn record(&self, outcome: AttemptOutcome) {
        match outcome {
            AttemptOutcome::Success => self.record_success(),
            AttemptOutcome::Failure(kind) if kind.is_transient() => self.record_failure(),
            AttemptOutcome::Failure(_) => {}
        }
    }

    /// `true` while the bucket holds more than half of `max_tokens`. Takes
    /// nothing and counts nothing.
    #[must_use]
    pub fn allows_retry(&self) -> bool {
        // units > max_units / 2, exactly, without rounding the half.
        u64::from(self.units.load(Ordering::Acquire)) * 2 > u64::from(self.max_units)
    }

    /// As [`allows_retry`](Self::allows_retry), and counts a refusal in
    /// [`refused`](Self::refused) when it says no.
    #[must_use]
    pub fn try_retry(&self) -> bool {
        let ok = self.allows_retry();
        if !ok {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// How many retries this budget has vetoed (wraps at `usize::MAX`).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    /// Fills the bucket again and clears the refusal count.
    pub fn reset(&self) {
        self.units.store(self.max_units, Ordering::Release);
        self.refused.store(0, Ordering::Relaxed);
    }
}

impl Middleware for RetryBudget {
    fn after_attempt(&self, outcome: AttemptOutcome, _now: Instant) {
        self.record(outcome);
    }

    fn allow_retry(&self, _event: &RetryEvent) -> bool {
        self.try_retry()
    }
}

const fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        let r = a % b;
        a = b;
        b = r;
    }
    a
}

#[cfg(test)]
mod tests {
    use core::time::Duration;
    use std::sync::{Arc, Barrier};

    use crate::FailureKind;
    use std::vec::Vec;

    use super::*;
    use crate::testing::{MockClock, ScriptedTransport, Step};
    use crate::{FixedDelay, Pipeline, Policy, SeededRng, StopReason, TransientErrors};

    fn budget(max: u32, num: u32, den: u32) -> RetryBudget {
        RetryBudget::new(max, num, den).unwrap()
    }

    fn drain(b: &RetryBudget, failures: u32) {
        for _ in 0..failures {
            b.record_failure();
        }
    }

    #[test]
    fn starts_full_and_refuses_at_half() {
        let b = budget(10, 1, 10);
        assert_eq!(
            (b.tokens(), b.scaled_tokens(), b.token_scale()),
            (10, 100, 10)
        );
        let mut allowed = Vec::new();
        for _ in 0..6 {
            b.record_failure();
            allowed.push((b.tokens(), b.allows_retry()));
        }
        // More than half of 10 allows: 9, 8, 7, 6 yes; 5 and 4 no.
        assert_eq!(
            allowed,
            [
                (9, true),
                (8, true),
                (7, true),
                (6, true),
                (5, false),
                (4, false)
            ]
        );
        assert_eq!(b.refused(), 0, "allows_retry counts nothing");
        assert!(!b.try_retry());
        assert!(!b.try_retry());
        assert_eq!(b.refused(), 2);
    }

    #[test]
    fn odd_capacity_threshold_is_exact() {
        // max 5: half is 2.5, so 3 tokens allow and 2.5 tokens do not.
        let b = budget(5, 1, 2);
        drain(&b, 2);
        assert_eq!(b.scaled_tokens(), 6);
        assert!(b.allows_retry());
        b.record_failure(); // 2 tokens
        b.record_success(); // 2.5
        assert_eq!(b.scaled_tokens(), 5);
        assert!(!b.allows_retry());
        b.record_success(); // 3
        assert!(b.allows_retry());
    }

    #[test]
    fn refills_by_the_ratio_and_caps_at_max() {
        let b = budget(10, 1, 10);
        drain(&b, 5);
        assert!(!b.allows_retry());
        // 5 tokens + 1/10 is more than half: a single success re-opens.
        b.record_success();
        assert_eq!(b.scaled_tokens(), 51);
        assert!(b.allows_retry());
        for _ in 0..1_000 {
            b.record_success();
        }
        assert_eq!((b.tokens(), b.scaled_tokens()), (10, 100));
    }

    #[test]
    fn floors_at_zero() {
        let b = budget(3, 1, 4);
        drain(&b, 50);
        assert_eq!(b.scaled_tokens(), 0);
        b.record_success();
        assert_eq!(b.scaled_tokens(), 1);
    }

    #[test]
    fn fractions_are_exact_over_a_long_run() {
        // 10 000 successes at 0.1 add exactly 1000 tokens (a float sum of
        // 0.1 ten thousand times is 1000.0000000001588).
        let b = budget(2_000, 1, 10);
        drain(&b, 2_000);
        assert_eq!(b.scaled_tokens(), 0);
        for _ in 0..10_000 {
            b.record_success();
        }
        assert_eq!((b.tokens(), b.scaled_tokens()), (1_000, 10_000));

        // Thirds, which no decimal or binary fraction holds exactly.
        let b = budget(1_000, 1, 3);
        drain(&b, 1_000);
        for _ in 0..2_999 {
            b.record_success();
        }
        assert_eq!((b.tokens(), b.scaled_tokens()), (999, 2_999));
        b.record_success();
        assert_eq!((b.tokens(), b.scaled_tokens()), (1_000, 3_000));

        // tower issue 857's case: ten successes at 0.6 are worth 6 tokens,
        // not 10.
        let b = budget(100, 6, 10);
        drain(&b, 100);
        for _ in 0..10 {
            b.record_success();
        }
        assert_eq!((b.tokens(), b.scaled_tokens(), b.token_scale()), (6, 30, 5));
    }

    #[test]
    fn only_trouble_costs() {
        let b = budget(10, 1, 10);
        for kind in [
            FailureKind::Status(404),
            FailureKind::Status(400),
            FailureKind::Status(501),
            FailureKind::Status(505),
            FailureKind::Other,
        ] {
            b.record(AttemptOutcome::Failure(kind));
        }
        assert_eq!(b.tokens(), 10);
        for kind in [
            FailureKind::Connect,
            FailureKind::Timeout,
            FailureKind::Io,
            FailureKind::Status(408),
            FailureKind::Status(429),
            FailureKind::Status(500),
            FailureKind::Status(503),
        ] {
            b.record(AttemptOutcome::Failure(kind));
        }
        assert_eq!(b.tokens(), 3);
        b.record(AttemptOutcome::Success);
        assert_eq!(b.scaled_tokens(), 31);
    }

    #[test]
    fn reset_fills_and_clears() {
        let b = budget(4, 1, 1);
        drain(&b, 4);
        assert!(!b.try_retry());
        b.reset();
        assert_eq!((b.tokens(), b.refused()), (4, 0));
    }

    #[test]
    fn refuses_nonsense() {
        let e = |max, n, d| RetryBudget::new(max, n, d).unwrap_err();
        assert_eq!(
            e(0, 1, 10),
            ConfigError::new("max_tokens", ConfigProblem::Zero)
        );
        assert_eq!(
            e(10, 0, 10),
            ConfigError::new("token_ratio", ConfigProblem::Zero)
        );
        assert_eq!(
            e(10, 1, 0),
            ConfigError::new("token_ratio", ConfigProblem::Zero)
        );
        assert_eq!(
            e(1_000, 1, 10_000_000),
            ConfigError::new("token_ratio", ConfigProblem::TooLarge)
        );
        // Reduced first: 10 000 000 / 20 000 000 is 1/2, which fits.
        assert_eq!(
            RetryBudget::new(1_000, 10_000_000, 20_000_000)
                .unwrap()
                .token_ratio(),
            (1, 2)
        );
        // A ratio above one is allowed (a success is worth two failures).
        assert_eq!(RetryBudget::new(10, 2, 1).unwrap().token_ratio(), (2, 1));
        assert_eq!(
            std::string::ToString::to_string(&e(0, 1, 1)),
            "invalid `max_tokens`: must be greater than zero"
        );
    }

    #[test]
    fn many_threads_exact_totals() {
        // Each thread alternates failure, success: a thread's own successes
        // never outnumber its failures, so the bucket never hits its cap,
        // and 8 × 10 000 failures cannot reach the floor of a million tokens.
        const THREADS: u32 = 8;
        // Fewer rounds under Miri, which checks the atomics, not the sums.
        const ROUNDS: u32 = if cfg!(miri) { 100 } else { 10_000 };
        let b = Arc::new(budget(1_000_000, 1, 10));
        let start = Arc::new(Barrier::new(THREADS as usize));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (b, start) = (Arc::clone(&b), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    let mut refusals = 0;
                    for _ in 0..ROUNDS {
                        b.record_failure();
                        b.record_success();
                        if !b.try_retry() {
                            refusals += 1;
                        }
                    }
                    refusals
                })
            })
            .collect();
        let refusals: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        // 1 000 000 − 8 × ROUNDS + 8 × ROUNDS / 10 tokens, to the tenth
        // (928 000 tokens for 10 000 rounds).
        assert_eq!(b.scaled_tokens(), 10_000_000 - 8 * ROUNDS * 10 + 8 * ROUNDS);
        assert_eq!(refusals, 0);
        assert_eq!(b.refused(), 0);
    }

    #[test]
    fn many_threads_share_a_static() {
        static SHARED: RetryBudget = match RetryBudget::new(1_000, 1, 1) {
            Ok(b) => b,
            Err(_) => panic!(),
        };
        let run = |f: fn()| {
            let handles: Vec<_> = (0..4).map(|_| std::thread::spawn(f)).collect();
            for h in handles {
                h.join().unwrap();
            }
        };
        run(|| (0..200).for_each(|_| SHARED.record_failure()));
        assert_eq!(SHARED.tokens(), 200);
        assert!(!SHARED.allows_retry());
        run(|| (0..100).for_each(|_| SHARED.record_success()));
        assert_eq!(SHARED.tokens(), 600);
        assert!(SHARED.allows_retry());
    }

    #[test]
    fn driver_stops_with_budget_reason() {
        let b = budget(4, 1, 10);
        let clock = MockClock::new();
        let t = ScriptedTransport::<_, u16, 4>::new([
            Step::status(503, None),
            Step::fail(FailureKind::Timeout),
            Step::ok(200),
            Step::ok(200),
        ]);
        let policy = Policy::new(FixedDelay::new(Duration::from_millis(100)))
            .max_retries(3)
            .retry_on(TransientErrors);
        let pipeline = Pipeline::new().middleware(&b);
        let err = embassy_futures::block_on(crate::retry_with(
            &t,
            &clock,
            &policy,
            &pipeline,
            &mut SeededRng::new(1),
            "GET /",
        ))
        .unwrap_err();
        // 4 → 3 (more than 2: retry) → 2 (not more than 2: refused).
        assert_eq!(err.reason(), StopReason::Budget);
        assert_eq!(err.attempts(), 2);
        assert_eq!(err.last_error().unwrap().kind, FailureKind::Timeout);
        assert_eq!(t.calls(), 2);
        assert_eq!(clock.sleeps().as_slice(), [Duration::from_millis(100)]);
        assert_eq!((b.tokens(), b.refused()), (2, 1));

        // One success (2.1 tokens) is already more than half of 4.
        b.record_success();
        assert_eq!(b.scaled_tokens(), 21);
        assert!(b.allows_retry());
    }

    #[test]
    fn driver_refunds_successes() {
        let b = budget(10, 1, 4);
        drain(&b, 6);
        let clock = MockClock::new();
        let t =
            ScriptedTransport::<_, u16, 2>::new([Step::fail(FailureKind::Connect), Step::ok(200)]);
        let policy = Policy::new(FixedDelay::none()).max_retries(3);
        let pipeline = Pipeline::new().middleware(&b);
        let run = || {
            embassy_futures::block_on(crate::retry_with(
                &t,
                &clock,
                &policy,
                &pipeline,
                &mut SeededRng::new(1),
                "GET /",
            ))
        };
        // 4 tokens: the failure takes one (3 left, not more than 5): refused.
        assert_eq!(run().unwrap_err().reason(), StopReason::Budget);
        // The scripted success refunds a quarter.
        assert_eq!(run().ok().map(|r| r.value), Some(200));
        assert_eq!(b.scaled_tokens(), 13);
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<RetryBudget>();
    }
}
