//! CAT-1: "Excel in, Excel out" — the import template, the all-or-nothing import with
//! its row-by-row report, and the XLSX and CSV exports, on a fresh SQLite store
//! seeded with the demo region, acting as the demo user psb.registrar.
use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};
use gongshu_domain::catalog::{
    Category, Domain, FieldType, Grade, KeyRole, OpenType, Sensitivity, ShareMode, ShareType,
    UpdateFrequency,
};
use gongshu_services::catalog_sheet::{self, COLUMNS, SHEET};
use gongshu_services::{catalog, demo, identity, App, Ctx};
use gongshu_store::{CatalogFilter, OrgFilter, Store};
use gongshu_store_sqlite::SqliteStore;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const PSB: &str = "云川市公安局";

struct Env {
    _dir: tempfile::TempDir,
    app: App,
    ctx: Ctx,
    psb_id: String,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("gongshu.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let app = App::new(Arc::new(store));
    demo::seed_foundation(&app, 5).await.unwrap();
    let user = app
        .store
        .get_user_by_username("psb.registrar")
        .await
        .unwrap()
        .expect("demo user psb.registrar");
    let ctx = Ctx::new(identity::principal_of(&user), None);
    let psb_id = app
        .store
        .list_orgs(&OrgFilter::default())
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == PSB)
        .expect("demo org")
        .id;
    assert_eq!(user.org_id, psb_id);
    Env {
        _dir: dir,
        app,
        ctx,
        psb_id,
    }
}

/// A complete, valid row of a conditionally shared business entry of the PSB.
fn valid_row(name: &str) -> HashMap<&'static str, String> {
    [
        ("资源名称", name.to_string()),
        ("资源摘要", "本局登记的机动车基本信息".to_string()),
        ("目录类别", "业务".to_string()),
        ("领域", "公共安全".to_string()),
        ("资源格式", "数据库".to_string()),
        ("数源部门", PSB.to_string()),
        ("提供部门", String::new()),
        ("审批部门", "云川市人民政府".to_string()),
        (
            "信息项",
            "号牌号码 | plate_no | 字符型 | 10 | 否 | 记录主键 | 机动车号牌\n车主身份号码 | owner_id | string | 18 | 是 | citizen_id | 车主的公民身份号码"
                .to_string(),
        ),
        ("共享类型", "有条件共享".to_string()),
        ("共享条件", "仅限交通管理业务使用".to_string()),
        ("共享范围", "市级政务部门".to_string()),
        ("共享方式", "接口调用、文件下载".to_string()),
        ("法律法规依据", "《示范省公共数据条例》第十条".to_string()),
        ("开放类型", "不予开放".to_string()),
        ("开放条件", String::new()),
        ("开放限制情形", "涉及商业秘密、个人隐私，数据主体未同意开放（HZ 32 三）".to_string()),
        ("开放限制依据", "含个人信息".to_string()),
        ("更新频率", "每日".to_string()),
        ("时效要求", "变更后 1 个工作日内".to_string()),
        ("数据分级", "一般数据".to_string()),
        ("敏感级别", "三级（敏感）".to_string()),
        ("发布日期", "2025-03-01".to_string()),
        ("关联资源代码", String::new()),
    ]
    .into_iter()
    .collect()
}

/// A workbook like a department fills it: sheet 目录, the template's two heading
/// rows (中文, English), then one row per map (heading → text), from Excel row 3.
fn workbook(headings: &[(String, String)], rows: &[HashMap<&'static str, String>]) -> Workbook {
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name(SHEET).unwrap();
    for (c, (zh, en)) in headings.iter().enumerate() {
        sheet.write_string(0, c as u16, zh.as_str()).unwrap();
        sheet.write_string(1, c as u16, en.as_str()).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, (zh, _)) in headings.iter().enumerate() {
            if let Some(v) = row.get(zh.as_str()).filter(|v| !v.is_empty()) {
                sheet
                    .write_string(r as u32 + 2, c as u16, v.as_str())
                    .unwrap();
            }
        }
    }
    wb
}

