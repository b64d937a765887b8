//! The fake API server against kube-rs's real client, discovery, watcher and kube-lease-manager.

use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, ApiResource, Discovery, Scope};
use kube::runtime::watcher::{self, Event};
use kube::ResourceExt;
use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, FakeApiServerOptions, ResourceSpec};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

fn widgets() -> ResourceSpec {
    ResourceSpec::new("example.com", "v1", "Widget", "widgets", true)
}

fn widget_api(server: &FakeApiServer) -> Api<DynamicObject> {
    Api::namespaced_with(server.client(), "default", &widgets().api_resource())
}

fn widget(name: &str, labels: serde_json::Value, size: i64) -> serde_json::Value {
    json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"size": size},
    })
}

fn pod(name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": {}})
}

async fn next<S, T>(stream: &mut S) -> T
where
    S: Stream<Item = T> + Unpin,
{
    tokio::time::timeout(WAIT, stream.next()).await.expect("event within 5 s").expect("stream still open")
}

/// Reads watcher events until `InitDone`, returning the names seen in `InitApply` and whether
/// an error (such as a 410) came first.
async fn until_init_done<S>(stream: &mut S) -> (Vec<String>, Vec<String>)
where
    S: Stream<Item = Result<Event<DynamicObject>, watcher::Error>> + Unpin,
{
    let (mut names, mut errors) = (Vec::new(), Vec::new());
    loop {
        match next(stream).await {
            Ok(Event::Init) => names.clear(),
            Ok(Event::InitApply(object)) => names.push(object.name_any()),
            Ok(Event::InitDone) => return (names, errors),
            Ok(other) => panic!("unexpected event before InitDone: {other:?}"),
            Err(error) => errors.push(format!("{error:?}")),
        }
    }
}

#[tokio::test]
async fn discovery_resolves_registered_crd_and_forgets_unregistered_one() {
    let server = FakeApiServer::start().await;
    let client = server.client();
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
    let missing = discovery::pinned_kind(&client, &gvk).await.unwrap_err();
    assert!(
        matches!(missing, kube::Error::Api(ref s) if s.code == 404 && s.reason == "NotFound"),
        "{missing:?}"
    );

    server.register_resource(widgets());
    server.register_resource(ResourceSpec::new("example.com", "v1", "Gadget", "gadgets", false));
    let (resource, caps) = discovery::pinned_kind(&client, &gvk).await.unwrap();
    assert_eq!((resource.plural.as_str(), caps.scope.clone()), ("widgets", Scope::Namespaced));

    let full = Discovery::new(client.clone()).run().await.unwrap();
    let (_, caps) = full.resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Gadget")).unwrap();
    assert_eq!(caps.scope, Scope::Cluster);
    let (lease, _) = full.resolve_gvk(&GroupVersionKind::gvk("coordination.k8s.io", "v1", "Lease")).unwrap();
    assert_eq!(lease.plural, "leases");
    let (node, caps) = full.resolve_gvk(&GroupVersionKind::gvk("", "v1", "Node")).unwrap();
    assert_eq!((node.plural.as_str(), caps.scope), ("nodes", Scope::Cluster));

    let aggregated = Discovery::new(client.clone()).run_aggregated().await.unwrap();
    let (_, caps) = aggregated.resolve_gvk(&gvk).unwrap();
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(aggregated.resolve_gvk(&GroupVersionKind::gvk("", "v1", "Pod")).is_some());

    assert_eq!(client.apiserver_version().await.unwrap().minor, "35");
    assert!(server.unregister_resource(&widgets()));
    assert!(discovery::pinned_kind(&client, &gvk).await.is_err());
    let listed = widget_api(&server).list(&ListParams::default()).await.unwrap_err();
    assert!(matches!(listed, kube::Error::Api(ref s) if s.code == 404), "{listed:?}");
}

