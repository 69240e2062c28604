//! OPN-11 (JY 29): the use of open data, by which opening and its effect are
//! evaluated — per dataset, per source department (the sum over its datasets) and
//! for the platform: page views, API calls, downloads and rows served, in total and
//! over the last 30 days, with a daily series.
//!
//! The figures come from daily counters, not from the access records (which are
//! purged after their retention period). Every public read through the egress gate
//! moves its dataset's counter in the same transaction as its access record
//! (`Change::InsertAccess`); a refused read counts nothing. A page view is not an
//! access record: it is counted in memory on the node that served the page and
//! written in one transaction for all datasets every [`VIEW_FLUSH_INTERVAL`]. That
//! node adds the views it has not written yet to every figure it shows, so its own
//! figures are exact; other nodes see them after the next write. Views counted in
//! the last few seconds before a node stops are lost.
//!
//! Anyone may read the figures (they describe the open catalog); in the console the
//! authority (`open.coordinate`) sees every department and a CSV of them, a source
//! department (`open.review`) its own datasets.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use gongshu_domain::permissions::Permission;
use gongshu_domain::showcase::usage_window_start;
use gongshu_store::{Change, OpenUsageDay, OpenUsageFilter, OpenUsageTotal, Store, UsageCounts};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::catalog::today_in_china;
use crate::context::{App, Ctx};
use crate::error::{ErrorKind, ServiceError, ServiceResult};
use crate::open::{self, OpenCatalog, OpenDataset};

/// How often a node writes the page views it counted.
pub const VIEW_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// The most datasets a public summary lists.
pub const MAX_LISTED: usize = 1000;

type ViewKey = (String, String, NaiveDate);

/// OPN-11: the page views this node counted and has not written yet.
#[derive(Default)]
pub struct ViewMeter {
    pending: Mutex<HashMap<ViewKey, i64>>,
    /// Held for reading while a figure is read from the store and the pending views
    /// are added to it; held for writing while pending views move into the store,
    /// so no figure counts a view twice or misses it.
    gate: RwLock<()>,
    flusher: OnceLock<()>,
}

impl ViewMeter {
    fn count(&self, key: ViewKey) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *pending.entry(key).or_default() += 1;
    }

    /// The pending views, as counter rows.
    fn snapshot(&self) -> Vec<OpenUsageDay> {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending
            .iter()
            .map(|((resource, org, day), n)| OpenUsageDay {
                resource_id: resource.clone(),
                source_org_id: org.clone(),
                day: *day,
                counts: UsageCounts {
                    views: *n,
                    ..UsageCounts::default()
                },
            })
            .collect()
    }

    /// Writes the pending views in one transaction; on failure they stay pending.
    async fn flush(&self, store: &dyn Store) -> ServiceResult<usize> {
        let _writing = self.gate.write().await;
        let days = self.snapshot();
        if days.is_empty() {
            return Ok(0);
        }
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let n = days.len();
        if let Err(e) = store
            .commit(vec![Change::AddOpenUsage(days.clone())], Vec::new())
            .await
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            for d in days {
                *pending
                    .entry((d.resource_id, d.source_org_id, d.day))
                    .or_default() += d.counts.views;
            }
            return Err(e.into());
        }
        Ok(n)
    }

    /// Starts this node's writer of page views, once, on the current runtime. It
    /// ends when the meter (the app) is dropped.
    fn start_flusher(self: &Arc<Self>, store: Arc<dyn Store>) {
        if self.flusher.get().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.flusher.set(()).is_err() {
            return;
        }
        let meter: Weak<ViewMeter> = Arc::downgrade(self);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(VIEW_FLUSH_INTERVAL).await;
                let Some(meter) = meter.upgrade() else {
                    break;
                };
                if let Err(e) = meter.flush(store.as_ref()).await {
                    tracing::warn!(error = %e, "page views of open datasets not written; retrying");
                }
            }
        });
    }
}

