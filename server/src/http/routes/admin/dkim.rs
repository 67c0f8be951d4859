//! The tenant's DKIM keys: make one for a proven domain, list them with the TXT record each needs,
//! remove one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use sealpost_api::admin::{DkimKeyView, DkimKeysQuery, NewDkimKeyRequest};

use super::Admin;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::services::dkim;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tenant/dkim", get(list).post(create))
        .route("/tenant/dkim/{domain}/{selector}", delete(remove))
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    ApiQuery(filter): ApiQuery<DkimKeysQuery>,
) -> Result<Json<Vec<DkimKeyView>>, ApiError> {
    let domain = filter.domain.map(|d| d.to_ascii_lowercase());
    let keys = dkim::list(&state, &admin.tenant, domain.as_deref()).await?;
    Ok(Json(keys.iter().map(dkim::view).collect()))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(req): ApiJson<NewDkimKeyRequest>,
) -> Result<(StatusCode, Json<DkimKeyView>), ApiError> {
    let key = dkim::create(
        &state,
        &admin.tenant,
        &req.domain,
        &req.algorithm,
        req.selector.as_deref(),
    )
    .await?;
    let view = dkim::view(&key);
    admin
        .audit(&state, "dkim.key_created", &view.record_name)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path((domain, selector)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    dkim::remove(&state, &admin.tenant, &domain, &selector).await?;
    admin
        .audit(
            &state,
            "dkim.key_removed",
            &dkim::record_name(&selector.to_ascii_lowercase(), &domain.to_ascii_lowercase()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
