//! Any fallible closure, retried in one expression.
//!
//! [`Transport`](crate::Transport) is for adapters that send requests. To
//! retry an ordinary async function, call [`Retryable::retry`] on a closure
//! that starts it, adjust the [`Retry`] builder, and finish with
//! [`call`](Retry::call):
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use core::time::Duration;
//! use tenace::testing::MockClock;
//! use tenace::{ExponentialBackoff, Retryable};
//!
//! #[derive(Debug)]
//! enum FetchError { Busy, NotFound }
//!
//! async fn fetch(tries: &core::cell::Cell<u32>) -> Result<&'static str, FetchError> {
//!     tries.set(tries.get() + 1);
//!     if tries.get() < 3 { Err(FetchError::Busy) } else { Ok("pong") }
//! }
//!
//! let clock = MockClock::new();
//! let tries = core::cell::Cell::new(0);
//! let strategy = ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(5))?;
//! let reply = embassy_futures::block_on(
//!     (|| fetch(&tries))
//!         .retry(strategy)
//!         .when(|e| matches!(e, FetchError::Busy))
//!         .max_retries(5)
//!         .clock(&clock) // the default clock is tokio's or embassy's, by feature
//!         .seed(7)       // the default seed is per call under `std`
//!         .call(),
//! );
//! assert_eq!(reply.unwrap(), "pong");
//! assert_eq!(clock.sleeps().as_slice(), [Duration::from_millis(200), Duration::from_millis(400)]);
//! # }
//! # Ok::<(), tenace::ConfigError>(())
//! ```
//!
//! It is the engine itself that runs: the closure becomes a private
//! [`Transport`](crate::Transport) (and the call's middleware, for the
//! notifier) and the call goes through the loop of [`retry`](crate::retry)
//! (or [`retry_blocking`](crate::retry_blocking) for [`BlockingRetryable`]),
//! so `max_retries`, the deadline, the attempt timeout and a server's
//! `Retry-After` mean what they mean everywhere.
//!
//! # What is retried
//!
//! By default every error (as backon does); [`Retry::when`] takes a
//! closure that says which; [`Retry::classified`] and [`Retry::policy`] let
//! an error that implements [`TransportError`] give
//! its own kind and `Retry-After` hint. A closure is taken to be safe to run
//! again: the caller chose to retry it.
//!
//! # Timeouts and the final error
//!
//! A call that gives up returns [`RetryError<E>`](crate::RetryError) with
//! the closure's own error type. Its [`last_error`](crate::RetryError::last_error)
//! is the last attempt's error, or `None` when that attempt was cut off by
//! [`attempt_timeout`](Retry::attempt_timeout) or the deadline (a timeout
//! has no `E` to show); [`reason`](crate::RetryError::reason) says why the
//! engine stopped. A refused error comes back at once, as
//! [`StopReason::NotRetryable`](crate::StopReason::NotRetryable) after one
//! attempt.
//!
//! # Clock and randomness
//!
//! With the `tokio` feature a call needs neither: `TokioClock`
//! and a per-call entropy seed are the defaults. With `embassy-time` the
//! clock defaults to `EmbassyClock`, but without
//! `std` there is no default seed (a fleet sharing one would retry in
//! lockstep): [`Retry::rng`] or [`Retry::seed`] is required, and forgetting
//! it is a compile error that says so. With no feature, name both.
//!
//! # Why `.call()` and not `.await` on the builder
//!
//! The engine's future is an `impl Future` (it lives on the stack, unboxed,
//! of a size the compiler knows). Naming it as a builder's
//! `IntoFuture::IntoFuture` needs `impl Trait` in associated types, which
//! stable Rust does not have yet; boxing it would allocate, and hiding it
//! behind trait methods would lose `Send`. So the builder ends in
//! [`call`](Retry::call), whose future is `Send` whenever the closure, its
//! future, the clock and the random source are.

mod adapter;
mod classify;
mod source;

use core::fmt;
use core::future::Future;
use core::time::Duration;

use rand_core::Rng;

