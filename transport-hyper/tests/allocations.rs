//! Heap allocations per request on the hot path (no interceptors, first
//! attempt succeeds), counted by a global allocator on the client's thread,
//! against a bare hyper-util client doing the same work (build the request
//! from a URL string, send it, read the whole body).

use core::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as Bare;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tenace_hyper::Client;
use tenace_tests::heap::{Counting, counted_async};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made on this thread while `f` runs.
async fn count<F: core::future::Future<Output = ()>>(f: F) -> u64 {
    counted_async(f).await.1.allocations
}

/// A hyper server on its own thread (its allocations are not counted).
fn start_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
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
    port
}

const N: u64 = 200;

#[test]
fn the_client_allocates_no_more_than_a_bare_hyper_client() {
    let port = start_server();
    let url = format!("http://127.0.0.1:{port}/hello");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let bare: Bare<_, Full<Bytes>> = Bare::builder(TokioExecutor::new()).build_http();
        let bare_once = || async {
            let request = http::Request::get(url.as_str())
                .body(Full::new(Bytes::new()))
                .unwrap();
            let response = bare.request(request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body.len(), 12);
        };
        let client = Client::new().unwrap();
        let tenace_once = || async {
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(response.bytes().len(), 12);
        };
        // Warm up: connections made and pooled, lazy statics initialised.
        for _ in 0..20 {
            bare_once().await;
            tenace_once().await;
        }
        let bare_total = count(async {
            for _ in 0..N {
                bare_once().await;
            }
        })
        .await;
        let tenace_total = count(async {
            for _ in 0..N {
                tenace_once().await;
            }
        })
        .await;
        let (bare_per, tenace_per) = (bare_total as f64 / N as f64, tenace_total as f64 / N as f64);
        println!(
            "allocations per request: bare hyper-util {bare_per:.2}, tenace-hyper {tenace_per:.2}"
        );
        // The engine adds none of its own; tenace reads the body without
        // the `Collected` buffer list, which saves some.
        assert!(
            tenace_total <= bare_total,
            "tenace {tenace_per:.2} > bare {bare_per:.2} allocations per request"
        );
    });
}

/// A body of whole bytes is sent as hyper sends `Full<Bytes>`: no copy,
/// no replay buffer, no allocation of its own.
#[test]
fn a_bytes_body_allocates_no_more_than_with_a_bare_hyper_client() {
    static BODY: [u8; 4096] = [b'x'; 4096];
    let port = start_server();
    let url = format!("http://127.0.0.1:{port}/upload");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let bare: Bare<_, Full<Bytes>> = Bare::builder(TokioExecutor::new()).build_http();
        let bare_once = || async {
            let request = http::Request::put(url.as_str())
                .body(Full::new(Bytes::from_static(&BODY)))
                .unwrap();
            let response = bare.request(request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body.len(), 12);
        };
        let client = Client::new().unwrap();
        let tenace_once = || async {
            let response = client
                .put(&url)
                .body(Bytes::from_static(&BODY))
                .send()
                .await
                .unwrap();
            assert_eq!(response.bytes().len(), 12);
        };
        for _ in 0..20 {
            bare_once().await;
            tenace_once().await;
        }
        let bare_total = count(async {
            for _ in 0..N {
                bare_once().await;
            }
        })
        .await;
        let tenace_total = count(async {
            for _ in 0..N {
                tenace_once().await;
            }
        })
        .await;
        let (bare_per, tenace_per) = (bare_total as f64 / N as f64, tenace_total as f64 / N as f64);
        println!(
            "allocations per PUT of 4 KiB: bare hyper-util {bare_per:.2}, tenace-hyper {tenace_per:.2}"
        );
        assert!(
            tenace_total <= bare_total,
            "tenace {tenace_per:.2} > bare {bare_per:.2} allocations per request"
        );
    });
}
