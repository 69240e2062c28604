//! ORG-1..4: divisions, organisations, filed officers, third-party processors.
use chrono::{NaiveDate, Utc};
use gongshu_domain::ids::{CreditCode, DivisionCode};
use gongshu_domain::org::{OfficerRole, OrgKind, ProcessorStatus};
use gongshu_domain::permissions::Permission;
use gongshu_store::{Change, Division, Officer, OrgFilter, Organization, ProcessorAuthorization};
use serde::{Deserialize, Serialize};

use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ServiceError, ServiceResult};

fn required(field: &str, value: &str, zh: &str, en: &str) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(
            "input.required",
            field,
            format!("请填写{zh}"),
            format!("{en} is required"),
        ));
    }
    if v.chars().count() > 200 {
        return Err(ServiceError::invalid(
            "input.too_long",
            field,
            format!("{zh}不能超过 200 个字符"),
            format!("{en} must be at most 200 characters"),
        ));
    }
    Ok(v.to_string())
}

fn optional(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// ORG-1: a division to add or rename.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewDivision {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub hosts_node: bool,
}

/// ORG-1: adds or updates a division; its parent level must exist first.
pub async fn upsert_division(app: &App, ctx: &Ctx, input: NewDivision) -> ServiceResult<Division> {
    ctx.principal.authorize(Permission::DivisionManage, None)?;
    let code = DivisionCode::parse(&input.code).map_err(|e| ServiceError::from_id("code", e))?;
    let name = required("name", &input.name, "区划名称", "Division name")?;
    let parent_code = code.parent().map(|p| p.as_str().to_string());
    if let Some(parent) = &parent_code {
        if app.store.get_division(parent).await?.is_none() {
            return Err(ServiceError::invalid(
                "division.parent_missing",
                "code",
                format!("上级区划 {parent} 尚未登记，请先登记上级"),
                format!("parent division {parent} is not registered yet; register it first"),
            ));
        }
    }
    let before = app.store.get_division(code.as_str()).await?;
    let division = Division {
        code: code.as_str().to_string(),
        name,
        name_en: input.name_en.trim().to_string(),
        level: code.level().as_str().to_string(),
        parent_code,
        hosts_node: input.hosts_node,
    };
    let mut audit = ctx.audit(
        if before.is_some() {
            "division.update"
        } else {
            "division.create"
        },
        "division",
        &division.code,
    );
    audit.before = before.as_ref().and_then(summary);
    audit.after = summary(&division);
    app.store
        .commit(vec![Change::UpsertDivision(division.clone())], vec![audit])
        .await?;
    Ok(division)
}

pub async fn list_divisions(app: &App, ctx: &Ctx) -> ServiceResult<Vec<Division>> {
    read_orgs_allowed(ctx)?;
    Ok(app.store.list_divisions().await?)
}

fn read_orgs_allowed(ctx: &Ctx) -> ServiceResult<()> {
    if ctx.principal.holds(Permission::OrgRead) {
        Ok(())
    } else {
        Err(ctx
            .principal
            .authorize(Permission::OrgRead, None)
            .unwrap_err()
            .into())
    }
}

/// ORG-2: an organisation to register.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub kind: String,
    pub division_code: String,
    #[serde(default)]
    pub credit_code: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
}

async fn validate_org(
    app: &App,
    input: &NewOrg,
) -> ServiceResult<(String, OrgKind, Option<String>)> {
    let name = required("name", &input.name, "单位名称", "Organisation name")?;
    let kind = OrgKind::parse(input.kind.trim()).ok_or_else(|| {
        let keys: Vec<&str> = OrgKind::ALL.iter().map(|k| k.key()).collect();
        ServiceError::invalid(
            "org.unknown_kind",
            "kind",
            format!("未知的单位类型“{}”，可选：{}", input.kind, keys.join("、")),
            format!(
                "unknown organisation kind '{}'; one of: {}",
                input.kind,
                keys.join(", ")
            ),
        )
    })?;
    let division = DivisionCode::parse(&input.division_code)
        .map_err(|e| ServiceError::from_id("division_code", e))?;
    if app.store.get_division(division.as_str()).await?.is_none() {
        return Err(ServiceError::invalid(
            "org.division_missing",
            "division_code",
            format!("行政区划 {division} 尚未登记"),
            format!("division {division} is not registered"),
        ));
    }
    let credit = match optional(input.credit_code.as_deref()) {
        None => None,
        Some(c) => Some(
            CreditCode::parse(&c)
                .map_err(|e| ServiceError::from_id("credit_code", e))?
                .as_str()
                .to_string(),
        ),
    };
    if let Some(parent) = optional(input.parent_id.as_deref()) {
        if app.store.get_org(&parent).await?.is_none() {
            return Err(ServiceError::invalid(
                "org.parent_missing",
                "parent_id",
                format!("上级单位不存在：{parent}"),
                format!("parent organisation not found: {parent}"),
            ));
        }
    }
    Ok((name, kind, credit))
}

