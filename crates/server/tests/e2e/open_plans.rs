//! OPN-8 (HZ 30, HZ 36, XJ 31, JY 26): a department files its yearly open plan with
//! the data authority, which returns it with reasons or accepts it; the authority
//! publishes the year's priority domains after hearing the sectors and the public;
//! the public reads the level's plan with each body's progress, which moves when a
//! planned dataset reaches the open catalog.
use std::sync::Arc;

use gongshu_services::Ctx;
use gongshu_store::AuditFilter;
use serde_json::{json, Value};

use crate::common::{send, TestServer};

/// The demo region with its open datasets (and the demo's plans for this year).
async fn seeded(srv: &TestServer) -> crate::common::Demo {
    let demo = srv.seed_demo().await;
    gongshu_services::demo_open::seed_open(&srv.app)
        .await
        .expect("open demo datasets");
    demo
}

fn this_year() -> i32 {
    gongshu_services::open_plans::current_year()
}

/// The code of the open dataset named `name`.
async fn code_of(srv: &TestServer, name: &str) -> String {
    let found = srv
        .anon()
        .get(&format!("/api/v1/open/datasets?q={name}&limit=100"))
        .await
        .expect_status(200);
    found["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["content"]["name"] == name)
        .unwrap_or_else(|| panic!("an open dataset named {name}: {found}"))["code"]
        .as_str()
        .expect("code")
        .to_string()
}

async fn audit_count(srv: &TestServer, action: &str, object_id: &str) -> usize {
    srv.app
        .store
        .list_audit(&AuditFilter {
            action: Some(action.into()),
            object_id: Some(object_id.into()),
            ..Default::default()
        })
        .await
        .expect("audit")
        .len()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

const PLANNED: &str = "云川市卫生监督执法信息";

async fn opn_8_a_department_files_the_authority_returns_then_accepts_and_progress_follows_the_open_catalog(
    srv: Arc<TestServer>,
) {
    let demo = seeded(&srv).await;
    // Next year's plan: the demo's plans are this year's.
    let year = this_year() + 1;
    let health_id = srv.org_id("云川市卫生健康委员会").await;
    let health = srv.login_demo(&demo, "health.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let authority = srv.login_demo(&demo, "authority").await;
    let clinics = code_of(&srv, "云川市预防接种门诊信息").await;
    let items = json!([
        {"resource": clinics, "quarter": 1},
        {"name": PLANNED, "domain": "health", "open_type": "unconditional", "quarter": 2},
    ]);
    let plan = json!({
        "year": year,
        "responsible_department": "市卫健委信息中心",
        "responsible_person": "何康",
        "items": items,
        "file": true,
    });

    // Another department cannot file for it.
    let mut for_other = plan.clone();
    for_other["org_id"] = json!(health_id);
    civil
        .post("/api/v1/open-plans", for_other)
        .await
        .expect_error(403, "auth.denied");
    // Data another body obtained is not in its plan (HZ 36).
    let mut foreign = plan.clone();
    foreign["items"] =
        json!([{"resource": code_of(&srv, "云川市养老机构名录").await, "quarter": 1}]);
    health
        .post("/api/v1/open-plans", foreign)
        .await
        .expect_error(400, "open_plan.not_own_data");

    // The department files its own plan.
    let filed = health
        .post("/api/v1/open-plans", plan.clone())
        .await
        .expect_status(200);
    let id = filed["id"].as_str().unwrap().to_string();
    assert_eq!(filed["status"], "filed");
    assert_eq!(filed["org_id"], health_id.as_str());
    assert!(
        !filed["chief_data_officer"].as_str().unwrap().is_empty(),
        "the chief data officer comes from the body's filed officers: {filed}"
    );
    assert_eq!(filed["items"][0]["resource"], clinics.as_str());
    assert_eq!(filed["items"][0]["name"], "云川市预防接种门诊信息");
    assert_eq!(filed["items"][0]["done"], true);
    assert_eq!(filed["items"][1]["done"], false);
    assert_eq!(filed["progress"]["percent"], 50);
    assert_eq!(audit_count(&srv, "open.plan_file", &id).await, 1);
    // Under review it does not change; other departments do not see it.
    health
        .post("/api/v1/open-plans", plan.clone())
        .await
        .expect_error(409, "open_plan.under_review");
    civil
        .get(&format!("/api/v1/open-plans/{id}"))
        .await
        .expect_error(404, "not_found");
    let own = civil
        .get(&format!("/api/v1/open-plans?year={year}"))
        .await
        .expect_status(200);
    assert_eq!(own.as_array().unwrap().len(), 0, "{own}");

    // Only the authority reviews, and returning needs reasons.
    let review = format!("/api/v1/open-plans/{id}/review");
    health
        .post(&review, json!({"decision": "accept"}))
        .await
        .expect_error(403, "auth.denied");
    authority
        .post(&review, json!({"decision": "return", "reasons": "  "}))
        .await
        .expect_error(400, "open_plan.reasons_required");
    let returned = authority
        .post(
            &review,
            json!({"decision": "return", "reasons": "请补充医疗卫生领域的高价值数据"}),
        )
        .await
        .expect_status(200);
    assert_eq!(returned["status"], "returned");
    assert_eq!(
        returned["reviews"][0]["reasons"],
        "请补充医疗卫生领域的高价值数据"
    );
    let audits = srv
        .app
        .store
        .list_audit(&AuditFilter {
            action: Some("open.plan_return".into()),
            object_id: Some(id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].draft.org_id.as_deref(), Some(health_id.as_str()));
    let public = srv
        .anon()
        .get(&format!("/api/v1/open/plans?year={year}"))
        .await
        .expect_status(200);
    assert_eq!(
        public["plans"].as_array().unwrap().len(),
        0,
        "not accepted yet: {public}"
    );

    // Filed again, then accepted: it joins the published level plan.
    let refiled = health
        .post("/api/v1/open-plans", plan.clone())
        .await
        .expect_status(200);
    assert_eq!(refiled["status"], "filed");
    let accepted = authority
        .post(&review, json!({"decision": "accept"}))
        .await
        .expect_status(200);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["published"], true);
    authority
        .post(&review, json!({"decision": "accept"}))
        .await
        .expect_error(409, "open_plan.not_filed");
    let public = srv
        .anon()
        .get(&format!("/api/v1/open/plans?year={year}"))
        .await
        .expect_status(200);
    let plans = public["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 1, "{public}");
    assert_eq!(plans[0]["org_name"], "云川市卫生健康委员会");
    assert_eq!(plans[0]["progress"]["done"], 1);
    assert_eq!(plans[0]["progress"]["percent"], 50);
    assert_eq!(public["progress"]["items"], 2);
    assert!(
        public["plans"][0].get("reviews").is_none(),
        "the public reads the plan, not the review notes"
    );

    // The authority publishes next year's priorities, after hearing both sides.
    let priorities = format!("/api/v1/open-priorities/{year}");
    let body = json!({
        "domains": ["health", "transport", "meteorology"],
        "sector_hearing": "征求 12 个部门意见",
        "public_hearing": "",
    });
    let put = |who: &crate::common::Session, body: Value| {
        send(who.request(reqwest::Method::PUT, &priorities).json(&body))
    };
    put(&health, body.clone())
        .await
        .expect_error(403, "auth.denied");
    put(&authority, body.clone())
        .await
        .expect_error(400, "open_priorities.public_hearing_required");
    let mut heard = body.clone();
    heard["public_hearing"] = json!("公开征求意见 30 日，收到建议 40 条");
    let published = put(&authority, heard).await.expect_status(200);
    assert_eq!(published["published"], true);
    assert_eq!(published["version"], 1);
    let read = srv
        .anon()
        .get(&format!("/api/v1/open/priorities?year={year}"))
        .await
        .expect_status(200);
    assert_eq!(
        read["domains"],
        json!(["health", "transport", "meteorology"])
    );
    assert_eq!(read["public_hearing"], "公开征求意见 30 日，收到建议 40 条");
    assert_eq!(
        audit_count(&srv, "open.priorities_publish", &year.to_string()).await,
        1
    );
    let default = srv
        .anon()
        .get(&format!("/api/v1/open/priorities?year={}", year + 5))
        .await
        .expect_status(200);
    assert_eq!(default["published"], false);
    assert!(default["domains"].as_array().unwrap().len() >= 5);

    // The planned dataset is catalogued and opened; linking it keeps the plan
    // accepted, and the published progress moves.
    let template = srv
        .app
        .store
        .get_catalog_entry_by_code(&clinics)
        .await
        .unwrap()
        .unwrap();
    let mut content = template.published.clone().unwrap();
    content.name = PLANNED.into();
    let entry = gongshu_services::demo_catalog::publish_for_demo(
        &srv.app,
        &Ctx::cli(),
        &health_id,
        content,
    )
    .await
    .expect("published");
    let mut linked = plan.clone();
    linked["items"][1]["resource"] = json!(entry.code);
    linked["file"] = json!(false);
    let after = health
        .post("/api/v1/open-plans", linked)
        .await
        .expect_status(200);
    assert_eq!(after["status"], "accepted", "{after}");
    assert_eq!(audit_count(&srv, "open.plan_link", &id).await, 1);
    let public = srv
        .anon()
        .get(&format!("/api/v1/open/plans?year={year}"))
        .await
        .expect_status(200);
    assert_eq!(public["plans"][0]["progress"]["done"], 2, "{public}");
    assert_eq!(public["plans"][0]["progress"]["percent"], 100);
    assert_eq!(public["progress"]["percent"], 100);
    assert_eq!(public["plans"][0]["items"][1]["priority"], true);

    // Any other change is a revision: back to draft, the accepted version stays public.
    let mut revised = plan.clone();
    revised["items"][1]["quarter"] = json!(3);
    revised["items"][1]["resource"] = json!(entry.code);
    revised["file"] = json!(false);
    let draft = health
        .post("/api/v1/open-plans", revised)
        .await
        .expect_status(200);
    assert_eq!(draft["status"], "draft");
    let public = srv
        .anon()
        .get(&format!("/api/v1/open/plans?year={year}"))
        .await
        .expect_status(200);
    assert_eq!(public["plans"].as_array().unwrap().len(), 1);
    assert_eq!(public["plans"][0]["items"][1]["quarter"], 2);
}
both_backends!(
    opn_8_a_department_files_the_authority_returns_then_accepts_and_progress_follows_the_open_catalog
);

async fn opn_8_the_portal_shows_the_years_priorities_and_each_bodys_plan_with_progress(
    srv: Arc<TestServer>,
) {
    let demo = seeded(&srv).await;
    let year = this_year();
    // The demo published this year's priorities (with 气象, not a default domain)
    // and accepted four plans, returning 民政局's.
    let level = srv
        .anon()
        .get("/api/v1/open/plans")
        .await
        .expect_status(200);
    assert_eq!(level["year"], year);
    assert_eq!(level["priorities"]["published"], true);
    let names: Vec<&str> = level["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["org_name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(!names.contains(&"云川市民政局"), "{names:?}");
    let progress = &level["progress"];
    assert!(progress["done"].as_u64().unwrap() > 0, "{progress}");
    assert!(
        progress["done"].as_u64().unwrap() < progress["items"].as_u64().unwrap(),
        "some datasets are still planned: {progress}"
    );

    let page = send(srv.anon().request(reqwest::Method::GET, "/open/plans")).await;
    assert_eq!(page.status, 200);
    for shown in [
        "年度开放重点领域",
        "云川市卫生健康委员会",
        "云川市交通运输局",
        "云川市家庭医生签约服务团队信息",
        "已开放",
        "<progress",
        "听取社会公众意见",
    ] {
        assert!(page.text.contains(shown), "the plans page lacks {shown}");
    }
    assert!(
        !page.text.contains("云川市婚姻登记机关信息"),
        "a returned plan is not published"
    );
    // The portal home shows this year's published priorities and links the plans.
    let home = send(srv.anon().request(reqwest::Method::GET, "/open")).await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("href=\"/open/plans\""), "{}", home.text);
    assert!(
        home.text
            .contains("class=\"card domain priority\" href=\"/open/datasets?domain=meteorology\""),
        "meteorology is a published priority: {}",
        home.text
    );
    assert!(
        !home.text.contains(
            "class=\"card domain priority\" href=\"/open/datasets?domain=natural_resources\""
        ),
        "the published list replaces the default one"
    );
    let en = send(
        srv.anon()
            .request(reqwest::Method::GET, "/open/plans")
            .header("cookie", "gongshu_lang=en"),
    )
    .await;
    assert_eq!(en.status, 200);

    // The console: the authority sees every plan with review forms; a department
    // its own plan with the authority's reasons.
    let authority = srv.login_demo(&demo, "authority").await;
    let console = send(authority.request(reqwest::Method::GET, "/open-plans")).await;
    assert_eq!(console.status, 200, "{}", console.text);
    assert!(console.text.contains("id=\"plans-table\""));
    assert!(console.text.contains("id=\"priorities-form\""));
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let own = send(civil.request(reqwest::Method::GET, "/open-plans")).await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert!(own.text.contains("已退回"), "{}", own.text);
    assert!(own.text.contains("最低生活保障标准"), "the reasons show");
    assert!(!own.text.contains("id=\"plans-table\""));

    // A form with a broken row comes back filled in, with the problem named.
    let sent = send(
        civil
            .without_csrf
            .request(reqwest::Method::POST, "/open-plans")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("csrf", &civil.csrf),
                ("year", &year.to_string()),
                ("responsible_department", "市民政局办公室"),
                ("responsible_person", "郑民"),
                ("item_resource", ""),
                ("item_name", "云川市最低生活保障标准信息"),
                ("item_domain", ""),
                ("item_open_type", "unconditional"),
                ("item_quarter", "4"),
                ("item_target_date", ""),
                ("item_responsible", ""),
                ("item_note", ""),
                ("notes", "补充后重新报备"),
                ("file", "1"),
            ])),
    )
    .await;
    assert_eq!(sent.status, 400, "{}", sent.text);
    assert!(
        sent.text.contains("open_plan.unknown_domain"),
        "{}",
        sent.text
    );
    assert!(
        sent.text.contains("云川市最低生活保障标准信息"),
        "the row is kept"
    );
    assert!(sent.text.contains("补充后重新报备"));
    // Fixed and filed again from the console.
    let fixed = send(
        civil
            .without_csrf
            .request(reqwest::Method::POST, "/open-plans")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("csrf", &civil.csrf),
                ("year", &year.to_string()),
                ("responsible_department", "市民政局办公室"),
                ("responsible_person", "郑民"),
                ("item_resource", ""),
                ("item_name", "云川市最低生活保障标准信息"),
                ("item_domain", "social_security"),
                ("item_open_type", "unconditional"),
                ("item_quarter", "4"),
                ("item_target_date", ""),
                ("item_responsible", ""),
                ("item_note", ""),
                ("notes", ""),
                ("file", "1"),
            ])),
    )
    .await;
    assert_eq!(fixed.status, 200, "{}", fixed.text);
    assert!(fixed.text.contains("id=\"done\""), "{}", fixed.text);
    assert!(fixed.text.contains("id=\"under-review\""));
    // A form without its CSRF token is refused.
    let forged = send(
        civil
            .without_csrf
            .request(reqwest::Method::POST, "/open-plans")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", "wrong"), ("file", "1")])),
    )
    .await;
    assert_eq!(forged.status, 403);
}
both_backends!(opn_8_the_portal_shows_the_years_priorities_and_each_bodys_plan_with_progress);
