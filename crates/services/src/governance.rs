//! COL-4, COL-9, GOV-1 … GOV-3: governing the mounted data — freshness against the
//! catalog's update frequency, quality per resource and department, the population
//! and legal-entity base databases with one source per attribute, and
//! cross-checking of the same subject's data between departments.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use gongshu_domain::catalog::{KeyRole, UpdateFrequency};
use gongshu_domain::dataset::{self, Column, QualityScores, TableSchema, Value};
use gongshu_domain::deadlines::DeadlineKind;
use gongshu_domain::permissions::Permission;
use gongshu_domain::social_data::serves_social_data;
use gongshu_store::{
    AnsweredDifferences, BaseAttribute, CatalogFilter, Change, ColumnRef, Dataset, DatasetLoad,
    Discrepancy, DiscrepancyFilter, LoadFilter, QualitySnapshot, StoreError, StoredRow,
};
use serde::{Deserialize, Serialize};

use crate::catalog::today_in_china;
use crate::context::{summary, App, Ctx};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// Differences turned into discrepancies per attribute and resource in one run.
const MAX_NEW_DISCREPANCIES: i64 = 5_000;

/// COL-9: the base databases built here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// 人口基础库, keyed by citizen ID number (GB 11643).
    Population,
    /// 法人基础库, keyed by unified social credit code (GB 32100).
    LegalEntity,
}

impl Base {
    pub const ALL: [Base; 2] = [Base::Population, Base::LegalEntity];

    pub fn key(&self) -> &'static str {
        match self {
            Base::Population => "population",
            Base::LegalEntity => "legal_entity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.key() == s)
    }

    pub fn subject_role(&self) -> KeyRole {
        match self {
            Base::Population => KeyRole::CitizenId,
            Base::LegalEntity => KeyRole::CreditCode,
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            Base::Population => "人口基础库",
            Base::LegalEntity => "法人基础库",
        }
    }

    pub fn label_en(&self) -> &'static str {
        match self {
            Base::Population => "Population base",
            Base::LegalEntity => "Legal-entity base",
        }
    }
}

/// One column of a mounted dataset holding a datum about a base's subjects.
#[derive(Debug, Clone)]
struct Holder {
    dataset: Dataset,
    table: String,
    key_column: String,
    column: String,
    label: String,
}

impl Holder {
    fn column_ref(&self) -> ColumnRef {
        ColumnRef {
            table: self.table.clone(),
            key_column: self.key_column.clone(),
            column: self.column.clone(),
        }
    }
}

/// Every mounted dataset column that speaks of a base's subjects, by item key.
async fn holders(app: &App, base: Base) -> Result<BTreeMap<String, Vec<Holder>>, StoreError> {
    let mut by_item: BTreeMap<String, Vec<Holder>> = BTreeMap::new();
    let today = today_in_china(Utc::now());
    for d in app.data.list_datasets(None).await? {
        // COL-6: data withheld after a secrecy review feeds no base and no cross-check.
        if d.withheld_as_secret() {
            continue;
        }
        let Some(table) = d.current_table.clone() else {
            continue;
        };
        let Some(subject) = d.schema.subject_column(base.subject_role()) else {
            continue;
        };
        // COL-8: social data feeds a base and its cross-checks only while an
        // agreement over it is in force, as the gate serves it to no one else.
        if let Some(served) = app.data.find_served_dataset(&d.resource_id, today).await? {
            if !serves_social_data(served.social_agreements, served.social_agreements_in_force) {
                continue;
            }
        }
        let key_column = d.schema.columns[subject].name.clone();
        for c in attribute_columns(&d.schema, subject) {
            by_item.entry(c.item_key.clone()).or_default().push(Holder {
                dataset: d.clone(),
                table: table.clone(),
                key_column: key_column.clone(),
                column: c.name.clone(),
                label: c.title.clone(),
            });
        }
    }
    Ok(by_item)
}

/// The columns of a table that hold data about the subject in column `subject`:
/// every column but the identifiers.
fn attribute_columns(schema: &TableSchema, subject: usize) -> impl Iterator<Item = &Column> {
    schema.columns.iter().enumerate().filter_map(move |(i, c)| {
        let identifies = matches!(
            c.key_role,
            KeyRole::CitizenId | KeyRole::CreditCode | KeyRole::RecordKey
        );
        (i != subject && !identifies).then_some(c)
    })
}

/// GOV-2: the (subject column, column) pairs of a resource's table that the
/// cross-check will compare: the base attributes it is the source of and another
/// department also holds, and those another department is the source of. A load
/// indexes them for the comparison before the new version is served.
pub async fn compared_columns(
    app: &App,
    org_id: &str,
    resource_id: &str,
    schema: &TableSchema,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut found = Vec::new();
    let attributes = app.data.list_base_attributes(None).await?;
    for base in Base::ALL {
        let Some(subject) = schema.subject_column(base.subject_role()) else {
            continue;
        };
        let held: Vec<&BaseAttribute> =
            attributes.iter().filter(|a| a.base == base.key()).collect();
        if held.is_empty() {
            continue;
        }
        let holders = holders(app, base).await?;
        for attr in held {
            let list = holders
                .get(&attr.attribute)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let compared = if attr.resource_id == resource_id {
                list.iter().any(|h| h.dataset.org_id != attr.source_org_id)
            } else {
                org_id != attr.source_org_id
                    && list
                        .iter()
                        .any(|h| h.dataset.resource_id == attr.resource_id)
            };
            if !compared {
                continue;
            }
            for c in attribute_columns(schema, subject).filter(|c| c.item_key == attr.attribute) {
                found.push((schema.columns[subject].name.clone(), c.name.clone()));
            }
        }
    }
    Ok(found)
}

