//! Middleware: code that wraps the whole retry loop.
//!
//! Timing, logging, circuit breakers and retry budgets run here. A
//! middleware is a set of hooks rather than a wrapper around a future, so it
//! costs nothing when a hook is empty and cannot break the driver's
//! cancellation safety:
//!
//! - [`before_call`](Middleware::before_call) may refuse the call (an open
//!   circuit);
//! - [`after_attempt`](Middleware::after_attempt) sees every attempt's
//!   outcome (a retry budget's deposits and withdrawals);
//! - [`allow_retry`](Middleware::allow_retry) may veto a retry (a budget);
//! - [`on_retry`](Middleware::on_retry) sees each retry with its delay
//!   (logs, metrics, user callbacks);
//! - [`after_call`](Middleware::after_call) sees how the call ended,
//!   including a call whose future was dropped ([`CallResult::Cancelled`]).
//!
//! Middleware compose as tuples, `(breaker, budget, metrics)`, called left
//! to right. A closure on every retry is [`on_retry`](crate::on_retry).

use core::time::Duration;

use crate::error::{FailureKind, StopReason};
use crate::machine::CallId;
use crate::time::Instant;

/// One retry about to happen, as hooks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct RetryEvent {
    /// The call it belongs to.
    pub call: CallId,
    /// The attempt that failed (1 is the original call).
    pub attempt: u32,
    /// How it failed.
    pub kind: FailureKind,
    /// How long the engine will wait before the next attempt.
    pub delay: Duration,
    /// Time since the call started, at the failure.
    pub elapsed: Duration,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The attempt produced a response the response interceptors accepted.
    Success,
    /// The attempt failed.
    Failure(FailureKind),
}

/// How a whole call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CallResult {
    /// A response came back.
    Success,
    /// The engine stopped; the last failure's kind, if there was an attempt.
    Failed(StopReason, Option<FailureKind>),
    /// The call's future was dropped before it finished.
    Cancelled,
}

/// A finished call, as [`Middleware::after_call`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct CallOutcome {
    /// The call.
    pub call: CallId,
    /// How it ended.
    pub result: CallResult,
    /// Attempts made.
    pub attempts: u32,
    /// When the call started.
    pub started: Instant,
    /// When it ended. For a [`Cancelled`](CallResult::Cancelled) call, when
    /// it started: a dropped future reads no clock.
    pub finished: Instant,
}

impl CallOutcome {
    /// Wall time of the call on the clock, retries and sleeps included.
    pub const fn elapsed(&self) -> Duration {
        self.finished.saturating_duration_since(self.started)
    }
}

/// Hooks around the retry loop; every method has a no-op default.
///
/// Implementations take `&self`: shared state (a breaker, a budget) uses
/// atomics or a critical section, so one instance serves every concurrent
/// call.
///
/// ```
/// use core::cell::Cell;
/// use tenace::{CallOutcome, Middleware};
///
/// /// Counts calls and remembers the last call's duration.
/// #[derive(Default)]
/// struct Timing { calls: Cell<u32>, last: Cell<core::time::Duration> }
///
/// impl Middleware for Timing {
///     fn after_call(&self, outcome: &CallOutcome) {
///         self.calls.set(self.calls.get() + 1);
///         self.last.set(outcome.elapsed());
///     }
/// }
/// ```
pub trait Middleware {
    /// Called once before the first attempt. `Err` refuses the call: no
    /// attempt is made and the caller gets a
    /// [`RetryError`](crate::RetryError) with this reason.
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        let _ = now;
        Ok(())
    }

    /// Called after every attempt.
    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        let _ = (outcome, now);
    }

    /// Called when one copy of a hedged call fails and the call goes on
    /// with its other copies (see [`hedge`](crate::hedge())): the copy's
    /// request went out and failed, though the call has not ended. The
    /// copy that ends the call is reported by [`after_call`] instead, and a
    /// copy dropped because another answered is reported by neither.
    /// [`CircuitBreaker`](crate::CircuitBreaker) counts each such copy as a
    /// failed call, so every copy a hedge sends is in its window.
    ///
    /// [`after_call`]: Middleware::after_call
    fn after_copy(&self, kind: FailureKind, started: Instant, now: Instant) {
        let _ = (kind, started, now);
    }

    /// Called when the machine has decided to retry; `false` vetoes the
    /// retry and the call fails with [`StopReason::Budget`].
    fn allow_retry(&self, event: &RetryEvent) -> bool {
        let _ = event;
        true
    }

    /// Called before each retry's sleep, once it is certain to happen.
    fn on_retry(&self, event: &RetryEvent) {
        let _ = event;
    }

    /// Called once when the call ends, however it ends (also when its
    /// future is dropped, if `before_call` had accepted it).
    fn after_call(&self, outcome: &CallOutcome) {
        let _ = outcome;
    }
}

