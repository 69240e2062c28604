//! SUP-8 (XJ 41), OPN-11 (JY 29), OPN-10 (XJ 32): applications, websites, studies
//! and reports built on open data. Anyone submits one, naming the open datasets it
//! uses (each must be in the open catalog) and confirming that it cites their source
//! and the date obtained; the authority (`open.coordinate`) publishes it or rejects
//! it with a reason, and may later withdraw a published one. Published products are
//! shown on the portal and on the page of each dataset they use — typical cases of
//! opening, and a measure of its effect. Every step is audited; the submitter's
//! contact stays out of the trail and off the portal.
use chrono::{DateTime, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::permissions::Permission;
use gongshu_domain::showcase::{
    after_decision, valid_showcase_url, ShowcaseAction, ShowcaseKind, ShowcaseStatus,
    MAX_SHOWCASE_DATASETS,
};
use gongshu_store::{Change, OpenShowcase, ShowcaseFilter};
use serde::{Deserialize, Serialize};

use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ErrorKind, FieldProblem, ServiceError, ServiceResult};
use crate::open::{self, OpenCatalog};

/// Submissions one address may make per minute on one node.
pub const SUBMISSIONS_PER_MINUTE: i64 = 5;
/// The longest name, submitter or contact, in characters.
pub const MAX_SHORT: usize = 100;
/// The longest description or reason, in characters.
pub const MAX_TEXT: usize = 2000;
/// The longest web address, in characters.
pub const MAX_URL: usize = 500;

/// SUP-8: a product built on open data, as anyone submits it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShowcase {
    /// The product's name.
    pub name: String,
    /// What it does, and how it uses the data.
    pub description: String,
    /// Where to find it: an `http(s)://` address.
    pub url: String,
    /// `app`, `website`, `research`, `report` or `other`.
    pub kind: String,
    /// Resource codes of the open datasets it uses (1–20), each in the open catalog.
    pub datasets: Vec<String>,
    /// Who built it (shown on the portal).
    pub submitter: String,
    /// An e-mail address or telephone number for the authority (never shown).
    pub contact: String,
    /// OPN-10 (XJ 32): the product cites each dataset's source and the date obtained.
    #[serde(default)]
    pub cites_sources: bool,
}

/// SUP-8: the authority's decision on a product.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowcaseDecision {
    /// `publish`, `reject` or `withdraw` (a published one).
    pub action: String,
    /// Why: required to reject or withdraw.
    #[serde(default)]
    pub reason: String,
}

/// One dataset a product uses, as the portal names it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShowcaseDataset {
    pub code: String,
    pub name: String,
    /// Whether it is in the open catalog now (a page to link to).
    pub open: bool,
}

/// SUP-8: a published product as the public sees it (no contact).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicShowcase {
    pub id: String,
    pub name: String,
    pub description: String,
    pub url: String,
    /// A `ShowcaseKind` key.
    pub kind: String,
    pub datasets: Vec<ShowcaseDataset>,
    pub submitter: String,
    pub published_at: Option<DateTime<Utc>>,
}

/// SUP-8: a product as the authority sees it (the submitter's contact included).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShowcaseRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub kind: String,
    pub datasets: Vec<ShowcaseDataset>,
    pub submitter: String,
    pub contact: String,
    /// A `ShowcaseStatus` key.
    pub status: String,
    pub reason: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// SUP-8: what the submitter is told: the product awaits the authority's review.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmittedShowcase {
    pub id: String,
    /// `pending`.
    pub status: String,
    pub datasets: Vec<ShowcaseDataset>,
    pub created_at: DateTime<Utc>,
}

/// Which products the authority lists.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShowcaseQuery {
    /// `pending`, `published`, `rejected` or `withdrawn`.
    pub status: Option<String>,
}

/// Which published products the public lists.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicShowcaseQuery {
    /// Only those using this open dataset (resource code).
    pub dataset: Option<String>,
}

