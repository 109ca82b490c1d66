//! The embedded client's hedged calls against the fault server, through
//! reqwless over a std `TcpConnect`: a slow first response is overtaken by
//! the hedge, whose body is read into its own buffer, and a `POST` is never
//! hedged. Real time: the slow response takes far longer than the hedged
//! call may.

use core::time::Duration;
use std::time::Instant;

use std_embedded_nal_async::Stack;
use tenace::{Hedge, StopReason};
use tenace_embedded::{Client, HttpTransport, Timeouts};
use tenace_tests::fault_server::{Fault, FaultServer};

const SLOW: Duration = Duration::from_secs(4);

fn run<F: Future>(f: F) -> F::Output {
    async_io::block_on(f)
}

fn timeouts() -> Timeouts {
    Timeouts::DEFAULT
        .connect(Duration::from_secs(2))
        .exchange(SLOW * 2)
        .body(Duration::from_millis(500))
}

#[test]
fn a_slow_first_response_is_overtaken_by_the_hedge() {
    let stack = Stack::default();
    let server = FaultServer::start([Fault::SlowHeaders(SLOW), Fault::ok("fast")]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        7,
    )
    .base_url(&base)
    .hedge(Hedge::<1>::after(Duration::from_millis(100)))
    .build()
    .expect("valid client");
    let (mut first, mut second) = ([0u8; 256], [0u8; 256]);
    let start = Instant::now();
    let response = run(client.get("/a").send_hedged(&mut first, [&mut second])).expect("an answer");
    let took = start.elapsed();
    assert_eq!((response.body(), response.attempts()), (&b"fast"[..], 2));
    assert!(took < SLOW / 2, "{took:?}");
    assert_eq!(server.received(), 2);
    // Without a hedge, `send_hedged` is a plain call in the first buffer.
    let server = FaultServer::start([Fault::ok("plain")]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        7,
    )
    .base_url(&base)
    .build()
    .expect("valid client");
    let response = run(client.get("/b").send_hedged(&mut first, [&mut second])).expect("an answer");
    assert_eq!((response.body(), response.attempts()), (&b"plain"[..], 1));
}

#[test]
fn a_post_is_never_hedged_and_the_deadline_ends_the_call() {
    let stack = Stack::default();
    let server = FaultServer::start([
        Fault::SlowHeaders(Duration::from_millis(400)),
        Fault::ok("second"),
    ]);
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        7,
    )
    .base_url(&base)
    .hedge(Hedge::<2>::after(Duration::from_millis(20)))
    .build()
    .expect("valid client");
    let (mut a, mut b, mut c) = ([0u8; 256], [0u8; 256], [0u8; 256]);
    let response = run(client
        .post("/order")
        .body(b"tea")
        .send_hedged(&mut a, [&mut b, &mut c]))
    .expect("an answer");
    assert_eq!((response.body(), response.attempts()), (&b"ok"[..], 1));
    assert_eq!(server.received(), 1);
    // Every copy hangs: copies at 0, 150 and 300 ms, the next past the
    // 400 ms deadline.
    let server = FaultServer::builder()
        .fallback(Fault::Hang)
        .start()
        .expect("server");
    let base = server.url("/");
    let client = Client::builder(
        HttpTransport::new(&stack, &stack).with_timeouts(timeouts()),
        7,
    )
    .base_url(&base)
    .build()
    .expect("valid client");
    let (mut d, mut e) = ([0u8; 256], [0u8; 256]);
    let err = run(client
        .get("/hang")
        .hedge(Hedge::<4>::after(Duration::from_millis(150)))
        .deadline(Duration::from_millis(400))
        .send_hedged(&mut a, [&mut b, &mut c, &mut d, &mut e]))
    .unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Deadline, 3));
    assert_eq!(server.received(), 3);
}
