//! `no_std` HTTP helpers for driving a retry policy from HTTP responses.
//!
//! Everything here works on borrowed bytes and `core` types only: no allocation,
//! no clock, no floating point and no panics on any input, so transport adapters
//! on a microcontroller and on a server classify responses the same way.
//!
//! - [`is_idempotent_method`] and [`IDEMPOTENCY_KEY`]: which requests may be
//!   sent again ([RFC 9110 §9.2.2]).
//! - [`is_retryable_status`]: which status codes are worth another attempt
//!   ([RFC 9110 §15]).
//! - [`parse_retry_after`] and [`RetryAfter::delay_from`]: the `Retry-After`
//!   field ([RFC 9110 §10.2.3]), as delay-seconds or as an HTTP-date.
//! - [`delay_hint`]: the one reading of every field a server uses to ask for
//!   a wait (`Retry-After`, `RateLimit-Reset`, `RateLimit`,
//!   `X-RateLimit-Reset`), which both adapters call.
//! - [`parse_http_date`] and [`HttpDate`]: the three HTTP-date forms of
//!   [RFC 9110 §5.6.7] (IMF-fixdate, obsolete RFC 850 and asctime), with an
//!   IMF-fixdate [`Display`](core::fmt::Display) for logs and round trips.
//!
//! [RFC 9110 §9.2.2]: https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2
//! [RFC 9110 §15]: https://www.rfc-editor.org/rfc/rfc9110#section-15
//! [RFC 9110 §10.2.3]: https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
//! [RFC 9110 §5.6.7]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7

mod calendar;
mod date;
mod delay_hint;
mod method;
mod retry_after;
mod status;

pub use date::{HttpDate, HttpDateError, parse_http_date};
pub use delay_hint::{EPOCH_LIMIT, EPOCH_THRESHOLD, UNKNOWN_WAIT, delay_hint};
pub use method::{IDEMPOTENCY_KEY, is_idempotent_method};
pub use retry_after::{RetryAfter, RetryAfterError, parse_retry_after};
pub use status::is_retryable_status;

/// `v` without the optional whitespace (spaces and tabs) around it, which
/// both field grammars allow.
fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}
