//! A real HTTP/1.1 server on 127.0.0.1 that answers each request according to
//! a script of [`Fault`]s.
//!
//! The server runs on its own thread with its own current-thread tokio
//! runtime, so its API is synchronous and it serves clients running on any
//! runtime (tokio, embassy-std, or plain blocking sockets). It stops when the
//! [`FaultServer`] is dropped: the accept loop and every connection task are
//! cancelled, their sockets closed, and the thread joined.
//!
//! # Script semantics
//!
//! Request number `k` (0-based, counted over all connections, in the order in
//! which requests are *fully received*) is answered with `script[k]`; once the
//! script is exhausted every request gets the fallback ([`Fault::ok`]`("ok")`
//! unless [`FaultServerBuilder::fallback`] says otherwise).
//!
//! Every fully received request is recorded (see [`RecordedRequest`]) before
//! its fault is applied, so a client that sees a reset or a timeout can still
//! check what reached the server.
//!
//! # HTTP subset
//!
//! The server parses the request line and headers (at most
//! [`MAX_HEAD_BYTES`]; a larger head gets `431` and the connection is closed),
//! reads a `Content-Length` or `Transfer-Encoding: chunked` request body (at
//! most [`MAX_BODY_BYTES`], else `413` and close), answers
//! `Expect: 100-continue` with `100 Continue`, and keeps connections alive
//! (several requests per connection) unless the client sent
//! `Connection: close` or spoke HTTP/1.0. Faults that kill the connection
//! close it. Every non-fault response carries `Content-Length` and a `Date`
//! header (IMF-fixdate, see [`http_date`]); responses to `HEAD` have no body.
//! Malformed requests get `400` and the connection is closed; they are not
//! recorded.
//!
//! # HTTP/2
//!
//! With [`FaultServerBuilder::http2`] the server speaks HTTP/2 in cleartext
//! (h2c, by prior knowledge: connections start with the HTTP/2 preface),
//! through the `h2` crate. Stream number `k` (counted over all connections,
//! in the order in which request headers arrive) gets `script[k]`. The
//! HTTP/2 faults [`Fault::RefusedStream`] and [`Fault::GoAwayUnprocessed`]
//! refuse a stream without reading its body: it is counted by
//! [`FaultServer::streams`] but not recorded. Every other stream's request
//! is read in full and recorded before its fault is applied, as in HTTP/1.1.
//! Of the HTTP/1.1 faults, those about the response's status, headers,
//! timing and length apply to the stream ([`Fault::Ok`], [`Fault::Status`],
//! [`Fault::SlowHeaders`], [`Fault::OversizeBody`], [`Fault::Trickle`],
//! [`Fault::NeverEndingBody`], [`Fault::Hang`]), and those that reset or
//! close the connection before the response apply to the connection
//! ([`Fault::ResetBeforeResponse`], [`Fault::CloseBeforeResponse`]); the
//! ones about HTTP/1.1's framing get `501` with a body naming the fault, as
//! the HTTP/2 faults do in HTTP/1.1.
//!
//! Synthetic bodies ([`Fault::OversizeBody`], [`Fault::Trickle`],
//! [`Fault::ResetMidBody`], [`Fault::CloseMidBody`], [`Fault::CloseMidChunk`],
//! [`Fault::OverlongBody`]) are made of [`filler`] bytes, so tests can compare
//! exact values.

use alloc::sync::Arc;
use core::fmt;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::time::Duration;
use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

mod http2;

/// Largest request head (request line and headers) the server accepts; a
/// larger one is answered with `431` and the connection closed.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Largest request body the server reads; a larger one is answered with `413`
/// and the connection closed.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The `Content-Length` announced by [`Fault::ResetMidBody`].
pub const RESET_MID_BODY_LEN: usize = 64;

/// How many body bytes [`Fault::ResetMidBody`] sends before the reset: the
/// client receives exactly `filler(RESET_MID_BODY_SENT)`.
pub const RESET_MID_BODY_SENT: usize = 16;

/// The size the chunk of [`Fault::CloseMidChunk`] announces.
pub const CLOSE_MID_CHUNK_LEN: usize = 64;

/// How many bytes of its chunk [`Fault::CloseMidChunk`] sends before the
/// close: `filler(CLOSE_MID_CHUNK_SENT)`.
pub const CLOSE_MID_CHUNK_SENT: usize = 16;

