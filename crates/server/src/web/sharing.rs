//! SHR-3 … SHR-9, SHR-12, GOV-5: the console's sharing pages: the request form with
//! item picking, review queues with their deadlines, grant management, the access
//! log, and the notices a department needs (new requests, overdue steps, suspensions).
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, TimeZone, Utc};
use gongshu_domain::catalog::FieldError;
use gongshu_domain::permissions::Permission;
use gongshu_domain::sharing::{
    GrantAction, RowFilter, COMMITMENT_EN, COMMITMENT_VERSION, COMMITMENT_ZH,
};
use gongshu_services::catalog::today_in_china;
use gongshu_services::sharing::{self, NewShareRequest, StepInput};
use gongshu_services::ServiceError;
use gongshu_store::{AccessFilter, CatalogEntry, CatalogFilter};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::pages::fail;
use super::render::{csrf_rejected, render_page, urlencode, WebUser};
use crate::error::status_of;
use crate::extract::WebForm;
use crate::state::AppState;

/// GET /share: the caller's review queue, its own requests, and its notices.
pub async fn overview(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    let app = &state.app;
    let inbox = match sharing::inbox(app, &web.ctx).await {
        Ok(v) => v,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let own_org = web.ctx.principal.org_id.clone().unwrap_or_default();
    let mine: Vec<_> = match sharing::list_requests(app, &web.ctx, None, false).await {
        Ok(v) => v
            .into_iter()
            .filter(|r| r.requester_org_id == own_org)
            .collect(),
        Err(_) => Vec::new(),
    };
    let grants = sharing::list_grants(app, &web.ctx)
        .await
        .unwrap_or_default();
    let today = today_in_china(Utc::now());
    let overdue = inbox
        .iter()
        .chain(mine.iter())
        .filter(|r| r.overdue_since.is_some() || r.due.is_some_and(|d| d < today))
        .count();
    let suspended: Vec<_> = grants
        .iter()
        .filter(|g| g.status == "suspended" && g.consumer_org_id == own_org)
        .cloned()
        .collect();
    // SHR-13: grants whose resource was replaced, with the successor to ask for.
    let offers: Vec<_> = grants
        .iter()
        .filter(|g| {
            g.consumer_org_id == own_org
                && g.status != "revoked"
                && g.successor_resource_id.is_some()
        })
        .cloned()
        .collect();
    // SHR-7: demands the source confirmed and cataloged, not yet requested.
    let requested: std::collections::HashSet<&str> =
        mine.iter().map(|r| r.resource_id.as_str()).collect();
    let cataloged: Vec<_> = gongshu_services::demands::list(app, &web.ctx, Some(&own_org))
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.requester_org_id == own_org && d.status == "accepted")
        .filter(|d| {
            d.entry_id
                .as_deref()
                .is_some_and(|e| !requested.contains(e))
        })
        .collect();
    render_page(
        &state,
        "share.html",
        web.lang,
        Some(&web),
        context! {
            inbox => inbox,
            mine => mine,
            overdue => overdue,
            suspended => suspended,
            offers => offers,
            cataloged => cataloged,
            done => q.done,
            today => today.to_string(),
            can_request => web.ctx.principal.holds(Permission::ShareRequest),
        },
    )
    .into_response()
}

/// The request form as typed; kept when submitting fails.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestForm {
    resource_id: String,
    items: Vec<String>,
    mode: String,
    token_id: String,
    purpose: String,
    scenario: String,
    legal_duty: String,
    end_date: String,
    commitment: bool,
    emergency: bool,
    emergency_reason: String,
}

impl RequestForm {
    /// Reads the posted pairs; item checkboxes repeat the `items` key.
    fn from_pairs(pairs: Vec<(String, String)>) -> (String, Self) {
        let mut csrf = String::new();
        let mut f = RequestForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => csrf = v,
                "resource_id" => f.resource_id = v,
                "items" => f.items.push(v),
                "mode" => f.mode = v,
                "token_id" => f.token_id = v,
                "purpose" => f.purpose = v,
                "scenario" => f.scenario = v,
                "legal_duty" => f.legal_duty = v,
                "end_date" => f.end_date = v,
                "commitment" => f.commitment = v == "yes",
                "emergency" => f.emergency = v == "yes",
                "emergency_reason" => f.emergency_reason = v,
                _ => {}
            }
        }
        (csrf, f)
    }

    fn to_input(&self) -> Result<NewShareRequest, ServiceError> {
        let end_date =
            NaiveDate::parse_from_str(self.end_date.trim(), "%Y-%m-%d").map_err(|_| {
                ServiceError::fields(vec![FieldError::new(
                    "end_date",
                    "share.end_date_invalid",
                    "请填写截止日期（年-月-日）",
                    "give the end date (year-month-day)",
                )])
            })?;
        Ok(NewShareRequest {
            resource_id: self.resource_id.clone(),
            purpose: self.purpose.clone(),
            scenario: self.scenario.clone(),
            legal_duty: self.legal_duty.clone(),
            items: self.items.clone(),
            mode: self.mode.clone(),
            token_id: Some(self.token_id.clone()).filter(|t| !t.is_empty()),
            end_date,
            commitment_signed: self.commitment,
            emergency: self.emergency,
            emergency_reason: self.emergency_reason.clone(),
            scenario_id: None,
        })
    }
}

