//! The contenders: the direct call, a hand-written loop, tenace's two
//! drivers, and the peers.

use core::future::{Ready, ready};
use core::hint::black_box;
use core::task::{Context, Poll};
use core::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder, Retryable};
use embassy_futures::block_on;
use tenace::{BlockingClock, Clock, ExponentialBackoff, Instant, Policy, SeededRng};
use tower::{Service, ServiceExt};

use crate::op::{Flaky, FlakyTransport, OpError};
use crate::{Contender, MAX_RETRIES, exponential_nanos};

/// A clock that is always at its epoch and whose sleeps end at once. The
/// delay goes through `black_box`, so the backoff is still computed. Its
/// sleep is a `Ready<()>`, as backon's and tower's sleeps are here, so every
/// contender's future holds the same kind of sleep.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZeroClock;

impl Clock for ZeroClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::ZERO
    }
    #[inline]
    #[allow(refining_impl_trait)]
    fn sleep(&self, duration: Duration) -> Ready<()> {
        black_box(duration);
        ready(())
    }
}

impl BlockingClock for ZeroClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::ZERO
    }
    #[inline]
    fn sleep(&self, duration: Duration) {
        black_box(duration);
    }
}

/// The operation called once, no retry: the floor of the success path.
#[derive(Debug, Default)]
pub struct Direct {
    flaky: Flaky,
}

impl Direct {
    /// The direct call.
    pub const fn new() -> Self {
        Self {
            flaky: Flaky::new(),
        }
    }
}

impl Contender for Direct {
    const NAME: &'static str = "direct call";
    const RETRIES: bool = false;
    fn flaky(&self) -> &Flaky {
        &self.flaky
    }
    #[inline]
    fn call(&mut self) -> Option<u32> {
        self.flaky.call().ok()
    }
    fn future_size(&mut self) -> Option<usize> {
        None
    }
}

/// A loop a user would write by hand: up to three retries, exponential
/// delays, no predicate, no deadline. The floor of the fail-three path.
#[derive(Debug, Default)]
pub struct HandLoop {
    flaky: Flaky,
}

impl HandLoop {
    /// The hand-written loop.
    pub const fn new() -> Self {
        Self {
            flaky: Flaky::new(),
        }
    }
}

impl Contender for HandLoop {
    const NAME: &'static str = "hand loop";
    fn flaky(&self) -> &Flaky {
        &self.flaky
    }
    #[inline]
    fn call(&mut self) -> Option<u32> {
        let mut retries = 0;
        loop {
            match self.flaky.call() {
                Ok(v) => return Some(v),
                Err(_) if retries < MAX_RETRIES => {
                    retries += 1;
                    black_box(Duration::from_nanos(exponential_nanos(retries)));
                }
                Err(_) => return None,
            }
        }
    }
    fn future_size(&mut self) -> Option<usize> {
        None
    }
}

/// `tenace::retry`, the async driver, under `embassy_futures::block_on`.
#[derive(Debug)]
pub struct TenaceAsync {
    flaky: Flaky,
    policy: Policy<ExponentialBackoff>,
    rng: SeededRng,
}

impl Default for TenaceAsync {
    fn default() -> Self {
        Self::new()
    }
}

impl TenaceAsync {
    /// The async driver with [`strategy`](Self::strategy) and three retries.
    pub fn new() -> Self {
        Self {
            flaky: Flaky::new(),
            policy: Policy::new(Self::strategy()).max_retries(MAX_RETRIES),
            rng: SeededRng::new(1),
        }
    }

    /// tenace's exponential backoff: 1 ms × 2^n, capped at 1 s.
    pub fn strategy() -> ExponentialBackoff {
        match ExponentialBackoff::new(Duration::from_millis(1), 2, Duration::from_secs(1)) {
            Ok(s) => s,
            Err(_) => unreachable!("valid constants"),
        }
    }
}

impl Contender for TenaceAsync {
    const NAME: &'static str = "tenace (async)";
    fn flaky(&self) -> &Flaky {
        &self.flaky
    }
    #[inline]
    fn call(&mut self) -> Option<u32> {
        let transport = FlakyTransport(&self.flaky);
        block_on(tenace::retry(
            &transport,
            &ZeroClock,
            &self.policy,
            &mut self.rng,
            (),
        ))
        .ok()
        .map(|r| r.value)
    }
    fn future_size(&mut self) -> Option<usize> {
        let transport = FlakyTransport(&self.flaky);
        let fut = tenace::retry(&transport, &ZeroClock, &self.policy, &mut self.rng, ());
        Some(size_of_val(&fut))
    }
}

