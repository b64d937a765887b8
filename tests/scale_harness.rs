//! The scale harness end to end with a small cluster and the debug agent binary: the report
//! must be complete and consistent. Timings are reported by the harness, never asserted.

use std::time::Duration;

use kube_state_otel_testkit::scale::{self, ScaleOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_run_reports_every_figure() {
    let options = ScaleOptions {
        crs: 300,
        nodes: 20,
        pods: 200,
        export_interval: Duration::from_millis(500),
        churn_rate: 100,
        churn_duration: Duration::from_secs(2),
        timeout: Duration::from_secs(60),
        ..ScaleOptions::new(env!("CARGO_BIN_EXE_kube-state-otel").into())
    };
    let report = scale::run(&options).await.unwrap();
    let text = report.to_string();
    println!("{text}");

    assert_eq!(report.objects(), 520);
    assert!((2500..3500).contains(&report.sizes.cr), "{text}");
    assert!(report.time_to_ready > Duration::ZERO && report.cpu_to_ready > Duration::ZERO, "{text}");
    assert!(report.baseline_rss > 0 && report.steady_rss > 0, "{text}");
    assert!(report.peak_rss_initial > 0 && report.peak_rss_overall >= report.peak_rss_initial, "{text}");
    // phase (8 states) + 3 components + 4 conditions + info per cluster, at least.
    assert!(report.export.points >= 16 * 300, "{text}");
    assert!(report.export.encoded_bytes > 0 && report.export.cpu > Duration::ZERO, "{text}");
    assert!(report.export.wall >= report.export.cpu / 2, "{text}");

    assert!(report.floor.cpu() > Duration::ZERO && report.floor.objects == 520, "{text}");
    assert!(report.objects_held.is_some_and(|held| held > 300), "every custom resource held: {text}");
    assert!(report.initial_sync_ratio().is_finite() && report.idle_ratio().is_finite(), "{text}");
    assert!(report.initial_sync.cpu > Duration::ZERO && report.initial_sync.series_points > 0, "{text}");
    assert!(report.idle.cpu_per_export > Duration::ZERO && report.idle_exports == 3, "{text}");
    assert!(report.bytes_per_point() > 0.0 && report.idle.wire_bytes_per_point > 0.0, "{text}");
    assert!(report.sharded.is_none(), "{text}");

    let relist = report.relist;
    assert!(relist.listed_after.is_some(), "every watch listed again after the compaction: {text}");
    assert!(relist.rss_max >= relist.rss_before, "{text}");
    let churn = report.churn.as_ref().expect("a churn phase");
    assert!(churn.modified >= 100, "{text}");
    assert_eq!(churn.counted, churn.modified, "every modification is one watch event: {text}");
    assert!(churn.caught_up_after.is_some(), "{text}");
    assert!(churn.exports >= 2 && churn.max_export_gap > Duration::ZERO, "{text}");
    assert!(churn.slowest_cycle.is_some() && churn.rss_max >= churn.rss_before, "{text}");
}

/// Two shards against the one server: their per-object points add up to the unsharded
/// agent's, each holds part of the objects, and `--churn 0s` skips the churn phase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_split_the_points_of_one_agent() {
    let options = ScaleOptions {
        crs: 300,
        nodes: 10,
        pods: 50,
        export_interval: Duration::from_millis(500),
        churn_duration: Duration::ZERO,
        timeout: Duration::from_secs(60),
        compression: scale::Compression::None,
        idle_exports: 2,
        shards: 2,
        ..ScaleOptions::new(env!("CARGO_BIN_EXE_kube-state-otel").into())
    };
    let report = scale::run(&options).await.unwrap();
    let text = report.to_string();
    println!("{text}");

    assert!(report.churn.is_none() && text.contains("churn                  skipped"), "{text}");
    assert!(text.contains("compression none"), "{text}");
    let sharded = report.sharded.as_ref().expect("a sharded run");
    assert_eq!(sharded.shards.len(), 2, "{text}");
    assert_eq!(sharded.series_points(), report.initial_sync.series_points, "{text}");
    for shard in &sharded.shards {
        let series = shard.initial_sync.series_points;
        assert!(series > 0 && series < report.initial_sync.series_points, "{text}");
        assert!(shard.points >= series && shard.steady_rss > 0, "{text}");
        assert!(shard.initial_sync.cpu > Duration::ZERO, "{text}");
        let held = shard.objects.expect("kube_state_otel.objects");
        assert!(held > 0 && held < 360, "{text}");
    }
    // Each object on one shard: nodes and pods on shard 0 only, each custom resource on one.
    assert!(report.objects_held.is_some(), "{text}");
    assert_eq!(sharded.objects(), report.objects_held, "{text}");
    assert!(!text.contains("DIFFERENT"), "{text}");
}
