//! The embedded engine: one SQLite file (`sealpost.db`, WAL) in the data directory, migrations
//! from `migrations/sqlite` run at open. Writers are serialized by SQLite itself; a write that
//! reads before it writes begins with `BEGIN IMMEDIATE`, so it holds the write lock from its first
//! read.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlitePool, Transaction};

use super::blob_store::BlobStore;
use super::blobs::BlobDir;
use super::{StoreError, StoreResult};

#[allow(
    clippy::duplicate_mod,
    reason = "the shared SQL is compiled once per engine"
)]
#[path = "../sql/mod.rs"]
mod sql;

use sql::{blob, db};

/// The shared SQL's names for this engine.
type Engine = SqliteStore;
type Db = sqlx::Sqlite;

/// SQLite plus a blob store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Connections that commit without waiting for the disk (`synchronous = NORMAL`), for the
    /// rate limits' counts only (see [`Self::begin_count_all`]).
    counts: SqlitePool,
    blobs: BlobStore,
}

impl SqliteStore {
    /// Open (creating if needed) `sealpost.db` and `blobs/` in `data_dir`, run migrations, and sweep
    /// blobs left by an interrupted write.
    pub async fn open(data_dir: &Path) -> StoreResult<SqliteStore> {
        let blobs = BlobDir::open(&data_dir.join("blobs")).map_err(blob)?;
        SqliteStore::open_with(data_dir, BlobStore::Dir(blobs)).await
    }

    /// As [`SqliteStore::open`], with sealed parts in `blobs`.
    pub async fn open_with(data_dir: &Path, blobs: BlobStore) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(db)?
            .filename(data_dir.join("sealpost.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted rows are overwritten with zeros, so a purge leaves no wrapped key behind in
            // free pages of the file.
            .pragma("secure_delete", "on")
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(db)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let counts = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await
            .map_err(db)?;
        let store = SqliteStore {
            pool,
            counts,
            blobs,
        };
        store.sweep().await?;
        Ok(store)
    }

    /// A transaction that holds the database's write lock from its first statement. SQLite has
    /// one writer at a time, so `_lock` (what a server engine would lock) is not needed.
    async fn begin_write(&self, _lock: &str) -> StoreResult<Transaction<'static, Db>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }

    /// As [`Self::begin_write`], for a write that a server engine would serialize on several
    /// locks (SQLite has one writer at a time, whatever the locks).
    async fn begin_write_all(&self, _locks: &[&str]) -> StoreResult<Transaction<'static, Db>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }

    /// As [`Self::begin_write_all`], for records that must be on disk when the commit returns (key
    /// decisions): this pool's connections commit with `synchronous = FULL`.
    async fn begin_durable_all(&self, locks: &[&str]) -> StoreResult<Transaction<'static, Db>> {
        self.begin_write_all(locks).await
    }

    /// As [`Self::begin_write`] (SQLite has one writer at a time, whatever the locks), for counts
    /// that may lose their last moments in a power cut (the rate limits' events): the commit goes
    /// to the journal without waiting for the disk, so a flood of counted tries is not one fsync
    /// each. WAL keeps the file consistent; a crash of the process alone loses nothing.
    async fn begin_count_all(&self, _locks: &[&str]) -> StoreResult<Transaction<'static, Db>> {
        self.counts.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }

    /// Copy the journal into the database file and cut the journal to nothing, so pages written
    /// before a purge are not left in `sealpost.db-wal`. Readers holding an old snapshot can make
    /// it wait; it is tried for up to ten seconds.
    async fn after_purge(&self) -> StoreResult<()> {
        for _ in 0..100 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("pragma wal_checkpoint(truncate)")
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(StoreError::Database(
            "the journal could not be checkpointed after the purge; it will be at the next start"
                .into(),
        ))
    }
}
