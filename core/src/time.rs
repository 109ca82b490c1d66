//! Monotonic time as the engine sees it.
//!
//! The core never reads a clock itself: every method of the
//! [`RetryMachine`](crate::RetryMachine) takes `now` as an argument, and the
//! drivers read it from a [`Clock`](crate::Clock). An [`Instant`] is a
//! nanosecond count since an epoch the clock chooses (boot, the start of a
//! test), so it is 8 bytes on every target and arithmetic on it saturates.

use core::fmt;
use core::time::Duration;

/// A point on a monotonic clock, in nanoseconds since the clock's epoch.
///
/// Arithmetic saturates: adding `Duration::MAX` gives [`Instant::MAX`], never
/// a panic, so a deadline far in the future is simply "never".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant {
    nanos: u64,
}

impl Instant {
    /// The clock's epoch.
    pub const ZERO: Self = Self { nanos: 0 };
    /// The latest representable instant (about 584 years after the epoch).
    pub const MAX: Self = Self { nanos: u64::MAX };

    /// An instant `nanos` nanoseconds after the epoch.
    pub const fn from_nanos(nanos: u64) -> Self {
        Self { nanos }
    }

    /// An instant `micros` microseconds after the epoch (saturating).
    pub const fn from_micros(micros: u64) -> Self {
        Self {
            nanos: micros.saturating_mul(1_000),
        }
    }

    /// An instant `millis` milliseconds after the epoch (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Self {
            nanos: millis.saturating_mul(1_000_000),
        }
    }

    /// An instant `elapsed` after the epoch (saturating).
    pub const fn from_duration(elapsed: Duration) -> Self {
        Self {
            nanos: duration_to_nanos(elapsed),
        }
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// Time since the epoch.
    pub const fn as_duration(self) -> Duration {
        Duration::from_nanos(self.nanos)
    }

    /// `self + d`, saturating at [`Instant::MAX`].
    #[must_use]
    pub const fn saturating_add(self, d: Duration) -> Self {
        Self {
            nanos: self.nanos.saturating_add(duration_to_nanos(d)),
        }
    }

    /// `self + d`, or `None` if that is past [`Instant::MAX`].
    #[must_use]
    pub const fn checked_add(self, d: Duration) -> Option<Self> {
        let d = duration_to_nanos(d);
        match self.nanos.checked_add(d) {
            Some(nanos) if d != u64::MAX => Some(Self { nanos }),
            _ => None,
        }
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_duration())
    }
}

/// `d` in nanoseconds, saturating at `u64::MAX` (about 584 years).
///
/// Integer-only, so it links no floating-point or 128-bit routines on
/// microcontrollers.
pub(crate) const fn duration_to_nanos(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(d.subsec_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates() {
        assert_eq!(Instant::ZERO.saturating_add(Duration::MAX), Instant::MAX);
        assert_eq!(Instant::MAX.checked_add(Duration::from_nanos(1)), None);
        assert_eq!(Instant::ZERO.checked_add(Duration::MAX), None);
        assert_eq!(
            Instant::from_millis(5).checked_add(Duration::from_millis(5)),
            Some(Instant::from_millis(10))
        );
        assert_eq!(
            Instant::ZERO.saturating_duration_since(Instant::from_millis(1)),
            Duration::ZERO
        );
        assert_eq!(Instant::from_millis(u64::MAX), Instant::MAX);
        assert_eq!(duration_to_nanos(Duration::MAX), u64::MAX);
        assert_eq!(duration_to_nanos(Duration::new(1, 5)), 1_000_000_005);
    }
}
