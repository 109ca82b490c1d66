//! [`Retry`]: the engine around an inner service.

use core::fmt;
use core::marker::PhantomData;
use core::task::{Context, Poll};
use std::sync::{Arc, Mutex};

use tenace::{Limits, Pipeline, Policy, TokioClock};
use tower_service::Service;
use tracing::Instrument as _;

use super::RetryStats;
use super::attempt::ServiceTransport;
use crate::error::{BoxError, CallError};
use crate::interceptor::BoxFuture;
use crate::predicate::{BorrowedRetryOn, SharedRetryOn};
use crate::seed::CallSeeds;
use crate::strategy::StoredStrategy;
use crate::trace::{Trace, call_span};
use crate::wall_clock::WallClock;

/// What every clone of a [`Retry`] shares.
pub(super) struct Shared {
    pub(super) strategy: StoredStrategy,
    pub(super) limits: Limits,
    pub(super) retry_on: SharedRetryOn,
    pub(super) error_for_status: bool,
    pub(super) clock: TokioClock,
    /// `clock` as a wall clock, for a `Retry-After` date.
    pub(super) wall: WallClock,
    pub(super) seeds: CallSeeds,
}

/// A service that retries the inner service per a policy; see
/// [`RetryLayer`](super::RetryLayer).
pub struct Retry<S> {
    pub(super) inner: S,
    pub(super) shared: Arc<Shared>,
}

impl<S: Clone> Clone for Retry<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for Retry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("inner", &self.inner)
            .field("strategy", &self.shared.strategy)
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

impl<S, B, RB> Service<http::Request<B>> for Retry<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    B: Clone + Send + 'static,
    RB: Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = CallError;
    type Future = BoxFuture<'static, Result<http::Response<RB>, CallError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), CallError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        let transport = ServiceTransport {
            inner: Mutex::new(self.inner.clone()),
            error_for_status: shared.error_for_status,
            wall: shared.wall,
            body: PhantomData,
        };
        Box::pin(async move {
            let span = call_span(request.method(), request.uri());
            let policy = Policy::new(shared.strategy.for_call())
                .with_limits(shared.limits)
                .retry_on(BorrowedRetryOn(&*shared.retry_on));
            let pipeline = Pipeline::new().middleware(Trace);
            let mut rng = shared.seeds.next();
            let call = tenace::retry_with(
                &transport,
                &shared.clock,
                &policy,
                &pipeline,
                &mut rng,
                request,
            )
            .instrument(span)
            .await?;
            let stats = RetryStats {
                attempts: call.attempts,
                slept: call.slept,
            };
            let mut response = call.into_inner();
            response.extensions_mut().insert(stats);
            Ok(response)
        })
    }
}
