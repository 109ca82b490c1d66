//! Strategies written as user code (not tenace's built-ins), through
//! `tenace_hyper::Client` against the fault server on real sockets: per
//! request and as the client's default, with exact delays; per-call state
//! under concurrency; and per-call random streams that do not overlap.
//!
//! Real time with millisecond delays (the client's timers and real sockets
//! do not mix with paused time); the delays are read from `on_retry`
//! events, so they are exact whatever the scheduler does.

use core::time::Duration;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use tenace::rand_core::Rng;
use tenace::{RetryStrategy, SeededRng, StopReason};
use tenace_hyper::{Client, ClientBuilder};
use tenace_tests::fault_server::{Fault, FaultServer};
use tenace_tests::strategies::{UserDecorrelated, UserJitter};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The generator of a client's `k`-th call (from 0) when the client is
/// seeded with `seed`, as `ClientBuilder::rng_seed` documents it.
fn call_rng(seed: u64, k: usize) -> SeededRng {
    let mut seeds = SeededRng::new(seed);
    let mut call_seed = 0;
    for _ in 0..=k {
        call_seed = seeds.next_u64();
    }
    SeededRng::new(call_seed)
}

/// The delays `strategy` picks for `retries` retries on `rng`.
fn schedule(mut strategy: impl RetryStrategy, rng: &mut SeededRng, retries: u32) -> Vec<Duration> {
    (1..=retries).map(|n| strategy.delay(n, rng)).collect()
}

/// The delays of every retry, in order.
#[derive(Debug, Clone, Default)]
struct Delays(Arc<Mutex<Vec<Duration>>>);

impl Delays {
    fn hook(&self) -> impl Fn(&tenace::RetryEvent) + Send + Sync + 'static {
        let delays = Arc::clone(&self.0);
        move |ev| delays.lock().unwrap().push(ev.delay)
    }
    fn take(&self) -> Vec<Duration> {
        core::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Without a retry budget: these tests fail many calls in a row to see
/// every delay, which the default per-host budget would cut short.
fn client(server: &FaultServer, seed: u64, delays: &Delays) -> ClientBuilder {
    Client::builder()
        .base_url(server.url("/"))
        .rng_seed(seed)
        .timeout(ms(2000))
        .no_retry_budget()
        .on_retry(delays.hook())
}

#[tokio::test]
async fn a_user_jitter_per_request_waits_exactly_what_it_draws() {
    let server = FaultServer::start([Fault::status(503), Fault::status(502), Fault::ok("ok")]);
    let delays = Delays::default();
    // The client's own strategy is a built-in; this request brings its own.
    let api = client(&server, 7, &delays).build().unwrap();
    let jitter = UserJitter {
        min: ms(1),
        max: ms(5),
    };
    let response = api
        .get("/jitter")
        .retry_strategy(jitter.clone())
        .retry_transient_statuses()
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "ok");
    let seen = delays.take();
    assert_eq!(seen, schedule(jitter, &mut call_rng(7, 0), 2));
    assert!(seen.iter().all(|d| (ms(1)..=ms(5)).contains(d)), "{seen:?}");
    assert_eq!(server.received(), 3);
}

#[tokio::test]
async fn a_user_decorrelated_jitter_as_the_client_default_starts_each_call_from_base() {
    let server = FaultServer::start([
        // Call 0: four retries.
        Fault::status(503),
        Fault::status(503),
        Fault::status(503),
        Fault::status(503),
        Fault::ok("first"),
        // Call 1: two retries, from `base` again.
        Fault::status(503),
        Fault::status(503),
        Fault::ok("second"),
    ]);
    let delays = Delays::default();
    let strategy = UserDecorrelated::new(ms(1), ms(8));
    let api = client(&server, 11, &delays)
        .retry_strategy(strategy.clone())
        .retry_transient_statuses()
        .max_retries(4)
        .build()
        .unwrap();

    assert_eq!(api.get("/a").send().await.unwrap().text().unwrap(), "first");
    let first = delays.take();
    assert_eq!(first, schedule(strategy.clone(), &mut call_rng(11, 0), 4));
    assert_eq!(
        api.get("/b").send().await.unwrap().text().unwrap(),
        "second"
    );
    let second = delays.take();
    // A fresh copy on the second call's generator: the first call's last
    // delay does not widen the second call's first range.
    assert_eq!(second, schedule(strategy, &mut call_rng(11, 1), 2));

    for run in [&first, &second] {
        assert!((ms(1)..=ms(3)).contains(&run[0]), "{run:?}");
        for pair in run.windows(2) {
            assert!(
                pair[1] >= ms(1) && pair[1] <= (pair[0] * 3).min(ms(8)),
                "{run:?}"
            );
        }
    }
}

