//! [`Body`]: a request body that every attempt can send, whole bytes or a
//! stream replayed from a bounded buffer.

use core::error::Error as StdError;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::HeaderMap;
use http_body::{Frame, SizeHint};

use crate::error::{BoxError, Error};

/// How many bytes of a streaming body are kept for a retry by default:
/// 256 KiB, gRPC's default per-call retry buffer (its C core's
/// `grpc.per_rpc_retry_buffer_size`).
///
/// A JSON or form body fits many times over; a larger upload streams
/// through in constant memory and is sent once. Change it with
/// [`ClientBuilder::replay_buffer_limit`](crate::ClientBuilder::replay_buffer_limit),
/// [`TransportBuilder::replay_buffer_limit`](crate::TransportBuilder::replay_buffer_limit)
/// or, for one body, [`Body::replay_buffer_limit`].
pub const DEFAULT_REPLAY_BUFFER_LIMIT: usize = 256 * 1024;

/// A request body.
///
/// Either whole bytes ([`Bytes`], `Vec<u8>`, `String`, ...), which every
/// attempt sends again without a copy, or a stream ([`Body::stream`],
/// [`Body::wrap`]), read once and replayed from a buffer:
///
/// - the first attempt pulls the stream and keeps what it sent, up to the
///   replay buffer limit ([`DEFAULT_REPLAY_BUFFER_LIMIT`] unless set);
/// - a retry sends what was kept, then continues pulling the stream where
///   the last attempt left it, so a body that fits is sent whole, byte for
///   byte, on every attempt;
/// - once the stream has given more than the limit, the buffer is dropped
///   and the rest streams through: the body can no longer be resent, and an
///   attempt that fails from then on ends the call with
///   [`Error::BodyNotReplayable`], whatever the failure and the retry policy;
/// - a failure before anything was read from the stream (a refused
///   connection, a DNS failure) leaves it untouched: it is retried as any
///   request is;
/// - a stream that fails ends the attempt with [`Error::RequestBody`], not
///   retried by default.
///
/// The buffer makes a body possible to send again; whether the request may
/// be sent again is the replay rule's: an idempotent method (GET, HEAD,
/// OPTIONS, TRACE, PUT, DELETE) is retried after it reached the server, a
/// POST or PATCH only with an
/// [`idempotency_key`](crate::RequestBuilder::idempotency_key) or
/// [`retry_safe(true)`](crate::RequestBuilder::retry_safe):
///
/// ```no_run
/// # async fn run(client: tenace_hyper::Client, upload: tenace_hyper::Body) -> Result<(), Box<dyn std::error::Error>> {
/// // `upload` is a `Body::stream`: replayed from its buffer if the
/// // connection drops, because the key makes the POST safe to resend.
/// let response = client
///     .post("https://api.example.com/orders")
///     .idempotency_key("order-7f3a")
///     .body(upload)
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Cloning a `Body` gives one that reads it from the start: a clone of a
/// stream shares the stream and its buffer, so a clone per attempt (as the
/// engine makes) is what replays it. It is also an [`http_body::Body`], so
/// the same replay works under the tower `RetryLayer` (feature `tower`)
/// over any HTTP client.
pub struct Body {
    kind: Kind,
}

enum Kind {
    /// The whole body, taken (left empty) when sent.
    Full(Bytes),
    Stream(Reader),
}

/// One reader of a shared stream: where it is in the buffer.
struct Reader {
    shared: Arc<Shared>,
    /// The index of the next buffered frame to send.
    next: usize,
    /// Whether this reader pulled the stream past the limit: it alone may
    /// go on pulling it.
    past_limit: bool,
}

struct Shared {
    state: Mutex<State>,
    /// The stream's size hint when it was wrapped, for every reader.
    hint: SizeHint,
}

/// A boxed stream, as the buffer pulls it.
type Source = Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send>>;

struct State {
    /// The stream; `None` once it ended or failed.
    source: Option<Source>,
    /// The frames pulled so far, while they fit in the limit.
    buffer: Vec<Buffered>,
    /// Data bytes pulled from the stream.
    pulled: usize,
    /// The limit set on the body, or else by the first transport to send
    /// it; [`DEFAULT_REPLAY_BUFFER_LIMIT`] if neither did.
    limit: Option<usize>,
    /// More than `limit` bytes were pulled: `buffer` is dropped.
    past_limit: bool,
    /// The stream failed.
    failed: bool,
}

impl State {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_REPLAY_BUFFER_LIMIT)
    }
}

