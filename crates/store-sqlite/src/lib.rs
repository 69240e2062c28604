//! The embedded SQLite backend of the Store port: WAL, one file under the data dir,
//! one writer connection (so transactions never race for SQLite's single write lock).
mod bulk;

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
/// mid-transaction, and a helper thread for the sorter. The [`Checkpointer`]
/// copies the WAL into the database file, not the writer after its commits; the
/// writer checkpoints only when the WAL holds [`WRITER_CHECKPOINT_PAGES`], should
/// the checkpointer have stopped. A WAL that starts again is cut back to 64 MiB.
pub fn writer_tuning(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.pragma("cache_size", "-65536")
        // One helper thread for large sorts, as in building an index (COL-2).
        .pragma("threads", "1")
        .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string())
        .pragma("journal_size_limit", (64 * 1024 * 1024).to_string())
}

/// WAL pages at which the writer checkpoints after a commit (4 GiB with the 16 KiB
/// pages of a new database): a bound for when the [`Checkpointer`] is not running.
/// Any lower, and it would fire at the commit of a large load's index builds,
/// whose pages all come at once, and copy them before the load is answered.
pub const WRITER_CHECKPOINT_PAGES: u32 = 262_144;

/// How often the [`Checkpointer`] copies committed WAL pages into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// WAL pages (256 MiB with 16 KiB pages) past which the [`Checkpointer`] makes the
/// WAL start again from its beginning.
const CHECKPOINT_RESTART_PAGES: i64 = 16_384;

/// How long the [`Checkpointer`] waits for the writer or for readers when it
/// makes the WAL start again; it tries again on its next round.
const CHECKPOINT_RESTART_WAIT: Duration = Duration::from_millis(200);

