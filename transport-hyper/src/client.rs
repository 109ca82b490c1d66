//! [`Client`]: the reference's `axios_python.create({...})` in Rust.

use core::fmt;
use core::future::Future;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use tenace::rand_core::Rng as _;
use tenace::{
    AttemptContext, Limits, Middleware, Pipeline, Policy, RetryError, RetryEvent, RetryOn,
    RetryStrategy, SeededRng, StopReason,
};
use tracing::Instrument as _;

use crate::error::{CallError, Error, UrlError};
use crate::interceptor::{
    AsyncRequestInterceptor, AsyncResponseInterceptor, Auth, RequestHook, RequestHooks,
    ResponseHook, ResponseHooks,
};
use crate::predicate::{BorrowedRetryOn, SharedRetryOn, or_transient};
use crate::request::{RedactedUrl, Request};
use crate::response::Response;
use crate::strategy::StoredStrategy;
use crate::trace::{Trace, call_span};
use crate::transport::{HyperTransport, TransportBuilder};
use tenace::TokioClock;

/// The header [`RequestBuilder::idempotency_key`] sets.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static(tenace::http::IDEMPOTENCY_KEY);

/// A middleware as the client stores it.
type SharedMiddleware = Arc<dyn Middleware + Send + Sync>;

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
/// // axios_python.create({"base_url": ..., "max_retries": 3,
/// //     "retry_strategy": ExponentialBackoff(base=1.0, multiplier=2.0, max_delay=10.0)})
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
/// By default, as the reference: transport failures (connect, timeout,
/// reset), never an HTTP status; a `500` is a response. Opt in to statuses
/// with [`ClientBuilder::retry_transient_statuses`] (408, 429 and 5xx except
/// 501 and 505, honouring `Retry-After`), or with
/// [`error_for_status`](ClientBuilder::error_for_status) and a predicate of
/// your own. A failure that may have reached the server is retried only for
/// an idempotent method or a request marked safe
/// ([`RequestBuilder::idempotency_key`], [`RequestBuilder::retry_safe`]).
///
/// # The call's future
///
/// [`RequestBuilder::send`] returns a `Send + 'static` future (it can be
/// `tokio::spawn`ed). Without interceptors it allocates nothing beyond what
/// hyper allocates for the request itself; each async interceptor costs one
/// boxed future per attempt.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: HyperTransport,
    clock: TokioClock,
    base_url: Option<String>,
    default_headers: HeaderMap,
    strategy: StoredStrategy,
    limits: Limits,
    retry_on: SharedRetryOn,
    error_for_status: bool,
    request_hooks: Vec<RequestHook>,
    response_hooks: Vec<ResponseHook>,
    middleware: Vec<SharedMiddleware>,
    seeds: CallSeeds,
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
            .field("request_interceptors", &inner.request_hooks.len())
            .field("response_interceptors", &inner.response_hooks.len())
            .field("middleware", &inner.middleware.len())
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
        }
    }

    /// Sends a prepared request with the client's policy and pipeline.
    pub fn execute(&self, request: Request) -> impl Future<Output = Result<Response, CallError>> {
        let inner = &*self.inner;
        self.call(
            request,
            Overrides {
                strategy: None,
                limits: inner.limits,
                retry_on: None,
                error_for_status: inner.error_for_status,
            },
        )
    }

    // Not an `async fn`, here and in `execute` and `RequestBuilder::send`:
    // an `async fn`'s future keeps each argument twice (as captured and as
    // the local it is moved into); an `async move` block uses them in place.
    #[allow(clippy::manual_async_fn)]
    fn call<'a>(
        &'a self,
        request: Request,
        overrides: Overrides<'a>,
    ) -> impl Future<Output = Result<Response, CallError>> + 'a {
        async move {
            let inner = &*self.inner;
            let span = call_span(request.method(), request.uri());
            let retry_on = overrides.retry_on.unwrap_or(&inner.retry_on);
            let strategy = overrides.strategy.unwrap_or(&inner.strategy);
            let policy = Policy::new(strategy.for_call())
                .with_limits(overrides.limits)
                .retry_on(BorrowedRetryOn(&**retry_on));
            let pipeline = Pipeline {
                request: RequestHooks(&inner.request_hooks),
                response: ResponseHooks {
                    hooks: &inner.response_hooks,
                    error_for_status: overrides.error_for_status,
                },
                middleware: (Trace, MiddlewareList(&inner.middleware)),
            };
            let mut rng = inner.seeds.next();
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
            .map(Response::from_call)
        }
    }
}

