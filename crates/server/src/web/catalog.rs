//! Console pages of the catalog (CAT-1, CAT-2): browse, register, edit, review,
//! take offline. A form with broken rules comes back filled in, each error next to
//! its field, so nothing typed is lost.
use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use gongshu_domain::catalog::{
    Category, DataItem, Domain, EntryContent, FieldError, Grade, OpenReason, OpenType,
    ResourceFormat, ReviewAction, Sensitivity, ShareMode, ShareType, Stage, UpdateFrequency,
};
use gongshu_services::catalog::{self, today_in_china};
use gongshu_services::{orgs, ServiceError};
use gongshu_store::{CatalogFilter, OrgFilter};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::pages::{fail, options, respond};
use super::render::{csrf_rejected, render_page, WebUser};
use crate::extract::WebForm;
use crate::state::AppState;

#[derive(Deserialize, Serialize, Default)]
pub struct CatalogQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    share_type: Option<String>,
    #[serde(default)]
    owner_org_id: Option<String>,
    #[serde(default)]
    source_org_id: Option<String>,
    #[serde(default)]
    open_type: Option<String>,
    /// "1": only authority reviews past their due working day.
    #[serde(default)]
    overdue: Option<String>,
    /// "0": only entries without data mounted (CAT-6).
    #[serde(default)]
    mounted: Option<String>,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    done: Option<String>,
}

const PAGE_SIZE: i64 = 100;

/// The list's query string for another page.
fn page_link(q: &CatalogQuery, page: i64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for (k, v) in [
        ("q", &q.q),
        ("status", &q.status),
        ("category", &q.category),
        ("domain", &q.domain),
        ("share_type", &q.share_type),
        ("owner_org_id", &q.owner_org_id),
        ("source_org_id", &q.source_org_id),
        ("open_type", &q.open_type),
        ("overdue", &q.overdue),
        ("mounted", &q.mounted),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            pairs.push((k, v.clone()));
        }
    }
    pairs.push(("page", page.to_string()));
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v)))
        .collect();
    format!("/catalog?{}", query.join("&"))
}

