//! `sharding` (SPEC §8): which share of the custom resources this replica collects.

use serde::{Deserialize, Serialize};

use super::ConfigIssues;
use crate::collectors::{ordinal, Shard};

/// `sharding: {totalShards: N, shard: K}` or `{totalShards: N, auto: true}`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShardingConfig {
    /// How many shards split the objects.
    #[serde(default)]
    pub total_shards: Option<u32>,
    /// This replica's shard, from 0.
    #[serde(default)]
    pub shard: Option<u32>,
    /// Take the shard from the StatefulSet ordinal at the end of the pod's name.
    #[serde(default)]
    pub auto: bool,
}

impl ShardingConfig {
    /// Records what is wrong without looking at the pod's name.
    pub fn validate(&self, issues: &mut ConfigIssues) {
        let Some(total) = self.total_shards else {
            issues.push("sharding.totalShards", "is required: how many shards split the objects");
            return;
        };
        if total < 1 {
            issues.push("sharding.totalShards", "must be at least 1");
        }
        match (self.shard, self.auto) {
            (Some(_), true) => issues.push("sharding.shard", "give either shard or auto: true, not both"),
            (Some(shard), false) if total >= 1 && shard >= total => issues.push(
                "sharding.shard",
                format!("{shard} is not a shard of {total}; expected 0 to {}", total - 1),
            ),
            (None, false) if total > 1 => issues
                .push("sharding", "say which shard this replica is: shard: <0..totalShards-1> or auto: true"),
            _ => {}
        }
    }

    /// This replica's shard; `name` is its identity (`POD_NAME` or the host name) for `auto`.
    pub fn resolve(&self, name: &str) -> Result<Shard, String> {
        let total = self.total_shards.unwrap_or(1).max(1);
        let index = match (self.auto, self.shard) {
            (true, _) => ordinal(name).ok_or_else(|| {
                format!(
                    "sharding.auto: cannot read a StatefulSet ordinal at the end of the pod name {name:?} \
                     (expected a name like kube-state-otel-2; set POD_NAME or give sharding.shard)"
                )
            })?,
            (false, shard) => shard.unwrap_or(0),
        };
        if index >= total {
            return Err(format!(
                "sharding: this replica is shard {index} (from {name:?}) but totalShards is {total}; \
                 scale the StatefulSet to at most {total} replicas or raise totalShards"
            ));
        }
        Ok(Shard { index, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues_of(yaml: &str) -> Vec<String> {
        let config: ShardingConfig = serde_json::from_str(yaml).unwrap();
        let mut issues = ConfigIssues::new();
        config.validate(&mut issues);
        issues.iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn static_mistakes_are_reported_with_their_path() {
        assert!(issues_of(r#"{"totalShards": 3, "shard": 2}"#).is_empty());
        assert!(issues_of(r#"{"totalShards": 3, "auto": true}"#).is_empty());
        assert!(issues_of(r#"{"totalShards": 1}"#).is_empty());
        assert_eq!(
            issues_of(r#"{"totalShards": 3, "shard": 3}"#),
            ["sharding.shard: 3 is not a shard of 3; expected 0 to 2"]
        );
        assert_eq!(
            issues_of(r#"{"totalShards": 0, "shard": 0}"#),
            ["sharding.totalShards: must be at least 1"]
        );
        assert_eq!(
            issues_of(r#"{"auto": true}"#),
            ["sharding.totalShards: is required: how many shards split the objects"]
        );
        assert_eq!(
            issues_of(r#"{"totalShards": 2, "shard": 1, "auto": true}"#),
            ["sharding.shard: give either shard or auto: true, not both"]
        );
        assert_eq!(issues_of(r#"{"totalShards": 2}"#).len(), 1);
    }

    #[test]
    fn auto_takes_the_ordinal_of_the_pod_name() {
        let auto = ShardingConfig { total_shards: Some(3), shard: None, auto: true };
        assert_eq!(auto.resolve("kube-state-otel-2"), Ok(Shard { index: 2, total: 3 }));
        assert!(auto.resolve("kube-state-otel-3").unwrap_err().contains("totalShards is 3"));
        assert!(auto.resolve("kube-state-otel-7d9f-abcde").unwrap_err().contains("StatefulSet ordinal"));
        let fixed = ShardingConfig { total_shards: Some(3), shard: Some(1), auto: false };
        assert_eq!(fixed.resolve("anything"), Ok(Shard { index: 1, total: 3 }));
    }
}
