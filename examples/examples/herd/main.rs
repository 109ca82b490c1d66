//! The herd simulator: does a whole fleet retrying at once stay polite?
//!
//! Two models, both in virtual time, seeded and deterministic, both on
//! tenace's real strategies (and, for the outage, its retry machine, retry
//! budget and circuit breaker):
//!
//! - `contention`: the optimistic-concurrency model of the AWS study
//!   "Exponential Backoff and Jitter" (see `contention.rs`); prints a CSV.
//! - `outage`: 100 000 clients, a server with a fixed capacity that goes
//!   down for a minute and comes back (see `outage.rs`); prints a table.
//! - `charts --out DIR`: both, as SVG charts.
//! - `all --out DIR`: the CSV, the table and the charts.
//!
//! ```text
//! cargo run --release -p tenace-examples --example herd -- contention [--seed N] [--runs N]
//! cargo run --release -p tenace-examples --example herd -- outage [--seed N] [--clients N]
//!     [--queue-limit-ms N] [--timeout-ms N] [--max-retries N] [--hosts-of N] [--only STRATEGY]
//! cargo run --release -p tenace-examples --example herd -- charts --out DIR
//! ```

mod charts;
mod contention;
mod outage;
mod rng;
mod wheel;

use core::time::Duration;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant as WallClock;

use outage::{Config, Protection, Report};

const USAGE: &str = "usage: herd <contention|outage|charts|all> [--seed N] [--runs N] [--out DIR]
       [--clients N] [--queue-limit-ms N] [--timeout-ms N] [--max-retries N] [--hosts-of N] [--only STRATEGY]";

