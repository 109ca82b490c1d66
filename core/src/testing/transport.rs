use core::cell::{Cell, RefCell};
use core::fmt;
use core::time::Duration;

use heapless::Vec;

use super::{MockClock, YieldOnce};
use crate::error::{FailureKind, TransportError};
use crate::replay::Replay;
use crate::transport::{BlockingTransport, Transport};

/// The error of a [`ScriptedTransport`] step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MockError {
    /// The kind the engine sees.
    pub kind: FailureKind,
    /// A `Retry-After` hint.
    pub retry_after: Option<Duration>,
}

impl MockError {
    /// An error of `kind` without a hint.
    pub const fn new(kind: FailureKind) -> Self {
        Self {
            kind,
            retry_after: None,
        }
    }
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scripted {} failure", self.kind)
    }
}

impl core::error::Error for MockError {}

impl TransportError for MockError {
    fn kind(&self) -> FailureKind {
        self.kind
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    fn timed_out(_after: Duration) -> Self {
        Self::new(FailureKind::Timeout)
    }
}

/// One scripted attempt: what it returns and how long it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<Resp> {
    latency: Duration,
    outcome: Outcome<Resp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome<Resp> {
    Ok(Resp),
    Err(MockError),
    Hang,
}

impl<Resp> Step<Resp> {
    /// The attempt succeeds with `response`.
    pub const fn ok(response: Resp) -> Self {
        Self {
            latency: Duration::ZERO,
            outcome: Outcome::Ok(response),
        }
    }

    /// The attempt fails with `kind`.
    pub const fn fail(kind: FailureKind) -> Self {
        Self::error(MockError::new(kind))
    }

    /// The attempt fails with `error`.
    pub const fn error(error: MockError) -> Self {
        Self {
            latency: Duration::ZERO,
            outcome: Outcome::Err(error),
        }
    }

    /// The attempt fails with an HTTP status and an optional `Retry-After`.
    pub const fn status(status: u16, retry_after: Option<Duration>) -> Self {
        Self::error(MockError {
            kind: FailureKind::Status(status),
            retry_after,
        })
    }

    /// The attempt never completes (until a timeout cancels it).
    pub const fn hang() -> Self {
        Self {
            latency: Duration::ZERO,
            outcome: Outcome::Hang,
        }
    }

    /// The same step, taking `latency` of the transport's clock first
    /// (see [`ScriptedTransport::with_clock`]).
    #[must_use]
    pub const fn after(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
}

/// A transport that plays a script of outcomes, one per attempt, and records
/// every request it was sent (up to `N`).
///
/// After the script runs out, every attempt fails with
/// [`FailureKind::Other`]. Requests are safe to replay unless
/// [`replay(Replay::Unsafe)`](Self::replay) says otherwise.
#[derive(Debug)]
pub struct ScriptedTransport<'c, Req, Resp, const N: usize> {
    script: RefCell<[Option<Step<Resp>>; N]>,
    next: Cell<usize>,
    seen: RefCell<Vec<Req, N>>,
    replay: Replay,
    clock: Option<&'c MockClock>,
}

impl<Req, Resp, const N: usize> ScriptedTransport<'static, Req, Resp, N> {
    /// A transport that plays `script` in order.
    pub fn new(script: [Step<Resp>; N]) -> Self {
        Self {
            script: RefCell::new(script.map(Some)),
            next: Cell::new(0),
            seen: RefCell::new(Vec::new()),
            replay: Replay::Safe,
            clock: None,
        }
    }
}

impl<'c, Req, Resp, const N: usize> ScriptedTransport<'c, Req, Resp, N> {
    /// Steps' latencies advance `clock` (otherwise they are ignored).
    pub fn with_clock<'d>(self, clock: &'d MockClock) -> ScriptedTransport<'d, Req, Resp, N> {
        ScriptedTransport {
            script: self.script,
            next: self.next,
            seen: self.seen,
            replay: self.replay,
            clock: Some(clock),
        }
    }

    /// The same script, with steps' latencies slept on the clock (with
    /// [`with_clock`](Self::with_clock)) instead of jumped, so attempts
    /// that run side by side (a hedged call's copies) overlap in virtual
    /// time as on a real clock; it also counts the sends dropped before
    /// they finished. Latencies show in the clock's
    /// [`records`](MockClock::records).
    pub fn latency_sleeps(self) -> SleepingTransport<'c, Req, Resp, N> {
        SleepingTransport {
            inner: self,
            cancelled: Cell::new(0),
        }
    }

    /// Whether requests may be replayed (default [`Replay::Safe`]).
    #[must_use]
    pub fn replay(mut self, replay: Replay) -> Self {
        self.replay = replay;
        self
    }

    /// How many attempts were sent.
    pub fn calls(&self) -> usize {
        self.next.get()
    }

    /// The requests sent, in order (the first `N`).
    pub fn requests(&self) -> Vec<Req, N>
    where
        Req: Clone,
    {
        self.seen.borrow().clone()
    }

    fn take(&self, request: Req) -> Option<Step<Resp>> {
        let i = self.next.get();
        self.next.set(i + 1);
        let _ = self.seen.borrow_mut().push(request);
        self.script.borrow_mut().get_mut(i).and_then(Option::take)
    }
}

