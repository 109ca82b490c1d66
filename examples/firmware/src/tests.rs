//! The engine test suite, run on the emulated board against real time
//! (and, with the `client` feature, tenace-embedded's client: [`client`]).
//!
//! Each test drives [`tenace::retry_with`] over a [`FlakyWifi`] script with
//! the [`EmbassyClock`], records when each attempt started (the link) and
//! ended (a [`Recorder`] middleware), and checks the attempt count, the
//! outcome, the delays the engine chose against the strategy's own, and
//! that each measured gap and attempt length matches within one tick of
//! the SysTick driver.

use core::cell::Cell;
use core::time::Duration;

use crate::hprintln;
use tenace::{
    AttemptOutcome, CallOutcome, CallResult, ExponentialBackoff, FailureKind, FixedDelay,
    LinearBackoff, Middleware, Pipeline, Policy, Retried, RetryEvent, RetryStrategy, SeededRng,
    StopReason, TransientErrors,
};

use crate::clock::EmbassyClock;
use crate::wifi::{FlakyWifi, Request, Step, WifiError};

/// One tick of the time driver: the resolution every timing check allows.
const TICK: Duration = Duration::from_nanos(1_000_000_000 / embassy_time_driver::TICK_HZ);

/// Attempts a [`Recorder`] keeps.
const MAX_ATTEMPTS: usize = 8;

/// A failed check has been printed; the test failed.
#[derive(Debug)]
struct Failed;

type TestResult = Result<(), Failed>;

