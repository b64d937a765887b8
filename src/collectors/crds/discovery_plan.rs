//! The part of a compiled resource that discovery and namespace labels decide: the types a
//! `select` entry may watch, its `namespaceSelector`, and, at run time, the attributes of one
//! selected type and the gate of the namespaces selected now.

use opentelemetry::KeyValue;

use super::config::{GvrConfig, ResourceConfig};
use super::discovery_types::{type_attributes, ServedType, TypeSelection, GROUP_ATTRIBUTE, KIND_ATTRIBUTE};
use super::namespace_gate::{NamespaceGate, NamespaceSelector};
use super::plan::CompiledResource;
use super::selection::common_labels;
use super::selectors::LabelSelector;
use crate::config_parts::{index, join, ConfigIssues};

#[derive(Debug, Clone, Default)]
pub struct DiscoveryPlan {
    /// `select`: the entry stands for every served type it matches.
    pub types: Option<TypeSelection>,
    /// `namespaceSelector`.
    pub namespace_selector: Option<NamespaceSelector>,
    /// On the copy of a `select` entry for one type: the attributes naming that type.
    pub type_attributes: Vec<KeyValue>,
    /// While the collector runs, with `namespaceSelector`: the namespaces selected now.
    pub gate: Option<NamespaceGate>,
}

/// The run-time gate is not part of what was configured.
impl PartialEq for DiscoveryPlan {
    fn eq(&self, other: &Self) -> bool {
        self.types == other.types
            && self.namespace_selector == other.namespace_selector
            && self.type_attributes == other.type_attributes
    }
}

impl DiscoveryPlan {
    /// Compiles `select` and `namespaceSelector` of the resource at `at`.
    pub fn compile(resource: &ResourceConfig, at: &str, issues: &mut ConfigIssues) -> Self {
        let types = resource.select.as_ref().map(|select| {
            if resource.gvk.is_some() || resource.gvr != GvrConfig::default() {
                issues.push(join(at, "select"), "give one of select, gvr and gvk");
            }
            reserve_type_attributes(resource, at, issues);
            TypeSelection::compile(select, &join(at, "select"), issues)
        });
        let text = resource.namespace_selector.trim();
        let namespace_selector = (!text.is_empty()).then(|| match LabelSelector::parse(text) {
            Ok(selector) => NamespaceSelector { text: text.to_owned(), selector },
            Err(e) => {
                issues.push(join(at, "namespaceSelector"), format!("malformed label selector {text:?}: {e}"));
                NamespaceSelector { text: text.to_owned(), selector: LabelSelector::default() }
            }
        });
        DiscoveryPlan { types, namespace_selector, type_attributes: Vec::new(), gate: None }
    }

    /// Whether objects of `namespace` pass `namespaceSelector` now (always, without one).
    pub fn admits_namespace(&self, namespace: Option<&str>) -> bool {
        self.gate.as_ref().is_none_or(|gate| gate.admits(namespace))
    }
}

/// In a `select` entry the type attributes come first on every point; a label of the same name
/// would give a point two values for one attribute.
fn reserve_type_attributes(resource: &ResourceConfig, at: &str, issues: &mut ConfigIssues) {
    let reserved = [GROUP_ATTRIBUTE, KIND_ATTRIBUTE];
    let common = common_labels(resource);
    let common_at = join(at, "commonLabels");
    let mut labels: Vec<(String, &str)> = common.iter().map(|(name, _)| (common_at.clone(), name)).collect();
    for (i, metric) in resource.metrics.iter().enumerate() {
        let metric_at = join(&index(&join(at, "metrics"), i), "labels");
        labels.extend(metric.labels.iter().map(|(name, _)| (metric_at.clone(), name)));
    }
    for (labels_at, name) in labels.into_iter().filter(|(_, name)| reserved.contains(name)) {
        issues.push(
            format!("{labels_at}[{name:?}]"),
            format!(
                "{name:?} is set by select on every point (the type's group and kind); choose another name"
            ),
        );
    }
}

/// The copy of a `select` entry that watches (or renders) the one type `served`: named
/// `<entry>/<group>/<kind>`, with the type's attributes on every point.
pub fn for_type(entry: &CompiledResource, served: &ServedType) -> CompiledResource {
    let mut resource = entry.clone();
    resource.name = format!("{}/{}", entry.name, served.id());
    resource.gvr = GvrConfig {
        group: served.group.clone(),
        version: served.version.clone(),
        resource: served.plural.clone(),
        kind: Some(served.kind.clone()),
    };
    resource.by_kind = false;
    resource.discovery.types = None;
    resource.discovery.type_attributes = type_attributes(&served.group, &served.kind);
    resource
}

#[cfg(test)]
mod tests {
    use super::super::compile::compile_crds;
    use super::super::config::CrdsConfig;

    fn compile(resource: &str) -> Result<Vec<super::CompiledResource>, String> {
        let metrics =
            if resource.contains("metrics:") { "" } else { "    metrics: [{type: info, name: info}]\n" };
        let yaml = format!("resources:\n  - name: ops\n{resource}{metrics}");
        let config: CrdsConfig = serde_saphyr::from_str(&yaml).unwrap();
        compile_crds(&config).map_err(|e| e.to_string())
    }

    #[test]
    fn select_stands_alone_and_needs_no_gvr() {
        let ok =
            compile("    select: {groups: ['*.fluxcd.io']}\n    namespaceSelector: team=payments\n").unwrap();
        assert!(ok[0].discovery.types.is_some());
        assert_eq!(ok[0].discovery.namespace_selector.as_ref().unwrap().text, "team=payments");
        let both = compile("    select: {groups: [a.io]}\n    gvk: {group: a.io, version: v1, kind: A}\n")
            .unwrap_err();
        assert!(
            both.contains("collectors.crds.resources[0].select: give one of select, gvr and gvk"),
            "{both}"
        );
    }

    #[test]
    fn the_type_attributes_are_reserved_in_select_entries() {
        let err = compile(
            "    select: {groups: [a.io]}\n    commonLabels: {k8s.resource.kind: kind}\n    metrics: [{type: info, name: i, labels: {k8s.resource.group: x}}]\n",
        )
        .unwrap_err();
        assert!(
            err.contains(
                "resources[0].commonLabels[\"k8s.resource.kind\"]: \"k8s.resource.kind\" is set by select"
            ),
            "{err}"
        );
        assert!(err.contains("resources[0].metrics[0].labels[\"k8s.resource.group\"]"), "{err}");
        assert!(compile("    gvr: {group: a.io, version: v1, resource: as}\n    commonLabels: {k8s.resource.kind: kind}\n").is_ok());
    }

    #[test]
    fn a_malformed_namespace_selector_is_a_config_error() {
        let err = compile("    select: {groups: [a.io]}\n    namespaceSelector: 'team in (a'\n").unwrap_err();
        assert!(
            err.contains("collectors.crds.resources[0].namespaceSelector: malformed label selector"),
            "{err}"
        );
    }
}
