//! `no_std` HTTP helpers for driving a retry policy from HTTP responses.
//!
//! Everything here works on borrowed bytes and `core` types only: no allocation,
//! no clock, no floating point and no panics on any input, so transport adapters
//! on a microcontroller and on a server classify responses the same way.
//!
//! - [`is_idempotent_method`]: which request methods may be retried blindly
//!   ([RFC 9110 §9.2.2]).
//! - [`is_retryable_status`] and [`is_error_status`]: which status codes are
//!   worth another attempt ([RFC 9110 §15]).
//! - [`parse_retry_after`] and [`RetryAfter::delay_from`]: the `Retry-After`
//!   field ([RFC 9110 §10.2.3]), as delay-seconds or as an HTTP-date.
//! - [`parse_http_date`] and [`HttpDate`]: the three HTTP-date forms of
//!   [RFC 9110 §5.6.7] (IMF-fixdate, obsolete RFC 850 and asctime), with an
//!   IMF-fixdate [`Display`](core::fmt::Display) for logs and round trips.
//! - [`parse_status_line`]: the status code of a raw HTTP/1.x status line
//!   ([RFC 9112 §4]), for adapters that see raw lines and for fuzzing.
//!
//! [RFC 9110 §9.2.2]: https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2
//! [RFC 9110 §15]: https://www.rfc-editor.org/rfc/rfc9110#section-15
//! [RFC 9110 §10.2.3]: https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
//! [RFC 9110 §5.6.7]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
//! [RFC 9112 §4]: https://www.rfc-editor.org/rfc/rfc9112#section-4

use core::fmt;
use core::time::Duration;

// ---------------------------------------------------------------------------
// Methods and status codes
// ---------------------------------------------------------------------------

/// Whether `method` is idempotent per [RFC 9110 §9.2.2], so a request that
/// failed without a usable response may be sent again.
///
/// The idempotent methods are `GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT` and
/// `DELETE`. Method names are case-sensitive ([RFC 9110 §9.1]): `"get"` is not
/// `GET` and gives `false`, as do `POST`, `PATCH`, `CONNECT` and any unknown
/// method.
///
/// [RFC 9110 §9.2.2]: https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2
/// [RFC 9110 §9.1]: https://www.rfc-editor.org/rfc/rfc9110#section-9.1
#[must_use]
pub fn is_idempotent_method(method: &str) -> bool {
    matches!(
        method,
        "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
    )
}

/// The `Idempotency-Key` request header, lower case as HTTP/2 and `http`
/// spell field names. A request that carries it is safe to replay (see
/// [`Replay::of`](crate::Replay::of)): the server applies a key once.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Whether a response with this status code is worth retrying.
///
/// `true` for:
/// - `408 Request Timeout`: the server gave up waiting for the request;
/// - `429 Too Many Requests`: rate limited, usually with a `Retry-After`;
/// - every `5xx` server error, **except** `501 Not Implemented` and
///   `505 HTTP Version Not Supported`, which describe a permanent property of
///   the server and will not change on a retry.
///
/// `false` for everything else: informational, success and redirection codes,
/// the other `4xx` client errors (the same request would fail the same way),
/// and values outside `100..=599`.
///
/// Whether the *request* may be repeated is a separate question: combine this
/// with [`is_idempotent_method`] (or an idempotency key) before retrying.
#[must_use]
pub const fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (matches!(status, 500..=599) && status != 501 && status != 505)
}

/// Whether `status` is a client or server error (`400..=599`).
#[must_use]
pub const fn is_error_status(status: u16) -> bool {
    matches!(status, 400..=599)
}

// ---------------------------------------------------------------------------
// HTTP-date
// ---------------------------------------------------------------------------

const SECS_PER_DAY: u64 = 86_400;

const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A point in time from an HTTP-date, as whole seconds since the Unix epoch
/// (1970-01-01T00:00:00Z, leap seconds not counted).
///
/// Built by [`parse_http_date`] or [`HttpDate::from_unix_secs`]. Its
/// [`Display`](fmt::Display) writes the preferred IMF-fixdate form,
/// e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, which [`parse_http_date`] reads back
/// to the same value for every date up to the end of year 9999
/// (`253402300799`); later values are written with a longer year that the
/// parser does not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HttpDate {
    secs: u64,
}

