//! The collectors' list-then-watch (`kubernetes::list_watch`) against the fake API server, side by
//! side with kube-runtime's watcher it stands in for: the same events through pagination,
//! changes, dropped watches, bookmarks, 410 Gone and failing lists, and the same requests.

use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::ResourceExt;
use kube_state_otel::kubernetes::list_watch;
use kube_state_otel_testkit::fake_apiserver::{
    FakeApiServer, FakeApiServerOptions, Fault, FaultVerb, RecordedRequest, ResourceSpec,
};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

type Events = BoxStream<'static, Result<Event<DynamicObject>, watcher::Error>>;

/// Which watcher a run uses.
#[derive(Clone, Copy, Debug)]
enum Watcher {
    Kube,
    Ours,
}

impl Watcher {
    fn start(self, api: Api<DynamicObject>, config: watcher::Config) -> Events {
        match self {
            Watcher::Kube => watcher::watcher(api, config).boxed(),
            Watcher::Ours => list_watch(api, config).boxed(),
        }
    }
}

fn widgets() -> ResourceSpec {
    ResourceSpec::new("example.com", "v1", "Widget", "widgets", true)
}

fn widget_api(server: &FakeApiServer) -> Api<DynamicObject> {
    Api::namespaced_with(server.client(), "default", &widgets().api_resource())
}

fn widget(name: &str, size: i64) -> serde_json::Value {
    json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"size": size},
    })
}

/// One event as a line: the kind, the object's name and size, or the error's text.
fn line(item: Result<Event<DynamicObject>, watcher::Error>) -> String {
    let object = |o: &DynamicObject| format!("{} size={}", o.name_any(), o.data["spec"]["size"]);
    match item {
        Ok(Event::Init) => "Init".into(),
        Ok(Event::InitApply(o)) => format!("InitApply {}", object(&o)),
        Ok(Event::InitDone) => "InitDone".into(),
        Ok(Event::Apply(o)) => format!("Apply {}", object(&o)),
        Ok(Event::Delete(o)) => format!("Delete {}", o.name_any()),
        Err(watcher::Error::WatchError(status)) => format!("WatchError {}", status.code),
        Err(watcher::Error::InitialListFailed(kube::Error::Api(status))) => {
            format!("InitialListFailed {}", status.code)
        }
        Err(error) => format!("Error {error}"),
    }
}

/// The next `n` events as lines.
async fn lines(events: &mut Events, n: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..n {
        let item = tokio::time::timeout(WAIT, events.next()).await.expect("an event within 5 s");
        seen.push(line(item.expect("the stream goes on")));
    }
    seen
}

fn lists(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests.iter().filter(|r| r.path.ends_with("/widgets") && r.query_param("watch").is_none()).collect()
}

fn watches(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests.iter().filter(|r| r.path.ends_with("/widgets") && r.query_param("watch").is_some()).collect()
}

/// A whole life: a list over three pages, changes, a dropped watch resumed, a compaction that
/// makes the resume a 410 and a relist, a list answered 500 then retried. Returns the events and
/// the requests it took.
async fn life(watcher: Watcher) -> (Vec<String>, Vec<RecordedRequest>) {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets());
    for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        server.apply(widget(name, i as i64)).unwrap();
    }
    let mut events = watcher.start(widget_api(&server), watcher::Config::default().page_size(2));
    let mut seen = lines(&mut events, 7).await;

    server.apply(widget("a", 10)).unwrap();
    server.apply(widget("f", 5)).unwrap();
    server.delete("example.com/v1", "Widget", Some("default"), "b").unwrap();
    seen.extend(lines(&mut events, 3).await);

    // The watch ends; the next one resumes from the last version seen, missing nothing.
    server.drop_watches();
    server.apply(widget("c", 20)).unwrap();
    seen.extend(lines(&mut events, 1).await);

    // Ended again, and the history is compacted before it resumes: 410, then a list.
    server.drop_watches();
    server.delete("example.com/v1", "Widget", Some("default"), "d").unwrap();
    server.compact();
    server.inject(Fault::status("/widgets", 500, 1));
    seen.extend(lines(&mut events, 9).await);
    (seen, server.requests())
}

#[tokio::test]
async fn a_life_of_lists_and_watches_gives_what_kubes_watcher_gives() {
    let (ours, our_requests) = life(Watcher::Ours).await;
    let (kube, kube_requests) = life(Watcher::Kube).await;
    assert_eq!(ours, kube);
    let expected_start = [
        "Init",
        "InitApply a size=0",
        "InitApply b size=1",
        "InitApply c size=2",
        "InitApply d size=3",
        "InitApply e size=4",
        "InitDone",
        "Apply a size=10",
        "Apply f size=5",
        "Delete b",
        "Apply c size=20",
    ];
    assert_eq!(ours[..11], expected_start, "{ours:#?}");
    assert_eq!(
        ours[11..],
        [
            "WatchError 410",
            "Init",
            "InitialListFailed 500",
            "Init",
            "InitApply a size=10",
            "InitApply c size=20",
            "InitApply e size=4",
            "InitApply f size=5",
            "InitDone"
        ]
    );

    // The same requests, page by page.
    let query = |requests: Vec<&RecordedRequest>, param: &str| -> Vec<Option<String>> {
        requests.iter().map(|r| r.query_param(param)).collect()
    };
    for param in ["limit", "labelSelector", "resourceVersion", "resourceVersionMatch"] {
        assert_eq!(query(lists(&our_requests), param), query(lists(&kube_requests), param), "{param}");
    }
    let our_lists = lists(&our_requests);
    assert_eq!(our_lists.len(), 3 + 1 + 2, "three pages, one failed, two pages");
    assert!(our_lists.iter().all(|r| r.query_param("limit").as_deref() == Some("2")));
    let continued: Vec<bool> = our_lists.iter().map(|r| r.query_param("continue").is_some()).collect();
    assert_eq!(continued, [false, true, true, false, false, true]);
    for param in ["allowWatchBookmarks", "timeoutSeconds"] {
        assert_eq!(query(watches(&our_requests), param), query(watches(&kube_requests), param), "{param}");
    }
    assert_eq!(watches(&our_requests).len(), 3, "the watch, its resume, the resume that got 410");
}

