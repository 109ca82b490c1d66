//! A retrying HTTP client without heap: base URL, default headers, policy,
//! interceptors, per-request overrides.
//!
//! The vocabulary is the hyper adapter's; what changes is where things live.
//! The base URL and default headers are borrowed (`&'a str`), the headers in
//! a list of fixed capacity `HEADERS`, the interceptors and middleware in
//! lists of capacity `HOOKS` (see the `hooks` module); each request joins
//! base URL and path into a `heapless::String<URL>` on the call's stack (a
//! URL that does not fit is an error, never a truncation); the response is
//! read into a buffer the caller passes to
//! [`RequestBuilder::send`](crate::RequestBuilder::send).

use core::fmt;
use core::time::Duration;

use heapless::{String, Vec};
use tenace::{AttemptContext, Backoff, Limits, Middleware, Policy, RetryOn, RetryStrategy};

use crate::error::{Error, RequestError};
use crate::head::check_header;
use crate::hooks::Hooks;
use crate::request::{Header, Method, Request};
use crate::request_builder::RequestBuilder;
use crate::response::Head;
use crate::retry_rule::RetryRule;
use crate::seed::{CallSeeds, SeedSource};

/// Joins `base` and `path` into a `String<N>`: `base` + `/` + `path`, with
/// exactly one slash between them. An absolute `path` (`http://...`,
/// `https://...`) replaces the base. Too long is an error.
///
/// ```
/// let url = tenace_embedded::join_url::<64>("http://10.0.0.2:8080/api/", "/v1/readings")?;
/// assert_eq!(url.as_str(), "http://10.0.0.2:8080/api/v1/readings");
/// assert_eq!(
///     tenace_embedded::join_url::<16>("http://10.0.0.2:8080", "/v1"),
///     Err(tenace_embedded::RequestError::UrlTooLong)
/// );
/// # Ok::<(), tenace_embedded::RequestError>(())
/// ```
///
/// # Errors
/// [`RequestError::UrlTooLong`] if the URL does not fit in `N` bytes.
pub fn join_url<const N: usize>(base: &str, path: &str) -> Result<String<N>, RequestError> {
    let mut url = String::new();
    let absolute = path.contains("://");
    let parts: [&str; 3] = if absolute || base.is_empty() {
        [path, "", ""]
    } else if path.is_empty() {
        [base, "", ""]
    } else {
        [
            base.trim_end_matches('/'),
            "/",
            path.trim_start_matches('/'),
        ]
    };
    for part in parts {
        url.push_str(part).map_err(|_| RequestError::UrlTooLong)?;
    }
    Ok(url)
}

/// A retrying HTTP client over a [`SendOnce`](crate::SendOnce) transport
/// `N` (usually an [`HttpTransport`](crate::HttpTransport)) with backoff
/// strategy `S`.
///
/// The capacities are const generics, chosen on the type as `heapless` does:
/// `URL` bytes for a joined URL (on the call's stack), `HEADERS` default
/// headers, `HOOKS` request interceptors, response interceptors and
/// middleware (of each kind). [`Client::builder`] gives the defaults;
/// [`ClientBuilder::new`] takes others.
///
/// Built with [`Client::builder`]; every builder call keeps the type but
/// [`retry_strategy`](ClientBuilder::retry_strategy). Calls take `&self`;
/// concurrent calls on one executor each need their own buffer.
///
/// ```no_run
/// # async fn demo(stack: &(impl embedded_nal_async::TcpConnect + embedded_nal_async::Dns), seed: u64) -> Result<(), tenace_embedded::RequestError> {
/// use core::time::Duration;
/// use tenace::ExponentialBackoff;
/// use tenace_embedded::{Client, HttpTransport};
///
/// let client = Client::builder(HttpTransport::new(stack, stack), seed) // seed: the hardware RNG's
///     .base_url("http://192.168.1.10:8080/api")
///     .default_header("X-Device", "sensor-7")
///     .max_retries(4)
///     .retry_strategy(ExponentialBackoff::new(Duration::from_millis(500), 2, Duration::from_secs(20)).unwrap().full_jitter())
///     .retry_transient_statuses() // 408, 429, 5xx but 501/505; Retry-After honoured
///     .build()?;
///
/// let mut buffer = [0u8; 1024];
/// let reading = br#"{"t":21.5}"#;
/// let response = client.post("/readings").body(reading).retry_safe(true).send(&mut buffer).await;
/// if let Ok(response) = client.get("/config").max_retries(8).send(&mut buffer).await {
///     let _ = (response.body(), response.attempts(), response.slept());
/// }
/// # Ok(()) }
/// ```
pub struct Client<
    'a,
    N,
    S = Backoff,
    const URL: usize = 256,
    const HEADERS: usize = 8,
    const HOOKS: usize = 4,
