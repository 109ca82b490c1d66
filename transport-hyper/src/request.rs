//! The request the engine replays: method, URL, headers and a [`Body`].

use core::fmt;

use http::header::{AUTHORIZATION, HeaderValue};
use http::{HeaderMap, Method, Uri};
use tenace::Replay;

use crate::request_body::Body;
use crate::response::HeaderNames;

/// One HTTP request, replayable as many times as the engine needs.
///
/// The body is a [`Body`]: whole bytes, which cloning the request for
/// another attempt shares (a reference count, not a copy), or a stream
/// replayed from a bounded buffer, so a retry never silently sends an
/// empty or partial body (see [`Body`]).
///
/// Interceptors receive a fresh clone of the original request on every
/// attempt, so a header they add is never added twice.
#[derive(Clone)]
pub struct Request {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    retry_safe: Option<bool>,
}

impl Request {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, uri: Uri) -> Self {
        Self {
            method,
            uri,
            headers: HeaderMap::new(),
            body: Body::empty(),
            retry_safe: None,
        }
    }

    /// The method.
    pub const fn method(&self) -> &Method {
        &self.method
    }

    /// The method, to change it.
    pub const fn method_mut(&mut self) -> &mut Method {
        &mut self.method
    }

    /// The absolute URL.
    pub const fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The URL, to change it.
    pub const fn uri_mut(&mut self) -> &mut Uri {
        &mut self.uri
    }

    /// The headers.
    pub const fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, to change them.
    pub const fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body.
    pub const fn body(&self) -> &Body {
        &self.body
    }

    /// Replaces the body: a [`Body`] (also a stream, [`Body::stream`]) or
    /// anything that converts into one: [`Bytes`](bytes::Bytes),
    /// `Vec<u8>`, `String`, `&'static str`, `&'static [u8]`.
    pub fn set_body(&mut self, body: impl Into<Body>) {
        self.body = body.into();
    }

    /// Marks the request safe (`true`) or unsafe (`false`) to replay after
    /// a failure that may have reached the server, whatever its method and
    /// headers: `false` keeps even a `GET` from being sent twice.
    pub const fn set_retry_safe(&mut self, safe: bool) {
        self.retry_safe = Some(safe);
    }

    /// The explicit mark set by [`set_retry_safe`](Self::set_retry_safe),
    /// if any.
    pub const fn retry_safe(&self) -> Option<bool> {
        self.retry_safe
    }

    /// Whether the request may be sent again after a failure that may
    /// have reached the server, by [`Replay::of`]: an explicit mark
    /// ([`set_retry_safe`](Self::set_retry_safe)) decides; else an
    /// `Idempotency-Key` header makes it safe; else an idempotent method
    /// (`GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT`, `DELETE`) does.
    pub fn replay(&self) -> Replay {
        Replay::of(
            self.method.as_str(),
            self.retry_safe.map(Replay::from_safe),
            self.headers.keys().map(http::HeaderName::as_str),
        )
    }

    /// Converts into the request hyper sends.
    ///
    /// Credentials in the URL (`http://user:pass@host/`) never reach hyper,
    /// whose pool logs the authority: they are removed from the URL and,
    /// unless the request already has an `Authorization` header, sent as
    /// `Authorization: Basic` (marked sensitive), as curl and browsers do.
    pub(crate) fn into_http(mut self) -> http::Request<Body> {
        if let Some((uri, credentials)) = split_userinfo(&self.uri) {
            self.uri = uri;
            if !self.headers.contains_key(AUTHORIZATION) {
                let mut value =
                    HeaderValue::try_from(format!("Basic {}", base64(credentials.as_bytes())))
                        .unwrap_or_else(|_| HeaderValue::from_static(""));
                if !value.is_empty() {
                    value.set_sensitive(true);
                    self.headers.insert(AUTHORIZATION, value);
                }
            }
        }
        let mut request = http::Request::new(self.body);
        *request.method_mut() = self.method;
        *request.uri_mut() = self.uri;
        *request.headers_mut() = self.headers;
        request
    }
}

