//! Streaming request bodies (`tenace_hyper::Body::stream`) through the
//! client and the tower layer, against the fault server: a body that fits
//! the replay buffer is sent again whole, one that streamed past it is sent
//! once, and the server's record says exactly what arrived, byte for byte.

use core::error::Error as _;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_core::Stream;
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client as HyperUtilClient;
use hyper_util::rt::TokioExecutor;
use tenace_hyper::tenace::{
    CallOutcome, FailureKind, FixedDelay, Middleware, Policy, RetryEvent, StopReason,
};
use tenace_hyper::tower::RetryLayer;
use tenace_hyper::{Body, Client, ClientBuilder, Error};
use tenace_tests::fault_server::{Fault, FaultServer, H2_INTERNAL_ERROR, closed_port_addr};
use tower::{ServiceBuilder, ServiceExt as _};

/// The body every test streams: 4 chunks of 1 KiB, 4096 bytes in all.
const CHUNKS: usize = 4;
const CHUNK: usize = 1024;
const LEN: usize = CHUNKS * CHUNK;

/// Chunk `i`: 1 KiB of the byte `b'a' + i`, so a reordered or repeated
/// chunk shows.
fn chunk(i: usize) -> Bytes {
    Bytes::from(vec![b'a' + u8::try_from(i).unwrap(); CHUNK])
}

fn whole() -> Vec<u8> {
    (0..CHUNKS).flat_map(|i| chunk(i).to_vec()).collect()
}

/// A stream of [`CHUNKS`] chunks that counts what was pulled from it and
/// fails instead of yielding chunk `fail_at`, if set.
struct Chunks {
    next: usize,
    fail_at: Option<usize>,
    pulled: Arc<AtomicUsize>,
}

impl Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let i = self.next;
        if i == CHUNKS {
            return Poll::Ready(None);
        }
        self.next += 1;
        if self.fail_at == Some(i) {
            return Poll::Ready(Some(Err(std::io::Error::other("the disk went away"))));
        }
        self.pulled.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Some(Ok(chunk(i))))
    }
}

/// A streaming body and the count of chunks pulled from its stream.
fn stream_body(fail_at: Option<usize>) -> (Body, Arc<AtomicUsize>) {
    let pulled = Arc::new(AtomicUsize::new(0));
    let body = Body::stream(Chunks {
        next: 0,
        fail_at,
        pulled: Arc::clone(&pulled),
    });
    (body, pulled)
}

/// The retries the engine made: (attempt, kind).
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<(Vec<FailureKind>, Option<u32>)>>);

impl Middleware for Recorder {
    fn on_retry(&self, ev: &RetryEvent) {
        self.0.lock().unwrap().0.push(ev.kind);
    }
    fn after_call(&self, outcome: &CallOutcome) {
        self.0.lock().unwrap().1 = Some(outcome.attempts);
    }
}

impl Recorder {
    fn kinds(&self) -> Vec<FailureKind> {
        self.0.lock().unwrap().0.clone()
    }
    fn attempts(&self) -> u32 {
        self.0.lock().unwrap().1.expect("the call ended")
    }
}

/// Retries after 10 ms, 3 retries, a replay buffer of `limit` bytes.
fn client(limit: usize) -> (ClientBuilder, Recorder) {
    let recorder = Recorder::default();
    let builder = Client::builder()
        .retry_strategy(FixedDelay::new(Duration::from_millis(10)))
        .max_retries(3)
        .timeout(Duration::from_secs(2))
        .replay_buffer_limit(limit)
        .middleware(recorder.clone());
    (builder, recorder)
}

/// PUTs `body` to `server`'s `/blob` through a client built from `builder`.
async fn put_blob(
    builder: ClientBuilder,
    server: &FaultServer,
    body: impl Into<Body>,
) -> Result<tenace_hyper::Response, tenace_hyper::CallError> {
    builder
        .build()
        .unwrap()
        .put(&server.url("/blob"))
        .body(body)
        .send()
        .await
}

const OVER: &str =
    "the request body was streamed past the replay limit of 4095 bytes and cannot be resent";

