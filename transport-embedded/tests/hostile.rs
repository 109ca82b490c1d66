//! Hostile servers against the embedded adapter, on real sockets in real
//! time (the same cases as the hyper adapter's `tests/tests/hyper_hostile.rs`):
//! absurd, malformed and contradictory `Retry-After` values, a body trickled
//! one byte a second, a body far larger than the buffer, and a response that
//! never ends.
//!
//! Each test checks the attempts, the delays chosen, the outcome, what
//! reached the server, and the wall time: never past `max_delay` per retry,
//! the per-attempt timeout or the deadline (plus a generous [`MARGIN`]), and
//! never shorter than a valid hint asked for. Memory is not measured: the
//! crate allocates nothing, and a response is read into the caller's buffer,
//! so a larger body is `BufferTooSmall`, never a bigger allocation.

use core::cell::RefCell;
use core::future::Future;
use core::time::Duration;
use std::time::Instant;

use std_embedded_nal_async::Stack;
use tenace::{
    AttemptContext, AttemptOutcome, CallOutcome, ExponentialBackoff, FailureKind, Middleware,
    RetryEvent, StopReason, TransportError as _,
};
use tenace_embedded::{Cause, Client, Error, HttpTransport, Request};
use tenace_tests::fault_server::{Fault, FaultServer};

/// The client's jitter seed (the strategies here do not jitter).
const SEED: u64 = 0x5eed;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The strategy's cap: no `Retry-After` may make one wait longer.
const MAX_DELAY: Duration = ms(200);
/// The per-attempt timeout of the tests that set one.
const ATTEMPT_TIMEOUT: Duration = ms(300);
/// Scheduling slack on a shared two-core machine.
const MARGIN: Duration = ms(750);

fn run<F: Future>(f: F) -> F::Output {
    async_io::block_on(f)
}

/// What the engine did during one call, with wall-clock times.
#[derive(Debug, Default)]
struct Recorder {
    retries: RefCell<Vec<RetryEvent>>,
    starts: RefCell<Vec<Instant>>,
    ends: RefCell<Vec<Instant>>,
    attempts: RefCell<Option<u32>>,
}

impl Middleware for Recorder {
    fn after_attempt(&self, _outcome: AttemptOutcome, _now: tenace::Instant) {
        self.ends.borrow_mut().push(Instant::now());
    }
    fn on_retry(&self, event: &RetryEvent) {
        self.retries.borrow_mut().push(*event);
    }
    fn after_call(&self, outcome: &CallOutcome) {
        *self.attempts.borrow_mut() = Some(outcome.attempts);
    }
}

/// How a call went.
#[derive(Debug)]
struct Outcome {
    /// The body, or why the engine stopped, the attempts and the last error.
    result: Result<Vec<u8>, (StopReason, u32, Option<Error>)>,
    kinds: Vec<FailureKind>,
    delays: Vec<Duration>,
    attempts: u32,
    /// Each attempt's duration, from its request interceptor to its end.
    durations: Vec<Duration>,
    elapsed: Duration,
}

/// The limits of one call.
#[derive(Debug, Clone, Copy)]
struct Setup {
    max_retries: u32,
    timeout: Option<Duration>,
    deadline: Option<Duration>,
    retry_after_cap: Option<Duration>,
    max_delay: Duration,
    buffer: usize,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            max_retries: 2,
            timeout: Some(ATTEMPT_TIMEOUT),
            deadline: Some(ms(2000)),
            retry_after_cap: None,
            max_delay: MAX_DELAY,
            buffer: 1024,
        }
    }
}

