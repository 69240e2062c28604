//! The demo's sharing: requests in every state (some past their deadline), grants with
//! masking, one suspended, and a consumer token for 民政局's marriage registration
//! system so that one `curl` fetches a masked record (SHR-3 … SHR-9).
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use gongshu_domain::permissions::Permission;
use gongshu_domain::sharing::GrantAction;
use gongshu_store::{CatalogFilter, Change, GrantFilter};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::catalog::today_in_china;
use crate::context::{App, Ctx};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::{self, NewToken};
use crate::sharing::{self, NewShareRequest, StepInput};

/// The name of the demo consumer token (found again when the demo re-runs).
const CONSUMER_TOKEN_NAME: &str = "婚姻登记系统（演示）";

/// What a demo consumer needs for its first call.
#[derive(Debug, Clone)]
pub struct DemoConsumer {
    pub org_name: String,
    pub token_secret: String,
    pub grant_id: String,
    pub resource_code: String,
    pub sample_key: String,
}

async fn actor(app: &App, username: &str) -> ServiceResult<Ctx> {
    let user = app
        .store
        .get_user_by_username(username)
        .await?
        .ok_or_else(|| ServiceError::not_found("用户", "user", username))?;
    Ok(Ctx::new(identity::principal_of(&user), None))
}

fn step(action: &str, note: &str) -> StepInput {
    StepInput {
        action: action.into(),
        note: note.into(),
        ..Default::default()
    }
}

/// One demo request: who asks which resource for what.
struct Ask<'a> {
    resource: &'a str,
    items: &'a [&'a str],
    mode: &'a str,
    purpose: &'a str,
    scenario: &'a str,
    legal_duty: &'a str,
}

async fn ask(
    app: &App,
    ctx: &Ctx,
    a: &Ask<'_>,
    token_id: Option<String>,
    at: DateTime<Utc>,
) -> ServiceResult<String> {
    let input = NewShareRequest {
        resource_id: a.resource.to_string(),
        purpose: a.purpose.into(),
        scenario: a.scenario.into(),
        legal_duty: a.legal_duty.into(),
        items: a.items.iter().map(|s| s.to_string()).collect(),
        mode: a.mode.into(),
        token_id,
        end_date: today_in_china(at) + Duration::days(365),
        commitment_signed: true,
        emergency: false,
        emergency_reason: String::new(),
        scenario_id: None,
    };
    Ok(sharing::submit_at(app, ctx, input, at).await?.id)
}

async fn issue_consumer_token(
    app: &App,
    owner: &Ctx,
    name: &str,
) -> ServiceResult<(String, String)> {
    let org_id = owner.principal.org_id.clone().unwrap_or_default();
    let (token, secret) = identity::create_token(
        app,
        owner,
        NewToken {
            org_id,
            name: name.into(),
            permissions: vec![Permission::DataConsume.key().into()],
            expires_in_days: 90,
        },
    )
    .await?;
    Ok((token.id, secret))
}

/// A citizen ID the demo's household register holds (its first, clean row).
fn sample_key() -> String {
    crate::demo_data::first_person_id(&mut StdRng::seed_from_u64(crate::demo_data::DEMO_SEED))
}

