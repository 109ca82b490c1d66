//! The `Retry-After` response field ([RFC 9110 §10.2.3]).
//!
//! [RFC 9110 §10.2.3]: https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3

use core::fmt;
use core::time::Duration;

use super::date::{HttpDate, parse_http_date};
use super::trim_ows;

/// A parsed `Retry-After` field value ([RFC 9110 §10.2.3]).
///
/// [RFC 9110 §10.2.3]: https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RetryAfter {
    /// `delay-seconds`: wait this long after the response was received.
    Delay(Duration),
    /// `HTTP-date`: do not retry before this time.
    Date(HttpDate),
}

impl RetryAfter {
    /// The delay to wait before retrying, as seen at time `now`.
    ///
    /// - `Delay(d)` gives `Some(d)` whatever `now` is.
    /// - `Date(t)` with `Some(now)` gives `Some(t - now)`, or
    ///   [`Duration::ZERO`] when `t` is not after `now`.
    /// - `Date(_)` with `None` gives `None`: without a wall clock the date
    ///   cannot be turned into a delay.
    ///
    /// Adapters should pass the response's own `Date` header (parsed with
    /// [`parse_http_date`]) as `now` when the response has one: both times
    /// then come from the server's clock, as RFC 9110 suggests, so firmware
    /// without a wall clock still gets a correct delay, and a server whose
    /// clock is off does not skew it.
    #[must_use]
    pub fn delay_from(&self, now: Option<HttpDate>) -> Option<Duration> {
        match *self {
            Self::Delay(d) => Some(d),
            Self::Date(t) => {
                now.map(|now| Duration::from_secs(t.unix_secs().saturating_sub(now.unix_secs())))
            }
        }
    }
}

/// Why a `Retry-After` value could not be parsed (see [`parse_retry_after`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RetryAfterError {
    /// The value is empty or only whitespace.
    Empty,
    /// The value is neither `delay-seconds` nor a valid HTTP-date.
    Invalid,
}

impl fmt::Display for RetryAfterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty Retry-After value",
            Self::Invalid => "Retry-After is neither delay-seconds nor an HTTP-date",
        })
    }
}

impl core::error::Error for RetryAfterError {}

/// Parses a `Retry-After` field value ([RFC 9110 §10.2.3]):
/// `HTTP-date / delay-seconds`, where `delay-seconds = 1*DIGIT`.
///
/// Optional whitespace (spaces and tabs) around the value is ignored.
/// `delay-seconds` too large for a `u64` saturates to `u64::MAX` seconds
/// instead of failing. [`delay_hint`](super::delay_hint), which the
/// adapters use, reads delay-seconds itself and ignores such a value, as it
/// does any other it cannot represent. Signs (`-5`, `+5`), fractions (`1.5`),
/// embedded whitespace (`12 34`) and anything else that is not all digits or
/// a valid HTTP-date (see [`parse_http_date`]) are errors.
///
/// [RFC 9110 §10.2.3]: https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
///
/// # Errors
///
/// [`RetryAfterError::Empty`] for an empty or blank value,
/// [`RetryAfterError::Invalid`] for anything else that does not parse.
pub fn parse_retry_after(value: &[u8]) -> Result<RetryAfter, RetryAfterError> {
    let value = trim_ows(value);
    match value.first() {
        None => Err(RetryAfterError::Empty),
        Some(b) if b.is_ascii_digit() => parse_delay_seconds(value)
            .map(|secs| RetryAfter::Delay(Duration::from_secs(secs)))
            .ok_or(RetryAfterError::Invalid),
        Some(_) => parse_http_date(value)
            .map(RetryAfter::Date)
            .map_err(|_| RetryAfterError::Invalid),
    }
}

