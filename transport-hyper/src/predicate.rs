//! Retry predicates as the client and the tower layer store them, and how
//! the transient-status policy adds to a user's predicate.

use std::sync::Arc;

use tenace::{RetryOn, TransientErrors};

use crate::error::Error;

/// A retry predicate as the client, a request or the tower layer stores it.
pub(crate) type SharedRetryOn = Arc<dyn RetryOn<Error> + Send + Sync>;

/// A shared predicate, borrowed for one call.
pub(crate) struct BorrowedRetryOn<'a>(pub(crate) &'a (dyn RetryOn<Error> + Send + Sync));

impl RetryOn<Error> for BorrowedRetryOn<'_> {
    fn retry_on(&self, error: &Error) -> bool {
        self.0.retry_on(error)
    }
}

/// A shared predicate, owned.
struct Shared(SharedRetryOn);

impl RetryOn<Error> for Shared {
    fn retry_on(&self, error: &Error) -> bool {
        self.0.retry_on(error)
    }
}

/// What a builder retries and how it treats error statuses, as the client
/// builder and the tower layer keep it: `retry_on` and
/// `retry_transient_statuses()` add up, in either order.
#[derive(Clone)]
pub(crate) struct Retrying {
    /// The predicate, with the transient statuses once they were asked for.
    pub(crate) predicate: SharedRetryOn,
    /// `retry_transient_statuses()` was called.
    pub(crate) transient: bool,
    /// A 4xx or 5xx response becomes `Error::Status`.
    pub(crate) error_for_status: bool,
}

impl Retrying {
    /// `predicate`, no transient statuses, statuses are responses.
    pub(crate) const fn new(predicate: SharedRetryOn) -> Self {
        Self {
            predicate,
            transient: false,
            error_for_status: false,
        }
    }

    /// A new predicate of the user's, replacing the last one; the transient
    /// statuses stay if they were asked for.
    pub(crate) fn retry_on(&mut self, predicate: SharedRetryOn) {
        self.predicate = if self.transient {
            or_transient(predicate)
        } else {
            predicate
        };
    }

    /// Error statuses become errors, and the transient ones are retried as
    /// well as what the predicate retries (added once).
    pub(crate) fn transient_statuses(&mut self) {
        if !self.transient {
            self.transient = true;
            self.predicate = or_transient(Arc::clone(&self.predicate));
        }
        self.error_for_status = true;
    }
}

/// `predicate`, or else a transport failure or a transient status
/// (408, 429, 5xx but 501 and 505): what `retry_transient_statuses` adds
/// to whatever `retry_on` set, in either order.
pub(crate) fn or_transient(predicate: SharedRetryOn) -> SharedRetryOn {
    Arc::new(TransientErrors.or(Shared(predicate)))
}
