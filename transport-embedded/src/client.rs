//! A retrying HTTP client without heap: base URL, default headers, policy,
//! interceptors, per-request overrides.
//!
//! The vocabulary is the hyper adapter's; what changes is where things live.
//! The base URL and default headers are borrowed (`&'a str`), the headers in
//! a list of fixed capacity `HEADERS`; each request joins base URL and path
//! into a `heapless::String<URL>` on the call's stack (a URL that does not
//! fit is an error, never a truncation); the response is read into a buffer
//! the caller passes to [`RequestBuilder::send`].

use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::time::Duration;

use heapless::{String, Vec};
use tenace::rand_core::Rng;
use tenace::{
    Backoff, Middleware, NetworkErrors, Pipeline, Policy, RequestInterceptor, ResponseInterceptor,
    RetryError, RetryOn, SeededRng, StopReason, TransientErrors,
};

use crate::error::{Error, RequestError};
use crate::request::{Header, Method, Request, check_header};
use crate::response::{Head, Response};
use crate::transport::{Buffered, SendOnce};

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

/// A retrying HTTP client over a [`SendOnce`] transport `N` (usually an
/// [`HttpTransport`](crate::HttpTransport)), with retry predicate `P` and
/// pipeline `X` (interceptors and middleware, see [`Pipeline`]). `URL` is
/// the capacity of a joined URL, `HEADERS` of the default header list.
///
/// Built with [`Client::builder`]. Calls take `&self`; concurrent calls on
/// one executor each need their own buffer.
///
/// ```no_run
/// # async fn demo(stack: &(impl embedded_nal_async::TcpConnect + embedded_nal_async::Dns)) -> Result<(), tenace_embedded::Error> {
/// use core::time::Duration;
/// use tenace::ExponentialBackoff;
/// use tenace_embedded::{Client, HttpTransport};
///
/// let client = Client::builder(HttpTransport::new(stack, stack))
///     .base_url("http://192.168.1.10:8080/api")
///     .default_header("X-Device", "sensor-7")
///     .max_retries(4)
///     .retry_strategy(ExponentialBackoff::new(Duration::from_millis(500), 2, Duration::from_secs(20)).unwrap().full_jitter())
///     .retry_transient_statuses() // 408, 429, 5xx but 501/505; Retry-After honoured
///     .rng_seed(0x1234_5678) // from the hardware RNG
///     .build()?;
///
/// let mut buffer = [0u8; 1024];
/// let reading = br#"{"t":21.5}"#;
/// let response = client.post("/readings").body(reading).retry_safe(true).send(&mut buffer).await;
/// let response = client.get("/config").max_retries(8).send(&mut buffer).await;
/// # Ok(()) }
/// ```
pub struct Client<
    'a,
    N,
    P = NetworkErrors,
    X = Pipeline,
    const URL: usize = 256,
    const HEADERS: usize = 8,
> {
    network: N,
    base_url: &'a str,
    default_headers: Vec<Header<'a>, HEADERS>,
    policy: Policy<Backoff, P>,
    pipeline: X,
    error_for_status: bool,
    rng: Cell<SeededRng>,
}

impl<N: fmt::Debug, P: fmt::Debug, X: fmt::Debug, const URL: usize, const HEADERS: usize> fmt::Debug
    for Client<'_, N, P, X, URL, HEADERS>
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
            .field("pipeline", &self.pipeline)
            .field("error_for_status", &self.error_for_status)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]; see [`Client::builder`]. Settings that can be
/// wrong (a header, the base URL) are checked by [`build`](Self::build).
pub struct ClientBuilder<
    'a,
    N,
    P = NetworkErrors,
    X = Pipeline,
    const URL: usize = 256,
    const HEADERS: usize = 8,
> {
    client: Client<'a, N, P, X, URL, HEADERS>,
    error: Option<RequestError>,
}

impl<N: fmt::Debug, P: fmt::Debug, X: fmt::Debug, const URL: usize, const HEADERS: usize> fmt::Debug
    for ClientBuilder<'_, N, P, X, URL, HEADERS>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client", &self.client)
            .field("error", &self.error)
            .finish()
    }
}

impl<'a, N> Client<'a, N> {
    /// A builder for a client over `network`, with the default policy
    /// ([`Policy::default`]: 3 retries, exponential backoff with full
    /// jitter, network errors only), no base URL (request paths are full
    /// URLs), no default headers, a 256-byte URL and room for 8 default
    /// headers (see [`ClientBuilder::capacity`]).
    pub fn builder(network: N) -> ClientBuilder<'a, N> {
        ClientBuilder {
            client: Self {
                network,
                base_url: "",
                default_headers: Vec::new(),
                policy: Policy::default(),
                pipeline: Pipeline::new(),
                error_for_status: false,
                rng: Cell::new(SeededRng::new(0)),
            },
            error: None,
        }
    }
}

