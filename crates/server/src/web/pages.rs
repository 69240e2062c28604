//! Console page handlers.
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use gongshu_domain::org::{OfficerRole, OrgKind};
use gongshu_domain::permissions::{Permission, Role};
use gongshu_services::identity::{self, NewToken, NewUser};
use gongshu_services::orgs::{self, FileOfficer, NewDivision, NewOrg, NewProcessor};
use gongshu_services::{audit, ServiceError};
use gongshu_store::{AuditFilter, OrgFilter};
use minijinja::context;
use serde::Deserialize;

use super::render::{csrf_rejected, render_page, Lang, WebUser};
use crate::api::audit::AuditEntry;
use crate::api::auth::session_cookie;
use crate::error::status_of;
use crate::extract::{cookie, WebForm, LANG_COOKIE, SESSION_COOKIE};
use crate::state::AppState;

const LOGIN_CSRF_COOKIE: &str = "gongshu_login_csrf";

/// An error page for a failed action, with the right status.
pub(super) fn fail(state: &AppState, web: &WebUser, e: ServiceError, back: &str) -> Response {
    let status = status_of(e.kind);
    let page = render_page(
        state,
        "result.html",
        web.lang,
        Some(web),
        context! { error => context! { code => e.code, message => e.message, message_en => e.message_en, field => e.field }, back => back },
    );
    (status, page).into_response()
}

