//! COL-1, COL-9, GOV-1, GOV-2: the demo's mounted data. Five published resources of
//! four departments about synthetic people and legal entities, delivered the ways
//! departments deliver (UTF-8 and GBK CSV, NDJSON, XLSX) through the real loading
//! pipeline, with a few hundred deliberate errors and cross-source differences.
//! Every identifier is generated and checksum-valid; none belongs to anyone.
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use chrono::{Duration, NaiveDate};
use gongshu_domain::catalog::{
    Category, DataItem, Domain, EntryContent, FieldType, Grade, ItemConstraints, KeyRole,
    OpenReason, OpenType, ResourceFormat, Sensitivity, ShareMode, ShareType, UpdateFrequency,
};
use gongshu_domain::ids::{CitizenId, CreditCode, DivisionCode};
use gongshu_store::{CatalogEntry, Change, ItemSource};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::context::{App, Ctx};
use crate::dataset_input::{InputFormat, TextEncoding};
use crate::datasets::{self, Channel, LoadOptions};
use crate::demo::{GIVEN, SURNAMES};
use crate::error::{ErrorKind, ServiceError, ServiceResult};
use crate::governance::{self, Base};

/// Standard data element codes the demo's items follow, so the same datum meets
/// across departments (CAT-3), with the department that is its one source.
const ELEMENTS: &[(&str, &str, &str)] = &[
    ("DE0101", "姓名", "psb"),
    ("DE0102", "性别", "psb"),
    ("DE0103", "出生日期", "psb"),
    ("DE0104", "婚姻状况", "civil"),
    ("DE0105", "住址", "psb"),
    ("DE0201", "单位名称", "market"),
    ("DE0202", "法定代表人", "market"),
];

fn element(code: &str) -> Option<String> {
    Some(code.to_string())
}

#[allow(clippy::too_many_arguments)]
fn item(
    name: &str,
    code_name: &str,
    t: FieldType,
    length: Option<u32>,
    sensitive: bool,
    role: KeyRole,
    element_code: Option<String>,
    constraints: ItemConstraints,
) -> DataItem {
    DataItem {
        name: name.into(),
        code_name: code_name.into(),
        field_type: t,
        length,
        meaning: String::new(),
        sensitive,
        key_role: role,
        element_code,
        constraints,
    }
}

fn required() -> ItemConstraints {
    ItemConstraints {
        required: true,
        ..ItemConstraints::default()
    }
}

fn one_of(values: &[&str]) -> ItemConstraints {
    ItemConstraints {
        enum_values: values.iter().map(|v| v.to_string()).collect(),
        ..ItemConstraints::default()
    }
}

fn at_least_zero() -> ItemConstraints {
    ItemConstraints {
        minimum: Some(0.0),
        ..ItemConstraints::default()
    }
}

fn citizen_id() -> DataItem {
    item(
        "公民身份号码",
        "citizen_id",
        FieldType::String,
        Some(18),
        true,
        KeyRole::CitizenId,
        None,
        ItemConstraints::default(),
    )
}

fn credit_code() -> DataItem {
    item(
        "统一社会信用代码",
        "credit_code",
        FieldType::String,
        Some(18),
        false,
        KeyRole::CreditCode,
        None,
        ItemConstraints::default(),
    )
}

fn person_name() -> DataItem {
    item(
        "姓名",
        "name",
        FieldType::String,
        Some(50),
        true,
        KeyRole::None,
        element("DE0101"),
        required(),
    )
}

fn marital_status() -> DataItem {
    item(
        "婚姻状况",
        "marital_status",
        FieldType::String,
        Some(10),
        true,
        KeyRole::None,
        element("DE0104"),
        one_of(&MARITAL),
    )
}

fn birth_date() -> DataItem {
    item(
        "出生日期",
        "birth_date",
        FieldType::Date,
        None,
        true,
        KeyRole::None,
        element("DE0103"),
        ItemConstraints::default(),
    )
}

fn entity_name() -> DataItem {
    item(
        "单位名称",
        "entity_name",
        FieldType::String,
        Some(100),
        false,
        KeyRole::None,
        element("DE0201"),
        required(),
    )
}

