//! A counting global allocator for test binaries: heap allocations and the
//! peak of live heap bytes, per thread, while a closure or a future runs.
//!
//! A test binary installs it and measures with [`counted`] or
//! [`counted_async`]:
//!
//! ```
//! use tenace_tests::heap::{Counting, counted};
//!
//! #[global_allocator]
//! static ALLOCATOR: Counting = Counting;
//!
//! let (boxed, usage) = counted(|| Box::new([0u8; 100]));
//! assert_eq!((usage.allocations, usage.peak_bytes), (1, 100));
//! drop(boxed);
//! ```
//!
//! Only the measuring
//! thread is counted, so tests running in parallel and server threads do not
//! land in the figures. Under a current-thread tokio runtime the whole
//! client (its tasks, timers and I/O driver) runs on the test's thread, so
//! [`counted_async`] sees the client's whole heap.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::future::Future;
use std::alloc::System;

/// A global allocator that forwards to [`System`] and counts, on threads
/// inside [`counted`] or [`counted_async`], every allocation and the live
/// bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

thread_local! {
    static TRACKED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Notes one allocation of `size` bytes (or a free, negative, with no
/// allocation counted) if this thread is tracked. Only const-initialised
/// `Cell`s without destructors are touched, so this never allocates and
/// never fails, even during thread teardown.
fn note(allocation: bool, delta: isize) {
    let _ = TRACKED.try_with(|tracked| {
        if tracked.get() {
            if allocation {
                ALLOCATIONS.set(ALLOCATIONS.get() + 1);
            }
            let live = LIVE.get() + delta;
            LIVE.set(live);
            if live > PEAK.get() {
                PEAK.set(live);
            }
        }
    });
}

fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged and only updates thread-local counters, which do not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(true, signed(layout.size()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(true, signed(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; `ptr` came from `System` via this type.
        unsafe { System.dealloc(ptr, layout) };
        note(false, -signed(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // One allocation (the block may move), counted as if the old and
            // new blocks coexisted for a moment (they may, while the data is
            // copied): an upper bound on the peak.
            note(true, signed(new_size));
            note(false, -signed(layout.size()));
        }
        p
    }
}

/// What a measured stretch of code did to the heap, on its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Allocations (and reallocations) made.
    pub allocations: u64,
    /// The most bytes kept allocated at once, above what was live when the
    /// measurement started.
    pub peak_bytes: usize,
}

fn start() {
    ALLOCATIONS.set(0);
    LIVE.set(0);
    PEAK.set(0);
    TRACKED.set(true);
}

fn stop() -> Usage {
    TRACKED.set(false);
    Usage {
        allocations: ALLOCATIONS.get(),
        peak_bytes: usize::try_from(PEAK.get()).unwrap_or(0),
    }
}

/// Runs `f` on this thread and returns its output and what it did to the
/// heap. Only counts if the binary installed [`Counting`] as its global
/// allocator. Not reentrant: an inner measurement ends the outer one.
pub fn counted<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    start();
    let out = f();
    (out, stop())
}

/// Runs `f` to completion and returns its output and what this thread did
/// to the heap meanwhile (see the module's documentation for what a
/// current-thread runtime puts on the thread).
pub async fn counted_async<F: Future>(f: F) -> (F::Output, Usage) {
    start();
    let out = f.await;
    (out, stop())
}
