//! COL-1 … COL-3, GOV-1: mounting data behind published catalog entries. Every
//! delivery — file upload, a front-end node's pushed batch, a pull, offline
//! delivery — becomes a load: a new version of the resource's typed table, written
//! beside the current one and switched to in one transaction with its audit
//! record, so a failed or interrupted load leaves the previous version whole.
//! Every delivered row is either loaded or kept as a rejected row with its reasons.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use gongshu_domain::audit::AuditDraft;
use gongshu_domain::catalog::{EntryContent, UpdateFrequency};
use gongshu_domain::dataset::{
    self, CellError, HeaderMismatch, LoadTally, QualityScores, RowValidator, TableSchema, Value,
};
use gongshu_domain::deadlines::DeadlineKind;
use gongshu_domain::permissions::Permission;
use gongshu_domain::secrecy::{secrecy_clearance, SecrecyBlock, SecrecyConclusion, SecrecyReview};
use gongshu_store::{
    CatalogEntry, Change, Dataset, DatasetLoad, LoadFilter, RejectedRow, RowWrite, StoreError,
    StoredRow,
};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};
use tokio::sync::mpsc;

use crate::catalog::{find_entry, today_in_china};
use crate::context::{new_id, summary, App, Ctx};
use crate::dataset_input::{
    read_file, InputError, InputFormat, InputOptions, RawRecord, RecordSink, TextEncoding,
};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// Rows handed from the reader to the writer at a time.
const BATCH_ROWS: usize = 20_000;
/// Rows one pushed batch may carry.
pub const MAX_PUSH_ROWS: usize = 10_000;

/// How a load treats the rows already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    /// The delivered rows become the whole dataset.
    Replace,
    /// Delivered rows replace rows with the same key; other rows stay.
    Upsert,
}

impl LoadMode {
    pub fn key(&self) -> &'static str {
        match self {
            LoadMode::Replace => "replace",
            LoadMode::Upsert => "upsert",
        }
    }
}

/// COL-1: how the data reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Upload,
    /// A department's front-end exchange node (前置机).
    Push,
    Pull,
    /// XJ 22: offline delivery, only with its filing.
    Offline,
    Cli,
    /// OPN-6: the rows of a release, produced by the platform from a source.
    Release,
}

impl Channel {
    pub fn key(&self) -> &'static str {
        match self {
            Channel::Upload => "upload",
            Channel::Push => "push",
            Channel::Pull => "pull",
            Channel::Offline => "offline",
            Channel::Cli => "cli",
            Channel::Release => "release",
        }
    }
}

/// Counters a caller can watch while a load runs (the CLI's progress bar).
#[derive(Debug, Default)]
pub struct LoadProgress {
    pub bytes_read: AtomicU64,
    pub rows_read: AtomicU64,
    pub rows_written: AtomicU64,
}

/// What to load and how.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub mode: LoadMode,
    pub channel: Channel,
    pub format: InputFormat,
    /// Declared encoding of a CSV; None detects it.
    pub encoding: Option<TextEncoding>,
    pub file_name: Option<String>,
    /// SM3 of the file when the caller computed it while receiving it.
    pub checksum: Option<String>,
    /// SM3 the sender declared for the file (64 hex digits): a file that hashes
    /// otherwise arrived damaged or incomplete, and its load fails.
    pub expected_sm3: Option<String>,
    pub idempotency_key: Option<String>,
    pub filing_no: Option<String>,
    pub filing_note: Option<String>,
    pub progress: Option<Arc<LoadProgress>>,
}

impl LoadOptions {
    pub fn new(channel: Channel, format: InputFormat) -> Self {
        Self {
            mode: LoadMode::Replace,
            channel,
            format,
            encoding: None,
            file_name: None,
            checksum: None,
            expected_sm3: None,
            idempotency_key: None,
            filing_no: None,
            filing_note: None,
            progress: None,
        }
    }
}

fn not_mountable(code: &str, zh: String, en: String) -> ServiceError {
    ServiceError::new(ErrorKind::Invalid, code, zh, en)
}

/// The entry and its published content, for a load.
async fn mountable_entry(app: &App, resource: &str) -> ServiceResult<(CatalogEntry, EntryContent)> {
    let (entry, content) = published_entry(app, resource).await?;
    if entry.offline {
        return Err(not_mountable(
            "dataset.entry_offline",
            format!("目录 {} 已下架，不能挂接数据", entry.code),
            format!(
                "catalog entry {} is offline, so no data can be mounted",
                entry.code
            ),
        ));
    }
    Ok((entry, content))
}

/// A published entry (online or offline) with its published content.
async fn published_entry(app: &App, resource: &str) -> ServiceResult<(CatalogEntry, EntryContent)> {
    let entry = find_entry(app, resource)
        .await?
        .ok_or_else(|| ServiceError::not_found("目录", "catalog entry", resource))?;
    // CAT-6: data is mounted behind a published entry, never behind a draft.
    let content = entry.published.clone().ok_or_else(|| {
        not_mountable(
            "dataset.entry_not_published",
            format!("目录 {} 尚未发布，不能挂接数据", entry.code),
            format!(
                "catalog entry {} is not published, so no data can be mounted",
                entry.code
            ),
        )
    })?;
    Ok((entry, content))
}

/// The department that delivers an entry's data: its providing department, else its source.
pub fn providing_org(content: &EntryContent) -> &str {
    content
        .providing_org_id
        .as_deref()
        .unwrap_or(&content.source_org_id)
}

/// The table of one load: by resource code and version, and the end of the load's
/// id, so two loads of one resource under way at once (a scheduled pull and an
/// upload) never share a table; the one that commits second is refused.
fn table_name(code: &str, version: i64, load_id: &str) -> String {
    let safe: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let hex: Vec<char> = load_id.chars().filter(char::is_ascii_hexdigit).collect();
    let tail: String = hex[hex.len().saturating_sub(8)..]
        .iter()
        .map(char::to_ascii_lowercase)
        .collect();
    format!("ds_{safe}_v{version}_{tail}")
}

/// A problem with the delivered data as a whole, kept on the load.
struct LoadFailure {
    code: String,
    zh: String,
    en: String,
}

impl LoadFailure {
    fn new(code: &str, zh: String, en: String) -> Self {
        Self {
            code: code.to_string(),
            zh,
            en,
        }
    }

    fn from_input(e: &InputError) -> Self {
        Self::new(e.code(), e.message_zh(), e.message_en())
    }

    fn from_headers(m: &HeaderMismatch) -> Self {
        Self::new(
            "dataset.header_mismatch",
            format!("表头与目录信息项不符：{}", m.message_zh()),
            format!(
                "the headings do not fit the catalog's data items: {}",
                m.message_en()
            ),
        )
    }

    fn from_store(e: &StoreError) -> Self {
        Self::new(
            "dataset.store_failed",
            format!("写入数据失败：{e}"),
            format!("writing the data failed: {e}"),
        )
    }
}

/// Rows checked by the reader, on their way to the writer.
#[derive(Default)]
struct Staged {
    accepted: Vec<(i64, Vec<Value>)>,
    /// Raw cells of the accepted rows, kept until the writer knows none is a duplicate.
    accepted_raw: Vec<Vec<String>>,
    rejected: Vec<RejectedRow>,
    /// By schema position, the columns the delivery carries: an upsert leaves the
    /// others as they are.
    delivered: Vec<bool>,
}

impl Staged {
    fn len(&self) -> usize {
        self.accepted.len() + self.rejected.len()
    }
}

/// COL-3: maps delivered columns to the schema and checks every record.
struct Checker {
    load_id: String,
    validator: RowValidator,
    mapping: Option<Vec<Option<usize>>>,
    header_problem: Option<HeaderMismatch>,
    tally: LoadTally,
    staged: Staged,
    /// Upserts find repeated keys when writing, and must then still have the row as delivered.
    keep_raw: bool,
    /// An upsert replaces only the columns its file carries: completeness counts those.
    upsert: bool,
}

impl Checker {
    fn new(load_id: &str, schema: TableSchema, upsert: bool) -> Result<Self, LoadFailure> {
        let validator = RowValidator::new(schema).map_err(|e| {
            LoadFailure::new(
                "dataset.schema_invalid",
                format!("目录的格式规则无法使用：{e}"),
                format!("the catalog's patterns cannot be used: {e}"),
            )
        })?;
        Ok(Self {
            load_id: load_id.to_string(),
            validator,
            mapping: None,
            header_problem: None,
            tally: LoadTally::default(),
            staged: Staged::default(),
            keep_raw: upsert,
            upsert,
        })
    }

    fn headers(&mut self, headers: &[String]) -> Result<(), String> {
        match self.validator.schema.map_headers(headers) {
            Ok(m) => {
                self.mapping = Some(m);
                Ok(())
            }
            Err(problem) => {
                let msg = problem.message_en();
                self.header_problem = Some(problem);
                Err(msg)
            }
        }
    }

    fn reject(&mut self, row: u64, raw: Vec<String>, errors: Vec<CellError>) {
        self.tally.rows_invalid += 1;
        self.staged.rejected.push(RejectedRow {
            load_id: self.load_id.clone(),
            row_number: row as i64,
            raw,
            errors,
        });
    }