/// Seeds requests in every state over the mounted demo resources (`resources` maps
/// the demo keys `household`, `marriage`, `entities` … to entry ids).
pub async fn seed(app: &App, resources: &HashMap<String, String>) -> ServiceResult<DemoConsumer> {
    let admin = actor(app, "admin").await?;
    let psb = actor(app, "psb.admin").await?;
    let civil = actor(app, "civil.admin").await?;
    let market = actor(app, "market.admin").await?;
    let health = actor(app, "health.admin").await?;
    let id = |key: &str| resources.get(key).cloned().unwrap_or_default();
    let (household, marriage, entities) = (id("household"), id("marriage"), id("entities"));
    let now = Utc::now();
    let marriage_check =
        "《婚姻登记条例》第七条：婚姻登记机关应当对当事人出具的证件、证明材料进行审查";

    // Approved, API: 民政局's marriage registration system reads 公安局's register.
    let (token_id, token_secret) = issue_consumer_token(app, &civil, CONSUMER_TOKEN_NAME).await?;
    let (market_system, _) = issue_consumer_token(app, &market, "企业登记系统（演示）").await?;
    let (health_system, _) = issue_consumer_token(app, &health, "卫生健康业务系统（演示）").await?;
    let (civil_system, _) = issue_consumer_token(app, &civil, "社会组织登记系统（演示）").await?;
    let (psb_system, _) = issue_consumer_token(app, &psb, "案件办理系统（演示）").await?;
    let approved = ask(
        app,
        &civil,
        &Ask {
            resource: &household,
            items: &[
                "citizen_id",
                "name",
                "birth_date",
                "address",
                "marital_status",
            ],
            mode: "api",
            purpose: "婚姻登记时核对当事人身份与户籍信息",
            scenario: "婚姻登记",
            legal_duty: marriage_check,
        },
        Some(token_id),
        now,
    )
    .await?;
    sharing::act_at(
        app,
        &admin,
        &approved,
        step("pass_conformity", "用途明确、数据项最少够用"),
        now,
    )
    .await?;
    let (_, grant) = sharing::act_at(
        app,
        &psb,
        &approved,
        step("approve", "同意，按默认规则脱敏"),
        now,
    )
    .await?;
    let grant = grant.ok_or_else(|| {
        ServiceError::new(
            crate::error::ErrorKind::Internal,
            "share.no_grant_issued",
            "演示审批未生成授权",
            "the demo approval issued no grant",
        )
    })?;

    // Approved, verification only: 市场监管局 checks a representative's identity.
    let verify = ask(
        app,
        &market,
        &Ask {
            resource: &household,
            items: &["citizen_id", "name", "address"],
            mode: "verification",
            purpose: "企业登记时核验法定代表人身份",
            scenario: "企业开办",
            legal_duty: "《市场主体登记管理条例》第十七条",
        },
        Some(market_system.clone()),
        now,
    )
    .await?;
    sharing::act_at(app, &admin, &verify, step("pass_conformity", ""), now).await?;
    sharing::act_at(
        app,
        &psb,
        &verify,
        step("approve", "仅核验，不返回数据"),
        now,
    )
    .await?;

    // Approved, then suspended by the source (SHR-9).
    let suspended = ask(
        app,
        &health,
        &Ask {
            resource: &marriage,
            items: &["citizen_id", "marital_status"],
            mode: "api",
            purpose: "生育登记时核对婚姻状况",
            scenario: "生育登记",
            legal_duty: "《示范省人口与计划生育条例》（合成）第二十条",
        },
        Some(health_system.clone()),
        now,
    )
    .await?;
    sharing::act_at(app, &admin, &suspended, step("pass_conformity", ""), now).await?;
    let (_, g) = sharing::act_at(app, &civil, &suspended, step("approve", ""), now).await?;
    if let Some(g) = g {
        sharing::set_grant_status(
            app,
            &civil,
            &g.id,
            GrantAction::Suspend,
            "演示：调用量异常，核查期间暂停",
        )
        .await?;
    }

    // Awaiting the platform's conformity check (submitted today).
    ask(
        app,
        &health,
        &Ask {
            resource: &household,
            items: &["citizen_id", "name", "sex", "birth_date"],
            mode: "page_query",
            purpose: "家庭医生签约时核对居民身份",
            scenario: "家庭医生签约",
            legal_duty: "《基本医疗卫生与健康促进法》第三十一条",
        },
        Some(health_system.clone()),
        now,
    )
    .await?;

    // Awaiting the source, past its deadline (submitted three weeks ago).
    let weeks_ago = now - Duration::days(21);
    let late = ask(
        app,
        &market,
        &Ask {
            resource: &marriage,
            items: &["citizen_id", "marital_status"],
            mode: "api",
            purpose: "个体工商户登记时核对家庭经营者婚姻状况",
            scenario: "个体工商户登记",
            legal_duty: "《促进个体工商户发展条例》第十条",
        },
        Some(market_system.clone()),
        weeks_ago,
    )
    .await?;
    sharing::act_at(app, &admin, &late, step("pass_conformity", ""), weeks_ago).await?;

    // Refused with a legal basis, then disputed: the authority coordinates.
    let disputed = ask(
        app,
        &civil,
        &Ask {
            resource: &entities,
            items: &["credit_code", "entity_name", "legal_representative"],
            mode: "api",
            purpose: "社会组织登记时核对发起单位",
            scenario: "社会组织登记",
            legal_duty: "《社会团体登记管理条例》第九条",
        },
        Some(civil_system.clone()),
        now,
    )
    .await?;
    sharing::act_at(app, &admin, &disputed, step("pass_conformity", ""), now).await?;
    sharing::act_at(
        app,
        &market,
        &disputed,
        StepInput {
            legal_basis: "《企业信息公示暂行条例》第十七条".into(),
            ..step("refuse", "法定代表人信息须另行申请核验")
        },
        now,
    )
    .await?;
    sharing::act_at(
        app,
        &civil,
        &disputed,
        step("dispute", "核对发起单位是法定职责，核验不能满足"),
        now,
    )
    .await?;

    // Refused at the conformity check.
    let refused = ask(
        app,
        &health,
        &Ask {
            resource: &entities,
            items: &["credit_code", "entity_name", "legal_representative"],
            mode: "api",
            purpose: "了解辖区企业情况",
            scenario: "统计分析",
            legal_duty: "无",
        },
        Some(health_system.clone()),
        now,
    )
    .await?;
    sharing::act_at(
        app,
        &admin,
        &refused,
        step("fail_conformity", "用途不明确，未说明具体职责"),
        now,
    )
    .await?;

    // Withdrawn by the requester.
    let withdrawn = ask(
        app,
        &market,
        &Ask {
            resource: &household,
            items: &["citizen_id", "name"],
            mode: "api",
            purpose: "核对市场主体登记人员",
            scenario: "企业开办",
            legal_duty: "《市场主体登记管理条例》第十七条",
        },
        Some(market_system.clone()),
        now,
    )
    .await?;
    sharing::act_at(
        app,
        &market,
        &withdrawn,
        step("withdraw", "改为核验方式申请"),
        now,
    )
    .await?;

    // Negotiation: a resource the catalog does not share.
    let not_shared = crate::catalog::list(
        app,
        &admin,
        CatalogFilter {
            status: Some("published".into()),
            share_type: Some("not_shared".into()),
            limit: Some(50),
            ..Default::default()
        },
    )
    .await?;
    let psb_org = psb.principal.org_id.clone().unwrap_or_default();
    if let Some(entry) = not_shared.iter().find(|e| e.source_org_id != psb_org) {
        let items: Vec<&str> = entry
            .published
            .as_ref()
            .map(|c| {
                c.items
                    .iter()
                    .take(2)
                    .map(|i| i.code_name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        ask(
            app,
            &psb,
            &Ask {
                resource: &entry.id,
                items: &items,
                mode: "api",
                purpose: "侦办案件需要，拟协商共享",
                scenario: "案件侦办",
                legal_duty: "《刑事诉讼法》第五十四条",
            },
            Some(psb_system.clone()),
            now,
        )
        .await?;
    }
    sharing::flag_overdue(app, now).await?;
    let household_entry = crate::catalog::get(app, &admin, &household).await?;
    Ok(DemoConsumer {
        org_name: "民政局".into(),
        token_secret,
        grant_id: grant.id,
        resource_code: household_entry.code,
        sample_key: sample_key(),
    })
}

/// On a second `gongshu demo`: a new consumer token replaces the old one (its secret
/// was shown once) and the demo grants bound to the old one follow it (audited).
pub async fn reissue_consumer(app: &App) -> ServiceResult<Option<DemoConsumer>> {
    let civil = actor(app, "civil.admin").await?;
    let org_id = civil.principal.org_id.clone().unwrap_or_default();
    let old: Vec<_> = app
        .store
        .list_tokens(Some(&org_id))
        .await?
        .into_iter()
        .filter(|t| t.name == CONSUMER_TOKEN_NAME && t.revoked_at.is_none())
        .collect();
    let Some(first) = old.first() else {
        return Ok(None);
    };
    let grants: Vec<_> = app
        .store
        .list_grants(&GrantFilter {
            consumer_org_id: Some(org_id.clone()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|g| g.token_id.as_deref() == Some(first.id.as_str()))
        .collect();
    let Some(api_grant) = grants.iter().find(|g| g.status == "active").cloned() else {
        return Ok(None);
    };
    let (token_id, token_secret) = issue_consumer_token(app, &civil, CONSUMER_TOKEN_NAME).await?;
    let mut changes = Vec::new();
    let mut audit = Vec::new();
    for mut g in grants {
        let mut a = civil.audit("share.grant_token_rebound", "share_grant", &g.id);
        a.after = crate::context::summary(
            &serde_json::json!({ "from": g.token_id, "to": token_id, "demo": true }),
        );
        g.token_id = Some(token_id.clone());
        g.updated_at = Utc::now();
        changes.push(Change::PutGrant(g));
        audit.push(a);
    }
    app.store.commit(changes, audit).await?;
    for t in old {
        identity::revoke_token(app, &civil, &t.id).await?;
    }
    Ok(Some(DemoConsumer {
        org_name: "民政局".into(),
        token_secret,
        grant_id: api_grant.id,
        resource_code: api_grant.resource_code,
        sample_key: sample_key(),
    }))
}
