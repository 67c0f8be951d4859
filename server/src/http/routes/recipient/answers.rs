//! Reply, reply-all and forward from a signed-in recipient, each allowed only by its right.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use sealpost_api::recipient::{ForwardRequest, ReplyRequest, SentView};
use sha2::{Digest, Sha256};

use super::{SignedIn, refusal_error};
use crate::connections::Running;
use crate::domain::passcode::RATE_WINDOW;
use crate::domain::portal_log::PortalEvent;
use crate::domain::release::check;
use crate::domain::rights::Right;
use crate::http::error::ApiError;
use crate::http::extract::{body_limit, read_json};
use crate::services::replies;
use crate::services::tracking::{Client, Happened};
use crate::state::AppState;

/// Replies and forwards one recipient may send from one message per hour.
pub const MAX_ANSWERS_PER_HOUR: u32 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{message}/reply", post(reply))
        .route("/{message}/reply-all", post(reply_all))
        .route("/{message}/forward", post(forward))
}

/// Check `right` and record a refusal; the happened-record for the rest.
async fn allowed(
    state: &AppState,
    signed: &SignedIn,
    client: &Client,
    right: Right,
) -> Result<Running, ApiError> {
    if let Err(refusal) = check(&signed.facts(state.clock.now()), right) {
        happened(signed, client)
            .track(
                state,
                PortalEvent::ActionRefused,
                &format!("{}: {}", right.as_str(), refusal.code()),
            )
            .await?;
        return Err(refusal_error(refusal, &signed.message));
    }
    // One at a time per recipient and message, taken before the body (up to the message size
    // limit) is read, so parallel requests cannot multiply the memory it takes.
    let running = state
        .answers_running
        .start(&format!("{}\0{}", signed.message.id, signed.session.address))
        .ok_or_else(|| {
            ApiError::TooMany {
                code: "answer_in_progress",
                message: "Your previous reply or forward of this message is still being sent; wait for it to finish.".to_owned(),
                retry_after: 5,
            }
        })?;
    // Replies and forwards send mail through the tenant's relay: a recipient gets a fair number of
    // them per message per hour, counted in the database like every other limit.
    let now = state.clock.now();
    let key: [u8; 32] = Sha256::new()
        .chain_update(b"sealpost/answers\0")
        .chain_update(signed.message.id.as_bytes())
        .chain_update(b"\0")
        .chain_update(signed.session.address.as_bytes())
        .finalize()
        .into();
    if let Some(oldest) = state
        .store
        .count_rate_event(&key, now, now - RATE_WINDOW, MAX_ANSWERS_PER_HOUR)
        .await?
    {
        return Err(ApiError::refused(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_answers",
            format!(
                "You have sent {MAX_ANSWERS_PER_HOUR} replies and forwards of this message in the last hour. Please wait {} minutes.",
                (oldest + RATE_WINDOW - now + 59) / 60
            ),
        ));
    }
    signed.touch(state).await?;
    Ok(running)
}

fn happened<'a>(signed: &'a SignedIn, client: &'a Client) -> Happened<'a> {
    Happened {
        tenant: &signed.tenant,
        message_id: &signed.message.id,
        recipient: &signed.session.address,
        client,
    }
}

async fn answer(
    state: AppState,
    signed: SignedIn,
    client: Client,
    req: Request,
    all: bool,
) -> Result<(StatusCode, Json<SentView>), ApiError> {
    let right = if all { Right::ReplyAll } else { Right::Reply };
    let _running = allowed(&state, &signed, &client, right).await?;
    let body: ReplyRequest = read_json(req, body_limit(&state.config)).await?;
    let (id, to) = replies::reply(
        &state,
        &signed.tenant,
        &signed.message,
        &signed.session.address,
        all,
        body,
    )
    .await?;
    let event = if all {
        PortalEvent::RepliedAll
    } else {
        PortalEvent::Replied
    };
    happened(&signed, &client).track(&state, event, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(SentView {
            message_id: id,
            recipients: to,
        }),
    ))
}

async fn reply(
    State(state): State<AppState>,
    signed: SignedIn,
    client: Client,
    req: Request,
) -> Result<(StatusCode, Json<SentView>), ApiError> {
    answer(state, signed, client, req, false).await
}

async fn reply_all(
    State(state): State<AppState>,
    signed: SignedIn,
    client: Client,
    req: Request,
) -> Result<(StatusCode, Json<SentView>), ApiError> {
    answer(state, signed, client, req, true).await
}

async fn forward(
    State(state): State<AppState>,
    signed: SignedIn,
    client: Client,
    req: Request,
) -> Result<(StatusCode, Json<SentView>), ApiError> {
    let _running = allowed(&state, &signed, &client, Right::Forward).await?;
    let body: ForwardRequest = read_json(req, body_limit(&state.config)).await?;
    let (id, to) = replies::forward(
        &state,
        &signed.tenant,
        &signed.message,
        &signed.session.address,
        body,
    )
    .await?;
    happened(&signed, &client)
        .track(
            &state,
            PortalEvent::Forwarded,
            &format!("{id} to {}", to.join(", ")),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SentView {
            message_id: id,
            recipients: to,
        }),
    ))
}
