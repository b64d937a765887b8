//! List requests: selectors, `limit`/`continue` pagination over a consistent snapshot (every
//! page shows the collection at the first page's revision, as etcd-backed lists do), and
//! `resourceVersion`/`resourceVersionMatch` semantics.

use std::sync::Arc;

use serde_json::{json, Value};

use super::object::StoredObject;
use super::resources::ResourceSpec;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{ObjectKey, Store};

/// Selectors shared by lists and watches.
#[derive(Debug, Default)]
pub(crate) struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn parse(
        labels: Option<&str>,
        fields: Option<&str>,
        resource: &ResourceSpec,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            labels: LabelSelector::parse(labels.unwrap_or_default())?,
            fields: FieldSelector::parse(fields.unwrap_or_default(), resource.selectable_fields())?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    pub fn matches(&self, object: &StoredObject) -> bool {
        self.labels.matches(&object.labels) && self.fields.matches(&object.fields)
    }
}

/// The list-specific query parameters.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
}

/// Encodes where the next page starts; opaque to clients like the real (base64) token.
fn encode_continue(rv: u64, key: &ObjectKey, resource: &ResourceSpec) -> String {
    let start =
        if resource.namespaced { format!("{}/{}\u{0}", key.0, key.1) } else { format!("{}\u{0}", key.1) };
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).to_string();
    token.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_continue(token: &str, resource: &ResourceSpec) -> Result<(u64, ObjectKey), ApiError> {
    let invalid = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| token.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    let value: Value = serde_json::from_slice(&bytes.ok_or_else(invalid)?).map_err(|_| invalid())?;
    let rv = value["rv"].as_u64().ok_or_else(invalid)?;
    let start = value["start"].as_str().ok_or_else(invalid)?.trim_end_matches('\u{0}');
    let key = if resource.namespaced {
        let (ns, name) = start.split_once('/').ok_or_else(invalid)?;
        (ns.to_string(), name.to_string())
    } else {
        (String::new(), start.to_string())
    };
    Ok((rv, key))
}

/// The revision a list reads at, per `resourceVersion` and `resourceVersionMatch`.
fn read_revision(store: &Store, query: &ListQuery) -> Result<u64, ApiError> {
    let requested = query.resource_version.as_deref().filter(|rv| !rv.is_empty() && *rv != "0");
    let Some(requested) = requested else { return Ok(store.rv) };
    let rv: u64 = requested
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {requested}")))?;
    if rv > store.rv {
        return Err(ApiError::too_large_resource_version(rv, store.rv));
    }
    if query.resource_version_match.as_deref() == Some("Exact") {
        if rv < store.compacted_rv {
            return Err(ApiError::too_old(rv, store.compacted_rv));
        }
        return Ok(rv);
    }
    Ok(store.rv)
}

/// Serves one list page as the `<Kind>List` JSON body.
pub(crate) fn list(
    store: &Store,
    resource: &ResourceSpec,
    namespace: Option<&str>,
    selectors: &Selectors,
    query: &ListQuery,
) -> Result<Vec<u8>, ApiError> {
    let (at_rv, after) = match &query.continue_token {
        Some(token) => {
            let (rv, key) = decode_continue(token, resource)?;
            (rv, Some(key))
        }
        None => (read_revision(store, query)?, None),
    };
    let limit = query.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let count_remaining = selectors.is_empty();
    let mut items: Vec<Arc<StoredObject>> = Vec::new();
    let mut last_key: Option<ObjectKey> = None;
    let mut remaining = 0usize;
    let visited = store.visit_at(resource, at_rv, after.as_ref(), namespace, |key, object| {
        if !selectors.matches(object) {
            return true;
        }
        if items.len() < limit {
            items.push(object.clone());
            last_key = Some(key.clone());
            return true;
        }
        remaining += 1;
        count_remaining
    });
    if visited.is_none() {
        return Err(ApiError::expired(
            "The provided continue parameter is too old to display a consistent list result. \
             You can start a new list without the continue parameter, or use the continue token \
             in this response to retrieve the remainder of the results. Continuing with the \
             provided token results in an inconsistent list - objects that were created, modified, \
             or deleted between the time the first chunk was returned and now may show up in the list.",
        ));
    }
    let mut metadata = json!({"resourceVersion": at_rv.to_string()});
    if remaining > 0 {
        if let Some(key) = &last_key {
            metadata["continue"] = json!(encode_continue(at_rv, key, resource));
        }
        if count_remaining {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    let mut body = Vec::with_capacity(128 + items.iter().map(|o| o.bytes.len() + 1).sum::<usize>());
    body.extend_from_slice(
        format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
            resource.kind,
            resource.api_version(),
            metadata
        )
        .as_bytes(),
    );
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&item.bytes);
    }
    body.extend_from_slice(b"]}");
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trips_for_both_scopes() {
        for namespaced in [true, false] {
            let resource = ResourceSpec::new("example.com", "v1", "Widget", "widgets", namespaced);
            let key = if namespaced {
                ("ns".to_string(), "a".to_string())
            } else {
                (String::new(), "a".to_string())
            };
            let token = encode_continue(42, &key, &resource);
            assert_eq!(decode_continue(&token, &resource).unwrap(), (42, key));
        }
        let resource = ResourceSpec::new("", "v1", "Pod", "pods", true);
        assert_eq!(decode_continue("zz", &resource).unwrap_err().code, 400);
    }
}
