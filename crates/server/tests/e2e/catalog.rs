//! CAT-1, CAT-2, CAT-4, CAT-8, CAT-9: registering catalog entries and taking them
//! through department and authority review to publication, every step audited.
use std::sync::Arc;

use gongshu_services::catalog::today_in_china;
use serde_json::{json, Value};

use crate::common::{Http, TestServer};

/// A complete business entry of `source_org_id`.
fn business_entry(source_org_id: &str, name: &str) -> Value {
    json!({
        "name": name,
        "summary": "户籍迁入迁出登记的办理结果",
        "category": "business",
        "domain": "population",
        "format": "database",
        "source_org_id": source_org_id,
        "items": [
            {"name": "公民身份号码", "code_name": "citizen_id", "field_type": "string", "length": 18,
             "meaning": "GB 11643", "sensitive": true, "key_role": "citizen_id"},
            {"name": "迁入日期", "code_name": "moved_in_on", "field_type": "date"}
        ],
        "share_type": "unconditional",
        "share_modes": ["api", "page_query"],
        "open_type": "not_open",
        "open_reason": "privacy_without_consent",
        "open_basis": "含个人信息",
        "update_frequency": "daily",
        "grade": "general",
        "sensitivity": "l3"
    })
}

async fn review(who: &Http, id: &str, action: &str, reason: Option<&str>) -> crate::common::Resp {
    who.post(
        &format!("/api/v1/catalog/{id}/review"),
        json!({"action": action, "reason": reason}),
    )
    .await
}

/// The "Done when" for the lifecycle: a registrar registers, a reviewer of
/// the same department passes it, the authority approves it within the deadline,
/// and every step is in the history and the audit trail.
async fn cat_2_registered_entry_is_reviewed_approved_and_published(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let auditor = srv.login_demo(&demo, "auditor").await;
    let psb = registrar.org_id.clone();

    let entry = registrar
        .post("/api/v1/catalog", business_entry(&psb, "户籍迁移登记信息"))
        .await
        .expect_status(201);
    let id = entry["id"].as_str().expect("id").to_string();
    assert_eq!(entry["stage"], "draft");
    assert_eq!(entry["owner_org_id"], psb.as_str());
    assert_eq!(entry["published"], Value::Null);
    let code = entry["code"].as_str().expect("code");
    assert!(code.starts_with("401-") && code.len() == 10, "{code}");

    // The registrar cannot pass their own department review: it is not their role.
    review(&registrar, &id, "submit", None)
        .await
        .expect_status(200);
    review(&registrar, &id, "department_pass", None)
        .await
        .expect_error(403, "auth.denied");
    let passed = review(&reviewer, &id, "department_pass", None)
        .await
        .expect_status(200);
    assert_eq!(passed["stage"], "authority_review");
    let due = srv
        .app
        .calendar
        .add_workdays(today_in_china(chrono::Utc::now()), 5)
        .expect("calendar");
    assert_eq!(
        passed["authority_due"],
        due.to_string(),
        "HZ 12: 5 working days"
    );

    // The department cannot approve for the authority.
    review(&reviewer, &id, "authority_approve", None)
        .await
        .expect_error(403, "auth.denied");
    let published = review(&authority, &id, "authority_approve", None)
        .await
        .expect_status(200);
    assert_eq!(published["published_version"], 1);
    assert_eq!(published["stage"], Value::Null);
    assert_eq!(published["working"], Value::Null);
    assert_eq!(published["published"]["name"], "户籍迁移登记信息");
    let by_code = registrar
        .get(&format!("/api/v1/catalog/{code}"))
        .await
        .expect_status(200);
    assert_eq!(by_code["id"], id.as_str());
    let listed = authority
        .get("/api/v1/catalog?status=published&q=户籍迁移")
        .await
        .expect_status(200);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    let history = registrar
        .get(&format!("/api/v1/catalog/{id}/history"))
        .await
        .expect_status(200);
    let steps: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        steps,
        ["create", "submit", "department_pass", "authority_approve"]
    );
    let trail = auditor
        .get(&format!(
            "/api/v1/audit?object_type=catalog_entry&object_id={id}"
        ))
        .await
        .expect_status(200);
    let mut actions: Vec<&str> = trail
        .as_array()
        .expect("trail")
        .iter()
        .map(|r| r["action"].as_str().unwrap_or(""))
        .collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            "catalog.create",
            "catalog.submit",
            "catalog.department_pass",
            "catalog.authority_approve"
        ]
    );
}
both_backends!(cat_2_registered_entry_is_reviewed_approved_and_published);

/// CAT-2: a change to a published entry goes through review again while the
/// published version stays visible; returns need reasons; offline needs a reason.
async fn cat_2_changes_are_reviewed_while_the_published_version_stays(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let psb = registrar.org_id.clone();
    let entry = registrar
        .post("/api/v1/catalog", business_entry(&psb, "出入境证件信息"))
        .await
        .expect_status(201);
    let id = entry["id"].as_str().expect("id").to_string();
    review(&registrar, &id, "submit", None)
        .await
        .expect_status(200);
    review(&reviewer, &id, "department_pass", None)
        .await
        .expect_status(200);
    review(&authority, &id, "authority_approve", None)
        .await
        .expect_status(200);

    let mut changed = business_entry(&psb, "出入境证件办理信息");
    changed["summary"] = json!("新增证件类型");
    let revised = registrar
        .request(reqwest::Method::PUT, &format!("/api/v1/catalog/{id}"))
        .json(&changed)
        .send()
        .await
        .expect("put");
    assert_eq!(revised.status(), 200);
    let current = registrar
        .get(&format!("/api/v1/catalog/{id}"))
        .await
        .expect_status(200);
    assert_eq!(
        current["name"], "出入境证件信息",
        "the published name stays visible"
    );
    assert_eq!(current["working"]["name"], "出入境证件办理信息");
    assert_eq!(current["stage"], "draft");

    review(&registrar, &id, "submit", None)
        .await
        .expect_status(200);
    review(&reviewer, &id, "department_return", None)
        .await
        .expect_error(400, "catalog.reason_required");
    let returned = review(
        &reviewer,
        &id,
        "department_return",
        Some("缺少证件类型说明"),
    )
    .await
    .expect_status(200);
    assert_eq!(returned["stage"], "draft");
    assert_eq!(returned["return_reason"], "缺少证件类型说明");
    assert_eq!(returned["published_version"], 1);

    // An action the stage does not allow is refused with a clear error.
    review(&authority, &id, "authority_approve", None)
        .await
        .expect_error(409, "catalog.illegal_transition");

    authority
        .post(
            &format!("/api/v1/catalog/{id}/offline"),
            json!({"reason": " "}),
        )
        .await
        .expect_error(400, "catalog.reason_required");
    let offline = authority
        .post(
            &format!("/api/v1/catalog/{id}/offline"),
            json!({"reason": "数源部门职能调整"}),
        )
        .await
        .expect_status(200);
    assert_eq!(offline["offline"], true);
    assert_eq!(offline["offline_reason"], "数源部门职能调整");
    let listed = authority
        .get("/api/v1/catalog?status=offline")
        .await
        .expect_status(200);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}