/// A `GET base/` with exponential waits from 10 ms (20, 40, 80 ms) capped
/// at `max_delay`, the transient-status policy (429 and 5xx retried,
/// honouring `Retry-After`), the default (long) phase timeouts, so that
/// the engine's per-attempt timeout and deadline are what cut a call.
fn get(base: &str, setup: Setup) -> Outcome {
    let stack = Stack::default();
    let recorder = Recorder::default();
    let mark_start = |_: &mut Request<'_>, _: &AttemptContext| {
        recorder.starts.borrow_mut().push(Instant::now());
        Ok::<(), Error>(())
    };
    let mut builder = Client::builder(HttpTransport::new(&stack, &stack), SEED)
        .base_url(base)
        .retry_strategy(ExponentialBackoff::new(ms(10), 2, setup.max_delay).unwrap())
        .max_retries(setup.max_retries)
        .retry_transient_statuses()
        .request_interceptor(&mark_start)
        .middleware(&recorder);
    if let Some(t) = setup.timeout {
        builder = builder.timeout(t);
    }
    if let Some(d) = setup.deadline {
        builder = builder.deadline(d);
    }
    if let Some(cap) = setup.retry_after_cap {
        builder = builder.retry_after_cap(cap);
    }
    let client = builder.build().expect("valid client");
    let mut buffer = vec![0u8; setup.buffer];
    let started = Instant::now();
    let result = run(client.get("/").send(&mut buffer))
        .map(|response| response.body().to_vec())
        .map_err(|e| (e.reason(), e.attempts(), e.last_error().copied()));
    let elapsed = started.elapsed();
    let starts = recorder.starts.borrow().clone();
    let ends = recorder.ends.borrow().clone();
    assert_eq!(starts.len(), ends.len());
    Outcome {
        result,
        kinds: recorder.retries.borrow().iter().map(|e| e.kind).collect(),
        delays: recorder.retries.borrow().iter().map(|e| e.delay).collect(),
        attempts: recorder.attempts.borrow().expect("call ended"),
        durations: starts
            .iter()
            .zip(&ends)
            .map(|(s, e)| e.duration_since(*s))
            .collect(),
        elapsed,
    }
}

// ---------------------------------------------------------------------------
// Retry-After.

/// Two `429`s carrying `Retry-After: values`, then `200`: three attempts,
/// these delays, and a wall time between their sum and two capped waits
/// plus the margin.
fn two_hostile_429s_then_ok(values: &[&str], expected: [Duration; 2]) {
    let hostile = Fault::retry_after_raw(429, values.iter().map(|v| (*v).to_owned()).collect());
    let server = FaultServer::start([hostile.clone(), hostile, Fault::ok("through")]);
    let out = get(&server.url("/"), Setup::default());
    assert_eq!(out.result.as_deref(), Ok(&b"through"[..]), "{values:?}");
    assert_eq!(out.attempts, 3, "{values:?}");
    assert_eq!(out.kinds, [FailureKind::Status(429); 2], "{values:?}");
    assert_eq!(out.delays, expected, "{values:?}");
    assert_eq!(server.received(), 3, "{values:?}");
    let waited = expected[0] + expected[1];
    assert!(out.elapsed >= waited, "{values:?}: {out:?}");
    assert!(out.elapsed < MAX_DELAY * 2 + MARGIN, "{values:?}: {out:?}");
    eprintln!(
        "retry-after {values:?}: delays {expected:?}, elapsed {:?}",
        out.elapsed
    );
}

/// The strategy's own waits for retries 1 and 2: the hint was ignored.
const STRATEGY: [Duration; 2] = [ms(20), ms(40)];
/// Both waits at the cap: a huge hint was honoured up to `max_delay`.
const CAPPED: [Duration; 2] = [MAX_DELAY, MAX_DELAY];

#[test]
fn retry_after_999999999_seconds_is_capped_at_max_delay() {
    two_hostile_429s_then_ok(&["999999999"], CAPPED);
}

#[test]
fn retry_after_30_digits_saturates_and_is_capped_at_max_delay() {
    two_hostile_429s_then_ok(&["123456789012345678901234567890"], CAPPED);
}

#[test]
fn retry_after_a_date_in_year_9999_is_capped_at_max_delay() {
    // Read against the response's `Date` header (the fault server sends one).
    two_hostile_429s_then_ok(&["Fri, 31 Dec 9999 23:59:59 GMT"], CAPPED);
}

