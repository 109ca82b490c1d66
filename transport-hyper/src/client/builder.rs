//! [`ClientBuilder`]: a client's settings and their defaults.

use core::fmt;
use core::num::NonZeroUsize;
use core::time::Duration;
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Uri};
use tenace::{
    AttemptContext, Hedge, Limits, Middleware, RetryBudget, RetryEvent, RetryOn, RetryStrategy,
    TokioClock,
};

use super::middleware::SharedMiddleware;
use super::request_builder::header_pair;
use super::url::RedactedBase;
use super::{Client, ClientHedge, Inner, client_hedge};
use crate::budget::BudgetSetting;
use crate::error::{Error, UrlError};
use crate::interceptor::{
    AsyncRequestInterceptor, AsyncResponseInterceptor, Auth, RequestHook, RequestHookList,
    ResponseHook, ResponseHookList,
};
use crate::predicate::Retrying;
use crate::request::Request;
use crate::response::Response;
use crate::seed::{CallSeeds, fresh_seed};
use crate::strategy::StoredStrategy;
use crate::transport_builder::TransportBuilder;
use crate::wall_clock::WallClock;

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
/// | [`replay_buffer_limit`](Self::replay_buffer_limit) | 256 KiB of a streaming request body kept for a retry |
/// | [`error_for_status`](Self::error_for_status) | off: a 500 is a response |
/// | [`retry_budget`](Self::retry_budget) | one per host, shared by clones: 10 tokens, 1/10 back per success |
/// | [`retry_budget_max_hosts`](Self::retry_budget_max_hosts) | 256 hosts |
/// | [`http2_prior_knowledge`](Self::http2_prior_knowledge), [`http1_only`](Self::http1_only) | neither: HTTP/2 where TLS's ALPN picks it, else HTTP/1.1 |
/// | [`hedge`](Self::hedge) | off |
pub struct ClientBuilder {
    transport: TransportBuilder,
    base_url: Option<String>,
    default_headers: HeaderMap,
    strategy: StoredStrategy,
    limits: Limits,
    retrying: Retrying,
    request_hooks: RequestHookList,
    response_hooks: ResponseHookList,
    middleware: Vec<SharedMiddleware>,
    budget: BudgetSetting,
    hedge: Option<ClientHedge>,
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
            .field("retry_transient_statuses", &self.retrying.transient)
            .field("error_for_status", &self.retrying.error_for_status)
            .field("retry_budget", &self.budget)
            .field("hedge", &self.hedge)
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
            retrying: Retrying::new(Arc::new(tenace::NetworkErrors)),
            request_hooks: RequestHookList::default(),
            response_hooks: ResponseHookList::default(),
            middleware: Vec::new(),
            budget: BudgetSetting::default(),
            hedge: None,
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
    /// included. An attempt past it fails with
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

    /// How many bytes of a streaming request body ([`Body::stream`](crate::Body::stream))
    /// are kept for a retry (default 256 KiB,
    /// [`DEFAULT_REPLAY_BUFFER_LIMIT`](crate::DEFAULT_REPLAY_BUFFER_LIMIT));
    /// a body that streams past it is sent once, and a failure after that
    /// ends the call with [`Error::BodyNotReplayable`](crate::Error::BodyNotReplayable).
    #[must_use]
    pub fn replay_buffer_limit(mut self, limit: usize) -> Self {
        self.transport = self.transport.replay_buffer_limit(limit);
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

    /// What to retry: a closure
    /// `|e: &tenace_hyper::Error| -> bool` or one of tenace's predicates
    /// ([`NetworkErrors`](tenace::NetworkErrors), the default;
    /// [`TransientErrors`](tenace::TransientErrors);
    /// [`Never`](tenace::Never)). Replaces an earlier `retry_on`; with
    /// [`retry_transient_statuses`](Self::retry_transient_statuses), before
    /// or after, transient statuses are retried as well.
    #[must_use]
    pub fn retry_on(mut self, predicate: impl RetryOn<Error> + Send + Sync + 'static) -> Self {
        self.retrying.retry_on(Arc::new(predicate));
        self
    }

    /// Whether a response with a 4xx or 5xx status becomes
    /// [`Error::Status`], which the retry predicate sees. It runs after the
    /// response interceptors. Default: off.
    #[must_use]
    pub const fn error_for_status(mut self, yes: bool) -> Self {
        self.retrying.error_for_status = yes;
        self
    }

    /// The opt-in status policy: error statuses become errors and
    /// transport failures plus transient statuses are retried (408, 429,
    /// and 5xx except 501 and 505), waiting at least what the server asks
    /// (`Retry-After` and the rate-limit fields, see
    /// [`retry_after_from_headers`](crate::retry_after_from_headers)); a
    /// wait past [`retry_after_cap`](Self::retry_after_cap) or the deadline
    /// stops the call with
    /// [`StopReason::ServerWait`](tenace::StopReason::ServerWait).
    ///
    /// It adds to the predicate set with [`retry_on`](Self::retry_on),
    /// whichever is called first: an error is retried if either says so.
    #[must_use]
    pub fn retry_transient_statuses(mut self) -> Self {
        self.retrying.transient_statuses();
        self
    }

    /// Whether the server's delay hint counts (default: yes).
    #[must_use]
    pub const fn honor_retry_after(mut self, yes: bool) -> Self {
        self.limits.honor_retry_after = yes;
        self
    }

    /// The longest wait the server's hint may ask for (default
    /// [`DEFAULT_RETRY_AFTER_CAP`](tenace::DEFAULT_RETRY_AFTER_CAP), 300 s);
    /// a longer one stops the call at once with
    /// [`StopReason::ServerWait`](tenace::StopReason::ServerWait).
    #[must_use]
    pub const fn retry_after_cap(mut self, cap: Duration) -> Self {
        self.limits.retry_after_cap = cap;
        self
    }

    /// Adds a synchronous request interceptor, run on a fresh copy of the
    /// request before every attempt.
    #[must_use]
    pub fn request_interceptor<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Request, AttemptContext) -> Result<(), Error> + Send + Sync + 'static,
    {
        self.request_hooks.each.push(RequestHook::Sync(Arc::new(f)));
        self
    }