    fn record(&mut self, record: RawRecord) {
        self.tally.rows_read += 1;
        let columns = self.validator.schema.columns.len();
        match record {
            RawRecord::Bad {
                row,
                raw,
                code,
                message_zh,
                message_en,
            } => {
                self.tally.cells_expected += columns as u64;
                let error = CellError {
                    column: String::new(),
                    code: code.to_string(),
                    message_zh,
                    message_en,
                };
                self.reject(row, vec![raw], vec![error]);
            }
            RawRecord::Fields { row, fields } => {
                let borrowed: Vec<&str> = fields.iter().map(String::as_str).collect();
                let verdict = self.check_fields(row, &borrowed);
                self.keep_raw_row(row, verdict, || fields);
            }
        }
    }

    /// A well-formed record whose fields are borrowed from the reader.
    fn fields(&mut self, row: u64, fields: &[&str]) {
        self.tally.rows_read += 1;
        let verdict = self.check_fields(row, fields);
        self.keep_raw_row(row, verdict, || {
            fields.iter().map(|f| f.to_string()).collect()
        });
    }

    /// Checks a row and stages its values; returns the errors of a row to reject.
    fn check_fields(&mut self, row: u64, fields: &[&str]) -> Result<(), Vec<CellError>> {
        let columns = self.validator.schema.columns.len();
        let mapping = self.mapping.as_ref().expect("headers come first");
        let cells: Vec<&str> = mapping
            .iter()
            .map(|m| m.and_then(|i| fields.get(i).copied()).unwrap_or(""))
            .collect();
        if self.upsert {
            // GOV-1: the items an upsert's file leaves out keep their stored values.
            let delivered: Vec<&str> = mapping
                .iter()
                .zip(&cells)
                .filter(|(m, _)| m.is_some())
                .map(|(_, c)| *c)
                .collect();
            self.tally.count_cells(&delivered, delivered.len());
        } else {
            self.tally.count_cells(&cells, columns);
        }
        let values = self.validator.check(&cells)?;
        let (checked, broken) = self.validator.consistency(&values);
        self.tally.consistency_checked += u64::from(checked);
        self.tally.consistency_broken += u64::from(broken);
        self.staged.accepted.push((row as i64, values));
        Ok(())
    }

    /// Keeps the row as delivered where it is needed: a rejected row always, an
    /// accepted one for an upsert. `raw` is only called then.
    fn keep_raw_row(
        &mut self,
        row: u64,
        verdict: Result<(), Vec<CellError>>,
        raw: impl FnOnce() -> Vec<String>,
    ) {
        match verdict {
            Ok(()) if self.keep_raw => self.staged.accepted_raw.push(raw()),
            Ok(()) => {}
            Err(errors) => self.reject(row, raw(), errors),
        }
    }

    fn take(&mut self) -> Staged {
        let mut staged = std::mem::take(&mut self.staged);
        // The mapping is by schema position: the delivered column each one reads.
        staged.delivered = match &self.mapping {
            Some(mapping) => mapping.iter().map(Option::is_some).collect(),
            None => vec![true; self.validator.schema.columns.len()],
        };
        staged
    }
}

/// The reader side of a file load: checks records and hands batches to the writer.
struct FileSink {
    checker: Checker,
    tx: mpsc::Sender<Staged>,
    progress: Option<Arc<LoadProgress>>,
}

impl FileSink {
    /// Counts a checked record and hands a full batch to the writer.
    fn counted(&mut self) -> Result<(), String> {
        if let Some(p) = &self.progress {
            p.rows_read.fetch_add(1, Ordering::Relaxed);
        }
        if self.checker.staged.len() >= BATCH_ROWS {
            self.tx
                .blocking_send(self.checker.take())
                .map_err(|_| "the writer stopped".to_string())?;
        }
        Ok(())
    }
}

impl RecordSink for FileSink {
    fn headers(&mut self, headers: &[String]) -> Result<(), String> {
        self.checker.headers(headers)
    }

    fn record(&mut self, record: RawRecord) -> Result<(), String> {
        self.checker.record(record);
        self.counted()
    }

    fn fields(&mut self, row: u64, fields: &[&str]) -> Result<(), String> {
        self.checker.fields(row, fields);
        self.counted()
    }

    fn progress(&mut self, bytes_read: u64) {
        if let Some(p) = &self.progress {
            p.bytes_read.store(bytes_read, Ordering::Relaxed);
        }
    }
}

/// What the writer side did with the batches.
#[derive(Default)]
struct Written {
    accepted: u64,
    duplicates: u64,
}

/// Writes batches into the new table; duplicates of a key within the load become
/// rejected rows too.
async fn write_batch(
    app: &App,
    p: &Prepared,
    staged: Staged,
    written: &mut Written,
) -> Result<(), StoreError> {
    let (table, schema, load_id) = (&p.load.table_name, &p.schema, &p.load.id);
    let (version, upsert) = (p.load.version, p.load.mode == "upsert");
    let plane = &app.data;
    let mut rejected = staged.rejected;
    if !staged.accepted.is_empty() {
        let offered: Vec<i64> = if upsert {
            staged.accepted.iter().map(|(row, _)| *row).collect()
        } else {
            Vec::new()
        };
        let how = if upsert {
            RowWrite::Upsert {
                delivered: &staged.delivered,
            }
        } else {
            RowWrite::Append
        };
        let stored = plane
            .write_rows(table, schema, version, staged.accepted, how)
            .await?;
        written.accepted += stored.len() as u64;
        if upsert && stored.len() < offered.len() {
            let stored: std::collections::HashSet<i64> = stored.into_iter().collect();
            for (row, raw) in offered.iter().zip(staged.accepted_raw) {
                if !stored.contains(row) {
                    written.duplicates += 1;
                    rejected.push(RejectedRow {
                        load_id: load_id.to_string(),
                        row_number: *row,
                        raw,
                        errors: vec![CellError::duplicate_key(schema)],
                    });
                }
            }
        }
    }
    if !rejected.is_empty() {
        rejected.sort_by_key(|r| r.row_number);
        plane.insert_rejects(&rejected).await?;
    }
    Ok(())
}

/// A load under way: the dataset it extends and the table it writes.
struct Prepared {
    entry: CatalogEntry,
    content: EntryContent,
    previous: Option<Dataset>,
    schema: TableSchema,
    load: DatasetLoad,
    policy: String,
}