fn representative() -> DataItem {
    item(
        "法定代表人",
        "legal_representative",
        FieldType::String,
        Some(50),
        true,
        KeyRole::None,
        element("DE0202"),
        ItemConstraints::default(),
    )
}

const MARITAL: [&str; 4] = ["未婚", "已婚", "离婚", "丧偶"];

/// One demo resource: its key, its department, its published content.
pub struct DemoResource {
    pub key: &'static str,
    pub org: &'static str,
    pub content: EntryContent,
}

fn content(
    name: &str,
    summary: &str,
    domain: Domain,
    source_org_id: &str,
    items: Vec<DataItem>,
    frequency: UpdateFrequency,
) -> EntryContent {
    EntryContent {
        name: name.into(),
        summary: summary.into(),
        category: Category::Business,
        domain,
        format: ResourceFormat::Database,
        source_org_id: source_org_id.into(),
        providing_org_id: None,
        approving_department: String::new(),
        co_builder_org_ids: Vec::new(),
        items,
        share_type: ShareType::Conditional,
        share_conditions: "仅限履行法定职责所必需，按最少够用原则申请".into(),
        share_scope: "本级及下级政务部门".into(),
        share_modes: vec![ShareMode::Api, ShareMode::PageQuery],
        legal_basis: "《示范省公共数据条例》（合成）第十二条".into(),
        open_type: OpenType::NotOpen,
        open_conditions: String::new(),
        open_reason: Some(OpenReason::PrivacyWithoutConsent),
        open_basis: "含个人信息".into(),
        update_frequency: frequency,
        timeliness: "变更后 1 个工作日内更新".into(),
        grade: Grade::General,
        sensitivity: Some(Sensitivity::L3),
        classified: false,
        release_date: None,
        related_codes: Vec::new(),
    }
}

/// The five demo resources that carry data; `id_of` maps department keys to ids.
pub fn resources(id_of: &dyn Fn(&str) -> String) -> Vec<DemoResource> {
    vec![
        DemoResource {
            key: "household",
            org: "psb",
            content: content(
                "户籍人口信息（演示数据）",
                "公安机关户籍登记的人口基本信息，人口基础库姓名、性别、出生日期、住址的数源。",
                Domain::Population,
                &id_of("psb"),
                vec![
                    citizen_id(),
                    person_name(),
                    item(
                        "性别",
                        "sex",
                        FieldType::String,
                        Some(2),
                        false,
                        KeyRole::None,
                        element("DE0102"),
                        one_of(&["男", "女"]),
                    ),
                    birth_date(),
                    item(
                        "户籍地行政区划",
                        "household_division",
                        FieldType::String,
                        Some(9),
                        false,
                        KeyRole::DivisionCode,
                        None,
                        ItemConstraints::default(),
                    ),
                    item(
                        "住址",
                        "address",
                        FieldType::String,
                        Some(200),
                        true,
                        KeyRole::None,
                        element("DE0105"),
                        ItemConstraints::default(),
                    ),
                    marital_status(),
                ],
                UpdateFrequency::Daily,
            ),
        },
        DemoResource {
            key: "marriage",
            org: "civil",
            content: content(
                "婚姻登记信息（演示数据）",
                "民政部门婚姻登记结果，人口基础库婚姻状况的数源。",
                Domain::Population,
                &id_of("civil"),
                vec![
                    citizen_id(),
                    person_name(),
                    marital_status(),
                    item(
                        "登记日期",
                        "registered_on",
                        FieldType::Date,
                        None,
                        false,
                        KeyRole::None,
                        None,
                        ItemConstraints::default(),
                    ),
                ],
                UpdateFrequency::Daily,
            ),
        },
        DemoResource {
            key: "insurance",
            org: "hrss",
            content: content(
                "社会保险参保信息（演示数据）",
                "人力资源社会保障部门的参保登记与缴费基数。",
                Domain::SocialSecurity,
                &id_of("hrss"),
                vec![
                    citizen_id(),
                    person_name(),
                    birth_date(),
                    item(
                        "参保日期",
                        "insured_since",
                        FieldType::Date,
                        None,
                        false,
                        KeyRole::None,
                        None,
                        ItemConstraints::default(),
                    ),
                    item(
                        "缴费基数（元）",
                        "contribution_base",
                        FieldType::Number,
                        None,
                        true,
                        KeyRole::None,
                        None,
                        at_least_zero(),
                    ),
                ],
                UpdateFrequency::Monthly,
            ),
        },
        DemoResource {
            key: "entities",
            org: "market",
            content: content(
                "市场主体登记信息（演示数据）",
                "市场监管部门的市场主体登记，法人基础库单位名称、法定代表人的数源。",
                Domain::LegalEntity,
                &id_of("market"),
                vec![
                    credit_code(),
                    entity_name(),
                    representative(),
                    item(
                        "注册资本（万元）",
                        "registered_capital",
                        FieldType::Number,
                        None,
                        false,
                        KeyRole::None,
                        None,
                        at_least_zero(),
                    ),
                    item(
                        "成立日期",
                        "established_on",
                        FieldType::Date,
                        None,
                        false,
                        KeyRole::None,
                        None,
                        ItemConstraints::default(),
                    ),
                    item(
                        "登记机关行政区划",
                        "registry_division",
                        FieldType::String,
                        Some(9),
                        false,
                        KeyRole::DivisionCode,
                        None,
                        ItemConstraints::default(),
                    ),
                ],
                UpdateFrequency::RealTime,
            ),
        },
        DemoResource {
            key: "statistics",
            org: "stats",
            content: content(
                "统计单位名录（演示数据）",
                "统计部门的基本单位名录与从业人员数。",
                Domain::MacroEconomy,
                &id_of("stats"),
                vec![
                    credit_code(),
                    entity_name(),
                    representative(),
                    item(
                        "从业人员数",
                        "employees",
                        FieldType::Integer,
                        None,
                        false,
                        KeyRole::None,
                        None,
                        at_least_zero(),
                    ),
                ],
                UpdateFrequency::Yearly,
            ),
        },
    ]
}

