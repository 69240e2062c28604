//! GOV-5 benchmark: hash-chained, group-committed audit appends (each caller waits
//! until its record is durable) side by side with the ceiling of plain inserts of
//! the same rows into the same table, in the same transaction sizes, with the same
//! durability settings; on SQLite, and on PostgreSQL when `GONGSHU_BENCH_DATABASE_URL`
//! (or `GONGSHU_TEST_DATABASE_URL`) is set. Results go to docs/performance.md.
//!
//! ```text
//! cargo bench -p gongshu-bench --bench audit_append
//! GONGSHU_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p gongshu-bench --bench audit_append
//! ```
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs one small smoke round.
//! Knobs: GONGSHU_BENCH_RECORDS (SQLite), GONGSHU_BENCH_PG_RECORDS,
//! GONGSHU_BENCH_PRODUCERS (a comma list), GONGSHU_BENCH_MAX_BATCH,
//! GONGSHU_BENCH_ROUNDS, GONGSHU_BENCH_SINGLE_RECORDS.
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

/// The issue's target for SQLite, records per second.
const TARGET_SQLITE: f64 = 50_000.0;

struct Config {
    full: bool,
    records_sqlite: usize,
    records_pg: usize,
    producers: Vec<usize>,
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
            (2_000, 2_000, 64, 1)
        };
        let producers = std::env::var("GONGSHU_BENCH_PRODUCERS")
            .ok()
            .map(|v| {
                v.split(',')
                    .filter_map(|p| p.trim().parse().ok())
                    .collect::<Vec<usize>>()
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| if full { vec![512, 4096] } else { vec![64] });
        Self {
            full,
            records_sqlite: env_usize("GONGSHU_BENCH_RECORDS", records_sqlite),
            records_pg: env_usize("GONGSHU_BENCH_PG_RECORDS", records_pg),
            producers: producers.into_iter().map(|p| p.max(1)).collect(),
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

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// Table shapes measured: `audit_log` as migrated (lookup indexes extended in
/// batches by the indexer, which runs alongside the producers), and a what-if with
/// the same indexes maintained by every append (the schema before migration 0002).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Migrated,
    EagerIndexes,
}

impl Shape {
    fn label(self) -> &'static str {
        match self {
            Shape::Migrated => "as migrated: indexes extended in batches",
            Shape::EagerIndexes => "what-if: indexes maintained on every append",
        }
    }
}

/// The lookup indexes of `audit_log` without the `indexed = 1` condition.
const EAGER_INDEXES: [&str; 5] = [
    "CREATE INDEX audit_log_org ON audit_log (org_id, seq)",
    "CREATE INDEX audit_log_actor ON audit_log (actor, seq)",
    "CREATE INDEX audit_log_action ON audit_log (action, seq)",
    "CREATE INDEX audit_log_object ON audit_log (object_type, object_id, seq)",
    "CREATE INDEX audit_log_at ON audit_log (at)",
];

/// A fresh, migrated database for one measurement, removed by `finish`.
struct Scratch {
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Scratch {
    async fn open(backend: &Backend, shape: Shape) -> (Arc<dyn Store>, Scratch) {
        let (store, scratch): (Arc<dyn Store>, Scratch) = match backend {
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
        };
        if shape == Shape::EagerIndexes {
            for name in scratch.secondary_indexes().await {
                scratch.execute(&format!("DROP INDEX {name}")).await;
            }
            for sql in EAGER_INDEXES {
                scratch.execute(sql).await;
            }
        }
        (store, scratch)
    }

    /// A raw one-connection SQLite pool on the scratch file, with the store's
    /// durability settings (WAL, synchronous=FULL) and its writer's tuning.
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
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(gongshu_store_sqlite::writer_tuning(opts))
            .await
            .expect("raw sqlite pool")
    }

    /// A raw one-connection pool inside the scratch schema.
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

    async fn execute(&self, sql: &str) {
        if self.pg.is_some() {
            let pool = self.pg_pool().await;
            sqlx::query(sql).execute(&pool).await.expect(sql);
            pool.close().await;
        } else {
            let pool = self.sqlite_pool().await;
            sqlx::query(sql).execute(&pool).await.expect(sql);
            pool.close().await;
        }
    }

    async fn scalars(&self, sql: &str) -> Vec<String> {
        if self.pg.is_some() {
            let pool = self.pg_pool().await;
            let v = sqlx::query_scalar(sql).fetch_all(&pool).await.expect(sql);
            pool.close().await;
            v
        } else {
            let pool = self.sqlite_pool().await;
            let v = sqlx::query_scalar(sql).fetch_all(&pool).await.expect(sql);
            pool.close().await;
            v
        }
    }

    /// Names of `audit_log`'s indexes other than its primary key.
    async fn secondary_indexes(&self) -> Vec<String> {
        let sql = if self.pg.is_some() {
            "SELECT indexname::text FROM pg_indexes
             WHERE schemaname = current_schema() AND tablename = 'audit_log' AND indexname <> 'audit_log_pkey'
             ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_master
             WHERE type = 'index' AND tbl_name = 'audit_log' AND sql IS NOT NULL ORDER BY 1"
        };
        self.scalars(sql).await
    }