enum Buffered {
    Data(Bytes),
    Trailers(HeaderMap),
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the state half
        // updated (each update is one assignment or push): keep using it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Body {
    /// An empty body.
    pub const fn empty() -> Self {
        Self {
            kind: Kind::Full(Bytes::new()),
        }
    }

    /// A streaming body from a stream of chunks; see [`Body`] for how it
    /// is replayed.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use tenace_hyper::Body;
    ///
    /// struct Chunks(Vec<Bytes>);
    /// impl futures_core::Stream for Chunks {
    ///     type Item = Result<Bytes, std::io::Error>;
    ///     fn poll_next(
    ///         mut self: std::pin::Pin<&mut Self>,
    ///         _cx: &mut std::task::Context<'_>,
    ///     ) -> std::task::Poll<Option<Self::Item>> {
    ///         let next = (!self.0.is_empty()).then(|| Ok(self.0.remove(0)));
    ///         std::task::Poll::Ready(next)
    ///     }
    /// }
    ///
    /// let body = Body::stream(Chunks(vec![Bytes::from("a,"), Bytes::from("b")]));
    /// assert!(body.as_bytes().is_none());
    /// ```
    pub fn stream<S, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Self::wrap(FromStream(Box::pin(stream)))
    }

    /// A streaming body from any [`http_body::Body`] of [`Bytes`] (a
    /// hyper `Incoming` being proxied, an `http_body_util::StreamBody`);
    /// see [`Body`] for how it is replayed. Its trailers are replayed too.
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let hint = body.size_hint();
        let source: Source = Box::pin(http_body_util::BodyExt::map_err(body, Into::into));
        Self {
            kind: Kind::Stream(Reader {
                shared: Arc::new(Shared {
                    state: Mutex::new(State {
                        source: Some(source),
                        buffer: Vec::new(),
                        pulled: 0,
                        limit: None,
                        past_limit: false,
                        failed: false,
                    }),
                    hint,
                }),
                next: 0,
                past_limit: false,
            }),
        }
    }

    /// Sets how many bytes of this streaming body are kept for a retry,
    /// over the client's setting; no effect on whole bytes, which are
    /// always resent.
    #[must_use]
    pub fn replay_buffer_limit(self, limit: usize) -> Self {
        if let Kind::Stream(reader) = &self.kind {
            reader.shared.lock().limit = Some(limit);
        }
        self
    }

    /// The body's bytes, unless it is a stream.
    pub const fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Full(bytes) => Some(bytes),
            Kind::Stream(_) => None,
        }
    }

    /// `true` for a body made by [`stream`](Self::stream) or
    /// [`wrap`](Self::wrap).
    pub const fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Stream(_))
    }

    /// The streaming body's replay state, shared by its clones.
    pub(crate) fn replay_handle(&self) -> Option<ReplayHandle> {
        match &self.kind {
            Kind::Full(_) => None,
            Kind::Stream(reader) => Some(ReplayHandle(Arc::clone(&reader.shared))),
        }
    }
}

/// A streaming body's shared state, as the transport checks it around an
/// attempt.
pub(crate) struct ReplayHandle(Arc<Shared>);

impl ReplayHandle {
    /// Before an attempt: sets `limit` unless the body has its own, and
    /// fails, before anything is sent, if the body cannot be sent again.
    pub(crate) fn prepare(&self, limit: Option<usize>) -> Result<(), Error> {
        let mut state = self.0.lock();
        if state.limit.is_none() {
            state.limit = limit;
        }
        if state.past_limit {
            return Err(Error::BodyNotReplayable {
                limit: state.limit(),
                cause: None,
            });
        }
        if state.failed {
            return Err(Error::RequestBody(Box::new(BodyError::FailedEarlier)));
        }
        Ok(())
    }

    /// The limit the stream went past, if it did.
    pub(crate) fn spent(&self) -> Option<usize> {
        let state = self.0.lock();
        state.past_limit.then(|| state.limit())
    }

    /// After a failed attempt: once the stream went past the limit, the
    /// failure ends the call, as [`Error::BodyNotReplayable`] with the
    /// failure as its cause.
    pub(crate) fn after_failure(&self, error: Error) -> Error {
        if matches!(
            error,
            Error::BodyNotReplayable { .. } | Error::RequestBody(_)
        ) {
            return error;
        }
        let state = self.0.lock();
        if state.past_limit {
            Error::BodyNotReplayable {
                limit: state.limit(),
                cause: Some(Box::new(error)),
            }
        } else {
            error
        }
    }
}

