//! GOV-5 benchmark: hash-chained, group-committed audit appends (each caller waits
//! until its record is durable) side by side with the ceiling of plain inserts of
//! the same rows, in the same transaction sizes, with the same durability settings;
//! on SQLite, and on PostgreSQL when `GONGSHU_BENCH_DATABASE_URL` (or
//! `GONGSHU_TEST_DATABASE_URL`) is set. Results go to docs/performance.md.
//!
//! ```text
//! cargo bench -p gongshu-bench --bench audit_append
//! GONGSHU_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p gongshu-bench --bench audit_append
//! ```
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs a small smoke round.
//! Knobs: GONGSHU_BENCH_RECORDS, GONGSHU_BENCH_PG_RECORDS, GONGSHU_BENCH_PRODUCERS,
//! GONGSHU_BENCH_MAX_BATCH, GONGSHU_BENCH_ROUNDS, GONGSHU_BENCH_SINGLE_RECORDS.
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gongshu_bench::{mean_encoded_len, plain_insert_postgres, plain_insert_sqlite, workload};
use gongshu_domain::audit::AuditDraft;
use gongshu_services::audit_writer::{AuditWriter, AuditWriterStats};
use gongshu_services::App;
use gongshu_store::Store;
use gongshu_store_postgres::PgStore;
use gongshu_store_sqlite::SqliteStore;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The issue's target for SQLite.
const TARGET_SQLITE: f64 = 50_000.0;

struct Config {
    records_sqlite: usize,
    records_pg: usize,
    producers: usize,
    max_batch: usize,
    single_records: usize,
    single_producers: usize,
    rounds: usize,
    pg_url: Option<String>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Config {
    fn from_env(full: bool) -> Self {
        let (records_sqlite, records_pg, single_records, rounds) = if full {
            (200_000, 100_000, 1_000, 3)
        } else {
            (2_000, 2_000, 50, 1)
        };
        Self {
            records_sqlite: env_usize("GONGSHU_BENCH_RECORDS", records_sqlite),
            records_pg: env_usize("GONGSHU_BENCH_PG_RECORDS", records_pg),
            producers: env_usize("GONGSHU_BENCH_PRODUCERS", 512).max(1),
            max_batch: env_usize("GONGSHU_BENCH_MAX_BATCH", 4096).max(1),
            single_records: env_usize("GONGSHU_BENCH_SINGLE_RECORDS", single_records),
            single_producers: 64,
            rounds: env_usize("GONGSHU_BENCH_ROUNDS", rounds).max(1),
            pg_url: std::env::var("GONGSHU_BENCH_DATABASE_URL")
                .or_else(|_| std::env::var("GONGSHU_TEST_DATABASE_URL"))
                .ok()
                .filter(|u| !u.is_empty()),
        }
    }
}

#[derive(Clone)]
enum Backend {
    Sqlite,
    Postgres(String),
}

/// A fresh, migrated database for one measurement, removed by `finish`.
struct Scratch {
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Scratch {
    async fn open(backend: &Backend) -> (Arc<dyn Store>, Scratch) {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let store = SqliteStore::open(&dir.path().join("gongshu.db"))
                    .await
                    .expect("open sqlite");
                store.migrate().await.expect("migrate sqlite");
                (
                    Arc::new(store),
                    Scratch {
                        dir: Some(dir),
                        pg: None,
                    },
                )
            }
            Backend::Postgres(url) => {
                let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
                let store = PgStore::open(url, Some(&schema))
                    .await
                    .expect("open postgres");
                store.migrate().await.expect("migrate postgres");
                (
                    Arc::new(store),
                    Scratch {
                        dir: None,
                        pg: Some((url.clone(), schema)),
                    },
                )
            }
        }
    }

    /// A raw single-connection SQLite pool on the scratch file, with the store's settings.
    async fn sqlite_pool(&self) -> SqlitePool {
        let path = self
            .dir
            .as_ref()
            .expect("sqlite scratch")
            .path()
            .join("gongshu.db");
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let mut opts = opts;
        if let Ok(p) = std::env::var("XX_SQLITE_PRAGMAS") {
            for kv in p.split(';').filter(|s| !s.is_empty()) {
                let (k, v) = kv.split_once('=').unwrap();
                opts = if k == "page_size" { opts.page_size(v.parse().unwrap()) } else { opts.pragma(k.to_string(), v.to_string()) };
            }
        }
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .expect("raw sqlite pool")
    }

    /// A raw single-connection pool inside the scratch schema.
    async fn pg_pool(&self) -> PgPool {
        let (url, schema) = self.pg.as_ref().expect("postgres scratch");
        let opts = PgConnectOptions::from_str(url)
            .expect("postgres url")
            .options([("search_path", schema.as_str())]);
        PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .expect("raw postgres pool")
    }

