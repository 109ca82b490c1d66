//! One attempt over reqwless, with a timeout per phase: [`SendOnce`] and
//! its implementation, [`HttpTransport`].
//!
//! An attempt has three phases, each with its own timeout on the clock:
//!
//! 1. **connect**: DNS, TCP connect, TLS handshake (reqwless opens a new
//!    connection per request);
//! 2. **exchange**: write the request, read the response head;
//! 3. **body**: read the body into the caller's buffer.
//!
//! The request head is formatted into the caller's buffer before anything
//! touches the network (a bad URL or header fails at once, and the head goes
//! out in one write), then the same buffer receives the response.
#![allow(async_fn_in_trait)]

use core::cell::Cell;
#[cfg(feature = "tls")]
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::time::Duration;

use embassy_futures::select::{Either, select};
use embedded_io_async::Write as _;
use embedded_nal_async::{Dns, TcpConnect};
use reqwless::TryBufRead;
use reqwless::client::HttpClient;
use tenace::Clock;
use tenace::http::{HttpDate, delay_hint, parse_http_date};

use crate::error::{Cause, Error, IoErrorKind, Phase, RequestError};
use crate::head::write_head;
use crate::request::Request;
use crate::response::{Head, Response};
use crate::timeouts::Timeouts;
#[cfg(feature = "tls")]
use crate::tls::Tls;
use tenace::EmbassyClock;

/// Sends a request once and reads the response into a buffer: one attempt,
/// no retry. [`HttpTransport`] is the implementation; the trait lets a
/// [`Client`](crate::Client) and [`Buffered`](crate::Buffered) take any of them (a test
/// double, a wrapper that counts bytes).
///
/// # Implementing
///
/// ```
/// use tenace_embedded::{EmbassyClock, Error, Request, Response, SendOnce};
///
/// /// Fails every request before sending it.
/// struct Offline(EmbassyClock);
///
/// impl SendOnce for Offline {
///     type Clock = EmbassyClock;
///     fn clock(&self) -> &EmbassyClock {
///         &self.0
///     }
///     async fn send_once<'b>(&self, _: &Request<'_>, _: &'b mut [u8]) -> Result<Response<'b>, Error> {
///         Err(Error::Connect(tenace_embedded::Cause::Dns))
///     }
/// }
/// ```
pub trait SendOnce {
    /// The clock that times the phases; clients use it for backoff too.
    type Clock: Clock;

    /// The clock.
    fn clock(&self) -> &Self::Clock;

    /// Sends `request` and reads the response into `buffer`. The body is a
    /// slice of `buffer`; the buffer also holds the request head while it is
    /// sent.
    async fn send_once<'b>(
        &self,
        request: &Request<'_>,
        buffer: &'b mut [u8],
    ) -> Result<Response<'b>, Error>;
}

impl<S: SendOnce + ?Sized> SendOnce for &S {
    type Clock = S::Clock;
    fn clock(&self) -> &S::Clock {
        (**self).clock()
    }
    async fn send_once<'b>(
        &self,
        request: &Request<'_>,
        buffer: &'b mut [u8],
    ) -> Result<Response<'b>, Error> {
        (**self).send_once(request, buffer).await
    }
}

/// HTTP/1.1 over reqwless on any embedded-nal-async TCP and DNS stack
/// (embassy-net's `TcpClient` and `DnsSocket` on firmware,
/// `std-embedded-nal-async` on a host), timed on clock `C`.
///
/// It holds references and settings only; one value serves any number of
/// calls. Each attempt opens its own connection, as reqwless does, and
/// sends `Connection: close`.
pub struct HttpTransport<'a, T, D, C = EmbassyClock> {
    tcp: &'a T,
    dns: &'a D,
    clock: C,
    timeouts: Timeouts,
    #[cfg(feature = "tls")]
    tls: Option<RefCell<Tls<'a>>>,
}

impl<T, D, C: fmt::Debug> fmt::Debug for HttpTransport<'_, T, D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("HttpTransport");
        s.field("clock", &self.clock)
            .field("timeouts", &self.timeouts);
        #[cfg(feature = "tls")]
        s.field("tls", &self.tls.is_some());
        s.finish_non_exhaustive()
    }
}