pub use classify::{Always, Classified, Classify, Notify, Quiet};
#[cfg(feature = "std")]
pub use source::Entropy;
pub use source::{
    DefaultBlockingClock, DefaultClock, DefaultRng, NoClock, NoRng, RngSource, UseRng,
};

use self::adapter::{Adapter, Token, Verdict};
use crate::driver::{Bare, drive};
use crate::error::{RetryError, TransportError};
use crate::machine::Retried;
use crate::middleware::Middleware;
use crate::policy::{Limits, Policy, RetryOn};
use crate::rng::SeededRng;
use crate::strategy::RetryStrategy;
use crate::transport::{BlockingClock, Clock};

/// `.retry(strategy)` on any closure that returns a future of a `Result`.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use core::time::Duration;
/// use tenace::{FixedDelay, Retryable};
/// # let clock = tenace::testing::MockClock::new();
/// async fn ping() -> Result<u8, ()> { Ok(1) }
/// let done = embassy_futures::block_on(
///     ping.retry(FixedDelay::new(Duration::from_secs(1))).clock(&clock).seed(1).call(),
/// );
/// assert_eq!(done.unwrap(), 1);
/// # }
/// ```
pub trait Retryable<Fut: Future>: FnMut() -> Fut + Sized {
    /// A builder that retries this closure with `strategy`, every error
    /// retried, [`Limits::DEFAULT`] (three retries), the default clock and
    /// random source of the enabled features.
    fn retry<S: RetryStrategy>(self, strategy: S) -> Retry<Async<Self>, S, DefaultOptions>;
}

impl<F: FnMut() -> Fut, Fut: Future> Retryable<Fut> for F {
    fn retry<S: RetryStrategy>(self, strategy: S) -> Retry<Async<Self>, S, DefaultOptions> {
        Retry::new(Async(self), strategy, DefaultClock::default())
    }
}

/// `.retry(strategy)` on any closure that returns a `Result`: the blocking
/// twin of [`Retryable`], run by [`retry_blocking`](crate::retry_blocking).
///
/// ```
/// use core::time::Duration;
/// use tenace::{BlockingRetryable, FixedDelay};
/// # let clock = tenace::testing::MockClock::new();
/// let mut tries = 0;
/// let read = || { tries += 1; if tries < 3 { Err("busy") } else { Ok(tries) } };
/// let done = read.retry(FixedDelay::new(Duration::from_secs(1))).clock(&clock).seed(1).call();
/// assert_eq!(done.unwrap(), 3);
/// assert_eq!(clock.total_slept(), Duration::from_secs(2));
/// ```
pub trait BlockingRetryable<T, E>: FnMut() -> Result<T, E> + Sized {
    /// A builder that retries this closure with `strategy`; as
    /// [`Retryable::retry`], with [`DefaultBlockingClock`].
    fn retry<S: RetryStrategy>(
        self,
        strategy: S,
    ) -> Retry<Blocking<Self>, S, DefaultBlockingOptions>;
}

impl<F: FnMut() -> Result<T, E>, T, E> BlockingRetryable<T, E> for F {
    fn retry<S: RetryStrategy>(
        self,
        strategy: S,
    ) -> Retry<Blocking<Self>, S, DefaultBlockingOptions> {
        Retry::new(Blocking(self), strategy, DefaultBlockingClock::default())
    }
}

/// The options of [`Retryable::retry`] before any is set.
pub type DefaultOptions = Options<Always, Quiet, Env<DefaultClock, DefaultRng>>;
/// The options of [`BlockingRetryable::retry`] before any is set.
pub type DefaultBlockingOptions = Options<Always, Quiet, Env<DefaultBlockingClock, DefaultRng>>;

/// An async closure, as [`Retryable::retry`] wraps it.
pub struct Async<F>(F);

/// A blocking closure, as [`BlockingRetryable::retry`] wraps it.
pub struct Blocking<F>(F);

impl<F> fmt::Debug for Async<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Async(..)")
    }
}

impl<F> fmt::Debug for Blocking<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Blocking(..)")
    }
}

/// What a retried closure returns: its success and error types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not return a `Result`",
    note = "`.retry(..)` takes a closure returning `Result<T, E>`, or a future of one"
)]
pub trait Operation {
    /// The success value.
    type Ok;
    /// The error.
    type Err;
}

