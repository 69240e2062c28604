//! OPN-8 (HZ 30, HZ 36, XJ 31, JY 26): yearly open plans in the web. On the portal,
//! anyone reads the year's priority domains and each body's accepted plan with its
//! progress; in the console, a body saves and files its plan, and the authority
//! reviews the plans and publishes the year's priorities. A form refused for its
//! content comes back filled in, with the problems listed.
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gongshu_domain::catalog::Domain;
use gongshu_domain::permissions::Permission;
use gongshu_services::open_plans::{
    self, current_year, PlanInput, PlanItemInput, PlanQuery, PlanView, PrioritiesInput,
    PrioritiesView, ReviewInput,
};
use gongshu_services::ServiceError;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};

use super::pages::fail;
use super::render::{csrf_rejected, render_page, urlencode, Lang, WebUser};
use crate::error::status_of;
use crate::extract::WebForm;
use crate::state::AppState;

/// Blank dataset rows the plan form offers after the filled ones.
const BLANK_ROWS: usize = 3;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct YearParams {
    year: Option<i32>,
    done: Option<String>,
}

/// GET /open/plans?year=: the level's published plan — the year's priority domains
/// and each body's accepted plan with its progress.
pub async fn portal_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<YearParams>,
) -> Response {
    let year = q.year.unwrap_or_else(current_year);
    match open_plans::level_plan(&state.app, Some(year)).await {
        Ok(level) => {
            let here = format!("/open/plans?year={year}");
            let page = render_page(
                &state,
                "portal_plans.html",
                lang,
                None,
                context! {
                    here_q => urlencode(&here),
                    level => level,
                    years => [year.saturating_sub(1), year, year.saturating_add(1)],
                },
            );
            page.into_response()
        }
        Err(e) => {
            let page = render_page(
                &state,
                "result.html",
                lang,
                None,
                context! { error => context! { code => e.code, message => e.message, message_en => e.message_en, field => e.field }, back => "/open" },
            );
            (status_of(e.kind), page).into_response()
        }
    }
}

/// One dataset row of the plan form, as shown and as sent.
#[derive(Debug, Clone, Default, Serialize)]
struct Row {
    resource: String,
    name: String,
    domain: String,
    open_type: String,
    quarter: String,
    target_date: String,
    responsible: String,
    note: String,
}

impl Row {
    fn is_blank(&self) -> bool {
        self.resource.trim().is_empty() && self.name.trim().is_empty()
    }

    fn input(&self) -> PlanItemInput {
        PlanItemInput {
            resource: self.resource.clone(),
            name: self.name.clone(),
            domain: self.domain.clone(),
            open_type: self.open_type.clone(),
            quarter: self.quarter.trim().parse().ok(),
            target_date: self.target_date.clone(),
            responsible: self.responsible.clone(),
            note: self.note.clone(),
        }
    }
}

/// The plan form as shown: the header fields and the dataset rows.
#[derive(Debug, Clone, Default, Serialize)]
struct PlanForm {
    chief_data_officer: String,
    responsible_department: String,
    responsible_person: String,
    notes: String,
    rows: Vec<Row>,
}

impl PlanForm {
    fn of(plan: Option<&PlanView>) -> Self {
        let mut form = match plan {
            Some(p) => PlanForm {
                chief_data_officer: p.chief_data_officer.clone(),
                responsible_department: p.responsible_department.clone(),
                responsible_person: p.responsible_person.clone(),
                notes: p.notes.clone(),
                rows: p
                    .items
                    .iter()
                    .map(|i| Row {
                        resource: i.resource.clone().unwrap_or_default(),
                        name: i.name.clone(),
                        domain: i.domain.clone(),
                        open_type: i.open_type.clone(),
                        quarter: i.quarter.map(|q| q.to_string()).unwrap_or_default(),
                        target_date: i.target_date.map(|d| d.to_string()).unwrap_or_default(),
                        responsible: i.responsible.clone(),
                        note: i.note.clone(),
                    })
                    .collect(),
            },
            None => PlanForm::default(),
        };
        form.pad();
        form
    }

    fn pad(&mut self) {
        self.rows.retain(|r| !r.is_blank());
        self.rows
            .extend(std::iter::repeat_n(Row::default(), BLANK_ROWS));
    }
}

