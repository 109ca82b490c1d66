//! `Retry-After` values as a hostile server may send them: parsing never
//! panics, and whatever it yields converts to a finite delay.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenace::http::{HttpDate, RetryAfter, parse_retry_after};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = parse_retry_after(data) {
        let now = HttpDate::from_unix_secs(1_764_460_800);
        match value {
            RetryAfter::Delay(d) => assert_eq!(value.delay_from(None), Some(d)),
            RetryAfter::Date(date) => {
                let d = value.delay_from(Some(now)).expect("a date with a clock gives a delay");
                assert_eq!(d.as_secs(), date.unix_secs().saturating_sub(now.unix_secs()));
                assert_eq!(value.delay_from(None), None);
            }
        }
    }
});
