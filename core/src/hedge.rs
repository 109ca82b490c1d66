//! Hedged requests: after a delay, more copies of an idempotent request run
//! side by side, and the first answer wins.
//!
//! A slow server (a long garbage-collection pause, a cold cache) makes a
//! retry useless: nothing failed, the answer is just late. A hedge sends the
//! same request again once the first copy has taken longer than the hedge
//! delay, and takes whichever copy answers first; the others are dropped,
//! which cancels them.
//!
//! # The rules
//!
//! - Copy 1 starts at once. Copy `k + 1` starts when copy `k` has run for
//!   the hedge delay ([`HedgeDelay`]) without an answer, or at once when
//!   copy `k` fails with an error the policy's predicate retries.
//! - At most `1 + N` copies run, `N` being the const generic of [`Hedge`]
//!   (or fewer, see [`Hedge::max_extra`]); when they have all failed the
//!   call stops with [`StopReason::Exhausted`].
//! - The first success wins and every other copy is dropped (cancelled).
//!   An error the predicate refuses ends the call at once with that error
//!   ([`NotRetryable`](crate::StopReason::NotRetryable)), dropping the
//!   other copies.
//! - A request that is not replay-safe ([`Replay::Unsafe`](crate::Replay))
//!   is never hedged: one copy runs, and a new one starts only after a
//!   failure that cannot have reached the server
//!   ([`FailureKind::Connect`]).
//! - A copy never starts at or past the deadline, and each copy's time is
//!   cut to what is left before it, so the whole call ends by the deadline.
//!   The per-attempt timeout applies to each copy from its own start.
//! - The middleware hears one call: one
//!   [`before_call`](crate::Middleware::before_call) (a circuit breaker
//!   admits the call once) and one
//!   [`after_call`](crate::Middleware::after_call). A copy that fails
//!   while the call goes on is told to
//!   [`after_copy`](crate::Middleware::after_copy), so a circuit breaker
//!   counts every request the hedge sent: each failed copy, then the
//!   call's own result. Every copy past the
//!   first is asked for like a retry: [`allow_retry`](crate::Middleware::allow_retry)
//!   may veto it (a retry budget spends a token per copy) and
//!   [`on_retry`](crate::Middleware::on_retry) sees it, with a zero delay
//!   and the kind of the failure that started it
//!   ([`FailureKind::Timeout`] for a copy the
//!   hedge delay starts). Every copy that ends is reported to
//!   [`after_attempt`](crate::Middleware::after_attempt); a dropped copy
//!   has no outcome and is not reported. A vetoed copy does not start; the
//!   copies in flight go on.
//! - The policy's `max_retries` and backoff do not apply: the number of
//!   copies is the hedge's, and the strategy serves only as
//!   [`HedgeDelay::Strategy`]. A success's [`Retried::attempts`] counts the
//!   copies started, and its `slept` is zero.
//!
//! # Compared with Polly and gRPC
//!
//! Polly's hedging strategy has `MaxHedgedAttempts` (here `N`), `Delay`
//! and `DelayGenerator` ([`HedgeDelay::Fixed`], [`HedgeDelay::Strategy`]);
//! a zero delay starts every copy at once (Polly's parallel mode) and
//! [`HedgeDelay::OnFailure`] starts a copy only after a failure (Polly's
//! fallback mode, its infinite delay). As in Polly, a handled failure lets
//! the next copy start at once.
//!
//! gRPC's `hedgingPolicy` (A6) has `maxAttempts` (here `1 + N`),
//! `hedgingDelay` and `nonFatalStatusCodes` (here the policy's predicate);
//! a fatal status ends the call and cancels the other copies, and its retry
//! throttling counts every copy, as the budget here does. Where tenace
//! differs: gRPC delays the next hedge by a server's pushback delay, while
//! tenace starts no more copies after a delay hint (the server asked for
//! time; adding load is the opposite) and lets the copies in flight finish,
//! ending with [`ServerWait`](crate::StopReason::ServerWait) if none
//! answers. And gRPC stops hedging for a non-idempotent method only
//! through configuration; tenace applies its replay rule
//! ([`Replay`](crate::Replay)) to every call.
//!
//! # Costs
//!
//! No allocation: the copies are `1 + N` futures in a fixed array inside
//! the call's future, so the future grows by about one attempt (the
//! transport's future, its timeout and a hedge timer) per extra copy.

use core::future::{Future, poll_fn};
use core::task::Poll;
use core::time::Duration;

use embassy_futures::select::{Either, select, select_array};
use portable_atomic::AtomicBool;
use rand_core::Rng;

use crate::driver::{Attempt, Bare, Intercepted, Pipeline};
use crate::error::{FailureKind, RetryError, StopReason, TransportError};
use crate::interceptor::{AttemptContext, RequestInterceptor, ResponseInterceptor};
use crate::machine::{Hedged, Retried};
use crate::middleware::Middleware;
use crate::policy::{Policy, RetryOn};
use crate::strategy::RetryStrategy;
use crate::transport::{Clock, Transport};