tokio::task_local! {
    /// Which of the concurrent calls is running.
    static CALL: usize;
}

#[tokio::test]
async fn concurrent_calls_each_have_their_own_decorrelated_state() {
    const CALLS: usize = 16;
    const RETRIES: u32 = 3;
    let server = FaultServer::builder()
        .fallback(Fault::status(503))
        .start()
        .unwrap();
    let strategy = UserDecorrelated::new(ms(1), ms(20));
    let per_call: Arc<Mutex<Vec<Vec<Duration>>>> = Arc::new(Mutex::new(vec![Vec::new(); CALLS]));
    let log = Arc::clone(&per_call);
    let api = Client::builder()
        .base_url(server.url("/"))
        .rng_seed(99)
        .timeout(ms(2000))
        .retry_strategy(strategy.clone())
        .retry_transient_statuses()
        .max_retries(RETRIES)
        // Sixteen calls failing at once: the default per-host budget would
        // refuse most of their retries, and this test needs every delay.
        .no_retry_budget()
        // The hook runs inside the call's future, so it sees the call's
        // task-local index.
        .on_retry(move |ev| {
            let call = CALL.get();
            log.lock().unwrap()[call].push(ev.delay);
        })
        .build()
        .unwrap();

    let tasks: Vec<_> = (0..CALLS)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(CALL.scope(i, async move { api.get("/busy").send().await }))
        })
        .collect();
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert_eq!(
            (err.reason(), err.attempts()),
            (StopReason::Exhausted, RETRIES + 1)
        );
    }

    // The calls took the client's call numbers 0..CALLS in some order; each
    // saw exactly a fresh strategy's schedule on its own generator.
    let expected: Vec<Vec<Duration>> = (0..CALLS)
        .map(|k| schedule(strategy.clone(), &mut call_rng(99, k), RETRIES))
        .collect();
    let per_call = per_call.lock().unwrap();
    let mut matched = BTreeSet::new();
    for run in per_call.iter() {
        assert_eq!(run.len(), RETRIES as usize);
        assert!(
            (ms(1)..=ms(3)).contains(&run[0]),
            "starts from base: {run:?}"
        );
        let k = expected
            .iter()
            .position(|e| e == run)
            .unwrap_or_else(|| panic!("{run:?} is no fresh schedule"));
        assert!(matched.insert(k), "two calls shared call number {k}");
    }
    assert_eq!(matched.len(), CALLS);
}

/// Records every raw draw and waits 1 ms.
#[derive(Debug, Clone, Default)]
struct RecordDraws(Arc<Mutex<Vec<u64>>>);

impl RetryStrategy for RecordDraws {
    fn delay<R: Rng + ?Sized>(&mut self, _attempt: u32, rng: &mut R) -> Duration {
        self.0.lock().unwrap().push(rng.next_u64());
        ms(1)
    }
    fn max_delay(&self) -> Duration {
        ms(1)
    }
}

#[tokio::test]
async fn consecutive_calls_draw_from_streams_that_do_not_overlap() {
    let server = FaultServer::builder()
        .fallback(Fault::status(503))
        .start()
        .unwrap();
    let draws = RecordDraws::default();
    let api = client(&server, 5, &Delays::default())
        .retry_strategy(draws.clone())
        .retry_transient_statuses()
        .max_retries(3)
        .build()
        .unwrap();
    for _ in 0..2 {
        let err = api.get("/x").send().await.unwrap_err();
        assert_eq!(err.reason(), StopReason::Exhausted);
    }
    let all = draws.0.lock().unwrap().clone();
    let (a, b) = all.split_at(3);

    let stream = |k| {
        let mut rng = call_rng(5, k);
        (0..3).map(|_| rng.next_u64()).collect::<Vec<_>>()
    };
    assert_eq!(a, stream(0));
    assert_eq!(b, stream(1));
    // Seeds stepped by SplitMix's own increment would make the second
    // call's stream the first one's shifted by one draw:
    let mut stepped = SeededRng::new(5 + 0x9E37_79B9_7F4A_7C15);
    let mut base = SeededRng::new(5);
    base.next_u64();
    assert_eq!(stepped.next_u64(), base.next_u64());
    // Mixed seeds do not.
    assert_ne!(b[0], a[1]);
    assert_ne!(b[..2], a[1..]);
    assert!(b.iter().all(|x| !a.contains(x)), "{a:x?} {b:x?}");
}
