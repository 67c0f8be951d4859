//! Rights templates: the built-ins (Encrypt, Do Not Forward) and the tenant's own.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use sealpost_api::admin::RightsTemplateView;

use super::Admin;
use crate::domain::rights::RightsTemplate;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::services::rights::resolve_rights;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rights-templates", get(list).post(create))
        .route(
            "/rights-templates/{name}",
            get(show).put(replace).delete(remove),
        )
}

fn built_in_refusal(name: &str) -> ApiError {
    ApiError::refused(
        StatusCode::CONFLICT,
        "built_in_template",
        format!("{name} is a built-in template and cannot be changed or removed."),
    )
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Vec<RightsTemplateView>>, ApiError> {
    let own = state.store.rights_templates(&admin.tenant.id).await?;
    Ok(Json(
        RightsTemplate::built_ins()
            .iter()
            .chain(own.iter())
            .map(RightsTemplate::to_view)
            .collect(),
    ))
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Json<RightsTemplateView>, ApiError> {
    Ok(Json(
        resolve_rights(state.store.as_ref(), &admin.tenant.id, &name)
            .await?
            .to_view(),
    ))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(view): ApiJson<RightsTemplateView>,
) -> Result<(StatusCode, Json<RightsTemplateView>), ApiError> {
    let template = RightsTemplate::from_view(&view)?;
    // A built-in template already has the name (a conflict with it, not a rule of the field).
    if RightsTemplate::built_in(&template.name).is_some() {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "built_in_template",
            format!(
                "{} is a built-in template and cannot be defined again.",
                template.name
            ),
        ));
    }
    state
        .store
        .create_rights_template(&admin.tenant.id, &template, state.clock.now())
        .await?;
    admin
        .audit(&state, "rights_template.created", &template.name)
        .await?;
    Ok((StatusCode::CREATED, Json(template.to_view())))
}

async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    ApiJson(view): ApiJson<RightsTemplateView>,
) -> Result<Json<RightsTemplateView>, ApiError> {
    let mut template = RightsTemplate::from_view(&view)?;
    let name = name.trim();
    if RightsTemplate::built_in(name).is_some() {
        return Err(built_in_refusal(name));
    }
    if !template.name.eq_ignore_ascii_case(name) {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "name_immutable",
            "A template's name cannot be changed; create a new template instead.",
        ));
    }
    template.name = name.to_owned();
    state
        .store
        .replace_rights_template(&admin.tenant.id, &template, state.clock.now())
        .await?;
    admin.audit(&state, "rights_template.changed", name).await?;
    Ok(Json(template.to_view()))
}

async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if RightsTemplate::built_in(&name).is_some() {
        return Err(built_in_refusal(&name));
    }
    state
        .store
        .delete_rights_template(&admin.tenant.id, &name)
        .await?;
    admin
        .audit(&state, "rights_template.removed", &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
