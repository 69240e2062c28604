//! COL-2, COL-3, COL-4, GOV-1: the typed table a mounted resource's rows live in,
//! the check of every delivered value, quality scores and freshness.
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkCalendar};
use crate::catalog::{
    item_key, normalise_item_name, DataItem, FieldType, Grade, ItemConstraints, KeyRole,
    Sensitivity, UpdateFrequency,
};
use crate::ids::{CitizenId, CreditCode, DivisionCode};

/// One typed value of a dataset row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl Value {
    /// The canonical text of the value ("" for null): what exports write and what
    /// cross-source checks compare.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Boolean(b) => b.to_string(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::DateTime(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// One column of a dataset table: a data item of the catalog entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The column name: the item's code name in lower case.
    pub name: String,
    /// The item's name (中文), also accepted as a heading in delivered files.
    pub title: String,
    pub field_type: FieldType,
    pub max_length: Option<u32>,
    #[serde(default)]
    pub constraints: ItemConstraints,
    pub key_role: KeyRole,
    pub sensitive: bool,
    /// CAT-3: where the same datum meets across departments.
    pub item_key: String,
}

impl Column {
    /// Whether the column holds an identifier checked digit by digit (COL-3): a
    /// citizen ID, a credit code or a division code. Such columns are indexed,
    /// and their stored values are ASCII digits and capitals only.
    pub fn identifies(&self) -> bool {
        matches!(
            self.key_role,
            KeyRole::CitizenId | KeyRole::CreditCode | KeyRole::DivisionCode
        )
    }
}

/// COL-2: the schema of a mounted resource's table, derived from its data items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSchema {
    pub columns: Vec<Column>,
    /// Positions of the columns that identify a row (may be empty: no upserts then).
    pub key: Vec<usize>,
}

/// Why the headings of a delivered file do not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderMismatch {
    /// Headings that name no data item: refused, since their values would be lost.
    pub unknown: Vec<String>,
    /// Required or key items the file does not carry.
    pub missing: Vec<String>,
    /// Items named by two headings.
    pub repeated: Vec<String>,
}

impl HeaderMismatch {
    pub fn message_zh(&self) -> String {
        let mut parts = Vec::new();
        if !self.unknown.is_empty() {
            parts.push(format!("表头含目录中没有的列：{}", self.unknown.join("、")));
        }
        if !self.missing.is_empty() {
            parts.push(format!("缺少必填或主键列：{}", self.missing.join("、")));
        }
        if !self.repeated.is_empty() {
            parts.push(format!("同一信息项出现多次：{}", self.repeated.join("、")));
        }
        parts.join("；")
    }

    pub fn message_en(&self) -> String {
        let mut parts = Vec::new();
        if !self.unknown.is_empty() {
            parts.push(format!(
                "headings not in the catalog: {}",
                self.unknown.join(", ")
            ));
        }
        if !self.missing.is_empty() {
            parts.push(format!(
                "required or key columns missing: {}",
                self.missing.join(", ")
            ));
        }
        if !self.repeated.is_empty() {
            parts.push(format!(
                "data items given twice: {}",
                self.repeated.join(", ")
            ));
        }
        parts.join("; ")
    }
}

impl TableSchema {
    /// The table of a resource with these data items. The key is the items marked
    /// as record key; without one, the single citizen-ID or credit-code item.
    pub fn from_items(items: &[DataItem]) -> Self {
        let columns: Vec<Column> = items
            .iter()
            .map(|i| Column {
                name: i.code_name.to_ascii_lowercase(),
                title: i.name.trim().to_string(),
                field_type: i.field_type,
                max_length: i.length,
                constraints: i.constraints.clone(),
                key_role: i.key_role,
                sensitive: i.sensitive,
                item_key: item_key(i),
            })
            .collect();
        let record_keys: Vec<usize> = positions(&columns, |c| c.key_role == KeyRole::RecordKey);
        let key = if !record_keys.is_empty() {
            record_keys
        } else {
            let ids = positions(&columns, |c| {
                matches!(c.key_role, KeyRole::CitizenId | KeyRole::CreditCode)
            });
            if ids.len() == 1 {
                ids
            } else {
                Vec::new()
            }
        };
        Self { columns, key }
    }

