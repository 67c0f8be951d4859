//! Drafts: sending a message whose attachments are too large for one request. Begin a draft,
//! declare each attachment, `PUT` its bytes window by window with `Content-Range` (and, if you
//! like, `Content-Digest`), then send the draft. After a network error, `GET` the draft to see
//! where each attachment goes on. The windows are sealed as they arrive (see
//! `services::uploads`).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use sealpost_api::admin::{
    CreateDraftAttachmentRequest, CreateDraftRequest, DraftAttachmentView, DraftView,
    MessageStatusView, SendMessageRequest,
};

use super::Admin;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, body_limit, read_json};
use crate::services::sending;
use crate::services::uploads::{self, Owner, Window};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/drafts", post(create))
        .route("/drafts/{id}", get(show).delete(remove))
        .route("/drafts/{id}/attachments", post(add_attachment))
        .route("/drafts/{id}/attachments/{index}", put(put_window))
        .route("/drafts/{id}/send", post(send))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(req): ApiJson<CreateDraftRequest>,
) -> Result<(StatusCode, Json<DraftView>), ApiError> {
    let draft = uploads::create(&state, &admin.tenant, &req).await?;
    Ok((StatusCode::CREATED, Json(uploads::view(&draft))))
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<DraftView>, ApiError> {
    let draft = uploads::get(&state, &admin.tenant, Owner::Admin, &id).await?;
    Ok(Json(uploads::view(&draft)))
}

async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    uploads::delete(&state, &admin.tenant, Owner::Admin, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_attachment(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CreateDraftAttachmentRequest>,
) -> Result<(StatusCode, Json<DraftAttachmentView>), ApiError> {
    let a = uploads::add_attachment(&state, &admin.tenant, Owner::Admin, &id, &req).await?;
    Ok((StatusCode::CREATED, Json(uploads::attachment_view(&a))))
}

async fn put_window(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, index)): Path<(String, String)>,
    window: Window<axum::body::BodyDataStream>,
) -> Result<Json<DraftAttachmentView>, ApiError> {
    let index: u32 = index.parse().map_err(|_| ApiError::NotFound)?;
    let a = uploads::put_window(&state, &admin.tenant, Owner::Admin, &id, index, window).await?;
    Ok(Json(uploads::attachment_view(&a)))
}

async fn send(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    req: Request,
) -> Result<(StatusCode, Json<MessageStatusView>), ApiError> {
    let body: SendMessageRequest = read_json(req, body_limit(&state.config)).await?;
    let id = uploads::send(&state, &admin.tenant, &admin.token.label, &id, &body).await?;
    let stored = state.store.message(&admin.tenant.id, &id).await?;
    let view = sending::status_view(&state, &admin.tenant, &stored).await?;
    Ok((StatusCode::CREATED, Json(view)))
}