impl HttpDate {
    /// The date `secs` seconds after the Unix epoch.
    #[must_use]
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self { secs }
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub const fn unix_secs(self) -> u64 {
        self.secs
    }
}

impl fmt::Display for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs / SECS_PER_DAY;
        let in_day = self.secs % SECS_PER_DAY;
        let (year, month, day) = civil_from_days(days);
        // 1970-01-01 was a Thursday; index 0 is Sunday.
        let weekday = name_at(&SHORT_DAYS, (days % 7 + 4) % 7);
        let month = name_at(&MONTHS, month - 1);
        write!(
            f,
            "{weekday}, {day:02} {month} {year:04} {:02}:{:02}:{:02} GMT",
            in_day / 3600,
            in_day / 60 % 60,
            in_day % 60,
        )
    }
}

/// `names[i]`, without a panic path (callers pass an index in range).
fn name_at(names: &[&'static str], i: u64) -> &'static str {
    usize::try_from(i)
        .ok()
        .and_then(|i| names.get(i))
        .copied()
        .unwrap_or("???")
}

/// Why a value is not an HTTP-date (see [`parse_http_date`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HttpDateError {
    /// The value is empty or only whitespace.
    Empty,
    /// The value does not have the shape of IMF-fixdate, RFC 850 or asctime
    /// (wrong separators, wrong length, non-digits where digits belong, or a
    /// zone other than `GMT`).
    Format,
    /// The day name is not one of `Mon`..`Sun` (or `Monday`..`Sunday` in the
    /// RFC 850 form).
    DayName,
    /// The month is not one of `Jan`..`Dec` (case-sensitive).
    Month,
    /// The day of the month is 0 or past the end of that month.
    Day,
    /// Hour above 23, minute above 59 or second above 60.
    Time,
    /// The year is before 1970, which seconds since the Unix epoch cannot
    /// represent.
    Year,
}

impl fmt::Display for HttpDateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty HTTP-date",
            Self::Format => "malformed HTTP-date",
            Self::DayName => "invalid day name in HTTP-date",
            Self::Month => "invalid month in HTTP-date",
            Self::Day => "day out of range for the month in HTTP-date",
            Self::Time => "time of day out of range in HTTP-date",
            Self::Year => "year before 1970 in HTTP-date",
        })
    }
}

impl core::error::Error for HttpDateError {}

/// Parses an HTTP-date in any of the three forms of [RFC 9110 §5.6.7]:
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
/// - ANSI C asctime: `Sun Nov  6 08:49:37 1994` (the day is either a space and
///   one digit or two digits)
///
/// Optional whitespace (spaces and tabs) around the value is ignored. The
/// grammar is otherwise applied strictly: names are case-sensitive, the short
/// day name goes with IMF-fixdate and asctime and the long one with RFC 850,
/// and the zone must be `GMT`.
///
/// Choices where the RFC leaves room:
/// - The day name must be a valid name but is **not** checked against the
///   date: a wrong weekday is a harmless sender bug, and rejecting it would
///   throw away an otherwise usable date.
/// - A two-digit RFC 850 year `00`–`69` means `2000`–`2069` and `70`–`99`
///   means `1970`–`1999`. RFC 9110 says to read a year more than 50 years in
///   the future as the past century, which needs a clock; this fixed pivot
///   matches it for any current date and keeps the parser clock-free.
/// - A leap second (`:60`) is accepted and counted as `:59`, since Unix time
///   has no leap seconds.
/// - Years before 1970 give [`HttpDateError::Year`]; the four-digit forms
///   reach at most year 9999, so the result never overflows.
///
/// [RFC 9110 §5.6.7]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
///
/// # Errors
///
/// An [`HttpDateError`] telling the first problem found, left to right.
pub fn parse_http_date(value: &[u8]) -> Result<HttpDate, HttpDateError> {
    let value = trim_ows(value);
    if value.is_empty() {
        return Err(HttpDateError::Empty);
    }
    let name_len = value
        .iter()
        .position(|&b| b == b',' || b == b' ')
        .ok_or(HttpDateError::Format)?;
    let (name, rest) = value.split_at(name_len);
    match rest {
        [b',', b' ', body @ ..] => {
            if is_name(&SHORT_DAYS, name) {
                parse_imf_fixdate(body)
            } else if is_name(&LONG_DAYS, name) {
                parse_rfc850(body)
            } else {
                Err(HttpDateError::DayName)
            }
        }
        [b' ', body @ ..] => {
            if is_name(&SHORT_DAYS, name) {
                parse_asctime(body)
            } else {
                Err(HttpDateError::DayName)
            }
        }
        _ => Err(HttpDateError::Format),
    }
}

