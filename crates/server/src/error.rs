//! The API error body `{code, message, message_en}` with a stable code (DESIGN 8).
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongshu_services::error::ErrorKind;
use gongshu_services::ServiceError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `auth.denied`.
    pub code: String,
    /// 中文说明
    pub message: String,
    pub message_en: String,
    /// The input field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every rule the input breaks, each next to its field (forms checked as a whole).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<gongshu_services::error::FieldProblem>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.into(),
                message: zh.into(),
                message_en: en.into(),
                field: None,
                errors: Vec::new(),
            },
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "auth.required",
            "请先登录，或在 Authorization 头中提供接口令牌",
            "log in, or send an API token in the Authorization header",
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "接口不存在",
            "no such endpoint",
        )
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Denied => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Locked => StatusCode::LOCKED,
        ErrorKind::Internal => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self {
            status: status_of(e.kind),
            body: ErrorBody {
                code: e.code,
                message: e.message,
                message_en: e.message_en,
                field: e.field,
                errors: e.errors.into_vec(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body)).into_response();
        // A body refused for its size is left unread, so the connection cannot
        // carry another request; saying so keeps clients from reusing it.
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
