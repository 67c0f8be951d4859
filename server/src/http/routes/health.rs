//! `GET /healthz` (liveness: the process answers), `GET /readyz` (readiness: the database and the
//! blob store answer, so a load balancer sends this node traffic) and `GET /metrics` (Prometheus).

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sealpost_api::HealthResponse;

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

async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let (queued, failed) = state.store.mail_queue_depth().await?;
    Ok((
        [(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(queued, failed),
    ))
}