impl<F, Fut, T, E> Operation for Async<F>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    type Ok = T;
    type Err = E;
}

impl<F, T, E> Operation for Blocking<F>
where
    F: FnMut() -> Result<T, E>,
{
    type Ok = T;
    type Err = E;
}

/// The parts of a [`Retry`] that change its type: the judge `P`
/// ([`Classify`]), the notifier `N` ([`Notify`]) and where the call runs,
/// `X` ([`Env`]).
pub struct Options<P, N, X> {
    judge: P,
    notify: N,
    env: X,
}

impl<P, N, X: fmt::Debug> fmt::Debug for Options<P, N, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// Where a [`Retry`] runs: the clock `C`, the random source `R`
/// ([`RngSource`]) and the middleware `M` ([`Middleware`]; `()` for none).
#[derive(Debug)]
pub struct Env<C, R, M = ()> {
    clock: C,
    rng: R,
    middleware: M,
}

/// A retried closure, being configured: made by [`Retryable::retry`] or
/// [`BlockingRetryable::retry`], run by `call`.
///
/// `F` is the closure ([`Async`] or [`Blocking`]), `S` the strategy and `O`
/// the [`Options`]. Methods that take a number or a duration keep the type;
/// those that take a generic value (a closure, a clock, an RNG) change
/// only the slot they fill.
///
/// ```
/// use core::time::Duration;
/// use tenace::{FixedDelay, Retry, Retryable};
/// use tenace::func::{Async, Env, Options};
///
/// async fn ping() -> Result<(), ()> { Ok(()) }
/// let a = ping.retry(FixedDelay::new(Duration::from_secs(1)));
/// let b = a.max_retries(5).deadline(Duration::from_secs(30)); // same type
/// let _: Retry<Async<_>, FixedDelay, Options<_, _, Env<_, _>>> = b;
/// ```
#[must_use = "a retry does nothing until `.call()` (and, for an async closure, `.await`)"]
pub struct Retry<F, S, O> {
    op: F,
    strategy: S,
    limits: Limits,
    opts: O,
}

impl<F, S: fmt::Debug, O: fmt::Debug> fmt::Debug for Retry<F, S, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("strategy", &self.strategy)
            .field("limits", &self.limits)
            .field("options", &self.opts)
            .finish_non_exhaustive()
    }
}

impl<F, S, C> Retry<F, S, Options<Always, Quiet, Env<C, DefaultRng>>> {
    fn new(op: F, strategy: S, clock: C) -> Self {
        Self {
            op,
            strategy,
            limits: Limits::DEFAULT,
            opts: Options {
                judge: Always,
                notify: Quiet,
                env: Env {
                    clock,
                    rng: DefaultRng::default(),
                    middleware: (),
                },
            },
        }
    }
}

// The return types spell out the builder's next state; callers never write
// them (every call site infers them).
#[allow(clippy::type_complexity)]
impl<F, S, P, N, C, R, M> Retry<F, S, Options<P, N, Env<C, R, M>>> {
    /// The same call with its options replaced by `f(options)`.
    fn map_options<P2, N2, C2, R2, M2>(
        self,
        f: impl FnOnce(Options<P, N, Env<C, R, M>>) -> Options<P2, N2, Env<C2, R2, M2>>,
    ) -> Retry<F, S, Options<P2, N2, Env<C2, R2, M2>>> {
        Retry {
            op: self.op,
            strategy: self.strategy,
            limits: self.limits,
            opts: f(self.opts),
        }
    }
}

// The return types spell out the builder's next state; callers never write
// them (every call site infers them).
#[allow(clippy::type_complexity)]
impl<F: Operation, S, P, N, C, R, M> Retry<F, S, Options<P, N, Env<C, R, M>>> {
    /// Retries after the first attempt: 3 (the default) means up to four
    /// attempts.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::{BlockingRetryable, FixedDelay, StopReason};
    /// # let clock = tenace::testing::MockClock::new();
    /// let err = (|| Err::<(), _>("down")).retry(FixedDelay::new(Duration::from_secs(1)))
    ///     .max_retries(1).clock(&clock).seed(1).call().unwrap_err();
    /// assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 2));
    /// ```
    pub const fn max_retries(mut self, n: u32) -> Self {
        self.limits.max_retries = n;
        self
    }

