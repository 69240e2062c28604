//! OPN-5, OPN-6 (JY 27–28, XJ 26, HZ 33 (1), HZ 35): releases — a derived, versioned
//! dataset made from data that is not open. Each released item keeps what its rule
//! lets through: the value as is, a masking rule of the egress gate, a
//! generalisation (date to month or year, number to a band, text to its first
//! characters, a birth date or citizen ID to an age or year band), or nothing (the
//! item is suppressed). Before rows of personal data are published, their
//! k-anonymity over the declared quasi-identifiers is computed; rows in classes
//! smaller than k may be dropped up to a declared share. Pure: no I/O.
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};

use crate::catalog::{DataItem, FieldType, ItemConstraints, KeyRole};
use crate::dataset::{parse_date, parse_datetime, Column, TableSchema, Value};
use crate::ids::CitizenId;
use crate::masking::{default_rule, mask_value, MaskRule};
use crate::org::labelled_enum;
use serde::{Deserialize, Serialize};

/// OPN-6: the smallest k a release of personal data must reach unless the
/// deployment sets a higher one.
pub const DEFAULT_MIN_K: u32 = 5;
/// OPN-6: the largest share of rows (in percent) a release may drop to reach k,
/// unless the deployment sets another.
pub const DEFAULT_MAX_SUPPRESSION_PERCENT: u32 = 5;

labelled_enum! {
    /// OPN-5: where one version of a release stands. The source prepares it, the
    /// authority approves (published) or returns it; a later version supersedes it;
    /// the source or the authority withdraws it.
    ReleaseStatus {
        Pending => "pending", "待主管部门审核", "Awaiting the authority";
        Published => "published", "已发布", "Published";
        Returned => "returned", "已退回", "Returned";
        Superseded => "superseded", "已被新版本替代", "Superseded";
        Withdrawn => "withdrawn", "已撤回", "Withdrawn";
    }
}

labelled_enum! {
    /// OPN-5: what makes data that is not open openable — desensitisation (HZ 35,
    /// JY 27, XJ 26) or the consent of its subjects (HZ 33 (1)).
    ReleaseBasis {
        Desensitised => "desensitised", "脱敏处理（HZ 35、JY 27、XJ 26）", "Desensitised (HZ 35, JY 27, XJ 26)";
        Consent => "consent", "数据主体同意开放（HZ 33 一）", "The subjects consented (HZ 33(1))";
    }
}

/// OPN-6: what a release does with one item of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReleaseRule {
    /// The value as is.
    Keep,
    /// A masking rule of the egress gate; the result is text.
    Mask(MaskRule),
    /// A date to its month (`2024-03`).
    Month,
    /// A date to its year (`2024`).
    Year,
    /// A number to the band of this width it falls in (`20-29`).
    Band(u32),
    /// A text to its first characters (a division code to its city: 4).
    Prefix(u8),
    /// A birth date or citizen ID to the age band of this width on the release day.
    AgeBand(u8),
    /// A date (or the birth date in a citizen ID) to the band of years it falls in.
    YearBand(u8),
    /// The item is not released.
    Suppress,
}

impl ReleaseRule {
    /// The rule written `keep`, `suppress`, `month`, `year`, `band:<width>`,
    /// `prefix:<n>`, `age_band:<width>`, `year_band:<width>` or `mask:<mask rule>`
    /// (`mask:citizen_id`, `mask:partial:3:4` …).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let number = |prefix: &str| -> Option<u32> {
            text.strip_prefix(prefix)?
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
        };
        let small = |prefix: &str, max: u32| -> Option<u8> {
            number(prefix).filter(|n| *n <= max).map(|n| n as u8)
        };
        let rule = match text {
            "keep" => ReleaseRule::Keep,
            "suppress" => ReleaseRule::Suppress,
            "month" => ReleaseRule::Month,
            "year" => ReleaseRule::Year,
            _ if text.starts_with("mask:") => match MaskRule::parse(&text[5..])? {
                MaskRule::Clear => ReleaseRule::Keep,
                MaskRule::Suppress => ReleaseRule::Suppress,
                m => ReleaseRule::Mask(m),
            },
            _ if text.starts_with("band:") => ReleaseRule::Band(number("band:")?),
            _ if text.starts_with("prefix:") => ReleaseRule::Prefix(small("prefix:", 64)?),
            _ if text.starts_with("age_band:") => ReleaseRule::AgeBand(small("age_band:", 50)?),
            _ if text.starts_with("year_band:") => ReleaseRule::YearBand(small("year_band:", 100)?),
            _ => return None,
        };
        Some(rule)
    }

    /// Whether the item leaves in the release at all.
    pub fn releases(&self) -> bool {
        *self != ReleaseRule::Suppress
    }

    /// Whether the rule makes a value coarser (the item then becomes text).
    pub fn generalises(&self) -> bool {
        matches!(
            self,
            ReleaseRule::Month
                | ReleaseRule::Year
                | ReleaseRule::Band(_)
                | ReleaseRule::Prefix(_)
                | ReleaseRule::AgeBand(_)
                | ReleaseRule::YearBand(_)
        )
    }

    pub fn label_zh(&self) -> String {
        match self {
            ReleaseRule::Keep => "原样发布".into(),
            ReleaseRule::Mask(m) => format!("脱敏：{}", m.label_zh()),
            ReleaseRule::Month => "泛化：日期保留到月".into(),
            ReleaseRule::Year => "泛化：日期保留到年".into(),
            ReleaseRule::Band(w) => format!("泛化：数值按 {w} 分段"),
            ReleaseRule::Prefix(n) => format!("泛化：保留前 {n} 位"),
            ReleaseRule::AgeBand(w) => format!("泛化：年龄按 {w} 岁分段"),
            ReleaseRule::YearBand(w) => format!("泛化：年份按 {w} 年分段"),
            ReleaseRule::Suppress => "不发布".into(),
        }
    }

    pub fn label_en(&self) -> String {
        match self {
            ReleaseRule::Keep => "Released as is".into(),
            ReleaseRule::Mask(m) => format!("Masked: {}", m.label_en()),
            ReleaseRule::Month => "Generalised: date to month".into(),
            ReleaseRule::Year => "Generalised: date to year".into(),
            ReleaseRule::Band(w) => format!("Generalised: bands of {w}"),
            ReleaseRule::Prefix(n) => format!("Generalised: first {n} characters"),
            ReleaseRule::AgeBand(w) => format!("Generalised: age in bands of {w} years"),
            ReleaseRule::YearBand(w) => format!("Generalised: years in bands of {w}"),
            ReleaseRule::Suppress => "Not released".into(),
        }
    }
}

