//! Sending protected messages, their status (`Get-OMEMessageStatus`) and revocation
//! (`Set-OMEMessageRevocation`), for a whole message or one recipient.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_api::admin::{MessageListView, MessageStatusView, SendMessageRequest, SendOptions};

use super::Admin;
use crate::domain::address::EmailAddress;
use crate::domain::composed::{ComposedMessage, decode_attachments};
use crate::http::error::ApiError;
use crate::http::extract::{body_limit, json_from_slice, query_from_uri};
use crate::mail::inbound;
use crate::services::{revoking, sending};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/messages", post(send).get(list))
        .route("/messages/{id}", get(status))
        .route("/messages/{id}/revoke", post(revoke))
        .route(
            "/messages/{id}/recipients/{address}/revoke",
            post(revoke_recipient),
        )
}

fn too_large(limit: u64) -> ApiError {
    ApiError::refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        "message_too_large",
        format!(
            "The message is larger than the limit of {:.1} MB. Nothing was sent.",
            limit as f64 / 1_048_576.0
        ),
    )
}

async fn send(
    State(state): State<AppState>,
    admin: Admin,
    req: Request,
) -> Result<(StatusCode, Json<MessageStatusView>), ApiError> {
    let limit = state.config.max_message_size;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let options: SendOptions = query_from_uri(req.uri())?;
    let body: Bytes = axum::body::to_bytes(req.into_body(), body_limit(&state.config))
        .await
        .map_err(|_| too_large(limit))?;
    let (composed, options) = match content_type.as_str() {
        "application/json" => {
            let req: SendMessageRequest = json_from_slice(&body)?;
            let attachments = decode_attachments(&req.attachments)?;
            let composed = ComposedMessage::from_request(&req, attachments, limit)?;
            let options = SendOptions {
                branding_template: req.branding_template,
                rights_template: req.rights_template,
                expires_in_days: req.expires_in_days,
            };
            (composed, options)
        }
        "message/rfc822" => (inbound::parse(&body, limit)?, options),
        _ => {
            return Err(ApiError::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send application/json (fields) or message/rfc822 (a whole message).",
            ));
        }
    };
    drop(body);
    let id = sending::send(&state, &admin.tenant, &admin.token.label, composed, options).await?;
    let stored = state.store.message(&admin.tenant.id, &id).await?;
    let view = sending::status_view(&state, &admin.tenant, &stored).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<MessageListView>, ApiError> {
    let stored = state.store.messages(&admin.tenant.id, 100).await?;
    let mut messages = Vec::with_capacity(stored.len());
    for m in &stored {
        messages.push(sending::status_view(&state, &admin.tenant, m).await?);
    }
    Ok(Json(MessageListView { messages }))
}

async fn status(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<MessageStatusView>, ApiError> {
    let m = state.store.message(&admin.tenant.id, &id).await?;
    Ok(Json(sending::status_view(&state, &admin.tenant, &m).await?))
}

async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<MessageStatusView>, ApiError> {
    revoking::revoke(&state, &admin.tenant, &id, None, &admin.token.label).await?;
    let m = state.store.message(&admin.tenant.id, &id).await?;
    Ok(Json(sending::status_view(&state, &admin.tenant, &m).await?))
}

async fn revoke_recipient(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, address)): Path<(String, String)>,
) -> Result<Json<MessageStatusView>, ApiError> {
    let address = EmailAddress::parse("address", &address).map_err(|_| ApiError::NotFound)?;
    revoking::revoke(
        &state,
        &admin.tenant,
        &id,
        Some(&address),
        &admin.token.label,
    )
    .await?;
    let m = state.store.message(&admin.tenant.id, &id).await?;
    Ok(Json(sending::status_view(&state, &admin.tenant, &m).await?))
}
