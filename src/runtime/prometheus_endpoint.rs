//! `GET /metrics` (SPEC §3, `export.prometheus`): every scrape takes a fresh snapshot of what an
//! export would carry, as one request, and renders it with the names and labels of the
//! Collector's `prometheus` exporter, the way kube-state-metrics answers a scrape. OpenMetrics when the scraper asks
//! for it, Prometheus text 0.0.4 otherwise; gzip when accepted.

use std::io::Write as _;

use axum::extract::State;
use axum::http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

use super::metrics_auth::require_bearer_token;
use super::metrics_tls::{acceptor, ReloadingCert, TlsListener};
use super::RunError;
use crate::config::PrometheusConfig;
use crate::export::Exporter;
use crate::exposition;

/// The `/metrics` route over `exporter`'s snapshots.
pub fn routes(exporter: Exporter) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(exporter)
}

/// Starts the endpoint when `exporter` is given (`export.prometheus.enabled`). It gets its own
/// listener, except when its address is the health server's (`server_listen`): then the
/// returned routes are for the health server to serve, since two listeners cannot share it.
/// Otherwise the returned router is empty. `bearerToken` guards `/metrics` only: the probes
/// stay open, as the kubelet sends no token.
pub async fn start(
    config: &PrometheusConfig,
    server_listen: &str,
    exporter: Option<Exporter>,
    stop: CancellationToken,
) -> Result<Router, RunError> {
    let Some(exporter) = exporter else { return Ok(Router::new()) };
    let mut app = routes(exporter);
    if let Some(token) = &config.bearer_token {
        app = require_bearer_token(app, token.clone());
    }
    if config.shares_address_with(server_listen) {
        tracing::info!(listen = %config.listen, "Prometheus endpoint served by the health server");
        return Ok(app);
    }
    let listen_error = |source| RunError::Listen { listen: config.listen.clone(), source };
    let listener = tokio::net::TcpListener::bind(&config.listen).await.map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    let shutdown = stop.clone().cancelled_owned();
    match &config.tls {
        None => {
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
            });
        }
        Some(tls) => {
            let cert = ReloadingCert::load(&tls.cert_file, &tls.key_file).map_err(RunError::Tls)?;
            let acceptor = acceptor(std::sync::Arc::new(cert)).map_err(|e| RunError::Tls(e.to_string()))?;
            let listener = TlsListener::new(listener, acceptor, stop).map_err(listen_error)?;
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
            });
        }
    }
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, token = config.bearer_token.is_some(), "Prometheus endpoint listening on /metrics");
    Ok(Router::new())
}

async fn metrics(State(exporter): State<Exporter>, headers: HeaderMap) -> Response {
    // Reading a million points takes a while: off the async threads.
    let request = match tokio::task::spawn_blocking(move || exporter.scrape()).await {
        Ok(Ok(request)) => request,
        // After the agent's own metrics have shut down (the agent is stopping).
        Ok(Err(e)) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("cannot collect: {e}\n")).into_response()
        }
        Err(e) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, format!("collection failed: {e}\n")).into_response()
        }
    };
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (body, content_type) = if accepts(header(ACCEPT), "application/openmetrics-text") {
        (exposition::to_openmetrics(&request), exposition::OPENMETRICS_CONTENT_TYPE)
    } else {
        (exposition::to_prometheus_text(&request), exposition::PROMETHEUS_CONTENT_TYPE)
    };
    let vary = (VARY, "Accept, Accept-Encoding");
    if accepts(header(ACCEPT_ENCODING), "gzip") {
        if let Ok(compressed) = gzip(body.as_bytes()) {
            return ([(CONTENT_TYPE, content_type), (CONTENT_ENCODING, "gzip"), vary], compressed)
                .into_response();
        }
    }
    ([(CONTENT_TYPE, content_type), vary], body).into_response()
}

/// Whether the `Accept` or `Accept-Encoding` value `header` lists `wanted` (case-insensitive)
/// without refusing it by `q=0`.
fn accepts(header: &str, wanted: &str) -> bool {
    header.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused = parts.any(|param| {
            param.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("q") && v.trim().parse::<f64>().is_ok_and(|q| q == 0.0)
            })
        });
        name.eq_ignore_ascii_case(wanted) && !refused
    })
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;
    use std::time::Duration;

    use opentelemetry::KeyValue;

    use super::*;

    #[test]
    fn accept_lists_the_wanted_type_unless_refused() {
        // What Prometheus 2.42 sends.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(accepts(prometheus, "application/openmetrics-text"));
        assert!(accepts("Application/OpenMetrics-Text; q=0.3", "application/openmetrics-text"));
        assert!(!accepts("text/plain;version=0.0.4;q=1,*/*;q=0.1", "application/openmetrics-text"));
        assert!(!accepts("application/openmetrics-text;q=0, text/plain", "application/openmetrics-text"));
        assert!(!accepts("", "application/openmetrics-text"));
        assert!(accepts("deflate, gzip;q=1.0", "gzip"));
        assert!(!accepts("gzip;q=0", "gzip"));
        assert!(!accepts("identity", "gzip"));
    }

    fn exporter() -> Exporter {
        let attributes =
            [("service.name".to_owned(), "kso".to_owned()), ("k8s.cluster.name".to_owned(), "c1".to_owned())]
                .into();
        let own = crate::export::OwnMetrics::new(&attributes, 100);
        let queue = own.meter().u64_counter("work.queue.items").with_unit("{item}").build();
        queue.add(3, &[KeyValue::new("queue.name", "a")]);
        let pusher = crate::export::Pusher::new(None, Duration::from_secs(1), 1);
        Exporter::new(
            crate::series::MetricsRegistry::new(),
            own,
            crate::export::Envelope::new(&attributes),
            pusher,
        )
    }

    async fn scrape(exporter: &Exporter, accept: &str, encoding: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, accept.parse().unwrap());
        headers.insert(ACCEPT_ENCODING, encoding.parse().unwrap());
        let response = metrics(State(exporter.clone()), headers).await;
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec())
    }

    #[tokio::test]
    async fn each_scrape_collects_and_is_rendered_as_negotiated() {
        let exporter = exporter();
        let reader = &exporter;

        let (status, headers, body) = scrape(reader, "text/plain;version=0.0.4", "identity").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_TYPE], exposition::PROMETHEUS_CONTENT_TYPE);
        assert!(headers.get(CONTENT_ENCODING).is_none());
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("\nwork_queue_items_total{job=\"kso\",queue_name=\"a\"} 3\n"), "{text}");
        assert!(text.contains("target_info{job=\"kso\",k8s_cluster_name=\"c1\"} 1\n"), "{text}");
        assert!(!text.contains("# EOF"), "{text}");

        let (status, headers, body) =
            scrape(reader, "application/openmetrics-text;version=1.0.0", "gzip").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_TYPE], exposition::OPENMETRICS_CONTENT_TYPE);
        assert_eq!(headers[CONTENT_ENCODING], "gzip");
        let mut text = String::new();
        flate2::read::GzDecoder::new(body.as_slice()).read_to_string(&mut text).unwrap();
        assert!(text.contains("# TYPE work_queue_items counter\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");

        exporter.own_metrics().shutdown();
        let (status, _, _) = scrape(reader, "", "").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
}
