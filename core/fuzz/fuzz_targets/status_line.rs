//! Status lines as the adapters see them: never a panic, and an accepted
//! status is a valid HTTP status code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenace::http::parse_status_line;

fuzz_target!(|data: &[u8]| {
    if let Ok(status) = parse_status_line(data) {
        assert!((100..=599).contains(&status));
    }
});
