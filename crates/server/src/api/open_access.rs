//! OPN-3, OPN-4: developer keys for the public, applications for data open on
//! conditions, their review by the source and the authority, and the data use
//! agreement the applicant accepts before the key unlocks the data.
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use gongshu_domain::open::AGREEMENT_VERSION;
use gongshu_services::open_access::{
    self, DeveloperKeyView, NewDeveloperKey, NewOpenApplication, ReviewDecision,
};
use gongshu_services::Ctx;
use gongshu_store::{DeveloperKey, OpenApplication};
use serde::{Deserialize, Serialize};

use crate::api::open::PublicCaller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// A member of the public who presented a valid developer key.
pub struct KeyHolder {
    pub ctx: Ctx,
    pub key: DeveloperKey,
}

impl FromRequestParts<AppState> for KeyHolder {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let caller = PublicCaller::from_request_parts(parts, s).await?;
        match caller.key {
            Some(key) => Ok(KeyHolder {
                ctx: caller.ctx,
                key,
            }),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "open.key_required",
                "请提供开发者密钥（请求头 X-Api-Key）",
                "send your developer key in the X-Api-Key header",
            )),
        }
    }
}

/// A key as issued: the secret is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedKey {
    pub key: DeveloperKeyView,
    /// Keep it: only its hash is stored. Send it as `X-Api-Key`.
    pub secret: String,
}

/// OPN-3: issues a developer key to a natural person, legal person or organisation.
#[utoipa::path(post, path = "/api/v1/open/keys", tag = "open", request_body = NewDeveloperKey,
    responses((status = 201, body = IssuedKey), (status = 400, body = ErrorBody)))]
pub async fn issue_key(
    State(s): State<AppState>,
    caller: PublicCaller,
    ApiJson(input): ApiJson<NewDeveloperKey>,
) -> ApiResult<(StatusCode, Json<IssuedKey>)> {
    let (key, secret) = open_access::issue_key(&s.app, &caller.ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedKey {
            key: DeveloperKeyView::from(&key),
            secret,
        }),
    ))
}

/// OPN-4: the key holder applies for a dataset open on conditions.
#[utoipa::path(post, path = "/api/v1/open/datasets/{code}/applications", tag = "open",
    params(("code" = String, Path)), request_body = NewOpenApplication,
    responses((status = 201, body = OpenApplication), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn apply(
    State(s): State<AppState>,
    holder: KeyHolder,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<NewOpenApplication>,
) -> ApiResult<(StatusCode, Json<OpenApplication>)> {
    let a = open_access::apply(&s.app, &holder.ctx, &holder.key, &code, input).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// OPN-4: the key holder's applications, newest first.
#[utoipa::path(get, path = "/api/v1/open/applications", tag = "open",
    responses((status = 200, body = Vec<OpenApplication>), (status = 401, body = ErrorBody)))]
pub async fn my_applications(
    State(s): State<AppState>,
    holder: KeyHolder,
) -> ApiResult<Json<Vec<OpenApplication>>> {
    Ok(Json(open_access::list_for_key(&s.app, &holder.key).await?))
}

/// The agreement offered on an approved application.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgreementOffer {
    pub version: String,
    pub text: String,
}

/// An application as its applicant sees it, with the agreement to accept once approved.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    pub application: OpenApplication,
    pub agreement: Option<AgreementOffer>,
}

/// OPN-4: one of the key holder's applications.
#[utoipa::path(get, path = "/api/v1/open/applications/{id}", tag = "open", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn my_application(
    State(s): State<AppState>,
    holder: KeyHolder,
    Path(id): Path<String>,
) -> ApiResult<Json<ApplicationView>> {
    let application = open_access::get_for_key(&s.app, &holder.key, &id).await?;
    let agreement = open_access::agreement_for(&s.app, &holder.key, &application)
        .await?
        .map(|text| AgreementOffer {
            version: AGREEMENT_VERSION.into(),
            text,
        });
    Ok(Json(ApplicationView {
        application,
        agreement,
    }))
}

/// The applicant's acceptance of the data use agreement.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementInput {
    /// The version read, as offered.
    pub version: String,
    /// Must be true.
    pub accept: bool,
}

