//! `kube-state-otel render`: the metrics a config yields for objects read from files, with no
//! cluster and no network. The objects go through the same extraction, series tables and
//! snapshot as in `run`; the snapshot is taken as one request and printed instead of sent.
//!
//! Each collector that works on objects fills its tables through its plan (`render`).

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::config::{Env, Plan};
use crate::export::{self, Envelope, ExportTimes, Snapshot};
use crate::exposition;
use crate::objects::{ObjectsError, SourcedObject};
use crate::series::MetricsRegistry;

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
    #[error("cannot encode OTLP/JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The metrics `plan`'s collectors produce for `objects`, in `format`.
pub fn render(
    plan: &Plan,
    env: &Env,
    objects: &[SourcedObject],
    format: RenderFormat,
) -> Result<Rendered, RenderError> {
    let attributes = export::resource::attributes(&plan.config, env, None);
    let registry = MetricsRegistry::new();
    let mut warnings = Vec::new();
    let mut tables = Vec::new();
    let mut on_objects = false;
    for collector in &plan.collectors {
        if let Some(made) = collector.render(objects, &registry, &mut warnings) {
            tables.extend(made);
            on_objects = true;
        }
    }
    if !on_objects {
        warnings.push("no enabled collector works on objects (custom resources or nodes)".into());
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

/// Loads and compiles the config at `path`, with `check`'s errors.
pub fn load_for_render(path: &Path, env: &Env) -> Result<Plan, super::CheckError> {
    super::check(path, env).map(|(plan, _)| plan)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::{json, Value};

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