    /// Names of `audit_log`'s indexes other than its primary key.
    async fn secondary_indexes(&self) -> Vec<String> {
        if self.pg.is_some() {
            let pool = self.pg_pool().await;
            let names = sqlx::query_scalar(
                "SELECT i.indexname::text FROM pg_indexes i
                 WHERE i.schemaname = current_schema() AND i.tablename = 'audit_log'
                   AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')
                 ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .expect("list indexes");
            pool.close().await;
            names
        } else {
            let pool = self.sqlite_pool().await;
            let names = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log' AND sql IS NOT NULL
                 ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .expect("list indexes");
            pool.close().await;
            names
        }
    }

    async fn drop_secondary_indexes(&self) {
        for name in self.secondary_indexes().await {
            let sql = format!("DROP INDEX {name}");
            if self.pg.is_some() {
                let pool = self.pg_pool().await;
                sqlx::query(&sql).execute(&pool).await.expect("drop index");
                pool.close().await;
            } else {
                let pool = self.sqlite_pool().await;
                sqlx::query(&sql).execute(&pool).await.expect("drop index");
                pool.close().await;
            }
        }
    }

    async fn finish(self) {
        if let Some((url, schema)) = &self.pg {
            PgStore::drop_schema(url, schema)
                .await
                .expect("drop bench schema");
        }
    }
}

/// C producers, each appending its drafts one by one and awaiting durability.
async fn chained(
    store: Arc<dyn Store>,
    producers: Vec<Vec<AuditDraft>>,
    max_batch: usize,
) -> (Duration, AuditWriterStats) {
    let writer = AuditWriter::spawn(store, max_batch);
    let start = Instant::now();
    let tasks: Vec<_> = producers
        .into_iter()
        .map(|drafts| {
            let writer = writer.clone();
            tokio::spawn(async move {
                for d in drafts {
                    writer.append(d).await.expect("durable append");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("producer");
    }
    (start.elapsed(), writer.stats())
}

/// The same producers without group commit: one `Store::commit` per record.
async fn one_per_transaction(store: Arc<dyn Store>, producers: Vec<Vec<AuditDraft>>) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = producers
        .into_iter()
        .map(|drafts| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for d in drafts {
                    store
                        .commit(Vec::new(), vec![d])
                        .await
                        .expect("durable append");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("producer");
    }
    start.elapsed()
}

/// Table shapes measured: the migrated `audit_log`, and the same table with its
/// secondary indexes dropped (a what-if that shows what the indexes cost).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Migrated,
    PrimaryKeyOnly,
}

/// A fresh store of the given shape.
async fn open_shaped(backend: &Backend, shape: Shape) -> (Arc<dyn Store>, Scratch) {
    let (store, scratch) = Scratch::open(backend).await;
    if shape == Shape::PrimaryKeyOnly {
        scratch.drop_secondary_indexes().await;
    }
    (store, scratch)
}

/// The ceiling: plain rows into `audit_log` of a fresh store, `batch` rows per transaction.
async fn ceiling(backend: &Backend, shape: Shape, drafts: &[AuditDraft], batch: usize) -> Duration {
    let (store, scratch) = open_shaped(backend, shape).await;
    drop(store);
    let elapsed = match backend {
        Backend::Sqlite => {
            let pool = scratch.sqlite_pool().await;
            let start = Instant::now();
            plain_insert_sqlite(&pool, "audit_log", drafts, batch).await.expect("plain insert");
            let elapsed = start.elapsed();
            pool.close().await;
            elapsed
        }
        Backend::Postgres(_) => {
            let pool = scratch.pg_pool().await;
            let start = Instant::now();
            plain_insert_postgres(&pool, "audit_log", drafts, batch).await.expect("plain insert");
            let elapsed = start.elapsed();
            pool.close().await;
            elapsed
        }
    };
    scratch.finish().await;
    elapsed
}

/// Undoes the round-robin deal of [`workload`]: the drafts in the order they were made.
fn in_order(producers: &[Vec<AuditDraft>]) -> Vec<AuditDraft> {
    let longest = producers.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest).flat_map(|k| producers.iter().filter_map(move |p| p.get(k)).cloned()).collect()
}

fn rate(records: usize, elapsed: Duration) -> f64 {
    records as f64 / elapsed.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// 123456.7 → "123,457".
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn describe(backend: &Backend) -> String {
    let (store, scratch) = Scratch::open(backend).await;
    drop(store);
    let indexes = scratch.secondary_indexes().await;
    let text = match backend {
        Backend::Sqlite => {
            let pool = scratch.sqlite_pool().await;
            let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(&pool)
                .await
                .expect("version");
            pool.close().await;
            format!(
                "SQLite {version} (bundled), WAL, synchronous=FULL (each commit fsyncs the WAL), files under {}",
                std::env::temp_dir().display()
            )
        }
        Backend::Postgres(_) => {
            let pool = scratch.pg_pool().await;
            let mut facts = Vec::new();
            for setting in [
                "server_version",
                "synchronous_commit",
                "fsync",
                "wal_sync_method",
                "commit_delay",
            ] {
                let value: String = sqlx::query_scalar(&format!("SHOW {setting}"))
                    .fetch_one(&pool)
                    .await
                    .expect("setting");
                facts.push(format!("{setting}={value}"));
            }
            pool.close().await;
            format!("PostgreSQL on the same machine, {}", facts.join(", "))
        }
    };
    scratch.finish().await;
    format!("{text}; audit_log secondary indexes: {}", indexes.join(", "))
}

async fn run_backend(cfg: &Config, backend: Backend) -> f64 {
    let (name, records) = match backend {
        Backend::Sqlite => ("SQLite", cfg.records_sqlite),
        Backend::Postgres(_) => ("PostgreSQL", cfg.records_pg),
    };
    let producers = workload(records, cfg.producers);
    // The ceiling inserts the very same drafts, in the order they were made.
    let all: Vec<AuditDraft> = in_order(&producers);
    let single = workload(cfg.single_records, cfg.single_producers);

    println!("\n## {name}: {}", describe(&backend).await);
    println!(
        "{records} records of ~{} bytes hashed each; {} producers, max batch {}; \
         one-per-transaction: {} records, {} producers; {} round(s), median shown",
        mean_encoded_len(&all),
        cfg.producers,
        cfg.max_batch,
        cfg.single_records,
        cfg.single_producers,
        cfg.rounds
    );

    let mut samples: [Samples; 2] = Default::default();
    let mut singles = Vec::new();
    for round in 1..=cfg.rounds {
        for (shape, samples) in [Shape::Migrated, Shape::PrimaryKeyOnly].into_iter().zip(samples.iter_mut()) {
            let (store, scratch) = open_shaped(&backend, shape).await;
            let (elapsed, stats) = chained(Arc::clone(&store), producers.clone(), cfg.max_batch).await;
            let report = gongshu_services::audit::verify_chain(&App::new(Arc::clone(&store))).await.expect("verify");
            assert!(report.ok && report.checked == records as u64, "chain after the run: {}", report.message_en);
            drop(store);
            scratch.finish().await;
            let batch = stats.mean_batch().round().max(1.0) as usize;
            samples.chained.push(rate(records, elapsed));
            samples.batch.push(stats.mean_batch());
            samples.ceiling.push(rate(records, ceiling(&backend, shape, &all, batch).await));
            println!(
                "round {round}, {}: chained {}/s (mean batch {:.0}, {} transactions), ceiling {}/s",
                shape.label(),
                thousands(*samples.chained.last().unwrap_or(&0.0)),
                stats.mean_batch(),
                stats.batches,
                thousands(*samples.ceiling.last().unwrap_or(&0.0)),
            );
        }
        let (store, scratch) = Scratch::open(&backend).await;
        singles.push(rate(cfg.single_records, one_per_transaction(Arc::clone(&store), single.clone()).await));
        drop(store);
        scratch.finish().await;
        println!("round {round}: one record per transaction {}/s", thousands(*singles.last().unwrap_or(&0.0)));
    }

    let [migrated, bare] = samples.map(Samples::medians);
    let single = median(singles);
    println!();
    println!("| {name} | rows per transaction (mean) | plain rows (ceiling), records/s | hash chain + group commit, records/s | ratio |");
    println!("|---|---:|---:|---:|---:|");
    for (shape, m) in [(Shape::Migrated, &migrated), (Shape::PrimaryKeyOnly, &bare)] {
        println!(
            "| `audit_log` {} | {:.0} | {} | {} | {:.2} |",
            shape.label(),
            m.batch,
            thousands(m.ceiling),
            thousands(m.chained),
            m.chained / m.ceiling
        );
    }
    println!(
        "| `audit_log` {}, one record per transaction ({} producers) | 1 | | {} | {:.3} of the group-committed rate |",
        Shape::Migrated.label(),
        cfg.single_producers,
        thousands(single),
        single / migrated.chained
    );
    migrated.chained
}

#[derive(Default)]
struct Samples {
    chained: Vec<f64>,
    batch: Vec<f64>,
    ceiling: Vec<f64>,
}

struct Medians {
    chained: f64,
    batch: f64,
    ceiling: f64,
}

impl Samples {
    fn medians(self) -> Medians {
        Medians { chained: median(self.chained), batch: median(self.batch), ceiling: median(self.ceiling) }
    }
}

impl Shape {
    fn label(self) -> &'static str {
        match self {
            Shape::Migrated => "as migrated (primary key + secondary indexes)",
            Shape::PrimaryKeyOnly => "with the secondary indexes dropped (what-if)",
        }
    }
}

async fn run(cfg: Config) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "# Audit append (GOV-5): {cores} cores (std::thread::available_parallelism), release build"
    );
    let sqlite = run_backend(&cfg, Backend::Sqlite).await;
    let verdict = if sqlite >= TARGET_SQLITE {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "target ≥ {} records/s on SQLite: {verdict}",
        thousands(TARGET_SQLITE)
    );
    match cfg.pg_url.clone() {
        Some(url) => {
            run_backend(&cfg, Backend::Postgres(url)).await;
        }
        None => println!("\n(PostgreSQL skipped: set GONGSHU_BENCH_DATABASE_URL to measure it)"),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let cfg = Config::from_env(full);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(cfg));
}