    /// The column names, in table order.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    pub fn key_columns(&self) -> Vec<&str> {
        self.key
            .iter()
            .map(|i| self.columns[*i].name.as_str())
            .collect()
    }

    /// COL-3, COL-9: the one column identifying the subject of a row (a person by
    /// citizen ID, an entity by credit code), if exactly one item has that role.
    pub fn subject_column(&self, role: KeyRole) -> Option<usize> {
        let found = positions(&self.columns, |c| c.key_role == role);
        (found.len() == 1).then(|| found[0])
    }

    /// Which column of the file feeds each column of the table. A heading matches
    /// an item by its code name (any case) or its name.
    pub fn map_headers(&self, headers: &[String]) -> Result<Vec<Option<usize>>, HeaderMismatch> {
        let mut mapping = vec![None; self.columns.len()];
        let mut problem = HeaderMismatch {
            unknown: Vec::new(),
            missing: Vec::new(),
            repeated: Vec::new(),
        };
        for (source, heading) in headers.iter().enumerate() {
            let wanted = heading.trim();
            let normalised = normalise_item_name(wanted);
            let found = self.columns.iter().position(|c| {
                c.name.eq_ignore_ascii_case(wanted) || normalise_item_name(&c.title) == normalised
            });
            match found {
                Some(col) if mapping[col].is_some() => {
                    problem.repeated.push(self.columns[col].title.clone())
                }
                Some(col) => mapping[col] = Some(source),
                None => problem.unknown.push(wanted.to_string()),
            }
        }
        for (i, c) in self.columns.iter().enumerate() {
            if mapping[i].is_none() && (c.constraints.required || self.key.contains(&i)) {
                problem.missing.push(c.title.clone());
            }
        }
        if problem.unknown.is_empty() && problem.missing.is_empty() && problem.repeated.is_empty() {
            Ok(mapping)
        } else {
            Err(problem)
        }
    }

    /// A short fingerprint of the column layout: a load under a different layout
    /// needs a new table.
    pub fn layout(&self) -> String {
        self.columns
            .iter()
            .map(|c| format!("{}:{}", c.name, c.field_type.key()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// COL-2: the schema as a Frictionless Table Schema, with our extensions
    /// (grade, sensitivity, key role) under `gongshu:` names.
    pub fn to_table_schema(
        &self,
        grade: Grade,
        sensitivity: Option<Sensitivity>,
    ) -> serde_json::Value {
        let fields: Vec<serde_json::Value> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut constraints = serde_json::Map::new();
                if c.constraints.required || self.key.contains(&i) {
                    constraints.insert("required".into(), true.into());
                }
                if let Some(n) = c.max_length {
                    if c.field_type == FieldType::String {
                        constraints.insert("maxLength".into(), n.into());
                    }
                }
                if let Some(p) = &c.constraints.pattern {
                    constraints.insert("pattern".into(), p.clone().into());
                }
                if !c.constraints.enum_values.is_empty() {
                    constraints.insert("enum".into(), c.constraints.enum_values.clone().into());
                }
                if let Some(m) = c.constraints.minimum {
                    constraints.insert("minimum".into(), m.into());
                }
                if let Some(m) = c.constraints.maximum {
                    constraints.insert("maximum".into(), m.into());
                }
                serde_json::json!({
                    "name": c.name,
                    "title": c.title,
                    "type": frictionless_type(c.field_type),
                    "constraints": constraints,
                    "gongshu:keyRole": c.key_role.key(),
                    "gongshu:sensitive": c.sensitive,
                })
            })
            .collect();
        let mut schema = serde_json::json!({
            "fields": fields,
            "gongshu:grade": grade.key(),
            "gongshu:sensitivity": sensitivity.map(|s| s.key()),
        });
        if !self.key.is_empty() {
            schema["primaryKey"] = self.key_columns().into();
        }
        schema
    }
}

fn positions(columns: &[Column], pick: impl Fn(&Column) -> bool) -> Vec<usize> {
    columns
        .iter()
        .enumerate()
        .filter(|(_, c)| pick(c))
        .map(|(i, _)| i)
        .collect()
}

fn frictionless_type(t: FieldType) -> &'static str {
    match t {
        FieldType::String | FieldType::Binary => "string",
        FieldType::Integer => "integer",
        FieldType::Number => "number",
        FieldType::Date => "date",
        FieldType::DateTime => "datetime",
        FieldType::Boolean => "boolean",
    }
}

