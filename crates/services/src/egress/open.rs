//! OPN-3, OPN-4, OPN-6, GOV-5: the public's reads of open datasets, through the same
//! gate as sharing. A dataset open without conditions is read by anyone; one open on
//! conditions is refused until an application unlocks it (OPN-4). Items are masked by
//! the gate's default rules for their sensitivity (a sensitive item is never shown
//! clear to the public), every read — served or refused — leaves an access record
//! anchored in the audit chain, and a download's record is durable before its first
//! byte leaves.
use std::collections::{HashMap, VecDeque};

use gongshu_domain::masking::MaskPolicy;
use gongshu_domain::open::PublicAccess;

use super::*;
use crate::open::{MountedTable, OpenDataset};

/// The access mode of the public's reads in access records.
const OPEN_MODE: &str = "open";

/// Reads per minute on one node for a reader without a developer key (per address).
pub const ANONYMOUS_RATE_PER_MINUTE: i64 = 120;
/// Reads per minute on one node for one developer key.
pub const KEY_RATE_PER_MINUTE: i64 = 1200;

/// OPN-3: one page of an open dataset's rows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenPage {
    /// The dataset's resource code.
    pub dataset: String,
    /// The items returned, in order.
    pub items: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub rows: PageRows,
    /// Cursor of the next page, if there is one.
    pub next: Option<String>,
    pub access_id: String,
    /// SM3 of the JSON of `rows`, as the access record keeps it.
    pub response_hash: String,
}

impl OpenPage {
    /// The page as JSON, with the rows written from the text they were hashed
    /// from instead of serialised again.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Wire<'a> {
            dataset: &'a str,
            items: &'a [String],
            rows: &'a serde_json::value::RawValue,
            next: &'a Option<String>,
            access_id: &'a str,
            response_hash: &'a str,
        }
        serde_json::to_string(&Wire {
            dataset: &self.dataset,
            items: &self.items,
            rows: &self.rows.0.json,
            next: &self.next,
            access_id: &self.access_id,
            response_hash: &self.response_hash,
        })
        .unwrap_or_default()
    }
}

/// The masked rows of one page, shared by every read of that page while the
/// dataset's version stays current (DESIGN 7: a cache of what the store holds).
#[derive(Debug, Clone)]
pub struct PageRows(Arc<ServedRows>);

#[derive(Debug)]
struct ServedRows {
    rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The JSON text of `rows`: the bytes whose SM3 the access record keeps.
    json: Box<serde_json::value::RawValue>,
    hash: String,
    next: Option<String>,
}

impl std::ops::Deref for PageRows {
    type Target = Vec<serde_json::Map<String, serde_json::Value>>;
    fn deref(&self) -> &Self::Target {
        &self.0.rows
    }
}

impl Serialize for PageRows {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.rows.serialize(s)
    }
}

/// What makes two public reads the same page: the dataset's table as loaded
/// (a new load is a new table, a new version), the items, the filters, the cursor
/// and the size. Masking is the same for every public reader.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    table: String,
    version: i64,
    columns: Vec<usize>,
    filters: Vec<(String, String)>,
    after: Option<String>,
    limit: i64,
}

/// Pages kept: at most this many, and at most this many bytes of JSON.
const PAGE_CACHE_ENTRIES: usize = 1024;
const PAGE_CACHE_BYTES: usize = 64 << 20;

/// OPN-3: this node's recently served public pages, oldest dropped first.
#[derive(Default)]
pub struct PageCache {
    pages: HashMap<PageKey, Arc<ServedRows>>,
    order: VecDeque<PageKey>,
    bytes: usize,
}

impl PageCache {
    fn get(&self, key: &PageKey) -> Option<Arc<ServedRows>> {
        self.pages.get(key).cloned()
    }

    fn put(&mut self, key: PageKey, rows: Arc<ServedRows>) {
        let size = rows.json.get().len();
        if size > PAGE_CACHE_BYTES / 8 || self.pages.contains_key(&key) {
            return;
        }
        while self.pages.len() >= PAGE_CACHE_ENTRIES || self.bytes + size > PAGE_CACHE_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(r) = self.pages.remove(&old) {
                self.bytes -= r.json.get().len();
            }
        }
        self.bytes += size;
        self.order.push_back(key.clone());
        self.pages.insert(key, rows);
    }
}

