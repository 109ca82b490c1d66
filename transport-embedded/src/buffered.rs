//! The engine's [`Transport`] over one caller buffer: every attempt of a
//! call reads into it, and the call's response borrows it.

use core::cell::RefCell;
use core::fmt;
use core::marker::PhantomData;

use tenace::{Replay, Retried, Transport};

use crate::error::Error;
use crate::request::Request;
use crate::response::{Head, Response};
use crate::transport::SendOnce;

/// A [`tenace::Transport`] that reads each attempt's response into one
/// caller-owned buffer: what [`tenace::retry`] drives.
///
/// The engine's response is the [`Head`] (status, lengths, hints); the body
/// of the last attempt stays in the buffer, and
/// [`into_response`](Self::into_response) pairs the two once the call is
/// over.
///
/// ```no_run
/// # async fn demo(stack: &(impl embedded_nal_async::TcpConnect + embedded_nal_async::Dns)) {
/// use tenace::{Policy, SeededRng};
/// use tenace_embedded::{Buffered, HttpTransport, Request, SendOnce};
///
/// let http = HttpTransport::new(stack, stack);
/// let mut buffer = [0u8; 1024];
/// let transport = Buffered::new(&http, &mut buffer);
/// let mut rng = SeededRng::new(0x5eed); // seed from the hardware RNG
/// let retried = tenace::retry(&transport, http.clock(), &Policy::default(), &mut rng,
///     Request::get("http://192.168.1.10/status")).await;
/// if let Ok(retried) = retried {
///     let response = transport.into_response(retried);
///     let _ = (response.body(), response.attempts());
/// }
/// # }
/// ```
pub struct Buffered<'n, 'b, 'r, N> {
    network: &'n N,
    buffer: RefCell<&'b mut [u8]>,
    request: PhantomData<Request<'r>>,
}

impl<N> fmt::Debug for Buffered<'_, '_, '_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.buffer.try_borrow().map(|b| b.len()).ok();
        f.debug_struct("Buffered")
            .field("buffer_len", &len)
            .finish_non_exhaustive()
    }
}

impl<'n, 'b, N> Buffered<'n, 'b, '_, N> {
    /// A transport sending through `network` into `buffer`.
    pub const fn new(network: &'n N, buffer: &'b mut [u8]) -> Self {
        Self {
            network,
            buffer: RefCell::new(buffer),
            request: PhantomData,
        }
    }

    /// The response of the call: the last attempt's head, the body it
    /// describes, and the attempts and backoff the call took.
    pub fn into_response(self, retried: Retried<Head>) -> Response<'b> {
        let buffer: &'b [u8] = self.buffer.into_inner();
        let head = retried.value;
        let end = head.body_start.saturating_add(head.body_len);
        Response::new(head, buffer.get(head.body_start..end).unwrap_or_default())
            .after(retried.attempts, retried.slept)
    }

    /// The buffer back.
    pub fn into_buffer(self) -> &'b mut [u8] {
        self.buffer.into_inner()
    }
}

impl<'r, N: SendOnce> Transport for Buffered<'_, '_, 'r, N> {
    type Request = Request<'r>;
    type Response = Head;
    type Error = Error;

    // The buffer is borrowed for the whole attempt; `try_borrow_mut` turns a
    // second concurrent attempt into `Error::Busy`, never a panic.
    #[allow(clippy::await_holding_refcell_ref)]
    async fn send(&self, request: Request<'r>) -> Result<Head, Error> {
        let mut buffer = self.buffer.try_borrow_mut().map_err(|_| Error::Busy)?;
        match self.network.send_once(&request, &mut buffer).await {
            Ok(response) => Ok(*response.head()),
            Err(e) => {
                warn!(
                    "tenace-embedded: {} attempt failed: {}",
                    request.method.as_str(),
                    e
                );
                Err(e)
            }
        }
    }

    fn replay(&self, request: &Request<'r>) -> Replay {
        request.replay()
    }
}