impl std::fmt::Display for ReleaseRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReleaseRule::Keep => f.write_str("keep"),
            ReleaseRule::Mask(m) => write!(f, "mask:{m}"),
            ReleaseRule::Month => f.write_str("month"),
            ReleaseRule::Year => f.write_str("year"),
            ReleaseRule::Band(w) => write!(f, "band:{w}"),
            ReleaseRule::Prefix(n) => write!(f, "prefix:{n}"),
            ReleaseRule::AgeBand(w) => write!(f, "age_band:{w}"),
            ReleaseRule::YearBand(w) => write!(f, "year_band:{w}"),
            ReleaseRule::Suppress => f.write_str("suppress"),
        }
    }
}

/// Whether a column holds citizen ID numbers (by its key role or by what it is
/// called), which a release never reveals whole.
pub fn is_identifier(column: &Column) -> bool {
    column.key_role == KeyRole::CitizenId || default_rule(column) == MaskRule::CitizenId
}

/// Whether a table holds personal data: a citizen ID or a sensitive item.
pub fn holds_personal_data(schema: &TableSchema) -> bool {
    schema
        .columns
        .iter()
        .any(|c| c.sensitive || is_identifier(c))
}

fn is_date(column: &Column) -> bool {
    matches!(column.field_type, FieldType::Date | FieldType::DateTime)
}

fn is_number(column: &Column) -> bool {
    matches!(column.field_type, FieldType::Integer | FieldType::Number)
}

/// The rules a release may apply to a column, for a form to offer (the suggested
/// one first).
pub fn rules_for(column: &Column, basis: ReleaseBasis) -> Vec<ReleaseRule> {
    let mut out = vec![suggested_rule(column)];
    let mut offer = |r: ReleaseRule| {
        if !out.contains(&r) && check_rule(column, r, basis).is_ok() {
            out.push(r);
        }
    };
    offer(ReleaseRule::Keep);
    if is_date(column) || is_identifier(column) {
        offer(ReleaseRule::YearBand(5));
        offer(ReleaseRule::AgeBand(5));
        offer(ReleaseRule::Year);
        offer(ReleaseRule::Month);
    }
    if column.field_type == FieldType::String && !is_identifier(column) {
        offer(ReleaseRule::Year);
        offer(ReleaseRule::Month);
    }
    if is_number(column) {
        for w in [10, 100, 1000] {
            offer(ReleaseRule::Band(w));
        }
    }
    if column.key_role == KeyRole::DivisionCode || is_identifier(column) {
        offer(ReleaseRule::Prefix(6));
        offer(ReleaseRule::Prefix(4));
        offer(ReleaseRule::Prefix(2));
    }
    let masked = default_rule(column);
    if masked != MaskRule::Clear && masked != MaskRule::Suppress {
        offer(ReleaseRule::Mask(masked));
    }
    offer(ReleaseRule::Mask(MaskRule::Name));
    offer(ReleaseRule::Mask(MaskRule::Address));
    offer(ReleaseRule::Suppress);
    out
}

/// The rule a form starts a column with: a citizen ID to 5-year age bands, a
/// sensitive date to its year, other sensitive items suppressed, the rest as is.
pub fn suggested_rule(column: &Column) -> ReleaseRule {
    if is_identifier(column) {
        ReleaseRule::AgeBand(5)
    } else if column.sensitive && is_date(column) {
        ReleaseRule::Year
    } else if column.sensitive {
        ReleaseRule::Suppress
    } else {
        ReleaseRule::Keep
    }
}

