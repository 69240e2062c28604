//! The OpenAPI document at /api/openapi.json and its reference page at /api/docs.
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::state::AppState;
use crate::web::render::{render_page, Lang};

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API token `gs_…`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "gongshu_session",
                "Console session; unsafe methods also need the X-CSRF-Token header",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gongshu 公数 API", description = "公共数据资源平台接口 · Public data platform API. Errors are `{code, message, message_en}`."),
    modifiers(&Security),
    security(("token" = []), ("session" = [])),
    paths(
        api::health::healthz, api::health::readyz,
        api::auth::login, api::auth::logout, api::auth::me,
        api::orgs::list_divisions, api::orgs::upsert_division,
        api::orgs::list_orgs, api::orgs::create_org, api::orgs::import_orgs, api::orgs::get_org, api::orgs::update_org,
        api::orgs::list_officers, api::orgs::file_officer,
        api::orgs::list_processors, api::orgs::authorize_processor, api::orgs::file_processor, api::orgs::revoke_processor,
        api::users::list_users, api::users::create_user, api::users::get_user, api::users::disable_user,
        api::users::enable_user, api::users::reset_password,
        api::tokens::list_tokens, api::tokens::create_token, api::tokens::revoke_token,
        api::catalog::list_entries, api::catalog::overdue_entries, api::catalog::create_entry, api::catalog::get_entry,
        api::catalog::update_entry, api::catalog::review_entry, api::catalog::take_offline, api::catalog::entry_history,
        api::catalog::list_conflicts, api::catalog::resolve_conflict, api::catalog::entry_duplicates,
        api::catalog::list_changes, api::catalog::record_change, api::catalog::complete_change,
        api::catalog::search_entries, api::catalog::entry_checks,
        api::catalog::list_scenarios, api::catalog::create_scenario,
        api::catalog::list_demands, api::catalog::create_demand, api::catalog::answer_demand, api::catalog::export_demands,
        api::catalog::list_projects, api::catalog::register_project, api::catalog::check_project,
        api::social_data::list, api::social_data::record,
        api::upstream::overview, api::upstream::report_now, api::upstream::set_exemption,
        api::upstream::receive, api::upstream::received,
        api::catalog_sheet::template, api::catalog_sheet::import, api::catalog_sheet::export_xlsx, api::catalog_sheet::export_csv,
        api::datasets::upload, api::datasets::push, api::datasets::list, api::datasets::get, api::datasets::loads,
        api::datasets::rollback, api::datasets::set_policy, api::datasets::record_secrecy_review, api::datasets::rows, api::datasets::get_load,
        api::datasets::rejects, api::datasets::rejects_csv, api::datasets::rejects_xlsx, api::datasets::export, api::datasets::quality,
        api::datasets::quality_history,
        api::datasets::stale, api::datasets::build_base, api::datasets::base_status, api::datasets::base_attributes, api::datasets::subject,
        api::datasets::cross_check, api::datasets::discrepancies, api::datasets::resolve,
        api::datasets::set_source, api::datasets::get_source, api::datasets::test_source, api::datasets::pull,
        api::datasets::start_upload, api::datasets::get_upload, api::datasets::put_chunk, api::datasets::complete_upload,
        api::sharing::submit, api::sharing::submit_bundle, api::sharing::list_requests, api::sharing::get_request, api::sharing::act,
        api::sharing::replace_resource, api::sharing::list_grants, api::sharing::get_grant, api::sharing::set_grant_status,
        api::sharing::report_usage, api::sharing::usage_reports, api::sharing::access_log,
        api::sharing::lookup, api::sharing::records, api::sharing::verify, api::sharing::download,
        api::open::search, api::open::get_dataset, api::open::records,
        api::open_feedback::submit, api::open_feedback::by_ticket, api::open_feedback::list, api::open_feedback::answer,
        api::open_plans::level_plan, api::open_plans::priorities, api::open_plans::list, api::open_plans::save,
        api::open_plans::get, api::open_plans::review, api::open_plans::publish_priorities,
        api::open_access::issue_key, api::open_access::apply, api::open_access::my_applications,
        api::open_access::my_application, api::open_access::accept_agreement,
        api::open_access::review_list, api::open_access::review,
        api::open_access::suspend, api::open_access::resume, api::open_access::revoke_own_key,
        api::open_access::revoke_key,
        api::open_usage::summary, api::open_usage::dataset, api::open_usage::departments_csv,
        api::open_usage::submit, api::open_usage::published, api::open_usage::list, api::open_usage::decide,
        api::open_proposals::propose, api::open_proposals::list, api::open_proposals::respond,
        api::open_proposals::decide,
        api::open_releases::sources, api::open_releases::preview, api::open_releases::prepare,
        api::open_releases::list, api::open_releases::get, api::open_releases::decide,
        api::open_releases::refresh, api::open_releases::withdraw,
        api::audit::list_audit, api::audit::verify_audit,
        api::tools::add_workdays, api::tools::workdays_between, api::tools::deadlines, api::tools::check_identifier,
    ),
    tags(
        (name = "health", description = "探针 · Probes"),
        (name = "auth", description = "登录与会话 · Login and sessions"),
        (name = "organisations", description = "区划、单位、责任人、第三方委托 · ORG-1..4"),
        (name = "users", description = "用户 · Users"),
        (name = "tokens", description = "接口令牌 · API tokens"),
        (name = "catalog", description = "资源目录：登记、审核、发布、下架 · Catalog entries and their review (CAT-1, CAT-2)"),
        (name = "data", description = "数据归集、质量、基础库、多源校核 · Aggregation, quality, base databases, cross-checks (COL-1..9, GOV-1..3)"),
        (name = "sharing", description = "共享申请、授权、数据服务、调用记录 · Share requests, grants, the data service, access records (SHR-2..13, GOV-5)"),
        (name = "open", description = "开放数据：检索、数据集、数据、开发者密钥、申请与协议、公众意见、年度开放计划与重点领域、使用情况与应用展示、脱敏发布与依同意开放 · Open data: search, datasets, rows, developer keys, applications and agreements, the public's reports, yearly open plans and priority domains, usage figures and applications built on open data, releases (desensitised or on consent) (OPN-2, OPN-3, OPN-4, OPN-5, OPN-6, OPN-7, OPN-8, OPN-9, OPN-10, OPN-11, SUP-8)"),
        (name = "audit", description = "审计日志 · Audit trail (GOV-5, SEC-3)"),
        (name = "calendar", description = "工作日、时限、标识校验 · Working days, deadlines, identifier checks"),
    )
)]
pub struct ApiDoc;

/// The document, built once per call (cheap; it is static data).
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn openapi_json() -> impl IntoResponse {
    Json(document())
}

/// A server-rendered reference of every operation, without any JavaScript.
pub async fn reference_page(State(state): State<AppState>, lang: Lang) -> Html<String> {
    let doc = serde_json::to_value(document()).unwrap_or_default();
    let mut ops = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            if let Some(methods) = item.as_object() {
                for (method, op) in methods {
                    ops.push(serde_json::json!({
                        "path": path,
                        "method": method.to_uppercase(),
                        "tag": op.get("tags").and_then(|t| t.get(0)).cloned().unwrap_or_default(),
                        "summary": op.get("summary").cloned().unwrap_or_default(),
                        "description": op.get("description").cloned().unwrap_or_default(),
                        "parameters": op.get("parameters").cloned().unwrap_or_default(),
                        "request": op.pointer("/requestBody/content/application~1json/schema").cloned().unwrap_or_default(),
                        "responses": op.get("responses").cloned().unwrap_or_default(),
                    }));
                }
            }
        }
    }
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    render_page(
        &state,
        "api_docs.html",
        lang,
        None,
        minijinja::context! { ops => ops, schemas => schemas },
    )
}
