//! Secrets named by the config (an etcd password, the `/metrics` bearer token): the config
//! holds only where the secret is, a file or an environment variable, never the secret itself,
//! so `check`, logs and the serialized config cannot show it.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{join, ConfigIssues};

/// Where a secret is read from: exactly one of `file` and `env`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSource {
    /// File holding the secret (a mounted Secret key); read again each time it is needed, so a
    /// rotated secret is picked up. One trailing newline is ignored.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Environment variable holding the secret.
    #[serde(default)]
    pub env: Option<String>,
}

/// A secret's value. Its `Debug` form is redacted, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that sends or compares it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why a secret could not be read; the message names the file or variable, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the secret file {}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("the secret file {} is empty", path.display())]
    EmptyFile { path: PathBuf },
    #[error("the environment variable {name} is not set or empty")]
    Env { name: String },
    #[error("set exactly one of file and env")]
    Source,
}

impl SecretSource {
    /// Reads the secret now.
    pub fn read(&self) -> Result<Secret, SecretError> {
        match (&self.file, &self.env) {
            (Some(path), None) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| SecretError::File { path: path.clone(), source })?;
                let value = text.strip_suffix('\n').unwrap_or(&text);
                let value = value.strip_suffix('\r').unwrap_or(value);
                if value.is_empty() {
                    return Err(SecretError::EmptyFile { path: path.clone() });
                }
                Ok(Secret(value.to_owned()))
            }
            (None, Some(name)) => match std::env::var(name) {
                Ok(value) if !value.is_empty() => Ok(Secret(value)),
                _ => Err(SecretError::Env { name: name.clone() }),
            },
            _ => Err(SecretError::Source),
        }
    }

    /// Records a source that names both or neither place, or whose secret cannot be read now.
    pub fn validate(&self, path: &str, issues: &mut ConfigIssues) {
        match (&self.file, &self.env) {
            (Some(_), Some(_)) => issues.push(path, "set either file or env, not both"),
            (None, None) => {
                issues.push(path, "set file (a file holding the secret) or env (a variable holding it)")
            }
            (Some(_), None) => {
                if let Err(e) = self.read() {
                    issues.push(join(path, "file"), e);
                }
            }
            (None, Some(name)) if name.is_empty() => issues.push(join(path, "env"), "must not be empty"),
            (None, Some(_)) => {
                if let Err(e) = self.read() {
                    issues.push(join(path, "env"), e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(source: &SecretSource) -> Vec<String> {
        let mut issues = ConfigIssues::new();
        source.validate("a.password", &mut issues);
        issues.iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn a_file_secret_is_read_without_its_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password");
        std::fs::write(&path, "s3cret\n").unwrap();
        let source = SecretSource { file: Some(path.clone()), env: None };
        assert_eq!(source.read().unwrap().expose(), "s3cret");
        assert!(messages(&source).is_empty());
        assert_eq!(format!("{:?}", source.read().unwrap()), "Secret(<redacted>)");
        std::fs::write(&path, "\n").unwrap();
        assert_eq!(
            messages(&source),
            [format!("a.password.file: the secret file {} is empty", path.display())]
        );
    }

    #[test]
    fn bad_sources_are_reported_with_their_path() {
        let both = SecretSource { file: Some("/x".into()), env: Some("X".into()) };
        assert_eq!(messages(&both), ["a.password: set either file or env, not both"]);
        let neither = SecretSource { file: None, env: None };
        assert!(messages(&neither)[0].starts_with("a.password: set file"));
        let missing = SecretSource { file: Some("/nonexistent/p".into()), env: None };
        assert!(messages(&missing)[0]
            .starts_with("a.password.file: cannot read the secret file /nonexistent/p: No such file"));
        let unset = SecretSource { file: None, env: Some("KSO_TEST_UNSET_SECRET_VARIABLE".into()) };
        assert_eq!(
            messages(&unset),
            ["a.password.env: the environment variable KSO_TEST_UNSET_SECRET_VARIABLE is not set or empty"]
        );
    }
}
