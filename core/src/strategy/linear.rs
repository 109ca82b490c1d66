use core::time::Duration;

use rand_core::Rng;

use super::{RetryStrategy, check_duration, nanos, secs_f64};
use crate::error::{ConfigError, ConfigProblem};

/// Waits `base + attempt × increment`, capped at `max_delay`: a base and an
/// increment of 1 s with a 5 s cap wait 2 s, 3 s, 4 s, 5 s, 5 s.
///
/// ```
/// # use core::time::Duration;
/// use tenace::{LinearBackoff, RetryStrategy, SeededRng};
/// let s = Duration::from_secs;
/// let mut b = LinearBackoff::new(s(1), s(1), s(5))?;
/// let mut rng = SeededRng::new(1);
/// let delays: Vec<_> = (1..=5).map(|n| b.delay(n, &mut rng)).collect();
/// assert_eq!(delays, [s(2), s(3), s(4), s(5), s(5)]);
/// # Ok::<(), tenace::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinearBackoff {
    base: u64,
    increment: u64,
    max: u64,
}

impl LinearBackoff {
    /// `base + attempt × increment`, capped at `max_delay`. A `max_delay`
    /// below `base` is refused.
    pub const fn new(
        base: Duration,
        increment: Duration,
        max_delay: Duration,
    ) -> Result<Self, ConfigError> {
        if let Err(e) = check_duration("base", base) {
            return Err(e);
        }
        if let Err(e) = check_duration("increment", increment) {
            return Err(e);
        }
        if let Err(e) = check_duration("max_delay", max_delay) {
            return Err(e);
        }
        let (base, increment, max) = (nanos(base), nanos(increment), nanos(max_delay));
        if max < base {
            return Err(ConfigError::new("max_delay", ConfigProblem::BelowBase));
        }
        Ok(Self {
            base,
            increment,
            max,
        })
    }

    /// As [`new`](Self::new), in seconds as `f64`: NaN, infinite or
    /// negative values are refused.
    pub fn from_secs_f64(base: f64, increment: f64, max_delay: f64) -> Result<Self, ConfigError> {
        Self::new(
            secs_f64("base", base)?,
            secs_f64("increment", increment)?,
            secs_f64("max_delay", max_delay)?,
        )
    }
}

impl RetryStrategy for LinearBackoff {
    fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, _rng: &mut R) -> Duration {
        let d = self
            .increment
            .saturating_mul(u64::from(attempt))
            .saturating_add(self.base);
        crate::time::nanos_to_duration(if d < self.max { d } else { self.max })
    }
    fn max_delay(&self) -> Duration {
        crate::time::nanos_to_duration(self.max)
    }
}
