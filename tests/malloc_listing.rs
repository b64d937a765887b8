//! While a watch lists its objects, a block of a list page's size comes from the heap; before
//! and after, from a mapping of its own. The setting is the process's, so this file holds one
//! test and runs in a process of its own.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_list_page_sized_block_is_mapped_only_outside_a_list() {
    use kube_state_otel::malloc::Listing;

    kube_state_otel::runtime::tune_malloc();
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return; // the environment's threshold wins, and is not what this test is about
    }
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let mapped = || unsafe { libc::mallinfo2() }.hblks;
    let mappings_for = |size: usize| {
        let before = mapped();
        let block: Vec<u8> = std::hint::black_box(Vec::with_capacity(size));
        let during = mapped();
        drop(block);
        during - before
    };
    let page = 2 << 20;
    assert_eq!(mappings_for(page), 1, "outside a list a block this size is mapped");
    let listing = Listing::begin();
    let nested = Listing::begin();
    assert_eq!(mappings_for(page), 0, "during a list it comes from the heap");
    drop(listing);
    assert_eq!(mappings_for(page), 0, "while another list is in progress too");
    drop(nested);
    assert_eq!(mappings_for(page), 1, "once the last list is done it is mapped again");
    assert_eq!(Listing::in_progress(), 0);
}
