//! Why a member poll failed, as the `error.type` of `etcd.member.poll.failures`, and the
//! counts per reason a member keeps.

use super::client::{error_text, tls_hint, EtcdError};
use super::config::EtcdTlsConfig;

/// The reason a poll of a member failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureReason {
    /// No answer within `timeout` (a frozen or overloaded member, packets dropped).
    Timeout,
    /// The connection was refused: nothing listens on the port (member stopped).
    Refused,
    /// TLS failed: unreadable files, a certificate not trusted, a client certificate refused.
    Tls,
    /// etcd's authentication failed: wrong user or password, auth not enabled, no permission.
    Auth,
    /// The endpoint's host name did not resolve.
    Dns,
    /// Anything else (connection reset, no route, an unexpected server error).
    Other,
}

impl FailureReason {
    pub const ALL: [FailureReason; 6] = [
        FailureReason::Timeout,
        FailureReason::Refused,
        FailureReason::Tls,
        FailureReason::Auth,
        FailureReason::Dns,
        FailureReason::Other,
    ];

    /// The value of `error.type`.
    pub fn name(self) -> &'static str {
        match self {
            FailureReason::Timeout => "timeout",
            FailureReason::Refused => "refused",
            FailureReason::Tls => "tls",
            FailureReason::Auth => "auth",
            FailureReason::Dns => "dns",
            FailureReason::Other => "other",
        }
    }

    /// Classifies `error`; `tls` tells a connection closed by a TLS member (most likely over
    /// the client certificate) from a plain reset.
    pub fn of(error: &EtcdError, tls: Option<&EtcdTlsConfig>) -> FailureReason {
        let source = match error {
            EtcdError::Timeout { .. } => return FailureReason::Timeout,
            EtcdError::TlsFile { .. } => return FailureReason::Tls,
            EtcdError::Password { .. } => return FailureReason::Auth,
            EtcdError::Resolve { .. } => return FailureReason::Dns,
            EtcdError::Connect { source, .. } | EtcdError::Request { source, .. } => source,
            EtcdError::Version(_)
            | EtcdError::WatchCanceled { .. }
            | EtcdError::WatchEnded
            | EtcdError::NotConnected => return FailureReason::Other,
        };
        if let etcd_client::Error::GRpcStatus(status) = source {
            match status.code() {
                tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => return FailureReason::Auth,
                tonic::Code::DeadlineExceeded => return FailureReason::Timeout,
                _ => {}
            }
        }
        let text = error_text(source).to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
        if has(&["connection refused"]) {
            FailureReason::Refused
        } else if has(&["authentication", "auth token", "user name", "permission denied"]) {
            FailureReason::Auth
        } else if has(&["dns error", "failed to lookup address", "name or service not known"]) {
            FailureReason::Dns
        } else if has(&["certificate", "tls", "handshake"]) || tls_hint(tls, error).is_some() {
            FailureReason::Tls
        } else if has(&["timed out", "deadline"]) {
            FailureReason::Timeout
        } else {
            FailureReason::Other
        }
    }
}

/// Failed polls of one member by reason, since the agent started polling it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureCounts([u64; FailureReason::ALL.len()]);

impl FailureCounts {
    pub fn count(&mut self, reason: FailureReason) {
        self.0[reason as usize] += 1;
    }

    /// Every reason with its count, zeros included (so a first failure is an increase).
    pub fn all(&self) -> impl Iterator<Item = (FailureReason, u64)> + '_ {
        FailureReason::ALL.into_iter().map(|r| (r, self.0[r as usize]))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn status(status: tonic::Status) -> EtcdError {
        EtcdError::Request { what: "status", source: etcd_client::Error::GRpcStatus(status) }
    }

    #[test]
    fn errors_are_classified_by_what_went_wrong() {
        let ca_only = EtcdTlsConfig { ca_file: "ca".into(), cert_file: None, key_file: None };
        let cases = [
            (EtcdError::Timeout { what: "status", after: Duration::from_secs(1) }, None, "timeout"),
            (
                status(tonic::Status::unavailable("tcp connect error: Connection refused (os error 111)")),
                None,
                "refused",
            ),
            (
                status(tonic::Status::invalid_argument(
                    "etcdserver: authentication failed, invalid user ID or password",
                )),
                None,
                "auth",
            ),
            (status(tonic::Status::unauthenticated("etcdserver: invalid auth token")), None, "auth"),
            (
                status(tonic::Status::unavailable("dns error: failed to lookup address information")),
                None,
                "dns",
            ),
            (status(tonic::Status::unavailable("invalid peer certificate: UnknownIssuer")), None, "tls"),
            (status(tonic::Status::unavailable("connection closed")), Some(&ca_only), "tls"),
            (status(tonic::Status::unavailable("connection closed")), None, "other"),
            (status(tonic::Status::deadline_exceeded("")), None, "timeout"),
            (EtcdError::NotConnected, None, "other"),
        ];
        for (error, tls, want) in cases {
            assert_eq!(FailureReason::of(&error, tls).name(), want, "{error}");
        }
    }

    #[test]
    fn counts_report_every_reason() {
        let mut counts = FailureCounts::default();
        counts.count(FailureReason::Refused);
        counts.count(FailureReason::Refused);
        counts.count(FailureReason::Auth);
        let got: Vec<(&str, u64)> = counts.all().map(|(r, n)| (r.name(), n)).collect();
        assert_eq!(got, [("timeout", 0), ("refused", 2), ("tls", 0), ("auth", 1), ("dns", 0), ("other", 0)]);
    }
}
