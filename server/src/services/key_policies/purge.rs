//! Permanent data purge (`Set-DataEncryptionPolicy -PermanentDataPurgeRequested
//! -PermanentDataPurgeReason … -PermanentDataPurgeContact …`): an admin requests it, with a reason
//! and a contact; it can be withdrawn until it is confirmed; confirmed (by typing the policy's name
//! again), it crypto-shreds: every version of the policy's data key and every message key under it
//! is deleted (overwritten in the database file, and gone from its journal), and each root key no
//! other policy uses is destroyed in its provider where the provider allows (a token key, a key
//! file). The messages stay listed, so their status can say they were purged; key release answers
//! `message_purged`. Who asked, why, and who confirmed are kept on the policy and in the audit log.

use sealpost_api::key_policies::PurgeResult;

use crate::services::error::{RefusalKind, ServiceError};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::key_policies::{Policy, PurgeRequest};

const MAX_REASON_LEN: usize = sealpost_api::rules::PURGE_REASON_MAX;
const MAX_CONTACT_LEN: usize = sealpost_api::rules::PURGE_CONTACT_MAX;

fn bad(code: &'static str, message: &'static str) -> ServiceError {
    ServiceError::refused(RefusalKind::NotPossible, code, message)
}

/// A purge request's reason and contact, trimmed: each given, and not too long.
pub fn check_request<'a>(
    reason: Option<&'a str>,
    contact: Option<&'a str>,
) -> Result<(&'a str, &'a str), ServiceError> {
    let reason = reason.map(str::trim).unwrap_or_default();
    let contact = contact.map(str::trim).unwrap_or_default();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_LEN {
        return Err(bad(
            "purge_reason_required",
            "A purge request needs a reason (up to 512 characters).",
        ));
    }
    if contact.is_empty() || contact.chars().count() > MAX_CONTACT_LEN {
        return Err(bad(
            "purge_contact_required",
            "A purge request needs a contact: who to ask about it (up to 256 characters).",
        ));
    }
    Ok((reason, contact))
}

/// Record a purge request.
pub async fn request(
    state: &AppState,
    policy: &Policy,
    by: &str,
    reason: Option<&str>,
    contact: Option<&str>,
) -> Result<(), ServiceError> {
    super::refuse_if_purging(policy)?;
    let (reason, contact) = check_request(reason, contact)?;
    let request = PurgeRequest {
        at: state.clock.now(),
        by: by.to_owned(),
        reason: reason.to_owned(),
        contact: contact.to_owned(),
    };
    state
        .store
        .set_purge_request(&policy.tenant_id, &policy.id, Some(&request))
        .await?;
    tracing::warn!(policy = %policy.name, tenant = %policy.tenant_id, by, reason, contact, "a permanent data purge was requested");
    Ok(())
}

/// Withdraw a request not yet carried out.
pub async fn withdraw(state: &AppState, policy: &Policy) -> Result<(), ServiceError> {
    if policy.purged.is_some() {
        return Err(super::policy_purged());
    }
    if policy.purge_request.is_none() {
        return Err(not_requested());
    }
    state
        .store
        .set_purge_request(&policy.tenant_id, &policy.id, None)
        .await?;
    Ok(())
}

fn not_requested() -> ServiceError {
    ServiceError::conflict(
        "purge_not_requested",
        "No purge is requested for this policy; request one first, with a reason and a contact.",
    )
}

/// Carry out a requested purge. `confirm` must be the policy's name.
pub async fn confirm(
    state: &AppState,
    policy: &Policy,
    by: &str,
    confirm: &str,
) -> Result<PurgeResult, ServiceError> {
    if policy.purged.is_some() {
        return Err(super::policy_purged());
    }
    let Some(request) = &policy.purge_request else {
        return Err(not_requested());
    };
    if confirm.trim() != policy.name {
        return Err(ServiceError::conflict(
            "confirmation_mismatch",
            "To carry out the purge, type the policy's name exactly as it is shown.",
        ));
    }
    // The availability key goes first: until it is destroyed the purge is not final, so a purge
    // that cannot destroy it does not start. Once destroyed, it is forgotten (a purge that then
    // fails leaves a policy without one, which the background gives a new one if the request is
    // withdrawn); the purge itself runs only on a policy without one.
    let availability_key_destroyed = match &policy.availability_key {
        Some(name) => {
            let store = state.root_keys.availability();
            match store.destroy(name) {
                Ok(true) => {}
                Ok(false) => return Err(super::availability::availability_key_missing()),
                Err(e) => return Err(super::availability::availability_unreachable(e)),
            }
            match state
                .store
                .clear_policy_availability(&policy.id, name)
                .await
            {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
            true
        }
        None => false,
    };
    let count = match state
        .store
        .purge_policy(&policy.tenant_id, &policy.id, by, state.clock.now())
        .await
    {
        Ok(c) => {
            // Other nodes' copies expire within `keys::cache::TTL_SECONDS`, and none can be
            // found meanwhile: the wraps they are found by are gone.
            state.data_keys.forget_policy(&policy.id);
            c
        }
        Err(StoreError::NotFound) => return Err(not_requested()),
        Err(StoreError::Conflict(_)) => {
            return Err(ServiceError::conflict(
                "policy_busy",
                "The policy was given an availability key while the purge started; confirm the purge again.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let mut destroyed = Vec::new();
    let tenant = state.store.tenant(&policy.tenant_id).await?;
    for name in &policy.root_keys {
        // Only the tenant's own keys are destroyed: a policy made before root keys had owners (or
        // before the operator gave a key to another tenant) must not destroy another's key.
        if state.store.root_key_in_use(name).await? || !super::owned_by(state, &tenant, name) {
            continue;
        }
        match state.root_keys.destroy(name) {
            Ok(true) => destroyed.push(name.clone()),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(root_key = %name, error = %e, "a purged policy's root key could not be destroyed; its data keys are deleted all the same");
            }
        }
    }
    tracing::warn!(
        policy = %policy.name,
        tenant = %policy.tenant_id,
        requested_by = %request.by,
        reason = %request.reason,
        confirmed_by = by,
        data_keys = count.data_keys,
        message_keys = count.message_keys,
        root_keys_destroyed = ?destroyed,
        availability_key_destroyed,
        "a permanent data purge was carried out"
    );
    let tenant = state.store.tenant(&policy.tenant_id).await?;
    let purged = state.store.policy(&policy.tenant_id, &policy.id).await?;
    Ok(PurgeResult {
        policy: super::view(state, &tenant, &purged, &state.root_keys.list()).await?,
        data_keys_destroyed: count.data_keys,
        message_keys_destroyed: count.message_keys,
        root_keys_destroyed: destroyed,
        availability_key_destroyed,
    })
}
