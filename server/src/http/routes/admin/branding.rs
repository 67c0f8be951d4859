//! Branding templates (OME configuration): `New-`, `Get-`, `Set-` and `Remove-OMEConfiguration`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use sealpost_api::admin::BrandingTemplateView;

use super::Admin;
use crate::domain::branding::{BrandingTemplate, DEFAULT_TEMPLATE, contrast_warning, merge_patch};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, MergePatch};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/branding-templates", get(list).post(create))
        .route(
            "/branding-templates/{name}",
            get(show).patch(update).delete(remove),
        )
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Vec<BrandingTemplateView>>, ApiError> {
    Ok(Json(
        state.store.branding_templates(&admin.tenant.id).await?,
    ))
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Json<BrandingTemplateView>, ApiError> {
    Ok(Json(
        state
            .store
            .branding_template(&admin.tenant.id, &name)
            .await?,
    ))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(view): ApiJson<BrandingTemplateView>,
) -> Result<(StatusCode, HeaderMap, Json<BrandingTemplateView>), ApiError> {
    let mut view = view;
    view.identity = view.identity.trim().to_owned();
    let template = BrandingTemplate::validate(view)?;
    if template.expiry_on_default() {
        return Err(expiry_on_default());
    }
    state
        .store
        .create_branding_template(&admin.tenant.id, template.view(), state.clock.now())
        .await?;
    admin
        .audit(&state, "branding_template.created", template.identity())
        .await?;
    Ok((
        StatusCode::CREATED,
        warnings(&template),
        Json(template.view().clone()),
    ))
}

async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    MergePatch(patch): MergePatch<serde_json::Value>,
) -> Result<(HeaderMap, Json<BrandingTemplateView>), ApiError> {
    let current = state
        .store
        .branding_template(&admin.tenant.id, &name)
        .await?;
    let identity = current.identity.clone();
    if let Some(given) = patch.get("identity")
        && given.as_str() != Some(identity.as_str())
    {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "identity_immutable",
            "A template's identity cannot be changed; create a new template instead.",
        ));
    }
    let mut doc = serde_json::to_value(&current).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut doc, &patch);
    let view: BrandingTemplateView = serde_json::from_value(doc).map_err(|e| {
        ApiError::refused(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The request body is not valid: {e}"),
        )
    })?;
    let template = BrandingTemplate::validate(view)?;
    if template.expiry_on_default() {
        return Err(expiry_on_default());
    }
    state
        .store
        .replace_branding_template(&admin.tenant.id, template.view(), state.clock.now())
        .await?;
    admin
        .audit(&state, "branding_template.changed", &identity)
        .await?;
    Ok((warnings(&template), Json(template.view().clone())))
}

fn expiry_on_default() -> ApiError {
    ApiError::refused(
        StatusCode::CONFLICT,
        "expiry_on_default_template",
        "The default template cannot set an expiry; create a template for mail that should expire.",
    )
}

/// The header [`WARNING_HEADER`] for each thing the admin should know about a template that is
/// nonetheless valid (today: a background colour white text does not read on).
fn warnings(template: &BrandingTemplate) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let colour = template.view().background_color.as_deref();
    if let Some(text) = colour.and_then(contrast_warning)
        && let Ok(value) = HeaderValue::from_str(&text)
    {
        headers.append(WARNING_HEADER, value);
    }
    headers
}

/// Carries a sentence about a saved template that the admin should act on.
pub const WARNING_HEADER: &str = "sealpost-warning";

async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if name.eq_ignore_ascii_case(DEFAULT_TEMPLATE) {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "default_template",
            "The default template always exists and cannot be removed; change it instead.",
        ));
    }
    state
        .store
        .delete_branding_template(&admin.tenant.id, &name)
        .await?;
    admin
        .audit(&state, "branding_template.removed", &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
