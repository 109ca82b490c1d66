//! Response headers as a hostile server may send them: `delay_hint` never
//! panics, and what it yields is a whole number of seconds or
//! `UNKNOWN_WAIT`, the latter only when no clock could place a date.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenace::http::{HttpDate, UNKNOWN_WAIT, delay_hint};

const NAMES: [&str; 6] = [
    "Retry-After",
    "ratelimit-reset",
    "RateLimit",
    "x-ratelimit-reset",
    "Date",
    "",
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks a clock; the rest is split on NUL into values,
    // each given the next field name in turn.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let now = (pick & 1 == 1).then(|| HttpDate::from_unix_secs(1_764_460_800));
    let headers = rest
        .split(|&b| b == 0)
        .enumerate()
        .map(|(i, value)| (NAMES[(i + usize::from(pick >> 1)) % NAMES.len()], value));
    if let Some(wait) = delay_hint(headers.clone(), now) {
        if wait == UNKNOWN_WAIT {
            assert!(now.is_none(), "a clock was given, yet the wait is unknown");
        } else {
            assert_eq!(wait.subsec_nanos(), 0);
        }
    }
    // The same headers give the same answer.
    assert_eq!(delay_hint(headers.clone(), now), delay_hint(headers, now));
});