/// Checks who may load, refuses a key already used, and records the load as running.
async fn prepare(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    opts: &LoadOptions,
) -> ServiceResult<Result<Prepared, DatasetLoad>> {
    let (entry, content) = mountable_entry(app, resource).await?;
    let org = providing_org(&content).to_string();
    ctx.principal.authorize(Permission::DataLoad, Some(&org))?;
    if opts.channel == Channel::Offline
        && opts
            .filing_no
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .is_empty()
    {
        return Err(ServiceError::invalid(
            "dataset.offline_filing_required",
            "filing_no",
            "线下交付须填写备案编号（XJ 22）",
            "offline delivery needs its filing number (XJ 22)",
        ));
    }
    if let Some(key) = &opts.idempotency_key {
        if key.trim().is_empty() || key.len() > 128 {
            return Err(ServiceError::invalid(
                "dataset.idempotency_key_invalid",
                "idempotency_key",
                "幂等键须为 1 至 128 个字符",
                "the idempotency key must be 1 to 128 characters",
            ));
        }
        if let Some(first) = app.data.find_load_by_key(&entry.id, key).await? {
            if let Some(done) = settled_attempt(app, first).await? {
                return Ok(Err(done));
            }
        }
    }
    let previous = app.data.get_dataset(&entry.id).await?;
    let schema = TableSchema::from_items(&content.items);
    // A release's rows are derived from data already aggregated, and reviewed then.
    if opts.channel != Channel::Release {
        secrecy_cleared(previous.as_ref(), &schema)?;
    }
    if opts.mode == LoadMode::Upsert {
        if schema.key.is_empty() {
            return Err(ServiceError::invalid(
                "dataset.upsert_needs_key",
                "mode",
                "该资源没有主键信息项，只能整体替换",
                "the resource has no key item, so loads can only replace it",
            ));
        }
        if let Some(p) = &previous {
            if p.schema.layout() != schema.layout() && p.current_table.is_some() {
                return Err(ServiceError::invalid(
                    "dataset.upsert_after_schema_change",
                    "mode",
                    "目录信息项已变更，须先整体替换一次",
                    "the catalog's data items changed: replace the data once first",
                ));
            }
        }
    }
    let version = previous.as_ref().map_or(0, |d| d.version) + 1;
    let policy = previous
        .as_ref()
        .map_or_else(|| "quarantine".to_string(), |d| d.policy.clone());
    let load_id = new_id();
    let load = DatasetLoad {
        id: load_id.clone(),
        resource_id: entry.id.clone(),
        org_id: org,
        version,
        mode: opts.mode.key().into(),
        channel: opts.channel.key().into(),
        status: "running".into(),
        table_name: table_name(&entry.code, version, &load_id),
        file_name: opts.file_name.clone(),
        format: Some(opts.format.code().into()),
        encoding: opts.encoding.map(|e| e.code().into()),
        bytes: 0,
        checksum: opts.checksum.clone(),
        idempotency_key: opts.idempotency_key.clone(),
        filing_no: opts.filing_no.clone(),
        filing_note: opts.filing_note.clone(),
        rows_read: 0,
        rows_accepted: 0,
        rows_rejected: 0,
        tally: None,
        quality: None,
        error_code: None,
        error: None,
        loaded_by: ctx.principal.actor.clone(),
        started_at: Utc::now(),
        finished_at: None,
    };
    match app
        .store
        .commit(vec![Change::PutLoad(load.clone())], vec![])
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) if opts.idempotency_key.is_some() => {
            // A retry raced the first attempt: answer with the first attempt.
            let key = opts.idempotency_key.as_deref().unwrap_or_default();
            if let Some(first) = app.data.find_load_by_key(&entry.id, key).await? {
                if let Some(done) = settled_attempt(app, first).await? {
                    return Ok(Err(done));
                }
            }
            return Err(ServiceError::conflict(
                "dataset.batch_in_progress",
                "同一幂等键的批次正在载入，请稍后重试",
                "a batch with this idempotency key is being loaded: try again later",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Ok(Prepared {
        entry,
        content,
        previous,
        schema,
        load,
        policy,
    }))
}

/// COL-1: what an earlier attempt with the same idempotency key means for a retry.
/// Applied or refused for its rows, it is the answer (`Some`), so the batch is never
/// applied twice. Still running, the retry must wait. Failed or interrupted, nothing
/// of it was applied: its key is released (the record stays, saying so) and the
/// retry loads the batch (`None`).
async fn settled_attempt(app: &App, first: DatasetLoad) -> ServiceResult<Option<DatasetLoad>> {
    match first.status.as_str() {
        "running" => Err(ServiceError::conflict(
            "dataset.batch_in_progress",
            "同一幂等键的批次正在载入，请稍后重试",
            "a batch with this idempotency key is being loaded: try again later",
        )),
        "failed" | "interrupted" => {
            let mut released = first;
            released.idempotency_key = None;
            let note = "以同一幂等键重试 / retried with the same idempotency key";
            released.error = Some(match released.error.take() {
                Some(e) => format!("{e}（{note}）"),
                None => note.to_string(),
            });
            match app
                .store
                .commit(vec![Change::PutLoad(released)], vec![])
                .await
            {
                // A second retry released it first: the unique key decides below.
                Ok(_) | Err(StoreError::Conflict(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        _ => Ok(Some(first)),
    }
}

/// After a replace's rows are written: a row repeating the key of an earlier row of
/// the load is moved to the rejected rows (as stored, in canonical text), then the
/// table's indexes are built, the cross-check's among them (GOV-2).
async fn complete_table(app: &App, p: &Prepared, written: &mut Written) -> Result<(), StoreError> {
    let compared =
        crate::governance::compared_columns(app, &p.load.org_id, &p.entry.id, &p.schema).await?;
    let removed = app
        .data
        .finish_table(&p.load.table_name, &p.schema, &compared)
        .await?;
    if removed.is_empty() {
        return Ok(());
    }
    let rejected: Vec<RejectedRow> = removed
        .into_iter()
        .map(|r| RejectedRow {
            load_id: p.load.id.clone(),
            row_number: r.row,
            raw: r.values.iter().map(Value::to_text).collect(),
            errors: vec![CellError::duplicate_key(&p.schema)],
        })
        .collect();
    written.duplicates += rejected.len() as u64;
    written.accepted -= rejected.len() as u64;
    app.data.insert_rejects(&rejected).await
}

/// GOV-2: the new version's indexes for the cross-check that follows the load, built
/// before the version is served, so that the load bears their cost. A replace has
/// them from `complete_table` already; an upsert's table gets them here.
async fn index_compared_columns(app: &App, p: &Prepared) -> Result<(), StoreError> {
    let pairs =
        crate::governance::compared_columns(app, &p.load.org_id, &p.entry.id, &p.schema).await?;
    for (key_column, column) in pairs {
        app.data
            .index_for_comparison(&p.load.table_name, &key_column, &column)
            .await?;
    }
    Ok(())
}

/// Creates the new version's table, seeded with the current rows for an upsert.
async fn create_version_table(app: &App, p: &Prepared) -> Result<(), StoreError> {
    // A replace writes into a bare table and indexes it at the end (finish_table);
    // an upsert needs the key index to meet the rows it replaces.
    let upsert = p.load.mode == "upsert";
    app.data
        .create_table(&p.load.table_name, &p.schema, upsert)
        .await?;
    if upsert {
        if let Some(current) = p.previous.as_ref().and_then(|d| d.current_table.as_deref()) {
            app.data
                .copy_rows(current, &p.load.table_name, &p.schema)
                .await?;
        }
    }
    Ok(())
}

/// Loads a delivered file (CSV, XLSX, JSON, NDJSON) as a new version of the resource.
/// The file is read as a stream; nothing of it is held in memory as a whole.
pub async fn load_file(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    path: &Path,
    opts: LoadOptions,
) -> ServiceResult<DatasetLoad> {
    let p = match prepare(app, ctx, resource, &opts).await? {
        Ok(p) => p,
        Err(done) => return Ok(done),
    };
    if let Err(e) = create_version_table(app, &p).await {
        return finish(app, ctx, p, Outcome::failed(LoadFailure::from_store(&e))).await;
    }
    let checker = match Checker::new(&p.load.id, p.schema.clone(), p.load.mode == "upsert") {
        Ok(c) => c,
        Err(f) => return finish(app, ctx, p, Outcome::failed(f)).await,
    };
    let (tx, mut rx) = mpsc::channel::<Staged>(4);
    let mut options = InputOptions::new(opts.format);
    options.encoding = opts.encoding;
    options.columns = p.schema.columns.iter().map(|c| c.name.clone()).collect();
    let path: PathBuf = path.to_path_buf();
    let want_checksum = opts.checksum.is_none();
    let progress = opts.progress.clone();
    let reader = tokio::task::spawn_blocking(move || {
        // The checksum reads the file a second time on its own thread, beside the decoder.
        let hashing = want_checksum.then(|| {
            let path = path.clone();
            std::thread::spawn(move || sm3_file(&path).ok())
        });
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut sink = FileSink {
            checker,
            tx,
            progress,
        };
        let result = read_file(&path, &options, &mut sink);
        let last = sink.checker.take();
        if last.len() > 0 {
            let _ = sink.tx.blocking_send(last);
        }
        let checksum = hashing.and_then(|h| h.join().ok().flatten());
        (result, sink.checker, checksum, bytes)
    });
    let mut written = Written::default();
    let mut store_failure = None;
    while let Some(batch) = rx.recv().await {
        if store_failure.is_some() {
            continue;
        }
        if let Err(e) = write_batch(app, &p, batch, &mut written).await {
            store_failure = Some(LoadFailure::from_store(&e));
        }
        if let Some(pr) = &opts.progress {
            pr.rows_written.store(written.accepted, Ordering::Relaxed);
        }
    }
    let (result, checker, checksum, bytes) = reader.await.map_err(|e| {
        ServiceError::new(
            ErrorKind::Internal,
            "dataset.reader_failed",
            format!("读取文件的任务异常结束：{e}"),
            format!("the file reader stopped abnormally: {e}"),
        )
    })?;
    let mut outcome = Outcome {
        tally: checker.tally.clone(),
        written,
        failure: store_failure,
        format: None,
        encoding: None,
        checksum: checksum.or(opts.checksum.clone()),
        bytes: bytes as i64,
    };
    if let Some(expected) = &opts.expected_sm3 {
        let computed = outcome.checksum.as_deref().unwrap_or("");
        if !computed.eq_ignore_ascii_case(expected.trim()) {
            // A damaged file's rows prove nothing: this outweighs what they showed.
            outcome.failure = Some(LoadFailure::new(
                "dataset.checksum_mismatch",
                format!("文件的 SM3 校验值 {computed} 与发送方声明的 {expected} 不符，文件在传输中损坏或不完整；本次数据未生效，请重新发送"),
                format!("the file's SM3 {computed} is not the declared {expected}: it was damaged or cut short on the way; nothing was applied, send it again"),
            ));
        }
    }
    match result {
        Ok(summary) => {
            outcome.format = Some(summary.format.code().to_string());
            outcome.encoding = summary.encoding.map(|e| e.code().to_string());
        }
        Err(e) => {
            if outcome.failure.is_none() {
                outcome.failure = Some(match &checker.header_problem {
                    Some(m) => LoadFailure::from_headers(m),
                    None => LoadFailure::from_input(&e),
                });
            }
        }
    }
    finish(app, ctx, p, outcome).await
}

/// COL-1: a batch pushed by a department's front-end exchange node. A batch whose
/// idempotency key was seen before is not applied again; its first outcome is returned.
pub async fn push_batch(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    batch: PushBatch,
) -> ServiceResult<(DatasetLoad, bool)> {
    if batch.rows.len() > MAX_PUSH_ROWS {
        return Err(ServiceError::invalid(
            "dataset.batch_too_large",
            "rows",
            format!("一批最多 {MAX_PUSH_ROWS} 行，请分批推送"),
            format!("a batch holds at most {MAX_PUSH_ROWS} rows: push in several batches"),
        ));
    }
    let mut opts = LoadOptions::new(Channel::Push, InputFormat::Json);
    opts.mode = batch.mode;
    opts.idempotency_key = Some(batch.idempotency_key.clone());
    let body = serde_json::to_vec(&(&batch.columns, &batch.rows)).unwrap_or_default();
    opts.checksum = Some(hex::encode(Sm3::digest(&body)));
    let p = match prepare(app, ctx, resource, &opts).await? {
        Ok(p) => p,
        Err(done) => return Ok((done, true)),
    };
    if let Err(e) = create_version_table(app, &p).await {
        return finish(app, ctx, p, Outcome::failed(LoadFailure::from_store(&e)))
            .await
            .map(|l| (l, false));
    }
    let mut checker = match Checker::new(&p.load.id, p.schema.clone(), p.load.mode == "upsert") {
        Ok(c) => c,
        Err(f) => {
            return finish(app, ctx, p, Outcome::failed(f))
                .await
                .map(|l| (l, false))
        }
    };
    let mut outcome = Outcome {
        bytes: body.len() as i64,
        checksum: opts.checksum.clone(),
        format: Some("json".into()),
        ..Outcome::default()
    };
    if checker.headers(&batch.columns).is_err() {
        let problem = checker.header_problem.take().expect("set on error");
        outcome.failure = Some(LoadFailure::from_headers(&problem));
    } else {
        for (i, fields) in batch.rows.into_iter().enumerate() {
            // Row numbers of a pushed batch count from 1, like the rows of a sheet.
            let row = i as u64 + 1;
            if fields.len() != batch.columns.len() {
                let raw = fields.join(",");
                checker.record(RawRecord::Bad {
                    row,
                    raw,
                    code: "input.ragged_row",
                    message_zh: format!(
                        "第 {row} 行有 {} 个值，列名有 {} 个",
                        fields.len(),
                        batch.columns.len()
                    ),
                    message_en: format!(
                        "row {row} has {} values for {} columns",
                        fields.len(),
                        batch.columns.len()
                    ),
                });
            } else {
                checker.record(RawRecord::Fields { row, fields });
            }
        }
        let staged = checker.take();
        if let Err(e) = write_batch(app, &p, staged, &mut outcome.written).await {
            outcome.failure = Some(LoadFailure::from_store(&e));
        }
    }
    outcome.tally = checker.tally.clone();
    finish(app, ctx, p, outcome).await.map(|l| (l, false))
}

/// COL-1: a batch from a front-end exchange node.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PushBatch {
    /// Unique per batch: a retried batch with the same key is not applied twice.
    pub idempotency_key: String,
    #[serde(default = "default_push_mode")]
    pub mode: LoadMode,
    /// Column names (item code names or names).
    pub columns: Vec<String>,
    /// Values as text, in column order.
    pub rows: Vec<Vec<String>>,
}

fn default_push_mode() -> LoadMode {
    LoadMode::Upsert
}

/// How a load ended, before it is recorded.
#[derive(Default)]
struct Outcome {
    tally: LoadTally,
    written: Written,
    failure: Option<LoadFailure>,
    format: Option<String>,
    encoding: Option<String>,
    checksum: Option<String>,
    bytes: i64,
}

impl Outcome {
    fn failed(f: LoadFailure) -> Self {
        Self {
            failure: Some(f),
            ..Self::default()
        }
    }
}

fn sm3_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sm3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// GOV-1 timeliness of a load arriving now, after the previous one.
fn timeliness(app: &App, frequency: UpdateFrequency, previous: Option<&Dataset>) -> Option<f64> {
    let Some(last) = previous.and_then(|d| d.last_loaded_at) else {
        return Some(1.0);
    };
    let today = today_in_china(Utc::now());
    let grace = app.deadlines.days(DeadlineKind::DataFreshness);
    let due =
        dataset::refresh_due(frequency, today_in_china(last), grace, &app.calendar).ok()??;
    let late = app.calendar.workdays_between(due, today).ok()?;
    Some(dataset::timeliness_score(late))
}

/// Records the load's outcome: on success the new version becomes current in the
/// same transaction as the load record, the CAT-6 mount flag and the audit record.
async fn finish(app: &App, ctx: &Ctx, p: Prepared, o: Outcome) -> ServiceResult<DatasetLoad> {
    let mut o = o;
    if o.failure.is_none() && p.load.mode == "replace" {
        if let Err(e) = complete_table(app, &p, &mut o.written).await {
            o.failure = Some(LoadFailure::from_store(&e));
        }
    }
    if o.failure.is_none() && p.load.mode != "replace" {
        if let Err(e) = index_compared_columns(app, &p).await {
            o.failure = Some(LoadFailure::from_store(&e));
        }
    }
    let mut tally = o.tally;
    tally.rows_duplicate = o.written.duplicates;
    tally.rows_accepted = o.written.accepted;
    let mut load = p.load.clone();
    load.rows_read = tally.rows_read as i64;
    load.rows_accepted = tally.rows_accepted as i64;
    load.rows_rejected = tally.rows_rejected() as i64;
    load.bytes = o.bytes;
    load.checksum = o.checksum.or(load.checksum);
    load.format = o.format.or(load.format);
    load.encoding = o.encoding.or(load.encoding);
    load.finished_at = Some(Utc::now());
    let mut failure = o.failure;
    if failure.is_none() && p.policy == "reject" && tally.rows_rejected() > 0 {
        let n = tally.rows_rejected();
        failure = Some(LoadFailure::new(
            "dataset.rejected_by_policy",
            format!("有 {n} 行不合格；该资源的策略为整批拒收，本次数据未生效"),
            format!("{n} rows are bad and the resource refuses a load with any bad row: nothing was applied"),
        ));
    }
    if failure.is_none() && tally.rows_read == 0 && load.mode == "replace" {
        failure = Some(LoadFailure::new(
            "dataset.empty_load",
            "文件中没有数据行；整体替换不会用空数据覆盖现有数据".into(),
            "the file holds no rows: a replace never empties the dataset".into(),
        ));
    }
    if failure.is_none() && tally.rows_accepted == 0 && load.mode == "replace" {
        let n = tally.rows_rejected();
        failure = Some(LoadFailure::new(
            "dataset.no_valid_rows",
            format!("{n} 行全部不合格；整体替换不会用空数据覆盖现有数据，不合格行及原因可下载"),
            format!("all {n} rows are bad: a replace never empties the dataset; the bad rows and their reasons can be downloaded"),
        ));
    }
    let mut quality = QualityScores::from_tally(&tally);
    quality.timeliness = timeliness(app, p.content.update_frequency, p.previous.as_ref());
    load.tally = Some(tally);
    load.quality = Some(quality);
    let mut audit = ctx.audit("dataset.load", "catalog_entry", &p.entry.id);
    let mut changes = Vec::new();
    if let Some(f) = &failure {
        let refused_for_its_rows = ["dataset.rejected_by_policy", "dataset.no_valid_rows"];
        load.status = if refused_for_its_rows.contains(&f.code.as_str()) {
            "rejected".into()
        } else {
            "failed".into()
        };
        load.error_code = Some(f.code.clone());
        load.error = Some(format!("{} / {}", f.zh, f.en));
        audit.action = if load.status == "rejected" {
            "dataset.load_rejected"
        } else {
            "dataset.load_failed"
        }
        .into();
    } else {
        load.status = "applied".into();
        let previous = p.previous.as_ref();
        let row_count = app.data.count_rows(&load.table_name).await?;
        let dataset = Dataset {
            resource_id: p.entry.id.clone(),
            org_id: load.org_id.clone(),
            policy: p.policy.clone(),
            schema: p.schema.clone(),
            version: load.version,
            current_load_id: Some(load.id.clone()),
            current_table: Some(load.table_name.clone()),
            previous_table: previous.and_then(|d| d.current_table.clone()),
            previous_load_id: previous.and_then(|d| d.current_load_id.clone()),
            row_count,
            last_loaded_at: load.finished_at,
            updated_at: Utc::now(),
            secrecy_review: previous.and_then(|d| d.secrecy_review.clone()),
        };
        changes.push(Change::PutDataset {
            dataset,
            expected_version: previous.map(|d| d.version),
        });
        if !p.entry.mounted {
            changes.push(Change::SetCatalogMounted {
                entry_id: p.entry.id.clone(),
                mounted: true,
            });
        }
    }
    audit.after = summary(&serde_json::json!({
        "load_id": load.id,
        "version": load.version,
        "mode": load.mode,
        "channel": load.channel,
        "status": load.status,
        "rows_read": load.rows_read,
        "rows_accepted": load.rows_accepted,
        "rows_rejected": load.rows_rejected,
        "checksum": load.checksum,
        "filing_no": load.filing_no,
        "error_code": load.error_code,
    }));
    changes.insert(0, Change::PutLoad(load.clone()));
    let applied = load.status == "applied";
    match app.store.commit(changes, vec![audit]).await {
        Ok(_) => {}
        Err(e) => {
            let _ = app.data.drop_table(&load.table_name).await;
            let mut failed = load.clone();
            failed.status = "failed".into();
            failed.error_code = Some("dataset.commit_failed".into());
            failed.error = Some(e.to_string());
            let _ = app
                .store
                .commit(vec![Change::PutLoad(failed)], vec![])
                .await;
            return Err(match e {
                // The version moved (NotFound), or a first version was recorded
                // meanwhile (Conflict): another load committed first.
                StoreError::NotFound(_) | StoreError::Conflict(_) => ServiceError::conflict(
                    "dataset.concurrent_load",
                    "另一批数据同时载入了该资源，本次未生效，请重试",
                    "another load of this resource finished first: nothing was applied, try again",
                ),
                other => other.into(),
            });
        }
    }
    if applied {
        // Only the previous version is kept for rollback.
        if let Some(old) = p.previous.as_ref().and_then(|d| d.previous_table.clone()) {
            let _ = app.data.drop_table(&old).await;
        }
        schedule_cross_check(app, &p.entry.id, &load.id).await;
    } else {
        let _ = app.data.drop_table(&load.table_name).await;
    }
    // Committed: a failure to read the record back must not look like a failed
    // load (a caller would retry and load the same data twice).
    Ok(app
        .data
        .get_load(&load.id)
        .await
        .ok()
        .flatten()
        .unwrap_or(load))
}

/// GOV-2: queues the cross-check of what involves the resource, once base
/// databases exist; it runs as a job so a load (or a pushed batch) is answered
/// without waiting for a comparison over millions of subjects.
async fn schedule_cross_check(app: &App, resource_id: &str, marker: &str) {
    let built = app
        .data
        .list_base_attributes(None)
        .await
        .map(|a| !a.is_empty())
        .unwrap_or(false);
    if !built {
        return;
    }
    let kind = crate::jobs::CROSS_CHECK;
    let key = format!("{kind}:{resource_id}:{marker}");
    if let Err(e) = app.store.schedule_job(kind, &key, Utc::now()).await {
        tracing::warn!(resource = %resource_id, error = %e, "cross-check not queued");
    }
}

/// COL-2: puts the previous version back, if it is still kept.
pub async fn rollback(app: &App, ctx: &Ctx, resource: &str) -> ServiceResult<Dataset> {
    let (entry, content) = mountable_entry(app, resource).await?;
    ctx.principal
        .authorize(Permission::DataLoad, Some(providing_org(&content)))?;
    let current = app
        .data
        .get_dataset(&entry.id)
        .await?
        .ok_or_else(|| ServiceError::not_found("数据集", "dataset", &entry.code))?;
    let (Some(prev_table), Some(prev_load_id)) = (
        current.previous_table.clone(),
        current.previous_load_id.clone(),
    ) else {
        return Err(ServiceError::conflict(
            "dataset.no_previous_version",
            "没有可回退的上一版本",
            "there is no previous version to roll back to",
        ));
    };
    let prev_load = app
        .data
        .get_load(&prev_load_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("载入记录", "load", &prev_load_id))?;
    let mut undone = match &current.current_load_id {
        Some(id) => app.data.get_load(id).await?,
        None => None,
    };
    let row_count = app.data.count_rows(&prev_table).await?;
    let mut dataset = current.clone();
    dataset.version = current.version + 1;
    dataset.current_table = Some(prev_table);
    dataset.current_load_id = Some(prev_load_id);
    dataset.previous_table = None;
    dataset.previous_load_id = None;
    dataset.row_count = row_count;
    dataset.last_loaded_at = prev_load.finished_at;
    dataset.updated_at = Utc::now();
    let mut changes = vec![Change::PutDataset {
        dataset: dataset.clone(),
        expected_version: Some(current.version),
    }];
    if let Some(l) = undone.as_mut() {
        l.status = "rolled_back".into();
        changes.push(Change::PutLoad(l.clone()));
    }
    let mut audit = ctx.audit("dataset.rollback", "catalog_entry", &entry.id);
    audit.before = summary(
        &serde_json::json!({ "load_id": current.current_load_id, "version": current.version }),
    );
    audit.after = summary(
        &serde_json::json!({ "load_id": dataset.current_load_id, "version": dataset.version }),
    );
    app.store
        .commit(changes, vec![audit])
        .await
        .map_err(dataset_changed_meanwhile)?;
    if let Some(t) = &current.current_table {
        let _ = app.data.drop_table(t).await;
    }
    let marker = format!("rollback-{}", dataset.version);
    schedule_cross_check(app, &entry.id, &marker).await;
    Ok(dataset)
}

/// COL-3: whether a load with any bad row is refused whole (`reject`) or its good
/// rows are applied and the bad ones kept aside (`quarantine`).
pub async fn set_policy(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    policy: &str,
) -> ServiceResult<Dataset> {
    if policy != "reject" && policy != "quarantine" {
        return Err(ServiceError::invalid(
            "dataset.policy_invalid",
            "policy",
            "策略须为 reject（整批拒收）或 quarantine（隔离不合格行）",
            "the policy is reject (refuse the whole load) or quarantine (set bad rows aside)",
        ));
    }
    let (entry, content) = mountable_entry(app, resource).await?;
    let (mut dataset, expected) = dataset_to_change(app, ctx, &entry, &content).await?;
    dataset.policy = policy.to_string();
    let mut audit = ctx.audit("dataset.policy", "catalog_entry", &entry.id);
    audit.after = summary(&serde_json::json!({ "policy": policy }));
    commit_dataset(app, dataset, expected, audit).await
}

/// Writes a changed dataset record if it is still at `expected`, with its audit record.
async fn commit_dataset(
    app: &App,
    dataset: Dataset,
    expected: Option<i64>,
    audit: AuditDraft,
) -> ServiceResult<Dataset> {
    app.store
        .commit(
            vec![Change::PutDataset {
                dataset: dataset.clone(),
                expected_version: expected,
            }],
            vec![audit],
        )
        .await
        .map_err(dataset_changed_meanwhile)?;
    Ok(dataset)
}

/// A dataset record written by someone else between our read and our write:
/// an update finds its version gone, a first record finds one already there.
fn dataset_changed_meanwhile(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound(_) | StoreError::Conflict(_) => ServiceError::conflict(
            "dataset.concurrent_load",
            "数据集刚刚发生变化，请刷新后重试",
            "the dataset changed meanwhile: reload and try again",
        ),
        other => other.into(),
    }
}

/// A resource's dataset record as the providing department is about to change
/// it (new version number, now as its time), made afresh before the first load;
/// with the version the change expects to replace.
async fn dataset_to_change(
    app: &App,
    ctx: &Ctx,
    entry: &CatalogEntry,
    content: &EntryContent,
) -> ServiceResult<(Dataset, Option<i64>)> {
    let org = providing_org(content).to_string();
    ctx.principal.authorize(Permission::DataLoad, Some(&org))?;
    let now = Utc::now();
    Ok(match app.data.get_dataset(&entry.id).await? {
        Some(mut d) => {
            let expected = d.version;
            d.version += 1;
            d.updated_at = now;
            (d, Some(expected))
        }
        None => (
            Dataset {
                resource_id: entry.id.clone(),
                org_id: org,
                policy: "quarantine".to_string(),
                schema: TableSchema::from_items(&content.items),
                version: 0,
                current_load_id: None,
                current_table: None,
                previous_table: None,
                previous_load_id: None,
                row_count: 0,
                last_loaded_at: None,
                updated_at: now,
                secrecy_review: None,
            },
            None,
        ),
    })
}

/// COL-6: why data with this schema may not be loaded yet, if it may not: its
/// providing department has not cleared every one of its items.
pub fn secrecy_block(dataset: Option<&Dataset>, schema: &TableSchema) -> Option<SecrecyBlock> {
    secrecy_clearance(
        dataset.and_then(|d| d.secrecy_review.as_ref()),
        &schema.column_names(),
    )
    .err()
}

/// COL-6: refuses the load when [`secrecy_block`] names a reason.
fn secrecy_cleared(dataset: Option<&Dataset>, schema: &TableSchema) -> ServiceResult<()> {
    match secrecy_block(dataset, schema) {
        Some(b) => Err(ServiceError::conflict(
            b.code(),
            b.message_zh(),
            b.message_en(),
        )),
        None => Ok(()),
    }
}

/// The opinion of the demo departments' secrecy reviews.
pub const DEMO_SECRECY_NOTE: &str =
    "演示：经本部门保密审查，不涉及国家秘密 / demo: reviewed, no state secrets";

/// A secrecy review as its department submits it.
pub struct SecrecyReviewInput<'a> {
    /// `cleared` or `state_secret`.
    pub conclusion: &'a str,
    /// The reviewer's opinion.
    pub note: &'a str,
    /// The column names the reviewer was shown, when the caller knows them: the
    /// review is refused if the entry's items changed since.
    pub items_seen: Option<&'a [String]>,
}

impl<'a> SecrecyReviewInput<'a> {
    /// A review that clears every current item of the entry.
    pub fn cleared(note: &'a str) -> Self {
        Self {
            conclusion: "cleared",
            note,
            items_seen: None,
        }
    }
}

/// The longest opinion a secrecy review may carry, in characters.
pub const SECRECY_NOTE_MAX_CHARS: usize = 2000;

/// COL-6 (CZ 33): the providing department records its secrecy review (保密审查)
/// of the resource's current data items. It answers for the data it provides, so
/// the review names who recorded it; it replaces any earlier one, which stays in
/// the audit log. A review that finds state secrets stops every later load.
pub async fn record_secrecy_review(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    review: SecrecyReviewInput<'_>,
) -> ServiceResult<Dataset> {
    let SecrecyReviewInput {
        conclusion,
        note,
        items_seen,
    } = review;
    // A person answers for the review (谁提供谁负责): a system's API token cannot
    // clear the data it delivers.
    if ctx.principal.token_id.is_some() {
        return Err(ServiceError::new(
            ErrorKind::Denied,
            "dataset.secrecy_review_by_person",
            "保密审查须由本部门人员登录后记录，接口令牌不能记录",
            "a secrecy review is recorded by a signed-in person of the department, not by an API token",
        ));
    }
    let conclusion = SecrecyConclusion::parse(conclusion.trim()).ok_or_else(|| {
        ServiceError::invalid(
            "dataset.secrecy_conclusion_invalid",
            "conclusion",
            "审查结论须为 cleared（不涉及国家秘密）或 state_secret（涉及国家秘密）",
            "the conclusion is cleared (no state secrets) or state_secret (involves state secrets)",
        )
    })?;
    let note = note.trim();
    if note.chars().count() > SECRECY_NOTE_MAX_CHARS {
        return Err(ServiceError::invalid(
            "dataset.secrecy_note_too_long",
            "note",
            format!("审查意见不能超过 {SECRECY_NOTE_MAX_CHARS} 个字"),
            format!("the opinion is at most {SECRECY_NOTE_MAX_CHARS} characters"),
        ));
    }
    let (entry, content) = mountable_entry(app, resource).await?;
    let (mut dataset, expected) = dataset_to_change(app, ctx, &entry, &content).await?;
    let schema = TableSchema::from_items(&content.items);
    if let Some(seen) = items_seen {
        let mut current = schema.column_names();
        let mut seen: Vec<&str> = seen
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        seen.sort_unstable();
        current.sort_unstable();
        if seen != current {
            return Err(ServiceError::conflict(
                "dataset.secrecy_items_changed",
                format!(
                    "目录信息项已变更为 {}，请按当前信息项重新审查",
                    current.join("、")
                ),
                format!(
                    "the entry's data items are now {}: review them as they are",
                    current.join(", ")
                ),
            ));
        }
    }
    let review = SecrecyReview {
        conclusion,
        items: schema
            .column_names()
            .into_iter()
            .map(String::from)
            .collect(),
        note: note.to_string(),
        reviewed_by: ctx.principal.actor.clone(),
        org_id: providing_org(&content).to_string(),
        reviewed_at: dataset.updated_at,
    };
    let mut audit = ctx.audit("dataset.secrecy_review", "catalog_entry", &entry.id);
    audit.before = dataset.secrecy_review.as_ref().and_then(summary);
    audit.after = summary(&review);
    dataset.secrecy_review = Some(review);
    commit_dataset(app, dataset, expected, audit).await
}

/// COL-7 (XJ 13): a secrecy review reported with data from a lower-level platform.
/// The lower level's department answered for it there; this node keeps who and when,
/// so the reported data can be aggregated here without a second review.
/// It holds while the entry is offline here too, and a review older than the one
/// held is not taken. Returns when the review now held was made.
pub(crate) async fn carry_secrecy_review(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    review: SecrecyReview,
) -> ServiceResult<DateTime<Utc>> {
    let (entry, content) = published_entry(app, resource).await?;
    let (mut dataset, expected) = dataset_to_change(app, ctx, &entry, &content).await?;
    if let Some(held) = dataset
        .secrecy_review
        .as_ref()
        .filter(|held| *held == &review || held.reviewed_at > review.reviewed_at)
    {
        return Ok(held.reviewed_at);
    }
    let reviewed_at = review.reviewed_at;
    let mut audit = ctx.audit("dataset.secrecy_review", "catalog_entry", &entry.id);
    audit.before = dataset.secrecy_review.as_ref().and_then(summary);
    audit.after = summary(&review);
    dataset.secrecy_review = Some(review);
    commit_dataset(app, dataset, expected, audit).await?;
    Ok(reviewed_at)
}

/// Whether the caller may see a dataset's loads and rejected rows: its department
/// with the data permission, or whoever reads quality globally.
pub(crate) fn authorize_view(ctx: &Ctx, org_id: &str) -> ServiceResult<()> {
    if ctx
        .principal
        .authorize(Permission::DataLoad, Some(org_id))
        .is_ok()
    {
        return Ok(());
    }
    Ok(ctx
        .principal
        .authorize(Permission::DataQuality, Some(org_id))?)
}

/// A mounted resource with its entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DatasetView {
    pub dataset: Dataset,
    pub code: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub table_schema: serde_json::Value,
}

pub async fn get(app: &App, ctx: &Ctx, resource: &str) -> ServiceResult<DatasetView> {
    let entry = find_entry(app, resource)
        .await?
        .ok_or_else(|| ServiceError::not_found("目录", "catalog entry", resource))?;
    let dataset = app
        .data
        .get_dataset(&entry.id)
        .await?
        .ok_or_else(|| ServiceError::not_found("数据集", "dataset", &entry.code))?;
    authorize_view(ctx, &dataset.org_id)?;
    let content = entry.published.as_ref().or(entry.working.as_ref());
    let table_schema = dataset.schema.to_table_schema(
        content.map_or(gongshu_domain::catalog::Grade::General, |c| c.grade),
        content.and_then(|c| c.sensitivity),
    );
    Ok(DatasetView {
        dataset,
        code: entry.code,
        name: entry.name,
        table_schema,
    })
}

/// Mounted resources of one department, or all for a global quality reader.
pub async fn list(app: &App, ctx: &Ctx, org_id: Option<&str>) -> ServiceResult<Vec<Dataset>> {
    match org_id {
        Some(o) => authorize_view(ctx, o)?,
        None => ctx.principal.authorize(Permission::DataQuality, None)?,
    }
    Ok(app.data.list_datasets(org_id).await?)
}

pub async fn loads(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    limit: i64,
) -> ServiceResult<Vec<DatasetLoad>> {
    let view = get(app, ctx, resource).await?;
    Ok(app
        .data
        .list_loads(&LoadFilter {
            resource_id: Some(view.dataset.resource_id),
            limit: Some(limit.clamp(1, 1000)),
            ..LoadFilter::default()
        })
        .await?)
}

pub async fn load(app: &App, ctx: &Ctx, load_id: &str) -> ServiceResult<DatasetLoad> {
    let load = app
        .data
        .get_load(load_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("载入记录", "load", load_id))?;
    authorize_view(ctx, &load.org_id)?;
    Ok(load)
}

/// COL-3: a load's rejected rows, in row order, a page at a time.
pub async fn rejects(
    app: &App,
    ctx: &Ctx,
    load_id: &str,
    after_row: i64,
    limit: i64,
) -> ServiceResult<Vec<RejectedRow>> {
    let load = load(app, ctx, load_id).await?;
    crate::egress::rejects_page(app, ctx, &load, after_row, limit.clamp(1, 10_000)).await
}

/// COL-3: every rejected row of a load as a CSV or XLSX file.
pub async fn rejects_file(
    app: &App,
    ctx: &Ctx,
    load_id: &str,
    format: crate::egress::RejectsFormat,
) -> ServiceResult<crate::egress::RecordedFile> {
    let load = load(app, ctx, load_id).await?;
    crate::egress::rejects_file(app, ctx, &load, format).await
}

const REJECTS_HEADINGS: [&str; 6] = [
    "行号 row",
    "列 column",
    "错误代码 code",
    "原因 reason",
    "reason",
    "原始数据 as delivered",
];

/// COL-3: the start of the rejected rows' CSV: a UTF-8 BOM (for Excel) and the
/// headings. [`rejects_csv_lines`] follows with one line per problem.
pub(crate) fn rejects_csv_heading() -> Vec<u8> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let _ = w.write_record(REJECTS_HEADINGS);
    w.into_inner().unwrap_or_default()
}

