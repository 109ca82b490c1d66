//! Hedged calls on virtual time: exact timelines of copies, timers and
//! cancellations.
#![allow(clippy::std_instead_of_core)]

use core::cell::RefCell;
use core::time::Duration;

use embassy_futures::block_on;
use tenace::testing::{
    MockClock, MockError, ScriptedTransport, SleepRecord, SleepingTransport, Step,
};
use tenace::{
    AttemptOutcome, BreakerConfig, CallOutcome, CircuitBreaker, FailureKind, FixedDelay, Hedge,
    HedgeDelay, Instant, LinearBackoff, Middleware, Never, Pipeline, Policy, Replay, Retried,
    RetryBudget, RetryError, RetryEvent, SeededRng, StopReason, TransientErrors, Transport,
};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
const S: Duration = Duration::from_secs(1);

fn at(d: Duration) -> Instant {
    Instant::ZERO.saturating_add(d)
}

fn policy() -> Policy<FixedDelay> {
    Policy::new(FixedDelay::new(S * 7))
}

/// `steps` played on `clock`, each step's latency slept on it.
fn sleeping<Q, R, const N: usize>(
    clock: &MockClock,
    steps: [Step<R>; N],
) -> SleepingTransport<'_, Q, R, N> {
    ScriptedTransport::new(steps)
        .with_clock(clock)
        .latency_sleeps()
}

/// A hedged `GET /` through `t` under [`policy`], jitter seeded with 1.
fn hedged_get<T, const H: usize>(
    t: &T,
    clock: &MockClock,
    hedge: &Hedge<H>,
) -> Result<Retried<T::Response>, RetryError<MockError>>
where
    T: Transport<Request = &'static str, Error = MockError>,
{
    block_on(tenace::hedge(
        t,
        clock,
        &policy(),
        hedge,
        &mut SeededRng::new(1),
        "GET /",
    ))
}

/// Records every hook as a line, with the time in milliseconds.
#[derive(Default)]
struct Log(RefCell<Vec<String>>);

impl Log {
    fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

impl Middleware for Log {
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        self.0
            .borrow_mut()
            .push(format!("before {}", now.as_duration().as_millis()));
        Ok(())
    }
    fn after_attempt(&self, outcome: AttemptOutcome, now: Instant) {
        self.0.borrow_mut().push(format!(
            "attempt {outcome:?} {}",
            now.as_duration().as_millis()
        ));
    }
    fn on_retry(&self, event: &RetryEvent) {
        self.0.borrow_mut().push(format!(
            "hedge after {} {:?} at {}",
            event.attempt,
            event.kind,
            event.elapsed.as_millis()
        ));
    }
    fn after_call(&self, outcome: &CallOutcome) {
        self.0.borrow_mut().push(format!(
            "after {:?} {} {}",
            outcome.result,
            outcome.attempts,
            outcome.finished.as_duration().as_millis()
        ));
    }
}

#[test]
fn a_slow_first_copy_is_overtaken_by_the_hedge() {
    let clock = MockClock::new();
    let t = sleeping(
        &clock,
        [Step::ok("slow").after(S * 5), Step::ok("fast").after(S)],
    );
    let log = Log::default();
    let pipeline = Pipeline::new().middleware(&log);
    let answer = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy(),
        &Hedge::<1>::after(S),
        &pipeline,
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap();
    assert_eq!(
        (answer.value, answer.attempts, answer.slept),
        ("fast", 2, Duration::ZERO)
    );
    assert_eq!(clock.now(), at(S * 2));
    assert_eq!((t.calls(), t.cancelled()), (2, 1));
    // The hedge timer (1 s from 0) and copy 2's latency (1 s from 1 s)
    // ended; copy 1's 5 s was dropped.
    assert_eq!(
        clock.records().as_slice(),
        [
            SleepRecord {
                at: at(Duration::ZERO),
                duration: S
            },
            SleepRecord {
                at: at(S),
                duration: S
            },
        ]
    );
    assert_eq!(
        log.lines(),
        [
            "before 0",
            "hedge after 1 Timeout at 1000",
            "attempt Success 2000",
            "after Success 2 2000",
        ]
    );
}

