//! DESIGN 2, SHR-2, SHR-6, SHR-8, SHR-9, GOV-5: the one egress gate. Every read of
//! shared dataset rows by a consumer passes here: the grant is checked (exists,
//! active, in time, right mode, right token), rows are projected to the granted
//! items, limited by the grant's row filter, masked, metered against rate and
//! quota, and an access record is made durable — anchored in the audit chain —
//! before the answer leaves. Denied calls are recorded too.
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::KeyRole;
use gongshu_domain::dataset::{TableSchema, Value};
use gongshu_domain::masking::mask_text;
use gongshu_domain::permissions::Permission;
use gongshu_domain::sharing::{admit, AccessMode, CallFacts, Denial, GrantFacts, GrantStatus};
use gongshu_store::{AccessRecord, Change, GrantFilter, RowCondition, RowQuery, ShareGrant};
use serde::Serialize;
use sm3::{Digest, Sm3};

use crate::audit_writer::AuditWriter;
use crate::catalog::today_in_china;
use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

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
            let mut d = gongshu_domain::audit::AuditDraft::new("anonymous", action, "share_grant");
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
    writer(app)
        .append_with(draft, vec![Change::InsertAccess(vec![rec])])
        .await?;
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
    let attempt = Attempt {
        resource_id,
        mode: AccessMode::Api,
        operation,
        request: String::new(),
    };
    deny(app, None, &attempt, None, denial).await
}

static RATE: Mutex<Option<HashMap<String, (i64, i64)>>> = Mutex::new(None);

/// Counts one call against the grant's per-minute rate on this node.
fn take_rate(grant: &ShareGrant, now: DateTime<Utc>) -> bool {
    if grant.rate_per_minute <= 0 {
        return true;
    }
    let minute = now.timestamp() / 60;
    let mut guard = RATE.lock().unwrap_or_else(|e| e.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    let slot = map.entry(grant.id.clone()).or_insert((minute, 0));
    if slot.0 != minute {
        *slot = (minute, 0);
    }
    slot.1 += 1;
    slot.1 <= grant.rate_per_minute
}

/// Start of the current day in China, as a UTC instant (quotas are per calendar day).
fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = today_in_china(now);
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    DateTime::<Utc>::from_naive_utc_and_offset(midnight, Utc) - chrono::Duration::hours(8)
}

