//! Interceptors for [`Client`](crate::Client): code that edits each attempt's
//! request or sees each response, registered on the client's builder.
//!
//! A synchronous interceptor is a closure
//! ([`ClientBuilder::request_interceptor`](crate::ClientBuilder::request_interceptor))
//! and costs no allocation. One that must await (a token provider, a
//! signing service) implements [`AsyncRequestInterceptor`] or
//! [`AsyncResponseInterceptor`] and returns a boxed future, once per
//! attempt. [`Auth`] is a request interceptor whose token provider is
//! awaited on **every** attempt, so a retry after a `401` or an expiry sends
//! a fresh token.
//!
//! Request interceptors run on a fresh copy of the original request before
//! each attempt, in the order registered; response interceptors run on each
//! response, in order, and may turn it into an error that the retry
//! predicate then sees.
//!
//! When an interceptor runs is chosen where it is registered:
//!
//! - `request_interceptor` and `async_request_interceptor` run on every
//!   attempt; `request_interceptor_once` and `async_request_interceptor_once`
//!   run once per call, on the call's request before the call starts, so
//!   every attempt (each retry included) is sent with their changes. A
//!   metric of requests made, a log line, or one `Idempotency-Key` per call
//!   belongs there; an error from one ends the call before any attempt,
//!   unretried.
//! - `response_interceptor` and `async_response_interceptor` see every
//!   attempt's response; `response_interceptor_final` and
//!   `async_response_interceptor_final` see only the response the call
//!   returns (after the status check of
//!   [`error_for_status`](crate::ClientBuilder::error_for_status)), never a
//!   call that ends in an error. A log of the final answer belongs there;
//!   middleware's `after_call` sees every ending. An error from one ends the
//!   call, unretried.
//!
//! Once-per-call interceptors run before the per-attempt ones, and
//! final-only ones after them; within one timing, in the order registered.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;

use http::HeaderValue;
use http::header::AUTHORIZATION;
use tenace::AttemptContext;

use crate::error::{BoxError, Error};
use crate::request::Request;
use crate::response::Response;
use crate::wall_clock::WallClock;

/// A boxed, sendable future: what the async interceptor traits return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A request interceptor that awaits.
///
/// ```
/// use tenace::AttemptContext;
/// use tenace_hyper::interceptor::{AsyncRequestInterceptor, BoxFuture};
/// use tenace_hyper::{Error, Request};
///
/// /// Stamps each attempt with a signature from an async signer.
/// struct Sign;
///
/// impl AsyncRequestInterceptor for Sign {
///     fn intercept<'a>(&'a self, request: &'a mut Request, cx: AttemptContext) -> BoxFuture<'a, Result<(), Error>> {
///         Box::pin(async move {
///             let signature = format!("sig-{}", cx.attempt); // an await would go here
///             let value = signature.parse().map_err(Error::interceptor)?;
///             request.headers_mut().insert("x-signature", value);
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait AsyncRequestInterceptor: Send + Sync + 'static {
    /// Edits this attempt's copy of the request. An error fails the attempt
    /// and is classified like any other [`Error`].
    fn intercept<'a>(
        &'a self,
        request: &'a mut Request,
        cx: AttemptContext,
    ) -> BoxFuture<'a, Result<(), Error>>;
}

/// A response interceptor that awaits.
pub trait AsyncResponseInterceptor: Send + Sync + 'static {
    /// Returns the response to pass on, or an error to treat as a failed
    /// attempt.
    fn intercept(
        &self,
        response: Response,
        cx: AttemptContext,
    ) -> BoxFuture<'_, Result<Response, Error>>;
}

/// Supplies a token, awaited before every attempt.
///
/// Any `Fn() -> impl Future<Output = Result<String, E>>` closure is a
/// provider (`E` converts into a boxed error).
pub trait TokenProvider: Send + Sync + 'static {
    /// The token for the next attempt.
    fn token(&self) -> BoxFuture<'_, Result<String, Error>>;
}

impl<F, Fut, E> TokenProvider for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn token(&self) -> BoxFuture<'_, Result<String, Error>> {
        let fetching = self();
        Box::pin(async move { fetching.await.map_err(|e| Error::Interceptor(e.into())) })
    }
}

/// Sets `Authorization` on every attempt from a token provider.
///
/// The header value is marked sensitive, and tenace-hyper never logs header
/// values.
///
/// ```
/// use tenace_hyper::{Client, interceptor::Auth};
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8080/api")
///     .auth(Auth::bearer(|| async { Ok::<_, std::io::Error>(String::from("token-from-vault")) }))
///     .build()?;
/// # let _ = client;
/// # Ok::<(), tenace_hyper::Error>(())
/// ```
pub struct Auth {
    provider: Arc<dyn TokenProvider>,
    scheme: &'static str,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(provider: impl TokenProvider) -> Self {
        Self {
            provider: Arc::new(provider),
            scheme: "Bearer",
        }
    }

    /// `Authorization: <scheme> <token>` for another scheme (`"Token"`,
    /// `"Basic"` with an already encoded token).
    pub fn with_scheme(scheme: &'static str, provider: impl TokenProvider) -> Self {
        Self {
            provider: Arc::new(provider),
            scheme,
        }
    }
}

impl AsyncRequestInterceptor for Auth {
    fn intercept<'a>(
        &'a self,
        request: &'a mut Request,
        _cx: AttemptContext,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let token = self.provider.token().await?;
            let mut value = HeaderValue::try_from(format!("{} {token}", self.scheme))
                .map_err(|e| Error::InvalidRequest(Box::new(e)))?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
            Ok(())
        })
    }
}