/// A filtered, paged read of an open dataset.
#[derive(Debug, Clone, Default)]
pub struct OpenQuery {
    /// Item = value conditions, on items the public sees clear.
    pub filters: Vec<(String, String)>,
    /// Items to return; empty: all.
    pub fields: Vec<String>,
    /// A cursor from an earlier page.
    pub after: Option<String>,
    pub limit: i64,
}

/// Who reads, and what the node allows them per minute.
#[derive(Debug, Clone)]
pub struct PublicReader {
    /// The rate-limit bucket: `key:<id>` or `addr:<ip>`.
    pub bucket: String,
    pub rate_per_minute: i64,
    /// The developer key the reader presented, if any (OPN-3, OPN-4).
    pub key_id: Option<String>,
}

impl PublicReader {
    /// A reader without a key, limited per address.
    pub fn anonymous(addr: &str) -> Self {
        PublicReader {
            bucket: format!("addr:{addr}"),
            rate_per_minute: ANONYMOUS_RATE_PER_MINUTE,
            key_id: None,
        }
    }

    /// A reader with a developer key, limited per key.
    pub fn with_key(key_id: &str) -> Self {
        PublicReader {
            bucket: format!("key:{key_id}"),
            rate_per_minute: KEY_RATE_PER_MINUTE,
            key_id: Some(key_id.to_string()),
        }
    }
}

/// OPN-3: a download of an open dataset. Its access record is already durable.
pub struct OpenDownload {
    pub access_id: String,
    pub rows: u64,
    pub response_hash: String,
    pub format: ExportFormat,
    /// The items written, typed as written (a masked item becomes text).
    pub schema: TableSchema,
    pub body: Spooled,
}

/// What the public sees of each item: the gate's default rules (DESIGN 2).
fn public_policy() -> MaskPolicy {
    MaskPolicy::default()
}

fn open_record(ctx: &Ctx, ds: &OpenDataset, operation: &str, request: String) -> AccessRecord {
    AccessRecord {
        id: new_id(),
        at: truncate_to_micros(Utc::now()),
        actor: ctx.principal.actor.clone(),
        consumer_org_id: None,
        token_id: None,
        grant_id: None,
        application_id: None,
        resource_id: Some(ds.id.clone()),
        source_org_id: Some(ds.owner_org_id.clone()),
        purpose: OPEN_MODE.into(),
        mode: OPEN_MODE.into(),
        operation: operation.into(),
        items: Vec::new(),
        request,
        row_count: 0,
        response_hash: String::new(),
        outcome: "denied".into(),
        denial: None,
    }
}

/// Makes a public read's access record durable with its audit anchor, which the
/// source department reads in its own trail.
async fn record_open(app: &App, ctx: &Ctx, rec: AccessRecord) -> ServiceResult<()> {
    let action = if rec.outcome == "served" {
        "open.access"
    } else {
        "open.access_denied"
    };
    let mut draft = ctx.audit(
        action,
        "catalog_entry",
        rec.resource_id.as_deref().unwrap_or("-"),
    );
    draft.org_id = rec.source_org_id.clone();
    draft.after = summary(&serde_json::json!({
        "access_id": rec.id,
        "operation": rec.operation,
        "rows": rec.row_count,
        "response_hash": rec.response_hash,
        "outcome": rec.outcome,
        "denial": rec.denial,
    }));
    append(app, draft, vec![rec]).await
}

/// Records a refused public read and returns the error the reader gets.
async fn refuse(app: &App, ctx: &Ctx, mut rec: AccessRecord, error: ServiceError) -> ServiceError {
    rec.denial = Some(error.code.clone());
    match record_open(app, ctx, rec).await {
        Ok(()) => error,
        Err(e) => e,
    }
}

