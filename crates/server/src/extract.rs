//! Extractors: JSON bodies whose every rejection is a clear 4xx, and the caller
//! (API token or console session, CSRF-checked for unsafe methods).
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use gongshu_services::{identity, Ctx};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "gongshu_session";
pub const LANG_COOKIE: &str = "gongshu_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body; malformed JSON, wrong types and unknown fields are 400, oversize 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let detail = r.body_text();
    match r {
        JsonRejection::JsonDataError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "input.invalid_json_fields",
            format!("请求体字段有误：{detail}"),
            format!("invalid fields in the request body: {detail}"),
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "input.malformed_json",
            format!("请求体不是合法的 JSON：{detail}"),
            format!("the request body is not valid JSON: {detail}"),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "input.content_type",
            "请求须带 Content-Type: application/json",
            "send Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "input.unreadable_body",
            format!("无法读取请求体：{}", other.body_text()),
            format!("cannot read the request body: {}", other.body_text()),
        ),
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "input.too_large",
        "请求体过大",
        "the request body is too large",
    )
}

/// Query parameters; a wrong type is a 400 with the reason.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(r) => Err(query_rejection(r)),
        }
    }
}

fn query_rejection(r: QueryRejection) -> ApiError {
    let detail = r.body_text();
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "input.invalid_query",
        format!("查询参数有误：{detail}"),
        format!("invalid query parameters: {detail}"),
    )
}

/// An urlencoded form of the console; rejections become 400/413.
pub struct WebForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for WebForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(WebForm(v)),
            Err(
                r @ (FormRejection::FailedToDeserializeForm(_)
                | FormRejection::FailedToDeserializeFormBody(_)),
            ) => {
                let detail = r.body_text();
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "input.invalid_form",
                    format!("表单内容有误：{detail}"),
                    format!("invalid form: {detail}"),
                ))
            }
            Err(other) if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(other) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "input.invalid_form",
                format!("表单内容有误：{}", other.body_text()),
                format!("invalid form: {}", other.body_text()),
            )),
        }
    }
}

/// The value of one cookie.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| {
            line.split(';').map(str::trim).find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                (k == name).then(|| v.to_string())
            })
        })
}

pub fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// An authenticated API caller. Bearer tokens need no CSRF token; a session cookie
/// needs the `X-CSRF-Token` header on every unsafe method.
pub struct Caller(pub Ctx);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let rid = request_id(parts);
        if let Some(auth) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let secret = auth
                .strip_prefix("Bearer ")
                .ok_or_else(ApiError::unauthenticated)?
                .trim();
            let principal = identity::authenticate_token(&state.app, secret).await?;
            return Ok(Caller(Ctx::new(principal, rid)));
        }
        let secret =
            cookie(&parts.headers, SESSION_COOKIE).ok_or_else(ApiError::unauthenticated)?;
        let (_, session, principal) = identity::authenticate_session(&state.app, &secret)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "auth.csrf",
                    "缺少或错误的 CSRF 令牌（X-CSRF-Token）",
                    "missing or wrong CSRF token (X-CSRF-Token)",
                ));
            }
        }
        Ok(Caller(Ctx::new(principal, rid)))
    }
}

/// Compares secrets without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
