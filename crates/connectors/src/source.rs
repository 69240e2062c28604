//! COL-1: where a pull reads from, stored by the platform as JSON; secrets are never part of it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ConnectorError;

/// COL-1: where a pull reads from. Serialised as JSON tagged by `kind`
/// (`"postgres"`, `"mysql"` or `"http_json"`). The password or token is not in
/// here: it is stored sealed (see [`crate::SealedSecret`]) and passed to
/// [`crate::pull`] opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PullSource {
    /// A PostgreSQL table or query.
    Postgres {
        host: String,
        port: u16,
        database: String,
        user: String,
        /// A table name (`schema.table` allowed) or a SELECT query.
        query: SourceQuery,
        /// Whether the connection is encrypted and the server's certificate checked.
        #[serde(default)]
        tls: DbTls,
    },
    /// A MySQL or MariaDB table or query.
    #[serde(rename = "mysql")]
    MySql {
        host: String,
        port: u16,
        database: String,
        user: String,
        /// A table name (`database.table` allowed) or a SELECT query.
        query: SourceQuery,
        /// Whether the connection is encrypted and the server's certificate checked.
        #[serde(default)]
        tls: DbTls,
    },
    /// An HTTP endpoint answering JSON, page by page.
    HttpJson {
        /// `https://…`, or `http://…` inside the government network.
        url: String,
        /// Where the array of records is in each page, as a dot path
        /// (`"data.items"`); `""` means the page itself is the array.
        #[serde(default)]
        records_path: String,
        #[serde(default)]
        paging: HttpPaging,
        /// The header that carries the secret, e.g. `Authorization` (its value
        /// is the whole secret, so store `Bearer …` if the source wants that).
        #[serde(default)]
        auth_header: Option<String>,
    },
}

/// TLS on a database source's connection. A source saved before this setting
/// existed reads as [`DbTls::Prefer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbTls {
    /// Encrypted when the server offers TLS, plain otherwise; the certificate is
    /// not checked (libpq's `prefer`, MySQL's `PREFERRED`).
    #[default]
    Prefer,
    /// Encrypted or no connection; the certificate is not checked.
    Require,
    /// Encrypted, with a certificate from a trusted authority (the system's or
    /// `ca_file`'s) for the host name given; the setting to use across networks.
    VerifyFull,
    /// Never encrypted.
    Disable,
}

impl DbTls {
    /// The setting's name as stored and shown (`prefer`, `require`, `verify_full`, `disable`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyFull => "verify_full",
            Self::Disable => "disable",
        }
    }
}

/// What to read from a database: a whole table or one SELECT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceQuery {
    /// A table name of `[A-Za-z0-9_]` parts joined by one `.` at most
    /// (`schema.table`). Matched exactly as written (quoted), so case matters.
    Table(String),
    /// One query starting with SELECT or WITH, without `;`. It always runs in a
    /// read-only transaction as well; give the platform a read-only account
    /// all the same.
    Select(String),
}

/// How an HTTP source splits its records into pages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HttpPaging {
    /// One request; the answer holds every record.
    #[default]
    None,
    /// `?page=1`, `2`, … until a page with no records.
    PageNumber {
        param: String,
        /// If set, `&size_param=size` is sent with each request.
        #[serde(default)]
        size_param: Option<String>,
        size: u32,
    },
    /// `?offset=0`, `limit`, `2*limit`, … until a page shorter than `limit`.
    Offset {
        offset_param: String,
        limit_param: String,
        limit: u32,
    },
}

/// Bounds on one pull, so a misbehaving source cannot exhaust the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullLimits {
    /// How long to wait for a connection (TCP and the database handshake).
    pub connect_timeout: Duration,
    /// How long to wait for the next HTTP page, or for the next database row
    /// (including the first, so it also bounds a slow query's start).
    pub read_timeout: Duration,
    /// More rows than this fail the pull with `connector.too_many_rows`.
    pub max_rows: u64,
    /// More HTTP pages than this fail the pull with `connector.too_many_pages`.
    pub max_pages: u64,
    /// A larger HTTP page fails the pull with `connector.page_too_large`.
    pub max_page_bytes: usize,
    /// The authorities an `https://` source's certificate may come from.
    pub roots: crate::TrustedRoots,
}

impl Default for PullLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(300),
            max_rows: 50_000_000,
            max_pages: 100_000,
            max_page_bytes: 64 * 1024 * 1024,
            roots: crate::TrustedRoots::system(),
        }
    }
}

