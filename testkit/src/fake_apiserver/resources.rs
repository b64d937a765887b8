//! The served resource types: built-ins every cluster has, plus custom resources that tests
//! register and unregister at runtime to simulate a CRD being installed or removed.

/// The verbs discovery lists for a type by default.
const VERBS: [&str; 8] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// One served resource type (a group/version/kind and its plural path segment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSpec {
    /// API group; empty for the core group.
    pub group: String,
    /// API version within the group (`v1`).
    pub version: String,
    /// Kind (`Pod`).
    pub kind: String,
    /// Plural name used in paths (`pods`).
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Whether `status` is a subresource (a CRD's `subresources: {status: {}}`): then writes to
    /// the object leave `status` alone and `.../<name>/status` writes only `status`.
    pub status_subresource: bool,
    /// The verbs discovery lists for it (every verb unless [`ResourceSpec::with_verbs`]).
    pub verbs: Vec<String>,
}

impl ResourceSpec {
    /// A resource served at `group/version` under `plural`.
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        Self {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            namespaced,
            status_subresource: false,
            verbs: VERBS.iter().map(|v| v.to_string()).collect(),
        }
    }

    /// The same resource with the status subresource enabled.
    pub fn with_status_subresource(mut self) -> Self {
        self.status_subresource = true;
        self
    }

    /// The same type with discovery listing only `verbs` (e.g. `["get", "create"]` for a type
    /// that cannot be watched, as some aggregated APIs).
    pub fn with_verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|v| v.to_string()).collect();
        self
    }

    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// kube's description of the type, for an `Api` of dynamic objects.
    pub fn api_resource(&self) -> kube::discovery::ApiResource {
        kube::discovery::ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// Lower-cased kind, as discovery's `singularName`.
    pub fn singular(&self) -> String {
        self.kind.to_lowercase()
    }

    /// Objects are stored per group and plural, so the same objects would be seen through every
    /// version of a group (there is no conversion: only one version per resource is expected).
    pub(crate) fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    /// Field selectors the real server accepts for this resource beyond `metadata.name` and
    /// `metadata.namespace` (which every resource supports).
    pub(crate) fn selectable_fields(&self) -> &'static [&'static str] {
        match (self.group.as_str(), self.plural.as_str()) {
            ("", "pods") => &[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ],
            ("", "nodes") => &["spec.unschedulable"],
            ("", "namespaces") => &["status.phase"],
            _ => &[],
        }
    }

    /// Built-in resources accept strategic merge patches; custom resources answer 415.
    pub(crate) fn is_builtin(&self) -> bool {
        builtin_resources().iter().any(|b| b.group == self.group && b.plural == self.plural)
    }
}

/// Resources a fresh fake cluster serves.
pub(crate) fn builtin_resources() -> Vec<ResourceSpec> {
    vec![
        ResourceSpec::new("", "v1", "Namespace", "namespaces", false),
        ResourceSpec::new("", "v1", "Node", "nodes", false),
        ResourceSpec::new("", "v1", "Pod", "pods", true),
        ResourceSpec::new("coordination.k8s.io", "v1", "Lease", "leases", true),
    ]
}

/// Namespaces a real cluster starts with; objects in namespaced resources need one to exist.
pub(crate) const INITIAL_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];
