//! Templates compiled into the binary, the 中文/English switch, and the console session.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use gongshu_domain::ids::DivisionLevel;
use gongshu_domain::org::{OfficerRole, OrgKind, ProcessorStatus};
use gongshu_domain::permissions::{Permission, Role};
use gongshu_services::{identity, Ctx};
use gongshu_store::User;
use minijinja::{Environment, State as TplState, Value};

use crate::extract::{constant_time_eq, cookie, request_id, LANG_COOKIE, SESSION_COOKIE};
use crate::state::AppState;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("orgs.html", include_str!("../../templates/orgs.html")),
    ("org.html", include_str!("../../templates/org.html")),
    (
        "divisions.html",
        include_str!("../../templates/divisions.html"),
    ),
    ("users.html", include_str!("../../templates/users.html")),
    ("tokens.html", include_str!("../../templates/tokens.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    ("result.html", include_str!("../../templates/result.html")),
    ("catalog.html", include_str!("../../templates/catalog.html")),
    (
        "catalog_scenarios.html",
        include_str!("../../templates/catalog_scenarios.html"),
    ),
    (
        "catalog_projects.html",
        include_str!("../../templates/catalog_projects.html"),
    ),
    (
        "catalog_social_data.html",
        include_str!("../../templates/catalog_social_data.html"),
    ),
    (
        "catalog_upstream.html",
        include_str!("../../templates/catalog_upstream.html"),
    ),
    (
        "catalog_lists.html",
        include_str!("../../templates/catalog_lists.html"),
    ),
    (
        "catalog_import.html",
        include_str!("../../templates/catalog_import.html"),
    ),
    (
        "catalog_search.html",
        include_str!("../../templates/catalog_search.html"),
    ),
    (
        "catalog_conflicts.html",
        include_str!("../../templates/catalog_conflicts.html"),
    ),
    (
        "catalog_changes.html",
        include_str!("../../templates/catalog_changes.html"),
    ),
    (
        "catalog_form.html",
        include_str!("../../templates/catalog_form.html"),
    ),
    (
        "catalog_entry.html",
        include_str!("../../templates/catalog_entry.html"),
    ),
    (
        "data_datasets.html",
        include_str!("../../templates/data_datasets.html"),
    ),
    (
        "data_dataset.html",
        include_str!("../../templates/data_dataset.html"),
    ),
    (
        "data_source.html",
        include_str!("../../templates/data_source.html"),
    ),
    ("share.html", include_str!("../../templates/share.html")),
    (
        "share_form.html",
        include_str!("../../templates/share_form.html"),
    ),
    (
        "share_bundle_form.html",
        include_str!("../../templates/share_bundle_form.html"),
    ),
    (
        "share_request.html",
        include_str!("../../templates/share_request.html"),
    ),
    (
        "share_grants.html",
        include_str!("../../templates/share_grants.html"),
    ),
    (
        "share_query.html",
        include_str!("../../templates/share_query.html"),
    ),
    (
        "share_access.html",
        include_str!("../../templates/share_access.html"),
    ),
    (
        "data_load.html",
        include_str!("../../templates/data_load.html"),
    ),
    (
        "data_quality.html",
        include_str!("../../templates/data_quality.html"),
    ),
    (
        "data_quality_history.html",
        include_str!("../../templates/data_quality_history.html"),
    ),
    (
        "data_bases.html",
        include_str!("../../templates/data_bases.html"),
    ),
    (
        "data_discrepancies.html",
        include_str!("../../templates/data_discrepancies.html"),
    ),
    (
        "portal_base.html",
        include_str!("../../templates/portal_base.html"),
    ),
    (
        "portal_home.html",
        include_str!("../../templates/portal_home.html"),
    ),
    (
        "portal_search.html",
        include_str!("../../templates/portal_search.html"),
    ),
    (
        "portal_dataset.html",
        include_str!("../../templates/portal_dataset.html"),
    ),
    (
        "portal_feedback.html",
        include_str!("../../templates/portal_feedback.html"),
    ),
    (
        "open_feedback.html",
        include_str!("../../templates/open_feedback.html"),
    ),
    (
        "open_plans.html",
        include_str!("../../templates/open_plans.html"),
    ),
    (
        "portal_plans.html",
        include_str!("../../templates/portal_plans.html"),
    ),
    (
        "portal_developer.html",
        include_str!("../../templates/portal_developer.html"),
    ),
    (
        "portal_key_issued.html",
        include_str!("../../templates/portal_key_issued.html"),
    ),
    (
        "portal_apply.html",
        include_str!("../../templates/portal_apply.html"),
    ),
    (
        "portal_applications.html",
        include_str!("../../templates/portal_applications.html"),
    ),
    (
        "portal_application.html",
        include_str!("../../templates/portal_application.html"),
    ),
    (
        "open_proposals.html",
        include_str!("../../templates/open_proposals.html"),
    ),
    (
        "open_releases.html",
        include_str!("../../templates/open_releases.html"),
    ),
    (
        "open_applications.html",
        include_str!("../../templates/open_applications.html"),
    ),
    (
        "portal_apps.html",
        include_str!("../../templates/portal_apps.html"),
    ),
    (
        "open_usage.html",
        include_str!("../../templates/open_usage.html"),
    ),
    (
        "open_apps.html",
        include_str!("../../templates/open_apps.html"),
    ),
    (
        "api_docs.html",
        include_str!("../../templates/api_docs.html"),
    ),
];

/// The template environment, with `tr(zh, en)` and `label(group, key)`.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source).expect("templates compile");
    }
    env.add_function("tr", |state: &TplState, zh: String, en: String| -> String {
        if is_en(state) {
            en
        } else {
            zh
        }
    });
    env.add_function(
        "label",
        |state: &TplState, group: String, key: String| -> String {
            let en = is_en(state);
            let pick = |zh: &str, e: &str| if en { e.to_string() } else { zh.to_string() };
            let found = match group.as_str() {
                "org_kind" => OrgKind::parse(&key).map(|k| pick(k.label_zh(), k.label_en())),
                "officer_role" => {
                    OfficerRole::parse(&key).map(|k| pick(k.label_zh(), k.label_en()))
                }
                "role" => Role::parse(&key).map(|k| pick(k.label_zh(), k.label_en())),
                "permission" => Permission::parse(&key).map(|k| pick(k.label_zh(), k.label_en())),
                "processor_status" => {
                    ProcessorStatus::parse(&key).map(|k| pick(k.label_zh(), k.label_en()))
                }
                "division_level" => {
                    DivisionLevel::parse(&key).map(|k| pick(k.label_zh(), k.label_en()))
                }
                _ => catalog_label(&group, &key).map(|(zh, e)| pick(zh, e)),
            };
            found.unwrap_or(key)
        },
    );
    env.add_filter("beijing", |v: Value| -> String {
        let s = v.to_string();
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| {
                t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or(s)
    });
    env
}