/// The datasets of a product, named from the open catalog (by code as submitted).
fn datasets_of(catalog: &OpenCatalog, s: &OpenShowcase) -> Vec<ShowcaseDataset> {
    s.dataset_codes
        .iter()
        .zip(s.resource_ids.iter())
        .map(|(code, id)| match catalog.get(id) {
            Some(d) => ShowcaseDataset {
                code: d.code.clone(),
                name: d.content.name.clone(),
                open: true,
            },
            None => ShowcaseDataset {
                code: code.clone(),
                name: code.clone(),
                open: false,
            },
        })
        .collect()
}

fn public_view(catalog: &OpenCatalog, s: &OpenShowcase) -> PublicShowcase {
    PublicShowcase {
        id: s.id.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        url: s.url.clone(),
        kind: s.kind.clone(),
        datasets: datasets_of(catalog, s),
        submitter: s.submitter.clone(),
        published_at: s.decided_at,
    }
}

fn record_view(catalog: &OpenCatalog, s: &OpenShowcase) -> ShowcaseRecord {
    ShowcaseRecord {
        id: s.id.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        url: s.url.clone(),
        kind: s.kind.clone(),
        datasets: datasets_of(catalog, s),
        submitter: s.submitter.clone(),
        contact: s.contact.clone(),
        status: s.status.clone(),
        reason: s.reason.clone(),
        decided_by: s.decided_by.clone(),
        decided_at: s.decided_at,
        created_at: s.created_at,
    }
}

fn problem(field: &str, code: &str, zh: String, en: String) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        code: code.into(),
        message: zh,
        message_en: en,
    }
}

/// The problem with a text field: missing when required, or too long.
fn text_problem(
    field: &str,
    label: (&str, &str),
    value: &str,
    max: usize,
    required: bool,
) -> Option<FieldProblem> {
    if required && value.is_empty() {
        return Some(problem(
            field,
            "showcase.required",
            format!("请填写{}", label.0),
            format!("{} is required", label.1),
        ));
    }
    (value.chars().count() > max).then(|| {
        problem(
            field,
            "showcase.too_long",
            format!("{}不能超过 {max} 个字符", label.0),
            format!("{} must be at most {max} characters", label.1),
        )
    })
}

/// Counts one submission against the address's per-minute allowance on this node.
fn take_submission_slot(app: &App, bucket: &str, now: DateTime<Utc>) -> bool {
    crate::egress::take_minute_slot(
        app,
        &format!("showcase:{bucket}"),
        SUBMISSIONS_PER_MINUTE,
        now,
    )
}

/// SUP-8: anyone submits a product built on open data; it waits for the
/// authority's review. `bucket` names the submitter for the rate limit.
pub async fn submit(
    app: &App,
    ctx: &Ctx,
    bucket: &str,
    input: NewShowcase,
) -> ServiceResult<(OpenShowcase, Vec<ShowcaseDataset>)> {
    submit_at(app, ctx, bucket, input, Utc::now()).await
}