/// The `Content-Length` announced by [`Fault::OverlongBody`].
pub const OVERLONG_LEN: usize = 8;

/// How many bytes [`Fault::OverlongBody`] sends after its head, more than
/// it announced.
pub const OVERLONG_SENT: usize = 24;

/// The pause between the head and the body of [`Fault::OverlongBody`].
pub const OVERLONG_PAUSE: Duration = Duration::from_millis(20);

/// The chunk payload that [`Fault::NeverEndingBody`] repeats.
pub const NEVER_ENDING_CHUNK: &[u8] = b"chunk\n";

/// Interval between two chunks of [`Fault::NeverEndingBody`].
pub const NEVER_ENDING_INTERVAL: Duration = Duration::from_millis(10);

/// The exact bytes [`Fault::MalformedStatusLine`] writes before closing.
pub const MALFORMED_STATUS_LINE: &[u8] = b"HTTP/1.1 abc Nope\r\n\r\n";

/// The body of synthetic responses: `len` bytes cycling through `a..=z`
/// (`b"abcdefghijklmnopqrstuvwxyzabc..."`).
pub fn filler(len: usize) -> Vec<u8> {
    (0..len).map(filler_byte).collect()
}

fn filler_byte(i: usize) -> u8 {
    // `i % 26` fits in a u8.
    b'a' + u8::try_from(i % 26).unwrap_or(0)
}

/// The HTTP/2 error code `NO_ERROR` (a graceful shutdown).
pub const H2_NO_ERROR: u32 = 0x0;
/// The HTTP/2 error code `PROTOCOL_ERROR`.
pub const H2_PROTOCOL_ERROR: u32 = 0x1;
/// The HTTP/2 error code `INTERNAL_ERROR`.
pub const H2_INTERNAL_ERROR: u32 = 0x2;
/// The HTTP/2 error code `REFUSED_STREAM`.
pub const H2_REFUSED_STREAM: u32 = 0x7;
/// The HTTP/2 error code `CANCEL`.
pub const H2_CANCEL: u32 = 0x8;
/// The HTTP/2 error code `ENHANCE_YOUR_CALM`.
pub const H2_ENHANCE_YOUR_CALM: u32 = 0xb;

