//! The `Client` over an in-memory connection, under paused tokio time: every
//! schedule is asserted exactly.

mod common;

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Arc;

use common::{Delays, MemoryServer, Reply};
use tenace::{ExponentialBackoff, FailureKind, FixedDelay, Never, StopReason, TransportError};
use tenace_hyper::interceptor::Auth;
use tenace_hyper::{Client, Error};
use tenace_tests::hostile::LastError;
use tokio::time::Instant;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn exponential() -> ExponentialBackoff {
    ExponentialBackoff::new(ms(100), 2, secs(10)).unwrap()
}

fn arrivals(server: &MemoryServer) -> Vec<u128> {
    server.seen().iter().map(|s| s.at_ms).collect()
}

#[tokio::test(start_paused = true)]
async fn transient_statuses_follow_the_exponential_schedule_exactly() {
    let server = MemoryServer::new([Reply::status(503), Reply::status(502), Reply::ok("done")]);
    let delays = Delays::default();
    let client = server
        .client()
        .retry_strategy(exponential())
        .retry_transient_statuses()
        .on_retry(delays.hook())
        .build()
        .unwrap();
    let started = Instant::now();
    let response = client.get("/x").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().unwrap(), "done");
    assert_eq!(delays.delays(), [ms(200), ms(400)]);
    assert_eq!(delays.kinds(), ["status 503", "status 502"]);
    assert_eq!(started.elapsed(), ms(600));
    assert_eq!(arrivals(&server), [0, 200, 600]);
}

