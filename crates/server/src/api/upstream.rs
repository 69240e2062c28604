//! COL-7 (XJ 13): reporting the catalog's data to the next level's platform node,
//! and receiving what the level below reports.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongshu_services::upstream::{
    self, IncomingReport, ReceiveAnswer, ReceivedView, ReportRun, UpstreamOverview,
};
use gongshu_store::UpstreamReport;
use serde::Deserialize;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

/// COL-7: every published entry with what was last reported of it upstream and what
/// the next run will do (the data authority's view).
#[utoipa::path(get, path = "/api/v1/upstream/reports", tag = "catalog",
    responses((status = 200, body = UpstreamOverview), (status = 403, body = ErrorBody)))]
pub async fn overview(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<UpstreamOverview>> {
    Ok(Json(upstream::overview(&s.app, &ctx).await?))
}

/// COL-7 (XJ 13): reports now every entry whose catalog or data version moved since
/// its last accepted report (the hourly job does the same). 409 when no upper node
/// is configured.
#[utoipa::path(post, path = "/api/v1/upstream/reports", tag = "catalog",
    responses((status = 200, body = ReportRun), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn report_now(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<ReportRun>> {
    Ok(Json(upstream::report_all(&s.app, &ctx).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExemptionInput {
    /// The upper-level system the entry's unit works on; null clears the exemption.
    pub system: Option<String>,
}

/// COL-7 (XJ 13): a unit using a system the upper level built need not report: the
/// authority marks its entry exempt (or clears the mark).
#[utoipa::path(put, path = "/api/v1/upstream/reports/{entry}/exemption", tag = "catalog",
    params(("entry" = String, Path, description = "Catalog entry id or code")),
    request_body = ExemptionInput,
    responses((status = 200, body = UpstreamReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_exemption(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(entry): Path<String>,
    ApiJson(input): ApiJson<ExemptionInput>,
) -> ApiResult<Json<UpstreamReport>> {
    Ok(Json(
        upstream::set_exemption(&s.app, &ctx, &entry, input.system.as_deref()).await?,
    ))
}

/// COL-7 (XJ 13): the level below reports one catalog entry here, with its token's
/// data authority as the reporter. The answer names the entry's code on this node;
/// its data then comes as an upload to `/api/v1/datasets/{code}/loads`.
#[utoipa::path(post, path = "/api/v1/upstream/received", tag = "catalog",
    request_body = IncomingReport,
    responses((status = 201, body = ReceiveAnswer, description = "New here"), (status = 200, body = ReceiveAnswer),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "An older version than one received, or this node's division is not configured")))]
pub async fn receive(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(incoming): ApiJson<IncomingReport>,
) -> ApiResult<(StatusCode, Json<ReceiveAnswer>)> {
    let answer = upstream::receive(&s.app, &ctx, incoming).await?;
    let status = if answer.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer)))
}

/// COL-7: the entries lower-level platforms reported here.
#[utoipa::path(get, path = "/api/v1/upstream/received", tag = "catalog",
    responses((status = 200, body = [ReceivedView]), (status = 403, body = ErrorBody)))]
pub async fn received(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ReceivedView>>> {
    Ok(Json(upstream::received(&s.app, &ctx).await?))
}
