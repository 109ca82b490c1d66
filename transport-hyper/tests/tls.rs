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
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tenace::{FixedDelay, StopReason};
use tenace_hyper::{Client, Error};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server on 127.0.0.1 answering 503 to its first request and 200
/// `secure` after; counts handshakes and requests.
struct TlsServer {
    port: u16,
    cert: CertificateDer<'static>,
    handshakes: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

async fn start_tls_server() -> TlsServer {
    let key =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = key.cert.der().clone();
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], private)
        .unwrap();
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
                            *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
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