#[derive(Deserialize)]
pub struct NewRequestQuery {
    #[serde(default)]
    resource: Option<String>,
    /// SHR-13: a grant on a replaced resource whose terms fill the form.
    #[serde(default)]
    from: Option<String>,
}

/// The published entries a department may ask for (not-shared ones only for
/// negotiation or verification, SHR-5).
async fn requestable(state: &AppState, web: &WebUser) -> Result<Vec<CatalogEntry>, ServiceError> {
    let filter = CatalogFilter {
        status: Some("published".into()),
        limit: Some(1000),
        ..Default::default()
    };
    let own = web.ctx.principal.org_id.clone().unwrap_or_default();
    Ok(
        gongshu_services::catalog::list(&state.app, &web.ctx, filter)
            .await?
            .into_iter()
            .filter(|e| e.source_org_id != own)
            .collect(),
    )
}

/// The department's live tokens that may consume shared data (the consumer systems).
async fn consumer_tokens(state: &AppState, web: &WebUser) -> Vec<gongshu_store::ApiToken> {
    let own = web.ctx.principal.org_id.clone().unwrap_or_default();
    let now = Utc::now();
    gongshu_services::identity::list_tokens(&state.app, &web.ctx, Some(own.as_str()))
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|t| {
            t.revoked_at.is_none()
                && t.expires_at > now
                && t.permissions.iter().any(|p| p == "data.consume")
        })
        .collect()
}

/// A rejected form's status, its message in the page's language and its problems.
fn form_error(
    web: &WebUser,
    error: Option<&ServiceError>,
) -> (
    StatusCode,
    Option<String>,
    Vec<gongshu_services::error::FieldProblem>,
) {
    match error {
        Some(e) => (
            status_of(e.kind),
            Some(if web.lang.code() == "en" {
                e.message_en.clone()
            } else {
                e.message.clone()
            }),
            e.errors.to_vec(),
        ),
        None => (StatusCode::OK, None, Vec::new()),
    }
}

async fn render_form(
    state: &AppState,
    web: &WebUser,
    form: RequestForm,
    error: Option<ServiceError>,
) -> Response {
    let resources = match requestable(state, web).await {
        Ok(r) => r,
        Err(e) => return fail(state, web, e, "/share"),
    };
    let chosen = resources
        .iter()
        .find(|e| e.id == form.resource_id || e.code == form.resource_id)
        .cloned();
    let tokens = consumer_tokens(state, web).await;
    let (status, message, problems) = form_error(web, error.as_ref());
    let page = render_page(
        state,
        "share_form.html",
        web.lang,
        Some(web),
        context! {
            form => form,
            resources => resources,
            chosen => chosen,
            tokens => tokens,
            error => message,
            problems => problems,
            commitment_version => COMMITMENT_VERSION,
            commitment_zh => COMMITMENT_ZH,
            commitment_en => COMMITMENT_EN,
        },
    );
    (status, page).into_response()
}

/// GET /share/new: the request form; choosing a resource lists its items to pick.
pub async fn new_request_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<NewRequestQuery>,
) -> Response {
    if let Err(e) = web.ctx.principal.authorize(
        Permission::ShareRequest,
        web.ctx.principal.org_id.as_deref(),
    ) {
        return fail(&state, &web, e.into(), "/share");
    }
    let mut form = RequestForm {
        resource_id: q.resource.unwrap_or_default(),
        mode: "api".into(),
        ..Default::default()
    };
    if let Some(from) = q.from.as_deref() {
        match sharing::get_grant(&state.app, &web.ctx, from).await {
            Ok(g) => {
                let legal_duty = sharing::get_request(&state.app, &web.ctx, &g.request_id)
                    .await
                    .map(|r| r.legal_duty)
                    .unwrap_or_default();
                form = RequestForm {
                    resource_id: g.successor_resource_id.unwrap_or(form.resource_id),
                    items: g.items,
                    mode: g.mode,
                    token_id: g.token_id.unwrap_or_default(),
                    purpose: g.purpose,
                    scenario: g.scenario,
                    legal_duty,
                    ..form
                };
            }
            Err(e) => return fail(&state, &web, e, "/share"),
        }
    }
    render_form(&state, &web, form, None).await
}

