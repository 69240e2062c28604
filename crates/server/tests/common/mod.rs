//! Harness of the end-to-end suite (DESIGN 4, Tests): every test starts the real
//! server on 127.0.0.1:0 with a fresh database — a temporary SQLite file, and, when
//! `GONGSHU_TEST_DATABASE_URL` is set, a uuid-named PostgreSQL schema — and talks to
//! it over HTTP. `both_backends!(name)` runs `async fn name(srv)` on each backend.
#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gongshu_domain::audit::AuditDraft;
use gongshu_server::Config;
use gongshu_services::demo::DemoLogin;
use gongshu_services::App;
use gongshu_store::{OrgFilter, Store};
use gongshu_store_postgres::PgStore;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PG_ENV: &str = "GONGSHU_TEST_DATABASE_URL";

/// Runs `async fn $name(srv: Arc<TestServer>)` once per backend, as the tests
/// `$name::sqlite` and `$name::postgres` (the latter skips, with a note, when
/// `GONGSHU_TEST_DATABASE_URL` is unset).
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::common::run(crate::common::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crate::common::run(crate::common::Backend::Postgres, super::$name).await;
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the test database lives, to reach it with raw SQL and to remove it afterwards.
pub enum Database {
    Sqlite {
        dir: TempDir,
        file: PathBuf,
    },
    Postgres {
        url: String,
        schema: String,
        store: Arc<PgStore>,
        /// The node's own data directory (its upload spool).
        dir: TempDir,
    },
}

/// A running server with its own fresh database.
pub struct TestServer {
    pub backend: Backend,
    pub base_url: String,
    pub app: Arc<App>,
    pub db: Database,
    shutdown: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    task: std::sync::Mutex<Option<JoinHandle<anyhow::Result<()>>>>,
}

/// A directory removed when dropped (a few lines instead of a dependency).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("gongshu-e2e-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts a server on `backend`, runs `body`, stops the server and drops its
/// database — also when `body` panics (the panic is then resumed).
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Arc<TestServer>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_configured(backend, |_| {}, body).await
}

/// As `run`, on a node whose configuration `configure` adjusts first.
pub async fn run_configured<F, Fut>(backend: Backend, configure: fn(&mut Config), body: F)
where
    F: FnOnce(Arc<TestServer>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if backend == Backend::Postgres && pg_url().is_none() {
        eprintln!("note: {PG_ENV} is not set; skipping the PostgreSQL run of this test");
        return;
    }
    let srv = Arc::new(TestServer::start_configured(backend, configure).await);
    let outcome = tokio::spawn(body(srv.clone())).await;
    srv.stop().await;
    if let Database::Postgres {
        url, schema, store, ..
    } = &srv.db
    {
        store.close().await;
        PgStore::drop_schema(url, schema)
            .await
            .expect("drop test schema");
    }
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

pub fn pg_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|s| !s.trim().is_empty())
}

