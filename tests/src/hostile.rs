//! Hostile servers, defined once and run against both adapters: absurd,
//! malformed and contradictory `Retry-After` values, the rate-limit fields
//! (`RateLimit-Reset`, `RateLimit`, `X-RateLimit-Reset`) as floors and past
//! the cap, a body trickled one
//! byte a second, a body far over the limit, a response that never ends,
//! a body cut short by a clean close, and one longer than announced.
//!
//! A [`Scenario`] says what the [`FaultServer`] does, the limits of the
//! call ([`Setup`]) and what must come of it ([`Expected`]). An adapter
//! runs the call (a `GET` of [`Scenario::path`] on the server, exponential
//! waits from 10 ms (20, 40, 80 ms) capped at [`Setup::max_delay`], 429 and
//! 5xx retried and `Retry-After` honoured), records it with a [`Recorder`],
//! reports an [`Outcome`], and [`Scenario::check`] judges it. The
//! [`hostile_suite!`](crate::hostile_suite) macro makes one test of each
//! group of scenarios.
//!
//! Real sockets in real time: the suite is about what each adapter's own
//! HTTP stack does with hostile bytes on the wire (a header it must parse,
//! a body that arrives one byte a second or never ends), and a real socket
//! cannot run on a paused clock. So the wall time is bounded with a
//! [`MARGIN`] for a loaded machine, far below what a hostile value would
//! cause (seconds to centuries); the delays the engine chose are exact
//! (read from `on_retry`), and the hyper adapter's tests serve the
//! scenarios made of plain answers (the `Retry-After` and deadline rows,
//! see [`Scenario::plain_answers`]) from memory on paused time, where the
//! wall time is exact.

use core::ops::Range;
use core::time::Duration;
use std::sync::Arc;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use tenace::{AttemptOutcome, CallOutcome, FailureKind, Middleware, RetryEvent, StopReason};

use crate::fault_server::{Fault, FaultServer};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The strategy's cap on its own delays (a server's hint may ask for more).
pub const MAX_DELAY: Duration = ms(200);
/// The per-attempt timeout of the scenarios that set one.
pub const ATTEMPT_TIMEOUT: Duration = ms(300);
/// Scheduling slack on a shared two-core machine: generous, and still far
/// below anything a hostile value would cause.
pub const MARGIN: Duration = ms(750);
/// The body limit (hyper) or response buffer (embedded) of most scenarios.
pub const LIMIT: usize = 1024;

/// The strategy's own waits for retries 1 and 2: the hint was ignored.
pub const STRATEGY: [Duration; 2] = [ms(20), ms(40)];

/// The limits of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The per-attempt timeout.
    pub timeout: Option<Duration>,
    /// The deadline of the whole call.
    pub deadline: Option<Duration>,
    /// The cap on the server's wait (the engine's default, 300 s, if none).
    pub retry_after_cap: Option<Duration>,
    /// The strategy's cap.
    pub max_delay: Duration,
    /// The largest body the hyper client reads; the embedded client's
    /// response buffer.
    pub body_limit: usize,
}

impl Default for Setup {
    /// Two retries, [`ATTEMPT_TIMEOUT`], a 2 s deadline, [`MAX_DELAY`],
    /// [`LIMIT`].
    fn default() -> Self {
        Self {
            max_retries: 2,
            timeout: Some(ATTEMPT_TIMEOUT),
            deadline: Some(ms(2000)),
            retry_after_cap: None,
            max_delay: MAX_DELAY,
            body_limit: LIMIT,
        }
    }
}

impl Setup {
    /// `builder` with the limits the setup has: each of `timeout`,
    /// `deadline` and `retry_after_cap` (the adapter's builder methods) is
    /// called if the setup sets it.
    pub fn apply<B>(
        &self,
        builder: B,
        timeout: impl FnOnce(B, Duration) -> B,
        deadline: impl FnOnce(B, Duration) -> B,
        retry_after_cap: impl FnOnce(B, Duration) -> B,
    ) -> B {
        let builder = match self.timeout {
            Some(d) => timeout(builder, d),
            None => builder,
        };
        let builder = match self.deadline {
            Some(d) => deadline(builder, d),
            None => builder,
        };
        match self.retry_after_cap {
            Some(d) => retry_after_cap(builder, d),
            None => builder,
        }
    }
}