    /// An overall deadline, attempts and sleeps included, measured on the
    /// clock: a sleep that would end past it is not started, and an async
    /// attempt still running at it is cut off.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::{BlockingRetryable, FixedDelay, StopReason};
    /// # let clock = tenace::testing::MockClock::new();
    /// let err = (|| Err::<(), _>("down")).retry(FixedDelay::new(Duration::from_secs(4)))
    ///     .max_retries(10).deadline(Duration::from_secs(10)).clock(&clock).seed(1).call().unwrap_err();
    /// // Sleeps of 4 s and 4 s; a third would end at 12 s.
    /// assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 3));
    /// ```
    pub const fn deadline(mut self, d: Duration) -> Self {
        self.limits.deadline = Some(d);
        self
    }

    /// The longest wait a server's hint (see
    /// [`classified`](Self::classified)) may ask for; by default
    /// [`DEFAULT_RETRY_AFTER_CAP`](crate::DEFAULT_RETRY_AFTER_CAP). A longer
    /// one, or one past the deadline, stops the call with
    /// [`StopReason::ServerWait`](crate::StopReason::ServerWait).
    pub const fn retry_after_cap(mut self, cap: Duration) -> Self {
        self.limits.retry_after_cap = cap;
        self
    }

    /// Retries only the errors `judge` accepts; others come back at once
    /// ([`StopReason::NotRetryable`](crate::StopReason::NotRetryable)).
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use core::time::Duration;
    /// use tenace::{FixedDelay, Retryable, StopReason};
    /// # let clock = tenace::testing::MockClock::new();
    /// async fn get() -> Result<(), u16> { Err(404) }
    /// let err = embassy_futures::block_on(
    ///     get.retry(FixedDelay::new(Duration::from_secs(1)))
    ///         .when(|status| *status >= 500)
    ///         .clock(&clock).seed(1).call(),
    /// ).unwrap_err();
    /// assert_eq!((err.reason(), err.attempts(), err.into_last_error()), (StopReason::NotRetryable, 1, Some(404)));
    /// # }
    /// ```
    pub fn when<Q>(self, judge: Q) -> Retry<F, S, Options<Q, N, Env<C, R, M>>>
    where
        Q: Fn(&F::Err) -> bool,
    {
        self.classify(judge)
    }

    /// Judges errors with any [`Classify`]: a verdict, and the kind and
    /// `Retry-After` hint the engine sees.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::func::Classify;
    /// use tenace::{BlockingRetryable, Failure, FailureKind, FixedDelay};
    /// # let clock = tenace::testing::MockClock::new();
    /// /// "busy:N" asks for N seconds; anything else is final.
    /// struct Busy;
    /// impl Classify<&'static str> for Busy {
    ///     fn classify(&self, e: &&'static str) -> Failure {
    ///         match e.strip_prefix("busy:").and_then(|n| n.parse().ok()) {
    ///             Some(secs) => Failure::new(FailureKind::Status(503))
    ///                 .with_retry_after(Some(Duration::from_secs(secs))),
    ///             None => Failure::refused(FailureKind::Other),
    ///         }
    ///     }
    /// }
    /// let mut n = 0;
    /// let op = || { n += 1; if n == 1 { Err("busy:9") } else { Ok(n) } };
    /// let done = op.retry(FixedDelay::new(Duration::from_secs(1)))
    ///     .classify(Busy)
    ///     .retry_after_cap(Duration::from_secs(60)) // else 300 s
    ///     .clock(&clock).seed(1).call();
    /// assert_eq!(done.unwrap(), 2);
    /// assert_eq!(clock.total_slept(), Duration::from_secs(9)); // the server's wait is a floor
    /// ```
    pub fn classify<Q>(self, judge: Q) -> Retry<F, S, Options<Q, N, Env<C, R, M>>>
    where
        Q: Classify<F::Err>,
    {
        self.map_options(|o| Options {
            judge,
            notify: o.notify,
            env: o.env,
        })
    }

