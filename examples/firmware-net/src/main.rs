//! tenace-embedded's HTTP client making real calls from an emulated
//! Cortex-M4F (qemu `mps2-an386`): reqwless over embassy-net (smoltcp)
//! over a LAN9118 driver ([`lan9118`]), through qemu's user network to the
//! project's fault server on the host.
//!
//! Three tasks share the embassy executor: the network stack's runner, a
//! link watcher that raises [`LINK_UP`] whenever the link comes back, and
//! the test suite ([`tests`]), which prints `N passed, N failed` over
//! semihosting and exits with a failing status on any failure, panic,
//! fault or hang.
#![no_std]
#![no_main]

mod frame;
mod impair;
#[cfg(board = "mps2-an386")]
mod lan9118;
mod net;
#[cfg(board = "lm3s6965evb")]
mod stellaris;
mod tests;
#[path = "../../firmware/src/time_driver.rs"]
mod time_driver;

use core::sync::atomic::{AtomicBool, Ordering};

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use embassy_executor::raw::Executor;
use embassy_net::{Runner, Stack};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;

use crate::net::Nic;

/// Raised by [`link_watch`] each time the link comes back up; the clients
/// that should stop a backoff early listen for it (`WakeOnLinkUp`).
pub(crate) static LINK_UP: Signal<CriticalSectionRawMutex, ()> = Signal::new();

/// SysTick's clock (the core clock) in qemu's model of the board. Its
/// calibration register reads 0, so it cannot be asked.
const SYSTICK_HZ: u64 = if cfg!(board = "mps2-an386") {
    25_000_000
} else {
    12_000_000
};

/// A run that has not finished after this long is stuck.
const WATCHDOG_SECS: u64 = 90;

/// What a stuck run fails with.
const WATCHDOG_FAILURE: &str = "watchdog: no result after 90 s";

/// Set by the executor's pender when a task was woken; the idle loop sleeps
/// only while it is clear.
static WOKEN: AtomicBool = AtomicBool::new(false);

/// Called by the executor (from any context) when a task is woken.
#[unsafe(export_name = "__pender")]
fn pender(_context: *mut ()) {
    WOKEN.store(true, Ordering::Release);
}

/// The seed of the stack's TCP sequence numbers and local ports.
const NET_SEED: u64 = 0x7e4a_ce00_0013;

#[entry]
fn main() -> ! {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        fail("core peripherals already taken");
    };
    time_driver::init(peripherals.SYST);
    let nic = net::nic();
    let mac = nic.mac();
    hprintln!(
        "MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, address {}",
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        net::ADDRESS
    );
    let Some(server) = net::server_url() else {
        fail("no server URL (http://...) at the end of the semihosting command line");
    };
    hprintln!("fault server at {}", server);
    let (stack, runner) = net::start(nic, NET_SEED);

    let Some(executor) = cortex_m::singleton!(: Executor = Executor::new(core::ptr::null_mut()))
    else {
        fail("executor already created");
    };
    let executor: &'static Executor = executor;
    let spawner = executor.spawner();
    match (net_task(runner), link_watch(stack), run(stack, server)) {
        (Ok(net), Ok(watch), Ok(tests)) => {
            spawner.spawn(net);
            spawner.spawn(watch);
            spawner.spawn(tests);
        }
        _ => fail("could not spawn the tasks"),
    }
    loop {
        // SAFETY: `poll` is only called here, never from the pender.
        unsafe { executor.poll() };
        // WFI, not the stock executor's WFE: qemu treats WFE as a no-op and
        // would spin. Interrupts are masked while we check the flag; a
        // pending one still ends WFI, and runs once they are unmasked.
        cortex_m::interrupt::free(|_| {
            if !WOKEN.load(Ordering::Acquire) {
                cortex_m::asm::wfi();
            }
            WOKEN.store(false, Ordering::Release);
        });
    }
}

/// Runs the network stack: moves frames between the driver and sockets.
#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Nic>) -> ! {
    runner.run().await
}

/// Raises [`LINK_UP`] each time the link comes back after going down, as
/// a Wi-Fi task does after reassociating.
#[embassy_executor::task]
async fn link_watch(stack: Stack<'static>) -> ! {
    loop {
        stack.wait_link_down().await;
        stack.wait_link_up().await;
        LINK_UP.signal(());
    }
}

#[embassy_executor::task]
async fn run(stack: Stack<'static>, server: &'static str) {
    let failed = tests::run_all(stack, server).await;
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

fn exit_failure() -> ! {
    loop {
        debug::exit(debug::EXIT_FAILURE);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("PANIC: {}", info);
    exit_failure()
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HARDFAULT: pc={:#010x} lr={:#010x}", frame.pc(), frame.lr());
    exit_failure()
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    hprintln!("UNEXPECTED EXCEPTION: {}", irqn);
    exit_failure()
}
