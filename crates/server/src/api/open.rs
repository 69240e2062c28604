//! The open data portal's machine side (OPN-2, OPN-3, OPN-7, OPN-10): search of the
//! open catalog, each dataset's metadata and served schema, its rows page by page,
//! and its files — CSV, JSON lines, XLSX, Parquet, each also bundled with its
//! Frictionless Data Package. No login; reads are rate-limited per address, and go
//! through the egress gate, which records each one.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongshu_domain::permissions::Principal;
use gongshu_services::datasets::ExportFormat;
use gongshu_services::egress::{self, OpenPage, OpenQuery, PublicReader, Spooled};
use gongshu_services::open::{self, OpenCatalog, OpenDataset, OpenSearch, OpenSearchPage};
use gongshu_services::open_access;
use gongshu_services::{Ctx, ServiceError};
use gongshu_store::DeveloperKey;
use serde::{Deserialize, Serialize};

use crate::api::sharing::{conditions, list, spooled_body};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{request_id, ApiQuery};
use crate::state::AppState;

/// A member of the public: no account; rate-limited by address, or by developer key
/// when one is presented (header `X-Api-Key`, or the portal's key cookie). A key
/// that is presented but unknown or revoked is refused, never read as anonymous.
pub struct PublicCaller {
    pub ctx: Ctx,
    pub reader: PublicReader,
    pub key: Option<DeveloperKey>,
    /// The open catalog, read with the key when one was presented.
    catalog: Option<Arc<OpenCatalog>>,
}

impl PublicCaller {
    /// The open catalog as it stands: the one read with the caller's key, if any.
    pub async fn catalog(&self, s: &AppState) -> Result<Arc<OpenCatalog>, ApiError> {
        match &self.catalog {
            Some(c) => Ok(Arc::clone(c)),
            None => Ok(open::catalog(&s.app).await?),
        }
    }
}

/// The header a developer key is sent in.
pub const KEY_HEADER: &str = "x-api-key";
/// The cookie the portal keeps a developer key in, once the holder enters it.
pub const KEY_COOKIE: &str = "gs_open_key";

/// The developer key secret a request presents, if any.
pub fn presented_key(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .or_else(|| crate::extract::cookie(&parts.headers, KEY_COOKIE))
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for PublicCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let rid = request_id(parts);
        if let Some(secret) = presented_key(parts) {
            let (key, catalog) = open_access::key_and_catalog(&s.app, &secret).await?;
            return Ok(PublicCaller {
                ctx: Ctx::new(Principal::public(format!("open_key:{}", key.id)), rid),
                reader: PublicReader::with_key(&key.id),
                key: Some(key),
                catalog: Some(catalog),
            });
        }
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(PublicCaller {
            ctx: Ctx::new(Principal::public("public"), rid),
            reader: PublicReader::anonymous(&addr),
            key: None,
            catalog: None,
        })
    }
}

/// The portal's address of a dataset page.
pub fn dataset_url(s: &AppState, code: &str) -> String {
    format!(
        "{}/open/datasets/{code}",
        s.config.public_url.trim_end_matches('/')
    )
}

/// The files a dataset offers, by name under its page's address.
pub const FILES: [(&str, ExportFormat); 4] = [
    ("data.csv", ExportFormat::Csv),
    ("data.ndjson", ExportFormat::Json),
    ("data.xlsx", ExportFormat::Xlsx),
    ("data.parquet", ExportFormat::Parquet),
];

/// OPN-2, OPN-7: searches the open catalog (Chinese or English words, facets).
#[utoipa::path(get, path = "/api/v1/open/datasets", tag = "open", params(OpenSearch),
    responses((status = 200, body = OpenSearchPage), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<OpenSearch>,
) -> ApiResult<Json<OpenSearchPage>> {
    Ok(Json(open::search(&s.app, q).await?))
}

/// How to cite a dataset (OPN-10, XJ 32).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CitationView {
    pub zh: String,
    pub en: String,
}

/// One open dataset as the public sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenDatasetView {
    pub dataset: OpenDataset,
    /// `direct` (unconditional) or `application_required` (conditional, OPN-4).
    pub access: String,
    /// The Frictionless Table Schema of the served data (null with no data).
    #[schema(value_type = Option<Object>)]
    pub schema: Option<serde_json::Value>,
    pub citation: CitationView,
    /// Where the data is: `page`, `records`, `datapackage`, and each file format.
    pub links: std::collections::BTreeMap<String, String>,
}

pub(crate) async fn view(s: &AppState, ds: &OpenDataset) -> Result<OpenDatasetView, ServiceError> {
    let url = dataset_url(s, &ds.code);
    let schema = egress::open_schema(&s.app, ds)
        .await?
        .map(|served| open::table_schema(&served, ds));
    let cite = ds.citation(&url);
    let mut links = std::collections::BTreeMap::new();
    links.insert("page".to_string(), url.clone());
    links.insert(
        "records".to_string(),
        format!(
            "{}/api/v1/open/datasets/{}/records",
            s.config.public_url.trim_end_matches('/'),
            ds.code
        ),
    );
    links.insert("datapackage".to_string(), format!("{url}/datapackage.json"));
    for (file, format) in FILES {
        links.insert(format.extension().to_string(), format!("{url}/{file}"));
    }
    Ok(OpenDatasetView {
        access: if ds.is_direct() {
            "direct".into()
        } else {
            "application_required".into()
        },
        dataset: ds.clone(),
        schema,
        citation: CitationView {
            zh: cite.zh,
            en: cite.en,
        },
        links,
    })
}

