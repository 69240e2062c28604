//! GOV-5, SEC-3: every change is audited with who, for which organisation, on what,
//! under which request; the hash chain names tampering; no audit, no change.
use std::sync::Arc;

use gongshu_domain::audit::{AuditDraft, ChainFault};
use gongshu_services::audit::verify_chain;
use gongshu_services::identity::{self, NewUser};
use gongshu_services::orgs::{self, NewDivision};
use gongshu_services::Ctx;
use gongshu_store::AuditFilter;
use serde_json::{json, Value};

use crate::common::TestServer;

/// The one audit record of `action` on `object_id`, as the auditor sees it.
async fn audit_record(auditor: &crate::common::Http, action: &str, object_id: &str) -> Value {
    let list = auditor
        .get(&format!(
            "/api/v1/audit?action={action}&object_id={object_id}"
        ))
        .await
        .expect_status(200);
    let list = list.as_array().expect("audit list").clone();
    assert_eq!(
        list.len(),
        1,
        "exactly one {action} record for {object_id}: {list:?}"
    );
    list[0].clone()
}

/// The "Done when": the demo admin creates a department, a user in it and an
/// API token; the auditor finds each change with actor, organisation, object and the
/// request id the server returned, and the chain verifies.
async fn gov_5_admin_changes_are_audited_with_actor_org_object_and_request_id(
    srv: Arc<TestServer>,
) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "admin").await;

    let resp = admin
        .post(
            "/api/v1/orgs",
            json!({"name": "云川市测试数据管理局", "name_en": "Test Bureau", "kind": "government_department", "division_code": "830100"}),
        )
        .await;
    let org_rid = resp.request_id();
    let org = resp.expect_status(201);
    let org_id = org["id"].as_str().expect("org id").to_string();

    let resp = admin
        .post(
            "/api/v1/users",
            json!({"org_id": org_id, "username": "test.clerk", "display_name": "测试 文员", "roles": ["member"]}),
        )
        .await;
    let user_rid = resp.request_id();
    let created = resp.expect_status(201);
    let user_id = created["user"]["id"].as_str().expect("user id").to_string();
    assert_eq!(created["user"]["org_id"], org_id.as_str());
    assert!(
        created["generated_password"]
            .as_str()
            .is_some_and(|p| p.len() >= 10),
        "a password is generated once"
    );
    assert!(
        created["user"].get("password_hash").is_none(),
        "the hash never leaves the server"
    );

    let resp = admin
        .post(
            "/api/v1/tokens",
            json!({"org_id": org_id, "name": "测试系统", "permissions": ["org.read"], "expires_in_days": 30}),
        )
        .await;
    let token_rid = resp.request_id();
    let issued = resp.expect_status(201);
    let token_id = issued["token"]["id"]
        .as_str()
        .expect("token id")
        .to_string();
    assert!(
        issued["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("gs_")),
        "the secret is returned once"
    );
    assert!(issued["token"].get("token_hash").is_none());

    let distinct = [&org_rid, &user_rid, &token_rid];
    assert!(
        distinct[0] != distinct[1] && distinct[1] != distinct[2],
        "each request gets its own id"
    );

    let auditor = srv.login_demo(&demo, "auditor").await;
    let actor = format!("user:{}", admin.user_id);
    let org_rec = audit_record(&auditor, "org.create", &org_id).await;
    let user_rec = audit_record(&auditor, "user.create", &user_id).await;
    let token_rec = audit_record(&auditor, "token.create", &token_id).await;
    for (rec, object_type, rid) in [
        (&org_rec, "organization", &org_rid),
        (&user_rec, "user", &user_rid),
        (&token_rec, "api_token", &token_rid),
    ] {
        assert_eq!(rec["actor"], actor.as_str(), "{rec}");
        assert_eq!(rec["actor_user_id"], admin.user_id.as_str(), "{rec}");
        assert_eq!(
            rec["org_id"],
            org_id.as_str(),
            "the record names the organisation acted on: {rec}"
        );
        assert_eq!(rec["object_type"], object_type, "{rec}");
        assert_eq!(
            rec["request_id"],
            rid.as_str(),
            "the record carries the response's x-request-id: {rec}"
        );
        assert_eq!(
            rec["hash"].as_str().map(str::len),
            Some(64),
            "SM3 hex: {rec}"
        );
    }
    let seqs: Vec<i64> = [&org_rec, &user_rec, &token_rec]
        .iter()
        .map(|r| r["seq"].as_i64().expect("seq"))
        .collect();
    assert!(
        seqs[0] < seqs[1] && seqs[1] < seqs[2],
        "records are chained in order: {seqs:?}"
    );
    assert!(
        user_rec["after"]
            .as_str()
            .is_some_and(|a| a.contains("test.clerk")),
        "after-summary names the user"
    );
    assert!(
        !user_rec["after"]
            .as_str()
            .unwrap_or_default()
            .contains("argon2"),
        "no password hash in the trail"
    );

    // Looked up by request id, the token's record is the only one of that request.
    let by_rid = auditor
        .get(&format!("/api/v1/audit?request_id={token_rid}"))
        .await
        .expect_status(200);
    assert_eq!(by_rid.as_array().map(Vec::len), Some(1), "{by_rid}");
    assert_eq!(by_rid[0]["object_id"], token_id.as_str());

    let report = auditor
        .post("/api/v1/audit/verify", json!({}))
        .await
        .expect_status(200);
    assert_eq!(report["ok"], true, "{report}");
    assert!(
        report["checked"].as_i64().unwrap_or(0) >= seqs[2],
        "{report}"
    );
    assert_eq!(report["head_seq"], report["checked"], "{report}");

    // Separation of duties: the administrator cannot verify the trail it is audited by.
    admin
        .post("/api/v1/audit/verify", json!({}))
        .await
        .expect_error(403, "auth.denied");
}
both_backends!(gov_5_admin_changes_are_audited_with_actor_org_object_and_request_id);

