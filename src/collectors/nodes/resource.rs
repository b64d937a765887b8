//! The collector's own object types stand in for k8s-openapi's in kube's `Api` and `watcher`:
//! kube implements its `Resource` for any k8s-openapi `Resource` with an `ObjectMeta`, so each
//! own type borrows the identity (group, version, kind, plural, scope) of the type it replaces.

/// Implements k8s-openapi's `Resource` and `Metadata` for `$own` (with a `metadata: ObjectMeta`
/// field) as the resource `$typed`.
macro_rules! resource_as {
    ($own:ty, $typed:ty) => {
        impl k8s_openapi::Resource for $own {
            const API_VERSION: &'static str = <$typed as k8s_openapi::Resource>::API_VERSION;
            const GROUP: &'static str = <$typed as k8s_openapi::Resource>::GROUP;
            const KIND: &'static str = <$typed as k8s_openapi::Resource>::KIND;
            const VERSION: &'static str = <$typed as k8s_openapi::Resource>::VERSION;
            const URL_PATH_SEGMENT: &'static str = <$typed as k8s_openapi::Resource>::URL_PATH_SEGMENT;
            type Scope = <$typed as k8s_openapi::Resource>::Scope;
        }

        impl k8s_openapi::Metadata for $own {
            type Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

            fn metadata(&self) -> &Self::Ty {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut Self::Ty {
                &mut self.metadata
            }
        }
    };
}

pub(super) use resource_as;
