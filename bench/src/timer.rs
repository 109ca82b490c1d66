//! The same job on a real timer: every contender sleeps on tokio's timer and
//! draws full jitter, as a service would configure it. Only the futures'
//! sizes are compared here (a timer's sleep is part of what a retry future
//! holds), and [`run_on_paused_tokio`] checks that each future does the job.
//!
//! The no-op sleep of the main comparison lets tower's policy be zero-sized,
//! because the backoff lives in user code that keeps no state. With tower's
//! own [`ExponentialBackoff`](tower::retry::backoff::ExponentialBackoff) the
//! policy holds the backoff, its random source and a `tokio::time::Sleep`,
//! which is the size a service pays for.

use core::future::Future;
use core::pin::Pin;
use core::time::Duration;

use backon::{ExponentialBuilder, Retryable, TokioSleeper};
use tenace::{ExponentialBackoff, Policy, SeededRng};
use tenace_hyper::TokioClock;
use tower::ServiceExt;
use tower::retry::backoff::{Backoff, ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;

use crate::MAX_RETRIES;
use crate::contenders::FlakyService;
use crate::op::{Flaky, FlakyTransport, OpError};

/// tenace's policy for `job`: 1 ms, ×2, capped at 1 s, full jitter, three
/// retries, and the attempt timeout if the job has one.
pub fn tenace_policy(job: Job) -> Policy<ExponentialBackoff> {
    let policy = match ExponentialBackoff::new(Duration::from_millis(1), 2, Duration::from_secs(1))
    {
        Ok(s) => Policy::new(s.full_jitter()).max_retries(MAX_RETRIES),
        Err(_) => unreachable!("valid constants"),
    };
    match job {
        Job::Backoff => policy,
        Job::BackoffAndTimeout => policy.attempt_timeout(ATTEMPT_TIMEOUT),
    }
}

/// backon's builder for this job: the main comparison's, with jitter.
fn backon_builder() -> ExponentialBuilder {
    crate::contenders::backon_builder().with_jitter()
}

/// A tower policy holding tower's own exponential backoff (jitter 1.0:
/// up to one more base delay, capped at the maximum).
#[derive(Debug, Clone)]
struct TowerBackoffPolicy {
    backoff: tower::retry::backoff::ExponentialBackoff<HasherRng>,
    retries: u32,
}

impl TowerBackoffPolicy {
    fn new() -> Self {
        let maker = ExponentialBackoffMaker::new(
            Duration::from_millis(1),
            Duration::from_secs(1),
            1.0,
            HasherRng::default(),
        );
        match maker {
            Ok(mut m) => Self {
                backoff: m.make_backoff(),
                retries: 0,
            },
            Err(_) => unreachable!("valid constants"),
        }
    }
}

impl<E> tower::retry::Policy<(), u32, E> for TowerBackoffPolicy {
    type Future = tokio::time::Sleep;
    fn retry(&mut self, _req: &mut (), result: &mut Result<u32, E>) -> Option<tokio::time::Sleep> {
        match result {
            Err(_) if self.retries < MAX_RETRIES => {
                self.retries += 1;
                Some(self.backoff.next_backoff())
            }
            _ => None,
        }
    }
    fn clone_request(&mut self, _req: &()) -> Option<()> {
        Some(())
    }
}

/// tokio-retry2's strategy for this job: capped exponential with its own
/// jitter (`rand`), three retries.
fn tokio_retry2_strategy() -> impl Iterator<Item = Duration> {
    tokio_retry2::strategy::ExponentialFactorBackoff::from_millis(1, 2.0)
        .max_delay(Duration::from_secs(1))
        .map(tokio_retry2::strategy::jitter)
        .take(MAX_RETRIES as usize)
}

/// The per-attempt timeout of the second job.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// The two jobs on tokio's timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Exponential backoff with jitter, three retries.
    Backoff,
    /// The same, and every attempt bounded by [`ATTEMPT_TIMEOUT`]: tenace's
    /// policy option; tower's `Timeout` layer under its `Retry`; for backon
    /// and tokio-retry2, `tokio::time::timeout` around the operation.
    BackoffAndTimeout,
}

/// One contender's call on tokio's timer, as a boxed future for the test
/// and its size before boxing.
pub struct TimerCall<'a> {
    /// The contender's name.
    pub name: &'static str,
    /// `size_of_val` of the call's future.
    pub size: usize,
    /// The call itself.
    pub future: Pin<Box<dyn Future<Output = Option<u32>> + 'a>>,
}

impl core::fmt::Debug for TimerCall<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TimerCall")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

fn boxed<'a, F, T, E>(name: &'static str, fut: F) -> TimerCall<'a>
where
    F: Future<Output = Result<T, E>> + 'a,
    T: Into<u32>,
{
    TimerCall {
        name,
        size: size_of_val(&fut),
        future: Box::pin(async move { fut.await.ok().map(Into::into) }),
    }
}

