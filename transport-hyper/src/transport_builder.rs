//! [`TransportBuilder`]: the settings of a [`HyperTransport`].

use core::fmt;
use core::time::Duration;
use std::io;
use std::sync::Arc;

use http::Uri;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::connector::{ConnectFn, Connector, Io};
use crate::error::Error;
use crate::request_body::DEFAULT_REPLAY_BUFFER_LIMIT;
use crate::transport::HyperTransport;

/// The default limit on a response body: 8 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The default connect timeout: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which HTTP versions a transport speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Versions {
    /// HTTP/2 where TLS's ALPN picks it, HTTP/1.1 elsewhere.
    Negotiate,
    /// HTTP/2 everywhere, without negotiating it.
    Http2,
    /// HTTP/1.1 everywhere.
    Http1,
}

/// Configures a [`HyperTransport`]; every setting has a default.
///
/// | setting | default |
/// |---|---|
/// | [`connect_timeout`](Self::connect_timeout) | 10 s ([`DEFAULT_CONNECT_TIMEOUT`]) |
/// | [`max_response_bytes`](Self::max_response_bytes) | 8 MiB ([`DEFAULT_MAX_RESPONSE_BYTES`]) |
/// | [`replay_buffer_limit`](Self::replay_buffer_limit) | 256 KiB ([`DEFAULT_REPLAY_BUFFER_LIMIT`]) |
/// | [`pool_idle_timeout`](Self::pool_idle_timeout) | 90 s |
/// | [`pool_max_idle_per_host`](Self::pool_max_idle_per_host) | unlimited |
/// | TLS (`rustls` feature) | rustls with the ring provider and the webpki (Mozilla) roots |
/// | HTTP version | HTTP/2 where TLS's ALPN picks it, else HTTP/1.1; [`http2_prior_knowledge`](Self::http2_prior_knowledge) for HTTP/2 everywhere, [`http1_only`](Self::http1_only) for HTTP/1.1 everywhere |
///
/// # HTTP/2
///
/// Over TLS (the `rustls` feature) the client offers `h2` and `http/1.1`
/// by ALPN and speaks what the server picks, so one client pools HTTP/2 and
/// HTTP/1.1 connections side by side. In cleartext it speaks HTTP/1.1
/// unless told with [`http2_prior_knowledge`](Self::http2_prior_knowledge)
/// that the servers speak HTTP/2 (h2c); there is no `Upgrade: h2c`.
/// An HTTP/2 connection carries concurrent requests on one TCP connection.
///
/// An HTTP/2 server can say that it did not process a request: it resets
/// the stream with `REFUSED_STREAM`, or it sends a `GOAWAY` whose last
/// stream id is below the request's stream. Such a failure is
/// [`Error::Refused`], retried whatever the method (see its docs); any
/// other stream reset may come after the server acted on the request and
/// is [`Error::Io`].
///
/// A request that hyper hands back unsent (its pooled connection closed, or
/// its HTTP/2 connection began to go away, before a byte of it was written)
/// is sent again at once on another connection by hyper-util's pool. It
/// never reached a server, so that is not an attempt: attempts, delays and
/// budgets count only requests that were sent.
#[derive(Clone)]
pub struct TransportBuilder {
    connect_timeout: Option<Duration>,
    max_response_bytes: usize,
    replay_buffer_limit: usize,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    versions: Versions,
    #[cfg(feature = "rustls")]
    tls: Option<rustls::ClientConfig>,
    custom: Option<Arc<ConnectFn>>,
}

impl fmt::Debug for TransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("replay_buffer_limit", &self.replay_buffer_limit)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("versions", &self.versions)
            .field("custom_connector", &self.custom.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for TransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            replay_buffer_limit: DEFAULT_REPLAY_BUFFER_LIMIT,
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: usize::MAX,
            versions: Versions::Negotiate,
            #[cfg(feature = "rustls")]
            tls: None,
            custom: None,
        }
    }
}

impl TransportBuilder {
    /// How many bytes of a streaming request body ([`Body::stream`](crate::Body::stream))
    /// are kept, as they are sent, so a retry can send them again; a body
    /// that streams past it is sent once (a failure after that is
    /// [`Error::BodyNotReplayable`]). A body's own
    /// [`replay_buffer_limit`](crate::Body::replay_buffer_limit) wins.
    /// Whole-bytes bodies are always resent and not counted.
    #[must_use]
    pub const fn replay_buffer_limit(mut self, limit: usize) -> Self {
        self.replay_buffer_limit = limit;
        self
    }