impl<'a, T, D> HttpTransport<'a, T, D> {
    /// A transport over these stacks with the embassy-time clock and
    /// [`Timeouts::DEFAULT`].
    pub const fn new(tcp: &'a T, dns: &'a D) -> Self {
        Self {
            tcp,
            dns,
            clock: EmbassyClock,
            timeouts: Timeouts::DEFAULT,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl<'a, T, D, C> HttpTransport<'a, T, D, C> {
    /// The same transport timed on `clock` (a
    /// [`WakeOnLinkUp`](crate::WakeOnLinkUp), a test clock).
    pub fn with_clock<C2>(self, clock: C2) -> HttpTransport<'a, T, D, C2> {
        HttpTransport {
            tcp: self.tcp,
            dns: self.dns,
            clock,
            timeouts: self.timeouts,
            #[cfg(feature = "tls")]
            tls: self.tls,
        }
    }

    /// The same transport with these phase timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The same transport, speaking TLS to `https://` URLs.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, tls: Tls<'a>) -> Self {
        self.tls = Some(RefCell::new(tls));
        self
    }

    /// The phase timeouts.
    pub const fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }
}

/// Runs `fut` for at most `limit` on `clock`; `None` if the time ran out.
async fn within<C: Clock, F: Future>(
    clock: &C,
    limit: Option<Duration>,
    fut: F,
) -> Option<F::Output> {
    match limit {
        None => Some(fut.await),
        Some(limit) => match select(fut, clock.sleep(limit)).await {
            Either::First(out) => Some(out),
            Either::Second(()) => None,
        },
    }
}

/// The connection as reqwless reads the response from it: a read after
/// the connection reported end of stream fails with `ConnectionAborted`,
/// and no read goes past the end of a fixed-length body.
///
/// reqwless reads a chunked body until its last chunk; at end of stream in
/// the middle of a chunk it reads again, forever, and a closed socket is
/// always ready, so the loop never yields and no timeout could end it. Its
/// other readers stop at the first end of stream, so the guard changes
/// nothing else. [`ended`](Self::ended) tells a body cut short by the
/// peer's close from other failures.
///
/// reqwless reads a `Content-Length` body into the caller's buffer with
/// reads as large as the rest of the buffer, and subtracts what came from
/// what is left: bytes past the announced length (a server that sends more
/// than it announced) would make that overflow. Once the head is read,
/// `body_end` holds the address in the buffer where the body ends; a read
/// into the buffer is cut there, so the bytes past it stay unread, as any
/// HTTP/1.1 client leaves them on a closed connection.
struct StopAtEnd<'l, C> {
    conn: C,
    ended: bool,
    body_end: &'l Cell<Option<usize>>,
}

impl<'l, C> StopAtEnd<'l, C> {
    const fn new(conn: C, body_end: &'l Cell<Option<usize>>) -> Self {
        Self {
            conn,
            ended: false,
            body_end,
        }
    }
}

impl<C> embedded_io_async::ErrorType for StopAtEnd<'_, C> {
    type Error = IoErrorKind;
}

impl<C: embedded_io_async::Read<Error = IoErrorKind>> embedded_io_async::Read for StopAtEnd<'_, C> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoErrorKind> {
        let room = match self.body_end.get() {
            Some(end) => end.saturating_sub(buf.as_ptr().addr()).min(buf.len()),
            None => buf.len(),
        };
        let buf = buf.get_mut(..room).unwrap_or_default();
        if buf.is_empty() {
            return Ok(0);
        }
        if self.ended {
            return Err(IoErrorKind::ConnectionAborted);
        }
        let n = self.conn.read(buf).await?;
        self.ended = n == 0;
        Ok(n)
    }
}

impl<C: TryBufRead<Error = IoErrorKind>> TryBufRead for StopAtEnd<'_, C> {
    async fn try_fill_buf(&mut self) -> Option<Result<&[u8], IoErrorKind>> {
        self.conn.try_fill_buf().await
    }

    fn try_consume(&mut self, amt: usize) {
        self.conn.try_consume(amt);
    }
}

