//! While a watch lists its objects, a block of a list page's size comes from the heap; before
//! and after, from a mapping of its own. The setting is the process's, so this file holds one
//! test and runs in a process of its own: the setting itself, then the list-then-watch stream
//! every collector runs holding it exactly while it lists.

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

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(a_list_watch_holds_the_setting_while_it_lists());
    assert_eq!(mappings_for(page), 1, "no stream left holds it");
}

/// `kubernetes::list_watch` holds the setting from `Init` until the list is done or fails, or
/// the stream goes away, across pages and retries; watching holds none.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
async fn a_list_watch_holds_the_setting_while_it_lists() {
    use std::time::Duration;

    use futures::StreamExt;
    use kube::api::{Api, DynamicObject};
    use kube::runtime::watcher::{self, Event};
    use kube_state_otel::kubernetes::list_watch;
    use kube_state_otel::malloc::Listing;
    use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, Fault, ResourceSpec};

    let server = FakeApiServer::start().await;
    let widgets = ResourceSpec::new("example.com", "v1", "Widget", "widgets", true);
    server.register_resource(widgets.clone());
    let widget = |name: &str| {
        serde_json::json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": name, "namespace": "default"},
        })
    };
    for name in ["a", "b", "c"] {
        server.apply(widget(name)).unwrap();
    }
    let api: Api<DynamicObject> = Api::namespaced_with(server.client(), "default", &widgets.api_resource());
    let mut events = list_watch(api, watcher::Config::default().page_size(1)).boxed();
    let mut next = async || {
        let event = tokio::time::timeout(Duration::from_secs(5), events.next()).await;
        event.expect("an event in time").expect("the stream goes on")
    };
    assert!(matches!(next().await, Ok(Event::Init)));
    assert_eq!(Listing::in_progress(), 1, "a list holds it from Init");
    for _ in 0..3 {
        assert!(matches!(next().await, Ok(Event::InitApply(_))));
        assert_eq!(Listing::in_progress(), 1, "page after page (one object each)");
    }
    assert!(matches!(next().await, Ok(Event::InitDone)));
    assert_eq!(Listing::in_progress(), 0, "a complete list lets go");

    // A compaction ends the watch with 410 Gone: a relist holds it again; a failing list lets
    // go while it backs off, and the next try takes it again.
    server.apply(widget("d")).unwrap();
    assert!(matches!(next().await, Ok(Event::Apply(_))));
    assert_eq!(Listing::in_progress(), 0, "watching holds none");
    server.compact();
    server.inject(Fault::status("/widgets", 500, 1));
    let gone = |error: &watcher::Error| match error {
        watcher::Error::WatchError(status) => status.code == 410,
        watcher::Error::WatchStartFailed(kube::Error::Api(status)) => status.code == 410,
        _ => false,
    };
    assert!(matches!(next().await, Err(error) if gone(&error)));
    assert!(matches!(next().await, Ok(Event::Init)));
    assert_eq!(Listing::in_progress(), 1);
    assert!(matches!(next().await, Err(watcher::Error::InitialListFailed(_))));
    assert_eq!(Listing::in_progress(), 0, "a failed list lets go");
    assert!(matches!(next().await, Ok(Event::Init)));
    assert!(matches!(next().await, Ok(Event::InitApply(_))));
    assert_eq!(Listing::in_progress(), 1);
    drop(events);
    assert_eq!(Listing::in_progress(), 0, "a stream dropped mid-list lets go");
}
