//! Measures every contender in one process and prints one table: time per
//! call on the success and fail-three paths with ratios to the floor and to
//! tower, criterion's figures from the same run, callgrind instruction
//! counts, heap allocations per call and future size; then future sizes for
//! the same job on tokio's timer, the hyper clients' allocations (and, with
//! `--callgrind`, instructions) per GET, the flash table and any other
//! criterion results found.
//!
//! ```text
//! report [--criterion DIR] [--flash FILE] [--callgrind] [--no-hyper] [--rounds N]
//! report loop <contender> <success|fail3> <calls>   (what callgrind runs)
//! report hyper-loop <bare|tenace|reqwest> <calls>           (likewise, for the GETs)
//! report sizes                                      (the future-size budget alone)
//! ```
//!
//! Timing: for each contender and path, the number of calls that takes
//! about 2 ms is found, then `--rounds` rounds of 15 samples are timed; the
//! figure is the lowest of the rounds' medians. Allocations are counted by
//! this binary's global allocator, on this thread, during 100 calls.
//! Instructions (`--callgrind`) are counted by running this binary's `loop`
//! mode under `valgrind --tool=callgrind` for 1 000 and 11 000 calls: the
//! difference divided by 10 000 is the cost of one call, without start-up.
#![allow(clippy::std_instead_of_core, clippy::print_stdout)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tenace_bench::{
    BackonAsync, BackonBlocking, Contender, Direct, HandLoop, TenaceAsync, TenaceBlocking,
    TokioRetry2, TowerRetry,
};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: delegates every call to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations per call of `f`, over `calls` calls.
fn allocations_per_call(calls: u64, mut f: impl FnMut() -> Option<u32>) -> f64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    for _ in 0..calls {
        black_box(f());
    }
    COUNTING.with(|c| c.set(false));
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / calls as f64
}

