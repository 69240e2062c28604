//! OPN-3, OPN-4 (HZ 37, XJ 29): the public's developer keys, and their applications
//! for data open on conditions. The source department reviews an application, the
//! authority concurs, the answer is due within 20 working days of receipt, and an
//! approval takes effect only once the applicant accepts the data use agreement —
//! after which the applicant's key unlocks the data at the egress gate until the
//! approved use ends.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use gongshu_domain::audit::{truncate_to_micros, AuditDraft};
use gongshu_domain::deadlines::DeadlineKind;
use gongshu_domain::ids::{CitizenId, CreditCode};
use gongshu_domain::masking::{hmac_sm3, mask_text, MaskRule};
use gongshu_domain::open::{
    after_review, agreement_text, ApplicantKind, OpenApplicationStatus, PublicAccess,
    AGREEMENT_VERSION,
};
use gongshu_domain::permissions::Permission;
use gongshu_store::{
    AgreementAcceptance, Change, DeveloperKey, OpenApplication, OpenApplicationFilter, OpenReview,
    StatusRecord,
};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

use crate::catalog::today_in_china;
use crate::context::{commit_decision, commit_if_status, new_id, summary, App, Ctx};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::{random_secret, secret_hash};
use crate::open::{self, OpenDataset};

/// How long an approved use runs, from the day the authority approves it.
pub const APPROVED_USE_DAYS: i64 = 365;

