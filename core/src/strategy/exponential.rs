use core::time::Duration;

use rand_core::Rng;

use super::{RetryStrategy, check_duration, nanos, secs_f64, uniform_inclusive};
use crate::error::{ConfigError, ConfigProblem};

/// `1.0` in the 16.16 fixed-point format multipliers are kept in.
const ONE: u32 = 1 << 16;

/// Jitter applied on top of [`ExponentialBackoff`], after the study
/// "Exponential Backoff and Jitter" (AWS Architecture Blog, 2015).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Jitter {
    /// The plain capped exponential, deterministic.
    #[default]
    None,
    /// Uniform in `[0, e]` where `e` is the capped exponential delay.
    Full,
    /// `e / 2` plus uniform in `[0, e / 2]`: never less than half.
    Equal,
}

/// Waits `base × multiplier^attempt`, capped at `max_delay`, optionally with
/// full or equal jitter: base 1 s, multiplier 2 and a 30 s cap wait 2, 4, 8,
/// 16, 30 s (the first retry is `attempt` 1; see the
/// [module docs](crate::strategy)).
///
/// ```
/// # use core::time::Duration;
/// use tenace::{ExponentialBackoff, RetryStrategy, SeededRng};
/// let s = Duration::from_secs;
/// let mut b = ExponentialBackoff::new(s(1), 2, s(30))?;
/// let mut rng = SeededRng::new(1);
/// let delays: Vec<_> = (1..=5).map(|n| b.delay(n, &mut rng)).collect();
/// assert_eq!(delays, [s(2), s(4), s(8), s(16), s(30)]);
/// assert_eq!(b.delay(u32::MAX, &mut rng), s(30));
/// # Ok::<(), tenace::ConfigError>(())
/// ```
///
/// The multiplier is kept in 16.16 fixed point (`1/65536` resolution), so
/// the math is integer-only on every target: integer and binary-fraction
/// multipliers (2, 3, 1.5, 1.25) are exact.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExponentialBackoff {
    base: u64,
    max: u64,
    multiplier: u32,
    jitter: Jitter,
    fractional: Fractional,
}

/// The routine for a multiplier with a fractional part, or `None` for an
/// integer one.
///
/// A function pointer set by the constructors that can make such a
/// multiplier ([`with_ratio`](ExponentialBackoff::with_ratio),
/// [`from_secs_f64`](ExponentialBackoff::from_secs_f64)), so the 128-bit
/// routine is linked only into programs that call one of them: firmware
/// that builds its backoff with [`new`](ExponentialBackoff::new) does not
/// carry it (about 550 bytes of flash on a Cortex-M4, 770 on a Cortex-M0).
/// It follows from the multiplier, so equality of backoffs compares their
/// parameters, not this pointer.
#[derive(Clone, Copy)]
struct Fractional(Option<Grow>);

/// `(base, multiplier, attempt, cap) -> min(base × multiplier^attempt, cap)`.
type Grow = fn(u64, u32, u32, u64) -> u64;

impl Fractional {
    /// `Some(fractional_nanos)` for a multiplier with a fractional part.
    const fn of(multiplier: u32) -> Self {
        if multiplier & (ONE - 1) == 0 {
            Self(None)
        } else {
            Self(Some(fractional_nanos))
        }
    }

    /// What `Debug` and `defmt` print.
    const fn label(&self) -> &'static str {
        if self.0.is_some() {
            "Fractional"
        } else {
            "Integer"
        }
    }
}

impl PartialEq for ExponentialBackoff {
    fn eq(&self, other: &Self) -> bool {
        (self.base, self.max, self.multiplier, self.jitter)
            == (other.base, other.max, other.multiplier, other.jitter)
    }
}

impl Eq for ExponentialBackoff {}

impl core::fmt::Debug for Fractional {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Fractional {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}", self.label());
    }
}

