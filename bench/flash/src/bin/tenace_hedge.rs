//! tenace, hedged: the call of `tenace` (same policy and clock) through
//! `tenace::hedge` with one extra copy 50 ms after the first.
#![no_std]
#![no_main]

use core::time::Duration;

use tenace::{ExponentialBackoff, Hedge, Policy, SeededRng};
use tenace_flash::tenace_env::{EmbassyClock, Link};
use tenace_flash::{run, seed};

#[cortex_m_rt::entry]
fn main() -> ! {
    let policy =
        match ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(10)) {
            Ok(b) => Policy::new(b.full_jitter()).max_retries(3),
            Err(_) => cortex_m::asm::udf(),
        };
    let hedge = Hedge::<1>::after(Duration::from_millis(50));
    let mut rng = SeededRng::new(seed());
    run(async || {
        tenace::hedge(&Link, &EmbassyClock, &policy, &hedge, &mut rng, ())
            .await
            .ok()
            .map(|r| r.value)
    })
}
