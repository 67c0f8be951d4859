//! Passcodes and sessions.
//!
//! A passcode request and a sign-in do the same work and give the same answer whether or not the
//! link token, message or address is real: an unknown token is hashed, counted against the hourly
//! limit and answered with a reference word just like a real one; only a real one gets an email.
//! The email is sent after the answer, so its delivery time never shows in the response time.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use sealpost_api::recipient::{PasscodeRequest, PasscodeResponse, SessionView, SignInRequest};

use super::{SignedIn, cookie_name};
use crate::clock::rfc3339;
use crate::domain::passcode::{MAX_ATTEMPTS, VALID_FOR, rate_key, reference_word};
use crate::domain::portal_log::PortalEvent;
use crate::domain::rights::Rights;
use crate::domain::session::{ABSOLUTE, SessionTimes};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::routes::cookies::{cookie, set_cookie};
use crate::mail::passcode::Purpose;
use crate::secrets::{hash_secret, random_byte};
use crate::services::passcodes::{self, Checked};
use crate::services::recipient_sessions::{self, Opened, SignInMethod};
use crate::services::sending::branding_or_default;
use crate::services::tracking::{Client, Happened};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::portal::LinkedRecipient;
use sealpost_api::ErrorCode;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{message}/passcode", post(request_passcode))
        .route(
            "/{message}/session",
            post(sign_in).get(show_session).delete(sign_out),
        )
}

/// The recipient a token was made for, if it was made for this message.
pub(super) async fn linked(
    state: &AppState,
    message_id: &str,
    token_hash: &[u8; 32],
) -> Result<Option<LinkedRecipient>, ApiError> {
    match state.store.linked_recipient(token_hash).await {
        Ok(l) if l.message_id == message_id => Ok(Some(l)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn request_passcode(
    State(state): State<AppState>,
    Path(message_id): Path<String>,
    client: Client,
    ApiJson(req): ApiJson<PasscodeRequest>,
) -> Result<Response, ApiError> {
    let token_hash = hash_secret(req.token.trim());
    let linked = linked(&state, &message_id, &token_hash).await?;
    let key = rate_key(
        linked
            .as_ref()
            .map(|l| (l.message_id.as_str(), l.address.as_str())),
        &client.addr,
    );
    if let Some(l) = &linked {
        passcodes_allowed(&state, l).await?;
    }
    if let Some(refused) = passcodes::over_limit(&state, &key).await? {
        if let Some(l) = linked {
            state
                .after_answer
                .spawn(after_answer(state.clone(), l, client, None));
        }
        return Err(refused.into());
    }
    let reference = reference_word(random_byte());
    if let Some(l) = linked {
        state
            .after_answer
            .spawn(after_answer(state.clone(), l, client, Some(reference)));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(PasscodeResponse {
            reference: reference.to_owned(),
            expires_in_seconds: VALID_FOR as u32,
            message: format!(
                "If this link was sent to you, a passcode is on its way to that address. Check that the email shows the reference word “{reference}”."
            ),
        }),
    )
        .into_response())
}

pub(super) fn happened<'a>(
    tenant: &'a crate::store::Tenant,
    l: &'a LinkedRecipient,
    client: &'a Client,
) -> Happened<'a> {
    Happened {
        tenant,
        message_id: &l.message_id,
        recipient: &l.address,
        client,
    }
}

/// What a real link's passcode request does after the answer has gone, so none of it shows in the
/// response time: record a refusal by the hourly limit (`reference` is `None`), or make, store and
/// email a code and record how that went.
async fn after_answer(
    state: AppState,
    l: LinkedRecipient,
    client: Client,
    reference: Option<&'static str>,
) {
    let outcome = async {
        let tenant = state.store.tenant(&l.tenant_id).await?;
        let Some(reference) = reference else {
            return happened(&tenant, &l, &client)
                .track(&state, PortalEvent::PasscodeRateLimited, "")
                .await;
        };
        let message = state.store.message_by_id(&l.message_id).await?;
        // In the language of the message's notice.
        let branding = branding_or_default(&state, &l.tenant_id, &message.branding_template).await?;
        let sent = passcodes::issue(
            &state,
            &tenant,
            &l.message_id,
            &l.address,
            Purpose::Read {
                sender: &message.sender,
            },
            reference,
            branding.view().language.as_deref(),
        )
        .await?;
        let h = happened(&tenant, &l, &client);
        if sent {
            h.track(&state, PortalEvent::PasscodeSent, "").await
        } else {
            tracing::warn!(message = %l.message_id, "a passcode was not sent at once; the outbox tries again");
            h.track(&state, PortalEvent::PasscodeSendFailed, "").await
        }
    }
    .await;
    if let Err(e) = outcome {
        tracing::error!(message = %l.message_id, error = %e, "a passcode request could not be completed");
    }
}

/// Refuse passcodes for a message whose branding template turns them off (`OTPEnabled = false`).
pub(super) async fn passcodes_allowed(
    state: &AppState,
    l: &LinkedRecipient,
) -> Result<(), ApiError> {
    let message = state.store.message_by_id(&l.message_id).await?;
    let branding = branding_or_default(state, &l.tenant_id, &message.branding_template).await?;
    if branding.view().otp_enabled == Some(false) {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            ErrorCode::PasscodesDisabled.as_str(),
            "The sender's organisation does not let this message be opened with an emailed passcode. Ask the sender for another way to receive it.",
        ));
    }
    Ok(())
}

