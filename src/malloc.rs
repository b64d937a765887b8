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
//! - Lists: while a watch lists its objects, blocks up to 32 MiB come from the heap instead
//!   ([`Listing`]). A list page (500 objects, 1–2 MB) is read by hyper into buffers above
//!   128 KiB, and into the page buffer of `kubernetes::list_watch`; as fresh mappings their page
//!   faults were about a tenth of the initial sync. From the heap, the next page reuses the
//!   freed blocks. When the last list in progress completes, the threshold goes back and the
//!   free memory is given back ([`release_free_memory`]): the one place a list's memory is
//!   returned.
//!
//! The `MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` environment
//! variables still win.

/// Above this a block gets its own mapping, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// The mapping threshold while a list is in progress: glibc's largest.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const LISTING_MMAP_THRESHOLD: libc::c_int = 32 * 1024 * 1024;

/// Lists in progress, across all watches.
static LISTS: parking_lot::Mutex<usize> = parking_lot::Mutex::new(0);

/// Held while one watch lists its objects (see the module): the first to begin raises the
/// mapping threshold, the last to end puts it back and gives the free memory back. A watch
/// that fails lets go until it lists again, so a list that keeps failing does not keep the
/// threshold up.
#[derive(Debug)]
pub struct Listing(());

impl Listing {
    pub fn begin() -> Listing {
        let mut lists = LISTS.lock();
        *lists += 1;
        if *lists == 1 {
            set_mmap_threshold(true);
        }
        Listing(())
    }

    /// Lists in progress now (tests).
    pub fn in_progress() -> usize {
        *LISTS.lock()
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        // Under the lock, so a list beginning meanwhile sets the threshold after this one.
        let mut lists = LISTS.lock();
        *lists -= 1;
        if *lists == 0 {
            set_mmap_threshold(false);
            release_free_memory();
        }
    }
}

/// Sets glibc's mapping threshold for listing or not, unless the environment sets it.
fn set_mmap_threshold(listing: bool) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        let threshold = if listing { LISTING_MMAP_THRESHOLD } else { MMAP_THRESHOLD };
        // SAFETY: mallopt only changes an allocator parameter, under the allocator's own lock.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, threshold);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = listing;
}

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
