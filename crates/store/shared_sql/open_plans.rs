// OPN-8 (HZ 30, HZ 36, XJ 31): the bodies' yearly open plans and the year's priority
// domains, `include!`d by backend.rs. Each row keeps its record as JSON in `body`;
// the columns beside it are what lists look up by.

fn open_plan_from(r: &DbRow) -> Result<OpenPlan, sqlx::Error> {
    body_of(r)
}

fn open_priorities_from(r: &DbRow) -> Result<OpenPriorities, sqlx::Error> {
    body_of(r)
}

async fn apply_open_plan_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        Change::PutOpenPlan { plan, expected_version: None } => {
            sqlx::query(
                "INSERT INTO open_plans (id, org_id, year, status, version, created_at, updated_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&plan.id)
            .bind(&plan.org_id)
            .bind(plan.year)
            .bind(&plan.status)
            .bind(plan.version)
            .bind(plan.created_at)
            .bind(plan.updated_at)
            .bind(json_text(&plan))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutOpenPlan { plan, expected_version: Some(expected) } => {
            let done = sqlx::query(
                "UPDATE open_plans SET status = $2, version = $3, updated_at = $4, body = $5
                 WHERE id = $1 AND version = $6",
            )
            .bind(&plan.id)
            .bind(&plan.status)
            .bind(plan.version)
            .bind(plan.updated_at)
            .bind(json_text(&plan))
            .bind(expected)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            must_touch(done.rows_affected(), &format!("open plan {} (changed meanwhile)", plan.id))?;
        }
        Change::PutOpenPriorities(p) => {
            sqlx::query(
                "INSERT INTO open_priorities (year, published_at, body) VALUES ($1, $2, $3)
                 ON CONFLICT (year) DO UPDATE SET published_at = excluded.published_at, body = excluded.body",
            )
            .bind(p.year)
            .bind(p.published_at)
            .bind(json_text(&p))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        other => unreachable!("not an open-plan change: {other:?}"),
    }
    Ok(())
}

impl BackendStore {
    async fn plans_get_of(&self, org_id: &str, year: i32) -> StoreResult<Option<OpenPlan>> {
        let row = sqlx::query("SELECT body FROM open_plans WHERE org_id = $1 AND year = $2")
            .bind(org_id)
            .bind(year)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        row.as_ref().map(open_plan_from).transpose().map_err(db_err)
    }

    async fn plans_list(&self, f: &OpenPlanFilter) -> StoreResult<Vec<OpenPlan>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT body FROM open_plans WHERE 1 = 1");
        if let Some(year) = f.year {
            qb.push(" AND year = ").push_bind(year);
        }
        for (column, value) in [("org_id", &f.org_id), ("status", &f.status)] {
            if let Some(v) = value {
                qb.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        qb.push(" ORDER BY created_at, id");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(open_plan_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn plans_priorities(&self, year: i32) -> StoreResult<Option<OpenPriorities>> {
        let row = sqlx::query("SELECT body FROM open_priorities WHERE year = $1")
            .bind(year)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        row.as_ref().map(open_priorities_from).transpose().map_err(db_err)
    }
}
