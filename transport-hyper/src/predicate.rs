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

/// `predicate`, or else a transport failure or a transient status
/// (408, 429, 5xx but 501 and 505): what `retry_transient_statuses` adds
/// to whatever `retry_on` set, in either order.
pub(crate) fn or_transient(predicate: SharedRetryOn) -> SharedRetryOn {
    Arc::new(TransientErrors.or(Shared(predicate)))
}
