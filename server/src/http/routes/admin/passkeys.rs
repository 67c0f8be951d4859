//! Recipients' passkeys with the tenant: list them (all, or one address's) and remove one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use sealpost_api::admin::{PasskeysQuery, RecipientPasskeyView};

use super::Admin;
use crate::clock::rfc3339;
use crate::domain::address::EmailAddress;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::services::passkeys::{self, Remover};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tenant/passkeys", get(list))
        .route("/tenant/passkeys/{id}", delete(remove))
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    ApiQuery(filter): ApiQuery<PasskeysQuery>,
) -> Result<Json<Vec<RecipientPasskeyView>>, ApiError> {
    let address = filter
        .address
        .map(|a| EmailAddress::parse("address", &a).map(|a| a.as_str().to_owned()))
        .transpose()?;
    let records = state
        .store
        .passkeys(&admin.tenant.id, address.as_deref())
        .await?;
    Ok(Json(
        records
            .into_iter()
            .map(|r| RecipientPasskeyView {
                id: r.id,
                address: r.address,
                name: r.name,
                created_at: rfc3339(r.created_at),
                last_used_at: r.last_used_at.map(rfc3339),
            })
            .collect(),
    ))
}

async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    passkeys::remove(
        &state,
        &admin.tenant,
        &id,
        None,
        Remover::Admin(&admin.token.label),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
