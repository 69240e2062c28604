//! SHR-3 … SHR-9, SHR-12: share requests between government bodies, the steps they
//! pass on working-day deadlines, the grants they end in, and consumers' use reports.
//! Reading rows under a grant is the egress gate's job (`egress`).
use chrono::{DateTime, NaiveDate, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::{FieldError, ShareType};
use gongshu_domain::deadlines::DeadlineKind;
use gongshu_domain::masking::MaskPolicy;
use gongshu_domain::permissions::Permission;
use gongshu_domain::sharing::{
    check_draft, check_replacement, grant_transition, initial_status, step, AccessMode,
    GrantAction, GrantStatus, ReplacementFacts, RequestAction, RequestDraft, RequestStatus,
    RowFilter, COMMITMENT_EN, COMMITMENT_VERSION, COMMITMENT_ZH,
};
use gongshu_store::{
    AccessFilter, AccessRecord, Change, GrantFilter, ShareGrant, ShareRequest, ShareRequestFilter,
    ShareStep, StatusRecord, UsageReport,
};
use serde::{Deserialize, Serialize};

use crate::catalog::today_in_china;
use crate::context::{commit_decision, commit_if_status, new_id, summary, App, Ctx};
use crate::error::{ErrorKind, FieldProblem, ServiceError, ServiceResult};

/// Calls a grant serves per day unless the source sets otherwise.
pub const DEFAULT_DAILY_QUOTA: i64 = 100_000;
/// Calls per minute on one node unless the source sets otherwise.
pub const DEFAULT_RATE_PER_MINUTE: i64 = 60_000;

/// A share request as the requesting department files it (SHR-3, SHR-8).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShareRequest {
    /// The catalog entry (resource) asked for.
    pub resource_id: String,
    pub purpose: String,
    pub scenario: String,
    /// The legal duty the data serves.
    pub legal_duty: String,
    /// Item code names, the fewest necessary.
    pub items: Vec<String>,
    /// `api`, `download`, `page_query` or `verification`.
    pub mode: String,
    /// The consumer system (API token of the requesting department) the grant is for.
    #[serde(default)]
    pub token_id: Option<String>,
    pub end_date: NaiveDate,
    /// The lawful-use commitment (SHR-3) is signed.
    pub commitment_signed: bool,
    /// Disaster or epidemic response: every step is due the next working day.
    #[serde(default)]
    pub emergency: bool,
    #[serde(default)]
    pub emergency_reason: String,
    #[serde(default)]
    pub scenario_id: Option<String>,
}

/// A step on a request by the platform, the source or the authority.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// A `RequestAction` key: `pass_conformity`, `fail_conformity`, `approve`,
    /// `refuse`, `dispute`, `uphold`, `dismiss`, `file`, `withdraw`.
    pub action: String,
    /// Reasons (required to refuse, fail or dispute).
    #[serde(default)]
    pub note: String,
    /// SHR-5: the legal basis of a refusal.
    #[serde(default)]
    pub legal_basis: String,
    /// Grant terms the approver sets; defaults apply when absent.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub masking: Option<MaskPolicy>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub row_filter: Option<RowFilter>,
    #[serde(default)]
    pub daily_quota: Option<i64>,
    #[serde(default)]
    pub rate_per_minute: Option<i64>,
}

fn parse_mode(mode: &str) -> ServiceResult<AccessMode> {
    AccessMode::parse(mode).ok_or_else(|| {
        ServiceError::invalid(
            "share.unknown_mode",
            "mode",
            format!("未知的共享方式“{mode}”"),
            format!("unknown share mode '{mode}'"),
        )
    })
}

/// When the step that starts today is due: the deadline policy's working days, or
/// the next working day for an emergency request.
fn due_of(
    app: &App,
    kind: DeadlineKind,
    emergency: bool,
    today: NaiveDate,
) -> ServiceResult<NaiveDate> {
    let due = if emergency {
        app.calendar.add_workdays(today, 1)
    } else {
        app.deadlines.due(&app.calendar, kind, today)
    };
    due.map_err(ServiceError::from_calendar)
}

/// SHR-3: the caller's department requests a resource of another department.
pub async fn submit(app: &App, ctx: &Ctx, input: NewShareRequest) -> ServiceResult<ShareRequest> {
    submit_at(app, ctx, input, Utc::now()).await
}

