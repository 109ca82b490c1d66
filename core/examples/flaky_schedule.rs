//! Prints the retry schedule of a flaky call, in virtual time.
//!
//! `cargo run -p tenace --example flaky_schedule`
//!
//! Core only: a scripted transport that fails like a bad Wi-Fi link, the
//! `MockClock`, exponential backoff with full jitter, and a hook on every
//! retry. Nothing sleeps for real, so ten seconds of backoff print at once.
#![allow(clippy::std_instead_of_core)]

use core::cell::RefCell;
use core::time::Duration;

use tenace::testing::{MockClock, ScriptedTransport, Step};
use tenace::{ExponentialBackoff, FailureKind, Pipeline, Policy, RetryEvent, SeededRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = MockClock::new();
    let flaky = ScriptedTransport::<&str, &str, 5>::new([
        Step::fail(FailureKind::Connect).after(Duration::from_millis(3)),
        Step::fail(FailureKind::Timeout).after(Duration::from_millis(800)),
        Step::status(503, None).after(Duration::from_millis(40)),
        Step::fail(FailureKind::Io).after(Duration::from_millis(25)),
        Step::ok("200 OK: {\"temperature\": 21.5}").after(Duration::from_millis(30)),
    ])
    .with_clock(&clock);

    let strategy = ExponentialBackoff::new(Duration::from_millis(250), 2, Duration::from_secs(10))?
        .full_jitter();
    let policy = Policy::new(strategy)
        .max_retries(5)
        .attempt_timeout(Duration::from_secs(1))
        .deadline(Duration::from_secs(30))
        .retry_on(tenace::TransientErrors);

    let timeline = RefCell::new(Vec::new());
    let pipeline = Pipeline::new().middleware(tenace::on_retry(|ev: &RetryEvent| {
        timeline.borrow_mut().push(*ev);
    }));
    let mut rng = SeededRng::new(2026);
    let reply = embassy_futures::block_on(tenace::retry_with(
        &flaky,
        &clock,
        &policy,
        &pipeline,
        &mut rng,
        "GET /sensor",
    ));

    println!("attempt  failed with   at (ms)   backoff (ms)");
    for ev in timeline.borrow().iter() {
        println!(
            "{:>7}  {:<11} {:>8}   {:>12}",
            ev.attempt,
            ev.kind.to_string(),
            ev.elapsed.as_millis(),
            ev.delay.as_millis()
        );
    }
    match reply {
        Ok(done) => println!(
            "attempt {} succeeded at {} ms after {} ms of backoff: {}",
            done.attempts,
            clock.now().as_duration().as_millis(),
            done.slept.as_millis(),
            done.value
        ),
        Err(e) => println!("gave up: {e}"),
    }
    Ok(())
}
