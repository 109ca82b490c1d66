use core::time::Duration;

use rand_core::Rng;

use super::{RetryStrategy, check_duration, nanos, secs_f64, uniform_inclusive};
use crate::error::{ConfigError, ConfigProblem};

/// Each delay is uniform between `base` and 3 × the previous delay, capped
/// at `max_delay`: the "decorrelated jitter" of the AWS Architecture Blog's
/// "Exponential Backoff and Jitter".
///
/// The previous delay is per call: the drivers clone the configured strategy
/// for every call, and retry 1 always starts again from `base`, so
/// concurrent requests sharing one configured `DecorrelatedJitter` never see
/// each other's delays.
///
/// ```
/// # use core::time::Duration;
/// use tenace::{DecorrelatedJitter, RetryStrategy, SeededRng};
/// let base = Duration::from_millis(100);
/// let mut d = DecorrelatedJitter::new(base, Duration::from_secs(30))?;
/// let mut rng = SeededRng::new(3);
/// let first = d.delay(1, &mut rng);
/// assert!(first >= base && first <= base * 3);
/// # Ok::<(), tenace::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DecorrelatedJitter {
    base: u64,
    max: u64,
    last: u64,
}

impl DecorrelatedJitter {
    /// Uniform in `[base, 3 × previous]`, capped at `max_delay`; a
    /// `max_delay` below `base` is refused.
    pub const fn new(base: Duration, max_delay: Duration) -> Result<Self, ConfigError> {
        if let Err(e) = check_duration("base", base) {
            return Err(e);
        }
        if let Err(e) = check_duration("max_delay", max_delay) {
            return Err(e);
        }
        let (base, max) = (nanos(base), nanos(max_delay));
        if max < base {
            return Err(ConfigError::new("max_delay", ConfigProblem::BelowBase));
        }
        Ok(Self {
            base,
            max,
            last: base,
        })
    }

    /// As [`new`](Self::new), in seconds as `f64`: NaN, infinite or
    /// negative values are refused.
    pub fn from_secs_f64(base: f64, max_delay: f64) -> Result<Self, ConfigError> {
        Self::new(secs_f64("base", base)?, secs_f64("max_delay", max_delay)?)
    }

    /// The previous delay this call returned (`base` before the first).
    pub const fn last(&self) -> Duration {
        crate::time::nanos_to_duration(self.last)
    }
}

impl RetryStrategy for DecorrelatedJitter {
    fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, rng: &mut R) -> Duration {
        if attempt <= 1 {
            self.last = self.base;
        }
        // last >= base always holds, so hi >= base.
        let hi = self.last.saturating_mul(3);
        let d = self.base + uniform_inclusive(rng, hi - self.base);
        self.last = if d < self.max { d } else { self.max };
        crate::time::nanos_to_duration(self.last)
    }
    fn max_delay(&self) -> Duration {
        crate::time::nanos_to_duration(self.max)
    }
}