/// POST /share/requests: files the request; on an error the form comes back as typed.
pub async fn submit_request(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(pairs): WebForm<Vec<(String, String)>>,
) -> Response {
    let (csrf, form) = RequestForm::from_pairs(pairs);
    if !web.csrf_ok(&csrf) {
        return csrf_rejected();
    }
    let result = match form.to_input() {
        Ok(input) => sharing::submit(&state.app, &web.ctx, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Redirect::to(&format!("/share/requests/{}?done=submitted", r.id)).into_response(),
        Err(e) => render_form(&state, &web, form, Some(e)).await,
    }
}

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// GET /share/requests/{id}: the request, its steps and deadlines, and the steps the
/// caller may take.
pub async fn request_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let r = match sharing::get_request(&state.app, &web.ctx, &id).await {
        Ok(r) => r,
        Err(e) => return fail(&state, &web, e, "/share"),
    };
    let actions: Vec<&str> = sharing::actions_for(&web.ctx, &r)
        .iter()
        .map(|a| a.key())
        .collect();
    let entry = gongshu_services::catalog::get(&state.app, &web.ctx, &r.resource_id)
        .await
        .ok();
    let item_names: Vec<(String, String)> = r
        .items
        .iter()
        .map(|code| {
            let name = entry
                .as_ref()
                .and_then(|e| e.published.as_ref())
                .and_then(|c| c.items.iter().find(|i| &i.code_name == code))
                .map(|i| i.name.clone())
                .unwrap_or_default();
            (code.clone(), name)
        })
        .collect();
    let grant = match &r.grant_id {
        Some(g) => sharing::get_grant(&state.app, &web.ctx, g).await.ok(),
        None => None,
    };
    render_page(
        &state,
        "share_request.html",
        web.lang,
        Some(&web),
        context! {
            r => r,
            items => item_names,
            actions => actions,
            grant => grant,
            done => q.done,
            today => today_in_china(Utc::now()).to_string(),
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct BundleQuery {
    #[serde(default)]
    scenario: Option<String>,
}

/// The bundle form as typed: items keyed `items.<resource code>`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BundleForm {
    scenario_id: String,
    items: std::collections::BTreeMap<String, Vec<String>>,
    mode: String,
    token_id: String,
    purpose: String,
    legal_duty: String,
    end_date: String,
    commitment: bool,
}

impl BundleForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> (String, Self) {
        let mut csrf = String::new();
        let mut f = BundleForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => csrf = v,
                "scenario_id" => f.scenario_id = v,
                "mode" => f.mode = v,
                "token_id" => f.token_id = v,
                "purpose" => f.purpose = v,
                "legal_duty" => f.legal_duty = v,
                "end_date" => f.end_date = v,
                "commitment" => f.commitment = v == "yes",
                other => {
                    if let Some(code) = other.strip_prefix("items.") {
                        f.items.entry(code.to_string()).or_default().push(v);
                    }
                }
            }
        }
        (csrf, f)
    }
}

async fn render_bundle_form(
    state: &AppState,
    web: &WebUser,
    form: BundleForm,
    error: Option<ServiceError>,
) -> Response {
    let bundles = gongshu_services::scenarios::list(&state.app, &web.ctx)
        .await
        .unwrap_or_default();
    let chosen = bundles.iter().find(|b| b.id == form.scenario_id).cloned();
    let mut entries = Vec::new();
    if let Some(b) = &chosen {
        for id in &b.entry_ids {
            if let Ok(e) = gongshu_services::catalog::get(&state.app, &web.ctx, id).await {
                entries.push(e);
            }
        }
    }
    let tokens = consumer_tokens(state, web).await;
    let (status, message, problems) = form_error(web, error.as_ref());
    let page = render_page(
        state,
        "share_bundle_form.html",
        web.lang,
        Some(web),
        context! {
            form => form, bundles => bundles, chosen => chosen, entries => entries,
            tokens => tokens, error => message, problems => problems,
            commitment_version => COMMITMENT_VERSION, commitment_zh => COMMITMENT_ZH,
            commitment_en => COMMITMENT_EN,
        },
    );
    (status, page).into_response()
}