fn org_row(input: &NewOrg, name: String, kind: OrgKind, credit: Option<String>) -> Organization {
    Organization {
        id: new_id(),
        name,
        name_en: input.name_en.trim().to_string(),
        kind: kind.key().to_string(),
        division_code: input.division_code.trim().to_string(),
        credit_code: credit,
        parent_id: optional(input.parent_id.as_deref()),
        disabled: false,
        created_at: gongshu_domain::audit::truncate_to_micros(Utc::now()),
    }
}

fn org_conflict(e: ServiceError, name: &str) -> ServiceError {
    if e.code == "store.conflict" {
        ServiceError::conflict(
            "org.duplicate",
            format!("同一区划下已有名为“{name}”的单位，或统一社会信用代码重复"),
            format!("an organisation named '{name}' already exists in this division, or the credit code is taken"),
        )
    } else {
        e
    }
}

/// ORG-2: registers an organisation of any party kind.
pub async fn create_org(app: &App, ctx: &Ctx, input: NewOrg) -> ServiceResult<Organization> {
    ctx.principal.authorize(Permission::OrgCreate, None)?;
    let (name, kind, credit) = validate_org(app, &input).await?;
    let org = org_row(&input, name, kind, credit);
    let mut audit = ctx.audit("org.create", "organization", &org.id);
    audit.org_id = Some(org.id.clone());
    audit.after = summary(&org);
    app.store
        .commit(vec![Change::InsertOrg(org.clone())], vec![audit])
        .await
        .map_err(|e| org_conflict(e.into(), &org.name))?;
    Ok(org)
}

/// ORG-2: imports many organisations at once: all or none.
pub async fn import_orgs(
    app: &App,
    ctx: &Ctx,
    inputs: Vec<NewOrg>,
) -> ServiceResult<Vec<Organization>> {
    ctx.principal.authorize(Permission::OrgCreate, None)?;
    let mut changes = Vec::with_capacity(inputs.len());
    let mut audits = Vec::with_capacity(inputs.len());
    let mut orgs = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let (name, kind, credit) = validate_org(app, input).await.map_err(|mut e| {
            e.message = format!("第 {} 条：{}", i + 1, e.message);
            e.message_en = format!("record {}: {}", i + 1, e.message_en);
            e
        })?;
        let org = org_row(input, name, kind, credit);
        let mut audit = ctx.audit("org.create", "organization", &org.id);
        audit.org_id = Some(org.id.clone());
        audit.after = summary(&org);
        changes.push(Change::InsertOrg(org.clone()));
        audits.push(audit);
        orgs.push(org);
    }
    app.store
        .commit(changes, audits)
        .await
        .map_err(|e| org_conflict(e.into(), "…"))?;
    Ok(orgs)
}

/// Fields of an organisation that can change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub credit_code: Option<String>,
    pub disabled: Option<bool>,
}

pub async fn update_org(
    app: &App,
    ctx: &Ctx,
    id: &str,
    patch: OrgPatch,
) -> ServiceResult<Organization> {
    ctx.principal.authorize(Permission::OrgUpdate, Some(id))?;
    let before = get_org_row(app, id).await?;
    let mut org = before.clone();
    if let Some(name) = &patch.name {
        org.name = required("name", name, "单位名称", "Organisation name")?;
    }
    if let Some(name_en) = &patch.name_en {
        org.name_en = name_en.trim().to_string();
    }
    if let Some(code) = &patch.credit_code {
        org.credit_code = match optional(Some(code)) {
            None => None,
            Some(c) => Some(
                CreditCode::parse(&c)
                    .map_err(|e| ServiceError::from_id("credit_code", e))?
                    .as_str()
                    .to_string(),
            ),
        };
    }
    if let Some(disabled) = patch.disabled {
        org.disabled = disabled;
    }
    let mut audit = ctx.audit("org.update", "organization", id);
    audit.org_id = Some(id.to_string());
    audit.before = summary(&before);
    audit.after = summary(&org);
    app.store
        .commit(vec![Change::UpdateOrg(org.clone())], vec![audit])
        .await
        .map_err(|e| org_conflict(e.into(), &org.name))?;
    Ok(org)
}

