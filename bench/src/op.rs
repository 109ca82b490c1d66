//! The operation every contender retries, and its error.

use core::cell::Cell;
use core::fmt;
use core::time::Duration;

use tenace::{FailureKind, Transport, TransportError};

/// What a successful call answers.
pub const ANSWER: u32 = 42;

/// An in-memory operation that fails as many times as it was armed with,
/// then succeeds. No I/O: the figures measure the retry machinery only.
#[derive(Debug, Default)]
pub struct Flaky {
    failures_left: Cell<u32>,
    attempts: Cell<u32>,
}

impl Flaky {
    /// An operation that succeeds until armed.
    pub const fn new() -> Self {
        Self {
            failures_left: Cell::new(0),
            attempts: Cell::new(0),
        }
    }

    /// Makes the next `failures` calls fail.
    #[inline]
    pub fn arm(&self, failures: u32) {
        self.failures_left.set(failures);
    }

    /// One attempt: an I/O error while armed, [`ANSWER`] after.
    #[inline]
    pub fn call(&self) -> Result<u32, OpError> {
        self.attempts.set(self.attempts.get().wrapping_add(1));
        match self.failures_left.get() {
            0 => Ok(ANSWER),
            n => {
                self.failures_left.set(n - 1);
                Err(OpError::Reset)
            }
        }
    }

    /// Attempts made since the last [`reset_attempts`](Self::reset_attempts).
    pub fn attempts(&self) -> u32 {
        self.attempts.get()
    }

    /// Sets the attempt count back to zero.
    pub fn reset_attempts(&self) {
        self.attempts.set(0);
    }
}

/// The operation's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpError {
    /// The connection was reset (retryable).
    Reset,
    /// The attempt took too long (tenace's per-attempt timeout; never used
    /// here).
    TimedOut,
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reset => "connection reset",
            Self::TimedOut => "timed out",
        })
    }
}

impl core::error::Error for OpError {}

impl TransportError for OpError {
    #[inline]
    fn kind(&self) -> FailureKind {
        match self {
            Self::Reset => FailureKind::Io,
            Self::TimedOut => FailureKind::Timeout,
        }
    }
    fn timed_out(_after: Duration) -> Self {
        Self::TimedOut
    }
}

/// [`Flaky`] as a tenace [`Transport`] (async) and
/// [`BlockingTransport`](tenace::BlockingTransport).
#[derive(Debug, Clone, Copy)]
pub struct FlakyTransport<'a>(pub &'a Flaky);

impl Transport for FlakyTransport<'_> {
    type Request = ();
    type Response = u32;
    type Error = OpError;
    #[inline]
    async fn send(&self, _request: ()) -> Result<u32, OpError> {
        self.0.call()
    }
    #[inline]
    fn replay(&self, _request: &()) -> tenace::Replay {
        tenace::Replay::Safe
    }
}

impl tenace::BlockingTransport for FlakyTransport<'_> {
    type Request = ();
    type Response = u32;
    type Error = OpError;
    #[inline]
    fn send(&self, _request: (), _timeout: Option<Duration>) -> Result<u32, OpError> {
        self.0.call()
    }
    #[inline]
    fn replay(&self, _request: &()) -> tenace::Replay {
        tenace::Replay::Safe
    }
}
