//! The radio's weather, applied by the driver to every frame: a seeded
//! frame-loss schedule (steady loss, and bursts that drop several frames in
//! a row) and periods where the link is down.
//!
//! Tests set a [`Plan`] or take the link down; the driver asks [`pass`]
//! for each frame it would carry. The schedule draws from its own
//! xorshift generator, so a seed gives the same pattern of losses over the
//! same sequence of frames.

use core::cell::RefCell;

use critical_section::Mutex;
use embassy_time::{Duration, Instant};

/// A loss schedule: each frame is lost with probability `steady` (per
/// mille); with probability `burst_start` (per mille) a burst begins that
/// loses that frame and the `burst_len - 1` after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Steady loss, per mille.
    pub(crate) steady: u32,
    /// Chance that a burst starts at a frame, per mille.
    pub(crate) burst_start: u32,
    /// Frames a burst loses.
    pub(crate) burst_len: u32,
}

/// What the driver carried and lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Frames carried, both ways.
    pub(crate) carried: u32,
    /// Frames lost to steady loss.
    pub(crate) lost_steady: u32,
    /// Frames lost in bursts.
    pub(crate) lost_burst: u32,
    /// Bursts started.
    pub(crate) bursts: u32,
    /// Frames dropped while the link was down.
    pub(crate) lost_link_down: u32,
}

struct State {
    plan: Plan,
    rng: u32,
    burst_left: u32,
    down_until: Option<Instant>,
    stats: Stats,
}

static STATE: Mutex<RefCell<State>> = Mutex::new(RefCell::new(State {
    plan: Plan {
        steady: 0,
        burst_start: 0,
        burst_len: 0,
    },
    rng: 1,
    burst_left: 0,
    down_until: None,
    stats: Stats {
        carried: 0,
        lost_steady: 0,
        lost_burst: 0,
        bursts: 0,
        lost_link_down: 0,
    },
}));

/// xorshift32: small, and enough for a loss pattern.
fn next(rng: &mut u32) -> u32 {
    let mut x = *rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *rng = x;
    x
}

/// Starts a loss schedule from `seed` (zero is replaced: xorshift would
/// stay at zero) and clears the statistics.
pub(crate) fn set_plan(seed: u32, plan: Plan) {
    critical_section::with(|cs| {
        let mut s = STATE.borrow_ref_mut(cs);
        s.plan = plan;
        s.rng = if seed == 0 { 0x9e37_79b9 } else { seed };
        s.burst_left = 0;
        s.stats = Stats::default();
    });
}

/// A clean radio: no loss, link up, statistics cleared.
pub(crate) fn clear() {
    set_plan(1, Plan::default());
    critical_section::with(|cs| STATE.borrow_ref_mut(cs).down_until = None);
}

/// What was carried and lost since the last [`set_plan`] or [`clear`].
pub(crate) fn stats() -> Stats {
    critical_section::with(|cs| STATE.borrow_ref(cs).stats)
}

/// Takes the link down now, for `period`.
pub(crate) fn link_down_for(period: Duration) {
    let until = Instant::now() + period;
    critical_section::with(|cs| STATE.borrow_ref_mut(cs).down_until = Some(until));
}

/// When the last down period ends (or ended), if one was set since the
/// last [`clear`].
pub(crate) fn link_returns_at() -> Option<Instant> {
    critical_section::with(|cs| STATE.borrow_ref(cs).down_until)
}

/// Whether the link is up (no down period running).
pub(crate) fn link_is_up() -> bool {
    critical_section::with(|cs| {
        let s = STATE.borrow_ref(cs);
        s.down_until.is_none_or(|until| Instant::now() >= until)
    })
}

/// Whether the frame the driver is about to carry (either way) gets
/// through; counts it either way.
pub(crate) fn pass() -> bool {
    let up = link_is_up();
    critical_section::with(|cs| {
        let mut guard = STATE.borrow_ref_mut(cs);
        let s = &mut *guard;
        if !up {
            s.stats.lost_link_down += 1;
            return false;
        }
        if s.burst_left > 0 {
            s.burst_left -= 1;
            s.stats.lost_burst += 1;
            return false;
        }
        if s.plan.burst_start > 0 && next(&mut s.rng) % 1000 < s.plan.burst_start {
            s.burst_left = s.plan.burst_len.saturating_sub(1);
            s.stats.bursts += 1;
            s.stats.lost_burst += 1;
            return false;
        }
        if s.plan.steady > 0 && next(&mut s.rng) % 1000 < s.plan.steady {
            s.stats.lost_steady += 1;
            return false;
        }
        s.stats.carried += 1;
        true
    })
}
