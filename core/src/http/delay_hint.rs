//! The server's delay hint: every response field that says how long to wait
//! before the next request, read by one function.

use core::time::Duration;

use super::date::{HttpDate, parse_http_date};
use super::trim_ows;

/// What [`delay_hint`] returns for a wait the client cannot measure: a
/// `Retry-After` HTTP-date or an epoch `X-RateLimit-Reset` on a response
/// without a `Date` header, read by a device with no wall clock. The engine
/// waits its whole [`retry_after_cap`](crate::Limits::retry_after_cap) for
/// it: the server did ask for a wait, so ignoring the hint would retry too
/// early.
///
/// No field can yield this value otherwise: every real hint is a whole
/// number of seconds, and this is [`Duration::MAX`].
pub const UNKNOWN_WAIT: Duration = Duration::MAX;

/// `X-RateLimit-Reset` values below this (10⁹, September 2001 as a Unix
/// time) are delay-seconds; values from here up to [`EPOCH_LIMIT`] are Unix
/// times. No server asks for a 31-year wait, and no reset lies before 2001,
/// so the two readings cannot be confused.
pub const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// `X-RateLimit-Reset` values from this (10¹¹, year 5138 as a Unix time)
/// up are neither delay-seconds nor a plausible Unix time (a time in
/// milliseconds, for one) and are ignored.
pub const EPOCH_LIMIT: u64 = 100_000_000_000;

/// The delay a response asks for before the next request, from its
/// headers, relative to when it arrived; `None` if no field asks for one.
///
/// `headers` are the response's (name, value) pairs; names match
/// case-insensitively, and pairs with an empty name are skipped. `now` is the
/// client's wall clock, if it has one: it measures an absolute time only
/// when the response has no valid `Date` header (the server's own clock is
/// preferred, so that a skewed client clock does not matter).
///
/// The fields, in order of precedence (the first that holds a valid value
/// wins):
///
/// 1. `Retry-After` ([RFC 9110 §10.2.3]): delay-seconds, or an HTTP-date
///    minus the `Date` header (else minus `now`). A date in the past is
///    [`Duration::ZERO`]; a date with neither `Date` nor `now` is
///    [`UNKNOWN_WAIT`].
/// 2. `RateLimit-Reset`: delay-seconds (the IETF draft's separate fields).
/// 3. `RateLimit`: the IETF draft's structured field, its `t=` parameter
///    (`RateLimit: "default";r=0;t=30`) or the older dictionary's `reset`
///    member (`RateLimit: limit=100, remaining=0, reset=30`). A policy that
///    says it has quota left (`r` above zero) asks for no wait; of the
///    others, the longest reset counts.
/// 4. `X-RateLimit-Reset`: below [`EPOCH_THRESHOLD`], delay-seconds; up to
///    [`EPOCH_LIMIT`], a Unix time read like a `Retry-After` date; anything
///    larger is ignored.
///
/// When a field appears more than once, its first valid value counts.
/// Garbage, negative numbers, fractions and numbers too large for a `u64`
/// are ignored, as if the field were absent. Nothing here allocates or
/// panics, whatever the bytes.
///
/// The result is not capped here: the engine treats it as the least time
/// before the next attempt and stops with
/// [`StopReason::ServerWait`](crate::StopReason::ServerWait) when it is past
/// the cap or the deadline.
///
/// [RFC 9110 §10.2.3]: https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
///
/// ```
/// use core::time::Duration;
/// use tenace::http::{UNKNOWN_WAIT, delay_hint};
///
/// let headers = [
///     ("Date", &b"Sun, 30 Nov 2025 00:00:00 GMT"[..]),
///     ("X-RateLimit-Reset", b"1764460860"),
/// ];
/// assert_eq!(delay_hint(headers, None), Some(Duration::from_secs(60)));
/// let headers = [("retry-after", &b"Sun, 06 Nov 1994 08:49:37 GMT"[..])];
/// assert_eq!(delay_hint(headers, None), Some(UNKNOWN_WAIT));
/// assert_eq!(delay_hint([("RateLimit", &b"\"api\";r=0;t=7"[..])], None), Some(Duration::from_secs(7)));
/// ```
pub fn delay_hint<'a, I>(headers: I, now: Option<HttpDate>) -> Option<Duration>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let mut hints = Hints::default();
    for (name, value) in headers {
        hints.read(name, value);
    }
    hints.resolve(now)
}

