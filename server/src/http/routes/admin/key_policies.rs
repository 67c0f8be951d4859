//! Customer Key: data encryption policies (`New-/Get-/Set-DataEncryptionPolicy`) and the tenant's
//! assignment (`Set-/Get-M365DataAtRestEncryptionPolicyAssignment`). Every change is audited; a
//! purge's reason and contact are kept on the policy.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_api::key_policies::{
    ConfirmPurge, DataEncryptionPoliciesView, DataEncryptionPolicyView, NewDataEncryptionPolicy,
    PolicyAssignment, PurgeResult, RecoverDataEncryptionPolicy, RollBackView, SenderPolicyView,
    SetDataEncryptionPolicy,
};

use super::Admin;
use crate::clock::rfc3339;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, MergePatch};
use crate::services::key_policies::{self, availability, purge, roll, roll_back};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::key_policies::{Policy, SenderKeys};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/data-encryption-policies", get(list).post(create))
        .route("/data-encryption-policies/{name}", get(show).patch(change))
        .route(
            "/data-encryption-policies/{name}/purge",
            post(confirm_purge),
        )
        .route("/data-encryption-policies/{name}/recover", post(recover))
        .route(
            "/data-encryption-policy-assignment/roll-back",
            get(roll_back_status).post(roll_back),
        )
        .route(
            "/data-encryption-policy-assignment/senders/{address}/roll-back",
            post(roll_back_sender),
        )
        .route(
            "/data-encryption-policy-assignment",
            get(assignment).put(assign),
        )
        .route(
            "/data-encryption-policy-assignment/senders/{address}",
            get(sender).put(assign_sender),
        )
}

/// A policy's name from its id (policies are never deleted, so one always has a name).
async fn name_of(
    state: &AppState,
    admin: &Admin,
    id: Option<String>,
) -> Result<Option<String>, ApiError> {
    match id {
        Some(id) => Ok(Some(find(state, admin, &id).await?.name)),
        None => Ok(None),
    }
}

async fn sender_view(
    state: &AppState,
    admin: &Admin,
    address: &str,
) -> Result<Json<SenderPolicyView>, ApiError> {
    let status = key_policies::sender_status(state, &admin.tenant, address).await?;
    let own = match &status.own {
        SenderKeys::Policy(id) => Some(id.clone()),
        _ => None,
    };
    Ok(Json(SenderPolicyView {
        address: status.address,
        data_encryption_policy: name_of(state, admin, own).await?,
        service_managed: status.own == SenderKeys::ServiceManaged,
        is_encrypted: status.effective.is_some() && status.under_effective == status.messages,
        effective_policy: name_of(state, admin, status.effective).await?,
        messages: status.messages,
        messages_under_policy: status.under_effective,
        roll_back_left: status.roll_back_left,
    }))
}

async fn sender(
    State(state): State<AppState>,
    admin: Admin,
    Path(address): Path<String>,
) -> Result<Json<SenderPolicyView>, ApiError> {
    sender_view(&state, &admin, &address).await
}

async fn assign_sender(
    State(state): State<AppState>,
    admin: Admin,
    Path(address): Path<String>,
    ApiJson(req): ApiJson<PolicyAssignment>,
) -> Result<Json<SenderPolicyView>, ApiError> {
    // An address that is none names no sender (the service's own not-found, below, is a purge
    // that began meanwhile).
    crate::domain::address::EmailAddress::parse("address", &address)
        .map_err(|_| ApiError::NotFound)?;
    let policy = match &req.data_encryption_policy {
        Some(name) => Some(find(&state, &admin, name).await?),
        None => None,
    };
    let address =
        match key_policies::assign_sender(&state, &admin.tenant, &address, policy.as_ref()).await {
            Ok(a) => a,
            // A purge was requested (or carried out) since it was read.
            Err(crate::services::error::ServiceError::NotFound) => {
                return Err(key_policies::purge_requested().into());
            }
            Err(e) => return Err(e.into()),
        };
    admin
        .audit(
            &state,
            "data_encryption_policy.sender_assigned",
            &format!(
                "{address} -> {}",
                policy
                    .as_ref()
                    .map_or("(the tenant's)", |p| p.name.as_str())
            ),
        )
        .await?;
    sender_view(&state, &admin, &address).await
}

