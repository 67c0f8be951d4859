//! The engine for several nodes: PostgreSQL, reached by the configured `database_url`, migrations
//! from `migrations/postgres` run at open (sqlx takes an advisory lock, so nodes starting together
//! migrate once). Reads and single conditional writes rely on PostgreSQL's row locks; a write that
//! reads before it writes (a log's head, a rate key's count, a tenant's rule order, a revocation
//! cascade) first takes a transaction-scoped advisory lock named for what it protects, so every
//! node's writers of that thing queue behind one another, as SQLite's one writer does.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Transaction};

use super::blob_store::BlobStore;
use super::{StoreError, StoreResult};

#[allow(
    clippy::duplicate_mod,
    reason = "the shared SQL is compiled once per engine"
)]
#[path = "../sql/mod.rs"]
mod sql;

use sql::db;

/// The shared SQL's names for this engine.
type Engine = PgStore;
type Db = sqlx::Postgres;

/// PostgreSQL plus a blob store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    blobs: BlobStore,
}

impl PgStore {
    /// Connect to `url` (`postgres://user:password@host:port/database`, with `?sslmode=require`
    /// or `verify-full` for TLS), run migrations, and sweep blobs left by an interrupted write.
    pub async fn open(url: &str, max_connections: u32, blobs: BlobStore) -> StoreResult<PgStore> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| StoreError::Database(redacted(&e)))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.application_name("sealpost"))
            .await
            .map_err(|e| StoreError::Database(redacted(&e)))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let store = PgStore { pool, blobs };
        store.sweep().await?;
        Ok(store)
    }

    /// A transaction that first takes the advisory lock named `lock` (hashed to 64 bits; two names
    /// that collide only wait for each other). It is released when the transaction ends.
    async fn begin_write(&self, lock: &str) -> StoreResult<Transaction<'static, Db>> {
        self.begin_write_all(&[lock]).await
    }

    /// As [`Self::begin_write`], holding every lock (taken in sorted order, so two transactions
    /// never wait for each other in a circle).
    async fn begin_write_all(&self, locks: &[&str]) -> StoreResult<Transaction<'static, Db>> {
        let mut locks = locks.to_vec();
        locks.sort_unstable();
        locks.dedup();
        let mut tx = self.pool.begin().await.map_err(db)?;
        for lock in locks {
            sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(lock)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        Ok(tx)
    }

    /// As [`Self::begin_write_all`], for records that must be on disk when the commit returns (key
    /// decisions, answered only then): `synchronous_commit = on` for this transaction, whatever
    /// the role or database was set to.
    async fn begin_durable_all(&self, locks: &[&str]) -> StoreResult<Transaction<'static, Db>> {
        self.begin_committing(locks, "on").await
    }

    /// As [`Self::begin_write_all`], for counts that may lose their last moments in a crash of
    /// the database server (the rate limits' events): the commit does not wait for the
    /// write-ahead log to reach the disk (`synchronous_commit = off`, this transaction only).
    async fn begin_count_all(&self, locks: &[&str]) -> StoreResult<Transaction<'static, Db>> {
        self.begin_committing(locks, "off").await
    }

    /// [`Self::begin_write_all`] with `synchronous_commit` set to `setting` (`on` or `off`) for
    /// this transaction only.
    async fn begin_committing(
        &self,
        locks: &[&str],
        setting: &'static str,
    ) -> StoreResult<Transaction<'static, Db>> {
        let mut tx = self.begin_write_all(locks).await?;
        sqlx::query(&format!("set local synchronous_commit = {setting}"))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        Ok(tx)
    }

    /// Nothing more is done here: PostgreSQL keeps deleted row versions until vacuum reuses their
    /// space, and in its write-ahead log and backups, beyond this server's reach
    /// (`docs/SECURITY.md` says so).
    async fn after_purge(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// A connection error without the URL's password (sqlx's messages do not carry it, but a parse
/// error may quote the URL).
fn redacted(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Configuration(_) => "the database URL cannot be used".into(),
        e => e.to_string(),
    }
}
