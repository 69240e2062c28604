//! COL-1: pulling a MySQL or MariaDB table or SELECT over one fresh connection, in a read-only transaction.

use std::collections::HashMap;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow, MySqlSslMode};
use sqlx::{Column, Connection, Executor, Row, Statement, TypeInfo};

use crate::db::{self, Render, Target};
use crate::{ConnectorError, DbTls, PullLimits, PullSink, SourceQuery};

/// Connects, opens the read-only transaction, and prepares the query to learn
/// its columns (COM_STMT_PREPARE, no rows are produced).
async fn open(
    target: &Target<'_>,
    secret: Option<&str>,
    limits: &PullLimits,
) -> Result<(MySqlConnection, String, Vec<String>, Vec<Render>), ConnectorError> {
    let sql = target.query.to_sql('`')?;
    let mut options = MySqlConnectOptions::new()
        .host(target.host)
        .port(target.port)
        .database(target.database)
        .username(target.user)
        // Keep the server's SQL mode (sqlx would add PIPES_AS_CONCAT, which
        // changes what `||` means in a department's query).
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        // TIMESTAMP columns are shown in Beijing time, as on PostgreSQL.
        .timezone(Some("+08:00".to_string()))
        .ssl_mode(match target.tls {
            DbTls::Prefer => MySqlSslMode::Preferred,
            DbTls::Require => MySqlSslMode::Required,
            DbTls::VerifyFull => MySqlSslMode::VerifyIdentity,
            DbTls::Disable => MySqlSslMode::Disabled,
        })
        .statement_cache_capacity(4);
    if let Some(pem) = limits.roots.extra_pem() {
        options = options.ssl_ca_from_pem(pem);
    }
    // An empty password must be sent as none at all ("using password: NO").
    if let Some(password) = secret.filter(|p| !p.is_empty()) {
        options = options.password(password);
    }
    let mut conn = db::connect_with_timeout(
        MySqlConnection::connect_with(&options),
        target.host,
        target.port,
        secret,
        limits,
    )
    .await?;
    (&mut conn)
        .execute(sqlx::raw_sql("START TRANSACTION READ ONLY"))
        .await
        .map_err(|e| db::query_error(e, 0, secret))?;
    let statement = (&mut conn)
        .prepare(&sql)
        .await
        .map_err(|e| db::query_error(e, 0, secret))?;
    let names: Vec<String> = statement
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut renders: Vec<Render> = statement
        .columns()
        .iter()
        .map(|c| render_for(c.type_info().name()))
        .collect();
    if let (true, SourceQuery::Table(table)) = (renders.contains(&Render::MaybeBytes), target.query)
    {
        let declared = declared_types(&mut conn, table)
            .await
            .map_err(|e| db::query_error(e, 0, secret))?;
        for (render, name) in renders.iter_mut().zip(&names) {
            if *render == Render::MaybeBytes {
                match declared.get(name.as_str()).map(String::as_str) {
                    Some(
                        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob",
                    ) => *render = Render::RawBytes,
                    Some(_) => *render = Render::Plain,
                    None => {}
                }
            }
        }
    }
    Ok((conn, sql, names, renders))
}

/// The protocol flags text with a binary collation (`utf8mb4_bin`) exactly
/// like binary strings, and sqlx does not expose the column's character set;
/// for a table, the declared types settle it.
async fn declared_types(
    conn: &mut MySqlConnection,
    table: &str,
) -> Result<HashMap<String, String>, sqlx::Error> {
    let (schema, table) = match table.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, table),
    };
    let query = sqlx::query(
        "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
    )
    .bind(schema)
    .bind(table);
    let rows = conn.fetch_all(query).await?;
    let text = |row: &MySqlRow, i: usize| -> Result<String, sqlx::Error> {
        let raw: &[u8] = row.try_get_unchecked(i)?;
        Ok(String::from_utf8_lossy(raw).to_ascii_lowercase())
    };
    let mut declared = HashMap::new();
    for row in &rows {
        let raw_name: &[u8] = row.try_get_unchecked(0)?;
        declared.insert(
            String::from_utf8_lossy(raw_name).into_owned(),
            text(row, 1)?,
        );
    }
    Ok(declared)
}

fn render_for(type_name: &str) -> Render {
    match type_name {
        "BOOLEAN" => Render::MyBool,
        "DATETIME" | "TIMESTAMP" => Render::Timestamp,
        // Binary strings, or text with a binary collation: see `declared_types`.
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => {
            Render::MaybeBytes
        }
        "GEOMETRY" => Render::RawBytes,
        "BIT" => Render::Bits,
        _ => Render::Plain,
    }
}

pub(crate) async fn probe(
    target: &Target<'_>,
    secret: Option<&str>,
    limits: &PullLimits,
) -> Result<Vec<String>, ConnectorError> {
    let (conn, _, names, _) = open(target, secret, limits).await?;
    let _ = conn.close().await;
    Ok(names)
}

pub(crate) async fn pull(
    target: &Target<'_>,
    secret: Option<&str>,
    sink: &mut dyn PullSink,
    limits: &PullLimits,
) -> Result<u64, ConnectorError> {
    let (mut conn, sql, names, renders) = open(target, secret, limits).await?;
    sink.columns(&names)
        .map_err(|reason| ConnectorError::SinkRejected { row: 0, reason })?;
    // A plain &str runs over the text protocol (COM_QUERY); rows are read off
    // the socket one by one as the stream is polled.
    let rows = {
        let stream = (&mut conn).fetch(sql.as_str());
        db::drive(stream, sink, limits, secret, |row: &MySqlRow| {
            render_row(row, &renders)
        })
        .await?
    };
    let _ = (&mut conn).execute(sqlx::raw_sql("ROLLBACK")).await;
    let _ = conn.close().await;
    Ok(rows)
}

fn render_row(row: &MySqlRow, renders: &[Render]) -> Result<Vec<String>, String> {
    if row.len() != renders.len() {
        return Err(format!(
            "the source sent {} columns, {} were described",
            row.len(),
            renders.len()
        ));
    }
    let mut fields = Vec::with_capacity(renders.len());
    for (i, render) in renders.iter().enumerate() {
        let raw: Option<&[u8]> = row.try_get_unchecked(i).map_err(|e| e.to_string())?;
        let Some(raw) = raw else {
            fields.push(String::new());
            continue;
        };
        let name = row.column(i).name();
        fields.push(
            render
                .apply(raw)
                .map_err(|e| format!("column {name}: {e}"))?,
        );
    }
    Ok(fields)
}
