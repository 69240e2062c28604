//! JSON API under /api/v1: one module per resource, each handler annotated for OpenAPI.
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod catalog_sheet;
pub mod datasets;
pub mod health;
pub mod open;
pub mod open_access;
pub mod open_feedback;
pub mod open_plans;
pub mod open_proposals;
pub mod open_releases;
pub mod open_usage;
pub mod orgs;
pub mod sharing;
pub mod social_data;
pub mod tokens;
pub mod tools;
pub mod upstream;
pub mod users;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::state::AppState;

/// Every API route, registered in one place.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/me", get(auth::me))
        .route(
            "/api/v1/divisions",
            get(orgs::list_divisions).post(orgs::upsert_division),
        )
        .route("/api/v1/orgs", get(orgs::list_orgs).post(orgs::create_org))
        .route("/api/v1/orgs/import", post(orgs::import_orgs))
        .route(
            "/api/v1/orgs/{id}",
            get(orgs::get_org).patch(orgs::update_org),
        )
        .route(
            "/api/v1/orgs/{id}/officers",
            get(orgs::list_officers).post(orgs::file_officer),
        )
        .route(
            "/api/v1/orgs/{id}/processors",
            get(orgs::list_processors).post(orgs::authorize_processor),
        )
        .route("/api/v1/processors/{id}/file", post(orgs::file_processor))
        .route(
            "/api/v1/processors/{id}/revoke",
            post(orgs::revoke_processor),
        )
        .route(
            "/api/v1/users",
            get(users::list_users).post(users::create_user),
        )
        .route("/api/v1/users/{id}", get(users::get_user))
        .route("/api/v1/users/{id}/disable", post(users::disable_user))
        .route("/api/v1/users/{id}/enable", post(users::enable_user))
        .route(
            "/api/v1/users/{id}/reset-password",
            post(users::reset_password),
        )
        .route(
            "/api/v1/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/api/v1/tokens/{id}/revoke", post(tokens::revoke_token))
        .route(
            "/api/v1/catalog",
            get(catalog::list_entries).post(catalog::create_entry),
        )
        .route("/api/v1/catalog/overdue", get(catalog::overdue_entries))
        .route("/api/v1/catalog/search", get(catalog::search_entries))
        .route(
            "/api/v1/catalog/scenarios",
            get(catalog::list_scenarios).post(catalog::create_scenario),
        )
        .route(
            "/api/v1/catalog/demands",
            get(catalog::list_demands).post(catalog::create_demand),
        )
        .route("/api/v1/catalog/demands.csv", get(catalog::export_demands))
        .route(
            "/api/v1/catalog/demands/{id}/answer",
            post(catalog::answer_demand),
        )
        .route(
            "/api/v1/it-projects",
            get(catalog::list_projects).post(catalog::register_project),
        )
        .route(
            "/api/v1/social-data",
            get(social_data::list).post(social_data::record),
        )
        .route(
            "/api/v1/upstream/reports",
            get(upstream::overview).post(upstream::report_now),
        )
        .route(
            "/api/v1/upstream/reports/{entry}/exemption",
            put(upstream::set_exemption),
        )
        .route(
            "/api/v1/upstream/received",
            get(upstream::received).post(upstream::receive),
        )
        .route(
            "/api/v1/it-projects/{id}/acceptance-check",
            post(catalog::check_project),
        )
        .route(
            "/api/v1/catalog/template.xlsx",
            get(catalog_sheet::template),
        )
        .route(
            "/api/v1/catalog/import",
            post(catalog_sheet::import)
                .layer(DefaultBodyLimit::max(catalog_sheet::MAX_SHEET_BYTES)),
        )
        .route(
            "/api/v1/catalog/export.xlsx",
            get(catalog_sheet::export_xlsx),
        )
        .route("/api/v1/catalog/export.csv", get(catalog_sheet::export_csv))
        .route("/api/v1/catalog/conflicts", get(catalog::list_conflicts))
        .route(
            "/api/v1/catalog/changes",
            get(catalog::list_changes).post(catalog::record_change),
        )
        .route(
            "/api/v1/catalog/changes/{id}/complete",
            post(catalog::complete_change),
        )
        .route(
            "/api/v1/catalog/conflicts/resolve",
            post(catalog::resolve_conflict),
        )
        .route("/api/v1/catalog/{id}/checks", get(catalog::entry_checks))
        .route(
            "/api/v1/catalog/{id}/duplicates",
            get(catalog::entry_duplicates),
        )
        .route(
            "/api/v1/catalog/{id}",
            get(catalog::get_entry).put(catalog::update_entry),
        )
        .route("/api/v1/catalog/{id}/review", post(catalog::review_entry))
        .route("/api/v1/catalog/{id}/offline", post(catalog::take_offline))
        .route("/api/v1/catalog/{id}/history", get(catalog::entry_history))
        .route(
            "/api/v1/share/requests",
            get(sharing::list_requests).post(sharing::submit),
        )
        .route("/api/v1/share/bundles", post(sharing::submit_bundle))
        .route("/api/v1/share/requests/{id}", get(sharing::get_request))
        .route("/api/v1/share/requests/{id}/steps", post(sharing::act))
        .route(
            "/api/v1/share/resources/{id}/replace",
            post(sharing::replace_resource),
        )
        .route("/api/v1/share/grants", get(sharing::list_grants))
        .route("/api/v1/share/grants/{id}", get(sharing::get_grant))
        .route(
            "/api/v1/share/grants/{id}/status",
            post(sharing::set_grant_status),
        )
        .route(
            "/api/v1/share/grants/{id}/usage-reports",
            get(sharing::usage_reports).post(sharing::report_usage),
        )
        .route("/api/v1/share/access", get(sharing::access_log))
        .route("/api/v1/services/{resource}/records", get(sharing::records))
        .route(
            "/api/v1/services/{resource}/records/{key}",
            get(sharing::lookup),
        )
        .route("/api/v1/services/{resource}/verify", post(sharing::verify))
        .route(
            "/api/v1/services/{resource}/download",
            get(sharing::download),
        )
        .route("/api/v1/open/datasets", get(open::search))
        .route("/api/v1/open/datasets/{code}", get(open::get_dataset))
        .route("/api/v1/open/datasets/{code}/records", get(open::records))
        .route(
            "/api/v1/open/datasets/{code}/feedback",
            post(open_feedback::submit),
        )
        .route("/api/v1/open/feedback/{id}", get(open_feedback::by_ticket))
        .route("/api/v1/open/plans", get(open_plans::level_plan))
        .route("/api/v1/open/priorities", get(open_plans::priorities))
        .route(
            "/api/v1/open-plans",
            get(open_plans::list).post(open_plans::save),
        )
        .route("/api/v1/open-plans/{id}", get(open_plans::get))
        .route("/api/v1/open-plans/{id}/review", post(open_plans::review))
        .route(
            "/api/v1/open-priorities/{year}",
            put(open_plans::publish_priorities),
        )
        .route("/api/v1/open-feedback", get(open_feedback::list))
        .route(
            "/api/v1/open-feedback/{id}/answer",
            post(open_feedback::answer),
        )
        .route("/api/v1/open/usage", get(open_usage::summary))
        .route(
            "/api/v1/open/datasets/{code}/usage",
            get(open_usage::dataset),
        )
        .route(
            "/api/v1/open-usage/departments.csv",
            get(open_usage::departments_csv),
        )
        .route(
            "/api/v1/open/apps",
            get(open_usage::published).post(open_usage::submit),
        )
        .route("/api/v1/open-apps", get(open_usage::list))
        .route("/api/v1/open-apps/{id}/decision", post(open_usage::decide))
        .route("/open/datasets/{code}/{file}", get(open::file))
        .route("/api/v1/open/keys", post(open_access::issue_key))
        .route(
            "/api/v1/open/datasets/{code}/applications",
            post(open_access::apply),
        )
        .route(
            "/api/v1/open/applications",
            get(open_access::my_applications),
        )
        .route(
            "/api/v1/open/applications/{id}",
            get(open_access::my_application),
        )
        .route(
            "/api/v1/open/applications/{id}/agreement",
            post(open_access::accept_agreement),
        )
        .route(
            "/api/v1/catalog/{id}/open-type-proposals",
            post(open_proposals::propose),
        )
        .route("/api/v1/open-type-proposals", get(open_proposals::list))
        .route(
            "/api/v1/open-type-proposals/{id}/response",
            post(open_proposals::respond),
        )
        .route(
            "/api/v1/open-type-proposals/{id}/decision",
            post(open_proposals::decide),
        )
        .route(
            "/api/v1/open/keys/revoke",
            post(open_access::revoke_own_key),
        )
        .route(
            "/api/v1/open-keys/{id}/revoke",
            post(open_access::revoke_key),
        )
        .route(
            "/api/v1/open-applications/{id}/suspend",
            post(open_access::suspend),
        )
        .route(
            "/api/v1/open-applications/{id}/resume",
            post(open_access::resume),
        )
        .route(
            "/api/v1/open-releases",
            get(open_releases::list).post(open_releases::prepare),
        )
        .route("/api/v1/open-releases/sources", get(open_releases::sources))
        .route(
            "/api/v1/open-releases/preview",
            post(open_releases::preview),
        )
        .route("/api/v1/open-releases/{id}", get(open_releases::get))
        .route(
            "/api/v1/open-releases/{id}/decision",
            post(open_releases::decide),
        )
        .route(
            "/api/v1/open-releases/{id}/refresh",
            post(open_releases::refresh),
        )
        .route(
            "/api/v1/open-releases/{id}/withdraw",
            post(open_releases::withdraw),
        )
        .route("/api/v1/open-applications", get(open_access::review_list))
        .route(
            "/api/v1/open-applications/{id}/review",
            post(open_access::review),
        )
        .route("/api/v1/datasets", get(datasets::list))
        .route("/api/v1/datasets/{resource}", get(datasets::get))
        .route(
            "/api/v1/datasets/{resource}/loads",
            get(datasets::loads)
                .post(datasets::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/datasets/{resource}/push",
            post(datasets::push).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/api/v1/datasets/{resource}/rollback",
            post(datasets::rollback),
        )
        .route(
            "/api/v1/datasets/{resource}/policy",
            put(datasets::set_policy),
        )
        .route(
            "/api/v1/datasets/{resource}/secrecy-review",
            post(datasets::record_secrecy_review),
        )
        .route("/api/v1/datasets/{resource}/rows", get(datasets::rows))
        .route("/api/v1/datasets/{resource}/export", get(datasets::export))
        .route(
            "/api/v1/datasets/{resource}/source",
            get(datasets::get_source).put(datasets::set_source),
        )
        .route(
            "/api/v1/datasets/{resource}/source/test",
            post(datasets::test_source),
        )
        .route("/api/v1/datasets/{resource}/pull", post(datasets::pull))
        .route(
            "/api/v1/datasets/{resource}/uploads",
            post(datasets::start_upload),
        )
        .route(
            "/api/v1/uploads/{id}",
            get(datasets::get_upload)
                .put(datasets::put_chunk)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/uploads/{id}/complete",
            post(datasets::complete_upload),
        )
        .route("/api/v1/loads/{id}", get(datasets::get_load))
        .route("/api/v1/loads/{id}/rejects", get(datasets::rejects))
        .route("/api/v1/loads/{id}/rejects.csv", get(datasets::rejects_csv))
        .route(
            "/api/v1/loads/{id}/rejects.xlsx",
            get(datasets::rejects_xlsx),
        )
        .route("/api/v1/quality", get(datasets::quality))
        .route("/api/v1/quality/history", get(datasets::quality_history))
        .route("/api/v1/freshness/stale", get(datasets::stale))
        .route("/api/v1/bases/{base}", get(datasets::base_status))
        .route("/api/v1/bases/{base}/build", post(datasets::build_base))
        .route(
            "/api/v1/bases/{base}/attributes",
            get(datasets::base_attributes),
        )
        .route(
            "/api/v1/bases/{base}/subjects/{key}",
            get(datasets::subject),
        )
        .route("/api/v1/cross-checks", post(datasets::cross_check))
        .route("/api/v1/discrepancies", get(datasets::discrepancies))
        .route(
            "/api/v1/discrepancies/{id}/resolve",
            post(datasets::resolve),
        )
        .route("/api/v1/audit", get(audit::list_audit))
        .route("/api/v1/audit/verify", post(audit::verify_audit))
        .route("/api/v1/calendar/add-workdays", get(tools::add_workdays))
        .route(
            "/api/v1/calendar/workdays-between",
            get(tools::workdays_between),
        )
        .route("/api/v1/deadlines", get(tools::deadlines))
        .route("/api/v1/check/{kind}/{value}", get(tools::check_identifier))
}
