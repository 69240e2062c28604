//! CAT-11: a government IT project registers its data catalog to be approved and
//! mounts its data to be accepted (XJ 39, HZ 44); the platform reports projects
//! that fail either check, and those that plan to buy social data services the
//! authority buys once for every department (COL-8, HZ 17).
use chrono::Utc;
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::FieldError;
use gongshu_domain::org::OrgKind;
use gongshu_domain::permissions::Permission;
use gongshu_domain::social_data::{centrally_held, SocialDataKind, TermState};
use gongshu_store::{Change, ItProject};
use serde::{Deserialize, Serialize};

use crate::catalog::today_in_china;
use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ServiceError, ServiceResult};

/// A project at approval, with the catalog entries (ids or codes) it registered.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItProject {
    pub name: String,
    pub org_id: String,
    pub approval_ref: String,
    #[serde(default)]
    pub entries: Vec<String>,
    /// COL-8 (HZ 17): social data services the project plans to buy itself.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub social_data_kinds: Vec<SocialDataKind>,
}

/// How a project stands against CAT-11.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectStatus {
    pub project: ItProject,
    /// Registered no catalog entry of its own department at approval.
    pub fails_approval_check: bool,
    /// Its last acceptance check found entries without mounted data.
    pub fails_acceptance_check: bool,
    /// COL-8 (HZ 17): a department's project plans to buy social data services, which
    /// the data authority buys once for every department instead. The authority's own
    /// projects are where that central purchase is made, so they do not fail it.
    pub fails_social_data_check: bool,
    /// Of those, the ones agreements in force already hold: (kind, agreement's name).
    pub centrally_held: Vec<(String, String)>,
}

/// The kinds of social data agreements in force today hold, with their names.
async fn held_today(app: &App) -> ServiceResult<Vec<(SocialDataKind, String)>> {
    let today = today_in_china(Utc::now());
    Ok(app
        .store
        .list_social_data_agreements()
        .await?
        .into_iter()
        .filter(|a| TermState::of(a.starts_on, a.ends_on, today) == TermState::InForce)
        .map(|a| (a.kind, a.name))
        .collect())
}

/// The organisations whose projects make central purchases: the data authorities.
async fn authorities(app: &App) -> ServiceResult<Vec<String>> {
    Ok(app
        .store
        .list_orgs(&gongshu_store::OrgFilter::default())
        .await?
        .into_iter()
        .filter(|o| OrgKind::parse(&o.kind) == Some(OrgKind::DataAuthority))
        .map(|o| o.id)
        .collect())
}

fn status(
    p: ItProject,
    held: &[(SocialDataKind, String)],
    authorities: &[String],
) -> ProjectStatus {
    let in_force: Vec<SocialDataKind> = held.iter().map(|(k, _)| *k).collect();
    let centrally_held = centrally_held(&p.social_data_kinds, &in_force)
        .into_iter()
        .flat_map(|kind| {
            held.iter()
                .filter(move |(k, _)| *k == kind)
                .map(move |(_, name)| (kind.key().to_string(), name.clone()))
        })
        .collect();
    ProjectStatus {
        fails_approval_check: p.entry_ids.is_empty(),
        fails_acceptance_check: p.acceptance_checked_at.is_some()
            && !p.unmounted_entry_ids.is_empty(),
        fails_social_data_check: !p.social_data_kinds.is_empty()
            && !authorities.contains(&p.org_id),
        centrally_held,
        project: p,
    }
}

