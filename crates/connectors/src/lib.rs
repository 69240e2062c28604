//! COL-1: pull connectors that read a department source system (PostgreSQL, MySQL/MariaDB, HTTP JSON) into raw records, and the sealing of their credentials.
//!
//! # How the platform uses it
//!
//! 1. **Saving a source.** A department describes where its data lives as a
//!    [`PullSource`] (stored as JSON, tagged by `kind`). Call
//!    [`PullSource::validate`] before saving. The password or token is *not*
//!    in the source: seal it with the deployment's [`SecretKey`]
//!    (`SecretKey::load_or_create(data_dir.join("connector.key"))` once at
//!    start-up) as `key.seal(password, resource_id.as_bytes())`, and store
//!    [`SealedSecret::to_text`] beside the source. The resource id as
//!    associated data means a sealed secret copied to another resource does
//!    not open. Never log or return the opened secret.
//! 2. **"Test connection".** `probe(&source, secret.as_deref(), &limits)`
//!    connects and returns the column names without reading rows (an HTTP
//!    source has to fetch its first page for that). Show
//!    [`ConnectorError::message_zh`] / [`ConnectorError::message_en`] on failure.
//! 3. **Scheduled pull.** On the resource's update schedule, open the secret
//!    (`key.open(&sealed, resource_id.as_bytes())`) and call
//!    [`pull`] with a [`PullSink`] that feeds the same validation and load path
//!    as an uploaded file: `columns` once, then every row as text. The sink is
//!    called from the pulling task, so keep it synchronous and cheap (buffer to
//!    a temporary file or a staging table). **On any `Err` — above all
//!    `connector.source_failed_mid_pull` — discard everything the sink got and
//!    keep the previous version** (loads are atomic). [`ConnectorError::is_transient`]
//!    tells whether retrying later may help.
//!
//! # What rows look like
//!
//! Every value is text: NULL is `""`, numbers are their plain text, dates are
//! `YYYY-MM-DD`, timestamps `YYYY-MM-DDTHH:MM:SS` (with `.ffffff` when the
//! source has fractions of a second), booleans `true`/`false`, bytes lower-case
//! hex. Timestamps *with* a time zone (PostgreSQL `timestamptz`, MySQL
//! `TIMESTAMP`) are given as Beijing wall-clock time (UTC+08:00). Any other
//! PostgreSQL type (numeric, uuid, interval, arrays, enums, JSON) arrives as
//! PostgreSQL's own text output; MySQL `BIT(n)` as its unsigned value.
//! MySQL's protocol marks binary strings and text with a `_bin` collation
//! alike: for a table the declared column types (information_schema) decide;
//! in a SELECT such a value is text when it is valid UTF-8 without control
//! characters and hex otherwise — write `HEX(col)` in the SELECT to be exact.
//!
//! Databases: each pull opens one fresh connection (no pool) with
//! `PullLimits::connect_timeout`, runs inside a read-only transaction
//! (PostgreSQL `SET TRANSACTION READ ONLY`, MySQL `START TRANSACTION READ
//! ONLY`), learns the columns by preparing the query, then streams the rows
//! (text protocol) to the sink one at a time — never all rows in memory. A
//! table name is `[A-Za-z0-9_]` parts (`schema.table`), quoted, so its case
//! matters; any other name (e.g. Chinese) needs the SELECT form. The read-only
//! transaction and the SELECT/WITH check are a second line of defence: give
//! the platform an account that can only read.
//!
//! HTTP JSON: pages are fetched one by one (`HttpPaging`), each at most
//! `PullLimits::max_page_bytes`. Records must be JSON objects; **the first
//! record's keys, in their order, are the columns**. A later record missing a
//! key gets `""` there; a later record with a key the first one lacked fails
//! the pull with `connector.bad_page` naming the key (the sink takes fixed
//! columns, and dropping the value silently would lose data). Nested arrays
//! and objects become their compact JSON text. Numbers beyond `f64`
//! precision lose digits: such sources should send them as strings. With no
//! record at all, the sink gets `columns(&[])`. A page identical to the
//! previous one fails the pull (the source ignores the paging parameter).
//!
//! **https and plain http.** An `https://` source is verified against the
//! machine's certificate store and the deployment's extra authorities
//! (`PullLimits::roots`, from `ca_file`; see [`tls`]); a certificate no trusted
//! authority issued, or one for another name, fails the pull with
//! `connector.tls_failed`, never a silent fallback. Plain `http://` stays
//! allowed for sources inside the government network.
//!
//! **Database connections** follow the source's [`DbTls`]: `prefer` (the
//! default, as libpq's: encrypted when the server offers TLS, the certificate
//! not checked), `require`, `verify_full` (the certificate from an authority of
//! the system's store or `ca_file`, for the host name given) or `disable`. A
//! handshake that fails, or a server without TLS where it is required, fails
//! the pull with `connector.tls_failed` before the password is sent.
//! Redirects are followed only to the same origin, so the secret header never
//! leaves for another host. The `HTTP_PROXY`/`NO_PROXY` environment is honoured.

