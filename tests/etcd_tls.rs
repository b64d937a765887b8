//! The etcd collector against a member that requires client certificates (made by `openssl`).

#[path = "support/certificates.rs"]
mod certificates;
#[path = "support/etcd.rs"]
mod etcd_support;

use std::time::Duration;

use certificates::Certificates;
use etcd_support::{fast_config, Cluster, Options, Points, Running, ServerTls};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn client_certificates_are_presented_and_their_absence_is_explained() {
    let certs = Certificates::generate();
    let cluster =
        Cluster::start(1, Options { tls: Some(ServerTls::in_dir(certs.dir.path())), ..Options::default() })
            .await;
    let endpoint = cluster.endpoints()[0].clone();
    assert!(endpoint.starts_with("https://127.0.0.1:"));
    let (ca, cert, key) = (
        certs.path("ca.crt").display().to_string(),
        certs.path("client.crt").display().to_string(),
        certs.path("client.key").display().to_string(),
    );
    let yaml = format!(
        "- name: with-cert\n  endpoints: [{endpoint}]\n  tls: {{caFile: {ca}, certFile: {cert}, keyFile: {key}}}\n  keyPrefixes: [/t/]\n  watchPrefixes: [/t/]\n\
         - name: no-cert\n  endpoints: [{endpoint}]\n  tls: {{caFile: {ca}}}\n"
    );
    let running = Running::start(fast_config(&yaml));
    let with_cert = ("etcd.cluster.name", "with-cert");
    let no_cert = ("etcd.cluster.name", "no-cert");
    let points = running
        .wait_until("one cluster up, the other refused", WAIT, |p: &Points| {
            p.value("etcd.member.healthy", &[with_cert]) == Some(1.0)
                && p.value("etcd.member.up", &[no_cert]) == Some(0.0)
        })
        .await;
    assert_eq!(points.value("etcd.member.leader", &[with_cert]), Some(1.0));
    assert_eq!(points.find("etcd.member.up", &[no_cert])[0].attrs["server.address"], endpoint);

    let details = running.status.snapshot().details;
    let refused = &details[&format!("no-cert/{endpoint}")];
    eprintln!("without a client certificate: {refused}");
    assert!(refused.starts_with(&format!("member {endpoint} unreachable: status failed: ")), "{refused}");
    assert!(refused.to_lowercase().contains("certificate"), "the reason names the certificate: {refused}");
    assert!(!details.contains_key(&format!("with-cert/{endpoint}")), "{details:?}");
    let tls_failures =
        |p: &Points| p.value("etcd.member.poll.failures", &[no_cert, ("error.type", "tls")]).unwrap_or(0.0);
    assert!(tls_failures(&points) >= 1.0, "a refused client certificate counts as tls:\n{points}");
    assert_eq!(points.value("etcd.member.poll.failures", &[with_cert, ("error.type", "tls")]), Some(0.0));
    // The cluster version comes over HTTPS with the client certificate too.
    let info = points.find("etcd.member.info", &[with_cert]);
    assert!(info.iter().any(|s| s.attrs.contains_key("etcd.cluster.version")), "{points}");

    // Key counts and the watch work over TLS too.
    let out = cluster.etcdctl(&["put", "/t/1", "v"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    running
        .wait_until("a key and a put event over TLS", WAIT, |p: &Points| {
            p.value("etcd.keys.count", &[with_cert]) == Some(1.0)
                && p.value("etcd.watch.events", &[with_cert, ("etcd.event.type", "put")]) == Some(1.0)
        })
        .await;
    running.stop().await;
}
