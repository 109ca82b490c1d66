//! One replay-safety table, run against the three clients: the hyper
//! `Client`, the tower `RetryLayer` around hyper-util's client, and the
//! embedded (reqwless) `Client`, all on real sockets against the fault
//! server.
//!
//! Each row is a method, a marking (none, marked safe, marked unsafe, an
//! `Idempotency-Key` header, or the header and an unsafe mark) and a failure
//! of the first attempt:
//!
//! - before sending: the connection is refused (nothing listens on the port
//!   until the second attempt starts the server there). Nothing reached the
//!   server, so every request is retried: 2 attempts, success, 1 request
//!   received.
//! - after sending: the server reads the request, then resets the
//!   connection. The request is sent again only if
//!   [`Replay::of`]`(method, mark, header names)` says it is safe: 2 attempts,
//!   success, 2 requests received; otherwise the call stops with
//!   [`StopReason::NotIdempotent`] after 1 attempt, 1 request received.
//!
//! Every client must produce exactly the rows [`Replay::of`] predicts, and
//! so the same rows as the others.

use core::fmt;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HyperUtilClient;
use hyper_util::rt::TokioExecutor;
use std_embedded_nal_async::Stack;
use tenace_hyper::tenace::{
    AttemptContext, FailureKind, FixedDelay, Policy, Replay, RetryError, StopReason, TransportError,
};
use tenace_hyper::tower::{RetryLayer, RetrySafe, RetryStats};
use tenace_tests::fault_server::{Fault, FaultServer, closed_port_addr};
use tower::{ServiceBuilder, ServiceExt as _};

/// The backoff between the two attempts: short, the table has 150 calls.
const DELAY: Duration = Duration::from_millis(1);

/// The header that makes a request replay-safe, spelled as users write it.
const KEY_HEADER: &str = "Idempotency-Key";
const KEY: &str = "row-key";

/// The body of the answer that ends every successful call.
const DONE: &[u8] = b"done";

/// The embedded client's jitter seed (the fixed delay draws nothing).
const SEED: u64 = 0x5eed;

const METHODS: [&str; 5] = ["GET", "PUT", "DELETE", "POST", "PATCH"];

/// How the request says whether it may be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marking {
    None,
    Safe,
    Unsafe,
    Key,
    KeyAndUnsafe,
}

impl Marking {
    const ALL: [Self; 5] = [
        Self::None,
        Self::Safe,
        Self::Unsafe,
        Self::Key,
        Self::KeyAndUnsafe,
    ];

    /// The explicit mark: `retry_safe(..)` or `RetrySafe(..)`.
    const fn mark(self) -> Option<bool> {
        match self {
            Self::Safe => Some(true),
            Self::Unsafe | Self::KeyAndUnsafe => Some(false),
            Self::None | Self::Key => None,
        }
    }

    /// Whether the request carries an `Idempotency-Key` header.
    const fn has_key(self) -> bool {
        matches!(self, Self::Key | Self::KeyAndUnsafe)
    }
}

/// What goes wrong with the first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstFailure {
    /// The connection is refused: nothing was sent.
    BeforeSending,
    /// The server read the request, then reset the connection.
    AfterSending,
}

/// One line of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    method: &'static str,
    marking: Marking,
    failure: FirstFailure,
}

impl Row {
    /// Every method × marking × failure.
    fn all() -> Vec<Self> {
        let mut rows = Vec::new();
        for failure in [FirstFailure::BeforeSending, FirstFailure::AfterSending] {
            for method in METHODS {
                for marking in Marking::ALL {
                    rows.push(Self {
                        method,
                        marking,
                        failure,
                    });
                }
            }
        }
        rows
    }

    /// A body for the methods that usually carry one.
    fn body(self) -> Option<&'static [u8]> {
        matches!(self.method, "PUT" | "POST" | "PATCH").then_some(b"payload".as_slice())
    }

    /// What the rule says every client must do with this row.
    fn expected(self) -> Observed {
        let (outcome, attempts, received) = match self.failure {
            FirstFailure::BeforeSending => (Outcome::Ok, 2, 1),
            FirstFailure::AfterSending => {
                let mark = self.marking.mark().map(Replay::from_safe);
                let header_names = self.marking.has_key().then_some(KEY_HEADER);
                match Replay::of(self.method, mark, header_names) {
                    Replay::Safe => (Outcome::Ok, 2, 2),
                    Replay::Unsafe => (
                        Outcome::Stopped(StopReason::NotIdempotent, Some(FailureKind::Io)),
                        1,
                        1,
                    ),
                }
            }
        };
        Observed {
            row: self,
            outcome,
            attempts,
            received,
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A `200` with the body [`DONE`].
    Ok,
    /// The engine stopped, with the kind of the last attempt's failure.
    Stopped(StopReason, Option<FailureKind>),
}

/// What one client did with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Observed {
    row: Row,
    outcome: Outcome,
    /// The attempts the client reports (response or error).
    attempts: u32,
    /// The requests the server received in full.
    received: usize,
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = match self.outcome {
            Outcome::Ok => "ok".to_owned(),
            Outcome::Stopped(reason, kind) => format!("{reason:?} ({kind:?})"),
        };
        write!(
            f,
            "{:<14} {:<7} {:<13} {:<26} attempts {} received {}",
            format!("{:?}", self.row.failure),
            self.row.method,
            format!("{:?}", self.row.marking),
            outcome,
            self.attempts,
            self.received,
        )
    }
}