/// Some audited changes made at the command line (cheap: no passwords to hash).
async fn make_records(srv: &TestServer) -> i64 {
    let ctx = Ctx::cli();
    for (code, name) in [
        ("830000", "示范省"),
        ("830100", "云川市"),
        ("830102", "东湖区"),
        ("830121", "青山县"),
        ("830102001", "湖滨街道"),
    ] {
        let input = NewDivision {
            code: code.into(),
            name: name.into(),
            name_en: String::new(),
            hosts_node: false,
        };
        orgs::upsert_division(&srv.app, &ctx, input)
            .await
            .expect("division");
    }
    let report = verify_chain(&srv.app).await.expect("verify");
    assert!(report.ok, "fresh chain verifies: {}", report.message_en);
    assert_eq!(report.checked, 5);
    5
}

async fn gov_5_altered_audit_record_is_named(srv: Arc<TestServer>) {
    let n = make_records(&srv).await;
    let raw = srv.raw().await;
    assert_eq!(
        raw.exec("UPDATE audit_log SET action = 'x' WHERE seq = 3")
            .await,
        1
    );
    let report = verify_chain(&srv.app).await.expect("verify");
    assert!(!report.ok);
    assert_eq!(
        report.fault,
        Some(ChainFault::ContentAltered { seq: 3 }),
        "{}",
        report.message_en
    );
    assert_eq!(report.checked, 2, "records before the fault still verify");
    assert!(
        report.message.contains("#3") && report.message_en.contains("#3"),
        "{} / {}",
        report.message,
        report.message_en
    );

    // The auditor sees the same through the API.
    let ctx = Ctx::cli();
    let operator = orgs::create_org(
        &srv.app,
        &ctx,
        orgs::NewOrg {
            name: "审计室".into(),
            name_en: String::new(),
            kind: "platform_operator".into(),
            division_code: "830100".into(),
            credit_code: None,
            parent_id: None,
        },
    )
    .await
    .expect("org");
    let password = "Audit-Pass-2026";
    let input = NewUser {
        org_id: operator.id,
        username: "auditor".into(),
        display_name: "审计员".into(),
        roles: vec!["auditor".into()],
        password: Some(password.into()),
    };
    identity::create_user(&srv.app, &ctx, input)
        .await
        .expect("auditor");
    let auditor = srv.login("auditor", password).await;
    let report = auditor
        .post("/api/v1/audit/verify", json!({}))
        .await
        .expect_status(200);
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(
        report["fault"],
        json!({"kind": "content_altered", "seq": 3}),
        "{report}"
    );

    // Restoring the original content makes the chain whole again.
    raw.exec("UPDATE audit_log SET action = 'division.create' WHERE seq = 3")
        .await;
    let report = verify_chain(&srv.app).await.expect("verify");
    assert!(report.ok, "{}", report.message_en);
    assert!(report.checked > n as u64);
    raw.close().await;
}
both_backends!(gov_5_altered_audit_record_is_named);

