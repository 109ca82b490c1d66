//! Future sizes against a budget: the size of each public call future
//! (the core's drivers and closure API, the hyper and the embedded clients'
//! `send`) next to the figure recorded for it, and whether it grew more
//! than [`TOLERANCE_PERCENT`] past it.
//!
//! A future's size is what an `async` caller pays on its stack or in its
//! task for every call in flight, so a layout change that stores something
//! twice shows here. The figures depend on the compiler and the target; the
//! budgets are x86_64 figures, and a run elsewhere prints the sizes without
//! judging them. After a deliberate change, record the new figure.

use core::fmt::Write as _;
use core::mem::size_of_val;
use core::time::Duration;

use std_embedded_nal_async::Stack;
use tenace::testing::{MockClock, ScriptedTransport, Step};
use tenace::{ExponentialBackoff, Pipeline, Policy, RetryBudget, Retryable as _, SeededRng};

/// How far past its budget a figure may grow before the run fails.
pub const TOLERANCE_PERCENT: usize = 10;

/// One measured future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// What the future is.
    pub name: &'static str,
    /// `size_of_val` of the future, in bytes.
    pub bytes: usize,
    /// The recorded figure (x86_64), in bytes.
    pub budget: usize,
}

impl Size {
    /// The most `bytes` may be: the budget plus the tolerance.
    pub const fn limit(&self) -> usize {
        self.budget + self.budget * TOLERANCE_PERCENT / 100
    }

    /// Whether the figure is within the limit (always, off x86_64).
    pub const fn within(&self) -> bool {
        !cfg!(target_arch = "x86_64") || self.bytes <= self.limit()
    }
}

fn backoff() -> ExponentialBackoff {
    ExponentialBackoff::new(Duration::from_millis(100), 2, Duration::from_secs(5))
        .expect("valid backoff")
}

/// Measures every future (none is polled).
///
/// # Panics
///
/// If a client cannot be built or no tokio runtime can be started.
pub fn measure() -> Vec<Size> {
    let mut sizes = Vec::new();
    let clock = MockClock::new();
    let transport = ScriptedTransport::<&str, u32, 1>::new([Step::ok(1)]);
    let policy = Policy::new(backoff());
    let mut rng = SeededRng::new(5);
    let retry = tenace::retry(&transport, &clock, &policy, &mut rng, "GET /");
    sizes.push(Size {
        name: "`tenace::retry` (ScriptedTransport, MockClock, ExponentialBackoff)",
        bytes: size_of_val(&retry),
        budget: 320,
    });
    drop(retry);

    let budget = RetryBudget::new(10, 1, 10).expect("valid budget");
    let pipeline = Pipeline::new().middleware(&budget);
    let retry_with = tenace::retry_with(&transport, &clock, &policy, &pipeline, &mut rng, "GET /");
    sizes.push(Size {
        name: "`tenace::retry_with`, a retry budget as middleware",
        bytes: size_of_val(&retry_with),
        budget: 416,
    });
    drop(retry_with);

    let hedge = tenace::Hedge::<1>::after(Duration::from_millis(50));
    let hedge_with = tenace::hedge_with(
        &transport, &clock, &policy, &hedge, &pipeline, &mut rng, "GET /",
    );
    sizes.push(Size {
        name: "`tenace::hedge_with`, one extra copy, a retry budget as middleware",
        bytes: size_of_val(&hedge_with),
        budget: 912,
    });
    drop(hedge_with);

    let op = || async { Err::<u32, u32>(1) };
    let call = op
        .retry(backoff().full_jitter())
        .when(|e| *e < 10)
        .attempt_timeout(Duration::from_secs(1))
        .deadline(Duration::from_secs(60))
        .notify(|_, _| {})
        .clock(&clock)
        .seed(5)
        .call();
    sizes.push(Size {
        name: "closure API `.call()` (MockClock, jittered ExponentialBackoff)",
        bytes: size_of_val(&call),
        budget: 376,
    });
    drop(call);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let hyper_send = runtime.block_on(async {
        let client = tenace_hyper::Client::builder()
            .base_url("http://127.0.0.1:9")
            .build()
            .expect("valid client");
        size_of_val(&client.get("/x").send())
    });
    sizes.push(Size {
        name: "`tenace_hyper::Client` `send`",
        bytes: hyper_send,
        budget: 2096,
    });

    let stack = Stack::default();
    let client =
        tenace_embedded::Client::builder(tenace_embedded::HttpTransport::new(&stack, &stack), 5)
            .base_url("http://127.0.0.1:9/")
            .build()
            .expect("valid client");
    let mut buffer = [0u8; 256];
    let embedded_send = client.get("/x").send(&mut buffer);
    sizes.push(Size {
        name: "`tenace_embedded::Client` `send` (reqwless, std-embedded-nal-async)",
        bytes: size_of_val(&embedded_send),
        budget: 2736,
    });
    drop(embedded_send);
    let mut extra = [0u8; 256];
    let embedded_hedged = client
        .get("/x")
        .hedge(tenace::Hedge::<1>::after(Duration::from_millis(50)))
        .send_hedged(&mut buffer, [&mut extra]);
    sizes.push(Size {
        name: "`tenace_embedded::Client` `send_hedged`, one extra copy",
        bytes: size_of_val(&embedded_hedged),
        budget: 5776,
    });
    drop(embedded_hedged);
    sizes
}

/// The sizes as a markdown table, and whether every one is within its
/// limit.
pub fn table(sizes: &[Size]) -> (String, bool) {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nFuture sizes against their budget (x86_64; a figure more than \
         {TOLERANCE_PERCENT}% over its budget fails the run):\n"
    );
    let _ = writeln!(s, "| future | B | budget B | limit B | |");
    let _ = writeln!(s, "|---|---:|---:|---:|---|");
    for size in sizes {
        let verdict = if size.within() { "ok" } else { "OVER" };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {verdict} |",
            size.name,
            size.bytes,
            size.budget,
            size.limit()
        );
    }
    (s, sizes.iter().all(Size::within))
}
