//! The fault server as a program, for clients that are not Rust tests on
//! the host (the networked firmware under qemu).
//!
//! ```text
//! fault-server serve SCRIPT   # listen on 127.0.0.1:0 and answer by SCRIPT
//! fault-server relay ADDR     # one connection to ADDR, over stdin/stdout
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
//! | `close-mid-chunk` | `200` chunked, part of a chunk, then a close (FIN) |
//! | `overlong-body` | `200`, then more body bytes than announced, then a close |
//!
//! `relay` connects to ADDR (e.g. `127.0.0.1:PORT`), copies its standard
//! input to the connection and the connection to its standard output, and
//! exits when the connection ends: what qemu's `guestfwd=...-cmd:` runs for
//! each connection of the guest, with the guest's socket as its standard
//! input and output. It writes nothing else (its standard error is that
//! socket too) and reports failures by its exit status only. A reset or a
//! close from ADDR both end it, so the guest sees either as a clean close.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
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
        // Silent: standard error is the guest's socket.
        ["relay", addr] => return relay(addr),
        _ => Err("usage: fault-server serve SCRIPT | relay ADDR".to_owned()),
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
            "close-mid-chunk" => Fault::CloseMidChunk,
            "overlong-body" => Fault::OverlongBody,
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

/// Relays standard input to a connection to `addr` and the connection to
/// standard output, until the connection ends (end of stream, reset or
/// error) or standard output fails.
fn relay(addr: &str) -> ExitCode {
    let Ok(stream) = TcpStream::connect(addr) else {
        return ExitCode::FAILURE;
    };
    let _ = stream.set_nodelay(true);
    let Ok(mut upstream) = stream.try_clone() else {
        return ExitCode::FAILURE;
    };
    // The guest's bytes to the server; the guest's end of stream becomes a
    // half-close, so the server still answers.
    std::thread::spawn(move || {
        let _ = io::copy(&mut io::stdin().lock(), &mut upstream);
        let _ = upstream.shutdown(Shutdown::Write);
    });
    // The server's bytes to the guest, each read flushed at once (standard
    // output buffers by line). Returning exits the process, closing the
    // guest's socket.
    let mut downstream = stream;
    let mut out = io::stdout().lock();
    let mut buf = [0u8; 4096];
    loop {
        match downstream.read(&mut buf) {
            Ok(0) | Err(_) => return ExitCode::SUCCESS,
            Ok(n) => {
                let sent = buf.get(..n).unwrap_or_default();
                if out.write_all(sent).and_then(|()| out.flush()).is_err() {
                    return ExitCode::SUCCESS;
                }
            }
        }
    }
}
