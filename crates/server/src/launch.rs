//! Start-up: open the store the config names, build the app, the router and its
//! layers, serve until a shutdown signal, and run this node's job worker.
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Request, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gongshu_services::App;
use gongshu_store::Store;
use gongshu_store_postgres::PgStore;
use gongshu_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::ApiError;
use crate::state::{AppState, ServerState};

/// Opens the store: PostgreSQL for `postgres://` URLs, otherwise SQLite under the data dir.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> =
        match config.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Arc::new(PgStore::open(url, None).await.map_err(|e| {
                    anyhow::anyhow!("无法连接 PostgreSQL / cannot connect to PostgreSQL: {e}")
                })?)
            }
            Some(url) if url.starts_with("sqlite:") => Arc::new(
                SqliteStore::open_url(url)
                    .await
                    .map_err(|e| anyhow::anyhow!("无法打开 SQLite / cannot open SQLite: {e}"))?,
            ),
            Some(other) => {
                let scheme = other.split(':').next().unwrap_or("");
                anyhow::bail!("不支持的数据库地址 / unsupported database URL scheme: {scheme}")
            }
            None => {
                std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                    anyhow::anyhow!(
                        "无法创建数据目录 {} / cannot create data dir: {e}",
                        config.data_dir.display()
                    )
                })?;
                let path = config.data_dir.join("gongshu.db");
                Arc::new(SqliteStore::open(&path).await.map_err(|e| {
                    anyhow::anyhow!("无法打开 {} / cannot open: {e}", path.display())
                })?)
            }
        };
    Ok(store)
}

/// Opens and migrates the store, and builds the app with the configured calendar and deadlines.
pub async fn open_app(config: &Config) -> anyhow::Result<Arc<App>> {
    let store = open_store(config).await?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("数据库迁移失败 / migration failed: {e}"))?;
    let mut app = App::new(store);
    app.calendar = config.calendar()?;
    app.deadlines = config.deadline_policy()?;
    app.settings = config.settings.clone();
    // COL-1: one key seals every pull connector's credentials; several nodes on one
    // PostgreSQL must share this file.
    let key_file = config.data_dir.join("keys").join("source-secrets.key");
    app.source_key = Arc::new(
        gongshu_services::SecretKey::load_or_create(&key_file)
            .map_err(|e| anyhow::anyhow!("{} / {}", e.message_zh(), e.message_en()))?,
    );
    let mask_file = config.data_dir.join("keys").join("pseudonyms.key");
    app.mask_key = Arc::new(
        gongshu_services::SecretKey::load_or_create(&mask_file)
            .map_err(|e| anyhow::anyhow!("{} / {}", e.message_zh(), e.message_en()))?,
    );
    app.tls_roots = config.tls_roots()?;
    if let Some(target) = config.upstream_target()? {
        let _ = app.upstream.set(target);
    }
    Ok(Arc::new(app))
}

const CSS: &str = include_str!("../templates/app.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
}

async fn fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found().into_response()
    } else {
        (StatusCode::NOT_FOUND, Html("<h1>404</h1><p>页面不存在 · Page not found</p><p><a href=\"/\">返回首页 · Home</a></p>"))
            .into_response()
    }
}

/// DESIGN 8: a known API path with an unsupported method is a JSON error like any other (axum's default has no body).
async fn method_not_allowed(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "该接口不支持此请求方法",
            "this endpoint does not support the request method",
        )
        .into_response()
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "服务器内部错误，已记录",
        "internal error; it was logged",
    )
    .into_response()
}

/// The whole HTTP surface with its layers.
pub fn router(app: Arc<App>, config: Config) -> Router {
    let max_body = config.max_body_bytes;
    let state = AppState(Arc::new(ServerState {
        app,
        config,
        templates: crate::web::render::environment(),
        ckan_packages: Default::default(),
    }));
    Router::new()
        .merge(crate::api::routes())
        .merge(crate::web::routes())
        .merge(crate::ckan::routes())
        .merge(crate::dcat::routes())
        .route("/api/openapi.json", get(crate::openapi::openapi_json))
        .route("/api/docs", get(crate::openapi::reference_page))
        .route("/static/app.css", get(stylesheet))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; form-action 'self'; frame-ancestors 'none'"),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let rid = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %rid)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Serves until `shutdown` resolves, then drains connections and stops the worker.
pub async fn serve(
    app: Arc<App>,
    config: Config,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let spool = tokio::spawn(tend_spool(
        config.data_dir.join("spool"),
        stop_tx.subscribe(),
    ));
    let worker = if config.run_jobs {
        let name = format!("node-{}", uuid::Uuid::new_v4().simple());
        Some(tokio::spawn(gongshu_services::jobs::run_worker(
            app.clone(),
            name,
            stop_rx,
        )))
    } else {
        None
    };
    let indexer = config.run_jobs.then(|| {
        tokio::spawn(gongshu_services::audit::run_indexer(
            app.clone(),
            Duration::from_secs(1),
            stop_tx.subscribe(),
        ))
    });
    let router = router(app, config);
    // OPN-3: the public's reads are rate-limited by address.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    let _ = stop_tx.send(true);
    if let Some(w) = worker {
        let _ = tokio::time::timeout(Duration::from_secs(10), w).await;
    }
    if let Some(i) = indexer {
        let _ = tokio::time::timeout(Duration::from_secs(10), i).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), spool).await;
    Ok(())
}

/// COL-1: puts the node's upload spool right after a stop ([`crate::spool::recover`]),
/// then gives up abandoned resumable uploads every hour until `stop` turns true.
async fn tend_spool(dir: std::path::PathBuf, mut stop: watch::Receiver<bool>) {
    let mut first = true;
    loop {
        let at = std::time::SystemTime::now();
        let swept_dir = dir.clone();
        let done = tokio::task::spawn_blocking(move || {
            if first {
                crate::spool::recover(&swept_dir, at)
            } else {
                crate::spool::sweep(&swept_dir, at).map(|abandoned| crate::spool::SpoolSweep {
                    abandoned,
                    ..Default::default()
                })
            }
        })
        .await;
        match done {
            Ok(Ok(d)) if d != crate::spool::SpoolSweep::default() => tracing::info!(
                removed_uploads = d.removed_uploads,
                restored_claims = d.restored_claims,
                abandoned = d.abandoned,
                "upload spool tidied"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "tidying the upload spool failed"),
            _ => {}
        }
        first = false;
        tokio::select! {
            _ = tokio::time::sleep(crate::spool::SWEEP_EVERY) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}
