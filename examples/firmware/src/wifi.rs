//! A scripted radio link that fails the way flaky Wi-Fi does: the
//! association drops (nothing was sent), an answer never comes, the link
//! dies mid-exchange, a request hangs forever.
//!
//! Each attempt plays the next step of the script, taking the step's
//! latency on the real embassy-time clock, and records the tick it started
//! at, so tests measure the time between attempts on the hardware timer.
// The size probe uses only part of it.
#![cfg_attr(not(feature = "tests"), allow(dead_code))]

use core::cell::Cell;
use core::fmt;

use embassy_time::{Duration, Instant, Timer};

/// One attempt's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Request {
    /// The resource, for the log.
    pub(crate) path: &'static str,
    /// Whether sending it twice is harmless (a GET; a POST with an
    /// idempotency key).
    pub(crate) idempotent: bool,
}

impl Request {
    /// An idempotent request (a GET).
    pub(crate) const fn get(path: &'static str) -> Self {
        Self {
            path,
            idempotent: true,
        }
    }

    /// A request that must not be replayed once it may have been sent.
    pub(crate) const fn post(path: &'static str) -> Self {
        Self {
            path,
            idempotent: false,
        }
    }
}

/// How an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WifiError {
    /// Not associated with the access point: nothing was sent.
    NoAssociation,
    /// No answer in time (the radio's own timeout, or the engine's).
    NoAnswer,
    /// The link dropped after the request went out.
    LinkDropped,
    /// The server answered with an error status.
    Status(u16),
}

impl fmt::Display for WifiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAssociation => f.write_str("not associated"),
            Self::NoAnswer => f.write_str("no answer"),
            Self::LinkDropped => f.write_str("link dropped"),
            Self::Status(s) => write!(f, "status {s}"),
        }
    }
}

impl core::error::Error for WifiError {}

#[cfg(feature = "engine")]
impl tenace::TransportError for WifiError {
    fn kind(&self) -> tenace::FailureKind {
        match *self {
            Self::NoAssociation => tenace::FailureKind::Connect,
            Self::NoAnswer => tenace::FailureKind::Timeout,
            Self::LinkDropped => tenace::FailureKind::Io,
            Self::Status(s) => tenace::FailureKind::Status(s),
        }
    }

    fn timed_out(_after: core::time::Duration) -> Self {
        Self::NoAnswer
    }
}

/// One scripted attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// Milliseconds the attempt takes before it ends.
    latency_ms: u64,
    /// `None`: the attempt never ends.
    outcome: Option<Result<u16, WifiError>>,
}

impl Step {
    /// A response with this status after `latency_ms`.
    pub(crate) const fn ok(status: u16, latency_ms: u64) -> Self {
        Self {
            latency_ms,
            outcome: Some(Ok(status)),
        }
    }

    /// A failure after `latency_ms`.
    pub(crate) const fn fail(error: WifiError, latency_ms: u64) -> Self {
        Self {
            latency_ms,
            outcome: Some(Err(error)),
        }
    }

    /// An attempt that never ends.
    pub(crate) const fn hang() -> Self {
        Self {
            latency_ms: 0,
            outcome: None,
        }
    }

    /// How long the attempt takes, if it ends.
    pub(crate) const fn latency(&self) -> Option<Duration> {
        match self.outcome {
            Some(_) => Some(Duration::from_millis(self.latency_ms)),
            None => None,
        }
    }
}

/// Plays a script of `N` steps; attempts past its end fail with
/// [`WifiError::LinkDropped`].
#[derive(Debug)]
pub(crate) struct FlakyWifi<const N: usize> {
    script: [Step; N],
    calls: Cell<usize>,
    started: [Cell<Option<Instant>>; N],
}

impl<const N: usize> FlakyWifi<N> {
    /// A link that plays `script`.
    pub(crate) fn new(script: [Step; N]) -> Self {
        Self {
            script,
            calls: Cell::new(0),
            started: [const { Cell::new(None) }; N],
        }
    }

    /// Attempts sent so far.
    pub(crate) fn calls(&self) -> usize {
        self.calls.get()
    }

    /// When attempt `i` (0-based) started, if it did.
    pub(crate) fn started(&self, i: usize) -> Option<Instant> {
        self.started.get(i).and_then(Cell::get)
    }

    /// Step `i` of the script.
    pub(crate) fn step(&self, i: usize) -> Option<Step> {
        self.script.get(i).copied()
    }

    /// Sends one attempt: plays the next step.
    pub(crate) async fn send_once(&self, request: Request) -> Result<u16, WifiError> {
        let i = self.calls.get();
        self.calls.set(i + 1);
        if let Some(slot) = self.started.get(i) {
            slot.set(Some(Instant::now()));
        }
        let _ = request.path;
        let Some(step) = self.script.get(i) else {
            return Err(WifiError::LinkDropped);
        };
        match step.outcome {
            Some(outcome) => {
                Timer::after(Duration::from_millis(step.latency_ms)).await;
                outcome
            }
            None => core::future::pending().await,
        }
    }
}

#[cfg(feature = "engine")]
impl<const N: usize> tenace::Transport for FlakyWifi<N> {
    type Request = Request;
    type Response = u16;
    type Error = WifiError;

    async fn send(&self, request: Request) -> Result<u16, WifiError> {
        self.send_once(request).await
    }

    fn replay(&self, request: &Request) -> tenace::Replay {
        tenace::Replay::from_safe(request.idempotent)
    }
}
