// OPN-11 (JY 29), SUP-8 (XJ 41): the daily usage counters of open datasets and the
// showcase of products built on open data, `include!`d by backend.rs. A showcase
// row keeps its record as JSON in `body`; the datasets it uses are also rows of
// `open_showcase_datasets`, so a dataset's page finds them by index.

fn showcase_from(r: &DbRow) -> Result<OpenShowcase, sqlx::Error> {
    body_of(r)
}

/// OPN-11: what served public reads among `records` add to the daily counters: an
/// API call or a download each, and their rows (a preview's rows too; its page view
/// is counted by the portal). Refused reads serve nothing and count nothing.
fn open_usage_of_access(records: &[AccessRecord]) -> Vec<OpenUsageDay> {
    let mut days: std::collections::BTreeMap<(&str, &str, chrono::NaiveDate), UsageCounts> =
        std::collections::BTreeMap::new();
    for a in records.iter().filter(|a| a.mode == "open" && a.outcome == "served") {
        let (Some(resource), Some(org)) = (a.resource_id.as_deref(), a.source_org_id.as_deref()) else {
            continue;
        };
        let c = days.entry((resource, org, gongshu_domain::calendar::china_day(a.at))).or_default();
        match a.operation.as_str() {
            "query" => c.api_calls += 1,
            "download" => c.downloads += 1,
            _ => {}
        }
        c.rows_served += a.row_count;
    }
    days.into_iter()
        .map(|((resource, org, day), counts)| OpenUsageDay {
            resource_id: resource.to_string(),
            source_org_id: org.to_string(),
            day,
            counts,
        })
        .collect()
}

/// OPN-11: adds to the daily counters, in the caller's transaction.
async fn add_open_usage(tx: &mut DbTx<'_>, days: Vec<OpenUsageDay>) -> StoreResult<()> {
    // One statement per key: PostgreSQL refuses a statement that touches a row twice.
    let mut merged: std::collections::BTreeMap<(String, String, chrono::NaiveDate), UsageCounts> =
        std::collections::BTreeMap::new();
    for d in days {
        merged.entry((d.resource_id, d.source_org_id, d.day)).or_default().add(&d.counts);
    }
    for ((resource, org, day), c) in merged {
        if c.is_zero() {
            continue;
        }
        sqlx::query(
            "INSERT INTO open_usage (resource_id, source_org_id, day, views, api_calls, downloads, rows_served)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (resource_id, source_org_id, day) DO UPDATE SET
             views = open_usage.views + excluded.views,
             api_calls = open_usage.api_calls + excluded.api_calls,
             downloads = open_usage.downloads + excluded.downloads,
             rows_served = open_usage.rows_served + excluded.rows_served",
        )
        .bind(resource)
        .bind(org)
        .bind(day)
        .bind(c.views)
        .bind(c.api_calls)
        .bind(c.downloads)
        .bind(c.rows_served)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

async fn apply_open_usage_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        Change::AddOpenUsage(days) => add_open_usage(tx, days).await?,
        Change::PutShowcase(s) => {
            sqlx::query(
                "INSERT INTO open_showcase (id, status, kind, created_at, decided_at, body) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, kind = excluded.kind,
                 decided_at = excluded.decided_at, body = excluded.body",
            )
            .bind(&s.id)
            .bind(&s.status)
            .bind(&s.kind)
            .bind(s.created_at)
            .bind(s.decided_at)
            .bind(json_text(&s))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            sqlx::query("DELETE FROM open_showcase_datasets WHERE showcase_id = $1")
                .bind(&s.id)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            let mut ids = s.resource_ids.clone();
            ids.sort();
            ids.dedup();
            for resource_id in ids {
                sqlx::query("INSERT INTO open_showcase_datasets (showcase_id, resource_id) VALUES ($1, $2)")
                    .bind(&s.id)
                    .bind(resource_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
            }
        }
        other => unreachable!("not an open-usage change: {other:?}"),
    }
    Ok(())
}

fn usage_counts(r: &DbRow, prefix: &str) -> Result<UsageCounts, sqlx::Error> {
    Ok(UsageCounts {
        views: r.try_get(format!("{prefix}views").as_str())?,
        api_calls: r.try_get(format!("{prefix}api_calls").as_str())?,
        downloads: r.try_get(format!("{prefix}downloads").as_str())?,
        rows_served: r.try_get(format!("{prefix}rows_served").as_str())?,
    })
}

fn push_usage_filter(qb: &mut QueryBuilder<Db>, f: &OpenUsageFilter) {
    if let Some(r) = &f.resource_id {
        qb.push(" AND resource_id = ").push_bind(r.clone());
    }
    if let Some(o) = &f.source_org_id {
        qb.push(" AND source_org_id = ").push_bind(o.clone());
    }
}

const USAGE_COLUMNS: [&str; 4] = ["views", "api_calls", "downloads", "rows_served"];

impl BackendStore {
    async fn open_usage_totals_of(&self, f: &OpenUsageFilter, since: chrono::NaiveDate) -> StoreResult<Vec<OpenUsageTotal>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT resource_id, source_org_id");
        for c in USAGE_COLUMNS {
            qb.push(format!(", CAST(SUM({c}) AS BIGINT) AS {c}"));
        }
        for c in USAGE_COLUMNS {
            qb.push(", CAST(SUM(CASE WHEN day >= ");
            qb.push_bind(since);
            qb.push(format!(" THEN {c} ELSE 0 END) AS BIGINT) AS recent_{c}"));
        }
        qb.push(" FROM open_usage WHERE 1 = 1");
        push_usage_filter(&mut qb, f);
        qb.push(" GROUP BY resource_id, source_org_id ORDER BY resource_id, source_org_id");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(OpenUsageTotal {
                    resource_id: r.try_get("resource_id")?,
                    source_org_id: r.try_get("source_org_id")?,
                    total: usage_counts(r, "")?,
                    recent: usage_counts(r, "recent_")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn open_usage_daily_of(&self, f: &OpenUsageFilter, since: chrono::NaiveDate) -> StoreResult<Vec<OpenUsageDay>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT day");
        for c in USAGE_COLUMNS {
            qb.push(format!(", CAST(SUM({c}) AS BIGINT) AS {c}"));
        }
        qb.push(" FROM open_usage WHERE day >= ").push_bind(since);
        push_usage_filter(&mut qb, f);
        qb.push(" GROUP BY day ORDER BY day");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(OpenUsageDay {
                    resource_id: f.resource_id.clone().unwrap_or_default(),
                    source_org_id: f.source_org_id.clone().unwrap_or_default(),
                    day: r.try_get("day")?,
                    counts: usage_counts(r, "")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn open_list_showcases(&self, f: &ShowcaseFilter) -> StoreResult<Vec<OpenShowcase>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT body FROM open_showcase WHERE 1 = 1");
        if let Some(s) = &f.status {
            qb.push(" AND status = ").push_bind(s.clone());
        }
        if let Some(r) = &f.resource_id {
            qb.push(" AND id IN (SELECT showcase_id FROM open_showcase_datasets WHERE resource_id = ")
                .push_bind(r.clone())
                .push(")");
        }
        qb.push(" ORDER BY COALESCE(decided_at, created_at) DESC, id LIMIT ")
            .push_bind(if f.limit > 0 { f.limit } else { 1000 });
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(showcase_from).collect::<Result<_, _>>().map_err(db_err)
    }
}
