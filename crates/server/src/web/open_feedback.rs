//! OPN-9 (XJ 30): the public's reports on open datasets in the web. On the portal,
//! anyone reports a problem from a dataset's page (no account, so no session and no
//! CSRF token: a cross-site post is refused instead) and reads the answer with the
//! ticket; in the console, the source department sees its reports with their due
//! days and answers them.
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use gongshu_domain::permissions::Permission;
use gongshu_services::catalog::today_in_china;
use gongshu_services::open_feedback::{
    self, FeedbackAnswer, FeedbackQuery, FeedbackRecord, NewFeedback, PublicFeedback,
};
use gongshu_services::ServiceError;
use minijinja::{context, Value};
use serde::Deserialize;

use super::pages::fail;
use super::render::{csrf_rejected, render_page, urlencode, Lang, WebUser};
use crate::api::open::PublicCaller;
use crate::api::open_feedback::reader_link;
use crate::error::status_of;
use crate::extract::WebForm;
use crate::state::AppState;

/// Renders a portal page with where it is (for the language switch).
fn portal_page(state: &AppState, name: &str, lang: Lang, here: &str, ctx: Value) -> Html<String> {
    let with_here = context! { here_q => urlencode(here), ..ctx };
    render_page(state, name, lang, None, with_here)
}

fn portal_error(state: &AppState, lang: Lang, e: ServiceError, back: &str) -> Response {
    let page = portal_page(
        state,
        "portal_feedback.html",
        lang,
        back,
        context! {
            error => context! { code => e.code, message => e.message, message_en => e.message_en, field => e.field },
            back => back,
        },
    );
    (status_of(e.kind), page).into_response()
}

/// Whether the browser says the request comes from another site (a page elsewhere
/// posting into the portal on its visitor's behalf).
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

/// The "report a problem" form on a dataset page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    kind: String,
    description: String,
    reporter: String,
    contact: String,
}

/// POST /open/datasets/{code}/feedback: files a report, then shows its ticket.
pub async fn report(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    Path(code): Path<String>,
    headers: HeaderMap,
    WebForm(form): WebForm<ReportForm>,
) -> Response {
    let back = format!("/open/datasets/{}", urlencode(&code));
    if cross_site(&headers) {
        let e = ServiceError::new(
            gongshu_services::error::ErrorKind::Denied,
            "open_feedback.cross_site",
            "请在本平台的数据集页面提交意见",
            "report from the dataset's page on this portal",
        );
        return portal_error(&state, lang, e, &back);
    }
    let input = NewFeedback {
        kind: form.kind,
        description: form.description,
        reporter: form.reporter,
        contact: form.contact,
    };
    match open_feedback::submit(&state.app, &caller.ctx, &caller.reader.bucket, &code, input).await
    {
        Ok((f, ticket)) => Redirect::to(&format!(
            "/open/feedback/{}?ticket={}&new=1",
            urlencode(&f.id),
            urlencode(&ticket)
        ))
        .into_response(),
        Err(e) => portal_error(&state, lang, e, &back),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TicketQuery {
    ticket: String,
    /// Set right after filing: the page then asks to keep the link.
    new: Option<String>,
}

/// GET /open/feedback/{id}?ticket=…: the reporter reads the status and the answer.
pub async fn status(
    State(state): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<TicketQuery>,
) -> Response {
    match open_feedback::by_ticket(&state.app, &id, &q.ticket).await {
        Ok(f) => {
            let view = PublicFeedback::from(&f);
            let here = format!(
                "/open/feedback/{}?ticket={}",
                urlencode(&id),
                urlencode(&q.ticket)
            );
            portal_page(
                &state,
                "portal_feedback.html",
                lang,
                &here,
                context! {
                    feedback => view,
                    new => q.new.is_some(),
                    ticket => q.ticket.clone(),
                    link => reader_link(&state, &f.id, &q.ticket),
                },
            )
            .into_response()
        }
        Err(e) => portal_error(&state, lang, e, "/open"),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    status: Option<String>,
    done: Option<String>,
}

/// GET /open-feedback: the reports on the department's open datasets (all, for the
/// authority), with their due days and an answer form for each still open.
pub async fn list_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ListQuery>,
) -> Response {
    let query = FeedbackQuery {
        status: q.status.clone().filter(|s| !s.is_empty()),
        resource_id: None,
    };
    let found = match open_feedback::list(&state.app, &web.ctx, query).await {
        Ok(v) => v,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let today = today_in_china(Utc::now());
    let records: Vec<FeedbackRecord> = found.iter().map(FeedbackRecord::from).collect();
    let waiting = records.iter().filter(|r| r.status == "received").count();
    let overdue = records
        .iter()
        .filter(|r| r.status == "received" && (r.overdue_since.is_some() || r.due < today))
        .count();
    let withheld = records.iter().filter(|r| r.withheld).count();
    render_page(
        &state,
        "open_feedback.html",
        web.lang,
        Some(&web),
        context! {
            records => records,
            waiting => waiting,
            overdue => overdue,
            withheld => withheld,
            today => today.to_string(),
            status => q.status.unwrap_or_default(),
            done => q.done,
            authority => web.ctx.principal.holds_globally(Permission::OpenCoordinate),
        },
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerForm {
    csrf: String,
    action: String,
    answer: String,
}

/// POST /open-feedback/{id}/answer: the source answers a report and acts on the dataset.
pub async fn answer(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<AnswerForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = FeedbackAnswer {
        action: f.action,
        answer: f.answer,
    };
    match open_feedback::answer(&state.app, &web.ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!(
            "/open-feedback?done=answered#fb-{}",
            urlencode(&id)
        ))
        .into_response(),
        Err(e) => fail(&state, &web, e, "/open-feedback"),
    }
}
