//! `RetryLayer` in a `ServiceBuilder` around in-memory services, under
//! paused tokio time.
#![cfg(feature = "tower")]

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::io;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tenace::rand_core::Rng;
use tenace::{
    ExponentialBackoff, FailureKind, FixedDelay, Policy, RetryStrategy, SeededRng, StopReason,
    TransportError,
};
use tenace_hyper::Error;
use tenace_hyper::tower::{RetryLayer, RetrySafe, RetryStats};
use tokio::time::Instant;
use tower::{Service, ServiceBuilder, ServiceExt as _};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

type Body = Full<Bytes>;

/// What the scripted service does with one request.
#[derive(Debug, Clone)]
enum Step {
    Reset,
    Refused,
    Status(u16, Option<&'static str>),
}

/// A service that answers from a script and records arrival times.
#[derive(Clone)]
struct Scripted {
    script: Arc<Mutex<Vec<Step>>>,
    arrivals: Arc<Mutex<Vec<u128>>>,
    epoch: Instant,
}

impl Scripted {
    fn new(mut steps: Vec<Step>) -> Self {
        steps.reverse();
        Self {
            script: Arc::new(Mutex::new(steps)),
            arrivals: Arc::default(),
            epoch: Instant::now(),
        }
    }

    fn service(
        &self,
    ) -> impl Service<Request<Body>, Response = Response<Body>, Error = io::Error, Future: Send>
    + Clone
    + Send
    + 'static {
        let me = self.clone();
        tower::service_fn(move |_req: Request<Body>| {
            let me = me.clone();
            async move {
                me.arrivals
                    .lock()
                    .unwrap()
                    .push(me.epoch.elapsed().as_millis());
                let step = me
                    .script
                    .lock()
                    .unwrap()
                    .pop()
                    .unwrap_or(Step::Status(200, None));
                match step {
                    Step::Reset => Err(io::Error::from(io::ErrorKind::ConnectionReset)),
                    Step::Refused => Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
                    Step::Status(code, retry_after) => {
                        let mut response = Response::new(Full::new(Bytes::from_static(b"body")));
                        *response.status_mut() = StatusCode::from_u16(code).unwrap();
                        if let Some(v) = retry_after {
                            response
                                .headers_mut()
                                .insert("retry-after", v.parse().unwrap());
                        }
                        Ok(response)
                    }
                }
            }
        })
    }

    fn arrivals(&self) -> Vec<u128> {
        self.arrivals.lock().unwrap().clone()
    }
}