/// GET /share/new-bundle (CAT-5): ask for a scenario catalog's resources at once.
pub async fn new_bundle_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<BundleQuery>,
) -> Response {
    let form = BundleForm {
        scenario_id: q.scenario.unwrap_or_default(),
        mode: "api".into(),
        ..Default::default()
    };
    render_bundle_form(&state, &web, form, None).await
}

/// POST /share/bundles: files one request per chosen resource, or none.
pub async fn submit_bundle(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(pairs): WebForm<Vec<(String, String)>>,
) -> Response {
    let (csrf, form) = BundleForm::from_pairs(pairs);
    if !web.csrf_ok(&csrf) {
        return csrf_rejected();
    }
    let end_date = NaiveDate::parse_from_str(form.end_date.trim(), "%Y-%m-%d");
    let result = match end_date {
        Ok(end_date) => {
            let input = sharing::NewBundleRequest {
                scenario_id: form.scenario_id.clone(),
                purpose: form.purpose.clone(),
                legal_duty: form.legal_duty.clone(),
                items: form.items.clone(),
                mode: form.mode.clone(),
                token_id: Some(form.token_id.clone()).filter(|t| !t.is_empty()),
                end_date,
                commitment_signed: form.commitment,
                emergency: false,
                emergency_reason: String::new(),
            };
            sharing::submit_bundle(&state.app, &web.ctx, input).await
        }
        Err(_) => Err(ServiceError::fields(vec![FieldError::new(
            "end_date",
            "share.end_date_invalid",
            "请填写截止日期（年-月-日）",
            "give the end date (year-month-day)",
        )])),
    };
    match result {
        Ok(_) => Redirect::to("/share?done=bundle#mine").into_response(),
        Err(e) => render_bundle_form(&state, &web, form, Some(e)).await,
    }
}

/// A step posted from the request page.
#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    daily_quota: String,
    #[serde(default)]
    rate_per_minute: String,
    #[serde(default)]
    filter_column: String,
    #[serde(default)]
    filter_prefix: String,
}

fn optional_number(field: &str, text: &str) -> Result<Option<i64>, ServiceError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(Some)
        .ok_or_else(|| {
            ServiceError::fields(vec![FieldError::new(
                field,
                "share.number_invalid",
                "须为正整数",
                "must be a positive whole number",
            )])
        })
}

/// POST /share/requests/{id}/steps.
pub async fn take_step(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<StepForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let back = format!("/share/requests/{}", urlencode(&id));
    let terms = optional_number("daily_quota", &f.daily_quota).and_then(|quota| {
        Ok((
            quota,
            optional_number("rate_per_minute", &f.rate_per_minute)?,
        ))
    });
    let (daily_quota, rate_per_minute) = match terms {
        Ok(t) => t,
        Err(e) => return fail(&state, &web, e, &back),
    };
    let row_filter = (!f.filter_column.trim().is_empty()).then(|| RowFilter {
        column: f.filter_column.trim().to_string(),
        prefix: Some(f.filter_prefix.trim().to_string()).filter(|p| !p.is_empty()),
        equals: None,
    });
    let input = StepInput {
        action: f.action,
        note: f.note,
        legal_basis: f.legal_basis,
        masking: None,
        row_filter,
        daily_quota,
        rate_per_minute,
    };
    match sharing::act(&state.app, &web.ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!("{back}?done=step")).into_response(),
        Err(e) => fail(&state, &web, e, &back),
    }
}

