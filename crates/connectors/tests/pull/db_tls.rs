//! COL-1: TLS on database sources. Against the local PostgreSQL when
//! `GONGSHU_TEST_DATABASE_URL` is set, and against a stand-in that speaks only
//! PostgreSQL's TLS request, so a certificate from the test authority can be
//! checked without configuring a real server.

use std::sync::{Arc, Mutex};

use gongshu_connectors::{probe, pull, DbTls, PullLimits, PullSource, SourceQuery, TrustedRoots};
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{db_source, Collect};
use crate::pki::TestPki;

fn url() -> Option<String> {
    match std::env::var("GONGSHU_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("GONGSHU_TEST_DATABASE_URL is not set: skipping the PostgreSQL TLS test");
            None
        }
    }
}

fn with_tls(mut source: PullSource, mode: DbTls) -> PullSource {
    match &mut source {
        PullSource::Postgres { tls, .. } | PullSource::MySql { tls, .. } => *tls = mode,
        PullSource::HttpJson { .. } => unreachable!("a database source"),
    }
    source
}

fn with_host(mut source: PullSource, name: &str, to: u16) -> PullSource {
    match &mut source {
        PullSource::Postgres { host, port, .. } | PullSource::MySql { host, port, .. } => {
            *host = name.to_string();
            *port = to;
        }
        PullSource::HttpJson { .. } => unreachable!("a database source"),
    }
    source
}

/// Whether the connection the pull ran on was encrypted, as the server saw it.
async fn pulled_over_tls(source: &PullSource, secret: Option<&str>) -> Result<String, String> {
    let mut sink = Collect::default();
    pull(source, secret, &mut sink, &PullLimits::default())
        .await
        .map_err(|e| format!("{}: {e}", e.code()))?;
    Ok(sink.rows[0][0].clone())
}

#[tokio::test]
async fn col_1_postgres_source_is_encrypted_as_its_tls_setting_says() {
    let Some(url) = url() else { return };
    let query = SourceQuery::Select(
        "SELECT ssl::text AS over_tls FROM pg_stat_ssl WHERE pid = pg_backend_pid()".into(),
    );
    let (source, secret) = db_source(&url, false, query);
    let secret = secret.as_deref();
    let mut admin = sqlx::PgConnection::connect_with(
        &url.parse::<sqlx::postgres::PgConnectOptions>()
            .unwrap()
            .ssl_mode(sqlx::postgres::PgSslMode::Disable),
    )
    .await
    .unwrap();
    let server_ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let _ = admin.close().await;

    let plain = pulled_over_tls(&with_tls(source.clone(), DbTls::Disable), secret).await;
    assert_eq!(plain.as_deref(), Ok("false"));
    let required = pulled_over_tls(&with_tls(source.clone(), DbTls::Require), secret).await;
    let preferred = pulled_over_tls(&with_tls(source.clone(), DbTls::Prefer), secret).await;
    if server_ssl == "on" {
        assert_eq!(required.as_deref(), Ok("true"));
        assert_eq!(preferred.as_deref(), Ok("true"));
    } else {
        // A server without TLS: `require` never falls back to a plain connection.
        let err = required.unwrap_err();
        assert!(err.starts_with("connector.tls_failed"), "{err}");
        assert_eq!(preferred.as_deref(), Ok("false"));
    }
}

/// What the stand-in saw of one connection.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Seen {
    tls_requested: bool,
    handshake_done: bool,
    /// Bytes that arrived after the handshake (the startup message), or in
    /// the clear after a refused TLS request.
    bytes_after: usize,
}

/// A stand-in for a PostgreSQL server on `address` that answers the TLS request
/// (`S` and a handshake with the test authority's certificate, or `N` without
/// `pki`), reads what comes next, and closes.
async fn stand_in_at(address: &str, pki: Option<Arc<TestPki>>) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind((address, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let pki = pki.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut record = Seen::default();
                let mut request = [0u8; 8];
                if socket.read_exact(&mut request).await.is_ok() {
                    // Length 8, then the SSLRequest code 80877103.
                    record.tls_requested = request == [0, 0, 0, 8, 4, 210, 22, 47];
                }
                let mut rest = vec![0u8; 4096];
                match pki {
                    Some(pki) if record.tls_requested => {
                        let _ = socket.write_all(b"S").await;
                        if let Ok(mut tls) = pki.acceptor.accept(socket).await {
                            record.handshake_done = true;
                            record.bytes_after = tls.read(&mut rest).await.unwrap_or(0);
                        }
                    }
                    _ => {
                        let _ = socket.write_all(b"N").await;
                        record.bytes_after = socket.read(&mut rest).await.unwrap_or(0);
                    }
                }
                log.lock().unwrap().push(record);
            });
        }
    });
    (port, seen)
}

async fn stand_in(pki: Option<Arc<TestPki>>) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    stand_in_at("127.0.0.1", pki).await
}

fn stand_in_source(port: u16, mode: DbTls) -> PullSource {
    let (source, _) = db_source(
        "postgres://reader@localhost/civil",
        false,
        SourceQuery::Table("people".into()),
    );
    with_tls(with_host(source, "localhost", port), mode)
}

fn limits(roots: TrustedRoots) -> PullLimits {
    PullLimits {
        connect_timeout: std::time::Duration::from_secs(5),
        roots,
        ..PullLimits::default()
    }
}