/// Why a reader of a streaming body failed: found in a failure's
/// `source()` chain when the attempt is classified.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The stream went past the limit in another attempt.
    NotReplayable { limit: usize },
    /// The stream failed.
    Stream(BoxError),
    /// The stream failed in an earlier attempt.
    FailedEarlier,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotReplayable { limit } => write!(
                f,
                "the request body was streamed past the replay limit of {limit} bytes and cannot be resent"
            ),
            Self::Stream(_) => f.write_str("the request body stream failed"),
            Self::FailedEarlier => {
                f.write_str("the request body stream failed in an earlier attempt")
            }
        }
    }
}

impl StdError for BodyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Stream(e) => Some(&**e),
            Self::NotReplayable { .. } | Self::FailedEarlier => None,
        }
    }
}

impl Reader {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut state = self.shared.lock();
        if state.past_limit && !self.past_limit {
            let limit = state.limit();
            return Poll::Ready(Some(Err(Box::new(BodyError::NotReplayable { limit }))));
        }
        if let Some(buffered) = state.buffer.get(self.next) {
            self.next += 1;
            return Poll::Ready(Some(Ok(match buffered {
                Buffered::Data(data) => Frame::data(data.clone()),
                Buffered::Trailers(trailers) => Frame::trailers(trailers.clone()),
            })));
        }
        if state.failed {
            return Poll::Ready(Some(Err(Box::new(BodyError::FailedEarlier))));
        }
        loop {
            let Some(source) = state.source.as_mut() else {
                return Poll::Ready(None);
            };
            let frame = match source.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    state.source = None;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => {
                    state.source = None;
                    state.failed = true;
                    return Poll::Ready(Some(Err(Box::new(BodyError::Stream(e)))));
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let frame = match frame.into_data() {
                Ok(data) => {
                    state.pulled = state.pulled.saturating_add(data.len());
                    if state.past_limit {
                        // This reader is the one past the limit.
                    } else if state.pulled > state.limit() {
                        state.past_limit = true;
                        state.buffer = Vec::new();
                        self.past_limit = true;
                    } else {
                        state.buffer.push(Buffered::Data(data.clone()));
                        self.next += 1;
                    }
                    Frame::data(data)
                }
                Err(frame) => match frame.into_trailers() {
                    Ok(trailers) => {
                        if !state.past_limit {
                            state.buffer.push(Buffered::Trailers(trailers.clone()));
                            self.next += 1;
                        }
                        Frame::trailers(trailers)
                    }
                    // A frame of a kind http-body may add: not sent.
                    Err(_) => continue,
                },
            };
            return Poll::Ready(Some(Ok(frame)));
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) if bytes.is_empty() => Poll::Ready(None),
            // Taken, not cloned: sending never copies nor shares the bytes.
            Kind::Full(bytes) => Poll::Ready(Some(Ok(Frame::data(core::mem::take(bytes))))),
            Kind::Stream(reader) => reader.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_empty(),
            Kind::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Kind::Stream(reader) => reader.shared.hint,
        }
    }
}

impl Clone for Body {
    /// A body that reads this one from its start: the same bytes (a
    /// reference count, not a copy), or the same stream through its
    /// replay buffer.
    fn clone(&self) -> Self {
        let kind = match &self.kind {
            Kind::Full(bytes) => Kind::Full(bytes.clone()),
            Kind::Stream(reader) => Kind::Stream(Reader {
                shared: Arc::clone(&reader.shared),
                next: 0,
                past_limit: false,
            }),
        };
        Self { kind }
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Body {
    /// The length of whole bytes, or the state of a stream; never the
    /// content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(bytes) => f.debug_struct("Body").field("len", &bytes.len()).finish(),
            Kind::Stream(reader) => {
                let state = reader.shared.lock();
                f.debug_struct("Body")
                    .field("stream", &true)
                    .field("pulled", &state.pulled)
                    .field("limit", &state.limit())
                    .field("replayable", &(!state.past_limit && !state.failed))
                    .finish()
            }
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Full(bytes),
        }
    }
}

impl From<BytesMut> for Body {
    fn from(bytes: BytesMut) -> Self {
        Self::from(bytes.freeze())
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from(Bytes::from(bytes))
    }
}

