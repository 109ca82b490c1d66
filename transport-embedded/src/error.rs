//! What went wrong in one attempt, classified by the phase it failed in.
//!
//! A TCP stack does not always say *why* a socket failed: embassy-net reports
//! every failed connect as `ConnectionReset`, the same kind as a reset in the
//! middle of a response. What the engine needs to know is whether the request
//! could have reached the server, and that follows from the phase, not the
//! kind: a failure while connecting (DNS, TCP, TLS handshake) happened before
//! a byte of the request was written, so it is always safe to retry, even for
//! a `POST`; a failure once the request is on its way may have reached the
//! server.

use core::fmt;
use core::time::Duration;

use tenace::{FailureKind, TransportError};

/// The I/O error kinds of `embedded-io`, as TCP stacks report them.
pub use embedded_io::ErrorKind as IoErrorKind;

/// Where in an attempt a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Phase {
    /// DNS, TCP connect and TLS handshake: nothing of the request was sent.
    Connect,
    /// Writing the request and reading the response head: the request may
    /// have reached the server.
    Exchange,
    /// Reading the response body into the caller's buffer.
    Body,
}

impl Phase {
    /// A short lowercase name, for logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Exchange => "exchange",
            Self::Body => "body",
        }
    }
}

/// Why a phase failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Cause {
    /// The host name did not resolve.
    Dns,
    /// The network stack reported this I/O error (refused, reset, ...).
    Network(IoErrorKind),
    /// The phase ran past its timeout (see [`Timeouts`](crate::Timeouts)).
    TimedOut,
    /// The peer closed the connection (end of stream) too early.
    Closed,
    /// The peer closed the connection (end of stream) before the end of
    /// the body: short of its `Content-Length` (which fit the caller's
    /// buffer), or inside a chunked body. A network failure after the
    /// request was sent, not a buffer too small.
    Truncated,
    /// The caller's buffer is too small for the response head, or for the
    /// body.
    BufferTooSmall,
    /// The response is not valid HTTP/1.1 (status line, headers, chunking,
    /// a `Content-Length` that disagrees with the data).
    Malformed,
    /// The TLS handshake or a TLS record failed for a reason other than I/O
    /// (certificate, cipher suite, protocol error).
    Tls,
    /// Anything else reqwless reported.
    Other,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns => f.write_str("name not resolved"),
            Self::Network(kind) => write!(f, "network error ({kind:?})"),
            Self::TimedOut => f.write_str("timed out"),
            Self::Closed => f.write_str("connection closed by the peer"),
            Self::Truncated => {
                f.write_str("truncated: the connection closed before the end of the body")
            }
            Self::BufferTooSmall => f.write_str("buffer too small"),
            Self::Malformed => f.write_str("malformed response"),
            Self::Tls => f.write_str("TLS failure"),
            Self::Other => f.write_str("HTTP client error"),
        }
    }
}

/// A request that cannot be sent as given; found before anything touches the
/// network, so never retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RequestError {
    /// The URL does not parse (`scheme://host[:port][/path]`).
    InvalidUrl,
    /// The URL's scheme is not `http`, or is `https` without the `tls`
    /// feature (or without a TLS configuration).
    UnsupportedScheme,
    /// Base URL and path joined are longer than the client's URL capacity.
    /// The URL is never truncated.
    UrlTooLong,
    /// More default headers than the client's header capacity.
    TooManyHeaders,
    /// More request interceptors, response interceptors or middleware than
    /// the client's hook capacity (`HOOKS` of each kind).
    TooManyHooks,
    /// A header name is not an HTTP token, a value holds a control
    /// character (CR, LF, NUL...), or a header is one the transport writes
    /// itself (`Content-Length`, `Transfer-Encoding`).
    InvalidHeader,
    /// The request line and headers do not fit in the caller's buffer, which
    /// also holds them while they are sent.
    HeadTooLarge,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidUrl => "invalid URL",
            Self::UnsupportedScheme => "unsupported URL scheme",
            Self::UrlTooLong => "URL longer than the client's URL capacity",
            Self::TooManyHeaders => "more default headers than the client's capacity",
            Self::TooManyHooks => "more hooks of one kind than the client's capacity",
            Self::InvalidHeader => "invalid header name or value",
            Self::HeadTooLarge => "request head larger than the buffer",
        })
    }
}

impl core::error::Error for RequestError {}

