//! COL-7 (XJ 13): a lower-level platform node reports its catalog's data to the
//! next level's node. Each test runs two real servers on the same backend: the city
//! node (830100) reports to the province node (830000).
use std::sync::Arc;

use gongshu_services::upstream::UpstreamTarget;
use gongshu_store::AuditFilter;
use serde_json::{json, Value};

use gongshu_domain::permissions::{Principal, Role};
use gongshu_services::Ctx;

use crate::common::{send, Demo, Session, TestServer};
use crate::data::{data_resources, household_csv, person};
use crate::data_pages::{open, submit};
use crate::sharing::{consumer_token, ctx_of};
use chrono::{Duration, Utc};
use gongshu_services::catalog::today_in_china;
use gongshu_services::sharing::{self, NewShareRequest, StepInput};

async fn upload_household(psb: &Session, code: &str, ids: &[String]) {
    let marital: Vec<&str> = ids.iter().map(|_| "已婚").collect();
    let r = send(
        psb.request(
            reqwest::Method::POST,
            &format!("/api/v1/datasets/{code}/loads?file_name=household.csv"),
        )
        .header("content-type", "application/octet-stream")
        .body(household_csv(ids, &marital)),
    )
    .await
    .expect_status(201);
    assert_eq!(r["rows_accepted"], ids.len());
}

/// The province node issues the city data authority a token to report with.
async fn reporting_token(upper: &TestServer) -> (Demo, Session, String) {
    let demo = upper.seed_demo().await;
    let authority = upper.login_demo(&demo, "authority").await;
    let issued = authority
        .post(
            "/api/v1/tokens",
            json!({"org_id": authority.org_id, "name": "云川市平台报送", "permissions": ["catalog.register", "data.load"], "expires_in_days": 30}),
        )
        .await
        .expect_status(201);
    let secret = issued["secret"].as_str().unwrap().to_string();
    (demo, authority, secret)
}

fn outcome<'a>(run: &'a Value, code: &str) -> &'a Value {
    run["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == code)
        .unwrap_or_else(|| panic!("no outcome for {code} in {run}"))
}

/// Grants on the upper copy to two departments of the upper node (民政局, then 公安局).
async fn two_grants_on(
    upper: &TestServer,
    demo: &Demo,
    source: &Session,
    upper_code: &str,
) -> (gongshu_store::ShareGrant, gongshu_store::ShareGrant) {
    let first = grant_on(upper, demo, source, upper_code, "civil.admin").await;
    let second = grant_on(upper, demo, source, upper_code, "psb.admin").await;
    (first, second)
}

/// The department `requester` administers on the upper node is granted the upper copy of an entry through the
/// ordinary request: submitted, passed conformity, approved by the source.
async fn grant_on(
    upper: &TestServer,
    demo: &Demo,
    source: &Session,
    upper_code: &str,
    requester: &str,
) -> gongshu_store::ShareGrant {
    let civil = upper.login_demo(demo, requester).await;
    let admin = upper.login_demo(demo, "admin").await;
    let (token_id, _) = consumer_token(&civil).await;
    let now = Utc::now();
    let request = NewShareRequest {
        resource_id: upper_code.to_string(),
        purpose: "婚姻登记时核对当事人户籍信息".into(),
        scenario: "婚姻登记".into(),
        legal_duty: "《婚姻登记条例》第七条".into(),
        items: vec!["citizen_id".into(), "name".into()],
        mode: "api".into(),
        token_id: Some(token_id),
        end_date: today_in_china(now) + Duration::days(90),
        commitment_signed: true,
        emergency: false,
        emergency_reason: String::new(),
        scenario_id: None,
    };
    let app = &upper.app;
    let submitted = sharing::submit_at(app, &ctx_of(&civil, Role::OrgAdmin), request, now)
        .await
        .expect("submit");
    let step = |action: &str| StepInput {
        action: action.into(),
        ..Default::default()
    };
    sharing::act_at(
        app,
        &ctx_of(&admin, Role::PlatformAdmin),
        &submitted.id,
        step("pass_conformity"),
        now,
    )
    .await
    .expect("conformity");
    let (_, grant) = sharing::act_at(
        app,
        &ctx_of(source, Role::OrgAdmin),
        &submitted.id,
        step("approve"),
        now,
    )
    .await
    .expect("approve");
    grant.expect("an approval issues a grant")
}

