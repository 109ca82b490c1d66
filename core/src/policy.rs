//! What to retry, how often, how long to wait, and for how long in all.
//!
//! A [`Policy`] is set once per client and overridden per request by
//! cloning and changing it (`api.get(url).max_retries(5)`), which never
//! touches the client's defaults:
//!
//! ```
//! # use core::time::Duration;
//! use tenace::{ExponentialBackoff, Policy};
//! let client = Policy::new(ExponentialBackoff::new(Duration::from_secs(1), 2, Duration::from_secs(10))?)
//!     .max_retries(3);
//! let this_request = client.clone().max_retries(5);
//! assert_eq!(client.limits().max_retries, 3);
//! assert_eq!(this_request.limits().max_retries, 5);
//! # Ok::<(), tenace::ConfigError>(())
//! ```

use core::time::Duration;

use crate::error::{FailureKind, TransportError};
use crate::strategy::Backoff;

/// Decides whether an error is worth another attempt: `retry_on(error) ->
/// bool`.
///
/// Any `Fn(&E) -> bool` closure is a predicate. The predicate is asked
/// first; idempotency, `max_retries`, the deadline and the budget are then
/// checked by the engine whatever the predicate said.
pub trait RetryOn<E> {
    /// `true` to retry after `error`, `false` to return it at once.
    fn retry_on(&self, error: &E) -> bool;

    /// Retries what this predicate or `other` retries: options compose
    /// instead of replacing each other.
    ///
    /// ```
    /// use tenace::{FailureKind, RetryOn, TransientErrors, TransportError};
    /// # #[derive(Debug)] struct E(FailureKind);
    /// # impl TransportError for E {
    /// #     fn kind(&self) -> FailureKind { self.0 }
    /// #     fn timed_out(_: core::time::Duration) -> Self { E(FailureKind::Timeout) }
    /// # }
    /// // 408, 429, 5xx and network failures, and also a 409 Conflict.
    /// let p = TransientErrors.or(|e: &E| e.kind() == FailureKind::Status(409));
    /// assert!(p.retry_on(&E(FailureKind::Status(409))));
    /// assert!(p.retry_on(&E(FailureKind::Status(503))));
    /// assert!(!p.retry_on(&E(FailureKind::Status(404))));
    /// ```
    fn or<Q: RetryOn<E>>(self, other: Q) -> Or<Self, Q>
    where
        Self: Sized,
    {
        Or(self, other)
    }
}

/// Retries what either predicate retries; see [`RetryOn::or`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Or<A, B>(pub A, pub B);

impl<E, A: RetryOn<E>, B: RetryOn<E>> RetryOn<E> for Or<A, B> {
    fn retry_on(&self, error: &E) -> bool {
        self.0.retry_on(error) || self.1.retry_on(error)
    }
}

impl<E, F: Fn(&E) -> bool> RetryOn<E> for F {
    fn retry_on(&self, error: &E) -> bool {
        self(error)
    }
}

/// The default predicate: retry transport failures (connect, timeout, I/O),
/// never an HTTP status: a response with an error status is still a
/// response unless the user opts in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkErrors;

impl<E: TransportError> RetryOn<E> for NetworkErrors {
    fn retry_on(&self, error: &E) -> bool {
        error.kind().is_network()
    }
}

/// Opt-in predicate: transport failures and transient HTTP statuses (408,
/// 429, 5xx except 501 and 505).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransientErrors;

impl<E: TransportError> RetryOn<E> for TransientErrors {
    fn retry_on(&self, error: &E) -> bool {
        error.kind().is_transient()
    }
}

/// Retries nothing: every error is returned at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Never;

impl<E> RetryOn<E> for Never {
    fn retry_on(&self, _error: &E) -> bool {
        false
    }
}

/// Retries any failure of one of the given kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds<const N: usize>(pub [FailureKind; N]);

impl<E: TransportError, const N: usize> RetryOn<E> for Kinds<N> {
    fn retry_on(&self, error: &E) -> bool {
        let k = error.kind();
        self.0.contains(&k)
    }
}

/// The numeric limits of a policy: plain `Copy` data, cheap to override per
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Limits {
    /// Retries after the first attempt: 3 means one call plus up to three
    /// retries, four attempts in all.
    pub max_retries: u32,
    /// Overall time for the call, attempts and sleeps included, measured on
    /// the clock from the start of the call. `None`: no deadline.
    pub deadline: Option<Duration>,
    /// Time allowed for one attempt (interceptors included). `None`: the
    /// transport's own timeouts only.
    pub attempt_timeout: Option<Duration>,
    /// Whether the server's delay hint (`Retry-After` and the rate-limit
    /// fields, see [`http::delay_hint`](crate::http::delay_hint)) counts.
    /// When it does, the next attempt never starts before the hint asks;
    /// when it does not, the strategy alone sets the delay.
    pub honor_retry_after: bool,
    /// The longest wait the client accepts from the server's hint (default
    /// [`DEFAULT_RETRY_AFTER_CAP`]). A hint above it, or one that would end
    /// at or past the deadline, stops the call at once with
    /// [`StopReason::ServerWait`](crate::StopReason::ServerWait) instead of
    /// retrying early. A hint the client cannot measure
    /// ([`http::UNKNOWN_WAIT`](crate::http::UNKNOWN_WAIT)) waits exactly
    /// this long.
    pub retry_after_cap: Duration,
}

