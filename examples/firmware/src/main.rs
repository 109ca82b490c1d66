//! tenace's retry engine on an emulated Cortex-M.
//!
//! The embassy executor runs one task over a SysTick time driver
//! ([`time_driver`]); the task runs the engine test suite ([`tests`])
//! against a scripted flaky Wi-Fi link ([`wifi`]), prints `N passed, N
//! failed` over semihosting and exits with a failing status on any failure,
//! panic or fault. Without the `tests` feature it makes one call (through
//! the engine with `engine`, directly without): the size report's probe.
#![no_std]
#![no_main]

#[cfg(feature = "engine")]
mod clock;
#[cfg(not(feature = "tests"))]
mod probe;
#[cfg(target_arch = "riscv32")]
mod riscv;
#[cfg(feature = "client")]
mod tcp;
#[cfg(feature = "tests")]
mod tests;
#[cfg(target_arch = "arm")]
mod time_driver;
mod wifi;

use core::sync::atomic::{AtomicBool, Ordering};

#[cfg(target_arch = "arm")]
use cortex_m_rt::{ExceptionFrame, entry, exception};
#[cfg(target_arch = "arm")]
pub(crate) use cortex_m_semihosting::{debug, hprintln};
#[cfg(target_arch = "arm")]
use embassy_executor::raw::Executor;
#[cfg(target_arch = "riscv32")]
pub(crate) use riscv_semihosting::{debug, hprintln};

/// SysTick's clock (the core clock) in qemu's model of the board. Its
/// calibration register reads 0, so it cannot be asked.
#[cfg(target_arch = "arm")]
const SYSTICK_HZ: u64 = if cfg!(board = "microbit") {
    16_000_000
} else if cfg!(board = "mps2-an386") {
    25_000_000
} else {
    12_000_000
};

/// A run that has not finished after this long (virtual time) is stuck.
#[cfg(target_arch = "arm")]
const WATCHDOG_SECS: u64 = 10;

/// What a stuck run fails with.
#[cfg(target_arch = "arm")]
const WATCHDOG_FAILURE: &str = "watchdog: no result after 10 s of virtual time";

/// Set by the executor's pender when a task was woken; the idle loop sleeps
/// only while it is clear.
pub(crate) static WOKEN: AtomicBool = AtomicBool::new(false);

/// Called by the executor (from any context) when a task is woken.
#[unsafe(export_name = "__pender")]
fn pender(_context: *mut ()) {
    WOKEN.store(true, Ordering::Release);
}

#[cfg(target_arch = "arm")]
#[entry]
fn main() -> ! {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        fail("core peripherals already taken");
    };
    time_driver::init(peripherals.SYST);
    let Some(executor) = cortex_m::singleton!(: Executor = Executor::new(core::ptr::null_mut()))
    else {
        fail("executor already created");
    };
    let executor: &'static Executor = executor;
    match run() {
        Ok(token) => executor.spawner().spawn(token),
        Err(_) => fail("could not spawn the main task"),
    }
    loop {
        // SAFETY: `poll` is only called here, never from the pender.
        unsafe { executor.poll() };
        // WFI, not the stock executor's WFE: qemu treats WFE as a no-op and
        // would spin, while WFI lets `-icount sleep=off` jump to the next
        // timer interrupt. Interrupts are masked while we check the flag;
        // a pending one still ends WFI, and runs once they are unmasked.
        cortex_m::interrupt::free(|_| {
            if !WOKEN.load(Ordering::Acquire) {
                cortex_m::asm::wfi();
            }
            WOKEN.store(false, Ordering::Release);
        });
    }
}

#[embassy_executor::task]
pub(crate) async fn run() {
    #[cfg(feature = "tests")]
    let failed = tests::run_all().await;
    #[cfg(not(feature = "tests"))]
    let failed = probe::run().await;
    if failed == 0 {
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        debug::exit(debug::EXIT_FAILURE);
    }
}

/// Prints `why` and exits qemu with a failing status.
pub(crate) fn fail(why: &str) -> ! {
    hprintln!("FAIL: {}", why);
    exit_failure()
}

pub(crate) fn exit_failure() -> ! {
    loop {
        debug::exit(debug::EXIT_FAILURE);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("PANIC: {}", info);
    exit_failure()
}

#[cfg(target_arch = "arm")]
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HARDFAULT: pc={:#010x} lr={:#010x}", frame.pc(), frame.lr());
    exit_failure()
}

#[cfg(target_arch = "arm")]
#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    hprintln!("UNEXPECTED EXCEPTION: {}", irqn);
    exit_failure()
}
