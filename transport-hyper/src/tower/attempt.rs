//! One attempt of a [`Retry`](super::Retry): a clone of the inner service,
//! its response or its error as the engine sees them.

use core::any::Any;
use core::future::poll_fn;
use core::marker::PhantomData;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use tenace::Replay;
use tower_service::Service;

use super::RetrySafe;
use crate::classify::classify_boxed;
use crate::error::{BoxError, Error};
use crate::request_body::Body;
use crate::response::Response;
use crate::wall_clock::WallClock;

/// One attempt through a clone of the inner service.
pub(super) struct ServiceTransport<S, B> {
    /// Behind a mutex only so the transport is `Sync` (and the call's
    /// future `Send`) for any `Send` service; locked briefly to clone.
    pub(super) inner: Mutex<S>,
    pub(super) error_for_status: bool,
    pub(super) wall: WallClock,
    pub(super) body: PhantomData<fn(B)>,
}

impl<S, B, RB> tenace::Transport for ServiceTransport<S, B>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone,
    S::Error: Into<BoxError>,
    B: 'static,
{
    type Request = http::Request<B>;
    type Response = http::Response<RB>;
    type Error = Error;

    async fn send(&self, request: http::Request<B>) -> Result<http::Response<RB>, Error> {
        // A streaming `tenace_hyper::Body` is replayed here as by the
        // client: checked before the attempt, its failure after.
        let replay = (request.body() as &dyn Any)
            .downcast_ref::<Body>()
            .and_then(Body::replay_handle);
        if let Some(replay) = &replay {
            replay.prepare(None)?;
        }
        let result = self.attempt(request).await;
        match replay {
            Some(replay) => result.map_err(|e| replay.after_failure(e)),
            None => result,
        }
    }

    fn replay(&self, request: &http::Request<B>) -> Replay {
        Replay::of(
            request.method().as_str(),
            request
                .extensions()
                .get::<RetrySafe>()
                .map(|mark| Replay::from_safe(mark.0)),
            request.headers().keys().map(http::HeaderName::as_str),
        )
    }
}

impl<S, B, RB> ServiceTransport<S, B>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone,
    S::Error: Into<BoxError>,
{
    async fn attempt(&self, request: http::Request<B>) -> Result<http::Response<RB>, Error> {
        let mut service = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(|e| classify_boxed(e.into()))?;
        let response = service
            .call(request)
            .await
            .map_err(|e| classify_boxed(e.into()))?;
        let status = response.status();
        if self.error_for_status && (status.is_client_error() || status.is_server_error()) {
            let (parts, _body) = response.into_parts();
            return Err(Error::from_status(
                Response::new(parts.status, parts.headers, Bytes::new()),
                self.wall.now(),
            ));
        }
        Ok(response)
    }
}
