//! The demo catalog (CAT-1 … CAT-6): about 300 entries of the demo departments in
//! every lifecycle state, with a few deliberate one-source conflicts (CAT-3) and
//! authority reviews past their due day (CAT-2). All of it is synthetic.
use chrono::{DateTime, Duration, Utc};
use gongshu_domain::audit::truncate_to_micros;
use gongshu_domain::catalog::{
    self, Category, DataItem, Domain, EntryContent, FieldType, Grade, KeyRole, OpenReason,
    OpenType, ResourceFormat, Sensitivity, ShareMode, ShareType, Stage, UpdateFrequency,
};
use gongshu_store::{CatalogEntry, CatalogReview, Change};

use crate::context::{new_id, App, Ctx};
use crate::error::ServiceResult;

/// (department key, domain, subjects: each becomes a "…信息" entry)
const SUBJECTS: &[(&str, Domain, &[&str])] = &[
    (
        "psb",
        Domain::PublicSafety,
        &[
            "户籍登记",
            "户口迁移",
            "居民身份证办理",
            "流动人口登记",
            "暂住登记",
            "出入境证件办理",
            "机动车登记",
            "机动车驾驶人",
            "交通违法处理",
            "道路交通事故",
            "治安管理处罚",
            "旅馆业治安管理",
            "犯罪记录查询结果",
            "养犬登记",
            "印章刻制备案",
            "保安服务许可",
            "大型活动安全许可",
            "枪支管理",
            "剧毒化学品购买许可",
            "户籍人口统计",
            "新生儿入户",
            "死亡注销户口",
            "户口登记项目变更",
        ],
    ),
    (
        "civil",
        Domain::SocialSecurity,
        &[
            "婚姻登记",
            "离婚登记",
            "收养登记",
            "最低生活保障",
            "特困人员供养",
            "临时救助",
            "社会组织登记",
            "殡葬服务",
            "养老机构备案",
            "地名信息",
            "行政区划信息",
            "残疾人两项补贴",
            "孤儿基本生活保障",
            "困境儿童保障",
            "慈善组织认定",
            "居家养老服务补贴",
            "高龄津贴发放",
            "低收入人口认定",
            "村（居）委会换届",
            "婚姻登记员资格",
        ],
    ),
    (
        "market",
        Domain::MarketRegulation,
        &[
            "市场主体登记",
            "企业年度报告",
            "个体工商户登记",
            "食品经营许可",
            "食品生产许可",
            "特种设备使用登记",
            "工业产品生产许可",
            "计量器具检定",
            "商标质押登记",
            "动产抵押登记",
            "行政处罚决定",
            "经营异常名录",
            "严重违法失信名单",
            "药品零售许可",
            "医疗器械经营备案",
            "广告发布登记",
            "认证机构信息",
            "检验检测机构资质",
            "价格监测",
            "消费投诉举报",
        ],
    ),
    (
        "health",
        Domain::Health,
        &[
            "出生医学证明",
            "死亡医学证明",
            "医疗机构执业登记",
            "医师执业注册",
            "护士执业注册",
            "预防接种",
            "传染病报告",
            "居民健康档案",
            "家庭医生签约",
            "妇幼保健",
            "职业健康检查",
            "公共场所卫生许可",
            "放射诊疗许可",
            "母婴保健技术服务",
            "献血者信息",
            "院前急救",
            "健康体检机构备案",
            "计划生育特别扶助",
        ],
    ),
    (
        "education",
        Domain::Education,
        &[
            "中小学学籍",
            "学前教育机构",
            "民办学校办学许可",
            "教师资格认定",
            "学生资助",
            "义务教育招生入学",
            "高中阶段招生",
            "校外培训机构",
            "学校基本信息",
            "教育经费统计",
            "学生体质健康",
            "特殊教育学生",
            "普通话水平测试",
            "学历证书",
            "校车使用许可",
        ],
    ),
    (
        "resources",
        Domain::NaturalResources,
        &[
            "不动产登记",
            "国有建设用地使用权出让",
            "土地利用现状",
            "建设用地规划许可",
            "建设工程规划许可",
            "基本农田保护",
            "地质灾害隐患点",
            "矿业权登记",
            "测绘成果",
            "地名地址",
            "国土空间规划",
            "林权登记",
            "土地征收",
            "耕地占补平衡",
            "基础测绘",
        ],
    ),
    (
        "hrss",
        Domain::SocialSecurity,
        &[
            "社会保险参保登记",
            "养老保险缴费",
            "失业保险待遇",
            "工伤认定",
            "就业登记",
            "失业登记",
            "职业技能等级证书",
            "劳动合同备案",
            "劳动保障监察",
            "人才引进",
            "事业单位公开招聘",
            "社会保障卡",
            "专业技术职称",
            "劳务派遣许可",
            "人力资源服务许可",
            "用人单位参保",
        ],
    ),
    (
        "housing",
        Domain::GovernmentServices,
        &[
            "商品房预售许可",
            "商品房买卖合同备案",
            "建筑业企业资质",
            "施工许可",
            "住房公积金缴存",
            "公共租赁住房保障",
            "物业服务企业",
            "房屋安全鉴定",
            "建设工程竣工验收备案",
            "城镇老旧小区改造",
            "白蚁防治",
            "燃气经营许可",
            "二手房交易",
        ],
    ),
    (
        "transport",
        Domain::Transport,
        &[
            "道路运输经营许可",
            "营运车辆",
            "网约车驾驶员证",
            "出租汽车经营",
            "公交线路",
            "公路路网",
            "桥梁隧道",
            "港口经营许可",
            "船舶登记",
            "交通建设项目",
            "超限运输许可",
            "驾驶员培训机构",
            "客运站场",
        ],
    ),
    (
        "ecology",
        Domain::Environment,
        &[
            "排污许可",
            "环境影响评价审批",
            "空气质量监测",
            "地表水水质监测",
            "污染源在线监测",
            "危险废物经营许可",
            "辐射安全许可",
            "环境行政处罚",
            "土壤污染状况",
            "噪声监测",
            "突发环境事件",
            "机动车排放检验",
        ],
    ),
    (
        "stats",
        Domain::MacroEconomy,
        &[
            "地区生产总值",
            "规模以上工业",
            "固定资产投资",
            "社会消费品零售总额",
            "居民消费价格指数",
            "人口抽样调查",
            "农业统计",
            "服务业统计",
            "能源消费统计",
            "居民收支调查",
            "经济普查",
            "统计单位名录",
        ],
    ),
    (
        "medical",
        Domain::Health,
        &[
            "医疗保险参保",
            "医保定点医药机构",
            "医保结算",
            "医疗救助",
            "异地就医备案",
            "门诊慢特病认定",
            "医保目录",
            "药品集中采购",
            "医保基金监管",
            "长期护理保险",
        ],
    ),
    (
        "water",
        Domain::GovernmentServices,
        &[
            "供水用户",
            "用水量",
            "水质检测",
            "供水管网",
            "停水通知",
            "水费缴纳",
        ],
    ),
    (
        "power",
        Domain::GovernmentServices,
        &["用电户", "用电量", "电力接入申请", "停电计划", "电费缴纳"],
    ),
    (
        "hospital",
        Domain::Health,
        &[
            "门诊就诊记录",
            "住院病案首页",
            "检验检查报告",
            "电子处方",
            "医疗服务价格",
        ],
    ),
    (
        "donghu_civil",
        Domain::SocialSecurity,
        &["社区养老服务", "社区网格人员", "城乡社区服务站"],
    ),
    (
        "qingshan_market",
        Domain::MarketRegulation,
        &["农贸市场", "小作坊登记", "食品摊贩备案"],
    ),
];

