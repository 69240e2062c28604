//! ORG-1 division tree, ORG-3 filed officers with history, ORG-4 processor authorisations.
use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::common::TestServer;

async fn org_1_division_needs_its_parent_registered(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "admin").await;
    let resp = admin
        .post(
            "/api/v1/divisions",
            json!({"code": "840100", "name": "无上级市"}),
        )
        .await;
    let err = resp.expect_error(400, "division.parent_missing");
    assert_eq!(err["field"], "code");
    assert!(
        err["message_en"]
            .as_str()
            .unwrap_or_default()
            .contains("840000"),
        "names the missing parent: {err}"
    );
    assert!(srv
        .app
        .store
        .get_division("840100")
        .await
        .expect("read")
        .is_none());

    admin
        .post(
            "/api/v1/divisions",
            json!({"code": "8301", "name": "坏代码"}),
        )
        .await
        .expect_error(400, "id.wrong_length");

    // Under a registered parent it is accepted and placed in the tree.
    let d = admin
        .post(
            "/api/v1/divisions",
            json!({"code": "830122", "name": "新设县"}),
        )
        .await
        .expect_status(200);
    assert_eq!(d["parent_code"], "830100");
    assert_eq!(d["level"], "county");
    let d = admin
        .post(
            "/api/v1/divisions",
            json!({"code": "830122101", "name": "新设镇"}),
        )
        .await
        .expect_status(200);
    assert_eq!(d["parent_code"], "830122");

    // Only a holder of division.manage may change the tree.
    let member = srv.login_demo(&demo, "psb.admin").await;
    member
        .post(
            "/api/v1/divisions",
            json!({"code": "830123", "name": "越权县"}),
        )
        .await
        .expect_error(403, "auth.denied");
}
both_backends!(org_1_division_needs_its_parent_registered);

fn holders<'a>(list: &'a Value, role: &str) -> Vec<&'a Value> {
    list.as_array()
        .expect("list")
        .iter()
        .filter(|o| o["role"] == role)
        .collect()
}

async fn org_3_filing_a_new_officer_ends_the_previous_term(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "psb.admin").await;
    let psb = admin.org_id.clone();
    let path = format!("/api/v1/orgs/{psb}/officers");

    let first = admin
        .post(
            &path,
            json!({"role": "security_officer", "person_name": "张一", "phone": "0830-6000001"}),
        )
        .await
        .expect_status(201);
    assert!(first["ended_at"].is_null());
    let second = admin
        .post(&path, json!({"role": "security_officer", "person_name": "李二", "email": "li@example.invalid"}))
        .await
        .expect_status(201);

    let current = admin.get(&path).await.expect_status(200);
    let now_holding = holders(&current, "security_officer");
    assert_eq!(
        now_holding.len(),
        1,
        "one current holder per role: {current}"
    );
    assert_eq!(now_holding[0]["id"], second["id"]);
    assert_eq!(now_holding[0]["person_name"], "李二");
    assert_eq!(
        holders(&current, "chief_data_officer").len(),
        1,
        "other roles are untouched"
    );

    let history = admin
        .get(&format!("{path}?history=true"))
        .await
        .expect_status(200);
    let all = holders(&history, "security_officer");
    // The seed filed one holder before these two.
    assert_eq!(all.len(), 3, "history keeps every holder: {history}");
    let first_now = all
        .iter()
        .find(|o| o["id"] == first["id"])
        .expect("first holder in history");
    assert_eq!(first_now["person_name"], "张一");
    assert_eq!(
        first_now["ended_at"], second["appointed_at"],
        "the first term ends when the second begins"
    );
    let second_now = all
        .iter()
        .find(|o| o["id"] == second["id"])
        .expect("second holder in history");
    assert!(second_now["ended_at"].is_null());
    assert_eq!(all.iter().filter(|o| o["ended_at"].is_null()).count(), 1);

    admin
        .post(&path, json!({"role": "janitor", "person_name": "王三"}))
        .await
        .expect_error(400, "officer.unknown_role");
    admin
        .post(
            &path,
            json!({"role": "security_officer", "person_name": "  "}),
        )
        .await
        .expect_error(400, "input.required");
    admin
        .post(
            &path,
            json!({"role": "security_officer", "person_name": "王三", "user_id": "no-such-user"}),
        )
        .await
        .expect_error(400, "officer.user_not_in_org");
    assert_eq!(
        holders(
            &admin
                .get(&format!("{path}?history=true"))
                .await
                .expect_status(200),
            "security_officer"
        )
        .len(),
        3
    );

    // The replacement is audited with the previous holder as "before".
    let auditor = srv.login_demo(&demo, "auditor").await;
    let id = second["id"].as_str().expect("id");
    let rec = auditor
        .get(&format!("/api/v1/audit?action=officer.file&object_id={id}"))
        .await
        .expect_status(200);
    assert!(
        rec[0]["before"]
            .as_str()
            .is_some_and(|b| b.contains("张一")),
        "{rec}"
    );
}
both_backends!(org_3_filing_a_new_officer_ends_the_previous_term);