/// Where a row's requests go, and the server that answers them.
///
/// After sending: a server that resets the first request and answers the
/// next. Before sending: a port where nothing listens; the client's hook
/// before the second attempt starts a server there, so the first attempt
/// is refused and the second gets through, in that order for certain.
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    server: Mutex<Option<FaultServer>>,
}

impl Target {
    fn new(failure: FirstFailure) -> Arc<Self> {
        let (addr, server) = match failure {
            FirstFailure::BeforeSending => (closed_port_addr(), None),
            FirstFailure::AfterSending => {
                let server = FaultServer::start([Fault::ResetBeforeResponse, Fault::ok(DONE)]);
                (server.addr(), Some(server))
            }
        };
        Arc::new(Self {
            addr,
            server: Mutex::new(server),
        })
    }

    fn url(&self) -> String {
        format!("http://{}/table", self.addr)
    }

    /// Called by each client before attempt `attempt` (1 for the first):
    /// from the second one on, something listens.
    fn before_attempt(&self, attempt: u32) {
        let mut server = self.server.lock().unwrap_or_else(PoisonError::into_inner);
        if attempt >= 2 && server.is_none() {
            let started = FaultServer::builder()
                .bind(self.addr)
                .script([Fault::ok(DONE)])
                .start()
                .expect("bind the refused port");
            *server = Some(started);
        }
    }

    /// How many requests reached the server, after checking that each one
    /// is the row's: its method, and the key header if and only if the row
    /// has one.
    fn received(&self, row: Row, client: &str) -> usize {
        let server = self.server.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(server) = server.as_ref() else {
            return 0;
        };
        let requests = server.requests();
        for request in &requests {
            assert_eq!(request.method, row.method, "{client}: {row:?}");
            assert_eq!(
                request.header(KEY_HEADER),
                row.marking.has_key().then_some(KEY),
                "{client}: {row:?}"
            );
        }
        requests.len()
    }
}

