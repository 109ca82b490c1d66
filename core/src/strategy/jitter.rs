use core::time::Duration;

use rand_core::Rng;

use super::{RetryStrategy, check_duration, nanos, secs_f64, uniform_inclusive};
use crate::error::{ConfigError, ConfigProblem};

/// Waits a uniformly random time in `[min_delay, max_delay]` before every
/// retry; the [`Default`] is `[0.5 s, 5 s]`.
///
/// ```
/// # use core::time::Duration;
/// use tenace::{JitterBackoff, RetryStrategy, SeededRng};
/// let mut j = JitterBackoff::new(Duration::from_millis(500), Duration::from_secs(5))?;
/// let mut rng = SeededRng::new(7);
/// let d = j.delay(1, &mut rng);
/// assert!(d >= Duration::from_millis(500) && d <= Duration::from_secs(5));
/// # Ok::<(), tenace::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JitterBackoff {
    min: u64,
    max: u64,
}

impl JitterBackoff {
    /// Uniform in `[min_delay, max_delay]`; `max_delay` below `min_delay`
    /// is refused.
    pub const fn new(min_delay: Duration, max_delay: Duration) -> Result<Self, ConfigError> {
        if let Err(e) = check_duration("min_delay", min_delay) {
            return Err(e);
        }
        if let Err(e) = check_duration("max_delay", max_delay) {
            return Err(e);
        }
        let (min, max) = (nanos(min_delay), nanos(max_delay));
        if max < min {
            return Err(ConfigError::new("max_delay", ConfigProblem::BelowBase));
        }
        Ok(Self { min, max })
    }

    /// As [`new`](Self::new), in seconds as `f64`: NaN, infinite or
    /// negative values are refused.
    pub fn from_secs_f64(min_delay: f64, max_delay: f64) -> Result<Self, ConfigError> {
        Self::new(
            secs_f64("min_delay", min_delay)?,
            secs_f64("max_delay", max_delay)?,
        )
    }
}

impl Default for JitterBackoff {
    /// Uniform in `[0.5 s, 5 s]`.
    fn default() -> Self {
        Self {
            min: 500_000_000,
            max: 5_000_000_000,
        }
    }
}

impl RetryStrategy for JitterBackoff {
    fn delay<R: Rng + ?Sized>(&mut self, _attempt: u32, rng: &mut R) -> Duration {
        crate::time::nanos_to_duration(self.min + uniform_inclusive(rng, self.max - self.min))
    }
    fn max_delay(&self) -> Duration {
        crate::time::nanos_to_duration(self.max)
    }
}