/// A pattern as data items declare it, anchored to the whole value.
pub fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Why one delivered value was refused (COL-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellError {
    /// The column (item code name) the value was for.
    pub column: String,
    /// Stable code, e.g. `dataset.invalid_citizen_id`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl CellError {
    /// COL-3: a row whose key an earlier row of the same load already holds.
    pub fn duplicate_key(schema: &TableSchema) -> Self {
        let keys = schema.key_columns().join(", ");
        Self {
            column: keys.clone(),
            code: "dataset.duplicate_key".into(),
            message_zh: format!("主键（{keys}）与本批较早的一行重复"),
            message_en: format!("the key ({keys}) repeats an earlier row of this load"),
        }
    }
}

/// COL-3: checks delivered rows against a schema and types their values.
#[derive(Debug, Clone)]
pub struct RowValidator {
    pub schema: TableSchema,
    patterns: Vec<Option<Regex>>,
    /// GOV-1 consistency: a birth date or sex item must agree with the citizen ID
    /// number of the same row; these are the columns checked.
    consistency: Option<Consistency>,
}

#[derive(Debug, Clone)]
struct Consistency {
    id: usize,
    birth_dates: Vec<usize>,
    sexes: Vec<usize>,
}

impl Consistency {
    fn of(schema: &TableSchema) -> Option<Self> {
        let id = schema.subject_column(KeyRole::CitizenId)?;
        let mut c = Self {
            id,
            birth_dates: Vec::new(),
            sexes: Vec::new(),
        };
        for (i, col) in schema.columns.iter().enumerate() {
            let title = normalise_item_name(&col.title);
            if col.field_type == FieldType::Date
                && (title.contains("出生日期") || col.name == "birth_date")
            {
                c.birth_dates.push(i);
            } else if title == "性别" || col.name == "sex" || col.name == "gender" {
                c.sexes.push(i);
            }
        }
        (!c.birth_dates.is_empty() || !c.sexes.is_empty()).then_some(c)
    }
}

impl RowValidator {
    /// Fails only if a pattern does not compile (entries are checked when saved).
    pub fn new(schema: TableSchema) -> Result<Self, regex::Error> {
        let patterns = schema
            .columns
            .iter()
            .map(|c| {
                c.constraints
                    .pattern
                    .as_deref()
                    .map(compile_pattern)
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let consistency = Consistency::of(&schema);
        Ok(Self {
            schema,
            patterns,
            consistency,
        })
    }

    /// GOV-1 consistency of a valid row: (rules checked, rules broken).
    pub fn consistency(&self, values: &[Value]) -> (u32, u32) {
        let Some(c) = &self.consistency else {
            return (0, 0);
        };
        let Value::Text(id_text) = &values[c.id] else {
            return (0, 0);
        };
        let Ok(id) = CitizenId::parse(id_text) else {
            return (0, 0);
        };
        let (mut checked, mut broken) = (0, 0);
        for i in &c.birth_dates {
            if let Value::Date(d) = &values[*i] {
                checked += 1;
                if *d != id.birth_date() {
                    broken += 1;
                }
            }
        }
        for i in &c.sexes {
            if let Value::Text(sex) = &values[*i] {
                let female = match sex.trim() {
                    "女" | "2" | "F" | "f" => Some(true),
                    "男" | "1" | "M" | "m" => Some(false),
                    _ => None,
                };
                if let Some(female) = female {
                    checked += 1;
                    if female != id.is_female() {
                        broken += 1;
                    }
                }
            }
        }
        (checked, broken)
    }

    /// Checks one row given in schema column order ("" for a value not delivered).
    /// Every problem of the row is reported, not only the first.
    pub fn check(&self, cells: &[&str]) -> Result<Vec<Value>, Vec<CellError>> {
        let mut values = Vec::with_capacity(cells.len());
        let mut errors = Vec::new();
        for (i, column) in self.schema.columns.iter().enumerate() {
            let raw = cells.get(i).copied().unwrap_or("");
            let required = column.constraints.required || self.schema.key.contains(&i);
            match check_value(column, self.patterns[i].as_ref(), required, raw) {
                Ok(v) => values.push(v),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }

    /// The text of a row's key (columns joined by U+001F), if the schema has one.
    pub fn key_text(&self, values: &[Value]) -> Option<String> {
        if self.schema.key.is_empty() {
            return None;
        }
        Some(
            self.schema
                .key
                .iter()
                .map(|i| values[*i].to_text())
                .collect::<Vec<_>>()
                .join("\u{1f}"),
        )
    }
}

fn cell_error(column: &Column, code: &str, zh: String, en: String) -> CellError {
    CellError {
        column: column.name.clone(),
        code: code.to_string(),
        message_zh: format!("{}：{}", column.title, zh),
        message_en: format!("{}: {}", column.name, en),
    }
}

/// A value as an error message shows it: its first 40 characters, then "…".
/// Written only when a message is, so a valid value costs nothing.
struct Preview<'a>(&'a str);

impl std::fmt::Display for Preview<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(40) {
            f.write_char(c)?;
        }
        if chars.next().is_some() {
            f.write_char('…')?;
        }
        Ok(())
    }
}

/// COL-3: one value: presence, type, length, key-role identifiers digit by digit,
/// pattern, code list and range.
pub fn check_value(
    column: &Column,
    pattern: Option<&Regex>,
    required: bool,
    raw: &str,
) -> Result<Value, CellError> {
    let trimmed = crate::ids::trim_value(raw);
    if trimmed.is_empty() {
        return if required {
            Err(cell_error(
                column,
                "dataset.required",
                "必填，不能为空".into(),
                "a value is required".into(),
            ))
        } else {
            Ok(Value::Null)
        };
    }
    let shown = Preview(trimmed);
    let value = match column.field_type {
        FieldType::String | FieldType::Binary => {
            let text = match column.key_role {
                KeyRole::CitizenId => CitizenId::parse(trimmed).map(String::from).map_err(|e| {
                    cell_error(
                        column,
                        "dataset.invalid_citizen_id",
                        format!("公民身份号码“{shown}”不符合 GB 11643：{}", e.message_zh()),
                        format!(
                            "\"{shown}\" is not a GB 11643 citizen ID number: {}",
                            e.message_en()
                        ),
                    )
                })?,
                KeyRole::CreditCode => {
                    CreditCode::parse(trimmed).map(String::from).map_err(|e| {
                        cell_error(
                            column,
                            "dataset.invalid_credit_code",
                            format!(
                                "统一社会信用代码“{shown}”不符合 GB 32100：{}",
                                e.message_zh()
                            ),
                            format!(
                                "\"{shown}\" is not a GB 32100 credit code: {}",
                                e.message_en()
                            ),
                        )
                    })?
                }
                KeyRole::DivisionCode => {
                    DivisionCode::parse(trimmed)
                        .map(String::from)
                        .map_err(|e| {
                            cell_error(
                                column,
                                "dataset.invalid_division_code",
                                format!("行政区划代码“{shown}”无效：{}", e.message_zh()),
                                format!("\"{shown}\" is not a division code: {}", e.message_en()),
                            )
                        })?
                }
                KeyRole::None | KeyRole::RecordKey => raw.to_string(),
            };
            // A text of at most `max` bytes has at most `max` characters.
            if let Some(max) = column.max_length.filter(|max| text.len() > *max as usize) {
                let n = text.chars().count();
                if n > max as usize {
                    return Err(cell_error(
                        column,
                        "dataset.too_long",
                        format!("长度 {n} 超过上限 {max}"),
                        format!("{n} characters, at most {max} allowed"),
                    ));
                }
            }
            Value::Text(text)
        }
        FieldType::Integer => trimmed.parse::<i64>().map(Value::Integer).map_err(|_| {
            cell_error(
                column,
                "dataset.not_integer",
                format!("“{shown}”不是整数"),
                format!("\"{shown}\" is not an integer"),
            )
        })?,
        FieldType::Number => match trimmed.parse::<f64>() {
            Ok(n) if n.is_finite() => Value::Number(n),
            _ => {
                return Err(cell_error(
                    column,
                    "dataset.not_number",
                    format!("“{shown}”不是数值"),
                    format!("\"{shown}\" is not a number"),
                ))
            }
        },
        FieldType::Date => parse_date(trimmed).map(Value::Date).ok_or_else(|| {
            cell_error(
                column,
                "dataset.not_date",
                format!("“{shown}”不是存在的日期（格式 YYYY-MM-DD）"),
                format!("\"{shown}\" is not a real date (YYYY-MM-DD)"),
            )
        })?,
        FieldType::DateTime => parse_datetime(trimmed)
            .map(Value::DateTime)
            .ok_or_else(|| {
                cell_error(
                    column,
                    "dataset.not_datetime",
                    format!("“{shown}”不是存在的日期时间（格式 YYYY-MM-DD HH:MM:SS）"),
                    format!("\"{shown}\" is not a real date and time (YYYY-MM-DD HH:MM:SS)"),
                )
            })?,
        FieldType::Boolean => parse_bool(trimmed).map(Value::Boolean).ok_or_else(|| {
            cell_error(
                column,
                "dataset.not_boolean",
                format!("“{shown}”不是是/否值"),
                format!("\"{shown}\" is not a yes/no value"),
            )
        })?,
    };
    let c = &column.constraints;
    if let Some(re) = pattern {
        if !re.is_match(trimmed) {
            return Err(cell_error(
                column,
                "dataset.pattern_mismatch",
                format!("“{shown}”不符合格式规则"),
                format!("\"{shown}\" does not match the pattern"),
            ));
        }
    }
    if !c.enum_values.is_empty() && !c.enum_values.iter().any(|v| v == trimmed) {
        return Err(cell_error(
            column,
            "dataset.not_in_enum",
            format!("“{shown}”不在代码表中（{}）", c.enum_values.join("、")),
            format!("\"{shown}\" is not one of {}", c.enum_values.join(", ")),
        ));
    }
    let number = match value {
        Value::Integer(i) => Some(i as f64),
        Value::Number(n) => Some(n),
        _ => None,
    };
    if let Some(n) = number {
        if let Some(min) = c.minimum.filter(|min| n < *min) {
            return Err(cell_error(
                column,
                "dataset.below_minimum",
                format!("{shown} 小于最小值 {min}"),
                format!("{shown} is below the minimum {min}"),
            ));
        }
        if let Some(max) = c.maximum.filter(|max| n > *max) {
            return Err(cell_error(
                column,
                "dataset.above_maximum",
                format!("{shown} 大于最大值 {max}"),
                format!("{shown} is above the maximum {max}"),
            ));
        }
    }
    Ok(value)
}

/// A date that exists, written `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    // The common ISO form without chrono's format parser (bulk loads, COL-3).
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| crate::ids::digits_value(&b[r]);
        let d = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
        return (1000..=9999).contains(&d.year()).then_some(d);
    }
    let d = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        crate::ids::date_of_digits(s.as_bytes())?
    } else if s.contains('/') {
        NaiveDate::parse_from_str(s, "%Y/%m/%d").ok()?
    } else {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?
    };
    (1000..=9999).contains(&d.year()).then_some(d)
}

