//! An in-memory HTTP/1.1 server for paused-time tests: the client connects
//! through `tokio::io::duplex`, a hyper server answers from a script.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tenace_hyper::ClientBuilder;

/// What the in-memory server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status, headers and body.
    Status(u16, Vec<(&'static str, String)>, &'static str),
    /// This status, these headers (names and values verbatim, in order)
    /// and this body.
    Raw(u16, Vec<(String, String)>, Vec<u8>),
    /// Never answer.
    Hang,
    /// Drop the connection without answering (the client sees EOF after
    /// sending).
    Drop,
}

impl Reply {
    pub fn ok(body: &'static str) -> Self {
        Self::Status(200, Vec::new(), body)
    }
    pub fn status(code: u16) -> Self {
        Self::Status(code, Vec::new(), "")
    }
    pub fn retry_after(code: u16, value: &str) -> Self {
        Self::Status(code, vec![("retry-after", value.to_owned())], "")
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// tokio time since the server was made, in milliseconds.
    pub at_ms: u128,
}

#[derive(Debug)]
struct State {
    script: VecDeque<Reply>,
    /// The reply once the script is used up.
    fallback: Reply,
    seen: Vec<Seen>,
}

/// The server; clone it into the connector.
#[derive(Debug, Clone)]
pub struct MemoryServer {
    state: Arc<Mutex<State>>,
    epoch: tokio::time::Instant,
}

impl MemoryServer {
    pub fn new(script: impl IntoIterator<Item = Reply>) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                script: script.into_iter().collect(),
                fallback: Reply::ok("ok"),
                seen: Vec::new(),
            })),
            epoch: tokio::time::Instant::now(),
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn received(&self) -> usize {
        self.state.lock().unwrap().seen.len()
    }

    /// Answers every request past the script with `reply` (200 "ok" until
    /// this is called).
    pub fn set_fallback(&self, reply: Reply) {
        self.state.lock().unwrap().fallback = reply;
    }

    /// A client builder connected to this server (URLs on any host).
    pub fn client(&self) -> ClientBuilder {
        let server = self.clone();
        tenace_hyper::Client::builder()
            .base_url("http://memory.test")
            .connect_with(move |_uri| {
                let server = server.clone();
                async move { Ok::<_, io::Error>(server.connect()) }
            })
    }

    /// Opens one in-memory connection and serves it on a task.
    pub fn connect(&self) -> tokio::io::DuplexStream {
        let (client, server_io) = tokio::io::duplex(1 << 16);
        let me = self.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let me = me.clone();
                async move { me.answer(req).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server_io), service)
                .await;
        });
        client
    }

    async fn answer(&self, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, io::Error> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let reply = {
            let mut state = self.state.lock().unwrap();
            state.seen.push(Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                headers: parts.headers,
                body,
                at_ms: self.epoch.elapsed().as_millis(),
            });
            let fallback = state.fallback.clone();
            state.script.pop_front().unwrap_or(fallback)
        };
        match reply {
            Reply::Status(code, headers, body) => {
                let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                *response.status_mut() = StatusCode::from_u16(code).unwrap();
                for (name, value) in headers {
                    response.headers_mut().append(name, value.parse().unwrap());
                }
                Ok(response)
            }
            Reply::Raw(code, headers, body) => {
                let mut response = Response::new(Full::new(Bytes::from(body)));
                *response.status_mut() = StatusCode::from_u16(code).unwrap();
                for (name, value) in headers {
                    let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
                    response.headers_mut().append(
                        name,
                        http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                    );
                }
                Ok(response)
            }
            Reply::Hang => core::future::pending().await,
            Reply::Drop => Err(io::Error::other("dropped on purpose")),
        }
    }
}

/// Records every retry's delay (and the failure kind) through `on_retry`.
#[derive(Debug, Clone, Default)]
pub struct Delays(Arc<Mutex<Vec<(u32, String, core::time::Duration)>>>);

impl Delays {
    pub fn hook(&self) -> impl Fn(&tenace::RetryEvent) + Send + Sync + 'static {
        let log = Arc::clone(&self.0);
        move |ev| {
            log.lock()
                .unwrap()
                .push((ev.attempt, ev.kind.to_string(), ev.delay))
        }
    }
    pub fn delays(&self) -> Vec<core::time::Duration> {
        self.0.lock().unwrap().iter().map(|e| e.2).collect()
    }
    pub fn kinds(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|e| e.1.clone()).collect()
    }
}