/// A datum of a base whose source is not settled: several departments hold it and
/// the authority has not named the one source (CAT-3).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Undetermined {
    pub attribute: String,
    pub label: String,
    pub org_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BuildReport {
    pub base: Base,
    pub attributes: Vec<BaseAttribute>,
    pub undetermined: Vec<Undetermined>,
    pub discrepancies_found: i64,
}

/// COL-9: what building `base` now would give: each datum's attribute from its one
/// source department, and the data without a settled source.
async fn plan_base(
    app: &App,
    base: Base,
    now: DateTime<Utc>,
    actor: &str,
) -> ServiceResult<(Vec<BaseAttribute>, Vec<Undetermined>)> {
    let named: HashMap<String, String> = app
        .store
        .list_item_sources()
        .await?
        .into_iter()
        .map(|s| (s.item_key, s.source_org_id))
        .collect();
    let mut attributes = Vec::new();
    let mut undetermined = Vec::new();
    for (item, holders) in holders(app, base).await? {
        let mut orgs: Vec<String> = holders.iter().map(|h| h.dataset.org_id.clone()).collect();
        orgs.sort();
        orgs.dedup();
        let source = match named.get(&item) {
            Some(o) => Some(o.clone()),
            None if orgs.len() == 1 => Some(orgs[0].clone()),
            None => None,
        };
        let chosen = source.as_ref().and_then(|org| {
            holders
                .iter()
                .filter(|h| &h.dataset.org_id == org)
                .max_by_key(|h| h.dataset.last_loaded_at)
        });
        match chosen {
            Some(h) => attributes.push(BaseAttribute {
                base: base.key().into(),
                attribute: item.clone(),
                label: h.label.clone(),
                source_org_id: h.dataset.org_id.clone(),
                resource_id: h.dataset.resource_id.clone(),
                column_name: h.column.clone(),
                built_at: now,
                built_by: actor.to_string(),
            }),
            None => undetermined.push(Undetermined {
                attribute: item.clone(),
                label: holders[0].label.clone(),
                org_ids: orgs,
            }),
        }
    }
    Ok((attributes, undetermined))
}

/// COL-9: a base database as built, and what a rebuild would change: data items
/// mounted since (or now from another source resource), and those whose source
/// is not settled.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BaseStatus {
    pub base: Base,
    pub attributes: Vec<BaseAttribute>,
    /// Attributes a rebuild would add, or take from another resource.
    pub pending: Vec<BaseAttribute>,
    /// Attributes a rebuild would drop: no mounted resource holds them any more.
    pub dropped: Vec<BaseAttribute>,
    pub undetermined: Vec<Undetermined>,
}

/// COL-9: the base as built beside what building it now would give.
pub async fn base_status(app: &App, ctx: &Ctx, base: Base) -> ServiceResult<BaseStatus> {
    ctx.principal.authorize(Permission::DataQuality, None)?;
    let attributes = app.data.list_base_attributes(Some(base.key())).await?;
    let (planned, undetermined) = plan_base(app, base, Utc::now(), "").await?;
    let same = |a: &BaseAttribute, b: &BaseAttribute| {
        a.attribute == b.attribute
            && a.resource_id == b.resource_id
            && a.column_name == b.column_name
    };
    let pending = planned
        .iter()
        .filter(|p| !attributes.iter().any(|a| same(a, p)))
        .cloned()
        .collect();
    // An attribute now without a settled source is listed as undetermined, not here.
    let dropped = attributes
        .iter()
        .filter(|a| !planned.iter().any(|p| p.attribute == a.attribute))
        .filter(|a| !undetermined.iter().any(|u| u.attribute == a.attribute))
        .cloned()
        .collect();
    Ok(BaseStatus {
        base,
        attributes,
        pending,
        dropped,
        undetermined,
    })
}

/// COL-9: builds a base database from departments' mounted resources: each datum
/// about the base's subjects comes from its one source department (CAT-3) — the
/// source the authority named, or the only department that delivers it. Then
/// cross-checks every other department's copy against it (GOV-2).
pub async fn build_base(app: &App, ctx: &Ctx, base: Base) -> ServiceResult<BuildReport> {
    ctx.principal.authorize(Permission::DataGovern, None)?;
    let now = Utc::now();
    let (attributes, undetermined) = plan_base(app, base, now, &ctx.principal.actor).await?;
    let mut audit = ctx.audit("base.build", "base", base.key());
    audit.after = summary(&serde_json::json!({
        "attributes": attributes.iter().map(|a| (&a.label, &a.source_org_id)).collect::<Vec<_>>(),
        "undetermined": undetermined.len(),
    }));
    app.store
        .commit(
            vec![Change::ReplaceBaseAttributes {
                base: base.key().into(),
                attributes: attributes.clone(),
            }],
            vec![audit],
        )
        .await?;
    let found = cross_check(app, &Ctx::system(), Some(base), None).await?;
    Ok(BuildReport {
        base,
        attributes,
        undetermined,
        discrepancies_found: found.new_discrepancies,
    })
}

