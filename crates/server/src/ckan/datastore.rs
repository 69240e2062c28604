//! OPN-3: CKAN's `datastore_search` over the rows of an open dataset's csv resource.
//!
//! Every read goes through the egress gate (`egress::open_page`): a dataset opened on
//! conditions is refused (`Authorization Error`, OPN-4), sensitive items are masked,
//! each read is metered against the reader's rate and recorded. The gate pages by
//! cursor, so `offset` walks pages of up to [`PAGE`] rows (asking for one item only)
//! and is capped at [`MAX_OFFSET`]. `total` is the dataset's row count without filters;
//! with filters it is counted by reading on, up to [`COUNT_PAGES`] more pages, beyond
//! which it is a lower bound and `total_was_estimated` is true. `_id` is the row's
//! position in the result (1-based).
use gongshu_domain::catalog::FieldType;
use gongshu_services::datasets::ExportFormat;
use gongshu_services::egress::{self, OpenPage, OpenQuery};
use gongshu_services::open::{self, OpenDataset};
use serde_json::{json, Map, Value};

use super::package::find_resource;
use super::{Call, CkanError, CkanResult};

/// The most rows one call returns, as the gate pages.
const PAGE: u64 = egress::MAX_PAGE as u64;
/// CKAN's default page.
const DEFAULT_LIMIT: u64 = 100;
/// The furthest `offset`: each page skipped is a read of the gate.
pub(crate) const MAX_OFFSET: u64 = 100_000;
/// Pages read on to count the rows matching filters.
const COUNT_PAGES: usize = 5;

/// CKAN datastore type of a served column.
fn ckan_type(t: FieldType) -> &'static str {
    match t {
        FieldType::String | FieldType::Binary => "text",
        FieldType::Integer => "int",
        FieldType::Number => "numeric",
        FieldType::Date => "date",
        FieldType::DateTime => "timestamp",
        FieldType::Boolean => "bool",
    }
}

/// `filters`: item → one value (text, number or boolean; a list of one value).
fn filters(call: &Call<'_>) -> CkanResult<Vec<(String, String)>> {
    let Some(map) = call.params.object("filters")? else {
        return Ok(Vec::new());
    };
    let scalar = |key: &str, v: &Value| -> CkanResult<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Array(items) if items.len() == 1 => match &items[0] {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                _ => Err(bad_filter(key)),
            },
            _ => Err(bad_filter(key)),
        }
    };
    map.iter()
        .map(|(k, v)| Ok((k.clone(), scalar(k, v)?)))
        .collect()
}

fn bad_filter(key: &str) -> CkanError {
    CkanError::validation(
        "filters",
        format!("筛选条件“{key}”须为单个取值 / filter '{key}' must be one value (text, number or boolean)"),
    )
}

/// One read of the gate.
async fn read(
    call: &Call<'_>,
    d: &OpenDataset,
    filters: &[(String, String)],
    fields: Vec<String>,
    after: Option<String>,
    limit: u64,
) -> CkanResult<OpenPage> {
    let query = OpenQuery {
        filters: filters.to_vec(),
        fields,
        after,
        limit: limit as i64,
    };
    Ok(egress::open_page(&call.s.app, &call.caller.ctx, d, &call.caller.reader, query).await?)
}

/// The `_links` of a result: its first page and the next one.
fn links(resource_id: &str, limit: u64, offset: u64, filters: &Value, fields: &[String]) -> Value {
    let link = |offset: u64| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("resource_id", resource_id);
        q.append_pair("limit", &limit.to_string());
        if offset > 0 {
            q.append_pair("offset", &offset.to_string());
        }
        if filters.as_object().is_some_and(|m| !m.is_empty()) {
            q.append_pair("filters", &filters.to_string());
        }
        if !fields.is_empty() {
            q.append_pair("fields", &fields.join(","));
        }
        format!("/api/action/datastore_search?{}", q.finish())
    };
    json!({ "start": link(0), "next": link(offset + limit) })
}

