//! HTTPS for `/metrics` (`export.prometheus.tls`): a certificate that follows its files, so a
//! renewed certificate (cert-manager rewriting the Secret, the kubelet swapping the mounted
//! files) is served without a restart, and a listener that does each TLS handshake in its own
//! task so a slow client does not hold back the others.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::certificates::{parse_pair, read_pair};

/// How often the files are looked at again (at the next handshake after this much time).
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Longest a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate to serve, read again from its files when they change.
#[derive(Debug)]
pub struct ReloadingCert {
    cert_file: String,
    key_file: String,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    current: Arc<CertifiedKey>,
    /// The file contents `current` was made from.
    loaded: (Vec<u8>, Vec<u8>),
    checked: Instant,
}

impl ReloadingCert {
    /// Loads the files now; an error here stops the start (bad files are a config error).
    pub fn load(cert_file: &str, key_file: &str) -> Result<ReloadingCert, String> {
        let loaded = read_pair(cert_file, key_file)?;
        let current = Arc::new(parse_pair(cert_file, &loaded.0, key_file, &loaded.1)?);
        let state = Mutex::new(State { current, loaded, checked: Instant::now() });
        Ok(ReloadingCert { cert_file: cert_file.to_owned(), key_file: key_file.to_owned(), state })
    }

    /// The certificate for the next handshake. When the files changed it is the new one; a
    /// change that does not parse (a half-written pair) keeps the old one, and is looked at
    /// again at the next check.
    pub fn current(&self) -> Arc<CertifiedKey> {
        let mut state = self.state.lock();
        if state.checked.elapsed() >= CHECK_EVERY {
            state.checked = Instant::now();
            match read_pair(&self.cert_file, &self.key_file) {
                Ok(files) if files != state.loaded => {
                    match parse_pair(&self.cert_file, &files.0, &self.key_file, &files.1) {
                        Ok(key) => {
                            tracing::info!(cert_file = %self.cert_file, "Prometheus endpoint certificate reloaded");
                            state.current = Arc::new(key);
                            state.loaded = files;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "changed certificate not loaded; serving the previous one")
                        }
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "certificate files unreadable; serving the previous certificate")
                }
            }
        }
        state.current.clone()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The rustls acceptor serving `cert`.
pub fn acceptor(cert: Arc<ReloadingCert>) -> Result<TlsAcceptor, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener whose connections have completed their TLS handshake.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `tcp` until `stop`; each handshake runs in its own task.
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor, stop: CancellationToken) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    _ = stop.cancelled() => return,
                    accepted = tcp.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            // Out of file descriptors and the like: wait rather than spin.
                            tracing::warn!(%error, "Prometheus endpoint cannot accept");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept task stopped: the server is shutting down.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    use super::*;
    use crate::certificates::tests::{install, self_signed};

    #[test]
    fn a_changed_pair_is_served_after_the_next_check_and_a_broken_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let (a_cert, a_key) = self_signed(dir.path(), "a");
        let (b_cert, b_key) = self_signed(dir.path(), "b");
        let (cert, key) = install(dir.path(), &a_cert, &a_key);
        let reloading = ReloadingCert::load(&cert, &key).unwrap();
        let first = reloading.current().cert[0].clone();

        // A half-written pair (new certificate, old key) is not taken.
        std::fs::write(&cert, &b_cert).unwrap();
        reloading.state.lock().checked -= CHECK_EVERY;
        assert_eq!(reloading.current().cert[0], first);

        std::fs::write(&key, &b_key).unwrap();
        assert_eq!(reloading.current().cert[0], first, "not looked at again before CHECK_EVERY");
        reloading.state.lock().checked -= CHECK_EVERY;
        let second = reloading.current().cert[0].clone();
        assert_ne!(second, first);
        assert_eq!(second.as_ref(), CertificateDer::from_pem_slice(&b_cert).unwrap().as_ref());
    }
}
