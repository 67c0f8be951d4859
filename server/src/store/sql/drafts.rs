//! [`DraftStore`] in shared SQL (see `sql/mod.rs`). Limits are counted and windows begun under
//! a lock per tenant, so several nodes agree.

use async_trait::async_trait;

use super::{Engine, affected, db};
use crate::store::drafts::{
    AttachmentRef, DraftAttachment, DraftLimits, DraftStore, NewDraft, NewDraftAttachment, Quota,
    StoredDraft, WindowRefusal,
};
use crate::store::{StoreError, StoreResult};

/// The lock a tenant's drafts are counted and written under.
fn drafts_lock(tenant_id: &str) -> String {
    format!("drafts:{tenant_id}")
}

#[derive(sqlx::FromRow)]
struct DraftRow {
    tenant_id: String,
    id: String,
    sender: String,
    wrapped_key: Vec<u8>,
    policy_id: Option<String>,
    key_version: i64,
    created_at: i64,
    expires_at: i64,
    window_size: i64,
    answering: Option<String>,
}

const DRAFT_COLUMNS: &str = "tenant_id, id, sender, wrapped_key, policy_id, key_version, \
     created_at, expires_at, window_size, answering";

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    idx: i64,
    name: String,
    content_type: String,
    content_id: Option<String>,
    size: i64,
    prefix: Vec<u8>,
    received: i64,
    pending_window: Option<i64>,
    pending_digest: Option<Vec<u8>>,
    writing_until: Option<i64>,
    upload_id: Option<String>,
    etags: String,
}

const ATTACHMENT_COLUMNS: &str = "idx, name, content_type, content_id, size, prefix, received, \
     pending_window, pending_digest, writing_until, upload_id, etags";

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl From<AttachmentRow> for DraftAttachment {
    fn from(r: AttachmentRow) -> Self {
        DraftAttachment {
            index: u32::try_from(r.idx).unwrap_or(u32::MAX),
            name: r.name,
            content_type: r.content_type,
            content_id: r.content_id,
            size: count(r.size),
            prefix: r.prefix,
            received: count(r.received),
            pending: r
                .pending_window
                .zip(r.pending_digest)
                .map(|(w, d)| (count(w), d)),
            writing_until: r.writing_until,
            upload_id: r.upload_id,
            etags: r.etags.split_whitespace().map(str::to_owned).collect(),
        }
    }
}

impl From<DraftRow> for NewDraft {
    fn from(r: DraftRow) -> Self {
        NewDraft {
            tenant_id: r.tenant_id,
            id: r.id,
            sender: r.sender,
            wrapped_key: r.wrapped_key,
            policy_id: r.policy_id,
            key_version: u32::try_from(r.key_version).unwrap_or(0),
            created_at: r.created_at,
            expires_at: r.expires_at,
            window_size: count(r.window_size),
            answering: r.answering,
        }
    }
}

fn size(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Conflict("upload_quota"))
}

/// `NotFound` unless the draft is there and unexpired at `now`; `Conflict("draft_sending")` while
/// a send holds it. Otherwise its sender and the message it answers, if a recipient's.
async fn refuse_if_sending(
    tx: &mut sqlx::Transaction<'static, super::Db>,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> StoreResult<(String, Option<String>)> {
    let (sending, sender, answering): (Option<i64>, String, Option<String>) = sqlx::query_as(
        "select sending_until, sender, answering from drafts \
         where tenant_id = $1 and id = $2 and expires_at > $3",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .map_err(db)?;
    if sending.is_some_and(|t| t > now) {
        return Err(StoreError::Conflict("draft_sending"));
    }
    Ok((sender, answering))
}

/// How many of a tenant's drafts there are, and the bytes their attachments declare: all of them
/// (`sender` `None`, `recipients` false), recipients' reply drafts (`recipients`), or one sender's
/// reply drafts.
async fn usage(
    tx: &mut sqlx::Transaction<'static, super::Db>,
    tenant_id: &str,
    recipients: bool,
    sender: Option<&str>,
) -> StoreResult<(u64, u64)> {
    let filter = match (recipients, sender) {
        (false, _) => "",
        (true, None) => " and d.answering is not null",
        (true, Some(_)) => " and d.answering is not null and d.sender = $2",
    };
    let drafts_sql = format!("select count(*) from drafts d where d.tenant_id = $1{filter}");
    let bytes_sql = format!(
        "select cast(sum(a.size) as bigint) from draft_attachments a join drafts d \
         on d.tenant_id = a.tenant_id and d.id = a.draft_id where a.tenant_id = $1{filter}"
    );
    let mut q = sqlx::query_as::<_, (i64,)>(&drafts_sql).bind(tenant_id);
    let mut b = sqlx::query_as::<_, (Option<i64>,)>(&bytes_sql).bind(tenant_id);
    if let (true, Some(s)) = (recipients, sender) {
        q = q.bind(s.to_owned());
        b = b.bind(s.to_owned());
    }
    let (drafts,) = q.fetch_one(&mut **tx).await.map_err(db)?;
    let (bytes,) = b.fetch_one(&mut **tx).await.map_err(db)?;
    Ok((count(drafts), count(bytes.unwrap_or(0))))
}

/// One quota a draft is counted against: whose drafts, how many, and the codes refusing more.
struct Counted<'a> {
    recipients: bool,
    sender: Option<&'a str>,
    quota: Quota,
    too_many: &'static str,
    too_large: &'static str,
}

