//! OPN-8 (HZ 30, HZ 36, XJ 31, JY 26): yearly open plans and priority domains.
//!
//! A public body (its chief data officer's office, holding `open.review` for its own
//! organisation) saves and files its yearly plan of datasets to open — catalog
//! entries it already has, or datasets still to be catalogued — from the year's
//! priorities. The data authority (`open.coordinate`) accepts a filed plan or
//! returns it with reasons, and publishes the year's priority domains with what it
//! heard from the sectors and the public. An accepted plan joins the level's plan,
//! which anyone reads (HZ 36: published to society, and passed up a level as the
//! JSON of `GET /api/v1/open/plans`). Progress is measured against the open catalog:
//! a dataset is done once its entry is there.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::{Domain, FieldError, OpenType};
use gongshu_domain::open::PRIORITY_DOMAINS;
use gongshu_domain::open_plan::{
    after_review, after_save, check_plan, check_priorities, check_review, check_year, links_only,
    overdue, PlanContent, PlanDecision, PlanError, PlanItem, PlanStatus, Priorities, Progress,
};
use gongshu_domain::org::OfficerRole;
use gongshu_domain::permissions::Permission;
use gongshu_store::{Change, OpenPlan, OpenPlanFilter, OpenPlanReview, OpenPriorities};
use serde::{Deserialize, Serialize};

use crate::catalog::today_in_china;
use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ServiceError, ServiceResult};
use crate::open::OpenCatalog;

/// The year today is in, in China.
pub fn current_year() -> i32 {
    today_in_china(Utc::now()).year()
}

/// OPN-8: one dataset of a plan as the body enters it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PlanItemInput {
    /// The resource code (or id) of the catalog entry to open; empty for a dataset
    /// not catalogued yet (link it later: that keeps an accepted plan accepted).
    pub resource: String,
    /// The dataset's name (default: the catalog entry's).
    pub name: String,
    /// A `Domain` key (default: the catalog entry's).
    pub domain: String,
    /// `unconditional` or `conditional` (default: the catalog entry's open type).
    pub open_type: String,
    /// The quarter, 1–4, it is to be opened by.
    pub quarter: Option<u8>,
    /// `YYYY-MM-DD`: the day it is to be opened by (optional with a quarter).
    pub target_date: String,
    /// Who answers for it, when not the plan's responsible department (责任清单).
    pub responsible: String,
    pub note: String,
}

/// OPN-8 (HZ 36): a body's yearly plan as it saves or files it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PlanInput {
    /// The body (default: the caller's organisation); only the body itself files.
    pub org_id: Option<String>,
    /// The year (default: this year).
    pub year: Option<i32>,
    /// The chief data officer (default: the one filed for the body, ORG-3).
    pub chief_data_officer: String,
    pub responsible_department: String,
    pub responsible_person: String,
    pub items: Vec<PlanItemInput>,
    pub notes: String,
    /// true: file it with the authority; false: keep it as a draft.
    pub file: bool,
}

/// OPN-8: the authority's decision on a filed plan.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewInput {
    /// `accept` or `return`.
    pub decision: String,
    /// Required to return: what the body must change.
    pub reasons: String,
}

/// OPN-8 (HZ 30, XJ 31): the year's priority domains as the authority publishes them.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PrioritiesInput {
    /// `Domain` keys, in the order shown.
    pub domains: Vec<String>,
    /// Required: what the sector authorities said, and when (HZ 30).
    pub sector_hearing: String,
    /// Required: what the public said — consultation, survey of demand (HZ 30, XJ 31).
    pub public_hearing: String,
    pub notes: String,
}

/// Which plans to list.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// The year (default: this year).
    pub year: Option<i32>,
    /// `draft`, `filed`, `accepted` or `returned`.
    pub status: Option<String>,
}

/// The year asked about.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (default: this year).
    pub year: Option<i32>,
}

/// OPN-8: how far a plan (or the level) has come.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct ProgressView {
    /// Datasets planned.
    pub items: usize,
    /// Of them, in the open catalog.
    pub done: usize,
    /// Whole percent, rounded down.
    pub percent: u32,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        Self {
            items: p.items,
            done: p.done,
            percent: p.percent(),
        }
    }
}

