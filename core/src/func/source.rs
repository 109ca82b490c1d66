//! What the closure API uses when the caller names no clock or random
//! source, per feature.

use rand_core::Rng;

#[cfg(feature = "std")]
use crate::rng::SeededRng;

/// Where a call's randomness (the jitter of its backoff) comes from.
///
/// Set with [`Retry::rng`](super::Retry::rng) ([`UseRng`]) or
/// [`Retry::seed`](super::Retry::seed); under the `std` feature the default
/// is `Entropy`. Without `std` there is no default ([`NoRng`]): devices
/// that share a seed would back off in lockstep, so each must bring its own
/// (a hardware RNG, or a seed read from one).
///
/// ```
/// use rand_core::Rng;
/// use tenace::SeededRng;
/// use tenace::func::{RngSource, UseRng};
/// let mut rng = UseRng(SeededRng::new(3)).into_rng();
/// assert_eq!(rng.next_u64(), SeededRng::new(3).next_u64());
/// ```
#[diagnostic::on_unimplemented(
    message = "no random source for the backoff's jitter: `{Self}` is not a `RngSource`",
    label = "call `.rng(..)` or `.seed(..)` before this",
    note = "without tenace's `std` feature there is no default seed: devices that share one retry in lockstep; pass a hardware RNG with `.rng(rng)` or a per-device seed with `.seed(seed)`"
)]
pub trait RngSource {
    /// The generator a call draws from.
    type Rng: Rng;
    /// Makes the generator, once per call.
    fn into_rng(self) -> Self::Rng;
}

/// A random source the caller supplied; see [`Retry::rng`](super::Retry::rng).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseRng<R>(pub R);

impl<R: Rng> RngSource for UseRng<R> {
    type Rng = R;
    fn into_rng(self) -> R {
        self.0
    }
}

/// No random source chosen: a closure API call with this does not compile
/// until [`Retry::rng`](super::Retry::rng) or
/// [`Retry::seed`](super::Retry::seed) names one.
///
/// Without the `std` feature (on embassy, say), forgetting the seed is an
/// error that says "no random source for the backoff's jitter":
///
#[cfg_attr(not(feature = "std"), doc = "```compile_fail,E0277")]
#[cfg_attr(feature = "std", doc = "```ignore")]
/// use core::time::Duration;
/// use tenace::{FixedDelay, Retryable};
/// # let clock = tenace::testing::MockClock::new();
/// async fn ping() -> Result<(), ()> { Ok(()) }
/// let call = ping.retry(FixedDelay::new(Duration::from_secs(1))).clock(&clock).call();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoRng;

/// A fresh stream per call from [`SeededRng::from_entropy`] (feature `std`).
///
/// ```
/// use rand_core::Rng;
/// use tenace::func::{Entropy, RngSource};
/// let (mut a, mut b) = (Entropy.into_rng(), Entropy.into_rng());
/// assert_ne!(a.next_u64(), b.next_u64());
/// ```
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entropy;

#[cfg(feature = "std")]
impl RngSource for Entropy {
    type Rng = SeededRng;
    fn into_rng(self) -> SeededRng {
        SeededRng::from_entropy()
    }
}

/// The random source a call uses unless told otherwise: [`Entropy`] under
/// the `std` feature, else [`NoRng`] (none: the call must name one).
#[cfg(feature = "std")]
pub type DefaultRng = Entropy;
/// The random source a call uses unless told otherwise: `Entropy` under
/// the `std` feature, else [`NoRng`] (none: the call must name one).
#[cfg(not(feature = "std"))]
pub type DefaultRng = NoRng;

/// No clock chosen: a closure API call with this does not compile until
/// [`Retry::clock`](super::Retry::clock) names one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoClock;

/// The async closure API's clock unless told otherwise:
/// [`TokioClock`](crate::TokioClock) under `tokio`, else `EmbassyClock`
/// under `embassy-time`, else
/// [`NoClock`] (none: the call must name one). A library that must run on
/// embassy whatever else its users enable names `.clock(EmbassyClock)`.
#[cfg(feature = "tokio")]
pub type DefaultClock = crate::runtime::TokioClock;
/// The async closure API's clock unless told otherwise:
/// `TokioClock` under `tokio`, else [`EmbassyClock`](crate::EmbassyClock)
/// under `embassy-time`, else
/// [`NoClock`] (none: the call must name one). A library that must run on
/// embassy whatever else its users enable names `.clock(EmbassyClock)`.
#[cfg(all(feature = "embassy-time", not(feature = "tokio")))]
pub type DefaultClock = crate::runtime::EmbassyClock;
/// The async closure API's clock unless told otherwise: `TokioClock` under
/// `tokio`, else `EmbassyClock` under `embassy-time`, else [`NoClock`]
/// (none: the call must name one).
#[cfg(not(any(feature = "tokio", feature = "embassy-time")))]
pub type DefaultClock = NoClock;

/// The blocking closure API's clock unless told otherwise:
/// [`StdClock`](crate::StdClock) under `std`, else [`NoClock`].
#[cfg(feature = "std")]
pub type DefaultBlockingClock = crate::runtime::StdClock;
/// The blocking closure API's clock unless told otherwise: `StdClock` under
/// `std`, else [`NoClock`] (none: the call must name one).
#[cfg(not(feature = "std"))]
pub type DefaultBlockingClock = NoClock;
