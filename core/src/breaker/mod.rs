//! A circuit breaker: middleware around the retry loop that stops calling a
//! server which keeps failing, and lets one probe find out when it is back.
//!
//! # States
//!
//! - **Closed**: calls go through. The outcome of each of the last
//!   `window` calls is kept in a bitset; when at least `min_calls` are
//!   recorded and the failures among them reach `failure_percent`, the
//!   circuit opens.
//! - **Open**: every call fails at once with
//!   [`StopReason::CircuitOpen`], no attempt
//!   made, for `break_duration` on the injected clock.
//! - **Half-open**: after the break, the first call goes through as a
//!   probe and every other call is refused until it ends. A probe that
//!   succeeds closes the circuit (with an empty window); a probe that fails
//!   opens it for another break. A probe whose outcome says nothing (it was
//!   cancelled, or it ended without reaching the server) frees its slot, so
//!   the next call probes instead: the breaker never wedges half-open.
//!
//! The breaker is middleware, so it wraps the whole retry loop: a call that
//! succeeds on its third attempt is one success, and a call refused by an
//! open circuit costs the server nothing.
//!
//! # What counts
//!
//! Each finished call is judged by its last attempt:
//!
//! | how the call ended | window |
//! |---|---|
//! | success | success |
//! | failed, last attempt a network failure, 408, 429 or a 5xx but 501/505 | failure |
//! | failed, last attempt another status (404, 501) | success: the server answered |
//! | failed, last attempt [`FailureKind::Other`] | not counted |
//! | failed before any attempt (deadline already past) | not counted |
//! | cancelled (the call's future was dropped) | not counted |
//!
//! Whatever made the engine stop (retries exhausted, the budget, the
//! deadline), the last attempt's failure is what the server did.
//!
//! # Time
//!
//! All time comes from the driver (`before_call(now)`, the call's
//! `started` and `finished`), so the breaker runs on
//! `MockClock` (in `tenace::testing`) in tests exactly as on a real
//! clock.
//!
//! # Concurrency
//!
//! One breaker serves every concurrent call (`&'static` on firmware, `Arc`
//! on a server). Its state is a few 32-bit atomics (`portable-atomic`, so
//! it builds for `thumbv6m` too), no lock and no critical section. State
//! changes are compare-and-swap on one word holding the phase, the probe
//! flag and a generation; the 64-bit times are written only by the thread
//! that moved the word into a transient "busy" phase, so they are never
//! torn. Under concurrency the window is approximate by a call or two (an
//! outcome recorded while the circuit opens), never by more.
//!
//! ```
//! # use core::time::Duration;
//! use tenace::testing::{MockClock, ScriptedTransport, Step};
//! use tenace::{BreakerConfig, CircuitBreaker, FailureKind, Policy, Pipeline, FixedDelay, SeededRng, StopReason};
//!
//! let breaker = CircuitBreaker::new(
//!     BreakerConfig::new()
//!         .with_window(10)
//!         .with_min_calls(2)
//!         .with_failure_percent(50)
//!         .with_break_duration(Duration::from_secs(30)),
//! )?;
//! let clock = MockClock::new();
//! let transport = ScriptedTransport::<_, u16, 3>::new([
//!     Step::fail(FailureKind::Connect),
//!     Step::fail(FailureKind::Connect),
//!     Step::ok(200),
//! ]);
//! let policy = Policy::new(FixedDelay::none()).max_retries(0);
//! let pipeline = Pipeline::new().middleware(&breaker);
//! let call = || embassy_futures::block_on(tenace::retry_with(&transport, &clock, &policy, &pipeline, &mut SeededRng::new(1), ()));
//! assert!(call().is_err());
//! assert!(call().is_err()); // 2 calls, 100% failed: opens
//! let refused = call().unwrap_err();
//! assert_eq!((refused.reason(), refused.attempts()), (StopReason::CircuitOpen, 0));
//! assert_eq!(transport.calls(), 2); // the refused call never reached it
//! # Ok::<(), tenace::ConfigError>(())
//! ```

use core::sync::atomic::fence;

use portable_atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::error::{ConfigError, FailureKind, StopReason};
use crate::middleware::{CallOutcome, CallResult, Middleware};
use crate::time::Instant;

mod config;
mod state;
mod window;

