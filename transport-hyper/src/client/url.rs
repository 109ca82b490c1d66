//! Request URLs against the base URL, and the base URL as `Debug` shows it.

use core::fmt;

use bytes::Bytes;
use http::Uri;

use crate::error::{Error, UrlError};
use crate::request::RedactedUrl;

/// The base URL as `Debug` shows it: without userinfo or query, as logs
/// show URLs ([`RedactedUrl`]): a base URL may carry a password
/// (`http://user:pass@host`), and `{client:?}` must not print it.
pub(super) struct RedactedBase<'a>(pub(super) Option<&'a str>);

impl fmt::Debug for RedactedBase<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.map(Uri::try_from) {
            None => f.write_str("None"),
            Some(Ok(uri)) => write!(f, "Some(\"{}\")", RedactedUrl(&uri)),
            Some(Err(_)) => f.write_str("Some(<invalid URL>)"),
        }
    }
}

/// `url` if absolute, else `url` joined to `base` with exactly one `/`
/// between them, whether `base` ends with a `/` or `url` starts with one.
pub(super) fn resolve(base: Option<&str>, url: &str) -> Result<Uri, Error> {
    let invalid = |e: http::uri::InvalidUri| Error::InvalidUrl(Box::new(e));
    match base {
        Some(base) if !is_absolute(url) => {
            let path = url.trim_start_matches('/');
            let mut joined = String::with_capacity(base.len() + 1 + path.len());
            joined.push_str(base);
            if !path.is_empty() {
                joined.push('/');
                joined.push_str(path);
            }
            Uri::from_maybe_shared(Bytes::from(joined)).map_err(invalid)
        }
        _ => {
            let uri = Uri::try_from(url).map_err(invalid)?;
            if uri.scheme().is_none() || uri.authority().is_none() {
                return Err(Error::InvalidUrl(Box::new(UrlError(
                    "a relative URL needs a base URL (ClientBuilder::base_url)",
                ))));
            }
            Ok(uri)
        }
    }
}

/// `true` if `url` starts with a scheme (`http://`, `https://`, ...).
fn is_absolute(url: &str) -> bool {
    url.find("://").is_some_and(|i| {
        i > 0
            && url[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}
