//! The drivers end to end on the testing kit: exact schedules on virtual time.
#![allow(clippy::std_instead_of_core)]

use core::cell::{Cell, RefCell};
use core::time::Duration;
use std::error::Error as _;

use embassy_futures::block_on;
use tenace::testing::{MockClock, MockError, ScriptedTransport, Step};
use tenace::{
    AttemptContext, CallResult, Clock, DecorrelatedJitter, ExponentialBackoff, FailureKind,
    FixedDelay, Instant, LinearBackoff, Middleware, Pipeline, Policy, RequestInterceptor,
    RetryEvent, SeededRng, StopReason, TransientErrors,
};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn exp() -> Policy<ExponentialBackoff> {
    Policy::new(ExponentialBackoff::new(s(1), 2, s(30)).unwrap())
}

#[test]
fn max_retries_three_means_four_attempts_with_the_reference_schedule() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 5>::new([
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Timeout),
        Step::fail(FailureKind::Connect),
        Step::ok(200),
    ]);
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &exp().max_retries(3),
        &mut SeededRng::new(0),
        "GET",
    ))
    .unwrap_err();
    assert_eq!(err.reason(), StopReason::Exhausted);
    assert_eq!(err.attempts(), 4);
    assert_eq!(t.calls(), 4);
    assert_eq!(clock.sleeps().as_slice(), [s(2), s(4), s(8)]);
    assert_eq!(clock.now(), Instant::from_millis(14_000));
    // The last underlying error is the source.
    assert_eq!(
        err.last_error(),
        Some(&MockError::new(FailureKind::Connect))
    );
    let source = err.source().expect("source");
    assert_eq!(source.to_string(), "scripted connect failure");
    assert_eq!(err.to_string(), "all 4 attempts failed");
}

#[test]
fn succeeds_on_the_last_allowed_attempt() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 4>::new([
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Connect),
        Step::ok(200),
    ]);
    let policy = Policy::new(LinearBackoff::new(s(1), s(1), s(5)).unwrap());
    let r = block_on(tenace::retry(
        &t,
        &clock,
        &policy,
        &mut SeededRng::new(0),
        (),
    ));
    assert_eq!(r.unwrap().value, 200);
    assert_eq!(clock.sleeps().as_slice(), [s(2), s(3), s(4)]);
}

#[test]
fn zero_retries_is_one_attempt() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 2>::new([Step::fail(FailureKind::Io), Step::ok(200)]);
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &exp().max_retries(0),
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts(), t.calls()),
        (StopReason::Exhausted, 1, 1)
    );
    assert!(clock.sleeps().is_empty());
}

#[test]
fn per_request_override_leaves_the_client_default_alone() {
    let client = exp().max_retries(1);
    let this_request = client.max_retries(5).with_strategy(FixedDelay::new(ms(10)));
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 6>::new([
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Io),
        Step::ok(7),
    ]);
    assert_eq!(
        block_on(tenace::retry(
            &t,
            &clock,
            &this_request,
            &mut SeededRng::new(0),
            ()
        ))
        .unwrap()
        .value,
        7
    );
    assert_eq!(clock.sleeps().as_slice(), [ms(10); 5]);
    assert_eq!(client.limits().max_retries, 1);

    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 3>::new([
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Io),
        Step::ok(7),
    ]);
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &client,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(err.attempts(), 2);
    assert_eq!(clock.sleeps().as_slice(), [s(2)]);
}

#[test]
fn predicate_refusal_returns_the_original_error_at_once() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 2>::new([Step::status(404, None), Step::ok(200)]);
    // Default predicate: HTTP statuses are not retried.
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &exp(),
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(err.reason(), StopReason::NotRetryable);
    assert!(!err.is_exhausted());
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        err.into_last_error(),
        Some(MockError::new(FailureKind::Status(404)))
    );
    assert!(clock.sleeps().is_empty());

    // A closure predicate sees the error itself.
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 3>::new([
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Timeout),
        Step::ok(1),
    ]);
    let only_io = exp().retry_on(|e: &MockError| e.kind == FailureKind::Io);
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &only_io,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 2)
    );
    assert_eq!(err.last_error().unwrap().kind, FailureKind::Timeout);
}