/// What a request sets for itself over the client's policy.
struct Overrides<'a> {
    strategy: Option<&'a StoredStrategy>,
    limits: Limits,
    retry_on: Option<&'a SharedRetryOn>,
    error_for_status: bool,
}

/// Hands each call the generator for its jitter.
///
/// Call `k` (from 0) is seeded with the `k + 1`-th output of
/// `SeededRng::new(base)`: the counter steps as SplitMix's own state does,
/// and each step goes through SplitMix's mixing function before it seeds a
/// call. Seeding call `k` with `base + k × step` instead would make call
/// `k + 1`'s stream call `k`'s shifted by one draw.
pub(crate) struct CallSeeds(AtomicU64);

impl CallSeeds {
    /// SplitMix64's increment (the golden ratio in 64 bits).
    const STEP: u64 = 0x9E37_79B9_7F4A_7C15;

    pub(crate) const fn new(base: u64) -> Self {
        Self(AtomicU64::new(base))
    }

    /// The next call's generator.
    pub(crate) fn next(&self) -> SeededRng {
        let state = self.0.fetch_add(Self::STEP, Ordering::Relaxed);
        // `SeededRng::new(state)`'s first output is SplitMix's mix of
        // `state + STEP`, the counter's next value.
        SeededRng::new(SeededRng::new(state).next_u64())
    }
}

/// A seed that differs between clients and processes: time mixed with a
/// process-wide counter. Jitter only has to decorrelate clients.
pub(crate) fn fresh_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    nanos ^ n.wrapping_mul(CallSeeds::STEP).rotate_left(29) ^ u64::from(std::process::id()) << 32
}

/// The client's middleware, called in order.
struct MiddlewareList<'a>(&'a [SharedMiddleware]);

impl Middleware for MiddlewareList<'_> {
    fn before_call(&self, now: tenace::Instant) -> Result<(), StopReason> {
        self.0.iter().try_for_each(|m| m.before_call(now))
    }
    fn after_attempt(&self, outcome: tenace::AttemptOutcome, now: tenace::Instant) {
        self.0.iter().for_each(|m| m.after_attempt(outcome, now));
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

/// The base URL as `Debug` shows it: without userinfo or query, as logs
/// show URLs ([`RedactedUrl`]). `base_url("http://user:pass@host")` used
/// to print the password in `{client:?}` (found by
/// tests/tests/hyper_secrets.rs).
struct RedactedBase<'a>(Option<&'a str>);

impl fmt::Debug for RedactedBase<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.map(Uri::try_from) {
            None => f.write_str("None"),
            Some(Ok(uri)) => write!(f, "Some(\"{}\")", RedactedUrl(&uri)),
            Some(Err(_)) => f.write_str("Some(<invalid URL>)"),
        }
    }
}

/// `url` if absolute, else `url` joined to `base` with exactly one `/`
/// between them (as axios's `combineURLs`).
fn resolve(base: Option<&str>, url: &str) -> Result<Uri, Error> {
    let invalid = |e: http::uri::InvalidUri| Error::InvalidUrl(Box::new(e));
    match base {
        Some(base) if !is_absolute(url) => {
            let path = url.trim_start_matches('/');
            let mut joined = String::with_capacity(base.len() + 1 + path.len());
            joined.push_str(base);
            if !path.is_empty() {
                joined.push('/');
                joined.push_str(path);
            }
            Uri::from_maybe_shared(Bytes::from(joined)).map_err(invalid)
        }
        _ => {
            let uri = Uri::try_from(url).map_err(invalid)?;
            if uri.scheme().is_none() || uri.authority().is_none() {
                return Err(Error::InvalidUrl(Box::new(UrlError(
                    "a relative URL needs a base URL (ClientBuilder::base_url)",
                ))));
            }
            Ok(uri)
        }
    }
}

