//! SHR-8, SHR-15: masking (脱敏) rules of the egress gate (DESIGN principle 2) —
//! what each rule keeps of a value, the rule a column gets by default, and the
//! per-grant policy of overrides. Pure: no I/O.
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

use crate::catalog::{FieldType, KeyRole};
use crate::dataset::{parse_date, parse_datetime, Column, TableSchema, Value};

/// How one value is masked before it leaves the platform (SHR-8, SHR-15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskRule {
    /// The value as is.
    Clear,
    /// Keep the first 6 and last 4 characters (`110101********1234`).
    CitizenId,
    /// Mobile `138****1234`; other numbers keep their last 4 characters.
    Mobile,
    /// Keep the first character (the surname): `张*`, `欧***`.
    Name,
    /// Keep the administrative area (`北京市朝阳区****`).
    Address,
    /// Keep the year of a date (`1990`).
    DateToYear,
    /// A keyed HMAC-SM3 pseudonym (`p_` + 32 hex): the same person links across
    /// rows and deliveries under one key, and cannot be read back.
    Pseudonym,
    /// The value becomes null.
    Suppress,
    /// Keep the first `keep_start` and last `keep_end` characters.
    Partial { keep_start: u8, keep_end: u8 },
}

/// The `Partial` rule offered by [`MaskRule::all`] and parsed from a bare `partial`.
const PARTIAL_DEFAULT: MaskRule = MaskRule::Partial {
    keep_start: 3,
    keep_end: 4,
};

const ALL_RULES: &[MaskRule] = &[
    MaskRule::Clear,
    MaskRule::CitizenId,
    MaskRule::Mobile,
    MaskRule::Name,
    MaskRule::Address,
    MaskRule::DateToYear,
    MaskRule::Pseudonym,
    MaskRule::Suppress,
    PARTIAL_DEFAULT,
];

impl MaskRule {
    /// Every kind of rule, `Partial` as keep 3 + 4.
    pub fn all() -> &'static [MaskRule] {
        ALL_RULES
    }

    /// Stable key of the kind of rule used in storage, the API and config
    /// (`partial` for every `Partial`; [`Display`](std::fmt::Display) gives
    /// `partial:3:4`).
    pub fn key(&self) -> &'static str {
        match self {
            MaskRule::Clear => "clear",
            MaskRule::CitizenId => "citizen_id",
            MaskRule::Mobile => "mobile",
            MaskRule::Name => "name",
            MaskRule::Address => "address",
            MaskRule::DateToYear => "date_to_year",
            MaskRule::Pseudonym => "pseudonym",
            MaskRule::Suppress => "suppress",
            MaskRule::Partial { .. } => "partial",
        }
    }

    /// A key, or `partial:<keep_start>:<keep_end>` (bare `partial` is keep 3 + 4).
    pub fn parse(key: &str) -> Option<Self> {
        let rule = match key {
            "clear" => MaskRule::Clear,
            "citizen_id" => MaskRule::CitizenId,
            "mobile" => MaskRule::Mobile,
            "name" => MaskRule::Name,
            "address" => MaskRule::Address,
            "date_to_year" => MaskRule::DateToYear,
            "pseudonym" => MaskRule::Pseudonym,
            "suppress" => MaskRule::Suppress,
            "partial" => PARTIAL_DEFAULT,
            _ => {
                let mut parts = key.strip_prefix("partial:")?.split(':');
                let keep_start = parts.next()?.parse().ok()?;
                let keep_end = parts.next()?.parse().ok()?;
                if parts.next().is_some() {
                    return None;
                }
                MaskRule::Partial {
                    keep_start,
                    keep_end,
                }
            }
        };
        Some(rule)
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            MaskRule::Clear => "不脱敏",
            MaskRule::CitizenId => "身份证号遮蔽（保留前6后4位）",
            MaskRule::Mobile => "电话号码遮蔽",
            MaskRule::Name => "姓名遮蔽（保留姓氏）",
            MaskRule::Address => "地址截断至行政区划",
            MaskRule::DateToYear => "日期仅保留年份",
            MaskRule::Pseudonym => "假名化（HMAC-SM3）",
            MaskRule::Suppress => "屏蔽（置空）",
            MaskRule::Partial { .. } => "部分保留（首尾）",
        }
    }

    pub fn label_en(&self) -> &'static str {
        match self {
            MaskRule::Clear => "Unmasked",
            MaskRule::CitizenId => "Citizen ID (first 6, last 4)",
            MaskRule::Mobile => "Phone number",
            MaskRule::Name => "Name (surname kept)",
            MaskRule::Address => "Address to administrative area",
            MaskRule::DateToYear => "Date to year",
            MaskRule::Pseudonym => "Pseudonym (HMAC-SM3)",
            MaskRule::Suppress => "Suppressed (null)",
            MaskRule::Partial { .. } => "Partial (start and end kept)",
        }
    }
}

