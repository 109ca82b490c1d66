//! One request being configured, and the call that sends it.

use core::fmt;
use core::future::Future;
use core::time::Duration;

use embassy_futures::select::{Either, select};
use tenace::{
    AttemptContext, Clock, Decision, Hedge, Pipeline, Policy, RetryError, RetryMachine, RetryOn,
    RetryStrategy, StopReason, TransportError,
};

use crate::client::Client;
use crate::error::Error;
use crate::hedged::{Copies, EachRequest, HedgeSetting, Responses};
use crate::hooks::RequestHooks;
use crate::request::{Header, Method, Request};
use crate::response::Response;
use crate::retry_rule::RetryRule;
use crate::transport::SendOnce;
use crate::url::join_url;

/// One request being configured: headers, body and policy overrides that
/// apply to it alone. Sent with [`send`](Self::send).
///
/// `K` is the client, `S` the backoff strategy: the client's, or the one
/// given to [`retry_strategy`](Self::retry_strategy), the only call that
/// changes the type (the call keeps its per-call state in a clone of the
/// strategy, so the strategy's type is part of the call's).
pub struct RequestBuilder<'c, 'r, K, S> {
    client: &'c K,
    parts: Parts<'r>,
    policy: Policy<S, RetryRule<'c>>,
    hedge: Option<HedgeSetting>,
}

/// What the request is made of, apart from the client's defaults.
#[derive(Clone, Copy)]
struct Parts<'r> {
    method: Method,
    path: &'r str,
    headers: &'r [Header<'r>],
    body: Option<&'r [u8]>,
    retry_safe: Option<bool>,
    error_for_status: bool,
}

impl<'r> Parts<'r> {
    /// The call's URL: `base` and this request's path, joined. One too long
    /// for the client's capacity ends the call before any attempt.
    fn url<const URL: usize>(
        &self,
        base: &str,
    ) -> Result<heapless::String<URL>, RetryError<Error>> {
        join_url::<URL>(base, self.path)
            .map_err(|e| RetryError::new(StopReason::NotRetryable, 0, Some(e.into())))
    }

    /// The call's request to `url`, edited by the once-per-call request
    /// interceptors before the call starts: every attempt is a copy of it,
    /// and the replay rule sees their changes. An interceptor's error ends
    /// the call before any attempt.
    fn request<'u, const H: usize>(
        &self,
        url: &'u str,
        default_headers: &'u [Header<'u>],
        hooks: &RequestHooks<'_, H>,
    ) -> Result<Request<'u>, RetryError<Error>>
    where
        'r: 'u,
    {
        let mut request = Request {
            method: self.method,
            url,
            default_headers,
            headers: self.headers,
            body: self.body,
            retry_safe: self.retry_safe,
            error_for_status: self.error_for_status,
        };
        hooks
            .run_once(&mut request, &AttemptContext::new(1, Duration::ZERO))
            .map_err(|e| RetryError::new(StopReason::NotRetryable, 0, Some(e)))?;
        Ok(request)
    }
}

impl<K, S: fmt::Debug> fmt::Debug for RequestBuilder<'_, '_, K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.parts.method)
            .field("path", &crate::request::redact_url(self.parts.path))
            .field("headers", &self.parts.headers.len())
            .field("body", &self.parts.body.map(<[u8]>::len))
            .field("retry_safe", &self.parts.retry_safe)
            .field("error_for_status", &self.parts.error_for_status)
            .field("policy", &self.policy)
            .field("hedge", &self.hedge)
            .finish_non_exhaustive()
    }
}

impl<'c, 'r, K, S> RequestBuilder<'c, 'r, K, S> {
    /// A request to `path` on `client`, starting from the client's policy.
    pub(crate) const fn new(
        client: &'c K,
        method: Method,
        path: &'r str,
        policy: Policy<S, RetryRule<'c>>,
        error_for_status: bool,
        hedge: Option<HedgeSetting>,
    ) -> Self {
        Self {
            client,
            parts: Parts {
                method,
                path,
                headers: &[],
                body: None,
                retry_safe: None,
                error_for_status,
            },
            policy,
            hedge,
        }
    }

