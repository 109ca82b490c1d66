//! An embassy-time driver over SysTick, the timer every Cortex-M has.
//!
//! SysTick interrupts once per embassy tick (`tick-hz-10_000`: every
//! 100 µs) and the handler counts ticks, so `now()` is exact and never
//! races a counter wrap, and an alarm fires in the tick it is due. The
//! timer queue is embassy's integrated one (its items live in the tasks),
//! behind a critical section.
//!
//! Shared by both example firmwares (`firmware-net` includes this file):
//! each crate gives its board's clock (`SYSTICK_HZ`) and its watchdog
//! (`WATCHDOG_SECS`, `WATCHDOG_FAILURE`).

use core::cell::RefCell;
use core::task::Waker;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use critical_section::Mutex;
use embassy_time_driver::{Driver, TICK_HZ};
use embassy_time_queue_utils::Queue;

/// SysTick's clock, the core clock of the board (the crate's
/// `SYSTICK_HZ`).
const SYSTICK_HZ: u64 = crate::SYSTICK_HZ;

/// SysTick counts `RELOAD + 1` cycles between interrupts: one tick.
const RELOAD: u32 = {
    let cycles = SYSTICK_HZ / TICK_HZ;
    assert!(
        cycles * TICK_HZ == SYSTICK_HZ,
        "the tick must be a whole number of cycles"
    );
    assert!(
        cycles >= 2 && cycles <= 1 << 24,
        "SysTick's reload is 24 bits"
    );
    (cycles - 1) as u32
};

/// A run that has not finished after this many ticks (the crate's
/// `WATCHDOG_SECS`) is stuck: the handler fails it rather than let CI wait.
const WATCHDOG_TICKS: u64 = crate::WATCHDOG_SECS * TICK_HZ;

struct State {
    /// Ticks since [`init`].
    ticks: u64,
    /// The tick at which the queue's next timer expires.
    alarm: u64,
    queue: Queue,
}

struct SysTickDriver {
    state: Mutex<RefCell<State>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver {
    state: Mutex::new(RefCell::new(State {
        ticks: 0,
        alarm: u64::MAX,
        queue: Queue::new(),
    })),
});

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.state.borrow_ref(cs).ticks)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut state = self.state.borrow_ref_mut(cs);
            let now = state.ticks;
            if state.queue.schedule_wake(at, waker) {
                // Also wakes the task at once if `at` has already passed.
                state.alarm = state.queue.next_expiration(now);
            }
        });
    }
}

/// Starts the tick interrupt. Call once, before the executor runs.
pub(crate) fn init(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

#[exception]
fn SysTick() {
    let stuck = critical_section::with(|cs| {
        let mut state = DRIVER.state.borrow_ref_mut(cs);
        state.ticks += 1;
        let now = state.ticks;
        if now >= state.alarm {
            state.alarm = state.queue.next_expiration(now);
        }
        now >= WATCHDOG_TICKS
    });
    if stuck {
        crate::fail(crate::WATCHDOG_FAILURE);
    }
}
