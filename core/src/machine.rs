//! The sans-IO retry machine: outcomes and the time in, decisions out.
//!
//! It performs no I/O, reads no clock and holds no future, so the same
//! decisions drive the async driver, the blocking driver, a hand-written
//! loop on a bare-metal super-loop, and unit tests that feed it instants.
//!
//! ```
//! # use core::time::Duration;
//! use tenace::{Decision, Failure, FailureKind, FixedDelay, Instant, Limits, RetryMachine, SeededRng, StopReason};
//!
//! let mut rng = SeededRng::new(0);
//! let mut m = RetryMachine::new(FixedDelay::new(Duration::from_secs(2)), Limits::DEFAULT, true, Instant::ZERO);
//! let failure = Failure::new(FailureKind::Io, true);
//! for n in 1..=3 {
//!     let _timeout = m.begin_attempt(Instant::ZERO).unwrap();
//!     assert_eq!(m.on_failure(&failure, Instant::ZERO, &mut rng), Decision::Retry { delay: Duration::from_secs(2) });
//!     assert_eq!(m.attempts(), n);
//! }
//! let _ = m.begin_attempt(Instant::ZERO).unwrap();
//! assert_eq!(m.on_failure(&failure, Instant::ZERO, &mut rng), Decision::Stop(StopReason::Exhausted));
//! assert_eq!(m.attempts(), 4); // max_retries = 3: one call plus three retries
//! ```

use core::time::Duration;

use rand_core::Rng;

use crate::error::{FailureKind, StopReason};
use crate::policy::Limits;
use crate::strategy::RetryStrategy;
use crate::time::Instant;

/// One failed attempt, as the machine needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Failure {
    /// The failure's kind.
    pub kind: FailureKind,
    /// The predicate's verdict (`retry_on`).
    pub retryable: bool,
    /// The server's `Retry-After` hint, relative to now.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure of `kind` that the predicate did (`retryable`) or did not
    /// accept, with no server hint.
    pub const fn new(kind: FailureKind, retryable: bool) -> Self {
        Self {
            kind,
            retryable,
            retry_after: None,
        }
    }

    /// The same failure with a `Retry-After` hint.
    #[must_use]
    pub const fn with_retry_after(mut self, hint: Option<Duration>) -> Self {
        self.retry_after = hint;
        self
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub enum Decision {
    /// Sleep `delay`, then call [`RetryMachine::begin_attempt`] again.
    Retry {
        /// Time to wait before the next attempt.
        delay: Duration,
    },
    /// Give up for this reason.
    Stop(StopReason),
}

/// The retry state of one call.
///
/// Call [`begin_attempt`](Self::begin_attempt) before each attempt and
/// [`on_failure`](Self::on_failure) after each failed one; a success needs no
/// call. `S` is this call's own copy of the strategy.
#[derive(Debug, Clone)]
pub struct RetryMachine<S> {
    strategy: S,
    limits: Limits,
    started: Instant,
    deadline: Option<Instant>,
    attempts: u32,
    replay_safe: bool,
}

impl<S: RetryStrategy> RetryMachine<S> {
    /// Starts a call at `now`. `replay_safe` is whether the request may be
    /// sent twice (idempotent or marked safe); a failure that may have
    /// reached the server is retried only if it is.
    pub fn new(strategy: S, limits: Limits, replay_safe: bool, now: Instant) -> Self {
        Self {
            strategy,
            limits,
            started: now,
            deadline: limits.deadline.map(|d| now.saturating_add(d)),
            attempts: 0,
            replay_safe,
        }
    }

    /// Call before each attempt. Returns the time this attempt may take (the
    /// per-attempt timeout, shortened to what is left before the deadline;
    /// `None` for no limit), or [`StopReason::Deadline`] if the deadline has
    /// passed.
    #[must_use = "the attempt timeout must be applied, and a Deadline stop honoured"]
    pub fn begin_attempt(&mut self, now: Instant) -> Result<Option<Duration>, StopReason> {
        let left = match self.deadline {
            Some(deadline) if now >= deadline => return Err(StopReason::Deadline),
            Some(deadline) => Some(deadline.saturating_duration_since(now)),
            None => None,
        };
        self.attempts = self.attempts.saturating_add(1);
        Ok(match (self.limits.attempt_timeout, left) {
            (Some(t), Some(l)) => Some(if t < l { t } else { l }),
            (t, l) => t.or(l),
        })
    }

    /// Call after a failed attempt, with the time of the failure. Decides
    /// whether to retry and after how long.
    ///
    /// In order: a failure the predicate refused stops with
    /// [`NotRetryable`](StopReason::NotRetryable); one that may have reached
    /// the server, for a request that is not replay-safe, stops with
    /// [`NotIdempotent`](StopReason::NotIdempotent); after `max_retries`
    /// retries it stops with [`Exhausted`](StopReason::Exhausted). Otherwise
    /// the delay is the strategy's, lengthened to the server's hint (capped
    /// at `retry_after_cap` or the strategy's `max_delay`), and a sleep that
    /// would end at or past the deadline stops with
    /// [`Deadline`](StopReason::Deadline) instead of being started.
    pub fn on_failure<R: Rng + ?Sized>(
        &mut self,
        failure: &Failure,
        now: Instant,
        rng: &mut R,
    ) -> Decision {
        if !failure.retryable {
            return Decision::Stop(StopReason::NotRetryable);
        }
        if failure.kind.may_have_reached_server() && !self.replay_safe {
            return Decision::Stop(StopReason::NotIdempotent);
        }
        if self.attempts > self.limits.max_retries {
            return Decision::Stop(StopReason::Exhausted);
        }
        let mut delay = self.strategy.delay(self.attempts, rng);
        if let (true, Some(hint)) = (self.limits.honor_retry_after, failure.retry_after) {
            let cap = match self.limits.retry_after_cap {
                Some(cap) => cap,
                None => self.strategy.max_delay(),
            };
            delay = delay.max(hint.min(cap));
        }
        if let Some(deadline) = self.deadline
            && now.saturating_add(delay) >= deadline
        {
            return Decision::Stop(StopReason::Deadline);
        }
        Decision::Retry { delay }
    }

    /// Attempts begun so far (the original call included).
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When the call started.
    pub const fn started(&self) -> Instant {
        self.started
    }

    /// When the call's deadline falls, if it has one.
    pub const fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the request may be replayed after a failure that may have
    /// reached the server.
    pub const fn replay_safe(&self) -> bool {
        self.replay_safe
    }
}
