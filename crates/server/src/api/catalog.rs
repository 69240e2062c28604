//! CAT-1, CAT-2: catalog entries, their review and their history.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongshu_domain::catalog::{EntryContent, ReviewAction};
use gongshu_services::catalog::{self, OfflineInput};
use gongshu_services::catalog_search;
use gongshu_store::{CatalogEntry, CatalogFilter, CatalogReview};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// Catalog entries matching the filter, in resource-code order (page with limit and offset).
#[utoipa::path(get, path = "/api/v1/catalog", tag = "catalog", params(CatalogFilter),
    responses((status = 200, body = [CatalogEntry]), (status = 403, body = ErrorBody)))]
pub async fn list_entries(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(filter): ApiQuery<CatalogFilter>,
) -> ApiResult<Json<Vec<CatalogEntry>>> {
    Ok(Json(catalog::list(&s.app, &ctx, filter).await?))
}

/// CAT-2: entries the authority has not decided by their due working day.
#[utoipa::path(get, path = "/api/v1/catalog/overdue", tag = "catalog",
    responses((status = 200, body = [CatalogEntry]), (status = 403, body = ErrorBody)))]
pub async fn overdue_entries(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<CatalogEntry>>> {
    Ok(Json(
        catalog::overdue(&s.app, &ctx, chrono::Utc::now()).await?,
    ))
}

/// Registers an entry as a draft of the caller's department. The body is the
/// entry's content (see docs/guide.md, "Catalog"); every broken rule is listed in
/// `errors`, each with its field.
#[utoipa::path(post, path = "/api/v1/catalog", tag = "catalog",
    request_body(content = serde_json::Value, description = "EntryContent"),
    responses((status = 201, body = CatalogEntry), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_entry(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(content): ApiJson<EntryContent>,
) -> ApiResult<(StatusCode, Json<CatalogEntry>)> {
    let entry = catalog::create(&s.app, &ctx, content).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// One entry, by id or resource code.
#[utoipa::path(get, path = "/api/v1/catalog/{id}", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = CatalogEntry), (status = 404, body = ErrorBody)))]
pub async fn get_entry(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CatalogEntry>> {
    Ok(Json(catalog::get(&s.app, &ctx, &id).await?))
}

/// Replaces the working copy (a published entry keeps its published version visible).
#[utoipa::path(put, path = "/api/v1/catalog/{id}", tag = "catalog", params(("id" = String, Path)),
    request_body(content = serde_json::Value, description = "EntryContent"),
    responses((status = 200, body = CatalogEntry), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_entry(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(content): ApiJson<EntryContent>,
) -> ApiResult<Json<CatalogEntry>> {
    Ok(Json(catalog::update(&s.app, &ctx, &id, content).await?))
}

/// A review step.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `submit`, `department_pass`, `department_return`, `authority_approve`, `authority_return`.
    pub action: String,
    /// Required for returns.
    #[serde(default)]
    pub reason: Option<String>,
}

/// CAT-2: submit, pass or return in the department, approve or return as the authority.
#[utoipa::path(post, path = "/api/v1/catalog/{id}/review", tag = "catalog", params(("id" = String, Path)),
    request_body = ReviewInput,
    responses((status = 200, body = CatalogEntry), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review_entry(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> ApiResult<Json<CatalogEntry>> {
    let action = ReviewAction::parse(&input.action).ok_or_else(|| {
        let mut e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "catalog.unknown_action",
            format!("未知的审核操作：{}", input.action),
            format!("unknown review action: {}", input.action),
        );
        e.body.field = Some("action".into());
        e
    })?;
    Ok(Json(
        catalog::review(&s.app, &ctx, &id, action, input.reason).await?,
    ))
}

/// CAT-2: takes a published entry offline (下架) with a reason.
#[utoipa::path(post, path = "/api/v1/catalog/{id}/offline", tag = "catalog", params(("id" = String, Path)),
    request_body = OfflineInput,
    responses((status = 200, body = CatalogEntry), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn take_offline(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<OfflineInput>,
) -> ApiResult<Json<CatalogEntry>> {
    Ok(Json(
        catalog::take_offline(&s.app, &ctx, &id, &input.reason).await?,
    ))
}

/// The review history of an entry, oldest first.
#[utoipa::path(get, path = "/api/v1/catalog/{id}/history", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = [CatalogReview]), (status = 403, body = ErrorBody)))]
pub async fn entry_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CatalogReview>>> {
    let entry = catalog::get(&s.app, &ctx, &id).await?;
    Ok(Json(catalog::history(&s.app, &ctx, &entry.id).await?))
}

/// CAT-3: the conflict list: data of base catalogs registered by more than one source department.
#[utoipa::path(get, path = "/api/v1/catalog/conflicts", tag = "catalog",
    responses((status = 200, body = [catalog::ItemConflict]), (status = 403, body = ErrorBody)))]
pub async fn list_conflicts(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<catalog::ItemConflict>>> {
    Ok(Json(catalog::conflicts(&s.app, &ctx).await?))
}

/// CAT-3: the authority names the one source department of a contested datum.
#[utoipa::path(post, path = "/api/v1/catalog/conflicts/resolve", tag = "catalog",
    request_body = catalog::ResolveConflict,
    responses((status = 200, body = gongshu_store::ItemSource), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn resolve_conflict(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<catalog::ResolveConflict>,
) -> ApiResult<Json<gongshu_store::ItemSource>> {
    Ok(Json(catalog::resolve_conflict(&s.app, &ctx, input).await?))
}

/// COL-5: the entry's data items that other departments already provide.
#[utoipa::path(get, path = "/api/v1/catalog/{id}/duplicates", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = [catalog::DuplicateWarning]), (status = 404, body = ErrorBody)))]
pub async fn entry_duplicates(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<catalog::DuplicateWarning>>> {
    Ok(Json(catalog::duplicates(&s.app, &ctx, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangeQuery {
    /// Only changes the department has not yet reported done.
    #[serde(default)]
    pub open: Option<bool>,
}

/// CAT-2: recorded changes of law or function, with their 15-working-day due day.
#[utoipa::path(get, path = "/api/v1/catalog/changes", tag = "catalog", params(ChangeQuery),
    responses((status = 200, body = [gongshu_store::CatalogChangeRecord]), (status = 403, body = ErrorBody)))]
pub async fn list_changes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ChangeQuery>,
) -> ApiResult<Json<Vec<gongshu_store::CatalogChangeRecord>>> {
    Ok(Json(
        catalog::list_changes(&s.app, &ctx, q.open.unwrap_or(false)).await?,
    ))
}

/// CAT-2: the authority records a change of law or function of a department (XJ 11).
#[utoipa::path(post, path = "/api/v1/catalog/changes", tag = "catalog", request_body = catalog::NewChangeRecord,
    responses((status = 201, body = gongshu_store::CatalogChangeRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn record_change(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<catalog::NewChangeRecord>,
) -> ApiResult<(StatusCode, Json<gongshu_store::CatalogChangeRecord>)> {
    let record = catalog::record_change(&s.app, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteChange {
    /// Which entries were updated.
    pub note: String,
}

/// CAT-2: the department reports its catalog updated after a recorded change.
#[utoipa::path(post, path = "/api/v1/catalog/changes/{id}/complete", tag = "catalog", params(("id" = String, Path)),
    request_body = CompleteChange,
    responses((status = 200, body = gongshu_store::CatalogChangeRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete_change(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CompleteChange>,
) -> ApiResult<Json<gongshu_store::CatalogChangeRecord>> {
    Ok(Json(
        catalog::complete_change(&s.app, &ctx, &id, &input.note).await?,
    ))
}

/// CAT-10: full-text search in 中文 (word segmentation: 人口 finds 常住人口信息) and
/// English, with facet counts and filters. Published entries unless `status` says otherwise.
#[utoipa::path(get, path = "/api/v1/catalog/search", tag = "catalog", params(catalog_search::CatalogSearch),
    responses((status = 200, body = Object, description = "{total, hits: [{id, code, name, score}], facets: {name: [[key, count]]}}"),
        (status = 400, body = ErrorBody)))]
pub async fn search_entries(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<catalog_search::CatalogSearch>,
) -> ApiResult<Json<gongshu_search::SearchResult>> {
    Ok(Json(catalog_search::search(&s.app, &ctx, q).await?))
}

/// CAT-10: completeness, consistency and naming findings of an entry (advice; the
/// save rules are enforced on save).
#[utoipa::path(get, path = "/api/v1/catalog/{id}/checks", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = [Object], description = "[{dimension, field, code, message_zh, message_en}]"), (status = 404, body = ErrorBody)))]
pub async fn entry_checks(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<gongshu_domain::catalog::Finding>>> {
    Ok(Json(catalog::quality_checks(&s.app, &ctx, &id).await?))
}

/// CAT-5: scenario catalogs, newest first.
#[utoipa::path(get, path = "/api/v1/catalog/scenarios", tag = "catalog",
    responses((status = 200, body = [gongshu_store::ScenarioBundle]), (status = 403, body = ErrorBody)))]
pub async fn list_scenarios(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<gongshu_store::ScenarioBundle>>> {
    Ok(Json(gongshu_services::scenarios::list(&s.app, &ctx).await?))
}

/// CAT-5: the caller's department bundles published resources for one business scenario.
#[utoipa::path(post, path = "/api/v1/catalog/scenarios", tag = "catalog",
    request_body = gongshu_services::scenarios::NewScenario,
    responses((status = 201, body = gongshu_store::ScenarioBundle), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_scenario(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<gongshu_services::scenarios::NewScenario>,
) -> ApiResult<(StatusCode, Json<gongshu_store::ScenarioBundle>)> {
    let bundle = gongshu_services::scenarios::create(&s.app, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(bundle)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProjectQuery {
    /// Only projects that fail the approval or the acceptance check.
    #[serde(default)]
    pub failing: Option<bool>,
}

/// CAT-11: government IT projects with their catalog checks.
#[utoipa::path(get, path = "/api/v1/it-projects", tag = "catalog", params(ProjectQuery),
    responses((status = 200, body = [gongshu_services::it_projects::ProjectStatus]), (status = 403, body = ErrorBody)))]
pub async fn list_projects(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ProjectQuery>,
) -> ApiResult<Json<Vec<gongshu_services::it_projects::ProjectStatus>>> {
    Ok(Json(
        gongshu_services::it_projects::list(&s.app, &ctx, q.failing.unwrap_or(false)).await?,
    ))
}

/// CAT-11: the authority records an approved project with the catalog entries it registered.
#[utoipa::path(post, path = "/api/v1/it-projects", tag = "catalog",
    request_body = gongshu_services::it_projects::NewItProject,
    responses((status = 201, body = gongshu_services::it_projects::ProjectStatus), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn register_project(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<gongshu_services::it_projects::NewItProject>,
) -> ApiResult<(
    StatusCode,
    Json<gongshu_services::it_projects::ProjectStatus>,
)> {
    let project = gongshu_services::it_projects::register(&s.app, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// CAT-11: the acceptance check: every registered entry must have data mounted.
#[utoipa::path(post, path = "/api/v1/it-projects/{id}/acceptance-check", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = gongshu_services::it_projects::ProjectStatus), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn check_project(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<gongshu_services::it_projects::ProjectStatus>> {
    Ok(Json(
        gongshu_services::it_projects::check_acceptance(&s.app, &ctx, &id).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DemandQuery {
    /// Demands this organisation made or must answer.
    #[serde(default)]
    pub org_id: Option<String>,
}

/// CAT-7, SHR-7: demands for data (a department's demand list).
#[utoipa::path(get, path = "/api/v1/catalog/demands", tag = "catalog", params(DemandQuery),
    responses((status = 200, body = [gongshu_store::DataDemand]), (status = 403, body = ErrorBody)))]
pub async fn list_demands(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<DemandQuery>,
) -> ApiResult<Json<Vec<gongshu_store::DataDemand>>> {
    Ok(Json(
        gongshu_services::demands::list(&s.app, &ctx, q.org_id.as_deref()).await?,
    ))
}

/// SHR-7: the caller's department asks a source department for data; the source
/// answers within 5 working days (HZ 24).
#[utoipa::path(post, path = "/api/v1/catalog/demands", tag = "catalog",
    request_body = gongshu_services::demands::NewDemand,
    responses((status = 201, body = gongshu_store::DataDemand), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_demand(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<gongshu_services::demands::NewDemand>,
) -> ApiResult<(StatusCode, Json<gongshu_store::DataDemand>)> {
    let demand = gongshu_services::demands::create(&s.app, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(demand)))
}

/// SHR-7: the source names the catalog entry that provides the data, or declines with reasons.
#[utoipa::path(post, path = "/api/v1/catalog/demands/{id}/answer", tag = "catalog", params(("id" = String, Path)),
    request_body = gongshu_services::demands::DemandAnswer,
    responses((status = 200, body = gongshu_store::DataDemand), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer_demand(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<gongshu_services::demands::DemandAnswer>,
) -> ApiResult<Json<gongshu_store::DataDemand>> {
    Ok(Json(
        gongshu_services::demands::answer(&s.app, &ctx, &id, input).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DemandListQuery {
    pub org_id: String,
}

/// CAT-7: a department's demand list as CSV.
#[utoipa::path(get, path = "/api/v1/catalog/demands.csv", tag = "catalog", params(DemandListQuery),
    responses((status = 200, description = "CSV file", content_type = "text/csv")))]
pub async fn export_demands(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<DemandListQuery>,
) -> ApiResult<axum::response::Response> {
    let bytes = gongshu_services::demands::export_csv(&s.app, &ctx, &q.org_id).await?;
    Ok(crate::api::catalog_sheet::download(
        "text/csv; charset=utf-8",
        "demand-list.csv",
        "需求清单.csv",
        bytes,
    ))
}
