//! SEC-3: default deny. A department's administrator, and its tokens, act only for
//! that department; members cannot administer; strangers get 401; sessions need CSRF.
use std::sync::Arc;

use serde_json::json;

use crate::common::TestServer;

const PSB: &str = "云川市公安局";
const CIVIL: &str = "云川市民政局";

async fn sec_3_user_of_department_a_cannot_act_for_department_b(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let (psb, civil) = (srv.org_id(PSB).await, srv.org_id(CIVIL).await);
    let admin_a = srv.login_demo(&demo, "psb.admin").await;
    assert_eq!(admin_a.org_id, psb);

    // Control: in its own department the administrator may do each of these.
    admin_a
        .post("/api/v1/users", json!({"org_id": psb, "username": "psb.clerk", "display_name": "公安 文员", "roles": ["member"]}))
        .await
        .expect_status(201);

    let resp = admin_a
        .post("/api/v1/users", json!({"org_id": civil, "username": "civil.intruder", "display_name": "越权", "roles": ["member"]}))
        .await;
    resp.expect_error(403, "auth.denied");
    assert!(srv
        .app
        .store
        .get_user_by_username("civil.intruder")
        .await
        .expect("read")
        .is_none());

    let resp = admin_a
        .post("/api/v1/tokens", json!({"org_id": civil, "name": "越权令牌", "permissions": ["org.read"], "expires_in_days": 30}))
        .await;
    resp.expect_error(403, "auth.denied");
    assert!(srv
        .app
        .store
        .list_tokens(Some(&civil))
        .await
        .expect("read")
        .is_empty());

    let officers_before = srv
        .app
        .store
        .list_officers(&civil, true)
        .await
        .expect("read")
        .len();
    let resp = admin_a
        .post(
            &format!("/api/v1/orgs/{civil}/officers"),
            json!({"role": "security_officer", "person_name": "冒名"}),
        )
        .await;
    resp.expect_error(403, "auth.denied");
    assert_eq!(
        srv.app
            .store
            .list_officers(&civil, true)
            .await
            .expect("read")
            .len(),
        officers_before
    );

    admin_a
        .patch(&format!("/api/v1/orgs/{civil}"), json!({"name": "改名"}))
        .await
        .expect_error(403, "auth.denied");
    admin_a
        .get(&format!("/api/v1/users?org_id={civil}"))
        .await
        .expect_error(403, "auth.denied");

    // Audit: B's records exist (the auditor sees them), yet A's administrator sees only A's.
    let auditor = srv.login_demo(&demo, "auditor").await;
    let b_records = auditor
        .get(&format!("/api/v1/audit?org_id={civil}"))
        .await
        .expect_status(200);
    assert!(
        !b_records.as_array().expect("list").is_empty(),
        "department B has audit records"
    );
    for query in [
        "/api/v1/audit".to_string(),
        format!("/api/v1/audit?org_id={civil}"),
        "/api/v1/audit?limit=1000".into(),
    ] {
        let seen = admin_a.get(&query).await.expect_status(200);
        let seen = seen.as_array().expect("list");
        assert!(!seen.is_empty(), "A's own records are listed for {query}");
        for r in seen {
            assert_eq!(
                r["org_id"],
                psb.as_str(),
                "{query} leaked a record of another organisation: {r}"
            );
        }
    }
}
both_backends!(sec_3_user_of_department_a_cannot_act_for_department_b);