/// OPN-4 (HZ 37): the applicant accepts the data use agreement; from then on the key
/// reads the dataset through the egress gate.
#[utoipa::path(post, path = "/api/v1/open/applications/{id}/agreement", tag = "open", params(("id" = String, Path)),
    request_body = AgreementInput,
    responses((status = 200, body = OpenApplication), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_agreement(
    State(s): State<AppState>,
    holder: KeyHolder,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AgreementInput>,
) -> ApiResult<Json<OpenApplication>> {
    if !input.accept {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "open.agreement_not_accepted",
            "须同意数据利用协议",
            "the agreement must be accepted",
        ));
    }
    Ok(Json(
        open_access::accept_agreement(&s.app, &holder.ctx, &holder.key, &id, &input.version)
            .await?,
    ))
}

/// Which applications to list in the console.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReviewListQuery {
    /// Only applications in this status.
    pub status: Option<String>,
}

/// OPN-4: the applications the caller reviews (the source department's own; all
/// for the authority).
#[utoipa::path(get, path = "/api/v1/open-applications", tag = "open", params(ReviewListQuery),
    responses((status = 200, body = Vec<OpenApplication>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn review_list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ReviewListQuery>,
) -> ApiResult<Json<Vec<OpenApplication>>> {
    Ok(Json(
        open_access::list(&s.app, &ctx, q.status.as_deref()).await?,
    ))
}

/// OPN-4 (HZ 37, XJ 29): the source's review, then the authority's; a refusal gives
/// its reasons.
#[utoipa::path(post, path = "/api/v1/open-applications/{id}/review", tag = "open", params(("id" = String, Path)),
    request_body = ReviewDecision,
    responses((status = 200, body = OpenApplication), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewDecision>,
) -> ApiResult<Json<OpenApplication>> {
    Ok(Json(open_access::review(&s.app, &ctx, &id, input).await?))
}

/// A suspension, resumption or revocation, with its reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[serde(default)]
    pub reason: String,
}

/// OPN-4: the source or the authority suspends an application in force.
#[utoipa::path(post, path = "/api/v1/open-applications/{id}/suspend", tag = "open", params(("id" = String, Path)),
    request_body = ReasonInput,
    responses((status = 200, body = OpenApplication), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn suspend(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReasonInput>,
) -> ApiResult<Json<OpenApplication>> {
    Ok(Json(
        open_access::set_suspended(&s.app, &ctx, &id, true, &input.reason).await?,
    ))
}

/// OPN-4: a suspended application is in force again.
#[utoipa::path(post, path = "/api/v1/open-applications/{id}/resume", tag = "open", params(("id" = String, Path)),
    request_body = ReasonInput,
    responses((status = 200, body = OpenApplication), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReasonInput>,
) -> ApiResult<Json<OpenApplication>> {
    Ok(Json(
        open_access::set_suspended(&s.app, &ctx, &id, false, &input.reason).await?,
    ))
}

/// OPN-3: the holder revokes the key it presents.
#[utoipa::path(post, path = "/api/v1/open/keys/revoke", tag = "open", request_body = ReasonInput,
    responses((status = 200, body = DeveloperKeyView), (status = 401, body = ErrorBody)))]
pub async fn revoke_own_key(
    State(s): State<AppState>,
    holder: KeyHolder,
    ApiJson(input): ApiJson<ReasonInput>,
) -> ApiResult<Json<DeveloperKeyView>> {
    let k = open_access::revoke_key(&s.app, &holder.ctx, &holder.key, &input.reason).await?;
    Ok(Json(DeveloperKeyView::from(&k)))
}

/// OPN-3: the authority revokes a key (misuse).
#[utoipa::path(post, path = "/api/v1/open-keys/{id}/revoke", tag = "open", params(("id" = String, Path)),
    request_body = ReasonInput,
    responses((status = 200, body = DeveloperKeyView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_key(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReasonInput>,
) -> ApiResult<Json<DeveloperKeyView>> {
    let k = open_access::revoke_key_by_id(&s.app, &ctx, &id, &input.reason).await?;
    Ok(Json(DeveloperKeyView::from(&k)))
}
