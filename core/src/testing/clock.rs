use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use heapless::Vec;

use crate::time::Instant;
use crate::transport::{BlockingClock, Clock};

/// How many sleeps a [`MockClock`] records; later ones are counted in
/// [`MockClock::dropped_records`] but not stored.
const RECORDS: usize = 64;

/// One sleep a [`MockClock`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SleepRecord {
    /// When the sleep started.
    pub at: Instant,
    /// How long it was.
    pub duration: Duration,
}

/// Virtual time: nothing waits on real time, so an hour of backoff runs in
/// microseconds, and every sleep is recorded.
///
/// A sleep ends as soon as virtual time reaches its end (something else,
/// such as a [`Step::after`](super::Step::after) latency, advanced the
/// clock), or when it has been polled [`MockClock::PATIENCE`] times while
/// virtual time stood still: then the world is idle and the clock jumps to
/// the sleep's end, as tokio's paused clock auto-advances. So a per-attempt
/// timeout raced against an attempt that is still making progress (yielding
/// and waking itself) does not fire early, and one raced against a hanging
/// attempt does. When several sleeps wait side by side (a hedged call's
/// copies and timers), the jump goes to the earliest end among them, so
/// they end in the order of their ends, as on a real clock.
///
/// ```
/// # use core::time::Duration;
/// use tenace::Clock;
/// use tenace::testing::MockClock;
/// let clock = MockClock::new();
/// embassy_futures::block_on(clock.sleep(Duration::from_secs(3600)));
/// assert_eq!(clock.now().as_duration(), Duration::from_secs(3600));
/// assert_eq!(clock.sleeps().as_slice(), [Duration::from_secs(3600)]);
/// ```
#[derive(Debug, Default)]
pub struct MockClock {
    now: Cell<u64>,
    records: RefCell<Vec<SleepRecord, RECORDS>>,
    dropped: Cell<usize>,
    /// The earliest end of the sleeps polled while time stood at `.0`
    /// (nanoseconds): `(time, end)`.
    earliest: Cell<(u64, u64)>,
}

impl MockClock {
    /// Polls a sleep waits, with virtual time standing still, before it
    /// decides the world is idle and jumps the clock to its end.
    pub const PATIENCE: u32 = 32;

    /// A clock at its epoch, [`Instant::ZERO`].
    pub const fn new() -> Self {
        Self {
            now: Cell::new(0),
            records: RefCell::new(Vec::new()),
            dropped: Cell::new(0),
            earliest: Cell::new((0, u64::MAX)),
        }
    }

    /// Moves time forward by `d` without recording a sleep (a transport's
    /// latency, the world moving on).
    pub fn advance(&self, d: Duration) {
        self.now.set(
            Instant::from_nanos(self.now.get())
                .saturating_add(d)
                .as_nanos(),
        );
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(self.now.get())
    }

    /// The durations of the recorded sleeps, in order.
    pub fn sleeps(&self) -> Vec<Duration, RECORDS> {
        self.records.borrow().iter().map(|r| r.duration).collect()
    }

    /// The recorded sleeps with their start times.
    pub fn records(&self) -> Vec<SleepRecord, RECORDS> {
        self.records.borrow().clone()
    }

    /// Total time slept.
    pub fn total_slept(&self) -> Duration {
        self.records.borrow().iter().map(|r| r.duration).sum()
    }

    /// Sleeps that happened after the record was full.
    pub fn dropped_records(&self) -> usize {
        self.dropped.get()
    }

    fn record(&self, at: Instant, duration: Duration) {
        if self
            .records
            .borrow_mut()
            .push(SleepRecord { at, duration })
            .is_err()
        {
            self.dropped.set(self.dropped.get() + 1);
        }
    }

    /// Notes a pending sleep ending at `end` while time is `now`; returns
    /// the earliest end noted at this time.
    fn note_end(&self, now: Instant, end: Instant) -> Instant {
        let (at, earliest) = self.earliest.get();
        let earliest = if at == now.as_nanos() {
            earliest.min(end.as_nanos())
        } else {
            end.as_nanos()
        };
        self.earliest.set((now.as_nanos(), earliest));
        Instant::from_nanos(earliest)
    }

    fn record_and_advance(&self, duration: Duration) {
        self.record(self.now(), duration);
        self.advance(duration);
    }
}

/// The future of [`MockClock`]'s `sleep`.
struct MockSleep<'a> {
    clock: &'a MockClock,
    duration: Duration,
    start: Option<Instant>,
    idle_polls: u32,
    last_seen: Instant,
}

impl Future for MockSleep<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let now = this.clock.now();
        let start = *this.start.get_or_insert(now);
        let end = start.saturating_add(this.duration);
        if now >= end && this.idle_polls > 0 {
            // Something else moved virtual time past our end.
            this.clock.record(start, this.duration);
            return Poll::Ready(());
        }
        if now != this.last_seen {
            this.idle_polls = 0;
            this.last_seen = now;
        }
        this.idle_polls += 1;
        let earliest = this.clock.note_end(now, end);
        if this.idle_polls > MockClock::PATIENCE && earliest < end {
            // Idle, but another sleep ends first: jump to its end, and
            // wait on.
            this.clock.advance(earliest.saturating_duration_since(now));
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if this.idle_polls > MockClock::PATIENCE {
            // Idle: jump to our end.
            this.clock.record(start, this.duration);
            this.clock.advance(end.saturating_duration_since(now));
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Clock for MockClock {
    fn now(&self) -> Instant {
        Self::now(self)
    }

    async fn sleep(&self, duration: Duration) {
        MockSleep {
            clock: self,
            duration,
            start: None,
            idle_polls: 0,
            last_seen: self.now(),
        }
        .await
    }
}

impl BlockingClock for MockClock {
    fn now(&self) -> Instant {
        Self::now(self)
    }

    fn sleep(&self, duration: Duration) {
        self.record_and_advance(duration);
    }
}