/// Publishes the demo resources and names the one source of each shared datum
/// (CAT-3); returns the entries by resource key.
pub async fn register_resources(
    app: &App,
    ctx: &Ctx,
    ids: &HashMap<String, String>,
) -> ServiceResult<HashMap<&'static str, CatalogEntry>> {
    let id_of = |k: &str| ids.get(k).cloned().unwrap_or_default();
    let mut out = HashMap::new();
    for r in resources(&id_of) {
        let owner = id_of(r.org);
        let entry = crate::demo_catalog::publish_for_demo(app, ctx, &owner, r.content).await?;
        // COL-6: each department clears its resource's items before it delivers data.
        crate::datasets::record_secrecy_review(
            app,
            ctx,
            &entry.id,
            crate::datasets::SecrecyReviewInput::cleared(crate::datasets::DEMO_SECRECY_NOTE),
        )
        .await?;
        out.insert(r.key, entry);
    }
    let now = chrono::Utc::now();
    let mut changes = Vec::new();
    for (code, _, org) in ELEMENTS {
        changes.push(Change::PutItemSource(ItemSource {
            item_key: format!("element:{code}"),
            source_org_id: id_of(org),
            note: "演示：按部门法定职责确定数源 / demo: the source by statutory duty".into(),
            decided_by: ctx.principal.actor.clone(),
            decided_at: now,
        }));
    }
    let mut audit = ctx.audit("catalog.resolve_conflict", "catalog_item", "demo-elements");
    audit.after = crate::context::summary(&ELEMENTS);
    app.store.commit(changes, vec![audit]).await?;
    Ok(out)
}

/// How much data the demo mounts.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    pub people: u32,
    pub entities: u32,
}

/// What the demo mounted.
#[derive(Debug, Clone, Serialize)]
pub struct DataSummary {
    pub loads: Vec<(String, i64, i64)>,
    /// Demo key (`household`, `marriage` …) → catalog entry id.
    pub resources: HashMap<String, String>,
    pub discrepancies: i64,
}