both_backends!(cat_2_changes_are_reviewed_while_the_published_version_stays);

/// CAT-2: the registrar of a submission cannot review it, even holding both roles.
async fn cat_2_registrar_cannot_review_own_submission(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let admin = srv.login_demo(&demo, "psb.admin").await;
    let psb = admin.org_id.clone();
    admin
        .post(
            "/api/v1/users",
            json!({"org_id": psb, "username": "psb.both", "display_name": "编报兼审核",
                   "roles": ["catalog_registrar", "catalog_reviewer"], "password": "Both-Roles-2026"}),
        )
        .await
        .expect_status(201);
    let both = srv.login("psb.both", "Both-Roles-2026").await;
    let entry = both
        .post("/api/v1/catalog", business_entry(&psb, "治安管理处罚信息"))
        .await
        .expect_status(201);
    let id = entry["id"].as_str().expect("id");
    review(&both, id, "submit", None).await.expect_status(200);
    review(&both, id, "department_pass", None)
        .await
        .expect_error(403, "catalog.reviewer_is_registrar");
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    review(&reviewer, id, "department_pass", None)
        .await
        .expect_status(200);
}
both_backends!(cat_2_registrar_cannot_review_own_submission);

/// CAT-8, CAT-9: rules on save, each a field-level error in 中文 and English.
async fn cat_8_cat_9_rules_are_checked_on_save_with_field_errors(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let psb = registrar.org_id.clone();

    let mut conditional = business_entry(&psb, "重点人员信息");
    conditional["share_type"] = json!("conditional");
    let resp = registrar.post("/api/v1/catalog", conditional.clone()).await;
    let body = resp.expect_error(400, "input.invalid").clone();
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or(""),
                e["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("legal_basis", "catalog.legal_basis_required"),
            ("share_conditions", "catalog.share_conditions_required")
        ]
    );
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("法律"));
    assert!(body["errors"][0]["message_en"]
        .as_str()
        .unwrap_or("")
        .contains("legal basis"));

    let mut not_shared = business_entry(&psb, "侦查信息");
    not_shared["share_type"] = json!("not_shared");
    not_shared["legal_basis"] = json!("《中华人民共和国刑事诉讼法》");
    not_shared["open_type"] = json!("unconditional");
    not_shared["open_reason"] = Value::Null;
    registrar
        .post("/api/v1/catalog", not_shared)
        .await
        .expect_error(400, "catalog.not_shared_not_open");

    let mut classified = business_entry(&psb, "涉密信息");
    classified["classified"] = json!(true);
    registrar
        .post("/api/v1/catalog", classified)
        .await
        .expect_error(400, "catalog.classified_refused");

    // Unknown fields and wrong types are refused before any rule runs.
    let mut unknown = business_entry(&psb, "x");
    unknown["colour"] = json!("red");
    registrar
        .post("/api/v1/catalog", unknown)
        .await
        .expect_status(400);
    let none = registrar.get("/api/v1/catalog").await.expect_status(200);
    assert_eq!(none.as_array().map(Vec::len), Some(0), "nothing was saved");
}
both_backends!(cat_8_cat_9_rules_are_checked_on_save_with_field_errors);

/// CAT-4: base catalogs belong to the data authority; a department acts only for
/// its own entries.
async fn cat_4_base_catalogs_belong_to_the_authority(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let psb = registrar.org_id.clone();
    let mut base = business_entry(&psb, "人口基础信息");
    base["category"] = json!("base");
    registrar
        .post("/api/v1/catalog", base.clone())
        .await
        .expect_error(400, "catalog.base_belongs_to_authority");
    let entry = authority
        .post("/api/v1/catalog", base)
        .await
        .expect_status(201);
    assert_eq!(entry["owner_org_id"], authority.org_id.as_str());
    assert_eq!(
        entry["source_org_id"],
        psb.as_str(),
        "the source stays the department"
    );
    assert!(entry["code"].as_str().unwrap_or("").starts_with("101-"));

    // Another department can read the catalog but not act on psb's entries.
    let own = registrar
        .post("/api/v1/catalog", business_entry(&psb, "机动车驾驶人信息"))
        .await
        .expect_status(201);
    let id = own["id"].as_str().expect("id");
    civil
        .get(&format!("/api/v1/catalog/{id}"))
        .await
        .expect_status(200);
    review(&civil, id, "submit", None)
        .await
        .expect_error(403, "auth.denied");
    civil
        .post(
            &format!("/api/v1/catalog/{id}/offline"),
            json!({"reason": "x"}),
        )
        .await
        .expect_error(403, "auth.denied");
}
both_backends!(cat_4_base_catalogs_belong_to_the_authority);

