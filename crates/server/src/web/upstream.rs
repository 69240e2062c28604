//! COL-7 (XJ 13): the console page of reporting to the next level's platform and of
//! what the level below reported here.
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use gongshu_services::error::ErrorKind;
use gongshu_services::upstream;
use minijinja::context;
use serde::Deserialize;

use super::pages::{fail, respond};
use super::render::{csrf_rejected, render_page, WebUser};
use crate::extract::WebForm;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// GET /catalog/upstream: the authority sees each entry's report; everyone who reads
/// the catalog sees what lower levels reported here.
pub async fn page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    // Only the data authority reports; others see the received list alone.
    let overview = match upstream::overview(&state.app, &web.ctx).await {
        Ok(o) => Some(o),
        Err(e) if e.kind == ErrorKind::Denied => None,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    let received = match upstream::received(&state.app, &web.ctx).await {
        Ok(r) => r,
        Err(e) => return fail(&state, &web, e, "/catalog"),
    };
    render_page(
        &state,
        "catalog_upstream.html",
        web.lang,
        Some(&web),
        context! { overview => overview, received => received, done => q.done },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct RunForm {
    csrf: String,
}

/// POST /catalog/upstream: report now.
pub async fn run(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<RunForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let result = upstream::report_all(&state.app, &web.ctx).await;
    let done = match &result {
        Ok(run) if run.failed > 0 => "/catalog/upstream?done=failed",
        _ => "/catalog/upstream?done=reported",
    };
    respond(&state, &web, result, done, "/catalog/upstream")
}

#[derive(Deserialize)]
pub struct ExemptionForm {
    csrf: String,
    #[serde(default)]
    system: String,
    /// Present when the authority clears the exemption.
    #[serde(default)]
    clear: Option<String>,
}

/// POST /catalog/upstream/{entry}/exemption.
pub async fn exemption(
    State(state): State<AppState>,
    web: WebUser,
    Path(entry): Path<String>,
    WebForm(f): WebForm<ExemptionForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let system = f.clear.is_none().then_some(f.system.as_str());
    let result = upstream::set_exemption(&state.app, &web.ctx, &entry, system).await;
    respond(
        &state,
        &web,
        result,
        "/catalog/upstream?done=exemption",
        "/catalog/upstream",
    )
}