/// (name, code name, type, length, sensitive, meaning) of the items entries draw from.
type PoolItem = (
    &'static str,
    &'static str,
    FieldType,
    Option<u32>,
    bool,
    &'static str,
);

const ITEM_POOL: &[PoolItem] = &[
    (
        "姓名",
        "person_name",
        FieldType::String,
        Some(50),
        true,
        "自然人姓名",
    ),
    (
        "性别",
        "sex",
        FieldType::String,
        Some(2),
        false,
        "GB/T 2261.1",
    ),
    (
        "出生日期",
        "birth_date",
        FieldType::Date,
        None,
        true,
        "公历出生日期",
    ),
    (
        "民族",
        "ethnicity",
        FieldType::String,
        Some(20),
        false,
        "GB/T 3304",
    ),
    (
        "联系电话",
        "phone",
        FieldType::String,
        Some(20),
        true,
        "手机号码",
    ),
    (
        "住址",
        "address",
        FieldType::String,
        Some(200),
        true,
        "现居住地址",
    ),
    (
        "办理日期",
        "handled_on",
        FieldType::Date,
        None,
        false,
        "业务办结日期",
    ),
    (
        "办理机构",
        "handled_by",
        FieldType::String,
        Some(100),
        false,
        "承办机构名称",
    ),
    (
        "证件编号",
        "certificate_no",
        FieldType::String,
        Some(50),
        false,
        "证照编号",
    ),
    (
        "有效期至",
        "valid_until",
        FieldType::Date,
        None,
        false,
        "证照有效期截止日",
    ),
    (
        "状态",
        "status",
        FieldType::String,
        Some(20),
        false,
        "业务状态",
    ),
    (
        "金额",
        "amount",
        FieldType::Number,
        None,
        false,
        "金额（元）",
    ),
    (
        "数量",
        "quantity",
        FieldType::Integer,
        None,
        false,
        "计量数量",
    ),
    (
        "所属区划",
        "division",
        FieldType::String,
        Some(12),
        false,
        "GB/T 2260 行政区划代码",
    ),
    (
        "统计期",
        "period",
        FieldType::String,
        Some(10),
        false,
        "统计报告期",
    ),
    (
        "备注",
        "remarks",
        FieldType::String,
        Some(500),
        false,
        "其他说明",
    ),
];

