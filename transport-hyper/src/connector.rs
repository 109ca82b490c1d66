//! The connector behind the pooled client: TCP (and TLS with the `rustls`
//! feature), or a stream of the user's own (an in-memory duplex in tests).
//!
//! It is one concrete type whatever the features, so [`Client`](crate::Client)
//! and [`HyperTransport`](crate::HyperTransport) have no type parameter.
//! A connect costs one boxed future; pooled connections are reused, so
//! that is once per connection, not per request.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::sync::Arc;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::BoxError;

pub(crate) use crate::interceptor::BoxFuture;

/// Any byte stream a custom connector may return.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A user's connect function, type-erased.
pub(crate) type ConnectFn =
    dyn Fn(Uri) -> BoxFuture<'static, io::Result<Box<dyn Io>>> + Send + Sync;

#[derive(Clone)]
pub(crate) enum Connector {
    #[cfg(not(feature = "rustls"))]
    Http(HttpConnector),
    #[cfg(feature = "rustls")]
    Https(hyper_rustls::HttpsConnector<HttpConnector>),
    Custom(Arc<ConnectFn>),
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            #[cfg(not(feature = "rustls"))]
            Self::Http(_) => "Connector::Http",
            #[cfg(feature = "rustls")]
            Self::Https(_) => "Connector::Https",
            Self::Custom(_) => "Connector::Custom",
        })
    }
}

impl Connector {
    /// Whether this connector can open a connection for `scheme`.
    pub(crate) fn supports(&self, scheme: Option<&str>) -> bool {
        match self {
            Self::Custom(_) => true,
            #[cfg(not(feature = "rustls"))]
            Self::Http(_) => scheme == Some("http"),
            #[cfg(feature = "rustls")]
            Self::Https(_) => matches!(scheme, Some("http" | "https")),
        }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Conn, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self {
            #[cfg(not(feature = "rustls"))]
            Self::Http(c) => c.poll_ready(cx).map_err(Into::into),
            #[cfg(feature = "rustls")]
            Self::Https(c) => c.poll_ready(cx),
            Self::Custom(_) => {
                let _ = cx;
                Poll::Ready(Ok(()))
            }
        }
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        match self {
            #[cfg(not(feature = "rustls"))]
            Self::Http(c) => {
                let connecting = c.call(uri);
                Box::pin(async move { Ok(Conn::Http(connecting.await?)) })
            }
            #[cfg(feature = "rustls")]
            Self::Https(c) => {
                let connecting = c.call(uri);
                Box::pin(async move { Ok(Conn::Https(connecting.await?)) })
            }
            Self::Custom(f) => {
                let connecting = f(uri);
                Box::pin(async move { Ok(Conn::Custom(TokioIo::new(connecting.await?))) })
            }
        }
    }
}

/// A connection made by [`Connector`].
///
/// The TLS variant is large, but a connection lives once, inside hyper's
/// connection task: boxing it would only add an allocation per connection.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Conn {
    #[cfg(not(feature = "rustls"))]
    Http(TokioIo<tokio::net::TcpStream>),
    #[cfg(feature = "rustls")]
    Https(hyper_rustls::MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>),
    Custom(TokioIo<Box<dyn Io>>),
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        match self {
            #[cfg(not(feature = "rustls"))]
            Self::Http(s) => s.connected(),
            #[cfg(feature = "rustls")]
            Self::Https(s) => s.connected(),
            Self::Custom(_) => Connected::new(),
        }
    }
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::get_mut(self) {
            #[cfg(not(feature = "rustls"))]
            Self::Http(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Https(s) => Pin::new(s).poll_read(cx, buf),
            Self::Custom(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::get_mut(self) {
            #[cfg(not(feature = "rustls"))]
            Self::Http(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Https(s) => Pin::new(s).poll_write(cx, buf),
            Self::Custom(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::get_mut(self) {
            #[cfg(not(feature = "rustls"))]
            Self::Http(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Self::Https(s) => Pin::new(s).poll_flush(cx),
            Self::Custom(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::get_mut(self) {
            #[cfg(not(feature = "rustls"))]
            Self::Http(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Self::Https(s) => Pin::new(s).poll_shutdown(cx),
            Self::Custom(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            #[cfg(not(feature = "rustls"))]
            Self::Http(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Self::Https(s) => s.is_write_vectored(),
            Self::Custom(s) => s.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::get_mut(self) {
            #[cfg(not(feature = "rustls"))]
            Self::Http(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Self::Https(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Custom(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }
}
