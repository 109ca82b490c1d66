//! The jitter seed of each call, for the client and the tower layer.

use core::sync::atomic::{AtomicU64, Ordering};

use tenace::SeededRng;
use tenace::rand_core::Rng as _;

/// Hands each call the generator for its jitter.
///
/// Call `k` (from 0) is seeded with the `k + 1`-th output of
/// `SeededRng::new(base)`: the counter steps as SplitMix's own state does,
/// and each step goes through SplitMix's mixing function before it seeds a
/// call. Seeding call `k` with `base + k × step` instead would make call
/// `k + 1`'s stream call `k`'s shifted by one draw.
pub(crate) struct CallSeeds(AtomicU64);

impl CallSeeds {
    /// SplitMix64's increment (the golden ratio in 64 bits).
    const STEP: u64 = 0x9E37_79B9_7F4A_7C15;

    pub(crate) const fn new(base: u64) -> Self {
        Self(AtomicU64::new(base))
    }

    /// The next call's generator.
    pub(crate) fn next(&self) -> SeededRng {
        let state = self.0.fetch_add(Self::STEP, Ordering::Relaxed);
        // `SeededRng::new(state)`'s first output is SplitMix's mix of
        // `state + STEP`, the counter's next value.
        SeededRng::new(SeededRng::new(state).next_u64())
    }
}

/// A seed that differs between clients and processes: time mixed with a
/// process-wide counter. Jitter only has to decorrelate clients.
pub(crate) fn fresh_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    nanos ^ n.wrapping_mul(CallSeeds::STEP).rotate_left(29) ^ u64::from(std::process::id()) << 32
}
