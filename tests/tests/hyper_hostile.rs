//! The hostile servers of [`tenace_tests::hostile`] against
//! `tenace_hyper::Client`, on real sockets in real time, and two more that
//! only this adapter meets: a close-delimited body far over the limit, and
//! one near a large limit. A call that meets an oversize body is also held
//! to a bound on its peak live heap, measured with the shared counting
//! allocator.

use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::time::Instant;

use tenace_hyper::tenace::{ExponentialBackoff, FailureKind, StopReason, TransportError as _};
use tenace_hyper::{Client, ClientBuilder, Error};
use tenace_tests::heap::{Counting, counted_async};
use tenace_tests::hostile::{
    ATTEMPT_TIMEOUT, LIMIT, LastError, MARGIN, MAX_DELAY, Recorder, Scenario,
};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The peak heap allowed to a call that meets an oversize body.
const HEAP_BOUND: usize = LIMIT + 64 * 1024;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `f` and returns its output and the peak of the bytes it kept
/// allocated at once on this thread. Under a current-thread runtime the
/// whole client runs on the test's thread: the engine, hyper's connection
/// task, the timers and the I/O driver (127.0.0.1 needs no DNS thread), so
/// this is the client's whole heap; the fault server's thread is not
/// counted.
async fn peak_heap_during<F: core::future::Future>(f: F) -> (F::Output, usize) {
    let (out, usage) = counted_async(f).await;
    (out, usage.peak_bytes)
}

/// Exponential from 10 ms capped at `max_delay`, `max_retries` retries, the
/// transient-status policy (429 and 5xx retried, honouring `Retry-After`),
/// with a [`Recorder`]. No timeout or deadline.
fn client(server_url: &str, max_delay: Duration, max_retries: u32) -> (ClientBuilder, Recorder) {
    let recorder = Recorder::default();
    let starts = recorder.clone();
    let builder = Client::builder()
        .base_url(server_url)
        .retry_strategy(ExponentialBackoff::new(ms(10), 2, max_delay).unwrap())
        .max_retries(max_retries)
        .connect_timeout(ms(1000))
        .retry_transient_statuses()
        .request_interceptor(move |_req, _cx| {
            starts.attempt_started();
            Ok(())
        })
        .middleware(recorder.clone());
    (builder, recorder)
}

/// The adapter's error in the scenarios' words.
fn last_error(error: &Error) -> LastError {
    match error {
        Error::Timeout(_) => LastError::Timeout,
        Error::BodyTooLarge { .. } => LastError::TooLarge,
        other => match other.kind() {
            FailureKind::Status(status) => LastError::Status {
                status,
                retry_after: other.retry_after(),
            },
            _ => LastError::Other,
        },
    }
}

/// Runs `scenario` through the client on a current-thread runtime and
/// checks it; a call stopped by an oversize body must also stay under
/// [`HEAP_BOUND`], and a timeout must say how long the attempt had.
fn run(scenario: &Scenario) {
    let server = scenario.server();
    let setup = scenario.setup;
    let (builder, recorder) = client(&server.url("/"), setup.max_delay, setup.max_retries);
    let builder = setup.apply(
        builder.max_response_bytes(setup.body_limit),
        |b, d| b.timeout(d),
        |b, d| b.deadline(d),
        |b, d| b.retry_after_cap(d),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (result, elapsed, peak) = runtime.block_on(async {
        let client = builder.build().unwrap();
        let started = Instant::now();
        let (result, peak) = peak_heap_during(client.get(scenario.path).send()).await;
        (result, started.elapsed(), peak)
    });
    let name = &scenario.name;
    let result = match result {
        Ok(response) => Ok(response.bytes().to_vec()),
        Err(err) => {
            match err.last_error() {
                Some(Error::BodyTooLarge { limit }) => {
                    assert_eq!(*limit, setup.body_limit, "{name}");
                    assert!(peak < HEAP_BOUND, "{name}: peak heap {peak} B");
                }
                Some(Error::Timeout(d)) => {
                    let bound = setup.timeout.or(setup.deadline).unwrap();
                    assert!(*d <= bound && *d > bound - ms(100), "{name}: {err:?}");
                }
                _ => {}
            }
            Err((
                err.reason(),
                err.attempts(),
                err.last_error().map(last_error),
            ))
        }
    };
    scenario.check(&recorder.outcome(result, elapsed), &server);
}

tenace_tests::hostile_suite!(run);

// ---------------------------------------------------------------------------
// Close-delimited bodies over the limit.

/// What [`unannounced_body_server`] saw: requests read, body bytes written.
type Served = (usize, usize);

/// A raw server that answers one request with a close-delimited body (no
/// `Content-Length`, not chunked) of `len` bytes, written as fast as the
/// client reads, until the client goes away. Returns its URL and a handle
/// giving what it [`Served`].
fn unannounced_body_server(len: usize) -> (String, std::thread::JoinHandle<Served>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap_or(0) == 0 {
                return (0, 0);
            }
            head.push(byte[0]);
        }
        let block = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        if stream
            .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            .is_ok()
        {
            while sent < len && stream.write_all(&block).is_ok() {
                sent += block.len();
            }
        }
        (1, sent)
    });
    (url, handle)
}

