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

use core::fmt;
use core::time::Duration;

use rand_core::Rng;

use crate::error::{FailureKind, StopReason};
use crate::policy::Limits;
use crate::strategy::RetryStrategy;
use crate::time::{Instant, duration_to_nanos, nanos_to_duration};

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
#[derive(Clone)]
pub struct RetryMachine<S> {
    strategy: S,
    limits: Limits,
    state: CallState,
}

impl<S: fmt::Debug> fmt::Debug for RetryMachine<S> {
    // The fields as they read before the state moved into `CallState`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryMachine")
            .field("strategy", &self.strategy)
            .field("limits", &self.limits)
            .field("started", &self.state.started)
            .field("deadline", &self.state.deadline())
            .field("attempts", &self.state.attempts)
            .field("replay_safe", &self.state.replay_safe)
            .finish()
    }
}

impl<S: RetryStrategy> RetryMachine<S> {
    /// Starts a call at `now`. `replay_safe` is whether the request may be
    /// sent twice (idempotent or marked safe); a failure that may have
    /// reached the server is retried only if it is.
    pub fn new(strategy: S, limits: Limits, replay_safe: bool, now: Instant) -> Self {
        Self {
            strategy,
            state: CallState::new(&limits, replay_safe, now),
            limits,
        }
    }

    /// Call before each attempt. Returns the time this attempt may take (the
    /// per-attempt timeout, shortened to what is left before the deadline;
    /// `None` for no limit), or [`StopReason::Deadline`] if the deadline has
    /// passed.
    #[must_use = "the attempt timeout must be applied, and a Deadline stop honoured"]
    pub fn begin_attempt(&mut self, now: Instant) -> Result<Option<Duration>, StopReason> {
        self.state.begin_attempt(&self.limits, now)
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
        self.state
            .on_failure(&mut self.strategy, &self.limits, failure, now, rng)
    }

    /// Attempts begun so far (the original call included).
    pub const fn attempts(&self) -> u32 {
        self.state.attempts
    }

    /// When the call started.
    pub const fn started(&self) -> Instant {
        self.state.started
    }

    /// When the call's deadline falls, if it has one.
    pub const fn deadline(&self) -> Option<Instant> {
        self.state.deadline()
    }

    /// Whether the request may be replayed after a failure that may have
    /// reached the server.
    pub const fn replay_safe(&self) -> bool {
        self.state.replay_safe
    }
}

/// What [`RetryMachine`] tracks besides its strategy and limits: 24 bytes.
///
/// The drivers keep this and read the limits through the policy they
/// borrow, instead of copying the 56-byte [`Limits`] into their future; the
/// public machine owns its limits and delegates here, so both make the same
/// decisions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallState {
    started: Instant,
    /// Meaningful only when `has_deadline`; `Instant::MAX` is a deadline
    /// too (a saturated one), so it cannot stand for "none".
    deadline: Instant,
    attempts: u32,
    replay_safe: bool,
    has_deadline: bool,
    /// The drivers' "outcome reported to the middleware" flag, kept here
    /// because it fits in this struct's padding (the guard would otherwise
    /// grow by 8 bytes). Unused by [`RetryMachine`].
    pub(crate) done: bool,
}

impl CallState {
    #[inline]
    pub(crate) fn new(limits: &Limits, replay_safe: bool, now: Instant) -> Self {
        let (has_deadline, deadline) = match limits.deadline {
            Some(d) => (true, now.saturating_add(d)),
            None => (false, Instant::MAX),
        };
        Self {
            started: now,
            deadline,
            attempts: 0,
            replay_safe,
            has_deadline,
            done: false,
        }
    }

    pub(crate) const fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) const fn started(&self) -> Instant {
        self.started
    }

    const fn deadline(&self) -> Option<Instant> {
        if self.has_deadline {
            Some(self.deadline)
        } else {
            None
        }
    }

    /// [`RetryMachine::begin_attempt`].
    #[inline]
    pub(crate) fn begin_attempt(
        &mut self,
        limits: &Limits,
        now: Instant,
    ) -> Result<Option<Duration>, StopReason> {
        let timeout = if self.has_deadline {
            if now >= self.deadline {
                return Err(StopReason::Deadline);
            }
            // In nanoseconds: a `Duration` is built only when the deadline
            // is the shorter limit.
            let left = self.deadline.as_nanos() - now.as_nanos();
            match limits.attempt_timeout {
                Some(t) if duration_to_nanos(t) < left => Some(t),
                _ => Some(nanos_to_duration(left)),
            }
        } else {
            limits.attempt_timeout
        };
        self.attempts = self.attempts.saturating_add(1);
        Ok(timeout)
    }

    /// [`RetryMachine::on_failure`].
    #[inline(always)]
    pub(crate) fn on_failure<S: RetryStrategy, R: Rng + ?Sized>(
        &mut self,
        strategy: &mut S,
        limits: &Limits,
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
        if self.attempts > limits.max_retries {
            return Decision::Stop(StopReason::Exhausted);
        }
        let mut delay = strategy.delay(self.attempts, rng);
        if let (true, Some(hint)) = (limits.honor_retry_after, failure.retry_after) {
            let cap = match limits.retry_after_cap {
                Some(cap) => cap,
                None => strategy.max_delay(),
            };
            delay = delay.max(hint.min(cap));
        }
        if self.has_deadline && now.saturating_add(delay) >= self.deadline {
            return Decision::Stop(StopReason::Deadline);
        }
        Decision::Retry { delay }
    }
}
