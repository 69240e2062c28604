//! Configuration: defaults work with no file; `gongshu.toml` and `GONGSHU_*`
//! variables override. Secrets are never printed (`Debug` redacts the database URL).
use std::path::{Path, PathBuf};

use gongshu_domain::calendar::WorkCalendar;
use gongshu_domain::deadlines::DeadlinePolicy;
use gongshu_services::Settings;
use serde::Deserialize;

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Directory of the embedded store and other local files.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; absent means SQLite under `data_dir`.
    pub database_url: Option<String>,
    /// The address users reach the console at; `https://` makes cookies Secure.
    pub public_url: String,
    /// Extra working-day tables (TOML files) for years after those shipped.
    pub calendar_files: Vec<PathBuf>,
    /// Overrides of the deadline policy, e.g. `catalog_authority_review = 12`.
    pub deadlines: toml::Table,
    pub settings: Settings,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Run background jobs on this node.
    pub run_jobs: bool,
    /// COL-7 (XJ 13): the next level's platform node this node reports to.
    pub upstream: UpstreamConfig,
    /// A PEM file of certificate authorities trusted for `https://` pull sources and
    /// the upper node, beside the system's store (an internal government CA, say).
    pub ca_file: Option<PathBuf>,
}

/// `[upstream]`: where this node reports its catalog data. The token the upper node
/// issued to this level's data authority comes from `GONGSHU_UPSTREAM_TOKEN`, never
/// from the file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The upper node's address, e.g. `https://upper-node.example/`; its certificate
    /// must come from the system's store or `ca_file`. Empty: none.
    pub url: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "<redacted>"),
            )
            .field("public_url", &self.public_url)
            .field("calendar_files", &self.calendar_files)
            .field("settings", &self.settings)
            .field("upstream", &self.upstream)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("gongshu-data"),
            database_url: None,
            public_url: "http://127.0.0.1:8080".into(),
            calendar_files: Vec::new(),
            deadlines: toml::Table::new(),
            settings: Settings::default(),
            max_body_bytes: 1024 * 1024,
            run_jobs: true,
            upstream: UpstreamConfig::default(),
            ca_file: None,
        }
    }
}

impl Config {
    /// Reads `path` if given (or `./gongshu.toml` if it exists), then `GONGSHU_*` variables.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = match path {
            Some(p) => Self::from_file(p)?,
            None if Path::new("gongshu.toml").exists() => {
                Self::from_file(Path::new("gongshu.toml"))?
            }
            None => Self::default(),
        };
        if let Ok(url) = std::env::var("GONGSHU_DATABASE_URL") {
            if !url.is_empty() {
                config.database_url = Some(url);
            }
        }
        if let Ok(dir) = std::env::var("GONGSHU_DATA_DIR") {
            config.data_dir = PathBuf::from(dir);
        }
        if let Ok(listen) = std::env::var("GONGSHU_LISTEN") {
            config.listen = listen;
        }
        if let Ok(url) = std::env::var("GONGSHU_PUBLIC_URL") {
            config.public_url = url;
        }
        if let Ok(url) = std::env::var("GONGSHU_UPSTREAM_URL") {
            config.upstream.url = url;
        }
        if let Ok(file) = std::env::var("GONGSHU_CA_FILE") {
            config.ca_file = (!file.is_empty()).then(|| PathBuf::from(file));
        }
        Ok(config)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "读取配置文件 {} 失败 / cannot read config: {e}",
                path.display()
            )
        })?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("配置文件 {} 有误 / invalid config: {e}", path.display()))
    }

    /// COL-7: the upper node to report to, when `[upstream] url` is set; the token
    /// must then be in `GONGSHU_UPSTREAM_TOKEN`.
    pub fn upstream_target(
        &self,
    ) -> anyhow::Result<Option<gongshu_services::upstream::UpstreamTarget>> {
        let url = self.upstream.url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let token = std::env::var("GONGSHU_UPSTREAM_TOKEN").unwrap_or_default();
        if token.trim().is_empty() {
            anyhow::bail!(
                "已配置上级平台 {url}，但未设置 GONGSHU_UPSTREAM_TOKEN / an upper node is configured but GONGSHU_UPSTREAM_TOKEN is not set"
            );
        }
        let target = gongshu_services::upstream::UpstreamTarget {
            url: url.to_string(),
            token: token.trim().to_string(),
            roots: self.tls_roots()?,
        };
        gongshu_services::upstream::check_target(&target)
            .map_err(|e| anyhow::anyhow!("[upstream] url: {e}"))?;
        Ok(Some(target))
    }

    /// COL-1, COL-7: the authorities `https://` connections trust: the system's
    /// store, and those of `ca_file` when set (a file without one stops the start).
    pub fn tls_roots(&self) -> anyhow::Result<gongshu_services::TrustedRoots> {
        match &self.ca_file {
            None => Ok(gongshu_services::TrustedRoots::system()),
            Some(path) => gongshu_services::TrustedRoots::from_file(path)
                .map_err(|e| anyhow::anyhow!("ca_file: {e}")),
        }
    }

    /// Cookies carry `Secure` when users reach the console over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The official calendar plus any configured extra years.
    pub fn calendar(&self) -> anyhow::Result<WorkCalendar> {
        let mut cal = WorkCalendar::official();
        for file in &self.calendar_files {
            let text = std::fs::read_to_string(file).map_err(|e| {
                anyhow::anyhow!(
                    "读取工作日历 {} 失败 / cannot read calendar file: {e}",
                    file.display()
                )
            })?;
            cal.load_year_toml(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{} — {}: {}",
                    file.display(),
                    e.message_zh(),
                    e.message_en()
                )
            })?;
        }
        Ok(cal)
    }

    pub fn deadline_policy(&self) -> anyhow::Result<DeadlinePolicy> {
        DeadlinePolicy::strictest()
            .with_overrides_table(&self.deadlines)
            .map_err(|e| anyhow::anyhow!("{} / {}", e.message_zh(), e.message_en()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn col_1_a_ca_file_without_a_certificate_stops_the_start() {
        assert!(
            Config::default().tls_roots().is_ok(),
            "the system's store alone"
        );
        let parsed: Config = toml::from_str("ca_file = \"/etc/gongshu/internal-ca.pem\"").unwrap();
        assert_eq!(
            parsed.ca_file.as_deref(),
            Some(Path::new("/etc/gongshu/internal-ca.pem"))
        );
        let dir = std::env::temp_dir().join(format!("gongshu-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not-a-certificate.pem");
        std::fs::write(&not_pem, "这不是证书 not a certificate").unwrap();
        for file in [not_pem, dir.join("missing.pem")] {
            let config = Config {
                ca_file: Some(file.clone()),
                ..Config::default()
            };
            let err = config.tls_roots().unwrap_err().to_string();
            assert!(err.starts_with("ca_file: "), "{err}");
            assert!(err.contains(&file.display().to_string()), "{err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
