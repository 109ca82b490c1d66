//! [`Client`]: a base URL, default headers and a retry policy shared by
//! every request, sent through one connection pool.

mod builder;
mod middleware;
mod request_builder;
mod url;

use core::fmt;
use core::future::Future;
use std::sync::Arc;

use http::{HeaderMap, Method};
use tenace::{Hedge, Limits, Pipeline, Policy, RetryBudget, RetryError, StopReason, TokioClock};
use tracing::Instrument as _;

use crate::budget::Budgets;
use crate::error::{CallError, Error};
use crate::interceptor::{RequestHookList, RequestHooks, ResponseHookList, ResponseHooks};
use crate::predicate::{BorrowedRetryOn, SharedRetryOn};
use crate::request::Request;
use crate::response::Response;
use crate::seed::CallSeeds;
use crate::strategy::StoredStrategy;
use crate::trace::{Trace, call_span};
use crate::transport::HyperTransport;
use crate::wall_clock::WallClock;

pub use builder::ClientBuilder;
use middleware::{MiddlewareList, SharedMiddleware};
pub use request_builder::{IDEMPOTENCY_KEY, RequestBuilder};
use url::{RedactedBase, resolve};

/// An HTTP client that retries: base URL, default headers, timeouts, a
/// retry policy, interceptors and middleware, shared by every request it
/// makes. Cloning it is cheap and shares the connection pool.
///
/// ```no_run
/// use core::time::Duration;
/// use tenace::ExponentialBackoff;
/// use tenace_hyper::Client;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let api = Client::builder()
///     .base_url("https://api.example.com")
///     .max_retries(3)
///     .retry_strategy(ExponentialBackoff::new(Duration::from_secs(1), 2, Duration::from_secs(10))?)
///     .timeout(Duration::from_secs(5))
///     .build()?;
///
/// let users = api.get("/users").send().await?;
/// println!("{} {}", users.status(), users.text()?);
///
/// // This request alone retries five times.
/// let flaky = api.get("/flaky-endpoint").max_retries(5).send().await?;
/// # let _ = flaky;
/// # Ok(()) }
/// ```
///
/// # What is retried
///
/// By default: transport failures (connect, timeout,
/// reset), never an HTTP status; a `500` is a response. Opt in to statuses
/// with [`ClientBuilder::retry_transient_statuses`] (408, 429 and 5xx except
/// 501 and 505, honouring `Retry-After`), or with
/// [`error_for_status`](ClientBuilder::error_for_status) and a predicate of
/// your own. A failure that may have reached the server is retried only for
/// an idempotent method or a request marked safe
/// ([`RequestBuilder::idempotency_key`], [`RequestBuilder::retry_safe`]).
///
/// # A retry budget per host
///
/// A client keeps one [`RetryBudget`] per host (scheme, host and port),
/// shared by all its clones, by default: 10 tokens, each failure that
/// signals trouble takes one, each success puts back a tenth, and a retry
/// is allowed only while more than half is left, else the call ends with
/// [`StopReason::Budget`](tenace::StopReason::Budget). Through an outage
/// the host then receives about one attempt per call rather than
/// `max_retries + 1`. This is gRPC's retry throttling (one bucket per
/// server for all of a channel's calls, its example's `maxTokens: 10,
/// tokenRatio: 0.1`); Envoy's retry budget also belongs to the upstream,
/// not to a request. Change it with [`ClientBuilder::retry_budget`], share
/// one across hosts with [`ClientBuilder::shared_retry_budget`], turn it
/// off with [`ClientBuilder::no_retry_budget`]; read a host's with
/// [`Client::retry_budget`].
///
/// # The call's future
///
/// [`RequestBuilder::send`] returns a `Send + 'static` future (it can be
/// `tokio::spawn`ed). Without interceptors it allocates nothing beyond what
/// hyper allocates for the request itself (a host's first call allocates
/// its retry budget); each async interceptor costs one boxed future each
/// time it runs (per attempt, or once per call for those registered with
/// `_once` or `_final`).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: HyperTransport,
    clock: TokioClock,
    /// `clock` as a wall clock, for a `Retry-After` date.
    wall: WallClock,
    base_url: Option<String>,
    default_headers: HeaderMap,
    strategy: StoredStrategy,
    limits: Limits,
    retry_on: SharedRetryOn,
    error_for_status: bool,
    request_hooks: RequestHookList,
    response_hooks: ResponseHookList,
    middleware: Vec<SharedMiddleware>,
    /// The retry budgets, per host by default.
    budgets: Budgets,
    seeds: CallSeeds,
    /// How calls are hedged, if they are.
    hedge: Option<ClientHedge>,
}

