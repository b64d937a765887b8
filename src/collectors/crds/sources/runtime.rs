//! The metric-source loop: watch MetricSources (in the configured namespaces, or all) and
//! ClusterMetricSources, keep the newest of each, and after every burst of changes decide
//! again which version of each runs (`reconcile`), start and stop their watches, and queue
//! the statuses that changed for the rate-limited status writer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::mpsc;

use super::config::MetricSourcesConfig;
use super::kinds::{SourceKind, SourceRef};
use super::reconcile::{reconcile, Running};
use super::running::{Refusal, SourceTask};
use super::spec::{compile_source, CompiledSource, SourceObject};
use super::status::desired_status;
use super::status_writer::StatusWriter;
use crate::collectors::crds::watch_events::into_value;
use crate::collectors::shared::watch_backoff::backed_off;
use crate::collectors::CollectorContext;
use crate::config_parts::ConfigIssues;
use crate::kubernetes::list_watch;

/// Changes arriving within this period are decided together.
const SETTLE: Duration = Duration::from_millis(200);

type Events = BoxStream<'static, (usize, Result<Event<DynamicObject>, watcher::Error>)>;

/// One watch stream's objects, and those of a relist in progress.
#[derive(Default)]
struct StreamObjects {
    kind: Option<SourceKind>,
    objects: BTreeMap<SourceRef, SourceObject>,
    relisting: Option<BTreeMap<SourceRef, SourceObject>>,
    /// Its last event was an error (logged once until it recovers).
    failing: bool,
}

/// Runs until `ctx.cancel` fires; `config_names` are the metric names of the config file's
/// resources, which no source may produce.
pub async fn run_sources(
    settings: MetricSourcesConfig,
    config_names: HashSet<String>,
    ctx: CollectorContext,
) {
    let Some(client) = ctx.kube.clone() else { return };
    let (apis, mut streams) = watches(&settings, &client);
    let mut events = merged(&apis);
    let (refusal_tx, mut refusal_rx) = mpsc::unbounded_channel::<Refusal>();
    let mut state = Sources {
        settings,
        config_names,
        compiled: HashMap::new(),
        refusals: HashMap::new(),
        tasks: BTreeMap::new(),
        written: HashMap::new(),
    };
    let mut writer = StatusWriter::new(client.clone());
    let mut dirty = false;
    let mut settle = tokio::time::interval(SETTLE);
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => break,
            next = events.next() => match next {
                Some((i, Ok(event))) => {
                    dirty |= apply(&mut streams[i], event);
                    if std::mem::take(&mut streams[i].failing) {
                        ctx.status.set_detail("metricSources", None);
                    }
                }
                Some((i, Err(error))) => {
                    let kind = streams[i].kind.map_or("metric source", SourceKind::kind);
                    ctx.status.set_detail("metricSources", Some(format!("cannot watch {kind}s: {error}")));
                    // Once per outage (the CRDs not installed, no RBAC); the watch retries with backoff.
                    if !std::mem::replace(&mut streams[i].failing, true) {
                        tracing::warn!(%error, kind, "cannot watch metric sources; retrying");
                    }
                }
                None => break,
            },
            Some(refusal) = refusal_rx.recv() => {
                state.refusals.insert(refusal.source.clone(), refusal);
                dirty = true;
            }
            _ = settle.tick() => {
                if std::mem::take(&mut dirty) {
                    let objects: Vec<SourceObject> =
                        streams.iter().flat_map(|s| s.objects.values().cloned()).collect();
                    state.decide(&objects, &client, &ctx, &refusal_tx, &mut writer);
                }
                writer.write_next().await;
            }
        }
    }
    for (_, task) in std::mem::take(&mut state.tasks) {
        task.stop(&ctx);
    }
}

