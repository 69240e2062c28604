//! SHR-4 … SHR-9, GOV-5 in the console: the demo's requests in every state, each
//! party's review queue with its deadlines and notices, grant suspension from the
//! grants page, and the access log a source department searches.
use std::collections::HashMap;
use std::sync::Arc;

use gongshu_domain::catalog::ShareType;
use gongshu_services::Ctx;
use serde_json::Value;

use crate::common::TestServer;
use crate::data_pages::{open, submit};

/// Publishes a variant of one of the demo's data resources, by its source department.
async fn publish_variant(
    srv: &TestServer,
    key: &str,
    edit: impl FnOnce(&mut gongshu_domain::catalog::EntryContent),
) -> gongshu_store::CatalogEntry {
    let ids = gongshu_services::demo::demo_org_ids(&srv.app)
        .await
        .expect("org ids");
    let id_of = |k: &str| ids.get(k).cloned().unwrap_or_default();
    let resource = gongshu_services::demo_data::resources(&id_of)
        .into_iter()
        .find(|r| r.key == key)
        .expect("a demo resource");
    let mut content = resource.content;
    edit(&mut content);
    gongshu_services::demo_catalog::publish_for_demo(
        &srv.app,
        &Ctx::cli(),
        &id_of(resource.org),
        content,
    )
    .await
    .expect("published variant")
}

/// The demo region with its mounted resources, one not-shared entry, and the demo's
/// sharing seeded over them.
async fn seeded(
    srv: &TestServer,
) -> (
    crate::common::Demo,
    HashMap<String, String>,
    gongshu_services::demo_sharing::DemoConsumer,
) {
    let demo = srv.seed_demo().await;
    let size = gongshu_services::demo_data::DemoSize {
        people: 40,
        entities: 10,
    };
    let resources = gongshu_services::demo_data::seed_data(&srv.app, size)
        .await
        .expect("demo data")
        .resources;
    publish_variant(srv, "statistics", |c| {
        c.name = "涉密统计调查原始数据（演示）".into();
        c.share_type = ShareType::NotShared;
        c.share_modes.clear();
        c.share_conditions.clear();
        c.legal_basis = "《统计法》第三十九条".into();
    })
    .await;
    let consumer = gongshu_services::demo_sharing::seed(&srv.app, &resources)
        .await
        .expect("demo sharing");
    (demo, resources, consumer)
}

/// The demo consumer's printed call: its token looks its sample person up.
async fn demo_call(
    srv: &TestServer,
    consumer: &gongshu_services::demo_sharing::DemoConsumer,
) -> crate::common::Resp {
    crate::common::send(
        srv.anon()
            .request(
                reqwest::Method::GET,
                &format!(
                    "/api/v1/services/{}/records/{}",
                    consumer.resource_code, consumer.sample_key
                ),
            )
            .bearer_auth(&consumer.token_secret),
    )
    .await
}

