//! What every variant shares: the operation, where its answer goes, a
//! stub embassy-time driver and the panic handler.
//!
//! Every variant runs the same application: forever, make one call, hand
//! its answer to [`sink`], sleep a second on an embassy [`Timer`]. The
//! variants differ only in how the call is made, so their size difference
//! is what the retry machinery costs. The timer is in every variant,
//! baseline included, so its code is not counted against the engines.
//!
//! The firmware is built, never run: the driver returns a counter and
//! wakes every timer at once.
//!
//! [`Timer`]: embassy_time::Timer
#![no_std]

use core::task::Waker;

use embassy_time_driver::Driver;

/// An address the compiler cannot see through: reading it is the
/// "network".
const LINK: *const u32 = 0x4000_0000 as *const u32;
/// Where answers go.
const OUT: *mut u32 = 0x4000_0004 as *mut u32;

/// The operation's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The link dropped the request.
    Reset,
    /// An attempt timed out.
    TimedOut,
}

/// One attempt: fails when the link register reads zero.
#[inline(never)]
pub fn attempt() -> Result<u32, LinkError> {
    // SAFETY: a fixed peripheral-like address; the firmware is never run.
    let v = unsafe { core::ptr::read_volatile(LINK) };
    if v == 0 { Err(LinkError::Reset) } else { Ok(v) }
}

/// A seed for jitter, from the same register.
pub fn seed() -> u64 {
    // SAFETY: as in `attempt`.
    u64::from(unsafe { core::ptr::read_volatile(LINK) })
}

/// Where the call's outcome goes.
#[inline(never)]
pub fn sink(v: u32) {
    // SAFETY: as in `attempt`.
    unsafe { core::ptr::write_volatile(OUT, v) }
}

struct StubDriver;

impl Driver for StubDriver {
    fn now(&self) -> u64 {
        // SAFETY: as in `attempt`.
        u64::from(unsafe { core::ptr::read_volatile(LINK.wrapping_add(2)) })
    }
    fn schedule_wake(&self, _at: u64, waker: &Waker) {
        waker.wake_by_ref();
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: StubDriver = StubDriver);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::asm::udf()
}

/// The application: call, hand the answer on, sleep a second; forever.
pub fn run(mut call: impl AsyncFnMut() -> Option<u32>) -> ! {
    embassy_futures::block_on(async {
        loop {
            sink(call().await.unwrap_or(0));
            embassy_time::Timer::after_secs(1).await;
        }
    })
}

/// The operation and the clock as tenace sees them, shared by the tenace
/// variants (they differ only in the strategy).
pub mod tenace_env {
    use core::time::Duration;

    use tenace::{Clock, FailureKind, Instant, Transport};

    use super::{LinkError, attempt};

    /// The operation as a tenace [`Transport`].
    #[derive(Debug)]
    pub struct Link;

    /// The link's error, classified for tenace.
    #[derive(Debug)]
    pub struct Error(LinkError);

    impl tenace::TransportError for Error {
        fn kind(&self) -> FailureKind {
            match self.0 {
                LinkError::Reset => FailureKind::Io,
                LinkError::TimedOut => FailureKind::Timeout,
            }
        }
        fn timed_out(_after: Duration) -> Self {
            Self(LinkError::TimedOut)
        }
    }

    impl Transport for Link {
        type Request = ();
        type Response = u32;
        type Error = Error;
        async fn send(&self, _request: ()) -> Result<u32, Error> {
            attempt().map_err(Error)
        }
        fn replay(&self, _request: &()) -> tenace::Replay {
            tenace::Replay::Safe
        }
    }

    /// embassy-time as tenace's clock.
    #[derive(Debug)]
    pub struct EmbassyClock;

    impl Clock for EmbassyClock {
        fn now(&self) -> Instant {
            Instant::from_micros(embassy_time::Instant::now().as_micros())
        }
        async fn sleep(&self, d: Duration) {
            let micros = d
                .as_secs()
                .saturating_mul(1_000_000)
                .saturating_add(u64::from(d.subsec_micros()));
            embassy_time::Timer::after_micros(micros).await;
        }
    }
}
