//! The parts of an object one resource reads, so that its watch decodes only those.
//!
//! Every path a resource's metrics, labels and fields read is known once compiled. The watch
//! keeps of each listed or watched object only the members on those paths ([`super::watched`],
//! as JSON text until the object is applied); everything else is skipped by the parser without
//! being built. Lists are transparent: a path through `conditions[type=Ready]` keeps every element,
//! each with the members the rest of the path (and the filter's field) needs. Where a path ends
//! the whole value is kept (of a `conditions` list, each condition's type, status and reason),
//! so extraction sees exactly what it would see in the full object.
//! What cannot be told in advance — a CEL expression reading `object`, a kube-state-metrics
//! document — keeps the whole object.

use std::collections::HashMap;

use super::path::{Path, Step};
use super::plan::CompiledResource;
use super::reads::{object_paths, Reads};

/// What to keep of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Needed {
    /// The whole value.
    All,
    /// Of an object, only these members (each with what to keep of it); of a list, every
    /// element kept the same way; a scalar as it is.
    Members(HashMap<String, Needed, foldhash::fast::RandomState>),
}

/// Members every watched object keeps: what the watch itself reads (the key, the namespace
/// checks, the resource version kube resumes from) and what tells its type.
const ALWAYS: [&[&str]; 6] = [
    &["apiVersion"],
    &["kind"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "uid"],
    &["metadata", "resourceVersion"],
];

impl Needed {
    /// Nothing yet.
    pub fn nothing() -> Needed {
        Needed::Members(HashMap::default())
    }

    /// What the watch of `resource` must decode of each object.
    pub fn of_resource(resource: &CompiledResource) -> Needed {
        let mut needed = Needed::nothing();
        for steps in ALWAYS {
            needed.add(&steps.iter().map(|name| Step::Member(name)).collect::<Vec<_>>());
        }
        match object_paths(resource) {
            Reads::Whole => Needed::All,
            Reads::Paths(reads) => {
                for read in reads {
                    let steps: Vec<Step> = read.path.steps().collect();
                    match read.only {
                        None => needed.add(&steps),
                        Some(members) => {
                            for member in members {
                                needed.add(&[&steps[..], &[Step::Member(member)]].concat());
                            }
                        }
                    }
                }
                needed
            }
        }
    }

    /// Keeps what `path` reads.
    pub fn add_path(&mut self, path: &Path) {
        self.add(&path.steps().collect::<Vec<_>>());
    }

    fn add(&mut self, steps: &[Step<'_>]) {
        let Needed::Members(members) = self else { return };
        match steps.split_first() {
            None => *self = Needed::All,
            Some((Step::Member(name), rest)) => {
                members.entry((*name).to_owned()).or_insert_with(Needed::nothing).add(rest)
            }
            // A list's elements are kept like the list itself.
            Some((Step::Element, rest)) => self.add(rest),
            Some((Step::ElementWhere(field), rest)) => {
                self.add(&[Step::Member(field)]);
                self.add(rest);
            }
        }
    }

    /// What to keep of member `name`; `None` when it is skipped.
    pub fn member(&self, name: &str) -> Option<&Needed> {
        match self {
            Needed::All => Some(self),
            Needed::Members(members) => members.get(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needed(paths: &[&str]) -> Needed {
        let mut needed = Needed::nothing();
        for path in paths {
            needed.add_path(&Path::compile(path).unwrap());
        }
        needed
    }

    #[test]
    fn paths_keep_their_members_and_a_path_end_keeps_everything_below() {
        let n = needed(&["status.phase", "status.conditions[type=Ready].status", "spec.items[-1]"]);
        let status = n.member("status").unwrap();
        assert_eq!(status.member("phase"), Some(&Needed::All));
        let conditions = status.member("conditions").unwrap();
        assert_eq!(conditions.member("type"), Some(&Needed::All), "the filter's field");
        assert_eq!(conditions.member("status"), Some(&Needed::All));
        assert_eq!(conditions.member("message"), None);
        assert_eq!(n.member("spec").unwrap().member("items"), Some(&Needed::All));
        assert_eq!(n.member("metadata"), None);
    }

    #[test]
    fn a_shorter_path_absorbs_longer_ones() {
        assert_eq!(needed(&["status.a.b", "status"]), needed(&["status"]));
        assert_eq!(needed(&["status", "status.a.b"]), needed(&["status"]));
    }
}
