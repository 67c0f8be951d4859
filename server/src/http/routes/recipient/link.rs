//! What the page shows before and around sign-in: the tenant's branding, the sender, the masked
//! address the passcode goes to, and whether the message can still be read.
//!
//! Unlike a passcode request, an unknown link gets its own answer (`404 link_not_found`): a link
//! token holds 256 random bits, so telling someone a guessed token is wrong reveals nothing, and
//! the answer says nothing about whether a message or an address exists.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sealpost_api::ErrorCode;
use sealpost_api::recipient::{LinkRequest, LinkView, PortalBranding, SocialProvider};

use super::SignedIn;
use super::key::access_state;
use crate::clock::rfc3339;
use crate::domain::address::EmailAddress;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::secrets::hash_secret;
use crate::services::sending::branding_or_default;
use crate::services::{passkeys, social};
use crate::state::AppState;
use crate::store::{StoreError, StoredMessage, Tenant};

pub fn router() -> Router<AppState> {
    Router::new().route("/{message}/link", post(by_token).get(signed_in))
}

pub(super) fn link_not_found() -> ApiError {
    ApiError::refused(
        StatusCode::NOT_FOUND,
        ErrorCode::LinkNotFound.as_str(),
        "This link does not open a message. Use the link in the most recent email you received about it.",
    )
}

async fn by_token(
    State(state): State<AppState>,
    Path(message_id): Path<String>,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<Json<LinkView>, ApiError> {
    let linked = match state
        .store
        .linked_recipient(&hash_secret(req.token.trim()))
        .await
    {
        Ok(l) if l.message_id == message_id => l,
        Ok(_) | Err(StoreError::NotFound) => return Err(link_not_found()),
        Err(e) => return Err(e.into()),
    };
    let message = state.store.message_by_id(&linked.message_id).await?;
    let tenant = state.store.tenant(&message.tenant_id).await?;
    let passkey = passkeys::has_passkey(&state, &tenant.id, &linked.address).await?;
    view(&state, &tenant, &message, &linked.address, passkey).await
}

async fn signed_in(
    State(state): State<AppState>,
    signed: SignedIn,
) -> Result<Json<LinkView>, ApiError> {
    view(
        &state,
        &signed.tenant,
        &signed.message,
        &signed.session.address,
        false,
    )
    .await
}

async fn view(
    state: &AppState,
    tenant: &Tenant,
    message: &StoredMessage,
    address: &str,
    passkey_sign_in: bool,
) -> Result<Json<LinkView>, ApiError> {
    let branding = branding_or_default(state, &tenant.id, &message.branding_template).await?;
    let texts = branding.view();
    let hint = EmailAddress::parse("recipient", address)
        .map(|a| a.masked())
        .map_err(|_| ApiError::Internal("a stored recipient address is invalid".into()))?;
    Ok(Json(LinkView {
        message_id: message.id.clone(),
        sender: message.sender.clone(),
        recipient_hint: hint,
        state: access_state(message, address, state.clock.now()),
        expires_at: message.expires_at.map(rfc3339),
        branding: PortalBranding {
            tenant_name: tenant.name.clone(),
            logo: branding.image().map(|(format, bytes)| {
                format!(
                    "data:{};base64,{}",
                    format.content_type(),
                    BASE64.encode(bytes)
                )
            }),
            background_color: branding.background_color().to_owned(),
            text_color: branding.text_color(),
            portal_text: texts.portal_text.clone(),
            introduction_text: texts.introduction_text.clone(),
            disclaimer_text: texts.disclaimer_text.clone(),
            privacy_statement_url: texts.privacy_statement_url.clone(),
        },
        passcode_sign_in: texts.otp_enabled.unwrap_or(true),
        social_providers: social::offered(state, texts.social_id_sign_in == Some(true))
            .into_iter()
            .map(|p| SocialProvider {
                id: p.id.clone(),
                name: p.name.clone(),
            })
            .collect(),
        passkey_sign_in,
    }))
}
