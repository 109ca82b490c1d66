//! Hedged calls of the embedded client: each copy reads its response into
//! a buffer of its own, lent from a fixed pool for as long as it runs.

use core::cell::RefCell;
use core::marker::PhantomData;

use tenace::{
    AttemptContext, HedgeDelay, Replay, RequestInterceptor, ResponseInterceptor, Transport,
};

use crate::error::Error;
use crate::hooks::{RequestHooks, ResponseHooks};
use crate::request::Request;
use crate::response::Head;
use crate::transport::SendOnce;

/// A hedge as a client or a request keeps it: when the next copy starts,
/// and how many extra copies at most (the buffers given to
/// [`send_hedged`](crate::RequestBuilder::send_hedged) may allow fewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HedgeSetting {
    pub(crate) delay: HedgeDelay,
    pub(crate) extra: u32,
}

impl HedgeSetting {
    pub(crate) const fn of<const N: usize>(hedge: tenace::Hedge<N>) -> Self {
        Self {
            delay: hedge.delay(),
            extra: hedge.extra(),
        }
    }
}

/// The transport of a hedged call: the client's network, and the call's
/// response buffers, `first` and `E` more. A copy borrows a free buffer
/// when it starts and gives it back when it ends or is dropped; its
/// response names the buffer (0 for `first`, `i + 1` for `extra[i]`) that
/// holds its body.
pub(crate) struct Copies<'n, 'b, 'r, N, const E: usize> {
    network: &'n N,
    first: RefCell<Option<&'b mut [u8]>>,
    extra: RefCell<[Option<&'b mut [u8]>; E]>,
    _request: PhantomData<Request<'r>>,
}

impl<'n, 'b, N, const E: usize> Copies<'n, 'b, '_, N, E> {
    pub(crate) fn new(network: &'n N, first: &'b mut [u8], extra: [&'b mut [u8]; E]) -> Self {
        Self {
            network,
            first: RefCell::new(Some(first)),
            extra: RefCell::new(extra.map(Some)),
            _request: PhantomData,
        }
    }

    /// A free buffer and its slot, `first` before the others.
    fn lend(&self) -> Option<(usize, &'b mut [u8])> {
        if let Some(buffer) = self.first.borrow_mut().take() {
            return Some((0, buffer));
        }
        self.extra
            .borrow_mut()
            .iter_mut()
            .enumerate()
            .find_map(|(i, b)| b.take().map(|buffer| (i + 1, buffer)))
    }

    fn give_back(&self, slot: usize, buffer: &'b mut [u8]) {
        if slot == 0 {
            *self.first.borrow_mut() = Some(buffer);
        } else if let Some(free) = self.extra.borrow_mut().get_mut(slot - 1) {
            *free = Some(buffer);
        }
    }

    /// The buffer of `slot`, once the call is over.
    pub(crate) fn take(&self, slot: usize) -> Option<&'b mut [u8]> {
        if slot == 0 {
            self.first.borrow_mut().take()
        } else {
            self.extra
                .borrow_mut()
                .get_mut(slot - 1)
                .and_then(Option::take)
        }
    }
}

/// A buffer lent to one copy: given back when dropped.
struct Lease<'p, 'n, 'b, 'r, N, const E: usize> {
    copies: &'p Copies<'n, 'b, 'r, N, E>,
    slot: usize,
    buffer: Option<&'b mut [u8]>,
}

impl<N, const E: usize> Drop for Lease<'_, '_, '_, '_, N, E> {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.copies.give_back(self.slot, buffer);
        }
    }
}

impl<'r, N: SendOnce, const E: usize> Transport for Copies<'_, '_, 'r, N, E> {
    type Request = Request<'r>;
    /// The head, and the slot of the buffer that holds the body.
    type Response = (Head, usize);
    type Error = Error;

    async fn send(&self, request: Request<'r>) -> Result<(Head, usize), Error> {
        // The engine runs at most `1 + E` copies at once: one is free.
        let Some((slot, buffer)) = self.lend() else {
            return Err(Error::Busy);
        };
        let mut lease = Lease {
            copies: self,
            slot,
            buffer: Some(buffer),
        };
        let Some(buffer) = lease.buffer.as_deref_mut() else {
            return Err(Error::Busy);
        };
        match self.network.send_once(&request, buffer).await {
            Ok(response) => Ok((*response.head(), slot)),
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

/// The client's per-attempt request interceptors, for the core's hedging
/// driver (the once-per-call ones run before it).
pub(crate) struct EachRequest<'h, 'a, const H: usize>(pub(crate) &'h RequestHooks<'a, H>);

impl<const H: usize> RequestInterceptor<Request<'_>, Error> for EachRequest<'_, '_, H> {
    async fn intercept(&self, request: &mut Request<'_>, cx: &AttemptContext) -> Result<(), Error> {
        self.0.run(request, cx)
    }
}

/// The client's response interceptors, per attempt and final-only, on the
/// head of a copy's response.
pub(crate) struct Responses<'h, 'a, const H: usize>(pub(crate) &'h ResponseHooks<'a, H>);

impl<const H: usize> ResponseInterceptor<(Head, usize), Error> for Responses<'_, '_, H> {
    async fn intercept(
        &self,
        (head, slot): (Head, usize),
        cx: &AttemptContext,
    ) -> Result<(Head, usize), Error> {
        self.0.run(head, cx).map(|head| (head, slot))
    }

    async fn intercept_final(
        &self,
        (head, slot): (Head, usize),
        cx: &AttemptContext,
    ) -> Result<(Head, usize), Error> {
        self.0.run_final(head, cx).map(|head| (head, slot))
    }
}
