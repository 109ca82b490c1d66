//! A `#![no_std]` staticlib with its own panic handler, built with
//! `panic = "abort"`. Linking it fails with "duplicate lang item
//! `panic_impl`" if anything links `std`, and with "no global memory
//! allocator found" if anything links `alloc`. A dependency that is never
//! referenced is not linked, so `probe` instantiates the whole call path:
//! the client's request future over reqwless, the transport, the embassy-time
//! clock, wake-on-link-up over an embassy-sync signal, and the core's
//! driver, strategies and HTTP helpers.
#![no_std]
#![allow(missing_docs)]

#[cfg(feature = "canary-alloc")]
extern crate alloc;
#[cfg(feature = "canary-std")]
extern crate std;

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use tenace::{
    Clock, ExponentialBackoff, FailureKind, Instant, Policy, Replay, SeededRng, Transport,
    TransportError,
};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future>(fut: F) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    matches!(pin!(fut).poll(&mut cx), Poll::Ready(_))
}

// ---- core only -------------------------------------------------------------

#[derive(Debug)]
struct Failed;

impl TransportError for Failed {
    fn kind(&self) -> FailureKind {
        FailureKind::Io
    }
    fn timed_out(_: Duration) -> Self {
        Self
    }
}

struct Flaky;

impl Transport for Flaky {
    type Request = u32;
    type Response = u32;
    type Error = Failed;
    async fn send(&self, request: u32) -> Result<u32, Failed> {
        if request % 2 == 0 {
            Ok(request)
        } else {
            Err(Failed)
        }
    }
    fn replay(&self, _: &u32) -> Replay {
        Replay::Safe
    }
}

struct Ticks;

impl Clock for Ticks {
    fn now(&self) -> Instant {
        Instant::ZERO
    }
    async fn sleep(&self, _: Duration) {}
}

#[unsafe(no_mangle)]
pub extern "C" fn tenace_probe_core(request: u32, seed: u64) -> u32 {
    let Ok(strategy) =
        ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(5))
    else {
        return 0;
    };
    let policy = Policy::new(strategy.full_jitter()).max_retries(3);
    let mut rng = SeededRng::new(seed);
    let ready = poll_once(tenace::retry(&Flaky, &Ticks, &policy, &mut rng, request));
    let hint = tenace::http::parse_retry_after(b"Sun, 06 Nov 1994 08:49:37 GMT").is_ok();
    u32::from(ready) + u32::from(hint)
}

// ---- tenace-embedded -------------------------------------------------------

#[cfg(feature = "embedded")]
mod embedded {
    use core::net::{IpAddr, SocketAddr};

    use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
    use embassy_sync::signal::Signal;
    use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
    use embedded_nal_async::{AddrType, Dns, TcpConnect};
    use tenace::{AttemptContext, TransientErrors};
    use tenace_embedded::{
        Client, EmbassyClock, Error, HttpTransport, Request, Timeouts, WakeOnLinkUp,
    };

    use super::poll_once;

    /// A network stack whose every operation fails: enough to instantiate
    /// the code.
    pub(crate) struct NullStack;
    pub(crate) struct NullConn;

    impl ErrorType for NullConn {
        type Error = ErrorKind;
    }
    impl Read for NullConn {
        async fn read(&mut self, _: &mut [u8]) -> Result<usize, ErrorKind> {
            Err(ErrorKind::ConnectionReset)
        }
    }
    impl Write for NullConn {
        async fn write(&mut self, _: &[u8]) -> Result<usize, ErrorKind> {
            Err(ErrorKind::ConnectionReset)
        }
        async fn flush(&mut self) -> Result<(), ErrorKind> {
            Ok(())
        }
    }
    impl TcpConnect for NullStack {
        type Error = ErrorKind;
        type Connection<'a> = NullConn;
        async fn connect(&self, _: SocketAddr) -> Result<NullConn, ErrorKind> {
            Err(ErrorKind::ConnectionReset)
        }
    }
    impl Dns for NullStack {
        type Error = ErrorKind;
        async fn get_host_by_name(&self, _: &str, _: AddrType) -> Result<IpAddr, ErrorKind> {
            Err(ErrorKind::Other)
        }
        async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, ErrorKind> {
            Err(ErrorKind::Other)
        }
    }

    pub(crate) static LINK_UP: Signal<CriticalSectionRawMutex, ()> = Signal::new();

    #[unsafe(no_mangle)]
    pub extern "C" fn tenace_probe_embedded(seed: u64) -> u32 {
        let stack = NullStack;
        let http = HttpTransport::new(&stack, &stack)
            .with_timeouts(Timeouts::DEFAULT)
            .with_clock(WakeOnLinkUp::new(EmbassyClock, &LINK_UP));
        let tag = |_: &mut Request<'_>, _: &AttemptContext| Ok::<(), Error>(());
        let hook = tenace::on_retry(|_: &tenace::RetryEvent| {});
        let Ok(client) = Client::builder(http, seed)
            .base_url("http://192.168.1.10:8080/api")
            .default_header("X-Device", "probe")
            .retry_on(&TransientErrors)
            .error_for_status(true)
            .request_interceptor(&tag)
            .middleware(&hook)
            .build()
        else {
            return 0;
        };
        let mut buffer = [0u8; 512];
        let ready = poll_once(client.post("/readings").body(b"{}").send(&mut buffer));
        u32::from(ready) + 2
    }

    /// The size of a client's request future (the default 256-byte URL
    /// capacity included, the response buffer not): read it from the
    /// disassembly of a release build.
    #[unsafe(no_mangle)]
    pub extern "C" fn tenace_probe_future_size() -> usize {
        let stack = NullStack;
        let http = HttpTransport::new(&stack, &stack)
            .with_clock(WakeOnLinkUp::new(EmbassyClock, &LINK_UP));
        let Ok(client) = Client::builder(http, 0x5eed).build() else {
            return 0;
        };
        let mut buffer = [0u8; 512];
        let future = client.get("http://10.0.0.1/").send(&mut buffer);
        core::mem::size_of_val(&future)
    }
}

#[cfg(feature = "canary-alloc")]
#[unsafe(no_mangle)]
pub extern "C" fn tenace_probe_alloc() -> usize {
    alloc::vec::Vec::<u8>::with_capacity(4).capacity()
}