impl std::fmt::Display for MaskRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaskRule::Partial {
                keep_start,
                keep_end,
            } => write!(f, "partial:{keep_start}:{keep_end}"),
            other => f.write_str(other.key()),
        }
    }
}

/// HMAC (RFC 2104) over SM3 (GB/T 32905), block size 64 bytes.
pub fn hmac_sm3(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sm3::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner_pad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let outer_pad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sm3::new()
        .chain_update(&inner_pad)
        .chain_update(message)
        .finalize();
    let outer = Sm3::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize();
    outer.into()
}

/// Masks a value's text; `None` means suppressed. Every rule but `Clear` trims
/// the text first, and an empty text stays empty (unless suppressed). Rules work
/// on characters, never bytes.
pub fn mask_text(rule: &MaskRule, text: &str, key: &[u8]) -> Option<String> {
    let t = text.trim();
    match *rule {
        MaskRule::Clear => Some(text.to_string()),
        MaskRule::Suppress => None,
        _ if t.is_empty() => Some(String::new()),
        MaskRule::CitizenId => Some(keep_edges(t, 6, 4)),
        MaskRule::Mobile => Some(mask_phone(t)),
        MaskRule::Name => Some(keep_edges(t, 1, 0)),
        MaskRule::Address => Some(mask_address(t)),
        // Fail closed: a text that is not a date is not delivered.
        MaskRule::DateToYear => year_of_text(t).map(|y| format!("{y:04}")),
        MaskRule::Pseudonym => Some(pseudonym(t, key)),
        MaskRule::Partial {
            keep_start,
            keep_end,
        } => Some(keep_edges(t, keep_start.into(), keep_end.into())),
    }
}

/// Masks one value. Null stays null; `Clear` returns the value; `Suppress` (and a
/// `DateToYear` value that is no date) gives null; every other rule gives text.
pub fn mask_value(rule: &MaskRule, value: &Value, key: &[u8]) -> Value {
    match (rule, value) {
        (_, Value::Null) => Value::Null,
        (MaskRule::Clear, v) => v.clone(),
        (MaskRule::Suppress, _) => Value::Null,
        (MaskRule::DateToYear, Value::Date(d)) => Value::Text(format!("{:04}", d.year())),
        (MaskRule::DateToYear, Value::DateTime(t)) => Value::Text(format!("{:04}", t.year())),
        (rule, v) => match mask_text(rule, &v.to_text(), key) {
            Some(s) => Value::Text(s),
            None => Value::Null,
        },
    }
}

/// The first `start` and last `end` characters, the others `*`. A text no
/// longer than what would be kept is all `*`, so no rule reveals a whole value.
fn keep_edges(text: &str, start: usize, end: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    if n <= start + end {
        return "*".repeat(n);
    }
    let mut out = String::with_capacity(text.len());
    out.extend(&chars[..start]);
    out.extend(std::iter::repeat_n('*', n - start - end));
    out.extend(&chars[n - end..]);
    out
}

/// An 11-digit mainland mobile number (a `+86`/`0086` prefix and separators
/// allowed) keeps 3 + 4 digits; anything else its last 4 characters.
fn mask_phone(t: &str) -> String {
    let digits: String = t
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let national = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits);
    if national.len() == 11
        && national.starts_with('1')
        && national.bytes().all(|b| b.is_ascii_digit())
    {
        keep_edges(national, 3, 4)
    } else {
        keep_edges(t, 0, 4)
    }
}