/// [`submit`] as if it were `now` (the minute its rate limit counts in).
pub async fn submit_at(
    app: &App,
    ctx: &Ctx,
    bucket: &str,
    input: NewShowcase,
    now: DateTime<Utc>,
) -> ServiceResult<(OpenShowcase, Vec<ShowcaseDataset>)> {
    let catalog = open::catalog(app).await?;
    let name = input.name.trim().to_string();
    let description = input.description.trim().to_string();
    let url = input.url.trim().to_string();
    let submitter = input.submitter.trim().to_string();
    let contact = input.contact.trim().to_string();
    let kind = ShowcaseKind::parse(input.kind.trim());
    let mut problems = Vec::new();
    problems.extend(text_problem(
        "name",
        ("名称", "The name"),
        &name,
        MAX_SHORT,
        true,
    ));
    problems.extend(text_problem(
        "description",
        ("简介", "The description"),
        &description,
        MAX_TEXT,
        true,
    ));
    if url.is_empty() || url.chars().count() > MAX_URL || !valid_showcase_url(&url) {
        problems.push(problem(
            "url",
            "showcase.bad_url",
            format!("请填写以 http:// 或 https:// 开头的访问地址（不超过 {MAX_URL} 个字符）"),
            format!(
                "give an address starting with http:// or https:// (at most {MAX_URL} characters)"
            ),
        ));
    }
    if kind.is_none() {
        problems.push(problem(
            "kind",
            "showcase.unknown_kind",
            format!(
                "未知的成果类型“{}”：可选 app、website、research、report、other",
                input.kind
            ),
            format!(
                "unknown kind '{}': use app, website, research, report or other",
                input.kind
            ),
        ));
    }
    let mut codes: Vec<String> = Vec::new();
    for c in input
        .datasets
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
    {
        if !codes.iter().any(|k| k == c) {
            codes.push(c.to_string());
        }
    }
    let mut used = Vec::new();
    if codes.is_empty() {
        problems.push(problem(
            "datasets",
            "showcase.datasets_required",
            "请至少填写一个所使用的开放数据集的资源代码".into(),
            "name at least one open dataset used, by its resource code".into(),
        ));
    } else if codes.len() > MAX_SHOWCASE_DATASETS {
        problems.push(problem(
            "datasets",
            "showcase.too_many_datasets",
            format!("最多填写 {MAX_SHOWCASE_DATASETS} 个数据集"),
            format!("name at most {MAX_SHOWCASE_DATASETS} datasets"),
        ));
    } else {
        for code in &codes {
            match catalog.get(code) {
                Some(d) => used.push(d.clone()),
                None => problems.push(problem(
                    "datasets",
                    "showcase.unknown_dataset",
                    format!("开放目录中没有资源代码为“{code}”的数据集"),
                    format!("no dataset with resource code '{code}' in the open catalog"),
                )),
            }
        }
    }
    problems.extend(text_problem(
        "submitter",
        ("开发者或作者", "The builder's name"),
        &submitter,
        MAX_SHORT,
        true,
    ));
    problems.extend(text_problem(
        "contact",
        ("联系方式", "The contact"),
        &contact,
        MAX_SHORT,
        true,
    ));
    if !input.cites_sources {
        problems.push(problem(
            "cites_sources",
            "showcase.citation_required",
            "使用开放数据形成的成果须注明数据来源和获取日期（XJ 32），请确认已注明".into(),
            "a product built on open data cites the source and the date obtained (XJ 32): confirm it does".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::problems(problems));
    }
    let kind = kind.expect("checked above");
    if !take_submission_slot(app, bucket, now) {
        return Err(ServiceError::new(
            ErrorKind::Locked,
            "showcase.rate_exceeded",
            "提交过于频繁，请稍后再试",
            "too many submissions: wait a minute",
        ));
    }
    let at = truncate_to_micros(now);
    let showcase = OpenShowcase {
        id: new_id(),
        name,
        description,
        url,
        kind: kind.key().into(),
        dataset_codes: used.iter().map(|d| d.code.clone()).collect(),
        resource_ids: used.iter().map(|d| d.id.clone()).collect(),
        submitter,
        contact,
        status: ShowcaseStatus::Pending.key().into(),
        reason: String::new(),
        decided_by: None,
        decided_at: None,
        created_at: at,
        updated_at: at,
    };
    let mut audit = ctx.audit("open.showcase_submit", "open_showcase", &showcase.id);
    audit.after = summary(&serde_json::json!({
        "name": showcase.name,
        "kind": showcase.kind,
        "url": showcase.url,
        "datasets": showcase.dataset_codes,
        "status": showcase.status,
    }));
    app.store
        .commit(vec![Change::PutShowcase(showcase.clone())], vec![audit])
        .await?;
    let datasets = datasets_of(&catalog, &showcase);
    Ok((showcase, datasets))
}

/// What the submitter is told.
pub fn submitted(s: &OpenShowcase, datasets: Vec<ShowcaseDataset>) -> SubmittedShowcase {
    SubmittedShowcase {
        id: s.id.clone(),
        status: s.status.clone(),
        datasets,
        created_at: s.created_at,
    }
}

/// SUP-8: the published products, newest first; those using one dataset when asked.
pub async fn published(app: &App, q: PublicShowcaseQuery) -> ServiceResult<Vec<PublicShowcase>> {
    let catalog = open::catalog(app).await?;
    let resource_id = match q
        .dataset
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => Some(catalog.find(code)?.id.clone()),
        None => None,
    };
    let found = app
        .store
        .list_showcases(&ShowcaseFilter {
            status: Some(ShowcaseStatus::Published.key().into()),
            resource_id,
            limit: 1000,
        })
        .await?;
    Ok(found.iter().map(|s| public_view(&catalog, s)).collect())
}