    async fn finish(self) {
        if let Some((url, schema)) = &self.pg {
            PgStore::drop_schema(url, schema)
                .await
                .expect("drop bench schema");
        }
    }
}

/// What one chained run measured.
struct ChainedRun {
    /// Until the last producer heard that its last record is durable.
    appended: Duration,
    /// Until, in addition, the lookup indexes covered every record.
    indexed: Duration,
    stats: AuditWriterStats,
}

/// The producers, each appending its drafts one by one through the group-commit
/// writer and awaiting durability before the next. With `indexer`, the node's
/// audit indexer runs alongside (as `gongshu serve` runs it), and the run also
/// times how long the indexes take to catch up after the last append.
async fn chained(
    store: Arc<dyn Store>,
    producers: Vec<Vec<AuditDraft>>,
    max_batch: usize,
    indexer: bool,
) -> ChainedRun {
    let app = Arc::new(App::new(Arc::clone(&store)));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let indexing = indexer.then(|| {
        tokio::spawn(gongshu_services::audit::run_indexer(
            Arc::clone(&app),
            Duration::from_secs(1),
            stopped,
        ))
    });
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
    let appended = start.elapsed();
    if let Some(task) = indexing {
        let _ = stop.send(true);
        task.await.expect("indexer");
        gongshu_services::audit::index_pending(&app)
            .await
            .expect("index the rest");
    }
    ChainedRun {
        appended,
        indexed: start.elapsed(),
        stats: writer.stats(),
    }
}

/// Producers without group commit: one `Store::commit` (one transaction) per record.
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

