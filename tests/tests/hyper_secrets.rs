//! No secret reaches a log line, an error message or a `Debug` output.
//!
//! Every log line of this test binary is captured, at `TRACE`, from every
//! target: `tracing` events and spans (tenace-hyper's, hyper-util's) through
//! a global `tracing-subscriber`, and the `log` crate (the core's `log`
//! feature is on here, see Cargo.toml) routed into it by `tracing-log`.
//! Calls carry `Authorization`, `Cookie` and `Proxy-Authorization` headers
//! and URL userinfo, and meet resets, error statuses and timeouts, so
//! retries happen and errors are formatted.
//!
//! Not covered here: hyper's own log lines (they need `--cfg
//! hyper_unstable_tracing`) and defmt (firmware only; see the embedded
//! adapter).

use core::time::Duration;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tenace_hyper::tenace::{FailureKind, FixedDelay, StopReason, TransportError as _};
use tenace_hyper::{Client, Error};
use tenace_tests::fault_server::{Fault, FaultServer};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

const BEARER: &str = "s3cr3t-bearer-1";
const COOKIE: &str = "s3cr3t-cookie-2";
/// `base64("proxy:s3cr3t-proxy-3")`.
const PROXY_BASIC: &str = "cHJveHk6czNjcjN0LXByb3h5LTM=";
const USERINFO_PASSWORD: &str = "s3cr3t-userinfo-4";
/// `base64("user:s3cr3t-userinfo-4")`: what the userinfo becomes on the wire.
const USERINFO_BASIC: &str = "dXNlcjpzM2NyM3QtdXNlcmluZm8tNA==";
const QUERY_KEY: &str = "s3cr3t-query-5";
const SET_COOKIE: &str = "s3cr3t-set-cookie-6";

/// Every secret, in every form it takes; each plain one contains `s3cr3t`.
const SECRETS: [&str; 5] = ["s3cr3t", PROXY_BASIC, USERINFO_BASIC, "user:", "api_key"];

/// Panics if `text` holds any form of any secret.
fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{secret:?} leaked into {what}:\n{text}"
        );
    }
}

/// A writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// The process-wide capture: every `tracing` event and span (new, enter,
/// exit, close) at `TRACE` from every target and thread, and every `log`
/// record (`try_init` also installs `tracing-log`'s `LogTracer` at
/// `TRACE`).
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        tracing_subscriber::fmt()
            .with_max_level(LevelFilter::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_target(true)
            .with_writer(capture.clone())
            .try_init()
            .expect("the only global subscriber of this test binary");
        capture
    })
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// An authenticated client: `Authorization`, `Cookie` and
/// `Proxy-Authorization` set as plain (not "sensitive") header values,
/// fixed 20 ms waits, 300 ms per attempt, 5xx and 429 retried.
fn client() -> Client {
    Client::builder()
        .retry_strategy(FixedDelay::new(Duration::from_millis(20)))
        .max_retries(3)
        .timeout(Duration::from_millis(300))
        .retry_transient_statuses()
        .default_header("cookie", format!("session={COOKIE}"))
        .build()
        .unwrap()
}

/// `http://user:<password>@127.0.0.1:PORT<path>?api_key=<key>`.
fn url_with_userinfo(server: &FaultServer, path: &str) -> String {
    let plain = server.url(path);
    let rest = plain.strip_prefix("http://").unwrap();
    format!("http://user:{USERINFO_PASSWORD}@{rest}?api_key={QUERY_KEY}")
}

