//! The development mailbox. The SQL both engines run, in `impl DevMailboxStore for Engine`.

#[allow(
    clippy::wildcard_imports,
    reason = "the shared SQL's helpers and rows, from `sql`"
)]
use super::*;

#[async_trait]
impl DevMailboxStore for Engine {
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