/// CAT-11: the authority records an approved project with the entries it registered.
/// A project without entries is recorded too, and reported as failing the check.
pub async fn register(app: &App, ctx: &Ctx, input: NewItProject) -> ServiceResult<ProjectStatus> {
    ctx.principal.authorize(Permission::CatalogApprove, None)?;
    let mut problems = Vec::new();
    let name = input.name.trim().to_string();
    let approval_ref = input.approval_ref.trim().to_string();
    if name.is_empty() {
        problems.push(FieldError {
            field: "name".into(),
            code: "project.name_required",
            message_zh: "请填写项目名称".into(),
            message_en: "the project name is required".into(),
        });
    }
    if approval_ref.is_empty() {
        problems.push(FieldError {
            field: "approval_ref".into(),
            code: "project.approval_required",
            message_zh: "请填写立项批复文号".into(),
            message_en: "the approval reference is required".into(),
        });
    }
    if app.store.get_org(&input.org_id).await?.is_none() {
        problems.push(FieldError {
            field: "org_id".into(),
            code: "catalog.org_unknown",
            message_zh: format!("单位不存在：{}", input.org_id),
            message_en: format!("no such organisation: {}", input.org_id),
        });
    }
    let mut entry_ids = Vec::new();
    for reference in input
        .entries
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        let found = crate::catalog::find_entry(app, reference).await?;
        match found {
            Some(e) if e.owner_org_id == input.org_id || e.source_org_id == input.org_id => {
                entry_ids.push(e.id)
            }
            Some(e) => problems.push(FieldError {
                field: "entries".into(),
                code: "project.entry_other_org",
                message_zh: format!("目录 {} 不属于项目建设单位", e.code),
                message_en: format!("entry {} is not the project department's", e.code),
            }),
            None => problems.push(FieldError {
                field: "entries".into(),
                code: "catalog.entry_unknown",
                message_zh: format!("找不到目录：{reference}"),
                message_en: format!("no such catalog entry: {reference}"),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let project = ItProject {
        id: new_id(),
        name,
        org_id: input.org_id,
        approval_ref,
        entry_ids,
        approved_at: truncate_to_micros(Utc::now()),
        acceptance_checked_at: None,
        unmounted_entry_ids: Vec::new(),
        accepted_at: None,
        social_data_kinds: {
            let mut kinds = input.social_data_kinds;
            kinds.sort();
            kinds.dedup();
            kinds
        },
    };
    let mut audit = ctx.audit("project.register", "it_project", &project.id);
    audit.org_id = Some(project.org_id.clone());
    audit.after = summary(&project);
    app.store
        .commit(vec![Change::PutItProject(project.clone())], vec![audit])
        .await?;
    Ok(status(
        project,
        &held_today(app).await?,
        &authorities(app).await?,
    ))
}

/// CAT-11: the acceptance check: every registered entry must have its data mounted.
/// Accepted when it holds; otherwise the unmounted entries are recorded.
pub async fn check_acceptance(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<ProjectStatus> {
    ctx.principal.authorize(Permission::CatalogApprove, None)?;
    let before = app
        .store
        .get_it_project(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("信息化项目", "IT project", id))?;
    if before.accepted_at.is_some() {
        return Err(ServiceError::conflict(
            "project.accepted",
            "项目已通过验收",
            "the project is already accepted",
        ));
    }
    let mut unmounted = Vec::new();
    for entry_id in &before.entry_ids {
        let mounted = app
            .store
            .get_catalog_entry(entry_id)
            .await?
            .is_some_and(|e| e.mounted);
        if !mounted {
            unmounted.push(entry_id.clone());
        }
    }
    let now = truncate_to_micros(Utc::now());
    let mut after = before.clone();
    after.acceptance_checked_at = Some(now);
    after.accepted_at = (unmounted.is_empty() && !after.entry_ids.is_empty()).then_some(now);
    after.unmounted_entry_ids = unmounted;
    let mut audit = ctx.audit("project.acceptance_check", "it_project", id);
    audit.org_id = Some(after.org_id.clone());
    audit.before = summary(&before);
    audit.after = summary(&after);
    app.store
        .commit(vec![Change::PutItProject(after.clone())], vec![audit])
        .await?;
    Ok(status(
        after,
        &held_today(app).await?,
        &authorities(app).await?,
    ))
}

/// Every project with its checks; `failing_only` keeps those that fail either.
pub async fn list(app: &App, ctx: &Ctx, failing_only: bool) -> ServiceResult<Vec<ProjectStatus>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    let held = held_today(app).await?;
    let authorities = authorities(app).await?;
    Ok(app
        .store
        .list_it_projects()
        .await?
        .into_iter()
        .map(|p| status(p, &held, &authorities))
        .filter(|s| {
            !failing_only
                || s.fails_approval_check
                || s.fails_acceptance_check
                || s.fails_social_data_check
        })
        .collect())
}
