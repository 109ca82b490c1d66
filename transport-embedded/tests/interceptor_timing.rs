//! When the embedded client's interceptors run, against the fault server
//! through reqwless over a std `TcpConnect`: per-attempt ones on every
//! attempt, `request_interceptor_once` once per call (its change on every
//! attempt sent), `response_interceptor_final` on the response the call
//! returns only; both share their kind's `HOOKS` capacity.

use core::cell::RefCell;
use core::time::Duration;

use std_embedded_nal_async::Stack;
use tenace::{AttemptContext, FixedDelay, StopReason};
use tenace_embedded::{
    Client, ClientBuilder, Error, Head, HttpTransport, Request, RequestError, Timeouts,
};
use tenace_tests::fault_server::{Fault, FaultServer};

const SEED: u64 = 0x5eed;
const STEP: Duration = Duration::from_millis(10);
static ONCE: [(&str, &str); 1] = [("X-Call", "once")];

fn run<F: Future>(f: F) -> F::Output {
    async_io::block_on(f)
}

fn timeouts() -> Timeouts {
    Timeouts::DEFAULT
        .connect(Duration::from_secs(2))
        .exchange(Duration::from_millis(500))
        .body(Duration::from_millis(500))
}

/// Turns a 503 into an error, which `TransientErrors` retries.
fn raise(head: Head) -> Result<Head, Error> {
    if head.status() == 503 {
        Err(Error::Status {
            status: 503,
            retry_after: None,
        })
    } else {
        Ok(head)
    }
}

/// A call's outcome: status and attempts, or the stop and attempts.
type Outcome = Result<(u16, u32), (StopReason, u32)>;

/// Runs one call to `server` with hooks of every timing (the once-per-call
/// and final-only ones added first and last) and returns the call's outcome
/// and the hooks' log.
fn call_logged(server: &FaultServer, max_retries: u32) -> (Outcome, Vec<String>) {
    let base = server.url("/");
    let stack = Stack::default();
    let log = RefCell::new(Vec::<String>::new());
    let once = |req: &mut Request<'_>, cx: &AttemptContext| {
        log.borrow_mut()
            .push(format!("once: attempt {} at {:?}", cx.attempt, cx.elapsed));
        req.headers = &ONCE;
        Ok::<(), Error>(())
    };
    let each = |req: &mut Request<'_>, cx: &AttemptContext| {
        // The once-per-call change is already on this attempt's copy.
        log.borrow_mut().push(format!(
            "request: attempt {}, {:?}",
            cx.attempt, req.headers
        ));
        Ok::<(), Error>(())
    };
    let seen = |head: Head, cx: &AttemptContext| {
        log.borrow_mut().push(format!(
            "response: attempt {}, {}",
            cx.attempt,
            head.status()
        ));
        raise(head)
    };
    let last = |head: Head, cx: &AttemptContext| {
        log.borrow_mut()
            .push(format!("final: attempt {}, {}", cx.attempt, head.status()));
        Ok::<Head, Error>(head)
    };
    let client = ClientBuilder::<_, _, 256, 8, 2>::new(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .max_retries(max_retries)
    .retry_on(&tenace::TransientErrors)
    .response_interceptor_final(&last)
    .request_interceptor(&each)
    .response_interceptor(&seen)
    .request_interceptor_once(&once)
    .build()
    .expect("valid client");
    assert_eq!(client.hooks(), (2, 2, 0));
    let mut buffer = [0u8; 256];
    let outcome = run(client.get("/t").send(&mut buffer))
        .map(|r| (r.status(), r.attempts()))
        .map_err(|e| (e.reason(), e.attempts()));
    drop(client);
    (outcome, log.into_inner())
}

const CALL_HEADER: &str = r#"[("X-Call", "once")]"#;

