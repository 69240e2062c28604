//! CAT-1: catalog entries in and out of spreadsheets — an XLSX import template with
//! Chinese headings, an all-or-nothing import with a row-by-row report, and exports
//! of any catalog view to XLSX and CSV.
use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use chrono::{Datelike, NaiveDate};
use gongshu_domain::catalog::{
    self, Category, DataItem, Domain, EntryContent, FieldType, Grade, KeyRole, OpenReason,
    OpenType, ResourceFormat, Sensitivity, ShareMode, ShareType, Stage, UpdateFrequency,
};
use gongshu_domain::permissions::Permission;
use gongshu_store::{CatalogEntry, CatalogFilter, OrgFilter, Organization};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, ExcelDateTime, Format, FormatAlign, Workbook,
    Worksheet, XlsxError,
};
use serde::Serialize;

use crate::context::{App, Ctx};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// The sheet holding the entries, in the template and in exports.
pub const SHEET: &str = "目录";
/// The sheet of the template that explains every column.
pub const GUIDE_SHEET: &str = "填写说明";
/// Rows whose resource name starts with this are examples and are never imported.
pub const EXAMPLE_MARK: &str = "【示例】";
/// At most this many entries in one import.
pub const MAX_ROWS: usize = 1000;

/// One column of the template: its heading in 中文 and English, and the field of
/// [`EntryContent`] it fills (the name rule violations use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetColumn {
    pub heading: &'static str,
    pub heading_en: &'static str,
    pub field: &'static str,
}

const fn col(heading: &'static str, heading_en: &'static str, field: &'static str) -> SheetColumn {
    SheetColumn {
        heading,
        heading_en,
        field,
    }
}

/// CAT-1: the columns of the import template, in order.
pub const COLUMNS: &[SheetColumn] = &[
    col("资源名称", "Resource name", "name"),
    col("资源摘要", "Summary", "summary"),
    col("目录类别", "Category", "category"),
    col("领域", "Domain", "domain"),
    col("资源格式", "Format", "format"),
    col("数源部门", "Source department", "source_org_id"),
    col("提供部门", "Providing department", "providing_org_id"),
    col("审批部门", "Approving body", "approving_department"),
    col("信息项", "Data items", "items"),
    col("共享类型", "Share type", "share_type"),
    col("共享条件", "Share conditions", "share_conditions"),
    col("共享范围", "Share scope", "share_scope"),
    col("共享方式", "Share modes", "share_modes"),
    col("法律法规依据", "Legal basis", "legal_basis"),
    col("开放类型", "Open type", "open_type"),
    col("开放条件", "Open conditions", "open_conditions"),
    col(
        "开放限制情形",
        "Criterion for restricted opening",
        "open_reason",
    ),
    col("开放限制依据", "Basis for restricted opening", "open_basis"),
    col("更新频率", "Update frequency", "update_frequency"),
    col("时效要求", "Timeliness", "timeliness"),
    col("数据分级", "Grade", "grade"),
    col("敏感级别", "Sensitivity", "sensitivity"),
    col("发布日期", "Release date", "release_date"),
    col("关联资源代码", "Related resource codes", "related_codes"),
];

/// Columns an export adds around the template's.
const CODE_COLUMN: SheetColumn = col("资源代码", "Resource code", "code");
const STATUS_COLUMN: SheetColumn = col("状态", "Status", "status");
const OWNER_COLUMN: SheetColumn = col("登记部门", "Owner department", "owner_org_id");

/// The item format of the 信息项 cell.
const ITEM_FORMAT: &str = "名称 | 英文名 | 类型 | 长度 | 敏感(是/否) | 标识类型 | 含义";
const ITEM_FORMAT_EN: &str =
    "name | code name | type | length | sensitive (yes/no) | key role | meaning";

fn column(field: &str) -> &'static SheetColumn {
    COLUMNS
        .iter()
        .find(|c| c.field == field)
        .expect("a column of the template")
}

/// The heading a rule violation on `field` (`legal_basis`, `items[2].code_name` …)
/// belongs under; fields with no column of their own keep their name.
fn heading_of_field(field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    COLUMNS
        .iter()
        .find(|c| c.field == base)
        .map(|c| c.heading.to_string())
        .unwrap_or_else(|| field.to_string())
}

/// One problem of the import, by spreadsheet row (1-based as Excel shows it) and
/// column heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    pub row: u32,
    /// The column heading (中文), empty when the problem concerns the whole file.
    pub column: String,
    pub code: String,
    pub message: String,
    pub message_en: String,
}

/// CAT-1: what an import did: the codes of the entries registered, or every problem
/// that kept the file from being imported (then nothing was saved).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: usize,
    pub codes: Vec<String>,
    pub problems: Vec<RowProblem>,
}

fn problem(
    row: u32,
    column: &str,
    code: &str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> RowProblem {
    RowProblem {
        row,
        column: column.to_string(),
        code: code.to_string(),
        message: zh.into(),
        message_en: en.into(),
    }
}

// ---------------------------------------------------------------------------
// Enumerated cells: the Chinese label, the key or the English label.
// ---------------------------------------------------------------------------

/// The labelled enums of the catalog, seen alike.
trait Choice: Copy + 'static {
    fn all() -> &'static [Self];
    fn key(&self) -> &'static str;
    fn zh(&self) -> &'static str;
    fn en(&self) -> &'static str;
}

macro_rules! choices {
    ($($t:ty),+ $(,)?) => {
        $(impl Choice for $t {
            fn all() -> &'static [Self] { <$t>::ALL }
            fn key(&self) -> &'static str { <$t>::key(self) }
            fn zh(&self) -> &'static str { <$t>::label_zh(self) }
            fn en(&self) -> &'static str { <$t>::label_en(self) }
        })+
    };
}

choices!(
    Category,
    Domain,
    ResourceFormat,
    ShareType,
    ShareMode,
    OpenType,
    OpenReason,
    UpdateFrequency,
    Grade,
    Sensitivity,
    FieldType,
    KeyRole,
);

/// Folds what people vary when they type a choice: case, spaces, `_`/`-`, full-width brackets.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn parse_choice<T: Choice>(value: &str) -> Option<T> {
    let v = fold(value);
    if v.is_empty() {
        return None;
    }
    T::all().iter().copied().find(|c| {
        let zh = c.zh();
        // 一级（公开） may be written 一级.
        let short = zh.split('（').next().unwrap_or(zh);
        v == fold(c.key()) || v == fold(zh) || v == fold(c.en()) || v == fold(short)
    })
}

