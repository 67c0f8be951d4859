//! Signing in with an identity provider: `POST /api/m/{message}/social/{provider}` begins (the
//! link token proves which recipient), the provider sends the browser back to
//! `GET /api/sign-in/callback`, which signs in and returns the browser to the message.
//!
//! The callback answers with a redirect whatever happens: to `/m/{message}` signed in, or to
//! `/m/{message}?sign_in_error={code}` (or `/?sign_in_error={code}` when the flow is unknown), so
//! the page says why in the recipient's language.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_api::ErrorCode;
use sealpost_api::recipient::{SocialSignInRequest, SocialSignInStart};
use serde::Deserialize;

use super::cookie_name;
use super::sign_in::{linked, set_session_cookie};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::routes::cookies::{cookie, set_cookie, set_lax_cookie};
use crate::secrets::hash_secret;
use crate::services::error::ServiceError;
use crate::services::passcodes;
use crate::services::sending::branding_or_default;
use crate::services::social::{self, FLOW_VALID_FOR, Failed};
use crate::services::tracking::Client;
use crate::state::AppState;

/// The cookie that binds a flow to the browser that began it.
const FLOW_COOKIE: &str = "__Host-sp-sign-in";

/// `POST /{message}/social/{provider}` (under `/api/m`).
pub fn router() -> Router<AppState> {
    Router::new().route("/{message}/social/{provider}", post(start))
}

/// `GET /sign-in/callback` (under `/api`).
pub fn callback_router() -> Router<AppState> {
    Router::new().route("/sign-in/callback", get(callback))
}

async fn start(
    State(state): State<AppState>,
    Path((message_id, provider)): Path<(String, String)>,
    client: Client,
    ApiJson(req): ApiJson<SocialSignInRequest>,
) -> Result<Response, ApiError> {
    let token_hash = hash_secret(req.token.trim());
    // Each start writes a row and asks the provider: counted with the passcode tries, per client
    // and per link.
    passcodes::count_try(&state, &client.addr, &token_hash).await?;
    let Some(l) = linked(&state, &message_id, &token_hash).await? else {
        return Err(super::link::link_not_found());
    };
    let message = state.store.message_by_id(&l.message_id).await?;
    let branding = branding_or_default(&state, &l.tenant_id, &message.branding_template).await?;
    let started = social::start(
        &state,
        &l,
        branding.view().social_id_sign_in == Some(true),
        &provider,
        req.keep_signed_in,
    )
    .await?;
    let mut response = Json(SocialSignInStart {
        authorize_url: started.authorize_url,
    })
    .into_response();
    set_lax_cookie(
        &mut response,
        FLOW_COOKIE,
        started.browser_secret.as_str(),
        FLOW_VALID_FOR,
    )?;
    Ok(response)
}

#[derive(Deserialize)]
struct Callback {
    state: Option<String>,
    code: Option<String>,
}

/// The stable code of a refusal, for the page to explain.
fn code_of(e: &ServiceError) -> &'static str {
    match e {
        ServiceError::Refused { code, .. }
        | ServiceError::Conflict { code, .. }
        | ServiceError::TooMany { code, .. }
        | ServiceError::Unavailable { code, .. } => code,
        ServiceError::NotFound => ErrorCode::SignInExpired.as_str(),
        _ => ErrorCode::ProviderFailed.as_str(),
    }
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn callback(
    State(state): State<AppState>,
    Query(q): Query<Callback>,
    headers: HeaderMap,
    client: Client,
) -> Result<Response, ApiError> {
    let browser = cookie(&headers, FLOW_COOKIE).map(str::to_owned);
    let state_param = q.state.unwrap_or_default();
    let outcome = match passcodes::count_try(&state, &client.addr, &hash_secret(&state_param)).await
    {
        Err(e) => Err(Failed {
            message_id: None,
            error: e,
        }),
        Ok(()) if state_param.is_empty() => Err(Failed {
            message_id: None,
            error: ServiceError::NotFound,
        }),
        Ok(()) => {
            social::finish(
                &state,
                &state_param,
                q.code.as_deref().filter(|c| !c.is_empty()),
                browser.as_deref(),
                &|message_id| cookie(&headers, &cookie_name(message_id)).map(hash_secret),
                &client,
            )
            .await
        }
    };
    let mut response = match outcome {
        Ok(f) => {
            let mut r = see_other(&format!("/m/{}", f.message_id));
            set_session_cookie(&mut r, &f.message_id, &f.opened)?;
            r
        }
        Err(Failed { message_id, error }) => {
            if let ServiceError::Internal(detail) = &error {
                tracing::error!(error = %detail, "a sign-in with an identity provider failed inside");
            }
            let code = code_of(&error);
            match message_id {
                Some(id) => see_other(&format!("/m/{id}?sign_in_error={code}")),
                None => see_other(&format!("/?sign_in_error={code}")),
            }
        }
    };
    // The flow is over either way.
    set_cookie(&mut response, FLOW_COOKIE, "", Some(0))?;
    Ok(response)
}
