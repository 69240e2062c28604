//! The demo region: a synthetic province with one city and two counties, about 30
//! organisations of every party kind, filed officers, users for every role, and
//! synthetic people and legal entities whose identifiers are checksum-valid but
//! generated. Division codes start with 83, which GB/T 2260 does not assign.
use chrono::{Duration, NaiveDate, Utc};
use gongshu_domain::ids::{CitizenId, CreditCode, DivisionCode};
use gongshu_store::{Change, Entity, OrgFilter, Person};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::context::{summary, App, Ctx};
use crate::error::ServiceResult;
use crate::identity::{self, NewUser};
use crate::orgs::{self, FileOfficer, NewDivision, NewOrg, NewProcessor};

/// One printed demo login.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub role: String,
    pub org: String,
}

const DIVISIONS: &[(&str, &str, &str, bool)] = &[
    (
        "830000",
        "示范省（合成）",
        "Demo Province (synthetic)",
        true,
    ),
    ("830100", "云川市", "Yunchuan City", true),
    ("830102", "东湖区", "Donghu District", true),
    ("830121", "青山县", "Qingshan County", true),
    ("830102001", "湖滨街道", "Hubin Subdistrict", false),
    ("830121101", "青山镇", "Qingshan Town", false),
];

/// (key, name, name_en, kind, division, credit authority+category)
const ORGS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "prov_authority",
        "示范省数据局",
        "Demo Province Data Bureau",
        "data_authority",
        "830000",
        "11",
    ),
    (
        "prov_operator",
        "示范省大数据中心",
        "Demo Province Big Data Centre",
        "platform_operator",
        "830000",
        "12",
    ),
    (
        "authority",
        "云川市数据局",
        "Yunchuan Data Bureau",
        "data_authority",
        "830100",
        "11",
    ),
    (
        "operator",
        "云川市大数据中心",
        "Yunchuan Big Data Centre",
        "platform_operator",
        "830100",
        "12",
    ),
    (
        "psb",
        "云川市公安局",
        "Yunchuan Public Security Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "civil",
        "云川市民政局",
        "Yunchuan Civil Affairs Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "market",
        "云川市市场监督管理局",
        "Yunchuan Market Regulation Administration",
        "government_department",
        "830100",
        "11",
    ),
    (
        "health",
        "云川市卫生健康委员会",
        "Yunchuan Health Commission",
        "government_department",
        "830100",
        "11",
    ),
    (
        "education",
        "云川市教育局",
        "Yunchuan Education Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "resources",
        "云川市自然资源和规划局",
        "Yunchuan Natural Resources and Planning Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "hrss",
        "云川市人力资源和社会保障局",
        "Yunchuan Human Resources and Social Security Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "housing",
        "云川市住房和城乡建设局",
        "Yunchuan Housing and Urban-Rural Development Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "transport",
        "云川市交通运输局",
        "Yunchuan Transport Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "ecology",
        "云川市生态环境局",
        "Yunchuan Ecology and Environment Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "stats",
        "云川市统计局",
        "Yunchuan Statistics Bureau",
        "government_department",
        "830100",
        "11",
    ),
    (
        "medical",
        "云川市医疗保障局",
        "Yunchuan Healthcare Security Administration",
        "government_department",
        "830100",
        "11",
    ),
    (
        "water",
        "云川水务集团有限公司",
        "Yunchuan Water Group",
        "public_service_unit",
        "830100",
        "91",
    ),
    (
        "power",
        "云川供电公司",
        "Yunchuan Power Supply Company",
        "public_service_unit",
        "830100",
        "91",
    ),
    (
        "hospital",
        "云川市第一人民医院",
        "Yunchuan First People's Hospital",
        "public_service_unit",
        "830100",
        "12",
    ),
    (
        "data_operator",
        "云川数据运营有限公司",
        "Yunchuan Data Operations Co.",
        "data_operator",
        "830100",
        "91",
    ),
    (
        "developer",
        "云川智慧科技有限公司",
        "Yunchuan Smart Technology Co.",
        "developer",
        "830100",
        "91",
    ),
    (
        "purchaser",
        "云川普惠金融服务有限公司",
        "Yunchuan Inclusive Finance Services Co.",
        "purchaser",
        "830100",
        "91",
    ),
    (
        "processor",
        "云川数据处理服务有限公司",
        "Yunchuan Data Processing Services Co.",
        "third_party_processor",
        "830100",
        "91",
    ),
    (
        "university",
        "云川大学",
        "Yunchuan University",
        "research_institution",
        "830100",
        "12",
    ),
    (
        "manufacturer",
        "云川示范制造有限公司",
        "Yunchuan Demo Manufacturing Co.",
        "legal_person",
        "830100",
        "91",
    ),
    (
        "association",
        "云川市软件行业协会",
        "Yunchuan Software Industry Association",
        "other_organisation",
        "830100",
        "51",
    ),
    (
        "donghu_authority",
        "东湖区数据局",
        "Donghu District Data Bureau",
        "data_authority",
        "830102",
        "11",
    ),
    (
        "donghu_psb",
        "云川市公安局东湖分局",
        "Donghu Branch, Yunchuan Public Security Bureau",
        "government_department",
        "830102",
        "11",
    ),
    (
        "donghu_civil",
        "东湖区民政局",
        "Donghu District Civil Affairs Bureau",
        "government_department",
        "830102",
        "11",
    ),
    (
        "qingshan_authority",
        "青山县数据局",
        "Qingshan County Data Bureau",
        "data_authority",
        "830121",
        "11",
    ),
    (
        "qingshan_market",
        "青山县市场监督管理局",
        "Qingshan County Market Regulation Administration",
        "government_department",
        "830121",
        "11",
    ),
    (
        "qingshan_health",
        "青山县卫生健康局",
        "Qingshan County Health Bureau",
        "government_department",
        "830121",
        "11",
    ),
];

