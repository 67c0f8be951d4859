//! `/api/sender/*`: a sender signs in with a passcode sent to their own address, sees the
//! protected messages they sent (recipients, notices, who opened them and when, revocations and
//! expiry) and removes external access for everyone or for one recipient.
//!
//! Anyone whose address is in a tenant's domain may ask; the answer is the same for any address,
//! and only an address in a tenant's domain gets an email. A sender sees only messages whose
//! sender is exactly their address, in their own tenant.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_api::ErrorCode;
use sealpost_api::recipient::PasscodeResponse;
use sealpost_api::sender::{
    SenderPasscodeRequest, SenderSessionView, SenderSignInRequest, SentMessagesView,
};

use super::cookies::{cookie, set_cookie};
use super::csrf::require_csrf_header;
use crate::clock::rfc3339;
use crate::domain::address::EmailAddress;
use crate::domain::passcode::{VALID_FOR, rate_key, reference_word};
use crate::domain::session::SessionTimes;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::mail::passcode::Purpose;
use crate::secrets::{hash_secret, new_id, new_secret, random_byte};
use crate::services::limits::{self, Limit};
use crate::services::passcodes::{self, Checked};
use crate::services::tracking::Client;
use crate::services::{revoking, sending};
use crate::state::AppState;
use crate::store::portal::{NewSession, sender_scope};
use crate::store::{StoreError, Tenant};

/// The sender's session cookie.
pub const COOKIE: &str = "__Host-sp-sender";
/// At most this many messages are listed.
const LIST_LIMIT: u32 = 100;

/// The sender routes (mounted under `/api/sender`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/passcode", post(request_passcode))
        .route("/session", post(sign_in).get(show_session).delete(sign_out))
        .route("/messages", get(list))
        .route("/messages/{id}/revoke", post(revoke))
        .route(
            "/messages/{id}/recipients/{address}/revoke",
            post(revoke_recipient),
        )
        .layer(middleware::from_fn(require_csrf_header))
        .layer(axum::extract::DefaultBodyLimit::max(
            super::recipient::SMALL_BODY,
        ))
}

