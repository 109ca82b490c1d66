//! An `embassy-net-driver` for the SMSC LAN9118 Ethernet controller, as
//! qemu models it on the MPS2 boards (32-bit PIO FIFOs at `0x4020_0000`).
//!
//! The driver is polled: when the receive FIFO is empty it asks the
//! embassy-time driver to wake the network task again after
//! [`POLL_PERIOD`](crate::net::POLL_PERIOD), so the executor sleeps (WFI)
//! between polls instead of spinning.
//!
//! Between the FIFOs and embassy-net sits the radio's weather
//! ([`crate::impair`]): frames lost by a seeded schedule, in both
//! directions, and periods where the link is down (the driver reports
//! [`LinkState::Down`] and carries nothing), as a Wi-Fi device sees them.

use core::ptr;
use core::task::Context;

use crate::frame::{self, MTU, Rx, Transmit, Tx};
use crate::impair;
use crate::net::poll_later;
use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState};

/// Where qemu's `mps2-an385`/`mps2-an386` boards map the controller.
pub(crate) const MPS2_BASE: usize = 0x4020_0000;

/// Receive buffer: the largest frame the FIFO delivers, FCS included,
/// rounded up to whole FIFO words.
const RX_BUF: usize = 1536;

// Register offsets (the data sheet's names).
const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const TX_STATUS_FIFO: usize = 0x48;
const ID_REV: usize = 0x50;
const BYTE_TEST: usize = 0x64;
const RX_CFG: usize = 0x6c;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_FIFO_INF: usize = 0x7c;
const TX_FIFO_INF: usize = 0x80;
const MAC_CSR_CMD: usize = 0xa4;
const MAC_CSR_DATA: usize = 0xa8;

/// `BYTE_TEST` reads this on a LAN9118 in 32-bit mode.
const BYTE_TEST_VALUE: u32 = 0x8765_4321;

const HW_CFG_SRST: u32 = 1;
const TX_CFG_TX_ON: u32 = 1 << 1;
const MAC_CSR_BUSY: u32 = 1 << 31;
const MAC_CSR_READ: u32 = 1 << 30;

// MAC registers, reached through MAC_CSR_CMD/DATA.
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
const MAC_MII_ACC: u32 = 6;
const MAC_MII_DATA: u32 = 7;
const MAC_CR_TXEN: u32 = 1 << 3;
const MAC_CR_RXEN: u32 = 1 << 2;
const MAC_CR_FDPX: u32 = 1 << 20;
const MII_BUSY: u32 = 1;
/// The internal PHY's address on the MII bus.
const PHY_ADDR: u32 = 1;
/// PHY basic status register and its link bit.
const PHY_BSR: u32 = 1;
const PHY_BSR_LINK: u32 = 1 << 2;

// Receive status word.
const RX_STS_LEN_SHIFT: u32 = 16;
const RX_STS_LEN_MASK: u32 = 0x3fff;
const RX_STS_ERROR: u32 = 1 << 15;

// Transmit command words.
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;

/// Bounded wait for a busy bit; the model is never busy, real silicon is
/// for a few microseconds.
const BUSY_SPINS: u32 = 10_000;

/// Why the controller could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InitError {
    /// `BYTE_TEST` did not read `0x87654321`: no LAN9118 at this address,
    /// or not in 32-bit mode.
    NotFound(u32),
    /// A reset or a MAC register access never finished.
    Busy,
}

/// The MMIO registers.
#[derive(Debug, Clone, Copy)]
struct Regs {
    base: usize,
}

impl Regs {
    fn read(self, offset: usize) -> u32 {
        // SAFETY: `base` is the controller's MMIO window (checked by
        // `Lan9118::new` through BYTE_TEST) and `offset` one of its 32-bit
        // registers; volatile, as the FIFOs pop on read.
        unsafe { ptr::read_volatile((self.base + offset) as *const u32) }
    }

    fn write(self, offset: usize, value: u32) {
        // SAFETY: as in `read`; writes push to FIFOs or set registers.
        unsafe { ptr::write_volatile((self.base + offset) as *mut u32, value) }
    }

    fn wait_mac(self) -> Result<(), InitError> {
        for _ in 0..BUSY_SPINS {
            if self.read(MAC_CSR_CMD) & MAC_CSR_BUSY == 0 {
                return Ok(());
            }
        }
        Err(InitError::Busy)
    }

    fn mac_read(self, reg: u32) -> Result<u32, InitError> {
        self.wait_mac()?;
        self.write(MAC_CSR_CMD, MAC_CSR_BUSY | MAC_CSR_READ | reg);
        self.wait_mac()?;
        Ok(self.read(MAC_CSR_DATA))
    }

    fn mac_write(self, reg: u32, value: u32) -> Result<(), InitError> {
        self.wait_mac()?;
        self.write(MAC_CSR_DATA, value);
        self.write(MAC_CSR_CMD, MAC_CSR_BUSY | reg);
        self.wait_mac()
    }

    fn phy_read(self, reg: u32) -> Result<u32, InitError> {
        self.mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_BUSY)?;
        for _ in 0..BUSY_SPINS {
            if self.mac_read(MAC_MII_ACC)? & MII_BUSY == 0 {
                return Ok(self.mac_read(MAC_MII_DATA)? & 0xffff);
            }
        }
        Err(InitError::Busy)
    }
}