fn utf8_percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn catalog_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<CatalogQuery>,
) -> Response {
    let overdue = q.overdue.as_deref() == Some("1");
    let filter = CatalogFilter {
        q: q.q.clone(),
        status: q.status.clone(),
        category: q.category.clone(),
        domain: q.domain.clone(),
        share_type: q.share_type.clone(),
        owner_org_id: q.owner_org_id.clone(),
        source_org_id: q.source_org_id.clone(),
        open_type: q.open_type.clone(),
        overdue_on: overdue.then(|| today_in_china(Utc::now())),
        limit: Some(PAGE_SIZE),
        offset: Some((q.page.unwrap_or(1).max(1) - 1) * PAGE_SIZE),
        mounted: match q.mounted.as_deref() {
            Some("0") => Some(false),
            Some("1") => Some(true),
            _ => None,
        },
        ..Default::default()
    };
    let entries = match catalog::list(&state.app, &web.ctx, filter).await {
        Ok(l) => l,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let org_names = org_names(&state, &web).await;
    let page = q.page.unwrap_or(1).max(1);
    let next_page = (entries.len() as i64 == PAGE_SIZE).then(|| page_link(&q, page + 1));
    // The same filters, for the export links.
    let export_query = page_link(&q, 1)
        .trim_start_matches("/catalog?")
        .replace("&page=1", "")
        .replace("page=1", "");
    let prev_page = (page > 1).then(|| page_link(&q, page - 1));
    render_page(
        &state,
        "catalog.html",
        web.lang,
        Some(&web),
        context! {
            entries => entries, org_names => org_names, query => q, overdue => overdue,
            page => page, next_page => next_page, prev_page => prev_page, export_query => export_query,
            today => today_in_china(Utc::now()),
            statuses => vec!["draft", "department_review", "authority_review", "published", "offline", "unpublished"],
            categories => options(Category::ALL, Category::key),
            domains => options(Domain::ALL, Domain::key),
            share_types => options(ShareType::ALL, ShareType::key),
        },
    )
    .into_response()
}

async fn org_names(state: &AppState, web: &WebUser) -> BTreeMap<String, String> {
    orgs::list_orgs(&state.app, &web.ctx, &OrgFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect()
}

/// The register / edit form as typed: every field a string, so nothing is lost
/// when it comes back with errors.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct EntryForm {
    #[serde(skip_serializing)]
    csrf: String,
    name: String,
    summary: String,
    category: String,
    domain: String,
    format: String,
    source_org_id: String,
    providing_org_id: String,
    approving_department: String,
    /// One data item per line: 名称 | 英文名 | 类型 | 长度 | 敏感(是/否) | 标识类型 | 含义
    items: String,
    share_type: String,
    share_conditions: String,
    share_scope: String,
    legal_basis: String,
    share_api: Option<String>,
    share_download: Option<String>,
    share_page_query: Option<String>,
    open_type: String,
    open_conditions: String,
    #[serde(default)]
    open_reason: String,
    open_basis: String,
    update_frequency: String,
    timeliness: String,
    grade: String,
    sensitivity: String,
    classified: Option<String>,
    release_date: String,
    related_codes: String,
}

fn problem(field: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError {
        field: field.into(),
        code,
        message_zh: zh,
        message_en: en,
    }
}

fn choice<T>(
    value: &str,
    field: &str,
    parse: fn(&str) -> Option<T>,
    out: &mut Vec<FieldError>,
) -> Option<T> {
    let found = parse(value.trim());
    if found.is_none() {
        out.push(problem(
            field,
            "input.invalid_choice",
            format!("请选择有效的选项（{}）", value.trim()),
            format!("choose a valid option ({})", value.trim()),
        ));
    }
    found
}

/// The items box: the same line format and checks as the spreadsheet import.
fn parse_items(text: &str, out: &mut Vec<FieldError>) -> Vec<DataItem> {
    let (items, problems) = gongshu_services::catalog_sheet::parse_item_lines(text);
    out.extend(problems.into_iter().map(|p| FieldError {
        field: "items".into(),
        code: "catalog.item_line_invalid",
        message_zh: p.message,
        message_en: p.message_en,
    }));
    items
}

impl EntryForm {
    fn to_content(&self) -> Result<EntryContent, Vec<FieldError>> {
        let mut out = Vec::new();
        let category = choice(&self.category, "category", Category::parse, &mut out);
        let domain = choice(&self.domain, "domain", Domain::parse, &mut out);
        let format = choice(&self.format, "format", ResourceFormat::parse, &mut out);
        let share_type = choice(&self.share_type, "share_type", ShareType::parse, &mut out);
        let open_type = choice(&self.open_type, "open_type", OpenType::parse, &mut out);
        let frequency = choice(
            &self.update_frequency,
            "update_frequency",
            UpdateFrequency::parse,
            &mut out,
        );
        let grade = choice(&self.grade, "grade", Grade::parse, &mut out);
        let open_reason = match self.open_reason.trim() {
            "" => None,
            r => choice(r, "open_reason", OpenReason::parse, &mut out),
        };
        let sensitivity = match self.sensitivity.trim() {
            "" => None,
            s => choice(s, "sensitivity", Sensitivity::parse, &mut out),
        };
        let release_date = match self.release_date.trim() {
            "" => None,
            d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    out.push(problem(
                        "release_date",
                        "input.invalid_date",
                        "日期格式应为 YYYY-MM-DD".into(),
                        "dates are YYYY-MM-DD".into(),
                    ));
                    None
                }
            },
        };
        let items = parse_items(&self.items, &mut out);
        let mut share_modes = Vec::new();
        for (on, mode) in [
            (&self.share_api, ShareMode::Api),
            (&self.share_download, ShareMode::Download),
            (&self.share_page_query, ShareMode::PageQuery),
        ] {
            if on.is_some() {
                share_modes.push(mode);
            }
        }
        let (
            Some(category),
            Some(domain),
            Some(format),
            Some(share_type),
            Some(open_type),
            Some(frequency),
            Some(grade),
        ) = (
            category, domain, format, share_type, open_type, frequency, grade,
        )
        else {
            return Err(out);
        };
        if !out.is_empty() {
            return Err(out);
        }
        let text = |s: &str| s.trim().to_string();
        Ok(EntryContent {
            name: text(&self.name),
            summary: text(&self.summary),
            category,
            domain,
            format,
            source_org_id: text(&self.source_org_id),
            providing_org_id: Some(text(&self.providing_org_id)).filter(|s| !s.is_empty()),
            approving_department: text(&self.approving_department),
            co_builder_org_ids: Vec::new(),
            items,
            share_type,
            share_conditions: text(&self.share_conditions),
            share_scope: text(&self.share_scope),
            share_modes,
            legal_basis: text(&self.legal_basis),
            open_type,
            open_conditions: text(&self.open_conditions),
            open_reason,
            open_basis: text(&self.open_basis),
            update_frequency: frequency,
            timeliness: text(&self.timeliness),
            grade,
            sensitivity,
            classified: self.classified.is_some(),
            release_date,
            related_codes: self
                .related_codes
                .split([',', '，', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }

    fn from_content(c: &EntryContent) -> Self {
        let on = |m: ShareMode| c.share_modes.contains(&m).then(|| "on".to_string());
        EntryForm {
            csrf: String::new(),
            name: c.name.clone(),
            summary: c.summary.clone(),
            category: c.category.key().into(),
            domain: c.domain.key().into(),
            format: c.format.key().into(),
            source_org_id: c.source_org_id.clone(),
            providing_org_id: c.providing_org_id.clone().unwrap_or_default(),
            approving_department: c.approving_department.clone(),
            items: c
                .items
                .iter()
                .map(|i| {
                    format!(
                        "{} | {} | {} | {} | {} | {} | {}",
                        i.name,
                        i.code_name,
                        i.field_type.key(),
                        i.length.map(|l| l.to_string()).unwrap_or_default(),
                        if i.sensitive { "是" } else { "否" },
                        i.key_role.key(),
                        i.meaning
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            share_type: c.share_type.key().into(),
            share_conditions: c.share_conditions.clone(),
            share_scope: c.share_scope.clone(),
            legal_basis: c.legal_basis.clone(),
            share_api: on(ShareMode::Api),
            share_download: on(ShareMode::Download),
            share_page_query: on(ShareMode::PageQuery),
            open_type: c.open_type.key().into(),
            open_conditions: c.open_conditions.clone(),
            open_reason: c
                .open_reason
                .map(|r| r.key().to_string())
                .unwrap_or_default(),
            open_basis: c.open_basis.clone(),
            update_frequency: c.update_frequency.key().into(),
            timeliness: c.timeliness.clone(),
            grade: c.grade.key().into(),
            sensitivity: c
                .sensitivity
                .map(|s| s.key().to_string())
                .unwrap_or_default(),
            classified: c.classified.then(|| "on".to_string()),
            release_date: c.release_date.map(|d| d.to_string()).unwrap_or_default(),
            related_codes: c.related_codes.join(", "),
        }
    }
}

/// Renders the form, with the errors (if any) keyed by field.
async fn form_page(
    state: &AppState,
    web: &WebUser,
    form: &EntryForm,
    action: &str,
    entry_code: Option<&str>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let sources: Vec<_> = orgs::list_orgs(&state.app, &web.ctx, &OrgFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| {
            !o.disabled
                && gongshu_domain::org::OrgKind::parse(&o.kind).is_some_and(|k| k.is_data_source())
        })
        .collect();
    let by_field: BTreeMap<String, Vec<String>> =
        errors.iter().fold(BTreeMap::new(), |mut m, e| {
            let text = if web.lang.code() == "en" {
                e.message_en.clone()
            } else {
                e.message_zh.clone()
            };
            // Item errors show under the items box.
            let key = if e.field.starts_with("items") {
                "items".to_string()
            } else {
                e.field.clone()
            };
            m.entry(key).or_default().push(text);
            m
        });
    let page = render_page(
        state,
        "catalog_form.html",
        web.lang,
        Some(web),
        context! {
            form => form, action => action, entry_code => entry_code, errors => by_field,
            error_count => errors.len(), sources => sources,
            categories => options(Category::ALL, Category::key),
            domains => options(Domain::ALL, Domain::key),
            formats => options(ResourceFormat::ALL, ResourceFormat::key),
            share_types => options(ShareType::ALL, ShareType::key),
            open_types => options(OpenType::ALL, OpenType::key),
            open_reasons => options(OpenReason::ALL, OpenReason::key),
            frequencies => options(UpdateFrequency::ALL, UpdateFrequency::key),
            grades => options(Grade::ALL, Grade::key),
            sensitivities => options(Sensitivity::ALL, Sensitivity::key),
        },
    );
    (status, page).into_response()
}

pub async fn new_entry_page(State(state): State<AppState>, web: WebUser) -> Response {
    let form = EntryForm {
        category: "business".into(),
        source_org_id: web.user.org_id.clone(),
        share_type: "unconditional".into(),
        share_api: Some("on".into()),
        open_type: "not_open".into(),
        update_frequency: "daily".into(),
        grade: "general".into(),
        sensitivity: "l2".into(),
        ..Default::default()
    };
    form_page(
        &state,
        &web,
        &form,
        "/catalog",
        None,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// Errors of a failed save: the field errors of a form, or one general error.
fn save_errors(e: ServiceError) -> Result<Vec<FieldError>, ServiceError> {
    if e.errors.is_empty() {
        return match e.field.clone() {
            Some(field) if e.kind == gongshu_services::error::ErrorKind::Invalid => {
                Ok(vec![FieldError {
                    field,
                    code: "input.invalid",
                    message_zh: e.message,
                    message_en: e.message_en,
                }])
            }
            _ => Err(e),
        };
    }
    Ok(e.errors
        .iter()
        .map(|p| FieldError {
            field: p.field.clone(),
            code: "input.invalid",
            message_zh: p.message.clone(),
            message_en: p.message_en.clone(),
        })
        .collect())
}

pub async fn create_entry(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(form): WebForm<EntryForm>,
) -> Response {
    if !web.csrf_ok(&form.csrf) {
        return csrf_rejected();
    }
    let content = match form.to_content() {
        Ok(c) => c,
        Err(errors) => {
            return form_page(
                &state,
                &web,
                &form,
                "/catalog",
                None,
                errors,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    match catalog::create(&state.app, &web.ctx, content).await {
        Ok(entry) => Redirect::to(&format!("/catalog/{}?done=created", entry.id)).into_response(),
        Err(e) => match save_errors(e) {
            Ok(errors) => {
                form_page(
                    &state,
                    &web,
                    &form,
                    "/catalog",
                    None,
                    errors,
                    StatusCode::BAD_REQUEST,
                )
                .await
            }
            Err(e) => fail(&state, &web, e, "/catalog/new"),
        },
    }
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn entry_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let entry = match catalog::get(&state.app, &web.ctx, &id).await {
        Ok(e) => e,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    let history = catalog::history(&state.app, &web.ctx, &entry.id)
        .await
        .unwrap_or_default();
    let duplicates = catalog::duplicates(&state.app, &web.ctx, &entry.id)
        .await
        .unwrap_or_default();
    let findings = catalog::quality_checks(&state.app, &web.ctx, &entry.id)
        .await
        .unwrap_or_default();
    let org_names = org_names(&state, &web).await;
    let p = &web.ctx.principal;
    let owner = Some(entry.owner_org_id.as_str());
    use gongshu_domain::permissions::Permission as P;
    let may = context! {
        register => p.authorize(P::CatalogRegister, owner).is_ok(),
        review => p.authorize(P::CatalogReview, owner).is_ok(),
        approve => p.authorize(P::CatalogApprove, owner).is_ok(),
        offline => p.authorize(P::CatalogOffline, owner).is_ok(),
    };
    let social_data = gongshu_services::social_data::for_entry(&state.app, &entry.id)
        .await
        .unwrap_or_default();
    let shown = entry.published.clone().or_else(|| entry.working.clone());
    let stage = entry
        .stage
        .as_deref()
        .and_then(Stage::parse)
        .map(|s| s.key());
    render_page(
        &state,
        "catalog_entry.html",
        web.lang,
        Some(&web),
        context! {
            entry => entry, shown => shown, stage => stage, history => history, duplicates => duplicates, findings => findings,
            social_data => social_data,
            org_names => org_names, may => may, done => q.done,
            today => today_in_china(Utc::now()),
        },
    )
    .into_response()
}

pub async fn edit_entry_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
) -> Response {
    let entry = match catalog::get(&state.app, &web.ctx, &id).await {
        Ok(e) => e,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    let Some(content) = entry.working.as_ref().or(entry.published.as_ref()) else {
        return fail(
            &state,
            &web,
            ServiceError::not_found("目录内容", "entry content", &id),
            "/catalog",
        );
    };
    let form = EntryForm::from_content(content);
    let action = format!("/catalog/{}", entry.id);
    form_page(
        &state,
        &web,
        &form,
        &action,
        Some(&entry.code),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn update_entry(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(form): WebForm<EntryForm>,
) -> Response {
    if !web.csrf_ok(&form.csrf) {
        return csrf_rejected();
    }
    let action = format!("/catalog/{id}");
    let content = match form.to_content() {
        Ok(c) => c,
        Err(errors) => {
            return form_page(
                &state,
                &web,
                &form,
                &action,
                None,
                errors,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    match catalog::update(&state.app, &web.ctx, &id, content).await {
        Ok(entry) => Redirect::to(&format!("/catalog/{}?done=updated", entry.id)).into_response(),
        Err(e) => match save_errors(e) {
            Ok(errors) => {
                form_page(
                    &state,
                    &web,
                    &form,
                    &action,
                    None,
                    errors,
                    StatusCode::BAD_REQUEST,
                )
                .await
            }
            Err(e) => fail(&state, &web, e, &action),
        },
    }
}

#[derive(Deserialize)]
pub struct ReviewForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
}

pub async fn review_entry(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<ReviewForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let back = format!("/catalog/{id}");
    let Some(action) = ReviewAction::parse(&f.action) else {
        let e = ServiceError::invalid(
            "catalog.unknown_action",
            "action",
            "未知的审核操作",
            "unknown review action",
        );
        return fail(&state, &web, e, &back);
    };
    let result = catalog::review(&state.app, &web.ctx, &id, action, Some(f.reason)).await;
    respond(
        &state,
        &web,
        result,
        &format!("{back}?done={}", action.key()),
        &back,
    )
}

#[derive(Deserialize)]
pub struct OfflineForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn take_offline(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<OfflineForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let back = format!("/catalog/{id}");
    let result = catalog::take_offline(&state.app, &web.ctx, &id, &f.reason).await;
    respond(&state, &web, result, &format!("{back}?done=offline"), &back)
}

pub async fn conflicts_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    let conflicts = match catalog::conflicts(&state.app, &web.ctx).await {
        Ok(c) => c,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    let org_names = org_names(&state, &web).await;
    let may_resolve = web
        .ctx
        .principal
        .authorize(
            gongshu_domain::permissions::Permission::CatalogApprove,
            None,
        )
        .is_ok();
    render_page(
        &state,
        "catalog_conflicts.html",
        web.lang,
        Some(&web),
        context! { conflicts => conflicts, org_names => org_names, may_resolve => may_resolve, done => q.done },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct ResolveForm {
    csrf: String,
    item_key: String,
    source_org_id: String,
    #[serde(default)]
    note: String,
}

pub async fn resolve_conflict(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<ResolveForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = catalog::ResolveConflict {
        item_key: f.item_key,
        source_org_id: f.source_org_id,
        note: f.note,
    };
    let result = catalog::resolve_conflict(&state.app, &web.ctx, input).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/conflicts?done=resolved",
        "/catalog/conflicts",
    )
}

pub async fn changes_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    let changes = match catalog::list_changes(&state.app, &web.ctx, false).await {
        Ok(c) => c,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    let org_names = org_names(&state, &web).await;
    let sources: Vec<_> = orgs::list_orgs(&state.app, &web.ctx, &OrgFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| {
            gongshu_domain::org::OrgKind::parse(&o.kind).is_some_and(|k| k.is_data_source())
        })
        .collect();
    use gongshu_domain::permissions::Permission as P;
    let p = &web.ctx.principal;
    let may_record = p.authorize(P::CatalogApprove, None).is_ok();
    let completable: Vec<String> = changes
        .iter()
        .filter(|c| {
            c.completed_at.is_none() && p.authorize(P::CatalogRegister, Some(&c.org_id)).is_ok()
        })
        .map(|c| c.id.clone())
        .collect();
    render_page(
        &state,
        "catalog_changes.html",
        web.lang,
        Some(&web),
        context! {
            changes => changes, org_names => org_names, sources => sources, may_record => may_record,
            completable => completable, done => q.done, today => today_in_china(Utc::now()),
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: String,
    org_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    basis: String,
}

pub async fn record_change(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<ChangeForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = catalog::NewChangeRecord {
        org_id: f.org_id,
        description: f.description,
        basis: f.basis,
    };
    let result = catalog::record_change(&state.app, &web.ctx, input).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/changes?done=recorded",
        "/catalog/changes",
    )
}

#[derive(Deserialize)]
pub struct CompleteForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

pub async fn complete_change(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<CompleteForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let result = catalog::complete_change(&state.app, &web.ctx, &id, &f.note).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/changes?done=completed",
        "/catalog/changes",
    )
}

pub async fn search_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<gongshu_services::catalog_search::CatalogSearch>,
) -> Response {
    let result =
        match gongshu_services::catalog_search::search(&state.app, &web.ctx, q.clone()).await {
            Ok(r) => r,
            Err(e) => return fail(&state, &web, e, "/catalog/search"),
        };
    let org_names = org_names(&state, &web).await;
    // Each facet value links to the same search narrowed by it.
    let mut facets = Vec::new();
    for (facet, values) in &result.facets {
        let links: Vec<_> = values
            .iter()
            .map(|(key, count)| {
                let mut narrowed = q.clone();
                match facet.as_str() {
                    "source_org_id" => narrowed.source_org_id = Some(key.clone()),
                    "category" => narrowed.category = Some(key.clone()),
                    "domain" => narrowed.domain = Some(key.clone()),
                    "share_type" => narrowed.share_type = Some(key.clone()),
                    "open_type" => narrowed.open_type = Some(key.clone()),
                    "grade" => narrowed.grade = Some(key.clone()),
                    "format" => narrowed.format = Some(key.clone()),
                    _ => narrowed.update_frequency = Some(key.clone()),
                }
                narrowed.offset = None;
                let label = if facet == "source_org_id" {
                    org_names.get(key).cloned().unwrap_or_else(|| key.clone())
                } else {
                    key.clone()
                };
                context! { key => key, label => label, count => count, href => search_link(&narrowed) }
            })
            .collect();
        facets.push(context! { name => facet, values => links });
    }
    render_page(
        &state,
        "catalog_search.html",
        web.lang,
        Some(&web),
        context! { result => result, query => q, facets => facets, org_names => org_names },
    )
    .into_response()
}

fn search_link(q: &gongshu_services::catalog_search::CatalogSearch) -> String {
    let pairs: Vec<String> = [
        ("q", &q.q),
        ("source_org_id", &q.source_org_id),
        ("category", &q.category),
        ("domain", &q.domain),
        ("share_type", &q.share_type),
        ("open_type", &q.open_type),
        ("grade", &q.grade),
        ("format", &q.format),
        ("update_frequency", &q.update_frequency),
        ("status", &q.status),
    ]
    .iter()
    .filter_map(|(k, v)| {
        v.as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{k}={}", utf8_percent_encode(v)))
    })
    .collect();
    format!("/catalog/search?{}", pairs.join("&"))
}

/// CAT-1: the console's spreadsheet import (multipart: `csrf` and `file`).
pub async fn import_sheet(
    State(state): State<AppState>,
    web: WebUser,
    mut form: axum::extract::Multipart,
) -> Response {
    let mut csrf = String::new();
    let mut file: Option<Vec<u8>> = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                match field.bytes().await {
                    Ok(bytes) if name == "csrf" => {
                        csrf = String::from_utf8_lossy(&bytes).into_owned()
                    }
                    Ok(bytes) if name == "file" => file = Some(bytes.to_vec()),
                    Ok(_) => {}
                    Err(e) => return bad_upload(&state, &web, &e.body_text()),
                }
            }
            Ok(None) => break,
            Err(e) => return bad_upload(&state, &web, &e.body_text()),
        }
    }
    if !web.csrf_ok(&csrf) {
        return csrf_rejected();
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return bad_upload(&state, &web, "no file / 未选择文件");
    };
    match gongshu_services::catalog_sheet::import_xlsx(&state.app, &web.ctx, &bytes).await {
        Ok(report) => {
            let status = if report.problems.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = render_page(
                &state,
                "catalog_import.html",
                web.lang,
                Some(&web),
                context! { report => report },
            );
            (status, page).into_response()
        }
        Err(e) => fail(&state, &web, e, "/catalog"),
    }
}

fn bad_upload(state: &AppState, web: &WebUser, detail: &str) -> Response {
    let e = ServiceError::invalid(
        "catalog.sheet_upload",
        "file",
        format!("上传的文件无法读取：{detail}"),
        format!("the upload could not be read: {detail}"),
    );
    fail(state, web, e, "/catalog")
}

#[derive(Deserialize, Default)]
pub struct ListsQuery {
    #[serde(default)]
    org_id: Option<String>,
}

/// CAT-7: a department's responsibility list (the data it must provide: its
/// published entries) and negative list (what it does not share, with the basis),
/// each viewable and exportable. The demand list follows with share demands (SHR-7).
pub async fn lists_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ListsQuery>,
) -> Response {
    let org_id = q
        .org_id
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| web.user.org_id.clone());
    let of = |extra: CatalogFilter| CatalogFilter {
        source_org_id: Some(org_id.clone()),
        status: Some("published".into()),
        limit: Some(1000),
        ..extra
    };
    let responsibility =
        match catalog::list(&state.app, &web.ctx, of(CatalogFilter::default())).await {
            Ok(l) => l,
            Err(e) => return fail(&state, &web, e, "/catalog"),
        };
    let negative: Vec<_> = responsibility
        .iter()
        .filter(|e| e.share_type == "not_shared")
        .cloned()
        .collect();
    let sources: Vec<_> = orgs::list_orgs(&state.app, &web.ctx, &OrgFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| {
            gongshu_domain::org::OrgKind::parse(&o.kind).is_some_and(|k| k.is_data_source())
        })
        .collect();
    let org_name = sources
        .iter()
        .find(|o| o.id == org_id)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let enc = utf8_percent_encode(&org_id);
    let demands = gongshu_services::demands::list(&state.app, &web.ctx, Some(&org_id))
        .await
        .unwrap_or_default();
    let (made, received): (Vec<_>, Vec<_>) = demands
        .into_iter()
        .partition(|d| d.requester_org_id == org_id);
    let may_answer = web
        .ctx
        .principal
        .authorize(
            gongshu_domain::permissions::Permission::CatalogRegister,
            Some(&org_id),
        )
        .is_ok();
    let org_names = org_names(&state, &web).await;
    render_page(
        &state,
        "catalog_lists.html",
        web.lang,
        Some(&web),
        context! {
            org_id => org_id, org_name => org_name, sources => sources,
            made => made, received => received, may_answer => may_answer, org_names => org_names,
            today => today_in_china(Utc::now()),
            responsibility => responsibility, negative => negative,
            responsibility_query => format!("source_org_id={enc}&status=published"),
            negative_query => format!("source_org_id={enc}&status=published&share_type=not_shared"),
        },
    )
    .into_response()
}

pub async fn scenarios_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    let scenarios = match gongshu_services::scenarios::list(&state.app, &web.ctx).await {
        Ok(s) => s,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    let mut codes = BTreeMap::new();
    for b in &scenarios {
        for id in &b.entry_ids {
            if let Ok(Some(e)) = state.app.store.get_catalog_entry(id).await {
                codes.insert(id.clone(), format!("{} {}", e.code, e.name));
            }
        }
    }
    let org_names = org_names(&state, &web).await;
    render_page(
        &state,
        "catalog_scenarios.html",
        web.lang,
        Some(&web),
        context! { scenarios => scenarios, entries => codes, org_names => org_names, done => q.done },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct ScenarioForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// Resource codes, separated by commas, spaces or lines.
    #[serde(default)]
    entries: String,
}

fn code_list(text: &str) -> Vec<String> {
    text.split([',', '，', '、', ' ', '\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn create_scenario(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<ScenarioForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = gongshu_services::scenarios::NewScenario {
        name: f.name,
        description: f.description,
        entries: code_list(&f.entries),
    };
    let result = gongshu_services::scenarios::create(&state.app, &web.ctx, input).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/scenarios?done=created",
        "/catalog/scenarios",
    )
}

pub async fn projects_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    let projects = match gongshu_services::it_projects::list(&state.app, &web.ctx, false).await {
        Ok(p) => p,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    let org_names = org_names(&state, &web).await;
    let may_manage = web
        .ctx
        .principal
        .authorize(
            gongshu_domain::permissions::Permission::CatalogApprove,
            None,
        )
        .is_ok();
    render_page(
        &state,
        "catalog_projects.html",
        web.lang,
        Some(&web),
        context! {
            projects => projects, org_names => org_names, may_manage => may_manage, done => q.done,
            social_data_kinds => gongshu_domain::social_data::SocialDataKind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>(),
        },
    )
    .into_response()
}

/// The project form as posted: social data kinds are checkboxes repeating one key.
#[derive(Default)]
struct ProjectForm {
    csrf: String,
    name: String,
    org_id: String,
    approval_ref: String,
    entries: String,
    social_data_kinds: Vec<gongshu_domain::social_data::SocialDataKind>,
}

impl ProjectForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = ProjectForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "name" => f.name = v,
                "org_id" => f.org_id = v,
                "approval_ref" => f.approval_ref = v,
                "entries" => f.entries = v,
                "social_data_kinds" => f
                    .social_data_kinds
                    .extend(gongshu_domain::social_data::SocialDataKind::parse(&v)),
                _ => {}
            }
        }
        f
    }
}

pub async fn register_project(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(pairs): WebForm<Vec<(String, String)>>,
) -> Response {
    let f = ProjectForm::from_pairs(pairs);
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = gongshu_services::it_projects::NewItProject {
        name: f.name,
        org_id: f.org_id,
        approval_ref: f.approval_ref,
        entries: code_list(&f.entries),
        social_data_kinds: f.social_data_kinds,
    };
    let result = gongshu_services::it_projects::register(&state.app, &web.ctx, input).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/projects?done=registered",
        "/catalog/projects",
    )
}

/// COL-8: social data agreements; the authority records one beneath the list.
pub async fn social_data_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    let agreements = match gongshu_services::social_data::list(&state.app, &web.ctx).await {
        Ok(a) => a,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    let org_names = org_names(&state, &web).await;
    let may_record = web
        .ctx
        .principal
        .authorize(
            gongshu_domain::permissions::Permission::CatalogApprove,
            None,
        )
        .is_ok();
    use gongshu_domain::social_data::{SocialAcquisition, SocialDataKind};
    render_page(
        &state,
        "catalog_social_data.html",
        web.lang,
        Some(&web),
        context! {
            agreements => agreements, org_names => org_names, may_record => may_record,
            acquisitions => SocialAcquisition::ALL.iter().map(|a| a.key()).collect::<Vec<_>>(),
            kinds => SocialDataKind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>(),
            done => q.done, today => today_in_china(Utc::now()),
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct SocialDataForm {
    csrf: String,
    #[serde(default)]
    acquisition: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    supplier: String,
    #[serde(default)]
    contract_ref: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    opening_allowed: Option<String>,
    #[serde(default)]
    entries: String,
}

fn form_date(field: &str, value: &str) -> Result<NaiveDate, ServiceError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        ServiceError::invalid(
            "input.date_invalid",
            field,
            format!("日期格式应为 YYYY-MM-DD：{value}"),
            format!("dates are written YYYY-MM-DD: {value}"),
        )
    })
}

impl SocialDataForm {
    fn parse(self) -> Result<gongshu_services::social_data::NewSocialDataAgreement, ServiceError> {
        use gongshu_domain::social_data::{SocialAcquisition, SocialDataKind};
        Ok(gongshu_services::social_data::NewSocialDataAgreement {
            acquisition: SocialAcquisition::parse(&self.acquisition).ok_or_else(|| {
                ServiceError::invalid(
                    "social_data.acquisition_invalid",
                    "acquisition",
                    "请选择取得方式",
                    "choose how the data was acquired",
                )
            })?,
            kind: SocialDataKind::parse(&self.kind).ok_or_else(|| {
                ServiceError::invalid(
                    "social_data.kind_invalid",
                    "kind",
                    "请选择数据类别",
                    "choose the kind of data",
                )
            })?,
            starts_on: form_date("starts_on", &self.starts_on)?,
            ends_on: form_date("ends_on", &self.ends_on)?,
            opening_allowed: self.opening_allowed.is_some(),
            entries: code_list(&self.entries),
            name: self.name,
            supplier: self.supplier,
            contract_ref: self.contract_ref,
            scope: self.scope,
            org_id: None,
        })
    }
}

pub async fn record_social_data(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<SocialDataForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let result = match f.parse() {
        Ok(input) => gongshu_services::social_data::record(&state.app, &web.ctx, input).await,
        Err(e) => Err(e),
    };
    respond(
        &state,
        &web,
        result,
        "/catalog/social-data?done=recorded",
        "/catalog/social-data",
    )
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn check_project(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<CsrfOnly>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let result = gongshu_services::it_projects::check_acceptance(&state.app, &web.ctx, &id).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/projects?done=checked",
        "/catalog/projects",
    )
}

#[derive(Deserialize)]
pub struct DemandForm {
    csrf: String,
    #[serde(default)]
    source_org_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    items: String,
}

pub async fn create_demand(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<DemandForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = gongshu_services::demands::NewDemand {
        source_org_id: f.source_org_id,
        title: f.title,
        purpose: f.purpose,
        items: f.items,
    };
    let result = gongshu_services::demands::create(&state.app, &web.ctx, input).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/lists#demand",
        "/catalog/lists",
    )
}

#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    /// "accept" or "decline".
    decision: String,
    #[serde(default)]
    entry: String,
    #[serde(default)]
    answer: String,
}

pub async fn answer_demand(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<AnswerForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = gongshu_services::demands::DemandAnswer {
        accept: f.decision == "accept",
        entry: Some(f.entry),
        answer: f.answer,
    };
    let result = gongshu_services::demands::answer(&state.app, &web.ctx, &id, input).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/lists#received",
        "/catalog/lists",
    )
}