#[tokio::test(start_paused = true)]
async fn by_default_an_error_status_is_a_response() {
    let server = MemoryServer::new([Reply::status(500)]);
    let client = server
        .client()
        .retry_strategy(exponential())
        .build()
        .unwrap();
    let response = client.get("/x").send().await.unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(server.received(), 1);
    // The status check after the fact, on a response already in hand.
    let err = response.error_for_status().unwrap_err();
    assert_eq!(err.kind(), FailureKind::Status(500));
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_lengthens_the_delay() {
    let server = MemoryServer::new([Reply::retry_after(429, "3"), Reply::ok("ok")]);
    let delays = Delays::default();
    let client = server
        .client()
        .retry_strategy(exponential())
        .retry_transient_statuses()
        .on_retry(delays.hook())
        .build()
        .unwrap();
    let started = Instant::now();
    client.get("/x").send().await.unwrap();
    assert_eq!(delays.delays(), [secs(3)]);
    assert_eq!(started.elapsed(), secs(3));
    assert_eq!(arrivals(&server), [0, 3000]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_above_max_delay_is_still_a_floor() {
    let server = MemoryServer::new([Reply::retry_after(503, "120"), Reply::ok("ok")]);
    let delays = Delays::default();
    let client = server
        .client()
        .retry_strategy(ExponentialBackoff::new(ms(100), 2, secs(5)).unwrap())
        .retry_transient_statuses()
        .on_retry(delays.hook())
        .build()
        .unwrap();
    let started = Instant::now();
    client.get("/x").send().await.unwrap();
    assert_eq!(delays.delays(), [secs(120)]);
    assert_eq!(started.elapsed(), secs(120));
    assert_eq!(server.received(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_above_the_cap_stops_at_once_with_the_servers_wait() {
    let server = MemoryServer::new([Reply::retry_after(503, "301"), Reply::ok("ok")]);
    let client = server.client().retry_transient_statuses().build().unwrap();
    let started = Instant::now();
    let err = client.get("/x").send().await.unwrap_err();
    assert_eq!(err.reason(), StopReason::ServerWait(secs(301)));
    assert_eq!(err.server_wait(), Some(secs(301)));
    assert_eq!(err.attempts(), 1);
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(server.received(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_past_the_deadline_stops_without_sleeping() {
    let server = MemoryServer::new([Reply::retry_after(429, "5"), Reply::ok("ok")]);
    let client = server
        .client()
        .retry_strategy(exponential())
        .retry_transient_statuses()
        .deadline(secs(2))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.get("/x").send().await.unwrap_err();
    assert_eq!(err.reason(), StopReason::ServerWait(secs(5)));
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.last_error().unwrap().status().unwrap(), 429);
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(server.received(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_read_against_the_response_date() {
    // The server's clock says 1994: the delay is the difference of the two
    // server times, whatever the local clock says.
    let headers = vec![
        ("date", "Sun, 06 Nov 1994 08:49:37 GMT".to_owned()),
        ("retry-after", "Sun, 06 Nov 1994 08:49:39 GMT".to_owned()),
    ];
    let server = MemoryServer::new([Reply::Status(429, headers, ""), Reply::ok("ok")]);
    let delays = Delays::default();
    let client = server
        .client()
        .retry_strategy(exponential())
        .retry_transient_statuses()
        .on_retry(delays.hook())
        .build()
        .unwrap();
    client.get("/x").send().await.unwrap();
    assert_eq!(delays.delays(), [secs(2)]);
}

#[tokio::test(start_paused = true)]
async fn the_hostile_plain_answers_take_exactly_their_delays() {
    // The hostile suite's scenarios made of plain answers (its
    // `Retry-After` rows and its deadline rows), which both adapters run on
    // real sockets within a margin, served from memory: on paused time the
    // call takes exactly the delays it chose.
    let mut rows = 0;
    for scenario in tenace_tests::hostile::all() {
        let Some(answers) = scenario.plain_answers() else {
            continue;
        };
        rows += 1;
        let (name, setup, expected) = (&scenario.name, scenario.setup, &scenario.expected);
        let server = MemoryServer::new(
            answers
                .into_iter()
                .map(|(status, headers, body)| Reply::Raw(status, headers, body)),
        );
        let recorded = Delays::default();
        let builder = server
            .client()
            .retry_strategy(ExponentialBackoff::new(ms(10), 2, setup.max_delay).unwrap())
            .max_retries(setup.max_retries)
            .retry_transient_statuses()
            .on_retry(recorded.hook());
        let client = setup
            .apply(
                builder,
                |b, d| b.timeout(d),
                |b, d| b.deadline(d),
                |b, d| b.retry_after_cap(d),
            )
            .build()
            .unwrap();
        let started = Instant::now();
        let result = client.get(scenario.path).send().await;
        let elapsed = started.elapsed();

        let delays: Vec<Duration> = expected.retries.iter().map(|r| r.1).collect();
        let kinds: Vec<String> = expected.retries.iter().map(|r| r.0.to_string()).collect();
        assert_eq!(recorded.delays(), delays, "{name}");
        assert_eq!(recorded.kinds(), kinds, "{name}");
        assert_eq!(elapsed, delays.iter().sum::<Duration>(), "{name}");
        assert_eq!(server.received(), expected.received, "{name}");
        match (result, &expected.result) {
            (Ok(response), Ok(body)) => assert_eq!(response.bytes().to_vec(), *body, "{name}"),
            (
                Err(err),
                Err((
                    reason,
                    attempts,
                    LastError::Status {
                        status,
                        retry_after,
                    },
                )),
            ) => {
                assert_eq!(
                    (err.reason(), err.attempts()),
                    (*reason, *attempts),
                    "{name}"
                );
                let last = err.last_error().unwrap();
                assert_eq!(
                    (last.kind(), last.retry_after()),
                    (FailureKind::Status(*status), *retry_after),
                    "{name}"
                );
            }
            (got, want) => panic!("{name}: expected {want:?}, got a response: {}", got.is_ok()),
        }
    }
    assert_eq!(rows, 19);
}

#[tokio::test(start_paused = true)]
async fn the_first_valid_retry_after_counts() {
    let headers = vec![
        ("retry-after", "soon".to_owned()),
        ("retry-after", "-1".to_owned()),
        ("retry-after", "4".to_owned()),
        ("retry-after", "9".to_owned()),
    ];
    let server = MemoryServer::new([Reply::Status(503, headers, ""), Reply::ok("ok")]);
    let delays = Delays::default();
    let client = server
        .client()
        .retry_strategy(exponential())
        .retry_transient_statuses()
        .on_retry(delays.hook())
        .build()
        .unwrap();
    client.get("/x").send().await.unwrap();
    assert_eq!(delays.delays(), [secs(4)]);
}

#[tokio::test(start_paused = true)]
async fn per_request_settings_override_the_client_for_that_request_only() {
    let server = MemoryServer::new(core::iter::repeat_n(Reply::status(503), 20));
    let delays = Delays::default();
    // Seven failures in a row: the default budget (10 tokens) would refuse
    // the second call's retry, and this test is about the overrides.
    let client = server
        .client()
        .max_retries(1)
        .retry_strategy(FixedDelay::new(ms(100)))
        .retry_transient_statuses()
        .no_retry_budget()
        .on_retry(delays.hook())
        .build()
        .unwrap();

    let err = client
        .get("/a")
        .max_retries(3)
        .retry_strategy(FixedDelay::new(ms(250)))
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 4));
    assert_eq!(delays.delays(), [ms(250); 3]);

    let err = client.get("/b").send().await.unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 2));
    assert_eq!(delays.delays()[3..], [ms(100)]);

    let err = client.get("/c").retry_on(Never).send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert_eq!(server.received(), 4 + 2 + 1);
}

#[tokio::test(start_paused = true)]
async fn an_attempt_that_hangs_times_out_on_schedule() {
    let server = MemoryServer::new([Reply::Hang, Reply::Hang, Reply::Hang]);
    let client = server
        .client()
        .max_retries(2)
        .retry_strategy(FixedDelay::new(ms(500)))
        .timeout(secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.get("/slow").send().await.unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert!(matches!(err.last_error(), Some(Error::Timeout(d)) if *d == secs(1)));
    // 1 s attempt, 0.5 s sleep, 1 s, 0.5 s, 1 s.
    assert_eq!(started.elapsed(), secs(4));
    assert_eq!(arrivals(&server), [0, 1500, 3000]);
}

#[tokio::test(start_paused = true)]
async fn a_post_is_not_replayed_after_it_may_have_reached_the_server() {
    let server = MemoryServer::new([Reply::Drop, Reply::ok("created")]);
    let client = server
        .client()
        .retry_strategy(exponential())
        .build()
        .unwrap();
    let err = client
        .post("/orders")
        .body("{\"qty\":1}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert_eq!(err.last_error().unwrap().kind(), FailureKind::Io);
    assert_eq!(server.received(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_idempotency_key_makes_a_post_replayable_with_the_same_body() {
    let server = MemoryServer::new([Reply::Drop, Reply::ok("created")]);
    let client = server
        .client()
        .retry_strategy(exponential())
        .build()
        .unwrap();
    let response = client
        .post("/orders")
        .idempotency_key("order-42")
        .body("{\"qty\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "created");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.headers["idempotency-key"], "order-42");
        assert_eq!(s.body, "{\"qty\":1}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_token_provider_is_awaited_on_every_attempt() {
    let server = MemoryServer::new([Reply::status(503), Reply::status(503), Reply::ok("ok")]);
    let calls = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&calls);
    let client = server
        .client()
        .retry_strategy(exponential())
        .retry_transient_statuses()
        .auth(Auth::bearer(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                tokio::time::sleep(ms(10)).await; // a provider that awaits
                Ok::<_, std::io::Error>(format!("token-{n}"))
            }
        }))
        .build()
        .unwrap();
    client.get("/me").send().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let tokens: Vec<_> = server
        .seen()
        .iter()
        .map(|s| s.headers["authorization"].clone())
        .collect();
    assert_eq!(
        tokens,
        ["Bearer token-1", "Bearer token-2", "Bearer token-3"]
    );
    // The provider's 10 ms is part of each attempt; the delays are 200 and 400 ms.
    assert_eq!(arrivals(&server), [10, 220, 630]);
}

#[tokio::test(start_paused = true)]
async fn request_interceptors_run_on_a_fresh_copy_each_attempt() {
    let server = MemoryServer::new([Reply::Drop, Reply::ok("ok")]);
    let client = server
        .client()
        .retry_strategy(exponential())
        .default_header("x-client", "tests")
        .request_interceptor(|req, cx| {
            req.headers_mut().append("x-attempt", cx.attempt.into());
            Ok(())
        })
        .build()
        .unwrap();
    client.get("/x").send().await.unwrap();
    let seen = server.seen();
    let values: Vec<Vec<_>> = seen
        .iter()
        .map(|s| {
            s.headers
                .get_all("x-attempt")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(values, [vec!["1"], vec!["2"]]);
    assert!(seen.iter().all(|s| s.headers["x-client"] == "tests"));
}

#[tokio::test(start_paused = true)]
async fn a_response_interceptor_can_turn_a_response_into_a_retryable_error() {
    let server = MemoryServer::new([Reply::ok("pending"), Reply::ok("ready")]);
    let client = server
        .client()
        .retry_strategy(FixedDelay::new(ms(50)))
        .response_interceptor(|resp, _cx| {
            if resp.bytes().as_ref() == b"pending" {
                Err(Error::interceptor("not ready yet"))
            } else {
                Ok(resp)
            }
        })
        .retry_on(|e: &Error| matches!(e, Error::Interceptor(_)))
        .build()
        .unwrap();
    let started = Instant::now();
    let response = client.get("/job").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "ready");
    assert_eq!(started.elapsed(), ms(50));
    assert_eq!(server.received(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_client_error_status_is_not_retried_by_the_transient_policy() {
    let server = MemoryServer::new([
        Reply::Status(404, Vec::new(), "no such user"),
        Reply::ok("ok"),
    ]);
    let client = server
        .client()
        .retry_strategy(exponential())
        .retry_transient_statuses()
        .build()
        .unwrap();
    let err = client.get("/users/7").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    let last = err.last_error().unwrap();
    assert_eq!(last.status().unwrap(), 404);
    assert_eq!(last.response().unwrap().text().unwrap(), "no such user");
    assert_eq!(server.received(), 1);
}

#[tokio::test(start_paused = true)]
async fn middleware_sees_every_call_end() {
    #[derive(Clone, Default)]
    struct Count(Arc<AtomicUsize>, Arc<AtomicU32>);
    impl tenace::Middleware for Count {
        fn after_call(&self, outcome: &tenace::CallOutcome) {
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.store(outcome.attempts, Ordering::SeqCst);
        }
    }
    let count = Count::default();
    let server = MemoryServer::new([Reply::Drop, Reply::Drop, Reply::ok("ok")]);
    let client = server
        .client()
        .retry_strategy(exponential())
        .middleware(count.clone())
        .build()
        .unwrap();
    client.get("/x").send().await.unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(count.1.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn a_body_over_the_limit_is_an_error_not_retried() {
    let server = MemoryServer::new([Reply::ok("0123456789"), Reply::ok("ok")]);
    let client = server
        .client()
        .retry_strategy(exponential())
        .max_response_bytes(4)
        .build()
        .unwrap();
    let err = client.get("/big").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(
        err.last_error(),
        Some(Error::BodyTooLarge { limit: 4 })
    ));
    assert_eq!(server.received(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_invalid_url_fails_before_any_attempt() {
    let client = Client::new().unwrap();
    let err = client
        .get("/relative/without/base")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 0)
    );
    assert!(matches!(err.last_error(), Some(Error::InvalidUrl(_))));
    let err = client.get("http://bad host/").send().await.unwrap_err();
    assert!(matches!(err.last_error(), Some(Error::InvalidUrl(_))));
    let err = client
        .get("http://x.test/")
        .header("bad header", "v")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err.last_error(), Some(Error::InvalidRequest(_))));
}

#[cfg(not(feature = "rustls"))]
#[tokio::test(start_paused = true)]
async fn https_without_the_rustls_feature_is_refused_before_sending() {
    let client = Client::builder()
        .retry_strategy(exponential())
        .build()
        .unwrap();
    let err = client.get("https://127.0.0.1:1/").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(err.last_error(), Some(Error::InvalidUrl(_))));
}

#[test]
fn base_urls_join_with_one_slash() {
    let server_less = |base: &str, path: &str| {
        let client = Client::builder().base_url(base).build().unwrap();
        client.get(path).build().unwrap().uri().to_string()
    };
    assert_eq!(
        server_less("http://h.test/api/", "/users"),
        "http://h.test/api/users"
    );
    assert_eq!(
        server_less("http://h.test/api", "users?page=2"),
        "http://h.test/api/users?page=2"
    );
    assert_eq!(server_less("http://h.test", ""), "http://h.test/");
    assert_eq!(
        server_less("http://h.test/api", "http://other.test/x"),
        "http://other.test/x"
    );
    assert!(matches!(
        Client::builder().base_url("not a url").build(),
        Err(Error::InvalidUrl(_))
    ));
    assert!(matches!(
        Client::builder().base_url("/just/a/path").build(),
        Err(Error::InvalidUrl(_))
    ));
}

#[tokio::test]
async fn the_call_future_is_send_and_spawnable() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let server = MemoryServer::new([Reply::ok("spawned")]);
    let client = server.client().build().unwrap();
    let call = client.get("/x").send();
    assert_send(&call);
    let response = tokio::spawn(call).await.unwrap().unwrap();
    assert_eq!(response.text().unwrap(), "spawned");
}

#[cfg(feature = "json")]
#[tokio::test(start_paused = true)]
async fn json_bodies_round_trip() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Order {
        id: u32,
        item: String,
    }
    let server = MemoryServer::new([Reply::Status(201, Vec::new(), r#"{"id":7,"item":"tea"}"#)]);
    let client = server.client().build().unwrap();
    let response = client
        .post("/orders")
        .json(&Order {
            id: 0,
            item: "tea".into(),
        })
        .send()
        .await
        .unwrap();
    let order: Order = response.json().unwrap();
    assert_eq!(
        order,
        Order {
            id: 7,
            item: "tea".into()
        }
    );
    let seen = server.seen();
    assert_eq!(seen[0].headers["content-type"], "application/json");
    assert_eq!(seen[0].body, r#"{"id":0,"item":"tea"}"#);
    assert!(matches!(response.json::<Vec<u8>>(), Err(Error::Decode(_))));
}

#[tokio::test(start_paused = true)]
async fn the_transport_alone_drives_tenace_retry() {
    let server = MemoryServer::new([Reply::Drop, Reply::ok("via the transport")]);
    let connect_to = server.clone();
    let transport = tenace_hyper::HyperTransport::builder()
        .connect_with(move |_uri| {
            let server = connect_to.clone();
            async move { Ok::<_, std::io::Error>(server.connect()) }
        })
        .build()
        .unwrap();
    let policy = tenace::Policy::new(FixedDelay::new(ms(30)));
    let request =
        tenace_hyper::Request::new(http::Method::GET, "http://memory.test/t".parse().unwrap());
    let started = Instant::now();
    let response = tenace::retry(
        &transport,
        &tenace_hyper::TokioClock::new(),
        &policy,
        &mut tenace::SeededRng::new(3),
        request,
    )
    .await
    .unwrap();
    assert_eq!(response.attempts, 2);
    assert_eq!(response.value.text().unwrap(), "via the transport");
    assert_eq!(started.elapsed(), ms(30));
    assert_eq!(arrivals(&server), [0, 30]);
}

#[tokio::test(start_paused = true)]
async fn execute_and_head_use_the_client_policy() {
    let server = MemoryServer::new([Reply::Drop, Reply::ok("body"), Reply::ok("ignored")]);
    let client = server
        .client()
        .retry_strategy(FixedDelay::new(ms(10)))
        .build()
        .unwrap();
    let request = client
        .get("/prepared")
        .header("x-trace", "7")
        .build()
        .unwrap();
    let response = client.execute(request).await.unwrap();
    assert_eq!(response.text().unwrap(), "body");
    let head = client.head("/h").send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.bytes().is_empty());
    let seen = server.seen();
    assert_eq!(
        seen.iter().map(|s| s.method.as_str()).collect::<Vec<_>>(),
        ["GET", "GET", "HEAD"]
    );
    assert_eq!(seen[1].headers["x-trace"], "7");
}

#[tokio::test(start_paused = true)]
async fn send_and_execute_futures_outlive_the_client_and_can_be_spawned() {
    let server = MemoryServer::new([Reply::Drop, Reply::ok("executed"), Reply::ok("sent")]);
    let client = server
        .client()
        .retry_strategy(FixedDelay::new(ms(10)))
        .build()
        .unwrap();
    let request = client.get("/prepared").build().unwrap();
    let executed = tokio::spawn(client.execute(request));
    let sent = client.get("/built").send();
    drop(client);
    let response = executed.await.unwrap().unwrap();
    assert_eq!(
        (response.text().unwrap(), response.attempts()),
        ("executed", 2)
    );
    assert_eq!(
        tokio::spawn(sent).await.unwrap().unwrap().text().unwrap(),
        "sent"
    );
}