/// The quotas a draft of `sender` (a recipient's if `answering`) is counted against.
fn quotas<'a>(limits: &DraftLimits, sender: &'a str, answering: bool) -> Vec<Counted<'a>> {
    let mut out = vec![Counted {
        recipients: false,
        sender: None,
        quota: limits.tenant,
        too_many: "too_many_drafts",
        too_large: "upload_quota",
    }];
    if answering {
        out.push(Counted {
            recipients: true,
            sender: None,
            quota: limits.recipients,
            too_many: "too_many_drafts",
            too_large: "upload_quota",
        });
        out.push(Counted {
            recipients: true,
            sender: Some(sender),
            quota: limits.per_recipient,
            too_many: "too_many_recipient_drafts",
            too_large: "recipient_upload_quota",
        });
    }
    out
}

impl Engine {
    async fn load_draft(&self, row: DraftRow) -> StoreResult<StoredDraft> {
        let attachments = sqlx::query_as::<_, AttachmentRow>(&format!(
            "select {ATTACHMENT_COLUMNS} from draft_attachments \
             where tenant_id = $1 and draft_id = $2 order by idx"
        ))
        .bind(&row.tenant_id)
        .bind(&row.id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(StoredDraft {
            draft: row.into(),
            attachments: attachments.into_iter().map(Into::into).collect(),
        })
    }

    async fn attachment_row(
        &self,
        tx: &mut sqlx::Transaction<'static, super::Db>,
        tenant_id: &str,
        draft_id: &str,
        index: u32,
        now: i64,
    ) -> StoreResult<AttachmentRow> {
        sqlx::query_as::<_, AttachmentRow>(&format!(
            "select {ATTACHMENT_COLUMNS} from draft_attachments a \
             where a.tenant_id = $1 and a.draft_id = $2 and a.idx = $3 and exists ( \
                 select 1 from drafts d \
                 where d.tenant_id = a.tenant_id and d.id = a.draft_id and d.expires_at > $4)"
        ))
        .bind(tenant_id)
        .bind(draft_id)
        .bind(i64::from(index))
        .bind(now)
        .fetch_one(&mut **tx)
        .await
        .map_err(db)
    }
}

#[async_trait]
impl DraftStore for Engine {
    async fn create_draft(&self, draft: &NewDraft, limits: &DraftLimits) -> StoreResult<()> {
        let mut tx = self.begin_write(&drafts_lock(&draft.tenant_id)).await?;
        for c in quotas(limits, &draft.sender, draft.answering.is_some()) {
            let (open, _) = usage(&mut tx, &draft.tenant_id, c.recipients, c.sender).await?;
            if open >= u64::from(c.quota.drafts) {
                return Err(StoreError::Conflict(c.too_many));
            }
        }
        sqlx::query(&format!(
            "insert into drafts ({DRAFT_COLUMNS}) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&draft.tenant_id)
        .bind(&draft.id)
        .bind(&draft.sender)
        .bind(&draft.wrapped_key)
        .bind(&draft.policy_id)
        .bind(i64::from(draft.key_version))
        .bind(draft.created_at)
        .bind(draft.expires_at)
        .bind(size(draft.window_size)?)
        .bind(&draft.answering)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if let Some(policy_id) = &draft.policy_id {
            // As for a message: the data-key version must still exist, since a roll may have
            // retired it after the draft's key was wrapped (a roll keeps it from now on).
            sqlx::query("select 1 from policy_data_keys where policy_id = $1 and version = $2")
                .bind(policy_id)
                .bind(i64::from(draft.key_version))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| match e {
                    sqlx::Error::RowNotFound => StoreError::Conflict("key_version_retired"),
                    e => db(e),
                })?;
        }
        tx.commit().await.map_err(db)
    }

    async fn draft(&self, tenant_id: &str, id: &str, now: i64) -> StoreResult<StoredDraft> {
        let row = sqlx::query_as::<_, DraftRow>(&format!(
            "select {DRAFT_COLUMNS} from drafts where tenant_id = $1 and id = $2 and expires_at > $3"
        ))
        .bind(tenant_id)
        .bind(id)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        self.load_draft(row).await
    }

    async fn add_draft_attachment(
        &self,
        tenant_id: &str,
        draft_id: &str,
        a: &NewDraftAttachment,
        limits: &DraftLimits,
        index: u32,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write(&drafts_lock(tenant_id)).await?;
        let (sender, answering) = refuse_if_sending(&mut tx, tenant_id, draft_id, now).await?;
        let (attachments,): (i64,) = sqlx::query_as(
            "select count(*) from draft_attachments where tenant_id = $1 and draft_id = $2",
        )
        .bind(tenant_id)
        .bind(draft_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if count(attachments) != u64::from(index) {
            return Err(StoreError::Conflict("index_taken"));
        }
        if count(attachments) >= u64::from(limits.attachments) {
            return Err(StoreError::Conflict("too_many_attachments"));
        }
        for c in quotas(limits, &sender, answering.is_some()) {
            let (_, declared) = usage(&mut tx, tenant_id, c.recipients, c.sender).await?;
            if declared.saturating_add(a.size) > c.quota.bytes {
                return Err(StoreError::Conflict(c.too_large));
            }
        }
        sqlx::query(
            "insert into draft_attachments \
             (tenant_id, draft_id, idx, name, content_type, content_id, size, prefix) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant_id)
        .bind(draft_id)
        .bind(i64::from(index))
        .bind(&a.name)
        .bind(&a.content_type)
        .bind(&a.content_id)
        .bind(size(a.size)?)
        .bind(&a.prefix)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn begin_window(
        &self,
        at: AttachmentRef<'_>,
        start: u64,
        digest: &[u8],
        until: i64,
        now: i64,
    ) -> StoreResult<Result<DraftAttachment, WindowRefusal>> {
        let AttachmentRef {
            tenant_id,
            draft_id,
            index,
        } = at;
        let mut tx = self.begin_write(&drafts_lock(tenant_id)).await?;
        let row: DraftAttachment = self
            .attachment_row(&mut tx, tenant_id, draft_id, index, now)
            .await?
            .into();
        let (sending,): (Option<i64>,) =
            sqlx::query_as("select sending_until from drafts where tenant_id = $1 and id = $2")
                .bind(tenant_id)
                .bind(draft_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        if sending.is_some_and(|t| t > now) {
            return Ok(Err(WindowRefusal::Sending));
        }
        if row.writing_until.is_some_and(|t| t > now) {
            return Ok(Err(WindowRefusal::Busy));
        }
        if row.received != start || row.complete() {
            return Ok(Err(WindowRefusal::OutOfOrder {
                received: row.received,
            }));
        }
        if row
            .pending
            .as_ref()
            .is_some_and(|(w, d)| *w == start && d.as_slice() != digest)
        {
            return Ok(Err(WindowRefusal::Changed));
        }
        sqlx::query(
            "update draft_attachments \
             set pending_window = $4, pending_digest = $5, writing_until = $6 \
             where tenant_id = $1 and draft_id = $2 and idx = $3",
        )
        .bind(tenant_id)
        .bind(draft_id)
        .bind(i64::from(index))
        .bind(size(start)?)
        .bind(digest)
        .bind(until)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Ok(DraftAttachment {
            pending: Some((start, digest.to_vec())),
            writing_until: Some(until),
            ..row
        }))
    }

    async fn set_upload_id(&self, at: AttachmentRef<'_>, upload_id: &str) -> StoreResult<()> {
        let AttachmentRef {
            tenant_id,
            draft_id,
            index,
        } = at;
        let done = sqlx::query(
            "update draft_attachments set upload_id = $4 \
             where tenant_id = $1 and draft_id = $2 and idx = $3",
        )
        .bind(tenant_id)
        .bind(draft_id)
        .bind(i64::from(index))
        .bind(upload_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        affected(done.rows_affected())
    }

    async fn commit_window(
        &self,
        at: AttachmentRef<'_>,
        start: u64,
        end: u64,
        etags: &[String],
        lease: i64,
    ) -> StoreResult<()> {
        let AttachmentRef {
            tenant_id,
            draft_id,
            index,
        } = at;
        let done = sqlx::query(
            "update draft_attachments \
             set received = $5, etags = $6, \
                 pending_window = null, pending_digest = null, writing_until = null \
             where tenant_id = $1 and draft_id = $2 and idx = $3 and received = $4 \
               and writing_until = $7",
        )
        .bind(tenant_id)
        .bind(draft_id)
        .bind(i64::from(index))
        .bind(size(start)?)
        .bind(size(end)?)
        .bind(etags.join(" "))
        .bind(lease)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("lease_lost"));
        }
        Ok(())
    }

    async fn keep_draft_until(&self, tenant_id: &str, id: &str, until: i64) -> StoreResult<()> {
        sqlx::query(
            "update drafts set expires_at = $3 \
             where tenant_id = $1 and id = $2 and expires_at < $3",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(until)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn drafts_answering(
        &self,
        tenant_id: &str,
        message_id: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        sqlx::query_as("select id, sender from drafts where tenant_id = $1 and answering = $2")
            .bind(tenant_id)
            .bind(message_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }

    async fn end_window(&self, at: AttachmentRef<'_>) -> StoreResult<()> {
        let AttachmentRef {
            tenant_id,
            draft_id,
            index,
        } = at;
        sqlx::query(
            "update draft_attachments set writing_until = null \
             where tenant_id = $1 and draft_id = $2 and idx = $3",
        )
        .bind(tenant_id)
        .bind(draft_id)
        .bind(i64::from(index))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn delete_draft(&self, tenant_id: &str, id: &str, now: i64) -> StoreResult<StoredDraft> {
        let draft = self.draft(tenant_id, id, i64::MIN).await?;
        let done = sqlx::query(
            "delete from drafts where tenant_id = $1 and id = $2 \
             and (sending_until is null or sending_until <= $3)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            // Gone meanwhile, or held by a send.
            self.draft(tenant_id, id, i64::MIN).await?;
            return Err(StoreError::Conflict("draft_sending"));
        }
        Ok(draft)
    }

    async fn claim_draft(
        &self,
        tenant_id: &str,
        id: &str,
        until: i64,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write(&drafts_lock(tenant_id)).await?;
        refuse_if_sending(&mut tx, tenant_id, id, now).await?;
        let (writing,): (i64,) = sqlx::query_as(
            "select count(*) from draft_attachments \
             where tenant_id = $1 and draft_id = $2 and writing_until > $3",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if writing > 0 {
            return Err(StoreError::Conflict("upload_busy"));
        }
        sqlx::query("update drafts set sending_until = $3 where tenant_id = $1 and id = $2")
            .bind(tenant_id)
            .bind(id)
            .bind(until)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn release_draft(&self, tenant_id: &str, id: &str) -> StoreResult<()> {
        sqlx::query("update drafts set sending_until = null where tenant_id = $1 and id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn expired_drafts(&self, now: i64, limit: u32) -> StoreResult<Vec<StoredDraft>> {
        let rows = sqlx::query_as::<_, DraftRow>(&format!(
            "select {DRAFT_COLUMNS} from drafts where expires_at <= $1 \
             and (sending_until is null or sending_until <= $1) order by expires_at limit $2"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.load_draft(row).await?);
        }
        Ok(out)
    }
}