#[tokio::test]
async fn a_stream_that_fits_the_limit_is_sent_again_whole() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("stored")]);
    // The body is exactly the limit: it fits.
    let (builder, log) = client(LEN);
    let (body, pulled) = stream_body(None);
    let response = put_blob(builder, &server, body).await.unwrap();
    assert_eq!(response.text().unwrap(), "stored");
    assert_eq!((log.attempts(), log.kinds()), (2, vec![FailureKind::Io]));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("PUT", "/blob")
        );
        assert_eq!(request.body, whole());
    }
    // The retry came from the buffer: the stream was read once.
    assert_eq!(pulled.load(Ordering::SeqCst), CHUNKS);
}

#[tokio::test]
async fn a_stream_past_the_limit_is_sent_once_and_the_error_says_why() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("duplicate!")]);
    let (builder, log) = client(LEN - 1);
    let (body, pulled) = stream_body(None);
    let err = put_blob(builder, &server, body).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    let last = err.last_error().unwrap();
    assert!(
        matches!(last, Error::BodyNotReplayable { limit: 4095, cause: Some(cause) } if matches!(**cause, Error::Io(_))),
        "{last:?}"
    );
    assert_eq!(last.to_string(), OVER);
    assert_eq!(
        last.source().unwrap().to_string(),
        "connection failed after the request was sent"
    );
    assert_eq!((log.attempts(), log.kinds()), (1, vec![]));
    // The one attempt sent the whole body.
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body, whole());
    assert_eq!(pulled.load(Ordering::SeqCst), CHUNKS);
}

#[tokio::test]
async fn an_error_status_after_a_stream_past_the_limit_is_not_retried() {
    let server = FaultServer::start([Fault::status(503), Fault::ok("duplicate!")]);
    let (builder, log) = client(LEN - 1);
    let (body, _) = stream_body(None);
    let err = put_blob(builder.retry_transient_statuses(), &server, body)
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    let last = err.last_error().unwrap();
    assert_eq!(last.to_string(), OVER);
    // The status is still there, under it.
    assert_eq!(last.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(log.attempts(), 1);
    assert_eq!(server.received(), 1);
    assert_eq!(server.requests()[0].body, whole());
}

#[tokio::test]
async fn an_error_status_after_a_stream_that_fits_is_retried() {
    let server = FaultServer::start([Fault::status(503), Fault::ok("stored")]);
    let (builder, log) = client(LEN);
    let (body, pulled) = stream_body(None);
    let response = put_blob(builder.retry_transient_statuses(), &server, body)
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "stored");
    assert_eq!(log.kinds(), [FailureKind::Status(503)]);
    let bodies: Vec<_> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [whole(), whole()]);
    assert_eq!(pulled.load(Ordering::SeqCst), CHUNKS);
}

#[tokio::test]
async fn a_bytes_body_is_resent_whatever_its_size() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("stored")]);
    // Whole bytes are not counted against the replay buffer.
    let (builder, log) = client(16);
    let response = put_blob(builder, &server, Bytes::from(whole()))
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "stored");
    assert_eq!((log.attempts(), log.kinds()), (2, vec![FailureKind::Io]));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.body, whole());
        assert_eq!(request.header("content-length"), Some("4096"));
    }
}

#[tokio::test]
async fn a_stream_that_fails_ends_the_call_with_its_error() {
    let server = FaultServer::start([Fault::ok("never")]);
    let (builder, log) = client(LEN);
    let (body, pulled) = stream_body(Some(2));
    let err = put_blob(builder, &server, body).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    let last = err.last_error().unwrap();
    assert!(matches!(last, Error::RequestBody(_)), "{last:?}");
    assert_eq!(last.to_string(), "the request body stream failed");
    // The stream's own error is in the chain.
    let mut chain = Vec::new();
    let mut next = last.source();
    while let Some(e) = next {
        chain.push(e.to_string());
        next = e.source();
    }
    assert!(chain.iter().any(|e| e == "the disk went away"), "{chain:?}");
    assert_eq!(log.attempts(), 1);
    assert_eq!(pulled.load(Ordering::SeqCst), 2);
    // The request was cut short: the server recorded no request.
    assert_eq!(server.received(), 0);
}