/// `tenace::retry_blocking`, the blocking driver.
#[derive(Debug)]
pub struct TenaceBlocking {
    flaky: Flaky,
    policy: Policy<ExponentialBackoff>,
    rng: SeededRng,
}

impl Default for TenaceBlocking {
    fn default() -> Self {
        Self::new()
    }
}

impl TenaceBlocking {
    /// The blocking driver, configured as [`TenaceAsync`].
    pub fn new() -> Self {
        Self {
            flaky: Flaky::new(),
            policy: Policy::new(TenaceAsync::strategy()).max_retries(MAX_RETRIES),
            rng: SeededRng::new(1),
        }
    }
}

impl Contender for TenaceBlocking {
    const NAME: &'static str = "tenace (blocking)";
    fn flaky(&self) -> &Flaky {
        &self.flaky
    }
    #[inline]
    fn call(&mut self) -> Option<u32> {
        let transport = FlakyTransport(&self.flaky);
        tenace::retry_blocking(&transport, &ZeroClock, &self.policy, &(), &mut self.rng, ())
            .ok()
            .map(|r| r.value)
    }
    fn future_size(&mut self) -> Option<usize> {
        None
    }
}

/// backon's exponential backoff, configured as tenace's: 1 ms, ×2, capped
/// at 1 s, three retries, no jitter.
pub(crate) fn backon_builder() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_secs(1))
        .with_factor(2.0)
        .with_max_times(MAX_RETRIES as usize)
}

/// A backon sleeper whose sleeps end at once.
#[derive(Debug, Clone, Copy, Default)]
struct ZeroSleeper;

impl backon::Sleeper for ZeroSleeper {
    type Sleep = Ready<()>;
    #[inline]
    fn sleep(&self, dur: Duration) -> Ready<()> {
        black_box(dur);
        ready(())
    }
}

/// backon's `Retryable` (async) under `embassy_futures::block_on`.
#[derive(Debug)]
pub struct BackonAsync {
    flaky: Flaky,
    builder: ExponentialBuilder,
}

impl Default for BackonAsync {
    fn default() -> Self {
        Self::new()
    }
}

impl BackonAsync {
    /// backon, async.
    pub fn new() -> Self {
        Self {
            flaky: Flaky::new(),
            builder: backon_builder(),
        }
    }
}

impl Contender for BackonAsync {
    const NAME: &'static str = "backon (async)";
    fn flaky(&self) -> &Flaky {
        &self.flaky
    }
    #[inline]
    fn call(&mut self) -> Option<u32> {
        let flaky = &self.flaky;
        block_on(
            (|| async { flaky.call() })
                .retry(self.builder)
                .sleep(ZeroSleeper),
        )
        .ok()
    }
    fn future_size(&mut self) -> Option<usize> {
        let flaky = &self.flaky;
        let fut = (|| async { flaky.call() })
            .retry(self.builder)
            .sleep(ZeroSleeper);
        Some(size_of_val(&fut))
    }
}

/// backon's `BlockingRetryable`.
#[derive(Debug)]
pub struct BackonBlocking {
    flaky: Flaky,
    builder: ExponentialBuilder,
}

impl Default for BackonBlocking {
    fn default() -> Self {
        Self::new()
    }
}

impl BackonBlocking {
    /// backon, blocking.
    pub fn new() -> Self {
        Self {
            flaky: Flaky::new(),
            builder: backon_builder(),
        }
    }
}

impl Contender for BackonBlocking {
    const NAME: &'static str = "backon (blocking)";
    fn flaky(&self) -> &Flaky {
        &self.flaky
    }
    #[inline]
    fn call(&mut self) -> Option<u32> {
        let flaky = &self.flaky;
        (|| flaky.call())
            .retry(self.builder)
            .sleep(|d: Duration| {
                black_box(d);
            })
            .call()
            .ok()
    }
    fn future_size(&mut self) -> Option<usize> {
        None
    }
}

/// [`Flaky`] as a tower service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlakyService<'a>(pub(crate) &'a Flaky);