/// How the last attempt failed, in words both adapters share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastError {
    /// A status the policy retries, with its `Retry-After` hint.
    Status {
        /// The status code.
        status: u16,
        /// The hint, if the response carried a valid one.
        retry_after: Option<Duration>,
    },
    /// The per-attempt timeout or the deadline cut the attempt.
    Timeout,
    /// The body is larger than the limit or the buffer.
    TooLarge,
    /// Anything else (a scenario never expects it).
    Other,
}

/// How a call went, as an adapter reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The body, or why the engine stopped, the attempts and the last error.
    pub result: Result<Vec<u8>, (StopReason, u32, Option<LastError>)>,
    /// The failure kind and the delay of every retry.
    pub retries: Vec<(FailureKind, Duration)>,
    /// The attempts the middleware heard of at the end of the call.
    pub attempts: u32,
    /// Each attempt's duration, from its request interceptor to its end.
    pub durations: Vec<Duration>,
    /// The call's wall time.
    pub elapsed: Duration,
}

/// What must come of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The body, or the stop reason, the attempts and the last error.
    pub result: Result<&'static [u8], (StopReason, u32, LastError)>,
    /// The failure kind and the delay of every retry.
    pub retries: Vec<(FailureKind, Duration)>,
    /// Requests the server received in full.
    pub received: usize,
    /// Where the call's wall time must fall.
    pub elapsed: Range<Duration>,
    /// Where each attempt's duration must fall, if the scenario bounds it.
    pub attempt: Option<Range<Duration>>,
}

/// A status, its headers (names and values verbatim, in order) and a body.
pub type PlainAnswer = (u16, Vec<(String, String)>, Vec<u8>);

/// One hostile server and what the client must do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// What the row says, for messages.
    pub name: String,
    /// The server's answers, in order.
    pub script: Vec<Fault>,
    /// The answer once the script is exhausted (`200 "ok"` if none).
    pub fallback: Option<Fault>,
    /// The path the client requests.
    pub path: &'static str,
    /// The limits of the call.
    pub setup: Setup,
    /// What must come of it.
    pub expected: Expected,
}

impl Scenario {
    /// Starts the scenario's server.
    ///
    /// # Panics
    ///
    /// If the server cannot bind a port on 127.0.0.1.
    pub fn server(&self) -> FaultServer {
        let mut builder = FaultServer::builder().script(self.script.clone());
        if let Some(fallback) = &self.fallback {
            builder = builder.fallback(fallback.clone());
        }
        builder.start().expect("the fault server starts")
    }

    /// The server's answers as status, headers and body, if every one is
    /// a plain answer ([`Fault::Ok`] or [`Fault::Status`]) and the script
    /// has no fallback: what a runner needs to serve the same answers from
    /// memory on a paused clock, where the call must take exactly the
    /// delays it chose.
    pub fn plain_answers(&self) -> Option<Vec<PlainAnswer>> {
        if self.fallback.is_some() {
            return None;
        }
        self.script
            .iter()
            .map(|fault| match fault {
                Fault::Ok(body) => Some((200, Vec::new(), body.clone())),
                Fault::Status {
                    status,
                    headers,
                    body,
                } => Some((*status, headers.clone(), body.clone())),
                _ => None,
            })
            .collect()
    }

