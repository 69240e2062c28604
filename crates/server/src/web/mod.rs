//! The console: server-rendered pages, 中文 by default with an English switch, every
//! form CSRF-protected. Handlers parse the form, call one service, render.
pub mod catalog;
pub mod data;
pub mod data_source;
pub mod open_feedback;
pub mod open_plans;
pub mod open_proposals;
pub mod open_releases;
pub mod open_usage;
pub mod pages;
pub mod portal;
pub mod portal_access;
pub mod render;
pub mod sharing;
pub mod upstream;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::switch_lang))
        .route("/", get(pages::home))
        .route("/orgs", get(pages::orgs_page).post(pages::create_org))
        .route("/orgs/{id}", get(pages::org_page))
        .route("/orgs/{id}/officers", post(pages::file_officer))
        .route("/orgs/{id}/processors", post(pages::authorize_processor))
        .route("/processors/{id}/file", post(pages::file_processor))
        .route("/processors/{id}/revoke", post(pages::revoke_processor))
        .route(
            "/divisions",
            get(pages::divisions_page).post(pages::upsert_division),
        )
        .route("/users", get(pages::users_page).post(pages::create_user))
        .route("/users/{id}/disable", post(pages::disable_user))
        .route("/users/{id}/enable", post(pages::enable_user))
        .route("/users/{id}/reset-password", post(pages::reset_password))
        .route("/tokens", get(pages::tokens_page).post(pages::create_token))
        .route("/tokens/{id}/revoke", post(pages::revoke_token))
        .route(
            "/catalog",
            get(catalog::catalog_page).post(catalog::create_entry),
        )
        .route("/catalog/new", get(catalog::new_entry_page))
        .route("/catalog/search", get(catalog::search_page))
        .route("/catalog/lists", get(catalog::lists_page))
        .route("/catalog/demands", post(catalog::create_demand))
        .route("/catalog/demands/{id}/answer", post(catalog::answer_demand))
        .route(
            "/catalog/scenarios",
            get(catalog::scenarios_page).post(catalog::create_scenario),
        )
        .route(
            "/catalog/projects",
            get(catalog::projects_page).post(catalog::register_project),
        )
        .route("/catalog/projects/{id}/check", post(catalog::check_project))
        .route(
            "/catalog/social-data",
            get(catalog::social_data_page).post(catalog::record_social_data),
        )
        .route("/catalog/upstream", get(upstream::page).post(upstream::run))
        .route(
            "/catalog/upstream/{entry}/exemption",
            post(upstream::exemption),
        )
        .route(
            "/catalog/import",
            post(catalog::import_sheet).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::catalog_sheet::MAX_SHEET_BYTES,
            )),
        )
        .route(
            "/catalog/changes",
            get(catalog::changes_page).post(catalog::record_change),
        )
        .route(
            "/catalog/changes/{id}/complete",
            post(catalog::complete_change),
        )
        .route(
            "/catalog/conflicts",
            get(catalog::conflicts_page).post(catalog::resolve_conflict),
        )
        .route(
            "/catalog/{id}",
            get(catalog::entry_page).post(catalog::update_entry),
        )
        .route("/catalog/{id}/edit", get(catalog::edit_entry_page))
        .route("/catalog/{id}/review", post(catalog::review_entry))
        .route("/catalog/{id}/offline", post(catalog::take_offline))
        .route("/data", get(data::overview))
        .route("/data/quality", get(data::quality_page))
        .route("/data/quality/history", get(data::quality_history_page))
        .route("/data/bases", get(data::bases_page))
        .route("/data/bases/{base}/build", post(data::build_base))
        .route("/data/cross-check", post(data::cross_check))
        .route("/data/discrepancies", get(data::discrepancies_page))
        .route("/data/discrepancies/{id}/resolve", post(data::resolve))
        .route("/data/loads/{id}", get(data::load_page))
        .route("/data/{resource}", get(data::resource_page))
        .route(
            "/data/{resource}/upload",
            post(data::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/data/{resource}/policy", post(data::set_policy))
        .route(
            "/data/{resource}/secrecy-review",
            post(data::record_secrecy_review),
        )
        .route(
            "/data/{resource}/source",
            get(data_source::source_page).post(data_source::save_source),
        )
        .route(
            "/data/{resource}/source/test",
            post(data_source::test_source),
        )
        .route("/data/{resource}/source/pull", post(data_source::pull_now))
        .route("/data/{resource}/rollback", post(data::rollback))
        .route("/share", get(sharing::overview))
        .route("/share/new", get(sharing::new_request_page))
        .route("/share/requests", post(sharing::submit_request))
        .route("/share/new-bundle", get(sharing::new_bundle_page))
        .route("/share/bundles", post(sharing::submit_bundle))
        .route("/share/requests/{id}", get(sharing::request_page))
        .route("/share/requests/{id}/steps", post(sharing::take_step))
        .route("/share/grants", get(sharing::grants_page))
        .route("/share/grants/{id}/status", post(sharing::grant_status))
        .route("/share/replace", post(sharing::replace_resource))
        .route("/share/query/{grant}", get(sharing::page_query))
        .route("/share/access", get(sharing::access_page))
        .route("/open", get(portal::home))
        .route("/open/datasets", get(portal::search))
        .route("/open/datasets/{code}", get(portal::dataset))
        .route("/open/developer", get(portal_access::developer_page))
        .route("/open/developer/keys", post(portal_access::issue_key))
        .route("/open/developer/session", post(portal_access::enter_key))
        .route("/open/developer/forget", post(portal_access::forget_key))
        .route(
            "/open/datasets/{code}/apply",
            get(portal_access::apply_page).post(portal_access::apply),
        )
        .route("/open/applications", get(portal_access::my_applications))
        .route(
            "/open/applications/{id}",
            get(portal_access::my_application),
        )
        .route(
            "/open/applications/{id}/agreement",
            post(portal_access::accept_agreement),
        )
        .route(
            "/open-type-proposals",
            get(open_proposals::page).post(open_proposals::propose),
        )
        .route(
            "/open-type-proposals/{id}/response",
            post(open_proposals::respond),
        )
        .route(
            "/open-type-proposals/{id}/decision",
            post(open_proposals::decide),
        )
        .route(
            "/open-releases",
            get(open_releases::page).post(open_releases::submit),
        )
        .route("/open-releases/{id}/decision", post(open_releases::decide))
        .route("/open-releases/{id}/refresh", post(open_releases::refresh))
        .route(
            "/open-releases/{id}/withdraw",
            post(open_releases::withdraw),
        )
        .route("/open-applications", get(portal_access::review_page))
        .route(
            "/open-applications/{id}/status",
            post(portal_access::set_status),
        )
        .route(
            "/open-applications/{id}/review",
            post(portal_access::review),
        )
        .route(
            "/open/datasets/{code}/feedback",
            post(open_feedback::report),
        )
        .route("/open/feedback/{id}", get(open_feedback::status))
        .route(
            "/open/apps",
            get(open_usage::apps_page).post(open_usage::submit_app),
        )
        .route("/open-usage", get(open_usage::usage_page))
        .route("/open-apps", get(open_usage::review_page))
        .route("/open-apps/{id}/decision", post(open_usage::decide))
        .route("/open-feedback", get(open_feedback::list_page))
        .route("/open-feedback/{id}/answer", post(open_feedback::answer))
        .route("/open/plans", get(open_plans::portal_page))
        .route(
            "/open-plans",
            get(open_plans::console_page).post(open_plans::save),
        )
        .route(
            "/open-plans/priorities",
            post(open_plans::publish_priorities),
        )
        .route("/open-plans/{id}/review", post(open_plans::review))
        .route("/audit", get(pages::audit_page))
        .route("/audit/verify", post(pages::verify_audit))
}