/// COL-3: rejected rows as CSV lines — one per problem: row, column, code, message
/// (中文 and English), and the row as delivered.
pub(crate) fn rejects_csv_lines(rows: &[RejectedRow]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for r in rows {
        let raw = r.raw.join(" | ");
        for e in &r.errors {
            let _ = w.write_record([
                r.row_number.to_string().as_str(),
                &e.column,
                &e.code,
                &e.message_zh,
                &e.message_en,
                &raw,
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// COL-3: the rejected rows as XLSX, same columns as the CSV.
pub(crate) fn rejects_xlsx(rows: &[RejectedRow]) -> ServiceResult<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let fail = |e: rust_xlsxwriter::XlsxError| {
        ServiceError::new(
            ErrorKind::Internal,
            "dataset.xlsx_failed",
            format!("生成 Excel 失败：{e}"),
            format!("writing the workbook failed: {e}"),
        )
    };
    sheet.set_name("不合格行").map_err(fail)?;
    for (c, h) in REJECTS_HEADINGS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).map_err(fail)?;
    }
    let mut line = 1u32;
    for r in rows {
        let raw = r.raw.join(" | ");
        for e in &r.errors {
            sheet
                .write_number(line, 0, r.row_number as f64)
                .map_err(fail)?;
            sheet.write_string(line, 1, &e.column).map_err(fail)?;
            sheet.write_string(line, 2, &e.code).map_err(fail)?;
            sheet.write_string(line, 3, &e.message_zh).map_err(fail)?;
            sheet.write_string(line, 4, &e.message_en).map_err(fail)?;
            sheet.write_string(line, 5, &raw).map_err(fail)?;
            line += 1;
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// Rows of the current version, for the delivering department to check what it
/// delivered. They are read through the egress gate, which records the read
/// (DESIGN 2, GOV-5); other parties read through their grants there.
pub async fn preview(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    after: Option<(i64, i64)>,
    limit: i64,
) -> ServiceResult<(Dataset, Vec<StoredRow>)> {
    let view = get(app, ctx, resource).await?;
    ctx.principal
        .authorize(Permission::DataLoad, Some(&view.dataset.org_id))?;
    let rows = crate::egress::preview(app, ctx, &view.dataset, after, limit.clamp(1, 1000)).await?;
    Ok((view.dataset, rows))
}

/// Formats a dataset can be exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    /// One JSON object per line.
    Json,
    Xlsx,
    /// Typed columns, snappy-compressed, in row groups of up to 65,536 rows.
    Parquet,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "json" | "ndjson" => Some(Self::Json),
            "xlsx" => Some(Self::Xlsx),
            "parquet" => Some(Self::Parquet),
            _ => None,
        }
    }

    /// The file name extension of the format.
    pub fn extension(&self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "ndjson",
            Self::Xlsx => "xlsx",
            Self::Parquet => "parquet",
        }
    }

    /// The media type of the format.
    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/x-ndjson",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// A growable byte buffer several owners write to and drain.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("buffer poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Rows per Parquet row group.
const PARQUET_ROW_GROUP: usize = 65_536;

/// The Parquet message type of a dataset table.
fn parquet_message_type(schema: &TableSchema) -> String {
    use gongshu_domain::catalog::FieldType;
    let fields: Vec<String> = schema
        .columns
        .iter()
        .map(|c| {
            let n = &c.name;
            match c.field_type {
                FieldType::String | FieldType::Binary => format!("OPTIONAL BYTE_ARRAY {n} (UTF8);"),
                FieldType::Integer => format!("OPTIONAL INT64 {n};"),
                FieldType::Number => format!("OPTIONAL DOUBLE {n};"),
                FieldType::Boolean => format!("OPTIONAL BOOLEAN {n};"),
                FieldType::Date => format!("OPTIONAL INT32 {n} (DATE);"),
                FieldType::DateTime => format!("OPTIONAL INT64 {n} (TIMESTAMP(MICROS,false));"),
            }
        })
        .collect();
    format!("message dataset {{ {} }}", fields.join(" "))
}

/// Writes buffered rows as one Parquet row group, column by column.
fn parquet_row_group<W: std::io::Write + Send>(
    writer: &mut parquet::file::writer::SerializedFileWriter<W>,
    rows: &[Vec<Value>],
) -> Result<(), parquet::errors::ParquetError> {
    use parquet::column::writer::ColumnWriter;
    use parquet::data_type::ByteArray;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let mut group = writer.next_row_group()?;
    let mut i = 0;
    while let Some(mut column) = group.next_column()? {
        let defs: Vec<i16> = rows.iter().map(|r| i16::from(!r[i].is_null())).collect();
        let cells = rows.iter().map(|r| &r[i]);
        match column.untyped() {
            ColumnWriter::ByteArrayColumnWriter(w) => {
                let v: Vec<ByteArray> = cells
                    .filter(|c| !c.is_null())
                    .map(|c| ByteArray::from(c.to_text().into_bytes()))
                    .collect();
                w.write_batch(&v, Some(&defs), None)?;
            }
            ColumnWriter::Int64ColumnWriter(w) => {
                let v: Vec<i64> = cells
                    .filter_map(|c| match c {
                        Value::Integer(n) => Some(*n),
                        Value::DateTime(t) => Some(t.and_utc().timestamp_micros()),
                        _ => None,
                    })
                    .collect();
                w.write_batch(&v, Some(&defs), None)?;
            }
            ColumnWriter::DoubleColumnWriter(w) => {
                let v: Vec<f64> = cells
                    .filter_map(|c| match c {
                        Value::Number(n) => Some(*n),
                        _ => None,
                    })
                    .collect();
                w.write_batch(&v, Some(&defs), None)?;
            }
            ColumnWriter::BoolColumnWriter(w) => {
                let v: Vec<bool> = cells
                    .filter_map(|c| match c {
                        Value::Boolean(b) => Some(*b),
                        _ => None,
                    })
                    .collect();
                w.write_batch(&v, Some(&defs), None)?;
            }
            ColumnWriter::Int32ColumnWriter(w) => {
                let v: Vec<i32> = cells
                    .filter_map(|c| match c {
                        Value::Date(d) => Some((*d - epoch).num_days() as i32),
                        _ => None,
                    })
                    .collect();
                w.write_batch(&v, Some(&defs), None)?;
            }
            _ => unreachable!("dataset columns map to these physical types"),
        }
        column.close()?;
        i += 1;
    }
    group.close()?;
    Ok(())
}

/// An XLSX sheet holds at most this many rows (with the header).
const XLSX_MAX_ROWS: i64 = 1_048_575;

fn export_failed(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(
        ErrorKind::Internal,
        "dataset.export_failed",
        format!("写出失败：{e}"),
        format!("writing the export failed: {e}"),
    )
}

/// CSV records, UTF-8.
fn csv_chunk(rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        let _ = w.write_record(&r);
    }
    w.into_inner().unwrap_or_default()
}

/// COL-1, SHR-2: writes the rows of a table as CSV (UTF-8 with a BOM, for Excel),
/// JSON lines, XLSX or Parquet, page by page. A department's export and the egress
/// gate's bulk download both write with it.
pub(crate) struct RowEncoder<'o> {
    format: ExportFormat,
    names: Vec<String>,
    out: &'o mut (dyn std::io::Write + Send),
    book: Option<rust_xlsxwriter::Workbook>,
    /// The Parquet writer fills `parquet_buffer`; each row group is passed on to `out`.
    parquet: Option<parquet::file::writer::SerializedFileWriter<SharedBuffer>>,
    parquet_buffer: SharedBuffer,
    parquet_rows: Vec<Vec<Value>>,
    written: u64,
}