impl ExponentialBackoff {
    /// `base × multiplier^attempt`, capped at `max_delay`. A multiplier of 0
    /// or a `max_delay` below `base` is refused.
    pub const fn new(
        base: Duration,
        multiplier: u32,
        max_delay: Duration,
    ) -> Result<Self, ConfigError> {
        if multiplier == 0 {
            return Err(ConfigError::new("multiplier", ConfigProblem::BelowOne));
        }
        if multiplier >= 1 << 16 {
            return Err(ConfigError::new("multiplier", ConfigProblem::TooLarge));
        }
        Self::with_q16(base, multiplier << 16, max_delay, Fractional(None))
    }

    /// A fractional multiplier `numerator / denominator` (e.g. 3/2 for 1.5),
    /// without floating point. Refused if below 1, at or above 65536, or
    /// with a zero denominator.
    pub const fn with_ratio(
        base: Duration,
        numerator: u32,
        denominator: u32,
        max_delay: Duration,
    ) -> Result<Self, ConfigError> {
        if denominator == 0 {
            return Err(ConfigError::new("multiplier", ConfigProblem::NotFinite));
        }
        let q = ((numerator as u64) << 16) / denominator as u64;
        if q < ONE as u64 {
            return Err(ConfigError::new("multiplier", ConfigProblem::BelowOne));
        }
        if q > u32::MAX as u64 {
            return Err(ConfigError::new("multiplier", ConfigProblem::TooLarge));
        }
        Self::with_q16(base, q as u32, max_delay, Fractional::of(q as u32))
    }

    /// As [`new`](Self::new) with a fractional multiplier, in seconds as
    /// `f64`: `from_secs_f64(1.0, 2.0, 30.0)`. NaN, infinite, negative
    /// values, a multiplier below 1 and a cap below the base are refused.
    pub fn from_secs_f64(base: f64, multiplier: f64, max_delay: f64) -> Result<Self, ConfigError> {
        let base = secs_f64("base", base)?;
        let max_delay = secs_f64("max_delay", max_delay)?;
        if !multiplier.is_finite() {
            return Err(ConfigError::new("multiplier", ConfigProblem::NotFinite));
        }
        if multiplier < 1.0 {
            return Err(ConfigError::new("multiplier", ConfigProblem::BelowOne));
        }
        if multiplier >= 65536.0 {
            return Err(ConfigError::new("multiplier", ConfigProblem::TooLarge));
        }
        // In range [65536, 2^32), so the cast is exact after rounding.
        let q = (multiplier * f64::from(ONE) + 0.5) as u32;
        Self::with_q16(base, q, max_delay, Fractional::of(q))
    }

    const fn with_q16(
        base: Duration,
        multiplier: u32,
        max_delay: Duration,
        fractional: Fractional,
    ) -> Result<Self, ConfigError> {
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
            multiplier,
            jitter: Jitter::None,
            fractional,
        })
    }

    /// The same backoff with full jitter: uniform in `[0, e]`.
    #[must_use]
    pub const fn full_jitter(self) -> Self {
        self.with_jitter(Jitter::Full)
    }

    /// The same backoff with equal jitter: `e/2 +` uniform in `[0, e/2]`.
    #[must_use]
    pub const fn equal_jitter(self) -> Self {
        self.with_jitter(Jitter::Equal)
    }

    /// The same backoff with the given jitter.
    #[must_use]
    pub const fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The jitter in use.
    pub const fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// The capped exponential delay for retry `attempt`, before jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        crate::time::nanos_to_duration(self.ceiling_nanos(attempt))
    }

    /// [`ceiling`](Self::ceiling) in nanoseconds.
    #[inline]
    fn ceiling_nanos(&self, attempt: u32) -> u64 {
        match self.fractional.0 {
            Some(fractional) => fractional(self.base, self.multiplier, attempt, self.max),
            None => integer_nanos(self.base, self.multiplier >> 16, attempt, self.max),
        }
    }
}

