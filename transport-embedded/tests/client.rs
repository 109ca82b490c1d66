//! The client's builder and per-request API against the fault server,
//! through reqwless over a std `TcpConnect`: strategies written as user code
//! (for the client and per request), hooks that add up in order, one hook
//! too many, predicates that compose, the replay rule, the attempts a
//! response reports, and one generator per call.

use core::cell::RefCell;
use core::time::Duration;

use std_embedded_nal_async::Stack;
use tenace::rand_core::Rng;
use tenace::{
    AttemptContext, CallOutcome, FailureKind, FixedDelay, Middleware, RetryEvent, StopReason,
    TransportError as _,
};
use tenace_embedded::{
    Client, ClientBuilder, Error, Head, HttpTransport, Request, RequestError, SeedSource, Timeouts,
};
use tenace_tests::fault_server::{Fault, FaultServer};
use tenace_tests::strategies::{UserDecorrelated, UserJitter};

const SEED: u64 = 0x5eed;
const STEP: Duration = Duration::from_millis(10);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn run<F: Future>(f: F) -> F::Output {
    async_io::block_on(f)
}

fn timeouts() -> Timeouts {
    Timeouts::DEFAULT
        .connect(Duration::from_secs(2))
        .exchange(ms(500))
        .body(ms(500))
}

/// Records the delay of every retry, per call.
#[derive(Debug, Default)]
struct Delays {
    current: RefCell<Vec<Duration>>,
    calls: RefCell<Vec<Vec<Duration>>>,
}

impl Middleware for Delays {
    fn on_retry(&self, event: &RetryEvent) {
        self.current.borrow_mut().push(event.delay);
    }
    fn after_call(&self, _outcome: &CallOutcome) {
        let delays = self.current.take();
        self.calls.borrow_mut().push(delays);
    }
}

impl Delays {
    fn calls(&self) -> Vec<Vec<Duration>> {
        self.calls.borrow().clone()
    }
}

/// Three resets, then success: a call that retries three times.
fn three_resets() -> [Fault; 4] {
    [
        Fault::ResetBeforeResponse,
        Fault::ResetBeforeResponse,
        Fault::ResetBeforeResponse,
        Fault::ok("ok"),
    ]
}

fn assert_jitter(delays: &[Duration], min: Duration, max: Duration) {
    assert_eq!(delays.len(), 3, "{delays:?}");
    for d in delays {
        assert!(*d >= min && *d <= max, "{d:?} outside [{min:?}, {max:?}]");
    }
}

fn assert_decorrelated(delays: &[Duration], base: Duration, cap: Duration) {
    assert_eq!(delays.len(), 3, "{delays:?}");
    let mut previous = base;
    for d in delays {
        let hi = (previous * 3).min(cap);
        assert!(*d >= base && *d <= hi, "{d:?} outside [{base:?}, {hi:?}]");
        previous = *d;
    }
}