impl<'o> RowEncoder<'o> {
    /// Starts the file: the CSV header, the XLSX heading row, the Parquet schema.
    pub(crate) fn new(
        format: ExportFormat,
        schema: &TableSchema,
        out: &'o mut (dyn std::io::Write + Send),
    ) -> ServiceResult<Self> {
        let names: Vec<String> = schema.columns.iter().map(|c| c.name.clone()).collect();
        let parquet_buffer = SharedBuffer::default();
        let parquet = if format == ExportFormat::Parquet {
            let message =
                parquet::schema::parser::parse_message_type(&parquet_message_type(schema))
                    .map_err(export_failed)?;
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build();
            Some(
                parquet::file::writer::SerializedFileWriter::new(
                    parquet_buffer.clone(),
                    Arc::new(message),
                    Arc::new(props),
                )
                .map_err(export_failed)?,
            )
        } else {
            None
        };
        let mut book = (format == ExportFormat::Xlsx).then(rust_xlsxwriter::Workbook::new);
        if let Some(b) = book.as_mut() {
            let sheet = b.add_worksheet();
            for (c, n) in names.iter().enumerate() {
                sheet.write_string(0, c as u16, n).map_err(export_failed)?;
            }
        }
        if format == ExportFormat::Csv {
            out.write_all(&[0xEF, 0xBB, 0xBF]).map_err(export_failed)?;
            out.write_all(&csv_chunk(std::iter::once(names.clone())))
                .map_err(export_failed)?;
        }
        Ok(Self {
            format,
            names,
            out,
            book,
            parquet,
            parquet_buffer,
            parquet_rows: Vec::new(),
            written: 0,
        })
    }

