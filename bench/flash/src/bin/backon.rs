//! backon: three retries, exponential backoff from 100 ms, ×2, capped at
//! 10 s, with jitter, on backon's embassy sleeper.
#![no_std]
#![no_main]

use core::time::Duration;

use backon::{EmbassySleeper, ExponentialBuilder, Retryable};
use tenace_flash::{attempt, run};

#[cortex_m_rt::entry]
fn main() -> ! {
    let backoff = ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(10))
        .with_factor(2.0)
        .with_max_times(3)
        .with_jitter();
    run(async || {
        (|| async { attempt() })
            .retry(backoff)
            .sleep(EmbassySleeper)
            .await
            .ok()
    })
}
