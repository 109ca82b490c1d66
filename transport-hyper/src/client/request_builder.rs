//! [`RequestBuilder`]: one request, and what it overrides of its client's
//! policy.

use core::fmt;
use core::future::Future;
use core::time::Duration;
use std::sync::Arc;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use tenace::{Hedge, Limits, RetryOn, RetryStrategy};

use super::{Client, ClientHedge, Overrides, client_hedge};
use crate::error::{CallError, Error};
use crate::predicate::{SharedRetryOn, or_transient};
use crate::request::Request;
use crate::request_body::Body;
use crate::response::Response;
use crate::strategy::StoredStrategy;

/// The header [`RequestBuilder::idempotency_key`] sets.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static(tenace::http::IDEMPOTENCY_KEY);

/// A header name and value, or the error that makes the request (or the
/// client) fail to build.
pub(super) fn header_pair<K, V>(name: K, value: V) -> Result<(HeaderName, HeaderValue), Error>
where
    K: TryInto<HeaderName>,
    K::Error: Into<http::Error>,
    V: TryInto<HeaderValue>,
    V::Error: Into<http::Error>,
{
    let name = name
        .try_into()
        .map_err(|e| Error::InvalidRequest(Box::new(e.into())))?;
    let value = value
        .try_into()
        .map_err(|e| Error::InvalidRequest(Box::new(e.into())))?;
    Ok((name, value))
}

/// One request being built; [`send`](Self::send) runs it with the client's
/// policy, overridden by anything set here for this request only.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    pub(super) client: Client,
    pub(super) request: Result<Request, Error>,
    pub(super) strategy: Option<StoredStrategy>,
    pub(super) limits: Limits,
    pub(super) retry_on: Option<SharedRetryOn>,
    pub(super) transient: bool,
    pub(super) error_for_status: bool,
    pub(super) hedge: Option<ClientHedge>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("request", &self.request)
            .field("strategy", &self.strategy)
            .field("limits", &self.limits)
            .field("retry_transient_statuses", &self.transient)
            .field("error_for_status", &self.error_for_status)
            .field("hedge", &self.hedge)
            .finish_non_exhaustive()
    }
}

impl RequestBuilder {
    fn map(mut self, f: impl FnOnce(&mut Request) -> Result<(), Error>) -> Self {
        if let Ok(request) = &mut self.request
            && let Err(e) = f(request)
        {
            self.request = Err(e);
        }
        self
    }