/// [`submit`] as if it were `now` (deadlines are computed from `now`'s day in China).
pub async fn submit_at(
    app: &App,
    ctx: &Ctx,
    input: NewShareRequest,
    now: DateTime<Utc>,
) -> ServiceResult<ShareRequest> {
    let (request, audit) = prepare(app, ctx, input, now).await?;
    app.store
        .commit(vec![Change::PutShareRequest(request.clone())], vec![audit])
        .await?;
    Ok(request)
}

/// A checked request and its audit record, not yet stored.
async fn prepare(
    app: &App,
    ctx: &Ctx,
    input: NewShareRequest,
    now: DateTime<Utc>,
) -> ServiceResult<(ShareRequest, gongshu_domain::audit::AuditDraft)> {
    let requester = ctx.principal.org_id.clone().unwrap_or_default();
    ctx.principal
        .authorize(Permission::ShareRequest, Some(&requester))?;
    let mode = parse_mode(&input.mode)?;
    let entry = crate::catalog::find_entry(app, &input.resource_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("资源", "resource", &input.resource_id))?;
    let content = match (&entry.published, entry.offline) {
        (Some(c), false) => c.clone(),
        _ => {
            return Err(ServiceError::conflict(
                "share.resource_not_published",
                "资源未发布或已下架，不能申请",
                "the resource is not published or was taken offline",
            ))
        }
    };
    if content.source_org_id == requester {
        return Err(ServiceError::invalid(
            "share.own_resource",
            "resource_id",
            "不能申请本部门的资源",
            "a department does not request its own resource",
        ));
    }
    let now = truncate_to_micros(now);
    let today = today_in_china(now);
    let items: Vec<String> = input.items.iter().map(|i| i.trim().to_string()).collect();
    let codes: Vec<String> = content.items.iter().map(|i| i.code_name.clone()).collect();
    let draft = RequestDraft {
        purpose: &input.purpose,
        scenario: &input.scenario,
        legal_duty: &input.legal_duty,
        items: &items,
        mode,
        end_date: input.end_date,
        commitment_signed: input.commitment_signed,
    };
    let mut problems = check_draft(
        &draft,
        &codes,
        content.share_type,
        &content.share_modes,
        today,
    );
    if input.emergency && input.emergency_reason.trim().is_empty() {
        problems.push(FieldError::new(
            "emergency_reason",
            "share.emergency_reason_required",
            "紧急申请须写明事由（如灾害、疫情）",
            "an emergency request states its cause (disaster, epidemic …)",
        ));
    }
    match &input.token_id {
        Some(t) => match app.store.get_token(t).await? {
            Some(tok)
                if tok.org_id == requester
                    && tok.revoked_at.is_none()
                    && tok
                        .permissions
                        .iter()
                        .any(|p| p == Permission::DataConsume.key()) => {}
            _ => problems.push(FieldError::new(
                "token_id",
                "share.bad_token",
                "接口令牌须属于本部门、未吊销并具有“调用共享数据”权限",
                "the API token must be the department's own, not revoked, and hold data.consume",
            )),
        },
        None if matches!(mode, AccessMode::Api | AccessMode::Verification) => {
            problems.push(FieldError::new(
                "token_id",
                "share.token_required",
                "接口调用和核验须指定调用系统的接口令牌",
                "API and verification access name the consumer system's API token",
            ))
        }
        None => {}
    }
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let status = initial_status(content.share_type, mode);
    let due_kind = gongshu_domain::sharing::deadline_of(status);
    let due = match due_kind {
        Some(k) => Some(due_of(app, k, input.emergency, today)?),
        None => None,
    };
    let request = ShareRequest {
        id: new_id(),
        requester_org_id: requester.clone(),
        source_org_id: content.source_org_id.clone(),
        resource_id: entry.id.clone(),
        resource_code: entry.code.clone(),
        resource_name: content.name.clone(),
        share_type: content.share_type.key().into(),
        scenario_id: input.scenario_id.clone(),
        purpose: input.purpose.trim().into(),
        scenario: input.scenario.trim().into(),
        legal_duty: input.legal_duty.trim().into(),
        items,
        mode: mode.key().into(),
        token_id: input.token_id.clone(),
        end_date: input.end_date,
        commitment_version: COMMITMENT_VERSION.into(),
        commitment_signed_at: now,
        emergency: input.emergency,
        emergency_reason: input.emergency_reason.trim().into(),
        status: status.key().into(),
        due,
        due_kind: due_kind.map(|k| k.key().into()),
        overdue_since: None,
        steps: vec![ShareStep {
            action: "submit".into(),
            actor: ctx.principal.actor.clone(),
            org_id: Some(requester.clone()),
            at: now,
            status: status.key().into(),
            // SHR-3: the commitment the requester signed, word for word.
            note: format!("{COMMITMENT_ZH}\n{COMMITMENT_EN}"),
            legal_basis: String::new(),
            late: false,
        }],
        grant_id: None,
        created_by: ctx.principal.actor.clone(),
        created_at: now,
        updated_at: now,
    };
    let mut audit = ctx.audit("share.request", "share_request", &request.id);
    audit.org_id = Some(requester);
    audit.after = summary(&request);
    Ok((request, audit))
}

