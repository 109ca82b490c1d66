//! HTTP/2 through `tenace_hyper::Client`, in cleartext by prior knowledge
//! (h2c), against the fault server's HTTP/2 mode (the `h2` crate's server)
//! on real sockets: which stream failures are retried for which methods,
//! and what reached the server. Real time with millisecond-scale delays.

use core::time::Duration;

use bytes::Bytes;
use http::Version;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HyperUtilClient;
use hyper_util::rt::TokioExecutor;
use tenace_hyper::tenace::{FailureKind, FixedDelay, Policy, StopReason, TransportError};
use tenace_hyper::tower::{RetryLayer, RetryStats};
use tenace_hyper::{Client, Error};
use tenace_tests::fault_server::{
    Fault, FaultServer, H2_ENHANCE_YOUR_CALM, H2_INTERNAL_ERROR, H2_NO_ERROR, H2_REFUSED_STREAM,
};
use tower::{ServiceBuilder, ServiceExt as _};

/// An h2c client of `server`: 5 ms between attempts, 3 retries, 2 s per
/// attempt.
fn client(server: &FaultServer) -> Client {
    Client::builder()
        .base_url(server.url("/"))
        .http2_prior_knowledge()
        .retry_strategy(FixedDelay::new(Duration::from_millis(5)))
        .max_retries(3)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn h2_server(script: impl IntoIterator<Item = Fault>) -> FaultServer {
    FaultServer::builder()
        .http2()
        .script(script)
        .start()
        .unwrap()
}

#[tokio::test]
async fn a_get_over_h2c_is_http2() {
    let server = h2_server([Fault::ok("hello")]);
    let response = client(&server).get("/greeting?x=1").send().await.unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(
        (response.status().as_u16(), response.text().unwrap()),
        (200, "hello")
    );
    assert_eq!(response.attempts(), 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/greeting?x=1")
    );
}

#[tokio::test]
async fn concurrent_calls_share_one_connection() {
    let server = h2_server([]);
    let client = client(&server);
    // Both calls are under way before either is answered.
    let calls: Vec<_> = (0..2)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.get(&format!("/{i}")).send().await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().text().unwrap(), "ok");
    }
    let response = client.get("/after").send().await.unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!((server.received(), server.connections()), (3, 1));
}

#[tokio::test]
async fn a_refused_stream_is_retried_for_a_post() {
    let server = h2_server([Fault::RefusedStream, Fault::ok("paid")]);
    let response = client(&server)
        .post("/pay")
        .body("amount=10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "paid");
    assert_eq!(response.attempts(), 2);
    // Two streams arrived; the server processed one.
    assert_eq!((server.streams(), server.received()), (2, 1));
    let requests = server.requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].body, b"amount=10");
    assert_eq!(requests[0].fault_index, 1);
}

#[tokio::test]
async fn a_post_refused_every_time_ends_saying_the_server_refused_it() {
    let server = FaultServer::builder()
        .http2()
        .fallback(Fault::RefusedStream)
        .start()
        .unwrap();
    let err = client(&server)
        .post("/pay")
        .body("amount=10")
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 4));
    let last = err.last_error().unwrap();
    assert!(matches!(last, Error::Refused(_)), "{last:?}");
    assert_eq!(last.kind(), FailureKind::Connect);
    assert_eq!(
        last.to_string(),
        "the server refused the request before processing it (HTTP/2)"
    );
    // The call's error says why it stopped; its `source()` chain says what
    // the server did, down to h2's reading of the frame.
    let chain: Vec<String> =
        core::iter::successors(Some(&err as &(dyn core::error::Error + 'static)), |e| {
            e.source()
        })
        .map(ToString::to_string)
        .collect();
    assert_eq!(chain[0], "all 4 attempts failed");
    assert_eq!(
        chain[1],
        "the server refused the request before processing it (HTTP/2)"
    );
    assert!(
        chain.last().unwrap().contains("refused stream"),
        "{chain:?}"
    );
    assert_eq!((server.streams(), server.received()), (4, 0));
}

#[tokio::test]
async fn a_goaway_below_the_stream_retries_a_post_on_a_new_connection() {
    let server = h2_server([
        Fault::GoAwayUnprocessed {
            code: H2_ENHANCE_YOUR_CALM,
        },
        Fault::ok("paid"),
    ]);
    let response = client(&server)
        .post("/pay")
        .body("amount=10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "paid");
    assert_eq!(response.attempts(), 2);
    assert_eq!((server.streams(), server.received()), (2, 1));
    assert_eq!(server.connections(), 2);
    let requests = server.requests();
    assert_eq!(
        (requests[0].connection_id, requests[0].body.as_slice()),
        (1, &b"amount=10"[..])
    );
}

#[tokio::test]
async fn a_graceful_goaway_moves_the_retry_to_a_new_connection() {
    // The first stream is answered; the second gets a GOAWAY with NO_ERROR
    // whose last stream id is the first's, and the draining connection
    // stays open: the retry must not go to it.
    let server = h2_server([
        Fault::ok("first"),
        Fault::GoAwayUnprocessed { code: H2_NO_ERROR },
        Fault::ok("second"),
    ]);
    let client = client(&server);
    let first = client.get("/first").send().await.unwrap();
    assert_eq!(first.text().unwrap(), "first");
    let second = client.post("/second").body("x").send().await.unwrap();
    assert_eq!(second.text().unwrap(), "second");
    assert_eq!(second.attempts(), 2);
    assert_eq!((server.streams(), server.received()), (3, 2));
    assert_eq!(server.connections(), 2);
    let on: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.connection_id))
        .collect();
    assert_eq!(on, [("GET".to_owned(), 0), ("POST".to_owned(), 1)]);
}

