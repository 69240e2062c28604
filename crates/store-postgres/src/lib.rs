//! The PostgreSQL backend of the Store port, for larger deployments and several
//! `gongshu serve` nodes on one database (jobs claimed with FOR UPDATE SKIP LOCKED).
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

type Db = sqlx::Postgres;
const BACKEND: &str = "postgres";
// The head row lock orders appends from every node into one chain.
const LOCK_AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
const LOCK_AUDIT_INDEX_MARK: &str = "SELECT upto_seq FROM audit_index_mark WHERE id = 1 FOR UPDATE";
const BEGIN_WRITE: &str = "BEGIN";

/// The PostgreSQL store.
pub struct PgStore {
    writer: PgPool,
    reader: PgPool,
    /// Commits that changed the open catalog or a key (`Store::open_catalog_epoch`).
    open_epoch: std::sync::atomic::AtomicU64,
    /// The one data plane of the store: its writes and reads share what it knows of tables.
    plane: std::sync::Arc<BackendDataPlane>,
}

type BackendStore = PgStore;

impl PgStore {
    /// Connects to `url`; with `schema`, creates it if needed and works only inside it
    /// (tests use a fresh uuid-named schema each).
    pub async fn open(url: &str, schema: Option<&str>) -> gongshu_store::StoreResult<Self> {
        let mut opts = PgConnectOptions::from_str(url).map_err(db_err)?;
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(gongshu_store::StoreError::Database(format!(
                    "invalid schema name {schema}"
                )));
            }
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await
                .map_err(db_err)?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&admin)
                .await
                .map_err(db_err)?;
            admin.close().await;
            opts = opts.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(opts)
            .await
            .map_err(db_err)?;
        Ok(Self {
            plane: std::sync::Arc::new(BackendDataPlane::new(pool.clone(), pool.clone())),
            writer: pool.clone(),
            reader: pool,
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
    ) -> gongshu_store::StoreResult<Option<sqlx::postgres::PgRow>> {
        sqlx::query(
            "UPDATE jobs SET status = 'running', claimed_by = $1, claimed_at = $2, attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $2 ORDER BY run_at, id
                         LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING *",
        )
        .bind(worker)
        .bind(now)
        .fetch_optional(&self.writer)
        .await
        .map_err(db_err)
    }

    /// Drops a schema made for a test.
    pub async fn drop_schema(url: &str, schema: &str) -> gongshu_store::StoreResult<()> {
        let opts = PgConnectOptions::from_str(url).map_err(db_err)?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(db_err)?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&admin)
            .await
            .map_err(db_err)?;
        admin.close().await;
        Ok(())
    }

    pub async fn close(&self) {
        self.writer.close().await;
    }
}

/// COL-2: the column type a data item's values are stored as.
fn sql_type(t: gongshu_domain::catalog::FieldType) -> &'static str {
    use gongshu_domain::catalog::FieldType;
    match t {
        FieldType::String => "TEXT",
        FieldType::Binary => "TEXT",
        FieldType::Integer => "BIGINT",
        FieldType::Number => "DOUBLE PRECISION",
        FieldType::Boolean => "BOOLEAN",
        FieldType::Date => "DATE",
        FieldType::DateTime => "TIMESTAMP",
    }
}
/// COL-2: the collation a column is declared with. A checked identifier holds
/// ASCII digits and capitals only (COL-3), which byte order sorts as the
/// database's collation would. Under `C`, PostgreSQL compares them with memcmp
/// and abbreviated keys when it builds their index; under the database's
/// collation it calls `strcoll` for every comparison (docs/performance.md).
fn collation(c: &gongshu_domain::dataset::Column) -> &'static str {
    if c.identifies() && c.field_type == gongshu_domain::catalog::FieldType::String {
        " COLLATE \"C\""
    } else {
        ""
    }
}
/// COL-2: appends a batch of dataset rows with COPY … FROM STDIN (CSV), which
/// PostgreSQL takes several times faster than INSERTs.
async fn bulk_append(
    pool: &PgPool,
    table: &str,
    names: &[String],
    _schema: &gongshu_domain::dataset::TableSchema,
    load: i64,
    rows: Vec<(i64, Vec<gongshu_domain::dataset::Value>)>,
) -> gongshu_store::StoreResult<()> {
    use gongshu_domain::dataset::Value;
    use std::fmt::Write as _;
    // Written in place: a load formats tens of millions of values.
    let mut buf = String::with_capacity(rows.len() * 128);
    for (row, values) in &rows {
        for v in values {
            // Writing to a String cannot fail.
            match v {
                // Unquoted empty is NULL in COPY's CSV; a quoted "" is the empty string.
                Value::Null => {}
                Value::Text(t) => {
                    buf.push('"');
                    let mut parts = t.split('"');
                    buf.push_str(parts.next().unwrap_or_default());
                    for part in parts {
                        buf.push_str("\"\"");
                        buf.push_str(part);
                    }
                    buf.push('"');
                }
                Value::Integer(i) => _ = write!(buf, "{i}"),
                Value::Number(n) => _ = write!(buf, "{n}"),
                Value::Boolean(b) => buf.push_str(if *b { "true" } else { "false" }),
                Value::Date(d) => buf.push_str(&iso_date(d)),
                Value::DateTime(t) => _ = write!(buf, "{}", t.format("%Y-%m-%d %H:%M:%S%.f")),
            }
            buf.push(',');
        }
        let _ = writeln!(buf, "{load},{row}");
    }
    let sql = format!(
        "COPY {table} ({}, \"_load\", \"_row\") FROM STDIN WITH (FORMAT csv)",
        names.join(", ")
    );
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let mut copy = conn.copy_in_raw(&sql).await.map_err(db_err)?;
    if let Err(e) = copy.send(buf.into_bytes()).await {
        let _ = copy.abort(e.to_string()).await;
        return Err(db_err(e));
    }
    copy.finish().await.map_err(db_err)?;
    Ok(())
}

