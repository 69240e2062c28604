//! GOV-5, SEC-3: browsing and verifying the hash-chained audit trail.
use gongshu_domain::audit::{AuditRecord, ChainFault, ChainVerifier};
use gongshu_domain::permissions::Permission;
use gongshu_store::AuditFilter;
use serde::Serialize;

use crate::context::{App, Ctx};
use crate::error::ServiceResult;

/// Records matching the filter, newest first. A reader with an own-organisation grant
/// sees only records of its organisation, whatever the filter asks.
pub async fn list(app: &App, ctx: &Ctx, filter: AuditFilter) -> ServiceResult<Vec<AuditRecord>> {
    let mut filter = filter.without_blanks();
    if !ctx.principal.holds_globally(Permission::AuditRead) {
        let own = ctx.principal.org_id.clone().unwrap_or_default();
        ctx.principal.authorize(Permission::AuditRead, Some(&own))?;
        filter.org_id = Some(own);
    }
    Ok(app.store.list_audit(&filter).await?)
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    /// Records checked before the first fault (all of them when ok).
    pub checked: u64,
    pub head_seq: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub fault: Option<ChainFault>,
    pub message: String,
    pub message_en: String,
}

/// Walks the whole chain in pages and names the first record that does not hold.
pub async fn verify_chain(app: &App) -> ServiceResult<VerifyReport> {
    const PAGE: i64 = 5000;
    let mut verifier = ChainVerifier::new();
    let mut after = 0;
    let mut checked = 0u64;
    let head = app.store.audit_head().await?;
    let fault = 'walk: loop {
        let page = app.store.audit_page(after, PAGE).await?;
        if page.is_empty() {
            break 'walk verifier
                .finish(head.as_ref().map(|(s, h)| (*s, h.as_str())))
                .err();
        }
        for r in &page {
            if let Err(f) = verifier.check(r) {
                break 'walk Some(f);
            }
            checked += 1;
        }
        after = page.last().map(|r| r.seq).unwrap_or(after);
    };
    let (message, message_en) = match &fault {
        None => (
            format!("审计链完整：共 {checked} 条记录，逐条校验通过"),
            format!("audit chain intact: {checked} records verified"),
        ),
        Some(f) => (f.message_zh(), f.message_en()),
    };
    Ok(VerifyReport {
        ok: fault.is_none(),
        checked,
        head_seq: head.map(|h| h.0),
        fault,
        message,
        message_en,
    })
}

/// Verification through the API or console: only for holders of `audit.verify`.
pub async fn verify(app: &App, ctx: &Ctx) -> ServiceResult<VerifyReport> {
    ctx.principal.authorize(Permission::AuditVerify, None)?;
    verify_chain(app).await
}
