//! The drivers: loops that run the machine against a transport and a clock.
//!
//! [`retry`] and [`retry_with`] are `async fn`s generic over everything, with
//! no `Box`, no `dyn` future and no allocation; their future is one concrete
//! type that lives on the caller's stack (or in an embassy task). The loop is
//! `interceptors → transport → response interceptors → classify → machine →
//! sleep`. [`retry_blocking`] runs the same machine for firmware without an
//! executor.
//!
//! # Cancellation
//!
//! Dropping the future at any await point (an interceptor, the transport, a
//! sleep) is safe: nothing is left half-done in the engine, and the
//! middleware's [`after_call`](crate::Middleware::after_call) is told
//! [`CallResult::Cancelled`](crate::CallResult::Cancelled), so a circuit
//! breaker or a budget stays consistent.

use core::time::Duration;

use core::future::Future;

use embassy_futures::select::{Either, select};

use rand_core::Rng;

use crate::error::{FailureKind, RetryError, StopReason, TransportError};
use crate::interceptor::{AttemptContext, RequestInterceptor, ResponseInterceptor};
use crate::machine::{CallState, Decision, Failure};
use crate::middleware::{AttemptOutcome, CallOutcome, CallResult, Middleware, RetryEvent};
use crate::policy::{Policy, RetryOn};
use crate::strategy::RetryStrategy;
use crate::time::Instant;
use crate::transport::{BlockingClock, BlockingTransport, Clock, Transport};

/// Interceptors and middleware for one call: what runs around the transport.
///
/// `()` in any slot means "none". Several of a kind compose as a tuple.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pipeline<I = (), O = (), M = ()> {
    /// Request interceptors, run on a fresh copy of the request before each
    /// attempt.
    pub request: I,
    /// Response interceptors, run on each response.
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
/// let response = embassy_futures::block_on(tenace::retry(&transport, &clock, &policy, &mut SeededRng::new(1), "GET /"));
/// assert_eq!(response.unwrap(), 200);
/// assert_eq!(clock.sleeps().as_slice(), [Duration::from_secs(2), Duration::from_secs(4)]);
/// # Ok::<(), tenace::ConfigError>(())
/// ```
pub fn retry<'a, T, C, S, P, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    rng: &'a mut R,
    request: T::Request,
) -> impl Future<Output = Result<T::Response, RetryError<T::Error>>> + 'a
where
    T: Transport,
    T::Request: Clone + 'a,
    C: Clock,
    S: RetryStrategy + Clone,
    P: RetryOn<T::Error>,
    R: Rng + ?Sized,
{
    // Not an `async fn`: returning `drive`'s future directly keeps one
    // state machine instead of two nested ones. The empty pipeline is held
    // by value: zero bytes, where a reference would take eight.
    drive(transport, clock, policy, Pipeline::new(), rng, request)
}

/// As [`retry`], with interceptors and middleware.
// Not an `async fn`: an `async fn` moves its arguments into locals and its
// future keeps room for both copies; an `async move` block uses the
// captured arguments in place (40 bytes less here, 24 in `attempt`).
#[allow(clippy::manual_async_fn)]
pub fn retry_with<'a, T, C, S, P, I, O, M, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    pipeline: &'a Pipeline<I, O, M>,
    rng: &'a mut R,
    request: T::Request,
) -> impl Future<Output = Result<T::Response, RetryError<T::Error>>> + 'a
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
    drive(transport, clock, policy, pipeline, rng, request)
}

/// A pipeline the driver holds by value (the empty one of [`retry`]) or by
/// reference ([`retry_with`]'s).
trait PipelineRef {
    type I;
    type O;
    type M: Middleware;
    fn get(&self) -> &Pipeline<Self::I, Self::O, Self::M>;
}

impl<I, O, M: Middleware> PipelineRef for Pipeline<I, O, M> {
    type I = I;
    type O = O;
    type M = M;
    #[inline(always)]
    fn get(&self) -> &Self {
        self
    }
}

impl<I, O, M: Middleware> PipelineRef for &Pipeline<I, O, M> {
    type I = I;
    type O = O;
    type M = M;
    #[inline(always)]
    fn get(&self) -> &Pipeline<I, O, M> {
        self
    }
}

/// The async driver's clock and pipeline, as the call guard holds them.
struct AsyncEnv<'a, C, L> {
    clock: &'a C,
    pipeline: L,
}