fn allowed_zh<T: Choice>() -> String {
    T::all()
        .iter()
        .map(|c| c.zh())
        .collect::<Vec<_>>()
        .join("、")
}

/// A line of the data-items text that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLineProblem {
    /// 1-based line within the text.
    pub line: usize,
    pub message: String,
    pub message_en: String,
}

/// CAT-1: data items written one per line as
/// `名称 | 英文名 | 类型 | 长度 | 敏感(是/否) | 标识类型 | 含义` (the spreadsheet cell and
/// the console form use the same format). Types and key roles may be given by key,
/// Chinese or English label; every unreadable part is reported with its line.
pub fn parse_item_lines(text: &str) -> (Vec<DataItem>, Vec<ItemLineProblem>) {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line_no = n + 1;
        let parts: Vec<&str> = line.split(['|', '｜']).map(str::trim).collect();
        let part = |i: usize| parts.get(i).copied().unwrap_or("");
        let mut bad = |what: &str, what_en: &str, value: &str, allowed: String| {
            problems.push(ItemLineProblem {
                line: line_no,
                message: format!("信息项第 {line_no} 行：{what}“{value}”无法识别{allowed}（格式：{ITEM_FORMAT}）"),
                message_en: format!("data item line {line_no}: the {what_en} \"{value}\" is not recognised (format: {ITEM_FORMAT_EN})"),
            });
        };
        let field_type = match part(2) {
            "" => Some(FieldType::String),
            t => {
                let found = parse_choice::<FieldType>(t);
                if found.is_none() {
                    bad(
                        "类型",
                        "type",
                        t,
                        format!("，可填写：{}", allowed_zh::<FieldType>()),
                    );
                }
                found
            }
        };
        let length = match part(3) {
            "" => Some(None),
            l => {
                let found = l.parse::<u32>().ok().map(Some);
                if found.is_none() {
                    bad("长度", "length", l, "，应为正整数".into());
                }
                found
            }
        };
        let sensitive = match fold(part(4)).as_str() {
            "" | "否" | "n" | "no" | "false" | "0" | "不敏感" => Some(false),
            "是" | "y" | "yes" | "true" | "1" | "敏感" => Some(true),
            _ => {
                bad(
                    "敏感标记",
                    "sensitive flag",
                    part(4),
                    "，应为“是”或“否”".into(),
                );
                None
            }
        };
        let key_role = match part(5) {
            "" => Some(KeyRole::None),
            k => {
                let found = parse_choice::<KeyRole>(k);
                if found.is_none() {
                    bad(
                        "标识类型",
                        "key role",
                        k,
                        format!("，可填写：{}", allowed_zh::<KeyRole>()),
                    );
                }
                found
            }
        };
        // A meaning that itself holds a `|` keeps it.
        let meaning = parts.get(6..).map(|m| m.join(" | ")).unwrap_or_default();
        if let (Some(field_type), Some(length), Some(sensitive), Some(key_role)) =
            (field_type, length, sensitive, key_role)
        {
            items.push(DataItem {
                name: part(0).to_string(),
                code_name: part(1).to_string(),
                field_type,
                length,
                meaning,
                sensitive,
                key_role,
                element_code: None,
                constraints: Default::default(),
            });
        }
    }
    (items, problems)
}

fn allowed_keys<T: Choice>() -> String {
    T::all()
        .iter()
        .map(|c| c.key())
        .collect::<Vec<_>>()
        .join(", ")
}

fn invalid_choice<T: Choice>(row: u32, col: &SheetColumn, value: &str) -> RowProblem {
    problem(
        row,
        col.heading,
        "catalog.sheet_invalid_choice",
        format!(
            "“{value}”不是有效的{}，可填写：{}（或代码 {}）",
            col.heading,
            allowed_zh::<T>(),
            allowed_keys::<T>()
        ),
        format!(
            "\"{value}\" is not a valid {}; use one of {} (or the keys {})",
            col.heading_en.to_lowercase(),
            allowed_zh::<T>(),
            allowed_keys::<T>()
        ),
    )
}

fn required(row: u32, col: &SheetColumn) -> RowProblem {
    problem(
        row,
        col.heading,
        "catalog.sheet_required",
        format!("请填写{}", col.heading),
        format!("{} is required", col.heading_en),
    )
}

// ---------------------------------------------------------------------------
// The template.
// ---------------------------------------------------------------------------

fn write_failed(e: XlsxError) -> ServiceError {
    tracing::error!(error = %e, "spreadsheet could not be written");
    ServiceError::new(
        ErrorKind::Internal,
        "catalog.sheet_write_failed",
        "生成电子表格失败",
        "the spreadsheet could not be produced",
    )
}

struct Formats {
    heading: Format,
    heading_en: Format,
    cell: Format,
    wrap: Format,
    date: Format,
    example: Format,
    title: Format,
}

impl Formats {
    fn new() -> Self {
        let top = Format::new().set_align(FormatAlign::Top);
        Formats {
            heading: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_align(FormatAlign::Center),
            heading_en: Format::new()
                .set_italic()
                .set_font_color(Color::Gray)
                .set_align(FormatAlign::Center),
            cell: top.clone(),
            wrap: top.clone().set_text_wrap(),
            date: top.set_num_format("yyyy-mm-dd"),
            example: Format::new()
                .set_align(FormatAlign::Top)
                .set_text_wrap()
                .set_font_color(Color::Gray),
            title: Format::new().set_bold(),
        }
    }
}

fn column_width(field: &str) -> f64 {
    match field {
        "items" => 60.0,
        "summary" | "share_conditions" | "legal_basis" | "open_basis" | "open_conditions"
        | "open_reason" => 30.0,
        "name" | "source_org_id" | "providing_org_id" | "owner_org_id" | "share_scope" => 22.0,
        "domain" | "timeliness" | "approving_department" | "related_codes" | "status" => 18.0,
        _ => 13.0,
    }
}

/// Writes the two heading rows (中文, then English) and freezes them.
fn write_headings(
    sheet: &mut Worksheet,
    columns: &[SheetColumn],
    f: &Formats,
) -> Result<(), XlsxError> {
    for (i, c) in columns.iter().enumerate() {
        let i = i as u16;
        sheet.write_string_with_format(0, i, c.heading, &f.heading)?;
        sheet.write_string_with_format(1, i, c.heading_en, &f.heading_en)?;
        sheet.set_column_width(i, column_width(c.field))?;
    }
    sheet.set_freeze_panes(2, 0)?;
    Ok(())
}

