//! Measuring tools shared by the benches and the scale harness: this thread's CPU clock, the
//! best of several passes, and a global allocator that counts live heap bytes (a bench installs
//! it with `#[global_allocator]` to measure what a structure keeps rather than estimate it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

/// CPU time this thread has used (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The least thread CPU time of `passes` runs of `f`, in seconds.
pub fn best_cpu(passes: u32, mut f: impl FnMut()) -> f64 {
    (0..passes.max(1))
        .map(|_| {
            let start = thread_cpu();
            f();
            (thread_cpu() - start).as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting the bytes live at any moment ([`live_bytes`]).
pub struct CountingAllocator;

/// Heap bytes allocated through [`CountingAllocator`] and not yet freed.
pub fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

// SAFETY: every call is passed to the system allocator unchanged; only a counter is updated.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
