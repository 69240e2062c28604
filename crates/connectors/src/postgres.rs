//! COL-1: pulling a PostgreSQL table or SELECT over one fresh connection, in a read-only transaction.

use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow, PgSslMode};
use sqlx::{Column, Connection, Executor, Row, Statement, TypeInfo, ValueRef};

use crate::db::{self, Render, Target};
use crate::{ConnectorError, DbTls, PullLimits, PullSink};

/// Connects, opens the read-only transaction, and describes the query
/// (Parse/Describe, no rows are produced).
async fn open(
    target: &Target<'_>,
    secret: Option<&str>,
    limits: &PullLimits,
) -> Result<(PgConnection, String, Vec<String>, Vec<Render>), ConnectorError> {
    let sql = target.query.to_sql('"')?;
    // Every field is set explicitly, so nothing of the platform's own PG*
    // environment (PGPASSWORD above all) reaches a department's server.
    let mut options = PgConnectOptions::new_without_pgpass()
        .host(target.host)
        .port(target.port)
        .database(target.database)
        .username(target.user)
        .password(secret.unwrap_or(""))
        .application_name("gongshu-connector")
        .ssl_mode(match target.tls {
            DbTls::Prefer => PgSslMode::Prefer,
            DbTls::Require => PgSslMode::Require,
            DbTls::VerifyFull => PgSslMode::VerifyFull,
            DbTls::Disable => PgSslMode::Disable,
        })
        .statement_cache_capacity(4);
    if let Some(pem) = limits.roots.extra_pem() {
        options = options.ssl_root_cert_from_pem(pem);
    }
    let mut conn = db::connect_with_timeout(
        PgConnection::connect_with(&options),
        target.host,
        target.port,
        secret,
        limits,
    )
    .await?;
    // Text results: the session formats every value, so every type (numeric,
    // uuid, interval, arrays, enums, …) arrives as PostgreSQL's own text.
    // Timestamps with time zone are shown in Beijing time (UTC+08:00).
    (&mut conn)
        .execute(sqlx::raw_sql(
            "SET bytea_output = 'hex'; \
             SET DateStyle = 'ISO, YMD'; \
             SET TIME ZONE INTERVAL '+08:00' HOUR TO MINUTE; \
             BEGIN; \
             SET TRANSACTION READ ONLY",
        ))
        .await
        .map_err(|e| db::query_error(e, 0, secret))?;
    let statement = (&mut conn)
        .prepare(&sql)
        .await
        .map_err(|e| db::query_error(e, 0, secret))?;
    let names = statement
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let renders = statement
        .columns()
        .iter()
        .map(|c| render_for(c.type_info().name()))
        .collect();
    Ok((conn, sql, names, renders))
}

fn render_for(type_name: &str) -> Render {
    match type_name {
        "BOOL" => Render::PgBool,
        "TIMESTAMP" => Render::Timestamp,
        "TIMESTAMPTZ" => Render::TimestampTz,
        "BYTEA" => Render::PgBytes,
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
    // A plain &str runs as a simple query: text format, rows streamed off the
    // socket as the server sends them (TCP back-pressure, not memory, holds
    // the rest back).
    let rows = {
        let stream = (&mut conn).fetch(sql.as_str());
        db::drive(stream, sink, limits, secret, |row: &PgRow| {
            render_row(row, &renders)
        })
        .await?
    };
    let _ = (&mut conn).execute(sqlx::raw_sql("ROLLBACK")).await;
    let _ = conn.close().await;
    Ok(rows)
}

fn render_row(row: &PgRow, renders: &[Render]) -> Result<Vec<String>, String> {
    if row.len() != renders.len() {
        return Err(format!(
            "the source sent {} columns, {} were described",
            row.len(),
            renders.len()
        ));
    }
    let mut fields = Vec::with_capacity(renders.len());
    for (i, render) in renders.iter().enumerate() {
        let value = row.try_get_raw(i).map_err(|e| e.to_string())?;
        if value.is_null() {
            fields.push(String::new());
            continue;
        }
        let raw = value.as_bytes().map_err(|e| e.to_string())?;
        let name = row.column(i).name();
        fields.push(
            render
                .apply(raw)
                .map_err(|e| format!("column {name}: {e}"))?,
        );
    }
    Ok(fields)
}
