//! A fake Kubernetes API server speaking the real JSON wire protocol, for tests, benches and
//! the scale harness (no kube-apiserver can be installed where they run).
//!
//! It serves discovery, list (selectors, pagination at a consistent revision), watch (resume,
//! bookmarks, streaming lists, 410 after compaction) and writes (create, replace with
//! optimistic concurrency, merge/JSON/strategic patches, server-side apply with field
//! ownership conflicts, delete) for built-in and runtime-registered resources, so that kube-rs
//! clients, `kube::runtime::watcher` and kube-lease-manager behave as against a real cluster.

mod discovery;
mod faults;
mod list;
mod managed_fields;
mod object;
mod patch;
mod resources;
mod routes;
mod selector;
mod shared;
mod status;
mod store;
mod watch;
mod writes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::watch as signal;
use tokio_util::sync::CancellationToken;

pub use faults::{Fault, FaultVerb};
pub use resources::ResourceSpec;
pub use shared::RecordedRequest;
pub use status::ApiError;

use object::meta_str;
use resources::{builtin_resources, INITIAL_NAMESPACES};
use shared::{Control, Shared};
use store::Store;
use writes::{object_key, Writer};

/// The `metadata.uid` of the `kube-system` namespace, fixed so tests can assert on cluster
/// identity derived from it.
pub const KUBE_SYSTEM_UID: &str = "5e2f7a1c-0b3d-4c8e-9f61-7a2d4b6c8e01";

/// Tunables of a fake server.
#[derive(Clone, Debug)]
pub struct FakeApiServerOptions {
    /// Events retained for watch resumes and continue tokens; older ones get 410.
    pub history_limit: usize,
    /// Period of BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// How long each list page after the first takes to arrive (a big list over a slow link).
    pub list_page_delay: Duration,
}

impl Default for FakeApiServerOptions {
    fn default() -> Self {
        Self {
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(1),
            list_page_delay: Duration::ZERO,
        }
    }
}

/// A running fake API server on `127.0.0.1`; it stops when dropped.
pub struct FakeApiServer {
    shared: Arc<Shared>,
    url: String,
    shutdown: CancellationToken,
}

impl FakeApiServer {
    /// Starts a server with default options.
    pub async fn start() -> Self {
        Self::start_with(FakeApiServerOptions::default()).await
    }

    /// Starts a server on an ephemeral loopback port.
    pub async fn start_with(options: FakeApiServerOptions) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr: SocketAddr = listener.local_addr().expect("local address of the listener");
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(options.history_limit, builtin_resources())),
            changed: signal::Sender::new(0),
            control: signal::Sender::new(Control::default()),
            bookmark_interval: options.bookmark_interval,
            list_page_delay: options.list_page_delay,
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(Default::default()),
            kube_system_uid: KUBE_SYSTEM_UID.to_string(),
            addr,
        });
        let server = Self {
            shared: shared.clone(),
            url: format!("http://{addr}"),
            shutdown: CancellationToken::new(),
        };
        for namespace in INITIAL_NAMESPACES {
            let mut object = json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {"kubernetes.io/metadata.name": namespace}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            });
            if namespace == "kube-system" {
                object["metadata"]["uid"] = json!(KUBE_SYSTEM_UID);
            }
            server.apply(object).expect("initial namespace");
        }
        let router = routes::router(shared);
        let shutdown = server.shutdown.clone();
        tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned());
            if let Err(error) = serve.await {
                tracing::warn!(%error, "fake API server stopped");
            }
        });
        server
    }

    /// Base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A kube client for this server (no authentication, default namespace `default`).
    pub fn client(&self) -> kube::Client {
        let uri: http::Uri = self.url.parse().expect("server URL is a valid URI");
        kube::Client::try_from(kube::Config::new(uri)).expect("kube client for the fake API server")
    }

    /// A kubeconfig pointing at this server, for tests that run the binary.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\n\
             current-context: fake\nusers:\n- name: fake\n  user: {{}}\n",
            self.url
        )
    }

    /// Serves a resource (e.g. a CRD that gets installed); discovery shows it at once.
    pub fn register_resource(&self, spec: ResourceSpec) {
        self.shared.store.lock().register(spec);
    }

    /// Stops serving a resource, like deleting its CRD: its objects are gone and its paths 404.
    pub fn unregister_resource(&self, spec: &ResourceSpec) -> bool {
        self.shared.store.lock().unregister(spec)
    }

    fn resource_of(&self, api_version: &str, kind: &str) -> Result<ResourceSpec, ApiError> {
        self.shared
            .store
            .lock()
            .resource_by_kind(api_version, kind)
            .ok_or_else(|| ApiError::no_route(&format!("no resource serves {api_version} {kind}")))
    }

    /// Creates or replaces an object (identified by its apiVersion, kind, namespace and name)
    /// unconditionally, emitting ADDED or MODIFIED; returns it as stored. Unlike an API
    /// client, the harness may write into a namespace that does not exist.
    pub fn apply(&self, object: Value) -> Result<Value, ApiError> {
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
        let resource = self.resource_of(api_version, kind)?;
        let name = meta_str(&object, "name").unwrap_or_default().to_string();
        let namespace = meta_str(&object, "namespace").map(str::to_string);
        let key = object_key(&resource, namespace.as_deref(), &name);
        self.shared.write(|store| {
            let namespace = resource.namespaced.then_some(key.0.as_str());
            let mut object = object;
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
            }
            if store.get(&resource, &key).is_some() {
                writes::update(store, &resource, namespace, &name, object, Writer::Harness)
            } else {
                writes::create(store, &resource, namespace, object, Writer::Harness)
            }
        })
    }

    /// Deletes an object, emitting DELETED; returns its last state.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let resource = self.resource_of(api_version, kind)?;
        let key = object_key(&resource, namespace, name);
        self.shared.write(|store| writes::delete(store, &resource, &key, None, None))
    }

    /// The stored object, if any.
    pub fn get(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let resource = self.resource_of(api_version, kind).ok()?;
        let key = object_key(&resource, namespace, name);
        self.shared.store.lock().get(&resource, &key).map(|o| o.to_value())
    }

    /// Number of stored objects of a kind (all namespaces).
    pub fn count(&self, api_version: &str, kind: &str) -> usize {
        self.resource_of(api_version, kind).map_or(0, |r| self.shared.store.lock().count(&r))
    }

    /// The latest resourceVersion handed out.
    pub fn resource_version(&self) -> u64 {
        self.shared.store.lock().rv
    }

    /// Drops all retained history, like an etcd compaction: watches and continue tokens from
    /// before now get 410 Expired, and every open watch gets a 410 `ERROR` event and ends.
    pub fn compact(&self) {
        self.shared.write(Store::compact);
        self.shared.signal(|c| c.compactions += 1);
    }

    /// Breaks every open watch connection, like a network blip; clients resume.
    pub fn drop_watches(&self) {
        self.shared.signal(|c| c.drops += 1);
    }

    /// Makes every watch that allows bookmarks send one now.
    pub fn send_bookmarks(&self) {
        self.shared.signal(|c| c.bookmarks += 1);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().clone()
    }

    /// Gives `fault` to the next requests it matches (after the faults added before it).
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().add(fault);
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.requests.lock().clear();
    }

    /// The `kube-system` namespace's UID ([`KUBE_SYSTEM_UID`]).
    pub fn kube_system_uid(&self) -> &str {
        &self.shared.kube_system_uid
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.shared.signal(|c| c.drops += 1);
        self.shutdown.cancel();
    }
}
