//! The hyper client's hedged requests against fault servers on real
//! sockets: a slow first response is overtaken by the hedge and cancelled,
//! a `POST` is never hedged, and a request's setting wins over the
//! client's. Real time: the slow responses take far longer than the
//! hedged calls may.

use core::time::Duration;
use std::time::Instant;

use tenace_hyper::Client;
use tenace_hyper::tenace::{Hedge, HedgeDelay, StopReason};
use tenace_tests::fault_server::{Fault, FaultServer};

const SLOW: Duration = Duration::from_secs(10);
const DELAY: Duration = Duration::from_millis(100);

fn slow_then_fast() -> FaultServer {
    FaultServer::start([Fault::SlowHeaders(SLOW), Fault::ok("fast")])
}

#[tokio::test]
async fn a_slow_first_response_is_overtaken_by_the_hedge() {
    let server = slow_then_fast();
    let client = Client::builder()
        .hedge(Hedge::<1>::after(DELAY))
        .build()
        .unwrap();
    let start = Instant::now();
    // A hedged call's future is `Send`: spawned.
    let call = client.get(&server.url("/")).send();
    let response = tokio::spawn(call).await.unwrap().unwrap();
    let took = start.elapsed();
    assert_eq!(response.text().unwrap(), "fast");
    assert_eq!(response.attempts(), 2);
    assert!(took >= DELAY && took < SLOW / 2, "{took:?}");
    assert_eq!((server.received(), server.connections()), (2, 2));
}

#[tokio::test]
async fn a_post_is_never_hedged() {
    let server = FaultServer::start([
        Fault::SlowHeaders(Duration::from_millis(400)),
        Fault::ok("second"),
    ]);
    let client = Client::builder()
        .hedge(Hedge::<2>::after(Duration::from_millis(20)))
        .build()
        .unwrap();
    let response = client
        .post(&server.url("/"))
        .body("order")
        .send()
        .await
        .unwrap();
    assert_eq!((response.text().unwrap(), response.attempts()), ("ok", 1));
    assert_eq!(server.received_with_method("POST"), 1);
    // With an idempotency key the same request is hedged.
    let server = slow_then_fast();
    let response = client
        .post(&server.url("/"))
        .idempotency_key("order-7")
        .body("order")
        .send()
        .await
        .unwrap();
    assert_eq!((response.text().unwrap(), response.attempts()), ("fast", 2));
    assert_eq!(server.received_with_method("POST"), 2);
}

#[tokio::test]
async fn a_request_hedges_or_not_whatever_the_client_does() {
    let server = slow_then_fast();
    let plain = Client::builder().build().unwrap();
    let response = plain
        .get(&server.url("/"))
        .hedge(Hedge::<1>::after(DELAY))
        .send()
        .await
        .unwrap();
    assert_eq!((response.text().unwrap(), response.attempts()), ("fast", 2));
    // Zero extra copies turn the client's hedging off for one request.
    let server = FaultServer::start([
        Fault::SlowHeaders(Duration::from_millis(300)),
        Fault::ok("second"),
    ]);
    let hedged = Client::builder()
        .hedge(Hedge::<1>::after(Duration::from_millis(20)))
        .build()
        .unwrap();
    let response = hedged
        .get(&server.url("/"))
        .hedge(Hedge::<0>::after(Duration::ZERO))
        .send()
        .await
        .unwrap();
    assert_eq!((response.text().unwrap(), response.attempts()), ("ok", 1));
    assert_eq!(server.received(), 1);
}

#[tokio::test]
async fn a_failed_copy_starts_the_next_at_once_and_the_deadline_ends_the_call() {
    // A 503 (retried) at once: the hedge starts without waiting its delay.
    let server = FaultServer::start([Fault::status(503), Fault::ok("second")]);
    let client = Client::builder()
        .retry_transient_statuses()
        .hedge(Hedge::<1>::new(HedgeDelay::OnFailure))
        .build()
        .unwrap();
    let response = client.get(&server.url("/")).send().await.unwrap();
    assert_eq!(
        (response.text().unwrap(), response.attempts()),
        ("second", 2)
    );
    // Every copy hangs: copies start at 0, 150 and 300 ms, the one due at
    // 450 ms is past the deadline, which ends the call.
    let server = FaultServer::builder()
        .fallback(Fault::Hang)
        .start()
        .unwrap();
    let start = Instant::now();
    let err = client
        .get(&server.url("/"))
        .hedge(Hedge::<4>::after(Duration::from_millis(150)))
        .deadline(Duration::from_millis(400))
        .send()
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 3));
    assert!(
        took >= Duration::from_millis(400) && took < SLOW / 2,
        "{took:?}"
    );
    assert_eq!(server.received(), 3);
}
