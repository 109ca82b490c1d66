//! The sans-IO retry machine: outcomes and the time in, decisions out.
//!
//! It performs no I/O, reads no clock and holds no future, and it makes
//! every decision of a call: whether the middleware (a circuit breaker)
//! admits it, how long each attempt may take, whether a failure is retried
//! (predicate, idempotency, `max_retries`, deadline, the middleware's veto
//! such as a retry budget) and after how long (strategy and the server's
//! delay hint). It also tells the middleware every attempt's outcome and
//! how the call ended, including a call dropped half-way. The async driver,
//! the blocking driver and a hand-written loop on a bare-metal super-loop
//! all drive this one machine, so they cannot disagree.
//!
//! ```
//! # use core::time::Duration;
//! use tenace::{Decision, Failure, FailureKind, FixedDelay, Instant, Policy, Replay, RetryMachine, SeededRng, StopReason};
//!
//! let policy = Policy::new(FixedDelay::new(Duration::from_secs(2)));
//! let mut rng = SeededRng::new(0);
//! // Admission: an open circuit breaker would refuse the call here.
//! let mut m = RetryMachine::start(&policy, Replay::Safe, (), Instant::ZERO).unwrap();
//! for n in 1..=3 {
//!     let _timeout = m.begin_attempt(Instant::ZERO).unwrap();
//!     let decision = m.on_failure(Failure::new(FailureKind::Io), Instant::ZERO, &mut rng);
//!     assert_eq!(decision, Decision::Retry { delay: Duration::from_secs(2) });
//!     assert_eq!(m.attempts(), n);
//! }
//! let _ = m.begin_attempt(Instant::ZERO).unwrap();
//! let decision = m.on_failure(Failure::new(FailureKind::Io), Instant::ZERO, &mut rng);
//! assert_eq!(decision, Decision::Stop(StopReason::Exhausted));
//! assert_eq!(m.attempts(), 4); // max_retries = 3: one call plus three retries
//! ```

use core::fmt;
use core::time::Duration;

use portable_atomic::{AtomicU32, Ordering};
use rand_core::Rng;

use crate::error::{FailureKind, StopReason, TransportError};
use crate::http::UNKNOWN_WAIT;
use crate::middleware::{AttemptOutcome, CallOutcome, CallResult, Middleware, RetryEvent};
use crate::policy::{Policy, RetryOn};
use crate::replay::Replay;
use crate::strategy::RetryStrategy;
use crate::time::{Instant, duration_to_nanos, nanos_to_duration};

/// One failed attempt, as the machine needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Failure {
    /// The failure's kind.
    pub kind: FailureKind,
    /// Whether the retry predicate (`retry_on`) accepted the failure.
    pub retryable: bool,
    /// The server's delay hint, relative to now (see
    /// [`http::delay_hint`](crate::http::delay_hint)).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure of `kind` that the predicate accepts, with no server hint.
    pub const fn new(kind: FailureKind) -> Self {
        Self {
            kind,
            retryable: true,
            retry_after: None,
        }
    }

    /// A failure of `kind` that the predicate refused: the machine stops
    /// with [`StopReason::NotRetryable`].
    pub const fn refused(kind: FailureKind) -> Self {
        Self {
            kind,
            retryable: false,
            retry_after: None,
        }
    }

    /// `error` as the machine sees it: its kind, its delay hint,
    /// and `predicate`'s verdict.
    pub fn classify<E, P>(error: &E, predicate: &P) -> Self
    where
        E: TransportError,
        P: RetryOn<E> + ?Sized,
    {
        Self {
            kind: error.kind(),
            retryable: predicate.retry_on(error),
            retry_after: error.retry_after(),
        }
    }

    /// The same failure with the server's delay hint.
    #[must_use]
    pub const fn with_retry_after(mut self, hint: Option<Duration>) -> Self {
        self.retry_after = hint;
        self
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub enum Decision {
    /// Sleep `delay`, then call [`RetryMachine::begin_attempt`] again.
    Retry {
        /// Time to wait before the next attempt.
        delay: Duration,
    },
    /// Give up for this reason. The machine has told the middleware.
    Stop(StopReason),
}

/// Identifies one call in [`RetryEvent`]s, [`CallOutcome`]s and
/// [`Retried`]: unique among the calls of a process until the 32-bit counter
/// wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CallId(u32);

impl CallId {
    /// A call id with this number (tests and hand-made events).
    pub const fn from_u32(n: u32) -> Self {
        Self(n)
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The next id of this process.
    fn next() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A successful call's answer, with how it got there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Retried<T> {
    /// The answer.
    pub value: T,
    /// Attempts made, the successful one included (1: no retry).
    pub attempts: u32,
    /// Time spent in backoff sleeps, as the machine chose them.
    pub slept: Duration,
    /// The call.
    pub call: CallId,
}

impl<T> Retried<T> {
    /// The answer alone.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The same record around `f(value)`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Retried<U> {
        Retried {
            value: f(self.value),
            attempts: self.attempts,
            slept: self.slept,
            call: self.call,
        }
    }
}

/// The retry state of one call, and every decision about it.
///
/// It borrows the call's [`Policy`] (strategy, predicate, limits), owns the
/// middleware `M` (`()` for none; a tuple or a reference for several or a
/// shared one) and this call's copy of the strategy, made at the first
/// failure so per-call state (the previous delay of decorrelated jitter) is
/// never shared between calls.
///
/// Call [`start`](Self::start) when the call begins,
/// [`begin_attempt`](Self::begin_attempt) before each attempt, then
/// [`on_success`](Self::on_success) or [`on_error`](Self::on_error) (or
/// [`on_failure`](Self::on_failure)) after it. Dropping the machine before
/// the call ended tells the middleware [`CallResult::Cancelled`].
pub struct RetryMachine<'a, S, P, M: Middleware = ()> {
    policy: &'a Policy<S, P>,
    call: Call<S, M>,
}

