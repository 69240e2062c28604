//! Console pages of the data plane: a department's mounted resources and uploads
//! (COL-1 … COL-3), one load with its rejected rows and quality (COL-3, GOV-1),
//! quality and freshness by department and resource (GOV-1, GOV-3, COL-4), the base
//! databases (COL-9) and cross-source discrepancies (GOV-2). Handlers parse the
//! form, call one service and render; an upload is streamed to a spool file.
use std::collections::{BTreeMap, BTreeSet};

use axum::extract::multipart::Field;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use gongshu_domain::catalog::EntryContent;
use gongshu_domain::dataset::{dimension_label, QualityScores, TableSchema};
use gongshu_domain::permissions::Permission;
use gongshu_domain::secrecy::SecrecyConclusion;
use gongshu_services::catalog::{self, today_in_china};
use gongshu_services::datasets;
use gongshu_services::error::ErrorKind;
use gongshu_services::governance::{self, Base, BuildReport, CrossCheckReport};
use gongshu_services::{orgs, ServiceError};
use gongshu_store::{
    CatalogFilter, Dataset, DatasetLoad, Discrepancy, DiscrepancyFilter, OrgFilter,
};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::pages::fail;
use super::render::{csrf_rejected, render_page, urlencode, Lang, WebUser};
use crate::api::datasets::{spool_dir, upload_options, SpooledFile, UploadQuery, MAX_UPLOAD_BYTES};
use crate::error::status_of;
use crate::extract::WebForm;
use crate::state::AppState;

/// Loads shown in a resource's history.
const HISTORY_LOADS: i64 = 50;
/// Current rows shown to the delivering department.
const PREVIEW_ROWS: i64 = 20;
/// Rejected rows shown on a load's page (all of them are in the downloads).
const REJECTS_SHOWN: i64 = 200;
/// Discrepancies per page.
const PAGE_SIZE: i64 = 50;
/// Largest plain (non-file) field of the upload form.
const MAX_TEXT_FIELD: usize = 64 * 1024;

type Pair = (&'static str, &'static str);

fn pick(lang: Lang, (zh, en): Pair) -> String {
    if lang == Lang::En { en } else { zh }.to_string()
}

/// A label of one of the data plane's keys, or the key itself when it has none.
fn label_of(lang: Lang, found: Option<Pair>, key: &str) -> String {
    found.map_or_else(|| key.to_string(), |p| pick(lang, p))
}

fn load_status_label(key: &str) -> Option<Pair> {
    Some(match key {
        "running" => ("载入中", "Running"),
        "applied" => ("已生效", "Applied"),
        "rejected" => ("整批拒收", "Refused"),
        "failed" => ("载入失败", "Failed"),
        "rolled_back" => ("已回退", "Rolled back"),
        _ => return None,
    })
}

fn channel_label(key: &str) -> Option<Pair> {
    Some(match key {
        "upload" => ("网页上传", "Upload"),
        "push" => ("前置机推送", "Front-end node push"),
        "pull" => ("接口拉取", "Pull"),
        "offline" => ("线下交付", "Offline delivery"),
        "cli" => ("命令行", "Command line"),
        "release" => ("脱敏发布", "Release"),
        _ => return None,
    })
}

fn mode_label(key: &str) -> Option<Pair> {
    Some(match key {
        "replace" => ("整体替换", "Replace"),
        "upsert" => ("按主键更新", "Upsert by key"),
        _ => return None,
    })
}

fn policy_label(key: &str) -> Option<Pair> {
    Some(match key {
        "quarantine" => (
            "隔离不合格行，合格行生效",
            "Quarantine bad rows, apply the rest",
        ),
        "reject" => ("有不合格行则整批拒收", "Refuse the load if any row is bad"),
        _ => return None,
    })
}

fn secrecy_label(key: &str) -> Option<Pair> {
    SecrecyConclusion::parse(key).map(SecrecyConclusion::label)
}

fn discrepancy_status_label(key: &str) -> Option<Pair> {
    Some(match key {
        "open" => ("待处理", "Open"),
        "corrected" => ("已更正", "Corrected"),
        "confirmed" => ("确认数源无误", "Confirmed"),
        "agreed" => ("数据已一致", "Now agrees"),
        "all" => ("全部", "All"),
        _ => return None,
    })
}

fn base_label(lang: Lang, key: &str) -> String {
    Base::parse(key).map_or_else(
        || key.to_string(),
        |b| pick(lang, (b.label_zh(), b.label_en())),
    )
}

/// A key and its label, for a `<select>`.
#[derive(Serialize)]
struct Choice {
    key: String,
    label: String,
}

fn choices(lang: Lang, keys: &[&str], label: fn(&str) -> Option<Pair>) -> Vec<Choice> {
    keys.iter()
        .map(|k| Choice {
            key: k.to_string(),
            label: label_of(lang, label(k), k),
        })
        .collect()
}

fn pct(v: Option<f64>) -> Option<String> {
    v.map(|x| format!("{:.1}%", x * 100.0))
}

/// One quality dimension as a table cell and a bar of the SVG chart.
#[derive(Serialize)]
struct Dim {
    key: &'static str,
    label: String,
    pct: Option<String>,
    /// Bar length in the chart (of 300).
    width: Option<u32>,
    color: &'static str,
}

fn bar_color(v: f64) -> &'static str {
    if v >= 0.9 {
        "#1e7b34"
    } else if v >= 0.6 {
        "#9a6700"
    } else {
        "#b3261e"
    }
}

/// GOV-1: the six dimensions of a score, with their 中文 labels.
fn dims(lang: Lang, q: &QualityScores) -> Vec<Dim> {
    q.dimensions()
        .into_iter()
        .map(|(key, v)| Dim {
            key,
            label: pick(lang, dimension_label(key)),
            pct: pct(v),
            width: v.map(|x| (x.clamp(0.0, 1.0) * 300.0).round() as u32),
            color: v.map_or("#bcccdc", bar_color),
        })
        .collect()
}

fn dim_headers(lang: Lang) -> Vec<String> {
    QualityScores::default()
        .dimensions()
        .iter()
        .map(|(key, _)| pick(lang, dimension_label(key)))
        .collect()
}

pub(super) fn message(lang: Lang, e: &ServiceError) -> String {
    if lang == Lang::En {
        e.message_en.clone()
    } else {
        e.message.clone()
    }
}

/// A load's error, stored as "中文 / English": the part in the page's language.
fn load_error(lang: Lang, load: &DatasetLoad) -> Option<String> {
    load.error.as_ref().map(|e| match e.split_once(" / ") {
        Some((zh, en)) => if lang == Lang::En { en } else { zh }.to_string(),
        None => e.clone(),
    })
}