/// CAT-2: an entry the authority has not decided by its due working day is listed.
async fn cat_2_overdue_authority_reviews_are_listed(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let psb = registrar.org_id.clone();
    let mut ids = Vec::new();
    for name in ["流动人口信息", "暂住登记信息"] {
        let e = registrar
            .post("/api/v1/catalog", business_entry(&psb, name))
            .await
            .expect_status(201);
        let id = e["id"].as_str().expect("id").to_string();
        review(&registrar, &id, "submit", None)
            .await
            .expect_status(200);
        review(&reviewer, &id, "department_pass", None)
            .await
            .expect_status(200);
        ids.push(id);
    }
    let none = authority
        .get("/api/v1/catalog/overdue")
        .await
        .expect_status(200);
    assert_eq!(none.as_array().map(Vec::len), Some(0), "{none}");
    let raw = srv.raw().await;
    raw.exec(&format!(
        "UPDATE catalog_entries SET authority_due = '2026-01-05' WHERE id = '{}'",
        ids[0]
    ))
    .await;
    raw.close().await;
    let overdue = authority
        .get("/api/v1/catalog/overdue")
        .await
        .expect_status(200);
    let listed: Vec<&str> = overdue
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(listed, [ids[0].as_str()]);
}
both_backends!(cat_2_overdue_authority_reviews_are_listed);

/// CAT-3, COL-5: a datum of a base catalog claimed by a second department is a
/// conflict the authority resolves; an entry whose items another department
/// already provides is flagged before submission.
async fn cat_3_col_5_second_source_of_a_base_datum_is_a_conflict_the_authority_resolves(
    srv: Arc<TestServer>,
) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let market = srv.login_demo(&demo, "market.admin").await;
    let psb = registrar.org_id.clone();

    let mut household = business_entry(&psb, "户籍登记信息");
    household["items"] = json!([
        {"name": "公民身份号码", "code_name": "citizen_id", "field_type": "string", "key_role": "citizen_id"},
        {"name": "户籍地址", "code_name": "household_address", "field_type": "string", "meaning": "常住户口登记地址"}
    ]);
    let a = registrar
        .post("/api/v1/catalog", household)
        .await
        .expect_status(201);
    let a_id = a["id"].as_str().expect("id").to_string();
    review(&registrar, &a_id, "submit", None)
        .await
        .expect_status(200);
    review(&reviewer, &a_id, "department_pass", None)
        .await
        .expect_status(200);
    review(&authority, &a_id, "authority_approve", None)
        .await
        .expect_status(200);

    let none = authority
        .get("/api/v1/catalog/conflicts")
        .await
        .expect_status(200);
    assert_eq!(
        none.as_array().map(Vec::len),
        Some(0),
        "one source so far: {none}"
    );

    // The authority's base catalog names civil affairs as the source of the same datum
    // (spelled with a space); the shared ID-number key is a link, not a claim.
    let mut base = business_entry(&civil.org_id, "人口基础信息");
    base["category"] = json!("base");
    base["items"] = json!([
        {"name": "公民身份号码", "code_name": "citizen_id", "field_type": "string", "key_role": "citizen_id"},
        {"name": "户籍 地址", "code_name": "address", "field_type": "string", "meaning": "常住户口登记地址"}
    ]);
    let b = authority
        .post("/api/v1/catalog", base)
        .await
        .expect_status(201);
    let b_id = b["id"].as_str().expect("id").to_string();

    let warnings = authority
        .get(&format!("/api/v1/catalog/{b_id}/duplicates"))
        .await
        .expect_status(200);
    let warnings = warnings.as_array().expect("warnings").clone();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["item_name"], "户籍 地址");
    assert_eq!(warnings[0]["provided_by"][0]["entry_id"], a_id.as_str());
    assert_eq!(warnings[0]["provided_by"][0]["source_org_id"], psb.as_str());

    let conflicts = registrar
        .get("/api/v1/catalog/conflicts")
        .await
        .expect_status(200);
    let conflicts = conflicts.as_array().expect("conflicts").clone();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let key = conflicts[0]["item_key"].as_str().expect("key").to_string();
    let mut expected = vec![psb.clone(), civil.org_id.clone()];
    expected.sort();
    assert_eq!(conflicts[0]["source_org_ids"], json!(expected));
    assert_eq!(conflicts[0]["decided"], Value::Null);

    registrar
        .post(
            "/api/v1/catalog/conflicts/resolve",
            json!({"item_key": key, "source_org_id": psb, "note": "户口登记由公安机关负责"}),
        )
        .await
        .expect_error(403, "auth.denied");
    authority
        .post(
            "/api/v1/catalog/conflicts/resolve",
            json!({"item_key": key, "source_org_id": market.org_id, "note": "x"}),
        )
        .await
        .expect_error(400, "catalog.source_not_claimant");
    authority
        .post(
            "/api/v1/catalog/conflicts/resolve",
            json!({"item_key": key, "source_org_id": psb, "note": "《户口登记条例》：户口登记由公安机关负责"}),
        )
        .await
        .expect_status(200);
    let decided = authority
        .get("/api/v1/catalog/conflicts")
        .await
        .expect_status(200);
    assert_eq!(decided[0]["decided"]["source_org_id"], psb.as_str());
    assert_eq!(decided[0]["entries_to_correct"], json!([b_id]));

    let auditor = srv.login_demo(&demo, "auditor").await;
    let trail = auditor
        .get("/api/v1/audit?action=catalog.source_decide")
        .await
        .expect_status(200);
    assert_eq!(trail.as_array().map(Vec::len), Some(1));
}
both_backends!(cat_3_col_5_second_source_of_a_base_datum_is_a_conflict_the_authority_resolves);