    /// Writes one page of rows, each with its values in the schema's column order.
    pub(crate) fn page(&mut self, rows: Vec<Vec<Value>>) -> ServiceResult<()> {
        let count = rows.len() as u64;
        match self.format {
            ExportFormat::Csv => {
                let texts = rows.iter().map(|r| r.iter().map(Value::to_text).collect());
                self.out
                    .write_all(&csv_chunk(texts))
                    .map_err(export_failed)?;
            }
            ExportFormat::Json => {
                // Keys in the schema's column order, so that a reader taking the
                // first object's keys as the header sees the columns as declared.
                let mut line = Vec::new();
                for row in &rows {
                    line.clear();
                    line.push(b'{');
                    for (i, (n, v)) in self.names.iter().zip(row).enumerate() {
                        if i > 0 {
                            line.push(b',');
                        }
                        serde_json::to_writer(&mut line, n).map_err(export_failed)?;
                        line.push(b':');
                        serde_json::to_writer(&mut line, v).map_err(export_failed)?;
                    }
                    line.extend_from_slice(b"}\n");
                    self.out.write_all(&line).map_err(export_failed)?;
                }
            }
            ExportFormat::Xlsx => {
                let sheet = self
                    .book
                    .as_mut()
                    .and_then(|b| b.worksheet_from_index(0).ok())
                    .expect("sheet");
                for (i, row) in rows.iter().enumerate() {
                    let r = (self.written + i as u64) as u32 + 1;
                    for (c, v) in row.iter().enumerate() {
                        let c = c as u16;
                        match v {
                            Value::Null => continue,
                            Value::Integer(i) => sheet.write_number(r, c, *i as f64),
                            Value::Number(n) => sheet.write_number(r, c, *n),
                            other => sheet.write_string(r, c, other.to_text()),
                        }
                        .map_err(export_failed)?;
                    }
                }
            }
            ExportFormat::Parquet => {
                self.parquet_rows.extend(rows);
                if self.parquet_rows.len() >= PARQUET_ROW_GROUP {
                    self.parquet_group()?;
                }
            }
        }
        self.written += count;
        Ok(())
    }

