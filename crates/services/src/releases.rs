//! OPN-5, OPN-6 (JY 27–28, XJ 26, HZ 33 (1), HZ 35): releases. Data that is not open
//! becomes open only as a release — a derived, versioned dataset of the source
//! department: selected items, each kept, masked by a rule of the egress gate,
//! generalised or suppressed; cleaned (only rows that passed the source's checks
//! exist) and converted (every released item is published in every open format) —
//! or on its subjects' recorded consent (HZ 33 (1)).
//!
//! The source department (`open.review`, its own published entry) previews and
//! prepares a release; its rows are read only through the egress gate, which applies
//! the rules before a value leaves. Before rows of personal data are published the
//! platform computes their k-anonymity over the declared quasi-identifiers and
//! refuses below the deployment's k (default 5), after dropping the rows of small
//! classes up to the declared share. The authority (`open.coordinate`) approves the
//! first version — the release creates an open catalog entry, and catalog entries
//! are published only with the authority's approval (CAT-2; HZ 35 puts
//! desensitisation under the authority's requirements) — or returns it. Approval
//! reads and checks the rows again, creates (or updates) the derived entry owned by
//! the department and loads the released rows into it; the open catalog, the portal,
//! the API, CKAN and DCAT then show it like any other open dataset. A refresh (by the
//! department, or the job on the source's update frequency, JY 28) makes a new
//! version under the approved rules with its own k check; one that fails keeps the
//! previous version and is recorded. Withdrawing takes the derived entry offline.
use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::{
    self as cat, EntryContent, Grade, OpenReason, OpenType, ResourceFormat, Sensitivity, ShareMode,
    ShareType,
};
use gongshu_domain::dataset::{next_pull_after, Value};
use gongshu_domain::permissions::{Permission, Principal};
use gongshu_domain::release::{
    is_identifier, plan_suppression, rules_for, suggested_rule, EquivalenceClasses, ReleaseBasis,
    ReleaseError, ReleasePlan, ReleaseRule, ReleaseStatus, Suppression,
};
use gongshu_store::{
    CatalogEntry, CatalogFilter, CatalogReview, Change, Dataset, OpenRelease, OpenReleaseFilter,
    ReleaseConsent, ReleaseRefresh, StoreError,
};
use serde::{Deserialize, Serialize};

use crate::catalog::{find_entry, today_in_china};
use crate::context::{new_id, summary, App, Ctx};
use crate::dataset_input::{InputFormat, TextEncoding};
use crate::datasets::{self, Channel, LoadOptions};
use crate::egress::{release_rows, ReleaseRead};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// Released rows a preview shows.
const SAMPLE_ROWS: usize = 20;
/// Released rows kept aside while reading, for the sample (some may be dropped).
const SAMPLE_POOL: usize = 500;
const MAX_TEXT: usize = 500;

/// OPN-5, OPN-6: what a department asks to release.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInput {
    /// The source entry (id or resource code): published, the caller's department's own.
    pub source: String,
    /// The derived dataset's name (default: the source's name, marked as a release).
    #[serde(default)]
    pub name: Option<String>,
    /// `desensitised` (default) or `consent` (HZ 33 (1)).
    #[serde(default)]
    pub basis: Option<String>,
    /// Source item (code name) → rule: `keep`, `suppress`, `month`, `year`,
    /// `band:<width>`, `prefix:<n>`, `age_band:<width>`, `year_band:<width>` or
    /// `mask:<rule>` (`mask:name`, `mask:partial:3:4` …). Items not named are not released.
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
    /// Items (source or released code names) k-anonymity is computed over; items
    /// generalised from a citizen ID always are.
    #[serde(default)]
    pub quasi_identifiers: Vec<String>,
    /// The k to reach; at least the deployment's minimum (default 5).
    #[serde(default)]
    pub k: Option<u32>,
    /// Percent of rows that may be dropped (those in classes smaller than k) to reach
    /// k; at most the deployment's maximum (default 5). Default 0.
    #[serde(default)]
    pub max_suppression_percent: Option<u32>,
    /// `unconditional` (default) or `conditional`; a release on consent is conditional.
    #[serde(default)]
    pub open_type: Option<String>,
    /// The conditions of a conditional release.
    #[serde(default)]
    pub open_conditions: Option<String>,
    /// The HZ 33 criterion of a conditional desensitised release.
    #[serde(default)]
    pub open_reason: Option<String>,
    /// HZ 33 (1): the consent a release on consent rests on.
    #[serde(default)]
    pub consent: Option<ReleaseConsent>,
}

/// One released item of a preview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreviewItem {
    /// The source item.
    pub source: String,
    pub code_name: String,
    pub name: String,
    pub rule: String,
    pub rule_zh: String,
    pub rule_en: String,
    pub quasi_identifier: bool,
}

/// OPN-6: what a release would be, nothing published.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReleasePreview {
    pub source_code: String,
    pub source_name: String,
    pub items: Vec<PreviewItem>,
    pub quasi_identifiers: Vec<String>,
    /// The k required (0: no check, a release on consent without quasi-identifiers).
    pub k_required: u64,
    /// The k the released rows reach after suppression.
    pub k_achieved: u64,
    /// The k before any row was dropped.
    pub k_before_suppression: u64,
    pub classes: u64,
    pub source_rows: u64,
    pub rows: u64,
    pub suppressed_rows: u64,
    /// Whether it may be prepared (k reached).
    pub passes: bool,
    /// Why it would be refused, when it would.
    pub refusal: Option<String>,
    pub refusal_en: Option<String>,
    /// The first released rows (item code name → value).
    #[schema(value_type = Vec<Object>)]
    pub sample: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The gate's access record of the read.
    pub access_id: String,
}

/// OPN-5: the authority's decision on a release awaiting it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseDecision {
    pub approve: bool,
    /// Required to return it.
    #[serde(default)]
    pub reason: Option<String>,
}

/// OPN-5: why a release is withdrawn.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseWithdrawal {
    pub reason: String,
}

/// A release version with the other versions of its series, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReleaseView {
    pub release: OpenRelease,
    pub versions: Vec<OpenRelease>,
}

/// Which releases to list.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ReleaseQuery {
    /// A `ReleaseStatus` key.
    pub status: Option<String>,
    /// Source entry id.
    pub source: Option<String>,
}

/// A rule a form offers for an item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleOption {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
}

/// One item of a source, as a release form shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceItem {
    pub code_name: String,
    pub name: String,
    pub field_type: String,
    pub sensitive: bool,
    /// Holds citizen ID numbers: never released whole.
    pub identifier: bool,
    pub suggested: String,
    pub rules: Vec<RuleOption>,
}