/// The first valid value of each field, before the clocks are known.
#[derive(Default)]
struct Hints {
    retry_after: Option<Absolute>,
    ratelimit_reset: Option<u64>,
    ratelimit: Option<u64>,
    x_ratelimit_reset: Option<Absolute>,
    date: Option<HttpDate>,
}

/// A wait as a field states it.
#[derive(Clone, Copy)]
enum Absolute {
    /// Seconds from now.
    In(u64),
    /// A Unix time.
    At(u64),
}

impl Hints {
    fn read(&mut self, name: &str, value: &[u8]) {
        let is = |field: &str| name.eq_ignore_ascii_case(field);
        if self.retry_after.is_none() && is("retry-after") {
            self.retry_after = retry_after(value);
        } else if self.ratelimit_reset.is_none() && is("ratelimit-reset") {
            self.ratelimit_reset = seconds(trim_ows(value));
        } else if self.ratelimit.is_none() && is("ratelimit") {
            self.ratelimit = ratelimit_field(value);
        } else if self.x_ratelimit_reset.is_none() && is("x-ratelimit-reset") {
            self.x_ratelimit_reset = seconds(trim_ows(value)).and_then(|n| match n {
                0..EPOCH_THRESHOLD => Some(Absolute::In(n)),
                EPOCH_THRESHOLD..EPOCH_LIMIT => Some(Absolute::At(n)),
                _ => None,
            });
        } else if self.date.is_none() && is("date") {
            self.date = parse_http_date(value).ok();
        }
    }

    fn resolve(self, now: Option<HttpDate>) -> Option<Duration> {
        let now = self.date.or(now);
        let wait = |a: Absolute| match (a, now) {
            (Absolute::In(secs), _) => Duration::from_secs(secs),
            (Absolute::At(t), Some(now)) => Duration::from_secs(t.saturating_sub(now.unix_secs())),
            (Absolute::At(_), None) => UNKNOWN_WAIT,
        };
        if let Some(a) = self.retry_after {
            return Some(wait(a));
        }
        if let Some(secs) = self.ratelimit_reset.or(self.ratelimit) {
            return Some(Duration::from_secs(secs));
        }
        self.x_ratelimit_reset.map(wait)
    }
}

/// A `Retry-After` value: delay-seconds (`None` if they overflow) or an
/// HTTP-date.
fn retry_after(value: &[u8]) -> Option<Absolute> {
    let value = trim_ows(value);
    match value.first() {
        Some(b) if b.is_ascii_digit() => seconds(value).map(Absolute::In),
        Some(_) => parse_http_date(value)
            .ok()
            .map(|d| Absolute::At(d.unix_secs())),
        None => None,
    }
}