/// Broken-down date and time, straight from the text, not yet validated.
#[derive(Debug, Clone, Copy)]
struct Fields {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

/// `DD SP Mon SP YYYY SP hh:mm:ss SP GMT` (after `Sun, `).
fn parse_imf_fixdate(body: &[u8]) -> Result<HttpDate, HttpDateError> {
    let [d1, d2, b' ', m1, m2, m3, b' ', y1, y2, y3, y4, b' ', t @ ..] = body else {
        return Err(HttpDateError::Format);
    };
    let (hour, minute, second, zone) = split_time(t)?;
    if zone != b" GMT" {
        return Err(HttpDateError::Format);
    }
    let day = two_digits(*d1, *d2)?;
    let month = month_number([*m1, *m2, *m3])?;
    let year = four_digits(*y1, *y2, *y3, *y4)?;
    to_http_date(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// `DD-Mon-YY SP hh:mm:ss SP GMT` (after `Sunday, `).
fn parse_rfc850(body: &[u8]) -> Result<HttpDate, HttpDateError> {
    let [d1, d2, b'-', m1, m2, m3, b'-', y1, y2, b' ', t @ ..] = body else {
        return Err(HttpDateError::Format);
    };
    let (hour, minute, second, zone) = split_time(t)?;
    if zone != b" GMT" {
        return Err(HttpDateError::Format);
    }
    let day = two_digits(*d1, *d2)?;
    let month = month_number([*m1, *m2, *m3])?;
    let yy = u16::from(two_digits(*y1, *y2)?);
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    to_http_date(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// `Mon SP (DD / SP D) SP hh:mm:ss SP YYYY` (after `Sun `).
fn parse_asctime(body: &[u8]) -> Result<HttpDate, HttpDateError> {
    let [m1, m2, m3, b' ', d1, d2, b' ', t @ ..] = body else {
        return Err(HttpDateError::Format);
    };
    let (hour, minute, second, tail) = split_time(t)?;
    let [b' ', y1, y2, y3, y4] = tail else {
        return Err(HttpDateError::Format);
    };
    let month = month_number([*m1, *m2, *m3])?;
    let day = if *d1 == b' ' {
        digit(*d2)?
    } else {
        two_digits(*d1, *d2)?
    };
    let year = four_digits(*y1, *y2, *y3, *y4)?;
    to_http_date(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// Splits `hh:mm:ss` off the front of `t`, returning the fields (range-checked)
/// and the rest.
fn split_time(t: &[u8]) -> Result<(u8, u8, u8, &[u8]), HttpDateError> {
    let [h1, h2, b':', m1, m2, b':', s1, s2, rest @ ..] = t else {
        return Err(HttpDateError::Format);
    };
    let hour = two_digits(*h1, *h2)?;
    let minute = two_digits(*m1, *m2)?;
    let second = two_digits(*s1, *s2)?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(HttpDateError::Time);
    }
    Ok((hour, minute, second, rest))
}

fn to_http_date(f: Fields) -> Result<HttpDate, HttpDateError> {
    if f.year < 1970 {
        return Err(HttpDateError::Year);
    }
    if f.day == 0 || f.day > days_in_month(f.year, f.month) {
        return Err(HttpDateError::Day);
    }
    // Leap second: Unix time has none, count 23:59:60 as 23:59:59.
    let second = f.second.min(59);
    let days = days_from_civil(u64::from(f.year), u64::from(f.month), u64::from(f.day));
    let secs = days * SECS_PER_DAY
        + u64::from(f.hour) * 3600
        + u64::from(f.minute) * 60
        + u64::from(second);
    Ok(HttpDate::from_unix_secs(secs))
}

fn is_name(names: &[&str], name: &[u8]) -> bool {
    names.iter().any(|n| n.as_bytes() == name)
}

fn month_number(name: [u8; 3]) -> Result<u8, HttpDateError> {
    MONTHS
        .iter()
        .position(|m| m.as_bytes() == name.as_slice())
        .and_then(|i| u8::try_from(i + 1).ok())
        .ok_or(HttpDateError::Month)
}

const fn digit(b: u8) -> Result<u8, HttpDateError> {
    if b.is_ascii_digit() {
        Ok(b - b'0')
    } else {
        Err(HttpDateError::Format)
    }
}

fn two_digits(a: u8, b: u8) -> Result<u8, HttpDateError> {
    Ok(digit(a)? * 10 + digit(b)?)
}

fn four_digits(a: u8, b: u8, c: u8, d: u8) -> Result<u16, HttpDateError> {
    Ok(u16::from(two_digits(a, b)?) * 100 + u16::from(two_digits(c, d)?))
}

const fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// Days in `month` (1..=12) of `year`; 0 for an invalid month.
const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date `year-month-day`.
///
/// Howard Hinnant's `days_from_civil`, in unsigned arithmetic: valid for
/// `year >= 1970`, `month` in `1..=12`, `day` in `1..=31`, where every
/// intermediate value is non-negative and small.
const fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400; // [0, 399]
    let mp = if month > 2 { month - 3 } else { month + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// `(year, month 1..=12, day 1..=31)` of the date `days` after 1970-01-01.
///
/// Howard Hinnant's `civil_from_days`, unsigned: `days` is never negative
/// here, and even `u64::MAX / 86_400` days keeps every step far from overflow.
const fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

// ---------------------------------------------------------------------------
// Retry-After
// ---------------------------------------------------------------------------

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
/// instead of failing, so a hostile `999999999999999999999999` yields a huge
/// delay for the retry policy to cap. Signs (`-5`, `+5`), fractions (`1.5`),
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

// ---------------------------------------------------------------------------
// Status line
// ---------------------------------------------------------------------------

/// Why a status line could not be parsed (see [`parse_status_line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StatusLineError {
    /// The line is empty (or only a line ending).
    Empty,
    /// The line does not start with `HTTP/1.` and a minor version digit.
    Version,
    /// The version is not followed by a space and exactly three digits, then
    /// a space or the end of the line.
    Code,
    /// The three-digit status code is outside `100..=599`.
    OutOfRange,
    /// The reason phrase contains a control character other than tab.
    Reason,
}

impl fmt::Display for StatusLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty status line",
            Self::Version => "status line does not start with an HTTP/1.x version",
            Self::Code => "status line has no three-digit status code",
            Self::OutOfRange => "status code outside 100..=599",
            Self::Reason => "invalid character in reason phrase",
        })
    }
}

impl core::error::Error for StatusLineError {}

/// Parses an HTTP/1.x status line such as `HTTP/1.1 503 Service Unavailable`
/// and returns its status code ([RFC 9112 §4]).
///
/// Grammar: `HTTP/1.` DIGIT SP 3DIGIT \[ SP \[ reason-phrase \] \] \[ CRLF \].
/// The version is case-sensitive and must be `HTTP/1.x` (`HTTP/1.0`,
/// `HTTP/1.1`, ...). The reason phrase is optional, may be empty, and may
/// contain tab, space, visible ASCII and obs-text (bytes `0x80..=0xFF`), but
/// no other control characters. One trailing `\r\n` (or bare `\n`) is
/// ignored. No other whitespace is trimmed. The code must be in `100..=599`.
///
/// [RFC 9112 §4]: https://www.rfc-editor.org/rfc/rfc9112#section-4
///
/// # Errors
///
/// A [`StatusLineError`] for the first problem found, left to right, except
/// that a code outside `100..=599` is reported before a bad reason phrase.
pub fn parse_status_line(line: &[u8]) -> Result<u16, StatusLineError> {
    let line = match line {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] => rest,
        _ => line,
    };
    if line.is_empty() {
        return Err(StatusLineError::Empty);
    }
    let [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor, rest @ ..] = line else {
        return Err(StatusLineError::Version);
    };
    if !minor.is_ascii_digit() {
        return Err(StatusLineError::Version);
    }
    let [b' ', a, b, c, tail @ ..] = rest else {
        return Err(StatusLineError::Code);
    };
    if !(a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()) {
        return Err(StatusLineError::Code);
    }
    let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
    let reason = match tail {
        [] => &[][..],
        [b' ', reason @ ..] => reason,
        _ => return Err(StatusLineError::Code),
    };
    if !(100..=599).contains(&code) {
        return Err(StatusLineError::OutOfRange);
    }
    if reason
        .iter()
        .any(|&b| b != b'\t' && (b < 0x20 || b == 0x7F))
    {
        return Err(StatusLineError::Reason);
    }
    Ok(code)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write as _;
    use proptest::prelude::*;

    /// RFC 9110 §5.6.7 example instant.
    const EXAMPLE: u64 = 784_111_777;
    /// 9999-12-31T23:59:59Z.
    const END_OF_9999: u64 = 253_402_300_799;

    /// A fixed-size `fmt::Write` sink, so tests need no allocation.
    struct Buf {
        bytes: [u8; 96],
        len: usize,
    }

    impl Buf {
        fn as_bytes(&self) -> &[u8] {
            &self.bytes[..self.len]
        }
    }

    impl fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            let dst = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    fn show(value: impl fmt::Display) -> Buf {
        let mut buf = Buf {
            bytes: [0; 96],
            len: 0,
        };
        write!(buf, "{value}").unwrap();
        buf
    }

    fn date(s: &str) -> Result<u64, HttpDateError> {
        parse_http_date(s.as_bytes()).map(HttpDate::unix_secs)
    }

    fn imf(day: u8, month: &str, year: u16) -> Result<u64, HttpDateError> {
        let buf = show(format_args!("Mon, {day:02} {month} {year} 00:00:00 GMT"));
        parse_http_date(buf.as_bytes()).map(HttpDate::unix_secs)
    }

    #[test]
    fn rfc9110_examples() {
        assert_eq!(date("Sun, 06 Nov 1994 08:49:37 GMT"), Ok(EXAMPLE));
        assert_eq!(date("Sunday, 06-Nov-94 08:49:37 GMT"), Ok(EXAMPLE));
        assert_eq!(date("Sun Nov  6 08:49:37 1994"), Ok(EXAMPLE));
        assert_eq!(date("Sun Nov 06 08:49:37 1994"), Ok(EXAMPLE));
        assert_eq!(date(" \tSun, 06 Nov 1994 08:49:37 GMT\t "), Ok(EXAMPLE));
    }

    #[test]
    fn known_instants() {
        assert_eq!(date("Thu, 01 Jan 1970 00:00:00 GMT"), Ok(0));
        assert_eq!(date("Fri, 31 Dec 9999 23:59:59 GMT"), Ok(END_OF_9999));
        assert_eq!(date("Sat, 01 Jan 2000 00:00:00 GMT"), Ok(946_684_800));
        assert_eq!(date("Tue, 19 Jan 2038 03:14:08 GMT"), Ok(1 << 31));
        assert_eq!(date("Thu Feb 29 12:00:00 2024"), Ok(1_709_208_000));
        assert_eq!(
            show(HttpDate::from_unix_secs(0)).as_bytes(),
            b"Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            show(HttpDate::from_unix_secs(EXAMPLE)).as_bytes(),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            show(HttpDate::from_unix_secs(END_OF_9999)).as_bytes(),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
        // Far beyond 9999: still formats, without panicking.
        assert!(
            show(HttpDate::from_unix_secs(u64::MAX))
                .as_bytes()
                .ends_with(b" GMT")
        );
    }

    #[test]
    fn rfc850_two_digit_years() {
        assert_eq!(date("Thursday, 01-Jan-70 00:00:00 GMT"), Ok(0));
        assert_eq!(date("Friday, 31-Dec-99 23:59:59 GMT"), Ok(946_684_799));
        assert_eq!(date("Saturday, 01-Jan-00 00:00:00 GMT"), Ok(946_684_800));
        assert_eq!(
            date("Saturday, 31-Dec-69 23:59:59 GMT"),
            date("Sat, 31 Dec 2069 23:59:59 GMT")
        );
    }

    #[test]
    fn leap_years() {
        assert!(imf(29, "Feb", 2000).is_ok());
        assert!(imf(29, "Feb", 2024).is_ok());
        assert!(imf(29, "Feb", 2400).is_ok());
        assert_eq!(imf(29, "Feb", 2100), Err(HttpDateError::Day));
        assert_eq!(imf(29, "Feb", 2023), Err(HttpDateError::Day));
        assert_eq!(imf(29, "Feb", 1900), Err(HttpDateError::Year));
        assert_eq!(imf(30, "Feb", 2000), Err(HttpDateError::Day));
        assert_eq!(date("Sun Feb 29 00:00:00 2100"), Err(HttpDateError::Day));
        assert_eq!(
            date("Monday, 29-Feb-00 00:00:00 GMT"),
            date("Tue, 29 Feb 2000 00:00:00 GMT")
        );
    }

    #[test]
    fn month_lengths() {
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for (month, len) in MONTHS.iter().zip(lengths) {
            assert!(imf(1, month, 2023).is_ok(), "{month} 1");
            assert!(imf(len, month, 2023).is_ok(), "{month} {len}");
            assert_eq!(
                imf(len + 1, month, 2023),
                Err(HttpDateError::Day),
                "{month}"
            );
            assert_eq!(imf(0, month, 2023), Err(HttpDateError::Day), "{month}");
        }
        // Consecutive days are 86 400 s apart across every month boundary.
        for (month, len) in MONTHS.iter().zip(lengths).take(11) {
            let next = MONTHS[MONTHS.iter().position(|m| m == month).unwrap() + 1];
            assert_eq!(
                imf(len, month, 2023).unwrap() + 86_400,
                imf(1, next, 2023).unwrap()
            );
        }
        assert_eq!(
            imf(31, "Dec", 2023).unwrap() + 86_400,
            imf(1, "Jan", 2024).unwrap()
        );
    }

    #[test]
    fn time_bounds() {
        assert!(date("Sun, 06 Nov 1994 23:59:59 GMT").is_ok());
        assert_eq!(
            date("Sun, 06 Nov 1994 24:00:00 GMT"),
            Err(HttpDateError::Time)
        );
        assert_eq!(
            date("Sun, 06 Nov 1994 08:60:00 GMT"),
            Err(HttpDateError::Time)
        );
        assert_eq!(
            date("Sun, 06 Nov 1994 08:49:61 GMT"),
            Err(HttpDateError::Time)
        );
        // Leap second counts as :59.
        assert_eq!(
            date("Sat, 31 Dec 2016 23:59:60 GMT"),
            date("Sat, 31 Dec 2016 23:59:59 GMT")
        );
    }

    #[test]
    fn date_errors() {
        assert_eq!(date(""), Err(HttpDateError::Empty));
        assert_eq!(date(" \t "), Err(HttpDateError::Empty));
        assert_eq!(date("Sun"), Err(HttpDateError::Format));
        assert_eq!(
            date("Foo, 06 Nov 1994 08:49:37 GMT"),
            Err(HttpDateError::DayName)
        );
        assert_eq!(
            date("sun, 06 Nov 1994 08:49:37 GMT"),
            Err(HttpDateError::DayName)
        );
        assert_eq!(
            date("Sunday Nov  6 08:49:37 1994"),
            Err(HttpDateError::DayName)
        );
        assert_eq!(
            date("Sun, 06 nov 1994 08:49:37 GMT"),
            Err(HttpDateError::Month)
        );
        assert_eq!(
            date("Sun, 06 NOV 1994 08:49:37 GMT"),
            Err(HttpDateError::Month)
        );
        assert_eq!(
            date("Sun, 06 Nov 1969 08:49:37 GMT"),
            Err(HttpDateError::Year)
        );
        assert_eq!(
            date("Sun, 06 Nov 0000 08:49:37 GMT"),
            Err(HttpDateError::Year)
        );
        assert_eq!(
            date("Sun, 06 Nov 1994 08:49:37 UTC"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun, 06 Nov 1994 08:49:37 gmt"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun, 06 Nov 1994 08:49:37"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun, 06 Nov 1994 08:49:37 GMTX"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun, 6 Nov 1994 08:49:37 GMT"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun, 06 Nov 94 08:49:37 GMT"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun,06 Nov 1994 08:49:37 GMT"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun, 06 Nov 1994 8:49:37 GMT"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun, 0x Nov 1994 08:49:37 GMT"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sun, 06 Nov 1994  08:49:37 GMT"),
            Err(HttpDateError::Format)
        );
        assert_eq!(
            date("Sunday, 06-Nov-1994 08:49:37 GMT"),
            Err(HttpDateError::Format)
        );
        assert_eq!(date("Sun Nov 6 08:49:37 1994"), Err(HttpDateError::Format));
        assert_eq!(date("Sun Nov  6 08:49:37 94"), Err(HttpDateError::Format));
        assert_eq!(
            date("Sun Nov  6 08:49:37 1994 GMT"),
            Err(HttpDateError::Format)
        );
        assert_eq!(date("Sun Nov  0 08:49:37 1994"), Err(HttpDateError::Day));
        // The weekday is not checked against the date (documented).
        assert_eq!(date("Mon, 06 Nov 1994 08:49:37 GMT"), Ok(EXAMPLE));
    }

    #[test]
    fn methods() {
        for m in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            assert!(is_idempotent_method(m), "{m}");
        }
        for m in [
            "POST", "PATCH", "CONNECT", "get", "Get", "delete", "", "FOO", "GET ",
        ] {
            assert!(!is_idempotent_method(m), "{m}");
        }
    }

    #[test]
    fn statuses() {
        for s in [408, 429, 500, 502, 503, 504, 507, 599] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [
            400,
            404,
            409,
            501,
            505,
            200,
            204,
            301,
            100,
            0,
            600,
            999,
            u16::MAX,
        ] {
            assert!(!is_retryable_status(s), "{s}");
        }
        for s in [400, 404, 408, 429, 499, 500, 501, 599] {
            assert!(is_error_status(s), "{s}");
        }
        for s in [0, 100, 200, 302, 399, 600, u16::MAX] {
            assert!(!is_error_status(s), "{s}");
        }
    }

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

    fn status(s: &[u8]) -> Result<u16, StatusLineError> {
        parse_status_line(s)
    }

    #[test]
    fn status_lines() {
        assert_eq!(status(b"HTTP/1.1 503 Service Unavailable"), Ok(503));
        assert_eq!(status(b"HTTP/1.1 503 Service Unavailable\r\n"), Ok(503));
        assert_eq!(status(b"HTTP/1.1 200 OK\n"), Ok(200));
        assert_eq!(status(b"HTTP/1.0 404 Not Found"), Ok(404));
        assert_eq!(status(b"HTTP/1.1 429 "), Ok(429));
        assert_eq!(status(b"HTTP/1.1 429"), Ok(429));
        assert_eq!(status(b"HTTP/1.1 429\r\n"), Ok(429));
        assert_eq!(status(b"HTTP/1.1 100 Continue"), Ok(100));
        assert_eq!(status(b"HTTP/1.1 599 x"), Ok(599));
        assert_eq!(status(b"HTTP/1.1 200 \tOK \xe9\xff"), Ok(200));
        assert_eq!(status(b""), Err(StatusLineError::Empty));
        assert_eq!(status(b"\r\n"), Err(StatusLineError::Empty));
        assert_eq!(status(b"http/1.1 200 OK"), Err(StatusLineError::Version));
        assert_eq!(status(b"HTTP/2 200"), Err(StatusLineError::Version));
        assert_eq!(status(b"HTTP/2.0 200 OK"), Err(StatusLineError::Version));
        assert_eq!(status(b"HTTP/1.x 200 OK"), Err(StatusLineError::Version));
        assert_eq!(status(b" HTTP/1.1 200 OK"), Err(StatusLineError::Version));
        assert_eq!(status(b"HTTP/1.1"), Err(StatusLineError::Code));
        assert_eq!(status(b"HTTP/1.1 "), Err(StatusLineError::Code));
        assert_eq!(status(b"HTTP/1.1  200 OK"), Err(StatusLineError::Code));
        assert_eq!(status(b"HTTP/1.1 20 OK"), Err(StatusLineError::Code));
        assert_eq!(status(b"HTTP/1.1 2000 OK"), Err(StatusLineError::Code));
        assert_eq!(status(b"HTTP/1.1 2x0 OK"), Err(StatusLineError::Code));
        assert_eq!(status(b"HTTP/1.1 200OK"), Err(StatusLineError::Code));
        assert_eq!(
            status(b"HTTP/1.1 099 Low"),
            Err(StatusLineError::OutOfRange)
        );
        assert_eq!(
            status(b"HTTP/1.1 600 High"),
            Err(StatusLineError::OutOfRange)
        );
        assert_eq!(status(b"HTTP/1.1 000"), Err(StatusLineError::OutOfRange));
        assert_eq!(status(b"HTTP/1.1 200 O\rK"), Err(StatusLineError::Reason));
        assert_eq!(
            status(b"HTTP/1.1 200 OK\r\n\r\n"),
            Err(StatusLineError::Reason)
        );
        assert_eq!(status(b"HTTP/1.1 200 O\x00K"), Err(StatusLineError::Reason));
        assert_eq!(status(b"HTTP/1.1 200 O\x7fK"), Err(StatusLineError::Reason));
    }

    #[test]
    fn error_messages() {
        let all_date = [
            HttpDateError::Empty,
            HttpDateError::Format,
            HttpDateError::DayName,
            HttpDateError::Month,
            HttpDateError::Day,
            HttpDateError::Time,
            HttpDateError::Year,
        ];
        for e in all_date {
            assert!(show(e).len > 0);
            let _: &dyn core::error::Error = &e;
        }
        for e in [RetryAfterError::Empty, RetryAfterError::Invalid] {
            assert!(show(e).len > 0);
            let _: &dyn core::error::Error = &e;
        }
        let all_status = [
            StatusLineError::Empty,
            StatusLineError::Version,
            StatusLineError::Code,
            StatusLineError::OutOfRange,
            StatusLineError::Reason,
        ];
        for e in all_status {
            assert!(show(e).len > 0);
            let _: &dyn core::error::Error = &e;
        }
    }

    /// Strings over digits, letters, spaces, commas, colons and dashes.
    const ALPHABET: &str = "[0-9A-Za-z ,:-]{0,40}";

    proptest! {
        #[test]
        fn round_trip(secs in 0..=END_OF_9999) {
            let d = HttpDate::from_unix_secs(secs);
            let buf = show(d);
            prop_assert_eq!(buf.len, 29);
            prop_assert_eq!(parse_http_date(buf.as_bytes()), Ok(d));
        }

        #[test]
        fn round_trip_other_forms(secs in 0..=END_OF_9999) {
            // Rebuild the asctime form from the IMF-fixdate text.
            let buf = show(HttpDate::from_unix_secs(secs));
            let b = buf.as_bytes();
            let (name, day, month, year, time) = (&b[0..3], &b[5..7], &b[8..11], &b[12..16], &b[17..25]);
            let mut asc = [0u8; 24];
            asc[0..3].copy_from_slice(name);
            asc[3] = b' ';
            asc[4..7].copy_from_slice(month);
            asc[7] = b' ';
            asc[8..10].copy_from_slice(day);
            if asc[8] == b'0' {
                asc[8] = b' ';
            }
            asc[10] = b' ';
            asc[11..19].copy_from_slice(time);
            asc[19] = b' ';
            asc[20..24].copy_from_slice(year);
            prop_assert_eq!(parse_http_date(&asc).map(HttpDate::unix_secs), Ok(secs));
        }

        #[test]
        fn no_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_http_date(&bytes);
            let _ = parse_retry_after(&bytes);
            let _ = parse_status_line(&bytes);
        }

        #[test]
        fn no_panic_on_alphabet(s in ALPHABET) {
            let _ = parse_http_date(s.as_bytes());
            let _ = parse_retry_after(s.as_bytes());
            let _ = parse_status_line(s.as_bytes());
        }

        #[test]
        fn no_panic_near_valid(
            prefix in "(Sun, |Sunday, |Sun |HTTP/1.1 )?",
            s in ALPHABET,
        ) {
            let _ = parse_http_date(std::format!("{prefix}{s}").as_bytes());
            let _ = parse_status_line(std::format!("{prefix}{s}").as_bytes());
        }

        #[test]
        fn delay_seconds_match_u64(n in any::<u64>()) {
            let buf = show(n);
            prop_assert_eq!(parse_retry_after(buf.as_bytes()), secs(n));
        }

        #[test]
        fn delay_from_is_saturating_difference(t in any::<u64>(), now in any::<u64>()) {
            let r = RetryAfter::Date(HttpDate::from_unix_secs(t));
            let got = r.delay_from(Some(HttpDate::from_unix_secs(now)));
            prop_assert_eq!(got, Some(Duration::from_secs(t.saturating_sub(now))));
        }
    }
}
