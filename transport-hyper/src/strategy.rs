//! Any [`RetryStrategy`] behind one type, so the client and the tower layer
//! take a user's own strategy without a type parameter.
//!
//! A built-in strategy is kept as a [`Backoff`] (copied, no allocation); any
//! other is kept behind an `Arc` and boxed afresh for each call that fails,
//! so per-call state (the previous delay of a decorrelated jitter) lives in
//! that call's own copy and concurrent calls never share it.

use core::any::Any;
use core::convert::Infallible;
use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use tenace::rand_core::{Rng, TryRng};
use tenace::{
    Backoff, DecorrelatedJitter, ExponentialBackoff, FixedDelay, JitterBackoff, LinearBackoff,
    RetryStrategy,
};

/// The object-safe face of a [`RetryStrategy`]: randomness comes as a
/// `dyn Rng`, and a copy is made through a box.
pub(crate) trait DynStrategy: Send + Sync {
    fn delay_dyn(&mut self, attempt: u32, rng: &mut dyn Rng) -> Duration;
    fn max_delay_dyn(&self) -> Duration;
    fn clone_box(&self) -> Box<dyn DynStrategy>;
    fn type_name(&self) -> &'static str;
}

impl<S: RetryStrategy + Clone + Send + Sync + 'static> DynStrategy for S {
    fn delay_dyn(&mut self, attempt: u32, rng: &mut dyn Rng) -> Duration {
        self.delay(attempt, rng)
    }
    fn max_delay_dyn(&self) -> Duration {
        self.max_delay()
    }
    fn clone_box(&self) -> Box<dyn DynStrategy> {
        Box::new(self.clone())
    }
    fn type_name(&self) -> &'static str {
        core::any::type_name::<S>()
    }
}

/// A strategy as the client, a request or the tower layer stores it.
#[derive(Clone)]
pub(crate) enum StoredStrategy {
    /// One of tenace's strategies, copied into each call.
    Builtin(Backoff),
    /// A user's strategy, copied into a box by each call that fails.
    Custom(Arc<dyn DynStrategy>),
}

impl StoredStrategy {
    /// Keeps a built-in strategy as a [`Backoff`] and anything else behind
    /// an `Arc`.
    pub(crate) fn new<S: RetryStrategy + Clone + Send + Sync + 'static>(strategy: S) -> Self {
        let any: &dyn Any = &strategy;
        let builtin = any
            .downcast_ref::<Backoff>()
            .copied()
            .or_else(|| any.downcast_ref::<ExponentialBackoff>().map(|&s| s.into()))
            .or_else(|| any.downcast_ref::<FixedDelay>().map(|&s| s.into()))
            .or_else(|| any.downcast_ref::<LinearBackoff>().map(|&s| s.into()))
            .or_else(|| any.downcast_ref::<JitterBackoff>().map(|&s| s.into()))
            .or_else(|| any.downcast_ref::<DecorrelatedJitter>().map(|&s| s.into()));
        match builtin {
            Some(b) => Self::Builtin(b),
            None => Self::Custom(Arc::new(strategy)),
        }
    }

    /// The strategy one call starts from, borrowing a custom one until the
    /// call first needs a delay.
    pub(crate) fn for_call(&self) -> CallStrategy<'_> {
        match self {
            Self::Builtin(b) => CallStrategy::Builtin(*b),
            Self::Custom(s) => CallStrategy::Shared(&**s),
        }
    }
}

impl Default for StoredStrategy {
    fn default() -> Self {
        Self::Builtin(Backoff::default())
    }
}

impl fmt::Debug for StoredStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin(b) => b.fmt(f),
            Self::Custom(s) => f.write_str(s.type_name()),
        }
    }
}

/// The strategy of one call, as its policy holds it.
///
/// Cloning a `Shared` strategy (the driver clones the policy's strategy at
/// a call's first failure) boxes a copy of it: that copy is the call's own
/// state.
pub(crate) enum CallStrategy<'a> {
    Builtin(Backoff),
    Shared(&'a dyn DynStrategy),
    Owned(Box<dyn DynStrategy>),
}

