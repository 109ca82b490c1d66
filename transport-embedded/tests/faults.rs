//! The embedded adapter against the fault server (the same one the hyper
//! adapter's tests use), through reqwless over a std `TcpConnect`
//! (std-embedded-nal-async), timed by embassy-time's std driver.
//!
//! Each test checks the attempts made, the outcome, and what reached the
//! server (in particular: a `POST` that may have reached it is never sent
//! twice).

use core::cell::RefCell;
use core::time::Duration;
use std::time::{Instant as StdInstant, UNIX_EPOCH};

use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use std_embedded_nal_async::Stack;
use tenace::{
    AttemptContext, CallOutcome, CallResult, ExponentialBackoff, FailureKind, FixedDelay,
    Middleware, RetryEvent, StopReason, TransientErrors, TransportError,
};
use tenace_embedded::{
    Cause, Client, ClientBuilder, EmbassyClock, Error, HttpTransport, IoErrorKind, Phase, Request,
    RequestError, Timeouts, WakeOnLinkUp,
};
use tenace_tests::fault_server::{
    Fault, FaultServer, backlog_full_addr, closed_port_addr, filler, http_date,
};

/// Records every retry and how each call ended.
#[derive(Debug, Default)]
struct Recorder {
    retries: RefCell<Vec<RetryEvent>>,
    calls: RefCell<Vec<CallOutcome>>,
}

impl Recorder {
    fn retry_kinds(&self) -> Vec<FailureKind> {
        self.retries.borrow().iter().map(|e| e.kind).collect()
    }
    fn retry_delays(&self) -> Vec<Duration> {
        self.retries.borrow().iter().map(|e| e.delay).collect()
    }
    /// Attempts of the last call.
    fn attempts(&self) -> u32 {
        self.calls.borrow().last().map_or(0, |c| c.attempts)
    }
    fn last_result(&self) -> Option<CallResult> {
        self.calls.borrow().last().map(|c| c.result)
    }
}

impl Middleware for Recorder {
    fn on_retry(&self, event: &RetryEvent) {
        self.retries.borrow_mut().push(*event);
    }
    fn after_call(&self, outcome: &CallOutcome) {
        self.calls.borrow_mut().push(*outcome);
    }
}

const STEP: Duration = Duration::from_millis(20);

/// The clients' jitter seed, where the schedule does not depend on it.
const SEED: u64 = 0x5eed;

/// Phase timeouts short enough for tests: a hang ends after 300 ms.
fn timeouts() -> Timeouts {
    Timeouts::DEFAULT
        .connect(Duration::from_secs(2))
        .exchange(Duration::from_millis(300))
        .body(Duration::from_millis(300))
}

fn run<F: Future>(f: F) -> F::Output {
    async_io::block_on(f)
}

#[test]
fn success_sends_headers_and_body_once() {
    let server = FaultServer::start([Fault::ok("hello")]);
    let base = server.url("/api");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .default_header("X-Device", "sensor-7")
    .default_header("Accept", "text/plain")
    .retry_strategy(FixedDelay::new(STEP))
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 512];
    let response = run(client
        .post("/readings")
        .headers(&[("accept", "application/json")])
        .body(b"{\"t\":21.5}")
        .send(&mut buffer))
    .expect("the call succeeds");
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), b"hello");
    assert_eq!(response.head().content_length(), Some(5));
    assert_eq!(recorder.attempts(), 1);
    assert_eq!(recorder.last_result(), Some(CallResult::Success));
    assert_eq!(server.received(), 1);
    assert_eq!(server.received_with_method("POST"), 1);
    let request = &server.requests()[0];
    assert_eq!(request.path, "/api/readings");
    assert_eq!(request.body, b"{\"t\":21.5}");
    assert_eq!(request.header("X-Device"), Some("sensor-7"));
    // The request's own header replaces the default of the same name.
    assert_eq!(request.header("Accept"), Some("application/json"));
    assert_eq!(request.header("Content-Length"), Some("10"));
    assert_eq!(request.header("Connection"), Some("close"));
    assert_eq!(request.header("Host"), Some(&*server.addr().to_string()));
}