    /// This request's own headers (a default of the same name is not sent).
    /// An `Idempotency-Key` header (any case) makes the request safe to
    /// replay, unless it is marked otherwise with
    /// [`retry_safe`](Self::retry_safe).
    #[must_use]
    pub fn headers(mut self, headers: &'r [Header<'r>]) -> Self {
        self.parts.headers = headers;
        self
    }

    /// The body, borrowed (sent with `Content-Length`).
    #[must_use]
    pub fn body(mut self, body: &'r [u8]) -> Self {
        self.parts.body = Some(body);
        self
    }

    /// Marks the request safe (or not) to replay after a failure that may
    /// have reached the server, whatever its method and headers (see
    /// [`tenace::Replay::of`]): `false` keeps even a `GET` from being sent
    /// twice.
    #[must_use]
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.parts.retry_safe = Some(safe);
        self
    }

    /// Whether 4xx and 5xx are errors for this request.
    #[must_use]
    pub fn error_for_status(mut self, yes: bool) -> Self {
        self.parts.error_for_status = yes;
        self
    }

    /// Retries for this request.
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.policy = self.policy.max_retries(n);
        self
    }

    /// The strategy for this request: a built-in one or the user's own
    /// [`RetryStrategy`], of any type.
    pub fn retry_strategy<S2: RetryStrategy + Clone>(
        self,
        strategy: S2,
    ) -> RequestBuilder<'c, 'r, K, S2> {
        RequestBuilder {
            client: self.client,
            parts: self.parts,
            policy: self.policy.with_strategy(strategy),
            hedge: self.hedge,
        }
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

    /// Hedges this request when sent with
    /// [`send_hedged`](Self::send_hedged), whatever the client's setting
    /// (see [`ClientBuilder::hedge`](crate::ClientBuilder::hedge));
    /// `Hedge::<0>` turns hedging off for it.
    #[must_use]
    pub fn hedge<const H: usize>(mut self, hedge: Hedge<H>) -> Self {
        self.hedge = Some(HedgeSetting::of(hedge));
        self
    }

    /// The retry predicate for this request, in place of the client's
    /// (transient statuses still count if the client retries them; see
    /// [`RetryRule`]).
    #[must_use]
    pub fn retry_on(mut self, predicate: &'c dyn RetryOn<Error>) -> Self {
        let rule = self.policy.predicate().with_predicate(predicate);
        self.policy = self.policy.retry_on(rule);
        self
    }
}

impl<'a, N, S0, S, const URL: usize, const HEADERS: usize, const HOOKS: usize>
    RequestBuilder<'_, '_, Client<'a, N, S0, URL, HEADERS, HOOKS>, S>