/// A date and time that exist: `YYYY-MM-DD HH:MM:SS` (or with `T`, optional fraction).
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .filter(|t| (1000..=9999).contains(&t.year()))
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "是" | "y" | "yes" | "t" => Some(true),
        "false" | "0" | "否" | "n" | "no" | "f" => Some(false),
        _ => None,
    }
}

/// GOV-1: counts gathered while a load is read, from which its scores follow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadTally {
    pub rows_read: u64,
    pub rows_accepted: u64,
    /// Rows refused because of their values (not counting duplicates).
    pub rows_invalid: u64,
    /// Rows refused because an earlier row of the load had the same key.
    pub rows_duplicate: u64,
    /// Values expected (rows × columns) and values present.
    pub cells_expected: u64,
    pub cells_filled: u64,
    pub consistency_checked: u64,
    pub consistency_broken: u64,
}

impl LoadTally {
    /// Counts one row's presence of values (in schema order, "" = absent).
    pub fn count_cells(&mut self, cells: &[&str], columns: usize) {
        self.cells_expected += columns as u64;
        self.cells_filled += cells
            .iter()
            .take(columns)
            .filter(|c| !c.trim().is_empty())
            .count() as u64;
    }

    pub fn rows_rejected(&self) -> u64 {
        self.rows_invalid + self.rows_duplicate
    }
}