/// The demo files a request in every state, one overdue at the source, and a suspended
/// grant; each party's /share page queues what waits for it, with the overdue notice.
async fn shr_4_demo_requests_in_every_state_fill_each_partys_queue(srv: Arc<TestServer>) {
    let (demo, _, consumer) = seeded(&srv).await;
    let admin = srv.login_demo(&demo, "admin").await;
    let all = admin.get("/api/v1/share/requests").await.expect_status(200);
    let statuses: std::collections::BTreeSet<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    for s in [
        "conformity_check",
        "source_review",
        "negotiation",
        "disputed",
        "approved",
        "refused",
        "withdrawn",
    ] {
        assert!(statuses.contains(s), "a demo request is {s}: {statuses:?}");
    }
    let overdue: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["overdue_since"].is_null())
        .collect();
    assert_eq!(overdue.len(), 1, "{all}");
    assert_eq!(overdue[0]["status"], "source_review");

    // The platform's queue holds the request awaiting its conformity check.
    let page = open(&admin, "/share").await;
    assert_eq!(page.status, 200);
    page.shows("id=\"notice-new\"")
        .shows("家庭医生签约时核对居民身份");

    // 民政局 is the source of the overdue request: it sits in its queue, marked.
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let page = open(&civil, "/share").await;
    page.shows("id=\"notice-overdue\"")
        .shows("个体工商户登记时核对家庭经营者婚姻状况")
        .shows("class=\"error\"");
    // The authority coordinates the dispute and negotiates the not-shared request.
    let authority = srv.login_demo(&demo, "authority").await;
    let page = open(&authority, "/share").await;
    page.shows("社会组织登记时核对发起单位")
        .shows("侦办案件需要，拟协商共享")
        .lacks("家庭医生签约时核对居民身份");
    // 卫健委 is told its grant is suspended.
    let health = srv.login_demo(&demo, "health.admin").await;
    open(&health, "/share")
        .await
        .shows("notice-suspended")
        .shows("演示：调用量异常，核查期间暂停");

    // The demo consumer's printed call works and is masked.
    let resp = demo_call(&srv, &consumer).await;
    let body = resp.expect_status(200);
    assert_eq!(body["grant_id"], consumer.grant_id.as_str());
    let id = body["rows"][0]["citizen_id"].as_str().unwrap();
    assert_ne!(id, consumer.sample_key);
    assert!(id.contains("********"), "{id}");
}
both_backends!(shr_4_demo_requests_in_every_state_fill_each_partys_queue);

/// SHR-9 from the grants page: the source suspends with a reason, the consumer's call
/// is then denied, and both the denial and the earlier call are in the source's log.
async fn shr_9_source_suspends_a_grant_from_the_console_and_sees_the_denial(srv: Arc<TestServer>) {
    let (demo, _, consumer) = seeded(&srv).await;
    let call = || demo_call(&srv, &consumer);
    call().await.expect_status(200);
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let grants = open(&psb, "/share/grants").await;
    grants.shows(&format!("id=\"grant-{}\"", consumer.grant_id));
    let done = submit(
        &psb,
        &format!("/share/grants/{}/status", consumer.grant_id),
        &[
            ("csrf", psb.csrf.as_str()),
            ("action", "suspend"),
            ("reason", "发现向第三方提供数据"),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.path, "/share/grants?done=status");
    done.shows("发现向第三方提供数据");
    call().await.expect_error(403, "egress.grant_suspended");

    let log = open(&psb, "/share/access?outcome=denied").await;
    log.shows("egress.grant_suspended")
        .lacks("data-outcome=\"served\"");
    let all = open(&psb, "/share/access").await;
    all.shows("data-outcome=\"served\"");
    // A form without the session's CSRF token changes nothing.
    let forged = submit(
        &psb,
        &format!("/share/grants/{}/status", consumer.grant_id),
        &[("csrf", "forged"), ("action", "resume"), ("reason", "x")],
    )
    .await;
    assert_eq!(forged.status, 403);
    call().await.expect_error(403, "egress.grant_suspended");

    // A download without a token is recorded as a denied download, not as an API call.
    crate::common::send(srv.anon().request(
        reqwest::Method::GET,
        &format!("/api/v1/services/{}/download", consumer.resource_code),
    ))
    .await
    .expect_status(401);
    let denied = psb
        .get("/api/v1/share/access?outcome=denied")
        .await
        .expect_status(200);
    let download = denied
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["operation"] == "download")
        .expect("the denied download is recorded");
    assert_eq!(download["mode"], "download", "{download}");
    assert_eq!(download["denial"], "egress.no_token", "{download}");
}
both_backends!(shr_9_source_suspends_a_grant_from_the_console_and_sees_the_denial);