/// Whether `rule` may be applied to `column` in a release on `basis`.
fn check_rule(column: &Column, rule: ReleaseRule, basis: ReleaseBasis) -> Result<(), ReleaseError> {
    let name = || column.name.clone();
    let applicable = match rule {
        ReleaseRule::Keep | ReleaseRule::Suppress => true,
        ReleaseRule::Mask(_) | ReleaseRule::Prefix(_) => column.field_type != FieldType::Binary,
        ReleaseRule::Month | ReleaseRule::Year => {
            is_date(column) || column.field_type == FieldType::String
        }
        ReleaseRule::Band(_) => is_number(column),
        ReleaseRule::AgeBand(_) | ReleaseRule::YearBand(_) => {
            is_date(column) || is_identifier(column)
        }
    };
    if !applicable {
        return Err(ReleaseError::RuleNotApplicable {
            column: name(),
            rule: rule.to_string(),
        });
    }
    if is_identifier(column) {
        // Whole or nearly whole ID numbers never leave in a release; on consent, a
        // masked number or a pseudonym may.
        let allowed = match rule {
            ReleaseRule::Suppress
            | ReleaseRule::AgeBand(_)
            | ReleaseRule::YearBand(_)
            | ReleaseRule::Year
            | ReleaseRule::Month => true,
            ReleaseRule::Prefix(n) => n <= 6,
            ReleaseRule::Mask(MaskRule::CitizenId | MaskRule::Pseudonym) => {
                basis == ReleaseBasis::Consent
            }
            ReleaseRule::Mask(MaskRule::Partial {
                keep_start,
                keep_end,
            }) => {
                basis == ReleaseBasis::Consent && u16::from(keep_start) + u16::from(keep_end) <= 10
            }
            _ => false,
        };
        if !allowed {
            return Err(ReleaseError::IdentifierRevealed { column: name() });
        }
    } else if column.sensitive && rule == ReleaseRule::Keep && basis == ReleaseBasis::Desensitised {
        return Err(ReleaseError::SensitiveKept { column: name() });
    }
    Ok(())
}

/// One released item: the source column it is made from, its rule, and the item
/// as the derived catalog entry describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedItem {
    /// Position of the source column in the source table.
    pub source: usize,
    pub rule: ReleaseRule,
    pub item: DataItem,
}

/// OPN-6: a release ready to run over a source table: its items, in source order,
/// and its quasi-identifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasePlan {
    pub items: Vec<PlannedItem>,
    /// Positions in `items` of the quasi-identifiers.
    pub quasi: Vec<usize>,
    /// The day ages are counted on.
    pub as_of: NaiveDate,
    pub basis: ReleaseBasis,
}

/// Code names of released items are at most this long (CAT-1).
const CODE_NAME_MAX: usize = 64;

fn derived_code_name(column: &Column, suffix: &str) -> String {
    let keep = CODE_NAME_MAX.saturating_sub(suffix.len());
    let mut base: String = column.name.chars().take(keep).collect();
    base.push_str(suffix);
    base
}

/// The item a release publishes for a source column under `rule` (not `Suppress`).
fn released_item(
    column: &Column,
    source_item: Option<&DataItem>,
    rule: ReleaseRule,
    source_name: &str,
) -> DataItem {
    if rule == ReleaseRule::Keep {
        let mut item = source_item.cloned().unwrap_or_else(|| DataItem {
            name: column.title.clone(),
            code_name: column.name.clone(),
            field_type: column.field_type,
            length: column.max_length,
            meaning: String::new(),
            sensitive: column.sensitive,
            key_role: column.key_role,
            element_code: None,
            constraints: column.constraints.clone(),
        });
        // A released table identifies no record: only a division code keeps its role.
        if item.key_role != KeyRole::DivisionCode {
            item.key_role = KeyRole::None;
        }
        return item;
    }
    let from_id = is_identifier(column);
    let (code_name, name) = match rule {
        ReleaseRule::AgeBand(_) => (
            derived_code_name(column, "_age_band"),
            if from_id {
                format!("年龄段（由{}推算）", column.title)
            } else {
                format!("{}（年龄段）", column.title)
            },
        ),
        ReleaseRule::YearBand(_) => (
            derived_code_name(column, "_year_band"),
            if from_id {
                format!("出生年份段（由{}推算）", column.title)
            } else {
                format!("{}（年份段）", column.title)
            },
        ),
        ReleaseRule::Month if from_id => (
            derived_code_name(column, "_birth_month"),
            format!("出生年月（由{}推算）", column.title),
        ),
        ReleaseRule::Year if from_id => (
            derived_code_name(column, "_birth_year"),
            format!("出生年份（由{}推算）", column.title),
        ),
        ReleaseRule::Prefix(_) if from_id => (
            derived_code_name(column, "_division"),
            format!("行政区划（取自{}）", column.title),
        ),
        _ => (column.name.clone(), column.title.clone()),
    };
    let meaning = format!(
        "由《{source_name}》的“{}”处理：{} / from “{}” of the source: {}",
        column.title,
        rule.label_zh(),
        column.name,
        rule.label_en()
    );
    DataItem {
        name,
        code_name,
        field_type: FieldType::String,
        length: None,
        meaning,
        sensitive: false,
        key_role: KeyRole::None,
        element_code: None,
        constraints: ItemConstraints::default(),
    }
}