#[test]
fn a_fast_first_copy_never_starts_the_hedge() {
    let clock = MockClock::new();
    let t = sleeping(&clock, [Step::ok(1).after(ms(500)), Step::ok(2)]);
    let answer = hedged_get(&t, &clock, &Hedge::<3>::after(S)).unwrap();
    assert_eq!((answer.value, answer.attempts), (1, 1));
    assert_eq!(clock.now(), at(ms(500)));
    assert_eq!((t.calls(), t.cancelled()), (1, 0));
    // Only copy 1's latency: the hedge timer was dropped before its end.
    assert_eq!(clock.sleeps().as_slice(), [ms(500)]);
}

#[test]
fn a_post_is_never_hedged() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, _, 2>::new([Step::ok("slow").after(S * 5), Step::ok("fast")])
        .with_clock(&clock)
        .latency_sleeps()
        .replay(Replay::Unsafe);
    let answer = block_on(tenace::hedge(
        &t,
        &clock,
        &policy(),
        &Hedge::<2>::after(S),
        &mut SeededRng::new(1),
        "POST /",
    ))
    .unwrap();
    assert_eq!((answer.value, answer.attempts), ("slow", 1));
    assert_eq!(clock.now(), at(S * 5));
    assert_eq!((t.calls(), t.cancelled()), (1, 0));
    // A failure that may have reached the server starts no copy either;
    // one that never left does.
    for (first, calls, result) in [
        (FailureKind::Io, 1, Err(StopReason::NotIdempotent)),
        (FailureKind::Connect, 2, Ok("second")),
    ] {
        let clock = MockClock::new();
        let t = ScriptedTransport::<_, _, 2>::new([Step::fail(first), Step::ok("second")])
            .with_clock(&clock)
            .replay(Replay::Unsafe);
        let got = block_on(tenace::hedge(
            &t,
            &clock,
            &policy(),
            &Hedge::<2>::after(S),
            &mut SeededRng::new(1),
            "POST /",
        ));
        assert_eq!(got.map(|r| r.value).map_err(|e| e.reason()), result);
        assert_eq!(t.calls(), calls);
        assert_eq!(clock.now(), Instant::ZERO);
    }
}

#[test]
fn a_retryable_failure_starts_the_next_copy_at_once() {
    let clock = MockClock::new();
    let t = sleeping(
        &clock,
        [
            Step::fail(FailureKind::Io).after(ms(200)),
            Step::ok("second").after(ms(300)),
        ],
    );
    let log = Log::default();
    let answer = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy(),
        &Hedge::<1>::after(S),
        &Pipeline::new().middleware(&log),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap();
    assert_eq!((answer.value, answer.attempts), ("second", 2));
    // Copy 2 started at 0.2 s, not at the 1 s delay.
    assert_eq!(clock.now(), at(ms(500)));
    assert_eq!(
        clock.records().as_slice(),
        [
            SleepRecord {
                at: Instant::ZERO,
                duration: ms(200)
            },
            SleepRecord {
                at: at(ms(200)),
                duration: ms(300)
            },
        ]
    );
    assert_eq!(
        log.lines(),
        [
            "before 0",
            "attempt Failure(Io) 200",
            "hedge after 1 Io at 200",
            "attempt Success 500",
            "after Success 2 500",
        ]
    );
}

#[test]
fn a_refused_failure_ends_the_call_and_drops_the_other_copies() {
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 2>(
        &clock,
        [Step::ok(1).after(S * 5), Step::status(404, None).after(S)],
    );
    let err = block_on(tenace::hedge(
        &t,
        &clock,
        &policy().retry_on(TransientErrors),
        &Hedge::<1>::after(S),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 2)
    );
    assert_eq!(
        err.last_error().map(|e| e.kind),
        Some(FailureKind::Status(404))
    );
    assert_eq!(clock.now(), at(S * 2));
    assert_eq!(t.cancelled(), 1);
}

#[test]
fn every_copy_failing_exhausts_the_call() {
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 3>(
        &clock,
        [
            Step::fail(FailureKind::Io).after(S * 3),
            Step::fail(FailureKind::Timeout).after(S * 3),
            Step::fail(FailureKind::Io).after(S),
        ],
    );
    let log = Log::default();
    let err = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy(),
        &Hedge::<2>::after(S),
        &Pipeline::new().middleware(&log),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap_err();
    // Copies start at 0, 1 and 2 s; they fail at 3 s, 4 s and 3 s.
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert_eq!(err.last_error().map(|e| e.kind), Some(FailureKind::Timeout));
    assert_eq!(clock.now(), at(S * 4));
    assert_eq!(
        log.lines(),
        [
            "before 0",
            "hedge after 1 Timeout at 1000",
            "hedge after 2 Timeout at 2000",
            "attempt Failure(Io) 3000",
            "attempt Failure(Io) 3000",
            "attempt Failure(Timeout) 4000",
            "after Failed(Exhausted, Some(Timeout)) 3 4000",
        ]
    );
}

