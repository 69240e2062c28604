//! One error type for every use case: a stable code, messages in 中文 and English,
//! and a kind the edges map to HTTP statuses or exit codes (DESIGN 8).
use gongshu_domain::permissions::Denied;
use gongshu_store::StoreError;
use serde::Serialize;

/// How an error should be treated at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Invalid,
    Unauthenticated,
    Denied,
    NotFound,
    Conflict,
    Locked,
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message_en}")]
pub struct ServiceError {
    pub kind: ErrorKind,
    pub code: String,
    pub message: String,
    pub message_en: String,
    /// The input field at fault, when there is one.
    pub field: Option<String>,
    /// Every rule the input breaks, when a form checks several at once.
    pub errors: Box<[FieldProblem]>,
}

/// One broken rule of a form, next to its field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
    pub message: String,
    pub message_en: String,
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn new(kind: ErrorKind, code: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.to_string(),
            message: zh.into(),
            message_en: en.into(),
            field: None,
            errors: Box::default(),
        }
    }

    /// All the field-level errors of a form; the first one gives the summary.
    pub fn fields(problems: Vec<gongshu_domain::catalog::FieldError>) -> Self {
        Self::problems(
            problems
                .into_iter()
                .map(|p| FieldProblem {
                    field: p.field,
                    code: p.code.to_string(),
                    message: p.message_zh,
                    message_en: p.message_en,
                })
                .collect(),
        )
    }
    /// Every broken rule of a form; the first one (or a count) heads the message.
    pub fn problems(problems: Vec<FieldProblem>) -> Self {
        let first = problems.first().cloned();
        let n = problems.len();
        let (code, field, zh, en) = match first {
            Some(f) if n == 1 => (f.code, Some(f.field), f.message, f.message_en),
            Some(f) => (
                "input.invalid".to_string(),
                Some(f.field),
                format!("{}（另有 {} 处问题）", f.message, n - 1),
                format!("{} (and {} more)", f.message_en, n - 1),
            ),
            None => (
                "input.invalid".to_string(),
                None,
                "输入有误".into(),
                "invalid input".into(),
            ),
        };
        Self {
            kind: ErrorKind::Invalid,
            code,
            message: zh,
            message_en: en,
            field,
            errors: problems.into(),
        }
    }
    pub fn invalid(code: &str, field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_string()),
            ..Self::new(ErrorKind::Invalid, code, zh, en)
        }
    }
    pub fn not_found(what_zh: &str, what_en: &str, id: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what_zh}不存在：{id}"),
            format!("{what_en} not found: {id}"),
        )
    }
    pub fn conflict(code: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, zh, en)
    }
    pub fn unauthenticated(code: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, zh, en)
    }
    /// Input errors of the domain, mapped to a field.
    pub fn from_id(field: &str, e: gongshu_domain::ids::IdError) -> Self {
        Self::invalid(e.code(), field, e.message_zh(), e.message_en())
    }
    pub fn from_calendar(e: gongshu_domain::calendar::CalendarError) -> Self {
        Self::new(ErrorKind::Invalid, e.code(), e.message_zh(), e.message_en())
    }
}

impl From<Denied> for ServiceError {
    fn from(d: Denied) -> Self {
        let target = d.target_org.as_deref().unwrap_or("全局");
        let target_en = d.target_org.as_deref().unwrap_or("any organisation");
        Self::new(
            ErrorKind::Denied,
            "auth.denied",
            format!(
                "无权执行“{}”（对象单位：{target}）",
                d.permission.label_zh()
            ),
            format!(
                "not allowed to {} (organisation: {target_en})",
                d.permission.label_en().to_lowercase()
            ),
        )
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(c) => Self::conflict(
                "store.conflict",
                format!("与已有数据冲突（{c}）"),
                format!("conflicts with existing data ({c})"),
            ),
            StoreError::NotFound(what) => Self::new(
                ErrorKind::NotFound,
                "not_found",
                format!("对象不存在或已变更：{what}"),
                format!("not found or changed meanwhile: {what}"),
            ),
            StoreError::Database(msg) => {
                tracing::error!(error = %msg, "store failure");
                Self::new(
                    ErrorKind::Internal,
                    "store.unavailable",
                    "数据存储暂不可用，操作未执行",
                    "the data store is unavailable; nothing was changed",
                )
            }
        }
    }
}
