//! The etcd collector against real etcd 3.4 members started on loopback.

#[path = "support/etcd.rs"]
mod etcd_support;

use std::time::Duration;

use etcd_support::{fast_config, Cluster, Options, Points, Running};
use kube_state_otel::collectors::etcd::EtcdConfig;
use kube_state_otel::config::ConfigIssues;

const WAIT: Duration = Duration::from_secs(15);

const MEMBER_GAUGES: [&str; 11] = [
    "etcd.member.up",
    "etcd.member.healthy",
    "etcd.member.leader",
    "etcd.member.learner",
    "etcd.member.db.size",
    "etcd.member.db.size_in_use",
    "etcd.member.raft.term",
    "etcd.member.raft.index",
    "etcd.member.raft.applied_index",
    "etcd.member.revision",
    "etcd.member.poll.duration",
];

fn cluster_yaml(name: &str, endpoints: &[String], extra: &str) -> String {
    format!("- name: {name}\n  endpoints: [{}]\n{extra}", endpoints.join(", "))
}

fn etcdctl_ok(cluster: &Cluster, args: &[&str]) -> String {
    let out = cluster.etcdctl(args);
    assert!(out.status.success(), "etcdctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The member id etcd reports, in the hex form the collector exports.
fn member_id_hex(cluster: &Cluster, endpoint: &str) -> String {
    let out = cluster.etcdctl_at(endpoint, &["endpoint", "status", "-w", "fields"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("\"MemberID\"")).expect("MemberID field");
    let id: u64 = line.split(':').nth(1).unwrap().trim().parse().unwrap();
    format!("{id:x}")
}

#[tokio::test]
async fn a_single_member_reports_every_metric() {
    let cluster = Cluster::start(1, Options::default()).await;
    let endpoint = cluster.endpoints()[0].clone();
    let yaml = cluster_yaml("solo", &cluster.endpoints(), "  keyPrefixes: [/a/]\n  watchPrefixes: [/a/]\n");
    let running = Running::start(fast_config(&yaml));
    let member = [("server.address", endpoint.as_str())];
    let points = running
        .wait_until("every member metric", WAIT, |p| {
            MEMBER_GAUGES.iter().all(|m| p.value(m, &member).is_some())
                && p.value("etcd.cluster.consistency.key_count.diff", &[]).is_some()
        })
        .await;
    assert!(running.status.is_ready() && running.status.is_up());

    let id = member_id_hex(&cluster, &endpoint);
    let up = points.find("etcd.member.up", &[])[0];
    assert_eq!(up.attrs.get("etcd.cluster.name").map(String::as_str), Some("solo"));
    assert_eq!(up.attrs.get("etcd.member.name").map(String::as_str), Some("m0"));
    assert_eq!(up.attrs.get("etcd.member.id"), Some(&id));
    let v = |m: &str| points.value(m, &member).unwrap();
    assert_eq!(v("etcd.member.up"), 1.0);
    assert_eq!(v("etcd.member.healthy"), 1.0);
    assert_eq!(v("etcd.member.leader"), 1.0);
    assert_eq!(v("etcd.member.learner"), 0.0);
    assert!(v("etcd.member.db.size") >= 4096.0, "db size {}", v("etcd.member.db.size"));
    assert!(
        v("etcd.member.db.size_in_use") > 0.0 && v("etcd.member.db.size_in_use") <= v("etcd.member.db.size")
    );
    assert!(v("etcd.member.raft.term") >= 2.0);
    assert!(v("etcd.member.raft.index") >= v("etcd.member.raft.applied_index"));
    assert!(v("etcd.member.raft.applied_index") > 0.0);
    assert!(v("etcd.member.revision") >= 1.0);
    let duration = v("etcd.member.poll.duration");
    assert!(duration > 0.0 && duration < 1.0, "poll duration {duration}");
    eprintln!("single member poll duration: {:.2} ms", duration * 1000.0);
    for alarm in ["NOSPACE", "CORRUPT"] {
        assert_eq!(points.value("etcd.member.alarm", &[member[0], ("etcd.alarm.type", alarm)]), Some(0.0));
    }
    // The versions etcd itself reports.
    kube_state_otel::telemetry::install_crypto_provider();
    let versions = reqwest::get(format!("{endpoint}/version")).await.unwrap().text().await.unwrap();
    let info = running
        .wait_until("the member info with both versions", WAIT, |p| {
            p.find("etcd.member.info", &member)
                .first()
                .is_some_and(|s| s.attrs.contains_key("etcd.cluster.version"))
        })
        .await;
    let info = info.find("etcd.member.info", &member)[0].clone();
    assert_eq!(info.value, 1.0);
    let server_version = &info.attrs["etcd.server.version"];
    let cluster_version = &info.attrs["etcd.cluster.version"];
    assert!(server_version.starts_with("3."), "{info:?}");
    assert!(
        versions.contains(&format!("\"etcdserver\":\"{server_version}\""))
            && versions.contains(&format!("\"etcdcluster\":\"{cluster_version}\"")),
        "{versions} vs {info:?}"
    );
    assert_eq!(info.attrs["etcd.member.name"], "m0");
    let solo = [("etcd.cluster.name", "solo")];
    assert_eq!(points.value("etcd.cluster.has_leader", &solo), Some(1.0));
    assert_eq!(points.value("etcd.cluster.leader.changes", &solo), Some(0.0));
    for diff in ["revision", "raft_index", "raft_applied_index", "key_count"] {
        assert_eq!(
            points.value(&format!("etcd.cluster.consistency.{diff}.diff"), &solo),
            Some(0.0),
            "{diff}"
        );
    }
    assert_eq!(points.value("etcd.keys.count", &[("etcd.key.prefix", "/a/")]), Some(0.0));
    for kind in ["put", "delete"] {
        assert_eq!(points.value("etcd.watch.events", &[("etcd.event.type", kind)]), Some(0.0));
    }
    running.stop().await;
}

#[tokio::test]
async fn key_counts_and_watch_events_follow_writes_and_deletes() {
    let mut cluster = Cluster::start(1, Options::default()).await;
    let yaml =
        cluster_yaml("kv", &cluster.endpoints(), "  keyPrefixes: [/a/, /b/]\n  watchPrefixes: [/a/]\n");
    let running = Running::start(fast_config(&yaml));
    // The watch starts from "now": write a marker until the watch has seen it, so the counts
    // below start from a known point.
    let mut puts = 0.0;
    for _ in 0..100 {
        etcdctl_ok(&cluster, &["put", "/a/0", "marker"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
        puts = running
            .points()
            .iter()
            .find(|s| s.metric == "etcd.watch.events" && s.attrs["etcd.event.type"] == "put")
            .map_or(0.0, |s| s.value);
        if puts > 0.0 {
            break;
        }
    }
    assert!(puts > 0.0, "the watch never saw the marker: {:?}", running.status.snapshot());
    for key in ["/a/1", "/a/2", "/a/3", "/b/1", "/c"] {
        etcdctl_ok(&cluster, &["put", key, "v"]);
    }
    etcdctl_ok(&cluster, &["put", "/a/1", "v2"]);
    etcdctl_ok(&cluster, &["del", "/a/2"]);
    let expect = |p: &Points| {
        p.value("etcd.keys.count", &[("etcd.key.prefix", "/a/")]) == Some(3.0)
            && p.value("etcd.keys.count", &[("etcd.key.prefix", "/b/")]) == Some(1.0)
            && p.value("etcd.watch.events", &[("etcd.event.type", "put")]) == Some(puts + 4.0)
            && p.value("etcd.watch.events", &[("etcd.event.type", "delete")]) == Some(1.0)
    };
    let points = running.wait_until("key counts and watch events", WAIT, expect).await;
    assert_eq!(points.find("etcd.watch.events", &[]).len(), 2, "only /a/ is watched");
    assert_eq!(points.value("etcd.cluster.consistency.key_count.diff", &[]), Some(0.0));

    // The member restarts: the watch reconnects, resumes after the last event seen, and the
    // counts carry on from where they were.
    cluster.members[0].restart();
    cluster.wait_for_leader(WAIT).await;
    etcdctl_ok(&cluster, &["put", "/a/9", "v"]);
    etcdctl_ok(&cluster, &["del", "/a/", "--prefix"]); // /a/0, /a/1, /a/3, /a/9
    let after_restart = |p: &Points| {
        p.value("etcd.watch.events", &[("etcd.event.type", "put")]) == Some(puts + 5.0)
            && p.value("etcd.watch.events", &[("etcd.event.type", "delete")]) == Some(5.0)
            && p.value("etcd.keys.count", &[("etcd.key.prefix", "/a/")]) == Some(0.0)
            && p.value("etcd.member.up", &[]) == Some(1.0)
    };
    running.wait_until("events after the restart", WAIT, after_restart).await;
    running.stop().await;
}

fn up_of(p: &Points, endpoint: &str) -> Option<f64> {
    p.value("etcd.member.up", &[("server.address", endpoint)])
}

/// `etcd.member.poll.failures` of the member at `endpoint` for `reason`.
fn failures(points: &Points, endpoint: &str, reason: &str) -> Option<f64> {
    points.value("etcd.member.poll.failures", &[("server.address", endpoint), ("error.type", reason)])
}

#[tokio::test]
async fn three_members_one_killed_and_restarted_one_frozen() {
    let mut cluster = Cluster::start(3, Options::default()).await;
    let endpoints = cluster.endpoints();
    let running = Running::start(fast_config(&cluster_yaml("trio", &endpoints, "")));
    let trio = [("etcd.cluster.name", "trio")];
    let all_healthy = |p: &Points| {
        endpoints.iter().all(|e| p.value("etcd.member.healthy", &[("server.address", e)]) == Some(1.0))
            && p.value("etcd.cluster.has_leader", &trio) == Some(1.0)
    };
    let points = running.wait_until("three healthy members", WAIT, all_healthy).await;
    let leaders = points.find("etcd.member.leader", &[]);
    assert_eq!(leaders.iter().filter(|s| s.value == 1.0).count(), 1, "exactly one leader:\n{points}");
    let leader = leaders.iter().find(|s| s.value == 1.0).unwrap();
    let leader_endpoint = leader.attrs["server.address"].clone();
    let leader_name = leader.attrs["etcd.member.name"].clone();
    let leader_index = endpoints.iter().position(|e| *e == leader_endpoint).unwrap();
    let mut ids: Vec<&String> =
        points.find("etcd.member.up", &[]).iter().map(|s| &s.attrs["etcd.member.id"]).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);

    // Kill the leader: it is reported down (up alone, same identity), the others are still
    // reported and elect a new leader.
    cluster.members[leader_index].kill();
    let killed = [("server.address", leader_endpoint.as_str())];
    let others: Vec<&String> = endpoints.iter().filter(|e| **e != leader_endpoint).collect();
    let after_kill = |p: &Points| {
        up_of(p, &leader_endpoint) == Some(0.0)
            && others.iter().all(|e| up_of(p, e) == Some(1.0))
            && p.value("etcd.cluster.has_leader", &trio) == Some(1.0)
            // At least one: on a loaded machine the survivors may hold another election after
            // the first (a leader in a later term, seen at a later poll, counts again).
            && p.value("etcd.cluster.leader.changes", &trio) >= Some(1.0)
    };
    let points = running.wait_until("the killed leader down and a new leader", WAIT, after_kill).await;
    assert_eq!(points.find("etcd.member.up", &killed)[0].attrs["etcd.member.name"], leader_name);
    // Its failed polls are counted as refused (nothing listens on its port any more); the
    // others have failed none.
    let points = running
        .wait_until("refused polls of the killed member counted", WAIT, |p| {
            failures(p, &leader_endpoint, "refused") >= Some(2.0)
        })
        .await;
    for e in &others {
        for reason in ["timeout", "refused", "tls", "auth", "dns", "other"] {
            assert_eq!(failures(&points, e, reason), Some(0.0), "{e} {reason}:\n{points}");
        }
    }
    let counts: Vec<String> = ["refused", "other"]
        .iter()
        .map(|r| format!("{r}={:?}", failures(&points, &leader_endpoint, r)))
        .collect();
    eprintln!("failed polls of the killed member: {}", counts.join(" "));
    assert_eq!(failures(&points, &leader_endpoint, "timeout"), Some(0.0), "{points}");
    assert_eq!(failures(&points, &leader_endpoint, "auth"), Some(0.0), "{points}");
    assert!(points.find("etcd.member.healthy", &killed).is_empty(), "a silent member has only up:\n{points}");
    let details = running.status.snapshot().details;
    let detail = details.get(&format!("trio/{leader_endpoint}")).expect("a detail for the dead member");
    assert!(detail.starts_with(&format!("member {leader_endpoint} unreachable: ")), "{detail}");
    eprintln!("dead member detail: {detail}");

    // The survivors keep being polled: a write shows up in their revisions.
    etcdctl_ok(&cluster, &["put", "/k", "v"]);
    let revision: f64 = {
        let out = etcdctl_ok(&cluster, &["get", "/k", "-w", "json"]);
        let at = out.find("\"revision\":").unwrap() + 11;
        out[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    let survivors_follow = |p: &Points| {
        others.iter().all(|e| p.value("etcd.member.revision", &[("server.address", e)]) >= Some(revision))
    };
    running.wait_until("the survivors' revision after a write", WAIT, survivors_follow).await;

    // Restarted, it is picked up again within the backoff cap (4 intervals) and catches up.
    cluster.members[leader_index].restart();
    let restarted = std::time::Instant::now();
    let back = |p: &Points| {
        endpoints.iter().all(|e| up_of(p, e) == Some(1.0))
            && p.value("etcd.cluster.consistency.revision.diff", &trio) == Some(0.0)
    };
    running.wait_until("the restarted member back", WAIT, back).await;
    eprintln!("restarted member reported up again after {:?}", restarted.elapsed());

    // A frozen member accepts connections but never answers: it costs one timeout per attempt,
    // the others keep their fresh, fast answers.
    let frozen_index = (leader_index + 1) % 3;
    let frozen = endpoints[frozen_index].clone();
    cluster.members[frozen_index].signal("STOP");
    let frozen_down = |p: &Points| up_of(p, &frozen) == Some(0.0);
    running.wait_until("the frozen member down", WAIT, frozen_down).await;
    let detail = running.status.snapshot().details[&format!("trio/{frozen}")].clone();
    assert!(detail.contains("no answer within 1s"), "{detail}");
    running
        .wait_until("timed-out polls of the frozen member counted", WAIT, |p| {
            failures(p, &frozen, "timeout") >= Some(1.0)
        })
        .await;
    etcdctl_ok(&cluster, &["put", "/k", "v2"]);
    let live: Vec<&String> = endpoints.iter().filter(|e| **e != frozen).collect();
    let points = running
        .wait_until("the others after a write", WAIT, |p| {
            live.iter()
                .all(|e| p.value("etcd.member.revision", &[("server.address", e)]) >= Some(revision + 1.0))
        })
        .await;
    for e in &live {
        let duration = points.value("etcd.member.poll.duration", &[("server.address", e)]).unwrap();
        assert!(duration < 0.5, "{e} took {duration}s");
    }
    cluster.members[frozen_index].signal("CONT");
    running.wait_until("the thawed member back", WAIT, |p| up_of(p, &frozen) == Some(1.0)).await;
    running.stop().await;
}

#[tokio::test]
async fn a_nospace_alarm_is_reported_until_disarmed() {
    let options = Options { quota_backend_bytes: Some(512 * 1024), ..Options::default() };
    let cluster = Cluster::start(1, options).await;
    let endpoint = cluster.endpoints()[0].clone();
    let running = Running::start(fast_config(&cluster_yaml("full", &cluster.endpoints(), "")));
    let member = ("server.address", endpoint.as_str());
    let nospace = [member, ("etcd.alarm.type", "NOSPACE")];
    let corrupt = [member, ("etcd.alarm.type", "CORRUPT")];
    running.wait_until("no alarm", WAIT, |p| p.value("etcd.member.alarm", &nospace) == Some(0.0)).await;

    // Overwrite one key with 64 KiB values until etcd refuses: the old revisions fill the quota.
    let value = "x".repeat(64 * 1024);
    let mut refused = None;
    for _ in 0..100 {
        let out = cluster.etcdctl(&["put", "/big", &value]);
        if !out.status.success() {
            refused = Some(String::from_utf8_lossy(&out.stderr).into_owned());
            break;
        }
    }
    let refused = refused.expect("etcd refuses writes beyond its quota");
    assert!(refused.contains("database space exceeded"), "{refused}");
    let alarmed = |p: &Points| {
        p.value("etcd.member.alarm", &nospace) == Some(1.0)
            && p.value("etcd.member.alarm", &corrupt) == Some(0.0)
            && p.value("etcd.member.healthy", &[member]) == Some(0.0)
            && p.value("etcd.member.up", &[member]) == Some(1.0)
    };
    let points = running.wait_until("the NOSPACE alarm", WAIT, alarmed).await;
    let db_size = points.value("etcd.member.db.size", &[member]).unwrap();
    // etcd refuses a write when db size plus the write's cost exceeds the quota, so the
    // reported size may stay a little under the 512 KiB quota.
    assert!(db_size >= 0.75 * 512.0 * 1024.0, "db size {db_size}");

    // The operator's remedy: compact, defragment, disarm.
    let status = etcdctl_ok(&cluster, &["endpoint", "status", "-w", "json"]);
    let at = status.find("\"revision\":").unwrap() + 11;
    let revision = status[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().to_owned();
    etcdctl_ok(&cluster, &["compact", &revision, "--physical"]);
    etcdctl_ok(&cluster, &["defrag"]);
    etcdctl_ok(&cluster, &["alarm", "disarm"]);
    let cleared = |p: &Points| {
        p.value("etcd.member.alarm", &nospace) == Some(0.0)
            && p.value("etcd.member.healthy", &[member]) == Some(1.0)
    };
    let points = running.wait_until("the alarm cleared", WAIT, cleared).await;
    let in_use = points.value("etcd.member.db.size_in_use", &[member]).unwrap();
    assert!(in_use < 512.0 * 1024.0, "in use after defrag {in_use}");
    etcdctl_ok(&cluster, &["put", "/small", "v"]);
    running.stop().await;
}

#[test]
fn configuration_errors_name_their_yaml_path() {
    let yaml = "enabled: true\nclusters:\n- {name: a, endpoints: ['http://127.0.0.1']}\n- {name: a, endpoints: [https://127.0.0.1:2379], tls: {caFile: /nonexistent/ca.pem, certFile: /nonexistent/c.pem}}\n";
    let config: EtcdConfig = serde_saphyr::from_str(yaml).unwrap();
    let mut issues = ConfigIssues::new();
    config.validate("collectors.etcd", &mut issues);
    let text = issues.to_string();
    for expected in [
        "collectors.etcd.clusters[0].endpoints[0]: \"http://127.0.0.1\": the port is missing",
        "collectors.etcd.clusters[1].name: duplicate cluster name \"a\"",
        "collectors.etcd.clusters[1].tls.caFile: cannot read /nonexistent/ca.pem: No such file or directory",
        "collectors.etcd.clusters[1].tls.keyFile: certFile is set, keyFile is missing",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(issues.len(), 4, "{text}");
}
