//! OPN-2, OPN-3, OPN-4, OPN-7, OPN-10, OPN-11: the public open data portal — no
//! account, Chinese search with facets, dataset pages, downloads in four formats with
//! their Data Package, masking and access records at the gate, conditional data
//! refused until applied for, and nothing that is not open (or not the owner's own).
use std::sync::Arc;

use gongshu_domain::catalog::{DataItem, FieldType, ItemConstraints, KeyRole, OpenType};
use gongshu_services::Ctx;
use gongshu_store::AccessFilter;
use serde_json::Value;

use crate::common::{send, TestServer};

/// The demo region with its ~60 open datasets.
async fn seeded(srv: &TestServer) {
    srv.seed_demo().await;
    gongshu_services::demo_open::seed_open(&srv.app)
        .await
        .expect("open demo datasets");
}

/// The open dataset (code) whose name contains `name`.
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
        .find(|d| d["content"]["name"].as_str().unwrap_or("").contains(name))
        .unwrap_or_else(|| panic!("an open dataset named like {name}: {found}"))["code"]
        .as_str()
        .expect("code")
        .to_string()
}

async fn get_bytes(srv: &TestServer, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = srv
        .anon()
        .request(reqwest::Method::GET, path)
        .send()
        .await
        .expect("download");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.expect("body").to_vec())
}

