//! OPN-11 (JY 29), SUP-8 (XJ 41), OPN-10: how much open data is used — per dataset,
//! per source department and for the platform — and the products built on it.
//! The figures and the published products are public; anyone submits a product;
//! the authority reviews them and exports the departments' figures.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use gongshu_services::open;
use gongshu_services::open_showcase::{
    self, NewShowcase, PublicShowcase, PublicShowcaseQuery, ShowcaseDecision, ShowcaseQuery,
    ShowcaseRecord, SubmittedShowcase,
};
use gongshu_services::open_usage::{self, DatasetUsageReport, UsageQuery, UsageSummary};

use crate::api::open::PublicCaller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// OPN-11 (JY 29): the use of open data: platform totals, every department (the sum
/// over its datasets) and the most used datasets; with `source_org_id`, one
/// department and all its datasets. Totals and the last 30 days, with a daily series.
#[utoipa::path(get, path = "/api/v1/open/usage", tag = "open", params(UsageQuery),
    responses((status = 200, body = UsageSummary), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn summary(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> ApiResult<Json<UsageSummary>> {
    Ok(Json(open_usage::summary(&s.app, q).await?))
}

/// OPN-11 (JY 29): the use of one open dataset: page views, API calls, downloads
/// and rows served, in total and over the last 30 days, with its daily series.
#[utoipa::path(get, path = "/api/v1/open/datasets/{code}/usage", tag = "open",
    params(("code" = String, Path, description = "Resource code")),
    responses((status = 200, body = DatasetUsageReport), (status = 404, body = ErrorBody)))]
pub async fn dataset(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<DatasetUsageReport>> {
    let catalog = open::catalog(&s.app).await?;
    let ds = catalog.find(&code)?;
    Ok(Json(open_usage::dataset_usage(&s.app, ds).await?))
}

/// OPN-11 (JY 29): every department's figures as CSV (UTF-8 with a BOM), most used
/// first, with a total line; for the authority.
#[utoipa::path(get, path = "/api/v1/open-usage/departments.csv", tag = "open",
    responses((status = 200, description = "CSV file", content_type = "text/csv"),
        (status = 403, body = ErrorBody)))]
pub async fn departments_csv(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Response> {
    let bytes = open_usage::departments_csv(&s.app, &ctx).await?;
    Ok(crate::api::catalog_sheet::download(
        "text/csv; charset=utf-8",
        "open-data-usage.csv",
        "开放数据使用情况.csv",
        bytes,
    ))
}

/// SUP-8, OPN-10: anyone submits a product built on open data — name, description,
/// address, kind, the open datasets it uses (each in the open catalog) and who built
/// it — confirming that it cites their source and the date obtained (XJ 32). It is
/// shown once the authority publishes it.
#[utoipa::path(post, path = "/api/v1/open/apps", tag = "open", request_body = NewShowcase,
    responses((status = 201, body = SubmittedShowcase), (status = 400, body = ErrorBody),
        (status = 423, body = ErrorBody)))]
pub async fn submit(
    State(s): State<AppState>,
    caller: PublicCaller,
    ApiJson(input): ApiJson<NewShowcase>,
) -> ApiResult<(StatusCode, Json<SubmittedShowcase>)> {
    let (showcase, datasets) =
        open_showcase::submit(&s.app, &caller.ctx, &caller.reader.bucket, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(open_showcase::submitted(&showcase, datasets)),
    ))
}

/// SUP-8: the published products built on open data, newest first; with
/// `dataset`, those using that dataset.
#[utoipa::path(get, path = "/api/v1/open/apps", tag = "open", params(PublicShowcaseQuery),
    responses((status = 200, body = Vec<PublicShowcase>), (status = 404, body = ErrorBody)))]
pub async fn published(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<PublicShowcaseQuery>,
) -> ApiResult<Json<Vec<PublicShowcase>>> {
    Ok(Json(open_showcase::published(&s.app, q).await?))
}

/// SUP-8: every submitted product with the submitter's contact, newest first; for
/// the authority.
#[utoipa::path(get, path = "/api/v1/open-apps", tag = "open", params(ShowcaseQuery),
    responses((status = 200, body = Vec<ShowcaseRecord>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ShowcaseQuery>,
) -> ApiResult<Json<Vec<ShowcaseRecord>>> {
    Ok(Json(open_showcase::list(&s.app, &ctx, q).await?))
}

/// SUP-8: the authority publishes a product, rejects it, or withdraws a published
/// one (a rejection or a withdrawal gives its reason).
#[utoipa::path(post, path = "/api/v1/open-apps/{id}/decision", tag = "open",
    params(("id" = String, Path)), request_body = ShowcaseDecision,
    responses((status = 200, body = ShowcaseRecord), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn decide(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ShowcaseDecision>,
) -> ApiResult<Json<ShowcaseRecord>> {
    Ok(Json(open_showcase::decide(&s.app, &ctx, &id, input).await?))
}
