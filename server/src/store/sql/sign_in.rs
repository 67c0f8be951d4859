//! [`SignInStore`] in shared SQL (see `sql/mod.rs`).

use async_trait::async_trait;

use super::audit::insert_audit;
use super::{Engine, affected, db};
use crate::store::sign_in::{ChallengeKind, ChallengeRecord, PasskeyRecord, SignInStore};
use crate::store::{AuditEvent, StoreError, StoreResult};

type ChallengeRow = (
    String,
    String,
    Vec<u8>,
    Option<String>,
    String,
    bool,
    i64,
    i64,
);

type PasskeyRow = (
    String,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    String,
    String,
    i64,
    Option<i64>,
);

fn hash32(v: &[u8]) -> StoreResult<[u8; 32]> {
    v.try_into()
        .map_err(|_| StoreError::Database("a stored hash is not 32 bytes".into()))
}

#[async_trait]
impl SignInStore for Engine {
    async fn put_challenge(&self, c: &ChallengeRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("delete from sign_in_challenges where expires_at <= $1")
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "insert into sign_in_challenges (id_hash, kind, scope, address, bound_to, provider, \
             ceremony, keep_signed_in, created_at, expires_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(c.id_hash.as_slice())
        .bind(c.kind.as_str())
        .bind(&c.scope)
        .bind(&c.address)
        .bind(c.bound_to.as_slice())
        .bind(&c.provider)
        .bind(&c.ceremony)
        .bind(c.keep_signed_in)
        .bind(c.created_at)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn take_challenge(
        &self,
        id_hash: &[u8; 32],
        kind: ChallengeKind,
        now: i64,
    ) -> StoreResult<ChallengeRecord> {
        // Expired ones are forgotten here too, so none outlives its use by long.
        sqlx::query("delete from sign_in_challenges where expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        // One statement removes and returns it: two requests with the same id cannot both have it.
        let row = sqlx::query_as::<_, ChallengeRow>(
            "delete from sign_in_challenges where id_hash = $1 and kind = $2 \
             returning scope, address, bound_to, provider, ceremony, keep_signed_in, created_at, \
             expires_at",
        )
        .bind(id_hash.as_slice())
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
        if row.7 <= now {
            return Err(StoreError::NotFound);
        }
        Ok(ChallengeRecord {
            id_hash: *id_hash,
            kind,
            scope: row.0,
            address: row.1,
            bound_to: hash32(&row.2)?,
            provider: row.3,
            ceremony: row.4,
            keep_signed_in: row.5,
            created_at: row.6,
            expires_at: row.7,
        })
    }

    async fn put_passkey(
        &self,
        p: &PasskeyRecord,
        max: u32,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self
            .begin_write(&format!("passkeys:{}", p.tenant_id))
            .await?;
        let (count,) = sqlx::query_as::<_, (i64,)>(
            "select count(*) from recipient_passkeys where tenant_id = $1 and address = $2",
        )
        .bind(&p.tenant_id)
        .bind(&p.address)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if count >= i64::from(max) {
            return Err(StoreError::Conflict("too_many_passkeys"));
        }
        sqlx::query(
            "insert into recipient_passkeys (id, tenant_id, address, user_handle, credential_id, \
             credential, name, created_at, last_used_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&p.id)
        .bind(&p.tenant_id)
        .bind(&p.address)
        .bind(&p.user_handle)
        .bind(&p.credential_id)
        .bind(&p.credential)
        .bind(&p.name)
        .bind(p.created_at)
        .bind(p.last_used_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match db(e) {
            StoreError::Conflict(_) => StoreError::Conflict("passkey_exists"),
            other => other,
        })?;
        insert_audit(&mut tx, audit).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn passkeys(
        &self,
        tenant_id: &str,
        address: Option<&str>,
    ) -> StoreResult<Vec<PasskeyRecord>> {
        let rows = sqlx::query_as::<_, PasskeyRow>(
            "select id, tenant_id, address, user_handle, credential_id, credential, name, \
             created_at, last_used_at from recipient_passkeys \
             where tenant_id = $1 and ($2 is null or address = $2) order by created_at, id",
        )
        .bind(tenant_id)
        .bind(address)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|r| PasskeyRecord {
                id: r.0,
                tenant_id: r.1,
                address: r.2,
                user_handle: r.3,
                credential_id: r.4,
                credential: r.5,
                name: r.6,
                created_at: r.7,
                last_used_at: r.8,
            })
            .collect())
    }

    async fn passkey_used(&self, id: &str, credential: &str, at: i64) -> StoreResult<()> {
        let done = sqlx::query(
            "update recipient_passkeys set credential = $1, last_used_at = $2 where id = $3",
        )
        .bind(credential)
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        affected(done.rows_affected())
    }

    async fn delete_passkey(
        &self,
        tenant_id: &str,
        id: &str,
        address: Option<&str>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let done = sqlx::query(
            "delete from recipient_passkeys where tenant_id = $1 and id = $2 \
             and ($3 is null or address = $3)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(address)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        affected(done.rows_affected())?;
        insert_audit(&mut tx, audit).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }
}
