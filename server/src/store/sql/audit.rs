//! The audit log. The SQL both engines run, in `impl AuditStore for Engine`.

#[allow(
    clippy::wildcard_imports,
    reason = "the shared SQL's helpers and rows, from `sql`"
)]
use super::*;

/// Record `e` inside a transaction, with the change it records.
pub(super) async fn insert_audit(
    tx: &mut Transaction<'_, Db>,
    e: &AuditEvent,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into audit_events (tenant_id, at, actor, action, target) values ($1, $2, $3, $4, $5)")
        .bind(&e.tenant_id)
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.target)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Most audit events written by one statement (five values each, well under either engine's
/// limit on bound values).
pub(super) const AUDIT_ROWS_PER_INSERT: usize = 64;

/// Record several events inside a transaction with one statement (at most
/// [`AUDIT_ROWS_PER_INSERT`] of them), in the order given.
pub(super) async fn insert_audits<'e>(
    tx: &mut Transaction<'_, Db>,
    events: impl ExactSizeIterator<Item = &'e AuditEvent>,
) -> Result<(), sqlx::Error> {
    if events.len() == 0 {
        return Ok(());
    }
    let mut sql =
        String::from("insert into audit_events (tenant_id, at, actor, action, target) values ");
    for i in 0..events.len() {
        let n = i * 5;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${})",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5
        ));
    }
    let mut query = sqlx::query(&sql);
    for e in events {
        query = query
            .bind(&e.tenant_id)
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

#[async_trait]
impl AuditStore for Engine {
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
}
