//! Reply, reply-all and forward from a signed-in recipient, each allowed only by its right.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use sealpost_api::recipient::{ForwardRequest, ReplyRequest, SentView};

use super::{SignedIn, refusal_error};
use crate::app::AppState;
use crate::domain::portal_log::PortalEvent;
use crate::domain::release::check;
use crate::domain::rights::Right;
use crate::error::ApiError;
use crate::extract::{body_limit, read_json};
use crate::replies;
use crate::tracking::{Client, Happened};

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
) -> Result<(), ApiError> {
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
    signed.touch(state).await
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
    allowed(&state, &signed, &client, right).await?;
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
    allowed(&state, &signed, &client, Right::Forward).await?;
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
