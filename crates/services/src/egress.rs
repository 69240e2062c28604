//! DESIGN 2, SHR-2, SHR-6, SHR-8, SHR-9, GOV-5: the one egress gate. Every read of
//! dataset rows passes here. A consumer's call is checked against its grant (exists,
//! active, in time, right mode, right token); rows are projected to the granted
//! items, limited by the grant's row filter, masked, metered against rate and
//! quota, and an access record is made durable — anchored in the audit chain —
//! before the answer leaves. Denied calls are recorded too. Reads outside any grant
//! (a department's preview and export of its own data, the platform's base records
//! and cross-checks) are recorded the same way, as `internal` reads.
//!
//! Only this module holds the row reader of the store ([`Rows`]); the services'
//! clippy.toml refuses `Store::row_reader` and the row reads everywhere else.
#![allow(clippy::disallowed_methods)]
use std::collections::BTreeMap;
use std::io::{Seek, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use gongshu_domain::audit::{truncate_to_micros, AuditDraft};
use gongshu_domain::catalog::{FieldType, KeyRole};
use gongshu_domain::dataset::{TableSchema, Value};
use gongshu_domain::masking::{mask_text, MaskRule};
use gongshu_domain::permissions::Permission;
use gongshu_domain::sharing::{admit, AccessMode, CallFacts, Denial, GrantFacts, GrantStatus};
use gongshu_store::{
    AccessRecord, AnsweredDifferences, Change, ColumnRef, Comparison, Dataset, RowCondition,
    RowQuery, RowReader, ShareGrant, Store, StoredRow,
};
use serde::Serialize;
use sm3::{Digest, Sm3};

use crate::audit_writer::AuditWriter;
use crate::catalog::today_in_china;
use crate::context::{new_id, summary, App, Ctx};
use crate::datasets::{ExportFormat, LoadProgress, RowEncoder};
use crate::error::{ErrorKind, ServiceError, ServiceResult};
use gongshu_domain::social_data::serves_social_data;

mod open;
pub(crate) use open::PageCache;
pub use open::{
    open_download, open_page, open_preview, open_schema, OpenDownload, OpenPage, OpenQuery,
    PageRows, PublicReader, ANONYMOUS_RATE_PER_MINUTE, KEY_RATE_PER_MINUTE,
};
mod rejects;
mod release;
pub use rejects::RejectsFormat;
pub(crate) use rejects::{rejects_file, rejects_page};
pub(crate) use release::release_rows;
pub use release::{ReleaseRead, ReleaseServed};

/// DESIGN 2: the handle on the rows of dataset tables. Its field is private to this
/// module, so no other service can read rows through it.
pub(crate) struct Rows(Arc<dyn RowReader>);

impl Rows {
    pub(crate) fn open(store: &dyn Store) -> Self {
        Self(store.row_reader())
    }
}

async fn read_rows(
    app: &App,
    table: &str,
    schema: &TableSchema,
    q: &RowQuery,
) -> ServiceResult<Vec<StoredRow>> {
    Ok(app.rows.0.read_rows(table, schema, q).await?)
}

/// The most rows one query page returns.
pub const MAX_PAGE: i64 = 1000;

/// The rows a call was served, and the grant it was served under.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Served {
    pub grant_id: String,
    /// The items returned, in order.
    pub items: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Cursor of the next page (`query` only).
    pub next: Option<String>,
    pub access_id: String,
    /// SM3 of the JSON of `rows`, as the access record keeps it.
    pub response_hash: String,
}

/// SHR-6: match / no match per item, never the data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verified {
    pub grant_id: String,
    pub matches: BTreeMap<String, bool>,
    pub access_id: String,
}

/// A filtered, paged read (SHR-2).
#[derive(Debug, Clone, Default)]
pub struct DataQuery {
    /// Item = value conditions; every item must be granted.
    pub filters: Vec<(String, String)>,
    /// Items to return; empty: every granted item.
    pub fields: Vec<String>,
    /// A cursor from an earlier page.
    pub after: Option<String>,
    pub limit: i64,
    pub grant_id: Option<String>,
}

/// The schema of a resource's mounted table, if it has one.
pub(crate) async fn schema_of(app: &App, resource_id: &str) -> ServiceResult<Option<TableSchema>> {
    Ok(app.data.get_dataset(resource_id).await?.map(|d| d.schema))
}

fn writer(app: &App) -> &AuditWriter {
    app.access_writer
        .get_or_init(|| AuditWriter::spawn(app.store.clone(), 512))
}

/// What a call is about, for its access record.
struct Attempt<'a> {
    resource_id: &'a str,
    mode: AccessMode,
    operation: &'static str,
    request: String,
}

fn denied_error(d: Denial) -> ServiceError {
    let kind = match d {
        Denial::NoToken | Denial::BadToken => ErrorKind::Unauthenticated,
        Denial::QuotaExceeded | Denial::RateExceeded => ErrorKind::Locked,
        _ => ErrorKind::Denied,
    };
    ServiceError::new(kind, d.code(), d.message_zh(), d.message_en())
}

/// Appends the access record and its audit anchor in one durable transaction.
async fn record(app: &App, ctx: Option<&Ctx>, rec: AccessRecord) -> ServiceResult<()> {
    let action = if rec.outcome == "served" {
        "data.access"
    } else {
        "data.access_denied"
    };
    let mut draft = match ctx {
        Some(c) => c.audit(
            action,
            "share_grant",
            rec.grant_id.as_deref().unwrap_or("-"),
        ),
        None => {
            let mut d = AuditDraft::new("anonymous", action, "share_grant");
            d.object_id = rec.grant_id.clone();
            d
        }
    };
    // The source department reads the calls on its data in its own audit trail.
    draft.org_id = rec.source_org_id.clone().or(rec.consumer_org_id.clone());
    draft.after = summary(&serde_json::json!({
        "access_id": rec.id,
        "resource_id": rec.resource_id,
        "consumer_org_id": rec.consumer_org_id,
        "operation": rec.operation,
        "rows": rec.row_count,
        "response_hash": rec.response_hash,
        "outcome": rec.outcome,
        "denial": rec.denial,
    }));
    append(app, draft, vec![rec]).await
}