#[tokio::test]
async fn paginated_list_returns_everything_over_several_pages() {
    let server = FakeApiServer::start().await;
    for i in 0..25 {
        server.apply(pod(&format!("pod-{i:02}"))).unwrap();
    }
    let pods: Api<DynamicObject> = Api::namespaced_with(
        server.client(),
        "default",
        &ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&()),
    );

    let first = pods.list(&ListParams::default().limit(10)).await.unwrap();
    assert_eq!(first.items.len(), 10);
    assert_eq!(first.metadata.remaining_item_count, Some(15));
    // A page after a change still shows the collection at the first page's revision.
    server.delete("v1", "Pod", Some("default"), "pod-20").unwrap();
    let second = pods
        .list(&ListParams::default().limit(100).continue_token(first.metadata.continue_.as_deref().unwrap()))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 15);
    assert!(second.items.iter().any(|p| p.name_any() == "pod-20"));
    assert_eq!(second.metadata.resource_version, first.metadata.resource_version);

    server.clear_requests();
    let mut stream = watcher::watcher(pods, watcher::Config::default().page_size(7)).boxed();
    let (names, errors) = until_init_done(&mut stream).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(names.len(), 24);
    let lists: Vec<_> = server.requests().into_iter().filter(|r| r.query_param("watch").is_none()).collect();
    assert_eq!(lists.len(), 4, "{lists:?}");
    assert!(lists.iter().all(|r| r.query_param("limit").as_deref() == Some("7")));
    assert_eq!(lists.iter().filter(|r| r.query_param("continue").is_some()).count(), 3);

    server.compact();
    let expired = Api::<DynamicObject>::namespaced_with(
        server.client(),
        "default",
        &ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&()),
    )
    .list(&ListParams::default().limit(10).continue_token(first.metadata.continue_.as_deref().unwrap()))
    .await
    .unwrap_err();
    assert!(
        matches!(expired, kube::Error::Api(ref s) if s.code == 410 && s.reason == "Expired"),
        "{expired:?}"
    );
}

#[tokio::test]
async fn watcher_sees_added_modified_deleted() {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets());
    let mut stream = watcher::watcher(widget_api(&server), watcher::Config::default().page_size(2)).boxed();
    assert_eq!(until_init_done(&mut stream).await, (vec![], vec![]));

    server.apply(widget("a", json!({}), 1)).unwrap();
    server.apply(widget("a", json!({}), 2)).unwrap();
    server.delete("example.com/v1", "Widget", Some("default"), "a").unwrap();
    let Event::Apply(added) = next(&mut stream).await.unwrap() else { panic!("expected Apply") };
    assert_eq!(added.data["spec"]["size"], 1);
    let Event::Apply(modified) = next(&mut stream).await.unwrap() else { panic!("expected Apply") };
    assert_eq!(modified.data["spec"]["size"], 2);
    assert!(modified.resource_version() > added.resource_version());
    let Event::Delete(deleted) = next(&mut stream).await.unwrap() else { panic!("expected Delete") };
    assert_eq!(deleted.name_any(), "a");
}

#[tokio::test]
async fn label_selectors_filter_lists_and_watches() {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets());
    server.apply(widget("web", json!({"app": "web", "tier": "front"}), 1)).unwrap();
    server.apply(widget("db", json!({"app": "db"}), 1)).unwrap();
    server.apply(widget("bare", json!({}), 1)).unwrap();
    let api = widget_api(&server);
    let names = |selector: &'static str| {
        let api = api.clone();
        async move {
            let list = api.list(&ListParams::default().labels(selector)).await.unwrap();
            let mut names: Vec<String> = list.items.iter().map(|o| o.name_any()).collect();
            names.sort();
            names
        }
    };
    assert_eq!(names("app=web").await, ["web"]);
    assert_eq!(names("app!=web").await, ["bare", "db"]);
    assert_eq!(names("app in (web,db)").await, ["db", "web"]);
    assert_eq!(names("app notin (web),!tier").await, ["bare", "db"]);
    assert_eq!(names("app").await, ["db", "web"]);
    let fields = api.list(&ListParams::default().fields("metadata.name=db")).await.unwrap();
    assert_eq!(fields.items.len(), 1);

    let mut stream = watcher::watcher(api.clone(), watcher::Config::default().labels("app=web")).boxed();
    assert_eq!(until_init_done(&mut stream).await.0, ["web"]);
    server.apply(widget("db", json!({"app": "db"}), 2)).unwrap();
    server.apply(widget("web", json!({"app": "other"}), 1)).unwrap();
    let Event::Delete(gone) = next(&mut stream).await.unwrap() else { panic!("expected Delete") };
    assert_eq!(gone.name_any(), "web");
    server.apply(widget("db", json!({"app": "web"}), 3)).unwrap();
    let Event::Apply(joined) = next(&mut stream).await.unwrap() else { panic!("expected Apply") };
    assert_eq!(joined.name_any(), "db");
}