/// CAT-5, SHR-3: one request for the resources of a scenario catalog, with the items
/// wanted from each (the fewest necessary; resources not needed are left out).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBundleRequest {
    pub scenario_id: String,
    pub purpose: String,
    pub legal_duty: String,
    /// Resource (id or code) → item code names; each resource must belong to the bundle.
    pub items: std::collections::BTreeMap<String, Vec<String>>,
    pub mode: String,
    #[serde(default)]
    pub token_id: Option<String>,
    pub end_date: NaiveDate,
    pub commitment_signed: bool,
    #[serde(default)]
    pub emergency: bool,
    #[serde(default)]
    pub emergency_reason: String,
}

/// Files one request per chosen resource of a scenario catalog, all or none: each then
/// follows its own resource's share type and source department (SHR-4, SHR-5). A
/// problem is named by the resource's code (`items.<code>` …).
pub async fn submit_bundle(
    app: &App,
    ctx: &Ctx,
    input: NewBundleRequest,
) -> ServiceResult<Vec<ShareRequest>> {
    submit_bundle_at(app, ctx, input, Utc::now()).await
}

/// [`submit_bundle`] as if it were `now`.
pub async fn submit_bundle_at(
    app: &App,
    ctx: &Ctx,
    input: NewBundleRequest,
    now: DateTime<Utc>,
) -> ServiceResult<Vec<ShareRequest>> {
    let bundle = app
        .store
        .list_scenarios()
        .await?
        .into_iter()
        .find(|b| b.id == input.scenario_id)
        .ok_or_else(|| {
            ServiceError::not_found("场景目录", "scenario catalog", &input.scenario_id)
        })?;
    let chosen: Vec<(&String, &Vec<String>)> = input
        .items
        .iter()
        .filter(|(_, items)| !items.is_empty())
        .collect();
    if chosen.is_empty() {
        return Err(ServiceError::fields(vec![FieldError::new(
            "items",
            "share.no_items",
            "请至少为一个资源选择信息项",
            "choose items from at least one resource",
        )]));
    }
    let mut problems: Vec<FieldProblem> = Vec::new();
    let mut prepared = Vec::new();
    for (resource, items) in chosen {
        let entry = crate::catalog::find_entry(app, resource).await?;
        let Some(entry) = entry.filter(|e| bundle.entry_ids.contains(&e.id)) else {
            problems.push(FieldProblem {
                field: format!("items.{resource}"),
                code: "share.not_in_bundle".into(),
                message: format!("资源“{resource}”不在该场景目录中"),
                message_en: format!("resource '{resource}' is not in this scenario catalog"),
            });
            continue;
        };
        let one = NewShareRequest {
            resource_id: entry.id.clone(),
            purpose: input.purpose.clone(),
            scenario: bundle.name.clone(),
            legal_duty: input.legal_duty.clone(),
            items: items.clone(),
            mode: input.mode.clone(),
            token_id: input.token_id.clone(),
            end_date: input.end_date,
            commitment_signed: input.commitment_signed,
            emergency: input.emergency,
            emergency_reason: input.emergency_reason.clone(),
            scenario_id: Some(bundle.id.clone()),
        };
        match prepare(app, ctx, one, now).await {
            Ok(p) => prepared.push(p),
            Err(e) if e.errors.is_empty() => return Err(e),
            // Item and mode problems are the resource's own; the rest are shared.
            Err(e) => problems.extend(e.errors.iter().map(|p| FieldProblem {
                field: if p.field == "items" || p.field == "mode" {
                    format!("{}.{}", p.field, entry.code)
                } else {
                    p.field.clone()
                },
                ..p.clone()
            })),
        }
    }
    if !problems.is_empty() {
        let mut seen = std::collections::HashSet::new();
        problems.retain(|p| seen.insert((p.field.clone(), p.code.clone())));
        return Err(ServiceError::problems(problems));
    }
    let (requests, audit): (Vec<ShareRequest>, Vec<_>) = prepared.into_iter().unzip();
    let changes = requests
        .iter()
        .cloned()
        .map(Change::PutShareRequest)
        .collect();
    app.store.commit(changes, audit).await?;
    Ok(requests)
}