/// Redirects to `done` when the action succeeded, else shows the error with a way back.
pub(super) fn respond<T>(
    state: &AppState,
    web: &WebUser,
    result: Result<T, ServiceError>,
    done: &str,
    back: &str,
) -> Response {
    match result {
        Ok(_) => Redirect::to(done).into_response(),
        Err(e) => fail(state, web, e, back),
    }
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub(super) fn options<T: Copy>(all: &[T], key: fn(&T) -> &'static str) -> Vec<String> {
    all.iter().map(|k| key(k).to_string()).collect()
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<LoginQuery>,
) -> Response {
    login_form(&state, lang, q.next.as_deref(), None, StatusCode::OK)
}

fn login_form(
    state: &AppState,
    lang: Lang,
    next: Option<&str>,
    error: Option<ServiceError>,
    status: StatusCode,
) -> Response {
    // Login CSRF: a double-submit value, since there is no session yet.
    let token = identity::random_secret(32);
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    );
    let page = render_page(
        state,
        "login.html",
        lang,
        None,
        context! { login_csrf => token, next => safe_next(next), error => error.map(|e| context! { message => e.message, message_en => e.message_en }) },
    );
    (status, AppendHeaders([(SET_COOKIE, cookie)]), page).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    WebForm(form): WebForm<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty()
        || !crate::extract::constant_time_eq(expected.as_bytes(), form.csrf.as_bytes())
    {
        let e = ServiceError::unauthenticated(
            "auth.csrf",
            "登录表单已过期，请重试",
            "the login form expired; try again",
        );
        return login_form(
            &state,
            lang,
            form.next.as_deref(),
            Some(e),
            StatusCode::FORBIDDEN,
        );
    }
    let rid = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match identity::login(&state.app, &form.username, &form.password, rid).await {
        Ok(done) => {
            let cookie = session_cookie(
                &state,
                &done.secret,
                state.app.settings.session_hours * 3600,
            );
            (
                AppendHeaders([(SET_COOKIE, cookie)]),
                Redirect::to(&safe_next(form.next.as_deref())),
            )
                .into_response()
        }
        Err(e) => {
            let status = status_of(e.kind);
            login_form(&state, lang, form.next.as_deref(), Some(e), status)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    web: WebUser,
    headers: HeaderMap,
    WebForm(form): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&form.csrf) {
        return csrf_rejected();
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = identity::logout(&state.app, &web.ctx, &secret).await {
            return fail(&state, &web, e, "/");
        }
    }
    (
        AppendHeaders([(SET_COOKIE, session_cookie(&state, "", 0))]),
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn switch_lang(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = if code == "en" { "en" } else { "zh" };
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000");
    (
        AppendHeaders([(SET_COOKIE, cookie)]),
        Redirect::to(&safe_next(q.next.as_deref())),
    )
        .into_response()
}

pub async fn home(State(state): State<AppState>, web: WebUser) -> Response {
    let store = &state.app.store;
    let org = store.get_org(&web.user.org_id).await.ok().flatten();
    let counts = context! {
        orgs => store.count_orgs().await.unwrap_or(0),
        people => store.count_people().await.unwrap_or(0),
        entities => store.count_entities().await.unwrap_or(0),
        audit_head => store.audit_head().await.ok().flatten().map(|h| h.0).unwrap_or(0),
    };
    render_page(
        &state,
        "home.html",
        web.lang,
        Some(&web),
        context! { org => org, counts => counts, backend => store.backend() },
    )
    .into_response()
}

#[derive(Deserialize, Default)]
pub struct OrgsQuery {
    kind: Option<String>,
    q: Option<String>,
    division_code: Option<String>,
    done: Option<String>,
}

pub async fn orgs_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<OrgsQuery>,
) -> Response {
    let filter = OrgFilter {
        kind: q.kind.clone().filter(|s| !s.is_empty()),
        division_code: q.division_code.clone().filter(|s| !s.is_empty()),
        q: q.q.clone().filter(|s| !s.is_empty()),
    };
    let list = match orgs::list_orgs(&state.app, &web.ctx, &filter).await {
        Ok(l) => l,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let divisions = orgs::list_divisions(&state.app, &web.ctx)
        .await
        .unwrap_or_default();
    render_page(
        &state,
        "orgs.html",
        web.lang,
        Some(&web),
        context! { orgs => list, divisions => divisions, kinds => options(OrgKind::ALL, OrgKind::key), kind => q.kind, q => q.q, division_code => q.division_code, done => q.done },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct OrgForm {
    csrf: String,
    name: String,
    #[serde(default)]
    name_en: String,
    kind: String,
    division_code: String,
    #[serde(default)]
    credit_code: String,
}

pub async fn create_org(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<OrgForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = NewOrg {
        name: f.name,
        name_en: f.name_en,
        kind: f.kind,
        division_code: f.division_code,
        credit_code: Some(f.credit_code).filter(|c| !c.trim().is_empty()),
        parent_id: None,
    };
    match orgs::create_org(&state.app, &web.ctx, input).await {
        Ok(org) => Redirect::to(&format!("/orgs/{}?done=created", org.id)).into_response(),
        Err(e) => fail(&state, &web, e, "/orgs"),
    }
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn org_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let app = &state.app;
    let org = match orgs::get_org(app, &web.ctx, &id).await {
        Ok(o) => o,
        Err(e) => return fail(&state, &web, e, "/orgs"),
    };
    let officers = orgs::list_officers(app, &web.ctx, &id, true)
        .await
        .unwrap_or_default();
    let users = identity::list_users(app, &web.ctx, Some(&id)).await.ok();
    let processors = orgs::list_processors(app, &web.ctx, Some(&id))
        .await
        .unwrap_or_default();
    let processor_orgs = app
        .store
        .list_orgs(&OrgFilter {
            kind: Some(OrgKind::ThirdPartyProcessor.key().into()),
            ..Default::default()
        })
        .await
        .unwrap_or_default();
    let can_file_officer = web
        .ctx
        .principal
        .authorize(Permission::OfficerFile, Some(&id))
        .is_ok();
    let can_authorize = web
        .ctx
        .principal
        .authorize(Permission::ProcessorAuthorize, Some(&id))
        .is_ok();
    let can_file_processor = web
        .ctx
        .principal
        .authorize(Permission::ProcessorFile, None)
        .is_ok();
    let division = app
        .store
        .get_division(&org.division_code)
        .await
        .ok()
        .flatten();
    render_page(
        &state,
        "org.html",
        web.lang,
        Some(&web),
        context! {
            org => org, division => division, officers => officers, users => users, processors => processors,
            processor_orgs => processor_orgs, officer_roles => options(OfficerRole::ALL, OfficerRole::key),
            can_file_officer => can_file_officer, can_authorize => can_authorize, can_file_processor => can_file_processor,
            done => q.done,
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct OfficerForm {
    csrf: String,
    role: String,
    person_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

pub async fn file_officer(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<OfficerForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = FileOfficer {
        role: f.role,
        person_name: f.person_name,
        phone: Some(f.phone),
        email: Some(f.email),
        user_id: None,
    };
    respond(
        &state,
        &web,
        orgs::file_officer(&state.app, &web.ctx, &id, input).await,
        &format!("/orgs/{id}?done=officer"),
        &format!("/orgs/{id}"),
    )
}

#[derive(Deserialize)]
pub struct ProcessorForm {
    csrf: String,
    processor_org_id: String,
    scope: String,
    purpose: String,
    starts_on: String,
    ends_on: String,
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, ServiceError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        ServiceError::invalid(
            "input.bad_date",
            field,
            format!("日期格式应为 YYYY-MM-DD：{s}"),
            format!("dates are YYYY-MM-DD: {s}"),
        )
    })
}

pub async fn authorize_processor(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<ProcessorForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let back = format!("/orgs/{id}");
    let dates = parse_date("starts_on", &f.starts_on)
        .and_then(|s| parse_date("ends_on", &f.ends_on).map(|e| (s, e)));
    let (starts_on, ends_on) = match dates {
        Ok(d) => d,
        Err(e) => return fail(&state, &web, e, &back),
    };
    let input = NewProcessor {
        processor_org_id: f.processor_org_id,
        scope: f.scope,
        purpose: f.purpose,
        starts_on,
        ends_on,
    };
    respond(
        &state,
        &web,
        orgs::authorize_processor(&state.app, &web.ctx, &id, input).await,
        &format!("{back}?done=processor"),
        &back,
    )
}

#[derive(Deserialize)]
pub struct FilingForm {
    csrf: String,
    #[serde(default)]
    filing_no: String,
    #[serde(default)]
    reason: String,
    back: Option<String>,
}

pub async fn file_processor(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<FilingForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let back = safe_next(f.back.as_deref());
    respond(
        &state,
        &web,
        orgs::file_processor(&state.app, &web.ctx, &id, &f.filing_no).await,
        &back,
        &back,
    )
}

pub async fn revoke_processor(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<FilingForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let back = safe_next(f.back.as_deref());
    respond(
        &state,
        &web,
        orgs::revoke_processor(&state.app, &web.ctx, &id, &f.reason).await,
        &back,
        &back,
    )
}

pub async fn divisions_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    match orgs::list_divisions(&state.app, &web.ctx).await {
        Ok(list) => render_page(
            &state,
            "divisions.html",
            web.lang,
            Some(&web),
            context! { divisions => list, done => q.done },
        )
        .into_response(),
        Err(e) => fail(&state, &web, e, "/"),
    }
}

#[derive(Deserialize)]
pub struct DivisionForm {
    csrf: String,
    code: String,
    name: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    hosts_node: Option<String>,
}

pub async fn upsert_division(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<DivisionForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = NewDivision {
        code: f.code,
        name: f.name,
        name_en: f.name_en,
        hosts_node: f.hosts_node.is_some(),
    };
    respond(
        &state,
        &web,
        orgs::upsert_division(&state.app, &web.ctx, input).await,
        "/divisions?done=saved",
        "/divisions",
    )
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    org_id: Option<String>,
    done: Option<String>,
}

/// Organisations whose users (or tokens) the caller manages.
async fn managed_orgs(
    state: &AppState,
    web: &WebUser,
    permission: Permission,
) -> Vec<gongshu_store::Organization> {
    let all = state
        .app
        .store
        .list_orgs(&OrgFilter::default())
        .await
        .unwrap_or_default();
    all.into_iter()
        .filter(|o| web.ctx.principal.authorize(permission, Some(&o.id)).is_ok())
        .collect()
}

pub async fn users_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<UsersQuery>,
) -> Response {
    let org_id = q.org_id.clone().filter(|s| !s.is_empty());
    let users = match identity::list_users(&state.app, &web.ctx, org_id.as_deref()).await {
        Ok(u) => u,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let orgs = state
        .app
        .store
        .list_orgs(&OrgFilter::default())
        .await
        .unwrap_or_default();
    let manageable = managed_orgs(&state, &web, Permission::UserManage).await;
    let roles: Vec<String> = Role::ALL
        .iter()
        .filter(|r| {
            web.ctx.principal.holds_globally(Permission::UserManage) || !r.reaches_beyond_own_org()
        })
        .map(|r| r.key().to_string())
        .collect();
    render_page(
        &state,
        "users.html",
        web.lang,
        Some(&web),
        context! { users => users, orgs => orgs, manageable => manageable, roles => roles, org_id => org_id, done => q.done },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct UserForm {
    csrf: String,
    org_id: String,
    username: String,
    display_name: String,
    role: String,
    #[serde(default)]
    password: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<UserForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = NewUser {
        org_id: f.org_id,
        username: f.username,
        display_name: f.display_name,
        roles: vec![f.role],
        password: Some(f.password).filter(|p| !p.is_empty()),
    };
    match identity::create_user(&state.app, &web.ctx, input).await {
        Ok((user, generated)) => render_page(
            &state,
            "result.html",
            web.lang,
            Some(&web),
            context! { created_user => user, secret => generated, back => "/users" },
        )
        .into_response(),
        Err(e) => fail(&state, &web, e, "/users"),
    }
}

pub async fn disable_user(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    set_disabled(state, web, id, f, true).await
}

pub async fn enable_user(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    set_disabled(state, web, id, f, false).await
}

async fn set_disabled(
    state: AppState,
    web: WebUser,
    id: String,
    f: CsrfForm,
    disabled: bool,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    respond(
        &state,
        &web,
        identity::set_user_disabled(&state.app, &web.ctx, &id, disabled).await,
        "/users?done=saved",
        "/users",
    )
}

pub async fn reset_password(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    match identity::reset_password(&state.app, &web.ctx, &id, None).await {
        Ok(password) => {
            let user = state.app.store.get_user(&id).await.ok().flatten();
            render_page(
                &state,
                "result.html",
                web.lang,
                Some(&web),
                context! { reset_user => user, secret => password, back => "/users" },
            )
            .into_response()
        }
        Err(e) => fail(&state, &web, e, "/users"),
    }
}

pub async fn tokens_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<UsersQuery>,
) -> Response {
    let org_id = q.org_id.clone().filter(|s| !s.is_empty());
    let tokens = match identity::list_tokens(&state.app, &web.ctx, org_id.as_deref()).await {
        Ok(t) => t,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let manageable = managed_orgs(&state, &web, Permission::TokenManage).await;
    let orgs = state
        .app
        .store
        .list_orgs(&OrgFilter::default())
        .await
        .unwrap_or_default();
    let permissions: Vec<String> = Permission::ALL
        .iter()
        .filter(|p| web.ctx.principal.holds(**p))
        .map(|p| p.key().to_string())
        .collect();
    render_page(
        &state,
        "tokens.html",
        web.lang,
        Some(&web),
        context! { tokens => tokens, manageable => manageable, orgs => orgs, permissions => permissions, done => q.done, now => chrono::Utc::now() },
    )
    .into_response()
}

/// Token form: repeated `permissions` checkboxes arrive as several pairs.
pub async fn create_token(
    State(state): State<AppState>,
    web: WebUser,
    body: axum::body::Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = form_pairs(&body);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if !web.csrf_ok(&get("csrf")) {
        return csrf_rejected();
    }
    let permissions: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "permissions")
        .map(|(_, v)| v.clone())
        .collect();
    let expires_in_days = match get("expires_in_days").trim().parse::<i64>() {
        Ok(d) => d,
        Err(_) => {
            let e = ServiceError::invalid(
                "token.bad_expiry",
                "expires_in_days",
                "有效期须为整数天",
                "expiry must be a whole number of days",
            );
            return fail(&state, &web, e, "/tokens");
        }
    };
    let input = NewToken {
        org_id: get("org_id"),
        name: get("name"),
        permissions,
        expires_in_days,
    };
    match identity::create_token(&state.app, &web.ctx, input).await {
        Ok((token, secret)) => render_page(
            &state,
            "result.html",
            web.lang,
            Some(&web),
            context! { token => token, secret => secret, back => "/tokens" },
        )
        .into_response(),
        Err(e) => fail(&state, &web, e, "/tokens"),
    }
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub async fn revoke_token(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    respond(
        &state,
        &web,
        identity::revoke_token(&state.app, &web.ctx, &id).await,
        "/tokens?done=revoked",
        "/tokens",
    )
}

pub async fn audit_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<AuditFilter>,
) -> Response {
    render_audit(&state, &web, q, None).await
}

async fn render_audit(
    state: &AppState,
    web: &WebUser,
    q: AuditFilter,
    report: Option<audit::VerifyReport>,
) -> Response {
    let query = context! {
        actor => q.actor.clone(), org_id => q.org_id.clone(), action => q.action.clone(),
        object_type => q.object_type.clone(), object_id => q.object_id.clone(), request_id => q.request_id.clone(),
    };
    let records = match audit::list(&state.app, &web.ctx, q).await {
        Ok(r) => r,
        Err(e) => return fail(state, web, e, "/"),
    };
    let next_before = records.last().map(|r| r.seq);
    let entries: Vec<AuditEntry> = records.into_iter().map(AuditEntry::from).collect();
    let can_verify = web
        .ctx
        .principal
        .authorize(Permission::AuditVerify, None)
        .is_ok();
    render_page(
        state,
        "audit.html",
        web.lang,
        Some(web),
        context! {
            entries => entries, query => query, next_before => next_before, can_verify => can_verify,
            report => report, retention_years => state.app.settings.audit_retention_years,
        },
    )
    .into_response()
}

pub async fn verify_audit(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    match audit::verify(&state.app, &web.ctx).await {
        Ok(report) => render_audit(&state, &web, AuditFilter::default(), Some(report)).await,
        Err(e) => fail(&state, &web, e, "/audit"),
    }
}