#[test]
fn refused_connects_are_retried_even_for_post() {
    // Nothing listens until the third attempt starts the server on that port:
    // two refusals, then the POST goes through exactly once.
    let addr = closed_port_addr();
    let base = format!("http://{addr}");
    let server: RefCell<Option<FaultServer>> = RefCell::new(None);
    let start_on_third = |_: &mut Request<'_>, cx: &AttemptContext| {
        if cx.attempt == 3 {
            let started = FaultServer::builder()
                .bind(addr)
                .script([Fault::ok("stored")])
                .start()
                .expect("bind the freed port");
            *server.borrow_mut() = Some(started);
        }
        Ok::<(), Error>(())
    };
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .max_retries(3)
    .retry_strategy(FixedDelay::new(STEP))
    .request_interceptor(&start_on_third)
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let response = run(client.post("/ingest").body(b"reading").send(&mut buffer))
        .expect("the third attempt succeeds");
    assert_eq!(response.body(), b"stored");
    assert_eq!(recorder.attempts(), 3);
    assert_eq!(
        recorder.retry_kinds(),
        [FailureKind::Connect, FailureKind::Connect]
    );
    let server = server.borrow();
    let server = server.as_ref().expect("started by the interceptor");
    assert_eq!(server.received(), 1);
    assert_eq!(server.received_with_method("POST"), 1);

    // With nothing ever listening, every attempt is refused.
    let closed = format!("http://{}/x", closed_port_addr());
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .max_retries(2)
    .retry_strategy(FixedDelay::new(STEP))
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let err = run(client.post(&closed).body(b"x").send(&mut buffer)).expect_err("refused");
    assert_eq!(err.reason(), StopReason::Exhausted);
    assert_eq!(err.attempts(), 3);
    assert_eq!(
        err.last_error(),
        Some(&Error::Connect(Cause::Network(
            IoErrorKind::ConnectionRefused
        )))
    );
}

#[test]
fn a_connect_timeout_is_a_connect_failure() {
    // A listener whose accept queue is full: the SYN is never answered.
    let (_guard, addr) = backlog_full_addr();
    let url = format!("http://{addr}/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let http = HttpTransport::new(&stack, &stack)
        .with_timeouts(Timeouts::NONE.connect(Duration::from_millis(200)));
    let client = Client::builder(http, SEED)
        .max_retries(1)
        .retry_strategy(FixedDelay::new(STEP))
        .middleware(&recorder)
        .build()
        .expect("valid client");
    let mut buffer = [0u8; 256];
    let err = run(client.post(&url).body(b"x").send(&mut buffer)).expect_err("no answer");
    // Nothing was sent, so even a POST is retried.
    assert_eq!(err.reason(), StopReason::Exhausted);
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.last_error(), Some(&Error::Connect(Cause::TimedOut)));
    assert_eq!(recorder.retry_kinds(), [FailureKind::Connect]);
}

#[test]
fn reset_before_response() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("fine")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let response = run(client.get("/r").send(&mut buffer)).expect("the retry succeeds");
    assert_eq!(response.body(), b"fine");
    assert_eq!(recorder.attempts(), 2);
    assert_eq!(recorder.retry_kinds(), [FailureKind::Io]);
    assert_eq!(server.received(), 2);

    // A POST that may have reached the server is not sent again.
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("twice")]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .build()
    .expect("valid client");
    let err = run(client.post("/r").body(b"once").send(&mut buffer)).expect_err("not retried");
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(err.attempts(), 1);
    let last = err.last_error().copied();
    assert_eq!(last.map(|e| e.phase()), Some(Some(Phase::Exchange)));
    assert_eq!(last.map(|e| e.kind()), Some(FailureKind::Io));
    assert_eq!(server.received_with_method("POST"), 1);

    // ... unless it carries an idempotency key and says so.
    let err_or_ok = run(client
        .post("/r")
        .headers(&[("Idempotency-Key", "k-1")])
        .body(b"once")
        .retry_safe(true)
        .send(&mut buffer));
    assert_eq!(
        err_or_ok.map(|r| r.body().to_vec()).ok(),
        Some(b"twice".to_vec())
    );
    assert_eq!(server.received_with_method("POST"), 2);
}

