// COL-8: agreements over social data and the entries they carry, `include!`d by
// backend.rs. Each agreement keeps its record as JSON in `body`; each covered entry
// keeps a copy of the term, which never changes once recorded.

fn social_data_agreement_from(r: &DbRow) -> Result<SocialDataAgreement, sqlx::Error> {
    body_of(r)
}

async fn apply_social_data_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        Change::InsertSocialDataAgreement(a) => {
            sqlx::query(
                "INSERT INTO social_data_agreements (id, org_id, starts_on, ends_on, recorded_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&a.id)
            .bind(&a.org_id)
            .bind(a.starts_on)
            .bind(a.ends_on)
            .bind(a.recorded_at)
            .bind(json_text(&a))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            for entry_id in &a.entry_ids {
                sqlx::query(
                    "INSERT INTO social_data_entries (entry_id, agreement_id, starts_on, ends_on, opening_allowed)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(entry_id)
                .bind(&a.id)
                .bind(a.starts_on)
                .bind(a.ends_on)
                .bind(a.opening_allowed)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
        }
        Change::ExpectEntryState { entry_id, updated_at, social_agreements } => {
            // An UPDATE, not a SELECT: on PostgreSQL it locks the entry until the
            // commit, so a second writer waits and then counts the first one's rows.
            let locked = sqlx::query("UPDATE catalog_entries SET updated_at = updated_at WHERE id = $1 AND updated_at = $2")
                .bind(&entry_id)
                .bind(updated_at)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM social_data_entries WHERE entry_id = $1")
                .bind(&entry_id)
                .fetch_one(&mut **tx)
                .await
                .map_err(db_err)?;
            if locked != 1 || held != i64::from(social_agreements) {
                return Err(StoreError::NotFound(format!("catalog entry {entry_id} changed meanwhile")));
            }
        }
        other => unreachable!("not a social data change: {other:?}"),
    }
    Ok(())
}

impl BackendStore {
    async fn social_agreements(&self, entry_id: Option<&str>) -> StoreResult<Vec<SocialDataAgreement>> {
        let rows = match entry_id {
            Some(id) => {
                sqlx::query(
                    "SELECT a.body FROM social_data_agreements a JOIN social_data_entries s ON s.agreement_id = a.id
                     WHERE s.entry_id = $1 ORDER BY a.ends_on DESC, a.id DESC",
                )
                .bind(id)
                .fetch_all(&self.reader)
                .await
            }
            None => {
                sqlx::query("SELECT body FROM social_data_agreements ORDER BY ends_on DESC, id DESC")
                    .fetch_all(&self.reader)
                    .await
            }
        }
        .map_err(db_err)?;
        rows.iter().map(social_data_agreement_from).collect::<Result<_, _>>().map_err(db_err)
    }
}