async fn gov_5_deleted_audit_record_is_named(srv: Arc<TestServer>) {
    make_records(&srv).await;
    let raw = srv.raw().await;
    assert_eq!(raw.exec("DELETE FROM audit_log WHERE seq = 2").await, 1);
    let report = verify_chain(&srv.app).await.expect("verify");
    assert_eq!(
        report.fault,
        Some(ChainFault::Missing {
            expected_seq: 2,
            found_seq: 3
        }),
        "{}",
        report.message_en
    );
    assert!(!report.ok);
    raw.close().await;
}
both_backends!(gov_5_deleted_audit_record_is_named);

async fn gov_5_deleted_newest_audit_record_is_caught_by_the_head(srv: Arc<TestServer>) {
    let n = make_records(&srv).await;
    let raw = srv.raw().await;
    assert_eq!(
        raw.exec(&format!("DELETE FROM audit_log WHERE seq = {n}"))
            .await,
        1
    );
    let report = verify_chain(&srv.app).await.expect("verify");
    assert_eq!(
        report.fault,
        Some(ChainFault::HeadMismatch {
            head_seq: n,
            last_seq: n - 1
        }),
        "{}",
        report.message_en
    );
    raw.close().await;
}
both_backends!(gov_5_deleted_newest_audit_record_is_caught_by_the_head);

async fn gov_5_swapped_audit_records_are_named(srv: Arc<TestServer>) {
    make_records(&srv).await;
    let page = srv.app.store.audit_page(0, 100).await.expect("page");
    let (r2, r4) = (page[1].clone(), page[3].clone());
    assert_eq!((r2.seq, r4.seq), (2, 4));
    assert_ne!(r2.draft, r4.draft);
    let raw = srv.raw().await;
    raw.overwrite_audit_content(2, &r4.draft).await;
    raw.overwrite_audit_content(4, &r2.draft).await;
    let report = verify_chain(&srv.app).await.expect("verify");
    assert_eq!(
        report.fault,
        Some(ChainFault::ContentAltered { seq: 2 }),
        "{}",
        report.message_en
    );
    assert_eq!(report.checked, 1);
    raw.close().await;
}
both_backends!(gov_5_swapped_audit_records_are_named);