    /// Time allowed to open a TCP connection (`None`: the OS's). A connect
    /// timeout is a [`Connect`](tenace::FailureKind::Connect) failure:
    /// nothing was sent.
    #[must_use]
    pub const fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body accepted, in bytes; a longer one fails
    /// the attempt with [`Error::BodyTooLarge`] (not retried by default).
    #[must_use]
    pub const fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How long an idle pooled connection is kept (`None`: forever).
    #[must_use]
    pub const fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// At most this many idle connections are kept per host (0 disables
    /// pooling).
    #[must_use]
    pub const fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Speaks HTTP/2 on every connection without negotiating it: h2c
    /// (HTTP/2 in cleartext) to servers known to speak it, and over TLS it
    /// offers only `h2` by ALPN. Requests to an HTTP/1.1-only server then
    /// fail (a cleartext HTTP/1.1 server answers the HTTP/2 preface with
    /// an error, a TLS server without `h2` fails the handshake).
    ///
    /// Without it, HTTP/2 is used where TLS's ALPN picks it (the `rustls`
    /// feature), HTTP/1.1 elsewhere.
    ///
    /// Replaces [`http1_only`](Self::http1_only).
    #[must_use]
    pub const fn http2_prior_knowledge(mut self) -> Self {
        self.versions = Versions::Http2;
        self
    }

    /// Speaks HTTP/1.1 on every connection: over TLS it offers only
    /// `http/1.1` by ALPN, so a server that would pick HTTP/2 speaks
    /// HTTP/1.1, and one that speaks only HTTP/2 cannot be reached (its
    /// handshake or its answer fails, not retried). For a proxy or a server
    /// whose HTTP/2 is broken, or to keep each request on a connection of
    /// its own.
    ///
    /// Replaces [`http2_prior_knowledge`](Self::http2_prior_knowledge).
    #[must_use]
    pub const fn http1_only(mut self) -> Self {
        self.versions = Versions::Http1;
        self
    }

    /// The TLS configuration for `https` URLs, e.g. with your own root
    /// store. Its crypto provider is used as given; its ALPN protocols are
    /// replaced by the client's own (`h2` and `http/1.1`, only `h2` with
    /// [`http2_prior_knowledge`](Self::http2_prior_knowledge), only
    /// `http/1.1` with [`http1_only`](Self::http1_only)).
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Opens connections with `connect` instead of TCP: any tokio byte
    /// stream (an in-memory `tokio::io::duplex`, a Unix socket, a tunnel).
    /// The URL's scheme and host still go into the request; no TLS is
    /// added. An error from `connect` is a
    /// [`Connect`](tenace::FailureKind::Connect) failure.
    #[must_use]
    pub fn connect_with<F, Fut, S>(mut self, connect: F) -> Self
    where
        F: Fn(Uri) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        self.custom = Some(Arc::new(move |uri| {
            let connecting = connect(uri);
            Box::pin(async move { connecting.await.map(|s| Box::new(s) as Box<dyn Io>) })
        }));
        self
    }

    /// Builds the transport. It spawns connection tasks on the tokio
    /// runtime it is used in.
    ///
    /// # Errors
    /// With the `rustls` feature, [`Error::Tls`] if the default TLS
    /// configuration cannot be built.
    pub fn build(self) -> Result<HyperTransport, Error> {
        let connector = match self.custom {
            Some(f) => Connector::Custom(f),
            None => self.tcp_connector()?,
        };
        let mut builder = LegacyClient::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http2_only(self.versions == Versions::Http2);
        Ok(HyperTransport {
            client: builder.build(connector.clone()),
            connector,
            max_response_bytes: self.max_response_bytes,
            replay_buffer_limit: self.replay_buffer_limit,
        })
    }

    fn http_connector(&self) -> HttpConnector {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(self.connect_timeout);
        http.set_nodelay(true);
        http.enforce_http(false);
        if let Some(idle) = self.pool_idle_timeout {
            http.set_keepalive(Some(idle));
        }
        http
    }

    #[cfg(not(feature = "rustls"))]
    fn tcp_connector(&self) -> Result<Connector, Error> {
        Ok(Connector::Http(self.http_connector()))
    }

    #[cfg(feature = "rustls")]
    fn tcp_connector(&self) -> Result<Connector, Error> {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match &self.tls {
            Some(config) => {
                // hyper-rustls sets the ALPN protocols itself (and panics
                // on a configuration that already has some).
                let mut config = config.clone();
                config.alpn_protocols.clear();
                builder.with_tls_config(config)
            }
            None => builder
                .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| Error::Tls(Box::new(e)))?,
        };
        let builder = builder.https_or_http();
        let https = match self.versions {
            Versions::Http2 => builder.enable_http2().wrap_connector(self.http_connector()),
            Versions::Http1 => builder.enable_http1().wrap_connector(self.http_connector()),
            Versions::Negotiate => builder
                .enable_http1()
                .enable_http2()
                .wrap_connector(self.http_connector()),
        };
        Ok(Connector::Https(https))
    }
}
