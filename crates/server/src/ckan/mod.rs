//! OPN-2: CKAN Action API compatibility for the open catalog, so that existing CKAN
//! clients (`ckanapi`, harvesters, portals' federated search) read it unchanged.
//!
//! Served under both `/api/action/{name}` and `/api/3/action/{name}`, by GET (query
//! string) or POST (a JSON object, or a form; a non-empty body wins over the query
//! string), with CKAN's envelope `{"help", "success": true, "result"}`. Errors keep
//! CKAN's shape and statuses: `Not Found Error` 404, `Authorization Error` 403,
//! `Validation Error` 409 (with the field at fault as a key), unreadable JSON 400,
//! an unknown action 400 (`Bad request - Action name not known`), too many reads 429.
//! Read-only: every action is side-effect free, nobody logs in, and rows are read only
//! through the egress gate (`egress::open_page`), which masks, meters and records.
//!
//! Actions: `package_list`, `package_search`, `package_show`,
//! `current_package_list_with_resources`, `resource_show`, `organization_list`,
//! `organization_show`, `group_list`, `group_show`, `tag_list`, `datastore_search`,
//! `status_show`, `site_read`, `help_show`.
//!
//! How the open catalog maps onto CKAN (one dataset of the open catalog = one package):
//!
//! | CKAN | Gongshu |
//! |---|---|
//! | package `name` | resource code in lower case (`410-000014`) |
//! | `id` | catalog entry id |
//! | `title`, `notes` | entry name, summary |
//! | `owner_org`, `organization` | the source department (数源部门): `name` = `id` = its organisation id, `title` = its name |
//! | `groups` | the entry's domain: `name` = domain key (`transport`), `title` = 中文 label |
//! | `tags` | domain label (中文 and English) and update frequency label (中文), as plain strings |
//! | `metadata_created` / `metadata_modified` | entry created / later of metadata and data change, UTC, CKAN's `2026-11-23T04:21:38.123456` |
//! | `license_id` | [`LICENSE_ID`]: the platform's open data terms (cite source and date obtained) |
//! | `url` | the dataset's portal page |
//! | `extras` | `open_type`, `open_conditions` (conditional only), `update_frequency`, `source_department`, `resource_code`, `rows`, `citation`, `citation_en` |
//! | `resources` | one per file: `id` = `{code}-{ext}` for csv, ndjson, xlsx, parquet; `datastore_active` on the csv one when the dataset has data and is open without conditions |
//! | organizations | departments with at least one open dataset |
//! | groups | the catalog's fifteen domains |
//! | `datastore_search` | rows of the csv resource, through the gate; `_id` is the row's position in the result |
//!
//! Search (`package_search`): words of `q` go to the catalog's Chinese/English full-text
//! index (every word must match); `field:value` terms of `q` and `fq` filter in memory
//! (see [`search`] for the supported subset of Solr syntax), then sort, facets, paging.
//! Datasets opened on conditions are listed; their rows are refused (`Authorization
//! Error`) until an application unlocks them (OPN-4). Entries not open never appear.
mod datastore;
mod package;
mod search;
pub use package::PackageCache;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gongshu_services::error::ErrorKind;
use gongshu_services::ServiceError;
use serde_json::{json, Map, Value};

use crate::api::open::PublicCaller;
use crate::state::AppState;

/// The CKAN version whose Action API this adapter follows.
pub const CKAN_VERSION: &str = "2.10.0";

/// The licence of every open dataset: the platform's terms of use.
pub const LICENSE_ID: &str = "open-data-terms";
pub const LICENSE_TITLE: &str =
    "公共数据开放平台数据使用规则：引用须注明来源与获取日期 / Open data terms: cite the source and the date obtained";

/// OPN-2: the CKAN routes, under both prefixes CKAN answers on.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/action/{name}", get(action).post(action))
        .route("/api/3/action/{name}", get(action).post(action))
        .route("/api/3", get(version))
}

/// `GET /api/3`: the API version, as CKAN answers it.
async fn version() -> Json<Value> {
    Json(json!({ "version": 3 }))
}

