//! Reply drafts: a signed-in recipient's reply whose attachments are too large for one request.
//! The portal begins a draft, declares each file, `PUT`s it window by window (as the admin API's
//! drafts take them, see `services::uploads`), then sends the reply naming the draft. Only a
//! recipient the message lets reply may begin one; only they reach it, and only through this
//! message. Each recipient has a few drafts and bytes at once, recipients together at most half of
//! the tenant's (`[uploads]`), and one window at a time per recipient on each node (recipients of
//! every tenant together hold at most half of a node's sealing slots, see `services::uploads`).

use axum::body::BodyDataStream;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use sealpost_api::admin::{CreateDraftAttachmentRequest, DraftAttachmentView, DraftView};

use super::{SignedIn, refusal_error};
use crate::connections::Running;
use crate::domain::release::check;
use crate::domain::rights::Right;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::services::uploads::{self, Owner, Window};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{message}/drafts", post(create))
        .route("/{message}/drafts/{id}", get(show).delete(remove))
        .route("/{message}/drafts/{id}/attachments", post(add_attachment))
        .route(
            "/{message}/drafts/{id}/attachments/{index}",
            put(put_window),
        )
}

/// The recipient may reply (or reply to all) now: the message is neither revoked nor expired,
/// and its rights allow it.
async fn may_reply(state: &AppState, signed: &SignedIn) -> Result<(), ApiError> {
    let facts = signed.facts(state.clock.now());
    if let Err(refusal) = check(&facts, Right::Reply) {
        check(&facts, Right::ReplyAll).map_err(|_| refusal_error(refusal, &signed.message))?;
    }
    signed.touch(state).await
}

fn owner(signed: &SignedIn) -> Owner<'_> {
    Owner::Recipient {
        address: &signed.session.address,
        message_id: &signed.message.id,
    }
}

async fn create(
    State(state): State<AppState>,
    signed: SignedIn,
) -> Result<(StatusCode, Json<DraftView>), ApiError> {
    may_reply(&state, &signed).await?;
    let draft = uploads::create_reply(
        &state,
        &signed.tenant,
        &signed.session.address,
        &signed.message.id,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(uploads::view(&draft))))
}

async fn show(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<DraftView>, ApiError> {
    let draft = uploads::get(&state, &signed.tenant, owner(&signed), &id).await?;
    Ok(Json(uploads::view(&draft)))
}

async fn remove(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    uploads::delete(&state, &signed.tenant, owner(&signed), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_attachment(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<CreateDraftAttachmentRequest>,
) -> Result<(StatusCode, Json<DraftAttachmentView>), ApiError> {
    may_reply(&state, &signed).await?;
    let a = uploads::add_attachment(&state, &signed.tenant, owner(&signed), &id, &req).await?;
    Ok((StatusCode::CREATED, Json(uploads::attachment_view(&a))))
}

/// One window at a time per recipient on this node, so one outsider cannot take all of the
/// recipients' share of the node's sealing slots.
fn one_window(state: &AppState, signed: &SignedIn) -> Result<Running, ApiError> {
    let key = format!("upload\0{}\0{}", signed.tenant.id, signed.session.address);
    state
        .answers_running
        .start(&key)
        .ok_or_else(|| ApiError::TooMany {
            code: "upload_in_progress",
            message: "Another window of your files is being sent right now; send this one when it \
                  has finished."
                .to_owned(),
            retry_after: 5,
        })
}

async fn put_window(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((_, id, index)): Path<(String, String, String)>,
    window: Window<BodyDataStream>,
) -> Result<Json<DraftAttachmentView>, ApiError> {
    let index: u32 = index.parse().map_err(|_| ApiError::NotFound)?;
    may_reply(&state, &signed).await?;
    let _one = one_window(&state, &signed)?;
    let a = uploads::put_window(&state, &signed.tenant, owner(&signed), &id, index, window).await?;
    Ok(Json(uploads::attachment_view(&a)))
}
