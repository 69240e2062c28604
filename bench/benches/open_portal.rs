//! OPN-2, OPN-3 benchmark (issue 6): the open data portal's public reads, served
//! by the real server (`gongshu_server::serve`, job worker and audit indexer
//! running as in `gongshu serve`) over the demo's open catalog, side by side in
//! the same run with Datasette (`datasette -i peer.db`, default settings) serving
//! the same rows from a standalone SQLite file the bench writes from what
//! Gongshu's public API returns:
//! 1. one page of a dataset's records, `GET /api/v1/open/datasets/{code}/records?limit=100`,
//!    against `/peer/records.json?_size=100&_shape=array`;
//! 2. a filtered page, `…/records?where=item:value&limit=100`, against
//!    `/peer/records.json?item=value&_size=100&_shape=array`;
//! 3. CKAN `GET /api/3/action/package_search?q=公交&rows=10` against
//!    `/peer/datasets.json?_search=公交&_size=10&_shape=array` over an FTS5 index
//!    of the open catalog's names, summaries and items (jieba-segmented, see
//!    [`write_peer_db`]); the portal's own search
//!    `GET /api/v1/open/datasets?q=公交&limit=10` is reported beside it as a
//!    diagnostic.
//!
//! Then a CSV download of an unconditional open dataset of N rows (8 columns),
//! `GET /open/datasets/{code}/data.csv` timed end to end into a file, against
//! `sqlite3 -csv -header peer.db "SELECT * FROM t"` writing the same rows (the
//! peer table is imported from Gongshu's own download) into a file.
//!
//! Every public read of rows is metered per reader and writes a durable access
//! record through the audit writer before its reply; that is part of what is
//! measured. The per-minute rate (120 per address, 1,200 per developer key;
//! `crates/services/src/egress/open.rs`) is a constant, so the record reads are
//! sent by many developer keys in turn (`bench/wrk/header_keys.lua`); one client
//! never gets more than 20 reads a second.
//!
//! ```text
//! python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install datasette
//! apt-get install -y wrk sqlite3
//! GONGSHU_BENCH_DATASETTE=/tmp/bench-venv/bin/datasette \
//!     cargo bench -p gongshu-bench --bench open_portal
//! ```
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs a smoke round:
//! the same world with a 10,000-row download, the checked requests and one
//! download on each side, no wrk and no Datasette; with GONGSHU_BENCH_DATASETTE
//! set (and wrk found) it also checks Datasette's answers and runs each side once
//! for 1 s.
//!
//! Knobs: GONGSHU_BENCH_ROWS (10,000,000 rows to download), GONGSHU_BENCH_KEYS
//! (1,000 developer keys, half for each record side), GONGSHU_BENCH_SQLITE3
//! (sqlite3 on `PATH`), and those of [`Knobs`]: GONGSHU_BENCH_SECONDS (10),
//! GONGSHU_BENCH_ROUNDS (3, also the downloads), GONGSHU_BENCH_CONNECTIONS (64),
//! GONGSHU_BENCH_WRK_THREADS (1), GONGSHU_BENCH_WRK, GONGSHU_BENCH_DATASETTE,
//! GONGSHU_BENCH_WAIT_QUIET (1).
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, NaiveDate, Utc};
use gongshu_bench::machine::{
    env_path, env_usize, loadavg, peak_rss_mib, quiet, reset_peak_rss, timed, undisturbed, which,
};
use gongshu_bench::report::{median, thousands, verdict};
use gongshu_bench::web::{
    get_once, header_value, wrk_line, Datasette, Knobs, Server, Side, Target,
};
use gongshu_domain::catalog::{
    DataItem, Domain, FieldType, ItemConstraints, KeyRole, ResourceFormat, UpdateFrequency,
};
use gongshu_domain::permissions::Principal;
use gongshu_search::Jieba;
use gongshu_server::Config;
use gongshu_services::dataset_input::InputFormat;
use gongshu_services::datasets::{self, Channel, LoadOptions};
use gongshu_services::open_access::{self, NewDeveloperKey};
use gongshu_services::{App, Ctx};
use gongshu_store::AccessFilter;
use serde_json::Value;
use tokio::runtime::Runtime;

/// The issue's target: Gongshu's rate against Datasette's on each comparable query.
const TARGET_DATASETTE_RATIO: f64 = 20.0;
/// The word searched for.
const WORD: &str = "公交";
/// The header a developer key is sent in.
const KEY_HEADER: &str = "X-Api-Key";
/// Reads per minute one developer key is allowed (egress::KEY_RATE_PER_MINUTE).
const KEY_RATE_PER_MINUTE: usize = gongshu_services::egress::KEY_RATE_PER_MINUTE as usize;
/// The name of the download's dataset in the catalog.
const TAPS_NAME: &str = "云川市公交IC卡刷卡交易明细（基准测试）";

struct Cfg {
    web: Knobs,
    rows: usize,
    keys: usize,
    sqlite3: Option<PathBuf>,
}

impl Cfg {
    fn from_env(full: bool) -> Self {
        Self {
            web: Knobs::from_env(full),
            rows: env_usize("GONGSHU_BENCH_ROWS", if full { 10_000_000 } else { 10_000 }).max(1),
            keys: env_usize("GONGSHU_BENCH_KEYS", if full { 1_000 } else { 4 }).max(2),
            sqlite3: env_path("GONGSHU_BENCH_SQLITE3").or_else(|| which("sqlite3")),
        }
    }
}

/// `s` percent-encoded for a query string (everything but unreserved characters).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The download's dataset: bus card taps, 8 columns of the usual kinds.