/// The tenant whose domain `address` is in, if any.
async fn tenant_of(state: &AppState, address: &EmailAddress) -> Result<Option<Tenant>, ApiError> {
    match state.store.tenant_by_domain(address.domain()).await {
        Ok(t) => Ok(Some(t)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The cookie that binds a sender's passcode to the browser that asked for it.
pub const PENDING_COOKIE: &str = "__Host-sp-sender-pending";

/// The scope a sender's passcode is kept under: the tenant and the browser that asked for it, so
/// tries from anywhere else never reach it (and so cannot burn it).
fn pending_scope(tenant_id: &str, pending: &str) -> String {
    format!(
        "{}:{}",
        sender_scope(tenant_id),
        hex::encode(&hash_secret(pending)[..16])
    )
}

async fn request_passcode(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<SenderPasscodeRequest>,
) -> Result<Response, ApiError> {
    let address = EmailAddress::parse("address", &req.address)?;
    // Counted per client and per domain before anything else, whatever the address: one client
    // cannot flood a domain with passcode mail, nor many clients one domain.
    let l = &state.config.limits;
    let hour = 3600;
    limits::take_all(
        &state,
        &[
            (
                Limit {
                    name: "sender passcodes per client",
                    max: l.sender_passcodes_per_client,
                    window: hour,
                },
                &limits::client_subject(&client.addr),
            ),
            (
                Limit {
                    name: "sender passcodes per domain",
                    max: l.sender_passcodes_per_domain,
                    window: hour,
                },
                address.domain().as_bytes(),
            ),
        ],
        ErrorCode::TooManyPasscodes.as_str(),
        "Too many passcodes were asked for from here or for this domain. Try again in {minutes} minutes.",
    )
    .await?;
    // Only an address that has sent protected mail through Sealpost gets a code: anyone else in
    // the domain has nothing to see, and no mail is sent to them.
    let tenant = match tenant_of(&state, &address).await? {
        Some(t) => {
            let sent = state
                .store
                .messages_by_sender(&t.id, address.as_str(), 1)
                .await?;
            (!sent.is_empty()).then_some(t)
        }
        None => None,
    };
    let scope = tenant.as_ref().map(|t| sender_scope(&t.id));
    let key = rate_key(
        scope.as_deref().map(|s| (s, address.as_str())),
        &client.addr,
    );
    if let Some(refused) = passcodes::over_limit(&state, &key).await? {
        return Err(refused.into());
    }
    let reference = reference_word(random_byte());
    let (pending, _) = new_secret("");
    if let Some(tenant) = tenant {
        let scope = pending_scope(&tenant.id, pending.as_str());
        // After the answer, so the mail's delivery time never shows in the response time.
        let tasks = state.after_answer.clone();
        let state = state.clone();
        let address = address.to_string();
        tasks.spawn(async move {
            let sent = passcodes::issue(
                &state,
                &tenant,
                &scope,
                &address,
                Purpose::SentMessages,
                reference,
                None,
            )
            .await;
            match sent {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    "a sender's passcode was not sent at once; the outbox tries again"
                ),
                Err(e) => tracing::error!(error = %e, "a sender's passcode could not be stored"),
            }
        });
    }
    let mut response = (
        StatusCode::ACCEPTED,
        Json(PasscodeResponse {
            reference: reference.to_owned(),
            expires_in_seconds: VALID_FOR as u32,
            message: format!(
                "If {address} can send protected mail, a passcode is on its way to it. Check that the email shows the reference word “{reference}”."
            ),
        }),
    )
        .into_response();
    set_cookie(
        &mut response,
        PENDING_COOKIE,
        pending.as_str(),
        Some(VALID_FOR),
    )?;
    Ok(response)
}

fn passcode_invalid() -> ApiError {
    passcodes::invalid().into()
}

fn session_view(address: &str, tenant: &Tenant, times: &SessionTimes) -> SenderSessionView {
    SenderSessionView {
        address: address.to_owned(),
        tenant_name: tenant.name.clone(),
        expires_at: rfc3339(times.ends_at()),
        idle_timeout_seconds: times.idle_limit() as u32,
    }
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    ApiJson(req): ApiJson<SenderSignInRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let address = EmailAddress::parse("address", &req.address).map_err(|_| passcode_invalid())?;
    // The code is looked for only where this browser's own request put it, and tries are counted
    // per browser too, so nobody else's tries can lock a sender out.
    let pending = cookie(&headers, PENDING_COOKIE);
    let target = format!(
        "sender:{address}:{}",
        pending
            .map(|p| hex::encode(hash_secret(p)))
            .unwrap_or_default()
    );
    passcodes::count_try(&state, &client.addr, target.as_bytes()).await?;
    let tenant = tenant_of(&state, &address).await?;
    let code_scope = match (&tenant, pending) {
        (Some(t), Some(p)) => pending_scope(&t.id, p),
        _ => "sender:".to_owned(),
    };
    let checked = passcodes::check(&state, &code_scope, address.as_str(), &req.passcode).await?;
    let (Some(tenant), Checked::Accepted) = (tenant, checked) else {
        return Err(passcode_invalid());
    };
    let (secret, id_hash) = new_secret("");
    let replaced = cookie(&headers, COOKIE).map(hash_secret);
    state
        .store
        .create_session(
            &NewSession {
                id_hash,
                binding: new_id(),
                scope: sender_scope(&tenant.id),
                address: address.to_string(),
                created_at: now,
                keep_signed_in: false,
            },
            replaced.as_ref(),
        )
        .await?;
    let times = SessionTimes {
        created_at: now,
        last_seen_at: now,
        keep_signed_in: false,
    };
    let mut response = Json(session_view(address.as_str(), &tenant, &times)).into_response();
    set_cookie(&mut response, COOKIE, secret.as_str(), None)?;
    set_cookie(&mut response, PENDING_COOKIE, "", Some(0))?;
    Ok(response)
}

/// A request from a sender with a live session.
#[derive(Debug, Clone)]
pub struct SignedInSender {
    /// The sender's address.
    pub address: EmailAddress,
    pub tenant: Tenant,
    times: SessionTimes,
}

fn sender_session_required() -> ApiError {
    ApiError::refused(
        StatusCode::UNAUTHORIZED,
        ErrorCode::SessionRequired.as_str(),
        "Sign in with the passcode we email you to see the messages you sent.",
    )
}

impl FromRequestParts<AppState> for SignedInSender {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = cookie(&parts.headers, COOKIE).ok_or_else(sender_session_required)?;
        let id_hash = hash_secret(secret);
        let session = match state.store.session(&id_hash).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Err(sender_session_required()),
            Err(e) => return Err(e.into()),
        };
        // A recipient's session (scoped to a message) never signs anyone in here.
        let Some(tenant_id) = session.scope.strip_prefix("sender:") else {
            return Err(sender_session_required());
        };
        if !session.times.is_live(state.clock.now()) {
            state.store.end_session(&id_hash).await?;
            return Err(ApiError::refused(
                StatusCode::UNAUTHORIZED,
                ErrorCode::SessionExpired.as_str(),
                "Your session has ended. Ask for a new passcode to sign in again.",
            ));
        }
        let tenant = state.store.tenant(tenant_id).await?;
        let address = EmailAddress::parse("address", &session.address)
            .map_err(|_| sender_session_required())?;
        // A domain the tenant has since given up no longer signs its people in.
        if !address.is_in(&tenant.domains) {
            state.store.end_session(&id_hash).await?;
            return Err(sender_session_required());
        }
        state
            .store
            .touch_session(&id_hash, state.clock.now())
            .await?;
        Ok(SignedInSender {
            address,
            tenant,
            times: session.times,
        })
    }
}

