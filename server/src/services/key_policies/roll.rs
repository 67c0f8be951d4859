//! Key roll (`Set-DataEncryptionPolicy -Refresh`): a new version of a policy's data key, which new
//! messages get at once, and a background worker that re-wraps every older message key under it —
//! the 32-byte key is unwrapped and wrapped again; sealed content is never touched. The same
//! worker carries out roll backs (`roll_back`) and gives policies their availability keys
//! (`availability::backfill`).
//!
//! The roll's whole state is in the database (each message's version against the policy's), and
//! each batch commits in one transaction that writes a key only where the message is still at the
//! version it was read at. So a crash loses at most the batch in flight, the next start (or any
//! node) carries on from there, and a message is readable at every moment: its data-key version is
//! deleted only in the transaction that moves the last message off it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sealpost_envelope::{
    MessageId, TenantDataKey, WrapBinding, unwrap_message_key, wrap_message_key,
};

use super::{refuse_if_purging, unwrap_data_key, wrap_version};
use crate::keys::KeyError;
use crate::services::error::ServiceError;
use crate::state::AppState;
use crate::store::key_policies::{MessageKeyRow, Policy};
use crate::store::{StoreError, StoreResult};

/// Message keys re-wrapped per transaction.
pub const BATCH: u32 = 200;
/// How long the worker sleeps when there is nothing to roll (it is also woken by a new roll).
const IDLE: Duration = Duration::from_secs(30);
/// How long it waits after a failure (a root key not answering) before trying again.
const BACKOFF: Duration = Duration::from_secs(5);

/// Start a roll: a fresh data key as the policy's next version, wrapped under both root keys (both
/// must answer). Returns the new version; the worker does the rest.
pub async fn start(state: &AppState, policy: &Policy) -> Result<u32, ServiceError> {
    refuse_if_purging(policy)?;
    let next = policy.current_version + 1;
    let key = TenantDataKey::generate();
    let wrapped = wrap_version(&state.root_keys, policy, next, &key)?;
    drop(key);
    match state
        .store
        .add_policy_data_key(&policy.id, &wrapped, state.clock.now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ServiceError::conflict(
                "policy_busy",
                "The policy changed at the same moment (another roll, or a purge request); look at it again.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    // Retire older versions no message uses (a policy without messages rolls at once).
    state.store.store_rolled_keys(&policy.id, next, &[]).await?;
    state.key_roll.notify_one();
    Ok(next)
}

/// Why a roll step stopped.
#[derive(Debug, thiserror::Error)]
pub enum RollError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A root key did not answer, or a key did not open.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A stored message key did not open with its data key.
    #[error("message {0}: its key does not open with its data key")]
    Message(String),
}

/// One pass of the key worker: a batch of at most `limit` message keys for each policy being
/// rolled, and for each policy a roll back is moving messages from. Returns how many message keys
/// moved (0: nothing is rolling or rolling back). A policy whose keys do not answer does not hold
/// up the others; if nothing moved because of one, its reason is the error.
pub async fn step(state: &AppState, limit: u32) -> Result<u64, RollError> {
    let mut moved = 0;
    let mut failed = None;
    for policy in state.store.rolling_policies().await? {
        match step_policy(state, &policy, limit).await {
            Ok(n) => moved += n,
            Err(e) => {
                tracing::warn!(policy = %policy.id, error = %e, "a policy's key roll is waiting");
                failed.get_or_insert(e);
            }
        }
    }
    match super::roll_back::step(state, limit).await {
        Ok(n) => moved += n,
        Err(e) => {
            failed.get_or_insert(e);
        }
    }
    match failed {
        Some(e) if moved == 0 => Err(e),
        _ => Ok(moved),
    }
}

async fn step_policy(state: &AppState, policy: &Policy, limit: u32) -> Result<u64, RollError> {
    let rows = state
        .store
        .message_keys_to_roll(&policy.id, policy.current_version, limit)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let target = data_key(state, policy, policy.current_version).await?;
    let mut old_keys: HashMap<u32, TenantDataKey> = HashMap::new();
    let mut rolled = Vec::with_capacity(rows.len());
    for row in rows {
        let old = match old_keys.entry(row.key_version) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                match data_key(state, policy, row.key_version).await {
                    Ok(k) => e.insert(k),
                    // Retired meanwhile: the message moved already (another node); skip it.
                    Err(RollError::Store(StoreError::NotFound)) => continue,
                    Err(e) => return Err(e),
                }
            }
        };
        rolled.push(rewrap(&row, old, &target, policy.current_version)?);
    }
    Ok(state
        .store
        .store_rolled_keys(&policy.id, policy.current_version, &rolled)
        .await?)
}

async fn data_key(
    state: &AppState,
    policy: &Policy,
    version: u32,
) -> Result<TenantDataKey, RollError> {
    let wrapped = state.store.policy_data_key(&policy.id, version).await?;
    Ok(unwrap_data_key(&state.root_keys, policy, &wrapped)?)
}

/// A message key unwrapped with `old` (the data key it is under) and wrapped again with `new` at
/// version `to`; the row's `key_version` stays the one it was read at (the write checks it).
pub(super) fn rewrap(
    row: &MessageKeyRow,
    old: &TenantDataKey,
    new: &TenantDataKey,
    to: u32,
) -> Result<MessageKeyRow, RollError> {
    let broken = || RollError::Message(row.message_id.clone());
    let id = MessageId::parse(&row.message_id).map_err(|_| broken())?;
    let key = unwrap_message_key(
        old,
        &row.wrapped_key,
        &WrapBinding {
            tenant_id: &row.tenant_id,
            message_id: &id,
            key_version: row.key_version,
        },
    )
    .map_err(|_| broken())?;
    let wrapped = wrap_message_key(
        new,
        &key,
        &WrapBinding {
            tenant_id: &row.tenant_id,
            message_id: &id,
            key_version: to,
        },
    )
    .map_err(|_| broken())?;
    Ok(MessageKeyRow {
        tenant_id: row.tenant_id.clone(),
        message_id: row.message_id.clone(),
        key_version: row.key_version,
        wrapped_key: wrapped.to_vec(),
    })
}

/// Run until the process ends: roll a batch at a time while anything is rolling, then sleep until
/// a roll starts (or [`IDLE`] passes: another node may have started one). At start it picks up
/// whatever a crashed run left.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let wake: Arc<tokio::sync::Notify> = state.key_roll.clone();
    tokio::spawn(async move {
        let mut last_backfill: Option<tokio::time::Instant> = None;
        loop {
            // Availability keys for policies without one, at most once per idle period (a policy
            // whose root keys are lost would otherwise be tried, and logged, on every pass).
            if last_backfill.is_none_or(|at| at.elapsed() >= IDLE) {
                last_backfill = Some(tokio::time::Instant::now());
                super::availability::backfill(&state).await;
            }
            match step(&state, BATCH).await {
                Ok(0) => {
                    let _ = tokio::time::timeout(IDLE, wake.notified()).await;
                }
                Ok(moved) => {
                    tracing::info!(moved, "key roll: message keys re-wrapped");
                }
                Err(e) => {
                    tracing::error!(error = %e, "key roll paused; it resumes when the keys answer");
                    tokio::time::sleep(BACKOFF).await;
                }
            }
        }
    })
}

/// Roll until nothing is left (the command line and tests; the server uses [`spawn`]).
pub async fn run_to_end(state: &AppState) -> StoreResult<u64> {
    let mut total = 0;
    loop {
        match step(state, BATCH).await {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(RollError::Store(e)) => return Err(e),
            Err(e) => return Err(StoreError::Database(e.to_string())),
        }
    }
}
