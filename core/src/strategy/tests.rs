//! The documented delay tables to the millisecond, bounds under arbitrary
//! parameters (proptest), and refusal of nonsense parameters.

use core::time::Duration;

use proptest::prelude::*;
use std::format;
use std::string::ToString;

use super::*;
use crate::SeededRng;
use crate::error::ConfigProblem;

const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}
const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn delays<S: RetryStrategy>(mut strategy: S, n: u32) -> std::vec::Vec<Duration> {
    let mut rng = SeededRng::new(1);
    (1..=n).map(|a| strategy.delay(a, &mut rng)).collect()
}

#[test]
fn fixed_table() {
    // FixedDelay(delay=2.0): 2.0s, 2.0s, 2.0s
    assert_eq!(delays(FixedDelay::new(s(2)), 3), [s(2), s(2), s(2)]);
    assert_eq!(
        delays(FixedDelay::from_secs_f64(2.0).unwrap(), 3),
        [ms(2000); 3]
    );
}

#[test]
fn linear_table() {
    // LinearBackoff(base=1.0, increment=1.0, max_delay=5.0): 2, 3, 4 (then capped at 5)
    let l = LinearBackoff::from_secs_f64(1.0, 1.0, 5.0).unwrap();
    assert_eq!(delays(l, 3), [ms(2000), ms(3000), ms(4000)]);
    assert_eq!(delays(l, 6)[3..], [s(5), s(5), s(5)]);
}

#[test]
fn exponential_table() {
    // ExponentialBackoff(base=1.0, multiplier=2.0, max_delay=30.0): 2, 4, 8, 16, 30 (capped)
    let e = ExponentialBackoff::from_secs_f64(1.0, 2.0, 30.0).unwrap();
    assert_eq!(
        delays(e, 5),
        [ms(2000), ms(4000), ms(8000), ms(16000), ms(30000)]
    );
    assert_eq!(
        delays(ExponentialBackoff::new(s(1), 2, s(30)).unwrap(), 5),
        delays(e, 5)
    );
    // A cap that cuts the series short: base 1, multiplier 2, max 10.
    let e = ExponentialBackoff::new(s(1), 2, s(10)).unwrap();
    assert_eq!(delays(e, 4), [s(2), s(4), s(8), s(10)]);
}

#[test]
fn exponential_fractional_multiplier_is_exact() {
    let e = ExponentialBackoff::with_ratio(ms(100), 3, 2, s(60)).unwrap();
    // 100 ms × 1.5^n
    assert_eq!(
        delays(e, 4),
        [
            ms(150),
            ms(225),
            Duration::from_micros(337_500),
            Duration::from_micros(506_250)
        ]
    );
    assert_eq!(
        ExponentialBackoff::from_secs_f64(0.1, 1.5, 60.0)
            .unwrap()
            .ceiling(2),
        ms(225)
    );
}

#[test]
fn whole_ratios_take_the_integer_route() {
    // with_ratio(4, 2) is ×2: equal to `new`, same schedule, and the
    // 128-bit routine is not what computes it.
    let ratio = ExponentialBackoff::with_ratio(ms(100), 4, 2, s(60)).unwrap();
    let whole = ExponentialBackoff::new(ms(100), 2, s(60)).unwrap();
    assert_eq!(ratio, whole);
    assert_eq!(delays(ratio, 8), delays(whole, 8));
    assert!(format!("{ratio:?}").contains("Integer"), "{ratio:?}");
    let half = ExponentialBackoff::with_ratio(ms(100), 3, 2, s(60)).unwrap();
    assert!(format!("{half:?}").contains("Fractional"), "{half:?}");
    assert!(
        format!(
            "{:?}",
            ExponentialBackoff::from_secs_f64(0.1, 2.0, 60.0).unwrap()
        )
        .contains("Integer")
    );
    // A multiplier of exactly 1 stays at the base, at once, for any attempt.
    let mut rng = SeededRng::new(3);
    let mut one = ExponentialBackoff::with_ratio(ms(7), 5, 5, s(1)).unwrap();
    assert_eq!(one.delay(u32::MAX, &mut rng), ms(7));
    let mut one = ExponentialBackoff::from_secs_f64(0.007, 1.0, 1.0).unwrap();
    assert_eq!(one.delay(u32::MAX, &mut rng), ms(7));
}