/// `true` if `url` starts with a scheme (`http://`, `https://`, ...).
fn is_absolute(url: &str) -> bool {
    url.find("://").is_some_and(|i| {
        i > 0
            && url[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}

/// Configures a [`Client`]; see [`Client::builder`].
///
/// | setting | default |
/// |---|---|
/// | [`base_url`](Self::base_url) | none: URLs must be absolute |
/// | [`max_retries`](Self::max_retries) | 3 (four attempts) |
/// | [`retry_strategy`](Self::retry_strategy) | [`Backoff::default`](tenace::Backoff::default): exponential from 1 s, ×2, capped at 30 s, full jitter |
/// | [`retry_on`](Self::retry_on) | [`tenace::NetworkErrors`]: connect, timeout, reset |
/// | [`timeout`](Self::timeout) (per attempt) | none |
/// | [`deadline`](Self::deadline) (whole call) | none |
/// | [`connect_timeout`](Self::connect_timeout) | 10 s |
/// | [`max_response_bytes`](Self::max_response_bytes) | 8 MiB |
/// | [`error_for_status`](Self::error_for_status) | off: a 500 is a response |
pub struct ClientBuilder {
    transport: TransportBuilder,
    base_url: Option<String>,
    default_headers: HeaderMap,
    strategy: StoredStrategy,
    limits: Limits,
    retry_on: SharedRetryOn,
    transient: bool,
    error_for_status: bool,
    request_hooks: Vec<RequestHook>,
    response_hooks: Vec<ResponseHook>,
    middleware: Vec<SharedMiddleware>,
    seed: Option<u64>,
    error: Option<Error>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("transport", &self.transport)
            .field("base_url", &RedactedBase(self.base_url.as_deref()))
            .field(
                "default_headers",
                &crate::response::HeaderNames(&self.default_headers),
            )
            .field("strategy", &self.strategy)
            .field("limits", &self.limits)
            .field("retry_transient_statuses", &self.transient)
            .field("error_for_status", &self.error_for_status)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            transport: TransportBuilder::default(),
            base_url: None,
            default_headers: HeaderMap::new(),
            strategy: StoredStrategy::default(),
            limits: Limits::DEFAULT,
            retry_on: Arc::new(tenace::NetworkErrors),
            transient: false,
            error_for_status: false,
            request_hooks: Vec::new(),
            response_hooks: Vec::new(),
            middleware: Vec::new(),
            seed: None,
            error: None,
        }
    }
}

impl ClientBuilder {
    /// The URL relative request URLs are joined to, e.g.
    /// `https://api.example.com/v1`: `get("/users")` then asks for
    /// `https://api.example.com/v1/users`. Absolute URLs are used as given.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        let mut url = url.into();
        while url.ends_with('/') {
            url.pop();
        }
        self.base_url = Some(url);
        self
    }

    /// A header sent with every request (a request may override it). An
    /// invalid name or value makes [`build`](Self::build) fail.
    #[must_use]
    pub fn default_header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: Into<http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        match header_pair(name, value) {
            Ok((k, v)) => {
                self.default_headers.append(k, v);
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Headers sent with every request, added to those already set.
    #[must_use]
    pub fn default_headers(mut self, headers: HeaderMap) -> Self {
        self.default_headers.extend(headers);
        self
    }

    /// Time allowed for each attempt, interceptors and the whole body
    /// included (the reference's `timeout`). An attempt past it fails with
    /// [`Error::Timeout`] and may be retried.
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.attempt_timeout = Some(timeout);
        self
    }

    /// Time allowed for the whole call, retries and sleeps included. No
    /// sleep is started that would end past it.
    #[must_use]
    pub const fn deadline(mut self, deadline: Duration) -> Self {
        self.limits.deadline = Some(deadline);
        self
    }

    /// Time allowed to open a connection (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.transport = self.transport.connect_timeout(Some(timeout));
        self
    }

    /// The largest response body accepted (default 8 MiB).
    #[must_use]
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.transport = self.transport.max_response_bytes(limit);
        self
    }

    /// Retries after the first attempt: 3 means up to four attempts.
    #[must_use]
    pub const fn max_retries(mut self, n: u32) -> Self {
        self.limits.max_retries = n;
        self
    }

    /// The backoff strategy (`retry_strategy`): one of
    /// tenace's, e.g. `ExponentialBackoff::new(..)?`, or any
    /// [`RetryStrategy`] of your own.
    ///
    /// Each call that fails works on its own copy of the strategy, so
    /// per-call state (the previous delay of a decorrelated jitter) is never
    /// shared between concurrent calls. A strategy of your own costs one
    /// boxed copy per call that retries; tenace's built-in strategies cost
    /// no allocation.
    ///
    /// ```no_run
    /// use core::time::Duration;
    /// use tenace::RetryStrategy;
    /// use tenace::rand_core::Rng;
    ///
    /// /// 50 ms, then 1 s for every later retry.
    /// #[derive(Clone)]
    /// struct Stepped;
    ///
    /// impl RetryStrategy for Stepped {
    ///     fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, _rng: &mut R) -> Duration {
    ///         if attempt <= 1 { Duration::from_millis(50) } else { Duration::from_secs(1) }
    ///     }
    ///     fn max_delay(&self) -> Duration {
    ///         Duration::from_secs(1)
    ///     }
    /// }
    ///
    /// let client = tenace_hyper::Client::builder().retry_strategy(Stepped).build()?;
    /// # Ok::<(), tenace_hyper::Error>(())
    /// ```
    #[must_use]
    pub fn retry_strategy<S>(mut self, strategy: S) -> Self
    where
        S: RetryStrategy + Clone + Send + Sync + 'static,
    {
        self.strategy = StoredStrategy::new(strategy);
        self
    }

    /// What to retry (the reference's `retry_on`): a closure
    /// `|e: &tenace_hyper::Error| -> bool` or one of tenace's predicates
    /// ([`NetworkErrors`](tenace::NetworkErrors), the default;
    /// [`TransientErrors`](tenace::TransientErrors);
    /// [`Never`](tenace::Never)). Replaces an earlier `retry_on`; with
    /// [`retry_transient_statuses`](Self::retry_transient_statuses), before
    /// or after, transient statuses are retried as well.
    #[must_use]
    pub fn retry_on(mut self, predicate: impl RetryOn<Error> + Send + Sync + 'static) -> Self {
        self.retry_on = Arc::new(predicate);
        if self.transient {
            self.retry_on = or_transient(self.retry_on);
        }
        self
    }

    /// Whether a response with a 4xx or 5xx status becomes
    /// [`Error::Status`], which the retry predicate sees (the reference's
    /// `raise_for_status()` in a response interceptor). It runs after the
    /// response interceptors. Default: off.
    #[must_use]
    pub const fn error_for_status(mut self, yes: bool) -> Self {
        self.error_for_status = yes;
        self
    }

    /// The opt-in status policy: error statuses become errors and
    /// transport failures plus transient statuses are retried (408, 429,
    /// and 5xx except 501 and 505), waiting at least what `Retry-After`
    /// asks (seconds or an HTTP-date), capped at the strategy's `max_delay`
    /// and the deadline.
    ///
    /// It adds to the predicate set with [`retry_on`](Self::retry_on),
    /// whichever is called first: an error is retried if either says so.
    #[must_use]
    pub fn retry_transient_statuses(mut self) -> Self {
        if !self.transient {
            self.transient = true;
            self.retry_on = or_transient(self.retry_on);
        }
        self.error_for_status(true)
    }

    /// Whether `Retry-After` may lengthen a delay (default: yes).
    #[must_use]
    pub const fn honor_retry_after(mut self, yes: bool) -> Self {
        self.limits.honor_retry_after = yes;
        self
    }

    /// Caps `Retry-After` at `cap` instead of the strategy's `max_delay`.
    #[must_use]
    pub const fn retry_after_cap(mut self, cap: Duration) -> Self {
        self.limits.retry_after_cap = Some(cap);
        self
    }

    /// Adds a synchronous request interceptor, run on a fresh copy of the
    /// request before every attempt.
    #[must_use]
    pub fn request_interceptor<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Request, AttemptContext) -> Result<(), Error> + Send + Sync + 'static,
    {
        self.request_hooks.push(RequestHook::Sync(Arc::new(f)));
        self
    }

    /// Adds a request interceptor that awaits.
    #[must_use]
    pub fn async_request_interceptor(mut self, interceptor: impl AsyncRequestInterceptor) -> Self {
        self.request_hooks
            .push(RequestHook::Async(Arc::new(interceptor)));
        self
    }

    /// Adds an [`Auth`] interceptor: its token provider is awaited on every
    /// attempt.
    #[must_use]
    pub fn auth(self, auth: Auth) -> Self {
        self.async_request_interceptor(auth)
    }

    /// Adds a synchronous response interceptor.
    #[must_use]
    pub fn response_interceptor<F>(mut self, f: F) -> Self
    where
        F: Fn(Response, AttemptContext) -> Result<Response, Error> + Send + Sync + 'static,
    {
        self.response_hooks.push(ResponseHook::Sync(Arc::new(f)));
        self
    }

    /// Adds a response interceptor that awaits.
    #[must_use]
    pub fn async_response_interceptor(
        mut self,
        interceptor: impl AsyncResponseInterceptor,
    ) -> Self {
        self.response_hooks
            .push(ResponseHook::Async(Arc::new(interceptor)));
        self
    }

    /// Adds middleware around the whole retry loop (the reference's
    /// `client.use()`): timing, circuit breaking, budgets, metrics.
    #[must_use]
    pub fn middleware(mut self, middleware: impl Middleware + Send + Sync + 'static) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Calls `f` before every retry's sleep with the failed attempt, its
    /// failure kind and the delay chosen.
    #[must_use]
    pub fn on_retry(self, f: impl Fn(&RetryEvent) + Send + Sync + 'static) -> Self {
        self.middleware(tenace::on_retry(f))
    }

    /// Seeds the jitter of this client's calls, for reproducible delays
    /// (by default the seed mixes the time and a process-wide counter).
    ///
    /// The client's `k`-th call (from 0) draws its jitter from
    /// `SeededRng::new(s)`, where `s` is the `k + 1`-th output of
    /// `SeededRng::new(seed)`: each call has its own stream, and no call's
    /// stream is another's shifted by a few draws.
    #[must_use]
    pub const fn rng_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Replaces the transport settings (pool, limits, connector) at once.
    #[must_use]
    pub fn transport(mut self, transport: TransportBuilder) -> Self {
        self.transport = transport;
        self
    }

    /// The TLS configuration for `https` URLs (e.g. your own roots).
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.transport = self.transport.tls_config(config);
        self
    }

    /// Opens connections with `connect` instead of TCP; see
    /// [`TransportBuilder::connect_with`].
    #[must_use]
    pub fn connect_with<F, Fut, S>(mut self, connect: F) -> Self
    where
        F: Fn(Uri) -> Fut + Send + Sync + 'static,
        Fut: core::future::Future<Output = std::io::Result<S>> + Send + 'static,
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        self.transport = self.transport.connect_with(connect);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for a base URL without a scheme and a host,
    /// [`Error::InvalidRequest`] for an invalid default header, and (with
    /// `rustls`) [`Error::Tls`] if the TLS configuration cannot be built.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Some(base) = &self.base_url {
            let uri = Uri::try_from(base.as_str()).map_err(|e| Error::InvalidUrl(Box::new(e)))?;
            if uri.scheme().is_none() || uri.authority().is_none() {
                return Err(Error::InvalidUrl(Box::new(UrlError(
                    "the base URL needs a scheme and a host",
                ))));
            }
        }
        Ok(Client {
            inner: Arc::new(Inner {
                transport: self.transport.build()?,
                clock: TokioClock::new(),
                base_url: self.base_url,
                default_headers: self.default_headers,
                strategy: self.strategy,
                limits: self.limits,
                retry_on: self.retry_on,
                error_for_status: self.error_for_status,
                request_hooks: self.request_hooks,
                response_hooks: self.response_hooks,
                middleware: self.middleware,
                seeds: CallSeeds::new(self.seed.unwrap_or_else(fresh_seed)),
            }),
        })
    }
}