/// GOV-2: the discrepancies in `status` of one comparison: `attribute` in the
/// resource `other_resource_id` against its source.
async fn discrepancies_of(
    app: &App,
    status: &str,
    attribute: &str,
    other_resource_id: &str,
) -> ServiceResult<Vec<Discrepancy>> {
    let all = app
        .data
        .list_discrepancies(&DiscrepancyFilter {
            status: Some(status.into()),
            limit: Some(1_000_000),
            ..DiscrepancyFilter::default()
        })
        .await?;
    Ok(all
        .into_iter()
        .filter(|d| d.attribute == attribute && d.other_resource_id == other_resource_id)
        .collect())
}

/// What one cross-check run did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CrossCheckReport {
    pub comparisons: i64,
    pub linked: i64,
    pub differing: i64,
    pub new_discrepancies: i64,
    pub agreed: i64,
}

/// GOV-2: compares every other department's copy of each base attribute with the
/// source's, subject by subject. Each difference becomes a discrepancy assigned to
/// the source department, due in 5 working days (CZ 41); discrepancies whose data
/// now agrees are closed. With `resource`, only comparisons involving it run.
pub async fn cross_check(
    app: &App,
    ctx: &Ctx,
    only_base: Option<Base>,
    resource: Option<&str>,
) -> ServiceResult<CrossCheckReport> {
    ctx.principal.authorize(Permission::DataGovern, None)?;
    let now = Utc::now();
    let today = today_in_china(now);
    let due = app
        .deadlines
        .due(&app.calendar, DeadlineKind::CrossCheckFeedback, today)
        .map_err(ServiceError::from_calendar)?;
    let mut report = CrossCheckReport::default();
    // GOV-1 accuracy of each compared resource: (agreeing, linked).
    let mut accuracy: HashMap<String, (i64, i64)> = HashMap::new();
    for base in Base::ALL
        .into_iter()
        .filter(|b| only_base.is_none_or(|o| o == *b))
    {
        let attributes = app.data.list_base_attributes(Some(base.key())).await?;
        if attributes.is_empty() {
            continue;
        }
        let holders = holders(app, base).await?;
        for attr in attributes {
            let Some(list) = holders.get(&attr.attribute) else {
                continue;
            };
            let Some(source) = list
                .iter()
                .find(|h| h.dataset.resource_id == attr.resource_id)
            else {
                continue;
            };
            for other in list
                .iter()
                .filter(|h| h.dataset.org_id != attr.source_org_id)
            {
                if resource.is_some_and(|r| {
                    r != source.dataset.resource_id && r != other.dataset.resource_id
                }) {
                    continue;
                }
                // A table loaded before the base was built has no comparison index yet.
                for h in [source, other] {
                    app.data
                        .index_for_comparison(&h.table, &h.key_column, &h.column)
                        .await?;
                }
                let cmp = crate::egress::compare(
                    app,
                    ctx,
                    base.key(),
                    (&source.dataset, &source.column_ref()),
                    (&other.dataset, &other.column_ref()),
                    // A difference the source confirmed (its value stands) is not
                    // raised again while both values are the ones it answered for.
                    &AnsweredDifferences {
                        attribute: attr.attribute.clone(),
                        other_resource_id: other.dataset.resource_id.clone(),
                    },
                    MAX_NEW_DISCREPANCIES,
                )
                .await?;
                report.comparisons += 1;
                report.linked += cmp.linked;
                report.differing += cmp.differing_total;
                let acc = accuracy
                    .entry(other.dataset.resource_id.clone())
                    .or_default();
                acc.0 += cmp.linked - cmp.differing_total;
                acc.1 += cmp.linked;
                let open =
                    discrepancies_of(app, "open", &attr.attribute, &other.dataset.resource_id)
                        .await?;
                let open_here: HashMap<&str, &Discrepancy> =
                    open.iter().map(|d| (d.subject_key.as_str(), d)).collect();
                let differing: HashMap<&str, &(String, String, String)> =
                    cmp.differing.iter().map(|t| (t.0.as_str(), t)).collect();
                let mut changes = Vec::new();
                let fresh: Vec<Discrepancy> = cmp
                    .differing
                    .iter()
                    .filter(|(subject, _, _)| !open_here.contains_key(subject.as_str()))
                    .map(|(subject, source_value, other_value)| Discrepancy {
                        id: 0,
                        base: base.key().into(),
                        subject_key: subject.clone(),
                        attribute: attr.attribute.clone(),
                        label: attr.label.clone(),
                        source_org_id: attr.source_org_id.clone(),
                        source_resource_id: attr.resource_id.clone(),
                        source_value: source_value.clone(),
                        other_org_id: other.dataset.org_id.clone(),
                        other_resource_id: other.dataset.resource_id.clone(),
                        other_value: other_value.clone(),
                        status: "open".into(),
                        found_at: now,
                        due,
                        overdue_since: None,
                        resolution: None,
                        resolved_by: None,
                        resolved_at: None,
                    })
                    .collect();
                report.new_discrepancies += fresh.len() as i64;
                // Only a complete list of differences can show that one went away.
                if cmp.unanswered_total <= MAX_NEW_DISCREPANCIES {
                    for (subject, d) in &open_here {
                        if !differing.contains_key(subject) {
                            let mut closed = (*d).clone();
                            closed.status = "agreed".into();
                            closed.resolved_at = Some(now);
                            closed.resolved_by = Some("system".into());
                            closed.resolution = Some("数据已一致 / the data now agrees".into());
                            changes.push(Change::UpdateDiscrepancy(closed));
                            report.agreed += 1;
                        }
                    }
                }
                if !fresh.is_empty() {
                    changes.push(Change::InsertDiscrepancies(fresh));
                }
                if !changes.is_empty() {
                    let mut audit = ctx.audit("governance.cross_check", "base", base.key());
                    audit.org_id = Some(attr.source_org_id.clone());
                    audit.after = summary(&serde_json::json!({
                        "attribute": attr.label,
                        "source_resource": attr.resource_id,
                        "other_resource": other.dataset.resource_id,
                        "linked": cmp.linked,
                        "differing": cmp.differing_total,
                        "due": due,
                    }));
                    app.store.commit(changes, vec![audit]).await?;
                }
            }
        }
    }
    for (resource_id, (agree, linked)) in accuracy {
        if linked > 0 {
            record_accuracy(app, &resource_id, agree as f64 / linked as f64).await?;
        }
    }
    Ok(report)
}