impl From<Box<[u8]>> for Body {
    fn from(bytes: Box<[u8]>) -> Self {
        Self::from(Bytes::from(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::from(Bytes::from(text))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self::from(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Self::from(Bytes::from_static(bytes))
    }
}

/// A stream of chunks as an [`http_body::Body`].
struct FromStream<S>(Pin<Box<S>>);

impl<S, E> http_body::Body for FromStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Data = Bytes;
    type Error = E;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, E>>> {
        self.0
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map(Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use http_body::Body as _;
    use http_body_util::BodyExt as _;

    use super::*;

    /// A stream of the given chunks, then an error if `fail`.
    struct Chunks(Vec<&'static str>, bool);

    impl Stream for Chunks {
        type Item = Result<Bytes, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(if self.0.is_empty() {
                self.1
                    .then(|| Err(std::io::Error::other("disk gone")))
                    .inspect(|_| self.1 = false)
            } else {
                Some(Ok(Bytes::from_static(self.0.remove(0).as_bytes())))
            })
        }
    }

    async fn collect(body: Body) -> Result<Bytes, BoxError> {
        Ok(body.collect().await?.to_bytes())
    }

    #[tokio::test]
    async fn a_clone_replays_a_stream_that_fit() {
        let body = Body::stream(Chunks(vec!["ab", "cd", "e"], false)).replay_buffer_limit(5);
        let handle = body.replay_handle().unwrap();
        let retry = body.clone();
        assert_eq!(collect(body).await.unwrap(), "abcde");
        handle.prepare(None).unwrap();
        assert_eq!(collect(retry.clone()).await.unwrap(), "abcde");
        assert_eq!(collect(retry).await.unwrap(), "abcde");
    }

    #[tokio::test]
    async fn a_retry_continues_a_stream_the_last_attempt_left() {
        let body = Body::stream(Chunks(vec!["ab", "cd", "e"], false));
        let mut first = body.clone();
        let frame = first.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "ab");
        drop(first);
        assert_eq!(collect(body).await.unwrap(), "abcde");
    }

    #[tokio::test]
    async fn past_the_limit_a_stream_cannot_be_resent() {
        let body = Body::stream(Chunks(vec!["ab", "cd", "e"], false)).replay_buffer_limit(4);
        let handle = body.replay_handle().unwrap();
        let retry = body.clone();
        // The reader that went past the limit still sends the whole body.
        assert_eq!(collect(body).await.unwrap(), "abcde");
        let err = handle.prepare(Some(100)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the request body was streamed past the replay limit of 4 bytes and cannot be resent"
        );
        let err = collect(retry).await.unwrap_err();
        assert_eq!(err.to_string(), err_text(4));
        let failed = handle.after_failure(Error::Io("reset".into()));
        assert!(matches!(
            failed,
            Error::BodyNotReplayable {
                limit: 4,
                cause: Some(_)
            }
        ));
        assert_eq!(
            StdError::source(&failed).unwrap().to_string(),
            "connection failed after the request was sent"
        );
    }

    fn err_text(limit: usize) -> String {
        BodyError::NotReplayable { limit }.to_string()
    }

    #[tokio::test]
    async fn the_transport_limit_applies_unless_the_body_has_one() {
        let body = Body::stream(Chunks(vec!["abc"], false));
        body.replay_handle().unwrap().prepare(Some(2)).unwrap();
        assert_eq!(collect(body.clone()).await.unwrap(), "abc");
        assert!(body.replay_handle().unwrap().prepare(Some(100)).is_err());
        let own = Body::stream(Chunks(vec!["abc"], false)).replay_buffer_limit(3);
        own.replay_handle().unwrap().prepare(Some(2)).unwrap();
        assert_eq!(collect(own.clone()).await.unwrap(), "abc");
        own.replay_handle().unwrap().prepare(Some(2)).unwrap();
        assert_eq!(
            format!("{own:?}"),
            "Body { stream: true, pulled: 3, limit: 3, replayable: true }"
        );
    }

    #[tokio::test]
    async fn a_failed_stream_fails_every_reader() {
        let body = Body::stream(Chunks(vec!["ab"], true));
        let err = collect(body.clone()).await.unwrap_err();
        assert_eq!(err.to_string(), "the request body stream failed");
        assert_eq!(err.source().unwrap().to_string(), "disk gone");
        let err = collect(body.clone()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "the request body stream failed in an earlier attempt"
        );
        assert!(matches!(
            body.replay_handle().unwrap().prepare(None),
            Err(Error::RequestBody(_))
        ));
    }

    #[tokio::test]
    async fn bytes_are_sent_once_per_clone() {
        let body = Body::from("hello");
        assert_eq!(body.size_hint().exact(), Some(5));
        assert!(body.replay_handle().is_none());
        assert_eq!(collect(body.clone()).await.unwrap(), "hello");
        assert_eq!(collect(body).await.unwrap(), "hello");
        assert!(Body::empty().is_end_stream());
        assert_eq!(format!("{:?}", Body::from(vec![1, 2])), "Body { len: 2 }");
    }
}
