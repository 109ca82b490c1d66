//! What a [`Client`](crate::Client) retries: one value that the builder's
//! `retry_on` and `retry_transient_statuses` both add to, in either order.

use core::fmt;

use tenace::{NetworkErrors, RetryOn, TransientErrors};

use crate::error::Error;

/// A client's retry predicate.
///
/// - By default, transport failures ([`NetworkErrors`]).
/// - With [`ClientBuilder::retry_transient_statuses`](crate::ClientBuilder::retry_transient_statuses):
///   transport failures and transient statuses ([`TransientErrors`]).
/// - With a predicate of the user's ([`ClientBuilder::retry_on`](crate::ClientBuilder::retry_on)):
///   that predicate, or (if statuses were asked for too) the transient
///   statuses or that predicate. A user predicate replaces the default
///   "transport failures", so `retry_on(&Never)` retries nothing.
///
/// ```
/// use tenace::{RetryOn, TransientErrors};
/// use tenace_embedded::{Error, RetryRule};
///
/// let conflict = |e: &Error| matches!(e, Error::Status { status: 409, .. });
/// let rule = RetryRule::new().with_transient_statuses().with_predicate(&conflict);
/// let status = |status| Error::Status { status, retry_after: None };
/// assert!(rule.retry_on(&status(409)));
/// assert!(rule.retry_on(&status(503)));
/// assert!(!rule.retry_on(&status(404)));
/// ```
#[derive(Clone, Copy)]
pub struct RetryRule<'a> {
    transient_statuses: bool,
    predicate: Option<&'a dyn RetryOn<Error>>,
}

impl<'a> RetryRule<'a> {
    /// Transport failures only.
    pub const fn new() -> Self {
        Self {
            transient_statuses: false,
            predicate: None,
        }
    }

    /// The same rule, retrying transient statuses (408, 429, 5xx but 501
    /// and 505) and transport failures too.
    #[must_use]
    pub const fn with_transient_statuses(mut self) -> Self {
        self.transient_statuses = true;
        self
    }

    /// The same rule with the user's `predicate` in place of the default
    /// (transport failures); transient statuses, if asked for, still count.
    /// Several predicates combine with [`RetryOn::or`].
    #[must_use]
    pub const fn with_predicate(mut self, predicate: &'a dyn RetryOn<Error>) -> Self {
        self.predicate = Some(predicate);
        self
    }

    /// Whether transient statuses are retried.
    pub const fn transient_statuses(&self) -> bool {
        self.transient_statuses
    }

    /// The user's predicate, if one was given.
    pub const fn predicate(&self) -> Option<&'a dyn RetryOn<Error>> {
        self.predicate
    }
}

impl Default for RetryRule<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RetryRule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryRule")
            .field("transient_statuses", &self.transient_statuses)
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

impl RetryOn<Error> for RetryRule<'_> {
    fn retry_on(&self, error: &Error) -> bool {
        let base = match (self.transient_statuses, self.predicate) {
            (true, _) => TransientErrors.retry_on(error),
            (false, None) => NetworkErrors.retry_on(error),
            (false, Some(_)) => false,
        };
        base || self.predicate.is_some_and(|p| p.retry_on(error))
    }
}

#[cfg(test)]
mod tests {
    use tenace::Never;

    use super::*;
    use crate::error::Cause;

    #[test]
    fn rules_compose() {
        let reset = Error::Connect(Cause::TimedOut);
        let busy = Error::Status {
            status: 503,
            retry_after: None,
        };
        let conflict = Error::Status {
            status: 409,
            retry_after: None,
        };
        let on_conflict = |e: &Error| matches!(e, Error::Status { status: 409, .. });

        let default = RetryRule::new();
        assert!(default.retry_on(&reset));
        assert!(!default.retry_on(&busy));

        let statuses = RetryRule::new().with_transient_statuses();
        assert!(statuses.retry_on(&reset) && statuses.retry_on(&busy));
        assert!(!statuses.retry_on(&conflict));

        // Either order gives the same rule.
        let a = RetryRule::new()
            .with_transient_statuses()
            .with_predicate(&on_conflict);
        let b = RetryRule::new()
            .with_predicate(&on_conflict)
            .with_transient_statuses();
        for rule in [a, b] {
            assert!(rule.retry_on(&reset));
            assert!(rule.retry_on(&busy));
            assert!(rule.retry_on(&conflict));
        }

        // A predicate alone replaces the default.
        let only = RetryRule::new().with_predicate(&on_conflict);
        assert!(only.retry_on(&conflict));
        assert!(!only.retry_on(&reset));
        let never = RetryRule::new().with_predicate(&Never);
        assert!(!never.retry_on(&reset));
    }
}
