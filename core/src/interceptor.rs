//! Request and response interceptors.
//!
//! Request interceptors run on every attempt, on a fresh copy of the
//! original request, so a token provider fetches a fresh token on each retry
//! and nothing is appended twice. Response interceptors see each successful
//! response and may turn it into an error (an error status, say), which the
//! retry predicate then sees like any transport error.
//!
//! Several interceptors compose as a tuple, run left to right:
//! `(add_trace_id, auth)`. `()` is the empty chain.
#![allow(async_fn_in_trait)]

use core::time::Duration;

/// Where an attempt stands, passed to interceptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct AttemptContext {
    /// 1 for the original call, 2 for the first retry, and so on.
    pub attempt: u32,
    /// Time since the call started.
    pub elapsed: Duration,
}

impl AttemptContext {
    /// A context (drivers build these).
    pub const fn new(attempt: u32, elapsed: Duration) -> Self {
        Self { attempt, elapsed }
    }

    /// `true` on a retry, `false` on the original call.
    pub const fn is_retry(&self) -> bool {
        self.attempt > 1
    }
}

/// Changes a request before each attempt; may await (e.g. a token
/// provider). An error stops the attempt and is classified like a transport
/// error.
///
/// ```
/// use tenace::{AttemptContext, RequestInterceptor};
///
/// struct Tag;
/// impl<E> RequestInterceptor<Vec<(&'static str, u32)>, E> for Tag {
///     async fn intercept(&self, req: &mut Vec<(&'static str, u32)>, cx: &AttemptContext) -> Result<(), E> {
///         req.push(("x-attempt", cx.attempt));
///         Ok(())
///     }
/// }
/// ```
pub trait RequestInterceptor<Req, E> {
    /// Edits this attempt's copy of the request.
    async fn intercept(&self, request: &mut Req, cx: &AttemptContext) -> Result<(), E>;
}

/// Sees each response; may replace it or turn it into an error.
pub trait ResponseInterceptor<Resp, E> {
    /// Returns the response to pass on, or an error to treat as a failed
    /// attempt.
    async fn intercept(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E>;
}

impl<Req, E> RequestInterceptor<Req, E> for () {
    async fn intercept(&self, _request: &mut Req, _cx: &AttemptContext) -> Result<(), E> {
        Ok(())
    }
}

impl<Resp, E> ResponseInterceptor<Resp, E> for () {
    async fn intercept(&self, response: Resp, _cx: &AttemptContext) -> Result<Resp, E> {
        Ok(response)
    }
}

impl<Req, E, I: RequestInterceptor<Req, E> + ?Sized> RequestInterceptor<Req, E> for &I {
    async fn intercept(&self, request: &mut Req, cx: &AttemptContext) -> Result<(), E> {
        (**self).intercept(request, cx).await
    }
}

impl<Resp, E, I: ResponseInterceptor<Resp, E> + ?Sized> ResponseInterceptor<Resp, E> for &I {
    async fn intercept(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E> {
        (**self).intercept(response, cx).await
    }
}

macro_rules! tuple_interceptors {
    ($($name:ident),+) => {
        impl<Req, E, $($name: RequestInterceptor<Req, E>),+> RequestInterceptor<Req, E> for ($($name,)+) {
            #[allow(non_snake_case)]
            async fn intercept(&self, request: &mut Req, cx: &AttemptContext) -> Result<(), E> {
                let ($($name,)+) = self;
                $($name.intercept(request, cx).await?;)+
                Ok(())
            }
        }
        impl<Resp, E, $($name: ResponseInterceptor<Resp, E>),+> ResponseInterceptor<Resp, E> for ($($name,)+) {
            #[allow(non_snake_case)]
            async fn intercept(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E> {
                let ($($name,)+) = self;
                $(let response = $name.intercept(response, cx).await?;)+
                Ok(response)
            }
        }
    };
}
tuple_interceptors!(A);
tuple_interceptors!(A, B);
tuple_interceptors!(A, B, C);
tuple_interceptors!(A, B, C, D);

/// A request interceptor from a synchronous closure; see [`map_request`].
#[derive(Debug, Clone, Copy)]
pub struct MapRequest<F>(F);

/// Wraps `f(&mut request, &cx)` as a [`RequestInterceptor`].
///
/// ```
/// let tag = tenace::map_request(|req: &mut Vec<u32>, cx: &tenace::AttemptContext| {
///     req.push(cx.attempt);
///     Ok::<(), core::convert::Infallible>(())
/// });
/// # let _ = tag;
/// ```
pub const fn map_request<F>(f: F) -> MapRequest<F> {
    MapRequest(f)
}

impl<Req, E, F> RequestInterceptor<Req, E> for MapRequest<F>
where
    F: Fn(&mut Req, &AttemptContext) -> Result<(), E>,
{
    async fn intercept(&self, request: &mut Req, cx: &AttemptContext) -> Result<(), E> {
        (self.0)(request, cx)
    }
}

/// A response interceptor from a synchronous closure; see [`map_response`].
#[derive(Debug, Clone, Copy)]
pub struct MapResponse<F>(F);

/// Wraps `f(response, &cx)` as a [`ResponseInterceptor`], e.g. to turn an
/// error status into an error.
pub const fn map_response<F>(f: F) -> MapResponse<F> {
    MapResponse(f)
}

impl<Resp, E, F> ResponseInterceptor<Resp, E> for MapResponse<F>
where
    F: Fn(Resp, &AttemptContext) -> Result<Resp, E>,
{
    async fn intercept(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E> {
        (self.0)(response, cx)
    }
}