async fn sec_3_token_scoped_to_department_a_cannot_act_for_department_b(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let (psb, civil) = (srv.org_id(PSB).await, srv.org_id(CIVIL).await);
    let admin_a = srv.login_demo(&demo, "psb.admin").await;
    let issued = admin_a
        .post("/api/v1/tokens", json!({"org_id": psb, "name": "人事系统", "permissions": ["user.manage"], "expires_in_days": 7}))
        .await
        .expect_status(201);
    let token = srv.bearer(issued["secret"].as_str().expect("secret"));
    let token_id = issued["token"]["id"].as_str().expect("id").to_string();

    // Bearer calls need no CSRF token; in A the token works.
    let created = token
        .post("/api/v1/users", json!({"org_id": psb, "username": "psb.system", "display_name": "系统创建", "roles": ["member"]}))
        .await
        .expect_status(201);
    assert_eq!(created["user"]["org_id"], psb.as_str());

    token
        .post("/api/v1/users", json!({"org_id": civil, "username": "civil.bytoken", "display_name": "越权", "roles": ["member"]}))
        .await
        .expect_error(403, "auth.denied");
    assert!(srv
        .app
        .store
        .get_user_by_username("civil.bytoken")
        .await
        .expect("read")
        .is_none());
    // A token holds only what it was given: no audit reading, no org creation.
    token
        .get("/api/v1/audit")
        .await
        .expect_error(403, "auth.denied");
    token
        .post("/api/v1/orgs", json!({"name": "令牌建单位", "kind": "government_department", "division_code": "830100"}))
        .await
        .expect_error(403, "auth.denied");
    // An org administrator cannot hand out cross-organisation roles, even in its own org.
    token
        .post("/api/v1/users", json!({"org_id": psb, "username": "psb.fakeauditor", "display_name": "假审计", "roles": ["auditor"]}))
        .await
        .expect_error(403, "user.role_not_grantable");

    // The token's action is audited as the token, for A.
    let auditor = srv.login_demo(&demo, "auditor").await;
    let uid = created["user"]["id"].as_str().expect("id");
    let recs = auditor
        .get(&format!("/api/v1/audit?action=user.create&object_id={uid}"))
        .await
        .expect_status(200);
    assert_eq!(recs[0]["actor"], format!("token:{token_id}"), "{recs}");
    assert_eq!(recs[0]["org_id"], psb.as_str());
}
both_backends!(sec_3_token_scoped_to_department_a_cannot_act_for_department_b);

async fn sec_3_member_cannot_create_orgs_and_strangers_must_authenticate(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let new_org =
        json!({"name": "无权单位", "kind": "government_department", "division_code": "830100"});
    let member = srv.login_demo(&demo, "developer").await;
    member
        .post("/api/v1/orgs", new_org.clone())
        .await
        .expect_error(403, "auth.denied");
    member
        .get("/api/v1/audit")
        .await
        .expect_error(403, "auth.denied");
    member.get("/api/v1/orgs").await.expect_status(200);

    let anon = srv.anon();
    for path in [
        "/api/v1/orgs",
        "/api/v1/me",
        "/api/v1/audit",
        "/api/v1/users",
        "/api/v1/tokens",
    ] {
        anon.get(path).await.expect_error(401, "auth.required");
    }
    anon.post("/api/v1/orgs", new_org.clone())
        .await
        .expect_error(401, "auth.required");
    anon.post("/api/v1/audit/verify", json!({}))
        .await
        .expect_error(401, "auth.required");
    srv.bearer("gs_not_a_real_token")
        .get("/api/v1/orgs")
        .await
        .expect_error(401, "auth.bad_token");
    let basic = anon
        .request(reqwest::Method::GET, "/api/v1/orgs")
        .header("authorization", "Basic YWRtaW46YWRtaW4=");
    crate::common::send(basic)
        .await
        .expect_error(401, "auth.required");
    let forged = anon
        .request(reqwest::Method::GET, "/api/v1/me")
        .header("cookie", "gongshu_session=forged");
    crate::common::send(forged)
        .await
        .expect_error(401, "auth.required");

    let orgs = srv
        .app
        .store
        .list_orgs(&gongshu_store::OrgFilter {
            q: Some("无权单位".into()),
            ..Default::default()
        })
        .await
        .expect("read");
    assert!(orgs.is_empty(), "no organisation was created");
}
both_backends!(sec_3_member_cannot_create_orgs_and_strangers_must_authenticate);

async fn sec_3_session_post_without_csrf_token_is_refused(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "admin").await;
    let new_org =
        json!({"name": "跨站单位", "kind": "government_department", "division_code": "830100"});

    admin
        .without_csrf
        .post("/api/v1/orgs", new_org.clone())
        .await
        .expect_error(403, "auth.csrf");
    let wrong = admin
        .without_csrf
        .request(reqwest::Method::POST, "/api/v1/orgs")
        .header("x-csrf-token", "0".repeat(32))
        .json(&new_org);
    crate::common::send(wrong)
        .await
        .expect_error(403, "auth.csrf");
    admin
        .without_csrf
        .post("/api/v1/auth/logout", json!({}))
        .await
        .expect_error(403, "auth.csrf");
    // Safe methods need no CSRF token.
    admin
        .without_csrf
        .get("/api/v1/me")
        .await
        .expect_status(200);
    let orgs = srv
        .app
        .store
        .list_orgs(&gongshu_store::OrgFilter {
            q: Some("跨站单位".into()),
            ..Default::default()
        })
        .await
        .expect("read");
    assert!(
        orgs.is_empty(),
        "no organisation was created without the CSRF token"
    );

    // With the token the same request goes through; after logout the session is gone.
    admin.post("/api/v1/orgs", new_org).await.expect_status(201);
    let resp = admin.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    admin
        .get("/api/v1/me")
        .await
        .expect_error(401, "auth.required");
    // The old cookie, replayed, is refused: the session ended on the server, not just in the client.
    let replay = srv
        .anon()
        .request(reqwest::Method::GET, "/api/v1/me")
        .header("cookie", &admin.cookie);
    crate::common::send(replay)
        .await
        .expect_error(401, "auth.required");
}
both_backends!(sec_3_session_post_without_csrf_token_is_refused);

