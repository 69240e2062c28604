//! ORG-1..4 over HTTP: divisions, organisations, officers, processor authorisations.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongshu_services::orgs::{self, FileOfficer, NewDivision, NewOrg, NewProcessor, OrgPatch};
use gongshu_store::{Division, Officer, OrgFilter, Organization, ProcessorAuthorization};
use serde::Deserialize;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// All registered divisions (GB/T 2260 codes), ordered by code.
#[utoipa::path(get, path = "/api/v1/divisions", tag = "organisations", responses((status = 200, body = [Division]), (status = 401, body = ErrorBody)))]
pub async fn list_divisions(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<Division>>> {
    Ok(Json(orgs::list_divisions(&s.app, &ctx).await?))
}

/// ORG-1: adds or renames a division; the parent level must exist.
#[utoipa::path(post, path = "/api/v1/divisions", tag = "organisations", request_body = NewDivision,
    responses((status = 200, body = Division), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn upsert_division(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewDivision>,
) -> ApiResult<Json<Division>> {
    Ok(Json(orgs::upsert_division(&s.app, &ctx, input).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrgQuery {
    /// Party kind, e.g. `government_department`.
    pub kind: Option<String>,
    pub division_code: Option<String>,
    /// Part of the name.
    pub q: Option<String>,
}

/// Organisations, filtered.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "organisations", params(OrgQuery), responses((status = 200, body = [Organization]), (status = 401, body = ErrorBody)))]
pub async fn list_orgs(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<Vec<Organization>>> {
    let filter = OrgFilter {
        kind: q.kind,
        division_code: q.division_code,
        q: q.q,
    };
    Ok(Json(orgs::list_orgs(&s.app, &ctx, &filter).await?))
}

/// ORG-2: registers an organisation of any party kind.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "organisations", request_body = NewOrg,
    responses((status = 201, body = Organization), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_org(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewOrg>,
) -> ApiResult<(StatusCode, Json<Organization>)> {
    Ok((
        StatusCode::CREATED,
        Json(orgs::create_org(&s.app, &ctx, input).await?),
    ))
}

/// ORG-2: imports organisations, all or none.
#[utoipa::path(post, path = "/api/v1/orgs/import", tag = "organisations", request_body = [NewOrg],
    responses((status = 201, body = [Organization]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn import_orgs(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<Vec<NewOrg>>,
) -> ApiResult<(StatusCode, Json<Vec<Organization>>)> {
    Ok((
        StatusCode::CREATED,
        Json(orgs::import_orgs(&s.app, &ctx, input).await?),
    ))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{id}", tag = "organisations", params(("id" = String, Path)),
    responses((status = 200, body = Organization), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(orgs::get_org(&s.app, &ctx, &id).await?))
}

/// Changes an organisation's name, credit code or disabled flag.
#[utoipa::path(patch, path = "/api/v1/orgs/{id}", tag = "organisations", params(("id" = String, Path)), request_body = OrgPatch,
    responses((status = 200, body = Organization), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn update_org(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<OrgPatch>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(orgs::update_org(&s.app, &ctx, &id, patch).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Include officers whose term ended (ORG-3 history).
    #[serde(default)]
    pub history: bool,
}

/// ORG-3: the filed officers of an organisation, optionally with their history.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/officers", tag = "organisations", params(("id" = String, Path), HistoryQuery),
    responses((status = 200, body = [Officer]), (status = 403, body = ErrorBody)))]
pub async fn list_officers(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Vec<Officer>>> {
    Ok(Json(
        orgs::list_officers(&s.app, &ctx, &id, q.history).await?,
    ))
}

/// ORG-3: files the holder of an officer role; the previous holder's term ends.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/officers", tag = "organisations", params(("id" = String, Path)), request_body = FileOfficer,
    responses((status = 201, body = Officer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn file_officer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FileOfficer>,
) -> ApiResult<(StatusCode, Json<Officer>)> {
    Ok((
        StatusCode::CREATED,
        Json(orgs::file_officer(&s.app, &ctx, &id, input).await?),
    ))
}

/// ORG-4: authorisations given by or to an organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/processors", tag = "organisations", params(("id" = String, Path)),
    responses((status = 200, body = [ProcessorAuthorization]), (status = 403, body = ErrorBody)))]
pub async fn list_processors(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ProcessorAuthorization>>> {
    Ok(Json(orgs::list_processors(&s.app, &ctx, Some(&id)).await?))
}

/// ORG-4: authorises a third-party processor with scope and term (pending filing).
#[utoipa::path(post, path = "/api/v1/orgs/{id}/processors", tag = "organisations", params(("id" = String, Path)), request_body = NewProcessor,
    responses((status = 201, body = ProcessorAuthorization), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn authorize_processor(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewProcessor>,
) -> ApiResult<(StatusCode, Json<ProcessorAuthorization>)> {
    Ok((
        StatusCode::CREATED,
        Json(orgs::authorize_processor(&s.app, &ctx, &id, input).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilingRequest {
    pub filing_no: String,
}

/// ORG-4: the authority files an authorisation, putting it in force.
#[utoipa::path(post, path = "/api/v1/processors/{id}/file", tag = "organisations", params(("id" = String, Path)), request_body = FilingRequest,
    responses((status = 200, body = ProcessorAuthorization), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn file_processor(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FilingRequest>,
) -> ApiResult<Json<ProcessorAuthorization>> {
    Ok(Json(
        orgs::file_processor(&s.app, &ctx, &id, &input.filing_no).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

/// ORG-4: ends an authorisation early, with a reason.
#[utoipa::path(post, path = "/api/v1/processors/{id}/revoke", tag = "organisations", params(("id" = String, Path)), request_body = ReasonRequest,
    responses((status = 200, body = ProcessorAuthorization), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_processor(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReasonRequest>,
) -> ApiResult<Json<ProcessorAuthorization>> {
    Ok(Json(
        orgs::revoke_processor(&s.app, &ctx, &id, &input.reason).await?,
    ))
}