/// Waits for [`unannounced_body_server`] to finish, off the runtime's
/// thread so that hyper can close the refused connection meanwhile, and
/// checks that it stopped writing soon: the client does not read on (or
/// drain) a body it refused. Returns the body bytes the server wrote.
async fn served_one_request_and_stopped(server: std::thread::JoinHandle<Served>) -> usize {
    let started = Instant::now();
    let (requests, sent) = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(requests, 1);
    assert!(waited < MARGIN, "the server wrote on for {waited:?}");
    // What the kernel's socket buffers absorb, far from the 50 MiB offered.
    assert!(sent < 16 << 20, "{sent} B written");
    sent
}

#[tokio::test]
async fn an_unannounced_50_mib_body_is_cut_at_the_limit_in_bounded_memory() {
    let (url, server) = unannounced_body_server(50 << 20);
    let (builder, log) = client(&url, MAX_DELAY, 2);
    let client = builder
        .max_response_bytes(LIMIT)
        .timeout(ATTEMPT_TIMEOUT)
        .build()
        .unwrap();
    let started = Instant::now();
    let (result, peak) = peak_heap_during(client.get("/").send()).await;
    let elapsed = started.elapsed();
    let err = result.unwrap_err();

    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(
        err.last_error(),
        Some(Error::BodyTooLarge { limit: LIMIT })
    ));
    assert_eq!(log.attempts(), 1);
    drop(client);
    let sent = served_one_request_and_stopped(server).await;
    assert!(peak < HEAP_BOUND, "peak heap {peak} B");
    assert!(elapsed < MARGIN, "{elapsed:?}");
    eprintln!("50 MiB unannounced: peak heap {peak} B, elapsed {elapsed:?}, server wrote {sent} B");
}

#[tokio::test]
async fn an_unannounced_body_near_a_large_limit_costs_less_than_twice_the_limit() {
    // With a 1 MiB limit the body is buffered up to the limit before it is
    // refused: the buffer grows to the limit, and while it moves to a
    // larger block the old one (under the limit) coexists with it; hyper's
    // own read buffer adds at most about 400 KiB. It never grows to twice
    // the limit.
    const BIG_LIMIT: usize = 1 << 20;
    let (url, server) = unannounced_body_server(50 << 20);
    let (builder, log) = client(&url, MAX_DELAY, 2);
    let client = builder
        .max_response_bytes(BIG_LIMIT)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let (result, peak) = peak_heap_during(client.get("/").send()).await;
    let err = result.unwrap_err();

    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(matches!(
        err.last_error(),
        Some(Error::BodyTooLarge { limit: BIG_LIMIT })
    ));
    assert_eq!(log.attempts(), 1);
    drop(client);
    let sent = served_one_request_and_stopped(server).await;
    let bound = 2 * BIG_LIMIT + 768 * 1024;
    assert!(peak < bound, "peak heap {peak} B >= {bound} B");
    eprintln!("50 MiB unannounced, 1 MiB limit: peak heap {peak} B, server wrote {sent} B");
}
