//! COL-1: pulling from PostgreSQL. Runs when `GONGSHU_TEST_DATABASE_URL` is set
//! (e.g. `postgres://postgres@127.0.0.1:5432/test`).

use gongshu_connectors::{probe, pull, DbTls, PullLimits, PullSource, SourceQuery};
use sqlx::{Connection, Executor, PgConnection};

use crate::common::{closed_port, db_source, strings, table_name, Collect};

fn url() -> Option<String> {
    match std::env::var("GONGSHU_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("GONGSHU_TEST_DATABASE_URL is not set: skipping the PostgreSQL pull test");
            None
        }
    }
}

/// A fresh table of three rows; dropped by `drop_table`.
async fn fill(url: &str) -> (PgConnection, String) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let table = table_name();
    conn.execute(
        format!(
            "CREATE TABLE {table} (
                id integer PRIMARY KEY,
                name text NOT NULL,
                founded date,
                note text,
                capital numeric(14, 2),
                active boolean,
                updated timestamp,
                checked timestamptz,
                seal bytea,
                staff bigint
            );
            INSERT INTO {table} VALUES
              (1, '杭州市数据资源管理局', '2017-05-01', NULL, 1234567.89, true,
               '2024-03-01 08:30:00', '2024-03-01 00:30:00+00', '\\x00ff10', 120),
              (2, 'O''Brien & Co, \"quoted\"', '1999-12-31', '备注：第二行', -0.5, false,
               '2024-03-01 08:30:00.25', NULL, NULL, -9007199254740993),
              (3, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        )
        .as_str(),
    )
    .await
    .unwrap();
    (conn, table)
}

async fn drop_table(mut conn: PgConnection, table: &str) {
    conn.execute(format!("DROP TABLE IF EXISTS {table}").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
}

fn expected_rows() -> Vec<Vec<String>> {
    vec![
        strings(&[
            "1",
            "杭州市数据资源管理局",
            "2017-05-01",
            "",
            "1234567.89",
            "true",
            "2024-03-01T08:30:00",
            "2024-03-01T08:30:00",
            "00ff10",
            "120",
        ]),
        strings(&[
            "2",
            "O'Brien & Co, \"quoted\"",
            "1999-12-31",
            "备注：第二行",
            "-0.50",
            "false",
            "2024-03-01T08:30:00.25",
            "",
            "",
            "-9007199254740993",
        ]),
        strings(&["3", "", "", "", "", "", "", "", "", ""]),
    ]
}

fn columns() -> Vec<String> {
    strings(&[
        "id", "name", "founded", "note", "capital", "active", "updated", "checked", "seal", "staff",
    ])
}

#[tokio::test]
async fn col_1_postgres_pulls_a_table_and_a_select() {
    let Some(url) = url() else { return };
    let (conn, table) = fill(&url).await;
    let limits = PullLimits::default();

    let (source, secret) = db_source(&url, false, SourceQuery::Table(format!("public.{table}")));
    let mut sink = Collect::default();
    let summary = pull(&source, secret.as_deref(), &mut sink, &limits)
        .await
        .unwrap();
    assert_eq!((summary.rows, summary.pages), (3, 1));
    assert_eq!(sink.columns.as_deref(), Some(columns().as_slice()));
    assert_eq!(sink.numbers, vec![1, 2, 3]);
    let mut rows = sink.rows.clone();
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    assert_eq!(rows, expected_rows());

    let (source, secret) = db_source(
        &url,
        false,
        SourceQuery::Select(format!(
            "  select id, name as 名称, capital * 2 AS doubled FROM {table} WHERE id <= 2 ORDER BY id DESC"
        )),
    );
    let mut sink = Collect::default();
    let summary = pull(&source, secret.as_deref(), &mut sink, &limits)
        .await
        .unwrap();
    assert_eq!(summary.rows, 2);
    assert_eq!(sink.columns.unwrap(), strings(&["id", "名称", "doubled"]));
    assert_eq!(
        sink.rows,
        vec![
            strings(&["2", "O'Brien & Co, \"quoted\"", "-1.00"]),
            strings(&["1", "杭州市数据资源管理局", "2469135.78"]),
        ]
    );

    // Probe: the columns, and no rows read.
    let columns = probe(&source, secret.as_deref(), &limits).await.unwrap();
    assert_eq!(columns, strings(&["id", "名称", "doubled"]));

    // An empty result still names its columns.
    let (source, secret) = db_source(
        &url,
        false,
        SourceQuery::Select(format!("SELECT id, name FROM {table} WHERE false")),
    );
    let mut sink = Collect::default();
    let summary = pull(&source, secret.as_deref(), &mut sink, &limits)
        .await
        .unwrap();
    assert_eq!(summary.rows, 0);
    assert_eq!(sink.columns.unwrap(), strings(&["id", "name"]));

    // Too many rows.
    let (source, secret) = db_source(&url, false, SourceQuery::Table(table.clone()));
    let few = PullLimits {
        max_rows: 2,
        ..PullLimits::default()
    };
    let err = pull(&source, secret.as_deref(), &mut Collect::default(), &few)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.too_many_rows");

    drop_table(conn, &table).await;
}

#[tokio::test]
async fn col_1_postgres_refuses_writes() {
    let Some(url) = url() else { return };
    let (mut conn, table) = fill(&url).await;
    let limits = PullLimits::default();
    for refused in [
        format!("DELETE FROM {table}"),
        format!("SELECT * FROM {table}; DELETE FROM {table}"),
        format!("SELECT * FROM {table};"),
    ] {
        let (source, secret) = db_source(&url, false, SourceQuery::Select(refused.clone()));
        let err = pull(&source, secret.as_deref(), &mut Collect::default(), &limits)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "connector.query_refused", "{refused}");
    }
    // Passes the text check, but the read-only transaction stops it.
    let (source, secret) = db_source(
        &url,
        false,
        SourceQuery::Select(format!(
            "WITH gone AS (DELETE FROM {table} RETURNING id) SELECT * FROM gone"
        )),
    );
    let err = pull(&source, secret.as_deref(), &mut Collect::default(), &limits)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.query_refused", "{err}");
    let (count,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 3, "nothing was deleted");

    let (source, secret) = db_source(&url, false, SourceQuery::Table(format!("{table}_missing")));
    let err = probe(&source, secret.as_deref(), &limits)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.query_failed", "{err}");
    drop_table(conn, &table).await;
}