#[test]
fn saturates_at_extreme_attempts() {
    let mut rng = SeededRng::new(9);
    let mut e = ExponentialBackoff::new(s(1), 2, s(30)).unwrap();
    for a in [64, 65, 1000, 10_000, u32::MAX - 1, u32::MAX] {
        assert_eq!(e.delay(a, &mut rng), s(30));
    }
    let mut l = LinearBackoff::new(s(1), s(1), s(5)).unwrap();
    assert_eq!(l.delay(u32::MAX, &mut rng), s(5));
    // Multiplier just above one: grows slowly, still capped, still fast.
    let mut slow =
        ExponentialBackoff::with_ratio(Duration::from_nanos(1), 65537, 65536, s(1)).unwrap();
    assert_eq!(slow.delay(u32::MAX, &mut rng), s(1));
    assert_eq!(slow.delay(1, &mut rng), Duration::from_nanos(1));
    // Largest representable parameters.
    let max = Duration::from_nanos(u64::MAX);
    let mut big = ExponentialBackoff::new(max, 65535, max).unwrap();
    assert_eq!(big.delay(u32::MAX, &mut rng), max);
    let mut big = LinearBackoff::new(max, max, max).unwrap();
    assert_eq!(big.delay(u32::MAX, &mut rng), max);
    let mut d = DecorrelatedJitter::new(max, max).unwrap();
    assert_eq!(d.delay(5, &mut rng), max);
}

#[test]
fn zero_base_and_unit_multiplier() {
    assert_eq!(
        delays(ExponentialBackoff::new(Duration::ZERO, 2, s(1)).unwrap(), 3),
        [Duration::ZERO; 3]
    );
    assert_eq!(
        delays(ExponentialBackoff::new(s(1), 1, s(5)).unwrap(), 3),
        [s(1); 3]
    );
    // A zero base stays zero on the fractional route too.
    let zero = ExponentialBackoff::with_ratio(Duration::ZERO, 3, 2, s(1)).unwrap();
    assert_eq!(delays(zero, 3), [Duration::ZERO; 3]);
    let mut rng = SeededRng::new(4);
    assert_eq!(zero.full_jitter().delay(u32::MAX, &mut rng), Duration::ZERO);
}

#[test]
fn full_and_equal_jitter_bounds_and_spread() {
    let e = ExponentialBackoff::new(ms(100), 2, s(10)).unwrap();
    let mut full = e.full_jitter();
    let mut equal = e.equal_jitter();
    let mut rng = SeededRng::new(5);
    let mut full_below_half = 0;
    for attempt in 1..=200u32 {
        let a = attempt % 12 + 1;
        let ceiling = e.ceiling(a);
        let f = full.delay(a, &mut rng);
        assert!(f <= ceiling, "full jitter {f:?} above {ceiling:?}");
        if f < ceiling / 2 {
            full_below_half += 1;
        }
        let q = equal.delay(a, &mut rng);
        assert!(
            q >= ceiling / 2 && q <= ceiling,
            "equal jitter {q:?} outside [{:?}, {ceiling:?}]",
            ceiling / 2
        );
    }
    // Uniform: about half of the full-jitter draws fall below half the ceiling.
    assert!((70..=130).contains(&full_below_half), "{full_below_half}");
}

