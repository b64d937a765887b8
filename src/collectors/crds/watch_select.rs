//! A `select` entry's life: read discovery every `discoveryPeriod`, watch each matching type
//! on its own (its own series table `crds/<entry>/<group>/<kind>` and `/readyz` detail), stop
//! the watch of a type no longer served (its table, so its series, goes with it), and report
//! once what matches but cannot be watched or lies beyond `maxTypes`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::collector::resource_table;
use super::discovery_plan::for_type;
use super::discovery_scan::served_types;
use super::discovery_types::{Choice, ServedType, TypeSelection};
use super::plan::CompiledResource;
use super::watch::watch_resource;
use super::watch_limits::DISCOVERY;
use crate::backoff::Attempts;
use crate::collectors::CollectorContext;
use crate::series::TableHandle;

/// One watched type.
struct Running {
    cancel: CancellationToken,
    task: JoinHandle<()>,
    /// Dropping it detaches the type's table from the export.
    _table: TableHandle,
    /// Whether its first list was done or it no longer counts toward the entry's readiness.
    counted: Arc<AtomicBool>,
    /// The first discovery's readiness, when the type was found then.
    first: Option<Arc<FirstList>>,
}

/// Calls the entry's `synced` once every type found at the first discovery has listed.
struct FirstList {
    remaining: AtomicUsize,
    synced: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl FirstList {
    fn done(&self, counted: &AtomicBool) {
        if !counted.swap(true, Ordering::AcqRel) && self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            if let Some(synced) = self.synced.lock().take() {
                synced();
            }
        }
    }
}

/// What was last reported, so each problem is logged once rather than at every discovery.
#[derive(Default)]
struct Reported {
    unwatchable: BTreeSet<String>,
    entry: Option<String>,
}