where
    N: SendOnce,
    S: RetryStrategy + Clone,
{
    /// Sends the request, retrying per the policy; the response body is
    /// read into `buffer`. The response says how many attempts it took and
    /// how long the call slept between them.
    ///
    /// # Errors
    /// A [`RetryError`] saying why the engine stopped, after how many
    /// attempts, with the last attempt's [`Error`]. A URL longer than the
    /// client's capacity fails before any attempt
    /// (`attempts() == 0`, `Error::Request(RequestError::UrlTooLong)`).
    //
    // The loop drives tenace's `RetryMachine` itself, which makes every
    // decision (admission, deadline, retry or stop, delay, middleware); the
    // loop only does the I/O. Running the client's synchronous hooks inline
    // keeps one copy of the request per attempt in the future, where the
    // generic driver would nest an interceptor future around the transport's.
    //
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
            let url = self.parts.url::<URL>(client.base_url)?;
            let request =
                self.parts
                    .request(&url, &client.default_headers, &client.hooks.request)?;
            let hooks = &client.hooks;
            let clock = client.network.clock();
            let mut call = match RetryMachine::start(
                &self.policy,
                request.replay(),
                &hooks.middleware,
                clock.now(),
            ) {
                Ok(call) => call,
                Err(reason) => return Err(RetryError::new(reason, 0, None)),
            };
            let mut rng = client.seeds.next_call();
            let (head, now) = loop {
                let now = clock.now();
                let timeout = match call.begin_attempt(now) {
                    Ok(t) => t,
                    Err(reason) => return Err(RetryError::new(reason, call.attempts(), None)),
                };
                // In a block, so the result, the error and the delay are not
                // kept in the future across the backoff's sleep.
                let delay = {
                    let cx = AttemptContext::new(
                        call.attempts(),
                        now.saturating_duration_since(call.started()),
                    );
                    let buffer = &mut *buffer;
                    let attempt = async {
                        // Each attempt starts from the original request.
                        let mut attempt = request;
                        hooks.request.run(&mut attempt, &cx)?;
                        let head = match client.network.send_once(&attempt, buffer).await {
                            Ok(response) => *response.head(),
                            Err(e) => {
                                warn!(
                                    "tenace-embedded: {} attempt failed: {}",
                                    attempt.method.as_str(),
                                    e
                                );
                                return Err(e);
                            }
                        };
                        hooks.response.run(head, &cx)
                    };
                    let result = match timeout {
                        None => attempt.await,
                        Some(limit) => match select(attempt, clock.sleep(limit)).await {
                            Either::First(result) => result,
                            Either::Second(()) => Err(Error::timed_out(limit)),
                        },
                    };
                    let now = clock.now();
                    match result {
                        Ok(head) => break (head, now),
                        Err(error) => match call.on_error(&error, now, &mut rng) {
                            Decision::Retry { delay } => delay,
                            Decision::Stop(reason) => {
                                return Err(RetryError::new(reason, call.attempts(), Some(error)));
                            }
                        },
                    }
                };
                if !delay.is_zero() {
                    clock.sleep_before_retry(delay).await;
                }
            };
            // A response is never retried: it is the call's, and the
            // final-only interceptors see it. Their error comes after the
            // decision, so the predicate does not judge it.
            let cx = AttemptContext::new(
                call.attempts(),
                now.saturating_duration_since(call.started()),
            );
            let head = match hooks.response.run_final(head, &cx) {
                Ok(head) => head,
                Err(error) => {
                    let reason = call.refuse(error.kind(), now);
                    return Err(RetryError::new(reason, call.attempts(), Some(error)));
                }
            };
            let retried = call.on_success(now);
            // The body of the last attempt is in the buffer.
            let buffer: &'b [u8] = buffer;
            let end = head.body_start.saturating_add(head.body_len);
            let body = buffer.get(head.body_start..end).unwrap_or_default();
            Ok(Response::new(head, body).after(retried.attempts, retried.slept))
        }
    }

    /// Sends the request hedged per the client's or this request's
    /// [`hedge`](Self::hedge): copy 1 reads its response into `buffer`,
    /// each extra copy into one of `extra`, so at most `E` extra copies run
    /// (fewer if the hedge says so). The response's body is a slice of the
    /// buffer of the copy that won; `attempts()` counts the copies started.
    /// Without a hedge, or for a request that is not replay-safe, it is one
    /// copy at a time, in `buffer` first. The rules are
    /// [`tenace::hedge`](mod@tenace::hedge)'s.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    #[allow(clippy::manual_async_fn)]
    pub fn send_hedged<'b, const E: usize>(
        self,
        buffer: &'b mut [u8],
        extra: [&'b mut [u8]; E],
    ) -> impl Future<Output = Result<Response<'b>, RetryError<Error>>> {
        async move {
            let client = self.client;
            let hooks = &client.hooks;
            let url = self.parts.url::<URL>(client.base_url)?;
            let request = self
                .parts
                .request(&url, &client.default_headers, &hooks.request)?;
            let (delay, wanted) = self
                .hedge
                .map_or((tenace::HedgeDelay::OnFailure, 0), |h| (h.delay, h.extra));
            let hedge = Hedge::<E>::new(delay).max_extra(wanted);
            let transport = Copies::new(&client.network, buffer, extra);
            let pipeline = Pipeline::new()
                .request(EachRequest(&hooks.request))
                .response(Responses(&hooks.response))
                .middleware(&hooks.middleware);
            let mut rng = client.seeds.next_call();
            let result = tenace::hedge_with(
                &transport,
                client.network.clock(),
                &self.policy,
                &hedge,
                &pipeline,
                &mut rng,
                request,
            )
            .await;
            let done = result?;
            let (head, slot) = done.value;
            let buffer: &'b [u8] = transport.take(slot).unwrap_or_default();
            let end = head.body_start.saturating_add(head.body_len);
            let body = buffer.get(head.body_start..end).unwrap_or_default();
            Ok(Response::new(head, body).after(done.attempts, done.slept))
        }
    }
}
