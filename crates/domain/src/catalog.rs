//! CAT-1 … CAT-9: catalog entries (公共数据资源目录), the rules checked when one is
//! saved, and the lifecycle of its review.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::org::labelled_enum;

labelled_enum! {
    /// CAT-1, CAT-4: the four catalog categories (JY 8, XJ 8).
    Category {
        Base => "base", "基础", "Base";
        Theme => "theme", "主题", "Theme";
        Special => "special", "专题", "Special";
        Business => "business", "业务", "Business";
    }
}

impl Category {
    /// The leading digit of a resource code.
    pub fn code_digit(&self) -> char {
        match self {
            Category::Base => '1',
            Category::Theme => '2',
            Category::Special => '3',
            Category::Business => '4',
        }
    }
}

labelled_enum! {
    /// CAT-1: the field of government a resource serves. The first five are the base
    /// catalogs CAT-4 gives to the data authority.
    Domain {
        Population => "population", "人口", "Population";
        LegalEntity => "legal_entity", "法人", "Legal entities";
        NaturalResources => "natural_resources", "自然资源和空间地理", "Natural resources and geography";
        ELicence => "e_licence", "电子证照", "E-licences";
        MacroEconomy => "macro_economy", "宏观经济", "Macro-economy";
        SocialSecurity => "social_security", "社会保障", "Social security";
        Health => "health", "医疗卫生", "Health";
        Education => "education", "教育文化", "Education and culture";
        MarketRegulation => "market_regulation", "市场监管", "Market regulation";
        Transport => "transport", "交通运输", "Transport";
        Environment => "environment", "生态环境", "Environment";
        PublicSafety => "public_safety", "公共安全", "Public safety";
        Agriculture => "agriculture", "农业农村", "Agriculture and rural affairs";
        Meteorology => "meteorology", "气象", "Meteorology";
        GovernmentServices => "government_services", "政务服务", "Government services";
    }
}

impl Domain {
    /// Two digits of a resource code, 01 … 15.
    pub fn code(&self) -> u8 {
        Domain::ALL.iter().position(|d| d == self).unwrap_or(0) as u8 + 1
    }
}

labelled_enum! {
    /// CAT-1: how the resource is kept.
    ResourceFormat {
        ElectronicFile => "electronic_file", "电子文件", "Electronic file";
        Spreadsheet => "spreadsheet", "电子表格", "Spreadsheet";
        Database => "database", "数据库", "Database";
        Image => "image", "图形图像", "Image";
        Stream => "stream", "流媒体", "Stream";
        SelfDescribing => "self_describing", "自描述格式", "Self-describing";
        ServiceInterface => "service_interface", "服务接口", "Service interface";
    }
}

labelled_enum! {
    /// CAT-1, CAT-8: share type (JY 21, XJ 19, HZ 13).
    ShareType {
        Unconditional => "unconditional", "无条件共享", "Unconditional sharing";
        Conditional => "conditional", "有条件共享", "Conditional sharing";
        NotShared => "not_shared", "不予共享", "Not shared";
    }
}

labelled_enum! {
    /// CAT-1: how a consumer may receive shared data.
    ShareMode {
        Api => "api", "接口调用", "API";
        Download => "download", "文件下载", "Download";
        PageQuery => "page_query", "页面查询", "Page query";
    }
}

labelled_enum! {
    /// CAT-1: open type (OPN-1).
    OpenType {
        Unconditional => "unconditional", "无条件开放", "Unconditional opening";
        Conditional => "conditional", "有条件开放", "Conditional opening";
        NotOpen => "not_open", "不予开放", "Not open";
    }
}

labelled_enum! {
    /// OPN-1: why a resource is not open (HZ 32 (一)–(五)) or open only on conditions
    /// (HZ 33 (一)–(四)); everything else is open without conditions (HZ 34).
    OpenReason {
        StateSecret => "state_secret", "依法确定为国家秘密（HZ 32 一）", "A state secret under law (HZ 32(1))";
        SecurityRisk => "security_risk", "开放后可能危及国家安全、公共安全、经济安全和社会稳定（HZ 32 二）", "Opening may endanger national, public or economic security or social stability (HZ 32(2))";
        PrivacyWithoutConsent => "privacy_without_consent", "涉及商业秘密、个人隐私，数据主体未同意开放（HZ 32 三）", "Trade secrets or privacy, and the subjects have not consented (HZ 32(3))";
        AgreementOrIp => "agreement_or_ip", "因数据获取协议或知识产权保护禁止开放（HZ 32 四）", "Forbidden by the acquisition agreement or intellectual property (HZ 32(4))";
        LawForbids => "law_forbids", "法律、法规、规章规定不得开放或应通过其他途径获取（HZ 32 五）", "Law forbids opening, or requires another channel (HZ 32(5))";
        SubjectConsented => "subject_consented", "涉及商业秘密、个人隐私，数据主体同意开放且法律法规未禁止（HZ 33 一）", "Trade secrets or privacy, the subjects consent and no law forbids (HZ 33(1))";
        HeavyLoad => "heavy_load", "无条件开放将严重挤占公共数据基础设施资源（HZ 33 二）", "Opening without conditions would overload the public data infrastructure (HZ 33(2))";
        HighBenefitHighRisk => "high_benefit_high_risk", "预计经济社会效益特别显著，但现阶段安全风险需审慎评估（HZ 33 三）", "Particularly high expected benefit, but the security risk needs careful assessment for now (HZ 33(3))";
        LawRequiresConditions => "law_requires_conditions", "法律、法规认定应当有条件开放（HZ 33 四）", "Law requires opening on conditions (HZ 33(4))";
    }
}

