//! The breaker's state: the phase it reports, and the packed word and
//! split times it keeps them in without a lock.

use portable_atomic::{AtomicU32, Ordering};

use crate::time::Instant;

/// The state a [`CircuitBreaker`](super::CircuitBreaker) reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BreakerState {
    /// Calls go through and their outcomes are recorded.
    Closed,
    /// Calls are refused. An open circuit whose break has elapsed still
    /// reports `Open` until the next call turns it half-open.
    Open,
    /// A probe may go through (or is in flight); other calls are refused.
    HalfOpen,
}

impl BreakerState {
    /// A short lowercase name, for logs and metrics labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
        }
    }
}

// The state word: phase in bits 0..2, the probe flag in bit 2, a
// generation (bumped on every change) above, so a compare-and-swap never
// mistakes a later state for the one it read.
pub(super) const CLOSED: u32 = 0;
pub(super) const OPEN: u32 = 1;
pub(super) const HALF_OPEN: u32 = 2;
/// Transient: one thread is writing the times; everyone else keeps off.
pub(super) const BUSY: u32 = 3;
const PHASE: u32 = 0b011;
pub(super) const PROBE: u32 = 0b100;
const GEN_ONE: u32 = 0b1000;

pub(super) const fn phase(word: u32) -> u32 {
    word & PHASE
}

/// `bits` (phase and probe flag) with the generation after `word`'s.
pub(super) const fn next(word: u32, bits: u32) -> u32 {
    ((word & !(PHASE | PROBE)).wrapping_add(GEN_ONE)) | bits
}

/// An [`Instant`] in two 32-bit atomics, for targets without 64-bit ones.
/// Written only by the thread holding the breaker's busy phase.
#[derive(Debug)]
pub(super) struct SplitInstant {
    hi: AtomicU32,
    lo: AtomicU32,
}

impl SplitInstant {
    pub(super) const fn new() -> Self {
        Self {
            hi: AtomicU32::new(0),
            lo: AtomicU32::new(0),
        }
    }

    pub(super) fn load(&self) -> Instant {
        let hi = u64::from(self.hi.load(Ordering::Relaxed));
        let lo = u64::from(self.lo.load(Ordering::Relaxed));
        Instant::from_nanos(hi << 32 | lo)
    }

    pub(super) fn store(&self, at: Instant) {
        let n = at.as_nanos();
        self.hi.store((n >> 32) as u32, Ordering::Relaxed);
        self.lo.store(n as u32, Ordering::Relaxed);
    }
}
