//! `TokioClock` drives the engine in tokio's paused time: schedules are
//! exact, however long they are.

use core::time::Duration;

use tenace::testing::{ScriptedTransport, Step};
use tenace::{
    Clock, DecorrelatedJitter, ExponentialBackoff, FailureKind, FixedDelay, Policy, SeededRng,
    StopReason,
};
use tenace_hyper::TokioClock;
use tokio::time::Instant;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test(start_paused = true)]
async fn an_exponential_schedule_takes_exactly_its_delays() {
    let clock = TokioClock::new();
    let transport = ScriptedTransport::new([
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Io),
        Step::fail(FailureKind::Timeout),
        Step::ok("done"),
    ]);
    let policy = Policy::new(ExponentialBackoff::new(secs(1), 2, secs(30)).unwrap());
    let started = Instant::now();
    let response =
        tenace::retry(&transport, &clock, &policy, &mut SeededRng::new(1), "GET /").await;
    assert_eq!(response.unwrap().into_inner(), "done");
    // 2 + 4 + 8 s: retry n waits base * 2^n.
    assert_eq!(started.elapsed(), secs(14));
    assert_eq!(clock.now().as_duration(), secs(14));
    assert_eq!(transport.calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_attempt_is_cut_at_the_attempt_timeout() {
    let clock = TokioClock::new();
    let transport = ScriptedTransport::new([Step::hang(), Step::hang(), Step::ok(200u16)]);
    let policy = Policy::new(FixedDelay::new(secs(1))).attempt_timeout(secs(5));
    let started = Instant::now();
    let response = tenace::retry(&transport, &clock, &policy, &mut SeededRng::new(1), ()).await;
    assert_eq!(response.unwrap().into_inner(), 200);
    assert_eq!(started.elapsed(), secs(5 + 1 + 5 + 1));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_stops_before_a_sleep_that_would_pass_it() {
    let clock = TokioClock::new();
    let transport = ScriptedTransport::<_, (), 8>::new([const { Step::fail(FailureKind::Io) }; 8]);
    let policy = Policy::new(FixedDelay::new(secs(10)))
        .max_retries(7)
        .deadline(secs(25));
    let started = Instant::now();
    let err = tenace::retry(&transport, &clock, &policy, &mut SeededRng::new(1), ())
        .await
        .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 3));
    assert_eq!(started.elapsed(), secs(20));
}

#[tokio::test(start_paused = true)]
async fn an_hour_of_jittered_backoff_is_reproducible_from_a_seed() {
    async fn run(seed: u64) -> Duration {
        let clock = TokioClock::new();
        let transport =
            ScriptedTransport::<_, (), 13>::new([const { Step::fail(FailureKind::Io) }; 13]);
        let policy =
            Policy::new(DecorrelatedJitter::new(secs(1), secs(600)).unwrap()).max_retries(12);
        let err = tenace::retry(&transport, &clock, &policy, &mut SeededRng::new(seed), ())
            .await
            .unwrap_err();
        assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 13));
        clock.now().as_duration()
    }
    let first = run(42).await;
    assert_eq!(run(42).await, first);
    assert_ne!(run(43).await, first);
    assert!(first > secs(12) && first <= secs(12 * 600), "{first:?}");
}