#[test]
fn opt_in_status_retries_wait_at_least_the_hint_and_stop_on_one_past_the_cap() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 5>::new([
        Step::status(503, None),
        Step::status(429, Some(s(7))),
        Step::status(429, Some(s(1))),
        Step::status(501, None),
        Step::ok(200),
    ]);
    let policy = Policy::new(ExponentialBackoff::new(s(1), 2, s(10)).unwrap())
        .max_retries(5)
        .retry_on(TransientErrors);
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &policy,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    // 503 → strategy 2 s; 429 hint 7 s > 4 s; hint 1 s < 8 s; 501 is not transient.
    assert_eq!(clock.sleeps().as_slice(), [s(2), s(7), s(8)]);
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 4)
    );

    // A hint above the cap (default 300 s) stops the call at once, with
    // the server's wait; the strategy's `max_delay` plays no part.
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 3>::new([
        Step::status(429, Some(s(2))),
        Step::status(429, Some(s(999_999_999))),
        Step::ok(1),
    ]);
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &policy,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(clock.sleeps().as_slice(), [s(2)]);
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::ServerWait(s(999_999_999)), 2)
    );
    assert_eq!(err.server_wait(), Some(s(999_999_999)));
    assert_eq!(t.calls(), 2);

    // An explicit cap, and a hint shorter than the strategy's delay.
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 3>::new([
        Step::status(429, Some(s(3))),
        Step::status(429, Some(ms(1))),
        Step::ok(1),
    ]);
    let capped = policy.retry_after_cap(s(3));
    assert_eq!(
        block_on(tenace::retry(
            &t,
            &clock,
            &capped,
            &mut SeededRng::new(0),
            ()
        ))
        .unwrap()
        .value,
        1
    );
    assert_eq!(clock.sleeps().as_slice(), [s(3), s(4)]);
    let t = ScriptedTransport::<_, u16, 1>::new([Step::status(429, Some(s(4)))]);
    let err = block_on(tenace::retry(
        &t,
        &MockClock::new(),
        &capped,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(err.reason(), StopReason::ServerWait(s(4)));
    assert_eq!(
        err.to_string(),
        "the server asked to wait 4 s, past the cap or the deadline (after 1 attempt)"
    );
}

#[test]
fn deadline_counts_attempts_and_sleeps_and_never_starts_a_sleep_past_it() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 6>::new([
        Step::fail(FailureKind::Io).after(ms(500)),
        Step::fail(FailureKind::Io).after(ms(500)),
        Step::fail(FailureKind::Io).after(ms(500)),
        Step::fail(FailureKind::Io).after(ms(500)),
        Step::fail(FailureKind::Io).after(ms(500)),
        Step::ok(1),
    ])
    .with_clock(&clock);
    let policy = exp().max_retries(10).deadline(s(10));
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &policy,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    // t=0.5 fail, sleep 2 → 2.5; t=3.0 fail, sleep 4 → 7.0; t=7.5 fail, next sleep 8 s would end at 15.5 > 10: stop.
    assert_eq!(clock.sleeps().as_slice(), [s(2), s(4)]);
    assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 3));
    assert_eq!(clock.now(), Instant::from_millis(7_500));
    assert_eq!(err.last_error().unwrap().kind, FailureKind::Io);
}

#[test]
fn deadline_cuts_a_hanging_attempt() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 2>::new([Step::fail(FailureKind::Io), Step::hang()])
        .with_clock(&clock);
    let policy = Policy::new(FixedDelay::new(s(1))).deadline(s(5));
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &policy,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    // Attempt 2 starts at 1 s with 4 s left; the hang is cut at 5 s.
    assert_eq!(clock.sleeps().as_slice(), [s(1), s(4)]);
    assert_eq!(clock.now(), Instant::from_millis(5_000));
    assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 2));
    assert_eq!(err.last_error().unwrap().kind, FailureKind::Timeout);
}

#[test]
fn per_attempt_timeout_cuts_each_hanging_attempt() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 3>::new([Step::hang(), Step::hang(), Step::ok(9)])
        .with_clock(&clock);
    let policy = Policy::new(FixedDelay::new(ms(100))).attempt_timeout(ms(250));
    let r = block_on(tenace::retry(
        &t,
        &clock,
        &policy,
        &mut SeededRng::new(0),
        (),
    ));
    assert_eq!(r.unwrap().value, 9);
    // Timeout sleeps (250 ms) interleave with backoff sleeps (100 ms).
    assert_eq!(
        clock.sleeps().as_slice(),
        [ms(250), ms(100), ms(250), ms(100)]
    );
    assert_eq!(clock.now(), Instant::from_millis(700));
}

#[test]
fn timed_out_attempts_of_a_non_idempotent_request_are_not_replayed() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 2>::new([Step::hang(), Step::ok(1)])
        .replay(tenace::Replay::Unsafe);
    let policy = Policy::new(FixedDelay::new(ms(100))).attempt_timeout(ms(250));
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &policy,
        &mut SeededRng::new(0),
        "POST",
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts(), t.calls()),
        (StopReason::NotIdempotent, 1, 1)
    );
}