/// `min(base × m^n, cap)` for an integer multiplier `m` (at least 1):
/// exact in u64, no 128-bit math, at most 64 steps since each at least
/// doubles the delay.
///
/// On a 64-bit target a power-of-two multiplier (2, the usual one) takes
/// one shift instead of `n` multiplications. A 32-bit target keeps the
/// loop: a variable 64-bit shift is a library routine there, larger in
/// flash than the loop it would save.
const fn integer_nanos(base: u64, m: u32, attempt: u32, cap: u64) -> u64 {
    if base == 0 || m == 1 {
        return if base < cap { base } else { cap };
    }
    #[cfg(target_pointer_width = "64")]
    if m.is_power_of_two() {
        return shifted_nanos(base, m.trailing_zeros(), attempt, cap);
    }
    let mut acc = base;
    let mut n = attempt;
    while n > 0 {
        acc = match acc.checked_mul(m as u64) {
            Some(v) if v < cap => v,
            _ => return cap,
        };
        n -= 1;
    }
    if acc < cap { acc } else { cap }
}

/// `min(base × 2^(k × n), cap)` for a base of at least 1, by one shift.
#[cfg(any(test, target_pointer_width = "64"))]
const fn shifted_nanos(base: u64, k: u32, attempt: u32, cap: u64) -> u64 {
    // At most 31 × (2^32 − 1): no overflow in u64.
    let shift = k as u64 * attempt as u64;
    if shift <= base.leading_zeros() as u64 && base << shift < cap {
        base << shift
    } else {
        cap
    }
}

/// `min(base × m^n, cap)` for a multiplier `m` with a fractional part, in
/// 16.16 fixed point, by square and multiply: 2 × 32 steps at most,
/// saturating. Called through [`Fractional`], never inlined into the
/// drivers.
const fn fractional_nanos(base: u64, multiplier: u32, attempt: u32, cap: u64) -> u64 {
    // Zero stays zero (the factor's own saturation below would say `cap`).
    if base == 0 {
        return 0;
    }
    // The delay in 16.16 fixed-point nanoseconds. Both operands of each
    // product are checked by bit length first: a product of 2^96 or more
    // means a delay of 2^80 or more (at least the cap), and anything
    // smaller fits in 128 bits, so the multiplications need no overflow
    // check (a large routine on a 32-bit target). `acc` starts at 2^16 or
    // more and every factor exceeds 1.0, so `acc` and the factor only grow:
    // a factor that reaches the cap is applied later and gives the cap.
    let cap_q = (cap as u128) << 16;
    let mut acc = (base as u128) << 16;
    let mut factor = multiplier as u128;
    let mut n = attempt;
    while n > 0 {
        if n & 1 == 1 {
            if bits(acc) + bits(factor) >= 98 {
                return cap;
            }
            acc = acc.wrapping_mul(factor) >> 16;
            if acc >= cap_q {
                return cap;
            }
        }
        n >>= 1;
        if n > 0 {
            if 2 * bits(factor) >= 98 {
                return cap;
            }
            factor = factor.wrapping_mul(factor) >> 16;
        }
    }
    (acc >> 16) as u64
}

/// Significant bits of `x`.
const fn bits(x: u128) -> u32 {
    128 - x.leading_zeros()
}