/// The server's delay hint ([`delay_hint`]) and the `Date` of a response
/// head. The client has no wall clock: an absolute time (a `Retry-After`
/// date, an epoch `X-RateLimit-Reset`) is read against the response's
/// `Date`, and without one it is [`UNKNOWN_WAIT`](tenace::http::UNKNOWN_WAIT),
/// which the engine waits its whole `retry_after_cap` for.
fn hints<'h>(
    headers: impl Iterator<Item = (&'h str, &'h [u8])>,
) -> (Option<Duration>, Option<HttpDate>) {
    // One pass (reqwless's header iterator is 64 slots, the unused ones
    // with empty names, which `delay_hint` skips): the first valid `Date`
    // is noted on the way through.
    let mut date = None;
    let headers = headers.inspect(|(name, value)| {
        if date.is_none() && name.eq_ignore_ascii_case("date") {
            date = parse_http_date(value).ok();
        }
    });
    let hint = delay_hint(headers, None);
    (hint, date)
}

impl<T, D, C> SendOnce for HttpTransport<'_, T, D, C>
where
    T: TcpConnect,
    D: Dns,
    C: Clock,
{
    type Clock = C;

    fn clock(&self) -> &C {
        &self.clock
    }

    // The TLS buffers stay borrowed for the whole attempt; `try_borrow_mut`
    // turns a second concurrent attempt into `Error::Busy`, never a panic.
    #[allow(clippy::await_holding_refcell_ref)]
    async fn send_once<'b>(
        &self,
        request: &Request<'_>,
        buffer: &'b mut [u8],
    ) -> Result<Response<'b>, Error> {
        let url = nourl::Url::parse(request.url).map_err(|e| match e {
            nourl::Error::UnsupportedScheme => RequestError::UnsupportedScheme,
            _ => RequestError::InvalidUrl,
        })?;
        let https = url.scheme() == nourl::UrlScheme::HTTPS;
        #[cfg(feature = "tls")]
        let mut tls = match (&self.tls, https) {
            (Some(cell), true) => Some(cell.try_borrow_mut().map_err(|_| Error::Busy)?),
            (None, true) => return Err(RequestError::UnsupportedScheme.into()),
            (_, false) => None,
        };
        #[cfg(not(feature = "tls"))]
        if https {
            return Err(RequestError::UnsupportedScheme.into());
        }
        let head_len = write_head(request, &url, buffer)?;

        // 1. Connect: nothing of the request has been sent.
        #[cfg(feature = "tls")]
        let mut client = match tls.as_deref_mut() {
            Some(tls) => HttpClient::new_with_tls(self.tcp, self.dns, tls.config()),
            None => HttpClient::new(self.tcp, self.dns),
        };
        #[cfg(not(feature = "tls"))]
        let mut client = HttpClient::new(self.tcp, self.dns);
        let connect = client.request(request.method, request.url);
        let handle = within(&self.clock, self.timeouts.connect, connect)
            .await
            .ok_or(Error::Connect(Cause::TimedOut))?
            .map_err(|e| Error::from_reqwless(Phase::Connect, e))?;
        let body_end = Cell::new(None);
        let mut conn = StopAtEnd::new(handle.conn, &body_end);

        // 2. Exchange: the request goes out, the response head comes back.
        let base = buffer.as_ptr().addr();
        let capacity = buffer.len();
        let exchange = async {
            let head = buffer.get(..head_len).unwrap_or_default();
            conn.conn.write_all(head).await?;
            if let Some(body) = request.body {
                conn.conn.write_all(body).await?;
            }
            conn.conn.flush().await?;
            reqwless::response::Response::read(&mut conn, request.method, buffer).await
        };
        let response = within(&self.clock, self.timeouts.exchange, exchange)
            .await
            .ok_or(Error::Exchange(Cause::TimedOut))?
            .map_err(|e| Error::from_reqwless(Phase::Exchange, e))?;
        let status = response.status.0;
        let content_length = response.content_length;
        let (retry_after, date) = hints(response.headers());
        if request.error_for_status && status >= 400 {
            return Err(Error::Status {
                status,
                retry_after,
            });
        }

        // 3. Body, into the caller's buffer, where reqwless moves it to the
        // front: a fixed-length body ends `content_length` bytes in.
        body_end.set(content_length.map(|n| base.saturating_add(n)));
        let body = within(
            &self.clock,
            self.timeouts.body,
            response.body().read_to_end(),
        )
        .await
        .ok_or(Error::Body(Cause::TimedOut))?
        .map_err(|e| Error::from_reqwless_body(e, content_length, capacity, conn.ended))?;
        let head = Head {
            status,
            content_length,
            retry_after,
            date,
            body_start: body.as_ptr().addr().saturating_sub(base),
            body_len: body.len(),
        };
        Ok(Response::new(head, body))
    }
}
