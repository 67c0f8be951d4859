//! [`MailFlowStore`] in shared SQL (see `store.rs`). Rule order is rewritten whole inside one
//! serialized write transaction per tenant (a tenant has at most a hundred rules), so two admins
//! editing at once cannot leave two rules at the same position. Queue leases are taken by one conditional `UPDATE`.

use async_trait::async_trait;
use sealpost_api::mail_flow::MailFlowRule;

use super::Engine;
use super::{db, held};
use crate::store::mail_flow::{Connector, MailFlowStore, QueueEntry, QueuedMail};
use crate::store::outbox::OutboxMail;
use crate::store::records::{RuleRecord, from_json, to_json};
use crate::store::{Put, StoreError, StoreResult};

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Database(format!("stored JSON: {e}"))
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn list(json: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(json).map_err(json_err)
}

type ConnectorRow = (String, String, Option<String>, Option<Vec<u8>>);

fn connector(row: ConnectorRow) -> StoreResult<Connector> {
    let (tenant_id, remote, username, hash) = row;
    Ok(Connector {
        tenant_id,
        remote_addresses: list(&remote)?,
        auth_username: username,
        auth_password_hash: hash.and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok()),
    })
}

const CONNECTOR_COLUMNS: &str =
    "tenant_id, remote_addresses, auth_username, auth_password_hash from inbound_connectors";

#[derive(sqlx::FromRow)]
struct MailRow {
    id: String,
    tenant_id: String,
    received_at: i64,
    client: String,
    mail_from: String,
    recipients: String,
    raw: Option<Vec<u8>>,
    plan: String,
    attempts: i64,
}