const DEPARTMENT_PEOPLE: &[&str] = &[
    "psb",
    "civil",
    "health",
    "education",
    "hrss",
    "medical",
    "hospital",
    "donghu_civil",
];

fn item(
    name: &str,
    code: &str,
    t: FieldType,
    len: Option<u32>,
    sensitive: bool,
    meaning: &str,
    key: KeyRole,
) -> DataItem {
    DataItem {
        name: name.into(),
        code_name: code.into(),
        field_type: t,
        length: len,
        meaning: meaning.into(),
        sensitive,
        key_role: key,
        element_code: None,
        constraints: Default::default(),
    }
}

/// Deliberate CAT-3 conflicts: a base datum some department also registers.
const MARRIAGE_STATUS: (&str, &str, &str) = ("婚姻状况", "marital_status", "婚姻登记状态");
const LEGAL_REPRESENTATIVE: (&str, &str, &str) = (
    "法定代表人",
    "legal_representative",
    "市场主体登记的法定代表人",
);

fn content_for(
    name: &str,
    category: Category,
    domain: Domain,
    source_org_id: &str,
    seed: usize,
    extra: &[DataItem],
) -> EntryContent {
    let about_people = seed % 3 != 2;
    let mut items = vec![if about_people {
        item(
            "公民身份号码",
            "citizen_id",
            FieldType::String,
            Some(18),
            true,
            "GB 11643",
            KeyRole::CitizenId,
        )
    } else {
        item(
            "统一社会信用代码",
            "credit_code",
            FieldType::String,
            Some(18),
            false,
            "GB 32100",
            KeyRole::CreditCode,
        )
    }];
    let n = 3 + seed % 4;
    for k in 0..n {
        let (name, code, t, len, sensitive, meaning) =
            ITEM_POOL[(seed * 7 + k * 5) % ITEM_POOL.len()];
        if items.iter().any(|i| i.code_name == code) {
            continue;
        }
        // Each department's own wording: the same column name, another meaning, is another datum.
        let meaning = format!("{meaning}（{name}，{}）", domain.label_zh());
        items.push(item(name, code, t, len, sensitive, &meaning, KeyRole::None));
    }
    items.extend_from_slice(extra);
    let share_type = match seed % 7 {
        0 | 3 => ShareType::Conditional,
        5 => ShareType::NotShared,
        _ => ShareType::Unconditional,
    };
    let open_type = match (share_type, seed % 5) {
        (ShareType::NotShared, _) => OpenType::NotOpen,
        (_, 0) => OpenType::Unconditional,
        (_, 1) => OpenType::Conditional,
        _ => OpenType::NotOpen,
    };
    let grade = match seed % 11 {
        0 => Grade::Important,
        _ => Grade::General,
    };
    EntryContent {
        name: name.into(),
        summary: format!(
            "{}依法履职中产生的{}，按目录要求汇聚、共享。",
            domain.label_zh(),
            name
        ),
        category,
        domain,
        format: [
            ResourceFormat::Database,
            ResourceFormat::Spreadsheet,
            ResourceFormat::ServiceInterface,
        ][seed % 3],
        source_org_id: source_org_id.into(),
        providing_org_id: None,
        approving_department: String::new(),
        co_builder_org_ids: Vec::new(),
        items,
        share_type,
        share_conditions: if share_type == ShareType::Conditional {
            "仅限履行法定职责所必需，按最少够用原则申请".into()
        } else {
            String::new()
        },
        share_scope: "本级及下级政务部门".into(),
        share_modes: if share_type == ShareType::NotShared {
            Vec::new()
        } else {
            vec![ShareMode::Api, ShareMode::PageQuery]
        },
        legal_basis: if share_type == ShareType::Unconditional {
            String::new()
        } else {
            "《示范省公共数据条例》（合成）第十二条".into()
        },
        open_type,
        open_conditions: if open_type == OpenType::Conditional {
            "签订数据利用协议".into()
        } else {
            String::new()
        },
        open_reason: match open_type {
            OpenType::Conditional => Some(OpenReason::HighBenefitHighRisk),
            OpenType::NotOpen if share_type == ShareType::NotShared => Some(OpenReason::LawForbids),
            OpenType::NotOpen => Some(OpenReason::PrivacyWithoutConsent),
            OpenType::Unconditional => None,
        },
        open_basis: match open_type {
            OpenType::Conditional => "经开放前风险评估，须限定用途并签订协议（合成）".into(),
            OpenType::NotOpen if share_type != ShareType::NotShared => {
                "含个人信息或业务敏感信息".into()
            }
            _ => String::new(),
        },
        update_frequency: [
            UpdateFrequency::RealTime,
            UpdateFrequency::Daily,
            UpdateFrequency::Monthly,
            UpdateFrequency::Quarterly,
            UpdateFrequency::Yearly,
        ][seed % 5],
        timeliness: "变更后 1 个工作日内更新".into(),
        grade,
        sensitivity: (grade == Grade::General)
            .then_some([Sensitivity::L1, Sensitivity::L2, Sensitivity::L3][seed % 3]),
        classified: false,
        release_date: None,
        related_codes: Vec::new(),
    }
}

