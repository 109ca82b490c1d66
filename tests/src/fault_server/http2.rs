//! The fault server's HTTP/2 mode (h2c: HTTP/2 in cleartext by prior
//! knowledge).
//!
//! Each connection is served by the `h2` crate's server, over an in-memory
//! pipe: a relay copies bytes between the TCP socket and the pipe and passes
//! the server's output on in whole frames. The faults that HTTP/2 servers
//! send but `h2` does not let a server choose (a `GOAWAY` whose last stream
//! id is below a stream the server has seen) are frames the relay writes
//! itself, between two whole frames; after them nothing more of `h2`'s
//! output is passed on, since the client and `h2` no longer agree on the
//! connection's state.

use alloc::sync::Arc;
use core::time::Duration;
use std::time::SystemTime;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use http::{HeaderName, HeaderValue, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::{
    Fault, H2_NO_ERROR, MAX_BODY_BYTES, NEVER_ENDING_CHUNK, NEVER_ENDING_INTERVAL,
    RESET_MID_BODY_LEN, RESET_MID_BODY_SENT, RecordedRequest, Shared, filler, filler_byte,
    http_date,
};

/// The size of each direction's buffer in the pipe between the relay and
/// `h2`.
const PIPE_BYTES: usize = 64 * 1024;

/// The length of an HTTP/2 frame header.
const FRAME_HEADER: usize = 9;

/// What a stream's handler asks the relay to do to the connection.
#[derive(Debug)]
enum Command {
    /// Write a `GOAWAY` with this last stream id and error code. With
    /// `NO_ERROR`, keep the connection open (draining) until the client
    /// closes it; otherwise close it.
    GoAway { last_stream_id: u32, code: u32 },
    /// Reset the TCP connection (`SO_LINGER` 0).
    Reset,
    /// Close the TCP connection (FIN).
    Close,
}

/// A command and the signal that the relay carried it out.
#[derive(Debug)]
struct Order {
    command: Command,
    done: oneshot::Sender<()>,
}

/// Serves one accepted connection in HTTP/2 until the client or the server
/// closes it.
pub(super) async fn serve_connection(tcp: TcpStream, id: u64, shared: Arc<Shared>) {
    let (server_io, relay_io) = tokio::io::duplex(PIPE_BYTES);
    let (orders, commands) = mpsc::unbounded_channel();
    tokio::spawn(serve_streams(server_io, id, shared, orders));
    relay(tcp, relay_io, commands).await;
}

/// Accepts the connection's streams and answers each on its own task.
async fn serve_streams(
    io: DuplexStream,
    connection_id: u64,
    shared: Arc<Shared>,
    orders: mpsc::UnboundedSender<Order>,
) {
    let Ok(mut conn) = h2::server::handshake(io).await else {
        return;
    };
    while let Some(Ok((request, respond))) = conn.accept().await {
        let (index, fault) = {
            let mut state = shared.lock();
            let index = state.streams;
            state.streams += 1;
            (
                index,
                shared.script.get(index).unwrap_or(&shared.fallback).clone(),
            )
        };
        let stream = Stream {
            index,
            connection_id,
            shared: Arc::clone(&shared),
            orders: orders.clone(),
        };
        tokio::spawn(stream.answer(request, respond, fault));
    }
}

/// One stream being answered.
struct Stream {
    index: usize,
    connection_id: u64,
    shared: Arc<Shared>,
    orders: mpsc::UnboundedSender<Order>,
}

impl Stream {
    async fn answer(
        self,
        request: http::Request<RecvStream>,
        mut respond: SendResponse<Bytes>,
        fault: Fault,
    ) {
        // The faults that say the stream was not processed: its body is not
        // read and the request is not recorded.
        if matches!(
            fault,
            Fault::RefusedStream | Fault::GoAwayUnprocessed { .. }
        ) {
            return self.apply(respond, fault, false).await;
        }
        let (parts, mut body) = request.into_parts();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.data().await {
            let Ok(chunk) = chunk else {
                return;
            };
            let _ = body.flow_control().release_capacity(chunk.len());
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_BODY_BYTES {
                let _ = send(&mut respond, 413, &[], Vec::new(), false);
                return;
            }
        }
        let head_only = parts.method == http::Method::HEAD;
        let headers = parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.shared.lock().requests.push(RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            headers,
            body: bytes,
            fault_index: self.index,
            connection_id: self.connection_id,
        });
        self.apply(respond, fault, head_only).await;
    }

    /// Applies a fault: to a stream whose request was read and recorded, or
    /// (for the faults that refuse it) only seen.
    async fn apply(self, mut respond: SendResponse<Bytes>, fault: Fault, head_only: bool) {
        match fault {
            Fault::RefusedStream => respond.send_reset(Reason::REFUSED_STREAM),
            Fault::GoAwayUnprocessed { code } => {
                // The stream before this one on the connection (client
                // streams have odd ids), or 0 for the first.
                let last_stream_id = u32::from(respond.stream_id()).saturating_sub(2);
                self.order(Command::GoAway {
                    last_stream_id,
                    code,
                })
                .await;
                // The relay passes nothing of `h2`'s on after the frame, so
                // dropping the stream (which resets it) is not seen.
            }
            Fault::Ok(body) => {
                let _ = send(&mut respond, 200, &[], body, head_only);
            }
            Fault::Status {
                status,
                headers,
                body,
            } => {
                let _ = send(&mut respond, status, &headers, body, head_only);
            }
            Fault::SlowHeaders(delay) => {
                tokio::time::sleep(delay).await;
                let _ = send(&mut respond, 200, &[], b"ok".to_vec(), head_only);
            }
            Fault::OversizeBody(len) => {
                let _ = send(&mut respond, 200, &[], filler(len), head_only);
            }
            Fault::Trickle { body_len, interval } => {
                let Ok(mut body) = start(&mut respond, 200, &[], Some(body_len), head_only) else {
                    return;
                };
                if head_only {
                    return;
                }
                for i in 0..body_len {
                    tokio::time::sleep(interval).await;
                    let byte = Bytes::copy_from_slice(&[filler_byte(i)]);
                    if body.send_data(byte, i + 1 == body_len).is_err() {
                        return;
                    }
                }
            }
            Fault::NeverEndingBody => {
                let Ok(mut body) = start(&mut respond, 200, &[], None, head_only) else {
                    return;
                };
                if head_only {
                    return;
                }
                // Ends with an error once the client reset the stream or went
                // away, or when the server is dropped.
                while body
                    .send_data(Bytes::from_static(NEVER_ENDING_CHUNK), false)
                    .is_ok()
                {
                    tokio::time::sleep(NEVER_ENDING_INTERVAL).await;
                }
            }
            Fault::Hang => {
                // Hold the stream open until the client resets it or goes
                // away; dropping the server cancels this task.
                let _ = core::future::poll_fn(|cx| respond.poll_reset(cx)).await;
            }
            Fault::StreamReset { code } => respond.send_reset(Reason::from(code)),
            Fault::StreamResetMidBody { code } => {
                let Ok(mut body) =
                    start(&mut respond, 200, &[], Some(RESET_MID_BODY_LEN), head_only)
                else {
                    return;
                };
                if !head_only {
                    let sent = Bytes::from(filler(RESET_MID_BODY_SENT));
                    if body.send_data(sent, false).is_err() {
                        return;
                    }
                }
                // A reset drops the stream's frames not yet written: let
                // them leave first.
                tokio::time::sleep(Duration::from_millis(50)).await;
                body.send_reset(Reason::from(code));
            }
            Fault::ResetBeforeResponse => self.order(Command::Reset).await,
            Fault::CloseBeforeResponse => self.order(Command::Close).await,
            fault @ (Fault::MalformedStatusLine
            | Fault::ResetMidBody
            | Fault::CloseMidBody
            | Fault::CloseMidChunk
            | Fault::OverlongBody) => {
                let body = format!("{fault:?} is an HTTP/1.1 fault").into_bytes();
                let _ = send(&mut respond, 501, &[], body, head_only);
            }
        }
    }

    /// Has the relay carry out `command`, and waits until it did (or the
    /// connection is gone).
    async fn order(&self, command: Command) {
        let (done, carried_out) = oneshot::channel();
        if self.orders.send(Order { command, done }).is_ok() {
            let _ = carried_out.await;
        }
    }
}

