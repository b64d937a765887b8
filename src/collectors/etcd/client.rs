//! Connections to single etcd members and the errors of talking to them.
//!
//! Each client holds exactly one endpoint: a client over several endpoints load-balances and
//! would answer for a dead member through a live one.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use etcd_client::{Certificate, Client, ConnectOptions, Identity, TlsOptions};

use super::auth::EtcdAuthConfig;
use super::config::EtcdTlsConfig;
use crate::config_parts::SecretError;

/// Why a member (or a watch) could not be reached or answered.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    #[error("cannot read {what} {}: {source}", path.display())]
    TlsFile { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("cannot read the password of etcd user {user}: {source}")]
    Password { user: String, source: SecretError },
    #[error("cannot resolve {host}: {source}")]
    Resolve { host: String, source: std::io::Error },
    #[error("cannot set up a client for {endpoint}: {}", error_text(source))]
    Connect { endpoint: String, source: etcd_client::Error },
    #[error("{what} failed: {}", error_text(source))]
    Request { what: &'static str, source: etcd_client::Error },
    #[error("{what}: no answer within {}", humantime::format_duration(*after))]
    Timeout { what: &'static str, after: Duration },
    #[error("version request failed: {0}")]
    Version(String),
    #[error("watch canceled by the server: {reason}")]
    WatchCanceled { reason: String },
    #[error("watch stream ended")]
    WatchEnded,
    #[error("not connected")]
    NotConnected,
}

/// How long-lived the connection is meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Short requests every interval.
    Poll,
    /// A watch stream: HTTP/2 keep-alives notice a dead peer, and the member cancels the watch
    /// when it loses its leader (so events are not silently missed).
    Watch,
}

/// How a cluster's members are reached: TLS and etcd's own authentication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Access {
    pub tls: Option<EtcdTlsConfig>,
    pub auth: Option<EtcdAuthConfig>,
}

/// A client for one member. Without `auth` connections are made lazily, so this fails only on
/// bad settings (unreadable or invalid TLS files, an unparsable URL); with `auth` the client
/// authenticates at once, under `timeout`, and fails on a wrong user or password.
pub async fn connect(
    endpoint: &str,
    access: &Access,
    timeout: Duration,
    purpose: Purpose,
) -> Result<Client, EtcdError> {
    let mut options = ConnectOptions::new().with_connect_timeout(timeout);
    if let Some(tls) = &access.tls {
        options = options.with_tls(tls_options(tls)?);
    }
    if let Some(auth) = &access.auth {
        let (user, password) = auth
            .credentials()
            .map_err(|source| EtcdError::Password { user: auth.username.clone(), source })?;
        options = options.with_user(user, password.expose());
    }
    if purpose == Purpose::Watch {
        options = options
            .with_keep_alive(Duration::from_secs(10), timeout)
            .with_keep_alive_while_idle(true)
            .with_require_leader(true);
    }
    match tokio::time::timeout(timeout, Client::connect([endpoint], Some(options))).await {
        Ok(client) => client.map_err(|source| EtcdError::Connect { endpoint: endpoint.to_owned(), source }),
        Err(_) => Err(EtcdError::Timeout { what: "authentication", after: timeout }),
    }
}

fn tls_options(tls: &EtcdTlsConfig) -> Result<TlsOptions, EtcdError> {
    let mut options =
        TlsOptions::new().ca_certificate(Certificate::from_pem(read_tls_file("CA file", &tls.ca_file)?));
    if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
        options = options
            .identity(Identity::from_pem(read_tls_file("certificate", cert)?, read_tls_file("key", key)?));
    }
    Ok(options)
}

/// Reads a TLS file (again at every new connection, so rotated files are picked up).
pub fn read_tls_file(what: &'static str, path: &Path) -> Result<Vec<u8>, EtcdError> {
    std::fs::read(path).map_err(|source| EtcdError::TlsFile { what, path: path.to_owned(), source })
}

/// Runs one request under the timeout.
pub async fn call<T>(
    what: &'static str,
    timeout: Duration,
    request: impl Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, EtcdError> {
    match tokio::time::timeout(timeout, request).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(EtcdError::Request { what, source }),
        Err(_) => Err(EtcdError::Timeout { what, after: timeout }),
    }
}