fn header_pair<K, V>(name: K, value: V) -> Result<(HeaderName, HeaderValue), Error>
where
    K: TryInto<HeaderName>,
    K::Error: Into<http::Error>,
    V: TryInto<HeaderValue>,
    V::Error: Into<http::Error>,
{
    let name = name
        .try_into()
        .map_err(|e| Error::InvalidRequest(Box::new(e.into())))?;
    let value = value
        .try_into()
        .map_err(|e| Error::InvalidRequest(Box::new(e.into())))?;
    Ok((name, value))
}

/// One request being built; [`send`](Self::send) runs it with the client's
/// policy, overridden by anything set here for this request only.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    client: Client,
    request: Result<Request, Error>,
    strategy: Option<StoredStrategy>,
    limits: Limits,
    retry_on: Option<SharedRetryOn>,
    transient: bool,
    error_for_status: bool,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("request", &self.request)
            .field("strategy", &self.strategy)
            .field("limits", &self.limits)
            .field("retry_transient_statuses", &self.transient)
            .field("error_for_status", &self.error_for_status)
            .finish_non_exhaustive()
    }
}

impl RequestBuilder {
    fn map(mut self, f: impl FnOnce(&mut Request) -> Result<(), Error>) -> Self {
        if let Ok(request) = &mut self.request
            && let Err(e) = f(request)
        {
            self.request = Err(e);
        }
        self
    }

