//! OPN-9 (XJ 30, CZ 41): the public's reports on open datasets — an error in the
//! data, an objection, harm to lawful rights, a suspected leak — and the source
//! department's answer within five working days. Anyone may report, without an
//! account; the reporter gets a ticket, shown once, to read the answer later. A
//! suspected leak withholds the dataset from the open catalog at once; the source
//! then withdraws it, suspends it, fixes and republishes it, or keeps it open.
use chrono::{DateTime, NaiveDate, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::deadlines::DeadlineKind;
use gongshu_domain::open::{withheld_on_receipt, FeedbackAction, FeedbackKind, FeedbackStatus};
use gongshu_domain::permissions::Permission;
use gongshu_store::{Change, OpenFeedback, OpenFeedbackFilter, StatusRecord};
use serde::{Deserialize, Serialize};

use crate::catalog::today_in_china;
use crate::context::{commit_decision, commit_if_status, new_id, summary, App, Ctx};
use crate::error::{ErrorKind, FieldProblem, ServiceError, ServiceResult};
use crate::identity::{random_secret, secret_hash};

/// Reports one address may file per minute on one node.
pub const REPORTS_PER_MINUTE: i64 = 5;
/// The longest description or answer, in characters.
pub const MAX_TEXT: usize = 2000;
/// The longest reporter name or contact, in characters.
pub const MAX_CONTACT: usize = 100;

/// OPN-9: a report as the public files it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedback {
    /// `error`, `objection`, `harm` or `suspected_leak`.
    pub kind: String,
    /// What is wrong, and where in the data.
    pub description: String,
    /// Optional: the reporter's name.
    #[serde(default)]
    pub reporter: String,
    /// Optional: an e-mail address or telephone number to reach the reporter.
    #[serde(default)]
    pub contact: String,
}

/// OPN-9: the source department's answer to a report.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackAnswer {
    /// `withdraw`, `suspend`, `fix_and_republish` or `keep`.
    pub action: String,
    /// What was checked and done, for the reporter to read (required).
    pub answer: String,
}

/// Which reports to list.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// `received` or `answered`.
    pub status: Option<String>,
    /// The catalog entry (resource) id.
    pub resource_id: Option<String>,
}

/// OPN-9: a report as its reporter reads it with the ticket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicFeedback {
    pub id: String,
    pub resource_code: String,
    pub resource_name: String,
    /// A `FeedbackKind` key.
    pub kind: String,
    pub description: String,
    /// `received` or `answered`.
    pub status: String,
    /// Whether the dataset is held out of the open catalog because of this report.
    pub withheld: bool,
    /// A `FeedbackAction` key, once answered.
    pub action: Option<String>,
    pub answer: String,
    pub answered_at: Option<DateTime<Utc>>,
    /// The answer is due by this day (five working days after receipt).
    pub due: NaiveDate,
    pub overdue_since: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

impl From<&OpenFeedback> for PublicFeedback {
    fn from(f: &OpenFeedback) -> Self {
        Self {
            id: f.id.clone(),
            resource_code: f.resource_code.clone(),
            resource_name: f.resource_name.clone(),
            kind: f.kind.clone(),
            description: f.description.clone(),
            status: f.status.clone(),
            withheld: f.withheld,
            action: f.action.clone(),
            answer: f.answer.clone(),
            answered_at: f.answered_at,
            due: f.due,
            overdue_since: f.overdue_since,
            created_at: f.created_at,
        }
    }
}

/// OPN-9: a report as the source department and the authority see it (the
/// reporter's contact included, the ticket's hash left out).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackRecord {
    pub id: String,
    pub resource_id: String,
    pub resource_code: String,
    pub resource_name: String,
    pub source_org_id: String,
    pub kind: String,
    pub description: String,
    pub reporter: String,
    pub contact: String,
    pub status: String,
    pub withheld: bool,
    pub action: Option<String>,
    pub answer: String,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub due: NaiveDate,
    pub overdue_since: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the source may (still) answer it.
    pub answerable: bool,
}

impl From<&OpenFeedback> for FeedbackRecord {
    fn from(f: &OpenFeedback) -> Self {
        Self {
            id: f.id.clone(),
            resource_id: f.resource_id.clone(),
            resource_code: f.resource_code.clone(),
            resource_name: f.resource_name.clone(),
            source_org_id: f.source_org_id.clone(),
            kind: f.kind.clone(),
            description: f.description.clone(),
            reporter: f.reporter.clone(),
            contact: f.contact.clone(),
            status: f.status.clone(),
            withheld: f.withheld,
            action: f.action.clone(),
            answer: f.answer.clone(),
            answered_by: f.answered_by.clone(),
            answered_at: f.answered_at,
            due: f.due,
            overdue_since: f.overdue_since,
            created_at: f.created_at,
            updated_at: f.updated_at,
            answerable: may_answer(f),
        }
    }
}