async fn find(state: &AppState, admin: &Admin, name: &str) -> Result<Policy, ApiError> {
    match state.store.policy(&admin.tenant.id, name).await {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound) => Err(ApiError::refused(
            StatusCode::NOT_FOUND,
            "policy_not_found",
            "The tenant has no data encryption policy of that name.",
        )),
        Err(e) => Err(e.into()),
    }
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<DataEncryptionPoliciesView>, ApiError> {
    let available = state.root_keys.list();
    let mut policies = Vec::new();
    for p in state.store.policies(&admin.tenant.id).await? {
        policies.push(key_policies::view(&state, &admin.tenant, &p, &available).await?);
    }
    Ok(Json(DataEncryptionPoliciesView {
        policies,
        root_keys: key_policies::root_key_views(&state, &admin.tenant, &available),
    }))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(req): ApiJson<NewDataEncryptionPolicy>,
) -> Result<(StatusCode, Json<DataEncryptionPolicyView>), ApiError> {
    let policy = key_policies::create(
        &state,
        &admin.tenant,
        &admin.token.label,
        &req.name,
        &req.description,
        &req.root_keys,
    )
    .await?;
    admin
        .audit(&state, "data_encryption_policy.created", &policy.name)
        .await?;
    let view = key_policies::view(&state, &admin.tenant, &policy, &state.root_keys.list()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Json<DataEncryptionPolicyView>, ApiError> {
    let policy = find(&state, &admin, &name).await?;
    Ok(Json(
        key_policies::view(&state, &admin.tenant, &policy, &state.root_keys.list()).await?,
    ))
}

fn one_change(req: &SetDataEncryptionPolicy) -> Result<(), ApiError> {
    let changes = usize::from(req.roll)
        + usize::from(req.replace.is_some())
        + usize::from(req.permanent_data_purge_requested.is_some());
    if changes > 1 {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "one_change_at_a_time",
            "Roll, replace a root key, or request a purge: one of them per request.",
        ));
    }
    if req.permanent_data_purge_requested != Some(true)
        && (req.permanent_data_purge_reason.is_some() || req.permanent_data_purge_contact.is_some())
    {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "purge_not_requested",
            "A purge reason and contact go with permanent_data_purge_requested: true.",
        ));
    }
    Ok(())
}

async fn change(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    MergePatch(req): MergePatch<SetDataEncryptionPolicy>,
) -> Result<Json<DataEncryptionPolicyView>, ApiError> {
    // Everything the request alone decides is checked before anything is written, and the
    // description is written last, so a refused change changes nothing.
    one_change(&req)?;
    if let Some(d) = &req.description {
        key_policies::check_description(d)?;
    }
    if req.permanent_data_purge_requested == Some(true) {
        purge::check_request(
            req.permanent_data_purge_reason.as_deref(),
            req.permanent_data_purge_contact.as_deref(),
        )?;
    }
    let policy = find(&state, &admin, &name).await?;
    if req.description.is_some() && policy.purged.is_some() {
        // A description may still change while a purge is only requested.
        key_policies::refuse_if_purging(&policy)?;
    }
    if req.roll {
        let version = roll::start(&state, &policy).await?;
        admin
            .audit(
                &state,
                "data_encryption_policy.rolled",
                &format!("{} (data key version {version})", policy.name),
            )
            .await?;
    }
    if let Some(r) = &req.replace {
        key_policies::replace_root(&state, &admin.tenant, &policy, &r.old, &r.new).await?;
        admin
            .audit(
                &state,
                "data_encryption_policy.root_key_replaced",
                &format!("{}: {} -> {}", policy.name, r.old.trim(), r.new.trim()),
            )
            .await?;
    }
    match req.permanent_data_purge_requested {
        Some(true) => {
            purge::request(
                &state,
                &policy,
                &admin.token.label,
                req.permanent_data_purge_reason.as_deref(),
                req.permanent_data_purge_contact.as_deref(),
            )
            .await?;
            admin
                .audit(
                    &state,
                    "data_encryption_policy.purge_requested",
                    &policy.name,
                )
                .await?;
        }
        Some(false) => {
            purge::withdraw(&state, &policy).await?;
            admin
                .audit(
                    &state,
                    "data_encryption_policy.purge_withdrawn",
                    &policy.name,
                )
                .await?;
        }
        None => {}
    }
    if let Some(d) = &req.description {
        state
            .store
            .set_policy_description(&admin.tenant.id, &policy.id, d.trim())
            .await?;
        admin
            .audit(&state, "data_encryption_policy.changed", &policy.name)
            .await?;
    }
    let tenant = state.store.tenant(&admin.tenant.id).await?;
    let policy = find(&state, &admin, &policy.id).await?;
    Ok(Json(
        key_policies::view(&state, &tenant, &policy, &state.root_keys.list()).await?,
    ))
}