/// GOV-1: the accuracy of a resource's current load against the base databases.
async fn record_accuracy(app: &App, resource_id: &str, value: f64) -> ServiceResult<()> {
    let Some(d) = app.data.get_dataset(resource_id).await? else {
        return Ok(());
    };
    let Some(load_id) = d.current_load_id else {
        return Ok(());
    };
    let Some(mut load) = app.data.get_load(&load_id).await? else {
        return Ok(());
    };
    let mut q = load.quality.unwrap_or_default();
    if q.accuracy == Some(value) {
        return Ok(());
    }
    q.accuracy = Some(value);
    load.quality = Some(q);
    app.store
        .commit(vec![Change::PutLoad(load)], vec![])
        .await?;
    Ok(())
}

/// After a load or rollback: cross-checks what involves the resource.
pub async fn after_load(app: &App, resource_id: &str) -> ServiceResult<()> {
    // Any resource may hold a copy of a base attribute, so any built base is involved.
    if !app.data.list_base_attributes(None).await?.is_empty() {
        cross_check(app, &Ctx::system(), None, Some(resource_id)).await?;
    }
    // GOV-1: the day's quality of the department, with what the load and the
    // cross-check just changed.
    if let Some(dataset) = app.data.get_dataset(resource_id).await? {
        record_quality_day(app, Some(&dataset.org_id), Utc::now()).await?;
    }
    Ok(())
}

