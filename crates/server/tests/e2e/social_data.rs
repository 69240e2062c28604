//! COL-8 (HZ 17, JY 14, ZY 5): social data bought once by the data authority and
//! shared to every department.
use std::sync::Arc;

use chrono::{Duration, Utc};
use gongshu_domain::catalog::{OpenType, ShareType};
use gongshu_domain::permissions::{Principal, Role};
use gongshu_services::catalog::{self, today_in_china};
use gongshu_services::demo_social::{poi_content, poi_csv, seed_social_data};
use gongshu_services::sharing::{self, NewShareRequest, StepInput};
use gongshu_services::Ctx;
use serde_json::{json, Value};

use crate::common::{Session, TestServer};
use crate::data_pages::{open, submit};

fn ctx_of(s: &Session, roles: &[Role]) -> Ctx {
    Ctx::new(Principal::for_user(&s.user_id, &s.org_id, roles), None)
}

fn agreement(name: &str, entry: &str, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Value {
    json!({
        "acquisition": "purchase", "kind": "map", "name": name,
        "supplier": "示范地图信息技术有限公司（虚构）", "contract_ref": format!("{name}-合同"),
        "scope": "限本市政务部门履职使用", "starts_on": from, "ends_on": to,
        "entries": [entry],
    })
}

/// The authority's purchase carries a POI entry whose data is mounted before the
/// term begins: a department granted access gets nothing until an agreement is in
/// force. The same data is not bought twice for one day, a renewal follows the last
/// term, departments cannot record purchases, and the entry cannot be opened or
/// withdrawn from sharing against the agreement.
async fn col_8_social_data_is_bought_once_and_shared_to_all(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let app = &srv.app;
    let ids = gongshu_services::demo::demo_org_ids(app).await.unwrap();
    let today = today_in_china(Utc::now());
    let later = (today + Duration::days(30), today + Duration::days(395));
    let social = seed_social_data(app, &Ctx::cli(), &ids, later)
        .await
        .expect("seed the purchase");
    assert_eq!(social.agreement.state, "not_started");
    assert!(social.entry.mounted, "the data is mounted before the term");
    let code = social.entry.code.clone();
    let authority = srv.login_demo(&demo, "authority").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let psb = srv.login_demo(&demo, "psb.admin").await;

    // 民政局 is granted the unconditional resource like any shared one (SHR-4).
    let issued = civil
        .post(
            "/api/v1/tokens",
            json!({"org_id": civil.org_id, "name": "地图应用", "permissions": ["data.consume"], "expires_in_days": 30}),
        )
        .await
        .expect_status(201);
    let token_id = issued["token"]["id"].as_str().unwrap().to_string();
    let secret = issued["secret"].as_str().unwrap().to_string();
    let now = Utc::now();
    let submitted = sharing::submit_at(
        app,
        &ctx_of(&civil, &[Role::OrgAdmin]),
        NewShareRequest {
            resource_id: code.clone(),
            purpose: "婚姻登记处便民地图导航".into(),
            scenario: "便民服务地图".into(),
            legal_duty: "《婚姻登记工作规范》".into(),
            items: vec![
                "poi_id".into(),
                "name".into(),
                "longitude".into(),
                "latitude".into(),
            ],
            mode: "api".into(),
            token_id: Some(token_id),
            end_date: today + Duration::days(60),
            commitment_signed: true,
            emergency: false,
            emergency_reason: String::new(),
            scenario_id: None,
        },
        now,
    )
    .await
    .expect("submit");
    let admin = srv.login_demo(&demo, "admin").await;
    let pass = StepInput {
        action: "pass_conformity".into(),
        ..Default::default()
    };
    let (_, grant) = sharing::act_at(
        app,
        &ctx_of(&admin, &[Role::PlatformAdmin]),
        &submitted.id,
        pass,
        now,
    )
    .await
    .expect("conformity");
    assert!(grant.is_some(), "unconditional: granted after the check");
    let record = format!("/api/v1/services/{code}/records/POI000001");
    srv.bearer(&secret)
        .get(&record)
        .await
        .expect_error(409, "egress.social_agreement_not_in_force");

    // Only the authority records purchases.
    // Ends today: the last day of a term is still in it.
    let current = (today - Duration::days(1), today);
    psb.post(
        "/api/v1/social-data",
        agreement("部门自购", &code, current.0, current.1),
    )
    .await
    .expect_error(403, "auth.denied");
    // Bought once: a term sharing even its last day with the later one is refused.
    authority
        .post(
            "/api/v1/social-data",
            agreement("重复采购", &code, current.0, later.0),
        )
        .await
        .expect_error(400, "social_data.already_held");
    let ended = [
        ("starts_on", json!(today - Duration::days(20))),
        ("ends_on", json!(today - Duration::days(2))),
    ];
    for (changes, code_expected) in [
        (&ended[..], "social_data.term_ended"),
        (&ended[1..], "social_data.term_invalid"),
        (
            &[("entries", json!(["no-such-entry"]))][..],
            "catalog.entry_unknown",
        ),
        (
            &[("supplier", json!(" "))][..],
            "social_data.field_required",
        ),
    ] {
        let mut body = agreement("有误", &code, current.0, current.1);
        for (field, value) in changes {
            body[*field] = value.clone();
        }
        authority
            .post("/api/v1/social-data", body)
            .await
            .expect_error(400, code_expected);
    }
    let recorded = authority
        .post(
            "/api/v1/social-data",
            agreement("本期采购", &code, current.0, current.1),
        )
        .await
        .expect_status(201)
        .clone();
    assert_eq!(recorded["state"], "in_force");
    assert_eq!(recorded["entries"][0]["code"], code);
    assert_eq!(recorded["agreement"]["org_id"], authority.org_id);
    let served = srv
        .bearer(&secret)
        .get(&record)
        .await
        .expect_status(200)
        .clone();
    assert_eq!(served["rows"][0]["poi_id"], "POI000001", "{served}");
    authority
        .post(
            "/api/v1/social-data",
            agreement(
                "续期采购",
                &code,
                later.1 + Duration::days(1),
                later.1 + Duration::days(365),
            ),
        )
        .await
        .expect_status(201);
    let listed = civil
        .get("/api/v1/social-data")
        .await
        .expect_status(200)
        .clone();
    let states: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["not_started", "not_started", "in_force"],
        "newest term first"
    );

    // The entry stays shared and closed to the public while the agreement says so.
    let ctx = ctx_of(&authority, &[Role::AuthorityAdmin, Role::OrgAdmin]);
    let mut content = social.entry.published.clone().expect("published");
    content.open_type = OpenType::Unconditional;
    content.open_reason = None;
    content.open_basis = String::new();
    let refused = catalog::update(app, &ctx, &social.entry.id, content.clone())
        .await
        .expect_err("opening against the agreement");
    assert_eq!(refused.code, "social_data.not_openable");
    content.open_type = OpenType::NotOpen;
    content.share_type = ShareType::NotShared;
    content.legal_basis = "《数据安全法》".into();
    let refused = catalog::update(app, &ctx, &social.entry.id, content)
        .await
        .expect_err("withdrawing from sharing");
    assert_eq!(refused.code, "social_data.shared_to_all");

    // Nor is a desensitised release of it opened instead (OPN-5 meets HZ 32(4)).
    authority
        .post(
            "/api/v1/open-releases/preview",
            json!({
                "source": code,
                "rules": {"poi_id": "keep", "name": "keep", "poi_category": "keep", "division": "prefix:4"},
                "quasi_identifiers": ["poi_category", "division"],
                "max_suppression_percent": 5,
            }),
        )
        .await
        .expect_error(409, "release.social_data_not_openable");

    let auditor = srv.login_demo(&demo, "auditor").await;
    let trail = auditor
        .get("/api/v1/audit?action=social_data.record&limit=10")
        .await
        .expect_status(200)
        .clone();
    assert_eq!(trail.as_array().unwrap().len(), 3, "{trail}");

    // The console: every department sees the list; only the authority gets the form.
    open(&civil, "/catalog/social-data")
        .await
        .shows("本期采购")
        .shows(&code)
        .lacks("id=\"social-data-form\"");
    open(&civil, &format!("/catalog/{}", social.entry.id))
        .await
        .shows("id=\"social-data\"")
        .shows("本期采购");
    let page = open(&authority, "/catalog/social-data").await;
    page.shows("id=\"social-data-form\"");
    let csrf = authority.csrf.clone();
    let refused = submit(
        &authority,
        "/catalog/social-data",
        &[
            ("csrf", &csrf),
            ("acquisition", "purchase"),
            ("kind", "map"),
            ("name", "表单重复采购"),
            ("supplier", "某公司"),
            ("contract_ref", "X-1"),
            ("scope", "政务使用"),
            ("starts_on", &today.to_string()),
            ("ends_on", &(today + Duration::days(10)).to_string()),
            ("entries", &code),
        ],
    )
    .await;
    refused.shows("同一数据只采购一次");
}
both_backends!(col_8_social_data_is_bought_once_and_shared_to_all);