/// Copies committed pages from the WAL into the database file on a connection of
/// its own, as SQLite's PASSIVE checkpoint does: without the write lock, beside
/// the writer and the readers. A checkpoint run by the writer after its commit
/// held every later write back until the database file was synced: about 160 MiB
/// every 10,000 pages, which stalled a load's batches (docs/performance.md,
/// "Loading and cross-checking data").
///
/// The WAL starts again from its beginning only when a write begins after every
/// page was copied, which a load's batches, one after another, do not leave time
/// for. So once the WAL is past [`CHECKPOINT_RESTART_PAGES`] and copied, a RESTART
/// checkpoint takes the write lock between two transactions, copies what came
/// since, and waits for the readers to leave the WAL, each for at most
/// [`CHECKPOINT_RESTART_WAIT`]: the next write then starts the WAL afresh.
///
/// The checkpoints run on the Tokio runtime that opened the store and stop with it.
struct Checkpointer {
    pool: SqlitePool,
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    async fn start(opts: SqliteConnectOptions) -> gongshu_store::StoreResult<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.busy_timeout(CHECKPOINT_RESTART_WAIT))
            .await
            .map_err(db_err)?;
        let task = tokio::spawn(Self::run(pool.clone()));
        Ok(Self { pool, task })
    }

    async fn run(pool: SqlitePool) {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = Self::round(&pool).await {
                tracing::warn!("WAL checkpoint failed: {e}");
            }
        }
    }

    async fn round(pool: &SqlitePool) -> Result<(), sqlx::Error> {
        // (whether it was blocked, pages in the WAL, pages copied)
        let (_, pages, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(pool)
            .await?;
        if pages >= CHECKPOINT_RESTART_PAGES && copied == pages {
            sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    async fn stop(&self) {
        self.task.abort();
        self.pool.close().await;
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The SQLite store.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    checkpointer: Checkpointer,
    /// Commits that changed the open catalog or a key (`Store::open_catalog_epoch`).
    open_epoch: std::sync::atomic::AtomicU64,
    /// The one data plane of the store: its writes and reads share what it knows of tables.
    plane: std::sync::Arc<BackendDataPlane>,
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
            // 16 KiB pages (a new database only; an existing one keeps its own): a load
            // writes a quarter as many WAL frames, each a system call, as with the
            // default 4 KiB (docs/performance.md, "Loading and cross-checking data").
            .page_size(16384)
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
            .connect_with(opts.clone())
            .await
            .map_err(db_err)?;
        let checkpointer = Checkpointer::start(opts).await?;
        Ok(Self {
            plane: std::sync::Arc::new(BackendDataPlane::new(writer.clone(), reader.clone())),
            writer,
            reader,
            checkpointer,
            open_epoch: Default::default(),
        })
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

    /// Closes the pools (the last connection checkpoints the WAL).
    pub async fn close(&self) {
        self.checkpointer.stop().await;
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
/// COL-2: the collation a column is declared with: SQLite's default, BINARY,
/// already compares text byte by byte.
fn collation(_: &gongshu_domain::dataset::Column) -> &'static str {
    ""
}
/// COL-2: appends a batch of dataset rows in one transaction, through SQLite's C
/// API on a blocking thread (see `bulk`), so the async workers stay free.
async fn bulk_append(
    pool: &sqlx::SqlitePool,
    table: &str,
    names: &[String],
    schema: &gongshu_domain::dataset::TableSchema,
    load: i64,
    rows: Vec<(i64, Vec<gongshu_domain::dataset::Value>)>,
) -> gongshu_store::StoreResult<()> {
    let insert = bulk::insert_statement(table, names);
    let columns = schema.columns.len();
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let runtime = tokio::runtime::Handle::current();
    // If the caller stops waiting, the batch still commits or rolls back here: its
    // rows land in a table that no version serves until the load completes.
    let appended = tokio::task::spawn_blocking(move || {
        let mut handle = runtime.block_on(conn.lock_handle()).map_err(db_err)?;
        let appended = bulk::append_rows(handle.as_raw_handle(), &insert, columns, load, &rows);
        let stuck = bulk::in_transaction(handle.as_raw_handle());
        drop(handle);
        if stuck {
            // Not even ROLLBACK ended the transaction: sqlx would not know of it, and
            // the next writer would fail or write into it. Let the pool open a new one.
            conn.close_on_drop();
        }
        appended.map_err(|e| {
            if e.is_constraint() {
                gongshu_store::StoreError::Conflict(e.message)
            } else {
                gongshu_store::StoreError::Database(e.message)
            }
        })
    })
    .await;
    appended
        .map_err(|e| gongshu_store::StoreError::Database(format!("bulk append stopped: {e}")))?
}

/// Statements around a load's index builds, before and after them. SQLite's
/// sorter keeps up to a page cache's worth of keys in memory per thread, so with
/// the writer's helper thread (`writer_tuning`) the cache is cut to 16 MiB while
/// the indexes are built: in the `sqlite3` shell, four indexes over 10 million rows
/// took 31–38 s with no helper and a 16–64 MiB cache, and 21–27 s with one helper
/// and 8–16 MiB, whose peak memory was smaller too (docs/performance.md).
const INDEX_BUILD_SETTINGS: (&[&str], &[&str]) = (
    &["PRAGMA cache_size = -16384"],
    &["PRAGMA cache_size = -65536"],
);

/// SQLite keeps dates as ISO text.
const DATES_AS_TEXT: bool = true;

/// COL-2: SQLite keeps a dataset table's rows in the order of its integer key, so
/// a table keyed by `_pos` (`row_position`) is in position order without an index
/// of its own, whose build took a tenth of a 10,000,000-row load
/// (docs/performance.md, "Loading and cross-checking data").
const ROWID_POSITIONS: bool = true;

/// How `table` orders its rows: by `_pos` if it has one (tables made before it
/// have a position index); None if there is no such table.
async fn table_row_order(pool: &DbPool, table: &str) -> StoreResult<Option<RowOrder>> {
    let (columns, pos): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE name = '_pos') FROM pragma_table_info($1)",
    )
    .bind(table)
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    Ok((columns > 0).then_some(if pos > 0 {
        RowOrder::Pos
    } else {
        RowOrder::PositionIndex
    }))
}

/// Most bind parameters one statement may carry.
const MAX_BIND_PARAMS: usize = 32766;

/// A page of a dataset table as one JSON text built inside SQLite, instead of a
/// row at a time: sqlx hands every SQLite row from its worker thread to the caller
/// through a channel, which cost more than the read itself for a download's pages
/// (docs/performance.md, "Open data portal"). REAL values go as 17-digit text,
/// since JSON numbers from SQLite keep only 15 digits and would alter the data.
async fn fetch_page(
    pool: &DbPool,
    table: &str,
    schema: &TableSchema,
    q: &RowQuery,
    order: RowOrder,
) -> StoreResult<Vec<StoredRow>> {
    let mut qb = page_json_query(table, schema, q, order)?;
    let text: String = qb
        .build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    page_from_json(&text, schema)
        .map_err(|e| StoreError::Database(format!("reading a page of {table}: {e}")))
}

/// GOV-2: SQLite joins by nested loops, so a comparison looks up one table's key
/// index once per row of the other. In row order those lookups land at random and
/// each row is then fetched by rowid (docs/performance.md, "Loading and
/// cross-checking data"). An index on (key, compared column) of each side lets the
/// join walk both in key order without reading the tables.
fn comparison_index(table: &str, key_column: &str, column: &str) -> StoreResult<Option<String>> {
    let name = comparison_index_name(table, column)?;
    Ok(Some(format!(
        "CREATE INDEX IF NOT EXISTS {name} ON {} ({}, {})",
        ident(table)?,
        ident(key_column)?,
        ident(column)?
    )))
}

/// The quoted name of a table's comparison index on `column`.
fn comparison_index_name(table: &str, column: &str) -> StoreResult<String> {
    // Both parts are checked identifiers; SQLite has no limit on the joined length.
    ident(table)?;
    ident(column)?;
    Ok(format!("\"{table}_cmp_{column}\""))
}

/// The `INDEXED BY` clauses that make a comparison walk both sides' comparison
/// indexes, when both exist on their tables. The other table is the outer one
/// (`CROSS JOIN` fixes the order in SQLite), so the list of differences comes in
/// its key order and stops at its limit.
async fn comparison_hints(
    pool: &DbPool,
    source: &ColumnRef,
    other: &ColumnRef,
) -> StoreResult<Option<JoinHints>> {
    let mut hints = Vec::with_capacity(2);
    for c in [source, other] {
        let name = comparison_index_name(&c.table, &c.column)?;
        let found: Option<String> = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1 AND tbl_name = $2",
        )
        .bind(name.trim_matches('"'))
        .bind(&c.table)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .flatten();
        // Only the index this backend built: on the key, then the column.
        let expected = format!("({}, {})", ident(&c.key_column)?, ident(&c.column)?);
        if !found.is_some_and(|sql| sql.ends_with(&expected)) {
            return Ok(None);
        }
        hints.push(format!(" INDEXED BY {name}"));
    }
    let other_hint = hints.pop().unwrap_or_default();
    let source_hint = hints.pop().unwrap_or_default();
    Ok(Some(JoinHints {
        source: source_hint,
        other: other_hint,
        join: "CROSS JOIN".into(),
    }))
}

/// The SQL of [`fetch_page`]: the page's SELECT wrapped in one `json_group_array`.
fn page_json_query<'q>(
    table: &str,
    schema: &TableSchema,
    q: &RowQuery,
    order: RowOrder,
) -> StoreResult<QueryBuilder<'q, Db>> {
    let mut values = Vec::with_capacity(schema.columns.len() + 2);
    for c in &schema.columns {
        let name = ident(&c.name)?;
        values.push(match c.field_type {
            FieldType::Number => format!(
                "CASE WHEN typeof({name}) = 'real' THEN printf('%!.17g', {name}) ELSE {name} END"
            ),
            _ => name,
        });
    }
    values.extend(["\"_load\"".to_string(), "\"_row\"".to_string()]);
    let mut qb = QueryBuilder::new(format!(
        "SELECT json_group_array(json_array({}) ORDER BY \"_load\", \"_row\") FROM (",
        values.join(", ")
    ));
    push_rows_query(&mut qb, table, schema, q, order)?;
    qb.push(")");
    Ok(qb)
}

