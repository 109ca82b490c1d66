//! Request URLs: a path joined to the base URL, within a fixed capacity.

use heapless::String;

use crate::error::RequestError;

/// Joins `base` and `path` into a `String<N>`: `base` + `/` + `path`, with
/// exactly one slash between them. An absolute `path` (`http://...`,
/// `https://...`) replaces the base. Too long is an error.
///
/// ```
/// let url = tenace_embedded::join_url::<64>("http://10.0.0.2:8080/api/", "/v1/readings")?;
/// assert_eq!(url.as_str(), "http://10.0.0.2:8080/api/v1/readings");
/// assert_eq!(
///     tenace_embedded::join_url::<16>("http://10.0.0.2:8080", "/v1"),
///     Err(tenace_embedded::RequestError::UrlTooLong)
/// );
/// # Ok::<(), tenace_embedded::RequestError>(())
/// ```
///
/// # Errors
/// [`RequestError::UrlTooLong`] if the URL does not fit in `N` bytes.
pub fn join_url<const N: usize>(base: &str, path: &str) -> Result<String<N>, RequestError> {
    let mut url = String::new();
    let absolute = path.contains("://");
    let parts: [&str; 3] = if absolute || base.is_empty() {
        [path, "", ""]
    } else if path.is_empty() {
        [base, "", ""]
    } else {
        [
            base.trim_end_matches('/'),
            "/",
            path.trim_start_matches('/'),
        ]
    };
    for part in parts {
        url.push_str(part).map_err(|_| RequestError::UrlTooLong)?;
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_one_slash() {
        let j = |b, p| join_url::<64>(b, p).map(|s| s.as_str().len());
        assert_eq!(
            join_url::<64>("http://h/api/", "/x").as_deref(),
            Ok("http://h/api/x")
        );
        assert_eq!(
            join_url::<64>("http://h/api", "x").as_deref(),
            Ok("http://h/api/x")
        );
        assert_eq!(join_url::<64>("http://h", "").as_deref(), Ok("http://h"));
        assert_eq!(
            join_url::<64>("", "http://o/p").as_deref(),
            Ok("http://o/p")
        );
        assert_eq!(
            join_url::<64>("http://h/api", "https://o/p").as_deref(),
            Ok("https://o/p")
        );
        // Exactly full fits; one byte more is an error, never a truncation.
        assert_eq!(j("http://h", "/abc"), Ok(12));
        assert_eq!(
            join_url::<12>("http://h", "/abc").as_deref(),
            Ok("http://h/abc")
        );
        assert_eq!(
            join_url::<11>("http://h", "/abc"),
            Err(RequestError::UrlTooLong)
        );
    }
}