    /// Writes the buffered Parquet rows as one row group and passes it on.
    fn parquet_group(&mut self) -> ServiceResult<()> {
        if let Some(w) = self.parquet.as_mut() {
            if !self.parquet_rows.is_empty() {
                parquet_row_group(w, &self.parquet_rows).map_err(export_failed)?;
                self.parquet_rows.clear();
            }
            self.out
                .write_all(&self.parquet_buffer.take())
                .map_err(export_failed)?;
        }
        Ok(())
    }

    /// Rows written so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Ends the file (the last Parquet row group and footer, the XLSX workbook) and
    /// flushes; returns the rows written.
    pub(crate) fn finish(mut self) -> ServiceResult<u64> {
        self.parquet_group()?;
        if let Some(w) = self.parquet.take() {
            w.close().map_err(export_failed)?;
            self.out
                .write_all(&self.parquet_buffer.take())
                .map_err(export_failed)?;
        }
        if let Some(mut b) = self.book.take() {
            self.out
                .write_all(&b.save_to_buffer().map_err(export_failed)?)
                .map_err(export_failed)?;
        }
        self.out.flush().map_err(export_failed)?;
        Ok(self.written)
    }
}

/// COL-2: writes the current version of a resource to `out`, page by page (the
/// delivering department's export). The rows are read through the egress gate,
/// which records the export with the SM3 of what was written (DESIGN 2, GOV-5).
/// Returns the rows written.
pub async fn export(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    format: ExportFormat,
    out: &mut (dyn std::io::Write + Send),
    progress: Option<Arc<LoadProgress>>,
) -> ServiceResult<u64> {
    let view = exportable(app, ctx, resource, format).await?;
    let (rows, _) = crate::egress::export(app, ctx, &view.dataset, format, out, progress).await?;
    Ok(rows)
}