/// The rows of a page read by [`fetch_page`], each value by its column's type.
fn page_from_json(text: &str, schema: &TableSchema) -> Result<Vec<StoredRow>, String> {
    let rows: Vec<Vec<serde_json::Value>> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    let n = schema.columns.len();
    rows.into_iter()
        .map(|row| {
            if row.len() != n + 2 {
                return Err(format!(
                    "{} values where {} were expected",
                    row.len(),
                    n + 2
                ));
            }
            let mut row = row.into_iter();
            let values = schema
                .columns
                .iter()
                .zip(row.by_ref())
                .map(|(c, v)| {
                    let shown = v.to_string();
                    stored_value(v, c.field_type).ok_or_else(|| {
                        format!("{}: {shown} is not a stored {:?}", c.name, c.field_type)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut position = row.map(|v| v.as_i64().ok_or("a row position is not an integer"));
            let load = position.next().ok_or("no _load")??;
            let row = position.next().ok_or("no _row")??;
            Ok(StoredRow { load, row, values })
        })
        .collect()
}

/// One value of a JSON page as its column's type; None if it cannot be one.
fn stored_value(v: serde_json::Value, field_type: FieldType) -> Option<Value> {
    use serde_json::Value as Json;
    Some(match (field_type, v) {
        (_, Json::Null) => Value::Null,
        (FieldType::String | FieldType::Binary, Json::String(s)) => Value::Text(s),
        (FieldType::String | FieldType::Binary, Json::Number(n)) => Value::Text(n.to_string()),
        (FieldType::Integer, Json::Number(n)) => Value::Integer(n.as_i64()?),
        (FieldType::Number, Json::String(s)) => Value::Number(s.parse().ok()?),
        (FieldType::Number, Json::Number(n)) => Value::Number(n.as_f64()?),
        (FieldType::Boolean, Json::Number(n)) => Value::Boolean(n.as_i64()? != 0),
        (FieldType::Date, Json::String(s)) => Value::Date(gongshu_domain::dataset::parse_date(&s)?),
        (FieldType::DateTime, Json::String(s)) => {
            Value::DateTime(gongshu_domain::dataset::parse_datetime(&s)?)
        }
        _ => return None,
    })
}

include!("../../store/shared_sql/backend.rs");

#[cfg(test)]
mod tests {
    use super::*;
    use gongshu_domain::catalog::{FieldType, KeyRole};
    use gongshu_domain::dataset::{Column, TableSchema};
    use gongshu_store::RowQuery;

    fn column(name: &str, field_type: FieldType) -> Column {
        Column {
            name: name.into(),
            title: name.into(),
            field_type,
            max_length: None,
            constraints: Default::default(),
            key_role: KeyRole::None,
            sensitive: false,
            item_key: String::new(),
        }
    }

    async fn memory_pool() -> DbPool {
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap()
    }

    /// A `citizen_id` column holding GB 11643 numbers, not the table's key.
    fn citizen_id_column() -> Column {
        let mut id = column("citizen_id", FieldType::String);
        id.key_role = KeyRole::CitizenId;
        id
    }

    /// One column of every field type.
    fn every_type_schema() -> TableSchema {
        TableSchema {
            columns: vec![
                column("t", FieldType::String),
                column("i", FieldType::Integer),
                column("n", FieldType::Number),
                column("b", FieldType::Boolean),
                column("d", FieldType::Date),
                column("dt", FieldType::DateTime),
            ],
            key: Vec::new(),
        }
    }

    /// A dataset table without indexes, typed and keyed by position as the store makes it.
    async fn create_plain_table(pool: &DbPool, table: &str, schema: &TableSchema) {
        let columns: Vec<String> = schema
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, sql_type(c.field_type)))
            .collect();
        let create = format!(
            "CREATE TABLE {table} ({}, \"_load\" BIGINT NOT NULL, \"_row\" BIGINT NOT NULL, \"_pos\" INTEGER PRIMARY KEY)",
            columns.join(", ")
        );
        sqlx::query(&create).execute(pool).await.unwrap();
    }

    /// Inserts rows one statement each, every value bound through sqlx.
    async fn insert_bound(
        pool: &DbPool,
        table: &str,
        schema: &TableSchema,
        load: i64,
        rows: &[(i64, Vec<Value>)],
    ) {
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        for (row, values) in rows {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "INSERT INTO {table} ({}, \"_load\", \"_row\", \"_pos\") ",
                names.join(", ")
            ));
            qb.push_values([values], |mut b, values| {
                for (c, v) in schema.columns.iter().zip(values) {
                    bind_value(&mut b, c.field_type, v);
                }
                b.push_bind(load)
                    .push_bind(*row)
                    .push_bind(row_position(load, *row).unwrap());
            });
            qb.build().execute(pool).await.unwrap();
        }
    }

    /// A page read as JSON gives back exactly what was written, value by value and
    /// type by type: a double keeps all 17 digits, a null stays null.
    #[tokio::test]
    async fn a_page_read_as_json_gives_back_every_value_unaltered() {
        let pool = memory_pool().await;
        let schema = every_type_schema();
        create_plain_table(&pool, "ds", &schema).await;
        let date = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let rows = vec![
            vec![
                Value::Text("张三, \"引号\"\n换行 [1]".into()),
                Value::Integer(i64::MIN),
                Value::Number(0.1 + 0.2),
                Value::Boolean(true),
                Value::Date(date),
                Value::DateTime(date.and_hms_micro_opt(23, 59, 58, 123_456).unwrap()),
            ],
            vec![
                Value::Text("12345".into()),
                Value::Integer(i64::MAX),
                Value::Number(-2.5e-8),
                Value::Boolean(false),
                Value::Null,
                Value::Null,
            ],
            vec![
                Value::Null,
                Value::Null,
                Value::Number(3.0),
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        ];
        let numbered: Vec<(i64, Vec<Value>)> = (1..).zip(rows.iter().cloned()).collect();
        insert_bound(&pool, "ds", &schema, 7, &numbered).await;
        let q = RowQuery {
            conditions: Vec::new(),
            after: Some((7, 1)),
            limit: 10,
        };
        let page = fetch_page(&pool, "ds", &schema, &q, RowOrder::Pos)
            .await
            .unwrap();
        let read: Vec<(i64, i64, Vec<Value>)> = page
            .into_iter()
            .map(|r| (r.load, r.row, r.values))
            .collect();
        assert_eq!(read, vec![(7, 2, rows[1].clone()), (7, 3, rows[2].clone())]);
        let everything = RowQuery {
            conditions: Vec::new(),
            after: None,
            limit: 10,
        };
        let page = fetch_page(&pool, "ds", &schema, &everything, RowOrder::Pos)
            .await
            .unwrap();
        assert_eq!(page.into_iter().map(|r| r.values).collect::<Vec<_>>(), rows);
        let none = RowQuery {
            conditions: Vec::new(),
            after: Some((7, 3)),
            limit: 10,
        };
        assert!(fetch_page(&pool, "ds", &schema, &none, RowOrder::Pos)
            .await
            .unwrap()
            .is_empty());
    }

    /// COL-2: the bulk path (SQLite's C API) stores every value exactly as binding it
    /// through sqlx does, type by type, so that reads cannot tell the two apart.
    #[tokio::test]
    async fn bulk_appended_rows_are_stored_exactly_as_sqlx_binds_them() {
        let pool = memory_pool().await;
        let schema = every_type_schema();
        let names: Vec<String> = schema.columns.iter().map(|c| c.name.clone()).collect();
        for table in ["bound", "bulk"] {
            create_plain_table(&pool, table, &schema).await;
        }
        let date = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        let rows: Vec<(i64, Vec<Value>)> = vec![
            (
                1,
                vec![
                    Value::Text("王𠀀, \"引号\"\n换行\0零".into()),
                    Value::Integer(-1),
                    Value::Number(1e300),
                    Value::Boolean(true),
                    Value::Date(date),
                    Value::DateTime(date.and_hms_nano_opt(0, 0, 0, 1).unwrap()),
                ],
            ),
            (
                2,
                vec![
                    Value::Text(String::new()),
                    Value::Integer(0),
                    Value::Number(-0.0),
                    Value::Boolean(false),
                    Value::Date(chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()),
                    Value::DateTime(date.and_hms_opt(12, 30, 0).unwrap()),
                ],
            ),
            (3, vec![Value::Null; 6]),
        ];
        insert_bound(&pool, "bound", &schema, 7, &rows).await;
        bulk_append(&pool, "bulk", &names, &schema, 7, rows.clone())
            .await
            .unwrap();
        let typed = "SELECT t, typeof(t), i, typeof(i), n, typeof(n), b, typeof(b), d, typeof(d), dt, typeof(dt), _load, _row, _pos FROM";
        for (a, b) in [("bound", "bulk"), ("bulk", "bound")] {
            let differing: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM ({typed} {a} EXCEPT {typed} {b})"
            ))
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(differing, 0, "rows of {a} missing from {b}");
        }
        let everything = RowQuery {
            conditions: Vec::new(),
            after: None,
            limit: 10,
        };
        let page = fetch_page(&pool, "bulk", &schema, &everything, RowOrder::Pos)
            .await
            .unwrap();
        let read: Vec<(i64, Vec<Value>)> = page.into_iter().map(|r| (r.row, r.values)).collect();
        assert_eq!(read, rows);
    }

    /// COL-2: a batch that fails half-way leaves none of its rows, and the writer
    /// connection goes on working.
    #[tokio::test]
    async fn a_bulk_batch_that_fails_half_way_leaves_nothing_and_the_connection_works() {
        let pool = memory_pool().await;
        let schema = TableSchema {
            columns: vec![column("k", FieldType::String)],
            key: vec![0],
        };
        create_plain_table(&pool, "ds", &schema).await;
        sqlx::query("CREATE UNIQUE INDEX ds_k ON ds (k)")
            .execute(&pool)
            .await
            .unwrap();
        let names = vec!["k".to_string()];
        let batch = |keys: &[&str]| -> Vec<(i64, Vec<Value>)> {
            keys.iter()
                .enumerate()
                .map(|(i, k)| (i as i64 + 1, vec![Value::Text(k.to_string())]))
                .collect()
        };
        let refused = bulk_append(
            &pool,
            "ds",
            &names,
            &schema,
            1,
            batch(&["a", "b", "a", "c"]),
        )
        .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        let count = |pool: DbPool| async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ds")
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        assert_eq!(count(pool.clone()).await, 0);
        bulk_append(&pool, "ds", &names, &schema, 2, batch(&["a", "b"]))
            .await
            .unwrap();
        assert_eq!(count(pool.clone()).await, 2);
        sqlx::query("INSERT INTO ds VALUES ('z', 3, 1, (3 << 32) | 1)")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(count(pool).await, 3);
    }

    /// COL-2: a batch whose COMMIT fails (here a deferred foreign key) is rolled
    /// back, and the writer connection is not left inside a transaction that
    /// sqlx does not know of: the next transaction begins and commits.
    #[tokio::test]
    async fn a_bulk_batch_whose_commit_fails_leaves_nothing_and_no_open_transaction() {
        let pool = memory_pool().await;
        for sql in [
            "PRAGMA foreign_keys = ON",
            "CREATE TABLE subjects (k TEXT PRIMARY KEY)",
            "CREATE TABLE ds (k TEXT REFERENCES subjects (k) DEFERRABLE INITIALLY DEFERRED, \"_load\" BIGINT NOT NULL, \"_row\" BIGINT NOT NULL, \"_pos\" INTEGER PRIMARY KEY)",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        let schema = TableSchema {
            columns: vec![column("k", FieldType::String)],
            key: Vec::new(),
        };
        let names = vec!["k".to_string()];
        let rows = vec![(1, vec![Value::Text("nobody".into())])];
        let refused = bulk_append(&pool, "ds", &names, &schema, 1, rows).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        let mut tx = pool.begin_with(BEGIN_WRITE).await.unwrap();
        sqlx::query("INSERT INTO subjects VALUES ('someone')")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let stored: (i64, i64) =
            sqlx::query_as("SELECT (SELECT COUNT(*) FROM ds), (SELECT COUNT(*) FROM subjects)")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(stored, (0, 1));
    }

    /// The tables a page of `fetch_page` reads: how SQLite plans the query of a
    /// page of `table` after the cursor (3, 5000).
    async fn page_reads(pool: &DbPool, table: &str, schema: &TableSchema) -> Vec<String> {
        let q = RowQuery {
            conditions: Vec::new(),
            after: Some((3, 5_000)),
            limit: 5_000,
        };
        let order = BackendDataPlane::new(pool.clone(), pool.clone())
            .row_order(table)
            .await
            .unwrap();
        // The query `fetch_page` runs: the page inside its JSON wrapper.
        let sql = page_json_query(table, schema, &q, order)
            .unwrap()
            .into_sql();
        let explain_sql = format!("EXPLAIN QUERY PLAN {sql}");
        let mut explain = sqlx::query_as(&explain_sql);
        explain = match order {
            RowOrder::PositionIndex => explain.bind(3).bind(5_000),
            RowOrder::Pos => explain.bind(position_cursor(3, 5_000)),
        };
        let plan: Vec<(i64, i64, i64, String)> = explain.bind(5_000).fetch_all(pool).await.unwrap();
        plan.into_iter()
            .map(|p| p.3)
            .filter(|d| d.contains(&format!(" {table} ")))
            .collect()
    }

    /// A download reads a table page by page after a cursor. The page after a cursor
    /// must seek the position index, not scan from the first row: a scan made a
    /// 10,000,000-row download quadratic (issue 6, docs/performance.md). Tables
    /// made before `_pos` have such an index, and are still read through it.
    #[tokio::test]
    async fn a_page_after_a_cursor_seeks_the_position_index() {
        let pool = memory_pool().await;
        let schema = TableSchema {
            columns: vec![column("name", FieldType::String)],
            key: Vec::new(),
        };
        for sql in [
            "CREATE TABLE ds (name TEXT, \"_load\" BIGINT NOT NULL, \"_row\" BIGINT NOT NULL)",
            "CREATE INDEX ds_pos ON ds (\"_load\", \"_row\")",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        assert_eq!(
            page_reads(&pool, "ds", &schema).await,
            ["SEARCH ds USING INDEX ds_pos ((_load,_row)>(?,?))"]
        );
    }

    /// COL-2: a table made by the store is keyed by `_pos`, has no position index,
    /// and a page after a cursor seeks its key.
    #[tokio::test]
    async fn col_2_a_page_after_a_cursor_seeks_the_position_key_of_a_table_without_a_position_index(
    ) {
        let pool = memory_pool().await;
        let plane = BackendDataPlane::new(pool.clone(), pool.clone());
        let schema = TableSchema {
            columns: vec![column("name", FieldType::String)],
            key: Vec::new(),
        };
        plane.create_table("ds", &schema, false).await.unwrap();
        plane.finish_table("ds", &schema, &[]).await.unwrap();
        let indexes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ds'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(indexes, 0);
        assert_eq!(
            page_reads(&pool, "ds", &schema).await,
            ["SEARCH ds USING INTEGER PRIMARY KEY (rowid>?)"]
        );
    }

    /// GOV-2, COL-2: a replace builds the cross-check's comparison index with the
    /// table's other indexes, and the identifier it leads with gets none of its own:
    /// a lookup by that identifier uses the comparison index.
    #[tokio::test]
    async fn gov_2_the_comparison_index_serves_the_identifier_it_leads_with() {
        let pool = memory_pool().await;
        let plane = BackendDataPlane::new(pool.clone(), pool.clone());
        let id = citizen_id_column();
        let mut employer = column("employer", FieldType::String);
        employer.key_role = KeyRole::CreditCode;
        let schema = TableSchema {
            columns: vec![id, column("name", FieldType::String), employer],
            key: Vec::new(),
        };
        plane.create_table("ds_w", &schema, false).await.unwrap();
        let text = |v: &str| Value::Text(v.into());
        let rows = vec![
            (1, vec![text("k2"), text("张敏"), text("e1")]),
            (2, vec![text("k1"), text("李娜"), text("e1")]),
        ];
        plane
            .write_rows("ds_w", &schema, 1, rows, RowWrite::Append)
            .await
            .unwrap();
        // The name is compared under both subject keys: the index takes the first,
        // and the credit code, which then leads none, keeps its own.
        let compared = [
            ("citizen_id".to_string(), "name".to_string()),
            ("employer".to_string(), "name".to_string()),
        ];
        let removed = plane
            .finish_table("ds_w", &schema, &compared)
            .await
            .unwrap();
        assert!(removed.is_empty());
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ds_w' ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(indexes, ["ds_w_2", "ds_w_cmp_name"]);
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as("EXPLAIN QUERY PLAN SELECT employer FROM ds_w WHERE citizen_id = 'k1'")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert!(
            plan.iter()
                .any(|(_, _, _, d)| d.contains("ds_w_cmp_name") && d.contains("citizen_id=?")),
            "{plan:?}"
        );
    }

    /// GOV-2: once both tables have their comparison index, a comparison walks the
    /// two indexes in key order and reads no table row, and it finds the same
    /// subjects and differences as the join without them (docs/performance.md).
    #[tokio::test]
    async fn gov_2_a_comparison_walks_both_comparison_indexes_with_the_same_findings() {
        let pool = memory_pool().await;
        let plane = BackendDataPlane::new(pool.clone(), pool.clone());
        let id = citizen_id_column();
        let schema = TableSchema {
            columns: vec![id, column("name", FieldType::String)],
            key: vec![0],
        };
        let text = |v: &str| Value::Text(v.into());
        // Keys out of row order on both sides; one subject on each side only; one
        // empty name on the other side, which is not compared.
        let source = [
            ("k3", "王伟"),
            ("k1", "李娜"),
            ("k2", "张敏"),
            ("k5", "陈静"),
        ];
        let other = [
            ("k2", "张敏"),
            ("k4", "赵磊"),
            ("k1", "李娜娜"),
            ("k5", ""),
            ("k3", "王二"),
        ];
        for (table, rows) in [("ds_s", &source[..]), ("ds_o", &other[..])] {
            plane.create_table(table, &schema, true).await.unwrap();
            let rows: Vec<(i64, Vec<Value>)> = rows
                .iter()
                .enumerate()
                .map(|(i, (k, n))| {
                    let name = if n.is_empty() { Value::Null } else { text(n) };
                    (i as i64 + 1, vec![text(k), name])
                })
                .collect();
            plane
                .write_rows(table, &schema, 1, rows, RowWrite::Append)
                .await
                .unwrap();
        }
        let side = |table: &str| ColumnRef {
            table: table.into(),
            key_column: "citizen_id".into(),
            column: "name".into(),
        };
        let (s, o) = (side("ds_s"), side("ds_o"));
        let without = plane.compare_columns(&s, &o, None, 10).await.unwrap();
        assert_eq!(comparison_hints(&pool, &s, &o).await.unwrap(), None);

        plane
            .index_for_comparison("ds_s", "citizen_id", "name")
            .await
            .unwrap();
        assert_eq!(
            comparison_hints(&pool, &s, &o).await.unwrap(),
            None,
            "only one side indexed"
        );
        plane
            .index_for_comparison("ds_o", "citizen_id", "name")
            .await
            .unwrap();
        plane
            .index_for_comparison("ds_o", "citizen_id", "name")
            .await
            .unwrap();
        let hints = comparison_hints(&pool, &s, &o).await.unwrap();
        assert!(hints.is_some());
        let queries = comparison_queries(&s, &o, false, hints).unwrap();
        for sql in [&queries.counts, &queries.list] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind(10)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            let steps: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
            assert_eq!(
                steps,
                [
                    "SCAN o USING COVERING INDEX ds_o_cmp_name",
                    "SEARCH s USING COVERING INDEX ds_s_cmp_name (citizen_id=?)"
                ],
                "in key order, no table read, no sort: {sql}"
            );
        }

        let with = plane.compare_columns(&s, &o, None, 10).await.unwrap();
        assert_eq!(with, without);
        assert_eq!(with.linked, 3);
        assert_eq!(with.differing_total, 2);
        let pair = |k: &str, a: &str, b: &str| (k.to_string(), a.to_string(), b.to_string());
        assert_eq!(
            with.differing,
            vec![pair("k1", "李娜", "李娜娜"), pair("k3", "王伟", "王二")]
        );
        let first = plane.compare_columns(&s, &o, None, 1).await.unwrap();
        assert_eq!(first.differing, vec![pair("k1", "李娜", "李娜娜")]);
        assert_eq!(first.differing_total, 2);
    }

    /// COL-2: an upsert's new version starts as a copy of the current one, which
    /// may be a table made before `_pos` (and still read through its position
    /// index). A replaced row moves to its new position, and the page after any
    /// cursor, even one no read handed out, holds exactly the rows after it in
    /// (`_load`, `_row`) order.
    #[tokio::test]
    async fn col_2_positions_follow_an_upsert_over_a_table_made_before_them() {
        let pool = memory_pool().await;
        let plane = BackendDataPlane::new(pool.clone(), pool.clone());
        let schema = TableSchema {
            columns: vec![column("k", FieldType::String)],
            key: vec![0],
        };
        for sql in [
            "CREATE TABLE ds_v1 (k TEXT, \"_load\" BIGINT NOT NULL, \"_row\" BIGINT NOT NULL)",
            "CREATE INDEX ds_v1_pos ON ds_v1 (\"_load\", \"_row\")",
            "INSERT INTO ds_v1 VALUES ('a', 1, 2), ('b', 1, 3), ('c', 1, 4)",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        plane.create_table("ds_v2", &schema, true).await.unwrap();
        let copied = plane.copy_rows("ds_v1", "ds_v2", &schema).await.unwrap();
        assert_eq!(copied, 3);
        let text = |k: &str| vec![Value::Text(k.to_string())];
        let upserted = plane
            .write_rows(
                "ds_v2",
                &schema,
                2,
                vec![(2, text("b")), (3, text("d"))],
                RowWrite::Upsert { delivered: &[true] },
            )
            .await
            .unwrap();
        assert_eq!(upserted, [2, 3]);
        assert_eq!(
            plane.row_order("ds_v1").await.unwrap(),
            RowOrder::PositionIndex
        );
        assert_eq!(plane.row_order("ds_v2").await.unwrap(), RowOrder::Pos);

        let read_from = |table: &'static str, after: Option<(i64, i64)>| {
            let plane = &plane;
            let schema = &schema;
            async move {
                let q = RowQuery {
                    conditions: Vec::new(),
                    after,
                    limit: 10,
                };
                let rows = plane.read_rows(table, schema, &q).await.unwrap();
                rows.into_iter()
                    .map(|r| (r.values[0].to_text(), r.load, r.row))
                    .collect::<Vec<_>>()
            }
        };
        let read = |after| read_from("ds_v2", after);
        let expected = |k: &str, load, row| (k.to_string(), load, row);
        // The version made before `_pos` reads through its position index.
        assert_eq!(
            read_from("ds_v1", Some((1, 2))).await,
            [expected("b", 1, 3), expected("c", 1, 4)]
        );
        let all = read(None).await;
        assert_eq!(
            all,
            [
                expected("a", 1, 2),
                expected("c", 1, 4),
                expected("b", 2, 2),
                expected("d", 2, 3)
            ]
        );
        for after in [
            (i64::MIN, i64::MIN),
            (-1, 0),
            (0, i64::MAX),
            (1, -7),
            (1, 2),
            (1, 3),
            (1, 4),
            (1, 1 << 32),
            (2, 2),
            (2, 3),
            (1 << 31, 0),
            (i64::MAX, i64::MIN),
        ] {
            let after_cursor: Vec<_> = all
                .iter()
                .filter(|(_, load, row)| (*load, *row) > after)
                .cloned()
                .collect();
            assert_eq!(read(Some(after)).await, after_cursor, "after {after:?}");
        }
    }

    /// COL-2: what the store remembers of a table's row order goes with the table:
    /// a version table made anew under a dropped one's name is read by its `_pos`.
    #[tokio::test]
    async fn col_2_a_table_made_anew_is_read_by_its_own_row_order() {
        let pool = memory_pool().await;
        let plane = BackendDataPlane::new(pool.clone(), pool.clone());
        let schema = TableSchema {
            columns: vec![column("k", FieldType::String)],
            key: Vec::new(),
        };
        sqlx::query(
            "CREATE TABLE ds (k TEXT, \"_load\" BIGINT NOT NULL, \"_row\" BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        assert_eq!(
            plane.row_order("ds").await.unwrap(),
            RowOrder::PositionIndex
        );
        plane.drop_table("ds").await.unwrap();
        plane.create_table("ds", &schema, false).await.unwrap();
        assert_eq!(plane.row_order("ds").await.unwrap(), RowOrder::Pos);
    }

    /// COL-2: a key repeated in a load fails the first index build; the writer keeps
    /// its settings and no open transaction through that and the second build.
    #[tokio::test]
    async fn col_2_index_builds_leave_the_writer_as_they_found_it_even_when_one_fails() {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(writer_tuning(opts))
            .await
            .unwrap();
        let plane = BackendDataPlane::new(pool.clone(), pool.clone());
        let schema = TableSchema {
            columns: vec![column("k", FieldType::String)],
            key: vec![0],
        };
        plane.create_table("ds_k", &schema, false).await.unwrap();
        let rows = ["a", "b", "a"]
            .iter()
            .enumerate()
            .map(|(i, k)| (i as i64 + 1, vec![Value::Text(k.to_string())]))
            .collect();
        plane
            .write_rows("ds_k", &schema, 1, rows, RowWrite::Append)
            .await
            .unwrap();
        let removed = plane.finish_table("ds_k", &schema, &[]).await.unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].row, 3);
        let cache: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(cache, -65536);
        let mut tx = pool.begin_with(BEGIN_WRITE).await.unwrap();
        sqlx::query("INSERT INTO ds_k (k, \"_load\", \"_row\") VALUES ('c', 1, 4)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    #[test]
    fn dates_are_written_as_iso_text_whatever_their_digits() {
        let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for date in [
            d(1000, 1, 2),
            d(2024, 2, 29),
            d(9999, 12, 31),
            d(33, 7, 4),
            d(12345, 1, 1),
        ] {
            assert_eq!(iso_date(&date), date.format("%Y-%m-%d").to_string());
        }
    }

    /// Committed pages reach the database file while the store stays open, though
    /// the writer's own checkpoint waits for `WRITER_CHECKPOINT_PAGES`.
    #[tokio::test]
    async fn committed_pages_are_copied_into_the_database_file_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let store = SqliteStore::open(&path).await.unwrap();
        sqlx::query("CREATE TABLE filler (b BLOB)")
            .execute(&store.writer)
            .await
            .unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        // About 4 MiB of blobs, a few hundred pages: far below the writer's threshold.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1024)
             INSERT INTO filler SELECT randomblob(4096) FROM n",
        )
        .execute(&store.writer)
        .await
        .unwrap();
        let mut after = before;
        // Checkpoints come every 500 ms; a slow disk gets up to 30 s.
        for _ in 0..300 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            after = std::fs::metadata(&path).unwrap().len();
            if after >= before + 4 * 1024 * 1024 {
                break;
            }
        }
        assert!(
            after >= before + 4 * 1024 * 1024,
            "the database file grew from {before} to {after} bytes"
        );
        store.close().await;
    }
}