/// OPN-8: one planned dataset, with whether it is open yet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    /// The linked catalog entry's resource code, if any.
    pub resource: Option<String>,
    pub name: String,
    /// A `Domain` key.
    pub domain: String,
    /// `unconditional` or `conditional`.
    pub open_type: String,
    pub quarter: Option<u8>,
    pub target_date: Option<NaiveDate>,
    /// The day it is due (target day, else the end of its quarter).
    pub due: Option<NaiveDate>,
    pub responsible: String,
    pub note: String,
    /// In the open catalog (the portal links it by `resource`).
    pub done: bool,
    /// Not open and past its due day.
    pub overdue: bool,
    /// In one of the year's priority domains (HZ 30).
    pub priority: bool,
}

/// OPN-8 (HZ 36): a body's plan as the body and the authority see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub year: i32,
    /// A `PlanStatus` key.
    pub status: String,
    pub chief_data_officer: String,
    pub responsible_department: String,
    pub responsible_person: String,
    pub notes: String,
    /// The plan as last saved.
    pub items: Vec<ItemView>,
    pub progress: ProgressView,
    /// An accepted version is in the published level plan.
    pub published: bool,
    pub accepted_at: Option<DateTime<Utc>>,
    pub filed_at: Option<DateTime<Utc>>,
    /// The authority's decisions, oldest first.
    pub reviews: Vec<OpenPlanReview>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// OPN-8 (HZ 36): a body's accepted plan as the public reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicPlan {
    pub org_id: String,
    pub org_name: String,
    pub chief_data_officer: String,
    pub responsible_department: String,
    pub responsible_person: String,
    pub notes: String,
    pub items: Vec<ItemView>,
    pub progress: ProgressView,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// OPN-8 (HZ 30, XJ 31): the year's priority domains.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrioritiesView {
    pub year: i32,
    /// `Domain` keys.
    pub domains: Vec<String>,
    /// false: the authority has published none for the year, and the default list
    /// (HZ 30) applies.
    pub published: bool,
    pub sector_hearing: String,
    pub public_hearing: String,
    pub notes: String,
    pub published_at: Option<DateTime<Utc>>,
    /// 0 when not published.
    pub version: i32,
}

/// OPN-8 (HZ 36): the level's yearly open plan: the priorities and every accepted
/// plan of the year with its progress — what the authority publishes to society
/// and passes to the authority a level up.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelPlan {
    pub year: i32,
    pub priorities: PrioritiesView,
    /// By body name.
    pub plans: Vec<PublicPlan>,
    /// All the plans together.
    pub progress: ProgressView,
    /// Planned datasets in a priority domain.
    pub priority_items: usize,
}

fn plan_not_found(id: &str) -> ServiceError {
    ServiceError::not_found("开放计划", "open plan", id)
}

fn plan_error(e: PlanError) -> ServiceError {
    ServiceError::conflict(e.code(), e.message_zh(), e.message_en())
}

fn field(field: String, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(field, code, zh, en)
}

fn year_or_now(year: Option<i32>) -> i32 {
    year.unwrap_or_else(current_year)
}

/// The year of a request, refused when out of range.
fn checked_year(year: Option<i32>) -> ServiceResult<i32> {
    let year = year_or_now(year);
    if let Some(e) = check_year(year, today_in_china(Utc::now())) {
        return Err(ServiceError::fields(vec![e]));
    }
    Ok(year)
}

/// OPN-8 (HZ 30): the priority domains in force for `year`: those the authority
/// published, else the default list; and whether they were published.
pub async fn priority_domains(app: &App, year: i32) -> ServiceResult<(Vec<Domain>, bool)> {
    Ok(match app.store.get_open_priorities(year).await? {
        Some(p) => (p.priorities.domains, true),
        None => (PRIORITY_DOMAINS.to_vec(), false),
    })
}

