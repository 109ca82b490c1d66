//! Quickstart: a GET with exponential backoff against a flaky server, and
//! the timeline of what happened.
//!
//! ```text
//! cargo run -p tenace-examples --example quickstart
//! cargo run -p tenace-examples --example quickstart -- --url https://example.com/
//! ```
//!
//! Without `--url` it starts the project's fault-injecting server in this
//! process and scripts it: a connection reset, a 503, a 429 with
//! `Retry-After: 1`, then success. With `--url` it runs the same client
//! against that URL. Either way it prints one line per attempt: what
//! failed, the delay the engine chose, and the time since the call started.

use core::time::Duration;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tenace_hyper::tenace::{ExponentialBackoff, FailureKind, RetryEvent, RetryStrategy as _};
use tenace_hyper::{Client, Response};
use tenace_tests::fault_server::{Fault, FaultServer};

const BASE: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(2);
const MAX_RETRIES: u32 = 4;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let url = match parse_args() {
        Ok(url) => url,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    // Without --url: a local server that fails three times, then answers.
    let server = match url {
        Some(_) => None,
        None => Some(FaultServer::start([
            Fault::ResetBeforeResponse,
            Fault::status(503),
            Fault::too_many_requests_secs(1),
            Fault::ok("hello from the flaky server"),
        ])),
    };
    let url = url.unwrap_or_else(|| server.as_ref().map(|s| s.url("/hello")).unwrap_or_default());

    let strategy = match ExponentialBackoff::new(BASE, 2, MAX_DELAY) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bad backoff: {e}");
            return ExitCode::FAILURE;
        }
    };
    let timeline: Arc<Mutex<Vec<RetryEvent>>> = Arc::default();
    let log = Arc::clone(&timeline);
    let client = Client::builder()
        .retry_strategy(strategy)
        .max_retries(MAX_RETRIES)
        .timeout(Duration::from_secs(5))
        .retry_transient_statuses()
        .on_retry(move |ev| {
            print_retry(ev, strategy);
            if let Ok(mut log) = log.lock() {
                log.push(*ev);
            }
        })
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot build the client: {e}");
            return ExitCode::FAILURE;
        }
    };

    println!("GET {url}");
    println!(
        "exponential backoff: base {} ms, x2, max {} ms, up to {MAX_RETRIES} retries; \
         retrying transport failures and 408/429/5xx (not 501/505), honouring Retry-After\n",
        BASE.as_millis(),
        MAX_DELAY.as_millis()
    );
    println!(
        "{:>7}  {:<44} {:>9} {:>9}",
        "attempt", "outcome", "delay", "elapsed"
    );

    let started = Instant::now();
    let result = client.get(&url).send().await;
    let elapsed = started.elapsed();
    let code = match result {
        Ok(response) => {
            println!(
                "{:>7}  {:<44} {:>9} {:>6} ms\n",
                response.attempts(),
                format!("{}", response.status()),
                "-",
                elapsed.as_millis()
            );
            println!(
                "{} attempts, {} ms asleep in backoff",
                response.attempts(),
                response.slept().as_millis()
            );
            print_response(&response);
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!(
                "\ngave up after {} attempt(s), {} ms: {err}",
                err.attempts(),
                elapsed.as_millis()
            );
            let mut cause: Option<&dyn core::error::Error> = core::error::Error::source(&err);
            while let Some(e) = cause {
                println!("  caused by: {e}");
                cause = e.source();
            }
            ExitCode::FAILURE
        }
    };
    if let Some(server) = server {
        println!("the server received {} requests", server.received());
    }
    code
}

/// One timeline row for a failed attempt.
fn print_retry(ev: &RetryEvent, strategy: ExponentialBackoff) {
    let what = match ev.kind {
        FailureKind::Connect => "connect failed (nothing sent)".to_owned(),
        FailureKind::Timeout => "timed out".to_owned(),
        FailureKind::Io => "connection reset/closed after sending".to_owned(),
        FailureKind::Status(code) => format!("HTTP {code}"),
        other => other.to_string(),
    };
    // Longer than the strategy's own delay: the server's Retry-After won.
    let note = if ev.delay > strategy.ceiling(ev.attempt).min(strategy.max_delay()) {
        "  (Retry-After)"
    } else {
        ""
    };
    println!(
        "{:>7}  {what:<44} {:>6} ms {:>6} ms{note}",
        ev.attempt,
        ev.delay.as_millis(),
        ev.elapsed.as_millis()
    );
}

fn print_response(response: &Response) {
    let body = response.bytes();
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    println!("response: {} ({} bytes)", response.status(), body.len());
    println!(
        "{}{}",
        text.trim_end(),
        if body.len() > 300 { " ..." } else { "" }
    );
}

/// `--url URL` (or `--url=URL`); `None` runs against the local fault server.
fn parse_args() -> Result<Option<String>, String> {
    let usage = "usage: quickstart [--url URL]";
    let mut args = std::env::args().skip(1);
    let mut url = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = Some(args.next().ok_or(usage)?),
            "-h" | "--help" => return Err(usage.to_owned()),
            other => match other.strip_prefix("--url=") {
                Some(u) => url = Some(u.to_owned()),
                None => return Err(format!("unknown argument {other:?}\n{usage}")),
            },
        }
    }
    Ok(url)
}