/// Makes access records and their one audit anchor durable together.
async fn append(app: &App, draft: AuditDraft, recs: Vec<AccessRecord>) -> ServiceResult<()> {
    let changes = if recs.is_empty() {
        Vec::new()
    } else {
        vec![Change::InsertAccess(recs)]
    };
    writer(app).append_with(draft, changes).await?;
    Ok(())
}

fn base_record(
    ctx: Option<&Ctx>,
    attempt: &Attempt<'_>,
    grant: Option<&ShareGrant>,
) -> AccessRecord {
    AccessRecord {
        id: new_id(),
        at: truncate_to_micros(Utc::now()),
        actor: ctx.map_or_else(|| "anonymous".to_string(), |c| c.principal.actor.clone()),
        consumer_org_id: ctx.and_then(|c| c.principal.org_id.clone()),
        token_id: ctx.and_then(|c| c.principal.token_id.clone()),
        grant_id: grant.map(|g| g.id.clone()),
        application_id: None,
        resource_id: Some(attempt.resource_id.to_string()),
        source_org_id: grant.map(|g| g.source_org_id.clone()),
        purpose: grant.map(|g| g.purpose.clone()).unwrap_or_default(),
        mode: attempt.mode.key().into(),
        operation: attempt.operation.into(),
        items: Vec::new(),
        request: attempt.request.clone(),
        row_count: 0,
        response_hash: String::new(),
        outcome: "denied".into(),
        denial: None,
    }
}

/// Records a denied call and returns the error the caller gets.
async fn deny(
    app: &App,
    ctx: Option<&Ctx>,
    attempt: &Attempt<'_>,
    grant: Option<&ShareGrant>,
    denial: Denial,
) -> ServiceError {
    let mut rec = base_record(ctx, attempt, grant);
    if rec.source_org_id.is_none() {
        if let Ok(Some(entry)) = crate::catalog::find_entry(app, attempt.resource_id).await {
            rec.resource_id = Some(entry.id.clone());
            if let Ok(Some(d)) = app.data.get_dataset(&entry.id).await {
                rec.source_org_id = Some(d.org_id);
            }
        }
    }
    rec.denial = Some(denial.code().into());
    match record(app, ctx, rec).await {
        Ok(()) => denied_error(denial),
        Err(e) => e,
    }
}

/// GOV-5: a call refused before it had a principal (no token, bad token) is recorded too.
pub async fn record_unauthenticated(
    app: &App,
    resource_id: &str,
    operation: &'static str,
    denial: Denial,
) -> ServiceError {
    // The mode the call would have been served in, by what it asked to do.
    let mode = match operation {
        "download" => AccessMode::Download,
        "verify" => AccessMode::Verification,
        _ => AccessMode::Api,
    };
    let attempt = Attempt {
        resource_id,
        mode,
        operation,
        request: String::new(),
    };
    deny(app, None, &attempt, None, denial).await
}

/// Counts one call in `bucket` for the current minute on this node; false once the
/// minute's calls exceed `per_minute` (0: no limit).
pub(crate) fn take_minute_slot(
    app: &App,
    bucket: &str,
    per_minute: i64,
    now: DateTime<Utc>,
) -> bool {
    if per_minute <= 0 {
        return true;
    }
    let minute = now.timestamp() / 60;
    let mut map = app.rate_meter.lock().unwrap_or_else(|e| e.into_inner());
    let slot = map.entry(bucket.to_string()).or_insert((minute, 0));
    if slot.0 != minute {
        *slot = (minute, 0);
    }
    slot.1 += 1;
    slot.1 <= per_minute
}

/// Counts one call against the grant's per-minute rate on this node.
fn take_rate(app: &App, grant: &ShareGrant, now: DateTime<Utc>) -> bool {
    take_minute_slot(app, &grant.id, grant.rate_per_minute, now)
}

/// Finds the grant that admits this call and what is left of its daily quota
/// (calls, or rows for a download), or the denial to record.
async fn admit_call(
    app: &App,
    ctx: &Ctx,
    attempt: &Attempt<'_>,
    grant_id: Option<&str>,
) -> Result<(ShareGrant, i64), (Option<ShareGrant>, Denial)> {
    let p = &ctx.principal;
    let org = p.org_id.clone().unwrap_or_default();
    if p.authorize(Permission::DataConsume, Some(&org)).is_err() {
        return Err((None, Denial::NoGrant));
    }
    let now = Utc::now();
    let candidates = app
        .store
        .grants_for_call(&org, attempt.resource_id, grant_id, today_in_china(now))
        .await
        .unwrap_or_default();
    if candidates.is_empty() {
        return Err((None, Denial::NoGrant));
    }
    let call = CallFacts {
        org_id: &org,
        token_id: p.token_id.as_deref(),
        mode: attempt.mode,
        today: today_in_china(now),
    };
    let mut first_denial: Option<(ShareGrant, Denial)> = None;
    for (g, served) in candidates {
        let facts = GrantFacts {
            status: GrantStatus::parse(&g.status).unwrap_or(GrantStatus::Revoked),
            consumer_org_id: &g.consumer_org_id,
            token_id: g.token_id.as_deref(),
            mode: AccessMode::parse(&g.mode).unwrap_or(AccessMode::Verification),
            starts_on: g.starts_on,
            ends_on: g.ends_on,
        };
        match admit(&facts, &call) {
            Ok(()) => {
                if !take_rate(app, &g, now) {
                    return Err((Some(g), Denial::RateExceeded));
                }
                if g.daily_quota <= 0 {
                    return Ok((g, i64::MAX));
                }
                // SHR-2: a download grant's quota counts rows, the others' calls.
                let used = match attempt.mode {
                    AccessMode::Download => served.rows,
                    _ => served.calls,
                };
                if used >= g.daily_quota {
                    return Err((Some(g), Denial::QuotaExceeded));
                }
                let left = g.daily_quota - used;
                return Ok((g, left));
            }
            Err(d) => {
                // A grant of the right mode explains a refusal better than another one.
                let better = match &first_denial {
                    None => true,
                    Some((_, prev)) => *prev == Denial::WrongMode && d != Denial::WrongMode,
                };
                if better {
                    first_denial = Some((g, d));
                }
            }
        }
    }
    let (g, d) = first_denial.expect("at least one candidate");
    Err((Some(g), d))
}

