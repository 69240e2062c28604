//! COL-1, COL-3, GOV-2 benchmark: loading a 10-column CSV (citizen IDs, credit
//! codes, dates) with full validation into a typed, indexed, versioned table, side
//! by side in one run with `sqlite3 ".import --csv"` (SQLite) and `psql \copy`
//! (PostgreSQL) of the same file into an untyped table; then cross-checking two
//! sources on citizen ID, side by side with DuckDB joining the same two CSVs.
//! Results go to docs/performance.md.
//!
//! ```text
//! cargo bench -p gongshu-bench --bench ingest
//! GONGSHU_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//! GONGSHU_BENCH_PYTHON=/tmp/bench-venv/bin/python \
//!     cargo bench -p gongshu-bench --bench ingest
//! ```
//!
//! Knobs: GONGSHU_BENCH_ROWS (default 10,000,000), GONGSHU_BENCH_PYTHON (a Python
//! with `duckdb` installed; the DuckDB side is skipped without it). Without
//! `--bench` it runs one small smoke round. Needs the `sqlite3` and `psql` programs.
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use gongshu_bench::machine::{peak_rss_mib, timed};
use gongshu_domain::catalog::{
    Category, DataItem, Domain, EntryContent, FieldType, Grade, ItemConstraints, KeyRole, OpenType,
    ResourceFormat, Sensitivity, ShareType, UpdateFrequency,
};
use gongshu_domain::ids::{CitizenId, CreditCode, DivisionCode};
use gongshu_services::dataset_input::InputFormat;
use gongshu_services::datasets::{self, Channel, LoadOptions};
use gongshu_services::governance::Base;
use gongshu_services::{App, Ctx};
use gongshu_store::{AnsweredDifferences, ColumnRef, Store};
use gongshu_store_postgres::PgStore;
use gongshu_store_sqlite::SqliteStore;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn item(name: &str, code: &str, t: FieldType, role: KeyRole, element: Option<&str>) -> DataItem {
    DataItem {
        name: name.into(),
        code_name: code.into(),
        field_type: t,
        length: None,
        meaning: String::new(),
        sensitive: false,
        key_role: role,
        element_code: element.map(str::to_string),
        constraints: ItemConstraints::default(),
    }
}

fn content(name: &str, org: &str, items: Vec<DataItem>) -> EntryContent {
    EntryContent {
        name: name.into(),
        summary: "基准测试（合成数据）".into(),
        category: Category::Business,
        domain: Domain::Population,
        format: ResourceFormat::Database,
        source_org_id: org.into(),
        providing_org_id: None,
        approving_department: String::new(),
        co_builder_org_ids: Vec::new(),
        items,
        share_type: ShareType::Unconditional,
        share_conditions: String::new(),
        share_scope: String::new(),
        share_modes: Vec::new(),
        legal_basis: String::new(),
        open_type: OpenType::NotOpen,
        open_conditions: String::new(),
        open_reason: None,
        open_basis: "含个人信息".into(),
        update_frequency: UpdateFrequency::Daily,
        timeliness: String::new(),
        grade: Grade::General,
        sensitivity: Some(Sensitivity::L3),
        classified: false,
        release_date: None,
        related_codes: Vec::new(),
    }
}

/// The 10-column resource of the benchmark.
fn wide_items() -> Vec<DataItem> {
    let mut name = item(
        "姓名",
        "name",
        FieldType::String,
        KeyRole::None,
        Some("DE0101"),
    );
    name.constraints.required = true;
    let mut sex = item("性别", "sex", FieldType::String, KeyRole::None, None);
    sex.constraints.enum_values = vec!["男".into(), "女".into()];
    let mut amount = item("缴费基数", "amount", FieldType::Number, KeyRole::None, None);
    amount.constraints.minimum = Some(0.0);
    vec![
        item(
            "公民身份号码",
            "citizen_id",
            FieldType::String,
            KeyRole::CitizenId,
            None,
        ),
        name,
        sex,
        item(
            "出生日期",
            "birth_date",
            FieldType::Date,
            KeyRole::None,
            None,
        ),
        item(
            "户籍地",
            "division",
            FieldType::String,
            KeyRole::DivisionCode,
            None,
        ),
        item(
            "单位信用代码",
            "employer",
            FieldType::String,
            KeyRole::CreditCode,
            None,
        ),
        item("电话", "phone", FieldType::String, KeyRole::None, None),
        item("住址", "address", FieldType::String, KeyRole::None, None),
        amount,
        item(
            "登记日期",
            "registered_on",
            FieldType::Date,
            KeyRole::None,
            None,
        ),
    ]
}