    /// Asserts that `outcome`, and what `server` received, are what the
    /// scenario expects.
    ///
    /// # Panics
    ///
    /// On the first difference, naming the scenario.
    pub fn check(&self, outcome: &Outcome, server: &FaultServer) {
        let name = &self.name;
        let expected = &self.expected;
        match (&outcome.result, &expected.result) {
            (Ok(body), Ok(want)) => assert_eq!(body.as_slice(), *want, "{name}: {outcome:?}"),
            (Err(got), Err((reason, attempts, last))) => {
                assert_eq!(
                    *got,
                    (*reason, *attempts, Some(*last)),
                    "{name}: {outcome:?}"
                );
            }
            _ => panic!("{name}: expected {:?}, got {outcome:?}", expected.result),
        }
        let attempts = match expected.result {
            Ok(_) => u32::try_from(expected.retries.len()).unwrap_or(u32::MAX) + 1,
            Err((_, attempts, _)) => attempts,
        };
        assert_eq!(outcome.attempts, attempts, "{name}: {outcome:?}");
        assert_eq!(outcome.retries, expected.retries, "{name}: {outcome:?}");
        assert_eq!(server.received(), expected.received, "{name}: {outcome:?}");
        assert!(
            server.requests().iter().all(|r| r.path == self.path),
            "{name}: {:?}",
            server.requests()
        );
        assert!(
            expected.elapsed.contains(&outcome.elapsed),
            "{name}: elapsed {:?} outside {:?}",
            outcome.elapsed,
            expected.elapsed
        );
        if let Some(range) = &expected.attempt {
            assert_eq!(
                outcome.durations.len(),
                usize::try_from(attempts).unwrap_or(usize::MAX),
                "{name}: {outcome:?}"
            );
            for d in &outcome.durations {
                assert!(
                    range.contains(d),
                    "{name}: attempt took {d:?}, not in {range:?}"
                );
            }
        }
        eprintln!(
            "{name}: retries {:?}, attempts {:?}, elapsed {:?}",
            outcome.retries, outcome.durations, outcome.elapsed
        );
    }
}

/// What the engine did during one call, with wall-clock times.
#[derive(Debug, Default)]
struct Log {
    retries: Vec<(FailureKind, Duration)>,
    starts: Vec<Instant>,
    ends: Vec<Instant>,
    attempts: Option<u32>,
}

/// A middleware that records retries, attempt ends and the attempt count;
/// the adapter's request interceptor calls [`Recorder::attempt_started`].
/// Clones share one record.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Log>>);

impl Recorder {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes that an attempt starts now (from a request interceptor).
    pub fn attempt_started(&self) {
        self.log().starts.push(Instant::now());
    }

    /// The attempts of the call recorded.
    ///
    /// # Panics
    ///
    /// If the call has not ended.
    pub fn attempts(&self) -> u32 {
        self.log().attempts.expect("the call ended")
    }

    /// The [`Outcome`] of the call recorded, with its `result` and wall
    /// time.
    ///
    /// # Panics
    ///
    /// If the call has not ended, or an attempt started without ending.
    pub fn outcome(
        &self,
        result: Result<Vec<u8>, (StopReason, u32, Option<LastError>)>,
        elapsed: Duration,
    ) -> Outcome {
        let log = self.log();
        assert_eq!(log.starts.len(), log.ends.len(), "{log:?}");
        Outcome {
            result,
            retries: log.retries.clone(),
            attempts: log.attempts.expect("the call ended"),
            durations: log
                .starts
                .iter()
                .zip(&log.ends)
                .map(|(s, e)| e.duration_since(*s))
                .collect(),
            elapsed,
        }
    }
}

impl Middleware for Recorder {
    fn after_attempt(&self, _outcome: AttemptOutcome, _now: tenace::Instant) {
        self.log().ends.push(Instant::now());
    }
    fn on_retry(&self, event: &RetryEvent) {
        self.log().retries.push((event.kind, event.delay));
    }
    fn after_call(&self, outcome: &CallOutcome) {
        self.log().attempts = Some(outcome.attempts);
    }
}

// ---------------------------------------------------------------------------
// The scenarios.

