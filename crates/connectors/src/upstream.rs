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
    /// The authorities an `https://` upper node's certificate may come from.
    pub roots: crate::TrustedRoots,
}

impl std::fmt::Debug for UpstreamTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTarget")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("roots", &self.roots)
            .finish()
    }
}

/// Why a call to the upper node failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// The configured address is not a usable URL.
    BadUrl(String),
    /// No connection to the upper node: retrying later may help.
    Unreachable(String),
    /// The TLS handshake with the upper node failed (its certificate is not trusted,
    /// is for another name, or expired): someone must fix the configuration.
    Tls(String),
    /// Connected, but the exchange broke off (a timeout, a cut connection, an answer
    /// that is not JSON): retrying later may help.
    Broken(String),
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
            UpstreamError::Unreachable(_) | UpstreamError::BadUrl(_) | UpstreamError::Tls(_) => {
                true
            }
            // A proxy in front of the upper node that cannot reach it answers 502–504.
            UpstreamError::Refused { status, .. } => matches!(status, 401 | 403 | 502..=504),
            UpstreamError::Broken(_) | UpstreamError::Io(_) => false,
        }
    }

    /// A gateway's timeout (504): on a long upload, the proxy's patience ran out.
    pub fn is_gateway_timeout(&self) -> bool {
        matches!(self, UpstreamError::Refused { status: 504, .. })
    }

    pub fn message_zh(&self) -> String {
        match self {
            UpstreamError::BadUrl(d) => format!("上级平台地址无效：{d}"),
            UpstreamError::Unreachable(d) => format!("无法连接上级平台：{d}"),
            UpstreamError::Tls(d) => format!(
                "与上级平台的 TLS 连接失败（证书不受信任、已过期或与地址不符；内部 CA 签发的证书须在 ca_file 中配置）：{d}"
            ),
            UpstreamError::Broken(d) => format!("与上级平台的通信中断：{d}"),
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
            UpstreamError::Tls(d) => format!(
                "the TLS connection to the upper node failed (is its certificate authority in ca_file?): {d}"
            ),
            UpstreamError::Broken(d) => format!("the exchange with the upper node broke off: {d}"),
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
                "{}: 地址须以 https:// 或 http:// 开头 / the address must start with https:// or http://",
                base.host_str().unwrap_or_default()
            )));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(UpstreamError::BadUrl(
                "地址中不能含用户名或密码，令牌放在 GONGSHU_UPSTREAM_TOKEN / the address cannot carry credentials: the token goes in GONGSHU_UPSTREAM_TOKEN".into(),
            ));
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", target.token.trim()))
            .map_err(|_| UpstreamError::BadUrl("the token cannot be sent in a header".into()))?;
        auth.set_sensitive(true);
        let client = target
            .roots
            .client_builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30 * 60))
            .user_agent("gongshu-upstream")
            // The token goes to the configured node only.
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|e| UpstreamError::BadUrl(e.to_string()))?;
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
            .map_err(transport)?;
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
            .map_err(transport)?;
        answer(response).await
    }
}

/// A transport error, told apart by whether a connection was made; without the URL
/// (which may carry a query the log should not).
fn transport(e: reqwest::Error) -> UpstreamError {
    if let Some(tls) = crate::tls::tls_failure(&e) {
        return UpstreamError::Tls(tls);
    }
    let connect = e.is_connect();
    let text = e.without_url().to_string();
    if connect {
        UpstreamError::Unreachable(text)
    } else {
        UpstreamError::Broken(text)
    }
}

async fn answer(response: reqwest::Response) -> Result<Value, UpstreamError> {
    let status = response.status();
    let body: Value = match response.json().await {
        Ok(body) => body,
        // A proxy's error page, say: the status still tells what happened.
        Err(_) if !status.is_success() => {
            return Err(UpstreamError::Refused {
                status: status.as_u16(),
                code: String::new(),
                message: status.canonical_reason().unwrap_or_default().to_string(),
            })
        }
        Err(e) => return Err(transport(e)),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> UpstreamTarget {
        UpstreamTarget {
            url: url.into(),
            token: "gs_token".into(),
            roots: crate::TrustedRoots::system(),
        }
    }

    #[test]
    fn col_7_the_upper_node_address_is_http_or_https_without_credentials() {
        assert!(UpstreamClient::new(&target("http://upper.example:8080")).is_ok());
        assert!(UpstreamClient::new(&target("https://upper.example/gongshu/")).is_ok());
        for bad in [
            "https://user:secret@upper.example",
            "ftp://upper.example",
            "http://user:secret@upper.example",
            "not a url",
        ] {
            let e = UpstreamClient::new(&target(bad)).err().expect(bad);
            assert!(matches!(e, UpstreamError::BadUrl(_)), "{bad}: {e:?}");
            assert!(!e.message_en().contains("secret"), "{bad}: {e:?}");
        }
    }

    #[test]
    fn col_7_only_failures_of_the_whole_node_stop_a_report_run() {
        let refused = |status| UpstreamError::Refused {
            status,
            code: String::new(),
            message: String::new(),
        };
        for node_wide in [
            UpstreamError::Unreachable("refused".into()),
            UpstreamError::Tls("invalid peer certificate: UnknownIssuer".into()),
            refused(401),
            refused(403),
            refused(502),
            refused(504),
        ] {
            assert!(node_wide.concerns_every_entry(), "{node_wide:?}");
        }
        for one_entry in [
            UpstreamError::Broken("timed out".into()),
            UpstreamError::Io("gone".into()),
            refused(400),
            refused(409),
            refused(413),
            refused(500),
        ] {
            assert!(!one_entry.concerns_every_entry(), "{one_entry:?}");
        }
    }

    #[test]
    fn col_7_the_token_never_shows_in_debug_output() {
        let shown = format!("{:?}", target("http://upper.example"));
        assert!(!shown.contains("gs_token"), "{shown}");
    }
}