/// Nanoseconds per call of `f`: the lowest median of `rounds` rounds of 15
/// samples of about 2 ms each.
fn ns_per_call(rounds: usize, mut f: impl FnMut() -> Option<u32>) -> f64 {
    let mut n: u64 = 64;
    loop {
        let t = Instant::now();
        spin(n, &mut f);
        if t.elapsed().as_micros() >= 2_000 || n >= 1 << 30 {
            break;
        }
        n *= 2;
    }
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let mut samples: Vec<f64> = (0..15)
            .map(|_| {
                let t = Instant::now();
                spin(n, &mut f);
                t.elapsed().as_nanos() as f64 / n as f64
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        best = best.min(samples[samples.len() / 2]);
    }
    best
}

/// Everything measured about one contender.
#[derive(Default)]
struct Row {
    name: &'static str,
    retries: bool,
    success_ns: f64,
    fail3_ns: Option<f64>,
    criterion_success: Option<f64>,
    criterion_fail3: Option<f64>,
    instr_success: Option<f64>,
    instr_fail3: Option<f64>,
    allocs_success: f64,
    allocs_fail3: Option<f64>,
    future: Option<usize>,
}

struct Options {
    rounds: usize,
    hyper: bool,
    criterion: Option<PathBuf>,
    flash: Option<PathBuf>,
    callgrind: bool,
}

fn measure<C: Contender>(mut c: C, o: &Options, index: usize) -> Row {
    let mut row = Row {
        name: C::NAME,
        retries: C::RETRIES,
        future: c.future_size(),
        ..Row::default()
    };
    assert_eq!(
        c.call(),
        Some(tenace_bench::ANSWER),
        "{} must answer",
        C::NAME
    );
    row.success_ns = ns_per_call(o.rounds, || c.call());
    row.allocs_success = allocations_per_call(100, || c.call());
    if C::RETRIES {
        assert_eq!(
            c.fail3(),
            Some(tenace_bench::ANSWER),
            "{} must answer",
            C::NAME
        );
        row.fail3_ns = Some(ns_per_call(o.rounds, || c.fail3()));
        row.allocs_fail3 = Some(allocations_per_call(100, || c.fail3()));
    }
    if let Some(dir) = &o.criterion {
        row.criterion_success = criterion_median(dir, "success", C::NAME);
        row.criterion_fail3 = criterion_median(dir, "fail3", C::NAME);
    }
    if o.callgrind {
        row.instr_success = instructions(index, "success");
        if C::RETRIES {
            row.instr_fail3 = instructions(index, "fail3");
        }
    }
    row
}

/// Runs `calls` calls of one contender and path, for callgrind.
fn run_loop<C: Contender>(mut c: C, path: &str, calls: u64) {
    if path == "fail3" {
        spin(calls, || c.fail3());
    } else {
        spin(calls, || c.call());
    }
}

/// Calls `f` `n` times: the loop both the timing and callgrind run.
#[inline(always)]
fn spin(n: u64, mut f: impl FnMut() -> Option<u32>) {
    for _ in 0..n {
        black_box(f());
    }
}

/// Dispatches on a contender's index; the order is the table's.
macro_rules! for_contender {
    ($index:expr, $f:ident ( $($arg:expr),* )) => {
        match $index {
            0 => Some($f(Direct::new(), $($arg),*)),
            1 => Some($f(HandLoop::new(), $($arg),*)),
            2 => Some($f(TenaceAsync::new(), $($arg),*)),
            3 => Some($f(TenaceBlocking::new(), $($arg),*)),
            4 => Some($f(BackonAsync::new(), $($arg),*)),
            5 => Some($f(BackonBlocking::new(), $($arg),*)),
            6 => Some($f(TowerRetry::new(), $($arg),*)),
            7 => Some($f(TokioRetry2::new(), $($arg),*)),
            _ => None,
        }
    };
}

const CONTENDERS: usize = 8;

/// Instructions per call of contender `index` on `path`, by callgrind.
fn instructions(index: usize, path: &str) -> Option<f64> {
    instructions_per_call(&["loop", &index.to_string(), path], 1_000, 11_000)
}

/// Instructions per call of this binary run with `args` and a call count,
/// by callgrind: runs `small` and `large` calls, and divides the difference
/// by `large - small`, so start-up is not counted. Every thread of the
/// process is counted (for the hyper loop: the client and the server).
fn instructions_per_call(args: &[&str], small: u64, large: u64) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let run = |calls: u64| -> Option<f64> {
        let out = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(&exe)
            .args(args)
            .arg(calls.to_string())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr.lines().find(|l| l.contains("Collected :"))?;
        line.rsplit(':').next()?.trim().parse().ok()
    };
    let (a, b) = (run(small)?, run(large)?);
    #[allow(clippy::cast_precision_loss)] // call counts are small
    Some((b - a) / (large - small) as f64)
}

/// `report hyper-loop <bare|tenace|reqwest> <calls>`: GETs on loopback through one
/// client, after 20 that warm its pool (what callgrind runs).
fn hyper_loop(client: &str, calls: u64) -> ExitCode {
    let Ok(lb) = tenace_bench::loopback::Loopback::new() else {
        return ExitCode::FAILURE;
    };
    let once = match client {
        "bare" => tenace_bench::loopback::Loopback::bare_once,
        "tenace" => tenace_bench::loopback::Loopback::tenace_once,
        "reqwest" => tenace_bench::loopback::Loopback::reqwest_once,
        _ => return ExitCode::FAILURE,
    };
    for _ in 0..20 + calls {
        if black_box(once(&lb)).is_none() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// The median point estimate of criterion's `group/name`, in ns.
fn criterion_median(dir: &Path, group: &str, name: &str) -> Option<f64> {
    let safe: String = name
        .chars()
        .map(|c| if "?\"/\\*<>:|^".contains(c) { '_' } else { c })
        .collect();
    let json = std::fs::read_to_string(
        dir.join(group)
            .join(safe)
            .join("new")
            .join("estimates.json"),
    )
    .ok()?;
    point_estimate(&json, "median")
}

/// `"<key>":{..."point_estimate":X...}` from criterion's estimates.json.
fn point_estimate(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = &json[at..];
    let p = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let num: String = rest[p..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || "+-.eE".contains(*c))
        .collect();
    num.parse().ok()
}

fn ns(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "—".to_owned(), f)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "—".to_owned(),
    }
}