const DIVISIONS: [&str; 3] = ["830102", "830121", "830100"];
const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 8] = ["伟", "芳", "娜", "敏", "静", "磊", "建国", "晓燕"];

fn citizen(i: usize) -> CitizenId {
    let birth = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + Duration::days((i % 29_000) as i64);
    let division = DivisionCode::parse(DIVISIONS[i % 3]).unwrap();
    CitizenId::synthesize(&division, birth, (i / 29_000) as u16).unwrap()
}

fn name(i: usize) -> String {
    format!("{}{}", SURNAMES[i % 8], GIVEN[(i / 8) % 8])
}

/// Writes the wide CSV and the second source (citizen ID + name, 1% names differ).
fn write_files(dir: &Path, rows: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let wide = dir.join("wide.csv");
    let other = dir.join("other.csv");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&wide).unwrap());
    let mut o = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&other).unwrap());
    writeln!(
        w,
        "citizen_id,name,sex,birth_date,division,employer,phone,address,amount,registered_on"
    )
    .unwrap();
    writeln!(o, "citizen_id,name").unwrap();
    let employers: Vec<String> = (0..1000)
        .map(|k| {
            CreditCode::synthesize(
                '9',
                '1',
                &DivisionCode::parse("830102").unwrap(),
                300_000 + k,
            )
            .unwrap()
            .as_str()
            .to_string()
        })
        .collect();
    for i in 0..rows {
        let id = citizen(i);
        let birth = id.birth_date();
        writeln!(
            w,
            "{},{},{},{},{},{},138{:08},示范省云川市湖滨路{}号,{}.50,{}",
            id.as_str(),
            name(i),
            if id.is_female() { "女" } else { "男" },
            birth.format("%Y-%m-%d"),
            DIVISIONS[i % 3],
            employers[i % 1000],
            i % 100_000_000,
            i % 500,
            3000 + i % 20_000,
            (birth + Duration::days(365 * 20)).format("%Y-%m-%d"),
        )
        .unwrap();
        let other_name = if i % 100 == 7 {
            format!("{}某", SURNAMES[i % 8])
        } else {
            name(i)
        };
        writeln!(o, "{},{}", id.as_str(), other_name).unwrap();
    }
    w.flush().unwrap();
    o.flush().unwrap();
    (wide, other)
}

async fn publish(app: &App, key: &str, name: &str, items: Vec<DataItem>) -> String {
    let ids: HashMap<String, String> = gongshu_services::demo::demo_org_ids(app).await.unwrap();
    let org = ids[key].clone();
    let id = gongshu_services::demo_catalog::publish_for_demo(
        app,
        &Ctx::cli(),
        &org,
        content(name, &org, items),
    )
    .await
    .unwrap()
    .id;
    // COL-6: loads need the providing department's secrecy review first.
    datasets::record_secrecy_review(
        app,
        &Ctx::cli(),
        &id,
        gongshu_services::datasets::SecrecyReviewInput::cleared(""),
    )
    .await
    .unwrap();
    id
}

/// Loads `file` into a new resource; returns (resource id, seconds, rows accepted).
async fn load(app: &App, resource: &str, file: &Path) -> (f64, i64) {
    let started = Instant::now();
    let load = datasets::load_file(
        app,
        &Ctx::cli(),
        resource,
        file,
        LoadOptions::new(Channel::Cli, InputFormat::Csv),
    )
    .await
    .unwrap();
    assert_eq!(load.status, "applied", "{:?}", load.error);
    (started.elapsed().as_secs_f64(), load.rows_accepted)
}