/// The query fails at its third row: the two rows before it were delivered.
#[tokio::test]
async fn col_1_postgres_failure_after_rows_is_source_failed_mid_pull() {
    let Some(url) = url() else { return };
    let (source, secret) = db_source(
        &url,
        false,
        SourceQuery::Select("SELECT n, 10 / (3 - n) AS q FROM generate_series(1, 5) AS n".into()),
    );
    let mut sink = Collect::default();
    let err = pull(
        &source,
        secret.as_deref(),
        &mut sink,
        &PullLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "connector.source_failed_mid_pull", "{err}");
    assert_eq!(sink.rows, vec![strings(&["1", "5"]), strings(&["2", "10"])]);
    assert!(
        err.message_zh().contains("数据源在读取第 2 行后断开"),
        "{}",
        err.message_zh()
    );
}

/// Rows reach the sink while the server is still producing them: a sink that
/// stops at row 1000 of twenty million ends the pull at once.
#[tokio::test]
async fn col_1_postgres_streams_rows_to_the_sink() {
    let Some(url) = url() else { return };
    let (source, secret) = db_source(
        &url,
        false,
        SourceQuery::Select("SELECT generate_series(1, 20000000) AS n".into()),
    );
    let mut sink = Collect {
        refuse_at: Some(1000),
        ..Collect::default()
    };
    let limits = PullLimits::default();
    let pulling = pull(&source, secret.as_deref(), &mut sink, &limits);
    let err = tokio::time::timeout(std::time::Duration::from_secs(60), pulling)
        .await
        .expect("the pull stops at row 1000 without reading the rest")
        .unwrap_err();
    assert_eq!(err.code(), "connector.sink_rejected");
    assert_eq!(sink.rows.len(), 999);
    assert_eq!(sink.rows[998], strings(&["999"]));
}

#[tokio::test]
async fn col_1_postgres_wrong_user_and_unreachable() {
    let limits = PullLimits {
        connect_timeout: std::time::Duration::from_secs(3),
        ..PullLimits::default()
    };
    let port = closed_port().await;
    let dead = PullSource::Postgres {
        host: "127.0.0.1".into(),
        port,
        database: "test".into(),
        user: "postgres".into(),
        query: SourceQuery::Table("t".into()),
        tls: DbTls::default(),
    };
    let err = probe(&dead, Some("pw-not-shown"), &limits)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.unreachable", "{err}");
    assert!(!format!("{err:?}").contains("pw-not-shown"));

    let Some(url) = url() else { return };
    let (mut source, _) = db_source(&url, false, SourceQuery::Table("t".into()));
    if let PullSource::Postgres { user, .. } = &mut source {
        *user = format!("nobody_{}", uuid::Uuid::new_v4().simple());
    }
    let err = probe(&source, Some("pw-not-shown"), &limits)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.auth_failed", "{err}");
    assert!(!format!("{err:?}{}", err.message_zh()).contains("pw-not-shown"));
}