/// Config of a test node: no background worker, so the audit chain holds only what the test did.
fn test_config(data_dir: &Path) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        run_jobs: false,
        ..Config::default()
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_configured(backend, |_| {}).await
    }

    pub async fn start_configured(backend: Backend, configure: fn(&mut Config)) -> Self {
        let (app, db, config) = match backend {
            Backend::Sqlite => {
                let dir = TempDir::new();
                let mut config = test_config(dir.path());
                configure(&mut config);
                let app = gongshu_server::open_app(&config)
                    .await
                    .expect("open SQLite app");
                let file = dir.path().join("gongshu.db");
                assert!(
                    file.exists(),
                    "the SQLite store should live at {}",
                    file.display()
                );
                (app, Database::Sqlite { dir, file }, config)
            }
            Backend::Postgres => {
                let url = pg_url().expect("PostgreSQL URL");
                let schema = format!("gs_test_{}", uuid::Uuid::new_v4().simple());
                let store = Arc::new(
                    PgStore::open(&url, Some(&schema))
                        .await
                        .expect("open PostgreSQL schema"),
                );
                store.migrate().await.expect("migrate PostgreSQL schema");
                let dir = TempDir::new();
                let mut config = test_config(dir.path());
                configure(&mut config);
                let mut app = App::new(store.clone() as Arc<dyn Store>);
                app.settings = config.settings.clone();
                app.tls_roots = config.tls_roots().expect("ca_file");
                (
                    Arc::new(app),
                    Database::Postgres {
                        url,
                        schema,
                        store,
                        dir,
                    },
                    config,
                )
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(gongshu_server::serve(
            app.clone(),
            config,
            listener,
            async {
                let _ = rx.await;
            },
        ));
        Self {
            backend,
            base_url: format!("http://{addr}"),
            app,
            db,
            shutdown: std::sync::Mutex::new(Some(tx)),
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// The node's data directory (its SQLite file, keys and upload spool).
    pub fn data_dir(&self) -> &Path {
        match &self.db {
            Database::Sqlite { dir, .. } | Database::Postgres { dir, .. } => dir.path(),
        }
    }

    async fn stop(&self) {
        if let Some(tx) = self.shutdown.lock().expect("lock").take() {
            let _ = tx.send(());
        }
        let task = self.task.lock().expect("lock").take();
        if let Some(task) = task {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => panic!("server stopped with an error: {e}"),
                Ok(Err(e)) => panic!("server task failed: {e}"),
                Err(_) => eprintln!("note: server did not stop within 10 s"),
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A client with no credentials.
    pub fn anon(&self) -> Http {
        Http {
            client: reqwest::Client::new(),
            base: self.base_url.clone(),
            auth: None,
            csrf: None,
        }
    }

    /// A client sending `Authorization: Bearer <secret>`.
    pub fn bearer(&self, secret: &str) -> Http {
        Http {
            client: reqwest::Client::new(),
            base: self.base_url.clone(),
            auth: Some(format!("Bearer {secret}")),
            csrf: None,
        }
    }

    /// Seeds the demo region (14 users of every role, no catalog) and returns its logins.
    pub async fn seed_demo(&self) -> Demo {
        let logins = gongshu_services::demo::seed_foundation(&self.app, 20)
            .await
            .expect("seed demo");
        Demo { logins }
    }

    /// POST /api/v1/auth/login; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .expect("client");
        let http = Http {
            client,
            base: self.base_url.clone(),
            auth: None,
            csrf: None,
        };
        let resp = http
            .post(
                "/api/v1/auth/login",
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        let body = resp.expect_status(200);
        let csrf = body["csrf_token"].as_str().expect("csrf_token").to_string();
        assert!(!csrf.is_empty(), "login returns a CSRF token");
        let url = reqwest::Url::parse(&self.base_url).expect("base url");
        let cookie = reqwest::cookie::CookieStore::cookies(jar.as_ref(), &url)
            .and_then(|v| v.to_str().ok().map(str::to_string))
            .expect("login sets the session cookie");
        assert!(cookie.contains("gongshu_session="), "{cookie}");
        Session {
            cookie,
            user_id: body["user"]["id"].as_str().expect("user.id").to_string(),
            org_id: body["user"]["org_id"]
                .as_str()
                .expect("user.org_id")
                .to_string(),
            with_csrf: Http {
                csrf: Some(csrf.clone()),
                ..http.clone()
            },
            without_csrf: http,
            csrf,
        }
    }

    pub async fn login_demo(&self, demo: &Demo, username: &str) -> Session {
        self.login(username, demo.password(username)).await
    }

    /// The id of the organisation with exactly this name.
    pub async fn org_id(&self, name: &str) -> String {
        let orgs = self
            .app
            .store
            .list_orgs(&OrgFilter {
                q: Some(name.to_string()),
                ..OrgFilter::default()
            })
            .await
            .expect("list orgs");
        orgs.into_iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no organisation named {name}"))
            .id
    }

    /// A direct connection to the test database, for tampering and fault injection.
    pub async fn raw(&self) -> Raw {
        match &self.db {
            Database::Sqlite { file, .. } => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(file)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts)
                    .await
                    .expect("raw sqlite");
                Raw::Sqlite(pool)
            }
            Database::Postgres { url, schema, .. } => Raw::Postgres(pg_pool(url, schema, 2).await),
        }
    }

    /// Another node on the same database: a second PostgreSQL store on the same schema;
    /// on SQLite (one embedded node) the server's own store.
    pub async fn other_node(&self) -> Arc<dyn Store> {
        match &self.db {
            Database::Sqlite { .. } => self.app.store.clone(),
            Database::Postgres { url, schema, .. } => Arc::new(
                PgStore::open(url, Some(schema))
                    .await
                    .expect("second PostgreSQL node"),
            ),
        }
    }
}

pub async fn pg_pool(url: &str, schema: &str, max: u32) -> sqlx::PgPool {
    let opts = sqlx::postgres::PgConnectOptions::from_str(url)
        .expect("pg url")
        .options([("search_path", schema)]);
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max)
        .connect_with(opts)
        .await
        .expect("raw postgres")
}

/// Raw SQL on the test database, bypassing the store (an attacker, or a failing disk).
pub enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Runs the same query-building code on whichever pool `Raw` holds.
macro_rules! on_pool {
    ($raw:expr, |$pool:ident| $body:expr) => {
        match $raw {
            Raw::Sqlite($pool) => $body,
            Raw::Postgres($pool) => $body,
        }
    };
}

impl Raw {
    /// Executes one statement; returns the rows it touched.
    pub async fn exec(&self, sql: &str) -> u64 {
        let done = on_pool!(self, |p| sqlx::raw_sql(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected()));
        done.unwrap_or_else(|e| panic!("raw SQL failed: {e}\n{sql}"))
    }

    /// Overwrites the content of audit record `seq` (its seq, links and hash stay).
    pub async fn overwrite_audit_content(&self, seq: i64, d: &AuditDraft) {
        const SQL: &str = "UPDATE audit_log SET at = $2, actor = $3, actor_user_id = $4, org_id = $5, action = $6,
             object_type = $7, object_id = $8, before_summary = $9, after_summary = $10, request_id = $11 WHERE seq = $1";
        let done = on_pool!(self, |p| sqlx::query(SQL)
            .bind(seq)
            .bind(d.at)
            .bind(&d.actor)
            .bind(&d.actor_user_id)
            .bind(&d.org_id)
            .bind(&d.action)
            .bind(&d.object_type)
            .bind(&d.object_id)
            .bind(&d.before)
            .bind(&d.after)
            .bind(&d.request_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()));
        assert_eq!(
            done.expect("overwrite audit row"),
            1,
            "audit row {seq} should exist"
        );
    }

    pub async fn set_token_expiry(&self, token_id: &str, at: DateTime<Utc>) {
        const SQL: &str = "UPDATE api_tokens SET expires_at = $1 WHERE id = $2";
        let done = on_pool!(self, |p| sqlx::query(SQL)
            .bind(at)
            .bind(token_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()));
        assert_eq!(
            done.expect("set token expiry"),
            1,
            "token {token_id} should exist"
        );
    }

    /// Makes every insert into the audit log fail, as a full disk or a broken table would.
    pub async fn break_audit_inserts(&self) {
        match self {
            Raw::Sqlite(_) => {
                self.exec("CREATE TRIGGER audit_unwritable BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log unwritable'); END")
                    .await;
            }
            Raw::Postgres(_) => {
                self.exec(
                    "CREATE FUNCTION audit_unwritable() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN RAISE EXCEPTION 'audit log unwritable'; END $$;
                     CREATE TRIGGER audit_unwritable BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_unwritable();",
                )
                .await;
            }
        }
    }

    pub async fn repair_audit_inserts(&self) {
        match self {
            Raw::Sqlite(_) => {
                self.exec("DROP TRIGGER audit_unwritable").await;
            }
            Raw::Postgres(_) => {
                self.exec(
                    "DROP TRIGGER audit_unwritable ON audit_log; DROP FUNCTION audit_unwritable();",
                )
                .await;
            }
        }
    }

    pub async fn close(self) {
        on_pool!(self, |p| p.close().await)
    }
}

/// Logins of the seeded demo region.
pub struct Demo {
    pub logins: Vec<DemoLogin>,
}

impl Demo {
    pub fn password(&self, username: &str) -> &str {
        let login = self
            .logins
            .iter()
            .find(|l| l.username == username)
            .unwrap_or_else(|| panic!("no demo login {username}"));
        assert!(!login.password.is_empty(), "demo passwords are generated");
        &login.password
    }
}

/// A logged-in console session used through the API.
pub struct Session {
    /// The `Cookie` header the session sends.
    pub cookie: String,
    pub user_id: String,
    pub org_id: String,
    pub csrf: String,
    /// Sends the session cookie and `X-CSRF-Token`.
    pub with_csrf: Http,
    /// Sends the session cookie only.
    pub without_csrf: Http,
}

impl std::ops::Deref for Session {
    type Target = Http;
    fn deref(&self) -> &Http {
        &self.with_csrf
    }
}

/// An HTTP client bound to the test server with its credentials.
#[derive(Clone)]
pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
    auth: Option<String>,
    csrf: Option<String>,
}

impl Http {
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(a) = &self.auth {
            rb = rb.header(reqwest::header::AUTHORIZATION, a);
        }
        if let Some(c) = &self.csrf {
            rb = rb.header("x-csrf-token", c);
        }
        rb
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        send(self.request(reqwest::Method::PUT, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        send(self.request(reqwest::Method::PATCH, path).json(&body)).await
    }

    /// POST of a raw body with `Content-Type: application/json`.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Resp {
        send(
            self.request(reqwest::Method::POST, path)
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }
}

pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.expect("request reaches the server");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

/// A response, its body parsed as JSON when it is JSON (else `Null`).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// The `x-request-id` the server stamped on the response.
    pub fn request_id(&self) -> String {
        let rid = self
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(!rid.is_empty(), "every response carries x-request-id");
        rid
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect_status(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self.body
    }

    /// Asserts an error response: the status, a JSON body `{code, message, message_en}` with this code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_error_body(&self.body, &self.text);
        assert_eq!(
            self.body["code"], code,
            "unexpected error code; body: {}",
            self.text
        );
        &self.body
    }
}

/// DESIGN 8: every error body names a stable code and explains itself in 中文 and English.
#[track_caller]
pub fn assert_error_body(body: &Value, text: &str) {
    for key in ["code", "message", "message_en"] {
        let v = body.get(key).and_then(Value::as_str).unwrap_or_default();
        assert!(
            !v.trim().is_empty(),
            "error body lacks a non-empty {key}: {text}"
        );
    }
}