fn text(field: &str, value: &str, max: usize, zh: &str, en: &str) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(
            "input.required",
            field,
            format!("请填写{zh}"),
            format!("{en} is required"),
        ));
    }
    if v.chars().count() > max {
        return Err(ServiceError::invalid(
            "input.too_long",
            field,
            format!("{zh}不能超过 {max} 个字符"),
            format!("{en} must be at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

/// OPN-3: who asks for a developer key.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewDeveloperKey {
    /// Name of the person, company or organisation.
    pub holder_name: String,
    /// `natural_person`, `legal_person` or `organisation`.
    pub holder_kind: String,
    /// Citizen ID number for a natural person; unified social credit code otherwise.
    pub identity_number: String,
    /// E-mail or telephone.
    pub contact: String,
}

/// What the public sees of a developer key: never its hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeveloperKeyView {
    pub id: String,
    pub holder_name: String,
    pub holder_kind: String,
    pub identity_masked: String,
    pub contact: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<&DeveloperKey> for DeveloperKeyView {
    fn from(k: &DeveloperKey) -> Self {
        DeveloperKeyView {
            id: k.id.clone(),
            holder_name: k.holder_name.clone(),
            holder_kind: k.holder_kind.clone(),
            identity_masked: k.identity_masked.clone(),
            contact: k.contact.clone(),
            status: k.status.clone(),
            created_at: k.created_at,
        }
    }
}

/// The key's holder as a party to an agreement.
pub fn party_of(k: &DeveloperKey) -> String {
    let kind = ApplicantKind::parse(&k.holder_kind)
        .map(|kind| kind.label_zh())
        .unwrap_or("");
    format!("{}（{kind}，{}）", k.holder_name, k.identity_masked)
}

/// OPN-3: issues a developer key to a member of the public; the secret is returned
/// once and only its SM3 hash is kept. The identity number is checked digit by digit
/// (GB 11643 or GB 32100) and kept only masked and as a keyed hash.
pub async fn issue_key(
    app: &App,
    ctx: &Ctx,
    input: NewDeveloperKey,
) -> ServiceResult<(DeveloperKey, String)> {
    let holder_name = text("holder_name", &input.holder_name, 100, "名称", "The name")?;
    let kind = ApplicantKind::parse(input.holder_kind.trim()).ok_or_else(|| {
        ServiceError::invalid(
            "open.unknown_applicant_kind",
            "holder_kind",
            "申请主体须为自然人、法人或非法人组织",
            "the holder must be a natural person, a legal person or another organisation",
        )
    })?;
    let number = input.identity_number.trim().to_uppercase();
    let identity_masked = match kind {
        ApplicantKind::NaturalPerson => {
            let id = CitizenId::parse(&number)
                .map_err(|e| ServiceError::from_id("identity_number", e))?;
            mask_text(&MaskRule::CitizenId, id.as_str(), &[]).unwrap_or_default()
        }
        // A credit code is public registration information: shown as it is.
        ApplicantKind::LegalPerson | ApplicantKind::Organisation => CreditCode::parse(&number)
            .map_err(|e| ServiceError::from_id("identity_number", e))?
            .as_str()
            .to_string(),
    };
    let contact = text("contact", &input.contact, 100, "联系方式", "A contact")?;
    let secret = format!("gk_{}", random_secret(40));
    let key = DeveloperKey {
        id: new_id(),
        key_hash: secret_hash(&secret),
        holder_name,
        holder_kind: kind.key().into(),
        identity_masked,
        identity_hash: hex::encode(hmac_sm3(app.mask_key.as_bytes(), number.as_bytes())),
        contact,
        status: "active".into(),
        created_at: truncate_to_micros(Utc::now()),
    };
    let mut audit = ctx.audit("open.key_issue", "developer_key", &key.id);
    audit.after = summary(&DeveloperKeyView::from(&key));
    app.store
        .commit(vec![Change::PutDeveloperKey(key.clone())], vec![audit])
        .await?;
    Ok((key, secret))
}

/// The active key a secret belongs to; an unknown or revoked key is an error, so a
/// caller that sent a key never silently reads as anonymous.
pub async fn key_for_secret(app: &App, secret: &str) -> ServiceResult<DeveloperKey> {
    active_key(
        app.store
            .get_developer_key_by_hash(&secret_hash(secret))
            .await?,
    )
}

/// OPN-3: the active developer key with this secret and the open catalog as it
/// stands, both from one read of the store (a keyed public read needs both).
pub async fn key_and_catalog(
    app: &App,
    secret: &str,
) -> ServiceResult<(DeveloperKey, std::sync::Arc<crate::open::OpenCatalog>)> {
    let (stamp, key) = crate::open::stamp_and_key(app, Some(&secret_hash(secret))).await?;
    let key = active_key(key)?;
    Ok((key, crate::open::snapshot_as_of(app, stamp).await?))
}

fn active_key(key: Option<DeveloperKey>) -> ServiceResult<DeveloperKey> {
    match key {
        Some(k) if k.status == "active" => Ok(k),
        _ => Err(ServiceError::new(
            crate::error::ErrorKind::Unauthenticated,
            "open.bad_key",
            "开发者密钥无效或已停用",
            "the developer key is unknown or no longer active",
        )),
    }
}

/// OPN-4: what the applicant asks for.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewOpenApplication {
    /// Why the data is needed.
    pub purpose: String,
    /// What will be built or done with it.
    pub intended_use: String,
}

/// When an answer to an application received on `today` is due (HZ 37).
fn answer_due(app: &App, today: NaiveDate) -> ServiceResult<NaiveDate> {
    app.deadlines
        .due(&app.calendar, DeadlineKind::OpenConditionalAnswer, today)
        .map_err(ServiceError::from_calendar)
}

/// OPN-4: the holder of `key` applies for the conditional dataset `code`.
pub async fn apply(
    app: &App,
    ctx: &Ctx,
    key: &DeveloperKey,
    code: &str,
    input: NewOpenApplication,
) -> ServiceResult<OpenApplication> {
    let catalog = open::catalog(app).await?;
    let ds = catalog.find(code)?;
    if ds.access() == PublicAccess::Direct {
        return Err(ServiceError::conflict(
            "open.no_application_needed",
            format!("“{}”为无条件开放数据，无须申请即可获取", ds.content.name),
            format!(
                "'{}' is open without conditions: take it directly",
                ds.content.name
            ),
        ));
    }
    let purpose = text("purpose", &input.purpose, 500, "用途", "The purpose")?;
    let intended_use = text(
        "intended_use",
        &input.intended_use,
        2000,
        "使用场景",
        "The intended use",
    )?;
    let pending = app
        .store
        .list_open_applications(&OpenApplicationFilter {
            key_id: Some(key.id.clone()),
            resource_id: Some(ds.id.clone()),
            ..Default::default()
        })
        .await?;
    if pending.iter().any(|a| {
        OpenApplicationStatus::parse(&a.status).is_some_and(|s| {
            s.awaits_answer()
                || s == OpenApplicationStatus::AwaitingAgreement
                || s == OpenApplicationStatus::Active
        })
    }) {
        return Err(ServiceError::conflict(
            "open.application_exists",
            "已有该数据集在办或有效的申请",
            "an application for this dataset is already pending or in force",
        ));
    }
    let now = truncate_to_micros(Utc::now());
    let application = OpenApplication {
        id: new_id(),
        key_id: key.id.clone(),
        holder_name: key.holder_name.clone(),
        holder_kind: key.holder_kind.clone(),
        identity_masked: key.identity_masked.clone(),
        contact: key.contact.clone(),
        resource_id: ds.id.clone(),
        resource_code: ds.code.clone(),
        resource_name: ds.content.name.clone(),
        source_org_id: ds.owner_org_id.clone(),
        purpose,
        intended_use,
        status: OpenApplicationStatus::SourceReview.key().into(),
        due: answer_due(app, today_in_china(now))?,
        overdue_since: None,
        source_review: None,
        authority_review: None,
        agreement: None,
        ends_on: None,
        created_at: now,
        updated_at: now,
    };
    let mut audit = ctx.audit("open.apply", "open_application", &application.id);
    audit.org_id = Some(application.source_org_id.clone());
    audit.after = summary(&application);
    app.store
        .commit(
            vec![Change::PutOpenApplication(application.clone())],
            vec![audit],
        )
        .await?;
    Ok(application)
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::not_found("开放数据申请", "open-data application", id)
}

/// OPN-4: one of `key`'s applications.
pub async fn get_for_key(
    app: &App,
    key: &DeveloperKey,
    id: &str,
) -> ServiceResult<OpenApplication> {
    match app.store.get_open_application(id).await? {
        Some(a) if a.key_id == key.id => Ok(a),
        _ => Err(not_found(id)),
    }
}

/// OPN-4: `key`'s applications, newest first.
pub async fn list_for_key(app: &App, key: &DeveloperKey) -> ServiceResult<Vec<OpenApplication>> {
    Ok(app
        .store
        .list_open_applications(&OpenApplicationFilter {
            key_id: Some(key.id.clone()),
            ..Default::default()
        })
        .await?)
}

/// Whether the caller may see an application in the console: the authority sees
/// all, a source department its own.
fn may_see(ctx: &Ctx, a: &OpenApplication) -> bool {
    ctx.principal.holds_globally(Permission::OpenCoordinate)
        || ctx
            .principal
            .authorize(Permission::OpenReview, Some(&a.source_org_id))
            .is_ok()
}

/// OPN-4: one application, for its source department or the authority.
pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<OpenApplication> {
    let a = app
        .store
        .get_open_application(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if !may_see(ctx, &a) {
        ctx.principal
            .authorize(Permission::OpenReview, Some(&a.source_org_id))?;
    }
    Ok(a)
}

/// OPN-4: the applications the caller reviews: all for the authority, its own
/// department's otherwise; optionally only those in one status.
pub async fn list(
    app: &App,
    ctx: &Ctx,
    status: Option<&str>,
) -> ServiceResult<Vec<OpenApplication>> {
    let source_org_id = if ctx.principal.holds_globally(Permission::OpenCoordinate) {
        None
    } else {
        let org = ctx.principal.org_id.clone();
        ctx.principal
            .authorize(Permission::OpenReview, org.as_deref())?;
        org
    };
    Ok(app
        .store
        .list_open_applications(&OpenApplicationFilter {
            source_org_id,
            status: status.map(str::to_string),
            ..Default::default()
        })
        .await?)
}

/// OPN-4: a review decision.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReviewDecision {
    pub approve: bool,
    /// Required when refusing (HZ 37: the reasons must be clear).
    #[serde(default)]
    pub reason: String,
}

/// OPN-4 (HZ 37, XJ 29): the source reviews first, then the authority concurs. A
/// refusal at either step must give reasons and ends the application.
pub async fn review(
    app: &App,
    ctx: &Ctx,
    id: &str,
    decision: ReviewDecision,
) -> ServiceResult<OpenApplication> {
    let before = get(app, ctx, id).await?;
    let status = OpenApplicationStatus::parse(&before.status).ok_or_else(|| not_found(id))?;
    let next = after_review(status, decision.approve).ok_or_else(|| {
        ServiceError::conflict(
            "open.not_under_review",
            format!("申请当前状态为“{}”，无须审核", status.label_zh()),
            format!("the application is {}, not under review", status.label_en()),
        )
    })?;
    match status {
        OpenApplicationStatus::SourceReview => ctx
            .principal
            .authorize(Permission::OpenReview, Some(&before.source_org_id))?,
        _ => ctx.principal.authorize(Permission::OpenCoordinate, None)?,
    }
    let reason = decision.reason.trim().to_string();
    if !decision.approve && reason.is_empty() {
        return Err(ServiceError::invalid(
            "open.reason_required",
            "reason",
            "不予通过须写明理由（HZ 37）",
            "a refusal must give its reasons (HZ 37)",
        ));
    }
    if reason.chars().count() > 2000 {
        return Err(ServiceError::invalid(
            "input.too_long",
            "reason",
            "理由不能超过 2000 个字符",
            "the reason must be at most 2000 characters",
        ));
    }
    let now = truncate_to_micros(Utc::now());
    let opinion = OpenReview {
        by_user_id: ctx
            .principal
            .user_id
            .clone()
            .unwrap_or_else(|| ctx.principal.actor.clone()),
        by_org_id: ctx.principal.org_id.clone().unwrap_or_default(),
        at: now,
        approve: decision.approve,
        reason,
    };
    let mut after = before.clone();
    match status {
        OpenApplicationStatus::SourceReview => after.source_review = Some(opinion),
        _ => after.authority_review = Some(opinion),
    }
    after.status = next.key().into();
    if next == OpenApplicationStatus::AwaitingAgreement {
        after.ends_on = Some(today_in_china(now) + Duration::days(APPROVED_USE_DAYS));
    }
    after.updated_at = now;
    let action = if decision.approve {
        "open.application_approve"
    } else {
        "open.application_refuse"
    };
    let mut audit = ctx.audit(action, "open_application", id);
    audit.org_id = Some(before.source_org_id.clone());
    audit.before = summary(&serde_json::json!({"status": before.status}));
    audit.after = summary(&serde_json::json!({
        "status": after.status, "ends_on": after.ends_on, "reason": decision.reason.trim(),
    }));
    commit_application(app, &before, &after, audit).await?;
    Ok(after)
}

/// Writes a decision on an application read as `before`, unless another
/// decision landed meanwhile.
async fn commit_application(
    app: &App,
    before: &OpenApplication,
    after: &OpenApplication,
    audit: AuditDraft,
) -> ServiceResult<()> {
    commit_decision(
        app,
        StatusRecord::OpenApplication,
        &before.id,
        &before.status,
        vec![Change::PutOpenApplication(after.clone())],
        vec![audit],
    )
    .await
}

/// OPN-4: the agreement text offered on an approved application, as it would be
/// signed now. None until the application is approved.
pub async fn agreement_for(
    app: &App,
    key: &DeveloperKey,
    a: &OpenApplication,
) -> ServiceResult<Option<String>> {
    let Some(ends_on) = a.ends_on else {
        return Ok(None);
    };
    let catalog = open::catalog(app).await?;
    let source = catalog
        .org_names
        .get(&a.source_org_id)
        .cloned()
        .unwrap_or_else(|| a.source_org_id.clone());
    Ok(Some(agreement_text(
        &source,
        (&a.resource_name, &a.resource_code),
        &party_of(key),
        &a.purpose,
        ends_on,
    )))
}

/// OPN-4 (HZ 37): the applicant accepts the data use agreement of `version`; the
/// text, time and party are recorded and the key unlocks the data from now on.
pub async fn accept_agreement(
    app: &App,
    ctx: &Ctx,
    key: &DeveloperKey,
    id: &str,
    version: &str,
) -> ServiceResult<OpenApplication> {
    let before = get_for_key(app, key, id).await?;
    if before.status != OpenApplicationStatus::AwaitingAgreement.key() {
        return Err(ServiceError::conflict(
            "open.agreement_not_offered",
            "申请尚未通过审核或协议已签订",
            "the application is not approved, or its agreement is already accepted",
        ));
    }
    if version != AGREEMENT_VERSION {
        return Err(ServiceError::conflict(
            "open.agreement_version_changed",
            format!("协议已更新为版本 {AGREEMENT_VERSION}，请阅读后重新确认"),
            format!("the agreement is now version {AGREEMENT_VERSION}: read it and accept again"),
        ));
    }
    let text = agreement_for(app, key, &before).await?.unwrap_or_default();
    let now = truncate_to_micros(Utc::now());
    let mut after = before.clone();
    after.agreement = Some(AgreementAcceptance {
        version: AGREEMENT_VERSION.into(),
        text_sm3: hex::encode(Sm3::digest(text.as_bytes())),
        accepted_at: now,
        party: party_of(key),
    });
    after.status = OpenApplicationStatus::Active.key().into();
    after.updated_at = now;
    let mut audit = ctx.audit("open.agreement_accept", "open_application", id);
    audit.org_id = Some(before.source_org_id.clone());
    audit.after = summary(&after.agreement);
    commit_application(app, &before, &after, audit).await?;
    Ok(after)
}

/// OPN-4: the application in force that lets `key_id` read `ds` on `today`, if any.
pub async fn unlocking_application(
    app: &App,
    key_id: &str,
    ds: &OpenDataset,
    today: NaiveDate,
) -> ServiceResult<Option<OpenApplication>> {
    Ok(app
        .store
        .list_open_applications(&OpenApplicationFilter {
            key_id: Some(key_id.to_string()),
            resource_id: Some(ds.id.clone()),
            status: Some(OpenApplicationStatus::Active.key().into()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .find(|a| a.ends_on.is_some_and(|end| end >= today)))
}

/// HZ 37: marks applications still unanswered after their due day; each is audited
/// against the source department so it counts against it.
pub async fn flag_overdue(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let today = today_in_china(now);
    let ctx = Ctx::system();
    let mut marked = 0;
    for status in [
        OpenApplicationStatus::SourceReview,
        OpenApplicationStatus::AuthorityReview,
    ] {
        let waiting = app
            .store
            .list_open_applications(&OpenApplicationFilter {
                status: Some(status.key().into()),
                limit: 100_000,
                ..Default::default()
            })
            .await?;
        for a in waiting {
            if a.due >= today || a.overdue_since.is_some() {
                continue;
            }
            let mut after = a.clone();
            after.overdue_since = Some(today);
            let mut audit = ctx.audit("open.application_overdue", "open_application", &a.id);
            audit.org_id =
                (status == OpenApplicationStatus::SourceReview).then(|| a.source_org_id.clone());
            audit.after = summary(&serde_json::json!({"status": a.status, "due": a.due}));
            let changes = vec![Change::PutOpenApplication(after)];
            if commit_if_status(
                app,
                StatusRecord::OpenApplication,
                &a.id,
                &a.status,
                changes,
                vec![audit],
            )
            .await?
            {
                marked += 1;
            }
        }
    }
    Ok(marked)
}

/// OPN-4: the source department or the authority suspends an application in force,
/// e.g. on misuse or passing the data on; its key reads nothing more until resumed.
/// With `resume`, a suspended application is in force again.
pub async fn set_suspended(
    app: &App,
    ctx: &Ctx,
    id: &str,
    suspend: bool,
    reason: &str,
) -> ServiceResult<OpenApplication> {
    let before = get(app, ctx, id).await?;
    if !ctx.principal.holds_globally(Permission::OpenCoordinate) {
        ctx.principal
            .authorize(Permission::OpenReview, Some(&before.source_org_id))?;
    }
    let (from, to) = if suspend {
        (
            OpenApplicationStatus::Active,
            OpenApplicationStatus::Suspended,
        )
    } else {
        (
            OpenApplicationStatus::Suspended,
            OpenApplicationStatus::Active,
        )
    };
    if before.status != from.key() {
        return Err(ServiceError::conflict(
            "open.application_not_in_force",
            format!(
                "申请当前状态为“{}”，不能{}",
                before.status,
                if suspend { "中止" } else { "恢复" }
            ),
            format!(
                "the application is {}: it cannot be {}",
                before.status,
                if suspend { "suspended" } else { "resumed" }
            ),
        ));
    }
    let reason = text("reason", reason, 2000, "理由", "A reason")?;
    let mut after = before.clone();
    after.status = to.key().into();
    after.updated_at = truncate_to_micros(Utc::now());
    let action = if suspend {
        "open.application_suspend"
    } else {
        "open.application_resume"
    };
    let mut audit = ctx.audit(action, "open_application", id);
    audit.org_id = Some(before.source_org_id.clone());
    audit.before = summary(&serde_json::json!({"status": before.status}));
    audit.after = summary(&serde_json::json!({"status": after.status, "reason": reason}));
    commit_application(app, &before, &after, audit).await?;
    Ok(after)
}

/// OPN-3: revokes a developer key — by its holder, or by the authority (misuse).
/// A revoked key is refused everywhere (401 `open.bad_key`).
pub async fn revoke_key(
    app: &App,
    ctx: &Ctx,
    key: &DeveloperKey,
    reason: &str,
) -> ServiceResult<DeveloperKey> {
    if key.status != "active" {
        return Err(ServiceError::conflict(
            "open.key_revoked",
            "密钥已停用",
            "the key is already revoked",
        ));
    }
    let mut after = key.clone();
    after.status = "revoked".into();
    let mut audit = ctx.audit("open.key_revoke", "developer_key", &key.id);
    audit.after = summary(&serde_json::json!({"status": "revoked", "reason": reason.trim()}));
    app.store
        .commit(vec![Change::PutDeveloperKey(after.clone())], vec![audit])
        .await?;
    Ok(after)
}

/// OPN-3: the authority revokes a key by its id.
pub async fn revoke_key_by_id(
    app: &App,
    ctx: &Ctx,
    id: &str,
    reason: &str,
) -> ServiceResult<DeveloperKey> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let reason = text("reason", reason, 2000, "理由", "A reason")?;
    let key = app
        .store
        .get_developer_key(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("开发者密钥", "developer key", id))?;
    revoke_key(app, ctx, &key, &reason).await
}
