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
//! Request interceptors that run once per call share their list with the
//! per-attempt ones (the once-per-call ones first, then the others, each
//! group in the order added), and final-only response interceptors share
//! theirs with the per-attempt ones (the per-attempt ones first): one index
//! per list says where the groups meet, so choosing a timing costs no extra
//! capacity.
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

/// Request interceptors: `hooks[..once]` run once per call, the rest on
/// every attempt; each group in the order it was added.
pub(crate) struct RequestHooks<'a, const N: usize> {
    hooks: Vec<&'a RequestHook<'a>, N>,
    once: usize,
}

/// Response interceptors: `hooks[..each]` run on every attempt's response,
/// the rest on the call's final response only; each group in the order it
/// was added.
pub(crate) struct ResponseHooks<'a, const N: usize> {
    hooks: Vec<&'a ResponseHook<'a>, N>,
    each: usize,
}

/// Middleware, called in the order they were added (as a tuple's are).
pub(crate) struct Middlewares<'a, const N: usize>(pub(crate) Vec<&'a dyn Middleware, N>);

impl<const N: usize> fmt::Debug for RequestHooks<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} request interceptor(s), {} once per call",
            self.hooks.len(),
            self.once
        )
    }
}

impl<const N: usize> fmt::Debug for ResponseHooks<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} response interceptor(s), {} final-only",
            self.hooks.len(),
            self.hooks.len().saturating_sub(self.each)
        )
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
            request: RequestHooks {
                hooks: Vec::new(),
                once: 0,
            },
            response: ResponseHooks {
                hooks: Vec::new(),
                each: 0,
            },
            middleware: Middlewares(Vec::new()),
        }
    }
}

impl<'a, const N: usize> RequestHooks<'a, N> {
    /// Adds a per-attempt interceptor; `Err` when the list is full.
    pub(crate) fn push_each(&mut self, hook: &'a RequestHook<'a>) -> Result<(), ()> {
        self.hooks.push(hook).map_err(drop)
    }

    /// Adds a once-per-call interceptor, after the other once-per-call ones
    /// and before every per-attempt one; `Err` when the list is full.
    pub(crate) fn push_once(&mut self, hook: &'a RequestHook<'a>) -> Result<(), ()> {
        self.hooks.insert(self.once, hook).map_err(drop)?;
        self.once += 1;
        Ok(())
    }

    /// How many request interceptors there are, of both timings.
    pub(crate) fn len(&self) -> usize {
        self.hooks.len()
    }

    /// Runs the once-per-call interceptors on the call's `request`, in
    /// order; the first error ends the call.
    pub(crate) fn run_once(
        &self,
        request: &mut Request<'_>,
        cx: &AttemptContext,
    ) -> Result<(), Error> {
        let once = self.hooks.get(..self.once).unwrap_or_default();
        once.iter().try_for_each(|hook| hook(request, cx))
    }

    /// Runs every per-attempt interceptor on `request`, in order; the first
    /// error ends the attempt.
    pub(crate) fn run(&self, request: &mut Request<'_>, cx: &AttemptContext) -> Result<(), Error> {
        let each = self.hooks.get(self.once..).unwrap_or_default();
        each.iter().try_for_each(|hook| hook(request, cx))
    }
}

impl<'a, const N: usize> ResponseHooks<'a, N> {
    /// Adds a per-attempt interceptor, after the other per-attempt ones and
    /// before every final-only one; `Err` when the list is full.
    pub(crate) fn push_each(&mut self, hook: &'a ResponseHook<'a>) -> Result<(), ()> {
        self.hooks.insert(self.each, hook).map_err(drop)?;
        self.each += 1;
        Ok(())
    }

    /// Adds a final-only interceptor; `Err` when the list is full.
    pub(crate) fn push_final(&mut self, hook: &'a ResponseHook<'a>) -> Result<(), ()> {
        self.hooks.push(hook).map_err(drop)
    }

    /// How many response interceptors there are, of both timings.
    pub(crate) fn len(&self) -> usize {
        self.hooks.len()
    }

    /// Runs every per-attempt interceptor on `head`, in order; the first
    /// error ends the attempt.
    pub(crate) fn run(&self, head: Head, cx: &AttemptContext) -> Result<Head, Error> {
        let each = self.hooks.get(..self.each).unwrap_or_default();
        each.iter().try_fold(head, |head, hook| hook(head, cx))
    }

    /// Runs the final-only interceptors on the head the call returns, in
    /// order; the first error ends the call.
    pub(crate) fn run_final(&self, head: Head, cx: &AttemptContext) -> Result<Head, Error> {
        let last = self.hooks.get(self.each..).unwrap_or_default();
        last.iter().try_fold(head, |head, hook| hook(head, cx))
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
    fn after_copy(&self, kind: tenace::FailureKind, started: Instant, now: Instant) {
        for m in &self.0 {
            m.after_copy(kind, started, now);
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
