//! The drivers: loops that run the machine against a transport and a clock.
//!
//! [`retry`] and [`retry_with`] are `async fn`s generic over everything, with
//! no `Box`, no `dyn` future and no allocation; their future is one concrete
//! type that lives on the caller's stack (or in an embassy task). Once-per-call
//! request interceptors ([`PerCall`](crate::PerCall)) run first; then the
//! loop is `interceptors → transport → response interceptors → machine →
//! sleep`, and final-only response interceptors
//! ([`FinalOnly`](crate::FinalOnly)) see the response the call returns;
//! every decision (admission, timeouts, retry or stop, delay) is the
//! [`RetryMachine`]'s, the drivers only do the I/O. [`retry_blocking`] runs
//! the same machine for firmware without an executor.
//!
//! # Cancellation
//!
//! Dropping the future at any await point (an interceptor, the transport, a
//! sleep) is safe: nothing is left half-done in the engine, and the
//! machine tells the middleware's
//! [`after_call`](crate::Middleware::after_call)
//! [`CallResult::Cancelled`](crate::CallResult::Cancelled), so a circuit
//! breaker or a budget stays consistent.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use embassy_futures::select::{Either, select};
use portable_atomic::{AtomicBool, Ordering};
use rand_core::Rng;

use crate::error::{RetryError, StopReason, TransportError};
use crate::interceptor::{AttemptContext, RequestInterceptor, ResponseInterceptor};
use crate::machine::{Call, Decision, Retried, RetryMachine};
use crate::middleware::Middleware;
use crate::policy::{Policy, RetryOn};
use crate::strategy::RetryStrategy;
use crate::transport::{BlockingClock, BlockingTransport, Clock, Transport};

/// Interceptors and middleware for one call: what runs around the transport.
///
/// `()` in any slot means "none". Several of a kind compose as a tuple.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pipeline<I = (), O = (), M = ()> {
    /// Request interceptors, run on a fresh copy of the request before each
    /// attempt (those wrapped in [`PerCall`](crate::PerCall): once, on the
    /// call's request, before the call starts).
    pub request: I,
    /// Response interceptors, run on each response (those wrapped in
    /// [`FinalOnly`](crate::FinalOnly): on the response the call returns).
    pub response: O,
    /// Middleware around the whole retry loop.
    pub middleware: M,
}

impl Pipeline {
    /// An empty pipeline.
    pub const fn new() -> Self {
        Self {
            request: (),
            response: (),
            middleware: (),
        }
    }
}

impl<I, O, M> Pipeline<I, O, M> {
    /// Sets the request interceptor(s).
    pub fn request<I2>(self, request: I2) -> Pipeline<I2, O, M> {
        Pipeline {
            request,
            response: self.response,
            middleware: self.middleware,
        }
    }

    /// Sets the response interceptor(s).
    pub fn response<O2>(self, response: O2) -> Pipeline<I, O2, M> {
        Pipeline {
            request: self.request,
            response,
            middleware: self.middleware,
        }
    }

    /// Sets the middleware.
    pub fn middleware<M2>(self, middleware: M2) -> Pipeline<I, O, M2> {
        Pipeline {
            request: self.request,
            response: self.response,
            middleware,
        }
    }
}

/// Sends `request` through `transport`, retrying per `policy`.
///
/// On success, the response comes back in a [`Retried`] that says how many
/// attempts it took and how long the call slept.
///
/// ```
/// # use core::time::Duration;
/// use tenace::testing::{MockClock, ScriptedTransport, Step};
/// use tenace::{ExponentialBackoff, FailureKind, Policy, SeededRng};
///
/// let clock = MockClock::new();
/// let transport = ScriptedTransport::new([
///     Step::fail(FailureKind::Connect),
///     Step::fail(FailureKind::Io),
///     Step::ok(200u16),
/// ]);
/// let policy = Policy::new(ExponentialBackoff::new(Duration::from_secs(1), 2, Duration::from_secs(30))?);
/// let response = embassy_futures::block_on(tenace::retry(&transport, &clock, &policy, &mut SeededRng::new(1), "GET /"))
///     .unwrap();
/// assert_eq!((response.value, response.attempts, response.slept), (200, 3, Duration::from_secs(6)));
/// assert_eq!(clock.sleeps().as_slice(), [Duration::from_secs(2), Duration::from_secs(4)]);
/// # Ok::<(), tenace::ConfigError>(())
/// ```
pub fn retry<'a, T, C, S, P, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    rng: &'a mut R,
    request: T::Request,
) -> impl Future<Output = Result<Retried<T::Response>, RetryError<T::Error>>> + 'a
where
    T: Transport,
    T::Request: Clone + 'a,
    C: Clock,
    S: RetryStrategy + Clone,
    P: RetryOn<T::Error>,
    R: Rng + ?Sized,
{
    // Not an `async fn`: returning `drive`'s future directly keeps one
    // state machine instead of two nested ones. No interceptor runs, so
    // each attempt is the transport's own future.
    drive(transport, clock, policy, (), Bare, rng, request)
}

