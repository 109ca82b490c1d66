//! The closure API on embassy-time, driven by embassy-time's mock driver:
//! the clock is the default one, the seed is the caller's, and the schedule
//! is exact on the driver's virtual time.
//!
//! Run with `cargo test -p tenace --features __embassy-mock`: the mock
//! driver is a global symbol, so it lives in this test binary alone.
#![allow(clippy::std_instead_of_core)]

use core::cell::RefCell;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::vec::Vec;

use embassy_time::MockDriver;
use tenace::{Clock, EmbassyClock, ExponentialBackoff, Retryable, StopReason};

/// Polls `f` to the end, moving the mock driver's time 10 ms whenever the
/// future waits.
fn run<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        MockDriver::get().advance(embassy_time::Duration::from_millis(10));
    }
    panic!("the future never finished");
}

fn exp() -> ExponentialBackoff {
    ExponentialBackoff::new(Duration::from_secs(1), 2, Duration::from_secs(30)).unwrap()
}

// One test: the mock driver's time is global to the binary.
#[test]
fn retries_on_embassy_time() {
    MockDriver::get().reset();
    let clock = EmbassyClock::new();
    let seen = RefCell::new(Vec::new());
    let attempt = || async {
        seen.borrow_mut().push(clock.now().as_duration());
        if seen.borrow().len() < 3 {
            Err("busy")
        } else {
            Ok(seen.borrow().len())
        }
    };
    // No `.clock(..)`: EmbassyClock is the default without `tokio`.
    #[cfg(not(feature = "tokio"))]
    let done = run(attempt.retry(exp()).seed(7).call_with_stats()).unwrap();
    #[cfg(feature = "tokio")]
    let done = run(attempt.retry(exp()).clock(clock).seed(7).call_with_stats()).unwrap();
    assert_eq!((done.value, done.attempts), (3, 3));
    assert_eq!(
        seen.borrow().as_slice(),
        [
            Duration::ZERO,
            Duration::from_secs(2),
            Duration::from_secs(6)
        ]
    );

    // An attempt that hangs is cut off by the attempt timeout on embassy's
    // timer, and the deadline ends the call.
    let start = clock.now();
    let err = run((|| core::future::pending::<Result<(), ()>>())
        .retry(exp())
        .attempt_timeout(Duration::from_secs(1))
        .deadline(Duration::from_secs(5))
        .clock(clock)
        .seed(7)
        .call())
    .unwrap_err();
    // 1 s, sleep 2 s, 1 s: the next sleep (4 s) would end past 5 s.
    assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 2));
    assert_eq!(err.last_error(), None);
    assert_eq!(
        clock.now().as_duration() - start.as_duration(),
        Duration::from_secs(4)
    );
}