/// PostgreSQL sizes its sorts by `maintenance_work_mem`: nothing to set per build.
const INDEX_BUILD_SETTINGS: (&[&str], &[&str]) = (&[], &[]);

/// PostgreSQL binds dates as DATE.
const DATES_AS_TEXT: bool = false;

/// Most bind parameters one statement may carry.
const MAX_BIND_PARAMS: usize = 65535;

/// PostgreSQL's tables have a position index: their rows have no order of their own.
const ROWID_POSITIONS: bool = false;

/// How `table` orders its rows: by its position index.
async fn table_row_order(_pool: &DbPool, _table: &str) -> StoreResult<Option<RowOrder>> {
    Ok(Some(RowOrder::PositionIndex))
}

/// A page of a dataset table: the PostgreSQL driver hands rows over cheaply, so
/// row by row.
async fn fetch_page(
    pool: &DbPool,
    table: &str,
    schema: &TableSchema,
    q: &RowQuery,
    order: RowOrder,
) -> StoreResult<Vec<StoredRow>> {
    fetch_page_by_rows(pool, table, schema, q, order).await
}

/// GOV-2: PostgreSQL compares two tables by hash join, which needs no index.
fn comparison_index(_table: &str, _key_column: &str, _column: &str) -> StoreResult<Option<String>> {
    Ok(None)
}

/// No index hints: PostgreSQL's planner has no `INDEXED BY`.
async fn comparison_hints(
    _pool: &DbPool,
    _source: &ColumnRef,
    _other: &ColumnRef,
) -> StoreResult<Option<JoinHints>> {
    Ok(None)
}

include!("../../store/shared_sql/backend.rs");

#[cfg(test)]
mod tests {
    use super::*;
    use gongshu_domain::catalog::{FieldType, KeyRole};
    use gongshu_domain::dataset::{Column, TableSchema, Value};
    use gongshu_store::{ColumnRef, DataPlane, RowReader};

    const PG_ENV: &str = "GONGSHU_TEST_DATABASE_URL";

    fn column(name: &str, field_type: FieldType, key_role: KeyRole) -> Column {
        Column {
            name: name.into(),
            title: name.into(),
            field_type,
            max_length: None,
            constraints: Default::default(),
            key_role,
            sensitive: false,
            item_key: String::new(),
        }
    }

    /// The platform's own database URL takes libpq's `sslmode`: with `require`
    /// every connection of the store is encrypted, or the store does not open.
    #[tokio::test]
    async fn the_store_connects_over_tls_when_the_url_requires_it() {
        let Ok(url) = std::env::var(PG_ENV) else {
            eprintln!("{PG_ENV} is unset: this PostgreSQL test did not run");
            return;
        };
        let separator = if url.contains('?') { '&' } else { '?' };
        let schema_name = format!("t_tls_{}", std::process::id());
        let opened = PgStore::open(
            &format!("{url}{separator}sslmode=require"),
            Some(&schema_name),
        )
        .await;
        let plain = PgStore::open(
            &format!("{url}{separator}sslmode=disable"),
            Some(&schema_name),
        )
        .await
        .unwrap();
        let server_ssl: String = sqlx::query_scalar("SHOW ssl")
            .fetch_one(&plain.reader)
            .await
            .unwrap();
        let encrypted = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
        let plain_ssl: bool = sqlx::query_scalar(encrypted)
            .fetch_one(&plain.writer)
            .await
            .unwrap();
        assert!(!plain_ssl);
        match opened {
            Ok(store) => {
                assert_eq!(server_ssl, "on");
                for pool in [&store.writer, &store.reader] {
                    let ssl: bool = sqlx::query_scalar(encrypted).fetch_one(pool).await.unwrap();
                    assert!(ssl);
                }
            }
            Err(e) => assert_eq!(server_ssl, "off", "{e}"),
        }
        PgStore::drop_schema(&url, &schema_name).await.unwrap();
    }