fn allocs(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn table(rows: &[Row], o: &Options) -> String {
    let find = |name: &str| rows.iter().find(|r| r.name == name);
    let direct = find("direct call").map(|r| r.success_ns);
    let hand = find("hand loop").and_then(|r| r.fail3_ns);
    let tower = find("tower::retry");
    let (tower_s, tower_f) = (tower.map(|r| r.success_ns), tower.and_then(|r| r.fail3_ns));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "One call through each contender: an in-memory operation, up to 3 retries with \
         exponential backoff (1 ms ×2, cap 1 s, no jitter) on sleeps that end at once. \
         success: it answers at once; fail3: it fails 3 times, then answers. ns/call: lowest \
         median of {} rounds of 15 samples (noisy on a shared machine); instr/call: callgrind, \
         stable; allocs: heap allocations per call; future: size_of_val of the call's future \
         (x86_64). tokio-retry2's fail3 runs on a current-thread tokio runtime with a paused \
         clock (it cannot sleep without one).\n",
        o.rounds
    );
    let _ = writeln!(
        s,
        "| contender | success ns/call | × direct | × tower | fail3 ns/call | × hand loop | × tower | criterion success / fail3 ns | instr/call success / fail3 | allocs/call success / fail3 | future B |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let crit = if o.criterion.is_some() {
            format!(
                "{} / {}",
                opt(r.criterion_success, ns),
                opt(r.criterion_fail3, ns)
            )
        } else {
            "—".to_owned()
        };
        let instr = if o.callgrind {
            format!(
                "{} / {}",
                opt(r.instr_success, |v| format!("{v:.0}")),
                opt(r.instr_fail3, |v| format!("{v:.0}"))
            )
        } else {
            "—".to_owned()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} |",
            r.name,
            ns(r.success_ns),
            ratio(Some(r.success_ns), direct),
            ratio(Some(r.success_ns), tower_s),
            opt(r.fail3_ns, ns),
            ratio(r.fail3_ns, hand),
            ratio(r.fail3_ns, tower_f),
            crit,
            instr,
            allocs(r.allocs_success),
            opt(r.allocs_fail3, allocs),
            r.future.map_or_else(|| "—".to_owned(), |b| b.to_string()),
        );
    }
    if let Some(t) = find("tenace (async)") {
        let _ = writeln!(
            s,
            "\ntenace (async) ÷ each peer (below 1: tenace is faster or smaller):\n"
        );
        let _ = writeln!(
            s,
            "| peer | success time | fail3 time | success instr | fail3 instr | future size |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for r in rows
            .iter()
            .filter(|r| r.retries && !r.name.starts_with("tenace"))
        {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                r.name,
                ratio(Some(t.success_ns), Some(r.success_ns)),
                ratio(t.fail3_ns, r.fail3_ns),
                ratio(t.instr_success, r.instr_success),
                ratio(t.instr_fail3, r.instr_fail3),
                ratio(t.future.map(|v| v as f64), r.future.map(|v| v as f64)),
            );
        }
    }
    s
}