/// As [`retry`], with interceptors and middleware.
pub fn retry_with<'a, T, C, S, P, I, O, M, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    pipeline: &'a Pipeline<I, O, M>,
    rng: &'a mut R,
    request: T::Request,
) -> impl Future<Output = Result<Retried<T::Response>, RetryError<T::Error>>> + 'a
where
    T: Transport,
    T::Request: Clone + 'a,
    C: Clock,
    S: RetryStrategy + Clone,
    P: RetryOn<T::Error>,
    I: RequestInterceptor<T::Request, T::Error>,
    O: ResponseInterceptor<T::Response, T::Error>,
    M: Middleware,
    R: Rng + ?Sized,
{
    drive(
        transport,
        clock,
        policy,
        &pipeline.middleware,
        Intercepted {
            request: &pipeline.request,
            response: &pipeline.response,
            late: AtomicBool::new(false),
        },
        rng,
        request,
    )
}

/// How the async driver makes one attempt's future: the transport's alone
/// ([`Bare`]) or wrapped in interceptors ([`Intercepted`]). Chosen by the
/// entry point, so a call without interceptors carries no interceptor state.
pub(crate) trait Attempt<T: Transport> {
    /// Whether [`prepare`](Self::prepare) can do anything. The driver skips
    /// it when not, so a call without interceptors carries neither its
    /// state nor its code.
    const HOOKS: bool;

    /// Edits the call's request once, before the call starts.
    fn prepare<'s>(
        &'s self,
        request: &'s mut T::Request,
    ) -> impl Future<Output = Result<(), T::Error>>;

    fn run<'s>(
        &'s self,
        transport: &'s T,
        request: T::Request,
        cx: AttemptContext,
    ) -> impl Future<Output = Result<T::Response, T::Error>>;

    /// Whether the last attempt's error came from a final-only response
    /// interceptor: after the retry decision, so no predicate judges it.
    fn failed_late(&self) -> bool;
}

/// [`retry`]'s attempt: the transport's future itself.
pub(crate) struct Bare;

impl<T: Transport> Attempt<T> for Bare {
    const HOOKS: bool = false;

    #[inline(always)]
    fn prepare<'s>(
        &'s self,
        _request: &'s mut T::Request,
    ) -> impl Future<Output = Result<(), T::Error>> {
        Nothing(PhantomData)
    }

    #[inline(always)]
    fn run<'s>(
        &'s self,
        transport: &'s T,
        request: T::Request,
        _cx: AttemptContext,
    ) -> impl Future<Output = Result<T::Response, T::Error>> {
        transport.send(request)
    }

    #[inline(always)]
    fn failed_late(&self) -> bool {
        false
    }
}

/// [`Bare`]'s once-per-call step: ready at once, with no state to take (a
/// `core::future::Ready` would carry its value and a panic path for a
/// second poll).
struct Nothing<E>(PhantomData<E>);

impl<E> Future for Nothing<E> {
    type Output = Result<(), E>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(()))
    }
}

/// What once-per-call request interceptors are told: the first attempt is
/// next, and the call has not started.
static BEFORE_THE_CALL: AttemptContext = AttemptContext::new(1, Duration::ZERO);

/// [`retry_with`]'s attempt: request interceptors, the transport, response
/// interceptors.
pub(crate) struct Intercepted<'p, I, O> {
    pub(crate) request: &'p I,
    pub(crate) response: &'p O,
    /// Set when a final-only response interceptor refused the response.
    pub(crate) late: AtomicBool,
}

impl<T, I, O> Attempt<T> for Intercepted<'_, I, O>
where
    T: Transport,
    I: RequestInterceptor<T::Request, T::Error>,
    O: ResponseInterceptor<T::Response, T::Error>,
{
    const HOOKS: bool = true;

    fn prepare<'s>(
        &'s self,
        request: &'s mut T::Request,
    ) -> impl Future<Output = Result<(), T::Error>> {
        self.request.intercept_call(request, &BEFORE_THE_CALL)
    }

    // A block rather than an `async fn`, as in `drive`: the arguments are
    // used where they were captured, not copied into locals too.
    #[allow(clippy::manual_async_fn)]
    fn run<'s>(
        &'s self,
        transport: &'s T,
        mut request: T::Request,
        cx: AttemptContext,
    ) -> impl Future<Output = Result<T::Response, T::Error>> {
        async move {
            self.request.intercept(&mut request, &cx).await?;
            let answer = transport.send(request).await?;
            let response = self.response.intercept(answer, &cx).await?;
            // A response that passed every per-attempt interceptor is the
            // call's: the driver retries only errors.
            match self.response.intercept_final(response, &cx).await {
                Ok(response) => Ok(response),
                Err(error) => {
                    self.late.store(true, Ordering::Relaxed);
                    Err(error)
                }
            }
        }
    }

    #[inline]
    fn failed_late(&self) -> bool {
        self.late.load(Ordering::Relaxed)
    }
}