async fn org_names(state: &AppState, web: &WebUser) -> BTreeMap<String, String> {
    orgs::list_orgs(&state.app, &web.ctx, &OrgFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect()
}

fn org_name(names: &BTreeMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

/// A catalog entry's code and name, for links.
#[derive(Serialize, Clone, Default)]
struct EntryRef {
    code: String,
    name: String,
}

async fn entries_by_id(
    state: &AppState,
    ids: impl IntoIterator<Item = String>,
) -> BTreeMap<String, EntryRef> {
    let mut out = BTreeMap::new();
    for id in ids.into_iter().collect::<BTreeSet<_>>() {
        if let Ok(Some(e)) = state.app.store.get_catalog_entry(&id).await {
            out.insert(
                id,
                EntryRef {
                    code: e.code,
                    name: e.name,
                },
            );
        }
    }
    out
}

fn code_of(entries: &BTreeMap<String, EntryRef>, id: &str) -> String {
    entries.get(id).map(|e| e.code.clone()).unwrap_or_default()
}

/// Who did something: a user's name for `user:<id>`, else the actor as recorded.
async fn actor_name(
    state: &AppState,
    lang: Lang,
    cache: &mut BTreeMap<String, String>,
    actor: &str,
) -> String {
    if let Some(n) = cache.get(actor) {
        return n.clone();
    }
    let name = match actor.strip_prefix("user:") {
        Some(id) => match state.app.store.get_user(id).await {
            Ok(Some(u)) => format!("{} ({})", u.display_name, u.username),
            _ => actor.to_string(),
        },
        None => match actor {
            "system" => pick(lang, ("系统", "System")),
            "cli" => pick(lang, ("命令行", "Command line")),
            other => other.to_string(),
        },
    };
    cache.insert(actor.to_string(), name.clone());
    name
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

// ---------------------------------------------------------------- /data

#[derive(Serialize)]
struct DatasetRow {
    resource_id: String,
    code: String,
    name: String,
    org: String,
    rows: i64,
    version: i64,
    has_data: bool,
    last_loaded_at: Option<DateTime<Utc>>,
    last_status: Option<String>,
    last_status_key: Option<String>,
    last_load_id: Option<String>,
    overall: Option<String>,
}

#[derive(Serialize)]
struct PendingRow {
    id: String,
    code: String,
    name: String,
    frequency: String,
}

/// Published entries the department delivers that have no data yet (CAT-6).
async fn pending_entries(
    state: &AppState,
    web: &WebUser,
    org_id: &str,
    mounted: &BTreeSet<&str>,
) -> Vec<PendingRow> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let filter = CatalogFilter {
            status: Some("published".into()),
            mounted: Some(false),
            limit: Some(1000),
            offset: Some(offset),
            ..CatalogFilter::default()
        };
        let page = catalog::list(&state.app, &web.ctx, filter)
            .await
            .unwrap_or_default();
        let n = page.len();
        for e in page {
            let Some(content) = &e.published else {
                continue;
            };
            if e.offline
                || datasets::providing_org(content) != org_id
                || mounted.contains(e.id.as_str())
            {
                continue;
            }
            out.push(PendingRow {
                id: e.id.clone(),
                code: e.code.clone(),
                name: e.name.clone(),
                frequency: content.update_frequency.key().to_string(),
            });
        }
        if n < 1000 || offset >= 50_000 {
            break;
        }
        offset += 1000;
    }
    out
}

/// COL-2, CAT-6: the mounted resources (a department's own, or all for global
/// quality readers) and the department's published entries still without data.
pub async fn overview(State(state): State<AppState>, web: WebUser) -> Response {
    let p = &web.ctx.principal;
    let global = p.holds_globally(Permission::DataQuality);
    let own = web.user.org_id.clone();
    let scope = (!global).then_some(own.as_str());
    let list = match datasets::list(&state.app, &web.ctx, scope).await {
        Ok(l) => l,
        Err(e) => return fail(&state, &web, e, "/"),
    };
    let overall: BTreeMap<String, Option<f64>> =
        match governance::quality_overview(&state.app, &web.ctx).await {
            Ok(q) => q
                .resources
                .into_iter()
                .map(|r| (r.resource_id, r.overall))
                .collect(),
            Err(_) => BTreeMap::new(),
        };
    let names = org_names(&state, &web).await;
    let entries = entries_by_id(&state, list.iter().map(|d| d.resource_id.clone())).await;
    let mut rows = Vec::new();
    for d in &list {
        let last = datasets::loads(&state.app, &web.ctx, &d.resource_id, 1)
            .await
            .ok()
            .and_then(|l| l.into_iter().next());
        let entry = entries.get(&d.resource_id).cloned().unwrap_or_default();
        rows.push(DatasetRow {
            resource_id: d.resource_id.clone(),
            code: entry.code,
            name: entry.name,
            org: org_name(&names, &d.org_id),
            rows: d.row_count,
            version: d.version,
            has_data: d.current_load_id.is_some(),
            last_loaded_at: d.last_loaded_at,
            last_status: last
                .as_ref()
                .map(|l| label_of(web.lang, load_status_label(&l.status), &l.status)),
            last_status_key: last.as_ref().map(|l| l.status.clone()),
            last_load_id: last.as_ref().map(|l| l.id.clone()),
            overall: pct(overall.get(&d.resource_id).copied().flatten()),
        });
    }
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    let may_load_own = p.authorize(Permission::DataLoad, Some(&own)).is_ok();
    let pending = if may_load_own {
        let mounted: BTreeSet<&str> = list.iter().map(|d| d.resource_id.as_str()).collect();
        pending_entries(&state, &web, &own, &mounted).await
    } else {
        Vec::new()
    };
    render_page(
        &state,
        "data_datasets.html",
        web.lang,
        Some(&web),
        context! {
            rows => rows, pending => pending, global => global, may_load_own => may_load_own,
            own_org => org_name(&names, &own),
            may_govern => p.authorize(Permission::DataGovern, None).is_ok(),
            may_bases => global,
        },
    )
    .into_response()
}

// ---------------------------------------------------------------- /data/{resource}

/// The upload form as typed, kept when it comes back with errors.
#[derive(Serialize, Clone)]
struct UploadForm {
    format: String,
    encoding: String,
    mode: String,
    filing_no: String,
    filing_note: String,
}

impl Default for UploadForm {
    fn default() -> Self {
        Self {
            format: "auto".into(),
            encoding: "auto".into(),
            mode: "replace".into(),
            filing_no: String::new(),
            filing_note: String::new(),
        }
    }
}

#[derive(Serialize)]
struct ColumnRow {
    name: String,
    title: String,
    field_type: String,
    max_length: Option<u32>,
    required: bool,
    key: bool,
    key_role: Option<String>,
    sensitive: bool,
}

fn column_rows(lang: Lang, schema: &TableSchema) -> Vec<ColumnRow> {
    use gongshu_domain::catalog::KeyRole;
    schema
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| ColumnRow {
            name: c.name.clone(),
            title: c.title.clone(),
            field_type: pick(lang, (c.field_type.label_zh(), c.field_type.label_en())),
            max_length: c.max_length,
            required: c.constraints.required || schema.key.contains(&i),
            key: schema.key.contains(&i),
            key_role: (c.key_role != KeyRole::None)
                .then(|| pick(lang, (c.key_role.label_zh(), c.key_role.label_en()))),
            sensitive: c.sensitive,
        })
        .collect()
}

