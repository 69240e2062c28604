// SHR-3 … SHR-12, GOV-5: share requests, grants, access records and use reports,
// `include!`d by backend.rs. Each row keeps its whole record as JSON in `body`.

fn body_of<T: serde::de::DeserializeOwned>(r: &DbRow) -> Result<T, sqlx::Error> {
    let text: String = r.try_get("body")?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn share_request_from(r: &DbRow) -> Result<ShareRequest, sqlx::Error> {
    body_of(r)
}

fn grant_from(r: &DbRow) -> Result<ShareGrant, sqlx::Error> {
    body_of(r)
}

fn access_from(r: &DbRow) -> Result<AccessRecord, sqlx::Error> {
    body_of(r)
}

fn usage_report_from(r: &DbRow) -> Result<UsageReport, sqlx::Error> {
    body_of(r)
}

async fn apply_sharing_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        Change::PutShareRequest(q) => {
            sqlx::query(
                "INSERT INTO share_requests (id, requester_org_id, source_org_id, resource_id, status, due, overdue_since, created_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, due = excluded.due,
                 overdue_since = excluded.overdue_since, body = excluded.body",
            )
            .bind(&q.id)
            .bind(&q.requester_org_id)
            .bind(&q.source_org_id)
            .bind(&q.resource_id)
            .bind(&q.status)
            .bind(q.due)
            .bind(q.overdue_since)
            .bind(q.created_at)
            .bind(json_text(&q))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutGrant(g) => {
            sqlx::query(
                "INSERT INTO share_grants (id, request_id, consumer_org_id, source_org_id, resource_id, token_id, status, ends_on, created_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, ends_on = excluded.ends_on,
                 token_id = excluded.token_id, body = excluded.body",
            )
            .bind(&g.id)
            .bind(&g.request_id)
            .bind(&g.consumer_org_id)
            .bind(&g.source_org_id)
            .bind(&g.resource_id)
            .bind(&g.token_id)
            .bind(&g.status)
            .bind(g.ends_on)
            .bind(g.created_at)
            .bind(json_text(&g))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::InsertAccess(records) => {
            for chunk in insert_chunks(&records) {
                let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO access_records (id, at, consumer_org_id, source_org_id, grant_id, resource_id, outcome, row_count, body) ",
                );
                qb.push_values(chunk, |mut b, a| {
                    b.push_bind(a.id.clone())
                        .push_bind(a.at)
                        .push_bind(a.consumer_org_id.clone())
                        .push_bind(a.source_org_id.clone())
                        .push_bind(a.grant_id.clone())
                        .push_bind(a.resource_id.clone())
                        .push_bind(a.outcome.clone())
                        .push_bind(a.row_count)
                        .push_bind(json_text(a));
                });
                qb.build().execute(&mut **tx).await.map_err(db_err)?;
            }
            // OPN-11 (JY 29): the public's reads move the open datasets' daily counters
            // in the same transaction, so the figures outlive the purged records.
            add_open_usage(tx, open_usage_of_access(&records)).await?;
            // SHR-8: the quota meter moves in the same transaction as the records.
            let mut served: std::collections::BTreeMap<(&str, chrono::NaiveDate), (i64, i64)> =
                std::collections::BTreeMap::new();
            for a in records.iter().filter(|a| a.outcome == "served") {
                if let Some(g) = a.grant_id.as_deref() {
                    let t = served.entry((g, gongshu_domain::calendar::china_day(a.at))).or_default();
                    t.0 += 1;
                    t.1 += a.row_count;
                }
            }
            for ((grant_id, day), (calls, rows)) in served {
                sqlx::query(
                    "INSERT INTO grant_usage (grant_id, day, served_calls, served_rows) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (grant_id, day) DO UPDATE SET served_calls = grant_usage.served_calls + excluded.served_calls,
                     served_rows = grant_usage.served_rows + excluded.served_rows",
                )
                .bind(grant_id)
                .bind(day)
                .bind(calls)
                .bind(rows)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
        }
        Change::InsertUsageReport(u) => {
            sqlx::query("INSERT INTO usage_reports (id, grant_id, created_at, body) VALUES ($1, $2, $3, $4)")
                .bind(&u.id)
                .bind(&u.grant_id)
                .bind(u.created_at)
                .bind(json_text(&u))
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        other => unreachable!("not a sharing change: {other:?}"),
    }
    Ok(())
}

impl BackendStore {
    async fn sharing_get_request(&self, id: &str) -> StoreResult<Option<ShareRequest>> {
        fetch_one_opt(&self.reader, "SELECT body FROM share_requests WHERE id = $1", id, share_request_from).await
    }

    async fn sharing_list_requests(&self, f: &ShareRequestFilter) -> StoreResult<Vec<ShareRequest>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT body FROM share_requests WHERE 1 = 1");
        if let Some(o) = &f.org_id {
            qb.push(" AND (requester_org_id = ").push_bind(o.clone());
            qb.push(" OR source_org_id = ").push_bind(o.clone()).push(")");
        }
        if let Some(s) = &f.status {
            qb.push(" AND status = ").push_bind(s.clone());
        }
        if f.open_only {
            qb.push(" AND status IN ('conformity_check', 'source_review', 'negotiation', 'disputed')");
        }
        qb.push(" ORDER BY created_at DESC, id LIMIT ").push_bind(if f.limit > 0 { f.limit } else { 1000 });
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(share_request_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn sharing_get_grant(&self, id: &str) -> StoreResult<Option<ShareGrant>> {
        fetch_one_opt(&self.reader, "SELECT body FROM share_grants WHERE id = $1", id, grant_from).await
    }

    async fn sharing_list_grants(&self, f: &GrantFilter) -> StoreResult<Vec<ShareGrant>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT body FROM share_grants WHERE 1 = 1");
        if let Some(o) = &f.consumer_org_id {
            qb.push(" AND consumer_org_id = ").push_bind(o.clone());
        }
        if let Some(o) = &f.source_org_id {
            qb.push(" AND source_org_id = ").push_bind(o.clone());
        }
        if let Some(r) = &f.resource_id {
            qb.push(" AND resource_id = ").push_bind(r.clone());
        }
        qb.push(" ORDER BY created_at DESC, id");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(grant_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn sharing_served_on(&self, grant_id: &str, day: chrono::NaiveDate) -> StoreResult<ServedTally> {
        let row = sqlx::query("SELECT served_calls, served_rows FROM grant_usage WHERE grant_id = $1 AND day = $2")
            .bind(grant_id)
            .bind(day)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        match row {
            Some(r) => Ok(ServedTally { calls: r.try_get(0).map_err(db_err)?, rows: r.try_get(1).map_err(db_err)? }),
            None => Ok(ServedTally { calls: 0, rows: 0 }),
        }
    }

    async fn sharing_grants_for_call(
        &self,
        consumer_org_id: &str,
        resource_id: &str,
        grant_id: Option<&str>,
        day: chrono::NaiveDate,
    ) -> StoreResult<Vec<(ShareGrant, ServedTally)>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT g.body, CAST(COALESCE(u.served_calls, 0) AS BIGINT) AS calls, CAST(COALESCE(u.served_rows, 0) AS BIGINT) AS served
             FROM share_grants g LEFT JOIN grant_usage u ON u.grant_id = g.id AND u.day = ",
        );
        qb.push_bind(day).push(" WHERE g.resource_id = ").push_bind(resource_id.to_string());
        match grant_id {
            Some(id) => qb.push(" AND g.id = ").push_bind(id.to_string()),
            None => qb.push(" AND g.consumer_org_id = ").push_bind(consumer_org_id.to_string()),
        };
        qb.push(" ORDER BY g.created_at DESC");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let grant = grant_from(r)?;
                let tally = ServedTally { calls: r.try_get("calls")?, rows: r.try_get("served")? };
                Ok((grant, tally))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn sharing_list_access(&self, f: &AccessFilter) -> StoreResult<Vec<AccessRecord>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT body FROM access_records WHERE 1 = 1");
        for (column, value) in [
            ("source_org_id", &f.source_org_id),
            ("consumer_org_id", &f.consumer_org_id),
            ("grant_id", &f.grant_id),
            ("resource_id", &f.resource_id),
            ("outcome", &f.outcome),
        ] {
            if let Some(v) = value {
                qb.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        if let Some(t) = f.since {
            qb.push(" AND at >= ").push_bind(t);
        }
        if let Some(t) = f.until {
            qb.push(" AND at < ").push_bind(t);
        }
        qb.push(" ORDER BY at DESC, id LIMIT ").push_bind(if f.limit > 0 { f.limit } else { 500 });
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(access_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn sharing_purge_access(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM access_records WHERE at < $1")
            .bind(before)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn sharing_list_usage_reports(&self, grant_id: &str) -> StoreResult<Vec<UsageReport>> {
        fetch_all(
            &self.reader,
            "SELECT body FROM usage_reports WHERE grant_id = $1 ORDER BY created_at DESC",
            &[grant_id],
            usage_report_from,
        )
        .await
    }
}
