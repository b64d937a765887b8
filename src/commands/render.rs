//! `kube-state-otel render`: the metrics a config yields for objects read from files, with no
//! cluster and no network. The objects go through the same extraction, series tables and
//! snapshot as in `run`; the snapshot is taken as one request and printed instead of sent.
//!
//! Each collector that works on objects adds its tables in its own `*_tables` function.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use crate::collectors;
use crate::collectors::crds::{self, ExtractError};
use crate::config::{Config, ConfigIssues, Env};
use crate::export::{self, Envelope, ExportTimes, Snapshot};
use crate::exposition;
use crate::objects::{read_objects, ObjectsError};
use crate::series::{MetricsRegistry, TableHandle};

/// How `render` prints the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RenderFormat {
    /// Prometheus text exposition 0.0.4, as the Collector's `prometheus` exporter serves it.
    #[default]
    Prometheus,
    /// OpenMetrics text 1.0.
    Openmetrics,
    /// The OTLP request as OTLP/JSON.
    OtlpJson,
}

/// An object and the path it was read from (a file, or the directory given on the command line).
#[derive(Debug, Clone)]
pub struct SourcedObject {
    pub source: PathBuf,
    pub object: Value,
}

impl SourcedObject {
    /// `file: Kind namespace/name`, for warnings.
    pub fn describe(&self) -> String {
        let text = |p: &str| self.object.pointer(p).and_then(Value::as_str).unwrap_or("");
        let name = match text("/metadata/namespace") {
            "" => text("/metadata/name").to_owned(),
            ns => format!("{ns}/{}", text("/metadata/name")),
        };
        format!("{}: {} {name}", self.source.display(), text("/kind"))
    }
}