/// Two `429`s carrying `Retry-After: values` (one header per value), then
/// `200`: three attempts, these delays, and a wall time between their sum
/// and two waits of `max_delay` plus the margin.
fn two_429s_then_ok(values: &[&str], delays: [Duration; 2]) -> Scenario {
    let hostile = Fault::retry_after_raw(429, values.iter().map(|v| (*v).to_owned()).collect());
    Scenario {
        name: format!("Retry-After {values:?}"),
        script: vec![hostile.clone(), hostile, Fault::ok("through")],
        fallback: None,
        path: "/limited",
        setup: Setup::default(),
        expected: Expected {
            result: Ok(b"through"),
            retries: delays
                .iter()
                .map(|d| (FailureKind::Status(429), *d))
                .collect(),
            received: 3,
            elapsed: delays[0] + delays[1]..MAX_DELAY * 2 + MARGIN,
            attempt: None,
        },
    }
}

/// One `status` carrying `headers`, then `200`: the call must stop at once
/// with [`StopReason::ServerWait`]`(wait)` after one request.
fn stops_on_server_wait(name: &str, headers: &[(&str, &str)], wait: Duration) -> Scenario {
    Scenario {
        name: name.to_owned(),
        script: vec![
            Fault::with_headers(429, headers.iter().copied()),
            Fault::ok("early"),
        ],
        fallback: None,
        path: "/limited",
        setup: Setup::default(),
        expected: Expected {
            result: Err((
                StopReason::ServerWait(wait),
                1,
                LastError::Status {
                    status: 429,
                    retry_after: Some(wait),
                },
            )),
            retries: Vec::new(),
            received: 1,
            elapsed: Duration::ZERO..ms(500),
            attempt: None,
        },
    }
}

/// One `429` carrying `headers`, then `200`: one retry after exactly
/// `wait`, which the server asked for, above the strategy's 10 ms.
fn one_429_then_ok(name: &str, headers: &[(&str, &str)], wait: Duration) -> Scenario {
    Scenario {
        name: name.to_owned(),
        script: vec![
            Fault::with_headers(429, headers.iter().copied()),
            Fault::ok("through"),
        ],
        fallback: None,
        path: "/limited",
        setup: Setup::default(),
        expected: Expected {
            result: Ok(b"through"),
            retries: vec![(FailureKind::Status(429), wait)],
            received: 2,
            elapsed: wait..wait + MARGIN,
            attempt: None,
        },
    }
}

/// `Retry-After: 999999999` (about 31 years), above the 300 s cap, stops
/// the call at once with the server's wait.
pub fn retry_after_999999999_seconds_stops_with_the_servers_wait() -> Vec<Scenario> {
    vec![stops_on_server_wait(
        "Retry-After 999999999",
        &[("Retry-After", "999999999")],
        Duration::from_secs(999_999_999),
    )]
}

/// A 30-digit `Retry-After` does not fit a `u64`: it is ignored.
pub fn retry_after_30_digits_overflows_and_is_ignored() -> Vec<Scenario> {
    vec![two_429s_then_ok(
        &["123456789012345678901234567890"],
        STRATEGY,
    )]
}

/// A date in year 9999, read against the response's `Date` (set to the
/// RFC 9110 example instant), stops the call with the exact wait.
pub fn retry_after_a_date_in_year_9999_stops_with_the_servers_wait() -> Vec<Scenario> {
    vec![stops_on_server_wait(
        "Retry-After in year 9999",
        &[
            ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
            ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ],
        Duration::from_secs(253_402_300_799 - 784_111_777),
    )]
}

/// The rate-limit fields, read by both adapters through the same function:
/// each 1 s reset is a floor over the strategy's 10 ms. The epoch
/// `X-RateLimit-Reset` is read against the response's `Date`.
pub fn rate_limit_fields_are_floors() -> Vec<Scenario> {
    let s1 = Duration::from_secs(1);
    vec![
        one_429_then_ok("RateLimit-Reset 1", &[("RateLimit-Reset", "1")], s1),
        one_429_then_ok("RateLimit t=1", &[("RateLimit", "\"default\";r=0;t=1")], s1),
        one_429_then_ok("X-RateLimit-Reset 1", &[("X-RateLimit-Reset", "1")], s1),
        one_429_then_ok(
            "X-RateLimit-Reset epoch, Date 1 s before",
            &[
                ("X-RateLimit-Reset", "1764460801"),
                ("Date", "Sun, 30 Nov 2025 00:00:00 GMT"),
            ],
            s1,
        ),
    ]
}