/// The most extra copies a hedged call of this client runs: four, so five
/// copies in all, the cap gRPC puts on a hedging policy's `maxAttempts`.
pub const MAX_HEDGES: usize = 4;

/// A hedge as the client keeps it: up to [`MAX_HEDGES`] extra copies.
pub(crate) type ClientHedge = Hedge<MAX_HEDGES>;

/// `hedge`, capped at [`MAX_HEDGES`] extra copies.
pub(crate) fn client_hedge<const N: usize>(hedge: Hedge<N>) -> ClientHedge {
    ClientHedge::new(hedge.delay()).max_extra(hedge.extra())
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Client")
            .field("base_url", &RedactedBase(inner.base_url.as_deref()))
            .field(
                "default_headers",
                &crate::response::HeaderNames(&inner.default_headers),
            )
            .field("strategy", &inner.strategy)
            .field("limits", &inner.limits)
            .field("error_for_status", &inner.error_for_status)
            .field("request_interceptors", &inner.request_hooks.each.len())
            .field("request_interceptors_once", &inner.request_hooks.once.len())
            .field("response_interceptors", &inner.response_hooks.each.len())
            .field(
                "response_interceptors_final",
                &inner.response_hooks.last.len(),
            )
            .field("middleware", &inner.middleware.len())
            .field("retry_budget", &inner.budgets)
            .field("hedge", &inner.hedge)
            .field("transport", &inner.transport)
            .finish()
    }
}

impl Client {
    /// A client with the defaults: no base URL, exponential backoff from
    /// 1 s doubling to 30 s with full jitter, 3 retries, transport failures
    /// only.
    ///
    /// # Errors
    /// As [`ClientBuilder::build`].
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The transport (and connection pool) this client sends through.
    pub fn transport(&self) -> &HyperTransport {
        &self.inner.transport
    }

    /// The retry budget a call to `url` (joined to the base URL unless
    /// absolute) runs under: its host's, once a call to that host was made;
    /// the one shared budget with
    /// [`shared_retry_budget`](ClientBuilder::shared_retry_budget); `None`
    /// with [`no_retry_budget`](ClientBuilder::no_retry_budget), for a host
    /// this client has not called (or has dropped, see
    /// [`retry_budget_max_hosts`](ClientBuilder::retry_budget_max_hosts)),
    /// and for an invalid URL. For metrics: its
    /// [`tokens`](RetryBudget::tokens) and [`refused`](RetryBudget::refused)
    /// count.
    pub fn retry_budget(&self, url: &str) -> Option<Arc<RetryBudget>> {
        let uri = resolve(self.inner.base_url.as_deref(), url).ok()?;
        self.inner.budgets.peek(&uri)
    }

    /// How many hosts this client (and its clones) keeps a retry budget for:
    /// at most [`retry_budget_max_hosts`](ClientBuilder::retry_budget_max_hosts);
    /// 0 with a shared budget or none.
    pub fn retry_budget_hosts(&self) -> usize {
        self.inner.budgets.hosts()
    }

