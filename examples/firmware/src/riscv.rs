//! The board on RISC-V: qemu's `virt` machine running riscv32imc code in
//! machine mode, with an embassy-time driver over the CLINT's machine
//! timer (`mtime` counts at 10 MHz).
//!
//! The driver is tickless: `now()` reads `mtime`, and `mtimecmp` is set to
//! the queue's next expiration (or the watchdog), so the timer interrupts
//! only when a timer is due. Like the Cortex-M driver, it fails a run that
//! has not finished after ten seconds.

use core::cell::RefCell;
use core::ptr;
use core::task::Waker;

use critical_section::Mutex;
use embassy_executor::raw::Executor;
use embassy_time_driver::{Driver, TICK_HZ};
use embassy_time_queue_utils::Queue;
use riscv::interrupt::Interrupt;
use static_cell::StaticCell;

use crate::hprintln;

/// The CLINT of qemu's `virt` machine: hart 0's compare register and the
/// free-running counter.
const MTIMECMP: usize = 0x0200_4000;
const MTIME: usize = 0x0200_bff8;
/// `mtime`'s frequency on `virt` (its device tree's `timebase-frequency`).
const MTIME_HZ: u64 = 10_000_000;

/// `mtime` counts per embassy tick.
const PER_TICK: u64 = {
    let per_tick = MTIME_HZ / TICK_HZ;
    assert!(
        per_tick * TICK_HZ == MTIME_HZ,
        "the tick must be a whole number of mtime counts"
    );
    per_tick
};

/// A run that has not finished after this many ticks (ten seconds) is
/// stuck: the timer interrupt fails it rather than let CI wait.
const WATCHDOG_TICKS: u64 = 10 * TICK_HZ;

fn read(addr: usize) -> u32 {
    // SAFETY: `addr` is one of the CLINT's 32-bit registers on `virt`.
    unsafe { ptr::read_volatile(addr as *const u32) }
}

fn write(addr: usize, value: u32) {
    // SAFETY: as in `read`.
    unsafe { ptr::write_volatile(addr as *mut u32, value) }
}

/// The 64-bit counter, read as two halves without tearing.
fn mtime() -> u64 {
    loop {
        let hi = read(MTIME + 4);
        let lo = read(MTIME);
        if read(MTIME + 4) == hi {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

/// Sets the compare register; the high half first goes to its maximum so
/// that no intermediate value fires early.
fn set_mtimecmp(value: u64) {
    write(MTIMECMP + 4, u32::MAX);
    write(MTIMECMP, value as u32);
    write(MTIMECMP + 4, (value >> 32) as u32);
}

/// Interrupts at the tick `alarm`, or at the watchdog if that comes first.
fn arm(alarm: u64) {
    set_mtimecmp(alarm.min(WATCHDOG_TICKS).saturating_mul(PER_TICK));
}

struct ClintDriver {
    queue: Mutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: ClintDriver = ClintDriver {
    queue: Mutex::new(RefCell::new(Queue::new())),
});

impl Driver for ClintDriver {
    fn now(&self) -> u64 {
        mtime() / PER_TICK
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut queue = self.queue.borrow_ref_mut(cs);
            if queue.schedule_wake(at, waker) {
                // Also wakes the task at once if `at` has already passed.
                arm(queue.next_expiration(self.now()));
            }
        });
    }
}

#[riscv_rt::core_interrupt(Interrupt::MachineTimer)]
fn machine_timer() {
    let now = DRIVER.now();
    if now >= WATCHDOG_TICKS {
        crate::fail("watchdog: no result after 10 s of virtual time");
    }
    critical_section::with(|cs| {
        arm(DRIVER.queue.borrow_ref_mut(cs).next_expiration(now));
    });
}

#[riscv_rt::entry]
fn main() -> ! {
    set_mtimecmp(u64::MAX);
    // SAFETY: the timer's handler only touches the queue inside a critical
    // section; nothing runs yet that could be broken by interrupts.
    unsafe {
        riscv::interrupt::enable_interrupt(Interrupt::MachineTimer);
        riscv::interrupt::enable();
    }
    arm(WATCHDOG_TICKS);
    static EXECUTOR: StaticCell<Executor> = StaticCell::new();
    let executor: &'static Executor = EXECUTOR.init(Executor::new(ptr::null_mut()));
    match crate::run() {
        Ok(token) => executor.spawner().spawn(token),
        Err(_) => crate::fail("could not spawn the main task"),
    }
    loop {
        // SAFETY: `poll` is only called here, never from the pender.
        unsafe { executor.poll() };
        // WFI with interrupts masked: a pending timer interrupt still ends
        // it, and runs once the critical section ends.
        critical_section::with(|_| {
            if !crate::WOKEN.load(core::sync::atomic::Ordering::Acquire) {
                riscv::asm::wfi();
            }
            crate::WOKEN.store(false, core::sync::atomic::Ordering::Release);
        });
    }
}

#[unsafe(export_name = "ExceptionHandler")]
fn exception_handler(frame: &riscv_rt::TrapFrame) -> ! {
    hprintln!(
        "EXCEPTION: mcause={:#x} mepc={:#010x} ra={:#010x}",
        riscv::register::mcause::read().bits(),
        riscv::register::mepc::read(),
        frame.ra
    );
    crate::exit_failure()
}

#[unsafe(export_name = "DefaultHandler")]
fn default_handler() {
    hprintln!(
        "UNEXPECTED INTERRUPT: mcause={:#x}",
        riscv::register::mcause::read().bits()
    );
    crate::exit_failure()
}