/// A published entry of the caller's department that a release can be made from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReleaseSource {
    pub id: String,
    pub code: String,
    pub name: String,
    pub open_type: String,
    pub update_frequency: String,
    pub rows: i64,
    pub items: Vec<SourceItem>,
}

fn release_error(e: ReleaseError) -> ServiceError {
    let kind = match e {
        ReleaseError::KTooLow { .. } => ErrorKind::Conflict,
        _ => ErrorKind::Invalid,
    };
    let mut out = ServiceError::new(kind, e.code(), e.message_zh(), e.message_en());
    out.field = Some(e.field().to_string());
    out
}

fn write_failed(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(
        ErrorKind::Internal,
        "release.write_failed",
        format!("写入发布数据暂存文件失败：{e}"),
        format!("writing the release's scratch file failed: {e}"),
    )
}

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

fn not_found(id: &str) -> ServiceError {
    ServiceError::not_found("数据发布", "release", id)
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> ServiceResult<Self> {
        let dir = std::env::temp_dir().join(format!("gongshu-release-{}", new_id()));
        std::fs::create_dir_all(&dir).map_err(write_failed)?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A source a release reads: the entry, its published content and its data.
struct Source {
    entry: CatalogEntry,
    content: EntryContent,
    dataset: Dataset,
}

/// The published, online source entry with data, owned by its own source (OPN-11:
/// data a body obtained by sharing is not its to open). No permission check.
async fn load_source(app: &App, id_or_code: &str) -> ServiceResult<Source> {
    let entry = find_entry(app, id_or_code.trim())
        .await?
        .ok_or_else(|| ServiceError::not_found("目录条目", "catalog entry", id_or_code))?;
    let content = match (&entry.published, entry.offline) {
        (Some(c), false) => c.clone(),
        _ => {
            return Err(ServiceError::conflict(
                "release.source_not_published",
                format!("目录 {} 未发布或已下架，不能发布其数据", entry.code),
                format!(
                    "entry {} is not published or is offline, so its data cannot be released",
                    entry.code
                ),
            ))
        }
    };
    if content.source_org_id != entry.owner_org_id {
        return Err(ServiceError::new(
            ErrorKind::Denied,
            "release.not_own_data",
            "只能发布本部门作为数源部门的数据；通过共享获得的数据不得开放（HZ 36）",
            "only data the department is the source of can be released; data obtained by sharing is never opened (HZ 36)",
        ));
    }
    let dataset = app
        .data
        .get_dataset(&entry.id)
        .await?
        .filter(|d| d.current_table.is_some() && d.row_count > 0)
        .ok_or_else(|| {
            ServiceError::conflict(
                "release.no_data",
                format!("目录 {} 尚未挂接数据，无法发布", entry.code),
                format!(
                    "entry {} has no data mounted, so nothing can be released",
                    entry.code
                ),
            )
        })?;
    Ok(Source {
        entry,
        content,
        dataset,
    })
}

/// A validated release: its source, rules and terms.
struct Spec {
    source: Source,
    name: String,
    basis: ReleaseBasis,
    rules: BTreeMap<String, ReleaseRule>,
    quasi: Vec<String>,
    k: u64,
    max_percent: u32,
    open_type: OpenType,
    open_conditions: String,
    open_reason: Option<OpenReason>,
    consent: Option<ReleaseConsent>,
}

impl Spec {
    /// The k the plan must reach: none on consent without quasi-identifiers.
    fn k_required(&self, plan: &ReleasePlan) -> u64 {
        if self.basis == ReleaseBasis::Consent && plan.quasi.is_empty() {
            0
        } else {
            self.k
        }
    }

    fn plan(&self) -> ServiceResult<ReleasePlan> {
        ReleasePlan::new(
            &self.source.dataset.schema,
            &self.source.content.items,
            &self.rules,
            &self.quasi,
            self.basis,
            today_in_china(Utc::now()),
            &self.source.content.name,
        )
        .map_err(release_error)
    }
}

fn parse_rules(rules: &BTreeMap<String, String>) -> ServiceResult<BTreeMap<String, ReleaseRule>> {
    rules
        .iter()
        .map(|(item, key)| {
            let rule = ReleaseRule::parse(key).ok_or_else(|| {
                ServiceError::invalid(
                    "release.unknown_rule",
                    &format!("rules.{item}"),
                    format!("信息项“{item}”的规则“{key}”无法识别"),
                    format!("the rule '{key}' of item '{item}' is not known"),
                )
            })?;
            Ok((item.trim().to_ascii_lowercase(), rule))
        })
        .collect()
}

/// Checks the terms of a release asked for against the deployment's limits.
fn spec_of(app: &App, source: Source, input: &ReleaseInput) -> ServiceResult<Spec> {
    let basis = match input.basis.as_deref().map(str::trim) {
        None | Some("") => ReleaseBasis::Desensitised,
        Some(b) => ReleaseBasis::parse(b).ok_or_else(|| {
            ServiceError::invalid(
                "release.unknown_basis",
                "basis",
                format!("未知的发布依据“{b}”：desensitised 或 consent"),
                format!("unknown basis '{b}': desensitised or consent"),
            )
        })?,
    };
    let rules = parse_rules(&input.rules)?;
    let min_k = app.settings.release_min_k.max(1);
    let k = input.k.unwrap_or(min_k);
    if k < min_k {
        return Err(ServiceError::invalid(
            "release.k_below_minimum",
            "k",
            format!("k 不能低于平台规定的 {min_k}"),
            format!("k may not be below the platform's minimum of {min_k}"),
        ));
    }
    let max = app.settings.release_max_suppression_percent.min(100);
    let max_percent = input.max_suppression_percent.unwrap_or(0);
    if max_percent > max {
        return Err(ServiceError::invalid(
            "release.suppression_above_maximum",
            "max_suppression_percent",
            format!("删除记录的比例不能超过平台规定的 {max}%"),
            format!("at most {max} % of the rows may be dropped"),
        ));
    }
    let open_type = match input.open_type.as_deref().map(str::trim) {
        None | Some("") if basis == ReleaseBasis::Consent => OpenType::Conditional,
        None | Some("") => OpenType::Unconditional,
        Some(t) => match OpenType::parse(t) {
            Some(OpenType::NotOpen) | None => {
                return Err(ServiceError::invalid(
                    "release.open_type_invalid",
                    "open_type",
                    "发布的数据须为无条件开放或有条件开放",
                    "a release is open unconditionally or on conditions",
                ))
            }
            Some(t) => t,
        },
    };
    let conditions = input.open_conditions.clone().unwrap_or_default();
    let (open_reason, consent) = match basis {
        ReleaseBasis::Consent => {
            if open_type != OpenType::Conditional {
                return Err(ServiceError::invalid(
                    "release.consent_is_conditional",
                    "open_type",
                    "依数据主体同意开放的数据为有条件开放（HZ 33 一）",
                    "data opened on its subjects' consent is open on conditions (HZ 33(1))",
                ));
            }
            let c = input.consent.as_ref().ok_or_else(|| {
                ServiceError::invalid(
                    "release.consent_required",
                    "consent",
                    "依同意开放须记录同意的主体、范围和同意文件",
                    "a release on consent records who consented, to what, and the document",
                )
            })?;
            let consent = ReleaseConsent {
                subjects: text(
                    "consent.subjects",
                    &c.subjects,
                    "同意的主体",
                    "who consented",
                )?,
                scope: text(
                    "consent.scope",
                    &c.scope,
                    "同意的范围",
                    "the scope consented to",
                )?,
                document: text(
                    "consent.document",
                    &c.document,
                    "同意文件",
                    "the consent document",
                )?,
            };
            (Some(OpenReason::SubjectConsented), Some(consent))
        }
        ReleaseBasis::Desensitised => {
            if input.consent.is_some() {
                return Err(ServiceError::invalid(
                    "release.consent_not_basis",
                    "consent",
                    "脱敏发布不记录同意；依同意开放请选择 consent",
                    "a desensitised release records no consent; choose the basis consent",
                ));
            }
            let reason = match (open_type, input.open_reason.as_deref().map(str::trim)) {
                (OpenType::Conditional, Some(r)) if !r.is_empty() => Some(
                    OpenReason::parse(r)
                        .filter(|r| r.open_type() == OpenType::Conditional)
                        .ok_or_else(|| {
                            ServiceError::invalid(
                                "release.open_reason_invalid",
                                "open_reason",
                                format!("“{r}”不是有条件开放的情形（HZ 33）"),
                                format!("'{r}' is not a criterion for conditional opening (HZ 33)"),
                            )
                        })?,
                ),
                (OpenType::Conditional, _) => Some(OpenReason::HighBenefitHighRisk),
                _ => None,
            };
            (reason, None)
        }
    };
    let open_conditions = if open_type == OpenType::Conditional {
        text(
            "open_conditions",
            &conditions,
            "开放条件",
            "the open conditions",
        )?
    } else {
        String::new()
    };
    let name = match input.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => text("name", n, "数据集名称", "the dataset's name")?,
        _ => format!(
            "{}（{}）",
            source.content.name,
            match basis {
                ReleaseBasis::Desensitised => "脱敏开放版",
                ReleaseBasis::Consent => "依同意开放",
            }
        ),
    };
    Ok(Spec {
        source,
        name,
        basis,
        rules,
        quasi: input.quasi_identifiers.clone(),
        k: u64::from(k),
        max_percent,
        open_type,
        open_conditions,
        open_reason,
        consent,
    })
}

/// The terms of a stored release, over its source as it stands now.
async fn spec_of_release(app: &App, r: &OpenRelease) -> ServiceResult<Spec> {
    let source = load_source(app, &r.source_entry_id).await?;
    let bad = |what: &str| {
        ServiceError::new(
            ErrorKind::Internal,
            "release.record_invalid",
            format!("发布记录 {} 的{what}无法读取", r.id),
            format!("the {what} of release {} cannot be read", r.id),
        )
    };
    let basis = ReleaseBasis::parse(&r.basis).ok_or_else(|| bad("basis"))?;
    let open_type = OpenType::parse(&r.open_type).ok_or_else(|| bad("open type"))?;
    // A release stored without a k check keeps none; otherwise never below today's minimum.
    let k = match r.k_required.max(0) as u64 {
        0 => 0,
        k => k.max(u64::from(app.settings.release_min_k)),
    };
    Ok(Spec {
        source,
        name: r.name.clone(),
        basis,
        rules: parse_rules(&r.rules)?,
        quasi: r.quasi_identifiers.clone(),
        k,
        max_percent: r.max_suppression_percent.clamp(0, 100) as u32,
        open_type,
        open_conditions: r.open_conditions.clone(),
        open_reason: r.open_reason.as_deref().and_then(OpenReason::parse),
        consent: r.consent.clone(),
    })
}

/// The released rows of one run, in a scratch CSV file, and what was found of them.
struct Run {
    _scratch: Scratch,
    file: PathBuf,
    plan: ReleasePlan,
    source_rows: u64,
    k_required: u64,
    before_k: u64,
    suppression: Suppression,
    sample: Vec<Vec<Value>>,
    source_load_id: Option<String>,
    access_id: String,
}

impl Run {
    fn passes(&self) -> bool {
        self.k_required == 0 || self.suppression.after.k >= self.k_required
    }

    fn refusal(&self) -> Option<ReleaseError> {
        (!self.passes()).then_some(ReleaseError::KTooLow {
            achieved: self.suppression.after.k,
            required: self.k_required,
        })
    }

    fn rows(&self) -> u64 {
        self.suppression.after.rows
    }
}

/// Reads the source through the gate, writes the released rows, counts their
/// equivalence classes and drops the rows of small classes within the declared share.
async fn run(
    app: &App,
    ctx: &Ctx,
    spec: &Spec,
    why: ReleaseRead,
    object: &str,
) -> ServiceResult<Run> {
    let plan = spec.plan()?;
    let scratch = Scratch::new()?;
    let raw = scratch.0.join("released.csv");
    let mut w = csv::Writer::from_path(&raw).map_err(write_failed)?;
    let header: Vec<String> = plan
        .items
        .iter()
        .map(|p| p.item.code_name.clone())
        .collect();
    w.write_record(&header).map_err(write_failed)?;
    let mut classes = EquivalenceClasses::default();
    let mut sample = Vec::new();
    let served = release_rows(
        app,
        ctx,
        &spec.source.dataset,
        &spec.source.entry.owner_org_id,
        (why, object),
        &plan,
        |row| {
            classes.add(&row, &plan.quasi);
            w.write_record(row.iter().map(Value::to_text))
                .map_err(write_failed)?;
            if sample.len() < SAMPLE_POOL {
                sample.push(row);
            }
            Ok(())
        },
    )
    .await?;
    w.flush().map_err(write_failed)?;
    drop(w);
    if served.rows == 0 {
        return Err(ServiceError::conflict(
            "release.no_data",
            "源数据没有数据行，无法发布",
            "the source holds no rows, so nothing can be released",
        ));
    }
    let k_required = spec.k_required(&plan);
    let before = classes.anonymity();
    let suppression = if k_required > 0 {
        plan_suppression(&classes, k_required, spec.max_percent)
    } else {
        Suppression {
            below: 0,
            dropped: 0,
            after: before,
        }
    };
    let file = if suppression.dropped > 0 {
        let kept = scratch.0.join("kept.csv");
        let mut reader = csv::Reader::from_path(&raw).map_err(write_failed)?;
        let mut out = csv::Writer::from_path(&kept).map_err(write_failed)?;
        out.write_record(&header).map_err(write_failed)?;
        for record in reader.records() {
            let record = record.map_err(write_failed)?;
            let key: Vec<String> = plan
                .quasi
                .iter()
                .map(|&i| record.get(i).unwrap_or_default().to_string())
                .collect();
            if classes.size_of(&key) >= suppression.below {
                out.write_record(&record).map_err(write_failed)?;
            }
        }
        out.flush().map_err(write_failed)?;
        kept
    } else {
        raw
    };
    sample.retain(|r| classes.size_of_row(r, &plan.quasi) >= suppression.below);
    sample.truncate(SAMPLE_ROWS);
    Ok(Run {
        _scratch: scratch,
        file,
        plan,
        source_rows: served.rows,
        k_required,
        before_k: before.k,
        suppression,
        sample,
        source_load_id: spec.source.dataset.current_load_id.clone(),
        access_id: served.access_id,
    })
}

/// Allowed to the owner's reviewers of open data.
fn authorize_source(ctx: &Ctx, org_id: &str) -> ServiceResult<()> {
    ctx.principal
        .authorize(Permission::OpenReview, Some(org_id))?;
    Ok(())
}

/// Allowed to the owner's reviewers of open data and to the authority.
fn authorize_either(ctx: &Ctx, org_id: &str) -> ServiceResult<()> {
    if ctx
        .principal
        .authorize(Permission::OpenReview, Some(org_id))
        .is_ok()
    {
        return Ok(());
    }
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    Ok(())
}

fn preview_of(spec: &Spec, run: &Run) -> ReleasePreview {
    let items = run
        .plan
        .items
        .iter()
        .enumerate()
        .map(|(i, p)| PreviewItem {
            source: spec.source.dataset.schema.columns[p.source].name.clone(),
            code_name: p.item.code_name.clone(),
            name: p.item.name.clone(),
            rule: p.rule.to_string(),
            rule_zh: p.rule.label_zh(),
            rule_en: p.rule.label_en(),
            quasi_identifier: run.plan.quasi.contains(&i),
        })
        .collect();
    let sample = run
        .sample
        .iter()
        .map(|r| {
            run.plan
                .items
                .iter()
                .zip(r)
                .map(|(p, v)| {
                    (
                        p.item.code_name.clone(),
                        serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                    )
                })
                .collect()
        })
        .collect();
    let refusal = run.refusal();
    ReleasePreview {
        source_code: spec.source.entry.code.clone(),
        source_name: spec.source.content.name.clone(),
        items,
        quasi_identifiers: run.plan.quasi_names(),
        k_required: run.k_required,
        k_achieved: run.suppression.after.k,
        k_before_suppression: run.before_k,
        classes: run.suppression.after.classes,
        source_rows: run.source_rows,
        rows: run.rows(),
        suppressed_rows: run.suppression.dropped,
        passes: refusal.is_none(),
        refusal: refusal.as_ref().map(ReleaseError::message_zh),
        refusal_en: refusal.as_ref().map(ReleaseError::message_en),
        sample,
        access_id: run.access_id.clone(),
    }
}

/// OPN-6: what a release would be — the items, k over the quasi-identifiers, rows
/// dropped, a sample — nothing published. The read is recorded at the gate.
pub async fn preview(app: &App, ctx: &Ctx, input: ReleaseInput) -> ServiceResult<ReleasePreview> {
    let source = load_source(app, &input.source).await?;
    authorize_source(ctx, &source.entry.owner_org_id)?;
    let spec = spec_of(app, source, &input)?;
    let object = spec.source.entry.id.clone();
    let run = run(app, ctx, &spec, ReleaseRead::Preview, &object).await?;
    Ok(preview_of(&spec, &run))
}

/// The fields of a release record that its run decides.
fn record_run(r: &mut OpenRelease, run: &Run) {
    r.quasi_identifiers = run.plan.quasi_names();
    r.k_required = run.k_required as i64;
    r.k_achieved = run.suppression.after.k as i64;
    r.classes = run.suppression.after.classes as i64;
    r.source_rows = run.source_rows as i64;
    r.rows = run.rows() as i64;
    r.suppressed_rows = run.suppression.dropped as i64;
    r.source_load_id = run.source_load_id.clone();
}

fn release_summary(r: &OpenRelease) -> Option<String> {
    summary(&serde_json::json!({
        "source": r.source_code,
        "series_id": r.series_id,
        "version": r.version,
        "status": r.status,
        "basis": r.basis,
        "consent": r.consent,
        "open_type": r.open_type,
        "rules": r.rules,
        "quasi_identifiers": r.quasi_identifiers,
        "k_required": r.k_required,
        "k_achieved": r.k_achieved,
        "rows": r.rows,
        "suppressed_rows": r.suppressed_rows,
        "derived_code": r.derived_code,
        "load_id": r.load_id,
        "reason": r.reason,
    }))
}

/// OPN-5, OPN-6: the source department prepares a release for the authority. It is
/// refused below k (`release.k_too_low`, naming k reached and required); nothing
/// is published until the authority approves.
pub async fn prepare(app: &App, ctx: &Ctx, input: ReleaseInput) -> ServiceResult<OpenRelease> {
    let source = load_source(app, &input.source).await?;
    authorize_source(ctx, &source.entry.owner_org_id)?;
    let spec = spec_of(app, source, &input)?;
    let id = new_id();
    let run = run(app, ctx, &spec, ReleaseRead::Prepare, &id).await?;
    if let Some(e) = run.refusal() {
        return Err(release_error(e));
    }
    let now = truncate_to_micros(Utc::now());
    // The derived entry must pass the catalog's rules (its name's length …) now,
    // not only when the authority approves.
    derived_content(&spec, &run, 1, today_in_china(now))?;
    let rules = run
        .plan
        .items
        .iter()
        .map(|p| {
            (
                spec.source.dataset.schema.columns[p.source].name.clone(),
                p.rule.to_string(),
            )
        })
        .collect();
    let mut r = OpenRelease {
        id: id.clone(),
        series_id: id.clone(),
        version: 0,
        org_id: spec.source.entry.owner_org_id.clone(),
        source_entry_id: spec.source.entry.id.clone(),
        source_code: spec.source.entry.code.clone(),
        source_name: spec.source.content.name.clone(),
        derived_entry_id: None,
        derived_code: None,
        name: spec.name.clone(),
        basis: spec.basis.key().into(),
        consent: spec.consent.clone(),
        open_type: spec.open_type.key().into(),
        open_conditions: spec.open_conditions.clone(),
        open_reason: spec.open_reason.map(|r| r.key().to_string()),
        rules,
        quasi_identifiers: Vec::new(),
        k_required: 0,
        max_suppression_percent: i64::from(spec.max_percent),
        k_achieved: 0,
        classes: 0,
        source_rows: 0,
        rows: 0,
        suppressed_rows: 0,
        source_load_id: None,
        load_id: None,
        status: ReleaseStatus::Pending.key().into(),
        reason: None,
        created_by: ctx.principal.actor.clone(),
        created_at: now,
        decided_by: None,
        decided_at: None,
        published_at: None,
        withdrawn_by: None,
        withdrawn_at: None,
        next_refresh_at: None,
        last_refresh: None,
        updated_at: now,
    };
    record_run(&mut r, &run);
    let mut audit = ctx.audit("open.release_prepare", "open_release", &r.id);
    audit.org_id = Some(r.org_id.clone());
    audit.after = release_summary(&r);
    app.store
        .commit(vec![Change::PutOpenRelease(r.clone())], vec![audit])
        .await?;
    Ok(r)
}

async fn get_release(app: &App, id: &str) -> ServiceResult<OpenRelease> {
    app.store
        .get_open_release(id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn wrong_status(r: &OpenRelease, wanted: &str, wanted_en: &str) -> ServiceError {
    let s = ReleaseStatus::parse(&r.status);
    ServiceError::conflict(
        "release.wrong_status",
        format!(
            "该发布当前为“{}”，{wanted}",
            s.map_or(r.status.as_str(), |s| s.label_zh())
        ),
        format!(
            "the release is '{}'; {wanted_en}",
            s.map_or(r.status.as_str(), |s| s.label_en())
        ),
    )
}

/// OPN-5: the authority approves a release awaiting it — its rows are read and
/// checked again, then published — or returns it with a reason.
pub async fn decide(
    app: &App,
    ctx: &Ctx,
    id: &str,
    d: ReleaseDecision,
) -> ServiceResult<OpenRelease> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let mut r = get_release(app, id).await?;
    if r.status != ReleaseStatus::Pending.key() {
        return Err(wrong_status(
            &r,
            "只有待审核的发布可以审核",
            "only a release awaiting the authority can be decided",
        ));
    }
    let now = truncate_to_micros(Utc::now());
    if !d.approve {
        let reason = text(
            "reason",
            d.reason.as_deref().unwrap_or(""),
            "退回理由",
            "the reason",
        )?;
        r.status = ReleaseStatus::Returned.key().into();
        r.reason = Some(reason);
        r.decided_by = Some(ctx.principal.actor.clone());
        r.decided_at = Some(now);
        r.updated_at = now;
        let mut audit = ctx.audit("open.release_return", "open_release", &r.id);
        audit.org_id = Some(r.org_id.clone());
        audit.after = release_summary(&r);
        app.store
            .commit(vec![Change::PutOpenRelease(r.clone())], vec![audit])
            .await?;
        return Ok(r);
    }
    let spec = spec_of_release(app, &r).await?;
    let run = run(app, ctx, &spec, ReleaseRead::Publish, &r.id).await?;
    if let Some(e) = run.refusal() {
        return Err(release_error(e));
    }
    r.decided_by = Some(ctx.principal.actor.clone());
    r.decided_at = Some(now);
    publish(app, ctx, r, None, &spec, &run).await
}

/// The content of the derived entry of version `version`.
fn derived_content(
    spec: &Spec,
    run: &Run,
    version: i32,
    today: chrono::NaiveDate,
) -> ServiceResult<EntryContent> {
    let src = &spec.source.content;
    let code = &spec.source.entry.code;
    let items = run.plan.released_items();
    let item_names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    let qi = run.plan.quasi_names().join("、");
    let (summary_text, basis) = match (&spec.basis, &spec.consent) {
        (ReleaseBasis::Consent, Some(c)) => (
            format!(
                "《{}》（资源代码 {code}）依数据主体同意有条件开放的版本（第 {version} 版，{today}）：发布信息项 {}。同意的主体：{}；范围：{}；同意文件：{}。Opened on conditions with the consent of its subjects (HZ 33(1)), version {version}.",
                src.name,
                item_names.join("、"),
                c.subjects,
                c.scope,
                c.document
            ),
            format!(
                "HZ 33（一）：涉及个人信息，数据主体同意开放且法律、法规未禁止；同意文件：{}；经主管部门审核同意",
                c.document
            ),
        ),
        _ => (
            format!(
                "《{}》（资源代码 {code}）的脱敏发布版本（第 {version} 版，{today}）：发布信息项 {}，其余信息项不发布；按准标识符 {qi} 计算 k-匿名，k = {}（要求不低于 {}），删除小等价类记录 {} 条。Desensitised release of {code}, version {version}: k = {} over its quasi-identifiers (at least {} required).",
                src.name,
                item_names.join("、"),
                run.suppression.after.k,
                run.k_required,
                run.suppression.dropped,
                run.suppression.after.k,
                run.k_required,
            ),
            format!(
                "HZ 35、JY 27、XJ 26：不予开放的数据经脱敏处理后开放；k-匿名 k = {}（要求不低于 {}）；经主管部门审核同意",
                run.suppression.after.k, run.k_required
            ),
        ),
    };
    let content = EntryContent {
        name: spec.name.clone(),
        summary: summary_text.chars().take(2000).collect(),
        category: src.category,
        domain: src.domain,
        format: ResourceFormat::Database,
        source_org_id: spec.source.entry.owner_org_id.clone(),
        providing_org_id: None,
        approving_department: src.approving_department.clone(),
        co_builder_org_ids: Vec::new(),
        items,
        share_type: ShareType::Unconditional,
        share_conditions: String::new(),
        share_scope: src.share_scope.clone(),
        share_modes: vec![ShareMode::Api, ShareMode::Download],
        legal_basis: String::new(),
        open_type: spec.open_type,
        open_conditions: spec.open_conditions.clone(),
        open_reason: spec.open_reason,
        open_basis: basis,
        update_frequency: src.update_frequency,
        timeliness: src.timeliness.clone(),
        grade: Grade::General,
        sensitivity: Some(match spec.open_type {
            OpenType::Unconditional => Sensitivity::L1,
            _ => Sensitivity::L2,
        }),
        classified: false,
        release_date: Some(today),
        related_codes: vec![code.clone()],
    };
    let problems = cat::check_entry(&content);
    if problems.is_empty() {
        Ok(content)
    } else {
        Err(ServiceError::fields(problems))
    }
}

/// Creates the derived entry, published and owned by the source department, with
/// the next free code of its category and domain.
async fn create_derived_entry(
    app: &App,
    ctx: &Ctx,
    r: &OpenRelease,
    content: EntryContent,
    now: DateTime<Utc>,
) -> ServiceResult<CatalogEntry> {
    let prefix = cat::resource_code_prefix(content.category, content.domain);
    for _ in 0..5 {
        let last = app.store.last_catalog_code(&prefix).await?;
        let next = last
            .and_then(|c| c.get(prefix.len()..).and_then(|s| s.parse::<u32>().ok()))
            .unwrap_or(0)
            + 1;
        let entry = CatalogEntry {
            id: new_id(),
            code: cat::resource_code(content.category, content.domain, next),
            owner_org_id: r.org_id.clone(),
            category: content.category.key().into(),
            domain: content.domain.key().into(),
            name: content.name.clone(),
            source_org_id: content.source_org_id.clone(),
            share_type: content.share_type.key().into(),
            open_type: content.open_type.key().into(),
            published: Some(content.clone()),
            published_version: 1,
            published_at: Some(now),
            offline: false,
            offline_reason: None,
            offline_at: None,
            working: None,
            stage: None,
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
        let review = CatalogReview {
            id: new_id(),
            entry_id: entry.id.clone(),
            action: "create".into(),
            actor_user_id: ctx.principal.user_id.clone(),
            actor: ctx.principal.actor.clone(),
            reason: Some(format!(
                "数据发布 {}（源目录 {}），经主管部门审核同意 / release of {} approved by the authority",
                r.id, r.source_code, r.source_code
            )),
            at: now,
        };
        let mut audit = ctx.audit("catalog.create", "catalog_entry", &entry.id);
        audit.org_id = Some(r.org_id.clone());
        audit.after = summary(&serde_json::json!({
            "code": entry.code,
            "name": entry.name,
            "release_id": r.id,
            "source": r.source_code,
        }));
        match app
            .store
            .commit(
                vec![
                    Change::InsertCatalogEntry(entry.clone()),
                    Change::InsertCatalogReview(review),
                ],
                vec![audit],
            )
            .await
        {
            Ok(_) => return Ok(entry),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict(
        "catalog.code_busy",
        "分配资源代码时冲突，请重试",
        "could not allocate a resource code; try again",
    ))
}

/// Takes an entry offline (a failed first load, a withdrawal), if it is online.
fn offline_change(entry: &CatalogEntry, reason: &str, now: DateTime<Utc>) -> Change {
    let mut after = entry.clone();
    after.offline = true;
    after.offline_reason = Some(reason.to_string());
    after.offline_at = Some(now);
    after.updated_at = now;
    Change::UpdateCatalogEntry {
        entry: after,
        expected_updated_at: entry.updated_at,
    }
}

fn load_failed(detail: &str) -> ServiceError {
    ServiceError::new(
        ErrorKind::Internal,
        "release.load_failed",
        format!("发布数据载入失败，未发布：{detail}"),
        format!("loading the released rows failed, nothing was published: {detail}"),
    )
}

/// Publishes a run as the next version of `r`'s series: creates the derived entry
/// (first version) or updates it, loads the released rows into it, and marks the
/// version published (and `previous`, if any, superseded) with its audit record.
async fn publish(
    app: &App,
    ctx: &Ctx,
    mut r: OpenRelease,
    previous: Option<OpenRelease>,
    spec: &Spec,
    run: &Run,
) -> ServiceResult<OpenRelease> {
    let now = truncate_to_micros(Utc::now());
    let today = today_in_china(now);
    let published_before = app
        .store
        .list_open_releases(&OpenReleaseFilter {
            series_id: Some(r.series_id.clone()),
            ..Default::default()
        })
        .await?
        .iter()
        .map(|v| v.version)
        .max()
        .unwrap_or(0);
    let version = published_before + 1;
    let content = derived_content(spec, run, version, today)?;
    let (entry, created) = match r.derived_entry_id.clone() {
        Some(id) => {
            let e = app
                .store
                .get_catalog_entry(&id)
                .await?
                .ok_or_else(|| ServiceError::not_found("目录条目", "catalog entry", &id))?;
            if e.offline {
                return Err(ServiceError::conflict(
                    "release.derived_offline",
                    format!("发布的目录 {} 已下架，不能更新", e.code),
                    format!(
                        "the release's entry {} is offline and cannot be updated",
                        e.code
                    ),
                ));
            }
            (e, false)
        }
        None => (
            create_derived_entry(app, ctx, &r, content.clone(), now).await?,
            true,
        ),
    };
    // The platform loads the rows the release (authorised above) produced.
    let loader = Ctx::new(Principal::system(), ctx.request_id.clone());
    let mut opts = LoadOptions::new(Channel::Release, InputFormat::Csv);
    opts.encoding = Some(TextEncoding::Utf8);
    opts.file_name = Some(format!("release-{}-v{version}.csv", r.source_code));
    opts.filing_note = Some(format!("release {} version {version}", r.id));
    let loaded = datasets::load_file(app, &loader, &entry.id, &run.file, opts).await;
    let failure = match &loaded {
        Err(e) => Some(e.message_en.clone()),
        Ok(l) if l.status != "applied" => Some(l.error.clone().unwrap_or_else(|| l.status.clone())),
        Ok(l) if l.rows_accepted != run.rows() as i64 || l.rows_rejected > 0 => Some(format!(
            "{} of {} rows loaded, {} rejected",
            l.rows_accepted,
            run.rows(),
            l.rows_rejected
        )),
        Ok(_) => None,
    };
    if let Some(detail) = failure {
        // Rows that were not all loaded would not be the rows whose k was checked.
        // A new entry is taken offline below; an existing one gets its previous rows back.
        if matches!(&loaded, Ok(l) if l.status == "applied") && !created {
            let _ = datasets::rollback(app, &loader, &entry.id).await;
        }
        if created {
            if let Some(e) = app.store.get_catalog_entry(&entry.id).await? {
                let mut audit = ctx.audit("catalog.offline", "catalog_entry", &e.id);
                audit.org_id = Some(r.org_id.clone());
                audit.after =
                    summary(&serde_json::json!({"release_id": r.id, "load_failed": detail}));
                let _ = app
                    .store
                    .commit(
                        vec![offline_change(
                            &e,
                            "发布数据载入失败 / the release failed to load",
                            now,
                        )],
                        vec![audit],
                    )
                    .await;
            }
        }
        return Err(load_failed(&detail));
    }
    let load = loaded?;
    // The load marked the entry mounted: read it again before changing it.
    let current = app
        .store
        .get_catalog_entry(&entry.id)
        .await?
        .ok_or_else(|| ServiceError::not_found("目录条目", "catalog entry", &entry.id))?;
    let mut after = current.clone();
    after.published = Some(content.clone());
    after.name = content.name.clone();
    after.open_type = content.open_type.key().into();
    after.published_version = version;
    after.published_at = Some(now);
    after.updated_at = now.max(current.updated_at + chrono::Duration::microseconds(1));
    record_run(&mut r, run);
    r.version = version;
    r.derived_entry_id = Some(entry.id.clone());
    r.derived_code = Some(entry.code.clone());
    r.load_id = Some(load.id.clone());
    r.status = ReleaseStatus::Published.key().into();
    r.published_at = Some(now);
    r.next_refresh_at = next_pull_after(spec.source.content.update_frequency, now);
    r.updated_at = now;
    let mut changes = vec![
        Change::UpdateCatalogEntry {
            entry: after,
            expected_updated_at: current.updated_at,
        },
        Change::PutOpenRelease(r.clone()),
    ];
    if let Some(mut p) = previous {
        p.status = ReleaseStatus::Superseded.key().into();
        p.next_refresh_at = None;
        p.last_refresh = Some(ReleaseRefresh {
            at: now,
            outcome: "published".into(),
            version: Some(version),
            k_achieved: Some(r.k_achieved),
            error_code: None,
            message: None,
        });
        p.updated_at = now;
        changes.push(Change::PutOpenRelease(p));
    }
    let mut audit = ctx.audit("open.release_publish", "open_release", &r.id);
    audit.org_id = Some(r.org_id.clone());
    audit.after = release_summary(&r);
    app.store.commit(changes, vec![audit]).await?;
    Ok(r)
}

/// The published version of a series, if any.
async fn published_of(app: &App, series_id: &str) -> ServiceResult<Option<OpenRelease>> {
    Ok(app
        .store
        .list_open_releases(&OpenReleaseFilter {
            series_id: Some(series_id.to_string()),
            status: Some(ReleaseStatus::Published.key().into()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .next())
}

/// Records a refresh that did not make a new version on the published one.
async fn record_refresh(
    app: &App,
    ctx: &Ctx,
    mut current: OpenRelease,
    note: ReleaseRefresh,
    action: &str,
) -> ServiceResult<()> {
    let now = truncate_to_micros(Utc::now());
    let frequency = app
        .store
        .get_catalog_entry(&current.source_entry_id)
        .await?
        .and_then(|e| e.published)
        .map(|c| c.update_frequency);
    current.next_refresh_at = frequency.and_then(|f| next_pull_after(f, now));
    current.last_refresh = Some(note.clone());
    current.updated_at = now;
    let mut audit = ctx.audit(action, "open_release", &current.id);
    audit.org_id = Some(current.org_id.clone());
    audit.after = summary(&note);
    app.store
        .commit(vec![Change::PutOpenRelease(current)], vec![audit])
        .await?;
    Ok(())
}

/// OPN-6 (JY 28): a new version of a published release under its approved rules,
/// with its own k check. Below k the previous version stays, and the refusal is
/// recorded on it.
pub async fn refresh(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<OpenRelease> {
    let r = get_release(app, id).await?;
    authorize_either(ctx, &r.org_id)?;
    let current = match published_of(app, &r.series_id).await? {
        Some(c) => c,
        None => {
            return Err(wrong_status(
                &r,
                "只有已发布的发布可以更新",
                "only a published release can be refreshed",
            ))
        }
    };
    refresh_published(app, ctx, current).await
}

async fn refresh_published(
    app: &App,
    ctx: &Ctx,
    current: OpenRelease,
) -> ServiceResult<OpenRelease> {
    let now = truncate_to_micros(Utc::now());
    let refused = |code: &str, k: Option<i64>, message: String| ReleaseRefresh {
        at: now,
        outcome: "refused".into(),
        version: None,
        k_achieved: k,
        error_code: Some(code.to_string()),
        message: Some(message),
    };
    let spec = match spec_of_release(app, &current).await {
        Ok(s) => s,
        Err(e) => {
            let note = refused(&e.code, None, e.message.clone());
            record_refresh(app, ctx, current, note, "open.release_refresh_refused").await?;
            return Err(e);
        }
    };
    let outcome = run(app, ctx, &spec, ReleaseRead::Refresh, &current.id).await;
    let run = match outcome {
        Ok(run) => match run.refusal() {
            None => run,
            Some(e) => {
                let note = refused(
                    e.code(),
                    Some(run.suppression.after.k as i64),
                    e.message_zh(),
                );
                record_refresh(app, ctx, current, note, "open.release_refresh_refused").await?;
                return Err(release_error(e));
            }
        },
        Err(e) => {
            let note = refused(&e.code, None, e.message.clone());
            record_refresh(app, ctx, current, note, "open.release_refresh_refused").await?;
            return Err(e);
        }
    };
    let mut next = current.clone();
    next.id = new_id();
    next.created_by = ctx.principal.actor.clone();
    next.created_at = now;
    next.decided_by = Some(ctx.principal.actor.clone());
    next.decided_at = Some(now);
    next.last_refresh = None;
    next.reason = None;
    publish(app, ctx, next, Some(current), &spec, &run).await
}

/// OPN-6 (JY 28): the refresh job — every published release whose refresh is due
/// is re-run when its source has a new load (a new version, or a recorded
/// refusal); one whose source did not change waits for its next period. Returns
/// the releases looked at.
pub async fn refresh_due(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let ctx = Ctx::system();
    let due: Vec<OpenRelease> = app
        .store
        .list_open_releases(&OpenReleaseFilter {
            status: Some(ReleaseStatus::Published.key().into()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|r| r.next_refresh_at.is_some_and(|t| t <= now))
        .collect();
    let n = due.len();
    for r in due {
        let changed = match app.data.get_dataset(&r.source_entry_id).await? {
            Some(d) => d.current_load_id != r.source_load_id,
            None => false,
        };
        let id = r.id.clone();
        let result = if changed {
            refresh_published(app, &ctx, r).await.map(|_| ())
        } else {
            let note = ReleaseRefresh {
                at: truncate_to_micros(now),
                outcome: "unchanged".into(),
                version: None,
                k_achieved: None,
                error_code: None,
                message: None,
            };
            record_refresh(app, &ctx, r, note, "open.release_refresh_unchanged").await
        };
        if let Err(e) = result {
            tracing::warn!(release = %id, error = %e, "release refresh did not publish");
        }
    }
    Ok(n)
}

/// OPN-5: withdraws a release — a published one leaves the open catalog (its entry
/// goes offline), one awaiting the authority is cancelled. By the source department
/// or the authority, with a reason.
pub async fn withdraw(
    app: &App,
    ctx: &Ctx,
    id: &str,
    w: ReleaseWithdrawal,
) -> ServiceResult<OpenRelease> {
    let mut r = get_release(app, id).await?;
    authorize_either(ctx, &r.org_id)?;
    let reason = text("reason", &w.reason, "撤回理由", "the reason")?;
    let published = r.status == ReleaseStatus::Published.key();
    if !published && r.status != ReleaseStatus::Pending.key() {
        return Err(wrong_status(
            &r,
            "只有待审核或已发布的发布可以撤回",
            "only a release awaiting the authority or published can be withdrawn",
        ));
    }
    let now = truncate_to_micros(Utc::now());
    let mut changes = Vec::new();
    if published {
        if let Some(entry_id) = &r.derived_entry_id {
            if let Some(e) = app.store.get_catalog_entry(entry_id).await? {
                if !e.offline {
                    changes.push(offline_change(
                        &e,
                        &format!("撤回数据发布 / release withdrawn: {reason}"),
                        now,
                    ));
                }
            }
        }
    }
    r.status = ReleaseStatus::Withdrawn.key().into();
    r.reason = Some(reason);
    r.withdrawn_by = Some(ctx.principal.actor.clone());
    r.withdrawn_at = Some(now);
    r.next_refresh_at = None;
    r.updated_at = now;
    changes.push(Change::PutOpenRelease(r.clone()));
    let mut audit = ctx.audit("open.release_withdraw", "open_release", &r.id);
    audit.org_id = Some(r.org_id.clone());
    audit.after = release_summary(&r);
    app.store
        .commit(changes, vec![audit])
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => ServiceError::conflict(
                "release.changed_meanwhile",
                "发布的目录已被他人修改，请重试",
                "the release's entry changed meanwhile; try again",
            ),
            other => other.into(),
        })?;
    Ok(r)
}

/// OPN-5: the releases the caller deals with — all for the authority, its own
/// department's otherwise — newest first.
pub async fn list(app: &App, ctx: &Ctx, q: ReleaseQuery) -> ServiceResult<Vec<OpenRelease>> {
    let p = &ctx.principal;
    let org_id = if p.holds_globally(Permission::OpenCoordinate) {
        None
    } else {
        let org = p.org_id.clone().unwrap_or_default();
        p.authorize(Permission::OpenReview, Some(&org))?;
        Some(org)
    };
    let given = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    Ok(app
        .store
        .list_open_releases(&OpenReleaseFilter {
            org_id,
            status: given(&q.status),
            source_entry_id: given(&q.source),
            ..Default::default()
        })
        .await?)
}

/// OPN-5: one release version with its series.
pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<ReleaseView> {
    let r = get_release(app, id).await?;
    authorize_either(ctx, &r.org_id)?;
    let versions = app
        .store
        .list_open_releases(&OpenReleaseFilter {
            series_id: Some(r.series_id.clone()),
            ..Default::default()
        })
        .await?;
    Ok(ReleaseView {
        release: r,
        versions,
    })
}

fn option(rule: ReleaseRule) -> RuleOption {
    RuleOption {
        key: rule.to_string(),
        label_zh: rule.label_zh(),
        label_en: rule.label_en(),
    }
}

/// OPN-5: the caller's department's published entries with data that a release can
/// be made from, with the rules each item can take.
pub async fn sources(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ReleaseSource>> {
    let org = ctx.principal.org_id.clone().unwrap_or_default();
    authorize_source(ctx, &org)?;
    let entries = app
        .store
        .list_catalog_entries(&CatalogFilter {
            owner_org_id: Some(org.clone()),
            status: Some("published".into()),
            mounted: Some(true),
            limit: Some(1000),
            ..Default::default()
        })
        .await?;
    let datasets: std::collections::HashMap<String, Dataset> = app
        .data
        .list_datasets(Some(&org))
        .await?
        .into_iter()
        .map(|d| (d.resource_id.clone(), d))
        .collect();
    // A derived entry is not released again.
    let derived: std::collections::HashSet<String> = app
        .store
        .list_open_releases(&OpenReleaseFilter {
            org_id: Some(org.clone()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter_map(|r| r.derived_entry_id)
        .collect();
    let mut out = Vec::new();
    for e in entries {
        let (Some(content), Some(d)) = (e.published.as_ref(), datasets.get(&e.id)) else {
            continue;
        };
        if e.offline
            || content.source_org_id != e.owner_org_id
            || d.current_table.is_none()
            || derived.contains(&e.id)
        {
            continue;
        }
        let items = d
            .schema
            .columns
            .iter()
            .map(|c| SourceItem {
                code_name: c.name.clone(),
                name: c.title.clone(),
                field_type: c.field_type.key().into(),
                sensitive: c.sensitive,
                identifier: is_identifier(c),
                suggested: suggested_rule(c).to_string(),
                rules: rules_for(c, ReleaseBasis::Desensitised)
                    .into_iter()
                    .chain(rules_for(c, ReleaseBasis::Consent))
                    .fold(Vec::new(), |mut acc: Vec<RuleOption>, r| {
                        if !acc.iter().any(|o| o.key == r.to_string()) {
                            acc.push(option(r));
                        }
                        acc
                    }),
            })
            .collect();
        out.push(ReleaseSource {
            id: e.id.clone(),
            code: e.code.clone(),
            name: content.name.clone(),
            open_type: content.open_type.key().into(),
            update_frequency: content.update_frequency.key().into(),
            rows: d.row_count,
            items,
        });
    }
    Ok(out)
}
