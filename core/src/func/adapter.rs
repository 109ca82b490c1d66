//! The closure as a [`Transport`]: what lets the closure API run the
//! engine's own drivers instead of a loop of its own.
//!
//! The closure's error stays here, in a slot the next attempt clears; the
//! driver sees only an [`Attempt`] (the error's kind, `Retry-After` hint and
//! verdict). So the notifier can be shown the error while the machine
//! decides, and the final error hands back the last attempt's own error,
//! or none when that attempt was cut off by a timeout.

use core::future::Future;
use core::time::Duration;

use super::classify::{Classify, Notify};
use crate::error::{FailureKind, StopReason, TransportError};
use crate::machine::Failure;
use crate::middleware::{AttemptOutcome, CallOutcome, Middleware, RetryEvent};
use crate::policy::RetryOn;
use crate::replay::Replay;
use crate::time::Instant;
use crate::transport::{BlockingTransport, Transport};

/// The closure, its judge, its notifier and the caller's middleware.
pub(super) struct Adapter<F, E, P, N, M> {
    /// A lock only so that the `FnMut` can be called through `&self` with a
    /// `Sync` adapter (the driver's future holds `&Adapter`, and is `Send`
    /// only if the adapter is `Sync`). One future owns the adapter and
    /// never holds the lock across an await, so it is never contended.
    inner: spin::Mutex<Inner<F, E, N>>,
    judge: P,
    middleware: M,
}

struct Inner<F, E, N> {
    op: F,
    /// The last attempt's error; cleared when an attempt starts.
    last: Option<E>,
    notify: N,
}

impl<F, E, P, N, M> Adapter<F, E, P, N, M> {
    pub(super) const fn new(op: F, judge: P, notify: N, middleware: M) -> Self {
        Self {
            inner: spin::Mutex::new(Inner {
                op,
                last: None,
                notify,
            }),
            judge,
            middleware,
        }
    }

    /// The last attempt's error, if it ended with one.
    pub(super) fn take_last(&self) -> Option<E> {
        self.inner.lock().last.take()
    }
}

/// The request: the closure takes none.
#[derive(Debug, Clone, Copy)]
pub(super) struct Token;

/// A failed attempt as the driver sees it.
#[derive(Debug)]
pub(super) struct Attempt(Failure);

impl TransportError for Attempt {
    fn kind(&self) -> FailureKind {
        self.0.kind
    }

    fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// An attempt cut off by its timeout has no error of the closure's to
    /// judge: it is retried while retries and time remain.
    fn timed_out(_after: Duration) -> Self {
        Self(Failure::new(FailureKind::Timeout))
    }
}

/// The driver's predicate: the judge's verdict, given at the failure.
#[derive(Debug, Clone, Copy)]
pub(super) struct Verdict;

impl RetryOn<Attempt> for Verdict {
    fn retry_on(&self, error: &Attempt) -> bool {
        error.0.retryable
    }
}

impl<F, Fut, T, E, P, N, M> Transport for Adapter<F, E, P, N, M>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    P: Classify<E>,
{
    type Request = Token;
    type Response = T;
    type Error = Attempt;

    #[allow(clippy::manual_async_fn)]
    fn send(&self, _request: Token) -> impl Future<Output = Result<T, Attempt>> {
        async move {
            let attempt = {
                let mut inner = self.inner.lock();
                inner.last = None;
                (inner.op)()
            };
            match attempt.await {
                Ok(value) => Ok(value),
                Err(error) => Err(self.failed(error)),
            }
        }
    }

    /// The caller chose to retry the closure: it is replay-safe.
    fn replay(&self, _request: &Token) -> Replay {
        Replay::Safe
    }
}

impl<F, T, E, P, N, M> BlockingTransport for Adapter<F, E, P, N, M>
where
    F: FnMut() -> Result<T, E>,
    P: Classify<E>,
{
    type Request = Token;
    type Response = T;
    type Error = Attempt;

    /// A running closure cannot be interrupted: `timeout` (what is left
    /// before the deadline) is not enforced here; the deadline is checked
    /// between attempts.
    fn send(&self, _request: Token, _timeout: Option<Duration>) -> Result<T, Attempt> {
        let result = {
            let mut inner = self.inner.lock();
            inner.last = None;
            (inner.op)()
        };
        result.map_err(|error| self.failed(error))
    }

    fn replay(&self, _request: &Token) -> Replay {
        Replay::Safe
    }
}

impl<F, E, P: Classify<E>, N, M> Adapter<F, E, P, N, M> {
    /// Judges `error` and keeps it for the notifier and the final error.
    fn failed(&self, error: E) -> Attempt {
        let failure = self.judge.classify(&error);
        self.inner.lock().last = Some(error);
        Attempt(failure)
    }
}

/// The adapter is the call's middleware too: the caller's middleware, and
/// the notifier, which it calls with the kept error.
impl<F, E, P, N: Notify<E>, M: Middleware> Middleware for Adapter<F, E, P, N, M> {
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        self.middleware.before_call(now)
    }

    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        self.middleware.after_attempt(outcome, now);
    }

    fn after_copy(&self, kind: crate::FailureKind, started: Instant, now: Instant) {
        self.middleware.after_copy(kind, started, now);
    }

    fn allow_retry(&self, event: &RetryEvent) -> bool {
        self.middleware.allow_retry(event)
    }

    fn on_retry(&self, event: &RetryEvent) {
        self.middleware.on_retry(event);
        let mut inner = self.inner.lock();
        let Inner { last, notify, .. } = &mut *inner;
        notify.notify(last.as_ref(), event.delay);
    }

    fn after_call(&self, outcome: &CallOutcome) {
        self.middleware.after_call(outcome);
    }
}
