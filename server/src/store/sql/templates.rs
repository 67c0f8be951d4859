//! Branding templates and the tenant's own rights templates (stored by intent: created or replaced, never either). The SQL both engines run, in `impl TemplateStore for Engine`.

#[allow(
    clippy::wildcard_imports,
    reason = "the shared SQL's helpers and rows, from `sql`"
)]
use super::*;
use crate::store::records::{BrandingRecord, from_json, to_json};

#[async_trait]
impl TemplateStore for Engine {
    async fn branding_templates(&self, tenant_id: &str) -> StoreResult<Vec<BrandingTemplateView>> {
        sqlx::query_as::<_, (String,)>(
            "select body from branding_templates where tenant_id = $1 order by name",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(body,)| from_json::<BrandingRecord>(&body).map(Into::into))
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
        from_json::<BrandingRecord>(&body).map(Into::into)
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
            "select name, description, rights, forward_limits from rights_templates where tenant_id = $1 order by name",
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
            "select name, description, rights, forward_limits from rights_templates where tenant_id = $1 and name = $2",
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
}

impl Engine {
    async fn put_branding_template(
        &self,
        tenant_id: &str,
        view: &BrandingTemplateView,
        put: Put,
        at: i64,
    ) -> StoreResult<()> {
        let body = to_json(&BrandingRecord::from(view))?;
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
                "insert into rights_templates (tenant_id, name, description, rights, updated_at, forward_limits) values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant_id)
            .bind(&t.name)
            .bind(&t.description)
            .bind(t.rights.to_stored())
            .bind(at)
            .bind(forward_limits(t)?)
            .execute(&self.pool)
            .await
            .map_err(db)?;
            Ok(())
        } else {
            let r = sqlx::query(
                "update rights_templates set description = $1, rights = $2, updated_at = $3, forward_limits = $6 where tenant_id = $4 and name = $5",
            )
            .bind(&t.description)
            .bind(t.rights.to_stored())
            .bind(at)
            .bind(tenant_id)
            .bind(&t.name)
            .bind(forward_limits(t)?)
            .execute(&self.pool)
            .await
            .map_err(db)?;
            affected(r.rows_affected())
        }
    }
}

/// A template's forward limits as stored.
fn forward_limits(t: &RightsTemplate) -> StoreResult<String> {
    serde_json::to_string(&t.forward_limits).map_err(|e| StoreError::Database(e.to_string()))
}