async fn access_of(srv: &TestServer, entry_id: &str) -> Vec<gongshu_store::AccessRecord> {
    srv.app
        .store
        .list_access(&AccessFilter {
            resource_id: Some(entry_id.to_string()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("access records")
}

async fn opn_2_opn_7_a_visitor_finds_a_dataset_by_a_chinese_query_without_an_account(
    srv: Arc<TestServer>,
) {
    seeded(&srv).await;
    let home = send(srv.anon().request(reqwest::Method::GET, "/open")).await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("重点开放领域"), "{}", home.text);
    assert!(home.text.contains("/open/datasets?domain=transport"));

    let page = send(
        srv.anon()
            .request(reqwest::Method::GET, "/open/datasets?q=公交线路"),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("公交线路"), "{}", page.text);
    // Facets narrow the search: the domain facet links to the same words in one domain.
    assert!(page.text.contains("domain=transport"), "{}", page.text);

    let found = srv
        .anon()
        .get("/api/v1/open/datasets?q=空气质量")
        .await
        .expect_status(200);
    assert!(found["total"].as_u64().unwrap() >= 1, "{found}");
    for d in found["datasets"].as_array().unwrap() {
        assert!(
            d["content"]["name"].as_str().unwrap().contains("空气"),
            "{d}"
        );
    }
    let transport = srv
        .anon()
        .get("/api/v1/open/datasets?domain=transport&limit=100")
        .await
        .expect_status(200);
    let hits = transport["datasets"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|d| d["content"]["domain"] == "transport"));
    assert_eq!(transport["total"].as_u64().unwrap() as usize, hits.len());

    // The dataset page: metadata, dictionary, preview, downloads, citation.
    let code = code_of(&srv, "公交线路信息").await;
    let ds = send(
        srv.anon()
            .request(reqwest::Method::GET, &format!("/open/datasets/{code}")),
    )
    .await;
    assert_eq!(ds.status, 200);
    for shown in [
        "数据字典",
        "line_name",
        "数据预览",
        "YC001",
        "data.parquet",
        "datapackage.json",
        "获取日期",
    ] {
        assert!(ds.text.contains(shown), "dataset page lacks {shown}");
    }
}
both_backends!(opn_2_opn_7_a_visitor_finds_a_dataset_by_a_chinese_query_without_an_account);

async fn opn_3_downloads_in_four_formats_come_with_a_data_package_and_are_recorded(
    srv: Arc<TestServer>,
) {
    seeded(&srv).await;
    let code = code_of(&srv, "公交线路信息").await;
    let meta = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200);
    let rows = meta["dataset"]["rows"].as_i64().unwrap();
    assert!(rows > 0);
    assert_eq!(meta["access"], "direct");
    let names: Vec<String> = meta["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();

    let base = format!("/open/datasets/{code}");
    let (status, headers, csv) = get_bytes(&srv, &format!("{base}/data.csv")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-gongshu-rows"], rows.to_string().as_str());
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next().unwrap(), names.join(","));
    assert_eq!(lines.count() as i64, rows);

    let (status, _, ndjson) = get_bytes(&srv, &format!("{base}/data.ndjson")).await;
    assert_eq!(status, 200);
    let first: Value =
        serde_json::from_str(String::from_utf8(ndjson).unwrap().lines().next().unwrap()).unwrap();
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), names.len());
    let (status, _, xlsx) = get_bytes(&srv, &format!("{base}/data.xlsx")).await;
    assert_eq!(status, 200);
    assert_eq!(&xlsx[..2], b"PK", "an XLSX is a zip");
    let (status, _, parquet) = get_bytes(&srv, &format!("{base}/data.parquet")).await;
    assert_eq!(status, 200);
    assert_eq!(&parquet[..4], b"PAR1");

    // The descriptor lists the four files with the served Table Schema.
    let package = srv
        .anon()
        .get(&format!("{base}/datapackage.json"))
        .await
        .expect_status(200);
    assert_eq!(package["name"], code.to_ascii_lowercase());
    let resources = package["resources"].as_array().unwrap();
    let paths: Vec<&str> = resources
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["data.csv", "data.ndjson", "data.xlsx", "data.parquet"]
    );
    for r in resources {
        let fields: Vec<&str> = r["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(fields, names);
    }
    assert!(package["citation"]["zh"]
        .as_str()
        .unwrap()
        .contains("获取日期"));

    // Each download also comes bundled with its descriptor.
    let (status, headers, zipped) = get_bytes(&srv, &format!("{base}/package-csv.zip")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/zip");
    assert_eq!(&zipped[..2], b"PK");
    let needle = format!("{code}.csv");
    assert!(zipped.windows(16).any(|w| w == b"datapackage.json"));
    assert!(zipped.windows(needle.len()).any(|w| w == needle.as_bytes()));

    // GOV-5: every read left a served access record of the public, with its hash.
    let entry_id = meta["dataset"]["id"].as_str().unwrap();
    let records = access_of(&srv, entry_id).await;
    let downloads: Vec<_> = records
        .iter()
        .filter(|r| r.mode == "open" && r.operation == "download")
        .collect();
    assert_eq!(downloads.len(), 5, "four files and one package");
    assert!(downloads.iter().all(|r| r.outcome == "served"
        && r.actor == "public"
        && r.row_count == rows
        && r.response_hash.len() == 64));
    assert_stated_hash_is_recorded(&srv, &format!("{base}/data.csv")).await;
}
both_backends!(opn_3_downloads_in_four_formats_come_with_a_data_package_and_are_recorded);

/// The SM3 a download states is the SM3 of its bytes, and its access record keeps it.
async fn assert_stated_hash_is_recorded(srv: &TestServer, path: &str) {
    use sm3::Digest;
    let (_, headers, bytes) = get_bytes(srv, path).await;
    let stated = headers["x-gongshu-sm3"].to_str().unwrap().to_string();
    assert_eq!(stated, hex::encode(sm3::Sm3::digest(&bytes)));
    let access = headers["x-gongshu-access"].to_str().unwrap().to_string();
    let records = srv
        .app
        .store
        .list_access(&AccessFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let rec = records
        .iter()
        .find(|r| r.id == access)
        .expect("the access record");
    assert_eq!(rec.response_hash, stated);
}

async fn opn_4_conditional_data_is_refused_until_applied_for_and_the_refusal_is_recorded(
    srv: Arc<TestServer>,
) {
    seeded(&srv).await;
    let conditional = srv
        .anon()
        .get("/api/v1/open/datasets?open_type=conditional")
        .await
        .expect_status(200);
    let ds = &conditional["datasets"][0];
    assert_eq!(ds["content"]["open_type"], "conditional");
    let code = ds["code"].as_str().unwrap();
    let meta = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200);
    assert_eq!(meta["access"], "application_required");
    // The metadata and the dictionary are public; the rows are not.
    assert!(!meta["schema"]["fields"].as_array().unwrap().is_empty());
    srv.anon()
        .get(&format!("/api/v1/open/datasets/{code}/records"))
        .await
        .expect_error(403, "open.application_required");
    let (status, _, _) = get_bytes(&srv, &format!("/open/datasets/{code}/data.csv")).await;
    assert_eq!(status, 403);
    let page = send(
        srv.anon()
            .request(reqwest::Method::GET, &format!("/open/datasets/{code}")),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("application-required"), "{}", page.text);
    assert!(!page.text.contains("id=\"preview\""));
    let records = access_of(&srv, ds["id"].as_str().unwrap()).await;
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records.iter().all(|r| r.outcome == "denied"
        && r.denial.as_deref() == Some("open.application_required")
        && r.row_count == 0));
}
both_backends!(opn_4_conditional_data_is_refused_until_applied_for_and_the_refusal_is_recorded);

