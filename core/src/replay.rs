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
    /// 1. an explicit mark wins: `Some(true)` is [`Safe`](Self::Safe),
    ///    `Some(false)` is [`Unsafe`](Self::Unsafe), even for a `GET`;
    /// 2. else a request that carries an `Idempotency-Key` header
    ///    ([`IDEMPOTENCY_KEY`](crate::http::IDEMPOTENCY_KEY)) is safe: the
    ///    server is expected to apply it once;
    /// 3. else the method decides: `GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT`
    ///    and `DELETE` are idempotent (RFC 9110 §9.2.2).
    ///
    /// ```
    /// use tenace::Replay;
    /// assert_eq!(Replay::of("GET", None, false), Replay::Safe);
    /// assert_eq!(Replay::of("GET", Some(false), false), Replay::Unsafe);
    /// assert_eq!(Replay::of("POST", None, false), Replay::Unsafe);
    /// assert_eq!(Replay::of("POST", None, true), Replay::Safe);
    /// assert_eq!(Replay::of("POST", Some(false), true), Replay::Unsafe);
    /// ```
    pub fn of(method: &str, marked: Option<bool>, has_idempotency_key: bool) -> Self {
        let safe = match marked {
            Some(safe) => safe,
            None => has_idempotency_key || crate::http::is_idempotent_method(method),
        };
        Self::from_safe(safe)
    }

    /// [`Safe`](Self::Safe) for `true`, [`Unsafe`](Self::Unsafe) for
    /// `false`.
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
        // method × (no mark, marked safe, marked unsafe) × idempotency key.
        for method in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            assert_eq!(Replay::of(method, None, false), Replay::Safe, "{method}");
            assert_eq!(Replay::of(method, None, true), Replay::Safe, "{method}");
            assert_eq!(Replay::of(method, Some(true), false), Replay::Safe);
            assert_eq!(Replay::of(method, Some(false), false), Replay::Unsafe);
            assert_eq!(Replay::of(method, Some(false), true), Replay::Unsafe);
        }
        for method in ["POST", "PATCH", "CONNECT", "BREW", "get", ""] {
            assert_eq!(Replay::of(method, None, false), Replay::Unsafe, "{method}");
            assert_eq!(Replay::of(method, None, true), Replay::Safe, "{method}");
            assert_eq!(Replay::of(method, Some(true), false), Replay::Safe);
            assert_eq!(Replay::of(method, Some(false), true), Replay::Unsafe);
        }
    }
}