async fn get_org_row(app: &App, id: &str) -> ServiceResult<Organization> {
    app.store
        .get_org(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("单位", "organisation", id))
}

pub async fn get_org(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<Organization> {
    ctx.principal.authorize(Permission::OrgRead, Some(id))?;
    get_org_row(app, id).await
}

/// Lists organisations: all for a global reader, only its own for an own-organisation reader.
pub async fn list_orgs(
    app: &App,
    ctx: &Ctx,
    filter: &OrgFilter,
) -> ServiceResult<Vec<Organization>> {
    if ctx.principal.holds_globally(Permission::OrgRead) {
        return Ok(app.store.list_orgs(filter).await?);
    }
    let own = ctx.principal.org_id.clone().unwrap_or_default();
    ctx.principal.authorize(Permission::OrgRead, Some(&own))?;
    Ok(app.store.get_org(&own).await?.into_iter().collect())
}

/// ORG-3: filing an officer of a department.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileOfficer {
    pub role: String,
    pub person_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// ORG-3: files the holder of an officer role; the previous holder's term ends now and stays in the history.
pub async fn file_officer(
    app: &App,
    ctx: &Ctx,
    org_id: &str,
    input: FileOfficer,
) -> ServiceResult<Officer> {
    ctx.principal
        .authorize(Permission::OfficerFile, Some(org_id))?;
    get_org_row(app, org_id).await?;
    let role = OfficerRole::parse(input.role.trim()).ok_or_else(|| {
        let keys: Vec<&str> = OfficerRole::ALL.iter().map(|k| k.key()).collect();
        ServiceError::invalid(
            "officer.unknown_role",
            "role",
            format!(
                "未知的责任人角色“{}”，可选：{}",
                input.role,
                keys.join("、")
            ),
            format!(
                "unknown officer role '{}'; one of: {}",
                input.role,
                keys.join(", ")
            ),
        )
    })?;
    let person_name = required("person_name", &input.person_name, "姓名", "Name")?;
    let user_id = optional(input.user_id.as_deref());
    if let Some(uid) = &user_id {
        match app.store.get_user(uid).await? {
            Some(u) if u.org_id == org_id => {}
            _ => {
                return Err(ServiceError::invalid(
                    "officer.user_not_in_org",
                    "user_id",
                    "关联的用户不属于该单位",
                    "the linked user does not belong to this organisation",
                ))
            }
        }
    }
    let now = gongshu_domain::audit::truncate_to_micros(Utc::now());
    let previous = app
        .store
        .list_officers(org_id, false)
        .await?
        .into_iter()
        .find(|o| o.role == role.key());
    let officer = Officer {
        id: new_id(),
        org_id: org_id.to_string(),
        role: role.key().to_string(),
        person_name,
        phone: optional(input.phone.as_deref()),
        email: optional(input.email.as_deref()),
        user_id,
        appointed_at: now,
        ended_at: None,
        filed_by: ctx.principal.actor.clone(),
    };
    let mut audit = ctx.audit("officer.file", "officer", &officer.id);
    audit.org_id = Some(org_id.to_string());
    audit.before = previous.as_ref().and_then(summary);
    audit.after = summary(&officer);
    app.store
        .commit(
            vec![
                Change::EndOfficer {
                    org_id: org_id.to_string(),
                    role: role.key().to_string(),
                    at: now,
                },
                Change::InsertOfficer(officer.clone()),
            ],
            vec![audit],
        )
        .await?;
    Ok(officer)
}

pub async fn list_officers(
    app: &App,
    ctx: &Ctx,
    org_id: &str,
    history: bool,
) -> ServiceResult<Vec<Officer>> {
    ctx.principal.authorize(Permission::OrgRead, Some(org_id))?;
    Ok(app.store.list_officers(org_id, history).await?)
}

/// ORG-4: a department authorising a third party.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProcessor {
    pub processor_org_id: String,
    pub scope: String,
    pub purpose: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// ORG-4: records an authorisation with least scope and a term; it is in force only once filed.
pub async fn authorize_processor(
    app: &App,
    ctx: &Ctx,
    org_id: &str,
    input: NewProcessor,
) -> ServiceResult<ProcessorAuthorization> {
    ctx.principal
        .authorize(Permission::ProcessorAuthorize, Some(org_id))?;
    get_org_row(app, org_id).await?;
    let processor = get_org_row(app, input.processor_org_id.trim()).await?;
    if processor.kind != OrgKind::ThirdPartyProcessor.key() {
        return Err(ServiceError::invalid(
            "processor.wrong_kind",
            "processor_org_id",
            "受托单位须登记为“受托第三方处理单位”",
            "the processor must be registered as an authorised third-party processor",
        ));
    }
    let scope = required("scope", &input.scope, "委托范围", "Scope")?;
    let purpose = required("purpose", &input.purpose, "委托目的", "Purpose")?;
    if input.ends_on < input.starts_on {
        return Err(ServiceError::invalid(
            "processor.bad_term",
            "ends_on",
            "委托期限的结束日期早于开始日期",
            "the term ends before it starts",
        ));
    }
    let now = gongshu_domain::audit::truncate_to_micros(Utc::now());
    let p = ProcessorAuthorization {
        id: new_id(),
        org_id: org_id.to_string(),
        processor_org_id: processor.id,
        scope,
        purpose,
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        status: ProcessorStatus::PendingFiling.key().to_string(),
        filing_no: None,
        filed_at: None,
        filed_by: None,
        revoked_at: None,
        revoke_reason: None,
        created_by: ctx.principal.actor.clone(),
        created_at: now,
    };
    let mut audit = ctx.audit("processor.authorize", "processor_authorization", &p.id);
    audit.org_id = Some(org_id.to_string());
    audit.after = summary(&p);
    app.store
        .commit(vec![Change::InsertProcessor(p.clone())], vec![audit])
        .await?;
    Ok(p)
}

async fn get_processor_row(app: &App, id: &str) -> ServiceResult<ProcessorAuthorization> {
    app.store
        .get_processor(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("第三方委托", "processor authorisation", id))
}

/// ORG-4: the authority files an authorisation (JY 33), putting it in force.
pub async fn file_processor(
    app: &App,
    ctx: &Ctx,
    id: &str,
    filing_no: &str,
) -> ServiceResult<ProcessorAuthorization> {
    ctx.principal.authorize(Permission::ProcessorFile, None)?;
    let before = get_processor_row(app, id).await?;
    if before.status != ProcessorStatus::PendingFiling.key() {
        return Err(ServiceError::conflict(
            "processor.not_pending",
            "该委托不处于待备案状态",
            "this authorisation is not awaiting filing",
        ));
    }
    let mut p = before.clone();
    p.status = ProcessorStatus::Filed.key().to_string();
    p.filing_no = Some(required(
        "filing_no",
        filing_no,
        "备案编号",
        "Filing number",
    )?);
    p.filed_at = Some(gongshu_domain::audit::truncate_to_micros(Utc::now()));
    p.filed_by = Some(ctx.principal.actor.clone());
    let mut audit = ctx.audit("processor.file", "processor_authorization", id);
    audit.org_id = Some(p.org_id.clone());
    audit.before = summary(&before);
    audit.after = summary(&p);
    app.store
        .commit(vec![Change::UpdateProcessor(p.clone())], vec![audit])
        .await?;
    Ok(p)
}

/// ORG-4: the department or the authority ends an authorisation early, with a reason.
pub async fn revoke_processor(
    app: &App,
    ctx: &Ctx,
    id: &str,
    reason: &str,
) -> ServiceResult<ProcessorAuthorization> {
    let before = get_processor_row(app, id).await?;
    if ctx
        .principal
        .authorize(Permission::ProcessorFile, None)
        .is_err()
    {
        ctx.principal
            .authorize(Permission::ProcessorAuthorize, Some(&before.org_id))?;
    }
    if before.status == ProcessorStatus::Revoked.key() {
        return Err(ServiceError::conflict(
            "processor.revoked",
            "该委托已撤销",
            "already revoked",
        ));
    }
    let mut p = before.clone();
    p.status = ProcessorStatus::Revoked.key().to_string();
    p.revoked_at = Some(gongshu_domain::audit::truncate_to_micros(Utc::now()));
    p.revoke_reason = Some(required("reason", reason, "撤销理由", "Reason")?);
    let mut audit = ctx.audit("processor.revoke", "processor_authorization", id);
    audit.org_id = Some(p.org_id.clone());
    audit.before = summary(&before);
    audit.after = summary(&p);
    app.store
        .commit(vec![Change::UpdateProcessor(p.clone())], vec![audit])
        .await?;
    Ok(p)
}

pub async fn list_processors(
    app: &App,
    ctx: &Ctx,
    org_id: Option<&str>,
) -> ServiceResult<Vec<ProcessorAuthorization>> {
    match org_id {
        Some(org) => ctx.principal.authorize(Permission::OrgRead, Some(org))?,
        None => ctx.principal.authorize(Permission::ProcessorFile, None)?,
    }
    Ok(app.store.list_processors(org_id).await?)
}
