//! The fault matrix: each of the fault server's faults met by a real call
//! over TCP, with the attempts, the outcome and the waits checked here and
//! the requests that reached the server checked by the script.

use tenace_embedded::tenace::{FailureKind, FixedDelay, StopReason};
use tenace_embedded::{Cause, Client, Error, Timeouts};

use super::{
    CLOCK, Measured, Net, Recorder, SEED, TICK, TestResult, between, expect_server, ms, us,
};

/// Phase timeouts for the matrix: a hang ends after 500 ms.
const TIMEOUTS: Timeouts = Timeouts::DEFAULT
    .connect(core::time::Duration::from_secs(3))
    .exchange(core::time::Duration::from_millis(500))
    .body(core::time::Duration::from_millis(500));

/// The hang's exchange timeout.
const HANG_TIMEOUT: core::time::Duration = core::time::Duration::from_millis(500);

/// A plain GET answered 200 on the first attempt.
pub(crate) async fn success_first_time(net: &Net) -> TestResult {
    expect_server("GET", "/ok", 1, 1);
    let rec = Recorder::default();
    let Ok(client) = Client::builder(net.transport(TIMEOUTS), SEED)
        .base_url(net.server)
        .default_header("X-Device", "qemu-mps2-an386")
        .middleware(&rec)
        .build()
    else {
        bail!("the client did not build");
    };
    let mut buffer = [0u8; 512];
    // Measured on a future that is never polled: an awaited local would
    // take a second slot in the task.
    let bytes = core::mem::size_of_val(&client.get("/ok").send(&mut buffer));
    // tenace's per-call RAM: the request future and the caller's buffer.
    cortex_m_semihosting::hprintln!(
        "request future: {} bytes, response buffer: {} bytes",
        bytes,
        buffer.len()
    );
    let result = client.get("/ok").send(&mut buffer).await;
    let Ok(response) = result else {
        bail!("failed: {:?}", result.err());
    };
    cortex_m_semihosting::hprintln!(
        "    {} {:?} after {} attempt(s)",
        response.status(),
        core::str::from_utf8(response.body()).unwrap_or("<binary>"),
        response.attempts()
    );
    check!(response.status() == 200, "status {}", response.status());
    check!(response.body() == b"hello", "body {:?}", response.body());
    check!(response.attempts() == 1, "{} attempts", response.attempts());
    Ok(())
}

/// Two resets before the response, then 200: the GET recovers on its
/// third attempt, each retry an I/O failure. (Through qemu's `guestfwd`
/// relay a reset arrives as a clean close before the head.)
pub(crate) async fn reset_before_response_recovers(net: &Net) -> TestResult {
    expect_server("GET", "/reset", 3, 3);
    let rec = Recorder::default();
    let Ok(client) = Client::builder(net.transport(TIMEOUTS), SEED)
        .base_url(net.server)
        .retry_strategy(FixedDelay::new(ms(20)))
        .middleware(&rec)
        .build()
    else {
        bail!("the client did not build");
    };
    let mut buffer = [0u8; 512];
    let result = client.get("/reset").send(&mut buffer).await;
    let Ok(response) = result else {
        bail!("failed: {:?}", result.err());
    };
    check!(
        response.body() == b"recovered",
        "body {:?}",
        response.body()
    );
    check!(response.attempts() == 3, "{} attempts", response.attempts());
    let kinds = rec.retry_kinds();
    check!(
        kinds.as_slice() == [FailureKind::Io, FailureKind::Io],
        "retries {:?}",
        kinds
    );
    check!(
        response.slept() == ms(40),
        "slept {} us",
        us(response.slept())
    );
    Ok(())
}