#[test]
fn user_strategies_as_client_default_and_per_request() {
    let jitter = UserJitter {
        min: ms(5),
        max: ms(15),
    };
    let decorrelated = UserDecorrelated::new(ms(4), ms(30));
    let stack = Stack::default();
    let mut buffer = [0u8; 256];

    // The user's jitter as the client's strategy, the user's decorrelated
    // jitter for one request.
    let delays = Delays::default();
    let server = FaultServer::builder()
        .script(three_resets().into_iter().chain(three_resets()))
        .start()
        .expect("server");
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(jitter.clone())
    .middleware(&delays)
    .build()
    .expect("valid client");
    let response = run(client.get("/a").send(&mut buffer)).expect("the fourth attempt succeeds");
    assert_eq!(response.attempts(), 4);
    let response = run(client
        .get("/b")
        .retry_strategy(decorrelated.clone())
        .send(&mut buffer))
    .expect("the fourth attempt succeeds");
    assert_eq!(response.attempts(), 4);
    let calls = delays.calls();
    assert_jitter(&calls[0], ms(5), ms(15));
    assert_decorrelated(&calls[1], ms(4), ms(30));
    assert_eq!(response.slept(), calls[1].iter().sum::<Duration>());
    assert_eq!(server.received(), 8);

    // The other way round, twice with one client: each call starts its
    // decorrelated jitter from `base` again (its own clone of the strategy).
    let delays = Delays::default();
    let server = FaultServer::builder()
        .script(
            three_resets()
                .into_iter()
                .chain(three_resets())
                .chain(three_resets()),
        )
        .start()
        .expect("server");
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(decorrelated.clone())
    .middleware(&delays)
    .build()
    .expect("valid client");
    for _ in 0..2 {
        let response = run(client.get("/c").send(&mut buffer)).expect("succeeds");
        assert_eq!(response.attempts(), 4);
    }
    let response = run(client
        .get("/d")
        .retry_strategy(jitter.clone())
        .send(&mut buffer))
    .expect("succeeds");
    assert_eq!(response.attempts(), 4);
    let calls = delays.calls();
    assert_decorrelated(&calls[0], ms(4), ms(30));
    assert_decorrelated(&calls[1], ms(4), ms(30));
    assert_jitter(&calls[2], ms(5), ms(15));
    // Each call draws its own generator: the two calls' jitter differs.
    assert_ne!(calls[0], calls[1]);

    // The same seed gives the same schedule; delays follow the seed.
    let schedule = |seed: u64| {
        let delays = Delays::default();
        let server = FaultServer::start(three_resets());
        let base = server.url("/");
        let client = Client::builder(
            HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
            seed,
        )
        .base_url(&base)
        .retry_strategy(decorrelated.clone())
        .middleware(&delays)
        .build()
        .expect("valid client");
        let mut buffer = [0u8; 256];
        run(client.get("/e").send(&mut buffer)).expect("succeeds");
        delays.calls().remove(0)
    };
    assert_eq!(schedule(SEED), calls[0]);
    assert_ne!(schedule(SEED + 1), calls[0]);
}

#[test]
fn a_seed_from_a_generator() {
    // `&mut rng` is a seed source: it gives one draw.
    let mut rng = tenace::SeededRng::new(9);
    let expected = tenace::SeededRng::new(9).next_u64();
    assert_eq!((&mut rng).into_seed(), expected);
    let stack = Stack::default();
    let mut rng = tenace::SeededRng::new(9);
    let client = Client::builder(HttpTransport::new(&stack, &stack), &mut rng)
        .build()
        .expect("valid client");
    assert_eq!(client.hooks(), (0, 0, 0));
}