/// The error of one attempt.
///
/// Its [`kind`](TransportError::kind), which decides whether the engine
/// retries, follows from the phase:
///
/// | error | kind | retried by default |
/// |---|---|---|
/// | [`Connect`](Self::Connect) (any cause but `Tls`) | [`FailureKind::Connect`] | yes, whatever the method |
/// | [`Exchange`](Self::Exchange) / [`Body`](Self::Body) with `TimedOut` | [`FailureKind::Timeout`] | idempotent or retry-safe requests only |
/// | [`Exchange`](Self::Exchange) / [`Body`](Self::Body) with `Network`, `Closed` or `Truncated` | [`FailureKind::Io`] | idempotent or retry-safe requests only |
/// | [`TimedOut`](Self::TimedOut) (the engine's attempt timeout) | [`FailureKind::Timeout`] | idempotent or retry-safe requests only |
/// | [`Status`](Self::Status) | [`FailureKind::Status`] | only with a predicate such as [`TransientErrors`](tenace::TransientErrors) |
/// | everything else (buffer too small, malformed, TLS, request errors) | [`FailureKind::Other`] | no |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// Resolving, connecting or the TLS handshake failed: the request was
    /// not sent.
    Connect(Cause),
    /// Writing the request or reading the response head failed.
    Exchange(Cause),
    /// Reading the response body failed.
    Body(Cause),
    /// The server answered with an error status (4xx or 5xx) and the request
    /// asked for statuses to be errors
    /// ([`error_for_status`](crate::Request::error_for_status)).
    Status {
        /// The status code.
        status: u16,
        /// The server's delay hint, relative to the response
        /// ([`tenace::http::delay_hint`]; an absolute time is measured
        /// against the response's own `Date` header, and without one is
        /// [`UNKNOWN_WAIT`](tenace::http::UNKNOWN_WAIT)).
        retry_after: Option<Duration>,
    },
    /// The request cannot be sent as given.
    Request(RequestError),
    /// The engine cancelled the attempt: its per-attempt timeout or the
    /// call's deadline passed.
    TimedOut,
    /// The response buffer was in use by another attempt (a
    /// [`Buffered`](crate::Buffered) transport driven by two calls at once).
    Busy,
}

impl Error {
    /// The phase the attempt failed in, for the three phase errors.
    pub const fn phase(&self) -> Option<Phase> {
        match self {
            Self::Connect(_) => Some(Phase::Connect),
            Self::Exchange(_) => Some(Phase::Exchange),
            Self::Body(_) => Some(Phase::Body),
            _ => None,
        }
    }

    /// The cause, for the three phase errors.
    pub const fn cause(&self) -> Option<Cause> {
        match *self {
            Self::Connect(c) | Self::Exchange(c) | Self::Body(c) => Some(c),
            _ => None,
        }
    }

    /// The error of `phase` with `cause`.
    pub const fn in_phase(phase: Phase, cause: Cause) -> Self {
        match phase {
            Phase::Connect => Self::Connect(cause),
            Phase::Exchange => Self::Exchange(cause),
            Phase::Body => Self::Body(cause),
        }
    }

    /// Classifies a reqwless error seen while reading a body of
    /// `content_length` bytes (if the head announced one) into a buffer of
    /// `capacity` bytes; `ended` if the connection had reported end of
    /// stream.
    ///
    /// A body the peer's close cut short is [`Cause::Truncated`]:
    ///
    /// - reqwless moves the body bytes that came with the head to the front
    ///   of the buffer, so the whole buffer is the body's. With a
    ///   `Content-Length` that fits, its `read_to_end` can only end short of
    ///   it at end of stream, and it reports that as `BufferTooSmall`;
    /// - at end of stream inside a chunked body (a chunk, its size line, the
    ///   last chunk), it reports the connection aborted.
    ///
    /// A body that does not fit (a `Content-Length` over `capacity`, a
    /// chunked or close-delimited body that fills the buffer) stays
    /// `BufferTooSmall`.
    pub(crate) fn from_reqwless_body(
        e: reqwless::Error,
        content_length: Option<usize>,
        capacity: usize,
        ended: bool,
    ) -> Self {
        match e {
            reqwless::Error::BufferTooSmall if content_length.is_some_and(|n| n <= capacity) => {
                Self::Body(Cause::Truncated)
            }
            reqwless::Error::Network(IoErrorKind::ConnectionAborted)
            | reqwless::Error::ConnectionAborted
                if ended =>
            {
                Self::Body(Cause::Truncated)
            }
            e => Self::from_reqwless(Phase::Body, e),
        }
    }

