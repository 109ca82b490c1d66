//! tenace against the retry crates users would otherwise pick, on the same
//! job: one operation that answers from memory, retried up to three times
//! with exponential backoff (1 ms, ×2, capped at 1 s, no jitter) on a clock
//! whose sleeps end at once.
//!
//! Every contender is a [`Contender`]: the criterion benches
//! (`benches/retry.rs`) and the one-table report (`src/bin/report.rs`) drive
//! the same code, so their figures describe the same calls.
//!
//! # The job
//!
//! - The operation is [`Flaky::call`]: it fails the number of times it was
//!   [armed](Flaky::arm) with, then answers [`ANSWER`]. On the success path
//!   it is never armed; on the fail-three path it is armed with 3 before
//!   each call, so every contender makes four attempts and sleeps three
//!   times.
//! - Every sleeper completes on its first poll (or returns at once), and
//!   passes the delay it was given through [`core::hint::black_box`], so the
//!   backoff is still computed as it would be with a real timer.
//! - Async contenders run under `embassy_futures::block_on` (no runtime),
//!   except tokio-retry2 on the fail-three path: it sleeps on tokio's timer
//!   and cannot run without a tokio runtime, so it runs on a current-thread
//!   runtime with a paused clock (which skips the 1, 2 and 4 ms sleeps).

mod contenders;
pub mod loopback;
mod op;
pub mod sizes;
pub mod timer;

pub use contenders::{
    BackonAsync, BackonBlocking, Direct, HandLoop, TenaceAsync, TenaceBlocking, TokioRetry2,
    TowerRetry, ZeroClock,
};
pub use op::{ANSWER, Flaky, FlakyTransport, OpError};

/// One way of making the call, with its retry machinery.
///
/// `call` makes one call through the contender's retry engine and returns
/// the answer, or `None` if it gave up. It must be cheap to call in a loop:
/// everything that a user would build once (a policy, a runtime) is built in
/// the contender's constructor.
pub trait Contender {
    /// The contender's name in tables and bench ids.
    const NAME: &'static str;
    /// `false` for the direct call, which has no retry and no fail-three
    /// figure.
    const RETRIES: bool = true;

    /// The operation this contender calls.
    fn flaky(&self) -> &Flaky;

    /// One call on the success path (the operation is not armed).
    fn call(&mut self) -> Option<u32>;

    /// One call that fails three times, then succeeds: four attempts and
    /// three (zero-length) sleeps.
    fn fail3(&mut self) -> Option<u32> {
        self.fail(core::hint::black_box(3))
    }

    /// One call whose first `failures` attempts fail. Contenders that need
    /// a runtime to sleep (tokio-retry2) run it there.
    fn fail(&mut self, failures: u32) -> Option<u32> {
        self.flaky().arm(failures);
        self.call()
    }

    /// `size_of_val` of the future of one call; `None` for blocking
    /// contenders, which have no future.
    fn future_size(&mut self) -> Option<usize>;
}

/// The exponential backoff every contender uses, in nanoseconds: 1 ms × 2^n
/// for retry `n` (1-based), capped at 1 s. The hand loop and the tower
/// policy compute it with this function; the crates with their own
/// exponential backoff are configured to the same numbers.
#[inline]
pub fn exponential_nanos(retry: u32) -> u64 {
    const BASE: u64 = 1_000_000;
    const CAP: u64 = 1_000_000_000;
    // 1 ms × 2^10 is past the cap already.
    if retry >= 10 {
        CAP
    } else {
        (BASE << retry).min(CAP)
    }
}

/// The most retries after the first attempt, for every contender.
pub const MAX_RETRIES: u32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs both paths of `c` and checks they answer and count attempts
    /// as the job says.
    fn check<C: Contender>(mut c: C) {
        assert_eq!(c.call(), Some(ANSWER), "{} success", C::NAME);
        assert_eq!(c.flaky().attempts(), 1, "{} success attempts", C::NAME);
        if C::RETRIES {
            c.flaky().reset_attempts();
            assert_eq!(c.fail3(), Some(ANSWER), "{} fail3", C::NAME);
            assert_eq!(c.flaky().attempts(), 4, "{} fail3 attempts", C::NAME);
            // A fifth attempt is never made: four failures exhaust it.
            c.flaky().reset_attempts();
            assert_eq!(c.fail(4), None, "{} fail4", C::NAME);
            assert_eq!(c.flaky().attempts(), 4, "{} fail4 attempts", C::NAME);
        }
    }

    #[test]
    fn every_contender_does_the_same_job() {
        check(Direct::new());
        check(HandLoop::new());
        check(TenaceAsync::new());
        check(TenaceBlocking::new());
        check(BackonAsync::new());
        check(BackonBlocking::new());
        check(TowerRetry::new());
        check(TokioRetry2::new());
    }

    #[test]
    fn exponential_matches_tenace() {
        use tenace::{RetryStrategy, SeededRng};
        let mut s = TenaceAsync::strategy();
        let mut rng = SeededRng::new(0);
        for n in 0..40 {
            assert_eq!(
                u64::try_from(s.delay(n, &mut rng).as_nanos()).unwrap(),
                exponential_nanos(n),
                "retry {n}"
            );
        }
        assert_eq!(exponential_nanos(1), 2_000_000);
        assert_eq!(exponential_nanos(10), 1_000_000_000);
    }
}
