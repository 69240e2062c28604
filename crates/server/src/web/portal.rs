//! The public open data portal (OPN-2, OPN-3, OPN-7, OPN-10): home with priority
//! domains and figures, search with facets, dataset pages with the data dictionary,
//! a preview, downloads and how to cite. No login; 中文 with an English switch.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use gongshu_domain::catalog::KeyRole;
use gongshu_services::egress;
use gongshu_services::open::{self, OpenSearch, OPEN_FACETS};
use gongshu_services::ServiceError;
use gongshu_services::{open_showcase, open_usage};
use minijinja::{context, Value};

use super::render::{render_page, urlencode, Lang};
use crate::api::open::{dataset_url, PublicCaller, FILES};
use crate::error::status_of;
use crate::state::AppState;

/// Renders a portal page: the common context plus where the page is (for the
/// language switch to come back to).
fn portal_page(state: &AppState, name: &str, lang: Lang, here: &str, ctx: Value) -> Html<String> {
    let with_here = context! { here_q => urlencode(here), ..ctx };
    render_page(state, name, lang, None, with_here)
}

fn portal_error(state: &AppState, lang: Lang, e: ServiceError) -> Response {
    let page = render_page(
        state,
        "result.html",
        lang,
        None,
        context! { error => context! { code => e.code, message => e.message, message_en => e.message_en, field => e.field }, back => "/open" },
    );
    (status_of(e.kind), page).into_response()
}

/// OPN-2: the portal's home.
pub async fn home(State(state): State<AppState>, lang: Lang) -> Response {
    let found = tokio::try_join!(
        open::figures(&state.app),
        open_usage::most_used(&state.app, 5)
    );
    match found {
        Ok((figures, most_used)) => portal_page(
            &state,
            "portal_home.html",
            lang,
            "/open",
            context! { figures => figures, most_used => most_used },
        )
        .into_response(),
        Err(e) => portal_error(&state, lang, e),
    }
}

fn search_link(q: &OpenSearch) -> String {
    let pairs: Vec<String> = [
        ("q", &q.q),
        ("source_org_id", &q.source_org_id),
        ("domain", &q.domain),
        ("open_type", &q.open_type),
        ("format", &q.format),
        ("update_frequency", &q.update_frequency),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{k}={}", urlencode(v)))
    })
    .chain(q.offset.filter(|o| *o > 0).map(|o| format!("offset={o}")))
    .collect();
    format!("/open/datasets?{}", pairs.join("&"))
}

fn facet_slot<'a>(q: &'a mut OpenSearch, facet: &str) -> &'a mut Option<String> {
    match facet {
        "source_org_id" => &mut q.source_org_id,
        "domain" => &mut q.domain,
        "open_type" => &mut q.open_type,
        "format" => &mut q.format,
        _ => &mut q.update_frequency,
    }
}

