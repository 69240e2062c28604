//! OPN-3, OPN-4 on the portal and in the console: a member of the public gets a
//! developer key (kept in a cookie once entered), applies for a dataset open on
//! conditions, reads the answer and accepts the data use agreement; the source
//! department and the authority review applications in the console.
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use gongshu_domain::open::{ApplicantKind, OpenApplicationStatus, AGREEMENT_VERSION};
use gongshu_domain::permissions::Permission;
use gongshu_services::open_access::{self, NewDeveloperKey, NewOpenApplication, ReviewDecision};
use gongshu_services::{open, Ctx, ServiceError};
use gongshu_store::DeveloperKey;
use minijinja::context;
use serde::Deserialize;

use super::pages::fail;
use super::render::{csrf_rejected, render_page, Lang, WebUser};
use crate::api::open::{PublicCaller, KEY_COOKIE};
use crate::error::status_of;
use crate::extract::WebForm;
use crate::state::AppState;

fn portal_error(state: &AppState, lang: Lang, e: ServiceError, back: &str) -> Response {
    let page = render_page(
        state,
        "result.html",
        lang,
        None,
        context! { error => context! { code => e.code, message => e.message, message_en => e.message_en, field => e.field }, back => back },
    );
    (status_of(e.kind), page).into_response()
}

/// Only local paths are followed after a form, never another site.
fn local(next: &str) -> Option<&str> {
    (next.starts_with('/') && !next.starts_with("//")).then_some(next)
}

