//! CAT-1 … CAT-4, CAT-8, CAT-9: registering catalog entries and taking them
//! through review to publication, on working-day deadlines, every step audited.
use chrono::{DateTime, NaiveDate, Utc};
use gongshu_domain::audit::{truncate_to_micros, AuditDraft};
use gongshu_domain::catalog::{
    self, Category, EntryContent, FieldError, Outcome, ReviewAction, Stage,
};
use gongshu_domain::deadlines::DeadlineKind;
use gongshu_domain::org::OrgKind;
use gongshu_domain::permissions::Permission;
use gongshu_store::{CatalogEntry, CatalogFilter, CatalogReview, Change, StoreError};
use serde::{Deserialize, Serialize};

use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// The calendar day in China (UTC+8), on which working-day deadlines count.
pub fn today_in_china(now: DateTime<Utc>) -> NaiveDate {
    gongshu_domain::calendar::china_day(now)
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::not_found("目录条目", "catalog entry", id)
}

/// An entry by id or resource code; anyone who may read the catalog.
pub async fn get(app: &App, ctx: &Ctx, id_or_code: &str) -> ServiceResult<CatalogEntry> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    find_entry(app, id_or_code)
        .await?
        .ok_or_else(|| not_found(id_or_code))
}

/// An entry by id or resource code, for use cases that check their own permissions.
pub async fn find_entry(app: &App, id_or_code: &str) -> ServiceResult<Option<CatalogEntry>> {
    // Ids are UUIDs and codes never are: one read instead of two on the data API's path.
    if uuid::Uuid::parse_str(id_or_code).is_ok() {
        return Ok(app.store.get_catalog_entry(id_or_code).await?);
    }
    Ok(app.store.get_catalog_entry_by_code(id_or_code).await?)
}

/// Entries matching the filter, in resource-code order.
pub async fn list(app: &App, ctx: &Ctx, filter: CatalogFilter) -> ServiceResult<Vec<CatalogEntry>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    Ok(app
        .store
        .list_catalog_entries(&filter.without_blanks())
        .await?)
}

/// Every entry `filter` selects, in code order, read page by page (one read of the
/// store returns at most 1000 entries) from after the last code read, so entries
/// registered meanwhile shift no page.
pub(crate) async fn every_entry(
    app: &App,
    mut filter: CatalogFilter,
) -> ServiceResult<Vec<CatalogEntry>> {
    const PAGE: i64 = 1000;
    let mut out: Vec<CatalogEntry> = Vec::new();
    filter.limit = Some(PAGE);
    filter.offset = None;
    loop {
        filter.code_after = out.last().map(|e| e.code.clone());
        let page = app.store.list_catalog_entries(&filter).await?;
        let n = page.len() as i64;
        out.extend(page);
        if n < PAGE {
            return Ok(out);
        }
    }
}

/// CAT-2: entries the authority has not decided by their due working day.
pub async fn overdue(app: &App, ctx: &Ctx, now: DateTime<Utc>) -> ServiceResult<Vec<CatalogEntry>> {
    let filter = CatalogFilter {
        overdue_on: Some(today_in_china(now)),
        limit: Some(1000),
        ..Default::default()
    };
    list(app, ctx, filter).await
}

/// The review history of an entry, oldest first.
pub async fn history(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<Vec<CatalogReview>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    Ok(app.store.list_catalog_reviews(id).await?)
}

fn field_error(field: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError {
        field: field.into(),
        code,
        message_zh: zh,
        message_en: en,
    }
}