    /// COL-2, GOV-2: identifier columns are declared `COLLATE "C"`, every other
    /// column keeps the database's collation, and a table made that way still
    /// joins, in both directions, and copies from a table made before it, whose
    /// identifiers carry the database's collation.
    #[tokio::test]
    async fn col_2_identifier_columns_compare_bytewise_and_still_meet_older_tables() {
        let Ok(url) = std::env::var(PG_ENV) else {
            eprintln!("{PG_ENV} is unset: this PostgreSQL test did not run");
            return;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let schema_name = format!("t_collation_{}_{nanos}", std::process::id());
        let store = PgStore::open(&url, Some(&schema_name)).await.unwrap();
        let plane = store.plane.clone();
        let schema = TableSchema {
            columns: vec![
                column("citizen_id", FieldType::String, KeyRole::CitizenId),
                column("name", FieldType::String, KeyRole::None),
                column("division", FieldType::String, KeyRole::DivisionCode),
                column("seq", FieldType::Integer, KeyRole::None),
            ],
            key: vec![0],
        };
        plane.create_table("ds_new", &schema, true).await.unwrap();
        let collations: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT column_name::TEXT, collation_name::TEXT FROM information_schema.columns
             WHERE table_schema = $1 AND table_name = 'ds_new' ORDER BY ordinal_position",
        )
        .bind(&schema_name)
        .fetch_all(&store.reader)
        .await
        .unwrap();
        let declared = |c: &str| Some(c.to_string());
        assert_eq!(
            collations,
            [
                ("citizen_id".into(), declared("C")),
                ("name".into(), None),
                ("division".into(), declared("C")),
                ("seq".into(), None),
                ("_load".into(), None),
                ("_row".into(), None),
            ]
        );

        // As every release before this one made a dataset table.
        sqlx::query(
            "CREATE TABLE ds_old (citizen_id TEXT, name TEXT, division TEXT, seq BIGINT,
             \"_load\" BIGINT NOT NULL, \"_row\" BIGINT NOT NULL)",
        )
        .execute(&store.writer)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO ds_old VALUES
             ('11010519491231002X', '王伟', '110105', 1, 1, 1),
             ('110101199003074477', '李娜', '110101', 2, 1, 2),
             ('440301198001010018', '张敏', '440301', 3, 1, 3)",
        )
        .execute(&store.writer)
        .await
        .unwrap();
        let text = |v: &str| Value::Text(v.into());
        let rows = [
            ("440301198001010018", "张敏"),
            ("110101199003074477", "李娜娜"),
            ("11010519491231002X", "王二"),
            ("320102198506150011", "陈静"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            (
                i as i64 + 1,
                vec![
                    text(id),
                    text(name),
                    text("110101"),
                    Value::Integer(i as i64),
                ],
            )
        })
        .collect();
        plane
            .write_rows("ds_new", &schema, 2, rows, RowWrite::Append)
            .await
            .unwrap();

        let side = |table: &str| ColumnRef {
            table: table.into(),
            key_column: "citizen_id".into(),
            column: "name".into(),
        };
        let pair = |k: &str, a: &str, b: &str| (k.to_string(), a.to_string(), b.to_string());
        let new_first = plane
            .compare_columns(&side("ds_new"), &side("ds_old"), None, 10)
            .await
            .unwrap();
        assert_eq!((new_first.linked, new_first.differing_total), (3, 2));
        assert_eq!(
            new_first.differing,
            [
                pair("110101199003074477", "李娜娜", "李娜"),
                pair("11010519491231002X", "王二", "王伟")
            ]
        );
        let old_first = plane
            .compare_columns(&side("ds_old"), &side("ds_new"), None, 10)
            .await
            .unwrap();
        assert_eq!((old_first.linked, old_first.differing_total), (3, 2));
        assert_eq!(
            old_first.differing[0],
            pair("110101199003074477", "李娜", "李娜娜")
        );

        plane.create_table("ds_copy", &schema, false).await.unwrap();
        assert_eq!(
            plane.copy_rows("ds_old", "ds_copy", &schema).await.unwrap(),
            3
        );
        let joined: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM ds_copy c JOIN ds_new n ON n.citizen_id = c.citizen_id AND n.division = c.division",
        )
        .fetch_one(&store.reader)
        .await
        .unwrap();
        assert_eq!(
            joined, 1,
            "only 李娜's row has division 110101 on both sides"
        );

        store.close().await;
        PgStore::drop_schema(&url, &schema_name).await.unwrap();
    }
}
