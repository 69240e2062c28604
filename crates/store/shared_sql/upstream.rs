// COL-7 (XJ 13): what this node reported to the next level up, and what lower-level
// platforms reported here; `include!`d by backend.rs. Both keep their record as JSON
// in `body`.

async fn apply_upstream_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        Change::PutUpstreamReport { report, expected_updated_at } => {
            let written = match expected_updated_at {
                None => sqlx::query("INSERT INTO upstream_reports (entry_id, updated_at, body) VALUES ($1, $2, $3)")
                    .bind(&report.entry_id)
                    .bind(report.updated_at)
                    .bind(json_text(&report))
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?,
                Some(expected) => sqlx::query(
                    "UPDATE upstream_reports SET updated_at = $2, body = $3 WHERE entry_id = $1 AND updated_at = $4",
                )
                .bind(&report.entry_id)
                .bind(report.updated_at)
                .bind(json_text(&report))
                .bind(expected)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?,
            };
            if written.rows_affected() != 1 {
                return Err(StoreError::NotFound(format!("upstream report of {} changed meanwhile", report.entry_id)));
            }
        }
        Change::PutReceivedReport { report: r, expected_received_at } => {
            let written = match expected_received_at {
                None => sqlx::query(
                    "INSERT INTO upstream_received (reporter_org_id, source_code, entry_id, received_at, body)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&r.reporter_org_id)
                .bind(&r.source_code)
                .bind(&r.entry_id)
                .bind(r.received_at)
                .bind(json_text(&r))
                .execute(&mut **tx)
                .await
                .map_err(db_err)?,
                Some(expected) => sqlx::query(
                    "UPDATE upstream_received SET entry_id = $3, received_at = $4, body = $5
                     WHERE reporter_org_id = $1 AND source_code = $2 AND received_at = $6",
                )
                .bind(&r.reporter_org_id)
                .bind(&r.source_code)
                .bind(&r.entry_id)
                .bind(r.received_at)
                .bind(json_text(&r))
                .bind(expected)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?,
            };
            if written.rows_affected() != 1 {
                return Err(StoreError::NotFound(format!("report of {} received meanwhile", r.source_code)));
            }
        }
        other => unreachable!("not an upstream change: {other:?}"),
    }
    Ok(())
}

impl BackendStore {
    async fn upstream_bodies<T: serde::de::DeserializeOwned>(&self, sql: &str, binds: &[&str]) -> StoreResult<Vec<T>> {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(body_of).collect::<Result<_, _>>().map_err(db_err)
    }
}