/// How a connection closed by the peer shows up, depending on when the client notices.
const CLOSED: [&str; 4] = ["connection closed", "broken pipe", "connection reset", "stream closed"];

/// Why a TLS member may have closed the connection. With TLS 1.3 a member that rejects (or
/// misses) the client certificate does so after the handshake, and the client only sees the
/// connection close; the alert that says why never reaches the gRPC layer.
pub fn tls_hint(tls: Option<&EtcdTlsConfig>, error: &EtcdError) -> Option<&'static str> {
    let tls = tls?;
    let EtcdError::Request { source, .. } = error else { return None };
    let text = error_text(source).to_lowercase();
    if text.contains("tcp connect error") || !CLOSED.iter().any(|closed| text.contains(closed)) {
        return None;
    }
    Some(if tls.cert_file.is_none() {
        "the member closed the TLS connection: it probably requires a client certificate \
         (tls.certFile and tls.keyFile are not set)"
    } else {
        "the member closed the TLS connection: it probably rejected the client certificate \
         (is it signed by a CA the member trusts, and valid for client authentication?)"
    })
}

/// An etcd client error and its causes on one line, for status details. tonic's own text for a
/// gRPC status embeds the Debug form of its source; the message and the Display form of each
/// cause (connection refused, certificate required) read better.
pub fn error_text(error: &etcd_client::Error) -> String {
    match error {
        etcd_client::Error::GRpcStatus(status) => {
            let head = match status.message() {
                "" => format!("{:?}", status.code()),
                message => format!("{message} ({:?})", status.code()),
            };
            chain(head, std::error::Error::source(status))
        }
        other => chain(other.to_string(), std::error::Error::source(other)),
    }
}

/// `text` followed by the Display form of each cause not already in it.
pub fn chain(mut text: String, mut source: Option<&(dyn std::error::Error + 'static)>) -> String {
    while let Some(e) = source {
        let part = e.to_string();
        if !part.is_empty() && !text.contains(&part) && part != "transport error" {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_reads_like_a_sentence() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let status = tonic::Status::from_error(Box::new(io));
        let text = error_text(&etcd_client::Error::GRpcStatus(status));
        assert_eq!(text, "Connection refused (Unknown)");
        let status = tonic::Status::unavailable("tcp connect error");
        assert_eq!(error_text(&etcd_client::Error::GRpcStatus(status)), "tcp connect error (Unavailable)");
    }

    #[test]
    fn a_closed_tls_connection_gets_a_hint_a_refused_one_does_not() {
        let request = |message: &str| EtcdError::Request {
            what: "status",
            source: etcd_client::Error::GRpcStatus(tonic::Status::cancelled(message.to_owned())),
        };
        let ca_only = EtcdTlsConfig { ca_file: "ca".into(), cert_file: None, key_file: None };
        let with_cert =
            EtcdTlsConfig { cert_file: Some("c".into()), key_file: Some("k".into()), ..ca_only.clone() };
        let closed = request("connection closed");
        assert!(tls_hint(Some(&ca_only), &closed).unwrap().contains("requires a client certificate"));
        assert!(tls_hint(Some(&with_cert), &closed).unwrap().contains("rejected the client certificate"));
        assert_eq!(tls_hint(None, &closed), None);
        assert_eq!(tls_hint(Some(&ca_only), &request("tcp connect error: connection reset")), None);
    }

    #[tokio::test]
    async fn unreadable_tls_files_name_the_file() {
        let tls = EtcdTlsConfig { ca_file: "/nonexistent/ca.pem".into(), cert_file: None, key_file: None };
        let access = Access { tls: Some(tls), auth: None };
        let err = connect("https://127.0.0.1:1", &access, Duration::from_secs(1), Purpose::Poll)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("cannot read CA file /nonexistent/ca.pem: No such file"), "{err}");
    }

    #[tokio::test]
    async fn a_request_that_hangs_times_out() {
        let err = call("status", Duration::from_millis(20), std::future::pending::<Result<(), _>>()).await;
        assert_eq!(err.unwrap_err().to_string(), "status: no answer within 20ms");
    }
}
