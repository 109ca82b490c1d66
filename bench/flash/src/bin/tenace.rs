//! tenace: three retries, exponential backoff from 100 ms, ×2, capped at
//! 10 s, full jitter from tenace's SplitMix64, on an embassy-time clock.
#![no_std]
#![no_main]

use core::time::Duration;

use tenace::{ExponentialBackoff, Policy, SeededRng};
use tenace_flash::tenace_env::{EmbassyClock, Link};
use tenace_flash::{run, seed};

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
            .map(|r| r.value)
    })
}