async fn prepared_app(store: Arc<dyn Store>) -> App {
    store.migrate().await.unwrap();
    let app = App::new(store);
    gongshu_services::demo::seed_foundation(&app, 0)
        .await
        .unwrap();
    app
}

fn ratio_line(what: &str, ours_rows_s: f64, peer: &str, peer_rows_s: f64) {
    println!(
        "{what}: Gongshu {ours_rows_s:>10.0} rows/s | {peer} {peer_rows_s:>10.0} rows/s | ratio {:.2}",
        ours_rows_s / peer_rows_s
    );
}

/// The first `lines` lines of `file` (its header and `lines - 1` rows) in a new file.
fn head_of(file: &Path, lines: usize) -> std::path::PathBuf {
    use std::io::BufRead;
    let head = file.with_extension("head.csv");
    let mut out = std::fs::File::create(&head).unwrap();
    let reader = std::io::BufReader::new(std::fs::File::open(file).unwrap());
    for line in reader.lines().take(lines) {
        writeln!(out, "{}", line.unwrap()).unwrap();
    }
    head
}

/// The state the timed loads meet, as on a running platform: the population base
/// was built from earlier, small versions of both resources, with the wide one as
/// the source of the name (GOV-2). So each timed load also builds what the
/// cross-check after it needs, and the cross-check is timed on its own.
async fn prepare_base(app: &App, wide_id: &str, wide: &Path, other: &Path) -> String {
    load(app, wide_id, &head_of(wide, 101)).await;
    gongshu_services::governance::build_base(app, &Ctx::cli(), Base::Population)
        .await
        .unwrap();
    let other_id = publish(
        app,
        "hrss",
        "基准：第二数源",
        vec![
            item(
                "公民身份号码",
                "citizen_id",
                FieldType::String,
                KeyRole::CitizenId,
                None,
            ),
            item(
                "姓名",
                "name",
                FieldType::String,
                KeyRole::None,
                Some("DE0101"),
            ),
        ],
    )
    .await;
    load(app, &other_id, &head_of(other, 101)).await;
    other_id
}

async fn cross_check_side(
    app: &App,
    wide_id: &str,
    other_id: &str,
    other_file: &Path,
    label: &str,
) -> f64 {
    let (secs, _) = load(app, other_id, other_file).await;
    println!("{label}: second source loaded in {secs:.1}s");
    let plane = app.store.data_plane();
    let table = |id: &str| {
        let plane = plane.clone();
        let id = id.to_string();
        async move {
            plane
                .get_dataset(&id)
                .await
                .unwrap()
                .unwrap()
                .current_table
                .unwrap()
        }
    };
    let (a, b) = (table(wide_id).await, table(other_id).await);
    let started = Instant::now();
    let cmp = app
        .store
        .row_reader()
        .compare_columns(
            &ColumnRef {
                table: a,
                key_column: "citizen_id".into(),
                column: "name".into(),
            },
            &ColumnRef {
                table: b,
                key_column: "citizen_id".into(),
                column: "name".into(),
            },
            // As the platform's cross-check asks: confirmed differences left out.
            Some(&AnsweredDifferences {
                attribute: "name".into(),
                other_resource_id: other_id.to_string(),
            }),
            5_000,
        )
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{label}: cross-check {} linked, {} differing in {secs:.2}s",
        cmp.linked, cmp.differing_total
    );
    secs
}