impl ReleasePlan {
    /// Plans a release of a table (`items` are the source entry's data items, for
    /// their names and meanings). A column without a rule is suppressed; the
    /// quasi-identifiers are named by the source column or the released item, and in
    /// a desensitised release every item made from a citizen ID joins them. Refuses a rule a column
    /// cannot take, one that would reveal a citizen ID (or keep a sensitive item in
    /// a desensitised release), a release of nothing, and a desensitised release of
    /// personal data without quasi-identifiers.
    pub fn new(
        schema: &TableSchema,
        items: &[DataItem],
        rules: &BTreeMap<String, ReleaseRule>,
        quasi: &[String],
        basis: ReleaseBasis,
        as_of: NaiveDate,
        source_name: &str,
    ) -> Result<Self, ReleaseError> {
        for name in rules.keys() {
            if !schema.columns.iter().any(|c| &c.name == name) {
                return Err(ReleaseError::UnknownItem {
                    column: name.clone(),
                });
            }
        }
        let mut planned = Vec::new();
        for (i, column) in schema.columns.iter().enumerate() {
            let rule = rules
                .get(&column.name)
                .copied()
                .unwrap_or(ReleaseRule::Suppress);
            check_rule(column, rule, basis)?;
            if !rule.releases() {
                continue;
            }
            let source_item = items
                .iter()
                .find(|it| it.code_name.eq_ignore_ascii_case(&column.name));
            let item = released_item(column, source_item, rule, source_name);
            if planned
                .iter()
                .any(|p: &PlannedItem| p.item.code_name.eq_ignore_ascii_case(&item.code_name))
            {
                return Err(ReleaseError::ItemNameClash {
                    column: item.code_name,
                });
            }
            planned.push(PlannedItem {
                source: i,
                rule,
                item,
            });
        }
        if planned.is_empty() {
            return Err(ReleaseError::NothingReleased);
        }
        let mut qi: Vec<usize> = Vec::new();
        for name in quasi {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let by_item = planned
                .iter()
                .position(|p| p.item.code_name.eq_ignore_ascii_case(name));
            let by_source = || {
                let col = schema.columns.iter().position(|c| c.name == name)?;
                planned.iter().position(|p| p.source == col)
            };
            match by_item.or_else(by_source) {
                Some(p) => {
                    if !qi.contains(&p) {
                        qi.push(p);
                    }
                }
                None if schema.columns.iter().any(|c| c.name == name) => {
                    return Err(ReleaseError::QuasiNotReleased {
                        column: name.to_string(),
                    })
                }
                None => {
                    return Err(ReleaseError::UnknownItem {
                        column: name.to_string(),
                    })
                }
            }
        }
        // What is made from a citizen ID always counts in a desensitised release; on
        // consent the subjects agreed to be known under the release's conditions.
        if basis == ReleaseBasis::Desensitised {
            for (p, item) in planned.iter().enumerate() {
                if is_identifier(&schema.columns[item.source]) && !qi.contains(&p) {
                    qi.push(p);
                }
            }
        }
        qi.sort_unstable();
        if qi.is_empty() && basis == ReleaseBasis::Desensitised && holds_personal_data(schema) {
            return Err(ReleaseError::QuasiRequired);
        }
        Ok(Self {
            items: planned,
            quasi: qi,
            as_of,
            basis,
        })
    }

    /// The source columns the release reads, in order.
    pub fn reads(&self) -> Vec<usize> {
        self.items.iter().map(|p| p.source).collect()
    }

    /// The released items, as the derived entry lists them.
    pub fn released_items(&self) -> Vec<DataItem> {
        self.items.iter().map(|p| p.item.clone()).collect()
    }

    /// Code names of the quasi-identifiers, as released.
    pub fn quasi_names(&self) -> Vec<String> {
        self.quasi
            .iter()
            .map(|&i| self.items[i].item.code_name.clone())
            .collect()
    }

    /// One released row from a source row (values in source column order);
    /// `key` keys pseudonyms.
    pub fn apply(&self, source: &[Value], key: &[u8]) -> Vec<Value> {
        self.items
            .iter()
            .map(|p| {
                let v = source.get(p.source).unwrap_or(&Value::Null);
                transform(p.rule, v, key, self.as_of)
            })
            .collect()
    }
}

/// The date a value stands for: a date, a date-time, a date written as text, or the
/// birth date in a valid citizen ID number.
fn date_of(v: &Value) -> Option<NaiveDate> {
    match v {
        Value::Date(d) => Some(*d),
        Value::DateTime(t) => Some(t.date()),
        Value::Text(s) => {
            let s = s.trim();
            if let Ok(id) = CitizenId::parse(s) {
                return Some(id.birth_date());
            }
            parse_date(s).or_else(|| parse_datetime(s).map(|t| t.date()))
        }
        _ => None,
    }
}

fn band_text(lo: i64, width: i64) -> String {
    if width == 1 {
        lo.to_string()
    } else {
        format!("{lo}-{}", lo + width - 1)
    }
}

/// Full years from `birth` to `on`.
fn age(birth: NaiveDate, on: NaiveDate) -> i64 {
    let mut years = i64::from(on.year() - birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

fn number_band(n: f64, width: u32) -> Option<String> {
    if !n.is_finite() {
        return None;
    }
    let w = f64::from(width);
    let lo = (n / w).floor() * w;
    if n.fract() == 0.0 && lo.abs() < 1e15 {
        Some(band_text(lo as i64, i64::from(width)))
    } else {
        Some(format!("[{lo}, {})", lo + w))
    }
}

/// One value under one rule (not `Suppress`). A value the rule cannot read becomes
/// null (fail closed): nothing leaves that the rule did not make coarser.
pub fn transform(rule: ReleaseRule, v: &Value, key: &[u8], as_of: NaiveDate) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let text = |s: Option<String>| s.map_or(Value::Null, Value::Text);
    match rule {
        ReleaseRule::Keep => v.clone(),
        ReleaseRule::Suppress => Value::Null,
        ReleaseRule::Mask(m) => mask_value(&m, v, key),
        ReleaseRule::Month => text(date_of(v).map(|d| format!("{:04}-{:02}", d.year(), d.month()))),
        ReleaseRule::Year => text(date_of(v).map(|d| format!("{:04}", d.year()))),
        ReleaseRule::Band(w) => text(match v {
            Value::Integer(i) => {
                let w = i64::from(w);
                Some(band_text(i.div_euclid(w) * w, w))
            }
            Value::Number(n) => number_band(*n, w),
            Value::Text(s) => s.trim().parse::<f64>().ok().and_then(|n| number_band(n, w)),
            _ => None,
        }),
        ReleaseRule::Prefix(n) => {
            let t = v.to_text();
            Value::Text(t.trim().chars().take(usize::from(n)).collect())
        }
        ReleaseRule::AgeBand(w) => text(date_of(v).and_then(|birth| {
            let a = age(birth, as_of);
            let w = i64::from(w);
            (a >= 0).then(|| band_text(a.div_euclid(w) * w, w))
        })),
        ReleaseRule::YearBand(w) => text(date_of(v).map(|d| {
            let w = i64::from(w);
            band_text(i64::from(d.year()).div_euclid(w) * w, w)
        })),
    }
}

/// OPN-6: the k-anonymity of a table over its quasi-identifiers: every row shares
/// its quasi-identifier values with at least `k - 1` others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Anonymity {
    /// The size of the smallest equivalence class (0 for no rows).
    pub k: u64,
    /// How many classes (distinct combinations of quasi-identifier values) there are.
    pub classes: u64,
    /// How many classes are of the smallest size.
    pub smallest_classes: u64,
    pub rows: u64,
}

