use core::cell::{Cell, RefCell};
use core::time::Duration;

use heapless::Vec;

use super::YieldOnce;
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

/// Virtual time: `sleep` advances the clock by its duration (after one
/// yield, so it is a real await point) and records it. Nothing waits on
/// real time, so an hour of backoff runs in microseconds.
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
}

impl MockClock {
    /// A clock at its epoch, [`Instant::ZERO`].
    pub const fn new() -> Self {
        Self {
            now: Cell::new(0),
            records: RefCell::new(Vec::new()),
            dropped: Cell::new(0),
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

    fn record(&self, duration: Duration) {
        let at = self.now();
        if self
            .records
            .borrow_mut()
            .push(SleepRecord { at, duration })
            .is_err()
        {
            self.dropped.set(self.dropped.get() + 1);
        }
        self.advance(duration);
    }
}

impl Clock for MockClock {
    fn now(&self) -> Instant {
        Self::now(self)
    }

    async fn sleep(&self, duration: Duration) {
        // Yield first: a future dropped here has not slept.
        YieldOnce::default().await;
        self.record(duration);
    }
}

impl BlockingClock for MockClock {
    fn now(&self) -> Instant {
        Self::now(self)
    }

    fn sleep(&self, duration: Duration) {
        self.record(duration);
    }
}
