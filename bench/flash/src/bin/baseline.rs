//! One call, no retry.
#![no_std]
#![no_main]

use tenace_flash::{attempt, run};

#[cortex_m_rt::entry]
fn main() -> ! {
    run(async || attempt().ok())
}
