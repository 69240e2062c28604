//! OPN-2, OPN-7, OPN-10: open datasets, their files, departments and domains as CKAN
//! packages, resources, organizations and groups (the mapping is in the module
//! documentation of [`super`]); and the actions that show and list them.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use gongshu_domain::catalog::{Domain, OpenType};
use gongshu_services::datasets::ExportFormat;
use gongshu_services::open::{self, OpenCatalog, OpenDataset, Publisher};
use serde_json::{json, Value};

use super::{Call, CkanError, CkanResult, LICENSE_ID, LICENSE_TITLE};
use crate::api::open::{dataset_url, FILES};
use crate::state::AppState;

/// CKAN's timestamp: ISO 8601 in UTC with microseconds and no zone.
pub(crate) fn ckan_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// A file of a dataset as a CKAN resource: (extension in its id, CKAN format, media type).
pub(crate) fn file_kind(format: ExportFormat) -> (&'static str, &'static str, &'static str) {
    match format {
        ExportFormat::Csv => ("csv", "CSV", "text/csv"),
        ExportFormat::Json => ("ndjson", "JSON", "application/x-ndjson"),
        ExportFormat::Xlsx => (
            "xlsx",
            "XLSX",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ExportFormat::Parquet => ("parquet", "PARQUET", "application/vnd.apache.parquet"),
    }
}

/// The CKAN formats of a dataset's resources, in order.
pub(crate) fn res_formats() -> Vec<&'static str> {
    FILES.iter().map(|(_, f)| file_kind(*f).1).collect()
}

/// The id of a dataset's resource in `format`.
pub(crate) fn resource_id(d: &OpenDataset, format: ExportFormat) -> String {
    format!("{}-{}", open::package_name(d), file_kind(format).0)
}

/// The datastore serves the csv resource's rows when the public may read them.
pub(crate) fn datastore_active(d: &OpenDataset) -> bool {
    d.has_data && d.is_direct()
}

/// The tags of a dataset: its domain (中文 and English) and its update frequency.
pub(crate) fn tags(d: &OpenDataset) -> Vec<String> {
    let c = &d.content;
    vec![
        c.domain.label_zh().to_string(),
        c.domain.label_en().to_string(),
        c.update_frequency.label_zh().to_string(),
    ]
}

/// The `extras` of a dataset as (key, value).
pub(crate) fn extras(s: &AppState, d: &OpenDataset) -> Vec<(String, String)> {
    let c = &d.content;
    let cite = d.citation(&dataset_url(s, &d.code));
    let mut out = vec![("open_type".to_string(), c.open_type.key().to_string())];
    if c.open_type == OpenType::Conditional {
        out.push(("open_conditions".into(), c.open_conditions.clone()));
    }
    out.extend([
        (
            "update_frequency".to_string(),
            c.update_frequency.key().to_string(),
        ),
        ("source_department".into(), d.source_org_name.clone()),
        ("resource_code".into(), d.code.clone()),
        ("rows".into(), d.rows.to_string()),
        ("citation".into(), cite.zh),
        ("citation_en".into(), cite.en),
    ]);
    out
}

fn resource(
    s: &AppState,
    d: &OpenDataset,
    position: usize,
    file: &str,
    format: ExportFormat,
) -> Value {
    let (_, ckan_format, media) = file_kind(format);
    json!({
        "id": resource_id(d, format),
        "package_id": d.id,
        "name": format!("{}.{}", d.code, format.extension()),
        "description": format!("{}（{}）", d.content.name, ckan_format),
        "format": ckan_format,
        "mimetype": media,
        "url": format!("{}/{file}", dataset_url(s, &d.code)),
        "url_type": Value::Null,
        "resource_type": Value::Null,
        "size": Value::Null,
        "hash": "",
        "state": "active",
        "position": position,
        "created": ckan_time(d.created_at),
        "metadata_modified": ckan_time(d.modified_at),
        "last_modified": d.data_updated_at.map(ckan_time),
        "datastore_active": format == ExportFormat::Csv && datastore_active(d),
        "cache_url": Value::Null,
    })
}

/// The resources of a dataset: one per file format.
pub(crate) fn resources(s: &AppState, d: &OpenDataset) -> Vec<Value> {
    FILES
        .iter()
        .enumerate()
        .map(|(i, (file, format))| resource(s, d, i, file, *format))
        .collect()
}

/// An organization: a department publishing open data.
pub(crate) fn organization(id: &str, title: &str) -> Value {
    json!({
        "id": id,
        "name": id,
        "title": title,
        "display_name": title,
        "description": "",
        "type": "organization",
        "is_organization": true,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    })
}

