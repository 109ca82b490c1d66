//! [`tenace::Transport`] over `hyper_util`'s pooled client.

use core::fmt;
use core::future::Future;
use core::time::Duration;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use http::Uri;
use http_body::Body as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::connector::{ConnectFn, Connector, Io};
use crate::error::{Error, UrlError, classify_client_error, classify_hyper_error};
use crate::request::Request;
use crate::response::Response;

/// The default limit on a response body: 8 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The default connect timeout: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one attempt over a pooled hyper client and reads the whole
/// response body, up to a limit.
///
/// This is the [`Transport`](tenace::Transport) that [`Client`](crate::Client)
/// drives; use it directly with [`tenace::retry`] for full control over the
/// policy and the pipeline. Cloning it is cheap and shares the connection
/// pool.
///
/// Failures are classified for the engine (see [`Error`]): a refused
/// connection, a DNS failure or a connect timeout is
/// [`Connect`](tenace::FailureKind::Connect) (nothing was sent, always safe
/// to retry); a reset or an EOF after the request was written, also in the
/// middle of the body, is [`Io`](tenace::FailureKind::Io); a malformed
/// response, a TLS failure and a body over the limit are
/// [`Other`](tenace::FailureKind::Other).
///
/// ```no_run
/// use core::time::Duration;
/// use tenace::{ExponentialBackoff, Policy, SeededRng};
/// use tenace_hyper::{HyperTransport, Request, TokioClock};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let transport = HyperTransport::builder().max_response_bytes(1 << 20).build()?;
/// let policy = Policy::new(ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(5))?);
/// let request = Request::new(http::Method::GET, "http://127.0.0.1:8080/".parse()?);
/// let call = tenace::retry(&transport, &TokioClock::new(), &policy, &mut SeededRng::new(7), request).await?;
/// println!("{} after {} attempts", call.value.status(), call.attempts);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HyperTransport {
    client: LegacyClient<Connector, Full<Bytes>>,
    connector: Connector,
    max_response_bytes: usize,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("connector", &self.connector)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport with the defaults (see [`TransportBuilder`]).
    ///
    /// # Errors
    /// With the `rustls` feature, if the TLS configuration cannot be built.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder for a transport with its own limits and timeouts.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// The response body limit, in bytes.
    pub const fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// Refuses, before anything is sent, a URL the connector cannot serve:
    /// it would otherwise fail as a connect error and be retried in vain.
    fn check(&self, uri: &Uri) -> Result<(), Error> {
        // `Uri::host` is `authority().map(Authority::host)`, so this is the
        // same test without parsing the host out (hundreds of instructions
        // per attempt).
        if uri.authority().is_none() {
            return Err(Error::InvalidUrl(Box::new(UrlError(
                "the URL is not absolute (no host)",
            ))));
        }
        if !self.connector.supports(uri.scheme_str()) {
            let reason = if uri.scheme_str() == Some("https") {
                "https needs the `rustls` feature of tenace-hyper"
            } else {
                "unsupported URL scheme"
            };
            return Err(Error::InvalidUrl(Box::new(UrlError(reason))));
        }
        Ok(())
    }
}

impl tenace::Transport for HyperTransport {
    type Request = Request;
    type Response = Response;
    type Error = Error;

    // Not an `async fn`: its future would keep the request twice (the
    // argument and the local it is moved into); an `async move` block uses
    // the captured request in place (248 bytes less).
    #[allow(clippy::manual_async_fn)]
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, Error>> {
        async move {
            self.check(request.uri())?;
            let response = self
                .client
                .request(request.into_http())
                .await
                .map_err(classify_client_error)?;
            let (parts, body) = response.into_parts();
            let body = read_body(body, self.max_response_bytes).await?;
            Ok(Response::new(parts.status, parts.headers, body).with_version(parts.version))
        }
    }

    fn replay(&self, request: &Request) -> tenace::Replay {
        request.replay()
    }
}

