//! HTTP-dates ([RFC 9110 §5.6.7]): parsing the three forms and writing the
//! preferred one.
//!
//! [RFC 9110 §5.6.7]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7

use core::fmt;

use super::calendar::{civil_from_days, days_from_civil, days_in_month};
use super::trim_ows;

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::format;
    use std::string::ToString;

    /// RFC 9110 §5.6.7 example instant.
    const EXAMPLE: u64 = 784_111_777;
    /// 9999-12-31T23:59:59Z.
    const END_OF_9999: u64 = 253_402_300_799;

    fn date(s: &str) -> Result<u64, HttpDateError> {
        parse_http_date(s.as_bytes()).map(HttpDate::unix_secs)
    }

    fn imf(day: u8, month: &str, year: u16) -> Result<u64, HttpDateError> {
        date(&format!("Mon, {day:02} {month} {year} 00:00:00 GMT"))
    }

    fn show(d: u64) -> std::string::String {
        HttpDate::from_unix_secs(d).to_string()
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
        assert_eq!(show(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(show(EXAMPLE), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(show(END_OF_9999), "Fri, 31 Dec 9999 23:59:59 GMT");
        // Far beyond 9999: still formats, without panicking.
        assert!(show(u64::MAX).ends_with(" GMT"));
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
    fn error_messages() {
        let all = [
            HttpDateError::Empty,
            HttpDateError::Format,
            HttpDateError::DayName,
            HttpDateError::Month,
            HttpDateError::Day,
            HttpDateError::Time,
            HttpDateError::Year,
        ];
        for e in all {
            assert!(!e.to_string().is_empty());
            let _: &dyn core::error::Error = &e;
        }
    }

    /// Strings over digits, letters, spaces, commas, colons and dashes.
    const ALPHABET: &str = "[0-9A-Za-z ,:-]{0,40}";

    proptest! {
        #[test]
        fn round_trip(secs in 0..=END_OF_9999) {
            let d = HttpDate::from_unix_secs(secs);
            let text = d.to_string();
            prop_assert_eq!(text.len(), 29);
            prop_assert_eq!(parse_http_date(text.as_bytes()), Ok(d));
        }

        #[test]
        fn round_trip_other_forms(secs in 0..=END_OF_9999) {
            // Rebuild the asctime form from the IMF-fixdate text.
            let text = show(secs);
            let b = text.as_bytes();
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
        }

        #[test]
        fn no_panic_on_alphabet(s in ALPHABET) {
            let _ = parse_http_date(s.as_bytes());
        }

        #[test]
        fn no_panic_near_valid(prefix in "(Sun, |Sunday, |Sun )?", s in ALPHABET) {
            let _ = parse_http_date(format!("{prefix}{s}").as_bytes());
        }
    }
}