/// The loop of [`retry`] and [`retry_with`] (and of the closure API, which
/// has middleware but no interceptors): I/O only, the machine decides.
// Not an `async fn`: an `async fn` moves its arguments into locals and its
// future keeps room for both copies; an `async move` block uses the
// captured arguments in place. No local reference lives across an await
// either: each would be stored in the future.
#[allow(clippy::manual_async_fn)]
pub(crate) fn drive<'a, T, C, S, P, M, A, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    middleware: M,
    attempt: A,
    rng: &'a mut R,
    mut request: T::Request,
) -> impl Future<Output = Result<Retried<T::Response>, RetryError<T::Error>>> + 'a
where
    T: Transport,
    T::Request: Clone + 'a,
    C: Clock,
    S: RetryStrategy + Clone,
    P: RetryOn<T::Error>,
    M: Middleware + 'a,
    A: Attempt<T> + 'a,
    R: Rng + ?Sized,
{
    async move {
        // Once-per-call request interceptors edit the call's request before
        // the call starts: every attempt is a copy of the result, and the
        // replay rule sees their headers. An error ends the call unretried.
        if A::HOOKS
            && let Err(error) = attempt.prepare(&mut request).await
        {
            return Err(RetryError::new(StopReason::NotRetryable, 0, Some(error)));
        }
        let replay = transport.replay(&request);
        let mut call = match Call::start(policy, replay, middleware, clock.now()) {
            Ok(call) => call,
            Err(reason) => return Err(RetryError::new(reason, 0, None)),
        };
        loop {
            let now = clock.now();
            let timeout = match call.begin_attempt(policy, now) {
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
                let answer = attempt.run(transport, request.clone(), cx);
                let result = match timeout {
                    None => answer.await,
                    Some(limit) => match select(answer, clock.sleep(limit)).await {
                        Either::First(result) => result,
                        Either::Second(()) => Err(T::Error::timed_out(limit)),
                    },
                };
                let now = clock.now();
                match result {
                    Ok(response) => return Ok(call.on_success(now).map(|()| response)),
                    // A final-only response interceptor's error comes after
                    // the retry decision: no predicate judges it.
                    Err(error) if attempt.failed_late() => {
                        let reason = call.refuse(error.kind(), now);
                        return Err(RetryError::new(reason, call.attempts(), Some(error)));
                    }
                    Err(error) => match call.on_error(policy, &error, now, rng) {
                        Decision::Retry { delay } => delay,
                        Decision::Stop(reason) => {
                            return Err(RetryError::new(reason, call.attempts(), Some(error)));
                        }
                    },
                }
            };
            if !is_zero(delay) {
                clock.sleep_before_retry(delay).await;
            }
        }
    }
}

/// `d == 0`, taking `d` by value: comparing the driver's `delay` in place
/// would borrow it and keep it in the future across the sleep.
#[inline(always)]
const fn is_zero(d: Duration) -> bool {
    d.is_zero()
}

/// Sends `request` through a blocking transport, retrying per `policy`;
/// sleeps block the thread. For firmware without an executor and for
/// blocking clients. Request and response interceptors are async and do not
/// run here; middleware does.
pub fn retry_blocking<T, C, S, P, M, R>(
    transport: &T,
    clock: &C,
    policy: &Policy<S, P>,
    middleware: &M,
    rng: &mut R,
    request: T::Request,
) -> Result<Retried<T::Response>, RetryError<T::Error>>
where
    T: BlockingTransport,
    T::Request: Clone,
    C: BlockingClock,
    S: RetryStrategy + Clone,
    P: RetryOn<T::Error>,
    M: Middleware,
    R: Rng + ?Sized,
{
    let replay = transport.replay(&request);
    let mut call = match RetryMachine::start(policy, replay, middleware, clock.now()) {
        Ok(call) => call,
        Err(reason) => return Err(RetryError::new(reason, 0, None)),
    };
    loop {
        let timeout = match call.begin_attempt(clock.now()) {
            Ok(t) => t,
            Err(reason) => return Err(RetryError::new(reason, call.attempts(), None)),
        };
        let result = transport.send(request.clone(), timeout);
        let now = clock.now();
        match result {
            Ok(response) => return Ok(call.on_success(now).map(|()| response)),
            Err(error) => match call.on_error(&error, now, rng) {
                Decision::Retry { delay } => {
                    drop(error);
                    if delay > Duration::ZERO {
                        clock.sleep(delay);
                    }
                }
                Decision::Stop(reason) => {
                    return Err(RetryError::new(reason, call.attempts(), Some(error)));
                }
            },
        }
    }
}