> {
    pub(crate) network: N,
    pub(crate) base_url: &'a str,
    pub(crate) default_headers: Vec<Header<'a>, HEADERS>,
    pub(crate) policy: Policy<S, RetryRule<'a>>,
    pub(crate) hooks: Hooks<'a, HOOKS>,
    pub(crate) error_for_status: bool,
    pub(crate) seeds: CallSeeds,
}

impl<N: fmt::Debug, S: fmt::Debug, const URL: usize, const HEADERS: usize, const HOOKS: usize>
    fmt::Debug for Client<'_, N, S, URL, HEADERS, HOOKS>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be secrets (`Authorization`): names only.
        let mut names = Vec::<&str, HEADERS>::new();
        for (name, _) in &self.default_headers {
            let _ = names.push(name);
        }
        f.debug_struct("Client")
            .field("network", &self.network)
            .field("base_url", &crate::request::redact_url(self.base_url))
            .field("default_headers", &names)
            .field("policy", &self.policy)
            .field("hooks", &self.hooks)
            .field("error_for_status", &self.error_for_status)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]; see [`Client::builder`]. Settings that can be
/// wrong (a header, the base URL, one hook too many) are checked by
/// [`build`](Self::build).
///
/// Every call keeps the builder's type except
/// [`retry_strategy`](Self::retry_strategy) with a strategy of another type:
/// each call clones the strategy to keep its own state in the clone (the
/// previous delay of decorrelated jitter), which needs a sized value, and
/// without a heap that value's type is part of the client's.
pub struct ClientBuilder<
    'a,
    N,
    S = Backoff,
    const URL: usize = 256,
    const HEADERS: usize = 8,
    const HOOKS: usize = 4,
> {
    client: Client<'a, N, S, URL, HEADERS, HOOKS>,
    error: Option<RequestError>,
}

impl<N: fmt::Debug, S: fmt::Debug, const URL: usize, const HEADERS: usize, const HOOKS: usize>
    fmt::Debug for ClientBuilder<'_, N, S, URL, HEADERS, HOOKS>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client", &self.client)
            .field("error", &self.error)
            .finish()
    }
}

impl<'a, N> Client<'a, N> {
    /// A builder for a client over `network` whose jitter is seeded from
    /// `seed` (a `u64`, or `&mut rng` for any `rand_core` 0.10 generator;
    /// see [`SeedSource`]), with the default capacities (256-byte URLs,
    /// 8 default headers, 4 hooks of each kind).
    ///
    /// The seed is required: clients that share one retry in lockstep, so
    /// take it from the hardware RNG, or from something that differs per
    /// device. The default policy is [`Policy::default`]'s: 3 retries,
    /// exponential backoff with full jitter, transport failures only. No
    /// base URL (request paths are full URLs), no default headers.
    ///
    /// For other capacities, name them on the builder's type:
    /// `ClientBuilder::<_, _, 128, 4>::new(network, seed)`.
    ///
    /// Without a seed there is no client:
    ///
    /// ```compile_fail
    /// # fn demo(stack: &(impl embedded_nal_async::TcpConnect + embedded_nal_async::Dns)) {
    /// use tenace_embedded::{Client, HttpTransport};
    /// let client = Client::builder(HttpTransport::new(stack, stack)).build();
    /// # }
    /// ```
    pub fn builder(network: N, seed: impl SeedSource) -> ClientBuilder<'a, N> {
        ClientBuilder::new(network, seed)
    }
}

impl<'a, N, const URL: usize, const HEADERS: usize, const HOOKS: usize>
    ClientBuilder<'a, N, Backoff, URL, HEADERS, HOOKS>
{
    /// As [`Client::builder`], with the capacities of the type:
    /// `ClientBuilder::<_, _, 128, 4, 2>::new(network, seed)` builds a
    /// client with 128-byte URLs, 4 default headers and 2 hooks of each
    /// kind.
    pub fn new(network: N, seed: impl SeedSource) -> Self {
        Self {
            client: Client {
                network,
                base_url: "",
                default_headers: Vec::new(),
                policy: Policy::default().retry_on(RetryRule::new()),
                hooks: Hooks::new(),
                error_for_status: false,
                seeds: CallSeeds::new(seed.into_seed()),
            },
            error: None,
        }
    }
}

