//! The two things the engine needs from the outside world: a way to send one
//! attempt ([`Transport`]) and a clock ([`Clock`]), with blocking twins for
//! firmware that has no executor.
//!
//! Both async traits use `async fn` and are called through generics, never
//! boxed: the driver's future is one concrete type whose size is known at
//! compile time. A generic transport's future is not known to be `Send`;
//! code that spawns on a multi-threaded runtime uses a concrete transport
//! (as the hyper adapter's client does), whose future is.
#![allow(async_fn_in_trait)]

use core::time::Duration;

use crate::error::TransportError;
use crate::replay::Replay;
use crate::time::Instant;

/// Sends one attempt of a request.
///
/// The driver clones the original request for every attempt, runs the
/// request interceptors on the clone and hands it to [`send`](Self::send),
/// so a transport never sees a request twice.
///
/// # Implementing
///
/// ```
/// use core::time::Duration;
/// use tenace::{FailureKind, Replay, Transport, TransportError};
///
/// #[derive(Debug)]
/// struct Timeout;
/// impl TransportError for Timeout {
///     fn kind(&self) -> FailureKind { FailureKind::Timeout }
///     fn timed_out(_: Duration) -> Self { Timeout }
/// }
///
/// /// Answers every request with its length.
/// struct Echo;
///
/// impl Transport for Echo {
///     type Request = &'static str;
///     type Response = usize;
///     type Error = Timeout;
///     async fn send(&self, request: &'static str) -> Result<usize, Timeout> {
///         Ok(request.len())
///     }
///     fn replay(&self, _request: &&'static str) -> Replay {
///         Replay::Safe
///     }
/// }
/// ```
pub trait Transport {
    /// One attempt's request; cloned from the original for each attempt.
    type Request;
    /// A successful attempt's response.
    type Response;
    /// A failed attempt's error, classified for the engine.
    type Error: TransportError;

    /// Sends one attempt.
    async fn send(&self, request: Self::Request) -> Result<Self::Response, Self::Error>;

    /// Whether `request` may be sent again after a failure that may have
    /// reached the server: [`Replay::Safe`] if sending it twice has the
    /// effect of sending it once. HTTP transports answer with
    /// [`Replay::of`].
    fn replay(&self, request: &Self::Request) -> Replay;
}

impl<T: Transport + ?Sized> Transport for &T {
    type Request = T::Request;
    type Response = T::Response;
    type Error = T::Error;
    async fn send(&self, request: Self::Request) -> Result<Self::Response, Self::Error> {
        (**self).send(request).await
    }
    fn replay(&self, request: &Self::Request) -> Replay {
        (**self).replay(request)
    }
}

/// A monotonic clock that can sleep.
///
/// # Implementing
///
/// ```
/// use core::time::Duration;
/// use tenace::{Clock, Instant};
///
/// /// A clock for an executor that polls in a busy loop (illustration only).
/// struct Ticks(core::cell::Cell<u64>);
///
/// impl Clock for Ticks {
///     fn now(&self) -> Instant {
///         Instant::from_nanos(self.0.get())
///     }
///     async fn sleep(&self, d: Duration) {
///         self.0.set(self.0.get() + d.as_nanos() as u64);
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `tenace::Clock`",
    note = "the closure API needs a clock: `.clock(my_clock)`, or enable tenace's `tokio` or `embassy-time` feature for a default one"
)]
pub trait Clock {
    /// The current time. Must never go backwards.
    fn now(&self) -> Instant;
    /// Completes once `duration` has passed. Dropping it cancels the sleep.
    async fn sleep(&self, duration: Duration);

    /// Waits out the backoff `delay` before a retry. The async driver calls
    /// this for backoff and [`sleep`](Self::sleep) for timeouts, so a clock
    /// may end a backoff early (say, when the network comes back) without
    /// ever cutting a timeout short. Defaults to [`sleep`](Self::sleep).
    ///
    /// Declared as returning a future rather than as an `async fn` so that
    /// the default is [`sleep`](Self::sleep)'s own future, not one more
    /// state machine around it; implement it with `async fn` all the same.
    fn sleep_before_retry(&self, delay: Duration) -> impl Future<Output = ()> {
        self.sleep(delay)
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        (**self).sleep(duration)
    }
    fn sleep_before_retry(&self, delay: Duration) -> impl Future<Output = ()> {
        (**self).sleep_before_retry(delay)
    }
}

/// [`Transport`] for the blocking driver ([`retry_blocking`](crate::retry_blocking)).
pub trait BlockingTransport {
    /// One attempt's request.
    type Request;
    /// A successful attempt's response.
    type Response;
    /// A failed attempt's error.
    type Error: TransportError;

    /// Sends one attempt and blocks until it ends. A blocking driver cannot
    /// cancel a call, so it passes the time this attempt may take
    /// (`None`: unlimited) and the transport must honour it.
    fn send(
        &self,
        request: Self::Request,
        timeout: Option<Duration>,
    ) -> Result<Self::Response, Self::Error>;

    /// As [`Transport::replay`].
    fn replay(&self, request: &Self::Request) -> Replay;
}

/// [`Clock`] for the blocking driver.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `tenace::BlockingClock`",
    note = "the blocking closure API needs a clock: `.clock(my_clock)`, or enable tenace's `std` feature for `StdClock`"
)]
pub trait BlockingClock {
    /// The current time. Must never go backwards.
    fn now(&self) -> Instant;
    /// Blocks for `duration`.
    fn sleep(&self, duration: Duration);
}

impl<C: BlockingClock + ?Sized> BlockingClock for &C {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration);
    }
}