impl Service<()> for FlakyService<'_> {
    type Response = u32;
    type Error = OpError;
    type Future = Ready<Result<u32, OpError>>;
    #[inline]
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), OpError>> {
        Poll::Ready(Ok(()))
    }
    #[inline]
    fn call(&mut self, _request: ()) -> Self::Future {
        ready(self.0.call())
    }
}

/// A tower retry policy for the same job: three retries with the shared
/// exponential backoff, on a sleep that ends at once. (tower's own
/// `ExponentialBackoff` sleeps on tokio's timer.)
#[derive(Debug, Clone, Copy, Default)]
struct TowerPolicy {
    retries: u32,
}

impl tower::retry::Policy<(), u32, OpError> for TowerPolicy {
    type Future = Ready<()>;
    #[inline]
    fn retry(&mut self, _req: &mut (), result: &mut Result<u32, OpError>) -> Option<Ready<()>> {
        match result {
            Err(_) if self.retries < MAX_RETRIES => {
                self.retries += 1;
                black_box(Duration::from_nanos(exponential_nanos(self.retries)));
                Some(ready(()))
            }
            _ => None,
        }
    }
    #[inline]
    fn clone_request(&mut self, _req: &()) -> Option<()> {
        Some(())
    }
}

/// `tower::retry::Retry` over a tower service, through `oneshot`, under
/// `embassy_futures::block_on`.
#[derive(Debug, Default)]
pub struct TowerRetry {
    flaky: Flaky,
}

impl TowerRetry {
    /// tower::retry.
    pub const fn new() -> Self {
        Self {
            flaky: Flaky::new(),
        }
    }
}

impl Contender for TowerRetry {
    const NAME: &'static str = "tower::retry";
    fn flaky(&self) -> &Flaky {
        &self.flaky
    }
    #[inline]
    fn call(&mut self) -> Option<u32> {
        let svc = tower::retry::Retry::new(TowerPolicy::default(), FlakyService(&self.flaky));
        block_on(svc.oneshot(())).ok()
    }
    fn future_size(&mut self) -> Option<usize> {
        let svc = tower::retry::Retry::new(TowerPolicy::default(), FlakyService(&self.flaky));
        let fut = svc.oneshot(());
        Some(size_of_val(&fut))
    }
}

/// tokio-retry2's exponential backoff, configured as tenace's.
fn tokio_retry2_strategy() -> impl Iterator<Item = Duration> {
    tokio_retry2::strategy::ExponentialFactorBackoff::from_millis(1, 2.0)
        .max_delay(Duration::from_secs(1))
        .take(MAX_RETRIES as usize)
}

/// `tokio_retry2::Retry::spawn`: under `embassy_futures::block_on` on the
/// success path (it never sleeps there), on a current-thread tokio runtime
/// with a paused clock when it has to sleep.
#[derive(Debug)]
pub struct TokioRetry2 {
    flaky: Flaky,
    runtime: tokio::runtime::Runtime,
}

impl Default for TokioRetry2 {
    fn default() -> Self {
        Self::new()
    }
}

impl TokioRetry2 {
    /// tokio-retry2, with the runtime its sleeps need.
    ///
    /// # Panics
    ///
    /// If tokio cannot build a current-thread runtime.
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread tokio runtime");
        Self {
            flaky: Flaky::new(),
            runtime,
        }
    }
}

impl Contender for TokioRetry2 {
    const NAME: &'static str = "tokio-retry2";
    fn flaky(&self) -> &Flaky {
        &self.flaky
    }
    #[inline]
    fn call(&mut self) -> Option<u32> {
        let flaky = &self.flaky;
        block_on(tokio_retry2::Retry::spawn(
            tokio_retry2_strategy(),
            || async { flaky.call().map_err(tokio_retry2::RetryError::transient) },
        ))
        .ok()
    }
    #[inline]
    fn fail(&mut self, failures: u32) -> Option<u32> {
        let flaky = &self.flaky;
        flaky.arm(failures);
        self.runtime
            .block_on(tokio_retry2::Retry::spawn(
                tokio_retry2_strategy(),
                || async { flaky.call().map_err(tokio_retry2::RetryError::transient) },
            ))
            .ok()
    }
    fn future_size(&mut self) -> Option<usize> {
        let flaky = &self.flaky;
        let fut = tokio_retry2::Retry::spawn(tokio_retry2_strategy(), || async {
            flaky.call().map_err(tokio_retry2::RetryError::transient)
        });
        Some(size_of_val(&fut))
    }
}
