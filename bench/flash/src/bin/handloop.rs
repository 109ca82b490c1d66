//! A hand-written retry loop: three retries, exponential backoff from
//! 100 ms, ×2, capped at 10 s, full jitter from a xorshift generator.
#![no_std]
#![no_main]

use embassy_time::{Duration, Timer};
use tenace_flash::{attempt, run, seed};

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut state = seed() as u32 | 1;
    run(async || {
        let mut retry = 0u32;
        loop {
            match attempt() {
                Ok(v) => return Some(v),
                Err(_) if retry < 3 => {
                    retry += 1;
                    let ceiling = (100u64 << retry).min(10_000);
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    let ms = u64::from(state) % (ceiling + 1);
                    Timer::after(Duration::from_millis(ms)).await;
                }
                Err(_) => return None,
            }
        }
    })
}