#[test]
fn idempotency_rules() {
    // A failure before anything was sent is always retried; after sending, only when replay-safe.
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 3>::new([
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Io),
        Step::ok(1),
    ])
    .replay(tenace::Replay::Unsafe);
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &exp(),
        &mut SeededRng::new(0),
        "POST",
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts(), t.calls()),
        (StopReason::NotIdempotent, 2, 2)
    );
    assert!(err.to_string().contains("not idempotent"));

    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 3>::new([
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Io),
        Step::ok(1),
    ]);
    assert_eq!(
        block_on(tenace::retry(
            &t,
            &clock,
            &exp(),
            &mut SeededRng::new(0),
            "PUT"
        ))
        .unwrap()
        .value,
        1
    );
    assert_eq!(t.calls(), 3);
}

/// Appends the attempt number to a fresh copy of the request each time.
struct Stamp {
    tokens_fetched: Cell<u32>,
}

impl RequestInterceptor<heapless::Vec<u32, 8>, MockError> for Stamp {
    async fn intercept(
        &self,
        request: &mut heapless::Vec<u32, 8>,
        cx: &AttemptContext,
    ) -> Result<(), MockError> {
        // An async token provider: awaited on every attempt.
        embassy_futures::yield_now().await;
        self.tokens_fetched.set(self.tokens_fetched.get() + 1);
        request
            .push(cx.attempt * 100 + self.tokens_fetched.get())
            .unwrap();
        Ok(())
    }
}

#[test]
fn interceptors_rerun_on_a_fresh_copy_every_attempt() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<heapless::Vec<u32, 8>, u16, 3>::new([
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Timeout),
        Step::ok(200),
    ]);
    let stamp = Stamp {
        tokens_fetched: Cell::new(0),
    };
    let pipeline = Pipeline::new()
        .request((
            stamp,
            tenace::map_request(|r: &mut heapless::Vec<u32, 8>, _cx: &AttemptContext| {
                r.push(7).map_err(|_| MockError::new(FailureKind::Other))
            }),
        ))
        .response(tenace::map_response(|resp: u16, cx: &AttemptContext| {
            assert_eq!(cx.attempt, 3);
            Ok(resp + 1)
        }));
    let mut original = heapless::Vec::new();
    original.push(1).unwrap();
    let r = block_on(tenace::retry_with(
        &t,
        &clock,
        &exp(),
        &pipeline,
        &mut SeededRng::new(0),
        original.clone(),
    ));
    assert_eq!(r.unwrap().value, 201);
    let seen = t.requests();
    assert_eq!(seen[0].as_slice(), [1, 101, 7]);
    assert_eq!(seen[1].as_slice(), [1, 202, 7]);
    assert_eq!(seen[2].as_slice(), [1, 303, 7]);
    assert_eq!(pipeline.request.0.tokens_fetched.get(), 3);
    assert_eq!(original.as_slice(), [1]);
}

#[test]
fn a_response_interceptor_error_is_retried_like_any_failure() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 2>::new([Step::ok(503), Step::ok(200)]);
    let raise_for_status = tenace::map_response(|status: u16, _: &AttemptContext| {
        if status >= 400 {
            Err(MockError::new(FailureKind::Status(status)))
        } else {
            Ok(status)
        }
    });
    let pipeline = Pipeline::new().response(raise_for_status);
    let policy = exp().retry_on(TransientErrors);
    assert_eq!(
        block_on(tenace::retry_with(
            &t,
            &clock,
            &policy,
            &pipeline,
            &mut SeededRng::new(0),
            ()
        ))
        .unwrap()
        .value,
        200
    );
    assert_eq!(clock.sleeps().as_slice(), [s(2)]);
}

#[derive(Default)]
struct Recorder {
    retries: RefCell<Vec<RetryEvent>>,
    calls: RefCell<Vec<CallResult>>,
    attempts: Cell<u32>,
}

impl Middleware for Recorder {
    fn after_attempt(&self, _outcome: tenace::AttemptOutcome, _now: Instant) {
        self.attempts.set(self.attempts.get() + 1);
    }
    fn on_retry(&self, event: &RetryEvent) {
        self.retries.borrow_mut().push(*event);
    }
    fn after_call(&self, outcome: &tenace::CallOutcome) {
        self.calls.borrow_mut().push(outcome.result);
    }
}

