//! DESIGN 8: bad input gets a clear 4xx with a stable code and messages in 中文 and
//! English — never a panic or a 500 — and changes nothing.
use std::sync::Arc;

use serde_json::json;

use crate::common::{send, TestServer};

async fn bad_input_gets_a_clear_4xx_and_never_a_500(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "admin").await;
    let orgs_before = srv.app.store.count_orgs().await.expect("count");

    let resp = admin.post_raw("/api/v1/orgs", "{\"name\": \"半截").await;
    resp.expect_error(400, "input.malformed_json");
    let resp = admin
        .post_raw(
            "/api/v1/orgs",
            r#"{"name": 5, "kind": "government_department", "division_code": "830100"}"#,
        )
        .await;
    resp.expect_error(400, "input.invalid_json_fields");
    assert!(resp.text.contains("name"), "names the field: {}", resp.text);
    let resp = admin
        .post_raw("/api/v1/orgs", r#"{"name": "多字段", "kind": "government_department", "division_code": "830100", "colour": "red"}"#)
        .await;
    resp.expect_error(400, "input.invalid_json_fields");
    assert!(
        resp.text.contains("colour"),
        "names the unknown field: {}",
        resp.text
    );
    admin
        .post_raw("/api/v1/orgs", r#"{"name": "缺字段"}"#)
        .await
        .expect_error(400, "input.invalid_json_fields");
    admin
        .post_raw("/api/v1/orgs", "[1, 2]")
        .await
        .expect_error(400, "input.invalid_json_fields");
    admin
        .post_raw("/api/v1/orgs", "")
        .await
        .expect_error(400, "input.malformed_json");
    admin
        .post_raw("/api/v1/orgs", vec![b'{', 0xff, 0xfe, b'}'])
        .await
        .expect_error(400, "input.malformed_json");
    let deep = "[".repeat(100_000);
    let resp = admin.post_raw("/api/v1/orgs", deep).await;
    assert_eq!(
        resp.status, 400,
        "deeply nested JSON is refused, not a stack overflow: {}",
        resp.text
    );
    crate::common::assert_error_body(&resp.body, &resp.text);

    let plain = admin
        .request(reqwest::Method::POST, "/api/v1/orgs")
        .header("content-type", "text/plain")
        .body("{}");
    send(plain).await.expect_error(415, "input.content_type");

    // 2 MiB against the 1 MiB default limit.
    let big = format!(
        r#"{{"name": "{}", "kind": "government_department", "division_code": "830100"}}"#,
        "大".repeat(700_000)
    );
    assert!(big.len() > 2 * 1024 * 1024 - 100_000);
    let refused = admin.post_raw("/api/v1/orgs", big.clone()).await;
    // The unread body leaves the connection unusable; the reply says so.
    assert_eq!(
        refused.headers.get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    refused.expect_error(413, "input.too_large");
    srv.anon()
        .post_raw("/api/v1/auth/login", big)
        .await
        .expect_error(413, "input.too_large");

    // Valid JSON, invalid values: the service's own codes, with the field at fault.
    let long_name = "长".repeat(500);
    let cases = [
        (
            json!({"name": long_name, "kind": "government_department", "division_code": "830100"}),
            "input.too_long",
            "name",
        ),
        (
            json!({"name": " ", "kind": "government_department", "division_code": "830100"}),
            "input.required",
            "name",
        ),
        (
            json!({"name": "甲", "kind": "ministry", "division_code": "830100"}),
            "org.unknown_kind",
            "kind",
        ),
        (
            json!({"name": "甲", "kind": "government_department", "division_code": "83A100"}),
            "id.invalid_character",
            "division_code",
        ),
        (
            json!({"name": "甲", "kind": "government_department", "division_code": "830199"}),
            "org.division_missing",
            "division_code",
        ),
        (
            json!({"name": "甲", "kind": "government_department", "division_code": "830100", "credit_code": "91830100MA0000000Y"}),
            "id.bad_check_character",
            "credit_code",
        ),
    ];
    for (body, code, field) in cases {
        let resp = admin.post("/api/v1/orgs", body).await;
        let err = resp.expect_error(400, code);
        assert_eq!(err["field"], field, "{err}");
    }
    assert_eq!(
        srv.app.store.count_orgs().await.expect("count"),
        orgs_before,
        "no bad request created anything"
    );

    // Unknown API paths are JSON 404s; unknown ids are 404s too.
    for path in ["/api/v1/nothing-here", "/api/nothing", "/api/v2/orgs"] {
        srv.anon().get(path).await.expect_error(404, "not_found");
    }
    admin
        .post("/api/v1/nothing-here", json!({}))
        .await
        .expect_error(404, "not_found");
    // A known path with the wrong method is a JSON 405 that says which methods exist.
    let resp = admin.get("/api/v1/audit/verify").await;
    resp.expect_error(405, "method_not_allowed");
    assert_eq!(
        resp.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    send(admin.request(reqwest::Method::DELETE, "/api/v1/orgs"))
        .await
        .expect_error(405, "method_not_allowed");
    admin
        .get("/api/v1/orgs/00000000-0000-0000-0000-000000000000")
        .await
        .expect_error(404, "not_found");
    admin
        .get("/api/v1/users/%E4%B8%AD%E6%96%87")
        .await
        .expect_error(404, "not_found");
    admin
        .post("/api/v1/tokens/nope/revoke", json!({}))
        .await
        .expect_error(404, "not_found");

    // Query strings: wrong types and unknown parameters.
    let anon = srv.anon();
    anon.get("/api/v1/calendar/add-workdays?date=yesterday&n=1")
        .await
        .expect_error(400, "input.invalid_query");
    anon.get("/api/v1/calendar/add-workdays?date=2025-09-30&n=-1")
        .await
        .expect_error(400, "input.invalid_query");
    anon.get("/api/v1/calendar/add-workdays?date=2025-09-30")
        .await
        .expect_error(400, "input.invalid_query");
    anon.get("/api/v1/calendar/add-workdays?date=2025-09-30&n=1&x=2")
        .await
        .expect_error(400, "input.invalid_query");
    admin
        .get("/api/v1/audit?limit=lots")
        .await
        .expect_error(400, "input.invalid_query");
    admin
        .get("/api/v1/audit?from=monday")
        .await
        .expect_error(400, "input.invalid_query");
    admin
        .get("/api/v1/orgs/x/officers?history=maybe")
        .await
        .expect_error(400, "input.invalid_query");

    // A sweep of odd requests: whatever the answer, never a 5xx and always a proper error body.
    let odd: Vec<(reqwest::Method, String, Option<String>)> = vec![
        (reqwest::Method::POST, "/api/v1/users".into(), Some(r#"{"org_id": null}"#.into())),
        (reqwest::Method::POST, "/api/v1/users".into(), Some(r#"{"org_id": "x", "username": "a", "display_name": "b", "roles": []}"#.into())),
        (reqwest::Method::POST, "/api/v1/tokens".into(), Some(r#"{"org_id": "x", "name": "n", "permissions": ["org.read"], "expires_in_days": 1e99}"#.into())),
        (reqwest::Method::POST, "/api/v1/divisions".into(), Some(r#"{"code": "０１２３４５", "name": "全角"}"#.into())),
        (reqwest::Method::PATCH, "/api/v1/orgs/nope".into(), Some(r#"{"disabled": "yes"}"#.into())),
        (reqwest::Method::POST, "/api/v1/orgs/nope/processors".into(), Some(r#"{"processor_org_id": "p", "scope": "s", "purpose": "p", "starts_on": "2026-02-30", "ends_on": "2026-03-01"}"#.into())),
        (reqwest::Method::POST, "/api/v1/auth/login".into(), Some(r#"{"username": "admin"}"#.into())),
        (reqwest::Method::GET, "/api/v1/check/id-number/%00%01".into(), None),
        (reqwest::Method::GET, format!("/api/v1/check/credit-code/{}", "9".repeat(5000)), None),
        (reqwest::Method::GET, "/api/v1/calendar/workdays-between?from=2026-12-31&to=2025-01-01".into(), None),
        (reqwest::Method::GET, "/api/v1/calendar/add-workdays?date=2025-09-30&n=4294967295".into(), None),
    ];
    for (method, path, body) in odd {
        let mut rb = admin.request(method.clone(), &path);
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b);
        }
        let resp = send(rb).await;
        assert!(
            resp.status < 500,
            "{method} {path} answered {}: {}",
            resp.status,
            resp.text
        );
        if resp.status >= 400 {
            crate::common::assert_error_body(&resp.body, &resp.text);
        }
    }
    assert_eq!(
        srv.app.store.count_orgs().await.expect("count"),
        orgs_before
    );
    // The server is still healthy after all of it.
    srv.anon().get("/healthz").await.expect_status(200);
}
both_backends!(bad_input_gets_a_clear_4xx_and_never_a_500);