/// SHR-3 on the form: a request missing its commitment and items comes back with every
/// problem and the typed input kept; the complete one lands on its page with a due day.
async fn shr_3_request_form_keeps_input_and_names_each_problem(srv: Arc<TestServer>) {
    let (demo, resources, _) = seeded(&srv).await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let household = &resources["household"];
    let form = open(&civil, &format!("/share/new?resource={household}")).await;
    assert_eq!(form.status, 200);
    form.shows("id=\"item-citizen_id\"")
        .shows("id=\"commitment-text\"");
    let end = (chrono::Utc::now() + chrono::Duration::days(100))
        .format("%Y-%m-%d")
        .to_string();
    let mut fields = vec![
        ("csrf", civil.csrf.as_str()),
        ("resource_id", household.as_str()),
        ("mode", "page_query"),
        ("purpose", "婚姻登记时核对户籍"),
        ("scenario", "婚姻登记"),
        ("legal_duty", "《婚姻登记条例》第七条"),
        ("end_date", end.as_str()),
    ];
    let back = submit(&civil, "/share/requests", &fields).await;
    assert_eq!(back.status, 400, "{}", back.path);
    back.shows("data-field=\"items\"")
        .shows("data-field=\"commitment\"")
        .shows("value=\"婚姻登记时核对户籍\"");
    fields.extend([
        ("items", "citizen_id"),
        ("items", "name"),
        ("commitment", "yes"),
    ]);
    let made = submit(&civil, "/share/requests", &fields).await;
    assert_eq!(made.status, 200, "{}", made.path);
    assert!(made.path.starts_with("/share/requests/"), "{}", made.path);
    made.shows("data-status=\"conformity_check\"").shows("姓名");
}
both_backends!(shr_3_request_form_keeps_input_and_names_each_problem);

/// Posts the console's replacement form.
async fn replace(
    who: &crate::common::Session,
    old: &str,
    successor: &str,
) -> crate::data_pages::Page {
    submit(
        who,
        "/share/replace",
        &[
            ("csrf", who.csrf.as_str()),
            ("old", old),
            ("successor", successor),
            ("reason", "户籍系统升级"),
        ],
    )
    .await
}