/// 503 with `Retry-After: 1` and the client opted in to transient
/// statuses: the one retry waits the server's second (not the strategy's
/// 20 ms), measured on the time driver within one tick.
pub(crate) async fn retry_after_503_on_opt_in(net: &Net) -> TestResult {
    expect_server("GET", "/busy", 2, 2);
    let rec = Recorder::default();
    let clock = Measured::new(CLOCK);
    let Ok(client) = Client::builder(net.transport(TIMEOUTS).with_clock(&clock), SEED)
        .base_url(net.server)
        .retry_strategy(FixedDelay::new(ms(20)))
        .retry_transient_statuses()
        .retry_after_cap(ms(5_000))
        .middleware(&rec)
        .build()
    else {
        bail!("the client did not build");
    };
    let mut buffer = [0u8; 512];
    let result = client.get("/busy").send(&mut buffer).await;
    let Ok(response) = result else {
        bail!("failed: {:?}", result.err());
    };
    check!(response.body() == b"served", "body {:?}", response.body());
    check!(response.attempts() == 2, "{} attempts", response.attempts());
    let Some(retry) = rec.retry(0) else {
        bail!("no retry recorded");
    };
    check!(
        retry.kind == FailureKind::Status(503),
        "retried on {:?}",
        retry.kind
    );
    check!(
        retry.delay == ms(1_000),
        "the engine chose {} us, not the hint",
        us(retry.delay)
    );
    let Some(sleep) = clock.last.get() else {
        bail!("no backoff measured");
    };
    let slept = sleep.slept();
    cortex_m_semihosting::hprintln!(
        "    Retry-After: 1 -> backoff asked {} us, measured {} us",
        us(sleep.asked),
        us(slept)
    );
    check!(
        slept >= ms(1_000) && slept <= ms(1_000) + TICK,
        "slept {} us for a 1 s hint",
        us(slept)
    );
    Ok(())
}

/// The server reads the request and never answers: the 500 ms exchange
/// timeout ends the attempt (not the server), and the retry gets 200.
pub(crate) async fn hang_cut_by_attempt_timeout(net: &Net) -> TestResult {
    expect_server("GET", "/hang", 2, 2);
    let rec = Recorder::default();
    let Ok(client) = Client::builder(net.transport(TIMEOUTS), SEED)
        .base_url(net.server)
        .retry_strategy(FixedDelay::new(ms(20)))
        .middleware(&rec)
        .build()
    else {
        bail!("the client did not build");
    };
    let mut buffer = [0u8; 512];
    let result = client.get("/hang").send(&mut buffer).await;
    let Ok(response) = result else {
        bail!("failed: {:?}", result.err());
    };
    check!(response.body() == b"late", "body {:?}", response.body());
    check!(response.attempts() == 2, "{} attempts", response.attempts());
    let kinds = rec.retry_kinds();
    check!(
        kinds.as_slice() == [FailureKind::Timeout],
        "retries {:?}",
        kinds
    );
    let (Some(started), Some((_, ended))) = (rec.started.get(), rec.attempt(0)) else {
        bail!("attempt times not recorded");
    };
    let took = between(started, ended);
    cortex_m_semihosting::hprintln!("    first attempt cut after {} us", us(took));
    // Connecting comes first (slirp starts the guestfwd relay), then
    // the exchange's 500 ms.
    check!(
        took >= HANG_TIMEOUT && took <= HANG_TIMEOUT + ms(250),
        "the hung attempt took {} us",
        us(took)
    );
    Ok(())
}

/// A POST whose response is reset mid-body: it reached the server, so it
/// is not sent again. Through qemu's `guestfwd` relay the reset arrives as
/// a clean close 16 bytes into a 64-byte body, which fits the buffer: the
/// error is a truncated body, not a buffer too small.
pub(crate) async fn post_reset_mid_body_not_replayed(net: &Net) -> TestResult {
    expect_server("POST", "/upload", 1, 1);
    let rec = Recorder::default();
    let Ok(client) = Client::builder(net.transport(TIMEOUTS), SEED)
        .base_url(net.server)
        .retry_strategy(FixedDelay::new(ms(20)))
        .middleware(&rec)
        .build()
    else {
        bail!("the client did not build");
    };
    let mut buffer = [0u8; 512];
    let result = client
        .post("/upload")
        .body(b"{\"reading\":21.5}")
        .send(&mut buffer)
        .await;
    let err = match result {
        Ok(response) => bail!("succeeded with {}", response.status()),
        Err(err) => err,
    };
    cortex_m_semihosting::hprintln!(
        "    {:?} after {} attempt(s): {:?}",
        err.reason(),
        err.attempts(),
        err.last_error()
    );
    check!(
        err.reason() == StopReason::NotIdempotent,
        "stopped: {:?}",
        err.reason()
    );
    check!(err.attempts() == 1, "{} attempts", err.attempts());
    check!(
        err.last_error() == Some(&Error::Body(Cause::Truncated)),
        "last error {:?}",
        err.last_error()
    );
    Ok(())
}