/// `1*DIGIT` as a saturating `u64`; `None` if any byte is not a digit.
fn parse_delay_seconds(value: &[u8]) -> Option<u64> {
    let mut secs: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        secs = secs.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    Some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;

    /// RFC 9110 §5.6.7 example instant.
    const EXAMPLE: u64 = 784_111_777;

    fn retry(s: &str) -> Result<RetryAfter, RetryAfterError> {
        parse_retry_after(s.as_bytes())
    }

    fn secs(n: u64) -> Result<RetryAfter, RetryAfterError> {
        Ok(RetryAfter::Delay(Duration::from_secs(n)))
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(retry("120"), secs(120));
        assert_eq!(retry("0"), secs(0));
        assert_eq!(retry("007"), secs(7));
        assert_eq!(retry(" \t120\t "), secs(120));
        assert_eq!(retry("999999999"), secs(999_999_999));
        assert_eq!(retry("18446744073709551615"), secs(u64::MAX));
        assert_eq!(retry("18446744073709551616"), secs(u64::MAX));
        assert_eq!(retry("999999999999999999999999"), secs(u64::MAX));
        assert_eq!(retry("123456789012345678901234567890"), secs(u64::MAX));
        assert_eq!(
            retry("Fri, 31 Dec 1999 23:59:59 GMT"),
            Ok(RetryAfter::Date(HttpDate::from_unix_secs(946_684_799)))
        );
        assert_eq!(
            retry("Sun Nov  6 08:49:37 1994"),
            Ok(RetryAfter::Date(HttpDate::from_unix_secs(EXAMPLE)))
        );
        assert_eq!(retry(""), Err(RetryAfterError::Empty));
        assert_eq!(retry("  "), Err(RetryAfterError::Empty));
        for bad in [
            "-5",
            "+5",
            "1.5",
            "abc",
            "12 34",
            "12abc",
            "5s",
            "0x10",
            "1e3",
            "1,5",
            "Fri, 31 Dec 1969 23:59:59 GMT",
            "Fri, 31 Dec 1999 23:59:59",
        ] {
            assert_eq!(retry(bad), Err(RetryAfterError::Invalid), "{bad}");
        }
        assert_eq!(parse_retry_after(b"\xff"), Err(RetryAfterError::Invalid));
    }

    #[test]
    fn delay_from() {
        let now = HttpDate::from_unix_secs(1_000);
        let d = RetryAfter::Delay(Duration::from_secs(5));
        assert_eq!(d.delay_from(None), Some(Duration::from_secs(5)));
        assert_eq!(d.delay_from(Some(now)), Some(Duration::from_secs(5)));
        let past = RetryAfter::Date(HttpDate::from_unix_secs(10));
        assert_eq!(past.delay_from(Some(now)), Some(Duration::ZERO));
        let same = RetryAfter::Date(now);
        assert_eq!(same.delay_from(Some(now)), Some(Duration::ZERO));
        let future = RetryAfter::Date(HttpDate::from_unix_secs(1_120));
        assert_eq!(future.delay_from(Some(now)), Some(Duration::from_secs(120)));
        assert_eq!(future.delay_from(None), None);
        // Both ends taken from headers, as an adapter would.
        let date = parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let after = parse_retry_after(b"Sun, 06 Nov 1994 08:51:37 GMT").unwrap();
        assert_eq!(after.delay_from(Some(date)), Some(Duration::from_secs(120)));
    }

    #[test]
    fn error_messages() {
        for e in [RetryAfterError::Empty, RetryAfterError::Invalid] {
            assert!(!e.to_string().is_empty());
            let _: &dyn core::error::Error = &e;
        }
    }

    proptest! {
        #[test]
        fn no_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_retry_after(&bytes);
        }

        #[test]
        fn no_panic_on_alphabet(s in "[0-9A-Za-z ,:-]{0,40}") {
            let _ = parse_retry_after(s.as_bytes());
        }

        #[test]
        fn delay_seconds_match_u64(n in any::<u64>()) {
            prop_assert_eq!(parse_retry_after(n.to_string().as_bytes()), secs(n));
        }

        #[test]
        fn delay_from_is_saturating_difference(t in any::<u64>(), now in any::<u64>()) {
            let r = RetryAfter::Date(HttpDate::from_unix_secs(t));
            let got = r.delay_from(Some(HttpDate::from_unix_secs(now)));
            prop_assert_eq!(got, Some(Duration::from_secs(t.saturating_sub(now))));
        }
    }
}