#[derive(Serialize)]
struct LoadRow {
    id: String,
    version: i64,
    channel: String,
    mode: String,
    status: String,
    status_key: String,
    rows_read: i64,
    rows_accepted: i64,
    rows_rejected: i64,
    checksum: Option<String>,
    file_name: Option<String>,
    filing_no: Option<String>,
    by: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
    current: bool,
}

async fn load_rows(
    state: &AppState,
    lang: Lang,
    loads: &[DatasetLoad],
    current: Option<&str>,
) -> Vec<LoadRow> {
    let mut actors = BTreeMap::new();
    let mut out = Vec::new();
    for l in loads {
        out.push(LoadRow {
            id: l.id.clone(),
            version: l.version,
            channel: label_of(lang, channel_label(&l.channel), &l.channel),
            mode: label_of(lang, mode_label(&l.mode), &l.mode),
            status: label_of(lang, load_status_label(&l.status), &l.status),
            status_key: l.status.clone(),
            rows_read: l.rows_read,
            rows_accepted: l.rows_accepted,
            rows_rejected: l.rows_rejected,
            checksum: l.checksum.as_ref().map(|c| c.chars().take(12).collect()),
            file_name: l.file_name.clone(),
            filing_no: l.filing_no.clone(),
            by: actor_name(state, lang, &mut actors, &l.loaded_by).await,
            started_at: l.started_at,
            finished_at: l.finished_at,
            error: load_error(lang, l),
            current: current == Some(l.id.as_str()),
        });
    }
    out
}

/// Renders a resource's page; `errors` are keyed by the form field they concern
/// (`file`, `format`, `encoding`, `mode`, `filing_no`, `upload`, `policy`, `rollback`).
async fn render_resource(
    state: &AppState,
    web: &WebUser,
    resource: &str,
    form: UploadForm,
    errors: BTreeMap<String, String>,
    done: Option<String>,
    status: StatusCode,
) -> Response {
    let entry = match catalog::get(&state.app, &web.ctx, resource).await {
        Ok(e) => e,
        Err(e) => return fail(state, web, e, "/data"),
    };
    let view = match datasets::get(&state.app, &web.ctx, &entry.id).await {
        Ok(v) => Some(v),
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return fail(state, web, e, "/data"),
    };
    let content = entry.published.as_ref().or(entry.working.as_ref());
    let providing = content
        .map(|c| datasets::providing_org(c).to_string())
        .unwrap_or_else(|| entry.source_org_id.clone());
    let p = &web.ctx.principal;
    let may_load = p.authorize(Permission::DataLoad, Some(&providing)).is_ok();
    let mountable = entry.published.is_some() && !entry.offline;
    let dataset: Option<&Dataset> = view.as_ref().map(|v| &v.dataset);
    let schema = match (dataset, content) {
        (Some(d), _) => d.schema.clone(),
        (None, Some(c)) => TableSchema::from_items(&c.items),
        (None, None) => TableSchema {
            columns: Vec::new(),
            key: Vec::new(),
        },
    };
    let loads = match dataset {
        Some(_) => datasets::loads(&state.app, &web.ctx, &entry.id, HISTORY_LOADS)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let current_load = dataset.and_then(|d| d.current_load_id.clone());
    let loads = load_rows(state, web.lang, &loads, current_load.as_deref()).await;
    // The delivering department sees its first rows (the preview is audited).
    let preview: Option<Vec<(i64, i64, Vec<String>)>> =
        match (dataset.and_then(|d| d.current_table.as_ref()), may_load) {
            (Some(_), true) => {
                datasets::preview(&state.app, &web.ctx, &entry.id, None, PREVIEW_ROWS)
                    .await
                    .ok()
                    .map(|(_, rows)| {
                        rows.into_iter()
                            .map(|r| {
                                (
                                    r.load,
                                    r.row,
                                    r.values.iter().map(|v| v.to_text()).collect(),
                                )
                            })
                            .collect()
                    })
            }
            _ => None,
        };
    let names = org_names(state, web).await;
    let policy = dataset
        .map_or("quarantine", |d| d.policy.as_str())
        .to_string();
    let secrecy = secrecy_view(state, web.lang, dataset, content).await;
    let lang = web.lang;
    let page = render_page(
        state,
        "data_dataset.html",
        lang,
        Some(web),
        context! {
            entry => context! { id => entry.id.clone(), code => entry.code.clone(), name => entry.name.clone(),
                published => entry.published.is_some(), offline => entry.offline,
                published_version => entry.published_version },
            frequency => content.map(|c| c.update_frequency.key()),
            providing_org => org_name(&names, &providing),
            source_org => org_name(&names, &entry.source_org_id),
            dataset => dataset,
            has_data => current_load.is_some(),
            current_load => current_load,
            table_schema_link => format!("/api/v1/datasets/{}", urlencode(&entry.code)),
            export_link => format!("/api/v1/datasets/{}/export", urlencode(&entry.code)),
            columns => column_rows(lang, &schema),
            key_columns => schema.key_columns().join(", "),
            loads => loads,
            preview => preview,
            preview_limit => PREVIEW_ROWS,
            policy => policy.clone(),
            policy_label => label_of(lang, policy_label(&policy), &policy),
            policies => choices(lang, &["quarantine", "reject"], policy_label),
            secrecy => secrecy,
            secrecy_choices => choices(lang, &["cleared", "state_secret"], secrecy_label),
            modes => choices(lang, &["replace", "upsert"], mode_label),
            formats => ["auto", "csv", "xlsx", "json", "ndjson"],
            encodings => ["auto", "utf-8", "gbk", "gb18030"],
            form => form, errors => errors, done => done,
            may_load => may_load, mountable => mountable,
            may_rollback => may_load && dataset.is_some_and(|d| d.previous_load_id.is_some()),
        },
    );
    (status, page).into_response()
}

/// COL-6: the latest secrecy review of a resource as its page shows it, and
/// why loads are refused while it does not clear the entry's data items.
async fn secrecy_view(
    state: &AppState,
    lang: Lang,
    dataset: Option<&Dataset>,
    content: Option<&EntryContent>,
) -> minijinja::Value {
    let review = dataset.and_then(|d| d.secrecy_review.as_ref());
    let schema = content.map(|c| TableSchema::from_items(&c.items));
    let columns = schema.as_ref().map(|s| s.column_names().join(","));
    let blocked = schema
        .as_ref()
        .and_then(|s| datasets::secrecy_block(dataset, s))
        .map(|b| {
            if lang == Lang::En {
                b.message_en()
            } else {
                b.message_zh()
            }
        });
    let reviewer = match review {
        Some(r) => Some(actor_name(state, lang, &mut BTreeMap::new(), &r.reviewed_by).await),
        None => None,
    };
    context! {
        items => columns,
        reviewed => review.is_some(),
        conclusion => review.map(|r| pick(lang, r.conclusion.label())),
        note => review.map(|r| r.note.clone()),
        reviewer => reviewer,
        reviewed_at => review.map(|r| r.reviewed_at),
        blocked => blocked,
    }
}

pub async fn resource_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    render_resource(
        &state,
        &web,
        &resource,
        UploadForm::default(),
        BTreeMap::new(),
        q.done,
        StatusCode::OK,
    )
    .await
}