async fn opn_11_data_not_open_or_obtained_by_sharing_never_reaches_the_portal(
    srv: Arc<TestServer>,
) {
    seeded(&srv).await;
    // A department republishes another department's open dataset as its own entry.
    let code = code_of(&srv, "公交线路信息").await;
    let original = srv
        .app
        .store
        .get_catalog_entry_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    let mut copy = original.published.clone().unwrap();
    copy.name = "转载的公交线路（共享获得）".into();
    let city = srv.org_id("云川市数据局").await;
    assert_ne!(city, original.owner_org_id);
    let obtained =
        gongshu_services::demo_catalog::publish_for_demo(&srv.app, &Ctx::cli(), &city, copy)
            .await
            .expect("published");
    assert_eq!(obtained.open_type, "unconditional");
    let found = srv
        .anon()
        .get("/api/v1/open/datasets?q=转载&limit=100")
        .await
        .expect_status(200);
    assert_eq!(found["total"], 0, "{found}");
    srv.anon()
        .get(&format!("/api/v1/open/datasets/{}", obtained.code))
        .await
        .expect_error(404, "not_found");

    // A published entry that is not open (HZ 32) is not in the open catalog either.
    let mut closed = original.published.clone().unwrap();
    closed.name = "公交线路客流明细（不予开放）".into();
    closed.open_type = OpenType::NotOpen;
    closed.open_conditions.clear();
    closed.open_reason = Some(gongshu_domain::catalog::OpenReason::SecurityRisk);
    closed.open_basis = "含乘客出行轨迹，开放后可能危及公共安全（HZ 32）".into();
    let not_open = vec![gongshu_services::demo_catalog::publish_for_demo(
        &srv.app,
        &Ctx::cli(),
        &original.owner_org_id,
        closed,
    )
    .await
    .expect("published")];
    assert_eq!(not_open[0].open_type, "not_open");
    let all = srv
        .anon()
        .get("/api/v1/open/datasets?limit=100")
        .await
        .expect_status(200);
    let total = all["total"].as_u64().unwrap();
    let mut codes = Vec::new();
    let mut offset = 0;
    while offset < total {
        let page = srv
            .anon()
            .get(&format!("/api/v1/open/datasets?limit=100&offset={offset}"))
            .await
            .expect_status(200);
        for d in page["datasets"].as_array().unwrap() {
            assert_ne!(d["content"]["open_type"], "not_open");
            assert_eq!(d["owner_org_id"], d["content"]["source_org_id"]);
            codes.push(d["code"].as_str().unwrap().to_string());
        }
        offset += 100;
    }
    for e in &not_open {
        assert!(!codes.contains(&e.code), "{} is not open", e.code);
        srv.anon()
            .get(&format!("/api/v1/open/datasets/{}/records", e.code))
            .await
            .expect_error(404, "not_found");
    }
}
both_backends!(opn_11_data_not_open_or_obtained_by_sharing_never_reaches_the_portal);

fn item(name: &str, code_name: &str, sensitive: bool, key_role: KeyRole) -> DataItem {
    DataItem {
        name: name.into(),
        code_name: code_name.into(),
        field_type: FieldType::String,
        length: Some(50),
        meaning: String::new(),
        sensitive,
        key_role,
        element_code: None,
        constraints: ItemConstraints::default(),
    }
}