/// The priorities form as shown.
#[derive(Debug, Clone, Default, Serialize)]
struct PrioritiesForm {
    domains: Vec<String>,
    sector_hearing: String,
    public_hearing: String,
    notes: String,
}

impl PrioritiesForm {
    fn of(p: &PrioritiesView) -> Self {
        Self {
            domains: p.domains.clone(),
            sector_hearing: p.sector_hearing.clone(),
            public_hearing: p.public_hearing.clone(),
            notes: p.notes.clone(),
        }
    }
}

/// What the console page shows besides the store's state: a form sent back with
/// its problems.
#[derive(Default)]
struct Sent {
    plan: Option<PlanForm>,
    priorities: Option<PrioritiesForm>,
    error: Option<(ServiceError, &'static str)>,
    done: Option<String>,
}

async fn console(state: &AppState, web: &WebUser, year: i32, sent: Sent) -> Response {
    let p = &web.ctx.principal;
    let authority = p.holds_globally(Permission::OpenCoordinate);
    let own_org = web.user.org_id.clone();
    let can_file = p.authorize(Permission::OpenReview, Some(&own_org)).is_ok();
    if !authority && !can_file {
        let e: ServiceError = p
            .authorize(Permission::OpenReview, Some(&own_org))
            .expect_err("not allowed")
            .into();
        return fail(state, web, e, "/");
    }
    let plans = match open_plans::list(
        &state.app,
        &web.ctx,
        PlanQuery {
            year: Some(year),
            status: None,
        },
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return fail(state, web, e, "/"),
    };
    let priorities = match open_plans::priorities(&state.app, Some(year)).await {
        Ok(p) => p,
        Err(e) => return fail(state, web, e, "/"),
    };
    let own = plans.iter().find(|v| v.org_id == own_org).cloned();
    let plan_form = sent.plan.unwrap_or_else(|| PlanForm::of(own.as_ref()));
    let priorities_form = sent
        .priorities
        .unwrap_or_else(|| PrioritiesForm::of(&priorities));
    let domains: Vec<Value> = Domain::ALL
        .iter()
        .map(|d| {
            context! {
                key => d.key(),
                checked => priorities_form.domains.iter().any(|k| k == d.key()),
            }
        })
        .collect();
    let counts = open_plans::count_by_status(&plans);
    let status = sent
        .error
        .as_ref()
        .map_or(axum::http::StatusCode::OK, |(e, _)| status_of(e.kind));
    let error = sent.error.map(|(e, target)| {
        let problems: Vec<Value> = e
            .errors
            .iter()
            .map(
                |p| context! { field => p.field, message => p.message, message_en => p.message_en },
            )
            .collect();
        context! {
            target => target, code => e.code, message => e.message, message_en => e.message_en,
            problems => problems,
        }
    });
    let page = render_page(
        state,
        "open_plans.html",
        web.lang,
        Some(web),
        context! {
            year => year,
            years => [year.saturating_sub(1), year, year.saturating_add(1)],
            this_year => current_year(),
            priorities => priorities,
            priorities_form => priorities_form,
            domains => domains,
            domain_keys => Domain::ALL.iter().map(|d| d.key()).collect::<Vec<_>>(),
            authority => authority,
            can_file => can_file,
            own => own,
            plan_form => plan_form,
            plans => if authority { plans } else { Vec::new() },
            counts => counts,
            error => error,
            done => sent.done,
        },
    );
    (status, page).into_response()
}

/// GET /open-plans?year=: the body's own plan and, for the authority, the year's
/// priorities and every body's plan to review.
pub async fn console_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<YearParams>,
) -> Response {
    let year = q.year.unwrap_or_else(current_year);
    let sent = Sent {
        done: q.done,
        ..Default::default()
    };
    console(&state, &web, year, sent).await
}

