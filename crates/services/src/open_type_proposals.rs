//! OPN-1 (HZ 31): the data authority may propose to change the open type a public
//! body set for its data; the body agrees or disagrees with reasons, and a
//! disagreement goes to the government of the level, whose decision the authority
//! records. The entry itself changes only through the catalog's own update and
//! review (CAT-2), so a proposal never bypasses it: the proposal shows whether the
//! published entry now has the open type it ended with.
use chrono::Utc;
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::{OpenReason, OpenType};
use gongshu_domain::open::{proposal_outcome, ProposalStatus};
use gongshu_domain::permissions::Permission;
use gongshu_store::{Change, OpenTypeProposal, StatusRecord};
use serde::{Deserialize, Serialize};

use crate::context::{commit_decision, new_id, summary, App, Ctx};
use crate::error::{ServiceError, ServiceResult};

const MAX_TEXT: usize = 2000;

fn text(field: &str, value: &str, zh: &str, en: &str) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(
            "input.required",
            field,
            format!("请填写{zh}"),
            format!("{en} is required"),
        ));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(ServiceError::invalid(
            "input.too_long",
            field,
            format!("{zh}不能超过 {MAX_TEXT} 个字符"),
            format!("{en} must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(v.to_string())
}

fn open_type(field: &str, key: &str) -> ServiceResult<OpenType> {
    OpenType::parse(key.trim()).ok_or_else(|| {
        ServiceError::invalid(
            "catalog.unknown_open_type",
            field,
            format!("未知的开放类型“{key}”"),
            format!("unknown open type '{key}'"),
        )
    })
}

/// The criterion a proposed or decided type needs (HZ 32, HZ 33): one of its own list
/// for conditional or not-open, none for unconditional.
fn reason_for(t: OpenType, reason: Option<&str>) -> ServiceResult<Option<OpenReason>> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let parsed = match reason {
        Some(r) => Some(OpenReason::parse(r).ok_or_else(|| {
            ServiceError::invalid(
                "catalog.unknown_open_reason",
                "proposed_reason",
                format!("未知的开放限制情形“{r}”"),
                format!("unknown criterion '{r}'"),
            )
        })?),
        None => None,
    };
    match (t, parsed) {
        (OpenType::Unconditional, None) => Ok(None),
        (OpenType::Unconditional, Some(_)) => Err(ServiceError::invalid(
            "catalog.open_reason_mismatch",
            "proposed_reason",
            "无条件开放不选开放限制情形（HZ 34）",
            "unconditional opening takes no criterion (HZ 34)",
        )),
        (t, Some(r)) if r.open_type() == t => Ok(Some(r)),
        (t, _) => Err(ServiceError::invalid(
            "catalog.open_reason_required",
            "proposed_reason",
            format!("{}须从 HZ 32、33 中选择相应情形", t.label_zh()),
            format!("{} needs its criterion from HZ 32–33", t.label_en()),
        )),
    }
}

/// What the authority proposes.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewProposal {
    /// `unconditional`, `conditional` or `not_open`.
    pub proposed_type: String,
    /// An `OpenReason` key, for conditional or not-open.
    #[serde(default)]
    pub proposed_reason: Option<String>,
    /// Why.
    pub rationale: String,
}

/// A proposal with where it stands against the published entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    #[serde(flatten)]
    pub proposal: OpenTypeProposal,
    /// The open type it ended with, once ended.
    pub outcome: Option<String>,
    /// The published entry's open type now.
    pub entry_open_type: Option<String>,
    /// Whether the published entry now has the outcome's open type.
    pub applied: bool,
}