/// Future sizes for the same job on tokio's timer (`tenace_bench::timer`):
/// every contender holds a real `tokio::time::Sleep` and draws jitter, with
/// and without a per-attempt timeout.
fn timer_sizes() -> String {
    use tenace_bench::timer::{Job, calls, run_on_paused_tokio, tenace_policy};
    let mut s = String::new();
    let sizes = run_on_paused_tokio(async || {
        let flaky = tenace_bench::Flaky::new();
        let clock = tenace_hyper::TokioClock::new();
        [Job::Backoff, Job::BackoffAndTimeout].map(|job| {
            let policy = tenace_policy(job);
            let mut rng = tenace::SeededRng::new(1);
            calls(job, &flaky, &clock, &policy, &mut rng)
                .into_iter()
                .map(|c| (c.name, c.size))
                .collect::<Vec<_>>()
        })
    });
    let _ = writeln!(
        s,
        "\nFuture size (x86_64) on tokio's timer, exponential backoff with jitter, 3 retries; \
         then the same with a 1 s timeout on every attempt (tenace: its policy; tower: a \
         `Timeout` layer under `Retry`; backon, tokio-retry2: `tokio::time::timeout` around \
         the operation):\n"
    );
    let _ = writeln!(
        s,
        "| contender | backoff B | × tenace | backoff + attempt timeout B | × tenace |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    let [plain, timed] = &sizes;
    let tenace = |v: &[(&str, usize)]| v.first().map(|&(_, b)| b as f64);
    for ((name, a), (_, b)) in plain.iter().zip(timed) {
        let _ = writeln!(
            s,
            "| {name} | {a} | {} | {b} | {} |",
            ratio(Some(*a as f64), tenace(plain)),
            ratio(Some(*b as f64), tenace(timed)),
        );
    }
    s
}

/// Heap allocations per GET on loopback (client side: the clients' runtime
/// runs on this thread, the server on another), bare hyper-util against
/// tenace-hyper's `Client`.
fn hyper_allocations(callgrind: bool) -> String {
    let mut s = String::new();
    let lb = match tenace_bench::loopback::Loopback::new() {
        Ok(lb) => lb,
        Err(e) => {
            let _ = writeln!(s, "\n(no hyper figures: {e})");
            return s;
        }
    };
    // Warm the connection pools, so a call reuses a connection.
    for _ in 0..50 {
        black_box((lb.bare_once(), lb.tenace_once(), lb.reqwest_once()));
    }
    if lb.bare_once().is_none() || lb.tenace_once().is_none() || lb.reqwest_once().is_none() {
        let _ = writeln!(s, "\n(no hyper figures: a loopback GET failed)");
        return s;
    }
    let as_u32 = |v: Option<usize>| v.and_then(|n| u32::try_from(n).ok());
    let bare = allocations_per_call(200, || as_u32(lb.bare_once()));
    let tenace = allocations_per_call(200, || as_u32(lb.tenace_once()));
    let reqwest = allocations_per_call(200, || as_u32(lb.reqwest_once()));
    drop(lb);
    let _ = writeln!(
        s,
        "\nHeap allocations per GET on loopback, client side, pooled connection (200 calls):\n"
    );
    let _ = writeln!(s, "| client | allocs/call | added by tenace |");
    let _ = writeln!(s, "|---|---:|---:|");
    let _ = writeln!(s, "| hyper-util legacy Client (bare) | {bare:.2} | — |");
    let _ = writeln!(
        s,
        "| tenace-hyper Client (default policy) | {tenace:.2} | {:+.2} |",
        tenace - bare
    );
    let _ = writeln!(
        s,
        "| reqwest + reqwest-retry (3 retries) | {reqwest:.2} | — |"
    );
    if callgrind {
        // 200 and 1 200 GETs: about 10 s each under valgrind.
        let per_get = |client: &str| instructions_per_call(&["hyper-loop", client], 200, 1_200);
        match (per_get("bare"), per_get("tenace"), per_get("reqwest")) {
            (Some(bare), Some(tenace), Some(reqwest)) => {
                let _ = writeln!(
                    s,
                    "\nInstructions per GET on loopback (callgrind, client and server threads, \
                     1 000 GETs): bare hyper-util {bare:.0}, tenace-hyper {tenace:.0}, reqwest + \
                     reqwest-retry {reqwest:.0}. Throughput bound by instructions, tenace ÷ bare = \
                     {:.3}×, tenace ÷ reqwest + reqwest-retry = {:.3}×.",
                    bare / tenace,
                    reqwest / tenace
                );
            }
            _ => {
                let _ = writeln!(s, "\n(no instruction counts for the hyper clients)");
            }
        }
    }
    s
}

/// Other criterion results in `dir` (a throughput bench, say): every
/// `group/name/new/estimates.json` outside `success` and `fail3`.
fn other_criterion(dir: &Path) -> String {
    let mut s = String::new();
    let Ok(groups) = std::fs::read_dir(dir) else {
        return s;
    };
    let mut found = Vec::new();
    for g in groups.flatten() {
        let group = g.file_name().to_string_lossy().into_owned();
        if group == "success" || group == "fail3" || group == "report" {
            continue;
        }
        collect_estimates(&g.path(), &group, &mut found);
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    if !found.is_empty() {
        let _ = writeln!(
            s,
            "\nOther criterion results in {} (median):\n",
            dir.display()
        );
        let _ = writeln!(s, "| bench | median | throughput |");
        let _ = writeln!(s, "|---|---:|---:|");
        for (id, median, per_sec) in found {
            let _ = writeln!(s, "| {id} | {} | {per_sec} |", human_ns(median));
        }
    }
    s
}

fn collect_estimates(path: &Path, id: &str, out: &mut Vec<(String, f64, String)>) {
    let estimates = path.join("new").join("estimates.json");
    if let Ok(json) = std::fs::read_to_string(&estimates) {
        if let Some(median) = point_estimate(&json, "median") {
            let per_sec = std::fs::read_to_string(path.join("new").join("benchmark.json"))
                .ok()
                .and_then(|b| throughput(&b, median))
                .unwrap_or_else(|| "—".to_owned());
            out.push((id.to_owned(), median, per_sec));
        }
        return;
    }
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "report" || name == "new" || name == "base" || name == "change" {
                continue;
            }
            if e.path().is_dir() {
                collect_estimates(&e.path(), &format!("{id}/{name}"), out);
            }
        }
    }
}