/// A budget of 10 tokens drained to half: it allows no retry.
fn drained_budget() -> RetryBudget {
    let budget = RetryBudget::new(10, 1, 10).unwrap();
    for _ in 0..5 {
        budget.record_failure();
    }
    budget
}

#[test]
fn the_budget_vetoes_a_hedge_and_the_first_copy_goes_on() {
    let budget = drained_budget();
    let clock = MockClock::new();
    let t = sleeping(&clock, [Step::ok("slow").after(S * 5), Step::ok("fast")]);
    let answer = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy(),
        &Hedge::<1>::after(S),
        &Pipeline::new().middleware(&budget),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap();
    assert_eq!((answer.value, answer.attempts), ("slow", 1));
    assert_eq!(clock.now(), at(S * 5));
    assert_eq!((t.calls(), budget.refused()), (1, 1));
    // After a failure, a vetoed copy ends the call with the failure.
    let budget = drained_budget();
    let t = ScriptedTransport::<_, u8, 2>::new([Step::fail(FailureKind::Io), Step::ok(2)]);
    let err = block_on(tenace::hedge_with(
        &t,
        &MockClock::new(),
        &policy(),
        &Hedge::<1>::after(S),
        &Pipeline::new().middleware(&budget),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Budget, 1));
    assert_eq!(err.last_error().map(|e| e.kind), Some(FailureKind::Io));
    assert_eq!((t.calls(), budget.refused()), (1, 1));
}

#[test]
fn every_failed_copy_costs_the_budget_a_token() {
    let budget = RetryBudget::new(10, 1, 10).unwrap();
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 3>(
        &clock,
        [
            Step::fail(FailureKind::Io).after(S * 3),
            Step::fail(FailureKind::Timeout).after(S * 3),
            Step::fail(FailureKind::Io).after(S),
        ],
    );
    let err = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy(),
        &Hedge::<2>::after(S),
        &Pipeline::new().middleware(&budget),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert_eq!((budget.tokens(), budget.refused()), (7, 0));
}

