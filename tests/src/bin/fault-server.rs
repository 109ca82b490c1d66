//! The fault server as a program, for clients that are not Rust tests on
//! the host (the networked firmware under qemu).
//!
//! ```text
//! fault-server serve SCRIPT   # listen on 127.0.0.1:0 and answer by SCRIPT
//! ```
//!
//! `serve` prints `listening 127.0.0.1:PORT`, serves until its standard
//! input closes, then prints one `count METHOD PATH N` line per method and
//! path it received (sorted), and `total N`.
//!
//! SCRIPT is a comma-separated list of faults for requests 0, 1, 2, ...;
//! past its end every request gets `ok`:
//!
//! | token | fault |
//! |---|---|
//! | `ok` / `ok=BODY` | `200` with body `ok` / `BODY` |
//! | `status=CODE` | that status, empty body |
//! | `retry-after=CODE:SECS` | that status with `Retry-After: SECS` |
//! | `reset` | reset before the response |
//! | `reset-mid-body` | `200`, part of the body, then a reset |
//! | `hang` | never answer |
//! | `close` | close (FIN) before the response |
//! | `close-mid-body` | `200`, part of the body, then a close (FIN) |

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use tenace_tests::fault_server::{Fault, FaultServer};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve", script] => serve(script),
        _ => Err("usage: fault-server serve SCRIPT".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("fault-server: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Parses one SCRIPT token.
fn fault(token: &str) -> Result<Fault, String> {
    let bad = || format!("bad fault {token:?}");
    Ok(match token.split_once('=') {
        None => match token {
            "ok" => Fault::ok("ok"),
            "reset" => Fault::ResetBeforeResponse,
            "reset-mid-body" => Fault::ResetMidBody,
            "hang" => Fault::Hang,
            "close" => Fault::CloseBeforeResponse,
            "close-mid-body" => Fault::CloseMidBody,
            _ => return Err(bad()),
        },
        Some(("ok", body)) => Fault::ok(body),
        Some(("status", code)) => Fault::status(code.parse().map_err(|_| bad())?),
        Some(("retry-after", spec)) => {
            let (code, secs) = spec.split_once(':').ok_or_else(bad)?;
            let code: u16 = code.parse().map_err(|_| bad())?;
            let secs: u64 = secs.parse().map_err(|_| bad())?;
            Fault::retry_after_raw(code, vec![secs.to_string()])
        }
        Some(_) => return Err(bad()),
    })
}

fn serve(script: &str) -> Result<(), String> {
    let faults = script
        .split(',')
        .filter(|t| !t.is_empty())
        .map(fault)
        .collect::<Result<Vec<_>, _>>()?;
    let server = FaultServer::builder()
        .script(faults)
        .start()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut out = io::stdout().lock();
    let say = |out: &mut io::StdoutLock<'_>, line: String| {
        writeln!(out, "{line}").and_then(|()| out.flush())
    };
    say(&mut out, format!("listening {}", server.addr())).map_err(|e| e.to_string())?;
    // Serve until standard input closes.
    for line in io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let requests = server.requests();
    for r in &requests {
        *counts
            .entry((r.method.clone(), r.path.clone()))
            .or_default() += 1;
    }
    for ((method, path), n) in &counts {
        say(&mut out, format!("count {method} {path} {n}")).map_err(|e| e.to_string())?;
    }
    say(&mut out, format!("total {}", requests.len())).map_err(|e| e.to_string())?;
    drop(server);
    Ok(())
}
