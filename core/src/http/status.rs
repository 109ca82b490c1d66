//! Which response status codes are worth another attempt.

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
/// with [`is_idempotent_method`](super::is_idempotent_method) (or an
/// idempotency key) before retrying.
#[must_use]
pub const fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (matches!(status, 500..=599) && status != 501 && status != 505)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