pub use config::{BreakerConfig, MAX_WINDOW};
pub use state::BreakerState;
use state::{BUSY, CLOSED, HALF_OPEN, OPEN, PROBE, SplitInstant, next, phase};
use window::Window;

/// A circuit breaker over a window of recent calls; see the
/// [module docs](crate::breaker).
///
/// Use it as [`Middleware`] (alone, as `&breaker`, or in a tuple such as
/// `(&breaker, &budget)`): [`before_call`](Middleware::before_call) refuses
/// calls while open, [`after_call`](Middleware::after_call) records how
/// each call ended.
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: AtomicU32,
    /// Open: when the break ends. Half-open with a probe: when the probe is
    /// presumed lost.
    until: SplitInstant,
    /// Half-open with a probe: the probe's start, which identifies its
    /// `after_call`.
    probe_started: SplitInstant,
    /// The outcomes of the last `config.window` calls.
    window: Window,
    refused: AtomicUsize,
    opened: AtomicUsize,
}

impl CircuitBreaker {
    /// A closed breaker with `config`, checked (see
    /// [`BreakerConfig::validate`]).
    pub const fn new(config: BreakerConfig) -> Result<Self, ConfigError> {
        let config = match config.validate() {
            Ok(c) => c,
            Err(e) => return Err(e),
        };
        Ok(Self {
            config,
            state: AtomicU32::new(CLOSED),
            until: SplitInstant::new(),
            probe_started: SplitInstant::new(),
            window: Window::new(),
            refused: AtomicUsize::new(0),
            opened: AtomicUsize::new(0),
        })
    }

    /// The settings.
    pub const fn config(&self) -> BreakerConfig {
        self.config
    }

    /// The current state (see [`BreakerState::Open`] on a break that has
    /// elapsed).
    pub fn state(&self) -> BreakerState {
        let word = self.state.load(Ordering::Acquire);
        match phase(word) {
            CLOSED => BreakerState::Closed,
            HALF_OPEN => BreakerState::HalfOpen,
            _ => BreakerState::Open,
        }
    }

    /// Calls recorded in the window and failures among them.
    pub fn window_counts(&self) -> (u32, u32) {
        self.window.counts()
    }

    /// How many calls were refused (wraps at `usize::MAX`).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    /// How many times the circuit opened (wraps at `usize::MAX`).
    pub fn times_opened(&self) -> usize {
        self.opened.load(Ordering::Relaxed)
    }

    /// Asks to start a call at `now`: `Ok` lets it through (as the probe,
    /// if half-open), `Err(StopReason::CircuitOpen)` refuses it. What
    /// [`Middleware::before_call`] does.
    pub fn try_acquire(&self, now: Instant) -> Result<(), StopReason> {
        loop {
            let word = self.state.load(Ordering::Acquire);
            match phase(word) {
                CLOSED => return Ok(()),
                OPEN => {
                    if now < self.until.load() {
                        return self.refuse();
                    }
                }
                HALF_OPEN => {
                    // A probe in flight keeps its slot until it reports or
                    // has been silent for a whole break.
                    if word & PROBE != 0 && now < self.until.load() {
                        return self.refuse();
                    }
                }
                _ => return self.refuse(),
            }
            // The break is over (or the probe slot is free): become the
            // probe. Losing the race means the state moved on; look again.
            if let Some(busy) = self.enter_busy(word) {
                self.until
                    .store(now.saturating_add(self.config.break_duration()));
                self.probe_started.store(now);
                self.state
                    .store(next(busy, HALF_OPEN | PROBE), Ordering::Release);
                debug!("tenace: circuit half-open, probing");
                return Ok(());
            }
        }
    }

    /// Records how a call that [`try_acquire`](Self::try_acquire) let
    /// through at `started` ended at `finished`. What
    /// [`Middleware::after_call`] does with the [`CallOutcome`].
    pub fn record(&self, result: CallResult, started: Instant, finished: Instant) {
        let verdict = judge(result);
        let word = self.state.load(Ordering::Acquire);
        match phase(word) {
            CLOSED => {
                if let Some(failed) = verdict {
                    self.window.push(failed, self.config.window());
                    if failed {
                        self.trip(finished);
                    }
                }
            }
            HALF_OPEN => self.settle_probe(word, verdict, started, finished),
            // Open or busy: a call from before the circuit opened; its
            // outcome is history.
            _ => {}
        }
    }