/// SUP-8: every product, newest first, for the authority.
pub async fn list(app: &App, ctx: &Ctx, q: ShowcaseQuery) -> ServiceResult<Vec<ShowcaseRecord>> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let status = q
        .status
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if ShowcaseStatus::parse(s).is_none() {
            return Err(ServiceError::invalid(
                "showcase.unknown_status",
                "status",
                format!("未知的状态“{s}”：可选 pending、published、rejected、withdrawn"),
                format!("unknown status '{s}': use pending, published, rejected or withdrawn"),
            ));
        }
    }
    let catalog = open::catalog(app).await?;
    let found = app
        .store
        .list_showcases(&ShowcaseFilter {
            status,
            resource_id: None,
            limit: 1000,
        })
        .await?;
    Ok(found.iter().map(|s| record_view(&catalog, s)).collect())
}

/// SUP-8: the authority publishes a product, rejects it, or withdraws a published
/// one; a rejection or a withdrawal gives its reason.
pub async fn decide(
    app: &App,
    ctx: &Ctx,
    id: &str,
    input: ShowcaseDecision,
) -> ServiceResult<ShowcaseRecord> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let before = app
        .store
        .get_showcase(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("开放数据应用", "showcase entry", id))?;
    let action = ShowcaseAction::parse(input.action.trim()).ok_or_else(|| {
        ServiceError::invalid(
            "showcase.unknown_action",
            "action",
            format!(
                "未知的操作“{}”：可选 publish、reject、withdraw",
                input.action
            ),
            format!(
                "unknown action '{}': use publish, reject or withdraw",
                input.action
            ),
        )
    })?;
    let reason = input.reason.trim().to_string();
    if action.needs_reason() && reason.is_empty() {
        return Err(ServiceError::invalid(
            "showcase.reason_required",
            "reason",
            "不予展示或撤下须写明理由",
            "a rejection or a withdrawal needs a reason",
        ));
    }
    if let Some(p) = text_problem("reason", ("理由", "The reason"), &reason, MAX_TEXT, false) {
        return Err(ServiceError::problems(vec![p]));
    }
    let status = ShowcaseStatus::parse(&before.status).unwrap_or(ShowcaseStatus::Pending);
    let next = after_decision(status, action).ok_or_else(|| {
        ServiceError::conflict(
            "showcase.decided",
            format!(
                "该成果当前为“{}”，不能{}",
                status.label_zh(),
                action.label_zh()
            ),
            format!(
                "the entry is {}: it cannot be {}",
                status.label_en().to_lowercase(),
                match action {
                    ShowcaseAction::Publish => "published",
                    ShowcaseAction::Reject => "rejected",
                    ShowcaseAction::Withdraw => "withdrawn",
                }
            ),
        )
    })?;
    let now = truncate_to_micros(Utc::now());
    let mut after = before.clone();
    after.status = next.key().into();
    after.reason = reason;
    after.decided_by = Some(ctx.principal.actor.clone());
    // A withdrawal keeps when it was published.
    if action != ShowcaseAction::Withdraw {
        after.decided_at = Some(now);
    }
    after.updated_at = now;
    let mut audit = ctx.audit(
        &format!("open.showcase_{}", action.key()),
        "open_showcase",
        id,
    );
    audit.before = summary(&serde_json::json!({ "status": before.status }));
    audit.after = summary(&serde_json::json!({
        "status": after.status,
        "reason": after.reason,
        "name": after.name,
        "datasets": after.dataset_codes,
    }));
    app.store
        .commit(vec![Change::PutShowcase(after.clone())], vec![audit])
        .await?;
    let catalog = open::catalog(app).await?;
    Ok(record_view(&catalog, &after))
}
