//! How one object is held: pre-serialized JSON (lists and watch events are assembled from the
//! bytes without re-encoding, and 100k objects stay compact) plus the labels and selectable
//! fields extracted once at write time so selectors never parse the bytes.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::Value;

use super::resources::ResourceSpec;

/// An object as stored at one resourceVersion.
#[derive(Debug)]
pub(crate) struct StoredObject {
    /// The object's JSON, `metadata.resourceVersion` included.
    pub bytes: Bytes,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Values of the selectable fields (`metadata.name`, `metadata.namespace`, ...).
    pub fields: BTreeMap<String, String>,
}

impl StoredObject {
    /// Serializes `value` and extracts what selectors need.
    pub fn new(value: &Value, resource: &ResourceSpec) -> Self {
        let labels = value
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        let mut fields = BTreeMap::new();
        let selectable = ["metadata.name", "metadata.namespace"]
            .into_iter()
            .chain(resource.selectable_fields().iter().copied());
        for field in selectable {
            let pointer = format!("/{}", field.replace('.', "/"));
            let text = match value.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => continue,
                Some(other) => other.to_string(),
            };
            fields.insert(field.to_string(), text);
        }
        Self { bytes: Bytes::from(serde_json::to_vec(value).unwrap_or_default()), labels, fields }
    }

    /// The object decoded again, for writes that start from the stored state. Without
    /// serde_json's nesting limit: the real API server stores objects nested deeper than 128
    /// levels, and an update of one keeps its `uid` like any other.
    pub fn to_value(&self) -> Value {
        let mut json = serde_json::Deserializer::from_slice(&self.bytes);
        json.disable_recursion_limit();
        serde::Deserialize::deserialize(&mut json).unwrap_or(Value::Null)
    }
}

/// The current time as the API server formats `metav1.Time` (RFC 3339, whole seconds, UTC).
pub(crate) fn now_timestamp() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    let whole = k8s_openapi::jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    whole.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A random version-4 UUID string, the format of `metadata.uid`.
pub(crate) fn random_uid() -> String {
    // Version nibble (hex digit 12) is 4, variant bits (top of hex digit 16) are 10.
    let random: u128 = rand::random();
    let bits = (random & !(0xf_u128 << 76) & !(0x3_u128 << 62)) | (0x4_u128 << 76) | (0x2_u128 << 62);
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Five random lower-case alphanumerics, appended to `metadata.generateName`.
pub(crate) fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

/// Sets `metadata.<key>` on an object, creating `metadata` if missing.
pub(crate) fn set_meta(object: &mut Value, key: &str, value: Value) {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = Value::Object(Default::default());
    }
    object["metadata"][key] = value;
}

/// `metadata.<key>` as a string, if present.
pub(crate) fn meta_str<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get("metadata")?.get(key)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_a_version_4_uuid() {
        let uid = random_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
        assert!(matches!(&uid[19..20], "8" | "9" | "a" | "b"), "{uid}");
    }

    #[test]
    fn timestamp_has_whole_seconds() {
        let ts = now_timestamp();
        assert_eq!(ts.len(), 20, "{ts}");
        assert!(ts.ends_with('Z'));
    }
}
