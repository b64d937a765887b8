//! The object-selection keys of one resource compiled (SPEC §4.1): `gvr` or `gvk`, namespaces,
//! selectors, the default identity labels and the cardinality guards.

use super::config::{GvrConfig, LabelPaths, ResourceConfig};
use super::guards::SeriesLimits;
use super::namespaces::NamespaceSelection;
use super::selectors::{FieldSelector, LabelSelector};
use crate::collectors::shared::k8s_names;
use crate::config_parts::{join, ConfigIssues};
use crate::objects::plural_guess;

/// The compiled selection of one resource.
pub(super) struct Selection {
    pub gvr: GvrConfig,
    pub by_kind: bool,
    pub namespaces: NamespaceSelection,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub label_filter: LabelSelector,
    pub field_filter: FieldSelector,
    pub limits: SeriesLimits,
}

/// Compiles the selection of `resource` found at `at`. `gvr` itself is checked by the caller
/// when `by_kind` is false.
pub(super) fn compile_selection(resource: &ResourceConfig, at: &str, issues: &mut ConfigIssues) -> Selection {
    let (gvr, by_kind) = match &resource.gvk {
        Some(gvk) => {
            if resource.gvr != GvrConfig::default() {
                issues.push(join(at, "gvk"), "give either gvr or gvk, not both");
            }
            let gvk_at = join(at, "gvk");
            if gvk.version.trim().is_empty() {
                issues.push(join(&gvk_at, "version"), "required: the API version, e.g. v1");
            } else if let Err(e) = k8s_names::dns_label(&gvk.version, "an API version") {
                issues.push(join(&gvk_at, "version"), e);
            }
            if !gvk.group.is_empty() {
                if let Err(e) = k8s_names::dns_subdomain(&gvk.group, "an API group") {
                    issues.push(join(&gvk_at, "group"), e);
                }
            }
            if gvk.kind.trim().is_empty() || gvk.kind.chars().any(char::is_whitespace) {
                issues.push(
                    join(&gvk_at, "kind"),
                    format!("expected a kind, e.g. Cluster, found {:?}", gvk.kind),
                );
            } else if let Err(e) = k8s_names::kind(&gvk.kind) {
                issues.push(join(&gvk_at, "kind"), e);
            }
            // The plural is resolved through discovery at run time; until then (check, rbac)
            // the usual lowercase plural stands for it.
            let plural = plural_guess(&gvk.kind);
            let gvr = GvrConfig {
                group: gvk.group.clone(),
                version: gvk.version.clone(),
                resource: plural,
                kind: Some(gvk.kind.clone()),
            };
            (gvr, true)
        }
        None => (resource.gvr.clone(), false),
    };
    let namespaces =
        NamespaceSelection::compile(&resource.namespaces, &resource.exclude_namespaces, at, issues);
    let text = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let label_filter = LabelSelector::parse(&resource.label_selector).unwrap_or_else(|e| {
        issues.push(
            join(at, "labelSelector"),
            format!("malformed label selector {:?}: {e}", resource.label_selector),
        );
        LabelSelector::default()
    });
    let field_filter = FieldSelector::parse(&resource.field_selector).unwrap_or_else(|e| {
        issues.push(
            join(at, "fieldSelector"),
            format!("malformed field selector {:?}: {e}", resource.field_selector),
        );
        FieldSelector::default()
    });
    for (key, value) in
        [("maxSeriesPerObject", resource.max_series_per_object), ("maxSeries", resource.max_series)]
    {
        if value == 0 {
            issues.push(join(at, key), "must be at least 1");
        }
    }
    Selection {
        gvr,
        by_kind,
        namespaces,
        label_selector: text(&resource.label_selector),
        field_selector: text(&resource.field_selector),
        label_filter,
        field_filter,
        limits: SeriesLimits {
            per_object: resource.max_series_per_object,
            total: resource.max_series,
            objects: usize::MAX,
        },
    }
}

/// `commonLabels` as configured, or the default identity `{name, namespace}` when absent.
pub(super) fn common_labels(resource: &ResourceConfig) -> LabelPaths {
    resource.common_labels.clone().unwrap_or_else(|| {
        LabelPaths(vec![
            ("name".to_owned(), "metadata.name".to_owned()),
            ("namespace".to_owned(), "metadata.namespace".to_owned()),
        ])
    })
}