/// One attribute of a subject as a department delivered it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttributeValue {
    pub org_id: String,
    pub resource_id: String,
    pub value: String,
    /// The load (version) that wrote the value.
    pub load_version: i64,
    pub load_id: Option<String>,
    pub loaded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectAttribute {
    pub attribute: String,
    pub label: String,
    pub source_org_id: String,
    /// The source department's value, if it delivered one for this subject.
    pub source: Option<AttributeValue>,
    /// Other departments' copies (GOV-2 compares them with the source).
    pub others: Vec<AttributeValue>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectRecord {
    pub base: Base,
    pub subject_key: String,
    pub attributes: Vec<SubjectAttribute>,
    pub open_discrepancies: Vec<Discrepancy>,
}

/// COL-9: a subject's record in a base database: each attribute from its source,
/// with the load that delivered it, and the other departments' copies.
pub async fn subject_record(
    app: &App,
    ctx: &Ctx,
    base: Base,
    key: &str,
) -> ServiceResult<SubjectRecord> {
    ctx.principal.authorize(Permission::DataGovern, None)?;
    let key = key.trim();
    let normalised = match base {
        Base::Population => gongshu_domain::ids::CitizenId::parse(key)
            .map(|k| k.as_str().to_string())
            .map_err(|e| ServiceError::from_id("key", e))?,
        Base::LegalEntity => gongshu_domain::ids::CreditCode::parse(key)
            .map(|k| k.as_str().to_string())
            .map_err(|e| ServiceError::from_id("key", e))?,
    };
    let holders = holders(app, base).await?;
    let attrs = app.data.list_base_attributes(Some(base.key())).await?;
    // Each dataset holding an attribute is read once, through the egress gate, for
    // the columns the record shows (DESIGN 2).
    let mut wanted: BTreeMap<&str, (&Holder, Vec<String>)> = BTreeMap::new();
    for h in attrs
        .iter()
        .flat_map(|a| holders.get(&a.attribute).into_iter().flatten())
    {
        let entry = wanted
            .entry(h.dataset.resource_id.as_str())
            .or_insert_with(|| (h, vec![h.key_column.clone()]));
        if !entry.1.contains(&h.column) {
            entry.1.push(h.column.clone());
        }
    }
    let reads: Vec<crate::egress::SubjectRead<'_>> = wanted
        .values()
        .map(|(h, columns)| crate::egress::SubjectRead {
            dataset: &h.dataset,
            table: &h.table,
            key_column: &h.key_column,
            columns: columns.clone(),
        })
        .collect();
    let found = crate::egress::subject_rows(app, ctx, base.key(), &normalised, &reads).await?;
    let rows: HashMap<&str, &StoredRow> = wanted
        .keys()
        .zip(&found)
        .filter_map(|(id, row)| row.as_ref().map(|r| (*id, r)))
        .collect();
    let mut load_cache: HashMap<(String, i64), Vec<DatasetLoad>> = HashMap::new();
    let mut attributes = Vec::new();
    for attr in attrs {
        let mut source = None;
        let mut others = Vec::new();
        for h in holders.get(&attr.attribute).into_iter().flatten() {
            let Some(row) = rows.get(h.dataset.resource_id.as_str()) else {
                continue;
            };
            let col = h
                .dataset
                .schema
                .columns
                .iter()
                .position(|c| c.name == h.column);
            let value = col.map(|i| &row.values[i]).unwrap_or(&Value::Null);
            if value.is_null() {
                continue;
            }
            // The load that wrote the row: the version it carries, however many
            // loads (small pushed batches, say) came since.
            let cache_key = (h.dataset.resource_id.clone(), row.load);
            if !load_cache.contains_key(&cache_key) {
                let loads = app
                    .data
                    .list_loads(&LoadFilter {
                        resource_id: Some(h.dataset.resource_id.clone()),
                        version: Some(row.load),
                        limit: Some(50),
                        ..LoadFilter::default()
                    })
                    .await?;
                load_cache.insert(cache_key.clone(), loads);
            }
            let load = load_cache[&cache_key]
                .iter()
                .find(|l| l.status == "applied" || l.status == "rolled_back");
            let v = AttributeValue {
                org_id: h.dataset.org_id.clone(),
                resource_id: h.dataset.resource_id.clone(),
                value: value.to_text(),
                load_version: row.load,
                load_id: load.map(|l| l.id.clone()),
                loaded_at: load.and_then(|l| l.finished_at),
            };
            if h.dataset.resource_id == attr.resource_id {
                source = Some(v);
            } else {
                others.push(v);
            }
        }
        attributes.push(SubjectAttribute {
            attribute: attr.attribute,
            label: attr.label,
            source_org_id: attr.source_org_id,
            source,
            others,
        });
    }
    let open_discrepancies = app
        .data
        .list_discrepancies(&DiscrepancyFilter {
            subject_key: Some(normalised.clone()),
            status: Some("open".into()),
            ..DiscrepancyFilter::default()
        })
        .await?;
    Ok(SubjectRecord {
        base,
        subject_key: normalised,
        attributes,
        open_discrepancies,
    })
}

/// GOV-2: discrepancies a department must act on (its own), or all for governors.
pub async fn discrepancies(
    app: &App,
    ctx: &Ctx,
    mut filter: DiscrepancyFilter,
) -> ServiceResult<(Vec<Discrepancy>, i64)> {
    match &filter.source_org_id {
        Some(o) => {
            if ctx
                .principal
                .authorize(Permission::DataGovern, None)
                .is_err()
            {
                ctx.principal.authorize(Permission::DataLoad, Some(o))?;
            }
        }
        None => {
            if ctx
                .principal
                .authorize(Permission::DataGovern, None)
                .is_err()
            {
                let own = ctx.principal.org_id.clone();
                ctx.principal
                    .authorize(Permission::DataLoad, own.as_deref())?;
                filter.source_org_id = own;
            }
        }
    }
    let total = app.data.count_discrepancies(&filter).await?;
    Ok((app.data.list_discrepancies(&filter).await?, total))
}

/// How the source department settles a discrepancy.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Resolution {
    /// `corrected` (the source fixed its data) or `confirmed` (the source's value stands).
    pub outcome: String,
    pub note: String,
}

/// GOV-2: the source department answers a discrepancy, within its 5 working days.
pub async fn resolve(app: &App, ctx: &Ctx, id: i64, r: Resolution) -> ServiceResult<Discrepancy> {
    let d = app
        .data
        .get_discrepancy(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("差异", "discrepancy", &id.to_string()))?;
    ctx.principal
        .authorize(Permission::DataLoad, Some(&d.source_org_id))?;
    if d.status != "open" {
        return Err(ServiceError::conflict(
            "discrepancy.closed",
            "该差异已处理",
            "the discrepancy is already settled",
        ));
    }
    if r.outcome != "corrected" && r.outcome != "confirmed" {
        return Err(ServiceError::invalid(
            "discrepancy.outcome_invalid",
            "outcome",
            "处理结果须为 corrected（已更正数据）或 confirmed（确认数源数据无误）",
            "the outcome is corrected (data fixed) or confirmed (the source's value stands)",
        ));
    }
    if r.note.trim().is_empty() {
        return Err(ServiceError::invalid(
            "discrepancy.note_required",
            "note",
            "请说明处理情况",
            "say what was done",
        ));
    }
    let mut after = d.clone();
    after.status = r.outcome.clone();
    after.resolution = Some(r.note.trim().to_string());
    after.resolved_by = Some(ctx.principal.actor.clone());
    after.resolved_at = Some(Utc::now());
    let mut audit = ctx.audit("discrepancy.resolve", "discrepancy", &id.to_string());
    audit.org_id = Some(d.source_org_id.clone());
    audit.before = summary(&d);
    audit.after = summary(&after);
    app.store
        .commit(vec![Change::UpdateDiscrepancy(after.clone())], vec![audit])
        .await?;
    Ok(after)
}

