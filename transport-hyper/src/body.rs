//! Reading a response body in full, within a limit.

use bytes::Bytes;
use http_body::Body as _;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;

use crate::classify::classify_hyper_error;
use crate::error::Error;

/// Reads a whole body, failing as soon as it is known to exceed `limit`
/// (from `Content-Length`, before reading anything, or while reading a
/// body of unknown length), so a huge or endless body costs at most
/// `limit` bytes of buffer (plus, while the buffer moves to a larger
/// block, the old block: less than twice `limit` at the peak).
pub(crate) async fn read_body(mut body: Incoming, limit: usize) -> Result<Bytes, Error> {
    let too_large = || Error::BodyTooLarge { limit };
    let hint = body.size_hint();
    if hint.lower() > limit as u64 {
        return Err(too_large());
    }
    // A body in one frame (the common case for small responses) is kept
    // as is, without a copy.
    let mut first: Option<Bytes> = None;
    // A `Vec`, not a `BytesMut`: `BytesMut` only grows by doubling, so a
    // body just under an 8 MiB limit would take a 16 MiB buffer (24 MiB at
    // the peak); here growth doubles but stops at the limit.
    let mut rest: Option<Vec<u8>> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(classify_hyper_error)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if total > limit {
            return Err(too_large());
        }
        match (&mut rest, first.take()) {
            (None, None) => first = Some(data),
            (None, Some(head)) => {
                let capacity = usize::try_from(hint.exact().unwrap_or(0))
                    .unwrap_or(0)
                    .max(total);
                let mut buf = Vec::with_capacity(capacity.min(limit));
                buf.extend_from_slice(&head);
                buf.extend_from_slice(&data);
                rest = Some(buf);
                // `head` (a slice of hyper's read buffer) is released here.
            }
            (Some(buf), _) => {
                if buf.capacity() - buf.len() < data.len() {
                    // `total <= limit` here, so the clamp's bounds are in order.
                    let target = buf.capacity().saturating_mul(2).clamp(total, limit);
                    buf.reserve_exact(target - buf.len());
                }
                buf.extend_from_slice(&data);
            }
        }
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => Bytes::from(buf),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    })
}
