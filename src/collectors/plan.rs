//! The one seam between a collector and the rest of the agent. A collector's folder compiles
//! its config section into a [`CollectorPlan`] once, at load, and the plan answers every later
//! question: what `check` prints, whether the Kubernetes API is needed, which RBAC rules, what
//! `render` makes of objects from files, and how to run. The runtime keeps the plan from load
//! to spawn and compares plans on reload to restart only the collectors whose section changed.

use std::fmt;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use tokio::task::JoinHandle;

use super::context::CollectorContext;
use crate::objects::SourcedObject;
use crate::series::{MetricsRegistry, TableHandle};

/// What a compiled collector section does; each collector implements it in its folder.
pub trait Compiled: Send + Sync + 'static {
    /// Lines for `check`, one per unit of work (a resource, a cluster); `election` says who
    /// runs it (`leader only`, `every replica`).
    fn summary(&self, election: &str) -> Vec<String>;

    /// Whether it reads the Kubernetes API.
    fn needs_kubernetes(&self) -> bool;

    /// What it lists and watches cluster-wide, for the `rbac` command.
    fn read_access(&self) -> Vec<ReadAccess> {
        Vec::new()
    }

    /// `render`: the tables it would hold after listing `objects` (files, not a cluster), with
    /// a warning per object or value it could not use. `None` when it does not work on objects
    /// (a poller such as etcd).
    fn render(
        &self,
        objects: &[SourcedObject],
        registry: &MetricsRegistry,
        warnings: &mut Vec<String>,
    ) -> Option<Vec<TableHandle>> {
        let _ = (objects, registry, warnings);
        None
    }

    /// `status` subresources it writes, for the `rbac` command.
    fn status_access(&self) -> Vec<StatusAccess> {
        Vec::new()
    }

    /// Whether `render` is asked even when the section is off, for objects that describe their
    /// own collection (as metric sources do).
    fn renders_when_off(&self) -> bool {
        false
    }

    /// `check --cluster`: lines saying what it would read in the cluster `client` reaches,
    /// without reading any object; nothing by default.
    fn preview(&self, client: kube::Client) -> BoxFuture<'static, Vec<String>> {
        let _ = client;
        futures::future::ready(Vec::new()).boxed()
    }

    /// Starts it in its own task; it runs until `ctx.cancel` fires.
    fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()>;

    /// Whether sharding splits its objects between replicas; the others run on shard 0 only.
    fn splits_objects(&self) -> bool {
        false
    }
}

/// The `status` subresources of one API group that a collector writes (get, patch, update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusAccess {
    pub group: String,
    /// `<plural>/status`.
    pub resources: Vec<String>,
}

/// Resources of one API group read with `list` and `watch` cluster-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadAccess {
    /// `""` for the core group.
    pub group: String,
    /// Plurals (`nodes`, `clusters`).
    pub resources: Vec<String>,
    /// How the access is used, printed by `rbac` as a YAML comment (e.g. a plural guessed
    /// from a kind, or a cluster-wide watch filtered in the agent).
    pub note: Option<String>,
}

/// A compiled section, kept from load to spawn. Two plans are equal when the collector's whole
/// section is, so a reload that leaves a section alone leaves its collector running.
#[derive(Clone)]
pub struct CollectorPlan {
    /// The key under `collectors:`; the status board and self-metrics name.
    pub name: &'static str,
    /// Only enabled plans run, render, or need RBAC rules; every plan was checked.
    pub enabled: bool,
    /// The section has settings of its own (resources, clusters, ...), so `check` mentions it
    /// even when it is off.
    configured: bool,
    /// Runs only on the Lease holder (`leaderElection: true`).
    pub leader_only: bool,
    /// The section with its defaults, to compare plans.
    section: serde_json::Value,
    compiled: Arc<dyn Compiled>,
}

impl CollectorPlan {
    /// The plan of the section `section` of collector `name`.
    pub fn new(
        name: &'static str,
        enabled: bool,
        configured: bool,
        leader_only: bool,
        section: &impl serde::Serialize,
        compiled: impl Compiled,
    ) -> Self {
        CollectorPlan {
            name,
            enabled,
            configured,
            leader_only,
            section: serde_json::to_value(section).unwrap_or(serde_json::Value::Null),
            compiled: Arc::new(compiled),
        }
    }

    /// Lines for `check`, each saying who runs it; a configured section that is off says so.
    pub fn summary(&self) -> Vec<String> {
        if !self.enabled {
            return match self.configured {
                true => vec![format!(
                    "{} is off (enabled: false): its settings are checked, nothing runs",
                    self.name
                )],
                false => Vec::new(),
            };
        }
        let election = if self.leader_only { "leader only" } else { "every replica" };
        self.compiled.summary(election)
    }

    pub fn needs_kubernetes(&self) -> bool {
        self.compiled.needs_kubernetes()
    }

    /// What it lists and watches; nothing when it is off.
    pub fn read_access(&self) -> Vec<ReadAccess> {
        if self.enabled {
            self.compiled.read_access()
        } else {
            Vec::new()
        }
    }

    /// What it writes; nothing when it is off.
    pub fn status_access(&self) -> Vec<StatusAccess> {
        match self.enabled {
            true => self.compiled.status_access(),
            false => Vec::new(),
        }
    }

    /// `render` over `objects`; `None` when it does not work on objects (or, off, on these).
    pub fn render(
        &self,
        objects: &[SourcedObject],
        registry: &MetricsRegistry,
        warnings: &mut Vec<String>,
    ) -> Option<Vec<TableHandle>> {
        let asked = self.enabled || self.compiled.renders_when_off();
        asked.then(|| self.compiled.render(objects, registry, warnings)).flatten()
    }

    /// `check --cluster`: what it would read in the cluster; nothing when it is off.
    pub async fn preview(&self, client: kube::Client) -> Vec<String> {
        match self.enabled {
            true => self.compiled.preview(client).await,
            false => Vec::new(),
        }
    }

    pub fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()> {
        self.compiled.spawn(ctx)
    }

    /// Whether sharding splits its objects (see [`Compiled::splits_objects`]).
    pub fn splits_objects(&self) -> bool {
        self.compiled.splits_objects()
    }
}

impl PartialEq for CollectorPlan {
    fn eq(&self, other: &Self) -> bool {
        (self.name, self.enabled, self.leader_only, &self.section)
            == (other.name, other.enabled, other.leader_only, &other.section)
    }
}

impl fmt::Debug for CollectorPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectorPlan")
            .field("name", &self.name)
            .field("enabled", &self.enabled)
            .field("leader_only", &self.leader_only)
            .finish_non_exhaustive()
    }
}

/// The enabled collectors among `plans` that need the Kubernetes API, by name.
pub fn need_kubernetes(plans: &[CollectorPlan]) -> Vec<&'static str> {
    plans.iter().filter(|p| p.enabled && p.needs_kubernetes()).map(|p| p.name).collect()
}
