//! The embedded SQLite backend of the Store port: WAL, one file under the data dir,
//! one writer connection (so transactions never race for SQLite's single write lock).
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

type Db = sqlx::Sqlite;
const BACKEND: &str = "sqlite";
// The single writer connection already serialises writers; reading the head is enough.
const LOCK_AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
const LOCK_AUDIT_INDEX_MARK: &str = "SELECT upto_seq FROM audit_index_mark WHERE id = 1";
/// Writer transactions take the write lock at BEGIN: a deferred one that reads first fails at once with
/// SQLITE_BUSY when another process (the CLI beside a running server) committed in between.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Settings of the one writer connection (GOV-5 throughput, docs/performance.md):
/// a 64 MiB page cache, so that the audit indexer's batches do not spill
/// mid-transaction, and a WAL checkpoint every 10,000 pages (about 40 MiB) instead
/// of every 1,000, so that commits stop for checkpoints a tenth as often.
pub fn writer_tuning(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.pragma("cache_size", "-65536")
        .pragma("wal_autocheckpoint", "10000")
}

/// The SQLite store.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

type BackendStore = SqliteStore;

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path`.
    pub async fn open(path: &Path) -> gongshu_store::StoreResult<Self> {
        let opts = SqliteConnectOptions::new().filename(path);
        Self::open_with(opts).await
    }

    /// Opens a `sqlite://` URL.
    pub async fn open_url(url: &str) -> gongshu_store::StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url).map_err(db_err)?;
        Self::open_with(opts).await
    }

    async fn open_with(opts: SqliteConnectOptions) -> gongshu_store::StoreResult<Self> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the caller hears of it (durable audit, DESIGN 3).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(writer_tuning(opts.clone()))
            .await
            .map_err(db_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(db_err)?;
        Ok(Self { writer, reader })
    }

    async fn backend_migrate(&self) -> gongshu_store::StoreResult<()> {
        sqlx::migrate!("./migrations")
            .run(&self.writer)
            .await
            .map_err(|e| gongshu_store::StoreError::Database(e.to_string()))
    }

    async fn backend_claim_job(
        &self,
        worker: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> gongshu_store::StoreResult<Option<sqlx::sqlite::SqliteRow>> {
        // One writer connection: the UPDATE … RETURNING is atomic with respect to every other claim.
        sqlx::query(
            "UPDATE jobs SET status = 'running', claimed_by = $1, claimed_at = $2, attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $2 ORDER BY run_at, id LIMIT 1)
             RETURNING *",
        )
        .bind(worker)
        .bind(now)
        .fetch_optional(&self.writer)
        .await
        .map_err(db_err)
    }

    /// Closes both pools (checkpointing the WAL).
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// COL-2: the column type a data item's values are stored as.
fn sql_type(t: gongshu_domain::catalog::FieldType) -> &'static str {
    use gongshu_domain::catalog::FieldType;
    match t {
        FieldType::String => "TEXT",
        FieldType::Binary => "TEXT",
        FieldType::Integer => "INTEGER",
        FieldType::Number => "REAL",
        FieldType::Boolean => "INTEGER",
        FieldType::Date => "TEXT",
        FieldType::DateTime => "TEXT",
    }
}
/// COL-2: appends a batch of dataset rows: multi-row INSERTs in one transaction.
async fn bulk_append(
    pool: &sqlx::SqlitePool,
    table: &str,
    names: &[String],
    schema: &gongshu_domain::dataset::TableSchema,
    load: i64,
    rows: &[(i64, Vec<gongshu_domain::dataset::Value>)],
) -> gongshu_store::StoreResult<()> {
    let per_row = schema.columns.len() + 2;
    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
    for chunk in rows.chunks((MAX_BIND_PARAMS / per_row).max(1)) {
        let mut qb: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(format!(
            "INSERT INTO {table} ({}, \"_load\", \"_row\") ",
            names.join(", ")
        ));
        qb.push_values(chunk, |mut b, (row, values)| {
            for (c, v) in schema.columns.iter().zip(values) {
                bind_value(&mut b, c.field_type, v);
            }
            b.push_bind(load).push_bind(*row);
        });
        qb.build().execute(&mut *tx).await.map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

/// SQLite keeps dates as ISO text.
const DATES_AS_TEXT: bool = true;

/// Most bind parameters one statement may carry.
const MAX_BIND_PARAMS: usize = 32766;

include!("../../store/shared_sql/backend.rs");