/// Labels of the catalog's enumerations, by group name.
fn catalog_label(group: &str, key: &str) -> Option<(&'static str, &'static str)> {
    use gongshu_domain::catalog as c;
    macro_rules! pair {
        ($t:ty) => {
            <$t>::parse(key).map(|k| (k.label_zh(), k.label_en()))
        };
    }
    match group {
        "category" => pair!(c::Category),
        "domain" => pair!(c::Domain),
        "format" => pair!(c::ResourceFormat),
        "share_type" => pair!(c::ShareType),
        "share_mode" => pair!(c::ShareMode),
        "open_type" => pair!(c::OpenType),
        "open_reason" => pair!(c::OpenReason),
        "frequency" => pair!(c::UpdateFrequency),
        "grade" => pair!(c::Grade),
        "sensitivity" => pair!(c::Sensitivity),
        "field_type" => pair!(c::FieldType),
        "key_role" => pair!(c::KeyRole),
        "stage" => pair!(c::Stage),
        "check_dimension" => pair!(c::CheckDimension),
        "access_mode" => pair!(gongshu_domain::sharing::AccessMode),
        "request_status" => pair!(gongshu_domain::sharing::RequestStatus),
        "feedback_kind" => pair!(gongshu_domain::open::FeedbackKind),
        "feedback_action" => pair!(gongshu_domain::open::FeedbackAction),
        "feedback_status" => pair!(gongshu_domain::open::FeedbackStatus),
        "plan_status" => pair!(gongshu_domain::open_plan::PlanStatus),
        "plan_decision" => pair!(gongshu_domain::open_plan::PlanDecision),
        "open_application_status" => pair!(gongshu_domain::open::OpenApplicationStatus),
        "applicant_kind" => pair!(gongshu_domain::open::ApplicantKind),
        "showcase_kind" => pair!(gongshu_domain::showcase::ShowcaseKind),
        "showcase_status" => pair!(gongshu_domain::showcase::ShowcaseStatus),
        "showcase_action" => pair!(gongshu_domain::showcase::ShowcaseAction),
        "proposal_status" => pair!(gongshu_domain::open::ProposalStatus),
        "release_status" => pair!(gongshu_domain::release::ReleaseStatus),
        "release_basis" => pair!(gongshu_domain::release::ReleaseBasis),
        "request_action" => pair!(gongshu_domain::sharing::RequestAction),
        "grant_status" => pair!(gongshu_domain::sharing::GrantStatus),
        "grant_action" => pair!(gongshu_domain::sharing::GrantAction),
        "social_acquisition" => pair!(gongshu_domain::social_data::SocialAcquisition),
        "social_data_kind" => pair!(gongshu_domain::social_data::SocialDataKind),
        "review_action" => match key {
            "create" => Some(("登记", "Registered")),
            "update" => Some(("修改", "Edited")),
            "offline" => Some(("下架", "Taken offline")),
            _ => pair!(c::ReviewAction),
        },
        _ => None,
    }
}

