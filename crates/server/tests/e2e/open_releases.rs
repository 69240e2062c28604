//! OPN-5, OPN-6 (JY 27–28, XJ 26, HZ 33 (1), HZ 35): data that is not open becomes
//! open only as a release — desensitised, k-anonymous over its declared
//! quasi-identifiers and approved by the authority, or on its subjects' recorded
//! consent — published as a derived open dataset of the source department,
//! refreshed as new versions, withdrawn from the open catalog; every read of the
//! source goes through the egress gate and is recorded there.
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use gongshu_domain::catalog::{
    Category, DataItem, Domain, EntryContent, FieldType, Grade, ItemConstraints, KeyRole,
    OpenReason, OpenType, ResourceFormat, Sensitivity, ShareMode, ShareType, UpdateFrequency,
};
use gongshu_domain::ids::{CitizenId, DivisionCode};
use gongshu_services::Ctx;
use gongshu_store::AccessFilter;
use serde_json::{json, Value};

use crate::common::{send, Demo, Session, TempDir, TestServer};

const DIVISIONS: [&str; 3] = ["830102", "830121", "830100"];
const SURNAMES: [&str; 6] = ["张", "王", "李", "赵", "陈", "刘"];
const GIVEN: [&str; 7] = ["伟", "芳", "娜", "敏", "静", "磊", "洋"];

/// One person of the source: (citizen ID, name, sex, birth date, division).
type Person = (String, String, &'static str, NaiveDate, &'static str);

/// Person `i`: born in decade `(i / 2) % 5` from 1950, of sex `i % 2`, in one of
/// three counties of one city. Over (birth decade, sex, city) the 60 first make
/// 10 classes of 6; `outlier` adds one man born in the 1930s, alone in his class.
fn people(n: usize, outlier: bool) -> Vec<Person> {
    let mut out: Vec<Person> = (0..n)
        .map(|i| {
            let male = i % 2 == 1;
            let year = 1950 + 10 * ((i / 2) % 5) as i32 + (i % 7) as i32;
            let birth = NaiveDate::from_ymd_opt(year, 1 + (i % 12) as u32, 1 + (i % 28) as u32)
                .expect("date");
            let division = DIVISIONS[i % 3];
            let code = DivisionCode::parse(division).expect("division");
            let seq = (2 * i + usize::from(male)) as u16;
            let id = CitizenId::synthesize(&code, birth, seq).expect("id");
            let name = format!("{}{}{}", SURNAMES[i % 6], GIVEN[i % 7], GIVEN[(i / 7) % 7]);
            (
                id.as_str().to_string(),
                name,
                if male { "男" } else { "女" },
                birth,
                division,
            )
        })
        .collect();
    if outlier {
        let birth = NaiveDate::from_ymd_opt(1934, 5, 5).expect("date");
        let code = DivisionCode::parse("830102").expect("division");
        let id = CitizenId::synthesize(&code, birth, 901).expect("id");
        out.push((
            id.as_str().to_string(),
            "欧阳长寿".into(),
            "男",
            birth,
            "830102",
        ));
    }
    out
}

fn item(name: &str, code: &str, t: FieldType, sensitive: bool, role: KeyRole) -> DataItem {
    DataItem {
        name: name.into(),
        code_name: code.into(),
        field_type: t,
        length: None,
        meaning: String::new(),
        sensitive,
        key_role: role,
        element_code: None,
        constraints: ItemConstraints::default(),
    }
}