#[test]
fn retry_after_a_date_in_the_past_adds_no_wait() {
    two_hostile_429s_then_ok(&["Sun, 06 Nov 1994 08:49:37 GMT"], STRATEGY);
}

#[test]
fn retry_after_garbage_is_ignored() {
    for garbage in ["soon", "🙂", ""] {
        two_hostile_429s_then_ok(&[garbage], STRATEGY);
    }
}

#[test]
fn retry_after_a_negative_number_is_ignored() {
    two_hostile_429s_then_ok(&["-5"], STRATEGY);
}

#[test]
fn retry_after_a_fraction_is_ignored() {
    two_hostile_429s_then_ok(&["1.5"], STRATEGY);
}

#[test]
fn many_retry_after_headers_the_first_valid_one_wins() {
    // As the hyper adapter: invalid values are skipped, the first valid one
    // counts. `3600` wins (capped to 200 ms) over the later `1`; `0` wins
    // over the later `3600` (a "largest" or "last" rule would wait 200 ms).
    two_hostile_429s_then_ok(&["abc", "-1", "3600", "1"], CAPPED);
    two_hostile_429s_then_ok(&["abc", "-1", "0", "3600"], STRATEGY);
}

#[test]
fn retry_after_past_the_deadline_gives_up_at_once() {
    // A 60 s hint that may be honoured (cap 120 s, or max_delay 10 s) with a
    // 1 s deadline: no sleep past the deadline is started.
    for via_cap in [true, false] {
        let server = FaultServer::start([Fault::too_many_requests_secs(60), Fault::ok("late")]);
        let setup = if via_cap {
            Setup {
                retry_after_cap: Some(Duration::from_secs(120)),
                ..Setup::default()
            }
        } else {
            Setup {
                max_delay: Duration::from_secs(10),
                ..Setup::default()
            }
        };
        let out = get(
            &server.url("/"),
            Setup {
                deadline: Some(ms(1000)),
                ..setup
            },
        );
        let last = Error::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(60)),
        };
        assert_eq!(out.result, Err((StopReason::Deadline, 1, Some(last))));
        assert_eq!(last.kind(), FailureKind::Status(429));
        assert_eq!(out.delays, [Duration::ZERO; 0]);
        assert_eq!(server.received(), 1);
        assert!(out.elapsed < ms(500), "{out:?}");
        eprintln!(
            "retry-after 60 s, deadline 1 s (via cap: {via_cap}): elapsed {:?}",
            out.elapsed
        );
    }
}

// ---------------------------------------------------------------------------
// A body trickled one byte a second.

#[test]
fn a_trickled_body_is_cut_by_the_attempt_timeout() {
    let trickle = Fault::Trickle {
        body_len: 8,
        interval: Duration::from_secs(1),
    };
    let server = FaultServer::start([trickle.clone(), trickle]);
    let out = get(
        &server.url("/"),
        Setup {
            max_retries: 1,
            ..Setup::default()
        },
    );
    assert_eq!(
        out.result,
        Err((StopReason::Exhausted, 2, Some(Error::TimedOut)))
    );
    assert_eq!(out.kinds, [FailureKind::Timeout]);
    assert_eq!(out.delays, [ms(20)]);
    assert_eq!(server.received(), 2);
    assert_eq!(out.durations.len(), 2);
    for d in &out.durations {
        assert!(*d >= ATTEMPT_TIMEOUT - ms(1), "{out:?}");
        assert!(*d < ATTEMPT_TIMEOUT + MARGIN, "{out:?}");
    }
    assert!(out.elapsed >= ATTEMPT_TIMEOUT * 2 + ms(20), "{out:?}");
    assert!(
        out.elapsed < ATTEMPT_TIMEOUT * 2 + MAX_DELAY + MARGIN,
        "{out:?}"
    );
    eprintln!(
        "trickle: attempts {:?}, elapsed {:?}",
        out.durations, out.elapsed
    );
}

