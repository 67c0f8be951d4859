//! The tenant itself, its admin tokens, and its audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use sealpost_api::admin::{
    AuditEventView, CreateTokenRequest, CreatedTokenResponse, PendingDomainView, TenantView,
    TokenView, UpdateTenantRequest,
};
use sealpost_api::rules;

use super::Admin;
use crate::clock::rfc3339;
use crate::domain::ValidationError;
use crate::domain::address::Domain;
use crate::domain::validation::check_name;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, MergePatch};
use crate::services::domains;
use crate::services::tenants::{MAX_TENANT_NAME_LEN, new_token, parse_domains};
use crate::state::AppState;
use crate::store::{AdminToken, DomainClaim, Tenant};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tenant", get(show).patch(update))
        .route("/tenant/domains/{domain}/verify", post(verify_domain))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/audit", get(audit_log))
}

fn tenant_view(t: &Tenant, claims: &[DomainClaim]) -> TenantView {
    TenantView {
        id: t.id.clone(),
        name: t.name.clone(),
        domains: t.domains.iter().map(ToString::to_string).collect(),
        pending_domains: claims
            .iter()
            .map(|c| PendingDomainView {
                domain: c.domain.to_string(),
                txt_name: domains::txt_name(&c.domain),
                txt_value: domains::txt_value(&c.token),
            })
            .collect(),
        show_subject_in_notice: t.show_subject_in_notice,
        enable_portal_tracking_logs: t.portal_tracking_logs,
        portal_log_retention_days: t.portal_log_retention_days,
    }
}

async fn view(state: &AppState, t: &Tenant) -> Result<Json<TenantView>, ApiError> {
    let claims = state.store.domain_claims(&t.id).await?;
    Ok(Json(tenant_view(t, &claims)))
}

fn token_view(t: &AdminToken) -> TokenView {
    TokenView {
        id: t.id.clone(),
        label: t.label.clone(),
        created_at: rfc3339(t.created_at),
        revoked_at: t.revoked_at.map(rfc3339),
    }
}

async fn show(State(state): State<AppState>, admin: Admin) -> Result<Json<TenantView>, ApiError> {
    view(&state, &admin.tenant).await
}

/// Look for a pending domain's TXT record; when it is there the domain is the tenant's.
async fn verify_domain(
    State(state): State<AppState>,
    admin: Admin,
    Path(domain): Path<String>,
) -> Result<Json<TenantView>, ApiError> {
    // A domain that is none is no pending domain of the tenant's: not found.
    let domain = Domain::parse("domain", &domain).map_err(|_| ApiError::NotFound)?;
    domains::prove(&state, &admin.tenant, &domain).await?;
    admin
        .audit(&state, "tenant.domain_proven", domain.as_str())
        .await?;
    let tenant = state.store.tenant(&admin.tenant.id).await?;
    view(&state, &tenant).await
}

async fn update(
    State(state): State<AppState>,
    admin: Admin,
    MergePatch(req): MergePatch<UpdateTenantRequest>,
) -> Result<Json<TenantView>, ApiError> {
    let mut tenant = admin.tenant.clone();
    // Every field is checked before anything is written, so a refused change changes nothing.
    if let Some(name) = &req.name {
        check_name("name", name, MAX_TENANT_NAME_LEN)?;
        tenant.name = name.trim().to_owned();
    }
    let requested = req.domains.as_deref().map(parse_domains).transpose()?;
    if let Some(days) = req.portal_log_retention_days {
        if days > rules::PORTAL_LOG_RETENTION_MAX_DAYS {
            return Err(ValidationError::new(
                "portal_log_retention_days",
                "out_of_range",
                format!(
                    "Keep the portal log at most {} days, or 0 for ever.",
                    rules::PORTAL_LOG_RETENTION_MAX_DAYS
                ),
            )
            .into());
        }
        tenant.portal_log_retention_days = (days > 0).then_some(days);
    }
    if let Some(show) = req.show_subject_in_notice {
        tenant.show_subject_in_notice = show;
    }
    if let Some(on) = req.enable_portal_tracking_logs {
        tenant.portal_tracking_logs = on;
    }
    if let Some(requested) = &requested {
        domains::request(&state, &mut tenant, requested).await?;
    }
    state.store.update_tenant(&tenant).await?;
    admin.audit(&state, "tenant.updated", &tenant.id).await?;
    view(&state, &tenant).await
}

async fn list_tokens(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.store.tokens(&admin.tenant.id).await?;
    Ok(Json(tokens.iter().map(token_view).collect()))
}

async fn create_token(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenResponse>), ApiError> {
    let (token, secret, hash) = new_token(&admin.tenant.id, &req.label, state.clock.now())?;
    state.store.create_token(&token, &hash).await?;
    admin.audit(&state, "token.created", &token.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenResponse {
            token: token_view(&token),
            secret: secret.to_string(),
        }),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    // Revoking the token the request came with would leave this client, often the tenant's only
    // admin, locked out mid-task; another token (or `sealpost tenant token` on the server) can.
    if id == admin.token.id {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "own_token",
            "This is the token this request was sent with; revoke it with another admin token.",
        ));
    }
    state
        .store
        .revoke_token(&admin.tenant.id, &id, state.clock.now())
        .await?;
    admin.audit(&state, "token.revoked", &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit_log(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Vec<AuditEventView>>, ApiError> {
    let events = state.store.audit_events(&admin.tenant.id, 500).await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| AuditEventView {
                at: rfc3339(e.at),
                actor: e.actor,
                action: e.action,
                target: e.target,
            })
            .collect(),
    ))
}