/// When the next copy of a hedged call starts, if no failure starts it
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HedgeDelay {
    /// This long after the previous copy started (Polly's `Delay`, gRPC's
    /// `hedgingDelay`). Zero starts every copy at once.
    Fixed(Duration),
    /// The policy's strategy decides: copy `k + 1` starts
    /// `strategy.delay(k)` after copy `k` (Polly's `DelayGenerator`).
    Strategy,
    /// Never on a timer: a copy starts only when the previous one failed
    /// (Polly's fallback mode).
    OnFailure,
}

/// How a call is hedged: up to `N` extra copies, started per the
/// [`HedgeDelay`].
///
/// ```
/// # use core::time::Duration;
/// use tenace::{Hedge, HedgeDelay};
/// let hedge = Hedge::<2>::after(Duration::from_millis(50));
/// assert_eq!((hedge.extra(), hedge.delay()), (2, HedgeDelay::Fixed(Duration::from_millis(50))));
/// assert_eq!(hedge.max_extra(1).extra(), 1);
/// assert_eq!(hedge.max_extra(9).extra(), 2); // never more than N
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Hedge<const N: usize> {
    delay: HedgeDelay,
    extra: u32,
}

impl<const N: usize> Hedge<N> {
    /// `N` extra copies, each `delay` after the previous one.
    pub const fn after(delay: Duration) -> Self {
        Self::new(HedgeDelay::Fixed(delay))
    }

    /// `N` extra copies, started per `delay`.
    pub const fn new(delay: HedgeDelay) -> Self {
        Self {
            delay,
            extra: if N > u32::MAX as usize {
                u32::MAX
            } else {
                N as u32
            },
        }
    }

    /// At most `extra` extra copies: fewer than `N` for this call, never
    /// more (`N` sizes the call's future; `0` turns hedging off).
    #[must_use]
    pub const fn max_extra(mut self, extra: u32) -> Self {
        if extra < self.extra {
            self.extra = extra;
        }
        self
    }

    /// When the next copy starts.
    pub const fn delay(&self) -> HedgeDelay {
        self.delay
    }

    /// How many extra copies may start.
    pub const fn extra(&self) -> u32 {
        self.extra
    }
}

/// Sends `request` through `transport` hedged per `hedge`, under `policy`'s
/// predicate, deadline and per-attempt timeout: see the
/// [module documentation](mod@crate::hedge) for the rules.
///
/// ```
/// # use core::time::Duration;
/// use tenace::testing::{MockClock, ScriptedTransport, Step};
/// use tenace::{FixedDelay, Hedge, Policy, SeededRng};
///
/// const S: Duration = Duration::from_secs(1);
/// let clock = MockClock::new();
/// // Copy 1 takes 5 s; copy 2, started by the hedge at 1 s, takes 1 s.
/// let transport = ScriptedTransport::new([Step::ok("slow").after(S * 5), Step::ok("fast").after(S)])
///     .with_clock(&clock)
///     .latency_sleeps();
/// let policy = Policy::new(FixedDelay::new(S));
/// let answer = embassy_futures::block_on(tenace::hedge(
///     &transport, &clock, &policy, &Hedge::<1>::after(S), &mut SeededRng::new(1), "GET /",
/// ))
/// .unwrap();
/// assert_eq!((answer.value, answer.attempts, clock.now().as_duration()), ("fast", 2, S * 2));
/// assert_eq!(transport.cancelled(), 1); // copy 1 was dropped
/// ```
pub fn hedge<'a, const N: usize, T, C, S, P, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    hedge: &'a Hedge<N>,
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
    race(transport, clock, policy, hedge, (), Bare, rng, request)
}

/// As [`hedge`], with interceptors and middleware. Request interceptors
/// run on each copy, once-per-call ones once before the first; final-only
/// response interceptors run on the winning copy's response.
pub fn hedge_with<'a, const N: usize, T, C, S, P, I, O, M, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    hedge: &'a Hedge<N>,
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
    race(
        transport,
        clock,
        policy,
        hedge,
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

/// What every copy of one hedged call shares. Copies run in one task and
/// never hold a lock across an await, so a lock is never contended: the
/// `spin` mutex only keeps the call's future `Send` (a `RefCell` would
/// not be `Sync`, and the copies share the race by reference).
struct Race<'r, T: Transport, C, S, P, M: Middleware, A, R: ?Sized, const N: usize> {
    transport: &'r T,
    clock: &'r C,
    policy: &'r Policy<S, P>,
    hedge: &'r Hedge<N>,
    attempt: &'r A,
    request: &'r T::Request,
    call: spin::Mutex<Hedged<S, M>>,
    rng: spin::Mutex<&'r mut R>,
}

