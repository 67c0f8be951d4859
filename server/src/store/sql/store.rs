//! The [`Store`] operations in SQL both engines run unchanged. This file, `portal.rs`,
//! `mail_flow.rs` and `key_policies.rs` beside it are compiled once inside each engine's module
//! (`store::sqlite`, `store::postgres`, through `#[path]`), where `Engine` is that engine's store
//! and `Db` its sqlx database. Placeholders are numbered (`$1`), which both accept; the engine
//! supplies what differs: how a serialized write transaction begins ([`Engine::begin_write`]) and
//! what follows a purge ([`Engine::after_purge`]).

use std::collections::HashSet;

use async_trait::async_trait;
use sealpost_api::admin::BrandingTemplateView;
use sqlx::Transaction;

use super::{Db, Engine};
use crate::domain::access::Revocation;
use crate::domain::address::Domain;
use crate::domain::branding::DEFAULT_TEMPLATE;
use crate::domain::rights::{Rights, RightsTemplate};
use crate::store::{
    AdminToken, AuditEvent, DevMail, NewMessage, NoticeState, ParentLink, Put, Relation, Store,
    StoreError, StoreResult, StoredMessage, StoredRecipient, Tenant,
};

pub(super) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict("already_exists")
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// The lock revocations and forwards of a tenant's messages are written under.
fn revocations(tenant_id: &str) -> String {
    format!("revocations:{tenant_id}")
}

pub(super) fn blob(e: std::io::Error) -> StoreError {
    StoreError::Blob(e.to_string())
}

