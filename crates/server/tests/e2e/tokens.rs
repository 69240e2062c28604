//! SEC-3: API tokens (bearer, revocable, expiring, never stronger than their issuer)
//! and login lockout after repeated wrong passwords.
use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::json;

use crate::common::TestServer;

async fn sec_3_revoked_and_expired_tokens_are_refused(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "psb.admin").await;
    let psb = admin.org_id.clone();
    let issue = |name: &'static str| {
        let admin = &admin;
        let psb = psb.clone();
        async move {
            let body = admin
                .post("/api/v1/tokens", json!({"org_id": psb, "name": name, "permissions": ["user.read"], "expires_in_days": 30}))
                .await
                .expect_status(201);
            (
                body["token"]["id"].as_str().expect("id").to_string(),
                body["secret"].as_str().expect("secret").to_string(),
            )
        }
    };

    let (id, secret) = issue("会被吊销").await;
    let token = srv.bearer(&secret);
    let users = token.get("/api/v1/users").await.expect_status(200);
    assert!(
        users.as_array().is_some_and(|u| !u.is_empty()),
        "the bearer token works: {users}"
    );
    let listed = admin.get("/api/v1/tokens").await.expect_status(200);
    assert!(
        listed.to_string().contains(&id) && !listed.to_string().contains(&secret),
        "listed, secret never shown again"
    );

    let revoked = admin
        .post(&format!("/api/v1/tokens/{id}/revoke"), json!({}))
        .await
        .expect_status(200);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    token
        .get("/api/v1/users")
        .await
        .expect_error(401, "auth.token_revoked");
    admin
        .post(&format!("/api/v1/tokens/{id}/revoke"), json!({}))
        .await
        .expect_error(409, "token.revoked");

    let (id, secret) = issue("会过期").await;
    let token = srv.bearer(&secret);
    token.get("/api/v1/users").await.expect_status(200);
    let raw = srv.raw().await;
    raw.set_token_expiry(&id, Utc::now() - Duration::minutes(1))
        .await;
    token
        .get("/api/v1/users")
        .await
        .expect_error(401, "auth.token_expired");
    raw.close().await;

    // A token never holds a permission its issuer lacks for that organisation.
    for perm in ["audit.verify", "org.create", "division.manage"] {
        let resp = admin
            .post("/api/v1/tokens", json!({"org_id": psb, "name": "越权", "permissions": ["user.read", perm], "expires_in_days": 30}))
            .await;
        resp.expect_error(403, "token.permission_exceeds_issuer");
    }
    admin
        .post(
            "/api/v1/tokens",
            json!({"org_id": psb, "name": "未知", "permissions": ["root"], "expires_in_days": 30}),
        )
        .await
        .expect_error(400, "token.unknown_permission");
    admin
        .post("/api/v1/tokens", json!({"org_id": psb, "name": "太久", "permissions": ["user.read"], "expires_in_days": 10_000}))
        .await
        .expect_error(400, "token.bad_expiry");
    let tokens = srv.app.store.list_tokens(Some(&psb)).await.expect("read");
    assert_eq!(tokens.len(), 2, "only the two good tokens were issued");
}
both_backends!(sec_3_revoked_and_expired_tokens_are_refused);

async fn sec_3_five_wrong_passwords_lock_the_account(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let user = "psb.registrar";
    let right = demo.password(user).to_string();
    let anon = srv.anon();
    let attempt = |password: String| {
        let anon = anon.clone();
        async move {
            anon.post(
                "/api/v1/auth/login",
                json!({"username": user, "password": password}),
            )
            .await
        }
    };
    for i in 1..=4 {
        attempt(format!("Wrong-{i}-password"))
            .await
            .expect_error(401, "auth.bad_credentials");
    }
    let resp = attempt("Wrong-5-password".into()).await;
    resp.expect_error(423, "auth.locked");
    assert!(
        resp.text.contains("UTC+8"),
        "the message says until when: {}",
        resp.text
    );
    let resp = attempt(right.clone()).await;
    resp.expect_error(423, "auth.locked");
    assert!(
        resp.headers.get("set-cookie").is_none(),
        "no session while locked"
    );

    let u = srv
        .app
        .store
        .get_user_by_username(user)
        .await
        .expect("read")
        .expect("user");
    assert!(
        u.locked_until.is_some_and(|t| t > Utc::now()),
        "locked for a while: {:?}",
        u.locked_until
    );

    // While locked even a wrong password gets 423; an unknown name still gets 401.
    attempt("whatever".into())
        .await
        .expect_error(423, "auth.locked");
    anon.post(
        "/api/v1/auth/login",
        json!({"username": "nobody", "password": "x"}),
    )
    .await
    .expect_error(401, "auth.bad_credentials");

    let auditor = srv.login_demo(&demo, "auditor").await;
    let lockouts = auditor
        .get(&format!(
            "/api/v1/audit?action=auth.lockout&object_id={}",
            u.id
        ))
        .await
        .expect_status(200);
    assert_eq!(lockouts.as_array().map(Vec::len), Some(1), "{lockouts}");
    assert_eq!(lockouts[0]["org_id"], u.org_id.as_str());
    let failed = auditor
        .get(&format!(
            "/api/v1/audit?action=auth.login_failed&object_id={}",
            u.id
        ))
        .await
        .expect_status(200);
    assert_eq!(failed.as_array().map(Vec::len), Some(4), "{failed}");
    let refused = auditor
        .get(&format!(
            "/api/v1/audit?action=auth.login_locked&object_id={}",
            u.id
        ))
        .await
        .expect_status(200);
    assert_eq!(
        refused.as_array().map(Vec::len),
        Some(2),
        "both attempts while locked are recorded: {refused}"
    );

    // An administrator's password reset unlocks the account.
    let admin = srv.login_demo(&demo, "psb.admin").await;
    let reset = admin
        .post(&format!("/api/v1/users/{}/reset-password", u.id), json!({}))
        .await
        .expect_status(200);
    let fresh = reset["password"].as_str().expect("password").to_string();
    srv.login(user, &fresh).await;
}
both_backends!(sec_3_five_wrong_passwords_lock_the_account);
