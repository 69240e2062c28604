//! CAT-7, SHR-7: demands for data. A department asks a source department for data
//! it needs (in the catalog or not yet); the source answers within 5 working days,
//! naming the catalog entry that provides it or declining with reasons. A
//! department's demands are its demand list; the share requests that follow come
//! with sharing (issue 5).
use chrono::{DateTime, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::FieldError;
use gongshu_domain::deadlines::DeadlineKind;
use gongshu_domain::org::OrgKind;
use gongshu_domain::permissions::Permission;
use gongshu_store::{Change, DataDemand};
use serde::{Deserialize, Serialize};

use crate::catalog::today_in_china;
use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ServiceError, ServiceResult};

/// A demand as the requesting department files it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDemand {
    pub source_org_id: String,
    pub title: String,
    pub purpose: String,
    /// The data items wanted (fewest necessary).
    pub items: String,
}

/// SHR-7: the caller's department raises a demand with a source department.
pub async fn create(app: &App, ctx: &Ctx, input: NewDemand) -> ServiceResult<DataDemand> {
    let requester = ctx.principal.org_id.clone().unwrap_or_default();
    ctx.principal
        .authorize(Permission::CatalogRegister, Some(&requester))?;
    let mut problems = Vec::new();
    let title = input.title.trim().to_string();
    let purpose = input.purpose.trim().to_string();
    let items = input.items.trim().to_string();
    if title.is_empty() {
        problems.push(FieldError::new(
            "title",
            "demand.title_required",
            "请写明需要什么数据",
            "say what data is needed",
        ));
    }
    if purpose.is_empty() {
        problems.push(FieldError::new(
            "purpose",
            "demand.purpose_required",
            "请写明用于哪项职责或业务",
            "say which duty or business it serves",
        ));
    }
    if items.is_empty() {
        problems.push(FieldError::new(
            "items",
            "demand.items_required",
            "请列出所需的信息项（最少够用）",
            "list the data items needed (the fewest necessary)",
        ));
    }
    match app.store.get_org(&input.source_org_id).await? {
        Some(o) if o.id == requester => problems.push(FieldError::new(
            "source_org_id",
            "demand.source_is_self",
            "不能向本部门提出需求",
            "a department cannot ask itself",
        )),
        Some(o) if OrgKind::parse(&o.kind).is_some_and(|k| k.is_data_source()) && !o.disabled => {}
        _ => problems.push(FieldError::new(
            "source_org_id",
            "catalog.org_not_source",
            "请选择一个提供公共数据的部门",
            "choose a department that provides public data",
        )),
    }
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let now = truncate_to_micros(Utc::now());
    // HZ 24: the source confirms within 5 working days.
    let due = app
        .deadlines
        .due(
            &app.calendar,
            DeadlineKind::ShareDemandConfirmation,
            today_in_china(now),
        )
        .map_err(ServiceError::from_calendar)?;
    let demand = DataDemand {
        id: new_id(),
        requester_org_id: requester,
        source_org_id: input.source_org_id,
        title,
        purpose,
        items,
        status: "open".into(),
        entry_id: None,
        answer: None,
        due,
        answered_at: None,
        overdue_since: None,
        created_by: ctx.principal.actor.clone(),
        created_at: now,
    };
    let mut audit = ctx.audit("demand.create", "demand", &demand.id);
    audit.after = summary(&demand);
    app.store
        .commit(vec![Change::PutDemand(demand.clone())], vec![audit])
        .await?;
    Ok(demand)
}

/// The source department's answer.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandAnswer {
    /// True: the data is (or will be) provided through `entry`; false: declined.
    pub accept: bool,
    /// The source's catalog entry (id or code) that provides the data; required to accept.
    #[serde(default)]
    pub entry: Option<String>,
    /// Required to decline: the reasons and the legal basis.
    #[serde(default)]
    pub answer: String,
}