#[tokio::test]
async fn bookmarks_arrive_on_demand_and_periodically() {
    let options =
        FakeApiServerOptions { bookmark_interval: Duration::from_millis(100), ..Default::default() };
    let server = FakeApiServer::start_with(options).await;
    server.register_resource(widgets());
    let api = widget_api(&server);
    let rv = api.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    let mut events = api.watch(&WatchParams::default(), &rv).await.unwrap().boxed();
    server.send_bookmarks();
    let WatchEvent::Bookmark(bookmark) = next(&mut events).await.unwrap() else {
        panic!("expected a bookmark")
    };
    assert_eq!(bookmark.metadata.resource_version, rv);
    server.apply(widget("a", json!({}), 1)).unwrap();
    assert!(matches!(next(&mut events).await.unwrap(), WatchEvent::Added(_)));
    let WatchEvent::Bookmark(periodic) = next(&mut events).await.unwrap() else {
        panic!("expected a bookmark")
    };
    assert_eq!(periodic.metadata.resource_version, server.resource_version().to_string());

    // Streaming lists end their initial events with an annotated bookmark.
    let mut streaming = watcher::watcher(api, watcher::Config::default().streaming_lists()).boxed();
    assert_eq!(until_init_done(&mut streaming).await, (vec!["a".to_string()], vec![]));
}