async fn seen_once(seen: &Arc<Mutex<Vec<Seen>>>) -> Seen {
    for _ in 0..100 {
        if let Some(s) = seen.lock().unwrap().first() {
            return s.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the stand-in saw no connection");
}

#[tokio::test]
async fn col_1_postgres_source_certificate_is_checked_against_ca_file() {
    let pki = Arc::new(TestPki::new());

    // Without the test authority, the certificate is refused in the handshake:
    // nothing, the password above all, is sent after it.
    let (port, seen) = stand_in(Some(pki.clone())).await;
    let source = stand_in_source(port, DbTls::VerifyFull);
    let err = probe(
        &source,
        Some("pw-never-sent"),
        &limits(TrustedRoots::system()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "connector.tls_failed", "{err}");
    assert!(!err.is_transient());
    assert!(err.message_zh().contains("ca_file"), "{}", err.message_zh());
    let first = seen_once(&seen).await;
    assert!(first.tls_requested && !first.handshake_done, "{first:?}");
    assert_eq!(first.bytes_after, 0);

    // With it as `ca_file`, the handshake completes and the startup message
    // follows inside TLS; the stand-in then closes, which is no TLS failure.
    let (port, seen) = stand_in(Some(pki.clone())).await;
    let source = stand_in_source(port, DbTls::VerifyFull);
    let roots = TrustedRoots::with_pem(pki.ca_pem.clone().into_bytes()).unwrap();
    let err = probe(&source, Some("pw"), &limits(roots.clone()))
        .await
        .unwrap_err();
    assert_ne!(err.code(), "connector.tls_failed", "{err}");
    let second = seen_once(&seen).await;
    assert!(second.handshake_done, "{second:?}");
    assert!(second.bytes_after > 0, "{second:?}");

    // The certificate names localhost and 127.0.0.1, not another address
    // (all of 127.0.0.0/8 is this machine on Linux).
    let (port, seen) = stand_in_at("127.0.0.2", Some(pki.clone())).await;
    let elsewhere = with_host(stand_in_source(port, DbTls::VerifyFull), "127.0.0.2", port);
    let err = probe(&elsewhere, Some("pw"), &limits(roots))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.tls_failed", "{err}");
    assert!(!seen_once(&seen).await.handshake_done);
}

#[tokio::test]
async fn col_1_postgres_source_that_refuses_tls_fails_when_tls_is_required() {
    for mode in [DbTls::Require, DbTls::VerifyFull] {
        let (port, seen) = stand_in(None).await;
        let err = probe(
            &stand_in_source(port, mode),
            Some("pw-never-sent"),
            &limits(TrustedRoots::system()),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "connector.tls_failed", "{mode:?}: {err}");
        let record = seen_once(&seen).await;
        assert!(record.tls_requested, "{record:?}");
        assert_eq!(record.bytes_after, 0, "{mode:?}: nothing sent in the clear");
    }
    // `prefer` goes on in the clear, as libpq does: the startup message follows.
    let (port, seen) = stand_in(None).await;
    let _ = probe(
        &stand_in_source(port, DbTls::Prefer),
        Some("pw"),
        &limits(TrustedRoots::system()),
    )
    .await;
    let record = seen_once(&seen).await;
    assert!(record.tls_requested && record.bytes_after > 0, "{record:?}");
    // `disable` does not even ask.
    let (port, seen) = stand_in(None).await;
    let _ = probe(
        &stand_in_source(port, DbTls::Disable),
        Some("pw"),
        &limits(TrustedRoots::system()),
    )
    .await;
    assert!(!seen_once(&seen).await.tls_requested);
}

#[tokio::test]
async fn col_1_mysql_source_is_encrypted_as_its_tls_setting_says() {
    let url = match std::env::var("GONGSHU_TEST_MYSQL_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!("GONGSHU_TEST_MYSQL_URL is not set: skipping the MySQL TLS test");
            return;
        }
    };
    let query = SourceQuery::Select(
        "SELECT VARIABLE_VALUE AS cipher FROM information_schema.SESSION_STATUS \
         WHERE VARIABLE_NAME = 'SSL_CIPHER'"
            .into(),
    );
    let (source, secret) = db_source(&url, true, query);
    let secret = secret.as_deref();
    let mut admin = sqlx::MySqlConnection::connect_with(
        &url.parse::<sqlx::mysql::MySqlConnectOptions>()
            .unwrap()
            .ssl_mode(sqlx::mysql::MySqlSslMode::Disabled),
    )
    .await
    .unwrap();
    let (_, have_ssl): (String, String) = sqlx::query_as("SHOW VARIABLES LIKE 'have_ssl'")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let _ = admin.close().await;

    let plain = pulled_over_tls(&with_tls(source.clone(), DbTls::Disable), secret).await;
    assert_eq!(plain.as_deref(), Ok(""), "no cipher on a plain connection");
    let required = pulled_over_tls(&with_tls(source.clone(), DbTls::Require), secret).await;
    let preferred = pulled_over_tls(&with_tls(source.clone(), DbTls::Prefer), secret).await;
    if have_ssl == "YES" {
        assert!(
            required.as_ref().is_ok_and(|c| !c.is_empty()),
            "{required:?}"
        );
        assert!(
            preferred.as_ref().is_ok_and(|c| !c.is_empty()),
            "{preferred:?}"
        );
    } else {
        // A server without TLS: `require` never falls back to a plain connection.
        let err = required.unwrap_err();
        assert!(err.starts_with("connector.tls_failed"), "{err}");
        assert_eq!(preferred.as_deref(), Ok(""));
    }
}