impl<'a, N, S, const URL: usize, const HEADERS: usize, const HOOKS: usize>
    ClientBuilder<'a, N, S, URL, HEADERS, HOOKS>
{
    fn fail(mut self, e: RequestError) -> Self {
        self.error.get_or_insert(e);
        self
    }

    /// The base URL request paths are joined to.
    #[must_use]
    pub fn base_url(mut self, base_url: &'a str) -> Self {
        if !base_url.is_empty() && nourl::Url::parse(base_url).is_err() {
            return self.fail(RequestError::InvalidUrl);
        }
        if base_url.len() > URL {
            return self.fail(RequestError::UrlTooLong);
        }
        self.client.base_url = base_url;
        self
    }

    /// Adds a header sent with every request (unless the request has its
    /// own of that name).
    #[must_use]
    pub fn default_header(mut self, name: &'a str, value: &'a str) -> Self {
        if let Err(e) = check_header((name, value)) {
            return self.fail(e);
        }
        if self.client.default_headers.push((name, value)).is_err() {
            return self.fail(RequestError::TooManyHeaders);
        }
        self
    }

    /// Retries after the first attempt (3 means up to four attempts).
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.client.policy = self.client.policy.max_retries(n);
        self
    }

    /// The backoff strategy: a built-in one ([`Backoff`] or any of its
    /// variants' types) or the user's own [`RetryStrategy`].
    ///
    /// The one builder call that may change the type: each call clones the
    /// strategy and keeps its per-call state in the clone, which takes a
    /// sized value of the strategy's type; without a heap to box it, that
    /// type is a parameter of the client.
    pub fn retry_strategy<S2: RetryStrategy + Clone>(
        self,
        strategy: S2,
    ) -> ClientBuilder<'a, N, S2, URL, HEADERS, HOOKS> {
        let Self { client, error } = self;
        ClientBuilder {
            client: Client {
                network: client.network,
                base_url: client.base_url,
                default_headers: client.default_headers,
                policy: client.policy.with_strategy(strategy),
                hooks: client.hooks,
                error_for_status: client.error_for_status,
                seeds: client.seeds,
            },
            error,
        }
    }

    /// An overall deadline per call, retries and backoff included.
    #[must_use]
    pub fn deadline(mut self, d: Duration) -> Self {
        self.client.policy = self.client.policy.deadline(d);
        self
    }

    /// A timeout per attempt, on top of the transport's phase timeouts.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.client.policy = self.client.policy.attempt_timeout(d);
        self
    }

    /// The longest a `Retry-After` may make a call wait (default: the
    /// strategy's maximum delay).
    #[must_use]
    pub fn retry_after_cap(mut self, cap: Duration) -> Self {
        self.client.policy = self.client.policy.retry_after_cap(cap);
        self
    }

    /// All numeric limits at once (retries, deadline, per-attempt timeout,
    /// `Retry-After` handling).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.client.policy = self.client.policy.with_limits(limits);
        self
    }

    /// Whether 4xx and 5xx responses are errors (default `false`, as in the
    /// reference: a status is a response unless asked). With `true`, a
    /// predicate such as [`TransientErrors`](tenace::TransientErrors) can
    /// retry 429 and 503, honouring `Retry-After`.
    #[must_use]
    pub fn error_for_status(mut self, yes: bool) -> Self {
        self.client.error_for_status = yes;
        self
    }

    /// Whether `Retry-After` may lengthen a delay (default: yes).
    #[must_use]
    pub fn honor_retry_after(mut self, yes: bool) -> Self {
        self.client.policy = self.client.policy.honor_retry_after(yes);
        self
    }

    /// The opt-in status policy: 4xx and 5xx become errors, and transient
    /// statuses (408, 429, 5xx but 501 and 505) are retried along with
    /// transport failures, waiting at least what `Retry-After` asks, capped.
    /// Adds to a predicate given to [`retry_on`](Self::retry_on), before or
    /// after (see [`RetryRule`]).
    #[must_use]
    pub fn retry_transient_statuses(mut self) -> Self {
        self.client.error_for_status = true;
        let rule = self.client.policy.predicate().with_transient_statuses();
        self.client.policy = self.client.policy.retry_on(rule);
        self
    }

    /// The retry predicate: a closure `&|e: &Error| -> bool`, or one of
    /// tenace's ([`TransientErrors`](tenace::TransientErrors),
    /// [`Never`](tenace::Never), any [`RetryOn`]), borrowed for the client's
    /// life. It replaces the default (transport failures) and adds to
    /// [`retry_transient_statuses`](Self::retry_transient_statuses); a second
    /// call replaces the first predicate (combine several with
    /// [`RetryOn::or`]).
    #[must_use]
    pub fn retry_on(mut self, predicate: &'a dyn RetryOn<Error>) -> Self {
        let rule = self.client.policy.predicate().with_predicate(predicate);
        self.client.policy = self.client.policy.retry_on(rule);
        self
    }

    /// Adds a request interceptor, run on each attempt's copy of the request
    /// after those added before it. An error ends the attempt and is
    /// classified like a transport error.
    #[must_use]
    pub fn request_interceptor<F>(mut self, interceptor: &'a F) -> Self
    where
        F: for<'x> Fn(&mut Request<'x>, &AttemptContext) -> Result<(), Error>,
    {
        if self.client.hooks.request.0.push(interceptor).is_err() {
            return self.fail(RequestError::TooManyHooks);
        }
        self
    }

    /// Adds a response interceptor, run on each response head after those
    /// added before it; one may turn a response into an error.
    #[must_use]
    pub fn response_interceptor<F>(mut self, interceptor: &'a F) -> Self
    where
        F: Fn(Head, &AttemptContext) -> Result<Head, Error>,
    {
        if self.client.hooks.response.0.push(interceptor).is_err() {
            return self.fail(RequestError::TooManyHooks);
        }
        self
    }

    /// Adds a middleware around each call (timing, a circuit breaker, a
    /// budget, a hook on every retry), called after those added before it.
    #[must_use]
    pub fn middleware<M: Middleware>(mut self, middleware: &'a M) -> Self {
        if self.client.hooks.middleware.0.push(middleware).is_err() {
            return self.fail(RequestError::TooManyHooks);
        }
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// The first problem found: an invalid base URL or header, too many
    /// headers or hooks, a base URL longer than the URL capacity.
    pub fn build(self) -> Result<Client<'a, N, S, URL, HEADERS, HOOKS>, RequestError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.client),
        }
    }
}