async fn view(app: &App, p: OpenTypeProposal) -> ServiceResult<ProposalView> {
    let entry = app.store.get_catalog_entry(&p.entry_id).await?;
    let now = entry
        .as_ref()
        .and_then(|e| e.published.as_ref())
        .map(|c| c.open_type);
    let outcome = ProposalStatus::parse(&p.status).and_then(|s| {
        proposal_outcome(
            s,
            OpenType::parse(&p.proposed_type).unwrap_or(OpenType::NotOpen),
            p.decided_type.as_deref().and_then(OpenType::parse),
        )
    });
    Ok(ProposalView {
        applied: outcome.is_some() && outcome == now,
        outcome: outcome.map(|t| t.key().to_string()),
        entry_open_type: now.map(|t| t.key().to_string()),
        proposal: p,
    })
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::not_found("开放类型修改建议", "open-type proposal", id)
}

/// OPN-1 (HZ 31): the authority proposes a different open type for a published entry.
pub async fn propose(
    app: &App,
    ctx: &Ctx,
    entry_id_or_code: &str,
    input: NewProposal,
) -> ServiceResult<ProposalView> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let entry = crate::catalog::find_entry(app, entry_id_or_code)
        .await?
        .ok_or_else(|| ServiceError::not_found("目录", "catalog entry", entry_id_or_code))?;
    let Some(published) = entry.published.as_ref() else {
        return Err(ServiceError::conflict(
            "open.proposal_unpublished",
            "目录尚未发布，没有可修改的开放类型",
            "the entry is not published: there is no open type to change yet",
        ));
    };
    let proposed = open_type("proposed_type", &input.proposed_type)?;
    if proposed == published.open_type {
        return Err(ServiceError::invalid(
            "open.proposal_same_type",
            "proposed_type",
            format!("目录的开放类型已是“{}”", proposed.label_zh()),
            format!("the entry is already '{}'", proposed.label_en()),
        ));
    }
    let reason = reason_for(proposed, input.proposed_reason.as_deref())?;
    let rationale = text("rationale", &input.rationale, "建议理由", "The rationale")?;
    let pending = app
        .store
        .list_open_type_proposals(Some(&published.source_org_id))
        .await?;
    if pending.iter().any(|p| {
        p.entry_id == entry.id
            && matches!(
                ProposalStatus::parse(&p.status),
                Some(ProposalStatus::Proposed | ProposalStatus::Disputed)
            )
    }) {
        return Err(ServiceError::conflict(
            "open.proposal_pending",
            "该目录已有未办结的开放类型修改建议",
            "the entry already has an open-type proposal in progress",
        ));
    }
    let now = truncate_to_micros(Utc::now());
    let p = OpenTypeProposal {
        id: new_id(),
        entry_id: entry.id.clone(),
        entry_code: entry.code.clone(),
        entry_name: published.name.clone(),
        source_org_id: published.source_org_id.clone(),
        current_type: published.open_type.key().into(),
        proposed_type: proposed.key().into(),
        proposed_reason: reason.map(|r| r.key().to_string()),
        rationale,
        proposed_by: ctx.principal.actor.clone(),
        status: ProposalStatus::Proposed.key().into(),
        response: None,
        responded_by: None,
        responded_at: None,
        decided_type: None,
        decision: None,
        decided_by: None,
        decided_at: None,
        created_at: now,
        updated_at: now,
    };
    commit(app, ctx, "open.type_propose", &p, None).await?;
    view(app, p).await
}

/// Writes the proposal; an answer or decision (`read_status`: the status it was
/// taken on) only if no other was recorded meanwhile.
async fn commit(
    app: &App,
    ctx: &Ctx,
    action: &str,
    p: &OpenTypeProposal,
    read_status: Option<ProposalStatus>,
) -> ServiceResult<()> {
    let mut audit = ctx.audit(action, "open_type_proposal", &p.id);
    audit.org_id = Some(p.source_org_id.clone());
    audit.after = summary(p);
    let changes = vec![Change::PutOpenTypeProposal(p.clone())];
    match read_status {
        None => {
            app.store.commit(changes, vec![audit]).await?;
            Ok(())
        }
        Some(status) => {
            commit_decision(
                app,
                StatusRecord::OpenTypeProposal,
                &p.id,
                status.key(),
                changes,
                vec![audit],
            )
            .await
        }
    }
}