    /// Sets a header, replacing any value of the same name (also a
    /// default header).
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: Into<http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        let pair = header_pair(name, value);
        self.map(|r| {
            let (k, v) = pair?;
            r.headers_mut().insert(k, v);
            Ok(())
        })
    }

    /// Sets every header in `headers`, replacing values of the same names.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.map(|r| {
            let mut last = None;
            for (name, value) in headers {
                let name = match name {
                    Some(n) => {
                        r.headers_mut().remove(&n);
                        last = Some(n.clone());
                        n
                    }
                    None => match &last {
                        Some(n) => n.clone(),
                        None => continue,
                    },
                };
                r.headers_mut().append(name, value);
            }
            Ok(())
        })
    }

    /// `Authorization: Bearer <token>`, marked sensitive. For a token that
    /// must be fetched on every attempt, use [`Auth`].
    pub fn bearer_auth(self, token: &str) -> Self {
        let value = HeaderValue::try_from(format!("Bearer {token}"));
        self.map(|r| {
            let mut value = value.map_err(|e| Error::InvalidRequest(Box::new(e)))?;
            value.set_sensitive(true);
            r.headers_mut().insert(http::header::AUTHORIZATION, value);
            Ok(())
        })
    }

    /// The body: anything that converts into [`Bytes`] (`Vec<u8>`,
    /// `String`, `&'static str`, `Bytes`). A body is kept whole so every
    /// attempt can send it again; a stream is not accepted:
    ///
    /// ```compile_fail
    /// # async fn f(client: tenace_hyper::Client) {
    /// let stream = http_body_util::Empty::<bytes::Bytes>::new();
    /// client.post("http://example.com/").body(stream); // a streaming body does not compile
    /// # }
    /// ```
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        self.map(|r| {
            r.set_body(body);
            Ok(())
        })
    }

    /// The body as JSON, with `Content-Type: application/json` unless set.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).map_err(|e| Error::InvalidRequest(Box::new(e)));
        self.map(|r| {
            r.set_body(body?);
            if !r.headers().contains_key(http::header::CONTENT_TYPE) {
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            Ok(())
        })
    }

    /// Sets `Idempotency-Key: key`, which makes the request safe to replay
    /// after a failure that may have reached the server (the server is
    /// expected to apply it once), as the same header set with
    /// [`header`](Self::header) does.
    pub fn idempotency_key<V>(self, key: V) -> Self
    where
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        self.header(IDEMPOTENCY_KEY, key)
    }

    /// Marks the request safe (`true`) or unsafe (`false`) to replay after
    /// a failure that may have reached the server, whatever its method and
    /// headers: `retry_safe(false)` keeps even a `GET` from being sent
    /// twice, and wins over an `Idempotency-Key` header.
    pub fn retry_safe(self, safe: bool) -> Self {
        self.map(|r| {
            r.set_retry_safe(safe);
            Ok(())
        })
    }

    /// The per-attempt timeout, for this request.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.attempt_timeout = Some(timeout);
        self
    }

    /// The whole call's deadline, for this request.
    pub const fn deadline(mut self, deadline: Duration) -> Self {
        self.limits.deadline = Some(deadline);
        self
    }

    /// Retries after the first attempt, for this request (the reference's
    /// `api.get(url, max_retries=5)`).
    pub const fn max_retries(mut self, n: u32) -> Self {
        self.limits.max_retries = n;
        self
    }

    /// The backoff strategy, for this request: one of tenace's or any
    /// [`RetryStrategy`] of your own (see
    /// [`ClientBuilder::retry_strategy`]).
    pub fn retry_strategy<S>(mut self, strategy: S) -> Self
    where
        S: RetryStrategy + Clone + Send + Sync + 'static,
    {
        self.strategy = Some(StoredStrategy::new(strategy));
        self
    }

    /// What to retry, for this request, instead of the client's predicate.
    /// With [`retry_transient_statuses`](Self::retry_transient_statuses),
    /// before or after, transient statuses are retried as well.
    pub fn retry_on(mut self, predicate: impl RetryOn<Error> + Send + Sync + 'static) -> Self {
        let predicate: SharedRetryOn = Arc::new(predicate);
        self.retry_on = Some(if self.transient {
            or_transient(predicate)
        } else {
            predicate
        });
        self
    }

    /// For this request, error statuses become errors and transient
    /// statuses (408, 429, 5xx but 501 and 505) are retried too, honouring
    /// `Retry-After`, on top of this request's [`retry_on`](Self::retry_on)
    /// or else the client's predicate.
    pub fn retry_transient_statuses(mut self) -> Self {
        if !self.transient {
            self.transient = true;
            let predicate = self
                .retry_on
                .take()
                .unwrap_or_else(|| Arc::clone(&self.client.inner.retry_on));
            self.retry_on = Some(or_transient(predicate));
        }
        self.error_for_status(true)
    }

    /// Whether a 4xx or 5xx response becomes [`Error::Status`] for this
    /// request (default: the client's
    /// [`error_for_status`](ClientBuilder::error_for_status)).
    pub const fn error_for_status(mut self, yes: bool) -> Self {
        self.error_for_status = yes;
        self
    }

    /// The request as built so far (headers, body, URL).
    ///
    /// # Errors
    /// The first error met while building (an invalid URL or header).
    pub fn build(self) -> Result<Request, Error> {
        self.request
    }

    /// Sends the request, retrying per the policy.
    ///
    /// # Errors
    /// A [`CallError`]: why the engine stopped
    /// ([`reason`](tenace::RetryError::reason)), after how many attempts,
    /// and the last [`Error`] as its `source()`. A request that could not be
    /// built fails with [`StopReason::NotRetryable`] after 0 attempts.
    #[allow(clippy::manual_async_fn)]
    pub fn send(self) -> impl Future<Output = Result<Response, CallError>> {
        async move {
            match self.request {
                Ok(request) => {
                    let overrides = Overrides {
                        strategy: self.strategy.as_ref(),
                        limits: self.limits,
                        retry_on: self.retry_on.as_ref(),
                        error_for_status: self.error_for_status,
                    };
                    self.client.call(request, overrides).await
                }
                Err(e) => Err(RetryError::new(StopReason::NotRetryable, 0, Some(e))),
            }
        }
    }
}