async fn sec_3_disabling_an_organisation_ends_its_sessions_and_tokens(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let psb = srv.org_id(PSB).await;
    let platform = srv.login_demo(&demo, "admin").await;
    let admin_a = srv.login_demo(&demo, "psb.admin").await;
    let other = srv.login_demo(&demo, "civil.admin").await;
    let issued = admin_a
        .post("/api/v1/tokens", json!({"org_id": psb, "name": "对接系统", "permissions": ["user.read"], "expires_in_days": 7}))
        .await
        .expect_status(201);
    let token = srv.bearer(issued["secret"].as_str().expect("secret"));
    token.get("/api/v1/users").await.expect_status(200);

    let org = platform
        .patch(&format!("/api/v1/orgs/{psb}"), json!({"disabled": true}))
        .await
        .expect_status(200);
    assert_eq!(org["disabled"], true);
    admin_a
        .get("/api/v1/me")
        .await
        .expect_error(401, "auth.required");
    admin_a
        .post("/api/v1/users", json!({"org_id": psb, "username": "psb.late", "display_name": "停用后", "roles": ["member"]}))
        .await
        .expect_error(401, "auth.required");
    assert!(srv
        .app
        .store
        .get_user_by_username("psb.late")
        .await
        .expect("read")
        .is_none());
    token
        .get("/api/v1/users")
        .await
        .expect_error(401, "auth.bad_token");
    srv.anon()
        .post(
            "/api/v1/auth/login",
            json!({"username": "psb.security", "password": demo.password("psb.security")}),
        )
        .await
        .expect_error(401, "auth.disabled");
    // Other organisations are unaffected.
    other.get("/api/v1/me").await.expect_status(200);

    platform
        .patch(&format!("/api/v1/orgs/{psb}"), json!({"disabled": false}))
        .await
        .expect_status(200);
    srv.login_demo(&demo, "psb.security").await;
}
both_backends!(sec_3_disabling_an_organisation_ends_its_sessions_and_tokens);

/// SEC-3: the session cookie is HttpOnly and SameSite=Strict (Secure only over TLS).
async fn sec_3_login_sets_an_http_only_strict_session_cookie(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resp = reqwest::Client::new()
        .post(srv.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": demo.password("admin")}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 200);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_string();
    assert!(cookie.starts_with("gongshu_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
}
both_backends!(sec_3_login_sets_an_http_only_strict_session_cookie);

/// SEC-3, ORG-2: 数据局 is the authority and also a department with data of its
/// own (电子证照基础信息). The demo's `authority` coordinates every department's
/// matters and handles its own department's like any department administrator,
/// but holds no other department's duties.
async fn sec_3_demo_authority_also_runs_its_own_department(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let authority = srv.login_demo(&demo, "authority").await;
    let me = authority.get("/api/v1/me").await.expect_status(200);
    let grants = me["grants"].as_array().expect("grants").clone();
    let held = |permission: &str, scope: &str| {
        grants
            .iter()
            .any(|g| g["permission"] == permission && g["scope"] == scope)
    };
    assert!(held("open_coordinate", "global"), "{grants:?}");
    for own in ["data_load", "share_decide", "open_review"] {
        assert!(held(own, "own_org"), "{own}: {grants:?}");
        assert!(!held(own, "global"), "{own} only for its own department");
    }
    let resources = crate::data::data_resources(&srv).await;
    let household = &resources["household"];
    let denied = crate::common::send(
        authority
            .request(
                reqwest::Method::POST,
                &format!(
                    "/api/v1/datasets/{}/loads?file_name=household.csv",
                    household.code
                ),
            )
            .header("content-type", "application/octet-stream")
            .body("公民身份号码\n".as_bytes().to_vec()),
    )
    .await;
    denied.expect_error(403, "auth.denied");
}
both_backends!(sec_3_demo_authority_also_runs_its_own_department);