    /// Classifies a reqwless error seen in `phase`.
    pub(crate) fn from_reqwless(phase: Phase, e: reqwless::Error) -> Self {
        let cause = match e {
            reqwless::Error::Dns => Cause::Dns,
            reqwless::Error::Network(kind) => Cause::Network(kind),
            reqwless::Error::ConnectionAborted => Cause::Closed,
            reqwless::Error::BufferTooSmall => Cause::BufferTooSmall,
            reqwless::Error::Codec => Cause::Malformed,
            reqwless::Error::InvalidUrl(nourl::Error::UnsupportedScheme) => {
                return Self::Request(RequestError::UnsupportedScheme);
            }
            reqwless::Error::InvalidUrl(_) => return Self::Request(RequestError::InvalidUrl),
            #[cfg(feature = "tls")]
            reqwless::Error::Tls(tls) => match tls {
                embedded_tls::TlsError::Io(kind) => Cause::Network(kind),
                embedded_tls::TlsError::ConnectionClosed => Cause::Closed,
                embedded_tls::TlsError::IoError => Cause::Network(IoErrorKind::Other),
                _ => Cause::Tls,
            },
            _ => Cause::Other,
        };
        Self::in_phase(phase, cause)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(c) | Self::Exchange(c) | Self::Body(c) => {
                let phase = self.phase().map_or("", Phase::as_str);
                write!(f, "{phase} failed: {c}")
            }
            Self::Status {
                status,
                retry_after: None,
            } => write!(f, "HTTP status {status}"),
            Self::Status {
                status,
                retry_after: Some(tenace::http::UNKNOWN_WAIT),
            } => write!(f, "HTTP status {status} (retry after an unknown wait)"),
            Self::Status {
                status,
                retry_after: Some(d),
            } => write!(f, "HTTP status {status} (retry after {d:?})"),
            Self::Request(e) => write!(f, "bad request: {e}"),
            Self::TimedOut => f.write_str("attempt timed out"),
            Self::Busy => f.write_str("response buffer busy"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Request(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Self {
        Self::Request(e)
    }
}

impl TransportError for Error {
    fn kind(&self) -> FailureKind {
        match *self {
            Self::Connect(Cause::Tls) => FailureKind::Other,
            Self::Connect(_) => FailureKind::Connect,
            Self::Exchange(Cause::TimedOut) | Self::Body(Cause::TimedOut) | Self::TimedOut => {
                FailureKind::Timeout
            }
            Self::Exchange(Cause::Network(_) | Cause::Closed | Cause::Truncated)
            | Self::Body(Cause::Network(_) | Cause::Closed | Cause::Truncated) => FailureKind::Io,
            Self::Status { status, .. } => FailureKind::Status(status),
            _ => FailureKind::Other,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match *self {
            Self::Status { retry_after, .. } => retry_after,
            _ => None,
        }
    }

    fn timed_out(_after: Duration) -> Self {
        Self::TimedOut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_phase() {
        let reset = Cause::Network(IoErrorKind::ConnectionReset);
        // embassy-net reports a failed connect as a reset: still a connect failure.
        assert_eq!(Error::Connect(reset).kind(), FailureKind::Connect);
        assert_eq!(Error::Connect(Cause::TimedOut).kind(), FailureKind::Connect);
        assert_eq!(Error::Connect(Cause::Dns).kind(), FailureKind::Connect);
        assert_eq!(Error::Connect(Cause::Tls).kind(), FailureKind::Other);
        assert_eq!(Error::Exchange(reset).kind(), FailureKind::Io);
        assert_eq!(Error::Exchange(Cause::Closed).kind(), FailureKind::Io);
        assert_eq!(
            Error::Exchange(Cause::TimedOut).kind(),
            FailureKind::Timeout
        );
        assert_eq!(Error::Exchange(Cause::Malformed).kind(), FailureKind::Other);
        assert_eq!(Error::Body(reset).kind(), FailureKind::Io);
        assert_eq!(Error::Body(Cause::Truncated).kind(), FailureKind::Io);
        assert_eq!(Error::Body(Cause::TimedOut).kind(), FailureKind::Timeout);
        assert_eq!(
            Error::Body(Cause::BufferTooSmall).kind(),
            FailureKind::Other
        );
        assert_eq!(Error::TimedOut.kind(), FailureKind::Timeout);
        assert_eq!(Error::Busy.kind(), FailureKind::Other);
        assert_eq!(
            Error::Request(RequestError::UrlTooLong).kind(),
            FailureKind::Other
        );
        let status = Error::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(status.kind(), FailureKind::Status(429));
        assert_eq!(status.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(Error::Exchange(reset).retry_after(), None);
    }

    #[test]
    fn reqwless_errors_by_phase() {
        use reqwless::Error as R;
        assert_eq!(
            Error::from_reqwless(Phase::Connect, R::Network(IoErrorKind::ConnectionRefused)),
            Error::Connect(Cause::Network(IoErrorKind::ConnectionRefused))
        );
        assert_eq!(
            Error::from_reqwless(Phase::Connect, R::Dns),
            Error::Connect(Cause::Dns)
        );
        assert_eq!(
            Error::from_reqwless(Phase::Exchange, R::ConnectionAborted),
            Error::Exchange(Cause::Closed)
        );
        assert_eq!(
            Error::from_reqwless(Phase::Body, R::BufferTooSmall),
            Error::Body(Cause::BufferTooSmall)
        );
        // A body short of a Content-Length that fits the buffer is truncated.
        assert_eq!(
            Error::from_reqwless_body(R::BufferTooSmall, Some(64), 64, true),
            Error::Body(Cause::Truncated)
        );
        assert_eq!(
            Error::from_reqwless_body(R::BufferTooSmall, Some(0), 0, true),
            Error::Body(Cause::Truncated)
        );
        // One byte over the buffer, or no length (chunked, to the end).
        assert_eq!(
            Error::from_reqwless_body(R::BufferTooSmall, Some(65), 64, false),
            Error::Body(Cause::BufferTooSmall)
        );
        assert_eq!(
            Error::from_reqwless_body(R::BufferTooSmall, None, 64, false),
            Error::Body(Cause::BufferTooSmall)
        );
        assert_eq!(
            Error::from_reqwless_body(R::Network(IoErrorKind::ConnectionReset), Some(8), 64, false),
            Error::Body(Cause::Network(IoErrorKind::ConnectionReset))
        );
        // End of stream inside a chunked body is a truncation; an abort
        // without one is the network's.
        let aborted = R::Network(IoErrorKind::ConnectionAborted);
        assert_eq!(
            Error::from_reqwless_body(aborted, None, 64, true),
            Error::Body(Cause::Truncated)
        );
        assert_eq!(
            Error::from_reqwless_body(R::Network(IoErrorKind::ConnectionAborted), None, 64, false),
            Error::Body(Cause::Network(IoErrorKind::ConnectionAborted))
        );
        assert_eq!(
            Error::from_reqwless_body(R::Codec, None, 64, true),
            Error::Body(Cause::Malformed)
        );
        assert_eq!(
            Error::from_reqwless(Phase::Exchange, R::Codec),
            Error::Exchange(Cause::Malformed)
        );
        assert_eq!(
            Error::from_reqwless(Phase::Connect, R::InvalidUrl(nourl::Error::NoScheme)),
            Error::Request(RequestError::InvalidUrl)
        );
        assert_eq!(
            Error::from_reqwless(
                Phase::Connect,
                R::InvalidUrl(nourl::Error::UnsupportedScheme)
            ),
            Error::Request(RequestError::UnsupportedScheme)
        );
        assert_eq!(
            Error::from_reqwless(Phase::Exchange, R::AlreadySent),
            Error::Exchange(Cause::Other)
        );
    }

    #[test]
    fn display() {
        use std::string::ToString;
        assert_eq!(
            Error::Connect(Cause::Network(IoErrorKind::ConnectionRefused)).to_string(),
            "connect failed: network error (ConnectionRefused)"
        );
        assert_eq!(
            Error::Body(Cause::BufferTooSmall).to_string(),
            "body failed: buffer too small"
        );
        assert_eq!(
            Error::Body(Cause::Truncated).to_string(),
            "body failed: truncated: the connection closed before the end of the body"
        );
        assert_eq!(
            Error::Status {
                status: 503,
                retry_after: None
            }
            .to_string(),
            "HTTP status 503"
        );
        assert_eq!(
            Error::Request(RequestError::UrlTooLong).to_string(),
            "bad request: URL longer than the client's URL capacity"
        );
    }
}
