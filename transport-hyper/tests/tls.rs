//! HTTPS through the `rustls` feature, against a local TLS server whose
//! self-signed certificate is generated for the test.
#![cfg(feature = "rustls")]

use core::convert::Infallible;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tenace::{FixedDelay, StopReason};
use tenace_hyper::{Client, Error};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server on 127.0.0.1 answering 503 to its first request and 200
/// `secure` after, in HTTP/1.1 without ALPN; counts handshakes and requests.
struct TlsServer {
    port: u16,
    cert: CertificateDer<'static>,
    handshakes: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

/// The protocol a test server speaks, and the ALPN protocols it accepts.
#[derive(Clone, Copy)]
enum Speaks {
    /// HTTP/1.1, no ALPN (the client's offer is ignored).
    Http1,
    /// HTTP/1.1, and only `http/1.1` by ALPN: a client that offers only
    /// `h2` fails the handshake.
    Http1Alpn,
    /// HTTP/2, `h2` by ALPN.
    Http2,
    /// `h2` or `http/1.1` by ALPN, and what the client picked.
    Both,
}

async fn start_tls_server() -> TlsServer {
    start_server(Speaks::Http1, 503).await
}

/// A TLS server answering `first_status` to its first request and 200
/// `secure` after.
async fn start_server(speaks: Speaks, first_status: u16) -> TlsServer {
    let key =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = key.cert.der().clone();
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], private)
        .unwrap();
    config.alpn_protocols = match speaks {
        Speaks::Http1 => Vec::new(),
        Speaks::Http1Alpn => vec![b"http/1.1".to_vec()],
        Speaks::Http2 => vec![b"h2".to_vec()],
        Speaks::Both => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    };
    let first_status = http::StatusCode::from_u16(first_status).unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (h, r) = (Arc::clone(&handshakes), Arc::clone(&requests));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let (h, r) = (Arc::clone(&h), Arc::clone(&r));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                h.fetch_add(1, Ordering::SeqCst);
                let service = service_fn(move |_req| {
                    let n = r.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let mut response =
                            http::Response::new(Full::new(Bytes::from_static(b"secure")));
                        if n == 0 {
                            *response.status_mut() = first_status;
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
                let h2 = match speaks {
                    Speaks::Http2 => true,
                    Speaks::Both => tls.get_ref().1.alpn_protocol() == Some(b"h2"),
                    Speaks::Http1 | Speaks::Http1Alpn => false,
                };
                let io = TokioIo::new(tls);
                let _ = match h2 {
                    false => {
                        hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await
                    }
                    true => {
                        hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await
                    }
                };
            });
        }
    });
    TlsServer {
        port,
        cert,
        handshakes,
        requests,
    }
}

/// A client configuration trusting these servers' certificates.
fn trusting(servers: &[&TlsServer]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for server in servers {
        roots.add(server.cert.clone()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[tokio::test]
async fn https_with_a_trusted_self_signed_certificate() {
    let server = start_tls_server().await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.cert.clone()).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = Client::builder()
        .base_url(format!("https://127.0.0.1:{}", server.port))
        .tls_config(tls)
        .retry_strategy(FixedDelay::new(Duration::from_millis(10)))
        .retry_transient_statuses()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    // The first answer is a 503: retried over the same TLS connection.
    let response = client.get("/").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().unwrap(), "secure");
    let response = client.get("/again").send().await.unwrap();
    assert_eq!(response.text().unwrap(), "secure");
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_not_retried() {
    let server = start_tls_server().await;
    // Default roots (webpki): the self-signed certificate is not trusted.
    let client = Client::builder()
        .base_url(format!("https://127.0.0.1:{}", server.port))
        .retry_strategy(FixedDelay::new(Duration::from_millis(10)))
        .build()
        .unwrap();
    let err = client.get("/").send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(
        matches!(err.last_error(), Some(Error::Tls(_))),
        "{:?}",
        err.last_error()
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn plain_http_still_works_with_the_rustls_feature() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let service = service_fn(|_req| async {
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"plain"))))
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(tcp), service)
            .await;
    });
    let client = Client::new().unwrap();
    let response = client
        .get(&format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().unwrap(), "plain");
}