/// `Elements(n)` or `Bytes(n)` per iteration, from criterion's
/// benchmark.json, as a rate.
fn throughput(json: &str, median_ns: f64) -> Option<String> {
    for (key, unit) in [("\"Elements\":", "elem/s"), ("\"Bytes\":", "B/s")] {
        if let Some(p) = json.find(key) {
            let num: String = json[p + key.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let n: f64 = num.parse().ok()?;
            return Some(format!("{:.0} {unit}", n / (median_ns * 1e-9)));
        }
    }
    None
}

fn human_ns(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} ms", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.2} µs", v / 1e3)
    } else {
        format!("{} ns", ns(v))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("hyper-loop") {
        return match (args.get(1), args.get(2).and_then(|a| a.parse().ok())) {
            (Some(client), Some(calls)) => hyper_loop(client, calls),
            _ => {
                eprintln!("usage: report hyper-loop <bare|tenace|reqwest> <calls>");
                ExitCode::FAILURE
            }
        };
    }
    if args.first().map(String::as_str) == Some("sizes") {
        let (sizes, within_budget) = tenace_bench::sizes::table(&tenace_bench::sizes::measure());
        print!("{sizes}");
        return if within_budget {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    if args.first().map(String::as_str) == Some("loop") {
        let parsed = (
            args.get(1).and_then(|a| a.parse::<usize>().ok()),
            args.get(2),
            args.get(3).and_then(|a| a.parse::<u64>().ok()),
        );
        if let (Some(index), Some(path), Some(calls)) = parsed
            && for_contender!(index, run_loop(path, calls)).is_some()
        {
            return ExitCode::SUCCESS;
        }
        eprintln!("usage: report loop <0..{CONTENDERS}> <success|fail3> <calls>");
        return ExitCode::FAILURE;
    }
    let mut o = Options {
        rounds: 5,
        hyper: true,
        criterion: None,
        flash: None,
        callgrind: false,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--criterion" => o.criterion = it.next().map(PathBuf::from),
            "--flash" => o.flash = it.next().map(PathBuf::from),
            "--callgrind" => o.callgrind = true,
            "--no-hyper" => o.hyper = false,
            "--rounds" => o.rounds = it.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            _ => {
                eprintln!(
                    "usage: report [--criterion DIR] [--flash FILE] [--callgrind] [--no-hyper] [--rounds N]"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let rows: Vec<Row> = (0..CONTENDERS)
        .filter_map(|i| for_contender!(i, measure(&o, i)))
        .collect();
    println!("{}", table(&rows, &o));
    print!("{}", timer_sizes());
    let (sizes, sizes_within_budget) = tenace_bench::sizes::table(&tenace_bench::sizes::measure());
    print!("{sizes}");
    if o.hyper {
        print!("{}", hyper_allocations(o.callgrind));
    }
    if let Some(flash) = &o.flash {
        match std::fs::read_to_string(flash) {
            Ok(t) => println!("{t}"),
            Err(e) => println!("(no flash table: {}: {e})", flash.display()),
        }
    }
    if let Some(dir) = &o.criterion {
        print!("{}", other_criterion(dir));
    }
    if !sizes_within_budget {
        eprintln!("a future grew past its size budget (see the table)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