/// `1*DIGIT` as a `u64`; `None` if empty, if any byte is not a digit, or
/// if the number does not fit.
fn seconds(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// The wait of a `RateLimit` structured field: of the members (split on
/// `,` outside quoted strings) that do not report quota left, the longest
/// `t` parameter or `reset` member.
fn ratelimit_field(value: &[u8]) -> Option<u64> {
    let mut longest: Option<u64> = None;
    for member in split_unquoted(value, b',') {
        let mut reset = None;
        let mut quota_left = false;
        for part in split_unquoted(member, b';') {
            let part = trim_ows(part);
            let Some(eq) = part.iter().position(|&b| b == b'=') else {
                continue;
            };
            let (key, rest) = part.split_at(eq);
            let number = rest.get(1..).and_then(|v| seconds(trim_ows(v)));
            match trim_ows(key) {
                b"t" | b"reset" => reset = reset.or(number),
                b"r" | b"remaining" => quota_left |= number.is_some_and(|r| r > 0),
                _ => {}
            }
        }
        if let (Some(t), false) = (reset, quota_left) {
            longest = Some(longest.map_or(t, |l| l.max(t)));
        }
    }
    longest
}

/// The pieces of `value` between the `sep` bytes that lie outside a quoted
/// string (`"…"`, with `\` escaping the next byte).
fn split_unquoted(value: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(value);
    core::iter::from_fn(move || {
        let v = rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, &b) in v.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if quoted && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = !quoted;
            } else if !quoted && b == sep {
                rest = v.get(i + 1..);
                return v.get(..i);
            }
        }
        rest = None;
        Some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec::Vec;

    /// RFC 9110 §5.6.7 example instant, Sun, 06 Nov 1994 08:49:37 GMT.
    const EXAMPLE: u64 = 784_111_777;
    const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    /// 2025-11-30T00:00:00Z, past [`EPOCH_THRESHOLD`].
    const RECENT: u64 = 1_764_460_800;

    fn hint(pairs: &[(&str, &str)], now: Option<u64>) -> Option<Duration> {
        delay_hint(
            pairs.iter().map(|(n, v)| (*n, v.as_bytes())),
            now.map(HttpDate::from_unix_secs),
        )
    }

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(hint(&[], None), None);
        assert_eq!(hint(&[("Retry-After", "120")], None), secs(120));
        assert_eq!(hint(&[("retry-after", " 0 ")], None), secs(0));
        assert_eq!(hint(&[("RETRY-AFTER", "7")], Some(EXAMPLE)), secs(7));
        let in_60 = "Sun, 06 Nov 1994 08:50:37 GMT";
        // The response's Date wins over the client's clock.
        assert_eq!(
            hint(
                &[("Retry-After", in_60), ("Date", DATE)],
                Some(EXAMPLE + 50)
            ),
            secs(60)
        );
        // No Date: the client's clock.
        assert_eq!(
            hint(&[("Retry-After", in_60)], Some(EXAMPLE + 50)),
            secs(10)
        );
        // An invalid Date is no Date.
        assert_eq!(
            hint(
                &[("Date", "yesterday"), ("Retry-After", in_60)],
                Some(EXAMPLE)
            ),
            secs(60)
        );
        // Neither: the wait is unknown.
        assert_eq!(hint(&[("Retry-After", in_60)], None), Some(UNKNOWN_WAIT));
        assert_eq!(
            hint(&[("Date", "yesterday"), ("Retry-After", in_60)], None),
            Some(UNKNOWN_WAIT)
        );
        // A date in the past: no wait.
        assert_eq!(hint(&[("Retry-After", DATE)], Some(EXAMPLE + 5)), secs(0));
    }

    #[test]
    fn ratelimit_reset_and_the_structured_field() {
        assert_eq!(hint(&[("RateLimit-Reset", "30")], None), secs(30));
        assert_eq!(
            hint(&[("ratelimit", "\"default\";r=0;t=30")], None),
            secs(30)
        );
        assert_eq!(hint(&[("RateLimit", "\"default\";t=12")], None), secs(12));
        assert_eq!(
            hint(&[("RateLimit", "limit=100, remaining=0, reset=9")], None),
            secs(9)
        );
        // Policies with quota left ask for no wait; of the rest the longest.
        assert_eq!(
            hint(
                &[(
                    "RateLimit",
                    "\"day\";r=900;t=80000, \"min\";r=0;t=40, \"sec\";t=2"
                )],
                None
            ),
            secs(40)
        );
        assert_eq!(hint(&[("RateLimit", "\"day\";r=5;t=80000")], None), None);
        // Separators inside a quoted policy name do not split it.
        assert_eq!(hint(&[("RateLimit", "\"a,b;t=99\";t=3")], None), secs(3));
        assert_eq!(hint(&[("RateLimit", "\"a\\\"b;t=99\";t=4")], None), secs(4));
        for bad in [
            "",
            "t",
            "t=",
            "t=-5",
            "t=1.5",
            "t=abc",
            "\"p\";r=0",
            "t=99999999999999999999",
        ] {
            assert_eq!(hint(&[("RateLimit", bad)], None), None, "{bad}");
        }
    }

    #[test]
    fn x_ratelimit_reset_seconds_or_epoch() {
        assert_eq!(hint(&[("X-RateLimit-Reset", "60")], None), secs(60));
        assert_eq!(
            hint(&[("x-ratelimit-reset", "999999999")], None),
            secs(999_999_999)
        );
        let date = HttpDate::from_unix_secs(RECENT).to_string();
        let at = (RECENT + 90).to_string();
        assert_eq!(
            hint(&[("Date", &date), ("X-RateLimit-Reset", &at)], None),
            secs(90)
        );
        assert_eq!(
            hint(
                &[("X-RateLimit-Reset", &at), ("Date", &date)],
                Some(RECENT + 60)
            ),
            secs(90)
        );
        assert_eq!(
            hint(&[("X-RateLimit-Reset", &at)], Some(RECENT + 30)),
            secs(60)
        );
        assert_eq!(
            hint(&[("X-RateLimit-Reset", &at)], None),
            Some(UNKNOWN_WAIT)
        );
        assert_eq!(
            hint(&[("X-RateLimit-Reset", "1000000000")], Some(EXAMPLE)),
            secs(1_000_000_000 - EXAMPLE)
        );
        // A reset in the past: no wait.
        assert_eq!(
            hint(&[("X-RateLimit-Reset", "1000000000")], Some(RECENT)),
            secs(0)
        );
        // Milliseconds since the epoch, and larger: ignored.
        for bad in ["100000000000", "1764460800000", "18446744073709551615"] {
            assert_eq!(
                hint(&[("X-RateLimit-Reset", bad)], Some(RECENT)),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn precedence() {
        let all = [
            ("X-RateLimit-Reset", "4"),
            ("RateLimit", "t=3"),
            ("RateLimit-Reset", "2"),
            ("Retry-After", "1"),
        ];
        assert_eq!(hint(&all, None), secs(1));
        assert_eq!(hint(&all[..3], None), secs(2));
        assert_eq!(hint(&all[..2], None), secs(3));
        assert_eq!(hint(&all[..1], None), secs(4));
        // An invalid field of higher rank is absent: the next one counts.
        assert_eq!(
            hint(&[("Retry-After", "soon"), ("RateLimit-Reset", "2")], None),
            secs(2)
        );
        // Within a field, the first valid value counts.
        assert_eq!(
            hint(
                &[
                    ("Retry-After", "abc"),
                    ("Retry-After", "-1"),
                    ("Retry-After", "5"),
                    ("Retry-After", "9")
                ],
                None
            ),
            secs(5)
        );
        // Other headers and empty names are skipped.
        assert_eq!(hint(&[("", "5"), ("Content-Length", "3")], None), None);
    }

    #[test]
    fn garbage_negative_and_overflow_are_ignored() {
        for name in ["Retry-After", "RateLimit-Reset", "X-RateLimit-Reset"] {
            for bad in [
                "",
                "  ",
                "soon",
                "-5",
                "+5",
                "1.5",
                "12 34",
                "0x10",
                "1e3",
                "\u{1F642}",
                "18446744073709551616",
                "123456789012345678901234567890",
            ] {
                assert_eq!(hint(&[(name, bad)], Some(EXAMPLE)), None, "{name}: {bad}");
            }
        }
        // The largest u64 fits: a real (absurd) hint, for the engine to stop on.
        assert_eq!(
            hint(&[("Retry-After", "18446744073709551615")], None),
            secs(u64::MAX)
        );
        assert_eq!(delay_hint([("Retry-After", &b"\xff\xfe"[..])], None), None);
    }

    proptest! {
        #[test]
        fn no_panic_on_bytes(
            name in prop::sample::select(std::vec!["retry-after", "ratelimit-reset", "ratelimit", "x-ratelimit-reset", "date"]),
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            now in proptest::option::of(any::<u64>()),
        ) {
            let _ = delay_hint([(name, bytes.as_slice())], now.map(HttpDate::from_unix_secs));
        }

        #[test]
        fn seconds_are_exact(n in any::<u64>()) {
            let v = n.to_string();
            prop_assert_eq!(hint(&[("Retry-After", &v)], None), secs(n));
            prop_assert_eq!(hint(&[("RateLimit-Reset", &v)], None), secs(n));
            let field: Vec<u8> = std::format!("\"p\";r=0;t={n}").into_bytes();
            prop_assert_eq!(delay_hint([("RateLimit", field.as_slice())], None), secs(n));
        }

        #[test]
        fn epoch_is_a_saturating_difference(t in EPOCH_THRESHOLD..EPOCH_LIMIT, now in any::<u64>()) {
            let v = t.to_string();
            prop_assert_eq!(hint(&[("X-RateLimit-Reset", &v)], Some(now)), secs(t.saturating_sub(now)));
        }
    }
}