/// Where a seeded entry stands.
#[derive(Clone, Copy)]
enum Seeded {
    Published,
    Draft,
    DepartmentReview,
    AuthorityReview { overdue: bool },
    PublishedWithRevision,
    Offline,
}

fn state_for(i: usize) -> Seeded {
    match i % 20 {
        0..=10 => Seeded::Published,
        11 | 12 => Seeded::Draft,
        13 | 14 => Seeded::DepartmentReview,
        15 => Seeded::AuthorityReview { overdue: true },
        16 | 17 => Seeded::AuthorityReview { overdue: false },
        18 => Seeded::PublishedWithRevision,
        _ => Seeded::Offline,
    }
}

fn entry_row(
    app: &App,
    code: String,
    owner: &str,
    content: EntryContent,
    state: Seeded,
    now: DateTime<Utc>,
) -> ServiceResult<CatalogEntry> {
    let created = now - Duration::days(40);
    let today = crate::catalog::today_in_china(now);
    let mut e = CatalogEntry {
        id: new_id(),
        code,
        owner_org_id: owner.into(),
        category: content.category.key().into(),
        domain: content.domain.key().into(),
        name: content.name.clone(),
        source_org_id: content.source_org_id.clone(),
        share_type: content.share_type.key().into(),
        open_type: content.open_type.key().into(),
        published: None,
        published_version: 0,
        published_at: None,
        offline: false,
        offline_reason: None,
        offline_at: None,
        working: None,
        stage: None,
        registrar_user_id: None,
        department_reviewer_user_id: None,
        submitted_at: None,
        authority_due: None,
        return_reason: None,
        mounted: false,
        overdue_since: None,
        created_at: created,
        updated_at: now,
    };
    let published = |e: &mut CatalogEntry, c: EntryContent| {
        e.published = Some(c);
        e.published_version = 1;
        e.published_at = Some(created + Duration::days(7));
    };
    match state {
        Seeded::Published => published(&mut e, content),
        Seeded::Draft => {
            e.working = Some(content);
            e.stage = Some(Stage::Draft.key().into());
        }
        Seeded::DepartmentReview => {
            e.working = Some(content);
            e.stage = Some(Stage::DepartmentReview.key().into());
            e.submitted_at = Some(now - Duration::days(2));
        }
        Seeded::AuthorityReview { overdue } => {
            e.working = Some(content);
            e.stage = Some(Stage::AuthorityReview.key().into());
            e.submitted_at = Some(now - Duration::days(if overdue { 20 } else { 1 }));
            e.authority_due = Some(if overdue {
                today - Duration::days(8)
            } else {
                app.deadlines
                    .due(
                        &app.calendar,
                        gongshu_domain::deadlines::DeadlineKind::CatalogAuthorityReview,
                        today,
                    )
                    .map_err(crate::ServiceError::from_calendar)?
            });
        }
        Seeded::PublishedWithRevision => {
            let mut revised = content.clone();
            revised.summary.push_str("（修订：补充数据项说明）");
            published(&mut e, content);
            e.working = Some(revised);
            e.stage = Some(Stage::Draft.key().into());
        }
        Seeded::Offline => {
            published(&mut e, content);
            e.offline = true;
            e.offline_reason = Some("数源部门职能调整，资源停止提供".into());
            e.offline_at = Some(now - Duration::days(3));
        }
    }
    Ok(e)
}

