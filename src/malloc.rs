//! glibc malloc tuning, and giving freed memory back.
//!
//! - Arenas: glibc gives each thread that allocates concurrently its own arena (up to 8 per
//!   core), and memory freed into one arena is not reused by another: the initial list, decoded
//!   on the runtime's worker threads, leaves each arena holding its own share of the decode's
//!   freed memory among the tables' rows. One arena kept 180 bytes per object less than two at
//!   20,000 custom resources (and two about 20 MB less than the default at 100k objects), for
//!   no CPU the harness could tell apart: most small blocks come from glibc's per-thread caches,
//!   which take no arena lock (docs/performance.md).
//! - Large blocks: glibc serves a block above `M_MMAP_THRESHOLD` (128 KiB) with its own mapping,
//!   but once such a block is freed it raises the threshold to that block's size (up to 32 MiB),
//!   and from then on serves blocks that large from the arenas, where they stay resident among
//!   smaller ones. An export's requests are a few MiB each: after the first export they were
//!   kept in the arenas, 330 bytes per object at 20,000 custom resources (docs/performance.md).
//!   Setting the thresholds turns that adjustment off.
//!
//! The `MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` environment
//! variables still win.

/// Above this a block gets its own mapping, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Tunes glibc malloc: one arena, fixed mapping and trim thresholds, unless the environment
/// sets them. Call before any thread starts.
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let unset = |name: &str| std::env::var_os(name).is_none();
        // SAFETY: mallopt only changes allocator parameters; called before other threads exist.
        unsafe {
            if unset("MALLOC_ARENA_MAX") {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
            if unset("MALLOC_MMAP_THRESHOLD_") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
            if unset("MALLOC_TRIM_THRESHOLD_") {
                libc::mallopt(libc::M_TRIM_THRESHOLD, MMAP_THRESHOLD);
            }
        }
    }
}

/// Gives the pages of freed heap memory back to the system. A (re)list decodes every object and
/// frees most of what it decoded; glibc keeps those pages resident otherwise (at 20,000 custom
/// resources that was about a third of the agent's RSS). Call it when a list is complete.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; it is safe to call any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
