//! The application handle shared by every edge, and the per-call context.
use std::sync::Arc;

use gongshu_domain::audit::AuditDraft;
use gongshu_domain::calendar::WorkCalendar;
use gongshu_domain::deadlines::DeadlinePolicy;
use gongshu_domain::permissions::Principal;
use gongshu_store::{Change, DataPlane, StatusRecord, Store, StoreError};
use serde::Serialize;

use crate::error::{ServiceError, ServiceResult};
use crate::settings::Settings;

/// Everything a use case needs; built once at start-up.
pub struct App {
    pub store: Arc<dyn Store>,
    pub calendar: WorkCalendar,
    pub deadlines: DeadlinePolicy,
    pub settings: Settings,
    /// CAT-10: this node's catalog search index, rebuilt from the store.
    pub search: Arc<crate::catalog_search::SearchCache>,
    /// OPN-7: this node's snapshot of the open catalog, rebuilt from the store.
    pub open: Arc<crate::open::OpenCache>,
    /// COL-2: dataset metadata, loads and writes of dataset tables. Reading their
    /// rows is not here: only the egress gate holds that (DESIGN 2).
    pub(crate) data: Arc<dyn DataPlane>,
    /// DESIGN 2: the rows of dataset tables, readable only inside the egress gate.
    pub(crate) rows: crate::egress::Rows,
    /// COL-1: seals the credentials of pull connectors (SM4-GCM). A fresh key
    /// unless the deployment loads its key file (launch does).
    pub source_key: Arc<gongshu_connectors::SecretKey>,
    /// SHR-8: keys the egress gate's linkable SM3 pseudonyms; launch loads it from
    /// the data dir so pseudonyms stay stable across restarts and nodes.
    pub mask_key: Arc<gongshu_connectors::SecretKey>,
    /// GOV-5: group commit of access records with their audit anchors, started on
    /// first use (it needs the runtime).
    pub(crate) access_writer: std::sync::OnceLock<crate::audit_writer::AuditWriter>,
    /// SHR-8: calls per grant in the current minute on this node (the rate limit).
    pub(crate) rate_meter: std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>,
    /// OPN-11: page views of open datasets counted on this node, written every few
    /// seconds.
    pub(crate) open_views: Arc<crate::open_usage::ViewMeter>,
    /// COL-7: the next level's platform node this node reports to, set once at
    /// start-up from configuration (none: this node reports nowhere).
    pub upstream: std::sync::OnceLock<gongshu_connectors::upstream::UpstreamTarget>,
    /// COL-1, COL-7: the authorities trusted for `https://` sources beside the
    /// system's (launch loads the configured `ca_file`).
    pub tls_roots: gongshu_connectors::TrustedRoots,
}

impl App {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            data: store.data_plane(),
            rows: crate::egress::Rows::open(store.as_ref()),
            source_key: Arc::new(gongshu_connectors::SecretKey::generate()),
            mask_key: Arc::new(gongshu_connectors::SecretKey::generate()),
            access_writer: std::sync::OnceLock::new(),
            rate_meter: std::sync::Mutex::default(),
            open_views: Arc::default(),
            upstream: std::sync::OnceLock::new(),
            tls_roots: gongshu_connectors::TrustedRoots::system(),
            store,
            calendar: WorkCalendar::official(),
            deadlines: DeadlinePolicy::default(),
            settings: Settings::default(),
            search: Arc::default(),
            open: Arc::default(),
        }
    }
}

impl App {
    /// COL-1: the bounds of one pull, trusting this deployment's authorities.
    pub(crate) fn pull_limits(&self) -> gongshu_connectors::PullLimits {
        gongshu_connectors::PullLimits {
            roots: self.tls_roots.clone(),
            ..gongshu_connectors::PullLimits::default()
        }
    }
}

/// Who calls, under which request id.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub request_id: Option<String>,
}

impl Ctx {
    pub fn new(principal: Principal, request_id: Option<String>) -> Self {
        Self {
            principal,
            request_id,
        }
    }

    pub fn cli() -> Self {
        Self::new(Principal::cli(), None)
    }

    pub fn system() -> Self {
        Self::new(Principal::system(), None)
    }

    /// An audit draft of this caller for `action` on an object.
    pub fn audit(&self, action: &str, object_type: &str, object_id: &str) -> AuditDraft {
        let mut d = AuditDraft::new(self.principal.actor.clone(), action, object_type);
        d.actor_user_id = self.principal.user_id.clone();
        d.org_id = self.principal.org_id.clone();
        d.object_id = Some(object_id.to_string());
        d.request_id = self.request_id.clone();
        d
    }
}

/// JSON text of a before/after summary.
pub fn summary<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// A new object id: time-ordered UUIDv7.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Commits a decision's writes unless the record's status moved since it was read
/// (by a second reviewer, or a deadline sweep): then nothing is written and the
/// answer is false. Without this, the later of two writes would silently undo the
/// earlier one — a second grant for one request, or a decision reverted.
pub(crate) async fn commit_if_status(
    app: &App,
    record: StatusRecord,
    id: &str,
    status: &str,
    mut changes: Vec<Change>,
    audits: Vec<AuditDraft>,
) -> ServiceResult<bool> {
    changes.insert(
        0,
        Change::ExpectStatus {
            record,
            id: id.to_string(),
            status: status.to_string(),
        },
    );
    match app.store.commit(changes, audits).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// [`commit_if_status`] for a person's decision: a lost race is their error to see.
pub(crate) async fn commit_decision(
    app: &App,
    record: StatusRecord,
    id: &str,
    status: &str,
    changes: Vec<Change>,
    audits: Vec<AuditDraft>,
) -> ServiceResult<()> {
    if commit_if_status(app, record, id, status, changes, audits).await? {
        Ok(())
    } else {
        Err(ServiceError::conflict(
            "decision.changed_meanwhile",
            "该事项已被他人办理或已变更，请刷新后重试",
            "it was acted on by someone else meanwhile; reload and try again",
        ))
    }
}
