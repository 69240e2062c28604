//! OPN-2, OPN-3, OPN-7, OPN-10, OPN-11: the open catalog — what the public portal, the
//! public dataset API and the CKAN adapter show. Nobody logs in to read it. Rows of an
//! open dataset are read only through the egress gate (`egress::open_page`,
//! `egress::open_download`).
//!
//! The catalog is a snapshot built from the store (the truth, DESIGN 7): rebuilt when
//! the catalog changes, a dataset's version changes (a load, a rollback: the next
//! read serves it) or the set of datasets withheld by the public's reports changes
//! (OPN-9, XJ 30: at once on the node that took the change, within
//! [`STAMP_MAX_AGE`] on every other), and at least every [`SNAPSHOT_MAX_AGE`] so
//! that renamed departments show. What decides this is one read of the store's
//! stamp, which a node trusts for [`STAMP_MAX_AGE`] while it commits nothing that
//! alters the catalog or a key itself.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use gongshu_domain::catalog::{Domain, EntryContent, FieldType, OpenType};
use gongshu_domain::dataset::TableSchema;
use gongshu_domain::masking::{default_rule, MaskRule};
use gongshu_domain::open::{citation, in_open_catalog, Citation, PublicAccess};
use gongshu_search::{Filters, SearchQuery};
use gongshu_store::{CatalogEntry, CatalogFilter, DeveloperKey, OpenCatalogStamp, OrgFilter};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::catalog::today_in_china;
use crate::context::App;
use crate::datasets::ExportFormat;
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// The longest a snapshot serves before it is rebuilt even with no catalog change.
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(10);

/// The longest a node trusts the stamp and the developer keys it last read while it
/// commits no change to them itself: another node's load, withholding (OPN-9) or
/// key change shows here within this time.
pub const STAMP_MAX_AGE: Duration = Duration::from_secs(1);

/// Most developer keys (known or not) remembered with one stamp read; beyond them
/// a key is read each time until the stamp is read again.
const MAX_REMEMBERED_KEYS: usize = 4096;

/// OPN-7: one dataset of the open catalog, with what the public is told about it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenDataset {
    /// The catalog entry's id.
    pub id: String,
    /// The resource code, e.g. `410-000012`; the dataset's name in URLs.
    pub code: String,
    /// The source department (数源部门), which owns the entry.
    pub owner_org_id: String,
    pub source_org_name: String,
    /// The published version of the entry.
    #[schema(value_type = Object)]
    pub content: EntryContent,
    pub published_version: i32,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The later of the metadata's and the data's last change.
    pub modified_at: DateTime<Utc>,
    /// Rows of the current data version (0 with no data mounted).
    pub rows: i64,
    /// When the current data was loaded.
    pub data_updated_at: Option<DateTime<Utc>>,
    /// A current data version is mounted.
    pub has_data: bool,
    /// The mounted table the gate reads, as of the snapshot.
    #[serde(skip)]
    pub(crate) mounted: Option<Arc<MountedTable>>,
}

/// OPN-3: where a dataset's current version lives: its table, its version and the
/// layout of its rows.
#[derive(Debug)]
pub(crate) struct MountedTable {
    pub table: String,
    pub version: i64,
    pub schema: TableSchema,
}

impl OpenDataset {
    /// OPN-3, OPN-4: how the public may take the data.
    pub fn access(&self) -> PublicAccess {
        PublicAccess::of(self.content.open_type).unwrap_or(PublicAccess::ApplicationRequired)
    }

    pub fn is_direct(&self) -> bool {
        self.access() == PublicAccess::Direct
    }

    /// OPN-10: how to cite this dataset obtained from `url` today.
    pub fn citation(&self, url: &str) -> Citation {
        citation(
            &self.source_org_name,
            (&self.content.name, &self.code),
            url,
            today_in_china(Utc::now()),
        )
    }
}