async fn org_4_processor_authorisation_is_pending_until_filed_and_revocable(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "psb.admin").await;
    let psb = admin.org_id.clone();
    let processor = srv.org_id("云川数据处理服务有限公司").await;
    let civil = srv.org_id("云川市民政局").await;
    let today = Utc::now().date_naive();
    let body = |processor_org_id: &str| {
        json!({"processor_org_id": processor_org_id, "scope": "户籍数据清洗", "purpose": "数据治理",
               "starts_on": today.to_string(), "ends_on": (today + Duration::days(90)).to_string()})
    };
    let path = format!("/api/v1/orgs/{psb}/processors");

    admin
        .post(&path, body(&civil))
        .await
        .expect_error(400, "processor.wrong_kind");
    let mut reversed = body(&processor);
    reversed["ends_on"] = json!((today - Duration::days(1)).to_string());
    admin
        .post(&path, reversed)
        .await
        .expect_error(400, "processor.bad_term");
    admin
        .post(
            &format!("/api/v1/orgs/{civil}/processors"),
            body(&processor),
        )
        .await
        .expect_error(403, "auth.denied");

    let p = admin.post(&path, body(&processor)).await.expect_status(201);
    assert_eq!(p["status"], "pending_filing");
    assert!(p["filing_no"].is_null());
    let id = p["id"].as_str().expect("id").to_string();

    // The department cannot file its own authorisation; the authority does.
    admin
        .post(
            &format!("/api/v1/processors/{id}/file"),
            json!({"filing_no": "SELF-1"}),
        )
        .await
        .expect_error(403, "auth.denied");
    let authority = srv.login_demo(&demo, "authority").await;
    let filed = authority
        .post(
            &format!("/api/v1/processors/{id}/file"),
            json!({"filing_no": "YC-2026-007"}),
        )
        .await
        .expect_status(200);
    assert_eq!(filed["status"], "filed");
    assert_eq!(filed["filing_no"], "YC-2026-007");
    assert_eq!(filed["filed_by"], format!("user:{}", authority.user_id));
    authority
        .post(
            &format!("/api/v1/processors/{id}/file"),
            json!({"filing_no": "YC-2026-008"}),
        )
        .await
        .expect_error(409, "processor.not_pending");

    let listed = admin.get(&path).await.expect_status(200);
    assert!(
        listed
            .as_array()
            .expect("list")
            .iter()
            .any(|x| x["id"] == id.as_str() && x["status"] == "filed"),
        "{listed}"
    );

    admin
        .post(
            &format!("/api/v1/processors/{id}/revoke"),
            json!({"reason": " "}),
        )
        .await
        .expect_error(400, "input.required");
    let revoked = admin
        .post(
            &format!("/api/v1/processors/{id}/revoke"),
            json!({"reason": "项目提前结束"}),
        )
        .await
        .expect_status(200);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoke_reason"], "项目提前结束");
    assert!(revoked["revoked_at"].is_string());
    admin
        .post(
            &format!("/api/v1/processors/{id}/revoke"),
            json!({"reason": "再撤"}),
        )
        .await
        .expect_error(409, "processor.revoked");

    let stored = srv
        .app
        .store
        .get_processor(&id)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(stored.status, "revoked");
    assert_eq!(
        stored.filing_no.as_deref(),
        Some("YC-2026-007"),
        "the filing stays on record"
    );
}
both_backends!(org_4_processor_authorisation_is_pending_until_filed_and_revocable);
