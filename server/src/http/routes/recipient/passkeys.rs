//! Passkeys: a signed-in recipient makes one (`POST /{message}/passkeys/challenge`, then
//! `POST /{message}/passkeys`), lists and removes theirs; on a later link they sign in with one
//! (`POST /{message}/passkey-sign-in/challenge`, then `POST /{message}/passkey-sign-in`) instead
//! of an emailed code.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use sealpost_api::recipient::{
    NewPasskeyRequest, PasskeyChallenge, PasskeyChallengeRequest, PasskeySignInRequest,
    PasskeyView, PasskeysView,
};

use super::sign_in::{linked, signed_in_response};
use super::{SignedIn, cookie_name};
use crate::clock::rfc3339;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::routes::cookies::cookie;
use crate::secrets::hash_secret;
use crate::services::passcodes;
use crate::services::passkeys::{self, Challenge, Remover};
use crate::services::tracking::Client;
use crate::state::AppState;
use crate::store::portal::LinkedRecipient;
use crate::store::sign_in::PasskeyRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{message}/passkeys/challenge",
            post(registration_challenge),
        )
        .route("/{message}/passkeys", post(register).get(list))
        .route("/{message}/passkeys/{id}", delete(remove))
        .route(
            "/{message}/passkey-sign-in/challenge",
            post(sign_in_challenge),
        )
        .route("/{message}/passkey-sign-in", post(sign_in))
}

/// The view of a kept passkey.
pub fn view(r: &PasskeyRecord) -> PasskeyView {
    PasskeyView {
        id: r.id.clone(),
        name: r.name.clone(),
        created_at: rfc3339(r.created_at),
        last_used_at: r.last_used_at.map(rfc3339),
    }
}

fn challenge(c: Challenge) -> Json<PasskeyChallenge> {
    Json(PasskeyChallenge {
        challenge: c.id,
        options: c.options,
    })
}

fn recipient(signed: &SignedIn) -> LinkedRecipient {
    LinkedRecipient {
        tenant_id: signed.tenant.id.clone(),
        message_id: signed.message.id.clone(),
        address: signed.session.address.clone(),
    }
}

async fn registration_challenge(
    State(state): State<AppState>,
    client: Client,
    signed: SignedIn,
) -> Result<Json<PasskeyChallenge>, ApiError> {
    signed.touch(&state).await?;
    // Each challenge is a row: counted per client and per session.
    passcodes::count_try(&state, &client.addr, &signed.id_hash).await?;
    let c = passkeys::start_registration(
        &state,
        &signed.tenant,
        &recipient(&signed),
        &signed.id_hash,
        signed.session.times.created_at,
    )
    .await?;
    Ok(challenge(c))
}

async fn register(
    State(state): State<AppState>,
    client: Client,
    signed: SignedIn,
    ApiJson(req): ApiJson<NewPasskeyRequest>,
) -> Result<Response, ApiError> {
    signed.touch(&state).await?;
    let record = passkeys::finish_registration(
        &state,
        &signed.tenant,
        &recipient(&signed),
        (&signed.id_hash, signed.session.times.created_at),
        &req.challenge,
        req.credential,
        req.name.as_deref(),
        &client,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&record))).into_response())
}

async fn list(
    State(state): State<AppState>,
    signed: SignedIn,
) -> Result<Json<PasskeysView>, ApiError> {
    signed.touch(&state).await?;
    let records = state
        .store
        .passkeys(&signed.tenant.id, Some(&signed.session.address))
        .await?;
    Ok(Json(PasskeysView {
        passkeys: records.iter().map(view).collect(),
    }))
}

async fn remove(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    client: Client,
    signed: SignedIn,
) -> Result<StatusCode, ApiError> {
    signed.touch(&state).await?;
    passkeys::remove(
        &state,
        &signed.tenant,
        &id,
        Some(&signed.session.address),
        Remover::Recipient {
            message_id: &signed.message.id,
            client: &client,
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sign_in_challenge(
    State(state): State<AppState>,
    Path(message_id): Path<String>,
    client: Client,
    ApiJson(req): ApiJson<PasskeyChallengeRequest>,
) -> Result<Json<PasskeyChallenge>, ApiError> {
    let token_hash = hash_secret(req.token.trim());
    passcodes::count_try(&state, &client.addr, &token_hash).await?;
    let Some(l) = linked(&state, &message_id, &token_hash).await? else {
        return Err(super::link::link_not_found());
    };
    let tenant = state.store.tenant(&l.tenant_id).await?;
    Ok(challenge(
        passkeys::start_sign_in(&state, &tenant, &l, &token_hash, &client).await?,
    ))
}

async fn sign_in(
    State(state): State<AppState>,
    Path(message_id): Path<String>,
    headers: HeaderMap,
    client: Client,
    ApiJson(req): ApiJson<PasskeySignInRequest>,
) -> Result<Response, ApiError> {
    let token_hash = hash_secret(req.token.trim());
    passcodes::count_try(&state, &client.addr, &token_hash).await?;
    let Some(l) = linked(&state, &message_id, &token_hash).await? else {
        return Err(super::link::link_not_found());
    };
    let tenant = state.store.tenant(&l.tenant_id).await?;
    let replaced = cookie(&headers, &cookie_name(&message_id)).map(hash_secret);
    let opened = passkeys::finish_sign_in(
        &state,
        &tenant,
        &l,
        &token_hash,
        &req.challenge,
        req.credential,
        req.keep_signed_in,
        replaced.as_ref(),
        &client,
    )
    .await?;
    signed_in_response(&l.message_id, &l.address, &opened)
}
