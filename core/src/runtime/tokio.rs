//! [`Clock`] over tokio's time.

use core::time::Duration;

use crate::time::Instant;
use crate::transport::Clock;

/// The engine's clock on tokio: `now()` is [`tokio::time::Instant`] since the
/// clock was made, `sleep` is [`tokio::time::sleep`]. The async closure API's
/// default clock under the `tokio` feature.
///
/// Because it reads tokio's clock, a test under
/// `#[tokio::test(start_paused = true)]` runs a whole backoff schedule in
/// virtual time: sleeps complete at once, in order, and `now()` advances by
/// exactly the delays chosen.
///
/// ```
/// use core::time::Duration;
/// use tenace::{Clock, TokioClock};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let clock = TokioClock::new();
/// clock.sleep(Duration::from_secs(3600)).await; // instant in paused time
/// assert_eq!(clock.now().as_duration(), Duration::from_secs(3600));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    epoch: tokio::time::Instant,
}

impl TokioClock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        Self {
            epoch: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::from_duration(tokio::time::Instant::now().saturating_duration_since(self.epoch))
    }

    /// tokio's own [`Sleep`](tokio::time::Sleep), not an `async fn` around
    /// it: a retry future holding it is 32 bytes smaller.
    #[allow(refining_impl_trait)]
    fn sleep(&self, duration: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(duration)
    }
}