/// DESIGN 3: if the audit record cannot be written, the change is not made.
async fn gov_5_change_fails_closed_when_audit_cannot_be_written(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "admin").await;
    let before = verify_chain(&srv.app).await.expect("verify");
    let new_user = json!({"org_id": admin.org_id, "username": "unaudited", "display_name": "无审计", "roles": ["member"]});

    let raw = srv.raw().await;
    raw.break_audit_inserts().await;
    let resp = admin.post("/api/v1/users", new_user.clone()).await;
    assert!(
        resp.status >= 500,
        "a write without its audit record must fail: {} {}",
        resp.status,
        resp.text
    );
    resp.expect_error(503, "store.unavailable");
    assert!(
        !resp.text.contains("audit log unwritable"),
        "database details stay in the log: {}",
        resp.text
    );
    let resp = admin
        .post("/api/v1/orgs", json!({"name": "无审计单位", "kind": "government_department", "division_code": "830100"}))
        .await;
    resp.expect_error(503, "store.unavailable");

    assert!(
        srv.app
            .store
            .get_user_by_username("unaudited")
            .await
            .expect("read")
            .is_none(),
        "the user was not created"
    );
    let orgs = srv
        .app
        .store
        .list_orgs(&gongshu_store::OrgFilter {
            q: Some("无审计单位".into()),
            ..Default::default()
        })
        .await
        .expect("read");
    assert!(orgs.is_empty(), "the organisation was not created");
    let users = admin
        .get(&format!("/api/v1/users?org_id={}", admin.org_id))
        .await
        .expect_status(200);
    assert!(!users.to_string().contains("unaudited"));

    // Once the audit log is writable again the same request succeeds: nothing half-written remains.
    raw.repair_audit_inserts().await;
    admin
        .post("/api/v1/users", new_user)
        .await
        .expect_status(201);
    let after = verify_chain(&srv.app).await.expect("verify");
    assert!(after.ok, "{}", after.message_en);
    assert_eq!(
        after.checked,
        before.checked + 1,
        "exactly one record was added: the successful user.create"
    );
    raw.close().await;
}
both_backends!(gov_5_change_fails_closed_when_audit_cannot_be_written);

/// 60 records over 3 organisations, 4 actors, 2 actions and 5 objects.
fn varied_drafts() -> Vec<AuditDraft> {
    let start = chrono::Utc::now() - chrono::Duration::minutes(10);
    (0..60)
        .map(|i| AuditDraft {
            at: start + chrono::Duration::seconds(i),
            actor: format!("token:t{}", i % 4),
            actor_user_id: None,
            org_id: Some(format!("org-{}", i % 3)),
            action: if i % 2 == 0 {
                "share.rows.read"
            } else {
                "share.grant.suspend"
            }
            .into(),
            object_type: "resource".into(),
            object_id: Some(format!("res-{}", i % 5)),
            before: None,
            after: Some(format!("{{\"n\":{i}}}")),
            request_id: Some(format!("req-{i}")),
        })
        .collect()
}

/// The filters an auditor uses, each with the seqs it must return (newest first).
fn filters_and_expected() -> Vec<(AuditFilter, Vec<i64>)> {
    let seqs = |keep: &dyn Fn(i64) -> bool| -> Vec<i64> {
        (1..=60).rev().filter(|s| keep(s - 1)).collect()
    };
    vec![
        (AuditFilter::default(), seqs(&|_| true)),
        (
            AuditFilter {
                org_id: Some("org-1".into()),
                ..Default::default()
            },
            seqs(&|i| i % 3 == 1),
        ),
        (
            AuditFilter {
                actor: Some("token:t2".into()),
                ..Default::default()
            },
            seqs(&|i| i % 4 == 2),
        ),
        (
            AuditFilter {
                action: Some("share.grant.".into()),
                ..Default::default()
            },
            seqs(&|i| i % 2 == 1),
        ),
        (
            AuditFilter {
                object_type: Some("resource".into()),
                object_id: Some("res-3".into()),
                org_id: Some("org-0".into()),
                ..Default::default()
            },
            seqs(&|i| i % 5 == 3 && i % 3 == 0),
        ),
        (
            AuditFilter {
                before_seq: Some(31),
                limit: Some(7),
                ..Default::default()
            },
            (24..=30).rev().collect(),
        ),
        (
            AuditFilter {
                org_id: Some("org-2".into()),
                limit: Some(4),
                ..Default::default()
            },
            seqs(&|i| i % 3 == 2).into_iter().take(4).collect(),
        ),
    ]
}