impl<'a, N, P, X, const URL: usize, const HEADERS: usize> ClientBuilder<'a, N, P, X, URL, HEADERS> {
    fn map_pipeline<X2>(
        self,
        f: impl FnOnce(X) -> X2,
    ) -> ClientBuilder<'a, N, P, X2, URL, HEADERS> {
        let Self { client, error } = self;
        ClientBuilder {
            client: Client {
                network: client.network,
                base_url: client.base_url,
                default_headers: client.default_headers,
                policy: client.policy,
                pipeline: f(client.pipeline),
                error_for_status: client.error_for_status,
                rng: client.rng,
            },
            error,
        }
    }

    fn fail(mut self, e: RequestError) -> Self {
        self.error.get_or_insert(e);
        self
    }

    /// Sets the URL capacity (`URL2` bytes for a joined URL, on the call's
    /// stack) and the default header capacity.
    pub fn capacity<const URL2: usize, const HEADERS2: usize>(
        self,
    ) -> ClientBuilder<'a, N, P, X, URL2, HEADERS2> {
        let Self { client, mut error } = self;
        if client.base_url.len() > URL2 {
            error.get_or_insert(RequestError::UrlTooLong);
        }
        let mut headers = Vec::new();
        for h in client.default_headers {
            if headers.push(h).is_err() {
                error.get_or_insert(RequestError::TooManyHeaders);
            }
        }
        ClientBuilder {
            client: Client {
                network: client.network,
                base_url: client.base_url,
                default_headers: headers,
                policy: client.policy,
                pipeline: client.pipeline,
                error_for_status: client.error_for_status,
                rng: client.rng,
            },
            error,
        }
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

    /// The backoff strategy: any built-in (`.into()` a [`Backoff`]).
    #[must_use]
    pub fn retry_strategy(mut self, strategy: impl Into<Backoff>) -> Self {
        self.client.policy = self.client.policy.strategy(strategy.into());
        self
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

    /// Whether 4xx and 5xx responses are errors (default `false`, as in the
    /// reference: a status is a response unless asked). With `true` and
    /// [`TransientErrors`](tenace::TransientErrors), 429 and 503 are
    /// retried, honouring `Retry-After`.
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

    /// The opt-in status policy: 4xx and 5xx become errors, and network
    /// failures plus transient statuses (408, 429, 5xx but 501 and 505) are
    /// retried, waiting at least what `Retry-After` asks, capped.
    pub fn retry_transient_statuses(
        self,
    ) -> ClientBuilder<'a, N, TransientErrors, X, URL, HEADERS> {
        self.error_for_status(true).retry_on(TransientErrors)
    }

    /// Seeds the client's jitter. Each call draws its own generator from
    /// this one, so seed it from the hardware RNG: devices that share a seed
    /// jitter in lockstep.
    #[must_use]
    pub fn rng_seed(self, seed: u64) -> Self {
        self.client.rng.set(SeededRng::new(seed));
        self
    }

    /// Seeds the client's jitter from any `rand_core` 0.10 generator (see
    /// [`rng_seed`](Self::rng_seed)).
    #[must_use]
    pub fn rng_seed_from<R: Rng + ?Sized>(self, rng: &mut R) -> Self {
        let seed = rng.next_u64();
        self.rng_seed(seed)
    }

    /// The retry predicate: a closure `|e: &Error| -> bool`,
    /// [`NetworkErrors`] (default), [`TransientErrors`](tenace::TransientErrors),
    /// [`Never`](tenace::Never).
    pub fn retry_on<P2>(self, retry_on: P2) -> ClientBuilder<'a, N, P2, X, URL, HEADERS> {
        let Self { client, error } = self;
        ClientBuilder {
            client: Client {
                network: client.network,
                base_url: client.base_url,
                default_headers: client.default_headers,
                policy: client.policy.retry_on(retry_on),
                pipeline: client.pipeline,
                error_for_status: client.error_for_status,
                rng: client.rng,
            },
            error,
        }
    }

    /// Replaces the whole policy (strategy, predicate, limits).
    pub fn policy<P2>(
        self,
        policy: Policy<Backoff, P2>,
    ) -> ClientBuilder<'a, N, P2, X, URL, HEADERS> {
        let Self { client, error } = self;
        ClientBuilder {
            client: Client {
                network: client.network,
                base_url: client.base_url,
                default_headers: client.default_headers,
                policy,
                pipeline: client.pipeline,
                error_for_status: client.error_for_status,
                rng: client.rng,
            },
            error,
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// The first problem found: an invalid base URL or header, too many
    /// headers, a base URL longer than the URL capacity.
    pub fn build(self) -> Result<Client<'a, N, P, X, URL, HEADERS>, RequestError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.client),
        }
    }
}