fn passcode_invalid() -> ApiError {
    passcodes::invalid().into()
}

fn session_view(
    message_id: &str,
    address: &str,
    binding: &str,
    rights: &Rights,
    times: &SessionTimes,
) -> SessionView {
    SessionView {
        message_id: message_id.to_owned(),
        recipient: address.to_owned(),
        binding: binding.to_owned(),
        rights: rights.names(),
        expires_at: rfc3339(times.ends_at()),
        idle_timeout_seconds: times.idle_limit() as u32,
        keep_signed_in: times.keep_signed_in,
    }
}

async fn sign_in(
    State(state): State<AppState>,
    Path(message_id): Path<String>,
    headers: HeaderMap,
    client: Client,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Response, ApiError> {
    let token_hash = hash_secret(req.token.trim());
    passcodes::count_try(&state, &client.addr, &token_hash).await?;
    let linked = linked(&state, &message_id, &token_hash).await?;
    let Some(l) = linked else {
        // The same lookup and keyed-hash work as for a real link, then the same answer.
        let _ = passcodes::check(&state, &message_id, "", &req.passcode).await?;
        return Err(passcode_invalid());
    };
    passcodes_allowed(&state, &l).await?;
    let tenant = state.store.tenant(&l.tenant_id).await?;
    let h = happened(&tenant, &l, &client);
    let refused = match passcodes::check(&state, &l.message_id, &l.address, &req.passcode).await? {
        Checked::Accepted => None,
        // Another request signed in with it first, or there is no code to try (none asked for,
        // expired, or its tries used up and already recorded): nothing new to record, so
        // repeated guesses add nothing to the portal log.
        Checked::AlreadyUsed | Checked::NoCurrentCode | Checked::NoTriesLeft => Some(None),
        Checked::Wrong { attempt } => Some(Some((
            PortalEvent::PasscodeRejected,
            format!("try {attempt} of {MAX_ATTEMPTS}"),
        ))),
        Checked::Burned => Some(Some((PortalEvent::PasscodeBurned, String::new()))),
    };
    if let Some(record) = refused {
        if let Some((event, detail)) = record {
            h.track(&state, event, &detail).await?;
        }
        return Err(passcode_invalid());
    }

    let replaced = cookie(&headers, &cookie_name(&message_id)).map(hash_secret);
    let opened = recipient_sessions::open(
        &state,
        &tenant,
        &l,
        req.keep_signed_in,
        replaced.as_ref(),
        SignInMethod::Passcode,
        &client,
    )
    .await?;
    signed_in_response(&l.message_id, &l.address, &opened)
}

/// The answer to a sign-in that opened a session: the session as the page sees it, and its cookie.
/// "Keep me signed in" survives closing the browser (until the absolute limit); otherwise the
/// cookie lasts as long as the browser session.
pub(super) fn signed_in_response(
    message_id: &str,
    address: &str,
    opened: &Opened,
) -> Result<Response, ApiError> {
    let mut response = Json(session_view(
        message_id,
        address,
        &opened.binding,
        &opened.rights,
        &opened.times,
    ))
    .into_response();
    set_session_cookie(&mut response, message_id, opened)?;
    Ok(response)
}

/// Set the session cookie of `opened` on `response`.
pub(super) fn set_session_cookie(
    response: &mut Response,
    message_id: &str,
    opened: &Opened,
) -> Result<(), ApiError> {
    set_cookie(
        response,
        &cookie_name(message_id),
        opened.secret.as_str(),
        opened.times.keep_signed_in.then_some(ABSOLUTE),
    )
}

async fn show_session(
    State(state): State<AppState>,
    signed: SignedIn,
) -> Result<Json<SessionView>, ApiError> {
    signed.touch(&state).await?;
    let times = SessionTimes {
        last_seen_at: state.clock.now(),
        ..signed.session.times
    };
    Ok(Json(session_view(
        &signed.message.id,
        &signed.session.address,
        &signed.session.binding,
        &signed.rights(),
        &times,
    )))
}

async fn sign_out(
    State(state): State<AppState>,
    Path(message_id): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Result<Response, ApiError> {
    // Ends the session on the server whether or not it is still live; always clears the cookie.
    if !super::is_message_id(&message_id) {
        return Err(ApiError::NotFound);
    }
    if let Some(secret) = cookie(&headers, &cookie_name(&message_id)) {
        let id_hash = hash_secret(secret);
        if let Ok(session) = state.store.session(&id_hash).await {
            state.store.end_session(&id_hash).await?;
            // The session is gone; recording it must not keep the cookie from being cleared.
            let recorded = async {
                let message = state.store.message_by_id(&session.scope).await?;
                let tenant = state.store.tenant(&message.tenant_id).await?;
                Happened {
                    tenant: &tenant,
                    message_id: &session.scope,
                    recipient: &session.address,
                    client: &client,
                }
                .track(&state, PortalEvent::SignedOut, "")
                .await
            }
            .await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "a sign-out could not be recorded");
            }
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, &cookie_name(&message_id), "", Some(0))?;
    Ok(response)
}