/// An attempt that timed out, for the peers that take it from
/// `tokio::time::timeout`.
fn flatten<T>(r: Result<Result<T, OpError>, tokio::time::error::Elapsed>) -> Result<T, OpError> {
    r.unwrap_or(Err(OpError::TimedOut))
}

/// Every contender's call over `flaky` for `job`, in table order: tenace,
/// backon, tower::retry with tower's backoff, tokio-retry2. Must run inside
/// a tokio runtime (the timers register with it).
pub fn calls<'a>(
    job: Job,
    flaky: &'a Flaky,
    clock: &'a TokioClock,
    policy: &'a Policy<ExponentialBackoff>,
    rng: &'a mut SeededRng,
) -> Vec<TimerCall<'a>> {
    let transport = FlakyTransport(flaky);
    // tenace's own future, not the wrapper below that owns the transport.
    let tenace_size = size_of_val(&tenace::retry(
        &transport,
        clock,
        policy,
        &mut SeededRng::new(0),
        (),
    ));
    let mut tenace = boxed("tenace", async move {
        tenace::retry(&transport, clock, policy, rng, ())
            .await
            .map(|r| r.value)
    });
    tenace.size = tenace_size;
    match job {
        Job::Backoff => vec![
            tenace,
            boxed(
                "backon",
                (move || async move { flaky.call() })
                    .retry(backon_builder())
                    .sleep(TokioSleeper),
            ),
            boxed(
                "tower::retry",
                tower::retry::Retry::new(TowerBackoffPolicy::new(), FlakyService(flaky))
                    .oneshot(()),
            ),
            boxed(
                "tokio-retry2",
                tokio_retry2::Retry::spawn(tokio_retry2_strategy(), move || async move {
                    flaky.call().map_err(tokio_retry2::RetryError::transient)
                }),
            ),
        ],
        Job::BackoffAndTimeout => vec![
            tenace,
            boxed(
                "backon",
                (move || async move {
                    flatten(tokio::time::timeout(ATTEMPT_TIMEOUT, async { flaky.call() }).await)
                })
                .retry(backon_builder())
                .sleep(TokioSleeper),
            ),
            boxed(
                "tower::retry",
                tower::retry::Retry::new(
                    TowerBackoffPolicy::new(),
                    tower::timeout::Timeout::new(FlakyService(flaky), ATTEMPT_TIMEOUT),
                )
                .oneshot(()),
            ),
            boxed(
                "tokio-retry2",
                tokio_retry2::Retry::spawn(tokio_retry2_strategy(), move || async move {
                    flatten(tokio::time::timeout(ATTEMPT_TIMEOUT, async { flaky.call() }).await)
                        .map_err(tokio_retry2::RetryError::transient)
                }),
            ),
        ],
    }
}

/// Runs `f` on a current-thread tokio runtime with a paused clock, so the
/// sleeps of a backoff take no real time.
///
/// # Panics
///
/// If tokio cannot build the runtime.
pub fn run_on_paused_tokio<R>(f: impl AsyncFnOnce() -> R) -> R {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread tokio runtime");
    rt.block_on(f())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ANSWER;

    /// Every contender, in both jobs, fails three times, sleeps three times
    /// on tokio's timer (in paused time) and answers; four failures exhaust
    /// it after four attempts.
    #[test]
    fn every_timer_contender_does_the_job() {
        run_on_paused_tokio(async || {
            let flaky = Flaky::new();
            let clock = TokioClock::new();
            for job in [Job::Backoff, Job::BackoffAndTimeout] {
                let policy = tenace_policy(job);
                let mut rng = SeededRng::new(1);
                let count = calls(job, &flaky, &clock, &policy, &mut rng).len();
                assert_eq!(count, 4);
                for i in 0..count {
                    for (failures, answer) in [(3, Some(ANSWER)), (4, None)] {
                        let mut all = calls(job, &flaky, &clock, &policy, &mut rng);
                        let call = all.swap_remove(i);
                        drop(all);
                        let name = call.name;
                        flaky.arm(failures);
                        flaky.reset_attempts();
                        let start = tokio::time::Instant::now();
                        assert_eq!(
                            call.future.await,
                            answer,
                            "{job:?} {name}, {failures} failures"
                        );
                        assert_eq!(flaky.attempts(), 4, "{job:?} {name}, {failures} failures");
                        // The sleeps went through tokio's timer, and none
                        // was longer than twice the un-jittered delay.
                        let slept = start.elapsed();
                        assert!(
                            slept > Duration::ZERO
                                && slept <= Duration::from_millis(2 * (2 + 4 + 8)),
                            "{job:?} {name}: slept {slept:?}"
                        );
                    }
                }
            }
        });
    }
}
