//! OPN-9 (XJ 30): the public's reports on open datasets. Anyone files a report
//! without an account and gets a ticket (shown once) to read the answer; the source
//! department lists its reports and answers them within five working days.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongshu_services::open_feedback::{
    self, FeedbackAnswer, FeedbackQuery, FeedbackRecord, NewFeedback, PublicFeedback,
};
use serde::{Deserialize, Serialize};

use crate::api::open::PublicCaller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// Where the reporter reads a report: the portal page with the ticket.
pub fn reader_link(s: &AppState, id: &str, ticket: &str) -> String {
    format!(
        "{}/open/feedback/{id}?ticket={ticket}",
        s.config.public_url.trim_end_matches('/')
    )
}

/// A report just filed: the ticket is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubmittedView {
    pub feedback: PublicFeedback,
    /// Keep it: with the report's id it reads the answer.
    pub ticket: String,
    /// The portal page where the reporter reads the status and the answer.
    pub link: String,
}

/// OPN-9: anyone reports a problem with an open dataset: an error, an objection,
/// harm to lawful rights, or a suspected leak (which withholds the dataset at once).
#[utoipa::path(post, path = "/api/v1/open/datasets/{code}/feedback", tag = "open",
    params(("code" = String, Path, description = "Resource code")), request_body = NewFeedback,
    responses((status = 201, body = SubmittedView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn submit(
    State(s): State<AppState>,
    caller: PublicCaller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<NewFeedback>,
) -> ApiResult<(StatusCode, Json<SubmittedView>)> {
    let (f, ticket) =
        open_feedback::submit(&s.app, &caller.ctx, &caller.reader.bucket, &code, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(SubmittedView {
            feedback: PublicFeedback::from(&f),
            link: reader_link(&s, &f.id, &ticket),
            ticket,
        }),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct TicketQuery {
    /// The ticket given when the report was filed.
    pub ticket: String,
}

/// OPN-9: the reporter reads the status of a report and the source's answer.
#[utoipa::path(get, path = "/api/v1/open/feedback/{id}", tag = "open",
    params(("id" = String, Path), TicketQuery),
    responses((status = 200, body = PublicFeedback), (status = 404, body = ErrorBody)))]
pub async fn by_ticket(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TicketQuery>,
) -> ApiResult<Json<PublicFeedback>> {
    let f = open_feedback::by_ticket(&s.app, &id, &q.ticket).await?;
    Ok(Json(PublicFeedback::from(&f)))
}

/// OPN-9: the reports on the caller's department's open datasets (all of them for
/// the authority), newest first, with their due days.
#[utoipa::path(get, path = "/api/v1/open-feedback", tag = "open", params(FeedbackQuery),
    responses((status = 200, body = [FeedbackRecord]), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<FeedbackQuery>,
) -> ApiResult<Json<Vec<FeedbackRecord>>> {
    let found = open_feedback::list(&s.app, &ctx, q).await?;
    Ok(Json(found.iter().map(FeedbackRecord::from).collect()))
}

/// OPN-9 (XJ 30): the source department answers a report and acts on the dataset:
/// `withdraw` or `suspend` keep it out of the open catalog; `fix_and_republish` or
/// `keep` return it.
#[utoipa::path(post, path = "/api/v1/open-feedback/{id}/answer", tag = "open",
    params(("id" = String, Path)), request_body = FeedbackAnswer,
    responses((status = 200, body = FeedbackRecord), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FeedbackAnswer>,
) -> ApiResult<Json<FeedbackRecord>> {
    let f = open_feedback::answer(&s.app, &ctx, &id, input).await?;
    Ok(Json(FeedbackRecord::from(&f)))
}