/// What the server does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `200 OK` with this body (`Content-Length` set). See [`Fault::ok`].
    Ok(Vec<u8>),
    /// This status, these extra headers (sent verbatim, in order) and this
    /// body. `Content-Length` and `Date` are added unless `headers` already
    /// has a header of that name (case-insensitive); a `Date` with an empty
    /// value is not sent, so the response has no `Date` header at all.
    Status {
        /// The status code, e.g. 503.
        status: u16,
        /// Extra headers, sent verbatim.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// Read the request, then reset the connection (`SO_LINGER` 0, so the
    /// client sees `ECONNRESET`) before any response byte.
    ResetBeforeResponse,
    /// Send `200`, headers with `Content-Length: RESET_MID_BODY_LEN` and the
    /// first [`RESET_MID_BODY_SENT`] bytes of the body, then reset.
    ResetMidBody,
    /// Read the request and never answer (until the client goes away or the
    /// server is dropped).
    Hang,
    /// Wait this long before sending the status line, then answer `200` `"ok"`.
    SlowHeaders(Duration),
    /// Write [`MALFORMED_STATUS_LINE`], then close.
    MalformedStatusLine,
    /// `200` with a body of this many [`filler`] bytes (`Content-Length` set).
    OversizeBody(usize),
    /// `200` with `Content-Length: body_len`, sending the [`filler`] body one
    /// byte every `interval` (the first byte after the first interval).
    Trickle {
        /// Body length in bytes.
        body_len: usize,
        /// Delay before each byte.
        interval: Duration,
    },
    /// `200` with `Transfer-Encoding: chunked` that never ends: one
    /// [`NEVER_ENDING_CHUNK`] every [`NEVER_ENDING_INTERVAL`] until the client
    /// disconnects or the server is dropped.
    NeverEndingBody,
    /// Read the request, then close the connection cleanly (FIN) without
    /// answering: the client sees EOF before any response byte. (The request
    /// has to be read to know its number in the script, and reading it also
    /// makes the close a FIN rather than a reset.)
    CloseBeforeResponse,
    /// Send `200`, headers with `Content-Length: RESET_MID_BODY_LEN` and the
    /// first [`RESET_MID_BODY_SENT`] bytes of the body, then close the
    /// connection cleanly (FIN): the client sees EOF in the middle of the
    /// body, as it does when a relay or proxy turns a reset into a close.
    CloseMidBody,
    /// Send `200` with `Transfer-Encoding: chunked`, a chunk announcing
    /// [`CLOSE_MID_CHUNK_LEN`] bytes and the first [`CLOSE_MID_CHUNK_SENT`]
    /// of them, then close the connection cleanly (FIN): the client sees
    /// EOF inside a chunk.
    CloseMidChunk,
    /// Send `200` with `Content-Length: OVERLONG_LEN`, then, after
    /// [`OVERLONG_PAUSE`] (so the body does not arrive with the head), the
    /// body and more: `filler(OVERLONG_SENT)`, then close (FIN).
    OverlongBody,
    /// HTTP/2: reset the stream with `REFUSED_STREAM` as soon as its headers
    /// arrive, without reading its body or recording it: the server says it
    /// did not process the request. (HTTP/1.1: `501`.)
    RefusedStream,
    /// HTTP/2: as soon as the stream's headers arrive, send a `GOAWAY` with
    /// this error code whose last stream id is below the stream (the id
    /// before it on the connection, 0 for the first), without reading its
    /// body or recording it: the server says it did not process the
    /// request. With [`H2_NO_ERROR`] (a graceful drain) the connection stays
    /// open until the client closes it; with any other code it is closed
    /// (FIN). Nothing more is sent on the connection. (HTTP/1.1: `501`.)
    GoAwayUnprocessed {
        /// The `GOAWAY`'s error code, e.g. [`H2_NO_ERROR`].
        code: u32,
    },
    /// HTTP/2: read and record the request, then reset its stream with this
    /// error code (e.g. [`H2_INTERNAL_ERROR`]): the server may have acted on
    /// it. (HTTP/1.1: `501`.)
    StreamReset {
        /// The `RST_STREAM`'s error code.
        code: u32,
    },
    /// HTTP/2: read and record the request, send `200` with
    /// `content-length: RESET_MID_BODY_LEN` and the first
    /// [`RESET_MID_BODY_SENT`] bytes of the body, then (after 50 ms, so that
    /// they leave first) reset the stream with this error code.
    /// (HTTP/1.1: `501`.)
    StreamResetMidBody {
        /// The `RST_STREAM`'s error code.
        code: u32,
    },
}

impl Fault {
    /// `200 OK` with this body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::Ok(body.into())
    }

    /// This status with an empty body and no extra headers.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `429 Too Many Requests` with `Retry-After: <secs>`.
    pub fn too_many_requests_secs(secs: u64) -> Self {
        Self::retry_after_raw(429, vec![secs.to_string()])
    }

    /// `429 Too Many Requests` with `Retry-After: <date>` (see [`http_date`]).
    pub fn too_many_requests_date(date: String) -> Self {
        Self::retry_after_raw(429, vec![date])
    }

    /// This status with these extra headers, verbatim and in order, and an
    /// empty body: e.g. `[("RateLimit-Reset", "1")]`, or `[("Date", "")]` for
    /// a response without a `Date` header.
    pub fn with_headers<'h>(
        status: u16,
        headers: impl IntoIterator<Item = (&'h str, &'h str)>,
    ) -> Self {
        Self::Status {
            status,
            headers: headers
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: Vec::new(),
        }
    }

    /// This status with one `Retry-After` header per string, verbatim (for
    /// hostile values: garbage, negative, several headers, none).
    pub fn retry_after_raw(status: u16, values: Vec<String>) -> Self {
        Self::Status {
            status,
            headers: values
                .into_iter()
                .map(|v| ("Retry-After".to_owned(), v))
                .collect(),
            body: Vec::new(),
        }
    }
}

/// A request the server received in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method, e.g. `"GET"`.
    pub method: String,
    /// The request target as sent, e.g. `"/path?q=1"`.
    pub path: String,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked if it was chunked).
    pub body: Vec<u8>,
    /// The request's number, i.e. the index into the script (may be past its
    /// end, in which case the fallback answered).
    pub fault_index: usize,
    /// The connection it came on, numbered from 0 in accept order.
    pub connection_id: u64,
}