/// Sends the response head: `Date` and, for a known length,
/// `content-length` are added unless `extra` has them. Returns the body's
/// sender (already ended for a `HEAD` request).
fn start(
    respond: &mut SendResponse<Bytes>,
    status: u16,
    extra: &[(String, String)],
    content_length: Option<usize>,
    head_only: bool,
) -> Result<h2::SendStream<Bytes>, h2::Error> {
    let mut response = Response::new(());
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    if let Some(len) = content_length
        && !headers.contains_key(http::header::CONTENT_LENGTH)
    {
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    if !headers.contains_key(http::header::DATE)
        && let Ok(date) = HeaderValue::from_str(&http_date(SystemTime::now()))
    {
        headers.insert(http::header::DATE, date);
    }
    respond.send_response(response, head_only)
}

/// A whole response: head, then the body in one `DATA` frame sequence.
fn send(
    respond: &mut SendResponse<Bytes>,
    status: u16,
    extra: &[(String, String)],
    body: Vec<u8>,
    head_only: bool,
) -> Result<(), h2::Error> {
    let empty = body.is_empty();
    let mut stream = start(respond, status, extra, Some(body.len()), head_only || empty)?;
    if head_only || empty {
        return Ok(());
    }
    stream.send_data(Bytes::from(body), true)
}

/// A `GOAWAY` frame (RFC 9113, section 6.8) on stream 0.
fn go_away_frame(last_stream_id: u32, code: u32) -> [u8; FRAME_HEADER + 8] {
    let mut frame = [0u8; FRAME_HEADER + 8];
    // Length 8, type 0x7, no flags, stream 0.
    frame[2] = 8;
    frame[3] = 0x7;
    frame[FRAME_HEADER..FRAME_HEADER + 4]
        .copy_from_slice(&(last_stream_id & 0x7fff_ffff).to_be_bytes());
    frame[FRAME_HEADER + 4..].copy_from_slice(&code.to_be_bytes());
    frame
}

/// The length of the whole frames at the start of `buf`.
fn whole_frames(buf: &[u8]) -> usize {
    let mut at = 0;
    while let Some(header) = buf.get(at..at + FRAME_HEADER) {
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        if buf.len() < at + FRAME_HEADER + len {
            break;
        }
        at += FRAME_HEADER + len;
    }
    at
}

/// Copies bytes between the client and `h2` until either side closes, and
/// carries out the handlers' commands between two whole frames.
async fn relay(
    mut tcp: TcpStream,
    mut server: DuplexStream,
    mut commands: mpsc::UnboundedReceiver<Order>,
) {
    let mut from_client = vec![0u8; 16 * 1024];
    let mut from_server = vec![0u8; 16 * 1024];
    // `h2`'s output not yet a whole frame (the client preface's answer
    // starts with a frame, so frames start at offset 0).
    let mut partial: Vec<u8> = Vec::new();
    // After a `GOAWAY` of the relay's own, nothing more is passed on.
    let mut draining = false;
    let mut orders_open = true;
    loop {
        tokio::select! {
            read = tcp.read(&mut from_client) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if !draining && server.write_all(&from_client[..n]).await.is_err() {
                        return;
                    }
                }
            },
            read = server.read(&mut from_server), if !draining => match read {
                Ok(0) | Err(_) => {
                    // `h2` closed the connection: pass that on.
                    let _ = tcp.shutdown().await;
                    return drain(tcp).await;
                }
                Ok(n) => {
                    partial.extend_from_slice(&from_server[..n]);
                    let whole = whole_frames(&partial);
                    if whole > 0 {
                        if tcp.write_all(&partial[..whole]).await.is_err() {
                            return;
                        }
                        partial.drain(..whole);
                    }
                }
            },
            order = commands.recv(), if orders_open => {
                let Some(Order { command, done }) = order else {
                    orders_open = false;
                    continue;
                };
                match command {
                    Command::GoAway { last_stream_id, code } => {
                        let frame = go_away_frame(last_stream_id, code);
                        let written = tcp.write_all(&frame).await.and(tcp.flush().await);
                        let _ = done.send(());
                        if written.is_err() {
                            return;
                        }
                        draining = true;
                        if code != H2_NO_ERROR {
                            let _ = tcp.shutdown().await;
                            return drain(tcp).await;
                        }
                    }
                    Command::Reset => {
                        let _ = tcp.set_zero_linger();
                        drop(tcp);
                        let _ = done.send(());
                        return;
                    }
                    Command::Close => {
                        let _ = tcp.shutdown().await;
                        let _ = done.send(());
                        return drain(tcp).await;
                    }
                }
            }
        }
    }
}

/// Reads and discards what the client still sends, until it closes or for
/// at most a second, so that closing the socket sends a FIN rather than a
/// reset (unread data would turn the close into a reset).
async fn drain(mut tcp: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut sink = [0u8; 8192];
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_at_their_boundaries() {
        let goaway = go_away_frame(3, 0x2);
        assert_eq!(goaway, [0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2],);
        let mut two = goaway.to_vec();
        two.extend_from_slice(&goaway);
        assert_eq!(whole_frames(&two), 34);
        assert_eq!(whole_frames(&two[..33]), 17);
        assert_eq!(whole_frames(&two[..5]), 0);
        // An empty frame (a SETTINGS ack) is whole with its header alone.
        assert_eq!(whole_frames(&[0, 0, 0, 4, 1, 0, 0, 0, 0]), 9);
    }
}
