//! Where a client's jitter comes from: a seed that must be given, and one
//! generator per call.
//!
//! Jitter exists to spread the retries of many devices; devices that share
//! a seed draw the same delays and retry in lockstep, which is what jitter
//! was meant to prevent. A silent default seed would give exactly that to
//! every fleet that forgot to set one, so [`Client::builder`](crate::Client::builder)
//! takes a [`SeedSource`] as a required argument: a `u64` (read from the
//! hardware RNG at boot, or a per-device value) or a `rand_core` generator
//! to draw one from.
//!
//! Each call then gets a generator of its own, seeded with a hash of the
//! client's seed and the call's number. Hashing (rather than drawing each
//! call's seed from one running generator) keeps the streams apart: two
//! clients whose seeds are one generator step apart do not end up with
//! shifted copies of the same call seeds, and consecutive calls of one
//! client start at unrelated points of the generator's cycle.

use core::cell::Cell;

use tenace::SeededRng;
use tenace::rand_core::Rng;

/// A source for a client's jitter seed, a required argument of
/// [`Client::builder`](crate::Client::builder): devices that share a seed
/// draw the same delays and retry in lockstep, so there is no default. Each
/// call of the client then gets a generator of its own, seeded with a hash
/// of this seed and the call's number.
///
/// Implemented for a `u64` seed and for any `rand_core` 0.10 generator
/// (`&mut rng`), which gives one `u64`. A hardware RNG implementing another
/// `rand_core` version passes `rng.next_u64()`, or implements this trait.
///
/// ```
/// use tenace_embedded::SeedSource;
///
/// /// A device's serial number mixed with a boot counter.
/// struct DeviceSeed { serial: u32, boots: u32 }
///
/// impl SeedSource for DeviceSeed {
///     fn into_seed(self) -> u64 {
///         (u64::from(self.serial) << 32) | u64::from(self.boots)
///     }
/// }
/// assert_eq!(DeviceSeed { serial: 1, boots: 2 }.into_seed(), 0x1_0000_0002);
/// assert_eq!(7u64.into_seed(), 7);
/// ```
pub trait SeedSource {
    /// The seed.
    fn into_seed(self) -> u64;
}

impl SeedSource for u64 {
    fn into_seed(self) -> u64 {
        self
    }
}

impl<R: Rng + ?Sized> SeedSource for &mut R {
    fn into_seed(self) -> u64 {
        self.next_u64()
    }
}

/// SplitMix64's output function: a bijective 64-bit mixer.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of call number `call` of a client seeded with `seed`.
const fn call_seed(seed: u64, call: u64) -> u64 {
    // The call number is mixed on its own first, so seeds that differ by a
    // constant (one generator step, one serial number) do not map calls
    // onto each other; the second round mixes in the client's seed.
    mix(seed ^ mix(call.wrapping_add(0x9E37_79B9_7F4A_7C15)))
}

/// The client's seed and how many calls have drawn a generator from it.
#[derive(Debug)]
pub(crate) struct CallSeeds {
    seed: u64,
    calls: Cell<u64>,
}

impl CallSeeds {
    pub(crate) const fn new(seed: u64) -> Self {
        Self {
            seed,
            calls: Cell::new(0),
        }
    }

    /// A generator for the next call.
    pub(crate) fn next_call(&self) -> SeededRng {
        let call = self.calls.get();
        self.calls.set(call.wrapping_add(1));
        SeededRng::new(call_seed(self.seed, call))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::vec::Vec;

    use super::*;

    /// The first `n` outputs of call `call`'s generator.
    fn stream(seed: u64, call: u64, n: usize) -> Vec<u64> {
        let mut rng = SeededRng::new(call_seed(seed, call));
        (0..n).map(|_| rng.next_u64()).collect()
    }

    #[test]
    fn calls_get_their_own_streams() {
        let seeds = CallSeeds::new(42);
        let a = seeds.next_call().next_u64();
        let b = seeds.next_call().next_u64();
        assert_ne!(a, b);
        // No output of one call's first 1 000 appears among another's, over
        // 64 calls.
        let mut seen = HashSet::new();
        for call in 0..64 {
            for v in stream(42, call, 1_000) {
                assert!(seen.insert(v), "call {call} repeats an output");
            }
        }
    }

    #[test]
    fn seeds_one_step_apart_do_not_share_calls() {
        // Drawing call seeds from one running SplitMix would make a client
        // seeded `s + γ` replay the calls of a client seeded `s`, shifted by
        // one call. Hashed call numbers do not.
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut first: HashSet<u64> = HashSet::new();
        for call in 0..256 {
            first.insert(call_seed(7, call));
        }
        for call in 0..256 {
            assert!(!first.contains(&call_seed(7u64.wrapping_add(GAMMA), call)));
            assert!(!first.contains(&call_seed(8, call)));
        }
    }

    #[test]
    fn sources() {
        assert_eq!(5u64.into_seed(), 5);
        let mut rng = SeededRng::new(1);
        let expected = SeededRng::new(1).next_u64();
        assert_eq!((&mut rng).into_seed(), expected);
    }
}
