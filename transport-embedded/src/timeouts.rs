//! A timeout for each phase of an attempt.

use core::time::Duration;

/// A timeout per phase of an attempt; `None` waits as long as it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Timeouts {
    /// DNS, TCP connect and TLS handshake.
    pub connect: Option<Duration>,
    /// From connected to the end of the response head (writing the request
    /// included).
    pub exchange: Option<Duration>,
    /// Reading the body.
    pub body: Option<Duration>,
}

impl Timeouts {
    /// 10 s to connect, 10 s for the response head, 30 s for the body.
    pub const DEFAULT: Self = Self {
        connect: Some(Duration::from_secs(10)),
        exchange: Some(Duration::from_secs(10)),
        body: Some(Duration::from_secs(30)),
    };

    /// No timeouts at all (the engine's per-attempt timeout still applies).
    pub const NONE: Self = Self {
        connect: None,
        exchange: None,
        body: None,
    };

    /// The same timeouts with this connect timeout.
    #[must_use]
    pub const fn connect(mut self, d: Duration) -> Self {
        self.connect = Some(d);
        self
    }

    /// The same timeouts with this exchange (response head) timeout.
    #[must_use]
    pub const fn exchange(mut self, d: Duration) -> Self {
        self.exchange = Some(d);
        self
    }

    /// The same timeouts with this body timeout.
    #[must_use]
    pub const fn body(mut self, d: Duration) -> Self {
        self.body = Some(d);
        self
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}