    /// Sets a header, replacing any value of the same name (also a
    /// default header).
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: Into<http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        let pair = header_pair(name, value);
        self.map(|r| {
            let (k, v) = pair?;
            r.headers_mut().insert(k, v);
            Ok(())
        })
    }

    /// Sets every header in `headers`, replacing values of the same names.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.map(|r| {
            let mut last = None;
            for (name, value) in headers {
                let name = match name {
                    Some(n) => {
                        r.headers_mut().remove(&n);
                        last = Some(n.clone());
                        n
                    }
                    None => match &last {
                        Some(n) => n.clone(),
                        None => continue,
                    },
                };
                r.headers_mut().append(name, value);
            }
            Ok(())
        })
    }

    /// `Authorization: Bearer <token>`, marked sensitive. For a token that
    /// must be fetched on every attempt, use [`Auth`](crate::interceptor::Auth).
    pub fn bearer_auth(self, token: &str) -> Self {
        let value = HeaderValue::try_from(format!("Bearer {token}"));
        self.map(|r| {
            let mut value = value.map_err(|e| Error::InvalidRequest(Box::new(e)))?;
            value.set_sensitive(true);
            r.headers_mut().insert(http::header::AUTHORIZATION, value);
            Ok(())
        })
    }

    /// The body: whole bytes (`Vec<u8>`, `String`, `&'static str`,
    /// [`Bytes`](bytes::Bytes)), sent again on every attempt without a
    /// copy, or a stream ([`Body::stream`], [`Body::wrap`]), kept up to the
    /// client's [`replay_buffer_limit`](crate::ClientBuilder::replay_buffer_limit)
    /// for a retry (see [`Body`]). A bare `http_body` is not accepted, so
    /// a one-shot body is never silently resent empty:
    ///
    /// ```compile_fail
    /// # async fn f(client: tenace_hyper::Client) {
    /// let stream = http_body_util::Empty::<bytes::Bytes>::new();
    /// client.post("http://example.com/").body(stream); // wrap it: Body::wrap(stream)
    /// # }
    /// ```
    pub fn body(self, body: impl Into<Body>) -> Self {
        let body = body.into();
        self.map(|r| {
            r.set_body(body);
            Ok(())
        })
    }

    /// The body as JSON, with `Content-Type: application/json` unless set.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).map_err(|e| Error::InvalidRequest(Box::new(e)));
        self.map(|r| {
            r.set_body(body?);
            if !r.headers().contains_key(http::header::CONTENT_TYPE) {
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            Ok(())
        })
    }

    /// Sets `Idempotency-Key: key`, which makes the request safe to replay
    /// after a failure that may have reached the server (the server is
    /// expected to apply it once), as the same header set with
    /// [`header`](Self::header) does.
    pub fn idempotency_key<V>(self, key: V) -> Self
    where
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        self.header(IDEMPOTENCY_KEY, key)
    }

    /// Marks the request safe (`true`) or unsafe (`false`) to replay after
    /// a failure that may have reached the server, whatever its method and
    /// headers: `retry_safe(false)` keeps even a `GET` from being sent
    /// twice, and wins over an `Idempotency-Key` header.
    pub fn retry_safe(self, safe: bool) -> Self {
        self.map(|r| {
            r.set_retry_safe(safe);
            Ok(())
        })
    }

    /// The per-attempt timeout, for this request.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.attempt_timeout = Some(timeout);
        self
    }

    /// The whole call's deadline, for this request.
    pub const fn deadline(mut self, deadline: Duration) -> Self {
        self.limits.deadline = Some(deadline);
        self
    }

    /// Retries after the first attempt, for this request.
    pub const fn max_retries(mut self, n: u32) -> Self {
        self.limits.max_retries = n;
        self
    }

    /// The backoff strategy, for this request: one of tenace's or any
    /// [`RetryStrategy`] of your own (see
    /// [`ClientBuilder::retry_strategy`](crate::ClientBuilder::retry_strategy)).
    pub fn retry_strategy<S>(mut self, strategy: S) -> Self
    where
        S: RetryStrategy + Clone + Send + Sync + 'static,
    {
        self.strategy = Some(StoredStrategy::new(strategy));
        self
    }

    /// What to retry, for this request, instead of the client's predicate.
    /// With [`retry_transient_statuses`](Self::retry_transient_statuses),
    /// before or after, transient statuses are retried as well.
    pub fn retry_on(mut self, predicate: impl RetryOn<Error> + Send + Sync + 'static) -> Self {
        let predicate: SharedRetryOn = Arc::new(predicate);
        self.retry_on = Some(if self.transient {
            or_transient(predicate)
        } else {
            predicate
        });
        self
    }

    /// For this request, error statuses become errors and transient
    /// statuses (408, 429, 5xx but 501 and 505) are retried too, honouring
    /// `Retry-After`, on top of this request's [`retry_on`](Self::retry_on)
    /// or else the client's predicate.
    pub fn retry_transient_statuses(mut self) -> Self {
        if !self.transient {
            self.transient = true;
            let predicate = self
                .retry_on
                .take()
                .unwrap_or_else(|| Arc::clone(&self.client.inner.retry_on));
            self.retry_on = Some(or_transient(predicate));
        }
        self.error_for_status(true)
    }

    /// Whether a 4xx or 5xx response becomes [`Error::Status`] for this
    /// request (default: the client's
    /// [`error_for_status`](crate::ClientBuilder::error_for_status)).
    pub const fn error_for_status(mut self, yes: bool) -> Self {
        self.error_for_status = yes;
        self
    }

    /// Hedges this request (see
    /// [`ClientBuilder::hedge`](crate::ClientBuilder::hedge)), whatever the
    /// client's setting; `Hedge::<0>` turns the client's hedging off for
    /// it.
    pub fn hedge<const N: usize>(mut self, hedge: Hedge<N>) -> Self {
        self.hedge = Some(client_hedge(hedge));
        self
    }

    /// The request as built so far (headers, body, URL).
    ///
    /// # Errors
    /// The first error met while building (an invalid URL or header).
    pub fn build(self) -> Result<Request, Error> {
        self.request
    }

    /// Sends the request, retrying per the policy.
    ///
    /// # Errors
    /// A [`CallError`]: why the engine stopped
    /// ([`reason`](tenace::RetryError::reason)), after how many attempts,
    /// and the last [`Error`] as its `source()`. A request that could not be
    /// built fails with [`StopReason::NotRetryable`](tenace::StopReason::NotRetryable) after 0 attempts.
    pub fn send(self) -> impl Future<Output = Result<Response, CallError>> {
        let overrides = Overrides {
            strategy: self.strategy,
            limits: self.limits,
            retry_on: self.retry_on,
            error_for_status: self.error_for_status,
            hedge: self.hedge,
        };
        self.client.call(self.request, overrides)
    }
}
