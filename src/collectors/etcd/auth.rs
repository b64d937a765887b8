//! etcd's own authentication: a user and where its password is read from. The password is
//! read when a connection is made (so a rotated password file is picked up on the next
//! reconnect) and handed to the etcd client only; it is in no config value, error or log.

use serde::{Deserialize, Serialize};

use crate::config_parts::{join, ConfigIssues, Secret, SecretSource};

/// `clusters[].auth`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtcdAuthConfig {
    /// The etcd user (`etcdctl user add <name>`). It needs read access to the counted and
    /// watched prefixes; Status, alarm and member list need no permission beyond a valid user.
    pub username: String,
    /// Where the user's password is: `{file: /etc/etcd-auth/password}` or `{env: ETCD_PASSWORD}`.
    pub password: SecretSource,
}

impl EtcdAuthConfig {
    pub fn validate(&self, path: &str, issues: &mut ConfigIssues) {
        if self.username.trim().is_empty() {
            issues.push(join(path, "username"), "must not be empty");
        }
        self.password.validate(&join(path, "password"), issues);
    }

    /// The user and its password, read now.
    pub fn credentials(&self) -> Result<(String, Secret), crate::config_parts::SecretError> {
        Ok((self.username.clone(), self.password.read()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_password_source_are_checked() {
        let auth: EtcdAuthConfig =
            serde_saphyr::from_str("{username: ' ', password: {env: KSO_TEST_UNSET_ETCD_PASSWORD}}").unwrap();
        let mut issues = ConfigIssues::new();
        auth.validate("c.auth", &mut issues);
        let got: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            got,
            [
                "c.auth.username: must not be empty",
                "c.auth.password.env: the environment variable KSO_TEST_UNSET_ETCD_PASSWORD is not set or empty",
            ]
        );
        assert!(serde_saphyr::from_str::<EtcdAuthConfig>("{username: a, password: s3cret}").is_err());
    }
}
