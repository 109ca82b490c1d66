//! [`Clock`] over embassy-time.
//!
//! The crate depends on embassy-time without a driver, tick rate or timer
//! queue: those are global choices the firmware binary makes (for example
//! `embassy-time = { features = ["tick-hz-32_768"] }` and the HAL's
//! `time-driver-*` feature).

use core::time::Duration;

use crate::time::Instant;
use crate::transport::Clock;

/// embassy-time as a [`Clock`]: `now` is [`embassy_time::Instant::now`],
/// `sleep` is a [`embassy_time::Timer`]. The async closure API's default
/// clock under the `embassy-time` feature (when `tokio` is off).
///
/// Instants are converted through microseconds, so a clock ticking faster
/// than 1 MHz is rounded to the microsecond; a sleep is rounded up to the
/// next tick, so it never ends early. A sleep longer than the timer can
/// represent waits until the end of time rather than overflowing.
///
/// ```
/// use tenace::EmbassyClock;
/// // A value, nothing more: the firmware's embassy-time driver does the work.
/// let clock = EmbassyClock::new();
/// # let _ = clock;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EmbassyClock;

impl EmbassyClock {
    /// The clock.
    pub const fn new() -> Self {
        Self
    }
}

/// `d` as an embassy-time duration, rounded up to a tick, saturating.
fn to_embassy(d: Duration) -> embassy_time::Duration {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    // Round a sub-microsecond rest up, so a sleep never ends early.
    let micros = if d.subsec_nanos().is_multiple_of(1_000) {
        micros
    } else {
        micros.saturating_add(1)
    };
    // embassy-time's rounding adds up to a million to the product: stay
    // clear of overflow (this is past 290 000 years anyway).
    if micros >= u64::MAX / 2 {
        return embassy_time::Duration::MAX;
    }
    embassy_time::Duration::try_from_micros(micros).unwrap_or(embassy_time::Duration::MAX)
}

impl Clock for EmbassyClock {
    fn now(&self) -> Instant {
        Instant::from_micros(embassy_time::Instant::now().as_micros())
    }

    async fn sleep(&self, duration: Duration) {
        let now = embassy_time::Instant::now();
        let at = now
            .checked_add(to_embassy(duration))
            .unwrap_or(embassy_time::Instant::MAX);
        embassy_time::Timer::at(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_rounds_up_and_saturates() {
        assert_eq!(to_embassy(Duration::ZERO).as_micros(), 0);
        assert_eq!(
            to_embassy(Duration::from_millis(1500)).as_micros(),
            1_500_000
        );
        assert_eq!(to_embassy(Duration::from_nanos(1)).as_micros(), 1);
        assert_eq!(to_embassy(Duration::new(2, 1_001)).as_micros(), 2_000_002);
        assert_eq!(to_embassy(Duration::MAX), embassy_time::Duration::MAX);
        assert_eq!(
            to_embassy(Duration::from_secs(u64::MAX / 1_000_000 + 1)),
            embassy_time::Duration::MAX
        );
    }
}