/// The watch streams: MetricSources per configured namespace (or all), ClusterMetricSources.
fn watches(
    settings: &MetricSourcesConfig,
    client: &kube::Client,
) -> (Vec<Api<DynamicObject>>, Vec<StreamObjects>) {
    let namespaced = SourceKind::Namespaced.api_resource();
    let mut apis: Vec<(SourceKind, Api<DynamicObject>)> = match settings.namespaces.is_empty() {
        true => vec![(SourceKind::Namespaced, Api::all_with(client.clone(), &namespaced))],
        false => settings
            .namespaces
            .iter()
            .map(|ns| (SourceKind::Namespaced, Api::namespaced_with(client.clone(), ns, &namespaced)))
            .collect(),
    };
    apis.push((SourceKind::Cluster, Api::all_with(client.clone(), &SourceKind::Cluster.api_resource())));
    let streams =
        apis.iter().map(|(kind, _)| StreamObjects { kind: Some(*kind), ..Default::default() }).collect();
    (apis.into_iter().map(|(_, api)| api).collect(), streams)
}

fn merged(apis: &[Api<DynamicObject>]) -> Events {
    let streams = apis.iter().enumerate().map(|(i, api)| {
        backed_off(list_watch(api.clone(), watcher::Config::default())).map(move |event| (i, event)).boxed()
    });
    stream::select_all(streams).boxed()
}

/// Applies one event to a stream's objects; true when what the stream holds changed.
fn apply(stream: &mut StreamObjects, event: Event<DynamicObject>) -> bool {
    let Some(kind) = stream.kind else { return false };
    let read = |object: DynamicObject| into_value(object).ok().map(|v| SourceObject::from_value(kind, &v));
    match event {
        Event::Init => {
            stream.relisting = Some(BTreeMap::new());
            false
        }
        Event::InitApply(object) => {
            if let (Some(relisting), Some(object)) = (&mut stream.relisting, read(object)) {
                relisting.insert(object.source.clone(), object);
            }
            false
        }
        Event::InitDone => {
            stream.objects = stream.relisting.take().unwrap_or_default();
            true
        }
        Event::Apply(object) => match read(object) {
            Some(object) => {
                stream.objects.insert(object.source.clone(), object.clone()).as_ref() != Some(&object)
            }
            None => false,
        },
        Event::Delete(object) => {
            read(object).is_some_and(|object| stream.objects.remove(&object.source).is_some())
        }
    }
}

/// What the loop keeps between decisions.
struct Sources {
    settings: MetricSourcesConfig,
    config_names: HashSet<String>,
    /// The compile result of each source's newest spec, by uid and spec.
    compiled: HashMap<SourceRef, (String, Value, Result<CompiledSource, ConfigIssues>)>,
    refusals: HashMap<SourceRef, Refusal>,
    tasks: BTreeMap<SourceRef, SourceTask>,
    /// The status last queued for each source, so one is not queued again before the watch
    /// shows it.
    written: HashMap<SourceRef, Value>,
}

