//! Backoff strategies: how long to wait before each retry.
//!
//! A strategy maps the retry number (1-indexed: `1` is the first retry) to a
//! delay:
//!
//! | strategy | delay for retry `n` |
//! |---|---|
//! | [`FixedDelay`] | `delay` |
//! | [`LinearBackoff`] | `min(base + n × increment, max_delay)` |
//! | [`ExponentialBackoff`] | `min(base × multiplier^n, max_delay)` |
//! | [`ExponentialBackoff::full_jitter`] | uniform in `[0, exponential(n)]` |
//! | [`ExponentialBackoff::equal_jitter`] | `e/2 +` uniform in `[0, e/2]`, `e = exponential(n)` |
//! | [`JitterBackoff`] | uniform in `[min_delay, max_delay]` |
//! | [`DecorrelatedJitter`] | `min(uniform(base, 3 × previous), max_delay)` |
//!
//! Since `n` starts at 1, `ExponentialBackoff` with base 1 s and multiplier 2
//! waits 2 s, 4 s, 8 s: the base is the unit the growth starts from, not the
//! first delay.
//!
//! # Why strategies are small `Clone` values
//!
//! [`DecorrelatedJitter`] needs the previous delay. Kept on a strategy that
//! every request shares, it would let one request's retries change another's
//! delays. So the drivers clone the configured strategy for each call (at its
//! first failure); the clone is that call's state and nothing is shared. Randomness is passed in (`&mut R` where `R:`[`rand_core::Rng`]),
//! so firmware passes its hardware RNG and tests pass a seeded one.
//!
//! # Arithmetic
//!
//! All delay math is integer nanoseconds and saturates: retry `u32::MAX`
//! with multiplier 2 returns `max_delay`, never a panic, an overflow or NaN,
//! and no floating-point routine is linked on a microcontroller (only the
//! `from_secs_f64` constructors use floats, and only if called). Jitter is
//! clamped to `max_delay` after it is applied.

use core::time::Duration;

use rand_core::Rng;

use crate::error::{ConfigError, ConfigProblem};
use crate::time::duration_to_nanos;

mod backoff;
mod decorrelated;
mod exponential;
mod fixed;
mod jitter;
mod linear;

pub use backoff::Backoff;
pub use decorrelated::DecorrelatedJitter;
pub use exponential::{ExponentialBackoff, Jitter};
pub use fixed::FixedDelay;
pub use jitter::JitterBackoff;
pub use linear::LinearBackoff;

/// Maps a retry number to the delay before that retry.
///
/// # Implementing
///
/// ```
/// use core::time::Duration;
/// use rand_core::Rng;
/// use tenace::RetryStrategy;
///
/// /// Waits 100 ms, then 1 s for every later retry.
/// #[derive(Debug, Clone)]
/// struct Stepped;
///
/// impl RetryStrategy for Stepped {
///     fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, _rng: &mut R) -> Duration {
///         if attempt <= 1 { Duration::from_millis(100) } else { Duration::from_secs(1) }
///     }
///     fn max_delay(&self) -> Duration {
///         Duration::from_secs(1)
///     }
/// }
/// ```
pub trait RetryStrategy {
    /// The delay before retry number `attempt` (1 is the first retry).
    ///
    /// Takes `&mut self` so a strategy can keep per-call state (see
    /// [`DecorrelatedJitter`]); the drivers call it on a per-call clone.
    /// Must never panic, and should return at most
    /// [`max_delay`](Self::max_delay).
    #[doc(alias = "get_delay")]
    fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, rng: &mut R) -> Duration;

    /// The longest delay this strategy returns. The engine also caps a
    /// server's `Retry-After` hint at this value unless the policy sets its
    /// own cap.
    fn max_delay(&self) -> Duration;
}

impl<S: RetryStrategy + ?Sized> RetryStrategy for &mut S {
    fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, rng: &mut R) -> Duration {
        (**self).delay(attempt, rng)
    }
    fn max_delay(&self) -> Duration {
        (**self).max_delay()
    }
}

/// A uniform random integer in `[0, span]`, by Lemire's multiply-shift
/// (unbiased to within 2^-64 per value, no division).
pub(crate) fn uniform_inclusive<R: Rng + ?Sized>(rng: &mut R, span: u64) -> u64 {
    if span == 0 {
        return 0;
    }
    let x = rng.next_u64();
    match span.checked_add(1) {
        Some(n) => ((u128::from(x) * u128::from(n)) >> 64) as u64,
        None => x,
    }
}

/// A duration in nanoseconds, saturating (see [`duration_to_nanos`]).
pub(crate) const fn nanos(d: Duration) -> u64 {
    duration_to_nanos(d)
}

/// Seconds as `f64` to a [`Duration`], refusing NaN,
/// infinities, negatives and values over `u64::MAX` nanoseconds.
pub(crate) fn secs_f64(param: &'static str, secs: f64) -> Result<Duration, ConfigError> {
    if !secs.is_finite() {
        return Err(ConfigError::new(param, ConfigProblem::NotFinite));
    }
    if secs < 0.0 {
        return Err(ConfigError::new(param, ConfigProblem::Negative));
    }
    // u64::MAX nanoseconds, the largest delay the engine represents.
    if secs >= 18_446_744_073.709_55 {
        return Err(ConfigError::new(param, ConfigProblem::TooLarge));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Refuses durations the engine cannot represent (over `u64::MAX` ns).
pub(crate) const fn check_duration(
    param: &'static str,
    d: Duration,
) -> Result<Duration, ConfigError> {
    // u64::MAX nanoseconds is 18_446_744_073 s + 709_551_615 ns.
    let (secs, sub) = (d.as_secs(), d.subsec_nanos());
    if secs > 18_446_744_073 || (secs == 18_446_744_073 && sub > 709_551_615) {
        return Err(ConfigError::new(param, ConfigProblem::TooLarge));
    }
    Ok(d)
}

#[cfg(test)]
mod tests;
