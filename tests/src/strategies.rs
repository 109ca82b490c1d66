//! Retry strategies written as user code (not tenace's built-ins), for the
//! adapters' tests of user strategies: a uniform jitter and a decorrelated
//! jitter that keeps its state on the value.

use core::time::Duration;

use tenace::RetryStrategy;
use tenace::rand_core::Rng;

/// A duration drawn uniformly from `[lo, hi]`, to the nanosecond; `lo` if
/// `hi <= lo`.
pub fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: Duration, hi: Duration) -> Duration {
    let span = u64::try_from(hi.saturating_sub(lo).as_nanos()).unwrap_or(u64::MAX);
    if span == 0 {
        return lo;
    }
    lo + Duration::from_nanos(rng.next_u64() % span.saturating_add(1))
}

/// A jitter strategy written as user code: every delay uniform in
/// `[min, max]`.
#[derive(Debug, Clone)]
pub struct UserJitter {
    /// The shortest delay.
    pub min: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl RetryStrategy for UserJitter {
    fn delay<R: Rng + ?Sized>(&mut self, _attempt: u32, rng: &mut R) -> Duration {
        uniform(rng, self.min, self.max)
    }
    fn max_delay(&self) -> Duration {
        self.max
    }
}

/// Decorrelated jitter written as user code: uniform in
/// `[base, 3 × previous]`, capped at `max`, the previous delay starting at
/// `base`. Its state is the previous delay, kept on the value itself: a
/// client must give each call its own copy.
#[derive(Debug, Clone)]
pub struct UserDecorrelated {
    base: Duration,
    max: Duration,
    previous: Duration,
}

impl UserDecorrelated {
    /// Starts from `base`, never waits longer than `max`.
    pub const fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            previous: base,
        }
    }
}

impl RetryStrategy for UserDecorrelated {
    fn delay<R: Rng + ?Sized>(&mut self, _attempt: u32, rng: &mut R) -> Duration {
        let delay = uniform(rng, self.base, self.previous.saturating_mul(3)).min(self.max);
        self.previous = delay;
        delay
    }
    fn max_delay(&self) -> Duration {
        self.max
    }
}