/// OPN-8 (HZ 30, XJ 31): the year's priority domains, for anyone.
pub async fn priorities(app: &App, year: Option<i32>) -> ServiceResult<PrioritiesView> {
    let year = year_or_now(year);
    Ok(priorities_view(
        year,
        app.store.get_open_priorities(year).await?,
    ))
}

fn priorities_view(year: i32, p: Option<OpenPriorities>) -> PrioritiesView {
    match p {
        Some(p) => PrioritiesView {
            year,
            domains: p
                .priorities
                .domains
                .iter()
                .map(|d| d.key().to_string())
                .collect(),
            published: true,
            sector_hearing: p.priorities.sector_hearing,
            public_hearing: p.priorities.public_hearing,
            notes: p.priorities.notes,
            published_at: Some(p.published_at),
            version: p.version,
        },
        None => PrioritiesView {
            year,
            domains: PRIORITY_DOMAINS
                .iter()
                .map(|d| d.key().to_string())
                .collect(),
            published: false,
            sector_hearing: String::new(),
            public_hearing: String::new(),
            notes: String::new(),
            published_at: None,
            version: 0,
        },
    }
}

/// What a plan's datasets look like against the open catalog and the priorities.
struct Measure<'a> {
    catalog: &'a OpenCatalog,
    priorities: &'a [Domain],
    today: NaiveDate,
}

impl Measure<'_> {
    fn items(&self, org_id: &str, year: i32, items: &[PlanItem]) -> (Vec<ItemView>, Progress) {
        let is_open = |r: &str| {
            self.catalog
                .get(r)
                .is_some_and(|d| d.owner_org_id == org_id)
        };
        let views: Vec<ItemView> = items
            .iter()
            .map(|i| {
                let done = gongshu_domain::open_plan::item_done(i, is_open);
                ItemView {
                    resource: i.resource.clone(),
                    name: i.name.clone(),
                    domain: i.domain.key().into(),
                    open_type: i.open_type.key().into(),
                    quarter: i.quarter,
                    target_date: i.target_date,
                    due: i.due(year),
                    responsible: i.responsible.clone(),
                    note: i.note.clone(),
                    done,
                    overdue: overdue(i, year, done, self.today),
                    priority: self.priorities.contains(&i.domain),
                }
            })
            .collect();
        (views, gongshu_domain::open_plan::progress(items, is_open))
    }

    fn plan(&self, p: &OpenPlan) -> PlanView {
        let (items, progress) = self.items(&p.org_id, p.year, &p.content.items);
        let c = &p.content;
        PlanView {
            id: p.id.clone(),
            org_id: p.org_id.clone(),
            org_name: self
                .catalog
                .org_names
                .get(&p.org_id)
                .cloned()
                .unwrap_or_default(),
            year: p.year,
            status: p.status.clone(),
            chief_data_officer: c.chief_data_officer.clone(),
            responsible_department: c.responsible_department.clone(),
            responsible_person: c.responsible_person.clone(),
            notes: c.notes.clone(),
            items,
            progress: progress.into(),
            published: p.accepted.is_some(),
            accepted_at: p.accepted_at,
            filed_at: p.filed_at,
            reviews: p.reviews.clone(),
            version: p.version,
            updated_at: p.updated_at,
        }
    }

    /// The accepted version, as the public reads it; None before any acceptance.
    fn public(&self, p: &OpenPlan) -> Option<(PublicPlan, Progress)> {
        let c = p.accepted.as_ref()?;
        let (items, progress) = self.items(&p.org_id, p.year, &c.items);
        Some((
            PublicPlan {
                org_id: p.org_id.clone(),
                org_name: self
                    .catalog
                    .org_names
                    .get(&p.org_id)
                    .cloned()
                    .unwrap_or_default(),
                chief_data_officer: c.chief_data_officer.clone(),
                responsible_department: c.responsible_department.clone(),
                responsible_person: c.responsible_person.clone(),
                notes: c.notes.clone(),
                items,
                progress: progress.into(),
                accepted_at: p.accepted_at,
            },
            progress,
        ))
    }
}

