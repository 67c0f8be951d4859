//! What `/metrics` reports, in the OpenMetrics text format Prometheus scrapes: key releases and
//! refusals by code, passcodes and notices sent or failed, request latency by route, and the SMTP
//! listener's queue. Counts only: no address, message id, tenant or secret is ever a label.
//!
//! Each node counts what it did; Prometheus sums the nodes.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Middleware: time a request and record it under its route pattern.
pub async fn time_request(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(req).await;
    metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The media type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueState {
    state: String,
}

type Latency = Family<Route, Histogram, fn() -> Histogram>;

/// The node's metrics.
pub struct Metrics {
    registry: Registry,
    key_decisions: Family<Outcome, Counter>,
    passcodes: Family<Outcome, Counter>,
    notices: Family<Outcome, Counter>,
    requests: Latency,
    queue: Family<QueueState, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// 1 ms to about 16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn outcome(o: &str) -> Outcome {
    Outcome {
        outcome: o.to_owned(),
    }
}

impl Metrics {
    /// Every metric, at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let key_decisions = Family::<Outcome, Counter>::default();
        registry.register(
            "sealpost_key_decisions",
            "Key requests by outcome: released, or the refusal's code",
            key_decisions.clone(),
        );
        let passcodes = Family::<Outcome, Counter>::default();
        registry.register(
            "sealpost_passcodes",
            "Passcode mails by outcome: sent or failed",
            passcodes.clone(),
        );
        let notices = Family::<Outcome, Counter>::default();
        registry.register(
            "sealpost_notices",
            "Notice mails to recipients by outcome: sent or failed",
            notices.clone(),
        );
        let requests: Latency = Family::new_with_constructor(latency_histogram);
        registry.register(
            "sealpost_http_request_duration_seconds",
            "HTTP request latency by method, route pattern and status class",
            requests.clone(),
        );
        let queue = Family::<QueueState, Gauge>::default();
        registry.register(
            "sealpost_mail_queue_messages",
            "Messages the SMTP listener accepted: waiting for delivery, or given up on",
            queue.clone(),
        );
        Metrics {
            registry,
            key_decisions,
            passcodes,
            notices,
            requests,
            queue,
        }
    }

    /// A key request ended: released (`None`) or refused with this code.
    pub fn key_decision(&self, refusal: Option<&str>) {
        self.key_decisions
            .get_or_create(&outcome(refusal.unwrap_or("released")))
            .inc();
    }

    /// A passcode mail was sent, or failed.
    pub fn passcode(&self, sent: bool) {
        self.passcodes
            .get_or_create(&outcome(if sent { "sent" } else { "failed" }))
            .inc();
    }

    /// A notice mail was sent, or failed.
    pub fn notice(&self, sent: bool) {
        self.notices
            .get_or_create(&outcome(if sent { "sent" } else { "failed" }))
            .inc();
    }

    /// A request to `route` (the router's pattern, e.g. `/api/m/{id}/key`; never the path itself)
    /// answered `status` after `seconds`.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&Route {
                method: method.to_owned(),
                route: route.to_owned(),
                status: format!("{}xx", status / 100),
            })
            .observe(seconds);
    }

    /// The exposition, with the queue's depth as just read.
    pub fn render(&self, queued: u64, given_up: u64) -> String {
        for (state, n) in [("queued", queued), ("failed", given_up)] {
            self.queue
                .get_or_create(&QueueState {
                    state: state.to_owned(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_appear_by_outcome_and_routes_by_pattern() {
        let m = Metrics::new();
        m.key_decision(None);
        m.key_decision(None);
        m.key_decision(Some("message_revoked"));
        m.passcode(false);
        m.notice(true);
        m.request("POST", "/api/m/{id}/key", 200, 0.003);
        let text = m.render(2, 1);
        for line in [
            "sealpost_key_decisions_total{outcome=\"released\"} 2",
            "sealpost_key_decisions_total{outcome=\"message_revoked\"} 1",
            "sealpost_passcodes_total{outcome=\"failed\"} 1",
            "sealpost_notices_total{outcome=\"sent\"} 1",
            "sealpost_http_request_duration_seconds_count{method=\"POST\",route=\"/api/m/{id}/key\",status=\"2xx\"} 1",
            "sealpost_mail_queue_messages{state=\"queued\"} 2",
            "sealpost_mail_queue_messages{state=\"failed\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
