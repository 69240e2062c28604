//! SHR-2, GOV-5 benchmark (issue 5): the sharing data API's key lookup
//! `GET /api/v1/services/{resource}/records/{key}` — a consumer bearer token,
//! the grant checked, the row projected and masked, rate and daily quota metered,
//! and the access record with its audit anchor durable before the reply — served
//! by the real server (`gongshu_server::serve`, job worker and audit indexer
//! running as in `gongshu serve`), side by side in the same run with
//! - the same server's no-op route `/healthz` (a constant JSON body behind the
//!   same middleware stack),
//! - Datasette (`datasette -i peer.db`) serving the same rows from a standalone
//!   SQLite file by primary key (`/peer/household/{id}.json`), when
//!   `GONGSHU_BENCH_DATASETTE` names its executable.
//!
//! A second consumer token of the same department holds a twin grant without a
//! daily quota, so the egress gate skips the quota meter's query; its lookups are
//! reported as a diagnostic beside the measured ones.
//!
//! Maximum throughput is measured with `wrk --latency` (closed loop, keys taken in
//! turn from a shuffled list by `bench/wrk/lookup.lua`). The p99 at 80% of the
//! maximum lookup rate comes from an open-loop paced client in this file: requests
//! are scheduled at a fixed rate over keep-alive HTTP/1.1 connections and each
//! latency is counted from the request's scheduled time, so a stall is not hidden
//! by the client waiting (no coordinated omission).
//!
//! ```text
//! python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install datasette
//! apt-get install -y wrk
//! GONGSHU_BENCH_DATASETTE=/tmp/bench-venv/bin/datasette \
//! GONGSHU_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p gongshu-bench --bench sharing_api
//! ```
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs a small smoke
//! round: a few hundred people, a handful of checked requests and a short paced
//! run, no wrk and no Datasette. Knobs: GONGSHU_BENCH_PEOPLE (100,000),
//! GONGSHU_BENCH_SECONDS (10 per wrk run), GONGSHU_BENCH_ROUNDS (3),
//! GONGSHU_BENCH_CONNECTIONS (64), GONGSHU_BENCH_WRK_THREADS (1),
//! GONGSHU_BENCH_PACED_SECONDS (20), GONGSHU_BENCH_LIGHT_RATE (100 req/s, the
//! light-load paced run), GONGSHU_BENCH_WRK (path of wrk),
//! GONGSHU_BENCH_WAIT_QUIET (1: before each measurement wait until no rustc,
//! cargo or node process other than this bench's own runs; 0: don't wait).
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use gongshu_bench::machine::{env_usize, loadavg, quiet, undisturbed};
use gongshu_bench::report::{thousands, verdict};
use gongshu_bench::web::{
    bearer, get_once, get_request, wrk_line, Datasette, Http, Knobs, Server, Side, Target,
};
use gongshu_domain::ids::{CitizenId, DivisionCode};
use gongshu_server::Config;
use gongshu_services::catalog::today_in_china;
use gongshu_services::dataset_input::InputFormat;
use gongshu_services::datasets::{self, Channel, LoadOptions};
use gongshu_services::identity::{self, NewToken};
use gongshu_services::sharing::{self, NewShareRequest, StepInput};
use gongshu_services::{App, Ctx};
use gongshu_store::Store;
use gongshu_store_postgres::PgStore;
use tokio::runtime::Runtime;

/// The issue's targets.
const TARGET_NOOP_RATIO: f64 = 0.5;
const TARGET_P99_MS: f64 = 5.0;
const TARGET_DATASETTE_RATIO: f64 = 50.0;
/// The paced run's share of the maximum lookup rate.
const PACED_SHARE: f64 = 0.8;

/// Every item of the demo household register, in its column order.
const ITEMS: [&str; 7] = [
    "citizen_id",
    "name",
    "sex",
    "birth_date",
    "household_division",
    "address",
    "marital_status",
];

struct Cfg {
    web: Knobs,
    people: usize,
    paced_seconds: usize,
    light_rate: usize,
    pg_url: Option<String>,
}