/// OPN-7: one open dataset: metadata, data dictionary as served, how to cite it.
#[utoipa::path(get, path = "/api/v1/open/datasets/{code}", tag = "open",
    params(("code" = String, Path, description = "Resource code")),
    responses((status = 200, body = OpenDatasetView), (status = 404, body = ErrorBody)))]
pub async fn get_dataset(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<OpenDatasetView>> {
    let catalog = open::catalog(&s.app).await?;
    let ds = catalog.find(&code)?;
    Ok(Json(view(&s, ds).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    /// Items to include, comma-separated (default: all).
    pub fields: Option<String>,
    /// Conditions `item:value`, comma-separated, on items served clear.
    #[serde(rename = "where")]
    pub conditions: Option<String>,
    /// The cursor of the next page, from the previous page.
    pub after: Option<String>,
    /// Rows per page, 1–1000 (default 100).
    pub limit: Option<i64>,
}

/// OPN-3: an open dataset's rows, page by page, masked by the gate, recorded.
#[utoipa::path(get, path = "/api/v1/open/datasets/{code}/records", tag = "open",
    params(("code" = String, Path, description = "Resource code"), RecordsQuery),
    responses((status = 200, body = OpenPage), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn records(
    State(s): State<AppState>,
    caller: PublicCaller,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> ApiResult<Response> {
    let catalog = caller.catalog(&s).await?;
    let ds = catalog.find(&code)?;
    let query = OpenQuery {
        filters: conditions(q.conditions.as_deref())?,
        fields: list(q.fields.as_deref()),
        after: q.after,
        limit: q.limit.unwrap_or(100),
    };
    let page = egress::open_page(&s.app, &caller.ctx, ds, &caller.reader, query).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], page.to_json()).into_response())
}

fn file_response(name: &str, utf8_name: &str, content_type: &str, body: Spooled) -> Response {
    let mut headers = HeaderMap::new();
    let values = [
        (
            header::CONTENT_DISPOSITION,
            crate::api::catalog_sheet::disposition(name, utf8_name),
        ),
        (header::CONTENT_TYPE, content_type.to_string()),
        (header::CONTENT_LENGTH, body.len().to_string()),
    ];
    for (n, v) in values {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(n, v);
        }
    }
    (headers, spooled_body(body)).into_response()
}

fn unknown_file(file: &str) -> ApiError {
    ServiceError::invalid(
        "open.unknown_file",
        "file",
        format!("没有文件“{file}”：可用 data.csv、data.ndjson、data.xlsx、data.parquet、datapackage.json、package-csv.zip 等"),
        format!("no file '{file}': data.csv, data.ndjson, data.xlsx, data.parquet, datapackage.json, package-csv.zip …"),
    )
    .into()
}

/// OPN-3, OPN-7: a dataset's files: `data.{csv,ndjson,xlsx,parquet}`, the Data
/// Package descriptor `datapackage.json` (describing all four), and
/// `package-{csv,ndjson,xlsx,parquet}.zip`: one file bundled with its descriptor.
pub async fn file(
    State(s): State<AppState>,
    caller: PublicCaller,
    Path((code, file)): Path<(String, String)>,
) -> ApiResult<Response> {
    let catalog = caller.catalog(&s).await?;
    let ds = catalog.find(&code)?;
    let url = dataset_url(&s, &ds.code);
    if file == "datapackage.json" {
        let served = egress::open_schema(&s.app, ds).await?.ok_or_else(|| {
            ApiError::from(ServiceError::conflict(
                "open.no_data",
                format!("“{}”尚未挂接数据", ds.content.name),
                format!("'{}' has no data mounted yet", ds.content.name),
            ))
        })?;
        let resources = FILES
            .iter()
            .map(|(name, format)| open::package_resource(ds, &served, *format, name))
            .collect();
        return Ok(Json(open::data_package(ds, &url, resources)).into_response());
    }
    if let Some(ext) = file
        .strip_prefix("package-")
        .and_then(|f| f.strip_suffix(".zip"))
    {
        let format = FILES
            .iter()
            .map(|(_, f)| *f)
            .find(|f| f.extension() == ext)
            .ok_or_else(|| unknown_file(&file))?;
        let download =
            egress::open_download(&s.app, &caller.ctx, ds, &caller.reader, format).await?;
        let dataset = ds.clone();
        let (zipped, len) =
            tokio::task::spawn_blocking(move || open::zip_package(download, &dataset, &url))
                .await
                .map_err(|e| {
                    ApiError::from(ServiceError::conflict(
                        "open.package_failed",
                        e.to_string(),
                        e.to_string(),
                    ))
                })??;
        return Ok(file_response(
            &format!("{}-{ext}.zip", ds.code),
            &format!("{}-{ext}.zip", ds.content.name),
            "application/zip",
            Spooled::File { file: zipped, len },
        ));
    }
    let format = FILES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, f)| *f)
        .ok_or_else(|| unknown_file(&file))?;
    let d = egress::open_download(&s.app, &caller.ctx, ds, &caller.reader, format).await?;
    let ext = format.extension();
    let mut response = file_response(
        &format!("{}.{ext}", ds.code),
        &format!("{}.{ext}", ds.content.name),
        format.content_type(),
        d.body,
    );
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-gongshu-access", d.access_id),
        ("x-gongshu-rows", d.rows.to_string()),
        ("x-gongshu-sm3", d.response_hash),
        (
            "link",
            format!("<{url}/datapackage.json>; rel=\"describedby\""),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    Ok(response)
}