/// The seed of the demo's synthetic people.
pub(crate) const DEMO_SEED: u64 = 20_261_122;

/// The citizen ID of the first synthetic person, whose household row is clean.
pub(crate) fn first_person_id(rng: &mut StdRng) -> String {
    person(0, rng).id
}

/// A synthetic person.
struct Person {
    id: String,
    name: String,
    sex: &'static str,
    birth: NaiveDate,
    division: &'static str,
    address: String,
    marital: &'static str,
}

const PEOPLE_DIVISIONS: [&str; 3] = ["830102", "830121", "830100"];
const STREETS: [&str; 6] = [
    "湖滨路",
    "青山大道",
    "云川街",
    "东湖北路",
    "文昌巷",
    "新华路",
];

fn person(i: u32, rng: &mut StdRng) -> Person {
    let start = NaiveDate::from_ymd_opt(1940, 1, 1).expect("date");
    let birth = start + Duration::days(i64::from(i % 29_000));
    let sequence = (i / 29_000) as u16;
    let division = PEOPLE_DIVISIONS[(i % 3) as usize];
    let code = DivisionCode::parse(division).expect("demo division");
    let id = CitizenId::synthesize(&code, birth, sequence).expect("synthetic id");
    let age = 2026 - chrono::Datelike::year(&birth);
    let marital = if age < 22 {
        "未婚"
    } else {
        MARITAL[[0, 1, 1, 1, 1, 2, 3][rng.gen_range(0..7)]]
    };
    Person {
        sex: if id.is_female() { "女" } else { "男" },
        id: id.as_str().to_string(),
        name: format!(
            "{}{}",
            SURNAMES[rng.gen_range(0..SURNAMES.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())]
        ),
        birth,
        division,
        address: format!(
            "示范省云川市{}{}号",
            STREETS[rng.gen_range(0..STREETS.len())],
            rng.gen_range(1..400)
        ),
        marital,
    }
}

/// A citizen ID with a wrong check character (COL-3 rejects it).
fn break_check_digit(id: &str) -> String {
    let last = id.chars().last().unwrap_or('0');
    let wrong = if last == '1' { '2' } else { '1' };
    format!("{}{wrong}", &id[..17])
}

pub(crate) fn io_fail(e: std::io::Error) -> ServiceError {
    ServiceError::new(
        ErrorKind::Internal,
        "demo.write_failed",
        format!("生成演示数据文件失败：{e}"),
        format!("writing a demo data file failed: {e}"),
    )
}