#[test]
fn three_attempts_run_per_attempt_hooks_three_times_and_the_others_once() {
    let server = FaultServer::start([Fault::status(503), Fault::status(503), Fault::ok("ok")]);
    let (outcome, log) = call_logged(&server, 3);
    assert_eq!(outcome, Ok((200, 3)));
    assert_eq!(
        log,
        [
            "once: attempt 1 at 0ns".to_owned(),
            format!("request: attempt 1, {CALL_HEADER}"),
            "response: attempt 1, 503".to_owned(),
            format!("request: attempt 2, {CALL_HEADER}"),
            "response: attempt 2, 503".to_owned(),
            format!("request: attempt 3, {CALL_HEADER}"),
            "response: attempt 3, 200".to_owned(),
            "final: attempt 3, 200".to_owned(),
        ]
    );
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    for request in sent {
        assert_eq!(request.header("X-Call"), Some("once"));
    }
}

#[test]
fn an_error_ending_reaches_no_final_only_hook() {
    let server = FaultServer::start([Fault::status(503), Fault::status(503), Fault::status(503)]);
    let (outcome, log) = call_logged(&server, 2);
    assert_eq!(outcome, Err((StopReason::Exhausted, 3)));
    let count = |prefix: &str| log.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        [
            count("once"),
            count("request"),
            count("response"),
            count("final")
        ],
        [1, 3, 3, 0]
    );
    assert_eq!(server.received(), 3);
}

#[test]
fn a_final_only_error_ends_the_call_and_a_once_error_before_it_starts() {
    let server = FaultServer::start([Fault::ok("a"), Fault::ok("b")]);
    let base = server.url("/");
    let stack = Stack::default();
    // A 503, which the predicate would retry, from each hook.
    let reject_final = |_: Head, _: &AttemptContext| raise_503();
    let reject_once = |_: &mut Request<'_>, _: &AttemptContext| raise_503().map(drop);
    let mut buffer = [0u8; 256];

    let last = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .retry_on(&tenace::TransientErrors)
    .response_interceptor_final(&reject_final)
    .build()
    .expect("valid client");
    let err = run(last.get("/f").send(&mut buffer)).unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(
        err.last_error(),
        Some(Error::Status { status: 503, .. })
    ));
    assert_eq!(server.received(), 1);

    let once = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        SEED,
    )
    .base_url(&base)
    .retry_strategy(FixedDelay::new(STEP))
    .retry_on(&tenace::TransientErrors)
    .request_interceptor_once(&reject_once)
    .build()
    .expect("valid client");
    let err = run(once.get("/o").send(&mut buffer)).unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 0)
    );
    assert!(matches!(
        err.last_error(),
        Some(Error::Status { status: 503, .. })
    ));
    assert_eq!(server.received(), 1);
}

fn raise_503() -> Result<Head, Error> {
    Err(Error::Status {
        status: 503,
        retry_after: None,
    })
}

#[test]
fn both_timings_share_one_capacity() {
    let stack = Stack::default();
    let http = || HttpTransport::new(&stack, &stack);
    let hook = |_: &mut Request<'_>, _: &AttemptContext| Ok::<(), Error>(());
    let response = |head: Head, _: &AttemptContext| Ok::<Head, Error>(head);
    let two = ClientBuilder::<_, _, 256, 8, 2>::new(http(), SEED)
        .request_interceptor_once(&hook)
        .request_interceptor(&hook)
        .response_interceptor_final(&response)
        .response_interceptor(&response)
        .build()
        .map(|c| c.hooks());
    assert_eq!(two.ok(), Some((2, 2, 0)));
    let three_requests = ClientBuilder::<_, _, 256, 8, 2>::new(http(), SEED)
        .request_interceptor(&hook)
        .request_interceptor(&hook)
        .request_interceptor_once(&hook)
        .build();
    assert_eq!(three_requests.err(), Some(RequestError::TooManyHooks));
    let three_responses = ClientBuilder::<_, _, 256, 8, 2>::new(http(), SEED)
        .response_interceptor_final(&response)
        .response_interceptor_final(&response)
        .response_interceptor(&response)
        .build();
    assert_eq!(three_responses.err(), Some(RequestError::TooManyHooks));
}
