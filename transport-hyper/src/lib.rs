#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod budget;
mod classify;
mod client;
mod connector;
mod error;
pub mod interceptor;
mod predicate;
mod request;
mod request_body;
mod response;
mod seed;
mod strategy;
#[cfg(feature = "tower")]
pub mod tower;
mod trace;
mod transport;
mod transport_builder;
mod wall_clock;

pub use budget::{
    DEFAULT_RETRY_BUDGET_MAX_HOSTS, DEFAULT_RETRY_BUDGET_RATIO, DEFAULT_RETRY_BUDGET_TOKENS,
};
pub use client::{Client, ClientBuilder, IDEMPOTENCY_KEY, MAX_HEDGES, RequestBuilder};
pub use error::{BoxError, CallError, Error};
pub use request::{RedactedUrl, Request};
pub use request_body::{Body, DEFAULT_REPLAY_BUFFER_LIMIT};
pub use response::{Response, retry_after_from_headers};
pub use tenace::TokioClock;
pub use transport::HyperTransport;
pub use transport_builder::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, TransportBuilder,
};

/// The engine, re-exported so one dependency gives the strategies and
/// predicates: `tenace_hyper::tenace::ExponentialBackoff`.
pub use tenace;

/// The rustls version the `rustls` feature uses, for building a
/// [`ClientConfig`](rustls::ClientConfig).
#[cfg(feature = "rustls")]
pub use rustls;