#[test]
fn hooks_add_up_in_order() {
    static TAGGED: [(&str, &str); 1] = [("X-Tag", "second")];
    let server = FaultServer::start([Fault::status(503), Fault::ok("ok")]);
    let base = server.url("/");
    let stack = Stack::default();
    let log = RefCell::new(Vec::<String>::new());
    let first = |_: &mut Request<'_>, cx: &AttemptContext| {
        log.borrow_mut()
            .push(format!("request 1, attempt {}", cx.attempt));
        Ok::<(), Error>(())
    };
    let second = |req: &mut Request<'_>, cx: &AttemptContext| {
        log.borrow_mut()
            .push(format!("request 2, attempt {}", cx.attempt));
        req.headers = &TAGGED;
        Ok::<(), Error>(())
    };
    let seen = |head: Head, _: &AttemptContext| {
        log.borrow_mut()
            .push(format!("response 1: {}", head.status()));
        Ok::<Head, Error>(head)
    };
    // The second response interceptor turns a 503 into an error.
    let raise = |head: Head, _: &AttemptContext| {
        log.borrow_mut()
            .push(format!("response 2: {}", head.status()));
        if head.status() == 503 {
            Err(Error::Status {
                status: 503,
                retry_after: None,
            })
        } else {
            Ok(head)
        }
    };
    let a =
        tenace::on_retry(|e: &RetryEvent| log.borrow_mut().push(format!("a: retry {}", e.attempt)));
    let b =
        tenace::on_retry(|e: &RetryEvent| log.borrow_mut().push(format!("b: retry {}", e.attempt)));
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .retry_on(&tenace::TransientErrors)
    .request_interceptor(&first)
    .middleware(&a)
    .request_interceptor(&second)
    .response_interceptor(&seen)
    .middleware(&b)
    .response_interceptor(&raise)
    .build()
    .expect("valid client");
    assert_eq!(client.hooks(), (2, 2, 2));
    let mut buffer = [0u8; 256];
    let response = run(client.get("/h").send(&mut buffer)).expect("the retry succeeds");
    assert_eq!(response.attempts(), 2);
    assert_eq!(
        *log.borrow(),
        [
            "request 1, attempt 1",
            "request 2, attempt 1",
            "response 1: 503",
            "response 2: 503",
            "a: retry 1",
            "b: retry 1",
            "request 1, attempt 2",
            "request 2, attempt 2",
            "response 1: 200",
            "response 2: 200",
        ]
    );
    assert_eq!(server.requests()[0].header("X-Tag"), Some("second"));
}

#[test]
fn one_hook_too_many_is_a_build_error() {
    let stack = Stack::default();
    let http = || HttpTransport::new(&stack, &stack);
    let hook = |_: &mut Request<'_>, _: &AttemptContext| Ok::<(), Error>(());
    let response = |head: Head, _: &AttemptContext| Ok::<Head, Error>(head);
    let middleware = tenace::on_retry(|_: &RetryEvent| {});

    // Two of each fit in `HOOKS = 2`.
    let two = ClientBuilder::<_, _, 256, 8, 2>::new(http(), SEED)
        .request_interceptor(&hook)
        .request_interceptor(&hook)
        .response_interceptor(&response)
        .response_interceptor(&response)
        .middleware(&middleware)
        .middleware(&middleware)
        .build()
        .map(|c| c.hooks());
    assert_eq!(two.ok(), Some((2, 2, 2)));

    let three_requests = ClientBuilder::<_, _, 256, 8, 2>::new(http(), SEED)
        .request_interceptor(&hook)
        .request_interceptor(&hook)
        .request_interceptor(&hook)
        .build();
    assert_eq!(three_requests.err(), Some(RequestError::TooManyHooks));
    let three_responses = ClientBuilder::<_, _, 256, 8, 2>::new(http(), SEED)
        .response_interceptor(&response)
        .response_interceptor(&response)
        .response_interceptor(&response)
        .build();
    assert_eq!(three_responses.err(), Some(RequestError::TooManyHooks));
    let three_middleware = ClientBuilder::<_, _, 256, 8, 2>::new(http(), SEED)
        .middleware(&middleware)
        .middleware(&middleware)
        .middleware(&middleware)
        .build();
    assert_eq!(three_middleware.err(), Some(RequestError::TooManyHooks));
    // Nothing is silently dropped: a later valid call does not clear it.
    let still = ClientBuilder::<_, _, 256, 8, 0>::new(http(), SEED)
        .middleware(&middleware)
        .max_retries(1)
        .build();
    assert_eq!(still.err(), Some(RequestError::TooManyHooks));
}

