//! What every request of one export shares besides its metrics: the resource, the scope and
//! the timestamps.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

/// The instrumentation scope of every metric the agent sends (its own and the collectors').
pub const SCOPE_NAME: &str = "kube-state-otel";

/// Timestamps of one export: cumulative series' start (the agent's start) and the read time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportTimes {
    pub start_unix_nano: u64,
    pub now_unix_nano: u64,
}

impl ExportTimes {
    /// Series started at `start_unix_nano`, read now.
    pub fn now(start_unix_nano: u64) -> Self {
        ExportTimes { start_unix_nano, now_unix_nano: unix_nano(SystemTime::now()) }
    }
}

/// Nanoseconds since the Unix epoch (0 before it).
pub fn unix_nano(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// The resource and scope, as messages (for whole requests) and encoded once (for chunks).
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    resource: Resource,
    scope: InstrumentationScope,
    resource_bytes: Vec<u8>,
    scope_bytes: Vec<u8>,
}

impl Envelope {
    /// The agent's resource with these attributes, under the agent's scope.
    pub fn new(attributes: &BTreeMap<String, String>) -> Self {
        let attributes = attributes
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.clone())) }),
                ..Default::default()
            })
            .collect();
        let resource = Resource { attributes, ..Default::default() };
        let scope = InstrumentationScope { name: SCOPE_NAME.into(), ..Default::default() };
        Envelope {
            resource_bytes: resource.encode_to_vec(),
            scope_bytes: scope.encode_to_vec(),
            resource,
            scope,
        }
    }

    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    pub fn scope(&self) -> &InstrumentationScope {
        &self.scope
    }

    pub fn resource_bytes(&self) -> &[u8] {
        &self.resource_bytes
    }

    pub fn scope_bytes(&self) -> &[u8] {
        &self.scope_bytes
    }
}
