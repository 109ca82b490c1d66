//! The blocking clock of `std`, and entropy for the default random source.

use core::time::Duration;

use std::sync::OnceLock;
use std::time::SystemTime;

use portable_atomic::{AtomicU64, Ordering};

use crate::rng::SeededRng;
use crate::time::Instant;
use crate::transport::BlockingClock;

/// A [`BlockingClock`] over [`std::time::Instant`] and
/// [`std::thread::sleep`]: the blocking closure API's default clock under
/// the `std` feature.
///
/// `now()` counts from the moment the clock was made.
///
/// ```
/// use core::time::Duration;
/// use tenace::{BlockingClock, StdClock};
///
/// let clock = StdClock::new();
/// clock.sleep(Duration::from_millis(2));
/// assert!(clock.now().as_duration() >= Duration::from_millis(2));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StdClock {
    epoch: std::time::Instant,
}

impl StdClock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        Self {
            epoch: std::time::Instant::now(),
        }
    }
}

impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockingClock for StdClock {
    fn now(&self) -> Instant {
        Instant::from_duration(self.epoch.elapsed())
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// SplitMix64's increment: one step of the generator.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SeededRng {
    /// A generator on a stream of its own, for one call: no two calls of a
    /// process, and (with overwhelming likelihood) no two processes or
    /// devices, jitter alike.
    ///
    /// The process draws one base seed, the wall-clock time, the process id
    /// and the address of a static mixed through SplitMix64; call `n` of the process starts `n × 2³²`
    /// steps further along the same SplitMix64 sequence, so the streams of
    /// the first 2³² calls do not overlap within their first 2³² draws (a
    /// call draws one number per retry).
    ///
    /// ```
    /// use rand_core::Rng;
    /// let (mut a, mut b) = (tenace::SeededRng::from_entropy(), tenace::SeededRng::from_entropy());
    /// assert_ne!(a.next_u64(), b.next_u64());
    /// ```
    pub fn from_entropy() -> Self {
        static BASE: OnceLock<u64> = OnceLock::new();
        static CALLS: AtomicU64 = AtomicU64::new(0);
        let base = *BASE.get_or_init(|| {
            let time = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, crate::time::duration_to_nanos);
            let pid = u64::from(std::process::id());
            // The address of a static, which address-space randomisation
            // moves: two processes started in the same nanosecond with the
            // same pid (containers) still differ in it.
            let local = &raw const BASE as u64;
            mix(mix(time) ^ pid.rotate_left(32) ^ mix(local))
        });
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        Self::new(base.wrapping_add(n.wrapping_mul(GAMMA << 32)))
    }
}

/// One SplitMix64 output for `z`.
const fn mix(z: u64) -> u64 {
    let z = z.wrapping_add(GAMMA);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_spaced_apart() {
        let a = SeededRng::from_entropy();
        let b = SeededRng::from_entropy();
        assert_ne!(a, b);
        let mut probe = a.clone();
        // b starts 2^32 steps (or a multiple) after a on the same sequence:
        // the first thousand draws of a never meet b's start.
        let mut b0 = b.clone();
        let first_b = rand_core::Rng::next_u64(&mut b0);
        for _ in 0..1000 {
            assert_ne!(rand_core::Rng::next_u64(&mut probe), first_b);
        }
    }
}