fn csv_line(fields: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(fields);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Writes the demo's delivered files into `dir`.
fn write_files(dir: &Path, size: DemoSize) -> ServiceResult<()> {
    let mut rng = StdRng::seed_from_u64(DEMO_SEED);
    let people: Vec<Person> = (0..size.people).map(|i| person(i, &mut rng)).collect();

    // 公安局: UTF-8 CSV with a header in 中文, some bad rows and repeated keys.
    let mut household =
        String::from("公民身份号码,姓名,性别,出生日期,户籍地行政区划,住址,婚姻状况\n");
    for (i, p) in people.iter().enumerate() {
        let mut id = p.id.clone();
        let mut name = p.name.clone();
        let mut birth = p.birth.format("%Y-%m-%d").to_string();
        let mut sex = p.sex.to_string();
        match i % 997 {
            1 => id = break_check_digit(&id),
            2 => birth = "2023-02-30".into(),
            3 => name.clear(),
            4 => sex = "未知".into(),
            // GOV-1 consistency: a valid date that disagrees with the ID number.
            5 => birth = (p.birth + Duration::days(1)).format("%Y-%m-%d").to_string(),
            _ => {}
        }
        let line = csv_line(&[&id, &name, &sex, &birth, p.division, &p.address, p.marital]);
        household.push_str(&line);
        if i % 1999 == 7 {
            household.push_str(&line);
        }
    }
    std::fs::write(dir.join("household.csv"), household).map_err(io_fail)?;

    // 民政局: GBK CSV of everyone ever married; some statuses and names differ
    // from 公安局's copy (GOV-2), a few IDs are wrong.
    let mut marriage = String::from("公民身份号码,姓名,婚姻状况,登记日期\n");
    for (i, p) in people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.marital != "未婚")
    {
        let mut status = p.marital;
        let mut name = p.name.clone();
        let mut id = p.id.clone();
        match i % 500 {
            11 => {
                status = if status == "已婚" {
                    "离婚"
                } else {
                    "已婚"
                }
            }
            13 => name = format!("{}{}", &SURNAMES[i % SURNAMES.len()], "某"),
            17 => id = break_check_digit(&id),
            _ => {}
        }
        let registered = p.birth + Duration::days(365 * 25 + (i % 300) as i64);
        marriage.push_str(&csv_line(&[
            &id,
            &name,
            status,
            &registered.format("%Y-%m-%d").to_string(),
        ]));
    }
    let (gbk, _, _) = encoding_rs::GBK.encode(&marriage);
    std::fs::write(dir.join("marriage.csv"), gbk).map_err(io_fail)?;

    // 人社局: NDJSON from its front-end node; some birth dates differ, a few bases are negative.
    let mut ndjson = std::fs::File::create(dir.join("insurance.ndjson")).map_err(io_fail)?;
    for (i, p) in people.iter().enumerate().filter(|(i, _)| i % 5 < 3) {
        let mut birth = p.birth;
        if i % 700 == 21 {
            birth += Duration::days(31);
        }
        let base = if i % 1500 == 7 {
            -1.0
        } else {
            3000.0 + f64::from(rng.gen_range(0..20_000))
        };
        let line = serde_json::json!({
            "citizen_id": p.id,
            "name": p.name,
            "birth_date": birth.format("%Y-%m-%d").to_string(),
            "insured_since": (p.birth + Duration::days(365 * 20)).format("%Y-%m-%d").to_string(),
            "contribution_base": base,
        });
        writeln!(ndjson, "{line}").map_err(io_fail)?;
    }

    // 市场监管局: XLSX of market entities; 统计局: CSV with some representatives differing.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let xlsx_fail = |e: rust_xlsxwriter::XlsxError| io_fail(std::io::Error::other(e.to_string()));
    for (c, h) in [
        "统一社会信用代码",
        "单位名称",
        "法定代表人",
        "注册资本（万元）",
        "成立日期",
        "登记机关行政区划",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).map_err(xlsx_fail)?;
    }
    let mut statistics = String::from("统一社会信用代码,单位名称,法定代表人,从业人员数\n");
    const TRADES: [&str; 8] = [
        "商贸",
        "科技",
        "建筑",
        "餐饮",
        "物流",
        "文化传媒",
        "农业开发",
        "医药",
    ];
    for i in 0..size.entities {
        let division = PEOPLE_DIVISIONS[(i % 3) as usize];
        let code = DivisionCode::parse(division).expect("demo division");
        let credit =
            CreditCode::synthesize('9', '1', &code, 200_000 + i).expect("synthetic credit code");
        let mut credit_text = credit.as_str().to_string();
        if i % 499 == 3 {
            credit_text = format!("{}X", &credit_text[..17]);
        }
        let name = format!("云川{}{}有限公司", TRADES[(i % 8) as usize], i + 1);
        let representative = format!(
            "{}{}",
            SURNAMES[rng.gen_range(0..SURNAMES.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())]
        );
        let established = NaiveDate::from_ymd_opt(2000, 1, 1).expect("date")
            + Duration::days(i64::from(i % 9000));
        let row = i + 1;
        sheet
            .write_string(row, 0, &credit_text)
            .map_err(xlsx_fail)?;
        sheet.write_string(row, 1, &name).map_err(xlsx_fail)?;
        sheet
            .write_string(row, 2, &representative)
            .map_err(xlsx_fail)?;
        sheet
            .write_number(row, 3, f64::from(50 + (i % 100) * 10))
            .map_err(xlsx_fail)?;
        sheet
            .write_string(row, 4, established.format("%Y-%m-%d").to_string())
            .map_err(xlsx_fail)?;
        sheet.write_string(row, 5, division).map_err(xlsx_fail)?;
        if i % 10 < 7 {
            let reported = if i % 250 == 5 {
                format!(
                    "{}某",
                    &representative
                        .chars()
                        .next()
                        .map(String::from)
                        .unwrap_or_default()
                )
            } else {
                representative.clone()
            };
            statistics.push_str(&csv_line(&[
                credit.as_str(),
                &name,
                &reported,
                &(5 + i % 300).to_string(),
            ]));
        }
    }
    book.save(dir.join("entities.xlsx")).map_err(xlsx_fail)?;
    std::fs::write(dir.join("statistics.csv"), statistics).map_err(io_fail)?;
    Ok(())
}

