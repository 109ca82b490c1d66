//! The outage model: a fleet of clients sending requests at a steady rate
//! to a server with a fixed capacity, which goes down for a window and then
//! comes back.
//!
//! - Each client sends one request every `period`, from a random phase.
//! - The server serves requests first in, first out at `capacity` per
//!   second. A request that would wait more than `queue_limit` is refused
//!   at once with a 503 (load shedding). A request served after its
//!   client's attempt timeout is wasted work: the client saw a timeout.
//! - From `outage_start` to `outage_end` the server is down: every attempt
//!   fails with a refused connection.
//! - Each response reaches the client one `rtt` after the server is done.
//! - Every call is one of tenace's own [`RetryMachine`]s, on virtual time:
//!   it decides max retries, the per-attempt timeout and the strategy's
//!   delays, and it consults and tells the real [`RetryBudget`] and
//!   [`CircuitBreaker`] as middleware. The simulator only moves events.
//!
//! The model is event-driven on integer nanoseconds: the server's queue is
//! one number (when it will be free), so an attempt costs two events (its
//! send and its outcome) and no allocation.

use core::time::Duration;
use std::time::Instant as WallClock;

use tenace::{
    Backoff, BreakerConfig, CircuitBreaker, Decision, Failure, FailureKind, FixedDelay, Instant,
    NetworkErrors, Policy, Replay, RetryBudget, RetryMachine, SeededRng, StopReason,
};

use crate::rng::{mix, unit};
use crate::wheel::Wheel;

/// Statistics bin: 100 ms.
const BIN_NS: u64 = 100_000_000;
const BINS_PER_SEC: usize = 10;

/// The fleet, the server and the outage.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) clients: u32,
    pub(crate) period: Duration,
    pub(crate) capacity: u32,
    pub(crate) duration: Duration,
    pub(crate) outage_start: Duration,
    pub(crate) outage_end: Duration,
    pub(crate) rtt: Duration,
    pub(crate) timeout: Duration,
    pub(crate) queue_limit: Duration,
    pub(crate) max_retries: u32,
    pub(crate) base: Duration,
    pub(crate) cap: Duration,
    pub(crate) clients_per_host: u32,
    pub(crate) budget_tokens: u32,
    /// The budget's refund per success, as (numerator, denominator).
    pub(crate) budget_ratio: (u32, u32),
    pub(crate) breaker: BreakerConfig,
    pub(crate) seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        Self {
            clients: 100_000,
            period: s(10),
            capacity: 12_000,
            duration: s(300),
            outage_start: s(60),
            outage_end: s(120),
            rtt: ms(10),
            timeout: s(1),
            queue_limit: s(2),
            max_retries: 5,
            base: ms(100),
            cap: s(10),
            clients_per_host: 100,
            budget_tokens: 10,
            budget_ratio: (1, 10),
            breaker: BreakerConfig::new()
                .with_window(20)
                .with_min_calls(10)
                .with_failure_percent(50)
                .with_break_duration(s(5)),
            seed: 1,
        }
    }
}

/// What protects the server besides the backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    /// Retries limited by `max_retries` only.
    None,
    /// One retry budget per client.
    BudgetPerClient,
    /// One retry budget per host of `clients_per_host` clients (gRPC keeps
    /// one per channel, shared by every call on it).
    BudgetPerHost,
    /// A budget and a circuit breaker per host.
    BudgetAndBreaker,
}

impl Protection {
    pub(crate) const ALL: [Self; 4] = [
        Self::None,
        Self::BudgetPerClient,
        Self::BudgetPerHost,
        Self::BudgetAndBreaker,
    ];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::BudgetPerClient => "budget/client",
            Self::BudgetPerHost => "budget/host",
            Self::BudgetAndBreaker => "budget+breaker/host",
        }
    }
}

