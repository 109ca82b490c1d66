//! Every fault of the fault server, through `tenace_hyper::Client` on real
//! sockets: the attempts made, the final outcome, and what reached the
//! server. Real time with millisecond-scale delays (paused time and real
//! sockets do not mix).

use core::time::Duration;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tenace_hyper::tenace::{
    CallOutcome, ExponentialBackoff, FailureKind, FixedDelay, Middleware, RetryEvent, StopReason,
    TransportError,
};
use tenace_hyper::{Client, ClientBuilder, Error};
use tenace_tests::fault_server::{
    Fault, FaultServer, backlog_full_addr, closed_port_addr, filler, http_date,
};

/// What the engine did during one call.
#[derive(Debug, Default)]
struct Log {
    retries: Vec<(u32, FailureKind, Duration)>,
    attempts: Option<u32>,
}

/// Records retries and the attempt count of each call.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Log>>);

impl Middleware for Recorder {
    fn on_retry(&self, ev: &RetryEvent) {
        self.0
            .lock()
            .unwrap()
            .retries
            .push((ev.attempt, ev.kind, ev.delay));
    }
    fn after_call(&self, outcome: &CallOutcome) {
        self.0.lock().unwrap().attempts = Some(outcome.attempts);
    }
}

impl Recorder {
    fn attempts(&self) -> u32 {
        self.0.lock().unwrap().attempts.expect("call ended")
    }
    fn kinds(&self) -> Vec<FailureKind> {
        self.0.lock().unwrap().retries.iter().map(|r| r.1).collect()
    }
    fn delays(&self) -> Vec<Duration> {
        self.0.lock().unwrap().retries.iter().map(|r| r.2).collect()
    }
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Exponential from 10 ms (waits 20, 40, 80 ms), capped at 300 ms; 3
/// retries; 2 s per attempt (the hang tests set shorter timeouts).
fn client(server: Option<&FaultServer>) -> (ClientBuilder, Recorder) {
    let recorder = Recorder::default();
    let mut builder = Client::builder()
        .retry_strategy(ExponentialBackoff::new(ms(10), 2, ms(300)).unwrap())
        .max_retries(3)
        .timeout(ms(2000))
        .connect_timeout(ms(2000))
        .middleware(recorder.clone());
    if let Some(server) = server {
        builder = builder.base_url(server.url("/"));
    }
    (builder, recorder)
}

#[tokio::test]
async fn success_first_time() {
    let server = FaultServer::start([Fault::ok("hello")]);
    let (builder, log) = client(Some(&server));
    let response = builder
        .build()
        .unwrap()
        .get("/greeting")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().unwrap(), "hello");
    assert_eq!(log.attempts(), 1);
    assert_eq!(server.received(), 1);
    assert_eq!(server.requests()[0].path, "/greeting");
}

#[tokio::test]
async fn refused_every_time_exhausts_the_retries() {
    let addr = closed_port_addr();
    let (builder, log) = client(None);
    let err = builder
        .build()
        .unwrap()
        .get(&format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 4));
    assert!(matches!(err.last_error(), Some(Error::Connect(_))));
    assert_eq!(log.kinds(), [FailureKind::Connect; 3]);
    assert_eq!(log.delays(), [ms(20), ms(40), ms(80)]);
}

#[tokio::test]
async fn a_refused_post_is_retried_because_nothing_was_sent() {
    // The server comes up on the refused port just before the second
    // attempt (started from a request interceptor, so the order is certain).
    let addr = closed_port_addr();
    let slot: Arc<Mutex<Option<FaultServer>>> = Arc::default();
    let started = Arc::clone(&slot);
    let (builder, log) = client(None);
    let client = builder
        .request_interceptor(move |_req, cx| {
            if cx.attempt == 2 {
                let server = FaultServer::builder()
                    .bind(addr)
                    .script([Fault::ok("created")])
                    .start();
                *started.lock().unwrap() = Some(server.expect("rebind the refused port"));
            }
            Ok(())
        })
        .build()
        .unwrap();
    let response = client
        .post(&format!("http://{addr}/orders"))
        .body("qty=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "created");
    assert_eq!(log.attempts(), 2);
    assert_eq!(log.kinds(), [FailureKind::Connect]);
    let server = slot.lock().unwrap().take().unwrap();
    assert_eq!(server.received_with_method("POST"), 1);
    assert_eq!(server.requests()[0].body, b"qty=1");
}

#[test]
fn a_connect_timeout_is_a_connect_failure() {
    // Set up outside the runtime: the helper runs a runtime of its own.
    let (_guard, addr) = backlog_full_addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (builder, log) = client(None);
        let client = builder
            .connect_timeout(ms(100))
            .max_retries(1)
            .build()
            .unwrap();
        let err = client
            .post(&format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        // Nothing was sent, so even a POST is retried.
        assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 2));
        assert!(matches!(err.last_error(), Some(Error::Connect(_))));
        assert_eq!(log.kinds(), [FailureKind::Connect]);
    });
}