impl<S: fmt::Debug, P, M: Middleware + fmt::Debug> fmt::Debug for RetryMachine<'_, S, P, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = &self.call.state;
        f.debug_struct("RetryMachine")
            .field("strategy", self.policy.strategy())
            .field("limits", self.policy.limits())
            .field("call", &state.call)
            .field("started", &state.started)
            .field("deadline", &self.deadline())
            .field("attempts", &state.attempts)
            .field("slept", &nanos_to_duration(state.slept))
            .field("replay", &state.replay)
            .field("middleware", &self.call.middleware)
            .finish()
    }
}

impl<'a, S, P, M> RetryMachine<'a, S, P, M>
where
    S: RetryStrategy + Clone,
    M: Middleware,
{
    /// Starts a call under `policy` at `now`, if the middleware admits it:
    /// an open circuit breaker refuses with [`StopReason::CircuitOpen`], and
    /// the middleware then hears nothing more of the call. `replay` says
    /// whether the request may be sent again after a failure that may have
    /// reached the server (see [`Replay::of`]); `middleware` hears about the
    /// call (`()` for none).
    pub fn start(
        policy: &'a Policy<S, P>,
        replay: Replay,
        middleware: M,
        now: Instant,
    ) -> Result<Self, StopReason> {
        Ok(Self {
            policy,
            call: Call::start(policy, replay, middleware, now)?,
        })
    }

    /// Call before each attempt. Returns the time this attempt may take (the
    /// per-attempt timeout, shortened to what is left before the deadline;
    /// `None` for no limit), or [`StopReason::Deadline`] if the deadline has
    /// passed (the call is then over).
    #[must_use = "the attempt timeout must be applied, and a Deadline stop honoured"]
    pub fn begin_attempt(&mut self, now: Instant) -> Result<Option<Duration>, StopReason> {
        self.call.begin_attempt(self.policy, now)
    }

    /// Call after an attempt succeeded, with the time. The call is over;
    /// returns its record (attempts, time slept, call id) around `()`.
    pub fn on_success(&mut self, now: Instant) -> Retried<()> {
        self.call.on_success(now)
    }

    /// Call after an attempt failed with `error`, with the time of the
    /// failure: the policy's predicate judges it, then
    /// [`on_failure`](Self::on_failure) decides.
    pub fn on_error<E, R>(&mut self, error: &E, now: Instant, rng: &mut R) -> Decision
    where
        E: TransportError,
        P: RetryOn<E>,
        R: Rng + ?Sized,
    {
        self.call.on_error(self.policy, error, now, rng)
    }

    /// Call after an attempt failed, with the time of the failure. Decides
    /// whether to retry and after how long.
    ///
    /// In order: a failure the predicate refused stops with
    /// [`NotRetryable`](StopReason::NotRetryable); one that may have reached
    /// the server, for a request that is not replay-safe, stops with
    /// [`NotIdempotent`](StopReason::NotIdempotent); after `max_retries`
    /// retries it stops with [`Exhausted`](StopReason::Exhausted). A server
    /// hint (when [`honor_retry_after`](crate::Limits::honor_retry_after))
    /// above [`retry_after_cap`](crate::Limits::retry_after_cap), or that
    /// would end at or past the deadline, stops with
    /// [`ServerWait`](StopReason::ServerWait). Otherwise the delay is the
    /// strategy's, lengthened to the hint: the hint is a floor. A sleep that
    /// would end at or past the deadline stops with
    /// [`Deadline`](StopReason::Deadline), and a retry the middleware
    /// vetoes (a retry budget) stops with [`Budget`](StopReason::Budget).
    /// A stop ends the call.
    ///
    /// The hint counts like any failed attempt against `max_retries` and a
    /// retry budget, and only for a failure the predicate retries, as in
    /// gRPC's retry design (A6) for server pushback.
    pub fn on_failure<R: Rng + ?Sized>(
        &mut self,
        failure: Failure,
        now: Instant,
        rng: &mut R,
    ) -> Decision {
        self.call.on_failure(self.policy, failure, now, rng)
    }

    /// Ends the call after an attempt whose failure comes after the retry
    /// decision, so that no predicate judges it (a final-only response
    /// interceptor's error, see [`FinalOnly`](crate::FinalOnly)): the
    /// middleware hears of a failed attempt of `kind`, then of the stop.
    /// Returns [`StopReason::NotRetryable`].
    pub fn refuse(&mut self, kind: FailureKind, now: Instant) -> StopReason {
        self.call.refuse(kind, now)
    }

    /// Ends the call for a reason found outside the machine (the caller gave
    /// up); the middleware is told. Returns `reason`.
    pub fn stop(&mut self, reason: StopReason, now: Instant) -> StopReason {
        self.call.stop(reason, now)
    }
}