fn application_required(ds: &OpenDataset) -> ServiceError {
    ServiceError::new(
        ErrorKind::Denied,
        "open.application_required",
        format!(
            "“{}”为有条件开放数据，须提交申请、经审核并签订数据利用协议后方可获取（HZ 37）",
            ds.content.name
        ),
        format!(
            "'{}' is open on conditions: apply, be approved and sign the data use agreement first (HZ 37)",
            ds.content.name
        ),
    )
}

fn rate_exceeded() -> ServiceError {
    ServiceError::new(
        ErrorKind::Locked,
        "open.rate_exceeded",
        "访问过于频繁，请稍后再试，或申请开发者密钥",
        "too many reads: wait a minute, or use a developer key",
    )
}

fn no_data(ds: &OpenDataset) -> ServiceError {
    ServiceError::conflict(
        "open.no_data",
        format!("“{}”尚未挂接数据", ds.content.name),
        format!("'{}' has no data mounted yet", ds.content.name),
    )
}

/// Counts one read against the reader's per-minute rate on this node.
fn take_public_rate(app: &App, reader: &PublicReader, now: DateTime<Utc>) -> bool {
    let bucket = format!("open:{}", reader.bucket);
    take_minute_slot(app, &bucket, reader.rate_per_minute, now)
}

/// OPN-4: the application that unlocks a conditional dataset for the reader's key.
async fn unlocking(
    app: &App,
    ds: &OpenDataset,
    reader: &PublicReader,
) -> ServiceResult<Option<gongshu_store::OpenApplication>> {
    match &reader.key_id {
        Some(key_id) => {
            crate::open_access::unlocking_application(app, key_id, ds, today_in_china(Utc::now()))
                .await
        }
        None => Ok(None),
    }
}

/// Admits a public read: open without conditions or unlocked by an application in
/// force for the reader's key (recorded with the read), under the reader's rate,
/// with data.
async fn admit_public(
    app: &App,
    ctx: &Ctx,
    ds: &OpenDataset,
    reader: &PublicReader,
    rec: &mut AccessRecord,
) -> ServiceResult<Arc<MountedTable>> {
    rec.token_id = reader.key_id.clone();
    let unlocked = if ds.access() == PublicAccess::Direct {
        true
    } else if let Some(a) = unlocking(app, ds, reader).await? {
        rec.application_id = Some(a.id.clone());
        rec.purpose = a.purpose.clone();
        true
    } else {
        false
    };
    let refusal = if !unlocked {
        Some(application_required(ds))
    } else if !take_public_rate(app, reader, Utc::now()) {
        Some(rate_exceeded())
    } else {
        None
    };
    if let Some(e) = refusal {
        return Err(refuse(app, ctx, rec.clone(), e).await);
    }
    ds.mounted.clone().ok_or_else(|| no_data(ds))
}

/// The columns a public read returns: those asked (each must exist), else all.
fn public_projection(schema: &TableSchema, asked: &[String]) -> ServiceResult<Vec<usize>> {
    if asked.is_empty() {
        return Ok((0..schema.columns.len()).collect());
    }
    asked
        .iter()
        .map(|n| {
            schema
                .columns
                .iter()
                .position(|c| c.name == *n)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "open.unknown_item",
                        "fields",
                        format!("数据集没有信息项“{n}”"),
                        format!("the dataset has no item '{n}'"),
                    )
                })
        })
        .collect()
}

/// Filters on items the public sees clear; a filter on a masked item would tell
/// whether a hidden value exists, so it is refused.
fn public_conditions(
    schema: &TableSchema,
    filters: &[(String, String)],
) -> ServiceResult<Vec<RowCondition>> {
    let policy = public_policy();
    filters
        .iter()
        .map(|(name, value)| {
            let column = schema
                .columns
                .iter()
                .find(|c| &c.name == name)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "open.unknown_item",
                        name,
                        format!("数据集没有信息项“{name}”"),
                        format!("the dataset has no item '{name}'"),
                    )
                })?;
            if policy.rule_for(column) != MaskRule::Clear {
                return Err(ServiceError::new(
                    ErrorKind::Denied,
                    "open.filter_on_masked_item",
                    format!("信息项“{name}”已脱敏，不能按其取值筛选"),
                    format!("item '{name}' is masked and cannot be filtered on"),
                ));
            }
            Ok(RowCondition::Equals {
                column: name.clone(),
                value: value.clone(),
            })
        })
        .collect()
}