#[test]
fn the_deadline_cuts_every_copy() {
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 3>(
        &clock,
        [
            Step::ok(1).after(S * 9),
            Step::ok(2).after(S * 9),
            Step::ok(3).after(S * 9),
        ],
    );
    let log = Log::default();
    let err = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy().deadline(ms(2500)),
        &Hedge::<5>::after(S),
        &Pipeline::new().middleware(&log),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap_err();
    // Copies at 0, 1 and 2 s; the one due at 3 s is past the deadline.
    assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 3));
    assert_eq!(clock.now(), at(ms(2500)));
    assert_eq!((t.calls(), t.cancelled()), (3, 3));
    assert_eq!(
        log.lines().last().map(String::as_str),
        Some("after Failed(Deadline, Some(Timeout)) 3 2500")
    );
    // A predicate that retries nothing ends the call at the first timeout.
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u8, 1>::new([Step::hang()]).with_clock(&clock);
    let err = block_on(tenace::hedge(
        &t,
        &clock,
        &policy().deadline(ms(2500)).retry_on(Never),
        &Hedge::<5>::after(S * 10),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert_eq!(clock.now(), at(ms(2500)));
}

#[test]
fn the_middleware_hears_one_call_with_every_copy() {
    let clock = MockClock::new();
    let t = sleeping(
        &clock,
        [
            Step::fail(FailureKind::Io).after(ms(1500)),
            Step::ok("b").after(S * 5),
            Step::ok("c").after(ms(500)),
        ],
    );
    let log = Log::default();
    let answer = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy(),
        &Hedge::<2>::after(S),
        &Pipeline::new().middleware(&log),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap();
    // Copy 2 by the timer at 1 s; copy 1 fails at 1.5 s and starts copy
    // 3 (before its timer, due at 2 s), which answers at 2 s.
    assert_eq!((answer.value, answer.attempts), ("c", 3));
    assert_eq!(clock.now(), at(S * 2));
    assert_eq!(
        log.lines(),
        [
            "before 0",
            "hedge after 1 Timeout at 1000",
            "attempt Failure(Io) 1500",
            "hedge after 2 Io at 1500",
            "attempt Success 2000",
            "after Success 3 2000",
        ]
    );
}

#[test]
fn the_strategy_and_on_failure_delays() {
    // Linear: copy 2 at 1 s after copy 1, copy 3 at 2 s after copy 2.
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 3>(
        &clock,
        [
            Step::ok(1).after(S * 9),
            Step::ok(2).after(S * 9),
            Step::ok(3).after(ms(100)),
        ],
    );
    let linear = Policy::new(LinearBackoff::new(Duration::ZERO, S, S * 10).unwrap());
    let answer = block_on(tenace::hedge(
        &t,
        &clock,
        &linear,
        &Hedge::<2>::new(HedgeDelay::Strategy),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap();
    assert_eq!((answer.value, answer.attempts), (3, 3));
    assert_eq!(clock.now(), at(ms(3100)));
    // OnFailure: no timer; copies follow failures only.
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 2>(
        &clock,
        [
            Step::fail(FailureKind::Timeout).after(S * 4),
            Step::ok(2).after(S),
        ],
    );
    let answer = hedged_get(&t, &clock, &Hedge::<1>::new(HedgeDelay::OnFailure)).unwrap();
    assert_eq!((answer.value, answer.attempts), (2, 2));
    assert_eq!(clock.now(), at(S * 5));
    // A zero delay starts every copy at once.
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 3>(
        &clock,
        [
            Step::ok(1).after(S * 3),
            Step::ok(2).after(S * 2),
            Step::ok(3).after(S),
        ],
    );
    let answer = hedged_get(&t, &clock, &Hedge::<2>::after(Duration::ZERO)).unwrap();
    assert_eq!((answer.value, answer.attempts), (3, 3));
    assert_eq!(clock.now(), at(S));
    assert_eq!(t.cancelled(), 2);
}

#[test]
fn max_extra_limits_the_copies_below_n() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u8, 3>::new([
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Io),
        Step::ok(3),
    ])
    .with_clock(&clock);
    let err = hedged_get(&t, &clock, &Hedge::<4>::after(S).max_extra(1)).unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts(), t.calls()),
        (StopReason::Exhausted, 2, 2)
    );
}