#[tokio::test]
async fn a_stream_reset_after_the_body_is_not_replayed_for_a_post() {
    let server = h2_server([
        Fault::StreamReset {
            code: H2_INTERNAL_ERROR,
        },
        Fault::ok("duplicate!"),
    ]);
    let err = client(&server)
        .post("/pay")
        .body("amount=10")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    let last = err.last_error().unwrap();
    assert!(matches!(last, Error::Io(_)), "{last:?}");
    assert_eq!((server.streams(), server.received()), (1, 1));
}

#[tokio::test]
async fn a_stream_reset_after_the_body_is_retried_for_a_get() {
    let server = h2_server([
        Fault::StreamReset {
            code: H2_INTERNAL_ERROR,
        },
        Fault::ok("again"),
    ]);
    let response = client(&server).get("/file").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "again");
    assert_eq!(response.attempts(), 2);
    assert_eq!((server.streams(), server.received()), (2, 2));
}

#[tokio::test]
async fn a_refusal_after_the_response_head_is_not_replayed_for_a_post() {
    // The head says the server processed the request: a REFUSED_STREAM in
    // the middle of the body does not make a POST safe to send again.
    let server = h2_server([
        Fault::StreamResetMidBody {
            code: H2_REFUSED_STREAM,
        },
        Fault::ok("duplicate!"),
    ]);
    let err = client(&server)
        .post("/pay")
        .body("amount=10")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    let last = err.last_error().unwrap();
    assert!(matches!(last, Error::Io(_)), "{last:?}");
    assert_eq!((server.streams(), server.received()), (1, 1));

    // A GET is sent again.
    let server = h2_server([
        Fault::StreamResetMidBody {
            code: H2_INTERNAL_ERROR,
        },
        Fault::ok("whole body"),
    ]);
    let response = client(&server).get("/file").send().await.unwrap();
    assert_eq!(
        (response.text().unwrap(), response.attempts()),
        ("whole body", 2)
    );
}

#[tokio::test]
async fn the_http1_faults_that_apply_to_a_stream() {
    // A transient status, then a connection reset before the answer: both
    // retried for a GET.
    let server = h2_server([
        Fault::status(503),
        Fault::ResetBeforeResponse,
        Fault::ok("fine"),
    ]);
    let transient = Client::builder()
        .base_url(server.url("/"))
        .http2_prior_knowledge()
        .retry_strategy(FixedDelay::new(Duration::from_millis(5)))
        .retry_transient_statuses()
        .build()
        .unwrap();
    let response = transient.get("/").send().await.unwrap();
    assert_eq!((response.text().unwrap(), response.attempts()), ("fine", 3));
    assert_eq!(server.connections(), 2);

    // A reset connection is not replayed for a POST.
    let server = h2_server([Fault::ResetBeforeResponse, Fault::ok("duplicate!")]);
    let err = client(&server)
        .post("/pay")
        .body("a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.last_error().map(TransportError::kind)),
        (StopReason::NotIdempotent, Some(FailureKind::Io))
    );
    assert_eq!(server.received(), 1);

    // A stream that never answers times out.
    let server = h2_server([Fault::Hang]);
    let impatient = Client::builder()
        .base_url(server.url("/"))
        .http2_prior_knowledge()
        .max_retries(0)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = impatient.get("/").send().await.unwrap_err();
    assert!(
        matches!(err.last_error(), Some(Error::Timeout(_))),
        "{err:?}"
    );

    // A body over the client's limit.
    let server = h2_server([Fault::OversizeBody(100_000)]);
    let small = Client::builder()
        .base_url(server.url("/"))
        .http2_prior_knowledge()
        .max_response_bytes(1000)
        .build()
        .unwrap();
    let err = small.get("/").send().await.unwrap_err();
    assert!(
        matches!(err.last_error(), Some(Error::BodyTooLarge { limit: 1000 })),
        "{err:?}"
    );
}

/// The tower layer around hyper-util's own HTTP/2 client classifies the
/// same stream errors the same way.
#[tokio::test]
async fn the_tower_layer_retries_a_refused_post_and_not_a_reset_one() {
    let server = h2_server([
        Fault::RefusedStream,
        Fault::ok("paid"),
        Fault::StreamReset {
            code: H2_INTERNAL_ERROR,
        },
        Fault::ok("duplicate!"),
    ]);
    let mut inner = HyperUtilClient::builder(TokioExecutor::new());
    inner.http2_only(true);
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(
            Policy::new(FixedDelay::new(Duration::from_millis(5))).max_retries(3),
        ))
        .service(inner.build_http::<Full<Bytes>>());
    let post = || {
        http::Request::post(server.url("/pay"))
            .body(Full::new(Bytes::from_static(b"amount=10")))
            .unwrap()
    };

    let response = service.clone().oneshot(post()).await.unwrap();
    let attempts = response
        .extensions()
        .get::<RetryStats>()
        .unwrap()
        .attempts();
    assert_eq!((response.version(), attempts), (Version::HTTP_2, 2));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"paid");

    let err = service.oneshot(post()).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert!(matches!(err.last_error(), Some(Error::Io(_))), "{err:?}");
    assert_eq!((server.streams(), server.received()), (3, 2));
}