#[tokio::test]
async fn a_watch_resumes_from_the_last_bookmark() {
    let options = FakeApiServerOptions { bookmark_interval: Duration::from_millis(50), ..Default::default() };
    let server = FakeApiServer::start_with(options).await;
    server.register_resource(widgets());
    server.register_resource(ResourceSpec::new("example.com", "v1", "Gadget", "gadgets", true));
    let mut events = list_watch(widget_api(&server), watcher::Config::default()).boxed();
    assert_eq!(lines(&mut events, 2).await, ["Init", "InitDone"]);
    let listed_at = server.resource_version();
    // Changes to another resource move the server's version on; only bookmarks tell the watch.
    for i in 0..3 {
        let name = format!("g{i}");
        let gadget = json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": name, "namespace": "default"}});
        server.apply(gadget).unwrap();
    }
    // Polled for a while (it opens the watch and reads bookmarks), nothing is yielded.
    let quiet = tokio::time::timeout(Duration::from_millis(400), events.next()).await;
    assert!(quiet.is_err(), "bookmarks are not events: {:?}", quiet.map(|item| item.map(line)));
    server.drop_watches();
    server.apply(widget("a", 1)).unwrap();
    assert_eq!(lines(&mut events, 1).await, ["Apply a size=1"]);
    let resumed: Vec<_> =
        watches(&server.requests()).iter().map(|r| r.query_param("resourceVersion")).collect();
    assert_eq!(resumed, [Some(listed_at.to_string()), Some((listed_at + 3).to_string())]);
}

#[tokio::test]
async fn a_forbidden_list_is_an_error_with_its_status_then_listed_again() {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets());
    server.apply(widget("a", 1)).unwrap();
    server.inject(Fault::status("/widgets", 403, 2));
    let mut events = list_watch(widget_api(&server), watcher::Config::default()).boxed();
    let first = tokio::time::timeout(WAIT, events.next()).await.unwrap().unwrap();
    assert!(matches!(first, Ok(Event::Init)));
    for _ in 0..2 {
        let failed = tokio::time::timeout(WAIT, events.next()).await.unwrap().unwrap();
        match failed {
            Err(watcher::Error::InitialListFailed(kube::Error::Api(status))) => assert_eq!(status.code, 403),
            other => panic!("expected a failed list, got {other:?}"),
        }
        assert_eq!(lines(&mut events, 1).await, ["Init"], "each try starts the list over");
    }
    assert_eq!(lines(&mut events, 2).await, ["InitApply a size=1", "InitDone"]);
}

/// A watch refused with an HTTP 410 (not a 410 event in the stream) means the version is gone:
/// the stream lists again rather than asking for the same watch forever.
#[tokio::test]
async fn a_watch_refused_with_410_lists_again() {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets());
    server.apply(widget("a", 1)).unwrap();
    let mut events = list_watch(widget_api(&server), watcher::Config::default()).boxed();
    assert_eq!(lines(&mut events, 3).await, ["Init", "InitApply a size=1", "InitDone"]);
    server.inject(Fault::status("/widgets", 410, 1).on(FaultVerb::Watch));
    let refused = tokio::time::timeout(WAIT, events.next()).await.unwrap().unwrap();
    match refused {
        Err(watcher::Error::WatchStartFailed(kube::Error::Api(status))) => assert_eq!(status.code, 410),
        other => panic!("expected a refused watch, got {other:?}"),
    }
    server.apply(widget("b", 2)).unwrap();
    assert_eq!(lines(&mut events, 4).await, ["Init", "InitApply a size=1", "InitApply b size=2", "InitDone"]);
    assert_eq!(lists(&server.requests()).len(), 2);
}

/// One listed object that does not decode (a label that is not text) is skipped; the others of
/// its page and the next are listed, and the watch goes on (kube's watcher fails the whole list,
/// at every try).
#[tokio::test]
async fn an_object_that_does_not_decode_is_skipped_and_the_rest_listed() {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets());
    server.apply(widget("a", 1)).unwrap();
    let mut odd = widget("b", 2);
    odd["metadata"]["labels"] = json!({"tier": ["not", "text"]});
    server.apply(odd).unwrap();
    server.apply(widget("c", 3)).unwrap();
    let config = watcher::Config::default().page_size(2);
    let mut events = list_watch(widget_api(&server), config).boxed();
    assert_eq!(lines(&mut events, 4).await, ["Init", "InitApply a size=1", "InitApply c size=3", "InitDone"]);
    server.apply(widget("d", 4)).unwrap();
    assert_eq!(lines(&mut events, 1).await, ["Apply d size=4"]);
    assert_eq!(lists(&server.requests()).len(), 2, "two pages, listed once");
}