/// COL-1, COL-9: registers the demo resources, delivers their files through the
/// loading pipeline, builds both base databases and cross-checks them.
pub async fn seed_data(app: &App, size: DemoSize) -> ServiceResult<DataSummary> {
    let ctx = Ctx::cli();
    let ids = crate::demo::demo_org_ids(app).await?;
    let entries = register_resources(app, &ctx, &ids).await?;
    let dir = std::env::temp_dir().join(format!("gongshu-demo-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).map_err(io_fail)?;
    let written = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || write_files(&dir, size))
            .await
            .map_err(|e| io_fail(std::io::Error::other(e.to_string())))?
    };
    let mut loads = Vec::new();
    let result: ServiceResult<()> = async {
        written?;
        let files: [(&str, &str, InputFormat, Option<TextEncoding>); 5] = [
            ("household", "household.csv", InputFormat::Csv, None),
            (
                "marriage",
                "marriage.csv",
                InputFormat::Csv,
                Some(TextEncoding::Gbk),
            ),
            ("insurance", "insurance.ndjson", InputFormat::Ndjson, None),
            ("entities", "entities.xlsx", InputFormat::Xlsx, None),
            ("statistics", "statistics.csv", InputFormat::Csv, None),
        ];
        for (key, file, format, encoding) in files {
            let entry = &entries[key];
            let mut opts = LoadOptions::new(Channel::Upload, format);
            opts.encoding = encoding;
            opts.file_name = Some(file.to_string());
            let load = datasets::load_file(app, &ctx, &entry.id, &dir.join(file), opts).await?;
            loads.push((entry.code.clone(), load.rows_accepted, load.rows_rejected));
        }
        // COL-4: so the freshness list has something to show, the demo dates
        // 人社局's monthly delivery 60 days back (marked in the audit record).
        backdate(app, &ctx, &entries["insurance"].id, 60).await?;
        for base in Base::ALL {
            governance::build_base(app, &ctx, base).await?;
        }
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    let discrepancies = app
        .data
        .count_discrepancies(&gongshu_store::DiscrepancyFilter::default())
        .await?;
    Ok(DataSummary {
        loads,
        resources: entries
            .iter()
            .map(|(k, e)| (k.to_string(), e.id.clone()))
            .collect(),
        discrepancies,
    })
}

/// Moves a resource's current load `days` into the past (demo only, audited).
async fn backdate(app: &App, ctx: &Ctx, resource_id: &str, days: i64) -> ServiceResult<()> {
    let Some(mut dataset) = app.data.get_dataset(resource_id).await? else {
        return Ok(());
    };
    let then = chrono::Utc::now() - Duration::days(days);
    let mut changes = Vec::new();
    if let Some(load_id) = &dataset.current_load_id {
        if let Some(mut load) = app.data.get_load(load_id).await? {
            load.finished_at = Some(then);
            changes.push(Change::PutLoad(load));
        }
    }
    let expected = dataset.version;
    dataset.version += 1;
    dataset.last_loaded_at = Some(then);
    changes.push(Change::PutDataset {
        dataset,
        expected_version: Some(expected),
    });
    let mut audit = ctx.audit("dataset.demo_backdate", "catalog_entry", resource_id);
    audit.after = crate::context::summary(&serde_json::json!({ "days": days, "demo": true }));
    app.store.commit(changes, vec![audit]).await?;
    Ok(())
}
