//! What both Ethernet drivers share: the largest frame, the tokens that
//! hand frames to and from embassy-net, and the radio's weather on the way
//! out ([`crate::impair`]).

use embassy_net_driver::{Capabilities, RxToken, TxToken};

use crate::impair;

/// The largest Ethernet frame, without its FCS.
pub(crate) const MTU: usize = 1514;

/// A controller's transmit side, as a [`Tx`] token uses it.
pub(crate) trait Transmit {
    /// Room for a frame of `len` bytes (at most [`MTU`]), for the stack to
    /// write.
    fn frame_mut(&mut self, len: usize) -> &mut [u8];

    /// Sends the frame of `len` bytes written into [`frame_mut`](Self::frame_mut).
    fn push_frame(&mut self, len: usize);
}

/// A received frame, already out of the controller's FIFO.
#[derive(Debug)]
pub(crate) struct Rx<'a> {
    pub(crate) frame: &'a mut [u8],
}

impl RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room for one frame on a controller's transmit side.
#[derive(Debug)]
pub(crate) struct Tx<'a, P> {
    pub(crate) port: &'a mut P,
}

impl<P: Transmit> TxToken for Tx<'_, P> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MTU);
        let result = f(self.port.frame_mut(len));
        // A frame lost on the air (or sent while the link is down) is
        // built by the stack but never reaches the controller.
        if impair::pass() {
            self.port.push_frame(len);
        }
        result
    }
}

/// One frame of up to [`MTU`] bytes at a time.
pub(crate) fn capabilities() -> Capabilities {
    let mut caps = Capabilities::default();
    caps.max_transmission_unit = MTU;
    caps.max_burst_size = Some(1);
    caps
}