#[test]
fn a_server_hint_starts_no_more_copies() {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, u8, 2>::new([
        Step::error(MockError {
            kind: FailureKind::Status(503),
            retry_after: Some(S * 30),
        }),
        Step::ok(2),
    ])
    .with_clock(&clock);
    let err = block_on(tenace::hedge(
        &t,
        &clock,
        &policy().retry_on(TransientErrors),
        &Hedge::<1>::after(S),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap_err();
    assert_eq!(err.reason(), StopReason::ServerWait(S * 30));
    assert_eq!(t.calls(), 1);
}

#[test]
fn a_dropped_hedged_call_is_cancelled_once() {
    let log = Log::default();
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 2>(&clock, [Step::hang(), Step::hang()]);
    let pipeline = Pipeline::new().middleware(&log);
    let policy = policy();
    let hedge = Hedge::<1>::after(S);
    let mut rng = SeededRng::new(1);
    {
        let call = tenace::hedge_with(&t, &clock, &policy, &hedge, &pipeline, &mut rng, "GET /");
        // Poll until both copies run; the call is dropped with the block.
        let mut call = core::pin::pin!(call);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        while t.calls() < 2 {
            assert!(call.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(t.cancelled(), 0);
    }
    assert_eq!(t.cancelled(), 2);
    assert_eq!(
        log.lines().last().map(String::as_str),
        Some("after Cancelled 2 0")
    );
    assert_eq!(
        log.lines()
            .iter()
            .filter(|l| l.starts_with("after"))
            .count(),
        1
    );
}

#[test]
fn each_extra_copy_adds_one_slot_to_the_future() {
    let t = ScriptedTransport::<&str, u8, 1>::new([Step::ok(1)]);
    let clock = MockClock::new();
    let policy = policy();
    let mut rng = SeededRng::new(1);
    let plain = core::mem::size_of_val(&tenace::retry(&t, &clock, &policy, &mut rng, "GET"));
    let (h0, h1, h3) = (
        Hedge::<0>::after(S),
        Hedge::<1>::after(S),
        Hedge::<3>::after(S),
    );
    let zero = core::mem::size_of_val(&tenace::hedge(&t, &clock, &policy, &h0, &mut rng, "GET"));
    let one = core::mem::size_of_val(&tenace::hedge(&t, &clock, &policy, &h1, &mut rng, "GET"));
    let three = core::mem::size_of_val(&tenace::hedge(&t, &clock, &policy, &h3, &mut rng, "GET"));
    std::println!("retry {plain} B; hedge N=0 {zero} B, N=1 {one} B, N=3 {three} B");
    let slot = one - zero;
    assert!(slot > 0 && zero > plain);
    assert_eq!(three, zero + 3 * slot);
}

#[test]
fn interceptors_run_per_copy_once_per_call_and_on_the_winner() {
    use tenace::{FinalOnly, PerCall, map_request, map_response};
    let seen = RefCell::new(Vec::new());
    let clock = MockClock::new();
    let t = sleeping::<_, u8, 2>(&clock, [Step::ok(1).after(S * 5), Step::ok(2).after(S)]);
    let pipeline = Pipeline::new()
        .request((
            PerCall(map_request(|r: &mut String, _: &tenace::AttemptContext| {
                seen.borrow_mut().push(format!("once {r}"));
                r.push('!');
                Ok::<(), MockError>(())
            })),
            map_request(|r: &mut String, cx: &tenace::AttemptContext| {
                seen.borrow_mut().push(format!(
                    "copy {} {r} at {}",
                    cx.attempt,
                    cx.elapsed.as_millis()
                ));
                Ok(())
            }),
        ))
        .response(FinalOnly(map_response(
            |v: u8, cx: &tenace::AttemptContext| {
                seen.borrow_mut()
                    .push(format!("final {v} from copy {}", cx.attempt));
                Ok::<u8, MockError>(v)
            },
        )));
    let answer = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy(),
        &Hedge::<1>::after(S),
        &pipeline,
        &mut SeededRng::new(1),
        String::from("GET"),
    ))
    .unwrap();
    assert_eq!((answer.value, answer.attempts), (2, 2));
    assert_eq!(
        seen.borrow().as_slice(),
        [
            "once GET",
            "copy 1 GET! at 0",
            "copy 2 GET! at 1000",
            "final 2 from copy 2"
        ]
    );
    assert_eq!(t.requests().as_slice(), ["GET!", "GET!"]);
}

/// Runs `steps` as a call hedged once after 1 s through a fresh breaker;
/// returns the breaker's window (calls, failures).
fn hedged_through_a_breaker(steps: [Step<&'static str>; 2]) -> (u32, u32) {
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, _, 2>::new(steps)
        .with_clock(&clock)
        .latency_sleeps();
    let breaker = CircuitBreaker::new(BreakerConfig::new()).unwrap();
    let _ = block_on(tenace::hedge_with(
        &t,
        &clock,
        &policy(),
        &Hedge::<1>::after(S),
        &Pipeline::new().middleware(&breaker),
        &mut SeededRng::new(1),
        "GET /",
    ));
    breaker.window_counts()
}

#[test]
fn the_breaker_counts_every_copy_that_failed() {
    // Copy 1 fails at 0.2 s while the call goes on, copy 2 answers: the
    // failed copy and the call's answer are both in the window.
    assert_eq!(
        hedged_through_a_breaker([
            Step::fail(FailureKind::Io).after(ms(200)),
            Step::ok("second").after(ms(300)),
        ]),
        (2, 1)
    );
    // Both copies fail: two failures, the second one the call's own.
    assert_eq!(
        hedged_through_a_breaker([
            Step::fail(FailureKind::Io).after(ms(200)),
            Step::fail(FailureKind::Io).after(ms(300)),
        ]),
        (2, 2)
    );
    // A slow first copy overtaken by the hedge is dropped, not failed: the
    // call's answer alone.
    assert_eq!(
        hedged_through_a_breaker([
            Step::ok("first").after(ms(5000)),
            Step::ok("second").after(ms(1000)),
        ]),
        (1, 0)
    );
    // The same failure then answer as a plain retry is one call.
    let clock = MockClock::new();
    let t = ScriptedTransport::<_, _, 2>::new([Step::fail(FailureKind::Io), Step::ok("second")]);
    let breaker = CircuitBreaker::new(BreakerConfig::new()).unwrap();
    block_on(tenace::retry_with(
        &t,
        &clock,
        &policy(),
        &Pipeline::new().middleware(&breaker),
        &mut SeededRng::new(1),
        "GET /",
    ))
    .unwrap();
    assert_eq!(breaker.window_counts(), (1, 0));
}
