//! Clocks and a random source for particular runtimes, one file per feature:
//! `std` ([`StdClock`], [`SeededRng::from_entropy`](crate::SeededRng::from_entropy)),
//! `tokio` ([`TokioClock`]) and `embassy-time` ([`EmbassyClock`]).
//!
//! The core itself never reads a clock; these are what the closure API
//! ([`Retryable`](crate::Retryable)) picks when the caller names none, and
//! what the adapter crates re-export.

#[cfg(feature = "embassy-time")]
mod embassy;
#[cfg(feature = "std")]
mod std_clock;
#[cfg(feature = "tokio")]
mod tokio;

#[cfg(feature = "embassy-time")]
pub use embassy::EmbassyClock;
#[cfg(feature = "std")]
pub use std_clock::StdClock;
#[cfg(feature = "tokio")]
pub use tokio::TokioClock;