/// Example row of the template (skipped on import thanks to its name's mark).
fn example_row() -> Vec<String> {
    let values: [(&str, String); 24] = [
        ("name", format!("{EXAMPLE_MARK}机动车驾驶人信息")),
        ("summary", "本单位登记的机动车驾驶人基本信息".into()),
        ("category", Category::Business.label_zh().into()),
        ("domain", Domain::PublicSafety.label_zh().into()),
        ("format", ResourceFormat::Database.label_zh().into()),
        ("source_org_id", "（填写本单位全称）".into()),
        ("providing_org_id", String::new()),
        ("approving_department", String::new()),
        (
            "items",
            "驾驶证号 | licence_no | 字符型 | 18 | 是 | 公民身份号码 | 驾驶证编号\n准驾车型 | vehicle_class | 字符型 | 8 | 否 | 无 | 如 C1".into(),
        ),
        ("share_type", ShareType::Conditional.label_zh().into()),
        ("share_conditions", "仅限交通管理、保险理赔业务使用".into()),
        ("share_scope", "市级政务部门".into()),
        (
            "share_modes",
            format!(
                "{}、{}",
                ShareMode::Api.label_zh(),
                ShareMode::PageQuery.label_zh()
            ),
        ),
        ("legal_basis", "《示范省公共数据条例》第十条".into()),
        ("open_type", OpenType::NotOpen.label_zh().into()),
        ("open_conditions", String::new()),
        ("open_reason", OpenReason::PrivacyWithoutConsent.label_zh().into()),
        ("open_basis", "含个人信息".into()),
        ("update_frequency", UpdateFrequency::Daily.label_zh().into()),
        ("timeliness", "变更后 1 个工作日内".into()),
        ("grade", Grade::General.label_zh().into()),
        ("sensitivity", Sensitivity::L3.label_zh().into()),
        ("release_date", "2025-01-01".into()),
        ("related_codes", String::new()),
    ];
    COLUMNS
        .iter()
        .map(|c| {
            values
                .iter()
                .find(|(f, _)| *f == c.field)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// Drop-down lists of the enumerated columns; a value outside the list only warns,
/// since keys (`conditional`) are accepted too.
fn add_choice_list<T: Choice>(
    sheet: &mut Worksheet,
    field: &str,
    last_row: u32,
) -> Result<(), XlsxError> {
    let Some(i) = COLUMNS.iter().position(|c| c.field == field) else {
        return Ok(());
    };
    let c = &COLUMNS[i];
    let labels: Vec<&str> = T::all().iter().map(|c| c.zh()).collect();
    let validation = DataValidation::new()
        .allow_list_strings(&labels)?
        .set_error_style(DataValidationErrorStyle::Warning)
        .set_error_title("不在可选列表中")?
        .set_error_message(format!(
            "{}：请从列表中选择，或填写代码（见“{GUIDE_SHEET}”）。/ {}: pick a listed value or type its key (see {GUIDE_SHEET}).",
            c.heading, c.heading_en
        ))?;
    sheet.add_data_validation(2, i as u16, last_row, i as u16, &validation)?;
    Ok(())
}

fn guide_sheet(f: &Formats) -> Result<Worksheet, XlsxError> {
    let mut s = Worksheet::new();
    s.set_name(GUIDE_SHEET)?;
    s.set_column_width(0, 22)?;
    s.set_column_width(1, 60)?;
    s.set_column_width(2, 22)?;
    s.set_column_width(3, 60)?;
    let mut r: u32 = 0;
    s.write_string_with_format(
        r,
        0,
        "公共数据资源目录导入模板填写说明 / How to fill in the catalog import template",
        &f.title,
    )?;
    r += 2;
    let notes: [(&str, String); 9] = [
        (
            "在“目录”工作表中每行登记一个目录条目；资源名称以“【示例】”开头的行不会导入。",
            "One catalog entry per row of the sheet 目录; rows whose name starts with 【示例】 are examples and are not imported.".into(),
        ),
        (
            "第 1 行为中文列名，不要修改；第 2 行为英文列名，可保留或删除。",
            "Row 1 holds the Chinese headings: keep them as they are. Row 2 holds the English headings: keep or delete it.".into(),
        ),
        (
            "可选值列（见下表）填写中文名称或代码均可，例如“有条件共享”或 conditional。",
            "Enumerated columns (table below) accept the Chinese label or the key, e.g. 有条件共享 or conditional.".into(),
        ),
        (
            "数源部门、提供部门填写单位全称，须与平台登记的单位名称一致；业务目录的数源部门为本单位。",
            "Source and providing departments are given by their full registered name; the source of a business entry is your own department.".into(),
        ),
        (
            "信息项：每行一个（单元格内换行按 Alt+Enter），格式为 名称 | 英文名 | 类型 | 长度 | 敏感(是/否) | 标识类型 | 含义。",
            format!("Data items: one per line inside the cell (Alt+Enter), as: {ITEM_FORMAT_EN}."),
        ),
        (
            "共享方式可填多个，用“、”或“,”分隔；关联资源代码多个时用“,”分隔。",
            "Several share modes are separated by 、 or a comma; so are several related resource codes.".into(),
        ),
        (
            "发布日期格式为 YYYY-MM-DD，可留空。",
            "The release date is YYYY-MM-DD, or empty.".into(),
        ),
        (
            "有条件共享、不予共享须填写法律法规依据，有条件共享还须填写共享条件；不予开放须填写不予开放依据；一般数据须填写敏感级别，核心、重要数据不填。",
            "Conditional or not-shared entries need a legal basis, conditional ones also share conditions; not-open entries need a basis; general data needs a sensitivity level, core and important data none.".into(),
        ),
        (
            "整个文件全部正确才会导入；有任何错误则一条也不导入，并逐行列出问题。",
            "The file is imported only when every row is valid; otherwise nothing is saved and every problem is listed by row.".into(),
        ),
    ];
    for (i, (zh, en)) in notes.iter().enumerate() {
        s.write_string_with_format(r, 0, format!("{}.", i + 1), &f.cell)?;
        s.write_string_with_format(r, 1, *zh, &f.wrap)?;
        s.write_string_with_format(r, 3, en.as_str(), &f.wrap)?;
        r += 1;
    }
    r += 1;
    for (i, h) in ["列 Column", "可填写的值", "代码 Key", "English"]
        .iter()
        .enumerate()
    {
        s.write_string_with_format(r, i as u16, *h, &f.heading)?;
    }
    r += 1;
    fn values<T: Choice>(
        s: &mut Worksheet,
        r: &mut u32,
        heading: &str,
        f: &Formats,
    ) -> Result<(), XlsxError> {
        for v in T::all() {
            s.write_string_with_format(*r, 0, heading, &f.cell)?;
            s.write_string_with_format(*r, 1, v.zh(), &f.cell)?;
            s.write_string_with_format(*r, 2, v.key(), &f.cell)?;
            s.write_string_with_format(*r, 3, v.en(), &f.cell)?;
            *r += 1;
        }
        Ok(())
    }
    let h = |field: &str| {
        let c = column(field);
        format!("{} {}", c.heading, c.heading_en)
    };
    values::<Category>(&mut s, &mut r, &h("category"), f)?;
    values::<Domain>(&mut s, &mut r, &h("domain"), f)?;
    values::<ResourceFormat>(&mut s, &mut r, &h("format"), f)?;
    values::<ShareType>(&mut s, &mut r, &h("share_type"), f)?;
    values::<ShareMode>(&mut s, &mut r, &h("share_modes"), f)?;
    values::<OpenType>(&mut s, &mut r, &h("open_type"), f)?;
    values::<UpdateFrequency>(&mut s, &mut r, &h("update_frequency"), f)?;
    values::<Grade>(&mut s, &mut r, &h("grade"), f)?;
    values::<Sensitivity>(&mut s, &mut r, &h("sensitivity"), f)?;
    values::<FieldType>(&mut s, &mut r, "信息项·类型 Item type", f)?;
    values::<KeyRole>(&mut s, &mut r, "信息项·标识类型 Item key role", f)?;
    r += 1;
    s.write_string_with_format(r, 0, "信息项格式 Item format", &f.title)?;
    s.write_string_with_format(r, 1, ITEM_FORMAT, &f.cell)?;
    s.write_string_with_format(r, 3, ITEM_FORMAT_EN, &f.cell)?;
    r += 1;
    s.write_string_with_format(
        r,
        1,
        "公民身份号码 | citizen_id | 字符型 | 18 | 是 | 公民身份号码 | 持证人身份号码",
        &f.cell,
    )?;
    s.write_string_with_format(
        r,
        3,
        "类型留空为字符型，标识类型留空为无，长度可留空。/ An empty type means text, an empty key role none; the length may be empty.",
        &f.wrap,
    )?;
    Ok(s)
}

/// CAT-1: the import template: the sheet 目录 with the Chinese headings (English in
/// the second row), one example row, and the sheet 填写说明 listing the allowed
/// values (labels and keys) of every enumerated column and the item format.
pub fn template_xlsx() -> Result<Vec<u8>, ServiceError> {
    build_template().map_err(write_failed)
}

fn build_template() -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let mut sheet = Worksheet::new();
    sheet.set_name(SHEET)?;
    write_headings(&mut sheet, COLUMNS, &f)?;
    for (i, v) in example_row().iter().enumerate() {
        sheet.write_string_with_format(2, i as u16, v.as_str(), &f.example)?;
    }
    let last = 2 + MAX_ROWS as u32;
    add_choice_list::<Category>(&mut sheet, "category", last)?;
    add_choice_list::<Domain>(&mut sheet, "domain", last)?;
    add_choice_list::<ResourceFormat>(&mut sheet, "format", last)?;
    add_choice_list::<ShareType>(&mut sheet, "share_type", last)?;
    add_choice_list::<OpenType>(&mut sheet, "open_type", last)?;
    add_choice_list::<UpdateFrequency>(&mut sheet, "update_frequency", last)?;
    add_choice_list::<Grade>(&mut sheet, "grade", last)?;
    add_choice_list::<Sensitivity>(&mut sheet, "sensitivity", last)?;
    wb.push_worksheet(sheet);
    wb.push_worksheet(guide_sheet(&f)?);
    wb.save_to_buffer()
}

// ---------------------------------------------------------------------------
// Import.
// ---------------------------------------------------------------------------

fn unreadable(detail: impl std::fmt::Display) -> ServiceError {
    ServiceError::invalid(
        "catalog.sheet_unreadable",
        "file",
        format!("无法读取文件，请上传由模板填写的 XLSX 文件（{detail}）"),
        format!(
            "the file cannot be read; upload an XLSX file filled in from the template ({detail})"
        ),
    )
}

/// Folds a heading as written (spaces, a `*` marking required columns) to compare it.
fn heading_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '＊')
        .collect::<String>()
        .to_lowercase()
}