/// Finds the grant that admits this call, or the denial to record.
async fn admit_call(
    app: &App,
    ctx: &Ctx,
    attempt: &Attempt<'_>,
    grant_id: Option<&str>,
) -> Result<ShareGrant, (Option<ShareGrant>, Denial)> {
    let p = &ctx.principal;
    let org = p.org_id.clone().unwrap_or_default();
    if p.authorize(Permission::DataConsume, Some(&org)).is_err() {
        return Err((None, Denial::NoGrant));
    }
    let candidates: Vec<ShareGrant> = match grant_id {
        Some(id) => match app.store.get_grant(id).await {
            Ok(Some(g)) if g.resource_id == attempt.resource_id => vec![g],
            _ => Vec::new(),
        },
        None => app
            .store
            .list_grants(&GrantFilter {
                consumer_org_id: Some(org.clone()),
                resource_id: Some(attempt.resource_id.to_string()),
                ..Default::default()
            })
            .await
            .unwrap_or_default(),
    };
    if candidates.is_empty() {
        return Err((None, Denial::NoGrant));
    }
    let now = Utc::now();
    let call = CallFacts {
        org_id: &org,
        token_id: p.token_id.as_deref(),
        mode: attempt.mode,
        today: today_in_china(now),
    };
    let mut first_denial: Option<(ShareGrant, Denial)> = None;
    for g in candidates {
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
                if !take_rate(&g, now) {
                    return Err((Some(g), Denial::RateExceeded));
                }
                if g.daily_quota > 0 {
                    let used = app
                        .store
                        .access_served_since(&g.id, day_start(now))
                        .await
                        .unwrap_or(i64::MAX);
                    if used >= g.daily_quota {
                        return Err((Some(g), Denial::QuotaExceeded));
                    }
                }
                return Ok(g);
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

fn masked_row(
    app: &App,
    grant: &ShareGrant,
    schema: &TableSchema,
    columns: &[usize],
    values: &[Value],
) -> serde_json::Map<String, serde_json::Value> {
    let key = app.mask_key.as_bytes();
    columns
        .iter()
        .map(|&i| {
            let column = &schema.columns[i];
            let rule = grant.masking.rule_for(column);
            let masked = gongshu_domain::masking::mask_value(&rule, &values[i], key);
            (
                column.name.clone(),
                serde_json::to_value(&masked).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

fn hash_rows(rows: &[serde_json::Map<String, serde_json::Value>]) -> String {
    hex::encode(Sm3::digest(serde_json::to_vec(rows).unwrap_or_default()))
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
    let entry = crate::catalog::find_entry(app, resource)
        .await?
        .ok_or_else(missing)?;
    match app.data.get_dataset(&entry.id).await? {
        Some(d) if d.current_table.is_some() => {
            Ok((entry.id, d.current_table.unwrap_or_default(), d.schema))
        }
        _ => Err(missing()),
    }
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
    let hash = hash_rows(&out);
    let mut rec = base_record(Some(ctx), attempt, Some(grant));
    rec.items = columns
        .iter()
        .map(|&i| schema.columns[i].name.clone())
        .collect();
    rec.row_count = out.len() as i64;
    rec.response_hash = hash.clone();
    rec.outcome = "served".into();
    let access_id = rec.id.clone();
    let items = rec.items.clone();
    record(app, Some(ctx), rec).await?;
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
    Ok(app.data.read_rows(table, schema, &q).await?)
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
        mode: AccessMode::Api,
        operation: "lookup",
        request: masked_request(app, &schema, None, &column, key),
    };
    let grant = match admit_call(app, ctx, &attempt, grant_id).await {
        Ok(g) => g,
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

fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let (a, b) = text.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
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
        Ok(g) => g,
        Err((g, d)) => return Err(deny(app, Some(ctx), &attempt, g.as_ref(), d).await),
    };
    let columns = match projection(&grant, &schema, &q.fields) {
        Ok(c) => c,
        Err(d) => return Err(deny(app, Some(ctx), &attempt, Some(&grant), d).await),
    };
    let mut conditions = Vec::new();
    for (column, value) in &q.filters {
        if !grant.items.contains(column) {
            return Err(deny(
                app,
                Some(ctx),
                &attempt,
                Some(&grant),
                Denial::ItemNotGranted,
            )
            .await);
        }
        if let Some(f) = &grant.row_filter {
            if &f.column == column && !f.admits(value) {
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
        conditions.push(RowCondition::Equals {
            column: column.clone(),
            value: value.clone(),
        });
    }
    if let Some(f) = &grant.row_filter {
        if let Some(p) = &f.prefix {
            conditions.push(RowCondition::Prefix {
                column: f.column.clone(),
                prefix: p.clone(),
            });
        }
        if let Some(e) = &f.equals {
            conditions.push(RowCondition::Equals {
                column: f.column.clone(),
                value: e.clone(),
            });
        }
    }
    let limit = if q.limit <= 0 {
        100
    } else {
        q.limit.min(MAX_PAGE)
    };
    let after = match q.after.as_deref() {
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
    let rows = app
        .data
        .read_rows(
            &table,
            &schema,
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
        Ok(g) => g,
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
    let mut rec = base_record(Some(ctx), &attempt, Some(&grant));
    rec.items = claims.keys().cloned().collect();
    rec.row_count = i64::from(row.is_some());
    rec.response_hash = hex::encode(Sm3::digest(&body));
    rec.outcome = "served".into();
    let access_id = rec.id.clone();
    record(app, Some(ctx), rec).await?;
    Ok(Verified {
        grant_id: grant.id.clone(),
        matches,
        access_id,
    })
}
