//! Strategy construction from arbitrary numbers: nonsense is refused, and
//! every accepted strategy returns delays within its documented bounds for
//! any attempt, never panicking.
#![no_main]

use core::time::Duration;

use libfuzzer_sys::fuzz_target;
use tenace::{
    DecorrelatedJitter, ExponentialBackoff, FixedDelay, JitterBackoff, LinearBackoff,
    RetryStrategy, SeededRng,
};

fn take<const N: usize>(data: &mut &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = N.min(data.len());
    out[..n].copy_from_slice(&data[..n]);
    *data = &data[n..];
    out
}

fn f64_from(data: &mut &[u8]) -> f64 {
    f64::from_le_bytes(take(data))
}

fn duration_from(data: &mut &[u8]) -> Duration {
    Duration::new(u64::from_le_bytes(take(data)), u32::from_le_bytes(take(data)) % 1_000_000_000)
}

fn check<S: RetryStrategy>(mut s: S, lo: Duration, data: &mut &[u8]) {
    let mut rng = SeededRng::new(u64::from_le_bytes(take(data)));
    for _ in 0..8 {
        let attempt = u32::from_le_bytes(take(data));
        let d = s.delay(attempt, &mut rng);
        assert!(d <= s.max_delay(), "{d:?} > {:?}", s.max_delay());
        assert!(d >= lo.min(s.max_delay()), "{d:?} < {lo:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let data = &mut data;
    match take::<1>(data)[0] % 8 {
        0 => {
            if let Ok(s) = FixedDelay::from_secs_f64(f64_from(data)) {
                check(s, s.get(), data);
            }
        }
        1 => {
            let (b, i, m) = (f64_from(data), f64_from(data), f64_from(data));
            if let Ok(s) = LinearBackoff::from_secs_f64(b, i, m) {
                check(s, Duration::from_secs_f64(b), data);
            }
        }
        2 => {
            let (b, x, m) = (f64_from(data), f64_from(data), f64_from(data));
            if let Ok(s) = ExponentialBackoff::from_secs_f64(b, x, m) {
                check(s, Duration::from_secs_f64(b), data);
                check(s.full_jitter(), Duration::ZERO, data);
                check(s.equal_jitter(), Duration::ZERO, data);
            }
        }
        3 => {
            let (b, x, m) = (duration_from(data), u32::from_le_bytes(take(data)), duration_from(data));
            if let Ok(s) = ExponentialBackoff::new(b, x, m) {
                check(s, b, data);
            }
        }
        4 => {
            let (b, n, d, m) = (
                duration_from(data),
                u32::from_le_bytes(take(data)),
                u32::from_le_bytes(take(data)),
                duration_from(data),
            );
            if let Ok(s) = ExponentialBackoff::with_ratio(b, n, d, m) {
                check(s, b, data);
            }
        }
        5 => {
            let (lo, hi) = (f64_from(data), f64_from(data));
            if let Ok(s) = JitterBackoff::from_secs_f64(lo, hi) {
                check(s, Duration::from_secs_f64(lo), data);
            }
        }
        6 => {
            let (b, m) = (duration_from(data), duration_from(data));
            if let Ok(s) = DecorrelatedJitter::new(b, m) {
                check(s, b, data);
            }
        }
        _ => {
            let (b, i, m) = (duration_from(data), duration_from(data), duration_from(data));
            if let Ok(s) = LinearBackoff::new(b, i, m) {
                check(s, b, data);
            }
        }
    }
});
