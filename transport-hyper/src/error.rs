//! One error type for every failed attempt, classified for the engine.
//!
//! The engine asks an error one question, through
//! [`TransportError::kind`]: what kind of failure was it, and could the
//! request have reached the server? hyper answers neither directly:
//! `hyper_util`'s client error only says `is_connect()`, so [`Error`] is built
//! by walking the `source()` chain (hyper's own error, then the I/O error
//! under it) once, when the attempt fails (the `classify` module).
//!
//! | variant | [`FailureKind`] | retried by default | replayed if not idempotent |
//! |---|---|---|---|
//! | [`Connect`](Error::Connect) | `Connect` | yes | yes: nothing was sent |
//! | [`Refused`](Error::Refused) | `Connect` | yes | yes: the server did not process it |
//! | [`Timeout`](Error::Timeout) | `Timeout` | yes | no |
//! | [`Io`](Error::Io) | `Io` | yes | no |
//! | [`Status`](Error::Status) | `Status(code)` | no (opt in) | no |
//! | [`BodyNotReplayable`](Error::BodyNotReplayable) | `Other` | no | no |
//! | everything else | `Other` | no | no |

use core::error::Error as StdError;
use core::fmt;
use core::time::Duration;
use std::time::SystemTime;

use http::StatusCode;
use tenace::{FailureKind, TransportError};

use crate::response::Response;

/// A boxed error from a lower layer (hyper, the OS, a token provider).
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// The error of a call once the engine gave up: why, after how many attempts,
/// and the last attempt's [`Error`] as its `source()`.
pub type CallError = tenace::RetryError<Error>;

/// Why one attempt failed.
///
/// `Display` says what happened in one line without repeating the cause;
/// the cause (an I/O or hyper error) is the [`source`](StdError::source).
/// No variant holds a request header, so logging an error never writes an
/// `Authorization` value.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request never left: connection refused, DNS failure, connect
    /// timeout. Always safe to retry.
    Connect(BoxError),
    /// The request reached an HTTP/2 server, which said it did not process
    /// it: the server reset the stream with `REFUSED_STREAM`, or sent a
    /// `GOAWAY` whose last stream id is below the request's stream (with any
    /// error code; `NO_ERROR` is a graceful drain). HTTP/2 (RFC 9113,
    /// section 8.7) guarantees that such a request can be retried safely, so
    /// it is a [`Connect`](FailureKind::Connect) failure: retried by
    /// default, whatever the method. After a `GOAWAY` the connection takes
    /// no new stream, so the retry goes to a new connection.
    ///
    /// gRPC's retry design (A6) retries both signals for any call, as
    /// never seen by the server's application; Envoy retries them under its
    /// `refused-stream` condition (nghttp2, under it, closes the streams a
    /// `GOAWAY` left out as refused). Any other stream reset may come after
    /// the server acted on the request: it is [`Io`](Self::Io).
    Refused(BoxError),
    /// The attempt ran past its timeout (the per-attempt timeout or the
    /// call's deadline).
    Timeout(Duration),
    /// The connection failed after the request may have been sent: reset,
    /// EOF before or in the middle of the response.
    Io(BoxError),
    /// The server answered with an error status and the client was asked to
    /// treat it as an error (see
    /// [`ClientBuilder::error_for_status`](crate::ClientBuilder::error_for_status)
    /// and [`Response::error_for_status`]).
    Status {
        /// The status code.
        status: StatusCode,
        /// The server's `Retry-After`, as a delay from when the response
        /// arrived (see [`retry_after_from_headers`](crate::retry_after_from_headers)).
        retry_after: Option<Duration>,
        /// The whole response, body included (its `Debug` shows header names
        /// only).
        response: Box<Response>,
    },
    /// The response body was longer than the configured limit.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The attempt failed after its streaming request body had given more
    /// than the replay buffer limit: the start of the body is gone, so the
    /// request cannot be sent again, whatever the failure and the retry
    /// policy (see [`Body`](crate::Body)). gRPC does the same: a call whose
    /// request outgrew its retry buffer is committed, never retried.
    BodyNotReplayable {
        /// The replay buffer limit, in bytes.
        limit: usize,
        /// The attempt's failure (with
        /// [`error_for_status`](crate::ClientBuilder::error_for_status), an
        /// [`Error::Status`]); `None` when an attempt found the body spent
        /// before sending anything (under a policy that retries this
        /// error, or a `tower` service that turned it into another).
        cause: Option<Box<Self>>,
    },
    /// The streaming request body failed (its stream returned an error):
    /// the request was cut short. Not retried by default; the cause is the
    /// stream's error, under the body's.
    RequestBody(BoxError),
    /// The URL could not be parsed or joined to the base URL, or its scheme
    /// is not supported (`https` needs the `rustls` feature).
    InvalidUrl(BoxError),
    /// A header name or value, or another part of the request, was invalid.
    InvalidRequest(BoxError),
    /// The server's response was not valid HTTP (a malformed status line, a
    /// bad header).
    MalformedResponse(BoxError),
    /// The TLS handshake failed (an untrusted or invalid certificate, no
    /// common protocol). Not retried by default: a retry would fail the same
    /// way.
    Tls(BoxError),
    /// The body could not be decoded (invalid UTF-8, invalid JSON).
    Decode(BoxError),
    /// A request or response interceptor (or a token provider) failed.
    Interceptor(BoxError),
}