/// What `render` produced: the formatted metrics and one warning per value that could not be
/// used (each naming the file, the object, the metric and the reason).
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub output: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Objects(#[from] ObjectsError),
    #[error("{}", issues_text(.0))]
    Config(ConfigIssues),
    #[error("cannot encode OTLP/JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn issues_text(issues: &ConfigIssues) -> String {
    issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Reads every object under `paths`, remembering which path each came from.
pub fn read_sourced(paths: &[PathBuf]) -> Result<Vec<SourcedObject>, ObjectsError> {
    let mut out = Vec::new();
    for path in paths {
        let objects = read_objects(std::slice::from_ref(path))?;
        out.extend(objects.into_iter().map(|object| SourcedObject { source: path.clone(), object }));
    }
    Ok(out)
}

/// The metrics `config`'s collectors produce for `objects`, in `format`.
pub fn render(
    config: &Config,
    env: &Env,
    objects: &[SourcedObject],
    format: RenderFormat,
) -> Result<Rendered, RenderError> {
    let attributes = export::resource::attributes(config, env, None);
    let registry = MetricsRegistry::new();
    let mut warnings = Vec::new();
    let mut tables = crds_tables(config, objects, &registry, &mut warnings)?;
    tables.extend(nodes_tables(config, objects, &registry, &mut warnings));
    if tables.is_empty() {
        warnings
            .push("no collector that works on objects is enabled (collectors.crds, collectors.nodes)".into());
    }
    let now = export::unix_nano(SystemTime::now());
    let times = ExportTimes { start_unix_nano: now, now_unix_nano: now };
    let request = Snapshot::new(&registry, None, Arc::new(Envelope::new(&attributes)), times).into_request();
    drop(tables);
    let output = match format {
        RenderFormat::Prometheus => exposition::to_prometheus_text(&request),
        RenderFormat::Openmetrics => exposition::to_openmetrics(&request),
        RenderFormat::OtlpJson => exposition::to_otlp_json(&request)? + "\n",
    };
    Ok(Rendered { output, warnings })
}

/// `collectors.crds`: one table per configured resource, filled with the objects of that
/// resource (keyed by their position, since objects in files may lack a UID).
pub fn crds_tables(
    config: &Config,
    objects: &[SourcedObject],
    registry: &MetricsRegistry,
    warnings: &mut Vec<String>,
) -> Result<Vec<TableHandle>, RenderError> {
    let section = &config.collectors.crds;
    if !section.enabled {
        return Ok(Vec::new());
    }
    let resources = crds::compile_crds(section).map_err(RenderError::Config)?;
    let mut tables = Vec::new();
    for resource in &resources {
        let table = registry.table(format!("crds/{}", resource.name), resource.specs.clone());
        let mut matched = 0usize;
        let wanted =
            |o: &SourcedObject| resource.matches(&o.object) && in_namespaces(&resource.namespaces, &o.object);
        for (i, sourced) in objects.iter().enumerate().filter(|(_, o)| wanted(o)) {
            matched += 1;
            let extracted = crds::extract(resource, &sourced.object);
            warnings.extend(extracted.errors.iter().map(|e| warning(sourced, e)));
            table.replace(&i.to_string(), extracted.points);
        }
        if matched == 0 {
            let gvr = &resource.gvr;
            warnings.push(format!(
                "crds/{}: no object of {}/{} {} in the given files",
                resource.name, gvr.group, gvr.version, gvr.resource
            ));
        }
        tables.push(table);
    }
    Ok(tables)
}

/// `collectors.nodes`: one table from the Node and Pod objects among `objects`. With none of
/// them the table is left out, so a CRD-only render does not print empty cluster totals.
pub fn nodes_tables(
    config: &Config,
    objects: &[SourcedObject],
    registry: &MetricsRegistry,
    warnings: &mut Vec<String>,
) -> Vec<TableHandle> {
    let section = &config.collectors.nodes;
    let core = |o: &&SourcedObject| {
        o.object.get("apiVersion").and_then(Value::as_str) == Some("v1")
            && matches!(o.object.get("kind").and_then(Value::as_str), Some("Node" | "Pod"))
    };
    let described: Vec<(String, &Value)> =
        objects.iter().filter(core).map(|o| (o.describe(), &o.object)).collect();
    if !section.enabled || described.is_empty() {
        return Vec::new();
    }
    let (tables, errors) = collectors::nodes::render_tables(section, &described, registry);
    warnings.extend(errors);
    tables
}

/// Whether `object` is in one of `namespaces` (empty: all), as the watch would see it.
fn in_namespaces(namespaces: &[String], object: &Value) -> bool {
    let namespace = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    namespaces.is_empty() || namespaces.iter().any(|n| n == namespace)
}

fn warning(object: &SourcedObject, error: &ExtractError) -> String {
    format!("{}: metric {}: {}", object.describe(), error.metric, error.reason)
}

/// Loads and validates the config at `path` (errors prefixed with the file name, as `check`).
pub fn load_for_render(path: &Path, env: &Env) -> Result<Config, String> {
    super::check(path, env).map(|(config, _)| config)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::load_str;

    const CONFIG: &str = "collectors:\n  crds:\n    enabled: true\n    resources:\n      - name: widget\n        gvr: {group: example.com, version: v1, resource: widgets}\n        namespaces: [prod]\n        commonLabels: {name: metadata.name}\n        metrics:\n          - {type: gauge, name: size, help: Size, unit: By, path: spec.size}\n";

    fn widget(namespace: &str, name: &str, size: &str) -> SourcedObject {
        SourcedObject {
            source: PathBuf::from("widgets.yaml"),
            object: json!({"apiVersion": "example.com/v1", "kind": "Widget",
                "metadata": {"name": name, "namespace": namespace}, "spec": {"size": size}}),
        }
    }

    #[test]
    fn renders_objects_of_watched_namespaces_and_warns_about_bad_values() {
        let env = Env::from_pairs([("POD_NAME", "kso-0")]);
        let config = load_str(CONFIG, &env).unwrap_or_else(|e| panic!("{e:?}"));
        let objects = [widget("prod", "a", "5Gi"), widget("dev", "b", "1Gi"), widget("prod", "c", "huge")];
        let rendered = render(&config, &env, &objects, RenderFormat::Prometheus).unwrap();
        let series: Vec<&str> = rendered.output.lines().filter(|l| l.starts_with("widget_size")).collect();
        assert_eq!(
            series,
            [r#"widget_size_bytes{instance="kso-0",job="kube-state-otel",name="a"} 5.36870912e+09"#]
        );
        assert_eq!(rendered.warnings.len(), 1, "{:?}", rendered.warnings);
        assert!(
            rendered.warnings[0].starts_with("widgets.yaml: Widget prod/c: metric widget.size: "),
            "{:?}",
            rendered.warnings
        );
        assert!(!rendered.output.contains("kube_state_otel"));
    }

    #[test]
    fn says_so_when_no_object_matches() {
        let env = Env::from_pairs([("POD_NAME", "kso-0")]);
        let config = load_str(CONFIG, &env).unwrap_or_else(|e| panic!("{e:?}"));
        let rendered = render(&config, &env, &[], RenderFormat::OtlpJson).unwrap();
        assert_eq!(
            rendered.warnings,
            ["crds/widget: no object of example.com/v1 widgets in the given files"]
        );
        let doc: Value = serde_json::from_str(&rendered.output).unwrap();
        assert!(doc.is_object());
        assert!(!rendered.output.contains("widget.size"), "{}", rendered.output);
    }
}