/// A current-thread tokio runtime for the hyper client and the tower layer.
/// A row as one client saw it: a call that answered (its status and body
/// already checked) with its attempts, or the engine's stop.
fn observe<E: TransportError>(
    row: Row,
    target: &Target,
    client: &str,
    result: Result<u32, RetryError<E>>,
) -> Observed {
    let (outcome, attempts) = match result {
        Ok(attempts) => (Outcome::Ok, attempts),
        Err(e) => (
            Outcome::Stopped(e.reason(), e.last_error().map(TransportError::kind)),
            e.attempts(),
        ),
    };
    Observed {
        row,
        outcome,
        attempts,
        received: target.received(row, client),
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// (a) `tenace_hyper::Client`; the hook is a request interceptor.
async fn hyper_client(row: Row) -> Observed {
    const CLIENT: &str = "hyper Client";
    let target = Target::new(row.failure);
    let hook = Arc::clone(&target);
    let client = tenace_hyper::Client::builder()
        .retry_strategy(FixedDelay::new(DELAY))
        .max_retries(1)
        .request_interceptor(move |_request, cx| {
            hook.before_attempt(cx.attempt);
            Ok(())
        })
        .build()
        .expect("valid client");
    let method = http::Method::from_bytes(row.method.as_bytes()).expect("a method");
    let mut request = client.request(method, &target.url());
    if row.marking.has_key() {
        request = request.header(KEY_HEADER, KEY);
    }
    if let Some(safe) = row.marking.mark() {
        request = request.retry_safe(safe);
    }
    if let Some(body) = row.body() {
        request = request.body(body);
    }
    let result = request.send().await.map(|response| {
        assert_eq!(
            (response.status().as_u16(), &response.bytes()[..]),
            (200, DONE),
            "{CLIENT}: {row:?}"
        );
        response.attempts()
    });
    observe(row, &target, CLIENT, result)
}

/// (b) `RetryLayer` around hyper-util's client; the hook is a
/// `map_request` under the layer, so it runs once per attempt.
async fn tower_layer(row: Row) -> Observed {
    const CLIENT: &str = "tower RetryLayer";
    let target = Target::new(row.failure);
    let hook = Arc::clone(&target);
    let calls = Arc::new(AtomicU32::new(0));
    let inner = HyperUtilClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(
            Policy::new(FixedDelay::new(DELAY)).max_retries(1),
        ))
        .map_request(move |request: http::Request<Full<Bytes>>| {
            hook.before_attempt(calls.fetch_add(1, Ordering::SeqCst) + 1);
            request
        })
        .service(inner);
    let mut builder = http::Request::builder()
        .method(row.method)
        .uri(target.url());
    if row.marking.has_key() {
        builder = builder.header(KEY_HEADER, KEY);
    }
    let body = row.body().map_or_else(Bytes::new, Bytes::from_static);
    let mut request = builder.body(Full::new(body)).expect("a request");
    if let Some(safe) = row.marking.mark() {
        request.extensions_mut().insert(RetrySafe(safe));
    }
    let result = match service.oneshot(request).await {
        Ok(response) => {
            let stats = *response
                .extensions()
                .get::<RetryStats>()
                .expect("every response carries its stats");
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .expect("the body")
                .to_bytes();
            assert_eq!((status, &body[..]), (200, DONE), "{CLIENT}: {row:?}");
            Ok(stats.attempts())
        }
        Err(e) => Err(e),
    };
    observe(row, &target, CLIENT, result)
}

/// (c) `tenace_embedded::Client` over std sockets; the hook is a request
/// interceptor. Not `Send`: it runs on the calling thread.
fn embedded_client(row: Row) -> Observed {
    use tenace_embedded::{Client, Error, Header, HttpTransport, Method, Request, Timeouts};

    const CLIENT: &str = "embedded Client";
    let target = Target::new(row.failure);
    let hook = |_: &mut Request<'_>, cx: &AttemptContext| {
        target.before_attempt(cx.attempt);
        Ok::<(), Error>(())
    };
    let stack = Stack::default();
    // Bounded phases, so a client that waited for an answer that never
    // comes would fail the row rather than hang the test.
    let timeouts = Timeouts::DEFAULT
        .connect(Duration::from_secs(2))
        .exchange(Duration::from_secs(2))
        .body(Duration::from_secs(2));
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts),
        SEED,
    )
    .retry_strategy(FixedDelay::new(DELAY))
    .max_retries(1)
    .request_interceptor(&hook)
    .build()
    .expect("valid client");
    let method = match row.method {
        "GET" => Method::GET,
        "PUT" => Method::PUT,
        "DELETE" => Method::DELETE,
        "POST" => Method::POST,
        "PATCH" => Method::PATCH,
        other => panic!("no embedded method for {other}"),
    };
    let url = target.url();
    let keyed: &[Header<'_>] = &[(KEY_HEADER, KEY)];
    let mut request = client.request(method, &url);
    if row.marking.has_key() {
        request = request.headers(keyed);
    }
    if let Some(safe) = row.marking.mark() {
        request = request.retry_safe(safe);
    }
    if let Some(body) = row.body() {
        request = request.body(body);
    }
    let mut buffer = [0u8; 1024];
    let result = async_io::block_on(request.send(&mut buffer)).map(|response| {
        assert_eq!(
            (response.status(), response.body()),
            (200, DONE),
            "{CLIENT}: {row:?}"
        );
        response.attempts()
    });
    observe(row, &target, CLIENT, result)
}

/// The rows where `observed` (from client `name`) differs from `reference`
/// (from `reference_name`), as two lines each, one under the other.
fn differences(
    name: &str,
    observed: &[Observed],
    reference_name: &str,
    reference: &[Observed],
) -> String {
    let width = name.len().max(reference_name.len());
    observed
        .iter()
        .zip(reference)
        .filter(|(o, r)| o != r)
        .map(|(o, r)| format!("{name:>width$}: {o}\n{reference_name:>width$}: {r}\n"))
        .collect()
}

#[test]
fn the_three_clients_follow_one_replay_table() {
    let rows = Row::all();
    assert_eq!(rows.len(), 50);
    let expected: Vec<Observed> = rows.iter().map(|row| row.expected()).collect();

    let runtime = tokio_runtime();
    let hyper: Vec<Observed> = rows
        .iter()
        .map(|&row| runtime.block_on(hyper_client(row)))
        .collect();
    let tower: Vec<Observed> = rows
        .iter()
        .map(|&row| runtime.block_on(tower_layer(row)))
        .collect();
    drop(runtime);
    let embedded: Vec<Observed> = rows.iter().map(|&row| embedded_client(row)).collect();

    // The table, as every client must produce it (`--nocapture` shows it).
    for row in &expected {
        println!("{row}");
    }

    // The clients agree with one another ...
    let disagreements = differences("tower", &tower, "hyper", &hyper)
        + &differences("embedded", &embedded, "hyper", &hyper);
    // ... and with the rule.
    let wrong = differences("hyper", &hyper, "rule", &expected)
        + &differences("tower", &tower, "rule", &expected)
        + &differences("embedded", &embedded, "rule", &expected);
    assert!(
        disagreements.is_empty() && wrong.is_empty(),
        "clients disagree:\n{disagreements}\nclients differ from Replay::of:\n{wrong}"
    );
    assert_eq!(hyper, tower);
    assert_eq!(hyper, embedded);
    assert_eq!(hyper, expected);
}