fn is_en(state: &TplState) -> bool {
    state
        .lookup("lang")
        .map(|v| v.as_str() == Some("en"))
        .unwrap_or(false)
}

/// The console language: 中文 by default, English by the switch (a cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(&self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(
            if cookie(&parts.headers, LANG_COOKIE).as_deref() == Some("en") {
                Lang::En
            } else {
                Lang::Zh
            },
        )
    }
}

/// A logged-in console user.
pub struct WebUser {
    pub ctx: Ctx,
    pub user: User,
    pub csrf: String,
    pub lang: Lang,
}

impl WebUser {
    /// Whether a form's CSRF field matches the session's.
    pub fn csrf_ok(&self, sent: &str) -> bool {
        constant_time_eq(sent.as_bytes(), self.csrf.as_bytes())
    }
}

/// The answer to a form whose CSRF field is missing or wrong.
pub fn csrf_rejected() -> Response {
    (
        axum::http::StatusCode::FORBIDDEN,
        Html("<p>CSRF 校验失败，请刷新页面后重试 · CSRF check failed, reload the page and try again</p>"),
    )
        .into_response()
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_request_parts(parts, state)
            .await
            .unwrap_or(Lang::Zh);
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match identity::authenticate_session(&state.app, &secret).await {
            Ok(Some((user, session, principal))) => Ok(WebUser {
                ctx: Ctx::new(principal, request_id(parts)),
                user,
                csrf: session.csrf_token,
                lang,
            }),
            _ => Err(to_login()),
        }
    }
}

/// Percent-encodes a value for a URL query.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Renders a page with the layout's common context.
pub fn render_page(
    state: &AppState,
    name: &str,
    lang: Lang,
    user: Option<&WebUser>,
    ctx: Value,
) -> Html<String> {
    let common = minijinja::context! {
        lang => lang.code(),
        me => user.map(|u| minijinja::context! {
            username => u.user.username.clone(),
            display_name => u.user.display_name.clone(),
            org_id => u.user.org_id.clone(),
            roles => u.user.roles.clone(),
        }),
        csrf => user.map(|u| u.csrf.clone()),
        can => user.map(|u| {
            Permission::ALL.iter().filter(|p| u.ctx.principal.holds(**p)).map(|p| p.key().to_string()).collect::<Vec<_>>()
        }).unwrap_or_default(),
    };
    let merged = minijinja::context! { ..ctx, ..common };
    match state
        .templates
        .get_template(name)
        .and_then(|t| t.render(merged))
    {
        Ok(html) => Html(html),
        Err(e) => {
            tracing::error!(error = %e, template = name, "template failed");
            Html(format!(
                "<p>页面渲染失败 · page failed to render: {}</p>",
                minijinja::HtmlEscape(&e.to_string())
            ))
        }
    }
}