impl OpenReason {
    /// The open type this reason justifies.
    pub fn open_type(&self) -> OpenType {
        match self {
            OpenReason::StateSecret
            | OpenReason::SecurityRisk
            | OpenReason::PrivacyWithoutConsent
            | OpenReason::AgreementOrIp
            | OpenReason::LawForbids => OpenType::NotOpen,
            _ => OpenType::Conditional,
        }
    }
}

labelled_enum! {
    /// CAT-1: update frequency.
    UpdateFrequency {
        RealTime => "real_time", "实时", "Real time";
        Daily => "daily", "每日", "Daily";
        Weekly => "weekly", "每周", "Weekly";
        Monthly => "monthly", "每月", "Monthly";
        Quarterly => "quarterly", "每季度", "Quarterly";
        HalfYearly => "half_yearly", "每半年", "Half-yearly";
        Yearly => "yearly", "每年", "Yearly";
        Other => "other", "其他", "Other";
    }
}

labelled_enum! {
    /// CAT-1: data classification and grade (数据分类分级).
    Grade {
        Core => "core", "核心数据", "Core data";
        Important => "important", "重要数据", "Important data";
        General => "general", "一般数据", "General data";
    }
}

labelled_enum! {
    /// The sensitivity levels provinces split general data into.
    Sensitivity {
        L1 => "l1", "一级（公开）", "L1 (public)";
        L2 => "l2", "二级（内部）", "L2 (internal)";
        L3 => "l3", "三级（敏感）", "L3 (sensitive)";
        L4 => "l4", "四级（较敏感）", "L4 (highly sensitive)";
    }
}

labelled_enum! {
    /// The type of a data item's values.
    FieldType {
        String => "string", "字符型", "Text";
        Integer => "integer", "整数型", "Integer";
        Number => "number", "数值型", "Number";
        Date => "date", "日期型", "Date";
        DateTime => "datetime", "日期时间型", "Date and time";
        Boolean => "boolean", "布尔型", "Boolean";
        Binary => "binary", "二进制", "Binary";
    }
}

labelled_enum! {
    /// What a data item identifies, so that records can be linked and checked.
    KeyRole {
        None => "none", "无", "None";
        CitizenId => "citizen_id", "公民身份号码", "Citizen ID number";
        CreditCode => "credit_code", "统一社会信用代码", "Unified social credit code";
        DivisionCode => "division_code", "行政区划代码", "Division code";
        RecordKey => "record_key", "记录主键", "Record key";
    }
}

/// CAT-1: one data item (信息项) of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataItem {
    pub name: String,
    /// Column name in the mounted data: ASCII letters, digits and `_`.
    pub code_name: String,
    pub field_type: FieldType,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub meaning: String,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default = "no_key_role")]
    pub key_role: KeyRole,
    /// Standard data element code, when the item follows one.
    #[serde(default)]
    pub element_code: Option<String>,
    /// COL-3: what every delivered value of the item must satisfy.
    #[serde(default, skip_serializing_if = "ItemConstraints::is_empty")]
    pub constraints: ItemConstraints,
}

/// COL-3: the constraints a data item puts on delivered values, beyond its type,
/// length and key role (Frictionless Table Schema `constraints`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemConstraints {
    /// A value must be present.
    #[serde(default)]
    pub required: bool,
    /// A regular expression the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The only values allowed (code lists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    /// Smallest allowed number (integer and number items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// Largest allowed number (integer and number items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
}

impl ItemConstraints {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

fn no_key_role() -> KeyRole {
    KeyRole::None
}

/// CAT-1: everything a department fills in for a catalog entry. The organisations
/// (source, providing, co-builders) are organisation ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryContent {
    pub name: String,
    pub summary: String,
    pub category: Category,
    pub domain: Domain,
    pub format: ResourceFormat,
    /// 数源部门: the department that legally produces the data.
    pub source_org_id: String,
    /// 提供部门: the department that provides it (usually the source).
    #[serde(default)]
    pub providing_org_id: Option<String>,
    /// The body that approved the entry's collection or publication, as written.
    #[serde(default)]
    pub approving_department: String,
    /// CAT-4: co-builders of a theme or special catalog.
    #[serde(default)]
    pub co_builder_org_ids: Vec<String>,
    pub items: Vec<DataItem>,
    pub share_type: ShareType,
    #[serde(default)]
    pub share_conditions: String,
    #[serde(default)]
    pub share_scope: String,
    #[serde(default)]
    pub share_modes: Vec<ShareMode>,
    /// CAT-8: the law, regulation or policy a conditional or not-shared entry rests on.
    #[serde(default)]
    pub legal_basis: String,
    pub open_type: OpenType,
    #[serde(default)]
    pub open_conditions: String,
    /// OPN-1 (HZ 32, HZ 33): the criterion a conditional or not-open entry meets.
    #[serde(default)]
    pub open_reason: Option<OpenReason>,
    /// The basis given to the authority for a conditional or not-open entry.
    #[serde(default)]
    pub open_basis: String,
    pub update_frequency: UpdateFrequency,
    /// How fresh the data is kept, in words (e.g. 变更后 1 个工作日内).
    #[serde(default)]
    pub timeliness: String,
    pub grade: Grade,
    /// Required for general data, not allowed for core or important data.
    #[serde(default)]
    pub sensitivity: Option<Sensitivity>,
    /// CAT-9: a department marking its data as classified (涉密) is refused.
    #[serde(default)]
    pub classified: bool,
    #[serde(default)]
    pub release_date: Option<NaiveDate>,
    #[serde(default)]
    pub related_codes: Vec<String>,
}

