//! The suite: tenace-embedded's client against the fault server, through
//! qemu's user network. Each test prints what it saw; the calls each test
//! makes to the server are listed in `run-qemu-net.sh`, which compares
//! them with the server's own counts.

use core::cell::Cell;
use core::time::Duration;

use cortex_m_semihosting::hprintln;
use embassy_net::Stack;
use embassy_net::tcp::client::{TcpClient, TcpClientState};
use static_cell::StaticCell;
use tenace_embedded::tenace::{self, AttemptOutcome, Clock, FailureKind, Middleware, RetryEvent};
use tenace_embedded::{EmbassyClock, HttpTransport, Timeouts};

use crate::net::IpLiterals;

/// One tick of the time driver.
const TICK: Duration = Duration::from_nanos(1_000_000_000 / embassy_time_driver::TICK_HZ);

/// The client's jitter seed.
const SEED: u64 = 0x7e4a_ce00_1313;

/// TCP connections the client pool holds at once, and their buffers.
const CONNECTIONS: usize = 1;
const TCP_TX: usize = 1024;
const TCP_RX: usize = 1024;

type Tcp = TcpClient<'static, CONNECTIONS, TCP_TX, TCP_RX>;

/// A failed check has been printed; the test failed.
#[derive(Debug)]
pub(crate) struct Failed;

type TestResult = Result<(), Failed>;

/// Fails the test with a message.
macro_rules! bail {
    ($($msg:tt)+) => {{
        cortex_m_semihosting::hprintln!("    check failed: {}", format_args!($($msg)+));
        return Err($crate::tests::Failed);
    }};
}

/// Fails the test with a message when `cond` is false.
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            bail!($($msg)+);
        }
    };
}

mod faults;
mod radio;

/// What the tests share: the TCP client, the resolver and the server's
/// base URL.
pub(crate) struct Net {
    tcp: Tcp,
    dns: IpLiterals,
    server: &'static str,
}

impl Net {
    /// A transport over the stack with these phase timeouts.
    fn transport(&self, timeouts: Timeouts) -> HttpTransport<'_, Tcp, IpLiterals> {
        HttpTransport::new(&self.tcp, &self.dns).with_timeouts(timeouts)
    }
}

/// Runs every test; prints each result and `N passed, N failed`. Returns
/// the number of failures.
pub(crate) async fn run_all(stack: Stack<'static>, server: &'static str) -> u32 {
    static STATE: StaticCell<TcpClientState<CONNECTIONS, TCP_TX, TCP_RX>> = StaticCell::new();
    let net = Net {
        tcp: TcpClient::new(stack, STATE.init(TcpClientState::new())),
        dns: IpLiterals,
        server,
    };
    stack.wait_config_up().await;
    let (mut passed, mut failed) = (0u32, 0u32);
    macro_rules! run {
        ($($module:ident::$test:ident),+ $(,)?) => {$(
            hprintln!("test {} ...", stringify!($test));
            crate::impair::clear();
            match $module::$test(&net).await {
                Ok(()) => {
                    passed += 1;
                    hprintln!("test {} ... ok", stringify!($test));
                }
                Err(Failed) => {
                    failed += 1;
                    hprintln!("test {} ... FAILED", stringify!($test));
                }
            }
        )+};
    }
    run!(
        faults::success_first_time,
        faults::reset_before_response_recovers,
        faults::retry_after_503_on_opt_in,
        faults::hang_cut_by_attempt_timeout,
        faults::post_reset_mid_body_not_replayed,
        radio::link_down_during_backoff,
        radio::steady_loss,
        radio::burst_loss,
    );
    hprintln!("{} passed, {} failed", passed, failed);
    failed
}

/// Attempts a [`Recorder`] keeps.
const MAX_ATTEMPTS: usize = 8;

/// Records when a call started, when each attempt ended and how, and each
/// retry the engine decided on.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    started: Cell<Option<tenace::Instant>>,
    ended: [Cell<Option<(AttemptOutcome, tenace::Instant)>>; MAX_ATTEMPTS],
    attempts: Cell<usize>,
    retries: [Cell<Option<RetryEvent>>; MAX_ATTEMPTS],
    retry_count: Cell<usize>,
    on_retry: Cell<Option<fn(&RetryEvent)>>,
}

impl Recorder {
    /// Calls `f` on each retry, before its backoff.
    fn with_on_retry(f: fn(&RetryEvent)) -> Self {
        let r = Self::default();
        r.on_retry.set(Some(f));
        r
    }

    fn retry(&self, i: usize) -> Option<RetryEvent> {
        self.retries.get(i).and_then(Cell::get)
    }

    fn attempt(&self, i: usize) -> Option<(AttemptOutcome, tenace::Instant)> {
        self.ended.get(i).and_then(Cell::get)
    }

    /// The kinds of the retries, in order.
    fn retry_kinds(&self) -> heapless::Vec<FailureKind, MAX_ATTEMPTS> {
        (0..self.retry_count.get())
            .filter_map(|i| self.retry(i).map(|e| e.kind))
            .collect()
    }
}

impl Middleware for Recorder {
    fn before_call(&self, now: tenace::Instant) -> Result<(), tenace::StopReason> {
        self.started.set(Some(now));
        self.attempts.set(0);
        self.retry_count.set(0);
        Ok(())
    }
    fn after_attempt(&self, outcome: AttemptOutcome, now: tenace::Instant) {
        let i = self.attempts.get();
        if let Some(slot) = self.ended.get(i) {
            slot.set(Some((outcome, now)));
        }
        self.attempts.set(i + 1);
    }
    fn on_retry(&self, event: &RetryEvent) {
        let i = self.retry_count.get();
        if let Some(slot) = self.retries.get(i) {
            slot.set(Some(*event));
        }
        self.retry_count.set(i + 1);
        if let Some(f) = self.on_retry.get() {
            f(event);
        }
    }
}

/// A clock that measures its backoff sleeps on the time driver: when the
/// last one started and ended, and what it was asked for.
#[derive(Debug)]
pub(crate) struct Measured<C> {
    inner: C,
    last: Cell<Option<Sleep>>,
}

/// One backoff sleep as measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sleep {
    asked: Duration,
    start: embassy_time::Instant,
    end: embassy_time::Instant,
}

impl Sleep {
    fn slept(&self) -> Duration {
        Duration::from_micros((self.end - self.start).as_micros())
    }
}

impl<C> Measured<C> {
    const fn new(inner: C) -> Self {
        Self {
            inner,
            last: Cell::new(None),
        }
    }
}

impl<C: Clock> Clock for Measured<C> {
    fn now(&self) -> tenace::Instant {
        self.inner.now()
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await;
    }

    async fn sleep_before_retry(&self, delay: Duration) {
        let start = embassy_time::Instant::now();
        self.inner.sleep_before_retry(delay).await;
        let end = embassy_time::Instant::now();
        self.last.set(Some(Sleep {
            asked: delay,
            start,
            end,
        }));
    }
}

/// Microseconds, for messages.
fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The time between two instants of tenace's clock.
fn between(a: tenace::Instant, b: tenace::Instant) -> Duration {
    b.as_duration().saturating_sub(a.as_duration())
}

/// Prints the line `run-qemu-net.sh` compares with the fault server's
/// count for `method path`: at least `min` and at most `max` requests.
fn expect_server(method: &str, path: &str, min: u32, max: u32) {
    hprintln!("expect-server {} {} {} {}", method, path, min, max);
}

/// The default clock, for tests that do not measure.
const CLOCK: EmbassyClock = EmbassyClock;
