//! The hostile servers of [`tenace_tests::hostile`] against the embedded
//! adapter, on real sockets in real time, the same scenarios the hyper
//! adapter runs. A body over the limit is one larger than the caller's
//! buffer (`BufferTooSmall`): the crate allocates nothing, so its memory
//! is not measured.

use core::future::Future;
use core::time::Duration;
use std::time::Instant;

use std_embedded_nal_async::Stack;
use tenace::{AttemptContext, ExponentialBackoff};
use tenace_embedded::{Cause, Client, Error, HttpTransport, Request};
use tenace_tests::hostile::{LastError, Recorder, Scenario};

/// The client's jitter seed (the strategies here do not jitter).
const SEED: u64 = 0x5eed;

fn run_blocking<F: Future>(f: F) -> F::Output {
    async_io::block_on(f)
}

/// The adapter's error in the scenarios' words.
fn last_error(error: &Error) -> LastError {
    match *error {
        Error::TimedOut => LastError::Timeout,
        Error::Body(Cause::BufferTooSmall) => LastError::TooLarge,
        Error::Status {
            status,
            retry_after,
        } => LastError::Status {
            status,
            retry_after,
        },
        _ => LastError::Other,
    }
}

/// Runs `scenario`: a `GET` with exponential waits from 10 ms capped at
/// `max_delay`, the transient-status policy (429 and 5xx retried, honouring
/// `Retry-After`) and the default (long) phase timeouts, so that the
/// engine's per-attempt timeout and deadline are what cut a call; the
/// response is read into a buffer of `body_limit` bytes.
fn run(scenario: &Scenario) {
    let server = scenario.server();
    let base = server.url("/");
    let setup = scenario.setup;
    let stack = Stack::default();
    let recorder = Recorder::default();
    let mark_start = |_: &mut Request<'_>, _: &AttemptContext| {
        recorder.attempt_started();
        Ok::<(), Error>(())
    };
    let builder = Client::builder(HttpTransport::new(&stack, &stack), SEED)
        .base_url(&base)
        .retry_strategy(
            ExponentialBackoff::new(Duration::from_millis(10), 2, setup.max_delay).unwrap(),
        )
        .max_retries(setup.max_retries)
        .retry_transient_statuses()
        .request_interceptor(&mark_start)
        .middleware(&recorder);
    let client = setup
        .apply(
            builder,
            |b, d| b.timeout(d),
            |b, d| b.deadline(d),
            |b, d| b.retry_after_cap(d),
        )
        .build()
        .expect("valid client");
    let mut buffer = vec![0u8; setup.body_limit];
    let started = Instant::now();
    let result = run_blocking(client.get(scenario.path).send(&mut buffer))
        .map(|response| response.body().to_vec())
        .map_err(|e| (e.reason(), e.attempts(), e.last_error().map(last_error)));
    let elapsed = started.elapsed();
    scenario.check(&recorder.outcome(result, elapsed), &server);
}

tenace_tests::hostile_suite!(run);
