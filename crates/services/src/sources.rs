//! COL-1: pull connectors. A department describes where the platform reads a
//! resource's data (a PostgreSQL or MySQL/MariaDB table or query, or an HTTP JSON
//! endpoint); its password or token is sealed with SM4-GCM under the deployment's
//! key, bound to the resource. The platform pulls on the resource's update
//! frequency, or on demand, through the same loading pipeline as uploads.
use chrono::{DateTime, Utc};
use gongshu_connectors::{PullSource, SealedSecret};
use gongshu_domain::catalog::UpdateFrequency;
use gongshu_domain::permissions::Permission;
use gongshu_store::{Change, DatasetLoad, DatasetSource};
use serde::Deserialize;

use crate::context::{summary, App, Ctx};
use crate::datasets::providing_org;
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// A connector as a department saves it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    /// `{"kind": "postgres" | "mysql", host, port, database, user, query: {"table": …} | {"select": …},
    /// tls: "prefer" (default) | "require" | "verify_full" | "disable"}`
    /// or `{"kind": "http_json", url, records_path, paging, auth_header}`.
    #[schema(value_type = Object)]
    pub source: serde_json::Value,
    /// Password or token; kept sealed. Absent: keep the one stored before.
    #[serde(default)]
    pub secret: Option<String>,
    /// Pull on the resource's update frequency (default true).
    #[serde(default = "yes")]
    pub scheduled: bool,
}

fn yes() -> bool {
    true
}

fn connector_error(e: gongshu_connectors::ConnectorError) -> ServiceError {
    ServiceError::new(ErrorKind::Invalid, e.code(), e.message_zh(), e.message_en())
}

fn parse_source(value: &serde_json::Value) -> ServiceResult<PullSource> {
    let source: PullSource = serde_json::from_value(value.clone()).map_err(|e| {
        ServiceError::invalid(
            "connector.source_invalid",
            "source",
            format!("数据源描述有误：{e}"),
            format!("the source description is invalid: {e}"),
        )
    })?;
    source.validate().map_err(connector_error)?;
    Ok(source)
}

async fn entry_and_org(
    app: &App,
    resource: &str,
) -> ServiceResult<(gongshu_store::CatalogEntry, String, UpdateFrequency)> {
    let entry = crate::catalog::find_entry(app, resource)
        .await?
        .ok_or_else(|| ServiceError::not_found("目录", "catalog entry", resource))?;
    let content = entry.published.clone().ok_or_else(|| {
        ServiceError::invalid(
            "dataset.entry_not_published",
            "resource",
            format!("目录 {} 尚未发布", entry.code),
            format!("catalog entry {} is not published", entry.code),
        )
    })?;
    let org = providing_org(&content).to_string();
    Ok((entry, org, content.update_frequency))
}

/// Saves a resource's connector (audited without the secret).
pub async fn set(
    app: &App,
    ctx: &Ctx,
    resource: &str,
    input: SourceInput,
) -> ServiceResult<DatasetSource> {
    let (entry, org, _) = entry_and_org(app, resource).await?;
    ctx.principal.authorize(Permission::DataLoad, Some(&org))?;
    // Stored as parsed, so every setting is written out with its value (`tls`
    // included) for the console and the audit record.
    let config = serde_json::to_value(parse_source(&input.source)?).map_err(|e| {
        ServiceError::new(
            ErrorKind::Internal,
            "connector.source_invalid",
            format!("数据源描述无法保存：{e}"),
            format!("the source description cannot be stored: {e}"),
        )
    })?;
    let before = app.data.get_source(&entry.id).await?;
    let sealed_secret = match input.secret.as_deref() {
        Some(s) if !s.is_empty() => Some(app.source_key.seal(s, entry.id.as_bytes()).to_text()),
        Some(_) => None,
        None => before.as_ref().and_then(|b| b.sealed_secret.clone()),
    };
    let now = Utc::now();
    let source = DatasetSource {
        resource_id: entry.id.clone(),
        org_id: org,
        config,
        sealed_secret,
        scheduled: input.scheduled,
        next_pull_at: if input.scheduled { Some(now) } else { None },
        last_pull_at: before.as_ref().and_then(|b| b.last_pull_at),
        last_load_id: before.as_ref().and_then(|b| b.last_load_id.clone()),
        last_status: before.as_ref().and_then(|b| b.last_status.clone()),
        last_error: before.as_ref().and_then(|b| b.last_error.clone()),
        updated_by: ctx.principal.actor.clone(),
        updated_at: now,
    };
    let mut audit = ctx.audit("dataset.source", "catalog_entry", &entry.id);
    audit.after = summary(&serde_json::json!({
        "source": source.config,
        "has_secret": source.sealed_secret.is_some(),
        "scheduled": source.scheduled,
    }));
    app.store
        .commit(vec![Change::PutSource(source.clone())], vec![audit])
        .await?;
    Ok(source)
}