    /// A `GET` request to `url` (joined to the base URL unless absolute).
    pub fn get(&self, url: &str) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A `POST` request: not replayed after a failure that may have reached
    /// the server unless marked safe.
    pub fn post(&self, url: &str) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A `PUT` request.
    pub fn put(&self, url: &str) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A `PATCH` request: not replayed after a failure that may have
    /// reached the server unless marked safe.
    pub fn patch(&self, url: &str) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A `DELETE` request.
    pub fn delete(&self, url: &str) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// A `HEAD` request.
    pub fn head(&self, url: &str) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A request with any method.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let inner = &*self.inner;
        let request = resolve(inner.base_url.as_deref(), url).map(|uri| {
            let mut request = Request::new(method, uri);
            if !inner.default_headers.is_empty() {
                *request.headers_mut() = inner.default_headers.clone();
            }
            request
        });
        RequestBuilder {
            client: self.clone(),
            request,
            strategy: None,
            limits: inner.limits,
            retry_on: None,
            transient: false,
            error_for_status: inner.error_for_status,
            hedge: inner.hedge,
        }
    }

    /// Sends a prepared request with the client's policy and pipeline.
    pub fn execute(
        &self,
        request: Request,
    ) -> impl Future<Output = Result<Response, CallError>> + use<> {
        let inner = &*self.inner;
        self.clone().call(
            Ok(request),
            Overrides {
                strategy: None,
                limits: inner.limits,
                retry_on: None,
                error_for_status: inner.error_for_status,
                hedge: inner.hedge,
            },
        )
    }

    // Not an `async fn`: an `async fn`'s future keeps each argument twice
    // (as captured and as the local it is moved into); an `async move`
    // block uses them in place. `execute` and `RequestBuilder::send` return
    // this future itself, so no outer future keeps another copy of the
    // request.
    #[allow(clippy::manual_async_fn)]
    fn call(
        self,
        request: Result<Request, Error>,
        overrides: Overrides,
    ) -> impl Future<Output = Result<Response, CallError>> {
        async move {
            let request = match request {
                Ok(request) => request,
                Err(e) => return Err(RetryError::new(StopReason::NotRetryable, 0, Some(e))),
            };
            let inner = &*self.inner;
            let span = call_span(request.method(), request.uri());
            let retry_on = overrides.retry_on.as_ref().unwrap_or(&inner.retry_on);
            let strategy = overrides.strategy.as_ref().unwrap_or(&inner.strategy);
            let policy = Policy::new(strategy.for_call())
                .with_limits(overrides.limits)
                .retry_on(BorrowedRetryOn(&**retry_on));
            let budget = inner.budgets.for_call(request.uri());
            let pipeline = Pipeline {
                request: RequestHooks(&inner.request_hooks),
                response: ResponseHooks {
                    hooks: &inner.response_hooks,
                    error_for_status: overrides.error_for_status,
                    wall: &inner.wall,
                },
                // The budget last: a retry another middleware vetoes is not
                // counted as the budget's refusal.
                middleware: (Trace, MiddlewareList(&inner.middleware), budget),
            };
            let mut rng = inner.seeds.next();
            let result = match &overrides.hedge {
                // Boxed: the copies' futures are only allocated for a
                // hedged call, and a plain call's future does not grow.
                Some(hedge) if hedge.extra() > 0 => {
                    Box::pin(tenace::hedge_with(
                        &inner.transport,
                        &inner.clock,
                        &policy,
                        hedge,
                        &pipeline,
                        &mut rng,
                        request,
                    ))
                    .instrument(span)
                    .await
                }
                _ => {
                    tenace::retry_with(
                        &inner.transport,
                        &inner.clock,
                        &policy,
                        &pipeline,
                        &mut rng,
                        request,
                    )
                    .instrument(span)
                    .await
                }
            };
            result.map(Response::from_call)
        }
    }
}

/// What a request sets for itself over the client's policy.
struct Overrides {
    strategy: Option<StoredStrategy>,
    limits: Limits,
    retry_on: Option<SharedRetryOn>,
    error_for_status: bool,
    hedge: Option<ClientHedge>,
}
