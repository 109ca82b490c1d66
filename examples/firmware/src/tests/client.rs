//! tenace-embedded's HTTP client on the emulated board: reqwless over a
//! [`ScriptedStack`], the client's builder with a strategy written here (as
//! a user would), hooks, a strategy per request, and the attempts a
//! response reports; the gaps between attempts are measured on SysTick.

use core::cell::Cell;
use core::time::Duration;

use crate::hprintln;
use tenace::rand_core::Rng;
use tenace::{AttemptContext, FixedDelay, RetryEvent, RetryStrategy};
use tenace_embedded::{Client, Error, HttpTransport, Request};

use super::{Failed, Recorder, TestResult, at, ms, us};
use crate::tcp::{ScriptedStack, Step};

const OK_HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const UNAVAILABLE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
const SEED: u64 = 0x7e4a_ce00_0012;

/// Decorrelated jitter as a user writes it: `min(uniform(base, 3 ×
/// previous), cap)`, the previous delay in the value (each call clones it).
#[derive(Debug, Clone)]
struct Decorrelated {
    base: Duration,
    cap: Duration,
    previous: Duration,
}

impl Decorrelated {
    const fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            previous: base,
        }
    }
}

impl RetryStrategy for Decorrelated {
    fn delay<R: Rng + ?Sized>(&mut self, _attempt: u32, rng: &mut R) -> Duration {
        let lo = self.base.as_micros() as u64;
        let hi = (self.previous.as_micros() as u64).saturating_mul(3).max(lo);
        let delay = Duration::from_micros(lo + rng.next_u64() % (hi - lo + 1)).min(self.cap);
        self.previous = delay;
        delay
    }
    fn max_delay(&self) -> Duration {
        self.cap
    }
}

/// Time the client spends between the end of a backoff and asking for the
/// next connection (formatting the request head, reqwless parsing the URL):
/// up to a few ticks on a Cortex-M0 under qemu.
const CLIENT_SLACK: Duration = Duration::from_micros(500);

/// Each gap measured between attempts is the retry's delay the engine
/// chose: never shorter, and longer by at most [`CLIENT_SLACK`].
fn check_gaps<const N: usize>(stack: &ScriptedStack<N>, rec: &Recorder) -> TestResult {
    for i in 0..rec.retries.get() {
        let Some(want) = rec.delays.get(i).and_then(Cell::get) else {
            bail!("retry {}: no delay recorded", i + 1);
        };
        let (Some(ended), Some(next)) = (rec.ended(i), stack.started(i + 1)) else {
            bail!("retry {}: attempt times not recorded", i + 1);
        };
        let gap = at(next).saturating_duration_since(ended);
        hprintln!(
            "    retry {}: waited {} us, strategy {} us",
            i + 1,
            us(gap),
            us(want)
        );
        check!(
            gap >= want && gap <= want + CLIENT_SLACK,
            "retry {}: waited {} us, the engine chose {} us",
            i + 1,
            us(gap),
            us(want)
        );
    }
    Ok(())
}

/// A refused connect, a reset, a 503, then 200: four attempts with the
/// user's decorrelated jitter as the client's strategy; the response says
/// four attempts and the sum of the delays slept.
pub(super) async fn client_user_strategy() -> TestResult {
    let stack = ScriptedStack::new([
        Step::refuse(2),
        Step::reset(3),
        Step::answer(UNAVAILABLE, 1),
        Step::answer(OK_HELLO, 4),
    ]);
    let rec = Recorder::default();
    let Ok(client) = Client::builder(HttpTransport::new(&stack, &stack), SEED)
        .base_url("http://10.0.2.2:8080/api")
        .default_header("X-Device", "qemu")
        .retry_strategy(Decorrelated::new(ms(10), ms(60)))
        .retry_transient_statuses()
        .middleware(&rec)
        .build()
    else {
        bail!("the client did not build");
    };
    let mut buffer = [0u8; 256];
    // Measured on a future that is never polled: an awaited local would
    // take a second slot in the task.
    let bytes = core::mem::size_of_val(&client.get("/config").send(&mut buffer));
    hprintln!("    client request future: {} bytes", bytes);
    let result = client.get("/config").send(&mut buffer).await;

    let Ok(response) = result else {
        bail!("failed: {:?}", result.err());
    };
    check!(response.status() == 200, "status {}", response.status());
    check!(response.body() == b"hello", "body {:?}", response.body());
    check!(
        response.attempts() == 4,
        "{} attempts, expected 4",
        response.attempts()
    );
    check!(stack.opened() == 4, "{} connections", stack.opened());
    check!(rec.retries.get() == 3, "{} retries", rec.retries.get());
    let mut slept = Duration::ZERO;
    let mut previous = ms(10);
    for i in 0..3 {
        let Some(d) = rec.delays.get(i).and_then(Cell::get) else {
            bail!("retry {}: no delay", i + 1);
        };
        let hi = (previous * 3).min(ms(60));
        check!(
            d >= ms(10) && d <= hi,
            "retry {}: {} us outside [10000, {}] us",
            i + 1,
            us(d),
            us(hi)
        );
        previous = d;
        slept += d;
    }
    check!(
        response.slept() == slept,
        "slept {} us, the delays sum to {} us",
        us(response.slept()),
        us(slept)
    );
    check_gaps(&stack, &rec)
}

/// Two middleware and a request interceptor added one by one, and a fixed
/// delay for this request only: both middleware see both retries, the
/// interceptor runs on each attempt, and the waits are the request's.
pub(super) async fn client_hooks_and_request_strategy() -> TestResult {
    static RETRY: [(&str, &str); 1] = [("X-Retry", "1")];
    let stack = ScriptedStack::new([Step::reset(2), Step::reset(2), Step::answer(OK_HELLO, 1)]);
    let rec = Recorder::default();
    let retries = Cell::new(0u32);
    let count = tenace::on_retry(|_: &RetryEvent| retries.set(retries.get() + 1));
    let tagged = Cell::new(0u32);
    let tag = |request: &mut Request<'_>, cx: &AttemptContext| {
        tagged.set(tagged.get() + 1);
        if cx.is_retry() {
            request.headers = &RETRY;
        }
        Ok::<(), Error>(())
    };
    let Ok(client) = Client::builder(HttpTransport::new(&stack, &stack), SEED)
        .base_url("http://10.0.2.2:8080")
        .middleware(&rec)
        .request_interceptor(&tag)
        .middleware(&count)
        .build()
    else {
        bail!("the client did not build");
    };
    check!(client.hooks() == (1, 0, 2), "hooks {:?}", client.hooks());
    let mut buffer = [0u8; 256];
    let result = client
        .get("/status")
        .retry_strategy(FixedDelay::new(ms(15)))
        .send(&mut buffer)
        .await;
    let Ok(response) = result else {
        bail!("failed: {:?}", result.err());
    };
    check!(
        response.attempts() == 3,
        "{} attempts, expected 3",
        response.attempts()
    );
    check!(
        response.slept() == ms(30),
        "slept {} us",
        us(response.slept())
    );
    check!(
        retries.get() == 2,
        "the second middleware saw {} retries",
        retries.get()
    );
    check!(
        tagged.get() == 3,
        "the interceptor ran {} times",
        tagged.get()
    );
    for i in 0..2 {
        let d = rec.delays.get(i).and_then(Cell::get);
        check!(d == Some(ms(15)), "retry {}: {:?}", i + 1, d);
    }
    check_gaps(&stack, &rec)
}