fn find_column(text: &str) -> Option<&'static SheetColumn> {
    let k = heading_key(text);
    if k.is_empty() {
        return None;
    }
    COLUMNS
        .iter()
        .chain([CODE_COLUMN, STATUS_COLUMN, OWNER_COLUMN].iter())
        .find(|c| heading_key(c.heading) == k || heading_key(c.heading_en) == k)
}

/// Where the headings are and which column holds which field.
struct Layout {
    /// Index (within the range) of the heading row.
    heading_row: usize,
    /// Field → column index (within the range).
    columns: HashMap<&'static str, usize>,
}

/// Finds the heading row among the first rows of a sheet: the one naming 资源名称.
fn find_layout(range: &Range<Data>) -> ServiceResult<Option<Layout>> {
    let name = column("name");
    for (r, row) in range.rows().take(10).enumerate() {
        let is_heading = row
            .iter()
            .any(|d| matches!(d, Data::String(s) if find_column(s) == Some(name)));
        if !is_heading {
            continue;
        }
        let mut columns = HashMap::new();
        for (i, d) in row.iter().enumerate() {
            let Data::String(s) = d else { continue };
            let Some(c) = find_column(s) else { continue };
            if columns.insert(c.field, i).is_some() {
                return Err(ServiceError::invalid(
                    "catalog.sheet_heading_duplicate",
                    "file",
                    format!("列“{}”出现了不止一次", c.heading),
                    format!("the column \"{}\" appears more than once", c.heading_en),
                ));
            }
        }
        return Ok(Some(Layout {
            heading_row: r,
            columns,
        }));
    }
    Ok(None)
}