fn revocation(at: Option<i64>, by: Option<String>) -> Option<Revocation> {
    at.map(|at| Revocation {
        at,
        by: by.unwrap_or_default(),
    })
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    name: String,
    show_subject_in_notice: bool,
    portal_tracking_logs: bool,
    wrapped_data_key: Vec<u8>,
    key_version: i64,
    created_at: i64,
    data_encryption_policy_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    tenant_id: String,
    label: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<TokenRow> for AdminToken {
    fn from(r: TokenRow) -> Self {
        AdminToken {
            id: r.id,
            tenant_id: r.tenant_id,
            label: r.label,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    id: String,
    tenant_id: String,
    sender: String,
    branding_template: String,
    rights_template: String,
    rights: String,
    wrapped_key: Vec<u8>,
    policy_id: Option<String>,
    key_version: i64,
    size: i64,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    revoked_by: Option<String>,
    parent_id: Option<String>,
    relation: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RecipientRow {
    address: String,
    kind: String,
    notice_at: Option<i64>,
    notice_error: Option<String>,
    opened_at: Option<i64>,
    revoked_at: Option<i64>,
    revoked_by: Option<String>,
}

impl From<RecipientRow> for StoredRecipient {
    fn from(r: RecipientRow) -> Self {
        let notice = match (r.notice_at, r.notice_error) {
            (None, _) => NoticeState::Pending,
            (Some(at), None) => NoticeState::Sent { at },
            (Some(at), Some(reason)) => NoticeState::Failed { at, reason },
        };
        StoredRecipient {
            address: r.address,
            kind: r.kind,
            notice,
            opened_at: r.opened_at,
            revocation: revocation(r.revoked_at, r.revoked_by),
        }
    }
}

#[derive(sqlx::FromRow)]
struct RightsRow {
    name: String,
    description: String,
    rights: String,
}

impl From<RightsRow> for RightsTemplate {
    fn from(r: RightsRow) -> Self {
        RightsTemplate {
            name: r.name,
            description: r.description,
            rights: Rights::from_stored(&r.rights),
            built_in: false,
        }
    }
}

#[derive(sqlx::FromRow)]
struct DevMailRow {
    id: i64,
    at: i64,
    envelope_from: String,
    envelope_to: String,
    subject: String,
    raw: Vec<u8>,
}

impl From<DevMailRow> for DevMail {
    fn from(r: DevMailRow) -> Self {
        DevMail {
            id: r.id,
            at: r.at,
            from: r.envelope_from,
            to: r.envelope_to,
            subject: r.subject,
            raw: r.raw,
        }
    }
}

pub(super) const MESSAGE_COLUMNS: &str = "id, tenant_id, sender, branding_template, rights_template, rights, \
     wrapped_key, policy_id, key_version, size, created_at, expires_at, revoked_at, revoked_by, parent_id, relation";

impl Engine {
    /// Remove sealed parts no message refers to (left by an interrupted write).
    pub(super) async fn sweep(&self) -> StoreResult<()> {
        let known: HashSet<(String, String)> =
            sqlx::query_as::<_, (String, String)>("select tenant_id, id from messages")
                .fetch_all(&self.pool)
                .await
                .map_err(db)?
                .into_iter()
                .collect();
        let removed = self.blobs.sweep(known).await.map_err(blob)?;
        if removed > 0 {
            tracing::warn!(removed, "removed sealed parts left by an interrupted write");
        }
        Ok(())
    }

    async fn load_messages(&self, rows: Vec<MessageRow>) -> StoreResult<Vec<StoredMessage>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.load_message(row).await?);
        }
        Ok(out)
    }

    async fn insert_message(
        tx: &mut Transaction<'_, Db>,
        m: &NewMessage,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into messages (id, tenant_id, sender, branding_template, rights_template, rights, \
             wrapped_key, policy_id, key_version, size, created_at, expires_at, parent_id, relation) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&m.id)
        .bind(&m.tenant_id)
        .bind(&m.sender)
        .bind(&m.branding_template)
        .bind(&m.rights_template)
        .bind(&m.rights)
        .bind(&m.wrapped_key)
        .bind(&m.policy_id)
        .bind(i64::from(m.key_version))
        .bind(m.size as i64)
        .bind(m.created_at)
        .bind(m.expires_at)
        .bind(m.parent.as_ref().map(|p| p.message_id.as_str()))
        .bind(m.parent.as_ref().map(|p| p.relation.as_str()))
        .execute(&mut **tx)
        .await?;
        if let Some(policy_id) = &m.policy_id {
            // The data-key version must still exist when the message is written: a roll may have
            // retired it, or a purge destroyed it, since the message key was wrapped.
            sqlx::query("select 1 from policy_data_keys where policy_id = $1 and version = $2")
                .bind(policy_id)
                .bind(i64::from(m.key_version))
                .fetch_one(&mut **tx)
                .await?;
        }
        if let Some(parent) = m
            .parent
            .as_ref()
            .filter(|p| p.relation == Relation::Forward)
        {
            // A forward is born revoked if, by the time it is written, its original was revoked
            // or the forwarder lost access: it is written holding its tenant's revocation lock,
            // as revocations are, so either the revocation commits first and is copied here, or
            // this commits first and the revocation's cascade finds it.
            sqlx::query(
                "update messages set (revoked_at, revoked_by) = ( \
                     select coalesce(p.revoked_at, r.revoked_at), \
                            case when p.revoked_at is not null then p.revoked_by else r.revoked_by end \
                     from messages p left join recipients r \
                       on r.message_id = p.id and r.address = $1 \
                     where p.id = $2) \
                 where id = $3",
            )
            .bind(&m.sender)
            .bind(&parent.message_id)
            .bind(&m.id)
            .execute(&mut **tx)
            .await?;
        }
        for p in &m.parts {
            sqlx::query("insert into message_parts (message_id, name, size) values ($1, $2, $3)")
                .bind(&m.id)
                .bind(&p.name)
                .bind(p.bytes.len() as i64)
                .execute(&mut **tx)
                .await?;
        }
        for r in &m.recipients {
            sqlx::query(
                "insert into recipients (message_id, address, kind, link_token_hash) values ($1, $2, $3, $4)",
            )
            .bind(&m.id)
            .bind(&r.address)
            .bind(r.kind)
            .bind(r.link_token_hash.as_slice())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    pub(super) async fn load_message(&self, row: MessageRow) -> StoreResult<StoredMessage> {
        let recipients = sqlx::query_as::<_, RecipientRow>(
            "select address, kind, notice_at, notice_error, opened_at, revoked_at, revoked_by \
             from recipients where message_id = $1 order by rowid",
        )
        .bind(&row.id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(StoredMessage {
            id: row.id,
            tenant_id: row.tenant_id,
            sender: row.sender,
            branding_template: row.branding_template,
            rights_template: row.rights_template,
            rights: row.rights,
            wrapped_key: row.wrapped_key,
            policy_id: row.policy_id,
            key_version: u32::try_from(row.key_version).unwrap_or(0),
            size: u64::try_from(row.size).unwrap_or(0),
            created_at: row.created_at,
            expires_at: row.expires_at,
            revocation: revocation(row.revoked_at, row.revoked_by),
            recipients: recipients.into_iter().map(Into::into).collect(),
            parent: match (
                row.parent_id,
                row.relation.as_deref().and_then(Relation::parse),
            ) {
                (Some(message_id), Some(relation)) => Some(ParentLink {
                    message_id,
                    relation,
                }),
                _ => None,
            },
        })
    }

    async fn replace_domains(
        tx: &mut Transaction<'_, Db>,
        tenant_id: &str,
        domains: &[Domain],
    ) -> StoreResult<()> {
        sqlx::query("delete from tenant_domains where tenant_id = $1")
            .bind(tenant_id)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        for d in domains {
            sqlx::query("insert into tenant_domains (domain, tenant_id) values ($1, $2)")
                .bind(d.as_str())
                .bind(tenant_id)
                .execute(&mut **tx)
                .await
                .map_err(|e| match db(e) {
                    StoreError::Conflict(_) => StoreError::Conflict("domain_taken"),
                    other => other,
                })?;
        }
        Ok(())
    }
}

fn affected(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl Store for Engine {
    async fn create_tenant(
        &self,
        t: &Tenant,
        first: &AdminToken,
        hash: &[u8; 32],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "insert into tenants (id, name, show_subject_in_notice, portal_tracking_logs, \
             wrapped_data_key, key_version, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.show_subject_in_notice)
        .bind(t.portal_tracking_logs)
        .bind(&t.wrapped_data_key)
        .bind(i64::from(t.key_version))
        .bind(t.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        Self::replace_domains(&mut tx, &t.id, &t.domains).await?;
        let default = BrandingTemplateView {
            identity: DEFAULT_TEMPLATE.to_owned(),
            ..BrandingTemplateView::default()
        };
        sqlx::query("insert into branding_templates (tenant_id, name, body, updated_at) values ($1, $2, $3, $4)")
            .bind(&t.id)
            .bind(DEFAULT_TEMPLATE)
            .bind(serde_json::to_string(&default).map_err(|e| StoreError::Database(e.to_string()))?)
            .bind(t.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "insert into admin_tokens (id, tenant_id, label, token_hash, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&first.id)
        .bind(&t.id)
        .bind(&first.label)
        .bind(hash.as_slice())
        .bind(first.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn tenant(&self, tenant_id: &str) -> StoreResult<Tenant> {
        let row = sqlx::query_as::<_, TenantRow>(
            "select id, name, show_subject_in_notice, portal_tracking_logs, wrapped_data_key, \
             key_version, created_at, data_encryption_policy_id \
             from tenants where id = $1",
        )
        .bind(tenant_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let domains = sqlx::query_as::<_, (String,)>(
            "select domain from tenant_domains where tenant_id = $1 order by domain",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .filter_map(|(d,)| Domain::parse("domain", &d).ok())
        .collect();
        Ok(Tenant {
            id: row.id,
            name: row.name,
            domains,
            show_subject_in_notice: row.show_subject_in_notice,
            portal_tracking_logs: row.portal_tracking_logs,
            wrapped_data_key: row.wrapped_data_key,
            key_version: u32::try_from(row.key_version).unwrap_or(0),
            created_at: row.created_at,
            data_encryption_policy_id: row.data_encryption_policy_id,
        })
    }

    async fn tenant_by_domain(&self, domain: &str) -> StoreResult<Tenant> {
        let (id,) = sqlx::query_as::<_, (String,)>(
            "select tenant_id from tenant_domains where domain = $1",
        )
        .bind(domain)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        self.tenant(&id).await
    }

    async fn update_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let r = sqlx::query(
            "update tenants set name = $1, show_subject_in_notice = $2, portal_tracking_logs = $3 \
             where id = $4",
        )
        .bind(&t.name)
        .bind(t.show_subject_in_notice)
        .bind(t.portal_tracking_logs)
        .bind(&t.id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        affected(r.rows_affected())?;
        Self::replace_domains(&mut tx, &t.id, &t.domains).await?;
        tx.commit().await.map_err(db)
    }

    async fn create_token(&self, token: &AdminToken, hash: &[u8; 32]) -> StoreResult<()> {
        sqlx::query(
            "insert into admin_tokens (id, tenant_id, label, token_hash, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&token.id)
        .bind(&token.tenant_id)
        .bind(&token.label)
        .bind(hash.as_slice())
        .bind(token.created_at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn active_token(&self, hash: &[u8; 32]) -> StoreResult<AdminToken> {
        sqlx::query_as::<_, TokenRow>(
            "select id, tenant_id, label, created_at, revoked_at from admin_tokens \
             where token_hash = $1 and revoked_at is null",
        )
        .bind(hash.as_slice())
        .fetch_one(&self.pool)
        .await
        .map(Into::into)
        .map_err(db)
    }

    async fn tokens(&self, tenant_id: &str) -> StoreResult<Vec<AdminToken>> {
        Ok(sqlx::query_as::<_, TokenRow>(
            "select id, tenant_id, label, created_at, revoked_at from admin_tokens \
             where tenant_id = $1 order by created_at, id",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(Into::into)
        .collect())
    }

    async fn revoke_token(&self, tenant_id: &str, token_id: &str, at: i64) -> StoreResult<()> {
        let r = sqlx::query(
            "update admin_tokens set revoked_at = coalesce(revoked_at, $1) where tenant_id = $2 and id = $3",
        )
        .bind(at)
        .bind(tenant_id)
        .bind(token_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        affected(r.rows_affected())
    }

    async fn branding_templates(&self, tenant_id: &str) -> StoreResult<Vec<BrandingTemplateView>> {
        sqlx::query_as::<_, (String,)>(
            "select body from branding_templates where tenant_id = $1 order by name",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(body,)| serde_json::from_str(&body).map_err(|e| StoreError::Database(e.to_string())))
        .collect()
    }

    async fn branding_template(
        &self,
        tenant_id: &str,
        name: &str,
    ) -> StoreResult<BrandingTemplateView> {
        let (body,) = sqlx::query_as::<_, (String,)>(
            "select body from branding_templates where tenant_id = $1 and name = $2",
        )
        .bind(tenant_id)
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        serde_json::from_str(&body).map_err(|e| StoreError::Database(e.to_string()))
    }

    async fn create_branding_template(
        &self,
        tenant_id: &str,
        view: &BrandingTemplateView,
        at: i64,
    ) -> StoreResult<()> {
        self.put_branding_template(tenant_id, view, Put::Create, at)
            .await
    }

    async fn replace_branding_template(
        &self,
        tenant_id: &str,
        view: &BrandingTemplateView,
        at: i64,
    ) -> StoreResult<()> {
        self.put_branding_template(tenant_id, view, Put::Replace, at)
            .await
    }

    async fn delete_branding_template(&self, tenant_id: &str, name: &str) -> StoreResult<()> {
        let r = sqlx::query("delete from branding_templates where tenant_id = $1 and name = $2")
            .bind(tenant_id)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        affected(r.rows_affected())
    }

    async fn rights_templates(&self, tenant_id: &str) -> StoreResult<Vec<RightsTemplate>> {
        Ok(sqlx::query_as::<_, RightsRow>(
            "select name, description, rights from rights_templates where tenant_id = $1 order by name",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(Into::into)
        .collect())
    }

    async fn rights_template(&self, tenant_id: &str, name: &str) -> StoreResult<RightsTemplate> {
        sqlx::query_as::<_, RightsRow>(
            "select name, description, rights from rights_templates where tenant_id = $1 and name = $2",
        )
        .bind(tenant_id)
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .map(Into::into)
        .map_err(db)
    }

    async fn create_rights_template(
        &self,
        tenant_id: &str,
        t: &RightsTemplate,
        at: i64,
    ) -> StoreResult<()> {
        self.put_rights_template(tenant_id, t, Put::Create, at)
            .await
    }

    async fn replace_rights_template(
        &self,
        tenant_id: &str,
        t: &RightsTemplate,
        at: i64,
    ) -> StoreResult<()> {
        self.put_rights_template(tenant_id, t, Put::Replace, at)
            .await
    }

    async fn delete_rights_template(&self, tenant_id: &str, name: &str) -> StoreResult<()> {
        let r = sqlx::query("delete from rights_templates where tenant_id = $1 and name = $2")
            .bind(tenant_id)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        affected(r.rows_affected())
    }

    async fn store_message(&self, message: &NewMessage) -> StoreResult<()> {
        let (tenant, id) = (message.tenant_id.as_str(), message.id.as_str());
        let staged = self
            .blobs
            .stage(tenant, id, &message.parts)
            .await
            .map_err(blob);
        let written = async {
            let staged = staged?;
            // A forward is written under its tenant's revocation lock (see `insert_message`).
            let mut tx = if message
                .parent
                .as_ref()
                .is_some_and(|p| p.relation == Relation::Forward)
            {
                self.begin_write(&revocations(tenant)).await?
            } else {
                self.pool.begin().await.map_err(db)?
            };
            // On an error below, `tx` rolls back.
            Self::insert_message(&mut tx, message)
                .await
                .map_err(|e| match e {
                    sqlx::Error::RowNotFound => StoreError::Conflict("key_version_retired"),
                    e => db(e),
                })?;
            self.blobs.publish(staged, tenant, id).await.map_err(blob)?;
            tx.commit().await.map_err(db)
        }
        .await;
        if written.is_err() {
            // Best effort: what is left is removed by a later start's sweep.
            let _ = self.blobs.remove(tenant, id).await;
        }
        written
    }

    async fn message(&self, tenant_id: &str, message_id: &str) -> StoreResult<StoredMessage> {
        let row = sqlx::query_as::<_, MessageRow>(&format!(
            "select {MESSAGE_COLUMNS} from messages where tenant_id = $1 and id = $2"
        ))
        .bind(tenant_id)
        .bind(message_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        self.load_message(row).await
    }

    async fn messages(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<StoredMessage>> {
        let rows = sqlx::query_as::<_, MessageRow>(&format!(
            "select {MESSAGE_COLUMNS} from messages where tenant_id = $1 \
             order by created_at desc, rowid desc limit $2"
        ))
        .bind(tenant_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        self.load_messages(rows).await
    }

    async fn messages_by_sender(
        &self,
        tenant_id: &str,
        sender: &str,
        limit: u32,
    ) -> StoreResult<Vec<StoredMessage>> {
        let rows = sqlx::query_as::<_, MessageRow>(&format!(
            "select {MESSAGE_COLUMNS} from messages where tenant_id = $1 and sender = $2 \
             order by created_at desc, rowid desc limit $3"
        ))
        .bind(tenant_id)
        .bind(sender)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        self.load_messages(rows).await
    }

    async fn delete_message(&self, tenant_id: &str, message_id: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        for table in ["passcodes", "sessions"] {
            sqlx::query(&format!("delete from {table} where scope = $1"))
                .bind(message_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        // Parts and recipients go with the row (on delete cascade).
        let gone = sqlx::query("delete from messages where tenant_id = $1 and id = $2")
            .bind(tenant_id)
            .bind(message_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if gone.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)?;
        // A crash here leaves only unreferenced parts, which the start-up sweep removes.
        self.blobs.remove(tenant_id, message_id).await.map_err(blob)
    }

    async fn read_part(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
    ) -> StoreResult<Vec<u8>> {
        // Only parts the database lists for this tenant's message are read.
        sqlx::query_as::<_, (i64,)>(
            "select p.size from message_parts p join messages m on m.id = p.message_id \
             where m.tenant_id = $1 and m.id = $2 and p.name = $3",
        )
        .bind(tenant_id)
        .bind(message_id)
        .bind(part)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        self.blobs
            .read(tenant_id, message_id, part)
            .await
            .map_err(blob)
    }

    async fn record_notice(
        &self,
        message_id: &str,
        address: &str,
        state: &NoticeState,
    ) -> StoreResult<()> {
        let (at, error) = match state {
            NoticeState::Pending => (None, None),
            NoticeState::Sent { at } => (Some(*at), None),
            NoticeState::Failed { at, reason } => (Some(*at), Some(reason.as_str())),
        };
        let r = sqlx::query(
            "update recipients set notice_at = $1, notice_error = $2 where message_id = $3 and address = $4",
        )
        .bind(at)
        .bind(error)
        .bind(message_id)
        .bind(address)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        affected(r.rows_affected())
    }

    async fn revoke_message(
        &self,
        tenant_id: &str,
        message_id: &str,
        r: &Revocation,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write(&revocations(tenant_id)).await?;
        let done = sqlx::query(
            "update messages set revoked_at = $1, revoked_by = $2 \
             where tenant_id = $3 and id = $4 and revoked_at is null",
        )
        .bind(r.at)
        .bind(&r.by)
        .bind(tenant_id)
        .bind(message_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        // Forwards made from it, at any depth, go with it. (A forward written after this commits
        // copies the revocation when it is inserted; see `insert_message`.)
        sqlx::query(
            "with recursive forwards(id) as ( \
                 select id from messages where parent_id = $1 and relation = 'forward' \
                 union select m.id from messages m join forwards f on m.parent_id = f.id \
                 where m.relation = 'forward') \
             update messages set revoked_at = $2, revoked_by = $3 \
             where id in (select id from forwards) and tenant_id = $4 and revoked_at is null",
        )
        .bind(message_id)
        .bind(r.at)
        .bind(&r.by)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        self.message(tenant_id, message_id).await.map(|_| false)
    }

    async fn revoke_recipient(
        &self,
        tenant_id: &str,
        message_id: &str,
        address: &str,
        r: &Revocation,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write(&revocations(tenant_id)).await?;
        let done = sqlx::query(
            "update recipients set revoked_at = $1, revoked_by = $2 \
             where message_id = (select id from messages where tenant_id = $3 and id = $4) \
             and address = $5 and revoked_at is null",
        )
        .bind(r.at)
        .bind(&r.by)
        .bind(tenant_id)
        .bind(message_id)
        .bind(address)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        // What this recipient forwarded goes with their access, at any depth.
        sqlx::query(
            "with recursive forwards(id) as ( \
                 select id from messages where parent_id = $1 and relation = 'forward' and sender = $2 \
                 union select m.id from messages m join forwards f on m.parent_id = f.id \
                 where m.relation = 'forward') \
             update messages set revoked_at = $3, revoked_by = $4 \
             where id in (select id from forwards) and tenant_id = $5 and revoked_at is null",
        )
        .bind(message_id)
        .bind(address)
        .bind(r.at)
        .bind(&r.by)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        let m = self.message(tenant_id, message_id).await?;
        if m.recipients.iter().any(|x| x.address == address) {
            Ok(false)
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn audit(&self, e: &AuditEvent) -> StoreResult<()> {
        sqlx::query("insert into audit_events (tenant_id, at, actor, action, target) values ($1, $2, $3, $4, $5)")
            .bind(&e.tenant_id)
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn audit_events(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        Ok(sqlx::query_as::<_, (String, i64, String, String, String)>(
            "select tenant_id, at, actor, action, target from audit_events where tenant_id = $1 \
             order by id desc limit $2",
        )
        .bind(tenant_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(tenant_id, at, actor, action, target)| AuditEvent {
            tenant_id,
            at,
            actor,
            action,
            target,
        })
        .collect())
    }

    async fn check_ready(&self) -> StoreResult<()> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        self.blobs.check().await.map_err(blob)
    }

    async fn dev_mailbox_put(&self, mail: &DevMail) -> StoreResult<i64> {
        let (id,) = sqlx::query_as::<_, (i64,)>(
            "insert into dev_mailbox (at, envelope_from, envelope_to, subject, raw) \
             values ($1, $2, $3, $4, $5) returning id",
        )
        .bind(mail.at)
        .bind(&mail.from)
        .bind(&mail.to)
        .bind(&mail.subject)
        .bind(&mail.raw)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(id)
    }

    async fn dev_mailbox_list(&self, limit: u32) -> StoreResult<Vec<DevMail>> {
        Ok(sqlx::query_as::<_, DevMailRow>(
            "select id, at, envelope_from, envelope_to, subject, raw from dev_mailbox order by id desc limit $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(Into::into)
        .collect())
    }

    async fn dev_mailbox_get(&self, id: i64) -> StoreResult<DevMail> {
        sqlx::query_as::<_, DevMailRow>(
            "select id, at, envelope_from, envelope_to, subject, raw from dev_mailbox where id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map(Into::into)
        .map_err(db)
    }
}

impl Engine {
    async fn put_branding_template(
        &self,
        tenant_id: &str,
        view: &BrandingTemplateView,
        put: Put,
        at: i64,
    ) -> StoreResult<()> {
        let body = serde_json::to_string(view).map_err(|e| StoreError::Database(e.to_string()))?;
        if put == Put::Create {
            sqlx::query("insert into branding_templates (tenant_id, name, body, updated_at) values ($1, $2, $3, $4)")
                .bind(tenant_id)
                .bind(&view.identity)
                .bind(body)
                .bind(at)
                .execute(&self.pool)
                .await
                .map_err(db)?;
            Ok(())
        } else {
            let r = sqlx::query(
                "update branding_templates set body = $1, updated_at = $2 where tenant_id = $3 and name = $4",
            )
            .bind(body)
            .bind(at)
            .bind(tenant_id)
            .bind(&view.identity)
            .execute(&self.pool)
            .await
            .map_err(db)?;
            affected(r.rows_affected())
        }
    }
}

impl Engine {
    async fn put_rights_template(
        &self,
        tenant_id: &str,
        t: &RightsTemplate,
        put: Put,
        at: i64,
    ) -> StoreResult<()> {
        if put == Put::Create {
            sqlx::query(
                "insert into rights_templates (tenant_id, name, description, rights, updated_at) values ($1, $2, $3, $4, $5)",
            )
            .bind(tenant_id)
            .bind(&t.name)
            .bind(&t.description)
            .bind(t.rights.to_stored())
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(db)?;
            Ok(())
        } else {
            let r = sqlx::query(
                "update rights_templates set description = $1, rights = $2, updated_at = $3 where tenant_id = $4 and name = $5",
            )
            .bind(&t.description)
            .bind(t.rights.to_stored())
            .bind(at)
            .bind(tenant_id)
            .bind(&t.name)
            .execute(&self.pool)
            .await
            .map_err(db)?;
            affected(r.rows_affected())
        }
    }
}
