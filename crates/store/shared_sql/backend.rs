// SQL shared by both store backends. Each backend crate `include!`s this file after
// defining `Db`, `BackendStore { writer, reader }` and the backend-specific hooks
// `LOCK_AUDIT_HEAD`, `LOCK_AUDIT_INDEX_MARK`, `BEGIN_WRITE`, `BACKEND`, `backend_migrate`, `backend_claim_job`. SQL here is
// portable: `$n` placeholders, `ON CONFLICT`, `RETURNING`, partial indexes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gongshu_domain::audit::{self, AuditDraft, AuditRecord};
use gongshu_store::*;
use sqlx::{QueryBuilder, Row};

type DbPool = sqlx::Pool<Db>;
type DbRow = <Db as sqlx::Database>::Row;
type DbTx<'a> = sqlx::Transaction<'a, Db>;

fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(ref d) = e {
        use sqlx::error::ErrorKind;
        match d.kind() {
            ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation | ErrorKind::CheckViolation => {
                return StoreError::Conflict(d.constraint().map(str::to_string).unwrap_or_else(|| d.message().to_string()));
            }
            _ => {}
        }
    }
    StoreError::Database(e.to_string())
}

fn split_list(s: String) -> Vec<String> {
    s.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

fn division_from(r: &DbRow) -> Result<Division, sqlx::Error> {
    Ok(Division {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        name_en: r.try_get("name_en")?,
        level: r.try_get("level")?,
        parent_code: r.try_get("parent_code")?,
        hosts_node: r.try_get("hosts_node")?,
    })
}

fn org_from(r: &DbRow) -> Result<Organization, sqlx::Error> {
    Ok(Organization {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        name_en: r.try_get("name_en")?,
        kind: r.try_get("kind")?,
        division_code: r.try_get("division_code")?,
        credit_code: r.try_get("credit_code")?,
        parent_id: r.try_get("parent_id")?,
        disabled: r.try_get("disabled")?,
        created_at: r.try_get("created_at")?,
    })
}

fn officer_from(r: &DbRow) -> Result<Officer, sqlx::Error> {
    Ok(Officer {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        role: r.try_get("role")?,
        person_name: r.try_get("person_name")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        user_id: r.try_get("user_id")?,
        appointed_at: r.try_get("appointed_at")?,
        ended_at: r.try_get("ended_at")?,
        filed_by: r.try_get("filed_by")?,
    })
}

fn processor_from(r: &DbRow) -> Result<ProcessorAuthorization, sqlx::Error> {
    Ok(ProcessorAuthorization {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        processor_org_id: r.try_get("processor_org_id")?,
        scope: r.try_get("scope")?,
        purpose: r.try_get("purpose")?,
        starts_on: r.try_get("starts_on")?,
        ends_on: r.try_get("ends_on")?,
        status: r.try_get("status")?,
        filing_no: r.try_get("filing_no")?,
        filed_at: r.try_get("filed_at")?,
        filed_by: r.try_get("filed_by")?,
        revoked_at: r.try_get("revoked_at")?,
        revoke_reason: r.try_get("revoke_reason")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

fn user_from(r: &DbRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        roles: split_list(r.try_get("roles")?),
        disabled: r.try_get("disabled")?,
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get("locked_until")?,
        created_at: r.try_get("created_at")?,
        password_changed_at: r.try_get("password_changed_at")?,
    })
}

fn token_from(r: &DbRow) -> Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        name: r.try_get("name")?,
        token_hash: r.try_get("token_hash")?,
        prefix: r.try_get("prefix")?,
        permissions: split_list(r.try_get("permissions")?),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn content_from(json: Option<String>) -> Result<Option<gongshu_domain::catalog::EntryContent>, sqlx::Error> {
    json.map(|j| serde_json::from_str(&j).map_err(|e| sqlx::Error::Decode(Box::new(e)))).transpose()
}

fn content_json(c: &Option<gongshu_domain::catalog::EntryContent>) -> Option<String> {
    c.as_ref().map(|c| serde_json::to_string(c).expect("catalog content serialises"))
}

fn catalog_entry_from(r: &DbRow) -> Result<CatalogEntry, sqlx::Error> {
    Ok(CatalogEntry {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        owner_org_id: r.try_get("owner_org_id")?,
        category: r.try_get("category")?,
        domain: r.try_get("domain")?,
        name: r.try_get("name")?,
        source_org_id: r.try_get("source_org_id")?,
        share_type: r.try_get("share_type")?,
        open_type: r.try_get("open_type")?,
        published: content_from(r.try_get("published_json")?)?,
        published_version: r.try_get("published_version")?,
        published_at: r.try_get("published_at")?,
        offline: r.try_get("offline")?,
        offline_reason: r.try_get("offline_reason")?,
        offline_at: r.try_get("offline_at")?,
        working: content_from(r.try_get("working_json")?)?,
        stage: r.try_get("stage")?,
        registrar_user_id: r.try_get("registrar_user_id")?,
        department_reviewer_user_id: r.try_get("department_reviewer_user_id")?,
        submitted_at: r.try_get("submitted_at")?,
        authority_due: r.try_get("authority_due")?,
        return_reason: r.try_get("return_reason")?,
        mounted: r.try_get("mounted")?,
        overdue_since: r.try_get("overdue_since")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn catalog_review_from(r: &DbRow) -> Result<CatalogReview, sqlx::Error> {
    Ok(CatalogReview {
        id: r.try_get("id")?,
        entry_id: r.try_get("entry_id")?,
        action: r.try_get("action")?,
        actor_user_id: r.try_get("actor_user_id")?,
        actor: r.try_get("actor")?,
        reason: r.try_get("reason")?,
        at: r.try_get("at")?,
    })
}

fn audit_from(r: &DbRow) -> Result<AuditRecord, sqlx::Error> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        draft: AuditDraft {
            at: r.try_get("at")?,
            actor: r.try_get("actor")?,
            actor_user_id: r.try_get("actor_user_id")?,
            org_id: r.try_get("org_id")?,
            action: r.try_get("action")?,
            object_type: r.try_get("object_type")?,
            object_id: r.try_get("object_id")?,
            before: r.try_get("before_summary")?,
            after: r.try_get("after_summary")?,
            request_id: r.try_get("request_id")?,
        },
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

fn job_from(r: &DbRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        unique_key: r.try_get("unique_key")?,
        run_at: r.try_get("run_at")?,
        status: r.try_get("status")?,
        claimed_by: r.try_get("claimed_by")?,
        claimed_at: r.try_get("claimed_at")?,
        finished_at: r.try_get("finished_at")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
    })
}

fn must_touch(rows: u64, what: &str) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(what.to_string()))
    } else {
        Ok(())
    }
}

