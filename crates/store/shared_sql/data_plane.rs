// COL-2: the data plane shared by both store backends, `include!`d by backend.rs.
// Each backend defines `sql_type(FieldType)` (column types), `MAX_BIND_PARAMS`, and
// `ROWID_POSITIONS`, whether its dataset tables are keyed by position (`_pos`).
// Dataset tables are named and typed by the platform, never by the caller: every
// identifier passes `ident` before it reaches SQL.

use gongshu_domain::catalog::FieldType;
use gongshu_domain::dataset::{CellError, LoadTally, QualityScores, TableSchema, Value};

/// A table or column name as dataset tables use them: lower-case ASCII letters,
/// digits and `_`, quoted.
fn ident(name: &str) -> StoreResult<String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(format!("\"{name}\""))
    } else {
        Err(StoreError::Database(format!("invalid dataset identifier {name:?}")))
    }
}

/// COL-2: how a dataset table finds its rows in position order (`_load`, `_row`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowOrder {
    /// An index on (`_load`, `_row`): PostgreSQL's tables, and SQLite's made before `_pos`.
    PositionIndex,
    /// The table's own key `_pos`, which [`row_position`] encodes (`ROWID_POSITIONS`).
    #[allow(dead_code)] // PostgreSQL's tables have none
    Pos,
}

/// COL-2: a row's `_pos` where tables are keyed by position: the load in the high
/// 32 bits, the row in the low ones, so that the key's order is (`_load`, `_row`).
/// None for a load or a row past what that can hold.
fn row_position(load: i64, row: i64) -> Option<i64> {
    ((0..1_i64 << 31).contains(&load) && (0..1_i64 << 32).contains(&row)).then_some((load << 32) | row)
}

/// Why a row has no [`row_position`].
fn past_positions(load: i64, row: i64) -> String {
    format!("第 {load} 版第 {row} 行超出数据表可记录的位置 / row {row} of version {load} is past the positions a table can hold")
}

/// [`row_position`], or why a row cannot have one.
fn position_of(load: i64, row: i64) -> StoreResult<i64> {
    row_position(load, row).ok_or_else(|| StoreError::Database(past_positions(load, row)))
}

/// The greatest `_pos` of a row at or before the cursor (`load`, `row`) of a read:
/// the rows after it are the rows after the cursor, whatever the cursor holds.
fn position_cursor(load: i64, row: i64) -> i64 {
    if load < 0 {
        -1
    } else if load >= 1 << 31 {
        i64::MAX
    } else {
        (load << 32) + row.clamp(-1, (1 << 32) - 1)
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialises")
}

fn json_from<T: serde::de::DeserializeOwned>(text: Option<String>) -> Result<Option<T>, sqlx::Error> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .transpose()
}

fn dataset_from(r: &DbRow) -> Result<Dataset, sqlx::Error> {
    Ok(Dataset {
        resource_id: r.try_get("resource_id")?,
        org_id: r.try_get("org_id")?,
        policy: r.try_get("policy")?,
        schema: json_from(Some(r.try_get("schema_json")?))?.expect("present"),
        version: r.try_get("version")?,
        current_load_id: r.try_get("current_load_id")?,
        current_table: r.try_get("current_table")?,
        previous_table: r.try_get("previous_table")?,
        previous_load_id: r.try_get("previous_load_id")?,
        row_count: r.try_get("row_count")?,
        last_loaded_at: r.try_get("last_loaded_at")?,
        updated_at: r.try_get("updated_at")?,
        secrecy_review: json_from(r.try_get("secrecy_review_json")?)?,
    })
}