#[tokio::test]
async fn http2_over_tls_by_alpn() {
    let server = start_server(Speaks::Http2, 503).await;
    let client = Client::builder()
        .base_url(format!("https://localhost:{}", server.port))
        .tls_config(trusting(&[&server]))
        .retry_strategy(FixedDelay::new(Duration::from_millis(10)))
        .retry_transient_statuses()
        .build()
        .unwrap();
    // The 503 is retried on the same HTTP/2 connection.
    let response = client.get("/").send().await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(
        (response.text().unwrap(), response.attempts()),
        ("secure", 2)
    );
    let response = client.get("/again").send().await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn one_client_pools_http2_and_http1_connections() {
    let h2 = start_server(Speaks::Http2, 200).await;
    let h1 = start_server(Speaks::Http1, 200).await;
    let h1_alpn = start_server(Speaks::Http1Alpn, 200).await;
    let client = Client::builder()
        .tls_config(trusting(&[&h2, &h1, &h1_alpn]))
        .build()
        .unwrap();
    let url = |server: &TlsServer| format!("https://localhost:{}/", server.port);
    for _ in 0..2 {
        for (server, version) in [
            (&h2, http::Version::HTTP_2),
            (&h1, http::Version::HTTP_11),
            (&h1_alpn, http::Version::HTTP_11),
        ] {
            let response = client.get(&url(server)).send().await.unwrap();
            assert_eq!(response.version(), version);
            assert_eq!(response.text().unwrap(), "secure");
        }
    }
    // Each server's connection was reused for the second round.
    for server in [&h2, &h1, &h1_alpn] {
        assert_eq!(server.handshakes.load(Ordering::SeqCst), 1);
        assert_eq!(server.requests.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn prior_knowledge_over_tls_offers_only_h2() {
    let h2 = start_server(Speaks::Http2, 200).await;
    let h1_alpn = start_server(Speaks::Http1Alpn, 200).await;
    let client = Client::builder()
        .tls_config(trusting(&[&h2, &h1_alpn]))
        .http2_prior_knowledge()
        .retry_strategy(FixedDelay::new(Duration::from_millis(10)))
        .build()
        .unwrap();
    let response = client
        .get(&format!("https://localhost:{}/", h2.port))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    // A server that speaks only `http/1.1` by ALPN refuses the handshake:
    // a TLS error, not retried.
    let err = client
        .get(&format!("https://localhost:{}/", h1_alpn.port))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert!(
        matches!(err.last_error(), Some(Error::Tls(_))),
        "{:?}",
        err.last_error()
    );
    assert_eq!(h1_alpn.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn http1_only_offers_only_http1_over_tls() {
    let both = start_server(Speaks::Both, 200).await;
    let h2 = start_server(Speaks::Http2, 200).await;
    let url = |server: &TlsServer| format!("https://localhost:{}/", server.port);
    let negotiating = Client::builder()
        .tls_config(trusting(&[&both]))
        .build()
        .unwrap();
    let response = negotiating.get(&url(&both)).send().await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    let client = Client::builder()
        .tls_config(trusting(&[&both, &h2]))
        .http1_only()
        .build()
        .unwrap();
    for _ in 0..2 {
        let response = client.get(&url(&both)).send().await.unwrap();
        assert_eq!(response.version(), http::Version::HTTP_11);
        assert_eq!(response.text().unwrap(), "secure");
    }
    assert_eq!(both.requests.load(Ordering::SeqCst), 3);
    assert_eq!(both.handshakes.load(Ordering::SeqCst), 2, "one per client");
    // A server that speaks only HTTP/2 cannot be reached: the client
    // speaks HTTP/1.1 to it and cannot read its answer. Not retried, and
    // no request reached it.
    let err = client.get(&url(&h2)).send().await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotRetryable, 1)
    );
    assert_eq!(h2.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_last_version_setting_wins() {
    let both = start_server(Speaks::Both, 200).await;
    let url = format!("https://localhost:{}/", both.port);
    let h1 = Client::builder()
        .tls_config(trusting(&[&both]))
        .http2_prior_knowledge()
        .http1_only()
        .build()
        .unwrap();
    assert_eq!(
        h1.get(&url).send().await.unwrap().version(),
        http::Version::HTTP_11
    );
    let h2 = Client::builder()
        .tls_config(trusting(&[&both]))
        .http1_only()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    assert_eq!(
        h2.get(&url).send().await.unwrap().version(),
        http::Version::HTTP_2
    );
}

#[tokio::test]
async fn a_tls_config_with_its_own_alpn_protocols_is_accepted() {
    let h2 = start_server(Speaks::Http2, 200).await;
    let mut tls = trusting(&[&h2]);
    tls.alpn_protocols = vec![b"spdy/3".to_vec()];
    let client = Client::builder().tls_config(tls).build().unwrap();
    let response = client
        .get(&format!("https://localhost:{}/", h2.port))
        .send()
        .await
        .unwrap();
    // The client's own ALPN offer replaced it.
    assert_eq!(response.version(), http::Version::HTTP_2);
}