/// A report just filed, with its ticket: the only time the ticket is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Submitted {
    pub feedback: PublicFeedback,
    /// Keep it: with the report's id it reads the answer.
    pub ticket: String,
}

/// Whether the source may answer a report now: one not yet answered, or one whose
/// answer suspended the dataset (the suspension is lifted or made a withdrawal by a
/// later answer). Other answers are final.
pub fn may_answer(f: &OpenFeedback) -> bool {
    match FeedbackStatus::parse(&f.status) {
        Some(FeedbackStatus::Received) => true,
        Some(FeedbackStatus::Answered) => {
            f.action.as_deref().and_then(FeedbackAction::parse) == Some(FeedbackAction::Suspend)
        }
        None => false,
    }
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::not_found("意见", "report", id)
}

fn problem(field: &str, code: &str, zh: String, en: String) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        code: code.into(),
        message: zh,
        message_en: en,
    }
}

fn too_long(field: &str, label: (&str, &str), max: usize, text: &str) -> Option<FieldProblem> {
    (text.chars().count() > max).then(|| {
        problem(
            field,
            "open_feedback.too_long",
            format!("{}不能超过 {max} 个字符", label.0),
            format!("{} must be at most {max} characters", label.1),
        )
    })
}

/// Counts one report against the address's per-minute allowance on this node.
fn take_report_slot(app: &App, bucket: &str, now: DateTime<Utc>) -> bool {
    crate::egress::take_minute_slot(app, &format!("feedback:{bucket}"), REPORTS_PER_MINUTE, now)
}

/// OPN-9: anyone reports a problem with a dataset of the open catalog (by code).
/// `bucket` names the reporter for the rate limit (e.g. `addr:<ip>`).
pub async fn submit(
    app: &App,
    ctx: &Ctx,
    bucket: &str,
    code: &str,
    input: NewFeedback,
) -> ServiceResult<(OpenFeedback, String)> {
    submit_at(app, ctx, bucket, code, input, Utc::now()).await
}

/// [`submit`] as if it were `now` (the deadline runs from `now`'s day in China).
pub async fn submit_at(
    app: &App,
    ctx: &Ctx,
    bucket: &str,
    code: &str,
    input: NewFeedback,
    now: DateTime<Utc>,
) -> ServiceResult<(OpenFeedback, String)> {
    let catalog = crate::open::catalog(app).await?;
    let ds = catalog.find(code)?;
    let description = input.description.trim().to_string();
    let reporter = input.reporter.trim().to_string();
    let contact = input.contact.trim().to_string();
    let kind = FeedbackKind::parse(input.kind.trim());
    let mut problems = Vec::new();
    if kind.is_none() {
        problems.push(problem(
            "kind",
            "open_feedback.unknown_kind",
            format!(
                "未知的意见类型“{}”：可选 error、objection、harm、suspected_leak",
                input.kind
            ),
            format!(
                "unknown kind of report '{}': use error, objection, harm or suspected_leak",
                input.kind
            ),
        ));
    }
    if description.is_empty() {
        problems.push(problem(
            "description",
            "open_feedback.description_required",
            "请说明问题所在".into(),
            "describe the problem".into(),
        ));
    }
    problems.extend(too_long(
        "description",
        ("问题说明", "The description"),
        MAX_TEXT,
        &description,
    ));
    problems.extend(too_long(
        "reporter",
        ("姓名", "The name"),
        MAX_CONTACT,
        &reporter,
    ));
    problems.extend(too_long(
        "contact",
        ("联系方式", "The contact"),
        MAX_CONTACT,
        &contact,
    ));
    if !problems.is_empty() {
        return Err(ServiceError::problems(problems));
    }
    let kind = kind.expect("checked above");
    if !take_report_slot(app, bucket, now) {
        return Err(ServiceError::new(
            ErrorKind::Locked,
            "open_feedback.rate_exceeded",
            "提交过于频繁，请稍后再试",
            "too many reports: wait a minute",
        ));
    }
    let today = today_in_china(now);
    let due = app
        .deadlines
        .due(&app.calendar, DeadlineKind::OpenFeedbackAnswer, today)
        .map_err(ServiceError::from_calendar)?;
    let ticket = random_secret(32);
    let at = truncate_to_micros(now);
    let withheld = withheld_on_receipt(kind);
    let feedback = OpenFeedback {
        id: new_id(),
        resource_id: ds.id.clone(),
        resource_code: ds.code.clone(),
        resource_name: ds.content.name.clone(),
        source_org_id: ds.owner_org_id.clone(),
        kind: kind.key().into(),
        description,
        reporter,
        contact,
        ticket_hash: secret_hash(&ticket),
        status: FeedbackStatus::Received.key().into(),
        withheld,
        action: None,
        answer: String::new(),
        answered_by: None,
        answered_at: None,
        due,
        overdue_since: None,
        created_at: at,
        updated_at: at,
    };
    // The source reads the report in its own trail; the reporter's identity and
    // contact stay out of the trail.
    let mut audit = ctx.audit("open.feedback_submit", "open_feedback", &feedback.id);
    audit.org_id = Some(feedback.source_org_id.clone());
    audit.after = summary(&serde_json::json!({
        "resource_id": feedback.resource_id,
        "resource_code": feedback.resource_code,
        "kind": feedback.kind,
        "due": feedback.due,
        "withheld": withheld,
        "named": !feedback.reporter.is_empty(),
        "reachable": !feedback.contact.is_empty(),
    }));
    let mut audits = vec![audit];
    if withheld {
        audits.push(withheld_audit(ctx, &feedback, "suspected_leak"));
    }
    app.store
        .commit(vec![Change::PutOpenFeedback(feedback.clone())], audits)
        .await?;
    Ok((feedback, ticket))
}