    /// Puts the breaker back in its initial state: closed, empty window,
    /// counters at zero.
    pub fn reset(&self) {
        self.window.clear();
        self.refused.store(0, Ordering::Relaxed);
        self.opened.store(0, Ordering::Relaxed);
        let word = self.state.load(Ordering::Relaxed);
        self.state.store(next(word, CLOSED), Ordering::Release);
    }

    fn refuse(&self) -> Result<(), StopReason> {
        self.refused.fetch_add(1, Ordering::Relaxed);
        Err(StopReason::CircuitOpen)
    }

    /// Moves the state from `word` to busy; `Some(busy word)` if this
    /// thread won. The fence keeps the times written next from being seen
    /// before the busy phase.
    fn enter_busy(&self, word: u32) -> Option<u32> {
        let busy = next(word, BUSY);
        self.state
            .compare_exchange(word, busy, Ordering::AcqRel, Ordering::Relaxed)
            .ok()?;
        fence(Ordering::Release);
        Some(busy)
    }

    /// Opens the circuit from `word` (closed or half-open) if still there.
    fn open(&self, word: u32, at: Instant) -> bool {
        let Some(busy) = self.enter_busy(word) else {
            return false;
        };
        self.until
            .store(at.saturating_add(self.config.break_duration()));
        self.opened.fetch_add(1, Ordering::Relaxed);
        self.state.store(next(busy, OPEN), Ordering::Release);
        debug!("tenace: circuit opened");
        true
    }

    /// Opens the circuit if the window says so and it is still closed.
    fn trip(&self, at: Instant) {
        loop {
            let word = self.state.load(Ordering::Acquire);
            if phase(word) != CLOSED || !self.over_threshold() {
                return;
            }
            if self.open(word, at) {
                return;
            }
        }
    }

    fn over_threshold(&self) -> bool {
        let (len, failed) = self.window_counts();
        len >= self.config.min_calls()
            && u64::from(failed) * 100 >= u64::from(self.config.failure_percent()) * u64::from(len)
    }

    fn settle_probe(
        &self,
        mut word: u32,
        verdict: Option<bool>,
        started: Instant,
        finished: Instant,
    ) {
        loop {
            if phase(word) != HALF_OPEN || word & PROBE == 0 || self.probe_started.load() != started
            {
                // Not the probe: a call from before the circuit opened, or
                // a probe presumed lost and replaced.
                return;
            }
            let done = match verdict {
                Some(true) => self.open(word, finished),
                Some(false) => match self.enter_busy(word) {
                    Some(busy) => {
                        self.window.clear();
                        self.state.store(next(busy, CLOSED), Ordering::Release);
                        debug!("tenace: circuit closed");
                        true
                    }
                    None => false,
                },
                // Said nothing: free the slot for the next call.
                None => self
                    .state
                    .compare_exchange(
                        word,
                        next(word, HALF_OPEN),
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    )
                    .is_ok(),
            };
            if done {
                return;
            }
            word = self.state.load(Ordering::Acquire);
        }
    }
}

/// `Some(true)` for a failure, `Some(false)` for a success, `None` for a
/// call that says nothing about the server (see the module docs' table).
const fn judge(result: CallResult) -> Option<bool> {
    match result {
        CallResult::Success => Some(false),
        CallResult::Failed(_, Some(FailureKind::Other)) => None,
        CallResult::Failed(_, Some(kind)) => Some(kind.is_transient()),
        CallResult::Failed(_, None) | CallResult::Cancelled => None,
    }
}

impl Middleware for CircuitBreaker {
    fn before_call(&self, now: Instant) -> Result<(), StopReason> {
        self.try_acquire(now)
    }

    fn after_call(&self, outcome: &CallOutcome) {
        self.record(outcome.result, outcome.started, outcome.finished);
    }

    /// A hedged copy that failed while the call went on counts as a failed
    /// call: every request a hedge sends is in the window.
    fn after_copy(&self, kind: FailureKind, started: Instant, now: Instant) {
        self.record(
            CallResult::Failed(StopReason::Exhausted, Some(kind)),
            started,
            now,
        );
    }
}

#[cfg(test)]
mod tests;