/// (username, display name, org key, roles)
const USERS: &[(&str, &str, &str, &[&str])] = &[
    ("admin", "平台管理员 王平", "operator", &["platform_admin"]),
    ("auditor", "审计员 李审", "operator", &["auditor"]),
    (
        "authority",
        "市数据局 赵主任",
        "authority",
        // 数据局 is also a department with data of its own (电子证照基础信息), which
        // it loads, shares and opens like any other.
        &["authority_admin", "org_admin"],
    ),
    ("psb.admin", "公安局 管理员 张警", "psb", &["org_admin"]),
    (
        "psb.registrar",
        "公安局 编报员 陈录",
        "psb",
        &["catalog_registrar"],
    ),
    (
        "psb.reviewer",
        "公安局 审核员 周审",
        "psb",
        &["catalog_reviewer"],
    ),
    (
        "psb.security",
        "公安局 安全员 吴安",
        "psb",
        &["security_officer"],
    ),
    ("civil.admin", "民政局 管理员 郑民", "civil", &["org_admin"]),
    (
        "market.admin",
        "市场监管局 管理员 冯市",
        "market",
        &["org_admin"],
    ),
    (
        "health.admin",
        "卫健委 管理员 何康",
        "health",
        &["org_admin"],
    ),
    (
        "health.data",
        "卫健委 数据管理员 孙数",
        "health",
        &["data_administrator"],
    ),
    (
        "operator.dev",
        "数据运营商 员工 钱运",
        "data_operator",
        &["member"],
    ),
    ("developer", "开发者 刘开", "developer", &["member"]),
    (
        "university",
        "云川大学 研究员 林研",
        "university",
        &["member"],
    ),
];

pub(crate) const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "高", "罗",
];
pub(crate) const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀英", "华", "平", "刚", "桂英", "建国", "晓燕", "志强", "海燕",
];
const OFFICER_ROLES: &[&str] = &[
    "data_resource_administrator",
    "security_officer",
    "catalog_registrar",
    "catalog_reviewer",
    "chief_data_officer",
];

/// Whether the store already holds a demo region.
pub async fn is_seeded(app: &App) -> ServiceResult<bool> {
    Ok(app.store.get_division("830000").await?.is_some())
}

/// The ids of the demo organisations by their key (`psb`, `civil` …).
pub async fn demo_org_ids(app: &App) -> ServiceResult<std::collections::HashMap<String, String>> {
    let orgs = app
        .store
        .list_orgs(&gongshu_store::OrgFilter::default())
        .await?;
    Ok(ORGS
        .iter()
        .map(|o| (o.0.to_string(), org_id_of(&orgs, o.1)))
        .filter(|(_, id)| !id.is_empty())
        .collect())
}