impl fmt::Debug for Request {
    /// Shows the URL without credentials or query and header names
    /// without values, so a request can be logged without leaking a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &format_args!("{}", RedactedUrl(&self.uri)))
            .field("headers", &HeaderNames(&self.headers))
            .field("body", &self.body)
            .field("retry_safe", &self.retry_safe)
            .finish()
    }
}

/// The URL without its userinfo, and the userinfo percent-decoded as
/// `user:password`; `None` when the URL has no userinfo.
fn split_userinfo(uri: &Uri) -> Option<(Uri, String)> {
    let authority = uri.authority()?;
    let (userinfo, host) = authority.as_str().rsplit_once('@')?;
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(host.parse().ok()?);
    let stripped = Uri::from_parts(parts).ok()?;
    Some((stripped, percent_decode(userinfo)))
}

/// Decodes `%XX` escapes; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A URL as logs show it: scheme, host, port and path; never the userinfo
/// (`user:password@`) nor the query, which often carries an API key.
#[derive(Debug, Clone, Copy)]
pub struct RedactedUrl<'a>(pub &'a Uri);

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uri = self.0;
        if let Some(scheme) = uri.scheme_str() {
            write!(f, "{scheme}://")?;
        }
        if let Some(host) = uri.host() {
            f.write_str(host)?;
        }
        if let Some(port) = uri.port_u16() {
            write!(f, ":{port}")?;
        }
        f.write_str(uri.path())
    }
}

#[cfg(test)]
mod tests {
    use http::header::HeaderName;

    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn userinfo_becomes_basic_auth() {
        let uri: Uri = "http://al%40ice:p%3Ass@h.test:8080/p?q=1".parse().unwrap();
        let (stripped, creds) = split_userinfo(&uri).unwrap();
        assert_eq!(stripped, "http://h.test:8080/p?q=1");
        assert_eq!(creds, "al@ice:p:ss");
        let http = Request::new(Method::GET, uri).into_http();
        assert_eq!(http.uri(), "http://h.test:8080/p?q=1");
        assert_eq!(http.headers()[AUTHORIZATION], "Basic YWxAaWNlOnA6c3M=");
        assert!(http.headers()[AUTHORIZATION].is_sensitive());
        assert_eq!(split_userinfo(&"http://h.test/".parse().unwrap()), None);
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
    }

    #[test]
    fn replay_follows_the_mark_then_the_key_then_the_method() {
        let get = || Request::new(Method::GET, "http://h.test/".parse().unwrap());
        let post = || Request::new(Method::POST, "http://h.test/".parse().unwrap());
        assert_eq!(get().replay(), Replay::Safe);
        assert_eq!(post().replay(), Replay::Unsafe);
        let mut keyed = post();
        keyed.headers_mut().insert(
            HeaderName::from_static("idempotency-key"),
            HeaderValue::from_static("k"),
        );
        assert_eq!(keyed.replay(), Replay::Safe);
        keyed.set_retry_safe(false);
        assert_eq!(
            (keyed.retry_safe(), keyed.replay()),
            (Some(false), Replay::Unsafe)
        );
        let mut unsafe_get = get();
        unsafe_get.set_retry_safe(false);
        assert_eq!(unsafe_get.replay(), Replay::Unsafe);
        let mut safe_post = post();
        safe_post.set_retry_safe(true);
        assert_eq!(safe_post.replay(), Replay::Safe);
    }

    #[test]
    fn an_explicit_authorization_wins_over_userinfo() {
        let mut request = Request::new(Method::GET, "http://u:p@h.test/".parse().unwrap());
        request
            .headers_mut()
            .insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        let http = request.into_http();
        assert_eq!(http.uri(), "http://h.test/");
        assert_eq!(http.headers()[AUTHORIZATION], "Bearer t");
    }
}
