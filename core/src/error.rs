//! What went wrong: failure kinds, the engine's final error, configuration
//! errors.
//!
//! A transport reports each failed attempt with its own error type; the engine
//! only needs to know two things about it, through [`TransportError`]: what
//! kind of failure it was and whether the request could have reached the
//! server. Everything else (whether to retry, how long to wait, idempotency)
//! is decided by the core, so the same rules hold for every transport.

use core::fmt;
use core::time::Duration;

/// The kind of one failed attempt, as the engine classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FailureKind {
    /// The request never left (connection refused, DNS failure, a connect
    /// timeout, no route), or the server said that it did not process it
    /// (an HTTP/2 `REFUSED_STREAM`, or a `GOAWAY` that left its stream out).
    /// Always safe to retry, whatever the method.
    Connect,
    /// The attempt timed out after the request may have been sent.
    Timeout,
    /// An I/O failure after the request may have been sent: reset, EOF
    /// before or during the response.
    Io,
    /// The server answered with this HTTP status and a response
    /// interceptor (or the transport) turned it into an error.
    Status(u16),
    /// Anything else (a malformed response, a body over its limit, a local
    /// error). Not retried by default.
    Other,
}

impl FailureKind {
    /// `true` unless the request is known not to have reached the server's
    /// application: nothing was sent, or the server refused it unprocessed
    /// ([`FailureKind::Connect`]).
    ///
    /// A failure that may have reached the server is retried only for
    /// requests that may be replayed (see [`Replay`](crate::Replay)).
    pub const fn may_have_reached_server(self) -> bool {
        !matches!(self, Self::Connect)
    }

    /// `true` for transport-level failures: [`Connect`](Self::Connect),
    /// [`Timeout`](Self::Timeout) and [`Io`](Self::Io). These are what the
    /// engine retries by default: the request or the way to the server
    /// failed, not the server's judgement of it.
    pub const fn is_network(self) -> bool {
        matches!(self, Self::Connect | Self::Timeout | Self::Io)
    }

    /// `true` for a transient HTTP status: 408, 429, and 5xx except 501 and
    /// 505 (see [`http::is_retryable_status`](crate::http::is_retryable_status)).
    pub const fn is_transient_status(self) -> bool {
        match self {
            Self::Status(s) => crate::http::is_retryable_status(s),
            _ => false,
        }
    }

    /// `true` for a failure that says the server, or the way to it, is in
    /// trouble: a network failure ([`is_network`](Self::is_network)) or a
    /// transient status ([`is_transient_status`](Self::is_transient_status)).
    /// What [`TransientErrors`](crate::TransientErrors) retries, what a
    /// [`RetryBudget`](crate::RetryBudget) charges and what a
    /// [`CircuitBreaker`](crate::CircuitBreaker) counts as a failure.
    pub const fn is_transient(self) -> bool {
        self.is_network() || self.is_transient_status()
    }