/// A group: a domain of the catalog.
pub(crate) fn group(domain: Domain) -> Value {
    json!({
        "id": domain.key(),
        "name": domain.key(),
        "title": domain.label_zh(),
        "display_name": domain.label_zh(),
        "description": domain.label_en(),
        "type": "group",
        "is_organization": false,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    })
}

fn tag(name: &str) -> Value {
    json!({
        "id": name,
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": Value::Null,
    })
}

/// A dataset as a CKAN package (what `package_show` returns).
pub(crate) fn package(s: &AppState, catalog: &OpenCatalog, d: &OpenDataset) -> Value {
    let c = &d.content;
    let org_title = catalog
        .org_names
        .get(&d.owner_org_id)
        .cloned()
        .unwrap_or_else(|| d.source_org_name.clone());
    let tags: Vec<Value> = tags(d).iter().map(|t| tag(t)).collect();
    let extras: Vec<Value> = extras(s, d)
        .into_iter()
        .map(|(key, value)| json!({ "key": key, "value": value }))
        .collect();
    let resources = resources(s, d);
    let url = dataset_url(s, &d.code);
    json!({
        "id": d.id,
        "name": open::package_name(d),
        "title": c.name,
        "notes": c.summary,
        "type": "dataset",
        "state": "active",
        "private": false,
        "owner_org": d.owner_org_id,
        "organization": organization(&d.owner_org_id, &org_title),
        "groups": [group(c.domain)],
        "tags": tags,
        "num_tags": tags.len(),
        "extras": extras,
        "resources": resources,
        "num_resources": resources.len(),
        "metadata_created": ckan_time(d.created_at),
        "metadata_modified": ckan_time(d.modified_at),
        "license_id": LICENSE_ID,
        "license_title": LICENSE_TITLE,
        "license_url": url,
        "isopen": d.is_direct(),
        "url": url,
        "version": format!("{}.0.0", d.published_version.max(1)),
        "author": d.source_org_name,
        "author_email": Value::Null,
        "maintainer": d.source_org_name,
        "maintainer_email": Value::Null,
        "creator_user_id": Value::Null,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    })
}

/// CKAN's package dictionaries of one open catalog snapshot, each built and
/// written as JSON once (CKAN likewise keeps every package's dictionary ready in its
/// search index); a new snapshot starts afresh.
#[derive(Default)]
pub struct PackageCache(Mutex<Option<Packages>>);

/// The packages built so far from one snapshot, by dataset id.
type Packages = (Arc<OpenCatalog>, HashMap<String, Arc<Package>>);

/// One package dictionary, and its JSON text.
pub(crate) struct Package {
    pub value: Value,
    pub json: String,
}

/// The package of `d` from `catalog`, built once per snapshot.
pub(crate) fn package_of(
    s: &AppState,
    catalog: &Arc<OpenCatalog>,
    d: &OpenDataset,
) -> Arc<Package> {
    let cache = &s.ckan_packages.0;
    if let Some((of, built)) = cache.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if let Some(p) = built.get(&d.id).filter(|_| Arc::ptr_eq(of, catalog)) {
            return Arc::clone(p);
        }
    }
    let value = package(s, catalog, d);
    let json = value.to_string();
    let p = Arc::new(Package { value, json });
    let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
    match guard.as_mut() {
        Some((of, built)) if Arc::ptr_eq(of, catalog) => {
            built.insert(d.id.clone(), Arc::clone(&p));
        }
        _ => {
            *guard = Some((
                Arc::clone(catalog),
                HashMap::from([(d.id.clone(), Arc::clone(&p))]),
            ))
        }
    }
    p
}

/// The dataset named by a package id or name.
pub(crate) fn find<'c>(catalog: &'c OpenCatalog, key: &str) -> CkanResult<&'c OpenDataset> {
    let key = key.trim();
    catalog
        .get(key)
        .or_else(|| catalog.get(&key.to_ascii_uppercase()))
        .or_else(|| {
            catalog
                .datasets
                .iter()
                .find(|d| open::package_name(d) == key)
        })
        .ok_or_else(|| {
            CkanError::not_found(format!("开放数据集“{key}”不存在 / no open dataset '{key}'"))
        })
}

/// `limit` and `offset` applied to a list.
fn page<T>(call: &Call<'_>, items: Vec<T>) -> CkanResult<Vec<T>> {
    let offset = call.params.natural("offset")?.unwrap_or(0) as usize;
    let limit = call.params.natural("limit")?.map(|l| l as usize);
    Ok(items
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .collect())
}