/// SHR-7: the source department answers: names its catalog entry (cataloguing the
/// data first if it was not yet), or declines with reasons.
pub async fn answer(
    app: &App,
    ctx: &Ctx,
    id: &str,
    input: DemandAnswer,
) -> ServiceResult<DataDemand> {
    let before = app
        .store
        .get_demand(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("数据需求", "demand", id))?;
    ctx.principal
        .authorize(Permission::CatalogRegister, Some(&before.source_org_id))?;
    if before.status != "open" {
        return Err(ServiceError::conflict(
            "demand.answered",
            "该需求已答复",
            "the demand was already answered",
        ));
    }
    let mut after = before.clone();
    let text = input.answer.trim().to_string();
    if input.accept {
        let reference = input.entry.as_deref().map(str::trim).unwrap_or_default();
        let entry = crate::catalog::find_entry(app, reference).await?;
        match entry {
            Some(e) if e.source_org_id == before.source_org_id || e.owner_org_id == before.source_org_id => {
                after.entry_id = Some(e.id);
            }
            _ => {
                return Err(ServiceError::invalid(
                    "demand.entry_required",
                    "entry",
                    "确认需求须指明本部门提供该数据的目录（尚未编目的，请先登记目录）",
                    "to accept, name your catalog entry that provides the data (register it first if it is not catalogued)",
                ))
            }
        }
        after.status = "accepted".into();
    } else {
        if text.is_empty() {
            return Err(ServiceError::invalid(
                "demand.reason_required",
                "answer",
                "不能提供时须写明理由和依据",
                "a refusal must give its reasons and basis",
            ));
        }
        after.status = "declined".into();
    }
    after.answer = Some(text).filter(|t| !t.is_empty());
    after.answered_at = Some(truncate_to_micros(Utc::now()));
    let mut audit = ctx.audit("demand.answer", "demand", id);
    audit.before = summary(&before);
    audit.after = summary(&after);
    app.store
        .commit(vec![Change::PutDemand(after.clone())], vec![audit])
        .await?;
    Ok(after)
}

/// Demands a department made or must answer (all, for a global catalog reader
/// asking without an organisation).
pub async fn list(app: &App, ctx: &Ctx, org_id: Option<&str>) -> ServiceResult<Vec<DataDemand>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    Ok(app.store.list_demands(org_id).await?)
}

/// SHR-7: marks open demands past their due working day, once each.
pub async fn flag_overdue(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let ctx = Ctx::system();
    let today = today_in_china(now);
    let mut flagged = 0;
    for demand in app.store.list_demands(None).await? {
        if demand.status != "open" || demand.overdue_since.is_some() || demand.due >= today {
            continue;
        }
        let mut after = demand.clone();
        after.overdue_since = Some(today);
        let mut audit = ctx.audit("demand.overdue", "demand", &demand.id);
        audit.org_id = Some(demand.source_org_id.clone());
        audit.after = summary(&after);
        app.store
            .commit(vec![Change::PutDemand(after)], vec![audit])
            .await?;
        flagged += 1;
    }
    Ok(flagged)
}

/// CAT-7: a department's demand list as CSV (UTF-8 with BOM, for Excel).
pub async fn export_csv(app: &App, ctx: &Ctx, org_id: &str) -> ServiceResult<Vec<u8>> {
    let demands = list(app, ctx, Some(org_id)).await?;
    let names: std::collections::HashMap<String, String> = app
        .store
        .list_orgs(&gongshu_store::OrgFilter::default())
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let failed = |e: csv::Error| {
            ServiceError::new(
                crate::error::ErrorKind::Internal,
                "demand.export_failed",
                format!("导出失败：{e}"),
                e.to_string(),
            )
        };
        w.write_record([
            "需求",
            "用途",
            "信息项",
            "提出部门",
            "数源部门",
            "答复时限",
            "状态",
            "答复",
        ])
        .map_err(failed)?;
        for d in demands.iter().filter(|d| d.requester_org_id == org_id) {
            let status = match d.status.as_str() {
                "accepted" => "已确认",
                "declined" => "不能提供",
                _ if d.overdue_since.is_some() => "待答复（已超期）",
                _ => "待答复",
            };
            w.write_record([
                d.title.as_str(),
                d.purpose.as_str(),
                d.items.as_str(),
                &name(&d.requester_org_id),
                &name(&d.source_org_id),
                &d.due.to_string(),
                status,
                d.answer.as_deref().unwrap_or(""),
            ])
            .map_err(failed)?;
        }
        w.flush().map_err(|e| {
            ServiceError::new(
                crate::error::ErrorKind::Internal,
                "demand.export_failed",
                format!("导出失败：{e}"),
                e.to_string(),
            )
        })?;
    }
    Ok(out)
}
