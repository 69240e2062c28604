//! Probes, the OpenAPI document (snapshot-tested so API changes are visible), the
//! working-day calendar (DESIGN 6) and identifier checks (COL-3).
use std::path::PathBuf;
use std::sync::Arc;

use crate::common::{Backend, TestServer};

async fn health_probes_answer(srv: Arc<TestServer>) {
    let anon = srv.anon();
    let alive = anon.get("/healthz").await.expect_status(200);
    assert_eq!(alive["status"], "ok");
    let ready = anon.get("/readyz").await.expect_status(200);
    assert_eq!(ready["status"], "ready");
    let expected = match srv.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(ready["store"], expected, "{ready}");
    let resp = anon.get("/healthz").await;
    assert_eq!(
        resp.headers
            .get("x-content-type-options")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("nosniff")
    );
    assert!(resp.headers.contains_key("x-request-id"));
    // A request id sent by the caller is kept, so a trace can be followed across systems.
    let rb = anon
        .request(reqwest::Method::GET, "/healthz")
        .header("x-request-id", "trace-abc-123");
    assert_eq!(crate::common::send(rb).await.request_id(), "trace-abc-123");
}
both_backends!(health_probes_answer);

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json")
}

/// The OpenAPI document is valid JSON describing the API, and matches the committed
/// snapshot: an API change shows up as a diff of `tests/snapshots/openapi.json`.
async fn openapi_document_matches_snapshot(srv: Arc<TestServer>) {
    let resp = srv.anon().get("/api/openapi.json").await;
    let content_type = resp
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let doc = resp.expect_status(200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "an OpenAPI 3 document"
    );
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/orgs",
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/auth/login",
    ] {
        assert!(paths.contains_key(p), "the document describes {p}");
    }
    assert!(paths["/api/v1/orgs"].get("post").is_some());
    assert!(
        doc.pointer("/components/schemas/ErrorBody").is_some(),
        "the error body is described"
    );
    assert!(doc.pointer("/components/securitySchemes/token").is_some());

    let actual = serde_json::to_string_pretty(&doc).expect("pretty") + "\n";
    let path = snapshot_path();
    let update = std::env::var("GONGSHU_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    if update || !path.exists() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("create snapshots dir");
        std::fs::write(&path, &actual).expect("write snapshot");
        eprintln!("note: wrote the OpenAPI snapshot {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("read snapshot");
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (e, a))| e != a)
            .map(|(i, (e, a))| {
                format!(
                    "first difference at line {}:\n  snapshot: {e}\n  server:   {a}",
                    i + 1
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "one is a prefix of the other ({} vs {} lines)",
                    expected.lines().count(),
                    actual.lines().count()
                )
            });
        panic!(
            "the OpenAPI document differs from {}\n{first}\nIf the API change is intended, accept it with:\n  \
             GONGSHU_UPDATE_SNAPSHOTS=1 cargo test -p gongshu-server --test e2e openapi\nand commit the snapshot.",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_snapshot_sqlite() {
    // The document does not depend on the store: one backend is enough, and one writer of the snapshot.
    crate::common::run(Backend::Sqlite, openapi_document_matches_snapshot).await;
}

async fn calendar_counts_official_working_days(srv: Arc<TestServer>) {
    let anon = srv.anon();
    // National Day 2025: 1–8 October off, Saturday 11 October worked.
    let d = anon
        .get("/api/v1/calendar/add-workdays?date=2025-09-30&n=1")
        .await
        .expect_status(200);
    assert_eq!(d["date"], "2025-10-09");
    let d = anon
        .get("/api/v1/calendar/add-workdays?date=2025-09-30&n=2")
        .await
        .expect_status(200);
    assert_eq!(d["date"], "2025-10-10");
    let d = anon
        .get("/api/v1/calendar/add-workdays?date=2025-10-10&n=1")
        .await
        .expect_status(200);
    assert_eq!(
        d["date"], "2025-10-11",
        "the adjusted Saturday is a working day"
    );
    let n = anon
        .get("/api/v1/calendar/workdays-between?from=2025-09-30&to=2025-10-10")
        .await
        .expect_status(200);
    assert_eq!(n["workdays"], 2);

    let resp = anon
        .get("/api/v1/calendar/add-workdays?date=2031-03-02&n=1")
        .await;
    let err = resp.expect_error(400, "calendar.no_table");
    assert!(
        err["message_en"]
            .as_str()
            .unwrap_or_default()
            .contains("2031"),
        "{err}"
    );

    let deadlines = anon.get("/api/v1/deadlines").await.expect_status(200);
    let list = deadlines.as_array().expect("list");
    assert!(!list.is_empty());
    for d in list {
        assert!(d["working_days"].as_u64().is_some_and(|n| n > 0), "{d}");
        assert!(
            d["requirement"].as_str().is_some_and(|r| !r.is_empty()),
            "each deadline names its requirement: {d}"
        );
    }
}
both_backends!(calendar_counts_official_working_days);

async fn col_3_identifier_checks_report_validity(srv: Arc<TestServer>) {
    let anon = srv.anon();
    let ok = anon
        .get("/api/v1/check/id-number/11010519491231002X")
        .await
        .expect_status(200);
    assert_eq!(ok["valid"], true, "{ok}");
    assert_eq!(ok["value"], "11010519491231002X");
    let lower = anon
        .get("/api/v1/check/id-number/11010519491231002x")
        .await
        .expect_status(200);
    assert_eq!(
        lower["valid"], true,
        "a lower-case check character is accepted: {lower}"
    );

    let bad = anon
        .get("/api/v1/check/id-number/110105194912310021")
        .await
        .expect_status(200);
    assert_eq!(bad["valid"], false, "{bad}");
    assert_eq!(bad["code"], "id.bad_check_character");
    for key in ["message", "message_en"] {
        assert!(
            bad[key].as_str().is_some_and(|m| !m.is_empty()),
            "the refusal explains itself: {bad}"
        );
    }
    assert!(bad["value"].is_null());

    let short = anon
        .get("/api/v1/check/id-number/1101051949")
        .await
        .expect_status(200);
    assert_eq!(short["valid"], false);
    assert_eq!(short["code"], "id.wrong_length");

    let division = anon
        .get("/api/v1/check/division-code/830102")
        .await
        .expect_status(200);
    assert_eq!(division["valid"], true);
    anon.get("/api/v1/check/passport/E12345678")
        .await
        .expect_error(404, "check.unknown_kind");
}
both_backends!(col_3_identifier_checks_report_validity);
