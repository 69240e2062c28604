// OPN-5, OPN-6: the versions of releases of data that is not open, `include!`d by
// backend.rs. Each row keeps its record as JSON in `body`; the columns beside it
// are what lists and the refresh job look up by.

fn open_release_from(r: &DbRow) -> Result<OpenRelease, sqlx::Error> {
    body_of(r)
}

async fn apply_open_release_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        Change::PutOpenRelease(r) => {
            sqlx::query(
                "INSERT INTO open_releases (id, series_id, version, source_entry_id, org_id, derived_entry_id,
                 status, next_refresh_at, created_at, updated_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, derived_entry_id = excluded.derived_entry_id,
                 status = excluded.status, next_refresh_at = excluded.next_refresh_at,
                 updated_at = excluded.updated_at, body = excluded.body",
            )
            .bind(&r.id)
            .bind(&r.series_id)
            .bind(r.version)
            .bind(&r.source_entry_id)
            .bind(&r.org_id)
            .bind(&r.derived_entry_id)
            .bind(&r.status)
            .bind(r.next_refresh_at)
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(json_text(&r))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        other => unreachable!("not a release change: {other:?}"),
    }
    Ok(())
}

impl BackendStore {
    async fn releases_list(&self, f: &OpenReleaseFilter) -> StoreResult<Vec<OpenRelease>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT body FROM open_releases WHERE 1 = 1");
        for (column, value) in [
            ("org_id", &f.org_id),
            ("series_id", &f.series_id),
            ("source_entry_id", &f.source_entry_id),
            ("status", &f.status),
        ] {
            if let Some(v) = value {
                qb.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(if f.limit > 0 { f.limit } else { 1000 });
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(open_release_from).collect::<Result<_, _>>().map_err(db_err)
    }
}