/// GET /share/grants: grants the department gives or holds (all, for the authority
/// and auditors), with suspension, resumption and revocation (SHR-9).
pub async fn grants_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    let grants = match sharing::list_grants(&state.app, &web.ctx).await {
        Ok(g) => g,
        Err(e) => return fail(&state, &web, e, "/share"),
    };
    let p = &web.ctx.principal;
    let manageable: Vec<String> = grants
        .iter()
        .filter(|g| {
            p.authorize(Permission::GrantManage, Some(&g.source_org_id))
                .is_ok()
        })
        .map(|g| g.id.clone())
        .collect();
    // Resources the department gives grants on, which it may replace (SHR-13).
    let mut replaceable: Vec<(String, String)> = grants
        .iter()
        .filter(|g| {
            g.successor_resource_id.is_none()
                && p.authorize(Permission::CatalogOffline, Some(&g.source_org_id))
                    .is_ok()
        })
        .map(|g| {
            (
                g.resource_id.clone(),
                format!("{} {}", g.resource_code, g.resource_name),
            )
        })
        .collect();
    replaceable.sort();
    replaceable.dedup();
    render_page(
        &state,
        "share_grants.html",
        web.lang,
        Some(&web),
        context! {
            grants => grants,
            manageable => manageable,
            replaceable => replaceable,
            done => q.done,
            own_org => p.org_id.clone(),
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct GrantStatusForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
}

/// POST /share/grants/{id}/status.
pub async fn grant_status(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<GrantStatusForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let Some(action) = GrantAction::parse(f.action.trim()) else {
        let e = ServiceError::invalid(
            "share.unknown_action",
            "action",
            format!("未知的操作“{}”", f.action),
            format!("unknown action '{}'", f.action),
        );
        return fail(&state, &web, e, "/share/grants");
    };
    match sharing::set_grant_status(&state.app, &web.ctx, &id, action, &f.reason).await {
        Ok(_) => Redirect::to("/share/grants?done=status").into_response(),
        Err(e) => fail(&state, &web, e, "/share/grants"),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    key: String,
}

/// GET /share/query/{grant}?key=… (SHR-2 page query): a person of the consumer
/// department looks one record up under a `page_query` grant, masked and recorded
/// like any call through the gate.
pub async fn page_query(
    State(state): State<AppState>,
    web: WebUser,
    Path(grant_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let grant = match sharing::get_grant(&state.app, &web.ctx, &grant_id).await {
        Ok(g) => g,
        Err(e) => return fail(&state, &web, e, "/share/grants"),
    };
    let key = q.key.trim().to_string();
    let (served, error) = if key.is_empty() {
        (None, None)
    } else {
        match gongshu_services::egress::page_lookup(
            &state.app,
            &web.ctx,
            &grant.resource_id,
            &key,
            &grant.id,
        )
        .await
        {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        }
    };
    let status = error
        .as_ref()
        .map(|e| status_of(e.kind))
        .unwrap_or(StatusCode::OK);
    let error = error
        .map(|e| context! { code => e.code, message => e.message, message_en => e.message_en });
    let page = render_page(
        &state,
        "share_query.html",
        web.lang,
        Some(&web),
        context! { grant => grant, key => key, served => served, error => error },
    );
    (status, page).into_response()
}

#[derive(Deserialize)]
pub struct ReplaceForm {
    csrf: String,
    old: String,
    successor: String,
    #[serde(default)]
    reason: String,
}

/// POST /share/replace (SHR-13): the source replaces a resource by a working successor.
pub async fn replace_resource(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<ReplaceForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    match sharing::replace_resource(
        &state.app,
        &web.ctx,
        f.old.trim(),
        f.successor.trim(),
        &f.reason,
    )
    .await
    {
        Ok(_) => Redirect::to("/share/grants?done=replaced").into_response(),
        Err(e) => fail(&state, &web, e, "/share/grants"),
    }
}

/// The access log search: by resource, consumer department, outcome and China dates.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct AccessQuery {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    consumer: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

/// Midnight in China of a `YYYY-MM-DD` day, as UTC.
fn china_midnight(day: &str) -> Option<chrono::DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    let china = chrono::FixedOffset::east_opt(8 * 3600)?;
    china
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// GET /share/access (GOV-5): calls on the department's data and calls it made; all
/// calls for auditors.
pub async fn access_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<AccessQuery>,
) -> Response {
    let keep = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let resource_id = match keep(&q.resource) {
        Some(key) => match gongshu_services::catalog::get(&state.app, &web.ctx, &key).await {
            Ok(e) => Some(e.id),
            Err(e) => return fail(&state, &web, e, "/share/access"),
        },
        None => None,
    };
    let filter = AccessFilter {
        resource_id,
        consumer_org_id: keep(&q.consumer),
        outcome: keep(&q.outcome),
        since: china_midnight(&q.since),
        until: china_midnight(&q.until).map(|t| t + chrono::Duration::days(1)),
        limit: 500,
        ..Default::default()
    };
    let records = match sharing::access_log(&state.app, &web.ctx, filter).await {
        Ok(r) => r,
        Err(e) => return fail(&state, &web, e, "/share"),
    };
    let orgs = gongshu_services::orgs::list_orgs(&state.app, &web.ctx, &Default::default())
        .await
        .unwrap_or_default();
    let org_names: std::collections::HashMap<String, String> =
        orgs.into_iter().map(|o| (o.id, o.name)).collect();
    render_page(
        &state,
        "share_access.html",
        web.lang,
        Some(&web),
        context! { records => records, q => q, org_names => org_names },
    )
    .into_response()
}