async fn show_session(
    State(state): State<AppState>,
    me: SignedInSender,
) -> Json<SenderSessionView> {
    let times = SessionTimes {
        last_seen_at: state.clock.now(),
        ..me.times
    };
    Json(session_view(me.address.as_str(), &me.tenant, &times))
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = cookie(&headers, COOKIE) {
        let id_hash = hash_secret(secret);
        if let Ok(session) = state.store.session(&id_hash).await
            && session.scope.starts_with("sender:")
        {
            state.store.end_session(&id_hash).await?;
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, COOKIE, "", Some(0))?;
    Ok(response)
}

async fn sent_view(state: &AppState, me: &SignedInSender) -> Result<SentMessagesView, ApiError> {
    let stored = state
        .store
        .messages_by_sender(&me.tenant.id, me.address.as_str(), LIST_LIMIT)
        .await?;
    let mut messages = Vec::with_capacity(stored.len());
    for m in &stored {
        messages.push(sending::status_view(state, &me.tenant, m).await?);
    }
    Ok(SentMessagesView {
        address: me.address.to_string(),
        messages,
    })
}

async fn list(
    State(state): State<AppState>,
    me: SignedInSender,
) -> Result<Json<SentMessagesView>, ApiError> {
    Ok(Json(sent_view(&state, &me).await?))
}

/// The message, if this sender sent it; another's answers `404` like one that does not exist.
async fn own_message(state: &AppState, me: &SignedInSender, id: &str) -> Result<(), ApiError> {
    let m = state.store.message(&me.tenant.id, id).await?;
    if m.sender != me.address.as_str() {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

async fn revoke(
    State(state): State<AppState>,
    me: SignedInSender,
    Path(id): Path<String>,
) -> Result<Json<SentMessagesView>, ApiError> {
    own_message(&state, &me, &id).await?;
    revoking::revoke(&state, &me.tenant, &id, None, me.address.as_str()).await?;
    Ok(Json(sent_view(&state, &me).await?))
}

async fn revoke_recipient(
    State(state): State<AppState>,
    me: SignedInSender,
    Path((id, address)): Path<(String, String)>,
) -> Result<Json<SentMessagesView>, ApiError> {
    own_message(&state, &me, &id).await?;
    let address = EmailAddress::parse("address", &address).map_err(|_| ApiError::NotFound)?;
    revoking::revoke(&state, &me.tenant, &id, Some(&address), me.address.as_str()).await?;
    Ok(Json(sent_view(&state, &me).await?))
}
