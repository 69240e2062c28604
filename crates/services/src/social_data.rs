//! COL-8: the data authority buys social data once for every department (统采共用,
//! HZ 17) or connects it under an authorisation (JY 14, ZY 5). Each agreement names
//! the authority's catalog entries that carry the data: they stay shared, stay closed
//! to the public unless the agreement allows opening, and serve data only while an
//! agreement over them is in force. The same data is never bought twice for one day.
use chrono::{NaiveDate, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::{EntryContent, FieldError};
use gongshu_domain::org::OrgKind;
use gongshu_domain::permissions::Permission;
use gongshu_domain::release::ReleaseStatus;
use gongshu_domain::social_data::{
    entry_conflicts, serves_social_data, terms_overlap, SocialAcquisition, SocialDataKind,
    TermState,
};
use gongshu_store::{CatalogEntry, Change, OpenReleaseFilter, SocialDataAgreement, StoreError};
use serde::{Deserialize, Serialize};

use crate::catalog::today_in_china;
use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ServiceError, ServiceResult};

/// An agreement to record. `org_id` defaults to the caller's organisation.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSocialDataAgreement {
    #[schema(value_type = String, example = "purchase")]
    pub acquisition: SocialAcquisition,
    #[schema(value_type = String, example = "map")]
    pub kind: SocialDataKind,
    pub name: String,
    pub supplier: String,
    pub contract_ref: String,
    pub scope: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[serde(default)]
    pub opening_allowed: bool,
    /// Catalog entries (ids or resource codes) of the authority that carry the data.
    pub entries: Vec<String>,
    #[serde(default)]
    pub org_id: Option<String>,
}

/// An agreement with where its term stands today and the entries it carries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgreementStatus {
    pub agreement: SocialDataAgreement,
    /// `not_started`, `in_force` or `ended`.
    pub state: String,
    pub state_zh: String,
    pub entries: Vec<CoveredEntry>,
}

/// A catalog entry an agreement carries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoveredEntry {
    pub id: String,
    pub code: String,
    pub name: String,
    pub mounted: bool,
}

fn problem(field: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError {
        field: field.into(),
        code,
        message_zh: zh,
        message_en: en,
    }
}

fn required(problems: &mut Vec<FieldError>, field: &str, value: &str, zh: &str, en: &str) {
    if value.trim().is_empty() {
        problems.push(problem(
            field,
            "social_data.field_required",
            format!("请填写{zh}"),
            format!("the {en} is required"),
        ));
    }
}

