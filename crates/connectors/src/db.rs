//! COL-1: what the PostgreSQL and MySQL pulls share: error classification, the row loop, value text.

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use sqlx::error::DatabaseError;

use crate::error::scrub;
use crate::{ConnectorError, DbTls, PullLimits, PullSink, SourceQuery};

/// The database half of a `PullSource::Postgres` or `PullSource::MySql`.
pub(crate) struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub database: &'a str,
    pub user: &'a str,
    pub query: &'a SourceQuery,
    pub tls: DbTls,
}

/// How a column's text from the source becomes the text the sink receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Render {
    /// Already the plain text we want (text, numbers, dates, JSON, …).
    Plain,
    /// PostgreSQL `t`/`f` → `true`/`false`.
    PgBool,
    /// MySQL BOOLEAN (TINYINT(1)): `1`/`0` → `true`/`false`, any other number stays.
    MyBool,
    /// `YYYY-MM-DD HH:MM:SS[.f]` → `YYYY-MM-DDTHH:MM:SS[.f]`.
    Timestamp,
    /// As `Timestamp`, and the session offset `+08` removed (Beijing wall-clock time).
    TimestampTz,
    /// PostgreSQL bytea text `\x0102` → `0102`.
    PgBytes,
    /// MySQL raw bytes → lower-case hex.
    RawBytes,
    /// MySQL binary-flagged strings of a SELECT, which may be binary data or
    /// text with a binary collation: valid UTF-8 without control characters
    /// (other than tab and line breaks) is text, anything else hex.
    MaybeBytes,
    /// MySQL BIT(n) raw big-endian bytes → its unsigned value in decimal.
    Bits,
}

impl Render {
    pub(crate) fn apply(self, raw: &[u8]) -> Result<String, String> {
        let text = || {
            std::str::from_utf8(raw)
                .map(str::to_string)
                .map_err(|_| "the value is not valid UTF-8 text".to_string())
        };
        Ok(match self {
            Render::Plain => text()?,
            Render::PgBool => match raw {
                b"t" => "true".into(),
                b"f" => "false".into(),
                _ => text()?,
            },
            Render::MyBool => match raw {
                b"1" => "true".into(),
                b"0" => "false".into(),
                _ => text()?,
            },
            Render::Timestamp => iso_timestamp(text()?),
            Render::TimestampTz => {
                let t = iso_timestamp(text()?);
                match t.strip_suffix("+08") {
                    Some(local) => local.to_string(),
                    None => t,
                }
            }
            Render::PgBytes => {
                let t = text()?;
                match t.strip_prefix("\\x") {
                    Some(hex) => hex.to_string(),
                    None => t,
                }
            }
            Render::RawBytes => hex::encode(raw),
            Render::MaybeBytes => match std::str::from_utf8(raw) {
                Ok(text)
                    if !text
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
                {
                    text.to_string()
                }
                _ => hex::encode(raw),
            },
            Render::Bits => {
                if raw.len() > 16 {
                    hex::encode(raw)
                } else {
                    raw.iter()
                        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
                        .to_string()
                }
            }
        })
    }
}

fn iso_timestamp(mut text: String) -> String {
    if text.len() >= 19 && text.as_bytes()[10] == b' ' && text.as_bytes()[4] == b'-' {
        text.replace_range(10..11, "T");
    }
    text
}

/// What a database said, without the secret and without sqlx's prefixes.
fn detail(err: &sqlx::Error, secret: Option<&str>) -> String {
    match err {
        sqlx::Error::Database(db) => scrub(db.message(), secret),
        other => scrub(other, secret),
    }
}

fn is_auth_failure(db: &dyn DatabaseError) -> bool {
    let code = db.code();
    if matches!(code.as_deref(), Some("28P01" | "28000")) {
        return true;
    }
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        // 1044 access denied to database, 1045 access denied for user,
        // 1251/1275 client cannot do the server's authentication.
        return matches!(my.number(), 1044 | 1045 | 1251 | 1275 | 1698);
    }
    false
}

fn is_read_only_refusal(db: &dyn DatabaseError) -> bool {
    if db.code().as_deref() == Some("25006") {
        return true;
    }
    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .is_some_and(|my| my.number() == 1792)
}

/// A failure while connecting.
pub(crate) fn connect_error(err: sqlx::Error, secret: Option<&str>) -> ConnectorError {
    let detail = detail(&err, secret);
    match &err {
        sqlx::Error::Database(db) if is_auth_failure(db.as_ref()) => {
            ConnectorError::AuthFailed { detail }
        }
        sqlx::Error::Tls(_) => ConnectorError::TlsFailed { detail },
        // The handshake itself fails inside the socket, as an I/O error around rustls's.
        sqlx::Error::Io(io) if crate::tls::rustls_error(io).is_some() => {
            ConnectorError::TlsFailed { detail }
        }
        _ => ConnectorError::Unreachable { detail },
    }
}

