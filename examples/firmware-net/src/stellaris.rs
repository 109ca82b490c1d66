//! An `embassy-net-driver` for the Ethernet controller of TI's Stellaris
//! LM3S6965 (Cortex-M3), as qemu models it on `lm3s6965evb`: one 32-bit
//! data register in front of a receive FIFO of whole frames and a transmit
//! FIFO, at `0x4004_8000`.
//!
//! Polled like the LAN9118 driver ([`crate::net::poll_later`]), and the
//! same radio weather ([`crate::impair`]) applies to its frames.
//!
//! FIFO layout, both ways: a 16-bit little-endian length, then the frame
//! (then, on receive, the 4-byte FCS). On receive the length counts
//! everything, itself and the FCS included; on transmit it counts the
//! frame's payload only (the frame less its 14-byte header).

use core::ptr;
use core::task::Context;

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState};

use crate::frame::{self, MTU, Rx, Transmit, Tx};
use crate::impair;
use crate::net::poll_later;

/// Where the LM3S6965 maps the controller.
pub(crate) const LM3S6965_BASE: usize = 0x4004_8000;

/// System control: run-mode clock gating for the MAC and the PHY.
const SYSCTL_RCGC2: usize = 0x400f_e108;
const RCGC2_EMAC0: u32 = 1 << 28;
const RCGC2_EPHY0: u32 = 1 << 30;

/// A received frame as the FIFO holds it (length, frame, FCS), in words.
const RX_BUF: usize = 1536;

// Register offsets.
const RIS: usize = 0x00;
const RCTL: usize = 0x08;
const TCTL: usize = 0x0c;
const DATA: usize = 0x10;
const IA0: usize = 0x14;
const IA1: usize = 0x18;
const NP: usize = 0x34;
const TR: usize = 0x38;

const RCTL_RXEN: u32 = 1 << 0;
const RCTL_RSTFIFO: u32 = 1 << 4;
const TCTL_TXEN: u32 = 1 << 0;
const TCTL_PADEN: u32 = 1 << 1;
const TCTL_CRC: u32 = 1 << 2;
const TCTL_DUPLEX: u32 = 1 << 3;
const TR_NEWTX: u32 = 1 << 0;
/// Interrupt status: a transmit error (frame too long) resets the FIFO.
const RIS_TXER: u32 = 1 << 1;

/// Bounded wait for the transmitter; the model sends at once.
const BUSY_SPINS: u32 = 100_000;

/// The MMIO registers.
#[derive(Debug, Clone, Copy)]
struct Regs {
    base: usize,
}

impl Regs {
    fn read(self, offset: usize) -> u32 {
        // SAFETY: `base` is the controller's MMIO window (the caller of
        // `Stellaris::new` promises it) and `offset` one of its 32-bit
        // registers; volatile, as DATA pops the FIFO on read.
        unsafe { ptr::read_volatile((self.base + offset) as *const u32) }
    }

    fn write(self, offset: usize, value: u32) {
        // SAFETY: as in `read`; writes push to the FIFO or set registers.
        unsafe { ptr::write_volatile((self.base + offset) as *mut u32, value) }
    }
}

/// The Stellaris MAC as an embassy-net device.
#[derive(Debug)]
pub(crate) struct Stellaris {
    /// The frame being received, apart from [`Port`] so that a receive
    /// and a transmit token can borrow the driver at once.
    rx: [u8; RX_BUF],
    port: Port,
}

/// Everything but the receive buffer.
#[derive(Debug)]
pub(crate) struct Port {
    regs: Regs,
    mac: [u8; 6],
    /// The length prefix and the frame being sent.
    tx: [u8; MTU + 2],
}