    /// A short lowercase name, for logs and metrics labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Io => "io",
            Self::Status(_) => "status",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(s) => write!(f, "status {s}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// What a transport's error type tells the engine.
///
/// # Implementing
///
/// ```
/// use core::time::Duration;
/// use tenace::{FailureKind, TransportError};
///
/// #[derive(Debug)]
/// enum MyError {
///     Refused,
///     Reset,
///     TimedOut,
///     Status { code: u16, retry_after: Option<Duration> },
/// }
///
/// impl TransportError for MyError {
///     fn kind(&self) -> FailureKind {
///         match self {
///             Self::Refused => FailureKind::Connect,
///             Self::Reset => FailureKind::Io,
///             Self::TimedOut => FailureKind::Timeout,
///             Self::Status { code, .. } => FailureKind::Status(*code),
///         }
///     }
///     fn retry_after(&self) -> Option<Duration> {
///         match self {
///             Self::Status { retry_after, .. } => *retry_after,
///             _ => None,
///         }
///     }
///     fn timed_out(_after: Duration) -> Self {
///         Self::TimedOut
///     }
/// }
/// ```
pub trait TransportError {
    /// The kind of failure, which decides the default retry rules and
    /// idempotency.
    fn kind(&self) -> FailureKind;

    /// The server's hint of when to retry, relative to now: what
    /// [`http::delay_hint`](crate::http::delay_hint) reads from the
    /// response's headers. The engine waits at least this long, and stops
    /// with [`StopReason::ServerWait`] when it is past
    /// [`Limits::retry_after_cap`](crate::Limits::retry_after_cap) or the
    /// deadline.
    fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// The error the engine reports when it cancels an attempt that ran
    /// past its per-attempt timeout (or the overall deadline). Its
    /// [`kind`](Self::kind) should be [`FailureKind::Timeout`].
    fn timed_out(after: Duration) -> Self
    where
        Self: Sized;
}

/// Why the engine stopped retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StopReason {
    /// Every allowed attempt failed (`max_retries + 1` attempts).
    Exhausted,
    /// The retry predicate (`retry_on`) refused the error.
    NotRetryable,
    /// The failure may have reached the server and the request is neither
    /// idempotent nor marked safe to replay, so it was not sent again.
    NotIdempotent,
    /// The overall deadline passed, or the next sleep would have ended past
    /// it.
    Deadline,
    /// The retry budget refused a retry (the fleet is retrying too much).
    Budget,
    /// An open circuit breaker refused the call before any attempt.
    CircuitOpen,
    /// The server asked for a wait (`Retry-After` and the rate-limit
    /// fields, see [`http::delay_hint`](crate::http::delay_hint)) longer
    /// than [`Limits::retry_after_cap`](crate::Limits::retry_after_cap), or
    /// one that would end at or past the deadline. The call stops at once
    /// rather than retry before the server is ready; the value is the wait
    /// the server asked for (the cap, for a wait the client could not
    /// measure).
    ServerWait(Duration),
}

impl StopReason {
    /// A short lowercase name, for logs and metrics labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Exhausted => "exhausted",
            Self::NotRetryable => "not retryable",
            Self::NotIdempotent => "not idempotent",
            Self::Deadline => "deadline",
            Self::Budget => "budget",
            Self::CircuitOpen => "circuit open",
            Self::ServerWait(_) => "server wait",
        }
    }

    /// The wait the server asked for, for [`ServerWait`](Self::ServerWait).
    pub const fn server_wait(self) -> Option<Duration> {
        match self {
            Self::ServerWait(wait) => Some(wait),
            _ => None,
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of a retried call: why the engine stopped, after how many
/// attempts, and the last attempt's error as [`source()`](core::error::Error::source).
///
/// A refusal by the predicate is not disguised as exhaustion:
/// [`reason()`](Self::reason) is [`StopReason::NotRetryable`] and
/// [`into_last_error`](Self::into_last_error) hands back the original error,
/// so the caller can tell "the server kept failing" from "this error is not
/// worth a retry".
pub struct RetryError<E> {
    reason: StopReason,
    attempts: u32,
    last: Option<E>,
}

impl<E> RetryError<E> {
    /// Builds an error. Drivers call this; users rarely need to.
    pub const fn new(reason: StopReason, attempts: u32, last: Option<E>) -> Self {
        Self {
            reason,
            attempts,
            last,
        }
    }

    /// Why retrying stopped.
    pub const fn reason(&self) -> StopReason {
        self.reason
    }

    /// How many attempts were made (the original call included). Zero when
    /// the call was refused before its first attempt (open circuit, a
    /// deadline already past).
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last attempt's error, if an attempt was made.
    pub const fn last_error(&self) -> Option<&E> {
        self.last.as_ref()
    }

    /// Consumes this error and returns the last attempt's error.
    pub fn into_last_error(self) -> Option<E> {
        self.last
    }

    /// `true` if all attempts were used up.
    pub const fn is_exhausted(&self) -> bool {
        matches!(self.reason, StopReason::Exhausted)
    }

    /// The wait the server asked for, when the call stopped on it
    /// ([`StopReason::ServerWait`]): when to try again, if at all.
    pub const fn server_wait(&self) -> Option<Duration> {
        self.reason.server_wait()
    }

    /// Maps the underlying error type.
    pub fn map_err<F, E2>(self, f: F) -> RetryError<E2>
    where
        F: FnOnce(E) -> E2,
    {
        RetryError {
            reason: self.reason,
            attempts: self.attempts,
            last: self.last.map(f),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryError")
            .field("reason", &self.reason)
            .field("attempts", &self.attempts)
            .field("last", &self.last)
            .finish()
    }
}

impl<E> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.attempts;
        let s = if n == 1 { "" } else { "s" };
        match self.reason {
            StopReason::Exhausted => write!(f, "all {n} attempt{s} failed"),
            StopReason::NotRetryable => write!(f, "not retryable (after {n} attempt{s})"),
            StopReason::NotIdempotent => write!(
                f,
                "not retried: the request may have reached the server and is not idempotent (after {n} attempt{s})"
            ),
            StopReason::Deadline => write!(f, "deadline exceeded after {n} attempt{s}"),
            StopReason::Budget => write!(f, "retry budget exhausted after {n} attempt{s}"),
            StopReason::CircuitOpen => f.write_str("circuit open: call refused"),
            StopReason::ServerWait(wait) => write!(
                f,
                "the server asked to wait {} s, past the cap or the deadline (after {n} attempt{s})",
                wait.as_secs()
            ),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.last
            .as_ref()
            .map(|e| e as &(dyn core::error::Error + 'static))
    }
}

#[cfg(feature = "defmt")]
impl<E: defmt::Format> defmt::Format for RetryError<E> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "RetryError {{ reason: {}, attempts: {}, last: {} }}",
            self.reason,
            self.attempts,
            self.last
        )
    }
}

/// A parameter given to a strategy or policy constructor was nonsense.
///
/// The message names the parameter and says why, e.g. ``invalid `max_delay`:
/// below `base` ``.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConfigError {
    param: &'static str,
    problem: ConfigProblem,
}

/// What was wrong with a parameter; see [`ConfigError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigProblem {
    /// NaN or infinite.
    NotFinite,
    /// Below zero.
    Negative,
    /// Too large to represent (a duration over about 584 years, a
    /// multiplier of 65536 or more).
    TooLarge,
    /// A cap (`max_delay`) below the value it caps (`base`, `min_delay`).
    BelowBase,
    /// A multiplier below 1, which would shrink delays.
    BelowOne,
    /// Zero where only a positive value makes sense (a window of no calls,
    /// a budget of no tokens, a break of no time).
    Zero,
}

impl ConfigError {
    pub(crate) const fn new(param: &'static str, problem: ConfigProblem) -> Self {
        Self { param, problem }
    }

    /// The parameter's name, as the constructor spells it.
    pub const fn param(&self) -> &'static str {
        self.param
    }

    /// What was wrong with it.
    pub const fn problem(&self) -> ConfigProblem {
        self.problem
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.problem {
            ConfigProblem::NotFinite => "must be a finite number (got NaN or infinity)",
            ConfigProblem::Negative => "must not be negative",
            ConfigProblem::TooLarge => "is too large",
            ConfigProblem::BelowBase => "must not be below the base delay",
            ConfigProblem::BelowOne => "must be at least 1",
            ConfigProblem::Zero => "must be greater than zero",
        };
        write!(f, "invalid `{}`: {why}", self.param)
    }
}

impl core::error::Error for ConfigError {}
