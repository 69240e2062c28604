//! OPN-8 (HZ 30, HZ 36, XJ 31, JY 26): yearly open plans and priority domains. The
//! public reads the level's published plan and the year's priorities without an
//! account; a body files its own plan; the authority reviews plans and publishes
//! the priorities.
use axum::extract::{Path, State};
use axum::Json;
use gongshu_services::open_plans::{
    self, LevelPlan, PlanInput, PlanQuery, PlanView, PrioritiesInput, PrioritiesView, ReviewInput,
    YearQuery,
};

use gongshu_services::ServiceError;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// OPN-8 (HZ 36): the level's yearly open plan as published: the year's priority
/// domains and every accepted plan with its progress against the open catalog. The
/// authority a level up gathers it from here. No login.
#[utoipa::path(get, path = "/api/v1/open/plans", tag = "open", params(YearQuery),
    responses((status = 200, body = LevelPlan), (status = 400, body = ErrorBody)))]
pub async fn level_plan(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<LevelPlan>> {
    Ok(Json(open_plans::level_plan(&s.app, q.year).await?))
}

/// OPN-8 (HZ 30, XJ 31): the year's priority domains — as the authority published
/// them with what it heard, or the default list (`published` false). No login.
#[utoipa::path(get, path = "/api/v1/open/priorities", tag = "open", params(YearQuery),
    responses((status = 200, body = PrioritiesView), (status = 400, body = ErrorBody)))]
pub async fn priorities(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<PrioritiesView>> {
    Ok(Json(open_plans::priorities(&s.app, q.year).await?))
}

/// OPN-8: the plans of a year with their progress: the caller's body's own, or all
/// of them for the authority.
#[utoipa::path(get, path = "/api/v1/open-plans", tag = "open", params(PlanQuery),
    responses((status = 200, body = [PlanView]), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<PlanQuery>,
) -> ApiResult<Json<Vec<PlanView>>> {
    Ok(Json(open_plans::list(&s.app, &ctx, q).await?))
}

/// OPN-8 (HZ 36): the body saves its yearly plan (`file` false) or files it with the
/// authority (`file` true); one plan per body and year, replaced by each save. Only
/// the body itself (`open.review` on its organisation). A filed plan cannot change
/// until answered (409 `open_plan.under_review`); a save that only links planned
/// datasets to their catalog entries keeps an accepted plan accepted.
#[utoipa::path(post, path = "/api/v1/open-plans", tag = "open", request_body = PlanInput,
    responses((status = 200, body = PlanView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn save(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<PlanInput>,
) -> ApiResult<Json<PlanView>> {
    let plan = open_plans::save(&s.app, &ctx, input).await?;
    Ok(Json(open_plans::get(&s.app, &ctx, &plan.id).await?))
}

/// OPN-8: one plan, for its body or the authority.
#[utoipa::path(get, path = "/api/v1/open-plans/{id}", tag = "open",
    params(("id" = String, Path)),
    responses((status = 200, body = PlanView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(open_plans::get(&s.app, &ctx, &id).await?))
}

/// OPN-8 (HZ 36): the authority (`open.coordinate`) accepts a filed plan — it joins
/// the published level plan — or returns it with reasons (required).
#[utoipa::path(post, path = "/api/v1/open-plans/{id}/review", tag = "open",
    params(("id" = String, Path)), request_body = ReviewInput,
    responses((status = 200, body = PlanView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn review(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> ApiResult<Json<PlanView>> {
    let plan = open_plans::review(&s.app, &ctx, &id, input).await?;
    Ok(Json(open_plans::get(&s.app, &ctx, &plan.id).await?))
}

/// OPN-8 (HZ 30, XJ 31): the authority publishes the year's priority domains with
/// what it heard from the sector authorities and from the public (both required);
/// publishing again replaces them. The portal's home shows this year's.
#[utoipa::path(put, path = "/api/v1/open-priorities/{year}", tag = "open",
    params(("year" = i32, Path)), request_body = PrioritiesInput,
    responses((status = 200, body = PrioritiesView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn publish_priorities(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(year): Path<String>,
    ApiJson(input): ApiJson<PrioritiesInput>,
) -> ApiResult<Json<PrioritiesView>> {
    let year: i32 = year.trim().parse().map_err(|_| {
        ServiceError::invalid(
            "open_plan.bad_year",
            "year",
            format!("年度“{year}”须为四位数字"),
            format!("the year '{year}' must be four digits"),
        )
    })?;
    let p = open_plans::publish_priorities(&s.app, &ctx, year, input).await?;
    Ok(Json(open_plans::priorities(&s.app, Some(p.year)).await?))
}
