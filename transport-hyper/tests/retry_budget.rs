//! The client's retry budget, one per host and shared by clones, over an
//! in-memory server under paused tokio time: exact attempt counts.

mod common;

use core::num::NonZeroUsize;
use core::time::Duration;
use std::sync::Arc;

use common::{MemoryServer, Reply};
use tenace::{FixedDelay, RetryBudget, StopReason};
use tenace_hyper::{
    Client, ClientBuilder, DEFAULT_RETRY_BUDGET_MAX_HOSTS, DEFAULT_RETRY_BUDGET_RATIO,
    DEFAULT_RETRY_BUDGET_TOKENS,
};

const MAX_RETRIES: u32 = 3;

/// 100 ms between attempts, 3 retries, transient statuses retried; the
/// server is down (every request gets a 503) until told otherwise.
fn down() -> (MemoryServer, ClientBuilder) {
    let server = MemoryServer::new([]);
    server.set_fallback(Reply::status(503));
    let builder = server
        .client()
        .retry_strategy(FixedDelay::new(Duration::from_millis(100)))
        .max_retries(MAX_RETRIES)
        .retry_transient_statuses();
    (server, builder)
}

/// `(reason, attempts)` of a call that failed.
async fn fails(client: &Client, url: &str) -> (StopReason, u32) {
    let err = client.get(url).send().await.unwrap_err();
    (err.reason(), err.attempts())
}

#[test]
fn the_defaults_are_grpcs_example() {
    assert_eq!(DEFAULT_RETRY_BUDGET_TOKENS, 10);
    assert_eq!(DEFAULT_RETRY_BUDGET_RATIO, (1, 10));
    assert_eq!(DEFAULT_RETRY_BUDGET_MAX_HOSTS.get(), 256);
}

#[tokio::test(start_paused = true)]
async fn clones_share_one_budget_per_host() {
    let (server, builder) = down();
    let a = builder.build().unwrap();
    let b = a.clone();
    let x = "http://x.test/a";
    let y = "http://y.test/a";
    assert!(a.retry_budget(x).is_none(), "no call to x yet");

    // Through clone a: 10 tokens, each failure takes one; retries while more
    // than 5 are left: 9, 8, 7, 6, all retried, then out of retries.
    assert_eq!(fails(&a, x).await, (StopReason::Exhausted, 4));
    // 5 left after the next failure: refused.
    assert_eq!(fails(&a, x).await, (StopReason::Budget, 1));
    // Clone b calls x through the same bucket: refused at once.
    assert_eq!(fails(&b, x).await, (StopReason::Budget, 1));
    // Host y has its own full bucket.
    assert_eq!(fails(&b, y).await, (StopReason::Exhausted, 4));
    assert_eq!(server.received(), 4 + 1 + 1 + 4);

    let bx = b.retry_budget(x).unwrap();
    assert!(Arc::ptr_eq(&a.retry_budget(x).unwrap(), &bx));
    assert_eq!((bx.tokens(), bx.refused()), (4, 2));
    // Any path, the default port written or not, the host in capitals.
    assert!(Arc::ptr_eq(
        &a.retry_budget("HTTP://X.test:80/other").unwrap(),
        &bx
    ));
    let by = a.retry_budget(y).unwrap();
    assert_eq!((by.tokens(), by.refused()), (6, 0));
    assert_eq!(a.retry_budget_hosts(), 2);

    // A client built on its own does not share them.
    let (_, builder) = down();
    let other = builder.build().unwrap();
    assert_eq!(fails(&other, x).await, (StopReason::Exhausted, 4));

    // Successes refill x, a tenth of a token each: ten make 5 tokens, not
    // more than half; the eleventh, through the other clone, makes 5.1.
    server.set_fallback(Reply::ok("ok"));
    for _ in 0..10 {
        a.get(x).send().await.unwrap();
    }
    assert_eq!(bx.scaled_tokens(), 50);
    assert!(!bx.allows_retry());
    b.get(x).send().await.unwrap();
    assert_eq!(bx.scaled_tokens(), 51);
    assert!(bx.allows_retry());
}

