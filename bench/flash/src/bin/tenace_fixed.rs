//! tenace with a fixed 100 ms delay and no jitter: the engine without its
//! exponential strategy, to split tenace's size between driver and strategy.
#![no_std]
#![no_main]

use core::time::Duration;

use tenace::{Policy, SeededRng};
use tenace_flash::tenace_env::{EmbassyClock, Link};
use tenace_flash::{run, seed};

#[cortex_m_rt::entry]
fn main() -> ! {
    let policy = Policy::new(tenace::FixedDelay::new(Duration::from_millis(100))).max_retries(3);
    let mut rng = SeededRng::new(seed());
    run(async || {
        tenace::retry(&Link, &EmbassyClock, &policy, &mut rng, ())
            .await
            .ok()
            .map(|r| r.value)
    })
}
