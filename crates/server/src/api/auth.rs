//! Login and logout for API clients that use a session instead of a token.
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::{AppendHeaders, IntoResponse};
use axum::Json;
use gongshu_domain::permissions::Grant;
use gongshu_services::identity;
use gongshu_store::User;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{cookie, ApiJson, Caller, SESSION_COOKIE};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub user: User,
    /// Send as `X-CSRF-Token` with every unsafe request of this session.
    pub csrf_token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The Set-Cookie value of a session: HttpOnly, SameSite=Strict, Secure over TLS.
pub fn session_cookie(state: &AppState, secret: &str, max_age_secs: i64) -> String {
    session_cookie_value(secret, max_age_secs, state.config.secure_cookies())
}

/// SEC-3: the session cookie's attributes.
pub fn session_cookie_value(secret: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// Logs in with a password; the session cookie is set and the CSRF token returned.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let rid = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let done = identity::login(&state.app, &req.username, &req.password, rid).await?;
    let cookie = session_cookie(
        &state,
        &done.secret,
        state.app.settings.session_hours * 3600,
    );
    Ok((
        AppendHeaders([(SET_COOKIE, cookie)]),
        Json(LoginResponse {
            user: done.user,
            csrf_token: done.session.csrf_token,
            expires_at: done.session.expires_at,
        }),
    ))
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let secret = cookie(&headers, SESSION_COOKIE).ok_or_else(ApiError::unauthenticated)?;
    identity::logout(&state.app, &ctx, &secret).await?;
    Ok((
        AppendHeaders([(SET_COOKIE, session_cookie(&state, "", 0))]),
        axum::http::StatusCode::NO_CONTENT,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub actor: String,
    pub org_id: Option<String>,
    pub user: Option<User>,
    #[schema(value_type = Vec<Object>)]
    pub grants: Vec<Grant>,
}

/// Who the caller is and what it may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, Caller(ctx): Caller) -> ApiResult<Json<Me>> {
    let user = match &ctx.principal.user_id {
        Some(id) => state
            .app
            .store
            .get_user(id)
            .await
            .map_err(gongshu_services::ServiceError::from)?,
        None => None,
    };
    Ok(Json(Me {
        actor: ctx.principal.actor.clone(),
        org_id: ctx.principal.org_id.clone(),
        user,
        grants: ctx.principal.grants.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_3_session_cookie_is_http_only_strict_and_secure_over_tls() {
        let plain = session_cookie_value("s3cret", 60, false);
        assert!(
            plain.contains("HttpOnly") && plain.contains("SameSite=Strict"),
            "{plain}"
        );
        assert!(!plain.contains("Secure"), "{plain}");
        let tls = session_cookie_value("s3cret", 60, true);
        assert!(tls.ends_with("; Secure"), "{tls}");
        let config = crate::Config {
            public_url: "https://data.example.gov.cn".into(),
            ..Default::default()
        };
        assert!(config.secure_cookies());
        assert!(!crate::Config::default().secure_cookies());
    }
}
