//! COL-7 (XJ 13): each level's platform reports the data its catalog specifies to the
//! next level's platform. On the reporting node, a run sends every published entry
//! whose catalog version or data version moved since its last accepted report (and
//! tells the upper node when an entry went offline); entries of units working on a
//! system the upper level built are exempt. On the receiving node, each reported entry
//! is kept as a published entry of the reporting data authority, with its data loaded
//! through the ordinary, validated load path.
use chrono::{DateTime, Utc};
pub use gongshu_connectors::upstream::UpstreamTarget;
use gongshu_connectors::upstream::{UpstreamClient, UpstreamError};
use gongshu_domain::audit::{truncate_to_micros, AuditDraft};
use gongshu_domain::catalog::{self as domain_catalog, EntryContent};
use gongshu_domain::org::OrgKind;
use gongshu_domain::permissions::{Permission, Principal};
use gongshu_domain::secrecy::{SecrecyConclusion, SecrecyReview};
use gongshu_domain::upstream::{
    copy_after_report, report_step, reported_load_of, upload_key, upper_node_of, CopyBefore,
    ReportState, ReportStep,
};
use gongshu_store::{
    CatalogEntry, CatalogFilter, Change, Dataset, ReceivedReport, StoreError, UpstreamExemption,
    UpstreamReport,
};
use serde::{Deserialize, Serialize};

use crate::catalog::{draft_entry, last_sequence, review_row, status_summary};
use crate::context::{summary, App, Ctx};
use crate::datasets::ExportFormat;
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// Whether `target` can be used at all (an `http://` address without credentials),
/// so a misconfigured node says so when it starts.
pub fn check_target(target: &UpstreamTarget) -> Result<(), String> {
    UpstreamClient::new(target)
        .map(|_| ())
        .map_err(|e| format!("{} / {}", e.message_zh(), e.message_en()))
}

fn not_configured() -> ServiceError {
    ServiceError::conflict(
        "upstream.not_configured",
        "本节点未配置上级平台（[upstream] url 与 GONGSHU_UPSTREAM_TOKEN），无法报送",
        "no upper node is configured ([upstream] url and GONGSHU_UPSTREAM_TOKEN): nothing can be reported",
    )
}

/// The caller's organisation, when it is a data authority the caller acts for with
/// `permission`: reporting up and receiving reports are the authority's business.
async fn authority_of(app: &App, ctx: &Ctx, permission: Permission) -> ServiceResult<String> {
    let org_id = ctx.principal.org_id.clone().ok_or_else(|| {
        ServiceError::new(
            ErrorKind::Denied,
            "upstream.authority_only",
            "数据报送由公共数据主管部门办理（XJ 13）",
            "reporting data between levels is the data authority's business (XJ 13)",
        )
    })?;
    ctx.principal.authorize(permission, Some(&org_id))?;
    let org = app.store.get_org(&org_id).await?;
    if org.as_ref().and_then(|o| OrgKind::parse(&o.kind)) != Some(OrgKind::DataAuthority) {
        return Err(ServiceError::new(
            ErrorKind::Denied,
            "upstream.authority_only",
            "数据报送由公共数据主管部门办理（XJ 13）",
            "reporting data between levels is the data authority's business (XJ 13)",
        ));
    }
    Ok(org_id)
}

// ---------------------------------------------------------------- reporting node

/// One catalog entry as the reporting node sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryReportView {
    pub entry_id: String,
    pub code: String,
    pub name: String,
    pub published_version: i32,
    pub offline: bool,
    pub current_load_id: Option<String>,
    pub report: Option<UpstreamReport>,
    /// `send`, `send_data`, `withdraw`, `up_to_date`, `exempt`, `offline` or
    /// `not_published`.
    pub next_step: String,
    pub next_step_zh: String,
    /// COL-6: the entry has data its department's secrecy review has not cleared
    /// (not reviewed, items not covered, or state secrets): only the entry goes up.
    pub data_held_back: bool,
}

/// What this node reports and where.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UpstreamOverview {
    /// The upper node's address, when one is configured.
    pub upper_url: Option<String>,
    pub entries: Vec<EntryReportView>,
}

fn step_label(step: ReportStep) -> (&'static str, &'static str) {
    match step {
        ReportStep::Send { data: true } => ("send_data", "待报送（含数据）"),
        ReportStep::Send { data: false } => ("send", "待报送（目录）"),
        ReportStep::Withdraw => ("withdraw", "待通知上级下架（已免报）"),
        ReportStep::Skip(r) => (
            r.key(),
            match r.key() {
                "exempt" => "免报（使用上级统建系统）",
                "offline" => "已下架",
                "not_published" => "未发布",
                _ => "已是最新",
            },
        ),
    }
}

async fn entries_with_reports(
    app: &App,
) -> ServiceResult<Vec<(CatalogEntry, Option<UpstreamReport>, Option<Dataset>)>> {
    let entries = crate::catalog::every_entry(app, CatalogFilter::default()).await?;
    let mut reports: std::collections::HashMap<String, UpstreamReport> = app
        .store
        .list_upstream_reports()
        .await?
        .into_iter()
        .map(|r| (r.entry_id.clone(), r))
        .collect();
    let mut out = Vec::new();
    for e in entries.into_iter().filter(|e| e.published.is_some()) {
        let dataset = if e.mounted {
            app.data.get_dataset(&e.id).await?
        } else {
            None
        };
        let report = reports.remove(&e.id);
        out.push((e, report, dataset));
    }
    Ok(out)
}