async fn load(app: &App, id: &str) -> ServiceResult<OpenTypeProposal> {
    app.store
        .get_open_type_proposal(id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// The source's answer.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ProposalResponse {
    pub agree: bool,
    /// Required when disagreeing; the government reads it.
    #[serde(default)]
    pub response: String,
}

/// OPN-1 (HZ 31): the source department agrees (then updates its entry through the
/// catalog's review) or disagrees with reasons, which sends it to the government.
pub async fn respond(
    app: &App,
    ctx: &Ctx,
    id: &str,
    input: ProposalResponse,
) -> ServiceResult<ProposalView> {
    let mut p = load(app, id).await?;
    ctx.principal
        .authorize(Permission::OpenReview, Some(&p.source_org_id))?;
    if p.status != ProposalStatus::Proposed.key() {
        return Err(ServiceError::conflict(
            "open.proposal_answered",
            "该建议已答复",
            "the proposal is already answered",
        ));
    }
    let response = if input.agree {
        input.response.trim().to_string()
    } else {
        text(
            "response",
            &input.response,
            "不同意的理由",
            "The reasons for disagreeing",
        )?
    };
    let now = truncate_to_micros(Utc::now());
    p.status = if input.agree {
        ProposalStatus::Accepted
    } else {
        ProposalStatus::Disputed
    }
    .key()
    .into();
    p.response = Some(response);
    p.responded_by = Some(ctx.principal.actor.clone());
    p.responded_at = Some(now);
    p.updated_at = now;
    let action = if input.agree {
        "open.type_proposal_accept"
    } else {
        "open.type_proposal_dispute"
    };
    commit(app, ctx, action, &p, Some(ProposalStatus::Proposed)).await?;
    view(app, p).await
}

/// The government's decision on a dispute, as the authority records it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct GovernmentDecision {
    /// The open type the government set.
    pub decided_type: String,
    /// The decision as written, with its document number.
    pub decision: String,
}

/// OPN-1 (HZ 31): records the government's decision on a disputed proposal.
pub async fn record_decision(
    app: &App,
    ctx: &Ctx,
    id: &str,
    input: GovernmentDecision,
) -> ServiceResult<ProposalView> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let mut p = load(app, id).await?;
    if p.status != ProposalStatus::Disputed.key() {
        return Err(ServiceError::conflict(
            "open.proposal_not_disputed",
            "只有意见不一致的建议才报政府决定",
            "only a disputed proposal goes to the government",
        ));
    }
    let decided = open_type("decided_type", &input.decided_type)?;
    let decision = text(
        "decision",
        &input.decision,
        "决定内容及文号",
        "The decision",
    )?;
    let now = truncate_to_micros(Utc::now());
    p.status = ProposalStatus::Decided.key().into();
    p.decided_type = Some(decided.key().into());
    p.decision = Some(decision);
    p.decided_by = Some(ctx.principal.actor.clone());
    p.decided_at = Some(now);
    p.updated_at = now;
    commit(
        app,
        ctx,
        "open.type_proposal_decide",
        &p,
        Some(ProposalStatus::Disputed),
    )
    .await?;
    view(app, p).await
}

/// The proposals the caller deals with: all for the authority, its own entries' for
/// a source department.
pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ProposalView>> {
    let org = if ctx.principal.holds_globally(Permission::OpenCoordinate) {
        None
    } else {
        let org = ctx.principal.org_id.clone();
        ctx.principal
            .authorize(Permission::OpenReview, org.as_deref())?;
        org
    };
    let mut out = Vec::new();
    for p in app.store.list_open_type_proposals(org.as_deref()).await? {
        out.push(view(app, p).await?);
    }
    Ok(out)
}
