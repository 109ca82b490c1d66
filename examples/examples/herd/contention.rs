//! The contention model of "Exponential Backoff and Jitter" (Marc Brooker,
//! AWS Architecture Blog, 2015), after its published simulator
//! (aws-samples/aws-arch-backoff-simulator).
//!
//! `N` clients start at t = 0 and each wants one write to the same row,
//! under optimistic concurrency control. Every message takes
//! |Normal(10 ms, 2 ms)| of network delay. A client reads the row's version,
//! then writes conditioned on it; the server accepts the write only if the
//! version still matches (and increments it). After a failed write the
//! client waits one network delay plus `backoff(attempt)`, then reads again.
//! A client is done after its first successful write. The run's time is
//! when the last client learns of its success; its calls are the writes
//! the server received.

use core::cmp::Reverse;
use core::time::Duration;
use std::collections::BinaryHeap;

use tenace::{
    Backoff, DecorrelatedJitter, ExponentialBackoff, FixedDelay, RetryStrategy, SeededRng,
};

use crate::rng::{Normal, mix};

/// The strategies the study compares, by the names the CSV uses.
pub(crate) const STRATEGIES: [&str; 5] = ["exponential", "full", "equal", "decorrelated", "none"];

/// The study's parameters: base 5 ms, cap 2000 ms (and for exponential,
/// `base × 2^attempt`, which is tenace's formula with multiplier 2).
pub(crate) fn strategy(name: &str, base: Duration, cap: Duration) -> Backoff {
    let exp = ExponentialBackoff::new(base, 2, cap).expect("valid exponential backoff");
    match name {
        "exponential" => exp.into(),
        "full" => exp.full_jitter().into(),
        "equal" => exp.equal_jitter().into(),
        "decorrelated" => DecorrelatedJitter::new(base, cap)
            .expect("valid decorrelated jitter")
            .into(),
        _ => FixedDelay::none().into(),
    }
}

/// One message in flight: when it is delivered, and to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Message {
    at: u64,
    seq: u64,
    client: u32,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A read arrives at the server.
    Read,
    /// The read's answer (the version) arrives at the client.
    ReadReply(u64),
    /// A write conditioned on this version arrives at the server.
    Write(u64),
    /// The write's answer arrives at the client.
    WriteReply(bool),
}

/// One run's result.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunResult {
    /// When the last client finished, in nanoseconds.
    pub(crate) time_ns: u64,
    /// Writes the server received.
    pub(crate) calls: u64,
}

/// One run: `clients` clients with `backoff`, randomness from `seed`.
pub(crate) fn run(clients: u32, backoff: &Backoff, seed: u64) -> RunResult {
    let mut rng = SeededRng::new(seed);
    let mut net = Normal::new(10.0e6, 2.0e6);
    let mut strategies = vec![*backoff; clients as usize];
    let mut attempts = vec![0u32; clients as usize];
    let mut queue = BinaryHeap::with_capacity(clients as usize);
    let mut seq = 0u64;
    let mut send = |queue: &mut BinaryHeap<Reverse<Message>>, at: u64, client: u32, kind: Kind| {
        seq += 1;
        queue.push(Reverse(Message {
            at,
            seq,
            client,
            kind,
        }));
    };
    for client in 0..clients {
        let d = net.delay_ns(&mut rng);
        send(&mut queue, d, client, Kind::Read);
    }
    let mut version = 0u64;
    let mut result = RunResult::default();
    while let Some(Reverse(m)) = queue.pop() {
        result.time_ns = m.at;
        let c = m.client as usize;
        match m.kind {
            Kind::Read => {
                let d = net.delay_ns(&mut rng);
                send(&mut queue, m.at + d, m.client, Kind::ReadReply(version));
            }
            Kind::ReadReply(v) => {
                let d = net.delay_ns(&mut rng);
                send(&mut queue, m.at + d, m.client, Kind::Write(v));
            }
            Kind::Write(v) => {
                result.calls += 1;
                let ok = v == version;
                if ok {
                    version += 1;
                }
                let d = net.delay_ns(&mut rng);
                send(&mut queue, m.at + d, m.client, Kind::WriteReply(ok));
            }
            Kind::WriteReply(true) => {}
            Kind::WriteReply(false) => {
                attempts[c] += 1;
                let backoff = strategies[c].delay(attempts[c], &mut rng);
                let d = net.delay_ns(&mut rng) + duration_ns(backoff);
                send(&mut queue, m.at + d, m.client, Kind::Read);
            }
        }
    }
    result
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// One row of the table: averages over `runs` runs.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) clients: u32,
    pub(crate) strategy: &'static str,
    pub(crate) avg_time_ms: f64,
    pub(crate) avg_calls: f64,
}

/// The whole table: every strategy for 10, 20, 30, 40 and 50 clients.
///
/// Run `r` for `n` clients uses the same seed for every strategy (common
/// random numbers), so strategies are compared on the same network.
pub(crate) fn table(seed: u64, runs: u32) -> Vec<Row> {
    let (base, cap) = (Duration::from_millis(5), Duration::from_millis(2000));
    let mut rows = Vec::new();
    for clients in [10u32, 20, 30, 40, 50] {
        for name in STRATEGIES {
            let backoff = strategy(name, base, cap);
            let (mut time, mut calls) = (0u128, 0u128);
            for r in 0..runs {
                let res = run(
                    clients,
                    &backoff,
                    mix(seed, u64::from(clients), u64::from(r)),
                );
                time += u128::from(res.time_ns);
                calls += u128::from(res.calls);
            }
            let n = f64::from(runs.max(1));
            rows.push(Row {
                clients,
                strategy: name,
                avg_time_ms: time as f64 / 1e6 / n,
                avg_calls: calls as f64 / n,
            });
        }
    }
    rows
}

/// The CSV the issue specifies.
pub(crate) fn csv(rows: &[Row]) -> String {
    let mut out = String::from("clients,strategy,avg_time_ms,avg_calls\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{:.1},{:.1}\n",
            r.clients, r.strategy, r.avg_time_ms, r.avg_calls
        ));
    }
    out
}
