//! [`tenace::Transport`] over `hyper_util`'s pooled client.

use core::fmt;
use core::future::Future;

use http::Uri;
use hyper_util::client::legacy::{Client as LegacyClient, ResponseFuture};

use crate::body::read_body;
use crate::classify::classify_client_error;
use crate::connector::Connector;
use crate::error::{Error, UrlError};
use crate::request::Request;
use crate::request_body::{Body, ReplayHandle};
use crate::response::Response;
use crate::transport_builder::TransportBuilder;

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
/// to retry); an HTTP/2 stream that the server refused (`REFUSED_STREAM`,
/// or left out of a `GOAWAY`) is [`Error::Refused`], also `Connect`, as the
/// server did not process it; a reset (of the connection or of an HTTP/2
/// stream for any other reason) or an EOF after the request was written,
/// also in the middle of the body, is [`Io`](tenace::FailureKind::Io); a malformed
/// response, a TLS failure and a body over the limit are
/// [`Other`](tenace::FailureKind::Other).
///
/// A streaming request body ([`Body::stream`]) is kept, as it is sent, up
/// to [`replay_buffer_limit`](TransportBuilder::replay_buffer_limit) bytes
/// for a retry; once it went past the limit, a failed attempt is
/// [`Error::BodyNotReplayable`], never retried.
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
    pub(crate) client: LegacyClient<Connector, Body>,
    pub(crate) connector: Connector,
    pub(crate) max_response_bytes: usize,
    pub(crate) replay_buffer_limit: usize,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("connector", &self.connector)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("replay_buffer_limit", &self.replay_buffer_limit)
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

    /// How many bytes of a streaming request body are kept for a retry
    /// (see [`Body`]).
    pub const fn replay_buffer_limit(&self) -> usize {
        self.replay_buffer_limit
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

impl HyperTransport {
    /// Checks `request` and hands it to hyper-util: its response future,
    /// and the handle of a streaming body's replay buffer (`None` for whole
    /// bytes, whose path takes no lock nor reference count).
    fn start(&self, request: Request) -> Result<(ResponseFuture, Option<ReplayHandle>), Error> {
        self.check(request.uri())?;
        let replay = request.body().replay_handle();
        if let Some(replay) = &replay {
            replay.prepare(Some(self.replay_buffer_limit))?;
        }
        Ok((self.client.request(request.into_http()), replay))
    }
}

impl tenace::Transport for HyperTransport {
    type Request = Request;
    type Response = Response;
    type Error = Error;

    // Not an `async fn`: the request is checked and handed to hyper-util
    // before the future is made, so the future holds neither the request
    // nor hyper's copy of it, only hyper-util's boxed response future
    // (hyper-util's own future sends nothing until it is polled).
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, Error>> {
        let sent = self.start(request);
        async move {
            let (pending, replay) = sent?;
            let attempt = async {
                let response = pending.await.map_err(classify_client_error)?;
                let (parts, body) = response.into_parts();
                let body = read_body(body, self.max_response_bytes).await?;
                Ok(Response::new(parts.status, parts.headers, body).with_version(parts.version))
            };
            match replay {
                None => attempt.await,
                Some(replay) => match attempt.await {
                    Ok(response) => Ok(response.with_spent_body(replay.spent())),
                    Err(e) => Err(replay.after_failure(e)),
                },
            }
        }
    }

    fn replay(&self, request: &Request) -> tenace::Replay {
        request.replay()
    }
}