const TAP_ITEMS: [(&str, &str, FieldType, Option<u32>, &str); 8] = [
    (
        "交易流水号",
        "txn_id",
        FieldType::String,
        Some(12),
        "刷卡交易的唯一流水号",
    ),
    (
        "交易日期",
        "txn_date",
        FieldType::Date,
        None,
        "刷卡交易发生的日期",
    ),
    (
        "交易时间",
        "txn_time",
        FieldType::String,
        Some(8),
        "刷卡时刻（时:分:秒）",
    ),
    (
        "线路",
        "line",
        FieldType::String,
        Some(10),
        "乘坐的公交线路",
    ),
    (
        "上车站点",
        "stop",
        FieldType::String,
        Some(20),
        "刷卡上车的站点",
    ),
    (
        "卡类型",
        "card_type",
        FieldType::String,
        Some(10),
        "公交卡类别",
    ),
    ("交易金额", "fare", FieldType::Number, None, "扣款金额，元"),
    (
        "是否换乘",
        "transfer",
        FieldType::Integer,
        None,
        "换乘优惠：1 是，0 否",
    ),
];
const STOPS: [&str; 16] = [
    "湖滨", "文昌", "新华", "青山", "白石", "柳溪", "东湖", "城南", "城北", "育才", "龙潭", "桂花",
    "望江", "金桥", "朝阳", "长乐",
];
const STOP_KINDS: [&str; 4] = ["站", "路口", "公园", "中心"];
const CARDS: [(&str, &str); 5] = [
    ("普通卡", "2"),
    ("学生卡", "1"),
    ("老年卡", "0"),
    ("爱心卡", "0"),
    ("交通联合卡", "1.8"),
];

/// The items of the dataset, made from a demo item so that every other field keeps
/// the demo's values.
fn tap_items(template: &DataItem) -> Vec<DataItem> {
    TAP_ITEMS
        .iter()
        .enumerate()
        .map(|(i, (name, code, field_type, length, meaning))| {
            let mut item = template.clone();
            item.name = (*name).into();
            item.code_name = (*code).into();
            item.field_type = *field_type;
            item.length = *length;
            item.meaning = (*meaning).into();
            item.sensitive = false;
            item.key_role = if i == 0 {
                KeyRole::RecordKey
            } else {
                KeyRole::None
            };
            item.element_code = None;
            item.constraints = ItemConstraints {
                required: i == 0,
                ..ItemConstraints::default()
            };
            item
        })
        .collect()
}

/// One tap, as the items of [`TAP_ITEMS`].
fn tap(i: usize) -> [String; 8] {
    let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days((i / 300_000) as i64);
    let second = (i * 7_919) % 86_400;
    let (card, fare) = CARDS[(i * 13 / 7) % CARDS.len()];
    [
        format!("JY{:010}", i + 1),
        day.format("%Y-%m-%d").to_string(),
        format!(
            "{:02}:{:02}:{:02}",
            second / 3600,
            second / 60 % 60,
            second % 60
        ),
        format!("{}路", 1 + (i * 31) % 120),
        format!(
            "{}{}",
            STOPS[(i / 3) % STOPS.len()],
            STOP_KINDS[(i / 48) % STOP_KINDS.len()]
        ),
        card.to_string(),
        fare.to_string(),
        u8::from(i.is_multiple_of(7)).to_string(),
    ]
}

/// The taps as 公交集团 delivers them (header in 中文).
fn write_taps_csv(path: &Path, rows: usize) {
    let mut w = BufWriter::new(std::fs::File::create(path).expect("taps file"));
    let header: Vec<&str> = TAP_ITEMS.iter().map(|t| t.0).collect();
    writeln!(w, "{}", header.join(",")).unwrap();
    for i in 0..rows {
        writeln!(w, "{}", tap(i).join(",")).unwrap();
    }
    w.flush().unwrap();
}

/// Publishes the taps as an unconditional open dataset of the source department
/// of a demo one (as the demo publishes its own) and loads `rows` of them as an
/// upload is loaded. Returns its resource code.
async fn publish_taps(app: &App, dir: &Path, rows: usize) -> String {
    let catalog = gongshu_services::open::catalog(app)
        .await
        .expect("open catalog");
    let template = catalog
        .datasets
        .iter()
        .find(|d| d.is_direct() && d.has_data && d.content.domain == Domain::Transport)
        .expect("an unconditional open transport dataset in the demo");
    let mut content = template.content.clone();
    content.name = TAPS_NAME.into();
    content.summary = "全市公交IC卡刷卡交易明细：日期、时刻、线路、上车站点、卡类型、金额和换乘标志（基准测试合成数据）".into();
    content.format = ResourceFormat::Database;
    content.update_frequency = UpdateFrequency::Daily;
    content.items = tap_items(&template.content.items[0]);
    let entry = gongshu_services::demo_catalog::publish_for_demo(
        app,
        &Ctx::cli(),
        &template.owner_org_id,
        content,
    )
    .await
    .expect("publish the taps");
    // COL-6: loads need the providing department's secrecy review first.
    datasets::record_secrecy_review(
        app,
        &Ctx::cli(),
        &entry.id,
        gongshu_services::datasets::SecrecyReviewInput::cleared(""),
    )
    .await
    .expect("clear the taps in a secrecy review");

    let csv = dir.join("taps.csv");
    let started = Instant::now();
    write_taps_csv(&csv, rows);
    let written = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut opts = LoadOptions::new(Channel::Upload, InputFormat::Csv);
    opts.file_name = Some("taps.csv".into());
    let load = datasets::load_file(app, &Ctx::cli(), &entry.id, &csv, opts)
        .await
        .expect("load the taps");
    assert_eq!(load.status, "applied", "{:?}", load.error);
    assert_eq!(load.rows_accepted as usize, rows, "every tap loaded");
    let _ = std::fs::remove_file(&csv);
    println!(
        "  {TAPS_NAME} ({}): {} rows written in {written:.1}s, loaded in {:.1}s",
        entry.code,
        thousands(rows as f64),
        started.elapsed().as_secs_f64()
    );
    entry.code
}