/// A synchronous request interceptor, as stored.
pub(crate) type SyncRequestFn =
    dyn Fn(&mut Request, AttemptContext) -> Result<(), Error> + Send + Sync;
/// A synchronous response interceptor, as stored.
pub(crate) type SyncResponseFn =
    dyn Fn(Response, AttemptContext) -> Result<Response, Error> + Send + Sync;

/// One registered request interceptor.
#[derive(Clone)]
pub(crate) enum RequestHook {
    Sync(Arc<SyncRequestFn>),
    Async(Arc<dyn AsyncRequestInterceptor>),
}

/// One registered response interceptor.
#[derive(Clone)]
pub(crate) enum ResponseHook {
    Sync(Arc<SyncResponseFn>),
    Async(Arc<dyn AsyncResponseInterceptor>),
}

/// A client's request interceptors, by timing, each list in the order
/// registered.
#[derive(Clone, Default)]
pub(crate) struct RequestHookList {
    /// Run on every attempt.
    pub(crate) each: Vec<RequestHook>,
    /// Run once per call, before it starts.
    pub(crate) once: Vec<RequestHook>,
}

/// A client's response interceptors, by timing, each list in the order
/// registered.
#[derive(Clone, Default)]
pub(crate) struct ResponseHookList {
    /// Run on every attempt's response.
    pub(crate) each: Vec<ResponseHook>,
    /// Run on the response the call returns.
    pub(crate) last: Vec<ResponseHook>,
}

async fn run_request_hooks(
    hooks: &[RequestHook],
    request: &mut Request,
    cx: &AttemptContext,
) -> Result<(), Error> {
    for hook in hooks {
        match hook {
            RequestHook::Sync(f) => f(request, *cx)?,
            RequestHook::Async(i) => i.intercept(request, *cx).await?,
        }
    }
    Ok(())
}

async fn run_response_hooks(
    hooks: &[ResponseHook],
    mut response: Response,
    cx: &AttemptContext,
) -> Result<Response, Error> {
    for hook in hooks {
        response = match hook {
            ResponseHook::Sync(f) => f(response, *cx)?,
            ResponseHook::Async(i) => i.intercept(response, *cx).await?,
        };
    }
    Ok(response)
}

/// The client's request interceptors, as the engine's pipeline stage.
pub(crate) struct RequestHooks<'a>(pub(crate) &'a RequestHookList);

impl tenace::RequestInterceptor<Request, Error> for RequestHooks<'_> {
    async fn intercept(&self, request: &mut Request, cx: &AttemptContext) -> Result<(), Error> {
        // No list, no future: the common case moves nothing.
        if self.0.each.is_empty() {
            return Ok(());
        }
        run_request_hooks(&self.0.each, request, cx).await
    }

    async fn intercept_call(
        &self,
        request: &mut Request,
        cx: &AttemptContext,
    ) -> Result<(), Error> {
        if self.0.once.is_empty() {
            return Ok(());
        }
        run_request_hooks(&self.0.once, request, cx).await
    }
}

/// The client's response interceptors, then the optional status check;
/// the final-only interceptors after the call's decision.
pub(crate) struct ResponseHooks<'a> {
    pub(crate) hooks: &'a ResponseHookList,
    pub(crate) error_for_status: bool,
    /// The client's clock, for a `Retry-After` date.
    pub(crate) wall: &'a WallClock,
}

impl tenace::ResponseInterceptor<Response, Error> for ResponseHooks<'_> {
    async fn intercept(&self, response: Response, cx: &AttemptContext) -> Result<Response, Error> {
        // No list, no future: the response is not moved into one and back.
        let response = if self.hooks.each.is_empty() {
            response
        } else {
            run_response_hooks(&self.hooks.each, response, cx).await?
        };
        if self.error_for_status {
            response.check_status_at(self.wall.now())
        } else {
            Ok(response)
        }
    }

    async fn intercept_final(
        &self,
        response: Response,
        cx: &AttemptContext,
    ) -> Result<Response, Error> {
        if self.hooks.last.is_empty() {
            return Ok(response);
        }
        run_response_hooks(&self.hooks.last, response, cx).await
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;
    use std::time::UNIX_EPOCH;

    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};
    use tenace::http::HttpDate;
    use tenace::{ResponseInterceptor as _, TokioClock, TransportError as _};

    use super::*;

    /// A 503 whose `Retry-After` is a date `secs` after `at` (whole
    /// seconds), without a `Date` header.
    fn unavailable_until(at: std::time::SystemTime, secs: u64) -> Response {
        let unix = at.duration_since(UNIX_EPOCH).unwrap().as_secs() + secs;
        let mut headers = HeaderMap::new();
        let date = HttpDate::from_unix_secs(unix).to_string();
        headers.insert(http::header::RETRY_AFTER, date.parse().unwrap());
        Response::new(StatusCode::SERVICE_UNAVAILABLE, headers, Bytes::new())
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_date_is_read_against_the_clients_clock() {
        let wall = WallClock::new(TokioClock::new());
        let hooks = ResponseHooks {
            hooks: &ResponseHookList::default(),
            error_for_status: true,
            wall: &wall,
        };
        // Up to the next whole second of the wall clock, so that the date
        // says exactly 30 s from now.
        let since_epoch = wall.now().duration_since(UNIX_EPOCH).unwrap();
        let whole = Duration::from_secs(since_epoch.as_secs() + 1);
        tokio::time::sleep(whole - since_epoch).await;
        let response = unavailable_until(wall.now(), 30);
        // Ten seconds of virtual time pass before the status check.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let cx = AttemptContext::new(1, Duration::ZERO);
        let error = hooks.intercept(response, &cx).await.unwrap_err();
        assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(error.retry_after(), Some(Duration::from_secs(20)));
    }
}