/// Shows a failed upload, policy change or rollback on the resource's page, next
/// to the field it concerns.
async fn resource_error(
    state: &AppState,
    web: &WebUser,
    resource: &str,
    form: UploadForm,
    e: ServiceError,
    default_key: &str,
) -> Response {
    let key = match e.field.as_deref() {
        Some("file_name") | Some("file") => "file",
        Some(f @ ("format" | "encoding" | "mode" | "filing_no" | "filing_note"))
            if default_key == "upload" =>
        {
            f
        }
        _ => default_key,
    };
    let mut errors = BTreeMap::new();
    errors.insert(key.to_string(), message(web.lang, &e));
    let status = status_of(e.kind);
    render_resource(state, web, resource, form, errors, None, status).await
}

fn spool_failed(e: std::io::Error) -> ServiceError {
    ServiceError::new(
        ErrorKind::Internal,
        "dataset.spool_failed",
        format!("暂存上传文件失败：{e}"),
        format!("spooling the upload failed: {e}"),
    )
}

fn upload_interrupted(detail: &str) -> ServiceError {
    ServiceError::invalid(
        "input.upload_interrupted",
        "file",
        format!("上传中断或无法读取：{detail}"),
        format!("the upload was interrupted or could not be read: {detail}"),
    )
}

/// COL-1: streams the file part to a new spool file chunk by chunk; never holds
/// the whole file in memory. Returns the file and its size.
async fn spool_field(
    state: &AppState,
    mut field: Field<'_>,
) -> Result<(SpooledFile, u64), ServiceError> {
    let dir = spool_dir(state);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(spool_failed)?;
    let path = dir.join(format!("upload-{}", uuid::Uuid::now_v7()));
    let spooled = SpooledFile(path.clone());
    let mut file = tokio::fs::File::create(&path).await.map_err(spool_failed)?;
    let mut written: u64 = 0;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                written += chunk.len() as u64;
                if written > MAX_UPLOAD_BYTES {
                    return Err(ServiceError::invalid(
                        "input.too_large",
                        "file",
                        "上传的文件过大",
                        "the file is too large",
                    ));
                }
                file.write_all(&chunk).await.map_err(spool_failed)?;
            }
            Ok(None) => break,
            Err(e) => return Err(upload_interrupted(&e.body_text())),
        }
    }
    file.flush().await.map_err(spool_failed)?;
    Ok((spooled, written))
}

/// A plain field of the upload form, at most `MAX_TEXT_FIELD` bytes.
async fn small_text(mut field: Field<'_>) -> Result<String, ServiceError> {
    let mut buf = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                buf.extend_from_slice(&chunk);
                if buf.len() > MAX_TEXT_FIELD {
                    return Err(upload_interrupted("字段过长 / a field is too long"));
                }
            }
            Ok(None) => break,
            Err(e) => return Err(upload_interrupted(&e.body_text())),
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// COL-1: the console's upload (multipart: `csrf` first, then the options and `file`).
/// The file goes to a spool file as it arrives, then is loaded as a new version.
pub async fn upload(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let mut csrf_seen = false;
    let mut form = UploadForm::default();
    let mut spooled: Option<(SpooledFile, u64)> = None;
    let mut file_name: Option<String> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let e = upload_interrupted(&e.body_text());
                return resource_error(&state, &web, &resource, form, e, "upload").await;
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            // Nothing is written to disk before the form's CSRF field has been checked.
            if !csrf_seen {
                return csrf_rejected();
            }
            file_name = field
                .file_name()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            match spool_field(&state, field).await {
                Ok(done) => spooled = Some(done),
                Err(e) => return resource_error(&state, &web, &resource, form, e, "upload").await,
            }
            continue;
        }
        let text = match small_text(field).await {
            Ok(t) => t,
            Err(e) => return resource_error(&state, &web, &resource, form, e, "upload").await,
        };
        match name.as_str() {
            "csrf" => {
                if !web.csrf_ok(&text) {
                    return csrf_rejected();
                }
                csrf_seen = true;
            }
            "format" => form.format = text,
            "encoding" => form.encoding = text,
            "mode" => form.mode = text,
            "filing_no" => form.filing_no = text,
            "filing_note" => form.filing_note = text,
            _ => {}
        }
    }
    if !csrf_seen {
        return csrf_rejected();
    }
    let Some((file, _)) = spooled.filter(|(_, size)| *size > 0) else {
        let e = ServiceError::invalid(
            "dataset.no_file",
            "file",
            "请选择要上传的文件",
            "choose a file to upload",
        );
        return resource_error(&state, &web, &resource, form, e, "upload").await;
    };
    let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    // XJ 22: a filing number (or a filing note) makes it an offline delivery, which
    // the service refuses without its filing number.
    let offline = given(&form.filing_no).is_some() || given(&form.filing_note).is_some();
    let query = UploadQuery {
        format: given(&form.format).filter(|f| f != "auto"),
        encoding: given(&form.encoding).filter(|e| e != "auto"),
        mode: given(&form.mode),
        file_name,
        filing_no: offline.then(|| form.filing_no.trim().to_string()),
        filing_note: given(&form.filing_note),
        idempotency_key: None,
        sm3: None,
    };
    let opts = match upload_options(&query) {
        Ok(o) => o,
        Err(e) => return resource_error(&state, &web, &resource, form, e, "upload").await,
    };
    let result = datasets::load_file(&state.app, &web.ctx, &resource, &file.0, opts).await;
    drop(file);
    match result {
        Ok(load) => Redirect::to(&format!(
            "/data/loads/{}?done=uploaded",
            urlencode(&load.id)
        ))
        .into_response(),
        Err(e) => resource_error(&state, &web, &resource, form, e, "upload").await,
    }
}