/// `datastore_search`: a page of rows of a dataset's csv resource.
pub(crate) async fn datastore_search(call: &Call<'_>) -> CkanResult<Value> {
    let p = &call.params;
    let id = p.first_str(&["resource_id", "id"])?.ok_or_else(|| {
        CkanError::validation("resource_id", "缺少参数 resource_id / Missing value")
    })?;
    let catalog = open::catalog(&call.s.app).await?;
    let (d, format) = find_resource(&catalog, &id)?;
    if format != ExportFormat::Csv {
        return Err(CkanError::not_found(format!(
            "资源“{id}”不在数据存储中，请用 csv 资源 / Resource \"{id}\" was not found in the datastore: use the csv resource"
        )));
    }
    if p.str("q")?.is_some_and(|q| !q.trim().is_empty()) {
        return Err(CkanError::validation(
            "q",
            "不支持对数据行全文检索，请用 filters / full-text search of rows is not supported: use filters",
        ));
    }
    if let Some(sort) = p.str("sort")?.filter(|s| !s.trim().is_empty()) {
        if !matches!(sort.trim(), "_id" | "_id asc") {
            return Err(CkanError::validation(
                "sort",
                "数据行按入库顺序返回，仅支持 _id asc / rows come in load order: only '_id asc' is supported",
            ));
        }
    }
    let lists = match p.str("records_format")?.as_deref().map(str::trim) {
        None | Some("") | Some("objects") => false,
        Some("lists") => true,
        Some(other) => {
            return Err(CkanError::validation(
                "records_format",
                format!("不支持的格式“{other}” / records_format '{other}': use objects or lists"),
            ))
        }
    };
    let limit = p.natural("limit")?.unwrap_or(DEFAULT_LIMIT).min(PAGE);
    let offset = p.natural("offset")?.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(CkanError::validation(
            "offset",
            format!("offset 至多 {MAX_OFFSET}，更多数据请下载文件 / offset is at most {MAX_OFFSET}: download the files for more"),
        ));
    }
    let include_total = p.boolean("include_total", true)?;
    let filters = filters(call)?;
    let asked: Vec<String> = p
        .list("fields")?
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f != "_id")
        .collect();

    let served = egress::open_schema(&call.s.app, d).await?;
    let probe: Vec<String> = served
        .as_ref()
        .and_then(|s| s.columns.first())
        .map(|c| vec![c.name.clone()])
        .unwrap_or_default();

    // Skip `offset` rows, a page at a time.
    let mut cursor: Option<String> = None;
    let mut skipped = 0u64;
    let mut exhausted = false;
    while skipped < offset {
        let page = read(
            call,
            d,
            &filters,
            probe.clone(),
            cursor.take(),
            (offset - skipped).min(PAGE),
        )
        .await?;
        skipped += page.rows.len() as u64;
        cursor = page.next;
        if cursor.is_none() {
            exhausted = true;
            break;
        }
    }
    // Then the page asked for (with `limit=0`, one row read for the gate's say).
    let (mut records, mut items, mut read_rows) = (Vec::new(), asked.clone(), 0u64);
    if !exhausted {
        let page = read(
            call,
            d,
            &filters,
            asked.clone(),
            cursor.take(),
            limit.max(1),
        )
        .await?;
        items = page.items;
        cursor = page.next;
        exhausted = cursor.is_none();
        read_rows = page.rows.len() as u64;
        if limit > 0 {
            records = page.rows.to_vec();
        }
    }

    let (total, estimated) = if filters.is_empty() {
        (d.rows.max(0) as u64, false)
    } else if exhausted || !include_total {
        (skipped + read_rows, !exhausted)
    } else {
        let mut counted = skipped + read_rows;
        let mut pages = 0;
        while let Some(after) = cursor.take() {
            if pages == COUNT_PAGES {
                cursor = Some(after);
                break;
            }
            let page = read(call, d, &filters, probe.clone(), Some(after), PAGE).await?;
            counted += page.rows.len() as u64;
            cursor = page.next;
            pages += 1;
        }
        (counted, cursor.is_some())
    };

    let described = served
        .as_ref()
        .map(|s| open::table_schema(s, d))
        .unwrap_or(Value::Null);
    let mut fields = vec![json!({ "id": "_id", "type": "int" })];
    for name in &items {
        let column = served
            .as_ref()
            .and_then(|s| s.columns.iter().find(|c| &c.name == name));
        let info = described["fields"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == *name));
        let mut field = json!({
            "id": name,
            "type": column.map_or("text", |c| ckan_type(c.field_type)),
        });
        if let Some(info) = info {
            field["info"] = json!({
                "label": info["title"],
                "notes": info.get("description").cloned().unwrap_or(Value::String(String::new())),
            });
        }
        fields.push(field);
    }
    let records: Vec<Value> = records
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let row_id = json!(offset + i as u64 + 1);
            if lists {
                let mut list = vec![row_id];
                list.extend(
                    items
                        .iter()
                        .map(|n| row.get(n).cloned().unwrap_or(Value::Null)),
                );
                Value::Array(list)
            } else {
                let mut m = Map::new();
                m.insert("_id".into(), row_id);
                m.extend(row);
                Value::Object(m)
            }
        })
        .collect();
    let filters_json = Value::Object(
        filters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    );
    let mut result = json!({
        "resource_id": id,
        "fields": fields,
        "records": records,
        "records_format": if lists { "lists" } else { "objects" },
        "limit": limit,
        "offset": offset,
        "include_total": include_total,
        "_links": links(&id, limit, offset, &filters_json, &asked),
    });
    if include_total {
        result["total"] = json!(total);
        result["total_was_estimated"] = json!(estimated);
    }
    if !filters.is_empty() {
        result["filters"] = filters_json;
    }
    Ok(result)
}
