// OPN-3, OPN-4, OPN-9: developer keys, applications for conditional open data and
// the public's feedback, `include!`d by backend.rs. Each row keeps its record as JSON
// in `body`.

fn developer_key_from(r: &DbRow) -> Result<DeveloperKey, sqlx::Error> {
    body_of(r)
}

fn open_application_from(r: &DbRow) -> Result<OpenApplication, sqlx::Error> {
    body_of(r)
}

fn open_feedback_from(r: &DbRow) -> Result<OpenFeedback, sqlx::Error> {
    body_of(r)
}

fn open_type_proposal_from(r: &DbRow) -> Result<OpenTypeProposal, sqlx::Error> {
    body_of(r)
}

async fn apply_open_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        Change::PutDeveloperKey(k) => {
            sqlx::query(
                "INSERT INTO open_keys (id, key_hash, status, created_at, body) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body",
            )
            .bind(&k.id)
            .bind(&k.key_hash)
            .bind(&k.status)
            .bind(k.created_at)
            .bind(json_text(&k))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutOpenApplication(a) => {
            sqlx::query(
                "INSERT INTO open_applications (id, key_id, resource_id, source_org_id, status, due, created_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, due = excluded.due, body = excluded.body",
            )
            .bind(&a.id)
            .bind(&a.key_id)
            .bind(&a.resource_id)
            .bind(&a.source_org_id)
            .bind(&a.status)
            .bind(a.due)
            .bind(a.created_at)
            .bind(json_text(&a))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutOpenFeedback(f) => {
            sqlx::query(
                "INSERT INTO open_feedback (id, resource_id, source_org_id, status, withheld, due, created_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, withheld = excluded.withheld,
                 due = excluded.due, body = excluded.body",
            )
            .bind(&f.id)
            .bind(&f.resource_id)
            .bind(&f.source_org_id)
            .bind(&f.status)
            .bind(f.withheld)
            .bind(f.due)
            .bind(f.created_at)
            .bind(json_text(&f))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutOpenTypeProposal(p) => {
            sqlx::query(
                "INSERT INTO open_type_proposals (id, entry_id, source_org_id, status, created_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body",
            )
            .bind(&p.id)
            .bind(&p.entry_id)
            .bind(&p.source_org_id)
            .bind(&p.status)
            .bind(p.created_at)
            .bind(json_text(&p))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        other => unreachable!("not an open-data change: {other:?}"),
    }
    Ok(())
}

impl BackendStore {
    async fn open_list_applications(&self, f: &OpenApplicationFilter) -> StoreResult<Vec<OpenApplication>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT body FROM open_applications WHERE 1 = 1");
        for (column, value) in [
            ("key_id", &f.key_id),
            ("source_org_id", &f.source_org_id),
            ("resource_id", &f.resource_id),
            ("status", &f.status),
        ] {
            if let Some(v) = value {
                qb.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        qb.push(" ORDER BY created_at DESC, id LIMIT ").push_bind(if f.limit > 0 { f.limit } else { 1000 });
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(open_application_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn open_list_feedback(&self, f: &OpenFeedbackFilter) -> StoreResult<Vec<OpenFeedback>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT body FROM open_feedback WHERE 1 = 1");
        for (column, value) in [
            ("resource_id", &f.resource_id),
            ("source_org_id", &f.source_org_id),
            ("status", &f.status),
        ] {
            if let Some(v) = value {
                qb.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        qb.push(" ORDER BY created_at DESC, id LIMIT ").push_bind(if f.limit > 0 { f.limit } else { 1000 });
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(open_feedback_from).collect::<Result<_, _>>().map_err(db_err)
    }
}

impl BackendStore {
    /// The open catalog stamp, and the developer key with `key_hash` when given, in
    /// one statement.
    pub(crate) async fn open_stamp_and_key(
        &self,
        key_hash: Option<&str>,
    ) -> StoreResult<(OpenCatalogStamp, Option<DeveloperKey>)> {
        let rows = sqlx::query(
            "SELECT m.last, d.n, d.v, d.last, w.resource_id, k.body, s.n AS social \
             FROM (SELECT MAX(updated_at) AS last FROM catalog_entries) m \
             CROSS JOIN (SELECT COUNT(*) AS n FROM social_data_agreements) s \
             CROSS JOIN (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v, \
                                MAX(updated_at) AS last FROM datasets) d \
             LEFT JOIN (SELECT DISTINCT resource_id FROM open_feedback WHERE withheld = $1) w ON TRUE \
             LEFT JOIN open_keys k ON k.key_hash = $2",
        )
        .bind(true)
        .bind(key_hash)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        let mut stamp = OpenCatalogStamp::default();
        let mut key = None;
        if let Some(r) = rows.first() {
            stamp.catalog_updated_at = r.try_get(0).map_err(db_err)?;
            stamp.social_agreements = r.try_get("social").map_err(db_err)?;
            stamp.datasets = (
                r.try_get(1).map_err(db_err)?,
                r.try_get(2).map_err(db_err)?,
                r.try_get(3).map_err(db_err)?,
            );
            if r.try_get::<Option<String>, _>("body").map_err(db_err)?.is_some() {
                key = Some(developer_key_from(r).map_err(db_err)?);
            }
        }
        for r in &rows {
            if let Some(id) = r.try_get::<Option<String>, _>(4).map_err(db_err)? {
                stamp.withheld.push(id);
            }
        }
        stamp.withheld.sort();
        stamp.withheld.dedup();
        Ok((stamp, key))
    }
}