/// How one copy ended the call.
type Ending<T> = Result<
    (Retried<()>, <T as Transport>::Response),
    (StopReason, Option<<T as Transport>::Error>),
>;

impl<T, C, S, P, M, A, R, const N: usize> Race<'_, T, C, S, P, M, A, R, N>
where
    T: Transport,
    T::Request: Clone,
    C: Clock,
    S: RetryStrategy + Clone,
    P: RetryOn<T::Error>,
    M: Middleware,
    A: Attempt<T>,
    R: Rng + ?Sized,
{
    fn attempts(&self) -> u32 {
        self.call.lock().attempts()
    }

    /// Waits until at least `n` copies have started.
    async fn started(&self, n: u32) {
        // No waker is kept: copies start only while the copies of this
        // call are polled, copy `k` before copy `k + 1`, and a copy that
        // starts the next one also wakes the task (see `wake`).
        poll_fn(|_| {
            if self.attempts() >= n {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// Copy `index` (0 is the first): waits for its turn, runs, and returns
    /// only if it ends the call.
    async fn copy(&self, index: u32) -> Ending<T> {
        if index > 0 {
            self.started(index).await;
            if self.attempts() == index {
                let delay = self.call.lock().delay(
                    self.policy,
                    self.hedge.delay,
                    index,
                    &mut **self.rng.lock(),
                );
                let timer = match delay {
                    None => false,
                    Some(d) if d.is_zero() => true,
                    Some(d) => match select(self.clock.sleep(d), self.started(index + 1)).await {
                        Either::First(()) => true,
                        Either::Second(()) => false,
                    },
                };
                if !timer {
                    // Started by the previous copy's failure.
                    self.started(index + 1).await;
                } else if self
                    .call
                    .lock()
                    .admit(FailureKind::Timeout, self.clock.now())
                    .is_err()
                {
                    // Refused: the copies in flight go on without this one.
                    return core::future::pending().await;
                }
            }
        }
        let now = self.clock.now();
        let copy_started = now;
        let (timeout, started) = {
            let call = self.call.lock();
            (call.timeout(self.policy, now), call.started())
        };
        let cx = AttemptContext::new(index + 1, now.saturating_duration_since(started));
        let answer = self.attempt.run(self.transport, self.request.clone(), cx);
        let result = match timeout {
            None => answer.await,
            Some(limit) => match select(answer, self.clock.sleep(limit)).await {
                Either::First(result) => result,
                Either::Second(()) => Err(T::Error::timed_out(limit)),
            },
        };
        let now = self.clock.now();
        // In a block, so the lock and the error end before the await.
        {
            let mut call = self.call.lock();
            match result {
                Ok(response) => return Ok((call.on_success(now), response)),
                Err(error) if self.attempt.failed_late() => {
                    return Err((call.refuse(error.kind(), now), Some(error)));
                }
                Err(error) => {
                    if let Some(reason) = call.on_error(self.policy, &error, copy_started, now) {
                        return Err((reason, Some(error)));
                    }
                }
            }
        }
        // The call goes on without this copy. The next copy may have been
        // admitted: have the task polled again, then wait for good.
        poll_fn(|cx| {
            cx.waker().wake_by_ref();
            Poll::Ready(())
        })
        .await;
        core::future::pending().await
    }
}

/// The hedging driver: copies in a fixed array, raced; the machine
/// ([`Hedged`]) decides.
#[allow(clippy::manual_async_fn, clippy::too_many_arguments)]
fn race<'a, const N: usize, T, C, S, P, M, A, R>(
    transport: &'a T,
    clock: &'a C,
    policy: &'a Policy<S, P>,
    hedge: &'a Hedge<N>,
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
        if A::HOOKS
            && let Err(error) = attempt.prepare(&mut request).await
        {
            return Err(RetryError::new(StopReason::NotRetryable, 0, Some(error)));
        }
        let replay = transport.replay(&request);
        let copies = hedge.extra.saturating_add(1);
        let call = match Hedged::start(policy, replay, middleware, clock.now(), copies) {
            Ok(call) => call,
            Err(reason) => return Err(RetryError::new(reason, 0, None)),
        };
        let race = Race {
            transport,
            clock,
            policy,
            hedge,
            attempt: &attempt,
            request: &request,
            call: spin::Mutex::new(call),
            rng: spin::Mutex::new(rng),
        };
        let hedges: [_; N] = core::array::from_fn(|i| race.copy(i as u32 + 1));
        let ending = match select(race.copy(0), select_array(hedges)).await {
            Either::First(ending) | Either::Second((ending, _)) => ending,
        };
        let attempts = race.attempts();
        match ending {
            Ok((done, response)) => Ok(done.map(|()| response)),
            Err((reason, error)) => Err(RetryError::new(reason, attempts, error)),
        }
    }
}