    /// For an error that implements [`TransportError`]: retries what
    /// `predicate` accepts ([`NetworkErrors`](crate::NetworkErrors),
    /// [`TransientErrors`](crate::TransientErrors), a closure), and lets the
    /// error's kind and delay hint reach the engine (a server's wait is a
    /// floor; one past [`Limits::retry_after_cap`] or the deadline stops the
    /// call with [`StopReason::ServerWait`](crate::StopReason::ServerWait)).
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::testing::MockError;
    /// use tenace::{BlockingRetryable, FailureKind, FixedDelay, StopReason, TransientErrors};
    /// # let clock = tenace::testing::MockClock::new();
    /// let err = (|| Err::<(), _>(MockError::new(FailureKind::Status(404))))
    ///     .retry(FixedDelay::new(Duration::from_secs(1)))
    ///     .classified(TransientErrors)
    ///     .clock(&clock).seed(1).call().unwrap_err();
    /// assert_eq!(err.reason(), StopReason::NotRetryable);
    /// ```
    pub fn classified<Q>(self, predicate: Q) -> Retry<F, S, Options<Classified<Q>, N, Env<C, R, M>>>
    where
        F::Err: TransportError,
        Q: RetryOn<F::Err>,
    {
        self.classify(Classified(predicate))
    }

    /// Takes a whole [`Policy`]: its strategy, its limits, and its predicate
    /// as [`classified`](Self::classified) does (so the error must implement
    /// [`TransportError`]; for another error type, follow with
    /// [`when`](Self::when)).
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use core::time::Duration;
    /// use tenace::testing::MockError;
    /// use tenace::{FailureKind, FixedDelay, Policy, Retryable};
    /// # let clock = tenace::testing::MockClock::new();
    /// let policy = Policy::new(FixedDelay::new(Duration::from_secs(1))).max_retries(1);
    /// async fn down() -> Result<(), MockError> { Err(MockError::new(FailureKind::Connect)) }
    /// let err = embassy_futures::block_on(down.retry(FixedDelay::new(Duration::ZERO)).policy(policy).clock(&clock).seed(1).call())
    ///     .unwrap_err();
    /// assert_eq!(err.attempts(), 2);
    /// assert_eq!(clock.total_slept(), Duration::from_secs(1));
    /// # }
    /// ```
    pub fn policy<S2, Q>(
        self,
        policy: Policy<S2, Q>,
    ) -> Retry<F, S2, Options<Classified<Q>, N, Env<C, R, M>>> {
        let (strategy, predicate, limits) = policy.into_parts();
        let Options { notify, env, .. } = self.opts;
        Retry {
            op: self.op,
            strategy,
            limits,
            opts: Options {
                judge: Classified(predicate),
                notify,
                env,
            },
        }
    }

    /// Calls `notify(error, delay)` before each retry's sleep; `error` is
    /// `None` when the attempt was cut off by its timeout.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::{FixedDelay, Retryable};
    /// # let clock = tenace::testing::MockClock::new();
    /// let (mut retries, mut last) = (0, None);
    /// async fn flaky() -> Result<(), &'static str> { Err("reset") }
    /// let _ = embassy_futures::block_on(
    ///     flaky.retry(FixedDelay::new(Duration::from_secs(2)))
    ///         .max_retries(2)
    ///         .notify(|e, d| { retries += 1; last = Some((e.copied(), d)); })
    ///         .clock(&clock).seed(1).call(),
    /// );
    /// assert_eq!((retries, last), (2, Some((Some("reset"), Duration::from_secs(2)))));
    /// ```
    pub fn notify<K>(self, notify: K) -> Retry<F, S, Options<P, K, Env<C, R, M>>>
    where
        K: FnMut(Option<&F::Err>, Duration),
    {
        self.map_options(|o| Options {
            judge: o.judge,
            notify,
            env: o.env,
        })
    }