#[tokio::test]
async fn reset_before_response_is_retried_for_a_get() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("second")]);
    let (builder, log) = client(Some(&server));
    let response = builder.build().unwrap().get("/").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "second");
    assert_eq!(log.attempts(), 2);
    assert_eq!(log.kinds(), [FailureKind::Io]);
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn reset_before_response_is_not_replayed_for_a_post() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("duplicate!")]);
    let (builder, log) = client(Some(&server));
    let err = builder
        .build()
        .unwrap()
        .post("/pay")
        .body("amount=10")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert_eq!(err.last_error().unwrap().kind(), FailureKind::Io);
    assert_eq!(log.attempts(), 1);
    assert_eq!(server.received_with_method("POST"), 1);
}

#[tokio::test]
async fn reset_before_response_replays_a_post_with_an_idempotency_key() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("paid")]);
    let (builder, log) = client(Some(&server));
    let response = builder
        .build()
        .unwrap()
        .post("/pay")
        .idempotency_key("pay-7")
        .body("amount=10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "paid");
    assert_eq!(log.attempts(), 2);
    assert_eq!(server.received_with_method("POST"), 2);
    for r in server.requests() {
        assert_eq!(r.header("Idempotency-Key"), Some("pay-7"));
        assert_eq!(r.body, b"amount=10");
    }
}