/// Addresses are searched for their administrative prefix in this many characters.
const ADDRESS_WINDOW: usize = 12;

/// The administrative prefix (province, city, county) of an address, then `****`.
///
/// Within the first 12 characters, administrative units ending in 省/市/区/县/旗/
/// 州/盟 are taken one after another, each at least 2 characters long; the prefix
/// ends at the last one, and at once at a county-level 区/县/旗 (自治区 is a
/// province). Digits, street words (路/街/巷/弄/号) and townships (镇/乡/村)
/// end the search, so no street is kept. Without a unit: the first 6 characters
/// (at most half of a short address).
fn mask_address(t: &str) -> String {
    let chars: Vec<char> = t.chars().collect();
    let mut unit_start = 0;
    let mut end = None;
    for (i, &c) in chars.iter().enumerate().take(ADDRESS_WINDOW) {
        let in_unit = i > unit_start;
        if c.is_numeric()
            || matches!(c, '路' | '街' | '巷' | '弄' | '号')
            || (in_unit && matches!(c, '镇' | '乡' | '村'))
        {
            break;
        }
        if in_unit && matches!(c, '省' | '市' | '区' | '县' | '旗' | '州' | '盟') {
            end = Some(i + 1);
            unit_start = i + 1;
            let autonomous_region = c == '区' && i >= 2 && chars[i - 2..i] == ['自', '治'];
            if matches!(c, '县' | '旗') || (c == '区' && !autonomous_region) {
                break;
            }
        }
    }
    let keep = end.unwrap_or_else(|| 6.min(chars.len() / 2));
    let mut out: String = chars[..keep].iter().collect();
    out.push_str("****");
    out
}

/// The year of a date or date-time written `YYYY-MM-DD`, `YYYYMMDD`,
/// `YYYY/MM/DD` or `YYYY年M月D日` (a time after it allowed), or a bare year.
fn year_of_text(t: &str) -> Option<i32> {
    if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().ok().filter(|y| *y >= 1000);
    }
    if let Some(d) = parse_date(t) {
        return Some(d.year());
    }
    if let Some(d) = parse_datetime(t) {
        return Some(d.year());
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y年%m月%d日") {
        return Some(d.year());
    }
    None
}

/// `p_` + the first 32 hex digits of HMAC-SM3(key, text).
fn pseudonym(text: &str, key: &[u8]) -> String {
    let mac = hmac_sm3(key, text.as_bytes());
    format!("p_{}", &hex::encode(mac)[..32])
}

/// Whether a column's title contains one of `zh`, or its code name has one of
/// `words` as whole `_`-separated words (`id_no` in `holder_id_no`) or one of
/// `parts` anywhere (`phone` in `cellphone`).
fn column_means(column: &Column, zh: &[&str], words: &[&str], parts: &[&str]) -> bool {
    let name = column.name.to_ascii_lowercase();
    let delimited = format!("_{name}_");
    zh.iter().any(|w| column.title.contains(w))
        || words.iter().any(|w| delimited.contains(&format!("_{w}_")))
        || parts.iter().any(|p| name.contains(p))
}

/// The rule applied to a column when a grant says nothing else (SHR-8 least
/// privilege; SHR-15 desensitising before sharing): identifiers of legal entities
/// and divisions are public, citizen IDs are masked, other sensitive items are
/// masked by what they hold (by 中文 title, English or pinyin code name), and a
/// sensitive item of unknown meaning is suppressed.
pub fn default_rule(column: &Column) -> MaskRule {
    match column.key_role {
        KeyRole::CitizenId => return MaskRule::CitizenId,
        KeyRole::CreditCode | KeyRole::DivisionCode => return MaskRule::Clear,
        KeyRole::None | KeyRole::RecordKey => {}
    }
    if !column.sensitive {
        return MaskRule::Clear;
    }
    if matches!(column.field_type, FieldType::Date | FieldType::DateTime) {
        return MaskRule::DateToYear;
    }
    let means =
        |zh: &[&str], words: &[&str], parts: &[&str]| column_means(column, zh, words, parts);
    if means(
        &["身份证", "证件号", "身份号码"],
        &[
            "citizen_id",
            "id_no",
            "id_card",
            "id_number",
            "sfzh",
            "zjhm",
        ],
        &["idcard", "citizenid"],
    ) {
        MaskRule::CitizenId
    } else if means(
        &["手机", "电话", "联系方式"],
        &["tel", "sjhm", "lxdh", "dh"],
        &["phone", "mobile"],
    ) {
        MaskRule::Mobile
    } else if means(
        &["地址", "住址", "出生地"],
        &["addr", "dz", "zz"],
        &["address"],
    ) {
        MaskRule::Address
    } else if means(&["出生", "生日"], &["csrq"], &["birth"]) {
        MaskRule::DateToYear
    } else if means(&["姓名"], &["name", "xm"], &[]) {
        MaskRule::Name
    } else {
        MaskRule::Suppress
    }
}