/// `package_list`: names of the open datasets, by name.
pub(crate) async fn package_list(call: &Call<'_>) -> CkanResult<Value> {
    let catalog = open::catalog(&call.s.app).await?;
    let mut names: Vec<String> = catalog.datasets.iter().map(open::package_name).collect();
    names.sort();
    Ok(json!(page(call, names)?))
}

/// `package_show`: one dataset by id or name.
pub(crate) async fn package_show(call: &Call<'_>) -> CkanResult<Value> {
    let key = call
        .params
        .first_str(&["id", "name_or_id", "name"])?
        .ok_or_else(|| CkanError::validation("id", "缺少参数 id / Missing value"))?;
    let catalog = open::catalog(&call.s.app).await?;
    let d = find(&catalog, &key)?;
    Ok(package_of(call.s, &catalog, d).value.clone())
}

/// `current_package_list_with_resources`: datasets, most recently modified first.
pub(crate) async fn current_with_resources(call: &Call<'_>) -> CkanResult<Value> {
    let catalog = open::catalog(&call.s.app).await?;
    let mut all: Vec<&OpenDataset> = catalog.datasets.iter().collect();
    all.sort_by(|a, b| b.modified_at.cmp(&a.modified_at).then(a.code.cmp(&b.code)));
    let all: Vec<Value> = page(call, all)?
        .into_iter()
        .map(|d| package_of(call.s, &catalog, d).value.clone())
        .collect();
    Ok(Value::Array(all))
}

/// `resource_show`: one file of a dataset by resource id (`{code}-{ext}`).
pub(crate) async fn resource_show(call: &Call<'_>) -> CkanResult<Value> {
    let id = call.params.required_str("id")?;
    let catalog = open::catalog(&call.s.app).await?;
    let (d, format) = find_resource(&catalog, &id)?;
    let position = FILES.iter().position(|(_, f)| *f == format).unwrap_or(0);
    Ok(resource(call.s, d, position, FILES[position].0, format))
}

/// The dataset and file format of a resource id.
pub(crate) fn find_resource<'c>(
    catalog: &'c OpenCatalog,
    id: &str,
) -> CkanResult<(&'c OpenDataset, ExportFormat)> {
    let not_found = || {
        CkanError::not_found(format!(
            "资源“{id}”不存在 / Resource \"{id}\" was not found."
        ))
    };
    let (code, ext) = id.trim().rsplit_once('-').ok_or_else(not_found)?;
    let format = FILES
        .iter()
        .map(|(_, f)| *f)
        .find(|f| file_kind(*f).0 == ext.to_ascii_lowercase())
        .ok_or_else(not_found)?;
    let d = find(catalog, code).map_err(|_| not_found())?;
    Ok((d, format))
}

/// Datasets per department and per domain.
fn counts(catalog: &OpenCatalog) -> (Vec<Publisher>, BTreeMap<Domain, usize>) {
    let mut domains = BTreeMap::new();
    for d in &catalog.datasets {
        *domains.entry(d.content.domain).or_insert(0) += 1;
    }
    (catalog.publishers(), domains)
}

/// Sorts named things (`name`, `title`, `package_count` with `asc` or `desc`).
fn sort_named(
    call: &Call<'_>,
    items: &mut [(String, String, usize)],
    default: &str,
) -> CkanResult<()> {
    let spec = call.params.str("sort")?.unwrap_or_else(|| default.into());
    let mut words = spec.split_whitespace();
    let field = words.next().unwrap_or("name");
    let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            return Err(CkanError::validation(
                "sort",
                format!("无效的排序 / cannot sort by '{spec}'"),
            ))
        }
    };
    match field {
        "name" => items.sort_by(|a, b| a.0.cmp(&b.0)),
        "title" | "display_name" => items.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0))),
        "package_count" => items.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(&b.0))),
        _ => {
            return Err(CkanError::validation(
                "sort",
                format!("无效的排序 / cannot sort by '{spec}': use name, title or package_count"),
            ))
        }
    }
    if desc {
        items.reverse();
    }
    Ok(())
}

/// The list of `organization_list` or `group_list`: names, or dicts with `all_fields`.
fn named_list(
    call: &Call<'_>,
    mut items: Vec<(String, String, usize)>,
    only_key: &str,
    dict: impl Fn(&str) -> Value,
) -> CkanResult<Value> {
    if let Some(only) = call.params.list(only_key)? {
        if !only.is_empty() {
            items.retain(|(name, _, _)| only.contains(name));
        }
    }
    sort_named(call, &mut items, "title asc")?;
    let items = page(call, items)?;
    if !call.params.boolean("all_fields", false)? {
        return Ok(json!(items.into_iter().map(|i| i.0).collect::<Vec<_>>()));
    }
    let with_count = call.params.boolean("include_dataset_count", true)?;
    Ok(Value::Array(
        items
            .iter()
            .map(|(name, _, count)| {
                let mut v = dict(name);
                if with_count {
                    v["package_count"] = json!(count);
                }
                v
            })
            .collect(),
    ))
}