/// A rule an entry breaks, tied to the field a form shows it next to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// `legal_basis`, `items[2].code_name`, …
    pub field: String,
    /// Stable code, e.g. `catalog.legal_basis_required`.
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code,
            message_zh: zh.into(),
            message_en: en.into(),
        }
    }
}

const NAME_MAX: usize = 100;
const SUMMARY_MAX: usize = 2000;

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn valid_code_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

/// CAT-1, CAT-8, CAT-9: every rule a saved entry must meet. Returns all the
/// violations at once, so a form can show each next to its field.
pub fn check_entry(e: &EntryContent) -> Vec<FieldError> {
    let mut out = Vec::new();
    if e.classified {
        out.push(FieldError::new(
            "classified",
            "catalog.classified_refused",
            "涉密数据不得编入公共数据资源目录（XJ 12），请按保密规定另行管理",
            "classified data may not enter the public data catalog (XJ 12); keep it under the secrecy rules",
        ));
    }
    let name_len = e.name.trim().chars().count();
    if name_len == 0 {
        out.push(FieldError::new(
            "name",
            "catalog.name_required",
            "请填写资源名称",
            "the resource name is required",
        ));
    } else if name_len > NAME_MAX {
        out.push(FieldError::new(
            "name",
            "catalog.name_too_long",
            format!("资源名称不能超过 {NAME_MAX} 个字"),
            format!("the resource name may have at most {NAME_MAX} characters"),
        ));
    }
    if blank(&e.summary) {
        out.push(FieldError::new(
            "summary",
            "catalog.summary_required",
            "请填写资源摘要",
            "the summary is required",
        ));
    } else if e.summary.chars().count() > SUMMARY_MAX {
        out.push(FieldError::new(
            "summary",
            "catalog.summary_too_long",
            format!("资源摘要不能超过 {SUMMARY_MAX} 个字"),
            format!("the summary may have at most {SUMMARY_MAX} characters"),
        ));
    }
    if blank(&e.source_org_id) {
        out.push(FieldError::new(
            "source_org_id",
            "catalog.source_required",
            "请选择数源部门",
            "the source department is required",
        ));
    }
    check_items(&e.items, &mut out);
    match e.share_type {
        ShareType::Conditional => {
            if blank(&e.legal_basis) {
                out.push(FieldError::new(
                    "legal_basis",
                    "catalog.legal_basis_required",
                    "有条件共享的资源必须写明法律、法规或政策依据（JY 21）",
                    "a conditionally shared resource must state its legal basis (JY 21)",
                ));
            }
            if blank(&e.share_conditions) {
                out.push(FieldError::new(
                    "share_conditions",
                    "catalog.share_conditions_required",
                    "有条件共享的资源必须写明共享条件（JY 21）",
                    "a conditionally shared resource must state its share conditions (JY 21)",
                ));
            }
        }
        ShareType::NotShared => {
            if blank(&e.legal_basis) {
                out.push(FieldError::new(
                    "legal_basis",
                    "catalog.legal_basis_required",
                    "不予共享的资源必须写明法律、法规或政策依据（JY 21）",
                    "a resource that is not shared must state its legal basis (JY 21)",
                ));
            }
            if e.open_type != OpenType::NotOpen {
                out.push(FieldError::new(
                    "open_type",
                    "catalog.not_shared_not_open",
                    "不予共享的资源不能向社会开放",
                    "a resource that is not shared cannot be open to the public",
                ));
            }
        }
        ShareType::Unconditional => {}
    }
    if e.share_type != ShareType::NotShared && e.share_modes.is_empty() {
        out.push(FieldError::new(
            "share_modes",
            "catalog.share_modes_required",
            "请选择至少一种共享方式",
            "choose at least one share mode",
        ));
    }
    match e.open_type {
        OpenType::Conditional if blank(&e.open_conditions) => out.push(FieldError::new(
            "open_conditions",
            "catalog.open_conditions_required",
            "有条件开放的资源必须写明开放条件",
            "a conditionally open resource must state its open conditions",
        )),
        OpenType::NotOpen if e.share_type != ShareType::NotShared && blank(&e.open_basis) => out
            .push(FieldError::new(
                "open_basis",
                "catalog.open_basis_required",
                "不予开放的资源必须写明不予开放的依据",
                "a resource that is not open must state why",
            )),
        _ => {}
    }
    out.extend(open_reason_problems(e));
    match (e.grade, e.sensitivity) {
        (Grade::General, None) => out.push(FieldError::new(
            "sensitivity",
            "catalog.sensitivity_required",
            "一般数据须标明敏感级别（一级至四级）",
            "general data needs a sensitivity level (L1–L4)",
        )),
        (Grade::Core | Grade::Important, Some(_)) => out.push(FieldError::new(
            "sensitivity",
            "catalog.sensitivity_only_general",
            "敏感级别只适用于一般数据",
            "sensitivity levels apply to general data only",
        )),
        _ => {}
    }
    if e.co_builder_org_ids.iter().any(|c| c == &e.source_org_id) {
        out.push(FieldError::new(
            "co_builder_org_ids",
            "catalog.co_builder_is_source",
            "共建部门不能与数源部门相同",
            "a co-builder cannot be the source department itself",
        ));
    }
    out
}