#[derive(Deserialize)]
pub struct PolicyForm {
    csrf: String,
    #[serde(default)]
    policy: String,
}

/// COL-3: whether a load with bad rows is refused whole or quarantines them.
pub async fn set_policy(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    WebForm(f): WebForm<PolicyForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    match datasets::set_policy(&state.app, &web.ctx, &resource, f.policy.trim()).await {
        Ok(d) => Redirect::to(&format!("/data/{}?done=policy", urlencode(&d.resource_id)))
            .into_response(),
        Err(e) => resource_error(&state, &web, &resource, UploadForm::default(), e, "policy").await,
    }
}

#[derive(Deserialize)]
pub struct SecrecyReviewForm {
    csrf: String,
    #[serde(default)]
    conclusion: String,
    #[serde(default)]
    note: String,
    /// The column names the page showed, comma-separated.
    #[serde(default)]
    items: String,
}

/// COL-6: the providing department records its secrecy review.
pub async fn record_secrecy_review(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    WebForm(f): WebForm<SecrecyReviewForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let items_seen: Vec<String> = f.items.split(',').map(str::to_string).collect();
    let review = datasets::SecrecyReviewInput {
        conclusion: &f.conclusion,
        note: &f.note,
        items_seen: Some(&items_seen),
    };
    match datasets::record_secrecy_review(&state.app, &web.ctx, &resource, review).await {
        Ok(d) => Redirect::to(&format!("/data/{}?done=secrecy", urlencode(&d.resource_id)))
            .into_response(),
        Err(e) => {
            resource_error(&state, &web, &resource, UploadForm::default(), e, "secrecy").await
        }
    }
}

