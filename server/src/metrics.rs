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
    decision_commits: Counter,
    passcodes: Family<Outcome, Counter>,
    notices: Family<Outcome, Counter>,
    bounces: Family<Outcome, Counter>,
    requests: Latency,
    queue: Family<QueueState, Gauge>,
    outbox: Gauge,
    outbox_age: Gauge,
}

/// What the database says at the moment of a scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Depths {
    /// SMTP queue: waiting for delivery.
    pub queued: u64,
    /// SMTP queue: given up on.
    pub given_up: u64,
    /// Outbox: mails not yet sent.
    pub outbox: u64,
    /// Outbox: seconds the oldest of them has waited.
    pub outbox_age: i64,
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
        let decision_commits = Counter::default();
        registry.register(
            "sealpost_key_decision_commits",
            "Durable commits that recorded key decisions (several share one under load)",
            decision_commits.clone(),
        );
        let passcodes = Family::<Outcome, Counter>::default();
        registry.register(
            "sealpost_passcodes",
            "Tries to send passcode mails by outcome: sent, deferred, bounced or expired",
            passcodes.clone(),
        );
        let notices = Family::<Outcome, Counter>::default();
        registry.register(
            "sealpost_notices",
            "Tries to send notice mails to recipients by outcome: sent, deferred or bounced",
            notices.clone(),
        );
        let bounces = Family::<Outcome, Counter>::default();
        registry.register(
            "sealpost_reports",
            "Tries to send non-delivery reports by outcome: sent, deferred or bounced",
            bounces.clone(),
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
        let outbox = Gauge::default();
        registry.register(
            "sealpost_outbox_mails",
            "Mails Sealpost wrote (notices, passcodes, reports) not yet sent",
            outbox.clone(),
        );
        let outbox_age = Gauge::default();
        registry.register(
            "sealpost_outbox_oldest_age_seconds",
            "How long the oldest mail not yet sent has waited (0 when none waits)",
            outbox_age.clone(),
        );
        Metrics {
            registry,
            key_decisions,
            decision_commits,
            passcodes,
            notices,
            bounces,
            requests,
            queue,
            outbox,
            outbox_age,
        }
    }

    /// A key request ended: released (`None`) or refused with this code.
    pub fn key_decision(&self, refusal: Option<&str>) {
        self.key_decisions
            .get_or_create(&outcome(refusal.unwrap_or("released")))
            .inc();
    }

    /// A commit that recorded key decisions ended (successful or not).
    pub fn decision_commit(&self) {
        self.decision_commits.inc();
    }

    /// A try to send an outbox mail of `purpose` (`notice`, `passcode`, `bounce`) ended so
    /// (`sent`, `deferred`, `bounced`, `expired`).
    pub fn mail(&self, purpose: &str, ended: &str) {
        let family = match purpose {
            "notice" => &self.notices,
            "passcode" => &self.passcodes,
            _ => &self.bounces,
        };
        family.get_or_create(&outcome(ended)).inc();
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

    /// The exposition, with the queues' depths as just read.
    pub fn render(&self, depths: Depths) -> String {
        for (state, n) in [("queued", depths.queued), ("failed", depths.given_up)] {
            self.queue
                .get_or_create(&QueueState {
                    state: state.to_owned(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        self.outbox
            .set(i64::try_from(depths.outbox).unwrap_or(i64::MAX));
        self.outbox_age.set(depths.outbox_age.max(0));
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
        m.mail("passcode", "deferred");
        m.mail("notice", "sent");
        m.request("POST", "/api/m/{id}/key", 200, 0.003);
        let text = m.render(Depths {
            queued: 2,
            given_up: 1,
            outbox: 3,
            outbox_age: 40,
        });
        for line in [
            "sealpost_key_decisions_total{outcome=\"released\"} 2",
            "sealpost_key_decisions_total{outcome=\"message_revoked\"} 1",
            "sealpost_passcodes_total{outcome=\"deferred\"} 1",
            "sealpost_outbox_mails 3",
            "sealpost_outbox_oldest_age_seconds 40",
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