    /// The clock to measure and sleep on ([`Clock`] for an async closure,
    /// [`BlockingClock`] for a blocking one); a reference works too.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::testing::MockClock;
    /// use tenace::{BlockingRetryable, FixedDelay};
    /// let clock = MockClock::new(); // virtual time: nothing really sleeps
    /// let _ = (|| Err::<(), _>(())).retry(FixedDelay::new(Duration::from_secs(60)))
    ///     .clock(&clock).seed(1).call();
    /// assert_eq!(clock.total_slept(), Duration::from_secs(180));
    /// ```
    pub fn clock<C2>(self, clock: C2) -> Retry<F, S, Options<P, N, Env<C2, R, M>>> {
        self.map_options(|o| Options {
            judge: o.judge,
            notify: o.notify,
            env: Env {
                clock,
                rng: o.env.rng,
                middleware: o.env.middleware,
            },
        })
    }

    /// Draws the jitter from `rng` (a hardware RNG, `&mut` one, or any
    /// [`rand_core::Rng`]).
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::{BlockingRetryable, JitterBackoff, SeededRng};
    /// # let clock = tenace::testing::MockClock::new();
    /// let mut hw = SeededRng::new(42); // stands in for a hardware RNG
    /// let _ = (|| Err::<(), _>(()))
    ///     .retry(JitterBackoff::new(Duration::from_millis(100), Duration::from_secs(1))?)
    ///     .clock(&clock)
    ///     .rng(&mut hw)
    ///     .call();
    /// # Ok::<(), tenace::ConfigError>(())
    /// ```
    pub fn rng<R2: Rng>(self, rng: R2) -> Retry<F, S, Options<P, N, Env<C, UseRng<R2>, M>>> {
        self.map_options(|o| Options {
            judge: o.judge,
            notify: o.notify,
            env: Env {
                clock: o.env.clock,
                rng: UseRng(rng),
                middleware: o.env.middleware,
            },
        })
    }

    /// Draws the jitter from a [`SeededRng`] seeded with `seed`. Give each
    /// device (and each concurrent call) its own seed.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::testing::MockClock;
    /// use tenace::{BlockingRetryable, ExponentialBackoff};
    /// let strategy = ExponentialBackoff::new(Duration::from_secs(1), 2, Duration::from_secs(30))?.full_jitter();
    /// let sleeps = |seed| {
    ///     let clock = MockClock::new();
    ///     let _ = (|| Err::<(), _>(())).retry(strategy).clock(&clock).seed(seed).call();
    ///     clock.sleeps()
    /// };
    /// assert_eq!(sleeps(1), sleeps(1)); // the same seed, the same schedule
    /// # Ok::<(), tenace::ConfigError>(())
    /// ```
    pub fn seed(self, seed: u64) -> Retry<F, S, Options<P, N, Env<C, UseRng<SeededRng>, M>>> {
        self.rng(SeededRng::new(seed))
    }

    /// Runs `middleware` around the call, as the transports' drivers do: a
    /// [`RetryBudget`](crate::RetryBudget) shared by many calls (so a fleet
    /// in an outage does not multiply its load), a
    /// [`CircuitBreaker`](crate::CircuitBreaker), [`Metrics`](crate::Metrics),
    /// or a tuple of them. Pass a reference to share one.
    ///
    /// A closure's errors are [`FailureKind::Other`](crate::FailureKind::Other)
    /// to the engine unless judged by [`classified`](Self::classified) or
    /// [`classify`](Self::classify), and a budget or a breaker counts only
    /// transient kinds: give them errors with a kind.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::testing::MockError;
    /// use tenace::{BlockingRetryable, FailureKind, FixedDelay, NetworkErrors, RetryBudget, StopReason};
    /// # let clock = tenace::testing::MockClock::new();
    /// let budget = RetryBudget::new(4, 1, 1)?; // 4 tokens; a retry needs more than half
    /// let err = (|| Err::<(), _>(MockError::new(FailureKind::Io)))
    ///     .retry(FixedDelay::new(Duration::from_secs(1)))
    ///     .max_retries(10)
    ///     .classified(NetworkErrors)
    ///     .middleware(&budget)
    ///     .clock(&clock).seed(1).call().unwrap_err();
    /// assert_eq!((err.reason(), err.attempts()), (StopReason::Budget, 2));
    /// # Ok::<(), tenace::ConfigError>(())
    /// ```
    pub fn middleware<M2>(self, middleware: M2) -> Retry<F, S, Options<P, N, Env<C, R, M2>>> {
        self.map_options(|o| Options {
            judge: o.judge,
            notify: o.notify,
            env: Env {
                clock: o.env.clock,
                rng: o.env.rng,
                middleware,
            },
        })
    }
}