#[test]
fn reset_mid_body() {
    let server = FaultServer::start([Fault::ResetMidBody, Fault::ok("whole")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let response = run(client.get("/doc").send(&mut buffer)).expect("the retry succeeds");
    assert_eq!(response.body(), b"whole");
    assert_eq!(recorder.attempts(), 2);
    assert_eq!(recorder.retry_kinds(), [FailureKind::Io]);
    assert_eq!(server.received(), 2);

    let server = FaultServer::start([Fault::ResetMidBody]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .build()
    .expect("valid client");
    let err = run(client.post("/doc").body(b"x").send(&mut buffer)).expect_err("not retried");
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.last_error().and_then(Error::phase), Some(Phase::Body));
    assert_eq!(server.received_with_method("POST"), 1);
}

/// A client with [`timeouts`], `FixedDelay(STEP)` and `recorder`, for `base`.
fn client_for<'a>(
    stack: &'a Stack,
    base: &'a str,
    recorder: &'a Recorder,
) -> Client<'a, HttpTransport<'a, Stack, Stack>, FixedDelay> {
    Client::builder(
        HttpTransport::new(stack, stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(base)
    .retry_strategy(FixedDelay::new(STEP))
    .middleware(recorder)
    .build()
    .expect("valid client")
}

#[test]
fn a_body_cut_short_by_a_clean_close_is_a_network_failure() {
    // `Content-Length: 64`, 16 bytes, then FIN: the buffer had room, so the
    // body was truncated, and a GET is retried.
    let server = FaultServer::start([Fault::CloseMidBody, Fault::CloseMidBody, Fault::ok("whole")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = client_for(&stack, &base, &recorder);
    let mut buffer = [0u8; 256];
    let response = run(client.get("/doc").send(&mut buffer)).expect("the retries succeed");
    assert_eq!(response.body(), b"whole");
    assert_eq!(recorder.attempts(), 3);
    assert_eq!(recorder.retry_kinds(), [FailureKind::Io, FailureKind::Io]);
    assert_eq!(server.received(), 3);

    // A POST that reached the server is not sent again, and the error says
    // the body was truncated, not that the buffer was too small.
    let server = FaultServer::start([Fault::CloseMidBody, Fault::ok("twice")]);
    let base = server.url("/");
    let recorder = Recorder::default();
    let client = client_for(&stack, &base, &recorder);
    let err = run(client.post("/doc").body(b"x").send(&mut buffer)).expect_err("not retried");
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(err.attempts(), 1);
    let last = err.last_error().copied();
    assert_eq!(last, Some(Error::Body(Cause::Truncated)));
    assert_eq!(last.map(|e| e.kind()), Some(FailureKind::Io));
    assert_eq!(
        last.map(|e| e.to_string()).as_deref(),
        Some("body failed: truncated: the connection closed before the end of the body")
    );
    assert_eq!(server.received_with_method("POST"), 1);

    // A POST that says it is safe to replay is retried.
    let response = run(client
        .post("/doc")
        .headers(&[("Idempotency-Key", "k-1")])
        .body(b"x")
        .retry_safe(true)
        .send(&mut buffer))
    .expect("replayed");
    assert_eq!(response.body(), b"twice");
    assert_eq!(server.received_with_method("POST"), 2);
}

#[test]
fn a_chunked_body_cut_short_by_a_clean_close_ends_the_attempt() {
    // A 64-byte chunk, 16 bytes of it, then FIN. reqwless alone would read
    // the closed socket again and again without yielding (no timeout could
    // end it); the attempt ends at once as a truncated body.
    let server = FaultServer::start([Fault::CloseMidChunk, Fault::ok("whole")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = client_for(&stack, &base, &recorder);
    let mut buffer = [0u8; 256];
    let started = StdInstant::now();
    let response = run(client.get("/doc").send(&mut buffer)).expect("the retry succeeds");
    assert_eq!(response.body(), b"whole");
    assert_eq!(recorder.attempts(), 2);
    assert_eq!(recorder.retry_kinds(), [FailureKind::Io]);
    assert_eq!(server.received(), 2);
    // Far below the 300 ms body timeout: the close ended the attempt.
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );

    let server = FaultServer::start([Fault::CloseMidChunk]);
    let base = server.url("/");
    let client = client_for(&stack, &base, &recorder);
    let err = run(client.post("/doc").body(b"x").send(&mut buffer)).expect_err("not retried");
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.last_error(), Some(&Error::Body(Cause::Truncated)));
    assert_eq!(server.received_with_method("POST"), 1);
}

#[test]
fn a_body_that_does_not_fit_stays_buffer_too_small() {
    // The head comes first into the buffer, then the body moves to its
    // front: a 200-byte body fits a 200-byte buffer, 201 bytes do not.
    let server = FaultServer::start([Fault::OversizeBody(200), Fault::OversizeBody(201)]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = client_for(&stack, &base, &recorder);
    let mut buffer = [0u8; 200];
    let response = run(client.get("/fits").send(&mut buffer)).expect("exactly full fits");
    assert_eq!(response.body(), filler(200).as_slice());
    assert_eq!(server.received(), 1);

    let err = run(client.get("/over").send(&mut buffer)).expect_err("one byte over");
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.last_error(), Some(&Error::Body(Cause::BufferTooSmall)));
    assert_eq!(server.received(), 2);
    assert_eq!(server.requests()[1].path, "/over");
}

#[test]
fn hang_past_the_exchange_timeout() {
    let server = FaultServer::start([Fault::Hang, Fault::ok("late")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let started = StdInstant::now();
    let response = run(client.get("/slow").send(&mut buffer)).expect("the retry succeeds");
    assert_eq!(response.body(), b"late");
    assert_eq!(recorder.attempts(), 2);
    assert_eq!(recorder.retry_kinds(), [FailureKind::Timeout]);
    // The hang was cut by the 300 ms exchange timeout, not waited out.
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.received(), 2);

    let server = FaultServer::start([Fault::Hang]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .build()
    .expect("valid client");
    let err = run(client.post("/slow").body(b"x").send(&mut buffer)).expect_err("not retried");
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.last_error(), Some(&Error::Exchange(Cause::TimedOut)));
    assert_eq!(server.received_with_method("POST"), 1);
}

#[test]
fn slow_body_past_the_body_timeout() {
    let trickle = Fault::Trickle {
        body_len: 100,
        interval: Duration::from_millis(20),
    };
    let server = FaultServer::start([trickle, Fault::ok("quick")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let response = run(client.get("/t").send(&mut buffer)).expect("the retry succeeds");
    assert_eq!(response.body(), b"quick");
    assert_eq!(recorder.attempts(), 2);
    assert_eq!(recorder.retry_kinds(), [FailureKind::Timeout]);
    assert_eq!(server.received(), 2);
}

#[test]
fn too_many_requests_honours_retry_after() {
    let server = FaultServer::start([Fault::too_many_requests_secs(1), Fault::ok("served")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .retry_transient_statuses()
    .retry_after_cap(Duration::from_secs(5))
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let started = StdInstant::now();
    let response = run(client.get("/limited").send(&mut buffer)).expect("the retry succeeds");
    assert_eq!(response.body(), b"served");
    assert_eq!(recorder.attempts(), 2);
    assert_eq!(recorder.retry_kinds(), [FailureKind::Status(429)]);
    // The server's hint (1 s) wins over the strategy's 20 ms.
    assert_eq!(recorder.retry_delays(), [Duration::from_secs(1)]);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.received(), 2);

    // Without `error_for_status` a 429 is a response, not an error.
    let server = FaultServer::start([Fault::too_many_requests_secs(7)]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_on(&TransientErrors)
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let response = run(client.get("/limited").send(&mut buffer)).expect("a response");
    assert_eq!(response.status(), 429);
    assert_eq!(response.head().retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(recorder.attempts(), 1);
    assert_eq!(server.received(), 1);
}

/// A client with `FixedDelay(STEP)`, transient statuses retried, a 300 ms
/// cap on the server's wait, and `$recorder`.
macro_rules! capped_client {
    ($stack:expr, $base:expr, $recorder:expr) => {
        Client::builder(
            HttpTransport::new($stack, $stack).with_timeouts(timeouts()),
            SEED,
        )
        .base_url($base)
        .retry_strategy(FixedDelay::new(STEP))
        .retry_transient_statuses()
        .retry_after_cap(Duration::from_millis(300))
        .middleware($recorder)
        .build()
        .expect("valid client")
    };
}

#[test]
fn a_retry_after_date_past_the_cap_stops_with_the_servers_wait() {
    // Both times from the server's clock: exactly an hour apart.
    let date = UNIX_EPOCH + Duration::from_secs(1_764_460_800);
    let in_an_hour = http_date(date + Duration::from_secs(3600));
    let server = FaultServer::start([
        Fault::with_headers(
            429,
            [
                ("Retry-After", in_an_hour.as_str()),
                ("Date", &http_date(date)),
            ],
        ),
        Fault::ok("early"),
    ]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = capped_client!(&stack, &base, &recorder);
    let mut buffer = [0u8; 256];
    let started = StdInstant::now();
    let error = run(client.get("/").send(&mut buffer)).expect_err("the server's wait stops it");
    assert_eq!(
        error.reason(),
        StopReason::ServerWait(Duration::from_secs(3600))
    );
    assert_eq!(error.server_wait(), Some(Duration::from_secs(3600)));
    assert_eq!(recorder.attempts(), 1);
    assert!(recorder.retry_delays().is_empty());
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(server.received(), 1);
}

#[test]
fn a_retry_after_date_without_a_date_header_waits_the_cap() {
    // No wall clock and no `Date`: the wait cannot be measured, so the
    // client waits its whole cap rather than retry early.
    let server = FaultServer::start([
        Fault::with_headers(
            429,
            [
                ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
                ("Date", ""),
            ],
        ),
        Fault::ok("ok"),
    ]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = capped_client!(&stack, &base, &recorder);
    let mut buffer = [0u8; 256];
    let started = StdInstant::now();
    let response = run(client.get("/").send(&mut buffer)).expect("the retry succeeds");
    assert_eq!(response.body(), b"ok");
    assert_eq!(recorder.retry_delays(), [Duration::from_millis(300)]);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.received(), 2);
}

#[test]
fn the_rate_limit_fields_are_read_like_retry_after() {
    let epoch = "1764460801";
    let date = http_date(UNIX_EPOCH + Duration::from_secs(1_764_460_800));
    for (name, headers) in [
        ("RateLimit-Reset", vec![("RateLimit-Reset", "1")]),
        ("RateLimit", vec![("RateLimit", "\"default\";r=0;t=1")]),
        (
            "X-RateLimit-Reset seconds",
            vec![("X-RateLimit-Reset", "1")],
        ),
        (
            "X-RateLimit-Reset epoch",
            vec![("X-RateLimit-Reset", epoch), ("Date", date.as_str())],
        ),
    ] {
        let server = FaultServer::start([Fault::with_headers(429, headers), Fault::ok("ok")]);
        let base = server.url("/");
        let stack = Stack::default();
        let recorder = Recorder::default();
        let client = Client::builder(
            HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
            SEED,
        )
        .base_url(&base)
        .retry_strategy(FixedDelay::new(STEP))
        .retry_transient_statuses()
        .middleware(&recorder)
        .build()
        .expect("valid client");
        let mut buffer = [0u8; 256];
        let response = run(client.get("/").send(&mut buffer)).expect("the retry succeeds");
        assert_eq!(response.body(), b"ok", "{name}");
        assert_eq!(recorder.retry_delays(), [Duration::from_secs(1)], "{name}");
        assert_eq!(server.received(), 2, "{name}");
    }
}

#[test]
fn service_unavailable() {
    let server = FaultServer::start([Fault::status(503), Fault::status(503), Fault::ok("up")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .retry_on(&TransientErrors)
    .error_for_status(true)
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let response = run(client.get("/s").send(&mut buffer)).expect("the third attempt succeeds");
    assert_eq!(response.body(), b"up");
    assert_eq!(recorder.attempts(), 3);
    assert_eq!(
        recorder.retry_kinds(),
        [FailureKind::Status(503), FailureKind::Status(503)]
    );
    assert_eq!(server.received(), 3);

    // The default predicate retries network errors only: a 503 comes back.
    let server = FaultServer::start([Fault::status(503)]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .error_for_status(true)
    .build()
    .expect("valid client");
    let err = run(client.get("/s").send(&mut buffer)).expect_err("503");
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        err.last_error(),
        Some(&Error::Status {
            status: 503,
            retry_after: None
        })
    );
    assert_eq!(server.received(), 1);

    // A POST answered 503 reached the server: not sent again.
    let server = FaultServer::start([Fault::status(503), Fault::ok("twice")]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_on(&TransientErrors)
    .error_for_status(true)
    .build()
    .expect("valid client");
    let err = run(client.post("/s").body(b"x").send(&mut buffer)).expect_err("503");
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.received_with_method("POST"), 1);
}

#[test]
fn oversize_body_against_a_small_buffer() {
    let server = FaultServer::start([Fault::OversizeBody(4096), Fault::ok("never")]);
    let base = server.url("/");
    let stack = Stack::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 512];
    let err = run(client.get("/big").send(&mut buffer)).expect_err("too big");
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.last_error(), Some(&Error::Body(Cause::BufferTooSmall)));
    assert_eq!(server.received(), 1);

    // The same body fits a large enough buffer.
    let server = FaultServer::start([Fault::OversizeBody(4096)]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .build()
    .expect("valid client");
    let mut big = [0u8; 4096 + 512];
    let response = run(client.get("/big").send(&mut big)).expect("fits");
    assert_eq!(response.body(), filler(4096).as_slice());
    assert_eq!(server.received(), 1);
}

#[test]
fn an_endless_chunked_body_stops_at_the_buffer() {
    // A chunk every 10 ms: the buffer fills long before the (default, 30 s)
    // body timeout.
    let server = FaultServer::start([Fault::NeverEndingBody]);
    let base = server.url("/");
    let stack = Stack::default();
    let client = Client::builder(HttpTransport::new(&stack, &stack), SEED)
        .base_url(&base)
        .build()
        .expect("valid client");
    let mut buffer = [0u8; 256];
    let err = run(client.get("/stream").send(&mut buffer)).expect_err("never ends");
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.last_error(), Some(&Error::Body(Cause::BufferTooSmall)));
    assert_eq!(server.received(), 1);
}

#[test]
fn not_implemented_is_not_retried() {
    let server = FaultServer::start([Fault::status(501), Fault::ok("never")]);
    let base = server.url("/");
    let stack = Stack::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_on(&TransientErrors)
    .error_for_status(true)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let err = run(client.get("/").send(&mut buffer)).expect_err("501");
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        err.last_error().map(TransportError::kind),
        Some(FailureKind::Status(501))
    );
    assert_eq!(server.received(), 1);
}

#[test]
fn early_close_and_garbage() {
    let server = FaultServer::start([
        Fault::CloseBeforeResponse,
        Fault::MalformedStatusLine,
        Fault::ok("never"),
    ]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .middleware(&recorder)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let err = run(client.get("/g").send(&mut buffer)).expect_err("garbage is not retried");
    // EOF before the head is an I/O failure (retried); a malformed status
    // line is not.
    assert_eq!(recorder.retry_kinds(), [FailureKind::Io]);
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.last_error(), Some(&Error::Exchange(Cause::Malformed)));
    assert_eq!(server.received(), 2);
}

#[test]
fn url_too_long_is_an_error_not_a_truncation() {
    let server = FaultServer::start([Fault::ok("never")]);
    let base = server.url("/");
    let stack = Stack::default();
    let client = ClientBuilder::<_, _, 40, 2>::new(HttpTransport::new(&stack, &stack), SEED)
        .base_url(&base)
        .build()
        .expect("valid client");
    let mut buffer = [0u8; 256];
    let err = run(client
        .get("/a-path-that-does-not-fit-in-forty-bytes")
        .send(&mut buffer))
    .expect_err("too long");
    assert_eq!(err.attempts(), 0);
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(
        err.last_error(),
        Some(&Error::Request(RequestError::UrlTooLong))
    );
    assert_eq!(server.received(), 0);

    // A base URL longer than the URL capacity is refused when the client is
    // built.
    let err = ClientBuilder::<_, _, 8, 2>::new(HttpTransport::new(&stack, &stack), SEED)
        .base_url(&base)
        .build()
        .err();
    assert_eq!(err, Some(RequestError::UrlTooLong));

    // `https://` without a TLS configuration is refused before connecting,
    // never sent in plain text.
    let err = run(client.get("https://127.0.0.1:1/secret").send(&mut buffer)).expect_err("no TLS");
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(
        err.last_error(),
        Some(&Error::Request(RequestError::UnsupportedScheme))
    );

    // Too many default headers, or a header that smuggles a line: refused
    // when the client is built.
    let err = ClientBuilder::<_, _, 64, 1>::new(HttpTransport::new(&stack, &stack), SEED)
        .default_header("A", "1")
        .default_header("B", "2")
        .build()
        .err();
    assert_eq!(err, Some(RequestError::TooManyHeaders));
    let err = Client::builder(HttpTransport::new(&stack, &stack), SEED)
        .default_header("A", "1\r\nInjected: yes")
        .build()
        .err();
    assert_eq!(err, Some(RequestError::InvalidHeader));
}

#[test]
fn interceptors_run_on_every_attempt() {
    static RETRY_HEADERS: [(&str, &str); 1] = [("X-Retry", "yes")];
    let server = FaultServer::start([
        Fault::ResetBeforeResponse,
        Fault::status(500),
        Fault::ok("ok"),
    ]);
    let base = server.url("/");
    let stack = Stack::default();
    let seen = RefCell::new(Vec::new());
    let tag_retries = |req: &mut Request<'_>, cx: &AttemptContext| {
        seen.borrow_mut().push(cx.attempt);
        if cx.is_retry() {
            req.headers = &RETRY_HEADERS;
        }
        Ok::<(), Error>(())
    };
    // A response interceptor acting as `raise_for_status` for 5xx only.
    let server_errors = |head: tenace_embedded::Head, _: &AttemptContext| {
        if head.status() >= 500 {
            Err(Error::Status {
                status: head.status(),
                retry_after: head.retry_after(),
            })
        } else {
            Ok(head)
        }
    };
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .retry_on(&TransientErrors)
    .request_interceptor(&tag_retries)
    .response_interceptor(&server_errors)
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let response = run(client.get("/i").send(&mut buffer)).expect("the third attempt succeeds");
    assert_eq!(response.body(), b"ok");
    assert_eq!(*seen.borrow(), [1, 2, 3]);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].header("X-Retry"), None);
    assert_eq!(requests[1].header("X-Retry"), Some("yes"));
    assert_eq!(requests[2].header("X-Retry"), Some("yes"));
}

#[test]
fn wake_on_link_up_over_the_network() {
    // A 30 s backoff after a reset; the link comes back 200 ms later: the
    // retry happens then, not 30 s later.
    static LINK_UP: Signal<CriticalSectionRawMutex, ()> = Signal::new();
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("back")]);
    let base = server.url("/");
    let stack = Stack::default();
    let recorder = Recorder::default();
    let http = HttpTransport::new(&stack, &stack)
        .with_timeouts(timeouts())
        .with_clock(WakeOnLinkUp::new(EmbassyClock, &LINK_UP));
    let client = Client::builder(http, SEED)
        .base_url(&base)
        .retry_strategy(FixedDelay::new(Duration::from_secs(30)))
        .middleware(&recorder)
        .build()
        .expect("valid client");
    LINK_UP.reset();
    let wifi = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(200));
        LINK_UP.signal(());
    });
    let mut buffer = [0u8; 256];
    let started = StdInstant::now();
    let response = run(client.get("/w").send(&mut buffer)).expect("the retry succeeds");
    let elapsed = started.elapsed();
    wifi.join().expect("signal thread");
    assert_eq!(response.body(), b"back");
    assert_eq!(recorder.attempts(), 2);
    assert_eq!(recorder.retry_delays(), [Duration::from_secs(30)]);
    // Wall time on purpose: the signal comes from a real thread while the
    // client waits on embassy's std timer and a real socket; far below the
    // 30 s backoff it cuts short.
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_eq!(server.received(), 2);
}

#[test]
fn jitter_follows_the_seed() {
    // Full jitter: each delay is drawn from the client's generator. The same
    // seed gives the same schedule; another seed (another device) another.
    let delays = |seed: u64| {
        let server = FaultServer::start([
            Fault::ResetBeforeResponse,
            Fault::ResetBeforeResponse,
            Fault::ok("ok"),
        ]);
        let base = server.url("/");
        let stack = Stack::default();
        let recorder = Recorder::default();
        let backoff =
            ExponentialBackoff::new(Duration::from_millis(10), 2, Duration::from_millis(100))
                .expect("valid backoff")
                .full_jitter();
        let client = Client::builder(
            HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
            seed,
        )
        .base_url(&base)
        .retry_strategy(backoff)
        .middleware(&recorder)
        .build()
        .expect("valid client");
        let mut buffer = [0u8; 256];
        let response = run(client.get("/j").send(&mut buffer)).expect("the third attempt succeeds");
        assert_eq!(response.body(), b"ok");
        assert_eq!(server.received(), 3);
        recorder.retry_delays()
    };
    let first = delays(7);
    assert_eq!(first.len(), 2);
    assert!(first[0] <= Duration::from_millis(20), "{first:?}");
    assert!(first[1] <= Duration::from_millis(40), "{first:?}");
    assert_eq!(delays(7), first);
    assert_ne!(delays(8), first);
}