fn check_items(items: &[DataItem], out: &mut Vec<FieldError>) {
    if items.is_empty() {
        out.push(FieldError::new(
            "items",
            "catalog.items_required",
            "请至少登记一个信息项",
            "register at least one data item",
        ));
    }
    let mut names = std::collections::HashSet::new();
    let mut code_names = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let at = |f: &str| format!("items[{i}].{f}");
        let n = i + 1;
        if blank(&item.name) {
            out.push(FieldError::new(
                at("name"),
                "catalog.item_name_required",
                format!("第 {n} 个信息项缺少名称"),
                format!("data item {n} has no name"),
            ));
        } else if !names.insert(normalise_item_name(&item.name)) {
            out.push(FieldError::new(
                at("name"),
                "catalog.item_name_duplicate",
                format!("信息项“{}”重复登记", item.name.trim()),
                format!("data item \"{}\" is registered twice", item.name.trim()),
            ));
        }
        if !valid_code_name(&item.code_name) {
            out.push(FieldError::new(
                at("code_name"),
                "catalog.item_code_name_invalid",
                format!("第 {n} 个信息项的英文名须以字母开头，只含字母、数字和下划线，最长 64 位"),
                format!("data item {n}: the code name must start with a letter and hold only letters, digits and _, up to 64"),
            ));
        } else if !code_names.insert(item.code_name.to_ascii_lowercase()) {
            out.push(FieldError::new(
                at("code_name"),
                "catalog.item_code_name_duplicate",
                format!("英文名 {} 重复", item.code_name),
                format!("code name {} is used twice", item.code_name),
            ));
        }
        if item.length == Some(0) {
            out.push(FieldError::new(
                at("length"),
                "catalog.item_length_invalid",
                "长度必须大于 0",
                "the length must be above 0",
            ));
        }
        check_constraints(item, n, &at("constraints"), out);
    }
}

/// COL-3: constraints must be usable before data is validated against them.
fn check_constraints(item: &DataItem, n: usize, at: &str, out: &mut Vec<FieldError>) {
    let c = &item.constraints;
    if let Some(pattern) = &c.pattern {
        if crate::dataset::compile_pattern(pattern).is_err() {
            out.push(FieldError::new(
                format!("{at}.pattern"),
                "catalog.item_pattern_invalid",
                format!("第 {n} 个信息项的格式规则（正则表达式）无法解析"),
                format!("data item {n}: the pattern is not a valid regular expression"),
            ));
        }
    }
    let numeric = matches!(item.field_type, FieldType::Integer | FieldType::Number);
    if (c.minimum.is_some() || c.maximum.is_some()) && !numeric {
        out.push(FieldError::new(
            format!("{at}.minimum"),
            "catalog.item_range_not_numeric",
            format!("第 {n} 个信息项不是数值型，不能设取值范围"),
            format!("data item {n} is not numeric, so it cannot have a range"),
        ));
    }
    if let (Some(lo), Some(hi)) = (c.minimum, c.maximum) {
        if lo > hi {
            out.push(FieldError::new(
                format!("{at}.maximum"),
                "catalog.item_range_inverted",
                format!("第 {n} 个信息项的最小值大于最大值"),
                format!("data item {n}: the minimum is above the maximum"),
            ));
        }
    }
}

/// CAT-3: the form of a data item's name used to recognise the same datum across
/// departments: no spaces or punctuation, full-width letters and digits folded,
/// ASCII lower-cased.
pub fn normalise_item_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| {
            !c.is_whitespace()
                && !c.is_ascii_punctuation()
                && !"（）【】《》、，。：；“”‘’·".contains(*c)
        })
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// CAT-3: the key under which the same datum meets across departments: its
/// standard data element code when it has one, else its normalised name and meaning.
pub fn item_key(item: &DataItem) -> String {
    match item
        .element_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => format!("element:{}", code.to_ascii_uppercase()),
        None => format!(
            "name:{}|{}",
            normalise_item_name(&item.name),
            normalise_item_name(&item.meaning)
        ),
    }
}

