//! The client's middleware list, run as one middleware.

use std::sync::Arc;

use tenace::{Middleware, RetryEvent, StopReason};

/// A middleware as the client stores it.
pub(super) type SharedMiddleware = Arc<dyn Middleware + Send + Sync>;

/// The client's middleware, called in order.
pub(super) struct MiddlewareList<'a>(pub(super) &'a [SharedMiddleware]);

impl Middleware for MiddlewareList<'_> {
    fn before_call(&self, now: tenace::Instant) -> Result<(), StopReason> {
        self.0.iter().try_for_each(|m| m.before_call(now))
    }
    fn after_attempt(&self, outcome: tenace::AttemptOutcome, now: tenace::Instant) {
        self.0.iter().for_each(|m| m.after_attempt(outcome, now));
    }
    fn after_copy(
        &self,
        kind: tenace::FailureKind,
        started: tenace::Instant,
        now: tenace::Instant,
    ) {
        self.0.iter().for_each(|m| m.after_copy(kind, started, now));
    }
    fn allow_retry(&self, event: &RetryEvent) -> bool {
        self.0.iter().all(|m| m.allow_retry(event))
    }
    fn on_retry(&self, event: &RetryEvent) {
        self.0.iter().for_each(|m| m.on_retry(event));
    }
    fn after_call(&self, outcome: &tenace::CallOutcome) {
        self.0.iter().for_each(|m| m.after_call(outcome));
    }
}
