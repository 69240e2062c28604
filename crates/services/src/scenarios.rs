//! CAT-5: scenario catalogs: one bundle of published resources that serves one
//! business scenario, so that a department asks for all of them in one request.
use chrono::Utc;
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::FieldError;
use gongshu_domain::permissions::Permission;
use gongshu_store::{Change, ScenarioBundle};
use serde::{Deserialize, Serialize};

use crate::context::{new_id, summary, App, Ctx};
use crate::error::{ServiceError, ServiceResult};

/// A new scenario catalog; entries by id or resource code.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScenario {
    pub name: String,
    /// The business scenario, e.g. 新生儿出生“一件事”联办.
    pub description: String,
    pub entries: Vec<String>,
}

/// CAT-5: the caller's department bundles published resources for one scenario.
pub async fn create(app: &App, ctx: &Ctx, input: NewScenario) -> ServiceResult<ScenarioBundle> {
    let lead = ctx.principal.org_id.clone().unwrap_or_default();
    ctx.principal
        .authorize(Permission::CatalogRegister, Some(&lead))?;
    let mut problems = Vec::new();
    let name = input.name.trim().to_string();
    let description = input.description.trim().to_string();
    if name.is_empty() {
        problems.push(FieldError::new(
            "name",
            "scenario.name_required",
            "请填写场景目录名称",
            "the name is required",
        ));
    }
    if description.is_empty() {
        problems.push(FieldError::new(
            "description",
            "scenario.description_required",
            "请说明服务的业务场景",
            "describe the business scenario",
        ));
    }
    let mut entry_ids: Vec<String> = Vec::new();
    for reference in input
        .entries
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        let found = crate::catalog::find_entry(app, reference).await?;
        match found {
            Some(e) if e.published.is_some() && !e.offline => {
                if !entry_ids.contains(&e.id) {
                    entry_ids.push(e.id);
                }
            }
            Some(e) => problems.push(FieldError::new(
                "entries",
                "scenario.entry_not_published",
                format!("目录 {} 未发布或已下架，不能纳入场景目录", e.code),
                format!("entry {} is not published (or is offline)", e.code),
            )),
            None => problems.push(FieldError::new(
                "entries",
                "scenario.entry_unknown",
                format!("找不到目录：{reference}"),
                format!("no such catalog entry: {reference}"),
            )),
        }
    }
    if entry_ids.len() < 2 && problems.iter().all(|p| p.field != "entries") {
        problems.push(FieldError::new(
            "entries",
            "scenario.entries_required",
            "场景目录至少包含两条已发布目录",
            "a scenario catalog bundles at least two published entries",
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::fields(problems));
    }
    let bundle = ScenarioBundle {
        id: new_id(),
        name,
        description,
        lead_org_id: lead,
        entry_ids,
        created_by: ctx.principal.actor.clone(),
        created_at: truncate_to_micros(Utc::now()),
    };
    let mut audit = ctx.audit("scenario.create", "scenario", &bundle.id);
    audit.after = summary(&bundle);
    app.store
        .commit(vec![Change::InsertScenario(bundle.clone())], vec![audit])
        .await?;
    Ok(bundle)
}

/// Every scenario catalog, newest first.
pub async fn list(app: &App, ctx: &Ctx) -> ServiceResult<Vec<ScenarioBundle>> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    Ok(app.store.list_scenarios().await?)
}