/// COL-2: a department's current rows as a file for its download, recorded as
/// its read (the SM3 of the file kept) before the first byte is sent; with the
/// resource it is of.
pub async fn export_file(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    format: ExportFormat,
) -> ServiceResult<(DatasetView, crate::egress::RecordedFile)> {
    let view = exportable(app, ctx, resource, format).await?;
    let file = crate::egress::export_file(app, ctx, &view.dataset, format).await?;
    Ok((view, file))
}

/// The dataset a department may export in `format`: its own, with data mounted,
/// and for XLSX no more rows than one worksheet holds.
async fn exportable(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    format: ExportFormat,
) -> ServiceResult<DatasetView> {
    let view = get(app, ctx, resource).await?;
    ctx.principal
        .authorize(Permission::DataLoad, Some(&view.dataset.org_id))?;
    let dataset = &view.dataset;
    if dataset.current_table.is_none() {
        return Err(ServiceError::conflict(
            "dataset.nothing_mounted",
            "该资源尚未挂接数据",
            "no data is mounted for this resource",
        ));
    }
    if format == ExportFormat::Xlsx && dataset.row_count > XLSX_MAX_ROWS {
        return Err(ServiceError::invalid(
            "dataset.too_many_rows_for_xlsx",
            "format",
            format!(
                "共 {} 行，超过 Excel 单表上限，请导出 CSV",
                dataset.row_count
            ),
            format!(
                "{} rows exceed one Excel sheet: export CSV instead",
                dataset.row_count
            ),
        ));
    }
    Ok(view)
}

/// The reader side of a pull: checks rows as the connector delivers them.
struct PullToChecker {
    checker: Checker,
    tx: std::sync::mpsc::SyncSender<Staged>,
    progress: Option<Arc<LoadProgress>>,
}

impl gongshu_connectors::PullSink for PullToChecker {
    fn columns(&mut self, names: &[String]) -> Result<(), String> {
        self.checker.headers(names)
    }

    fn row(&mut self, row_number: u64, fields: Vec<String>) -> Result<(), String> {
        self.checker.record(RawRecord::Fields {
            row: row_number,
            fields,
        });
        if let Some(p) = &self.progress {
            p.rows_read.fetch_add(1, Ordering::Relaxed);
        }
        if self.checker.staged.len() >= BATCH_ROWS {
            self.tx
                .send(self.checker.take())
                .map_err(|_| "the writer stopped".to_string())?;
        }
        Ok(())
    }
}

/// COL-1: loads what a pull connector reads from a department's system as a new
/// version, exactly like an upload: if the source fails mid-pull, nothing of the
/// pull is applied and the previous version stays.
pub(crate) async fn load_pull(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    source: gongshu_connectors::PullSource,
    secret: Option<String>,
    description: String,
) -> ServiceResult<DatasetLoad> {
    let mut opts = LoadOptions::new(Channel::Pull, InputFormat::Json);
    opts.file_name = Some(description);
    let p = match prepare(app, ctx, resource, &opts).await? {
        Ok(p) => p,
        Err(done) => return Ok(done),
    };
    if let Err(e) = create_version_table(app, &p).await {
        return finish(app, ctx, p, Outcome::failed(LoadFailure::from_store(&e))).await;
    }
    let checker = match Checker::new(&p.load.id, p.schema.clone(), p.load.mode == "upsert") {
        Ok(c) => c,
        Err(f) => return finish(app, ctx, p, Outcome::failed(f)).await,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Staged>(4);
    let handle = tokio::runtime::Handle::current();
    let limits = app.pull_limits();
    let puller = tokio::task::spawn_blocking(move || {
        let mut sink = PullToChecker {
            checker,
            tx,
            progress: None,
        };
        let result = handle.block_on(gongshu_connectors::pull(
            &source,
            secret.as_deref(),
            &mut sink,
            &limits,
        ));
        let last = sink.checker.take();
        if result.is_ok() && last.len() > 0 {
            let _ = sink.tx.send(last);
        }
        drop(sink.tx);
        (result, sink.checker)
    });
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let mut written = Written::default();
    let mut store_failure = None;
    loop {
        let rx = rx.clone();
        let next =
            tokio::task::spawn_blocking(move || rx.lock().map(|r| r.recv().ok()).ok().flatten())
                .await
                .ok()
                .flatten();
        let Some(batch) = next else { break };
        if store_failure.is_some() {
            continue;
        }
        if let Err(e) = write_batch(app, &p, batch, &mut written).await {
            store_failure = Some(LoadFailure::from_store(&e));
        }
    }
    let (result, checker) = puller.await.map_err(|e| {
        ServiceError::new(
            ErrorKind::Internal,
            "dataset.reader_failed",
            format!("拉取任务异常结束：{e}"),
            format!("the pull stopped abnormally: {e}"),
        )
    })?;
    let mut outcome = Outcome {
        tally: checker.tally.clone(),
        written,
        failure: store_failure,
        format: Some("pull".into()),
        ..Outcome::default()
    };
    if let Err(e) = result {
        if outcome.failure.is_none() {
            outcome.failure = Some(match &checker.header_problem {
                Some(m) => LoadFailure::from_headers(m),
                None => LoadFailure::new(e.code(), e.message_zh(), e.message_en()),
            });
        }
    }
    finish(app, ctx, p, outcome).await
}

/// Refuses early whoever may not load a resource (before a resumable upload starts).
pub async fn authorize_load(app: &App, ctx: &Ctx, resource: &str) -> ServiceResult<()> {
    let (entry, content) = mountable_entry(app, resource).await?;
    ctx.principal
        .authorize(Permission::DataLoad, Some(providing_org(&content)))?;
    let dataset = app.data.get_dataset(&entry.id).await?;
    secrecy_cleared(dataset.as_ref(), &TableSchema::from_items(&content.items))
}

/// How long a load may run before the platform takes it for interrupted.
pub const INTERRUPTED_AFTER_HOURS: i64 = 12;

/// COL-2: loads still `running` long after they began were interrupted (the node
/// stopped mid-load): they are marked `interrupted` with an audit record and their
/// half-written tables dropped. The current version was never touched.
pub async fn sweep_interrupted(app: &App, now: chrono::DateTime<Utc>) -> ServiceResult<usize> {
    let ctx = Ctx::system();
    let cutoff = now - chrono::Duration::hours(INTERRUPTED_AFTER_HOURS);
    let mut swept = 0;
    let running = app
        .data
        .list_loads(&LoadFilter {
            status: Some("running".into()),
            limit: Some(1000),
            ..LoadFilter::default()
        })
        .await?;
    for mut load in running.into_iter().filter(|l| l.started_at < cutoff) {
        let dataset = app.data.get_dataset(&load.resource_id).await?;
        let kept = dataset.as_ref().is_some_and(|d| {
            d.current_table.as_deref() == Some(load.table_name.as_str())
                || d.previous_table.as_deref() == Some(load.table_name.as_str())
        });
        if !kept {
            app.data.drop_table(&load.table_name).await?;
        }
        load.status = "interrupted".into();
        load.error_code = Some("dataset.interrupted".into());
        load.error = Some(
            "载入中断（节点停止），未生效 / the load was interrupted (the node stopped) and nothing was applied"
                .into(),
        );
        load.finished_at = Some(now);
        let mut audit = ctx.audit(
            "dataset.load_interrupted",
            "catalog_entry",
            &load.resource_id,
        );
        audit.org_id = Some(load.org_id.clone());
        audit.after =
            summary(&serde_json::json!({ "load_id": load.id, "started_at": load.started_at }));
        app.store
            .commit(vec![Change::PutLoad(load)], vec![audit])
            .await?;
        swept += 1;
    }
    Ok(swept)
}
