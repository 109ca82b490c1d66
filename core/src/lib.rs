#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(feature = "alloc")]
extern crate alloc;

#[macro_use]
mod fmt;

pub mod breaker;
pub mod budget;
mod driver;
mod error;
pub mod func;
pub mod hedge;
pub mod http;
mod interceptor;
mod machine;
pub mod metrics;
mod middleware;
mod policy;
mod replay;
mod rng;
mod runtime;
pub mod strategy;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod transport;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker};
pub use budget::RetryBudget;
pub use driver::{Pipeline, retry, retry_blocking, retry_with};
pub use error::{ConfigError, ConfigProblem, FailureKind, RetryError, StopReason, TransportError};
pub use func::{BlockingRetryable, Retry, Retryable};
pub use hedge::{Hedge, HedgeDelay, hedge, hedge_with};
pub use interceptor::{
    AttemptContext, FinalOnly, MapRequest, MapResponse, PerCall, RequestInterceptor,
    ResponseInterceptor, map_request, map_response,
};
pub use machine::{CallId, Decision, Failure, Retried, RetryMachine};
pub use metrics::{Metered, Metrics, MetricsSnapshot};
pub use middleware::{
    AttemptOutcome, CallOutcome, CallResult, Middleware, OnRetry, RetryEvent, on_retry,
};
pub use policy::{
    DEFAULT_RETRY_AFTER_CAP, Kinds, Limits, NetworkErrors, Never, Or, Policy, RetryOn,
    TransientErrors,
};
pub use replay::Replay;
pub use rng::SeededRng;
#[cfg(feature = "embassy-time")]
pub use runtime::EmbassyClock;
#[cfg(feature = "std")]
pub use runtime::StdClock;
#[cfg(feature = "tokio")]
pub use runtime::TokioClock;
pub use strategy::{
    Backoff, DecorrelatedJitter, ExponentialBackoff, FixedDelay, Jitter, JitterBackoff,
    LinearBackoff, RetryStrategy,
};
pub use time::Instant;
pub use transport::{BlockingClock, BlockingTransport, Clock, Transport};

/// The `rand_core` version tenace's strategies take randomness from.
pub use rand_core;
