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

    let churn = &report.churn;
    assert!(churn.modified >= 100, "{text}");
    assert_eq!(churn.counted, churn.modified, "every modification is one watch event: {text}");
    assert!(churn.caught_up_after.is_some(), "{text}");
    assert!(churn.exports >= 2 && churn.max_export_gap > Duration::ZERO, "{text}");
    assert!(churn.slowest_cycle.is_some() && churn.rss_max >= churn.rss_before, "{text}");
}