impl Stellaris {
    /// Clocks the MAC and PHY, reads the MAC address (which the boot ROM
    /// or the emulator has set), empties the receive FIFO and enables the
    /// transmitter (padding short frames, adding the FCS) and receiver.
    ///
    /// # Safety
    /// `base` must be the Stellaris MAC's register window, used by nothing
    /// else, on an LM3S6965.
    pub(crate) unsafe fn new(base: usize) -> Self {
        // SAFETY: RCGC2 is the LM3S6965's clock-gating register; setting
        // the two bits only turns the Ethernet blocks on.
        unsafe {
            let rcgc2 = SYSCTL_RCGC2 as *mut u32;
            ptr::write_volatile(rcgc2, ptr::read_volatile(rcgc2) | RCGC2_EMAC0 | RCGC2_EPHY0);
        }
        let regs = Regs { base };
        let lo = regs.read(IA0).to_le_bytes();
        let hi = regs.read(IA1).to_le_bytes();
        let mac = [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1]];
        regs.write(RCTL, RCTL_RSTFIFO);
        regs.write(RCTL, RCTL_RXEN);
        regs.write(TCTL, TCTL_TXEN | TCTL_PADEN | TCTL_CRC | TCTL_DUPLEX);
        Self {
            rx: [0; RX_BUF],
            port: Port {
                regs,
                mac,
                tx: [0; MTU + 2],
            },
        }
    }

    /// The MAC address.
    pub(crate) const fn mac(&self) -> [u8; 6] {
        self.port.mac
    }

    /// Reads the next frame out of the receive FIFO into `self.rx`; returns
    /// where the frame lies there (after the length, before the FCS).
    fn pop_frame(&mut self) -> Option<core::ops::Range<usize>> {
        let regs = self.port.regs;
        loop {
            if regs.read(NP) & 0x3f == 0 {
                return None;
            }
            let first = regs.read(DATA).to_le_bytes();
            let len = usize::from(u16::from_le_bytes([first[0], first[1]]));
            self.rx[..4].copy_from_slice(&first);
            // Every word of the frame is read, also for a frame we drop, so
            // the FIFO stays on frame boundaries.
            for i in 1..len.div_ceil(4) {
                let word = regs.read(DATA).to_le_bytes();
                let at = i * 4;
                if at + 4 <= self.rx.len() {
                    self.rx[at..at + 4].copy_from_slice(&word);
                }
            }
            if len < 2 + 14 + 4 || len > self.rx.len() {
                continue;
            }
            return Some(2..len - 4);
        }
    }
}

impl Transmit for Port {
    fn frame_mut(&mut self, len: usize) -> &mut [u8] {
        &mut self.tx[2..2 + len]
    }

    /// Sends `self.tx[2..2 + len]`, the frame, after its length word.
    fn push_frame(&mut self, len: usize) {
        // Wait for the previous frame to leave the FIFO.
        for _ in 0..BUSY_SPINS {
            if self.regs.read(TR) & TR_NEWTX == 0 {
                break;
            }
        }
        let payload = (len.saturating_sub(14) as u16).to_le_bytes();
        self.tx[0] = payload[0];
        self.tx[1] = payload[1];
        for chunk in self.tx[..len + 2].chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.regs.write(DATA, u32::from_le_bytes(word));
        }
        self.regs.write(TR, TR_NEWTX);
        if self.regs.read(RIS) & RIS_TXER != 0 {
            // Acknowledging the error empties the transmit FIFO; the frame
            // is lost, as on the air.
            self.regs.write(RIS, RIS_TXER);
        }
    }
}

impl Driver for Stellaris {
    type RxToken<'a>
        = Rx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a, Port>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Rx<'_>, Tx<'_, Port>)> {
        loop {
            let Some(frame) = self.pop_frame() else {
                poll_later(cx);
                return None;
            };
            if !impair::pass() {
                continue;
            }
            return Some((
                Rx {
                    frame: &mut self.rx[frame],
                },
                Tx {
                    port: &mut self.port,
                },
            ));
        }
    }

    fn transmit(&mut self, _cx: &mut Context<'_>) -> Option<Tx<'_, Port>> {
        // `push_frame` waits for the previous frame, which the model sends
        // at once: there is always room.
        Some(Tx {
            port: &mut self.port,
        })
    }

    fn link_state(&mut self, _cx: &mut Context<'_>) -> LinkState {
        // qemu does not model the PHY: its link is always up, and only the
        // radio's weather takes it down.
        if impair::link_is_up() {
            LinkState::Up
        } else {
            LinkState::Down
        }
    }

    fn capabilities(&self) -> Capabilities {
        frame::capabilities()
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.port.mac)
    }
}