#[test]
fn jitter_backoff_uniform_in_range() {
    let mut j = JitterBackoff::from_secs_f64(0.5, 5.0).unwrap();
    assert_eq!(j, JitterBackoff::default());
    let mut rng = SeededRng::new(11);
    let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
    for a in 1..=1000 {
        let d = j.delay(a, &mut rng);
        assert!(d >= ms(500) && d <= s(5));
        lo = lo.min(d);
        hi = hi.max(d);
    }
    assert!(lo < ms(520) && hi > ms(4980), "{lo:?} {hi:?}");
    let mut point = JitterBackoff::new(s(2), s(2)).unwrap();
    assert_eq!(point.delay(1, &mut rng), s(2));
}

#[test]
fn decorrelated_follows_previous_delay() {
    let base = ms(100);
    let cap = s(10);
    let mut d = DecorrelatedJitter::new(base, cap).unwrap();
    let mut rng = SeededRng::new(2);
    let mut prev = base;
    for a in 1..=50 {
        let x = d.delay(a, &mut rng);
        assert!(
            x >= base && x <= (prev * 3).min(cap),
            "retry {a}: {x:?} prev {prev:?}"
        );
        assert_eq!(d.last(), x);
        prev = x;
    }
    // Retry 1 starts again from base, whatever came before.
    let x = d.delay(1, &mut rng);
    assert!(x <= base * 3);
}

#[test]
fn decorrelated_clones_do_not_share_state() {
    let configured = DecorrelatedJitter::new(ms(100), s(60)).unwrap();
    let mut a = configured;
    let mut b = configured;
    let mut rng = SeededRng::new(3);
    for n in 1..=20 {
        let _ = a.delay(n, &mut rng);
    }
    // b is untouched by a's twenty retries: its first delay is within [base, 3 × base].
    assert_eq!(b.last(), ms(100));
    let first = b.delay(1, &mut rng);
    assert!(first >= ms(100) && first <= ms(300));
    assert_eq!(configured.last(), ms(100));
}

#[test]
fn nonsense_parameters_are_refused_with_the_parameter_named() {
    let err = |r: Result<ExponentialBackoff, ConfigError>| r.unwrap_err();
    let e = err(ExponentialBackoff::from_secs_f64(f64::NAN, 2.0, 1.0));
    assert_eq!((e.param(), e.problem()), ("base", ConfigProblem::NotFinite));
    let e = err(ExponentialBackoff::from_secs_f64(1.0, 2.0, f64::INFINITY));
    assert_eq!(
        (e.param(), e.problem()),
        ("max_delay", ConfigProblem::NotFinite)
    );
    let e = err(ExponentialBackoff::from_secs_f64(-1.0, 2.0, 1.0));
    assert_eq!((e.param(), e.problem()), ("base", ConfigProblem::Negative));
    let e = err(ExponentialBackoff::from_secs_f64(1.0, 0.5, 10.0));
    assert_eq!(
        (e.param(), e.problem()),
        ("multiplier", ConfigProblem::BelowOne)
    );
    let e = err(ExponentialBackoff::from_secs_f64(1.0, f64::NAN, 10.0));
    assert_eq!(
        (e.param(), e.problem()),
        ("multiplier", ConfigProblem::NotFinite)
    );
    let e = err(ExponentialBackoff::from_secs_f64(10.0, 2.0, 1.0));
    assert_eq!(
        (e.param(), e.problem()),
        ("max_delay", ConfigProblem::BelowBase)
    );
    assert_eq!(
        e.to_string(),
        "invalid `max_delay`: must not be below the base delay"
    );
    let e = err(ExponentialBackoff::new(s(1), 0, s(2)));
    assert_eq!(e.problem(), ConfigProblem::BelowOne);
    let e = err(ExponentialBackoff::with_ratio(s(1), 1, 2, s(2)));
    assert_eq!(e.problem(), ConfigProblem::BelowOne);
    let e = err(ExponentialBackoff::with_ratio(s(1), 1, 0, s(2)));
    assert_eq!(e.param(), "multiplier");
    let e = err(ExponentialBackoff::from_secs_f64(1e300, 2.0, 1e300));
    assert_eq!((e.param(), e.problem()), ("base", ConfigProblem::TooLarge));
    let e = LinearBackoff::from_secs_f64(1.0, -0.5, 5.0).unwrap_err();
    assert_eq!(
        (e.param(), e.problem()),
        ("increment", ConfigProblem::Negative)
    );
    let e = LinearBackoff::new(s(5), s(1), s(1)).unwrap_err();
    assert_eq!(e.param(), "max_delay");
    let e = JitterBackoff::from_secs_f64(5.0, 0.5).unwrap_err();
    assert_eq!(
        (e.param(), e.problem()),
        ("max_delay", ConfigProblem::BelowBase)
    );
    let e = DecorrelatedJitter::from_secs_f64(f64::NEG_INFINITY, 1.0).unwrap_err();
    assert_eq!(e.param(), "base");
    let e = FixedDelay::from_secs_f64(-0.0 - 1.0).unwrap_err();
    assert_eq!(e.problem(), ConfigProblem::Negative);
    assert_eq!(
        FixedDelay::try_new(Duration::MAX).unwrap_err().problem(),
        ConfigProblem::TooLarge
    );
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..=10_000_000_000).prop_map(Duration::from_nanos),
        any::<u64>().prop_map(Duration::from_nanos),
    ]
}

