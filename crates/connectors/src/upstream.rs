//! COL-7 (XJ 13): the calls a node makes to the next level's platform node to
//! report its catalog entries and their data. The upper node answers with its
//! ordinary JSON API; this client only carries requests and their answers.
use std::path::Path;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{redirect, Body, Client, Url};
use serde_json::Value;

/// The upper node and the API token it issued to this node's data authority.
#[derive(Clone)]
pub struct UpstreamTarget {
    pub url: String,
    pub token: String,
}

impl std::fmt::Debug for UpstreamTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTarget")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Why a call to the upper node failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// The configured address is not a usable URL.
    BadUrl(String),
    /// No answer, a broken connection, or a timeout: retrying later may help.
    Unreachable(String),
    /// The upper node answered with an error: its status, code and message.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// A local file could not be read.
    Io(String),
}

impl UpstreamError {
    /// Whether the failure is the node's, not the entry's: the upper node cannot be
    /// reached or does not accept this node's token, so every other entry would
    /// fail the same way.
    pub fn concerns_every_entry(&self) -> bool {
        match self {
            UpstreamError::Unreachable(_) | UpstreamError::BadUrl(_) => true,
            UpstreamError::Refused { status, .. } => matches!(status, 401 | 403),
            UpstreamError::Io(_) => false,
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            UpstreamError::BadUrl(d) => format!("上级平台地址无效：{d}"),
            UpstreamError::Unreachable(d) => format!("无法连接上级平台：{d}"),
            UpstreamError::Refused {
                status,
                code,
                message,
            } => format!("上级平台拒绝（{status} {code}）：{message}"),
            UpstreamError::Io(d) => format!("读取待报送文件失败：{d}"),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            UpstreamError::BadUrl(d) => format!("the upper node's address is invalid: {d}"),
            UpstreamError::Unreachable(d) => format!("cannot reach the upper node: {d}"),
            UpstreamError::Refused {
                status,
                code,
                message,
            } => format!("the upper node refused ({status} {code}): {message}"),
            UpstreamError::Io(d) => format!("cannot read the file to report: {d}"),
        }
    }
}

/// A client of one upper node.
pub struct UpstreamClient {
    client: Client,
    base: Url,
    auth: HeaderValue,
}

impl UpstreamClient {
    pub fn new(target: &UpstreamTarget) -> Result<Self, UpstreamError> {
        let mut base = Url::parse(target.url.trim())
            .map_err(|e| UpstreamError::BadUrl(format!("{}: {e}", target.url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(UpstreamError::BadUrl(format!(
                "{}: http:// or https://",
                target.url
            )));
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", target.token.trim()))
            .map_err(|_| UpstreamError::BadUrl("the token cannot be sent in a header".into()))?;
        auth.set_sensitive(true);
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30 * 60))
            .user_agent("gongshu-upstream")
            // The token goes to the configured node only.
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
        Ok(Self { client, base, auth })
    }

    fn url(&self, path: &str) -> Result<Url, UpstreamError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| UpstreamError::BadUrl(e.to_string()))
    }

    /// Reports one catalog entry (`POST api/v1/upstream/received`); returns the
    /// upper node's answer.
    pub async fn report_entry(&self, report: &Value) -> Result<Value, UpstreamError> {
        let response = self
            .client
            .post(self.url("api/v1/upstream/received")?)
            .header(AUTHORIZATION, self.auth.clone())
            .json(report)
            .send()
            .await
            .map_err(|e| UpstreamError::Unreachable(without_url(e)))?;
        answer(response).await
    }

    /// Uploads a CSV file as a full version of `upper_code`'s data, streamed from
    /// disk. The idempotency key makes a repeated upload of the same version return
    /// the first outcome instead of loading twice.
    pub async fn upload_version(
        &self,
        upper_code: &str,
        csv: &Path,
        idempotency_key: &str,
    ) -> Result<Value, UpstreamError> {
        let mut url = self.url(&format!("api/v1/datasets/{upper_code}/loads"))?;
        url.query_pairs_mut()
            .append_pair("format", "csv")
            .append_pair("encoding", "utf-8")
            .append_pair("mode", "replace")
            .append_pair("idempotency_key", idempotency_key);
        let file = tokio::fs::File::open(csv)
            .await
            .map_err(|e| UpstreamError::Io(e.to_string()))?;
        let response = self
            .client
            .post(url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv"),
            )
            .body(Body::from(file))
            .send()
            .await
            .map_err(|e| UpstreamError::Unreachable(without_url(e)))?;
        answer(response).await
    }
}

/// The transport error without the URL (which may carry a query the log should not).
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

async fn answer(response: reqwest::Response) -> Result<Value, UpstreamError> {
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| UpstreamError::Unreachable(without_url(e)))?;
    // A load the upper node refused (422) still carries the load: the caller reads it.
    if status.is_success() || status.as_u16() == 422 && body.get("status").is_some() {
        return Ok(body);
    }
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Err(UpstreamError::Refused {
        status: status.as_u16(),
        code: text("code"),
        message: text("message"),
    })
}