/// Follows the types `entry` selects until `ctx.cancel` fires; `synced` is called once the
/// types found at the first discovery have listed.
pub async fn watch_selected(
    entry: Arc<CompiledResource>,
    selection: TypeSelection,
    client: kube::Client,
    ctx: CollectorContext,
    synced: impl FnOnce() + Send + 'static,
) {
    let mut running: BTreeMap<String, Running> = BTreeMap::new();
    let mut reported = Reported::default();
    let mut first: Option<Arc<FirstList>> = None;
    let mut synced: Option<Box<dyn FnOnce() + Send>> = Some(Box::new(synced));
    let mut failures = Attempts::default();
    loop {
        let wait = match served_types(&client, &selection).await {
            Ok(served) => {
                failures = Attempts::default();
                let choice = selection.choose(&served);
                if let Some(synced) = synced.take() {
                    let list = FirstList {
                        remaining: AtomicUsize::new(choice.watched.len()),
                        synced: Mutex::new(None),
                    };
                    if choice.watched.is_empty() {
                        synced();
                    } else {
                        *list.synced.lock() = Some(synced);
                    }
                    first = Some(Arc::new(list));
                }
                let first_round = first.take();
                follow(&entry, &choice, &client, &ctx, &mut running, first_round.as_ref()).await;
                report(&entry, &selection, &choice, &ctx, &mut reported);
                selection.discovery_period().get()
            }
            Err(error) => {
                let detail = format!("discovery failed: {error}; retrying");
                report_entry(&entry, &ctx, &mut reported, Some(detail));
                failures.next_delay(&DISCOVERY)
            }
        };
        tokio::select! {
            _ = ctx.cancel.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    for (_, type_watch) in std::mem::take(&mut running) {
        type_watch.cancel.cancel();
        let _ = type_watch.task.await;
    }
}

/// Starts the watches of newly chosen types and stops those of types no longer chosen (waiting
/// for each to end, so it cannot write its `/readyz` detail after it was cleared).
async fn follow(
    entry: &Arc<CompiledResource>,
    choice: &Choice,
    client: &kube::Client,
    ctx: &CollectorContext,
    running: &mut BTreeMap<String, Running>,
    first: Option<&Arc<FirstList>>,
) {
    let chosen: BTreeSet<String> = choice.watched.iter().map(ServedType::id).collect();
    let gone: Vec<String> = running.keys().filter(|id| !chosen.contains(*id)).cloned().collect();
    for id in gone {
        let Some(type_watch) = running.remove(&id) else { continue };
        type_watch.cancel.cancel();
        let _ = type_watch.task.await;
        if let Some(first) = &type_watch.first {
            first.done(&type_watch.counted);
        }
        ctx.status.set_detail(&format!("{}/{id}", entry.name), None);
        tracing::info!(resource = %entry.name, r#type = %id, "type no longer served; its watch stopped and its series removed");
    }
    for served in &choice.watched {
        let id = served.id();
        if running.contains_key(&id) {
            continue;
        }
        tracing::info!(resource = %entry.name, r#type = %id, version = %served.version, "type matched by select; watching it");
        running.insert(id, start(entry, served, client, ctx, first));
    }
}

fn start(
    entry: &CompiledResource,
    served: &ServedType,
    client: &kube::Client,
    ctx: &CollectorContext,
    first: Option<&Arc<FirstList>>,
) -> Running {
    let resource = for_type(entry, served);
    let table = resource_table(ctx, &resource);
    let cancel = ctx.cancel.child_token();
    let type_ctx = CollectorContext { cancel: cancel.clone(), ..ctx.clone() };
    let counted = Arc::new(AtomicBool::new(first.is_none()));
    let (status, part) = (ctx.status.clone(), resource.name.clone());
    let (first, first_then, counted_then) = (first.cloned(), first.cloned(), counted.clone());
    let synced = move || {
        status.set_detail(&part, Some("watched: listed".into()));
        if let Some(first) = first_then {
            first.done(&counted_then);
        }
    };
    let task = tokio::spawn(watch_resource(
        Arc::new(resource),
        client.clone(),
        table.table().clone(),
        type_ctx,
        synced,
    ));
    Running { cancel, task, _table: table, counted, first }
}

/// Logs and shows in `/readyz` (once each) the matching types that are not watched.
fn report(
    entry: &CompiledResource,
    selection: &TypeSelection,
    choice: &Choice,
    ctx: &CollectorContext,
    reported: &mut Reported,
) {
    let now: BTreeSet<String> = choice.unwatchable.iter().map(ServedType::id).collect();
    for served in &choice.unwatchable {
        let id = served.id();
        if reported.unwatchable.insert(id.clone()) {
            let detail =
                format!("not watched: discovery lists the verbs {:?}, not both list and watch", served.verbs);
            tracing::warn!(resource = %entry.name, r#type = %id, "{detail}");
            ctx.status.set_detail(&format!("{}/{id}", entry.name), Some(detail));
        }
    }
    for id in reported.unwatchable.difference(&now) {
        ctx.status.set_detail(&format!("{}/{id}", entry.name), None);
    }
    reported.unwatchable = now;

    let over_cap: Vec<String> = choice.over_cap.iter().map(ServedType::id).collect();
    let detail = if !over_cap.is_empty() {
        Some(format!(
            "maxTypes ({}) reached: {} more matching types not watched: {}",
            selection.max_types(),
            over_cap.len(),
            over_cap.join(", ")
        ))
    } else if choice.watched.is_empty() && choice.unwatchable.is_empty() {
        Some(format!(
            "no served type matches select (groups {:?}, kinds {:?}); discovery is read again every {}",
            selection.group_patterns(),
            selection.kind_patterns(),
            selection.discovery_period()
        ))
    } else {
        None
    };
    report_entry(entry, ctx, reported, detail);
}

/// Sets the entry's own `/readyz` detail, logging it when it changes.
fn report_entry(
    entry: &CompiledResource,
    ctx: &CollectorContext,
    reported: &mut Reported,
    detail: Option<String>,
) {
    if reported.entry == detail {
        return;
    }
    if let Some(detail) = &detail {
        tracing::warn!(resource = %entry.name, "{detail}");
    }
    ctx.status.set_detail(&entry.name, detail.clone());
    reported.entry = detail;
}