fn state_of<'a>(
    e: &CatalogEntry,
    r: Option<&'a UpstreamReport>,
    dataset: Option<&'a Dataset>,
) -> ReportState<'a> {
    let review_at = dataset
        .and_then(|d| d.secrecy_review.as_ref())
        .map(|v| v.reviewed_at);
    ReportState {
        published_version: e.published_version,
        offline: e.offline,
        exempt: r.is_some_and(|r| r.exemption.is_some()),
        reported_version: r.map_or(0, |r| r.reported_version),
        reported_offline: r.is_some_and(|r| r.reported_offline),
        current_load: dataset.and_then(|d| d.current_load_id.as_deref()),
        reported_load: r.and_then(|r| r.reported_load_id.as_deref()),
        withheld: dataset.is_some_and(|d| !data_may_go_up(d)),
        review_unreported: review_at.is_some() && review_at != r.and_then(|r| r.reported_review_at),
    }
}

/// COL-7: every published entry with what was last reported of it and what the
/// next run will do.
pub async fn overview(app: &App, ctx: &Ctx) -> ServiceResult<UpstreamOverview> {
    authority_of(app, ctx, Permission::CatalogApprove).await?;
    let mut entries = Vec::new();
    for (e, report, dataset) in entries_with_reports(app).await? {
        let step = report_step(&state_of(&e, report.as_ref(), dataset.as_ref()));
        let (key, zh) = step_label(step);
        let data_held_back = dataset
            .as_ref()
            .is_some_and(|d| d.current_load_id.is_some() && !data_may_go_up(d));
        let load = dataset.and_then(|d| d.current_load_id);
        entries.push(EntryReportView {
            entry_id: e.id,
            code: e.code,
            name: e.name,
            published_version: e.published_version,
            offline: e.offline,
            current_load_id: load,
            report,
            next_step: key.into(),
            next_step_zh: zh.into(),
            data_held_back,
        });
    }
    Ok(UpstreamOverview {
        upper_url: app.upstream.get().map(|t| t.url.clone()),
        entries,
    })
}

/// COL-7 (XJ 13): marks an entry as held on a system the upper level built (no
/// separate report), or clears the mark (`system` None).
pub async fn set_exemption(
    app: &App,
    ctx: &Ctx,
    entry: &str,
    system: Option<&str>,
) -> ServiceResult<UpstreamReport> {
    authority_of(app, ctx, Permission::CatalogApprove).await?;
    let entry = crate::catalog::find_entry(app, entry)
        .await?
        .ok_or_else(|| ServiceError::not_found("目录", "catalog entry", entry))?;
    let system = system.map(str::trim);
    if system == Some("") {
        return Err(ServiceError::invalid(
            "upstream.system_required",
            "system",
            "请写明所使用的上级统建系统",
            "name the upper-level system the unit works on",
        ));
    }
    let now = truncate_to_micros(Utc::now());
    let before = app.store.get_upstream_report(&entry.id).await?;
    let mut report = before
        .clone()
        .unwrap_or_else(|| blank_report(&entry.id, now));
    report.exemption = system.map(|s| UpstreamExemption {
        system: s.to_string(),
        set_by: ctx.principal.actor.clone(),
        set_at: now,
    });
    report.updated_at = now;
    let action = if system.is_some() {
        "upstream.exempt"
    } else {
        "upstream.unexempt"
    };
    let mut audit = ctx.audit(action, "catalog_entry", &entry.id);
    audit.before = before.as_ref().and_then(|b| summary(&b.exemption));
    audit.after = summary(&report.exemption);
    app.store
        .commit(
            vec![Change::PutUpstreamReport {
                report: report.clone(),
                expected_updated_at: before.map(|b| b.updated_at),
            }],
            vec![audit],
        )
        .await
        .map_err(changed_meanwhile)?;
    Ok(report)
}

fn blank_report(entry_id: &str, now: DateTime<Utc>) -> UpstreamReport {
    UpstreamReport {
        entry_id: entry_id.to_string(),
        exemption: None,
        reported_version: 0,
        reported_offline: false,
        reported_load_id: None,
        reported_rows: None,
        upper_code: None,
        last_success_at: None,
        last_attempt_at: None,
        outcome: None,
        error: None,
        reported_review_at: None,
        failed_upload_load: None,
        failed_uploads: 0,
        updated_at: now,
    }
}

fn changed_meanwhile(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound(_) | StoreError::Conflict(_) => ServiceError::conflict(
            "upstream.changed_meanwhile",
            "报送记录刚被另一次报送或操作修改，请刷新后重试",
            "the report record was changed by another run meanwhile: reload and try again",
        ),
        other => other.into(),
    }
}

/// What one run did with one entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryOutcome {
    pub entry_id: String,
    pub code: String,
    /// `reported` or `failed`.
    pub outcome: String,
    pub upper_code: Option<String>,
    pub rows: Option<i64>,
    pub error: Option<String>,
}

/// What one run did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportRun {
    pub upper_url: String,
    pub reported: usize,
    pub failed: usize,
    /// Entries with nothing new, exempt, or not published.
    pub skipped: usize,
    /// Entries due but not tried, because an earlier one found the upper node
    /// unreachable or refusing this node's token; the next run tries them.
    pub not_tried: usize,
    pub outcomes: Vec<EntryOutcome>,
}