#[test]
fn hooks_see_every_retry_with_its_delay() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 3>::new([
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Io),
        Step::ok(1),
    ]);
    let pipeline = Pipeline::new().middleware(Recorder::default());
    block_on(tenace::retry_with(
        &t,
        &clock,
        &exp(),
        &pipeline,
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap();
    let r = &pipeline.middleware;
    let retries = r.retries.borrow();
    assert_eq!(retries.len(), 2);
    assert_eq!(
        (retries[0].attempt, retries[0].kind, retries[0].delay),
        (1, FailureKind::Connect, s(2))
    );
    assert_eq!(
        (
            retries[1].attempt,
            retries[1].kind,
            retries[1].delay,
            retries[1].elapsed
        ),
        (2, FailureKind::Io, s(4), s(2))
    );
    assert_eq!(r.attempts.get(), 3);
    assert_eq!(r.calls.borrow().as_slice(), [CallResult::Success]);
}

#[test]
fn dropping_the_future_mid_sleep_reports_a_cancelled_call() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 2>::new([Step::fail(FailureKind::Io), Step::ok(1)]);
    let pipeline = Pipeline::new().middleware(Recorder::default());
    let mut rng = SeededRng::new(0);
    let policy = exp();
    {
        let fut = tenace::retry_with(&t, &clock, &policy, &pipeline, &mut rng, ());
        let mut fut = core::pin::pin!(fut);
        // Two polls: the attempt yields once, then the backoff sleep yields.
        let waker = std::task::Waker::noop();
        let mut cx = core::task::Context::from_waker(waker);
        for _ in 0..2 {
            assert!(fut.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(t.calls(), 1);
    }
    assert_eq!(
        pipeline.middleware.calls.borrow().as_slice(),
        [CallResult::Cancelled]
    );
    assert_eq!(t.calls(), 1);
}

#[test]
fn concurrent_calls_sharing_one_decorrelated_jitter_do_not_leak_state() {
    let policy = Policy::new(DecorrelatedJitter::new(ms(100), s(60)).unwrap()).max_retries(6);
    let script = || {
        ScriptedTransport::<_, u16, 7>::new([
            Step::fail(FailureKind::Io),
            Step::fail(FailureKind::Io),
            Step::fail(FailureKind::Io),
            Step::fail(FailureKind::Io),
            Step::fail(FailureKind::Io),
            Step::fail(FailureKind::Io),
            Step::ok(1),
        ])
    };
    // Alone.
    let (alone_a, alone_b) = {
        let (ca, cb) = (MockClock::new(), MockClock::new());
        let (ta, tb) = (script(), script());
        block_on(tenace::retry(&ta, &ca, &policy, &mut SeededRng::new(1), ())).unwrap();
        block_on(tenace::retry(&tb, &cb, &policy, &mut SeededRng::new(2), ())).unwrap();
        (ca.sleeps(), cb.sleeps())
    };
    // Interleaved on one executor, the same configured strategy.
    let (ca, cb) = (MockClock::new(), MockClock::new());
    let (ta, tb) = (script(), script());
    let (mut ra, mut rb) = (SeededRng::new(1), SeededRng::new(2));
    let (a, b) = block_on(embassy_futures::join::join(
        tenace::retry(&ta, &ca, &policy, &mut ra, ()),
        tenace::retry(&tb, &cb, &policy, &mut rb, ()),
    ));
    assert_eq!((a.unwrap().value, b.unwrap().value), (1, 1));
    assert_eq!(ca.sleeps(), alone_a);
    assert_eq!(cb.sleeps(), alone_b);
    assert_ne!(alone_a, alone_b);
    // Each schedule follows the decorrelated rule from base.
    let mut prev = ms(100);
    for &d in alone_a.iter() {
        assert!(d >= ms(100) && d <= prev * 3);
        prev = d;
    }
    assert_eq!(policy.strategy().last(), ms(100));
}

#[test]
fn blocking_driver_follows_the_same_schedule() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 4>::new([
        Step::fail(FailureKind::Io),
        Step::hang(),
        Step::fail(FailureKind::Connect).after(ms(300)),
        Step::ok(5),
    ])
    .with_clock(&clock);
    let policy = exp().attempt_timeout(ms(500));
    let r = tenace::retry_blocking(&t, &clock, &policy, &(), &mut SeededRng::new(0), ());
    assert_eq!(r.unwrap().value, 5);
    assert_eq!(clock.sleeps().as_slice(), [s(2), s(4), s(8)]);
    assert_eq!(clock.now(), Instant::from_millis(14_800));

    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 2>::new([Step::status(400, None), Step::ok(5)]);
    let err =
        tenace::retry_blocking(&t, &clock, &exp(), &(), &mut SeededRng::new(0), ()).unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
}

#[test]
fn a_deadline_already_past_makes_no_attempt() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u16, 1>::new([Step::ok(1)]);
    let err = block_on(tenace::retry(
        &t,
        &clock,
        &exp().deadline(Duration::ZERO),
        &mut SeededRng::new(0),
        (),
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts(), t.calls()),
        (StopReason::Deadline, 0, 0)
    );
    assert!(err.last_error().is_none());
}

#[test]
fn mock_clock_is_a_clock() {
    let clock = MockClock::new();
    block_on(Clock::sleep(&clock, ms(5)));
    assert_eq!(Clock::now(&clock), Instant::from_millis(5));
}