/// The column a lookup reads by: the named one, else the table's key, else its
/// citizen-ID or credit-code column.
fn lookup_column(schema: &TableSchema, by: Option<&str>) -> Option<String> {
    if let Some(by) = by {
        return schema
            .columns
            .iter()
            .find(|c| c.name == by)
            .map(|c| c.name.clone());
    }
    if schema.key.len() == 1 {
        return Some(schema.columns[schema.key[0]].name.clone());
    }
    [KeyRole::CitizenId, KeyRole::CreditCode]
        .into_iter()
        .find_map(|r| schema.subject_column(r))
        .map(|i| schema.columns[i].name.clone())
}

/// The items a call returns: those asked (each must be granted), else all granted.
fn projection(
    grant: &ShareGrant,
    schema: &TableSchema,
    asked: &[String],
) -> Result<Vec<usize>, Denial> {
    let names = gongshu_domain::sharing::project(&grant.items, asked)?;
    names
        .iter()
        .map(|n| {
            schema
                .columns
                .iter()
                .position(|c| c.name == *n)
                .ok_or(Denial::ItemNotGranted)
        })
        .collect()
}

/// The projected values of a row, each masked by the grant's rule for its item.
fn masked_values(
    app: &App,
    grant: &ShareGrant,
    schema: &TableSchema,
    columns: &[usize],
    values: &[Value],
) -> Vec<Value> {
    let key = app.mask_key.as_bytes();
    columns
        .iter()
        .map(|&i| {
            let rule = grant.masking.rule_for(&schema.columns[i]);
            gongshu_domain::masking::mask_value(&rule, &values[i], key)
        })
        .collect()
}