/// Social data whose agreement allows opening is on the open portal with its data
/// only while an agreement is in force, and an agreement forbidding opening cannot
/// cover it while it is open.
async fn col_8_open_social_data_has_data_only_within_an_agreement(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let app = &srv.app;
    let ids = gongshu_services::demo::demo_org_ids(app).await.unwrap();
    let authority_id = ids["authority"].clone();
    let mut content = poi_content(&authority_id);
    content.name = "公共停车场点位（授权接入，演示数据）".into();
    content.open_type = OpenType::Unconditional;
    content.open_reason = None;
    content.open_basis = String::new();
    let entry =
        gongshu_services::demo_catalog::publish_for_demo(app, &Ctx::cli(), &authority_id, content)
            .await
            .expect("publish");
    gongshu_services::datasets::record_secrecy_review(
        app,
        &Ctx::cli(),
        &entry.id,
        gongshu_services::datasets::SecrecyReviewInput::cleared("演示"),
    )
    .await
    .expect("review");
    let authority = srv.login_demo(&demo, "authority").await;
    crate::common::send(
        authority
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/datasets/{}/loads?file_name=poi.csv", entry.code),
            )
            .header("content-type", "application/octet-stream")
            .body(poi_csv(5)),
    )
    .await
    .expect_status(201);
    let today = today_in_china(Utc::now());
    let later = (today + Duration::days(10), today + Duration::days(100));
    let mut opened = agreement("停车场数据授权", &entry.code, later.0, later.1);
    opened["acquisition"] = json!("authorisation");
    opened["opening_allowed"] = json!(true);
    authority
        .post("/api/v1/social-data", opened.clone())
        .await
        .expect_status(201);
    let public = format!("/api/v1/open/datasets/{}", entry.code);
    let shown = srv.anon().get(&public).await.expect_status(200).clone();
    assert_eq!(
        shown["dataset"]["has_data"], false,
        "not yet in force: {shown}"
    );
    let release = json!({
        "source": entry.code,
        "rules": {"poi_id": "keep", "name": "keep", "poi_category": "keep", "division": "prefix:2"},
        "quasi_identifiers": ["division"],
        "k": 5,
        "max_suppression_percent": 0,
    });
    authority
        .post("/api/v1/open-releases/preview", release.clone())
        .await
        .expect_error(409, "release.social_agreement_not_in_force");
    opened["starts_on"] = json!(today);
    opened["ends_on"] = json!(today);
    authority
        .post("/api/v1/social-data", opened)
        .await
        .expect_status(201);
    let shown = srv.anon().get(&public).await.expect_status(200).clone();
    assert_eq!(
        shown["dataset"]["has_data"], true,
        "in force today: {shown}"
    );

    // An agreement forbidding opening cannot cover the entry while it is open or
    // has a release on its way to the portal.
    authority
        .post("/api/v1/open-releases", release)
        .await
        .expect_status(201);
    let closed = agreement(
        "禁止开放的续期",
        &entry.code,
        later.1 + Duration::days(1),
        later.1 + Duration::days(30),
    );
    let refused = authority
        .post("/api/v1/social-data", closed)
        .await
        .expect_error(400, "input.invalid")
        .clone();
    let codes: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["social_data.not_openable", "social_data.released_openly"]
    );

    // A ban on opening outlives its term: with a forbidding agreement that has
    // ended (recorded here directly, as the API refuses ended terms), the open
    // entry cannot be saved open again.
    let ended = gongshu_store::SocialDataAgreement {
        id: uuid::Uuid::now_v7().to_string(),
        acquisition: gongshu_domain::social_data::SocialAcquisition::Purchase,
        kind: gongshu_domain::social_data::SocialDataKind::Map,
        name: "早年采购（不允许开放）".into(),
        supplier: "某公司".into(),
        contract_ref: "旧合同".into(),
        scope: "政务使用".into(),
        starts_on: today - Duration::days(400),
        ends_on: today - Duration::days(35),
        opening_allowed: false,
        entry_ids: vec![entry.id.clone()],
        org_id: authority_id.clone(),
        recorded_by: "test".into(),
        recorded_at: Utc::now(),
    };
    app.store
        .commit(
            vec![gongshu_store::Change::InsertSocialDataAgreement(ended)],
            vec![],
        )
        .await
        .expect("record an ended agreement");
    let ctx = ctx_of(&authority, &[Role::AuthorityAdmin, Role::OrgAdmin]);
    let current = catalog::get(app, &ctx, &entry.id).await.unwrap();
    let mut content = current.published.clone().unwrap();
    content.summary = "停车场点位，按月更新".into();
    let refused = catalog::update(app, &ctx, &entry.id, content)
        .await
        .expect_err("an ended ban still holds");
    assert_eq!(refused.code, "social_data.not_openable");

    // The guard an agreement and an edit commit with: it holds only for the state
    // they read (three agreements now), so one landing meanwhile fails the other.
    let guard = |n: u32| gongshu_store::Change::ExpectEntryState {
        entry_id: entry.id.clone(),
        updated_at: current.updated_at,
        social_agreements: n,
    };
    assert!(app.store.commit(vec![guard(2)], vec![]).await.is_err());
    app.store
        .commit(vec![guard(3)], vec![])
        .await
        .expect("the state as read");
}
both_backends!(col_8_open_social_data_has_data_only_within_an_agreement);

