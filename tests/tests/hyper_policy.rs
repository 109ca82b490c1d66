//! What `tenace_hyper::Client` replays and retries, against the fault
//! server on real sockets: the replay rule (an explicit mark, then an
//! `Idempotency-Key` header, then the method), `retry_on` and
//! `retry_transient_statuses` adding up in either order, and
//! `error_for_status` per request.

use core::time::Duration;

use tenace::{FailureKind, FixedDelay, StopReason, TransportError};
use tenace_hyper::{Client, ClientBuilder, Error};
use tenace_tests::fault_server::{Fault, FaultServer};

fn client(server: &FaultServer) -> ClientBuilder {
    Client::builder()
        .base_url(server.url("/"))
        .retry_strategy(FixedDelay::new(Duration::from_millis(1)))
        .max_retries(3)
        .timeout(Duration::from_secs(2))
}

/// A conflict, which only a user's predicate retries.
fn conflict(e: &Error) -> bool {
    matches!(e, Error::Status { status, .. } if *status == 409)
}

#[tokio::test]
async fn retry_safe_false_keeps_a_get_from_being_replayed() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("twice")]);
    let api = client(&server).build().unwrap();
    let err = api
        .get("/charge")
        .retry_safe(false)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert_eq!(err.last_error().unwrap().kind(), FailureKind::Io);
    assert_eq!(server.received(), 1);

    // Unmarked, the same GET is replayed.
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("again")]);
    let api = client(&server).build().unwrap();
    assert_eq!(
        api.get("/read").send().await.unwrap().text().unwrap(),
        "again"
    );
    assert_eq!(server.received(), 2);
}

#[tokio::test]
async fn a_bare_idempotency_key_header_makes_a_post_replayable() {
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("paid once")]);
    let api = client(&server).build().unwrap();
    let response = api
        .post("/pay")
        .header("Idempotency-Key", "k-1")
        .body("amount=10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "paid once");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.header("idempotency-key") == Some("k-1"))
    );

    // An explicit mark wins over the header.
    let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("twice")]);
    let api = client(&server).build().unwrap();
    let err = api
        .post("/pay")
        .idempotency_key("k-2")
        .retry_safe(false)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn retry_on_and_transient_statuses_add_up_in_either_order() {
    for order in ["retry_on first", "transient first"] {
        let server =
            FaultServer::start([Fault::status(409), Fault::status(503), Fault::ok("done")]);
        let builder = client(&server);
        let builder = if order == "retry_on first" {
            builder.retry_on(conflict).retry_transient_statuses()
        } else {
            builder.retry_transient_statuses().retry_on(conflict)
        };
        let api = builder.build().unwrap();
        let response = api.get("/x").send().await.unwrap();
        assert_eq!(response.text().unwrap(), "done", "{order}");
        assert_eq!(server.received(), 3, "{order}");
    }
}

#[tokio::test]
async fn per_request_predicates_add_up_in_either_order() {
    for order in ["retry_on first", "transient first", "client predicate"] {
        let server =
            FaultServer::start([Fault::status(409), Fault::status(503), Fault::ok("done")]);
        let request = match order {
            "retry_on first" => client(&server)
                .build()
                .unwrap()
                .get("/x")
                .retry_on(conflict)
                .retry_transient_statuses(),
            "transient first" => client(&server)
                .build()
                .unwrap()
                .get("/x")
                .retry_transient_statuses()
                .retry_on(conflict),
            // The request adds transient statuses to the client's predicate.
            _ => client(&server)
                .retry_on(conflict)
                .build()
                .unwrap()
                .get("/x")
                .retry_transient_statuses(),
        };
        let response = request.send().await.unwrap();
        assert_eq!(response.text().unwrap(), "done", "{order}");
        assert_eq!(server.received(), 3, "{order}");
    }
}

#[tokio::test]
async fn error_for_status_is_set_per_request() {
    let server = FaultServer::start([Fault::status(500), Fault::status(500)]);
    // The client keeps statuses as responses; this request does not.
    let api = client(&server).build().unwrap();
    let err = api
        .get("/x")
        .error_for_status(true)
        .send()
        .await
        .unwrap_err();
    // An error status is not a transport failure: the default predicate
    // returns it at once.
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(err.last_error(), Some(Error::Status { status, .. }) if *status == 500));
    // The client's setting is untouched for the next request.
    assert_eq!(api.get("/x").send().await.unwrap().status(), 500);

    // And the other way round.
    let server = FaultServer::start([Fault::status(503)]);
    let api = client(&server).retry_transient_statuses().build().unwrap();
    let response = api.get("/x").error_for_status(false).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn a_response_tells_how_many_attempts_and_how_long_it_slept() {
    let server = FaultServer::start([
        Fault::status(503),
        Fault::ResetBeforeResponse,
        Fault::ok("third time"),
        Fault::ok("first time"),
    ]);
    let slept = std::sync::Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let sum = std::sync::Arc::clone(&slept);
    let api = Client::builder()
        .base_url(server.url("/"))
        .retry_strategy(
            tenace::ExponentialBackoff::new(Duration::from_millis(2), 2, Duration::from_secs(1))
                .unwrap(),
        )
        .retry_transient_statuses()
        .on_retry(move |ev| *sum.lock().unwrap() += ev.delay)
        .build()
        .unwrap();
    let response = api.get("/x").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "third time");
    assert_eq!(response.attempts(), 3);
    // 4 ms then 8 ms, as chosen (and reported to on_retry).
    assert_eq!(response.slept(), Duration::from_millis(12));
    assert_eq!(response.slept(), *slept.lock().unwrap());

    let response = api.get("/y").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "first time");
    assert_eq!((response.attempts(), response.slept()), (1, Duration::ZERO));
}