/// Formats an error every way a user might log it: `Display`, `Debug`,
/// pretty `Debug`, and the same for each error in its `source()` chain.
fn every_format(err: &(dyn core::error::Error + 'static)) -> String {
    let mut text = format!("{err}\n{err:?}\n{err:#?}\n");
    let mut next = err.source();
    while let Some(e) = next {
        text.push_str(&format!("{e}\n{e:?}\n{e:#?}\n"));
        next = e.source();
    }
    text
}

#[tokio::test]
async fn an_authenticated_retried_failing_call_logs_no_secret() {
    let capture = capture();
    let client = client();

    // 1. Headers and userinfo; a reset, a 503, a hang past the timeout,
    //    then success: three retries.
    let server = FaultServer::start([
        Fault::ResetBeforeResponse,
        Fault::status(503),
        Fault::Hang,
        Fault::ok("private data"),
    ]);
    let response = client
        .get(&url_with_userinfo(&server, "/private"))
        .header("authorization", format!("Bearer {BEARER}"))
        .header("proxy-authorization", format!("Basic {PROXY_BASIC}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "private data");
    assert_eq!(server.received(), 4);
    // The secrets were sent (on every attempt), just never logged. The
    // explicit `Authorization` wins over the URL's userinfo.
    for r in server.requests() {
        assert_eq!(r.path, format!("/private?api_key={QUERY_KEY}"));
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {BEARER}").as_str())
        );
        assert_eq!(
            r.header("cookie"),
            Some(format!("session={COOKIE}").as_str())
        );
        assert_eq!(
            r.header("proxy-authorization"),
            Some(format!("Basic {PROXY_BASIC}").as_str())
        );
    }
    let port = server.addr().port();
    drop(server);

    // 2. Userinfo alone becomes `Authorization: Basic` on the wire.
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("ok")]);
    client
        .get(&url_with_userinfo(&server, "/basic"))
        .send()
        .await
        .unwrap();
    assert_eq!(server.received(), 2);
    for r in server.requests() {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Basic {USERINFO_BASIC}").as_str())
        );
    }
    drop(server);

    // 3. A call that fails for good, its last response setting a cookie.
    let server = FaultServer::start([
        Fault::ResetBeforeResponse,
        Fault::Hang,
        Fault::Status {
            status: 503,
            headers: vec![
                ("Set-Cookie".into(), format!("session={SET_COOKIE}")),
                ("Retry-After".into(), "0".into()),
            ],
            body: Vec::new(),
        },
    ]);
    let err = client
        .get(&url_with_userinfo(&server, "/down"))
        .header("authorization", format!("Bearer {BEARER}"))
        .header("proxy-authorization", format!("Basic {PROXY_BASIC}"))
        .max_retries(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert_eq!(err.last_error().unwrap().kind(), FailureKind::Status(503));
    assert_eq!(server.received(), 3);
    let status_error = every_format(&err);
    assert!(status_error.contains("503"), "{status_error}");
    assert!(status_error.contains("set-cookie"), "{status_error}");
    assert_no_secret("a status error's formats", &status_error);
    drop(server);

    // 4. A POST reset after sending: not replayed; an I/O error with
    //    hyper's errors below it.
    let server = FaultServer::start([Fault::ResetBeforeResponse]);
    let err = client
        .post(&url_with_userinfo(&server, "/pay"))
        .header("authorization", format!("Bearer {BEARER}"))
        .body("amount=10")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert!(matches!(err.last_error(), Some(Error::Io(_))));
    let io_error = every_format(&err);
    assert!(io_error.contains("hyper"), "{io_error}");
    assert_no_secret("an I/O error's formats", &io_error);

    // 5. A timeout as the last error.
    let server = FaultServer::builder()
        .fallback(Fault::Hang)
        .start()
        .unwrap();
    let err = client
        .get(&url_with_userinfo(&server, "/slow"))
        .header("authorization", format!("Bearer {BEARER}"))
        .max_retries(0)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err.last_error(), Some(Error::Timeout(_))));
    assert_no_secret("a timeout's formats", &every_format(&err));

    // The logs: plenty of lines, none with a secret.
    let logs = capture.text();
    assert_no_secret("the logs", &logs);
    let lines: Vec<&str> = logs.lines().collect();
    let has = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    // tenace-hyper's span and retry events, with the redacted URL: three
    // retries in call 1, one in call 2, two in call 3, none in 4 and 5.
    let url = format!("url=http://127.0.0.1:{port}/private");
    assert!(has(&url) > 0, "{logs}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(&url) && l.contains("attempt failed, retrying"))
            .count(),
        3,
        "{logs}"
    );
    assert!(has("attempt failed, retrying") >= 6, "{logs}");
    assert!(has("call failed") >= 3, "{logs}");
    // The core's `log` lines, through `tracing-log`.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("tenace: attempt") && l.contains("retrying")),
        "{logs}"
    );
    // hyper-util's own `tracing` lines (connect, pool).
    assert!(has("hyper_util") > 0, "{logs}");
    eprintln!(
        "captured {} lines ({} bytes): {} tenace-hyper retry events, {} hyper_util lines",
        lines.len(),
        logs.len(),
        has("attempt failed, retrying"),
        has("hyper_util"),
    );
}

#[test]
fn debug_output_of_clients_builders_and_requests_shows_no_secret() {
    let base = format!("http://user:{USERINFO_PASSWORD}@api.test/v1");
    let builder = Client::builder()
        .base_url(&base)
        .default_header("cookie", format!("session={COOKIE}"))
        .default_header("proxy-authorization", format!("Basic {PROXY_BASIC}"));
    assert_no_secret(
        "a ClientBuilder's Debug",
        &format!("{builder:?} {builder:#?}"),
    );
    let client = builder.build().unwrap();
    assert_no_secret("a Client's Debug", &format!("{client:?} {client:#?}"));
    let debug = format!("{client:?}");
    assert!(debug.contains("api.test/v1"), "{debug}");
    assert!(debug.contains("\"cookie\""), "{debug}");

    let request = client
        .get(&format!("/x?api_key={QUERY_KEY}"))
        .header("authorization", format!("Bearer {BEARER}"));
    assert_no_secret(
        "a RequestBuilder's Debug",
        &format!("{request:?} {request:#?}"),
    );
    let request = request.build().unwrap();
    let debug = format!("{request:?} {request:#?}");
    assert_no_secret("a Request's Debug", &debug);
    assert!(debug.contains("\"authorization\""), "{debug}");

    // A header value that is invalid: the error does not echo it.
    let err = client
        .get("/x")
        .header("cookie", format!("session={COOKIE}\n"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)));
    assert_no_secret("an invalid header's error", &every_format(&err));
}