/// The entry as the upper node receives it. Fields a newer lower node adds are
/// ignored, so the levels can upgrade one at a time.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncomingReport {
    /// The entry's code on the reporting node.
    pub source_code: String,
    /// Its published version there.
    pub version: i32,
    #[serde(default)]
    pub offline: bool,
    #[serde(default)]
    pub offline_reason: Option<String>,
    /// The name of its source department on the reporting node.
    pub source_department: String,
    #[schema(value_type = Object)]
    pub content: EntryContent,
    /// The secrecy review its data was cleared by on the reporting node (COL-6).
    #[serde(default)]
    pub secrecy_review: Option<IncomingSecrecyReview>,
    /// The load id of the data version about to be uploaded, if any.
    #[serde(default)]
    pub load_id: Option<String>,
}

/// The department's secrecy review on the reporting node (COL-6): its conclusion
/// and the data items it covered hold on the upper node too.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncomingSecrecyReview {
    /// `cleared` or `state_secret`.
    #[schema(value_type = String)]
    pub conclusion: SecrecyConclusion,
    /// The data items (column names) the review covered.
    pub items: Vec<String>,
    pub note: String,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

/// COL-7 (XJ 13): reports every entry due to the configured upper node. Each entry
/// is reported on its own: one that fails is recorded with its error and retried by
/// the next run; the others go on, unless the failure is the whole node's.
pub async fn report_all(app: &App, ctx: &Ctx) -> ServiceResult<ReportRun> {
    // The CLI and the scheduled job act as the platform; anyone else must be the authority.
    if !matches!(ctx.principal.actor.as_str(), "cli" | "system") {
        authority_of(app, ctx, Permission::CatalogApprove).await?;
    }
    let target = app.upstream.get().cloned().ok_or_else(not_configured)?;
    let client = UpstreamClient::new(&target).map_err(|e| {
        ServiceError::conflict("upstream.bad_config", e.message_zh(), e.message_en())
    })?;
    let mut run = ReportRun {
        upper_url: target.url.clone(),
        reported: 0,
        failed: 0,
        skipped: 0,
        not_tried: 0,
        outcomes: Vec::new(),
    };
    let mut stopped = false;
    for (entry, report, dataset) in entries_with_reports(app).await? {
        let step = report_step(&state_of(&entry, report.as_ref(), dataset.as_ref()));
        if let ReportStep::Skip(_) = step {
            run.skipped += 1;
            continue;
        }
        if stopped {
            run.not_tried += 1;
            continue;
        }
        let sending = Sending {
            entry: &entry,
            dataset: dataset.as_ref(),
            step,
        };
        let (outcome, stop) = report_entry(app, ctx, &client, sending, report).await?;
        stopped = stop;
        if outcome.outcome == "reported" {
            run.reported += 1;
        } else {
            run.failed += 1;
        }
        run.outcomes.push(outcome);
    }
    Ok(run)
}

/// One entry on its way up, with what the run decided to send of it.
struct Sending<'a> {
    entry: &'a CatalogEntry,
    dataset: Option<&'a Dataset>,
    step: ReportStep,
}

/// What the upper node holds of one entry after its report.
struct Sent {
    upper_code: String,
    /// The data version (this node's load id) the upper copy serves, and the rows
    /// it accepted when this report uploaded it.
    data_from: Option<String>,
    rows: Option<i64>,
    /// When the secrecy review the upper node holds was made.
    review_at: Option<DateTime<Utc>>,
}