/// OPN-8 (HZ 36): the level's published plan for the year, for anyone.
pub async fn level_plan(app: &App, year: Option<i32>) -> ServiceResult<LevelPlan> {
    let year = year_or_now(year);
    let catalog = crate::open::catalog(app).await?;
    let published = app.store.get_open_priorities(year).await?;
    let plans = app
        .store
        .list_open_plans(&OpenPlanFilter {
            year: Some(year),
            ..Default::default()
        })
        .await?;
    let priorities = priorities_view(year, published);
    let domains: Vec<Domain> = priorities
        .domains
        .iter()
        .filter_map(|d| Domain::parse(d))
        .collect();
    let measure = Measure {
        catalog: &catalog,
        priorities: &domains,
        today: today_in_china(Utc::now()),
    };
    let mut total = Progress::default();
    let mut public = Vec::new();
    for p in &plans {
        if let Some((view, progress)) = measure.public(p) {
            total = total + progress;
            public.push(view);
        }
    }
    public.sort_by(|a, b| a.org_name.cmp(&b.org_name));
    let priority_items = public
        .iter()
        .flat_map(|p| &p.items)
        .filter(|i| i.priority)
        .count();
    Ok(LevelPlan {
        year,
        priorities,
        plans: public,
        progress: total.into(),
        priority_items,
    })
}

/// Whose plans the caller may read: None for the authority (all of them).
fn read_scope(ctx: &Ctx) -> ServiceResult<Option<String>> {
    let p = &ctx.principal;
    if p.authorize(Permission::OpenCoordinate, None).is_ok() {
        return Ok(None);
    }
    let own = p.org_id.clone().unwrap_or_default();
    p.authorize(Permission::OpenReview, Some(&own))?;
    Ok(Some(own))
}

async fn measure_views(app: &App, year: i32, plans: &[OpenPlan]) -> ServiceResult<Vec<PlanView>> {
    let catalog = crate::open::catalog(app).await?;
    let (domains, _) = priority_domains(app, year).await?;
    let measure = Measure {
        catalog: &catalog,
        priorities: &domains,
        today: today_in_china(Utc::now()),
    };
    let mut views: Vec<PlanView> = plans.iter().map(|p| measure.plan(p)).collect();
    views.sort_by(|a, b| a.org_name.cmp(&b.org_name));
    Ok(views)
}

/// OPN-8: the plans of a year: the caller's body's own, or all of them for the
/// authority; with their progress.
pub async fn list(app: &App, ctx: &Ctx, q: PlanQuery) -> ServiceResult<Vec<PlanView>> {
    let org_id = read_scope(ctx)?;
    let year = year_or_now(q.year);
    let status = q
        .status
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if PlanStatus::parse(s).is_none() {
            return Err(ServiceError::invalid(
                "open_plan.unknown_status",
                "status",
                format!("未知的状态“{s}”：可选 draft、filed、accepted、returned"),
                format!("unknown status '{s}': use draft, filed, accepted or returned"),
            ));
        }
    }
    let plans = app
        .store
        .list_open_plans(&OpenPlanFilter {
            year: Some(year),
            org_id,
            status,
        })
        .await?;
    measure_views(app, year, &plans).await
}

/// OPN-8: one plan, for its body or the authority.
pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<PlanView> {
    let plan = app
        .store
        .get_open_plan(id)
        .await?
        .ok_or_else(|| plan_not_found(id))?;
    if let Some(own) = read_scope(ctx)? {
        if own != plan.org_id {
            return Err(plan_not_found(id));
        }
    }
    let views = measure_views(app, plan.year, std::slice::from_ref(&plan)).await?;
    views.into_iter().next().ok_or_else(|| plan_not_found(id))
}

/// The current chief data officer filed for the body (ORG-3), if any.
async fn chief_data_officer(app: &App, org_id: &str) -> ServiceResult<Option<String>> {
    Ok(app
        .store
        .list_officers(org_id, false)
        .await?
        .into_iter()
        .find(|o| o.role == OfficerRole::ChiefDataOfficer.key() && o.ended_at.is_none())
        .map(|o| o.person_name))
}

