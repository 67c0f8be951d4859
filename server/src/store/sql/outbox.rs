//! [`OutboxStore`] in shared SQL (see `sql/mod.rs`), and [`Engine::insert_outbox`], which the
//! writes that cause mail (a message, a passcode, the SMTP queue's report) call inside their own
//! transaction. Leases are taken by one conditional `UPDATE`, as the SMTP queue's are.

use async_trait::async_trait;
use sqlx::Transaction;

use super::{Db, Engine, db, held};
use crate::store::outbox::{Depth, OutboxMail, OutboxStore, Outcome, Purpose};
use crate::store::{StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: String,
    tenant_id: String,
    purpose: String,
    message_id: Option<String>,
    recipient: String,
    mail_from: String,
    sealed: Vec<u8>,
    created_at: i64,
    expires_at: Option<i64>,
    attempts: i64,
}

impl TryFrom<OutboxRow> for OutboxMail {
    type Error = StoreError;

    fn try_from(r: OutboxRow) -> StoreResult<OutboxMail> {
        Ok(OutboxMail {
            purpose: Purpose::parse(&r.purpose).ok_or_else(|| {
                StoreError::Database(format!("unknown outbox purpose {:?}", r.purpose))
            })?,
            id: r.id,
            tenant_id: r.tenant_id,
            message_id: r.message_id,
            recipient: r.recipient,
            mail_from: r.mail_from,
            sealed: r.sealed,
            created_at: r.created_at,
            expires_at: r.expires_at,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
        })
    }
}

impl Engine {
    /// Keep `mail` in the outbox, due at `next_attempt_at`, inside the caller's transaction.
    pub(super) async fn insert_outbox(
        tx: &mut Transaction<'_, Db>,
        mail: &OutboxMail,
        next_attempt_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into outbox (id, tenant_id, purpose, message_id, recipient, mail_from, sealed, \
             created_at, expires_at, next_attempt_at, attempts) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&mail.id)
        .bind(&mail.tenant_id)
        .bind(mail.purpose.as_str())
        .bind(&mail.message_id)
        .bind(&mail.recipient)
        .bind(&mail.mail_from)
        .bind(&mail.sealed)
        .bind(mail.created_at)
        .bind(mail.expires_at)
        .bind(next_attempt_at)
        .bind(i64::from(mail.attempts))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for Engine {
    async fn enqueue_outbox(&self, mail: &OutboxMail, next_attempt_at: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        Self::insert_outbox(&mut tx, mail, next_attempt_at)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        holder: &str,
        only: Option<&str>,
    ) -> StoreResult<Option<OutboxMail>> {
        loop {
            let candidate = match only {
                Some(id) => sqlx::query_as::<_, (String,)>(
                    "select id from outbox where id = $1 \
                     and (lease_until is null or lease_until <= $2)",
                )
                .bind(id)
                .bind(now),
                None => sqlx::query_as::<_, (String,)>(
                    "select id from outbox where next_attempt_at <= $1 \
                     and (lease_until is null or lease_until <= $2) \
                     order by next_attempt_at limit 1",
                )
                .bind(now)
                .bind(now),
            }
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
            let Some((id,)) = candidate else {
                return Ok(None);
            };
            // Still due and free: another worker may have settled or taken it since the select.
            let taken = sqlx::query(
                "update outbox set lease_until = $1, lease_holder = $2 where id = $3 \
                 and (lease_until is null or lease_until <= $4) \
                 and (next_attempt_at <= $5 or $6)",
            )
            .bind(lease_until)
            .bind(holder)
            .bind(&id)
            .bind(now)
            .bind(now)
            .bind(only.is_some())
            .execute(&self.pool)
            .await
            .map_err(db)?;
            if taken.rows_affected() == 0 {
                if only.is_some() {
                    return Ok(None); // another worker has it
                }
                continue; // another worker took it first
            }
            let row = sqlx::query_as::<_, OutboxRow>(
                "select id, tenant_id, purpose, message_id, recipient, mail_from, sealed, \
                 created_at, expires_at, attempts from outbox where id = $1",
            )
            .bind(&id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
            return row.try_into().map(Some);
        }
    }

    async fn settle_outbox(&self, id: &str, holder: &str, outcome: &Outcome) -> StoreResult<()> {
        let mut tx = self.begin_write(&format!("outbox:{id}")).await?;
        let Some((purpose, message_id, recipient)) =
            sqlx::query_as::<_, (String, Option<String>, String)>(
                "select purpose, message_id, recipient from outbox \
                 where id = $1 and lease_holder = $2",
            )
            .bind(id)
            .bind(holder)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
        else {
            return held(0);
        };
        let done = match outcome {
            Outcome::Deferred {
                reason,
                next_attempt_at,
                ..
            } => sqlx::query(
                "update outbox set attempts = attempts + 1, next_attempt_at = $1, \
                 last_error = $2, lease_until = null, lease_holder = null \
                 where id = $3 and lease_holder = $4",
            )
            .bind(next_attempt_at)
            .bind(reason)
            .bind(id)
            .bind(holder),
            Outcome::Sent { .. } | Outcome::Bounced { .. } | Outcome::Expired { .. } => {
                sqlx::query("delete from outbox where id = $1 and lease_holder = $2")
                    .bind(id)
                    .bind(holder)
            }
        }
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        held(done.rows_affected())?;
        if let Some(message_id) = message_id.filter(|_| purpose == Purpose::Notice.as_str()) {
            let (state, at, error, next) = match outcome {
                Outcome::Sent { at } => ("sent", *at, None, None),
                Outcome::Deferred {
                    at,
                    reason,
                    next_attempt_at,
                } => (
                    "deferred",
                    *at,
                    Some(reason.as_str()),
                    Some(*next_attempt_at),
                ),
                Outcome::Bounced { at, reason } => ("bounced", *at, Some(reason.as_str()), None),
                Outcome::Expired { at } => (
                    "bounced",
                    *at,
                    Some("expired before it could be sent"),
                    None,
                ),
            };
            // A message removed meanwhile (the self-test's own) has no recipient left to update.
            sqlx::query(
                "update recipients set notice_state = $1, notice_at = $2, notice_error = $3, \
                 notice_next_at = $4 where message_id = $5 and address = $6",
            )
            .bind(state)
            .bind(at)
            .bind(error)
            .bind(next)
            .bind(&message_id)
            .bind(&recipient)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn release_outbox_leases(&self, holder: &str) -> StoreResult<u64> {
        let done = sqlx::query(
            "update outbox set lease_until = null, lease_holder = null where lease_holder = $1",
        )
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn next_outbox_due(&self) -> StoreResult<Option<i64>> {
        let (due,) = sqlx::query_as::<_, (Option<i64>,)>(
            "select min(case when lease_until > next_attempt_at then lease_until \
             else next_attempt_at end) from outbox",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(due)
    }

    async fn outbox_depth(&self) -> StoreResult<Depth> {
        let (waiting, oldest): (i64, Option<i64>) =
            sqlx::query_as("select count(*), min(created_at) from outbox")
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
        Ok(Depth {
            waiting: u64::try_from(waiting).unwrap_or(0),
            oldest,
        })
    }
}