impl<S, P, M: Middleware> RetryMachine<'_, S, P, M> {
    /// Attempts begun so far (the original call included).
    pub const fn attempts(&self) -> u32 {
        self.call.state.attempts
    }

    /// Time spent (or about to be spent) in backoff sleeps so far.
    pub const fn slept(&self) -> Duration {
        nanos_to_duration(self.call.state.slept)
    }

    /// This call's id.
    pub const fn call(&self) -> CallId {
        self.call.state.call
    }

    /// When the call started.
    pub const fn started(&self) -> Instant {
        self.call.state.started
    }

    /// When the call's deadline falls, if it has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.call.state.deadline()
    }

    /// Whether the request may be replayed after a failure that may have
    /// reached the server.
    pub const fn replay(&self) -> Replay {
        self.call.state.replay
    }

    /// `true` once the call has ended (a success or a stop).
    pub const fn is_done(&self) -> bool {
        self.call.state.done
    }

    /// The policy this call runs under.
    pub const fn policy(&self) -> &Policy<S, P> {
        self.policy
    }

    /// The middleware.
    pub const fn middleware(&self) -> &M {
        &self.call.middleware
    }
}

/// [`RetryMachine`] without its policy: the async driver keeps the policy
/// reference it was given and passes it to every step, so its future does
/// not hold the policy reference twice.
pub(crate) struct Call<S, M: Middleware> {
    /// This call's strategy, cloned from the policy's at the first failure:
    /// a call that succeeds at once never copies it.
    strategy: Option<S>,
    state: CallState,
    middleware: M,
}

impl<S, M> Call<S, M>
where
    S: RetryStrategy + Clone,
    M: Middleware,
{
    #[inline]
    pub(crate) fn start<P>(
        policy: &Policy<S, P>,
        replay: Replay,
        middleware: M,
        now: Instant,
    ) -> Result<Self, StopReason> {
        if let Err(reason) = middleware.before_call(now) {
            debug!("tenace: call refused ({})", reason.as_str());
            return Err(reason);
        }
        Ok(Self {
            strategy: None,
            state: CallState::new(policy.limits().deadline, replay, now),
            middleware,
        })
    }

    #[inline]
    pub(crate) fn begin_attempt<P>(
        &mut self,
        policy: &Policy<S, P>,
        now: Instant,
    ) -> Result<Option<Duration>, StopReason> {
        match self.state.begin_attempt(policy.limits(), now) {
            Ok(timeout) => Ok(timeout),
            Err(reason) => Err(self.stop(reason, now)),
        }
    }

    #[inline]
    pub(crate) fn on_success(&mut self, now: Instant) -> Retried<()> {
        self.middleware.after_attempt(AttemptOutcome::Success, now);
        self.finish(CallResult::Success, now);
        Retried {
            value: (),
            attempts: self.state.attempts,
            slept: nanos_to_duration(self.state.slept),
            call: self.state.call,
        }
    }

    #[inline]
    pub(crate) fn on_error<P, E, R>(
        &mut self,
        policy: &Policy<S, P>,
        error: &E,
        now: Instant,
        rng: &mut R,
    ) -> Decision
    where
        E: TransportError,
        P: RetryOn<E>,
        R: Rng + ?Sized,
    {
        let failure = Failure::classify(error, policy.predicate());
        self.on_failure(policy, failure, now, rng)
    }

    pub(crate) fn on_failure<P, R: Rng + ?Sized>(
        &mut self,
        policy: &Policy<S, P>,
        failure: Failure,
        now: Instant,
        rng: &mut R,
    ) -> Decision {
        let kind = failure.kind;
        self.state.last_kind = Some(kind);
        self.middleware
            .after_attempt(AttemptOutcome::Failure(kind), now);
        let strategy = self
            .strategy
            .get_or_insert_with(|| policy.strategy().clone());
        let (delay, nanos) = match self
            .state
            .decide(strategy, policy.limits(), &failure, now, rng)
        {
            Ok(decided) => decided,
            Err(reason) => return Decision::Stop(self.stop(reason, now)),
        };
        let event = RetryEvent {
            call: self.state.call,
            attempt: self.state.attempts,
            kind,
            delay,
            elapsed: now.saturating_duration_since(self.state.started),
        };
        if !self.middleware.allow_retry(&event) {
            return Decision::Stop(self.stop(StopReason::Budget, now));
        }
        self.middleware.on_retry(&event);
        debug!(
            "tenace: attempt {} failed ({}), retrying in {} ms",
            event.attempt,
            kind.as_str(),
            delay.as_millis() as u64
        );
        self.state.slept = self.state.slept.saturating_add(nanos);
        Decision::Retry { delay }
    }

    /// Ends the call after an attempt whose failure no predicate may judge
    /// (a final-only response interceptor's error, raised after the retry
    /// decision): the middleware hears of a failed attempt of `kind`, then
    /// of a [`StopReason::NotRetryable`] stop.
    pub(crate) fn refuse(&mut self, kind: FailureKind, now: Instant) -> StopReason {
        self.state.last_kind = Some(kind);
        self.middleware
            .after_attempt(AttemptOutcome::Failure(kind), now);
        self.stop(StopReason::NotRetryable, now)
    }

    pub(crate) fn stop(&mut self, reason: StopReason, now: Instant) -> StopReason {
        debug!(
            "tenace: giving up after {} attempts ({})",
            self.state.attempts,
            reason.as_str()
        );
        self.finish(CallResult::Failed(reason, self.state.last_kind), now);
        reason
    }

    fn finish(&mut self, result: CallResult, now: Instant) {
        if self.state.done {
            return;
        }
        self.state.done = true;
        self.middleware.after_call(&CallOutcome {
            call: self.state.call,
            result,
            attempts: self.state.attempts,
            started: self.state.started,
            finished: now,
        });
    }
}

impl<S, M: Middleware> Call<S, M> {
    #[inline]
    pub(crate) const fn attempts(&self) -> u32 {
        self.state.attempts
    }

    #[inline]
    pub(crate) const fn started(&self) -> Instant {
        self.state.started
    }
}