/// OPN-2, OPN-7: searching the open catalog, with facets that narrow the search.
pub async fn search(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<OpenSearch>,
) -> Response {
    let page = match open::search(&state.app, q.clone()).await {
        Ok(p) => p,
        Err(e) => return portal_error(&state, lang, e),
    };
    let catalog = match open::catalog(&state.app).await {
        Ok(c) => c,
        Err(e) => return portal_error(&state, lang, e),
    };
    let mut facets = Vec::new();
    for name in OPEN_FACETS {
        let values: Vec<Value> = page
            .facets
            .get(name)
            .map(|v| v.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|(key, count)| {
                let mut narrowed = q.clone();
                narrowed.offset = None;
                let active = facet_slot(&mut narrowed, name).as_deref() == Some(key.as_str());
                *facet_slot(&mut narrowed, name) = if active { None } else { Some(key.clone()) };
                let label = catalog.org_names.get(key).cloned().unwrap_or_else(|| key.clone());
                context! { key => key, label => label, count => count, active => active, href => search_link(&narrowed) }
            })
            .collect();
        facets.push(context! { name => name, values => values });
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let offset = q.offset.unwrap_or(0);
    let prev_href = (offset > 0).then(|| {
        let mut p = q.clone();
        p.offset = Some(offset.saturating_sub(limit));
        search_link(&p)
    });
    let next_href = (offset + limit < page.total).then(|| {
        let mut n = q.clone();
        n.offset = Some(offset + limit);
        search_link(&n)
    });
    let here = search_link(&q);
    portal_page(
        &state,
        "portal_search.html",
        lang,
        &here,
        context! {
            page => page, query => q.clone(), facets => facets,
            q_encoded => urlencode(q.q.as_deref().unwrap_or("")),
            prev_href => prev_href, next_href => next_href,
        },
    )
    .into_response()
}

/// Rows of the preview on a dataset page.
const PREVIEW_ROWS: i64 = 10;

/// OPN-3, OPN-7, OPN-10: one dataset: metadata, dictionary, preview, downloads, citation.
pub async fn dataset(
    State(state): State<AppState>,
    lang: Lang,
    caller: PublicCaller,
    Path(code): Path<String>,
) -> Response {
    let catalog = match open::catalog(&state.app).await {
        Ok(c) => c,
        Err(e) => return portal_error(&state, lang, e),
    };
    let ds = match catalog.find(&code) {
        Ok(d) => d,
        Err(e) => return portal_error(&state, lang, e),
    };
    let view = match crate::api::open::view(&state, ds).await {
        Ok(v) => v,
        Err(e) => return portal_error(&state, lang, e),
    };
    let fields: Vec<Value> = view
        .schema
        .as_ref()
        .and_then(|s| s["fields"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            // The gate masks sensitive items and citizen ID numbers (default rules).
            let name = f["name"].as_str().unwrap_or_default();
            let masked = ds.content.items.iter().any(|i| {
                i.code_name.eq_ignore_ascii_case(name)
                    && (i.sensitive || i.key_role == KeyRole::CitizenId)
            });
            context! {
                name => f["name"].as_str().unwrap_or_default().to_string(),
                title => f["title"].as_str().unwrap_or_default().to_string(),
                type => f["type"].as_str().unwrap_or_default().to_string(),
                description => f.get("description").and_then(|d| d.as_str()).map(str::to_string),
                masked => masked,
            }
        })
        .collect();
    // OPN-11: the view is counted (in memory, written in batches); the preview
    // below is a read of its own, recorded as such by the gate.
    open_usage::count_view(&state.app, ds);
    let (preview, preview_error) = if ds.is_direct() && ds.has_data {
        match egress::open_preview(&state.app, &caller.ctx, ds, &caller.reader, PREVIEW_ROWS).await
        {
            Ok(p) => (Some(p), None),
            Err(e) => (
                None,
                Some(context! { message => e.message, message_en => e.message_en }),
            ),
        }
    } else {
        (None, None)
    };
    let files: Vec<Value> = FILES
        .iter()
        .map(|(file, format)| {
            let ext = format.extension();
            context! { file => file, ext => ext, label => ext.to_uppercase() }
        })
        .collect();
    let url = dataset_url(&state, &ds.code);
    // OPN-11, SUP-8: the dataset's use and what was built on it.
    let usage = match open_usage::dataset_usage(&state.app, ds).await {
        Ok(u) => u,
        Err(e) => return portal_error(&state, lang, e),
    };
    let usage_chart = super::open_usage::usage_chart(&usage.daily, "usage-chart");
    let apps = match open_showcase::published(
        &state.app,
        open_showcase::PublicShowcaseQuery {
            dataset: Some(ds.code.clone()),
        },
    )
    .await
    {
        Ok(a) => a,
        Err(e) => return portal_error(&state, lang, e),
    };
    (
        StatusCode::OK,
        portal_page(
            &state,
            "portal_dataset.html",
            lang,
            &format!("/open/datasets/{}", ds.code),
            context! {
                ds => ds.clone(), ds_direct => ds.is_direct(), fields => fields,
                preview => preview, preview_error => preview_error, files => files,
                citation => context! { zh => view.citation.zh, en => view.citation.en },
                records_url => view.links.get("records").cloned().unwrap_or(url),
                anonymous_rate => egress::ANONYMOUS_RATE_PER_MINUTE,
                usage => usage, usage_chart => usage_chart, apps => apps,
            },
        ),
    )
        .into_response()
}