fn key_cookie(state: &AppState, secret: &str) -> HeaderValue {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let max_age = if secret.is_empty() { "; Max-Age=0" } else { "" };
    HeaderValue::from_str(&format!(
        "{KEY_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict{secure}{max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn with_cookie(cookie: HeaderValue, resp: impl IntoResponse) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cookie);
    (headers, resp).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// GET /open/developer: get a developer key, or enter the one you hold.
pub async fn developer_page(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    Query(q): Query<NextQuery>,
) -> Response {
    let kinds: Vec<(&str, &str, &str)> = ApplicantKind::ALL
        .iter()
        .map(|k| (k.key(), k.label_zh(), k.label_en()))
        .collect();
    render_page(
        &state,
        "portal_developer.html",
        lang,
        None,
        context! {
            here_q => "%2Fopen%2Fdeveloper",
            key => caller.key.as_ref().map(open_access::party_of),
            kinds => kinds,
            next => local(&q.next).unwrap_or(""),
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    holder_name: String,
    holder_kind: String,
    identity_number: String,
    contact: String,
    #[serde(default)]
    next: String,
}

/// POST /open/developer/keys: issues a key, shows its secret once, and keeps it in
/// the portal's cookie.
pub async fn issue_key(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    WebForm(f): WebForm<KeyForm>,
) -> Response {
    let input = NewDeveloperKey {
        holder_name: f.holder_name,
        holder_kind: f.holder_kind,
        identity_number: f.identity_number,
        contact: f.contact,
    };
    match open_access::issue_key(&state.app, &caller.ctx, input).await {
        Ok((key, secret)) => {
            let page = render_page(
                &state,
                "portal_key_issued.html",
                lang,
                None,
                context! {
                    here_q => "%2Fopen%2Fdeveloper",
                    party => open_access::party_of(&key),
                    secret => secret.clone(),
                    next => local(&f.next).unwrap_or("/open/applications"),
                },
            );
            with_cookie(key_cookie(&state, &secret), page)
        }
        Err(e) => portal_error(&state, lang, e, "/open/developer"),
    }
}

#[derive(Debug, Deserialize)]
pub struct EnterKeyForm {
    secret: String,
    #[serde(default)]
    next: String,
}

/// POST /open/developer/session: the holder enters a key they already have.
pub async fn enter_key(
    State(state): State<AppState>,
    lang: Lang,
    WebForm(f): WebForm<EnterKeyForm>,
) -> Response {
    let secret = f.secret.trim();
    match open_access::key_for_secret(&state.app, secret).await {
        Ok(_) => with_cookie(
            key_cookie(&state, secret),
            Redirect::to(local(&f.next).unwrap_or("/open/applications")),
        ),
        Err(e) => portal_error(&state, lang, e, "/open/developer"),
    }
}

/// POST /open/developer/forget: the portal forgets the key.
pub async fn forget_key(State(state): State<AppState>) -> Response {
    with_cookie(key_cookie(&state, ""), Redirect::to("/open/developer"))
}

/// The key the portal holds, or a redirect to get or enter one.
fn key_or_login(caller: PublicCaller, here: &str) -> Result<(Ctx, DeveloperKey), Redirect> {
    match caller.key {
        Some(k) => Ok((caller.ctx, k)),
        None => Err(Redirect::to(&format!(
            "/open/developer?next={}",
            super::render::urlencode(here)
        ))),
    }
}

/// GET /open/datasets/{code}/apply: the application form for a conditional dataset.
pub async fn apply_page(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    Path(code): Path<String>,
) -> Response {
    let here = format!("/open/datasets/{code}/apply");
    let (_, key) = match key_or_login(caller, &here) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    let catalog = match open::catalog(&state.app).await {
        Ok(c) => c,
        Err(e) => return portal_error(&state, lang, e, "/open"),
    };
    let ds = match catalog.find(&code) {
        Ok(ds) => ds.clone(),
        Err(e) => return portal_error(&state, lang, e, "/open/datasets"),
    };
    render_page(
        &state,
        "portal_apply.html",
        lang,
        None,
        context! {
            here_q => super::render::urlencode(&here),
            dataset => ds,
            party => open_access::party_of(&key),
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    purpose: String,
    intended_use: String,
}

/// POST /open/datasets/{code}/apply.
pub async fn apply(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    Path(code): Path<String>,
    WebForm(f): WebForm<ApplyForm>,
) -> Response {
    let here = format!("/open/datasets/{code}/apply");
    let (ctx, key) = match key_or_login(caller, &here) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    let input = NewOpenApplication {
        purpose: f.purpose,
        intended_use: f.intended_use,
    };
    match open_access::apply(&state.app, &ctx, &key, &code, input).await {
        Ok(a) => Redirect::to(&format!("/open/applications/{}?done=applied", a.id)).into_response(),
        Err(e) => portal_error(&state, lang, e, &here),
    }
}

/// GET /open/applications: the key holder's applications.
pub async fn my_applications(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
) -> Response {
    let (_, key) = match key_or_login(caller, "/open/applications") {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    match open_access::list_for_key(&state.app, &key).await {
        Ok(list) => render_page(
            &state,
            "portal_applications.html",
            lang,
            None,
            context! {
                here_q => "%2Fopen%2Fapplications",
                applications => list,
                party => open_access::party_of(&key),
            },
        )
        .into_response(),
        Err(e) => portal_error(&state, lang, e, "/open"),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// GET /open/applications/{id}: status, reviews, and the agreement to accept.
pub async fn my_application(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let here = format!("/open/applications/{id}");
    let (_, key) = match key_or_login(caller, &here) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    let a = match open_access::get_for_key(&state.app, &key, &id).await {
        Ok(a) => a,
        Err(e) => return portal_error(&state, lang, e, "/open/applications"),
    };
    let agreement = if a.status == OpenApplicationStatus::AwaitingAgreement.key() {
        open_access::agreement_for(&state.app, &key, &a)
            .await
            .unwrap_or_default()
    } else {
        None
    };
    let status = OpenApplicationStatus::parse(&a.status);
    render_page(
        &state,
        "portal_application.html",
        lang,
        None,
        context! {
            here_q => super::render::urlencode(&here),
            a => a,
            status_zh => status.map(|s| s.label_zh()),
            status_en => status.map(|s| s.label_en()),
            agreement => agreement,
            version => AGREEMENT_VERSION,
            done => q.done,
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct AgreementForm {
    version: String,
    #[serde(default)]
    accept: String,
}

/// POST /open/applications/{id}/agreement.
pub async fn accept_agreement(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    Path(id): Path<String>,
    WebForm(f): WebForm<AgreementForm>,
) -> Response {
    let here = format!("/open/applications/{id}");
    let (ctx, key) = match key_or_login(caller, &here) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    if f.accept != "yes" {
        let e = ServiceError::invalid(
            "open.agreement_not_accepted",
            "accept",
            "须勾选同意数据利用协议",
            "tick the box to accept the data use agreement",
        );
        return portal_error(&state, lang, e, &here);
    }
    match open_access::accept_agreement(&state.app, &ctx, &key, &id, &f.version).await {
        Ok(_) => Redirect::to(&format!("{here}?done=accepted")).into_response(),
        Err(e) => portal_error(&state, lang, e, &here),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReviewListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    done: String,
}

/// GET /open-applications: the console's review queue (source department's own,
/// everything for the authority), with deadlines.
pub async fn review_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ReviewListQuery>,
) -> Response {
    let status = (!q.status.is_empty()).then_some(q.status.as_str());
    match open_access::list(&state.app, &web.ctx, status).await {
        Ok(list) => {
            let statuses: Vec<(&str, &str, &str)> = OpenApplicationStatus::ALL
                .iter()
                .map(|s| (s.key(), s.label_zh(), s.label_en()))
                .collect();
            let today = gongshu_services::catalog::today_in_china(chrono::Utc::now()).to_string();
            render_page(
                &state,
                "open_applications.html",
                web.lang,
                Some(&web),
                context! {
                    applications => list,
                    statuses => statuses,
                    status => q.status,
                    done => q.done,
                    today => today,
                    authority => web.ctx.principal.holds_globally(Permission::OpenCoordinate),
                    reviewer => web.ctx.principal.holds(Permission::OpenReview),
                },
            )
            .into_response()
        }
        Err(e) => fail(&state, &web, e, "/"),
    }
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

/// POST /open-applications/{id}/review.
pub async fn review(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<ReviewForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let decision = ReviewDecision {
        approve: f.decision == "approve",
        reason: f.reason,
    };
    match open_access::review(&state.app, &web.ctx, &id, decision).await {
        Ok(_) => Redirect::to("/open-applications?done=reviewed").into_response(),
        Err(e) => fail(&state, &web, e, "/open-applications"),
    }
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
}

/// POST /open-applications/{id}/status: suspend or resume an application in force.
pub async fn set_status(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<StatusForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let suspend = f.action == "suspend";
    match open_access::set_suspended(&state.app, &web.ctx, &id, suspend, &f.reason).await {
        Ok(_) => Redirect::to("/open-applications?done=reviewed").into_response(),
        Err(e) => fail(&state, &web, e, "/open-applications"),
    }
}
