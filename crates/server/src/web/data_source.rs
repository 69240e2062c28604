//! COL-1: the console page of a resource's pull connector: where the platform
//! reads the department's system, a connection test, and a pull on demand.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gongshu_services::sources::{self, SourceInput};
use gongshu_services::ServiceError;
use gongshu_store::DatasetSource;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::data::message;
use super::render::{csrf_rejected, render_page, urlencode, WebUser};
use crate::error::status_of;
use crate::extract::WebForm;
use crate::state::AppState;

/// The settings form, as typed (kept when saving fails).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    database: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    tls: String,
    #[serde(default)]
    table: String,
    #[serde(default)]
    select: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    records_path: String,
    #[serde(default)]
    page_param: String,
    #[serde(default)]
    auth_header: String,
    #[serde(default, skip_serializing)]
    secret: String,
    #[serde(default)]
    scheduled: Option<String>,
}

impl SourceForm {
    /// The form filled from a saved source.
    fn from_source(s: &DatasetSource) -> Self {
        let c = &s.config;
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        Self {
            kind: text(&c["kind"]),
            host: text(&c["host"]),
            port: c["port"]
                .as_u64()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            database: text(&c["database"]),
            user: text(&c["user"]),
            tls: text(&c["tls"]),
            table: text(&c["query"]["table"]),
            select: text(&c["query"]["select"]),
            url: text(&c["url"]),
            records_path: text(&c["records_path"]),
            page_param: text(&c["paging"]["param"]),
            auth_header: text(&c["auth_header"]),
            scheduled: s.scheduled.then(|| "yes".into()),
            ..Self::default()
        }
    }

    /// The connector description the service takes.
    fn to_input(&self) -> Result<SourceInput, ServiceError> {
        let source = match self.kind.as_str() {
            "postgres" | "mysql" => {
                let port: u16 = self.port.trim().parse().map_err(|_| {
                    ServiceError::invalid(
                        "connector.port_invalid",
                        "port",
                        "端口须为 1 至 65535 的数字",
                        "the port is a number from 1 to 65535",
                    )
                })?;
                let query = if self.select.trim().is_empty() {
                    serde_json::json!({ "table": self.table.trim() })
                } else {
                    serde_json::json!({ "select": self.select.trim() })
                };
                let tls = match self.tls.trim() {
                    "" => "prefer",
                    mode => mode,
                };
                serde_json::json!({
                    "kind": self.kind, "host": self.host.trim(), "port": port,
                    "database": self.database.trim(), "user": self.user.trim(), "query": query,
                    "tls": tls,
                })
            }
            "http_json" => {
                let paging = if self.page_param.trim().is_empty() {
                    serde_json::json!({ "kind": "none" })
                } else {
                    serde_json::json!({ "kind": "page_number", "param": self.page_param.trim(), "size": 500 })
                };
                let auth = Some(self.auth_header.trim()).filter(|h| !h.is_empty());
                serde_json::json!({
                    "kind": "http_json", "url": self.url.trim(), "records_path": self.records_path.trim(),
                    "paging": paging, "auth_header": auth,
                })
            }
            other => {
                return Err(ServiceError::invalid(
                    "connector.kind_unknown",
                    "kind",
                    format!("未知的数据源类型“{other}”"),
                    format!("unknown source kind '{other}'"),
                ))
            }
        };
        Ok(SourceInput {
            source,
            secret: Some(self.secret.clone()).filter(|s| !s.is_empty()),
            scheduled: self.scheduled.is_some(),
        })
    }
}

#[derive(Deserialize)]
pub struct SourceQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn render(
    state: &AppState,
    web: &WebUser,
    resource: &str,
    form: Option<SourceForm>,
    notice: (Option<String>, Option<Vec<String>>, Option<&str>),
    status: StatusCode,
) -> Response {
    let entry = match gongshu_services::catalog::get(&state.app, &web.ctx, resource).await {
        Ok(e) => e,
        Err(e) => return super::pages::fail(state, web, e, "/data"),
    };
    let source = match sources::get(&state.app, &web.ctx, &entry.id).await {
        Ok(s) => Some(s),
        Err(e) if e.kind == gongshu_services::error::ErrorKind::NotFound => None,
        Err(e) => return super::pages::fail(state, web, e, "/data"),
    };
    let form = form.unwrap_or_else(|| {
        source
            .as_ref()
            .map(SourceForm::from_source)
            .unwrap_or(SourceForm {
                kind: "postgres".into(),
                port: "5432".into(),
                tls: "verify_full".into(),
                scheduled: Some("yes".into()),
                ..SourceForm::default()
            })
    });
    let (error, columns, done) = notice;
    let page = render_page(
        state,
        "data_source.html",
        web.lang,
        Some(web),
        context! {
            entry => context! { id => entry.id, code => entry.code, name => entry.name },
            source => source, form => form, error => error, columns => columns, done => done,
        },
    );
    (status, page).into_response()
}

/// COL-1: the pull source of a resource (its department's data loaders only).
pub async fn source_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    Query(q): Query<SourceQuery>,
) -> Response {
    let done = q.done.filter(|d| d == "saved");
    render(
        &state,
        &web,
        &resource,
        None,
        (None, None, done.as_deref()),
        StatusCode::OK,
    )
    .await
}

/// Saves the source (the secret sealed, never shown again).
pub async fn save_source(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    WebForm(form): WebForm<SourceForm>,
) -> Response {
    if !web.csrf_ok(&form.csrf) {
        return csrf_rejected();
    }
    let saved = match form.to_input() {
        Ok(input) => sources::set(&state.app, &web.ctx, &resource, input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(s) => Redirect::to(&format!(
            "/data/{}/source?done=saved",
            urlencode(&s.resource_id)
        ))
        .into_response(),
        Err(e) => {
            let status = status_of(e.kind);
            let error = Some(message(web.lang, &e));
            render(
                &state,
                &web,
                &resource,
                Some(form),
                (error, None, None),
                status,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Tests the connection and lists the source's columns.
pub async fn test_source(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    match sources::probe(&state.app, &web.ctx, &resource).await {
        Ok(columns) => {
            render(
                &state,
                &web,
                &resource,
                None,
                (None, Some(columns), None),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let status = status_of(e.kind);
            let error = Some(message(web.lang, &e));
            render(&state, &web, &resource, None, (error, None, None), status).await
        }
    }
}

/// Pulls now and shows the resulting load.
pub async fn pull_now(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    match sources::pull_now(&state.app, &web.ctx, &resource).await {
        Ok(load) => Redirect::to(&format!("/data/loads/{}", urlencode(&load.id))).into_response(),
        Err(e) => {
            let status = status_of(e.kind);
            let error = Some(message(web.lang, &e));
            render(&state, &web, &resource, None, (error, None, None), status).await
        }
    }
}