impl<S, M: Middleware> Drop for Call<S, M> {
    fn drop(&mut self) {
        if !self.state.done {
            self.state.done = true;
            // A drop reads no clock (the machine has none): the outcome
            // says the call ended when it started.
            self.middleware.after_call(&CallOutcome {
                call: self.state.call,
                result: CallResult::Cancelled,
                attempts: self.state.attempts,
                started: self.state.started,
                finished: self.state.started,
            });
        }
    }
}

/// A hedged call's decisions: [`Call`] with the count of copies in flight
/// and whether more may start. The hedging driver
/// ([`hedge_with`](crate::hedge_with)) only runs copies and timers; every
/// rule (which copy may start, what a failure means, when the call ends)
/// is here.
pub(crate) struct Hedged<S, M: Middleware> {
    call: Call<S, M>,
    /// The most copies the call may start, the first included.
    copies: u32,
    /// Copies started and not yet ended.
    in_flight: u32,
    /// Why no further copy may start, once that is known.
    closed: Option<StopReason>,
}

impl<S, M> Hedged<S, M>
where
    S: RetryStrategy + Clone,
    M: Middleware,
{
    /// Starts the call and its first copy at `now`, if the middleware admits
    /// the call: the middleware hears one `before_call` for all the copies.
    pub(crate) fn start<P>(
        policy: &Policy<S, P>,
        replay: Replay,
        middleware: M,
        now: Instant,
        copies: u32,
    ) -> Result<Self, StopReason> {
        let mut call = Call::start(policy, replay, middleware, now)?;
        call.begin_attempt(policy, now)?;
        Ok(Self {
            call,
            copies: copies.max(1),
            in_flight: 1,
            closed: None,
        })
    }

    /// Copies started so far (admitted, whether or not they ended).
    pub(crate) const fn attempts(&self) -> u32 {
        self.call.state.attempts
    }

    /// When the call started.
    pub(crate) const fn started(&self) -> Instant {
        self.call.state.started
    }

    /// How long after copy `n` (1-based) starts the next copy starts if
    /// nothing else starts it: `None` when only a failure starts it (the
    /// request is not replay-safe, or `delay` is
    /// [`OnFailure`](crate::HedgeDelay::OnFailure)).
    pub(crate) fn delay<P, R: Rng + ?Sized>(
        &mut self,
        policy: &Policy<S, P>,
        delay: crate::hedge::HedgeDelay,
        n: u32,
        rng: &mut R,
    ) -> Option<Duration> {
        use crate::hedge::HedgeDelay;
        if !self.call.state.replay.is_safe() {
            return None;
        }
        match delay {
            HedgeDelay::Fixed(d) => Some(d),
            HedgeDelay::Strategy => Some(
                self.call
                    .strategy
                    .get_or_insert_with(|| policy.strategy().clone())
                    .delay(n, rng),
            ),
            HedgeDelay::OnFailure => None,
        }
    }

    /// The time a copy starting at `now` may take: the per-attempt timeout,
    /// cut to what is left before the deadline.
    pub(crate) fn timeout<P>(&self, policy: &Policy<S, P>, now: Instant) -> Option<Duration> {
        let limit = policy.limits().attempt_timeout;
        match self.call.state.deadline() {
            None => limit,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(now);
                Some(limit.map_or(left, |t| t.min(left)))
            }
        }
    }

    /// Asks to start one more copy at `now`, after the last one failed with
    /// `kind` or, for a copy the hedge delay starts, took too long
    /// ([`FailureKind::Timeout`]). Refused when every copy was used
    /// ([`Exhausted`](StopReason::Exhausted)), at or past the deadline
    /// ([`Deadline`](StopReason::Deadline)), or when the middleware vetoes
    /// it as it would a retry ([`Budget`](StopReason::Budget)); a refusal
    /// closes the call to new copies, and copies in flight go on.
    pub(crate) fn admit(&mut self, kind: FailureKind, now: Instant) -> Result<(), StopReason> {
        if let Some(reason) = self.closed {
            return Err(reason);
        }
        let state = &self.call.state;
        let refusal = if state.attempts >= self.copies {
            Some(StopReason::Exhausted)
        } else if state.has_deadline && now >= state.deadline {
            Some(StopReason::Deadline)
        } else {
            let event = RetryEvent {
                call: state.call,
                attempt: state.attempts,
                kind,
                delay: Duration::ZERO,
                elapsed: now.saturating_duration_since(state.started),
            };
            if self.call.middleware.allow_retry(&event) {
                self.call.middleware.on_retry(&event);
                None
            } else {
                Some(StopReason::Budget)
            }
        };
        if let Some(reason) = refusal {
            self.closed = Some(reason);
            return Err(reason);
        }
        debug!(
            "tenace: hedging, copy {} starts",
            self.call.state.attempts + 1
        );
        self.call.state.attempts += 1;
        self.in_flight += 1;
        Ok(())
    }

    /// A copy answered: the call is over and the copies still in flight are
    /// to be dropped.
    pub(crate) fn on_success(&mut self, now: Instant) -> Retried<()> {
        self.in_flight -= 1;
        self.call.on_success(now)
    }

    /// A copy's final-only response interceptor refused its response: the
    /// call ends with [`StopReason::NotRetryable`].
    pub(crate) fn refuse(&mut self, kind: FailureKind, now: Instant) -> StopReason {
        self.in_flight -= 1;
        self.call.refuse(kind, now)
    }

    /// A copy that started at `copy_started` failed with `error` at `now`.
    /// `Some(reason)`: the call is over
    /// (the predicate refused the error, or no copy is left in flight and
    /// none may start). `None`: the call goes on; when the failure allows
    /// it, the next copy has been admitted to start at once.
    ///
    /// A failure the predicate refuses ends the call, as a fatal status
    /// does in gRPC hedging. A failure that may have reached the server,
    /// for a request that is not replay-safe, starts no copy
    /// ([`NotIdempotent`](StopReason::NotIdempotent)), nor does a server
    /// delay hint (when honoured): the server asked for time, so no more
    /// load is added ([`ServerWait`](StopReason::ServerWait)). A failure
    /// the call outlives is told to the middleware's
    /// [`after_copy`](Middleware::after_copy).
    pub(crate) fn on_error<P, E>(
        &mut self,
        policy: &Policy<S, P>,
        error: &E,
        copy_started: Instant,
        now: Instant,
    ) -> Option<StopReason>
    where
        E: TransportError,
        P: RetryOn<E>,
    {
        self.in_flight -= 1;
        let failure = Failure::classify(error, policy.predicate());
        let kind = failure.kind;
        self.call.state.last_kind = Some(kind);
        self.call
            .middleware
            .after_attempt(AttemptOutcome::Failure(kind), now);
        if !failure.retryable {
            return Some(self.call.stop(StopReason::NotRetryable, now));
        }
        let limits = policy.limits();
        if kind.may_have_reached_server() && !self.call.state.replay.is_safe() {
            self.closed.get_or_insert(StopReason::NotIdempotent);
        } else if let (true, Some(hint)) = (limits.honor_retry_after, failure.retry_after) {
            let wait = if hint == UNKNOWN_WAIT {
                limits.retry_after_cap
            } else {
                hint
            };
            self.closed.get_or_insert(StopReason::ServerWait(wait));
        } else {
            // A refusal is kept in `closed` and ends the call below once
            // nothing is in flight.
            let _ = self.admit(kind, now);
        }
        if self.in_flight == 0 {
            let reason = self.closed.unwrap_or(StopReason::Exhausted);
            return Some(self.call.stop(reason, now));
        }
        self.call.middleware.after_copy(kind, copy_started, now);
        None
    }
}