/// HZ 17 puts purchases of data services into IT project management: a department's
/// project that plans to buy social data fails its check, and learns which of those
/// services the authority already holds.
async fn col_8_a_project_planning_to_buy_social_data_fails_its_check(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let app = &srv.app;
    let ids = gongshu_services::demo::demo_org_ids(app).await.unwrap();
    let today = today_in_china(Utc::now());
    let social = seed_social_data(app, &Ctx::cli(), &ids, (today, today + Duration::days(30)))
        .await
        .expect("seed the purchase");
    let held_name = social.agreement.agreement.name.clone();
    let resources = crate::data::data_resources(&srv).await;
    let household = resources["household"].code.clone();
    let authority = srv.login_demo(&demo, "authority").await;
    let psb_id = ids["psb"].clone();

    // The console form posts one checkbox per kind.
    let csrf = authority.csrf.clone();
    let page = submit(
        &authority,
        "/catalog/projects",
        &[
            ("csrf", &csrf),
            ("name", "应急指挥系统"),
            ("org_id", &psb_id),
            ("approval_ref", "应急批复"),
            ("entries", &household),
            ("social_data_kinds", "remote_sensing"),
            ("social_data_kinds", "map"),
        ],
    )
    .await;
    assert_eq!(
        page.path, "/catalog/projects?done=registered",
        "{}",
        page.text
    );
    page.shows("应由主管部门统一采购：地图、低空遥感影像")
        .shows(&format!(
            "已统一采购：<a href=\"/catalog/social-data\">{held_name}</a>"
        ));

    let project = |name: &str, org: &str, entry: &str, kinds: Value| {
        json!({
            "name": name, "org_id": org, "approval_ref": format!("{name}批复"),
            "entries": [entry], "social_data_kinds": kinds,
        })
    };
    let buying = authority
        .post(
            "/api/v1/it-projects",
            project("智慧警务平台", &psb_id, &household, json!(["video", "map"])),
        )
        .await
        .expect_status(201)
        .clone();
    assert_eq!(buying["fails_approval_check"], false);
    assert_eq!(buying["fails_social_data_check"], true);
    assert_eq!(
        buying["project"]["social_data_kinds"],
        json!(["video", "map"])
    );
    assert_eq!(buying["centrally_held"], json!([["map", held_name]]));
    authority
        .post(
            "/api/v1/it-projects",
            project("户籍系统升级", &psb_id, &household, json!([])),
        )
        .await
        .expect_status(201);
    // The authority's own project is where the central purchase is made.
    let central = authority
        .post(
            "/api/v1/it-projects",
            project(
                "全市视频资源统一采购",
                &authority.org_id,
                &social.entry.code,
                json!(["video"]),
            ),
        )
        .await
        .expect_status(201)
        .clone();
    assert_eq!(central["fails_social_data_check"], false);
    let failing = authority
        .get("/api/v1/it-projects?failing=true")
        .await
        .expect_status(200)
        .clone();
    let mut names: Vec<&str> = failing
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["project"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["应急指挥系统", "智慧警务平台"]);
}
both_backends!(col_8_a_project_planning_to_buy_social_data_fails_its_check);
