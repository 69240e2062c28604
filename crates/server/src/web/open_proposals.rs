//! OPN-1 (HZ 31) in the console: the authority proposes another open type for a
//! published entry; the source agrees or disagrees; the authority records the
//! government's decision on a dispute.
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gongshu_domain::catalog::{OpenReason, OpenType};
use gongshu_domain::permissions::Permission;
use gongshu_services::open_type_proposals::{
    self, GovernmentDecision, NewProposal, ProposalResponse,
};
use minijinja::context;
use serde::Deserialize;

use super::pages::fail;
use super::render::{csrf_rejected, render_page, WebUser};
use crate::extract::WebForm;
use crate::state::AppState;

const BACK: &str = "/open-type-proposals";

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// GET /open-type-proposals.
pub async fn page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    match open_type_proposals::list(&state.app, &web.ctx).await {
        Ok(list) => render_page(
            &state,
            "open_proposals.html",
            web.lang,
            Some(&web),
            context! {
                proposals => list,
                done => q.done,
                authority => web.ctx.principal.holds_globally(Permission::OpenCoordinate),
                reviewer => web.ctx.principal.holds(Permission::OpenReview),
                open_types => OpenType::ALL.iter().map(|t| t.key()).collect::<Vec<_>>(),
                open_reasons => OpenReason::ALL.iter().map(|r| r.key()).collect::<Vec<_>>(),
            },
        )
        .into_response(),
        Err(e) => fail(&state, &web, e, "/"),
    }
}

#[derive(Debug, Deserialize)]
pub struct ProposeForm {
    csrf: String,
    entry: String,
    proposed_type: String,
    #[serde(default)]
    proposed_reason: String,
    rationale: String,
}

/// POST /open-type-proposals.
pub async fn propose(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<ProposeForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = NewProposal {
        proposed_type: f.proposed_type,
        proposed_reason: Some(f.proposed_reason),
        rationale: f.rationale,
    };
    match open_type_proposals::propose(&state.app, &web.ctx, f.entry.trim(), input).await {
        Ok(_) => Redirect::to(&format!("{BACK}?done=proposed")).into_response(),
        Err(e) => fail(&state, &web, e, BACK),
    }
}

#[derive(Debug, Deserialize)]
pub struct RespondForm {
    csrf: String,
    answer: String,
    #[serde(default)]
    response: String,
}

/// POST /open-type-proposals/{id}/response.
pub async fn respond(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<RespondForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = ProposalResponse {
        agree: f.answer == "agree",
        response: f.response,
    };
    match open_type_proposals::respond(&state.app, &web.ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!("{BACK}?done=answered")).into_response(),
        Err(e) => fail(&state, &web, e, BACK),
    }
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf: String,
    decided_type: String,
    decision: String,
}

/// POST /open-type-proposals/{id}/decision.
pub async fn decide(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    WebForm(f): WebForm<DecisionForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = GovernmentDecision {
        decided_type: f.decided_type,
        decision: f.decision,
    };
    match open_type_proposals::record_decision(&state.app, &web.ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!("{BACK}?done=decided")).into_response(),
        Err(e) => fail(&state, &web, e, BACK),
    }
}
