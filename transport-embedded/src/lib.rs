#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
extern crate std;

#[macro_use]
mod fmt;

mod buffered;
mod client;
mod client_builder;
mod error;
mod head;
mod hedged;
mod hooks;
mod link;
mod request;
mod request_builder;
mod response;
mod retry_rule;
mod seed;
mod timeouts;
#[cfg(feature = "tls")]
mod tls;
mod transport;
mod url;

pub use buffered::Buffered;
pub use client::Client;
pub use client_builder::ClientBuilder;
pub use error::{Cause, Error, IoErrorKind, Phase, RequestError};
pub use link::{LinkUp, WakeOnLinkUp};
pub use request::{Header, Method, Request};
pub use request_builder::RequestBuilder;
pub use response::{Head, Response};
pub use retry_rule::RetryRule;
pub use seed::SeedSource;
pub use tenace::EmbassyClock;
pub use timeouts::Timeouts;
#[cfg(feature = "tls")]
pub use tls::{Tls, TlsVerify};
pub use transport::{HttpTransport, SendOnce};
pub use url::join_url;

/// The retry engine, re-exported so firmware needs one dependency.
pub use tenace;
