//! Cross-crate tests for `tenace`.
//!
//! The library part holds shared test infrastructure: [`fault_server`], a real
//! HTTP/1.1 server on 127.0.0.1 that answers each request with a scripted
//! fault (status codes, `Retry-After`, resets, hangs, slow or endless bodies),
//! used by the tests of both the hyper adapter and the embedded (reqwless)
//! adapter.

extern crate alloc;

pub mod fault_server;
