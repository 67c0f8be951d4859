//! `/api/admin/*`: the tenant admin API. Every route takes an [`Admin`], which only a valid,
//! unrevoked admin token yields, and every query is scoped to that token's tenant.

mod branding;
mod dkim;
mod drafts;
mod key_policies;
mod mail_flow;
mod messages;
mod passkeys;
mod portal_log;
mod rights;
mod self_test;
mod tenant;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::http::error::ApiError;
use crate::secrets::hash_secret;
use crate::state::AppState;
use crate::store::{AdminToken, AuditEvent, StoreError, Tenant};

/// The admin routes (mounted under `/api/admin`).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(tenant::router())
        .merge(dkim::router())
        .merge(passkeys::router())
        .merge(branding::router())
        .merge(rights::router())
        .merge(messages::router())
        .merge(drafts::router())
        .merge(portal_log::router())
        .merge(self_test::router())
        .merge(mail_flow::router())
        .merge(key_policies::router())
}

/// A request made with a valid admin token: the token and its tenant.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The tenant the token belongs to.
    pub tenant: Tenant,
    /// The token (its label is who acted, in the audit log).
    pub token: AdminToken,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        // Looked up by SHA-256 of a 256-bit secret: the index reveals nothing usable about others.
        let token = match state.store.active_token(&hash_secret(secret)).await {
            Ok(t) => t,
            Err(StoreError::NotFound) => return Err(ApiError::Unauthorized),
            Err(e) => return Err(e.into()),
        };
        let tenant = state.store.tenant(&token.tenant_id).await?;
        Ok(Admin { tenant, token })
    }
}

impl Admin {
    /// Record that this admin did `action` to `target`.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        target: &str,
    ) -> Result<(), ApiError> {
        state
            .store
            .audit(&AuditEvent {
                tenant_id: self.tenant.id.clone(),
                at: state.clock.now(),
                actor: self.token.label.clone(),
                action: action.to_owned(),
                target: target.to_owned(),
            })
            .await
            .map_err(Into::into)
    }
}