fn public_values(
    app: &App,
    schema: &TableSchema,
    columns: &[usize],
    values: &[Value],
) -> Vec<Value> {
    let policy = public_policy();
    let key = app.mask_key.as_bytes();
    columns
        .iter()
        .map(|&i| {
            let rule = policy.rule_for(&schema.columns[i]);
            gongshu_domain::masking::mask_value(&rule, &values[i], key)
        })
        .collect()
}

/// The schema of what the public receives: the projected columns, masked ones as text.
fn public_schema(schema: &TableSchema, columns: &[usize]) -> TableSchema {
    let policy = public_policy();
    let columns = columns
        .iter()
        .map(|&i| {
            let mut c = schema.columns[i].clone();
            if policy.rule_for(&c) != MaskRule::Clear {
                c.field_type = FieldType::String;
            }
            c
        })
        .collect();
    TableSchema {
        columns,
        key: Vec::new(),
    }
}

/// OPN-3: a page of an open dataset's rows for anyone (the public dataset API,
/// CKAN's `datastore_search`), recorded as a `query`.
pub async fn open_page(
    app: &App,
    ctx: &Ctx,
    ds: &OpenDataset,
    reader: &PublicReader,
    q: OpenQuery,
) -> ServiceResult<OpenPage> {
    open_read(app, ctx, ds, reader, q, "query").await
}

/// OPN-3: the first rows of an open dataset shown on its portal page, read like a
/// page but recorded as a `preview`: part of a page view, not an API call (OPN-11).
pub async fn open_preview(
    app: &App,
    ctx: &Ctx,
    ds: &OpenDataset,
    reader: &PublicReader,
    limit: i64,
) -> ServiceResult<OpenPage> {
    let q = OpenQuery {
        limit,
        ..OpenQuery::default()
    };
    open_read(app, ctx, ds, reader, q, "preview").await
}

async fn open_read(
    app: &App,
    ctx: &Ctx,
    ds: &OpenDataset,
    reader: &PublicReader,
    q: OpenQuery,
    operation: &str,
) -> ServiceResult<OpenPage> {
    let request: Vec<String> = q.filters.iter().map(|(c, v)| format!("{c}={v}")).collect();
    let mut rec = open_record(ctx, ds, operation, request.join("&"));
    let mounted = admit_public(app, ctx, ds, reader, &mut rec).await?;
    let schema = &mounted.schema;
    let columns = public_projection(schema, &q.fields)?;
    let conditions = match public_conditions(schema, &q.filters) {
        Ok(c) => c,
        Err(e) => return Err(refuse(app, ctx, rec, e).await),
    };
    let key = PageKey {
        table: mounted.table.clone(),
        version: mounted.version,
        columns,
        filters: q.filters,
        after: q.after,
        limit: q.limit,
    };
    let cached = app.open.pages().get(&key);
    let served = match cached {
        Some(rows) => rows,
        None => {
            let rows = Arc::new(masked_page(app, &key, schema, conditions).await?);
            app.open.pages().put(key.clone(), Arc::clone(&rows));
            rows
        }
    };
    let items: Vec<String> = key
        .columns
        .iter()
        .map(|&i| schema.columns[i].name.clone())
        .collect();
    rec.items = items.clone();
    rec.row_count = served.rows.len() as i64;
    rec.response_hash = served.hash.clone();
    rec.outcome = "served".into();
    let access_id = rec.id.clone();
    record_open(app, ctx, rec).await?;
    Ok(OpenPage {
        dataset: ds.code.clone(),
        items,
        next: served.next.clone(),
        response_hash: served.hash.clone(),
        rows: PageRows(served),
        access_id,
    })
}