/// Developer keys issued to the public, as the portal issues them; their secrets.
async fn issue_keys(app: &App, n: usize) -> Vec<String> {
    let ctx = Ctx::new(Principal::public("public"), None);
    let mut secrets = Vec::with_capacity(n);
    for i in 0..n {
        let (_, secret) = open_access::issue_key(
            app,
            &ctx,
            NewDeveloperKey {
                holder_name: format!("基准测试开发者{i}"),
                holder_kind: "natural_person".into(),
                identity_number: "11010519491231002X".into(),
                contact: "bench@example.cn".into(),
            },
        )
        .await
        .expect("developer key");
        secrets.push(secret);
    }
    secrets
}

/// Follows the e2e open-data tests' world: a fresh SQLite store, the demo region
/// and catalog (`demo::seed`), the demo's open datasets with rows
/// (`demo_open::seed_open`), the download's dataset of `rows`, then the server on
/// 127.0.0.1:0 as `gongshu serve` runs it (job worker and audit indexer on).
async fn build_world(dir: &Path, rows: usize) -> (Arc<App>, Server, String) {
    let config = Config {
        data_dir: dir.join("node"),
        run_jobs: true,
        ..Config::default()
    };
    let app = gongshu_server::open_app(&config).await.expect("open app");
    let started = Instant::now();
    gongshu_services::demo::seed(&app, 5)
        .await
        .expect("demo region and catalog");
    let open = gongshu_services::demo_open::seed_open(&app)
        .await
        .expect("open demo datasets");
    println!(
        "  demo region and catalog, {} open datasets ({} conditional, {} rows) in {:.1}s",
        open.datasets,
        open.conditional,
        thousands(open.rows as f64),
        started.elapsed().as_secs_f64()
    );
    let taps = publish_taps(&app, dir, rows).await;
    let server = Server::start(Arc::clone(&app), config).await;
    (app, server, taps)
}

// ---------------------------------------------------------------------------
// What the public reads, through the public API.

async fn get_json(addr: SocketAddr, path: &str, header: Option<&str>) -> (Value, usize) {
    let r = get_once(addr, path, header).await.expect("GET");
    let text = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 200, "GET {path}: {text}");
    (
        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}")),
        r.body.len(),
    )
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One dataset of the open catalog, as the public API describes it.
struct Listed {
    /// The catalog entry's id (what access records name).
    id: String,
    code: String,
    name: String,
    summary: String,
    domain: String,
    source: String,
    /// Each item's name, meaning and code name, as the catalog index reads them.
    items: String,
    rows: i64,
    direct: bool,
}

/// Every dataset of the open catalog: the names CKAN's `package_list` gives (the
/// resource codes), each read with `GET /api/v1/open/datasets/{code}`. (Paging
/// `GET /api/v1/open/datasets` by offset is not used: its order is by score,
/// equal for all when browsing, and one run saw a dataset on two pages.)
async fn open_catalog(addr: SocketAddr) -> Vec<Listed> {
    let (list, _) = get_json(addr, "/api/3/action/package_list", None).await;
    let mut out = Vec::new();
    for name in list["result"].as_array().expect("package names") {
        let code = text(name);
        let (view, _) = get_json(addr, &format!("/api/v1/open/datasets/{code}"), None).await;
        let d = &view["dataset"];
        let c = &d["content"];
        let items: Vec<String> = c["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                format!(
                    "{} {} {}",
                    text(&i["name"]),
                    text(&i["meaning"]),
                    text(&i["code_name"])
                )
            })
            .collect();
        out.push(Listed {
            id: text(&d["id"]),
            code: text(&d["code"]),
            name: text(&c["name"]),
            summary: text(&c["summary"]),
            domain: text(&c["domain"]),
            source: text(&d["source_org_name"]),
            items: items.join("\n"),
            rows: d["rows"].as_i64().unwrap_or(0),
            direct: view["access"] == "direct" && d["has_data"] == true,
        });
    }
    let (listing, _) = get_json(addr, "/api/v1/open/datasets?limit=1", None).await;
    assert_eq!(
        listing["total"].as_u64(),
        Some(out.len() as u64),
        "the portal lists as many datasets as CKAN"
    );
    out
}

/// An open dataset's served columns (name, Table Schema type) and its rows as the
/// public API returns them, in order.
struct Table {
    columns: Vec<(String, String)>,
    rows: Vec<Vec<Value>>,
}

async fn served_columns(addr: SocketAddr, code: &str) -> Vec<(String, String)> {
    let (view, _) = get_json(addr, &format!("/api/v1/open/datasets/{code}"), None).await;
    view["schema"]["fields"]
        .as_array()
        .expect("the served schema")
        .iter()
        .map(|f| (text(&f["name"]), text(&f["type"])))
        .collect()
}

/// Reads every row of `code` page by page through the records API.
async fn read_table(addr: SocketAddr, code: &str, key: &str) -> Table {
    let columns = served_columns(addr, code).await;
    let header = format!("{KEY_HEADER}: {key}");
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(c) => format!(
                "/api/v1/open/datasets/{code}/records?limit=1000&after={}",
                pct(c)
            ),
            None => format!("/api/v1/open/datasets/{code}/records?limit=1000"),
        };
        let (page, _) = get_json(addr, &path, Some(&header)).await;
        for r in page["rows"].as_array().expect("rows") {
            rows.push(columns.iter().map(|(n, _)| r[n].clone()).collect());
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return Table { columns, rows },
        }
    }
}

/// The filter: a text column's value found on the most rows while still fitting
/// one page (2–100), ties to the first column and value; without a comma (the
/// API's list separator).
fn filter_candidates(t: &Table) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (c, (name, kind)) in t.columns.iter().enumerate() {
        if kind != "string" {
            continue;
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &t.rows {
            if let Value::String(s) = &r[c] {
                *counts.entry(s.as_str()).or_default() += 1;
            }
        }
        for (value, n) in counts {
            if (2..=100).contains(&n) && !value.is_empty() && !value.contains(',') {
                out.push((name.clone(), value.to_string(), n));
            }
        }
    }
    // Most rows first; the sort is stable, so ties keep column and value order.
    out.sort_by_key(|c| std::cmp::Reverse(c.2));
    out
}

