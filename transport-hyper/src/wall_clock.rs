//! The wall-clock time a `Retry-After` date is read against, from the
//! client's own clock.

use std::time::SystemTime;

use tenace::{Clock as _, TokioClock};

/// The system time read once, when the client (or the tower layer) is
/// built, advanced by the engine's [`TokioClock`] since then.
///
/// The engine's clock is the only clock a call reads: under tokio's paused
/// time (`#[tokio::test(start_paused = true)]`) a `Retry-After` date is
/// then read against the same virtual time the backoff sleeps in, exactly.
/// Over a long-lived client the result follows the monotonic clock, not
/// adjustments of the system clock; a `Retry-After` date is read against
/// the response's own `Date` header whenever it has one, so this time only
/// serves responses without it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WallClock {
    clock: TokioClock,
    epoch: SystemTime,
}

impl WallClock {
    /// A wall clock over `clock`, whose epoch is taken to be now.
    pub(crate) fn new(clock: TokioClock) -> Self {
        Self {
            clock,
            epoch: SystemTime::now(),
        }
    }

    /// The current time by the engine's clock.
    pub(crate) fn now(&self) -> SystemTime {
        self.epoch + self.clock.now().as_duration()
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_the_engine_clock_in_paused_time() {
        let clock = WallClock::new(TokioClock::new());
        let start = clock.now();
        tokio::time::sleep(Duration::from_secs(90)).await;
        assert_eq!(
            clock.now().duration_since(start).unwrap(),
            Duration::from_secs(90)
        );
    }
}
