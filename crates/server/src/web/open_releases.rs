//! OPN-5, OPN-6 in the console: a source department picks one of its entries, sets
//! a rule per item and the quasi-identifiers, sees k and a sample, and submits the
//! release; the authority approves or returns it; a published release is refreshed
//! or withdrawn.
use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gongshu_domain::catalog::OpenReason;
use gongshu_domain::permissions::Permission;
use gongshu_domain::release::ReleaseStatus;
use gongshu_services::releases::{
    self, ReleaseDecision, ReleaseInput, ReleasePreview, ReleaseQuery, ReleaseWithdrawal,
};
use gongshu_services::ServiceError;
use gongshu_store::ReleaseConsent;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::pages::fail;
use super::render::{csrf_rejected, render_page, WebUser};
use crate::error::status_of;
use crate::extract::WebForm;
use crate::state::AppState;

const BACK: &str = "/open-releases";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    source: String,
    #[serde(default)]
    done: String,
}

/// What the release form holds, to show it again after a preview or a refusal.
#[derive(Debug, Default, Clone, Serialize)]
struct FormState {
    source: String,
    name: String,
    basis: String,
    rules: BTreeMap<String, String>,
    qi: Vec<String>,
    k: String,
    max_suppression_percent: String,
    open_type: String,
    open_conditions: String,
    open_reason: String,
    subjects: String,
    scope: String,
    document: String,
}

impl FormState {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = FormState::default();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "source" => f.source = v,
                "name" => f.name = v,
                "basis" => f.basis = v,
                "k" => f.k = v,
                "max_suppression_percent" => f.max_suppression_percent = v,
                "open_type" => f.open_type = v,
                "open_conditions" => f.open_conditions = v,
                "open_reason" => f.open_reason = v,
                "consent_subjects" => f.subjects = v,
                "consent_scope" => f.scope = v,
                "consent_document" => f.document = v,
                "qi" => f.qi.push(v),
                other => {
                    if let Some(item) = other.strip_prefix("rule.") {
                        f.rules.insert(item.to_string(), v);
                    }
                }
            }
        }
        f
    }

    fn number(field: &str, text: &str) -> Result<Option<u32>, ServiceError> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse().map(Some).map_err(|_| {
            ServiceError::invalid(
                "input.not_a_number",
                field,
                format!("“{t}”不是整数"),
                format!("'{t}' is not a whole number"),
            )
        })
    }

    fn input(&self) -> Result<ReleaseInput, ServiceError> {
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let consent = self.basis == "consent";
        Ok(ReleaseInput {
            source: self.source.clone(),
            name: given(&self.name),
            basis: given(&self.basis),
            rules: self.rules.clone(),
            quasi_identifiers: self.qi.clone(),
            k: Self::number("k", &self.k)?,
            max_suppression_percent: Self::number(
                "max_suppression_percent",
                &self.max_suppression_percent,
            )?,
            open_type: given(&self.open_type),
            open_conditions: given(&self.open_conditions),
            open_reason: given(&self.open_reason),
            consent: consent.then(|| ReleaseConsent {
                subjects: self.subjects.clone(),
                scope: self.scope.clone(),
                document: self.document.clone(),
            }),
        })
    }
}

/// Renders the page: the releases, the form for `form.source`, and a preview or
/// an error of the last submission.
async fn show(
    state: &AppState,
    web: &WebUser,
    form: FormState,
    done: &str,
    preview: Option<ReleasePreview>,
    error: Option<ServiceError>,
) -> Response {
    let p = &web.ctx.principal;
    let authority = p.holds_globally(Permission::OpenCoordinate);
    let reviewer = p.holds(Permission::OpenReview);
    let list = match releases::list(&state.app, &web.ctx, ReleaseQuery::default()).await {
        Ok(l) => l,
        Err(e) => return fail(state, web, e, "/"),
    };
    let sources = if reviewer {
        releases::sources(&state.app, &web.ctx)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let selected = sources
        .iter()
        .find(|s| s.id == form.source || s.code == form.source)
        .cloned();
    let status = error
        .as_ref()
        .map(|e| status_of(e.kind))
        .unwrap_or(axum::http::StatusCode::OK);
    let page = render_page(
        state,
        "open_releases.html",
        web.lang,
        Some(web),
        context! {
            releases => list,
            authority => authority,
            reviewer => reviewer,
            sources => sources,
            selected => selected,
            form => form,
            preview => preview,
            error => error.map(|e| context! { code => e.code, message => e.message, message_en => e.message_en, field => e.field }),
            done => done,
            k_min => state.app.settings.release_min_k,
            max_suppression => state.app.settings.release_max_suppression_percent,
            open_reasons => OpenReason::ALL
                .iter()
                .filter(|r| r.open_type() == gongshu_domain::catalog::OpenType::Conditional && **r != OpenReason::SubjectConsented)
                .map(|r| r.key())
                .collect::<Vec<_>>(),
            pending => ReleaseStatus::Pending.key(),
            published => ReleaseStatus::Published.key(),
        },
    );
    (status, page).into_response()
}

/// GET /open-releases.
pub async fn page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<PageQuery>,
) -> Response {
    let form = FormState {
        source: q.source,
        ..FormState::default()
    };
    show(&state, &web, form, &q.done, None, None).await
}

/// POST /open-releases: `action=preview` shows k and a sample; `action=prepare`
/// submits the release to the authority.
pub async fn submit(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(pairs): WebForm<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if !web.csrf_ok(&get("csrf")) {
        return csrf_rejected();
    }
    let form = FormState::from_pairs(&pairs);
    let input = match form.input() {
        Ok(i) => i,
        Err(e) => return show(&state, &web, form, "", None, Some(e)).await,
    };
    if get("action") == "prepare" {
        match releases::prepare(&state.app, &web.ctx, input).await {
            Ok(_) => Redirect::to(&format!("{BACK}?done=prepared")).into_response(),
            Err(e) => show(&state, &web, form, "", None, Some(e)).await,
        }
    } else {
        match releases::preview(&state.app, &web.ctx, input).await {
            Ok(p) => show(&state, &web, form, "", Some(p), None).await,
            Err(e) => show(&state, &web, form, "", None, Some(e)).await,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

/// POST /open-releases/{id}/decision (the authority).
pub async fn decide(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<DecisionForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let d = ReleaseDecision {
        approve: f.decision == "approve",
        reason: Some(f.reason),
    };
    match releases::decide(&state.app, &web.ctx, &id, d).await {
        Ok(_) => Redirect::to(&format!("{BACK}?done=decided")).into_response(),
        Err(e) => fail(&state, &web, e, BACK),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// POST /open-releases/{id}/refresh.
pub async fn refresh(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    match releases::refresh(&state.app, &web.ctx, &id).await {
        Ok(_) => Redirect::to(&format!("{BACK}?done=refreshed")).into_response(),
        Err(e) => fail(&state, &web, e, BACK),
    }
}

#[derive(Debug, Deserialize)]
pub struct WithdrawForm {
    csrf: String,
    reason: String,
}

/// POST /open-releases/{id}/withdraw.
pub async fn withdraw(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<WithdrawForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let w = ReleaseWithdrawal { reason: f.reason };
    match releases::withdraw(&state.app, &web.ctx, &id, w).await {
        Ok(_) => Redirect::to(&format!("{BACK}?done=withdrawn")).into_response(),
        Err(e) => fail(&state, &web, e, BACK),
    }
}
