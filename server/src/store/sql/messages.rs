//! Sealed messages: storing one whole, reading it back, its parts, notices and revocations. The SQL both engines run, in `impl MessageStore for Engine`.

#[allow(
    clippy::wildcard_imports,
    reason = "the shared SQL's helpers and rows, from `sql`"
)]
use super::*;

#[async_trait]
impl MessageStore for Engine {
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
            if message.draft.is_some() {
                // A draft is sent once: the second attempt finds it gone.
                let taken = sqlx::query("delete from drafts where tenant_id = $1 and id = $2")
                    .bind(tenant)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                if taken.rows_affected() == 0 {
                    return Err(StoreError::Conflict("draft_gone"));
                }
            }
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
            // Best effort: what is left is removed by a later start's sweep. A draft's own
            // attachments stay with the draft, which is still there.
            let _ = match &message.draft {
                None => self.blobs.remove(tenant, id).await,
                Some(_) => {
                    let names: Vec<&str> = message.parts.iter().map(|p| p.name.as_str()).collect();
                    self.blobs.remove_parts(tenant, id, &names).await
                }
            };
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
        for (table, column) in [
            ("passcodes", "scope"),
            ("sessions", "scope"),
            ("outbox", "message_id"),
        ] {
            sqlx::query(&format!("delete from {table} where {column} = $1"))
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
}