async fn opn_3_sensitive_items_reach_the_public_only_masked(srv: Arc<TestServer>) {
    seeded(&srv).await;
    // An open list of licensed practitioners that names its contact people.
    let code = code_of(&srv, "公交线路信息").await;
    let template = srv
        .app
        .store
        .get_catalog_entry_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    let mut content = template.published.clone().unwrap();
    content.name = "执业药师注册公示".into();
    content.items = vec![
        item("注册证号", "licence_no", false, KeyRole::RecordKey),
        item("姓名", "name", true, KeyRole::None),
        item("联系电话", "mobile", true, KeyRole::None),
        item("执业单位", "employer", false, KeyRole::None),
    ];
    let entry = gongshu_services::demo_catalog::publish_for_demo(
        &srv.app,
        &Ctx::cli(),
        &template.owner_org_id,
        content,
    )
    .await
    .expect("published");
    let dir = crate::common::TempDir::new();
    let file = dir.path().join("pharmacists.csv");
    std::fs::write(
        &file,
        "licence_no,name,mobile,employer\nZY001,张三丰,13812341234,云川大药房\nZY002,李四,13900001111,百姓药店\n",
    )
    .unwrap();
    let opts = gongshu_services::datasets::LoadOptions::new(
        gongshu_services::datasets::Channel::Upload,
        gongshu_services::dataset_input::InputFormat::Csv,
    );
    gongshu_services::datasets::record_secrecy_review(
        &srv.app,
        &Ctx::cli(),
        &entry.id,
        gongshu_services::datasets::SecrecyReviewInput::cleared(""),
    )
    .await
    .expect("cleared");
    gongshu_services::datasets::load_file(&srv.app, &Ctx::cli(), &entry.id, &file, opts)
        .await
        .expect("loaded");

    let page = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{}/records", entry.code))
        .await
        .expect_status(200);
    let first = &page["rows"][0];
    assert_eq!(first["licence_no"], "ZY001");
    assert_eq!(first["employer"], "云川大药房");
    assert_eq!(first["name"], "张**");
    assert_eq!(first["mobile"], "138****1234");
    assert!(!page.to_string().contains("13812341234"));
    let (_, _, csv) = get_bytes(&srv, &format!("/open/datasets/{}/data.csv", entry.code)).await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        !csv.contains("张三丰") && !csv.contains("13812341234"),
        "{csv}"
    );
    // Filtering on a masked item would tell whether a hidden value exists.
    srv.anon()
        .get(&format!(
            "/api/v1/open/datasets/{}/records?where=mobile:13812341234",
            entry.code
        ))
        .await
        .expect_error(403, "open.filter_on_masked_item");
    let by_clear = srv
        .anon()
        .get(&format!(
            "/api/v1/open/datasets/{}/records?where=licence_no:ZY002&fields=licence_no,employer",
            entry.code
        ))
        .await
        .expect_status(200);
    assert_eq!(
        by_clear["items"],
        serde_json::json!(["licence_no", "employer"])
    );
    assert_eq!(by_clear["rows"][0]["employer"], "百姓药店");
    let records = access_of(&srv, &entry.id).await;
    assert!(records.iter().any(
        |r| r.outcome == "denied" && r.denial.as_deref() == Some("open.filter_on_masked_item")
    ));
}
both_backends!(opn_3_sensitive_items_reach_the_public_only_masked);

async fn opn_3_anonymous_reads_are_rate_limited_per_address(srv: Arc<TestServer>) {
    seeded(&srv).await;
    let code = code_of(&srv, "公交线路信息").await;
    let path = format!("/api/v1/open/datasets/{code}/records?limit=1");
    let limit = gongshu_services::egress::ANONYMOUS_RATE_PER_MINUTE as usize;
    let mut served = 0;
    let mut refused = None;
    // Two minutes' worth at most: the count starts again when a minute turns.
    for _ in 0..(2 * limit + 1) {
        let r = srv.anon().get(&path).await;
        match r.status {
            200 => served += 1,
            _ => {
                r.expect_error(423, "open.rate_exceeded");
                refused = Some(r);
                break;
            }
        }
    }
    assert!(refused.is_some(), "no refusal after {served} reads");
    assert!(served >= limit, "refused after only {served} reads");
}
both_backends!(opn_3_anonymous_reads_are_rate_limited_per_address);
