//! Tenants and their admin tokens. The SQL both engines run, in `impl TenantStore for Engine`.

#[allow(
    clippy::wildcard_imports,
    reason = "the shared SQL's helpers and rows, from `sql`"
)]
use super::*;
use crate::store::records::{BrandingRecord, to_json};

#[async_trait]
impl TenantStore for Engine {
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
            .bind(to_json(&BrandingRecord::from(&default))?)
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
             key_version, created_at, data_encryption_policy_id, portal_log_retention_days \
             from tenants where id = $1",
        )
        .bind(tenant_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let domains: Vec<(String,)> = sqlx::query_as(
            "select domain from tenant_domains where tenant_id = $1 order by domain",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let domains: Vec<&str> = domains.iter().map(|(d,)| d.as_str()).collect();
        Ok(row.into_tenant(&domains))
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
            "update tenants set name = $1, show_subject_in_notice = $2, portal_tracking_logs = $3, \
             portal_log_retention_days = $5 where id = $4",
        )
        .bind(&t.name)
        .bind(t.show_subject_in_notice)
        .bind(t.portal_tracking_logs)
        .bind(&t.id)
        .bind(t.portal_log_retention_days.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        affected(r.rows_affected())?;
        Self::replace_domains(&mut tx, &t.id, &t.domains).await?;
        tx.commit().await.map_err(db)
    }

    async fn domain_claims(&self, tenant_id: &str) -> StoreResult<Vec<DomainClaim>> {
        let rows = sqlx::query_as::<_, (String, String, i64)>(
            "select domain, token, created_at from domain_claims where tenant_id = $1 \
             order by created_at, domain",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|(domain, token, created_at)| {
                Ok(DomainClaim {
                    domain: Domain::parse("domain", &domain)
                        .map_err(|e| StoreError::Database(e.message))?,
                    token,
                    created_at,
                })
            })
            .collect()
    }

    async fn replace_domain_claims(
        &self,
        tenant_id: &str,
        claims: &[DomainClaim],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("delete from domain_claims where tenant_id = $1")
            .bind(tenant_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for c in claims {
            sqlx::query(
                "insert into domain_claims (tenant_id, domain, token, created_at) values ($1, $2, $3, $4)",
            )
            .bind(tenant_id)
            .bind(c.domain.as_str())
            .bind(&c.token)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn prove_domain(&self, tenant_id: &str, domain: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let r = sqlx::query("delete from domain_claims where tenant_id = $1 and domain = $2")
            .bind(tenant_id)
            .bind(domain)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        affected(r.rows_affected())?;
        sqlx::query("insert into tenant_domains (domain, tenant_id) values ($1, $2)")
            .bind(domain)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| match db(e) {
                StoreError::Conflict(_) => StoreError::Conflict("domain_taken"),
                other => other,
            })?;
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
}