/// OPN-11: counts a view of a dataset's page on the portal (no write now; see the
/// module's notes).
pub fn count_view(app: &App, ds: &OpenDataset) {
    let day = today_in_china(Utc::now());
    app.open_views
        .count((ds.id.clone(), ds.owner_org_id.clone(), day));
    app.open_views.start_flusher(Arc::clone(&app.store));
}

/// Writes the page views this node has counted and not written yet; returns how
/// many counter rows it wrote (the demo and tests call it; a node does it itself
/// every [`VIEW_FLUSH_INTERVAL`]).
pub async fn flush_views(app: &App) -> ServiceResult<usize> {
    app.open_views.flush(app.store.as_ref()).await
}

/// One day of a series.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DailyUsage {
    pub day: NaiveDate,
    pub counts: UsageCounts,
}

/// OPN-11: the use of one open dataset.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DatasetUsage {
    /// The catalog entry's id.
    pub resource_id: String,
    /// The resource code (the dataset's name in URLs).
    pub code: String,
    pub name: String,
    pub source_org_id: String,
    pub source_org_name: String,
    /// Whether it is in the open catalog now (the use of one since withdrawn stays).
    pub open: bool,
    pub total: UsageCounts,
    /// The last 30 days, today included.
    pub last_30_days: UsageCounts,
}

/// OPN-11: one dataset's use, with its daily series over the last 30 days.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DatasetUsageReport {
    pub dataset: DatasetUsage,
    /// The first day of the 30-day window (days in China).
    pub since: NaiveDate,
    pub today: NaiveDate,
    /// One entry per day of the window, oldest first, days without use included.
    pub daily: Vec<DailyUsage>,
}

/// OPN-11: a source department's use: the sum over its datasets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentUsage {
    pub org_id: String,
    pub name: String,
    /// Its datasets in the open catalog now.
    pub open_datasets: usize,
    pub total: UsageCounts,
    pub last_30_days: UsageCounts,
}

/// OPN-11 (JY 29): the use of open data on the platform, or of one department.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UsageSummary {
    /// `platform`, or `department` when one was asked.
    pub scope: String,
    /// The department asked for.
    pub department: Option<DepartmentUsage>,
    pub since: NaiveDate,
    pub today: NaiveDate,
    pub total: UsageCounts,
    pub last_30_days: UsageCounts,
    /// Every department with open datasets or use, most used first (platform scope).
    pub departments: Vec<DepartmentUsage>,
    /// Datasets in scope, most used first (at most the limit asked).
    pub datasets: Vec<DatasetUsage>,
    /// Datasets in scope, whether listed or not.
    pub dataset_count: usize,
    /// The scope's daily series over the last 30 days, oldest first.
    pub daily: Vec<DailyUsage>,
}

/// Which figures the public asks for.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// One source department's figures (its organisation id).
    pub source_org_id: Option<String>,
    /// Datasets to list, most used first: 1–1000 (default 10; all of a department's).
    pub limit: Option<usize>,
}

/// Most used first: by uses (views, calls, downloads), then rows served, then code.
fn rank(a: &UsageCounts, b: &UsageCounts) -> std::cmp::Ordering {
    (b.uses(), b.rows_served).cmp(&(a.uses(), a.rows_served))
}

