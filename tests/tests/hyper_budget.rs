//! The hyper client's per-host retry budget against fault servers on real
//! sockets: clones share a host's bucket, another host (another port) has
//! its own, and through an outage the servers receive about one request
//! per call. Real time with millisecond delays; the counts are exact, since
//! the test's runtime runs one task at a time and each call charges and
//! consults the bucket in one step.

use core::time::Duration;

use tenace_hyper::tenace::{FixedDelay, StopReason};
use tenace_hyper::{Client, ClientBuilder, DEFAULT_RETRY_BUDGET_TOKENS};
use tenace_tests::fault_server::{Fault, FaultServer};

const MAX_RETRIES: u32 = 3;

/// A server that answers every request with a 503.
fn down() -> FaultServer {
    FaultServer::builder()
        .fallback(Fault::status(503))
        .start()
        .unwrap()
}

/// 5 ms between attempts, 3 retries, transient statuses retried.
fn client() -> ClientBuilder {
    Client::builder()
        .retry_strategy(FixedDelay::new(Duration::from_millis(5)))
        .max_retries(MAX_RETRIES)
        .timeout(Duration::from_secs(2))
        .retry_transient_statuses()
}

async fn fails(client: &Client, url: &str) -> (StopReason, u32) {
    let err = client.get(url).send().await.unwrap_err();
    (err.reason(), err.attempts())
}

#[tokio::test]
async fn clones_share_a_hosts_budget_and_another_host_has_its_own() {
    let (x, y) = (down(), down());
    let a = client().build().unwrap();
    let b = a.clone();
    // Drain x's bucket through clone a: 10 → 6 with three retries, then the
    // next failure leaves 5, not more than half: refused.
    assert_eq!(fails(&a, &x.url("/")).await, (StopReason::Exhausted, 4));
    assert_eq!(fails(&a, &x.url("/")).await, (StopReason::Budget, 1));
    // Clone b's retry to x is refused too.
    assert_eq!(fails(&b, &x.url("/b")).await, (StopReason::Budget, 1));
    // Host y (another port) still retries, through either clone.
    assert_eq!(fails(&b, &y.url("/")).await, (StopReason::Exhausted, 4));
    assert_eq!((x.received(), y.received()), (6, 4));
    assert_eq!(a.retry_budget_hosts(), 2);
    assert_eq!(b.retry_budget(&x.url("/")).unwrap().refused(), 2);
}

#[tokio::test]
async fn without_a_budget_nothing_is_refused() {
    let x = down();
    let a = client().no_retry_budget().build().unwrap();
    let b = a.clone();
    for c in [&a, &b, &a] {
        assert_eq!(fails(c, &x.url("/")).await, (StopReason::Exhausted, 4));
    }
    assert_eq!(x.received(), 12);
}

/// Sends `calls` concurrent calls to `url` and returns the requests the
/// server received for them.
async fn burst(client: &Client, server: &FaultServer, calls: usize) -> usize {
    let before = server.received();
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let (client, url) = (client.clone(), server.url("/"));
            tokio::spawn(async move { client.get(&url).send().await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    server.received() - before
}

#[tokio::test]
async fn through_an_outage_the_server_sees_about_one_request_per_call() {
    const CALLS: usize = 100;
    let server = down();
    let fleet = client().build().unwrap();
    let received = burst(&fleet, &server, CALLS).await;
    // The first four failures leave 9, 8, 7, 6 tokens and are retried;
    // every other retry is refused.
    assert_eq!(received, CALLS + 4);
    let bound = 1.0 + (f64::from(DEFAULT_RETRY_BUDGET_TOKENS) / 2.0) / CALLS as f64;
    let amplification = received as f64 / CALLS as f64;
    assert!(amplification <= bound, "{amplification} > {bound}");
    // The outage goes on: the next hundred calls make one attempt each.
    assert_eq!(burst(&fleet, &server, CALLS).await, CALLS);

    // Without a budget: max_retries + 1 attempts per call.
    let server = down();
    let fleet = client().no_retry_budget().build().unwrap();
    assert_eq!(
        burst(&fleet, &server, CALLS).await,
        CALLS * (MAX_RETRIES as usize + 1)
    );
}