/// The actions served, with what `help_show` says of each.
const ACTIONS: [(&str, &str); 14] = [
    ("package_list", "Names of all datasets of the open catalog, by name. Parameters: limit, offset."),
    ("package_search", "Searches datasets. Parameters: q (words, Chinese or English, and field:value terms), fq (field:value, -field:value, field:[X TO Y] with ISO datetimes or NOW-1DAY date math), rows (default 10, at most 1000), start, sort (score desc, metadata_modified desc, metadata_created desc, name asc, title_string asc), facet.field (JSON list of organization, groups, tags, res_format, license_id), facet.limit, facet.mincount, fl."),
    ("package_show", "One dataset by id or name."),
    ("current_package_list_with_resources", "Datasets with their resources, most recently modified first. Parameters: limit, offset."),
    ("resource_show", "One resource by id ({code}-csv, -ndjson, -xlsx, -parquet)."),
    ("organization_list", "Departments publishing open data. Parameters: all_fields, sort, limit, offset, organizations."),
    ("organization_show", "One department by id or name. Parameters: id, include_datasets."),
    ("group_list", "The catalog's domains. Parameters: all_fields, sort, limit, offset, groups."),
    ("group_show", "One domain by name. Parameters: id, include_datasets."),
    ("tag_list", "Tags of the open catalog. Parameters: query, all_fields."),
    ("datastore_search", "Rows of a dataset's csv resource. Parameters: resource_id, limit (default 100, at most 1000), offset (at most 100000), filters (JSON object of item: value), fields, include_total, records_format (objects or lists)."),
    ("status_show", "The site's title, address and CKAN version."),
    ("site_read", "Whether the site may be read: always true."),
    ("help_show", "What an action does. Parameters: name."),
];

/// One action call: its name and parameters, and the caller's reading rights.
pub(crate) struct Call<'a> {
    pub s: &'a AppState,
    pub caller: &'a PublicCaller,
    pub params: Params,
}

/// OPN-2: `/api/action/{name}` and `/api/3/action/{name}`.
async fn action(
    State(s): State<AppState>,
    caller: PublicCaller,
    Path(name): Path<String>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let help = help_url(&s, &name);
    if !ACTIONS.iter().any(|(n, _)| *n == name) {
        return bad_request(
            &help,
            "Bad request - Action name not known",
            format!("Bad request - Action name not known: {name}"),
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return CkanError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Bad request",
                "请求体过大 / the request body is too large",
            )
            .respond(&help)
        }
        Err(r) => {
            return bad_request(
                &help,
                "Bad request",
                format!("Bad request - {}", r.body_text()),
            )
        }
    };
    let params = match request_params(&method, &headers, query.as_deref(), &body) {
        Ok(p) => p,
        Err(message) => {
            return bad_request(&help, "Bad request - JSON Error", message);
        }
    };
    let call = Call {
        s: &s,
        caller: &caller,
        params,
    };
    let outcome = match name.as_str() {
        "package_search" => search::package_search(&call).await.map(Reply::Json),
        other => other_action(&call, other).await.map(Reply::Value),
    };
    match outcome {
        Ok(Reply::Value(result)) => {
            // Moved in, not copied as `json!` would.
            let mut envelope = serde_json::Map::new();
            envelope.insert("help".into(), help.into());
            envelope.insert("success".into(), true.into());
            envelope.insert("result".into(), result);
            (StatusCode::OK, Json(Value::Object(envelope))).into_response()
        }
        Ok(Reply::Json(result)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            format!(
                "{{\"help\":{},\"success\":true,\"result\":{result}}}",
                Value::from(help)
            ),
        )
            .into_response(),
        Err(e) => e.respond(&help),
    }
}

/// What an action answers: a value, or JSON text already written.
enum Reply {
    Value(Value),
    Json(String),
}

async fn other_action(call: &Call<'_>, name: &str) -> CkanResult<Value> {
    let s = call.s;
    match name {
        "package_list" => package::package_list(call).await,
        "package_show" => package::package_show(call).await,
        "current_package_list_with_resources" => package::current_with_resources(call).await,
        "resource_show" => package::resource_show(call).await,
        "organization_list" => package::organization_list(call).await,
        "organization_show" => package::organization_show(call).await,
        "group_list" => package::group_list(call).await,
        "group_show" => package::group_show(call).await,
        "tag_list" => package::tag_list(call).await,
        "datastore_search" => datastore::datastore_search(call).await,
        "status_show" => Ok(status_show(s)),
        "site_read" => Ok(Value::Bool(true)),
        _ => help_show(call),
    }
}