/// The demo catalog: about 300 entries in every lifecycle state, deliberate
/// one-source conflicts and overdue reviews, all audited, chain intact.
async fn cat_1_demo_seeds_a_catalog_in_every_state(srv: Arc<TestServer>) {
    gongshu_services::demo::seed(&srv.app, 10)
        .await
        .expect("seed the demo with its catalog");
    let ctx = gongshu_services::Ctx::cli();
    let all = gongshu_services::catalog::list(
        &srv.app,
        &ctx,
        gongshu_store::CatalogFilter {
            limit: Some(1000),
            ..Default::default()
        },
    )
    .await
    .expect("list");
    assert!(
        (280..=400).contains(&all.len()),
        "about 300 entries: {}",
        all.len()
    );
    for stage in ["draft", "department_review", "authority_review"] {
        assert!(
            all.iter().any(|e| e.stage.as_deref() == Some(stage)),
            "some entry in {stage}"
        );
    }
    assert!(all.iter().any(|e| e.offline), "some entry offline");
    assert!(
        all.iter()
            .any(|e| e.published.is_some() && e.working.is_some()),
        "some published entry under revision"
    );
    for category in ["base", "theme", "business"] {
        assert!(all.iter().any(|e| e.category == category), "{category}");
    }
    let overdue = gongshu_services::catalog::overdue(&srv.app, &ctx, chrono::Utc::now())
        .await
        .expect("overdue");
    assert!(!overdue.is_empty(), "some authority reviews are overdue");
    let conflicts = gongshu_services::catalog::conflicts(&srv.app, &ctx)
        .await
        .expect("conflicts");
    let names: Vec<&str> = conflicts.iter().map(|c| c.item_name.as_str()).collect();
    assert!(
        names.contains(&"婚姻状况") && names.contains(&"法定代表人"),
        "{names:?}"
    );
    let report = gongshu_services::audit::verify_chain(&srv.app)
        .await
        .expect("verify");
    assert!(report.ok, "{}", report.message_en);
}
both_backends!(cat_1_demo_seeds_a_catalog_in_every_state);

/// CAT-2: the overdue job flags each authority review past its due working day once,
/// with an audit record; a recorded change of law or function gives the department
/// 15 working days, and is flagged too when they pass.
async fn cat_2_overdue_job_flags_late_reviews_and_late_updates(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let auditor = srv.login_demo(&demo, "auditor").await;
    let psb = registrar.org_id.clone();
    let e = registrar
        .post(
            "/api/v1/catalog",
            business_entry(&psb, "看守所在押人员信息"),
        )
        .await
        .expect_status(201);
    let id = e["id"].as_str().expect("id").to_string();
    review(&registrar, &id, "submit", None)
        .await
        .expect_status(200);
    review(&reviewer, &id, "department_pass", None)
        .await
        .expect_status(200);

    let change = authority
        .post(
            "/api/v1/catalog/changes",
            json!({"org_id": psb, "description": "新增出入境管理职能", "basis": "市政府机构改革方案（合成）"}),
        )
        .await
        .expect_status(201);
    let due = srv
        .app
        .calendar
        .add_workdays(today_in_china(chrono::Utc::now()), 15)
        .expect("calendar");
    assert_eq!(change["due"], due.to_string(), "XJ 11: 15 working days");
    registrar
        .post(
            "/api/v1/catalog/changes",
            json!({"org_id": psb, "description": "x", "basis": "y"}),
        )
        .await
        .expect_error(403, "auth.denied");

    // Nothing is late yet.
    let now = chrono::Utc::now();
    assert_eq!(
        gongshu_services::catalog::flag_overdue(&srv.app, now)
            .await
            .expect("job"),
        0
    );
    // Both deadlines pass.
    let raw = srv.raw().await;
    raw.exec(&format!(
        "UPDATE catalog_entries SET authority_due = '2026-01-05' WHERE id = '{id}'"
    ))
    .await;
    raw.exec("UPDATE catalog_change_records SET due = '2026-01-06'")
        .await;
    raw.close().await;
    assert_eq!(
        gongshu_services::catalog::flag_overdue(&srv.app, now)
            .await
            .expect("job"),
        2
    );
    assert_eq!(
        gongshu_services::catalog::flag_overdue(&srv.app, now)
            .await
            .expect("job"),
        0,
        "each flagged once"
    );
    let entry = authority
        .get(&format!("/api/v1/catalog/{id}"))
        .await
        .expect_status(200);
    assert_eq!(entry["overdue_since"], today_in_china(now).to_string());
    let open = registrar
        .get("/api/v1/catalog/changes?open=true")
        .await
        .expect_status(200);
    assert_eq!(open[0]["overdue_since"], today_in_china(now).to_string());
    for action in ["catalog.review_overdue", "catalog.change_overdue"] {
        let trail = auditor
            .get(&format!("/api/v1/audit?action={action}"))
            .await
            .expect_status(200);
        assert_eq!(trail.as_array().map(Vec::len), Some(1), "{action}");
        assert_eq!(trail[0]["actor"], "system");
    }

    let change_id = change["id"].as_str().expect("id");
    registrar
        .post(
            &format!("/api/v1/catalog/changes/{change_id}/complete"),
            json!({"note": "已更新 401 类目录 3 条"}),
        )
        .await
        .expect_status(200);
    let open = registrar
        .get("/api/v1/catalog/changes?open=true")
        .await
        .expect_status(200);
    assert_eq!(open.as_array().map(Vec::len), Some(0));
}
both_backends!(cat_2_overdue_job_flags_late_reviews_and_late_updates);