// ---------------------------------------------------------------------------
// Datasette's side: the same rows in a standalone SQLite file.

fn sql_type(table_schema_type: &str) -> &'static str {
    match table_schema_type {
        "integer" => "INTEGER",
        "number" => "REAL",
        _ => "TEXT",
    }
}

fn column_list(columns: &[(String, String)]) -> String {
    columns
        .iter()
        .map(|(n, t)| format!("\"{n}\" {}", sql_type(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The words of `text` as the catalog index cuts them: jieba's search mode,
/// words only, in lower case; joined by spaces.
fn segmented(jieba: &Jieba, text: &str) -> String {
    jieba
        .cut_for_search(text, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes the peer's file:
/// - `records`: the dataset's rows as the public API returned them, typed by the
///   served schema, in the same order (no primary key: Datasette pages by rowid,
///   which is that order);
/// - `datasets`: the open catalog (code, name, summary, domain, source, items);
/// - `datasets_fts`: FTS5 on `datasets` as `sqlite-utils enable-fts` makes it
///   (`content="datasets"`, so Datasette's `_search` finds it), but filled with
///   the jieba-segmented words: FTS5's tokenizer (unicode61) keeps a run of Chinese
///   between punctuation as one token, so over the raw text `公交` matches
///   nothing. `raw_fts` holds the raw text, for that comparison only.
async fn write_peer_db(path: &Path, records: &Table, catalog: &[Listed]) {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
        )
        .await
        .expect("peer db");
    let mut tx = pool.begin().await.expect("begin");
    for ddl in [
        format!("CREATE TABLE records ({})", column_list(&records.columns)),
        "CREATE TABLE datasets (code TEXT, name TEXT, summary TEXT, domain TEXT, source TEXT, \
         items TEXT)"
            .into(),
        "CREATE VIRTUAL TABLE datasets_fts USING fts5(name, summary, items, content=\"datasets\")"
            .into(),
        "CREATE VIRTUAL TABLE raw_fts USING fts5(name, summary, items)".into(),
    ] {
        sqlx::query(&ddl)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{ddl}: {e}"));
    }
    let insert = format!(
        "INSERT INTO records VALUES ({})",
        vec!["?"; records.columns.len()].join(", ")
    );
    for row in &records.rows {
        let mut q = sqlx::query(&insert);
        for v in row {
            q = match v {
                Value::Null => q.bind(None::<String>),
                Value::Bool(b) => q.bind(i64::from(*b)),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => q.bind(i),
                    None => q.bind(n.as_f64()),
                },
                Value::String(s) => q.bind(s.clone()),
                other => q.bind(other.to_string()),
            };
        }
        q.execute(&mut *tx).await.expect("insert a peer row");
    }
    let jieba = Jieba::new();
    for (i, d) in catalog.iter().enumerate() {
        let rowid = i as i64 + 1;
        sqlx::query("INSERT INTO datasets (rowid, code, name, summary, domain, source, items) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(rowid)
            .bind(&d.code)
            .bind(&d.name)
            .bind(&d.summary)
            .bind(&d.domain)
            .bind(&d.source)
            .bind(&d.items)
            .execute(&mut *tx)
            .await
            .expect("insert a catalog row");
        for (table, words) in [
            (
                "datasets_fts",
                [
                    segmented(&jieba, &d.name),
                    segmented(&jieba, &d.summary),
                    segmented(&jieba, &d.items),
                ],
            ),
            (
                "raw_fts",
                [d.name.clone(), d.summary.clone(), d.items.clone()],
            ),
        ] {
            sqlx::query(&format!(
                "INSERT INTO {table} (rowid, name, summary, items) VALUES (?, ?, ?, ?)"
            ))
            .bind(rowid)
            .bind(&words[0])
            .bind(&words[1])
            .bind(&words[2])
            .execute(&mut *tx)
            .await
            .expect("index a catalog row");
        }
    }
    tx.commit().await.expect("commit");
    pool.close().await;
}

/// The codes the peer's index finds for `word` (as Datasette's `_search` asks:
/// the word as a phrase), and how many the raw-text index finds.
async fn peer_search(path: &Path, word: &str) -> (Vec<String>, i64) {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path).read_only(true))
        .await
        .expect("peer db");
    let phrase = format!("\"{word}\"");
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT code FROM datasets WHERE rowid IN \
         (SELECT rowid FROM datasets_fts WHERE datasets_fts MATCH ?) ORDER BY rowid",
    )
    .bind(&phrase)
    .fetch_all(&pool)
    .await
    .expect("search the peer");
    let raw: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_fts WHERE raw_fts MATCH ?")
        .bind(&phrase)
        .fetch_one(&pool)
        .await
        .expect("search the raw text");
    pool.close().await;
    (codes, raw)
}

// ---------------------------------------------------------------------------
// The comparable queries and their checks.

struct Queries {
    /// The dataset whose records are read.
    code: String,
    rows: usize,
    records_path: String,
    filter: (String, String, usize),
    filter_path: String,
    peer_records_path: String,
    peer_filter_path: String,
    ckan_path: String,
    portal_search_path: String,
    peer_search_path: String,
    /// Codes of the open datasets the peer finds for [`WORD`].
    hits: Vec<String>,
    /// The first row of a page, as Gongshu returns it.
    first_row: Value,
}

/// Served access records of a resource since `since`, by id.
async fn served_ids(app: &App, resource_id: &str, since: chrono::DateTime<Utc>) -> Vec<String> {
    app.store
        .list_access(&AccessFilter {
            resource_id: Some(resource_id.to_string()),
            outcome: Some("served".into()),
            since: Some(since),
            limit: 10_000,
            ..AccessFilter::default()
        })
        .await
        .expect("access records")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Picks the records dataset and the filter, writes the peer's file and checks
/// that Gongshu answers each query as the peer's data says it should: every page
/// with its durable access record, the filter's rows, CKAN's hits.
async fn prepare(app: &App, addr: SocketAddr, taps: &str, key: &str, peer_db: &Path) -> Queries {
    let catalog = open_catalog(addr).await;
    let chosen = catalog
        .iter()
        .filter(|d| d.direct && d.code != taps)
        .max_by(|a, b| a.rows.cmp(&b.rows).then(b.code.cmp(&a.code)))
        .expect("an unconditional open dataset with rows");
    let code = chosen.code.clone();
    let table = read_table(addr, &code, key).await;
    assert_eq!(table.rows.len() as i64, chosen.rows, "every row of {code}");
    let header = format!("{KEY_HEADER}: {key}");
    let records_path = format!("/api/v1/open/datasets/{code}/records?limit=100");
    let since = Utc::now() - Duration::seconds(1);

    // A page: 100 rows, the first of the table, with its access record.
    let (page, bytes) = get_json(addr, &records_path, Some(&header)).await;
    let rows = page["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), table.rows.len().min(100));
    for (r, want) in rows.iter().zip(&table.rows) {
        let got: Vec<Value> = table.columns.iter().map(|(n, _)| r[n].clone()).collect();
        assert_eq!(&got, want, "the first page is the table's first rows");
    }
    println!(
        "  records: {} ({}), {} rows, {} columns; a page of 100 is {} bytes",
        code,
        chosen.name,
        table.rows.len(),
        table.columns.len(),
        thousands(bytes as f64)
    );

    // The filter: the first candidate the public may filter on (not masked).
    let mut filter = None;
    for (column, value, n) in filter_candidates(&table) {
        let path = format!(
            "/api/v1/open/datasets/{code}/records?where={column}:{}&limit=100",
            pct(&value)
        );
        let r = get_once(addr, &path, Some(&header)).await.expect("filter");
        if r.status != 200 {
            continue;
        }
        let filtered: Value = serde_json::from_slice(&r.body).expect("JSON");
        let got = filtered["rows"].as_array().map_or(0, Vec::len);
        assert_eq!(got, n, "{column}={value}: {n} rows");
        println!(
            "  filter: {column} = {value}, {n} of {} rows; the page is {} bytes",
            table.rows.len(),
            thousands(r.body.len() as f64)
        );
        filter = Some(((column, value, n), path));
        break;
    }
    let (filter, filter_path) = filter.expect("a column the public may filter on");

    // Every served page has its durable access record (written before the reply).
    let served = served_ids(app, &chosen.id, since).await;
    let access = text(&page["access_id"]);
    assert!(
        served.contains(&access),
        "the page's access record {access} is durable"
    );

    write_peer_db(peer_db, &table, &catalog).await;
    let (hits, raw) = peer_search(peer_db, WORD).await;
    let ckan_path = format!("/api/3/action/package_search?q={}&rows=10", pct(WORD));
    let (ckan, bytes) = get_json(addr, &ckan_path, None).await;
    let result = &ckan["result"];
    assert_eq!(
        result["count"].as_u64(),
        Some(hits.len() as u64),
        "CKAN finds what the peer's index finds for {WORD}: {hits:?}"
    );
    if hits.len() <= 10 {
        let mut names: Vec<String> = result["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|p| text(&p["name"]))
            .collect();
        let mut want: Vec<String> = hits.iter().map(|c| c.to_lowercase()).collect();
        names.sort();
        want.sort();
        assert_eq!(names, want, "the same datasets");
    }
    println!(
        "  search {WORD}: {} of {} open datasets on both sides (FTS5 over the raw text would find {raw}); CKAN's reply is {} bytes",
        hits.len(),
        catalog.len(),
        thousands(bytes as f64)
    );
    let portal_search_path = format!("/api/v1/open/datasets?q={}&limit=10", pct(WORD));
    let (portal, _) = get_json(addr, &portal_search_path, None).await;
    assert_eq!(portal["total"].as_u64(), Some(hits.len() as u64));

    let (column, value, _) = &filter;
    Queries {
        rows: table.rows.len(),
        peer_records_path: "/peer/records.json?_size=100&_shape=array".into(),
        peer_filter_path: format!(
            "/peer/records.json?{column}={}&_size=100&_shape=array",
            pct(value)
        ),
        peer_search_path: format!(
            "/peer/datasets.json?_search={}&_size=10&_shape=array",
            pct(WORD)
        ),
        code,
        records_path,
        filter_path,
        filter,
        ckan_path,
        portal_search_path,
        hits,
        first_row: rows.first().cloned().unwrap_or(Value::Null),
    }
}

/// Datasette answers the same queries with the same rows.
fn check_peer(rt: &Runtime, d: &Datasette, q: &Queries) {
    let (rows, bytes) = rt.block_on(get_json(d.addr, &q.peer_records_path, None));
    let rows = rows.as_array().expect("an array of rows");
    assert_eq!(rows.len(), q.rows.min(100));
    if let (Some(ours), Some(theirs)) = (q.first_row.as_object(), rows.first()) {
        for (k, v) in ours {
            let same = v == &theirs[k] || v.as_f64().is_some() && v.as_f64() == theirs[k].as_f64();
            assert!(same, "{k}: Gongshu {v}, Datasette {}", theirs[k]);
        }
    }
    println!(
        "  Datasette's page of 100 is {} bytes",
        thousands(bytes as f64)
    );
    let (rows, _) = rt.block_on(get_json(d.addr, &q.peer_filter_path, None));
    assert_eq!(rows.as_array().map_or(0, Vec::len), q.filter.2);
    let counted = format!("/peer/datasets.json?_search={}&_size=10", pct(WORD));
    let (found, _) = rt.block_on(get_json(d.addr, &counted, None));
    assert_eq!(
        found["filtered_table_rows_count"].as_u64(),
        Some(q.hits.len() as u64),
        "Datasette's _search finds the same datasets"
    );
    let (_, bytes) = rt.block_on(get_json(d.addr, &q.peer_search_path, None));
    println!(
        "  checked: Datasette returns the same first rows, {} filtered rows and {} hits for {WORD} ({} bytes)",
        q.filter.2,
        q.hits.len(),
        thousands(bytes as f64)
    );
}

// ---------------------------------------------------------------------------
// The download.

/// One download written to a file: its status, size, the rows Gongshu says it
/// holds and the seconds from connecting to the last byte written.
struct Fetched {
    status: u16,
    bytes: u64,
    rows: Option<u64>,
    secs: f64,
    error: String,
}

/// GETs `path` and writes the body into `out` as it arrives.
fn download(addr: SocketAddr, path: &str, out: &Path) -> Fetched {
    let started = Instant::now();
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    (&stream)
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .expect("send");
    let mut reader = BufReader::with_capacity(1 << 20, &stream);
    let mut head = String::new();
    loop {
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line).expect("read the head");
        if line.is_empty() || line == b"\r\n" {
            break;
        }
        head.push_str(&String::from_utf8_lossy(&line));
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let header = |name: &str| header_value(&head, name);
    let length: Option<u64> = header("content-length").and_then(|v| v.parse().ok());
    let rows = header("x-gongshu-rows").and_then(|v| v.parse().ok());
    if status != 200 {
        let mut body = String::new();
        let _ = reader.take(64 * 1024).read_to_string(&mut body);
        return Fetched {
            status,
            bytes: 0,
            rows,
            secs: started.elapsed().as_secs_f64(),
            error: body,
        };
    }
    let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(out).expect("file"));
    let bytes = match length {
        Some(n) => std::io::copy(&mut reader.take(n), &mut file),
        None => std::io::copy(&mut reader, &mut file),
    }
    .expect("read the body");
    file.flush().expect("write the body");
    if let Some(n) = length {
        assert_eq!(bytes, n, "the whole body");
    }
    Fetched {
        status,
        bytes,
        rows,
        secs: started.elapsed().as_secs_f64(),
        error: String::new(),
    }
}

/// `sqlite3 -csv -header <db> "SELECT * FROM t"` into `out`; its seconds.
fn sqlite3_csv(program: &Path, db: &Path, out: &Path) -> f64 {
    let mut cmd = Command::new(program);
    cmd.arg("-csv")
        .arg("-header")
        .arg(db)
        .arg("SELECT * FROM t")
        .stdout(std::fs::File::create(out).expect("file"));
    timed("sqlite3 -csv", cmd)
}

/// The peer's table `t`, typed by the served schema, imported with
/// `sqlite3 .import` from Gongshu's own download (its header line skipped).
fn import_peer(program: &Path, db: &Path, columns: &[(String, String)], csv: &Path) -> f64 {
    let mut cmd = Command::new(program);
    cmd.arg(db)
        .arg(format!("CREATE TABLE t ({})", column_list(columns)))
        .arg(format!(".import --csv --skip 1 '{}' t", csv.display()));
    timed("sqlite3 .import", cmd)
}

/// The fields of one CSV line (quotes as RFC 4180; no newlines inside values).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

/// The two files hold the same header and rows in the same order (a number equal
/// as a number: SQLite writes a REAL 2 as `2.0`). Returns the data rows.
fn same_rows(a: &Path, b: &Path) -> Result<u64, String> {
    let open =
        |p: &Path| BufReader::with_capacity(1 << 20, std::fs::File::open(p).expect("open")).lines();
    let (mut la, mut lb) = (open(a), open(b));
    let mut lines = 0u64;
    loop {
        match (la.next(), lb.next()) {
            (None, None) => return Ok(lines.saturating_sub(1)),
            (Some(x), Some(y)) => {
                let (x, y) = (x.map_err(|e| e.to_string())?, y.map_err(|e| e.to_string())?);
                let clean =
                    |l: &str| csv_fields(l.trim_start_matches('\u{feff}').trim_end_matches('\r'));
                let (fx, fy) = (clean(&x), clean(&y));
                let same = fx.len() == fy.len() && fx.iter().zip(&fy).all(|(p, q)| {
                    p == q
                        || matches!((p.parse::<f64>(), q.parse::<f64>()), (Ok(m), Ok(n)) if m == n)
                });
                if !same {
                    return Err(format!("line {}: {x:?} against {y:?}", lines + 1));
                }
                lines += 1;
            }
            _ => return Err(format!("one file ends after {lines} lines")),
        }
    }
}

struct DownloadRun {
    gongshu_secs: f64,
    peer_secs: Option<f64>,
}

/// The download rounds: a warm-up on each side (the peer's table imported from
/// Gongshu's warm-up file, the two files compared row by row), then `rounds`.
/// Returns the runs, the two files' sizes and the peak RSS during the rounds.
fn run_downloads(
    cfg: &Cfg,
    addr: SocketAddr,
    code: &str,
    columns: &[(String, String)],
    dir: &Path,
    rounds: usize,
) -> (Vec<DownloadRun>, u64, Option<u64>, Option<f64>) {
    let path = format!("/open/datasets/{code}/data.csv");
    let ours = dir.join("gongshu.csv");
    let theirs = dir.join("sqlite3.csv");
    let peer_db = dir.join("download.db");
    let check = |f: &Fetched| {
        assert_eq!(f.status, 200, "download: {}", f.error);
        assert_eq!(f.rows, Some(cfg.rows as u64), "x-gongshu-rows");
    };
    quiet(cfg.web.wait_quiet, "the download warm-up");
    let warm = download(addr, &path, &ours);
    check(&warm);
    println!(
        "  warm-up download: {} bytes in {:.2}s ({} rows/s)",
        thousands(warm.bytes as f64),
        warm.secs,
        thousands(cfg.rows as f64 / warm.secs)
    );
    let mut peer_bytes = None;
    if let Some(program) = &cfg.sqlite3 {
        let secs = import_peer(program, &peer_db, columns, &ours);
        let warm_peer = sqlite3_csv(program, &peer_db, &theirs);
        let rows = same_rows(&ours, &theirs)
            .unwrap_or_else(|e| panic!("Gongshu's download and sqlite3's output differ: {e}"));
        assert_eq!(rows, cfg.rows as u64, "sqlite3 wrote every row");
        peer_bytes = std::fs::metadata(&theirs).ok().map(|m| m.len());
        println!(
            "  peer table imported from that file in {secs:.2}s; sqlite3 -csv warm-up {warm_peer:.2}s; checked: the two files hold the same {} rows in the same order",
            thousands(rows as f64)
        );
    } else {
        println!("  (sqlite3 not found: set GONGSHU_BENCH_SQLITE3 or `apt-get install -y sqlite3` — the peer side is skipped)");
    }
    println!(
        "  peak RSS of the bench process so far (world, load, warm-up): {}",
        peak_rss_mib().map_or("?".into(), |m| format!("{m:.0} MiB"))
    );
    let reset = reset_peak_rss();
    let mut runs = Vec::new();
    for round in 1..=rounds {
        let g = undisturbed(cfg.web.wait_quiet, "a Gongshu download", || {
            let load = loadavg();
            let f = download(addr, &path, &ours);
            check(&f);
            println!(
                "  round {round}: Gongshu {:.2}s, {} rows/s (load average {load})",
                f.secs,
                thousands(cfg.rows as f64 / f.secs)
            );
            f.secs
        });
        let p = cfg.sqlite3.as_ref().map(|program| {
            undisturbed(cfg.web.wait_quiet, "a sqlite3 -csv run", || {
                let load = loadavg();
                let secs = sqlite3_csv(program, &peer_db, &theirs);
                println!(
                    "           sqlite3 -csv {secs:.2}s, {} rows/s (load average {load})",
                    thousands(cfg.rows as f64 / secs)
                );
                secs
            })
        });
        runs.push(DownloadRun {
            gongshu_secs: g,
            peer_secs: p,
        });
    }
    let peak = reset.then(peak_rss_mib).flatten();
    for f in [&ours, &theirs, &peer_db] {
        let _ = std::fs::remove_file(f);
    }
    (runs, warm.bytes, peer_bytes, peak)
}

// ---------------------------------------------------------------------------

/// Issues the keys and writes each half to a file for wrk, one a line.
fn key_files(dir: &Path, secrets: &[String]) -> (PathBuf, PathBuf) {
    let (a, b) = secrets.split_at(secrets.len() / 2);
    let files = (dir.join("keys-records.txt"), dir.join("keys-filter.txt"));
    std::fs::write(&files.0, a.join("\n") + "\n").expect("keys file");
    std::fs::write(&files.1, b.join("\n") + "\n").expect("keys file");
    files
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let cfg = Cfg::from_env(full);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "# Open data portal (issue 6): {cores} cores (available_parallelism), {}",
        if full {
            "release build"
        } else {
            "smoke run (no --bench): figures not meaningful"
        }
    );
    // The server's runtime: as many workers as cores, as `gongshu serve` has. The
    // main thread only orchestrates (wrk, sqlite3 and Datasette run as child
    // processes; the download client reads on the main thread).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .expect("tokio runtime");
    // A smoke run measures nothing; with GONGSHU_BENCH_DATASETTE set (and wrk
    // found) it also checks Datasette's answers and runs each side once, for 1 s.
    let (seconds, rounds) = if full {
        (cfg.web.seconds, cfg.web.rounds)
    } else {
        (1, 1)
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, server, taps) = rt.block_on(build_world(dir.path(), cfg.rows));
    let started = Instant::now();
    let secrets = rt.block_on(issue_keys(&app, cfg.keys));
    let (records_keys, filter_keys) = key_files(dir.path(), &secrets);
    let per_side = cfg.keys / 2;
    println!(
        "  {} developer keys issued in {:.1}s; {per_side} take turns on each record side: up to {} req/s before any key reaches {KEY_RATE_PER_MINUTE} reads in a minute, for a {}s run (two runs in one minute: half)",
        cfg.keys,
        started.elapsed().as_secs_f64(),
        thousands((per_side * KEY_RATE_PER_MINUTE) as f64 / seconds as f64),
        seconds
    );

    let peer_db = dir.path().join("peer.db");
    let q = rt.block_on(prepare(&app, server.addr, &taps, &secrets[0], &peer_db));
    println!(
        "  checked: a page of {} is its first 100 rows, with its durable access record; the filter returns its {} rows; CKAN package_search and the portal's search find the peer's {} datasets",
        q.code,
        q.filter.2,
        q.hits.len()
    );

    let mut sides: Vec<Side<'_>> = Vec::new();
    if !full && cfg.web.datasette.is_none() {
        println!("  (smoke run: no wrk, no Datasette; with GONGSHU_BENCH_DATASETTE set, one 1-second run of each side)");
    } else if cfg.web.wrk.is_none() {
        println!("  (wrk not found on PATH; set GONGSHU_BENCH_WRK or `apt-get install -y wrk` — throughput skipped)");
    } else {
        let datasette = cfg.web.datasette.as_ref().map(|program| {
            let d = Datasette::start(program, &peer_db, &rt);
            println!(
                "  Datasette {} serving {} on {} (immutable, -i)",
                d.version(&rt),
                peer_db.display(),
                d.addr
            );
            check_peer(&rt, &d, &q);
            d
        });
        if datasette.is_none() {
            println!("  (Datasette skipped: set GONGSHU_BENCH_DATASETTE to the datasette executable, e.g. /tmp/bench-venv/bin/datasette)");
        }
        let peer = datasette.as_ref().map(|d| format!("http://{}", d.addr));
        let side = |label, base: &str, target| Side {
            label,
            base: base.to_string(),
            target,
            header: None,
            runs: Vec::new(),
        };
        // Each query's two sides back to back, so that both see the same machine.
        let ours = &server.base;
        sides.push(side(
            "records page",
            ours,
            Target::HeaderKeys {
                keys_file: &records_keys,
                header: KEY_HEADER,
                path: &q.records_path,
            },
        ));
        if let Some(peer) = &peer {
            sides.push(side(
                "Datasette records page",
                peer,
                Target::Fixed(&q.peer_records_path),
            ));
        }
        sides.push(side(
            "filtered page",
            ours,
            Target::HeaderKeys {
                keys_file: &filter_keys,
                header: KEY_HEADER,
                path: &q.filter_path,
            },
        ));
        if let Some(peer) = &peer {
            sides.push(side(
                "Datasette filtered page",
                peer,
                Target::Fixed(&q.peer_filter_path),
            ));
        }
        sides.push(side(
            "CKAN package_search",
            ours,
            Target::Fixed(&q.ckan_path),
        ));
        if let Some(peer) = &peer {
            sides.push(side(
                "Datasette _search",
                peer,
                Target::Fixed(&q.peer_search_path),
            ));
        }
        sides.push(side(
            "portal search (diagnostic)",
            ours,
            Target::Fixed(&q.portal_search_path),
        ));
        if full {
            // Warm-up (discarded): caches, connection pools, the page cache.
            quiet(cfg.web.wait_quiet, "the warm-up");
            for side in &sides {
                side.run(&cfg.web, 2);
            }
        }
        for round in 1..=rounds {
            println!("  round {round}");
            for side in &mut sides {
                let r = undisturbed(cfg.web.wait_quiet, side.label, || {
                    let load = loadavg();
                    let r = side.run(&cfg.web, seconds);
                    println!("    {} (load average {load})", wrk_line(side.label, &r));
                    r
                });
                side.runs.push(r);
            }
        }
        drop(datasette);
    }

    println!("\n## CSV download: {} rows", thousands(cfg.rows as f64));
    let columns = rt.block_on(served_columns(server.addr, &taps));
    let (runs, bytes, peer_bytes, peak) =
        run_downloads(&cfg, server.addr, &taps, &columns, dir.path(), rounds);
    rt.block_on(server.stop());

    println!();
    let side = |label: &str| sides.iter().find(|s| s.label == label);
    if !sides.is_empty() {
        println!(
            "| Open data portal: {} connections, wrk -t{}, {} rounds × {}s | req/s (median) | p50 ms | p99 ms | ratio (median of rounds) | target |",
            cfg.web.connections, cfg.web.wrk_threads, rounds, seconds
        );
        println!("|---|---:|---:|---:|---:|---|");
        for (ours, peer, what, judged) in [
            (
                "records page",
                "Datasette records page",
                format!(
                    "`records?limit=100` ({}, {} rows; developer keys, durable access record)",
                    q.code, q.rows
                ),
                true,
            ),
            (
                "filtered page",
                "Datasette filtered page",
                format!("`records?where={}:…` ({} rows)", q.filter.0, q.filter.2),
                true,
            ),
            (
                "CKAN package_search",
                "Datasette _search",
                format!(
                    "CKAN `package_search?q={WORD}&rows=10` ({} hits)",
                    q.hits.len()
                ),
                true,
            ),
            (
                "portal search (diagnostic)",
                "Datasette _search",
                format!("portal search `open/datasets?q={WORD}&limit=10` (diagnostic)"),
                false,
            ),
        ] {
            let Some(o) = side(ours) else { continue };
            let (ratio, target) = match side(peer) {
                Some(p) => {
                    let r = o.ratio(p);
                    (
                        format!("**{r:.2}×** Datasette"),
                        if judged {
                            format!(
                                "≥ {TARGET_DATASETTE_RATIO}× — {}",
                                verdict(r >= TARGET_DATASETTE_RATIO)
                            )
                        } else {
                            String::new()
                        },
                    )
                }
                None => (String::new(), String::new()),
            };
            println!(
                "| {what} | **{}** | {:.2} | {:.2} | {ratio} | {target} |",
                thousands(o.rps()),
                o.p50(),
                o.p99()
            );
        }
        for label in [
            "Datasette records page",
            "Datasette filtered page",
            "Datasette _search",
        ] {
            if let Some(p) = side(label) {
                println!(
                    "| {label} (`_shape=array`) | {} | {:.2} | {:.2} | | |",
                    thousands(p.rps()),
                    p.p50(),
                    p.p99()
                );
            }
        }
        println!();
    }
    let ours = median(runs.iter().map(|r| r.gongshu_secs).collect());
    println!(
        "| CSV download, {} rows × {} columns, {} rounds | seconds (median) | rows/s | bytes | ratio |",
        thousands(cfg.rows as f64),
        columns.len(),
        runs.len()
    );
    println!("|---|---:|---:|---:|---:|");
    let peers: Vec<f64> = runs.iter().filter_map(|r| r.peer_secs).collect();
    let ratio = if peers.len() == runs.len() {
        let r = median(
            runs.iter()
                .filter_map(|r| r.peer_secs.map(|p| p / r.gongshu_secs))
                .collect(),
        );
        format!("**{r:.2}** of sqlite3's rows/s")
    } else {
        String::new()
    };
    println!(
        "| Gongshu `GET /open/datasets/{taps}/data.csv` (masked, hashed, spooled, access record) | {ours:.2} | **{}** | {} | {ratio} |",
        thousands(cfg.rows as f64 / ours),
        thousands(bytes as f64)
    );
    if !peers.is_empty() {
        let secs = median(peers);
        println!(
            "| `sqlite3 -csv -header` of the same rows into a file | {secs:.2} | {} | {} | |",
            thousands(cfg.rows as f64 / secs),
            peer_bytes.map_or("?".into(), |b| thousands(b as f64))
        );
    }
    println!(
        "(peak RSS of the bench process during the download rounds, server and client included: {})",
        peak.map_or("not measured".into(), |m| format!("{m:.0} MiB"))
    );
}
