//! Which request methods may be sent again.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