#[test]
fn a_trickled_body_with_only_a_deadline_ends_at_the_deadline() {
    let server = FaultServer::builder()
        .fallback(Fault::Trickle {
            body_len: 8,
            interval: Duration::from_secs(1),
        })
        .start()
        .unwrap();
    let out = get(
        &server.url("/"),
        Setup {
            timeout: None,
            deadline: Some(ms(1000)),
            ..Setup::default()
        },
    );
    assert_eq!(
        out.result,
        Err((StopReason::Deadline, 1, Some(Error::TimedOut)))
    );
    assert_eq!(out.delays, [Duration::ZERO; 0]);
    assert_eq!(server.received(), 1);
    assert!(out.elapsed >= ms(990), "{out:?}");
    assert!(out.elapsed < ms(1000) + MARGIN, "{out:?}");
    eprintln!("trickle, deadline only: elapsed {:?}", out.elapsed);
}

// ---------------------------------------------------------------------------
// Bodies larger than the buffer, and a response that never ends.

#[test]
fn an_announced_50_mib_body_fails_at_once() {
    let server = FaultServer::start([Fault::OversizeBody(50 << 20), Fault::ok("small")]);
    let out = get(&server.url("/"), Setup::default());
    assert_eq!(
        out.result,
        Err((
            StopReason::NotRetryable,
            1,
            Some(Error::Body(Cause::BufferTooSmall))
        ))
    );
    assert_eq!(server.received(), 1);
    assert!(out.elapsed < MARGIN, "{out:?}");
    eprintln!("50 MiB announced: elapsed {:?}", out.elapsed);
}

#[test]
fn a_never_ending_body_is_cut_by_the_attempt_timeout() {
    // A 64 KiB buffer takes minutes to fill at 600 B/s: the timeout first.
    let server = FaultServer::builder()
        .fallback(Fault::NeverEndingBody)
        .start()
        .unwrap();
    let out = get(
        &server.url("/"),
        Setup {
            max_retries: 1,
            buffer: 64 * 1024,
            ..Setup::default()
        },
    );
    assert_eq!(
        out.result,
        Err((StopReason::Exhausted, 2, Some(Error::TimedOut)))
    );
    assert_eq!(out.kinds, [FailureKind::Timeout]);
    assert_eq!(server.received(), 2);
    for d in &out.durations {
        assert!(*d >= ATTEMPT_TIMEOUT - ms(1), "{out:?}");
        assert!(*d < ATTEMPT_TIMEOUT + MARGIN, "{out:?}");
    }
    assert!(out.elapsed >= ATTEMPT_TIMEOUT * 2 + ms(20), "{out:?}");
    assert!(
        out.elapsed < ATTEMPT_TIMEOUT * 2 + MAX_DELAY + MARGIN,
        "{out:?}"
    );
    eprintln!(
        "never-ending, timeout first: attempts {:?}, elapsed {:?}",
        out.durations, out.elapsed
    );
}

#[test]
fn a_never_ending_body_is_cut_by_the_buffer() {
    // A 1 KiB buffer (head included) fills after more than 150 chunks of 6
    // bytes, 10 ms apart (about 1.9 s here), long before the 5 s timeout.
    let server = FaultServer::builder()
        .fallback(Fault::NeverEndingBody)
        .start()
        .unwrap();
    let out = get(
        &server.url("/"),
        Setup {
            timeout: Some(Duration::from_secs(5)),
            deadline: None,
            ..Setup::default()
        },
    );
    assert_eq!(
        out.result,
        Err((
            StopReason::NotRetryable,
            1,
            Some(Error::Body(Cause::BufferTooSmall))
        ))
    );
    assert_eq!(server.received(), 1);
    assert!(out.elapsed >= ms(1500), "{out:?}");
    assert!(out.elapsed < Duration::from_secs(5), "{out:?}");
    eprintln!("never-ending, buffer first: elapsed {:?}", out.elapsed);
}