impl PullSource {
    /// Checks the description without contacting the source; the platform
    /// should call it when a department saves a source. `pull` and `probe`
    /// call it too.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        match self {
            Self::Postgres {
                host,
                port,
                database,
                user,
                query,
                ..
            }
            | Self::MySql {
                host,
                port,
                database,
                user,
                query,
                ..
            } => {
                validate_db_target(host, *port, database, user)?;
                query.validate()
            }
            Self::HttpJson {
                url,
                records_path,
                paging,
                auth_header,
            } => {
                validate_http_url(url)?;
                if !records_path.is_empty() && records_path.split('.').any(str::is_empty) {
                    return Err(invalid(format!(
                        "the records path \"{records_path}\" has an empty part"
                    )));
                }
                paging.validate()?;
                if let Some(name) = auth_header {
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return Err(invalid(format!("\"{name}\" is not a valid header name")));
                    }
                }
                Ok(())
            }
        }
    }
}

impl SourceQuery {
    /// Checks the table name or the SELECT text (see the variants).
    pub fn validate(&self) -> Result<(), ConnectorError> {
        match self {
            Self::Table(name) => table_parts(name).map(|_| ()),
            Self::Select(sql) => {
                let trimmed = sql.trim_start();
                let first: String = trimmed
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect::<String>()
                    .to_ascii_uppercase();
                if first != "SELECT" && first != "WITH" {
                    return Err(refused(
                        "only a query starting with SELECT or WITH is allowed",
                    ));
                }
                if sql.contains(';') {
                    return Err(refused("the query must not contain ';'"));
                }
                let words: Vec<String> = sql
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|w| !w.is_empty())
                    .map(str::to_ascii_uppercase)
                    .collect();
                if words
                    .windows(2)
                    .any(|w| w[0] == "INTO" && (w[1] == "OUTFILE" || w[1] == "DUMPFILE"))
                {
                    return Err(refused("the query must not write files (INTO OUTFILE)"));
                }
                Ok(())
            }
        }
    }

    /// The SQL to run, with table identifiers quoted by `quote` (`"` or `` ` ``).
    pub(crate) fn to_sql(&self, quote: char) -> Result<String, ConnectorError> {
        match self {
            Self::Table(name) => {
                let quoted: Vec<String> = table_parts(name)?
                    .iter()
                    .map(|part| format!("{quote}{part}{quote}"))
                    .collect();
                Ok(format!("SELECT * FROM {}", quoted.join(".")))
            }
            Self::Select(sql) => {
                self.validate()?;
                Ok(sql.trim().to_string())
            }
        }
    }
}

impl HttpPaging {
    fn validate(&self) -> Result<(), ConnectorError> {
        let check_param = |name: &str| {
            if name.is_empty() || name.contains(['&', '=', '#', ' ']) {
                Err(invalid(format!(
                    "\"{name}\" is not a usable query parameter name"
                )))
            } else {
                Ok(())
            }
        };
        match self {
            Self::None => Ok(()),
            Self::PageNumber {
                param,
                size_param,
                size,
            } => {
                check_param(param)?;
                if let Some(size_param) = size_param {
                    check_param(size_param)?;
                }
                if *size == 0 {
                    return Err(invalid("the page size must be at least 1"));
                }
                Ok(())
            }
            Self::Offset {
                offset_param,
                limit_param,
                limit,
            } => {
                check_param(offset_param)?;
                check_param(limit_param)?;
                if *limit == 0 {
                    return Err(invalid("the page limit must be at least 1"));
                }
                Ok(())
            }
        }
    }
}

fn table_parts(name: &str) -> Result<Vec<&str>, ConnectorError> {
    let parts: Vec<&str> = name.split('.').collect();
    let well_formed = parts.len() <= 2
        && parts.iter().all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if well_formed {
        Ok(parts)
    } else {
        Err(refused(format!(
            "\"{name}\" is not a table name (letters, digits, '_', and one '.' for the schema)"
        )))
    }
}

fn validate_db_target(
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Result<(), ConnectorError> {
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(invalid(format!("\"{host}\" is not a host name or address")));
    }
    if port == 0 {
        return Err(invalid("the port must not be 0"));
    }
    if database.is_empty() {
        return Err(invalid("the database name is empty"));
    }
    if user.is_empty() {
        return Err(invalid("the user name is empty"));
    }
    Ok(())
}

fn validate_http_url(url: &str) -> Result<(), ConnectorError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| invalid(format!("\"{url}\" is not a URL: {e}")))?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(invalid(format!(
                "the URL scheme \"{other}\" is neither http nor https"
            )))
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("\"{url}\" has no host")));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "the URL must not carry a user or password; store the token as the source's secret",
        ));
    }
    Ok(())
}

fn invalid(reason: impl Into<String>) -> ConnectorError {
    ConnectorError::SourceInvalid {
        reason: reason.into(),
    }
}

