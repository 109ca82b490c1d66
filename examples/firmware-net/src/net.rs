//! The network: embassy-net (smoltcp) over the LAN9118 with a static
//! address on qemu's user network, a TCP client pool for reqwless, and a
//! resolver that takes IP literals only (the firmware reaches one address).

use core::net::{IpAddr, Ipv4Addr};
use core::task::Context;
use core::time::Duration;

use embassy_net::{Config, Ipv4Cidr, Runner, Stack, StackResources, StaticConfigV4};
use embedded_nal_async::{AddrType, Dns};
use static_cell::StaticCell;

/// The board's Ethernet controller.
#[cfg(board = "mps2-an386")]
pub(crate) type Nic = crate::lan9118::Lan9118;
/// The board's Ethernet controller.
#[cfg(board = "lm3s6965evb")]
pub(crate) type Nic = crate::stellaris::Stellaris;

/// Brings up the board's Ethernet controller; prints what it found.
pub(crate) fn nic() -> Nic {
    #[cfg(board = "mps2-an386")]
    // SAFETY: the MPS2 boards map the LAN9118 there, and nothing else in
    // this firmware touches it.
    let nic = match unsafe { crate::lan9118::Lan9118::new(crate::lan9118::MPS2_BASE) } {
        Ok(nic) => {
            cortex_m_semihosting::hprintln!("LAN9118 id {:#010x}", nic.id_rev());
            nic
        }
        Err(e) => {
            cortex_m_semihosting::hprintln!("LAN9118: {:?}", e);
            crate::fail("no Ethernet controller")
        }
    };
    #[cfg(board = "lm3s6965evb")]
    // SAFETY: the LM3S6965 maps its MAC there, and nothing else in this
    // firmware touches it.
    let nic = unsafe { crate::stellaris::Stellaris::new(crate::stellaris::LM3S6965_BASE) };
    nic
}

/// How long the network task sleeps when the driver has nothing to
/// receive.
pub(crate) const POLL_PERIOD: Duration = Duration::from_millis(1);

/// Asks the time driver to poll the network task again after
/// [`POLL_PERIOD`], so that the executor sleeps (WFI) between polls.
pub(crate) fn poll_later(cx: &Context<'_>) {
    let period = embassy_time::Duration::from_micros(POLL_PERIOD.as_micros() as u64);
    embassy_time_driver::schedule_wake(
        (embassy_time::Instant::now() + period).as_ticks(),
        cx.waker(),
    );
}

/// The firmware's address on qemu's user network (slirp's 10.0.2.0/24).
pub(crate) const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
/// slirp's gateway.
pub(crate) const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

/// Sockets the stack has room for: the TCP client's connections.
const SOCKETS: usize = 2;

/// Brings up embassy-net over `nic`; the runner must be spawned.
pub(crate) fn start(nic: Nic, seed: u64) -> (Stack<'static>, Runner<'static, Nic>) {
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(ADDRESS, 24),
        gateway: Some(GATEWAY),
        dns_servers: heapless::Vec::new(),
    });
    embassy_net::new(nic, config, RESOURCES.init(StackResources::new()), seed)
}

/// A resolver for IP literals: the firmware's URLs name an address, and
/// `restrict=on` leaves no DNS server to ask anyway.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IpLiterals;

/// The host is not an IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotAnAddress;

impl Dns for IpLiterals {
    type Error = NotAnAddress;

    async fn get_host_by_name(
        &self,
        host: &str,
        addr_type: AddrType,
    ) -> Result<IpAddr, NotAnAddress> {
        let ip: IpAddr = host.parse().map_err(|_| NotAnAddress)?;
        match (addr_type, ip) {
            (AddrType::IPv4, IpAddr::V6(_)) | (AddrType::IPv6, IpAddr::V4(_)) => Err(NotAnAddress),
            _ => Ok(ip),
        }
    }

    async fn get_host_by_address(
        &self,
        _addr: IpAddr,
        _result: &mut [u8],
    ) -> Result<usize, NotAnAddress> {
        Err(NotAnAddress)
    }
}

/// The fault server's base URL: the last word of qemu's semihosting
/// command line (`-semihosting-config ...,arg=NAME,arg=URL`), which
/// `run-qemu-net.sh` sets to `http://10.0.2.100`, the network's one
/// `guestfwd` address, which qemu relays to the fault server on the host's
/// loopback.
pub(crate) fn server_url() -> Option<&'static str> {
    let buf = cortex_m::singleton!(: [u8; 128] = [0; 128])?;
    // The parameter block: buffer address and size in; length out.
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: SYS_GET_CMDLINE writes at most `block[1]` bytes at `block[0]`
    // (a live static buffer) and the length written into `block[1]`.
    let status = unsafe {
        cortex_m_semihosting::syscall1(
            cortex_m_semihosting::nr::GET_CMDLINE,
            block.as_mut_ptr() as usize,
        )
    };
    if status != 0 {
        return None;
    }
    // SAFETY: `block` is a live local; the host wrote it during the call.
    let len = unsafe { core::ptr::read_volatile(&block[1]) }.min(buf.len());
    let line = core::str::from_utf8(&buf[..len]).ok()?;
    line.split_ascii_whitespace()
        .last()
        .filter(|url| url.starts_with("http://"))
}