mod db;
mod error;
mod http;
mod json;
mod mysql;
mod postgres;
mod secret;
mod source;
pub mod tls;
pub mod upstream;

pub use error::ConnectorError;
pub use secret::{SealedSecret, SecretKey};
pub use source::{DbTls, HttpPaging, PullLimits, PullSource, SourceQuery};
pub use tls::TrustedRoots;

/// COL-1: receives pulled records: the column names first (exactly once), then
/// each row as text fields in column order. Returning `Err` stops the pull
/// with `connector.sink_rejected`.
pub trait PullSink: Send {
    fn columns(&mut self, names: &[String]) -> Result<(), String>;
    /// `row_number` counts from 1 across the whole pull (all pages).
    fn row(&mut self, row_number: u64, fields: Vec<String>) -> Result<(), String>;
}

/// What a successful pull delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PullSummary {
    pub rows: u64,
    /// HTTP pages fetched (including the final empty or short one); 1 for a database.
    pub pages: u64,
}

/// COL-1: runs the pull with the opened secret (database password or HTTP
/// token; `None` for none), streaming every record into `sink`.
///
/// On `Err` the sink may already hold some rows: the caller must discard them.
pub async fn pull(
    source: &PullSource,
    secret: Option<&str>,
    sink: &mut dyn PullSink,
    limits: &PullLimits,
) -> Result<PullSummary, ConnectorError> {
    source.validate()?;
    match source {
        PullSource::Postgres { .. } => {
            let rows = postgres::pull(&db_target(source), secret, sink, limits).await?;
            Ok(PullSummary { rows, pages: 1 })
        }
        PullSource::MySql { .. } => {
            let rows = mysql::pull(&db_target(source), secret, sink, limits).await?;
            Ok(PullSummary { rows, pages: 1 })
        }
        PullSource::HttpJson { .. } => http::pull(&http_target(source), secret, sink, limits).await,
    }
}

/// COL-1: checks that the source is reachable and accepts the credentials and
/// query, and returns the column names without reading rows (HTTP: from the
/// first record of the first page). For a "test connection" button.
pub async fn probe(
    source: &PullSource,
    secret: Option<&str>,
    limits: &PullLimits,
) -> Result<Vec<String>, ConnectorError> {
    source.validate()?;
    match source {
        PullSource::Postgres { .. } => postgres::probe(&db_target(source), secret, limits).await,
        PullSource::MySql { .. } => mysql::probe(&db_target(source), secret, limits).await,
        PullSource::HttpJson { .. } => http::probe(&http_target(source), secret, limits).await,
    }
}

fn db_target(source: &PullSource) -> db::Target<'_> {
    match source {
        PullSource::Postgres {
            host,
            port,
            database,
            user,
            query,
            tls,
        }
        | PullSource::MySql {
            host,
            port,
            database,
            user,
            query,
            tls,
        } => db::Target {
            host,
            port: *port,
            database,
            user,
            query,
            tls: *tls,
        },
        PullSource::HttpJson { .. } => unreachable!("only called for database sources"),
    }
}

fn http_target(source: &PullSource) -> http::Target<'_> {
    match source {
        PullSource::HttpJson {
            url,
            records_path,
            paging,
            auth_header,
        } => http::Target {
            url,
            records_path,
            paging,
            auth_header: auth_header.as_deref(),
        },
        _ => unreachable!("only called for HTTP sources"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;
    impl PullSink for Nothing {
        fn columns(&mut self, _: &[String]) -> Result<(), String> {
            Ok(())
        }
        fn row(&mut self, _: u64, _: Vec<String>) -> Result<(), String> {
            Ok(())
        }
    }

    fn assert_send<T: Send>(_: &T) {}

    /// The platform runs pulls on spawned tasks: the futures must be `Send`.
    #[test]
    fn col_1_pull_and_probe_futures_are_send() {
        let source = PullSource::HttpJson {
            url: "http://127.0.0.1:9/".into(),
            records_path: String::new(),
            paging: HttpPaging::None,
            auth_header: None,
        };
        let limits = PullLimits::default();
        let mut sink = Nothing;
        let pulling = pull(&source, None, &mut sink, &limits);
        assert_send(&pulling);
        let probing = probe(&source, None, &limits);
        assert_send(&probing);
    }
}