#[tokio::test]
async fn reset_mid_body_is_retried_for_a_get() {
    let server = FaultServer::start([Fault::ResetMidBody, Fault::ok("whole body")]);
    let (builder, log) = client(Some(&server));
    let response = builder.build().unwrap().get("/file").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "whole body");
    assert_eq!(log.attempts(), 2);
    assert_eq!(log.kinds(), [FailureKind::Io]);
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn reset_mid_body_is_not_replayed_for_a_patch() {
    let server = FaultServer::start([Fault::ResetMidBody, Fault::ok("again")]);
    let (builder, _log) = client(Some(&server));
    let err = builder
        .build()
        .unwrap()
        .patch("/doc")
        .body("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert_eq!(err.last_error().unwrap().kind(), FailureKind::Io);
    assert_eq!(server.received_with_method("PATCH"), 1);
}

#[tokio::test]
async fn close_before_response_is_an_io_failure() {
    let server = FaultServer::start([Fault::CloseBeforeResponse, Fault::ok("ok")]);
    let (builder, log) = client(Some(&server));
    builder.build().unwrap().get("/").send().await.unwrap();
    assert_eq!(log.attempts(), 2);
    assert_eq!(log.kinds(), [FailureKind::Io]);
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn a_hang_past_the_attempt_timeout_is_retried() {
    let server = FaultServer::start([Fault::Hang, Fault::ok("awake")]);
    let (builder, log) = client(Some(&server));
    let started = Instant::now();
    let response = builder
        .timeout(ms(150))
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "awake");
    assert_eq!(log.attempts(), 2);
    assert_eq!(log.kinds(), [FailureKind::Timeout]);
    assert_eq!(log.delays(), [ms(20)]);
    assert!(started.elapsed() >= ms(170));
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn a_hang_on_every_attempt_ends_with_the_timeout_error() {
    let server = FaultServer::builder()
        .fallback(Fault::Hang)
        .start()
        .unwrap();
    let (builder, _log) = client(Some(&server));
    let err = builder
        .timeout(ms(100))
        .max_retries(1)
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 2));
    assert!(matches!(err.last_error(), Some(Error::Timeout(d)) if *d == ms(100)));
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn slow_headers_past_the_timeout_are_retried() {
    let server = FaultServer::start([Fault::SlowHeaders(ms(800)), Fault::ok("fast")]);
    let (builder, log) = client(Some(&server));
    let response = builder
        .timeout(ms(150))
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "fast");
    assert_eq!(log.attempts(), 2);
    assert_eq!(log.kinds(), [FailureKind::Timeout]);
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn slow_headers_within_the_timeout_succeed_first_time() {
    let server = FaultServer::start([Fault::SlowHeaders(ms(30))]);
    let (builder, log) = client(Some(&server));
    let response = builder
        .timeout(ms(1000))
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "ok");
    assert_eq!(log.attempts(), 1);
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn too_many_requests_with_retry_after_seconds_waits_that_long() {
    let server = FaultServer::start([Fault::too_many_requests_secs(1), Fault::ok("let in")]);
    let (builder, log) = client(Some(&server));
    let client = builder
        .retry_strategy(ExponentialBackoff::new(ms(10), 2, Duration::from_secs(2)).unwrap())
        .retry_transient_statuses()
        .build()
        .unwrap();
    let started = Instant::now();
    let response = client.get("/").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "let in");
    assert_eq!(log.attempts(), 2);
    assert_eq!(log.kinds(), [FailureKind::Status(429)]);
    assert_eq!(log.delays(), [Duration::from_secs(1)]);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn too_many_requests_with_an_http_date_waits_until_that_date() {
    // Date and Retry-After are both the server's: a 1 s difference.
    let now = SystemTime::now();
    let server = FaultServer::start([
        Fault::Status {
            status: 429,
            headers: vec![
                ("Date".into(), http_date(now)),
                (
                    "Retry-After".into(),
                    http_date(now + Duration::from_secs(1)),
                ),
            ],
            body: Vec::new(),
        },
        Fault::ok("let in"),
    ]);
    let (builder, log) = client(Some(&server));
    let client = builder
        .retry_strategy(ExponentialBackoff::new(ms(10), 2, Duration::from_secs(2)).unwrap())
        .retry_transient_statuses()
        .build()
        .unwrap();
    client.get("/").send().await.unwrap();
    assert_eq!(log.attempts(), 2);
    assert_eq!(log.delays(), [Duration::from_secs(1)]);
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn a_retry_after_date_past_the_cap_stops_at_once_with_the_servers_wait() {
    // Against the response's `Date`: both times from the server's clock.
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
    let (builder, log) = client(Some(&server));
    let started = Instant::now();
    let error = builder
        .retry_transient_statuses()
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.reason(),
        StopReason::ServerWait(Duration::from_secs(3600))
    );
    assert_eq!(error.attempts(), 1);
    assert!(log.delays().is_empty());
    assert!(started.elapsed() < ms(500));
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn a_retry_after_date_without_a_date_header_is_read_against_the_clients_clock() {
    let in_an_hour = http_date(SystemTime::now() + Duration::from_secs(3600));
    let server = FaultServer::start([
        Fault::with_headers(429, [("Retry-After", in_an_hour.as_str()), ("Date", "")]),
        Fault::ok("early"),
    ]);
    let (builder, _log) = client(Some(&server));
    let error = builder
        .retry_transient_statuses()
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap_err();
    // Whole seconds on both sides, a second apart at most.
    let wait = error.server_wait().unwrap();
    assert!(
        (Duration::from_secs(3599)..=Duration::from_secs(3600)).contains(&wait),
        "{wait:?}"
    );
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn rate_limit_resets_are_floors() {
    let date = http_date(UNIX_EPOCH + Duration::from_secs(1_764_460_800));
    for (name, headers) in [
        ("RateLimit-Reset", vec![("RateLimit-Reset", "1")]),
        (
            "X-RateLimit-Reset epoch",
            vec![("X-RateLimit-Reset", "1764460801"), ("Date", date.as_str())],
        ),
    ] {
        let server = FaultServer::start([Fault::with_headers(429, headers), Fault::ok("ok")]);
        let (builder, log) = client(Some(&server));
        let started = Instant::now();
        let response = builder
            .retry_transient_statuses()
            .build()
            .unwrap()
            .get("/")
            .send()
            .await
            .unwrap();
        assert_eq!(response.text().unwrap(), "ok", "{name}");
        assert_eq!(log.delays(), [Duration::from_secs(1)], "{name}");
        assert!(started.elapsed() >= Duration::from_secs(1), "{name}");
        assert_eq!(server.received(), 2, "{name}");
    }
}

#[tokio::test]
async fn service_unavailable_is_retried_only_with_the_status_policy() {
    let server = FaultServer::start([Fault::status(503), Fault::status(503), Fault::ok("up")]);
    let (builder, log) = client(Some(&server));
    let response = builder
        .retry_transient_statuses()
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "up");
    assert_eq!(log.attempts(), 3);
    assert_eq!(log.kinds(), [FailureKind::Status(503); 2]);
    assert_eq!(log.delays(), [ms(20), ms(40)]);
    assert_eq!(server.received(), 3);

    // Without it, a 503 is a response, not an error.
    let server = FaultServer::start([Fault::status(503)]);
    let (builder, log) = client(Some(&server));
    let response = builder.build().unwrap().get("/").send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(log.attempts(), 1);
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn not_implemented_is_not_retried_by_the_status_policy() {
    let server = FaultServer::start([Fault::status(501), Fault::ok("ok")]);
    let (builder, _log) = client(Some(&server));
    let err = builder
        .retry_transient_statuses()
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert_eq!(err.last_error().unwrap().kind(), FailureKind::Status(501));
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn a_malformed_status_line_is_not_retried() {
    let server = FaultServer::start([Fault::MalformedStatusLine, Fault::ok("ok")]);
    let (builder, log) = client(Some(&server));
    let err = builder.build().unwrap().get("/").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(
        err.last_error(),
        Some(Error::MalformedResponse(_))
    ));
    assert_eq!(log.attempts(), 1);
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn an_oversize_body_is_an_error_not_an_allocation() {
    let server = FaultServer::start([Fault::OversizeBody(4 << 20), Fault::ok("ok")]);
    let (builder, log) = client(Some(&server));
    let big = builder.max_response_bytes(64 << 10).build().unwrap();
    let err = big.get("/big").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(err.last_error(), Some(Error::BodyTooLarge { limit }) if *limit == 64 << 10));
    assert_eq!(log.attempts(), 1);
    assert_eq!(server.received(), 1);

    // At the limit, the body is read whole.
    let server = FaultServer::start([Fault::OversizeBody(64 << 10)]);
    let (builder, _log) = client(Some(&server));
    let response = builder
        .max_response_bytes(64 << 10)
        .build()
        .unwrap()
        .get("/")
        .send()
        .await
        .unwrap();
    assert_eq!(response.bytes().as_ref(), filler(64 << 10).as_slice());
}

#[tokio::test]
async fn an_endless_chunked_body_stops_at_the_limit() {
    let server = FaultServer::start([Fault::NeverEndingBody]);
    let (builder, _log) = client(Some(&server));
    let client = builder
        .max_response_bytes(60)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = client.get("/stream").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(
        err.last_error(),
        Some(Error::BodyTooLarge { limit: 60 })
    ));
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn a_fixed_schedule_against_a_flaky_server_then_success() {
    let server = FaultServer::start([
        Fault::ResetBeforeResponse,
        Fault::status(503),
        Fault::too_many_requests_secs(0),
        Fault::ok("finally"),
    ]);
    let (builder, log) = client(Some(&server));
    let client = builder
        .retry_strategy(FixedDelay::new(ms(15)))
        .retry_transient_statuses()
        .build()
        .unwrap();
    let response = client.get("/").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "finally");
    assert_eq!(log.attempts(), 4);
    assert_eq!(
        log.kinds(),
        [
            FailureKind::Io,
            FailureKind::Status(503),
            FailureKind::Status(429)
        ]
    );
    assert_eq!(log.delays(), [ms(15); 3]);
    assert_eq!(server.received(), 4);
}
