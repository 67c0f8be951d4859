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
//! As in a key roll, the whole state is in the database (a row per roll back under way, which
//! covers its tenant's or sender's messages sealed until it was asked for), each batch is one
//! transaction that moves a key only where the message is still where it was read and still
//! covered, and a crash loses at most the batch in flight. A roll back ends once nothing is left,
//! [`GRACE_SECONDS`] after it was asked for at the earliest. The policy's root keys must still answer (Microsoft's "you must still retain your
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

/// A roll back ends this long after it was asked for, at the earliest, once nothing is left: a
/// message being sealed under the old policy when it was asked for is stored within that time,
/// and is still moved.
pub const GRACE_SECONDS: i64 = 300;

/// A tenant's roll back: when it was asked for (while it is under way) and how many messages it
/// still has to move.
pub async fn tenant_status(
    state: &AppState,
    tenant: &Tenant,
) -> Result<(Option<i64>, u64), ServiceError> {
    Ok((
        state.store.roll_back_requested(&tenant.id, None).await?,
        state.store.roll_back_left(&tenant.id, None).await?,
    ))
}

/// One batch of at most `limit` message keys for each policy a roll back is moving messages
/// from, to their tenants' own data keys; then the roll backs with nothing left end. Returns how
/// many moved. A policy whose root keys do not answer waits without holding up the others; if
/// nothing could move because of one, its reason is the error.
pub async fn step(state: &AppState, limit: u32) -> Result<u64, RollError> {
    if !state.store.roll_backs_pending().await? {
        return Ok(0);
    }
    let mut moved = 0;
    let mut failed: Option<RollError> = None;
    let mut tenant_keys: HashMap<String, (u32, TenantDataKey)> = HashMap::new();
    for policy in state.store.roll_back_policies().await? {
        match step_policy(state, &policy, limit, &mut tenant_keys).await {
            Ok(n) => moved += n,
            Err(e) => {
                tracing::warn!(policy = %policy.id, error = %e, "a roll back is waiting for a policy's keys");
                failed.get_or_insert(e);
            }
        }
    }
    state
        .store
        .finish_roll_backs(state.clock.now() - GRACE_SECONDS)
        .await?;
    match failed {
        Some(e) if moved == 0 => Err(e),
        _ => Ok(moved),
    }
}

async fn step_policy(
    state: &AppState,
    policy: &Policy,
    limit: u32,
    tenant_keys: &mut HashMap<String, (u32, TenantDataKey)>,
) -> Result<u64, RollError> {
    let rows = state
        .store
        .message_keys_to_roll_back(&policy.id, limit)
        .await?;
    if !tenant_keys.contains_key(&policy.tenant_id) {
        let tenant = state.store.tenant(&policy.tenant_id).await?;
        let key = state
            .keys
            .unwrap(&tenant.id, tenant.key_version, &tenant.wrapped_data_key)?;
        tenant_keys.insert(tenant.id.clone(), (tenant.key_version, key));
    }
    let Some((to, tenant_key)) = tenant_keys.get(&policy.tenant_id) else {
        return Ok(0);
    };
    let mut data_keys: HashMap<u32, TenantDataKey> = HashMap::new();
    let mut moving = Vec::with_capacity(rows.len());
    for row in rows {
        let old = match data_keys.entry(row.key.key_version) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                match state
                    .store
                    .policy_data_key(&policy.id, row.key.key_version)
                    .await
                {
                    Ok(w) => e.insert(unwrap_data_key(&state.root_keys, policy, &w)?),
                    // Retired meanwhile: the message moved already; it is skipped.
                    Err(StoreError::NotFound) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        moving.push(RollBackRow {
            key: rewrap(&row.key, old, tenant_key, *to)?,
            policy_id: row.policy_id,
        });
    }
    Ok(state.store.store_rolled_back_keys(&moving, *to).await?)
}