impl Error {
    /// An error for an interceptor or token provider to return.
    pub fn interceptor(cause: impl Into<BoxError>) -> Self {
        Self::Interceptor(cause.into())
    }

    /// The status code, for [`Error::Status`] (also as the cause of
    /// [`Error::BodyNotReplayable`]).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::BodyNotReplayable {
                cause: Some(cause), ..
            } => cause.status(),
            _ => None,
        }
    }

    /// The response that carried an error status, for [`Error::Status`]
    /// (also as the cause of [`Error::BodyNotReplayable`]).
    pub fn response(&self) -> Option<&Response> {
        match self {
            Self::Status { response, .. } => Some(response),
            Self::BodyNotReplayable {
                cause: Some(cause), ..
            } => cause.response(),
            _ => None,
        }
    }

    /// `true` for a timeout.
    pub const fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    /// `true` if the request is known not to have been sent.
    pub const fn is_connect(&self) -> bool {
        matches!(self, Self::Connect(_))
    }

    /// Builds an [`Error::Status`] from a response, reading a
    /// `Retry-After` date against `now` when the response has no `Date`
    /// header (see [`retry_after_from_headers`](crate::retry_after_from_headers)).
    pub(crate) fn from_status(response: Response, now: SystemTime) -> Self {
        let retry_after = crate::retry_after_from_headers(response.headers(), now);
        Self::Status {
            status: response.status(),
            retry_after,
            response: Box::new(response),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(_) => f.write_str("connection failed before the request was sent"),
            Self::Refused(_) => {
                f.write_str("the server refused the request before processing it (HTTP/2)")
            }
            Self::Timeout(after) => write!(f, "attempt timed out after {} ms", after.as_millis()),
            Self::Io(_) => f.write_str("connection failed after the request was sent"),
            Self::Status { status, .. } => write!(f, "HTTP status {status}"),
            Self::BodyTooLarge { limit } => {
                write!(f, "response body longer than the limit of {limit} bytes")
            }
            Self::BodyNotReplayable { limit, .. } => write!(
                f,
                "the request body was streamed past the replay limit of {limit} bytes and cannot be resent"
            ),
            Self::RequestBody(_) => f.write_str("the request body stream failed"),
            Self::InvalidUrl(_) => f.write_str("invalid URL"),
            Self::InvalidRequest(_) => f.write_str("invalid request"),
            Self::MalformedResponse(_) => f.write_str("malformed HTTP response"),
            Self::Tls(_) => f.write_str("TLS handshake failed"),
            Self::Decode(_) => f.write_str("could not decode the response body"),
            Self::Interceptor(_) => f.write_str("an interceptor failed"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Connect(e)
            | Self::Refused(e)
            | Self::Io(e)
            | Self::InvalidUrl(e)
            | Self::InvalidRequest(e)
            | Self::MalformedResponse(e)
            | Self::Tls(e)
            | Self::Decode(e)
            | Self::RequestBody(e)
            | Self::Interceptor(e) => Some(&**e),
            Self::BodyNotReplayable { cause, .. } => cause.as_deref().map(|e| e as _),
            Self::Timeout(_) | Self::Status { .. } | Self::BodyTooLarge { .. } => None,
        }
    }
}

impl TransportError for Error {
    fn kind(&self) -> FailureKind {
        match self {
            Self::Connect(_) | Self::Refused(_) => FailureKind::Connect,
            Self::Timeout(_) => FailureKind::Timeout,
            Self::Io(_) => FailureKind::Io,
            Self::Status { status, .. } => FailureKind::Status(status.as_u16()),
            _ => FailureKind::Other,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    fn timed_out(after: Duration) -> Self {
        Self::Timeout(after)
    }
}

/// A URL problem, as a `source()` for [`Error::InvalidUrl`].
#[derive(Debug)]
pub(crate) struct UrlError(pub(crate) &'static str);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl StdError for UrlError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let timeout = <Error as TransportError>::timed_out(Duration::from_millis(250));
        assert_eq!(timeout.kind(), FailureKind::Timeout);
        assert_eq!(timeout.to_string(), "attempt timed out after 250 ms");
        assert_eq!(Error::BodyTooLarge { limit: 8 }.kind(), FailureKind::Other);
        assert_eq!(Error::interceptor("no token").kind(), FailureKind::Other);
        assert_eq!(
            Error::interceptor("no token").source().unwrap().to_string(),
            "no token"
        );
    }
}