/// The console's catalog pages render over the demo catalog: list, filters, an
/// entry with its items and history, the edit form, conflicts and changes.
async fn cat_2_cat_7_console_catalog_pages_and_lists_render(srv: Arc<TestServer>) {
    let logins = seed_demo_with_catalog(&srv).await;
    let password = |u: &str| demo_password(&logins, u);
    let registrar = srv.login("psb.registrar", &password("psb.registrar")).await;
    let page = |path: String| {
        let rb = registrar.request(reqwest::Method::GET, &path);
        async move {
            let resp = rb.send().await.expect("get");
            let status = resp.status().as_u16();
            (status, resp.text().await.expect("body"))
        }
    };
    let (status, list) = page("/catalog".into()).await;
    assert_eq!(status, 200);
    assert!(
        list.contains("人口基础信息"),
        "the first page starts with the base catalogs"
    );
    assert!(
        list.contains("id=\"next-page\""),
        "300 entries take more than one page"
    );
    let (_, second) = page("/catalog?page=2".into()).await;
    assert!(second.contains("id=\"prev-page\"") && !second.contains("人口基础信息"));
    let (_, found) = page("/catalog?q=%E6%88%B7%E7%B1%8D%E7%99%BB%E8%AE%B0".into()).await;
    assert!(found.contains("户籍登记信息"), "q finds by name");
    let (_, filtered) = page("/catalog?status=published&mounted=0&category=base".into()).await;
    assert!(filtered.contains("人口基础信息") && !filtered.contains("户籍登记信息"));
    let entry = srv
        .app
        .store
        .list_catalog_entries(&gongshu_store::CatalogFilter {
            q: Some("户籍登记信息".into()),
            ..Default::default()
        })
        .await
        .expect("find")
        .remove(0);
    let (status, detail) = page(format!("/catalog/{}", entry.id)).await;
    assert_eq!(status, 200);
    assert!(
        detail.contains(&entry.code)
            && detail.contains("公民身份号码")
            && detail.contains("审核记录")
    );
    let (status, edit) = page(format!("/catalog/{}/edit", entry.id)).await;
    assert_eq!(status, 200);
    assert!(edit.contains("citizen_id"), "the form is filled in");
    let (status, conflicts) = page("/catalog/conflicts".into()).await;
    assert_eq!(status, 200);
    assert!(
        conflicts.contains("婚姻状况") && conflicts.contains("待处理"),
        "{conflicts}"
    );
    let (status, _) = page("/catalog/changes".into()).await;
    assert_eq!(status, 200);
    let (status, _) = page("/catalog/new".into()).await;
    assert_eq!(status, 200);
    for path in ["/catalog/scenarios", "/catalog/projects"] {
        let (status, _) = page(path.into()).await;
        assert_eq!(status, 200, "{path}");
    }
    // CAT-7: psb's lists: its published entries, and those it does not share.
    let (status, lists) = page("/catalog/lists".into()).await;
    assert_eq!(status, 200);
    assert!(lists.contains("责任清单") && lists.contains("负面清单"));
    let psb = registrar.org_id.clone();
    let published_not_shared = srv
        .app
        .store
        .list_catalog_entries(&gongshu_store::CatalogFilter {
            source_org_id: Some(psb),
            status: Some("published".into()),
            share_type: Some("not_shared".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(
        !published_not_shared.is_empty(),
        "the demo has a negative list for psb"
    );
    for e in &published_not_shared {
        assert!(lists.contains(&e.code), "{} on the negative list", e.code);
    }
}
both_backends!(cat_2_cat_7_console_catalog_pages_and_lists_render);

/// CAT-10: search by Chinese words (人口 finds 人口基础信息 and 户籍人口…), with
/// facets and filters; a newly published entry is found at once; drafts only when asked.
async fn cat_10_search_finds_chinese_words_with_facets_and_new_entries(srv: Arc<TestServer>) {
    let logins = seed_demo_with_catalog(&srv).await;
    let password = |u: &str| demo_password(&logins, u);
    let registrar = srv.login("psb.registrar", &password("psb.registrar")).await;
    let reviewer = srv.login("psb.reviewer", &password("psb.reviewer")).await;
    let authority = srv.login("authority", &password("authority")).await;

    let found = registrar
        .get("/api/v1/catalog/search?q=%E4%BA%BA%E5%8F%A3")
        .await
        .expect_status(200);
    let names: Vec<&str> = found["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["name"].as_str().unwrap_or(""))
        .collect();
    assert!(names.contains(&"人口基础信息"), "{names:?}");
    assert!(
        names.iter().any(|n| n.contains("户籍人口"))
            && names.iter().any(|n| n.contains("流动人口")),
        "人口 inside compounds: {names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("法人")), "{names:?}");
    assert!(found["facets"]["category"].is_array(), "{found}");
    let bases = registrar
        .get("/api/v1/catalog/search?q=%E4%BA%BA%E5%8F%A3&category=base")
        .await
        .expect_status(200);
    assert_eq!(bases["total"], 1, "{bases}");
    assert_eq!(bases["hits"][0]["name"], "人口基础信息");

    // A new entry: invisible while a draft, found once published.
    let e = registrar
        .post(
            "/api/v1/catalog",
            business_entry(&registrar.org_id, "境外人员临时住宿登记信息"),
        )
        .await
        .expect_status(201);
    let id = e["id"].as_str().expect("id").to_string();
    let q = "/api/v1/catalog/search?q=%E4%B8%B4%E6%97%B6%E4%BD%8F%E5%AE%BF";
    assert_eq!(registrar.get(q).await.expect_status(200)["total"], 0);
    let drafts = registrar
        .get(&format!("{q}&status=all"))
        .await
        .expect_status(200);
    assert_eq!(drafts["total"], 1, "{drafts}");
    review(&registrar, &id, "submit", None)
        .await
        .expect_status(200);
    review(&reviewer, &id, "department_pass", None)
        .await
        .expect_status(200);
    review(&authority, &id, "authority_approve", None)
        .await
        .expect_status(200);
    let published = registrar.get(q).await.expect_status(200);
    assert_eq!(published["total"], 1, "{published}");
    assert_eq!(published["hits"][0]["id"], id.as_str());

    let resp = registrar
        .request(reqwest::Method::GET, "/catalog/search?q=%E4%BA%BA%E5%8F%A3")
        .send()
        .await
        .expect("page");
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.expect("body");
    assert!(page.contains("人口基础信息") && page.contains("id=\"facets\""));
}
both_backends!(cat_10_search_finds_chinese_words_with_facets_and_new_entries);

/// The whole demo, its ~300 catalog entries included; returns its logins.
async fn seed_demo_with_catalog(srv: &TestServer) -> Vec<gongshu_services::demo::DemoLogin> {
    gongshu_services::demo::seed(&srv.app, 5)
        .await
        .expect("seed demo with catalog")
}

fn demo_password(logins: &[gongshu_services::demo::DemoLogin], username: &str) -> String {
    logins
        .iter()
        .find(|l| l.username == username)
        .map(|l| l.password.clone())
        .expect("demo login")
}

/// One spreadsheet row of the import template: heading → text.
fn sheet_row(name: &str, share_type: &str, legal_basis: &str) -> Vec<(&'static str, String)> {
    vec![
        ("资源名称", name.to_string()),
        ("资源摘要", "由表格导入的业务目录".to_string()),
        ("目录类别", "业务".to_string()),
        ("领域", "公共安全".to_string()),
        ("资源格式", "数据库".to_string()),
        ("数源部门", "云川市公安局".to_string()),
        (
            "信息项",
            "公民身份号码 | citizen_id | string | 18 | 是 | citizen_id | GB 11643\n登记日期 | registered_on | date"
                .to_string(),
        ),
        ("共享类型", share_type.to_string()),
        ("共享条件", "仅限履职需要".to_string()),
        ("共享方式", "接口调用、页面查询".to_string()),
        ("法律法规依据", legal_basis.to_string()),
        ("开放类型", "不予开放".to_string()),
        ("开放限制情形", "privacy_without_consent".to_string()),
        ("开放限制依据", "含个人信息".to_string()),
        ("更新频率", "每日".to_string()),
        ("数据分级", "一般数据".to_string()),
        ("敏感级别", "l2".to_string()),
    ]
}

fn workbook(rows: &[Vec<(&'static str, String)>]) -> Vec<u8> {
    use gongshu_services::catalog_sheet::{COLUMNS, SHEET};
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name(SHEET).expect("sheet name");
    for (c, col) in COLUMNS.iter().enumerate() {
        sheet
            .write_string(0, c as u16, col.heading)
            .expect("heading");
    }
    for (r, row) in rows.iter().enumerate() {
        for (heading, value) in row {
            let c = COLUMNS
                .iter()
                .position(|col| col.heading == *heading)
                .expect("column");
            sheet
                .write_string(r as u32 + 1, c as u16, value.as_str())
                .expect("cell");
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

/// The "Done when" for spreadsheets: an XLSX with one bad row imports
/// nothing and names the row; the corrected file imports every row; the catalog
/// exports to XLSX and CSV; the template downloads.
async fn cat_1_xlsx_with_one_bad_row_imports_nothing_and_names_the_row(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let template = registrar
        .request(reqwest::Method::GET, "/api/v1/catalog/template.xlsx")
        .send()
        .await
        .expect("template");
    assert_eq!(template.status(), 200);
    assert!(
        template.bytes().await.expect("bytes").starts_with(b"PK"),
        "an XLSX (zip)"
    );

    let bad = workbook(&[
        sheet_row("表格导入出租屋登记信息", "无条件共享", ""),
        sheet_row("表格导入重点场所信息", "有条件共享", ""),
    ]);
    let resp = registrar
        .request(reqwest::Method::POST, "/api/v1/catalog/import")
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(bad)
        .send()
        .await
        .expect("import");
    assert_eq!(resp.status(), 422);
    let report: Value = resp.json().await.expect("report");
    assert_eq!(report["imported"], 0);
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(
        problems[0]["row"], 3,
        "Excel row 3: the second data row under the heading"
    );
    assert_eq!(problems[0]["column"], "法律法规依据");
    let none = registrar.get("/api/v1/catalog").await.expect_status(200);
    assert_eq!(none.as_array().map(Vec::len), Some(0), "nothing saved");

    let good = workbook(&[
        sheet_row("表格导入出租屋登记信息", "无条件共享", ""),
        sheet_row(
            "表格导入重点场所信息",
            "有条件共享",
            "《示范省公共数据条例》（合成）",
        ),
    ]);
    let resp = registrar
        .request(reqwest::Method::POST, "/api/v1/catalog/import")
        .body(good)
        .send()
        .await
        .expect("import");
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.expect("report");
    assert_eq!(report["imported"], 2, "{report}");

    let csv = registrar
        .request(
            reqwest::Method::GET,
            "/api/v1/catalog/export.csv?q=%E8%A1%A8%E6%A0%BC%E5%AF%BC%E5%85%A5",
        )
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.expect("text");
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    assert!(text.contains("表格导入出租屋登记信息") && text.contains("表格导入重点场所信息"));
    let xlsx = registrar
        .request(reqwest::Method::GET, "/api/v1/catalog/export.xlsx")
        .send()
        .await
        .expect("xlsx");
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.bytes().await.expect("bytes").starts_with(b"PK"));

    let auditor = srv.login_demo(&demo, "auditor").await;
    let trail = auditor
        .get("/api/v1/audit?action=catalog.create")
        .await
        .expect_status(200);
    assert_eq!(
        trail.as_array().map(Vec::len),
        Some(2),
        "each imported entry audited"
    );
}
both_backends!(cat_1_xlsx_with_one_bad_row_imports_nothing_and_names_the_row);

/// CAT-10: each entry's completeness, consistency and naming findings are visible
/// in the API and on its page.
async fn cat_10_entry_checks_are_visible(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let mut entry = business_entry(&registrar.org_id, "临时表");
    entry["open_type"] = json!("unconditional");
    entry["open_reason"] = Value::Null;
    entry["open_basis"] = json!("");
    let e = registrar
        .post("/api/v1/catalog", entry)
        .await
        .expect_status(201);
    let id = e["id"].as_str().expect("id");
    let findings = registrar
        .get(&format!("/api/v1/catalog/{id}/checks"))
        .await
        .expect_status(200);
    let codes: Vec<&str> = findings
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or(""))
        .collect();
    for code in [
        "catalog.check.name_ending",
        "catalog.check.name_short",
        "catalog.check.name_placeholder",
        "catalog.check.open_sensitive",
        "catalog.check.timeliness",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let page = registrar
        .request(reqwest::Method::GET, &format!("/catalog/{id}"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("id=\"findings-table\"") && page.contains("规范命名"),
        "findings shown"
    );
}
both_backends!(cat_10_entry_checks_are_visible);

/// CAT-1: the console form reads data items like the spreadsheet does: an
/// unreadable line comes back named, with everything typed kept.
async fn cat_1_console_form_names_a_bad_item_line_and_keeps_the_input(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let form = [
        ("csrf", registrar.csrf.as_str()),
        ("name", "表单录入治安信息"),
        ("summary", "表单录入的业务目录"),
        ("category", "business"),
        ("domain", "public_safety"),
        ("format", "database"),
        ("source_org_id", registrar.org_id.as_str()),
        ("items", "公民身份号码 | citizen_id | string | 18 | 是 | citizen_id\n登记日期 | registered_on | 日期型 | | 也许"),
        ("share_type", "unconditional"),
        ("share_api", "on"),
        ("open_type", "not_open"),
        ("open_reason", "privacy_without_consent"),
        ("open_basis", "含个人信息"),
        ("update_frequency", "daily"),
        ("grade", "general"),
        ("sensitivity", "l2"),
    ];
    let resp = registrar
        .request(reqwest::Method::POST, "/catalog")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    let page = resp.text().await.expect("body");
    assert!(
        page.contains("信息项第 2 行") && page.contains("也许"),
        "the bad line is named"
    );
    assert!(page.contains("表单录入治安信息"), "the input is kept");
    let none = registrar.get("/api/v1/catalog").await.expect_status(200);
    assert_eq!(none.as_array().map(Vec::len), Some(0));

    let fixed: Vec<(&str, &str)> = form
        .iter()
        .map(|(k, v)| {
            if *k == "items" {
                (*k, "公民身份号码 | citizen_id | string | 18 | 是 | citizen_id\n登记日期 | registered_on | 日期型 | | 否")
            } else {
                (*k, *v)
            }
        })
        .collect();
    let resp = registrar
        .request(reqwest::Method::POST, "/catalog")
        .form(&fixed)
        .send()
        .await
        .expect("post");
    assert!(
        resp.url().path().starts_with("/catalog/"),
        "redirected to the new entry: {}",
        resp.url()
    );
    let all = registrar.get("/api/v1/catalog").await.expect_status(200);
    assert_eq!(all[0]["working"]["items"][1]["field_type"], "date");
}
both_backends!(cat_1_console_form_names_a_bad_item_line_and_keeps_the_input);

/// Registers `name` for psb and takes it through both reviews; returns (id, code).
async fn published_entry(
    registrar: &crate::common::Session,
    reviewer: &crate::common::Session,
    authority: &crate::common::Session,
    name: &str,
) -> (String, String) {
    let e = registrar
        .post("/api/v1/catalog", business_entry(&registrar.org_id, name))
        .await
        .expect_status(201);
    let id = e["id"].as_str().expect("id").to_string();
    review(registrar, &id, "submit", None)
        .await
        .expect_status(200);
    review(reviewer, &id, "department_pass", None)
        .await
        .expect_status(200);
    review(authority, &id, "authority_approve", None)
        .await
        .expect_status(200);
    (id, e["code"].as_str().expect("code").to_string())
}

/// CAT-5: a scenario catalog bundles published entries for one business scenario;
/// drafts and unknown codes are refused.
async fn cat_5_scenario_catalog_bundles_published_entries(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let (a, a_code) =
        published_entry(&registrar, &reviewer, &authority, "新生儿户籍登记信息").await;
    let (b, _) = published_entry(&registrar, &reviewer, &authority, "新生儿身份证办理信息").await;
    let draft = registrar
        .post(
            "/api/v1/catalog",
            business_entry(&registrar.org_id, "新生儿草稿信息"),
        )
        .await
        .expect_status(201);

    let refused = registrar
        .post(
            "/api/v1/catalog/scenarios",
            json!({"name": "出生一件事", "description": "新生儿出生登记联办", "entries": [a_code, draft["code"], "999-000000"]}),
        )
        .await;
    let body = refused.expect_error(400, "input.invalid").clone();
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        codes,
        ["scenario.entry_not_published", "scenario.entry_unknown"]
    );

    let bundle = registrar
        .post(
            "/api/v1/catalog/scenarios",
            json!({"name": "出生一件事", "description": "新生儿出生登记联办", "entries": [a_code, b]}),
        )
        .await
        .expect_status(201);
    assert_eq!(bundle["entry_ids"], json!([a, b]));
    assert_eq!(bundle["lead_org_id"], registrar.org_id.as_str());
    let all = authority
        .get("/api/v1/catalog/scenarios")
        .await
        .expect_status(200);
    assert_eq!(all.as_array().map(Vec::len), Some(1));
}
both_backends!(cat_5_scenario_catalog_bundles_published_entries);

/// CAT-11: an IT project without a catalog at approval, or without its data
/// mounted at acceptance, is reported; one that meets both is accepted.
async fn cat_11_it_projects_failing_catalog_checks_are_reported(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let (entry, code) =
        published_entry(&registrar, &reviewer, &authority, "智慧警务平台数据信息").await;
    let psb = registrar.org_id.clone();

    registrar
        .post(
            "/api/v1/it-projects",
            json!({"name": "x", "org_id": psb, "approval_ref": "y"}),
        )
        .await
        .expect_error(403, "auth.denied");
    let empty = authority
        .post(
            "/api/v1/it-projects",
            json!({"name": "治安视频联网项目", "org_id": psb, "approval_ref": "云发改〔2026〕12号"}),
        )
        .await
        .expect_status(201);
    assert_eq!(empty["fails_approval_check"], true);
    let with_catalog = authority
        .post(
            "/api/v1/it-projects",
            json!({"name": "智慧警务平台", "org_id": psb, "approval_ref": "云发改〔2026〕13号", "entries": [code]}),
        )
        .await
        .expect_status(201);
    assert_eq!(with_catalog["fails_approval_check"], false);
    let id = with_catalog["project"]["id"]
        .as_str()
        .expect("id")
        .to_string();

    let checked = authority
        .post(
            &format!("/api/v1/it-projects/{id}/acceptance-check"),
            json!({}),
        )
        .await
        .expect_status(200);
    assert_eq!(
        checked["fails_acceptance_check"], true,
        "no data mounted yet"
    );
    assert_eq!(checked["project"]["unmounted_entry_ids"], json!([entry]));
    let failing = authority
        .get("/api/v1/it-projects?failing=true")
        .await
        .expect_status(200);
    assert_eq!(failing.as_array().map(Vec::len), Some(2));

    // Data mounted behind the entry (the next issue mounts it for real).
    let raw = srv.raw().await;
    raw.exec(&format!(
        "UPDATE catalog_entries SET mounted = TRUE WHERE id = '{entry}'"
    ))
    .await;
    raw.close().await;
    let accepted = authority
        .post(
            &format!("/api/v1/it-projects/{id}/acceptance-check"),
            json!({}),
        )
        .await
        .expect_status(200);
    assert_eq!(accepted["fails_acceptance_check"], false);
    assert!(accepted["project"]["accepted_at"].is_string());
    let failing = authority
        .get("/api/v1/it-projects?failing=true")
        .await
        .expect_status(200);
    assert_eq!(failing.as_array().map(Vec::len), Some(1));
    assert_eq!(failing[0]["project"]["name"], "治安视频联网项目");
}
both_backends!(cat_11_it_projects_failing_catalog_checks_are_reported);

/// CAT-7, SHR-7: a department's demands make its demand list; the source answers
/// within 5 working days by naming its entry, or declines with reasons; a demand
/// left unanswered past its due day is flagged.
async fn cat_7_demands_make_the_demand_list_and_the_source_answers(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let (entry, code) =
        published_entry(&registrar, &reviewer, &authority, "居民户籍迁移信息").await;
    let psb = registrar.org_id.clone();

    // civil.admin has no registrar role: its department's demands are filed by someone who has.
    civil
        .post(
            "/api/v1/catalog/demands",
            json!({"source_org_id": psb, "title": "户籍迁移", "purpose": "婚姻登记核验", "items": "姓名、迁入地"}),
        )
        .await
        .expect_error(403, "auth.denied");
    let admin = srv.login_demo(&demo, "admin").await;
    admin
        .post(
            "/api/v1/users",
            json!({"org_id": civil.org_id, "username": "civil.registrar", "display_name": "民政编报员",
                   "roles": ["catalog_registrar"], "password": "Civil-Reg-2026"}),
        )
        .await
        .expect_status(201);
    let civil_registrar = srv.login("civil.registrar", "Civil-Reg-2026").await;
    civil_registrar
        .post(
            "/api/v1/catalog/demands",
            json!({"source_org_id": psb, "title": "", "purpose": "", "items": ""}),
        )
        .await
        .expect_error(400, "input.invalid");
    let mut ids = Vec::new();
    for title in ["户籍迁移记录", "暂住登记记录"] {
        let d = civil_registrar
            .post(
                "/api/v1/catalog/demands",
                json!({"source_org_id": psb, "title": title, "purpose": "婚姻登记时核验户籍", "items": "姓名、公民身份号码、迁入地"}),
            )
            .await
            .expect_status(201);
        let due = srv
            .app
            .calendar
            .add_workdays(today_in_china(chrono::Utc::now()), 5)
            .expect("calendar");
        assert_eq!(d["due"], due.to_string(), "HZ 24: 5 working days");
        ids.push(d["id"].as_str().expect("id").to_string());
    }

    // Only the source answers; accepting names its entry, declining gives reasons.
    civil_registrar
        .post(
            &format!("/api/v1/catalog/demands/{}/answer", ids[0]),
            json!({"accept": true, "entry": code}),
        )
        .await
        .expect_error(403, "auth.denied");
    registrar
        .post(
            &format!("/api/v1/catalog/demands/{}/answer", ids[0]),
            json!({"accept": true}),
        )
        .await
        .expect_error(400, "demand.entry_required");
    let accepted = registrar
        .post(
            &format!("/api/v1/catalog/demands/{}/answer", ids[0]),
            json!({"accept": true, "entry": code}),
        )
        .await
        .expect_status(200);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["entry_id"], entry.as_str());

    // The second is left unanswered past its due day.
    let raw = srv.raw().await;
    raw.exec(&format!(
        "UPDATE data_demands SET due = '2026-01-05' WHERE id = '{}'",
        ids[1]
    ))
    .await;
    raw.close().await;
    assert_eq!(
        gongshu_services::demands::flag_overdue(&srv.app, chrono::Utc::now())
            .await
            .expect("job"),
        1
    );
    let list = civil_registrar
        .get(&format!("/api/v1/catalog/demands?org_id={}", civil.org_id))
        .await
        .expect_status(200);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let page = civil_registrar
        .request(reqwest::Method::GET, "/catalog/lists")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("户籍迁移记录") && page.contains("暂住登记记录") && page.contains("已确认"),
        "demand list shown"
    );
}
both_backends!(cat_7_demands_make_the_demand_list_and_the_source_answers);

/// CAT-6: each entry shows whether data is mounted behind it; published entries
/// without data are listed.
async fn cat_6_unmounted_published_entries_are_listed(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let reviewer = srv.login_demo(&demo, "psb.reviewer").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let (a, _) = published_entry(&registrar, &reviewer, &authority, "枪支持有证信息").await;
    let (b, _) = published_entry(&registrar, &reviewer, &authority, "保安员证信息").await;
    registrar
        .post(
            "/api/v1/catalog",
            business_entry(&registrar.org_id, "草稿不计入信息"),
        )
        .await
        .expect_status(201);
    let unmounted = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|e| e["id"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let q = "/api/v1/catalog?status=published&mounted=false";
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    let mut found = unmounted(&authority.get(q).await.expect_status(200));
    found.sort();
    assert_eq!(
        found, expected,
        "both published entries lack data; the draft is not listed"
    );
    let raw = srv.raw().await;
    raw.exec(&format!(
        "UPDATE catalog_entries SET mounted = TRUE WHERE id = '{a}'"
    ))
    .await;
    raw.close().await;
    assert_eq!(
        unmounted(&authority.get(q).await.expect_status(200)),
        vec![b]
    );
    let entry = authority
        .get(&format!("/api/v1/catalog/{a}"))
        .await
        .expect_status(200);
    assert_eq!(entry["mounted"], true);
}
both_backends!(cat_6_unmounted_published_entries_are_listed);