/// XJ 30: the dataset leaves the open catalog because of a report.
fn withheld_audit(ctx: &Ctx, f: &OpenFeedback, reason: &str) -> gongshu_domain::audit::AuditDraft {
    let mut audit = ctx.audit("open.dataset_withheld", "catalog_entry", &f.resource_id);
    audit.org_id = Some(f.source_org_id.clone());
    audit.after = summary(&serde_json::json!({
        "feedback_id": f.id,
        "resource_code": f.resource_code,
        "reason": reason,
    }));
    audit
}

/// OPN-9: the reporter reads a report with its ticket; a wrong ticket reads as a
/// report that does not exist.
pub async fn by_ticket(app: &App, id: &str, ticket: &str) -> ServiceResult<OpenFeedback> {
    let f = app
        .store
        .get_open_feedback(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let sent = secret_hash(ticket.trim());
    let same = sent.len() == f.ticket_hash.len()
        && sent
            .bytes()
            .zip(f.ticket_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if ticket.trim().is_empty() || !same {
        return Err(not_found(id));
    }
    Ok(f)
}

/// The organisation whose reports the caller may list: None for the authority (all).
fn list_scope(ctx: &Ctx) -> ServiceResult<Option<String>> {
    let p = &ctx.principal;
    if p.authorize(Permission::OpenCoordinate, None).is_ok() {
        return Ok(None);
    }
    let own = p.org_id.clone().unwrap_or_default();
    p.authorize(Permission::OpenReview, Some(&own))?;
    Ok(Some(own))
}

/// OPN-9: the reports on the caller's department's datasets (all, for the
/// authority), newest first.
pub async fn list(app: &App, ctx: &Ctx, q: FeedbackQuery) -> ServiceResult<Vec<OpenFeedback>> {
    let source_org_id = list_scope(ctx)?;
    let status = q
        .status
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if FeedbackStatus::parse(s).is_none() {
            return Err(ServiceError::invalid(
                "open_feedback.unknown_status",
                "status",
                format!("未知的状态“{s}”：可选 received、answered"),
                format!("unknown status '{s}': use received or answered"),
            ));
        }
    }
    let filter = OpenFeedbackFilter {
        resource_id: q
            .resource_id
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        source_org_id,
        status,
        limit: 1000,
    };
    Ok(app.store.list_open_feedback(&filter).await?)
}

/// OPN-9 (XJ 30): the source department (or the authority) answers a report and
/// acts on the dataset: withdraw or suspend keeps it out of the open catalog; fix
/// and republish, or keep, returns it (unless another report still withholds it).
pub async fn answer(
    app: &App,
    ctx: &Ctx,
    id: &str,
    input: FeedbackAnswer,
) -> ServiceResult<OpenFeedback> {
    let before = app
        .store
        .get_open_feedback(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let p = &ctx.principal;
    if p.authorize(Permission::OpenCoordinate, None).is_err() {
        p.authorize(Permission::OpenReview, Some(&before.source_org_id))?;
    }
    let action = FeedbackAction::parse(input.action.trim());
    let text = input.answer.trim().to_string();
    let mut problems = Vec::new();
    if action.is_none() {
        problems.push(problem(
            "action",
            "open_feedback.unknown_action",
            format!(
                "未知的处理方式“{}”：可选 withdraw、suspend、fix_and_republish、keep",
                input.action
            ),
            format!(
                "unknown action '{}': use withdraw, suspend, fix_and_republish or keep",
                input.action
            ),
        ));
    }
    if text.is_empty() {
        problems.push(problem(
            "answer",
            "open_feedback.answer_required",
            "须填写答复内容：核实情况与处理结果".into(),
            "an answer is required: what was checked and what was done".into(),
        ));
    }
    problems.extend(too_long("answer", ("答复", "The answer"), MAX_TEXT, &text));
    if !problems.is_empty() {
        return Err(ServiceError::problems(problems));
    }
    let action = action.expect("checked above");
    if !may_answer(&before) {
        return Err(ServiceError::conflict(
            "open_feedback.answered",
            "该意见已答复，不能再次答复",
            "the report is already answered",
        ));
    }
    let now = truncate_to_micros(Utc::now());
    let mut after = before.clone();
    after.status = FeedbackStatus::Answered.key().into();
    after.action = Some(action.key().into());
    after.answer = text;
    after.answered_by = Some(ctx.principal.actor.clone());
    after.answered_at = Some(now);
    after.withheld = action.withholds();
    after.updated_at = now;
    let mut audit = ctx.audit("open.feedback_answer", "open_feedback", id);
    audit.org_id = Some(before.source_org_id.clone());
    audit.before = summary(&serde_json::json!({
        "status": before.status, "action": before.action, "withheld": before.withheld,
    }));
    audit.after = summary(&serde_json::json!({
        "status": after.status, "action": after.action, "withheld": after.withheld,
        "answer": after.answer, "resource_code": after.resource_code,
        "overdue_since": after.overdue_since,
    }));
    let mut audits = vec![audit];
    if after.withheld && !before.withheld {
        audits.push(withheld_audit(ctx, &after, action.key()));
    } else if before.withheld && !after.withheld {
        let others = app
            .store
            .list_open_feedback(&OpenFeedbackFilter {
                resource_id: Some(before.resource_id.clone()),
                limit: 1000,
                ..Default::default()
            })
            .await?;
        if !others.iter().any(|o| o.id != before.id && o.withheld) {
            let mut released =
                ctx.audit("open.dataset_released", "catalog_entry", &after.resource_id);
            released.org_id = Some(after.source_org_id.clone());
            released.after = summary(&serde_json::json!({
                "feedback_id": after.id,
                "resource_code": after.resource_code,
                "action": action.key(),
            }));
            audits.push(released);
        }
    }
    commit_decision(
        app,
        StatusRecord::OpenFeedback,
        &before.id,
        &before.status,
        vec![Change::PutOpenFeedback(after.clone())],
        audits,
    )
    .await?;
    Ok(after)
}

/// OPN-9: marks reports not answered by their due day, once each, audited against
/// the source department. Returns how many were marked.
pub async fn flag_overdue(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let today = today_in_china(now);
    let waiting = app
        .store
        .list_open_feedback(&OpenFeedbackFilter {
            status: Some(FeedbackStatus::Received.key().into()),
            limit: 100_000,
            ..Default::default()
        })
        .await?;
    let ctx = Ctx::system();
    let mut marked = 0;
    for f in waiting {
        if f.due >= today || f.overdue_since.is_some() {
            continue;
        }
        // Read it again just before writing, so an answer given meanwhile is kept.
        let Some(f) = app.store.get_open_feedback(&f.id).await? else {
            continue;
        };
        if f.status != FeedbackStatus::Received.key() || f.overdue_since.is_some() {
            continue;
        }
        let mut after = f.clone();
        after.overdue_since = Some(today);
        after.updated_at = truncate_to_micros(now);
        let mut audit = ctx.audit("open.feedback_overdue", "open_feedback", &f.id);
        audit.org_id = Some(f.source_org_id.clone());
        audit.after = summary(&serde_json::json!({
            "resource_code": f.resource_code, "kind": f.kind, "due": f.due,
        }));
        let changes = vec![Change::PutOpenFeedback(after)];
        if commit_if_status(
            app,
            StatusRecord::OpenFeedback,
            &f.id,
            &f.status,
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
