//! The engine as a tower [`Layer`]: retries around any
//! `Service<http::Request<B>>` (feature `tower`).
//!
//! ```
//! use core::time::Duration;
//! use tenace::{FixedDelay, Policy};
//! use tenace_hyper::tower::RetryLayer;
//! use tower::ServiceBuilder;
//!
//! let layer = RetryLayer::new(Policy::new(FixedDelay::new(Duration::from_millis(50))).max_retries(2))
//!     .retry_transient_statuses();
//! let service = ServiceBuilder::new().layer(layer).service(tower::service_fn(
//!     |_req: http::Request<http_body_util::Full<bytes::Bytes>>| async {
//!         Ok::<_, std::io::Error>(http::Response::new(()))
//!     },
//! ));
//! # let _ = service;
//! ```
//!
//! # Bodies and idempotency
//!
//! The request body type must be `Clone` (e.g. `Full<Bytes>`, whose clone
//! is a reference count): each attempt sends a clone of the original
//! request, so a one-shot streaming body does not compile. A failure that
//! may have reached the server is retried only if the request is safe to
//! replay, decided in this order: a [`RetrySafe`] extension (`RetrySafe(true)`
//! or `RetrySafe(false)`, even for a `GET`); else an `Idempotency-Key`
//! header; else an idempotent method.
//!
//! # Errors and statuses
//!
//! The inner service's errors are classified by their `source()` chain
//! (hyper-util and hyper errors, I/O errors); an error the chain does not
//! explain is taken as [`Error::Io`]: it may have reached the server. With
//! [`retry_transient_statuses`](RetryLayer::retry_transient_statuses) (or
//! [`error_for_status`](RetryLayer::error_for_status)) a 4xx/5xx response
//! becomes [`Error::Status`] (its body is dropped; headers are kept), so
//! `Retry-After` is honoured.
//!
//! # Readiness
//!
//! [`Retry`] is always ready: each attempt clones the inner service and
//! waits for that clone to be ready, as the inner service's own clones
//! share its capacity.

use core::fmt;
use core::future::poll_fn;
use core::marker::PhantomData;
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tenace::{Limits, Pipeline, Policy, Replay, RetryOn, RetryStrategy};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument as _;

use crate::error::{BoxError, CallError, Error, classify_boxed};
use crate::interceptor::BoxFuture;
use crate::predicate::{BorrowedRetryOn, SharedRetryOn, or_transient};
use crate::response::Response;
use crate::seed::{CallSeeds, fresh_seed};
use crate::strategy::StoredStrategy;
use crate::trace::{Trace, call_span};
use crate::wall_clock::WallClock;
use tenace::TokioClock;

/// Marks a request safe (`RetrySafe(true)`) or unsafe (`RetrySafe(false)`)
/// to replay after a failure that may have reached the server: insert it
/// into the request's extensions. The mark wins over the method and over an
/// `Idempotency-Key` header.
///
/// ```
/// use tenace_hyper::tower::RetrySafe;
/// let mut request = http::Request::get("http://example.com/charge").body(()).unwrap();
/// // This GET has side effects: never send it twice.
/// request.extensions_mut().insert(RetrySafe(false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySafe(pub bool);

/// How the call that produced a response went: [`Retry`] puts it in every
/// response's extensions.
///
/// ```
/// # async fn f(response: http::Response<()>) {
/// use tenace_hyper::tower::RetryStats;
/// if let Some(stats) = response.extensions().get::<RetryStats>() {
///     println!("{} attempts, {:?} asleep", stats.attempts(), stats.slept());
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryStats {
    attempts: u32,
    slept: Duration,
}

impl RetryStats {
    /// How many attempts the call took, the last one included: 1 when the
    /// first attempt succeeded.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long the call slept in backoff, as the engine chose the delays
    /// (`Retry-After` included).
    pub const fn slept(&self) -> Duration {
        self.slept
    }
}

/// A [`Layer`] that wraps a service in [`Retry`].
#[derive(Clone)]
pub struct RetryLayer {
    strategy: StoredStrategy,
    limits: Limits,
    retry_on: SharedRetryOn,
    transient: bool,
    error_for_status: bool,
    seed: Option<u64>,
}

impl fmt::Debug for RetryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("strategy", &self.strategy)
            .field("limits", &self.limits)
            .field("retry_transient_statuses", &self.transient)
            .field("error_for_status", &self.error_for_status)
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
            retry_on: Arc::new(policy.predicate().clone()),
            transient: false,
            error_for_status: false,
            seed: None,
        }
    }

    /// Whether a 4xx or 5xx response becomes [`Error::Status`] for the
    /// predicate to see. Default: off.
    #[must_use]
    pub const fn error_for_status(mut self, yes: bool) -> Self {
        self.error_for_status = yes;
        self
    }

    /// Error statuses become errors, and transient statuses (408, 429, 5xx
    /// except 501 and 505) are retried as well as whatever the policy's
    /// predicate retries, honouring `Retry-After`.
    #[must_use]
    pub fn retry_transient_statuses(mut self) -> Self {
        if !self.transient {
            self.transient = true;
            self.retry_on = or_transient(self.retry_on);
        }
        self.error_for_status(true)
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
                retry_on: Arc::clone(&self.retry_on),
                error_for_status: self.error_for_status,
                clock,
                wall: WallClock::new(clock),
                seeds: CallSeeds::new(self.seed.unwrap_or_else(fresh_seed)),
            }),
        }
    }
}

struct Shared {
    strategy: StoredStrategy,
    limits: Limits,
    retry_on: SharedRetryOn,
    error_for_status: bool,
    clock: TokioClock,
    /// `clock` as a wall clock, for a `Retry-After` date.
    wall: WallClock,
    seeds: CallSeeds,
}

/// A service that retries the inner service per a policy; see
/// [`RetryLayer`].
pub struct Retry<S> {
    inner: S,
    shared: Arc<Shared>,
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

/// One attempt through a clone of the inner service.
struct ServiceTransport<S, B> {
    /// Behind a mutex only so the transport is `Sync` (and the call's
    /// future `Send`) for any `Send` service; locked briefly to clone.
    inner: Mutex<S>,
    error_for_status: bool,
    wall: WallClock,
    body: PhantomData<fn(B)>,
}

impl<S, B, RB> tenace::Transport for ServiceTransport<S, B>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone,
    S::Error: Into<BoxError>,
{
    type Request = http::Request<B>;
    type Response = http::Response<RB>;
    type Error = Error;

    async fn send(&self, request: http::Request<B>) -> Result<http::Response<RB>, Error> {
        let mut service = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(|e| classify_boxed(e.into()))?;
        let response = service
            .call(request)
            .await
            .map_err(|e| classify_boxed(e.into()))?;
        let status = response.status();
        if self.error_for_status && (status.is_client_error() || status.is_server_error()) {
            let (parts, _body) = response.into_parts();
            return Err(Error::from_status(
                Response::new(parts.status, parts.headers, Bytes::new()),
                self.wall.now(),
            ));
        }
        Ok(response)
    }

    fn replay(&self, request: &http::Request<B>) -> Replay {
        Replay::of(
            request.method().as_str(),
            request
                .extensions()
                .get::<RetrySafe>()
                .map(|mark| Replay::from_safe(mark.0)),
            request.headers().keys().map(http::HeaderName::as_str),
        )
    }
}