impl<'a, N, S: Clone, const URL: usize, const HEADERS: usize, const HOOKS: usize>
    Client<'a, N, S, URL, HEADERS, HOOKS>
{
    /// A request with this method; `path` is joined to the base URL (or
    /// replaces it if absolute).
    pub fn request<'r>(&self, method: Method, path: &'r str) -> RequestBuilder<'_, 'r, Self, S> {
        RequestBuilder::new(
            self,
            method,
            path,
            self.policy.clone(),
            self.error_for_status,
        )
    }

    /// A `GET`.
    pub fn get<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, S> {
        self.request(Method::GET, path)
    }

    /// A `POST` (not retried after a failure that may have reached the
    /// server, unless marked [`retry_safe`](RequestBuilder::retry_safe) or
    /// carrying an `Idempotency-Key` header).
    pub fn post<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, S> {
        self.request(Method::POST, path)
    }

    /// A `PUT`.
    pub fn put<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, S> {
        self.request(Method::PUT, path)
    }

    /// A `PATCH` (not idempotent).
    pub fn patch<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, S> {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE`.
    pub fn delete<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, S> {
        self.request(Method::DELETE, path)
    }

    /// A `HEAD`.
    pub fn head<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, S> {
        self.request(Method::HEAD, path)
    }
}

impl<'a, N, S, const URL: usize, const HEADERS: usize, const HOOKS: usize>
    Client<'a, N, S, URL, HEADERS, HOOKS>
{
    /// The transport.
    pub const fn network(&self) -> &N {
        &self.network
    }

    /// The client's policy (requests start from a copy of it).
    pub const fn policy(&self) -> &Policy<S, RetryRule<'a>> {
        &self.policy
    }

    /// The base URL.
    pub const fn base_url(&self) -> &'a str {
        self.base_url
    }

    /// The default headers.
    pub fn default_headers(&self) -> &[Header<'a>] {
        &self.default_headers
    }

    /// Whether 4xx and 5xx responses are errors by default.
    pub const fn error_for_status(&self) -> bool {
        self.error_for_status
    }

    /// How many request interceptors, response interceptors and middleware
    /// the client runs.
    pub fn hooks(&self) -> (usize, usize, usize) {
        (
            self.hooks.request.0.len(),
            self.hooks.response.0.len(),
            self.hooks.middleware.0.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_one_slash() {
        let j = |b, p| join_url::<64>(b, p).map(|s| s.as_str().len());
        assert_eq!(
            join_url::<64>("http://h/api/", "/x").as_deref(),
            Ok("http://h/api/x")
        );
        assert_eq!(
            join_url::<64>("http://h/api", "x").as_deref(),
            Ok("http://h/api/x")
        );
        assert_eq!(join_url::<64>("http://h", "").as_deref(), Ok("http://h"));
        assert_eq!(
            join_url::<64>("", "http://o/p").as_deref(),
            Ok("http://o/p")
        );
        assert_eq!(
            join_url::<64>("http://h/api", "https://o/p").as_deref(),
            Ok("https://o/p")
        );
        // Exactly full fits; one byte more is an error, never a truncation.
        assert_eq!(j("http://h", "/abc"), Ok(12));
        assert_eq!(
            join_url::<12>("http://h", "/abc").as_deref(),
            Ok("http://h/abc")
        );
        assert_eq!(
            join_url::<11>("http://h", "/abc"),
            Err(RequestError::UrlTooLong)
        );
    }
}