fn masked_row(
    app: &App,
    grant: &ShareGrant,
    schema: &TableSchema,
    columns: &[usize],
    values: &[Value],
) -> serde_json::Map<String, serde_json::Value> {
    columns
        .iter()
        .zip(masked_values(app, grant, schema, columns, values))
        .map(|(&i, masked)| {
            (
                schema.columns[i].name.clone(),
                serde_json::to_value(&masked).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

/// SM3 (hex) of the JSON of what a read returned.
fn hash_json<T: Serialize + ?Sized>(value: &T) -> String {
    hex::encode(Sm3::digest(serde_json::to_vec(value).unwrap_or_default()))
}

/// Masks what the consumer asked for, as its access record keeps it.
fn masked_request(
    app: &App,
    schema: &TableSchema,
    grant: Option<&ShareGrant>,
    column: &str,
    value: &str,
) -> String {
    let rule = match (schema.columns.iter().find(|c| c.name == column), grant) {
        (Some(c), Some(g)) => g.masking.rule_for(c),
        (Some(c), None) => gongshu_domain::masking::default_rule(c),
        _ => gongshu_domain::masking::MaskRule::Suppress,
    };
    let shown = mask_text(&rule, value, app.mask_key.as_bytes()).unwrap_or_else(|| "***".into());
    format!("{column}={shown}")
}

/// The resource's id (given its id or code), current table and schema.
async fn mounted(app: &App, resource: &str) -> ServiceResult<(String, String, TableSchema)> {
    let missing = || ServiceError::not_found("数据集", "dataset", resource);
    let today = today_in_china(Utc::now());
    let Some(served) = app.data.find_served_dataset(resource, today).await? else {
        return Err(missing());
    };
    let d = served.dataset;
    if served.entry_offline {
        // SHR-13: a resource taken offline (replaced) serves no one.
        return Err(ServiceError::conflict(
            "egress.resource_offline",
            format!("资源“{resource}”已下架，不再提供数据"),
            format!("resource '{resource}' was taken offline and serves no data"),
        ));
    }
    if d.withheld_as_secret() {
        return Err(ServiceError::conflict(
            "egress.secrecy_withheld",
            format!("资源“{resource}”经提供部门保密审查涉及国家秘密，暂停提供数据（COL-6）"),
            format!(
                "resource '{resource}' is withheld: its department's secrecy review found state secrets (COL-6)"
            ),
        ));
    }
    if !serves_social_data(served.social_agreements, served.social_agreements_in_force) {
        return Err(ServiceError::conflict(
            "egress.social_agreement_not_in_force",
            format!("资源“{resource}”是社会数据，今天不在其采购或授权协议的期限内，暂停提供（COL-8）"),
            format!(
                "resource '{resource}' is social data and no purchase or authorisation agreement over it is in force today (COL-8)"
            ),
        ));
    }
    match d.current_table {
        Some(table) => Ok((d.resource_id, table, d.schema)),
        _ => Err(missing()),
    }
}

/// Records a call served under `grant`; returns the access record's id.
async fn record_served(
    app: &App,
    ctx: &Ctx,
    attempt: &Attempt<'_>,
    grant: &ShareGrant,
    items: Vec<String>,
    rows: i64,
    response_hash: String,
) -> ServiceResult<String> {
    let mut rec = base_record(Some(ctx), attempt, Some(grant));
    rec.items = items;
    rec.row_count = rows;
    rec.response_hash = response_hash;
    rec.outcome = "served".into();
    let access_id = rec.id.clone();
    record(app, Some(ctx), rec).await?;
    Ok(access_id)
}

/// Serves rows after every check, and records the call.
async fn serve(
    app: &App,
    ctx: &Ctx,
    attempt: &Attempt<'_>,
    grant: &ShareGrant,
    (schema, columns): (&TableSchema, &[usize]),
    rows: &[gongshu_store::StoredRow],
    next: Option<String>,
) -> ServiceResult<Served> {
    let out: Vec<_> = rows
        .iter()
        .map(|r| masked_row(app, grant, schema, columns, &r.values))
        .collect();
    let hash = hash_json(&out);
    let items: Vec<String> = columns
        .iter()
        .map(|&i| schema.columns[i].name.clone())
        .collect();
    let rows = out.len() as i64;
    let access_id =
        record_served(app, ctx, attempt, grant, items.clone(), rows, hash.clone()).await?;
    Ok(Served {
        grant_id: grant.id.clone(),
        items,
        rows: out,
        next,
        access_id,
        response_hash: hash,
    })
}

/// The rows whose `column` holds `key` (a lookup's or a verification's subject).
async fn rows_by_key(
    app: &App,
    table: &str,
    schema: &TableSchema,
    column: &str,
    key: &str,
    limit: i64,
) -> ServiceResult<Vec<gongshu_store::StoredRow>> {
    let q = RowQuery {
        conditions: vec![RowCondition::Equals {
            column: column.to_string(),
            value: key.trim().to_string(),
        }],
        limit,
        ..Default::default()
    };
    read_rows(app, table, schema, &q).await
}

/// SHR-2: the record(s) whose key (or the named identifier column `by`) equals `key`.
pub async fn lookup(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    key: &str,
    by: Option<&str>,
    fields: &[String],
    grant_id: Option<&str>,
) -> ServiceResult<Served> {
    let call = KeyCall {
        mode: AccessMode::Api,
        resource,
        key,
        by,
        fields,
        grant_id,
    };
    lookup_in_mode(app, ctx, call).await
}

/// SHR-2: page query (页面查询) in the console: a person of the consumer department
/// looks one record up under a `page_query` grant, by the resource's key.
pub async fn page_lookup(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    key: &str,
    grant_id: &str,
) -> ServiceResult<Served> {
    let call = KeyCall {
        mode: AccessMode::PageQuery,
        resource,
        key,
        by: None,
        fields: &[],
        grant_id: Some(grant_id),
    };
    lookup_in_mode(app, ctx, call).await
}

/// One read by key, in the mode the caller uses.
struct KeyCall<'a> {
    mode: AccessMode,
    resource: &'a str,
    key: &'a str,
    by: Option<&'a str>,
    fields: &'a [String],
    grant_id: Option<&'a str>,
}

async fn lookup_in_mode(app: &App, ctx: &Ctx, call: KeyCall<'_>) -> ServiceResult<Served> {
    let KeyCall {
        mode,
        resource,
        key,
        by,
        fields,
        grant_id,
    } = call;
    let (resource_id, table, schema) = mounted(app, resource).await?;
    let resource_id = resource_id.as_str();
    let column = lookup_column(&schema, by).ok_or_else(|| {
        ServiceError::invalid(
            "egress.no_key",
            "by",
            "该数据集没有可用于查询的键",
            "the dataset has no key to look up by",
        )
    })?;
    let mut attempt = Attempt {
        resource_id,
        mode,
        operation: "lookup",
        request: masked_request(app, &schema, None, &column, key),
    };
    let grant = match admit_call(app, ctx, &attempt, grant_id).await {
        Ok((g, _)) => g,
        Err((g, d)) => return Err(deny(app, Some(ctx), &attempt, g.as_ref(), d).await),
    };
    attempt.request = masked_request(app, &schema, Some(&grant), &column, key);
    let columns = match projection(&grant, &schema, fields) {
        Ok(c) if grant.items.contains(&column) => c,
        Ok(_) | Err(_) => {
            return Err(deny(
                app,
                Some(ctx),
                &attempt,
                Some(&grant),
                Denial::ItemNotGranted,
            )
            .await)
        }
    };
    let rows = rows_by_key(app, &table, &schema, &column, key, 100).await?;
    if let Some(f) = &grant.row_filter {
        let i = schema.columns.iter().position(|c| c.name == f.column);
        let outside = rows
            .iter()
            .any(|r| i.is_none_or(|i| !f.admits(&r.values[i].to_text())));
        if outside {
            return Err(deny(
                app,
                Some(ctx),
                &attempt,
                Some(&grant),
                Denial::OutsideFilter,
            )
            .await);
        }
    }
    serve(app, ctx, &attempt, &grant, (&schema, &columns), &rows, None).await
}

/// One cursor page of a table's rows for a grant's query or a public read: the size
/// bounded (100 when unset, at most MAX_PAGE), the cursor checked, and the cursor of
/// the next page when this one is full.
async fn read_page(
    app: &App,
    table: &str,
    schema: &TableSchema,
    conditions: Vec<RowCondition>,
    after: Option<&str>,
    limit: i64,
) -> ServiceResult<(Vec<StoredRow>, Option<String>)> {
    let limit = if limit <= 0 { 100 } else { limit.min(MAX_PAGE) };
    let after = match after {
        Some(c) => Some(parse_cursor(c).ok_or_else(|| {
            ServiceError::invalid(
                "egress.bad_cursor",
                "after",
                "分页游标无效",
                "invalid page cursor",
            )
        })?),
        None => None,
    };
    let rows = read_rows(
        app,
        table,
        schema,
        &RowQuery {
            conditions,
            after,
            limit,
        },
    )
    .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| format!("{}:{}", r.load, r.row)))
        .flatten();
    Ok((rows, next))
}

fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let (a, b) = text.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The row conditions of a filtered read: the consumer's (each on a granted item,
/// inside the grant's row filter), then the grant's row filter itself (SHR-8, SHR-11).
fn conditions(
    grant: &ShareGrant,
    filters: &[(String, String)],
) -> Result<Vec<RowCondition>, Denial> {
    let mut out = Vec::new();
    for (column, value) in filters {
        if !grant.items.contains(column) {
            return Err(Denial::ItemNotGranted);
        }
        if let Some(f) = &grant.row_filter {
            if &f.column == column && !f.admits(value) {
                return Err(Denial::OutsideFilter);
            }
        }
        out.push(RowCondition::Equals {
            column: column.clone(),
            value: value.clone(),
        });
    }
    if let Some(f) = &grant.row_filter {
        if let Some(p) = &f.prefix {
            out.push(RowCondition::Prefix {
                column: f.column.clone(),
                prefix: p.clone(),
            });
        }
        if let Some(e) = &f.equals {
            out.push(RowCondition::Equals {
                column: f.column.clone(),
                value: e.clone(),
            });
        }
    }
    Ok(out)
}

/// SHR-2: filtered query with paging and field selection.
pub async fn query(app: &App, ctx: &Ctx, resource: &str, q: DataQuery) -> ServiceResult<Served> {
    let (resource_id, table, schema) = mounted(app, resource).await?;
    let resource_id = resource_id.as_str();
    let shown: Vec<String> = q
        .filters
        .iter()
        .map(|(c, v)| masked_request(app, &schema, None, c, v))
        .collect();
    let attempt = Attempt {
        resource_id,
        mode: AccessMode::Api,
        operation: "query",
        request: shown.join("&"),
    };
    let grant = match admit_call(app, ctx, &attempt, q.grant_id.as_deref()).await {
        Ok((g, _)) => g,
        Err((g, d)) => return Err(deny(app, Some(ctx), &attempt, g.as_ref(), d).await),
    };
    let columns = match projection(&grant, &schema, &q.fields) {
        Ok(c) => c,
        Err(d) => return Err(deny(app, Some(ctx), &attempt, Some(&grant), d).await),
    };
    let conditions = match conditions(&grant, &q.filters) {
        Ok(c) => c,
        Err(d) => return Err(deny(app, Some(ctx), &attempt, Some(&grant), d).await),
    };
    let (rows, next) = read_page(
        app,
        &table,
        &schema,
        conditions,
        q.after.as_deref(),
        q.limit,
    )
    .await?;
    serve(app, ctx, &attempt, &grant, (&schema, &columns), &rows, next).await
}

/// SHR-6: verification (核验): the consumer sends the values it holds for a subject
/// and learns, per item, whether they match; it never receives the data.
pub async fn verify(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    key: &str,
    claims: &BTreeMap<String, String>,
    grant_id: Option<&str>,
) -> ServiceResult<Verified> {
    let (resource_id, table, schema) = mounted(app, resource).await?;
    let resource_id = resource_id.as_str();
    let column = lookup_column(&schema, None).ok_or_else(|| {
        ServiceError::invalid(
            "egress.no_key",
            "key",
            "该数据集没有可用于核验的键",
            "the dataset has no key to verify by",
        )
    })?;
    let attempt = Attempt {
        resource_id,
        mode: AccessMode::Verification,
        operation: "verify",
        request: masked_request(app, &schema, None, &column, key),
    };
    let grant = match admit_call(app, ctx, &attempt, grant_id).await {
        Ok((g, _)) => g,
        Err((g, d)) => return Err(deny(app, Some(ctx), &attempt, g.as_ref(), d).await),
    };
    if claims.keys().any(|c| !grant.items.contains(c)) || !grant.items.contains(&column) {
        return Err(deny(
            app,
            Some(ctx),
            &attempt,
            Some(&grant),
            Denial::ItemNotGranted,
        )
        .await);
    }
    let rows = rows_by_key(app, &table, &schema, &column, key, 1).await?;
    let row = rows.first().filter(|r| {
        grant.row_filter.as_ref().is_none_or(|f| {
            schema
                .columns
                .iter()
                .position(|c| c.name == f.column)
                .is_some_and(|i| f.admits(&r.values[i].to_text()))
        })
    });
    let matches: BTreeMap<String, bool> = claims
        .iter()
        .map(|(item, claimed)| {
            let same = row.is_some_and(|r| {
                schema
                    .columns
                    .iter()
                    .position(|c| &c.name == item)
                    .is_some_and(|i| r.values[i].to_text() == claimed.trim())
            });
            (item.clone(), same)
        })
        .collect();
    let body = serde_json::to_vec(&matches).unwrap_or_default();
    let items = claims.keys().cloned().collect();
    let hash = hex::encode(Sm3::digest(&body));
    let rows = i64::from(row.is_some());
    let access_id = record_served(app, ctx, &attempt, &grant, items, rows, hash).await?;
    Ok(Verified {
        grant_id: grant.id.clone(),
        matches,
        access_id,
    })
}

/// Rows read from the store per page by a download or an export.
const PAGE_ROWS: i64 = 5_000;

/// Keyset pages of a table's rows meeting `conditions`.
struct Pages<'a> {
    table: &'a str,
    schema: &'a TableSchema,
    conditions: Vec<RowCondition>,
    after: Option<(i64, i64)>,
    done: bool,
}

