//! When interceptors run: on every attempt (the default), once per call
//! ([`PerCall`]), or on the call's final response only ([`FinalOnly`]).
//! Each test counts the calls on virtual time.
#![allow(clippy::std_instead_of_core)]

use core::cell::{Cell, RefCell};
use core::time::Duration;

use embassy_futures::block_on;
use tenace::testing::{MockClock, MockError, ScriptedTransport, Step};
use tenace::{
    AttemptContext, CallResult, ExponentialBackoff, FailureKind, FinalOnly, Middleware, PerCall,
    Pipeline, Policy, SeededRng, StopReason, TransientErrors, map_request, map_response,
};

type Req = heapless::Vec<u32, 8>;

const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn policy() -> Policy<ExponentialBackoff, TransientErrors> {
    Policy::new(ExponentialBackoff::new(s(1), 2, s(30)).unwrap()).retry_on(TransientErrors)
}

fn raise_for_status(status: u16, _cx: &AttemptContext) -> Result<u16, MockError> {
    if status >= 400 {
        Err(MockError::new(FailureKind::Status(status)))
    } else {
        Ok(status)
    }
}

fn original() -> Req {
    let mut request = Req::new();
    request.push(1).unwrap();
    request
}

/// Counts what each kind of interceptor saw.
#[derive(Default)]
struct Seen {
    per_attempt_requests: Cell<u32>,
    per_call_requests: Cell<u32>,
    /// Responses seen by the per-attempt response interceptor, in order.
    per_attempt_responses: RefCell<Vec<u16>>,
    /// Responses seen by the final-only one, with their attempt number and
    /// elapsed time.
    final_responses: RefCell<Vec<(u16, u32, Duration)>>,
}

/// Runs one call with a per-attempt and a once-per-call request
/// interceptor, and a per-attempt and a final-only response interceptor
/// (the per-attempt one raising error statuses after recording them).
fn call<const N: usize>(
    seen: &Seen,
    transport: &ScriptedTransport<'_, Req, u16, N>,
    max_retries: u32,
) -> Result<tenace::Retried<u16>, tenace::RetryError<MockError>> {
    let clock = MockClock::new();
    let pipeline = Pipeline::new()
        .request((
            map_request(|r: &mut Req, cx: &AttemptContext| {
                seen.per_attempt_requests
                    .set(seen.per_attempt_requests.get() + 1);
                r.push(cx.attempt)
                    .map_err(|_| MockError::new(FailureKind::Other))
            }),
            // Placed after the per-attempt one, it still runs first: once,
            // on the call's request.
            PerCall(map_request(|r: &mut Req, cx: &AttemptContext| {
                assert_eq!((cx.attempt, cx.elapsed), (1, Duration::ZERO));
                seen.per_call_requests.set(seen.per_call_requests.get() + 1);
                r.push(900).map_err(|_| MockError::new(FailureKind::Other))
            })),
        ))
        .response((
            FinalOnly(map_response(|status: u16, cx: &AttemptContext| {
                seen.final_responses
                    .borrow_mut()
                    .push((status, cx.attempt, cx.elapsed));
                Ok(status + 1)
            })),
            map_response(|status: u16, cx: &AttemptContext| {
                seen.per_attempt_responses.borrow_mut().push(status);
                raise_for_status(status, cx)
            }),
        ));
    block_on(tenace::retry_with(
        transport,
        &clock,
        &policy().max_retries(max_retries),
        &pipeline,
        &mut SeededRng::new(0),
        original(),
    ))
}

#[test]
fn three_attempts_run_per_attempt_interceptors_three_times_and_the_others_once() {
    let seen = Seen::default();
    let t = ScriptedTransport::<Req, u16, 3>::new([Step::ok(503), Step::ok(503), Step::ok(200)]);
    let response = call(&seen, &t, 3).unwrap();
    assert_eq!((response.value, response.attempts), (201, 3));
    assert_eq!(seen.per_attempt_requests.get(), 3);
    assert_eq!(seen.per_call_requests.get(), 1);
    assert_eq!(
        seen.per_attempt_responses.borrow().as_slice(),
        [503, 503, 200]
    );
    // The final response, on attempt 3, after sleeps of 2 s and 4 s.
    assert_eq!(seen.final_responses.borrow().as_slice(), [(200, 3, s(6))]);
    // The once-per-call change is on every attempt, made once; each
    // attempt's own change is on its copy only.
    let sent = t.requests();
    assert_eq!(sent[0].as_slice(), [1, 900, 1]);
    assert_eq!(sent[1].as_slice(), [1, 900, 2]);
    assert_eq!(sent[2].as_slice(), [1, 900, 3]);
}

#[test]
fn an_error_ending_is_never_seen_by_a_final_only_interceptor() {
    let seen = Seen::default();
    let t = ScriptedTransport::<Req, u16, 3>::new([
        Step::fail(FailureKind::Io),
        Step::ok(503),
        Step::ok(502),
    ]);
    let err = call(&seen, &t, 2).unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert_eq!(
        err.last_error(),
        Some(&MockError::new(FailureKind::Status(502)))
    );
    assert_eq!(seen.per_attempt_requests.get(), 3);
    assert_eq!(seen.per_call_requests.get(), 1);
    // The transport's failure is no response: two responses were seen.
    assert_eq!(seen.per_attempt_responses.borrow().as_slice(), [503, 502]);
    assert!(seen.final_responses.borrow().is_empty());
}

