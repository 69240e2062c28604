//! COL-8: social data the data authority buys once for every department or
//! connects under an authorisation.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gongshu_services::social_data::{self, AgreementStatus, NewSocialDataAgreement};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

/// COL-8: every agreement over social data, newest term first, with the entries it carries.
#[utoipa::path(get, path = "/api/v1/social-data", tag = "catalog",
    responses((status = 200, body = [AgreementStatus]), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<AgreementStatus>>> {
    Ok(Json(social_data::list(&s.app, &ctx).await?))
}

/// COL-8 (HZ 17): the data authority records a purchase or authorisation of social
/// data and the catalog entries of its own that carry it. The same entry cannot be
/// held under two agreements whose terms share a day.
#[utoipa::path(post, path = "/api/v1/social-data", tag = "catalog",
    request_body = NewSocialDataAgreement,
    responses((status = 201, body = AgreementStatus), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn record(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewSocialDataAgreement>,
) -> ApiResult<(StatusCode, Json<AgreementStatus>)> {
    let agreement = social_data::record(&s.app, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(agreement)))
}
