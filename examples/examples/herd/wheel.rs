//! The outage model's event queue: a timing wheel of ~1 ms buckets
//! covering the next ~4.3 s, and a list for later events, swept into the
//! wheel every ~2.1 s. The bucket being drained is sorted once (latest
//! first, so the next event is a `pop` from the end), and an event
//! scheduled into it is inserted in place. Events come out in exact (time,
//! insertion) order, at O(1) amortised cost per event plus one small sort
//! per bucket, with no allocation once the buckets have grown.

/// Bucket width: 2^20 ns, about 1.05 ms.
const SHIFT: u32 = 20;
/// Buckets in the wheel: 4096, about 4.3 s.
const NEAR: u64 = 1 << 12;

/// An event: when, in insertion order among equal times, and a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Event {
    pub(crate) at: u64,
    seq: u64,
    pub(crate) id: u32,
    pub(crate) kind: u8,
}

/// Events keyed by time in nanoseconds; see the module docs.
#[derive(Debug)]
pub(crate) struct Wheel {
    buckets: Vec<Vec<Event>>,
    /// The bucket being drained (absolute index).
    current: u64,
    /// The current bucket's events, latest first.
    draining: Vec<Event>,
    /// Events at least `NEAR` buckets ahead when they were pushed.
    far: Vec<Event>,
    /// When to move the events of `far` that came within reach.
    next_sweep: u64,
    len: usize,
    seq: u64,
}

impl Default for Wheel {
    fn default() -> Self {
        Self::new()
    }
}

impl Wheel {
    /// An empty queue at time zero.
    pub(crate) fn new() -> Self {
        Self {
            buckets: (0..NEAR).map(|_| Vec::new()).collect(),
            current: 0,
            draining: Vec::new(),
            far: Vec::new(),
            next_sweep: NEAR / 2,
            len: 0,
            seq: 0,
        }
    }

    /// Schedules an event at `at`, which must not be before the last event
    /// popped.
    pub(crate) fn push(&mut self, at: u64, id: u32, kind: u8) {
        self.seq += 1;
        let event = Event {
            at,
            seq: self.seq,
            id,
            kind,
        };
        let bucket = at >> SHIFT;
        assert!(bucket >= self.current, "event scheduled in the past");
        if bucket == self.current {
            // Usually the earliest left, so the insert shifts little.
            let at = self.draining.partition_point(|e| *e > event);
            self.draining.insert(at, event);
        } else if bucket - self.current < NEAR {
            self.buckets[(bucket % NEAR) as usize].push(event);
        } else {
            self.far.push(event);
        }
        self.len += 1;
    }

    /// The earliest event, or `None` when none is left.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.draining.pop() {
                self.len -= 1;
                return Some(event);
            }
            if self.len == 0 {
                return None;
            }
            self.current += 1;
            if self.current >= self.next_sweep {
                self.sweep();
            }
            // Swap the bucket in: both vectors keep their capacity.
            let bucket = &mut self.buckets[(self.current % NEAR) as usize];
            core::mem::swap(&mut self.draining, bucket);
            self.draining.sort_unstable_by(|a, b| b.cmp(a));
        }
    }

    /// Moves the far events now less than `NEAR` buckets ahead into the
    /// wheel. Runs every `NEAR / 2` buckets, so a far event (pushed at
    /// least `NEAR` ahead) is always moved before its bucket comes up.
    fn sweep(&mut self) {
        let (current, buckets) = (self.current, &mut self.buckets);
        self.far.retain(|e| {
            let bucket = e.at >> SHIFT;
            if bucket - current < NEAR {
                buckets[(bucket % NEAR) as usize].push(*e);
                false
            } else {
                true
            }
        });
        self.next_sweep = current + NEAR / 2;
    }
}