/// GOV-2: marks open discrepancies past their due day, once each.
pub async fn flag_overdue(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let ctx = Ctx::system();
    let today = today_in_china(now);
    let late = app
        .data
        .list_discrepancies(&DiscrepancyFilter {
            overdue_on: Some(today),
            limit: Some(100_000),
            ..DiscrepancyFilter::default()
        })
        .await?;
    let mut flagged = 0;
    let mut by_org: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    for d in late.into_iter().filter(|d| d.overdue_since.is_none()) {
        let mut after = d.clone();
        after.overdue_since = Some(today);
        by_org
            .entry(d.source_org_id.clone())
            .or_default()
            .push(Change::UpdateDiscrepancy(after));
        flagged += 1;
    }
    for (org, changes) in by_org {
        let mut audit = ctx.audit("discrepancy.overdue", "organization", &org);
        audit.org_id = Some(org.clone());
        audit.after = summary(&serde_json::json!({ "count": changes.len(), "since": today }));
        app.store.commit(changes, vec![audit]).await?;
    }
    Ok(flagged)
}

/// COL-4: a resource not refreshed by its due day (`last_loaded_at` empty: no data
/// came since the entry was published).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaleResource {
    pub resource_id: String,
    pub code: String,
    pub name: String,
    pub org_id: String,
    pub update_frequency: String,
    pub last_loaded_at: Option<DateTime<Utc>>,
    pub due: NaiveDate,
    /// Working days past the due day.
    pub workdays_overdue: i64,
}

/// COL-4: resources past their refresh day, most overdue first: mounted ones by
/// their last load, published entries without data by their publication.
pub async fn stale(app: &App, ctx: &Ctx, today: NaiveDate) -> ServiceResult<Vec<StaleResource>> {
    let org_scope = quality_scope(ctx)?;
    let entries = mounted_entries(app).await?;
    let grace = app.deadlines.days(DeadlineKind::DataFreshness);
    let mut out = Vec::new();
    for d in app.data.list_datasets(org_scope.as_deref()).await? {
        let (Some(entry), Some(last)) = (entries.get(&d.resource_id), d.last_loaded_at) else {
            continue;
        };
        let Some(content) = entry.published.as_ref() else {
            continue;
        };
        if entry.offline {
            continue;
        }
        let frequency: UpdateFrequency = content.update_frequency;
        let Some((due, workdays_overdue)) = overdue(app, frequency, last, today, grace) else {
            continue;
        };
        out.push(StaleResource {
            resource_id: d.resource_id.clone(),
            code: entry.code.clone(),
            name: entry.name.clone(),
            org_id: d.org_id.clone(),
            update_frequency: frequency.key().into(),
            last_loaded_at: Some(last),
            due,
            workdays_overdue,
        });
    }
    // CAT-6, COL-4: a published entry no data ever came to is late by the same
    // measure, counted from its publication.
    let unmounted = crate::catalog::every_entry(
        app,
        CatalogFilter {
            mounted: Some(false),
            ..CatalogFilter::default()
        },
    )
    .await?;
    // A copy received from the level below gets its data from there, when that
    // level sends it; this level cannot deliver it.
    let received: HashSet<String> = app
        .store
        .list_received_reports(None)
        .await?
        .into_iter()
        .map(|r| r.entry_id)
        .collect();
    for entry in unmounted
        .iter()
        .filter(|e| !e.offline && !received.contains(&e.id))
    {
        let (Some(content), Some(published)) = (entry.published.as_ref(), entry.published_at)
        else {
            continue;
        };
        let org = crate::datasets::providing_org(content);
        if org_scope.as_deref().is_some_and(|own| own != org) {
            continue;
        }
        let frequency = content.update_frequency;
        let Some((due, workdays_overdue)) = overdue(app, frequency, published, today, grace) else {
            continue;
        };
        out.push(StaleResource {
            resource_id: entry.id.clone(),
            code: entry.code.clone(),
            name: entry.name.clone(),
            org_id: org.to_string(),
            update_frequency: frequency.key().into(),
            last_loaded_at: None,
            due,
            workdays_overdue,
        });
    }
    out.sort_by(|a, b| {
        b.workdays_overdue
            .cmp(&a.workdays_overdue)
            .then(a.code.cmp(&b.code))
    });
    Ok(out)
}

/// GOV-1, COL-4: whose data a quality reader sees: every department's (`None`) for
/// the platform's governors, else the reader's own department's.
fn quality_scope(ctx: &Ctx) -> ServiceResult<Option<String>> {
    if ctx
        .principal
        .authorize(Permission::DataQuality, None)
        .is_ok()
    {
        return Ok(None);
    }
    let own = ctx.principal.org_id.clone();
    ctx.principal
        .authorize(Permission::DataQuality, own.as_deref())?;
    Ok(own)
}

/// The mounted catalog entries by id.
async fn mounted_entries(app: &App) -> ServiceResult<HashMap<String, gongshu_store::CatalogEntry>> {
    Ok(crate::catalog::every_entry(
        app,
        CatalogFilter {
            mounted: Some(true),
            ..CatalogFilter::default()
        },
    )
    .await?
    .into_iter()
    .map(|e| (e.id.clone(), e))
    .collect())
}