impl Clone for CallStrategy<'_> {
    fn clone(&self) -> Self {
        match self {
            Self::Builtin(b) => Self::Builtin(*b),
            Self::Shared(s) => Self::Owned(s.clone_box()),
            Self::Owned(s) => Self::Owned(s.clone_box()),
        }
    }
}

impl fmt::Debug for CallStrategy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin(b) => b.fmt(f),
            Self::Shared(s) => f.write_str(s.type_name()),
            Self::Owned(s) => f.write_str(s.type_name()),
        }
    }
}

impl RetryStrategy for CallStrategy<'_> {
    fn delay<R: Rng + ?Sized>(&mut self, attempt: u32, rng: &mut R) -> Duration {
        match self {
            Self::Builtin(b) => b.delay(attempt, rng),
            Self::Owned(s) => s.delay_dyn(attempt, &mut RngRef(rng)),
            Self::Shared(s) => {
                // State is never written through the shared configuration:
                // a copy is made and kept from here on.
                let mut own = s.clone_box();
                let delay = own.delay_dyn(attempt, &mut RngRef(rng));
                *self = Self::Owned(own);
                delay
            }
        }
    }

    fn max_delay(&self) -> Duration {
        match self {
            Self::Builtin(b) => b.max_delay(),
            Self::Shared(s) => s.max_delay_dyn(),
            Self::Owned(s) => s.max_delay_dyn(),
        }
    }
}

/// Any `Rng`, sized, so it coerces to `dyn Rng` (a `?Sized` one cannot).
struct RngRef<'a, R: ?Sized>(&'a mut R);

impl<R: Rng + ?Sized> TryRng for RngRef<'_, R> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.next_u32())
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tenace::SeededRng;

    use super::*;

    /// Counts its calls: its state must never leak from one call's copy
    /// into the configuration.
    #[derive(Clone)]
    struct Counting(u32);

    impl RetryStrategy for Counting {
        fn delay<R: Rng + ?Sized>(&mut self, _attempt: u32, rng: &mut R) -> Duration {
            self.0 += 1;
            Duration::from_nanos(u64::from(self.0) * 1000 + rng.next_u64() % 1000)
        }
        fn max_delay(&self) -> Duration {
            Duration::from_secs(1)
        }
    }

    #[test]
    fn builtins_are_kept_as_backoff() {
        let fixed = FixedDelay::new(Duration::from_millis(5));
        assert!(
            matches!(StoredStrategy::new(fixed), StoredStrategy::Builtin(Backoff::Fixed(f)) if f == fixed)
        );
        let b = Backoff::default();
        assert!(matches!(StoredStrategy::new(b), StoredStrategy::Builtin(x) if x == b));
        assert!(matches!(
            StoredStrategy::new(Counting(0)),
            StoredStrategy::Custom(_)
        ));
    }

    #[test]
    fn each_call_copies_a_custom_strategy() {
        let stored = StoredStrategy::new(Counting(0));
        let config = stored.for_call();
        let mut rng = SeededRng::new(1);
        let mut expected_rng = SeededRng::new(1);
        for _ in 0..2 {
            // As the driver does: a clone per call.
            let mut call = config.clone();
            let first = call.delay(1, &mut rng);
            let second = call.delay(2, &mut rng);
            assert_eq!(first.as_nanos() / 1000, 1, "state starts afresh");
            assert_eq!(second.as_nanos() / 1000, 2);
            assert_eq!(
                first.as_nanos() % 1000,
                u128::from(expected_rng.next_u64() % 1000),
                "the call's RNG is the one passed in"
            );
            let _ = expected_rng.next_u64();
        }
        // Asked directly, a shared strategy copies itself first.
        let mut direct = stored.for_call();
        assert_eq!(direct.delay(1, &mut rng).as_nanos() / 1000, 1);
        assert_eq!(
            stored.for_call().clone().delay(1, &mut rng).as_nanos() / 1000,
            1
        );
        assert_eq!(direct.max_delay(), Duration::from_secs(1));
    }
}