fn load_error(id: &str) -> ServiceError {
    ServiceError::not_found("共享申请", "share request", id)
}

/// Whether the caller may see a request: its two departments, the platform and the authority.
fn may_see(ctx: &Ctx, r: &ShareRequest) -> bool {
    let p = &ctx.principal;
    p.authorize(Permission::ShareCheck, None).is_ok()
        || p.authorize(Permission::ShareCoordinate, None).is_ok()
        || p.authorize(Permission::ShareRequest, Some(&r.requester_org_id))
            .is_ok()
        || p.authorize(Permission::ShareDecide, Some(&r.source_org_id))
            .is_ok()
}

pub async fn get_request(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<ShareRequest> {
    let r = app
        .store
        .get_share_request(id)
        .await?
        .ok_or_else(|| load_error(id))?;
    if !may_see(ctx, &r) {
        return Err(load_error(id));
    }
    Ok(r)
}

/// Who may take `action` on `r`: the platform checks conformity, the source decides,
/// the requester disputes or withdraws, the authority coordinates (SHR-4 … SHR-6).
fn authorize_action(ctx: &Ctx, r: &ShareRequest, action: RequestAction) -> ServiceResult<()> {
    let p = &ctx.principal;
    match action {
        RequestAction::PassConformity | RequestAction::FailConformity => {
            p.authorize(Permission::ShareCheck, None)?
        }
        RequestAction::Approve | RequestAction::Refuse => {
            p.authorize(Permission::ShareDecide, Some(&r.source_org_id))?
        }
        RequestAction::Dispute | RequestAction::Withdraw => {
            p.authorize(Permission::ShareRequest, Some(&r.requester_org_id))?
        }
        RequestAction::Uphold | RequestAction::Dismiss | RequestAction::File => {
            p.authorize(Permission::ShareCoordinate, None)?
        }
    }
    Ok(())
}

/// The steps the caller may take on `r` now: legal from its status and within the
/// caller's powers.
pub fn actions_for(ctx: &Ctx, r: &ShareRequest) -> Vec<RequestAction> {
    let (Some(status), Some(share_type), Some(mode)) = (
        RequestStatus::parse(&r.status),
        ShareType::parse(&r.share_type),
        AccessMode::parse(&r.mode),
    ) else {
        return Vec::new();
    };
    RequestAction::ALL
        .iter()
        .copied()
        .filter(|a| step(status, *a, share_type, mode).is_ok())
        .filter(|a| authorize_action(ctx, r, *a).is_ok())
        .collect()
}

/// The open requests waiting for the caller's decision (its review queue), most
/// urgent first. Withdrawal alone does not put a request in the requester's queue.
pub async fn inbox(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ShareRequest>> {
    let mut waiting: Vec<ShareRequest> = list_requests(app, ctx, None, true)
        .await?
        .into_iter()
        .filter(|r| {
            actions_for(ctx, r)
                .iter()
                .any(|a| *a != RequestAction::Withdraw)
        })
        .collect();
    waiting.sort_by(|a, b| (a.due, &a.created_at).cmp(&(b.due, &b.created_at)));
    Ok(waiting)
}

/// The requests the caller may see, newest first.
pub async fn list_requests(
    app: &App,
    ctx: &Ctx,
    status: Option<String>,
    open_only: bool,
) -> ServiceResult<Vec<ShareRequest>> {
    let p = &ctx.principal;
    let global = p.authorize(Permission::ShareCheck, None).is_ok()
        || p.authorize(Permission::ShareCoordinate, None).is_ok();
    let org_id = if global {
        None
    } else {
        let own = p.org_id.clone().unwrap_or_default();
        p.authorize(Permission::ShareRequest, Some(&own))
            .or_else(|_| p.authorize(Permission::ShareDecide, Some(&own)))?;
        Some(own)
    };
    let f = ShareRequestFilter {
        org_id,
        status,
        open_only,
        limit: 1000,
    };
    Ok(app.store.list_share_requests(&f).await?)
}

/// SHR-4 … SHR-6: the platform, the source, the requester or the authority takes a
/// step; an approval issues the grant in the same transaction.
pub async fn act(
    app: &App,
    ctx: &Ctx,
    id: &str,
    input: StepInput,
) -> ServiceResult<(ShareRequest, Option<ShareGrant>)> {
    act_at(app, ctx, id, input, Utc::now()).await
}

/// [`act`] as if it were `now`.
pub async fn act_at(
    app: &App,
    ctx: &Ctx,
    id: &str,
    input: StepInput,
    now: DateTime<Utc>,
) -> ServiceResult<(ShareRequest, Option<ShareGrant>)> {
    let before = app
        .store
        .get_share_request(id)
        .await?
        .ok_or_else(|| load_error(id))?;
    if !may_see(ctx, &before) {
        return Err(load_error(id));
    }
    let action = RequestAction::parse(input.action.trim()).ok_or_else(|| {
        ServiceError::invalid(
            "share.unknown_action",
            "action",
            format!("未知的操作“{}”", input.action),
            format!("unknown action '{}'", input.action),
        )
    })?;
    let p = &ctx.principal;
    authorize_action(ctx, &before, action)?;
    let note = input.note.trim().to_string();
    let legal_basis = input.legal_basis.trim().to_string();
    let mut problems = Vec::new();
    let needs_reason = matches!(
        action,
        RequestAction::Refuse
            | RequestAction::FailConformity
            | RequestAction::Dispute
            | RequestAction::Dismiss
            | RequestAction::File
    );
    if needs_reason && note.is_empty() {
        problems.push(FieldError::new(
            "note",
            "share.reason_required",
            "请写明理由",
            "give the reasons",
        ));
    }
    if action == RequestAction::Refuse && legal_basis.is_empty() {
        problems.push(FieldError::new(
            "legal_basis",
            "share.legal_basis_required",
            "不予共享须说明法律依据（SHR-5）",
            "a refusal states its legal basis (SHR-5)",
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let status = RequestStatus::parse(&before.status).unwrap_or(RequestStatus::Refused);
    let share_type = ShareType::parse(&before.share_type).unwrap_or(ShareType::Conditional);
    let mode = parse_mode(&before.mode)?;
    let next = step(status, action, share_type, mode).map_err(|e| {
        ServiceError::new(
            ErrorKind::Conflict,
            e.code(),
            e.message_zh(),
            e.message_en(),
        )
    })?;
    let now = truncate_to_micros(now);
    let today = today_in_china(now);
    let mut after = before.clone();
    after.status = next.status.key().into();
    after.due = match next.next_deadline {
        Some(k) => Some(due_of(app, k, before.emergency, today)?),
        None => None,
    };
    after.due_kind = next.next_deadline.map(|k| k.key().into());
    after.overdue_since = None;
    after.updated_at = now;
    after.steps.push(ShareStep {
        action: action.key().into(),
        actor: p.actor.clone(),
        org_id: p.org_id.clone(),
        at: now,
        status: next.status.key().into(),
        note,
        legal_basis,
        late: before.due.is_some_and(|d| today > d),
    });
    let mut changes = Vec::new();
    let mut audits = Vec::new();
    let grant = if next.grants {
        let g = new_grant(app, &after, &input, now).await?;
        after.grant_id = Some(g.id.clone());
        let mut a = ctx.audit("grant.issue", "share_grant", &g.id);
        a.org_id = Some(g.source_org_id.clone());
        a.after = summary(&g);
        audits.push(a);
        changes.push(Change::PutGrant(g.clone()));
        Some(g)
    } else {
        None
    };
    let mut audit = ctx.audit(&format!("share.{}", action.key()), "share_request", id);
    audit.org_id = p.org_id.clone();
    audit.before = summary(&before);
    audit.after = summary(&after);
    audits.insert(0, audit);
    changes.insert(0, Change::PutShareRequest(after.clone()));
    commit_decision(
        app,
        StatusRecord::ShareRequest,
        id,
        &before.status,
        changes,
        audits,
    )
    .await?;
    Ok((after, grant))
}

/// SHR-8: the grant an approved request ends in: the requested items, mode and
/// end date; masking, row filter, rate and quota as the approver set them.
async fn new_grant(
    app: &App,
    r: &ShareRequest,
    input: &StepInput,
    now: DateTime<Utc>,
) -> ServiceResult<ShareGrant> {
    let masking = input.masking.clone().unwrap_or_default();
    let schema = crate::egress::schema_of(app, &r.resource_id).await?;
    if let Some(schema) = &schema {
        let verification = r.mode == AccessMode::Verification.key();
        masking.validate(schema, verification).map_err(|e| {
            ServiceError::invalid(e.code(), "masking", e.message_zh(), e.message_en())
        })?;
        if let Some(f) = &input.row_filter {
            if !schema.columns.iter().any(|c| c.name == f.column) {
                return Err(ServiceError::invalid(
                    "share.unknown_filter_column",
                    "row_filter",
                    format!("行过滤条件的列“{}”不存在", f.column),
                    format!("the row filter's column '{}' does not exist", f.column),
                ));
            }
        }
    }
    let quota = input.daily_quota.unwrap_or(DEFAULT_DAILY_QUOTA);
    let rate = input.rate_per_minute.unwrap_or(DEFAULT_RATE_PER_MINUTE);
    if quota < 0 || rate < 0 {
        return Err(ServiceError::invalid(
            "share.bad_quota",
            "daily_quota",
            "限额不能为负数",
            "quota and rate cannot be negative",
        ));
    }
    Ok(ShareGrant {
        id: new_id(),
        request_id: r.id.clone(),
        consumer_org_id: r.requester_org_id.clone(),
        token_id: r.token_id.clone(),
        source_org_id: r.source_org_id.clone(),
        resource_id: r.resource_id.clone(),
        resource_code: r.resource_code.clone(),
        resource_name: r.resource_name.clone(),
        items: r.items.clone(),
        purpose: r.purpose.clone(),
        scenario: r.scenario.clone(),
        mode: r.mode.clone(),
        row_filter: input.row_filter.clone(),
        masking,
        daily_quota: quota,
        rate_per_minute: rate,
        starts_on: today_in_china(now),
        ends_on: r.end_date,
        status: GrantStatus::Active.key().into(),
        status_reason: String::new(),
        successor_resource_id: None,
        created_at: now,
        updated_at: now,
    })
}

/// Marks open requests whose step is past due (DL-1); each is audited against the
/// department that must act, so it counts against it. Returns how many were marked.
pub async fn flag_overdue(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let today = today_in_china(now);
    let open = app
        .store
        .list_share_requests(&ShareRequestFilter {
            open_only: true,
            limit: 100_000,
            ..Default::default()
        })
        .await?;
    let ctx = Ctx::system();
    let mut marked = 0;
    for r in open {
        let Some(due) = r.due else { continue };
        if due >= today || r.overdue_since.is_some() {
            continue;
        }
        let responsible = RequestStatus::parse(&r.status).and_then(|s| s.responsible());
        let mut after = r.clone();
        after.overdue_since = Some(today);
        let mut audit = ctx.audit("share.overdue", "share_request", &r.id);
        audit.org_id = match responsible {
            Some(gongshu_domain::sharing::Responsible::Source) => Some(r.source_org_id.clone()),
            _ => None,
        };
        audit.after = summary(&serde_json::json!({
            "status": r.status, "due": due, "responsible": responsible,
        }));
        let changes = vec![Change::PutShareRequest(after)];
        if commit_if_status(
            app,
            StatusRecord::ShareRequest,
            &r.id,
            &r.status,
            changes,
            vec![audit],
        )
        .await?
        {
            marked += 1;
        }
    }
    Ok(marked)
}

pub async fn get_grant(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<ShareGrant> {
    let g = app
        .store
        .get_grant(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("共享授权", "grant", id))?;
    let p = &ctx.principal;
    let visible = p
        .authorize(Permission::GrantManage, Some(&g.source_org_id))
        .is_ok()
        || p.authorize(Permission::AccessRead, Some(&g.source_org_id))
            .is_ok()
        || p.org_id.as_deref() == Some(g.consumer_org_id.as_str());
    if !visible {
        return Err(ServiceError::not_found("共享授权", "grant", id));
    }
    Ok(g)
}

/// The grants the caller's department holds or gives; every grant for a global reader.
pub async fn list_grants(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ShareGrant>> {
    let p = &ctx.principal;
    if p.authorize(Permission::GrantManage, None).is_ok()
        || p.authorize(Permission::AccessRead, None).is_ok()
    {
        return Ok(app.store.list_grants(&GrantFilter::default()).await?);
    }
    let own = p.org_id.clone().unwrap_or_default();
    let mut given = app
        .store
        .list_grants(&GrantFilter {
            source_org_id: Some(own.clone()),
            ..Default::default()
        })
        .await?;
    let held = app
        .store
        .list_grants(&GrantFilter {
            consumer_org_id: Some(own),
            ..Default::default()
        })
        .await?;
    given.extend(held);
    Ok(given)
}

/// SHR-9: suspends a grant at once (misuse, passing data to a third party), resumes
/// or revokes it. The source department or the authority acts, with a reason.
pub async fn set_grant_status(
    app: &App,
    ctx: &Ctx,
    id: &str,
    action: GrantAction,
    reason: &str,
) -> ServiceResult<ShareGrant> {
    let before = app
        .store
        .get_grant(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("共享授权", "grant", id))?;
    ctx.principal
        .authorize(Permission::GrantManage, Some(&before.source_org_id))?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "grant.reason_required",
            "reason",
            "请写明理由",
            "give the reason",
        ));
    }
    let current = GrantStatus::parse(&before.status).unwrap_or(GrantStatus::Revoked);
    let Some(next) = grant_transition(current, action) else {
        return Err(ServiceError::conflict(
            "grant.bad_transition",
            format!(
                "授权处于“{}”，不能{}",
                current.label_zh(),
                action.label_zh()
            ),
            format!(
                "the grant is {}; it cannot be {}d",
                current.label_en(),
                action.key()
            ),
        ));
    };
    let mut after = before.clone();
    after.status = next.key().into();
    after.status_reason = reason.into();
    after.updated_at = truncate_to_micros(Utc::now());
    let mut audit = ctx.audit(&format!("grant.{}", action.key()), "share_grant", id);
    audit.org_id = Some(before.source_org_id.clone());
    audit.before = summary(&before);
    audit.after = summary(&after);
    app.store
        .commit(vec![Change::PutGrant(after.clone())], vec![audit])
        .await?;
    if next == GrantStatus::Revoked {
        // COL-7, SHR-13: a reported copy this grant kept in service may now follow
        // the level below; the hourly sweep retries if this fails.
        if let Err(e) =
            crate::upstream::follow_level_below(app, &after.resource_id, after.updated_at).await
        {
            tracing::warn!(error = %e, grant = %after.id, "a held copy could not follow the level below");
        }
    }
    Ok(after)
}

/// SHR-12, XJ 15: how the consumer used the data.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUsageReport {
    pub scenario: String,
    pub effect: String,
    pub storage: String,
    pub destruction: String,
}

/// SHR-12: the consumer department reports how it used data obtained under a grant.
pub async fn report_usage(
    app: &App,
    ctx: &Ctx,
    grant_id: &str,
    input: NewUsageReport,
) -> ServiceResult<UsageReport> {
    let g = get_grant(app, ctx, grant_id).await?;
    ctx.principal
        .authorize(Permission::ShareRequest, Some(&g.consumer_org_id))?;
    let mut problems = Vec::new();
    for (name, value, zh, en) in [
        (
            "scenario",
            &input.scenario,
            "请写明使用场景",
            "state the scenario",
        ),
        (
            "effect",
            &input.effect,
            "请写明使用成效",
            "state the effect",
        ),
        (
            "storage",
            &input.storage,
            "请写明存储方式",
            "state how the data is stored",
        ),
        (
            "destruction",
            &input.destruction,
            "请写明销毁方式和时间",
            "state how and when the data is destroyed",
        ),
    ] {
        if value.trim().is_empty() {
            problems.push(FieldError::new(name, "usage.required", zh, en));
        }
    }
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let report = UsageReport {
        id: new_id(),
        grant_id: g.id.clone(),
        consumer_org_id: g.consumer_org_id.clone(),
        scenario: input.scenario.trim().into(),
        effect: input.effect.trim().into(),
        storage: input.storage.trim().into(),
        destruction: input.destruction.trim().into(),
        reported_by: ctx.principal.actor.clone(),
        created_at: truncate_to_micros(Utc::now()),
    };
    let mut audit = ctx.audit("grant.usage_report", "share_grant", &g.id);
    audit.org_id = Some(g.consumer_org_id.clone());
    audit.after = summary(&report);
    app.store
        .commit(vec![Change::InsertUsageReport(report.clone())], vec![audit])
        .await?;
    Ok(report)
}

pub async fn usage_reports(
    app: &App,
    ctx: &Ctx,
    grant_id: &str,
) -> ServiceResult<Vec<UsageReport>> {
    let g = get_grant(app, ctx, grant_id).await?;
    Ok(app.store.list_usage_reports(&g.id).await?)
}

/// GOV-5: access records a source department, a consumer or an auditor may search.
pub async fn access_log(
    app: &App,
    ctx: &Ctx,
    mut f: AccessFilter,
) -> ServiceResult<Vec<AccessRecord>> {
    let p = &ctx.principal;
    if p.authorize(Permission::AccessRead, None).is_err() {
        let own = p.org_id.clone().unwrap_or_default();
        p.authorize(Permission::AccessRead, Some(&own))?;
        // A department sees the calls on its data and the calls it made.
        if f.consumer_org_id.as_deref() != Some(own.as_str()) {
            f.source_org_id = Some(own);
        }
    }
    if f.limit <= 0 || f.limit > 5000 {
        f.limit = 500;
    }
    Ok(app.store.list_access(&f).await?)
}

/// GOV-5: drops access records older than the retention setting (default 15 years);
/// their anchors stay in the audit chain.
pub async fn purge_expired_access(app: &App, now: DateTime<Utc>) -> ServiceResult<u64> {
    let years = i64::from(app.settings.audit_retention_years);
    let before = now - chrono::Duration::days(years * 365 + years / 4);
    Ok(app.store.purge_access(before).await?)
}

/// What a replacement did (SHR-13).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Replacement {
    pub old_resource_id: String,
    pub successor_resource_id: String,
    /// Grants on the old resource whose holders were offered the successor.
    pub grants_offered: Vec<String>,
}

/// SHR-13 (XJ 24): replaces a resource by a successor that already works: holders of
/// grants on the old resource are offered the successor (each offer audited, shown to
/// them on /share), then the old resource goes offline. Refused while the successor
/// is unpublished, offline or has no rows.
pub async fn replace_resource(
    app: &App,
    ctx: &Ctx,
    old_id: &str,
    successor_id: &str,
    reason: &str,
) -> ServiceResult<Replacement> {
    let old = crate::catalog::get(app, ctx, old_id).await?;
    let successor = crate::catalog::get(app, ctx, successor_id).await?;
    ctx.principal
        .authorize(Permission::CatalogOffline, Some(&old.owner_org_id))?;
    if reason.trim().is_empty() {
        return Err(ServiceError::invalid(
            "catalog.reason_required",
            "reason",
            "替换资源须写明理由",
            "replacing a resource needs a reason",
        ));
    }
    let successor_rows = match app.data.get_dataset(&successor.id).await? {
        Some(d) if d.current_load_id.is_some() => d.row_count,
        _ => 0,
    };
    check_replacement(&ReplacementFacts {
        old_id: &old.id,
        old_online: old.published.is_some() && !old.offline,
        successor_id: &successor.id,
        successor_published: successor.published.is_some(),
        successor_online: !successor.offline,
        successor_rows,
    })
    .map_err(|e| {
        ServiceError::new(
            ErrorKind::Conflict,
            e.code(),
            e.message_zh(),
            e.message_en(),
        )
    })?;
    let now = truncate_to_micros(Utc::now());
    let held = app
        .store
        .list_grants(&GrantFilter {
            resource_id: Some(old.id.clone()),
            ..Default::default()
        })
        .await?;
    let mut changes = Vec::new();
    let mut audit = Vec::new();
    let mut offered = Vec::new();
    for mut g in held
        .into_iter()
        .filter(|g| g.status != GrantStatus::Revoked.key())
    {
        let mut a = ctx.audit("share.successor_offered", "share_grant", &g.id);
        a.org_id = Some(g.consumer_org_id.clone());
        a.after = summary(&serde_json::json!({
            "old": old.id, "successor": successor.id, "successor_code": successor.code, "reason": reason.trim(),
        }));
        g.successor_resource_id = Some(successor.id.clone());
        g.updated_at = now;
        offered.push(g.id.clone());
        changes.push(Change::PutGrant(g));
        audit.push(a);
    }
    if !changes.is_empty() {
        app.store.commit(changes, audit).await?;
    }
    let why = format!(
        "由 {} {} 替换：{}",
        successor.code,
        successor.name,
        reason.trim()
    );
    crate::catalog::take_offline(app, ctx, &old.id, &why).await?;
    Ok(Replacement {
        old_resource_id: old.id,
        successor_resource_id: successor.id,
        grants_offered: offered,
    })
}
