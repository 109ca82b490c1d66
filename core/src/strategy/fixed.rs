use core::time::Duration;

use rand_core::Rng;

use super::{RetryStrategy, check_duration, secs_f64};
use crate::error::ConfigError;

/// Waits the same time before every retry: a 2 s `FixedDelay` waits 2 s,
/// 2 s, 2 s.
///
/// ```
/// # use core::time::Duration;
/// use tenace::{FixedDelay, RetryStrategy, SeededRng};
/// let mut s = FixedDelay::new(Duration::from_secs(2));
/// let mut rng = SeededRng::new(1);
/// assert_eq!(s.delay(1, &mut rng), Duration::from_secs(2));
/// assert_eq!(s.delay(3, &mut rng), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FixedDelay {
    delay: Duration,
}

impl FixedDelay {
    /// Waits `delay` before every retry. Delays over 584 years are clamped
    /// to that; use [`FixedDelay::try_new`] to be told instead.
    pub const fn new(delay: Duration) -> Self {
        Self {
            delay: crate::time::nanos_to_duration(super::nanos(delay)),
        }
    }

    /// As [`new`](Self::new), refusing a delay the engine cannot represent.
    pub const fn try_new(delay: Duration) -> Result<Self, ConfigError> {
        match check_duration("delay", delay) {
            Ok(delay) => Ok(Self { delay }),
            Err(e) => Err(e),
        }
    }

    /// The delay in seconds as `f64`. NaN, infinite or negative values are
    /// refused.
    pub fn from_secs_f64(delay: f64) -> Result<Self, ConfigError> {
        Ok(Self {
            delay: secs_f64("delay", delay)?,
        })
    }

    /// Waits nothing between retries.
    pub const fn none() -> Self {
        Self {
            delay: Duration::ZERO,
        }
    }

    /// The configured delay.
    pub const fn get(&self) -> Duration {
        self.delay
    }
}

impl RetryStrategy for FixedDelay {
    fn delay<R: Rng + ?Sized>(&mut self, _attempt: u32, _rng: &mut R) -> Duration {
        self.delay
    }
    fn max_delay(&self) -> Duration {
        self.delay
    }
}