/// One simulation's measurements.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) strategy: &'static str,
    pub(crate) protection: &'static str,
    /// Attempts sent per 100 ms bin.
    sent: Vec<u64>,
    /// Calls started per bin (what clients without retries would send).
    started: Vec<u64>,
    /// Attempt outcomes per bin, by the time the attempt was sent.
    ok: Vec<u64>,
    failed: Vec<u64>,
    /// Calls an open circuit refused, by when they started.
    refused: Vec<u64>,
    /// Successful attempts by when the client got the response (goodput).
    done: Vec<u64>,
    pub(crate) attempts: u64,
    pub(crate) calls: u64,
    pub(crate) calls_failed: u64,
    pub(crate) refused_by_breaker: u64,
    pub(crate) refused_by_budget: u64,
    pub(crate) wasted: u64,
    pub(crate) events: u64,
    pub(crate) wall: Duration,
    /// CPU time of the run (Linux only), which a busy machine inflates
    /// less than wall time.
    pub(crate) cpu: Option<Duration>,
    outage_bins: (usize, usize),
    capacity: u32,
}

impl Report {
    /// Attempts sent during the outage ÷ calls started during it.
    pub(crate) fn amplification(&self) -> f64 {
        let (a, b) = self.outage_bins;
        let sent: u64 = self.sent[a..b].iter().sum();
        let started: u64 = self.started[a..b].iter().sum();
        sent as f64 / started.max(1) as f64
    }

    /// Attempts sent in each whole second.
    pub(crate) fn sent_per_second(&self) -> Vec<u64> {
        per_second(&self.sent)
    }

    /// Responses clients received in each whole second (goodput).
    pub(crate) fn goodput_per_second(&self) -> Vec<u64> {
        per_second(&self.done)
    }

    /// The busiest second during the outage and after it, as a multiple of
    /// the capacity.
    pub(crate) fn peaks(&self) -> (f64, f64) {
        let per_sec = self.sent_per_second();
        let (a, b) = (
            self.outage_bins.0 / BINS_PER_SEC,
            self.outage_bins.1 / BINS_PER_SEC,
        );
        let peak =
            |s: &[u64]| s.iter().copied().max().unwrap_or(0) as f64 / f64::from(self.capacity);
        (peak(&per_sec[a..b]), peak(&per_sec[b..]))
    }

    /// Time from the server's return until, in every later 100 ms bin, at
    /// most 1 % of the attempts sent fail or of the calls started are
    /// refused by an open circuit: when the clients see the server again.
    /// `None` if that never happens before the end.
    pub(crate) fn recovery(&self) -> Option<Duration> {
        let from = self.outage_bins.1;
        let healthy = |i: usize| {
            let bad = self.failed[i] + self.refused[i];
            bad * 100 <= self.ok[i] + bad
        };
        let last_bad = (from..self.ok.len()).rev().find(|&i| !healthy(i));
        match last_bad {
            None => Some(Duration::ZERO),
            Some(i) if i + 1 >= self.ok.len() => None,
            Some(i) => Some(Duration::from_millis((i + 1 - from) as u64 * 100)),
        }
    }
}

fn per_second(bins: &[u64]) -> Vec<u64> {
    bins.chunks(BINS_PER_SEC).map(|c| c.iter().sum()).collect()
}

const NEW_CALL: u8 = 0;
const RETRY: u8 = 1;
const OK: u8 = 2;
const REFUSED: u8 = 3;
const SHED: u8 = 4;
const TIMED_OUT: u8 = 5;

const fn failure_kind(code: u8) -> FailureKind {
    match code {
        REFUSED => FailureKind::Connect,
        SHED => FailureKind::Status(503),
        _ => FailureKind::Timeout,
    }
}

/// The protection of one client: its budget and its host's breaker, each
/// optional. The machine consults both (admission, veto) and tells both.
type Guards<'a> = (Option<&'a CircuitBreaker>, Option<&'a RetryBudget>);