impl RetryStrategy for ExponentialBackoff {
    fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, rng: &mut R) -> Duration {
        let e = self.ceiling_nanos(attempt);
        // One draw site for both jitters: the generator is inlined once.
        let (floor, span) = match self.jitter {
            Jitter::None => (e, 0),
            Jitter::Full => (0, e),
            Jitter::Equal => (e / 2, e - e / 2),
        };
        let d = floor + uniform_inclusive(rng, span);
        // Clamped after jitter, so no rounding can exceed the cap.
        crate::time::nanos_to_duration(if d < self.max { d } else { self.max })
    }
    fn max_delay(&self) -> Duration {
        crate::time::nanos_to_duration(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same product by plain saturating square and multiply in 128-bit
    /// fixed point: too slow for the drivers, simple enough to trust as the
    /// oracle `fractional_nanos` must match.
    fn oracle(base: u64, multiplier: u32, attempt: u32, cap: u64) -> u64 {
        let cap_q = (cap as u128) << 16;
        let mut acc = (base as u128) << 16;
        let mut factor = multiplier as u128;
        let mut n = attempt;
        while n > 0 {
            if n & 1 == 1 {
                acc = acc.saturating_mul(factor) >> 16;
                if acc >= cap_q {
                    return cap;
                }
            }
            n >>= 1;
            if n > 0 {
                factor = factor.saturating_mul(factor) >> 16;
            }
        }
        (acc >> 16) as u64
    }

    #[test]
    fn a_power_of_two_multiplier_shifts_to_the_saturated_product() {
        // The product by repeated saturating multiplication in 128 bits.
        let oracle = |base: u64, k: u32, attempt: u32, cap: u64| {
            let mut acc = u128::from(base);
            for _ in 0..attempt {
                acc = acc.saturating_mul(1 << k);
                if acc >= u128::from(cap) {
                    return cap;
                }
            }
            acc.min(u128::from(cap)) as u64
        };
        let bases = [
            1,
            2,
            3,
            7,
            100_000_000,
            1 << 40,
            (1 << 62) + 1,
            u64::MAX - 1,
            u64::MAX,
        ];
        let caps = [1, 999, 1_000_000_000, 10_000_000_000, 1 << 63, u64::MAX];
        let attempts = [
            0,
            1,
            2,
            3,
            5,
            8,
            13,
            31,
            32,
            33,
            62,
            63,
            64,
            65,
            100,
            1000,
            u32::MAX,
        ];
        let mut checked = 0;
        for k in [1, 2, 3, 5, 16, 31] {
            for base in bases {
                for cap in caps {
                    for attempt in attempts {
                        let want = oracle(base, k, attempt, cap);
                        assert_eq!(
                            shifted_nanos(base, k, attempt, cap),
                            want,
                            "base {base} 2^{k} attempt {attempt} cap {cap}"
                        );
                        assert_eq!(integer_nanos(base, 1 << k, attempt, cap), want);
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 6 * 9 * 6 * 17);
    }

    #[test]
    fn fractional_matches_the_saturating_oracle() {
        let mut x: u64 = 7;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut checked = 0u32;
        // Miri interprets every step: a sample there, the full sweep on the host.
        let rounds = if cfg!(miri) { 300 } else { 60_000 };
        for _ in 0..rounds {
            let r = next();
            // Multipliers just above 1.0, moderate, and huge; bases and
            // caps over the whole range, small and large.
            let multiplier = match r % 4 {
                0 => ONE + 1 + (next() % 64) as u32,
                1 => ONE + (next() % (7 * ONE as u64)) as u32,
                2 => (next() >> 32) as u32 | ONE,
                _ => (ONE as u64 + next() % (u32::MAX - ONE) as u64) as u32,
            };
            if multiplier & (ONE - 1) == 0 {
                continue;
            }
            let base = match (r >> 8) % 3 {
                0 => 1 + next() % 1_000,
                1 => 1 + next() % 10_000_000_000,
                _ => 1 + next() % (u64::MAX - 1),
            };
            let cap = match (r >> 16) % 3 {
                0 => base,
                1 => base.saturating_add(next() % 100_000_000_000),
                _ => base + next() % (u64::MAX - base + 1).max(1),
            };
            for attempt in [0, 1, 2, 3, 5, 8, 13, 31, 32, 33, 64, 100, 1000, u32::MAX] {
                assert_eq!(
                    fractional_nanos(base, multiplier, attempt, cap),
                    oracle(base, multiplier, attempt, cap),
                    "base {base} multiplier {multiplier} attempt {attempt} cap {cap}"
                );
                checked += 1;
            }
            let attempt = (next() % 200) as u32;
            assert_eq!(
                fractional_nanos(base, multiplier, attempt, cap),
                oracle(base, multiplier, attempt, cap)
            );
        }
        assert!(checked >= rounds * 10, "{checked}");
    }
}
