//! When `tenace_hyper::Client`'s interceptors run, against the fault server
//! on real sockets: per-attempt ones on every attempt, `_once` ones once per
//! call (their changes on every attempt sent), `_final` ones on the response
//! the call returns only. Each test counts the calls and checks what reached
//! the server.

use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::sync::{Arc, Mutex};

use tenace_hyper::interceptor::{AsyncRequestInterceptor, AsyncResponseInterceptor, BoxFuture};
use tenace_hyper::tenace::{AttemptContext, FixedDelay, StopReason};
use tenace_hyper::{Client, ClientBuilder, Error, Request, Response};
use tenace_tests::fault_server::{Fault, FaultServer};

/// What each kind of interceptor saw.
#[derive(Debug, Default)]
struct Seen {
    per_attempt_requests: AtomicU32,
    once_requests: AtomicU32,
    async_once_requests: AtomicU32,
    /// Statuses seen by the per-attempt response interceptor.
    per_attempt_responses: Mutex<Vec<u16>>,
    /// Status and attempt of each response a final-only interceptor saw.
    final_responses: Mutex<Vec<(u16, u32)>>,
    async_final_responses: AtomicU32,
}

impl Seen {
    fn count(&self) -> [u32; 4] {
        [
            self.per_attempt_requests.load(Ordering::SeqCst),
            self.once_requests.load(Ordering::SeqCst),
            self.async_once_requests.load(Ordering::SeqCst),
            self.async_final_responses.load(Ordering::SeqCst),
        ]
    }
}

/// An async once-per-call interceptor: counts and tags the call.
struct AsyncOnce(Arc<Seen>);

impl AsyncRequestInterceptor for AsyncOnce {
    fn intercept<'a>(
        &'a self,
        request: &'a mut Request,
        _cx: AttemptContext,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            let n = self.0.async_once_requests.fetch_add(1, Ordering::SeqCst) + 1;
            let value = format!("async-{n}").parse().map_err(Error::interceptor)?;
            request.headers_mut().insert("x-async-once", value);
            Ok(())
        })
    }
}

/// An async final-only interceptor: counts the responses it sees.
struct AsyncFinal(Arc<Seen>);

impl AsyncResponseInterceptor for AsyncFinal {
    fn intercept(
        &self,
        response: Response,
        _cx: AttemptContext,
    ) -> BoxFuture<'_, Result<Response, Error>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.0.async_final_responses.fetch_add(1, Ordering::SeqCst);
            Ok(response)
        })
    }
}

/// A client retrying transient statuses 5 ms apart, with interceptors of
/// every timing, the once-per-call ones registered last.
fn client(server: &FaultServer, max_retries: u32) -> (Client, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let (a, b, c, d) = (seen.clone(), seen.clone(), seen.clone(), seen.clone());
    let client = Client::builder()
        .base_url(server.url("/"))
        .retry_strategy(FixedDelay::new(Duration::from_millis(5)))
        .max_retries(max_retries)
        .retry_transient_statuses()
        .request_interceptor(move |request, cx| {
            a.per_attempt_requests.fetch_add(1, Ordering::SeqCst);
            request.headers_mut().insert("x-attempt", cx.attempt.into());
            Ok(())
        })
        .response_interceptor(move |response, _cx| {
            b.per_attempt_responses
                .lock()
                .unwrap()
                .push(response.status().as_u16());
            Ok(response)
        })
        .response_interceptor_final(move |response, cx| {
            c.final_responses
                .lock()
                .unwrap()
                .push((response.status().as_u16(), cx.attempt));
            Ok(response)
        })
        .async_response_interceptor_final(AsyncFinal(seen.clone()))
        .request_interceptor_once(move |request, cx| {
            assert_eq!((cx.attempt, cx.elapsed), (1, Duration::ZERO));
            let n = d.once_requests.fetch_add(1, Ordering::SeqCst) + 1;
            request.headers_mut().insert("x-call", n.into());
            Ok(())
        })
        .async_request_interceptor_once(AsyncOnce(seen.clone()))
        .build()
        .unwrap();
    (client, seen)
}