#[test]
fn a_first_attempt_success_runs_every_interceptor_once() {
    let seen = Seen::default();
    let t = ScriptedTransport::<Req, u16, 1>::new([Step::ok(204)]);
    assert_eq!(call(&seen, &t, 3).unwrap().value, 205);
    assert_eq!(seen.per_attempt_requests.get(), 1);
    assert_eq!(seen.per_call_requests.get(), 1);
    assert_eq!(seen.per_attempt_responses.borrow().as_slice(), [204]);
    assert_eq!(
        seen.final_responses.borrow().as_slice(),
        [(204, 1, Duration::ZERO)]
    );
    assert_eq!(t.requests()[0].as_slice(), [1, 900, 1]);
}

/// Records what the middleware hears.
#[derive(Default)]
struct Recorder {
    admitted: Cell<u32>,
    attempts: Cell<u32>,
    calls: RefCell<Vec<CallResult>>,
}

impl Middleware for Recorder {
    fn before_call(&self, _now: tenace::Instant) -> Result<(), StopReason> {
        self.admitted.set(self.admitted.get() + 1);
        Ok(())
    }
    fn after_attempt(&self, _outcome: tenace::AttemptOutcome, _now: tenace::Instant) {
        self.attempts.set(self.attempts.get() + 1);
    }
    fn after_call(&self, outcome: &tenace::CallOutcome) {
        self.calls.borrow_mut().push(outcome.result);
    }
}

#[test]
fn a_final_only_error_ends_the_call_without_another_attempt() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<(), u16, 2>::new([Step::ok(200), Step::ok(200)]);
    // A 503 that the predicate would retry, raised after the decision.
    let pipeline = Pipeline::new()
        .response(FinalOnly(map_response(|_: u16, _: &AttemptContext| {
            Err::<u16, _>(MockError::new(FailureKind::Status(503)))
        })))
        .middleware(Recorder::default());
    let err = block_on(tenace::retry_with(
        &t,
        &clock,
        &policy(),
        &pipeline,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert_eq!(
        err.last_error(),
        Some(&MockError::new(FailureKind::Status(503)))
    );
    assert_eq!(t.calls(), 1);
    assert!(clock.sleeps().is_empty());
    let heard = &pipeline.middleware;
    assert_eq!((heard.admitted.get(), heard.attempts.get()), (1, 1));
    assert_eq!(
        heard.calls.borrow().as_slice(),
        [CallResult::Failed(
            StopReason::NotRetryable,
            Some(FailureKind::Status(503))
        )]
    );
}

#[test]
fn a_per_call_error_ends_the_call_before_it_starts() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<(), u16, 1>::new([Step::ok(200)]);
    let per_attempt = Cell::new(0);
    // A connect failure, which the predicate would retry, is not: the
    // interceptor runs outside the retry loop.
    let pipeline = Pipeline::new()
        .request((
            PerCall(map_request(|_: &mut (), _: &AttemptContext| {
                Err(MockError::new(FailureKind::Connect))
            })),
            map_request(|_: &mut (), _: &AttemptContext| {
                per_attempt.set(per_attempt.get() + 1);
                Ok::<(), MockError>(())
            }),
        ))
        .middleware(Recorder::default());
    let err = block_on(tenace::retry_with(
        &t,
        &clock,
        &policy(),
        &pipeline,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 0)
    );
    assert_eq!(
        err.last_error(),
        Some(&MockError::new(FailureKind::Connect))
    );
    assert_eq!((t.calls(), per_attempt.get()), (0, 0));
    // The call never started: the middleware heard nothing of it.
    let heard = &pipeline.middleware;
    assert_eq!((heard.admitted.get(), heard.attempts.get()), (0, 0));
    assert!(heard.calls.borrow().is_empty());
}

#[test]
fn wrappers_forward_through_references_and_nested_tuples() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<Req, u16, 2>::new([Step::fail(FailureKind::Io), Step::ok(200)]);
    let once = PerCall(map_request(|r: &mut Req, _: &AttemptContext| {
        r.push(900).map_err(|_| MockError::new(FailureKind::Other))
    }));
    let finals = Cell::new(0);
    let last = FinalOnly(map_response(|status: u16, _: &AttemptContext| {
        finals.set(finals.get() + 1);
        Ok::<u16, MockError>(status)
    }));
    let pipeline = Pipeline::new()
        .request(((&once,), ()))
        .response(((), (&last,)));
    let response = block_on(tenace::retry_with(
        &t,
        &clock,
        &policy(),
        &pipeline,
        &mut SeededRng::new(0),
        original(),
    ))
    .unwrap();
    assert_eq!((response.value, response.attempts), (200, 2));
    assert_eq!(finals.get(), 1);
    let sent = t.requests();
    assert_eq!(sent[0].as_slice(), [1, 900]);
    assert_eq!(sent[1].as_slice(), [1, 900]);
}
