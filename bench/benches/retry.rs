//! Criterion benches: `success` (one call that succeeds) and `fail3` (three
//! failures, then success) for every contender, on the same in-memory
//! operation and zero-delay sleeps. See the crate docs for the job.
//!
//! `bash bench/run.sh` runs these in quick mode and then the report, which
//! prints the ratios.
#![allow(missing_docs)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tenace_bench::{
    BackonAsync, BackonBlocking, Contender, Direct, HandLoop, TenaceAsync, TenaceBlocking,
    TokioRetry2, TowerRetry,
};

fn success_one<C: Contender>(c: &mut Criterion, mut contender: C) {
    c.benchmark_group("success")
        .bench_function(C::NAME, |b| b.iter(|| black_box(contender.call())));
}

fn fail3_one<C: Contender>(c: &mut Criterion, mut contender: C) {
    if C::RETRIES {
        c.benchmark_group("fail3")
            .bench_function(C::NAME, |b| b.iter(|| black_box(contender.fail3())));
    }
}

fn success(c: &mut Criterion) {
    success_one(c, Direct::new());
    success_one(c, HandLoop::new());
    success_one(c, TenaceAsync::new());
    success_one(c, TenaceBlocking::new());
    success_one(c, BackonAsync::new());
    success_one(c, BackonBlocking::new());
    success_one(c, TowerRetry::new());
    success_one(c, TokioRetry2::new());
}

fn fail3(c: &mut Criterion) {
    fail3_one(c, HandLoop::new());
    fail3_one(c, TenaceAsync::new());
    fail3_one(c, TenaceBlocking::new());
    fail3_one(c, BackonAsync::new());
    fail3_one(c, BackonBlocking::new());
    fail3_one(c, TowerRetry::new());
    fail3_one(c, TokioRetry2::new());
}

criterion_group!(benches, success, fail3);
criterion_main!(benches);