/// OPN-7: the open catalog at one moment, datasets in code order.
#[derive(Debug, Default)]
pub struct OpenCatalog {
    pub datasets: Vec<OpenDataset>,
    by_key: HashMap<String, usize>,
    /// Organisation id → name, of every organisation (for the CKAN organisation list).
    pub org_names: BTreeMap<String, String>,
    /// OPN-9 (XJ 30): datasets otherwise open but held out by a report, by entry id.
    withheld: HashMap<String, OpenDataset>,
    /// When a catalog entry last changed, as the store said when this was built.
    seen: Option<DateTime<Utc>>,
}

impl OpenCatalog {
    fn new(
        mut datasets: Vec<OpenDataset>,
        org_names: BTreeMap<String, String>,
        withheld: HashMap<String, OpenDataset>,
    ) -> Self {
        datasets.sort_by(|a, b| a.code.cmp(&b.code));
        let mut by_key = HashMap::new();
        for (i, d) in datasets.iter().enumerate() {
            by_key.insert(d.code.clone(), i);
            by_key.insert(d.id.clone(), i);
        }
        Self {
            datasets,
            by_key,
            org_names,
            withheld,
            seen: None,
        }
    }

    /// OPN-9: whether the entry with this id is held out of the open catalog by a report.
    pub fn is_withheld(&self, id: &str) -> bool {
        self.withheld.contains_key(id)
    }

    /// The dataset with this code or entry id.
    pub fn get(&self, code_or_id: &str) -> Option<&OpenDataset> {
        self.by_key.get(code_or_id).map(|&i| &self.datasets[i])
    }

    /// The dataset with this code or id, or the public's "not found".
    pub fn find(&self, code_or_id: &str) -> ServiceResult<&OpenDataset> {
        self.get(code_or_id)
            .ok_or_else(|| ServiceError::not_found("开放数据集", "open dataset", code_or_id))
    }