impl Cfg {
    fn from_env(full: bool) -> Self {
        Self {
            web: Knobs::from_env(full),
            people: env_usize("GONGSHU_BENCH_PEOPLE", if full { 100_000 } else { 500 }),
            paced_seconds: env_usize("GONGSHU_BENCH_PACED_SECONDS", 20).max(1),
            light_rate: env_usize("GONGSHU_BENCH_LIGHT_RATE", 100).max(1),
            pg_url: std::env::var("GONGSHU_BENCH_DATABASE_URL")
                .or_else(|_| std::env::var("GONGSHU_TEST_DATABASE_URL"))
                .ok()
                .filter(|u| !u.trim().is_empty()),
        }
    }
}

// ---------------------------------------------------------------------------
// The open-loop paced client.

struct Paced {
    rate: f64,
    scheduled: usize,
    latencies_ms: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
    elapsed: Duration,
}

impl Paced {
    fn pct(&self, p: f64) -> f64 {
        percentile(&self.latencies_ms, p)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Schedules `rate` requests per second for `seconds` over `connections`
/// keep-alive connections; each latency runs from the request's scheduled time
/// to the end of its reply. Runs on its own thread and runtime, apart from the
/// server's.
fn paced(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    rate: f64,
    seconds: usize,
    connections: usize,
) -> Paced {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        rt.block_on(paced_async(addr, requests, rate, seconds, connections))
    })
    .join()
    .expect("paced client")
}