    /// Adds a request interceptor that awaits, run before every attempt.
    #[must_use]
    pub fn async_request_interceptor(mut self, interceptor: impl AsyncRequestInterceptor) -> Self {
        self.request_hooks
            .each
            .push(RequestHook::Async(Arc::new(interceptor)));
        self
    }

    /// Adds a synchronous request interceptor run once per call: on the
    /// call's request, before the call starts (before a circuit breaker's
    /// admission, the deadline's clock and the per-attempt interceptors),
    /// so every attempt, each retry included, is sent with its changes.
    /// For a metric of requests made, a log line, or one
    /// `Idempotency-Key` minted per call (which also makes the request safe
    /// to replay). It is told attempt 1 at zero elapsed time. An error ends
    /// the call before any attempt, with
    /// [`StopReason::NotRetryable`](tenace::StopReason::NotRetryable), and
    /// is not retried.
    ///
    /// ```no_run
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// static CALLS: AtomicU64 = AtomicU64::new(0);
    /// let client = tenace_hyper::Client::builder()
    ///     .request_interceptor_once(|_request, _cx| {
    ///         CALLS.fetch_add(1, Ordering::Relaxed); // once per call, not per retry
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// # Ok::<(), tenace_hyper::Error>(())
    /// ```
    #[must_use]
    pub fn request_interceptor_once<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Request, AttemptContext) -> Result<(), Error> + Send + Sync + 'static,
    {
        self.request_hooks.once.push(RequestHook::Sync(Arc::new(f)));
        self
    }

    /// Adds a request interceptor that awaits, run once per call; see
    /// [`request_interceptor_once`](Self::request_interceptor_once).
    #[must_use]
    pub fn async_request_interceptor_once(
        mut self,
        interceptor: impl AsyncRequestInterceptor,
    ) -> Self {
        self.request_hooks
            .once
            .push(RequestHook::Async(Arc::new(interceptor)));
        self
    }

    /// Adds an [`Auth`] interceptor: its token provider is awaited on every
    /// attempt.
    #[must_use]
    pub fn auth(self, auth: Auth) -> Self {
        self.async_request_interceptor(auth)
    }

    /// Adds a synchronous response interceptor, run on every attempt's
    /// response.
    #[must_use]
    pub fn response_interceptor<F>(mut self, f: F) -> Self
    where
        F: Fn(Response, AttemptContext) -> Result<Response, Error> + Send + Sync + 'static,
    {
        self.response_hooks
            .each
            .push(ResponseHook::Sync(Arc::new(f)));
        self
    }

    /// Adds a response interceptor that awaits, run on every attempt's
    /// response.
    #[must_use]
    pub fn async_response_interceptor(
        mut self,
        interceptor: impl AsyncResponseInterceptor,
    ) -> Self {
        self.response_hooks
            .each
            .push(ResponseHook::Async(Arc::new(interceptor)));
        self
    }

    /// Adds a synchronous response interceptor that sees only the response
    /// the call returns: after the per-attempt interceptors and the status
    /// check accepted it, never a response that led to another attempt,
    /// and never a call that ends in an error (middleware's `after_call`
    /// sees every ending). Its context names the final attempt, with the
    /// time from the call's start to the response. It runs after the
    /// attempt, outside its timeout. It may replace the response; an error
    /// ends the call with
    /// [`StopReason::NotRetryable`](tenace::StopReason::NotRetryable),
    /// unretried.
    ///
    /// ```no_run
    /// let client = tenace_hyper::Client::builder()
    ///     .retry_transient_statuses()
    ///     .response_interceptor_final(|response, cx| {
    ///         // One line per call, with the attempts it took.
    ///         println!("{} after {} attempt(s)", response.status(), cx.attempt);
    ///         Ok(response)
    ///     })
    ///     .build()?;
    /// # Ok::<(), tenace_hyper::Error>(())
    /// ```
    #[must_use]
    pub fn response_interceptor_final<F>(mut self, f: F) -> Self
    where
        F: Fn(Response, AttemptContext) -> Result<Response, Error> + Send + Sync + 'static,
    {
        self.response_hooks
            .last
            .push(ResponseHook::Sync(Arc::new(f)));
        self
    }

    /// Adds a response interceptor that awaits and sees only the response
    /// the call returns; see
    /// [`response_interceptor_final`](Self::response_interceptor_final).
    #[must_use]
    pub fn async_response_interceptor_final(
        mut self,
        interceptor: impl AsyncResponseInterceptor,
    ) -> Self {
        self.response_hooks
            .last
            .push(ResponseHook::Async(Arc::new(interceptor)));
        self
    }

    /// Adds middleware around the whole retry loop: timing, circuit breaking, budgets, metrics.
    #[must_use]
    pub fn middleware(mut self, middleware: impl Middleware + Send + Sync + 'static) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// The parameters of each host's retry budget: every host gets a full
    /// bucket of `template`'s [`max_tokens`](RetryBudget::max_tokens) and
    /// [`token_ratio`](RetryBudget::token_ratio) (its current tokens are
    /// not copied). Default: 10 tokens and a tenth of a token back per
    /// success ([`DEFAULT_RETRY_BUDGET_TOKENS`](crate::DEFAULT_RETRY_BUDGET_TOKENS),
    /// [`DEFAULT_RETRY_BUDGET_RATIO`](crate::DEFAULT_RETRY_BUDGET_RATIO)),
    /// the values of gRPC's retry-throttling example. Replaces
    /// [`shared_retry_budget`](Self::shared_retry_budget) and
    /// [`no_retry_budget`](Self::no_retry_budget).
    ///
    /// # The per-host budget
    ///
    /// A client keeps one [`RetryBudget`] per host (scheme, host and port),
    /// shared by all its clones, as gRPC keeps one retry throttle per
    /// server for all the calls of a channel and Envoy one retry budget per
    /// upstream cluster: a budget bounds an outage's load to about
    /// `1 + (max_tokens / 2) / calls` attempts per call only when it sees
    /// many calls. Each call charges and consults its host's bucket by the
    /// rule in [`tenace::budget`]: a failure that signals trouble takes a
    /// token, a success puts back `token_ratio`, and a retry is allowed
    /// only while the bucket holds more than half of `max_tokens`; a
    /// refused retry ends the call with
    /// [`StopReason::Budget`](tenace::StopReason::Budget). A host's budget
    /// is [`Client::retry_budget`], for metrics.
    ///
    /// Only attempts this client classifies as failures count: by default a
    /// `503` is a response and refunds like any success; with
    /// [`retry_transient_statuses`](Self::retry_transient_statuses) it
    /// costs a token.
    ///
    /// ```
    /// use tenace::RetryBudget;
    /// // 100 tokens, a fifth of a token back per success.
    /// let client = tenace_hyper::Client::builder()
    ///     .retry_budget(RetryBudget::new(100, 1, 5)?)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn retry_budget(mut self, template: RetryBudget) -> Self {
        let max_hosts = match self.budget {
            BudgetSetting::PerHost { max_hosts, .. } => max_hosts,
            _ => crate::DEFAULT_RETRY_BUDGET_MAX_HOSTS,
        };
        self.budget = BudgetSetting::PerHost {
            max_tokens: template.max_tokens(),
            ratio: template.token_ratio(),
            max_hosts,
        };
        self
    }

    /// How many hosts the client keeps a budget for (default
    /// [`DEFAULT_RETRY_BUDGET_MAX_HOSTS`](crate::DEFAULT_RETRY_BUDGET_MAX_HOSTS),
    /// 256). A new host past the bound first drops every full bucket no
    /// call is using (it holds nothing a fresh one would not), or else the
    /// least recently used host's: a host dropped while failing starts
    /// again with a full bucket. Turns the per-host budget on with its
    /// current (or default) parameters.
    #[must_use]
    pub fn retry_budget_max_hosts(mut self, max_hosts: NonZeroUsize) -> Self {
        let (max_tokens, ratio) = match self.budget {
            BudgetSetting::PerHost {
                max_tokens, ratio, ..
            } => (max_tokens, ratio),
            BudgetSetting::Shared(_) | BudgetSetting::Off => (
                crate::DEFAULT_RETRY_BUDGET_TOKENS,
                crate::DEFAULT_RETRY_BUDGET_RATIO,
            ),
        };
        self.budget = BudgetSetting::PerHost {
            max_tokens,
            ratio,
            max_hosts,
        };
        self
    }

    /// One retry budget for every host this client calls, instead of one
    /// per host: `budget` itself, which other clients may share too (one
    /// budget for a process). Replaces
    /// [`retry_budget`](Self::retry_budget) and
    /// [`no_retry_budget`](Self::no_retry_budget).
    #[must_use]
    pub fn shared_retry_budget(mut self, budget: Arc<RetryBudget>) -> Self {
        self.budget = BudgetSetting::Shared(budget);
        self
    }

    /// No retry budget: every call retries up to
    /// [`max_retries`](Self::max_retries) whatever the others see, as with
    /// a budget of your own passed to [`middleware`](Self::middleware).
    /// Replaces [`retry_budget`](Self::retry_budget) and
    /// [`shared_retry_budget`](Self::shared_retry_budget).
    #[must_use]
    pub fn no_retry_budget(mut self) -> Self {
        self.budget = BudgetSetting::Off;
        self
    }

    /// Hedges every call: after the hedge's delay without an answer, or at
    /// once after a failure the predicate retries, up to `hedge.extra()`
    /// more copies of the request run side by side (at most
    /// [`MAX_HEDGES`](crate::MAX_HEDGES); more are capped), and the
    /// first answer wins; the others are cancelled. A request that is not
    /// replay-safe (a `POST` without an `Idempotency-Key`, one marked
    /// [`retry_safe(false)`](crate::RequestBuilder::retry_safe)) is never
    /// hedged. Instead of retrying: `max_retries` and the backoff do not
    /// apply to a hedged call, the deadline, the per-attempt timeout and the
    /// predicate do, and the retry budget is asked for every copy past the
    /// first. See [`tenace::hedge`](mod@tenace::hedge) for the rules, and
    /// [`RequestBuilder::hedge`](crate::RequestBuilder::hedge) for one
    /// request. A hedged call allocates its copies' futures in one box.
    ///
    /// ```no_run
    /// # use core::time::Duration;
    /// use tenace::Hedge;
    /// let client = tenace_hyper::Client::builder()
    ///     .hedge(Hedge::<2>::after(Duration::from_millis(50)))
    ///     .build()?;
    /// # Ok::<(), tenace_hyper::Error>(())
    /// ```
    #[must_use]
    pub fn hedge<const N: usize>(mut self, hedge: Hedge<N>) -> Self {
        self.hedge = Some(client_hedge(hedge));
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

    /// Speaks HTTP/2 on every connection without negotiating it: h2c to
    /// cleartext servers known to speak HTTP/2, and only `h2` offered by
    /// ALPN over TLS. Without it the client uses HTTP/2 where TLS's ALPN
    /// picks it (the `rustls` feature) and HTTP/1.1 elsewhere. See
    /// [`TransportBuilder::http2_prior_knowledge`].
    #[must_use]
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.transport = self.transport.http2_prior_knowledge();
        self
    }

    /// Speaks HTTP/1.1 on every connection, offering only `http/1.1` by
    /// ALPN over TLS. See [`TransportBuilder::http1_only`].
    #[must_use]
    pub fn http1_only(mut self) -> Self {
        self.transport = self.transport.http1_only();
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
        let clock = TokioClock::new();
        Ok(Client {
            inner: Arc::new(Inner {
                transport: self.transport.build()?,
                clock,
                wall: WallClock::new(clock),
                base_url: self.base_url,
                default_headers: self.default_headers,
                strategy: self.strategy,
                limits: self.limits,
                retry_on: self.retrying.predicate,
                error_for_status: self.retrying.error_for_status,
                request_hooks: self.request_hooks,
                response_hooks: self.response_hooks,
                middleware: self.middleware,
                budgets: self.budget.build(),
                seeds: CallSeeds::new(self.seed.unwrap_or_else(fresh_seed)),
                hedge: self.hedge,
            }),
        })
    }
}
