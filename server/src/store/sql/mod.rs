//! The [`Store`] operations in SQL both engines run unchanged: this module and its files, one per
//! section of the trait, are compiled once inside each engine's module (`store::sqlite`,
//! `store::postgres`, through one `#[path]` each), where `Engine` is that engine's store and `Db`
//! its sqlx database. Here: the helpers and rows the sections share. Placeholders are numbered (`$1`), which both accept; the engine
//! supplies what differs: how a serialized write transaction begins ([`Engine::begin_write`]) and
//! what follows a purge ([`Engine::after_purge`]).

use std::collections::HashSet;

use async_trait::async_trait;
use sealpost_api::admin::BrandingTemplateView;
use sqlx::Transaction;

mod audit;
mod dev_mailbox;
mod dkim;
mod drafts;
mod key_policies;
mod mail_flow;
mod messages;
mod outbox;
mod portal;
mod sign_in;
mod templates;
mod tenants;

use super::{Db, Engine};
use crate::domain::access::Revocation;
use crate::domain::address::Domain;
use crate::domain::branding::DEFAULT_TEMPLATE;
use crate::domain::rights::{Rights, RightsTemplate};
use crate::store::{
    AdminToken, AuditEvent, AuditStore, DevMail, DevMailboxStore, DomainClaim, MessageStore,
    NewMessage, NoticeState, ParentLink, Put, Relation, Store, StoreError, StoreResult,
    StoredMessage, StoredRecipient, TemplateStore, Tenant, TenantStore,
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

/// A lease-guarded change that touched nothing: the lease went to another worker.
pub(super) fn held(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        return Err(StoreError::Conflict("lease_lost"));
    }
    Ok(())
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
    portal_log_retention_days: Option<i64>,
}

impl TenantRow {
    /// The tenant, with its domains (in the order given: the database's, `order by domain`).
    fn into_tenant(self, domains: &[&str]) -> Tenant {
        let domains = domains
            .iter()
            .filter_map(|d| Domain::parse("domain", d).ok())
            .collect();
        Tenant {
            id: self.id,
            name: self.name,
            domains,
            show_subject_in_notice: self.show_subject_in_notice,
            portal_tracking_logs: self.portal_tracking_logs,
            wrapped_data_key: self.wrapped_data_key,
            key_version: u32::try_from(self.key_version).unwrap_or(0),
            created_at: self.created_at,
            data_encryption_policy_id: self.data_encryption_policy_id,
            portal_log_retention_days: self
                .portal_log_retention_days
                .and_then(|d| u32::try_from(d).ok()),
        }
    }
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
    notice_state: Option<String>,
    notice_at: Option<i64>,
    notice_error: Option<String>,
    notice_next_at: Option<i64>,
    opened_at: Option<i64>,
    revoked_at: Option<i64>,
    revoked_by: Option<String>,
}

impl From<RecipientRow> for StoredRecipient {
    fn from(r: RecipientRow) -> Self {
        let at = r.notice_at.unwrap_or_default();
        let reason = r.notice_error.unwrap_or_default();
        let notice = match r.notice_state.as_deref() {
            Some("sent") => NoticeState::Sent { at },
            Some("deferred") => NoticeState::Deferred {
                at,
                reason,
                next_attempt_at: r.notice_next_at.unwrap_or(at),
            },
            Some("bounced") => NoticeState::Bounced { at, reason },
            _ => NoticeState::Queued { since: at },
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
    forward_limits: String,
}

impl From<RightsRow> for RightsTemplate {
    fn from(r: RightsRow) -> Self {
        RightsTemplate {
            name: r.name,
            description: r.description,
            rights: Rights::from_stored(&r.rights),
            built_in: false,
            // Written by us from a validated value; anything unreadable takes the defaults.
            forward_limits: serde_json::from_str(&r.forward_limits).unwrap_or_default(),
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
        let known: HashSet<(String, String)> = sqlx::query_as::<_, (String, String)>(
            "select tenant_id, id from messages union all select tenant_id, id from drafts",
        )
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
        let uploaded = m.draft.iter().flatten().map(|p| (&p.name, p.size));
        for (name, size) in m
            .parts
            .iter()
            .map(|p| (&p.name, p.bytes.len() as u64))
            .chain(uploaded)
        {
            sqlx::query("insert into message_parts (message_id, name, size) values ($1, $2, $3)")
                .bind(&m.id)
                .bind(name)
                .bind(i64::try_from(size).unwrap_or(i64::MAX))
                .execute(&mut **tx)
                .await?;
        }
        for r in &m.recipients {
            sqlx::query(
                "insert into recipients (message_id, address, kind, link_token_hash, notice_state, \
                 notice_at) values ($1, $2, $3, $4, 'queued', $5)",
            )
            .bind(&m.id)
            .bind(&r.address)
            .bind(r.kind)
            .bind(r.link_token_hash.as_slice())
            .bind(m.created_at)
            .execute(&mut **tx)
            .await?;
        }
        for notice in &m.notices {
            Self::insert_outbox(tx, notice, m.created_at).await?;
        }
        Ok(())
    }

    pub(super) async fn load_message(&self, row: MessageRow) -> StoreResult<StoredMessage> {
        let recipients = sqlx::query_as::<_, RecipientRow>(
            "select address, kind, notice_state, notice_at, notice_error, notice_next_at, opened_at, \
             revoked_at, revoked_by \
             from recipients where message_id = $1 order by rowid",
        )
        .bind(&row.id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(message_from(row, recipients))
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
        // A domain the tenant gives up takes its DKIM keys with it: the next holder signs with
        // keys of its own, under any selector.
        sqlx::query(
            "delete from dkim_keys where tenant_id = $1 and domain not in \
             (select domain from tenant_domains where tenant_id = $1)",
        )
        .bind(tenant_id)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        Ok(())
    }
}

/// A message from its row and its recipients' rows (in the order they were added).
fn message_from(row: MessageRow, recipients: Vec<RecipientRow>) -> StoredMessage {
    StoredMessage {
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
    async fn check_ready(&self) -> StoreResult<()> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        self.blobs.check().await.map_err(blob)
    }

    fn blobs(&self) -> &crate::store::blob_store::BlobStore {
        &self.blobs
    }
}
