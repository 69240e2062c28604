//! OPN-5, OPN-6: releases of data that is not open — preview (k and a sample,
//! nothing published), prepare, the authority's decision, refresh, withdrawal.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongshu_services::releases::{
    self, ReleaseDecision, ReleaseInput, ReleasePreview, ReleaseQuery, ReleaseSource, ReleaseView,
    ReleaseWithdrawal,
};
use gongshu_store::OpenRelease;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// OPN-5: the department's published entries a release can be made from, with the
/// rules each item can take.
#[utoipa::path(get, path = "/api/v1/open-releases/sources", tag = "open",
    responses((status = 200, body = Vec<ReleaseSource>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sources(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ReleaseSource>>> {
    Ok(Json(releases::sources(&s.app, &ctx).await?))
}

/// OPN-6: what a release would be — its items, k over the quasi-identifiers, rows
/// dropped and a sample — without preparing or publishing anything. The read of
/// the source is recorded at the egress gate.
#[utoipa::path(post, path = "/api/v1/open-releases/preview", tag = "open", request_body = ReleaseInput,
    responses((status = 200, body = ReleasePreview), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn preview(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<ReleaseInput>,
) -> ApiResult<Json<ReleasePreview>> {
    Ok(Json(releases::preview(&s.app, &ctx, input).await?))
}

/// OPN-5, OPN-6: the source department prepares a release for the authority;
/// refused below k (409 `release.k_too_low`).
#[utoipa::path(post, path = "/api/v1/open-releases", tag = "open", request_body = ReleaseInput,
    responses((status = 201, body = OpenRelease), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn prepare(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<ReleaseInput>,
) -> ApiResult<(StatusCode, Json<OpenRelease>)> {
    let r = releases::prepare(&s.app, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// OPN-5: the releases the caller deals with (all for the authority), newest first.
#[utoipa::path(get, path = "/api/v1/open-releases", tag = "open", params(ReleaseQuery),
    responses((status = 200, body = Vec<OpenRelease>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ReleaseQuery>,
) -> ApiResult<Json<Vec<OpenRelease>>> {
    Ok(Json(releases::list(&s.app, &ctx, q).await?))
}

/// OPN-5: one release version with the versions of its series.
#[utoipa::path(get, path = "/api/v1/open-releases/{id}", tag = "open", params(("id" = String, Path)),
    responses((status = 200, body = ReleaseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReleaseView>> {
    Ok(Json(releases::get(&s.app, &ctx, &id).await?))
}

/// OPN-5: the authority approves a release (its rows are checked again and
/// published under a derived open catalog entry) or returns it with a reason.
#[utoipa::path(post, path = "/api/v1/open-releases/{id}/decision", tag = "open", params(("id" = String, Path)),
    request_body = ReleaseDecision,
    responses((status = 200, body = OpenRelease), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(d): ApiJson<ReleaseDecision>,
) -> ApiResult<Json<OpenRelease>> {
    Ok(Json(releases::decide(&s.app, &ctx, &id, d).await?))
}

/// OPN-6 (JY 28): a new version of a published release from the source's current
/// data, with its own k check; below k the previous version stays (409).
#[utoipa::path(post, path = "/api/v1/open-releases/{id}/refresh", tag = "open", params(("id" = String, Path)),
    responses((status = 201, body = OpenRelease), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn refresh(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<OpenRelease>)> {
    let r = releases::refresh(&s.app, &ctx, &id).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// OPN-5: withdraws a release: a published one leaves the open catalog.
#[utoipa::path(post, path = "/api/v1/open-releases/{id}/withdraw", tag = "open", params(("id" = String, Path)),
    request_body = ReleaseWithdrawal,
    responses((status = 200, body = OpenRelease), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn withdraw(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(w): ApiJson<ReleaseWithdrawal>,
) -> ApiResult<Json<OpenRelease>> {
    Ok(Json(releases::withdraw(&s.app, &ctx, &id, w).await?))
}