#[tokio::test]
async fn watcher_relists_after_compaction_without_deleted_objects() {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets());
    for name in ["a", "b", "c"] {
        server.apply(widget(name, json!({}), 1)).unwrap();
    }
    let mut stream = watcher::watcher(widget_api(&server), watcher::Config::default().page_size(2)).boxed();
    assert_eq!(until_init_done(&mut stream).await.0, ["a", "b", "c"]);

    // Once the watch is open (it delivers an event), it is broken, "b" is deleted and the
    // history compacted before the watcher resumes: the resume gets 410 and a relist follows.
    server.apply(widget("d", json!({}), 1)).unwrap();
    assert!(matches!(next(&mut stream).await, Ok(Event::Apply(d)) if d.name_any() == "d"));
    server.drop_watches();
    server.delete("example.com/v1", "Widget", Some("default"), "b").unwrap();
    server.compact();
    let (names, errors) = until_init_done(&mut stream).await;
    assert_eq!(names, ["a", "c", "d"]);
    assert!(errors.iter().any(|e| e.contains("410") && e.contains("Expired")), "{errors:?}");
    let watches = server.requests().into_iter().filter(|r| r.query_param("watch").is_some()).count();
    assert_eq!(watches, 2, "the first watch and its resume");

    // An open watch is told 410 by compaction itself.
    server.apply(widget("e", json!({}), 1)).unwrap();
    assert!(matches!(next(&mut stream).await, Ok(Event::Apply(e)) if e.name_any() == "e"));
    server.compact();
    let (names, errors) = until_init_done(&mut stream).await;
    assert_eq!(names, ["a", "c", "d", "e"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[tokio::test]
async fn watcher_resumes_after_dropped_connections() {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets());
    let mut stream = watcher::watcher(widget_api(&server), watcher::Config::default()).boxed();
    until_init_done(&mut stream).await;
    for round in 0..3 {
        server.drop_watches();
        server.apply(widget(&format!("w{round}"), json!({}), round)).unwrap();
        let event = loop {
            match next(&mut stream).await {
                Ok(event) => break event,
                Err(_) => continue,
            }
        };
        let Event::Apply(object) = event else { panic!("expected Apply, got {event:?}") };
        assert_eq!(object.name_any(), format!("w{round}"));
    }
    // Resumes continue from the last resourceVersion instead of relisting.
    let relists = server
        .requests()
        .into_iter()
        .filter(|r| r.query_param("watch").is_none() && r.path.ends_with("widgets"))
        .count();
    assert_eq!(relists, 1);
}

#[tokio::test]
async fn lease_optimistic_concurrency_and_lease_manager() {
    let server = FakeApiServer::start().await;
    let client = server.client();
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
    let mut lease: Lease =
        serde_json::from_value(json!({"metadata": {"name": "plain"}, "spec": {"holderIdentity": "x"}}))
            .unwrap();
    let created = leases.create(&PostParams::default(), &lease).await.unwrap();
    let again = leases.create(&PostParams::default(), &lease).await.unwrap_err();
    assert!(
        matches!(again, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{again:?}"
    );
    lease.metadata.resource_version = created.metadata.resource_version.clone();
    lease.spec.as_mut().unwrap().holder_identity = Some("y".into());
    let replaced = leases.replace("plain", &PostParams::default(), &lease).await.unwrap();
    assert_ne!(replaced.metadata.resource_version, created.metadata.resource_version);
    let stale = leases.replace("plain", &PostParams::default(), &lease).await.unwrap_err();
    assert!(matches!(stale, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"), "{stale:?}");

    let first = kube_lease_manager::LeaseManagerBuilder::new(client.clone(), "leader")
        .with_identity("first")
        .with_duration(30)
        .with_grace(5)
        .build()
        .await
        .unwrap();
    assert!(tokio::time::timeout(WAIT, first.changed()).await.unwrap().unwrap());
    let stored = server.get("coordination.k8s.io/v1", "Lease", Some("default"), "leader").unwrap();
    assert_eq!(stored["spec"]["holderIdentity"], "first");
    assert_eq!(stored["spec"]["leaseTransitions"], 1);

    let second = kube_lease_manager::LeaseManagerBuilder::new(client.clone(), "leader")
        .with_identity("second")
        .with_duration(30)
        .with_grace(5)
        .build()
        .await
        .unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(300), second.changed()).await.is_err());

    // Taking the lease with an apply patch conflicts with the holder's field ownership.
    let take = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": {"holderIdentity": "second"}});
    let conflict = Api::<Lease>::default_namespaced(client)
        .patch("leader", &PatchParams::apply("kube-lease-manager-second"), &Patch::Apply(&take))
        .await
        .unwrap_err();
    assert!(
        matches!(conflict, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{conflict:?}"
    );

    first.release().await.unwrap();
    let released = server.get("coordination.k8s.io/v1", "Lease", Some("default"), "leader").unwrap();
    assert!(released["spec"].get("holderIdentity").is_none(), "{released}");
    let patches = server.requests().into_iter().filter(|r| r.method == "PATCH").count();
    assert!(patches >= 3, "apply to take, strategic patches to count and release");
}

/// A CRD with `subresources: {status: {}}`: kube's `patch_status`/`replace_status` write only
/// `status` (no new generation), object writes leave `status` alone, and discovery lists it.
#[tokio::test]
async fn the_status_subresource_writes_only_status() {
    let server = FakeApiServer::start().await;
    server.register_resource(widgets().with_status_subresource());
    let api = widget_api(&server);
    let mut created = widget("w", json!({}), 1);
    created["status"] = json!({"phase": "ignored on create"});
    let created =
        api.create(&PostParams::default(), &serde_json::from_value(created).unwrap()).await.unwrap();
    assert!(created.data.get("status").is_none(), "{created:?}");

    let patch = json!({"spec": {"size": 99}, "status": {"phase": "Ready", "observedGeneration": 1}});
    let patched = api.patch_status("w", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    assert_eq!(patched.data["status"]["phase"], "Ready");
    assert_eq!(patched.data["spec"]["size"], 1, "a status write leaves the rest alone");
    assert_eq!(patched.metadata.generation, Some(1), "a status write is no new generation");

    let mut updated = patched.clone();
    updated.data["spec"]["size"] = json!(2);
    updated.data["status"] = json!({"phase": "overwritten?"});
    let updated = api.replace("w", &PostParams::default(), &updated).await.unwrap();
    assert_eq!((updated.data["spec"]["size"].as_i64(), updated.metadata.generation), (Some(2), Some(2)));
    assert_eq!(updated.data["status"]["phase"], "Ready", "an object write leaves status alone");

    let apply = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "status": {"phase": "Applied"}});
    let applied =
        api.patch_status("w", &PatchParams::apply("agent").force(), &Patch::Apply(&apply)).await.unwrap();
    assert_eq!(applied.data["status"]["phase"], "Applied");
    assert_eq!(applied.data["spec"]["size"], 2);

    let mut replaced = applied.clone();
    replaced.data["status"] = json!({"phase": "Replaced"});
    let replaced = api.replace_status("w", &PostParams::default(), &replaced).await;
    assert_eq!(replaced.unwrap().data["status"]["phase"], "Replaced");
    let stale = api.replace_status("w", &PostParams::default(), &applied).await;
    assert!(matches!(stale, Err(kube::Error::Api(e)) if e.code == 409), "stale resourceVersion");

    let missing = api.patch_status("nope", &PatchParams::default(), &Patch::Merge(&patch)).await;
    assert!(matches!(missing, Err(kube::Error::Api(e)) if e.code == 404));
    let (ar, caps) =
        discovery::pinned_kind(&server.client(), &GroupVersionKind::gvk("example.com", "v1", "Widget"))
            .await
            .unwrap();
    assert_eq!(ar.plural, "widgets");
    assert!(caps.subresources.iter().any(|(sub, _)| sub.plural == "status"), "{:?}", caps.subresources);

    // Without the subresource, `/status` is not served.
    server.register_resource(ResourceSpec::new("example.com", "v1", "Gadget", "gadgets", true));
    let gadgets =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("example.com", "v1", "Gadget"), "gadgets");
    let gadget_api: Api<DynamicObject> = Api::namespaced_with(server.client(), "default", &gadgets);
    let gadget = json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}});
    gadget_api.create(&PostParams::default(), &serde_json::from_value(gadget).unwrap()).await.unwrap();
    let status = gadget_api.patch_status("g", &PatchParams::default(), &Patch::Merge(&patch)).await;
    assert!(matches!(status, Err(kube::Error::Api(e)) if e.code == 404));
}
