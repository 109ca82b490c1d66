//! Cross-crate tests for `tenace`, and the test support every suite of the
//! workspace shares:
//!
//! - [`fault_server`]: a real HTTP/1.1 (or h2c) server on 127.0.0.1 that answers each
//!   request with a scripted fault (status codes, `Retry-After`, resets,
//!   hangs, slow or endless bodies);
//! - [`hostile`]: the hostile-server scenarios, defined once, that the hyper
//!   and the embedded adapters both run;
//! - [`strategies`]: retry strategies written as user code;
//! - [`heap`]: a counting global allocator (allocations and peak heap per
//!   thread).
//!
//! Seeded randomness is the engine's own [`tenace::SeededRng`].

extern crate alloc;

pub mod fault_server;
pub mod heap;
pub mod hostile;
pub mod strategies;

/// The README's server and microcontroller examples, compiled as doctests of
/// this crate (which has both adapters among its dependencies).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