async fn apply_change(tx: &mut DbTx<'_>, change: Change) -> StoreResult<()> {
    match change {
        c @ (Change::PutLoad(_)
        | Change::PutDataset { .. }
        | Change::SetCatalogMounted { .. }
        | Change::ReplaceBaseAttributes { .. }
        | Change::InsertDiscrepancies(_)
        | Change::UpdateDiscrepancy(_)
        | Change::PutSource(_)
        | Change::PutQualitySnapshots(_)) => apply_data_change(tx, c).await?,
        c @ (Change::PutShareRequest(_)
        | Change::PutGrant(_)
        | Change::InsertAccess(_)
        | Change::InsertUsageReport(_)) => apply_sharing_change(tx, c).await?,
        c @ (Change::PutDeveloperKey(_)
        | Change::PutOpenApplication(_)
        | Change::PutOpenFeedback(_)
        | Change::PutOpenTypeProposal(_)) => apply_open_change(tx, c).await?,
        c @ (Change::AddOpenUsage(_) | Change::PutShowcase(_)) => apply_open_usage_change(tx, c).await?,
        c @ (Change::PutOpenPlan { .. } | Change::PutOpenPriorities(_)) => apply_open_plan_change(tx, c).await?,
        c @ Change::PutOpenRelease(_) => apply_open_release_change(tx, c).await?,
        c @ (Change::InsertSocialDataAgreement(_) | Change::ExpectEntryState { .. }) => {
            apply_social_data_change(tx, c).await?
        }
        c @ (Change::PutUpstreamReport { .. } | Change::PutReceivedReport { .. }) => apply_upstream_change(tx, c).await?,
        Change::ExpectStatus { record, id, status } => {
            // An UPDATE, not a SELECT: on PostgreSQL it locks the row until the commit,
            // so a second decision waits and then sees the first one's status.
            let table = match record {
                StatusRecord::ShareRequest => "share_requests",
                StatusRecord::OpenApplication => "open_applications",
                StatusRecord::OpenFeedback => "open_feedback",
                StatusRecord::OpenTypeProposal => "open_type_proposals",
            };
            let done = sqlx::query(&format!("UPDATE {table} SET status = status WHERE id = $1 AND status = $2"))
                .bind(&id)
                .bind(&status)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            must_touch(done.rows_affected(), &format!("{table} {id} with status {status}"))?;
        }
        Change::UpsertDivision(d) => {
            sqlx::query(
                "INSERT INTO divisions (code, name, name_en, level, parent_code, hosts_node) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en,
                 level = excluded.level, parent_code = excluded.parent_code, hosts_node = excluded.hosts_node",
            )
            .bind(d.code)
            .bind(d.name)
            .bind(d.name_en)
            .bind(d.level)
            .bind(d.parent_code)
            .bind(d.hosts_node)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::InsertOrg(o) => {
            sqlx::query(
                "INSERT INTO organizations (id, name, name_en, kind, division_code, credit_code, parent_id, disabled, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(o.id)
            .bind(o.name)
            .bind(o.name_en)
            .bind(o.kind)
            .bind(o.division_code)
            .bind(o.credit_code)
            .bind(o.parent_id)
            .bind(o.disabled)
            .bind(o.created_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::UpdateOrg(o) => {
            let done = sqlx::query(
                "UPDATE organizations SET name = $2, name_en = $3, kind = $4, division_code = $5, credit_code = $6,
                 parent_id = $7, disabled = $8 WHERE id = $1",
            )
            .bind(o.id)
            .bind(o.name)
            .bind(o.name_en)
            .bind(o.kind)
            .bind(o.division_code)
            .bind(o.credit_code)
            .bind(o.parent_id)
            .bind(o.disabled)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            must_touch(done.rows_affected(), "organization")?;
        }
        Change::EndOfficer { org_id, role, at } => {
            sqlx::query("UPDATE officers SET ended_at = $3 WHERE org_id = $1 AND role = $2 AND ended_at IS NULL")
                .bind(org_id)
                .bind(role)
                .bind(at)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Change::InsertOfficer(o) => {
            sqlx::query(
                "INSERT INTO officers (id, org_id, role, person_name, phone, email, user_id, appointed_at, ended_at, filed_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(o.id)
            .bind(o.org_id)
            .bind(o.role)
            .bind(o.person_name)
            .bind(o.phone)
            .bind(o.email)
            .bind(o.user_id)
            .bind(o.appointed_at)
            .bind(o.ended_at)
            .bind(o.filed_by)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::InsertProcessor(p) | Change::UpdateProcessor(p) => {
            sqlx::query(
                "INSERT INTO processor_authorizations (id, org_id, processor_org_id, scope, purpose, starts_on, ends_on, status,
                 filing_no, filed_at, filed_by, revoked_at, revoke_reason, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, purpose = excluded.purpose,
                 starts_on = excluded.starts_on, ends_on = excluded.ends_on, status = excluded.status,
                 filing_no = excluded.filing_no, filed_at = excluded.filed_at, filed_by = excluded.filed_by,
                 revoked_at = excluded.revoked_at, revoke_reason = excluded.revoke_reason",
            )
            .bind(p.id)
            .bind(p.org_id)
            .bind(p.processor_org_id)
            .bind(p.scope)
            .bind(p.purpose)
            .bind(p.starts_on)
            .bind(p.ends_on)
            .bind(p.status)
            .bind(p.filing_no)
            .bind(p.filed_at)
            .bind(p.filed_by)
            .bind(p.revoked_at)
            .bind(p.revoke_reason)
            .bind(p.created_by)
            .bind(p.created_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::InsertUser(u) => {
            sqlx::query(
                "INSERT INTO users (id, org_id, username, display_name, password_hash, roles, disabled, failed_logins,
                 locked_until, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(u.id)
            .bind(u.org_id)
            .bind(u.username)
            .bind(u.display_name)
            .bind(u.password_hash)
            .bind(u.roles.join(","))
            .bind(u.disabled)
            .bind(u.failed_logins)
            .bind(u.locked_until)
            .bind(u.created_at)
            .bind(u.password_changed_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::UpdateUser(u) => {
            let done = sqlx::query(
                "UPDATE users SET org_id = $2, username = $3, display_name = $4, password_hash = $5, roles = $6,
                 disabled = $7, failed_logins = $8, locked_until = $9, password_changed_at = $10 WHERE id = $1",
            )
            .bind(u.id)
            .bind(u.org_id)
            .bind(u.username)
            .bind(u.display_name)
            .bind(u.password_hash)
            .bind(u.roles.join(","))
            .bind(u.disabled)
            .bind(u.failed_logins)
            .bind(u.locked_until)
            .bind(u.password_changed_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            must_touch(done.rows_affected(), "user")?;
        }
        Change::InsertSession(s) => {
            sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(s.id_hash)
                .bind(s.user_id)
                .bind(s.csrf_token)
                .bind(s.created_at)
                .bind(s.expires_at)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Change::DeleteSession { id_hash } => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Change::DeleteUserSessions { user_id } => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Change::DeleteExpiredSessions { now } => {
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Change::InsertToken(t) => {
            sqlx::query(
                "INSERT INTO api_tokens (id, org_id, name, token_hash, prefix, permissions, created_by, created_at, expires_at, revoked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(t.id)
            .bind(t.org_id)
            .bind(t.name)
            .bind(t.token_hash)
            .bind(t.prefix)
            .bind(t.permissions.join(","))
            .bind(t.created_by)
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(t.revoked_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::RevokeToken { id, at } => {
            let done = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(at)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            must_touch(done.rows_affected(), "api_token")?;
        }
        Change::InsertPerson(p) => {
            sqlx::query(
                "INSERT INTO people (citizen_id, name, sex, birth_date, division_code, synthetic) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(p.citizen_id)
            .bind(p.name)
            .bind(p.sex)
            .bind(p.birth_date)
            .bind(p.division_code)
            .bind(p.synthetic)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::InsertEntity(e) => {
            sqlx::query(
                "INSERT INTO entities (credit_code, name, kind, division_code, registered_on, synthetic) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(e.credit_code)
            .bind(e.name)
            .bind(e.kind)
            .bind(e.division_code)
            .bind(e.registered_on)
            .bind(e.synthetic)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::InsertCatalogEntry(e) => {
            let items_of = e.clone();
            sqlx::query(
                "INSERT INTO catalog_entries (id, code, owner_org_id, category, domain, name, source_org_id, share_type,
                 open_type, published_json, published_version, published_at, offline, offline_reason, offline_at,
                 working_json, stage, registrar_user_id, department_reviewer_user_id, submitted_at, authority_due,
                 return_reason, mounted, created_at, updated_at, overdue_since)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                 $21, $22, $23, $24, $25, $26)",
            )
            .bind(e.id)
            .bind(e.code)
            .bind(e.owner_org_id)
            .bind(e.category)
            .bind(e.domain)
            .bind(e.name)
            .bind(e.source_org_id)
            .bind(e.share_type)
            .bind(e.open_type)
            .bind(content_json(&e.published))
            .bind(e.published_version)
            .bind(e.published_at)
            .bind(e.offline)
            .bind(e.offline_reason)
            .bind(e.offline_at)
            .bind(content_json(&e.working))
            .bind(e.stage)
            .bind(e.registrar_user_id)
            .bind(e.department_reviewer_user_id)
            .bind(e.submitted_at)
            .bind(e.authority_due)
            .bind(e.return_reason)
            .bind(e.mounted)
            .bind(e.created_at)
            .bind(e.updated_at)
            .bind(e.overdue_since)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            write_catalog_items(tx, &items_of).await?;
        }
        Change::UpdateCatalogEntry { entry: e, expected_updated_at } => {
            let items_of = e.clone();
            let done = sqlx::query(
                "UPDATE catalog_entries SET name = $2, source_org_id = $3, share_type = $4, open_type = $5,
                 published_json = $6, published_version = $7, published_at = $8, offline = $9, offline_reason = $10,
                 offline_at = $11, working_json = $12, stage = $13, registrar_user_id = $14,
                 department_reviewer_user_id = $15, submitted_at = $16, authority_due = $17, return_reason = $18,
                 mounted = $19, updated_at = $20, overdue_since = $22
                 WHERE id = $1 AND updated_at = $21",
            )
            .bind(&e.id)
            .bind(e.name)
            .bind(e.source_org_id)
            .bind(e.share_type)
            .bind(e.open_type)
            .bind(content_json(&e.published))
            .bind(e.published_version)
            .bind(e.published_at)
            .bind(e.offline)
            .bind(e.offline_reason)
            .bind(e.offline_at)
            .bind(content_json(&e.working))
            .bind(e.stage)
            .bind(e.registrar_user_id)
            .bind(e.department_reviewer_user_id)
            .bind(e.submitted_at)
            .bind(e.authority_due)
            .bind(e.return_reason)
            .bind(e.mounted)
            .bind(e.updated_at)
            .bind(expected_updated_at)
            .bind(e.overdue_since)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("catalog entry {} (changed meanwhile)", e.id)));
            }
            write_catalog_items(tx, &items_of).await?;
        }
        Change::InsertChangeRecord(c) | Change::UpdateChangeRecord(c) => {
            sqlx::query(
                "INSERT INTO catalog_change_records (id, org_id, description, basis, recorded_by, recorded_at, due,
                 completed_at, completed_note, overdue_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO UPDATE SET completed_at = excluded.completed_at,
                 completed_note = excluded.completed_note, overdue_since = excluded.overdue_since",
            )
            .bind(c.id)
            .bind(c.org_id)
            .bind(c.description)
            .bind(c.basis)
            .bind(c.recorded_by)
            .bind(c.recorded_at)
            .bind(c.due)
            .bind(c.completed_at)
            .bind(c.completed_note)
            .bind(c.overdue_since)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::InsertScenario(b) => {
            sqlx::query(
                "INSERT INTO scenario_bundles (id, name, description, lead_org_id, entry_ids, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(b.id)
            .bind(b.name)
            .bind(b.description)
            .bind(b.lead_org_id)
            .bind(b.entry_ids.join(","))
            .bind(b.created_by)
            .bind(b.created_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutDemand(d) => {
            sqlx::query(
                "INSERT INTO data_demands (id, requester_org_id, source_org_id, title, purpose, items, status, entry_id,
                 answer, due, answered_at, overdue_since, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, entry_id = excluded.entry_id,
                 answer = excluded.answer, answered_at = excluded.answered_at, overdue_since = excluded.overdue_since",
            )
            .bind(d.id)
            .bind(d.requester_org_id)
            .bind(d.source_org_id)
            .bind(d.title)
            .bind(d.purpose)
            .bind(d.items)
            .bind(d.status)
            .bind(d.entry_id)
            .bind(d.answer)
            .bind(d.due)
            .bind(d.answered_at)
            .bind(d.overdue_since)
            .bind(d.created_by)
            .bind(d.created_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutItProject(p) => {
            sqlx::query(
                "INSERT INTO it_projects (id, name, org_id, approval_ref, entry_ids, approved_at, acceptance_checked_at,
                 unmounted_entry_ids, accepted_at, social_data_kinds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO UPDATE SET acceptance_checked_at = excluded.acceptance_checked_at,
                 unmounted_entry_ids = excluded.unmounted_entry_ids, accepted_at = excluded.accepted_at",
            )
            .bind(p.id)
            .bind(p.name)
            .bind(p.org_id)
            .bind(p.approval_ref)
            .bind(p.entry_ids.join(","))
            .bind(p.approved_at)
            .bind(p.acceptance_checked_at)
            .bind(p.unmounted_entry_ids.join(","))
            .bind(p.accepted_at)
            .bind(p.social_data_kinds.iter().map(|k| k.key()).collect::<Vec<_>>().join(","))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::PutItemSource(s) => {
            sqlx::query(
                "INSERT INTO catalog_item_sources (item_key, source_org_id, note, decided_by, decided_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (item_key) DO UPDATE SET source_org_id = excluded.source_org_id, note = excluded.note,
                 decided_by = excluded.decided_by, decided_at = excluded.decided_at",
            )
            .bind(s.item_key)
            .bind(s.source_org_id)
            .bind(s.note)
            .bind(s.decided_by)
            .bind(s.decided_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        Change::InsertCatalogReview(r) => {
            sqlx::query(
                "INSERT INTO catalog_reviews (id, entry_id, action, actor_user_id, actor, reason, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(r.id)
            .bind(r.entry_id)
            .bind(r.action)
            .bind(r.actor_user_id)
            .bind(r.actor)
            .bind(r.reason)
            .bind(r.at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
    }
    Ok(())
}

/// CAT-3: the entry's data items as the store indexes them: those of the published
/// version (unless offline) and of the working copy.
async fn write_catalog_items(tx: &mut DbTx<'_>, e: &CatalogEntry) -> StoreResult<()> {
    sqlx::query("DELETE FROM catalog_items WHERE entry_id = $1")
        .bind(&e.id)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    let published = e.published.as_ref().filter(|_| !e.offline);
    for (version, content) in [("published", published), ("working", e.working.as_ref())] {
        let Some(content) = content else { continue };
        for (position, item) in content.items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO catalog_items (entry_id, version, position, item_key, name, source_org_id, category, link_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&e.id)
            .bind(version)
            .bind(position as i32)
            .bind(gongshu_domain::catalog::item_key(item))
            .bind(item.name.trim())
            .bind(&content.source_org_id)
            .bind(content.category.key())
            .bind(gongshu_domain::catalog::is_link_key(item))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
    }
    Ok(())
}

fn item_claim_from(r: &DbRow) -> Result<CatalogItemClaim, sqlx::Error> {
    Ok(CatalogItemClaim {
        item_key: r.try_get("item_key")?,
        item_name: r.try_get("name")?,
        source_org_id: r.try_get("source_org_id")?,
        entry_id: r.try_get("entry_id")?,
        entry_code: r.try_get("code")?,
        entry_name: r.try_get("entry_name")?,
        category: r.try_get("category")?,
        version: r.try_get("version")?,
    })
}

fn change_record_from(r: &DbRow) -> Result<CatalogChangeRecord, sqlx::Error> {
    Ok(CatalogChangeRecord {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        description: r.try_get("description")?,
        basis: r.try_get("basis")?,
        recorded_by: r.try_get("recorded_by")?,
        recorded_at: r.try_get("recorded_at")?,
        due: r.try_get("due")?,
        completed_at: r.try_get("completed_at")?,
        completed_note: r.try_get("completed_note")?,
        overdue_since: r.try_get("overdue_since")?,
    })
}

fn scenario_from(r: &DbRow) -> Result<ScenarioBundle, sqlx::Error> {
    Ok(ScenarioBundle {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        lead_org_id: r.try_get("lead_org_id")?,
        entry_ids: split_list(r.try_get("entry_ids")?),
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

fn demand_from(r: &DbRow) -> Result<DataDemand, sqlx::Error> {
    Ok(DataDemand {
        id: r.try_get("id")?,
        requester_org_id: r.try_get("requester_org_id")?,
        source_org_id: r.try_get("source_org_id")?,
        title: r.try_get("title")?,
        purpose: r.try_get("purpose")?,
        items: r.try_get("items")?,
        status: r.try_get("status")?,
        entry_id: r.try_get("entry_id")?,
        answer: r.try_get("answer")?,
        due: r.try_get("due")?,
        answered_at: r.try_get("answered_at")?,
        overdue_since: r.try_get("overdue_since")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

fn it_project_from(r: &DbRow) -> Result<ItProject, sqlx::Error> {
    Ok(ItProject {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        org_id: r.try_get("org_id")?,
        approval_ref: r.try_get("approval_ref")?,
        entry_ids: split_list(r.try_get("entry_ids")?),
        approved_at: r.try_get("approved_at")?,
        acceptance_checked_at: r.try_get("acceptance_checked_at")?,
        unmounted_entry_ids: split_list(r.try_get::<Option<String>, _>("unmounted_entry_ids")?.unwrap_or_default()),
        accepted_at: r.try_get("accepted_at")?,
        social_data_kinds: split_list(r.try_get::<Option<String>, _>("social_data_kinds")?.unwrap_or_default())
            .iter()
            .filter_map(|k| gongshu_domain::social_data::SocialDataKind::parse(k))
            .collect(),
    })
}

fn item_source_from(r: &DbRow) -> Result<ItemSource, sqlx::Error> {
    Ok(ItemSource {
        item_key: r.try_get("item_key")?,
        source_org_id: r.try_get("source_org_id")?,
        note: r.try_get("note")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
    })
}

const ITEM_CLAIM_COLUMNS: &str = "SELECT i.item_key, i.name, i.source_org_id, i.entry_id, e.code, e.name AS entry_name, \
     i.category, i.version FROM catalog_items i JOIN catalog_entries e ON e.id = i.entry_id";

/// A lookup table of the audit trail: its key columns, and the `audit_log`
/// expressions (over `audit_log a`) they hold; a missing organisation or object id
/// is stored as ''.
struct AuditLookup {
    name: &'static str,
    keys: &'static [&'static str],
    values: &'static [&'static str],
}

const AUDIT_LOOKUPS: [AuditLookup; 5] = [
    AuditLookup { name: "audit_by_org", keys: &["org_id"], values: &["COALESCE(a.org_id, '')"] },
    AuditLookup { name: "audit_by_actor", keys: &["actor"], values: &["a.actor"] },
    AuditLookup { name: "audit_by_action", keys: &["action"], values: &["a.action"] },
    AuditLookup {
        name: "audit_by_object",
        keys: &["object_type", "object_id"],
        values: &["a.object_type", "COALESCE(a.object_id, '')"],
    },
    AuditLookup { name: "audit_by_time", keys: &["at"], values: &["a.at"] },
];

/// `SELECT a.* … WHERE …` over the indexed records, driven by the most selective
/// lookup table the filter allows (or the primary key when it allows none).
fn push_indexed_audit_lookup(qb: &mut QueryBuilder<'_, Db>, f: &AuditFilter) {
    const JOIN: &str = " i JOIN audit_log a ON a.seq = i.seq WHERE 1 = 1";
    if let (Some(t), Some(id)) = (&f.object_type, &f.object_id) {
        qb.push("SELECT a.* FROM audit_by_object").push(JOIN);
        qb.push(" AND i.object_type = ").push_bind(t.clone());
        qb.push(" AND i.object_id = ").push_bind(id.clone());
    } else if let Some(actor) = &f.actor {
        qb.push("SELECT a.* FROM audit_by_actor").push(JOIN);
        qb.push(" AND i.actor = ").push_bind(actor.clone());
    } else if let Some(org) = &f.org_id {
        qb.push("SELECT a.* FROM audit_by_org").push(JOIN);
        qb.push(" AND i.org_id = ").push_bind(org.clone());
    } else if let Some(t) = &f.object_type {
        qb.push("SELECT a.* FROM audit_by_object").push(JOIN);
        qb.push(" AND i.object_type = ").push_bind(t.clone());
    } else if let Some(action) = &f.action {
        qb.push("SELECT a.* FROM audit_by_action").push(JOIN);
        match action.strip_suffix('.') {
            // A prefix as a key range: every action that starts with "x." sorts
            // from "x." up to, not including, "x/" ('/' follows '.').
            Some(stem) => {
                qb.push(" AND i.action >= ").push_bind(action.clone());
                qb.push(" AND i.action < ").push_bind(format!("{stem}/"));
            }
            None => {
                qb.push(" AND i.action = ").push_bind(action.clone());
            }
        }
    } else if f.from.is_some() || f.to.is_some() {
        qb.push("SELECT a.* FROM audit_by_time").push(JOIN);
        if let Some(v) = f.from {
            qb.push(" AND i.at >= ").push_bind(v);
        }
        if let Some(v) = f.to {
            qb.push(" AND i.at <= ").push_bind(v);
        }
    } else {
        qb.push("SELECT a.* FROM audit_log a WHERE a.seq <= (SELECT upto_seq FROM audit_index_mark WHERE id = 1)");
    }
}

/// The AND-ed conditions of an audit query on `audit_log a` (after a WHERE begun).
fn push_audit_filters(qb: &mut QueryBuilder<'_, Db>, f: &AuditFilter) {
    if let Some(v) = &f.actor {
        qb.push(" AND a.actor = ").push_bind(v.clone());
    }
    if let Some(v) = &f.org_id {
        qb.push(" AND a.org_id = ").push_bind(v.clone());
    }
    if let Some(v) = &f.action {
        if v.ends_with('.') {
            qb.push(" AND a.action LIKE ").push_bind(format!("{v}%"));
        } else {
            qb.push(" AND a.action = ").push_bind(v.clone());
        }
    }
    if let Some(v) = &f.object_type {
        qb.push(" AND a.object_type = ").push_bind(v.clone());
    }
    if let Some(v) = &f.object_id {
        qb.push(" AND a.object_id = ").push_bind(v.clone());
    }
    if let Some(v) = &f.request_id {
        qb.push(" AND a.request_id = ").push_bind(v.clone());
    }
    if let Some(v) = f.from {
        qb.push(" AND a.at >= ").push_bind(v);
    }
    if let Some(v) = f.to {
        qb.push(" AND a.at <= ").push_bind(v);
    }
    if let Some(v) = f.before_seq {
        qb.push(" AND a.seq < ").push_bind(v);
    }
}

/// Rows per multi-row INSERT of audit records (13 binds each: within SQLite's and
/// PostgreSQL's bind limits).
const AUDIT_ROWS_PER_INSERT: usize = 512;

/// GOV-5: the size of the next INSERT for `remaining` rows: full statements, then
/// powers of two, so a batch of any size uses at most ten statement shapes, each
/// prepared once per connection and then reused from the statement cache.
fn audit_insert_size(remaining: usize) -> usize {
    if remaining >= AUDIT_ROWS_PER_INSERT {
        AUDIT_ROWS_PER_INSERT
    } else {
        1 << remaining.max(1).ilog2()
    }
}

/// `rows` cut into INSERT statements of [`audit_insert_size`] rows, in order.
fn insert_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (chunk, tail) = rest.split_at(audit_insert_size(rest.len()));
        rest = tail;
        Some(chunk)
    })
}

/// Appends drafts to the chain inside `tx`; the head row is locked first so concurrent
/// writers (other nodes on PostgreSQL) link one after another.
async fn append_audit(tx: &mut DbTx<'_>, drafts: Vec<AuditDraft>) -> StoreResult<Vec<AuditRecord>> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let head = sqlx::query(LOCK_AUDIT_HEAD).fetch_one(&mut **tx).await.map_err(db_err)?;
    let mut prev_seq: i64 = head.try_get("seq").map_err(db_err)?;
    let mut prev_hash: String = head.try_get("hash").map_err(db_err)?;
    let mut out = Vec::with_capacity(drafts.len());
    for d in drafts {
        let prev = if prev_seq == 0 { None } else { Some((prev_seq, prev_hash.as_str())) };
        let record = audit::link(prev, d);
        prev_seq = record.seq;
        prev_hash.clone_from(&record.hash);
        out.push(record);
    }
    for chunk in insert_chunks(&out) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO audit_log (seq, at, actor, actor_user_id, org_id, action, object_type, object_id,
             before_summary, after_summary, request_id, prev_hash, hash) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.seq)
                .push_bind(r.draft.at)
                .push_bind(&r.draft.actor)
                .push_bind(&r.draft.actor_user_id)
                .push_bind(&r.draft.org_id)
                .push_bind(&r.draft.action)
                .push_bind(&r.draft.object_type)
                .push_bind(&r.draft.object_id)
                .push_bind(&r.draft.before)
                .push_bind(&r.draft.after)
                .push_bind(&r.draft.request_id)
                .push_bind(&r.prev_hash)
                .push_bind(&r.hash);
        });
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(prev_seq)
        .bind(&prev_hash)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(out)
}

async fn fetch_all<T>(
    pool: &DbPool,
    sql: &str,
    binds: &[&str],
    map: fn(&DbRow) -> Result<T, sqlx::Error>,
) -> StoreResult<Vec<T>> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    let rows = q.fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(map).collect::<Result<_, _>>().map_err(db_err)
}

async fn fetch_one_opt<T>(
    pool: &DbPool,
    sql: &str,
    key: &str,
    map: fn(&DbRow) -> Result<T, sqlx::Error>,
) -> StoreResult<Option<T>> {
    let row = sqlx::query(sql).bind(key).fetch_optional(pool).await.map_err(db_err)?;
    row.as_ref().map(map).transpose().map_err(db_err)
}

#[async_trait]
impl Store for BackendStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn data_plane(&self) -> std::sync::Arc<dyn DataPlane> {
        self.plane.clone()
    }

    fn row_reader(&self) -> std::sync::Arc<dyn RowReader> {
        self.plane.clone()
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.backend_migrate().await
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db_err)?;
        Ok(())
    }

    async fn commit(&self, changes: Vec<Change>, audit: Vec<AuditDraft>) -> StoreResult<Vec<AuditRecord>> {
        let alters_open_catalog = changes.iter().any(Change::alters_open_catalog);
        let mut tx = self.writer.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if !audit.is_empty() {
            // Taking the chain lock first orders whole transactions, not just their audit rows.
            sqlx::query(LOCK_AUDIT_HEAD).fetch_one(&mut *tx).await.map_err(db_err)?;
        }
        for change in changes {
            apply_change(&mut tx, change).await?;
        }
        let records = append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        if alters_open_catalog {
            self.open_epoch.fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        Ok(records)
    }

    fn open_catalog_epoch(&self) -> u64 {
        self.open_epoch.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn get_division(&self, code: &str) -> StoreResult<Option<Division>> {
        fetch_one_opt(&self.reader, "SELECT * FROM divisions WHERE code = $1", code, division_from).await
    }

    async fn list_divisions(&self) -> StoreResult<Vec<Division>> {
        fetch_all(&self.reader, "SELECT * FROM divisions ORDER BY code", &[], division_from).await
    }

    async fn get_org(&self, id: &str) -> StoreResult<Option<Organization>> {
        fetch_one_opt(&self.reader, "SELECT * FROM organizations WHERE id = $1", id, org_from).await
    }

    async fn list_orgs(&self, filter: &OrgFilter) -> StoreResult<Vec<Organization>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT * FROM organizations WHERE 1 = 1");
        if let Some(kind) = &filter.kind {
            qb.push(" AND kind = ").push_bind(kind.clone());
        }
        if let Some(code) = &filter.division_code {
            qb.push(" AND division_code = ").push_bind(code.clone());
        }
        if let Some(q) = &filter.q {
            let like = format!("%{}%", q.replace(['%', '_'], ""));
            qb.push(" AND (name LIKE ").push_bind(like.clone()).push(" OR name_en LIKE ").push_bind(like).push(")");
        }
        qb.push(" ORDER BY division_code, kind, name");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(org_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn count_orgs(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(&self.reader).await.map_err(db_err)
    }

    async fn list_officers(&self, org_id: &str, include_history: bool) -> StoreResult<Vec<Officer>> {
        let sql = if include_history {
            "SELECT * FROM officers WHERE org_id = $1 ORDER BY role, appointed_at DESC"
        } else {
            "SELECT * FROM officers WHERE org_id = $1 AND ended_at IS NULL ORDER BY role"
        };
        fetch_all(&self.reader, sql, &[org_id], officer_from).await
    }

    async fn get_processor(&self, id: &str) -> StoreResult<Option<ProcessorAuthorization>> {
        fetch_one_opt(&self.reader, "SELECT * FROM processor_authorizations WHERE id = $1", id, processor_from).await
    }

    async fn list_processors(&self, org_id: Option<&str>) -> StoreResult<Vec<ProcessorAuthorization>> {
        match org_id {
            Some(org) => {
                fetch_all(
                    &self.reader,
                    "SELECT * FROM processor_authorizations WHERE org_id = $1 OR processor_org_id = $1 ORDER BY created_at DESC",
                    &[org],
                    processor_from,
                )
                .await
            }
            None => {
                fetch_all(&self.reader, "SELECT * FROM processor_authorizations ORDER BY created_at DESC", &[], processor_from)
                    .await
            }
        }
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<User>> {
        fetch_one_opt(&self.reader, "SELECT * FROM users WHERE id = $1", id, user_from).await
    }

    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        fetch_one_opt(&self.reader, "SELECT * FROM users WHERE username = $1", username, user_from).await
    }

    async fn list_users(&self, org_id: Option<&str>) -> StoreResult<Vec<User>> {
        match org_id {
            Some(org) => fetch_all(&self.reader, "SELECT * FROM users WHERE org_id = $1 ORDER BY username", &[org], user_from).await,
            None => fetch_all(&self.reader, "SELECT * FROM users ORDER BY username", &[], user_from).await,
        }
    }

    async fn get_session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        row.map(|r| -> Result<Session, sqlx::Error> {
            Ok(Session {
                id_hash: r.try_get("id_hash")?,
                user_id: r.try_get("user_id")?,
                csrf_token: r.try_get("csrf_token")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
        .map_err(db_err)
    }

    async fn get_token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        fetch_one_opt(&self.reader, "SELECT * FROM api_tokens WHERE id = $1", id, token_from).await
    }

    async fn get_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        fetch_one_opt(&self.reader, "SELECT * FROM api_tokens WHERE token_hash = $1", token_hash, token_from).await
    }

    async fn get_token_of_active_org(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        fetch_one_opt(
            &self.reader,
            "SELECT t.* FROM api_tokens t JOIN organizations o ON o.id = t.org_id WHERE t.token_hash = $1 AND NOT o.disabled",
            token_hash,
            token_from,
        )
        .await
    }

    async fn list_tokens(&self, org_id: Option<&str>) -> StoreResult<Vec<ApiToken>> {
        match org_id {
            Some(org) => {
                fetch_all(&self.reader, "SELECT * FROM api_tokens WHERE org_id = $1 ORDER BY created_at DESC", &[org], token_from)
                    .await
            }
            None => fetch_all(&self.reader, "SELECT * FROM api_tokens ORDER BY created_at DESC", &[], token_from).await,
        }
    }

    async fn count_people(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM people").fetch_one(&self.reader).await.map_err(db_err)
    }

    async fn count_entities(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM entities").fetch_one(&self.reader).await.map_err(db_err)
    }

    async fn get_catalog_entry(&self, id: &str) -> StoreResult<Option<CatalogEntry>> {
        fetch_one_opt(&self.reader, "SELECT * FROM catalog_entries WHERE id = $1", id, catalog_entry_from).await
    }

    async fn get_catalog_entry_by_code(&self, code: &str) -> StoreResult<Option<CatalogEntry>> {
        fetch_one_opt(&self.reader, "SELECT * FROM catalog_entries WHERE code = $1", code, catalog_entry_from).await
    }

    async fn list_catalog_entries(&self, f: &CatalogFilter) -> StoreResult<Vec<CatalogEntry>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT * FROM catalog_entries WHERE 1 = 1");
        for (column, value) in [
            ("owner_org_id", &f.owner_org_id),
            ("source_org_id", &f.source_org_id),
            ("category", &f.category),
            ("domain", &f.domain),
            ("share_type", &f.share_type),
            ("open_type", &f.open_type),
        ] {
            if let Some(v) = value {
                qb.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        match f.status.as_deref() {
            None => {}
            Some("published") => {
                qb.push(" AND published_json IS NOT NULL AND offline = ").push_bind(false);
            }
            Some("offline") => {
                qb.push(" AND offline = ").push_bind(true);
            }
            Some("unpublished") => {
                qb.push(" AND published_json IS NULL");
            }
            Some(stage) => {
                qb.push(" AND stage = ").push_bind(stage.to_string());
            }
        }
        if let Some(q) = &f.q {
            let pattern = format!("%{}%", q.trim());
            qb.push(" AND (name LIKE ").push_bind(pattern.clone()).push(" OR code LIKE ").push_bind(pattern).push(")");
        }
        if let Some(t) = f.updated_since {
            qb.push(" AND updated_at >= ").push_bind(t);
        }
        if let Some(code) = &f.code_after {
            qb.push(" AND code > ").push_bind(code.clone());
        }
        if let Some(m) = f.mounted {
            qb.push(" AND mounted = ").push_bind(m);
        }
        if let Some(day) = f.overdue_on {
            qb.push(" AND stage = 'authority_review' AND authority_due < ").push_bind(day);
        }
        qb.push(" ORDER BY code LIMIT ").push_bind(f.limit.unwrap_or(200).clamp(1, 1000));
        qb.push(" OFFSET ").push_bind(f.offset.unwrap_or(0).max(0));
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(catalog_entry_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn catalog_last_update(&self) -> StoreResult<Option<DateTime<Utc>>> {
        sqlx::query_scalar("SELECT MAX(updated_at) FROM catalog_entries")
            .fetch_one(&self.reader)
            .await
            .map_err(db_err)
    }

    async fn last_catalog_code(&self, prefix: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT MAX(code) FROM catalog_entries WHERE code LIKE $1")
            .bind(format!("{prefix}%"))
            .fetch_one(&self.writer)
            .await
            .map_err(db_err)
    }

    async fn list_catalog_reviews(&self, entry_id: &str) -> StoreResult<Vec<CatalogReview>> {
        fetch_all(
            &self.reader,
            "SELECT * FROM catalog_reviews WHERE entry_id = $1 ORDER BY at, id",
            &[entry_id],
            catalog_review_from,
        )
        .await
    }

    async fn contested_catalog_items(&self) -> StoreResult<Vec<CatalogItemClaim>> {
        let sql = format!(
            "{ITEM_CLAIM_COLUMNS} WHERE NOT i.link_key AND i.item_key IN (
                 SELECT item_key FROM catalog_items WHERE NOT link_key
                 GROUP BY item_key HAVING COUNT(DISTINCT source_org_id) > 1)
             ORDER BY i.item_key, i.source_org_id, e.code, i.version"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(item_claim_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn catalog_item_claims(&self, item_keys: &[String]) -> StoreResult<Vec<CatalogItemClaim>> {
        if item_keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(ITEM_CLAIM_COLUMNS);
        qb.push(" WHERE NOT i.link_key AND i.item_key IN (");
        let mut sep = qb.separated(", ");
        for k in item_keys {
            sep.push_bind(k.clone());
        }
        qb.push(") ORDER BY i.item_key, e.code");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(item_claim_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn get_change_record(&self, id: &str) -> StoreResult<Option<CatalogChangeRecord>> {
        fetch_one_opt(&self.reader, "SELECT * FROM catalog_change_records WHERE id = $1", id, change_record_from).await
    }

    async fn list_change_records(&self, org_id: Option<&str>, open_only: bool) -> StoreResult<Vec<CatalogChangeRecord>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT * FROM catalog_change_records WHERE 1 = 1");
        if let Some(o) = org_id {
            qb.push(" AND org_id = ").push_bind(o.to_string());
        }
        if open_only {
            qb.push(" AND completed_at IS NULL");
        }
        qb.push(" ORDER BY recorded_at DESC LIMIT 1000");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(change_record_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn list_scenarios(&self) -> StoreResult<Vec<ScenarioBundle>> {
        fetch_all(&self.reader, "SELECT * FROM scenario_bundles ORDER BY created_at DESC", &[], scenario_from).await
    }

    async fn get_demand(&self, id: &str) -> StoreResult<Option<DataDemand>> {
        fetch_one_opt(&self.reader, "SELECT * FROM data_demands WHERE id = $1", id, demand_from).await
    }

    async fn list_demands(&self, org_id: Option<&str>) -> StoreResult<Vec<DataDemand>> {
        match org_id {
            Some(o) => fetch_all(
                &self.reader,
                "SELECT * FROM data_demands WHERE requester_org_id = $1 OR source_org_id = $1 ORDER BY created_at DESC",
                &[o],
                demand_from,
            )
            .await,
            None => fetch_all(&self.reader, "SELECT * FROM data_demands ORDER BY created_at DESC", &[], demand_from).await,
        }
    }

    async fn get_share_request(&self, id: &str) -> StoreResult<Option<ShareRequest>> {
        self.sharing_get_request(id).await
    }

    async fn list_share_requests(&self, f: &ShareRequestFilter) -> StoreResult<Vec<ShareRequest>> {
        self.sharing_list_requests(f).await
    }

    async fn get_grant(&self, id: &str) -> StoreResult<Option<ShareGrant>> {
        self.sharing_get_grant(id).await
    }

    async fn list_grants(&self, f: &GrantFilter) -> StoreResult<Vec<ShareGrant>> {
        self.sharing_list_grants(f).await
    }

    async fn grant_served_on(&self, grant_id: &str, day: chrono::NaiveDate) -> StoreResult<ServedTally> {
        self.sharing_served_on(grant_id, day).await
    }

    async fn grants_for_call(
        &self,
        consumer_org_id: &str,
        resource_id: &str,
        grant_id: Option<&str>,
        day: chrono::NaiveDate,
    ) -> StoreResult<Vec<(ShareGrant, ServedTally)>> {
        self.sharing_grants_for_call(consumer_org_id, resource_id, grant_id, day).await
    }

    async fn list_access(&self, f: &AccessFilter) -> StoreResult<Vec<AccessRecord>> {
        self.sharing_list_access(f).await
    }

    async fn purge_access(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.sharing_purge_access(before).await
    }

    async fn list_usage_reports(&self, grant_id: &str) -> StoreResult<Vec<UsageReport>> {
        self.sharing_list_usage_reports(grant_id).await
    }

    async fn get_developer_key(&self, id: &str) -> StoreResult<Option<DeveloperKey>> {
        fetch_one_opt(&self.reader, "SELECT body FROM open_keys WHERE id = $1", id, developer_key_from).await
    }

    async fn get_developer_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<DeveloperKey>> {
        fetch_one_opt(&self.reader, "SELECT body FROM open_keys WHERE key_hash = $1", key_hash, developer_key_from).await
    }

    async fn get_open_application(&self, id: &str) -> StoreResult<Option<OpenApplication>> {
        fetch_one_opt(&self.reader, "SELECT body FROM open_applications WHERE id = $1", id, open_application_from).await
    }

    async fn list_open_applications(&self, f: &OpenApplicationFilter) -> StoreResult<Vec<OpenApplication>> {
        self.open_list_applications(f).await
    }

    async fn get_open_feedback(&self, id: &str) -> StoreResult<Option<OpenFeedback>> {
        fetch_one_opt(&self.reader, "SELECT body FROM open_feedback WHERE id = $1", id, open_feedback_from).await
    }

    async fn list_open_feedback(&self, f: &OpenFeedbackFilter) -> StoreResult<Vec<OpenFeedback>> {
        self.open_list_feedback(f).await
    }

    async fn get_open_type_proposal(&self, id: &str) -> StoreResult<Option<OpenTypeProposal>> {
        fetch_one_opt(&self.reader, "SELECT body FROM open_type_proposals WHERE id = $1", id, open_type_proposal_from).await
    }

    async fn list_open_type_proposals(&self, source_org_id: Option<&str>) -> StoreResult<Vec<OpenTypeProposal>> {
        match source_org_id {
            Some(org) => fetch_all(
                &self.reader,
                "SELECT body FROM open_type_proposals WHERE source_org_id = $1 ORDER BY created_at DESC, id",
                &[org],
                open_type_proposal_from,
            )
            .await,
            None => fetch_all(
                &self.reader,
                "SELECT body FROM open_type_proposals ORDER BY created_at DESC, id",
                &[],
                open_type_proposal_from,
            )
            .await,
        }
    }

    async fn open_usage_totals(&self, f: &OpenUsageFilter, since: chrono::NaiveDate) -> StoreResult<Vec<OpenUsageTotal>> {
        self.open_usage_totals_of(f, since).await
    }

    async fn open_usage_daily(&self, f: &OpenUsageFilter, since: chrono::NaiveDate) -> StoreResult<Vec<OpenUsageDay>> {
        self.open_usage_daily_of(f, since).await
    }

    async fn get_showcase(&self, id: &str) -> StoreResult<Option<OpenShowcase>> {
        fetch_one_opt(&self.reader, "SELECT body FROM open_showcase WHERE id = $1", id, showcase_from).await
    }

    async fn list_showcases(&self, f: &ShowcaseFilter) -> StoreResult<Vec<OpenShowcase>> {
        self.open_list_showcases(f).await
    }

    async fn open_catalog_stamp(&self) -> StoreResult<OpenCatalogStamp> {
        Ok(self.open_stamp_and_key(None).await?.0)
    }

    async fn open_catalog_stamp_with_key(
        &self,
        key_hash: &str,
    ) -> StoreResult<(OpenCatalogStamp, Option<DeveloperKey>)> {
        self.open_stamp_and_key(Some(key_hash)).await
    }

    async fn get_open_plan(&self, id: &str) -> StoreResult<Option<OpenPlan>> {
        fetch_one_opt(&self.reader, "SELECT body FROM open_plans WHERE id = $1", id, open_plan_from).await
    }

    async fn get_open_plan_of(&self, org_id: &str, year: i32) -> StoreResult<Option<OpenPlan>> {
        self.plans_get_of(org_id, year).await
    }

    async fn list_open_plans(&self, f: &OpenPlanFilter) -> StoreResult<Vec<OpenPlan>> {
        self.plans_list(f).await
    }

    async fn get_open_priorities(&self, year: i32) -> StoreResult<Option<OpenPriorities>> {
        self.plans_priorities(year).await
    }

    async fn get_open_release(&self, id: &str) -> StoreResult<Option<OpenRelease>> {
        fetch_one_opt(&self.reader, "SELECT body FROM open_releases WHERE id = $1", id, open_release_from).await
    }

    async fn list_open_releases(&self, f: &OpenReleaseFilter) -> StoreResult<Vec<OpenRelease>> {
        self.releases_list(f).await
    }

    async fn get_it_project(&self, id: &str) -> StoreResult<Option<ItProject>> {
        fetch_one_opt(&self.reader, "SELECT * FROM it_projects WHERE id = $1", id, it_project_from).await
    }

    async fn list_social_data_agreements(&self) -> StoreResult<Vec<SocialDataAgreement>> {
        self.social_agreements(None).await
    }

    async fn social_data_agreements_for_entry(&self, entry_id: &str) -> StoreResult<Vec<SocialDataAgreement>> {
        self.social_agreements(Some(entry_id)).await
    }

    async fn list_upstream_reports(&self) -> StoreResult<Vec<UpstreamReport>> {
        self.upstream_bodies("SELECT body FROM upstream_reports ORDER BY entry_id", &[]).await
    }

    async fn get_upstream_report(&self, entry_id: &str) -> StoreResult<Option<UpstreamReport>> {
        Ok(self
            .upstream_bodies("SELECT body FROM upstream_reports WHERE entry_id = $1", &[entry_id])
            .await?
            .pop())
    }

    async fn list_received_reports(&self, reporter_org_id: Option<&str>) -> StoreResult<Vec<ReceivedReport>> {
        match reporter_org_id {
            Some(org) => {
                self.upstream_bodies(
                    "SELECT body FROM upstream_received WHERE reporter_org_id = $1 ORDER BY source_code",
                    &[org],
                )
                .await
            }
            None => {
                self.upstream_bodies("SELECT body FROM upstream_received ORDER BY reporter_org_id, source_code", &[])
                    .await
            }
        }
    }

    async fn get_received_report(&self, reporter_org_id: &str, source_code: &str) -> StoreResult<Option<ReceivedReport>> {
        Ok(self
            .upstream_bodies(
                "SELECT body FROM upstream_received WHERE reporter_org_id = $1 AND source_code = $2",
                &[reporter_org_id, source_code],
            )
            .await?
            .pop())
    }

    async fn list_it_projects(&self) -> StoreResult<Vec<ItProject>> {
        fetch_all(&self.reader, "SELECT * FROM it_projects ORDER BY approved_at DESC", &[], it_project_from).await
    }

    async fn list_item_sources(&self) -> StoreResult<Vec<ItemSource>> {
        fetch_all(&self.reader, "SELECT * FROM catalog_item_sources ORDER BY item_key", &[], item_source_from).await
    }

    async fn list_audit(&self, f: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let limit = f.limit.unwrap_or(100).clamp(1, 1000);
        // Records at or below the index mark are found through one lookup table;
        // the few above it (not yet indexed) by a primary-key range. One statement,
        // so both parts read the same snapshot and no record is missed or repeated.
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT * FROM (");
        push_indexed_audit_lookup(&mut qb, f);
        push_audit_filters(&mut qb, f);
        qb.push(" ORDER BY a.seq DESC LIMIT ").push_bind(limit);
        qb.push(
            ") AS indexed_part UNION ALL SELECT * FROM (SELECT a.* FROM audit_log a \
             WHERE a.seq > (SELECT upto_seq FROM audit_index_mark WHERE id = 1)",
        );
        push_audit_filters(&mut qb, f);
        qb.push(") AS tail_part ORDER BY seq DESC LIMIT ").push_bind(limit);
        let rows = qb.build().fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(audit_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn index_audit(&self, max_records: i64) -> StoreResult<i64> {
        let mut tx = self.writer.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let upto: i64 = sqlx::query_scalar(LOCK_AUDIT_INDEX_MARK).fetch_one(&mut *tx).await.map_err(db_err)?;
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_log")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let new_upto = last.min(upto.saturating_add(max_records.max(0)));
        if new_upto <= upto {
            return Ok(0);
        }
        for table in AUDIT_LOOKUPS {
            // Sorted by key, each lookup page is written once per batch.
            let sql = format!(
                "INSERT INTO {name} ({keys}, seq) SELECT {values}, a.seq FROM audit_log a \
                 WHERE a.seq > $1 AND a.seq <= $2 ORDER BY {values}, a.seq",
                name = table.name,
                keys = table.keys.join(", "),
                values = table.values.join(", "),
            );
            sqlx::query(&sql).bind(upto).bind(new_upto).execute(&mut *tx).await.map_err(db_err)?;
        }
        sqlx::query("UPDATE audit_index_mark SET upto_seq = $1 WHERE id = 1")
            .bind(new_upto)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(new_upto - upto)
    }

    async fn audit_index_state(&self) -> StoreResult<AuditIndexState> {
        let upto: i64 = sqlx::query_scalar("SELECT upto_seq FROM audit_index_mark WHERE id = 1")
            .fetch_one(&self.reader)
            .await
            .map_err(db_err)?;
        let mut state = AuditIndexState { upto_seq: upto, records_missing: 0, entries_astray: 0 };
        for table in AUDIT_LOOKUPS {
            let matches = table
                .keys
                .iter()
                .zip(table.values)
                .map(|(k, v)| format!("i.{k} = {v}"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let missing = format!(
                "SELECT COUNT(*) FROM audit_log a WHERE a.seq <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM {name} i WHERE i.seq = a.seq AND {matches})",
                name = table.name
            );
            let astray = format!(
                "SELECT COUNT(*) FROM {name} i WHERE i.seq > $1 \
                 OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.seq = i.seq AND {matches})",
                name = table.name
            );
            let m: i64 = sqlx::query_scalar(&missing).bind(upto).fetch_one(&self.reader).await.map_err(db_err)?;
            let s: i64 = sqlx::query_scalar(&astray).bind(upto).fetch_one(&self.reader).await.map_err(db_err)?;
            state.records_missing += m;
            state.entries_astray += s;
        }
        Ok(state)
    }

    async fn audit_page(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from).collect::<Result<_, _>>().map_err(db_err)
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)?;
        match row {
            None => Ok(None),
            Some(r) => {
                let seq: i64 = r.try_get("seq").map_err(db_err)?;
                let hash: String = r.try_get("hash").map_err(db_err)?;
                Ok(if seq == 0 { None } else { Some((seq, hash)) })
            }
        }
    }

    async fn schedule_job(&self, kind: &str, unique_key: &str, run_at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO jobs (kind, unique_key, run_at, status, attempts) VALUES ($1, $2, $3, 'queued', 0)
             ON CONFLICT (unique_key) DO NOTHING",
        )
        .bind(kind)
        .bind(unique_key)
        .bind(run_at)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_job(&self, worker: &str, now: DateTime<Utc>) -> StoreResult<Option<Job>> {
        let row = self.backend_claim_job(worker, now).await?;
        row.as_ref().map(job_from).transpose().map_err(db_err)
    }

    async fn finish_job(&self, id: i64, error: Option<&str>, now: DateTime<Utc>) -> StoreResult<()> {
        let status = if error.is_some() { "failed" } else { "done" };
        sqlx::query("UPDATE jobs SET status = $2, last_error = $3, finished_at = $4 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(error)
            .bind(now)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn list_jobs(&self, limit: i64) -> StoreResult<Vec<Job>> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)?;
        rows.iter().map(job_from).collect::<Result<_, _>>().map_err(db_err)
    }
}

include!("data_plane.rs");
include!("sharing.rs");
include!("open_data.rs");
include!("open_usage.rs");
include!("open_plans.rs");
include!("open_releases.rs");
include!("social_data.rs");
include!("upstream.rs");