/// Reads a whole body, failing as soon as it is known to exceed `limit`
/// (from `Content-Length`, before reading anything, or while reading a
/// body of unknown length), so a huge or endless body costs at most
/// `limit` bytes of buffer (plus, while the buffer moves to a larger
/// block, the old block: less than twice `limit` at the peak).
async fn read_body(mut body: Incoming, limit: usize) -> Result<Bytes, Error> {
    let too_large = || Error::BodyTooLarge { limit };
    let hint = body.size_hint();
    if hint.lower() > limit as u64 {
        return Err(too_large());
    }
    // A body in one frame (the common case for small responses) is kept
    // as is, without a copy.
    let mut first: Option<Bytes> = None;
    // A `Vec`, not a `BytesMut`: `BytesMut` only grows by doubling, so a
    // body just under an 8 MiB limit took a 16 MiB buffer (24 MiB at the
    // peak, measured by tests/tests/hyper_hostile.rs); here growth doubles
    // but stops at the limit.
    let mut rest: Option<Vec<u8>> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(classify_hyper_error)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if total > limit {
            return Err(too_large());
        }
        match (&mut rest, first.take()) {
            (None, None) => first = Some(data),
            (None, Some(head)) => {
                let capacity = usize::try_from(hint.exact().unwrap_or(0))
                    .unwrap_or(0)
                    .max(total);
                let mut buf = Vec::with_capacity(capacity.min(limit));
                buf.extend_from_slice(&head);
                buf.extend_from_slice(&data);
                rest = Some(buf);
                // `head` (a slice of hyper's read buffer) is released here.
            }
            (Some(buf), _) => {
                if buf.capacity() - buf.len() < data.len() {
                    // `total <= limit` here, so the clamp's bounds are in order.
                    let target = buf.capacity().saturating_mul(2).clamp(total, limit);
                    buf.reserve_exact(target - buf.len());
                }
                buf.extend_from_slice(&data);
            }
        }
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => Bytes::from(buf),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    })
}

/// Configures a [`HyperTransport`]; every setting has a default.
///
/// | setting | default |
/// |---|---|
/// | [`connect_timeout`](Self::connect_timeout) | 10 s ([`DEFAULT_CONNECT_TIMEOUT`]) |
/// | [`max_response_bytes`](Self::max_response_bytes) | 8 MiB ([`DEFAULT_MAX_RESPONSE_BYTES`]) |
/// | [`pool_idle_timeout`](Self::pool_idle_timeout) | 90 s |
/// | [`pool_max_idle_per_host`](Self::pool_max_idle_per_host) | unlimited |
/// | TLS (`rustls` feature) | rustls with the ring provider and the webpki (Mozilla) roots |
#[derive(Clone)]
pub struct TransportBuilder {
    connect_timeout: Option<Duration>,
    max_response_bytes: usize,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    #[cfg(feature = "rustls")]
    tls: Option<rustls::ClientConfig>,
    custom: Option<Arc<ConnectFn>>,
}

impl fmt::Debug for TransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("custom_connector", &self.custom.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for TransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: usize::MAX,
            #[cfg(feature = "rustls")]
            tls: None,
            custom: None,
        }
    }
}

impl TransportBuilder {
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

    /// The TLS configuration for `https` URLs, e.g. with your own root
    /// store. Its crypto provider is used as given.
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
            .pool_max_idle_per_host(self.pool_max_idle_per_host);
        Ok(HyperTransport {
            client: builder.build(connector.clone()),
            connector,
            max_response_bytes: self.max_response_bytes,
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
            Some(config) => builder.with_tls_config(config.clone()),
            None => builder
                .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| Error::Tls(Box::new(e)))?,
        };
        let https = builder
            .https_or_http()
            .enable_http1()
            .wrap_connector(self.http_connector());
        Ok(Connector::Https(https))
    }
}
