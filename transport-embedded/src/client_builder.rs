//! [`ClientBuilder`]: a client's settings, checked when it is built.

use core::fmt;
use core::time::Duration;

use heapless::Vec;
use tenace::{AttemptContext, Backoff, Limits, Middleware, Policy, RetryOn, RetryStrategy};

use crate::client::Client;
use crate::error::{Error, RequestError};
use crate::head::check_header;
use crate::hooks::Hooks;
use crate::request::Request;
use crate::response::Head;
use crate::retry_rule::RetryRule;
use crate::seed::{CallSeeds, SeedSource};

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
                hedge: None,
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

    /// Hedges the calls sent with
    /// [`send_hedged`](crate::RequestBuilder::send_hedged): after the
    /// hedge's delay without an answer, or at once after a failure the
    /// predicate retries, another copy of a replay-safe request starts, up
    /// to `hedge.extra()` extra copies (and one fewer than the buffers
    /// given); the first answer wins and the others are cancelled. See
    /// [`tenace::hedge`](mod@tenace::hedge) for the rules. A call sent with
    /// [`send`](crate::RequestBuilder::send), which has one buffer, is
    /// never hedged.
    #[must_use]
    pub fn hedge<const H: usize>(mut self, hedge: tenace::Hedge<H>) -> Self {
        self.client.hedge = Some(crate::hedged::HedgeSetting::of(hedge));
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
                hedge: client.hedge,
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

    /// The longest wait the server's hint may ask for (default
    /// [`DEFAULT_RETRY_AFTER_CAP`](tenace::DEFAULT_RETRY_AFTER_CAP), 300 s).
    /// A longer one, or one past the deadline, stops the call at once with
    /// [`StopReason::ServerWait`](tenace::StopReason::ServerWait). A date the
    /// client cannot place (no `Date` header; there is no wall clock) waits
    /// exactly this long.
    #[must_use]
    pub fn retry_after_cap(mut self, cap: Duration) -> Self {
        self.client.policy = self.client.policy.retry_after_cap(cap);
        self
    }

    /// All numeric limits at once (retries, deadline, per-attempt timeout,
    /// the server's delay hint).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.client.policy = self.client.policy.with_limits(limits);
        self
    }

    /// Whether 4xx and 5xx responses are errors (default `false`, as in the
    /// reference: a status is a response unless asked). With `true`, a
    /// predicate such as [`TransientErrors`](tenace::TransientErrors) can
    /// retry 429 and 503, honouring the server's delay hint.
    #[must_use]
    pub fn error_for_status(mut self, yes: bool) -> Self {
        self.client.error_for_status = yes;
        self
    }

    /// Whether the server's delay hint counts (default: yes).
    #[must_use]
    pub fn honor_retry_after(mut self, yes: bool) -> Self {
        self.client.policy = self.client.policy.honor_retry_after(yes);
        self
    }

    /// The opt-in status policy: 4xx and 5xx become errors, and transient
    /// statuses (408, 429, 5xx but 501 and 505) are retried along with
    /// transport failures, waiting at least what the server asks
    /// (`Retry-After` and the rate-limit fields); a wait past the cap or the
    /// deadline stops the call with
    /// [`StopReason::ServerWait`](tenace::StopReason::ServerWait).
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
        if self.client.hooks.request.push_each(interceptor).is_err() {
            return self.fail(RequestError::TooManyHooks);
        }
        self
    }

    /// Adds a request interceptor run once per call: on the call's request,
    /// before the call starts (before a circuit breaker's admission, the
    /// deadline's clock and every per-attempt interceptor), so each attempt,
    /// retries included, is sent with its changes. For a count of requests
    /// made or a log line per call. It is told attempt 1 at zero elapsed
    /// time. An error ends the call before any attempt, with
    /// [`StopReason::NotRetryable`](tenace::StopReason::NotRetryable) and
    /// zero attempts. It takes a place in the same list as
    /// [`request_interceptor`](Self::request_interceptor)'s (`HOOKS` in
    /// all).
    #[must_use]
    pub fn request_interceptor_once<F>(mut self, interceptor: &'a F) -> Self
    where
        F: for<'x> Fn(&mut Request<'x>, &AttemptContext) -> Result<(), Error>,
    {
        if self.client.hooks.request.push_once(interceptor).is_err() {
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
        if self.client.hooks.response.push_each(interceptor).is_err() {
            return self.fail(RequestError::TooManyHooks);
        }
        self
    }

    /// Adds a response interceptor that sees only the head of the response
    /// the call returns: after every per-attempt interceptor and the status
    /// check accepted it; never a response that led to another attempt,
    /// never a call that ends in an error (a middleware's `after_call` sees
    /// every ending). Its context names the final attempt, with the time
    /// from the call's start to the response. An error ends the call with
    /// [`StopReason::NotRetryable`](tenace::StopReason::NotRetryable),
    /// unretried. It takes a place in the same list as
    /// [`response_interceptor`](Self::response_interceptor)'s (`HOOKS` in
    /// all).
    #[must_use]
    pub fn response_interceptor_final<F>(mut self, interceptor: &'a F) -> Self
    where
        F: Fn(Head, &AttemptContext) -> Result<Head, Error>,
    {
        if self.client.hooks.response.push_final(interceptor).is_err() {
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
