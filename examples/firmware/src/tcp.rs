//! A scripted TCP stack for tenace-embedded's HTTP client: each connection
//! plays the next step of a script (refuse it, reset it once the request is
//! written, or answer with canned HTTP bytes) after the step's latency on
//! the real clock, and records when it was opened, so tests measure the
//! time between attempts on the hardware timer. The client runs unchanged
//! on top: reqwless writes the request and parses the response.

use core::cell::Cell;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use embassy_time::{Duration, Instant, Timer};
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use embedded_nal_async::{AddrType, Dns, TcpConnect};

/// What one connection does.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Conn {
    /// The connect fails (nothing of the request is sent).
    Refuse,
    /// The request is written, then the connection is reset before any
    /// response byte.
    ResetAfterRequest,
    /// The request is written, then these bytes (a whole HTTP response)
    /// come back.
    Answer(&'static [u8]),
}

/// One step of the script: what happens, and after how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    conn: Conn,
    latency_ms: u64,
}

impl Step {
    /// The connect is refused after `latency_ms`.
    pub(crate) const fn refuse(latency_ms: u64) -> Self {
        Self {
            conn: Conn::Refuse,
            latency_ms,
        }
    }

    /// The connection is reset `latency_ms` after the request.
    pub(crate) const fn reset(latency_ms: u64) -> Self {
        Self {
            conn: Conn::ResetAfterRequest,
            latency_ms,
        }
    }

    /// `response` comes back `latency_ms` after the request.
    pub(crate) const fn answer(response: &'static [u8], latency_ms: u64) -> Self {
        Self {
            conn: Conn::Answer(response),
            latency_ms,
        }
    }
}

/// A TCP stack (and a DNS resolver that knows one address) playing a
/// script of `N` connections; a connection past the script is refused.
#[derive(Debug)]
pub(crate) struct ScriptedStack<const N: usize> {
    script: [Step; N],
    opened: Cell<usize>,
    started: [Cell<Option<Instant>>; N],
}

impl<const N: usize> ScriptedStack<N> {
    pub(crate) fn new(script: [Step; N]) -> Self {
        Self {
            script,
            opened: Cell::new(0),
            started: core::array::from_fn(|_| Cell::new(None)),
        }
    }

    /// Connections opened (or refused) so far.
    pub(crate) fn opened(&self) -> usize {
        self.opened.get()
    }

    /// When connection `i` (0-based) was asked for, if it was.
    pub(crate) fn started(&self, i: usize) -> Option<Instant> {
        self.started.get(i).and_then(Cell::get)
    }
}

/// One scripted connection.
#[derive(Debug)]
pub(crate) struct ScriptedConn {
    step: Step,
    answered: bool,
    read: usize,
}

impl ErrorType for ScriptedConn {
    type Error = ErrorKind;
}

impl Read for ScriptedConn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        if !self.answered {
            self.answered = true;
            Timer::after(Duration::from_millis(self.step.latency_ms)).await;
        }
        match self.step.conn {
            Conn::Answer(bytes) => {
                let rest = bytes.get(self.read..).unwrap_or_default();
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.read += n;
                Ok(n)
            }
            Conn::ResetAfterRequest | Conn::Refuse => Err(ErrorKind::ConnectionReset),
        }
    }
}

impl Write for ScriptedConn {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        Ok(buf.len())
    }
    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl<const N: usize> TcpConnect for ScriptedStack<N> {
    type Error = ErrorKind;
    type Connection<'a>
        = ScriptedConn
    where
        Self: 'a;

    async fn connect(&self, _remote: SocketAddr) -> Result<ScriptedConn, ErrorKind> {
        let i = self.opened.get();
        self.opened.set(i + 1);
        if let Some(slot) = self.started.get(i) {
            slot.set(Some(Instant::now()));
        }
        let Some(&step) = self.script.get(i) else {
            return Err(ErrorKind::ConnectionRefused);
        };
        if let Conn::Refuse = step.conn {
            Timer::after(Duration::from_millis(step.latency_ms)).await;
            return Err(ErrorKind::ConnectionRefused);
        }
        Ok(ScriptedConn {
            step,
            answered: false,
            read: 0,
        })
    }
}

impl<const N: usize> Dns for ScriptedStack<N> {
    type Error = ErrorKind;

    async fn get_host_by_name(&self, _host: &str, _addr: AddrType) -> Result<IpAddr, ErrorKind> {
        Ok(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2)))
    }

    async fn get_host_by_address(
        &self,
        _addr: IpAddr,
        _result: &mut [u8],
    ) -> Result<usize, ErrorKind> {
        Err(ErrorKind::Unsupported)
    }
}
