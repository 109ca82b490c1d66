//! tenace: three retries, exponential backoff from 100 ms, ×2, capped at
//! 10 s, full jitter from tenace's SplitMix64, on an embassy-time clock.
#![no_std]
#![no_main]

use core::time::Duration;

use tenace::{Clock, ExponentialBackoff, FailureKind, Instant, Policy, SeededRng, Transport};
use tenace_flash::{LinkError, attempt, run, seed};

struct Link;

/// The link's error, classified for tenace.
struct Error(LinkError);

impl tenace::TransportError for Error {
    fn kind(&self) -> FailureKind {
        match self.0 {
            LinkError::Reset => FailureKind::Io,
            LinkError::TimedOut => FailureKind::Timeout,
        }
    }
    fn timed_out(_after: Duration) -> Self {
        Self(LinkError::TimedOut)
    }
}

impl Transport for Link {
    type Request = ();
    type Response = u32;
    type Error = Error;
    async fn send(&self, _request: ()) -> Result<u32, Error> {
        attempt().map_err(Error)
    }
    fn is_idempotent(&self, _request: &()) -> bool {
        true
    }
}

/// embassy-time as tenace's clock.
struct EmbassyClock;

impl Clock for EmbassyClock {
    fn now(&self) -> Instant {
        Instant::from_micros(embassy_time::Instant::now().as_micros())
    }
    async fn sleep(&self, d: Duration) {
        let micros = d
            .as_secs()
            .saturating_mul(1_000_000)
            .saturating_add(u64::from(d.subsec_micros()));
        embassy_time::Timer::after_micros(micros).await;
    }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let policy =
        match ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(10)) {
            Ok(b) => Policy::new(b.full_jitter()).max_retries(3),
            Err(_) => cortex_m::asm::udf(),
        };
    let mut rng = SeededRng::new(seed());
    run(async || {
        tenace::retry(&Link, &EmbassyClock, &policy, &mut rng, ())
            .await
            .ok()
    })
}