/// The quasi-identifier values of a row, as the released file writes them (so a
/// null and an empty text are one value).
fn class_key(row: &[Value], quasi: &[usize]) -> Vec<String> {
    quasi
        .iter()
        .map(|&i| row.get(i).map(Value::to_text).unwrap_or_default())
        .collect()
}

/// Rows counted by their quasi-identifier values, one row at a time (a release
/// streams its rows through).
#[derive(Debug, Clone, Default)]
pub struct EquivalenceClasses {
    counts: HashMap<Vec<String>, u64>,
    rows: u64,
}

impl EquivalenceClasses {
    pub fn add(&mut self, row: &[Value], quasi: &[usize]) {
        self.add_key(class_key(row, quasi));
    }

    /// Counts a row given by the text of its quasi-identifiers.
    pub fn add_key(&mut self, key: Vec<String>) {
        *self.counts.entry(key).or_default() += 1;
        self.rows += 1;
    }

    /// The size of the class of a row given by the text of its quasi-identifiers.
    pub fn size_of(&self, key: &[String]) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }

    /// The size of the class of a row.
    pub fn size_of_row(&self, row: &[Value], quasi: &[usize]) -> u64 {
        self.size_of(&class_key(row, quasi))
    }

    /// The anonymity of the rows counted, leaving out classes smaller than `floor`.
    fn anonymity_from(&self, floor: u64) -> Anonymity {
        let sizes = self.counts.values().copied().filter(|n| *n >= floor);
        let mut a = Anonymity::default();
        for n in sizes {
            a.classes += 1;
            a.rows += n;
            if a.k == 0 || n < a.k {
                a.k = n;
                a.smallest_classes = 1;
            } else if n == a.k {
                a.smallest_classes += 1;
            }
        }
        a
    }

    pub fn anonymity(&self) -> Anonymity {
        self.anonymity_from(0)
    }

    /// Rows in classes smaller than `k`.
    pub fn rows_below(&self, k: u64) -> u64 {
        self.counts.values().filter(|n| **n < k).sum()
    }
}

/// OPN-6: the k-anonymity of `rows` over the columns at `quasi`.
pub fn k_anonymity(rows: &[Vec<Value>], quasi: &[usize]) -> Anonymity {
    let mut classes = EquivalenceClasses::default();
    for r in rows {
        classes.add(r, quasi);
    }
    classes.anonymity()
}

/// OPN-6: what record suppression does to reach `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Classes smaller than this lose their rows (0: nothing is dropped).
    pub below: u64,
    /// Rows dropped.
    pub dropped: u64,
    /// The anonymity of the rows kept.
    pub after: Anonymity,
}

/// OPN-6: record suppression. Rows in classes smaller than `k` are dropped when they
/// are at most `max_percent` of all rows, and k is then reached; otherwise nothing
/// is dropped (and the release stays below k).
pub fn plan_suppression(classes: &EquivalenceClasses, k: u64, max_percent: u32) -> Suppression {
    let before = classes.anonymity();
    let below = classes.rows_below(k);
    let allowed = u128::from(below) * 100 <= u128::from(max_percent) * u128::from(before.rows);
    if before.k >= k || below == 0 || !allowed || below == before.rows {
        return Suppression {
            below: 0,
            dropped: 0,
            after: before,
        };
    }
    Suppression {
        below: k,
        dropped: below,
        after: classes.anonymity_from(k),
    }
}

/// OPN-6: drops the rows of `rows` that [`plan_suppression`] drops.
pub fn suppress_records(
    rows: Vec<Vec<Value>>,
    quasi: &[usize],
    k: u64,
    max_percent: u32,
) -> (Vec<Vec<Value>>, Suppression) {
    let mut classes = EquivalenceClasses::default();
    for r in &rows {
        classes.add(r, quasi);
    }
    let s = plan_suppression(&classes, k, max_percent);
    if s.dropped == 0 {
        return (rows, s);
    }
    let kept = rows
        .into_iter()
        .filter(|r| classes.size_of_row(r, quasi) >= s.below)
        .collect();
    (kept, s)
}