fn help_url(s: &AppState, name: &str) -> String {
    let name: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!(
        "{}/api/3/action/help_show?name={name}",
        s.config.public_url.trim_end_matches('/')
    )
}

fn status_show(s: &AppState) -> Value {
    json!({
        "site_title": "公共数据开放平台 Open Data Portal",
        "site_description": "公数 Gongshu：公共数据开放目录 / the open public data catalog",
        "site_url": s.config.public_url.trim_end_matches('/'),
        "ckan_version": CKAN_VERSION,
        "error_emails_to": Value::Null,
        "locale_default": "zh_Hans_CN",
        "extensions": [],
    })
}

fn help_show(call: &Call<'_>) -> Result<Value, CkanError> {
    let name = call.params.required_str("name")?;
    ACTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, doc)| Value::String((*doc).to_string()))
        .ok_or_else(|| CkanError::not_found(format!("没有动作“{name}” / no action '{name}'")))
}

/// The parameters of a call: a JSON object, whatever way they came.
#[derive(Debug, Default)]
pub(crate) struct Params(pub Map<String, Value>);

/// Reads the parameters as CKAN does: a JSON object body; a form (or a form whose
/// one key is a JSON object); else the query string. Repeated keys become lists.
fn request_params(
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<Params, String> {
    let has_body = *method != Method::GET && !body.iter().all(u8::is_ascii_whitespace);
    if !has_body {
        return Ok(Params(pairs_to_map(query.unwrap_or_default().as_bytes())));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/") {
        return Err(
            "Bad request - JSON Error: multipart bodies are not accepted; send a JSON object"
                .into(),
        );
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let form = pairs_to_map(body);
        let single_json_key = form.len() == 1
            && form
                .values()
                .next()
                .is_some_and(|v| v.as_str().is_some_and(|s| s.is_empty() || s == "1"));
        if single_json_key {
            let key = form.keys().next().cloned().unwrap_or_default();
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&key) {
                return Ok(Params(m));
            }
        }
        return Ok(Params(form));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(Params(m)),
        Ok(other) => Err(format!(
            "Bad request - JSON Error: Request data JSON decoded to {other} but it needs to be a dictionary."
        )),
        Err(e) => Err(format!(
            "Bad request - JSON Error: Error decoding JSON data. Error: {e}"
        )),
    }
}

fn pairs_to_map(raw: &[u8]) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, v) in form_urlencoded::parse(raw) {
        let v = Value::String(v.into_owned());
        match map.get_mut(k.as_ref()) {
            Some(Value::Array(list)) => list.push(v),
            Some(first) => {
                let first = first.take();
                map.insert(k.into_owned(), Value::Array(vec![first, v]));
            }
            None => {
                map.insert(k.into_owned(), v);
            }
        }
    }
    map
}