/// One dataset of the input as a plan item: parsed, and filled from its catalog
/// entry when it names one (which must be the body's own data, HZ 36).
async fn parse_item(
    app: &App,
    org_id: &str,
    i: usize,
    input: &PlanItemInput,
    problems: &mut Vec<FieldError>,
) -> ServiceResult<Option<PlanItem>> {
    let at = |f: &str| format!("items[{i}].{f}");
    let n = i + 1;
    let resource = input.resource.trim();
    let entry = if resource.is_empty() {
        None
    } else {
        let found = match app.store.get_catalog_entry_by_code(resource).await? {
            Some(e) => Some(e),
            None => app.store.get_catalog_entry(resource).await?,
        };
        let Some(e) = found else {
            problems.push(field(
                at("resource"),
                "open_plan.unknown_resource",
                format!("第 {n} 项：资源目录中没有“{resource}”"),
                format!("item {n}: there is no catalog entry '{resource}'"),
            ));
            return Ok(None);
        };
        let content = e.published.clone().or_else(|| e.working.clone());
        let own =
            e.owner_org_id == org_id && content.as_ref().is_some_and(|c| c.source_org_id == org_id);
        if !own {
            problems.push(field(
                at("resource"),
                "open_plan.not_own_data",
                format!("第 {n} 项：“{resource}”不是本单位作为数源部门登记的数据，通过共享等获得的数据不纳入本单位开放计划（HZ 36）"),
                format!("item {n}: '{resource}' is not data the body registered as its source; data obtained by sharing is not in its open plan (HZ 36)"),
            ));
            return Ok(None);
        }
        Some((e.code.clone(), content))
    };
    let from_entry = entry.as_ref().and_then(|(_, c)| c.as_ref());
    let name = match input.name.trim() {
        "" => from_entry.map(|c| c.name.clone()).unwrap_or_default(),
        given => given.to_string(),
    };
    let domain = match input.domain.trim() {
        "" => from_entry.map(|c| c.domain),
        key => Domain::parse(key),
    };
    let open_type = match input.open_type.trim() {
        "" => from_entry
            .map(|c| c.open_type)
            .filter(|t| *t != OpenType::NotOpen),
        key => OpenType::parse(key),
    };
    let mut ok = true;
    if domain.is_none() {
        ok = false;
        problems.push(field(
            at("domain"),
            "open_plan.unknown_domain",
            format!("第 {n} 项：请选择领域"),
            format!("item {n}: choose a domain"),
        ));
    }
    if open_type.is_none() {
        ok = false;
        problems.push(field(
            at("open_type"),
            "open_plan.unknown_open_type",
            format!("第 {n} 项：请选择拟开放类型（无条件开放或有条件开放）"),
            format!("item {n}: choose the intended open type (unconditional or conditional)"),
        ));
    }
    let target_date = match input.target_date.trim() {
        "" => None,
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                ok = false;
                problems.push(field(
                    at("target_date"),
                    "open_plan.bad_date",
                    format!("第 {n} 项：日期“{text}”须为 YYYY-MM-DD"),
                    format!("item {n}: the day '{text}' must be YYYY-MM-DD"),
                ));
                None
            }
        },
    };
    let (Some(domain), Some(open_type), true) = (domain, open_type, ok) else {
        return Ok(None);
    };
    Ok(Some(PlanItem {
        resource: entry.map(|(code, _)| code),
        name,
        domain,
        open_type,
        quarter: input.quarter,
        target_date,
        responsible: input.responsible.trim().to_string(),
        note: input.note.trim().to_string(),
    }))
}

