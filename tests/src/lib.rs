//! Cross-crate tests for `tenace`.
//!
//! The library part holds shared test infrastructure: [`fault_server`], a real
//! HTTP/1.1 server on 127.0.0.1 that answers each request with a scripted
//! fault (status codes, `Retry-After`, resets, hangs, slow or endless bodies),
//! used by the tests of both the hyper adapter and the embedded (reqwless)
//! adapter.

extern crate alloc;

pub mod fault_server;

/// The README's server and microcontroller examples, compiled as doctests of
/// this crate (which has both adapters among its dependencies).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
