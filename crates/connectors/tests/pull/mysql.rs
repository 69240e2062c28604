//! COL-1: pulling from MySQL/MariaDB. Runs when `GONGSHU_TEST_MYSQL_URL` is set
//! (e.g. `mysql://root@127.0.0.1:3306/test`).

use gongshu_connectors::{probe, pull, PullLimits, PullSource, SourceQuery};
use sqlx::{Connection, Executor, MySqlConnection};

use crate::common::{closed_port, db_source, strings, table_name, Collect};

fn url() -> Option<String> {
    match std::env::var("GONGSHU_TEST_MYSQL_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("GONGSHU_TEST_MYSQL_URL is not set: skipping the MySQL pull test");
            None
        }
    }
}

async fn fill(url: &str) -> (MySqlConnection, String) {
    let mut conn = MySqlConnection::connect(url).await.unwrap();
    let table = table_name();
    conn.execute(
        format!(
            "CREATE TABLE {table} (
                id INT PRIMARY KEY,
                name VARCHAR(100) NOT NULL,
                code VARCHAR(20) COLLATE utf8mb4_bin,
                founded DATE,
                note TEXT,
                capital DECIMAL(14, 2),
                active BOOLEAN,
                updated DATETIME(2),
                seal VARBINARY(8),
                flags BIT(4),
                staff BIGINT
            ) DEFAULT CHARSET = utf8mb4"
        )
        .as_str(),
    )
    .await
    .unwrap();
    conn.execute(
        format!(
            "INSERT INTO {table} VALUES
              (1, '杭州市数据资源管理局', 'ZJ-杭州', '2017-05-01', NULL, 1234567.89, TRUE,
               '2024-03-01 08:30:00', X'00FF10', b'1010', 120),
              (2, 'O''Brien & Co, \"quoted\"', NULL, '1999-12-31', '备注：第二行', -0.5, FALSE,
               '2024-03-01 08:30:00.25', NULL, NULL, -9007199254740993),
              (3, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        )
        .as_str(),
    )
    .await
    .unwrap();
    (conn, table)
}

async fn drop_table(mut conn: MySqlConnection, table: &str) {
    conn.execute(format!("DROP TABLE IF EXISTS {table}").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn col_1_mysql_pulls_a_table_and_a_select() {
    let Some(url) = url() else { return };
    let (conn, table) = fill(&url).await;
    let limits = PullLimits::default();

    let (source, secret) = db_source(&url, true, SourceQuery::Table(table.clone()));
    let mut sink = Collect::default();
    let summary = pull(&source, secret.as_deref(), &mut sink, &limits)
        .await
        .unwrap();
    assert_eq!((summary.rows, summary.pages), (3, 1));
    assert_eq!(
        sink.columns.unwrap(),
        strings(&[
            "id", "name", "code", "founded", "note", "capital", "active", "updated", "seal",
            "flags", "staff"
        ])
    );
    let mut rows = sink.rows.clone();
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    assert_eq!(
        rows,
        vec![
            strings(&[
                "1",
                "杭州市数据资源管理局",
                "ZJ-杭州",
                "2017-05-01",
                "",
                "1234567.89",
                "true",
                "2024-03-01T08:30:00.00",
                "00ff10",
                "10",
                "120",
            ]),
            strings(&[
                "2",
                "O'Brien & Co, \"quoted\"",
                "",
                "1999-12-31",
                "备注：第二行",
                "-0.50",
                "false",
                "2024-03-01T08:30:00.25",
                "",
                "",
                "-9007199254740993",
            ]),
            strings(&["3", "", "", "", "", "", "", "", "", "", ""]),
        ]
    );

    let (source, secret) = db_source(
        &url,
        true,
        SourceQuery::Select(format!(
            "select id, name AS 名称, capital * 2 AS doubled FROM {table} WHERE id <= 2 ORDER BY id DESC"
        )),
    );
    let mut sink = Collect::default();
    pull(&source, secret.as_deref(), &mut sink, &limits)
        .await
        .unwrap();
    assert_eq!(sink.columns.unwrap(), strings(&["id", "名称", "doubled"]));
    assert_eq!(
        sink.rows,
        vec![
            strings(&["2", "O'Brien & Co, \"quoted\"", "-1.00"]),
            strings(&["1", "杭州市数据资源管理局", "2469135.78"]),
        ]
    );
    let columns = probe(&source, secret.as_deref(), &limits).await.unwrap();
    assert_eq!(columns, strings(&["id", "名称", "doubled"]));

    // In a SELECT, text with a binary collation is still text, bytes are hex.
    let (source, secret) = db_source(
        &url,
        true,
        SourceQuery::Select(format!("SELECT code, seal FROM {table} WHERE id = 1")),
    );
    let mut sink = Collect::default();
    pull(&source, secret.as_deref(), &mut sink, &limits)
        .await
        .unwrap();
    assert_eq!(sink.rows, vec![strings(&["ZJ-杭州", "00ff10"])]);

    // `database.table` works too, and an empty result still names its columns.
    let database = url.rsplit('/').next().unwrap().to_string();
    let (source, secret) = db_source(
        &url,
        true,
        SourceQuery::Select(format!(
            "SELECT id, name FROM {database}.{table} WHERE 1 = 0"
        )),
    );
    let mut sink = Collect::default();
    assert_eq!(
        pull(&source, secret.as_deref(), &mut sink, &limits)
            .await
            .unwrap()
            .rows,
        0
    );
    assert_eq!(sink.columns.unwrap(), strings(&["id", "name"]));

    drop_table(conn, &table).await;
}

#[tokio::test]
async fn col_1_mysql_refuses_writes_and_reports_failures() {
    let Some(url) = url() else { return };
    let (conn, table) = fill(&url).await;
    let limits = PullLimits {
        connect_timeout: std::time::Duration::from_secs(3),
        ..PullLimits::default()
    };
    for refused in [
        format!("DELETE FROM {table}"),
        format!("SELECT 1; DELETE FROM {table}"),
        format!("SELECT * FROM {table} INTO OUTFILE '/tmp/x'"),
    ] {
        let (source, secret) = db_source(&url, true, SourceQuery::Select(refused.clone()));
        let err = pull(&source, secret.as_deref(), &mut Collect::default(), &limits)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "connector.query_refused", "{refused}");
    }

    let (source, secret) = db_source(&url, true, SourceQuery::Table(format!("{table}_missing")));
    let err = probe(&source, secret.as_deref(), &limits)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.query_failed", "{err}");

    let (mut source, _) = db_source(&url, true, SourceQuery::Table(table.clone()));
    if let PullSource::MySql { user, .. } = &mut source {
        *user = format!("nobody_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    }
    let err = probe(&source, Some("pw-not-shown"), &limits)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.auth_failed", "{err}");
    assert!(!format!("{err:?}{}", err.message_zh()).contains("pw-not-shown"));

    let port = closed_port().await;
    if let PullSource::MySql { port: p, .. } = &mut source {
        *p = port;
    }
    let err = probe(&source, None, &limits).await.unwrap_err();
    assert_eq!(err.code(), "connector.unreachable", "{err}");

    drop_table(conn, &table).await;
}
