//! [`DkimStore`] in shared SQL (see `sql/mod.rs`).

use async_trait::async_trait;

use super::{Engine, affected, db};
use crate::store::dkim::{DkimKeyRecord, DkimStore};
use crate::store::{StoreError, StoreResult};

type KeyRow = (String, String, String, String, Vec<u8>, Vec<u8>, i64);

#[async_trait]
impl DkimStore for Engine {
    async fn put_dkim_key(&self, k: &DkimKeyRecord) -> StoreResult<()> {
        sqlx::query(
            "insert into dkim_keys (tenant_id, domain, selector, algorithm, sealed_private_key, \
             public_key, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&k.tenant_id)
        .bind(&k.domain)
        .bind(&k.selector)
        .bind(&k.algorithm)
        .bind(&k.sealed_private_key)
        .bind(&k.public_key)
        .bind(k.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| match db(e) {
            StoreError::Conflict(_) => StoreError::Conflict("dkim_selector_taken"),
            other => other,
        })?;
        Ok(())
    }

    async fn dkim_keys(
        &self,
        tenant_id: &str,
        domain: Option<&str>,
    ) -> StoreResult<Vec<DkimKeyRecord>> {
        let rows = sqlx::query_as::<_, KeyRow>(
            "select tenant_id, domain, selector, algorithm, sealed_private_key, public_key, \
             created_at from dkim_keys where tenant_id = $1 and ($2 is null or domain = $2) \
             order by domain, selector",
        )
        .bind(tenant_id)
        .bind(domain)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|r| DkimKeyRecord {
                tenant_id: r.0,
                domain: r.1,
                selector: r.2,
                algorithm: r.3,
                sealed_private_key: r.4,
                public_key: r.5,
                created_at: r.6,
            })
            .collect())
    }

    async fn delete_dkim_key(
        &self,
        tenant_id: &str,
        domain: &str,
        selector: &str,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "delete from dkim_keys where tenant_id = $1 and domain = $2 and selector = $3",
        )
        .bind(tenant_id)
        .bind(domain)
        .bind(selector)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        affected(done.rows_affected())
    }
}