async fn confirm_purge(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<ConfirmPurge>,
) -> Result<Json<PurgeResult>, ApiError> {
    let policy = find(&state, &admin, &name).await?;
    let result = purge::confirm(&state, &policy, &admin.token.label, &req.confirm).await?;
    admin
        .audit(&state, "data_encryption_policy.purged", &policy.name)
        .await?;
    Ok(Json(result))
}

async fn assignment(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<PolicyAssignment>, ApiError> {
    let name = match &admin.tenant.data_encryption_policy_id {
        Some(id) => Some(find(&state, &admin, id).await?.name),
        None => None,
    };
    Ok(Json(PolicyAssignment {
        data_encryption_policy: name,
    }))
}

async fn assign(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(req): ApiJson<PolicyAssignment>,
) -> Result<Json<PolicyAssignment>, ApiError> {
    let policy = match &req.data_encryption_policy {
        Some(name) => {
            let p = find(&state, &admin, name).await?;
            key_policies::refuse_if_purging(&p)?;
            Some(p)
        }
        None => None,
    };
    match state
        .store
        .assign_policy(&admin.tenant.id, policy.as_ref().map(|p| p.id.as_str()))
        .await
    {
        Ok(()) => {}
        // A purge was requested between the check and the write.
        Err(StoreError::NotFound) => {
            return Err(ApiError::refused(
                StatusCode::CONFLICT,
                "purge_requested",
                "A permanent data purge is requested for this policy; it cannot be assigned.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let name = policy.map(|p| p.name);
    admin
        .audit(
            &state,
            "data_encryption_policy.assigned",
            name.as_deref().unwrap_or("(the tenant's own data key)"),
        )
        .await?;
    Ok(Json(PolicyAssignment {
        data_encryption_policy: name,
    }))
}

async fn recover(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<RecoverDataEncryptionPolicy>,
) -> Result<Json<DataEncryptionPolicyView>, ApiError> {
    let policy = find(&state, &admin, &name).await?;
    // Audited in the same transaction as the recovery.
    availability::recover(
        &state,
        &admin.tenant,
        &policy,
        &admin.token.label,
        &req.root_keys,
        &req.reason,
    )
    .await?;
    let policy = find(&state, &admin, &policy.id).await?;
    Ok(Json(
        key_policies::view(&state, &admin.tenant, &policy, &state.root_keys.list()).await?,
    ))
}

async fn roll_back_view(state: &AppState, admin: &Admin) -> Result<RollBackView, ApiError> {
    let tenant = state.store.tenant(&admin.tenant.id).await?;
    let (requested_at, messages_left) = roll_back::tenant_status(state, &tenant).await?;
    Ok(RollBackView {
        requested_at: requested_at.map(rfc3339),
        messages_left,
    })
}

async fn roll_back_status(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<RollBackView>, ApiError> {
    Ok(Json(roll_back_view(&state, &admin).await?))
}

async fn roll_back(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<(StatusCode, Json<RollBackView>), ApiError> {
    roll_back::tenant(&state, &admin.tenant).await?;
    admin
        .audit(
            &state,
            "data_encryption_policy.rolled_back",
            "(the tenant, to service-managed keys)",
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(roll_back_view(&state, &admin).await?),
    ))
}

async fn roll_back_sender(
    State(state): State<AppState>,
    admin: Admin,
    Path(address): Path<String>,
) -> Result<(StatusCode, Json<SenderPolicyView>), ApiError> {
    let address = roll_back::sender(&state, &admin.tenant, &address).await?;
    admin
        .audit(
            &state,
            "data_encryption_policy.sender_rolled_back",
            &format!("{address} -> (service-managed keys)"),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        sender_view(&state, &admin, &address).await?,
    ))
}