/// A [`ScriptedTransport`] whose latencies are sleeps on its clock; see
/// [`ScriptedTransport::latency_sleeps`]. A type of its own so that the
/// plain transport's future, which the engine's future sizes are measured
/// with, does not carry a sleep.
#[derive(Debug)]
pub struct SleepingTransport<'c, Req, Resp, const N: usize> {
    inner: ScriptedTransport<'c, Req, Resp, N>,
    cancelled: Cell<usize>,
}

impl<Req, Resp, const N: usize> SleepingTransport<'_, Req, Resp, N> {
    /// Whether requests may be replayed (default [`Replay::Safe`]).
    #[must_use]
    pub fn replay(mut self, replay: Replay) -> Self {
        self.inner.replay = replay;
        self
    }

    /// How many attempts were sent.
    pub fn calls(&self) -> usize {
        self.inner.calls()
    }

    /// The requests sent, in order (the first `N`).
    pub fn requests(&self) -> Vec<Req, N>
    where
        Req: Clone,
    {
        self.inner.requests()
    }

    /// How many sends were dropped before they finished (cancelled).
    pub fn cancelled(&self) -> usize {
        self.cancelled.get()
    }
}

/// Counts a send dropped before it finished; forgotten when it finishes.
struct Unfinished<'a>(&'a Cell<usize>);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

impl<Req, Resp, const N: usize> Transport for SleepingTransport<'_, Req, Resp, N> {
    type Request = Req;
    type Response = Resp;
    type Error = MockError;

    async fn send(&self, request: Req) -> Result<Resp, MockError> {
        let Some(step) = self.inner.take(request) else {
            return Err(exhausted());
        };
        let unfinished = Unfinished(&self.cancelled);
        if let Some(clock) = self.inner.clock
            && !step.latency.is_zero()
        {
            crate::Clock::sleep(clock, step.latency).await;
        }
        YieldOnce::default().await;
        let outcome = match step.outcome {
            Outcome::Ok(r) => Ok(r),
            Outcome::Err(e) => Err(e),
            Outcome::Hang => core::future::pending().await,
        };
        core::mem::forget(unfinished);
        outcome
    }

    fn replay(&self, _request: &Req) -> Replay {
        self.inner.replay
    }
}

fn exhausted() -> MockError {
    MockError::new(FailureKind::Other)
}

impl<Req, Resp, const N: usize> Transport for ScriptedTransport<'_, Req, Resp, N> {
    type Request = Req;
    type Response = Resp;
    type Error = MockError;

    async fn send(&self, request: Req) -> Result<Resp, MockError> {
        let Some(step) = self.take(request) else {
            return Err(exhausted());
        };
        if let Some(clock) = self.clock {
            clock.advance(step.latency);
        }
        YieldOnce::default().await;
        match step.outcome {
            Outcome::Ok(r) => Ok(r),
            Outcome::Err(e) => Err(e),
            Outcome::Hang => core::future::pending().await,
        }
    }

    fn replay(&self, _request: &Req) -> Replay {
        self.replay
    }
}

impl<Req, Resp, const N: usize> BlockingTransport for ScriptedTransport<'_, Req, Resp, N> {
    type Request = Req;
    type Response = Resp;
    type Error = MockError;

    fn send(&self, request: Req, timeout: Option<Duration>) -> Result<Resp, MockError> {
        let Some(step) = self.take(request) else {
            return Err(exhausted());
        };
        let latency = match (step.outcome, timeout) {
            (Outcome::Hang, Some(t)) => Err(t),
            (Outcome::Hang, None) => return Err(exhausted()),
            (_, Some(t)) if step.latency > t => Err(t),
            (outcome, _) => Ok((step.latency, outcome)),
        };
        match latency {
            Err(t) => {
                if let Some(clock) = self.clock {
                    clock.advance(t);
                }
                Err(MockError::timed_out(t))
            }
            Ok((latency, outcome)) => {
                if let Some(clock) = self.clock {
                    clock.advance(latency);
                }
                match outcome {
                    Outcome::Ok(r) => Ok(r),
                    Outcome::Err(e) => Err(e),
                    Outcome::Hang => Err(exhausted()),
                }
            }
        }
    }

    fn replay(&self, _request: &Req) -> Replay {
        self.replay
    }
}