/// A rate-limit reset above the 300 s cap stops the call at once with the
/// server's wait, whichever field carries it.
pub fn a_rate_limit_reset_above_the_cap_stops_at_once() -> Vec<Scenario> {
    vec![
        stops_on_server_wait(
            "RateLimit-Reset 301",
            &[("RateLimit-Reset", "301")],
            Duration::from_secs(301),
        ),
        stops_on_server_wait(
            "X-RateLimit-Reset epoch 1 h ahead",
            &[
                ("X-RateLimit-Reset", "1764464400"),
                ("Date", "Sun, 30 Nov 2025 00:00:00 GMT"),
            ],
            Duration::from_secs(3600),
        ),
    ]
}

/// A date in the past is zero against the response's `Date` (now): the
/// strategy's delay stands.
pub fn retry_after_a_date_in_the_past_adds_no_wait() -> Vec<Scenario> {
    vec![two_429s_then_ok(
        &["Sun, 06 Nov 1994 08:49:37 GMT"],
        STRATEGY,
    )]
}

/// Words, an emoji and an empty value are ignored.
pub fn retry_after_garbage_is_ignored() -> Vec<Scenario> {
    ["soon", "🙂", ""]
        .iter()
        .map(|garbage| two_429s_then_ok(&[garbage], STRATEGY))
        .collect()
}

/// A negative number is ignored.
pub fn retry_after_a_negative_number_is_ignored() -> Vec<Scenario> {
    vec![two_429s_then_ok(&["-5"], STRATEGY)]
}

/// A fraction is ignored.
pub fn retry_after_a_fraction_is_ignored() -> Vec<Scenario> {
    vec![two_429s_then_ok(&["1.5"], STRATEGY)]
}

/// Invalid values are skipped and the first valid one counts: `3600`
/// (past the cap: the call stops) over the later `1`; `0` over the later
/// `3600` (a "largest" or "last" rule would stop there).
pub fn many_retry_after_headers_the_first_valid_one_wins() -> Vec<Scenario> {
    vec![
        stops_on_server_wait(
            "Retry-After [abc, -1, 3600, 1]",
            &[
                ("Retry-After", "abc"),
                ("Retry-After", "-1"),
                ("Retry-After", "3600"),
                ("Retry-After", "1"),
            ],
            Duration::from_secs(3600),
        ),
        two_429s_then_ok(&["abc", "-1", "0", "3600"], STRATEGY),
    ]
}

/// A 60 s hint under the cap (120 s, or the default 300 s) with a 1 s
/// deadline: the wait would end past the deadline, so the call stops with
/// `ServerWait` right after the 429, without sleeping.
pub fn retry_after_past_the_deadline_stops_with_the_servers_wait() -> Vec<Scenario> {
    let via_cap = Setup {
        retry_after_cap: Some(Duration::from_secs(120)),
        ..Setup::default()
    };
    [("cap 120 s", via_cap), ("default cap", Setup::default())]
        .into_iter()
        .map(|(how, setup)| Scenario {
            name: format!("Retry-After 60 s, deadline 1 s, {how}"),
            script: vec![Fault::too_many_requests_secs(60), Fault::ok("late")],
            fallback: None,
            path: "/",
            setup: Setup {
                deadline: Some(ms(1000)),
                ..setup
            },
            expected: Expected {
                result: Err((
                    StopReason::ServerWait(Duration::from_secs(60)),
                    1,
                    LastError::Status {
                        status: 429,
                        retry_after: Some(Duration::from_secs(60)),
                    },
                )),
                retries: Vec::new(),
                received: 1,
                elapsed: Duration::ZERO..ms(500),
                attempt: None,
            },
        })
        .collect()
}

/// A body of 8 bytes, one a second.
const TRICKLE: Fault = Fault::Trickle {
    body_len: 8,
    interval: Duration::from_secs(1),
};