impl<C: Clock, L: PipelineRef> Env for AsyncEnv<'_, C, L> {
    type M = L::M;
    #[inline(always)]
    fn middleware(&self) -> &L::M {
        &self.pipeline.get().middleware
    }
    #[inline(always)]
    fn now(&self) -> Instant {
        self.clock.now()
    }
}

/// The loop of [`retry`] and [`retry_with`].
// Not an `async fn`: an `async fn` moves its arguments into locals and its
// future keeps room for both copies; an `async move` block uses the
// captured arguments in place (40 bytes less here, 24 in `attempt`). No
// local reference lives across an await either: each would be stored in
// the future.
#[allow(clippy::manual_async_fn)]
fn drive<'a, T, C, S, P, L, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    pipeline: L,
    rng: &'a mut R,
    request: T::Request,
) -> impl Future<Output = Result<T::Response, RetryError<T::Error>>> + 'a
where
    T: Transport,
    T::Request: Clone + 'a,
    C: Clock,
    S: RetryStrategy + Clone,
    P: RetryOn<T::Error>,
    L: PipelineRef + 'a,
    L::I: RequestInterceptor<T::Request, T::Error>,
    L::O: ResponseInterceptor<T::Response, T::Error>,
    R: Rng + ?Sized,
{
    async move {
        let started = clock.now();
        if let Err(reason) = pipeline.get().middleware.before_call(started) {
            debug!("tenace: call refused ({})", reason.as_str());
            return Err(RetryError::new(reason, 0, None));
        }
        // The limits are read through the borrowed policy, never copied
        // (nor kept as a local across the awaits). The pipeline moves into
        // the guard: `retry`'s empty one takes no room there, and the guard
        // holds no reference into the future (which would keep the call
        // state in memory rather than in registers).
        let mut call = CallGuard::new(
            CallState::new(policy.limits(), transport.is_idempotent(&request), started),
            AsyncEnv { clock, pipeline },
        );
        let mut last_kind = None;
        loop {
            let now = clock.now();
            let timeout = match call.state.begin_attempt(policy.limits(), now) {
                Ok(t) => t,
                Err(reason) => return Err(call.fail(reason, last_kind, None)),
            };
            // In a block, so the result, the error and the delay are not
            // kept in the future across the backoff's sleep.
            let delay = {
                let cx = AttemptContext::new(
                    call.state.attempts(),
                    if <L::I as RequestInterceptor<T::Request, T::Error>>::IS_NOOP
                        && <L::O as ResponseInterceptor<T::Response, T::Error>>::IS_NOOP
                    {
                        Duration::ZERO // unread: no interceptor
                    } else {
                        now.saturating_duration_since(call.state.started())
                    },
                );
                // With no interceptors (`()`), this is the transport's own
                // future: see `RequestInterceptor::attempt`.
                let attempt = call.env.pipeline.get().request.attempt(
                    transport,
                    &call.env.pipeline.get().response,
                    request.clone(),
                    cx,
                );
                let result = match timeout {
                    None => attempt.await,
                    Some(limit) => match select(attempt, clock.sleep(limit)).await {
                        Either::First(result) => result,
                        Either::Second(()) => Err(T::Error::timed_out(limit)),
                    },
                };
                let now = clock.now();
                match result {
                    Ok(response) => {
                        call.env
                            .middleware()
                            .after_attempt(AttemptOutcome::Success, now);
                        call.finish(CallResult::Success);
                        return Ok(response);
                    }
                    Err(error) => {
                        let kind = error.kind();
                        last_kind = Some(kind);
                        match call.settle(policy, &error, now, rng) {
                            Ok(delay) => delay,
                            Err(reason) => {
                                return Err(call.fail(reason, Some(kind), Some(error)));
                            }
                        }
                    }
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

/// The call's state and strategy, and the guard that tells the middleware
/// how the call ended, also when the future is dropped mid-call. It reads
/// the start and the attempt count from the state instead of keeping copies
/// in the future, and holds the driver's [`Env`]: its middleware and clock.
struct CallGuard<S: RetryStrategy + Clone, E: Env> {
    state: CallState,
    /// The policy's strategy, cloned at the first failure: a call that
    /// succeeds at once never copies it.
    strategy: Option<S>,
    env: E,
}

impl<S: RetryStrategy + Clone, En: Env> CallGuard<S, En> {
    #[inline]
    fn new(state: CallState, env: En) -> Self {
        Self {
            state,
            strategy: None,
            env,
        }
    }

    /// After a failed attempt: ask the predicate, the machine and the
    /// middleware. `Ok(delay)` to retry after `delay`, `Err(reason)` to
    /// stop. Shared by both drivers so they cannot drift apart.
    fn settle<P, E, R>(
        &mut self,
        policy: &Policy<S, P>,
        error: &E,
        now: Instant,
        rng: &mut R,
    ) -> Result<Duration, StopReason>
    where
        P: RetryOn<E>,
        E: TransportError,
        R: Rng + ?Sized,
    {
        let kind = error.kind();
        self.env
            .middleware()
            .after_attempt(AttemptOutcome::Failure(kind), now);
        let failure = Failure::new(kind, policy.get_retry_on().retry_on(error))
            .with_retry_after(error.retry_after());
        match self.state.on_failure(
            self.strategy
                .get_or_insert_with(|| policy.get_strategy().clone()),
            policy.limits(),
            &failure,
            now,
            rng,
        ) {
            Decision::Stop(reason) => Err(reason),
            Decision::Retry { delay } => {
                let event = RetryEvent {
                    attempt: self.state.attempts(),
                    kind,
                    delay,
                    elapsed: now.saturating_duration_since(self.state.started()),
                };
                let middleware = self.env.middleware();
                if !middleware.allow_retry(&event) {
                    return Err(StopReason::Budget);
                }
                middleware.on_retry(&event);
                debug!(
                    "tenace: attempt {} failed ({}), retrying in {} ms",
                    event.attempt,
                    kind.as_str(),
                    delay.as_millis() as u64
                );
                Ok(delay)
            }
        }
    }

    fn finish(&mut self, result: CallResult) {
        self.state.done = true;
        self.env.middleware().after_call(&CallOutcome {
            result,
            attempts: self.state.attempts(),
            started: self.state.started(),
            finished: self.env.now(),
        });
    }

    fn fail<E>(
        &mut self,
        reason: StopReason,
        kind: Option<FailureKind>,
        last: Option<E>,
    ) -> RetryError<E> {
        let attempts = self.state.attempts();
        debug!(
            "tenace: giving up after {} attempts ({})",
            attempts,
            reason.as_str()
        );
        self.finish(CallResult::Failed(reason, kind));
        RetryError::new(reason, attempts, last)
    }
}

impl<S: RetryStrategy + Clone, E: Env> Drop for CallGuard<S, E> {
    fn drop(&mut self) {
        if !self.state.done {
            self.finish(CallResult::Cancelled);
        }
    }
}

/// What the call guard needs from a driver: its middleware and the time
/// (of either clock flavour), so one guard serves both drivers.
trait Env {
    type M: Middleware;
    fn middleware(&self) -> &Self::M;
    fn now(&self) -> Instant;
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
) -> Result<T::Response, RetryError<T::Error>>
where
    T: BlockingTransport,
    T::Request: Clone,
    C: BlockingClock,
    S: RetryStrategy + Clone,
    P: RetryOn<T::Error>,
    M: Middleware,
    R: Rng + ?Sized,
{
    let started = clock.now();
    if let Err(reason) = middleware.before_call(started) {
        return Err(RetryError::new(reason, 0, None));
    }
    let limits = policy.limits();
    let mut call = CallGuard::new(
        CallState::new(limits, transport.is_idempotent(&request), started),
        BlockingEnv { clock, middleware },
    );
    let mut last_kind = None;
    loop {
        let timeout = match call.state.begin_attempt(limits, clock.now()) {
            Ok(t) => t,
            Err(reason) => return Err(call.fail(reason, last_kind, None)),
        };
        let result = transport.send(request.clone(), timeout);
        let now = clock.now();
        match result {
            Ok(response) => {
                middleware.after_attempt(AttemptOutcome::Success, now);
                call.finish(CallResult::Success);
                return Ok(response);
            }
            Err(error) => {
                let kind = error.kind();
                last_kind = Some(kind);
                match call.settle(policy, &error, now, rng) {
                    Ok(delay) => {
                        drop(error);
                        if delay > Duration::ZERO {
                            clock.sleep(delay);
                        }
                    }
                    Err(reason) => {
                        return Err(call.fail(reason, Some(kind), Some(error)));
                    }
                }
            }
        }
    }
}

/// The blocking driver's clock and middleware.
struct BlockingEnv<'a, C, M> {
    clock: &'a C,
    middleware: &'a M,
}

impl<C: BlockingClock, M: Middleware> Env for BlockingEnv<'_, C, M> {
    type M = M;
    #[inline(always)]
    fn middleware(&self) -> &M {
        self.middleware
    }
    #[inline(always)]
    fn now(&self) -> Instant {
        self.clock.now()
    }
}