/// CAT-1, CAT-4, CAT-8, CAT-9: the content rules plus those that need the store:
/// the organisations exist and may play their part, and a base catalog belongs to
/// the data authority.
async fn check(app: &App, owner_org_id: &str, c: &EntryContent) -> ServiceResult<()> {
    let mut problems = catalog::check_entry(c);
    let owner = app
        .store
        .get_org(owner_org_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("单位", "organisation", owner_org_id))?;
    let owner_kind = OrgKind::parse(&owner.kind);
    if c.category == Category::Base && owner_kind != Some(OrgKind::DataAuthority) {
        problems.push(field_error(
            "category",
            "catalog.base_belongs_to_authority",
            "基础目录由公共数据主管部门编制（CAT-4），请由主管部门登记".into(),
            "base catalogs belong to the data authority (CAT-4); the authority registers them"
                .into(),
        ));
    }
    if c.category == Category::Business
        && !c.source_org_id.is_empty()
        && c.source_org_id != owner_org_id
    {
        problems.push(field_error(
            "source_org_id",
            "catalog.business_source_is_owner",
            "业务目录的数源部门应为登记部门本身".into(),
            "the source of a business catalog entry is the registering department".into(),
        ));
    }
    if matches!(c.category, Category::Theme | Category::Special)
        && !c.source_org_id.is_empty()
        && c.source_org_id != owner_org_id
        && !c.co_builder_org_ids.contains(&c.source_org_id)
    {
        problems.push(field_error(
            "source_org_id",
            "catalog.source_not_builder",
            "主题、专题目录的数源部门应为牵头部门或共建部门".into(),
            "the source of a theme or special entry is the lead department or a co-builder".into(),
        ));
    }
    let mut orgs: Vec<(&str, &str)> = vec![("source_org_id", c.source_org_id.as_str())];
    if let Some(p) = &c.providing_org_id {
        orgs.push(("providing_org_id", p.as_str()));
    }
    for co in &c.co_builder_org_ids {
        orgs.push(("co_builder_org_ids", co.as_str()));
    }
    for (field, id) in orgs {
        if id.is_empty() {
            continue;
        }
        match app.store.get_org(id).await? {
            Some(o)
                if OrgKind::parse(&o.kind).is_some_and(|k| k.is_data_source()) && !o.disabled => {}
            Some(o) => problems.push(field_error(
                field,
                "catalog.org_not_source",
                format!("“{}”不是可提供公共数据的在用部门", o.name),
                format!(
                    "\"{}\" is not an active body that provides public data",
                    o.name
                ),
            )),
            None => problems.push(field_error(
                field,
                "catalog.org_unknown",
                format!("单位不存在：{id}"),
                format!("no such organisation: {id}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::fields(problems))
    }
}

pub(crate) fn review_row(
    ctx: &Ctx,
    entry_id: &str,
    action: &str,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> CatalogReview {
    CatalogReview {
        id: new_id(),
        entry_id: entry_id.into(),
        action: action.into(),
        actor_user_id: ctx.principal.user_id.clone(),
        actor: ctx.principal.actor.clone(),
        reason,
        at,
    }
}

/// The visible version's columns: the published content, else the working copy.
pub(crate) fn refresh_columns(e: &mut CatalogEntry) {
    if let Some(c) = e.published.as_ref().or(e.working.as_ref()) {
        e.name = c.name.trim().to_string();
        e.source_org_id = c.source_org_id.clone();
        e.share_type = c.share_type.key().into();
        e.open_type = c.open_type.key().into();
    }
}

/// Writes the entry (if it is still as read), its review step and its audit record.
async fn save(
    app: &App,
    ctx: &Ctx,
    before: &CatalogEntry,
    mut after: CatalogEntry,
    (action, reason): (&str, Option<String>),
    now: DateTime<Utc>,
    (guards, mut audits): (Vec<Change>, Vec<AuditDraft>),
) -> ServiceResult<CatalogEntry> {
    refresh_columns(&mut after);
    after.updated_at = now;
    let mut audit = ctx.audit(&format!("catalog.{action}"), "catalog_entry", &after.id);
    audit.before = summary(&status_summary(before));
    audit.after = summary(&status_summary(&after));
    audits.insert(0, audit);
    let mut changes = guards;
    changes.extend([
        Change::UpdateCatalogEntry {
            entry: after.clone(),
            expected_updated_at: before.updated_at,
        },
        Change::InsertCatalogReview(review_row(ctx, &after.id, action, reason, now)),
    ]);
    app.store
        .commit(changes, audits)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => ServiceError::conflict(
                "catalog.changed_meanwhile",
                "目录条目已被他人修改，请刷新后重试",
                "the entry was changed by someone else meanwhile; reload and try again",
            ),
            other => other.into(),
        })?;
    Ok(after)
}

/// What an audit record says about an entry: enough to follow its lifecycle.
#[derive(Serialize)]
pub(crate) struct StatusSummary<'a> {
    code: &'a str,
    name: &'a str,
    stage: Option<&'a str>,
    published_version: i32,
    offline: bool,
    authority_due: Option<NaiveDate>,
}

pub(crate) fn status_summary(e: &CatalogEntry) -> StatusSummary<'_> {
    StatusSummary {
        code: &e.code,
        name: &e.name,
        stage: e.stage.as_deref(),
        published_version: e.published_version,
        offline: e.offline,
        authority_due: e.authority_due,
    }
}

/// CAT-1: registers a new entry as a draft of the caller's organisation.
pub async fn create(app: &App, ctx: &Ctx, content: EntryContent) -> ServiceResult<CatalogEntry> {
    create_at(app, ctx, content, Utc::now()).await
}

pub async fn create_at(
    app: &App,
    ctx: &Ctx,
    content: EntryContent,
    now: DateTime<Utc>,
) -> ServiceResult<CatalogEntry> {
    let mut created = create_many_at(app, ctx, vec![content], now)
        .await
        .map_err(|mut rows| rows.remove(0).1)?;
    Ok(created.remove(0))
}

/// The organisation a registrar registers for, once it may.
fn registering_org(ctx: &Ctx) -> ServiceResult<String> {
    let owner = ctx.principal.org_id.clone().ok_or_else(|| {
        ServiceError::new(
            ErrorKind::Denied,
            "catalog.no_org",
            "只有属于某个部门的用户才能登记目录",
            "only a member of a department can register catalog entries",
        )
    })?;
    ctx.principal
        .authorize(Permission::CatalogRegister, Some(&owner))?;
    Ok(owner)
}

pub(crate) fn draft_entry(
    owner: &str,
    code: String,
    content: EntryContent,
    now: DateTime<Utc>,
) -> CatalogEntry {
    let mut entry = CatalogEntry {
        id: new_id(),
        code,
        owner_org_id: owner.to_string(),
        category: content.category.key().into(),
        domain: content.domain.key().into(),
        name: String::new(),
        source_org_id: String::new(),
        share_type: String::new(),
        open_type: String::new(),
        published: None,
        published_version: 0,
        published_at: None,
        offline: false,
        offline_reason: None,
        offline_at: None,
        working: Some(content),
        stage: Some(Stage::Draft.key().into()),
        registrar_user_id: None,
        department_reviewer_user_id: None,
        submitted_at: None,
        authority_due: None,
        return_reason: None,
        mounted: false,
        overdue_since: None,
        created_at: now,
        updated_at: now,
    };
    refresh_columns(&mut entry);
    entry
}

/// The highest sequence number used under a resource-code prefix (0 when none).
pub(crate) async fn last_sequence(app: &App, prefix: &str) -> ServiceResult<u32> {
    let last = app.store.last_catalog_code(prefix).await?;
    Ok(last
        .map(|c| c[prefix.len()..].parse::<u32>().unwrap_or(0))
        .unwrap_or(0))
}

/// CAT-1: registers several entries at once (a spreadsheet import): all of them, or
/// none. On failure, every failing entry is returned with its index and error.
pub async fn create_many(
    app: &App,
    ctx: &Ctx,
    contents: Vec<EntryContent>,
) -> Result<Vec<CatalogEntry>, Vec<(usize, ServiceError)>> {
    create_many_at(app, ctx, contents, Utc::now()).await
}

pub async fn create_many_at(
    app: &App,
    ctx: &Ctx,
    mut contents: Vec<EntryContent>,
    now: DateTime<Utc>,
) -> Result<Vec<CatalogEntry>, Vec<(usize, ServiceError)>> {
    let owner = registering_org(ctx).map_err(|e| vec![(0, e)])?;
    let mut failures = Vec::new();
    for (i, content) in contents.iter_mut().enumerate() {
        content.name = content.name.trim().to_string();
        if let Err(e) = check(app, &owner, content).await {
            failures.push((i, e));
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    let now = truncate_to_micros(now);
    // Concurrent registrations may race for a sequence number; the unique code decides.
    for _ in 0..5 {
        let mut next: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        let mut entries = Vec::with_capacity(contents.len());
        for content in &contents {
            let prefix = catalog::resource_code_prefix(content.category, content.domain);
            if !next.contains_key(&prefix) {
                let n = last_sequence(app, &prefix)
                    .await
                    .map_err(|e| vec![(0, e)])?;
                next.insert(prefix.clone(), n);
            }
            let seq = next.get_mut(&prefix).expect("inserted above");
            *seq += 1;
            let code = catalog::resource_code(content.category, content.domain, *seq);
            entries.push(draft_entry(&owner, code, content.clone(), now));
        }
        let mut changes = Vec::with_capacity(entries.len() * 2);
        let mut audits = Vec::with_capacity(entries.len());
        for entry in &entries {
            let mut audit = ctx.audit("catalog.create", "catalog_entry", &entry.id);
            audit.after = summary(&status_summary(entry));
            audits.push(audit);
            changes.push(Change::InsertCatalogEntry(entry.clone()));
            changes.push(Change::InsertCatalogReview(review_row(
                ctx, &entry.id, "create", None, now,
            )));
        }
        match app.store.commit(changes, audits).await {
            Ok(_) => return Ok(entries),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(vec![(0, e.into())]),
        }
    }
    Err(vec![(
        0,
        ServiceError::conflict(
            "catalog.code_busy",
            "分配资源代码时冲突，请重试",
            "could not allocate a resource code; try again",
        ),
    )])
}

/// CAT-2: edits the working copy. A published entry gets a new working copy in
/// draft; its published version stays visible until the revision is approved.
pub async fn update(
    app: &App,
    ctx: &Ctx,
    id: &str,
    content: EntryContent,
) -> ServiceResult<CatalogEntry> {
    update_at(app, ctx, id, content, Utc::now()).await
}

pub async fn update_at(
    app: &App,
    ctx: &Ctx,
    id: &str,
    mut content: EntryContent,
    now: DateTime<Utc>,
) -> ServiceResult<CatalogEntry> {
    let before = app
        .store
        .get_catalog_entry(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    ctx.principal
        .authorize(Permission::CatalogRegister, Some(&before.owner_org_id))?;
    if content.category.key() != before.category || content.domain.key() != before.domain {
        return Err(ServiceError::invalid(
            "catalog.code_fixed",
            "category",
            "资源代码已按类别和领域分配，不能更改类别或领域；请另行登记",
            "the resource code fixes category and domain; register a new entry instead",
        ));
    }
    match before.stage.as_deref().and_then(Stage::parse) {
        None | Some(Stage::Draft) => {}
        Some(stage) => {
            return Err(ServiceError::conflict(
                "catalog.in_review",
                format!("目录正在“{}”，审核结束前不能修改", stage.label_zh()),
                format!(
                    "the entry is \"{}\"; it cannot change until the review ends",
                    stage.label_en()
                ),
            ))
        }
    }
    content.name = content.name.trim().to_string();
    check(app, &before.owner_org_id, &content).await?;
    let social_guard = crate::social_data::check_entry_change(app, &before, &content).await?;
    let mut after = before.clone();
    after.working = Some(content);
    after.stage = Some(Stage::Draft.key().into());
    save(
        app,
        ctx,
        &before,
        after,
        ("update", None),
        truncate_to_micros(now),
        (vec![social_guard], Vec::new()),
    )
    .await
}

/// CAT-2: one review step (submit, department pass/return, authority approve/return).
pub async fn review(
    app: &App,
    ctx: &Ctx,
    id: &str,
    action: ReviewAction,
    reason: Option<String>,
) -> ServiceResult<CatalogEntry> {
    review_at(app, ctx, id, action, reason, Utc::now()).await
}

pub async fn review_at(
    app: &App,
    ctx: &Ctx,
    id: &str,
    action: ReviewAction,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> ServiceResult<CatalogEntry> {
    let now = truncate_to_micros(now);
    let before = app
        .store
        .get_catalog_entry(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let permission = match action {
        ReviewAction::Submit => Permission::CatalogRegister,
        ReviewAction::DepartmentPass | ReviewAction::DepartmentReturn => Permission::CatalogReview,
        ReviewAction::AuthorityApprove | ReviewAction::AuthorityReturn => {
            Permission::CatalogApprove
        }
    };
    ctx.principal
        .authorize(permission, Some(&before.owner_org_id))?;
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if action.needs_reason() && reason.is_none() {
        return Err(ServiceError::invalid(
            "catalog.reason_required",
            "reason",
            "退回时必须写明理由",
            "a return must give its reason",
        ));
    }
    let Some(stage) = before.stage.as_deref().and_then(Stage::parse) else {
        return Err(ServiceError::conflict(
            "catalog.nothing_to_review",
            "该目录没有待审核的内容；如需变更，请先修改",
            "the entry has nothing under review; edit it first to change it",
        ));
    };
    let outcome = catalog::review(stage, action).map_err(|e| {
        ServiceError::conflict("catalog.illegal_transition", e.message_zh(), e.message_en())
    })?;
    let mut after = before.clone();
    match action {
        ReviewAction::Submit => {
            after.overdue_since = None;
            after.registrar_user_id = ctx.principal.user_id.clone();
            after.submitted_at = Some(now);
            after.department_reviewer_user_id = None;
            after.return_reason = None;
        }
        ReviewAction::DepartmentPass | ReviewAction::DepartmentReturn => {
            // CAT-2: the reviewer inside the department is not the registrar.
            if ctx.principal.user_id.is_some() && ctx.principal.user_id == before.registrar_user_id
            {
                return Err(ServiceError::new(
                    ErrorKind::Denied,
                    "catalog.reviewer_is_registrar",
                    "编报人不能审核自己提交的目录，请由本部门另一位审核员审核",
                    "the registrar cannot review their own submission; another reviewer of the department must",
                ));
            }
            after.department_reviewer_user_id = ctx.principal.user_id.clone();
            if action == ReviewAction::DepartmentPass {
                // HZ 12: the authority reviews within 5 working days of submission.
                let due = app
                    .deadlines
                    .due(
                        &app.calendar,
                        DeadlineKind::CatalogAuthorityReview,
                        today_in_china(now),
                    )
                    .map_err(ServiceError::from_calendar)?;
                after.authority_due = Some(due);
            }
        }
        ReviewAction::AuthorityApprove | ReviewAction::AuthorityReturn => {}
    }
    match outcome {
        Outcome::Stage(next) => {
            after.stage = Some(next.key().into());
            if next == Stage::Draft {
                after.return_reason = reason.clone();
                after.authority_due = None;
            }
        }
        Outcome::Published => {
            after.published = after.working.take();
            after.published_version += 1;
            after.published_at = Some(now);
            after.offline = false;
            after.offline_reason = None;
            after.offline_at = None;
            after.stage = None;
            after.authority_due = None;
            after.return_reason = None;
        }
    }
    save(
        app,
        ctx,
        &before,
        after,
        (action.key(), reason),
        now,
        (Vec::new(), Vec::new()),
    )
    .await
}

/// The body of a take-offline request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineInput {
    pub reason: String,
}

/// SHR-13: share grants still in force on a resource whose holders were not yet
/// offered a working successor; data others rely on goes offline only when none are.
pub(crate) async fn grants_awaiting_successor(
    app: &App,
    resource_id: &str,
    now: DateTime<Utc>,
) -> ServiceResult<usize> {
    let today = today_in_china(now);
    Ok(app
        .store
        .list_grants(&gongshu_store::GrantFilter {
            resource_id: Some(resource_id.to_string()),
            ..Default::default()
        })
        .await?
        .iter()
        .filter(|g| {
            g.status != "revoked" && g.ends_on >= today && g.successor_resource_id.is_none()
        })
        .count())
}

/// CAT-2: takes a published entry offline (下架) with a reason.
pub async fn take_offline(
    app: &App,
    ctx: &Ctx,
    id: &str,
    reason: &str,
) -> ServiceResult<CatalogEntry> {
    take_offline_with(app, ctx, id, reason, (Vec::new(), Vec::new())).await
}

/// [`take_offline`], committing `with` (changes that must hold, and their audit
/// records) in the same transaction.
pub(crate) async fn take_offline_with(
    app: &App,
    ctx: &Ctx,
    id: &str,
    reason: &str,
    with: (Vec<Change>, Vec<AuditDraft>),
) -> ServiceResult<CatalogEntry> {
    let now = truncate_to_micros(Utc::now());
    let before = app
        .store
        .get_catalog_entry(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    ctx.principal
        .authorize(Permission::CatalogOffline, Some(&before.owner_org_id))?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "catalog.reason_required",
            "reason",
            "下架时必须写明理由",
            "taking an entry offline needs a reason",
        ));
    }
    if before.published.is_none() || before.offline {
        return Err(ServiceError::conflict(
            "catalog.not_published",
            "只有已发布且在架的目录可以下架",
            "only a published entry that is online can be taken offline",
        ));
    }
    let outstanding = grants_awaiting_successor(app, &before.id, now).await?;
    if outstanding > 0 {
        return Err(ServiceError::conflict(
            "catalog.grants_outstanding",
            format!("该资源仍有 {outstanding} 个共享授权在用：请先挂接可用的替代资源并替换（SHR-13），或撤销这些授权"),
            format!("{outstanding} share grants still use this resource: replace it with a working successor (SHR-13) or revoke them first"),
        ));
    }
    let mut after = before.clone();
    after.offline = true;
    after.offline_reason = Some(reason.to_string());
    after.offline_at = Some(now);
    save(
        app,
        ctx,
        &before,
        after,
        ("offline", Some(reason.to_string())),
        now,
        with,
    )
    .await
}

/// CAT-3: a datum of a base catalog registered with more than one source department.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemConflict {
    pub item_key: String,
    pub item_name: String,
    /// Every department that registers the datum as its source.
    pub source_org_ids: Vec<String>,
    pub claims: Vec<gongshu_store::CatalogItemClaim>,
    /// The authority's decision, once made.
    pub decided: Option<gongshu_store::ItemSource>,
    /// Entries that still register the datum from a department other than the decided source.
    pub entries_to_correct: Vec<String>,
}

impl ItemConflict {
    pub fn is_open(&self) -> bool {
        self.decided.is_none()
    }
}

/// CAT-3: the conflict list: every contested datum of a base catalog, open ones first.
pub async fn conflicts(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ItemConflict>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    let claims = app.store.contested_catalog_items().await?;
    let decisions: std::collections::HashMap<String, gongshu_store::ItemSource> = app
        .store
        .list_item_sources()
        .await?
        .into_iter()
        .map(|d| (d.item_key.clone(), d))
        .collect();
    let mut out: Vec<ItemConflict> = Vec::new();
    for claim in claims {
        match out.last_mut() {
            Some(c) if c.item_key == claim.item_key => c.claims.push(claim),
            _ => out.push(ItemConflict {
                item_key: claim.item_key.clone(),
                item_name: claim.item_name.clone(),
                source_org_ids: Vec::new(),
                claims: vec![claim],
                decided: None,
                entries_to_correct: Vec::new(),
            }),
        }
    }
    out.retain(|c| c.claims.iter().any(|k| k.category == Category::Base.key()));
    for c in &mut out {
        let mut sources: Vec<String> = c.claims.iter().map(|k| k.source_org_id.clone()).collect();
        sources.sort();
        sources.dedup();
        c.source_org_ids = sources;
        c.decided = decisions.get(&c.item_key).cloned();
        if let Some(d) = &c.decided {
            let mut to_correct: Vec<String> = c
                .claims
                .iter()
                .filter(|k| k.source_org_id != d.source_org_id)
                .map(|k| k.entry_id.clone())
                .collect();
            to_correct.dedup();
            c.entries_to_correct = to_correct;
        }
    }
    out.sort_by_key(|c| (!c.is_open(), c.item_name.clone()));
    Ok(out)
}

/// The authority's decision on a contested datum.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveConflict {
    pub item_key: String,
    /// One of the departments that claim the datum.
    pub source_org_id: String,
    /// Why this department, e.g. the law that makes it responsible.
    pub note: String,
}

/// CAT-3: the authority names the one source department of a contested datum.
pub async fn resolve_conflict(
    app: &App,
    ctx: &Ctx,
    input: ResolveConflict,
) -> ServiceResult<gongshu_store::ItemSource> {
    ctx.principal.authorize(Permission::CatalogApprove, None)?;
    let note = input.note.trim().to_string();
    if note.is_empty() {
        return Err(ServiceError::invalid(
            "catalog.reason_required",
            "note",
            "请写明确定数源部门的依据",
            "state the basis for the decision",
        ));
    }
    let claims = app
        .store
        .catalog_item_claims(std::slice::from_ref(&input.item_key))
        .await?;
    if claims.is_empty() {
        return Err(ServiceError::not_found(
            "数据项",
            "data item",
            &input.item_key,
        ));
    }
    if !claims
        .iter()
        .any(|c| c.source_org_id == input.source_org_id)
    {
        return Err(ServiceError::invalid(
            "catalog.source_not_claimant",
            "source_org_id",
            "只能在登记了该数据项的部门中确定数源部门",
            "the source must be one of the departments that register the datum",
        ));
    }
    let decision = gongshu_store::ItemSource {
        item_key: input.item_key.clone(),
        source_org_id: input.source_org_id,
        note,
        decided_by: ctx.principal.actor.clone(),
        decided_at: truncate_to_micros(Utc::now()),
    };
    let mut audit = ctx.audit("catalog.source_decide", "catalog_item", &input.item_key);
    audit.after = summary(&decision);
    app.store
        .commit(vec![Change::PutItemSource(decision.clone())], vec![audit])
        .await?;
    Ok(decision)
}

/// COL-5: a data item of an entry that another department already provides.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DuplicateWarning {
    pub item_name: String,
    pub item_key: String,
    /// Published entries of other source departments that register the same datum.
    pub provided_by: Vec<gongshu_store::CatalogItemClaim>,
}