/// Two attempts of a trickled or never-ending body, each cut by the
/// attempt timeout, with the strategy's first wait between them.
fn cut_twice_by_the_attempt_timeout(name: &str, server: Fault, body_limit: usize) -> Scenario {
    Scenario {
        name: name.to_owned(),
        script: Vec::new(),
        fallback: Some(server),
        path: "/slow",
        setup: Setup {
            max_retries: 1,
            body_limit,
            ..Setup::default()
        },
        expected: Expected {
            result: Err((StopReason::Exhausted, 2, LastError::Timeout)),
            retries: vec![(FailureKind::Timeout, ms(20))],
            received: 2,
            elapsed: ATTEMPT_TIMEOUT * 2 + ms(20)..ATTEMPT_TIMEOUT * 2 + MAX_DELAY + MARGIN,
            attempt: Some(ATTEMPT_TIMEOUT - ms(1)..ATTEMPT_TIMEOUT + MARGIN),
        },
    }
}

/// A body trickled one byte a second is cut by the attempt timeout.
pub fn a_trickled_body_is_cut_by_the_attempt_timeout() -> Vec<Scenario> {
    vec![cut_twice_by_the_attempt_timeout("trickle", TRICKLE, LIMIT)]
}

/// With no per-attempt timeout, the deadline bounds the attempt, and then
/// no retry fits before it.
pub fn a_trickled_body_with_only_a_deadline_ends_at_the_deadline() -> Vec<Scenario> {
    vec![Scenario {
        name: "trickle, deadline only".to_owned(),
        script: Vec::new(),
        fallback: Some(TRICKLE),
        path: "/slow",
        setup: Setup {
            timeout: None,
            deadline: Some(ms(1000)),
            ..Setup::default()
        },
        expected: Expected {
            result: Err((StopReason::Deadline, 1, LastError::Timeout)),
            retries: Vec::new(),
            received: 1,
            elapsed: ms(990)..ms(1000) + MARGIN,
            attempt: None,
        },
    }]
}

/// A body announced as 50 MiB is refused at once, without reading it.
pub fn an_announced_50_mib_body_fails_at_once() -> Vec<Scenario> {
    vec![Scenario {
        name: "50 MiB announced".to_owned(),
        script: vec![Fault::OversizeBody(50 << 20), Fault::ok("small")],
        fallback: None,
        path: "/big",
        setup: Setup::default(),
        expected: Expected {
            result: Err((StopReason::NotRetryable, 1, LastError::TooLarge)),
            retries: Vec::new(),
            received: 1,
            elapsed: Duration::ZERO..MARGIN,
            attempt: None,
        },
    }]
}

/// A chunked body that never ends (6 bytes every 10 ms), with the limit
/// far away (64 KiB take minutes at 600 B/s): the attempt timeout first.
pub fn a_never_ending_body_is_cut_by_the_attempt_timeout() -> Vec<Scenario> {
    vec![cut_twice_by_the_attempt_timeout(
        "never-ending, timeout first",
        Fault::NeverEndingBody,
        64 * 1024,
    )]
}

/// A chunked body that never ends, with the timeout far away (5 s): the
/// 1 KiB limit comes first, after more than 150 chunks 10 ms apart (the
/// embedded client's buffer holds the head too).
pub fn a_never_ending_body_is_cut_by_the_limit() -> Vec<Scenario> {
    vec![Scenario {
        name: "never-ending, limit first".to_owned(),
        script: Vec::new(),
        fallback: Some(Fault::NeverEndingBody),
        path: "/stream",
        setup: Setup {
            timeout: Some(Duration::from_secs(5)),
            deadline: None,
            ..Setup::default()
        },
        expected: Expected {
            result: Err((StopReason::NotRetryable, 1, LastError::TooLarge)),
            retries: Vec::new(),
            received: 1,
            elapsed: ms(1500)..Duration::from_secs(5),
            attempt: None,
        },
    }]
}