async fn assert_filters_complete(srv: &TestServer, stage: &str) {
    for (filter, expected) in filters_and_expected() {
        let found: Vec<i64> = srv
            .app
            .store
            .list_audit(&filter)
            .await
            .expect("list audit")
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(found, expected, "{stage}: {filter:?}");
    }
}

/// Appends touch only the primary key; the lookup indexes catch up in batches.
/// Whatever the index mark, a filtered query returns every matching record once.
async fn gov_5_audit_queries_are_complete_wherever_the_index_mark_stands(srv: Arc<TestServer>) {
    let store = &srv.app.store;
    store.commit(vec![], varied_drafts()).await.expect("append");
    assert_eq!(store.audit_index_state().await.expect("state").upto_seq, 0);
    assert_filters_complete(&srv, "nothing indexed").await;

    assert_eq!(store.index_audit(25).await.expect("index"), 25);
    let state = store.audit_index_state().await.expect("state");
    assert_eq!(state.upto_seq, 25);
    assert!(state.consistent(), "{state:?}");
    assert_filters_complete(&srv, "indexed up to 25").await;

    assert_eq!(
        gongshu_services::audit::index_pending(&srv.app)
            .await
            .expect("index"),
        35
    );
    assert_eq!(store.index_audit(100).await.expect("index"), 0, "caught up");
    assert_eq!(store.audit_index_state().await.expect("state").upto_seq, 60);
    assert_filters_complete(&srv, "all indexed").await;
    let report = verify_chain(&srv.app).await.expect("verify");
    assert!(
        report.ok && report.index_mismatches == 0,
        "{}",
        report.message_en
    );
}
both_backends!(gov_5_audit_queries_are_complete_wherever_the_index_mark_stands);

/// Deleting a record's lookup entry would hide it from filtered queries while the
/// chain still holds; verification reports it.
async fn gov_5_tampered_audit_lookup_fails_verification(srv: Arc<TestServer>) {
    make_records(&srv).await;
    gongshu_services::audit::index_pending(&srv.app)
        .await
        .expect("index");
    let hidden = AuditFilter {
        action: Some("division.create".into()),
        ..Default::default()
    };
    assert_eq!(
        srv.app.store.list_audit(&hidden).await.expect("list").len(),
        5
    );
    let raw = srv.raw().await;
    assert_eq!(
        raw.exec("DELETE FROM audit_by_action WHERE seq = 2").await,
        1
    );
    assert_eq!(
        srv.app.store.list_audit(&hidden).await.expect("list").len(),
        4,
        "the tampered lookup hides the record"
    );

    let report = verify_chain(&srv.app).await.expect("verify");
    assert!(!report.ok, "{}", report.message_en);
    assert_eq!(report.fault, None, "the chain itself holds");
    assert_eq!(report.index_mismatches, 1);
    assert!(report.message.contains("查询索引"), "{}", report.message);

    // An entry that files a record under the wrong key is caught as well.
    raw.exec("INSERT INTO audit_by_action (action, seq) VALUES ('division.create', 2)")
        .await;
    raw.exec("UPDATE audit_by_org SET org_id = 'someone-else' WHERE seq = 3")
        .await;
    let report = verify_chain(&srv.app).await.expect("verify");
    assert!(!report.ok);
    assert_eq!(
        report.index_mismatches, 2,
        "one record missing from a lookup, one entry astray: {}",
        report.message_en
    );

    raw.exec("UPDATE audit_by_org SET org_id = '' WHERE seq = 3")
        .await;
    assert!(verify_chain(&srv.app).await.expect("verify").ok);
    raw.close().await;
}
both_backends!(gov_5_tampered_audit_lookup_fails_verification);
