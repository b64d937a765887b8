//! glibc malloc tuning, and giving freed memory back. glibc gives each thread that allocates concurrently its own arena (up
//! to 8 per core), and memory freed into one arena is not reused by another: the initial list,
//! decoded on the runtime's worker threads, left about 20 MB more resident at 100k objects than
//! with two arenas (docs/performance.md). `MALLOC_ARENA_MAX` in the environment still wins.

/// Limits glibc to two malloc arenas unless `MALLOC_ARENA_MAX` is set. Call before any thread
/// starts.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes allocator parameters; called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
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