#[tokio::test]
async fn three_attempts_run_per_attempt_interceptors_three_times_and_the_others_once() {
    let server = FaultServer::start([Fault::status(503), Fault::status(503), Fault::ok("done")]);
    let (client, seen) = client(&server, 3);
    let response = client.get("/").send().await.unwrap();
    assert_eq!((response.text().unwrap(), response.attempts()), ("done", 3));
    assert_eq!(seen.count(), [3, 1, 1, 1]);
    assert_eq!(*seen.per_attempt_responses.lock().unwrap(), [503, 503, 200]);
    assert_eq!(*seen.final_responses.lock().unwrap(), [(200, 3)]);
    // Every attempt carried the once-per-call headers, set once.
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    for (i, request) in sent.iter().enumerate() {
        let attempt = (i + 1).to_string();
        assert_eq!(request.header("x-attempt"), Some(attempt.as_str()));
        assert_eq!(request.header("x-call"), Some("1"));
        assert_eq!(request.header("x-async-once"), Some("async-1"));
    }
}

#[tokio::test]
async fn each_call_runs_the_once_per_call_interceptors_once() {
    let server = FaultServer::start([Fault::status(503), Fault::ok("a"), Fault::ok("b")]);
    let (client, seen) = client(&server, 3);
    client.get("/").send().await.unwrap();
    client.get("/").send().await.unwrap();
    assert_eq!(seen.count(), [3, 2, 2, 2]);
    assert_eq!(*seen.final_responses.lock().unwrap(), [(200, 2), (200, 1)]);
    let calls: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("x-call").map(String::from))
        .collect();
    let expected = ["1", "1", "2"].map(|v| Some(v.to_owned()));
    assert_eq!(calls, expected);
}

#[tokio::test]
async fn an_error_ending_reaches_no_final_only_interceptor() {
    let server = FaultServer::start([Fault::status(503), Fault::status(502), Fault::status(503)]);
    let (client, seen) = client(&server, 2);
    let err = client.get("/").send().await.unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert_eq!(seen.count(), [3, 1, 1, 0]);
    assert_eq!(*seen.per_attempt_responses.lock().unwrap(), [503, 502, 503]);
    assert!(seen.final_responses.lock().unwrap().is_empty());
    assert_eq!(server.received(), 3);
}

fn reject_final(builder: ClientBuilder) -> ClientBuilder {
    builder.response_interceptor_final(|_response, _cx| Err(Error::interceptor("rejected")))
}

#[tokio::test]
async fn a_final_only_error_ends_the_call_without_another_attempt() {
    let server = FaultServer::start([Fault::ok("first"), Fault::ok("second")]);
    // Every error is retryable for this client: the final-only error still
    // is not retried.
    let client = reject_final(
        Client::builder()
            .base_url(server.url("/"))
            .retry_strategy(FixedDelay::new(Duration::from_millis(5)))
            .retry_on(|_: &Error| true),
    )
    .build()
    .unwrap();
    let err = client.get("/").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(err.last_error(), Some(Error::Interceptor(_))));
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn a_once_per_call_error_ends_the_call_before_any_request() {
    let server = FaultServer::start([Fault::ok("unreached")]);
    let per_attempt = Arc::new(AtomicU32::new(0));
    let counted = per_attempt.clone();
    let client = Client::builder()
        .base_url(server.url("/"))
        .retry_on(|_: &Error| true)
        .request_interceptor(move |_request, _cx| {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .request_interceptor_once(|_request, _cx| Err(Error::interceptor("no key")))
        .build()
        .unwrap();
    let err = client.get("/").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 0)
    );
    assert!(matches!(err.last_error(), Some(Error::Interceptor(_))));
    assert_eq!(per_attempt.load(Ordering::SeqCst), 0);
    assert_eq!(server.received(), 0);
}

#[tokio::test]
async fn a_key_minted_once_per_call_is_on_every_retry_and_makes_a_post_replayable() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("paid")]);
    let minted = Arc::new(AtomicU32::new(0));
    let counter = minted.clone();
    let client = Client::builder()
        .base_url(server.url("/"))
        .retry_strategy(FixedDelay::new(Duration::from_millis(5)))
        .request_interceptor_once(move |request, _cx| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let key = format!("key-{n}").parse().map_err(Error::interceptor)?;
            request.headers_mut().insert("idempotency-key", key);
            Ok(())
        })
        .build()
        .unwrap();
    let response = client.post("/pay").body("amount=10").send().await.unwrap();
    assert_eq!((response.text().unwrap(), response.attempts()), ("paid", 2));
    assert_eq!(minted.load(Ordering::SeqCst), 1);
    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    for request in sent {
        assert_eq!(request.header("Idempotency-Key"), Some("key-1"));
        assert_eq!(request.body, b"amount=10");
    }
}