/// COL-4: the refresh day a resource last loaded at `last` has passed, and by how
/// many working days as of `today`; `None` while it is not yet due.
fn overdue(
    app: &App,
    frequency: UpdateFrequency,
    last: DateTime<Utc>,
    today: NaiveDate,
    grace: u32,
) -> Option<(NaiveDate, i64)> {
    let due =
        dataset::refresh_due(frequency, today_in_china(last), grace, &app.calendar).ok()??;
    if due >= today {
        return None;
    }
    let workdays = app.calendar.workdays_between(due, today).unwrap_or(0);
    (workdays > 0).then_some((due, workdays))
}

/// GOV-1: the scores of what a resource serves now: the loads that wrote its current
/// table (its replace and the upserts since, each by the rows it read), with the
/// current load's accuracy, and timeliness aged by how late a refresh is today.
async fn table_quality(
    app: &App,
    dataset: &Dataset,
    current_load: &str,
    refresh: Option<(UpdateFrequency, u32)>,
    today: NaiveDate,
) -> ServiceResult<QualityScores> {
    let loads = app
        .data
        .list_loads(&LoadFilter {
            resource_id: Some(dataset.resource_id.clone()),
            status: Some("applied".into()),
            limit: Some(1000),
            ..LoadFilter::default()
        })
        .await?;
    let mut chain = loads.iter().skip_while(|l| l.id != current_load).peekable();
    let current = chain.peek().and_then(|l| l.quality).unwrap_or_default();
    let mut parts = Vec::new();
    for load in chain {
        if let Some(q) = load.quality {
            parts.push((q, load.rows_read.max(0) as u64));
        }
        if load.mode != "upsert" {
            break;
        }
    }
    let mut scores = if parts.is_empty() {
        current
    } else {
        QualityScores::of_table(&current, &parts)
    };
    if let (Some((frequency, grace)), Some(last)) = (refresh, dataset.last_loaded_at) {
        if let Some((_, late)) = overdue(app, frequency, last, today, grace) {
            scores = scores.aged(late);
        }
    }
    Ok(scores)
}

/// GOV-1, GOV-3: one resource's quality: what its current table holds, as of today.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceQuality {
    pub resource_id: String,
    pub org_id: String,
    pub load_id: Option<String>,
    pub rows: i64,
    #[schema(value_type = Object)]
    pub scores: QualityScores,
    pub overall: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentQuality {
    pub org_id: String,
    pub resources: usize,
    /// The rows its resources serve.
    pub rows: i64,
    #[schema(value_type = Object)]
    pub scores: QualityScores,
    pub overall: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualityOverview {
    pub resources: Vec<ResourceQuality>,
    pub departments: Vec<DepartmentQuality>,
}

/// GOV-1, GOV-3: quality per resource (its current load) and per department (the
/// mean over its resources).
pub async fn quality_overview(app: &App, ctx: &Ctx) -> ServiceResult<QualityOverview> {
    let org_scope = quality_scope(ctx)?;
    measure_quality(app, org_scope.as_deref(), today_in_china(Utc::now())).await
}

/// GOV-1, GOV-3: the quality of every resource with data (of one department when
/// given) and of their departments, as of `today`.
async fn measure_quality(
    app: &App,
    org_scope: Option<&str>,
    today: NaiveDate,
) -> ServiceResult<QualityOverview> {
    let frequencies: HashMap<String, UpdateFrequency> = mounted_entries(app)
        .await?
        .into_values()
        .filter(|e| !e.offline)
        .filter_map(|e| Some((e.id.clone(), e.published.as_ref()?.update_frequency)))
        .collect();
    let grace = app.deadlines.days(DeadlineKind::DataFreshness);
    let mut resources = Vec::new();
    for d in app.data.list_datasets(org_scope).await? {
        let Some(load_id) = d.current_load_id.clone() else {
            continue;
        };
        let refresh = frequencies.get(&d.resource_id).map(|f| (*f, grace));
        let scores = table_quality(app, &d, &load_id, refresh, today).await?;
        resources.push(ResourceQuality {
            resource_id: d.resource_id.clone(),
            org_id: d.org_id.clone(),
            load_id: Some(load_id),
            rows: d.row_count,
            overall: scores.overall(),
            scores,
        });
    }
    let mut by_org: BTreeMap<String, (Vec<QualityScores>, i64)> = BTreeMap::new();
    for r in &resources {
        let (all, rows) = by_org.entry(r.org_id.clone()).or_default();
        all.push(r.scores);
        *rows += r.rows;
    }
    let departments = by_org
        .into_iter()
        .map(|(org_id, (all, rows))| {
            let scores = QualityScores::mean(&all);
            DepartmentQuality {
                org_id,
                resources: all.len(),
                rows,
                overall: scores.overall(),
                scores,
            }
        })
        .collect();
    Ok(QualityOverview {
        resources,
        departments,
    })
}

/// GOV-1, GOV-3: records today's quality (China time, from `now`) of each resource
/// with data and of its department, for every department, or for `org` alone
/// after one of its loads. A later measurement of the same day replaces an earlier
/// one. Returns the snapshots written.
pub async fn record_quality_day(
    app: &App,
    org: Option<&str>,
    now: DateTime<Utc>,
) -> ServiceResult<usize> {
    let day = today_in_china(now);
    let overview = measure_quality(app, org, day).await?;
    let snapshot = |scope: &str, subject_id: String, org_id: String, resources, rows, scores| {
        QualitySnapshot {
            day,
            scope: scope.to_string(),
            subject_id,
            org_id,
            resources,
            rows,
            scores,
            recorded_at: now,
        }
    };
    let mut snapshots = Vec::new();
    for r in overview.resources {
        let org_id = r.org_id.clone();
        snapshots.push(snapshot(
            QualitySnapshot::RESOURCE,
            r.resource_id,
            org_id,
            1,
            r.rows,
            r.scores,
        ));
    }
    for d in overview.departments {
        let org_id = d.org_id.clone();
        let resources = d.resources as i64;
        snapshots.push(snapshot(
            QualitySnapshot::DEPARTMENT,
            d.org_id,
            org_id,
            resources,
            d.rows,
            d.scores,
        ));
    }
    let written = snapshots.len();
    if written > 0 {
        app.store
            .commit(vec![Change::PutQualitySnapshots(snapshots)], vec![])
            .await?;
    }
    Ok(written)
}

/// GOV-1: the longest history one request reads, in days (five years).
pub const QUALITY_HISTORY_MAX_DAYS: u32 = 1830;
/// GOV-1: the history read when no length is asked for.
pub const QUALITY_HISTORY_DEFAULT_DAYS: u32 = 90;

/// Whose quality history is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QualitySubject {
    Resource(String),
    Department(String),
}