    /// Departments publishing in the open catalog, with their dataset counts, by name.
    pub fn publishers(&self) -> Vec<Publisher> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &self.datasets {
            *counts.entry(d.owner_org_id.as_str()).or_default() += 1;
        }
        let mut out: Vec<Publisher> = counts
            .into_iter()
            .map(|(id, datasets)| Publisher {
                id: id.to_string(),
                name: self.org_names.get(id).cloned().unwrap_or_default(),
                datasets,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// A department that publishes open datasets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Publisher {
    pub id: String,
    pub name: String,
    pub datasets: usize,
}

/// This node's open catalog snapshot, the stamp and keys it last read, and the
/// public pages it served lately.
#[derive(Default)]
pub struct OpenCache {
    state: Mutex<Option<Snapshot>>,
    stamp: std::sync::Mutex<Option<StampRead>>,
    pages: std::sync::Mutex<crate::egress::PageCache>,
}

impl OpenCache {
    pub(crate) fn pages(&self) -> std::sync::MutexGuard<'_, crate::egress::PageCache> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stamp(&self) -> std::sync::MutexGuard<'_, Option<StampRead>> {
        self.stamp.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The last read of the open catalog stamp, and the keys read with it or since.
struct StampRead {
    /// The store's [`open_catalog_epoch`](gongshu_store::Store::open_catalog_epoch)
    /// before the read.
    epoch: u64,
    at: Instant,
    stamp: OpenCatalogStamp,
    /// By the hash of their secret; `None`: no such key.
    keys: HashMap<String, Option<DeveloperKey>>,
}

impl StampRead {
    fn trusted(&self, epoch: u64) -> bool {
        self.epoch == epoch && self.at.elapsed() < STAMP_MAX_AGE
    }
}

/// OPN-3: the open catalog stamp and, with `key_hash`, that developer key: as last
/// read while this node has changed neither and for at most [`STAMP_MAX_AGE`], else
/// read from the store in one statement.
pub(crate) async fn stamp_and_key(
    app: &App,
    key_hash: Option<&str>,
) -> ServiceResult<(OpenCatalogStamp, Option<DeveloperKey>)> {
    let epoch = app.store.open_catalog_epoch();
    if let Some(last) = app.open.stamp().as_ref().filter(|r| r.trusted(epoch)) {
        match key_hash {
            None => return Ok((last.stamp.clone(), None)),
            Some(h) => {
                if let Some(key) = last.keys.get(h) {
                    return Ok((last.stamp.clone(), key.clone()));
                }
            }
        }
    }
    let at = Instant::now();
    let (stamp, key) = match key_hash {
        None => (app.store.open_catalog_stamp().await?, None),
        Some(h) => app.store.open_catalog_stamp_with_key(h).await?,
    };
    let mut last = app.open.stamp();
    if !last.as_ref().is_some_and(|r| r.trusted(epoch)) {
        *last = Some(StampRead {
            epoch,
            at,
            stamp: stamp.clone(),
            keys: HashMap::new(),
        });
    }
    if let (Some(r), Some(h)) = (last.as_mut(), key_hash) {
        if r.keys.len() < MAX_REMEMBERED_KEYS {
            r.keys.insert(h.to_string(), key.clone());
        }
    }
    Ok((stamp, key))
}

struct Snapshot {
    catalog: Arc<OpenCatalog>,
    /// What the snapshot was built from (OPN-9: with the withheld resources it left out).
    stamp: OpenCatalogStamp,
    built: Instant,
}

/// Every published entry.
async fn published_entries(app: &App) -> ServiceResult<Vec<CatalogEntry>> {
    let filter = CatalogFilter {
        status: Some("published".into()),
        ..Default::default()
    };
    crate::catalog::every_entry(app, filter).await
}

async fn build(app: &App, withheld_ids: &[String]) -> ServiceResult<OpenCatalog> {
    let entries = published_entries(app).await?;
    let datasets: HashMap<String, gongshu_store::Dataset> = app
        .data
        .list_datasets(None)
        .await?
        .into_iter()
        .map(|d| (d.resource_id.clone(), d))
        .collect();
    let org_names: BTreeMap<String, String> = app
        .store
        .list_orgs(&OrgFilter::default())
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    // COL-8: social data is opened only while an agreement over it is in force.
    let mut social: HashMap<String, Vec<gongshu_store::SocialDataAgreement>> = HashMap::new();
    for a in app.store.list_social_data_agreements().await? {
        for id in &a.entry_ids {
            social.entry(id.clone()).or_default().push(a.clone());
        }
    }
    // A release derived from social data is the supplier's data too.
    let mut derived_from: HashMap<String, String> = HashMap::new();
    if !social.is_empty() {
        let published = app
            .store
            .list_open_releases(&gongshu_store::OpenReleaseFilter {
                status: Some(
                    gongshu_domain::release::ReleaseStatus::Published
                        .key()
                        .into(),
                ),
                limit: i64::MAX,
                ..Default::default()
            })
            .await?;
        for r in published {
            if let Some(derived) = r.derived_entry_id {
                derived_from.insert(derived, r.source_entry_id);
            }
        }
    }
    let today = today_in_china(Utc::now());
    let mut open = Vec::new();
    let mut withheld = HashMap::new();
    for e in entries {
        let Some(content) = e.published else {
            continue;
        };
        if !in_open_catalog(&e.owner_org_id, e.offline, &content) {
            continue;
        }
        // COL-6: data withheld after a secrecy review is not opened either.
        let data = datasets.get(&e.id).filter(|d| {
            !d.withheld_as_secret()
                && social
                    .get(derived_from.get(&e.id).unwrap_or(&e.id))
                    .is_none_or(|held| crate::social_data::served_on(held, today))
        });
        let has_data = data.is_some_and(|d| d.current_table.is_some());
        let data_updated_at = data.and_then(|d| d.last_loaded_at);
        let modified_at = match data_updated_at {
            Some(t) if t > e.updated_at => t,
            _ => e.updated_at,
        };
        let dataset = OpenDataset {
            source_org_name: org_names.get(&e.owner_org_id).cloned().unwrap_or_default(),
            id: e.id,
            code: e.code,
            owner_org_id: e.owner_org_id,
            content,
            published_version: e.published_version,
            published_at: e.published_at,
            created_at: e.created_at,
            modified_at,
            rows: if has_data {
                data.map_or(0, |d| d.row_count)
            } else {
                0
            },
            data_updated_at,
            has_data,
            mounted: data.and_then(|d| {
                Some(Arc::new(MountedTable {
                    table: d.current_table.clone()?,
                    version: d.version,
                    schema: d.schema.clone(),
                }))
            }),
        };
        // OPN-9 (XJ 30): a dataset a report withholds leaves the portal, the API,
        // downloads and CKAN alike.
        if withheld_ids.binary_search(&dataset.id).is_ok() {
            withheld.insert(dataset.id.clone(), dataset);
        } else {
            open.push(dataset);
        }
    }
    Ok(OpenCatalog::new(open, org_names, withheld))
}

/// OPN-7: the open catalog as it stands, rebuilt from the store when it changed.
pub async fn catalog(app: &App) -> ServiceResult<Arc<OpenCatalog>> {
    let (stamp, _) = stamp_and_key(app, None).await?;
    snapshot_as_of(app, stamp).await
}

/// The node's snapshot if it was built from `stamp`, just read from the store;
/// else a new one.
pub(crate) async fn snapshot_as_of(
    app: &App,
    stamp: OpenCatalogStamp,
) -> ServiceResult<Arc<OpenCatalog>> {
    let mut state = app.open.state.lock().await;
    if let Some(s) = state.as_ref() {
        if s.stamp == stamp && s.built.elapsed() < SNAPSHOT_MAX_AGE {
            return Ok(Arc::clone(&s.catalog));
        }
    }
    let mut built = build(app, &stamp.withheld).await?;
    built.seen = stamp.catalog_updated_at;
    let catalog = Arc::new(built);
    *state = Some(Snapshot {
        catalog: Arc::clone(&catalog),
        stamp,
        built: Instant::now(),
    });
    Ok(catalog)
}

/// OPN-2, OPN-7: a search of the open catalog — Chinese or English words, facets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct OpenSearch {
    /// Words to find in names, summaries and data items (empty: browse).
    pub q: Option<String>,
    pub domain: Option<String>,
    /// The source department's organisation id.
    pub source_org_id: Option<String>,
    pub format: Option<String>,
    /// `unconditional` or `conditional`.
    pub open_type: Option<String>,
    pub update_frequency: Option<String>,
    /// Hits per page, 1–100 (default 20).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// The facets the portal offers, in display order.
pub const OPEN_FACETS: [&str; 5] = [
    "domain",
    "source_org_id",
    "format",
    "open_type",
    "update_frequency",
];

/// One page of an open-catalog search.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenSearchPage {
    pub total: usize,
    pub datasets: Vec<OpenDataset>,
    /// Per facet of [`OPEN_FACETS`]: (value, matching datasets), most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Ids of the open datasets matching words and filters, best first (all of them,
/// up to the search index's limit), with the facets of the match.
pub async fn matching_ids(
    app: &App,
    catalog: &OpenCatalog,
    s: &OpenSearch,
    limit: usize,
    offset: usize,
) -> ServiceResult<(usize, Vec<String>, BTreeMap<String, Vec<(String, u64)>>)> {
    let index = crate::catalog_search::index_as_of(app, catalog.seen).await?;
    let query = SearchQuery {
        text: s.q.clone().unwrap_or_default(),
        filters: Filters {
            source_org_id: given(&s.source_org_id),
            domain: given(&s.domain),
            format: given(&s.format),
            open_type: given(&s.open_type),
            update_frequency: given(&s.update_frequency),
            status: Some("published".into()),
            public: true,
            ..Filters::default()
        },
        limit,
        offset,
    };
    let result = match index.cached(&query) {
        Some(r) => Ok(Ok(r)),
        None => tokio::task::spawn_blocking(move || index.search(&query)).await,
    };
    let result = result
        .map_err(|e| {
            ServiceError::new(
                ErrorKind::Internal,
                "search.failed",
                format!("检索失败：{e}"),
                e.to_string(),
            )
        })?
        .map_err(crate::catalog_search::search_error)?;
    let facets = result
        .facets
        .into_iter()
        .filter(|(name, _)| OPEN_FACETS.contains(&name.as_str()))
        .collect();
    Ok((
        result.total,
        result.hits.into_iter().map(|h| h.id).collect(),
        facets,
    ))
}

/// OPN-2, OPN-7: searches the open catalog; anyone may.
pub async fn search(app: &App, s: OpenSearch) -> ServiceResult<OpenSearchPage> {
    let limit = s.limit.unwrap_or(20).clamp(1, 100);
    let offset = s.offset.unwrap_or(0);
    let catalog = catalog(app).await?;
    if catalog.withheld.is_empty() {
        let (total, ids, facets) = matching_ids(app, &catalog, &s, limit, offset).await?;
        let datasets = ids
            .iter()
            .filter_map(|id| catalog.get(id).cloned())
            .collect();
        return Ok(OpenSearchPage {
            total,
            datasets,
            facets,
        });
    }
    search_without_withheld(app, &catalog, &s, limit, offset).await
}

/// The value a search facet counts for a dataset (as the search index files it).
fn facet_value(d: &OpenDataset, facet: &str) -> String {
    let c = &d.content;
    match facet {
        "domain" => c.domain.key().to_string(),
        "source_org_id" => c.source_org_id.clone(),
        "format" => c.format.key().to_string(),
        "open_type" => c.open_type.key().to_string(),
        _ => c.update_frequency.key().to_string(),
    }
}

/// OPN-9: a search while reports withhold datasets the index still holds: every
/// match is read, the withheld ones are left out of the page, the total and the
/// facets.
async fn search_without_withheld(
    app: &App,
    catalog: &OpenCatalog,
    s: &OpenSearch,
    limit: usize,
    offset: usize,
) -> ServiceResult<OpenSearchPage> {
    const PAGE: usize = gongshu_search::MAX_LIMIT;
    let (total, mut ids, mut facets) = matching_ids(app, catalog, s, PAGE, 0).await?;
    while ids.len() < total && ids.len() <= gongshu_search::MAX_OFFSET {
        let (_, page, _) = matching_ids(app, catalog, s, PAGE, ids.len()).await?;
        if page.is_empty() {
            break;
        }
        ids.extend(page);
    }
    let hidden: Vec<&OpenDataset> = ids
        .iter()
        .filter_map(|id| catalog.withheld.get(id))
        .collect();
    for d in &hidden {
        for (facet, values) in facets.iter_mut() {
            let value = facet_value(d, facet);
            if let Some(slot) = values.iter_mut().find(|(v, _)| *v == value) {
                slot.1 = slot.1.saturating_sub(1);
            }
        }
    }
    for values in facets.values_mut() {
        values.retain(|(_, n)| *n > 0);
        values.sort_by_key(|v| std::cmp::Reverse(v.1));
    }
    let datasets = ids
        .iter()
        .filter_map(|id| catalog.get(id))
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    Ok(OpenSearchPage {
        total: total.saturating_sub(hidden.len()),
        datasets,
        facets,
    })
}

/// OPN-2, OPN-8: the figures on the portal's home page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortalFigures {
    pub datasets: usize,
    pub unconditional: usize,
    pub conditional: usize,
    pub publishers: usize,
    pub rows: i64,
    /// Datasets per domain, priority domains (HZ 30) first, then the others with data.
    pub domains: Vec<DomainFigure>,
    /// The five most recently changed datasets.
    pub recent: Vec<OpenDataset>,
    /// OPN-8: the year whose priority domains are shown.
    pub year: i32,
    /// OPN-8: whether the authority published them (else the default list, HZ 30).
    pub priorities_published: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DomainFigure {
    /// A `Domain` key.
    pub domain: String,
    pub datasets: usize,
    /// OPN-8: one of the priority domains opened first.
    pub priority: bool,
}

/// OPN-2: the portal's home figures.
pub async fn figures(app: &App) -> ServiceResult<PortalFigures> {
    let catalog = catalog(app).await?;
    let count = |t: OpenType| {
        catalog
            .datasets
            .iter()
            .filter(|d| d.content.open_type == t)
            .count()
    };
    let per_domain = |domain: Domain| {
        catalog
            .datasets
            .iter()
            .filter(|d| d.content.domain == domain)
            .count()
    };
    // OPN-8 (HZ 30): this year's priorities as the authority published them, else
    // the default list.
    let year = crate::open_plans::current_year();
    let (priorities, published) = crate::open_plans::priority_domains(app, year).await?;
    let mut domains: Vec<DomainFigure> = priorities
        .iter()
        .map(|d| DomainFigure {
            domain: d.key().into(),
            datasets: per_domain(*d),
            priority: true,
        })
        .collect();
    for d in Domain::ALL {
        let n = per_domain(*d);
        if n > 0 && !priorities.contains(d) {
            domains.push(DomainFigure {
                domain: d.key().into(),
                datasets: n,
                priority: false,
            });
        }
    }
    let mut recent: Vec<&OpenDataset> = catalog.datasets.iter().collect();
    recent.sort_by_key(|d| std::cmp::Reverse(d.modified_at));
    Ok(PortalFigures {
        datasets: catalog.datasets.len(),
        unconditional: count(OpenType::Unconditional),
        conditional: count(OpenType::Conditional),
        publishers: catalog.publishers().len(),
        rows: catalog.datasets.iter().map(|d| d.rows).sum(),
        domains,
        recent: recent.into_iter().take(5).cloned().collect(),
        year,
        priorities_published: published,
    })
}

/// The day a dataset was obtained, as its citation states it.
pub fn obtained_today() -> NaiveDate {
    today_in_china(Utc::now())
}

/// Frictionless Table Schema type of a served column.
fn table_schema_type(t: FieldType) -> &'static str {
    match t {
        FieldType::String | FieldType::Binary => "string",
        FieldType::Integer => "integer",
        FieldType::Number => "number",
        FieldType::Date => "date",
        FieldType::DateTime => "datetime",
        FieldType::Boolean => "boolean",
    }
}

/// The Table Schema of what the public receives; a masked column (served as text)
/// keeps no constraint its masked values could break.
pub fn table_schema(served: &TableSchema, dataset: &OpenDataset) -> serde_json::Value {
    let fields: Vec<serde_json::Value> = served
        .columns
        .iter()
        .map(|c| {
            let item = dataset
                .content
                .items
                .iter()
                .find(|i| i.code_name.eq_ignore_ascii_case(&c.name) || i.name == c.title);
            let masked = default_rule(c) != MaskRule::Clear;
            let mut field = serde_json::json!({
                "name": c.name,
                "title": c.title,
                "type": table_schema_type(c.field_type),
            });
            if let Some(i) = item.filter(|i| !i.meaning.is_empty()) {
                field["description"] = i.meaning.clone().into();
            }
            if !masked {
                let mut constraints = serde_json::Map::new();
                if c.constraints.required {
                    constraints.insert("required".into(), true.into());
                }
                if !c.constraints.enum_values.is_empty() {
                    constraints.insert("enum".into(), c.constraints.enum_values.clone().into());
                }
                if let Some(m) = c.max_length.filter(|_| c.field_type == FieldType::String) {
                    constraints.insert("maxLength".into(), m.into());
                }
                if !constraints.is_empty() {
                    field["constraints"] = constraints.into();
                }
            }
            field
        })
        .collect();
    serde_json::json!({ "fields": fields, "missingValues": [""] })
}

/// The Data Package name of a dataset: its resource code (lower-case ASCII).
pub fn package_name(dataset: &OpenDataset) -> String {
    dataset.code.to_ascii_lowercase()
}

/// One file of a Data Package: its name in the package and its format.
pub fn package_resource(
    dataset: &OpenDataset,
    served: &TableSchema,
    format: ExportFormat,
    path: &str,
) -> serde_json::Value {
    let (format_key, media) = match format {
        ExportFormat::Csv => ("csv", "text/csv"),
        ExportFormat::Json => ("jsonl", "application/x-ndjson"),
        ExportFormat::Xlsx => (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ExportFormat::Parquet => ("parquet", "application/vnd.apache.parquet"),
    };
    let mut r = serde_json::json!({
        "name": format!("{}-{}", package_name(dataset), format_key),
        "title": dataset.content.name,
        "path": path,
        "format": format_key,
        "mediatype": media,
        "schema": table_schema(served, dataset),
    });
    if format == ExportFormat::Csv {
        r["encoding"] = "utf-8".into();
    }
    r
}

/// OPN-7, OPN-10: the Data Package descriptor of a dataset with the given files:
/// its metadata, source, licence terms and how to cite it.
pub fn data_package(
    dataset: &OpenDataset,
    url: &str,
    resources: Vec<serde_json::Value>,
) -> serde_json::Value {
    let c = &dataset.content;
    let cite = dataset.citation(url);
    serde_json::json!({
        "name": package_name(dataset),
        "title": c.name,
        "description": c.summary,
        "homepage": url,
        "version": format!("{}.0.0", dataset.published_version.max(1)),
        "created": dataset.modified_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "keywords": [c.domain.label_zh(), c.domain.label_en()],
        "licenses": [{
            "name": "open-data-terms",
            "title": "公共数据开放平台数据使用规则：引用须注明来源与获取日期（XJ 32）/ Cite the source and date obtained (XJ 32)",
            "path": url,
        }],
        "sources": [{ "title": dataset.source_org_name, "path": url }],
        "contributors": [{ "title": dataset.source_org_name, "role": "publisher" }],
        "citation": { "zh": cite.zh, "en": cite.en },
        "resources": resources,
    })
}

/// OPN-3, OPN-7: a download bundled with its Data Package (`datapackage.json` next
/// to the data file), written to an unnamed temporary file.
pub fn zip_package(
    download: crate::egress::OpenDownload,
    dataset: &OpenDataset,
    url: &str,
) -> ServiceResult<(std::fs::File, u64)> {
    use std::io::{Read, Seek, Write};
    let fail = |e: String| {
        ServiceError::new(
            ErrorKind::Internal,
            "open.package_failed",
            format!("打包数据包失败：{e}"),
            format!("building the data package failed: {e}"),
        )
    };
    let data_name = format!("{}.{}", dataset.code, download.format.extension());
    let descriptor = data_package(
        dataset,
        url,
        vec![package_resource(
            dataset,
            &download.schema,
            download.format,
            &data_name,
        )],
    );
    let file = tempfile::tempfile().map_err(|e| fail(e.to_string()))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    zip.start_file("datapackage.json", options)
        .map_err(|e| fail(e.to_string()))?;
    let json = serde_json::to_vec_pretty(&descriptor).map_err(|e| fail(e.to_string()))?;
    zip.write_all(&json).map_err(|e| fail(e.to_string()))?;
    zip.start_file(data_name.as_str(), options)
        .map_err(|e| fail(e.to_string()))?;
    match download.body {
        crate::egress::Spooled::Memory(bytes) => {
            zip.write_all(&bytes).map_err(|e| fail(e.to_string()))?;
        }
        crate::egress::Spooled::File { mut file, .. } => {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = file.read(&mut buf).map_err(|e| fail(e.to_string()))?;
                if n == 0 {
                    break;
                }
                zip.write_all(&buf[..n]).map_err(|e| fail(e.to_string()))?;
            }
        }
    }
    let mut file = zip.finish().map_err(|e| fail(e.to_string()))?;
    let len = file.stream_position().map_err(|e| fail(e.to_string()))?;
    file.rewind().map_err(|e| fail(e.to_string()))?;
    Ok((file, len))
}