impl RecordedRequest {
    /// The value of the first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<RecordedRequest>,
    connections: u64,
    /// Requests whose head arrived, processed or not (in HTTP/1.1, every
    /// request read in full).
    streams: usize,
}

#[derive(Debug)]
struct Shared {
    script: Vec<Fault>,
    fallback: Fault,
    http2: bool,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Configures a [`FaultServer`]; see [`FaultServer::builder`].
#[derive(Debug, Clone)]
pub struct FaultServerBuilder {
    script: Vec<Fault>,
    fallback: Fault,
    bind: SocketAddr,
    http2: bool,
}

impl Default for FaultServerBuilder {
    fn default() -> Self {
        Self {
            script: Vec::new(),
            fallback: Fault::ok("ok"),
            bind: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)),
            http2: false,
        }
    }
}

impl FaultServerBuilder {
    /// The faults for requests 0, 1, 2, ... (replaces any earlier script).
    #[must_use]
    pub fn script(mut self, script: impl IntoIterator<Item = Fault>) -> Self {
        self.script = script.into_iter().collect();
        self
    }

    /// What every request past the end of the script gets (default
    /// `Fault::ok("ok")`).
    #[must_use]
    pub fn fallback(mut self, fault: Fault) -> Self {
        self.fallback = fault;
        self
    }