/// COL-5: before submission, the items of the entry's working copy (or published
/// version) that other source departments already provide in published entries:
/// data obtainable by sharing must not be collected again.
pub async fn duplicates(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<Vec<DuplicateWarning>> {
    let entry = get(app, ctx, id).await?;
    let Some(content) = entry.working.as_ref().or(entry.published.as_ref()) else {
        return Ok(Vec::new());
    };
    let own_items: Vec<_> = content
        .items
        .iter()
        .filter(|i| !catalog::is_link_key(i))
        .collect();
    let keys: Vec<String> = own_items.iter().map(|i| catalog::item_key(i)).collect();
    let claims = app.store.catalog_item_claims(&keys).await?;
    Ok(own_items
        .iter()
        .zip(keys)
        .filter_map(|(item, key)| {
            let provided_by: Vec<_> = claims
                .iter()
                .filter(|c| {
                    c.item_key == key
                        && c.version == "published"
                        && c.entry_id != entry.id
                        && c.source_org_id != content.source_org_id
                })
                .cloned()
                .collect();
            (!provided_by.is_empty()).then(|| DuplicateWarning {
                item_name: item.name.trim().to_string(),
                item_key: key,
                provided_by,
            })
        })
        .collect())
}

/// CAT-2: the overdue job: marks authority reviews past their due working day, once
/// each, with an audit record, so that they count against the authority later.
pub async fn flag_overdue(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let ctx = Ctx::system();
    let today = today_in_china(now);
    let now = truncate_to_micros(now);
    let filter = CatalogFilter {
        overdue_on: Some(today),
        limit: Some(1000),
        ..Default::default()
    };
    let mut flagged = 0;
    for entry in app.store.list_catalog_entries(&filter).await? {
        if entry.overdue_since.is_some() {
            continue;
        }
        let mut after = entry.clone();
        after.overdue_since = Some(today);
        after.updated_at = now;
        let mut audit = ctx.audit("catalog.review_overdue", "catalog_entry", &entry.id);
        audit.after = summary(&status_summary(&after));
        let change = Change::UpdateCatalogEntry {
            entry: after,
            expected_updated_at: entry.updated_at,
        };
        match app.store.commit(vec![change], vec![audit]).await {
            Ok(_) => flagged += 1,
            // Decided meanwhile: nothing to flag.
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for record in app.store.list_change_records(None, true).await? {
        if record.overdue_since.is_some() || record.due >= today {
            continue;
        }
        let mut after = record.clone();
        after.overdue_since = Some(today);
        let mut audit = ctx.audit("catalog.change_overdue", "catalog_change", &record.id);
        audit.org_id = Some(record.org_id.clone());
        audit.after = summary(&after);
        app.store
            .commit(vec![Change::UpdateChangeRecord(after)], vec![audit])
            .await?;
        flagged += 1;
    }
    Ok(flagged)
}

/// A recorded change of law or function (input).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChangeRecord {
    pub org_id: String,
    pub description: String,
    pub basis: String,
}

/// CAT-2: the authority records a change of law or function of a department, which
/// then updates its catalog within 15 working days (XJ 11, HZ 12).
pub async fn record_change(
    app: &App,
    ctx: &Ctx,
    input: NewChangeRecord,
) -> ServiceResult<gongshu_store::CatalogChangeRecord> {
    ctx.principal.authorize(Permission::CatalogApprove, None)?;
    let description = input.description.trim().to_string();
    let basis = input.basis.trim().to_string();
    let mut problems = Vec::new();
    if description.is_empty() {
        problems.push(field_error(
            "description",
            "catalog.description_required",
            "请说明发生了什么变化".into(),
            "describe the change".into(),
        ));
    }
    if basis.is_empty() {
        problems.push(field_error(
            "basis",
            "catalog.basis_required",
            "请写明变化依据（法规或决定）".into(),
            "name the law or decision".into(),
        ));
    }
    match app.store.get_org(&input.org_id).await? {
        Some(o) if OrgKind::parse(&o.kind).is_some_and(|k| k.is_data_source()) => {}
        _ => problems.push(field_error(
            "org_id",
            "catalog.org_not_source",
            "请选择一个提供公共数据的部门".into(),
            "choose a department that provides public data".into(),
        )),
    }
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let now = truncate_to_micros(Utc::now());
    let due = app
        .deadlines
        .due(
            &app.calendar,
            DeadlineKind::CatalogUpdateAfterChange,
            today_in_china(now),
        )
        .map_err(ServiceError::from_calendar)?;
    let record = gongshu_store::CatalogChangeRecord {
        id: new_id(),
        org_id: input.org_id,
        description,
        basis,
        recorded_by: ctx.principal.actor.clone(),
        recorded_at: now,
        due,
        completed_at: None,
        completed_note: None,
        overdue_since: None,
    };
    let mut audit = ctx.audit("catalog.change_record", "catalog_change", &record.id);
    audit.after = summary(&record);
    app.store
        .commit(
            vec![Change::InsertChangeRecord(record.clone())],
            vec![audit],
        )
        .await?;
    Ok(record)
}

/// The department reports its catalog updated after a recorded change.
pub async fn complete_change(
    app: &App,
    ctx: &Ctx,
    id: &str,
    note: &str,
) -> ServiceResult<gongshu_store::CatalogChangeRecord> {
    let before = app
        .store
        .get_change_record(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("变化记录", "change record", id))?;
    ctx.principal
        .authorize(Permission::CatalogRegister, Some(&before.org_id))?;
    if before.completed_at.is_some() {
        return Err(ServiceError::conflict(
            "catalog.change_completed",
            "该变化已报告更新完成",
            "this change was already reported as done",
        ));
    }
    let note = note.trim();
    if note.is_empty() {
        return Err(ServiceError::invalid(
            "catalog.reason_required",
            "note",
            "请说明更新了哪些目录",
            "say which entries were updated",
        ));
    }
    let mut after = before.clone();
    after.completed_at = Some(truncate_to_micros(Utc::now()));
    after.completed_note = Some(note.to_string());
    let mut audit = ctx.audit("catalog.change_complete", "catalog_change", id);
    audit.before = summary(&before);
    audit.after = summary(&after);
    app.store
        .commit(vec![Change::UpdateChangeRecord(after.clone())], vec![audit])
        .await?;
    Ok(after)
}

/// Recorded changes, newest first; a department sees its own unless it reads globally.
pub async fn list_changes(
    app: &App,
    ctx: &Ctx,
    open_only: bool,
) -> ServiceResult<Vec<gongshu_store::CatalogChangeRecord>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    Ok(app.store.list_change_records(None, open_only).await?)
}

/// CAT-10: the completeness, consistency and naming findings of an entry's working
/// copy (or published version).
pub async fn quality_checks(
    app: &App,
    ctx: &Ctx,
    id: &str,
) -> ServiceResult<Vec<catalog::Finding>> {
    let entry = get(app, ctx, id).await?;
    Ok(entry
        .working
        .as_ref()
        .or(entry.published.as_ref())
        .map(catalog::quality_findings)
        .unwrap_or_default())
}