/// The default [`Limits::retry_after_cap`]: 300 s, the default
/// `max_interval` of Envoy's rate-limited retry back-off
/// (`envoy.config.route.v3.RetryPolicy.RateLimitedRetryBackOff`). Long
/// enough for a typical one-minute or five-minute rate-limit window, short
/// enough that a hint of hours stops the call instead of holding it.
pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(300);

impl Limits {
    /// Three retries, no deadline, no per-attempt timeout, the server's
    /// delay hint honoured up to [`DEFAULT_RETRY_AFTER_CAP`].
    pub const DEFAULT: Self = Self {
        max_retries: 3,
        deadline: None,
        attempt_timeout: None,
        honor_retry_after: true,
        retry_after_cap: DEFAULT_RETRY_AFTER_CAP,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A retry policy: a strategy `S`, a predicate `P` (`retry_on`) and
/// [`Limits`].
///
/// Builder methods take and return `self`; changing the strategy or the
/// predicate changes the type parameter, everything else does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy<S = Backoff, P = NetworkErrors> {
    strategy: S,
    retry_on: P,
    limits: Limits,
}

impl<S> Policy<S, NetworkErrors> {
    /// A policy with `strategy`, the default predicate ([`NetworkErrors`])
    /// and [`Limits::DEFAULT`].
    pub const fn new(strategy: S) -> Self {
        Self {
            strategy,
            retry_on: NetworkErrors,
            limits: Limits::DEFAULT,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::new(Backoff::default())
    }
}

impl<S, P> Policy<S, P> {
    /// Sets how many retries follow the first attempt (`max_retries`).
    #[must_use]
    pub const fn max_retries(mut self, n: u32) -> Self {
        self.limits.max_retries = n;
        self
    }

    /// Sets an overall deadline for the call, measured on the clock.
    #[must_use]
    pub const fn deadline(mut self, d: Duration) -> Self {
        self.limits.deadline = Some(d);
        self
    }

    /// Removes the overall deadline.
    #[must_use]
    pub const fn no_deadline(mut self) -> Self {
        self.limits.deadline = None;
        self
    }

    /// Sets a timeout for each attempt.
    #[must_use]
    pub const fn attempt_timeout(mut self, d: Duration) -> Self {
        self.limits.attempt_timeout = Some(d);
        self
    }

    /// Whether the server's delay hint counts (default: yes); see
    /// [`Limits::honor_retry_after`].
    #[must_use]
    pub const fn honor_retry_after(mut self, yes: bool) -> Self {
        self.limits.honor_retry_after = yes;
        self
    }

    /// The longest wait the server's hint may ask for (default
    /// [`DEFAULT_RETRY_AFTER_CAP`]); a longer one stops the call with
    /// [`StopReason::ServerWait`](crate::StopReason::ServerWait). See
    /// [`Limits::retry_after_cap`].
    #[must_use]
    pub const fn retry_after_cap(mut self, cap: Duration) -> Self {
        self.limits.retry_after_cap = cap;
        self
    }

    /// Replaces all limits at once.
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Replaces the strategy (`retry_strategy`): any [`RetryStrategy`](crate::RetryStrategy),
    /// a built-in or your own.
    #[must_use]
    pub fn with_strategy<S2>(self, strategy: S2) -> Policy<S2, P> {
        Policy {
            strategy,
            retry_on: self.retry_on,
            limits: self.limits,
        }
    }

    /// Replaces the predicate (`retry_on`): a closure
    /// `|e: &E| -> bool` or one of [`NetworkErrors`], [`TransientErrors`],
    /// [`Never`], [`Kinds`].
    #[must_use]
    pub fn retry_on<P2>(self, retry_on: P2) -> Policy<S, P2> {
        Policy {
            strategy: self.strategy,
            retry_on,
            limits: self.limits,
        }
    }

    /// The limits.
    pub const fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The strategy as configured (each call clones it at its first
    /// failure).
    pub const fn strategy(&self) -> &S {
        &self.strategy
    }

    /// The predicate.
    pub const fn predicate(&self) -> &P {
        &self.retry_on
    }

    /// Strategy, predicate and limits, taken apart.
    pub(crate) fn into_parts(self) -> (S, P, Limits) {
        (self.strategy, self.retry_on, self.limits)
    }
}
