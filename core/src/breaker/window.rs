//! The window of recent calls: one failure bit per call in a ring of
//! 32-bit atomics, so recording a call takes no lock and no allocation.

use portable_atomic::{AtomicU32, Ordering};

use super::config::MAX_WINDOW;

const WORDS: usize = (MAX_WINDOW / 32) as usize;

/// The outcomes of the last `window` calls (at most [`MAX_WINDOW`]).
#[derive(Debug)]
pub(super) struct Window {
    /// Failures, one bit per slot of the ring.
    failures: [AtomicU32; WORDS],
    /// The ring's next slot (low 8 bits) and how many slots are filled
    /// (next 8 bits).
    cursor: AtomicU32,
}

impl Window {
    /// An empty window.
    pub(super) const fn new() -> Self {
        Self {
            failures: [const { AtomicU32::new(0) }; WORDS],
            cursor: AtomicU32::new(0),
        }
    }

    /// Calls recorded and failures among them.
    pub(super) fn counts(&self) -> (u32, u32) {
        let len = (self.cursor.load(Ordering::Acquire) >> 8) & 0xFF;
        let failed = self
            .failures
            .iter()
            .map(|w| w.load(Ordering::Relaxed).count_ones())
            .sum();
        (len, failed)
    }

    /// Records one call in a ring of `window` slots (1 to [`MAX_WINDOW`]):
    /// the slot's bit set for a failure, cleared for a success.
    pub(super) fn push(&self, failed: bool, window: u32) {
        let Ok(prev) = self
            .cursor
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                let (slot, len) = (c & 0xFF, (c >> 8) & 0xFF);
                let slot = if slot + 1 >= window { 0 } else { slot + 1 };
                Some(slot | (len + 1).min(window) << 8)
            })
        else {
            return;
        };
        let slot = prev & 0xFF;
        let (word, bit) = ((slot / 32) as usize, 1u32 << (slot % 32));
        if let Some(w) = self.failures.get(word) {
            if failed {
                w.fetch_or(bit, Ordering::AcqRel);
            } else {
                w.fetch_and(!bit, Ordering::AcqRel);
            }
        }
    }

    /// Forgets every call.
    pub(super) fn clear(&self) {
        for w in &self.failures {
            w.store(0, Ordering::Relaxed);
        }
        self.cursor.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_overwrites_the_oldest_call() {
        let w = Window::new();
        assert_eq!(w.counts(), (0, 0));
        for failed in [true, true, false] {
            w.push(failed, 3);
        }
        assert_eq!(w.counts(), (3, 2));
        // The fourth call takes the first slot: one failure gone.
        w.push(false, 3);
        assert_eq!(w.counts(), (3, 1));
        w.push(true, 3);
        assert_eq!(w.counts(), (3, 1));
        w.clear();
        assert_eq!(w.counts(), (0, 0));
    }

    #[test]
    fn widest_window_uses_every_word() {
        let w = Window::new();
        for _ in 0..MAX_WINDOW {
            w.push(true, MAX_WINDOW);
        }
        assert_eq!(w.counts(), (MAX_WINDOW, MAX_WINDOW));
        w.push(false, MAX_WINDOW);
        assert_eq!(w.counts(), (MAX_WINDOW, MAX_WINDOW - 1));
    }
}
