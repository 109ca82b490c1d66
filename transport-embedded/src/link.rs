//! Wake on link-up: a backoff that ends as soon as the network is back
//! (see [`WakeOnLinkUp`]).
#![allow(async_fn_in_trait)]

use core::time::Duration;

use embassy_futures::select::{Either, select};
use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::signal::Signal;
use tenace::{Clock, Instant};

/// An event that means "the network is back": completes when it fires.
///
/// # Implementing
///
/// ```
/// use tenace_embedded::LinkUp;
///
/// /// Never fires: backoffs are slept out in full.
/// struct NeverUp;
///
/// impl LinkUp for NeverUp {
///     async fn wait(&self) {
///         core::future::pending::<()>().await
///     }
/// }
/// ```
pub trait LinkUp {
    /// Completes when the link comes (or came) up. Dropping it stops
    /// waiting.
    async fn wait(&self);
}

impl<M: RawMutex, T> LinkUp for Signal<M, T> {
    async fn wait(&self) {
        let _ = Self::wait(self).await;
    }
}

impl<L: LinkUp + ?Sized> LinkUp for &L {
    async fn wait(&self) {
        (**self).wait().await
    }
}

/// A clock whose backoff sleeps end early when `L` fires.
///
/// A device that lost Wi-Fi fails its request, backs off (say 30 s), and
/// meanwhile the access point comes back after 2 s. Sleeping out the
/// remaining 28 s wastes the user's time and the battery's radio-on window.
/// `WakeOnLinkUp` wraps a clock so that a backoff ends when a [`LinkUp`]
/// event fires; the next attempt then starts at once. Timeouts are not
/// affected: the engine measures them with [`Clock::sleep`], and only the
/// backoff ([`Clock::sleep_before_retry`]) listens for the event. The
/// deadline still holds: the engine never starts a backoff that would end
/// past it.
///
/// The usual event is an embassy-sync [`Signal`] raised by the task that
/// watches the network stack:
///
/// ```
/// use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
/// use embassy_sync::signal::Signal;
/// use tenace_embedded::{EmbassyClock, WakeOnLinkUp};
///
/// static LINK_UP: Signal<CriticalSectionRawMutex, ()> = Signal::new();
///
/// // In the Wi-Fi task, after every reconnect (e.g. after
/// // `stack.wait_config_up().await`): LINK_UP.signal(());
/// let clock = WakeOnLinkUp::new(EmbassyClock, &LINK_UP);
/// # let _ = clock;
/// ```
///
/// A [`Signal`] wakes one waiter and is then reset. A signal raised while
/// no backoff is running ends the next backoff at once (the link came back
/// since the failure: retrying now is right). Use one signal per client:
/// calls running at the same time on one client would share a single
/// wake-up.
#[derive(Debug, Clone, Copy, Default)]
pub struct WakeOnLinkUp<C, L> {
    clock: C,
    link: L,
}

impl<C, L> WakeOnLinkUp<C, L> {
    /// Wraps `clock`; backoffs end when `link` fires.
    pub const fn new(clock: C, link: L) -> Self {
        Self { clock, link }
    }

    /// The wrapped clock.
    pub const fn inner(&self) -> &C {
        &self.clock
    }

    /// The event.
    pub const fn link(&self) -> &L {
        &self.link
    }
}

impl<C: Clock, L: LinkUp> Clock for WakeOnLinkUp<C, L> {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    async fn sleep(&self, duration: Duration) {
        self.clock.sleep(duration).await;
    }

    async fn sleep_before_retry(&self, delay: Duration) {
        if let Either::Second(()) =
            select(self.clock.sleep_before_retry(delay), self.link.wait()).await
        {
            debug!("tenace-embedded: link up, backoff cut short");
        }
    }
}
