//! The engine as a tower [`Layer`](tower_layer::Layer): retries around any
//! `Service<http::Request<B>>` (feature `tower`).
//!
//! ```
//! use core::time::Duration;
//! use tenace::{FixedDelay, Policy};
//! use tenace_hyper::tower::RetryLayer;
//! use tower::ServiceBuilder;
//!
//! let layer = RetryLayer::new(Policy::new(FixedDelay::new(Duration::from_millis(50))).max_retries(2))
//!     .retry_transient_statuses();
//! let service = ServiceBuilder::new().layer(layer).service(tower::service_fn(
//!     |_req: http::Request<http_body_util::Full<bytes::Bytes>>| async {
//!         Ok::<_, std::io::Error>(http::Response::new(()))
//!     },
//! ));
//! # let _ = service;
//! ```
//!
//! # Bodies and idempotency
//!
//! The request body type must be `Clone` (e.g. `Full<Bytes>`, whose clone
//! is a reference count): each attempt sends a clone of the original
//! request, so a one-shot streaming body does not compile. To retry a
//! stream, send a [`Body`](crate::Body) (an inner client over
//! `tenace_hyper::Body`): a clone replays the stream from its buffer as the
//! client does, up to the body's
//! [`replay_buffer_limit`](crate::Body::replay_buffer_limit) (default
//! [`DEFAULT_REPLAY_BUFFER_LIMIT`](crate::DEFAULT_REPLAY_BUFFER_LIMIT)), and a
//! failure after it streamed past the limit is
//! [`Error::BodyNotReplayable`](crate::Error::BodyNotReplayable). A failure that
//! may have reached the server is retried only if the request is safe to
//! replay, decided in this order: a [`RetrySafe`] extension (`RetrySafe(true)`
//! or `RetrySafe(false)`, even for a `GET`); else an `Idempotency-Key`
//! header; else an idempotent method.
//!
//! # Errors and statuses
//!
//! The inner service's errors are classified by their `source()` chain
//! (hyper-util and hyper errors, I/O errors); an error the chain does not
//! explain is taken as [`Error::Io`](crate::Error::Io): it may have reached the server. With
//! [`retry_transient_statuses`](RetryLayer::retry_transient_statuses) (or
//! [`error_for_status`](RetryLayer::error_for_status)) a 4xx/5xx response
//! becomes [`Error::Status`](crate::Error::Status) (its body is dropped; headers are kept), so
//! `Retry-After` is honoured.
//!
//! # No retry budget
//!
//! Unlike [`Client`](crate::Client), which keeps a
//! [`RetryBudget`](tenace::RetryBudget) per host by default, [`Retry`]
//! keeps none: each call retries up to its policy's `max_retries`. Bound
//! a fleet's retries in the stack around it (a concurrency or rate limit)
//! or use the client.
//!
//! # Readiness
//!
//! [`Retry`] is always ready: each attempt clones the inner service and
//! waits for that clone to be ready, as the inner service's own clones
//! share its capacity.

mod attempt;
mod layer;
mod service;

use core::time::Duration;

pub use layer::RetryLayer;
pub use service::Retry;

/// Marks a request safe (`RetrySafe(true)`) or unsafe (`RetrySafe(false)`)
/// to replay after a failure that may have reached the server: insert it
/// into the request's extensions. The mark wins over the method and over an
/// `Idempotency-Key` header.
///
/// ```
/// use tenace_hyper::tower::RetrySafe;
/// let mut request = http::Request::get("http://example.com/charge").body(()).unwrap();
/// // This GET has side effects: never send it twice.
/// request.extensions_mut().insert(RetrySafe(false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySafe(pub bool);

/// How the call that produced a response went: [`Retry`] puts it in every
/// response's extensions.
///
/// ```
/// # async fn f(response: http::Response<()>) {
/// use tenace_hyper::tower::RetryStats;
/// if let Some(stats) = response.extensions().get::<RetryStats>() {
///     println!("{} attempts, {:?} asleep", stats.attempts(), stats.slept());
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryStats {
    attempts: u32,
    slept: Duration,
}

impl RetryStats {
    /// How many attempts the call took, the last one included: 1 when the
    /// first attempt succeeded.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long the call slept in backoff, as the engine chose the delays
    /// (`Retry-After` included).
    pub const fn slept(&self) -> Duration {
        self.slept
    }
}