impl Middleware for () {}

impl<M: Middleware + ?Sized> Middleware for &M {
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        (**self).before_call(now)
    }
    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        (**self).after_attempt(outcome, now)
    }
    fn after_copy(&self, kind: FailureKind, started: Instant, now: Instant) {
        (**self).after_copy(kind, started, now)
    }
    fn allow_retry(&self, event: &RetryEvent) -> bool {
        (**self).allow_retry(event)
    }
    fn on_retry(&self, event: &RetryEvent) {
        (**self).on_retry(event)
    }
    fn after_call(&self, outcome: &CallOutcome) {
        (**self).after_call(outcome)
    }
}

/// A middleware that may be absent: `None` does nothing, as `()`.
impl<M: Middleware> Middleware for Option<M> {
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        self.as_ref().map_or(Ok(()), |m| m.before_call(now))
    }
    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        if let Some(m) = self {
            m.after_attempt(outcome, now);
        }
    }
    fn after_copy(&self, kind: FailureKind, started: Instant, now: Instant) {
        if let Some(m) = self {
            m.after_copy(kind, started, now);
        }
    }
    fn allow_retry(&self, event: &RetryEvent) -> bool {
        self.as_ref().is_none_or(|m| m.allow_retry(event))
    }
    fn on_retry(&self, event: &RetryEvent) {
        if let Some(m) = self {
            m.on_retry(event);
        }
    }
    fn after_call(&self, outcome: &CallOutcome) {
        if let Some(m) = self {
            m.after_call(outcome);
        }
    }
}

/// A middleware shared through an `Arc` (with the `alloc` feature).
#[cfg(feature = "alloc")]
impl<M: Middleware + ?Sized> Middleware for alloc::sync::Arc<M> {
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        (**self).before_call(now)
    }
    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        (**self).after_attempt(outcome, now)
    }
    fn after_copy(&self, kind: FailureKind, started: Instant, now: Instant) {
        (**self).after_copy(kind, started, now)
    }
    fn allow_retry(&self, event: &RetryEvent) -> bool {
        (**self).allow_retry(event)
    }
    fn on_retry(&self, event: &RetryEvent) {
        (**self).on_retry(event)
    }
    fn after_call(&self, outcome: &CallOutcome) {
        (**self).after_call(outcome)
    }
}

macro_rules! tuple_middleware {
    ($($name:ident),+) => {
        impl<$($name: Middleware),+> Middleware for ($($name,)+) {
            #[allow(non_snake_case)]
            fn before_call(&self, now: Instant) -> Result<(), StopReason> {
                let ($($name,)+) = self;
                $($name.before_call(now)?;)+
                Ok(())
            }
            #[allow(non_snake_case)]
            fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
                let ($($name,)+) = self;
                $($name.after_attempt(outcome, now);)+
            }
            #[allow(non_snake_case)]
            fn after_copy(&self, kind: FailureKind, started: Instant, now: Instant) {
                let ($($name,)+) = self;
                $($name.after_copy(kind, started, now);)+
            }
            #[allow(non_snake_case)]
            fn allow_retry(&self, event: &RetryEvent) -> bool {
                let ($($name,)+) = self;
                $($name.allow_retry(event))&&+
            }
            #[allow(non_snake_case)]
            fn on_retry(&self, event: &RetryEvent) {
                let ($($name,)+) = self;
                $($name.on_retry(event);)+
            }
            #[allow(non_snake_case)]
            fn after_call(&self, outcome: &CallOutcome) {
                let ($($name,)+) = self;
                $($name.after_call(outcome);)+
            }
        }
    };
}
tuple_middleware!(A);
tuple_middleware!(A, B);
tuple_middleware!(A, B, C);
tuple_middleware!(A, B, C, D);

/// A middleware that calls a closure on every retry; see [`on_retry`].
#[derive(Debug, Clone, Copy)]
pub struct OnRetry<F>(F);

/// A hook on every retry: attempt, failure kind and chosen delay.
///
/// ```
/// let hook = tenace::on_retry(|ev: &tenace::RetryEvent| {
///     println!("attempt {} failed ({}), retrying in {:?}", ev.attempt, ev.kind, ev.delay);
/// });
/// # let _ = hook;
/// ```
pub const fn on_retry<F: Fn(&RetryEvent)>(f: F) -> OnRetry<F> {
    OnRetry(f)
}

impl<F: Fn(&RetryEvent)> Middleware for OnRetry<F> {
    fn on_retry(&self, event: &RetryEvent) {
        (self.0)(event)
    }
}