/// What [`RetryMachine`] tracks besides the policy, the strategy and the
/// middleware.
#[derive(Debug, Clone, Copy)]
struct CallState {
    started: Instant,
    /// Meaningful only when `has_deadline`.
    deadline: Instant,
    /// Nanoseconds of backoff decided so far, saturating.
    slept: u64,
    attempts: u32,
    call: CallId,
    last_kind: Option<FailureKind>,
    replay: Replay,
    has_deadline: bool,
    done: bool,
}

impl CallState {
    #[inline]
    fn new(deadline: Option<Duration>, replay: Replay, now: Instant) -> Self {
        let (has_deadline, deadline) = match deadline {
            Some(d) => (true, now.saturating_add(d)),
            None => (false, Instant::MAX),
        };
        Self {
            started: now,
            deadline,
            has_deadline,
            slept: 0,
            attempts: 0,
            call: CallId::next(),
            last_kind: None,
            replay,
            done: false,
        }
    }

    #[inline]
    fn deadline(&self) -> Option<Instant> {
        if self.has_deadline {
            Some(self.deadline)
        } else {
            None
        }
    }

    #[inline]
    fn begin_attempt(
        &mut self,
        limits: &crate::policy::Limits,
        now: Instant,
    ) -> Result<Option<Duration>, StopReason> {
        if !self.has_deadline {
            self.attempts = self.attempts.saturating_add(1);
            return Ok(limits.attempt_timeout);
        }
        if now >= self.deadline {
            return Err(StopReason::Deadline);
        }
        // In nanoseconds: a `Duration` is built only when the deadline is
        // the shorter limit.
        let left = self.deadline.as_nanos() - now.as_nanos();
        let timeout = match limits.attempt_timeout {
            Some(t) if duration_to_nanos(t) < left => t,
            _ => nanos_to_duration(left),
        };
        self.attempts = self.attempts.saturating_add(1);
        Ok(Some(timeout))
    }

    /// The machine's rules, without the middleware: `Ok(delay)` or the
    /// reason to stop.
    #[inline(always)]
    fn decide<S: RetryStrategy, R: Rng + ?Sized>(
        &self,
        strategy: &mut S,
        limits: &crate::policy::Limits,
        failure: &Failure,
        now: Instant,
        rng: &mut R,
    ) -> Result<(Duration, u64), StopReason> {
        if !failure.retryable {
            return Err(StopReason::NotRetryable);
        }
        if failure.kind.may_have_reached_server() && !self.replay.is_safe() {
            return Err(StopReason::NotIdempotent);
        }
        if self.attempts > limits.max_retries {
            return Err(StopReason::Exhausted);
        }
        let mut delay = strategy.delay(self.attempts, rng);
        if let (true, Some(hint)) = (limits.honor_retry_after, failure.retry_after) {
            // The hint is a floor: never start before the server asked. A
            // wait the client cannot measure is taken to be the cap.
            let wait = if hint == UNKNOWN_WAIT {
                limits.retry_after_cap
            } else {
                hint
            };
            let past_deadline = self
                .deadline()
                .is_some_and(|deadline| now.saturating_add(wait) >= deadline);
            if wait > limits.retry_after_cap || past_deadline {
                return Err(StopReason::ServerWait(wait));
            }
            delay = delay.max(wait);
        }
        // In nanoseconds once: the deadline test and the call's sleep total
        // share the conversion.
        let nanos = duration_to_nanos(delay);
        if self.has_deadline && now.as_nanos().saturating_add(nanos) >= self.deadline.as_nanos() {
            return Err(StopReason::Deadline);
        }
        Ok((delay, nanos))
    }
}