async fn paced_async(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    rate: f64,
    seconds: usize,
    connections: usize,
) -> Paced {
    let total = (rate * seconds as f64).round() as usize;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = Vec::new();
    for _ in 0..connections {
        let rx = Arc::clone(&rx);
        let requests = Arc::clone(&requests);
        let mut conn = Http::connect(addr).await.expect("connect");
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut first_error = None;
            loop {
                let next = rx.lock().await.recv().await;
                let Some((n, due)) = next else { break };
                let req = &requests[n % requests.len()];
                match conn.exchange(req).await {
                    Ok(r) if r.status == 200 => {
                        lat.push(due.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(r) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| {
                            format!("HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body))
                        });
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                        match Http::connect(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    let start = Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut n = 0usize;
    while n < total {
        let now = Instant::now();
        while n < total {
            let due = start + period.mul_f64(n as f64);
            if due > now {
                break;
            }
            let _ = tx.send((n, due));
            n += 1;
        }
        if n < total {
            tokio::time::sleep_until((start + period.mul_f64(n as f64)).into()).await;
        }
    }
    drop(tx);
    let mut out = Paced {
        rate,
        scheduled: total,
        latencies_ms: Vec::with_capacity(total),
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
    };
    for w in workers {
        let (lat, errors, first) = w.await.expect("paced worker");
        out.latencies_ms.extend(lat);
        out.errors += errors;
        if out.first_error.is_none() {
            out.first_error = first;
        }
    }
    out.elapsed = start.elapsed();
    out.latencies_ms.sort_by(f64::total_cmp);
    out
}

// ---------------------------------------------------------------------------
// The world: a running server with a household register, a grant and a token.

enum Backend {
    Sqlite,
    Postgres(String),
}

struct World {
    addr: SocketAddr,
    base: String,
    lookup_prefix: String,
    metered: Consumer,
    unmetered: Consumer,
    app: Arc<App>,
    server: Option<Server>,
    pg: Option<(String, String, Arc<PgStore>)>,
}

const DIVISIONS: [&str; 3] = ["830102", "830121", "830100"];
const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 8] = ["伟", "芳", "娜", "敏", "静", "磊", "建国", "晓燕"];
const MARITAL: [&str; 4] = ["未婚", "已婚", "离婚", "丧偶"];

fn citizen(i: usize) -> CitizenId {
    let birth =
        NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + chrono::Duration::days((i % 29_000) as i64);
    let division = DivisionCode::parse(DIVISIONS[i % 3]).unwrap();
    CitizenId::synthesize(&division, birth, (i / 29_000) as u16).unwrap()
}

/// One person of the register, as the items of [`ITEMS`].
fn person(i: usize) -> [String; 7] {
    let id = citizen(i);
    [
        id.as_str().to_string(),
        format!("{}{}", SURNAMES[i % 8], GIVEN[(i / 8) % 8]),
        if id.is_female() { "女" } else { "男" }.to_string(),
        id.birth_date().format("%Y-%m-%d").to_string(),
        DIVISIONS[i % 3].to_string(),
        format!("示范省云川市湖滨路{}号{}室", i % 500, 100 + i % 37),
        MARITAL[i % 4].to_string(),
    ]
}

/// The register as 公安局 delivers it (header in 中文, as the e2e tests load it).
fn write_household_csv(path: &Path, people: usize) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        w,
        "公民身份号码,姓名,性别,出生日期,户籍地行政区划,住址,婚姻状况"
    )
    .unwrap();
    for i in 0..people {
        writeln!(w, "{}", person(i).join(",")).unwrap();
    }
    w.flush().unwrap();
}

/// The keys in a shuffled order (a fixed permutation), one a line.
fn shuffled_ids(people: usize) -> Vec<String> {
    // A stride coprime with `people` visits every index once.
    let mut stride = 7_919usize % people.max(1);
    while stride == 0 || gcd(stride, people) != 1 {
        stride += 1;
    }
    (0..people)
        .map(|k| citizen((k * stride + 13) % people).as_str().to_string())
        .collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

async fn ctx_of(app: &App, username: &str) -> (Ctx, String) {
    let user = identity::find_user_by_username(app, username)
        .await
        .expect("demo user");
    (
        Ctx::new(identity::principal_of(&user), None),
        user.org_id.clone(),
    )
}

/// A consumer system of 民政局: its token, and the grant of every household item
/// (default masking by grade) issued to that token.
struct Consumer {
    grant_id: String,
    secret: String,
}

/// Follows the e2e suite's `consumer_token` and `granted`: 民政局 issues a token
/// with `data.consume`, requests the register for it, the platform passes the
/// conformity check and 公安局 approves with `daily_quota` and a rate limit high
/// enough for the run (metered on every call, never refusing one).
async fn consumer(app: &App, resource_code: &str, name: &str, daily_quota: i64) -> Consumer {
    let (civil, civil_org) = ctx_of(app, "civil.admin").await;
    let (psb, _) = ctx_of(app, "psb.admin").await;
    let (admin, _) = ctx_of(app, "admin").await;
    let (token, secret) = identity::create_token(
        app,
        &civil,
        NewToken {
            org_id: civil_org,
            name: name.into(),
            permissions: vec!["data.consume".into()],
            expires_in_days: 30,
        },
    )
    .await
    .expect("consumer token");
    let now = Utc::now();
    let request = sharing::submit_at(
        app,
        &civil,
        NewShareRequest {
            resource_id: resource_code.to_string(),
            purpose: "婚姻登记时核对当事人户籍信息".into(),
            scenario: "婚姻登记".into(),
            legal_duty: "《婚姻登记条例》第七条".into(),
            items: ITEMS.iter().map(|s| s.to_string()).collect(),
            mode: "api".into(),
            token_id: Some(token.id.clone()),
            end_date: today_in_china(now) + chrono::Duration::days(90),
            commitment_signed: true,
            emergency: false,
            emergency_reason: String::new(),
            scenario_id: None,
        },
        now,
    )
    .await
    .expect("submit");
    sharing::act_at(
        app,
        &admin,
        &request.id,
        StepInput {
            action: "pass_conformity".into(),
            ..Default::default()
        },
        now,
    )
    .await
    .expect("conformity");
    let (_, grant) = sharing::act_at(
        app,
        &psb,
        &request.id,
        StepInput {
            action: "approve".into(),
            daily_quota: Some(daily_quota),
            rate_per_minute: Some(1_000_000_000),
            ..Default::default()
        },
        now,
    )
    .await
    .expect("approve");
    Consumer {
        grant_id: grant.expect("an approval issues a grant").id,
        secret,
    }
}

/// Follows the e2e suite's world (tests/e2e/sharing.rs): the demo region, 公安局's
/// household register of `people`, two consumer systems of 民政局 (see
/// [`consumer`]), each with an approved grant of every item masked by grade by
/// default, one with the quota metered and one without. Then starts the server
/// on 127.0.0.1:0 as `gongshu serve` runs (job worker and audit indexer on).
async fn build_world(backend: &Backend, dir: &Path, people: usize) -> World {
    let node_dir = dir.join("node");
    let config = Config {
        data_dir: node_dir.clone(),
        run_jobs: true,
        ..Config::default()
    };
    let (app, pg) = match backend {
        Backend::Sqlite => (
            gongshu_server::open_app(&config).await.expect("open app"),
            None,
        ),
        Backend::Postgres(url) => {
            let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let store = Arc::new(
                PgStore::open(url, Some(&schema))
                    .await
                    .expect("open postgres"),
            );
            store.migrate().await.expect("migrate postgres");
            std::fs::create_dir_all(&node_dir).expect("node dir");
            let app = Arc::new(App::new(store.clone() as Arc<dyn Store>));
            (app, Some((url.clone(), schema, store)))
        }
    };
    gongshu_services::demo::seed_foundation(&app, 0)
        .await
        .expect("seed demo");
    let orgs = gongshu_services::demo::demo_org_ids(&app)
        .await
        .expect("org ids");
    let entries = gongshu_services::demo_data::register_resources(&app, &Ctx::cli(), &orgs)
        .await
        .expect("register resources");
    let household = entries["household"].clone();

    let csv = dir.join("household.csv");
    write_household_csv(&csv, people);
    let started = Instant::now();
    let load = datasets::load_file(
        &app,
        &Ctx::cli(),
        &household.id,
        &csv,
        LoadOptions::new(Channel::Cli, InputFormat::Csv),
    )
    .await
    .expect("load household");
    assert_eq!(load.status, "applied", "{:?}", load.error);
    assert_eq!(load.rows_accepted as usize, people, "every person loaded");
    println!(
        "  household register: {people} people loaded in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // The grant measured: the quota metered on every call, as by default (set
    // high enough never to refuse one during the run).
    let metered = consumer(&app, &household.code, "婚姻登记系统（基准）", 1_000_000_000).await;
    // A diagnostic twin: another token of the same department whose grant has no
    // daily quota (0), so the egress gate skips the quota meter's query.
    let unmetered = consumer(&app, &household.code, "婚姻登记系统（无限额）", 0).await;

    let server = Server::start(Arc::clone(&app), config).await;
    World {
        addr: server.addr,
        base: server.base.clone(),
        lookup_prefix: format!("/api/v1/services/{}/records/", household.code),
        metered,
        unmetered,
        app,
        server: Some(server),
        pg,
    }
}

impl World {
    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        if let Some((url, schema, store)) = self.pg.take() {
            store.close().await;
            PgStore::drop_schema(&url, &schema)
                .await
                .expect("drop bench schema");
        }
    }

    /// Calls the grant served today (China), by its quota meter.
    async fn served_today(&self, grant_id: &str) -> i64 {
        self.app
            .store
            .grant_served_on(grant_id, gongshu_domain::calendar::china_day(Utc::now()))
            .await
            .expect("read the quota meter")
            .calls
    }
}

/// A lookup answers 200 with one masked row under the caller's grant, after its
/// access record is durable; a bad token gets 401; /healthz answers 200.
async fn check_replies(w: &World, ids: &[String]) {
    let health = get_once(w.addr, "/healthz", None).await.expect("healthz");
    assert_eq!(health.status, 200);
    for c in [&w.metered, &w.unmetered] {
        let before = w.served_today(&c.grant_id).await;
        for id in ids.iter().take(5) {
            let r = get_once(
                w.addr,
                &format!("{}{id}", w.lookup_prefix),
                Some(&bearer(&c.secret)),
            )
            .await
            .expect("lookup");
            let text = String::from_utf8_lossy(&r.body).to_string();
            assert_eq!(r.status, 200, "{text}");
            let body: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
            assert_eq!(body["grant_id"], c.grant_id.as_str(), "{text}");
            let rows = body["rows"].as_array().expect("rows");
            assert_eq!(rows.len(), 1, "one person per key: {text}");
            let row = rows[0].as_object().expect("row");
            assert_eq!(row.len(), ITEMS.len(), "{text}");
            let shown = row["citizen_id"].as_str().unwrap_or_default();
            assert!(
                shown != id && shown.contains('*'),
                "the citizen ID is masked: {text}"
            );
            assert!(
                row["name"].as_str().unwrap_or_default().contains('*'),
                "the name is masked: {text}"
            );
        }
        // Every served call left its durable access record before its reply.
        let served = w.served_today(&c.grant_id).await - before;
        assert_eq!(served, 5.min(ids.len()) as i64, "access records written");
    }
    let denied = get_once(
        w.addr,
        &format!("{}{}", w.lookup_prefix, ids[0]),
        Some(&bearer("gs_not_a_token")),
    )
    .await
    .expect("lookup with a bad token");
    assert_eq!(denied.status, 401, "a bad token is refused");
}

// ---------------------------------------------------------------------------
// Datasette: the same rows in a standalone SQLite file.

async fn write_peer_db(path: &Path, people: usize) {
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
    sqlx::query(
        "CREATE TABLE household (citizen_id TEXT PRIMARY KEY, name TEXT NOT NULL, sex TEXT, \
         birth_date TEXT, household_division TEXT, address TEXT, marital_status TEXT)",
    )
    .execute(&pool)
    .await
    .expect("create peer table");
    let mut tx = pool.begin().await.expect("begin");
    for i in 0..people {
        let p = person(i);
        let mut q = sqlx::query("INSERT INTO household VALUES ($1, $2, $3, $4, $5, $6, $7)");
        for v in &p {
            q = q.bind(v.as_str());
        }
        q.execute(&mut *tx).await.expect("insert peer row");
    }
    tx.commit().await.expect("commit");
    pool.close().await;
}

// ---------------------------------------------------------------------------
// Reporting.

fn paced_line(p: &Paced) -> String {
    format!(
        "answered {} of {} in {:.1}s, {} errors{}; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        p.latencies_ms.len(),
        p.scheduled,
        p.elapsed.as_secs_f64(),
        p.errors,
        p.first_error
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        p.pct(50.0),
        p.pct(90.0),
        p.pct(99.0),
        p.pct(99.9),
        p.latencies_ms.last().copied().unwrap_or(f64::NAN)
    )
}

/// Measures one backend: prints each run, then its table.
fn run_backend(cfg: &Cfg, rt: &Runtime, backend: Backend, peer_db: Option<&Path>) {
    let name = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres(_) => "PostgreSQL",
    };
    println!("\n## {name}");
    let dir = tempfile::tempdir().expect("temp dir");
    let w = rt.block_on(build_world(&backend, dir.path(), cfg.people));
    let ids = shuffled_ids(cfg.people);
    let ids_file = dir.path().join("ids.txt");
    std::fs::write(&ids_file, ids.join("\n") + "\n").expect("ids file");
    rt.block_on(check_replies(&w, &ids));
    println!(
        "  checked: lookups answer 200 with one masked row under the caller's grant, each after its durable access record; a bad token gets 401"
    );
    let requests = |c: &Consumer| -> Arc<Vec<Vec<u8>>> {
        Arc::new(
            ids.iter()
                .map(|id| {
                    get_request(
                        &format!("{}{id}", w.lookup_prefix),
                        Some(&bearer(&c.secret)),
                    )
                })
                .collect(),
        )
    };

    if !cfg.web.full {
        for c in [&w.metered, &w.unmetered] {
            let before = rt.block_on(w.served_today(&c.grant_id));
            let p = paced(w.addr, requests(c), 200.0, 1, 4);
            assert_eq!(p.errors, 0, "paced smoke run: {:?}", p.first_error);
            let served = rt.block_on(w.served_today(&c.grant_id)) - before;
            assert!(served >= p.latencies_ms.len() as i64);
            println!("  smoke paced run at {} req/s: {}", p.rate, paced_line(&p));
        }
        rt.block_on(w.stop());
        return;
    }
    if cfg.web.wrk.is_none() {
        println!("  (wrk not found on PATH; set GONGSHU_BENCH_WRK or `apt-get install -y wrk` — throughput skipped)");
        rt.block_on(w.stop());
        return;
    }

    let datasette = match (&cfg.web.datasette, peer_db) {
        (Some(program), Some(db)) => {
            let d = Datasette::start(program, db, rt);
            println!(
                "  Datasette {} serving {} on {} (immutable, -i)",
                d.version(rt),
                db.display(),
                d.addr
            );
            Some(d)
        }
        _ => None,
    };
    let keys = |prefix, suffix| Target::Keys {
        ids_file: &ids_file,
        prefix,
        suffix,
    };
    let prefix = w.lookup_prefix.clone();
    let (metered_secret, unmetered_secret) = (w.metered.secret.clone(), w.unmetered.secret.clone());
    let mut noop = Side {
        label: "no-op /healthz",
        base: w.base.clone(),
        target: Target::Fixed("/healthz"),
        header: Some(bearer(&metered_secret)),
        runs: Vec::new(),
    };
    let mut lookup = Side {
        label: "lookup",
        base: w.base.clone(),
        target: keys(&prefix, ""),
        header: Some(bearer(&metered_secret)),
        runs: Vec::new(),
    };
    let mut unmetered = Side {
        label: "lookup, grant without daily quota (diagnostic)",
        base: w.base.clone(),
        target: keys(&prefix, ""),
        header: Some(bearer(&unmetered_secret)),
        runs: Vec::new(),
    };
    let mut peer = datasette.as_ref().map(|d| Side {
        label: "Datasette by primary key",
        base: format!("http://{}", d.addr),
        target: keys("/peer/household/", ".json"),
        header: None,
        runs: Vec::new(),
    });

    // Warm-up (discarded): caches, connection pools, the page cache.
    quiet(cfg.web.wait_quiet, "the warm-up");
    for side in [&mut noop, &mut lookup, &mut unmetered]
        .into_iter()
        .chain(peer.as_mut())
    {
        side.run(&cfg.web, 2);
    }
    for round in 1..=cfg.web.rounds {
        println!("  round {round}");
        for side in [&mut noop, &mut lookup, &mut unmetered]
            .into_iter()
            .chain(peer.as_mut())
        {
            let r = undisturbed(cfg.web.wait_quiet, side.label, || {
                let before = if side.label == "lookup" {
                    let n = rt.block_on(w.served_today(&w.metered.grant_id));
                    format!(
                        ", {} served records of the grant so far",
                        thousands(n as f64)
                    )
                } else {
                    String::new()
                };
                let load = loadavg();
                let r = side.run(&cfg.web, cfg.web.seconds);
                println!(
                    "    {} (load average {load}{before})",
                    wrk_line(side.label, &r)
                );
                r
            });
            side.runs.push(r);
        }
    }
    drop(datasette);
    let metered_today = rt.block_on(w.served_today(&w.metered.grant_id));
    let counted: u64 = lookup.runs.iter().map(|r| r.requests).sum();
    println!(
        "  calls the metered grant served today: {} (wrk counted {} replies in the measured rounds); each call reads this running total to check its quota",
        thousands(metered_today as f64),
        thousands(counted as f64)
    );

    let mut paced_runs = Vec::new();
    for (side, c) in [(&lookup, &w.metered), (&unmetered, &w.unmetered)] {
        let rate = (side.rps() * PACED_SHARE).max(1.0);
        let p = undisturbed(cfg.web.wait_quiet, "a paced run", || {
            let n = rt.block_on(w.served_today(&w.metered.grant_id));
            println!(
                "  paced {}: {} req/s (80% of its median max) for {}s over {} connections (load average {}; the metered grant has {} served records so far)",
                side.label,
                thousands(rate),
                cfg.paced_seconds,
                cfg.web.connections,
                loadavg(),
                thousands(n as f64)
            );
            let p = paced(
                w.addr,
                requests(c),
                rate,
                cfg.paced_seconds,
                cfg.web.connections,
            );
            println!("    {}", paced_line(&p));
            p
        });
        paced_runs.push(p);
    }
    // The latency floor: the same lookup at a light load.
    let light = (cfg.light_rate as f64).max(1.0);
    let p = undisturbed(cfg.web.wait_quiet, "the light-load run", || {
        let n = rt.block_on(w.served_today(&w.metered.grant_id));
        println!(
            "  paced lookup at a light load: {} req/s for {}s over {} connections (load average {}; the metered grant has {} served records so far)",
            thousands(light),
            cfg.paced_seconds,
            cfg.web.connections,
            loadavg(),
            thousands(n as f64)
        );
        let p = paced(
            w.addr,
            requests(&w.metered),
            light,
            cfg.paced_seconds,
            cfg.web.connections,
        );
        println!("    {}", paced_line(&p));
        p
    });
    paced_runs.push(p);
    let metered_end = rt.block_on(w.served_today(&w.metered.grant_id));
    rt.block_on(w.stop());

    println!();
    println!(
        "| {name}: {} people, {} connections, wrk -t{}, {} rounds × {}s | req/s (median) | p50 ms | p99 ms | ratio (median of rounds) | target |",
        thousands(cfg.people as f64),
        cfg.web.connections,
        cfg.web.wrk_threads,
        cfg.web.rounds,
        cfg.web.seconds
    );
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| no-op `/healthz` | {} | {:.2} | {:.2} | | |",
        thousands(noop.rps()),
        noop.p50(),
        noop.p99()
    );
    let noop_ratio = lookup.ratio(&noop);
    println!(
        "| **lookup** (token, grant, mask, quota meter, durable access record) | **{}** | {:.2} | {:.2} | **{:.3}** of no-op | ≥ {TARGET_NOOP_RATIO} — {} |",
        thousands(lookup.rps()),
        lookup.p50(),
        lookup.p99(),
        noop_ratio,
        verdict(noop_ratio >= TARGET_NOOP_RATIO)
    );
    println!(
        "| lookup, grant without daily quota (diagnostic) | {} | {:.2} | {:.2} | {:.3} of no-op | |",
        thousands(unmetered.rps()),
        unmetered.p50(),
        unmetered.p99(),
        unmetered.ratio(&noop)
    );
    if let Some(peer) = &peer {
        let ratio = lookup.ratio(peer);
        println!(
                "| Datasette `/peer/household/{{id}}.json` | {} | {:.2} | {:.2} | lookup **{:.2}×** Datasette (without quota {:.2}×) | ≥ {TARGET_DATASETTE_RATIO}× — {} |",
                thousands(peer.rps()),
                peer.p50(),
                peer.p99(),
                ratio,
                unmetered.ratio(peer),
                verdict(ratio >= TARGET_DATASETTE_RATIO)
            );
    }
    for (i, p) in paced_runs.iter().enumerate() {
        let (label, judged) = match i {
            0 => ("**lookup** paced at 80% of its max", true),
            1 => (
                "lookup without daily quota, paced at 80% of its max (diagnostic)",
                false,
            ),
            _ => ("lookup paced at a light load (diagnostic)", false),
        };
        let p99 = p.pct(99.0);
        println!(
            "| {label}: {} req/s for {}s, open loop | {} answered, {} errors | {:.2} | **{:.2}** | | {} |",
            thousands(p.rate),
            cfg.paced_seconds,
            thousands(p.latencies_ms.len() as f64),
            p.errors,
            p.pct(50.0),
            p99,
            if judged {
                format!(
                    "p99 < {TARGET_P99_MS} ms — {}",
                    verdict(p.errors == 0 && p99 < TARGET_P99_MS)
                )
            } else {
                String::new()
            }
        );
    }
    println!(
        "(the metered grant had {} served access records today at the end of the run)",
        thousands(metered_end as f64)
    );
    if peer.is_none() {
        println!("(Datasette skipped: set GONGSHU_BENCH_DATASETTE to the datasette executable, e.g. /tmp/bench-venv/bin/datasette)");
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let cfg = Cfg::from_env(full);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "# Sharing data API (issue 5): {cores} cores (available_parallelism), {}",
        if full {
            "release build"
        } else {
            "smoke run (no --bench): figures not meaningful"
        }
    );
    // The server's runtime: as many workers as cores, as `gongshu serve` has. The
    // main thread only orchestrates (wrk runs as a child process; the paced
    // client on its own thread).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let peer_dir = tempfile::tempdir().expect("temp dir");
    let peer_db = peer_dir.path().join("peer.db");
    rt.block_on(write_peer_db(&peer_db, cfg.people));
    if full && cfg.web.datasette.is_none() {
        println!("(Datasette part skipped: set GONGSHU_BENCH_DATASETTE to the datasette executable, e.g. /tmp/bench-venv/bin/datasette)");
    }

    run_backend(&cfg, &rt, Backend::Sqlite, Some(&peer_db));
    match cfg.pg_url.clone() {
        Some(url) => run_backend(&cfg, &rt, Backend::Postgres(url), Some(&peer_db)),
        None => println!("\n(PostgreSQL skipped: set GONGSHU_BENCH_DATABASE_URL to measure it)"),
    }
}
