//! Dropping the retry future at every await point leaves nothing
//! inconsistent: the middleware hears about the call exactly once, and a
//! later call on the same pipeline works.

use core::cell::Cell;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use tenace::testing::{MockClock, MockError, ScriptedTransport, Step};
use tenace::{
    AttemptContext, CallOutcome, CallResult, ExponentialBackoff, FailureKind, Instant, Middleware,
    Pipeline, Policy, RequestInterceptor, SeededRng, StopReason,
};

/// Counts what the middleware hooks see, and checks they pair up.
#[derive(Default)]
struct Ledger {
    started: Cell<u32>,
    finished: Cell<u32>,
    cancelled: Cell<u32>,
    in_flight: Cell<i32>,
}

impl Middleware for Ledger {
    fn before_call(&self, _now: Instant) -> Result<(), StopReason> {
        self.started.set(self.started.get() + 1);
        self.in_flight.set(self.in_flight.get() + 1);
        Ok(())
    }
    fn after_call(&self, outcome: &CallOutcome) {
        self.finished.set(self.finished.get() + 1);
        self.in_flight.set(self.in_flight.get() - 1);
        if outcome.result == CallResult::Cancelled {
            self.cancelled.set(self.cancelled.get() + 1);
        }
    }
}

/// A request interceptor with its own await point (a token fetch).
struct Token;

impl RequestInterceptor<u32, MockError> for Token {
    async fn intercept(&self, request: &mut u32, _cx: &AttemptContext) -> Result<(), MockError> {
        embassy_futures::yield_now().await;
        *request += 1;
        Ok(())
    }
}

fn script() -> ScriptedTransport<'static, u32, u32, 4> {
    ScriptedTransport::new([
        Step::fail(FailureKind::Connect),
        Step::hang(),
        Step::fail(FailureKind::Io),
        Step::ok(7),
    ])
}

#[test]
fn drop_at_every_await_point() {
    let policy = Policy::new(
        ExponentialBackoff::new(Duration::from_millis(10), 2, Duration::from_secs(1)).unwrap(),
    )
    .attempt_timeout(Duration::from_millis(50));
    let pipeline = Pipeline::new().request(Token).middleware(Ledger::default());
    let mut cx = Context::from_waker(Waker::noop());

    // First, how many polls a full call takes.
    let total_polls = {
        let (clock, transport) = (MockClock::new(), script());
        let mut rng = SeededRng::new(1);
        let mut fut = pin!(tenace::retry_with(
            &transport, &clock, &policy, &pipeline, &mut rng, 0
        ));
        let mut polls = 0;
        loop {
            polls += 1;
            if let Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
                assert_eq!(r.unwrap().value, 7);
                break polls;
            }
        }
    };
    // Await points: the interceptor, the attempt, the timeout racing a hang, the backoff sleeps.
    assert!(total_polls >= 10, "{total_polls}");

    for k in 1..total_polls {
        let (clock, transport) = (MockClock::new(), script());
        let mut rng = SeededRng::new(1);
        let before = (
            pipeline.middleware.started.get(),
            pipeline.middleware.cancelled.get(),
        );
        {
            let mut fut = pin!(tenace::retry_with(
                &transport, &clock, &policy, &pipeline, &mut rng, 0
            ));
            for _ in 0..k {
                assert!(
                    fut.as_mut().poll(&mut cx).is_pending(),
                    "finished early at poll {k}"
                );
            }
        }
        let ledger = &pipeline.middleware;
        assert_eq!(ledger.started.get(), before.0 + 1, "poll {k}");
        assert_eq!(
            ledger.cancelled.get(),
            before.1 + 1,
            "poll {k}: the drop was reported"
        );
        assert_eq!(
            ledger.in_flight.get(),
            0,
            "poll {k}: every call accounted for"
        );
        // The transport saw at most the attempts begun so far, never a replay.
        assert!(transport.calls() <= 4);
        // A later call on the same pipeline works.
        let (clock, transport) = (MockClock::new(), script());
        let r = embassy_futures::block_on(tenace::retry_with(
            &transport, &clock, &policy, &pipeline, &mut rng, 0,
        ));
        assert_eq!(r.unwrap().value, 7);
        assert_eq!(ledger.in_flight.get(), 0);
        // Each request the transport saw was a fresh copy with one interceptor pass.
        assert!(transport.requests().iter().all(|&r| r == 1));
    }
    assert_eq!(
        pipeline.middleware.finished.get(),
        pipeline.middleware.started.get()
    );
}

/// Records the outcome of every attempt, in order.
#[derive(Default)]
struct Outcomes(core::cell::RefCell<Vec<tenace::AttemptOutcome>>);

impl Middleware for Outcomes {
    fn after_attempt(&self, outcome: tenace::AttemptOutcome, _now: Instant) {
        self.0.borrow_mut().push(outcome);
    }
}

#[test]
fn drop_at_every_await_point_keeps_budget_and_breaker_consistent() {
    use tenace::{AttemptOutcome, BreakerConfig, BreakerState, CircuitBreaker, RetryBudget};

    let policy = Policy::new(
        ExponentialBackoff::new(Duration::from_millis(10), 2, Duration::from_secs(1)).unwrap(),
    )
    .attempt_timeout(Duration::from_millis(50));
    let mut cx = Context::from_waker(Waker::noop());
    let mut k = 1;
    loop {
        // A budget of 100 tokens refunding 1/10 per success, and a breaker that
        // records every finished call but never opens in this test.
        let budget = RetryBudget::new(100, 1, 10).unwrap();
        let breaker = CircuitBreaker::new(
            BreakerConfig::new()
                .with_window(16)
                .with_min_calls(16)
                .with_failure_percent(100),
        )
        .unwrap();
        let outcomes = Outcomes::default();
        let pipeline = Pipeline::new()
            .request(Token)
            .middleware((&outcomes, &breaker, &budget));
        let (clock, transport) = (MockClock::new(), script());
        let mut rng = SeededRng::new(1);
        let finished = {
            let mut fut = pin!(tenace::retry_with(
                &transport, &clock, &policy, &pipeline, &mut rng, 0
            ));
            (0..k).any(|_| fut.as_mut().poll(&mut cx).is_ready())
        };
        // The budget holds exactly what the attempts that ended paid and refunded:
        // 1000 units (100 tokens x 10), a failure costs 10, a success refunds 1.
        let mut units: u32 = 1000;
        for o in outcomes.0.borrow().iter() {
            units = match o {
                AttemptOutcome::Success => (units + 1).min(1000),
                _ => units.saturating_sub(10),
            };
        }
        assert_eq!(budget.scaled_tokens(), units, "poll {k}");
        // A cancelled call is not recorded by the breaker; a finished one is.
        assert_eq!(
            breaker.window_counts(),
            (u32::from(finished), 0),
            "poll {k}"
        );
        assert_eq!(breaker.state(), BreakerState::Closed, "poll {k}");
        // A later call through the same budget and breaker works.
        let (clock, transport) = (MockClock::new(), script());
        let r = embassy_futures::block_on(tenace::retry_with(
            &transport, &clock, &policy, &pipeline, &mut rng, 0,
        ));
        assert_eq!(r.unwrap().value, 7, "poll {k}");
        assert_eq!(
            breaker.window_counts().0,
            u32::from(finished) + 1,
            "poll {k}"
        );
        if finished {
            break;
        }
        k += 1;
    }
    assert!(
        k >= 10,
        "only {k} polls: the scenario lost its await points"
    );
}