fn load_from(r: &DbRow) -> Result<DatasetLoad, sqlx::Error> {
    Ok(DatasetLoad {
        id: r.try_get("id")?,
        resource_id: r.try_get("resource_id")?,
        org_id: r.try_get("org_id")?,
        version: r.try_get("version")?,
        mode: r.try_get("mode")?,
        channel: r.try_get("channel")?,
        status: r.try_get("status")?,
        table_name: r.try_get("table_name")?,
        file_name: r.try_get("file_name")?,
        format: r.try_get("format")?,
        encoding: r.try_get("encoding")?,
        bytes: r.try_get("bytes")?,
        checksum: r.try_get("checksum")?,
        idempotency_key: r.try_get("idempotency_key")?,
        filing_no: r.try_get("filing_no")?,
        filing_note: r.try_get("filing_note")?,
        rows_read: r.try_get("rows_read")?,
        rows_accepted: r.try_get("rows_accepted")?,
        rows_rejected: r.try_get("rows_rejected")?,
        tally: json_from::<LoadTally>(r.try_get("tally")?)?,
        quality: json_from::<QualityScores>(r.try_get("quality")?)?,
        error_code: r.try_get("error_code")?,
        error: r.try_get("error")?,
        loaded_by: r.try_get("loaded_by")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

fn reject_from(r: &DbRow) -> Result<RejectedRow, sqlx::Error> {
    Ok(RejectedRow {
        load_id: r.try_get("load_id")?,
        row_number: r.try_get("row_number")?,
        raw: json_from::<Vec<String>>(Some(r.try_get("raw")?))?.unwrap_or_default(),
        errors: json_from::<Vec<CellError>>(Some(r.try_get("errors")?))?.unwrap_or_default(),
    })
}

fn base_attribute_from(r: &DbRow) -> Result<BaseAttribute, sqlx::Error> {
    Ok(BaseAttribute {
        base: r.try_get("base")?,
        attribute: r.try_get("attribute")?,
        label: r.try_get("label")?,
        source_org_id: r.try_get("source_org_id")?,
        resource_id: r.try_get("resource_id")?,
        column_name: r.try_get("column_name")?,
        built_at: r.try_get("built_at")?,
        built_by: r.try_get("built_by")?,
    })
}

fn discrepancy_from(r: &DbRow) -> Result<Discrepancy, sqlx::Error> {
    Ok(Discrepancy {
        id: r.try_get("id")?,
        base: r.try_get("base")?,
        subject_key: r.try_get("subject_key")?,
        attribute: r.try_get("attribute")?,
        label: r.try_get("label")?,
        source_org_id: r.try_get("source_org_id")?,
        source_resource_id: r.try_get("source_resource_id")?,
        source_value: r.try_get("source_value")?,
        other_org_id: r.try_get("other_org_id")?,
        other_resource_id: r.try_get("other_resource_id")?,
        other_value: r.try_get("other_value")?,
        status: r.try_get("status")?,
        found_at: r.try_get("found_at")?,
        due: r.try_get("due")?,
        overdue_since: r.try_get("overdue_since")?,
        resolution: r.try_get("resolution")?,
        resolved_by: r.try_get("resolved_by")?,
        resolved_at: r.try_get("resolved_at")?,
    })
}

async fn apply_data_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        Change::PutLoad(l) => {
            sqlx::query(
                "INSERT INTO dataset_loads (id, resource_id, org_id, version, mode, channel, status, table_name,
                 file_name, format, encoding, bytes, checksum, idempotency_key, filing_no, filing_note, rows_read,
                 rows_accepted, rows_rejected, tally, quality, error_code, error, loaded_by, started_at, finished_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                 $21, $22, $23, $24, $25, $26)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, format = excluded.format,
                 encoding = excluded.encoding, bytes = excluded.bytes, checksum = excluded.checksum,
                 rows_read = excluded.rows_read, rows_accepted = excluded.rows_accepted,
                 rows_rejected = excluded.rows_rejected, tally = excluded.tally, quality = excluded.quality,
                 error_code = excluded.error_code, error = excluded.error, finished_at = excluded.finished_at,
                 idempotency_key = excluded.idempotency_key",
            )
            .bind(l.id)
            .bind(l.resource_id)
            .bind(l.org_id)
            .bind(l.version)
            .bind(l.mode)
            .bind(l.channel)
            .bind(l.status)
            .bind(l.table_name)
            .bind(l.file_name)
            .bind(l.format)
            .bind(l.encoding)
            .bind(l.bytes)
            .bind(l.checksum)
            .bind(l.idempotency_key)
            .bind(l.filing_no)
            .bind(l.filing_note)
            .bind(l.rows_read)
            .bind(l.rows_accepted)
            .bind(l.rows_rejected)
            .bind(l.tally.as_ref().map(json_text))
            .bind(l.quality.as_ref().map(json_text))
            .bind(l.error_code)
            .bind(l.error)
            .bind(l.loaded_by)
            .bind(l.started_at)
            .bind(l.finished_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutDataset { dataset: d, expected_version } => {
            let id = d.resource_id.clone();
            let q = match expected_version {
                None => sqlx::query(
                    "INSERT INTO datasets (resource_id, org_id, policy, schema_json, version, current_load_id,
                     current_table, previous_table, previous_load_id, row_count, last_loaded_at, updated_at,
                     secrecy_review_json)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14)",
                ),
                Some(_) => sqlx::query(
                    "UPDATE datasets SET org_id = $2, policy = $3, schema_json = $4, version = $5,
                     current_load_id = $6, current_table = $7, previous_table = $8, previous_load_id = $9,
                     row_count = $10, last_loaded_at = $11, updated_at = $12, secrecy_review_json = $14
                     WHERE resource_id = $1 AND version = $13",
                ),
            };
            let done = q
                .bind(d.resource_id)
                .bind(d.org_id)
                .bind(d.policy)
                .bind(json_text(&d.schema))
                .bind(d.version)
                .bind(d.current_load_id)
                .bind(d.current_table)
                .bind(d.previous_table)
                .bind(d.previous_load_id)
                .bind(d.row_count)
                .bind(d.last_loaded_at)
                .bind(d.updated_at)
                .bind(expected_version.unwrap_or(0))
                .bind(d.secrecy_review.as_ref().map(json_text))
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("dataset {id} (changed meanwhile)")));
            }
        }
        Change::SetCatalogMounted { entry_id, mounted } => {
            sqlx::query("UPDATE catalog_entries SET mounted = $2 WHERE id = $1")
                .bind(entry_id)
                .bind(mounted)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Change::ReplaceBaseAttributes { base, attributes } => {
            sqlx::query("DELETE FROM base_attributes WHERE base = $1")
                .bind(&base)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            for a in attributes {
                sqlx::query(
                    "INSERT INTO base_attributes (base, attribute, label, source_org_id, resource_id, column_name,
                     built_at, built_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(a.base)
                .bind(a.attribute)
                .bind(a.label)
                .bind(a.source_org_id)
                .bind(a.resource_id)
                .bind(a.column_name)
                .bind(a.built_at)
                .bind(a.built_by)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
        }
        Change::InsertDiscrepancies(list) => {
            for d in list {
                sqlx::query(
                    "INSERT INTO discrepancies (base, subject_key, attribute, label, source_org_id, source_resource_id,
                     source_value, other_org_id, other_resource_id, other_value, status, found_at, due)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                     ON CONFLICT (subject_key, attribute, other_resource_id) WHERE status = 'open' DO NOTHING",
                )
                .bind(d.base)
                .bind(d.subject_key)
                .bind(d.attribute)
                .bind(d.label)
                .bind(d.source_org_id)
                .bind(d.source_resource_id)
                .bind(d.source_value)
                .bind(d.other_org_id)
                .bind(d.other_resource_id)
                .bind(d.other_value)
                .bind(d.status)
                .bind(d.found_at)
                .bind(d.due)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
        }
        Change::UpdateDiscrepancy(d) => {
            sqlx::query(
                "UPDATE discrepancies SET status = $2, overdue_since = $3, resolution = $4, resolved_by = $5,
                 resolved_at = $6, source_value = $7, other_value = $8 WHERE id = $1",
            )
            .bind(d.id)
            .bind(d.status)
            .bind(d.overdue_since)
            .bind(d.resolution)
            .bind(d.resolved_by)
            .bind(d.resolved_at)
            .bind(d.source_value)
            .bind(d.other_value)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutSource(src) => {
            sqlx::query(
                "INSERT INTO dataset_sources (resource_id, org_id, config, sealed_secret, scheduled, next_pull_at,
                 last_pull_at, last_load_id, last_status, last_error, updated_by, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (resource_id) DO UPDATE SET org_id = excluded.org_id, config = excluded.config,
                 sealed_secret = excluded.sealed_secret, scheduled = excluded.scheduled,
                 next_pull_at = excluded.next_pull_at, last_pull_at = excluded.last_pull_at,
                 last_load_id = excluded.last_load_id, last_status = excluded.last_status,
                 last_error = excluded.last_error, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(src.resource_id)
            .bind(src.org_id)
            .bind(json_text(&src.config))
            .bind(src.sealed_secret)
            .bind(src.scheduled)
            .bind(src.next_pull_at)
            .bind(src.last_pull_at)
            .bind(src.last_load_id)
            .bind(src.last_status)
            .bind(src.last_error)
            .bind(src.updated_by)
            .bind(src.updated_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutQualitySnapshots(list) => {
            for q in list {
                sqlx::query(
                    "INSERT INTO quality_snapshots (scope, subject_id, day, org_id, resources, row_count, scores,
                     recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (scope, subject_id, day) DO UPDATE SET org_id = excluded.org_id,
                     resources = excluded.resources, row_count = excluded.row_count, scores = excluded.scores,
                     recorded_at = excluded.recorded_at",
                )
                .bind(q.scope)
                .bind(q.subject_id)
                .bind(q.day)
                .bind(q.org_id)
                .bind(q.resources)
                .bind(q.rows)
                .bind(json_text(&q.scores))
                .bind(q.recorded_at)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
        }
        other => unreachable!("not a data-plane change: {other:?}"),
    }
    Ok(())
}

fn quality_snapshot_from(r: &DbRow) -> Result<QualitySnapshot, sqlx::Error> {
    Ok(QualitySnapshot {
        day: r.try_get("day")?,
        scope: r.try_get("scope")?,
        subject_id: r.try_get("subject_id")?,
        org_id: r.try_get("org_id")?,
        resources: r.try_get("resources")?,
        rows: r.try_get("row_count")?,
        scores: json_from(Some(r.try_get("scores")?))?.unwrap_or_default(),
        recorded_at: r.try_get("recorded_at")?,
    })
}

fn source_from(r: &DbRow) -> Result<DatasetSource, sqlx::Error> {
    Ok(DatasetSource {
        resource_id: r.try_get("resource_id")?,
        org_id: r.try_get("org_id")?,
        config: json_from(Some(r.try_get("config")?))?.unwrap_or_default(),
        sealed_secret: r.try_get("sealed_secret")?,
        scheduled: r.try_get("scheduled")?,
        next_pull_at: r.try_get("next_pull_at")?,
        last_pull_at: r.try_get("last_pull_at")?,
        last_load_id: r.try_get("last_load_id")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The indexes of a dataset table: its position, its unique key, its identifiers,
/// and the comparison indexes of the `compared` (key column, column) pairs.
fn index_statements(table: &str, schema: &TableSchema, compared: &[(String, String)]) -> StoreResult<Vec<String>> {
    let t = ident(table)?;
    let mut statements = Vec::new();
    if !ROWID_POSITIONS {
        statements.push(format!("CREATE INDEX {} ON {t} (\"_load\", \"_row\")", ident(&format!("{table}_pos"))?));
    }
    if !schema.key.is_empty() {
        let keys: Vec<String> = schema.key_columns().iter().map(|c| ident(c)).collect::<Result<_, _>>()?;
        statements.push(format!("CREATE UNIQUE INDEX {} ON {t} ({})", ident(&format!("{table}_key"))?, keys.join(", ")));
    }
    let mut leading = Vec::new();
    let mut indexed_columns = Vec::new();
    for (key_column, column) in compared {
        // A comparison index is named by its column: a second pair with the same
        // column (under another subject key) finds the name taken and builds nothing.
        if indexed_columns.contains(&column.as_str()) {
            continue;
        }
        indexed_columns.push(column.as_str());
        if let Some(sql) = comparison_index(table, key_column, column)? {
            statements.push(sql);
            leading.push(key_column.as_str());
        }
    }
    for (i, c) in schema.columns.iter().enumerate() {
        if c.identifies() && schema.key != [i] && !leading.contains(&c.name.as_str()) {
            statements.push(format!("CREATE INDEX {} ON {t} ({})", ident(&format!("{table}_{i}"))?, ident(&c.name)?));
        }
    }
    Ok(statements)
}

/// The data plane of a backend: the same pools as its store.
pub struct BackendDataPlane {
    writer: DbPool,
    reader: DbPool,
    /// How each table read so far orders its rows, until it is dropped or made
    /// anew. Even a stale entry reads right: a table of a name once found without
    /// `_pos` can only come back with it, and is then read in a slower way.
    row_orders: std::sync::Mutex<std::collections::HashMap<String, RowOrder>>,
}

impl BackendDataPlane {
    fn new(writer: DbPool, reader: DbPool) -> Self {
        Self { writer, reader, row_orders: Default::default() }
    }

    async fn row_order(&self, table: &str) -> StoreResult<RowOrder> {
        let known = self.row_orders.lock().unwrap_or_else(|e| e.into_inner()).get(table).copied();
        if let Some(order) = known {
            return Ok(order);
        }
        // No table of that name yet: nothing to remember, and its read will say so.
        let Some(order) = table_row_order(&self.reader, table).await? else {
            return Ok(RowOrder::PositionIndex);
        };
        self.row_orders.lock().unwrap_or_else(|e| e.into_inner()).insert(table.to_string(), order);
        Ok(order)
    }

    fn forget_row_order(&self, table: &str) {
        self.row_orders.lock().unwrap_or_else(|e| e.into_inner()).remove(table);
    }

    async fn create_indexes(&self, table: &str, schema: &TableSchema, compared: &[(String, String)]) -> StoreResult<()> {
        use sqlx::Connection;
        let (before, after) = INDEX_BUILD_SETTINGS;
        // One connection throughout: the settings must not leak to another writer.
        let mut conn = self.writer.acquire().await.map_err(db_err)?;
        let built = build_indexes(&mut conn, before, index_statements(table, schema, compared)?).await;
        let mut restored = true;
        for s in after {
            if let Err(e) = sqlx::query(s).execute(&mut *conn).await {
                tracing::warn!("restoring the writer's settings after an index build failed: {e}");
                restored = false;
            }
        }
        if !restored || conn.is_in_transaction() {
            // A fresh connection, with the writer's settings and no open transaction.
            conn.close_on_drop();
        }
        built
    }
}

/// The statements of an index build in one transaction on `conn`, committed or rolled back.
async fn build_indexes(conn: &mut sqlx::pool::PoolConnection<Db>, before: &[&str], statements: Vec<String>) -> StoreResult<()> {
    use sqlx::Connection;
    let mut tx = conn.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
    for s in before.iter().map(|s| s.to_string()).chain(statements) {
        if let Err(e) = sqlx::query(&s).execute(&mut *tx).await {
            let _ = tx.rollback().await;
            return Err(db_err(e));
        }
    }
    tx.commit().await.map_err(db_err)
}

fn discrepancy_where(qb: &mut QueryBuilder<'_, Db>, f: &DiscrepancyFilter) {
    qb.push(" WHERE 1 = 1");
    if let Some(o) = &f.source_org_id {
        qb.push(" AND source_org_id = ").push_bind(o.clone());
    }
    if let Some(s) = &f.status {
        qb.push(" AND status = ").push_bind(s.clone());
    }
    if let Some(k) = &f.subject_key {
        qb.push(" AND subject_key = ").push_bind(k.clone());
    }
    if let Some(day) = f.overdue_on {
        qb.push(" AND status = 'open' AND due < ").push_bind(day);
    }
}

/// `YYYY-MM-DD` without chrono's formatter (bulk loads bind millions of dates).
fn iso_date(d: &chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        return d.format("%Y-%m-%d").to_string();
    }
    let mut text = *b"0000-00-00";
    for (at, n, width) in [(0, y as u32, 4), (5, m, 2), (8, day, 2)] {
        let mut n = n;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    text.iter().map(|&b| char::from(b)).collect()
}

fn bind_value<'q>(
    qb: &mut sqlx::query_builder::Separated<'_, 'q, Db, &'static str>,
    field_type: FieldType,
    v: &'q Value,
) {
    match (field_type, v) {
        (_, Value::Text(s)) => qb.push_bind(s.as_str()),
        (_, Value::Integer(i)) => qb.push_bind(*i),
        (_, Value::Number(n)) => qb.push_bind(*n),
        (_, Value::Boolean(b)) => qb.push_bind(*b),
        (_, Value::Date(d)) if DATES_AS_TEXT => qb.push_bind(iso_date(d)),
        (_, Value::Date(d)) => qb.push_bind(*d),
        (_, Value::DateTime(t)) => qb.push_bind(*t),
        (FieldType::String | FieldType::Binary, Value::Null) => qb.push_bind(None::<String>),
        (FieldType::Integer, Value::Null) => qb.push_bind(None::<i64>),
        (FieldType::Number, Value::Null) => qb.push_bind(None::<f64>),
        (FieldType::Boolean, Value::Null) => qb.push_bind(None::<bool>),
        (FieldType::Date, Value::Null) => qb.push_bind(None::<chrono::NaiveDate>),
        (FieldType::DateTime, Value::Null) => qb.push_bind(None::<chrono::NaiveDateTime>),
    };
}

fn value_from(r: &DbRow, i: usize, field_type: FieldType) -> Result<Value, sqlx::Error> {
    Ok(match field_type {
        FieldType::String | FieldType::Binary => r.try_get::<Option<String>, _>(i)?.map(Value::Text),
        FieldType::Integer => r.try_get::<Option<i64>, _>(i)?.map(Value::Integer),
        FieldType::Number => r.try_get::<Option<f64>, _>(i)?.map(Value::Number),
        FieldType::Boolean => r.try_get::<Option<bool>, _>(i)?.map(Value::Boolean),
        FieldType::Date => r.try_get::<Option<chrono::NaiveDate>, _>(i)?.map(Value::Date),
        FieldType::DateTime => r.try_get::<Option<chrono::NaiveDateTime>, _>(i)?.map(Value::DateTime),
    }
    .unwrap_or(Value::Null))
}

#[async_trait]
impl DataPlane for BackendDataPlane {
    async fn get_dataset(&self, resource_id: &str) -> StoreResult<Option<Dataset>> {
        fetch_one_opt(&self.reader, "SELECT * FROM datasets WHERE resource_id = $1", resource_id, dataset_from).await
    }

    async fn find_served_dataset(
        &self,
        id_or_code: &str,
        today: chrono::NaiveDate,
    ) -> StoreResult<Option<ServedDataset>> {
        // COL-8: the agreements' terms are copied into social_data_entries, so the
        // gate counts them here instead of reading them in a second round trip.
        let row = sqlx::query(
            "SELECT d.*, e.offline AS entry_offline,
             (SELECT COUNT(*) FROM social_data_entries s WHERE s.entry_id = e.id) AS social_agreements,
             (SELECT COUNT(*) FROM social_data_entries s WHERE s.entry_id = e.id
              AND s.starts_on <= $2 AND s.ends_on >= $2) AS social_in_force
             FROM datasets d JOIN catalog_entries e ON e.id = d.resource_id
             WHERE e.id = $1 OR e.code = $1",
        )
        .bind(id_or_code)
        .bind(today)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let count = |column: &str| -> StoreResult<u32> {
            Ok(u32::try_from(r.try_get::<i64, _>(column).map_err(db_err)?).unwrap_or(u32::MAX))
        };
        Ok(Some(ServedDataset {
            dataset: dataset_from(&r).map_err(db_err)?,
            entry_offline: r.try_get("entry_offline").map_err(db_err)?,
            social_agreements: count("social_agreements")?,
            social_agreements_in_force: count("social_in_force")?,
        }))
    }

    async fn list_datasets(&self, org_id: Option<&str>) -> StoreResult<Vec<Dataset>> {
        match org_id {
            Some(o) => fetch_all(&self.reader, "SELECT * FROM datasets WHERE org_id = $1 ORDER BY resource_id", &[o], dataset_from).await,
            None => fetch_all(&self.reader, "SELECT * FROM datasets ORDER BY resource_id", &[], dataset_from).await,
        }
    }

    async fn get_load(&self, id: &str) -> StoreResult<Option<DatasetLoad>> {
        fetch_one_opt(&self.reader, "SELECT * FROM dataset_loads WHERE id = $1", id, load_from).await
    }

    async fn find_load_by_key(&self, resource_id: &str, key: &str) -> StoreResult<Option<DatasetLoad>> {
        // The writer: a retried batch must see the first attempt at once.
        let row = sqlx::query("SELECT * FROM dataset_loads WHERE resource_id = $1 AND idempotency_key = $2")
            .bind(resource_id)
            .bind(key)
            .fetch_optional(&self.writer)
            .await
            .map_err(db_err)?;
        row.as_ref().map(load_from).transpose().map_err(db_err)
    }

    async fn list_loads(&self, f: &LoadFilter) -> StoreResult<Vec<DatasetLoad>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT * FROM dataset_loads WHERE 1 = 1");
        if let Some(r) = &f.resource_id {
            qb.push(" AND resource_id = ").push_bind(r.clone());
        }
        if let Some(o) = &f.org_id {
            qb.push(" AND org_id = ").push_bind(o.clone());
        }
        if let Some(st) = &f.status {
            qb.push(" AND status = ").push_bind(st.clone());
        }
        if let Some(v) = f.version {
            qb.push(" AND version = ").push_bind(v);
        }
        qb.push(" ORDER BY started_at DESC, version DESC LIMIT ").push_bind(f.limit.unwrap_or(100));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(load_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn insert_rejects(&self, rows: &[RejectedRow]) -> StoreResult<()> {
        let mut tx = self.writer.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        for chunk in rows.chunks(MAX_BIND_PARAMS / 4) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("INSERT INTO dataset_rejects (load_id, row_number, raw, errors) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.load_id.clone())
                    .push_bind(r.row_number)
                    .push_bind(json_text(&r.raw))
                    .push_bind(json_text(&r.errors));
            });
            qb.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn list_base_attributes(&self, base: Option<&str>) -> StoreResult<Vec<BaseAttribute>> {
        match base {
            Some(b) => fetch_all(&self.reader, "SELECT * FROM base_attributes WHERE base = $1 ORDER BY label", &[b], base_attribute_from).await,
            None => fetch_all(&self.reader, "SELECT * FROM base_attributes ORDER BY base, label", &[], base_attribute_from).await,
        }
    }

    async fn list_quality_snapshots(
        &self,
        scope: &str,
        subject_id: &str,
        since: chrono::NaiveDate,
    ) -> StoreResult<Vec<QualitySnapshot>> {
        let rows = sqlx::query(
            "SELECT * FROM quality_snapshots WHERE scope = $1 AND subject_id = $2 AND day >= $3 ORDER BY day",
        )
        .bind(scope)
        .bind(subject_id)
        .bind(since)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(quality_snapshot_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn get_discrepancy(&self, id: i64) -> StoreResult<Option<Discrepancy>> {
        let row = sqlx::query("SELECT * FROM discrepancies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        row.as_ref().map(discrepancy_from).transpose().map_err(db_err)
    }

    async fn list_discrepancies(&self, f: &DiscrepancyFilter) -> StoreResult<Vec<Discrepancy>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT * FROM discrepancies");
        discrepancy_where(&mut qb, f);
        qb.push(" ORDER BY due, id LIMIT ")
            .push_bind(f.limit.unwrap_or(200))
            .push(" OFFSET ")
            .push_bind(f.offset.unwrap_or(0));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(discrepancy_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn count_discrepancies(&self, f: &DiscrepancyFilter) -> StoreResult<i64> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT COUNT(*) FROM discrepancies");
        discrepancy_where(&mut qb, f);
        let row = qb.build().fetch_one(&self.reader).await.map_err(db_err)?;
        row.try_get(0).map_err(db_err)
    }

    async fn get_source(&self, resource_id: &str) -> StoreResult<Option<DatasetSource>> {
        fetch_one_opt(&self.reader, "SELECT * FROM dataset_sources WHERE resource_id = $1", resource_id, source_from).await
    }

    async fn due_sources(&self, now: chrono::DateTime<chrono::Utc>) -> StoreResult<Vec<DatasetSource>> {
        let rows = sqlx::query(
            "SELECT * FROM dataset_sources WHERE scheduled = TRUE AND next_pull_at <= $1 ORDER BY next_pull_at",
        )
        .bind(now)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(source_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn create_table(&self, table: &str, schema: &TableSchema, indexed: bool) -> StoreResult<()> {
        let t = ident(table)?;
        let mut columns = Vec::new();
        for c in &schema.columns {
            columns.push(format!("{} {}{}", ident(&c.name)?, sql_type(c.field_type), collation(c)));
        }
        columns.push("\"_load\" BIGINT NOT NULL".into());
        columns.push("\"_row\" BIGINT NOT NULL".into());
        if ROWID_POSITIONS {
            columns.push("\"_pos\" INTEGER PRIMARY KEY".into());
        }
        self.forget_row_order(table);
        let mut statements = vec![format!("CREATE TABLE {t} ({})", columns.join(", "))];
        if indexed {
            statements.extend(index_statements(table, schema, &[])?);
        }
        let mut tx = self.writer.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        for s in statements {
            sqlx::query(&s).execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn finish_table(&self, table: &str, schema: &TableSchema, compared: &[(String, String)]) -> StoreResult<Vec<StoredRow>> {
        let t = ident(table)?;
        let mut removed = Vec::new();
        // Usually no key repeats: then building the unique index is the only pass.
        match self.create_indexes(table, schema, compared).await {
            Ok(()) => return Ok(removed),
            Err(StoreError::Conflict(_)) if !schema.key.is_empty() => {}
            Err(e) => return Err(e),
        }
        {
            let keys: Vec<String> = schema.key_columns().iter().map(|c| ident(c)).collect::<Result<_, _>>()?;
            let names: Vec<String> = schema.columns.iter().map(|c| ident(&c.name)).collect::<Result<_, _>>()?;
            let key_list = keys.join(", ");
            // Rows whose key an earlier row of the table already holds.
            let sql = format!(
                "SELECT {}, \"_load\", \"_row\" FROM {t} WHERE ({key_list}) IN
                 (SELECT {key_list} FROM {t} GROUP BY {key_list} HAVING COUNT(*) > 1)
                 ORDER BY {key_list}, \"_load\", \"_row\"",
                names.join(", ")
            );
            let rows = sqlx::query(&sql).fetch_all(&self.writer).await.map_err(db_err)?;
            let n = schema.columns.len();
            let mut previous_key: Option<Vec<String>> = None;
            for r in &rows {
                let values = schema
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| value_from(r, i, c.field_type))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db_err)?;
                let key: Vec<String> = schema.key.iter().map(|i| values[*i].to_text()).collect();
                let row = StoredRow { load: r.try_get(n).map_err(db_err)?, row: r.try_get(n + 1).map_err(db_err)?, values };
                if previous_key.as_ref() == Some(&key) {
                    removed.push(row);
                } else {
                    previous_key = Some(key);
                }
            }
            let mut tx = self.writer.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
            for chunk in removed.chunks(MAX_BIND_PARAMS / 2) {
                let mut qb: QueryBuilder<Db>;
                if ROWID_POSITIONS {
                    qb = QueryBuilder::new(format!("DELETE FROM {t} WHERE \"_pos\" IN ("));
                    let mut sep = qb.separated(", ");
                    for r in chunk {
                        sep.push_bind(position_of(r.load, r.row)?);
                    }
                } else {
                    qb = QueryBuilder::new(format!("DELETE FROM {t} WHERE (\"_load\", \"_row\") IN ("));
                    let mut sep = qb.separated(", ");
                    for r in chunk {
                        sep.push("(").push_bind_unseparated(r.load).push_unseparated(", ").push_bind_unseparated(r.row).push_unseparated(")");
                    }
                }
                qb.push(")");
                qb.build().execute(&mut *tx).await.map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
        }
        self.create_indexes(table, schema, compared).await?;
        Ok(removed)
    }

    async fn copy_rows(&self, from: &str, to: &str, schema: &TableSchema) -> StoreResult<i64> {
        let mut names: Vec<String> = schema.columns.iter().map(|c| ident(&c.name)).collect::<Result<_, _>>()?;
        names.extend(["\"_load\"".to_string(), "\"_row\"".to_string()]);
        let list = names.join(", ");
        // `from` may predate `_pos`; the copy's positions come from `_load` and `_row`.
        let sql = if ROWID_POSITIONS {
            format!("INSERT INTO {} ({list}, \"_pos\") SELECT {list}, (\"_load\" << 32) | \"_row\" FROM {}", ident(to)?, ident(from)?)
        } else {
            format!("INSERT INTO {} ({list}) SELECT {list} FROM {}", ident(to)?, ident(from)?)
        };
        let done = sqlx::query(&sql)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() as i64)
    }

    async fn drop_table(&self, table: &str) -> StoreResult<()> {
        self.forget_row_order(table);
        sqlx::query(&format!("DROP TABLE IF EXISTS {}", ident(table)?))
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn index_for_comparison(&self, table: &str, key_column: &str, column: &str) -> StoreResult<()> {
        if let Some(sql) = comparison_index(table, key_column, column)? {
            sqlx::query(&sql).execute(&self.writer).await.map_err(db_err)?;
        }
        Ok(())
    }

    async fn write_rows(
        &self,
        table: &str,
        schema: &TableSchema,
        load: i64,
        rows: Vec<(i64, Vec<Value>)>,
        how: RowWrite<'_>,
    ) -> StoreResult<Vec<i64>> {
        let upsert = matches!(how, RowWrite::Upsert { .. });
        let t = ident(table)?;
        let names: Vec<String> = schema.columns.iter().map(|c| ident(&c.name)).collect::<Result<_, _>>()?;
        let mut stamps = vec!["\"_load\"".to_string(), "\"_row\"".to_string()];
        if ROWID_POSITIONS {
            stamps.push("\"_pos\"".to_string());
        }
        // A plain insert (a replace into a table whose indexes come at the end) returns nothing.
        let mut conflict = String::new();
        if upsert && !schema.key.is_empty() {
            let keys: Vec<String> = schema.key_columns().iter().map(|c| ident(c)).collect::<Result<_, _>>()?;
            conflict = {
                let delivered = match how {
                    RowWrite::Upsert { delivered } => delivered,
                    RowWrite::Append => &[],
                };
                // A column the file left out keeps the stored row's value.
                let sets: Vec<String> = names
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| delivered.get(*i).copied().unwrap_or(true))
                    .map(|(_, n)| n)
                    .chain(stamps.iter())
                    .map(|n| format!("{n} = excluded.{n}"))
                    .collect();
                // A row of an earlier load is replaced; a second row of this load with
                // the same key is not, and comes back as a duplicate.
                format!(
                    " ON CONFLICT ({}) DO UPDATE SET {} WHERE {t}.\"_load\" <> excluded.\"_load\" RETURNING \"_row\"",
                    keys.join(", "),
                    sets.join(", ")
                )
            };
        } else if upsert {
            conflict = String::from(" RETURNING \"_row\"");
        }
        if conflict.is_empty() {
            let numbers = rows.iter().map(|(row, _)| *row).collect();
            bulk_append(&self.writer, &t, &names, schema, load, rows).await?;
            return Ok(numbers);
        }
        let positions: Vec<i64> = if ROWID_POSITIONS {
            rows.iter().map(|(row, _)| position_of(load, *row)).collect::<StoreResult<_>>()?
        } else {
            Vec::new()
        };
        let per_row = (schema.columns.len() + stamps.len()).max(1);
        let mut written = Vec::with_capacity(rows.len());
        let mut tx = self.writer.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let per_chunk = (MAX_BIND_PARAMS / per_row).max(1);
        for (n, chunk) in rows.chunks(per_chunk).enumerate() {
            let first = n * per_chunk;
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new(format!("INSERT INTO {t} ({}, {}) ", names.join(", "), stamps.join(", ")));
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, (row, values))| {
                for (c, v) in schema.columns.iter().zip(values) {
                    bind_value(&mut b, c.field_type, v);
                }
                b.push_bind(load).push_bind(*row);
                if let Some(position) = positions.get(first + i) {
                    b.push_bind(*position);
                }
            });
            qb.push(&conflict);
            let returned = qb.build().fetch_all(&mut *tx).await.map_err(db_err)?;
            for r in returned {
                written.push(r.try_get::<i64, _>(0).map_err(db_err)?);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(written)
    }

    async fn count_rows(&self, table: &str) -> StoreResult<i64> {
        let row = sqlx::query(&format!("SELECT COUNT(*) FROM {}", ident(table)?))
            .fetch_one(&self.reader)
            .await
            .map_err(db_err)?;
        row.try_get(0).map_err(db_err)
    }
}

/// Appends to `qb` the SELECT of one keyset page of a dataset table's rows meeting
/// `q`'s conditions, in position order: the columns in schema order, then `_load`
/// and `_row`.
fn push_rows_query(qb: &mut QueryBuilder<'_, Db>, table: &str, schema: &TableSchema, q: &RowQuery, order: RowOrder) -> StoreResult<()> {
    let t = ident(table)?;
    let names: Vec<String> = schema.columns.iter().map(|c| ident(&c.name)).collect::<Result<_, _>>()?;
    qb.push(format!("SELECT {}, \"_load\", \"_row\" FROM {t} WHERE 1 = 1", names.join(", ")));
    for condition in &q.conditions {
        let (column, value, prefix) = match condition {
            RowCondition::Equals { column, value } => (column, value, false),
            RowCondition::Prefix { column, prefix } => (column, prefix, true),
        };
        let text_column = schema
            .columns
            .iter()
            .find(|c| &c.name == column)
            .is_some_and(|c| matches!(c.field_type, FieldType::String | FieldType::Binary));
        // Text columns compare as they are, so their indexes serve; others by their text.
        let c = if text_column { ident(column)? } else { format!("CAST({} AS TEXT)", ident(column)?) };
        if prefix {
            let n = value.chars().count();
            qb.push(format!(" AND substr({c}, 1, {n}) = ")).push_bind(value.clone());
        } else {
            qb.push(format!(" AND {c} = ")).push_bind(value.clone());
        }
    }
    match (order, q.after) {
        (_, None) => {}
        // A row-value comparison, so that both engines seek the position index to the
        // cursor: the `_load > a OR (_load = a AND _row > b)` spelling made SQLite scan
        // from the first row on every page, and a full download quadratic.
        (RowOrder::PositionIndex, Some((load, row))) => {
            qb.push(" AND (\"_load\", \"_row\") > (")
                .push_bind(load)
                .push(", ")
                .push_bind(row)
                .push(")");
        }
        (RowOrder::Pos, Some((load, row))) => {
            qb.push(" AND \"_pos\" > ").push_bind(position_cursor(load, row));
        }
    }
    qb.push(match order {
        RowOrder::PositionIndex => " ORDER BY \"_load\", \"_row\" LIMIT ",
        RowOrder::Pos => " ORDER BY \"_pos\" LIMIT ",
    })
    .push_bind(q.limit);
    Ok(())
}

/// A page read row by row through the driver (the PostgreSQL backend's `fetch_page`).
#[allow(dead_code)]
async fn fetch_page_by_rows(pool: &DbPool, table: &str, schema: &TableSchema, q: &RowQuery, order: RowOrder) -> StoreResult<Vec<StoredRow>> {
    let mut qb = QueryBuilder::new("");
    push_rows_query(&mut qb, table, schema, q, order)?;
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
    let n = schema.columns.len();
    rows.iter()
        .map(|r| {
            let values = schema
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| value_from(r, i, c.field_type))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(StoredRow { load: r.try_get(n)?, row: r.try_get(n + 1)?, values })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db_err)
}

/// How a backend wants a comparison's join written: the index each side is read
/// through and the join operator, which on SQLite fixes the outer table.
#[derive(Debug, Default, PartialEq)]
struct JoinHints {
    source: String,
    other: String,
    join: String,
}

/// GOV-2: the two queries of a comparison: the counts of linked and differing
/// subjects, and the first differences in key order (`$1` of them).
/// The queries of a comparison: the counts of linked and differing subjects, the
/// differences in the other table's key order (with `answered`, those not confirmed;
/// the attribute and the other resource are its second and third parameters), and
/// with `answered` the count of confirmed differences still as answered (its first
/// and second). That count starts from the confirmed discrepancies, not from the
/// join, so the join's count stays one that PostgreSQL runs in parallel: a
/// correlated subquery in it kept PostgreSQL to one worker, and the 10,000,000-row
/// comparison took 2.4 times as long (docs/performance.md).
fn comparison_queries(
    source: &ColumnRef,
    other: &ColumnRef,
    answered: bool,
    hints: Option<JoinHints>,
) -> StoreResult<ComparisonQueries> {
    let (st, sk, sc) = (ident(&source.table)?, ident(&source.key_column)?, ident(&source.column)?);
    let (ot, ok, oc) = (ident(&other.table)?, ident(&other.key_column)?, ident(&other.column)?);
    let JoinHints { source: s_hint, other: o_hint, join } =
        hints.unwrap_or_else(|| JoinHints { join: "JOIN".into(), ..JoinHints::default() });
    let from = format!("FROM {ot} o{o_hint} {join} {st} s{s_hint} ON s.{sk} = o.{ok} WHERE o.{oc} IS NOT NULL");
    let differs = format!("CAST(s.{sc} AS TEXT) IS DISTINCT FROM CAST(o.{oc} AS TEXT)");
    // GOV-2: a confirmed discrepancy keeps the values as they were answered (an
    // empty source value as '').
    let as_answered = format!(
        "d.status = 'confirmed' AND d.source_value = COALESCE(CAST(s.{sc} AS TEXT), '')
         AND d.other_value = CAST(o.{oc} AS TEXT)"
    );
    let counts = format!("SELECT COUNT(*), SUM(CASE WHEN {differs} THEN 1 ELSE 0 END) {from}");
    let unanswered = if answered {
        format!(
            " AND NOT EXISTS (SELECT 1 FROM discrepancies d WHERE d.attribute = $2 AND d.other_resource_id = $3
             AND d.subject_key = CAST(o.{ok} AS TEXT) AND {as_answered})"
        )
    } else {
        String::new()
    };
    let list = format!(
        "SELECT CAST(o.{ok} AS TEXT), CAST(s.{sc} AS TEXT), CAST(o.{oc} AS TEXT) {from} AND {differs}{unanswered}
         ORDER BY o.{ok} LIMIT $1"
    );
    let answered_count = answered.then(|| {
        format!(
            "SELECT COUNT(DISTINCT d.subject_key) FROM discrepancies d
             JOIN {ot} o ON o.{ok} = d.subject_key JOIN {st} s ON s.{sk} = o.{ok}
             WHERE d.attribute = $1 AND d.other_resource_id = $2 AND o.{oc} IS NOT NULL
             AND {differs} AND {as_answered}"
        )
    });
    Ok(ComparisonQueries { counts, list, answered_count })
}

/// The SQL of one comparison ([`comparison_queries`]).
struct ComparisonQueries {
    counts: String,
    list: String,
    answered_count: Option<String>,
}

// DESIGN 2: the row reads, which only the egress gate holds.
#[async_trait]
impl RowReader for BackendDataPlane {
    async fn read_rows(&self, table: &str, schema: &TableSchema, q: &RowQuery) -> StoreResult<Vec<StoredRow>> {
        let order = self.row_order(table).await?;
        fetch_page(&self.reader, table, schema, q, order).await
    }

    async fn list_rejects(&self, load_id: &str, after_row: i64, limit: i64) -> StoreResult<Vec<RejectedRow>> {
        let rows = sqlx::query(
            "SELECT * FROM dataset_rejects WHERE load_id = $1 AND row_number > $2 ORDER BY row_number LIMIT $3",
        )
        .bind(load_id)
        .bind(after_row)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(reject_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn compare_columns(
        &self,
        source: &ColumnRef,
        other: &ColumnRef,
        answered: Option<&AnsweredDifferences>,
        limit: i64,
    ) -> StoreResult<Comparison> {
        let hints = comparison_hints(&self.reader, source, other).await?;
        let queries = comparison_queries(source, other, answered.is_some(), hints)?;
        let counts = sqlx::query(&queries.counts).fetch_one(&self.reader).await.map_err(db_err)?;
        let mut list = sqlx::query(&queries.list).bind(limit);
        let mut answered_total = 0;
        if let (Some(a), Some(sql)) = (answered, &queries.answered_count) {
            list = list.bind(&a.attribute).bind(&a.other_resource_id);
            answered_total = sqlx::query_scalar::<_, i64>(sql)
                .bind(&a.attribute)
                .bind(&a.other_resource_id)
                .fetch_one(&self.reader)
                .await
                .map_err(db_err)?;
        }
        let rows = list.fetch_all(&self.reader).await.map_err(db_err)?;
        let linked: i64 = counts.try_get(0).map_err(db_err)?;
        let differing_total: i64 = counts.try_get::<Option<i64>, _>(1).map_err(db_err)?.unwrap_or(0);
        let mut differing = Vec::with_capacity(rows.len());
        for r in rows {
            let key: Option<String> = r.try_get(0).map_err(db_err)?;
            let a: Option<String> = r.try_get(1).map_err(db_err)?;
            let b: Option<String> = r.try_get(2).map_err(db_err)?;
            differing.push((key.unwrap_or_default(), a.unwrap_or_default(), b.unwrap_or_default()));
        }
        Ok(Comparison {
            linked,
            differing_total,
            unanswered_total: differing_total - answered_total,
            differing,
        })
    }
}
