//! Which [`Error`] a failure of hyper, hyper-util or the OS is: read once,
//! when the attempt fails, from the error's `source()` chain.

use core::error::Error as StdError;
use std::io;

use crate::error::{BoxError, Error};
use crate::request_body::BodyError;

/// What the `source()` chain of a hyper or hyper-util error says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Connect,
    Refused,
    Io,
    Malformed,
    Tls,
    /// The streaming request body failed.
    Body,
    /// The streaming request body went past its replay limit in another
    /// attempt.
    NotReplayable(usize),
}

/// Classifies an error of `hyper_util`'s legacy client.
///
/// `is_connect()` marks failures before the request was written; below it,
/// hyper's error says "canceled" (the pooled connection closed before the
/// request was sent: nothing sent), "parse" (a malformed response) or
/// "incomplete message" (EOF after sending), and an `io::Error` from rustls
/// is a TLS failure. An HTTP/2 error from the server that says the stream
/// was not processed (`REFUSED_STREAM`, or a `GOAWAY` that left the stream
/// out) is [`Error::Refused`]. Anything else after the connection was made
/// (a reset, another HTTP/2 stream error, a socket timeout) may have reached
/// the server: [`Error::Io`], unless the I/O error is one that only happens
/// before a connection exists (refused, unreachable).
pub(crate) fn classify_client_error(err: hyper_util::client::legacy::Error) -> Error {
    let initial = if err.is_connect() {
        Class::Connect
    } else {
        Class::Io
    };
    into_error(classify_chain(initial, &err), Box::new(err))
}

/// Classifies a hyper error (from reading a response body).
///
/// The response's head has arrived, so the server processed the request:
/// an HTTP/2 refusal now (which RFC 9113 does not allow after processing)
/// is an [`Error::Io`], never a reason to send a `POST` again.
pub(crate) fn classify_hyper_error(err: hyper::Error) -> Error {
    let class = match classify_chain(Class::Io, &err) {
        Class::Refused => Class::Io,
        class => class,
    };
    into_error(class, Box::new(err))
}

#[cfg_attr(not(feature = "tower"), allow(dead_code))]
/// Classifies any boxed error, e.g. from a tower service: the chain is
/// searched for hyper-util, hyper and I/O errors.
pub(crate) fn classify_boxed(err: BoxError) -> Error {
    let class = classify_chain(Class::Io, &*err);
    into_error(class, err)
}

fn into_error(class: Class, err: BoxError) -> Error {
    match class {
        Class::Connect => Error::Connect(err),
        Class::Refused => Error::Refused(err),
        Class::Io => Error::Io(err),
        Class::Malformed => Error::MalformedResponse(err),
        Class::Tls => Error::Tls(err),
        Class::Body => Error::RequestBody(err),
        Class::NotReplayable(limit) => Error::BodyNotReplayable { limit, cause: None },
    }
}

fn classify_chain(initial: Class, top: &(dyn StdError + 'static)) -> Class {
    let mut class = initial;
    let mut next: Option<&(dyn StdError + 'static)> = Some(top);
    while let Some(e) = next {
        next = e.source();
        if is_tls(e) {
            return Class::Tls;
        }
        if let Some(body) = e.downcast_ref::<BodyError>() {
            // The request body's own failure, under hyper's "user body"
            // error: it says why, whatever the connection did.
            return match body {
                BodyError::NotReplayable { limit } => Class::NotReplayable(*limit),
                BodyError::Stream(_) | BodyError::FailedEarlier => Class::Body,
            };
        }
        if let Some(c) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            if c.is_connect() {
                class = Class::Connect;
            }
        } else if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_parse() || h.is_parse_status() {
                return Class::Malformed;
            }
            if h.is_canceled() {
                // The connection closed before the request was written.
                class = Class::Connect;
            }
        } else if let Some(h2) = e.downcast_ref::<h2::Error>() {
            if never_processed(h2) {
                return Class::Refused;
            }
        } else if let Some(io) = e.downcast_ref::<io::Error>() {
            if refused_before_sending(io.kind()) {
                class = Class::Connect;
            }
            // `io::Error::source()` skips the error it wraps: look at it.
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
            }
        }
    }
    class
}

/// Whether an HTTP/2 error says the server did not process the stream
/// (RFC 9113, section 8.7): the server reset it with `REFUSED_STREAM`, or
/// its `GOAWAY` left it out. h2 reports a received `GOAWAY` on exactly the
/// streams above the frame's last stream id (and on streams opened after
/// it), whatever its error code; the streams the server kept finish, or
/// fail with the connection's I/O error.
fn never_processed(e: &h2::Error) -> bool {
    e.is_remote()
        && (e.is_go_away() || (e.is_reset() && e.reason() == Some(h2::Reason::REFUSED_STREAM)))
}

/// I/O errors that only happen before a connection exists.
fn refused_before_sending(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

#[cfg(feature = "rustls")]
fn is_tls(e: &(dyn StdError + 'static)) -> bool {
    e.is::<rustls::Error>()
}

#[cfg(not(feature = "rustls"))]
fn is_tls(_e: &(dyn StdError + 'static)) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    use tenace::{FailureKind, TransportError as _};

    fn kind_of(e: io::Error) -> FailureKind {
        classify_boxed(Box::new(e)).kind()
    }

    #[test]
    fn io_errors_are_classified_by_what_they_say_about_sending() {
        assert_eq!(
            kind_of(io::ErrorKind::ConnectionRefused.into()),
            FailureKind::Connect
        );
        assert_eq!(
            kind_of(io::ErrorKind::NetworkUnreachable.into()),
            FailureKind::Connect
        );
        assert_eq!(
            kind_of(io::ErrorKind::ConnectionReset.into()),
            FailureKind::Io
        );
        assert_eq!(
            kind_of(io::ErrorKind::UnexpectedEof.into()),
            FailureKind::Io
        );
        // Wrapped twice, as connectors do: the inner error is found.
        let nested = io::Error::other(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(kind_of(nested), FailureKind::Connect);
        assert_eq!(kind_of(io::Error::other("mystery")), FailureKind::Io);
    }

    #[test]
    fn an_h2_reason_not_received_from_the_server_may_have_been_processed() {
        let kind = |e: h2::Error| classify_boxed(Box::new(e)).kind();
        // `h2::Error` from a `Reason` is a local error (not from a frame):
        // it says nothing about what the server did with the stream.
        assert_eq!(kind(h2::Reason::REFUSED_STREAM.into()), FailureKind::Io);
        assert_eq!(kind(h2::Reason::INTERNAL_ERROR.into()), FailureKind::Io);
        let nested = io::Error::other(h2::Error::from(h2::Reason::REFUSED_STREAM));
        assert!(matches!(classify_boxed(Box::new(nested)), Error::Io(_)));
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn a_rustls_error_is_tls_however_deep() {
        let cert = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = io::Error::other(io::Error::new(io::ErrorKind::InvalidData, cert));
        assert!(matches!(classify_boxed(Box::new(nested)), Error::Tls(_)));
    }
}