/// SHR-13 (XJ 24): a resource with grants in use does not simply go offline; its
/// replacement waits until the successor holds data; then the holders are offered the
/// successor (audited, shown on their /share with a pre-filled request) and the old
/// resource goes offline.
async fn shr_13_replaced_resource_goes_offline_only_after_its_successor_works(
    srv: Arc<TestServer>,
) {
    let (demo, resources, consumer) = seeded(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = resources["household"].clone();
    psb.post(
        &format!("/api/v1/catalog/{household}/offline"),
        serde_json::json!({"reason": "系统升级"}),
    )
    .await
    .expect_error(409, "catalog.grants_outstanding");

    let successor = publish_variant(&srv, "household", |c| {
        c.name = "户籍人口信息（新版）".into();
    })
    .await;
    // No data behind the successor yet: refused, the old resource stays online.
    let refused = replace(&psb, &household, &successor.code).await;
    assert_eq!(refused.status, 409, "{}", refused.path);
    refused.shows("share.successor_not_working");
    let entry = psb
        .get(&format!("/api/v1/catalog/{household}"))
        .await
        .expect_status(200);
    assert_eq!(entry["offline"], false);

    let ids: Vec<String> = (0..3).map(|i| crate::data::person(i * 300, 21)).collect();
    psb.post(
        &format!("/api/v1/datasets/{}/secrecy-review", successor.code),
        serde_json::json!({"conclusion": "cleared"}),
    )
    .await
    .expect_status(200);
    crate::common::send(
        psb.request(
            reqwest::Method::POST,
            &format!(
                "/api/v1/datasets/{}/loads?file_name=household.csv",
                successor.code
            ),
        )
        .header("content-type", "application/octet-stream")
        .body(crate::data::household_csv(&ids, &["已婚", "未婚", "未婚"])),
    )
    .await
    .expect_status(201);
    let done = replace(&psb, &household, &successor.code).await;
    assert_eq!(done.path, "/share/grants?done=replaced", "{}", done.text);
    let entry = psb
        .get(&format!("/api/v1/catalog/{household}"))
        .await
        .expect_status(200);
    assert_eq!(entry["offline"], true);
    let grant = psb
        .get(&format!("/api/v1/share/grants/{}", consumer.grant_id))
        .await
        .expect_status(200);
    assert_eq!(grant["successor_resource_id"], successor.id.as_str());
    // The old resource serves no one once it is offline.
    demo_call(&srv, &consumer)
        .await
        .expect_error(409, "egress.resource_offline");
    let auditor = srv.login_demo(&demo, "auditor").await;
    let audit = auditor
        .get("/api/v1/audit?action=share.successor_offered")
        .await
        .expect_status(200);
    assert_eq!(
        audit.as_array().unwrap().len(),
        2,
        "both household grants: {audit}"
    );

    // 民政局 is told, and the link fills a request for the successor on the same terms.
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let notices = open(&civil, "/share").await;
    notices.shows("notice-successor");
    let link = format!(
        "/share/new?resource={}&amp;from={}",
        successor.id, consumer.grant_id
    );
    notices.shows(&link);
    let form = open(&civil, &link.replace("&amp;", "&")).await;
    assert_eq!(form.status, 200);
    form.shows(&format!("value=\"{}\" selected", successor.id))
        .shows("id=\"item-address\" checked")
        .shows("婚姻登记时核对当事人身份与户籍信息");
}
both_backends!(shr_13_replaced_resource_goes_offline_only_after_its_successor_works);

/// SHR-2 page query: once 卫健委's page-query request is approved, its staff look a
/// person up in the console, masked, and the call is recorded with mode page_query.
async fn shr_2_page_query_in_the_console_is_masked_and_recorded(srv: Arc<TestServer>) {
    let (demo, _, consumer) = seeded(&srv).await;
    let admin = srv.login_demo(&demo, "admin").await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let all = admin.get("/api/v1/share/requests").await.expect_status(200);
    let request = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == "page_query" && r["status"] == "conformity_check")
        .expect("the demo's page-query request")["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .post(
            &format!("/api/v1/share/requests/{request}/steps"),
            serde_json::json!({"action": "pass_conformity"}),
        )
        .await
        .expect_status(200);
    let approved = psb
        .post(
            &format!("/api/v1/share/requests/{request}/steps"),
            serde_json::json!({"action": "approve"}),
        )
        .await
        .expect_status(200);
    let grant = approved["grant"]["id"].as_str().unwrap().to_string();

    let health = srv.login_demo(&demo, "health.admin").await;
    open(&health, "/share/grants")
        .await
        .shows(&format!("href=\"/share/query/{grant}\""));
    let found = open(
        &health,
        &format!("/share/query/{grant}?key={}", consumer.sample_key),
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.text);
    found
        .shows("id=\"query-result\"")
        .shows(&format!("{}********", &consumer.sample_key[..6]));
    let result = found.text.split("id=\"query-result\"").nth(1).unwrap();
    assert!(
        !result.contains(&consumer.sample_key),
        "the typed key is masked in the result"
    );
    // A key outside the register is an empty answer, not an error.
    open(
        &health,
        &format!("/share/query/{grant}?key=110101199001011237"),
    )
    .await
    .shows("id=\"query-none\"");

    let log = psb
        .get(&format!("/api/v1/share/access?grant_id={grant}"))
        .await
        .expect_status(200);
    let modes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["page_query", "page_query"], "{log}");

    // Another department cannot use the page with 卫健委's grant.
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let other = open(
        &civil,
        &format!("/share/query/{grant}?key={}", consumer.sample_key),
    )
    .await;
    assert_eq!(other.status, 404, "{}", other.text);
}
both_backends!(shr_2_page_query_in_the_console_is_masked_and_recorded);