/// `organization_list`: departments publishing open datasets.
pub(crate) async fn organization_list(call: &Call<'_>) -> CkanResult<Value> {
    let catalog = open::catalog(&call.s.app).await?;
    let (publishers, _) = counts(&catalog);
    let items = publishers
        .iter()
        .map(|p| (p.id.clone(), p.name.clone(), p.datasets))
        .collect();
    named_list(call, items, "organizations", |id| {
        organization(id, catalog.org_names.get(id).map_or("", String::as_str))
    })
}

/// `group_list`: the catalog's domains.
pub(crate) async fn group_list(call: &Call<'_>) -> CkanResult<Value> {
    let catalog = open::catalog(&call.s.app).await?;
    let (_, domains) = counts(&catalog);
    let items = Domain::ALL
        .iter()
        .map(|d| {
            (
                d.key().to_string(),
                d.label_zh().to_string(),
                domains.get(d).copied().unwrap_or(0),
            )
        })
        .collect();
    named_list(call, items, "groups", |key| {
        Domain::parse(key).map(group).unwrap_or(Value::Null)
    })
}

/// The datasets of `organization_show` / `group_show` with `include_datasets`.
fn member_packages(
    call: &Call<'_>,
    catalog: &OpenCatalog,
    of: impl Fn(&OpenDataset) -> bool,
) -> Vec<Value> {
    catalog
        .datasets
        .iter()
        .filter(|d| of(d))
        .take(1000)
        .map(|d| package(call.s, catalog, d))
        .collect()
}

/// `organization_show`: one department publishing open data.
pub(crate) async fn organization_show(call: &Call<'_>) -> CkanResult<Value> {
    let id = call.params.required_str("id")?;
    let catalog = open::catalog(&call.s.app).await?;
    let publisher = catalog
        .publishers()
        .into_iter()
        .find(|p| p.id == id || p.id == id.to_ascii_lowercase())
        .ok_or_else(|| {
            CkanError::not_found(format!(
                "没有发布开放数据的部门“{id}” / no organization '{id}' publishes open data"
            ))
        })?;
    let mut org = organization(&publisher.id, &publisher.name);
    org["package_count"] = json!(publisher.datasets);
    if call.params.boolean("include_datasets", false)? {
        org["packages"] =
            json!(member_packages(call, &catalog, |d| d.owner_org_id == publisher.id));
    }
    org["users"] = json!([]);
    org["extras"] = json!([]);
    org["groups"] = json!([]);
    org["tags"] = json!([]);
    Ok(org)
}

/// `group_show`: one domain.
pub(crate) async fn group_show(call: &Call<'_>) -> CkanResult<Value> {
    let id = call.params.required_str("id")?;
    let domain = Domain::parse(&id)
        .or_else(|| Domain::ALL.iter().copied().find(|d| d.label_zh() == id))
        .ok_or_else(|| CkanError::not_found(format!("没有领域“{id}” / Group not found: '{id}'")))?;
    let catalog = open::catalog(&call.s.app).await?;
    let mut g = group(domain);
    g["package_count"] = json!(catalog
        .datasets
        .iter()
        .filter(|d| d.content.domain == domain)
        .count());
    if call.params.boolean("include_datasets", false)? {
        g["packages"] = json!(member_packages(call, &catalog, |d| d.content.domain == domain));
    }
    g["users"] = json!([]);
    g["extras"] = json!([]);
    g["groups"] = json!([]);
    g["tags"] = json!([]);
    Ok(g)
}

/// `tag_list`: every tag of the open catalog, by name; `query` keeps those containing it.
pub(crate) async fn tag_list(call: &Call<'_>) -> CkanResult<Value> {
    let catalog = open::catalog(&call.s.app).await?;
    if call.params.first_str(&["vocabulary_id"])?.is_some() {
        return Ok(json!([]));
    }
    let query = call
        .params
        .first_str(&["query", "q"])?
        .map(|q| q.to_lowercase());
    let mut names: Vec<String> = catalog.datasets.iter().flat_map(tags).collect();
    names.sort();
    names.dedup();
    if let Some(q) = query {
        names.retain(|n| n.to_lowercase().contains(&q));
    }
    if call.params.boolean("all_fields", false)? {
        Ok(Value::Array(names.iter().map(|n| tag(n)).collect()))
    } else {
        Ok(json!(names))
    }
}
