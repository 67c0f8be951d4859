//! `GET /healthz` (liveness: the process answers), `GET /readyz` (readiness: the database and the
//! blob store answer, so a load balancer sends this node traffic) and `GET /metrics` (Prometheus,
//! for the monitoring only).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sealpost_api::HealthResponse;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::http::error::ApiError;
use crate::state::AppState;

/// The health routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
}

fn answer(status: &str) -> Json<HealthResponse> {
    Json(HealthResponse {
        status: status.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

async fn health() -> Json<HealthResponse> {
    answer("ok")
}

async fn ready(State(state): State<AppState>) -> Result<Json<HealthResponse>, ApiError> {
    match state.store.check_ready().await {
        Ok(()) => Ok(answer("ready")),
        Err(e) => {
            tracing::error!(error = %e, "not ready");
            Err(ApiError::refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "This node cannot reach its database or its blob store; the server log says which.",
            ))
        }
    }
}

/// `/metrics` says how busy the node is and how its mail flows: only for the monitoring. With
/// `metrics_token` set, a scraper sends it as a bearer token (compared in constant time); without
/// one, only a client on the same machine (loopback) is answered.
fn may_scrape(state: &AppState, parts: &Parts) -> Result<(), ApiError> {
    match &state.config.metrics_token {
        Some(token) => {
            let given = parts
                .headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            let want = Sha256::digest(token.0.as_bytes());
            let got = Sha256::digest(given.as_bytes());
            if bool::from(want.ct_eq(&got)) && !given.is_empty() {
                Ok(())
            } else {
                Err(ApiError::refused(
                    StatusCode::UNAUTHORIZED,
                    "metrics_token_required",
                    "Send the configured metrics token as a bearer token.",
                ))
            }
        }
        None => {
            let local = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .is_some_and(|ConnectInfo(a)| a.ip().to_canonical().is_loopback());
            if local {
                Ok(())
            } else {
                Err(ApiError::NotFound)
            }
        }
    }
}

async fn metrics(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<impl IntoResponse, ApiError> {
    may_scrape(&state, &parts)?;
    let (queued, given_up) = state.store.mail_queue_depth().await?;
    let outbox = state.store.outbox_depth().await?;
    let depths = crate::metrics::Depths {
        queued,
        given_up,
        outbox: outbox.waiting,
        outbox_age: outbox.oldest.map_or(0, |oldest| state.clock.now() - oldest),
    };
    Ok((
        [(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(depths),
    ))
}
