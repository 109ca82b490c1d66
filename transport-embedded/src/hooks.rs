//! A client's interceptors and middleware: borrowed, in lists of fixed
//! capacity.
//!
//! Each builder call adds one hook to its list, and the client's type does
//! not change: the hooks are borrowed trait objects (`&'a dyn ...`) in
//! `heapless::Vec`s of capacity `HOOKS` (a const generic of the client).
//! A hook beyond the capacity makes
//! [`ClientBuilder::build`](crate::ClientBuilder::build) fail with
//! [`RequestError::TooManyHooks`](crate::RequestError::TooManyHooks).
//!
//! Interceptors are synchronous closures: an `async` interceptor cannot be a
//! trait object, and what firmware does between attempts (set a header from
//! a stored token, tag a retry, turn a status into an error) does not wait.
//! A token that has to be fetched over the network is fetched before the
//! call. Middleware ([`tenace::Middleware`]) is synchronous already.

use core::fmt;

use heapless::Vec;
use tenace::{
    AttemptContext, AttemptOutcome, CallOutcome, Instant, Middleware, RetryEvent, StopReason,
};

use crate::error::Error;
use crate::request::Request;
use crate::response::Head;

/// A request interceptor: edits each attempt's copy of the request; an error
/// ends the attempt like a transport error.
pub(crate) type RequestHook<'a> =
    dyn for<'x> Fn(&mut Request<'x>, &AttemptContext) -> Result<(), Error> + 'a;

/// A response interceptor: sees each response head; may turn it into an
/// error.
pub(crate) type ResponseHook<'a> = dyn Fn(Head, &AttemptContext) -> Result<Head, Error> + 'a;

/// Request interceptors, run in the order they were added.
pub(crate) struct RequestHooks<'a, const N: usize>(pub(crate) Vec<&'a RequestHook<'a>, N>);

/// Response interceptors, run in the order they were added.
pub(crate) struct ResponseHooks<'a, const N: usize>(pub(crate) Vec<&'a ResponseHook<'a>, N>);

/// Middleware, called in the order they were added (as a tuple's are).
pub(crate) struct Middlewares<'a, const N: usize>(pub(crate) Vec<&'a dyn Middleware, N>);

impl<const N: usize> fmt::Debug for RequestHooks<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} request interceptor(s)", self.0.len())
    }
}

impl<const N: usize> fmt::Debug for ResponseHooks<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} response interceptor(s)", self.0.len())
    }
}

impl<const N: usize> fmt::Debug for Middlewares<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} middleware", self.0.len())
    }
}

/// Every hook of a client, by kind.
#[derive(Debug)]
pub(crate) struct Hooks<'a, const N: usize> {
    pub(crate) request: RequestHooks<'a, N>,
    pub(crate) response: ResponseHooks<'a, N>,
    pub(crate) middleware: Middlewares<'a, N>,
}

impl<const N: usize> Hooks<'_, N> {
    pub(crate) const fn new() -> Self {
        Self {
            request: RequestHooks(Vec::new()),
            response: ResponseHooks(Vec::new()),
            middleware: Middlewares(Vec::new()),
        }
    }
}

impl<const N: usize> RequestHooks<'_, N> {
    /// Runs every request interceptor on `request`, in order; the first
    /// error ends the attempt.
    pub(crate) fn run(&self, request: &mut Request<'_>, cx: &AttemptContext) -> Result<(), Error> {
        self.0.iter().try_for_each(|hook| hook(request, cx))
    }
}

impl<const N: usize> ResponseHooks<'_, N> {
    /// Runs every response interceptor on `head`, in order; the first error
    /// ends the attempt.
    pub(crate) fn run(&self, head: Head, cx: &AttemptContext) -> Result<Head, Error> {
        self.0.iter().try_fold(head, |head, hook| hook(head, cx))
    }
}

impl<const N: usize> Middleware for Middlewares<'_, N> {
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        self.0.iter().try_for_each(|m| m.before_call(now))
    }
    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        for m in &self.0 {
            m.after_attempt(outcome, now);
        }
    }
    fn allow_retry(&self, event: &RetryEvent) -> bool {
        self.0.iter().all(|m| m.allow_retry(event))
    }
    fn on_retry(&self, event: &RetryEvent) {
        for m in &self.0 {
            m.on_retry(event);
        }
    }
    fn after_call(&self, outcome: &CallOutcome) {
        for m in &self.0 {
            m.after_call(outcome);
        }
    }
}