/// Items that identify a subject (ID number, credit code …) link records of many
/// departments; using one is not a claim to be its source (CAT-3).
pub fn is_link_key(item: &DataItem) -> bool {
    item.key_role != KeyRole::None
}

/// CAT-1: a resource code: category digit, two-digit domain, then a six-digit
/// sequence unique per node within that category and domain, e.g. `101-000042`.
pub fn resource_code(category: Category, domain: Domain, sequence: u32) -> String {
    format!(
        "{}{:02}-{:06}",
        category.code_digit(),
        domain.code(),
        sequence
    )
}

/// The prefix every code of one category and domain shares (`101-`).
pub fn resource_code_prefix(category: Category, domain: Domain) -> String {
    format!("{}{:02}-", category.code_digit(), domain.code())
}

labelled_enum! {
    /// CAT-10: what a catalog check looks at (CZ 23, CZ 37).
    CheckDimension {
        Completeness => "completeness", "完整性", "Completeness";
        Consistency => "consistency", "一致性", "Consistency";
        Naming => "naming", "规范命名", "Naming";
    }
}

/// CAT-10: one finding of the catalog checks: advice, not a refusal (the save
/// rules of [`check_entry`] refuse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub dimension: CheckDimension,
    pub field: String,
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

fn finding(
    dimension: CheckDimension,
    field: impl Into<String>,
    code: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> Finding {
    Finding {
        dimension,
        field: field.into(),
        code,
        message_zh: zh.into(),
        message_en: en.into(),
    }
}

/// Words that name a resource by what it is (信息, 数据 …) rather than by its form.
const NAME_ENDINGS: [&str; 6] = ["信息", "数据", "目录", "名录", "名单", "清单"];

/// CAT-10: checks an entry for completeness, consistency and naming.
pub fn quality_findings(e: &EntryContent) -> Vec<Finding> {
    use CheckDimension::*;
    let mut out = Vec::new();
    let name = e.name.trim();
    if !NAME_ENDINGS.iter().any(|w| name.ends_with(w)) {
        out.push(finding(
            Naming,
            "name",
            "catalog.check.name_ending",
            "资源名称宜以“信息”“数据”等结尾，说明资源内容",
            "a resource name should end with 信息, 数据 or similar, saying what it holds",
        ));
    }
    if name.chars().count() < 4 {
        out.push(finding(
            Naming,
            "name",
            "catalog.check.name_short",
            "资源名称过短，难以检索",
            "the name is too short to be found",
        ));
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || "()（）[]【】/\\_-—".contains(c))
    {
        out.push(finding(
            Naming,
            "name",
            "catalog.check.name_punctuation",
            "资源名称不宜含空格、括号或符号",
            "a resource name should hold no spaces, brackets or symbols",
        ));
    }
    if ["测试", "临时", "test", "tmp"]
        .iter()
        .any(|w| name.to_lowercase().contains(w))
    {
        out.push(finding(
            Naming,
            "name",
            "catalog.check.name_placeholder",
            "资源名称像是测试或临时名称",
            "the name looks like a test or placeholder",
        ));
    }
    for (i, item) in e.items.iter().enumerate() {
        if item.code_name.chars().any(|c| c.is_ascii_uppercase()) {
            out.push(finding(
                Naming,
                format!("items[{i}].code_name"),
                "catalog.check.code_name_case",
                format!("信息项“{}”的英文名宜用小写字母和下划线", item.name),
                format!(
                    "data item \"{}\": code names should be lower case with underscores",
                    item.name
                ),
            ));
        }
        if item.meaning.trim().is_empty() {
            out.push(finding(
                Completeness,
                format!("items[{i}].meaning"),
                "catalog.check.item_meaning",
                format!("信息项“{}”缺少含义说明", item.name),
                format!("data item \"{}\" has no meaning", item.name),
            ));
        }
        if item.field_type == FieldType::String && item.length.is_none() {
            out.push(finding(
                Completeness,
                format!("items[{i}].length"),
                "catalog.check.item_length",
                format!("字符型信息项“{}”未写长度", item.name),
                format!("text item \"{}\" has no length", item.name),
            ));
        }
        if matches!(item.key_role, KeyRole::CitizenId) && !item.sensitive {
            out.push(finding(
                Consistency,
                format!("items[{i}].sensitive"),
                "catalog.check.citizen_id_sensitive",
                "公民身份号码属于个人敏感信息，应标为敏感",
                "citizen ID numbers are sensitive personal information",
            ));
        }
    }
    if e.summary.trim().chars().count() < 10 {
        out.push(finding(
            Completeness,
            "summary",
            "catalog.check.summary_short",
            "资源摘要过于简略（少于 10 个字）",
            "the summary is very short (under 10 characters)",
        ));
    }
    if e.timeliness.trim().is_empty() {
        out.push(finding(
            Completeness,
            "timeliness",
            "catalog.check.timeliness",
            "未写时效要求",
            "no timeliness stated",
        ));
    }
    if e.share_type == ShareType::Conditional && e.share_scope.trim().is_empty() {
        out.push(finding(
            Completeness,
            "share_scope",
            "catalog.check.share_scope",
            "有条件共享的资源宜写明共享范围",
            "a conditionally shared resource should state its scope",
        ));
    }
    let sensitive_items = e.items.iter().any(|i| i.sensitive);
    if e.open_type == OpenType::Unconditional && sensitive_items {
        out.push(finding(Consistency, "open_type", "catalog.check.open_sensitive", "含敏感信息项的资源不宜无条件开放，请先脱敏或改为有条件开放", "a resource with sensitive items should not open unconditionally; desensitise it or open it conditionally"));
    }
    if e.open_type == OpenType::Unconditional && e.share_type != ShareType::Unconditional {
        out.push(finding(
            Consistency,
            "open_type",
            "catalog.check.open_wider_than_share",
            "向社会无条件开放的资源，对政务部门应无条件共享",
            "data open to everyone should be shared unconditionally with government bodies",
        ));
    }
    if matches!(e.sensitivity, Some(Sensitivity::L4)) && e.share_type == ShareType::Unconditional {
        out.push(finding(
            Consistency,
            "share_type",
            "catalog.check.l4_unconditional",
            "四级（较敏感）数据不宜无条件共享",
            "L4 data should not be shared unconditionally",
        ));
    }
    if e.update_frequency == UpdateFrequency::RealTime && e.format == ResourceFormat::Spreadsheet {
        out.push(finding(
            Consistency,
            "format",
            "catalog.check.realtime_spreadsheet",
            "实时更新的资源不宜以电子表格提供",
            "real-time data should not be provided as spreadsheets",
        ));
    }
    out
}

labelled_enum! {
    /// CAT-2: where the working copy of an entry stands in review.
    Stage {
        Draft => "draft", "草稿", "Draft";
        DepartmentReview => "department_review", "待本部门审核", "Awaiting department review";
        AuthorityReview => "authority_review", "待主管部门审核", "Awaiting authority review";
    }
}

labelled_enum! {
    /// CAT-2: the steps of the review.
    ReviewAction {
        Submit => "submit", "提交部门审核", "Submit for department review";
        DepartmentPass => "department_pass", "部门审核通过并报送", "Passed by the department and submitted";
        DepartmentReturn => "department_return", "部门退回", "Returned by the department";
        AuthorityApprove => "authority_approve", "主管部门审核通过并发布", "Approved and published by the authority";
        AuthorityReturn => "authority_return", "主管部门退回", "Returned by the authority";
    }
}

impl ReviewAction {
    /// Returns (退回) must say why.
    pub fn needs_reason(&self) -> bool {
        matches!(
            self,
            ReviewAction::DepartmentReturn | ReviewAction::AuthorityReturn
        )
    }
}

/// CAT-2: a review step that the entry's stage does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: Stage,
    pub action: ReviewAction,
}