/// OPN-8 (HZ 36): the body saves its yearly plan as a draft, or files it with the
/// authority. Only the body itself may (`open.review` on its organisation). A plan
/// under review waits for the answer; a save that only links planned datasets to
/// their catalog entries keeps the plan's state (an accepted plan stays accepted).
pub async fn save(app: &App, ctx: &Ctx, input: PlanInput) -> ServiceResult<OpenPlan> {
    let org_id = input
        .org_id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| ctx.principal.org_id.clone())
        .ok_or_else(|| {
            ServiceError::invalid(
                "open_plan.org_required",
                "org_id",
                "请指明编制计划的单位",
                "name the body whose plan it is",
            )
        })?;
    ctx.principal
        .authorize(Permission::OpenReview, Some(&org_id))?;
    if app.store.get_org(&org_id).await?.is_none() {
        return Err(ServiceError::not_found("单位", "organisation", &org_id));
    }
    let year = checked_year(input.year)?;
    let mut problems = Vec::new();
    let mut items = Vec::new();
    for (i, it) in input.items.iter().enumerate() {
        if let Some(item) = parse_item(app, &org_id, i, it, &mut problems).await? {
            items.push(item);
        }
    }
    let mut content = PlanContent {
        chief_data_officer: input.chief_data_officer.trim().to_string(),
        responsible_department: input.responsible_department.trim().to_string(),
        responsible_person: input.responsible_person.trim().to_string(),
        items,
        notes: input.notes.trim().to_string(),
    };
    if content.chief_data_officer.is_empty() {
        if let Some(name) = chief_data_officer(app, &org_id).await? {
            content.chief_data_officer = name;
        }
    }
    if problems.is_empty() {
        problems.extend(check_plan(year, &content, input.file));
    }
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let before = app.store.get_open_plan_of(&org_id, year).await?;
    let status = after_save(
        before.as_ref().and_then(|p| PlanStatus::parse(&p.status)),
        before.as_ref().map(|p| &p.content),
        &content,
        input.file,
    )
    .map_err(plan_error)?;
    let now = truncate_to_micros(Utc::now());
    let link_only = before
        .as_ref()
        .is_some_and(|b| !input.file && links_only(&b.content, &content));
    let mut plan = match &before {
        Some(b) => OpenPlan {
            status: status.key().into(),
            content: content.clone(),
            version: b.version + 1,
            updated_at: now,
            ..b.clone()
        },
        None => OpenPlan {
            id: new_id(),
            org_id: org_id.clone(),
            year,
            status: status.key().into(),
            content: content.clone(),
            accepted: None,
            accepted_at: None,
            filed_at: None,
            filed_by: None,
            reviews: Vec::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        },
    };
    if status == PlanStatus::Filed && input.file {
        plan.filed_at = Some(now);
        plan.filed_by = Some(ctx.principal.actor.clone());
    }
    // Links recorded on an accepted plan show in the published version too.
    if link_only && status == PlanStatus::Accepted {
        if let Some(accepted) = plan.accepted.as_mut() {
            if links_only(accepted, &content) {
                *accepted = content.clone();
            }
        }
    }
    let action = if link_only {
        "open.plan_link"
    } else if input.file {
        "open.plan_file"
    } else {
        "open.plan_save"
    };
    let mut audit = ctx.audit(action, "open_plan", &plan.id);
    audit.org_id = Some(org_id.clone());
    audit.before = before.as_ref().and_then(|b| {
        summary(&serde_json::json!({
            "status": b.status, "version": b.version, "items": b.content.items.len(),
        }))
    });
    audit.after = summary(&serde_json::json!({
        "year": year,
        "status": plan.status,
        "version": plan.version,
        "items": plan.content.items.len(),
        "linked": plan.content.items.iter().filter(|i| i.resource.is_some()).count(),
        "chief_data_officer": plan.content.chief_data_officer,
        "responsible_department": plan.content.responsible_department,
    }));
    app.store
        .commit(
            vec![Change::PutOpenPlan {
                plan: plan.clone(),
                expected_version: before.as_ref().map(|b| b.version),
            }],
            vec![audit],
        )
        .await?;
    Ok(plan)
}