fn refused(reason: impl Into<String>) -> ConnectorError {
    ConnectorError::QueryRefused {
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(query: SourceQuery) -> PullSource {
        PullSource::Postgres {
            host: "10.0.0.5".into(),
            port: 5432,
            database: "civil".into(),
            user: "reader".into(),
            query,
            tls: DbTls::VerifyFull,
        }
    }

    #[test]
    fn col_1_source_round_trips_as_tagged_json() {
        let sources = [
            pg(SourceQuery::Table("public.people".into())),
            PullSource::MySql {
                host: "db".into(),
                port: 3306,
                database: "d".into(),
                user: "u".into(),
                query: SourceQuery::Select("SELECT 1".into()),
                tls: DbTls::Disable,
            },
            PullSource::HttpJson {
                url: "http://api.local/x".into(),
                records_path: "data.items".into(),
                paging: HttpPaging::Offset {
                    offset_param: "offset".into(),
                    limit_param: "limit".into(),
                    limit: 100,
                },
                auth_header: Some("Authorization".into()),
            },
        ];
        for source in sources {
            let json = serde_json::to_value(&source).unwrap();
            assert!(json["kind"].is_string());
            let back: PullSource = serde_json::from_value(json).unwrap();
            assert_eq!(back, source);
        }
        let json = serde_json::to_value(pg(SourceQuery::Table("t".into()))).unwrap();
        assert_eq!(json["kind"], "postgres");
        assert_eq!(json["query"]["table"], "t");
        assert_eq!(json["tls"], "verify_full");
        let mysql: PullSource = serde_json::from_str(
            r#"{"kind":"mysql","host":"h","port":3306,"database":"d","user":"u","query":{"select":"select 1"}}"#,
        )
        .unwrap();
        // A source saved before the TLS setting existed reads as `prefer`.
        assert!(matches!(
            mysql,
            PullSource::MySql {
                tls: DbTls::Prefer,
                ..
            }
        ));
        let http: PullSource =
            serde_json::from_str(r#"{"kind":"http_json","url":"http://h/x"}"#).unwrap();
        assert_eq!(
            http,
            PullSource::HttpJson {
                url: "http://h/x".into(),
                records_path: String::new(),
                paging: HttpPaging::None,
                auth_header: None
            }
        );
    }

    #[test]
    fn col_1_refuses_writes_and_odd_table_names() {
        for bad in [
            "DELETE FROM people",
            "SELECT 1; DROP TABLE people",
            "update people set a = 1",
            "  ",
            "SELECT * INTO OUTFILE '/tmp/x' FROM people",
        ] {
            let err = pg(SourceQuery::Select(bad.into())).validate().unwrap_err();
            assert_eq!(err.code(), "connector.query_refused", "{bad}");
        }
        for good in [
            "select * from people",
            "  WITH x AS (SELECT 1) SELECT * FROM x",
            "SELECT\n1",
        ] {
            pg(SourceQuery::Select(good.into())).validate().unwrap();
        }
        for bad in ["people; drop", "a.b.c", "", "a..b", "人口", "p\"x", "a b"] {
            let err = pg(SourceQuery::Table(bad.into())).validate().unwrap_err();
            assert_eq!(err.code(), "connector.query_refused", "{bad}");
        }
        for good in ["people", "public.people_2024", "T1"] {
            pg(SourceQuery::Table(good.into())).validate().unwrap();
        }
        assert_eq!(
            SourceQuery::Table("public.people".into())
                .to_sql('"')
                .unwrap(),
            r#"SELECT * FROM "public"."people""#
        );
        assert_eq!(
            SourceQuery::Table("people".into()).to_sql('`').unwrap(),
            "SELECT * FROM `people`"
        );
    }

    #[test]
    fn col_1_http_source_checks() {
        let http = |url: &str, path: &str| PullSource::HttpJson {
            url: url.into(),
            records_path: path.into(),
            paging: HttpPaging::None,
            auth_header: Some("X-Api-Key".into()),
        };
        http("http://127.0.0.1:8080/api?x=1", "data.items")
            .validate()
            .unwrap();
        http("https://api.example.org/v1", "").validate().unwrap();
        for (url, path) in [
            ("https://user:pw@example.org/", ""),
            ("ftp://example.org/", ""),
            ("not a url", ""),
            ("http://user:pw@example.org/", ""),
            ("http://example.org/", "data..items"),
        ] {
            let err = http(url, path).validate().unwrap_err();
            assert_eq!(err.code(), "connector.source_invalid", "{url} {path}");
        }
        let bad_paging = PullSource::HttpJson {
            url: "http://h/".into(),
            records_path: String::new(),
            paging: HttpPaging::PageNumber {
                param: "page".into(),
                size_param: None,
                size: 0,
            },
            auth_header: None,
        };
        assert_eq!(
            bad_paging.validate().unwrap_err().code(),
            "connector.source_invalid"
        );
    }
}
