//! A hyper server on loopback and three clients of it: a bare hyper-util
//! client (the baseline), tenace-hyper's `Client` (default policy, the
//! first attempt succeeds) and reqwest with reqwest-retry's middleware
//! (exponential backoff, 3 retries). All do the same work per call: build a
//! GET from a URL, send it, read the whole body.

use core::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as Bare;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::runtime::Runtime;

/// The server, its URL, a current-thread runtime for the clients, and the
/// two clients.
#[derive(Debug)]
pub struct Loopback {
    runtime: Runtime,
    url: String,
    bare: Bare<HttpConnector, Full<Bytes>>,
    client: tenace_hyper::Client,
    reqwest: reqwest_middleware::ClientWithMiddleware,
}

/// Starts a hyper server answering `hello, world` on its own thread and
/// runtime; returns its URL.
fn start_server() -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}/hello", listener.local_addr()?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|_req| async {
                        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(
                            b"hello, world",
                        ))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
    });
    Ok(url)
}

impl Loopback {
    /// Starts the server and builds both clients.
    ///
    /// # Errors
    ///
    /// If the listener, a runtime or tenace-hyper's client cannot be built.
    pub fn new() -> Result<Self, Box<dyn core::error::Error>> {
        let url = start_server()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (bare, client, reqwest) = runtime.block_on(async {
            let mut http = HttpConnector::new();
            http.set_nodelay(true);
            let bare = Bare::builder(TokioExecutor::new()).build(http);
            let reqwest = reqwest::Client::builder()
                .no_proxy()
                .tcp_nodelay(true)
                .build()?;
            let policy =
                reqwest_retry::policies::ExponentialBackoff::builder().build_with_max_retries(3);
            let reqwest = reqwest_middleware::ClientBuilder::new(reqwest)
                .with(reqwest_retry::RetryTransientMiddleware::new_with_policy(
                    policy,
                ))
                .build();
            let client = tenace_hyper::Client::new()?;
            Ok::<_, Box<dyn core::error::Error>>((bare, client, reqwest))
        })?;
        Ok(Self {
            runtime,
            url,
            bare,
            client,
            reqwest,
        })
    }

    /// One GET through the bare hyper-util client: the body's length, or
    /// `None` on an error.
    pub fn bare_once(&self) -> Option<usize> {
        self.runtime.block_on(async {
            let request = http::Request::get(self.url.as_str())
                .body(Full::new(Bytes::new()))
                .ok()?;
            let response = self.bare.request(request).await.ok()?;
            let body = response.into_body().collect().await.ok()?;
            Some(body.to_bytes().len())
        })
    }

    /// One GET through tenace-hyper's `Client`: the body's length, or
    /// `None` on an error.
    pub fn tenace_once(&self) -> Option<usize> {
        self.runtime.block_on(async {
            let response = self.client.get(&self.url).send().await.ok()?;
            Some(response.bytes().len())
        })
    }
}

impl Loopback {
    /// One GET through reqwest with reqwest-retry: the body's length, or
    /// `None` on an error.
    pub fn reqwest_once(&self) -> Option<usize> {
        self.runtime.block_on(async {
            let response = self.reqwest.get(self.url.as_str()).send().await.ok()?;
            let body = response.bytes().await.ok()?;
            Some(body.len())
        })
    }
}
