//! How the closure API judges a closure's error.

use core::time::Duration;

use crate::error::{FailureKind, TransportError};
use crate::machine::Failure;
use crate::policy::RetryOn;

/// Judges one error of a retried closure: retry it or not, and what the
/// engine should know about it (its [`FailureKind`], a server's
/// `Retry-After`).
///
/// Three are built in: [`Always`] (the default: every error is retried), any
/// closure `Fn(&E) -> bool` (set with [`Retry::when`](super::Retry::when)),
/// and [`Classified`] (set with [`Retry::classified`](super::Retry::classified)
/// or [`Retry::policy`](super::Retry::policy)), which asks a
/// [`TransportError`] for its kind and `Retry-After` hint and a
/// [`RetryOn`] predicate for the verdict. A closure's own error is
/// [`FailureKind::Other`] to the engine unless it says otherwise.
///
/// # Implementing
///
/// ```
/// use core::time::Duration;
/// use tenace::func::Classify;
/// use tenace::{Failure, FailureKind};
///
/// enum ApiError { Busy { wait_secs: u64 }, Invalid }
///
/// /// Retries `Busy`, waiting at least as long as the server asked.
/// struct Api;
///
/// impl Classify<ApiError> for Api {
///     fn classify(&self, error: &ApiError) -> Failure {
///         match error {
///             ApiError::Busy { wait_secs } => Failure::new(FailureKind::Status(503))
///                 .with_retry_after(Some(Duration::from_secs(*wait_secs))),
///             ApiError::Invalid => Failure::refused(FailureKind::Status(400)),
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot judge errors of type `{E}`",
    label = "this classifier is not a `Classify<{E}>`",
    note = "`.classified(..)` and `.policy(..)` need an error that implements `tenace::TransportError`; for any other error, judge it with `.when(|e| ..)` (after `.policy(..)` if you use one)"
)]
pub trait Classify<E> {
    /// The engine's view of `error`: see [`Failure::new`] (retry it) and
    /// [`Failure::refused`] (return it at once).
    fn classify(&self, error: &E) -> Failure;
}

/// Retries every error (the closure API's default, as backon's).
///
/// ```
/// use tenace::func::{Always, Classify};
/// assert!(Classify::<&str>::classify(&Always, &"anything").retryable);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Always;

impl<E> Classify<E> for Always {
    fn classify(&self, _error: &E) -> Failure {
        Failure::new(FailureKind::Other)
    }
}

impl<E, F: Fn(&E) -> bool> Classify<E> for F {
    fn classify(&self, error: &E) -> Failure {
        if self(error) {
            Failure::new(FailureKind::Other)
        } else {
            Failure::refused(FailureKind::Other)
        }
    }
}

/// For errors that implement [`TransportError`]: the error's own kind and
/// `Retry-After` hint, and the verdict of the predicate `P`
/// ([`NetworkErrors`](crate::NetworkErrors),
/// [`TransientErrors`](crate::TransientErrors), a closure, ...).
///
/// ```
/// use tenace::func::{Classified, Classify};
/// use tenace::{FailureKind, TransientErrors, TransportError};
/// # use core::time::Duration;
/// #[derive(Debug)]
/// struct Http(u16);
/// impl TransportError for Http {
///     fn kind(&self) -> FailureKind { FailureKind::Status(self.0) }
///     fn timed_out(_: Duration) -> Self { Http(408) }
/// }
/// let judge = Classified(TransientErrors);
/// assert!(judge.classify(&Http(503)).retryable);
/// assert!(!judge.classify(&Http(404)).retryable);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classified<P>(pub P);

impl<E: TransportError, P: RetryOn<E>> Classify<E> for Classified<P> {
    fn classify(&self, error: &E) -> Failure {
        Failure::classify(error, &self.0)
    }
}

/// Called before each retry's sleep with the error that caused it and the
/// delay; set with [`Retry::notify`](super::Retry::notify). The error is
/// `None` when the attempt was cut off by its timeout (there is no error of
/// the closure's to show).
///
/// Any `FnMut(Option<&E>, Duration)` closure is a notifier.
///
/// ```
/// use core::time::Duration;
/// use tenace::func::Notify;
/// /// Counts retries.
/// struct Count(u32);
/// impl<E> Notify<E> for Count {
///     fn notify(&mut self, _error: Option<&E>, _delay: Duration) { self.0 += 1; }
/// }
/// let mut c = Count(0);
/// Notify::<()>::notify(&mut c, None, Duration::from_secs(1));
/// assert_eq!(c.0, 1);
/// ```
pub trait Notify<E> {
    /// One retry is about to happen after `delay`.
    fn notify(&mut self, error: Option<&E>, delay: Duration);
}

/// No notification (the default).
///
/// ```
/// use tenace::func::{Notify, Quiet};
/// Notify::<()>::notify(&mut Quiet, None, core::time::Duration::ZERO); // does nothing
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quiet;

impl<E> Notify<E> for Quiet {
    fn notify(&mut self, _error: Option<&E>, _delay: Duration) {}
}

impl<E, F: FnMut(Option<&E>, Duration)> Notify<E> for F {
    fn notify(&mut self, error: Option<&E>, delay: Duration) {
        self(error, delay);
    }
}