/// Fails the test with a message.
macro_rules! bail {
    ($($msg:tt)+) => {{
        hprintln!("    check failed: {}", format_args!($($msg)+));
        return Err(Failed);
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

#[cfg(feature = "client")]
mod client;

/// Runs every test; prints each result and `N passed, N failed`. Returns
/// the number of failures.
pub(crate) async fn run_all() -> u32 {
    let (mut passed, mut failed) = (0u32, 0u32);
    macro_rules! run {
        ($($test:ident),+ $(,)?) => {$(
            hprintln!("test {} ...", stringify!($test));
            match $test().await {
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
        flaky_wifi_exponential_backoff,
        full_jitter_matches_same_seed,
        deadline_cuts_hanging_attempt,
        attempt_timeout_cuts_hangs,
        post_not_replayed_after_send,
        exhausted_after_max_retries,
        status_503_retried_only_on_opt_in,
    );
    #[cfg(feature = "client")]
    {
        use client::{client_hooks_and_request_strategy, client_user_strategy};
        run!(client_user_strategy, client_hooks_and_request_strategy);
    }
    hprintln!("{} passed, {} failed", passed, failed);
    failed
}

/// Wi-Fi that drops the association, times out, drops the link twice,
/// then answers: five attempts, waits of 20, 40, 80, 160 ms.
async fn flaky_wifi_exponential_backoff() -> TestResult {
    let link = FlakyWifi::new([
        Step::fail(WifiError::NoAssociation, 3),
        Step::fail(WifiError::NoAnswer, 50),
        Step::fail(WifiError::LinkDropped, 7),
        Step::fail(WifiError::LinkDropped, 2),
        Step::ok(200, 12),
    ]);
    let Ok(backoff) = ExponentialBackoff::new(ms(10), 2, ms(1000)) else {
        bail!("ExponentialBackoff::new refused 10 ms x2 up to 1 s");
    };
    let policy = Policy::new(backoff).max_retries(5);
    let rec = Recorder::default();
    let pipeline = Pipeline::new().middleware(&rec);
    let mut rng = SeededRng::new(1);
    let call = tenace::retry_with(
        &link,
        &EmbassyClock,
        &policy,
        &pipeline,
        &mut rng,
        Request::get("/telemetry"),
    );
    hprintln!(
        "    retry_with future: {} bytes",
        core::mem::size_of_val(&call)
    );
    let result = call.await;

    check!(
        matches!(result, Ok(Retried { value: 200, .. })),
        "result {:?}",
        result
    );
    check!(link.calls() == 5, "{} attempts, expected 5", link.calls());
    let expected = strategy_delays::<4, _>(backoff, 1);
    check!(
        expected == [ms(20), ms(40), ms(80), ms(160)],
        "the strategy's own delays are {:?}",
        expected
    );
    check!(
        rec.outcome() == Some(CallResult::Success),
        "after_call saw {:?}",
        rec.outcome()
    );
    check_schedule(&link, &rec, &expected)
}

/// Full jitter from a seeded RNG: the waits are exactly those the same
/// strategy draws from the same seed, and they are not the plain ceilings.
async fn full_jitter_matches_same_seed() -> TestResult {
    const SEED: u64 = 0x7e4a_ce00_0005;
    let link = FlakyWifi::new([
        Step::fail(WifiError::NoAssociation, 1),
        Step::fail(WifiError::NoAssociation, 1),
        Step::fail(WifiError::NoAnswer, 1),
        Step::fail(WifiError::LinkDropped, 1),
        Step::ok(200, 1),
    ]);
    let Ok(backoff) = ExponentialBackoff::new(ms(10), 2, ms(1000)) else {
        bail!("ExponentialBackoff::new refused 10 ms x2 up to 1 s");
    };
    let backoff = backoff.full_jitter();
    let policy = Policy::new(backoff).max_retries(5);
    let rec = Recorder::default();
    let mut rng = SeededRng::new(SEED);
    let result = tenace::retry_with(
        &link,
        &EmbassyClock,
        &policy,
        &Pipeline::new().middleware(&rec),
        &mut rng,
        Request::get("/config"),
    )
    .await;

    check!(
        matches!(result, Ok(Retried { value: 200, .. })),
        "result {:?}",
        result
    );
    check!(link.calls() == 5, "{} attempts, expected 5", link.calls());
    let expected = strategy_delays::<4, _>(backoff, SEED);
    let jittered = (1u32..).zip(expected).any(|(n, d)| d != backoff.ceiling(n));
    check!(jittered, "full jitter drew the ceilings {:?}", expected);
    check_schedule(&link, &rec, &expected)
}

/// An overall deadline of 250 ms: the first attempt times out after
/// 10 ms, the wait is 100 ms, the second attempt hangs and is cut at the
/// deadline (140 ms later), and the call gives up with `Deadline` at 250 ms.
async fn deadline_cuts_hanging_attempt() -> TestResult {
    let link = FlakyWifi::new([Step::fail(WifiError::NoAnswer, 10), Step::hang()]);
    let policy = Policy::new(FixedDelay::new(ms(100)))
        .max_retries(10)
        .deadline(ms(250));
    let rec = Recorder::default();
    let mut rng = SeededRng::new(3);
    let result = tenace::retry_with(
        &link,
        &EmbassyClock,
        &policy,
        &Pipeline::new().middleware(&rec),
        &mut rng,
        Request::get("/ota/manifest"),
    )
    .await;

    let Err(error) = result else {
        bail!("succeeded: {:?}", result);
    };
    check!(
        error.reason() == StopReason::Deadline,
        "stopped with {:?}",
        error.reason()
    );
    check!(
        error.attempts() == 2,
        "{} attempts, expected 2",
        error.attempts()
    );
    check!(
        error.last_error() == Some(&WifiError::NoAnswer),
        "last error {:?}",
        error.last_error()
    );
    check!(
        rec.outcome()
            == Some(CallResult::Failed(
                StopReason::Deadline,
                Some(FailureKind::Timeout)
            )),
        "after_call saw {:?}",
        rec.outcome()
    );
    let elapsed = rec.elapsed();
    check!(
        within_tick(elapsed, ms(250)),
        "gave up after {} us, deadline 250000 us",
        us(elapsed)
    );
    hprintln!("    gave up after {} us (deadline 250000 us)", us(elapsed));
    check_attempts(&link, &rec, &[ms(10), ms(140)])?;
    check_schedule(&link, &rec, &[ms(100)])
}

/// A per-attempt timeout of 30 ms cuts two hanging attempts; the third
/// answers in 5 ms.
async fn attempt_timeout_cuts_hangs() -> TestResult {
    let link = FlakyWifi::new([Step::hang(), Step::hang(), Step::ok(200, 5)]);
    let policy = Policy::new(FixedDelay::new(ms(50)))
        .max_retries(3)
        .attempt_timeout(ms(30));
    let rec = Recorder::default();
    let mut rng = SeededRng::new(4);
    let result = tenace::retry_with(
        &link,
        &EmbassyClock,
        &policy,
        &Pipeline::new().middleware(&rec),
        &mut rng,
        Request::get("/time"),
    )
    .await;

    check!(
        matches!(result, Ok(Retried { value: 200, .. })),
        "result {:?}",
        result
    );
    check!(link.calls() == 3, "{} attempts, expected 3", link.calls());
    check_attempts(&link, &rec, &[ms(30), ms(30), ms(5)])?;
    check_schedule(&link, &rec, &[ms(50), ms(50)])
}

/// A POST: a failed association (nothing sent) is retried, a link dropped
/// after sending is not.
async fn post_not_replayed_after_send() -> TestResult {
    let link = FlakyWifi::new([
        Step::fail(WifiError::NoAssociation, 2),
        Step::fail(WifiError::LinkDropped, 4),
        Step::ok(201, 1),
    ]);
    let policy = Policy::new(FixedDelay::new(ms(20))).max_retries(3);
    let rec = Recorder::default();
    let mut rng = SeededRng::new(5);
    let result = tenace::retry_with(
        &link,
        &EmbassyClock,
        &policy,
        &Pipeline::new().middleware(&rec),
        &mut rng,
        Request::post("/readings"),
    )
    .await;

    let Err(error) = result else {
        bail!("succeeded: {:?}", result);
    };
    check!(
        error.reason() == StopReason::NotIdempotent,
        "stopped with {:?}",
        error.reason()
    );
    check!(link.calls() == 2, "{} attempts, expected 2", link.calls());
    check!(
        error.last_error() == Some(&WifiError::LinkDropped),
        "last error {:?}",
        error.last_error()
    );
    check_attempts(&link, &rec, &[ms(2), ms(4)])?;
    check_schedule(&link, &rec, &[ms(20)])
}

/// `max_retries(2)`: three attempts, linear waits of 10 and 15 ms, then
/// `Exhausted` with the last error.
async fn exhausted_after_max_retries() -> TestResult {
    let link = FlakyWifi::new([
        Step::fail(WifiError::NoAnswer, 1),
        Step::fail(WifiError::NoAnswer, 1),
        Step::fail(WifiError::NoAnswer, 1),
        Step::ok(200, 1),
    ]);
    let Ok(linear) = LinearBackoff::new(ms(5), ms(5), ms(100)) else {
        bail!("LinearBackoff::new refused 5 ms + 5 ms up to 100 ms");
    };
    let policy = Policy::new(linear).max_retries(2);
    let rec = Recorder::default();
    let mut rng = SeededRng::new(6);
    let result = tenace::retry_with(
        &link,
        &EmbassyClock,
        &policy,
        &Pipeline::new().middleware(&rec),
        &mut rng,
        Request::get("/status"),
    )
    .await;

    let Err(error) = result else {
        bail!("succeeded: {:?}", result);
    };
    check!(
        error.reason() == StopReason::Exhausted,
        "stopped with {:?}",
        error.reason()
    );
    check!(
        error.attempts() == 3,
        "{} attempts, expected 3",
        error.attempts()
    );
    check!(
        link.calls() == 3,
        "{} attempts sent, expected 3",
        link.calls()
    );
    check!(
        error.last_error() == Some(&WifiError::NoAnswer),
        "last error {:?}",
        error.last_error()
    );
    check_schedule(&link, &rec, &[ms(10), ms(15)])
}

/// A 503 is returned at once by default and retried with
/// `retry_on(TransientErrors)`.
async fn status_503_retried_only_on_opt_in() -> TestResult {
    let script = [Step::fail(WifiError::Status(503), 4), Step::ok(200, 4)];
    let policy = Policy::new(FixedDelay::new(ms(25)));

    let link = FlakyWifi::new(script);
    let rec = Recorder::default();
    let result = tenace::retry_with(
        &link,
        &EmbassyClock,
        &policy,
        &Pipeline::new().middleware(&rec),
        &mut SeededRng::new(7),
        Request::get("/data"),
    )
    .await;
    let Err(error) = result else {
        bail!("default policy retried a 503: {:?}", result);
    };
    check!(
        error.reason() == StopReason::NotRetryable,
        "stopped with {:?}",
        error.reason()
    );
    check!(link.calls() == 1, "{} attempts, expected 1", link.calls());
    check!(
        error.into_last_error() == Some(WifiError::Status(503)),
        "the 503 did not come back as is"
    );
    check_schedule(&link, &rec, &[])?;

    let link = FlakyWifi::new(script);
    let rec = Recorder::default();
    let result = tenace::retry_with(
        &link,
        &EmbassyClock,
        &policy.retry_on(TransientErrors),
        &Pipeline::new().middleware(&rec),
        &mut SeededRng::new(7),
        Request::get("/data"),
    )
    .await;
    check!(
        matches!(result, Ok(Retried { value: 200, .. })),
        "opted in: result {:?}",
        result
    );
    check!(link.calls() == 2, "{} attempts, expected 2", link.calls());
    check_schedule(&link, &rec, &[ms(25)])
}

/// The first `N` delays `strategy` gives with an RNG seeded with `seed`:
/// what the engine, which clones the strategy per call, must use.
fn strategy_delays<const N: usize, S: RetryStrategy>(mut strategy: S, seed: u64) -> [Duration; N] {
    let mut rng = SeededRng::new(seed);
    let mut delays = [Duration::ZERO; N];
    for (attempt, delay) in (1u32..).zip(delays.iter_mut()) {
        *delay = strategy.delay(attempt, &mut rng);
    }
    delays
}

/// Checks the retries: the engine chose exactly `delays`, and each attempt
/// after a failure started that long after it ended, within one tick.
fn check_schedule<const N: usize>(
    link: &FlakyWifi<N>,
    rec: &Recorder,
    delays: &[Duration],
) -> TestResult {
    check!(
        rec.retries.get() == delays.len(),
        "{} retries, expected {}",
        rec.retries.get(),
        delays.len()
    );
    for (i, &want) in delays.iter().enumerate() {
        let chosen = rec.delays.get(i).and_then(Cell::get);
        check!(
            chosen == Some(want),
            "retry {}: the engine chose {:?}, the strategy {:?}",
            i + 1,
            chosen,
            want
        );
        let (Some(ended), Some(next)) = (rec.ended(i), link.started(i + 1)) else {
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
            within_tick(gap, want),
            "retry {}: waited {} us, strategy said {} us (tick {} us)",
            i + 1,
            us(gap),
            us(want),
            us(TICK)
        );
    }
    Ok(())
}

/// Checks how long each attempt lasted, as the engine saw it (a hanging
/// one: until its timeout cut it).
fn check_attempts<const N: usize>(
    link: &FlakyWifi<N>,
    rec: &Recorder,
    lengths: &[Duration],
) -> TestResult {
    check!(
        rec.attempts.get() == lengths.len(),
        "{} attempts ended, expected {}",
        rec.attempts.get(),
        lengths.len()
    );
    for (i, &want) in lengths.iter().enumerate() {
        let (Some(started), Some(ended)) = (link.started(i), rec.ended(i)) else {
            bail!("attempt {}: times not recorded", i + 1);
        };
        if let Some(latency) = link.step(i).and_then(|s| s.latency()) {
            check!(
                latency.as_micros() == want.as_micros() as u64,
                "attempt {}: the script says {} us",
                i + 1,
                latency.as_micros()
            );
        }
        let took = ended.saturating_duration_since(at(started));
        check!(
            within_tick(took, want),
            "attempt {}: took {} us, expected {} us",
            i + 1,
            us(took),
            us(want)
        );
    }
    Ok(())
}

/// Records what the engine did: when each attempt ended, each retry's
/// delay, how the call ended.
#[derive(Debug, Default)]
struct Recorder {
    ended: [Cell<Option<tenace::Instant>>; MAX_ATTEMPTS],
    delays: [Cell<Option<Duration>>; MAX_ATTEMPTS],
    attempts: Cell<usize>,
    retries: Cell<usize>,
    call: Cell<Option<CallOutcome>>,
}

impl Recorder {
    fn ended(&self, i: usize) -> Option<tenace::Instant> {
        self.ended.get(i).and_then(Cell::get)
    }

    fn outcome(&self) -> Option<CallResult> {
        self.call.get().map(|c| c.result)
    }

    fn elapsed(&self) -> Duration {
        self.call.get().map_or(Duration::ZERO, |c| c.elapsed())
    }
}

impl Middleware for Recorder {
    fn after_attempt(&self, _outcome: AttemptOutcome, now: tenace::Instant) {
        let i = self.attempts.get();
        if let Some(slot) = self.ended.get(i) {
            slot.set(Some(now));
        }
        self.attempts.set(i + 1);
    }

    fn on_retry(&self, event: &RetryEvent) {
        let i = self.retries.get();
        if let Some(slot) = self.delays.get(i) {
            slot.set(Some(event.delay));
        }
        self.retries.set(i + 1);
    }

    fn after_call(&self, outcome: &CallOutcome) {
        self.call.set(Some(*outcome));
    }
}

/// An embassy instant on tenace's time line (both count from boot).
fn at(instant: embassy_time::Instant) -> tenace::Instant {
    tenace::Instant::from_micros(instant.as_micros())
}

fn within_tick(measured: Duration, expected: Duration) -> bool {
    measured.abs_diff(expected) <= TICK
}

/// Whole microseconds, for printing without 128-bit formatting.
fn us(d: Duration) -> u64 {
    d.as_secs() * 1_000_000 + u64::from(d.subsec_micros())
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
