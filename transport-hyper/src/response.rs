//! A buffered response and the delay-hint reading shared by the client and
//! the tower layer.

use core::fmt;
use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Version};
use tenace::Retried;
use tenace::http::{HttpDate, delay_hint};

use crate::error::Error;

/// A response whose body has been read in full (up to the configured limit).
///
/// Reading the body is part of the attempt: a connection reset in the middle
/// of the body fails the attempt, and the engine may retry it, so a
/// `Response` in hand is always complete. Cloning is cheap: the body is a
/// reference-counted [`Bytes`].
#[derive(Clone)]
pub struct Response {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
    attempts: u32,
    slept: Duration,
    /// The replay buffer limit its streaming request body went past, if
    /// it did: the request cannot be sent again.
    spent_body: Option<usize>,
}

impl Response {
    /// A response from its parts, as if it came from one attempt with no
    /// sleep.
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            status,
            version: Version::HTTP_11,
            headers,
            body,
            attempts: 1,
            slept: Duration::ZERO,
            spent_body: None,
        }
    }

    /// Marks the response of a request whose streaming body went past
    /// `limit`: turned into an error, it is [`Error::BodyNotReplayable`].
    pub(crate) const fn with_spent_body(mut self, limit: Option<usize>) -> Self {
        self.spent_body = limit;
        self
    }

    /// [`error_for_status_at`](Self::error_for_status_at) for a response
    /// of this call: an error status of a request whose body cannot be
    /// sent again is [`Error::BodyNotReplayable`], over the status error.
    pub(crate) fn check_status_at(self, now: SystemTime) -> Result<Self, Error> {
        let spent = self.spent_body;
        self.error_for_status_at(now).map_err(|e| match spent {
            Some(limit) => Error::BodyNotReplayable {
                limit,
                cause: Some(Box::new(e)),
            },
            None => e,
        })
    }

    pub(crate) const fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// The response with the record of the call that produced it.
    pub(crate) fn from_call(call: Retried<Self>) -> Self {
        let (attempts, slept) = (call.attempts, call.slept);
        let mut response = call.into_inner();
        response.attempts = attempts;
        response.slept = slept;
        response
    }

    /// How many attempts the call took, this one included: 1 when the
    /// first attempt succeeded.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long the call slept in backoff before this response, as the
    /// engine chose the delays (`Retry-After` included).
    pub const fn slept(&self) -> Duration {
        self.slept
    }

    /// The status code.
    pub const fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version.
    pub const fn version(&self) -> Version {
        self.version
    }

    /// The headers.
    pub const fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub const fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body, consuming the response.
    pub fn into_bytes(self) -> Bytes {
        self.body
    }

    /// The body as UTF-8 text.
    ///
    /// # Errors
    /// [`Error::Decode`] if the body is not valid UTF-8 (the charset of
    /// `Content-Type` is not consulted).
    pub fn text(&self) -> Result<&str, Error> {
        core::str::from_utf8(&self.body).map_err(|e| Error::Decode(Box::new(e)))
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// [`Error::Decode`] if the body is not valid JSON for `T`.
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode(Box::new(e)))
    }

    /// The response itself if its status is below 400, else
    /// [`Error::Status`] carrying it.
    ///
    /// A `Retry-After` date is read against the response's `Date` header,
    /// or else against the system clock now (see
    /// [`retry_after_from_headers`]). The client's own status check
    /// ([`ClientBuilder::error_for_status`](crate::ClientBuilder::error_for_status))
    /// reads the client's clock instead.
    ///
    /// # Errors
    /// [`Error::Status`] for a 4xx or 5xx status.
    pub fn error_for_status(self) -> Result<Self, Error> {
        self.error_for_status_at(SystemTime::now())
    }

    /// [`error_for_status`](Self::error_for_status), with `now` as the
    /// local time a `Retry-After` date is read against.
    pub(crate) fn error_for_status_at(self, now: SystemTime) -> Result<Self, Error> {
        if self.status.is_client_error() || self.status.is_server_error() {
            Err(Error::from_status(self, now))
        } else {
            Ok(self)
        }
    }
}

impl fmt::Debug for Response {
    /// Shows header names, never their values (a `Set-Cookie` is a secret
    /// too), and the body's length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &HeaderNames(&self.headers))
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .field("slept", &self.slept)
            .finish()
    }
}