/// Sends one entry and records the result; true beside it when the failure stops
/// the run.
async fn report_entry(
    app: &App,
    ctx: &Ctx,
    client: &UpstreamClient,
    sending: Sending<'_>,
    before: Option<UpstreamReport>,
) -> ServiceResult<(EntryOutcome, bool)> {
    let entry = sending.entry;
    let now = truncate_to_micros(Utc::now());
    let mut report = before
        .clone()
        .unwrap_or_else(|| blank_report(&entry.id, now));
    report.last_attempt_at = Some(now);
    report.updated_at = now;
    let withdraw = sending.step == ReportStep::Withdraw;
    let sent = send(app, ctx, client, &sending, &report).await;
    let mut audit;
    let mut stop = false;
    let mut uploaded = None;
    let outcome = match sent {
        Ok(sent) => {
            report.outcome = Some("reported".into());
            report.error = None;
            report.reported_version = entry.published_version;
            report.reported_offline = entry.offline || withdraw;
            report.upper_code = Some(sent.upper_code.clone());
            // What the upper node holds, as it says: a version it does not hold is
            // offered again by a later run.
            let review_here = sending
                .dataset
                .and_then(|d| d.secrecy_review.as_ref())
                .map(|r| r.reviewed_at);
            report.reported_review_at = match (review_here, sent.review_at) {
                (Some(here), Some(there)) if there >= here => Some(here),
                (_, there) => there,
            };
            if sent.data_from != report.reported_load_id {
                report.reported_rows = sent.rows;
            }
            if sent.rows.is_some() {
                uploaded = sent.data_from.clone();
                report.failed_upload_load = None;
                report.failed_uploads = 0;
            }
            report.reported_load_id = sent.data_from;
            report.last_success_at = Some(now);
            audit = ctx.audit("upstream.report", "catalog_entry", &entry.id);
            EntryOutcome {
                entry_id: entry.id.clone(),
                code: entry.code.clone(),
                outcome: "reported".into(),
                upper_code: Some(sent.upper_code),
                rows: sent.rows,
                error: None,
            }
        }
        Err(failure) => {
            stop = failure.stops_the_run;
            if let Some(load) = failure.not_stored_load {
                if report.failed_upload_load.as_deref() == Some(load.as_str()) {
                    report.failed_uploads += 1;
                } else {
                    report.failed_upload_load = Some(load);
                    report.failed_uploads = 1;
                }
            }
            report.outcome = Some("failed".into());
            report.error = Some(failure.message.clone());
            audit = ctx.audit("upstream.report_failed", "catalog_entry", &entry.id);
            EntryOutcome {
                entry_id: entry.id.clone(),
                code: entry.code.clone(),
                outcome: "failed".into(),
                upper_code: report.upper_code.clone(),
                rows: None,
                error: Some(failure.message),
            }
        }
    };
    audit.after = summary(&serde_json::json!({
        "code": entry.code,
        "version": entry.published_version,
        "offline": entry.offline,
        "withdrawn_as_exempt": withdraw,
        "uploaded_load_id": uploaded,
        "upper_code": outcome.upper_code,
        "error": outcome.error,
    }));
    let recorded = app
        .store
        .commit(
            vec![Change::PutUpstreamReport {
                report,
                expected_updated_at: before.map(|b| b.updated_at),
            }],
            vec![audit],
        )
        .await;
    match recorded {
        Ok(_) => Ok((outcome, stop)),
        // Another run (or an exemption) changed the record meanwhile: that run's
        // record stands, and whatever this one sent is sent again next time, which
        // the upper node takes as the same report.
        Err(StoreError::NotFound(_) | StoreError::Conflict(_)) => {
            let message = "报送记录被同时进行的另一次报送或操作修改，下次运行再报送 / the report record was changed meanwhile by another run or action: the next run reports it again";
            Ok((
                EntryOutcome {
                    outcome: "failed".into(),
                    rows: None,
                    error: Some(message.into()),
                    ..outcome
                },
                stop,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The caller, with the platform's permissions: who asked stays in the audit trail.
fn as_platform(ctx: &Ctx) -> Ctx {
    let mut principal = Principal::system();
    principal.actor = ctx.principal.actor.clone();
    principal.user_id = ctx.principal.user_id.clone();
    principal.token_id = ctx.principal.token_id.clone();
    principal.org_id = ctx.principal.org_id.clone();
    Ctx::new(principal, ctx.request_id.clone())
}

/// Why one entry's report failed: the message to record, whether the failure is the
/// whole node's (unreachable, token refused), so the run stops there, and the data
/// version the upper node took but failed to store, which goes again under a fresh
/// key.
struct SendFailure {
    message: String,
    stops_the_run: bool,
    not_stored_load: Option<String>,
}

impl From<String> for SendFailure {
    fn from(message: String) -> Self {
        SendFailure {
            message,
            stops_the_run: false,
            not_stored_load: None,
        }
    }
}

impl From<&str> for SendFailure {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

fn upstream_failure(e: UpstreamError) -> SendFailure {
    SendFailure {
        message: format!("{} / {}", e.message_zh(), e.message_en()),
        stops_the_run: e.concerns_every_entry(),
        not_stored_load: None,
    }
}

/// COL-6: whether a dataset's data may leave this node: its department's secrecy
/// review cleared every column it has.
fn data_may_go_up(dataset: &Dataset) -> bool {
    crate::datasets::secrecy_block(Some(dataset), &dataset.schema).is_none()
}

/// The calls of one entry's report: the entry, then the data version served here
/// when the upper node's copy does not hold it and may take it.
async fn send(
    app: &App,
    ctx: &Ctx,
    client: &UpstreamClient,
    sending: &Sending<'_>,
    report: &UpstreamReport,
) -> Result<Sent, SendFailure> {
    let entry = sending.entry;
    let content = entry.published.clone().ok_or("未发布 / not published")?;
    let department = match app.store.get_org(&content.source_org_id).await {
        Ok(Some(o)) => o.name,
        _ => content.source_org_id.clone(),
    };
    let secrecy_review = sending
        .dataset
        .and_then(|d| d.secrecy_review.as_ref())
        .map(|r| IncomingSecrecyReview {
            conclusion: r.conclusion,
            items: r.items.clone(),
            note: r.note.clone(),
            reviewed_by: r.reviewed_by.clone(),
            reviewed_at: r.reviewed_at,
        });
    let (offline, offline_reason) = match (sending.step, &report.exemption) {
        (ReportStep::Withdraw, Some(exemption)) => (
            true,
            Some(format!(
                "免报：数据经上级统建系统“{}”报送 / exempt: the data reaches this level through its system “{}”",
                exemption.system, exemption.system
            )),
        ),
        _ => (entry.offline, entry.offline_reason.clone()),
    };
    let offered = sending
        .dataset
        .filter(|d| !offline && data_may_go_up(d))
        .and_then(|d| d.current_load_id.clone());
    let incoming = IncomingReport {
        source_code: entry.code.clone(),
        version: entry.published_version,
        offline,
        offline_reason,
        source_department: department,
        content,
        secrecy_review,
        load_id: offered.clone(),
    };
    let body = serde_json::to_value(&incoming).map_err(|e| e.to_string())?;
    let answer: ReceiveAnswer =
        serde_json::from_value(client.report_entry(&body).await.map_err(upstream_failure)?)
            .map_err(|e| {
                format!("上级平台答复无法识别 / the upper node's answer is not understood: {e}")
            })?;
    let held = Sent {
        upper_code: answer.upper_code.clone(),
        data_from: answer.data_from.clone(),
        rows: None,
        review_at: answer.review_at,
    };
    let Some(load) = offered.filter(|l| answer.data_from.as_deref() != Some(l.as_str())) else {
        return Ok(held);
    };
    // The upper level took its copy offline: it takes no data, and this version is
    // offered again once it is back.
    if answer.offline {
        return Ok(held);
    }
    // Read again: the run's snapshot may be minutes old. A version replaced, or a
    // finding of state secrets made since, stops this upload (COL-6).
    let dataset = app
        .data
        .get_dataset(&entry.id)
        .await
        .map_err(|e| e.to_string())?
        .filter(|d| d.current_load_id.as_deref() == Some(load.as_str()) && data_may_go_up(d))
        .ok_or("数据版本或保密审查在报送期间变化，下次运行报送 / the data version or its secrecy review changed during the run: the next run reports it")?;
    // The data version leaves this node through the egress gate, which records it.
    // XJ 13 makes reporting the authority's duty for every department's data, so the
    // export runs with the platform's reach under the caller's name (COL-7).
    let ctx = &as_platform(ctx);
    let spool = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    {
        let mut out = std::io::BufWriter::new(spool.as_file());
        crate::egress::export(app, ctx, &dataset, ExportFormat::Csv, &mut out, None)
            .await
            .map_err(|e| SendFailure::from(format!("{} / {}", e.message, e.message_en)))?;
        std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
    }
    let retries = match report.failed_upload_load.as_deref() {
        Some(failed) if failed == load => report.failed_uploads,
        _ => 0,
    };
    let uploaded = client
        .upload_version(
            &answer.upper_code,
            spool.path(),
            &upload_key(&load, retries),
        )
        .await
        .map_err(|e| SendFailure {
            // A proxy's timeout on a long upload is this entry's trouble, not the node's.
            stops_the_run: e.concerns_every_entry() && !e.is_gateway_timeout(),
            ..upstream_failure(e)
        })?;
    let status = uploaded
        .get("status")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if status != "applied" {
        let error = uploaded
            .get("error")
            .and_then(|v| v.as_str())
            .unwrap_or(status);
        return Err(SendFailure {
            message: format!("上级平台未载入该数据版本：{error} / the upper node did not apply the data version: {error}"),
            stops_the_run: false,
            // A load refused for its rows is refused again; one the upper node failed
            // to store, or that a restart cut off, is worth another try.
            not_stored_load: matches!(status, "failed" | "interrupted").then_some(load),
        });
    }
    Ok(Sent {
        data_from: Some(load),
        rows: uploaded.get("rows_accepted").and_then(|v| v.as_i64()),
        ..held
    })
}

// ---------------------------------------------------------------- receiving node

/// The upper node's answer to a reported entry.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiveAnswer {
    /// The entry's code on this node.
    pub upper_code: String,
    pub entry_id: String,
    /// Whether the entry was new here.
    pub created: bool,
    /// SHR-13: the lower level took the entry offline, but share grants on this node
    /// still rely on it, so it stays in service here until they are settled.
    pub offline_held: bool,
    /// The entry is offline here (this level took its copy offline, or followed the
    /// level below): no data version is taken for it.
    #[serde(default)]
    pub offline: bool,
    /// The reporting node's load id of the data version served here, if any.
    #[serde(default)]
    pub data_from: Option<String>,
    /// When the secrecy review held here was made, if any.
    #[serde(default)]
    pub review_at: Option<DateTime<Utc>>,
}

/// The reporting node's load id of the data version `entry` serves here: the one
/// its current load was uploaded for (see [`upload_key`]).
async fn data_from(app: &App, entry: &str) -> ServiceResult<Option<String>> {
    let Some(current) = app
        .data
        .get_dataset(entry)
        .await?
        .and_then(|d| d.current_load_id)
    else {
        return Ok(None);
    };
    Ok(app
        .data
        .get_load(&current)
        .await?
        .and_then(|l| l.idempotency_key)
        .and_then(|key| reported_load_of(&key).map(str::to_string)))
}

/// COL-7 (XJ 13): takes an entry reported by the next level down. The caller is
/// that level's data authority (an organisation of this node, holding a token this
/// node issued), whose division is one level below this node's. The entry is kept
/// published under the reporting authority; its data comes as an ordinary upload.
pub async fn receive(
    app: &App,
    ctx: &Ctx,
    incoming: IncomingReport,
) -> ServiceResult<ReceiveAnswer> {
    let reporter = authority_of(app, ctx, Permission::CatalogRegister).await?;
    ctx.principal
        .authorize(Permission::DataLoad, Some(&reporter))?;
    check_next_level(app, &reporter).await?;
    let source_code = incoming.source_code.trim().to_string();
    if source_code.is_empty() || source_code.len() > 64 {
        return Err(ServiceError::invalid(
            "upstream.source_code_invalid",
            "source_code",
            "报送的目录代码须为 1 至 64 个字符",
            "the reported entry's code must be 1 to 64 characters",
        ));
    }
    let mut content = incoming.content.clone();
    // Here the reporting authority answers for the entry; the lower level's
    // departments are not organisations of this node.
    content.source_org_id = reporter.clone();
    content.providing_org_id = None;
    content.co_builder_org_ids.clear();
    content.name = content.name.trim().to_string();
    let problems = domain_catalog::check_entry(&content);
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    // Two reports of the same entry at once (two runs below, or a retry crossing
    // the first): the one that loses the race reads again and applies on top.
    for _ in 0..3 {
        let now = truncate_to_micros(Utc::now());
        let previous = app
            .store
            .get_received_report(&reporter, &source_code)
            .await?;
        match apply_report(
            app,
            ctx,
            &reporter,
            &source_code,
            &content,
            &incoming,
            previous,
            now,
        )
        .await?
        {
            Some(answer) => return Ok(answer),
            None => continue,
        }
    }
    Err(ServiceError::conflict(
        "upstream.changed_meanwhile",
        "该目录正被同时报送，请稍后重试",
        "the entry is being reported at the same time: try again shortly",
    ))
}

/// Applies one report on top of `previous`; None when another report of the same
/// entry got in first.
#[allow(clippy::too_many_arguments)]
async fn apply_report(
    app: &App,
    ctx: &Ctx,
    reporter: &str,
    source_code: &str,
    content: &EntryContent,
    incoming: &IncomingReport,
    previous: Option<ReceivedReport>,
    now: DateTime<Utc>,
) -> ServiceResult<Option<ReceiveAnswer>> {
    if let Some(p) = previous
        .as_ref()
        .filter(|p| incoming.version < p.source_version)
    {
        return Err(ServiceError::conflict(
            "upstream.stale_version",
            format!(
                "已收到该目录第 {} 版，不再接受较早的第 {} 版",
                p.source_version, incoming.version
            ),
            format!(
                "version {} of the entry was received already; the earlier version {} is not taken",
                p.source_version, incoming.version
            ),
        ));
    }
    let existing = match &previous {
        Some(p) => app.store.get_catalog_entry(&p.entry_id).await?,
        None => None,
    };
    let copy = existing
        .as_ref()
        .zip(previous.as_ref())
        .map(|(e, p)| CopyBefore {
            offline: e.offline,
            offline_here: p.offline_here,
            offline_below: p.offline_below,
        });
    // SHR-13: grants only matter when the report would take an online copy offline.
    let held_by_grants = match &existing {
        Some(before) if incoming.offline && !before.offline => {
            crate::catalog::grants_awaiting_successor(app, &before.id, now).await?
        }
        _ => 0,
    };
    let after = copy_after_report(incoming.offline, copy, held_by_grants);
    let offline_here = after.offline_here;
    let mut effective = incoming.clone();
    effective.offline = after.offline;
    let received = ReceivedReport {
        reporter_org_id: reporter.to_string(),
        source_code: source_code.to_string(),
        entry_id: existing.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
        source_department: incoming.source_department.trim().to_string(),
        source_version: incoming.version,
        received_at: now,
        offline_below: incoming.offline,
        offline_here,
        held_by_grants: held_by_grants as i64,
    };
    let mut audits = Vec::new();
    if held_by_grants > 0 {
        let mut held = ctx.audit("upstream.offline_held", "catalog_entry", &received.entry_id);
        held.after = summary(&serde_json::json!({
            "source_code": source_code,
            "grants": held_by_grants,
            "reason": incoming.offline_reason,
        }));
        audits.push(held);
    }
    let applied = match existing {
        Some(before) => {
            let expected = previous.as_ref().map(|p| p.received_at);
            update_reported(
                app,
                ctx,
                before,
                content.clone(),
                &effective,
                received,
                expected,
                audits,
                now,
            )
            .await?
            .map(|e| (e, false))
        }
        None => create_reported(
            app,
            ctx,
            reporter,
            content.clone(),
            &effective,
            received,
            audits,
            now,
        )
        .await?
        .map(|e| (e, true)),
    };
    let Some((entry, created)) = applied else {
        return Ok(None);
    };
    // COL-6: the finding holds here even while the copy is offline, so a copy brought
    // back never serves what was found secret below.
    let mut review_at = None;
    if let Some(review) = incoming.secrecy_review.as_ref() {
        let reporter_name = app
            .store
            .get_org(reporter)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        // COL-6: the lower department's finding holds here as it was made: its
        // conclusion, and only the items it covered.
        let carried = SecrecyReview {
            conclusion: review.conclusion,
            items: review.items.clone(),
            note: review.note.clone(),
            reviewed_by: format!(
                "{}（{}报送 / reported by {}）",
                review.reviewed_by, reporter_name, reporter_name
            ),
            org_id: reporter.to_string(),
            reviewed_at: review.reviewed_at,
        };
        review_at =
            Some(crate::datasets::carry_secrecy_review(app, ctx, &entry.id, carried).await?);
    }
    let data_from = data_from(app, &entry.id).await?;
    Ok(Some(ReceiveAnswer {
        upper_code: entry.code,
        entry_id: entry.id,
        created,
        offline_held: held_by_grants > 0,
        offline: entry.offline,
        data_from,
        review_at,
    }))
}

/// The reporter's division must be one level below this node: its nearest
/// node-running ancestor is this node's configured division. A node that does not
/// know its division takes no reports, so no level can be skipped.
async fn check_next_level(app: &App, reporter: &str) -> ServiceResult<()> {
    let org = app
        .store
        .get_org(reporter)
        .await?
        .ok_or_else(|| ServiceError::not_found("单位", "organisation", reporter))?;
    let divisions: std::collections::HashMap<String, (Option<String>, bool)> = app
        .store
        .list_divisions()
        .await?
        .into_iter()
        .map(|d| (d.code, (d.parent_code, d.hosts_node)))
        .collect();
    let upper = upper_node_of(&org.division_code, |code| {
        let (parent, _) = divisions.get(code)?;
        let parent = parent.clone()?;
        let hosts = divisions.get(&parent).is_some_and(|(_, h)| *h);
        Some((parent, hosts))
    });
    let Some(expected) = app.settings.node_division.as_deref() else {
        return Err(ServiceError::conflict(
            "upstream.node_division_unset",
            "本节点未配置所在行政区划（[settings] node_division），不接收下级平台报送",
            "this node's division is not configured ([settings] node_division), so it takes no reports from the level below",
        ));
    };
    if upper.as_deref() == Some(expected) {
        Ok(())
    } else {
        Err(ServiceError::new(
            ErrorKind::Denied,
            "upstream.not_next_level",
            format!("{} 不是本级平台的下一级主管部门，不能向本平台报送（XJ 13）", org.name),
            format!("{} is not the data authority of the level below this node, so it cannot report here (XJ 13)", org.name),
        ))
    }
}

/// Keeps a newly reported entry here as a published entry of the reporter, with its
/// received record in the same commit; None when a concurrent report of the same
/// entry created it first.
#[allow(clippy::too_many_arguments)]
async fn create_reported(
    app: &App,
    ctx: &Ctx,
    reporter: &str,
    content: EntryContent,
    incoming: &IncomingReport,
    mut received: ReceivedReport,
    audits: Vec<AuditDraft>,
    now: DateTime<Utc>,
) -> ServiceResult<Option<CatalogEntry>> {
    let prefix = domain_catalog::resource_code_prefix(content.category, content.domain);
    // Concurrent registrations may race for a sequence number; the unique code decides.
    for _ in 0..5 {
        let seq = last_sequence(app, &prefix).await? + 1;
        let code = domain_catalog::resource_code(content.category, content.domain, seq);
        let mut entry = draft_entry(reporter, code, content.clone(), now);
        publish_reported(&mut entry, content.clone(), incoming, now);
        received.entry_id = entry.id.clone();
        let mut audit = ctx.audit("catalog.receive_report", "catalog_entry", &entry.id);
        audit.after = summary(&status_summary(&entry));
        let mut all_audits = vec![audit, receive_audit(ctx, &received)];
        all_audits.extend(audits.iter().cloned().map(|mut a| {
            a.object_id = Some(entry.id.clone());
            a
        }));
        let changes = vec![
            Change::InsertCatalogEntry(entry.clone()),
            Change::InsertCatalogReview(review_row(
                ctx,
                &entry.id,
                "receive_report",
                Some(reported_from(incoming)),
                now,
            )),
            Change::PutReceivedReport {
                report: received.clone(),
                expected_received_at: None,
            },
        ];
        match app.store.commit(changes, all_audits).await {
            Ok(_) => return Ok(Some(entry)),
            Err(StoreError::Conflict(_)) => {
                if app
                    .store
                    .get_received_report(reporter, &received.source_code)
                    .await?
                    .is_some()
                {
                    return Ok(None);
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict(
        "catalog.code_busy",
        "分配资源代码时冲突，请重试",
        "could not allocate a resource code; try again",
    ))
}

/// COL-7, SHR-13: a copy kept in service for share grants after the level below took
/// its entry offline follows the level below once those grants are replaced or
/// revoked. Run for one entry when one of its grants changes, and hourly for all.
/// Returns whether the copy was taken offline.
pub async fn follow_level_below(
    app: &App,
    entry_id: &str,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let held = app
        .store
        .list_received_reports(None)
        .await?
        .into_iter()
        .find(|r| r.entry_id == entry_id && r.offline_below && !r.offline_here);
    match held {
        Some(report) => release_if_free(app, report, now).await,
        None => Ok(false),
    }
}

/// The hourly sweep of [`follow_level_below`]; returns how many copies went offline.
/// A copy that cannot be looked at now is logged and left for the next run.
pub async fn release_held_copies(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let mut released = 0;
    for report in app.store.list_received_reports(None).await? {
        if !report.offline_below || report.offline_here {
            continue;
        }
        match release_if_free(app, report, now).await {
            Ok(true) => released += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "a held copy could not follow the level below"),
        }
    }
    Ok(released)
}

/// Takes the copy offline when no grant holds it any more, else brings the record's
/// count of holding grants up to date. The record is read again
/// first, and the entry and the record change in one commit that fails if either
/// changed meanwhile (a report that brought the entry back, say): then nothing is
/// done and the next run looks again.
async fn release_if_free(
    app: &App,
    seen: ReceivedReport,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let Some(report) = app
        .store
        .get_received_report(&seen.reporter_org_id, &seen.source_code)
        .await?
        .filter(|r| r.offline_below && !r.offline_here && !r.entry_id.is_empty())
    else {
        return Ok(false);
    };
    let Some(entry) = app.store.get_catalog_entry(&report.entry_id).await? else {
        return Ok(false);
    };
    if entry.offline {
        return Ok(false);
    }
    let grants = crate::catalog::grants_awaiting_successor(app, &entry.id, now).await?;
    let copy = CopyBefore {
        offline: false,
        offline_here: false,
        offline_below: true,
    };
    if !copy_after_report(true, Some(copy), grants).offline {
        if grants as i64 != report.held_by_grants {
            // Still held, by fewer (or more) grants than the record says: the count
            // the console shows follows. A report that came meanwhile wins.
            let expected_received_at = Some(report.received_at);
            let recount = Change::PutReceivedReport {
                report: ReceivedReport {
                    held_by_grants: grants as i64,
                    ..report
                },
                expected_received_at,
            };
            match app.store.commit(vec![recount], Vec::new()).await {
                // A report that came meanwhile fails the guard (NotFound): it wins.
                Ok(_)
                | Err(gongshu_store::StoreError::NotFound(_))
                | Err(gongshu_store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(false);
    }
    let ctx = Ctx::system();
    let mut released = ctx.audit("upstream.offline_released", "catalog_entry", &entry.id);
    released.after = summary(&serde_json::json!({
        "source_code": report.source_code,
        "reporter_org_id": report.reporter_org_id,
    }));
    let expected_received_at = Some(report.received_at);
    let record = Change::PutReceivedReport {
        report: ReceivedReport {
            held_by_grants: 0,
            ..report
        },
        expected_received_at,
    };
    let reason = "下级平台已下架，在用的共享授权已全部替换或撤销 / taken offline by the level below; the share grants that kept it in service are replaced or revoked";
    match crate::catalog::take_offline_with(
        app,
        &ctx,
        &entry.id,
        reason,
        (vec![record], vec![released]),
    )
    .await
    {
        Ok(_) => Ok(true),
        // The entry or its record changed, or a grant came, meanwhile.
        Err(e) if e.kind == ErrorKind::Conflict => Ok(false),
        Err(e) => Err(e),
    }
}

fn receive_audit(ctx: &Ctx, received: &ReceivedReport) -> AuditDraft {
    let mut audit = ctx.audit("upstream.receive", "catalog_entry", &received.entry_id);
    audit.after = summary(received);
    audit
}

fn reported_from(incoming: &IncomingReport) -> String {
    format!(
        "下级平台报送：{} 第 {} 版（{}）/ reported by the level below: {} version {}",
        incoming.source_code,
        incoming.version,
        incoming.source_department,
        incoming.source_code,
        incoming.version
    )
}

/// The reported content as the published version, and the entry offline when the
/// reporting level took it offline.
fn publish_reported(
    entry: &mut CatalogEntry,
    content: EntryContent,
    incoming: &IncomingReport,
    now: DateTime<Utc>,
) {
    let changed = entry.published.as_ref() != Some(&content);
    if changed || entry.published_version == 0 {
        entry.published_version += 1;
        entry.published_at = Some(now);
    }
    entry.published = Some(content);
    entry.working = None;
    entry.stage = None;
    entry.authority_due = None;
    entry.return_reason = None;
    if incoming.offline && !entry.offline {
        entry.offline = true;
        entry.offline_at = Some(now);
        entry.offline_reason = Some(
            incoming
                .offline_reason
                .clone()
                .unwrap_or_else(|| "下级平台已下架 / taken offline by the level below".into()),
        );
    } else if !incoming.offline {
        entry.offline = false;
        entry.offline_at = None;
        entry.offline_reason = None;
    }
    crate::catalog::refresh_columns(entry);
    entry.updated_at = now;
}

/// Applies a report to the entry kept here, with its received record in the same
/// commit; None when a concurrent report of the same entry changed either first.
#[allow(clippy::too_many_arguments)]
async fn update_reported(
    app: &App,
    ctx: &Ctx,
    before: CatalogEntry,
    content: EntryContent,
    incoming: &IncomingReport,
    received: ReceivedReport,
    expected_received_at: Option<DateTime<Utc>>,
    mut audits: Vec<AuditDraft>,
    now: DateTime<Utc>,
) -> ServiceResult<Option<CatalogEntry>> {
    let mut after = before.clone();
    publish_reported(&mut after, content, incoming, now);
    let mut changes = Vec::new();
    let entry = if after.published == before.published && after.offline == before.offline {
        before
    } else {
        let mut audit = ctx.audit("catalog.receive_report", "catalog_entry", &after.id);
        audit.before = summary(&status_summary(&before));
        audit.after = summary(&status_summary(&after));
        audits.push(audit);
        changes.push(Change::UpdateCatalogEntry {
            entry: after.clone(),
            expected_updated_at: before.updated_at,
        });
        changes.push(Change::InsertCatalogReview(review_row(
            ctx,
            &after.id,
            "receive_report",
            Some(reported_from(incoming)),
            now,
        )));
        after
    };
    audits.push(receive_audit(ctx, &received));
    changes.push(Change::PutReceivedReport {
        report: received,
        expected_received_at,
    });
    match app.store.commit(changes, audits).await {
        Ok(_) => Ok(Some(entry)),
        Err(StoreError::NotFound(_) | StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// COL-7: entries lower-level platforms reported here, with the reporter's name
/// and the data the entry holds here now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceivedView {
    pub report: ReceivedReport,
    pub reporter: String,
    pub upper_code: String,
    pub name: String,
    pub offline: bool,
    /// The reporting node's load id of the data version served here, its rows and
    /// when it was loaded, once one was.
    pub data_from: Option<String>,
    pub rows: Option<i64>,
    pub data_loaded_at: Option<DateTime<Utc>>,
}

pub async fn received(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ReceivedView>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    let mut out = Vec::new();
    for report in app.store.list_received_reports(None).await? {
        let reporter = app
            .store
            .get_org(&report.reporter_org_id)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        let Some(entry) = app.store.get_catalog_entry(&report.entry_id).await? else {
            continue;
        };
        let dataset = app
            .data
            .get_dataset(&entry.id)
            .await?
            .filter(|d| d.current_load_id.is_some());
        out.push(ReceivedView {
            data_from: data_from(app, &entry.id).await?,
            upper_code: entry.code,
            name: entry.name,
            offline: entry.offline,
            reporter,
            rows: dataset.as_ref().map(|d| d.row_count),
            data_loaded_at: dataset.and_then(|d| d.last_loaded_at),
            report,
        });
    }
    Ok(out)
}
