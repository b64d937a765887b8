//! The etcd collector against real etcd with its own authentication enabled
//! (`etcdctl user add`, `etcdctl auth enable`), against an endpoint named by DNS, and with the
//! costlier checks switched off on a cluster with its own interval.

#[path = "support/etcd.rs"]
mod etcd_support;

use std::time::Duration;

use etcd_support::{fast_config, Cluster, Options, Points, Running};

const WAIT: Duration = Duration::from_secs(15);
const ROOT_PASSWORD: &str = "r00t-pw-7c1e";

fn etcdctl_ok(cluster: &Cluster, args: &[&str]) -> String {
    let out = cluster.etcdctl(args);
    assert!(out.status.success(), "etcdctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A single member with a `root` user and authentication on.
async fn cluster_with_auth() -> Cluster {
    let cluster = Cluster::start(1, Options::default()).await;
    etcdctl_ok(&cluster, &["user", "add", &format!("root:{ROOT_PASSWORD}")]);
    etcdctl_ok(&cluster, &["auth", "enable"]);
    let denied = cluster.etcdctl(&["put", "/a/x", "1"]);
    assert!(!denied.status.success(), "auth is enabled: a write without a user is refused");
    cluster
}

fn failures(points: &Points, reason: &str) -> Option<f64> {
    points.value("etcd.member.poll.failures", &[("error.type", reason)])
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_failure_and_the_right_one_from_a_file_works() {
    let cluster = cluster_with_auth().await;
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "wrong-pw-55aa\n").unwrap();
    let yaml = format!(
        "- name: secured\n  endpoints: [{}]\n  auth: {{username: root, password: {{file: {}}}}}\n  keyPrefixes: [/a/]\n",
        cluster.endpoints()[0],
        password.display()
    );
    let running = Running::start(fast_config(&yaml));
    let points =
        running.wait_until("a failed poll counted as auth", WAIT, |p| failures(p, "auth") >= Some(1.0)).await;
    assert_eq!(points.value("etcd.member.up", &[]), Some(0.0), "{points}");
    for reason in ["timeout", "refused", "tls", "dns", "other"] {
        assert_eq!(failures(&points, reason), Some(0.0), "{reason}:\n{points}");
    }
    let details = running.status.snapshot().details;
    let detail =
        details.get(&format!("secured/{}", cluster.endpoints()[0])).expect("a detail for the member");
    assert!(detail.contains("authentication failed"), "{detail}");
    assert!(!detail.contains("wrong-pw-55aa"), "the password appears in /readyz: {detail}");

    // The file is read again at the next attempt: with the right password the member answers
    // and the keys under the prefix (readable by root only) are counted.
    etcdctl_ok(&cluster, &["put", "/a/x", "1", &format!("--user=root:{ROOT_PASSWORD}")]);
    std::fs::write(&password, format!("{ROOT_PASSWORD}\n")).unwrap();
    let points = running
        .wait_until("the member up with the right password", WAIT, |p| {
            p.value("etcd.member.up", &[]) == Some(1.0) && p.value("etcd.keys.count", &[]) == Some(1.0)
        })
        .await;
    assert_eq!(points.value("etcd.member.healthy", &[]), Some(1.0), "{points}");
    assert_eq!(points.value("etcd.cluster.consistency.key_count.diff", &[]), Some(0.0), "{points}");
    let auth_failures = failures(&points, "auth").unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = Points(running.points());
    assert_eq!(failures(&later, "auth"), Some(auth_failures), "no failure once the password is right");
    running.stop().await;
}

#[tokio::test]
async fn a_password_from_the_environment_serves_polls_and_the_watch() {
    let cluster = cluster_with_auth().await;
    // A variable no other test sets (tests of one binary share the process environment).
    std::env::set_var("KSO_TEST_ETCD_ROOT_PASSWORD", ROOT_PASSWORD);
    let yaml = format!(
        "- name: secured\n  endpoints: [{}]\n  auth: {{username: root, password: {{env: KSO_TEST_ETCD_ROOT_PASSWORD}}}}\n  watchPrefixes: [/w/]\n",
        cluster.endpoints()[0]
    );
    let running = Running::start(fast_config(&yaml));
    running.wait_until("the member up", WAIT, |p| p.value("etcd.member.up", &[]) == Some(1.0)).await;
    let user = format!("--user=root:{ROOT_PASSWORD}");
    let mut seen = 0.0;
    for i in 0..100 {
        etcdctl_ok(&cluster, &["put", &format!("/w/{i}"), "v", &user]);
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen =
            Points(running.points()).value("etcd.watch.events", &[("etcd.event.type", "put")]).unwrap_or(0.0);
        if seen > 0.0 {
            break;
        }
    }
    assert!(seen > 0.0, "the authenticated watch saw no put: {:?}", running.status.snapshot());
    running.stop().await;
}

#[tokio::test]
async fn a_dns_endpoint_is_polled_and_an_unknown_name_fails_as_dns() {
    let cluster = Cluster::start(1, Options::default()).await;
    let by_name = cluster.endpoints()[0].replace("127.0.0.1", "localhost");
    let unknown = "http://no-such-member.invalid:2379";
    let yaml = format!("- name: named\n  endpoints: [{by_name}, {unknown}]\n");
    let running = Running::start(fast_config(&yaml));
    let points = running
        .wait_until("the named member up and the unknown one failing as dns", WAIT, |p| {
            p.value("etcd.member.up", &[("server.address", &by_name)]) == Some(1.0)
                && p.value("etcd.member.poll.failures", &[("server.address", unknown), ("error.type", "dns")])
                    >= Some(1.0)
        })
        .await;
    assert_eq!(
        points.value("etcd.member.poll.failures", &[("server.address", &by_name), ("error.type", "dns")]),
        Some(0.0)
    );
    let details = running.status.snapshot().details;
    assert!(
        details[&format!("named/{unknown}")].contains("cannot resolve no-such-member.invalid"),
        "{details:?}"
    );
    running.stop().await;
}

#[tokio::test]
async fn switched_off_counts_are_not_made_and_a_cluster_keeps_its_own_interval() {
    let cluster = Cluster::start(1, Options::default()).await;
    let endpoint = &cluster.endpoints()[0];
    let yaml = format!(
        "- name: light\n  endpoints: [{endpoint}]\n  keyPrefixes: [/a/]\n  keyCounts: false\n  consistency: {{keyCount: false}}\n\
- name: slow\n  interval: 1h\n  endpoints: [{endpoint}]\n"
    );
    let running = Running::start(fast_config(&yaml));
    let light = [("etcd.cluster.name", "light")];
    let slow = [("etcd.cluster.name", "slow")];
    let points = running
        .wait_until("both clusters polled", WAIT, |p| {
            p.value("etcd.cluster.has_leader", &light) == Some(1.0)
                && p.value("etcd.cluster.has_leader", &slow) == Some(1.0)
        })
        .await;
    assert!(running.status.is_ready());
    assert!(points.find("etcd.keys.count", &light).is_empty(), "{points}");
    assert!(points.find("etcd.cluster.consistency.key_count.diff", &light).is_empty(), "{points}");
    assert_eq!(points.value("etcd.cluster.consistency.revision.diff", &light), Some(0.0));
    assert_eq!(points.value("etcd.cluster.consistency.key_count.diff", &slow), Some(0.0), "on by default");

    // `light` polls every 200 ms, `slow` once an hour: after writes only `light` follows.
    let revision = |p: &Points, cluster: &str| {
        p.value("etcd.member.revision", &[("etcd.cluster.name", cluster)]).unwrap()
    };
    let slow_revision = revision(&points, "slow");
    for i in 0..3 {
        etcdctl_ok(&cluster, &["put", &format!("/k{i}"), "v"]);
    }
    let points = running
        .wait_until("light sees the writes", WAIT, |p| revision(p, "light") >= slow_revision + 3.0)
        .await;
    assert_eq!(revision(&points, "slow"), slow_revision, "slow is not polled again within its interval");
    running.stop().await;
}