/// The value of `key` in a form's pairs (the first).
fn value(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Every value of `key`, in order.
fn values(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

fn year_of(pairs: &[(String, String)]) -> i32 {
    value(pairs, "year")
        .trim()
        .parse()
        .unwrap_or_else(|_| current_year())
}

/// POST /open-plans: the body saves (`file=0`) or files (`file=1`) its plan.
pub async fn save(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(pairs): WebForm<Vec<(String, String)>>,
) -> Response {
    if !web.csrf_ok(&value(&pairs, "csrf")) {
        return csrf_rejected();
    }
    let year = year_of(&pairs);
    let column = |k: &str| values(&pairs, &format!("item_{k}"));
    let (resource, name, domain, open_type, quarter, target_date, responsible, note) = (
        column("resource"),
        column("name"),
        column("domain"),
        column("open_type"),
        column("quarter"),
        column("target_date"),
        column("responsible"),
        column("note"),
    );
    let at = |v: &[String], i: usize| v.get(i).cloned().unwrap_or_default();
    let rows: Vec<Row> = (0..resource.len().max(name.len()))
        .map(|i| Row {
            resource: at(&resource, i),
            name: at(&name, i),
            domain: at(&domain, i),
            open_type: at(&open_type, i),
            quarter: at(&quarter, i),
            target_date: at(&target_date, i),
            responsible: at(&responsible, i),
            note: at(&note, i),
        })
        .filter(|r| !r.is_blank())
        .collect();
    let file = value(&pairs, "file") == "1";
    let mut form = PlanForm {
        chief_data_officer: value(&pairs, "chief_data_officer"),
        responsible_department: value(&pairs, "responsible_department"),
        responsible_person: value(&pairs, "responsible_person"),
        notes: value(&pairs, "notes"),
        rows,
    };
    let input = PlanInput {
        org_id: None,
        year: Some(year),
        chief_data_officer: form.chief_data_officer.clone(),
        responsible_department: form.responsible_department.clone(),
        responsible_person: form.responsible_person.clone(),
        items: form.rows.iter().map(Row::input).collect(),
        notes: form.notes.clone(),
        file,
    };
    match open_plans::save(&state.app, &web.ctx, input).await {
        Ok(plan) => Redirect::to(&format!(
            "/open-plans?year={}&done={}",
            plan.year,
            if file { "filed" } else { "saved" }
        ))
        .into_response(),
        Err(e) => {
            form.pad();
            let sent = Sent {
                plan: Some(form),
                error: Some((e, "plan")),
                ..Default::default()
            };
            console(&state, &web, year, sent).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    csrf: String,
    decision: String,
    reasons: String,
    year: Option<i32>,
}

/// POST /open-plans/{id}/review: the authority accepts or returns a plan.
pub async fn review(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<ReviewForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let year = f.year.unwrap_or_else(current_year);
    let input = ReviewInput {
        decision: f.decision.clone(),
        reasons: f.reasons,
    };
    match open_plans::review(&state.app, &web.ctx, &id, input).await {
        Ok(plan) => Redirect::to(&format!(
            "/open-plans?year={}&done={}#plan-{}",
            plan.year,
            if plan.status == "accepted" {
                "accepted"
            } else {
                "returned"
            },
            urlencode(&plan.id)
        ))
        .into_response(),
        Err(e) => {
            let sent = Sent {
                error: Some((e, "review")),
                ..Default::default()
            };
            console(&state, &web, year, sent).await
        }
    }
}

/// POST /open-plans/priorities: the authority publishes the year's priority domains.
pub async fn publish_priorities(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(pairs): WebForm<Vec<(String, String)>>,
) -> Response {
    if !web.csrf_ok(&value(&pairs, "csrf")) {
        return csrf_rejected();
    }
    let year = year_of(&pairs);
    let form = PrioritiesForm {
        domains: values(&pairs, "domain"),
        sector_hearing: value(&pairs, "sector_hearing"),
        public_hearing: value(&pairs, "public_hearing"),
        notes: value(&pairs, "notes"),
    };
    let input = PrioritiesInput {
        domains: form.domains.clone(),
        sector_hearing: form.sector_hearing.clone(),
        public_hearing: form.public_hearing.clone(),
        notes: form.notes.clone(),
    };
    match open_plans::publish_priorities(&state.app, &web.ctx, year, input).await {
        Ok(p) => {
            Redirect::to(&format!("/open-plans?year={}&done=priorities", p.year)).into_response()
        }
        Err(e) => {
            let sent = Sent {
                priorities: Some(form),
                error: Some((e, "priorities")),
                ..Default::default()
            };
            console(&state, &web, year, sent).await
        }
    }
}
