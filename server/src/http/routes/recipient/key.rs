//! Key release and the access check an open page polls.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use sealpost_api::ErrorCode;
use sealpost_api::recipient::{AccessState, AccessView, KeyRequest, KeyResponse};
use sealpost_envelope::release::PUBLIC_KEY_LEN;
use sealpost_envelope::{ReleaseBinding, seal_release};

use super::{NotSignedIn, SignedIn, facts, refusal_error};
use crate::domain::ValidationError;
use crate::domain::release::{Refusal, check};
use crate::domain::rights::Right;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::services::error::ServiceError;
use crate::services::sending::message_key;
use crate::services::tracking::{Client, Happened};
use crate::state::AppState;
use crate::store::StoredMessage;
use crate::store::portal::SessionContext;

/// How long a page may keep a released key before asking again (never past the expiry).
pub const LEASE_SECONDS: i64 = 10 * 60;
/// How often an open page should check that the message is still readable (well under the
/// 30 seconds within which a revocation must reach it).
pub const CHECK_EVERY_SECONDS: u32 = 15;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{message}/key", post(release_key))
        .route("/{message}/access", get(access))
}

fn invalid_public_key() -> ApiError {
    ValidationError::new(
        "public_key",
        ErrorCode::InvalidPublicKey.as_str(),
        "The page's public key must be 32 bytes of X25519, in base64url.",
    )
    .into()
}

/// Record that a session which has just ended was refused the key.
async fn refused_after_session_ended(
    state: &AppState,
    ended: &SessionContext,
    client: &Client,
) -> Result<(), ApiError> {
    Happened {
        tenant: &ended.tenant,
        message_id: &ended.message.id,
        recipient: &ended.session.address,
        client,
    }
    .key_refused(state, ErrorCode::SessionExpired.as_str())
    .await?;
    Ok(())
}

async fn release_key(
    State(state): State<AppState>,
    signed: Result<SignedIn, NotSignedIn>,
    client: Client,
    ApiJson(req): ApiJson<KeyRequest>,
) -> Result<Json<KeyResponse>, ApiError> {
    let signed = match signed {
        Ok(s) => s,
        Err(NotSignedIn { error, ended }) => {
            if let Some(session) = ended {
                refused_after_session_ended(&state, &session, &client).await?;
            }
            return Err(error);
        }
    };
    let now = state.clock.now();
    let h = Happened {
        tenant: &signed.tenant,
        message_id: &signed.message.id,
        recipient: &signed.session.address,
        client: &client,
    };
    let Some(public_key) = BASE64URL
        .decode(req.public_key.trim())
        .ok()
        .filter(|k| k.len() == PUBLIC_KEY_LEN)
    else {
        h.key_refused(&state, ErrorCode::InvalidPublicKey.as_str())
            .await?;
        return Err(invalid_public_key());
    };
    if let Err(refusal) = check(&signed.facts(now), Right::View) {
        h.key_refused(&state, refusal.code()).await?;
        return Err(refusal_error(refusal, &signed.message));
    }
    let (message_id, key) = match message_key(&state, &signed.tenant, &signed.message).await {
        Ok(k) => k,
        Err(ServiceError::Key(refusal)) => {
            h.key_refused(&state, refusal.code()).await?;
            return Err(refusal_error(refusal, &signed.message));
        }
        Err(e) => return Err(e.into()),
    };
    let release = seal_release(
        &public_key,
        &key,
        &ReleaseBinding {
            message_id: &message_id,
            recipient: &signed.session.address,
            session: signed.session.binding.as_bytes(),
        },
    )
    .map_err(|_| invalid_public_key());
    drop(key);
    let release = match release {
        Ok(r) => r,
        Err(e) => {
            h.key_refused(&state, ErrorCode::InvalidPublicKey.as_str())
                .await?;
            return Err(e);
        }
    };
    // The first open is kept; later releases (a reload, a new lease) need no write for it.
    let opened = signed
        .message
        .recipients
        .iter()
        .any(|r| r.address == signed.session.address && r.opened_at.is_some());
    // The release is answered only once it is recorded, with the first open and the session's
    // use, in the group commit it shares with concurrent releases.
    h.key_released(&state, !opened, signed.touch_due(now))
        .await?;
    let lease = match signed.message.expires_at {
        Some(at) => LEASE_SECONDS.min(at - now),
        None => LEASE_SECONDS,
    };
    Ok(Json(KeyResponse {
        release: BASE64URL.encode(release),
        recipient: signed.session.address.clone(),
        binding: signed.session.binding.clone(),
        rights: signed.rights().names(),
        lease_seconds: u32::try_from(lease.max(1)).unwrap_or(1),
    }))
}

/// Whether `address` may still read `message` at `now`.
pub fn access_state(message: &StoredMessage, address: &str, now: i64) -> AccessState {
    match check(&facts(message, address, now), Right::View) {
        Ok(()) => AccessState::Active,
        Err(Refusal::Expired) => AccessState::Expired,
        Err(Refusal::RecipientRevoked) => AccessState::AccessRemoved,
        // Revoked for everyone, or (a broken database) no longer a recipient.
        Err(_) => AccessState::Revoked,
    }
}

/// Whether the message is still readable by this recipient. Not counted as use of the session: a
/// page left open does not keep itself signed in.
async fn access(State(state): State<AppState>, signed: SignedIn) -> Json<AccessView> {
    Json(AccessView {
        state: access_state(&signed.message, &signed.session.address, state.clock.now()),
        check_again_seconds: CHECK_EVERY_SECONDS,
    })
}
