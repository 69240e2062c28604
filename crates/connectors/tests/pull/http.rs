//! COL-1: HTTP JSON sources with paging, failures and limits.

use gongshu_connectors::{probe, pull, HttpPaging, PullLimits, PullSource, TrustedRoots};

use crate::common::{closed_port, serve, strings, Collect, Reply, TestPki};

fn source(url: String, records_path: &str, paging: HttpPaging) -> PullSource {
    PullSource::HttpJson {
        url,
        records_path: records_path.into(),
        paging,
        auth_header: None,
    }
}

fn page_number(size: u32) -> HttpPaging {
    HttpPaging::PageNumber {
        param: "page".into(),
        size_param: Some("size".into()),
        size,
    }
}

fn offset(limit: u32) -> HttpPaging {
    HttpPaging::Offset {
        offset_param: "offset".into(),
        limit_param: "limit".into(),
        limit,
    }
}

/// Six records of the people register, as JSON text with the keys in the
/// source's order (serde_json's `json!` would sort them).
fn people() -> Vec<String> {
    (1..=6)
        .map(|i| {
            if i == 4 {
                // A later record may lack keys, and order its keys differently.
                format!(r#"{{"名称":"单位{i}","id":{i}}}"#)
            } else {
                format!(
                    r#"{{"id":{i},"名称":"单位{i}","成立日期":"2020-01-0{i}","在册":{},"地址":{{"区":"西湖区","号":{i}}},"备注":null}}"#,
                    i % 2 == 0
                )
            }
        })
        .collect()
}

fn array(records: &[String]) -> String {
    format!("[{}]", records.join(","))
}

fn query_number(request: &crate::common::Request, name: &str) -> usize {
    request
        .query
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn col_1_http_page_number_paging_pulls_every_page() {
    let server = serve(|request| {
        assert_eq!(request.path, "/api/units");
        if request.headers.get("x-token").map(String::as_str) != Some("s3cret") {
            return Reply::Json(401, "{}".into());
        }
        let page = query_number(request, "page");
        let size = query_number(request, "size");
        let all = people();
        let items: Vec<_> = all
            .iter()
            .skip((page - 1) * size)
            .take(size)
            .cloned()
            .collect();
        Reply::Json(
            200,
            format!(r#"{{"code":0,"data":{{"items":{}}}}}"#, array(&items)),
        )
    })
    .await;
    let mut source = source(
        format!("{}/api/units?region=330106", server.base),
        "data.items",
        page_number(2),
    );
    if let PullSource::HttpJson { auth_header, .. } = &mut source {
        *auth_header = Some("X-Token".into());
    }
    let mut sink = Collect::default();
    let summary = pull(&source, Some("s3cret"), &mut sink, &PullLimits::default())
        .await
        .unwrap();
    assert_eq!(summary.rows, 6);
    assert_eq!(summary.pages, 4, "three full pages and the empty fourth");
    assert_eq!(
        sink.columns.unwrap(),
        strings(&["id", "名称", "成立日期", "在册", "地址", "备注"])
    );
    assert_eq!(sink.numbers, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(
        sink.rows[0],
        strings(&[
            "1",
            "单位1",
            "2020-01-01",
            "false",
            r#"{"区":"西湖区","号":1}"#,
            ""
        ])
    );
    assert_eq!(sink.rows[3], strings(&["4", "单位4", "", "", "", ""]));
    assert_eq!(sink.rows[5][3], "true");

    let requests = server.requests.lock().unwrap().clone();
    let pages: Vec<usize> = requests.iter().map(|r| query_number(r, "page")).collect();
    assert_eq!(pages, vec![1, 2, 3, 4]);
    assert!(requests
        .iter()
        .all(|r| r.query.get("region").map(String::as_str) == Some("330106")));
    assert!(requests
        .iter()
        .all(|r| r.query.get("size").map(String::as_str) == Some("2")));

    // Without the token the source says 401: auth failure, and the token is needed at all.
    let err = pull(
        &source,
        Some("wrong"),
        &mut Collect::default(),
        &PullLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "connector.auth_failed");
    assert!(!format!("{err:?}{err}{}", err.message_zh()).contains("wrong"));
    let err = pull(
        &source,
        None,
        &mut Collect::default(),
        &PullLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "connector.secret_missing");

    let columns = probe(&source, Some("s3cret"), &PullLimits::default())
        .await
        .unwrap();
    assert_eq!(
        columns,
        strings(&["id", "名称", "成立日期", "在册", "地址", "备注"])
    );
}

#[tokio::test]
async fn col_1_http_offset_paging_stops_on_a_short_page() {
    let server = serve(|request| {
        let offset = query_number(request, "offset");
        let limit = query_number(request, "limit");
        let items: Vec<_> = people().into_iter().skip(offset).take(limit).collect();
        Reply::Json(200, array(&items))
    })
    .await;
    let mut sink = Collect::default();
    let summary = pull(
        &source(format!("{}/units", server.base), "", offset(4)),
        None,
        &mut sink,
        &PullLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!((summary.rows, summary.pages), (6, 2));
    assert_eq!(sink.rows.len(), 6);
    let offsets: Vec<usize> = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| query_number(r, "offset"))
        .collect();
    assert_eq!(offsets, vec![0, 4]);

    // An exact multiple ends with one empty page.
    let mut sink = Collect::default();
    let summary = pull(
        &source(format!("{}/units", server.base), "", offset(3)),
        None,
        &mut sink,
        &PullLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!((summary.rows, summary.pages), (6, 3));
}

#[tokio::test]
async fn col_1_http_single_page_and_empty_source() {
    let server = serve(|request| match request.path.as_str() {
        "/all" => Reply::Json(200, array(&people())),
        _ => Reply::Json(200, r#"{"rows":[]}"#.into()),
    })
    .await;
    let mut sink = Collect::default();
    let summary = pull(
        &source(format!("{}/all", server.base), "", HttpPaging::None),
        None,
        &mut sink,
        &PullLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!((summary.rows, summary.pages), (6, 1));

    let mut sink = Collect::default();
    let summary = pull(
        &source(format!("{}/none", server.base), "rows", HttpPaging::None),
        None,
        &mut sink,
        &PullLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.rows, 0);
    assert_eq!(sink.columns, Some(vec![]));
}

/// The source fails on page 2: the first page's rows were delivered, and the
/// error tells the caller to discard them.
#[tokio::test]
async fn col_1_http_failure_on_page_2_is_source_failed_mid_pull() {
    for close in [false, true] {
        let server = serve(move |request| {
            let page = query_number(request, "page");
            if page >= 2 {
                return if close {
                    Reply::Close
                } else {
                    Reply::Json(500, r#"{"error":"db down"}"#.into())
                };
            }
            Reply::Json(200, array(&people()[..2]))
        })
        .await;
        let mut sink = Collect::default();
        let err = pull(
            &source(format!("{}/units", server.base), "", page_number(2)),
            None,
            &mut sink,
            &PullLimits::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.code(),
            "connector.source_failed_mid_pull",
            "close={close}: {err}"
        );
        assert_eq!(sink.rows.len(), 2, "the first page was delivered");
        match &err {
            gongshu_connectors::ConnectorError::SourceFailedMidPull { rows, .. } => {
                assert_eq!(*rows, 2)
            }
            other => panic!("{other:?}"),
        }
        assert!(err.message_zh().contains("数据源在读取第 2 行后断开"));
        assert!(err.message_en().contains("the source failed after 2 rows"));
        assert!(err.is_transient());

        // The same failure on page 1 means the source is unreachable.
        let server_first = serve(move |_| {
            if close {
                Reply::Close
            } else {
                Reply::Json(503, "{}".into())
            }
        })
        .await;
        let err = pull(
            &source(format!("{}/units", server_first.base), "", page_number(2)),
            None,
            &mut Collect::default(),
            &PullLimits::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "connector.unreachable", "close={close}: {err}");
    }
}

#[tokio::test]
async fn col_1_http_bad_pages_are_refused_with_the_reason() {
    let server = serve(|request| match request.path.as_str() {
        "/extra-key" => Reply::Json(
            200,
            r#"[{"id":1,"名称":"甲"},{"id":2,"名称":"乙","电话":"0571"}]"#.into(),
        ),
        "/not-json" => Reply::Json(200, "<html>".into()),
        "/not-array" => Reply::Json(200, r#"{"data":{"items":{"id":1}}}"#.into()),
        "/not-object" => Reply::Json(200, "[1, 2]".into()),
        "/big" => Reply::Json(200, format!("[{{\"x\":\"{}\"}}]", "a".repeat(5000))),
        // Ignores the paging parameter: the same page forever.
        _ => Reply::Json(200, r#"[{"id":1}]"#.into()),
    })
    .await;
    let pull_path = |path: &str, records_path: &str, paging: HttpPaging, limits: PullLimits| {
        let source = source(format!("{}{path}", server.base), records_path, paging);
        async move {
            let mut sink = Collect::default();
            let result = pull(&source, None, &mut sink, &limits).await;
            (result, sink)
        }
    };
    let (result, sink) = pull_path("/extra-key", "", HttpPaging::None, PullLimits::default()).await;
    let err = result.unwrap_err();
    assert_eq!(err.code(), "connector.bad_page");
    assert!(err.to_string().contains("电话"), "{err}");
    assert!(err.message_zh().contains("电话"));
    assert_eq!(sink.rows.len(), 1);

    for (path, records_path) in [
        ("/not-json", ""),
        ("/not-array", "data.items"),
        ("/not-array", "data.rows"),
        ("/not-object", ""),
    ] {
        let (result, _) =
            pull_path(path, records_path, HttpPaging::None, PullLimits::default()).await;
        assert_eq!(
            result.unwrap_err().code(),
            "connector.bad_page",
            "{path} {records_path}"
        );
    }

    let small = PullLimits {
        max_page_bytes: 1000,
        ..PullLimits::default()
    };
    let (result, _) = pull_path("/big", "", HttpPaging::None, small).await;
    assert_eq!(result.unwrap_err().code(), "connector.page_too_large");

    let (result, _) = pull_path("/same", "", page_number(1), PullLimits::default()).await;
    let err = result.unwrap_err();
    assert_eq!(err.code(), "connector.bad_page");
    assert!(err.to_string().contains("repeats"), "{err}");

    let few_pages = PullLimits {
        max_pages: 1,
        ..PullLimits::default()
    };
    let (result, _) = pull_path("/same", "", page_number(1), few_pages).await;
    assert_eq!(result.unwrap_err().code(), "connector.too_many_pages");
}

#[tokio::test]
async fn col_1_http_limits_and_sink_refusal_stop_the_pull() {
    let server = serve(|_| Reply::Json(200, array(&people()))).await;
    let all = source(format!("{}/all", server.base), "", HttpPaging::None);
    let few_rows = PullLimits {
        max_rows: 5,
        ..PullLimits::default()
    };
    let mut sink = Collect::default();
    let err = pull(&all, None, &mut sink, &few_rows).await.unwrap_err();
    assert_eq!(err.code(), "connector.too_many_rows");
    assert_eq!(sink.rows.len(), 5);

    let mut sink = Collect {
        refuse_at: Some(3),
        ..Collect::default()
    };
    let err = pull(&all, None, &mut sink, &PullLimits::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.sink_rejected");
    assert!(err.to_string().contains("row 3"), "{err}");
    assert_eq!(sink.rows.len(), 2);
}

#[tokio::test]
async fn col_1_http_unreachable_source() {
    let port = closed_port().await;
    let limits = PullLimits {
        connect_timeout: std::time::Duration::from_secs(2),
        ..PullLimits::default()
    };
    let dead = source(format!("http://127.0.0.1:{port}/x"), "", HttpPaging::None);
    let err = pull(&dead, None, &mut Collect::default(), &limits)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connector.unreachable");
    assert!(err.message_zh().starts_with("无法连接数据源"));
    let err = probe(&dead, None, &limits).await.unwrap_err();
    assert_eq!(err.code(), "connector.unreachable");

    // No TLS failure where no connection was made.
    let https = source(format!("https://127.0.0.1:{port}/x"), "", HttpPaging::None);
    let err = probe(&https, None, &limits).await.unwrap_err();
    assert_eq!(err.code(), "connector.unreachable");
}

/// An https source whose certificate an internal authority issued.
async fn tls_source(pki: &TestPki) -> (crate::common::Server, PullSource) {
    let server = pki
        .serve(|request| {
            if request.headers.get("x-token").map(String::as_str) != Some("s3cret") {
                return Reply::Json(401, "{}".into());
            }
            Reply::Json(200, array(&people()))
        })
        .await;
    let mut source = source(format!("{}/api/units", server.base), "", HttpPaging::None);
    if let PullSource::HttpJson { auth_header, .. } = &mut source {
        *auth_header = Some("X-Token".into());
    }
    (server, source)
}

#[tokio::test]
async fn col_1_https_source_is_pulled_when_its_authority_is_trusted() {
    let pki = TestPki::new();
    let (server, source) = tls_source(&pki).await;
    assert!(server.base.starts_with("https://"));
    let limits = PullLimits {
        roots: TrustedRoots::with_pem(pki.ca_pem.clone().into_bytes()).unwrap(),
        ..PullLimits::default()
    };
    let mut sink = Collect::default();
    let summary = pull(&source, Some("s3cret"), &mut sink, &limits)
        .await
        .unwrap();
    assert_eq!(summary.rows, 6);
    assert_eq!(sink.rows[0][1], "单位1");
    assert_eq!(
        probe(&source, Some("s3cret"), &limits).await.unwrap(),
        strings(&["id", "名称", "成立日期", "在册", "地址", "备注"])
    );
    // The token went over the encrypted connection.
    assert_eq!(server.requests.lock().unwrap().len(), 2);
}

/// A source whose certificate changes between pages (a second server behind the
/// same address, say) fails on the page whose handshake fails. Rows already
/// taken make it a source that failed mid-pull, so they are discarded.
#[tokio::test]
async fn col_1_https_certificate_failing_on_page_2_fails_the_pull_mid_way() {
    let pki = TestPki::new();
    let impostor = TestPki::new();
    let server = pki
        .serve_then_switch(&impostor, |request| {
            let page = request.query.get("page").map(String::as_str);
            let records = match page {
                Some("1") => people()[..3].to_vec(),
                _ => Vec::new(),
            };
            Reply::Json(200, array(&records))
        })
        .await;
    let paging = HttpPaging::PageNumber {
        param: "page".into(),
        size_param: None,
        size: 3,
    };
    let source = source(format!("{}/api/units", server.base), "", paging);
    let limits = PullLimits {
        roots: TrustedRoots::with_pem(pki.ca_pem.clone().into_bytes()).unwrap(),
        ..PullLimits::default()
    };
    let mut sink = Collect::default();
    let err = pull(&source, None, &mut sink, &limits).await.unwrap_err();
    assert_eq!(err.code(), "connector.source_failed_mid_pull", "{err:?}");
    let detail = format!("{err}");
    assert!(
        detail.contains("page 2") && detail.contains("certificate"),
        "{detail}"
    );
    assert_eq!(sink.rows.len(), 3);
    // Only the first page's request reached the server: page 2 stopped in the handshake.
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn col_1_https_source_with_an_untrusted_certificate_fails_before_any_request() {
    let pki = TestPki::new();
    let (server, source) = tls_source(&pki).await;
    // Only the system's store: no one there issued the test authority.
    for limits in [
        PullLimits::default(),
        PullLimits {
            roots: TrustedRoots::with_pem(TestPki::new().ca_pem.into_bytes()).unwrap(),
            ..PullLimits::default()
        },
    ] {
        let err = pull(&source, Some("s3cret"), &mut Collect::default(), &limits)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "connector.tls_failed", "{err:?}");
        assert!(!err.is_transient(), "retrying will not help: {err:?}");
        assert!(err.message_zh().contains("ca_file"), "{}", err.message_zh());
        assert!(
            err.message_en().contains("certificate"),
            "{}",
            err.message_en()
        );
        assert!(!err.message_en().contains("s3cret"));
        let err = probe(&source, Some("s3cret"), &limits).await.unwrap_err();
        assert_eq!(err.code(), "connector.tls_failed", "{err:?}");
    }
    assert!(
        server.requests.lock().unwrap().is_empty(),
        "no request, and so no token, reached the server"
    );
}
