//! Per-deployment settings with defaults that work with no file.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// GOV-5: exchange and query logs are kept 15 years (CZ 35).
    pub audit_retention_years: u32,
    /// GOV-5: records of each dataset's use kept at least 3 years (XJ 15).
    pub use_log_retention_years: u32,
    /// SEC-3: consecutive failed logins before the account locks.
    pub login_max_failures: i32,
    pub lockout_minutes: i64,
    pub session_hours: i64,
    /// Longest life of an API token.
    pub token_max_days: i64,
    /// Shortest accepted password.
    pub password_min_length: usize,
    /// OPN-6: the smallest k a release of personal data must reach (a department may ask more).
    pub release_min_k: u32,
    /// OPN-6: the largest share of rows (percent) a release may drop to reach k.
    pub release_max_suppression_percent: u32,
    /// COL-7: the division this node serves (e.g. `830000`). Only the data authority
    /// of a division whose nearest node-running ancestor is this one may report
    /// here; while unset, the node takes no reports.
    pub node_division: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            audit_retention_years: 15,
            use_log_retention_years: 3,
            login_max_failures: 5,
            lockout_minutes: 15,
            session_hours: 12,
            token_max_days: 365,
            password_min_length: 10,
            release_min_k: gongshu_domain::release::DEFAULT_MIN_K,
            release_max_suppression_percent:
                gongshu_domain::release::DEFAULT_MAX_SUPPRESSION_PERCENT,
            node_division: None,
        }
    }
}
