//! The availability key of a data encryption policy (Microsoft's "availability key"): a third
//! copy of each version of the policy's data key, wrapped under a key of the operator's own, one
//! per policy (`keys::AvailabilityKeys`).
//!
//! - It is made with the policy; a policy made before the operator configured a store gets one in
//!   the background as soon as one of its root keys answers ([`backfill`]). Each key's name has a
//!   random part, so two nodes making one at once never make two keys of one name.
//! - It is used only by [`recover`]: an admin's explicit request, with a reason, allowed only when
//!   neither of the policy's root keys answers, which puts two new root keys in their place and is
//!   written in the same transaction as its audit entry. Key release and sealing never try it.
//! - A purge destroys it and forgets it before anything else (`purge::confirm`); a purge whose
//!   availability key cannot be destroyed, or is not found, does not start.

use sealpost_envelope::TenantDataKey;

use super::roll::RollError;
use super::{bad, bound, check_root, refuse_if_purging, roots_unreachable, unwrap_data_key};
use crate::keys::{AvailabilityKeys, KeyError};
use crate::services::error::ServiceError;
use crate::state::AppState;
use crate::store::key_policies::Policy;
use crate::store::{AuditEvent, StoreError, Tenant};

const MAX_REASON_LEN: usize = sealpost_api::rules::PURGE_REASON_MAX;

/// The refusal when the operator's availability key store does not answer (the reason is logged).
pub fn availability_unreachable(e: KeyError) -> ServiceError {
    tracing::error!(error = %e, "the availability key store did not answer");
    ServiceError::unavailable(
        "availability_key_unavailable",
        "The server's availability key store did not answer; nothing was changed. Ask the server's operator to check it.",
    )
}

/// `sealpost dep recover`: when neither of `policy`'s root keys answers, open every version of
/// its data key with its availability key and wrap it under two new root keys of the tenant's,
/// which take the old ones' place. Written with its audit entry (`data_encryption_policy
/// .recovered`, with the reason) in one transaction.
pub async fn recover(
    state: &AppState,
    tenant: &Tenant,
    policy: &Policy,
    actor: &str,
    root_keys: &[String],
    reason: &str,
) -> Result<[String; 2], ServiceError> {
    refuse_if_purging(policy)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_LEN {
        return Err(bad(
            "recovery_reason_required",
            "A recovery needs a reason (up to 512 characters); it is kept in the audit log.",
        ));
    }
    let Some(name) = &policy.availability_key else {
        return Err(ServiceError::conflict(
            "no_availability_key",
            "This policy has no availability key (the server kept none when it was made, and none could be added since): only its root keys can open it.",
        ));
    };
    let [a, b] = root_keys else {
        return Err(bad(
            "two_root_keys_required",
            "A recovery names exactly two root keys, to take the place of the policy's two.",
        ));
    };
    let new = [a.trim().to_owned(), b.trim().to_owned()];
    if new[0] == new[1] {
        return Err(bad(
            "two_root_keys_required",
            "The two root keys must be different keys, ideally in different tokens.",
        ));
    }
    for r in &new {
        check_root(state, tenant, r)?;
    }
    let versions = state.store.policy_data_keys(&policy.id).await?;
    // Never while a root key answers: that is what `-Replace` is for, and the availability key is
    // for when there is no other way.
    if let Some(current) = versions.last()
        && unwrap_data_key(&state.root_keys, policy, current).is_ok()
    {
        return Err(ServiceError::conflict(
            "root_key_available",
            "A root key of this policy still opens its data key, so the availability key is not used. To change root keys, replace them one at a time.",
        ));
    }
    let availability = state
        .root_keys
        .availability()
        .get(name)
        .map_err(availability_unreachable)?;
    let targets = [
        state.root_keys.get(&new[0]).map_err(roots_unreachable)?,
        state.root_keys.get(&new[1]).map_err(roots_unreachable)?,
    ];
    let bound = bound(&policy.tenant_id, &policy.id);
    let mut rewrapped = Vec::with_capacity(versions.len());
    for v in &versions {
        let wrapped = v.availability.as_deref().ok_or_else(|| {
            ServiceError::Internal(format!(
                "data key version {} of policy {} has no availability copy",
                v.version, policy.id
            ))
        })?;
        let key = availability
            .unwrap(&bound, v.version, wrapped)
            .map_err(availability_unreachable)?;
        rewrapped.push((
            v.version,
            [
                targets[0]
                    .wrap(&bound, v.version, &key)
                    .map_err(roots_unreachable)?,
                targets[1]
                    .wrap(&bound, v.version, &key)
                    .map_err(roots_unreachable)?,
            ],
        ));
    }
    let audit = AuditEvent {
        tenant_id: tenant.id.clone(),
        at: state.clock.now(),
        actor: actor.to_owned(),
        action: "data_encryption_policy.recovered".into(),
        target: format!(
            "{}: root keys {} and {} replaced by {} and {} with the availability key; reason: {reason}",
            policy.name, policy.root_keys[0], policy.root_keys[1], new[0], new[1]
        ),
    };
    match state
        .store
        .recover_policy(&policy.id, &new, &rewrapped, &audit)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ServiceError::conflict(
                "policy_busy",
                "The policy's keys changed while it was being recovered (a roll, or a purge request); look at it again.",
            ));
        }
        Err(StoreError::NotFound) => return Err(super::purge_requested()),
        Err(e) => return Err(e.into()),
    }
    tracing::warn!(
        policy = %policy.name,
        tenant = %policy.tenant_id,
        by = actor,
        reason,
        old_root_keys = ?policy.root_keys,
        new_root_keys = ?new,
        "a data encryption policy was recovered with its availability key"
    );
    Ok(new)
}

