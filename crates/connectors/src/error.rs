//! COL-1: the one error type of a pull, a probe and secret handling, with stable codes and 中文/English messages.

use std::fmt;

/// Why a pull, a probe, or opening a secret failed.
///
/// Every variant has a stable [`code`](Self::code) and messages in Chinese
/// ([`message_zh`](Self::message_zh), first-class) and English
/// ([`message_en`](Self::message_en), also the `Display` text). Details copied
/// from a source (a database's error text, an HTTP status) never contain the
/// secret: they are scrubbed before they get here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorError {
    /// The source description itself is unusable (empty host, bad URL, …).
    #[error("the source settings are invalid: {reason}")]
    SourceInvalid { reason: String },
    /// The table name or SELECT was refused before (or by) the read-only check.
    #[error("the query was refused: {reason}")]
    QueryRefused { reason: String },
    /// The source could not be reached, or did not answer in time.
    #[error("the source is unreachable: {detail}")]
    Unreachable { detail: String },
    /// The TLS handshake failed: a certificate no trusted authority issued, one
    /// for another name or expired; or a database without TLS where the source
    /// requires it. Someone must fix it; retrying will not.
    #[error("the TLS connection to the source failed (is its certificate authority in ca_file, and does the database have TLS on?): {detail}")]
    TlsFailed { detail: String },
    /// The source refused the credentials.
    #[error("the source refused the credentials: {detail}")]
    AuthFailed { detail: String },
    /// The source needs a secret (password or token) and none was given.
    #[error("the source needs a secret and none is stored")]
    SecretMissing,
    /// The source accepted the connection but failed the query (no such table, syntax, permission).
    #[error("the source could not run the query: {detail}")]
    QueryFailed { detail: String },
    /// The source failed after some rows were delivered; the caller must discard the partial load.
    #[error("the source failed after {rows} rows: {detail}")]
    SourceFailedMidPull { rows: u64, detail: String },
    /// An HTTP page was not what the source description promised.
    #[error("page {page} is not usable: {detail}")]
    BadPage { page: u64, detail: String },
    /// An HTTP page is larger than `PullLimits::max_page_bytes`.
    #[error("page {page} is larger than {limit} bytes")]
    PageTooLarge { page: u64, limit: usize },
    /// The source has more rows than `PullLimits::max_rows`.
    #[error("the source has more than {limit} rows")]
    TooManyRows { limit: u64 },
    /// The source has more pages than `PullLimits::max_pages`.
    #[error("the source has more than {limit} pages")]
    TooManyPages { limit: u64 },
    /// The sink refused a row (or the column names, `row` = 0); the pull stopped.
    #[error("the receiver stopped the pull at row {row}: {reason}")]
    SinkRejected { row: u64, reason: String },
    /// A sealed secret is malformed, or was sealed under another key or for another owner.
    #[error("the stored secret cannot be opened (wrong key, wrong owner, or damaged)")]
    SecretInvalid,
    /// The deployment's key file could not be read, parsed or created.
    #[error("the key file {path} cannot be used: {detail}")]
    KeyFile { path: String, detail: String },
}

impl ConnectorError {
    /// The stable code, e.g. `connector.unreachable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SourceInvalid { .. } => "connector.source_invalid",
            Self::QueryRefused { .. } => "connector.query_refused",
            Self::Unreachable { .. } => "connector.unreachable",
            Self::TlsFailed { .. } => "connector.tls_failed",
            Self::AuthFailed { .. } => "connector.auth_failed",
            Self::SecretMissing => "connector.secret_missing",
            Self::QueryFailed { .. } => "connector.query_failed",
            Self::SourceFailedMidPull { .. } => "connector.source_failed_mid_pull",
            Self::BadPage { .. } => "connector.bad_page",
            Self::PageTooLarge { .. } => "connector.page_too_large",
            Self::TooManyRows { .. } => "connector.too_many_rows",
            Self::TooManyPages { .. } => "connector.too_many_pages",
            Self::SinkRejected { .. } => "connector.sink_rejected",
            Self::SecretInvalid => "connector.secret_invalid",
            Self::KeyFile { .. } => "connector.key_file",
        }
    }

    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::SourceInvalid { reason } => format!("数据源配置无效：{reason}"),
            Self::QueryRefused { reason } => format!("查询被拒绝：{reason}"),
            Self::Unreachable { detail } => format!("无法连接数据源：{detail}"),
            Self::TlsFailed { detail } => format!(
                "与数据源的 TLS 连接失败（证书不受信任、已过期或与地址不符，或数据库未开启 TLS；内部 CA 签发的证书须在 ca_file 中配置）：{detail}"
            ),
            Self::AuthFailed { detail } => format!("数据源拒绝了账号或凭据：{detail}"),
            Self::SecretMissing => "数据源需要密码或令牌，但尚未保存".to_string(),
            Self::QueryFailed { detail } => format!("数据源无法执行查询：{detail}"),
            Self::SourceFailedMidPull { rows, detail } => {
                format!("数据源在读取第 {rows} 行后断开，本次已读取的数据须丢弃：{detail}")
            }
            Self::BadPage { page, detail } => format!("第 {page} 页数据格式不符：{detail}"),
            Self::PageTooLarge { page, limit } => {
                format!("第 {page} 页超过 {limit} 字节的上限")
            }
            Self::TooManyRows { limit } => format!("数据源的行数超过上限 {limit} 行"),
            Self::TooManyPages { limit } => format!("数据源的页数超过上限 {limit} 页"),
            Self::SinkRejected { row, reason } => {
                format!("接收方在第 {row} 行停止了读取：{reason}")
            }
            Self::SecretInvalid => "保存的凭据无法解密（密钥不符、归属不符或已损坏）".to_string(),
            Self::KeyFile { path, detail } => format!("密钥文件 {path} 无法使用：{detail}"),
        }
    }

    /// The message in English (the same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }

    /// Whether trying the same pull later may succeed (the source was down or
    /// failed mid-way), as opposed to a problem someone must fix first.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. } | Self::SourceFailedMidPull { .. }
        )
    }
}

/// Text from a source with the secret replaced, so no error message or log line can carry it.
pub(crate) fn scrub(detail: impl fmt::Display, secret: Option<&str>) -> String {
    let text = detail.to_string();
    match secret {
        Some(secret) if !secret.is_empty() && text.contains(secret) => {
            text.replace(secret, "******")
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn col_1_mid_pull_message_names_the_row_count_in_both_languages() {
        let err = ConnectorError::SourceFailedMidPull {
            rows: 1200,
            detail: "connection reset".into(),
        };
        assert_eq!(err.code(), "connector.source_failed_mid_pull");
        assert!(err.message_zh().contains("数据源在读取第 1200 行后断开"));
        assert!(err
            .message_en()
            .contains("the source failed after 1200 rows"));
        assert!(err.is_transient());
    }

    #[test]
    fn scrub_removes_the_secret() {
        assert_eq!(
            scrub("password hunter2 rejected", Some("hunter2")),
            "password ****** rejected"
        );
        assert_eq!(scrub("x", Some("")), "x");
        assert_eq!(scrub("x", None), "x");
    }
}
