//! `GET /healthz`: liveness for load balancers and the portal's status line.

use axum::routing::get;
use axum::{Json, Router};
use sealpost_api::HealthResponse;

use crate::app::AppState;

/// The health route.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