impl<'a> Pages<'a> {
    fn new(table: &'a str, schema: &'a TableSchema, conditions: Vec<RowCondition>) -> Self {
        Self {
            table,
            schema,
            conditions,
            after: None,
            done: false,
        }
    }

    /// The next page, or None after the last.
    async fn next(&mut self, app: &App) -> ServiceResult<Option<Vec<StoredRow>>> {
        if self.done {
            return Ok(None);
        }
        let q = RowQuery {
            conditions: self.conditions.clone(),
            after: self.after,
            limit: PAGE_ROWS,
        };
        let page = read_rows(app, self.table, self.schema, &q).await?;
        self.done = (page.len() as i64) < PAGE_ROWS;
        match page.last() {
            Some(last) => {
                self.after = Some((last.load, last.row));
                Ok(Some(page))
            }
            None => Ok(None),
        }
    }
}

/// A writer that hashes (SM3) every byte it passes on: the access record keeps the
/// hash of exactly what was written.
struct Hashing<W: Write> {
    inner: W,
    hash: Sm3,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hash: Sm3::new(),
        }
    }

    fn finish(self) -> (W, String) {
        (self.inner, hex::encode(self.hash.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A download kept in memory up to this size, in a temporary file beyond.
const SPOOL_IN_MEMORY: usize = 8 * 1024 * 1024;

/// The encoded bytes of a download, waiting until its access record is durable.
pub enum Spooled {
    Memory(Vec<u8>),
    /// An unnamed temporary file (gone once closed), positioned at its start.
    File {
        file: std::fs::File,
        len: u64,
    },
}

impl Spooled {
    pub fn len(&self) -> u64 {
        match self {
            Spooled::Memory(b) => b.len() as u64,
            Spooled::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a download is encoded: memory, moving to a temporary file once large.
#[derive(Default)]
struct Spool {
    memory: Vec<u8>,
    file: Option<std::io::BufWriter<std::fs::File>>,
    len: u64,
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write_all(buf)?,
            None => {
                self.memory.extend_from_slice(buf);
                if self.memory.len() > SPOOL_IN_MEMORY {
                    let mut f = std::io::BufWriter::new(tempfile::tempfile()?);
                    f.write_all(&std::mem::take(&mut self.memory))?;
                    self.file = Some(f);
                }
            }
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Spool {
    fn finish(self) -> std::io::Result<Spooled> {
        match self.file {
            None => Ok(Spooled::Memory(self.memory)),
            Some(f) => {
                let mut file = f.into_inner().map_err(|e| e.into_error())?;
                file.rewind()?;
                Ok(Spooled::File {
                    file,
                    len: self.len,
                })
            }
        }
    }
}

fn spool_failed(e: std::io::Error) -> ServiceError {
    ServiceError::new(
        ErrorKind::Internal,
        "egress.spool_failed",
        format!("暂存下载文件失败：{e}"),
        format!("spooling the download failed: {e}"),
    )
}

fn bad_format(text: &str) -> ServiceError {
    ServiceError::invalid(
        "egress.bad_format",
        "format",
        format!("不支持的下载格式“{text}”：可用 csv、json、parquet"),
        format!("unsupported download format '{text}': csv, json or parquet"),
    )
}

/// SHR-2: the format of a bulk download (`csv` when none is named); XLSX is only
/// for a department's own export.
pub fn download_format(text: Option<&str>) -> ServiceResult<ExportFormat> {
    let text = text.unwrap_or("csv");
    match ExportFormat::parse(text) {
        Some(f) if f != ExportFormat::Xlsx => Ok(f),
        _ => Err(bad_format(text)),
    }
}

/// SHR-2: a bulk download asked of the gate.
#[derive(Debug, Clone)]
pub struct DownloadRequest {
    pub format: ExportFormat,
    /// Item = value conditions; every item must be granted.
    pub filters: Vec<(String, String)>,
    /// Items to write; empty: every granted item.
    pub fields: Vec<String>,
    pub grant_id: Option<String>,
}

/// SHR-2: a download the gate served. Its access record is already durable; the
/// bytes wait in `body`.
pub struct Download {
    pub grant_id: String,
    pub access_id: String,
    /// The items written, in order.
    pub items: Vec<String>,
    pub rows: u64,
    /// SM3 of the bytes of `body`, as the access record keeps it.
    pub response_hash: String,
    pub format: ExportFormat,
    pub resource_code: String,
    pub resource_name: String,
    pub body: Spooled,
}

/// The schema of what a grant's consumer receives: the projected columns, those
/// masked into text typed as text (a Parquet column keeps one type).
fn served_schema(grant: &ShareGrant, schema: &TableSchema, columns: &[usize]) -> TableSchema {
    let columns = columns
        .iter()
        .map(|&i| {
            let mut c = schema.columns[i].clone();
            if grant.masking.rule_for(&c) != MaskRule::Clear {
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

/// SHR-2: bulk download (CSV, JSON lines or Parquet) under a `download` grant: only
/// granted items, the grant's row filter applied, masked as a lookup is, the daily
/// quota counted in rows. The file is encoded into a spool and hashed; the access
/// record with the row count and that hash is durable before the caller can send
/// a byte of it.
pub async fn download(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    req: DownloadRequest,
) -> ServiceResult<Download> {
    let format = req.format;
    if format == ExportFormat::Xlsx {
        return Err(bad_format(format.extension()));
    }
    let (resource_id, table, schema) = mounted(app, resource).await?;
    let resource_id = resource_id.as_str();
    let mut shown: Vec<String> = req
        .filters
        .iter()
        .map(|(c, v)| masked_request(app, &schema, None, c, v))
        .collect();
    shown.push(format!("format={}", format.extension()));
    let attempt = Attempt {
        resource_id,
        mode: AccessMode::Download,
        operation: "download",
        request: shown.join("&"),
    };
    let (grant, left) = match admit_call(app, ctx, &attempt, req.grant_id.as_deref()).await {
        Ok(admitted) => admitted,
        Err((g, d)) => return Err(deny(app, Some(ctx), &attempt, g.as_ref(), d).await),
    };
    let refuse = |d: Denial| deny(app, Some(ctx), &attempt, Some(&grant), d);
    let columns = match projection(&grant, &schema, &req.fields) {
        Ok(c) => c,
        Err(d) => return Err(refuse(d).await),
    };
    let conditions = match conditions(&grant, &req.filters) {
        Ok(c) => c,
        Err(d) => return Err(refuse(d).await),
    };
    let served = served_schema(&grant, &schema, &columns);
    let mut hashing = Hashing::new(Spool::default());
    let mut encoder = RowEncoder::new(format, &served, &mut hashing)?;
    let mut pages = Pages::new(&table, &schema, conditions);
    while let Some(page) = pages.next(app).await? {
        if encoder.written() + page.len() as u64 > left as u64 {
            drop(encoder);
            return Err(refuse(Denial::QuotaExceeded).await);
        }
        let masked: Vec<Vec<Value>> = page
            .iter()
            .map(|r| masked_values(app, &grant, &schema, &columns, &r.values))
            .collect();
        encoder.page(masked)?;
    }
    let rows = encoder.finish()?;
    let (spool, hash) = hashing.finish();
    let body = spool.finish().map_err(spool_failed)?;
    let items = column_names(&served);
    let access_id = record_served(
        app,
        ctx,
        &attempt,
        &grant,
        items.clone(),
        rows as i64,
        hash.clone(),
    )
    .await?;
    Ok(Download {
        grant_id: grant.id.clone(),
        access_id,
        items,
        rows,
        response_hash: hash,
        format,
        resource_code: grant.resource_code.clone(),
        resource_name: grant.resource_name.clone(),
        body,
    })
}

/// Why rows are read outside any grant. Each such read is recorded like a
/// consumer's call (GOV-5), as the reader's, with this as its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Internal {
    /// A department looks at its own delivered rows.
    Preview,
    /// A department exports its own rows.
    Export,
    /// The platform's governors view a subject's record in a base database.
    BaseView,
    /// The platform compares departments' copies of base data.
    CrossCheck,
    /// A department, or a quality reader, reads the rows a load rejected (COL-3).
    Rejects,
}

impl Internal {
    fn key(self) -> &'static str {
        match self {
            Internal::Preview => "preview",
            Internal::Export => "export",
            Internal::BaseView => "base_view",
            Internal::CrossCheck => "cross_check",
            Internal::Rejects => "rejects",
        }
    }

    /// The audit action that anchors the read's access records.
    fn action(self) -> &'static str {
        match self {
            Internal::Preview => "dataset.preview",
            Internal::Export => "dataset.export",
            Internal::BaseView => "base.view",
            Internal::CrossCheck => "governance.compare",
            Internal::Rejects => "dataset.rejects_read",
        }
    }
}

/// The access record of an internal read of one dataset.
fn internal_record(
    ctx: &Ctx,
    why: Internal,
    dataset: &Dataset,
    items: Vec<String>,
    rows: usize,
    response_hash: String,
) -> AccessRecord {
    let data = (dataset.resource_id.as_str(), dataset.org_id.as_str());
    access_record(ctx, why, data, items, rows, response_hash)
}

/// The access record of an internal read of the data of (resource, source department).
fn access_record(
    ctx: &Ctx,
    why: Internal,
    (resource_id, source_org_id): (&str, &str),
    items: Vec<String>,
    rows: usize,
    response_hash: String,
) -> AccessRecord {
    let p = &ctx.principal;
    AccessRecord {
        id: new_id(),
        at: truncate_to_micros(Utc::now()),
        actor: p.actor.clone(),
        consumer_org_id: p.org_id.clone(),
        token_id: p.token_id.clone(),
        grant_id: None,
        application_id: None,
        resource_id: Some(resource_id.to_string()),
        source_org_id: Some(source_org_id.to_string()),
        purpose: why.key().into(),
        mode: "internal".into(),
        operation: why.key().into(),
        items,
        request: String::new(),
        row_count: rows as i64,
        response_hash,
        outcome: "served".into(),
        denial: None,
    }
}

/// Makes the access records of one internal read durable under one audit record
/// of the reader (`object`: what the read was about), with `extra` in its summary.
async fn record_internal(
    app: &App,
    ctx: &Ctx,
    why: Internal,
    object: (&str, &str),
    recs: Vec<AccessRecord>,
    mut extra: serde_json::Value,
) -> ServiceResult<()> {
    let mut draft = ctx.audit(why.action(), object.0, object.1);
    // The source department reads the reads of its data in its own audit trail.
    let mut sources: Vec<&String> = recs
        .iter()
        .filter_map(|r| r.source_org_id.as_ref())
        .collect();
    sources.dedup();
    if let [only] = sources.as_slice() {
        draft.org_id = Some((*only).clone());
    }
    let access: Vec<serde_json::Value> = recs
        .iter()
        .map(|r| {
            serde_json::json!({
                "access_id": r.id,
                "resource_id": r.resource_id,
                "rows": r.row_count,
                "response_hash": r.response_hash,
            })
        })
        .collect();
    if let Some(map) = extra.as_object_mut() {
        map.insert("purpose".into(), why.key().into());
        map.insert("access".into(), access.into());
    }
    draft.after = summary(&extra);
    append(app, draft, recs).await
}

fn column_names(schema: &TableSchema) -> Vec<String> {
    schema.columns.iter().map(|c| c.name.clone()).collect()
}

/// COL-2, DESIGN 2: a page of a department's own rows (its console and API
/// preview), recorded as its read.
pub(crate) async fn preview(
    app: &App,
    ctx: &Ctx,
    dataset: &Dataset,
    after: Option<(i64, i64)>,
    limit: i64,
) -> ServiceResult<Vec<StoredRow>> {
    ctx.principal
        .authorize(Permission::DataLoad, Some(&dataset.org_id))?;
    let Some(table) = dataset.current_table.as_deref() else {
        return Ok(Vec::new());
    };
    let q = RowQuery {
        conditions: Vec::new(),
        after,
        limit,
    };
    let rows = read_rows(app, table, &dataset.schema, &q).await?;
    let rec = internal_record(
        ctx,
        Internal::Preview,
        dataset,
        column_names(&dataset.schema),
        rows.len(),
        hash_json(&rows),
    );
    let object = ("catalog_entry", dataset.resource_id.as_str());
    let extra = serde_json::json!({ "rows": rows.len() });
    record_internal(app, ctx, Internal::Preview, object, vec![rec], extra).await?;
    Ok(rows)
}

/// COL-2, DESIGN 2: a department's export of its own current rows to `out`,
/// recorded as its read with the SM3 of the bytes written. Returns the rows and
/// that SM3.
pub(crate) async fn export(
    app: &App,
    ctx: &Ctx,
    dataset: &Dataset,
    format: ExportFormat,
    out: &mut (dyn Write + Send),
    progress: Option<Arc<LoadProgress>>,
) -> ServiceResult<(u64, String)> {
    ctx.principal
        .authorize(Permission::DataLoad, Some(&dataset.org_id))?;
    let Some(table) = dataset.current_table.as_deref() else {
        return Ok((0, String::new()));
    };
    let mut hashing = Hashing::new(out);
    let mut encoder = RowEncoder::new(format, &dataset.schema, &mut hashing)?;
    let mut pages = Pages::new(table, &dataset.schema, Vec::new());
    while let Some(page) = pages.next(app).await? {
        encoder.page(page.into_iter().map(|r| r.values).collect())?;
        if let Some(p) = &progress {
            p.rows_written.store(encoder.written(), Ordering::Relaxed);
        }
    }
    let written = encoder.finish()?;
    let (_, hash) = hashing.finish();
    let rec = internal_record(
        ctx,
        Internal::Export,
        dataset,
        column_names(&dataset.schema),
        written as usize,
        hash.clone(),
    );
    let object = ("catalog_entry", dataset.resource_id.as_str());
    let extra = serde_json::json!({ "rows": written, "format": format.extension() });
    record_internal(app, ctx, Internal::Export, object, vec![rec], extra).await?;
    Ok((written, hash))
}

/// A file a read produced, its access record already durable.
pub struct RecordedFile {
    pub rows: u64,
    /// SM3 of the bytes of `body`, as the access record keeps it.
    pub response_hash: String,
    pub body: Spooled,
}

/// COL-2, DESIGN 2: [`export`] into a spool (memory, then a temporary file), so
/// the department's download is recorded before its first byte is sent.
pub(crate) async fn export_file(
    app: &App,
    ctx: &Ctx,
    dataset: &Dataset,
    format: ExportFormat,
) -> ServiceResult<RecordedFile> {
    let mut spool = Spool::default();
    let (rows, response_hash) = export(app, ctx, dataset, format, &mut spool, None).await?;
    let body = spool.finish().map_err(spool_failed)?;
    Ok(RecordedFile {
        rows,
        response_hash,
        body,
    })
}

/// One dataset a base record reads: the subject's row there, of which only
/// `columns` are kept.
pub(crate) struct SubjectRead<'a> {
    pub dataset: &'a Dataset,
    pub table: &'a str,
    pub key_column: &'a str,
    pub columns: Vec<String>,
}

/// COL-9, DESIGN 2: a subject's row in each dataset of a base record (the
/// platform's governors), other columns left empty. One access record per dataset,
/// all anchored in one audit record naming the subject.
pub(crate) async fn subject_rows(
    app: &App,
    ctx: &Ctx,
    base: &str,
    subject: &str,
    reads: &[SubjectRead<'_>],
) -> ServiceResult<Vec<Option<StoredRow>>> {
    ctx.principal.authorize(Permission::DataGovern, None)?;
    let mut found = Vec::with_capacity(reads.len());
    let mut recs = Vec::with_capacity(reads.len());
    for r in reads {
        let schema = &r.dataset.schema;
        let row = rows_by_key(app, r.table, schema, r.key_column, subject, 1)
            .await?
            .into_iter()
            .next()
            .map(|mut row| {
                for (c, v) in schema.columns.iter().zip(row.values.iter_mut()) {
                    if !r.columns.contains(&c.name) {
                        *v = Value::Null;
                    }
                }
                row
            });
        let rows = usize::from(row.is_some());
        let mut rec = internal_record(
            ctx,
            Internal::BaseView,
            r.dataset,
            r.columns.clone(),
            rows,
            hash_json(&row),
        );
        rec.request = masked_request(app, schema, None, r.key_column, subject);
        recs.push(rec);
        found.push(row);
    }
    let extra = serde_json::json!({ "subject": subject });
    record_internal(app, ctx, Internal::BaseView, ("base", base), recs, extra).await?;
    Ok(found)
}

/// GOV-2, DESIGN 2: compares a column of a source department's table with another
/// department's copy, subject by subject (the platform's cross-check); the read of
/// each table is recorded as the caller's (the platform's, for the background job).
pub(crate) async fn compare(
    app: &App,
    ctx: &Ctx,
    base: &str,
    source: (&Dataset, &ColumnRef),
    other: (&Dataset, &ColumnRef),
    answered: &AnsweredDifferences,
    limit: i64,
) -> ServiceResult<Comparison> {
    ctx.principal.authorize(Permission::DataGovern, None)?;
    let cmp = app
        .rows
        .0
        .compare_columns(source.1, other.1, Some(answered), limit)
        .await?;
    let hash = hash_json(&cmp.differing);
    let recs = [source, other]
        .into_iter()
        .map(|(d, c)| {
            let items = vec![c.key_column.clone(), c.column.clone()];
            internal_record(
                ctx,
                Internal::CrossCheck,
                d,
                items,
                cmp.differing.len(),
                hash.clone(),
            )
        })
        .collect();
    let extra = serde_json::json!({ "linked": cmp.linked, "differing": cmp.differing_total });
    record_internal(app, ctx, Internal::CrossCheck, ("base", base), recs, extra).await?;
    Ok(cmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn spooled(megabytes: usize) -> (Spooled, String) {
        let chunk = vec![7u8; 1 << 20];
        let mut w = Hashing::new(Spool::default());
        for _ in 0..megabytes {
            w.write_all(&chunk).unwrap();
        }
        let (spool, hash) = w.finish();
        (spool.finish().unwrap(), hash)
    }

    #[test]
    fn shr_2_small_download_stays_in_memory_with_the_hash_of_its_bytes() {
        let (body, hash) = spooled(1);
        let Spooled::Memory(bytes) = body else {
            panic!("a small download stays in memory");
        };
        assert_eq!(bytes.len(), 1 << 20);
        assert_eq!(hash, hex::encode(Sm3::digest(&bytes)));
    }

    #[test]
    fn shr_2_large_download_spools_to_a_file_with_the_hash_of_its_bytes() {
        let (body, hash) = spooled(SPOOL_IN_MEMORY / (1 << 20) + 1);
        assert_eq!(body.len(), SPOOL_IN_MEMORY as u64 + (1 << 20));
        let Spooled::File { mut file, len } = body else {
            panic!("a large download goes to a file");
        };
        let mut back = Vec::new();
        file.read_to_end(&mut back).unwrap();
        assert_eq!(back.len() as u64, len);
        assert_eq!(hash, hex::encode(Sm3::digest(&back)));
    }
}
