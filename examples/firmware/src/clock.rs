//! tenace's [`Clock`](tenace::Clock) over embassy-time.

use embassy_time::{Duration, Instant, Timer};

/// Time from the embassy-time driver (here: SysTick).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EmbassyClock;

impl tenace::Clock for EmbassyClock {
    fn now(&self) -> tenace::Instant {
        tenace::Instant::from_micros(Instant::now().as_micros())
    }

    async fn sleep(&self, duration: core::time::Duration) {
        // Whole nanoseconds, saturating, rounded up to a tick: never early.
        let nanos = duration
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(duration.subsec_nanos()));
        let ticks = Duration::from_nanos(nanos.min(u64::MAX / 2));
        Timer::at(Instant::now().checked_add(ticks).unwrap_or(Instant::MAX)).await;
    }
}
