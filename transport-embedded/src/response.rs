//! Responses: a small `Copy` head, and the body in the caller's buffer.

use core::time::Duration;

use tenace::http::HttpDate;

/// What an attempt's response says, without the body: what response
/// interceptors see and what the engine hands back. The body stays in the
/// caller's buffer; [`Response`] pairs the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Head {
    pub(crate) status: u16,
    pub(crate) content_length: Option<usize>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) date: Option<HttpDate>,
    pub(crate) body_start: usize,
    pub(crate) body_len: usize,
}

impl Head {
    /// The status code.
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// `true` for 2xx.
    pub const fn is_success(&self) -> bool {
        self.status >= 200 && self.status < 300
    }

    /// The `Content-Length` the server announced, if any.
    pub const fn content_length(&self) -> Option<usize> {
        self.content_length
    }

    /// The body's length in bytes.
    pub const fn body_len(&self) -> usize {
        self.body_len
    }

    /// The server's delay hint as a delay from the response
    /// ([`tenace::http::delay_hint`]: `Retry-After`, `RateLimit-Reset`,
    /// `RateLimit`, `X-RateLimit-Reset`). An absolute time is measured
    /// against the response's `Date` header; without one it is
    /// [`UNKNOWN_WAIT`](tenace::http::UNKNOWN_WAIT), since the client has no
    /// wall clock.
    pub const fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The response's `Date` header, if it had a valid one.
    pub const fn date(&self) -> Option<HttpDate> {
        self.date
    }
}

/// A response whose body lives in the caller's buffer, with how many
/// attempts the call took. Its `Debug` and `defmt::Format` output show the
/// body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Response<'b> {
    head: Head,
    body: &'b [u8],
    attempts: u32,
    slept: Duration,
}

impl<'b> Response<'b> {
    /// Pairs a head with its body: one attempt, no sleep.
    pub(crate) const fn new(head: Head, body: &'b [u8]) -> Self {
        Self {
            head,
            body,
            attempts: 1,
            slept: Duration::ZERO,
        }
    }

    /// The same response, reached after `attempts` attempts and `slept` of
    /// backoff.
    pub(crate) const fn after(mut self, attempts: u32, slept: Duration) -> Self {
        self.attempts = attempts;
        self.slept = slept;
        self
    }

    /// Attempts the call made, this response's included: 1 when the first
    /// attempt succeeded.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time the call spent in backoff between its attempts (on the
    /// transport's clock; a backoff cut short by link-up counts as slept in
    /// full).
    pub const fn slept(&self) -> Duration {
        self.slept
    }

    /// The status code.
    pub const fn status(&self) -> u16 {
        self.head.status
    }

    /// The body (a slice of the caller's buffer).
    pub const fn body(&self) -> &'b [u8] {
        self.body
    }

    /// The head: status, lengths, the server's delay hint, `Date`.
    pub const fn head(&self) -> &Head {
        &self.head
    }
}