/// COL-8 (HZ 17): the data authority records an agreement over social data it
/// holds for every department, naming its catalog entries that carry the data.
pub async fn record(
    app: &App,
    ctx: &Ctx,
    input: NewSocialDataAgreement,
) -> ServiceResult<AgreementStatus> {
    ctx.principal.authorize(Permission::CatalogApprove, None)?;
    let org_id = input
        .org_id
        .clone()
        .filter(|o| !o.trim().is_empty())
        .or_else(|| ctx.principal.org_id.clone())
        .unwrap_or_default();
    let org = app.store.get_org(&org_id).await?;
    if org.as_ref().and_then(|o| OrgKind::parse(&o.kind)) != Some(OrgKind::DataAuthority) {
        return Err(ServiceError::invalid(
            "social_data.authority_only",
            "org_id",
            "社会数据由公共数据主管部门统一采购或授权接入（HZ 17、JY 14），请由主管部门登记",
            "social data is bought or connected by the data authority (HZ 17, JY 14); the authority records it",
        ));
    }
    ctx.principal
        .authorize(Permission::CatalogRegister, Some(&org_id))?;
    let today = today_in_china(Utc::now());
    let mut problems = Vec::new();
    required(
        &mut problems,
        "name",
        &input.name,
        "协议名称",
        "agreement's name",
    );
    required(
        &mut problems,
        "supplier",
        &input.supplier,
        "数据供应方",
        "supplier",
    );
    required(
        &mut problems,
        "contract_ref",
        &input.contract_ref,
        "合同或授权文号",
        "contract or authorisation number",
    );
    required(
        &mut problems,
        "scope",
        &input.scope,
        "数据范围和使用范围",
        "scope of the data and its use",
    );
    if input.ends_on < input.starts_on {
        problems.push(problem(
            "ends_on",
            "social_data.term_invalid",
            "协议截止日期早于起始日期".into(),
            "the agreement ends before it starts".into(),
        ));
    } else if input.ends_on < today {
        problems.push(problem(
            "ends_on",
            "social_data.term_ended",
            format!("协议已于 {} 到期，不能再据此提供数据", input.ends_on),
            format!(
                "the agreement ended on {}; no data can be provided under it",
                input.ends_on
            ),
        ));
    }
    let term = (input.starts_on, input.ends_on);
    let mut entries: Vec<CatalogEntry> = Vec::new();
    let mut held_counts: Vec<u32> = Vec::new();
    for reference in input
        .entries
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        let Some(entry) = crate::catalog::find_entry(app, reference).await? else {
            problems.push(problem(
                "entries",
                "catalog.entry_unknown",
                format!("找不到目录：{reference}"),
                format!("no such catalog entry: {reference}"),
            ));
            continue;
        };
        if entries.iter().any(|e| e.id == entry.id) {
            continue;
        }
        if entry.owner_org_id != org_id {
            problems.push(problem(
                "entries",
                "social_data.entry_other_org",
                format!(
                    "目录 {} 不属于主管部门，社会数据应编入主管部门的目录",
                    entry.code
                ),
                format!(
                    "entry {} is not the authority's; social data is cataloged by the authority",
                    entry.code
                ),
            ));
            continue;
        }
        let held = app
            .store
            .social_data_agreements_for_entry(&entry.id)
            .await?;
        if let Some(other) = held
            .iter()
            .find(|a| terms_overlap(term, (a.starts_on, a.ends_on)))
        {
            problems.push(problem(
                "entries",
                "social_data.already_held",
                format!(
                    "目录 {} 的数据已由协议“{}”（{} 至 {}）持有，同一数据只采购一次（HZ 17）；续期请从 {} 之后开始",
                    entry.code, other.name, other.starts_on, other.ends_on, other.ends_on
                ),
                format!(
                    "the data of entry {} is already held under '{}' ({} to {}); it is bought once (HZ 17) — a renewal starts after {}",
                    entry.code, other.name, other.starts_on, other.ends_on, other.ends_on
                ),
            ));
            continue;
        }
        let opening_allowed = input.opening_allowed && opening_allowed_under(&held);
        for content in [&entry.published, &entry.working].into_iter().flatten() {
            for c in entry_conflicts(content.share_type, content.open_type, opening_allowed) {
                problems.push(problem(
                    c.field(),
                    c.code(),
                    format!("目录 {}：{}", entry.code, c.message_zh()),
                    format!("entry {}: {}", entry.code, c.message_en()),
                ));
            }
        }
        if !opening_allowed {
            let mut released = Vec::new();
            for status in [ReleaseStatus::Pending, ReleaseStatus::Published] {
                released.extend(
                    app.store
                        .list_open_releases(&OpenReleaseFilter {
                            source_entry_id: Some(entry.id.clone()),
                            status: Some(status.key().into()),
                            limit: 1,
                            ..Default::default()
                        })
                        .await?,
                );
            }
            if let Some(r) = released.first() {
                problems.push(problem(
                    "opening_allowed",
                    "social_data.released_openly",
                    format!(
                        "目录 {} 的数据已有开放数据发布（{}），协议不允许开放时须先撤回该发布",
                        entry.code, r.id
                    ),
                    format!(
                        "entry {} has an open-data release ({}); withdraw it first, as the agreement does not allow opening",
                        entry.code, r.id
                    ),
                ));
            }
        }
        held_counts.push(u32::try_from(held.len()).unwrap_or(u32::MAX));
        entries.push(entry);
    }
    if entries.is_empty() && !problems.iter().any(|p| p.field == "entries") {
        problems.push(problem(
            "entries",
            "social_data.entries_required",
            "请列出承载这批社会数据的目录（资源代码）".into(),
            "name the catalog entries (resource codes) that carry the data".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert((p.code, p.message_zh.clone())));
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let agreement = SocialDataAgreement {
        id: new_id(),
        acquisition: input.acquisition,
        kind: input.kind,
        name: input.name.trim().to_string(),
        supplier: input.supplier.trim().to_string(),
        contract_ref: input.contract_ref.trim().to_string(),
        scope: input.scope.trim().to_string(),
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        opening_allowed: input.opening_allowed,
        entry_ids: entries.iter().map(|e| e.id.clone()).collect(),
        org_id: org_id.clone(),
        recorded_by: ctx.principal.actor.clone(),
        recorded_at: truncate_to_micros(Utc::now()),
    };
    let mut audit = ctx.audit("social_data.record", "social_data_agreement", &agreement.id);
    audit.org_id = Some(org_id);
    audit.after = summary(&agreement);
    // The checks above read each entry and its agreements: the guards make this
    // commit fail if either changed meanwhile, so two overlapping agreements, or an
    // agreement and a conflicting edit, cannot both land.
    let mut changes: Vec<Change> = entries
        .iter()
        .zip(&held_counts)
        .map(|(e, n)| Change::ExpectEntryState {
            entry_id: e.id.clone(),
            updated_at: e.updated_at,
            social_agreements: *n,
        })
        .collect();
    changes.push(Change::InsertSocialDataAgreement(agreement.clone()));
    app.store
        .commit(changes, vec![audit])
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) | StoreError::Conflict(_) => ServiceError::conflict(
                "social_data.entry_changed_meanwhile",
                "目录条目或其协议刚被他人修改，请刷新后重试",
                "an entry or its agreements changed meanwhile; reload and try again",
            ),
            other => other.into(),
        })?;
    Ok(status(agreement, entries, today))
}