/// One call in flight.
#[derive(Debug)]
struct Call<'a> {
    machine: RetryMachine<'a, Backoff, NetworkErrors, Guards<'a>>,
    /// When the attempt in flight was sent.
    sent: u64,
}

/// The server: when it will next be free.
#[derive(Debug)]
struct Server {
    free_at: u64,
    service_ns: u64,
    down: (u64, u64),
    queue_limit: u64,
    rtt: u64,
    wasted: u64,
}

impl Server {
    /// An attempt sent at `t` with `timeout`: its outcome and when the
    /// client learns it.
    fn arrive(&mut self, t: u64, timeout: u64) -> (u8, u64) {
        if (self.down.0..self.down.1).contains(&t) {
            return (REFUSED, t + self.rtt);
        }
        let start = self.free_at.max(t);
        if start - t > self.queue_limit {
            return (SHED, t + self.rtt);
        }
        self.free_at = start + self.service_ns;
        let done = self.free_at + self.rtt;
        if done - t > timeout {
            self.wasted += 1;
            return (TIMED_OUT, t + timeout);
        }
        (OK, done)
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Runs one scenario. `backoff: None` is the baseline without retries.
pub(crate) fn simulate(
    cfg: &Config,
    strategy: &'static str,
    backoff: Option<Backoff>,
    protection: Protection,
) -> Report {
    let wall = WallClock::now();
    let cpu = cpu_time();
    let end = ns(cfg.duration);
    let bins = (end / BIN_NS) as usize;
    let (backoff, max_retries) = match backoff {
        Some(b) => (b, cfg.max_retries),
        None => (FixedDelay::none().into(), 0),
    };
    let policy = Policy::new(backoff)
        .max_retries(max_retries)
        .attempt_timeout(cfg.timeout);
    let timeout = ns(cfg.timeout);
    let hosts = cfg.clients.div_ceil(cfg.clients_per_host.max(1));
    let budget = || {
        RetryBudget::new(cfg.budget_tokens, cfg.budget_ratio.0, cfg.budget_ratio.1)
            .expect("valid budget")
    };
    let budgets: Vec<RetryBudget> = match protection {
        Protection::None => Vec::new(),
        Protection::BudgetPerClient => (0..cfg.clients).map(|_| budget()).collect(),
        Protection::BudgetPerHost | Protection::BudgetAndBreaker => {
            (0..hosts).map(|_| budget()).collect()
        }
    };
    let breakers: Vec<CircuitBreaker> = match protection {
        Protection::BudgetAndBreaker => (0..hosts)
            .map(|_| CircuitBreaker::new(cfg.breaker).expect("valid breaker"))
            .collect(),
        _ => Vec::new(),
    };
    let budget_of = |client: u32| -> Option<&RetryBudget> {
        match protection {
            Protection::None => None,
            Protection::BudgetPerClient => budgets.get(client as usize),
            _ => budgets.get((client / cfg.clients_per_host) as usize),
        }
    };
    let breaker_of = |client: u32| breakers.get((client / cfg.clients_per_host) as usize);

    let mut rng = SeededRng::new(mix(cfg.seed, 0x0u64, 0x07a6e));
    let mut server = Server {
        free_at: 0,
        service_ns: 1_000_000_000 / u64::from(cfg.capacity.max(1)),
        down: (ns(cfg.outage_start), ns(cfg.outage_end)),
        queue_limit: ns(cfg.queue_limit),
        rtt: ns(cfg.rtt),
        wasted: 0,
    };
    let mut wheel = Wheel::new();
    let period = ns(cfg.period);
    for client in 0..cfg.clients {
        let phase = (unit(&mut rng) * period as f64) as u64;
        wheel.push(phase, client, NEW_CALL);
    }

    let mut report = Report {
        strategy,
        protection: if max_retries == 0 {
            "no retries"
        } else {
            protection.name()
        },
        sent: vec![0; bins],
        started: vec![0; bins],
        ok: vec![0; bins],
        failed: vec![0; bins],
        refused: vec![0; bins],
        done: vec![0; bins],
        attempts: 0,
        calls: 0,
        calls_failed: 0,
        refused_by_breaker: 0,
        refused_by_budget: 0,
        wasted: 0,
        events: 0,
        wall: Duration::ZERO,
        cpu: None,
        outage_bins: (
            (ns(cfg.outage_start) / BIN_NS) as usize,
            (ns(cfg.outage_end) / BIN_NS) as usize,
        ),
        capacity: cfg.capacity,
    };
    let mut calls: Vec<Call<'_>> = Vec::with_capacity(cfg.clients as usize);
    let mut free: Vec<u32> = Vec::new();

    // Sends the next attempt of call `id` at `t`.
    let attempt = |calls: &mut Vec<Call<'_>>,
                   wheel: &mut Wheel,
                   server: &mut Server,
                   report: &mut Report,
                   id: u32,
                   t: u64| {
        let call = &mut calls[id as usize];
        call.sent = t;
        let limit = match call.machine.begin_attempt(Instant::from_nanos(t)) {
            Ok(limit) => limit.map_or(u64::MAX, ns).min(timeout),
            Err(_) => timeout,
        };
        report.sent[(t / BIN_NS) as usize] += 1;
        report.attempts += 1;
        let (code, at) = server.arrive(t, limit);
        wheel.push(at, id, code);
    };

    while let Some(ev) = wheel.pop() {
        let t = ev.at;
        if t >= end {
            break;
        }
        report.events += 1;
        let bin = (t / BIN_NS) as usize;
        match ev.kind {
            NEW_CALL => {
                let client = ev.id;
                if t + period < end {
                    wheel.push(t + period, client, NEW_CALL);
                }
                report.started[bin] += 1;
                report.calls += 1;
                let guards = (breaker_of(client), budget_of(client));
                let Ok(machine) =
                    RetryMachine::start(&policy, Replay::Safe, guards, Instant::from_nanos(t))
                else {
                    report.refused_by_breaker += 1;
                    report.refused[bin] += 1;
                    report.calls_failed += 1;
                    continue;
                };
                let call = Call { machine, sent: t };
                let id = match free.pop() {
                    Some(id) => {
                        calls[id as usize] = call;
                        id
                    }
                    None => {
                        calls.push(call);
                        u32::try_from(calls.len() - 1).expect("fewer than 2^32 calls in flight")
                    }
                };
                attempt(&mut calls, &mut wheel, &mut server, &mut report, id, t);
            }
            RETRY => attempt(&mut calls, &mut wheel, &mut server, &mut report, ev.id, t),
            code => {
                let id = ev.id;
                let call = &mut calls[id as usize];
                let now = Instant::from_nanos(t);
                let bin = (call.sent / BIN_NS) as usize;
                // The machine charges or refunds the budget, vetoes a
                // retry it cannot afford and tells the breaker how the call
                // ended: the simulator only moves events.
                let ended = if code == OK {
                    report.ok[bin] += 1;
                    report.done[(t / BIN_NS) as usize] += 1;
                    let _ = call.machine.on_success(now);
                    true
                } else {
                    report.failed[bin] += 1;
                    let failure = Failure::new(failure_kind(code));
                    match call.machine.on_failure(failure, now, &mut rng) {
                        Decision::Retry { delay } => {
                            wheel.push(t + ns(delay), id, RETRY);
                            false
                        }
                        Decision::Stop(reason) => {
                            report.calls_failed += 1;
                            if reason == StopReason::Budget {
                                report.refused_by_budget += 1;
                            }
                            true
                        }
                    }
                };
                if ended {
                    free.push(id);
                }
            }
        }
    }
    report.wasted = server.wasted;
    report.wall = wall.elapsed();
    report.cpu = cpu.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
    report
}

/// This thread's CPU time so far, from Linux's schedstat.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
