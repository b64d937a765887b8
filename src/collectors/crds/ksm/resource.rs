//! A compiled kube-state-metrics resource and its instances: a `groupVersionKind` with `*` for
//! the version or the kind is a template, made concrete for every version and kind that
//! discovery (or `render`, from the objects it reads) finds; each instance is an ordinary
//! [`CompiledResource`] of the crds engine, with its own watch, table and guards.

use std::sync::Arc;

use super::document::GroupVersionKind;
use super::family::KsmFamily;
use crate::collectors::crds::config::GvrConfig;
use crate::collectors::crds::guards::SeriesLimits;
use crate::collectors::crds::plan::{CompiledMetric, CompiledResource, MetricKind};
use crate::config_parts::Duration;
use crate::objects::plural_guess;
use crate::series::{MetricId, MetricSpec};

/// The label names kube-state-metrics sets from the resolved group, version and kind.
pub const GROUP_LABEL: &str = "customresource_group";
pub const VERSION_LABEL: &str = "customresource_version";
pub const KIND_LABEL: &str = "customresource_kind";

/// What `*` stands for in `version` and `kind`.
pub const WILDCARD: &str = "*";

/// One `spec.resources[]` entry, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct KsmResource {
    /// As written; `version` and `kind` may be `*`.
    pub gvk: GroupVersionKind,
    /// `resourcePlural`, when given.
    pub plural: Option<String>,
    /// In the order of `specs`' metric ids: family `i` has the id `ids[i]`.
    pub families: Vec<KsmFamily>,
    pub ids: Vec<MetricId>,
    /// One per distinct family name.
    pub specs: Vec<MetricSpec>,
    pub limits: SeriesLimits,
    pub resync_period: Duration,
}

impl KsmResource {
    pub fn is_wildcard(&self) -> bool {
        self.gvk.version == WILDCARD || self.gvk.kind == WILDCARD
    }

    /// Whether a served `version` and `kind` of the resource's group are among those it names.
    pub fn covers(&self, group: &str, version: &str, kind: &str) -> bool {
        let fits = |pattern: &str, value: &str| pattern == WILDCARD || pattern == value;
        self.gvk.group == group && fits(&self.gvk.version, version) && fits(&self.gvk.kind, kind)
    }

    /// `ksm:<group>/<version>/<kind>` as written: its tables' and `check`'s name.
    pub fn display_name(&self) -> String {
        display_name(&self.gvk.group, &self.gvk.version, &self.gvk.kind)
    }

    /// The resource for one concrete version and kind; `plural` from discovery, else
    /// `resourcePlural`, else resolved from the kind through discovery at run time.
    pub fn instance(&self, version: &str, kind: &str, plural: Option<&str>) -> CompiledResource {
        let group = &self.gvk.group;
        let given = plural.map(str::to_owned).or_else(|| self.plural.clone());
        let by_kind = given.is_none();
        let resource = given.unwrap_or_else(|| plural_guess(kind));
        let metrics = self
            .families
            .iter()
            .zip(&self.ids)
            .map(|(family, id)| {
                let mut family = family.clone();
                // Set on the resource's commonLabels, so a metric's own commonLabels still win.
                for (label, value) in
                    [(GROUP_LABEL, group.as_str()), (VERSION_LABEL, version), (KIND_LABEL, kind)]
                {
                    if !family.metric_common.iter().any(|own| own == label) {
                        family.common.insert(label.into(), value.to_owned());
                    }
                }
                CompiledMetric {
                    id: *id,
                    name: family.name.clone(),
                    labels: Vec::new(),
                    kind: MetricKind::Ksm(Arc::new(family)),
                }
            })
            .collect();
        let name = display_name(group, version, kind);
        CompiledResource {
            prefix: name.clone(),
            name,
            gvr: GvrConfig {
                group: group.clone(),
                version: version.to_owned(),
                resource,
                kind: Some(kind.into()),
            },
            by_kind,
            discovery: Default::default(),
            namespaces: Default::default(),
            label_selector: None,
            field_selector: None,
            label_filter: Default::default(),
            field_filter: Default::default(),
            limits: self.limits,
            resync_period: self.resync_period,
            common_labels: Vec::new(),
            metrics,
            fields: Default::default(),
            aggregations: Vec::new(),
            specs: self.specs.clone(),
        }
    }
}

fn display_name(group: &str, version: &str, kind: &str) -> String {
    let group = if group.is_empty() { "core" } else { group };
    format!("ksm:{group}/{version}/{kind}")
}