impl<F, S, P, N, C, R, M> Retry<Async<F>, S, Options<P, N, Env<C, R, M>>>
where
    Async<F>: Operation,
{
    /// A time limit for each attempt: an attempt still running then is
    /// dropped, and counts as a [`Timeout`](crate::FailureKind::Timeout)
    /// failure (retried whatever [`when`](Self::when) says: there is no
    /// error to judge).
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use core::time::Duration;
    /// use tenace::{FixedDelay, Retryable};
    /// # let clock = tenace::testing::MockClock::new();
    /// let hang = || core::future::pending::<Result<(), ()>>();
    /// let err = embassy_futures::block_on(
    ///     hang.retry(FixedDelay::new(Duration::from_secs(1)))
    ///         .max_retries(1)
    ///         .attempt_timeout(Duration::from_secs(5))
    ///         .clock(&clock).seed(1).call(),
    /// ).unwrap_err();
    /// assert_eq!((err.attempts(), err.last_error()), (2, None)); // timed out: no error to show
    /// # }
    /// ```
    pub const fn attempt_timeout(mut self, d: Duration) -> Self {
        self.limits.attempt_timeout = Some(d);
        self
    }
}

// The bounds sit on the methods, not on the block, so that a missing clock
// or seed is reported with the traits' own messages.
impl<F, S, P, N, C, R, M> Retry<Async<F>, S, Options<P, N, Env<C, R, M>>> {
    /// Runs the call: the value of the first attempt that succeeds, or why
    /// the engine gave up. The future is `Send` when the closure, its
    /// future, the clock and the random source are.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use core::time::Duration;
    /// use tenace::{FixedDelay, Retryable};
    /// # let clock = tenace::testing::MockClock::new();
    /// async fn ping() -> Result<&'static str, ()> { Ok("pong") }
    /// let reply = embassy_futures::block_on(
    ///     ping.retry(FixedDelay::new(Duration::from_secs(1))).clock(&clock).seed(1).call(),
    /// );
    /// assert_eq!(reply.unwrap(), "pong");
    /// # }
    /// ```
    pub fn call<Fut, T, E>(self) -> impl Future<Output = Result<T, RetryError<E>>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        S: RetryStrategy + Clone,
        P: Classify<E>,
        N: Notify<E>,
        C: Clock,
        R: RngSource,
        M: Middleware,
    {
        self.run(Retried::into_inner)
    }

    /// As [`call`](Self::call), with how the value was reached: attempts
    /// made and time slept.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use core::time::Duration;
    /// use tenace::{FixedDelay, Retryable};
    /// # let clock = tenace::testing::MockClock::new();
    /// let n = core::cell::Cell::new(0);
    /// let op = || async { n.set(n.get() + 1); if n.get() < 2 { Err(()) } else { Ok("up") } };
    /// let done = embassy_futures::block_on(
    ///     op.retry(FixedDelay::new(Duration::from_secs(3))).clock(&clock).seed(1).call_with_stats(),
    /// ).unwrap();
    /// assert_eq!((done.value, done.attempts, done.slept), ("up", 2, Duration::from_secs(3)));
    /// # }
    /// ```
    pub fn call_with_stats<Fut, T, E>(
        self,
    ) -> impl Future<Output = Result<Retried<T>, RetryError<E>>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        S: RetryStrategy + Clone,
        P: Classify<E>,
        N: Notify<E>,
        C: Clock,
        R: RngSource,
        M: Middleware,
    {
        self.run(|done| done)
    }

