//! [`RetryLayer`]: the policy a [`Retry`] service runs.

use core::fmt;
use std::sync::Arc;

use tenace::{Limits, Policy, RetryOn, RetryStrategy, TokioClock};
use tower_layer::Layer;

use super::service::{Retry, Shared};
use crate::error::Error;
use crate::predicate::Retrying;
use crate::seed::{CallSeeds, fresh_seed};
use crate::strategy::StoredStrategy;
use crate::wall_clock::WallClock;

/// A [`Layer`] that wraps a service in [`Retry`].
#[derive(Clone)]
pub struct RetryLayer {
    strategy: StoredStrategy,
    limits: Limits,
    retrying: Retrying,
    seed: Option<u64>,
}

impl fmt::Debug for RetryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("strategy", &self.strategy)
            .field("limits", &self.limits)
            .field("retry_transient_statuses", &self.retrying.transient)
            .field("error_for_status", &self.retrying.error_for_status)
            .finish_non_exhaustive()
    }
}

impl RetryLayer {
    /// A layer with this policy: its strategy (one of tenace's or any
    /// [`RetryStrategy`] of your own, copied for each call that fails so
    /// per-call state is never shared), limits and predicate.
    pub fn new<S, P>(policy: Policy<S, P>) -> Self
    where
        S: RetryStrategy + Clone + Send + Sync + 'static,
        P: RetryOn<Error> + Clone + Send + Sync + 'static,
    {
        Self {
            strategy: StoredStrategy::new(policy.strategy().clone()),
            limits: *policy.limits(),
            retrying: Retrying::new(Arc::new(policy.predicate().clone())),
            seed: None,
        }
    }

    /// Whether a 4xx or 5xx response becomes [`Error::Status`] for the
    /// predicate to see. Default: off.
    #[must_use]
    pub const fn error_for_status(mut self, yes: bool) -> Self {
        self.retrying.error_for_status = yes;
        self
    }

    /// Error statuses become errors, and transient statuses (408, 429, 5xx
    /// except 501 and 505) are retried as well as whatever the policy's
    /// predicate retries, honouring `Retry-After`.
    #[must_use]
    pub fn retry_transient_statuses(mut self) -> Self {
        self.retrying.transient_statuses();
        self
    }

    /// Seeds the jitter, for reproducible delays; calls draw from seeds
    /// derived as [`ClientBuilder::rng_seed`](crate::ClientBuilder::rng_seed)
    /// describes.
    #[must_use]
    pub const fn rng_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Retry<S> {
        let clock = TokioClock::new();
        Retry {
            inner,
            shared: Arc::new(Shared {
                strategy: self.strategy.clone(),
                limits: self.limits,
                retry_on: Arc::clone(&self.retrying.predicate),
                error_for_status: self.retrying.error_for_status,
                clock,
                wall: WallClock::new(clock),
                seeds: CallSeeds::new(self.seed.unwrap_or_else(fresh_seed)),
            }),
        }
    }
}
