//! [`KeyPolicyStore`] in shared SQL (see `store.rs`). Every change that must be whole (a root key
//! replaced with all versions re-wrapped, a batch of rolled message keys, a purge) is one
//! serialized write transaction ([`Engine::begin_write`] on [`KEY_POLICIES`]); rolled keys are
//! written only where the message is still at the version they were read at, so a roll that
//! crashed and resumed, or two nodes rolling at once, cannot go backwards. What the engine does
//! after a purge to keep deleted keys out of its files is [`Engine::after_purge`].

use async_trait::async_trait;

use sqlx::Transaction;

use super::audit::insert_audit;
use super::db;
use super::{Db, Engine};
use crate::store::key_policies::{
    KeyPolicyStore, MessageKeyRow, Policy, PurgeCount, PurgeRequest, RollBackRow, SenderKeys,
    WrappedDataKey,
};
use crate::store::{AuditEvent, StoreError, StoreResult};

/// `NotFound` when a conditional change touched no row.
fn found(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The lock every whole change to policies and their keys takes.
const KEY_POLICIES: &str = "key_policies";

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: String,
    tenant_id: String,
    name: String,
    description: String,
    root_key_1: String,
    root_key_2: String,
    current_version: i64,
    created_at: i64,
    created_by: String,
    purge_requested_at: Option<i64>,
    purge_requested_by: Option<String>,
    purge_reason: Option<String>,
    purge_contact: Option<String>,
    purged_at: Option<i64>,
    purged_by: Option<String>,
    availability_key: Option<String>,
}

const POLICY_COLUMNS: &str = "id, tenant_id, name, description, root_key_1, root_key_2, \
     current_version, created_at, created_by, purge_requested_at, purge_requested_by, \
     purge_reason, purge_contact, purged_at, purged_by, availability_key \
     from data_encryption_policies";