/// SHR-8: the masking of one grant — per-column overrides (column name → rule);
/// other columns get [`default_rule`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskPolicy {
    #[serde(default)]
    pub overrides: BTreeMap<String, MaskRule>,
}

impl MaskPolicy {
    /// The policy with one more override.
    pub fn with(mut self, column: impl Into<String>, rule: MaskRule) -> Self {
        self.overrides.insert(column.into(), rule);
        self
    }

    pub fn rule_for(&self, column: &Column) -> MaskRule {
        self.overrides
            .get(&column.name)
            .copied()
            .unwrap_or_else(|| default_rule(column))
    }

    /// Masks one row given in schema column order. The result has one value per
    /// column: a missing value is null, and values beyond the schema are dropped.
    pub fn apply(&self, schema: &TableSchema, values: &[Value], key: &[u8]) -> Vec<Value> {
        schema
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| match values.get(i) {
                Some(v) => mask_value(&self.rule_for(column), v, key),
                None => Value::Null,
            })
            .collect()
    }

    /// Refuses overrides naming a column the table lacks, and (SHR-8) overrides
    /// revealing citizen ID numbers — `Clear`, or `Partial` keeping more than the
    /// `CitizenId` rule's 10 characters — unless the grant is for verification
    /// (`allow_clear_identifiers`). The first problem in column-name order is
    /// reported.
    pub fn validate(
        &self,
        schema: &TableSchema,
        allow_clear_identifiers: bool,
    ) -> Result<(), MaskPolicyError> {
        for (name, rule) in &self.overrides {
            let Some(column) = schema.columns.iter().find(|c| &c.name == name) else {
                return Err(MaskPolicyError::UnknownColumn {
                    column: name.clone(),
                });
            };
            let identifier = column.key_role == KeyRole::CitizenId
                || default_rule(column) == MaskRule::CitizenId;
            let reveals = match *rule {
                MaskRule::Clear => true,
                MaskRule::Partial {
                    keep_start,
                    keep_end,
                } => u16::from(keep_start) + u16::from(keep_end) > 10,
                _ => false,
            };
            if identifier && reveals && !allow_clear_identifiers {
                return Err(MaskPolicyError::ClearIdentifier {
                    column: name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Why a masking policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaskPolicyError {
    /// An override names a column the table does not have.
    #[error("the masking policy names column '{column}', which the table does not have")]
    UnknownColumn {
        /// The column named.
        column: String,
    },
    /// An override would deliver citizen ID numbers unmasked to a grant not for
    /// verification (SHR-8).
    #[error("column '{column}' holds citizen ID numbers: only a grant for identity verification may receive them unmasked (SHR-8)")]
    ClearIdentifier {
        /// The column named.
        column: String,
    },
}

impl MaskPolicyError {
    /// Stable machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownColumn { .. } => "masking.unknown_column",
            Self::ClearIdentifier { .. } => "masking.clear_identifier",
        }
    }

    /// Message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::UnknownColumn { column } => {
                format!("脱敏规则指定的列“{column}”不在数据表中")
            }
            Self::ClearIdentifier { column } => {
                format!("列“{column}”为公民身份号码，仅核验用途的授权可以不脱敏提供（SHR-8）")
            }
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}