/// Why a release was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error("the release names item '{column}', which the source does not have")]
    UnknownItem { column: String },
    #[error("rule '{rule}' cannot be applied to item '{column}'")]
    RuleNotApplicable { column: String, rule: String },
    #[error("item '{column}' holds citizen ID numbers: a release suppresses it, or generalises it to an age or year band or at most its first 6 digits")]
    IdentifierRevealed { column: String },
    #[error(
        "item '{column}' is sensitive: a desensitised release masks, generalises or suppresses it"
    )]
    SensitiveKept { column: String },
    #[error("two released items would both be called '{column}'")]
    ItemNameClash { column: String },
    #[error("the release keeps no item")]
    NothingReleased,
    #[error("quasi-identifier '{column}' is not released")]
    QuasiNotReleased { column: String },
    #[error("the source holds personal data: declare the quasi-identifiers the k-anonymity is computed over")]
    QuasiRequired,
    #[error("the release is only {achieved}-anonymous over its quasi-identifiers; at least k = {required} is required: generalise further, or allow suppressing the rows of small classes")]
    KTooLow { achieved: u64, required: u64 },
}

impl ReleaseError {
    /// Stable machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownItem { .. } => "release.unknown_item",
            Self::RuleNotApplicable { .. } => "release.rule_not_applicable",
            Self::IdentifierRevealed { .. } => "release.identifier_revealed",
            Self::SensitiveKept { .. } => "release.sensitive_item_kept",
            Self::ItemNameClash { .. } => "release.item_name_clash",
            Self::NothingReleased => "release.nothing_released",
            Self::QuasiNotReleased { .. } => "release.quasi_identifier_not_released",
            Self::QuasiRequired => "release.quasi_identifiers_required",
            Self::KTooLow { .. } => "release.k_too_low",
        }
    }

    /// The input field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::QuasiNotReleased { .. } | Self::QuasiRequired | Self::KTooLow { .. } => {
                "quasi_identifiers"
            }
            _ => "rules",
        }
    }

    /// Message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::UnknownItem { column } => format!("源数据没有信息项“{column}”"),
            Self::RuleNotApplicable { column, rule } => {
                format!("信息项“{column}”不能使用规则“{rule}”")
            }
            Self::IdentifierRevealed { column } => format!(
                "信息项“{column}”为公民身份号码：发布时须不发布，或泛化为年龄段、出生年份段、至多前 6 位"
            ),
            Self::SensitiveKept { column } => {
                format!("信息项“{column}”为敏感信息：脱敏发布须脱敏、泛化或不发布")
            }
            Self::ItemNameClash { column } => format!("发布后有两个信息项都叫“{column}”"),
            Self::NothingReleased => "没有选择任何发布的信息项".into(),
            Self::QuasiNotReleased { column } => format!("准标识符“{column}”未发布"),
            Self::QuasiRequired => {
                "源数据含个人信息：须声明用于计算 k-匿名的准标识符".into()
            }
            Self::KTooLow { achieved, required } => format!(
                "按所声明的准标识符，发布数据仅满足 k = {achieved} 的匿名性，要求至少 k = {required}：请进一步泛化，或允许删除小等价类中的记录"
            ),
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, title: &str, t: FieldType, sensitive: bool, role: KeyRole) -> Column {
        Column {
            name: name.into(),
            title: title.into(),
            field_type: t,
            max_length: None,
            constraints: ItemConstraints::default(),
            key_role: role,
            sensitive,
            item_key: String::new(),
        }
    }

    /// A household table: ID, name, sex, birth date, division.
    fn household() -> TableSchema {
        TableSchema {
            columns: vec![
                col(
                    "citizen_id",
                    "公民身份号码",
                    FieldType::String,
                    true,
                    KeyRole::CitizenId,
                ),
                col("name", "姓名", FieldType::String, true, KeyRole::None),
                col("sex", "性别", FieldType::String, false, KeyRole::None),
                col(
                    "birth_date",
                    "出生日期",
                    FieldType::Date,
                    true,
                    KeyRole::None,
                ),
                col(
                    "division",
                    "户籍地行政区划",
                    FieldType::String,
                    false,
                    KeyRole::DivisionCode,
                ),
            ],
            key: vec![0],
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn rules(pairs: &[(&str, &str)]) -> BTreeMap<String, ReleaseRule> {
        pairs
            .iter()
            .map(|(c, r)| ((*c).to_string(), ReleaseRule::parse(r).unwrap()))
            .collect()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn plan(pairs: &[(&str, &str)], quasi: &[&str]) -> Result<ReleasePlan, ReleaseError> {
        let q: Vec<String> = quasi.iter().map(|s| s.to_string()).collect();
        ReleasePlan::new(
            &household(),
            &[],
            &rules(pairs),
            &q,
            ReleaseBasis::Desensitised,
            day(2026, 6, 1),
            "户籍人口信息",
        )
    }

    #[test]
    fn opn_6_rules_read_back_as_written() {
        for key in [
            "keep",
            "suppress",
            "month",
            "year",
            "band:10",
            "prefix:4",
            "age_band:5",
            "year_band:5",
            "mask:citizen_id",
            "mask:partial:3:4",
            "mask:pseudonym",
        ] {
            let r = ReleaseRule::parse(key).unwrap_or_else(|| panic!("{key}"));
            assert_eq!(r.to_string(), key);
        }
        assert_eq!(ReleaseRule::parse("mask:clear"), Some(ReleaseRule::Keep));
        assert_eq!(
            ReleaseRule::parse("mask:suppress"),
            Some(ReleaseRule::Suppress)
        );
        for bad in [
            "band:0",
            "band:x",
            "prefix:65",
            "age_band:",
            "mask:nope",
            "blur",
        ] {
            assert_eq!(ReleaseRule::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn opn_6_generalisation_makes_values_coarser() {
        let on = day(2026, 6, 1);
        let k = b"key";
        let birth = Value::Date(day(1990, 7, 15));
        assert_eq!(
            transform(ReleaseRule::Month, &birth, k, on),
            text("1990-07")
        );
        assert_eq!(transform(ReleaseRule::Year, &birth, k, on), text("1990"));
        assert_eq!(
            transform(ReleaseRule::YearBand(5), &birth, k, on),
            text("1990-1994")
        );
        // 35 on 2026-06-01, the birthday not yet reached.
        assert_eq!(
            transform(ReleaseRule::AgeBand(5), &birth, k, on),
            text("35-39")
        );
        assert_eq!(
            transform(ReleaseRule::AgeBand(1), &birth, k, on),
            text("35")
        );
        assert_eq!(
            transform(ReleaseRule::Band(10), &Value::Integer(27), k, on),
            text("20-29")
        );
        assert_eq!(
            transform(ReleaseRule::Band(10), &Value::Integer(-3), k, on),
            text("-10--1")
        );
        assert_eq!(
            transform(ReleaseRule::Band(1000), &Value::Number(4250.5), k, on),
            text("[4000, 5000)")
        );
        assert_eq!(
            transform(ReleaseRule::Prefix(4), &text("330106"), k, on),
            text("3301")
        );
        // A text that is no date becomes null rather than leaking.
        assert_eq!(
            transform(ReleaseRule::Year, &text("未知"), k, on),
            Value::Null
        );
        assert_eq!(
            transform(ReleaseRule::Year, &Value::Null, k, on),
            Value::Null
        );
    }

    #[test]
    fn opn_6_an_age_band_is_counted_from_the_birth_date_in_a_citizen_id() {
        let code = crate::ids::DivisionCode::parse("110101").unwrap();
        let id = CitizenId::synthesize(&code, day(1984, 2, 29), 7).unwrap();
        let v = text(id.as_str());
        let on = day(2026, 6, 1);
        assert_eq!(
            transform(ReleaseRule::AgeBand(5), &v, b"k", on),
            text("40-44")
        );
        assert_eq!(
            transform(ReleaseRule::YearBand(10), &v, b"k", on),
            text("1980-1989")
        );
        assert_eq!(
            transform(ReleaseRule::Prefix(4), &v, b"k", on),
            text("1101")
        );
        // A number failing its check digit is not read as anyone's birth date.
        let mut broken = id.as_str().to_string();
        let last = if broken.ends_with('0') { '1' } else { '0' };
        broken.pop();
        broken.push(last);
        assert_eq!(
            transform(ReleaseRule::AgeBand(5), &text(&broken), b"k", on),
            Value::Null
        );
    }

    #[test]
    fn opn_6_a_release_never_reveals_a_citizen_id_nor_keeps_a_sensitive_item() {
        for rule in [
            "keep",
            "mask:citizen_id",
            "mask:pseudonym",
            "prefix:7",
            "mask:partial:6:4",
        ] {
            let e = plan(&[("citizen_id", rule), ("sex", "keep")], &["sex"]).unwrap_err();
            assert_eq!(e.code(), "release.identifier_revealed", "{rule}");
        }
        let e = plan(&[("name", "keep"), ("sex", "keep")], &["sex"]).unwrap_err();
        assert_eq!(e.code(), "release.sensitive_item_kept");
        assert!(e.message_zh().contains("name"));
        // On consent a masked number may be released; a whole one still not.
        let consent = |r: &str| {
            ReleasePlan::new(
                &household(),
                &[],
                &rules(&[("citizen_id", r), ("name", "keep")]),
                &[],
                ReleaseBasis::Consent,
                day(2026, 6, 1),
                "x",
            )
        };
        // Nothing counts as a quasi-identifier unless declared: the subjects agreed.
        assert!(consent("mask:citizen_id").unwrap().quasi.is_empty());
        assert_eq!(
            consent("keep").unwrap_err().code(),
            "release.identifier_revealed"
        );
        let e = plan(&[("sex", "band:10")], &["sex"]).unwrap_err();
        assert_eq!(e.code(), "release.rule_not_applicable");
        let e = plan(&[("nope", "keep")], &[]).unwrap_err();
        assert_eq!(e.code(), "release.unknown_item");
    }

    #[test]
    fn opn_6_personal_data_needs_quasi_identifiers_and_id_derived_items_are_ones() {
        let e = plan(&[("sex", "keep"), ("division", "prefix:4")], &[]).unwrap_err();
        assert_eq!(e.code(), "release.quasi_identifiers_required");
        let e = plan(&[("sex", "keep")], &["division"]).unwrap_err();
        assert_eq!(e.code(), "release.quasi_identifier_not_released");
        assert_eq!(
            plan(&[], &[]).unwrap_err().code(),
            "release.nothing_released"
        );
        let p = plan(
            &[
                ("citizen_id", "year_band:5"),
                ("sex", "keep"),
                ("division", "prefix:4"),
            ],
            &["sex", "division"],
        )
        .unwrap();
        // The year band from the ID joins the declared quasi-identifiers.
        assert_eq!(p.quasi_names(), ["citizen_id_year_band", "sex", "division"]);
        let items = p.released_items();
        assert_eq!(items[0].name, "出生年份段（由公民身份号码推算）");
        assert_eq!(items[0].field_type, FieldType::String);
        assert_eq!(items[0].key_role, KeyRole::None);
        assert!(!items[0].sensitive);
        assert_eq!(items[1].code_name, "sex");
        // A kept division code stays a division code; nothing is a key any more.
        assert_eq!(items[2].key_role, KeyRole::None, "prefix makes it text");
        assert_eq!(p.reads(), [0, 2, 4]);
    }

    #[test]
    fn opn_6_a_plan_turns_source_rows_into_released_rows() {
        let p = plan(
            &[
                ("citizen_id", "suppress"),
                ("name", "mask:name"),
                ("birth_date", "age_band:10"),
                ("division", "keep"),
            ],
            &["birth_date", "division"],
        )
        .unwrap();
        let row = vec![
            text("110101199001011234"),
            text("张三丰"),
            text("男"),
            Value::Date(day(1990, 1, 1)),
            text("110101"),
        ];
        assert_eq!(
            p.apply(&row, b"k"),
            vec![text("张**"), text("30-39"), text("110101")]
        );
        assert_eq!(p.quasi_names(), ["birth_date_age_band", "division"]);
        assert_eq!(p.released_items()[2].key_role, KeyRole::DivisionCode);
    }

    /// A hand-made table of (age band, district, sex).
    fn table(spec: &[(&str, &str, &str, usize)]) -> Vec<Vec<Value>> {
        let mut rows = Vec::new();
        for (age, district, sex, n) in spec {
            for _ in 0..*n {
                rows.push(vec![text(age), text(district), text(sex)]);
            }
        }
        rows
    }

    #[test]
    fn opn_6_k_is_the_size_of_the_smallest_equivalence_class() {
        let rows = table(&[
            ("30-34", "830102", "男", 6),
            ("30-34", "830102", "女", 5),
            ("35-39", "830121", "男", 2),
            ("35-39", "830121", "女", 7),
        ]);
        let a = k_anonymity(&rows, &[0, 1, 2]);
        assert_eq!(
            a,
            Anonymity {
                k: 2,
                classes: 4,
                smallest_classes: 1,
                rows: 20
            }
        );
        // Over fewer quasi-identifiers the classes merge.
        assert_eq!(k_anonymity(&rows, &[0, 1]).k, 9);
        assert_eq!(k_anonymity(&rows, &[]).k, 20);
        assert_eq!(k_anonymity(&[], &[0]).k, 0);
        // A null and an empty text are one value, as the released file writes them.
        let mixed = vec![vec![Value::Null], vec![text("")]];
        assert_eq!(k_anonymity(&mixed, &[0]).k, 2);
    }

    #[test]
    fn opn_6_small_classes_are_dropped_only_within_the_declared_share() {
        let rows = table(&[
            ("30-34", "830102", "男", 50),
            ("30-34", "830102", "女", 48),
            ("90-94", "830121", "男", 2),
        ]);
        // 2 of 100 rows (2 %) sit in a class below 5: dropped within 5 %.
        let (kept, s) = suppress_records(rows.clone(), &[0, 1, 2], 5, 5);
        assert_eq!(s.dropped, 2);
        assert_eq!(kept.len(), 98);
        assert_eq!(s.after.k, 48);
        assert_eq!(k_anonymity(&kept, &[0, 1, 2]).k, 48);
        // Within 1 % nothing may be dropped, and the table stays 2-anonymous.
        let (kept, s) = suppress_records(rows.clone(), &[0, 1, 2], 5, 1);
        assert_eq!((s.dropped, kept.len(), s.after.k), (0, 100, 2));
        // Already k-anonymous: nothing is dropped.
        let (_, s) = suppress_records(rows, &[0, 1, 2], 2, 5);
        assert_eq!(s.dropped, 0);
        // A table made only of small classes is never emptied.
        let (kept, s) = suppress_records(table(&[("a", "b", "c", 1)]), &[0], 5, 100);
        assert_eq!((s.dropped, kept.len()), (0, 1));
    }

    #[test]
    fn opn_6_the_refusal_names_k_achieved_and_required() {
        let e = ReleaseError::KTooLow {
            achieved: 2,
            required: 5,
        };
        assert_eq!(e.code(), "release.k_too_low");
        assert!(e.message_zh().contains("k = 2") && e.message_zh().contains("k = 5"));
        assert!(e.message_en().contains("2-anonymous") && e.message_en().contains("k = 5"));
    }

    #[test]
    fn opn_6_forms_offer_the_rules_a_column_can_take() {
        let s = household();
        let id = rules_for(&s.columns[0], ReleaseBasis::Desensitised);
        assert_eq!(id[0], ReleaseRule::AgeBand(5));
        assert!(!id.contains(&ReleaseRule::Keep));
        assert!(!id.contains(&ReleaseRule::Mask(MaskRule::CitizenId)));
        assert!(id.contains(&ReleaseRule::Prefix(6)));
        let birth = rules_for(&s.columns[3], ReleaseBasis::Desensitised);
        assert_eq!(birth[0], ReleaseRule::Year);
        assert!(!birth.contains(&ReleaseRule::Keep));
        let sex = rules_for(&s.columns[2], ReleaseBasis::Desensitised);
        assert_eq!(sex[0], ReleaseRule::Keep);
        assert!(sex.contains(&ReleaseRule::Suppress));
    }
}