/// CAT-5, SHR-3: a department asks for a scenario catalog's resources in one request:
/// one share request per chosen resource, each to its own source, filed all or none.
async fn shr_3_scenario_bundle_request_files_one_request_per_resource_or_none(
    srv: Arc<TestServer>,
) {
    let (demo, resources, _) = seeded(&srv).await;
    let health = srv.login_demo(&demo, "health.admin").await;
    let code = |key: &str| {
        let id = resources[key].clone();
        let srv = srv.clone();
        async move {
            gongshu_services::catalog::find_entry(&srv.app, &id)
                .await
                .unwrap()
                .unwrap()
                .code
        }
    };
    let (household, marriage, statistics) = (
        code("household").await,
        code("marriage").await,
        code("statistics").await,
    );
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let bundle = registrar
        .post(
            "/api/v1/catalog/scenarios",
            serde_json::json!({
                "name": "新生儿出生“一件事”联办",
                "description": "出生医学证明、户口登记、医保参保一次办",
                "entries": [household, marriage],
            }),
        )
        .await
        .expect_status(201);
    let bundle_id = bundle["id"].as_str().unwrap().to_string();
    let before = health
        .get("/api/v1/share/requests")
        .await
        .expect_status(200)
        .as_array()
        .unwrap()
        .len();
    let ask = |items: Value| {
        serde_json::json!({
            "scenario_id": bundle_id,
            "purpose": "新生儿出生登记时核对父母身份与婚姻状况",
            "legal_duty": "《母婴保健法》第二十三条",
            "items": items,
            "mode": "page_query",
            "end_date": (chrono::Utc::now() + chrono::Duration::days(300)).format("%Y-%m-%d").to_string(),
            "commitment_signed": true,
        })
    };
    // An unknown item of one resource and a resource outside the bundle: nothing is filed.
    let bad = health
        .post(
            "/api/v1/share/bundles",
            ask(serde_json::json!({
                household.clone(): ["citizen_id", "name"],
                marriage.clone(): ["citizen_id", "no_such_item"],
                statistics.clone(): ["indicator"],
            })),
        )
        .await;
    let body = bad.expect_status(400);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&format!("items.{marriage}").as_str()),
        "{body}"
    );
    assert!(
        fields.contains(&format!("items.{statistics}").as_str()),
        "{body}"
    );
    let after_bad = health
        .get("/api/v1/share/requests")
        .await
        .expect_status(200);
    assert_eq!(after_bad.as_array().unwrap().len(), before, "all or none");

    let made = health
        .post(
            "/api/v1/share/bundles",
            ask(serde_json::json!({
                household.clone(): ["citizen_id", "name"],
                marriage.clone(): ["citizen_id", "marital_status"],
            })),
        )
        .await
        .expect_status(201)
        .clone();
    let made = made.as_array().unwrap();
    assert_eq!(made.len(), 2);
    let mut codes: Vec<&str> = made
        .iter()
        .map(|r| r["resource_code"].as_str().unwrap())
        .collect();
    codes.sort();
    let mut want = vec![household.as_str(), marriage.as_str()];
    want.sort();
    assert_eq!(codes, want);
    for r in made {
        assert_eq!(r["scenario_id"], bundle_id.as_str());
        assert_eq!(r["scenario"], "新生儿出生“一件事”联办");
        assert_eq!(r["status"], "conformity_check");
    }
    assert_ne!(made[0]["source_org_id"], made[1]["source_org_id"]);
}
both_backends!(shr_3_scenario_bundle_request_files_one_request_per_resource_or_none);

