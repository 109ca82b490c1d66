//! HTTP-dates in all three RFC 9110 forms: parsing never panics, and a
//! parsed date prints as IMF-fixdate and parses back to itself.
#![no_main]

use core::fmt::Write;

use libfuzzer_sys::fuzz_target;
use tenace::http::parse_http_date;

fuzz_target!(|data: &[u8]| {
    if let Ok(date) = parse_http_date(data) {
        let mut buf = String::new();
        write!(buf, "{date}").unwrap();
        assert_eq!(parse_http_date(buf.as_bytes()), Ok(date), "{buf}");
    }
});
