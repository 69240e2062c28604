//! API tokens of consumer systems: issued once, stored hashed, expiring, revocable.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongshu_services::identity::{self, NewToken};
use gongshu_store::ApiToken;
use serde::{Deserialize, Serialize};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    pub org_id: Option<String>,
}

/// Tokens of an organisation (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(TokenQuery), responses((status = 200, body = [ApiToken]), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(
        identity::list_tokens(&s.app, &ctx, q.org_id.as_deref()).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: ApiToken,
    /// The bearer secret: shown this once, store it in the consumer system.
    pub secret: String,
}

/// Issues a token scoped to one organisation and a set of permissions the issuer holds there.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = IssuedToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let (token, secret) = identity::create_token(&s.app, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, secret })))
}

/// Revokes a token at once.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = ApiToken), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(identity::revoke_token(&s.app, &ctx, &id).await?))
}
