//! The request head as it goes on the wire: the user's headers checked,
//! then the request line and headers written into the caller's buffer.

use core::fmt::{self, Write as _};

use crate::error::RequestError;
use crate::request::{Header, Method, Request};

/// `true` if `name` is an HTTP token (RFC 9110 §5.6.2).
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// `true` if `value` is a valid field value: no control characters but
/// horizontal tab (so no CR or LF to smuggle a header).
pub(crate) fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Checks one header given by the user.
pub(crate) fn check_header((name, value): Header<'_>) -> Result<(), RequestError> {
    let framing = name.eq_ignore_ascii_case("content-length")
        || name.eq_ignore_ascii_case("transfer-encoding");
    if !is_token(name) || !is_field_value(value) || framing {
        return Err(RequestError::InvalidHeader);
    }
    Ok(())
}

/// `fmt::Write` into a byte slice; fails when full.
struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes the request line and headers of `request` for `url` into `buf`;
/// returns their length.
///
/// The transport adds `Host` (unless the request has one), `Content-Length`
/// (when there is a body, or for `POST`, `PUT` and `PATCH`) and
/// `Connection: close` (reqwless opens a connection per request) unless the
/// request has a `Connection` header.
pub(crate) fn write_head(
    request: &Request<'_>,
    url: &nourl::Url<'_>,
    buf: &mut [u8],
) -> Result<usize, RequestError> {
    for header in request.default_headers.iter().chain(request.headers) {
        check_header(*header)?;
    }
    // The fragment is not part of the request target.
    let target = url.path().split('#').next().unwrap_or("/");
    if target.is_empty() || !is_field_value(target) || target.contains(' ') {
        return Err(RequestError::InvalidUrl);
    }
    let has = |name: &str| {
        request
            .effective_headers()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    let mut w = Cursor { buf, len: 0 };
    let too_large = |_| RequestError::HeadTooLarge;
    write!(w, "{} {} HTTP/1.1\r\n", request.method.as_str(), target).map_err(too_large)?;
    if !has("host") {
        let host = url.host();
        let bracket = host.contains(':');
        let (open, close) = if bracket { ("[", "]") } else { ("", "") };
        write!(w, "Host: {open}{host}{close}").map_err(too_large)?;
        if let Some(port) = url.port() {
            write!(w, ":{port}").map_err(too_large)?;
        }
        w.write_str("\r\n").map_err(too_large)?;
    }
    let sends_length = matches!(request.method, Method::POST | Method::PUT | Method::PATCH);
    match request.body {
        Some(body) => write!(w, "Content-Length: {}\r\n", body.len()).map_err(too_large)?,
        None if sends_length => w.write_str("Content-Length: 0\r\n").map_err(too_large)?,
        None => {}
    }
    if !has("connection") {
        w.write_str("Connection: close\r\n").map_err(too_large)?;
    }
    for (name, value) in request.effective_headers() {
        write!(w, "{name}: {value}\r\n").map_err(too_large)?;
    }
    w.write_str("\r\n").map_err(too_large)?;
    Ok(w.len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(request: &Request<'_>, cap: usize) -> Result<std::string::String, RequestError> {
        let url = nourl::Url::parse(request.url).map_err(|_| RequestError::InvalidUrl)?;
        let mut buf = std::vec![0u8; cap];
        let n = write_head(request, &url, &mut buf)?;
        Ok(std::string::String::from_utf8(buf[..n].to_vec()).unwrap_or_default())
    }

    #[test]
    fn get_head() {
        let r = Request::get("http://example.com:8080/a/b?q=1#frag")
            .default_headers(&[("Accept", "text/plain"), ("X-Device", "d1")])
            .headers(&[("x-device", "d2")]);
        assert_eq!(
            head(&r, 256).as_deref(),
            Ok(
                "GET /a/b?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\
                Accept: text/plain\r\nx-device: d2\r\n\r\n"
            )
        );
    }

    #[test]
    fn post_head_and_defaults() {
        let r = Request::post("http://10.0.0.1/ingest", b"{\"t\":21}");
        assert_eq!(
            head(&r, 256).as_deref(),
            Ok(
                "POST /ingest HTTP/1.1\r\nHost: 10.0.0.1\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
            )
        );
        let empty = Request::new(Method::POST, "http://h");
        assert_eq!(
            head(&empty, 256).as_deref(),
            Ok("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        );
        let own = Request::get("http://[::1]:80/")
            .headers(&[("Host", "x"), ("Connection", "keep-alive")]);
        assert_eq!(
            head(&own, 256).as_deref(),
            Ok("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
        );
        let v6 = Request::get("http://[::1]:8080/");
        assert_eq!(
            head(&v6, 256).as_deref(),
            Ok("GET / HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n")
        );
    }

    #[test]
    fn rejects_bad_headers_and_small_buffers() {
        let smuggle = Request::get("http://h/").headers(&[("X", "a\r\nEvil: 1")]);
        assert_eq!(head(&smuggle, 256), Err(RequestError::InvalidHeader));
        let bad_name = Request::get("http://h/").headers(&[("X Y", "a")]);
        assert_eq!(head(&bad_name, 256), Err(RequestError::InvalidHeader));
        let framing = Request::get("http://h/").default_headers(&[("content-length", "5")]);
        assert_eq!(head(&framing, 256), Err(RequestError::InvalidHeader));
        let empty = Request::get("http://h/").headers(&[("", "a")]);
        assert_eq!(head(&empty, 256), Err(RequestError::InvalidHeader));
        let ok = Request::get("http://h/");
        let exact = head(&ok, 256).map(|s| s.len()).unwrap_or(0);
        assert_eq!(exact, 46);
        assert_eq!(head(&ok, exact).map(|s| s.len()), Ok(46));
        assert_eq!(head(&ok, exact - 1), Err(RequestError::HeadTooLarge));
        assert_eq!(head(&ok, 0), Err(RequestError::HeadTooLarge));
        let space = Request::get("http://h/a b");
        assert_eq!(head(&space, 256), Err(RequestError::InvalidUrl));
    }
}
