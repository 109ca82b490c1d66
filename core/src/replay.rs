//! Whether a request may be sent twice: one rule for every adapter.
//!
//! A failure before any byte of the request left (connection refused, DNS)
//! is always safe to retry. After that the server may have acted on the
//! request, so it is sent again only when doing so twice has the effect of
//! doing it once. [`Replay::of`] is the rule the hyper client, the tower
//! layer and the embedded client all apply, so a request is replayed (or
//! not) the same way whichever of them sends it.

/// Whether a request may be sent again after a failure that may have
/// reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Replay {
    /// Sending it twice has the effect of sending it once: an idempotent
    /// method, a request carrying an idempotency key, or one marked safe.
    Safe,
    /// It may not be sent again once it may have reached the server.
    Unsafe,
}

impl Replay {
    /// The replay rule, in this order:
    ///
    /// 1. an explicit mark wins: `Some(Replay::Safe)` or
    ///    `Some(Replay::Unsafe)`, even for a `GET`;
    /// 2. else a request that carries an `Idempotency-Key` header
    ///    ([`IDEMPOTENCY_KEY`](crate::http::IDEMPOTENCY_KEY), any case, among
    ///    `header_names`) is safe: the server is expected to apply it once;
    /// 3. else the method decides: `GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT`
    ///    and `DELETE` are idempotent (RFC 9110 §9.2.2).
    ///
    /// ```
    /// use tenace::Replay::{self, Safe, Unsafe};
    /// let none: [&str; 0] = [];
    /// assert_eq!(Replay::of("GET", None, none), Safe);
    /// assert_eq!(Replay::of("GET", Some(Unsafe), none), Unsafe);
    /// assert_eq!(Replay::of("POST", None, ["content-type"]), Unsafe);
    /// assert_eq!(Replay::of("POST", None, ["Idempotency-Key"]), Safe);
    /// assert_eq!(Replay::of("POST", Some(Unsafe), ["idempotency-key"]), Unsafe);
    /// ```
    pub fn of<'h>(
        method: &str,
        mark: Option<Self>,
        header_names: impl IntoIterator<Item = &'h str>,
    ) -> Self {
        if let Some(mark) = mark {
            return mark;
        }
        let keyed = header_names
            .into_iter()
            .any(|name| name.eq_ignore_ascii_case(crate::http::IDEMPOTENCY_KEY));
        if keyed || crate::http::is_idempotent_method(method) {
            Self::Safe
        } else {
            Self::Unsafe
        }
    }

    /// [`Safe`](Self::Safe) for `true`, [`Unsafe`](Self::Unsafe) for
    /// `false`: a `retry_safe(bool)` setting as a mark.
    pub const fn from_safe(safe: bool) -> Self {
        if safe { Self::Safe } else { Self::Unsafe }
    }

    /// `true` for [`Safe`](Self::Safe).
    pub const fn is_safe(self) -> bool {
        matches!(self, Self::Safe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        use Replay::{Safe, Unsafe};
        let none: [&str; 0] = [];
        let key = ["accept", "IDEMPOTENCY-KEY"];
        // method × (no mark, marked safe, marked unsafe) × idempotency key.
        for method in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            assert_eq!(Replay::of(method, None, none), Safe, "{method}");
            assert_eq!(Replay::of(method, None, key), Safe, "{method}");
            assert_eq!(Replay::of(method, Some(Safe), none), Safe);
            assert_eq!(Replay::of(method, Some(Unsafe), none), Unsafe);
            assert_eq!(Replay::of(method, Some(Unsafe), key), Unsafe);
        }
        // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
        for method in ["POST", "PATCH", "CONNECT", "BREW", "get", ""] {
            assert_eq!(Replay::of(method, None, none), Unsafe, "{method}");
            assert_eq!(Replay::of(method, None, key), Safe, "{method}");
            assert_eq!(Replay::of(method, Some(Safe), none), Safe);
            assert_eq!(Replay::of(method, Some(Unsafe), key), Unsafe);
        }
        // A header whose name only contains the key's is not the key.
        assert_eq!(Replay::of("POST", None, ["x-idempotency-key"]), Unsafe);
    }
}