fn status(
    agreement: SocialDataAgreement,
    entries: Vec<CatalogEntry>,
    today: NaiveDate,
) -> AgreementStatus {
    let state = TermState::of(agreement.starts_on, agreement.ends_on, today);
    AgreementStatus {
        state: state.key().into(),
        state_zh: state.label_zh().into(),
        entries: entries
            .into_iter()
            .map(|e| CoveredEntry {
                id: e.id,
                code: e.code,
                name: e.name,
                mounted: e.mounted,
            })
            .collect(),
        agreement,
    }
}

async fn with_entries(
    app: &App,
    agreements: Vec<SocialDataAgreement>,
) -> ServiceResult<Vec<AgreementStatus>> {
    let today = today_in_china(Utc::now());
    let mut out = Vec::with_capacity(agreements.len());
    for a in agreements {
        let mut entries = Vec::new();
        for id in &a.entry_ids {
            if let Some(e) = app.store.get_catalog_entry(id).await? {
                entries.push(e);
            }
        }
        out.push(status(a, entries, today));
    }
    Ok(out)
}

/// COL-8: every agreement, newest term first; anyone who may read the catalog,
/// so every department sees what it need not buy itself.
pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<AgreementStatus>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    with_entries(app, app.store.list_social_data_agreements().await?).await
}

/// COL-8: the agreements that carry one entry's data (empty: not social data).
pub async fn for_entry(app: &App, entry_id: &str) -> ServiceResult<Vec<AgreementStatus>> {
    with_entries(
        app,
        app.store.social_data_agreements_for_entry(entry_id).await?,
    )
    .await
}

/// COL-8 (HZ 32(4)): an entry carrying social data may be opened to the public only
/// when every agreement ever recorded over it allows opening: a contract's ban on
/// opening does not end with the term of the service.
fn opening_allowed_under(agreements: &[SocialDataAgreement]) -> bool {
    agreements.iter().all(|a| a.opening_allowed)
}

/// COL-8: whether data held under `agreements` is served on `today`.
pub fn served_on(agreements: &[SocialDataAgreement], today: NaiveDate) -> bool {
    let in_force = agreements
        .iter()
        .filter(|a| TermState::of(a.starts_on, a.ends_on, today) == TermState::InForce)
        .count();
    serves_social_data(
        u32::try_from(agreements.len()).unwrap_or(u32::MAX),
        u32::try_from(in_force).unwrap_or(u32::MAX),
    )
}

/// COL-8: whether the entry's data may be opened or released to the public.
pub async fn opening_allowed(app: &App, entry_id: &str) -> ServiceResult<bool> {
    let held = app.store.social_data_agreements_for_entry(entry_id).await?;
    Ok(opening_allowed_under(&held))
}

/// COL-8: why data of an entry may not be released to the public now, if it may not:
/// an agreement forbids opening, or none is in force today.
pub async fn release_refusal(app: &App, entry_id: &str) -> ServiceResult<Option<ServiceError>> {
    let held = app.store.social_data_agreements_for_entry(entry_id).await?;
    if !opening_allowed_under(&held) {
        return Ok(Some(ServiceError::conflict(
            "release.social_data_not_openable",
            "源数据是社会数据，其采购或授权协议不允许向社会开放（COL-8，HZ 32 四）",
            "the source is social data whose purchase or authorisation agreement does not allow opening it (COL-8, HZ 32(4))",
        )));
    }
    if !served_on(&held, today_in_china(Utc::now())) {
        return Ok(Some(ServiceError::conflict(
            "release.social_agreement_not_in_force",
            "源数据是社会数据，今天不在其采购或授权协议的期限内（COL-8）",
            "the source is social data and no agreement over it is in force today (COL-8)",
        )));
    }
    Ok(None)
}

/// COL-8: refuses a change that breaks what the entry's social data agreements
/// require; otherwise returns the guard that keeps an agreement recorded meanwhile
/// from landing beside the change unseen.
pub async fn check_entry_change(
    app: &App,
    before: &CatalogEntry,
    content: &EntryContent,
) -> ServiceResult<Change> {
    let held = app
        .store
        .social_data_agreements_for_entry(&before.id)
        .await?;
    let guard = Change::ExpectEntryState {
        entry_id: before.id.clone(),
        updated_at: before.updated_at,
        social_agreements: u32::try_from(held.len()).unwrap_or(u32::MAX),
    };
    if held.is_empty() {
        return Ok(guard);
    }
    let problems: Vec<FieldError> = entry_conflicts(
        content.share_type,
        content.open_type,
        opening_allowed_under(&held),
    )
    .into_iter()
    .map(|c| {
        problem(
            c.field(),
            c.code(),
            c.message_zh().into(),
            c.message_en().into(),
        )
    })
    .collect();
    if problems.is_empty() {
        Ok(guard)
    } else {
        Err(ServiceError::fields(problems))
    }
}