fn version(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

impl From<PolicyRow> for Policy {
    fn from(r: PolicyRow) -> Self {
        Policy {
            id: r.id,
            tenant_id: r.tenant_id,
            name: r.name,
            description: r.description,
            root_keys: [r.root_key_1, r.root_key_2],
            availability_key: r.availability_key,
            current_version: version(r.current_version),
            created_at: r.created_at,
            created_by: r.created_by,
            purge_request: r.purge_requested_at.map(|at| PurgeRequest {
                at,
                by: r.purge_requested_by.unwrap_or_default(),
                reason: r.purge_reason.unwrap_or_default(),
                contact: r.purge_contact.unwrap_or_default(),
            }),
            purged: r.purged_at.map(|at| (at, r.purged_by.unwrap_or_default())),
        }
    }
}

type KeyRow = (i64, Vec<u8>, Vec<u8>, Option<Vec<u8>>);

const KEY_COLUMNS: &str =
    "version, wrapped_1, wrapped_2, wrapped_availability from policy_data_keys";

fn data_key(row: KeyRow) -> WrappedDataKey {
    WrappedDataKey {
        version: version(row.0),
        wrapped: [row.1, row.2],
        availability: row.3,
    }
}

/// The versions of a policy's data key, read inside `tx`, checked against those `given`:
/// `Conflict` if a roll or purge changed them since they were read.
async fn same_versions(
    tx: &mut Transaction<'static, Db>,
    policy_id: &str,
    mut given: Vec<u32>,
) -> StoreResult<()> {
    let versions: Vec<(i64,)> = sqlx::query_as(
        "select version from policy_data_keys where policy_id = $1 order by version",
    )
    .bind(policy_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    given.sort_unstable();
    let stored: Vec<u32> = versions.into_iter().map(|(v,)| version(v)).collect();
    if stored != given {
        return Err(StoreError::Conflict("versions_changed"));
    }
    Ok(())
}

/// Commit `tx` if `result` is `Ok`; otherwise drop it, which rolls it back.
async fn finish<T>(tx: Transaction<'static, Db>, result: StoreResult<T>) -> StoreResult<T> {
    let value = result?;
    tx.commit().await.map_err(db)?;
    Ok(value)
}

#[async_trait]
impl KeyPolicyStore for Engine {
    async fn create_policy(&self, policy: &Policy, first: &WrappedDataKey) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "insert into data_encryption_policies (id, tenant_id, name, name_key, description, \
             root_key_1, root_key_2, current_version, created_at, created_by, availability_key) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&policy.id)
        .bind(&policy.tenant_id)
        .bind(&policy.name)
        .bind(name_key(&policy.name))
        .bind(&policy.description)
        .bind(&policy.root_keys[0])
        .bind(&policy.root_keys[1])
        .bind(i64::from(policy.current_version))
        .bind(policy.created_at)
        .bind(&policy.created_by)
        .bind(&policy.availability_key)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "insert into policy_data_keys (policy_id, version, wrapped_1, wrapped_2, \
             wrapped_availability, created_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&policy.id)
        .bind(i64::from(first.version))
        .bind(&first.wrapped[0])
        .bind(&first.wrapped[1])
        .bind(&first.availability)
        .bind(policy.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn policies(&self, tenant_id: &str) -> StoreResult<Vec<Policy>> {
        let rows = sqlx::query_as::<_, PolicyRow>(&format!(
            "select {POLICY_COLUMNS} where tenant_id = $1 order by name_key"
        ))
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Policy::from).collect())
    }

    async fn policy(&self, tenant_id: &str, name_or_id: &str) -> StoreResult<Policy> {
        sqlx::query_as::<_, PolicyRow>(&format!(
            "select {POLICY_COLUMNS} where tenant_id = $1 and (name_key = $2 or id = $3)"
        ))
        .bind(tenant_id)
        .bind(name_key(name_or_id))
        .bind(name_or_id.trim())
        .fetch_one(&self.pool)
        .await
        .map(Policy::from)
        .map_err(db)
    }

    async fn set_policy_description(
        &self,
        tenant_id: &str,
        policy_id: &str,
        description: &str,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "update data_encryption_policies set description = $1 where tenant_id = $2 and id = $3",
        )
        .bind(description)
        .bind(tenant_id)
        .bind(policy_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        found(done.rows_affected())
    }

    async fn policy_data_keys(&self, policy_id: &str) -> StoreResult<Vec<WrappedDataKey>> {
        let rows = sqlx::query_as::<_, KeyRow>(&format!(
            "select {KEY_COLUMNS} where policy_id = $1 order by version"
        ))
        .bind(policy_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(data_key).collect())
    }

    async fn policy_data_key(&self, policy_id: &str, version: u32) -> StoreResult<WrappedDataKey> {
        sqlx::query_as::<_, KeyRow>(&format!(
            "select {KEY_COLUMNS} where policy_id = $1 and version = $2"
        ))
        .bind(policy_id)
        .bind(i64::from(version))
        .fetch_one(&self.pool)
        .await
        .map(data_key)
        .map_err(db)
    }

    async fn replace_policy_root(
        &self,
        policy_id: &str,
        slot: usize,
        new_root: &str,
        rewrapped: &[(u32, Vec<u8>)],
    ) -> StoreResult<()> {
        let (root_column, key_column) = match slot {
            0 => ("root_key_1", "wrapped_1"),
            1 => ("root_key_2", "wrapped_2"),
            _ => return Err(StoreError::Database("a policy has two root keys".into())),
        };
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let result = async {
            same_versions(&mut tx, policy_id, rewrapped.iter().map(|(v, _)| *v).collect()).await?;
            for (v, wrapped) in rewrapped {
                sqlx::query(&format!(
                    "update policy_data_keys set {key_column} = $1 where policy_id = $2 and version = $3"
                ))
                .bind(wrapped)
                .bind(policy_id)
                .bind(i64::from(*v))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
            let done = sqlx::query(&format!(
                "update data_encryption_policies set {root_column} = $1 \
                 where id = $2 and purged_at is null"
            ))
            .bind(new_root)
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            found(done.rows_affected())?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn add_policy_data_key(
        &self,
        policy_id: &str,
        next: &WrappedDataKey,
        at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let result = async {
            let done = sqlx::query(
                "update data_encryption_policies set current_version = $1 \
                 where id = $2 and current_version = $3 and purged_at is null \
                 and purge_requested_at is null and (availability_key is null) = $4",
            )
            .bind(i64::from(next.version))
            .bind(policy_id)
            .bind(i64::from(next.version) - 1)
            // Wrapped under the availability key exactly when the policy has one (it may have
            // been given one since it was read).
            .bind(next.availability.is_none())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict("version_changed"));
            }
            sqlx::query(
                "insert into policy_data_keys (policy_id, version, wrapped_1, wrapped_2, \
                 wrapped_availability, created_at) values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(policy_id)
            .bind(i64::from(next.version))
            .bind(&next.wrapped[0])
            .bind(&next.wrapped[1])
            .bind(&next.availability)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn roll_progress(&self, policy_id: &str) -> StoreResult<(u64, u64)> {
        let (done, total): (i64, i64) = sqlx::query_as(
            "select count(case when m.key_version = p.current_version then 1 end), count(m.id) \
             from data_encryption_policies p left join messages m on m.policy_id = p.id \
             where p.id = $1",
        )
        .bind(policy_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok((
            u64::try_from(done).unwrap_or(0),
            u64::try_from(total).unwrap_or(0),
        ))
    }

    async fn rolling_policies(&self) -> StoreResult<Vec<Policy>> {
        let rows = sqlx::query_as::<_, PolicyRow>(&format!(
            "select {POLICY_COLUMNS} p where purged_at is null and exists ( \
                 select 1 from messages m where m.policy_id = p.id \
                 and m.key_version < p.current_version) \
             order by created_at"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Policy::from).collect())
    }

    async fn message_keys_to_roll(
        &self,
        policy_id: &str,
        below: u32,
        limit: u32,
    ) -> StoreResult<Vec<MessageKeyRow>> {
        let rows: Vec<(String, String, i64, Vec<u8>)> = sqlx::query_as(
            "select tenant_id, id, key_version, wrapped_key from messages \
             where policy_id = $1 and key_version < $2 order by key_version, id limit $3",
        )
        .bind(policy_id)
        .bind(i64::from(below))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(tenant_id, message_id, v, wrapped_key)| MessageKeyRow {
                tenant_id,
                message_id,
                key_version: version(v),
                wrapped_key,
            })
            .collect())
    }

    async fn store_rolled_keys(
        &self,
        policy_id: &str,
        to_version: u32,
        rolled: &[MessageKeyRow],
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let mut moved = 0u64;
        let result = async {
            for r in rolled {
                let done = sqlx::query(
                    "update messages set wrapped_key = $1, key_version = $2 \
                     where id = $3 and policy_id = $4 and key_version = $5 and exists ( \
                         select 1 from data_encryption_policies p \
                         where p.id = messages.policy_id and p.purged_at is null)",
                )
                .bind(&r.wrapped_key)
                .bind(i64::from(to_version))
                .bind(&r.message_id)
                .bind(policy_id)
                .bind(i64::from(r.key_version))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                moved += done.rows_affected();
            }
            sqlx::query(
                "delete from policy_data_keys where policy_id = $1 and version < $2 \
                 and not exists (select 1 from messages m where m.policy_id = $3 \
                                 and m.key_version = policy_data_keys.version) \
                 and not exists (select 1 from drafts d where d.policy_id = $3 \
                                 and d.key_version = policy_data_keys.version)",
            )
            .bind(policy_id)
            .bind(i64::from(to_version))
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await?;
        Ok(moved)
    }

    async fn set_purge_request(
        &self,
        tenant_id: &str,
        policy_id: &str,
        request: Option<&PurgeRequest>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "update data_encryption_policies set purge_requested_at = $1, purge_requested_by = $2, \
             purge_reason = $3, purge_contact = $4 \
             where tenant_id = $5 and id = $6 and purged_at is null",
        )
        .bind(request.map(|r| r.at))
        .bind(request.map(|r| r.by.as_str()))
        .bind(request.map(|r| r.reason.as_str()))
        .bind(request.map(|r| r.contact.as_str()))
        .bind(tenant_id)
        .bind(policy_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        found(done.rows_affected())
    }

    async fn purge_policy(
        &self,
        tenant_id: &str,
        policy_id: &str,
        by: &str,
        at: i64,
    ) -> StoreResult<PurgeCount> {
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let mut count = PurgeCount {
            data_keys: 0,
            message_keys: 0,
        };
        let result = async {
            let done = sqlx::query(
                "update data_encryption_policies set purged_at = $1, purged_by = $2 \
                 where tenant_id = $3 and id = $4 and purged_at is null \
                 and purge_requested_at is not null and availability_key is null",
            )
            .bind(at)
            .bind(by)
            .bind(tenant_id)
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if done.rows_affected() == 0 {
                // Given an availability key since it was destroyed and cleared: not final yet.
                let (kept,): (i64,) = sqlx::query_as(
                    "select count(*) from data_encryption_policies where tenant_id = $1 \
                     and id = $2 and purged_at is null and availability_key is not null",
                )
                .bind(tenant_id)
                .bind(policy_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
                return Err(if kept > 0 {
                    StoreError::Conflict("availability_key_set")
                } else {
                    StoreError::NotFound
                });
            }
            count.data_keys = sqlx::query("delete from policy_data_keys where policy_id = $1")
                .bind(policy_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            // Notices not sent yet carry the subject and a link to what can no longer be opened.
            sqlx::query(
                "delete from outbox where message_id in \
                 (select id from messages where tenant_id = $1 and policy_id = $2)",
            )
            .bind(tenant_id)
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            count.message_keys = sqlx::query(
                "update messages set wrapped_key = $1 where tenant_id = $2 and policy_id = $3",
            )
            .bind(Vec::<u8>::new())
            .bind(tenant_id)
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
            sqlx::query(
                "update tenants set data_encryption_policy_id = null \
                 where id = $1 and data_encryption_policy_id = $2",
            )
            .bind(tenant_id)
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            sqlx::query("delete from sender_policies where tenant_id = $1 and policy_id = $2")
                .bind(tenant_id)
                .bind(policy_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await?;
        self.after_purge().await?;
        Ok(count)
    }

    async fn assign_policy(&self, tenant_id: &str, policy_id: Option<&str>) -> StoreResult<()> {
        let done = sqlx::query(
            "update tenants set data_encryption_policy_id = $1 where id = $2 and ( \
                 $3 is null or exists (select 1 from data_encryption_policies \
                     where id = $4 and tenant_id = $5 and purged_at is null \
                     and purge_requested_at is null))",
        )
        .bind(policy_id)
        .bind(tenant_id)
        .bind(policy_id)
        .bind(policy_id)
        .bind(tenant_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        found(done.rows_affected())
    }

    async fn assign_sender_policy(
        &self,
        tenant_id: &str,
        address: &str,
        keys: &SenderKeys,
        at: i64,
    ) -> StoreResult<()> {
        let policy_id = match keys {
            SenderKeys::FollowTenant | SenderKeys::ServiceManaged => None,
            SenderKeys::Policy(id) => Some(id.as_str()),
        };
        // Serialized with purges (which take the policy from its senders): a sender is never left
        // with a policy purged between the check and the write.
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let result = async {
            if let Some(policy_id) = policy_id {
                let (usable,): (i64,) = sqlx::query_as(
                    "select count(*) from data_encryption_policies where id = $1 and tenant_id = $2 \
                     and purged_at is null and purge_requested_at is null",
                )
                .bind(policy_id)
                .bind(tenant_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
                if usable == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            sqlx::query("delete from sender_policies where tenant_id = $1 and address = $2")
                .bind(tenant_id)
                .bind(address)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            // Any change of the sender's setting ends a roll back of theirs under way; rolling
            // back starts one.
            sqlx::query("delete from key_roll_backs where tenant_id = $1 and sender = $2")
                .bind(tenant_id)
                .bind(address)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if *keys == SenderKeys::FollowTenant {
                return Ok(());
            }
            sqlx::query(
                "insert into sender_policies (tenant_id, address, policy_id, assigned_at) \
                 values ($1, $2, $3, $4)",
            )
            .bind(tenant_id)
            .bind(address)
            .bind(policy_id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if *keys == SenderKeys::ServiceManaged {
                sqlx::query(
                    "insert into key_roll_backs (tenant_id, sender, requested_at) \
                     values ($1, $2, $3)",
                )
                .bind(tenant_id)
                .bind(address)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn sender_policy(&self, tenant_id: &str, address: &str) -> StoreResult<SenderKeys> {
        let row = sqlx::query_as::<_, (Option<String>,)>(
            "select policy_id from sender_policies where tenant_id = $1 and address = $2",
        )
        .bind(tenant_id)
        .bind(address)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(match row {
            None => SenderKeys::FollowTenant,
            Some((None,)) => SenderKeys::ServiceManaged,
            Some((Some(id),)) => SenderKeys::Policy(id),
        })
    }

    async fn sender_messages(
        &self,
        tenant_id: &str,
        address: &str,
        policy_id: Option<&str>,
    ) -> StoreResult<(u64, u64)> {
        let (total, under): (i64, i64) = sqlx::query_as(
            "select count(*), coalesce(sum(case when policy_id is not distinct from $3 \
             then 1 else 0 end), 0) from messages where tenant_id = $1 and sender = $2",
        )
        .bind(tenant_id)
        .bind(address)
        .bind(policy_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok((
            u64::try_from(total).unwrap_or(0),
            u64::try_from(under).unwrap_or(0),
        ))
    }

    async fn root_key_in_use(&self, root_key: &str) -> StoreResult<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from data_encryption_policies \
             where purged_at is null and (root_key_1 = $1 or root_key_2 = $2)",
        )
        .bind(root_key)
        .bind(root_key)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(n > 0)
    }

    async fn policies_without_availability(&self) -> StoreResult<Vec<Policy>> {
        let rows = sqlx::query_as::<_, PolicyRow>(&format!(
            "select {POLICY_COLUMNS} where availability_key is null and purged_at is null \
             and purge_requested_at is null order by created_at"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Policy::from).collect())
    }

    async fn set_policy_availability(
        &self,
        policy_id: &str,
        name: &str,
        wrapped: &[(u32, Vec<u8>)],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let result = async {
            same_versions(
                &mut tx,
                policy_id,
                wrapped.iter().map(|(v, _)| *v).collect(),
            )
            .await?;
            let done = sqlx::query(
                "update data_encryption_policies set availability_key = $1 \
                 where id = $2 and availability_key is null and purged_at is null \
                 and purge_requested_at is null",
            )
            .bind(name)
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict("availability_key_set"));
            }
            for (v, w) in wrapped {
                sqlx::query(
                    "update policy_data_keys set wrapped_availability = $1 \
                     where policy_id = $2 and version = $3",
                )
                .bind(w)
                .bind(policy_id)
                .bind(i64::from(*v))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn recover_policy(
        &self,
        policy_id: &str,
        roots: &[String; 2],
        rewrapped: &[(u32, [Vec<u8>; 2])],
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let result = async {
            same_versions(
                &mut tx,
                policy_id,
                rewrapped.iter().map(|(v, _)| *v).collect(),
            )
            .await?;
            let done = sqlx::query(
                "update data_encryption_policies set root_key_1 = $1, root_key_2 = $2 \
                 where id = $3 and purged_at is null and purge_requested_at is null",
            )
            .bind(&roots[0])
            .bind(&roots[1])
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            found(done.rows_affected())?;
            for (v, [a, b]) in rewrapped {
                sqlx::query(
                    "update policy_data_keys set wrapped_1 = $1, wrapped_2 = $2 \
                     where policy_id = $3 and version = $4",
                )
                .bind(a)
                .bind(b)
                .bind(policy_id)
                .bind(i64::from(*v))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
            insert_audit(&mut tx, audit).await.map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn clear_policy_availability(&self, policy_id: &str, name: &str) -> StoreResult<()> {
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let result = async {
            let done = sqlx::query(
                "update data_encryption_policies set availability_key = null \
                 where id = $1 and availability_key = $2",
            )
            .bind(policy_id)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            found(done.rows_affected())?;
            sqlx::query(
                "update policy_data_keys set wrapped_availability = null where policy_id = $1",
            )
            .bind(policy_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn roll_back_tenant(&self, tenant_id: &str, at: i64) -> StoreResult<()> {
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let result = async {
            let done =
                sqlx::query("update tenants set data_encryption_policy_id = null where id = $1")
                    .bind(tenant_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            found(done.rows_affected())?;
            sqlx::query(
                "delete from sender_policies where tenant_id = $1 and policy_id is not null",
            )
            .bind(tenant_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            sqlx::query("delete from key_roll_backs where tenant_id = $1 and sender = ''")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query(
                "insert into key_roll_backs (tenant_id, sender, requested_at) values ($1, '', $2)",
            )
            .bind(tenant_id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn roll_back_requested(
        &self,
        tenant_id: &str,
        sender: Option<&str>,
    ) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_as::<_, (i64,)>(
            "select requested_at from key_roll_backs where tenant_id = $1 and sender = $2",
        )
        .bind(tenant_id)
        .bind(sender.unwrap_or_default())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(|(at,)| at))
    }

    async fn roll_back_left(&self, tenant_id: &str, sender: Option<&str>) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as(&format!(
            "select count(*) from key_roll_backs r join messages m {COVERED} \
             join data_encryption_policies p on p.id = m.policy_id and p.purged_at is null \
             where r.tenant_id = $1 and r.sender = $2"
        ))
        .bind(tenant_id)
        .bind(sender.unwrap_or_default())
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn roll_backs_pending(&self) -> StoreResult<bool> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from key_roll_backs")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(n > 0)
    }

    async fn roll_back_policies(&self) -> StoreResult<Vec<Policy>> {
        let rows = sqlx::query_as::<_, PolicyRow>(&format!(
            "select {POLICY_COLUMNS} p where purged_at is null and purge_requested_at is null \
             and id in (select m.policy_id from key_roll_backs r join messages m {COVERED}) \
             order by created_at"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Policy::from).collect())
    }

    async fn message_keys_to_roll_back(
        &self,
        policy_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<RollBackRow>> {
        let rows: Vec<(String, String, i64, Vec<u8>)> = sqlx::query_as(&format!(
            "select m.tenant_id, m.id, m.key_version, m.wrapped_key from messages m \
             where m.policy_id = $1 and {} order by m.key_version, m.id limit $2",
            covered("m")
        ))
        .bind(policy_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(tenant_id, message_id, v, wrapped_key)| RollBackRow {
                key: MessageKeyRow {
                    tenant_id,
                    message_id,
                    key_version: version(v),
                    wrapped_key,
                },
                policy_id: policy_id.to_owned(),
            })
            .collect())
    }

    async fn store_rolled_back_keys(&self, rows: &[RollBackRow], to: u32) -> StoreResult<u64> {
        let mut tx = self.begin_write(KEY_POLICIES).await?;
        let mut moved = 0u64;
        let result = async {
            for r in rows {
                // Still where it was read, still covered by a roll back (the sender may have been
                // given a policy again meanwhile), and its policy not being purged.
                let done = sqlx::query(&format!(
                    "update messages set wrapped_key = $1, key_version = $2, policy_id = null \
                     where tenant_id = $3 and id = $4 and policy_id = $5 and key_version = $6 \
                     and {} and exists (select 1 from data_encryption_policies p \
                         where p.id = messages.policy_id and p.purged_at is null \
                         and p.purge_requested_at is null)",
                    covered("messages")
                ))
                .bind(&r.key.wrapped_key)
                .bind(i64::from(to))
                .bind(&r.key.tenant_id)
                .bind(&r.key.message_id)
                .bind(&r.policy_id)
                .bind(i64::from(r.key.key_version))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                moved += done.rows_affected();
            }
            Ok(())
        }
        .await;
        finish(tx, result).await?;
        Ok(moved)
    }

    async fn finish_roll_backs(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "delete from key_roll_backs where requested_at < $1 and not exists ( \
                 select 1 from messages m \
                 join data_encryption_policies p on p.id = m.policy_id and p.purged_at is null \
                 where m.tenant_id = key_roll_backs.tenant_id \
                 and (key_roll_backs.sender = '' or m.sender = key_roll_backs.sender) \
                 and m.created_at <= key_roll_backs.requested_at)",
        )
        .bind(before)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }
}

/// The join from a roll back (`r`) to the messages (`m`) it covers: its tenant's (or sender's)
/// messages under a policy sealed until it was asked for.
const COVERED: &str = "on m.tenant_id = r.tenant_id \
     and (r.sender = '' or m.sender = r.sender) and m.created_at <= r.requested_at \
     and m.policy_id is not null";

/// Whether a roll back covers the message in table (or alias) `t`.
fn covered(t: &str) -> String {
    format!(
        "exists (select 1 from key_roll_backs r where r.tenant_id = {t}.tenant_id \
         and (r.sender = '' or {t}.sender = r.sender) and {t}.created_at <= r.requested_at)"
    )
}