/// A not-open register of residents with personal data, published by 公安局.
fn register(source_org_id: &str) -> EntryContent {
    EntryContent {
        name: "居民健康档案登记（测试）".into(),
        summary: "居民健康档案的登记信息，含个人信息，不予开放".into(),
        category: Category::Business,
        domain: Domain::Health,
        format: ResourceFormat::Database,
        source_org_id: source_org_id.into(),
        providing_org_id: None,
        approving_department: String::new(),
        co_builder_org_ids: Vec::new(),
        items: vec![
            item(
                "公民身份号码",
                "citizen_id",
                FieldType::String,
                true,
                KeyRole::CitizenId,
            ),
            item("姓名", "name", FieldType::String, true, KeyRole::None),
            item("性别", "sex", FieldType::String, false, KeyRole::None),
            item(
                "出生日期",
                "birth_date",
                FieldType::Date,
                true,
                KeyRole::None,
            ),
            item(
                "户籍地行政区划",
                "division",
                FieldType::String,
                false,
                KeyRole::DivisionCode,
            ),
        ],
        share_type: ShareType::Unconditional,
        share_conditions: String::new(),
        share_scope: "本级政务部门".into(),
        share_modes: vec![ShareMode::Api],
        legal_basis: String::new(),
        open_type: OpenType::NotOpen,
        open_conditions: String::new(),
        open_reason: Some(OpenReason::PrivacyWithoutConsent),
        open_basis: "含个人信息，数据主体未同意开放（HZ 32 三）".into(),
        update_frequency: UpdateFrequency::Monthly,
        timeliness: "次月 15 日前更新".into(),
        grade: Grade::General,
        sensitivity: Some(Sensitivity::L3),
        classified: false,
        release_date: None,
        related_codes: Vec::new(),
    }
}

/// Loads `rows` as the source's data (replacing it).
async fn load(srv: &TestServer, entry_id: &str, rows: &[Person]) {
    let dir = TempDir::new();
    let file = dir.path().join("register.csv");
    let mut csv = String::from("citizen_id,name,sex,birth_date,division\n");
    for (id, name, sex, birth, division) in rows {
        csv.push_str(&format!("{id},{name},{sex},{birth},{division}\n"));
    }
    std::fs::write(&file, csv).expect("write");
    let opts = gongshu_services::datasets::LoadOptions::new(
        gongshu_services::datasets::Channel::Upload,
        gongshu_services::dataset_input::InputFormat::Csv,
    );
    let l = gongshu_services::datasets::load_file(&srv.app, &Ctx::cli(), entry_id, &file, opts)
        .await
        .expect("loaded");
    assert_eq!(
        (l.status.as_str(), l.rows_accepted, l.rows_rejected),
        ("applied", rows.len() as i64, 0),
        "{l:?}"
    );
}

/// The demo region and the source register with 61 people (one outlier).
struct Setup {
    demo: Demo,
    entry_id: String,
    code: String,
    people: Vec<Person>,
}

async fn setup(srv: &TestServer) -> Setup {
    let demo = srv.seed_demo().await;
    let psb = srv.org_id("云川市公安局").await;
    let entry = gongshu_services::demo_catalog::publish_for_demo(
        &srv.app,
        &Ctx::cli(),
        &psb,
        register(&psb),
    )
    .await
    .expect("published");
    gongshu_services::datasets::record_secrecy_review(
        &srv.app,
        &Ctx::cli(),
        &entry.id,
        gongshu_services::datasets::SecrecyReviewInput::cleared(""),
    )
    .await
    .expect("cleared");
    let people = people(60, true);
    load(srv, &entry.id, &people).await;
    Setup {
        demo,
        entry_id: entry.id,
        code: entry.code,
        people,
    }
}

/// Rules that generalise enough: birth decade from the ID, sex, city; names masked.
fn generalised(code: &str, max_suppression: u32) -> Value {
    json!({
        "source": code,
        "rules": {
            "citizen_id": "year_band:10",
            "name": "mask:name",
            "sex": "keep",
            "birth_date": "suppress",
            "division": "prefix:4",
        },
        "quasi_identifiers": ["sex", "division"],
        "max_suppression_percent": max_suppression,
    })
}

/// Prepared by 公安局 and approved by the authority: (the release, its open code).
async fn published(srv: &TestServer, s: &Setup) -> (Value, String) {
    let psb = srv.login_demo(&s.demo, "psb.admin").await;
    let prepared = psb
        .post("/api/v1/open-releases", generalised(&s.code, 5))
        .await
        .expect_status(201);
    let authority = srv.login_demo(&s.demo, "authority").await;
    let r = authority
        .post(
            &format!(
                "/api/v1/open-releases/{}/decision",
                prepared["id"].as_str().unwrap()
            ),
            json!({"approve": true}),
        )
        .await
        .expect_status(200);
    let code = r["derived_code"]
        .as_str()
        .expect("derived code")
        .to_string();
    (r, code)
}

async fn csv_of(srv: &TestServer, code: &str) -> (u16, String) {
    let r = send(srv.anon().request(
        reqwest::Method::GET,
        &format!("/open/datasets/{code}/data.csv"),
    ))
    .await;
    (r.status, r.text)
}

