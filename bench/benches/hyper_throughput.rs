//! Requests per second on loopback: tenace-hyper's `Client` (default
//! policy, first attempt succeeds) against a bare hyper-util client doing
//! the same work (build the request from a URL, send it, read the whole
//! body), in the same run, against the same in-process hyper server.
//!
//! `cargo bench -p tenace-bench --bench hyper_throughput` (add `-- --quick` for a
//! shorter run). After criterion's two measurements it prints both rates
//! and their ratio from an interleaved run of its own.

use core::convert::Infallible;
use core::hint::black_box;
use core::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as Bare;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tenace_hyper::Client;
use tokio::runtime::Runtime;

/// A hyper server answering `hello, world` on its own thread and runtime.
fn start_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}/hello", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
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
    url
}

struct Setup {
    rt: Runtime,
    url: String,
    bare: Bare<HttpConnector, Full<Bytes>>,
    client: Client,
}

impl Setup {
    fn new() -> Self {
        let url = start_server();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (bare, client) = rt.block_on(async {
            let mut http = HttpConnector::new();
            http.set_nodelay(true);
            let bare = Bare::builder(TokioExecutor::new()).build(http);
            (bare, Client::new().expect("client"))
        });
        Self {
            rt,
            url,
            bare,
            client,
        }
    }

    async fn bare_once(&self) -> usize {
        let request = http::Request::get(self.url.as_str())
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = self.bare.request(request).await.expect("bare response");
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .len()
    }

    async fn tenace_once(&self) -> usize {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .expect("tenace response");
        response.bytes().len()
    }

    /// Requests per second over `n` sequential requests.
    fn rate(&self, n: u32, tenace: bool) -> f64 {
        let started = Instant::now();
        self.rt.block_on(async {
            for _ in 0..n {
                let len = if tenace {
                    self.tenace_once().await
                } else {
                    self.bare_once().await
                };
                black_box(len);
            }
        });
        f64::from(n) / started.elapsed().as_secs_f64()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn throughput(c: &mut Criterion) {
    let setup = Setup::new();
    // Warm both pools.
    setup.rate(200, false);
    setup.rate(200, true);

    let mut group = c.benchmark_group("loopback_get");
    group.throughput(Throughput::Elements(1));
    group.bench_function("hyper_util_bare", |b| {
        b.iter(|| setup.rt.block_on(setup.bare_once()))
    });
    group.bench_function("tenace_hyper_client", |b| {
        b.iter(|| setup.rt.block_on(setup.tenace_once()))
    });
    group.finish();

    // Interleaved rounds, alternating which goes first, so drift on a
    // shared machine hits both alike.
    let (mut bare, mut tenace) = (Vec::new(), Vec::new());
    for round in 0..8 {
        if round % 2 == 0 {
            bare.push(setup.rate(1000, false));
            tenace.push(setup.rate(1000, true));
        } else {
            tenace.push(setup.rate(1000, true));
            bare.push(setup.rate(1000, false));
        }
    }
    let (bare, tenace) = (median(bare), median(tenace));
    println!(
        "loopback GET, sequential, median of 8 interleaved rounds of 1000: \
         hyper-util {bare:.0} req/s, tenace-hyper {tenace:.0} req/s, ratio {:.3}",
        tenace / bare
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = throughput
}
criterion_main!(benches);
