//! Roll back to service-managed keys (`Set-Mailbox -DataEncryptionPolicy $null`, and the
//! tenant's leaving Customer Key): message keys under a policy are re-wrapped, in the background,
//! under the tenant's own data key (which the service's built-in root key wraps); sealed content is
//! never touched.
//!
//! - A sender rolled back gets the setting "service-managed": its new messages are sealed under
//!   the tenant's own data key whatever the tenant's policy, and every one of its messages under a
//!   policy is moved there.
//! - A tenant rolled back has no policy for new messages and no sender assigned to a policy, and
//!   every message it sealed under a policy until then is moved.
//!
//! As in a key roll, the whole state is in the database, each batch is one transaction that moves
//! a key only where the message is still where it was read, and a crash loses at most the batch in
//! flight. The policy's root keys must still answer (Microsoft's "you must still retain your
//! Customer Key … for data to be rewrapped"); messages of a policy being purged are left alone.

use std::collections::HashMap;

use sealpost_envelope::TenantDataKey;

use super::roll::{RollError, rewrap};
use super::{key_unavailable, tenant_sender, unwrap_data_key};
use crate::services::error::ServiceError;
use crate::state::AppState;
use crate::store::key_policies::{Policy, RollBackRow, SenderKeys};
use crate::store::{StoreError, Tenant};

/// Roll `address` back: its new messages are sealed under the tenant's own data key, and its
/// messages under a policy are moved there in the background. Returns the address as stored.
pub async fn sender(
    state: &AppState,
    tenant: &Tenant,
    address: &str,
) -> Result<String, ServiceError> {
    let address = tenant_sender(tenant, address)?;
    state
        .store
        .assign_sender_policy(
            &tenant.id,
            &address,
            &SenderKeys::ServiceManaged,
            state.clock.now(),
        )
        .await?;
    state.key_roll.notify_one();
    Ok(address)
}

/// Roll the tenant back: no policy for its new messages or its senders, and every message it
/// sealed under a policy until now moved under its own data key in the background.
pub async fn tenant(state: &AppState, tenant: &Tenant) -> Result<(), ServiceError> {
    // The tenant's own data key must open before anything is promised.
    state
        .keys
        .unwrap(&tenant.id, tenant.key_version, &tenant.wrapped_data_key)
        .map_err(key_unavailable)?;
    state
        .store
        .roll_back_tenant(&tenant.id, state.clock.now())
        .await?;
    state.key_roll.notify_one();
    Ok(())
}

/// A tenant's roll back: when it was asked for (while it is not finished) and how many messages
/// it still has to move.
pub async fn tenant_status(
    state: &AppState,
    tenant: &Tenant,
) -> Result<(Option<i64>, u64), ServiceError> {
    Ok((
        state.store.roll_back_requested(&tenant.id).await?,
        state.store.roll_back_left(&tenant.id, None).await?,
    ))
}

/// One batch of at most `limit` message keys moved to their tenants' own data keys. Returns how
/// many moved. Messages of a policy whose root keys do not answer are left for a later batch; if
/// nothing could move because of that, the reason is the error.
pub async fn step(state: &AppState, limit: u32) -> Result<u64, RollError> {
    let rows = state.store.message_keys_to_roll_back(limit).await?;
    if rows.is_empty() {
        // Ends the roll backs that had nothing to move.
        state.store.store_rolled_back_keys(&[], 1).await?;
        return Ok(0);
    }
    let mut failed: Option<RollError> = None;
    // Each tenant's own data key, and each (policy, version) data key the batch needs, once.
    let mut tenant_keys: HashMap<String, (u32, TenantDataKey)> = HashMap::new();
    let mut data_keys: HashMap<(String, u32), TenantDataKey> = HashMap::new();
    let mut policies: HashMap<String, Option<Policy>> = HashMap::new();
    for row in &rows {
        if !tenant_keys.contains_key(&row.key.tenant_id) {
            let tenant = state.store.tenant(&row.key.tenant_id).await?;
            match state
                .keys
                .unwrap(&tenant.id, tenant.key_version, &tenant.wrapped_data_key)
            {
                Ok(k) => {
                    tenant_keys.insert(tenant.id.clone(), (tenant.key_version, k));
                }
                Err(e) => {
                    failed.get_or_insert(e.into());
                }
            }
        }
        let slot = (row.policy_id.clone(), row.key.key_version);
        if data_keys.contains_key(&slot) {
            continue;
        }
        if !policies.contains_key(&row.policy_id) {
            let p = match state.store.policy(&row.key.tenant_id, &row.policy_id).await {
                Ok(p) => Some(p),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            policies.insert(row.policy_id.clone(), p);
        }
        let Some(Some(policy)) = policies.get(&row.policy_id) else {
            continue;
        };
        match state
            .store
            .policy_data_key(&policy.id, row.key.key_version)
            .await
        {
            Ok(w) => match unwrap_data_key(&state.root_keys, policy, &w) {
                Ok(k) => {
                    data_keys.insert(slot, k);
                }
                Err(e) => {
                    failed.get_or_insert(e.into());
                }
            },
            // Retired meanwhile: the message moved already; it is skipped.
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut by_version: HashMap<u32, Vec<RollBackRow>> = HashMap::new();
    for row in rows {
        let (Some((to, tenant_key)), Some(old)) = (
            tenant_keys.get(&row.key.tenant_id),
            data_keys.get(&(row.policy_id.clone(), row.key.key_version)),
        ) else {
            continue;
        };
        match rewrap(&row.key, old, tenant_key, *to) {
            Ok(key) => by_version.entry(*to).or_default().push(RollBackRow {
                key,
                policy_id: row.policy_id,
            }),
            Err(e) => {
                tracing::error!(error = %e, "a message key could not be rolled back");
                failed.get_or_insert(e);
            }
        }
    }
    let mut moved = 0;
    for (to, rows) in by_version {
        moved += state.store.store_rolled_back_keys(&rows, to).await?;
    }
    match failed {
        Some(e) if moved == 0 => Err(e),
        Some(e) => {
            tracing::warn!(error = %e, "some message keys could not be rolled back yet");
            Ok(moved)
        }
        None => Ok(moved),
    }
}