fn attempt() -> impl Strategy<Value = u32> {
    prop_oneof![1u32..=70, any::<u32>()]
}

proptest! {
    #[test]
    fn exponential_within_bounds(base in duration(), cap in duration(), m in 1u32..65536, a in attempt(), seed: u64, jitter in 0u8..3) {
        let Ok(e) = ExponentialBackoff::new(base, m, cap) else {
            prop_assert!(cap < base);
            return Ok(());
        };
        let e = e.with_jitter([Jitter::None, Jitter::Full, Jitter::Equal][usize::from(jitter)]);
        let mut rng = SeededRng::new(seed);
        let mut e2 = e;
        let d = e2.delay(a, &mut rng);
        prop_assert!(d <= cap);
        prop_assert!(d <= e.ceiling(a));
        if e.jitter() == Jitter::None {
            prop_assert!(d >= base.min(cap));
            // Monotone in the attempt.
            prop_assert!(e.ceiling(a.saturating_add(1)) >= d);
        }
    }

    #[test]
    fn exponential_float_constructor_never_panics(base: f64, m: f64, cap: f64, a in attempt()) {
        if let Ok(mut e) = ExponentialBackoff::from_secs_f64(base, m, cap) {
            let d = e.delay(a, &mut SeededRng::new(0));
            prop_assert!(d <= e.max_delay());
        }
    }

    #[test]
    fn linear_within_bounds(base in duration(), inc in duration(), cap in duration(), a in attempt()) {
        let Ok(mut l) = LinearBackoff::new(base, inc, cap) else { return Ok(()); };
        let d = l.delay(a, &mut SeededRng::new(0));
        prop_assert!(d >= base && d <= cap);
    }

    #[test]
    fn jitter_within_bounds(lo in duration(), hi in duration(), a in attempt(), seed: u64) {
        let Ok(mut j) = JitterBackoff::new(lo, hi) else { return Ok(()); };
        let d = j.delay(a, &mut SeededRng::new(seed));
        prop_assert!(d >= lo && d <= hi);
    }

    #[test]
    fn decorrelated_within_bounds(base in duration(), cap in duration(), seed: u64, n in 1u32..40) {
        let Ok(mut d) = DecorrelatedJitter::new(base, cap) else { return Ok(()); };
        let mut rng = SeededRng::new(seed);
        for a in 1..=n {
            let x = d.delay(a, &mut rng);
            prop_assert!(x >= base && x <= cap);
        }
    }

    #[test]
    fn float_constructors_never_panic(a: f64, b: f64, c: f64) {
        let _ = FixedDelay::from_secs_f64(a);
        let _ = LinearBackoff::from_secs_f64(a, b, c);
        let _ = JitterBackoff::from_secs_f64(a, b);
        let _ = DecorrelatedJitter::from_secs_f64(a, b);
    }
}