/// Counters from the store with this node's pending views added, under the gate.
async fn read_counters(
    app: &App,
    f: &OpenUsageFilter,
    since: NaiveDate,
) -> ServiceResult<(Vec<OpenUsageTotal>, Vec<OpenUsageDay>)> {
    let _reading = app.open_views.gate.read().await;
    let (mut totals, mut daily) = tokio::try_join!(
        app.store.open_usage_totals(f, since),
        app.store.open_usage_daily(f, since)
    )?;
    let in_scope = |d: &OpenUsageDay| {
        f.resource_id.as_ref().is_none_or(|r| *r == d.resource_id)
            && f.source_org_id
                .as_ref()
                .is_none_or(|o| *o == d.source_org_id)
    };
    for v in app.open_views.snapshot().into_iter().filter(in_scope) {
        let recent = v.day >= since;
        match totals
            .iter_mut()
            .find(|t| t.resource_id == v.resource_id && t.source_org_id == v.source_org_id)
        {
            Some(t) => {
                t.total.add(&v.counts);
                if recent {
                    t.recent.add(&v.counts);
                }
            }
            None => totals.push(OpenUsageTotal {
                resource_id: v.resource_id.clone(),
                source_org_id: v.source_org_id.clone(),
                total: v.counts,
                recent: if recent {
                    v.counts
                } else {
                    UsageCounts::default()
                },
            }),
        }
        if recent {
            match daily.iter_mut().find(|d| d.day == v.day) {
                Some(d) => d.counts.add(&v.counts),
                None => daily.push(OpenUsageDay {
                    resource_id: String::new(),
                    source_org_id: String::new(),
                    day: v.day,
                    counts: v.counts,
                }),
            }
        }
    }
    Ok((totals, daily))
}

/// The window's days, oldest first, each with its counts (zero without use).
fn series(since: NaiveDate, today: NaiveDate, daily: &[OpenUsageDay]) -> Vec<DailyUsage> {
    let by_day: BTreeMap<NaiveDate, UsageCounts> =
        daily.iter().map(|d| (d.day, d.counts)).collect();
    since
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|day| DailyUsage {
            day,
            counts: by_day.get(&day).copied().unwrap_or_default(),
        })
        .collect()
}

/// Names a dataset: from the open catalog, else (withdrawn since) its catalog entry.
async fn describe(
    app: &App,
    catalog: &OpenCatalog,
    resource_id: &str,
) -> ServiceResult<(String, String, bool)> {
    if let Some(d) = catalog.get(resource_id) {
        return Ok((d.code.clone(), d.content.name.clone(), true));
    }
    let entry = app.store.get_catalog_entry(resource_id).await?;
    Ok(match entry {
        Some(e) => {
            let name = e
                .published
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or(e.name);
            (e.code, name, false)
        }
        None => (resource_id.to_string(), resource_id.to_string(), false),
    })
}

/// Every dataset in scope with its use: those with counters, and those open now
/// without any use yet.
async fn datasets_in_scope(
    app: &App,
    catalog: &OpenCatalog,
    totals: Vec<OpenUsageTotal>,
    source_org_id: Option<&str>,
) -> ServiceResult<Vec<DatasetUsage>> {
    // One row per dataset, its use summed should its owner have changed.
    let mut per: BTreeMap<String, OpenUsageTotal> = BTreeMap::new();
    for t in totals {
        match per.get_mut(&t.resource_id) {
            Some(p) => {
                p.total.add(&t.total);
                p.recent.add(&t.recent);
            }
            None => {
                per.insert(t.resource_id.clone(), t);
            }
        }
    }
    for d in &catalog.datasets {
        if source_org_id.is_none_or(|o| o == d.owner_org_id) && !per.contains_key(&d.id) {
            per.insert(
                d.id.clone(),
                OpenUsageTotal {
                    resource_id: d.id.clone(),
                    source_org_id: d.owner_org_id.clone(),
                    total: UsageCounts::default(),
                    recent: UsageCounts::default(),
                },
            );
        }
    }
    let mut out = Vec::with_capacity(per.len());
    for (id, t) in per {
        let (code, name, is_open) = describe(app, catalog, &id).await?;
        out.push(DatasetUsage {
            source_org_name: catalog
                .org_names
                .get(&t.source_org_id)
                .cloned()
                .unwrap_or_default(),
            resource_id: id,
            code,
            name,
            source_org_id: t.source_org_id,
            open: is_open,
            total: t.total,
            last_30_days: t.recent,
        });
    }
    out.sort_by(|a, b| rank(&a.total, &b.total).then_with(|| a.code.cmp(&b.code)));
    Ok(out)
}

