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
