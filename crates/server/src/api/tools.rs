//! Working-day calendar, deadline policy and identifier checks.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use gongshu_domain::ids::{CitizenId, CreditCode, DivisionCode};
use gongshu_services::ServiceError;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AddWorkdaysQuery {
    pub date: NaiveDate,
    pub n: u32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DateAnswer {
    pub date: NaiveDate,
}

/// The date `n` working days after `date` (holidays and 调休 counted).
#[utoipa::path(get, path = "/api/v1/calendar/add-workdays", tag = "calendar", params(AddWorkdaysQuery),
    responses((status = 200, body = DateAnswer), (status = 400, body = ErrorBody)))]
pub async fn add_workdays(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<AddWorkdaysQuery>,
) -> ApiResult<Json<DateAnswer>> {
    let date = s
        .app
        .calendar
        .add_workdays(q.date, q.n)
        .map_err(ServiceError::from_calendar)?;
    Ok(Json(DateAnswer { date }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BetweenQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CountAnswer {
    pub workdays: i64,
}

/// Working days d with from < d ≤ to.
#[utoipa::path(get, path = "/api/v1/calendar/workdays-between", tag = "calendar", params(BetweenQuery),
    responses((status = 200, body = CountAnswer), (status = 400, body = ErrorBody)))]
pub async fn workdays_between(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<BetweenQuery>,
) -> ApiResult<Json<CountAnswer>> {
    let workdays = s
        .app
        .calendar
        .workdays_between(q.from, q.to)
        .map_err(ServiceError::from_calendar)?;
    Ok(Json(CountAnswer { workdays }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadlineEntry {
    pub key: String,
    pub working_days: u32,
    pub strictest_default: u32,
    pub requirement: String,
    pub basis: String,
    pub label: String,
    pub label_en: String,
}

/// The deadline policy in force on this deployment (DESIGN 6).
#[utoipa::path(get, path = "/api/v1/deadlines", tag = "calendar", responses((status = 200, body = [DeadlineEntry])))]
pub async fn deadlines(State(s): State<AppState>) -> Json<Vec<DeadlineEntry>> {
    Json(
        s.app
            .deadlines
            .entries()
            .into_iter()
            .map(|(k, days)| DeadlineEntry {
                key: k.key().to_string(),
                working_days: days,
                strictest_default: k.strictest_default(),
                requirement: k.requirement().to_string(),
                basis: k.basis().to_string(),
                label: k.label_zh().to_string(),
                label_en: k.label_en().to_string(),
            })
            .collect(),
    )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckAnswer {
    pub valid: bool,
    /// The normalised value when valid.
    pub value: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub message_en: Option<String>,
}

/// COL-3: checks a citizen ID number (GB 11643), credit code (GB 32100) or division code (GB/T 2260).
#[utoipa::path(get, path = "/api/v1/check/{kind}/{value}", tag = "calendar",
    params(("kind" = String, Path, description = "id-number | credit-code | division-code"), ("value" = String, Path)),
    responses((status = 200, body = CheckAnswer), (status = 404, body = ErrorBody)))]
pub async fn check_identifier(
    Path((kind, value)): Path<(String, String)>,
) -> ApiResult<Json<CheckAnswer>> {
    let result = match kind.as_str() {
        "id-number" => CitizenId::parse(&value).map(|v| v.as_str().to_string()),
        "credit-code" => CreditCode::parse(&value).map(|v| v.as_str().to_string()),
        "division-code" => DivisionCode::parse(&value).map(|v| v.as_str().to_string()),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "check.unknown_kind",
                "可校验：id-number、credit-code、division-code",
                "checkable kinds: id-number, credit-code, division-code",
            ))
        }
    };
    Ok(Json(match result {
        Ok(v) => CheckAnswer {
            valid: true,
            value: Some(v),
            code: None,
            message: None,
            message_en: None,
        },
        Err(e) => CheckAnswer {
            valid: false,
            value: None,
            code: Some(e.code().to_string()),
            message: Some(e.message_zh()),
            message_en: Some(e.message_en()),
        },
    }))
}