impl QualitySubject {
    /// The one of a resource and a department a request names.
    pub fn named(resource: Option<String>, org: Option<String>) -> ServiceResult<Self> {
        match (resource, org) {
            (Some(resource), None) => Ok(Self::Resource(resource)),
            (None, Some(org)) => Ok(Self::Department(org)),
            _ => Err(ServiceError::invalid(
                "quality.history_subject",
                "resource_id",
                "须给出资源（resource_id）或部门（org_id）之一",
                "give exactly one of a resource (resource_id) and a department (org_id)",
            )),
        }
    }
}

/// One day of a quality history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualityPoint {
    pub day: NaiveDate,
    pub resources: i64,
    pub rows: i64,
    #[schema(value_type = Object)]
    pub scores: QualityScores,
    pub overall: Option<f64>,
}

/// GOV-1, GOV-3: a resource's or a department's quality day by day, oldest first;
/// a day without a measurement (the platform not running) has no point.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualityHistory {
    /// `resource` or `department`.
    pub scope: String,
    pub subject_id: String,
    pub org_id: String,
    /// The first day read.
    pub since: NaiveDate,
    pub points: Vec<QualityPoint>,
}

/// GOV-1, GOV-3: the quality history of a resource or department over the last
/// `days` days (today included), for the platform's governors or the department's
/// own quality readers.
pub async fn quality_history(
    app: &App,
    ctx: &Ctx,
    subject: QualitySubject,
    days: Option<u32>,
    now: DateTime<Utc>,
) -> ServiceResult<QualityHistory> {
    let days = days.unwrap_or(QUALITY_HISTORY_DEFAULT_DAYS);
    if !(1..=QUALITY_HISTORY_MAX_DAYS).contains(&days) {
        return Err(ServiceError::invalid(
            "quality.history_days",
            "days",
            format!("天数须在 1 至 {QUALITY_HISTORY_MAX_DAYS} 之间"),
            format!("days must be from 1 to {QUALITY_HISTORY_MAX_DAYS}"),
        ));
    }
    let (scope, subject_id, org_id) = match subject {
        QualitySubject::Resource(id) => {
            let dataset =
                app.data.get_dataset(&id).await?.ok_or_else(|| {
                    ServiceError::not_found("数据资源", "resource with data", &id)
                })?;
            (QualitySnapshot::RESOURCE, id, dataset.org_id)
        }
        QualitySubject::Department(org) => {
            if app.store.get_org(&org).await?.is_none() {
                return Err(ServiceError::not_found("部门", "department", &org));
            }
            (QualitySnapshot::DEPARTMENT, org.clone(), org)
        }
    };
    ctx.principal
        .authorize(Permission::DataQuality, Some(&org_id))?;
    let since = today_in_china(now) - chrono::Days::new(u64::from(days - 1));
    let points = app
        .data
        .list_quality_snapshots(scope, &subject_id, since)
        .await?
        .into_iter()
        .map(|q| QualityPoint {
            day: q.day,
            resources: q.resources,
            rows: q.rows,
            overall: q.scores.overall(),
            scores: q.scores,
        })
        .collect();
    Ok(QualityHistory {
        scope: scope.to_string(),
        subject_id,
        org_id,
        since,
        points,
    })
}

/// Refuses a base database name that is not one.
pub fn require_base(s: &str) -> ServiceResult<Base> {
    Base::parse(s).ok_or_else(|| {
        ServiceError::new(
            ErrorKind::NotFound,
            "base.unknown",
            format!("没有基础库“{s}”：可选 population（人口）或 legal_entity（法人）"),
            format!("no base database '{s}': population or legal_entity"),
        )
    })
}

/// COL-9: the attributes of a base database and their source departments.
pub async fn attributes(app: &App, ctx: &Ctx, base: Base) -> ServiceResult<Vec<BaseAttribute>> {
    ctx.principal.authorize(Permission::DataQuality, None)?;
    Ok(app.data.list_base_attributes(Some(base.key())).await?)
}