impl Sources {
    fn decide(
        &mut self,
        objects: &[SourceObject],
        client: &kube::Client,
        ctx: &CollectorContext,
        refusals: &mpsc::UnboundedSender<Refusal>,
        writer: &mut StatusWriter,
    ) {
        // A version refused at run time (its task has ended) does not count as running.
        let refused_run = |source: &SourceRef, r: &Running| {
            self.refusals.get(source).is_some_and(|f| f.uid == r.uid && f.generation == r.generation)
        };
        let running: BTreeMap<SourceRef, Running> = self
            .tasks
            .iter()
            .filter(|(source, task)| !refused_run(source, &task.running))
            .map(|(source, task)| (source.clone(), task.running.clone()))
            .collect();
        let max_objects = self.settings.max_objects_per_source;
        let (compiled, refused) = (&mut self.compiled, &self.refusals);
        let outcome = reconcile(objects, &running, &self.config_names, |object| {
            if let Some(r) = refused.get(&object.source) {
                if r.uid == object.uid && r.generation == object.generation {
                    return Err(r.issues.clone());
                }
            }
            let fresh = |(uid, spec, _): &(String, Value, _)| *uid == object.uid && *spec == object.spec;
            if !compiled.get(&object.source).is_some_and(fresh) {
                let result = compile_source(object, max_objects);
                compiled.insert(object.source.clone(), (object.uid.clone(), object.spec.clone(), result));
            }
            compiled[&object.source].2.clone()
        });
        let present: HashSet<&SourceRef> = objects.iter().map(|o| &o.source).collect();
        self.compiled.retain(|source, _| present.contains(source));
        self.refusals.retain(|source, _| present.contains(source));
        self.written.retain(|source, _| present.contains(source));
        for source in self.tasks.keys().cloned().collect::<Vec<_>>() {
            let same = outcome.run.get(&source).is_some_and(|r| *r == self.tasks[&source].running);
            if !same {
                if let Some(task) = self.tasks.remove(&source) {
                    tracing::info!(source = %source, "metric source stopped");
                    task.stop(ctx);
                }
            }
        }
        for (source, running) in outcome.run {
            if let std::collections::btree_map::Entry::Vacant(slot) = self.tasks.entry(source) {
                let task = SourceTask::start(slot.key(), running, client.clone(), ctx, refusals.clone());
                slot.insert(task);
            }
        }
        let now = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now());
        let now = now.to_string();
        for decision in &outcome.decisions {
            let Some(object) = objects.iter().find(|o| o.source == decision.source) else { continue };
            let names = self
                .tasks
                .get(&decision.source)
                .map(|t| t.running.compiled.names.clone())
                .unwrap_or_default();
            let current = self.written.get(&decision.source).unwrap_or(&object.status);
            if let Some(status) = desired_status(decision, &names, current, &now) {
                if !matches!(decision.verdict, super::reconcile::Verdict::Accepted) {
                    tracing::warn!(source = %decision.source, generation = decision.generation,
                        "metric source refused: {}", status["conditions"][0]["message"]);
                }
                self.written.insert(decision.source.clone(), status.clone());
                writer.queue(decision.source.clone(), status);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use kube::api::DynamicObject;
    use serde_json::json;

    use super::*;

    fn source(name: &str, generation: i64) -> DynamicObject {
        serde_json::from_value(json!({"apiVersion": "kube-state-otel.io/v1alpha1", "kind": "MetricSource",
            "metadata": {"name": name, "namespace": "a", "uid": name, "generation": generation},
            "spec": {"name": "x"}}))
        .unwrap()
    }

    fn names(stream: &StreamObjects) -> Vec<(String, i64)> {
        stream.objects.values().map(|o| (o.source.name.clone(), o.generation)).collect()
    }

    #[test]
    fn a_relist_replaces_the_objects_only_when_complete_and_only_changes_count() {
        let mut stream = StreamObjects { kind: Some(SourceKind::Namespaced), ..Default::default() };
        assert!(!apply(&mut stream, Event::Init));
        assert!(!apply(&mut stream, Event::InitApply(source("s1", 1))));
        assert!(names(&stream).is_empty(), "nothing decided before the list is complete");
        assert!(apply(&mut stream, Event::InitDone));
        assert_eq!(names(&stream), [("s1".to_owned(), 1)]);
        assert!(!apply(&mut stream, Event::Apply(source("s1", 1))), "the same object again");
        assert!(apply(&mut stream, Event::Apply(source("s1", 2))));
        assert!(apply(&mut stream, Event::Apply(source("s2", 1))));
        // A relist that no longer has s1 (deleted while disconnected) forgets it.
        apply(&mut stream, Event::Init);
        apply(&mut stream, Event::InitApply(source("s2", 1)));
        assert_eq!(names(&stream).len(), 2, "the old view holds until the list is done");
        assert!(apply(&mut stream, Event::InitDone));
        assert_eq!(names(&stream), [("s2".to_owned(), 1)]);
        assert!(apply(&mut stream, Event::Delete(source("s2", 1))));
        assert!(!apply(&mut stream, Event::Delete(source("s2", 1))));
        assert!(names(&stream).is_empty());
    }
}