/// A body cut short by a clean close (FIN), twice, then `200`: a
/// truncated body is a network failure after the request was sent, so the
/// `GET` is retried with the strategy's waits, whatever the size of the
/// buffer. Cut 16 bytes into a 64-byte `Content-Length`, and 16 bytes into
/// a 64-byte chunk.
pub fn a_body_cut_short_by_a_clean_close_is_retried() -> Vec<Scenario> {
    [
        (
            "Content-Length body cut short by a clean close",
            Fault::CloseMidBody,
        ),
        (
            "chunked body cut short by a clean close",
            Fault::CloseMidChunk,
        ),
    ]
    .into_iter()
    .map(|(name, cut)| Scenario {
        name: name.to_owned(),
        script: vec![cut.clone(), cut, Fault::ok("whole")],
        fallback: None,
        path: "/short",
        setup: Setup::default(),
        expected: Expected {
            result: Ok(b"whole"),
            retries: STRATEGY.iter().map(|d| (FailureKind::Io, *d)).collect(),
            received: 3,
            elapsed: STRATEGY[0] + STRATEGY[1]..MAX_DELAY * 2 + MARGIN,
            attempt: None,
        },
    })
    .collect()
}

/// A head announcing 8 bytes, then 24: the client reads the 8 it was
/// promised and leaves the rest (the connection closes after the
/// response).
pub fn a_body_longer_than_announced_is_read_to_its_length() -> Vec<Scenario> {
    vec![Scenario {
        name: "body longer than its Content-Length".to_owned(),
        script: vec![Fault::OverlongBody],
        fallback: None,
        path: "/long",
        setup: Setup::default(),
        expected: Expected {
            result: Ok(b"abcdefgh"),
            retries: Vec::new(),
            received: 1,
            elapsed: Duration::ZERO..MARGIN,
            attempt: None,
        },
    }]
}

/// Every scenario, in the order of the suite.
pub fn all() -> Vec<Scenario> {
    crate::hostile_suite!(@all)
        .into_iter()
        .flat_map(|group| group())
        .collect()
}

/// One `#[test]` for each group of scenarios of [`hostile`](crate::hostile),
/// named as the group, that runs each of its scenarios with `$run`, a
/// `fn(&Scenario)` that runs the call, reports an [`Outcome`] and calls
/// [`Scenario::check`].
#[macro_export]
macro_rules! hostile_suite {
    ($run:path) => {
        $crate::hostile_suite!(@groups tests $run);
    };
    (@all) => {
        $crate::hostile_suite!(@groups all _)
    };
    // The one list of the groups.
    (@groups $what:ident $run:tt) => {
        $crate::hostile_suite! { @$what $run;
            retry_after_999999999_seconds_stops_with_the_servers_wait,
            retry_after_30_digits_overflows_and_is_ignored,
            retry_after_a_date_in_year_9999_stops_with_the_servers_wait,
            rate_limit_fields_are_floors,
            a_rate_limit_reset_above_the_cap_stops_at_once,
            retry_after_a_date_in_the_past_adds_no_wait,
            retry_after_garbage_is_ignored,
            retry_after_a_negative_number_is_ignored,
            retry_after_a_fraction_is_ignored,
            many_retry_after_headers_the_first_valid_one_wins,
            retry_after_past_the_deadline_stops_with_the_servers_wait,
            a_trickled_body_is_cut_by_the_attempt_timeout,
            a_trickled_body_with_only_a_deadline_ends_at_the_deadline,
            an_announced_50_mib_body_fails_at_once,
            a_never_ending_body_is_cut_by_the_attempt_timeout,
            a_never_ending_body_is_cut_by_the_limit,
            a_body_cut_short_by_a_clean_close_is_retried,
            a_body_longer_than_announced_is_read_to_its_length,
        }
    };
    (@tests $run:path; $($group:ident,)*) => {
        $(
            #[test]
            fn $group() {
                for scenario in $crate::hostile::$group() {
                    $run(&scenario);
                }
            }
        )*
    };
    (@all _; $($group:ident,)*) => {
        [$($crate::hostile::$group as fn() -> ::std::vec::Vec<$crate::hostile::Scenario>,)*]
    };
}
