//! GOV-5, SEC-3: the audit trail for auditors, and chain verification.
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use gongshu_domain::audit::AuditRecord;
use gongshu_services::audit::{self, VerifyReport};
use gongshu_store::AuditFilter;
use serde::Serialize;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Caller};
use crate::state::AppState;

/// One record of the chain as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_user_id: Option<String>,
    pub org_id: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    /// JSON summary before the change.
    pub before: Option<String>,
    /// JSON summary after the change.
    pub after: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    /// SM3(prev_hash ‖ canonical record), hex.
    pub hash: String,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        Self {
            seq: r.seq,
            at: r.draft.at,
            actor: r.draft.actor,
            actor_user_id: r.draft.actor_user_id,
            org_id: r.draft.org_id,
            action: r.draft.action,
            object_type: r.draft.object_type,
            object_id: r.draft.object_id,
            before: r.draft.before,
            after: r.draft.after,
            request_id: r.draft.request_id,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The audit trail, newest first, filtered; own-organisation readers see only their organisation.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditFilter), responses((status = 200, body = [AuditEntry]), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let records = audit::list(&s.app, &ctx, filter).await?;
    Ok(Json(records.into_iter().map(AuditEntry::from).collect()))
}

/// Walks the hash chain and names the first altered, deleted or reordered record.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = VerifyReport), (status = 403, body = ErrorBody)))]
pub async fn verify_audit(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<VerifyReport>> {
    Ok(Json(audit::verify(&s.app, &ctx).await?))
}