pub async fn get(app: &App, ctx: &Ctx, resource: &str) -> ServiceResult<DatasetSource> {
    let (entry, org, _) = entry_and_org(app, resource).await?;
    ctx.principal.authorize(Permission::DataLoad, Some(&org))?;
    app.data
        .get_source(&entry.id)
        .await?
        .ok_or_else(|| ServiceError::not_found("数据源", "pull source", &entry.code))
}

fn open_secret(app: &App, source: &DatasetSource) -> ServiceResult<Option<String>> {
    source
        .sealed_secret
        .as_deref()
        .map(|text| {
            SealedSecret::from_text(text)
                .and_then(|s| app.source_key.open(&s, source.resource_id.as_bytes()))
                .map_err(connector_error)
        })
        .transpose()
}

/// Checks that the source answers, and returns its column names.
pub async fn probe(app: &App, ctx: &Ctx, resource: &str) -> ServiceResult<Vec<String>> {
    let source = get(app, ctx, resource).await?;
    let pull = parse_source(&source.config)?;
    let secret = open_secret(app, &source)?;
    gongshu_connectors::probe(&pull, secret.as_deref(), &app.pull_limits())
        .await
        .map_err(connector_error)
}

/// COL-1: pulls now and loads the result as a new version; records the outcome
/// on the source and schedules the next pull.
pub async fn pull_now(app: &App, ctx: &Ctx, resource: &str) -> ServiceResult<DatasetLoad> {
    let (entry, org, frequency) = entry_and_org(app, resource).await?;
    ctx.principal.authorize(Permission::DataLoad, Some(&org))?;
    let mut source = app
        .data
        .get_source(&entry.id)
        .await?
        .ok_or_else(|| ServiceError::not_found("数据源", "pull source", &entry.code))?;
    let attempt = async {
        let pull = parse_source(&source.config)?;
        let secret = open_secret(app, &source)?;
        let description = match &pull {
            PullSource::Postgres { host, database, .. } => format!("postgres://{host}/{database}"),
            PullSource::MySql { host, database, .. } => format!("mysql://{host}/{database}"),
            PullSource::HttpJson { url, .. } => url.clone(),
        };
        crate::datasets::load_pull(app, ctx, &entry.id, pull, secret, description).await
    };
    let load = match attempt.await {
        Ok(load) => load,
        Err(e) => return Err(record_refused_pull(app, ctx, source, e).await),
    };
    let now = Utc::now();
    source.last_pull_at = Some(now);
    source.last_load_id = Some(load.id.clone());
    source.last_status = Some(load.status.clone());
    source.last_error = load.error.clone();
    source.next_pull_at = if source.scheduled {
        gongshu_domain::dataset::next_pull_after(frequency, now)
    } else {
        None
    };
    app.store
        .commit(vec![Change::PutSource(source)], vec![])
        .await?;
    Ok(load)
}

/// A pull that could not start a load (the secrecy review is missing, the secret
/// does not open, another load is under way): the source shows why, the audit
/// log has it, and a scheduled source tries again at the next hourly run.
async fn record_refused_pull(
    app: &App,
    ctx: &Ctx,
    mut source: DatasetSource,
    e: ServiceError,
) -> ServiceError {
    source.last_pull_at = Some(Utc::now());
    source.last_status = Some("failed".into());
    source.last_error = Some(format!("{} / {}", e.message, e.message_en));
    let mut audit = ctx.audit("dataset.pull_refused", "catalog_entry", &source.resource_id);
    audit.org_id = Some(source.org_id.clone());
    audit.after = summary(&serde_json::json!({ "error_code": e.code, "error": source.last_error }));
    if let Err(store) = app
        .store
        .commit(vec![Change::PutSource(source)], vec![audit])
        .await
    {
        tracing::warn!(error = %store, "the refused pull could not be recorded on its source");
    }
    e
}

/// Runs every scheduled pull that is due (the hourly job); returns how many ran.
pub async fn pull_due(app: &App, now: DateTime<Utc>) -> ServiceResult<usize> {
    let ctx = Ctx::system();
    let due = app.data.due_sources(now).await?;
    for source in &due {
        if let Err(e) = pull_now(app, &ctx, &source.resource_id).await {
            tracing::warn!(resource = %source.resource_id, error = %e, "scheduled pull failed");
        }
    }
    Ok(due.len())
}