fn missing_headings(layout: Option<&Layout>) -> ServiceError {
    let missing: Vec<&SheetColumn> = COLUMNS
        .iter()
        .filter(|c| layout.is_none_or(|l| !l.columns.contains_key(c.field)))
        .collect();
    ServiceError::invalid(
        "catalog.sheet_headings_missing",
        "file",
        format!(
            "“{SHEET}”工作表缺少以下列：{}。请使用平台提供的模板",
            missing
                .iter()
                .map(|c| c.heading)
                .collect::<Vec<_>>()
                .join("、")
        ),
        format!(
            "the sheet {SHEET} lacks the columns: {}; use the platform's template",
            missing
                .iter()
                .map(|c| c.heading_en)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// The sheet to import and its layout: 目录 when there is one, else the first sheet
/// that carries the headings.
fn open_sheet(bytes: &[u8]) -> ServiceResult<(Range<Data>, Layout)> {
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
    let names = wb.sheet_names();
    let candidates: Vec<String> = if names.iter().any(|n| n == SHEET) {
        vec![SHEET.to_string()]
    } else {
        names.into_iter().filter(|n| n != GUIDE_SHEET).collect()
    };
    let named = candidates.len() == 1 && candidates[0] == SHEET;
    for name in &candidates {
        let range = wb.worksheet_range(name).map_err(unreadable)?;
        match find_layout(&range)? {
            Some(layout) if COLUMNS.iter().all(|c| layout.columns.contains_key(c.field)) => {
                return Ok((range, layout))
            }
            Some(layout) => return Err(missing_headings(Some(&layout))),
            None if named => return Err(missing_headings(None)),
            None => {}
        }
    }
    Err(ServiceError::invalid(
        "catalog.sheet_missing",
        "file",
        format!("文件中没有“{SHEET}”工作表，也没有带模板列名的工作表；请使用平台提供的模板"),
        format!("the file has no sheet {SHEET} nor any sheet with the template's headings; use the platform's template"),
    ))
}

/// A cell as text; `None` for an error value (#N/A, #REF! …).
fn cell_text(d: &Data) -> Option<String> {
    Some(match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(true) => "是".into(),
        Data::Bool(false) => "否".into(),
        Data::DateTime(dt) => {
            let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
            if (hh, mm, ss) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Error(_) => return None,
    })
}

fn parse_date(d: &Data) -> Option<NaiveDate> {
    match d {
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
        }
        Data::DateTimeIso(s) => s.get(..10).and_then(|s| s.parse().ok()),
        Data::String(s) => {
            let s = s.trim();
            ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        }
        _ => None,
    }
}

/// Organisations by name (中文, or English ignoring case) → ids.
struct OrgIndex(HashMap<String, Vec<String>>);

impl OrgIndex {
    fn new(orgs: &[Organization]) -> Self {
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        for o in orgs {
            let mut keys = vec![o.name.trim().to_string()];
            let en = o.name_en.trim().to_lowercase();
            if !en.is_empty() && en != keys[0] {
                keys.push(en);
            }
            for k in keys {
                let ids = by_name.entry(k).or_default();
                if !ids.contains(&o.id) {
                    ids.push(o.id.clone());
                }
            }
        }
        OrgIndex(by_name)
    }

    fn find(&self, name: &str) -> &[String] {
        self.0
            .get(name)
            .or_else(|| self.0.get(&name.to_lowercase()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// One data row being converted, collecting the problems of its cells.
struct RowReader<'a> {
    row: u32,
    cells: &'a [Data],
    layout: &'a Layout,
    problems: Vec<RowProblem>,
}

impl<'a> RowReader<'a> {
    fn data(&self, field: &str) -> &'a Data {
        static EMPTY: Data = Data::Empty;
        self.layout
            .columns
            .get(field)
            .and_then(|&i| self.cells.get(i))
            .unwrap_or(&EMPTY)
    }

    fn text(&mut self, field: &str) -> String {
        match cell_text(self.data(field)) {
            Some(t) => t,
            None => {
                let c = column(field);
                self.problems.push(problem(
                    self.row,
                    c.heading,
                    "catalog.sheet_cell_error",
                    format!("“{}”单元格含错误值（如 #N/A），请改为文字", c.heading),
                    format!(
                        "the {} cell holds an error value (such as #N/A); enter text",
                        c.heading_en.to_lowercase()
                    ),
                ));
                String::new()
            }
        }
    }

    fn choice<T: Choice>(&mut self, field: &str) -> Option<T> {
        let v = self.text(field);
        let c = column(field);
        if v.is_empty() {
            self.problems.push(required(self.row, c));
            return None;
        }
        let found = parse_choice::<T>(&v);
        if found.is_none() {
            self.problems.push(invalid_choice::<T>(self.row, c, &v));
        }
        found
    }

    fn optional_choice<T: Choice>(&mut self, field: &str) -> Option<T> {
        let v = self.text(field);
        if v.is_empty() {
            return None;
        }
        let found = parse_choice::<T>(&v);
        if found.is_none() {
            self.problems
                .push(invalid_choice::<T>(self.row, column(field), &v));
        }
        found
    }

    fn org(&mut self, field: &str, orgs: &OrgIndex) -> Option<String> {
        let name = self.text(field);
        if name.is_empty() {
            return None;
        }
        let c = column(field);
        match orgs.find(&name) {
            [id] => Some(id.clone()),
            [] => {
                self.problems.push(problem(
                    self.row,
                    c.heading,
                    "catalog.sheet_org_unknown",
                    format!("平台上没有名为“{name}”的单位，请填写单位全称"),
                    format!("no organisation named \"{name}\" is registered; give its full name"),
                ));
                None
            }
            _ => {
                self.problems.push(problem(
                    self.row,
                    c.heading,
                    "catalog.sheet_org_ambiguous",
                    format!("名为“{name}”的单位不止一个，请联系平台管理员"),
                    format!("more than one organisation is named \"{name}\"; ask the platform administrator"),
                ));
                None
            }
        }
    }

    fn share_modes(&mut self) -> Vec<ShareMode> {
        let v = self.text("share_modes");
        let mut modes = Vec::new();
        for part in v
            .split(['、', ',', '，', ';', '；', '/', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match parse_choice::<ShareMode>(part) {
                Some(m) if !modes.contains(&m) => modes.push(m),
                Some(_) => {}
                None => self.problems.push(invalid_choice::<ShareMode>(
                    self.row,
                    column("share_modes"),
                    part,
                )),
            }
        }
        modes
    }

    fn release_date(&mut self) -> Option<NaiveDate> {
        let d = self.data("release_date");
        if cell_text(d).is_some_and(|t| t.is_empty()) {
            return None;
        }
        let found = parse_date(d);
        if found.is_none() {
            let c = column("release_date");
            let shown = cell_text(d).unwrap_or_default();
            self.problems.push(problem(
                self.row,
                c.heading,
                "input.invalid_date",
                format!("发布日期“{shown}”无法识别，格式应为 YYYY-MM-DD"),
                format!("the release date \"{shown}\" is not recognised; dates are YYYY-MM-DD"),
            ));
        }
        found
    }

    /// 名称 | 英文名 | 类型 | 长度 | 敏感(是/否) | 标识类型 | 含义, one item per line.
    fn items(&mut self) -> Vec<DataItem> {
        let text = self.text("items");
        let heading = column("items").heading;
        let (items, problems) = parse_item_lines(&text);
        for p in problems {
            self.problems.push(problem(
                self.row,
                heading,
                "catalog.item_line_invalid",
                p.message,
                p.message_en,
            ));
        }
        items
    }

    fn list(&mut self, field: &str) -> Vec<String> {
        self.text(field)
            .split([',', '，', '、', ';', '；', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The entry of this row, or the problems of its cells.
    fn content(mut self, orgs: &OrgIndex) -> Result<EntryContent, Vec<RowProblem>> {
        let name = self.text("name");
        let summary = self.text("summary");
        let category = self.choice::<Category>("category");
        let domain = self.choice::<Domain>("domain");
        let format = self.choice::<ResourceFormat>("format");
        let source = self.org("source_org_id", orgs);
        let providing = self.org("providing_org_id", orgs);
        let approving_department = self.text("approving_department");
        let items = self.items();
        let share_type = self.choice::<ShareType>("share_type");
        let share_conditions = self.text("share_conditions");
        let share_scope = self.text("share_scope");
        let share_modes = self.share_modes();
        let legal_basis = self.text("legal_basis");
        let open_type = self.choice::<OpenType>("open_type");
        let open_conditions = self.text("open_conditions");
        let open_reason = self.optional_choice::<OpenReason>("open_reason");
        let open_basis = self.text("open_basis");
        let update_frequency = self.choice::<UpdateFrequency>("update_frequency");
        let timeliness = self.text("timeliness");
        let grade = self.choice::<Grade>("grade");
        let sensitivity = self.optional_choice::<Sensitivity>("sensitivity");
        let release_date = self.release_date();
        let related_codes = self.list("related_codes");
        let (
            Some(category),
            Some(domain),
            Some(format),
            Some(share_type),
            Some(open_type),
            Some(update_frequency),
            Some(grade),
            true,
        ) = (
            category,
            domain,
            format,
            share_type,
            open_type,
            update_frequency,
            grade,
            self.problems.is_empty(),
        )
        else {
            return Err(self.problems);
        };
        Ok(EntryContent {
            name,
            summary,
            category,
            domain,
            format,
            // Blank: the rules report 请选择数源部门 under this column.
            source_org_id: source.unwrap_or_default(),
            providing_org_id: providing,
            approving_department,
            co_builder_org_ids: Vec::new(),
            items,
            share_type,
            share_conditions,
            share_scope,
            share_modes,
            legal_basis,
            open_type,
            open_conditions,
            open_reason,
            open_basis,
            update_frequency,
            timeliness,
            grade,
            sensitivity,
            classified: false,
            release_date,
            related_codes,
        })
    }
}

/// Whether a row repeats the headings (the English row under the Chinese one).
fn is_heading_row(cells: &[Data], layout: &Layout) -> bool {
    let mut any = false;
    for (field, &i) in &layout.columns {
        match cells.get(i) {
            Some(Data::String(s)) if !s.trim().is_empty() => {
                if find_column(s).is_none_or(|c| c.field != *field) {
                    return false;
                }
                any = true;
            }
            Some(Data::Empty) | None => {}
            Some(_) => return false,
        }
    }
    any
}

fn is_blank_row(cells: &[Data], layout: &Layout) -> bool {
    layout.columns.values().all(|&i| {
        cells
            .get(i)
            .is_none_or(|d| cell_text(d).is_some_and(|t| t.is_empty()))
    })
}

/// Maps the rule violations of one entry to its row and column headings.
fn rule_problems(row: u32, errors: &[crate::error::FieldProblem]) -> Vec<RowProblem> {
    errors
        .iter()
        .map(|e| RowProblem {
            row,
            column: heading_of_field(&e.field),
            code: e.code.clone(),
            message: e.message.clone(),
            message_en: e.message_en.clone(),
        })
        .collect()
}

/// CAT-1: imports the entries of an XLSX file filled in from the template, as drafts
/// of the caller's department. All rows or none: when any row has a problem, nothing
/// is saved and the report lists every problem by row and column. `Err` only when
/// the file itself cannot be used (unreadable, no 目录 sheet, headings missing).
pub async fn import_xlsx(app: &App, ctx: &Ctx, bytes: &[u8]) -> ServiceResult<ImportReport> {
    let owner = ctx.principal.org_id.clone().ok_or_else(|| {
        ServiceError::new(
            ErrorKind::Denied,
            "catalog.no_org",
            "只有属于某个部门的用户才能登记目录",
            "only a member of a department can register catalog entries",
        )
    })?;
    ctx.principal
        .authorize(Permission::CatalogRegister, Some(&owner))?;
    let (range, layout) = open_sheet(bytes)?;
    let first_row = range.start().map(|(r, _)| r).unwrap_or(0);
    let excel_row = |i: usize| first_row + i as u32 + 1;

    let mut data_rows: Vec<(u32, &[Data])> = Vec::new();
    // The last of the heading rows (the English headings may follow the Chinese).
    let mut last_heading = layout.heading_row;
    for (i, cells) in range.rows().enumerate().skip(layout.heading_row + 1) {
        if is_heading_row(cells, &layout) {
            if i == last_heading + 1 {
                last_heading = i;
            }
            continue;
        }
        if is_blank_row(cells, &layout) {
            continue;
        }
        let name = layout
            .columns
            .get("name")
            .and_then(|&c| cells.get(c))
            .and_then(cell_text)
            .unwrap_or_default();
        if name.starts_with(EXAMPLE_MARK) {
            continue;
        }
        data_rows.push((excel_row(i), cells));
    }
    if data_rows.is_empty() {
        return Ok(ImportReport {
            imported: 0,
            codes: Vec::new(),
            problems: vec![problem(
                excel_row(last_heading + 1),
                "",
                "catalog.sheet_no_rows",
                format!("“{SHEET}”工作表中没有可导入的目录条目（示例行不会导入）"),
                format!(
                    "the sheet {SHEET} has no entries to import (example rows are not imported)"
                ),
            )],
        });
    }
    if data_rows.len() > MAX_ROWS {
        return Err(ServiceError::invalid(
            "catalog.sheet_too_many_rows",
            "file",
            format!(
                "一次最多导入 {MAX_ROWS} 条目录，本文件有 {} 条，请分批导入",
                data_rows.len()
            ),
            format!(
                "at most {MAX_ROWS} entries per import; this file has {}: split it",
                data_rows.len()
            ),
        ));
    }

    let orgs = OrgIndex::new(&app.store.list_orgs(&OrgFilter::default()).await?);
    let mut rows = Vec::with_capacity(data_rows.len());
    let mut contents = Vec::with_capacity(data_rows.len());
    let mut problems = Vec::new();
    for (row, cells) in data_rows {
        let reader = RowReader {
            row,
            cells,
            layout: &layout,
            problems: Vec::new(),
        };
        match reader.content(&orgs) {
            Ok(c) => {
                rows.push(row);
                contents.push(c);
            }
            Err(p) => problems.extend(p),
        }
    }

    if !problems.is_empty() {
        // Nothing will be saved; still report the content rules of the rows that parsed.
        for (row, c) in rows.iter().zip(&contents) {
            let mut c = c.clone();
            c.name = c.name.trim().to_string();
            let errors = ServiceError::fields(catalog::check_entry(&c)).errors;
            problems.extend(rule_problems(*row, &errors));
        }
        problems.sort_by_key(|p| p.row);
        return Ok(ImportReport {
            imported: 0,
            codes: Vec::new(),
            problems,
        });
    }

    match crate::catalog::create_many(app, ctx, contents).await {
        Ok(entries) => Ok(ImportReport {
            imported: entries.len(),
            codes: entries.into_iter().map(|e| e.code).collect(),
            problems: Vec::new(),
        }),
        Err(failures) => {
            for (i, e) in failures {
                if e.errors.is_empty() {
                    // Not a rule of a row (permission, store, code allocation): the whole import fails.
                    return Err(e);
                }
                let row = rows.get(i).copied().unwrap_or(0);
                problems.extend(rule_problems(row, &e.errors));
            }
            problems.sort_by_key(|p| p.row);
            Ok(ImportReport {
                imported: 0,
                codes: Vec::new(),
                problems,
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Export.
// ---------------------------------------------------------------------------

/// A cell of an export row.
enum Value {
    Text(String),
    Date(NaiveDate),
}

impl Value {
    fn as_text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

fn export_columns() -> Vec<SheetColumn> {
    let mut cols = vec![CODE_COLUMN];
    cols.extend_from_slice(COLUMNS);
    cols.push(STATUS_COLUMN);
    cols.push(OWNER_COLUMN);
    cols
}

/// The entry's status as a 中文 label.
fn status_label(e: &CatalogEntry) -> String {
    let stage = e.stage.as_deref().and_then(Stage::parse);
    if e.offline {
        return "已下架".into();
    }
    match (e.published.is_some(), stage) {
        (true, None) => "已发布".into(),
        (true, Some(s)) => format!("已发布（修订{}）", s.label_zh()),
        (false, Some(s)) => s.label_zh().into(),
        (false, None) => String::new(),
    }
}

/// The 信息项 cell: one item per line, as the template asks for it.
fn items_text(items: &[DataItem]) -> String {
    items
        .iter()
        .map(|i| {
            format!(
                "{} | {} | {} | {} | {} | {} | {}",
                i.name,
                i.code_name,
                i.field_type.label_zh(),
                i.length.map(|l| l.to_string()).unwrap_or_default(),
                if i.sensitive { "是" } else { "否" },
                i.key_role.label_zh(),
                i.meaning
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The values of one entry's visible version, in `export_columns()` order.
fn export_row(e: &CatalogEntry, names: &HashMap<String, String>) -> Option<Vec<Value>> {
    let c = e.published.as_ref().or(e.working.as_ref())?;
    let org = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let t = |s: &str| Value::Text(s.to_string());
    let mut out = vec![t(&e.code)];
    for col in COLUMNS {
        out.push(match col.field {
            "name" => t(&c.name),
            "summary" => t(&c.summary),
            "category" => t(c.category.label_zh()),
            "domain" => t(c.domain.label_zh()),
            "format" => t(c.format.label_zh()),
            "source_org_id" => Value::Text(org(&c.source_org_id)),
            "providing_org_id" => {
                Value::Text(c.providing_org_id.as_deref().map(org).unwrap_or_default())
            }
            "approving_department" => t(&c.approving_department),
            "items" => Value::Text(items_text(&c.items)),
            "share_type" => t(c.share_type.label_zh()),
            "share_conditions" => t(&c.share_conditions),
            "share_scope" => t(&c.share_scope),
            "share_modes" => Value::Text(
                c.share_modes
                    .iter()
                    .map(|m| m.label_zh())
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
            "legal_basis" => t(&c.legal_basis),
            "open_type" => t(c.open_type.label_zh()),
            "open_conditions" => t(&c.open_conditions),
            "open_reason" => t(c.open_reason.map(|r| r.label_zh()).unwrap_or("")),
            "open_basis" => t(&c.open_basis),
            "update_frequency" => t(c.update_frequency.label_zh()),
            "timeliness" => t(&c.timeliness),
            "grade" => t(c.grade.label_zh()),
            "sensitivity" => t(c.sensitivity.map(|s| s.label_zh()).unwrap_or("")),
            "release_date" => match c.release_date {
                Some(d) => Value::Date(d),
                None => t(""),
            },
            "related_codes" => Value::Text(c.related_codes.join(", ")),
            other => unreachable!("column {other} has no value"),
        });
    }
    out.push(Value::Text(status_label(e)));
    out.push(Value::Text(org(&e.owner_org_id)));
    Some(out)
}

/// The rows of an export: what `catalog::list` shows for the filter (up to 1000
/// entries when the filter sets no limit), each as its visible version.
async fn export_rows(
    app: &App,
    ctx: &Ctx,
    mut filter: CatalogFilter,
) -> ServiceResult<Vec<Vec<Value>>> {
    if filter.limit.is_none() {
        filter.limit = Some(1000);
    }
    let entries = crate::catalog::list(app, ctx, filter).await?;
    let names: HashMap<String, String> = app
        .store
        .list_orgs(&OrgFilter::default())
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(entries
        .iter()
        .filter_map(|e| export_row(e, &names))
        .collect())
}

/// CAT-1: the entries matching the filter as XLSX, with the template's headings plus
/// 资源代码, 状态 and 登记部门 (an export can be edited and imported again).
pub async fn export_xlsx(app: &App, ctx: &Ctx, filter: CatalogFilter) -> ServiceResult<Vec<u8>> {
    let rows = export_rows(app, ctx, filter).await?;
    build_export(&rows).map_err(write_failed)
}

fn build_export(rows: &[Vec<Value>]) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let cols = export_columns();
    let mut wb = Workbook::new();
    let mut sheet = Worksheet::new();
    sheet.set_name(SHEET)?;
    write_headings(&mut sheet, &cols, &f)?;
    for (r, values) in rows.iter().enumerate() {
        let r = r as u32 + 2;
        for (i, (v, c)) in values.iter().zip(&cols).enumerate() {
            let i = i as u16;
            let wrap = matches!(c.field, "items" | "summary");
            match v {
                Value::Text(s) if s.is_empty() => {}
                Value::Text(s) => {
                    sheet.write_string_with_format(
                        r,
                        i,
                        s.as_str(),
                        if wrap { &f.wrap } else { &f.cell },
                    )?;
                }
                Value::Date(d) => {
                    // Excel has no dates before 1900: such a date stays text.
                    match u16::try_from(d.year()).ok().and_then(|y| {
                        ExcelDateTime::from_ymd(y, d.month() as u8, d.day() as u8).ok()
                    }) {
                        Some(dt) => sheet.write_datetime_with_format(r, i, &dt, &f.date)?,
                        None => sheet.write_string_with_format(r, i, v.as_text(), &f.cell)?,
                    };
                }
            }
        }
    }
    wb.push_worksheet(sheet);
    wb.save_to_buffer()
}

/// A CSV cell that spreadsheet programs would run as a formula (`=`, `+`, `-`, `@`)
/// is prefixed with `'`, so that an exported text can never execute.
fn csv_safe(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// CAT-1: the entries matching the filter as CSV (UTF-8 with a BOM, so that Excel
/// shows the Chinese right), one heading row in 中文.
pub async fn export_csv(app: &App, ctx: &Ctx, filter: CatalogFilter) -> ServiceResult<Vec<u8>> {
    let rows = export_rows(app, ctx, filter).await?;
    let failed = |e: csv::Error| {
        tracing::error!(error = %e, "CSV could not be written");
        ServiceError::new(
            ErrorKind::Internal,
            "catalog.sheet_write_failed",
            "生成 CSV 文件失败",
            "the CSV file could not be produced",
        )
    };
    let mut out = "\u{FEFF}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(export_columns().iter().map(|c| c.heading))
            .map_err(failed)?;
        for values in &rows {
            w.write_record(values.iter().map(|v| csv_safe(v.as_text())))
                .map_err(failed)?;
        }
        w.flush().map_err(|e| failed(e.into()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cat_1_choices_accept_label_key_and_english() {
        assert_eq!(
            parse_choice::<ShareType>("有条件共享"),
            Some(ShareType::Conditional)
        );
        assert_eq!(
            parse_choice::<ShareType>(" conditional "),
            Some(ShareType::Conditional)
        );
        assert_eq!(
            parse_choice::<ShareType>("Not shared"),
            Some(ShareType::NotShared)
        );
        assert_eq!(parse_choice::<Sensitivity>("一级"), Some(Sensitivity::L1));
        assert_eq!(
            parse_choice::<Sensitivity>("三级(敏感)"),
            Some(Sensitivity::L3)
        );
        assert_eq!(parse_choice::<Sensitivity>("L4"), Some(Sensitivity::L4));
        assert_eq!(parse_choice::<Grade>("普通"), None);
        assert_eq!(parse_choice::<Grade>(""), None);
    }

    #[test]
    fn cat_1_csv_cells_never_become_formulas() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(csv_safe("412-000001".into()), "412-000001");
    }

    #[test]
    fn cat_1_rule_fields_map_to_headings() {
        assert_eq!(heading_of_field("legal_basis"), "法律法规依据");
        assert_eq!(heading_of_field("items[2].code_name"), "信息项");
        assert_eq!(heading_of_field("source_org_id"), "数源部门");
        assert_eq!(heading_of_field("classified"), "classified");
    }

    #[test]
    fn cat_1_item_lines_parse_labels_and_keys() {
        let layout = Layout {
            heading_row: 0,
            columns: [("items", 0usize)].into_iter().collect(),
        };
        let cells = [Data::String(
            "公民身份号码 | citizen_id | 字符型 | 18 | 是 | 公民身份号码 | 号码\n\n姓名|name|string||no|none|a | b\n坏行 | bad | 字符 | x | 也许 | 无"
                .into(),
        )];
        let mut r = RowReader {
            row: 7,
            cells: &cells,
            layout: &layout,
            problems: Vec::new(),
        };
        let items = r.items();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].key_role, KeyRole::CitizenId);
        assert_eq!(items[0].length, Some(18));
        assert!(items[0].sensitive);
        assert_eq!(items[1].field_type, FieldType::String);
        assert_eq!(items[1].length, None);
        assert_eq!(items[1].meaning, "a | b");
        // Line 4 (blank lines count as Excel shows them): type, length and flag are wrong.
        assert_eq!(r.problems.len(), 3, "{:?}", r.problems);
        assert!(r
            .problems
            .iter()
            .all(|p| p.row == 7 && p.column == "信息项" && p.message.contains("第 4 行")));
    }

    #[test]
    fn cat_1_template_has_both_sheets() {
        let bytes = template_xlsx().unwrap();
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(wb.sheet_names(), vec![SHEET, GUIDE_SHEET]);
        let (range, layout) = open_sheet(&template_xlsx().unwrap()).unwrap();
        assert_eq!(layout.heading_row, 0);
        assert_eq!(layout.columns.len(), COLUMNS.len());
        assert!(is_heading_row(range.rows().nth(1).unwrap(), &layout));
        let guide = wb.worksheet_range(GUIDE_SHEET).unwrap();
        let text: Vec<String> = guide.cells().filter_map(|(_, _, d)| cell_text(d)).collect();
        for v in [
            "有条件共享",
            "conditional",
            "not_open",
            "一级（公开）",
            "citizen_id",
        ] {
            assert!(text.iter().any(|t| t == v), "guide lists {v}");
        }
    }
}