    /// The call, its success mapped by `finish`: one async block over the
    /// engine's future, whose captured values are used in place (an
    /// `async` block that moved them into locals would hold them twice).
    // A block, not an `async fn`, for the same reason.
    #[allow(clippy::manual_async_fn)]
    fn run<Fut, T, E, U>(
        self,
        finish: impl FnOnce(Retried<T>) -> U,
    ) -> impl Future<Output = Result<U, RetryError<E>>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        S: RetryStrategy + Clone,
        P: Classify<E>,
        N: Notify<E>,
        C: Clock,
        R: RngSource,
        M: Middleware,
    {
        let Self {
            op: Async(op),
            strategy,
            limits,
            opts:
                Options {
                    judge,
                    notify,
                    env:
                        Env {
                            clock,
                            rng,
                            middleware,
                        },
                },
        } = self;
        let policy = Policy::new(strategy).with_limits(limits).retry_on(Verdict);
        let adapter = Adapter::new(op, judge, notify, middleware);
        let mut rng = rng.into_rng();
        async move {
            // The async driver's own loop, with the adapter as transport and
            // as middleware and no interceptor (an interceptor wrapper, even
            // an empty one, adds ~100 bytes to the future).
            let driven = drive(&adapter, &clock, &policy, &adapter, Bare, &mut rng, Token);
            match driven.await {
                Ok(done) => Ok(finish(done)),
                Err(e) => Err(RetryError::new(
                    e.reason(),
                    e.attempts(),
                    adapter.take_last(),
                )),
            }
        }
    }
}

impl<F, S, P, N, C, R, M> Retry<Blocking<F>, S, Options<P, N, Env<C, R, M>>> {
    /// Runs the call on this thread: the value of the first attempt that
    /// succeeds, or why the engine gave up. Sleeps block the thread. A
    /// running attempt cannot be interrupted, so the deadline is checked
    /// between attempts.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::{BlockingRetryable, FixedDelay};
    /// # let clock = tenace::testing::MockClock::new();
    /// let mut n = 0;
    /// let read = || { n += 1; if n < 2 { Err("busy") } else { Ok(n) } };
    /// assert_eq!(read.retry(FixedDelay::new(Duration::from_secs(1))).clock(&clock).seed(1).call().unwrap(), 2);
    /// ```
    pub fn call<T, E>(self) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Result<T, E>,
        S: RetryStrategy + Clone,
        P: Classify<E>,
        N: Notify<E>,
        C: BlockingClock,
        R: RngSource,
        M: Middleware,
    {
        self.call_with_stats().map(Retried::into_inner)
    }

    /// As [`call`](Self::call), with how the value was reached.
    ///
    /// ```
    /// use core::time::Duration;
    /// use tenace::{BlockingRetryable, FixedDelay};
    /// # let clock = tenace::testing::MockClock::new();
    /// let done = (|| Ok::<_, ()>(5)).retry(FixedDelay::new(Duration::from_secs(1))).clock(&clock).seed(1).call_with_stats();
    /// assert_eq!(done.map(|d| (d.value, d.attempts)).ok(), Some((5, 1)));
    /// ```
    pub fn call_with_stats<T, E>(self) -> Result<Retried<T>, RetryError<E>>
    where
        F: FnMut() -> Result<T, E>,
        S: RetryStrategy + Clone,
        P: Classify<E>,
        N: Notify<E>,
        C: BlockingClock,
        R: RngSource,
        M: Middleware,
    {
        let Self {
            op: Blocking(op),
            strategy,
            limits,
            opts:
                Options {
                    judge,
                    notify,
                    env:
                        Env {
                            clock,
                            rng,
                            middleware,
                        },
                },
        } = self;
        let adapter = Adapter::new(op, judge, notify, middleware);
        let policy = Policy::new(strategy).with_limits(limits).retry_on(Verdict);
        let mut rng = rng.into_rng();
        match crate::retry_blocking(&adapter, &clock, &policy, &adapter, &mut rng, Token) {
            Ok(done) => Ok(done),
            Err(e) => Err(RetryError::new(
                e.reason(),
                e.attempts(),
                adapter.take_last(),
            )),
        }
    }
}
