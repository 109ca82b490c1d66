//! Request and response interceptors.
//!
//! Request interceptors run on every attempt (unless chosen to run once per
//! call; see below), on a fresh copy of the original request, so a token provider fetches a fresh token on each retry
//! and nothing is appended twice. Response interceptors see each successful
//! response and may turn it into an error (an error status, say), which the
//! retry predicate then sees like any transport error.
//!
//! Several interceptors compose as a tuple, run left to right:
//! `(add_trace_id, auth)`. `()` is the empty chain.
//!
//! # When an interceptor runs
//!
//! Each interceptor's timing is chosen where it is put in the chain:
//!
//! - A request interceptor runs on every attempt (the default), or, wrapped
//!   in [`PerCall`], once per call: on the call's request, before the call
//!   starts, so every attempt (each retry included) is sent with its
//!   changes. A metric of requests made, a log line, or one idempotency key
//!   minted per call belongs there.
//! - A response interceptor sees every attempt's response (the default),
//!   or, wrapped in [`FinalOnly`], only the response the call returns: not
//!   one that a per-attempt interceptor turned into an error that was
//!   retried, and never a call that ends in an error. A log of the final
//!   answer belongs there; middleware's
//!   [`after_call`](crate::Middleware::after_call) sees every ending,
//!   errors included.
//!
//! Once-per-call request interceptors run before every per-attempt one, and
//! final-only response interceptors after every per-attempt one, whatever
//! their places in the tuple; within one timing, the tuple's order holds.
//! A chain without [`PerCall`] or [`FinalOnly`] costs nothing for them.
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

    /// Edits the call's request once, before the call starts (before a
    /// circuit breaker's admission, the deadline's clock and the first
    /// attempt); every attempt starts from the result. `cx` is attempt 1 at
    /// zero elapsed time. An error ends the call before any attempt, with
    /// [`StopReason::NotRetryable`](crate::StopReason::NotRetryable) and
    /// zero attempts, and is not retried.
    ///
    /// Does nothing unless overridden; [`PerCall`] overrides it.
    async fn intercept_call(&self, request: &mut Req, cx: &AttemptContext) -> Result<(), E> {
        let _ = (request, cx);
        Ok(())
    }
}

/// Sees each response; may replace it or turn it into an error.
pub trait ResponseInterceptor<Resp, E> {
    /// Returns the response to pass on, or an error to treat as a failed
    /// attempt.
    async fn intercept(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E>;

    /// Sees the response the call is about to return, after every
    /// per-attempt interceptor accepted it; `cx` names its attempt, with
    /// the time from the call's start to the response. An error
    /// ends the call with
    /// [`StopReason::NotRetryable`](crate::StopReason::NotRetryable): the
    /// retry decision is already made, so it is not retried.
    ///
    /// Returns the response unchanged unless overridden; [`FinalOnly`]
    /// overrides it.
    async fn intercept_final(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E> {
        let _ = cx;
        Ok(response)
    }
}

/// Runs a request interceptor once per call instead of on every attempt.
///
/// The interceptor edits the call's request before the call starts, and
/// every attempt is a copy of the result: a header it sets is on every
/// retry, and it runs once however many attempts follow. A header it sets
/// also counts for replay safety (an `Idempotency-Key` makes a `POST` safe
/// to send again). An error ends the call before any attempt and is not
/// retried.
///
/// ```
/// use core::cell::Cell;
/// use tenace::{PerCall, Pipeline, map_request};
///
/// let calls = Cell::new(0);
/// let count_calls = PerCall(map_request(|_: &mut &str, _: &tenace::AttemptContext| {
///     calls.set(calls.get() + 1);
///     Ok::<(), core::convert::Infallible>(())
/// }));
/// let pipeline = Pipeline::new().request(count_calls);
/// # let _ = pipeline;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PerCall<I>(pub I);

impl<Req, E, I: RequestInterceptor<Req, E>> RequestInterceptor<Req, E> for PerCall<I> {
    async fn intercept(&self, _request: &mut Req, _cx: &AttemptContext) -> Result<(), E> {
        Ok(())
    }

    async fn intercept_call(&self, request: &mut Req, cx: &AttemptContext) -> Result<(), E> {
        self.0.intercept(request, cx).await
    }
}

/// Runs a response interceptor only on the response the call returns.
///
/// Responses that a per-attempt interceptor turned into errors that led to
/// another attempt are not seen, and a call that ends in an error is never
/// seen (middleware's [`after_call`](crate::Middleware::after_call) sees
/// every ending). The interceptor may still replace the response or turn it
/// into an error; the error ends the call with
/// [`StopReason::NotRetryable`](crate::StopReason::NotRetryable), without
/// another attempt.
///
/// It runs as the last step of the attempt that produced the response,
/// after every per-attempt interceptor accepted it, so it is under that
/// attempt's timeout: an attempt whose timeout ends while it runs is a
/// timed-out attempt like any other.
#[derive(Debug, Clone, Copy, Default)]
pub struct FinalOnly<O>(pub O);

impl<Resp, E, O: ResponseInterceptor<Resp, E>> ResponseInterceptor<Resp, E> for FinalOnly<O> {
    async fn intercept(&self, response: Resp, _cx: &AttemptContext) -> Result<Resp, E> {
        Ok(response)
    }

    async fn intercept_final(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E> {
        self.0.intercept(response, cx).await
    }
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

    async fn intercept_call(&self, request: &mut Req, cx: &AttemptContext) -> Result<(), E> {
        (**self).intercept_call(request, cx).await
    }
}

impl<Resp, E, I: ResponseInterceptor<Resp, E> + ?Sized> ResponseInterceptor<Resp, E> for &I {
    async fn intercept(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E> {
        (**self).intercept(response, cx).await
    }

    async fn intercept_final(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E> {
        (**self).intercept_final(response, cx).await
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
            #[allow(non_snake_case)]
            async fn intercept_call(&self, request: &mut Req, cx: &AttemptContext) -> Result<(), E> {
                let ($($name,)+) = self;
                $($name.intercept_call(request, cx).await?;)+
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
            #[allow(non_snake_case)]
            async fn intercept_final(&self, response: Resp, cx: &AttemptContext) -> Result<Resp, E> {
                let ($($name,)+) = self;
                $(let response = $name.intercept_final(response, cx).await?;)+
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