/// The upper node serves the province: it takes reports from the city below it.
fn province_node(config: &mut gongshu_server::Config) {
    config.settings.node_division = Some("830000".into());
}

/// Runs `body` with the city node `lower` and a province node beside it.
async fn with_province_node<F, Fut>(lower: Arc<TestServer>, body: F)
where
    F: FnOnce(Arc<TestServer>, Arc<TestServer>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let backend = lower.backend;
    crate::common::run_configured(backend, province_node, move |upper| body(lower, upper)).await;
}

/// The city's authority takes its entry offline, as the level below.
async fn take_offline_below(authority: &Session, entry_id: &str) {
    authority
        .post(
            &format!("/api/v1/catalog/{entry_id}/offline"),
            json!({"reason": "户籍系统迁移"}),
        )
        .await
        .expect_status(200);
}

/// Runs a report from the city's authority and returns the run.
async fn report_now(authority: &Session) -> Value {
    authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_status(200)
}

/// The upper node's record of the reported entry it keeps as `upper_code`.
async fn received_row(upper_authority: &Session, upper_code: &str) -> Value {
    let received = upper_authority
        .get("/api/v1/upstream/received")
        .await
        .expect_status(200);
    received
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["upper_code"] == upper_code)
        .cloned()
        .unwrap_or_else(|| panic!("no received report for {upper_code}: {received}"))
}