#[async_trait]
impl MailFlowStore for Engine {
    async fn mail_flow_rules(&self, tenant_id: &str) -> StoreResult<Vec<MailFlowRule>> {
        let rows = sqlx::query_as::<_, (String,)>(
            "select body from mail_flow_rules where tenant_id = $1 order by position",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .enumerate()
            .map(|(i, (body,))| {
                let record: RuleRecord = from_json(&body)?;
                Ok(record.into_rule(u32::try_from(i + 1).unwrap_or(u32::MAX)))
            })
            .collect()
    }

    async fn create_mail_flow_rule(
        &self,
        tenant_id: &str,
        rule: &MailFlowRule,
        at: i64,
    ) -> StoreResult<()> {
        self.put_mail_flow_rule(tenant_id, rule, Put::Create, at)
            .await
    }

    async fn replace_mail_flow_rule(
        &self,
        tenant_id: &str,
        rule: &MailFlowRule,
        at: i64,
    ) -> StoreResult<()> {
        self.put_mail_flow_rule(tenant_id, rule, Put::Replace, at)
            .await
    }

    async fn delete_mail_flow_rule(&self, tenant_id: &str, name: &str) -> StoreResult<()> {
        let done =
            sqlx::query("delete from mail_flow_rules where tenant_id = $1 and name_key = $2")
                .bind(tenant_id)
                .bind(name_key(name))
                .execute(&self.pool)
                .await
                .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Positions keep their order; gaps are harmless (readers number rules by order).
        Ok(())
    }

    async fn connector(&self, tenant_id: &str) -> StoreResult<Connector> {
        let row = sqlx::query_as::<_, ConnectorRow>(&format!(
            "select {CONNECTOR_COLUMNS} where tenant_id = $1"
        ))
        .bind(tenant_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        match row {
            Some(row) => connector(row),
            None => Ok(Connector {
                tenant_id: tenant_id.to_owned(),
                ..Connector::default()
            }),
        }
    }

    async fn connectors(&self) -> StoreResult<Vec<Connector>> {
        sqlx::query_as::<_, ConnectorRow>(&format!("select {CONNECTOR_COLUMNS}"))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .into_iter()
            .map(connector)
            .collect()
    }

    async fn put_connector_networks(
        &self,
        tenant_id: &str,
        remote_addresses: &[String],
        at: i64,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(remote_addresses).map_err(json_err)?;
        sqlx::query(
            "insert into inbound_connectors (tenant_id, remote_addresses, updated_at) \
             values ($1, $2, $3) on conflict (tenant_id) do update set \
             remote_addresses = excluded.remote_addresses, updated_at = excluded.updated_at",
        )
        .bind(tenant_id)
        .bind(json)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn put_connector_password(
        &self,
        tenant_id: &str,
        credentials: Option<(&str, [u8; 32])>,
        at: i64,
    ) -> StoreResult<()> {
        let (username, hash) = match credentials {
            Some((u, h)) => (Some(u), Some(h.to_vec())),
            None => (None, None),
        };
        sqlx::query(
            "insert into inbound_connectors (tenant_id, auth_username, auth_password_hash, \
             updated_at) values ($1, $2, $3, $4) on conflict (tenant_id) do update set \
             auth_username = excluded.auth_username, \
             auth_password_hash = excluded.auth_password_hash, updated_at = excluded.updated_at",
        )
        .bind(tenant_id)
        .bind(username)
        .bind(hash)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(|e| match db(e) {
            StoreError::Conflict(_) => StoreError::Conflict("username_taken"),
            other => other,
        })?;
        Ok(())
    }

    async fn connector_by_username(&self, username: &str) -> StoreResult<Connector> {
        let row = sqlx::query_as::<_, ConnectorRow>(&format!(
            "select {CONNECTOR_COLUMNS} where auth_username = $1"
        ))
        .bind(username)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        connector(row)
    }

    async fn enqueue_mail(&self, mail: &QueuedMail, next_attempt_at: i64) -> StoreResult<()> {
        sqlx::query(
            "insert into inbound_mail (id, tenant_id, received_at, client, mail_from, recipients, \
             raw, plan, attempts, next_attempt_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&mail.id)
        .bind(&mail.tenant_id)
        .bind(mail.received_at)
        .bind(&mail.client)
        .bind(&mail.mail_from)
        .bind(serde_json::to_string(&mail.recipients).map_err(json_err)?)
        .bind(&mail.raw)
        .bind(&mail.plan)
        .bind(i64::from(mail.attempts))
        .bind(next_attempt_at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        holder: &str,
    ) -> StoreResult<Option<QueuedMail>> {
        loop {
            let candidate = sqlx::query_as::<_, (String,)>(
                "select id from inbound_mail where state = 'queued' and next_attempt_at <= $1 \
                 and (lease_until is null or lease_until <= $2) \
                 order by next_attempt_at limit 1",
            )
            .bind(now)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
            let Some((id,)) = candidate else {
                return Ok(None);
            };
            let taken = sqlx::query(
                "update inbound_mail set lease_until = $1, lease_holder = $2 where id = $3 \
                 and state = 'queued' and (lease_until is null or lease_until <= $4)",
            )
            .bind(lease_until)
            .bind(holder)
            .bind(&id)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db)?;
            if taken.rows_affected() == 0 {
                continue; // another worker took it first
            }
            let row = sqlx::query_as::<_, MailRow>(
                "select id, tenant_id, received_at, client, mail_from, recipients, raw, plan, \
                 attempts from inbound_mail where id = $1",
            )
            .bind(&id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
            return Ok(Some(QueuedMail {
                id: row.id,
                tenant_id: row.tenant_id,
                received_at: row.received_at,
                client: row.client,
                mail_from: row.mail_from,
                recipients: list(&row.recipients)?,
                raw: row.raw.unwrap_or_default(),
                plan: row.plan,
                attempts: u32::try_from(row.attempts).unwrap_or(0),
            }));
        }
    }

    async fn next_mail_due(&self) -> StoreResult<Option<i64>> {
        let (due,) = sqlx::query_as::<_, (Option<i64>,)>(
            "select min(case when lease_until > next_attempt_at then lease_until \
             else next_attempt_at end) from inbound_mail \
             where state = 'queued'",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(due)
    }

    async fn release_leases(&self, holder: &str) -> StoreResult<u64> {
        let done = sqlx::query(
            "update inbound_mail set lease_until = null, lease_holder = null \
             where lease_holder = $1 and state = 'queued'",
        )
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn retry_mail(
        &self,
        id: &str,
        holder: &str,
        plan: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "update inbound_mail set plan = $1, attempts = attempts + 1, next_attempt_at = $2, \
             lease_until = null, lease_holder = null, last_error = $3 \
             where id = $4 and lease_holder = $5",
        )
        .bind(plan)
        .bind(next_attempt_at)
        .bind(error)
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        held(done.rows_affected())
    }

    async fn save_mail_plan(&self, id: &str, holder: &str, plan: &str) -> StoreResult<()> {
        let done =
            sqlx::query("update inbound_mail set plan = $1 where id = $2 and lease_holder = $3")
                .bind(plan)
                .bind(id)
                .bind(holder)
                .execute(&self.pool)
                .await
                .map_err(db)?;
        held(done.rows_affected())
    }

    async fn finish_mail(
        &self,
        id: &str,
        holder: &str,
        report: Option<&OutboxMail>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let done = sqlx::query("delete from inbound_mail where id = $1 and lease_holder = $2")
            .bind(id)
            .bind(holder)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        held(done.rows_affected())?;
        if let Some(report) = report {
            Self::insert_outbox(&mut tx, report, report.created_at)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn fail_mail(&self, id: &str, holder: &str, error: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "update inbound_mail set state = 'failed', raw = null, lease_until = null, \
             lease_holder = null, attempts = attempts + 1, last_error = $1 \
             where id = $2 and lease_holder = $3",
        )
        .bind(error)
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        held(done.rows_affected())
    }

    async fn mail_queue_depth(&self) -> StoreResult<(u64, u64)> {
        let (queued, failed): (i64, i64) = sqlx::query_as(
            "select count(case when state = 'queued' then 1 end), \
             count(case when state = 'failed' then 1 end) \
             from inbound_mail",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok((
            u64::try_from(queued).unwrap_or(0),
            u64::try_from(failed).unwrap_or(0),
        ))
    }

    async fn queued_mail(&self, tenant_id: &str) -> StoreResult<Vec<QueueEntry>> {
        type Row = (
            String,
            i64,
            String,
            String,
            String,
            i64,
            i64,
            Option<String>,
        );
        let rows = sqlx::query_as::<_, Row>(
            "select id, received_at, mail_from, recipients, state, attempts, next_attempt_at, \
             last_error from inbound_mail where tenant_id = $1 order by received_at, id",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|r| {
                Ok(QueueEntry {
                    id: r.0,
                    received_at: r.1,
                    mail_from: r.2,
                    recipients: list(&r.3)?,
                    state: r.4,
                    attempts: u32::try_from(r.5).unwrap_or(0),
                    next_attempt_at: r.6,
                    last_error: r.7,
                })
            })
            .collect()
    }
}

impl Engine {
    async fn put_mail_flow_rule(
        &self,
        tenant_id: &str,
        rule: &MailFlowRule,
        put: Put,
        at: i64,
    ) -> StoreResult<()> {
        let mut tx = self
            .begin_write(&format!("mail_flow_rules:{tenant_id}"))
            .await?;
        let mut order = sqlx::query_as::<_, (String, String, i64)>(
            "select name_key, body, updated_at from mail_flow_rules where tenant_id = $1 \
             order by position",
        )
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let key = name_key(&rule.name);
        let existing = order.iter().position(|(k, _, _)| *k == key);
        let place = match (existing, put) {
            (Some(_), Put::Create) => return Err(StoreError::Conflict("rule_exists")),
            (None, Put::Replace) => return Err(StoreError::NotFound),
            (Some(i), Put::Replace) => {
                order.remove(i);
                i
            }
            (None, Put::Create) => order.len(),
        };
        let place = match rule.priority {
            Some(p) => (p as usize).saturating_sub(1).min(order.len()),
            None => place.min(order.len()),
        };
        let body = to_json(&RuleRecord::from(rule))?;
        order.insert(place, (key, body, at));
        sqlx::query("delete from mail_flow_rules where tenant_id = $1")
            .bind(tenant_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for (i, (k, body, updated)) in order.iter().enumerate() {
            sqlx::query(
                "insert into mail_flow_rules (tenant_id, name_key, position, body, updated_at) \
                 values ($1, $2, $3, $4, $5)",
            )
            .bind(tenant_id)
            .bind(k)
            .bind(i64::try_from(i).unwrap_or(i64::MAX))
            .bind(body)
            .bind(updated)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }
}