#[derive(Deserialize)]
pub struct RollbackForm {
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// COL-2: puts the previous version back, once the user has confirmed it.
pub async fn rollback(
    State(state): State<AppState>,
    web: WebUser,
    Path(resource): Path<String>,
    WebForm(f): WebForm<RollbackForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    if f.confirm.as_deref().map(str::trim).unwrap_or("").is_empty() {
        let e = ServiceError::invalid(
            "dataset.rollback_unconfirmed",
            "confirm",
            "请勾选确认后再回退",
            "tick the confirmation to roll back",
        );
        return resource_error(
            &state,
            &web,
            &resource,
            UploadForm::default(),
            e,
            "rollback",
        )
        .await;
    }
    match datasets::rollback(&state.app, &web.ctx, &resource).await {
        Ok(d) => Redirect::to(&format!(
            "/data/{}?done=rolled_back",
            urlencode(&d.resource_id)
        ))
        .into_response(),
        Err(e) => {
            resource_error(
                &state,
                &web,
                &resource,
                UploadForm::default(),
                e,
                "rollback",
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- /data/loads/{id}

#[derive(Serialize)]
struct RejectLine {
    row: i64,
    column: String,
    code: String,
    message_zh: String,
    message_en: String,
    raw: String,
}

/// COL-3, GOV-1: one load — what arrived, what became of it, its quality and its
/// rejected rows with their reasons.
pub async fn load_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let load = match datasets::load(&state.app, &web.ctx, &id).await {
        Ok(l) => l,
        Err(e) => return fail(&state, &web, e, "/data"),
    };
    let entry = catalog::find_entry(&state.app, &load.resource_id)
        .await
        .ok()
        .flatten();
    let rejects = datasets::rejects(&state.app, &web.ctx, &load.id, 0, REJECTS_SHOWN)
        .await
        .unwrap_or_default();
    let reject_rows = rejects.len();
    let lines: Vec<RejectLine> = rejects
        .into_iter()
        .flat_map(|r| {
            let raw = r.raw.join(" | ");
            let row = r.row_number;
            r.errors.into_iter().map(move |e| RejectLine {
                row,
                column: e.column,
                code: e.code,
                message_zh: e.message_zh,
                message_en: e.message_en,
                raw: raw.clone(),
            })
        })
        .collect();
    let lang = web.lang;
    let quality = load.quality.unwrap_or_default();
    let current = datasets::get(&state.app, &web.ctx, &load.resource_id)
        .await
        .ok()
        .and_then(|v| v.dataset.current_load_id)
        .is_some_and(|c| c == load.id);
    let names = org_names(&state, &web).await;
    let mut actors = BTreeMap::new();
    let by = actor_name(&state, lang, &mut actors, &load.loaded_by).await;
    render_page(
        &state,
        "data_load.html",
        lang,
        Some(&web),
        context! {
            load => load.clone(),
            entry => entry.map(|e| context! { id => e.id, code => e.code, name => e.name }),
            org => org_name(&names, &load.org_id),
            status => label_of(lang, load_status_label(&load.status), &load.status),
            channel => label_of(lang, channel_label(&load.channel), &load.channel),
            mode => label_of(lang, mode_label(&load.mode), &load.mode),
            error => load_error(lang, &load),
            by => by, current => current,
            dims => dims(lang, &quality), overall => pct(quality.overall()),
            measured => quality.overall().is_some(),
            lines => lines, reject_rows => reject_rows, rejects_shown => REJECTS_SHOWN,
            done => q.done,
        },
    )
    .into_response()
}

// ---------------------------------------------------------------- /data/quality

#[derive(Serialize)]
struct QualityRow {
    org: String,
    org_id: String,
    resource_id: Option<String>,
    code: Option<String>,
    name: Option<String>,
    resources: Option<usize>,
    rows: Option<i64>,
    load_id: Option<String>,
    scores: Vec<Option<String>>,
    overall: Option<String>,
    width: Option<u32>,
    color: &'static str,
}

fn score_cells(q: &QualityScores) -> Vec<Option<String>> {
    q.dimensions().iter().map(|(_, v)| pct(*v)).collect()
}

#[derive(Serialize)]
struct StaleRow {
    resource_id: String,
    code: String,
    name: String,
    org: String,
    frequency: String,
    last_loaded_at: Option<DateTime<Utc>>,
    due: NaiveDate,
    workdays_overdue: i64,
}

#[derive(Deserialize)]
pub struct QualityHistoryPageQuery {
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    days: Option<u32>,
}

/// One day of the quality history page: its cells and its place in the chart.
#[derive(Serialize)]
struct HistoryRow {
    day: NaiveDate,
    rows: i64,
    resources: i64,
    scores: Vec<Option<String>>,
    overall: Option<String>,
    /// Where the day's overall score sits in the chart, if it was measured.
    x: Option<u32>,
    y: Option<u32>,
}

/// The chart's plot area (SVG units): x from the first day to today, y from 0% to 100%.
const HISTORY_CHART: (u32, u32, u32, u32) = (48, 620, 16, 176);

/// GOV-1, GOV-3: a resource's or a department's quality day by day, as a line of
/// its overall score and a table of its six dimensions.
pub async fn quality_history_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<QualityHistoryPageQuery>,
) -> Response {
    let subject = match governance::QualitySubject::named(q.resource, q.org) {
        Ok(subject) => subject,
        Err(e) => return fail(&state, &web, e, "/data/quality"),
    };
    let history = match governance::quality_history(
        &state.app,
        &web.ctx,
        subject,
        q.days,
        Utc::now(),
    )
    .await
    {
        Ok(h) => h,
        Err(e) => return fail(&state, &web, e, "/data/quality"),
    };
    let names = org_names(&state, &web).await;
    let title = if history.scope == gongshu_store::QualitySnapshot::RESOURCE {
        let e = entries_by_id(&state, [history.subject_id.clone()]).await;
        let e = e.get(&history.subject_id).cloned().unwrap_or_default();
        format!("{} {}", e.code, e.name)
    } else {
        org_name(&names, &history.subject_id)
    };
    let subject_param = if history.scope == gongshu_store::QualitySnapshot::RESOURCE {
        "resource"
    } else {
        "org"
    };
    let today = today_in_china(Utc::now());
    let span = (today - history.since).num_days().max(1) as f64;
    let (left, right, top, bottom) = HISTORY_CHART;
    let rows: Vec<HistoryRow> = history
        .points
        .iter()
        .map(|p| {
            let x = left as f64
                + (p.day - history.since).num_days() as f64 / span * (right - left) as f64;
            let y = p.overall.map(|o| {
                (bottom as f64 - o.clamp(0.0, 1.0) * (bottom - top) as f64).round() as u32
            });
            HistoryRow {
                day: p.day,
                rows: p.rows,
                resources: p.resources,
                scores: score_cells(&p.scores),
                overall: pct(p.overall),
                x: y.map(|_| x.round() as u32),
                y,
            }
        })
        .collect();
    let line: Vec<String> = rows
        .iter()
        .filter_map(|r| Some(format!("{},{}", r.x?, r.y?)))
        .collect();
    render_page(
        &state,
        "data_quality_history.html",
        web.lang,
        Some(&web),
        context! {
            headers => dim_headers(web.lang), title => title, history => history,
            org => org_name(&names, &history.org_id), rows => rows, line => line.join(" "),
            chart => context! { left => left, right => right, top => top, bottom => bottom,
                middle => (top + bottom) / 2 },
            today => today, days => (today - history.since).num_days() + 1,
            link => format!("/data/quality/history?{}={}", subject_param, urlencode(&history.subject_id)),
        },
    )
    .into_response()
}

/// GOV-1, GOV-3, COL-4: quality per department and per resource on six
/// dimensions, and the resources past their refresh day.
pub async fn quality_page(State(state): State<AppState>, web: WebUser) -> Response {
    let overview = match governance::quality_overview(&state.app, &web.ctx).await {
        Ok(o) => o,
        Err(e) => return fail(&state, &web, e, "/data"),
    };
    let today = today_in_china(Utc::now());
    let stale = match governance::stale(&state.app, &web.ctx, today).await {
        Ok(s) => s,
        Err(e) => return fail(&state, &web, e, "/data"),
    };
    let names = org_names(&state, &web).await;
    let entries = entries_by_id(
        &state,
        overview.resources.iter().map(|r| r.resource_id.clone()),
    )
    .await;
    let mut departments: Vec<QualityRow> = overview
        .departments
        .iter()
        .map(|d| QualityRow {
            org: org_name(&names, &d.org_id),
            org_id: d.org_id.clone(),
            resource_id: None,
            code: None,
            name: None,
            resources: Some(d.resources),
            rows: None,
            load_id: None,
            scores: score_cells(&d.scores),
            overall: pct(d.overall),
            width: d
                .overall
                .map(|x| (x.clamp(0.0, 1.0) * 300.0).round() as u32),
            color: d.overall.map_or("#bcccdc", bar_color),
        })
        .collect();
    departments.sort_by(|a, b| a.org.cmp(&b.org));
    let mut resources: Vec<QualityRow> = overview
        .resources
        .iter()
        .map(|r| {
            let e = entries.get(&r.resource_id).cloned().unwrap_or_default();
            QualityRow {
                org: org_name(&names, &r.org_id),
                org_id: r.org_id.clone(),
                resource_id: Some(r.resource_id.clone()),
                code: Some(e.code),
                name: Some(e.name),
                resources: None,
                rows: Some(r.rows),
                load_id: r.load_id.clone(),
                scores: score_cells(&r.scores),
                overall: pct(r.overall),
                width: None,
                color: "",
            }
        })
        .collect();
    resources.sort_by(|a, b| a.code.cmp(&b.code));
    let stale: Vec<StaleRow> = stale
        .into_iter()
        .map(|s| StaleRow {
            org: org_name(&names, &s.org_id),
            resource_id: s.resource_id,
            code: s.code,
            name: s.name,
            frequency: s.update_frequency,
            last_loaded_at: s.last_loaded_at,
            due: s.due,
            workdays_overdue: s.workdays_overdue,
        })
        .collect();
    render_page(
        &state,
        "data_quality.html",
        web.lang,
        Some(&web),
        context! {
            headers => dim_headers(web.lang), departments => departments,
            resources => resources, stale => stale, today => today,
        },
    )
    .into_response()
}

// ---------------------------------------------------------------- /data/bases

#[derive(Deserialize, Default)]
pub struct BasesQuery {
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    key: Option<String>,
}

#[derive(Serialize)]
struct AttributeRow {
    label: String,
    attribute: String,
    org: String,
    resource_id: String,
    code: String,
    column: String,
    built_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct ValueRow {
    org: String,
    code: String,
    resource_id: String,
    value: String,
    load_version: i64,
    load_id: Option<String>,
    loaded_at: Option<DateTime<Utc>>,
}

fn value_row(
    v: &governance::AttributeValue,
    names: &BTreeMap<String, String>,
    entries: &BTreeMap<String, EntryRef>,
) -> ValueRow {
    ValueRow {
        org: org_name(names, &v.org_id),
        code: code_of(entries, &v.resource_id),
        resource_id: v.resource_id.clone(),
        value: v.value.clone(),
        load_version: v.load_version,
        load_id: v.load_id.clone(),
        loaded_at: v.loaded_at,
    }
}

/// COL-9: a subject's attributes, each with its source value and the other copies.
fn subject_attributes(
    r: &governance::SubjectRecord,
    names: &BTreeMap<String, String>,
    entries: &BTreeMap<String, EntryRef>,
) -> Vec<minijinja::Value> {
    r.attributes
        .iter()
        .map(|a| {
            context! {
                label => a.label.clone(), source_org => org_name(names, &a.source_org_id),
                source => a.source.as_ref().map(|v| value_row(v, names, entries)),
                others => a.others.iter().map(|v| value_row(v, names, entries)).collect::<Vec<_>>(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct DiscrepancyRow {
    id: i64,
    base: String,
    subject: String,
    label: String,
    source_org: String,
    source_code: String,
    source_resource_id: String,
    source_value: String,
    other_org: String,
    other_code: String,
    other_resource_id: String,
    other_value: String,
    status: String,
    status_key: String,
    found_at: DateTime<Utc>,
    due: NaiveDate,
    overdue: bool,
    resolution: Option<String>,
    resolved_by: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    may_resolve: bool,
}

async fn discrepancy_rows(
    state: &AppState,
    web: &WebUser,
    items: &[Discrepancy],
    names: &BTreeMap<String, String>,
) -> Vec<DiscrepancyRow> {
    let lang = web.lang;
    let today = today_in_china(Utc::now());
    let ids: Vec<String> = items
        .iter()
        .flat_map(|d| [d.source_resource_id.clone(), d.other_resource_id.clone()])
        .collect();
    let entries = entries_by_id(state, ids).await;
    let mut actors = BTreeMap::new();
    let mut out = Vec::new();
    for d in items {
        let resolved_by = match &d.resolved_by {
            Some(a) => Some(actor_name(state, lang, &mut actors, a).await),
            None => None,
        };
        let open = d.status == "open";
        out.push(DiscrepancyRow {
            id: d.id,
            base: base_label(lang, &d.base),
            subject: d.subject_key.clone(),
            label: d.label.clone(),
            source_org: org_name(names, &d.source_org_id),
            source_code: code_of(&entries, &d.source_resource_id),
            source_resource_id: d.source_resource_id.clone(),
            source_value: d.source_value.clone(),
            other_org: org_name(names, &d.other_org_id),
            other_code: code_of(&entries, &d.other_resource_id),
            other_resource_id: d.other_resource_id.clone(),
            other_value: d.other_value.clone(),
            status: label_of(lang, discrepancy_status_label(&d.status), &d.status),
            status_key: d.status.clone(),
            found_at: d.found_at,
            due: d.due,
            overdue: open && (d.due < today || d.overdue_since.is_some()),
            resolution: d.resolution.clone(),
            resolved_by,
            resolved_at: d.resolved_at,
            may_resolve: open
                && web
                    .ctx
                    .principal
                    .authorize(Permission::DataLoad, Some(&d.source_org_id))
                    .is_ok(),
        });
    }
    out
}

/// What a POST to the bases page did, shown with the page.
#[derive(Default)]
struct BasesOutcome {
    report: Option<BuildReport>,
    cross: Option<CrossCheckReport>,
}

/// COL-9: each base's attributes with their one source, a subject's record, and
/// (for governors) the build and cross-check buttons.
async fn render_bases(
    state: &AppState,
    web: &WebUser,
    q: BasesQuery,
    outcome: BasesOutcome,
) -> Response {
    let lang = web.lang;
    let names = org_names(state, web).await;
    let mut bases = Vec::new();
    let mut all_attributes = Vec::new();
    for base in Base::ALL {
        let status = match governance::base_status(&state.app, &web.ctx, base).await {
            Ok(s) => s,
            Err(e) => return fail(state, web, e, "/data"),
        };
        all_attributes.push(status);
    }
    let ids: Vec<String> = all_attributes
        .iter()
        .flat_map(|s| s.attributes.iter().chain(&s.pending).chain(&s.dropped))
        .map(|x| x.resource_id.clone())
        .collect();
    let entries = entries_by_id(state, ids).await;
    let rows_of = |list: &[gongshu_store::BaseAttribute]| -> Vec<AttributeRow> {
        list.iter()
            .map(|a| AttributeRow {
                label: a.label.clone(),
                attribute: a.attribute.clone(),
                org: org_name(&names, &a.source_org_id),
                resource_id: a.resource_id.clone(),
                code: code_of(&entries, &a.resource_id),
                column: a.column_name.clone(),
                built_at: a.built_at,
            })
            .collect()
    };
    for status in &all_attributes {
        let base = status.base;
        let built = !status.attributes.is_empty();
        bases.push(context! {
            key => base.key(), label => pick(lang, (base.label_zh(), base.label_en())),
            subject => pick(lang, (base.subject_role().label_zh(), base.subject_role().label_en())),
            attributes => rows_of(&status.attributes),
            // Only a base built before can be out of date.
            pending => if built { rows_of(&status.pending) } else { Vec::new() },
            dropped => rows_of(&status.dropped),
            undetermined => status.undetermined.iter().map(|u| context! {
                label => u.label.clone(), attribute => u.attribute.clone(),
                orgs => u.org_ids.iter().map(|o| org_name(&names, o)).collect::<Vec<_>>().join("、"),
            }).collect::<Vec<_>>(),
        });
    }
    let report = outcome.report.map(|r| {
        context! {
            base => pick(lang, (r.base.label_zh(), r.base.label_en())),
            attributes => r.attributes.iter().map(|a| context! {
                label => a.label.clone(), org => org_name(&names, &a.source_org_id), code => code_of(&entries, &a.resource_id),
                resource_id => a.resource_id.clone(),
            }).collect::<Vec<_>>(),
            undetermined => r.undetermined.iter().map(|u| context! {
                label => u.label.clone(), attribute => u.attribute.clone(),
                orgs => u.org_ids.iter().map(|o| org_name(&names, o)).collect::<Vec<_>>().join("、"),
            }).collect::<Vec<_>>(),
            discrepancies_found => r.discrepancies_found,
        }
    });
    // A subject's record (audited by the service).
    let base_key = q
        .base
        .clone()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "population".into());
    let key = q.key.clone().unwrap_or_default().trim().to_string();
    let mut lookup_error = None;
    let mut status = StatusCode::OK;
    let mut record = None;
    if !key.is_empty() {
        let found = match governance::require_base(&base_key) {
            Ok(b) => governance::subject_record(&state.app, &web.ctx, b, &key).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(r) => {
                let ids: Vec<String> = r
                    .attributes
                    .iter()
                    .flat_map(|a| a.source.iter().chain(a.others.iter()))
                    .map(|v| v.resource_id.clone())
                    .collect();
                let rec_entries = entries_by_id(state, ids).await;
                let attributes = subject_attributes(&r, &names, &rec_entries);
                let open = discrepancy_rows(state, web, &r.open_discrepancies, &names).await;
                record = Some(context! {
                    base => pick(lang, (r.base.label_zh(), r.base.label_en())),
                    subject_key => r.subject_key.clone(), attributes => attributes, discrepancies => open,
                });
            }
            Err(e) => {
                status = status_of(e.kind);
                lookup_error = Some(message(lang, &e));
            }
        }
    }
    let cross = outcome.cross.map(|c| {
        context! {
            comparisons => c.comparisons, linked => c.linked, differing => c.differing,
            new_discrepancies => c.new_discrepancies, agreed => c.agreed,
        }
    });
    let page = render_page(
        state,
        "data_bases.html",
        lang,
        Some(web),
        context! {
            bases => bases, report => report, cross => cross, record => record,
            lookup => context! { base => base_key, key => key, error => lookup_error },
            base_choices => Base::ALL.iter().map(|b| Choice { key: b.key().into(), label: pick(lang, (b.label_zh(), b.label_en())) }).collect::<Vec<_>>(),
            may_govern => web.ctx.principal.authorize(Permission::DataGovern, None).is_ok(),
        },
    );
    (status, page).into_response()
}

pub async fn bases_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<BasesQuery>,
) -> Response {
    render_bases(&state, &web, q, BasesOutcome::default()).await
}

/// COL-9: builds (or rebuilds) a base database, then shows its report.
pub async fn build_base(
    State(state): State<AppState>,
    web: WebUser,
    Path(base): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let base = match governance::require_base(&base) {
        Ok(b) => b,
        Err(e) => return fail(&state, &web, e, "/data/bases"),
    };
    match governance::build_base(&state.app, &web.ctx, base).await {
        Ok(report) => {
            let outcome = BasesOutcome {
                report: Some(report),
                cross: None,
            };
            render_bases(&state, &web, BasesQuery::default(), outcome).await
        }
        Err(e) => fail(&state, &web, e, "/data/bases"),
    }
}

/// GOV-2: runs the cross-source check of every base attribute now.
pub async fn cross_check(
    State(state): State<AppState>,
    web: WebUser,
    WebForm(f): WebForm<CsrfForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    match governance::cross_check(&state.app, &web.ctx, None, None).await {
        Ok(report) => {
            let outcome = BasesOutcome {
                report: None,
                cross: Some(report),
            };
            render_bases(&state, &web, BasesQuery::default(), outcome).await
        }
        Err(e) => fail(&state, &web, e, "/data/bases"),
    }
}

// ---------------------------------------------------------------- /data/discrepancies

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct DiscrepancyQuery {
    /// `open` when absent; `all` for any.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    done: Option<String>,
}

fn discrepancy_link(q: &DiscrepancyQuery, page: i64) -> String {
    let mut parts = vec![format!(
        "status={}",
        urlencode(q.status.as_deref().unwrap_or("open"))
    )];
    if let Some(o) = q.org_id.as_deref().filter(|o| !o.is_empty()) {
        parts.push(format!("org_id={}", urlencode(o)));
    }
    parts.push(format!("page={page}"));
    format!("/data/discrepancies?{}", parts.join("&"))
}

/// A resolve form sent back with its error, its input kept.
struct ResolveAttempt {
    id: i64,
    outcome: String,
    note: String,
    errors: BTreeMap<String, String>,
}

async fn render_discrepancies(
    state: &AppState,
    web: &WebUser,
    q: DiscrepancyQuery,
    attempt: Option<ResolveAttempt>,
    status: StatusCode,
) -> Response {
    let lang = web.lang;
    let page = q.page.unwrap_or(1).max(1);
    let wanted = q
        .status
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "open".into());
    let filter = DiscrepancyFilter {
        source_org_id: q.org_id.clone().filter(|o| !o.is_empty()),
        status: (wanted != "all").then(|| wanted.clone()),
        subject_key: None,
        overdue_on: None,
        limit: Some(PAGE_SIZE),
        offset: Some((page - 1) * PAGE_SIZE),
    };
    let (items, total) = match governance::discrepancies(&state.app, &web.ctx, filter).await {
        Ok(found) => found,
        Err(e) => return fail(state, web, e, "/data"),
    };
    let names = org_names(state, web).await;
    let rows = discrepancy_rows(state, web, &items, &names).await;
    let may_govern = web
        .ctx
        .principal
        .authorize(Permission::DataGovern, None)
        .is_ok();
    let orgs: Vec<Choice> = if may_govern {
        names
            .iter()
            .map(|(id, name)| Choice {
                key: id.clone(),
                label: name.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let prev_page = (page > 1).then(|| discrepancy_link(&q, page - 1));
    let next_page = (page * PAGE_SIZE < total).then(|| discrepancy_link(&q, page + 1));
    let attempt = attempt.map(|a| {
        context! { id => a.id, outcome => a.outcome, note => a.note, errors => a.errors }
    });
    let view = render_page(
        state,
        "data_discrepancies.html",
        lang,
        Some(web),
        context! {
            rows => rows, total => total, page => page, prev_page => prev_page, next_page => next_page,
            status => wanted, org_id => q.org_id.clone().unwrap_or_default(), orgs => orgs,
            statuses => choices(lang, &["open", "corrected", "confirmed", "agreed", "all"], discrepancy_status_label),
            outcomes => choices(lang, &["corrected", "confirmed"], discrepancy_status_label),
            may_govern => may_govern, attempt => attempt, done => q.done.clone(),
            today => today_in_china(Utc::now()),
        },
    );
    (status, view).into_response()
}

/// GOV-2: discrepancies a department must act on (its own), or all for governors.
pub async fn discrepancies_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DiscrepancyQuery>,
) -> Response {
    render_discrepancies(&state, &web, q, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct ResolveForm {
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

/// GOV-2: the source department settles a discrepancy: corrected or confirmed.
pub async fn resolve(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<i64>,
    WebForm(f): WebForm<ResolveForm>,
) -> Response {
    if !web.csrf_ok(&f.csrf) {
        return csrf_rejected();
    }
    let input = governance::Resolution {
        outcome: f.outcome.clone(),
        note: f.note.clone(),
    };
    match governance::resolve(&state.app, &web.ctx, id, input).await {
        Ok(_) => Redirect::to("/data/discrepancies?status=open&done=resolved").into_response(),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let mut errors = BTreeMap::new();
            errors.insert(
                e.field.clone().unwrap_or_else(|| "note".into()),
                message(web.lang, &e),
            );
            let attempt = ResolveAttempt {
                id,
                outcome: f.outcome,
                note: f.note,
                errors,
            };
            render_discrepancies(
                &state,
                &web,
                DiscrepancyQuery::default(),
                Some(attempt),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => fail(&state, &web, e, "/data/discrepancies"),
    }
}