/// OPN-8 (HZ 36): the authority accepts a filed plan — it then joins the published
/// level plan — or returns it with reasons (required) for the body to revise.
pub async fn review(app: &App, ctx: &Ctx, id: &str, input: ReviewInput) -> ServiceResult<OpenPlan> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let before = app
        .store
        .get_open_plan(id)
        .await?
        .ok_or_else(|| plan_not_found(id))?;
    let Some(decision) = PlanDecision::parse(input.decision.trim()) else {
        return Err(ServiceError::invalid(
            "open_plan.unknown_decision",
            "decision",
            format!("未知的审核结果“{}”：可选 accept、return", input.decision),
            format!(
                "unknown decision '{}': use accept or return",
                input.decision
            ),
        ));
    };
    let reasons = input.reasons.trim().to_string();
    if let Some(e) = check_review(decision, &reasons) {
        return Err(ServiceError::fields(vec![e]));
    }
    let status = PlanStatus::parse(&before.status).unwrap_or(PlanStatus::Draft);
    let next = after_review(status, decision).map_err(plan_error)?;
    let now = truncate_to_micros(Utc::now());
    let mut after = before.clone();
    after.status = next.key().into();
    after.version += 1;
    after.updated_at = now;
    after.reviews.push(OpenPlanReview {
        decision: decision.key().into(),
        reasons: reasons.clone(),
        by: ctx.principal.actor.clone(),
        at: now,
    });
    if decision == PlanDecision::Accept {
        after.accepted = Some(after.content.clone());
        after.accepted_at = Some(now);
    }
    let action = match decision {
        PlanDecision::Accept => "open.plan_accept",
        PlanDecision::Return => "open.plan_return",
    };
    let mut audit = ctx.audit(action, "open_plan", id);
    audit.org_id = Some(before.org_id.clone());
    audit.before =
        summary(&serde_json::json!({ "status": before.status, "version": before.version }));
    audit.after = summary(&serde_json::json!({
        "year": after.year, "status": after.status, "version": after.version,
        "reasons": reasons, "items": after.content.items.len(),
    }));
    app.store
        .commit(
            vec![Change::PutOpenPlan {
                plan: after.clone(),
                expected_version: Some(before.version),
            }],
            vec![audit],
        )
        .await?;
    Ok(after)
}

/// OPN-8 (HZ 30, XJ 31): the authority publishes (or republishes) the year's
/// priority domains, with what it heard from the sector authorities and the public.
pub async fn publish_priorities(
    app: &App,
    ctx: &Ctx,
    year: i32,
    input: PrioritiesInput,
) -> ServiceResult<OpenPriorities> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let year = checked_year(Some(year))?;
    let mut problems = Vec::new();
    let mut domains = Vec::new();
    for key in &input.domains {
        match Domain::parse(key.trim()) {
            Some(d) => domains.push(d),
            None => problems.push(field(
                "domains".into(),
                "open_priorities.unknown_domain",
                format!("未知的领域“{key}”"),
                format!("unknown domain '{key}'"),
            )),
        }
    }
    let priorities = Priorities {
        domains,
        sector_hearing: input.sector_hearing.trim().to_string(),
        public_hearing: input.public_hearing.trim().to_string(),
        notes: input.notes.trim().to_string(),
    };
    problems.extend(check_priorities(&priorities));
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let before = app.store.get_open_priorities(year).await?;
    let now = truncate_to_micros(Utc::now());
    let published = OpenPriorities {
        year,
        priorities,
        org_id: ctx.principal.org_id.clone(),
        published_by: ctx.principal.actor.clone(),
        published_at: now,
        version: before.as_ref().map_or(1, |b| b.version + 1),
    };
    let keys =
        |p: &Priorities| -> Vec<&'static str> { p.domains.iter().map(|d| d.key()).collect() };
    let mut audit = ctx.audit(
        "open.priorities_publish",
        "open_priorities",
        &year.to_string(),
    );
    audit.before = before.as_ref().and_then(|b| {
        summary(&serde_json::json!({ "domains": keys(&b.priorities), "version": b.version }))
    });
    audit.after = summary(&serde_json::json!({
        "year": year,
        "domains": keys(&published.priorities),
        "version": published.version,
        "sector_hearing": published.priorities.sector_hearing,
        "public_hearing": published.priorities.public_hearing,
    }));
    app.store
        .commit(
            vec![Change::PutOpenPriorities(published.clone())],
            vec![audit],
        )
        .await?;
    Ok(published)
}

/// OPN-8: the plans of a year counted by state, for the console.
pub fn count_by_status(plans: &[PlanView]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for p in plans {
        *out.entry(p.status.clone()).or_default() += 1;
    }
    out
}
