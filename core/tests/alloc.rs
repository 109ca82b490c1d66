//! Zero heap allocations for a full 4-attempt sequence through the async
//! driver, counted by a global allocator, and the driver future's size.
#![allow(clippy::std_instead_of_core)]

use core::time::Duration;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tenace::testing::{MockClock, ScriptedTransport, Step};
use tenace::{ExponentialBackoff, FailureKind, Pipeline, Policy, SeededRng};

struct Counting;

// Per thread: tests run in parallel, and another test's allocations must
// not land in this one's count.
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: delegates to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, ALLOCATIONS.with(Cell::get) - before)
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
fn driver_future_size() {
    let clock = MockClock::new();
    let transport = ScriptedTransport::<&str, u32, 1>::new([Step::ok(1)]);
    let policy = Policy::new(
        ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(5)).unwrap(),
    );
    let mut rng = SeededRng::new(5);
    let fut = tenace::retry(&transport, &clock, &policy, &mut rng, "GET /");
    let size = core::mem::size_of_val(&fut);
    println!(
        "tenace::retry future over ScriptedTransport + MockClock + ExponentialBackoff: {size} bytes"
    );
    // A loose guard against a layout blow-up; the exact figures are the
    // benchmark's (`bash bench/run.sh`).
    if cfg!(target_pointer_width = "64") {
        assert!(size <= 400, "driver future grew to {size} bytes");
    }
    drop(fut);
}

#[test]
fn driver_with_pipeline_future_size() {
    let clock = MockClock::new();
    let transport = ScriptedTransport::<&str, u32, 1>::new([Step::ok(1)]);
    let policy = Policy::new(
        ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(5)).unwrap(),
    );
    let budget = tenace::RetryBudget::new(10, 1, 10).unwrap();
    let pipeline = tenace::Pipeline::new().middleware(&budget);
    let mut rng = SeededRng::new(5);
    let fut = tenace::retry_with(&transport, &clock, &policy, &pipeline, &mut rng, "GET /");
    let size = core::mem::size_of_val(&fut);
    println!("tenace::retry_with future, middleware only: {size} bytes");
    // Interceptors (even empty ones) wrap each attempt in one more future;
    // a loose guard against a layout blow-up, as above.
    if cfg!(target_pointer_width = "64") {
        assert!(size <= 520, "retry_with future grew to {size} bytes");
    }
    drop(fut);
}

#[test]
fn the_closure_api_allocates_nothing_and_its_future_is_small() {
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
    let size = core::mem::size_of_val(&call);
    println!("closure API call future over MockClock + ExponentialBackoff: {size} bytes");
    if cfg!(target_pointer_width = "64") {
        assert!(size <= 512, "closure API future grew to {size} bytes");
    }
    let (result, allocations) = counted(|| embassy_futures::block_on(call));
    assert_eq!(result.unwrap(), 42);
    assert_eq!((calls.get(), notes.get()), (4, 3));
    assert_eq!(allocations, 0, "the closure API allocated");
}