/// The ceiling: the same drafts as plain rows into `audit_log` of a fresh store,
/// `batch` rows per transaction, over one raw connection.
async fn ceiling(backend: &Backend, shape: Shape, drafts: &[AuditDraft], batch: usize) -> Duration {
    let (store, scratch) = Scratch::open(backend, shape).await;
    drop(store);
    let elapsed = match backend {
        Backend::Sqlite => {
            let pool = scratch.sqlite_pool().await;
            let start = Instant::now();
            plain_insert_sqlite(&pool, "audit_log", drafts, batch)
                .await
                .expect("plain insert");
            let elapsed = start.elapsed();
            pool.close().await;
            elapsed
        }
        Backend::Postgres(_) => {
            let pool = scratch.pg_pool().await;
            let start = Instant::now();
            plain_insert_postgres(&pool, "audit_log", drafts, batch)
                .await
                .expect("plain insert");
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
    (0..longest)
        .flat_map(|k| producers.iter().filter_map(move |p| p.get(k)).cloned())
        .collect()
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
    let digits = format!("{x:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The database's version and durability settings, and the indexes of `audit_log`.
async fn describe(backend: &Backend) -> String {
    let (store, scratch) = Scratch::open(backend, Shape::Migrated).await;
    drop(store);
    let indexes = scratch.secondary_indexes().await.join(", ");
    let text = match backend {
        Backend::Sqlite => {
            let version = scratch.scalars("SELECT sqlite_version()").await.join("");
            format!(
                "SQLite {version} (bundled), WAL, synchronous=FULL (every commit fsyncs the WAL), \
                 files under {}",
                std::env::temp_dir().display()
            )
        }
        Backend::Postgres(_) => {
            let mut facts = Vec::new();
            for setting in [
                "server_version",
                "synchronous_commit",
                "fsync",
                "wal_sync_method",
                "commit_delay",
            ] {
                let value = scratch.scalars(&format!("SHOW {setting}")).await.join("");
                facts.push(format!("{setting}={value}"));
            }
            format!("PostgreSQL on this machine over TCP, {}", facts.join(", "))
        }
    };
    scratch.finish().await;
    let indexes = if indexes.is_empty() {
        "none".to_string()
    } else {
        indexes
    };
    format!(
        "{text}; audit_log secondary indexes as migrated: {indexes} (lookups live in the audit_by_* tables)"
    )
}

#[derive(Default)]
struct Samples {
    chained: Vec<f64>,
    indexed: Vec<f64>,
    batch: Vec<f64>,
    ceiling: Vec<f64>,
    /// Per round: chained and ceiling ran back to back, under the same conditions.
    ratio: Vec<f64>,
}

/// One line of the result table: medians over the rounds.
struct Line {
    producers: usize,
    shape: Shape,
    chained: f64,
    indexed: f64,
    batch: f64,
    ceiling: f64,
    ratio: f64,
}

/// Measures one backend; returns the median group-committed rate on the migrated
/// table at the first producer count.
async fn run_backend(cfg: &Config, backend: Backend) -> f64 {
    let name = backend.name();
    let records = match backend {
        Backend::Sqlite => cfg.records_sqlite,
        Backend::Postgres(_) => cfg.records_pg,
    };
    println!("\n## {name}: {}", describe(&backend).await);
    let sample = workload(records.min(10_000), 1).concat();
    println!(
        "{records} records per run, ~{} bytes hashed per record; producers {:?}, max batch {}; \
         one record per transaction: {} records, {} producers; {} round(s), medians shown",
        mean_encoded_len(&sample),
        cfg.producers,
        cfg.max_batch,
        cfg.single_records,
        cfg.single_producers,
        cfg.rounds
    );

    let shapes = [Shape::Migrated, Shape::EagerIndexes];
    let workloads: Vec<Vec<Vec<AuditDraft>>> = cfg
        .producers
        .iter()
        .map(|&p| workload(records, p))
        .collect();
    let mut samples: Vec<Samples> = (0..cfg.producers.len() * shapes.len())
        .map(|_| Samples::default())
        .collect();
    let single = workload(cfg.single_records, cfg.single_producers);
    let mut singles = Vec::new();
    for round in 1..=cfg.rounds {
        for (w, producers) in workloads.iter().enumerate() {
            // The ceiling inserts the very same drafts, in the order they were made.
            let all = in_order(producers);
            for (s, &shape) in shapes.iter().enumerate() {
                let (store, scratch) = Scratch::open(&backend, shape).await;
                let run = chained(
                    Arc::clone(&store),
                    producers.clone(),
                    cfg.max_batch,
                    shape == Shape::Migrated,
                )
                .await;
                let stats = run.stats;
                let elapsed = run.appended;
                let report = gongshu_services::audit::verify_chain(&App::new(Arc::clone(&store)))
                    .await
                    .expect("verify");
                assert!(
                    report.ok && report.checked == records as u64,
                    "chain after the run: {}",
                    report.message_en
                );
                if shape == Shape::Migrated {
                    let index = store.audit_index_state().await.expect("index state");
                    assert_eq!(index.upto_seq, records as i64, "indexes cover every record");
                }
                drop(store);
                scratch.finish().await;
                let batch = stats.mean_batch().round().max(1.0) as usize;
                let ceiling_rate = rate(records, ceiling(&backend, shape, &all, batch).await);
                let chained_rate = rate(records, elapsed);
                let indexed_rate = rate(records, run.indexed);
                println!(
                    "round {round}, {} producers, {}: chained {}/s ({} transactions, mean {:.0} records), \
                     all indexed {}/s, ceiling {}/s",
                    producers.len(),
                    shape.label(),
                    thousands(chained_rate),
                    stats.batches,
                    stats.mean_batch(),
                    thousands(indexed_rate),
                    thousands(ceiling_rate),
                );
                let sample = &mut samples[w * shapes.len() + s];
                sample.chained.push(chained_rate);
                sample.indexed.push(indexed_rate);
                sample.batch.push(stats.mean_batch());
                sample.ceiling.push(ceiling_rate);
                sample.ratio.push(chained_rate / ceiling_rate);
            }
        }
        let (store, scratch) = Scratch::open(&backend, Shape::Migrated).await;
        let single_rate = rate(
            cfg.single_records,
            one_per_transaction(Arc::clone(&store), single.clone()).await,
        );
        drop(store);
        scratch.finish().await;
        println!(
            "round {round}: one record per transaction {}/s",
            thousands(single_rate)
        );
        singles.push(single_rate);
    }

    let lines: Vec<Line> = samples
        .into_iter()
        .enumerate()
        .map(|(i, s)| Line {
            producers: cfg.producers[i / shapes.len()],
            shape: shapes[i % shapes.len()],
            chained: median(s.chained),
            indexed: median(s.indexed),
            batch: median(s.batch),
            ceiling: median(s.ceiling),
            ratio: median(s.ratio),
        })
        .collect();
    let single = median(singles);
    println!();
    println!(
        "| {name}: `audit_log` | producers | records per transaction (mean) | \
         plain rows (ceiling), records/s | hash chain + group commit, records/s | ratio (median of rounds) | \
         until indexed too, records/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for l in &lines {
        println!(
            "| {} | {} | {:.0} | {} | **{}** | {:.2} | {} |",
            l.shape.label(),
            l.producers,
            l.batch,
            thousands(l.ceiling),
            thousands(l.chained),
            l.ratio,
            thousands(l.indexed)
        );
    }
    let first = &lines[0];
    println!(
        "| as migrated, one record per transaction (`Store::commit` each) | {} | 1 | | {} | {:.3}× the group-committed rate at {} producers |",
        cfg.single_producers,
        thousands(single),
        single / first.chained,
        first.producers
    );
    first.chained
}

async fn run(cfg: Config) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "# Audit append (GOV-5): {cores} cores (available_parallelism), {}",
        if cfg.full {
            "release build"
        } else {
            "smoke run (no --bench): figures not meaningful"
        }
    );
    let sqlite = run_backend(&cfg, Backend::Sqlite).await;
    if cfg.full {
        let verdict = if sqlite >= TARGET_SQLITE {
            "met"
        } else {
            "missed"
        };
        println!(
            "target ≥ {} records/s on SQLite (as migrated, {} producers): {verdict} ({}/s)",
            thousands(TARGET_SQLITE),
            cfg.producers[0],
            thousands(sqlite)
        );
    }
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