impl IllegalTransition {
    pub fn message_zh(&self) -> String {
        format!(
            "目录处于“{}”，不能执行“{}”",
            self.from.label_zh(),
            self.action.label_zh()
        )
    }
    pub fn message_en(&self) -> String {
        format!(
            "an entry in \"{}\" cannot be \"{}\"",
            self.from.label_en(),
            self.action.label_en()
        )
    }
}

/// What a review step leads to: another stage, or publication of the working copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stage(Stage),
    Published,
}

/// CAT-2: the review state machine. Draft → department review (registrar ≠ reviewer,
/// checked by the caller) → authority review → published; either review may return
/// the entry to draft.
pub fn review(from: Stage, action: ReviewAction) -> Result<Outcome, IllegalTransition> {
    use ReviewAction as A;
    match (from, action) {
        (Stage::Draft, A::Submit) => Ok(Outcome::Stage(Stage::DepartmentReview)),
        (Stage::DepartmentReview, A::DepartmentPass) => Ok(Outcome::Stage(Stage::AuthorityReview)),
        (Stage::DepartmentReview, A::DepartmentReturn) => Ok(Outcome::Stage(Stage::Draft)),
        (Stage::AuthorityReview, A::AuthorityApprove) => Ok(Outcome::Published),
        (Stage::AuthorityReview, A::AuthorityReturn) => Ok(Outcome::Stage(Stage::Draft)),
        _ => Err(IllegalTransition { from, action }),
    }
}