fn org_id_of(orgs: &[gongshu_store::Organization], name: &str) -> String {
    orgs.iter()
        .find(|o| o.name == name)
        .map(|o| o.id.clone())
        .unwrap_or_default()
}

/// Seeds the demo region with `people` synthetic people (and a tenth as many entities);
/// returns the logins to print.
pub async fn seed(app: &App, people: u32) -> ServiceResult<Vec<DemoLogin>> {
    let (logins, id_of) = seed_foundation_with_ids(app, people).await?;
    crate::demo_catalog::seed_catalog(app, &Ctx::cli(), id_of.as_ref()).await?;
    Ok(logins)
}

/// The demo region without the catalog: organisations, officers, users, subjects.
pub async fn seed_foundation(app: &App, people: u32) -> ServiceResult<Vec<DemoLogin>> {
    Ok(seed_foundation_with_ids(app, people).await?.0)
}

/// Maps a demo organisation key (`psb`, `authority` …) to its id.
type OrgIds = Box<dyn Fn(&str) -> String + Send + Sync>;

async fn seed_foundation_with_ids(
    app: &App,
    people: u32,
) -> ServiceResult<(Vec<DemoLogin>, OrgIds)> {
    let ctx = Ctx::cli();
    for (code, name, name_en, hosts_node) in DIVISIONS {
        orgs::upsert_division(
            app,
            &ctx,
            NewDivision {
                code: code.to_string(),
                name: name.to_string(),
                name_en: name_en.to_string(),
                hosts_node: *hosts_node,
            },
        )
        .await?;
    }
    let mut inputs = Vec::new();
    for (i, (_, name, name_en, kind, division, credit)) in ORGS.iter().enumerate() {
        let mut c = credit.chars();
        let (authority, category) = (c.next().unwrap_or('1'), c.next().unwrap_or('1'));
        let division_code = DivisionCode::parse(division)
            .map_err(|e| crate::ServiceError::from_id("division", e))?;
        let credit = CreditCode::synthesize(authority, category, &division_code, 10_000 + i as u32)
            .map_err(|e| crate::ServiceError::from_id("credit_code", e))?;
        inputs.push(NewOrg {
            name: name.to_string(),
            name_en: name_en.to_string(),
            kind: kind.to_string(),
            division_code: division.to_string(),
            credit_code: Some(credit.as_str().to_string()),
            parent_id: None,
        });
    }
    let created = orgs::import_orgs(app, &ctx, inputs).await?;
    let id_of = |key: &str| -> String {
        let name = ORGS
            .iter()
            .find(|o| o.0 == key)
            .map(|o| o.1)
            .unwrap_or_default();
        org_id_of(&created, name)
    };

    let mut rng = StdRng::seed_from_u64(2026);
    for org in created
        .iter()
        .filter(|o| o.kind == "government_department" || o.kind == "data_authority")
    {
        for role in OFFICER_ROLES {
            let name = format!(
                "{}{}",
                SURNAMES[rng.gen_range(0..SURNAMES.len())],
                GIVEN[rng.gen_range(0..GIVEN.len())]
            );
            orgs::file_officer(
                app,
                &ctx,
                &org.id,
                FileOfficer {
                    role: role.to_string(),
                    person_name: name,
                    phone: Some(format!("0830-{}", rng.gen_range(6_000_000..6_999_999))),
                    email: None,
                    user_id: None,
                },
            )
            .await?;
        }
    }

    let today = Utc::now().date_naive();
    let p = orgs::authorize_processor(
        app,
        &ctx,
        &id_of("health"),
        NewProcessor {
            processor_org_id: id_of("processor"),
            scope: "居民健康档案数据清洗与质量核查（不含对外提供）".into(),
            purpose: "健康档案数据治理 / health record data cleansing".into(),
            starts_on: today,
            ends_on: today + Duration::days(365),
        },
    )
    .await?;
    orgs::file_processor(app, &ctx, &p.id, "YC-SJJ-2026-001").await?;

    let logins = create_users(app, &ctx, &created).await?;
    seed_subjects(app, &ctx, people, &mut rng).await?;
    let ids: std::collections::HashMap<&'static str, String> = ORGS
        .iter()
        .map(|o| (o.0, org_id_of(&created, o.1)))
        .collect();
    Ok((
        logins,
        Box::new(move |key: &str| ids.get(key).cloned().unwrap_or_default()),
    ))
}