#[cfg(test)]
mod tests {
    use core::cell::RefCell;
    use std::vec::Vec;

    use super::*;
    use crate::strategy::FixedDelay;
    use crate::{Limits, RetryBudget, SeededRng};

    const S: Duration = Duration::from_secs(1);
    const NS: Duration = Duration::from_nanos(1);

    fn at(secs: u64) -> Instant {
        Instant::from_millis(secs * 1000)
    }

    fn secs(t: Instant) -> u64 {
        t.as_duration().as_secs()
    }

    /// Records every hook call as a line.
    #[derive(Default)]
    struct Log(RefCell<Vec<std::string::String>>);

    impl Middleware for Log {
        fn before_call(&self, now: Instant) -> Result<(), StopReason> {
            self.0
                .borrow_mut()
                .push(std::format!("before {}", secs(now)));
            Ok(())
        }
        fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
            self.0
                .borrow_mut()
                .push(std::format!("attempt {outcome:?} {}", secs(now)));
        }
        fn on_retry(&self, event: &RetryEvent) {
            self.0
                .borrow_mut()
                .push(std::format!("retry {} {:?}", event.attempt, event.delay));
        }
        fn after_call(&self, outcome: &CallOutcome) {
            self.0.borrow_mut().push(std::format!(
                "after {:?} {} {}",
                outcome.result,
                outcome.attempts,
                secs(outcome.finished)
            ));
        }
    }

    #[test]
    fn success_reports_attempts_slept_and_tells_the_middleware() {
        let policy = Policy::new(FixedDelay::new(S));
        let log = Log::default();
        let mut rng = SeededRng::new(1);
        let mut m = RetryMachine::start(&policy, Replay::Safe, &log, at(0)).unwrap();
        assert_eq!(m.begin_attempt(at(0)), Ok(None));
        let d = m.on_failure(Failure::new(FailureKind::Io), at(0), &mut rng);
        assert_eq!(d, Decision::Retry { delay: S });
        assert_eq!(m.begin_attempt(at(1)), Ok(None));
        let done = m.on_success(at(1));
        assert_eq!((done.attempts, done.slept), (2, S));
        assert_eq!(done.call, m.call());
        assert!(m.is_done());
        drop(m);
        assert_eq!(
            log.0.borrow().as_slice(),
            [
                "before 0",
                "attempt Failure(Io) 0",
                "retry 1 1s",
                "attempt Success 1",
                "after Success 2 1",
            ]
        );
    }

    #[test]
    fn refused_and_unsafe_failures_stop_and_end_the_call() {
        let policy = Policy::new(FixedDelay::new(S));
        let mut rng = SeededRng::new(1);
        for (replay, failure, reason) in [
            (
                Replay::Safe,
                Failure::refused(FailureKind::Io),
                StopReason::NotRetryable,
            ),
            (
                Replay::Unsafe,
                Failure::new(FailureKind::Io),
                StopReason::NotIdempotent,
            ),
        ] {
            let log = Log::default();
            let mut m = RetryMachine::start(&policy, replay, &log, at(0)).unwrap();
            let _ = m.begin_attempt(at(0)).unwrap();
            assert_eq!(
                m.on_failure(failure, at(3), &mut rng),
                Decision::Stop(reason)
            );
            drop(m);
            let last = log.0.borrow().last().cloned().unwrap();
            assert_eq!(last, std::format!("after Failed({reason:?}, Some(Io)) 1 3"));
        }
        // Connect never reached the server: retried even when unsafe.
        let mut m = RetryMachine::start(&policy, Replay::Unsafe, (), at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        assert_eq!(
            m.on_failure(Failure::new(FailureKind::Connect), at(0), &mut rng),
            Decision::Retry { delay: S }
        );
    }

    #[test]
    fn the_budget_vetoes_inside_the_machine() {
        let budget = RetryBudget::new(4, 1, 1).unwrap();
        let policy = Policy::new(FixedDelay::new(S)).max_retries(10);
        let mut rng = SeededRng::new(1);
        let mut m = RetryMachine::start(&policy, Replay::Safe, &budget, at(0)).unwrap();
        let mut decisions = Vec::new();
        loop {
            let _ = m.begin_attempt(at(0)).unwrap();
            let d = m.on_failure(Failure::new(FailureKind::Timeout), at(0), &mut rng);
            decisions.push(d);
            if let Decision::Stop(_) = d {
                break;
            }
        }
        // 4 → 3 (retry), 2 (not more than half: refused).
        assert_eq!(
            decisions,
            [
                Decision::Retry { delay: S },
                Decision::Stop(StopReason::Budget)
            ]
        );
        assert_eq!(budget.refused(), 1);
    }

    #[test]
    fn the_breaker_admits_inside_the_machine() {
        let breaker = crate::CircuitBreaker::new(
            crate::BreakerConfig::new()
                .with_window(2)
                .with_min_calls(1)
                .with_failure_percent(50)
                .with_break_duration(S * 10),
        )
        .unwrap();
        let policy = Policy::new(FixedDelay::new(S)).max_retries(0);
        let mut rng = SeededRng::new(1);
        let mut m = RetryMachine::start(&policy, Replay::Safe, &breaker, at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        let d = m.on_failure(Failure::new(FailureKind::Connect), at(0), &mut rng);
        assert_eq!(d, Decision::Stop(StopReason::Exhausted));
        drop(m);
        assert_eq!(
            RetryMachine::start(&policy, Replay::Safe, &breaker, at(1)).err(),
            Some(StopReason::CircuitOpen)
        );
        assert!(RetryMachine::start(&policy, Replay::Safe, &breaker, at(10)).is_ok());
    }

    #[test]
    fn deadline_stops_and_shortens_the_attempt() {
        let policy = Policy::new(FixedDelay::new(S * 2))
            .deadline(S * 3)
            .attempt_timeout(S * 10);
        let log = Log::default();
        let mut rng = SeededRng::new(1);
        let mut m = RetryMachine::start(&policy, Replay::Safe, &log, at(0)).unwrap();
        assert_eq!(m.begin_attempt(at(0)), Ok(Some(S * 3)));
        assert_eq!(
            m.on_failure(Failure::new(FailureKind::Io), at(0), &mut rng),
            Decision::Retry { delay: S * 2 }
        );
        assert_eq!(m.begin_attempt(at(2)), Ok(Some(S)));
        // A 2 s sleep from t = 2 s would end past the 3 s deadline.
        assert_eq!(
            m.on_failure(Failure::new(FailureKind::Io), at(2), &mut rng),
            Decision::Stop(StopReason::Deadline)
        );
        assert_eq!(m.deadline(), Some(at(3)));
        let mut late = RetryMachine::start(&policy, Replay::Safe, (), at(0)).unwrap();
        assert_eq!(late.begin_attempt(at(3)), Err(StopReason::Deadline));
        assert!(late.is_done());
    }

    #[test]
    fn the_hint_is_a_floor_above_the_strategy() {
        let policy = Policy::new(FixedDelay::new(S * 2))
            .retry_after_cap(S * 5)
            .max_retries(9);
        let mut rng = SeededRng::new(1);
        let mut m = RetryMachine::start(&policy, Replay::Safe, (), at(0)).unwrap();
        for (hint, want) in [
            (None, S * 2),
            (Some(S), S * 2),
            (Some(S * 3), S * 3),
            (Some(S * 5), S * 5),
        ] {
            let _ = m.begin_attempt(at(0)).unwrap();
            let f = Failure::new(FailureKind::Status(503)).with_retry_after(hint);
            assert_eq!(
                m.on_failure(f, at(0), &mut rng),
                Decision::Retry { delay: want }
            );
        }
        assert_eq!(m.slept(), S * 12);
        // Not honoured: the strategy alone, whatever the hint.
        let ignore = policy.honor_retry_after(false);
        let mut m = RetryMachine::start(&ignore, Replay::Safe, (), at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        let f = Failure::new(FailureKind::Status(503)).with_retry_after(Some(S * 3600));
        assert_eq!(
            m.on_failure(f, at(0), &mut rng),
            Decision::Retry { delay: S * 2 }
        );
    }

    #[test]
    fn a_hint_above_the_cap_stops_with_the_servers_wait() {
        let log = Log::default();
        let policy = Policy::new(FixedDelay::new(S)).retry_after_cap(S * 5);
        let mut rng = SeededRng::new(1);
        let mut m = RetryMachine::start(&policy, Replay::Safe, &log, at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        let f = Failure::new(FailureKind::Status(429)).with_retry_after(Some(S * 5 + NS));
        assert_eq!(
            m.on_failure(f, at(2), &mut rng),
            Decision::Stop(StopReason::ServerWait(S * 5 + NS))
        );
        assert!(m.is_done());
        assert_eq!(m.slept(), Duration::ZERO);
        drop(m);
        assert_eq!(
            log.0.borrow().last().unwrap(),
            "after Failed(ServerWait(5.000000001s), Some(Status(429))) 1 2"
        );
        // The default cap is 300 s.
        let policy = Policy::new(FixedDelay::new(S));
        assert_eq!(
            policy.limits().retry_after_cap,
            crate::DEFAULT_RETRY_AFTER_CAP
        );
        for (hint, decision) in [
            (S * 300, Decision::Retry { delay: S * 300 }),
            (S * 301, Decision::Stop(StopReason::ServerWait(S * 301))),
        ] {
            let mut m = RetryMachine::start(&policy, Replay::Safe, (), at(0)).unwrap();
            let _ = m.begin_attempt(at(0)).unwrap();
            let f = Failure::new(FailureKind::Status(429)).with_retry_after(Some(hint));
            assert_eq!(m.on_failure(f, at(0), &mut rng), decision);
        }
    }

    #[test]
    fn a_hint_past_the_deadline_stops_with_the_servers_wait() {
        let policy = Policy::new(FixedDelay::new(S)).deadline(S * 10);
        let mut rng = SeededRng::new(1);
        // From t = 4 s, 5 s ends at 9 s: honoured; 6 s ends at the deadline.
        for (hint, decision) in [
            (S * 5, Decision::Retry { delay: S * 5 }),
            (S * 6, Decision::Stop(StopReason::ServerWait(S * 6))),
        ] {
            let mut m = RetryMachine::start(&policy, Replay::Safe, (), at(0)).unwrap();
            let _ = m.begin_attempt(at(0)).unwrap();
            let f = Failure::new(FailureKind::Status(503)).with_retry_after(Some(hint));
            assert_eq!(m.on_failure(f, at(4), &mut rng), decision);
        }
        // The strategy's own delay past the deadline is still `Deadline`.
        let slow = Policy::new(FixedDelay::new(S * 8)).deadline(S * 10);
        let mut m = RetryMachine::start(&slow, Replay::Safe, (), at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        let f = Failure::new(FailureKind::Status(503)).with_retry_after(Some(S));
        assert_eq!(
            m.on_failure(f, at(4), &mut rng),
            Decision::Stop(StopReason::Deadline)
        );
    }

    #[test]
    fn an_unknown_wait_waits_the_cap() {
        let policy = Policy::new(FixedDelay::new(S)).retry_after_cap(S * 30);
        let mut rng = SeededRng::new(1);
        let unknown = Failure::new(FailureKind::Status(503)).with_retry_after(Some(UNKNOWN_WAIT));
        let mut m = RetryMachine::start(&policy, Replay::Safe, (), at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        assert_eq!(
            m.on_failure(unknown, at(0), &mut rng),
            Decision::Retry { delay: S * 30 }
        );
        // With a deadline closer than the cap: stop, carrying the cap.
        let near = policy.deadline(S * 20);
        let mut m = RetryMachine::start(&near, Replay::Safe, (), at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        assert_eq!(
            m.on_failure(unknown, at(0), &mut rng),
            Decision::Stop(StopReason::ServerWait(S * 30))
        );
    }

    #[test]
    fn a_refused_failure_ignores_the_hint() {
        let policy = Policy::new(FixedDelay::new(S)).retry_after_cap(S);
        let mut rng = SeededRng::new(1);
        let mut m = RetryMachine::start(&policy, Replay::Safe, (), at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        let f = Failure::refused(FailureKind::Status(400)).with_retry_after(Some(S * 60));
        assert_eq!(
            m.on_failure(f, at(0), &mut rng),
            Decision::Stop(StopReason::NotRetryable)
        );
    }

    #[test]
    fn drop_mid_call_is_cancelled_once() {
        let policy = Policy::new(FixedDelay::new(S)).with_limits(Limits::DEFAULT);
        let log = Log::default();
        let mut m = RetryMachine::start(&policy, Replay::Safe, &log, at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        drop(m);
        let lines = log.0.borrow();
        assert_eq!(lines.last().unwrap(), "after Cancelled 1 0");
        assert_eq!(lines.iter().filter(|l| l.starts_with("after")).count(), 1);
        drop(lines);
        let log = Log::default();
        let mut rng = SeededRng::new(1);
        let mut m = RetryMachine::start(&policy, Replay::Safe, &log, at(0)).unwrap();
        let _ = m.begin_attempt(at(0)).unwrap();
        let _ = m.on_failure(Failure::new(FailureKind::Io), at(4), &mut rng);
        drop(m); // in the backoff sleep: no clock is read on a drop
        assert_eq!(log.0.borrow().last().unwrap(), "after Cancelled 1 0");
    }

    #[test]
    fn a_refused_call_tells_nothing_more() {
        struct Closed<'a>(&'a Log);
        impl Middleware for Closed<'_> {
            fn before_call(&self, _now: Instant) -> Result<(), StopReason> {
                Err(StopReason::CircuitOpen)
            }
            fn after_call(&self, outcome: &CallOutcome) {
                self.0.after_call(outcome);
            }
        }
        let policy = Policy::new(FixedDelay::new(S));
        let log = Log::default();
        let refused = RetryMachine::start(&policy, Replay::Safe, Closed(&log), at(0));
        assert_eq!(refused.err(), Some(StopReason::CircuitOpen));
        assert!(log.0.borrow().is_empty());
    }

    #[test]
    fn a_hedged_call_admits_copies_until_a_refusal_closes_it() {
        use crate::hedge::HedgeDelay;
        let policy = Policy::new(FixedDelay::new(S)).deadline(S * 10);
        let log = Log::default();
        let mut rng = SeededRng::new(1);
        let mut h = Hedged::start(&policy, Replay::Safe, &log, at(0), 3).unwrap();
        assert_eq!(h.delay(&policy, HedgeDelay::Strategy, 1, &mut rng), Some(S));
        assert_eq!(h.timeout(&policy, at(4)), Some(S * 6));
        assert_eq!(h.admit(FailureKind::Timeout, at(1)), Ok(()));
        assert_eq!(h.admit(FailureKind::Timeout, at(2)), Ok(()));
        // Three copies started: the fourth is refused, and so is any later.
        assert_eq!(
            h.admit(FailureKind::Timeout, at(3)),
            Err(StopReason::Exhausted)
        );
        let io = crate::testing::MockError::new(FailureKind::Io);
        assert_eq!(h.on_error(&policy, &io, at(0), at(4)), None);
        assert_eq!(h.on_error(&policy, &io, at(0), at(5)), None);
        assert_eq!(
            h.on_error(&policy, &io, at(0), at(6)),
            Some(StopReason::Exhausted)
        );
        drop(h);
        assert_eq!(
            log.0.borrow().as_slice(),
            [
                "before 0",
                "retry 1 0ns",
                "retry 2 0ns",
                "attempt Failure(Io) 4",
                "attempt Failure(Io) 5",
                "attempt Failure(Io) 6",
                "after Failed(Exhausted, Some(Io)) 3 6",
            ]
        );
        // An unsafe request has no timer, and past the deadline no copy
        // starts.
        let mut h = Hedged::start(&policy, Replay::Unsafe, (), at(0), 3).unwrap();
        assert_eq!(h.delay(&policy, HedgeDelay::Fixed(S), 1, &mut rng), None);
        assert_eq!(
            h.admit(FailureKind::Connect, at(10)),
            Err(StopReason::Deadline)
        );
    }

    #[test]
    fn call_ids_differ() {
        let policy = Policy::new(FixedDelay::new(S));
        let a = RetryMachine::start(&policy, Replay::Safe, (), at(0)).unwrap();
        let b = RetryMachine::start(&policy, Replay::Safe, (), at(0)).unwrap();
        assert_ne!(a.call(), b.call());
    }
}