/// Reads, masks and hashes one page of rows for the public.
async fn masked_page(
    app: &App,
    key: &PageKey,
    schema: &TableSchema,
    conditions: Vec<RowCondition>,
) -> ServiceResult<ServedRows> {
    let (rows, next) = read_page(
        app,
        &key.table,
        schema,
        conditions,
        key.after.as_deref(),
        key.limit,
    )
    .await?;
    let columns = &key.columns;
    let out: Vec<serde_json::Map<String, serde_json::Value>> = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .zip(public_values(app, schema, columns, &r.values))
                .map(|(&i, v)| {
                    (
                        schema.columns[i].name.clone(),
                        serde_json::to_value(&v).unwrap_or(serde_json::Value::Null),
                    )
                })
                .collect()
        })
        .collect();
    let json = serde_json::value::to_raw_value(&out).map_err(|e| {
        ServiceError::new(
            ErrorKind::Internal,
            "open.page_failed",
            format!("无法生成数据页：{e}"),
            e.to_string(),
        )
    })?;
    let hash = hex::encode(Sm3::digest(json.get().as_bytes()));
    Ok(ServedRows {
        rows: out,
        json,
        hash,
        next,
    })
}

/// XLSX holds at most this many data rows on a sheet (one row is the heading).
const XLSX_MAX_ROWS: i64 = 1_048_575;

/// OPN-3, OPN-6: the whole of an open dataset as CSV, JSON lines, XLSX or Parquet,
/// masked as a page is. Encoded into a spool and hashed; the access record with the
/// row count and the hash is durable before the caller can send a byte.
pub async fn open_download(
    app: &App,
    ctx: &Ctx,
    ds: &OpenDataset,
    reader: &PublicReader,
    format: ExportFormat,
) -> ServiceResult<OpenDownload> {
    let mut rec = open_record(
        ctx,
        ds,
        "download",
        format!("format={}", format.extension()),
    );
    let mounted = admit_public(app, ctx, ds, reader, &mut rec).await?;
    let (table, schema) = (&mounted.table, &mounted.schema);
    if format == ExportFormat::Xlsx && ds.rows > XLSX_MAX_ROWS {
        return Err(ServiceError::invalid(
            "open.too_many_rows_for_xlsx",
            "format",
            format!(
                "数据集有 {} 行，超出 XLSX 上限，请下载 CSV 或 Parquet",
                ds.rows
            ),
            format!(
                "the dataset has {} rows, more than XLSX holds: download CSV or Parquet",
                ds.rows
            ),
        ));
    }
    let columns: Vec<usize> = (0..schema.columns.len()).collect();
    let served = public_schema(schema, &columns);
    let mut hashing = Hashing::new(Spool::default());
    let mut encoder = RowEncoder::new(format, &served, &mut hashing)?;
    let mut pages = Pages::new(table, schema, Vec::new());
    while let Some(page) = pages.next(app).await? {
        let masked: Vec<Vec<Value>> = page
            .iter()
            .map(|r| public_values(app, schema, &columns, &r.values))
            .collect();
        encoder.page(masked)?;
    }
    let rows = encoder.finish()?;
    let (spool, hash) = hashing.finish();
    let body = spool.finish().map_err(spool_failed)?;
    rec.items = column_names(&served);
    rec.row_count = rows as i64;
    rec.response_hash = hash.clone();
    rec.outcome = "served".into();
    let access_id = rec.id.clone();
    record_open(app, ctx, rec).await?;
    Ok(OpenDownload {
        access_id,
        rows,
        response_hash: hash,
        format,
        schema: served,
        body,
    })
}

/// OPN-7: the schema the public receives of an open dataset (its data dictionary as
/// served), or None with no data mounted. Reads no rows.
pub async fn open_schema(app: &App, ds: &OpenDataset) -> ServiceResult<Option<TableSchema>> {
    Ok(app.data.get_dataset(&ds.id).await?.map(|d| {
        let columns: Vec<usize> = (0..d.schema.columns.len()).collect();
        public_schema(&d.schema, &columns)
    }))
}
