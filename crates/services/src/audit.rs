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
    /// Lookup-index entries missing, astray or disagreeing with their records, so
    /// that filtered queries would miss, repeat or misfile records (0 when sound).
    pub index_mismatches: i64,
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
    let index = app.store.audit_index_state().await?;
    let index_mismatches = index.records_missing + index.entries_astray;
    let (message, message_en) = match &fault {
        None if index_mismatches == 0 => (
            format!("审计链完整：共 {checked} 条记录，逐条校验通过"),
            format!("audit chain intact: {checked} records verified"),
        ),
        None => (
            format!(
                "审计链本身完整（{checked} 条），但查询索引有 {index_mismatches} 处被改动（索引已覆盖至第 {} 条），按条件筛选时会遗漏、重复或错列记录",
                index.upto_seq
            ),
            format!(
                "the chain itself holds ({checked} records), but its lookup indexes were altered in {index_mismatches} places \
                 (they cover up to seq {}), so filtered queries would miss, repeat or misfile records",
                index.upto_seq
            ),
        ),
        Some(f) => (f.message_zh(), f.message_en()),
    };
    Ok(VerifyReport {
        ok: fault.is_none() && index_mismatches == 0,
        checked,
        head_seq: head.map(|h| h.0),
        fault,
        index_mismatches,
        message,
        message_en,
    })
}

/// Records the lookup indexes take in one transaction. Large batches touch each
/// index page once for many records, which is what keeps appends cheap (GOV-5).
pub const INDEX_BATCH: i64 = 50_000;

/// Extends the audit lookup indexes until they cover every record; returns how many
/// records it covered.
pub async fn index_pending(app: &App) -> ServiceResult<i64> {
    let mut total = 0;
    loop {
        let n = app.store.index_audit(INDEX_BATCH).await?;
        total += n;
        if n < INDEX_BATCH {
            return Ok(total);
        }
    }
}

/// A node's indexing loop: catches up every `interval` until `shutdown` turns true.
/// Queries are complete without it (they read unindexed records directly); it keeps
/// them fast. Several nodes may run it: the index mark is locked per step.
pub async fn run_indexer(
    app: std::sync::Arc<App>,
    interval: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = index_pending(&app).await {
            tracing::warn!(error = %e, "audit indexing failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}

/// Verification through the API or console: only for holders of `audit.verify`.
pub async fn verify(app: &App, ctx: &Ctx) -> ServiceResult<VerifyReport> {
    ctx.principal.authorize(Permission::AuditVerify, None)?;
    verify_chain(app).await
}
