//! The size report's probe: one call over the flaky link, through the
//! engine (`engine`) or made once with no retry (baseline). Both builds
//! share everything else, so the difference in size is what tenace adds.

use crate::hprintln;

use crate::wifi::{FlakyWifi, Request, Step, WifiError};

/// Makes the call; returns the number of failures (0).
pub(crate) async fn run() -> u32 {
    let link = FlakyWifi::new([
        Step::fail(WifiError::NoAssociation, 3),
        Step::fail(WifiError::NoAnswer, 50),
        Step::ok(200, 12),
    ]);
    let result = call(&link, Request::get("/probe")).await;
    match result {
        Ok(status) => hprintln!("probe: status {} after {} attempt(s)", status, link.calls()),
        Err(e) => hprintln!("probe: {} after {} attempt(s)", e, link.calls()),
    }
    0
}

#[cfg(feature = "engine")]
async fn call<const N: usize>(link: &FlakyWifi<N>, request: Request) -> Result<u16, WifiError> {
    use core::time::Duration;

    let Ok(backoff) =
        tenace::ExponentialBackoff::new(Duration::from_millis(10), 2, Duration::from_secs(1))
    else {
        crate::fail("bad backoff");
    };
    let policy = tenace::Policy::new(backoff)
        .max_retries(4)
        .deadline(Duration::from_secs(5));
    let mut rng = tenace::SeededRng::new(0x5eed);
    let clock = crate::clock::EmbassyClock;
    // Measured on a future that is never polled: awaiting the measured
    // value would keep two copies of it in the task (rustc moves an awaited
    // local into a second slot), which is not what an application pays.
    let bytes = core::mem::size_of_val(&tenace::retry(link, &clock, &policy, &mut rng, request));
    hprintln!("retry future: {} bytes", bytes);
    tenace::retry(link, &clock, &policy, &mut rng, request)
        .await
        .map(tenace::Retried::into_inner)
        .map_err(|e| e.into_last_error().unwrap_or(WifiError::LinkDropped))
}

#[cfg(not(feature = "engine"))]
async fn call<const N: usize>(link: &FlakyWifi<N>, request: Request) -> Result<u16, WifiError> {
    link.send_once(request).await
}