/// A failure after connecting, once `rows` rows have reached the sink.
pub(crate) fn query_error(err: sqlx::Error, rows: u64, secret: Option<&str>) -> ConnectorError {
    let detail = detail(&err, secret);
    if rows > 0 {
        return ConnectorError::SourceFailedMidPull { rows, detail };
    }
    match &err {
        sqlx::Error::Database(db) if is_read_only_refusal(db.as_ref()) => {
            ConnectorError::QueryRefused {
                reason: format!("the source refused it in the read-only transaction: {detail}"),
            }
        }
        sqlx::Error::Database(db) if is_auth_failure(db.as_ref()) => {
            ConnectorError::AuthFailed { detail }
        }
        sqlx::Error::Database(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::Decode(_) => ConnectorError::QueryFailed { detail },
        _ => ConnectorError::Unreachable { detail },
    }
}

pub(crate) fn timed_out(what: &str, after: Duration) -> String {
    format!("no {what} within {} s", after.as_secs_f64())
}

/// Waits for a connection with the connect timeout.
pub(crate) async fn connect_with_timeout<C, F>(
    connecting: F,
    host: &str,
    port: u16,
    secret: Option<&str>,
    limits: &PullLimits,
) -> Result<C, ConnectorError>
where
    F: std::future::Future<Output = Result<C, sqlx::Error>>,
{
    match tokio::time::timeout(limits.connect_timeout, connecting).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(connect_error(err, secret)),
        Err(_) => Err(ConnectorError::Unreachable {
            detail: timed_out(
                &format!("answer from {host}:{port}"),
                limits.connect_timeout,
            ),
        }),
    }
}

/// Passes every row of `rows` to the sink, rendered by `render`; returns the row count.
pub(crate) async fn drive<R, S>(
    mut rows: S,
    sink: &mut dyn PullSink,
    limits: &PullLimits,
    secret: Option<&str>,
    render: impl Fn(&R) -> Result<Vec<String>, String>,
) -> Result<u64, ConnectorError>
where
    S: Stream<Item = Result<R, sqlx::Error>> + Unpin,
{
    let mut count: u64 = 0;
    loop {
        let next = match tokio::time::timeout(limits.read_timeout, rows.next()).await {
            Ok(next) => next,
            Err(_) => {
                let detail = timed_out("row", limits.read_timeout);
                return Err(if count > 0 {
                    ConnectorError::SourceFailedMidPull {
                        rows: count,
                        detail,
                    }
                } else {
                    ConnectorError::Unreachable { detail }
                });
            }
        };
        let row = match next {
            None => return Ok(count),
            Some(Ok(row)) => row,
            Some(Err(err)) => return Err(query_error(err, count, secret)),
        };
        if count >= limits.max_rows {
            return Err(ConnectorError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        count += 1;
        let fields = render(&row).map_err(|detail| ConnectorError::QueryFailed {
            detail: format!("row {count}: {detail}"),
        })?;
        sink.row(count, fields)
            .map_err(|reason| ConnectorError::SinkRejected { row: count, reason })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_values_as_plain_text() {
        let ok = |r: Render, raw: &[u8]| r.apply(raw).unwrap();
        assert_eq!(ok(Render::Plain, "张三".as_bytes()), "张三");
        assert_eq!(ok(Render::PgBool, b"t"), "true");
        assert_eq!(ok(Render::PgBool, b"f"), "false");
        assert_eq!(ok(Render::MyBool, b"0"), "false");
        assert_eq!(ok(Render::MyBool, b"2"), "2");
        assert_eq!(
            ok(Render::Timestamp, b"2024-03-01 08:30:00"),
            "2024-03-01T08:30:00"
        );
        assert_eq!(
            ok(Render::Timestamp, b"2024-03-01 08:30:00.25"),
            "2024-03-01T08:30:00.25"
        );
        assert_eq!(ok(Render::Timestamp, b"infinity"), "infinity");
        assert_eq!(
            ok(Render::TimestampTz, b"2024-03-01 08:30:00+08"),
            "2024-03-01T08:30:00"
        );
        assert_eq!(ok(Render::PgBytes, b"\\x00ff"), "00ff");
        assert_eq!(ok(Render::RawBytes, &[0, 255, 16]), "00ff10");
        assert_eq!(ok(Render::MaybeBytes, "浙A-01".as_bytes()), "浙A-01");
        assert_eq!(ok(Render::MaybeBytes, &[0, 255, 16]), "00ff10");
        assert_eq!(ok(Render::MaybeBytes, b"ab\x01"), "616201");
        assert_eq!(ok(Render::Bits, &[1]), "1");
        assert_eq!(ok(Render::Bits, &[1, 0]), "256");
        assert!(Render::Plain.apply(&[0xff]).is_err());
    }
}
