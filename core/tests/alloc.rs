//! Zero heap allocations for a full 4-attempt sequence through the async
//! driver and through the closure API, counted by a global allocator. The
//! futures' sizes are the benchmark's (`bash bench/run.sh` checks them
//! against a budget).

use core::cell::Cell;
use core::time::Duration;

use tenace::testing::{MockClock, ScriptedTransport, Step};
use tenace::{ExponentialBackoff, FailureKind, Pipeline, Policy, SeededRng};
use tenace_tests::heap::Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let (out, usage) = tenace_tests::heap::counted(f);
    (out, usage.allocations)
}

#[test]
fn four_attempts_through_the_async_driver_allocate_nothing() {
    let clock = MockClock::new();
    let transport = ScriptedTransport::<_, u32, 4>::new([
        Step::fail(FailureKind::Connect),
        Step::fail(FailureKind::Timeout),
        Step::fail(FailureKind::Io),
        Step::ok(42),
    ]);
    let policy = Policy::new(
        ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(5))
            .unwrap()
            .full_jitter(),
    )
    .max_retries(3)
    .attempt_timeout(Duration::from_secs(1))
    .deadline(Duration::from_secs(60));
    let pipeline = Pipeline::new().middleware(tenace::on_retry(|_ev: &tenace::RetryEvent| {}));
    let mut rng = SeededRng::new(5);
    let (result, allocations) = counted(|| {
        embassy_futures::block_on(tenace::retry_with(
            &transport, &clock, &policy, &pipeline, &mut rng, "GET /",
        ))
    });
    assert_eq!(result.unwrap().value, 42);
    assert_eq!(transport.calls(), 4);
    assert_eq!(clock.sleeps().len(), 3);
    assert_eq!(allocations, 0, "the async driver allocated");

    // The counter works: a Box is seen.
    let (_b, n) = counted(|| Box::new(1u64));
    assert_eq!(n, 1);
}

#[test]
fn the_closure_api_allocates_nothing() {
    use tenace::Retryable;
    let clock = MockClock::new();
    let calls = Cell::new(0u32);
    let notes = Cell::new(0u32);
    let op = || async {
        calls.set(calls.get() + 1);
        if calls.get() < 4 {
            Err(calls.get())
        } else {
            Ok(42)
        }
    };
    let strategy = ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(5))
        .unwrap()
        .full_jitter();
    let call = op
        .retry(strategy)
        .when(|e| *e < 10)
        .attempt_timeout(Duration::from_secs(1))
        .deadline(Duration::from_secs(60))
        .notify(|_, _| notes.set(notes.get() + 1))
        .clock(&clock)
        .seed(5)
        .call();
    let (result, allocations) = counted(|| embassy_futures::block_on(call));
    assert_eq!(result.unwrap(), 42);
    assert_eq!((calls.get(), notes.get()), (4, 3));
    assert_eq!(allocations, 0, "the closure API allocated");
}