impl Params {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// A text parameter; numbers and booleans are taken as their text.
    pub fn str(&self, key: &str) -> Result<Option<String>, CkanError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(CkanError::validation(
                key,
                format!("参数 {key} 须为文本 / {key} must be a string"),
            )),
        }
    }

    /// A text parameter that must be given and not blank.
    pub fn required_str(&self, key: &str) -> Result<String, CkanError> {
        match self.str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(CkanError::validation(
                key,
                format!("缺少参数 {key} / Missing value"),
            )),
        }
    }

    /// The first of several names of a text parameter that is given.
    pub fn first_str(&self, keys: &[&str]) -> Result<Option<String>, CkanError> {
        for k in keys {
            if let Some(s) = self.str(k)? {
                if !s.trim().is_empty() {
                    return Ok(Some(s.trim().to_string()));
                }
            }
        }
        Ok(None)
    }

    /// A non-negative integer (a JSON number or its text).
    pub fn natural(&self, key: &str) -> Result<Option<u64>, CkanError> {
        let invalid = || {
            CkanError::validation(
                key,
                format!("参数 {key} 须为非负整数 / Must be a natural number"),
            )
        };
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(invalid),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| invalid()),
            Some(_) => Err(invalid()),
        }
    }

    /// An integer that may be negative (`facet.limit=-1`).
    pub fn integer(&self, key: &str) -> Result<Option<i64>, CkanError> {
        let invalid =
            || CkanError::validation(key, format!("参数 {key} 须为整数 / Invalid integer"));
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| invalid()),
            Some(_) => Err(invalid()),
        }
    }

    /// A boolean: JSON true/false, or true/false, yes/no, on/off, 1/0 as text.
    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, CkanError> {
        let invalid = || {
            CkanError::validation(
                key,
                format!("参数 {key} 须为布尔值 / Value must be one of: true, false"),
            )
        };
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Number(n)) => Ok(n.as_i64().unwrap_or(0) != 0),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(default),
                "true" | "yes" | "on" | "1" | "t" | "y" => Ok(true),
                "false" | "no" | "off" | "0" | "f" | "n" => Ok(false),
                _ => Err(invalid()),
            },
            Some(_) => Err(invalid()),
        }
    }

    /// A list of texts: a JSON list, a JSON list in text, repeated keys, or one
    /// comma-separated text.
    pub fn list(&self, key: &str) -> Result<Option<Vec<String>>, CkanError> {
        let invalid = || {
            CkanError::validation(
                key,
                format!("参数 {key} 须为文本列表 / {key} must be a list of strings"),
            )
        };
        let strings = |items: &[Value]| -> Result<Vec<String>, CkanError> {
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.trim().to_string()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(invalid()),
                })
                .collect()
        };
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => strings(items).map(Some),
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.starts_with('[') {
                    match serde_json::from_str::<Value>(t) {
                        Ok(Value::Array(items)) => strings(&items).map(Some),
                        _ => Err(invalid()),
                    }
                } else if t.is_empty() {
                    Ok(Some(Vec::new()))
                } else {
                    Ok(Some(
                        t.split(',')
                            .map(|p| p.trim().to_string())
                            .filter(|p| !p.is_empty())
                            .collect(),
                    ))
                }
            }
            Some(_) => Err(invalid()),
        }
    }

    /// A JSON object parameter: an object, or an object in text.
    pub fn object(&self, key: &str) -> Result<Option<Map<String, Value>>, CkanError> {
        let invalid = || {
            CkanError::validation(
                key,
                format!("参数 {key} 须为 JSON 对象 / {key} must be a JSON object"),
            )
        };
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => Ok(Some(m)),
                _ => Err(invalid()),
            },
            Some(_) => Err(invalid()),
        }
    }
}

/// A CKAN error: its HTTP status and its `error` object.
#[derive(Debug)]
pub(crate) struct CkanError {
    pub status: StatusCode,
    pub error: Map<String, Value>,
}

impl CkanError {
    fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        let mut error = Map::new();
        error.insert("__type".into(), kind.into());
        error.insert("message".into(), Value::String(message.into()));
        Self { status, error }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not Found Error",
            format!("Not found: {what}"),
        )
    }

    /// CKAN's validation error: 409, the message under the field at fault.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::new(StatusCode::CONFLICT, "Validation Error", message.clone());
        e.error.insert(field.into(), json!([message]));
        e
    }

    fn respond(self, help: &str) -> Response {
        (
            self.status,
            Json(json!({ "help": help, "success": false, "error": self.error })),
        )
            .into_response()
    }
}

fn bad_request(help: &str, kind: &str, message: impl Into<String>) -> Response {
    CkanError::new(StatusCode::BAD_REQUEST, kind, message).respond(help)
}

impl From<ServiceError> for CkanError {
    fn from(e: ServiceError) -> Self {
        let text = format!("{} / {}", e.message, e.message_en);
        let mut out = match (e.kind, e.code.as_str()) {
            // A dataset with no rows mounted has no datastore table, as in CKAN.
            (_, "open.no_data") | (ErrorKind::NotFound, _) => Self::not_found(&text),
            (ErrorKind::Denied | ErrorKind::Unauthenticated, _) => Self::new(
                StatusCode::FORBIDDEN,
                "Authorization Error",
                format!("Access denied: {text}"),
            ),
            (ErrorKind::Invalid | ErrorKind::Conflict, _) => {
                Self::validation(e.field.as_deref().unwrap_or("message"), text)
            }
            (ErrorKind::Locked, _) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "Rate Limit Error", text)
            }
            (ErrorKind::Internal, _) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Internal Server Error",
                text,
            ),
        };
        out.error.insert("code".into(), Value::String(e.code));
        out
    }
}

pub(crate) type CkanResult<T> = Result<T, CkanError>;