    /// Listen on this address instead of `127.0.0.1:0` (e.g. a port from
    /// [`closed_port_addr`], to see refusals first and the server later).
    /// `SO_REUSEADDR` is set.
    #[must_use]
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Speak HTTP/2 in cleartext (h2c by prior knowledge) instead of
    /// HTTP/1.1; see the module docs for how the faults apply.
    #[must_use]
    pub fn http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Binds and starts the server thread.
    ///
    /// # Errors
    /// If the address cannot be bound or the runtime cannot be built.
    pub fn start(self) -> io::Result<FaultServer> {
        // std sets SO_REUSEADDR on Unix before binding.
        let std_listener = std::net::TcpListener::bind(self.bind)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let listener = {
            let _guard = rt.enter();
            TcpListener::from_std(std_listener)?
        };
        let shared = Arc::new(Shared {
            script: self.script,
            fallback: self.fallback,
            http2: self.http2,
            state: Mutex::new(State::default()),
        });
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("fault-server-{}", addr.port()))
            .spawn(move || serve(rt, listener, thread_shared, stop_rx))?;
        Ok(FaultServer {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A running fault-injecting HTTP/1.1 server; stops when dropped.
#[derive(Debug)]
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Starts a server on `127.0.0.1:0` with this script and the default
    /// fallback.
    ///
    /// # Panics
    /// If binding a loopback port fails.
    pub fn start(script: impl IntoIterator<Item = Fault>) -> Self {
        Self::builder()
            .script(script)
            .start()
            .expect("fault server: cannot start on 127.0.0.1:0")
    }

    /// A builder for a server with a fallback or address of its own.
    pub fn builder() -> FaultServerBuilder {
        FaultServerBuilder::default()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/path` (a missing leading `/` is added).
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.addr)
    }

    /// How many requests were fully received.
    pub fn received(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// How many fully received requests had this method (case-sensitive).
    pub fn received_with_method(&self, method: &str) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.method == method)
            .count()
    }

    /// Every fully received request, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many requests arrived, processed or not: in HTTP/2 every stream
    /// (those refused by [`Fault::RefusedStream`] and
    /// [`Fault::GoAwayUnprocessed`] too), in HTTP/1.1 the same as
    /// [`received`](Self::received).
    pub fn streams(&self) -> usize {
        self.shared.lock().streams
    }

    /// How many TCP connections were accepted.
    pub fn connections(&self) -> u64 {
        self.shared.lock().connections
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error only means the server thread is already gone.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread is not re-raised during drop.
            let _ = thread.join();
        }
    }
}

/// An address on 127.0.0.1 where nothing listens: connecting to it is
/// refused (`ECONNREFUSED`). The port was free a moment ago and may be
/// reused later, e.g. by [`FaultServerBuilder::bind`].
///
/// # Panics
/// If no loopback port can be bound.
pub fn closed_port_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("closed_port_addr: cannot bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("closed_port_addr: no local address")
}

/// Keeps a listener whose accept queue is full alive; see
/// [`backlog_full_addr`].
#[derive(Debug)]
pub struct BacklogFullGuard {
    _listener: std::net::TcpListener,
    _fillers: Vec<std::net::TcpStream>,
}

/// A loopback address where a TCP connect neither succeeds nor fails but
/// hangs (a real connect timeout), for as long as the guard lives.
///
/// It is a listener with backlog 1 that never accepts, its accept queue
/// filled with connections; Linux drops further SYNs, so the client keeps
/// retransmitting its SYN until its own timeout.
///
/// # Panics
/// If the listener cannot be set up or its queue does not fill up.
pub fn backlog_full_addr() -> (BacklogFullGuard, SocketAddr) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("backlog_full_addr: runtime");
    let listener = {
        let _guard = rt.enter();
        let socket = tokio::net::TcpSocket::new_v4().expect("backlog_full_addr: socket");
        socket
            .bind(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))
            .expect("backlog_full_addr: bind");
        socket
            .listen(1)
            .and_then(TcpListener::into_std)
            .expect("backlog_full_addr: listen")
    };
    drop(rt);
    let addr = listener.local_addr().expect("backlog_full_addr: address");
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(stream) => fillers.push(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return (
                    BacklogFullGuard {
                        _listener: listener,
                        _fillers: fillers,
                    },
                    addr,
                );
            }
            Err(e) => panic!("backlog_full_addr: filling connect failed: {e}"),
        }
    }
    panic!("backlog_full_addr: the accept queue did not fill up after 16 connections");
}

/// Formats `t` as an IMF-fixdate (RFC 9110), e.g.
/// `"Sun, 06 Nov 1994 08:49:37 GMT"`, truncating sub-second parts. Times
/// before 1970 are supported.
pub fn http_date(t: SystemTime) -> String {
    let secs: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            // Round towards minus infinity.
            if d.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    };
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month_name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

// ---------------------------------------------------------------------------
// Server internals.

fn serve(rt: Runtime, listener: TcpListener, shared: Arc<Shared>, stop: oneshot::Receiver<()>) {
    rt.block_on(async move {
        tokio::select! {
            _ = stop => {}
            () = accept_loop(listener, shared) => {}
        }
    });
    // Dropping the runtime cancels every connection task and closes its socket.
    drop(rt);
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let id = {
                    let mut state = shared.lock();
                    let id = state.connections;
                    state.connections += 1;
                    id
                };
                let _ = stream.set_nodelay(true);
                if shared.http2 {
                    tokio::spawn(http2::serve_connection(stream, id, Arc::clone(&shared)));
                    continue;
                }
                let conn = Conn {
                    stream,
                    buf: Vec::new(),
                    id,
                };
                tokio::spawn(handle_connection(conn, Arc::clone(&shared)));
            }
            // E.g. EMFILE or a connection reset before accept: back off a bit.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

struct Conn {
    stream: TcpStream,
    /// Bytes read but not consumed yet (pipelined requests stay here).
    buf: Vec<u8>,
    id: u64,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("id", &self.id)
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

/// Why reading a request failed.
#[derive(Debug)]
enum ReadError {
    /// Clean EOF before the first byte of a request: the client is done.
    Closed,
    /// EOF in the middle of a request, or an I/O error.
    Io,
    /// Head larger than [`MAX_HEAD_BYTES`].
    HeadTooLarge,
    /// Body larger than [`MAX_BODY_BYTES`].
    BodyTooLarge,
    /// Unparseable request.
    Bad,
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    keep_alive: bool,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn find_crlf_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

impl Conn {
    /// Reads more bytes into `buf`; `Ok(0)` at EOF.
    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Takes `n` bytes from the front of `buf`, reading more as needed.
    async fn take(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            match self.fill().await {
                Ok(0) | Err(_) => return Err(ReadError::Io),
                Ok(_) => {}
            }
        }
        let rest = self.buf.split_off(n);
        Ok(core::mem::replace(&mut self.buf, rest))
    }

    /// Takes one CRLF-terminated line (without the CRLF).
    async fn take_line(&mut self, limit: usize) -> Result<Vec<u8>, ReadError> {
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.buf[scanned..].windows(2).position(|w| w == b"\r\n") {
                let line = self.take(scanned + pos + 2).await?;
                return Ok(line[..line.len() - 2].to_vec());
            }
            scanned = self.buf.len().saturating_sub(1);
            if self.buf.len() > limit {
                return Err(ReadError::Bad);
            }
            match self.fill().await {
                Ok(0) | Err(_) => return Err(ReadError::Io),
                Ok(_) => {}
            }
        }
    }

    async fn read_request(&mut self) -> Result<Request, ReadError> {
        // Head.
        let mut scanned = 0;
        let head_len = loop {
            if let Some(pos) = find_crlf_crlf(&self.buf[scanned..]) {
                break scanned + pos + 4;
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(ReadError::HeadTooLarge);
            }
            scanned = self.buf.len().saturating_sub(3);
            match self.fill().await {
                Ok(0) if self.buf.is_empty() => return Err(ReadError::Closed),
                Ok(0) | Err(_) => return Err(ReadError::Io),
                Ok(_) => {}
            }
        };
        if head_len > MAX_HEAD_BYTES {
            return Err(ReadError::HeadTooLarge);
        }
        let head = self.take(head_len).await?;
        let head = core::str::from_utf8(&head[..head_len - 4]).map_err(|_| ReadError::Bad)?;
        let mut lines = head.split("\r\n");
        let request_line = lines.next().ok_or(ReadError::Bad)?;
        let mut parts = request_line.split(' ');
        let (Some(method), Some(path), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ReadError::Bad);
        };
        if method.is_empty() || path.is_empty() || !version.starts_with("HTTP/1.") {
            return Err(ReadError::Bad);
        }
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line.split_once(':').ok_or(ReadError::Bad)?;
            if name.is_empty() || name.ends_with(' ') || name.ends_with('\t') {
                return Err(ReadError::Bad);
            }
            headers.push((name.to_owned(), value.trim().to_owned()));
        }

        let connection = header(&headers, "Connection").unwrap_or("");
        let has_token = |token: &str| {
            connection
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        let keep_alive = if version == "HTTP/1.0" {
            has_token("keep-alive")
        } else {
            !has_token("close")
        };

        let chunked = header(&headers, "Transfer-Encoding").is_some_and(|te| {
            te.rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        });
        let content_length = match header(&headers, "Content-Length") {
            Some(v) => Some(v.parse::<usize>().map_err(|_| ReadError::Bad)?),
            None => None,
        };
        if content_length.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(ReadError::BodyTooLarge);
        }
        let expects_body = chunked || content_length.is_some_and(|n| n > 0);
        if expects_body
            && header(&headers, "Expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| ReadError::Io)?;
        }

        let body = if chunked {
            self.read_chunked_body().await?
        } else if let Some(n) = content_length {
            self.take(n).await?
        } else {
            Vec::new()
        };

        Ok(Request {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
            body,
            keep_alive,
        })
    }

    async fn read_chunked_body(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.take_line(4096).await?;
            let line = core::str::from_utf8(&line).map_err(|_| ReadError::Bad)?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| ReadError::Bad)?;
            if size == 0 {
                // Trailers, up to an empty line.
                let mut trailer_bytes = 0;
                loop {
                    let trailer = self.take_line(MAX_HEAD_BYTES).await?;
                    if trailer.is_empty() {
                        return Ok(body);
                    }
                    trailer_bytes += trailer.len();
                    if trailer_bytes > MAX_HEAD_BYTES {
                        return Err(ReadError::HeadTooLarge);
                    }
                }
            }
            if body.len() + size > MAX_BODY_BYTES {
                return Err(ReadError::BodyTooLarge);
            }
            let data = self.take(size).await?;
            body.extend_from_slice(&data);
            if self.take(2).await? != b"\r\n" {
                return Err(ReadError::Bad);
            }
        }
    }

    /// Answers with a short error and closes, draining what the client still
    /// sends for a moment so that the close is a FIN rather than a reset.
    async fn refuse(mut self, status: u16) {
        let response = format!(
            "HTTP/1.1 {status} {}\r\nContent-Length: 0\r\nConnection: close\r\nDate: {}\r\n\r\n",
            reason(status),
            http_date(SystemTime::now())
        );
        if self.stream.write_all(response.as_bytes()).await.is_ok() {
            let _ = self.stream.shutdown().await;
            let _ = tokio::time::timeout(Duration::from_millis(200), async {
                let mut sink = [0u8; 8192];
                while matches!(self.stream.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
        }
    }

    fn reset(self) {
        // SO_LINGER 0: close() sends RST instead of FIN.
        let _ = self.stream.set_zero_linger();
        drop(self.stream);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        425 => "Too Early",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Status line and headers, ending with the blank line. `Content-Length` and
/// `Date` are added unless `extra` has them (an empty `Date` in `extra`
/// means none is sent); `Connection: close` is added when the connection
/// will be closed.
fn response_head(
    status: u16,
    extra: &[(String, String)],
    content_length: Option<usize>,
    keep_alive: bool,
) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in extra {
        // An empty `Date` is the override that means "no Date header".
        if value.is_empty() && name.eq_ignore_ascii_case("Date") {
            continue;
        }
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    if let Some(len) = content_length
        && header(extra, "Content-Length").is_none()
    {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    if header(extra, "Date").is_none() {
        head.push_str(&format!("Date: {}\r\n", http_date(SystemTime::now())));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Keep serving the connection after this response?
enum Next {
    KeepAlive,
    Close,
}

async fn handle_connection(mut conn: Conn, shared: Arc<Shared>) {
    loop {
        let request = match conn.read_request().await {
            Ok(request) => request,
            Err(ReadError::Closed | ReadError::Io) => return,
            Err(ReadError::HeadTooLarge) => return conn.refuse(431).await,
            Err(ReadError::BodyTooLarge) => return conn.refuse(413).await,
            Err(ReadError::Bad) => return conn.refuse(400).await,
        };
        let fault = {
            let mut state = shared.lock();
            let index = state.requests.len();
            state.streams += 1;
            state.requests.push(RecordedRequest {
                method: request.method.clone(),
                path: request.path.clone(),
                headers: request.headers.clone(),
                body: request.body.clone(),
                fault_index: index,
                connection_id: conn.id,
            });
            shared.script.get(index).unwrap_or(&shared.fallback).clone()
        };
        match apply(&mut conn, &request, fault).await {
            Ok(Next::KeepAlive) if request.keep_alive => {}
            Ok(Next::KeepAlive) => {
                let _ = conn.stream.shutdown().await;
                return;
            }
            Ok(Next::Close) => {
                let _ = conn.stream.shutdown().await;
                return;
            }
            Err(Reset) => return conn.reset(),
        }
    }
}

/// The connection must be reset (`SO_LINGER` 0), or an I/O error occurred.
struct Reset;

impl From<io::Error> for Reset {
    fn from(_: io::Error) -> Self {
        Self
    }
}

async fn apply(conn: &mut Conn, request: &Request, fault: Fault) -> Result<Next, Reset> {
    let head_only = request.method.eq_ignore_ascii_case("HEAD");
    let keep_alive = request.keep_alive;
    let stream = &mut conn.stream;
    match fault {
        Fault::Ok(body) => {
            write_simple(stream, 200, &[], &body, head_only, keep_alive).await?;
            Ok(Next::KeepAlive)
        }
        Fault::Status {
            status,
            headers,
            body,
        } => {
            write_simple(stream, status, &headers, &body, head_only, keep_alive).await?;
            Ok(Next::KeepAlive)
        }
        Fault::SlowHeaders(delay) => {
            tokio::time::sleep(delay).await;
            write_simple(stream, 200, &[], b"ok", head_only, keep_alive).await?;
            Ok(Next::KeepAlive)
        }
        Fault::OversizeBody(len) => {
            stream
                .write_all(&response_head(200, &[], Some(len), keep_alive))
                .await?;
            if !head_only {
                let block = filler(26 * 630); // A multiple of 26 keeps the cycle aligned.
                let mut left = len;
                while left > 0 {
                    let n = left.min(block.len());
                    stream.write_all(&block[..n]).await?;
                    left -= n;
                }
            }
            stream.flush().await?;
            Ok(Next::KeepAlive)
        }
        Fault::Trickle { body_len, interval } => {
            stream
                .write_all(&response_head(200, &[], Some(body_len), keep_alive))
                .await?;
            stream.flush().await?;
            if !head_only {
                for i in 0..body_len {
                    tokio::time::sleep(interval).await;
                    stream.write_all(&[filler_byte(i)]).await?;
                    stream.flush().await?;
                }
            }
            Ok(Next::KeepAlive)
        }
        Fault::ResetBeforeResponse => Err(Reset),
        Fault::ResetMidBody => {
            let mut response = response_head(200, &[], Some(RESET_MID_BODY_LEN), false);
            response.extend_from_slice(&filler(RESET_MID_BODY_SENT));
            stream.write_all(&response).await?;
            stream.flush().await?;
            // A zero-linger close discards unsent data: let the bytes leave first.
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(Reset)
        }
        Fault::Hang => {
            // Discard whatever comes until the client goes away; dropping the
            // server cancels this task.
            let mut sink = [0u8; 8192];
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            Ok(Next::Close)
        }
        Fault::MalformedStatusLine => {
            stream.write_all(MALFORMED_STATUS_LINE).await?;
            stream.flush().await?;
            Ok(Next::Close)
        }
        Fault::NeverEndingBody => {
            let head = response_head(
                200,
                &[("Transfer-Encoding".to_owned(), "chunked".to_owned())],
                None,
                false,
            );
            stream.write_all(&head).await?;
            if head_only {
                return Ok(Next::Close);
            }
            let chunk = {
                let mut c = format!("{:x}\r\n", NEVER_ENDING_CHUNK.len()).into_bytes();
                c.extend_from_slice(NEVER_ENDING_CHUNK);
                c.extend_from_slice(b"\r\n");
                c
            };
            // Ends with a write error once the client has gone away, or when
            // the server is dropped.
            loop {
                stream.write_all(&chunk).await?;
                stream.flush().await?;
                tokio::time::sleep(NEVER_ENDING_INTERVAL).await;
            }
        }
        Fault::CloseBeforeResponse => Ok(Next::Close),
        fault @ (Fault::RefusedStream
        | Fault::GoAwayUnprocessed { .. }
        | Fault::StreamReset { .. }
        | Fault::StreamResetMidBody { .. }) => {
            let body = format!("{fault:?} is an HTTP/2 fault");
            write_simple(stream, 501, &[], body.as_bytes(), head_only, keep_alive).await?;
            Ok(Next::KeepAlive)
        }
        Fault::CloseMidChunk => {
            let chunked = [("Transfer-Encoding".to_owned(), "chunked".to_owned())];
            let mut response = response_head(200, &chunked, None, false);
            if !head_only {
                response.extend_from_slice(format!("{CLOSE_MID_CHUNK_LEN:x}\r\n").as_bytes());
                response.extend_from_slice(&filler(CLOSE_MID_CHUNK_SENT));
            }
            stream.write_all(&response).await?;
            stream.flush().await?;
            Ok(Next::Close)
        }
        Fault::OverlongBody => {
            stream
                .write_all(&response_head(200, &[], Some(OVERLONG_LEN), false))
                .await?;
            stream.flush().await?;
            if !head_only {
                tokio::time::sleep(OVERLONG_PAUSE).await;
                stream.write_all(&filler(OVERLONG_SENT)).await?;
                stream.flush().await?;
            }
            Ok(Next::Close)
        }
        Fault::CloseMidBody => {
            let mut response = response_head(200, &[], Some(RESET_MID_BODY_LEN), false);
            if !head_only {
                response.extend_from_slice(&filler(RESET_MID_BODY_SENT));
            }
            stream.write_all(&response).await?;
            stream.flush().await?;
            Ok(Next::Close)
        }
    }
}

async fn write_simple(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let mut response = response_head(status, headers, Some(body.len()), keep_alive);
    if !head_only {
        response.extend_from_slice(body);
    }
    stream.write_all(&response).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn http_date_known_values() {
        assert_eq!(http_date(at(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(at(784_111_777)), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(at(951_782_400)), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(
            http_date(at(4_102_444_799)),
            "Thu, 31 Dec 2099 23:59:59 GMT"
        );
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_millis(1_500)),
            "Thu, 01 Jan 1970 00:00:01 GMT"
        );
        assert_eq!(
            http_date(UNIX_EPOCH - Duration::from_secs(1)),
            "Wed, 31 Dec 1969 23:59:59 GMT"
        );
        assert_eq!(
            http_date(UNIX_EPOCH - Duration::from_millis(500)),
            "Wed, 31 Dec 1969 23:59:59 GMT"
        );
    }

    #[test]
    fn filler_cycles_through_the_alphabet() {
        assert_eq!(filler(0), b"");
        assert_eq!(filler(28), b"abcdefghijklmnopqrstuvwxyzab");
    }
}
