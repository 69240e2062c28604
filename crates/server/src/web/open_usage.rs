//! OPN-11 (JY 29), SUP-8 (XJ 41), OPN-10 in the web. On the portal, anyone sees the
//! products built on open data and submits one (no account, so no session and no
//! CSRF token: a cross-site post is refused instead). In the console, the authority
//! sees every department's use of open data, ranks them and exports them, and
//! reviews submitted products; a source department sees the use of its own datasets.
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gongshu_domain::permissions::Permission;
use gongshu_domain::showcase::{ShowcaseKind, ShowcaseStatus};
use gongshu_services::open_showcase::{
    self, NewShowcase, PublicShowcaseQuery, ShowcaseDecision, ShowcaseQuery,
};
use gongshu_services::open_usage::{self, DailyUsage};
use gongshu_services::{open, ServiceError};
use minijinja::{context, Value};
use serde::Deserialize;

use super::pages::fail;
use super::render::{csrf_rejected, render_page, urlencode, Lang, WebUser};
use crate::api::open::PublicCaller;
use crate::error::status_of;
use crate::extract::WebForm;
use crate::state::AppState;

/// OPN-11: the daily series as a bar chart (server-side SVG): one bar per day, its
/// height the day's uses (views, API calls, downloads), each with its figures as a
/// tooltip.
pub fn usage_chart(daily: &[DailyUsage], id: &str) -> String {
    const W: f64 = 300.0;
    const H: f64 = 64.0;
    let max = daily
        .iter()
        .map(|d| d.counts.uses())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bar = W / daily.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"usage-chart\" id=\"{id}\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"uses per day / 每日使用次数\">\
         <line x1=\"0\" y1=\"{H}\" x2=\"{W}\" y2=\"{H}\" stroke=\"#999\" stroke-width=\"1\"/>"
    );
    for (i, d) in daily.iter().enumerate() {
        let n = d.counts.uses();
        if n == 0 {
            continue;
        }
        let h = (n as f64 / max * (H - 4.0)).max(1.5);
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#2f6fb0\"><title>{} · {} {} · {} {} · {} {} · {} {}</title></rect>",
            i as f64 * bar + 0.5,
            H - h,
            (bar - 1.0).max(0.5),
            h,
            d.day,
            d.counts.views,
            "浏览 views",
            d.counts.api_calls,
            "接口 API",
            d.counts.downloads,
            "下载 downloads",
            d.counts.rows_served,
            "行 rows",
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Whether the browser says the request comes from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

fn kinds() -> Vec<(&'static str, &'static str, &'static str)> {
    ShowcaseKind::ALL
        .iter()
        .map(|k| (k.key(), k.label_zh(), k.label_en()))
        .collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppsQuery {
    /// Only those using this dataset; also preselected in the form.
    dataset: Option<String>,
    /// Set after a submission.
    submitted: Option<String>,
}

/// What the form held, to show it again after an error (nothing typed is lost).
#[derive(Debug, Default, Clone, serde::Serialize)]
struct FormValues {
    name: String,
    description: String,
    url: String,
    kind: String,
    datasets: Vec<String>,
    submitter: String,
    contact: String,
    cites_sources: bool,
}

async fn apps_page_with(
    state: &AppState,
    lang: Lang,
    dataset: Option<String>,
    submitted: Option<String>,
    form: FormValues,
    error: Option<ServiceError>,
) -> Response {
    let dataset = dataset.filter(|d| !d.trim().is_empty());
    let apps = match open_showcase::published(
        &state.app,
        PublicShowcaseQuery {
            dataset: dataset.clone(),
        },
    )
    .await
    {
        Ok(a) => a,
        Err(e) => return portal_error(state, lang, e),
    };
    let catalog = match open::catalog(&state.app).await {
        Ok(c) => c,
        Err(e) => return portal_error(state, lang, e),
    };
    let choices: Vec<Value> = catalog
        .datasets
        .iter()
        .map(|d| {
            context! {
                code => d.code.clone(),
                name => d.content.name.clone(),
                chosen => form.datasets.contains(&d.code),
            }
        })
        .collect();
    let dataset_name = dataset
        .as_deref()
        .and_then(|c| catalog.get(c))
        .map(|d| d.content.name.clone());
    let here = match &dataset {
        Some(d) => format!("/open/apps?dataset={}", urlencode(d)),
        None => "/open/apps".to_string(),
    };
    let status = error.as_ref().map_or(StatusCode::OK, |e| status_of(e.kind));
    let page = render_page(
        state,
        "portal_apps.html",
        lang,
        None,
        context! {
            here_q => urlencode(&here),
            apps => apps,
            dataset => dataset,
            dataset_name => dataset_name,
            submitted => submitted,
            kinds => kinds(),
            choices => choices,
            form => form,
            error => error.map(|e| context! {
                code => e.code, message => e.message, message_en => e.message_en, field => e.field,
                errors => e.errors.iter().map(|p| context! { field => p.field.clone(), message => p.message.clone(), message_en => p.message_en.clone() }).collect::<Vec<_>>(),
            }),
        },
    );
    (status, page).into_response()
}

fn portal_error(state: &AppState, lang: Lang, e: ServiceError) -> Response {
    let page = render_page(
        state,
        "result.html",
        lang,
        None,
        context! { error => context! { code => e.code, message => e.message, message_en => e.message_en, field => e.field }, back => "/open/apps" },
    );
    (status_of(e.kind), page).into_response()
}

/// GET /open/apps: the published products built on open data, and the form to
/// submit one (SUP-8, OPN-10).
pub async fn apps_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<AppsQuery>,
) -> Response {
    let form = FormValues {
        datasets: q.dataset.clone().into_iter().collect(),
        ..FormValues::default()
    };
    apps_page_with(&state, lang, q.dataset, q.submitted, form, None).await
}

/// POST /open/apps: submits a product; it waits for the authority's review.
pub async fn submit_app(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    headers: HeaderMap,
    WebForm(pairs): WebForm<Vec<(String, String)>>,
) -> Response {
    let mut form = FormValues::default();
    for (k, v) in pairs {
        match k.as_str() {
            "name" => form.name = v,
            "description" => form.description = v,
            "url" => form.url = v,
            "kind" => form.kind = v,
            // The list, or codes typed (separated by commas or spaces).
            "datasets" => form.datasets.extend(
                v.split([',', '，', ' ', '\n', '\t', ';'])
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            ),
            "submitter" => form.submitter = v,
            "contact" => form.contact = v,
            "cites_sources" => form.cites_sources = !v.is_empty(),
            _ => {}
        }
    }
    if cross_site(&headers) {
        let e = ServiceError::new(
            gongshu_services::error::ErrorKind::Denied,
            "showcase.cross_site",
            "请在本平台的应用展示页面提交",
            "submit from the applications page of this portal",
        );
        return apps_page_with(&state, lang, None, None, form, Some(e)).await;
    }
    let input = NewShowcase {
        name: form.name.clone(),
        description: form.description.clone(),
        url: form.url.clone(),
        kind: form.kind.clone(),
        datasets: form.datasets.clone(),
        submitter: form.submitter.clone(),
        contact: form.contact.clone(),
        cites_sources: form.cites_sources,
    };
    match open_showcase::submit(&state.app, &caller.ctx, &caller.reader.bucket, input).await {
        Ok((s, _)) => {
            Redirect::to(&format!("/open/apps?submitted={}", urlencode(&s.id))).into_response()
        }
        Err(e) => apps_page_with(&state, lang, None, None, form, Some(e)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UsagePageQuery {
    /// One department (the authority); a source department always sees its own.
    org: Option<String>,
}

/// GET /open-usage: the use of open data — every department ranked and every dataset
/// for the authority, a source department's own datasets (OPN-11, JY 29).
pub async fn usage_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<UsagePageQuery>,
) -> Response {
    let asked = q.org.filter(|o| !o.is_empty());
    let summary = match open_usage::console_summary(&state.app, &web.ctx, asked).await {
        Ok(s) => s,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let chart = usage_chart(&summary.daily, "usage-chart");
    render_page(
        &state,
        "open_usage.html",
        web.lang,
        Some(&web),
        context! {
            summary => summary,
            chart => chart,
            authority => web.ctx.principal.holds_globally(Permission::OpenCoordinate),
        },
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewQuery {
    status: Option<String>,
    done: Option<String>,
}

/// GET /open-apps: the submitted products for the authority to publish or reject
/// (SUP-8), pending first.
pub async fn review_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ReviewQuery>,
) -> Response {
    let status = q.status.clone().filter(|s| !s.is_empty());
    let list = match open_showcase::list(
        &state.app,
        &web.ctx,
        ShowcaseQuery {
            status: status.clone(),
        },
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let pending = list
        .iter()
        .filter(|s| s.status == ShowcaseStatus::Pending.key())
        .count();
    let statuses: Vec<(&str, &str, &str)> = ShowcaseStatus::ALL
        .iter()
        .map(|s| (s.key(), s.label_zh(), s.label_en()))
        .collect();
    render_page(
        &state,
        "open_apps.html",
        web.lang,
        Some(&web),
        context! {
            apps => list,
            pending => pending,
            statuses => statuses,
            status => status.unwrap_or_default(),
            done => q.done,
        },
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    csrf: String,
    action: String,
    reason: String,
}

/// POST /open-apps/{id}/decision: the authority publishes, rejects or withdraws.
pub async fn decide(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<DecisionForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = ShowcaseDecision {
        action: f.action.clone(),
        reason: f.reason,
    };
    match open_showcase::decide(&state.app, &web.ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!(
            "/open-apps?done={}#app-{}",
            urlencode(&f.action),
            urlencode(&id)
        ))
        .into_response(),
        Err(e) => fail(&state, &web, e, "/open-apps"),
    }
}
