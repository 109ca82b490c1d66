//! A request that borrows everything it sends.
//!
//! A [`Request`] is a handful of references: the URL, two header lists (the
//! client's defaults and the request's own) and the body. The engine copies
//! it for every attempt, which copies the references and nothing else, so a
//! 4 KiB body is never duplicated and nothing is allocated.

use core::fmt;

use tenace::Replay;

/// HTTP request methods (reqwless's).
pub use reqwless::request::Method;

/// A header: `(name, value)`.
pub type Header<'r> = (&'r str, &'r str);

/// One HTTP request, borrowed.
///
/// Fields are public so request interceptors can change them between
/// attempts (point `headers` to another list, swap the body, ...).
///
/// Its `Debug` (and `defmt::Format`) output shows header names and the
/// body's length, never a header value or the body: an `Authorization`
/// header must not reach a log.
#[derive(Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Request<'r> {
    /// The method.
    pub method: Method,
    /// The absolute URL, `http://host[:port]/path?query` (or `https://`
    /// with the `tls` feature).
    pub url: &'r str,
    /// Headers sent unless [`headers`](Self::headers) has one of the same
    /// name (the client's defaults).
    pub default_headers: &'r [Header<'r>],
    /// The request's own headers.
    pub headers: &'r [Header<'r>],
    /// The body, sent with a `Content-Length`.
    pub body: Option<&'r [u8]>,
    /// Whether the request may be sent again after a failure that may have
    /// reached the server; it wins over headers and method. `None`: an
    /// `Idempotency-Key` header makes it safe, else the method decides
    /// (RFC 9110: `GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT`, `DELETE`). See
    /// [`Request::replay`].
    pub retry_safe: Option<bool>,
    /// Whether a 4xx or 5xx response is an
    /// [`Error::Status`](crate::Error::Status) (so a predicate such as
    /// [`TransientErrors`](tenace::TransientErrors) can retry it) rather than
    /// a response. When it is, the body of the error response is not read.
    pub error_for_status: bool,
}

impl<'r> Request<'r> {
    /// A request with this method and URL, no headers, no body.
    pub const fn new(method: Method, url: &'r str) -> Self {
        Self {
            method,
            url,
            default_headers: &[],
            headers: &[],
            body: None,
            retry_safe: None,
            error_for_status: false,
        }
    }

    /// A `GET`.
    pub const fn get(url: &'r str) -> Self {
        Self::new(Method::GET, url)
    }

    /// A `POST` of `body`.
    pub const fn post(url: &'r str, body: &'r [u8]) -> Self {
        Self::new(Method::POST, url).body(body)
    }

    /// A `PUT` of `body`.
    pub const fn put(url: &'r str, body: &'r [u8]) -> Self {
        Self::new(Method::PUT, url).body(body)
    }

    /// A `DELETE`.
    pub const fn delete(url: &'r str) -> Self {
        Self::new(Method::DELETE, url)
    }

    /// The same request with these headers.
    #[must_use]
    pub const fn headers(mut self, headers: &'r [Header<'r>]) -> Self {
        self.headers = headers;
        self
    }

    /// The same request with these default headers.
    #[must_use]
    pub const fn default_headers(mut self, headers: &'r [Header<'r>]) -> Self {
        self.default_headers = headers;
        self
    }

    /// The same request with this body.
    #[must_use]
    pub const fn body(mut self, body: &'r [u8]) -> Self {
        self.body = Some(body);
        self
    }

    /// The same request, marked safe (or not) to replay whatever its method.
    #[must_use]
    pub const fn retry_safe(mut self, safe: bool) -> Self {
        self.retry_safe = Some(safe);
        self
    }

    /// The same request, with 4xx and 5xx statuses turned into errors.
    #[must_use]
    pub const fn error_for_status(mut self, yes: bool) -> Self {
        self.error_for_status = yes;
        self
    }

    /// Whether the request may be replayed after a failure that may have
    /// reached the server, by the one rule every tenace client applies
    /// ([`Replay::of`]): [`retry_safe`](Self::retry_safe) if set, else
    /// [`Safe`](Replay::Safe) if it carries an `Idempotency-Key` header (any
    /// case, its own or a default), else the method's idempotency.
    pub fn replay(&self) -> Replay {
        let names = self.default_headers.iter().chain(self.headers);
        Replay::of(
            self.method.as_str(),
            self.retry_safe.map(Replay::from_safe),
            names.map(|&(name, _)| name),
        )
    }

    /// The headers actually sent, in order: defaults not overridden, then
    /// the request's own.
    pub fn effective_headers(&self) -> impl Iterator<Item = Header<'r>> + '_ {
        let own = self.headers;
        self.default_headers
            .iter()
            .filter(move |(name, _)| !own.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
            .chain(own.iter())
            .copied()
    }
}

/// `url` without its query and fragment, for `Debug` and defmt: a query
/// often carries an API key.
pub(crate) fn redact_url(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Header names only: values may be secrets.
struct Names<'h, 'r>(&'h [Header<'r>]);

impl fmt::Debug for Names<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &redact_url(self.url))
            .field("default_headers", &Names(self.default_headers))
            .field("headers", &Names(self.headers))
            .field("body_len", &self.body.map(<[u8]>::len))
            .field("retry_safe", &self.retry_safe)
            .field("error_for_status", &self.error_for_status)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Request<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Request {{ {} {=str}, headers: [",
            self.method,
            redact_url(self.url)
        );
        for (name, _) in self.effective_headers() {
            defmt::write!(f, " {=str}", name);
        }
        defmt::write!(
            f,
            " ], body_len: {}, retry_safe: {} }}",
            self.body.map(<[u8]>::len),
            self.replay().is_safe()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_header_values_and_body() {
        let r = Request::post("http://h/x", b"secret body")
            .default_headers(&[("Authorization", "Bearer s3cr3t")]);
        let shown = std::format!("{r:?}");
        assert_eq!(
            shown,
            "Request { method: POST, url: \"http://h/x\", default_headers: [\"Authorization\"], \
             headers: [], body_len: Some(11), retry_safe: None, error_for_status: false }"
        );
    }

    #[test]
    fn debug_hides_the_query() {
        let r = Request::get("http://h/x?api_key=s3cr3t#frag");
        let shown = std::format!("{r:?}");
        assert!(shown.contains("url: \"http://h/x\""), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(redact_url("http://h/x"), "http://h/x");
        assert_eq!(redact_url("http://h/x#a?b"), "http://h/x");
    }

    #[test]
    fn replay_rule() {
        let safe = |r: Request<'_>| r.replay().is_safe();
        assert!(safe(Request::get("http://h/")));
        assert!(safe(Request::put("http://h/", b"x")));
        assert!(!safe(Request::post("http://h/", b"x")));
        assert!(safe(Request::post("http://h/", b"x").retry_safe(true)));
        // Marked unsafe: never replayed, even a GET, even with a key.
        assert!(!safe(Request::get("http://h/").retry_safe(false)));
        let keyed = [("idempotency-KEY", "k-1")];
        assert!(!safe(
            Request::post("http://h/", b"x")
                .headers(&keyed)
                .retry_safe(false)
        ));
        // A key in the request's own headers or the client's defaults, in
        // any case, makes a POST safe.
        assert!(safe(Request::post("http://h/", b"x").headers(&keyed)));
        assert!(safe(
            Request::post("http://h/", b"x").default_headers(&[("Idempotency-Key", "k-2")])
        ));
        assert!(!safe(
            Request::post("http://h/", b"x").headers(&[("Idempotency", "k")])
        ));
    }
}
