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

use heapless::Vec;
use tenace::{Backoff, Policy};

use crate::client_builder::ClientBuilder;
use crate::hooks::Hooks;
use crate::request::{Header, Method};
use crate::request_builder::RequestBuilder;
use crate::retry_rule::RetryRule;
use crate::seed::{CallSeeds, SeedSource};

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
    pub(crate) hedge: Option<crate::hedged::HedgeSetting>,
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
            self.hedge,
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
    /// the client runs (interceptors of every timing counted).
    pub fn hooks(&self) -> (usize, usize, usize) {
        (
            self.hooks.request.len(),
            self.hooks.response.len(),
            self.hooks.middleware.0.len(),
        )
    }
}