pub(crate) async fn audit_count(srv: &TestServer, action: &str) -> usize {
    srv.app
        .store
        .list_audit(&AuditFilter {
            action: Some(action.into()),
            limit: Some(1000),
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .len()
}

/// The city node reports its published entries and data versions to the province
/// node; an entry of a unit on a province-built system is exempt; a run with nothing
/// new sends nothing; a new data version and taking an entry offline are reported
/// again onto the same upper entry; both sides audit it.
async fn col_7_a_lower_node_reports_its_catalog_data_to_the_next_level(lower: Arc<TestServer>) {
    let backend = lower.backend;
    crate::common::run_configured(backend, province_node, move |upper| async move {
        report_and_receive(lower, upper).await;
    })
    .await;
}
both_backends!(col_7_a_lower_node_reports_its_catalog_data_to_the_next_level);

/// Both demo regions, the city's household data loaded with three people, the
/// city's sessions and the reporting token the province issued.
struct TwoNodes {
    resources: std::collections::HashMap<&'static str, gongshu_store::CatalogEntry>,
    household: String,
    ids: Vec<String>,
    psb: Session,
    authority: Session,
    upper_demo: Demo,
    upper_authority: Session,
    secret: String,
}

async fn two_nodes(lower: &TestServer, upper: &TestServer, first_person: i64) -> TwoNodes {
    let demo = lower.seed_demo().await;
    let resources = data_resources(lower).await;
    let household = resources["household"].code.clone();
    let psb = lower.login_demo(&demo, "psb.admin").await;
    let ids: Vec<String> = (0..3)
        .map(|i| person(first_person + i, (first_person / 10 + i) as u16))
        .collect();
    upload_household(&psb, &household, &ids).await;
    let (upper_demo, upper_authority, secret) = reporting_token(upper).await;
    let authority = lower.login_demo(&demo, "authority").await;
    TwoNodes {
        resources,
        household,
        ids,
        psb,
        authority,
        upper_demo,
        upper_authority,
        secret,
    }
}

/// Points the city node at the province node.
fn connect(lower: &TestServer, upper: &TestServer, secret: &str) {
    lower
        .app
        .upstream
        .set(UpstreamTarget {
            url: upper.base_url.clone(),
            token: secret.to_string(),
            roots: Default::default(),
        })
        .unwrap();
}

async fn report_and_receive(lower: Arc<TestServer>, upper: Arc<TestServer>) {
    let TwoNodes {
        resources,
        household,
        ids,
        psb,
        authority,
        upper_demo,
        upper_authority,
        secret,
    } = two_nodes(&lower, &upper, 100).await;
    let marriage = resources["marriage"].code.clone();

    // Without an upper node there is nothing to report to.
    authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_error(409, "upstream.not_configured");
    connect(&lower, &upper, &secret);

    // Only the data authority reports.
    psb.get("/api/v1/upstream/reports")
        .await
        .expect_error(403, "auth.denied");
    psb.post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_error(403, "auth.denied");

    let overview = authority
        .get("/api/v1/upstream/reports")
        .await
        .expect_status(200);
    assert_eq!(overview["upper_url"], upper.base_url.as_str());
    let step = |o: &Value, code: &str| {
        o["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["code"] == code)
            .map(|e| e["next_step"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(step(&overview, &household), "send_data");
    assert_eq!(step(&overview, &marriage), "send");

    // XJ 13: a unit working on a system the upper level built does not report.
    send(
        authority
            .request(
                reqwest::Method::PUT,
                &format!("/api/v1/upstream/reports/{marriage}/exemption"),
            )
            .json(&json!({"system": " "})),
    )
    .await
    .expect_error(400, "upstream.system_required");
    let exempt = send(
        authority
            .request(
                reqwest::Method::PUT,
                &format!("/api/v1/upstream/reports/{marriage}/exemption"),
            )
            .json(&json!({"system": "示范省婚姻登记统建系统"})),
    )
    .await
    .expect_status(200);
    assert_eq!(exempt["exemption"]["system"], "示范省婚姻登记统建系统");

    let run = authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_status(200);
    let published = resources.len();
    assert_eq!(run["failed"], 0, "{run}");
    assert_eq!(run["reported"], published - 1, "{run}");
    let sent = outcome(&run, &household);
    assert_eq!(sent["outcome"], "reported");
    assert_eq!(sent["rows"], 3);
    let upper_household = sent["upper_code"].as_str().unwrap().to_string();
    assert!(run["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["code"] != marriage.as_str()));

    // The province node holds the entries, published under the city's authority,
    // and the data version with its rows.
    let received = upper_authority
        .get("/api/v1/upstream/received")
        .await
        .expect_status(200);
    let received = received.as_array().unwrap();
    assert_eq!(received.len(), published - 1);
    let got = received
        .iter()
        .find(|r| r["report"]["source_code"] == household.as_str())
        .unwrap();
    assert_eq!(got["reporter"], "云川市数据局");
    assert_eq!(got["upper_code"], upper_household.as_str());
    assert_eq!(got["report"]["source_department"], "云川市公安局");
    assert_eq!(got["rows"], 3);
    let entry = upper_authority
        .get(&format!("/api/v1/catalog/{upper_household}"))
        .await
        .expect_status(200);
    assert_eq!(entry["owner_org_id"], upper_authority.org_id.as_str());
    assert_eq!(entry["published_version"], 1);
    assert_eq!(entry["offline"], false);
    let dataset = upper_authority
        .get(&format!("/api/v1/datasets/{upper_household}"))
        .await
        .expect_status(200);
    assert_eq!(dataset["dataset"]["row_count"], 3);
    assert!(
        dataset["dataset"]["secrecy_review"]["reviewed_by"]
            .as_str()
            .unwrap()
            .contains("云川市数据局"),
        "{dataset}"
    );

    // Nothing new: nothing sent.
    let again = authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_status(200);
    assert_eq!(again["reported"], 0, "{again}");
    assert_eq!(again["skipped"], published);

    // A new data version goes onto the same upper entry.
    upload_household(&psb, &household, &ids[..2]).await;
    let third = authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_status(200);
    assert_eq!(third["reported"], 1, "{third}");
    assert_eq!(
        outcome(&third, &household)["upper_code"],
        upper_household.as_str()
    );
    let dataset = upper_authority
        .get(&format!("/api/v1/datasets/{upper_household}"))
        .await
        .expect_status(200);
    assert_eq!(dataset["dataset"]["row_count"], 2);
    assert_eq!(
        upper_authority
            .get("/api/v1/upstream/received")
            .await
            .expect_status(200)
            .as_array()
            .unwrap()
            .len(),
        published - 1
    );

    // Taken offline below while a department of the upper level holds a share grant
    // on the upper copy: the copy stays in service there until the grant is settled
    // (SHR-13), and the upper page says why.
    let (grant, second) =
        two_grants_on(&upper, &upper_demo, &upper_authority, &upper_household).await;
    take_offline_below(&authority, &resources["household"].id).await;
    let fourth = authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_status(200);
    assert_eq!(fourth["reported"], 1, "{fourth}");
    let held = |entry: &Value| (entry["offline"].clone(), entry["offline_reason"].clone());
    let entry = upper_authority
        .get(&format!("/api/v1/catalog/{upper_household}"))
        .await
        .expect_status(200);
    assert_eq!(held(&entry), (json!(false), Value::Null));
    let row = received_row(&upper_authority, &upper_household).await;
    assert_eq!(row["report"]["offline_below"], true);
    assert_eq!(row["report"]["held_by_grants"], 2);
    open(&upper_authority, "/catalog/upstream")
        .await
        .shows("offline-held")
        .shows(r#"<span class="held-grants">2</span> 个共享授权在用"#);
    assert_eq!(audit_count(&upper, "upstream.offline_held").await, 1);
    upper_authority
        .post(
            &format!(
                "/api/v1/catalog/{}/offline",
                row["report"]["entry_id"].as_str().unwrap()
            ),
            json!({"reason": "下级已下架"}),
        )
        .await
        .expect_error(409, "catalog.grants_outstanding");
    // The hourly sweep leaves a copy alone while a grant still holds it.
    assert_eq!(
        gongshu_services::upstream::release_held_copies(&upper.app, chrono::Utc::now())
            .await
            .unwrap(),
        0
    );
    // One grant revoked: the copy stays, and the count it shows follows.
    let revoke = |id: String| {
        let session = &upper_authority;
        async move {
            session
                .post(
                    &format!("/api/v1/share/grants/{id}/status"),
                    json!({"action": "revoke", "reason": "下级平台已下架该资源"}),
                )
                .await
        }
    };
    revoke(second.id.clone()).await.expect_status(200);
    let entry = upper_authority
        .get(&format!("/api/v1/catalog/{upper_household}"))
        .await
        .expect_status(200);
    assert_eq!(held(&entry), (json!(false), Value::Null));
    let row = received_row(&upper_authority, &upper_household).await;
    assert_eq!(row["report"]["held_by_grants"], 1, "{row}");
    open(&upper_authority, "/catalog/upstream")
        .await
        .shows(r#"<span class="held-grants">1</span> 个共享授权在用"#);
    // Once the last grant is revoked, the copy follows the level below on its own.
    revoke(grant.id.clone()).await.expect_status(200);
    let entry = upper_authority
        .get(&format!("/api/v1/catalog/{upper_household}"))
        .await
        .expect_status(200);
    assert_eq!(entry["offline"], true, "{entry}");
    assert!(
        entry["offline_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("下级平台已下架")),
        "{entry}"
    );
    assert_eq!(audit_count(&upper, "upstream.offline_released").await, 1);
    let row = received_row(&upper_authority, &upper_household).await;
    assert_eq!(row["report"]["held_by_grants"], 0, "{row}");
    assert_eq!(row["offline"], true, "{row}");
    // Nothing is left for the sweep.
    assert_eq!(
        gongshu_services::upstream::release_held_copies(&upper.app, chrono::Utc::now())
            .await
            .unwrap(),
        0
    );

    // The console: the authority sees each entry's report and exempts from the page;
    // the province sees what the city reported.
    let page = open(&authority, "/catalog/upstream").await;
    page.shows(upper.base_url.trim_start_matches("http://"))
        .shows("示范省婚姻登记统建系统")
        .shows(&upper_household)
        .shows("已下架");
    let statistics = resources["statistics"].id.clone();
    let exempted = submit(
        &authority,
        &format!("/catalog/upstream/{statistics}/exemption"),
        &[
            ("csrf", &authority.csrf),
            ("system", "示范省统计联网直报系统"),
        ],
    )
    .await;
    assert_eq!(exempted.status, 200);
    exempted.shows("已保存").shows("示范省统计联网直报系统");
    let ran = submit(
        &authority,
        "/catalog/upstream",
        &[("csrf", &authority.csrf)],
    )
    .await;
    assert_eq!(ran.path, "/catalog/upstream?done=reported");
    ran.shows("已报送");
    // Exempted after it was reported: the upper copy is withdrawn, once.
    let upper_statistics = outcome(&run, &resources["statistics"].code)["upper_code"]
        .as_str()
        .unwrap()
        .to_string();
    let withdrawn = upper_authority
        .get(&format!("/api/v1/catalog/{upper_statistics}"))
        .await
        .expect_status(200);
    assert_eq!(withdrawn["offline"], true);
    assert!(
        withdrawn["offline_reason"]
            .as_str()
            .unwrap()
            .contains("示范省统计联网直报系统"),
        "{withdrawn}"
    );
    let again = authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_status(200);
    assert_eq!(again["reported"], 0, "{again}");
    let psb_page = open(&psb, "/catalog/upstream").await;
    psb_page.lacks("立即报送").lacks("upstream-table");
    open(&upper_authority, "/catalog/upstream")
        .await
        .shows("下级平台报送")
        .shows("云川市数据局")
        .shows(&household)
        .shows("云川市公安局");

    // The first run, the new data version, the offline and the withdrawal.
    assert_eq!(audit_count(&lower, "upstream.report").await, published + 2);
    assert_eq!(audit_count(&lower, "upstream.exempt").await, 2);
    assert_eq!(audit_count(&upper, "upstream.receive").await, published + 2);
    // One per entry created above (the marriage entry is exempt) and one for the
    // withdrawal; the new data version changed no entry there, and the held offline
    // left it as it was.
    assert_eq!(
        audit_count(&upper, "catalog.receive_report").await,
        published
    );
}

/// The upper node takes reports only from the data authority of the level below,
/// with a token it issued; a refused report is recorded with its reason on the
/// reporting node and sent again by the next run.
async fn col_7_reports_are_refused_unless_from_the_authority_below(lower: Arc<TestServer>) {
    let backend = lower.backend;
    crate::common::run_configured(backend, province_node, move |upper| async move {
        refusals(lower, upper).await;
    })
    .await;
}
both_backends!(col_7_reports_are_refused_unless_from_the_authority_below);

async fn refusals(lower: Arc<TestServer>, upper: Arc<TestServer>) {
    let demo = lower.seed_demo().await;
    let resources = data_resources(&lower).await;
    let household = resources["household"].code.clone();
    let (upper_demo, _, secret) = reporting_token(&upper).await;
    let upper_psb = upper.login_demo(&upper_demo, "psb.admin").await;
    let report = json!({
        "source_code": household, "version": 1, "source_department": "云川市公安局",
        "content": resources["household"].published,
    });

    // A department's token is not a platform's.
    let department = upper_psb
        .post(
            "/api/v1/tokens",
            json!({"org_id": upper_psb.org_id, "name": "前置机", "permissions": ["data.load"], "expires_in_days": 30}),
        )
        .await
        .expect_status(201);
    upper
        .bearer(department["secret"].as_str().unwrap())
        .post("/api/v1/upstream/received", report.clone())
        .await
        .expect_error(403, "auth.denied");
    let mut blank = report.clone();
    blank["source_code"] = json!(" ");
    upper
        .bearer(&secret)
        .post("/api/v1/upstream/received", blank)
        .await
        .expect_error(400, "upstream.source_code_invalid");

    // The province's own authority has no level above it on this node: it is not
    // the authority of the level below, so it cannot report here.
    let ids = gongshu_services::demo::demo_org_ids(&upper.app)
        .await
        .unwrap();
    let province = Ctx::new(
        Principal::for_user(
            "province-user",
            &ids["prov_authority"],
            &[Role::AuthorityAdmin, Role::OrgAdmin],
        ),
        None,
    );
    let incoming = || serde_json::from_value(report.clone()).unwrap();
    let refused = gongshu_services::upstream::receive(&upper.app, &province, incoming())
        .await
        .unwrap_err();
    assert_eq!(refused.code, "upstream.not_next_level");
    // A district reports to the city's node, not over its head to the province.
    let district = Ctx::new(
        Principal::for_user(
            "district-user",
            &ids["donghu_authority"],
            &[Role::AuthorityAdmin, Role::OrgAdmin],
        ),
        None,
    );
    let refused = gongshu_services::upstream::receive(&upper.app, &district, incoming())
        .await
        .unwrap_err();
    assert_eq!(refused.code, "upstream.not_next_level");
    // A node that was not told which division it serves takes no reports at all.
    let lower_ids = gongshu_services::demo::demo_org_ids(&lower.app)
        .await
        .unwrap();
    let below_city = Ctx::new(
        Principal::for_user(
            "district-user",
            &lower_ids["donghu_authority"],
            &[Role::AuthorityAdmin, Role::OrgAdmin],
        ),
        None,
    );
    let refused = gongshu_services::upstream::receive(&lower.app, &below_city, incoming())
        .await
        .unwrap_err();
    assert_eq!(refused.code, "upstream.node_division_unset");

    // A token the upper node never issued: the first entry records the refusal, the
    // run stops there (every other entry would be refused alike) and all stay due.
    let authority = lower.login_demo(&demo, "authority").await;
    lower
        .app
        .upstream
        .set(UpstreamTarget {
            url: upper.base_url.clone(),
            token: "gs_not_issued_by_the_upper_node".into(),
            roots: Default::default(),
        })
        .unwrap();
    let run = authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_status(200);
    assert_stopped_after_one(&lower, &authority, &run, resources.len(), "auth.bad_token").await;
    assert!(upper
        .app
        .store
        .list_received_reports(None)
        .await
        .unwrap()
        .is_empty());
}

/// A run that met a node-wide failure: one entry failed with `error`, the rest were
/// not tried, and every one of them is still due for the next run.
async fn assert_stopped_after_one(
    lower: &TestServer,
    authority: &Session,
    run: &Value,
    due: usize,
    error: &str,
) {
    assert_eq!(run["reported"], 0, "{run}");
    assert_eq!(run["failed"], 1, "{run}");
    assert_eq!(run["not_tried"], due - 1, "{run}");
    let failed = &run["outcomes"][0];
    assert!(
        failed["error"].as_str().unwrap().contains(error),
        "{failed}"
    );
    let overview = authority
        .get("/api/v1/upstream/reports")
        .await
        .expect_status(200);
    let entries = overview["entries"].as_array().unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["next_step"].as_str().unwrap().starts_with("send"))
            .count(),
        due,
        "{overview}"
    );
    let tried = entries
        .iter()
        .find(|e| e["code"] == failed["code"])
        .unwrap();
    assert_eq!(tried["report"]["outcome"], "failed");
    assert_eq!(audit_count(lower, "upstream.report_failed").await, 1);
}

/// An upper node that cannot be reached stops the run at the first entry instead of
/// waiting on each in turn; nothing is lost and the next run sends everything.
async fn col_7_an_unreachable_upper_node_stops_the_run_and_keeps_every_entry_due(
    lower: Arc<TestServer>,
) {
    let demo = lower.seed_demo().await;
    let resources = data_resources(&lower).await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    lower
        .app
        .upstream
        .set(UpstreamTarget {
            url: format!("http://{closed}"),
            token: "gs_reporting_token".into(),
            roots: Default::default(),
        })
        .unwrap();
    let authority = lower.login_demo(&demo, "authority").await;
    let run = authority
        .post("/api/v1/upstream/reports", json!({}))
        .await
        .expect_status(200);
    assert_stopped_after_one(
        &lower,
        &authority,
        &run,
        resources.len(),
        "无法连接上级平台",
    )
    .await;
    let page = submit(
        &authority,
        "/catalog/upstream",
        &[("csrf", &authority.csrf)],
    )
    .await;
    assert_eq!(page.path, "/catalog/upstream?done=failed");
    page.shows("部分条目报送失败").shows("无法连接上级平台");
}
both_backends!(col_7_an_unreachable_upper_node_stops_the_run_and_keeps_every_entry_due);

/// What the upper level decided of its copy stands against later reports; a report
/// older than one already received is refused; a department's finding of state
/// secrets goes up with the entry while its data stays below, and the upper level
/// withholds what it had (COL-6).
async fn col_7_col_6_upper_decisions_and_secrecy_findings_hold_across_reports(
    lower: Arc<TestServer>,
) {
    with_province_node(lower, decisions_hold).await;
}
both_backends!(col_7_col_6_upper_decisions_and_secrecy_findings_hold_across_reports);

async fn decisions_hold(lower: Arc<TestServer>, upper: Arc<TestServer>) {
    let TwoNodes {
        resources,
        household,
        psb,
        authority,
        upper_authority,
        secret,
        ..
    } = two_nodes(&lower, &upper, 200).await;
    connect(&lower, &upper, &secret);
    let row_of = |overview: &Value| {
        overview["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["code"] == household.as_str())
            .unwrap()
            .clone()
    };
    let household_row = || async {
        row_of(
            &authority
                .get("/api/v1/upstream/reports")
                .await
                .expect_status(200),
        )
    };
    let run = report_now(&authority).await;
    assert_eq!(run["failed"], 0, "{run}");
    let upper_household = outcome(&run, &household)["upper_code"]
        .as_str()
        .unwrap()
        .to_string();
    let first_load = household_row().await["current_load_id"].clone();
    assert_eq!(
        household_row().await["report"]["reported_load_id"],
        first_load
    );
    let upper_copy = entry_by_code(&upper, &upper_household).await;
    let copy_state = || async {
        let copy = upper_authority
            .get(&format!("/api/v1/catalog/{upper_household}"))
            .await
            .expect_status(200);
        (copy["offline"].clone(), copy["offline_reason"].clone())
    };

    // The province takes its copy offline. A new data version below is offered but
    // not taken, and not counted as delivered; a new catalog version does not bring
    // the copy back.
    upper_authority
        .post(
            &format!("/api/v1/catalog/{}/offline", upper_copy.id),
            json!({"reason": "本级改用省级人口库"}),
        )
        .await
        .expect_status(200);
    let more: Vec<String> = (0..4).map(|i| person(300 + i, 30 + i as u16)).collect();
    upload_household(&psb, &household, &more).await;
    let second = report_now(&authority).await;
    assert_eq!(second["reported"], 1, "{second}");
    assert_eq!(outcome(&second, &household)["rows"], Value::Null);
    let row = household_row().await;
    assert_ne!(row["current_load_id"], first_load);
    assert_eq!(row["report"]["reported_load_id"], first_load, "{row}");
    assert_eq!(row["next_step"], "send_data");
    assert_eq!(
        copy_state().await,
        (json!(true), json!("本级改用省级人口库"))
    );

    // The city takes the entry offline and publishes it again: the copy stays
    // offline, as the province decided.
    republish(&lower, &household, true).await;
    assert_eq!(report_now(&authority).await["reported"], 1);
    republish(&lower, &household, false).await;
    assert_eq!(report_now(&authority).await["reported"], 1);
    assert_eq!(
        copy_state().await,
        (json!(true), json!("本级改用省级人口库"))
    );

    // A report older than the one received is refused.
    let stale = json!({
        "source_code": household, "version": 1, "source_department": "云川市公安局",
        "content": resources["household"].published,
    });
    upper
        .bearer(&secret)
        .post("/api/v1/upstream/received", stale)
        .await
        .expect_error(409, "upstream.stale_version");

    // The public security bureau finds state secrets in the household data: the
    // finding goes up without data, once, and holds on the province's copy even
    // while it is offline, so the copy can never serve it again.
    psb.post(
        &format!("/api/v1/datasets/{household}/secrecy-review"),
        json!({"conclusion": "state_secret", "note": "含涉密人员"}),
    )
    .await
    .expect_status(200);
    let row = household_row().await;
    assert_eq!(row["next_step"], "send", "{row}");
    assert_eq!(row["data_held_back"], true);
    open(&authority, "/catalog/upstream")
        .await
        .shows("data-held-back");
    let third = report_now(&authority).await;
    assert_eq!(third["reported"], 1, "{third}");
    assert_eq!(outcome(&third, &household)["rows"], Value::Null);
    let held = upper_authority
        .get(&format!("/api/v1/datasets/{upper_household}"))
        .await
        .expect_status(200);
    assert_eq!(
        held["dataset"]["secrecy_review"]["conclusion"], "state_secret",
        "{held}"
    );
    let fourth = report_now(&authority).await;
    assert_eq!(fourth["reported"], 0, "{fourth}");
}

/// A new published version of an entry, online or offline, as the catalog flow
/// leaves it.
async fn republish(srv: &TestServer, code: &str, offline: bool) {
    let mut entry = entry_by_code(srv, code).await;
    let expected = entry.updated_at;
    entry.published_version += 1;
    entry.offline = offline;
    entry.offline_reason = offline.then(|| "户籍系统迁移".to_string());
    srv.app
        .store
        .commit(
            vec![gongshu_store::Change::UpdateCatalogEntry {
                entry,
                expected_updated_at: expected,
            }],
            vec![],
        )
        .await
        .unwrap();
}

async fn entry_by_code(srv: &TestServer, code: &str) -> gongshu_store::CatalogEntry {
    srv.app
        .store
        .get_catalog_entry_by_code(code)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no entry {code}"))
}

/// Every published entry is in the overview (and the run, which reads the same list),
/// however many the node has:
/// the catalog is read page by page.
async fn col_7_every_published_entry_is_considered_however_many(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let template = srv
        .app
        .store
        .get_catalog_entry_by_code(&resources["statistics"].code)
        .await
        .unwrap()
        .unwrap();
    let many = 1000;
    let changes = (0..many)
        .map(|i| {
            let mut e = template.clone();
            e.id = uuid::Uuid::new_v4().to_string();
            e.code = format!("499-{:06}", 100_000 + i);
            e.mounted = false;
            gongshu_store::Change::InsertCatalogEntry(e)
        })
        .collect();
    srv.app.store.commit(changes, vec![]).await.unwrap();
    let authority = srv.login_demo(&demo, "authority").await;
    let overview = authority
        .get("/api/v1/upstream/reports")
        .await
        .expect_status(200);
    let entries = overview["entries"].as_array().unwrap();
    assert_eq!(entries.len(), many + resources.len());
    assert!(entries.iter().any(|e| e["code"] == "499-100999"));
    // The same paging is open to API clients: after a code, in code order.
    let after = authority
        .get("/api/v1/catalog?q=499-1009&code_after=499-100995&limit=10")
        .await
        .expect_status(200);
    let codes: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["499-100996", "499-100997", "499-100998", "499-100999"]
    );
}
both_backends!(col_7_every_published_entry_is_considered_however_many);

/// SHR-13 across levels: a copy held for a grant is released by the hourly sweep
/// once the grant's term is over, which no request announces.
async fn col_7_shr_13_the_hourly_sweep_releases_a_copy_whose_grant_ended(lower: Arc<TestServer>) {
    with_province_node(lower, sweep_releases).await;
}
both_backends!(col_7_shr_13_the_hourly_sweep_releases_a_copy_whose_grant_ended);

async fn sweep_releases(lower: Arc<TestServer>, upper: Arc<TestServer>) {
    let TwoNodes {
        resources,
        household,
        authority,
        upper_demo,
        upper_authority,
        secret,
        ..
    } = two_nodes(&lower, &upper, 300).await;
    connect(&lower, &upper, &secret);
    let run = report_now(&authority).await;
    let upper_household = outcome(&run, &household)["upper_code"]
        .as_str()
        .unwrap()
        .to_string();
    let (grant, second) =
        two_grants_on(&upper, &upper_demo, &upper_authority, &upper_household).await;
    take_offline_below(&authority, &resources["household"].id).await;
    report_now(&authority).await;
    let row = received_row(&upper_authority, &upper_household).await;
    assert_eq!(row["report"]["held_by_grants"], 2, "{row}");
    assert_eq!(row["offline"], false, "{row}");

    // A grant's term ends (as time passes; no request is made).
    let end_term = |id: String| {
        let upper = upper.clone();
        async move {
            let mut ended = upper.app.store.get_grant(&id).await.unwrap().unwrap();
            ended.ends_on = today_in_china(Utc::now()) - Duration::days(1);
            upper
                .app
                .store
                .commit(vec![gongshu_store::Change::PutGrant(ended)], vec![])
                .await
                .unwrap();
        }
    };
    // One of two: the copy stays, and the sweep brings its count down.
    end_term(second.id.clone()).await;
    assert_eq!(
        gongshu_services::upstream::release_held_copies(&upper.app, Utc::now())
            .await
            .unwrap(),
        0
    );
    let row = received_row(&upper_authority, &upper_household).await;
    assert_eq!(row["offline"], false, "{row}");
    assert_eq!(row["report"]["held_by_grants"], 1, "{row}");
    // The last one.
    end_term(grant.id.clone()).await;
    assert_eq!(
        gongshu_services::upstream::release_held_copies(&upper.app, Utc::now())
            .await
            .unwrap(),
        1
    );
    let row = received_row(&upper_authority, &upper_household).await;
    assert_eq!(row["offline"], true, "{row}");
    assert_eq!(row["report"]["held_by_grants"], 0, "{row}");
    assert_eq!(audit_count(&upper, "upstream.offline_released").await, 1);
    // Once released, nothing is left to do.
    assert_eq!(
        gongshu_services::upstream::release_held_copies(&upper.app, Utc::now())
            .await
            .unwrap(),
        0
    );
}
