//! A testing kit usable in `no_std`: a virtual clock and a scripted
//! transport, so tests assert exact schedules without sleeping.
//!
//! Both use interior mutability ([`Cell`](core::cell::Cell) and
//! [`RefCell`](core::cell::RefCell)), so they are for one thread or one
//! executor, as tests are.

mod clock;
mod transport;

pub use clock::{MockClock, SleepRecord};
pub use transport::{MockError, ScriptedTransport, SleepingTransport, Step};

/// A future that returns `Pending` once (waking itself) and then `Ready`:
/// gives every mock operation a real await point, so cancellation tests can
/// drop a call in the middle of it.
#[derive(Debug, Default)]
pub(crate) struct YieldOnce(bool);

impl core::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        if self.0 {
            core::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            core::task::Poll::Pending
        }
    }
}
