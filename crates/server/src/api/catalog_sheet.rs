//! CAT-1: catalog entries in and out of spreadsheets: the XLSX template, an
//! all-or-nothing import with a row-by-row report, and XLSX / CSV exports.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongshu_services::catalog_sheet::{self, ImportReport};
use gongshu_store::CatalogFilter;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Caller};
use crate::state::AppState;

/// Largest spreadsheet accepted for import.
pub const MAX_SHEET_BYTES: usize = 16 * 1024 * 1024;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The Content-Disposition of a file download with an ASCII and a UTF-8 file name
/// (RFC 6266).
pub fn disposition(ascii_name: &str, utf8_name: &str) -> String {
    let encoded: String = utf8_name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}")
}

/// A file download with an ASCII and a UTF-8 file name (RFC 6266).
pub fn download(
    content_type: &'static str,
    ascii_name: &str,
    utf8_name: &str,
    bytes: impl IntoResponse,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                disposition(ascii_name, utf8_name),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The import template (XLSX, Chinese headings, a guide sheet with allowed values).
#[utoipa::path(get, path = "/api/v1/catalog/template.xlsx", tag = "catalog",
    responses((status = 200, description = "XLSX file", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn template(Caller(_ctx): Caller) -> ApiResult<Response> {
    let bytes = catalog_sheet::template_xlsx()?;
    Ok(download(
        XLSX,
        "catalog-template.xlsx",
        "资源目录导入模板.xlsx",
        bytes,
    ))
}

/// Imports the entries of an XLSX (request body: the file) as drafts of the caller's
/// department: all rows or none. 200 with the new codes, or 422 with every problem
/// by row and column.
#[utoipa::path(post, path = "/api/v1/catalog/import", tag = "catalog",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = ImportReport), (status = 422, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ImportReport>)> {
    let report = catalog_sheet::import_xlsx(&s.app, &ctx, &body).await?;
    let status = if report.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report)))
}

/// The entries matching the filter as XLSX (importable again).
#[utoipa::path(get, path = "/api/v1/catalog/export.xlsx", tag = "catalog", params(CatalogFilter),
    responses((status = 200, description = "XLSX file", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export_xlsx(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(filter): ApiQuery<CatalogFilter>,
) -> ApiResult<Response> {
    let bytes = catalog_sheet::export_xlsx(&s.app, &ctx, filter).await?;
    Ok(download(XLSX, "catalog.xlsx", "资源目录.xlsx", bytes))
}

/// The entries matching the filter as CSV (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/v1/catalog/export.csv", tag = "catalog", params(CatalogFilter),
    responses((status = 200, description = "CSV file", content_type = "text/csv")))]
pub async fn export_csv(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(filter): ApiQuery<CatalogFilter>,
) -> ApiResult<Response> {
    let bytes = catalog_sheet::export_csv(&s.app, &ctx, filter).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        "catalog.csv",
        "资源目录.csv",
        bytes,
    ))
}