impl<'a, N, P, I, O, M, const URL: usize, const HEADERS: usize>
    ClientBuilder<'a, N, P, Pipeline<I, O, M>, URL, HEADERS>
{
    /// Request interceptor(s), run on each attempt's copy of the request
    /// (a tuple runs left to right).
    pub fn request_interceptor<I2>(
        self,
        interceptor: I2,
    ) -> ClientBuilder<'a, N, P, Pipeline<I2, O, M>, URL, HEADERS> {
        self.map_pipeline(|p| Pipeline {
            request: interceptor,
            response: p.response,
            middleware: p.middleware,
        })
    }

    /// Response interceptor(s), run on each response head; one may turn a
    /// response into an error.
    pub fn response_interceptor<O2>(
        self,
        interceptor: O2,
    ) -> ClientBuilder<'a, N, P, Pipeline<I, O2, M>, URL, HEADERS> {
        self.map_pipeline(|p| Pipeline {
            request: p.request,
            response: interceptor,
            middleware: p.middleware,
        })
    }

    /// Middleware around each call (timing, a circuit breaker, a budget, a
    /// hook on every retry).
    pub fn middleware<M2>(
        self,
        middleware: M2,
    ) -> ClientBuilder<'a, N, P, Pipeline<I, O, M2>, URL, HEADERS> {
        self.map_pipeline(|p| Pipeline {
            request: p.request,
            response: p.response,
            middleware,
        })
    }
}