#[test]
fn retry_on_and_transient_statuses_compose_in_either_order() {
    let conflict = |e: &Error| matches!(e, Error::Status { status: 409, .. });
    let stack = Stack::default();
    let mut buffer = [0u8; 256];
    for order in ["predicate first", "statuses first"] {
        let server = FaultServer::start([Fault::status(409), Fault::status(503), Fault::ok("ok")]);
        let base = server.url("/");
        let builder = Client::builder(
            HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
            SEED,
        )
        .base_url(&base)
        .retry_strategy(FixedDelay::new(STEP));
        let builder = if order == "predicate first" {
            builder.retry_on(&conflict).retry_transient_statuses()
        } else {
            builder.retry_transient_statuses().retry_on(&conflict)
        };
        let client = builder.build().expect("valid client");
        let response = run(client.get("/c").send(&mut buffer)).expect(order);
        assert_eq!(response.attempts(), 3, "{order}");
        assert_eq!(server.received(), 3, "{order}");
    }

    // The predicate alone replaces the default: 409 is retried, 503 is not.
    let server = FaultServer::start([Fault::status(409), Fault::status(503)]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .error_for_status(true)
    .retry_on(&conflict)
    .build()
    .expect("valid client");
    let err = run(client.get("/c").send(&mut buffer)).expect_err("503 not retried");
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert_eq!(
        err.last_error().map(|e| e.kind()),
        Some(FailureKind::Status(503))
    );

    // Per request, a predicate of its own (statuses still count).
    let server = FaultServer::start([Fault::status(418), Fault::status(503), Fault::ok("ok")]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .retry_transient_statuses()
    .build()
    .expect("valid client");
    let teapot = |e: &Error| matches!(e, Error::Status { status: 418, .. });
    let response = run(client.get("/t").retry_on(&teapot).send(&mut buffer)).expect("retried");
    assert_eq!(response.attempts(), 3);
}

#[test]
fn one_replay_rule() {
    let stack = Stack::default();
    let mut buffer = [0u8; 256];
    let reset_then_ok = || FaultServer::start([Fault::ResetBeforeResponse, Fault::ok("ok")]);

    // An Idempotency-Key among the client's default headers makes a POST
    // safe to replay.
    let server = reset_then_ok();
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .default_header("Idempotency-Key", "boot-17")
    .retry_strategy(FixedDelay::new(STEP))
    .build()
    .expect("valid client");
    let response = run(client.post("/p").body(b"x").send(&mut buffer)).expect("replayed");
    assert_eq!(response.attempts(), 2);
    assert_eq!(server.received_with_method("POST"), 2);

    // ... unless the request is marked unsafe.
    let server = reset_then_ok();
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .build()
    .expect("valid client");
    let err = run(client
        .post("/p")
        .headers(&[("idempotency-key", "r-1")])
        .body(b"x")
        .retry_safe(false)
        .send(&mut buffer))
    .expect_err("not replayed");
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(server.received_with_method("POST"), 1);

    // A key in the request's own headers, in any case.
    let response = run(client
        .post("/p")
        .headers(&[("IDEMPOTENCY-KEY", "r-2")])
        .body(b"x")
        .send(&mut buffer));
    assert_eq!(
        response.map(|r| r.body().to_vec()).ok(),
        Some(b"ok".to_vec())
    );

    // A GET marked unsafe is not replayed either.
    let server = reset_then_ok();
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .build()
    .expect("valid client");
    let err = run(client.get("/g").retry_safe(false).send(&mut buffer)).expect_err("not replayed");
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.received(), 1);
}

#[test]
fn responses_report_attempts_and_sleep() {
    let server = FaultServer::start([
        Fault::ResetBeforeResponse,
        Fault::status(503),
        Fault::ok("third"),
        Fault::ok("first"),
    ]);
    let base = server.url("/");
    let stack = Stack::default();
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .retry_transient_statuses()
    .build()
    .expect("valid client");
    let mut buffer = [0u8; 256];
    let response = run(client.get("/r").send(&mut buffer)).expect("the third attempt succeeds");
    assert_eq!(response.body(), b"third");
    assert_eq!(response.attempts(), 3);
    assert_eq!(response.slept(), STEP * 2);
    let response = run(client.get("/r").send(&mut buffer)).expect("at once");
    assert_eq!(response.body(), b"first");
    assert_eq!(response.attempts(), 1);
    assert_eq!(response.slept(), Duration::ZERO);
}