#[tokio::test]
async fn a_refused_connection_retries_a_stream_past_the_limit() {
    // Nothing is read from the stream before a connection exists, so a
    // refused connection leaves the body whole for the next attempt even
    // when it is larger than the buffer. The server comes up on the
    // refused port just before the second attempt.
    let addr = closed_port_addr();
    let slot: Arc<Mutex<Option<FaultServer>>> = Arc::default();
    let started = Arc::clone(&slot);
    let (builder, log) = client(CHUNK);
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
    let (body, pulled) = stream_body(None);
    let response = client
        .post(&format!("http://{addr}/upload"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "created");
    assert_eq!(
        (log.attempts(), log.kinds()),
        (2, vec![FailureKind::Connect])
    );
    let server = slot.lock().unwrap().take().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body, whole());
    assert_eq!(pulled.load(Ordering::SeqCst), CHUNKS);
}

/// `RetryLayer` over hyper-util's client sending `tenace_hyper::Body`:
/// the response's body.
async fn through_tower(server: &FaultServer, body: Body) -> Result<Bytes, tenace_hyper::CallError> {
    let inner = HyperUtilClient::builder(TokioExecutor::new()).build_http::<Body>();
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(
            Policy::new(FixedDelay::new(Duration::from_millis(10))).max_retries(3),
        ))
        .service(inner);
    let request = http::Request::put(server.url("/blob")).body(body).unwrap();
    let response = service.oneshot(request).await?;
    Ok(response.into_body().collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn the_tower_layer_replays_a_stream_that_fits() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("stored")]);
    let (body, pulled) = stream_body(None);
    let text = through_tower(&server, body.replay_buffer_limit(LEN))
        .await
        .unwrap();
    assert_eq!(text, "stored");
    let bodies: Vec<_> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [whole(), whole()]);
    assert_eq!(pulled.load(Ordering::SeqCst), CHUNKS);
}

#[tokio::test]
async fn the_tower_layer_sends_a_stream_past_the_limit_once() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("duplicate!")]);
    let (body, _) = stream_body(None);
    let err = through_tower(&server, body.replay_buffer_limit(LEN - 1))
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert_eq!(err.last_error().unwrap().to_string(), OVER);
    assert_eq!(server.received(), 1);
    assert_eq!(server.requests()[0].body, whole());
}

/// An HTTP/2 server whose first stream is read, recorded and reset with
/// `INTERNAL_ERROR`, and a client speaking h2c to it.
fn h2_reset_then(second: Fault, limit: usize) -> (FaultServer, ClientBuilder, Recorder) {
    let server = FaultServer::builder()
        .http2()
        .script([
            Fault::StreamReset {
                code: H2_INTERNAL_ERROR,
            },
            second,
        ])
        .start()
        .unwrap();
    let (builder, log) = client(limit);
    (server, builder.http2_prior_knowledge(), log)
}

#[tokio::test]
async fn over_http2_a_stream_that_fits_is_sent_again_whole() {
    let (server, builder, log) = h2_reset_then(Fault::ok("stored"), LEN);
    let (body, pulled) = stream_body(None);
    let response = put_blob(builder, &server, body).await.unwrap();
    assert_eq!(response.text().unwrap(), "stored");
    assert_eq!(log.kinds(), [FailureKind::Io]);
    let bodies: Vec<_> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [whole(), whole()]);
    assert_eq!(pulled.load(Ordering::SeqCst), CHUNKS);
}

#[tokio::test]
async fn over_http2_a_stream_past_the_limit_is_sent_once() {
    let (server, builder, log) = h2_reset_then(Fault::ok("duplicate!"), LEN - 1);
    let (body, _) = stream_body(None);
    let err = put_blob(builder, &server, body).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert_eq!(err.last_error().unwrap().to_string(), OVER);
    assert_eq!(log.attempts(), 1);
    assert_eq!(server.received(), 1);
    assert_eq!(server.requests()[0].body, whole());
}
