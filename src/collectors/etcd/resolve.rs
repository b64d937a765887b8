//! Endpoints named by DNS (`https://etcd-0.etcd:2379`, `http://localhost:2379`): the name is
//! resolved again on every poll, and a connection made to addresses the name no longer has is
//! dropped, so a member that moved (a rescheduled pod, a replaced VM) is followed without a
//! restart even while its old address still answers.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::client::EtcdError;

/// The host and port of `endpoint` when its host is a name rather than an IP address.
pub fn dns_name(endpoint: &str) -> Option<(String, u16)> {
    let uri: http::Uri = endpoint.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    if host.parse::<IpAddr>().is_ok() {
        return None;
    }
    Some((host.to_owned(), uri.port_u16()?))
}

/// The addresses `host` resolves to now, sorted, under `timeout`.
pub async fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, EtcdError> {
    let lookup = tokio::net::lookup_host((host, port));
    let addresses = match tokio::time::timeout(timeout, lookup).await {
        Ok(Ok(addresses)) => addresses,
        Ok(Err(source)) => return Err(EtcdError::Resolve { host: host.to_owned(), source }),
        Err(_) => return Err(EtcdError::Timeout { what: "name resolution", after: timeout }),
    };
    let mut addresses: Vec<SocketAddr> = addresses.collect();
    addresses.sort();
    addresses.dedup();
    if addresses.is_empty() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        return Err(EtcdError::Resolve { host: host.to_owned(), source });
    }
    Ok(addresses)
}

/// The name of one endpoint and the addresses it had at the last poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    host: String,
    port: u16,
    last: Vec<SocketAddr>,
}

impl Resolved {
    /// `None` for an endpoint given by IP address.
    pub fn for_endpoint(endpoint: &str) -> Option<Resolved> {
        dns_name(endpoint).map(|(host, port)| Resolved { host, port, last: Vec::new() })
    }

    /// Resolves the name again; `Ok(true)` when its addresses changed since the last poll (the
    /// first resolution is not a change).
    pub async fn refresh(&mut self, timeout: Duration) -> Result<bool, EtcdError> {
        let now = resolve(&self.host, self.port, timeout).await?;
        Ok(self.update(now))
    }

    fn update(&mut self, now: Vec<SocketAddr>) -> bool {
        let changed = !self.last.is_empty() && self.last != now;
        self.last = now;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_are_resolved() {
        assert_eq!(dns_name("http://localhost:2379"), Some(("localhost".into(), 2379)));
        assert_eq!(dns_name("https://etcd-0.etcd.svc:2379/"), Some(("etcd-0.etcd.svc".into(), 2379)));
        assert_eq!(dns_name("http://127.0.0.1:2379"), None);
        assert_eq!(dns_name("https://[::1]:2379"), None);
    }

    #[test]
    fn a_change_of_addresses_is_reported_once() {
        let mut resolved = Resolved::for_endpoint("http://etcd:2379").unwrap();
        let a: SocketAddr = "10.0.0.1:2379".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:2379".parse().unwrap();
        assert!(!resolved.update(vec![a]), "the first resolution is no change");
        assert!(!resolved.update(vec![a]));
        assert!(resolved.update(vec![b]));
        assert!(!resolved.update(vec![b]));
    }

    #[tokio::test]
    async fn localhost_resolves_and_an_unknown_name_fails_as_dns() {
        let mut resolved = Resolved::for_endpoint("http://localhost:2379").unwrap();
        assert!(
            !resolved.refresh(Duration::from_secs(5)).await.unwrap(),
            "the first resolution is no change"
        );
        assert!(resolved.last.iter().any(|a| a.ip().is_loopback()), "{:?}", resolved.last);
        let err = resolve("no-such-host.invalid", 2379, Duration::from_secs(5)).await.unwrap_err();
        assert!(matches!(err, EtcdError::Resolve { .. }), "{err}");
        assert!(err.to_string().starts_with("cannot resolve no-such-host.invalid: "), "{err}");
    }
}
