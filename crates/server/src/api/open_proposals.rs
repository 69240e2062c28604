//! OPN-1 (HZ 31): the authority's proposals to change an entry's open type, the
//! source's answers and the government's decisions on disputes.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongshu_services::open_type_proposals::{
    self, GovernmentDecision, NewProposal, ProposalResponse, ProposalView,
};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

/// OPN-1 (HZ 31): the authority proposes another open type for a published entry.
#[utoipa::path(post, path = "/api/v1/catalog/{id}/open-type-proposals", tag = "open",
    params(("id" = String, Path, description = "Entry id or code")), request_body = NewProposal,
    responses((status = 201, body = ProposalView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn propose(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewProposal>,
) -> ApiResult<(StatusCode, Json<ProposalView>)> {
    let p = open_type_proposals::propose(&s.app, &ctx, &id, input).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// OPN-1: the proposals the caller deals with (all for the authority).
#[utoipa::path(get, path = "/api/v1/open-type-proposals", tag = "open",
    responses((status = 200, body = Vec<ProposalView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ProposalView>>> {
    Ok(Json(open_type_proposals::list(&s.app, &ctx).await?))
}

/// OPN-1 (HZ 31): the source agrees or disagrees with reasons.
#[utoipa::path(post, path = "/api/v1/open-type-proposals/{id}/response", tag = "open",
    params(("id" = String, Path)), request_body = ProposalResponse,
    responses((status = 200, body = ProposalView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn respond(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProposalResponse>,
) -> ApiResult<Json<ProposalView>> {
    Ok(Json(
        open_type_proposals::respond(&s.app, &ctx, &id, input).await?,
    ))
}

/// OPN-1 (HZ 31): the authority records the government's decision on a dispute.
#[utoipa::path(post, path = "/api/v1/open-type-proposals/{id}/decision", tag = "open",
    params(("id" = String, Path)), request_body = GovernmentDecision,
    responses((status = 200, body = ProposalView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<GovernmentDecision>,
) -> ApiResult<Json<ProposalView>> {
    Ok(Json(
        open_type_proposals::record_decision(&s.app, &ctx, &id, input).await?,
    ))
}
