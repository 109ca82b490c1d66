//! tracing: one span per call, one event per retry, one when the call ends.
//!
//! Target `tenace_hyper`, level `DEBUG`. The span `tenace.call` has the
//! method, the URL without userinfo or query ([`RedactedUrl`]) and, once the
//! call ends, the number of attempts. A retry event has the failed attempt's
//! number, the failure kind, the delay chosen and the time since the call
//! started. A call stopped on the server's wait
//! ([`StopReason::ServerWait`]) records that wait as `server_wait_ms`. No
//! header value and no body is ever recorded.

use tenace::{CallOutcome, CallResult, Middleware, RetryEvent, StopReason};
use tracing::Span;

use crate::request::RedactedUrl;

/// The span around one call.
pub(crate) fn call_span(method: &http::Method, uri: &http::Uri) -> Span {
    tracing::debug_span!(
        "tenace.call",
        method = %method,
        url = %RedactedUrl(uri),
        attempts = tracing::field::Empty,
    )
}

/// Logs retries and the end of the call (the engine's hooks).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Trace;

impl Middleware for Trace {
    fn on_retry(&self, event: &RetryEvent) {
        tracing::debug!(
            attempt = event.attempt,
            kind = %event.kind,
            delay_ms = u64::try_from(event.delay.as_millis()).unwrap_or(u64::MAX),
            elapsed_ms = u64::try_from(event.elapsed.as_millis()).unwrap_or(u64::MAX),
            "attempt failed, retrying",
        );
    }

    fn after_call(&self, outcome: &CallOutcome) {
        Span::current().record("attempts", outcome.attempts);
        let elapsed_ms = u64::try_from(outcome.elapsed().as_millis()).unwrap_or(u64::MAX);
        match outcome.result {
            CallResult::Success => {
                tracing::debug!(attempts = outcome.attempts, elapsed_ms, "call succeeded");
            }
            CallResult::Failed(StopReason::ServerWait(wait), kind) => {
                let kind = kind.map_or("none", tenace::FailureKind::as_str);
                tracing::debug!(
                    attempts = outcome.attempts,
                    elapsed_ms,
                    reason = "server wait",
                    kind,
                    server_wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "call failed: the server asked to wait past the cap or the deadline",
                );
            }
            CallResult::Failed(reason, kind) => {
                let kind = kind.map_or("none", tenace::FailureKind::as_str);
                tracing::debug!(
                    attempts = outcome.attempts,
                    elapsed_ms,
                    reason = reason.as_str(),
                    kind,
                    "call failed",
                );
            }
            CallResult::Cancelled => {
                tracing::debug!(attempts = outcome.attempts, elapsed_ms, "call cancelled");
            }
            _ => {}
        }
    }
}
