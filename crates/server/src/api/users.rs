//! Users of organisations: create, read, disable, enable, reset password.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongshu_services::identity::{self, NewUser};
use gongshu_store::User;
use serde::{Deserialize, Serialize};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    pub org_id: Option<String>,
}

/// Users the caller may see.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery), responses((status = 200, body = [User]), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(
        identity::list_users(&s.app, &ctx, q.org_id.as_deref()).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    pub user: User,
    /// Present only when the password was generated: shown this once.
    pub generated_password: Option<String>,
}

/// Creates a user of an organisation (the caller must manage users of that organisation).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = CreatedUser), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    let (user, generated_password) = identity::create_user(&s.app, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user,
            generated_password,
        }),
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(identity::get_user(&s.app, &ctx, &id).await?))
}

/// Disables a user and ends its sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", params(("id" = String, Path)), responses((status = 200, body = User), (status = 403, body = ErrorBody)))]
pub async fn disable_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        identity::set_user_disabled(&s.app, &ctx, &id, true).await?,
    ))
}

/// Enables a disabled user.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", params(("id" = String, Path)), responses((status = 200, body = User), (status = 403, body = ErrorBody)))]
pub async fn enable_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        identity::set_user_disabled(&s.app, &ctx, &id, false).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// Generated when absent.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewPassword {
    pub password: String,
}

/// Sets a new password, unlocks the account and ends its sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users", params(("id" = String, Path)), request_body = ResetPassword,
    responses((status = 200, body = NewPassword), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn reset_password(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ResetPassword>,
) -> ApiResult<Json<NewPassword>> {
    let password = identity::reset_password(&s.app, &ctx, &id, input.password.as_deref()).await?;
    Ok(Json(NewPassword { password }))
}
