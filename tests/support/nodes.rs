//! Harness for the nodes collector: fake API server in, OTLP receiver out.
#![allow(dead_code)]

use std::time::Duration;

use kube_state_otel::collectors::nodes::{self, NodesConfig};
use kube_state_otel::collectors::{CollectorContext, CollectorStatus};
use kube_state_otel::telemetry::SelfMetrics;
use kube_state_otel_testkit::fake_apiserver::FakeApiServer;
use kube_state_otel_testkit::otlp_receiver::{find_metric, points, FoundPoint, OtlpReceiver};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric, Metric};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(20);

pub struct Running {
    pub server: FakeApiServer,
    pub receiver: OtlpReceiver,
    pub status: CollectorStatus,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn start(server: FakeApiServer, config: NodesConfig) -> Running {
        let receiver = OtlpReceiver::start().await;
        let otlp =
            kube_state_otel::config::OtlpConfig { endpoint: receiver.grpc_endpoint(), ..Default::default() };
        let exporter = super::exporter_support::exporter(&otlp, &[], 5);
        let registry = exporter.registry().clone();
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move { exporter.run(Duration::from_millis(200), stop).await });
        let status = CollectorStatus::default();
        let ctx = CollectorContext {
            name: "nodes".into(),
            cancel: cancel.clone(),
            registry,
            status: status.clone(),
            self_metrics: SelfMetrics::noop(),
            kube: Some(server.client()),
            shard: None,
        };
        let task = tokio::spawn(nodes::run(config, ctx));
        Running { server, receiver, status, cancel, task }
    }

    /// Waits until the latest export satisfies `check`; returns it.
    pub async fn wait_until(&self, what: &str, check: impl Fn(&Export) -> bool) -> Export {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let latest = self.receiver.requests().pop().map(Export);
            if let Some(export) = latest {
                if check(&export) {
                    return export;
                }
                if tokio::time::Instant::now() > deadline {
                    panic!("timed out waiting for {what}; latest export:\n{}", export.dump());
                }
            } else if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for {what}; nothing exported");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn apply(&self, object: Value) {
        self.server.apply(object).unwrap();
    }

    pub async fn stop(self) {
        self.cancel.cancel();
        self.task.await.unwrap();
    }
}

/// One ExportMetricsServiceRequest.
pub struct Export(pub ExportMetricsServiceRequest);

impl Export {
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        find_metric(&self.0, name)
    }

    /// Points of `name` whose attributes include every pair of `wanted`.
    pub fn find(&self, name: &str, wanted: &[(&str, &str)]) -> Vec<FoundPoint> {
        let Some(m) = self.metric(name) else { return Vec::new() };
        points(m)
            .into_iter()
            .filter(|p| wanted.iter().all(|(k, v)| p.attributes.iter().any(|(pk, pv)| pk == k && pv == v)))
            .collect()
    }

    /// The value of the single point matching, `None` when there is none.
    pub fn value(&self, name: &str, wanted: &[(&str, &str)]) -> Option<f64> {
        let found = self.find(name, wanted);
        assert!(found.len() <= 1, "{name} {wanted:?} matches {} points", found.len());
        found.first().map(|p| p.value)
    }

    /// Every point that names this node.
    pub fn points_of_node(&self, node: &str) -> usize {
        self.0
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| {
                points(m)
                    .iter()
                    .filter(|p| p.attributes.iter().any(|(k, v)| k == "k8s.node.name" && v == node))
                    .count()
            })
            .sum()
    }

    /// `(unit, "gauge" | "updown" | "counter")` of a metric.
    pub fn shape(&self, name: &str) -> (String, &'static str) {
        let m = self.metric(name).unwrap_or_else(|| panic!("{name} not exported"));
        let kind = match &m.data {
            Some(metric::Data::Gauge(_)) => "gauge",
            Some(metric::Data::Sum(s)) if s.is_monotonic => "counter",
            Some(metric::Data::Sum(_)) => "updown",
            _ => "other",
        };
        (m.unit.clone(), kind)
    }

    pub fn dump(&self) -> String {
        let mut out = String::new();
        for r in &self.0.resource_metrics {
            for s in &r.scope_metrics {
                for m in &s.metrics {
                    for p in points(m) {
                        out.push_str(&format!("{} {:?} = {}\n", m.name, p.attributes, p.value));
                    }
                }
            }
        }
        out
    }
}

pub fn node(name: &str, uid: &str, ready: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": uid, "labels": {"node-role.kubernetes.io/control-plane": ""}},
        "spec": {},
        "status": {
            "allocatable": {"cpu": "3800m", "memory": "15Gi", "ephemeral-storage": "100M", "pods": "110"},
            "capacity": {"cpu": "4", "memory": "16Gi", "ephemeral-storage": "1e3", "pods": "110"},
            "conditions": [
                {"type": "Ready", "status": ready},
                {"type": "MemoryPressure", "status": "False"},
                {"type": "DiskPressure", "status": "Unknown"}
            ],
            "addresses": [{"type": "InternalIP", "address": "10.1.2.3"}],
            "nodeInfo": {"kubeletVersion": "v1.35.0", "containerRuntimeVersion": "containerd://2.1.0",
                "osImage": "Debian GNU/Linux 13 (trixie)", "kernelVersion": "6.12.0-1-amd64",
                "architecture": "amd64", "bootID": "b", "machineID": "m", "systemUUID": "s",
                "kubeProxyVersion": "", "operatingSystem": "linux"}
        }
    })
}

pub fn pod(name: &str, node: Option<&str>, phase: &str, cpu: &str, memory: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
        "spec": {"nodeName": node, "containers": [
            {"name": "c", "image": "x", "resources": {
                "requests": {"cpu": cpu, "memory": memory},
                "limits": {"cpu": "2", "memory": "1Gi"}}}
        ]},
        "status": {"phase": phase}
    })
}