/// OPN-1 (HZ 32, HZ 33): a conditional or not-open entry names the criterion it meets
/// from the regulation's list, and gives its basis (HZ 33 last paragraph); an entry
/// that is not shared is not open by JY 21 and its legal basis already says why, so
/// there the criterion may be left out. An unconditional entry names none (HZ 34).
fn open_reason_problems(e: &EntryContent) -> Vec<FieldError> {
    let mut out = Vec::new();
    match (e.open_type, e.open_reason) {
        (OpenType::Unconditional, Some(_)) => out.push(FieldError::new(
            "open_reason",
            "catalog.open_reason_mismatch",
            "无条件开放的资源不选开放限制理由（HZ 34）",
            "an unconditionally open resource takes no restricting reason (HZ 34)",
        )),
        (OpenType::Unconditional, None) => {}
        (t, Some(r)) if r.open_type() != t => out.push(FieldError::new(
            "open_reason",
            "catalog.open_reason_mismatch",
            format!("“{}”不是“{}”的理由", r.label_zh(), t.label_zh()),
            format!("'{}' is not a reason for '{}'", r.label_en(), t.label_en()),
        )),
        (OpenType::NotOpen, None) if e.share_type == ShareType::NotShared => {}
        (t, None) => out.push(FieldError::new(
            "open_reason",
            "catalog.open_reason_required",
            format!("{}的资源须从 HZ 32、33 的情形中选择理由", t.label_zh()),
            format!(
                "a resource that is {} must name its criterion from HZ 32–33",
                t.label_en().to_lowercase()
            ),
        )),
        _ => {}
    }
    if e.open_type == OpenType::Conditional && blank(&e.open_basis) {
        out.push(FieldError::new(
            "open_basis",
            "catalog.open_basis_required",
            "有条件开放的资源须写明依据（HZ 33）",
            "a conditionally open resource must state its basis (HZ 33)",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> EntryContent {
        EntryContent {
            name: "常住人口信息".into(),
            summary: "本市常住人口的基本信息".into(),
            category: Category::Base,
            domain: Domain::Population,
            format: ResourceFormat::Database,
            source_org_id: "org-psb".into(),
            providing_org_id: None,
            approving_department: String::new(),
            co_builder_org_ids: vec![],
            items: vec![DataItem {
                name: "公民身份号码".into(),
                code_name: "citizen_id".into(),
                field_type: FieldType::String,
                length: Some(18),
                meaning: "GB 11643".into(),
                sensitive: true,
                key_role: KeyRole::CitizenId,
                element_code: None,
                constraints: Default::default(),
            }],
            share_type: ShareType::Unconditional,
            share_conditions: String::new(),
            share_scope: String::new(),
            share_modes: vec![ShareMode::Api],
            legal_basis: String::new(),
            open_type: OpenType::NotOpen,
            open_conditions: String::new(),
            open_reason: Some(OpenReason::PrivacyWithoutConsent),
            open_basis: "含个人信息".into(),
            update_frequency: UpdateFrequency::Daily,
            timeliness: String::new(),
            grade: Grade::General,
            sensitivity: Some(Sensitivity::L3),
            classified: false,
            release_date: None,
            related_codes: vec![],
        }
    }

    fn codes(e: &EntryContent) -> Vec<(&'static str, String)> {
        check_entry(e)
            .into_iter()
            .map(|f| (f.code, f.field))
            .collect()
    }

    #[test]
    fn cat_1_a_complete_entry_passes() {
        assert_eq!(codes(&sample()), vec![]);
    }

    #[test]
    fn cat_8_conditional_entry_needs_basis_and_conditions() {
        let mut e = sample();
        e.share_type = ShareType::Conditional;
        assert_eq!(
            codes(&e),
            vec![
                ("catalog.legal_basis_required", "legal_basis".into()),
                (
                    "catalog.share_conditions_required",
                    "share_conditions".into()
                ),
            ]
        );
        e.legal_basis = "《示范省公共数据条例》第十条".into();
        e.share_conditions = "仅限社会保障业务使用".into();
        assert_eq!(codes(&e), vec![]);
    }

    #[test]
    fn cat_8_not_shared_needs_basis_and_is_never_open() {
        let mut e = sample();
        e.share_type = ShareType::NotShared;
        e.share_modes.clear();
        e.open_type = OpenType::Unconditional;
        e.open_reason = None;
        assert_eq!(
            codes(&e),
            vec![
                ("catalog.legal_basis_required", "legal_basis".into()),
                ("catalog.not_shared_not_open", "open_type".into()),
            ]
        );
        e.legal_basis = "《中华人民共和国个人信息保护法》".into();
        e.open_type = OpenType::NotOpen;
        assert_eq!(codes(&e), vec![]);
    }

    #[test]
    fn cat_9_classified_entry_is_refused() {
        let mut e = sample();
        e.classified = true;
        let errors = check_entry(&e);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "catalog.classified_refused");
        assert!(
            errors[0].message_zh.contains("涉密") && errors[0].message_en.contains("classified")
        );
    }

    #[test]
    fn cat_1_items_are_checked_one_by_one() {
        let mut e = sample();
        let mut second = e.items[0].clone();
        second.name = " 公民身份号码 ".into();
        second.code_name = "9bad".into();
        e.items.push(second);
        assert_eq!(
            codes(&e),
            vec![
                ("catalog.item_name_duplicate", "items[1].name".into()),
                (
                    "catalog.item_code_name_invalid",
                    "items[1].code_name".into()
                ),
            ]
        );
        e.items.clear();
        assert_eq!(codes(&e), vec![("catalog.items_required", "items".into())]);
    }

    #[test]
    fn cat_1_sensitivity_levels_belong_to_general_data() {
        let mut e = sample();
        e.sensitivity = None;
        assert_eq!(
            codes(&e),
            vec![("catalog.sensitivity_required", "sensitivity".into())]
        );
        e.grade = Grade::Important;
        assert_eq!(codes(&e), vec![]);
        e.sensitivity = Some(Sensitivity::L1);
        assert_eq!(
            codes(&e),
            vec![("catalog.sensitivity_only_general", "sensitivity".into())]
        );
    }

    #[test]
    fn cat_1_resource_codes_carry_category_and_domain() {
        assert_eq!(
            resource_code(Category::Base, Domain::Population, 42),
            "101-000042"
        );
        assert_eq!(
            resource_code(Category::Business, Domain::GovernmentServices, 7),
            "415-000007"
        );
        assert!(resource_code(Category::Theme, Domain::Health, 1)
            .starts_with(&resource_code_prefix(Category::Theme, Domain::Health)));
    }

    #[test]
    fn cat_3_item_keys_meet_by_element_code_or_name_and_meaning() {
        let mut a = sample().items[0].clone();
        a.key_role = KeyRole::None;
        a.name = "婚姻状况".into();
        a.meaning = "".into();
        let mut b = a.clone();
        b.name = " 婚姻 状况".into();
        assert_eq!(item_key(&a), item_key(&b));
        b.meaning = "婚姻登记结果".into();
        assert_ne!(
            item_key(&a),
            item_key(&b),
            "same name, other meaning: another datum"
        );
        a.element_code = Some("de0105".into());
        b.element_code = Some(" DE0105 ".into());
        assert_eq!(item_key(&a), item_key(&b), "one element code, one datum");
        assert!(!is_link_key(&a) && is_link_key(&sample().items[0]));
    }

    #[test]
    fn cat_10_checks_find_completeness_consistency_and_naming() {
        let clean = {
            let mut e = sample();
            e.timeliness = "变更后 1 个工作日内".into();
            e
        };
        assert_eq!(quality_findings(&clean), vec![], "the sample is clean");
        let mut e = clean.clone();
        e.name = "测试_".into();
        e.items[0].sensitive = false;
        e.items[0].code_name = "CitizenID".into();
        e.open_type = OpenType::Unconditional;
        e.timeliness.clear();
        let codes: Vec<(CheckDimension, &str)> = quality_findings(&e)
            .iter()
            .map(|f| (f.dimension, f.code))
            .collect();
        for expected in [
            (CheckDimension::Naming, "catalog.check.name_ending"),
            (CheckDimension::Naming, "catalog.check.name_short"),
            (CheckDimension::Naming, "catalog.check.name_punctuation"),
            (CheckDimension::Naming, "catalog.check.name_placeholder"),
            (CheckDimension::Naming, "catalog.check.code_name_case"),
            (
                CheckDimension::Consistency,
                "catalog.check.citizen_id_sensitive",
            ),
            (CheckDimension::Completeness, "catalog.check.timeliness"),
        ] {
            assert!(codes.contains(&expected), "{expected:?} in {codes:?}");
        }
        assert!(
            !codes.contains(&(CheckDimension::Consistency, "catalog.check.open_sensitive")),
            "no sensitive item left"
        );
        e.items[0].sensitive = true;
        let codes: Vec<&str> = quality_findings(&e).iter().map(|f| f.code).collect();
        assert!(codes.contains(&"catalog.check.open_sensitive"));
    }

    #[test]
    fn cat_3_item_names_normalise_across_spelling() {
        assert_eq!(
            normalise_item_name(" 公民身份号码 "),
            normalise_item_name("公民身份号码")
        );
        assert_eq!(
            normalise_item_name("姓名（中文）"),
            normalise_item_name("姓名中文")
        );
        assert_eq!(normalise_item_name("ＩＤ No."), "idno");
    }

    #[test]
    fn cat_2_review_moves_only_along_the_lifecycle() {
        use ReviewAction as A;
        assert_eq!(
            review(Stage::Draft, A::Submit),
            Ok(Outcome::Stage(Stage::DepartmentReview))
        );
        assert_eq!(
            review(Stage::DepartmentReview, A::DepartmentPass),
            Ok(Outcome::Stage(Stage::AuthorityReview))
        );
        assert_eq!(
            review(Stage::AuthorityReview, A::AuthorityApprove),
            Ok(Outcome::Published)
        );
        assert_eq!(
            review(Stage::AuthorityReview, A::AuthorityReturn),
            Ok(Outcome::Stage(Stage::Draft))
        );
        assert_eq!(
            review(Stage::DepartmentReview, A::DepartmentReturn),
            Ok(Outcome::Stage(Stage::Draft))
        );
        for (from, action) in [
            (Stage::Draft, A::AuthorityApprove),
            (Stage::Draft, A::DepartmentPass),
            (Stage::DepartmentReview, A::AuthorityApprove),
            (Stage::AuthorityReview, A::Submit),
        ] {
            let e = review(from, action).unwrap_err();
            assert!(e.message_zh().contains(from.label_zh()));
        }
        assert!(A::AuthorityReturn.needs_reason() && !A::Submit.needs_reason());
    }
}