impl<'a, N, P: Clone, X, const URL: usize, const HEADERS: usize> Client<'a, N, P, X, URL, HEADERS> {
    /// A request with this method; `path` is joined to the base URL (or
    /// replaces it if absolute).
    pub fn request<'r>(&self, method: Method, path: &'r str) -> RequestBuilder<'_, 'r, Self, P> {
        RequestBuilder {
            client: self,
            method,
            path,
            headers: &[],
            body: None,
            retry_safe: None,
            error_for_status: self.error_for_status,
            policy: self.policy.clone(),
        }
    }

    /// A `GET`.
    pub fn get<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, P> {
        self.request(Method::GET, path)
    }

    /// A `POST` (not retried after a failure that may have reached the
    /// server, unless marked [`retry_safe`](RequestBuilder::retry_safe)).
    pub fn post<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, P> {
        self.request(Method::POST, path)
    }

    /// A `PUT`.
    pub fn put<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, P> {
        self.request(Method::PUT, path)
    }

    /// A `PATCH` (not idempotent).
    pub fn patch<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, P> {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE`.
    pub fn delete<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, P> {
        self.request(Method::DELETE, path)
    }

    /// A `HEAD`.
    pub fn head<'r>(&self, path: &'r str) -> RequestBuilder<'_, 'r, Self, P> {
        self.request(Method::HEAD, path)
    }
}

impl<'a, N, P, X, const URL: usize, const HEADERS: usize> Client<'a, N, P, X, URL, HEADERS> {
    /// The transport.
    pub const fn network(&self) -> &N {
        &self.network
    }

    /// The client's policy (requests start from a copy of it).
    pub const fn policy(&self) -> &Policy<Backoff, P> {
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

    /// A generator for one call, drawn from the client's.
    fn call_rng(&self) -> SeededRng {
        let mut rng = self.rng.replace(SeededRng::new(0));
        let seed = rng.next_u64();
        self.rng.set(rng);
        SeededRng::new(seed)
    }
}

/// One request being configured: headers, body and policy overrides that
/// apply to it alone. Sent with [`send`](Self::send).
pub struct RequestBuilder<'c, 'r, K, P> {
    client: &'c K,
    method: Method,
    path: &'r str,
    headers: &'r [Header<'r>],
    body: Option<&'r [u8]>,
    retry_safe: Option<bool>,
    error_for_status: bool,
    policy: Policy<Backoff, P>,
}

impl<K, P: fmt::Debug> fmt::Debug for RequestBuilder<'_, '_, K, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers.len())
            .field("body", &self.body.map(<[u8]>::len))
            .field("retry_safe", &self.retry_safe)
            .field("error_for_status", &self.error_for_status)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<'c, 'r, K, P> RequestBuilder<'c, 'r, K, P> {
    /// This request's own headers (a default of the same name is not sent).
    #[must_use]
    pub fn headers(mut self, headers: &'r [Header<'r>]) -> Self {
        self.headers = headers;
        self
    }

    /// The body, borrowed (sent with `Content-Length`).
    #[must_use]
    pub fn body(mut self, body: &'r [u8]) -> Self {
        self.body = Some(body);
        self
    }

    /// Marks the request safe (or not) to replay after a failure that may
    /// have reached the server, whatever its method: a `POST` carrying an
    /// `Idempotency-Key` header may be retried after a reset.
    #[must_use]
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.retry_safe = Some(safe);
        self
    }

    /// Whether 4xx and 5xx are errors for this request.
    #[must_use]
    pub fn error_for_status(mut self, yes: bool) -> Self {
        self.error_for_status = yes;
        self
    }

    /// Retries for this request.
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.policy = self.policy.max_retries(n);
        self
    }

    /// The strategy for this request.
    #[must_use]
    pub fn retry_strategy(mut self, strategy: impl Into<Backoff>) -> Self {
        self.policy = self.policy.strategy(strategy.into());
        self
    }

    /// The deadline for this request.
    #[must_use]
    pub fn deadline(mut self, d: Duration) -> Self {
        self.policy = self.policy.deadline(d);
        self
    }

    /// The per-attempt timeout for this request.
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.policy = self.policy.attempt_timeout(d);
        self
    }

    /// The retry predicate for this request.
    pub fn retry_on<P2>(self, retry_on: P2) -> RequestBuilder<'c, 'r, K, P2> {
        RequestBuilder {
            client: self.client,
            method: self.method,
            path: self.path,
            headers: self.headers,
            body: self.body,
            retry_safe: self.retry_safe,
            error_for_status: self.error_for_status,
            policy: self.policy.retry_on(retry_on),
        }
    }

    /// The whole policy for this request.
    pub fn policy<P2>(self, policy: Policy<Backoff, P2>) -> RequestBuilder<'c, 'r, K, P2> {
        RequestBuilder {
            client: self.client,
            method: self.method,
            path: self.path,
            headers: self.headers,
            body: self.body,
            retry_safe: self.retry_safe,
            error_for_status: self.error_for_status,
            policy,
        }
    }
}

impl<'a, N, P0, I, O, M, P, const URL: usize, const HEADERS: usize>
    RequestBuilder<'_, '_, Client<'a, N, P0, Pipeline<I, O, M>, URL, HEADERS>, P>
where
    N: SendOnce,
    P: RetryOn<Error>,
    I: for<'x> RequestInterceptor<Request<'x>, Error>,
    O: ResponseInterceptor<Head, Error>,
    M: Middleware,
{
    /// Sends the request, retrying per the policy; the response body is
    /// read into `buffer`.
    ///
    /// # Errors
    /// A [`RetryError`] saying why the engine stopped, after how many
    /// attempts, with the last attempt's [`Error`]. A URL longer than the
    /// client's capacity fails before any attempt
    /// (`attempts() == 0`, `Error::Request(RequestError::UrlTooLong)`).
    // Not an `async fn`: its future would keep `self` and `buffer` twice
    // (the arguments and the locals they are moved into); an `async move`
    // block uses them in place.
    #[allow(clippy::manual_async_fn)]
    pub fn send<'b>(
        self,
        buffer: &'b mut [u8],
    ) -> impl Future<Output = Result<Response<'b>, RetryError<Error>>> {
        async move {
            let client = self.client;
            let url = match join_url::<URL>(client.base_url, self.path) {
                Ok(url) => url,
                Err(e) => {
                    return Err(RetryError::new(StopReason::NotRetryable, 0, Some(e.into())));
                }
            };
            let request = Request {
                method: self.method,
                url: &url,
                default_headers: &client.default_headers,
                headers: self.headers,
                body: self.body,
                retry_safe: self.retry_safe,
                error_for_status: self.error_for_status,
            };
            let transport = Buffered::new(&client.network, buffer);
            let mut rng = client.call_rng();
            let head = tenace::retry_with(
                &transport,
                client.network.clock(),
                &self.policy,
                &client.pipeline,
                &mut rng,
                request,
            )
            .await?;
            Ok(transport.into_response(head))
        }
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