/// SHR-7: once the source confirms a demand and names the entry that catalogs the
/// data, the demanding department is told on /share and led to the request form;
/// the scenario bundle form files its requests from the console too (CAT-5).
async fn shr_7_confirmed_demand_leads_to_a_request_and_bundles_file_from_the_console(
    srv: Arc<TestServer>,
) {
    let (demo, resources, _) = seeded(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let registrar = srv.login_demo(&demo, "psb.registrar").await;
    let demand = registrar
        .post(
            "/api/v1/catalog/demands",
            serde_json::json!({
                "source_org_id": civil.org_id,
                "title": "婚姻登记结果",
                "purpose": "户口登记时核对婚姻状况",
                "items": "公民身份号码、婚姻状况",
            }),
        )
        .await
        .expect_status(201);
    let id = demand["id"].as_str().unwrap();
    // 民政局's registrar confirms it with the entry that catalogs the data.
    let civil_registrar = Ctx::new(
        gongshu_domain::permissions::Principal::for_user(
            "civil.registrar",
            &civil.org_id,
            &[gongshu_domain::permissions::Role::CatalogRegistrar],
        ),
        None,
    );
    let answer = gongshu_services::demands::DemandAnswer {
        accept: true,
        entry: Some(resources["marriage"].clone()),
        answer: String::new(),
    };
    gongshu_services::demands::answer(&srv.app, &civil_registrar, id, answer)
        .await
        .expect("the source confirms the demand");
    let notice = open(&psb, "/share").await;
    notice
        .shows("notice-cataloged")
        .shows("婚姻登记结果")
        .shows(&format!("/share/new?resource={}", resources["marriage"]));

    // The bundle form: one scenario, two resources, two requests in one submission.
    let marriage = gongshu_services::catalog::find_entry(&srv.app, &resources["marriage"])
        .await
        .unwrap()
        .unwrap()
        .code;
    let insurance = gongshu_services::catalog::find_entry(&srv.app, &resources["insurance"])
        .await
        .unwrap()
        .unwrap()
        .code;
    let bundle = registrar
        .post(
            "/api/v1/catalog/scenarios",
            serde_json::json!({"name": "户口迁移一件事", "description": "户口迁入时核对婚姻与参保", "entries": [marriage, insurance]}),
        )
        .await
        .expect_status(201);
    let bundle_id = bundle["id"].as_str().unwrap();
    let form = open(&psb, &format!("/share/new-bundle?scenario={bundle_id}")).await;
    form.shows(&format!("id=\"bundle-{marriage}\""))
        .shows(&format!("id=\"bundle-{insurance}\""));
    let end = (chrono::Utc::now() + chrono::Duration::days(90))
        .format("%Y-%m-%d")
        .to_string();
    let marriage_items = format!("items.{marriage}");
    let insurance_items = format!("items.{insurance}");
    let fields = vec![
        ("csrf", psb.csrf.as_str()),
        ("scenario_id", bundle_id),
        (marriage_items.as_str(), "citizen_id"),
        (marriage_items.as_str(), "marital_status"),
        (insurance_items.as_str(), "citizen_id"),
        ("mode", "page_query"),
        ("purpose", "户口迁入时核对婚姻与参保"),
        ("legal_duty", "《户口登记条例》第十三条"),
        ("end_date", end.as_str()),
    ];
    let unsigned = submit(&psb, "/share/bundles", &fields).await;
    assert_eq!(unsigned.status, 400, "{}", unsigned.path);
    unsigned
        .shows("data-field=\"commitment\"")
        .shows(&format!("id=\"b-{marriage}-marital_status\" checked"));
    let mut signed = fields.clone();
    signed.push(("commitment", "yes"));
    let done = submit(&psb, "/share/bundles", &signed).await;
    assert_eq!(done.path, "/share?done=bundle", "{}", done.text);
    let mine = psb.get("/api/v1/share/requests").await.expect_status(200);
    let filed = mine
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["scenario_id"] == bundle_id)
        .count();
    assert_eq!(filed, 2, "{mine}");
    // The demand is now requested: its notice is gone.
    open(&psb, "/share").await.lacks("notice-cataloged");
}
both_backends!(shr_7_confirmed_demand_leads_to_a_request_and_bundles_file_from_the_console);