fn template_headings() -> Vec<(String, String)> {
    COLUMNS
        .iter()
        .map(|c| (c.heading.to_string(), c.heading_en.to_string()))
        .collect()
}

fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
    calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

async fn count(env: &Env) -> usize {
    catalog::list(
        &env.app,
        &env.ctx,
        CatalogFilter {
            owner_org_id: Some(env.psb_id.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_1_template_round_trips() {
    let env = env().await;
    let template = catalog_sheet::template_xlsx().unwrap();

    // The template: sheet 目录 with the headings in 中文 then English, one example
    // row, and 填写说明 listing labels and keys.
    let mut wb = open(template.clone());
    assert_eq!(wb.sheet_names(), vec!["目录", "填写说明"]);
    let range = wb.worksheet_range("目录").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    let headings: Vec<(String, String)> = rows[0]
        .iter()
        .zip(rows[1])
        .map(|(zh, en)| (text(zh), text(en)))
        .collect();
    let zh: Vec<&str> = headings.iter().map(|(z, _)| z.as_str()).collect();
    assert_eq!(
        zh,
        vec![
            "资源名称",
            "资源摘要",
            "目录类别",
            "领域",
            "资源格式",
            "数源部门",
            "提供部门",
            "审批部门",
            "信息项",
            "共享类型",
            "共享条件",
            "共享范围",
            "共享方式",
            "法律法规依据",
            "开放类型",
            "开放条件",
            "开放限制情形",
            "开放限制依据",
            "更新频率",
            "时效要求",
            "数据分级",
            "敏感级别",
            "发布日期",
            "关联资源代码"
        ]
    );
    assert_eq!(headings[9].1, "Share type");
    assert_eq!(rows.len(), 3, "headings and one example row");
    assert!(text(&rows[2][0]).starts_with("【示例】"));
    let guide = wb.worksheet_range("填写说明").unwrap();
    let guide_text: Vec<String> = guide.cells().map(|(_, _, d)| text(d)).collect();
    for v in [
        "有条件共享",
        "conditional",
        "接口调用",
        "api",
        "一般数据",
        "general",
    ] {
        assert!(guide_text.iter().any(|t| t == v), "填写说明 lists {v}");
    }
    assert!(guide_text
        .iter()
        .any(|t| t.contains("名称 | 英文名 | 类型")));

    // The template as downloaded holds only the example: nothing to import.
    let report = catalog_sheet::import_xlsx(&env.app, &env.ctx, &template)
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].code, "catalog.sheet_no_rows");
    assert_eq!(report.problems[0].row, 3);

    // Filled in: one row with Chinese labels, one with keys and a real date cell.
    let first = valid_row("机动车登记信息");
    let mut second = valid_row("交通违法处理信息");
    for (h, v) in [
        ("目录类别", "business"),
        ("领域", "public_safety"),
        ("资源格式", "Database"),
        (
            "信息项",
            "违法编号 | violation_no | integer | | no | record_key |",
        ),
        ("共享类型", "unconditional"),
        ("共享条件", ""),
        ("法律法规依据", ""),
        ("共享方式", "api, page_query"),
        ("开放类型", "conditional"),
        ("开放条件", "实名申请"),
        ("开放限制情形", "high_benefit_high_risk"),
        ("开放限制依据", "经开放前风险评估"),
        ("更新频率", "monthly"),
        ("数据分级", "general"),
        ("敏感级别", "l1"),
        ("提供部门", PSB),
        ("关联资源代码", "412-000001，412-000002"),
    ] {
        second.insert(h, v.to_string());
    }
    let mut filled = workbook(&headings, &[first, second]);
    let date_col = zh.iter().position(|h| *h == "发布日期").unwrap() as u16;
    filled
        .worksheet_from_name(SHEET)
        .unwrap()
        .write_datetime_with_format(
            3,
            date_col,
            ExcelDateTime::from_ymd(2024, 12, 31).unwrap(),
            &Format::new().set_num_format("yyyy-mm-dd"),
        )
        .unwrap();
    let bytes = filled.save_to_buffer().unwrap();

    let report = catalog_sheet::import_xlsx(&env.app, &env.ctx, &bytes)
        .await
        .unwrap();
    assert_eq!(report.problems, vec![], "a valid file has no problems");
    assert_eq!(report.imported, 2);
    assert_eq!(report.codes.len(), 2);
    assert_eq!(count(&env).await, 2);

    let a = catalog::get(&env.app, &env.ctx, &report.codes[0])
        .await
        .unwrap();
    assert_eq!(a.owner_org_id, env.psb_id);
    assert_eq!(a.stage.as_deref(), Some("draft"));
    assert!(
        a.code.starts_with("412-"),
        "business · public safety: {}",
        a.code
    );
    let c = a.working.as_ref().unwrap();
    assert_eq!(c.name, "机动车登记信息");
    assert_eq!(c.summary, "本局登记的机动车基本信息");
    assert_eq!(c.category, Category::Business);
    assert_eq!(c.domain, Domain::PublicSafety);
    assert_eq!(c.source_org_id, env.psb_id);
    assert_eq!(c.providing_org_id, None);
    assert_eq!(c.approving_department, "云川市人民政府");
    assert_eq!(c.share_type, ShareType::Conditional);
    assert_eq!(c.share_conditions, "仅限交通管理业务使用");
    assert_eq!(c.share_modes, vec![ShareMode::Api, ShareMode::Download]);
    assert_eq!(c.legal_basis, "《示范省公共数据条例》第十条");
    assert_eq!(c.open_type, OpenType::NotOpen);
    assert_eq!(c.open_basis, "含个人信息");
    assert_eq!(c.update_frequency, UpdateFrequency::Daily);
    assert_eq!(c.timeliness, "变更后 1 个工作日内");
    assert_eq!(c.grade, Grade::General);
    assert_eq!(c.sensitivity, Some(Sensitivity::L3));
    assert_eq!(c.release_date, "2025-03-01".parse().ok());
    assert_eq!(c.items.len(), 2);
    assert_eq!(c.items[0].name, "号牌号码");
    assert_eq!(c.items[0].code_name, "plate_no");
    assert_eq!(c.items[0].length, Some(10));
    assert!(!c.items[0].sensitive);
    assert_eq!(c.items[0].key_role, KeyRole::RecordKey);
    assert_eq!(c.items[0].meaning, "机动车号牌");
    assert_eq!(c.items[1].key_role, KeyRole::CitizenId);
    assert!(c.items[1].sensitive);

    let b = catalog::get(&env.app, &env.ctx, &report.codes[1])
        .await
        .unwrap();
    let c = b.working.as_ref().unwrap();
    assert_eq!(c.name, "交通违法处理信息");
    assert_eq!(c.format, gongshu_domain::catalog::ResourceFormat::Database);
    assert_eq!(c.share_type, ShareType::Unconditional);
    assert_eq!(c.share_modes, vec![ShareMode::Api, ShareMode::PageQuery]);
    assert_eq!(c.open_type, OpenType::Conditional);
    assert_eq!(c.open_conditions, "实名申请");
    assert_eq!(c.update_frequency, UpdateFrequency::Monthly);
    assert_eq!(c.sensitivity, Some(Sensitivity::L1));
    assert_eq!(c.providing_org_id.as_deref(), Some(env.psb_id.as_str()));
    assert_eq!(c.release_date, "2024-12-31".parse().ok(), "a date cell");
    assert_eq!(c.related_codes, vec!["412-000001", "412-000002"]);
    assert_eq!(c.items[0].field_type, FieldType::Integer);
    assert_eq!(c.items[0].length, None);
    assert_eq!(c.items[0].key_role, KeyRole::RecordKey);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_1_xlsx_with_one_bad_row_imports_nothing_and_names_the_row() {
    let env = env().await;
    // Excel rows 3, 4, 5: the first is conditionally shared without a legal basis.
    let mut bad = valid_row("机动车登记信息");
    bad.insert("法律法规依据", String::new());
    let rows = [bad, valid_row("驾驶人信息"), valid_row("交通事故信息")];
    let bytes = workbook(&template_headings(), &rows)
        .save_to_buffer()
        .unwrap();

    let report = catalog_sheet::import_xlsx(&env.app, &env.ctx, &bytes)
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    assert!(report.codes.is_empty());
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let p = &report.problems[0];
    assert_eq!(p.row, 3);
    assert_eq!(p.column, "法律法规依据");
    assert_eq!(p.code, "catalog.legal_basis_required");
    assert!(p.message.contains("法律"), "{}", p.message);
    assert!(p.message_en.contains("legal basis"), "{}", p.message_en);
    assert_eq!(count(&env).await, 0, "nothing saved");

    // The same rule on a later row, found by create_many among parse problems too.
    let mut late = valid_row("交通事故信息");
    late.insert("法律法规依据", String::new());
    let mut unknown_grade = valid_row("驾驶人信息");
    unknown_grade.insert("数据分级", "普通".into());
    let rows = [valid_row("机动车登记信息"), unknown_grade, late];
    let bytes = workbook(&template_headings(), &rows)
        .save_to_buffer()
        .unwrap();
    let report = catalog_sheet::import_xlsx(&env.app, &env.ctx, &bytes)
        .await
        .unwrap();
    let found: Vec<(u32, &str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str(), p.code.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (4, "数据分级", "catalog.sheet_invalid_choice"),
            (5, "法律法规依据", "catalog.legal_basis_required"),
        ]
    );
    assert!(report.problems[0].message.contains("一般数据"));
    assert_eq!(count(&env).await, 0, "nothing saved");

    // Every cell parses: the rules of create_many (including those that need the
    // store, such as who may register a base catalog) come back on their own rows.
    let mut base = valid_row("驾驶人信息");
    base.insert("目录类别", "基础".into());
    let mut late = valid_row("交通事故信息");
    late.insert("法律法规依据", String::new());
    let rows = [valid_row("机动车登记信息"), base, late];
    let bytes = workbook(&template_headings(), &rows)
        .save_to_buffer()
        .unwrap();
    let report = catalog_sheet::import_xlsx(&env.app, &env.ctx, &bytes)
        .await
        .unwrap();
    let found: Vec<(u32, &str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str(), p.code.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (4, "目录类别", "catalog.base_belongs_to_authority"),
            (5, "法律法规依据", "catalog.legal_basis_required"),
        ]
    );
    assert_eq!(report.imported, 0);
    assert_eq!(count(&env).await, 0, "nothing saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_1_unknown_department_is_a_row_problem() {
    let env = env().await;
    let mut unknown_provider = valid_row("驾驶人信息");
    unknown_provider.insert("提供部门", "火星市数据局".into());
    let mut unknown_source = valid_row("交通事故信息");
    unknown_source.insert("数源部门", "云川市不存在局".into());
    let rows = [
        valid_row("机动车登记信息"),
        unknown_provider,
        HashMap::new(), // an empty row is skipped
        unknown_source,
    ];
    let bytes = workbook(&template_headings(), &rows)
        .save_to_buffer()
        .unwrap();

    let report = catalog_sheet::import_xlsx(&env.app, &env.ctx, &bytes)
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    let found: Vec<(u32, &str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str(), p.code.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (4, "提供部门", "catalog.sheet_org_unknown"),
            (6, "数源部门", "catalog.sheet_org_unknown"),
        ]
    );
    assert!(report.problems[1].message.contains("云川市不存在局"));
    assert!(report.problems[1].message_en.contains("云川市不存在局"));
    assert_eq!(count(&env).await, 0);

    // A file that is not a spreadsheet is an error, not a report.
    let err = catalog_sheet::import_xlsx(&env.app, &env.ctx, b"not a workbook")
        .await
        .unwrap_err();
    assert_eq!(err.code, "catalog.sheet_unreadable");
    // A sheet without the template's headings names what is missing.
    let mut partial = template_headings();
    partial.retain(|(zh, _)| zh != "共享类型");
    let bytes = workbook(&partial, &[valid_row("机动车登记信息")])
        .save_to_buffer()
        .unwrap();
    let err = catalog_sheet::import_xlsx(&env.app, &env.ctx, &bytes)
        .await
        .unwrap_err();
    assert_eq!(err.code, "catalog.sheet_headings_missing");
    assert!(err.message.contains("共享类型"), "{}", err.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_1_export_xlsx_and_csv_contain_the_entries() {
    let env = env().await;
    let rows = [valid_row("机动车登记信息"), valid_row("驾驶人信息")];
    let bytes = workbook(&template_headings(), &rows)
        .save_to_buffer()
        .unwrap();
    let report = catalog_sheet::import_xlsx(&env.app, &env.ctx, &bytes)
        .await
        .unwrap();
    assert_eq!(report.imported, 2, "{:?}", report.problems);
    let filter = CatalogFilter {
        owner_org_id: Some(env.psb_id.clone()),
        ..Default::default()
    };

    // XLSX, read back with calamine.
    let xlsx = catalog_sheet::export_xlsx(&env.app, &env.ctx, filter.clone())
        .await
        .unwrap();
    let mut wb = open(xlsx.clone());
    let range = wb.worksheet_range(SHEET).unwrap();
    let sheet: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(text).collect()).collect();
    let at = |h: &str| sheet[0].iter().position(|x| x == h).unwrap();
    assert_eq!(sheet[0][0], "资源代码");
    for h in COLUMNS.iter().map(|c| c.heading) {
        assert!(sheet[0].iter().any(|x| x == h), "export has {h}");
    }
    assert_eq!(sheet[0][sheet[0].len() - 2..], ["状态", "登记部门"]);
    assert_eq!(sheet[1][0], "Resource code");
    assert_eq!(sheet.len(), 4, "two heading rows, two entries");
    let mut codes: Vec<&str> = sheet[2..].iter().map(|r| r[0].as_str()).collect();
    codes.sort();
    let mut expected: Vec<&str> = report.codes.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(codes, expected);
    for row in &sheet[2..] {
        assert!(["机动车登记信息", "驾驶人信息"].contains(&row[at("资源名称")].as_str()));
        assert_eq!(row[at("数源部门")], PSB);
        assert_eq!(row[at("共享类型")], "有条件共享");
        assert_eq!(row[at("共享方式")], "接口调用、文件下载");
        assert_eq!(row[at("状态")], "草稿");
        assert_eq!(row[at("登记部门")], PSB);
        assert!(row[at("信息项")].contains("号牌号码 | plate_no | 字符型 | 10 | 否 | 记录主键"));
    }
    match &range.rows().nth(2).unwrap()[at("发布日期")] {
        Data::DateTime(d) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            assert_eq!((y, m, day), (2025, 3, 1));
        }
        other => panic!("release date written as a date, got {other:?}"),
    }

    // An export is a valid import file: importing it registers the entries again.
    let again = catalog_sheet::import_xlsx(&env.app, &env.ctx, &xlsx)
        .await
        .unwrap();
    assert_eq!(again.problems, vec![]);
    assert_eq!(again.imported, 2);
    assert_eq!(count(&env).await, 4);

    // CSV: UTF-8 with BOM, the heading row, one record per entry.
    let csv = catalog_sheet::export_csv(&env.app, &env.ctx, filter)
        .await
        .unwrap();
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM first");
    let body = std::str::from_utf8(&csv[3..]).unwrap();
    assert!(body.starts_with("资源代码,资源名称,资源摘要,目录类别,"));
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers.len(), COLUMNS.len() + 3);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 4);
    let name_col = headers.iter().position(|h| h == "资源名称").unwrap();
    let date_col = headers.iter().position(|h| h == "发布日期").unwrap();
    let items_col = headers.iter().position(|h| h == "信息项").unwrap();
    for r in &records {
        assert!(["机动车登记信息", "驾驶人信息"].contains(&&r[name_col]));
        assert_eq!(&r[date_col], "2025-03-01");
        assert_eq!(r[items_col].lines().count(), 2, "items keep their lines");
    }
}