fn duckdb_join(python: &str, a: &Path, b: &Path) -> Option<f64> {
    let script = format!(
        "import duckdb, time\ncon=duckdb.connect()\ncon.execute('SET enable_progress_bar=false')\nt=time.time()\nr=con.sql(\"SELECT count(*), sum(CASE WHEN a.name <> b.name THEN 1 ELSE 0 END) FROM read_csv('{}') a JOIN read_csv('{}') b ON a.citizen_id = b.citizen_id\").fetchall()\nprint(time.time()-t, r)",
        a.display(),
        b.display()
    );
    let out = Command::new(python).arg("-c").arg(script).output().ok()?;
    if !out.status.success() {
        eprintln!(
            "DuckDB side failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    println!("DuckDB: {}", text.trim());
    text.lines().last()?.split_whitespace().next()?.parse().ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rows = if full {
        env_usize("GONGSHU_BENCH_ROWS", 10_000_000)
    } else {
        2_000
    };
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (wide, other) = write_files(dir.path(), rows);
    let size = std::fs::metadata(&wide).unwrap().len() as f64 / 1_048_576.0;
    println!(
        "{rows} rows, {size:.0} MiB CSV written in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // SQLite: sqlite3 .import into an untyped table, then ours.
    let peer_db = dir.path().join("peer.db");
    let mut cmd = Command::new("sqlite3");
    cmd.arg(&peer_db)
        .arg(format!(".import --csv {} t", wide.display()));
    let peer_secs = timed("sqlite3 .import", cmd);
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("gongshu.db"))
            .await
            .unwrap(),
    );
    let app = prepared_app(store.clone()).await;
    let wide_id = publish(&app, "psb", "基准：十列人口数据", wide_items()).await;
    let other_id = prepare_base(&app, &wide_id, &wide, &other).await;
    let rss_before = peak_rss_mib();
    let (secs, accepted) = load(&app, &wide_id, &wide).await;
    assert_eq!(accepted as usize, rows);
    ratio_line(
        "SQLite load (validated, typed, indexed)",
        rows as f64 / secs,
        "sqlite3 .import",
        rows as f64 / peer_secs,
    );
    println!(
        "  Gongshu {secs:.1}s vs sqlite3 {peer_secs:.1}s; peak RSS {:.0} MiB (before the load {:.0} MiB)",
        peak_rss_mib().unwrap_or(0.0),
        rss_before.unwrap_or(0.0)
    );
    let ours_cmp = cross_check_side(&app, &wide_id, &other_id, &other, "SQLite").await;
    if let Some(python) = std::env::var("GONGSHU_BENCH_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    {
        if let Some(duck) = duckdb_join(&python, &wide, &other) {
            println!(
                "Cross-check on citizen ID: Gongshu {ours_cmp:.2}s (loaded tables) | DuckDB {duck:.2}s (joining the CSVs) | Gongshu/DuckDB time {:.2}",
                ours_cmp / duck
            );
        }
    }
    store.close().await;

    // PostgreSQL: psql \copy into an untyped table, then ours.
    let url = std::env::var("GONGSHU_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("GONGSHU_TEST_DATABASE_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    if let Some(url) = url {
        let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let sql = format!(
            "CREATE SCHEMA {schema}; CREATE TABLE {schema}.t (citizen_id text, name text, sex text, birth_date text, division text, employer text, phone text, address text, amount text, registered_on text);"
        );
        let mut create = Command::new("psql");
        create.arg(&url).arg("-q").arg("-c").arg(sql);
        timed("psql create", create);
        let mut copy = Command::new("psql");
        copy.arg(&url).arg("-q").arg("-c").arg(format!(
            "\\copy {schema}.t FROM '{}' WITH (FORMAT csv, HEADER true)",
            wide.display()
        ));
        let peer_secs = timed("psql \\copy", copy);
        let ours_schema = format!("{schema}_g");
        let pg = Arc::new(PgStore::open(&url, Some(&ours_schema)).await.unwrap());
        let app = prepared_app(pg.clone()).await;
        let wide_id = publish(&app, "psb", "基准：十列人口数据", wide_items()).await;
        let other_id = prepare_base(&app, &wide_id, &wide, &other).await;
        let (secs, _) = load(&app, &wide_id, &wide).await;
        ratio_line(
            "PostgreSQL load (validated, typed, indexed)",
            rows as f64 / secs,
            "psql \\copy",
            rows as f64 / peer_secs,
        );
        println!("  Gongshu {secs:.1}s vs psql {peer_secs:.1}s");
        cross_check_side(&app, &wide_id, &other_id, &other, "PostgreSQL").await;
        pg.close().await;
        PgStore::drop_schema(&url, &ours_schema).await.unwrap();
        PgStore::drop_schema(&url, &schema).await.unwrap();
    }
}
