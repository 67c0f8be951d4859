//! [`PortalStore`] in shared SQL (see `store.rs`). A passcode's tries are counted by a single
//! conditional statement, and a rate key's events and a tenant's portal log are written in a
//! write transaction serialized on that key or tenant, so two requests (on one node or two)
//! racing for the last try or the last passcode of the hour cannot both win, and two appends
//! cannot chain to the same entry.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Transaction;

use super::audit::{AUDIT_ROWS_PER_INSERT, insert_audits};
use super::{Db, Engine};
use super::{MESSAGE_COLUMNS, MessageRow, RecipientRow, TenantRow, blob, db, message_from};
use crate::domain::portal_log::{ChainedEntry, GENESIS, LogEntry, entry_hash};
use crate::domain::session::{ABSOLUTE, SessionTimes};
use crate::store::blob_store::ByteStream;
use crate::store::decisions::DecisionRecord;
use crate::store::portal::{
    LinkedRecipient, MAX_RATE_WINDOW, NewPasscode, NewSession, PortalLogFilter, PortalStore,
    RateCheck, SessionContext, StoredPasscode, StoredSession,
};
use crate::store::{StoreError, StoreResult, StoredMessage};

#[derive(sqlx::FromRow)]
struct LogRow {
    tenant_id: String,
    seq: i64,
    at: i64,
    message_id: String,
    recipient: String,
    event: String,
    detail: String,
    client_addr: String,
    user_agent: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl From<LogRow> for ChainedEntry {
    fn from(r: LogRow) -> Self {
        ChainedEntry {
            seq: u64::try_from(r.seq).unwrap_or(0),
            entry: LogEntry {
                tenant_id: r.tenant_id,
                at: r.at,
                message_id: r.message_id,
                recipient: r.recipient,
                event: r.event,
                detail: r.detail,
                client_addr: r.client_addr,
                user_agent: r.user_agent,
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

const LOG_COLUMNS: &str = "tenant_id, seq, at, message_id, recipient, event, detail, client_addr, \
     user_agent, prev_hash, hash";

/// The lock a tenant's portal log is appended and pruned under.
fn portal_log_lock(tenant_id: &str) -> String {
    format!("portal_log:{tenant_id}")
}

/// Append `e` to its tenant's chain inside `tx`, which holds [`portal_log_lock`]. `heads` keeps
/// each tenant's head as appended in this transaction, so a batch reads each head once.
async fn append_chained(
    tx: &mut Transaction<'_, Db>,
    heads: &mut HashMap<String, (u64, Vec<u8>)>,
    e: &LogEntry,
) -> StoreResult<ChainedEntry> {
    let (seq, prev_hash) = match heads.get(&e.tenant_id) {
        Some((seq, hash)) => (seq + 1, hash.clone()),
        None => {
            // The newest entry; if retention pruned them all, the checkpoint it left.
            let head = sqlx::query_as::<_, (i64, Vec<u8>)>(
                "select seq, hash from portal_log where tenant_id = $1 \
                 union all select seq, hash from portal_log_checkpoints where tenant_id = $2 \
                 order by seq desc limit 1",
            )
            .bind(&e.tenant_id)
            .bind(&e.tenant_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
            match head {
                Some((seq, hash)) => (u64::try_from(seq).unwrap_or(0) + 1, hash),
                None => (1, GENESIS.to_vec()),
            }
        }
    };
    let hash = entry_hash(&prev_hash, seq, e);
    sqlx::query(&format!(
        "insert into portal_log ({LOG_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&e.tenant_id)
    .bind(i64::try_from(seq).unwrap_or(i64::MAX))
    .bind(e.at)
    .bind(&e.message_id)
    .bind(&e.recipient)
    .bind(&e.event)
    .bind(&e.detail)
    .bind(&e.client_addr)
    .bind(&e.user_agent)
    .bind(&prev_hash)
    .bind(hash.as_slice())
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    heads.insert(e.tenant_id.clone(), (seq, hash.to_vec()));
    Ok(ChainedEntry {
        seq,
        entry: e.clone(),
        prev_hash,
        hash: hash.to_vec(),
    })
}

/// A session with its message (the columns [`MessageRow`] reads, by their own names) and tenant.
#[derive(sqlx::FromRow)]
struct ContextRow {
    s_binding: String,
    s_scope: String,
    s_address: String,
    s_created_at: i64,
    s_last_seen_at: i64,
    s_keep_signed_in: bool,
    #[sqlx(flatten)]
    message: MessageRow,
    t_name: String,
    t_show_subject_in_notice: bool,
    t_portal_tracking_logs: bool,
    t_wrapped_data_key: Vec<u8>,
    t_key_version: i64,
    t_created_at: i64,
    t_data_encryption_policy_id: Option<String>,
    t_portal_log_retention_days: Option<i64>,
    /// The tenant's domains in the database's order, separated by spaces (which no domain holds).
    t_domains: Option<String>,
    #[sqlx(flatten)]
    recipient: ContextRecipient,
}

/// One recipient of the message (a row per recipient; the other columns repeat).
#[derive(sqlx::FromRow)]
struct ContextRecipient {
    r_address: String,
    r_kind: String,
    r_notice_state: Option<String>,
    r_notice_at: Option<i64>,
    r_notice_error: Option<String>,
    r_notice_next_at: Option<i64>,
    r_opened_at: Option<i64>,
    r_revoked_at: Option<i64>,
    r_revoked_by: Option<String>,
}

impl From<ContextRecipient> for RecipientRow {
    fn from(r: ContextRecipient) -> Self {
        RecipientRow {
            address: r.r_address,
            kind: r.r_kind,
            notice_state: r.r_notice_state,
            notice_at: r.r_notice_at,
            notice_error: r.r_notice_error,
            notice_next_at: r.r_notice_next_at,
            opened_at: r.r_opened_at,
            revoked_at: r.r_revoked_at,
            revoked_by: r.r_revoked_by,
        }
    }
}

/// One query for a session, its message, the message's recipients (a row each) and its tenant.
static CONTEXT_QUERY: LazyLock<String> = LazyLock::new(|| {
    let message: Vec<String> = MESSAGE_COLUMNS
        .split(',')
        .map(|c| format!("m.{}", c.trim()))
        .collect();
    format!(
        "select s.binding as s_binding, s.scope as s_scope, s.address as s_address, \
         s.created_at as s_created_at, s.last_seen_at as s_last_seen_at, \
         s.keep_signed_in as s_keep_signed_in, {}, \
         t.name as t_name, t.show_subject_in_notice as t_show_subject_in_notice, \
         t.portal_tracking_logs as t_portal_tracking_logs, \
         t.wrapped_data_key as t_wrapped_data_key, t.key_version as t_key_version, \
         t.created_at as t_created_at, \
         t.data_encryption_policy_id as t_data_encryption_policy_id, \
         t.portal_log_retention_days as t_portal_log_retention_days, \
         (select string_agg(d.domain, ' ' order by d.domain) from tenant_domains d \
           where d.tenant_id = t.id) \
           as t_domains, \
         r.address as r_address, r.kind as r_kind, r.notice_state as r_notice_state, \
         r.notice_at as r_notice_at, r.notice_error as r_notice_error, \
         r.notice_next_at as r_notice_next_at, r.opened_at as r_opened_at, \
         r.revoked_at as r_revoked_at, r.revoked_by as r_revoked_by \
         from sessions s join messages m on m.id = s.scope join tenants t on t.id = m.tenant_id \
         join recipients r on r.message_id = m.id \
         where s.id_hash = $1 order by r.rowid",
        message.join(", ")
    )
});

#[async_trait]
impl PortalStore for Engine {
    async fn linked_recipient(&self, token_hash: &[u8; 32]) -> StoreResult<LinkedRecipient> {
        let (tenant_id, message_id, address) = sqlx::query_as::<_, (String, String, String)>(
            "select m.tenant_id, r.message_id, r.address from recipients r \
             join messages m on m.id = r.message_id where r.link_token_hash = $1",
        )
        .bind(token_hash.as_slice())
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(LinkedRecipient {
            tenant_id,
            message_id,
            address,
        })
    }

    async fn message_by_id(&self, message_id: &str) -> StoreResult<StoredMessage> {
        let row = sqlx::query_as::<_, MessageRow>(&format!(
            "select {MESSAGE_COLUMNS} from messages where id = $1"
        ))
        .bind(message_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        self.load_message(row).await
    }

    async fn count_rate_events(
        &self,
        checks: &[RateCheck],
        now: i64,
    ) -> StoreResult<Option<(usize, i64)>> {
        // Over a limit: answered from a read, so a flood of refused requests writes nothing.
        let over = |i: usize, count: i64, oldest: Option<i64>| {
            let c = &checks[i];
            (count + i64::from(c.count) > i64::from(c.max)).then(|| (i, oldest.unwrap_or(now)))
        };
        for (i, c) in checks.iter().enumerate() {
            let (count, oldest) = sqlx::query_as::<_, (i64, Option<i64>)>(
                "select count(*), min(at) from rate_events where rate_key = $1 and at > $2",
            )
            .bind(c.key.as_slice())
            .bind(c.since)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
            if let Some(refused) = over(i, count, oldest) {
                return Ok(Some(refused));
            }
        }
        let locks: Vec<String> = checks
            .iter()
            .map(|c| format!("rate:{}", hex::encode(c.key)))
            .collect();
        let locks: Vec<&str> = locks.iter().map(String::as_str).collect();
        // Counts, not records: a commit that does not wait for the disk (a power cut may forget
        // the last moments' tries).
        let mut tx = self.begin_count_all(&locks).await?;
        // Checked again under the locks, so parallel requests cannot pass a limit together.
        for (i, c) in checks.iter().enumerate() {
            let (count, oldest) = sqlx::query_as::<_, (i64, Option<i64>)>(
                "select count(*), min(at) from rate_events where rate_key = $1 and at > $2",
            )
            .bind(c.key.as_slice())
            .bind(c.since)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            if let Some(refused) = over(i, count, oldest) {
                return Ok(Some(refused));
            }
        }
        for c in checks {
            // This key's events older than its window count for nothing; anyone's older than
            // the longest window any limit has count for nobody (limits differ in their windows,
            // so another key's younger events must stay).
            sqlx::query("delete from rate_events where (rate_key = $1 and at <= $2) or at <= $3")
                .bind(c.key.as_slice())
                .bind(c.since)
                .bind(now - MAX_RATE_WINDOW)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            for _ in 0..c.count {
                sqlx::query("insert into rate_events (rate_key, at) values ($1, $2)")
                    .bind(c.key.as_slice())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(None)
    }

    async fn store_passcode(&self, p: &NewPasscode) -> StoreResult<()> {
        // One live code per person: two requests at once must not both leave theirs unburned.
        let mut tx = self
            .begin_write(&format!("passcode:{}:{}", p.scope, p.address))
            .await?;
        // Codes expired for a day are of no further use to anyone.
        sqlx::query("delete from passcodes where expires_at < $1")
            .bind(p.created_at - 86_400)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "update passcodes set burned_at = $1 \
             where scope = $2 and address = $3 and used_at is null and burned_at is null",
        )
        .bind(p.created_at)
        .bind(&p.scope)
        .bind(&p.address)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "insert into passcodes (id, scope, address, code_hash, created_at, expires_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.id)
        .bind(&p.scope)
        .bind(&p.address)
        .bind(p.code_hash.as_slice())
        .bind(p.created_at)
        .bind(p.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if let Some(mail) = &p.mail {
            // Mail of codes retired above is of no use any more.
            sqlx::query(
                "delete from outbox where purpose = 'passcode' and recipient = $1 \
                 and message_id = $2 and (lease_until is null or lease_until <= $3)",
            )
            .bind(&mail.recipient)
            .bind(&p.scope)
            .bind(p.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            Self::insert_outbox(&mut tx, mail, p.created_at)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn current_passcode(
        &self,
        scope: &str,
        address: &str,
        now: i64,
    ) -> StoreResult<Option<StoredPasscode>> {
        let row = sqlx::query_as::<_, (String, Vec<u8>)>(
            "select id, code_hash from passcodes where scope = $1 and address = $2 \
             and used_at is null and burned_at is null and expires_at > $3 \
             order by created_at desc, rowid desc limit 1",
        )
        .bind(scope)
        .bind(address)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(row.map(|(id, code_hash)| StoredPasscode { id, code_hash }))
    }

    async fn claim_passcode_attempt(&self, id: &str, max: u32) -> StoreResult<Option<u32>> {
        let row = sqlx::query_as::<_, (i64,)>(
            "update passcodes set attempts = attempts + 1 \
             where id = $1 and attempts < $2 and used_at is null and burned_at is null \
             returning attempts",
        )
        .bind(id)
        .bind(i64::from(max))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(row.map(|(n,)| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn use_passcode(&self, id: &str, now: i64) -> StoreResult<bool> {
        let r = sqlx::query(
            "update passcodes set used_at = $1 where id = $2 and used_at is null and burned_at is null",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(r.rows_affected() == 1)
    }

    async fn burn_passcode(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("update passcodes set burned_at = $1 where id = $2 and burned_at is null")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn create_session(&self, s: &NewSession, replaced: Option<&[u8; 32]>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Sessions past the absolute limit can never be used again.
        sqlx::query("delete from sessions where created_at <= $1")
            .bind(s.created_at - ABSOLUTE)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(old) = replaced {
            sqlx::query("delete from sessions where id_hash = $1")
                .bind(old.as_slice())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        sqlx::query(
            "insert into sessions (id_hash, binding, scope, address, created_at, last_seen_at, \
             keep_signed_in) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.id_hash.as_slice())
        .bind(&s.binding)
        .bind(&s.scope)
        .bind(&s.address)
        .bind(s.created_at)
        .bind(s.created_at)
        .bind(s.keep_signed_in)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn session(&self, id_hash: &[u8; 32]) -> StoreResult<StoredSession> {
        let (binding, scope, address, created_at, last_seen_at, keep_signed_in) =
            sqlx::query_as::<_, (String, String, String, i64, i64, bool)>(
                "select binding, scope, address, created_at, last_seen_at, keep_signed_in \
                 from sessions where id_hash = $1",
            )
            .bind(id_hash.as_slice())
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(StoredSession {
            binding,
            scope,
            address,
            times: SessionTimes {
                created_at,
                last_seen_at,
                keep_signed_in,
            },
        })
    }

    async fn session_context(&self, id_hash: &[u8; 32]) -> StoreResult<SessionContext> {
        let mut rows = sqlx::query_as::<_, ContextRow>(&CONTEXT_QUERY)
            .bind(id_hash.as_slice())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .into_iter();
        // A message always has its recipients: no row is no session (or not a message's).
        let row = rows.next().ok_or(StoreError::NotFound)?;
        let mut recipients = vec![row.recipient.into()];
        recipients.extend(rows.map(|r| r.recipient.into()));
        let session = StoredSession {
            binding: row.s_binding,
            scope: row.s_scope,
            address: row.s_address,
            times: SessionTimes {
                created_at: row.s_created_at,
                last_seen_at: row.s_last_seen_at,
                keep_signed_in: row.s_keep_signed_in,
            },
        };
        let domains: Vec<&str> = row
            .t_domains
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let tenant = TenantRow {
            id: row.message.tenant_id.clone(),
            name: row.t_name,
            show_subject_in_notice: row.t_show_subject_in_notice,
            portal_tracking_logs: row.t_portal_tracking_logs,
            wrapped_data_key: row.t_wrapped_data_key,
            key_version: row.t_key_version,
            created_at: row.t_created_at,
            data_encryption_policy_id: row.t_data_encryption_policy_id,
            portal_log_retention_days: row.t_portal_log_retention_days,
        }
        .into_tenant(&domains);
        Ok(SessionContext {
            session,
            message: message_from(row.message, recipients),
            tenant,
        })
    }

    async fn touch_session(&self, id_hash: &[u8; 32], now: i64) -> StoreResult<()> {
        sqlx::query(
            "update sessions set last_seen_at = $1 where id_hash = $2 and last_seen_at < $1",
        )
        .bind(now)
        .bind(id_hash.as_slice())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn end_session(&self, id_hash: &[u8; 32]) -> StoreResult<()> {
        sqlx::query("delete from sessions where id_hash = $1")
            .bind(id_hash.as_slice())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn part_size(&self, tenant_id: &str, message_id: &str, part: &str) -> StoreResult<u64> {
        let (size,) = sqlx::query_as::<_, (i64,)>(
            "select p.size from message_parts p join messages m on m.id = p.message_id \
             where m.tenant_id = $1 and m.id = $2 and p.name = $3",
        )
        .bind(tenant_id)
        .bind(message_id)
        .bind(part)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(u64::try_from(size).unwrap_or(0))
    }

    async fn read_part_range(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
        first: u64,
        len: u64,
    ) -> StoreResult<ByteStream> {
        self.blobs
            .read_range(tenant_id, message_id, part, first, len)
            .await
            .map_err(blob)
    }

    async fn server_key(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(
            sqlx::query_as::<_, (Vec<u8>,)>("select wrapped from server_keys where name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?
                .map(|(w,)| w),
        )
    }

    async fn put_server_key(&self, name: &str, wrapped: &[u8], at: i64) -> StoreResult<Vec<u8>> {
        sqlx::query(
            "insert into server_keys (name, wrapped, created_at) values ($1, $2, $3) \
             on conflict (name) do nothing",
        )
        .bind(name)
        .bind(wrapped)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        self.server_key(name).await?.ok_or(StoreError::NotFound)
    }

    async fn record_decisions(&self, records: &[DecisionRecord]) -> StoreResult<()> {
        let tenants: BTreeSet<String> = records
            .iter()
            .filter_map(|r| r.portal.as_ref())
            .map(|e| portal_log_lock(&e.tenant_id))
            .collect();
        let locks: Vec<&str> = tenants.iter().map(String::as_str).collect();
        let mut tx = self.begin_durable_all(&locks).await?;
        for chunk in records.chunks(AUDIT_ROWS_PER_INSERT) {
            insert_audits(&mut tx, chunk.iter().map(|r| &r.audit))
                .await
                .map_err(db)?;
        }
        // Rows changed in one order, so two nodes' batches never wait for each other in a circle.
        let mut opened: Vec<(&str, &str, i64)> = records
            .iter()
            .filter_map(|r| {
                r.opened
                    .as_ref()
                    .map(|(m, a)| (m.as_str(), a.as_str(), r.audit.at))
            })
            .collect();
        opened.sort_unstable();
        for (message_id, address, at) in opened {
            sqlx::query(
                "update recipients set opened_at = $1 \
                 where message_id = $2 and address = $3 and opened_at is null",
            )
            .bind(at)
            .bind(message_id)
            .bind(address)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let mut touched: Vec<(&[u8; 32], i64)> = records
            .iter()
            .filter_map(|r| r.touched.as_ref().map(|h| (h, r.audit.at)))
            .collect();
        touched.sort_unstable();
        for (id_hash, at) in touched {
            sqlx::query(
                "update sessions set last_seen_at = $1 where id_hash = $2 and last_seen_at < $1",
            )
            .bind(at)
            .bind(id_hash.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let mut heads = HashMap::new();
        for entry in records.iter().filter_map(|r| r.portal.as_ref()) {
            append_chained(&mut tx, &mut heads, entry).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn append_portal_log(&self, e: &LogEntry) -> StoreResult<ChainedEntry> {
        // The write lock is held before the head is read, so two appends (from any process on
        // this database) cannot both chain to the same entry.
        let mut tx = self.begin_write(&portal_log_lock(&e.tenant_id)).await?;
        let chained = append_chained(&mut tx, &mut HashMap::new(), e).await?;
        tx.commit().await.map_err(db)?;
        Ok(chained)
    }

    async fn portal_log(
        &self,
        tenant_id: &str,
        f: &PortalLogFilter,
    ) -> StoreResult<Vec<ChainedEntry>> {
        let rows = sqlx::query_as::<_, LogRow>(&format!(
            "select {LOG_COLUMNS} from portal_log where tenant_id = $1 \
             and ($2 is null or message_id = $3) and ($4 is null or recipient = $5) \
             and ($6 is null or at >= $7) and ($8 is null or at < $9) \
             order by seq desc limit $10"
        ))
        .bind(tenant_id)
        .bind(&f.message_id)
        .bind(&f.message_id)
        .bind(&f.recipient)
        .bind(&f.recipient)
        .bind(f.from)
        .bind(f.from)
        .bind(f.to)
        .bind(f.to)
        .bind(i64::from(f.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn portal_log_checkpoint(&self, tenant_id: &str) -> StoreResult<Option<(u64, [u8; 32])>> {
        let row = sqlx::query_as::<_, (i64, Vec<u8>)>(
            "select seq, hash from portal_log_checkpoints where tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|(seq, hash)| {
            let hash: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::Database("a checkpoint hash is not 32 bytes".into()))?;
            Ok((u64::try_from(seq).unwrap_or(0), hash))
        })
        .transpose()
    }

    async fn portal_log_retention(&self) -> StoreResult<Vec<(String, u32)>> {
        let rows = sqlx::query_as::<_, (String, i64)>(
            "select id, portal_log_retention_days from tenants \
             where portal_log_retention_days is not null order by id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, days)| Some((id, u32::try_from(days).ok()?)))
            .collect())
    }

    async fn prune_portal_log(&self, tenant_id: &str, before: i64, now: i64) -> StoreResult<u64> {
        // The same lock appending takes, so the chain does not move while it is cut.
        let mut tx = self.begin_write(&portal_log_lock(tenant_id)).await?;
        // The prefix: every entry before the first one written at or after `before`.
        let (first_kept, last) = sqlx::query_as::<_, (Option<i64>, Option<i64>)>(
            "select (select min(seq) from portal_log where tenant_id = $1 and at >= $2), \
                    (select max(seq) from portal_log where tenant_id = $3)",
        )
        .bind(tenant_id)
        .bind(before)
        .bind(tenant_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let Some(last) = last else {
            return Ok(0);
        };
        let through = first_kept.map_or(last, |k| k - 1);
        let done = sqlx::query_as::<_, (i64,)>(
            "select seq from portal_log_checkpoints where tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .map_or(0, |(s,)| s);
        if through <= done {
            return Ok(0);
        }
        let (hash,) = sqlx::query_as::<_, (Vec<u8>,)>(
            "select hash from portal_log where tenant_id = $1 and seq = $2",
        )
        .bind(tenant_id)
        .bind(through)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "insert into portal_log_checkpoints (tenant_id, seq, hash, at) values ($1, $2, $3, $4) \
             on conflict (tenant_id) do update set seq = excluded.seq, hash = excluded.hash, at = excluded.at",
        )
        .bind(tenant_id)
        .bind(through)
        .bind(&hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let gone = sqlx::query("delete from portal_log where tenant_id = $1 and seq <= $2")
            .bind(tenant_id)
            .bind(through)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        tx.commit().await.map_err(db)?;
        Ok(gone)
    }

    async fn portal_log_after(
        &self,
        tenant_id: &str,
        after_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<ChainedEntry>> {
        let rows = sqlx::query_as::<_, LogRow>(&format!(
            "select {LOG_COLUMNS} from portal_log where tenant_id = $1 and seq > $2 \
             order by seq limit $3"
        ))
        .bind(tenant_id)
        .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