async fn create_users(
    app: &App,
    ctx: &Ctx,
    created: &[gongshu_store::Organization],
) -> ServiceResult<Vec<DemoLogin>> {
    let mut logins = Vec::new();
    for (username, display, org_key, roles) in USERS {
        let org_name = ORGS
            .iter()
            .find(|o| o.0 == *org_key)
            .map(|o| o.1)
            .unwrap_or_default();
        let (_, password) = identity::create_user(
            app,
            ctx,
            NewUser {
                org_id: org_id_of(created, org_name),
                username: username.to_string(),
                display_name: display.to_string(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                password: None,
            },
        )
        .await?;
        logins.push(DemoLogin {
            username: username.to_string(),
            password: password.unwrap_or_default(),
            role: roles.join(","),
            org: org_name.to_string(),
        });
    }
    Ok(logins)
}

async fn seed_subjects(app: &App, ctx: &Ctx, people: u32, rng: &mut StdRng) -> ServiceResult<()> {
    let counties = ["830102", "830121"];
    let mut changes = Vec::with_capacity(people as usize);
    let mut seen = std::collections::HashSet::new();
    let epoch = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default();
    while changes.len() < people as usize {
        let county = DivisionCode::parse(counties[rng.gen_range(0..counties.len())])
            .map_err(|e| crate::ServiceError::from_id("division", e))?;
        let birth = epoch + Duration::days(rng.gen_range(0..30_000));
        let id = CitizenId::synthesize(&county, birth, rng.gen_range(0..1000))
            .map_err(|e| crate::ServiceError::from_id("citizen_id", e))?;
        if !seen.insert(id.as_str().to_string()) {
            continue;
        }
        let name = format!(
            "{}{}",
            SURNAMES[rng.gen_range(0..SURNAMES.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())]
        );
        changes.push(Change::InsertPerson(Person {
            citizen_id: id.as_str().to_string(),
            name,
            sex: if id.is_female() {
                "female".into()
            } else {
                "male".into()
            },
            birth_date: birth,
            division_code: county.as_str().to_string(),
            synthetic: true,
        }));
    }
    let entities = (people / 10).max(1);
    let trades = [
        "商贸",
        "科技",
        "餐饮",
        "建筑",
        "物流",
        "文化传媒",
        "农业发展",
        "医药",
    ];
    for i in 0..entities {
        let county = DivisionCode::parse(counties[(i % 2) as usize])
            .map_err(|e| crate::ServiceError::from_id("division", e))?;
        let code = CreditCode::synthesize('9', '1', &county, 20_000_000 + i)
            .map_err(|e| crate::ServiceError::from_id("credit_code", e))?;
        changes.push(Change::InsertEntity(Entity {
            credit_code: code.as_str().to_string(),
            name: format!(
                "云川{}{}有限公司（合成）",
                trades[(i as usize) % trades.len()],
                i + 1
            ),
            kind: "limited_company".into(),
            division_code: county.as_str().to_string(),
            registered_on: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
                + Duration::days(rng.gen_range(0..9000)),
            synthetic: true,
        }));
    }
    let mut d = ctx.audit("demo.seed_subjects", "demo", "830000");
    d.after =
        summary(&serde_json::json!({"people": people, "entities": entities, "synthetic": true}));
    app.store.commit(changes, vec![d]).await?;
    Ok(())
}

/// On a second start of the demo: new passwords for the demo users, printed again
/// (the old ones are only stored hashed).
pub async fn reissue_logins(app: &App) -> ServiceResult<Vec<DemoLogin>> {
    let ctx = Ctx::cli();
    let orgs = app.store.list_orgs(&OrgFilter::default()).await?;
    let mut logins = Vec::new();
    for (username, _, org_key, roles) in USERS {
        let Some(user) = app.store.get_user_by_username(username).await? else {
            continue;
        };
        let password = identity::reset_password(app, &ctx, &user.id, None).await?;
        let org_name = ORGS
            .iter()
            .find(|o| o.0 == *org_key)
            .map(|o| o.1)
            .unwrap_or_default();
        let org = orgs
            .iter()
            .find(|o| o.id == user.org_id)
            .map(|o| o.name.clone())
            .unwrap_or(org_name.to_string());
        logins.push(DemoLogin {
            username: username.to_string(),
            password,
            role: roles.join(","),
            org,
        });
    }
    Ok(logins)
}
