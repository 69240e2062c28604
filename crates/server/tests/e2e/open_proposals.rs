//! OPN-1 (HZ 31–34): a conditional or not-open entry names its criterion from the
//! regulation's list with its basis; the authority may propose another open type,
//! the source agrees or disagrees with reasons, and the government's decision on a
//! dispute is recorded.
use std::sync::Arc;

use serde_json::json;

use crate::common::TestServer;

async fn seeded(srv: &TestServer) -> crate::common::Demo {
    let demo = srv.seed_demo().await;
    gongshu_services::demo_open::seed_open(&srv.app)
        .await
        .expect("open demo datasets");
    demo
}

async fn open_code(srv: &TestServer, q: &str) -> String {
    let found = srv
        .anon()
        .get(&format!("/api/v1/open/datasets?q={q}&limit=100"))
        .await
        .expect_status(200);
    found["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["content"]["name"].as_str().unwrap_or("").contains(q))
        .unwrap_or_else(|| panic!("an open dataset named like {q}: {found}"))["code"]
        .as_str()
        .expect("code")
        .to_string()
}

/// The field errors of a refused save (400), as (field, code).
fn error_codes(resp: crate::common::Resp) -> Vec<(String, String)> {
    assert_eq!(resp.status, 400, "{}", resp.text);
    resp.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").to_string(),
                        e["code"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn opn_1_restricted_opening_names_its_criterion_from_hz_32_33_with_a_basis(
    srv: Arc<TestServer>,
) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let entry = |open_type: &str, reason: Option<&str>, basis: &str| {
        json!({
            "name": "治安卡口过车记录", "summary": "卡口过车记录", "category": "business",
            "domain": "public_safety", "format": "database", "source_org_id": registrar.org_id,
            "items": [{"name": "号牌号码", "code_name": "plate_no", "field_type": "string", "length": 10}],
            "share_type": "unconditional", "share_modes": ["api"],
            "open_type": open_type, "open_conditions": "实名申请", "open_reason": reason,
            "open_basis": basis, "update_frequency": "daily", "grade": "general", "sensitivity": "l2"
        })
    };
    let missing = registrar
        .post("/api/v1/catalog", entry("not_open", None, "含个人信息"))
        .await;
    assert_eq!(
        error_codes(missing),
        [(
            "open_reason".to_string(),
            "catalog.open_reason_required".to_string()
        )]
    );
    let wrong_list = registrar
        .post(
            "/api/v1/catalog",
            entry("conditional", Some("state_secret"), "依据"),
        )
        .await;
    assert_eq!(
        error_codes(wrong_list),
        [(
            "open_reason".to_string(),
            "catalog.open_reason_mismatch".to_string()
        )]
    );
    let no_basis = registrar
        .post(
            "/api/v1/catalog",
            entry("conditional", Some("heavy_load"), ""),
        )
        .await;
    assert_eq!(
        error_codes(no_basis),
        [(
            "open_basis".to_string(),
            "catalog.open_basis_required".to_string()
        )]
    );
    let unconditional = registrar
        .post(
            "/api/v1/catalog",
            entry("unconditional", Some("heavy_load"), ""),
        )
        .await;
    assert_eq!(
        error_codes(unconditional),
        [(
            "open_reason".to_string(),
            "catalog.open_reason_mismatch".to_string()
        )]
    );
    let saved = registrar
        .post(
            "/api/v1/catalog",
            entry(
                "conditional",
                Some("heavy_load"),
                "每日过车记录逾千万条，须限流",
            ),
        )
        .await
        .expect_status(201);
    assert_eq!(saved["working"]["open_reason"], "heavy_load");
}
both_backends!(opn_1_restricted_opening_names_its_criterion_from_hz_32_33_with_a_basis);

async fn opn_1_the_authority_proposes_the_source_answers_and_the_government_decides_a_dispute(
    srv: Arc<TestServer>,
) {
    let demo = seeded(&srv).await;
    let authority = srv.login_demo(&demo, "authority").await;
    let health = srv.login_demo(&demo, "health.admin").await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let clinics = open_code(&srv, "医疗机构").await;
    let outpatient = open_code(&srv, "门诊量统计").await;
    let propose = |code: &str| format!("/api/v1/catalog/{code}/open-type-proposals");

    // Only the authority proposes, and a restricted type needs its criterion.
    health
        .post(
            &propose(&clinics),
            json!({"proposed_type": "conditional", "proposed_reason": "heavy_load", "rationale": "x"}),
        )
        .await
        .expect_status(403);
    authority
        .post(
            &propose(&clinics),
            json!({"proposed_type": "conditional", "rationale": "访问量过大"}),
        )
        .await
        .expect_error(400, "catalog.open_reason_required");
    authority
        .post(
            &propose(&clinics),
            json!({"proposed_type": "unconditional", "rationale": "已是无条件开放"}),
        )
        .await
        .expect_error(400, "open.proposal_same_type");
    let disputed = authority
        .post(
            &propose(&clinics),
            json!({"proposed_type": "conditional", "proposed_reason": "heavy_load",
                   "rationale": "名录被高频抓取，挤占平台资源"}),
        )
        .await
        .expect_status(201);
    let id = disputed["id"].as_str().unwrap().to_string();
    assert_eq!(disputed["status"], "proposed");
    assert_eq!(disputed["current_type"], "unconditional");
    authority
        .post(
            &propose(&clinics),
            json!({"proposed_type": "not_open", "proposed_reason": "security_risk", "rationale": "再议"}),
        )
        .await
        .expect_error(409, "open.proposal_pending");

    // Another department cannot answer; disagreeing needs reasons.
    psb.post(
        &format!("/api/v1/open-type-proposals/{id}/response"),
        json!({"agree": false, "response": "不同意"}),
    )
    .await
    .expect_status(403);
    health
        .post(
            &format!("/api/v1/open-type-proposals/{id}/response"),
            json!({"agree": false}),
        )
        .await
        .expect_error(400, "input.required");
    authority
        .post(
            &format!("/api/v1/open-type-proposals/{id}/decision"),
            json!({"decided_type": "unconditional", "decision": "x"}),
        )
        .await
        .expect_error(409, "open.proposal_not_disputed");
    let answered = health
        .post(
            &format!("/api/v1/open-type-proposals/{id}/response"),
            json!({"agree": false, "response": "名录为便民信息，应无条件开放；可加限流"}),
        )
        .await
        .expect_status(200);
    assert_eq!(answered["status"], "disputed");
    assert!(answered["outcome"].is_null());

    // The government decides; the authority records it.
    health
        .post(
            &format!("/api/v1/open-type-proposals/{id}/decision"),
            json!({"decided_type": "unconditional", "decision": "云川府办〔2026〕12号"}),
        )
        .await
        .expect_status(403);
    let decided = authority
        .post(
            &format!("/api/v1/open-type-proposals/{id}/decision"),
            json!({"decided_type": "unconditional", "decision": "云川府办〔2026〕12号：维持无条件开放"}),
        )
        .await
        .expect_status(200);
    assert_eq!(decided["status"], "decided");
    assert_eq!(decided["outcome"], "unconditional");
    assert_eq!(
        decided["applied"], true,
        "the entry already is unconditional"
    );

    // Agreed: the entry still has to change through the catalog's review.
    let agreed = authority
        .post(
            &propose(&outpatient),
            json!({"proposed_type": "unconditional", "rationale": "汇总统计不含个人信息"}),
        )
        .await
        .expect_status(201);
    let agreed = health
        .post(
            &format!(
                "/api/v1/open-type-proposals/{}/response",
                agreed["id"].as_str().unwrap()
            ),
            json!({"agree": true}),
        )
        .await
        .expect_status(200);
    assert_eq!(agreed["status"], "accepted");
    assert_eq!(agreed["outcome"], "unconditional");
    assert_eq!(agreed["entry_open_type"], "conditional");
    assert_eq!(agreed["applied"], false);

    let mine = health
        .get("/api/v1/open-type-proposals")
        .await
        .expect_status(200);
    assert_eq!(mine.as_array().unwrap().len(), 2);
    assert!(psb
        .get("/api/v1/open-type-proposals")
        .await
        .expect_status(200)
        .as_array()
        .unwrap()
        .is_empty());
    for action in [
        "open.type_propose",
        "open.type_proposal_dispute",
        "open.type_proposal_decide",
        "open.type_proposal_accept",
    ] {
        let found = srv
            .app
            .store
            .list_audit(&gongshu_store::AuditFilter {
                action: Some(action.into()),
                limit: Some(10),
                ..Default::default()
            })
            .await
            .expect("audit");
        assert!(!found.is_empty(), "{action} audited");
    }
    let page = health.get("/open-type-proposals").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("云川府办〔2026〕12号"));
}
both_backends!(
    opn_1_the_authority_proposes_the_source_answers_and_the_government_decides_a_dispute
);