fn get() -> Request<Body> {
    Request::get("http://svc.test/")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

fn post() -> Request<Body> {
    Request::post("http://svc.test/")
        .body(Full::new(Bytes::from_static(b"x")))
        .unwrap()
}

fn policy() -> Policy {
    Policy::new(
        ExponentialBackoff::new(ms(100), 2, Duration::from_secs(10))
            .unwrap()
            .into(),
    )
}

#[tokio::test(start_paused = true)]
async fn io_errors_are_retried_on_the_exponential_schedule() {
    let script = Scripted::new(vec![Step::Reset, Step::Reset, Step::Status(200, None)]);
    let mut svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let started = Instant::now();
    let response = svc.ready().await.unwrap().call(get()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(started.elapsed(), ms(600));
    assert_eq!(script.arrivals(), [0, 200, 600]);
}

#[tokio::test(start_paused = true)]
async fn a_post_is_not_replayed_unless_marked_safe() {
    let script = Scripted::new(vec![Step::Reset, Step::Status(200, None)]);
    let mut svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let err = svc.ready().await.unwrap().call(post()).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert_eq!(err.last_error().unwrap().kind(), FailureKind::Io);

    let script = Scripted::new(vec![Step::Reset, Step::Reset, Step::Status(201, None)]);
    let mut svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let mut keyed = post();
    keyed
        .headers_mut()
        .insert("idempotency-key", "k-1".parse().unwrap());
    assert_eq!(
        svc.ready()
            .await
            .unwrap()
            .call(keyed)
            .await
            .unwrap()
            .status(),
        201
    );
    let mut marked = post();
    marked.extensions_mut().insert(RetrySafe(true));
    assert_eq!(
        svc.ready()
            .await
            .unwrap()
            .call(marked)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(script.arrivals().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_retried_even_for_a_post() {
    let script = Scripted::new(vec![Step::Refused, Step::Status(200, None)]);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let response = svc.oneshot(post()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(script.arrivals(), [0, 200]);
}

#[tokio::test(start_paused = true)]
async fn statuses_are_retried_with_retry_after_when_asked() {
    let script = Scripted::new(vec![
        Step::Status(429, Some("2")),
        Step::Status(503, None),
        Step::Status(200, None),
    ]);
    let layer = RetryLayer::new(policy()).retry_transient_statuses();
    let svc = ServiceBuilder::new().layer(layer).service(script.service());
    let started = Instant::now();
    let response = svc.oneshot(get()).await.unwrap();
    assert_eq!(response.status(), 200);
    // 2 s from Retry-After, then the strategy's 400 ms.
    assert_eq!(script.arrivals(), [0, 2000, 2400]);
    assert_eq!(started.elapsed(), ms(2400));
}

#[tokio::test(start_paused = true)]
async fn without_the_status_policy_a_503_is_a_response() {
    let script = Scripted::new(vec![Step::Status(503, None)]);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    assert_eq!(svc.oneshot(get()).await.unwrap().status(), 503);
    assert_eq!(script.arrivals(), [0]);
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_report_the_last_status() {
    let script = Scripted::new(vec![Step::Status(502, None); 5]);
    let layer = RetryLayer::new(Policy::new(FixedDelay::new(ms(10))).max_retries(2))
        .retry_transient_statuses();
    let svc = ServiceBuilder::new().layer(layer).service(script.service());
    let err = svc.oneshot(get()).await.unwrap_err();
    assert_eq!((err.reason(), err.attempts()), (StopReason::Exhausted, 3));
    assert!(matches!(err.last_error(), Some(Error::Status { status, .. }) if *status == 502));
    assert_eq!(script.arrivals(), [0, 10, 20]);
}

#[tokio::test(start_paused = true)]
async fn a_custom_predicate_from_the_policy_is_used() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let policy = policy().retry_on(move |e: &Error| {
        counter.fetch_add(1, Ordering::SeqCst);
        e.kind() == FailureKind::Io
    });
    let script = Scripted::new(vec![Step::Reset, Step::Status(200, None)]);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .service(script.service());
    svc.oneshot(get()).await.unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_retry_future_is_send() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let script = Scripted::new(vec![]);
    let mut svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let call = svc.call(get());
    assert_send(&call);
    assert_eq!(tokio::spawn(call).await.unwrap().unwrap().status(), 200);
}

#[tokio::test(start_paused = true)]
async fn retry_safe_false_keeps_a_get_from_being_replayed() {
    let script = Scripted::new(vec![Step::Reset, Step::Status(200, None)]);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let mut marked = get();
    marked.extensions_mut().insert(RetrySafe(false));
    let err = svc.oneshot(marked).await.unwrap_err();
    assert_eq!(
        (err.reason(), err.attempts()),
        (StopReason::NotIdempotent, 1)
    );
    assert_eq!(script.arrivals(), [0]);

    // The mark wins over an Idempotency-Key header too.
    let script = Scripted::new(vec![Step::Reset, Step::Status(200, None)]);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let mut keyed = post();
    keyed
        .headers_mut()
        .insert("idempotency-key", "k-1".parse().unwrap());
    keyed.extensions_mut().insert(RetrySafe(false));
    let err = svc.oneshot(keyed).await.unwrap_err();
    assert_eq!(err.reason(), StopReason::NotIdempotent);
    assert_eq!(script.arrivals(), [0]);
}

#[tokio::test(start_paused = true)]
async fn the_policy_predicate_and_transient_statuses_add_up() {
    let script = Scripted::new(vec![
        Step::Status(409, None),
        Step::Status(503, None),
        Step::Status(200, None),
    ]);
    let conflict = |e: &Error| matches!(e, Error::Status { status, .. } if *status == 409);
    let layer = RetryLayer::new(policy().retry_on(conflict)).retry_transient_statuses();
    let svc = ServiceBuilder::new().layer(layer).service(script.service());
    let response = svc.oneshot(get()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(script.arrivals(), [0, 200, 600]);
}

#[tokio::test(start_paused = true)]
async fn responses_carry_the_attempts_and_the_sleep() {
    let script = Scripted::new(vec![Step::Reset, Step::Reset, Step::Status(200, None)]);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let response = svc.oneshot(get()).await.unwrap();
    let stats = response.extensions().get::<RetryStats>().unwrap();
    assert_eq!((stats.attempts(), stats.slept()), (3, ms(600)));

    let script = Scripted::new(vec![]);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .service(script.service());
    let response = svc.oneshot(get()).await.unwrap();
    let stats = response.extensions().get::<RetryStats>().unwrap();
    assert_eq!((stats.attempts(), stats.slept()), (1, ms(0)));
}

/// A strategy written by a user: uniform in [min, max] milliseconds, and a
/// count of the calls this copy served, to show each call has its own copy.
#[derive(Debug, Clone)]
struct UserJitter {
    min_ms: u64,
    max_ms: u64,
    served: u32,
}

impl RetryStrategy for UserJitter {
    fn delay<R: Rng + ?Sized>(&mut self, _attempt: u32, rng: &mut R) -> Duration {
        self.served += 1;
        assert_eq!(self.served, _attempt, "a copy per call");
        ms(self.min_ms + rng.next_u64() % (self.max_ms - self.min_ms + 1))
    }
    fn max_delay(&self) -> Duration {
        ms(self.max_ms)
    }
}

#[tokio::test(start_paused = true)]
async fn a_user_strategy_in_the_layer_waits_exactly_what_it_draws() {
    let strategy = UserJitter {
        min_ms: 10,
        max_ms: 500,
        served: 0,
    };
    let layer = RetryLayer::new(Policy::new(strategy.clone())).rng_seed(21);
    let script = Scripted::new(vec![
        Step::Reset,
        Step::Reset,
        Step::Status(200, None),
        Step::Reset,
        Step::Reset,
        Step::Status(200, None),
    ]);
    let mut svc = ServiceBuilder::new().layer(layer).service(script.service());
    // Call k (from 0) draws from the seed that is the (k + 1)-th output of
    // `SeededRng::new(21)`.
    let mut seeds = SeededRng::new(21);
    for call in 0..2 {
        let started = Instant::now();
        let response = svc.ready().await.unwrap().call(get()).await.unwrap();
        let mut rng = SeededRng::new(seeds.next_u64());
        let mut expected = strategy.clone();
        let (d1, d2) = (expected.delay(1, &mut rng), expected.delay(2, &mut rng));
        assert_eq!(started.elapsed(), d1 + d2, "call {call}");
        let stats = response.extensions().get::<RetryStats>().unwrap();
        assert_eq!((stats.attempts(), stats.slept()), (3, d1 + d2));
    }
    assert_eq!(script.arrivals().len(), 6);
}