/// The departments of `datasets`, each the sum over its datasets, most used first.
fn departments_of(datasets: &[DatasetUsage]) -> Vec<DepartmentUsage> {
    let mut per: BTreeMap<&str, DepartmentUsage> = BTreeMap::new();
    for d in datasets {
        let dep = per
            .entry(d.source_org_id.as_str())
            .or_insert_with(|| DepartmentUsage {
                org_id: d.source_org_id.clone(),
                name: d.source_org_name.clone(),
                open_datasets: 0,
                total: UsageCounts::default(),
                last_30_days: UsageCounts::default(),
            });
        dep.open_datasets += usize::from(d.open);
        dep.total.add(&d.total);
        dep.last_30_days.add(&d.last_30_days);
    }
    let mut out: Vec<DepartmentUsage> = per.into_values().collect();
    out.sort_by(|a, b| rank(&a.total, &b.total).then_with(|| a.name.cmp(&b.name)));
    out
}

/// OPN-11 (JY 29): the use of open data on the platform, or of one department's
/// datasets; anyone may read it.
pub async fn summary(app: &App, q: UsageQuery) -> ServiceResult<UsageSummary> {
    let org = q
        .source_org_id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let limit = match (q.limit, &org) {
        (Some(n), _) => n.clamp(1, MAX_LISTED),
        (None, Some(_)) => MAX_LISTED,
        (None, None) => 10,
    };
    summary_of(app, org.as_deref(), limit).await
}

async fn summary_of(
    app: &App,
    source_org_id: Option<&str>,
    limit: usize,
) -> ServiceResult<UsageSummary> {
    let catalog = open::catalog(app).await?;
    if let Some(o) = source_org_id {
        if !catalog.org_names.contains_key(o) {
            return Err(ServiceError::not_found("单位", "organisation", o));
        }
    }
    let today = today_in_china(Utc::now());
    let since = usage_window_start(today);
    let filter = OpenUsageFilter {
        resource_id: None,
        source_org_id: source_org_id.map(str::to_string),
    };
    let (totals, daily) = read_counters(app, &filter, since).await?;
    let datasets = datasets_in_scope(app, &catalog, totals, source_org_id).await?;
    let departments = departments_of(&datasets);
    let mut total = UsageCounts::default();
    let mut last_30_days = UsageCounts::default();
    for d in &datasets {
        total.add(&d.total);
        last_30_days.add(&d.last_30_days);
    }
    let department = source_org_id.map(|o| {
        departments
            .iter()
            .find(|d| d.org_id == o)
            .cloned()
            .unwrap_or_else(|| DepartmentUsage {
                org_id: o.to_string(),
                name: catalog.org_names.get(o).cloned().unwrap_or_default(),
                open_datasets: 0,
                total: UsageCounts::default(),
                last_30_days: UsageCounts::default(),
            })
    });
    Ok(UsageSummary {
        scope: if department.is_some() {
            "department".into()
        } else {
            "platform".into()
        },
        department,
        since,
        today,
        total,
        last_30_days,
        departments: if source_org_id.is_none() {
            departments
        } else {
            Vec::new()
        },
        dataset_count: datasets.len(),
        datasets: datasets.into_iter().take(limit).collect(),
        daily: series(since, today, &daily),
    })
}

/// OPN-11: the use of one open dataset, with its daily series; anyone may read it.
pub async fn dataset_usage(app: &App, ds: &OpenDataset) -> ServiceResult<DatasetUsageReport> {
    let today = today_in_china(Utc::now());
    let since = usage_window_start(today);
    let filter = OpenUsageFilter {
        resource_id: Some(ds.id.clone()),
        source_org_id: None,
    };
    let (totals, daily) = read_counters(app, &filter, since).await?;
    let mut total = UsageCounts::default();
    let mut recent = UsageCounts::default();
    for t in &totals {
        total.add(&t.total);
        recent.add(&t.recent);
    }
    Ok(DatasetUsageReport {
        dataset: DatasetUsage {
            resource_id: ds.id.clone(),
            code: ds.code.clone(),
            name: ds.content.name.clone(),
            source_org_id: ds.owner_org_id.clone(),
            source_org_name: ds.source_org_name.clone(),
            open: true,
            total,
            last_30_days: recent,
        },
        since,
        today,
        daily: series(since, today, &daily),
    })
}

