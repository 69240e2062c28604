//! OPN-5, OPN-6, GOV-5: the reads of a release, through the gate like every other
//! read. A release reads a source dataset whole, for its owner (or for the authority
//! deciding on it, or the platform's refresh job); the gate applies the release's
//! rules to every row before it leaves, so raw values of the items a release
//! suppresses, masks or generalises never reach the caller, and the read is
//! recorded as an internal access record (`operation` `release`) anchored in the
//! audit chain.
use gongshu_domain::release::ReleasePlan;

use super::*;

/// Why a release reads its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseRead {
    /// The department sees what a release would be (k and a sample), nothing published.
    Preview,
    /// The department prepares a release for the authority.
    Prepare,
    /// The authority's approval publishes it.
    Publish,
    /// A refresh makes a new version.
    Refresh,
}

impl ReleaseRead {
    /// The purpose written on the access record.
    pub fn key(self) -> &'static str {
        match self {
            ReleaseRead::Preview => "release_preview",
            ReleaseRead::Prepare => "release_prepare",
            ReleaseRead::Publish => "release_publish",
            ReleaseRead::Refresh => "release_refresh",
        }
    }
}

/// What the gate served a release: how many source rows, under which access record.
#[derive(Debug, Clone)]
pub struct ReleaseServed {
    pub rows: u64,
    pub access_id: String,
    /// SM3 of the released rows, in order, as the access record keeps it.
    pub response_hash: String,
}

/// OPN-5, OPN-6: streams the rows of a source dataset owned by `owner_org_id`
/// through `plan`, handing each released row to `sink` (which may stop the read with
/// an error). Allowed to the owner's reviewers of open data (`open.review`), the
/// authority (`open.coordinate`) and the platform; recorded as the caller's internal
/// read of the source (`object`: what the read is for).
pub(crate) async fn release_rows<F>(
    app: &App,
    ctx: &Ctx,
    dataset: &Dataset,
    owner_org_id: &str,
    (why, object): (ReleaseRead, &str),
    plan: &ReleasePlan,
    mut sink: F,
) -> ServiceResult<ReleaseServed>
where
    F: FnMut(Vec<Value>) -> ServiceResult<()>,
{
    let p = &ctx.principal;
    if p.authorize(Permission::OpenReview, Some(owner_org_id))
        .is_err()
    {
        p.authorize(Permission::OpenCoordinate, None)?;
    }
    if dataset.withheld_as_secret() {
        return Err(ServiceError::conflict(
            "release.source_withheld",
            "源数据经提供部门保密审查涉及国家秘密，不能发布（COL-6）",
            "the source's secrecy review found state secrets, so nothing can be released (COL-6)",
        ));
    }
    if let Some(refusal) = crate::social_data::release_refusal(app, &dataset.resource_id).await? {
        return Err(refusal);
    }
    let Some(table) = dataset.current_table.as_deref() else {
        return Err(ServiceError::conflict(
            "release.no_data",
            "源数据尚未挂接数据，无法发布",
            "the source has no data mounted, so nothing can be released",
        ));
    };
    let key = app.mask_key.as_bytes();
    let mut hash = Sm3::new();
    let mut rows = 0u64;
    let mut pages = Pages::new(table, &dataset.schema, Vec::new());
    // A read the sink stops is recorded too, with the rows read until then.
    let mut stopped = None;
    'read: while let Some(page) = pages.next(app).await? {
        for r in page {
            let released = plan.apply(&r.values, key);
            hash.update(serde_json::to_vec(&released).unwrap_or_default());
            rows += 1;
            if let Err(e) = sink(released) {
                stopped = Some(e);
                break 'read;
            }
        }
    }
    let response_hash = hex::encode(hash.finalize());
    let items: Vec<String> = plan
        .reads()
        .into_iter()
        .filter_map(|i| dataset.schema.columns.get(i).map(|c| c.name.clone()))
        .collect();
    let rec = AccessRecord {
        id: new_id(),
        at: truncate_to_micros(Utc::now()),
        actor: p.actor.clone(),
        consumer_org_id: p.org_id.clone(),
        token_id: p.token_id.clone(),
        grant_id: None,
        application_id: None,
        resource_id: Some(dataset.resource_id.clone()),
        source_org_id: Some(dataset.org_id.clone()),
        purpose: why.key().into(),
        mode: "internal".into(),
        operation: "release".into(),
        items,
        request: format!("rules={}", plan.released_items().len()),
        row_count: rows as i64,
        response_hash: response_hash.clone(),
        outcome: "served".into(),
        denial: None,
    };
    let access_id = rec.id.clone();
    let mut draft = ctx.audit("open.release_read", "open_release", object);
    // The source department reads the reads of its data in its own audit trail.
    draft.org_id = Some(dataset.org_id.clone());
    draft.after = summary(&serde_json::json!({
        "access_id": access_id,
        "resource_id": dataset.resource_id,
        "purpose": why.key(),
        "rows": rows,
        "response_hash": response_hash,
    }));
    append(app, draft, vec![rec]).await?;
    if let Some(e) = stopped {
        return Err(e);
    }
    Ok(ReleaseServed {
        rows,
        access_id,
        response_hash,
    })
}