/// The LAN9118 as an embassy-net device.
#[derive(Debug)]
pub(crate) struct Lan9118 {
    /// The frame being received; apart from [`Port`] so that a receive
    /// token and a transmit token can borrow the driver at once.
    rx: [u8; RX_BUF],
    port: Port,
}

/// Everything but the receive buffer.
#[derive(Debug)]
pub(crate) struct Port {
    regs: Regs,
    mac: [u8; 6],
    /// The PHY's own link state, read once at start (the model's link is
    /// always up unless qemu's monitor says otherwise).
    phy_link: bool,
    tx: [u8; MTU],
}

impl Lan9118 {
    /// Resets the controller at `base`, reads its MAC address (loaded from
    /// its EEPROM) and enables the transmitter and receiver.
    ///
    /// # Safety
    /// `base` must be a LAN9118's register window, used by nothing else.
    pub(crate) unsafe fn new(base: usize) -> Result<Self, InitError> {
        let regs = Regs { base };
        let test = regs.read(BYTE_TEST);
        if test != BYTE_TEST_VALUE {
            return Err(InitError::NotFound(test));
        }
        regs.write(HW_CFG, HW_CFG_SRST);
        let mut reset_done = false;
        for _ in 0..BUSY_SPINS {
            if regs.read(HW_CFG) & HW_CFG_SRST == 0 {
                reset_done = true;
                break;
            }
        }
        if !reset_done {
            return Err(InitError::Busy);
        }
        let lo = regs.mac_read(MAC_ADDRL)?.to_le_bytes();
        let hi = regs.mac_read(MAC_ADDRH)?.to_le_bytes();
        let mac = [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1]];
        // No offset or end padding on received frames.
        regs.write(RX_CFG, 0);
        regs.write(TX_CFG, TX_CFG_TX_ON);
        // Our address and broadcast only (not promiscuous), full duplex.
        regs.mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX)?;
        let phy_link = regs.phy_read(PHY_BSR)? & PHY_BSR_LINK != 0;
        Ok(Self {
            rx: [0; RX_BUF],
            port: Port {
                regs,
                mac,
                phy_link,
                tx: [0; MTU],
            },
        })
    }

    /// The chip's ID and revision register.
    pub(crate) fn id_rev(&self) -> u32 {
        self.port.regs.read(ID_REV)
    }

    /// The MAC address.
    pub(crate) const fn mac(&self) -> [u8; 6] {
        self.port.mac
    }

    /// Reads the next good frame out of the receive FIFO into `self.rx`;
    /// returns its length without the FCS.
    fn pop_frame(&mut self) -> Option<usize> {
        let regs = self.port.regs;
        loop {
            let pending = (regs.read(RX_FIFO_INF) >> 16) & 0xff;
            if pending == 0 {
                return None;
            }
            let status = regs.read(RX_STATUS_FIFO);
            let len = ((status >> RX_STS_LEN_SHIFT) & RX_STS_LEN_MASK) as usize;
            // Every word of the frame is read, also for a frame we drop, so
            // the FIFO stays aligned on frame boundaries.
            for i in 0..len.div_ceil(4) {
                let word = regs.read(RX_DATA_FIFO).to_le_bytes();
                let at = i * 4;
                if at + 4 <= self.rx.len() {
                    self.rx[at..at + 4].copy_from_slice(&word);
                }
            }
            if status & RX_STS_ERROR != 0 || len < 14 + 4 || len > self.rx.len() {
                continue;
            }
            return Some(len - 4);
        }
    }
}

impl Transmit for Port {
    fn frame_mut(&mut self, len: usize) -> &mut [u8] {
        &mut self.tx[..len]
    }

    /// Writes `self.tx[..len]` to the transmit FIFO as one frame.
    fn push_frame(&mut self, len: usize) {
        let len32 = len as u32;
        self.regs
            .write(TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | len32);
        self.regs.write(TX_DATA_FIFO, len32);
        for chunk in self.tx[..len].chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.regs.write(TX_DATA_FIFO, u32::from_le_bytes(word));
        }
        // Drain the transmit status FIFO: nothing here needs the status.
        while (self.regs.read(TX_FIFO_INF) >> 16) & 0xff != 0 {
            let _ = self.regs.read(TX_STATUS_FIFO);
        }
    }
}

impl Port {
    fn link_up(&self) -> bool {
        self.phy_link && impair::link_is_up()
    }

    /// Room in the transmit FIFO for a full frame and its command words.
    fn tx_ready(&self) -> bool {
        (self.regs.read(TX_FIFO_INF) & 0xffff) as usize >= MTU + 8
    }
}

impl Driver for Lan9118 {
    type RxToken<'a>
        = Rx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a, Port>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Rx<'_>, Tx<'_, Port>)> {
        if !self.port.tx_ready() {
            poll_later(cx);
            return None;
        }
        loop {
            let Some(len) = self.pop_frame() else {
                poll_later(cx);
                return None;
            };
            if !impair::pass() {
                continue;
            }
            return Some((
                Rx {
                    frame: &mut self.rx[..len],
                },
                Tx {
                    port: &mut self.port,
                },
            ));
        }
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<Tx<'_, Port>> {
        if !self.port.tx_ready() {
            poll_later(cx);
            return None;
        }
        Some(Tx {
            port: &mut self.port,
        })
    }

    fn link_state(&mut self, _cx: &mut Context<'_>) -> LinkState {
        // Read on every poll of the stack, which runs at least every POLL.
        if self.port.link_up() {
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