/// Formats a header map as its names only.
pub(crate) struct HeaderNames<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// The delay a response asks for before the next request, as seen when
/// it arrived: [`tenace::http::delay_hint`] over its headers
/// (`Retry-After`, `RateLimit-Reset`, `RateLimit`, `X-RateLimit-Reset`),
/// with `local_now` as the wall clock.
///
/// - `Retry-After: 120` gives 120 s.
/// - An absolute time (a `Retry-After` HTTP-date, an epoch
///   `X-RateLimit-Reset`) gives that time minus "now", where "now" is the
///   response's own `Date` header when it has a valid one (both times then
///   come from the server's clock, so a skewed local clock does not
///   matter), else `local_now`. A time in the past gives zero.
/// - With several values of one field the **first valid** one counts;
///   invalid values (garbage, a negative number, a fraction, an overflow)
///   are skipped. No valid value gives `None`.
///
/// The result is not capped here: the engine waits at least this long, and
/// stops with [`StopReason::ServerWait`](tenace::StopReason::ServerWait)
/// when it is past the policy's `retry_after_cap` or the deadline.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use http::{HeaderMap, HeaderValue};
///
/// let mut h = HeaderMap::new();
/// h.insert("date", HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
/// h.insert("retry-after", HeaderValue::from_static("Sun, 06 Nov 1994 08:49:40 GMT"));
/// let d = tenace_hyper::retry_after_from_headers(&h, SystemTime::now());
/// assert_eq!(d, Some(Duration::from_secs(3)));
/// ```
pub fn retry_after_from_headers(headers: &HeaderMap, local_now: SystemTime) -> Option<Duration> {
    let now = local_now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    delay_hint(
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
        Some(HttpDate::from_unix_secs(now)),
    )
}

#[cfg(test)]
mod tests {
    use core::time::Duration;
    use std::time::UNIX_EPOCH;

    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn retry_after_in_every_form() {
        // 1994-11-06T08:49:37Z.
        let local = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let at = |pairs| retry_after_from_headers(&headers(pairs), local);
        assert_eq!(at(&[]), None);
        assert_eq!(
            at(&[("retry-after", "120")]),
            Some(Duration::from_secs(120))
        );
        assert_eq!(at(&[("retry-after", "garbage")]), None);
        // A date without a Date header is read against the local clock.
        assert_eq!(
            at(&[("retry-after", "Sun, 06 Nov 1994 08:50:37 GMT")]),
            Some(Duration::from_secs(60))
        );
        // With one, against the server's clock; an invalid Date falls back.
        let date = [
            ("date", "Sun, 06 Nov 1994 08:50:00 GMT"),
            ("retry-after", "Sun, 06 Nov 1994 08:50:37 GMT"),
        ];
        assert_eq!(at(&date), Some(Duration::from_secs(37)));
        let bad_date = [
            ("date", "yesterday"),
            ("retry-after", "Sun, 06 Nov 1994 08:50:37 GMT"),
        ];
        assert_eq!(at(&bad_date), Some(Duration::from_secs(60)));
        // A date in the past means now.
        assert_eq!(
            at(&[("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")]),
            Some(Duration::ZERO)
        );
        // The first valid value counts.
        assert_eq!(
            at(&[
                ("retry-after", "-5"),
                ("retry-after", "1.5"),
                ("retry-after", "7"),
                ("retry-after", "9")
            ]),
            Some(Duration::from_secs(7))
        );
        // The rate-limit fields, through the same reading.
        assert_eq!(
            at(&[("ratelimit-reset", "30")]),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            at(&[("ratelimit", "\"api\";r=0;t=12")]),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            at(&[
                ("x-ratelimit-reset", "1764460860"),
                ("date", "Sun, 30 Nov 2025 00:00:00 GMT")
            ]),
            Some(Duration::from_secs(60))
        );
        // An epoch reset without a Date header: against the local clock.
        assert_eq!(
            at(&[("x-ratelimit-reset", "1000000000")]),
            Some(Duration::from_secs(1_000_000_000 - 784_111_777))
        );
    }

    #[test]
    fn error_for_status_keeps_the_response() {
        let ok = Response::new(StatusCode::NOT_MODIFIED, HeaderMap::new(), Bytes::new());
        assert!(ok.error_for_status().is_ok());
        let limited = Response::new(
            StatusCode::TOO_MANY_REQUESTS,
            headers(&[("retry-after", "3")]),
            Bytes::from_static(b"slow down"),
        );
        let err = limited.error_for_status().unwrap_err();
        assert_eq!(
            tenace::TransportError::kind(&err),
            tenace::FailureKind::Status(429)
        );
        assert_eq!(
            tenace::TransportError::retry_after(&err),
            Some(Duration::from_secs(3))
        );
        assert_eq!(err.response().unwrap().text().unwrap(), "slow down");
        assert_eq!(err.to_string(), "HTTP status 429 Too Many Requests");
    }
}
