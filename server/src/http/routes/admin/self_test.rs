//! `POST /api/admin/self-test`: the server's half of `Test-IRMConfiguration` (see
//! [`crate::services::self_test`]).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use sealpost_api::admin::{SelfTestRequest, SelfTestResponse};

use super::Admin;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::services::self_test;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/self-test", post(run))
}

async fn run(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(req): ApiJson<SelfTestRequest>,
) -> Result<Json<SelfTestResponse>, ApiError> {
    let answer = self_test::run(&state, &admin.tenant, &req).await?;
    admin
        .audit(&state, "self_test.run", &answer.message_id)
        .await?;
    Ok(Json(answer))
}