/// Give every policy without an availability key one, where the operator keeps a store and one
/// of the policy's root keys answers. Returns how many got one; a policy that could not is tried
/// again on the next pass (and logged).
pub async fn backfill(state: &AppState) -> u64 {
    if !state.root_keys.availability().configured() {
        return 0;
    }
    let policies = match state.store.policies_without_availability().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "policies without an availability key could not be listed");
            return 0;
        }
    };
    let mut given = 0;
    for policy in policies {
        match give(state, &policy).await {
            Ok(true) => {
                tracing::info!(policy = %policy.id, tenant = %policy.tenant_id, "a data encryption policy was given its availability key");
                given += 1;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(policy = %policy.id, tenant = %policy.tenant_id, error = %e, "a data encryption policy could not be given an availability key yet");
            }
        }
    }
    given
}

async fn give(state: &AppState, policy: &Policy) -> Result<bool, RollError> {
    let versions = state.store.policy_data_keys(&policy.id).await?;
    let keys = versions
        .iter()
        .map(|v| Ok((v.version, unwrap_data_key(&state.root_keys, policy, v)?)))
        .collect::<Result<Vec<(u32, TenantDataKey)>, KeyError>>()?;
    let store = state.root_keys.availability();
    let name = AvailabilityKeys::new_name(&policy.id);
    let availability = store.create(&name)?;
    let bound = bound(&policy.tenant_id, &policy.id);
    let given = match keys
        .iter()
        .map(|(v, k)| Ok((*v, availability.wrap(&bound, *v, k)?)))
        .collect::<Result<Vec<_>, KeyError>>()
    {
        Ok(wrapped) => state
            .store
            .set_policy_availability(&policy.id, &name, &wrapped)
            .await
            .map_err(RollError::from),
        Err(e) => Err(e.into()),
    };
    match given {
        Ok(()) => Ok(true),
        // A roll, a purge request or another node got there first: this key is not needed (the
        // next pass looks again).
        Err(RollError::Store(StoreError::Conflict(_))) => {
            discard(store, &name);
            Ok(false)
        }
        Err(e) => {
            discard(store, &name);
            Err(e)
        }
    }
}

/// Destroy an availability key made for nothing.
fn discard(store: &AvailabilityKeys, name: &str) {
    if let Err(e) = store.destroy(name) {
        tracing::error!(error = %e, "an availability key that was not needed could not be removed");
    }
}

/// The refusal when a policy's availability key is not where the store should have it.
pub fn availability_key_missing() -> ServiceError {
    tracing::error!("a policy's availability key is not in the availability key store");
    ServiceError::conflict(
        "availability_key_missing",
        "The policy's availability key is not where the server keeps availability keys (was the server's availability key setting changed?); nothing was purged. Ask the server's operator to check it, then confirm again.",
    )
}
