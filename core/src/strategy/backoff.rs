use core::time::Duration;

use rand_core::Rng;

use super::{
    DecorrelatedJitter, ExponentialBackoff, FixedDelay, JitterBackoff, LinearBackoff, RetryStrategy,
};

/// Any built-in strategy, chosen at run time.
///
/// A client that stores one `Backoff` can take a different strategy per
/// request without a type parameter or a heap allocation; every built-in
/// converts into it with `.into()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Backoff {
    /// [`FixedDelay`].
    Fixed(FixedDelay),
    /// [`LinearBackoff`].
    Linear(LinearBackoff),
    /// [`ExponentialBackoff`], with or without jitter.
    Exponential(ExponentialBackoff),
    /// [`JitterBackoff`].
    Jitter(JitterBackoff),
    /// [`DecorrelatedJitter`].
    Decorrelated(DecorrelatedJitter),
}

impl Default for Backoff {
    /// Exponential from 1 s, doubling, capped at 30 s, with full jitter.
    fn default() -> Self {
        match ExponentialBackoff::new(Duration::from_secs(1), 2, Duration::from_secs(30)) {
            Ok(e) => Self::Exponential(e.full_jitter()),
            Err(_) => Self::Fixed(FixedDelay::new(Duration::from_secs(1))),
        }
    }
}

macro_rules! from_strategy {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for Backoff {
            fn from(s: $ty) -> Self {
                Self::$variant(s)
            }
        }
    )*};
}
from_strategy!(
    Fixed(FixedDelay),
    Linear(LinearBackoff),
    Exponential(ExponentialBackoff),
    Jitter(JitterBackoff),
    Decorrelated(DecorrelatedJitter)
);

impl RetryStrategy for Backoff {
    fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, rng: &mut R) -> Duration {
        match self {
            Self::Fixed(s) => s.delay(attempt, rng),
            Self::Linear(s) => s.delay(attempt, rng),
            Self::Exponential(s) => s.delay(attempt, rng),
            Self::Jitter(s) => s.delay(attempt, rng),
            Self::Decorrelated(s) => s.delay(attempt, rng),
        }
    }
    fn max_delay(&self) -> Duration {
        match self {
            Self::Fixed(s) => s.max_delay(),
            Self::Linear(s) => s.max_delay(),
            Self::Exponential(s) => s.max_delay(),
            Self::Jitter(s) => s.max_delay(),
            Self::Decorrelated(s) => s.max_delay(),
        }
    }
}