/// OPN-2, OPN-11: the most used open datasets (for the portal's home): those in the
/// open catalog now with any use, most used first.
pub async fn most_used(app: &App, n: usize) -> ServiceResult<Vec<DatasetUsage>> {
    let all = summary_of(app, None, MAX_LISTED).await?;
    Ok(all
        .datasets
        .into_iter()
        .filter(|d| d.open && d.total.uses() > 0)
        .take(n)
        .collect())
}

/// The department whose figures the caller may see in the console: any (or the
/// platform, `None`) for the authority, its own for a source department.
fn console_scope(ctx: &Ctx, asked: Option<String>) -> ServiceResult<Option<String>> {
    let p = &ctx.principal;
    let asked = asked
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if p.holds_globally(Permission::OpenCoordinate) {
        return Ok(asked);
    }
    let target = asked.or_else(|| p.org_id.clone()).unwrap_or_default();
    p.authorize(Permission::OpenReview, Some(&target))?;
    Ok(Some(target))
}

/// OPN-11 (JY 29): the console's figures: every department and every dataset for
/// the authority (or one department when asked), a source department's own.
pub async fn console_summary(
    app: &App,
    ctx: &Ctx,
    org: Option<String>,
) -> ServiceResult<UsageSummary> {
    let scope = console_scope(ctx, org)?;
    summary_of(app, scope.as_deref(), MAX_LISTED).await
}

/// OPN-11 (JY 29): the departments' figures as CSV (UTF-8 with a BOM, for Excel),
/// most used first; for the authority.
pub async fn departments_csv(app: &App, ctx: &Ctx) -> ServiceResult<Vec<u8>> {
    ctx.principal.authorize(Permission::OpenCoordinate, None)?;
    let s = summary_of(app, None, MAX_LISTED).await?;
    let failed = |e: csv::Error| {
        ServiceError::new(
            ErrorKind::Internal,
            "open_usage.export_failed",
            format!("导出失败：{e}"),
            e.to_string(),
        )
    };
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record([
            "排名 rank",
            "数源部门 department",
            "单位编号 org_id",
            "开放数据集 open datasets",
            "浏览 views",
            "接口调用 API calls",
            "下载 downloads",
            "服务数据行 rows served",
            "近30天浏览 views (30 d)",
            "近30天接口调用 API calls (30 d)",
            "近30天下载 downloads (30 d)",
            "近30天服务数据行 rows served (30 d)",
        ])
        .map_err(failed)?;
        for (i, d) in s.departments.iter().enumerate() {
            let mut row = vec![
                (i + 1).to_string(),
                d.name.clone(),
                d.org_id.clone(),
                d.open_datasets.to_string(),
            ];
            for c in [&d.total, &d.last_30_days] {
                row.extend(
                    [c.views, c.api_calls, c.downloads, c.rows_served].map(|n| n.to_string()),
                );
            }
            w.write_record(&row).map_err(failed)?;
        }
        let mut row = vec![
            String::new(),
            "合计 total".to_string(),
            String::new(),
            s.departments
                .iter()
                .map(|d| d.open_datasets)
                .sum::<usize>()
                .to_string(),
        ];
        for c in [&s.total, &s.last_30_days] {
            row.extend([c.views, c.api_calls, c.downloads, c.rows_served].map(|n| n.to_string()));
        }
        w.write_record(&row).map_err(failed)?;
        w.flush().map_err(|e| failed(csv::Error::from(e)))?;
    }
    Ok(out)
}