#[tokio::test(start_paused = true)]
async fn no_retry_budget_never_refuses() {
    let (server, builder) = down();
    let client = builder.no_retry_budget().build().unwrap();
    for _ in 0..10 {
        assert_eq!(
            fails(&client, "/a").await,
            (StopReason::Exhausted, MAX_RETRIES + 1)
        );
    }
    assert_eq!(server.received(), 10 * 4);
    assert!(client.retry_budget("/a").is_none());
    assert_eq!(client.retry_budget_hosts(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_budget_takes_its_parameters_from_the_template() {
    let (server, builder) = down();
    // 4 tokens, half a token back per success: retries while more than 2.
    let template = RetryBudget::new(4, 1, 2).unwrap();
    template.record_failure(); // its state is not copied
    let client = builder.retry_budget(template).build().unwrap();
    assert_eq!(fails(&client, "/a").await, (StopReason::Budget, 2));
    assert_eq!(server.received(), 2);
    let budget = client.retry_budget("/a").unwrap();
    assert_eq!(
        (budget.max_tokens(), budget.token_ratio(), budget.tokens()),
        (4, (1, 2), 2)
    );
    server.set_fallback(Reply::ok("ok"));
    client.get("/a").send().await.unwrap();
    assert_eq!(budget.scaled_tokens(), 5); // 2.5 tokens
}

#[tokio::test(start_paused = true)]
async fn one_shared_budget_spans_every_host() {
    let (server, builder) = down();
    let shared = Arc::new(RetryBudget::new(4, 1, 10).unwrap());
    let client = builder
        .shared_retry_budget(Arc::clone(&shared))
        .build()
        .unwrap();
    // 4 → 3 retried, 2 refused; the next host finds 2 → 1, refused.
    assert_eq!(
        fails(&client, "http://x.test/").await,
        (StopReason::Budget, 2)
    );
    assert_eq!(
        fails(&client, "http://y.test/").await,
        (StopReason::Budget, 1)
    );
    assert_eq!(server.received(), 3);
    assert_eq!((shared.tokens(), shared.refused()), (1, 2));
    assert!(Arc::ptr_eq(
        &client.retry_budget("http://z.test/").unwrap(),
        &shared
    ));
    assert_eq!(client.retry_budget_hosts(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_map_of_hosts_stays_at_its_bound() {
    let (server, builder) = down();
    let client = builder
        .retry_budget_max_hosts(NonZeroUsize::new(3).unwrap())
        .max_retries(0)
        .build()
        .unwrap();
    // Every host fails: no bucket is full, the least recently used goes.
    for i in 0..20 {
        let url = format!("http://h{i}.test/");
        assert_eq!(fails(&client, &url).await, (StopReason::Exhausted, 1));
        assert_eq!(client.retry_budget_hosts(), (i + 1).min(3));
    }
    assert_eq!(server.received(), 20);
    assert!(client.retry_budget("http://h16.test/").is_none());
    for kept in 17..20 {
        let budget = client.retry_budget(&format!("http://h{kept}.test/"));
        assert_eq!(budget.map(|b| b.tokens()), Some(9));
    }
    // A full bucket goes before a failing one, however recent.
    server.set_fallback(Reply::ok("ok"));
    client.get("http://full.test/").send().await.unwrap(); // evicts h17
    client.get("http://next.test/").send().await.unwrap(); // evicts full
    assert!(client.retry_budget("http://full.test/").is_none());
    assert!(client.retry_budget("http://h18.test/").is_some());
    assert_eq!(client.retry_budget_hosts(), 3);
}

/// Load amplification through an outage: attempts the server received ÷
/// calls made, for `waves` waves of `calls` concurrent calls one second
/// apart, all failing.
async fn outage(client: &Client, server: &MemoryServer, calls: usize, waves: usize) -> usize {
    let before = server.received();
    for _ in 0..waves {
        let tasks: Vec<_> = (0..calls)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move { client.get(&format!("/call/{i}")).send().await })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().is_err());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    server.received() - before
}

#[tokio::test(start_paused = true)]
async fn an_outage_costs_about_one_attempt_per_call() {
    const CALLS: usize = 100;
    const WAVES: usize = 3;
    let (server, builder) = down();
    let client = builder.build().unwrap();
    let attempts = outage(&client, &server, CALLS, WAVES).await;
    // The first failures take the bucket from 10 to 6 with a retry each
    // (more than half left); every later one is refused, and the 4 retries
    // fail too.
    assert_eq!(attempts, CALLS * WAVES + 4);
    // The README's bound: 1 + (max_tokens / 2) / calls.
    let calls = (CALLS * WAVES) as f64;
    let bound = 1.0 + (f64::from(DEFAULT_RETRY_BUDGET_TOKENS) / 2.0) / calls;
    let amplification = attempts as f64 / calls;
    assert!(amplification <= bound, "{amplification} > {bound}");
    let budget = client.retry_budget("/").unwrap();
    assert_eq!(budget.tokens(), 0);
    // Every call ends refused: 296 at their first failure, the 4 retried
    // ones at their second.
    assert_eq!(budget.refused(), CALLS * WAVES);

    // The server is back: a hundred successes refill the bucket.
    server.set_fallback(Reply::ok("ok"));
    for _ in 0..CALLS {
        client.get("/").send().await.unwrap();
    }
    assert_eq!(budget.tokens(), DEFAULT_RETRY_BUDGET_TOKENS);

    // Without a budget, every call makes all its attempts.
    let (server, builder) = down();
    let client = builder.no_retry_budget().build().unwrap();
    let attempts = outage(&client, &server, CALLS, WAVES).await;
    assert_eq!(attempts, CALLS * WAVES * (MAX_RETRIES as usize + 1));
}
