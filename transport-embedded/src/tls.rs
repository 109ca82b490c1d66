//! TLS settings for `https://` URLs (feature `tls`): reqwless's
//! embedded-tls, TLS 1.3 with AES-128-GCM-SHA256.

use core::fmt;

use tenace::SeededRng;
use tenace::rand_core::Rng as _;

/// How the server is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsVerify<'a> {
    /// No verification: anyone on the path can read and change the traffic.
    /// For tests and closed networks only.
    None,
    /// A pre-shared key.
    Psk {
        /// The PSK identity.
        identity: &'a [u8],
        /// The key.
        psk: &'a [u8],
    },
    /// A CA certificate (DER), with an optional client certificate and key
    /// (DER) for mutual TLS.
    Certificate {
        /// The CA certificate the server's chain must lead to.
        ca: &'a [u8],
        /// The client certificate.
        cert: Option<&'a [u8]>,
        /// The client's private key (PKCS#8).
        key: Option<&'a [u8]>,
    },
}

impl<'a> From<TlsVerify<'a>> for reqwless::client::TlsVerify<'a> {
    fn from(v: TlsVerify<'a>) -> Self {
        match v {
            TlsVerify::None => Self::None,
            TlsVerify::Psk { identity, psk } => Self::Psk { identity, psk },
            TlsVerify::Certificate { ca, cert, key } => Self::Certificate { ca, cert, key },
        }
    }
}

/// Record buffers, verification and a seed for TLS connections.
///
/// embedded-tls needs a read buffer of 16 640 bytes to accept any record
/// (16 KiB plus overhead); a server known to send small records works with
/// less. The write buffer holds one outgoing record (4 KiB is common).
///
/// Each connection draws a fresh seed for its handshake randomness from a
/// generator seeded here: seed it from the hardware RNG, never a constant.
pub struct Tls<'a> {
    read_buffer: &'a mut [u8],
    write_buffer: &'a mut [u8],
    verify: TlsVerify<'a>,
    seeds: SeededRng,
}

impl fmt::Debug for Tls<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("read_buffer", &self.read_buffer.len())
            .field("write_buffer", &self.write_buffer.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Tls<'a> {
    /// TLS with these buffers and verification; `seed` from the hardware
    /// RNG.
    pub fn new(
        read_buffer: &'a mut [u8],
        write_buffer: &'a mut [u8],
        verify: TlsVerify<'a>,
        seed: u64,
    ) -> Self {
        Self {
            read_buffer,
            write_buffer,
            verify,
            seeds: SeededRng::new(seed),
        }
    }

    /// reqwless's configuration for one connection.
    pub(crate) fn config(&mut self) -> reqwless::client::TlsConfig<'_> {
        let seed = self.seeds.next_u64();
        reqwless::client::TlsConfig::new(
            seed,
            self.read_buffer,
            self.write_buffer,
            self.verify.into(),
        )
    }
}
