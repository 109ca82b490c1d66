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
        nanos_to_duration(self.nanos.saturating_sub(earlier.nanos))
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

/// `Duration::from_nanos(nanos)` without a 64-bit division, which a
/// 32-bit microcontroller would do with a ~1 KiB library routine.
///
/// `nanos / 10^9 = (nanos >> 9) / 1_953_125`, and the dividend is below
/// 2^55, so a multiplication by `ceil(2^76 / 1_953_125)` and a shift by 76
/// is exact (the magic's error, `M × 1_953_125 − 2^76`, is below
/// `2^(76−55)`).
#[inline]
pub(crate) const fn nanos_to_duration(nanos: u64) -> Duration {
    const NANOS_PER_SEC: u64 = 1_000_000_000;
    const MAGIC: u128 = (1u128 << 76).div_ceil(1_953_125);
    let secs = (((nanos >> 9) as u128 * MAGIC) >> 76) as u64;
    let sub = (nanos - secs * NANOS_PER_SEC) as u32;
    // Always true (the quotient is exact); lets the compiler drop
    // `Duration::new`'s carry and overflow path.
    let sub = if sub < NANOS_PER_SEC as u32 { sub } else { 0 };
    Duration::new(secs, sub)
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

    #[test]
    fn nanos_to_duration_is_from_nanos() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let edges = [
            0,
            1,
            999_999_999,
            1_000_000_000,
            1_000_000_001,
            u64::MAX,
            u64::MAX - 1,
            u64::MAX / 1_000_000_000 * 1_000_000_000,
            u64::MAX / 1_000_000_000 * 1_000_000_000 - 1,
        ];
        for n in edges {
            assert_eq!(nanos_to_duration(n), Duration::from_nanos(n), "{n}");
        }
        for k in 0..=u64::MAX / 1_000_000_000 / 4_000_000 {
            let n = k * 4_000_000 * 1_000_000_000;
            for m in [n, n.wrapping_sub(1), n + 1, n + 999_999_999] {
                assert_eq!(nanos_to_duration(m), Duration::from_nanos(m), "{m}");
            }
        }
        // Miri interprets every step: a sample there, the full sweep on the host.
        for _ in 0..if cfg!(miri) { 2_000 } else { 200_000 } {
            // SplitMix64 steps: values spread over the whole range.
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            for n in [z, z >> 20, z >> 40] {
                assert_eq!(nanos_to_duration(n), Duration::from_nanos(n), "{n}");
            }
        }
    }
}
