//! Wi-Fi's failures, made by the driver: the link going down during a
//! backoff (and `WakeOnLinkUp` ending that backoff when it returns), and
//! seeded frame loss, steady and in bursts, under which calls complete
//! through TCP's retransmissions and tenace's retries.

use core::time::Duration;

use cortex_m_semihosting::hprintln;
use tenace_embedded::tenace::{FixedDelay, RetryEvent};
use tenace_embedded::{Client, Timeouts, WakeOnLinkUp};

use super::{CLOCK, Measured, Net, Recorder, SEED, TICK, TestResult, expect_server, ms, us};
use crate::impair::{self, Plan};
use crate::{LINK_UP, net};

/// How long the link stays down in [`link_down_during_backoff`].
const DOWN: Duration = Duration::from_millis(300);

/// The backoff the link's return cuts short.
const BACKOFF: Duration = Duration::from_secs(5);

fn take_link_down(_: &RetryEvent) {
    impair::link_down_for(embassy_time::Duration::from_micros(DOWN.as_micros() as u64));
}

/// A reset, then a 5 s backoff during which the link drops for 300 ms:
/// the backoff ends when the link returns (the link watcher raises
/// `LINK_UP`), not 5 s later, and the retry succeeds.
pub(crate) async fn link_down_during_backoff(net: &Net) -> TestResult {
    expect_server("GET", "/flap", 2, 2);
    LINK_UP.reset();
    let rec = Recorder::with_on_retry(take_link_down);
    let clock = Measured::new(WakeOnLinkUp::new(CLOCK, &LINK_UP));
    let Ok(client) = Client::builder(net.transport(Timeouts::DEFAULT).with_clock(&clock), SEED)
        .base_url(net.server)
        .retry_strategy(FixedDelay::new(BACKOFF))
        .middleware(&rec)
        .build()
    else {
        bail!("the client did not build");
    };
    let mut buffer = [0u8; 512];
    let result = client.get("/flap").send(&mut buffer).await;
    let Ok(response) = result else {
        bail!("failed: {:?}", result.err());
    };
    check!(response.body() == b"back", "body {:?}", response.body());
    check!(response.attempts() == 2, "{} attempts", response.attempts());
    let Some(sleep) = clock.last.get() else {
        bail!("no backoff measured");
    };
    let Some(up) = impair::link_returns_at() else {
        bail!("the link never went down");
    };
    // The link goes down in `on_retry`, just before the backoff starts:
    // the backoff is measured against the link's return, not its length.
    check!(
        sleep.start < up,
        "the backoff started after the link returned"
    );
    check!(
        sleep.end >= up,
        "the backoff ended before the link returned"
    );
    let late = Duration::from_micros((sleep.end - up).as_micros());
    hprintln!(
        "    backoff of {} us cut after {} us, {} us after the link returned (down for {} us)",
        us(sleep.asked),
        us(sleep.slept()),
        us(late),
        us(DOWN)
    );
    check!(
        sleep.asked == BACKOFF,
        "backoff asked {} us",
        us(sleep.asked)
    );
    // The driver reports the link on the stack's next poll (every
    // millisecond at most), the watcher raises the signal, the backoff ends.
    check!(
        late <= net::POLL_PERIOD + 2 * TICK,
        "the backoff ended {} us after the link returned",
        us(late)
    );
    Ok(())
}

/// Calls each loss test makes.
const CALLS: u32 = 8;

/// Retries each call may make under loss.
const RETRIES: u32 = 4;

/// Timeouts long enough for TCP to retransmit (smoltcp starts at 1 s).
const LOSSY: Timeouts = Timeouts::DEFAULT
    .connect(Duration::from_secs(6))
    .exchange(Duration::from_secs(6))
    .body(Duration::from_secs(6));

/// `CALLS` GETs of `path` under the loss `plan`: every call succeeds;
/// prints and returns the attempts made.
async fn calls_under_loss(
    net: &Net,
    path: &str,
    seed: u32,
    plan: Plan,
) -> Result<u32, super::Failed> {
    let rec = Recorder::default();
    let Ok(client) = Client::builder(net.transport(LOSSY), SEED)
        .base_url(net.server)
        .max_retries(RETRIES)
        .retry_strategy(FixedDelay::new(ms(50)))
        .middleware(&rec)
        .build()
    else {
        bail!("the client did not build");
    };
    impair::set_plan(seed, plan);
    let started = embassy_time::Instant::now();
    let mut attempts = 0;
    for i in 0..CALLS {
        let mut buffer = [0u8; 512];
        let result = client.get(path).send(&mut buffer).await;
        match result {
            Ok(response) => {
                attempts += response.attempts();
                check!(
                    response.body() == b"ok",
                    "call {}: body {:?}",
                    i + 1,
                    response.body()
                );
            }
            Err(err) => bail!("call {} failed: {:?}", i + 1, err),
        }
    }
    let stats = impair::stats();
    impair::clear();
    hprintln!(
        "    {} calls, {} attempts in {} ms; frames: {} carried, {} lost steadily, {} lost in {} bursts",
        CALLS,
        attempts,
        started.elapsed().as_millis(),
        stats.carried,
        stats.lost_steady,
        stats.lost_burst,
        stats.bursts
    );
    check!(
        stats.lost_steady + stats.lost_burst > 0,
        "the schedule lost no frame: the test proves nothing"
    );
    Ok(attempts)
}

/// 5 % of frames lost, each on its own.
pub(crate) async fn steady_loss(net: &Net) -> TestResult {
    let plan = Plan {
        steady: 50,
        ..Plan::default()
    };
    expect_server("GET", "/steady", CALLS, CALLS * (1 + RETRIES));
    let attempts = calls_under_loss(net, "/steady", 0x5eed_0001, plan).await?;
    // Every call reached the server at least once, and no more often than
    // it was attempted.
    expect_server("GET", "/steady", CALLS, attempts);
    Ok(())
}

/// Bursts: 4 % of frames start a run of 5 lost frames.
pub(crate) async fn burst_loss(net: &Net) -> TestResult {
    let plan = Plan {
        burst_start: 40,
        burst_len: 5,
        ..Plan::default()
    };
    expect_server("GET", "/burst", CALLS, CALLS * (1 + RETRIES));
    let attempts = calls_under_loss(net, "/burst", 0x5eed_0002, plan).await?;
    expect_server("GET", "/burst", CALLS, attempts);
    Ok(())
}