async fn release_reads(srv: &TestServer, entry_id: &str) -> Vec<gongshu_store::AccessRecord> {
    srv.app
        .store
        .list_access(&AccessFilter {
            resource_id: Some(entry_id.to_string()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("access records")
        .into_iter()
        .filter(|r| r.operation == "release")
        .collect()
}

async fn open_total(srv: &TestServer) -> u64 {
    srv.anon()
        .get("/api/v1/open/datasets?limit=100")
        .await
        .expect_status(200)["total"]
        .as_u64()
        .expect("total")
}

async fn opn_6_a_release_below_k_is_refused_and_nothing_is_published(srv: Arc<TestServer>) {
    let s = setup(&srv).await;
    let psb = srv.login_demo(&s.demo, "psb.admin").await;
    // Birth month × sex × county nearly single each person out.
    let fine = json!({
        "source": s.code,
        "rules": {"sex": "keep", "birth_date": "month", "division": "keep"},
        "quasi_identifiers": ["sex", "birth_date", "division"],
    });
    let preview = psb
        .post("/api/v1/open-releases/preview", fine.clone())
        .await
        .expect_status(200);
    assert_eq!(preview["passes"], false, "{preview}");
    assert_eq!(preview["k_achieved"], 1);
    assert_eq!(preview["k_required"], 5);
    assert_eq!(preview["source_rows"], 61);
    assert!(preview["refusal"].as_str().unwrap().contains("k = 1"));
    let refused = psb.post("/api/v1/open-releases", fine).await;
    let body = refused.expect_error(409, "release.k_too_low");
    let (zh, en) = (
        body["message"].as_str().unwrap(),
        body["message_en"].as_str().unwrap(),
    );
    assert!(zh.contains("k = 1") && zh.contains("k = 5"), "{zh}");
    assert!(en.contains("1-anonymous") && en.contains("k = 5"), "{en}");
    // The generalised rules without dropping the outlier stay 1-anonymous too.
    psb.post("/api/v1/open-releases", generalised(&s.code, 0))
        .await
        .expect_error(409, "release.k_too_low");
    // Dropping more than the deployment allows, a k below its minimum, or keeping a
    // citizen ID or a sensitive item are refused before anything is read.
    let mut too_much = generalised(&s.code, 0);
    too_much["max_suppression_percent"] = json!(50);
    psb.post("/api/v1/open-releases", too_much)
        .await
        .expect_error(400, "release.suppression_above_maximum");
    let mut low_k = generalised(&s.code, 0);
    low_k["k"] = json!(2);
    psb.post("/api/v1/open-releases", low_k)
        .await
        .expect_error(400, "release.k_below_minimum");
    let mut raw_id = generalised(&s.code, 5);
    raw_id["rules"]["citizen_id"] = json!("keep");
    psb.post("/api/v1/open-releases/preview", raw_id)
        .await
        .expect_error(400, "release.identifier_revealed");
    let mut raw_name = generalised(&s.code, 5);
    raw_name["rules"]["name"] = json!("keep");
    psb.post("/api/v1/open-releases/preview", raw_name)
        .await
        .expect_error(400, "release.sensitive_item_kept");

    // The derived entry must meet the catalog's rules before the authority sees it.
    let mut long_name = generalised(&s.code, 5);
    long_name["name"] = json!("长".repeat(120));
    psb.post("/api/v1/open-releases", long_name)
        .await
        .expect_error(400, "catalog.name_too_long");

    // Nothing was prepared, nothing is open.
    let listed = psb.get("/api/v1/open-releases").await.expect_status(200);
    assert_eq!(listed, json!([]));
    assert_eq!(open_total(&srv).await, 0);
    let entries = srv
        .app
        .store
        .list_catalog_entries(&gongshu_store::CatalogFilter::default())
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "no derived entry");

    // GOV-5: each read of the source was the gate's, recorded as psb.admin's.
    let reads = release_reads(&srv, &s.entry_id).await;
    assert_eq!(reads.len(), 4, "{reads:?}");
    assert!(reads.iter().all(|r| r.mode == "internal"
        && r.outcome == "served"
        && r.row_count == 61
        && r.actor == format!("user:{}", psb.user_id)
        && r.response_hash.len() == 64));
    assert!(reads.iter().any(|r| r.purpose == "release_preview"));
    assert!(reads.iter().any(|r| r.purpose == "release_prepare"));
}
both_backends!(opn_6_a_release_below_k_is_refused_and_nothing_is_published);

async fn opn_5_opn_6_a_generalised_release_is_approved_and_downloadable_without_raw_identifiers(
    srv: Arc<TestServer>,
) {
    let s = setup(&srv).await;
    let psb = srv.login_demo(&s.demo, "psb.admin").await;
    let preview = psb
        .post("/api/v1/open-releases/preview", generalised(&s.code, 5))
        .await
        .expect_status(200);
    assert_eq!(preview["passes"], true, "{preview}");
    assert_eq!(
        (
            &preview["k_achieved"],
            &preview["k_before_suppression"],
            &preview["suppressed_rows"],
            &preview["rows"],
            &preview["classes"]
        ),
        (&json!(6), &json!(1), &json!(1), &json!(60), &json!(10))
    );
    assert_eq!(
        preview["quasi_identifiers"],
        json!(["citizen_id_year_band", "sex", "division"])
    );
    let sample = preview["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 20);
    assert_eq!(sample[0]["citizen_id_year_band"], "1950-1959");
    assert_eq!(sample[0]["division"], "8301");
    assert!(sample[0]["name"].as_str().unwrap().ends_with('*'));

    // Another department can neither look nor release; 公安局 cannot approve.
    let market = srv.login_demo(&s.demo, "market.admin").await;
    market
        .post("/api/v1/open-releases/preview", generalised(&s.code, 5))
        .await
        .expect_error(403, "auth.denied");
    market
        .post("/api/v1/open-releases", generalised(&s.code, 5))
        .await
        .expect_error(403, "auth.denied");

    let prepared = psb
        .post("/api/v1/open-releases", generalised(&s.code, 5))
        .await
        .expect_status(201);
    assert_eq!(prepared["status"], "pending");
    assert_eq!(prepared["version"], 0);
    assert_eq!(prepared["k_achieved"], 6);
    let id = prepared["id"].as_str().unwrap().to_string();
    // Awaiting the authority, nothing is open yet.
    assert_eq!(open_total(&srv).await, 0);
    for who in [&psb, &market] {
        who.post(
            &format!("/api/v1/open-releases/{id}/decision"),
            json!({"approve": true}),
        )
        .await
        .expect_error(403, "auth.denied");
    }
    market
        .get(&format!("/api/v1/open-releases/{id}"))
        .await
        .expect_error(403, "auth.denied");
    let authority = srv.login_demo(&s.demo, "authority").await;
    let listed = authority
        .get("/api/v1/open-releases?status=pending")
        .await
        .expect_status(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let r = authority
        .post(
            &format!("/api/v1/open-releases/{id}/decision"),
            json!({"approve": true}),
        )
        .await
        .expect_status(200);
    assert_eq!(
        (&r["status"], &r["version"]),
        (&json!("published"), &json!(1))
    );
    let code = r["derived_code"].as_str().unwrap().to_string();

    // The derived dataset is the department's own open entry, in the open catalog.
    let meta = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200);
    assert_eq!(meta["access"], "direct");
    assert_eq!(meta["dataset"]["rows"], 60);
    assert_eq!(meta["dataset"]["owner_org_id"], psb.org_id);
    let content = &meta["dataset"]["content"];
    assert_eq!(content["open_type"], "unconditional");
    assert_eq!(content["related_codes"], json!([s.code]));
    assert!(content["summary"].as_str().unwrap().contains("k = 6"));
    assert!(content["open_basis"].as_str().unwrap().contains("HZ 35"));
    assert_eq!(open_total(&srv).await, 1);

    // Downloaded from the portal: generalised and masked values only.
    let (status, csv) = csv_of(&srv, &code).await;
    assert_eq!(status, 200);
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "citizen_id_year_band,name,sex,division"
    );
    assert_eq!(lines.count(), 60);
    for (id, name, _, birth, division) in &s.people {
        assert!(!csv.contains(id.as_str()), "a raw citizen ID in {csv}");
        assert!(!csv.contains(&id[..10]), "part of an ID in the CSV");
        assert!(!csv.contains(name.as_str()), "a raw name in the CSV");
        assert!(!csv.contains(&birth.to_string()), "a birth date in the CSV");
        assert!(!csv.contains(division), "a county code in the CSV");
    }
    assert!(!csv.contains("1930-1939"), "the outlier was dropped");
    assert!(csv.contains("1990-1999,") && csv.contains(",8301"));
    // CKAN and DCAT list it by themselves.
    let ckan = srv.anon().get("/api/3/action/package_list").await;
    assert!(
        ckan.text.contains(&code.to_ascii_lowercase()),
        "{}",
        ckan.text
    );
    let dcat = send(srv.anon().request(
        reqwest::Method::GET,
        &format!("/open/datasets/{code}/dcat.ttl"),
    ))
    .await;
    assert_eq!(dcat.status, 200);

    // GOV-5: the authority's approval read the source again at the gate.
    let reads = release_reads(&srv, &s.entry_id).await;
    let publish: Vec<_> = reads
        .iter()
        .filter(|r| r.purpose == "release_publish")
        .collect();
    assert_eq!(publish.len(), 1, "{reads:?}");
    assert_eq!(publish[0].actor, format!("user:{}", authority.user_id));
    assert_eq!(publish[0].row_count, 61);
    assert_eq!(
        publish[0].items,
        ["citizen_id", "name", "sex", "division"],
        "the items read"
    );
    let view = psb
        .get(&format!("/api/v1/open-releases/{id}"))
        .await
        .expect_status(200);
    assert_eq!(view["release"]["load_id"].as_str().map(str::len), Some(36));
}
both_backends!(
    opn_5_opn_6_a_generalised_release_is_approved_and_downloadable_without_raw_identifiers
);

async fn opn_6_a_refresh_makes_a_new_version_and_one_below_k_keeps_the_previous(
    srv: Arc<TestServer>,
) {
    let s = setup(&srv).await;
    let (first, code) = published(&srv, &s).await;
    let id = first["id"].as_str().unwrap().to_string();
    let psb = srv.login_demo(&s.demo, "psb.admin").await;

    // New data at the source: 70 people, no outlier.
    load(&srv, &s.entry_id, &people(70, false)).await;
    let second = psb
        .post(&format!("/api/v1/open-releases/{id}/refresh"), json!({}))
        .await
        .expect_status(201);
    assert_eq!(second["version"], 2);
    assert_eq!(second["status"], "published");
    assert_eq!(second["derived_code"], code.as_str());
    assert_eq!(second["suppressed_rows"], 0);
    assert_eq!(second["series_id"], id.as_str());
    let view = psb
        .get(&format!("/api/v1/open-releases/{id}"))
        .await
        .expect_status(200);
    assert_eq!(view["release"]["status"], "superseded");
    assert_eq!(view["release"]["last_refresh"]["version"], 2);
    assert_eq!(view["versions"].as_array().unwrap().len(), 2);
    let meta = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200);
    assert_eq!(meta["dataset"]["rows"], 70);
    assert_eq!(meta["dataset"]["published_version"], 2);

    // Data that fails k: the refresh is refused and recorded; version 2 stays.
    load(&srv, &s.entry_id, &people(12, true)).await;
    psb.post(&format!("/api/v1/open-releases/{id}/refresh"), json!({}))
        .await
        .expect_error(409, "release.k_too_low");
    let v2 = psb
        .get(&format!(
            "/api/v1/open-releases/{}",
            second["id"].as_str().unwrap()
        ))
        .await
        .expect_status(200);
    assert_eq!(v2["release"]["status"], "published");
    assert_eq!(v2["release"]["last_refresh"]["outcome"], "refused");
    assert_eq!(
        v2["release"]["last_refresh"]["error_code"],
        "release.k_too_low"
    );
    let meta = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200);
    assert_eq!(
        meta["dataset"]["rows"], 70,
        "the previous version is served"
    );

    // JY 28: the refresh job re-runs a release whose period came, when its source
    // changed; otherwise it only notes that nothing changed.
    load(&srv, &s.entry_id, &people(60, true)).await;
    let later = Utc::now() + Duration::days(400);
    let ran = gongshu_services::releases::refresh_due(&srv.app, later)
        .await
        .expect("job");
    assert_eq!(ran, 1);
    let view = psb
        .get(&format!("/api/v1/open-releases/{id}"))
        .await
        .expect_status(200);
    let versions = view["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3);
    let third = versions
        .iter()
        .find(|v| v["version"] == 3)
        .expect("version 3");
    assert_eq!(third["status"], "published");
    assert_eq!(third["created_by"], "system");
    assert_eq!(third["suppressed_rows"], 1);
    gongshu_services::releases::refresh_due(&srv.app, later + Duration::days(400))
        .await
        .expect("job");
    let third = psb
        .get(&format!(
            "/api/v1/open-releases/{}",
            third["id"].as_str().unwrap()
        ))
        .await
        .expect_status(200);
    assert_eq!(third["release"]["last_refresh"]["outcome"], "unchanged");
    assert_eq!(third["versions"].as_array().unwrap().len(), 3);
    let reads = release_reads(&srv, &s.entry_id).await;
    assert_eq!(
        reads
            .iter()
            .filter(|r| r.purpose == "release_refresh")
            .count(),
        3,
        "two manual refreshes and the job's"
    );
}
both_backends!(opn_6_a_refresh_makes_a_new_version_and_one_below_k_keeps_the_previous);

async fn opn_5_withdrawing_a_release_takes_it_out_of_the_open_catalog(srv: Arc<TestServer>) {
    let s = setup(&srv).await;
    let (r, code) = published(&srv, &s).await;
    let id = r["id"].as_str().unwrap();
    assert_eq!(csv_of(&srv, &code).await.0, 200);
    let market = srv.login_demo(&s.demo, "market.admin").await;
    market
        .post(
            &format!("/api/v1/open-releases/{id}/withdraw"),
            json!({"reason": "不是我的"}),
        )
        .await
        .expect_error(403, "auth.denied");
    let psb = srv.login_demo(&s.demo, "psb.admin").await;
    psb.post(
        &format!("/api/v1/open-releases/{id}/withdraw"),
        json!({"reason": " "}),
    )
    .await
    .expect_error(400, "input.required");
    let w = psb
        .post(
            &format!("/api/v1/open-releases/{id}/withdraw"),
            json!({"reason": "发现可与公开名册关联识别个人，撤回"}),
        )
        .await
        .expect_status(200);
    assert_eq!(w["status"], "withdrawn");
    srv.anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_error(404, "not_found");
    assert_ne!(csv_of(&srv, &code).await.0, 200);
    assert_eq!(open_total(&srv).await, 0);
    psb.post(&format!("/api/v1/open-releases/{id}/refresh"), json!({}))
        .await
        .expect_error(409, "release.wrong_status");
    let entry = srv
        .app
        .store
        .get_catalog_entry_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert!(entry.offline);
}
both_backends!(opn_5_withdrawing_a_release_takes_it_out_of_the_open_catalog);

async fn opn_5_data_opened_on_consent_is_conditional_and_records_the_consent(srv: Arc<TestServer>) {
    let s = setup(&srv).await;
    let psb = srv.login_demo(&s.demo, "psb.admin").await;
    let mut input = json!({
        "source": s.code,
        "basis": "consent",
        "name": "居民健康档案登记（依同意开放，测试）",
        "rules": {"citizen_id": "mask:citizen_id", "name": "keep", "sex": "keep", "division": "keep"},
        "open_conditions": "仅限科研用途，须签订数据利用协议",
    });
    psb.post("/api/v1/open-releases", input.clone())
        .await
        .expect_error(400, "release.consent_required");
    input["consent"] = json!({
        "subjects": "参加健康档案开放试点的 61 名居民",
        "scope": "姓名、性别、户籍地向科研用途有条件开放",
        "document": "云卫〔2026〕12 号同意书汇编",
    });
    let mut unconditional = input.clone();
    unconditional["open_type"] = json!("unconditional");
    psb.post("/api/v1/open-releases", unconditional)
        .await
        .expect_error(400, "release.consent_is_conditional");
    let prepared = psb
        .post("/api/v1/open-releases", input)
        .await
        .expect_status(201);
    assert_eq!(prepared["basis"], "consent");
    assert_eq!(
        prepared["k_required"], 0,
        "no quasi-identifiers: no k check"
    );
    assert_eq!(
        prepared["consent"]["document"],
        "云卫〔2026〕12 号同意书汇编"
    );
    let authority = srv.login_demo(&s.demo, "authority").await;
    // A return needs its reason.
    authority
        .post(
            &format!(
                "/api/v1/open-releases/{}/decision",
                prepared["id"].as_str().unwrap()
            ),
            json!({"approve": false}),
        )
        .await
        .expect_error(400, "input.required");
    let r = authority
        .post(
            &format!(
                "/api/v1/open-releases/{}/decision",
                prepared["id"].as_str().unwrap()
            ),
            json!({"approve": true}),
        )
        .await
        .expect_status(200);
    let code = r["derived_code"].as_str().unwrap();
    let meta = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200);
    let content = &meta["dataset"]["content"];
    assert_eq!(content["open_type"], "conditional");
    assert_eq!(content["open_reason"], "subject_consented");
    assert!(content["open_basis"]
        .as_str()
        .unwrap()
        .contains("云卫〔2026〕12 号"));
    assert_eq!(meta["access"], "application_required");
    assert_eq!(csv_of(&srv, code).await.0, 403);

    // The consent is in the audit trail, under 公安局.
    let trail = srv
        .app
        .store
        .list_audit(&gongshu_store::AuditFilter {
            action: Some("open.release_prepare".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert!(trail
        .iter()
        .any(|a| a.draft.org_id.as_deref() == Some(psb.org_id.as_str())
            && a.draft
                .after
                .as_deref()
                .unwrap_or("")
                .contains("云卫〔2026〕12 号")));
}
both_backends!(opn_5_data_opened_on_consent_is_conditional_and_records_the_consent);

async fn form_post(session: &Session, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = session
        .request(reqwest::Method::POST, path)
        .form(form)
        .send()
        .await
        .expect("post");
    let status = r.status().as_u16();
    let url = r.url().to_string();
    (status, url, r.text().await.expect("body"))
}

async fn opn_6_the_console_shows_k_and_a_sample_before_the_release_is_submitted(
    srv: Arc<TestServer>,
) {
    let s = setup(&srv).await;
    let psb = srv.login_demo(&s.demo, "psb.admin").await;
    let page = psb
        .get(&format!("/open-releases?source={}", s.entry_id))
        .await;
    assert_eq!(page.status, 200);
    for shown in [
        "rules-table",
        "公民身份号码",
        "citizen_id",
        "year_band:5",
        "preview-submit",
    ] {
        assert!(page.text.contains(shown), "the form lacks {shown}");
    }
    let form = [
        ("csrf", psb.csrf.as_str()),
        ("source", s.entry_id.as_str()),
        ("rule.citizen_id", "year_band:10"),
        ("rule.name", "suppress"),
        ("rule.sex", "keep"),
        ("rule.birth_date", "suppress"),
        ("rule.division", "prefix:4"),
        ("qi", "sex"),
        ("qi", "division"),
        ("max_suppression_percent", "5"),
        ("basis", "desensitised"),
        ("action", "preview"),
    ];
    let (status, _, html) = form_post(&psb, "/open-releases", &form).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"preview-k\""), "{html}");
    assert!(html.contains("k = 6"), "{html}");
    assert!(html.contains("1950-1959"));
    // Too fine: the page names k reached and required.
    let mut fine = form.to_vec();
    fine.retain(|(k, _)| *k != "max_suppression_percent");
    fine.push(("max_suppression_percent", "0"));
    let (_, _, html) = form_post(&psb, "/open-releases", &fine).await;
    assert!(
        html.contains("preview-refusal") && html.contains("k = 1"),
        "{html}"
    );
    let mut prepare = form.to_vec();
    prepare.retain(|(k, _)| *k != "action");
    prepare.push(("action", "prepare"));
    let (status, url, _) = form_post(&psb, "/open-releases", &prepare).await;
    assert_eq!(status, 200);
    assert!(url.ends_with("/open-releases?done=prepared"), "{url}");
    let authority = srv.login_demo(&s.demo, "authority").await;
    let page = authority.get("/open-releases").await;
    assert!(page.text.contains("decision-form"), "{}", page.text);
    assert!(page.text.contains("待主管部门审核"));
}
both_backends!(opn_6_the_console_shows_k_and_a_sample_before_the_release_is_submitted);