/// Seeds the demo catalog in one transaction; `id_of` maps a department key to its id.
pub async fn seed_catalog(
    app: &App,
    ctx: &Ctx,
    id_of: &(dyn Fn(&str) -> String + Sync),
) -> ServiceResult<usize> {
    let now = truncate_to_micros(Utc::now());
    let mut sequences: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut next_code = |category: Category, domain: Domain| {
        let seq = sequences
            .entry(catalog::resource_code_prefix(category, domain))
            .or_insert(0);
        *seq += 1;
        catalog::resource_code(category, domain, *seq)
    };
    let mut rows = Vec::new();
    let authority = id_of("authority");
    let (marriage, representative) = (MARRIAGE_STATUS, LEGAL_REPRESENTATIVE);
    let marriage_item = item(
        marriage.0,
        marriage.1,
        FieldType::String,
        Some(10),
        true,
        marriage.2,
        KeyRole::None,
    );
    let representative_item = item(
        representative.0,
        representative.1,
        FieldType::String,
        Some(50),
        true,
        representative.2,
        KeyRole::None,
    );
    // CAT-4: the authority's base catalogs, each datum with its source department.
    let bases: [(&str, Domain, &str, Vec<DataItem>); 5] = [
        (
            "人口基础信息",
            Domain::Population,
            "psb",
            vec![marriage_item.clone()],
        ),
        (
            "法人单位基础信息",
            Domain::LegalEntity,
            "market",
            vec![representative_item.clone()],
        ),
        (
            "自然资源和空间地理基础信息",
            Domain::NaturalResources,
            "resources",
            vec![],
        ),
        ("电子证照基础信息", Domain::ELicence, "authority", vec![]),
        ("宏观经济基础信息", Domain::MacroEconomy, "stats", vec![]),
    ];
    for (i, (name, domain, source, extra)) in bases.into_iter().enumerate() {
        let content = content_for(name, Category::Base, domain, &id_of(source), i, &extra);
        rows.push(entry_row(
            app,
            next_code(Category::Base, domain),
            &authority,
            content,
            Seeded::Published,
            now,
        )?);
    }
    // CAT-3: departments that also register base data as their own → conflicts.
    let conflicting: [(&str, &str, Domain, &DataItem); 2] = [
        (
            "civil",
            "婚姻登记结果信息",
            Domain::SocialSecurity,
            &marriage_item,
        ),
        (
            "hrss",
            "用人单位法定代表人信息",
            Domain::SocialSecurity,
            &representative_item,
        ),
    ];
    for (i, (dept, name, domain, extra)) in conflicting.into_iter().enumerate() {
        let content = content_for(
            name,
            Category::Business,
            domain,
            &id_of(dept),
            100 + i,
            std::slice::from_ref(extra),
        );
        rows.push(entry_row(
            app,
            next_code(Category::Business, domain),
            &id_of(dept),
            content,
            Seeded::Published,
            now,
        )?);
    }
    // A theme catalog led by health with medical security as co-builder.
    let mut theme = content_for(
        "出生一件事主题信息",
        Category::Theme,
        Domain::Health,
        &id_of("health"),
        7,
        &[],
    );
    theme.co_builder_org_ids = vec![id_of("medical"), id_of("psb")];
    rows.push(entry_row(
        app,
        next_code(Category::Theme, Domain::Health),
        &id_of("health"),
        theme,
        Seeded::Published,
        now,
    )?);

    let mut i = 0;
    for (dept, domain, subjects) in SUBJECTS {
        let org = id_of(dept);
        for subject in *subjects {
            let domain = if DEPARTMENT_PEOPLE.contains(dept) && subject.contains("人口") {
                Domain::Population
            } else {
                *domain
            };
            let content = content_for(
                &format!("{subject}信息"),
                Category::Business,
                domain,
                &org,
                i,
                &[],
            );
            rows.push(entry_row(
                app,
                next_code(Category::Business, domain),
                &org,
                content,
                state_for(i),
                now,
            )?);
            i += 1;
        }
    }
    // County-level departments catalog the same kinds of data for their own level.
    for (county_dept, parent, prefix) in [
        ("donghu_psb", "psb", "东湖分局"),
        ("donghu_civil", "civil", "东湖区"),
        ("qingshan_market", "market", "青山县"),
        ("qingshan_health", "health", "青山县"),
    ] {
        let org = id_of(county_dept);
        let Some((_, domain, subjects)) = SUBJECTS.iter().find(|s| s.0 == parent) else {
            continue;
        };
        for subject in subjects.iter().take(20) {
            let content = content_for(
                &format!("{prefix}{subject}信息"),
                Category::Business,
                *domain,
                &org,
                i,
                &[],
            );
            rows.push(entry_row(
                app,
                next_code(Category::Business, *domain),
                &org,
                content,
                state_for(i),
                now,
            )?);
            i += 1;
        }
    }
    let count = rows.len();
    let mut changes = Vec::with_capacity(count * 2);
    let mut audits = Vec::with_capacity(count);
    for row in rows {
        let mut audit = ctx.audit("catalog.create", "catalog_entry", &row.id);
        audit.after = crate::context::summary(
            &serde_json::json!({"code": row.code, "name": row.name, "demo": true}),
        );
        let review = CatalogReview {
            id: new_id(),
            entry_id: row.id.clone(),
            action: "create".into(),
            actor_user_id: None,
            actor: ctx.principal.actor.clone(),
            reason: Some("演示数据（合成）/ synthetic demo data".into()),
            at: now,
        };
        changes.push(Change::InsertCatalogEntry(row));
        changes.push(Change::InsertCatalogReview(review));
        audits.push(audit);
    }
    app.store.commit(changes, audits).await?;
    Ok(count)
}

/// Publishes an entry without review, for the demo and tests only: the next free
/// code of its category and domain, with its audit record.
pub async fn publish_for_demo(
    app: &App,
    ctx: &Ctx,
    owner: &str,
    content: EntryContent,
) -> ServiceResult<CatalogEntry> {
    let prefix = catalog::resource_code_prefix(content.category, content.domain);
    let last = app.store.last_catalog_code(&prefix).await?;
    let next = last
        .and_then(|c| c.rsplit('-').next().and_then(|s| s.parse::<u32>().ok()))
        .unwrap_or(0)
        + 1;
    let code = catalog::resource_code(content.category, content.domain, next);
    let now = truncate_to_micros(Utc::now());
    let row = entry_row(app, code, owner, content, Seeded::Published, now)?;
    let mut audit = ctx.audit("catalog.create", "catalog_entry", &row.id);
    audit.after = crate::context::summary(
        &serde_json::json!({"code": row.code, "name": row.name, "demo": true}),
    );
    app.store
        .commit(vec![Change::InsertCatalogEntry(row.clone())], vec![audit])
        .await?;
    Ok(row)
}