#[derive(Debug)]
struct Args {
    command: String,
    seed: u64,
    runs: u32,
    out: PathBuf,
    outage: Config,
    /// Outage: only this strategy (and the baseline).
    only: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or("missing command")?;
    let mut args = Args {
        command,
        seed: 1,
        runs: 100,
        out: PathBuf::from("herd-charts"),
        outage: Config::default(),
        only: None,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        let small = || u32::try_from(number()?).map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--seed" => args.seed = number()?,
            "--runs" => args.runs = small()?,
            "--out" => args.out = PathBuf::from(&value),
            "--clients" => args.outage.clients = small()?.max(1),
            "--queue-limit-ms" => args.outage.queue_limit = Duration::from_millis(number()?),
            "--timeout-ms" => args.outage.timeout = Duration::from_millis(number()?),
            "--max-retries" => args.outage.max_retries = small()?,
            "--hosts-of" => args.outage.clients_per_host = small()?.max(1),
            "--only" => args.only = Some(value.clone()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    args.outage.seed = args.seed;
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match args.command.as_str() {
        "contention" => {
            print!(
                "{}",
                contention::csv(&contention::table(args.seed, args.runs))
            );
            Ok(())
        }
        "outage" => {
            let reports = outage_runs(&args.outage, args.only.as_deref());
            print_outage(&args.outage, &reports);
            Ok(())
        }
        "charts" => charts(&args, false),
        "all" => charts(&args, true),
        other => Err(format!("unknown command {other}\n{USAGE}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The baseline without retries, then every strategy under every
/// protection.
fn outage_runs(cfg: &Config, only: Option<&str>) -> Vec<Report> {
    let mut reports = vec![outage::simulate(cfg, "-", None, Protection::None)];
    for name in contention::STRATEGIES {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let backoff = contention::strategy(name, cfg.base, cfg.cap);
        for protection in Protection::ALL {
            reports.push(outage::simulate(cfg, name, Some(backoff), protection));
        }
    }
    reports
}

fn print_outage(cfg: &Config, reports: &[Report]) {
    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "# outage: {} clients, 1 request per {} s each ({:.0}/s), capacity {}/s, down {}-{} s of {} s",
        cfg.clients,
        secs(cfg.period),
        f64::from(cfg.clients) / secs(cfg.period),
        cfg.capacity,
        secs(cfg.outage_start),
        secs(cfg.outage_end),
        secs(cfg.duration),
    );
    println!(
        "# attempt timeout {} ms, server sheds load queued over {} ms, rtt {} ms; max_retries {}, backoff base {} ms cap {} ms",
        cfg.timeout.as_millis(),
        cfg.queue_limit.as_millis(),
        cfg.rtt.as_millis(),
        cfg.max_retries,
        cfg.base.as_millis(),
        cfg.cap.as_millis(),
    );
    println!(
        "# budget: {} tokens, {}/{} back per success, per client or per host of {} clients; breaker per host: window {}, min {}, {} %, break {:?}; seed {}",
        cfg.budget_tokens,
        cfg.budget_ratio.0,
        cfg.budget_ratio.1,
        cfg.clients_per_host,
        cfg.breaker.window(),
        cfg.breaker.min_calls(),
        cfg.breaker.failure_percent(),
        cfg.breaker.break_duration(),
        cfg.seed,
    );
    println!(
        "{:<13} {:<20} {:>8} {:>11} {:>11} {:>10} {:>9} {:>9} {:>10} {:>8} {:>8}",
        "strategy",
        "protection",
        "amplif.",
        "peak down",
        "peak after",
        "recovery",
        "failed %",
        "wasted",
        "attempts",
        "wall ms",
        "cpu ms"
    );
    for r in reports {
        let (down, after) = r.peaks();
        let recovery = match r.recovery() {
            Some(d) => format!("{:.1} s", d.as_secs_f64()),
            None => "never".to_owned(),
        };
        println!(
            "{:<13} {:<20} {:>8.3} {:>10.2}x {:>10.2}x {:>10} {:>9.2} {:>9} {:>10} {:>8} {:>8}",
            r.strategy,
            r.protection,
            r.amplification(),
            down,
            after,
            recovery,
            100.0 * r.calls_failed as f64 / r.calls.max(1) as f64,
            r.wasted,
            r.attempts,
            r.wall.as_millis(),
            r.cpu
                .map_or_else(|| "-".to_owned(), |c| c.as_millis().to_string()),
        );
    }
    let attempts: u64 = reports.iter().map(|r| r.attempts).sum();
    let events: u64 = reports.iter().map(|r| r.events).sum();
    let wall: Duration = reports.iter().map(|r| r.wall).sum();
    let cpu: Option<Duration> = reports.iter().map(|r| r.cpu).sum();
    let slowest = reports.iter().map(|r| r.wall).max().unwrap_or_default();
    println!(
        "# speed: {} runs of {} clients, {} simulated requests ({} events) in {:.2} s wall: {:.2} M simulated requests/s (slowest run {:.2} s)",
        reports.len(),
        cfg.clients,
        attempts,
        events,
        wall.as_secs_f64(),
        attempts as f64 / wall.as_secs_f64() / 1e6,
        slowest.as_secs_f64(),
    );
    if let Some(cpu) = cpu {
        println!(
            "# cpu: {:.2} s: {:.2} M simulated requests per cpu-second",
            cpu.as_secs_f64(),
            attempts as f64 / cpu.as_secs_f64() / 1e6,
        );
    }
}

fn charts(args: &Args, print: bool) -> Result<(), Box<dyn core::error::Error>> {
    std::fs::create_dir_all(&args.out)?;
    let started = WallClock::now();
    let rows = contention::table(args.seed, args.runs);
    if print {
        print!("{}", contention::csv(&rows));
        eprintln!("# contention: {:.2} s", started.elapsed().as_secs_f64());
    }
    charts::contention(&rows, &args.out)?;
    let cfg = &args.outage;
    let reports = outage_runs(cfg, None);
    if print {
        print_outage(cfg, &reports);
    }
    let window = (cfg.outage_start.as_secs_f64(), cfg.outage_end.as_secs_f64());
    for protection in Protection::ALL {
        let lines: Vec<(&str, &Report)> = reports
            .iter()
            .filter(|r| r.protection == protection.name())
            .map(|r| {
                (
                    if r.strategy == "none" {
                        "no backoff"
                    } else {
                        r.strategy
                    },
                    r,
                )
            })
            .collect();
        let file = format!("outage-{}.svg", protection.name().replace(['/', '+'], "-"));
        let title = match protection {
            Protection::None => "5 retries, no budget: each strategy",
            Protection::BudgetPerClient => "5 retries, a retry budget per client: each strategy",
            Protection::BudgetPerHost => "5 retries, a retry budget per host: each strategy",
            Protection::BudgetAndBreaker => {
                "5 retries, a budget and a circuit breaker per host: each strategy"
            }
        };
        charts::load(&args.out.join(file), title, &lines, cfg.capacity, window)?;
    }
    let legend = |protection: &str| match protection {
        "none" => "5 retries, full jitter",
        "budget/client" => "+ retry budget per client",
        "budget/host" => "+ retry budget per host",
        "budget+breaker/host" => "+ budget and circuit breaker per host",
        _ => "no retries",
    };
    let lines: Vec<(&str, &Report)> = reports
        .iter()
        .filter(|r| r.strategy == "full" || r.protection == "no retries")
        .map(|r| (legend(r.protection), r))
        .collect();
    charts::load(
        &args.out.join("outage-full-jitter.svg"),
        "100 000 clients, 5 retries with full jitter, through a 60 s outage",
        &lines,
        cfg.capacity,
        window,
    )?;
    eprintln!("# charts written to {}", args.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::contention::{self, STRATEGIES};
    use super::outage::{self, Config, Protection};
    use super::wheel::Wheel;

    #[test]
    fn wheel_pops_in_time_then_insertion_order() {
        let mut w = Wheel::new();
        // Same time: insertion order. Across buckets: time order, also for
        // events beyond the wheel's 4.3 s.
        for (at, id) in [
            (20_000_000_000, 7),
            (9_000_000_000, 8),
            (5_000_000, 1),
            (1, 2),
            (5_000_000, 3),
            (3_000_000_000, 4),
            (1, 5),
        ] {
            w.push(at, id, 0);
        }
        let mut seen = Vec::new();
        while let Some(e) = w.pop() {
            seen.push((e.at, e.id));
            // An event scheduled into the bucket being drained comes out
            // in its place.
            if e.id == 2 {
                w.push(2, 6, 0);
            }
            // Far ahead, at the same time as an earlier event: after it.
            if e.id == 4 {
                w.push(9_000_000_000, 9, 0);
            }
        }
        assert_eq!(
            seen,
            [
                (1, 2),
                (1, 5),
                (2, 6),
                (5_000_000, 1),
                (5_000_000, 3),
                (3_000_000_000, 4),
                (9_000_000_000, 8),
                (9_000_000_000, 9),
                (20_000_000_000, 7),
            ]
        );
    }

    #[test]
    fn contention_one_client_writes_once() {
        for name in STRATEGIES {
            let b = contention::strategy(name, Duration::from_millis(5), Duration::from_secs(2));
            let r = contention::run(1, &b, 7);
            assert_eq!(r.calls, 1, "{name}");
            // Four messages of about 10 ms each.
            assert!(
                (20_000_000..60_000_000).contains(&r.time_ns),
                "{name}: {}",
                r.time_ns
            );
        }
    }

    #[test]
    fn contention_is_deterministic_and_jitter_saves_calls() {
        let rows = contention::table(1, 5);
        assert_eq!(rows.len(), 25);
        let again = contention::table(1, 5);
        let key = |r: &contention::Row| {
            (
                r.clients,
                r.strategy,
                r.avg_time_ms.to_bits(),
                r.avg_calls.to_bits(),
            )
        };
        assert_eq!(
            rows.iter().map(key).collect::<Vec<_>>(),
            again.iter().map(key).collect::<Vec<_>>()
        );
        let calls = |s: &str| {
            rows.iter()
                .find(|r| r.clients == 50 && r.strategy == s)
                .map(|r| r.avg_calls)
        };
        // The study's finding: without jitter, exponential backoff does
        // nearly the work of no backoff; full jitter does far less.
        assert!(
            calls("full") < calls("exponential").map(|c| c * 0.7),
            "{rows:?}"
        );
        assert!(
            contention::csv(&rows)
                .starts_with("clients,strategy,avg_time_ms,avg_calls\n10,exponential,")
        );
    }

    /// 2 000 clients, 1 request per 10 s, capacity 240/s, down from 20 s to
    /// 40 s of 60 s.
    fn small() -> Config {
        Config {
            clients: 2_000,
            capacity: 240,
            duration: Duration::from_secs(60),
            outage_start: Duration::from_secs(20),
            outage_end: Duration::from_secs(40),
            ..Config::default()
        }
    }

    #[test]
    fn outage_without_retries_sends_each_call_once() {
        let r = outage::simulate(&small(), "-", None, Protection::None);
        assert_eq!(r.attempts, r.calls);
        assert_eq!(r.calls, 12_000);
        assert_eq!(r.amplification(), 1.0);
        assert_eq!(r.refused_by_budget + r.refused_by_breaker, 0);
    }

    #[test]
    fn outage_budget_bounds_amplification() {
        let cfg = small();
        let full = contention::strategy("full", cfg.base, cfg.cap);
        let run = |p| outage::simulate(&cfg, "full", Some(full), p);
        let open = run(Protection::None);
        let per_host = run(Protection::BudgetPerHost);
        let per_client = run(Protection::BudgetPerClient);
        let breaker = run(Protection::BudgetAndBreaker);
        // Without a budget, nearly every call in the outage makes all 6
        // attempts (a few run past its end).
        assert_eq!(open.attempts, 49_416);
        assert!(open.amplification() > 5.6, "{}", open.amplification());
        // Per client: 2 calls each in the 20 s outage. The first fails 5
        // times (10 tokens → 5, 4 retries), the second once: 6 / 2.
        assert_eq!(per_client.amplification(), 3.0);
        // Per host of 100 clients: 20 budgets, about 4 retries each over
        // 4000 calls: 4082 attempts.
        assert_eq!(per_host.amplification(), 4_082.0 / 4_000.0);
        assert_eq!(
            (per_host.attempts, per_host.refused_by_budget),
            (12_082, 4_000)
        );
        // The breaker refuses nearly every call of the outage before any
        // attempt.
        assert_eq!(
            (breaker.attempts, breaker.refused_by_breaker),
            (8_086, 3_996)
        );
        assert!(breaker.amplification() < 0.1, "{}", breaker.amplification());
        // The same seed gives the same run.
        assert_eq!(run(Protection::BudgetPerHost).attempts, per_host.attempts);
    }
}