/// GOV-1, GOV-3: the six quality dimensions, each from 0 to 1; a dimension that
/// cannot be measured for the data is `None` and left out of the overall score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct QualityScores {
    pub completeness: Option<f64>,
    pub validity: Option<f64>,
    /// Agreement with the base databases where a key links the row to them.
    pub accuracy: Option<f64>,
    pub consistency: Option<f64>,
    pub timeliness: Option<f64>,
    pub uniqueness: Option<f64>,
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl QualityScores {
    /// Scores of one load from its tally; accuracy and timeliness come from
    /// elsewhere (cross-checks, freshness).
    pub fn from_tally(t: &LoadTally) -> Self {
        Self {
            completeness: ratio(t.cells_filled, t.cells_expected),
            validity: ratio(t.rows_read - t.rows_invalid, t.rows_read),
            accuracy: None,
            consistency: ratio(
                t.consistency_checked - t.consistency_broken,
                t.consistency_checked,
            ),
            timeliness: None,
            uniqueness: ratio(t.rows_read - t.rows_duplicate, t.rows_read),
        }
    }

    pub fn dimensions(&self) -> [(&'static str, Option<f64>); 6] {
        [
            ("completeness", self.completeness),
            ("validity", self.validity),
            ("accuracy", self.accuracy),
            ("consistency", self.consistency),
            ("timeliness", self.timeliness),
            ("uniqueness", self.uniqueness),
        ]
    }

    /// The mean of the measured dimensions (None if none was measured).
    pub fn overall(&self) -> Option<f64> {
        let measured: Vec<f64> = self.dimensions().iter().filter_map(|(_, v)| *v).collect();
        (!measured.is_empty()).then(|| measured.iter().sum::<f64>() / measured.len() as f64)
    }

    /// GOV-1: the scores of the rows a table holds, when they came in several loads
    /// (a replace and the upserts after it): the loads' scores on completeness,
    /// validity, consistency and uniqueness weighted by the rows each read.
    /// Accuracy and timeliness describe the table as a whole and are the `current`
    /// load's.
    pub fn of_table(current: &QualityScores, loads: &[(QualityScores, u64)]) -> Self {
        fn weighted(parts: impl Iterator<Item = (Option<f64>, u64)>) -> Option<f64> {
            let (sum, rows) = parts
                .filter_map(|(v, rows)| v.map(|v| (v * rows as f64, rows)))
                .fold((0.0, 0u64), |(s, n), (v, rows)| (s + v, n + rows));
            (rows > 0).then(|| sum / rows as f64)
        }
        let by = |dimension: fn(&QualityScores) -> Option<f64>| {
            weighted(loads.iter().map(|(s, rows)| (dimension(s), *rows)))
        };
        Self {
            completeness: by(|s| s.completeness),
            validity: by(|s| s.validity),
            accuracy: current.accuracy,
            consistency: by(|s| s.consistency),
            timeliness: current.timeliness,
            uniqueness: by(|s| s.uniqueness),
        }
    }

    /// COL-4, GOV-1: timeliness as of today: a resource past its refresh day by
    /// `overdue_workdays` scores no better than [`timeliness_score`] of that,
    /// however punctual its last load was.
    pub fn aged(mut self, overdue_workdays: i64) -> Self {
        if overdue_workdays > 0 {
            let now = timeliness_score(overdue_workdays);
            self.timeliness = Some(self.timeliness.map_or(now, |t| t.min(now)));
        }
        self
    }

    /// The mean of several resources' scores, dimension by dimension.
    pub fn mean(all: &[QualityScores]) -> Self {
        fn avg(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
            let v: Vec<f64> = values.flatten().collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        }
        Self {
            completeness: avg(all.iter().map(|s| s.completeness)),
            validity: avg(all.iter().map(|s| s.validity)),
            accuracy: avg(all.iter().map(|s| s.accuracy)),
            consistency: avg(all.iter().map(|s| s.consistency)),
            timeliness: avg(all.iter().map(|s| s.timeliness)),
            uniqueness: avg(all.iter().map(|s| s.uniqueness)),
        }
    }
}

/// Labels of the quality dimensions, in 中文 and English.
pub fn dimension_label(key: &str) -> (&'static str, &'static str) {
    match key {
        "completeness" => ("完整性", "Completeness"),
        "validity" => ("规范性", "Validity"),
        "accuracy" => ("准确性", "Accuracy"),
        "consistency" => ("一致性", "Consistency"),
        "timeliness" => ("时效性", "Timeliness"),
        "uniqueness" => ("唯一性", "Uniqueness"),
        _ => ("", ""),
    }
}

/// COL-4: the last day by which a resource loaded on `last_load` must be refreshed:
/// one update period later plus `grace_workdays` working days for the data to
/// arrive (CZ 34: within 5 working days of being produced). Real-time data
/// (licences, documents) is due the next working day. `None`: no fixed frequency.
pub fn refresh_due(
    frequency: UpdateFrequency,
    last_load: NaiveDate,
    grace_workdays: u32,
    calendar: &WorkCalendar,
) -> Result<Option<NaiveDate>, CalendarError> {
    let produced = match frequency {
        UpdateFrequency::RealTime => return calendar.add_workdays(last_load, 1).map(Some),
        UpdateFrequency::Daily => last_load.succ_opt(),
        UpdateFrequency::Weekly => last_load.checked_add_days(chrono::Days::new(7)),
        UpdateFrequency::Monthly => last_load.checked_add_months(Months::new(1)),
        UpdateFrequency::Quarterly => last_load.checked_add_months(Months::new(3)),
        UpdateFrequency::HalfYearly => last_load.checked_add_months(Months::new(6)),
        UpdateFrequency::Yearly => last_load.checked_add_months(Months::new(12)),
        UpdateFrequency::Other => None,
    };
    match produced {
        Some(day) => calendar.add_workdays(day, grace_workdays).map(Some),
        None => Ok(None),
    }
}

/// COL-1: when a scheduled pull of a resource with this frequency is next due
/// after one at `from` (real-time data: hourly; `Other`: only on demand).
pub fn next_pull_after(
    frequency: UpdateFrequency,
    from: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match frequency {
        UpdateFrequency::RealTime => Some(from + chrono::Duration::hours(1)),
        UpdateFrequency::Daily => Some(from + chrono::Duration::days(1)),
        UpdateFrequency::Weekly => Some(from + chrono::Duration::days(7)),
        UpdateFrequency::Monthly => from.checked_add_months(Months::new(1)),
        UpdateFrequency::Quarterly => from.checked_add_months(Months::new(3)),
        UpdateFrequency::HalfYearly => from.checked_add_months(Months::new(6)),
        UpdateFrequency::Yearly => from.checked_add_months(Months::new(12)),
        UpdateFrequency::Other => None,
    }
}

/// GOV-1 timeliness of a load: 1 when it came by the time the previous load's
/// refresh was due, falling by a twentieth for each working day late.
pub fn timeliness_score(overdue_workdays: i64) -> f64 {
    if overdue_workdays <= 0 {
        1.0
    } else {
        (1.0 - overdue_workdays as f64 / 20.0).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gov_1_a_table_of_several_loads_scores_by_the_rows_each_brought() {
        let replace = QualityScores {
            completeness: Some(1.0),
            validity: Some(0.9),
            accuracy: Some(0.5),
            consistency: None,
            timeliness: Some(0.2),
            uniqueness: Some(1.0),
        };
        let batch = QualityScores {
            completeness: Some(0.5),
            validity: Some(0.0),
            accuracy: None,
            consistency: Some(1.0),
            timeliness: Some(1.0),
            uniqueness: Some(1.0),
        };
        let table = QualityScores::of_table(&batch, &[(batch, 10), (replace, 990)]);
        assert!((table.validity.unwrap() - 0.891).abs() < 1e-9);
        assert!((table.completeness.unwrap() - 0.995).abs() < 1e-9);
        assert_eq!(table.consistency, Some(1.0), "only the batch measured it");
        // Accuracy and timeliness are the current load's, as a whole.
        assert_eq!(table.accuracy, None);
        assert_eq!(table.timeliness, Some(1.0));
        // Ten working days past its refresh day halves timeliness; on time, no change.
        assert_eq!(table.aged(10).timeliness, Some(0.5));
        assert_eq!(table.aged(0).timeliness, Some(1.0));
        assert_eq!(
            replace.aged(10).timeliness,
            Some(0.2),
            "never better than it was"
        );
    }

    fn item(name: &str, code: &str, t: FieldType, role: KeyRole) -> DataItem {
        DataItem {
            name: name.into(),
            code_name: code.into(),
            field_type: t,
            length: None,
            meaning: String::new(),
            sensitive: false,
            key_role: role,
            element_code: None,
            constraints: Default::default(),
        }
    }

    fn people() -> TableSchema {
        let mut name = item("姓名", "name", FieldType::String, KeyRole::None);
        name.length = Some(4);
        name.constraints.required = true;
        let mut age = item("年龄", "age", FieldType::Integer, KeyRole::None);
        age.constraints.minimum = Some(0.0);
        age.constraints.maximum = Some(150.0);
        let mut sex = item("性别", "sex", FieldType::String, KeyRole::None);
        sex.constraints.enum_values = vec!["男".into(), "女".into()];
        let mut phone = item("电话", "phone", FieldType::String, KeyRole::None);
        phone.constraints.pattern = Some("1[3-9][0-9]{9}".into());
        TableSchema::from_items(&[
            item(
                "公民身份号码",
                "id_no",
                FieldType::String,
                KeyRole::CitizenId,
            ),
            name,
            item("出生日期", "birth_date", FieldType::Date, KeyRole::None),
            age,
            sex,
            phone,
            item(
                "住所行政区划",
                "division",
                FieldType::String,
                KeyRole::DivisionCode,
            ),
        ])
    }

    fn valid_id() -> String {
        // Sequence 013: odd, so a man.
        CitizenId::synthesize(
            &DivisionCode::parse("110101").unwrap(),
            NaiveDate::from_ymd_opt(1990, 3, 7).unwrap(),
            13,
        )
        .unwrap()
        .as_str()
        .to_string()
    }

    fn codes(r: Result<Vec<Value>, Vec<CellError>>) -> Vec<String> {
        r.err().unwrap().into_iter().map(|e| e.code).collect()
    }

    #[test]
    fn col_3_single_identifier_is_the_key() {
        let s = people();
        assert_eq!(s.key_columns(), vec!["id_no"]);
        assert_eq!(s.subject_column(KeyRole::CitizenId), Some(0));
    }

    #[test]
    fn col_3_valid_row_is_typed() {
        let v = RowValidator::new(people()).unwrap();
        let id = valid_id();
        let row = v
            .check(&[
                &id,
                "张三",
                "1990/03/07",
                "35",
                "男",
                "13812345678",
                "110101",
            ])
            .unwrap();
        assert_eq!(
            row[2],
            Value::Date(NaiveDate::from_ymd_opt(1990, 3, 7).unwrap())
        );
        assert_eq!(row[3], Value::Integer(35));
        assert_eq!(v.consistency(&row), (2, 0));
    }

    #[test]
    fn col_3_a_message_quotes_a_long_value_by_its_first_40_characters() {
        let v = RowValidator::new(people()).unwrap();
        let id = valid_id();
        let age = "九".repeat(41);
        let errors = v
            .check(&[
                &id,
                "张三",
                "1990-03-07",
                &age,
                "男",
                "13812345678",
                "110101",
            ])
            .unwrap_err();
        let shown = format!("“{}…”", "九".repeat(40));
        assert!(
            errors[0].message_zh.contains(&shown),
            "{}",
            errors[0].message_zh
        );
        let errors = v
            .check(&[
                &id,
                "张三",
                "1990-03-07",
                "四十",
                "男",
                "13812345678",
                "110101",
            ])
            .unwrap_err();
        assert!(
            errors[0].message_zh.contains("“四十”"),
            "{}",
            errors[0].message_zh
        );
    }

    #[test]
    fn col_3_every_problem_of_a_row_is_reported() {
        let v = RowValidator::new(people()).unwrap();
        let mut bad_id = valid_id();
        bad_id.replace_range(17..18, if bad_id.ends_with('1') { "2" } else { "1" });
        let got = codes(v.check(&[&bad_id, "", "2023-02-29", "200", "未知", "12345", "999999"]));
        assert_eq!(
            got,
            vec![
                "dataset.invalid_citizen_id",
                "dataset.required",
                "dataset.not_date",
                "dataset.above_maximum",
                "dataset.not_in_enum",
                "dataset.pattern_mismatch",
                "dataset.invalid_division_code",
            ]
        );
    }

    #[test]
    fn col_3_lengths_count_characters_and_keys_are_required() {
        let v = RowValidator::new(people()).unwrap();
        assert_eq!(
            codes(v.check(&["", "欧阳诸葛先生", "", "", "", "", ""])),
            vec!["dataset.required", "dataset.too_long"]
        );
        assert!(v
            .check(&[&valid_id(), "欧阳诸葛", "", "", "", "", ""])
            .is_ok());
    }

    #[test]
    fn gov_1_inconsistent_birth_date_and_sex_are_counted() {
        let v = RowValidator::new(people()).unwrap();
        let row = v
            .check(&[&valid_id(), "李四", "1991-03-07", "", "女", "", ""])
            .unwrap();
        assert_eq!(v.consistency(&row), (2, 2));
    }

    #[test]
    fn headers_match_by_code_or_name_and_refuse_unknown() {
        let s = people();
        let map = s
            .map_headers(&["姓名".into(), "ID_NO".into(), "age".into()])
            .unwrap();
        assert_eq!(map[0], Some(1));
        assert_eq!(map[1], Some(0));
        assert_eq!(map[2], None);
        let err = s
            .map_headers(&["姓名".into(), "备注".into(), "名 字".into()])
            .unwrap_err();
        assert_eq!(err.unknown, vec!["备注", "名 字"]);
        assert_eq!(err.missing, vec!["公民身份号码"]);
        let err = s
            .map_headers(&["id_no".into(), "姓名".into(), "name".into()])
            .unwrap_err();
        assert_eq!(err.repeated, vec!["姓名"]);
    }

    #[test]
    fn gov_1_scores_follow_the_tally() {
        let t = LoadTally {
            rows_read: 100,
            rows_accepted: 90,
            rows_invalid: 8,
            rows_duplicate: 2,
            cells_expected: 1000,
            cells_filled: 950,
            consistency_checked: 50,
            consistency_broken: 5,
        };
        let q = QualityScores::from_tally(&t);
        assert_eq!(q.completeness, Some(0.95));
        assert_eq!(q.validity, Some(0.92));
        assert_eq!(q.uniqueness, Some(0.98));
        assert_eq!(q.consistency, Some(0.9));
        assert_eq!(q.accuracy, None);
        let overall = q.overall().unwrap();
        assert!((overall - (0.95 + 0.92 + 0.98 + 0.9) / 4.0).abs() < 1e-9);
        assert_eq!(timeliness_score(0), 1.0);
        assert_eq!(timeliness_score(5), 0.75);
        assert_eq!(timeliness_score(40), 0.0);
    }

    #[test]
    fn col_4_refresh_is_due_after_the_period_and_five_working_days() {
        let cal = WorkCalendar::official();
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        // Monthly, loaded Fri 2026-09-04: produced 10-04 (National Day week), and
        // 5 working days later, counting the 10-10 adjusted working day.
        let due = refresh_due(UpdateFrequency::Monthly, d(9, 4), 5, &cal)
            .unwrap()
            .unwrap();
        assert_eq!(due, cal.add_workdays(d(10, 4), 5).unwrap());
        assert!(due > d(10, 9));
        // Real time: the next working day.
        assert_eq!(
            refresh_due(UpdateFrequency::RealTime, d(11, 20), 5, &cal).unwrap(),
            Some(d(11, 23))
        );
        assert_eq!(
            refresh_due(UpdateFrequency::Other, d(11, 20), 5, &cal).unwrap(),
            None
        );
    }

    #[test]
    fn col_1_scheduled_pulls_follow_the_update_frequency() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-31T08:00:00Z")
            .unwrap()
            .to_utc();
        let next = |f| next_pull_after(f, t).map(|n| n.to_rfc3339());
        assert_eq!(
            next(UpdateFrequency::RealTime).unwrap(),
            "2026-01-31T09:00:00+00:00"
        );
        assert_eq!(
            next(UpdateFrequency::Monthly).unwrap(),
            "2026-02-28T08:00:00+00:00"
        );
        assert_eq!(next(UpdateFrequency::Other), None);
    }

    #[test]
    fn table_schema_is_frictionless() {
        let s = people().to_table_schema(Grade::General, Some(Sensitivity::L3));
        assert_eq!(s["primaryKey"], serde_json::json!(["id_no"]));
        assert_eq!(s["fields"][1]["constraints"]["maxLength"], 4);
        assert_eq!(s["fields"][2]["type"], "date");
        assert_eq!(s["fields"][0]["gongshu:keyRole"], "citizen_id");
        assert_eq!(s["gongshu:sensitivity"], "l3");
    }
}
