//! What the client logs: a span per call, an event per retry, and never a
//! secret (header values, URL credentials, query strings).

mod common;

use core::time::Duration;
use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{MemoryServer, Reply};
use tenace::ExponentialBackoff;
use tenace_hyper::interceptor::Auth;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

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

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

const SECRETS: [&str; 4] = ["s3cr3t-token", "k3y-value", "pa55w0rd", "q-s3cret"];

#[tokio::test(start_paused = true)]
async fn retries_are_logged_and_secrets_are_not() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MemoryServer::new([Reply::status(503), Reply::Drop, Reply::ok("ok")]);
    let client = server
        .client()
        .retry_strategy(
            ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(10))
                .unwrap(),
        )
        .retry_transient_statuses()
        .default_header("x-api-key", "k3y-value")
        .auth(Auth::bearer(|| async {
            Ok::<_, std::io::Error>("s3cr3t-token".to_owned())
        }))
        .build()
        .unwrap();
    let response = client
        .get("http://admin:pa55w0rd@memory.test/private?api_key=q-s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The server did receive the secrets: they were sent, just not logged.
    let seen = server.seen();
    assert_eq!(seen[0].headers["authorization"], "Bearer s3cr3t-token");
    assert_eq!(seen[0].headers["x-api-key"], "k3y-value");

    let logs = capture.text();
    for secret in SECRETS {
        assert!(
            !logs.contains(secret),
            "{secret:?} leaked into the logs:\n{logs}"
        );
    }
    let retries: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("attempt failed, retrying"))
        .collect();
    assert_eq!(retries.len(), 2, "{logs}");
    assert!(
        retries[0].contains("tenace.call{method=GET url=http://memory.test/private}"),
        "{logs}"
    );
    assert!(
        retries[0].contains("attempt=1 kind=status 503 delay_ms=200 elapsed_ms=0"),
        "{logs}"
    );
    assert!(
        retries[1].contains("attempt=2 kind=io delay_ms=400 elapsed_ms=200"),
        "{logs}"
    );
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("call succeeded attempts=3 elapsed_ms=600"))
            .count(),
        1,
        "{logs}"
    );
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("close") && l.contains("attempts=3"))
            .count(),
        1,
        "{logs}"
    );
}

#[test]
fn debug_output_shows_header_names_not_values() {
    let client = tenace_hyper::Client::builder()
        .base_url("http://admin:pa55w0rd@api.test")
        .default_header("x-api-key", "k3y-value")
        .build()
        .unwrap();
    let request = client
        .get("/x?api_key=q-s3cret")
        .bearer_auth("s3cr3t-token")
        .build()
        .unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("set-cookie", "s3cr3t-token".parse().unwrap());
    let response = tenace_hyper::Response::new(http::StatusCode::OK, headers, bytes::Bytes::new());
    for text in [
        format!("{client:?}"),
        format!("{request:?}"),
        format!("{response:?}"),
    ] {
        for secret in &SECRETS[..2] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }
    let request = format!("{request:?}");
    assert!(request.contains("url: http://api.test/x"), "{request}");
    assert!(request.contains("\"authorization\""), "{request}");
    assert!(
        !request.contains("pa55w0rd") && !request.contains("q-s3cret"),
        "{request}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_on_the_servers_wait_logs_the_wait() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MemoryServer::new([Reply::retry_after(429, "3600"), Reply::ok("late")]);
    let client = server.client().retry_transient_statuses().build().unwrap();
    let error = client.get("http://memory.test/").send().await.unwrap_err();
    assert_eq!(error.server_wait(), Some(Duration::from_secs(3600)));
    assert_eq!(server.received(), 1);
    let logs = capture.text();
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("reason=\"server wait\" kind=\"status\" server_wait_ms=3600000"))
            .count(),
        1,
        "{logs}"
    );
}
