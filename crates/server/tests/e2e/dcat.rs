//! OPN-2, OPN-7, OPN-11: the open catalog in DCAT-AP 3 — `/catalog.ttl` and
//! `/catalog.jsonld` page by page, one document per dataset, every open dataset
//! exactly once, conditional data RESTRICTED with no download address, and nothing
//! that is not open (or not the owner's own). Conformance to the DCAT-AP 3 SHACL
//! shapes is checked by `tests/compat/validate_dcat.py` with pyshacl.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use gongshu_domain::catalog::OpenType;
use gongshu_services::open::OpenCatalog;
use gongshu_services::Ctx;
use serde_json::Value;

use crate::common::{send, Resp, TestServer};

const EU_ACCESS: &str = "http://publications.europa.eu/resource/authority/access-right/";

/// The demo region with its catalog (entries not open among them) and its ~60 open
/// datasets; the open catalog as the service sees it.
async fn seeded(srv: &TestServer) -> Arc<OpenCatalog> {
    gongshu_services::demo::seed(&srv.app, 5)
        .await
        .expect("demo region and catalog");
    gongshu_services::demo_open::seed_open(&srv.app)
        .await
        .expect("open demo datasets");
    gongshu_services::open::catalog(&srv.app)
        .await
        .expect("open catalog")
}

async fn get(srv: &TestServer, path: &str) -> Resp {
    send(srv.anon().request(reqwest::Method::GET, path)).await
}

fn content_type(r: &Resp) -> &str {
    r.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The dataset IRI the export gives a code (the test server's public address is
/// the default one).
fn dataset_iri(code: &str) -> String {
    format!("http://127.0.0.1:8080/open/datasets/{code}#dataset")
}

/// A JSON-LD value that may be one object or a list, as a list.
fn all(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

/// The `@id`s a property of a node points to.
fn ids<'a>(node: &'a Value, property: &str) -> Vec<&'a str> {
    all(&node[property])
        .into_iter()
        .filter_map(|v| v["@id"].as_str())
        .collect()
}

fn has_type(node: &Value, class: &str) -> bool {
    all(&node["@type"])
        .iter()
        .any(|t| t.as_str() == Some(class))
}

/// The nodes of a JSON-LD document by `@id`.
fn nodes(doc: &Value) -> BTreeMap<String, Value> {
    all(&doc["@graph"])
        .into_iter()
        .map(|n| (n["@id"].as_str().expect("@id").to_string(), n.clone()))
        .collect()
}

/// Reads every JSON-LD page from `first`, following `hydra:next`; returns the
/// datasets each catalog page lists, and all nodes of all pages.
async fn json_ld_pages(
    srv: &TestServer,
    first: &str,
) -> (Vec<Vec<String>>, BTreeMap<String, Value>) {
    let mut path = first.to_string();
    let mut listed = Vec::new();
    let mut all_nodes = BTreeMap::new();
    loop {
        let r = get(srv, &path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(
            content_type(&r).starts_with("application/ld+json"),
            "{}",
            content_type(&r)
        );
        let doc: Value = serde_json::from_str(&r.text).expect("the JSON-LD parses as JSON");
        assert_eq!(doc["@context"]["dcat"], "http://www.w3.org/ns/dcat#");
        assert_eq!(doc["@context"]["dct"], "http://purl.org/dc/terms/");
        let page = nodes(&doc);
        let catalog = page
            .values()
            .find(|n| has_type(n, "dcat:Catalog"))
            .expect("a dcat:Catalog on every page");
        assert!(!all(&catalog["dct:title"]).is_empty());
        listed.push(
            ids(catalog, "dcat:dataset")
                .into_iter()
                .map(String::from)
                .collect(),
        );
        let paging = page
            .values()
            .find(|n| has_type(n, "hydra:PagedCollection"))
            .expect("hydra paging on every page")
            .clone();
        all_nodes.extend(page);
        match ids(&paging, "hydra:next").first() {
            Some(next) => {
                let at = next.find("/catalog.jsonld?").expect("a catalog page");
                path = next[at..].to_string();
            }
            None => return (listed, all_nodes),
        }
    }
}

async fn opn_7_dcat_catalog_pages_list_every_open_dataset_exactly_once(srv: Arc<TestServer>) {
    let catalog = seeded(&srv).await;
    let expected: BTreeSet<String> = catalog
        .datasets
        .iter()
        .map(|d| dataset_iri(&d.code))
        .collect();
    assert!(expected.len() >= 60, "{}", expected.len());

    // JSON-LD, 25 a page: three pages, each dataset once, described where listed.
    let (pages, all_nodes) = json_ld_pages(&srv, "/catalog.jsonld?page_size=25").await;
    assert_eq!(pages.len(), expected.len().div_ceil(25));
    let listed: Vec<&String> = pages.iter().flatten().collect();
    let unique: BTreeSet<String> = listed.iter().map(|s| s.to_string()).collect();
    assert_eq!(listed.len(), unique.len(), "a dataset listed twice");
    assert_eq!(unique, expected);
    for iri in &expected {
        assert!(has_type(&all_nodes[iri], "dcat:Dataset"), "{iri}");
    }
    let paging = all_nodes
        .values()
        .find(|n| has_type(n, "hydra:PagedCollection"))
        .unwrap();
    assert_eq!(
        paging["hydra:totalItems"]["@value"],
        expected.len().to_string()
    );

    // Turtle, by page number, until the page past the last (404).
    let mut seen = BTreeMap::<String, usize>::new();
    let mut page = 1;
    loop {
        let r = get(&srv, &format!("/catalog.ttl?page={page}&page_size=25")).await;
        if r.status == 404 {
            r.expect_error(404, "not_found");
            break;
        }
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(content_type(&r), "text/turtle; charset=utf-8");
        assert!(r
            .text
            .starts_with("@prefix dcat: <http://www.w3.org/ns/dcat#> ."));
        assert!(r.text.contains("a hydra:PagedCollection"));
        for iri in &expected {
            if r.text.contains(&format!("<{iri}>\n    a dcat:Dataset ;")) {
                *seen.entry(iri.clone()).or_default() += 1;
            }
        }
        page += 1;
    }
    assert_eq!(page - 1, pages.len());
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");

    // The default page holds the first 100 in code order; the Link header names
    // the pages too.
    let first = get(&srv, "/catalog.ttl").await;
    assert_eq!(first.status, 200);
    for (i, d) in catalog.datasets.iter().enumerate() {
        let iri = format!("<{}>", dataset_iri(&d.code));
        assert_eq!(first.text.contains(&iri), i < 100, "{iri}");
    }
    let link = first.headers["link"].to_str().unwrap();
    assert!(
        link.contains("/catalog.ttl?page=1>; rel=\"first\""),
        "{link}"
    );
    assert_eq!(
        link.contains("/catalog.ttl?page=2>; rel=\"next\""),
        catalog.datasets.len() > 100,
        "{link}"
    );

    // Bad paging is a clear 400.
    for (query, code) in [
        ("page=0", "dcat.invalid_page"),
        ("page_size=0", "dcat.invalid_page_size"),
        ("page_size=5000", "dcat.invalid_page_size"),
    ] {
        get(&srv, &format!("/catalog.jsonld?{query}"))
            .await
            .expect_error(400, code);
    }
    assert_eq!(get(&srv, "/catalog.ttl?page=abc").await.status, 400);
}
both_backends!(opn_7_dcat_catalog_pages_list_every_open_dataset_exactly_once);

async fn opn_7_dcat_conditional_datasets_are_restricted_with_no_download_url(srv: Arc<TestServer>) {
    let catalog = seeded(&srv).await;
    let (_, all_nodes) = json_ld_pages(&srv, "/catalog.jsonld?page_size=1000").await;
    let mut conditional = Vec::new();
    for d in &catalog.datasets {
        let node = &all_nodes[&dataset_iri(&d.code)];
        assert_eq!(node["dct:identifier"], d.code.as_str());
        let titles = all(&node["dct:title"]);
        assert!(titles
            .iter()
            .any(|t| t["@language"] == "zh" && t["@value"] == d.content.name.as_str()));
        assert!(titles.iter().any(|t| t["@language"] == "en"));
        assert!(all(&node["dct:description"])
            .iter()
            .any(|t| t["@language"] == "en"));
        assert_eq!(node["dct:modified"]["@type"], "xsd:dateTime");
        let publisher = &all_nodes[ids(node, "dct:publisher")[0]];
        assert!(has_type(publisher, "foaf:Agent"));
        assert_eq!(publisher["foaf:name"]["@value"], d.source_org_name.as_str());
        assert!(has_type(
            &all_nodes[ids(node, "dcat:contactPoint")[0]],
            "vcard:Kind"
        ));
        assert!(ids(node, "dcat:theme")[0]
            .starts_with("http://publications.europa.eu/resource/authority/data-theme/"));
        assert!(ids(node, "dct:accrualPeriodicity")[0]
            .starts_with("http://publications.europa.eu/resource/authority/frequency/"));
        let distributions = ids(node, "dcat:distribution");
        let downloads: Vec<&str> = distributions
            .iter()
            .flat_map(|dist| ids(&all_nodes[*dist], "dcat:downloadURL"))
            .collect();
        let rights = ids(node, "dct:accessRights");
        if d.content.open_type == OpenType::Conditional {
            conditional.push(d.code.clone());
            assert_eq!(rights, [format!("{EU_ACCESS}RESTRICTED").as_str()]);
            assert!(downloads.is_empty(), "{}: {downloads:?}", d.code);
            for dist in &distributions {
                assert_eq!(
                    ids(&all_nodes[*dist], "dcat:accessURL"),
                    [format!("http://127.0.0.1:8080/open/datasets/{}", d.code).as_str()]
                );
            }
        } else {
            assert_eq!(rights, [format!("{EU_ACCESS}PUBLIC").as_str()]);
            if d.has_data {
                let landing = format!("http://127.0.0.1:8080/open/datasets/{}", d.code);
                for file in [
                    "data.csv",
                    "data.ndjson",
                    "data.xlsx",
                    "data.parquet",
                    "datapackage.json",
                ] {
                    assert!(
                        downloads.contains(&format!("{landing}/{file}").as_str()),
                        "{}: {file}",
                        d.code
                    );
                }
            }
        }
    }
    assert!(!conditional.is_empty(), "the demo has conditional datasets");

    // The per-dataset documents say the same.
    let code = &conditional[0];
    let ttl = get(&srv, &format!("/open/datasets/{code}/dcat.ttl")).await;
    assert_eq!(ttl.status, 200, "{}", ttl.text);
    assert_eq!(content_type(&ttl), "text/turtle; charset=utf-8");
    assert!(ttl.text.contains(&format!("<{}>", dataset_iri(code))));
    assert!(ttl
        .text
        .contains(&format!("dct:accessRights <{EU_ACCESS}RESTRICTED>")));
    assert!(!ttl.text.contains("dcat:downloadURL"));
    let ld = get(&srv, &format!("/open/datasets/{code}/dcat.jsonld")).await;
    assert_eq!(ld.status, 200);
    assert!(content_type(&ld).starts_with("application/ld+json"));
    let doc: Value = serde_json::from_str(&ld.text).expect("JSON");
    assert!(doc["@context"].is_object());
    let one = nodes(&doc);
    assert_eq!(
        ids(&one[&dataset_iri(code)], "dct:accessRights"),
        [format!("{EU_ACCESS}RESTRICTED").as_str()]
    );
    assert!(!ld.text.contains("dcat:downloadURL"));

    // An unconditional one lists its downloads, and they are served.
    let direct = catalog
        .datasets
        .iter()
        .find(|d| d.is_direct() && d.has_data)
        .expect("an unconditional dataset with data");
    let ttl = get(&srv, &format!("/open/datasets/{}/dcat.ttl", direct.code)).await;
    assert!(ttl.text.contains(&format!(
        "dcat:downloadURL <http://127.0.0.1:8080/open/datasets/{}/data.csv>",
        direct.code
    )));
    assert_eq!(
        get(&srv, &format!("/open/datasets/{}/data.csv", direct.code))
            .await
            .status,
        200
    );
    get(&srv, "/open/datasets/NO-SUCH/dcat.ttl")
        .await
        .expect_error(404, "not_found");
}
both_backends!(opn_7_dcat_conditional_datasets_are_restricted_with_no_download_url);

async fn opn_11_dcat_never_lists_data_not_open_or_obtained_by_sharing(srv: Arc<TestServer>) {
    let catalog = seeded(&srv).await;
    let template = catalog
        .datasets
        .iter()
        .find(|d| d.is_direct() && d.has_data)
        .expect("an open dataset");
    // Another department republishes it as its own entry (obtained by sharing).
    let city = srv.org_id("云川市数据局").await;
    assert_ne!(city, template.owner_org_id);
    let mut copy = template.content.clone();
    copy.name = "转载的开放数据（共享获得）".into();
    let obtained =
        gongshu_services::demo_catalog::publish_for_demo(&srv.app, &Ctx::cli(), &city, copy)
            .await
            .expect("published");
    // Its owner publishes an entry that is not open.
    let mut closed = template.content.clone();
    closed.name = "不予开放的明细".into();
    closed.open_type = OpenType::NotOpen;
    closed.open_conditions.clear();
    closed.open_reason = Some(gongshu_domain::catalog::OpenReason::SecurityRisk);
    closed.open_basis = "含个人信息，开放后可能危及公共安全（HZ 32）".into();
    let not_open = gongshu_services::demo_catalog::publish_for_demo(
        &srv.app,
        &Ctx::cli(),
        &template.owner_org_id,
        closed,
    )
    .await
    .expect("published");
    assert_eq!(not_open.open_type, "not_open");
    // The demo's own not-open entries too.
    let demo_not_open: Vec<String> = srv
        .app
        .store
        .list_catalog_entries(&gongshu_store::CatalogFilter {
            status: Some("published".into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.open_type == "not_open")
        .map(|e| e.code)
        .collect();
    assert!(!demo_not_open.is_empty());

    let ttl = get(&srv, "/catalog.ttl?page_size=1000").await;
    assert_eq!(ttl.status, 200);
    let ld = get(&srv, "/catalog.jsonld?page_size=1000").await;
    assert_eq!(ld.status, 200);
    for code in demo_not_open.iter().chain([&obtained.code, &not_open.code]) {
        let needle = format!("/open/datasets/{code}");
        assert!(!ttl.text.contains(&needle), "{code} is not open");
        assert!(!ld.text.contains(&needle), "{code} is not open");
        for ext in ["ttl", "jsonld"] {
            get(&srv, &format!("/open/datasets/{code}/dcat.{ext}"))
                .await
                .expect_error(404, "not_found");
        }
    }
    for name in ["转载的开放数据", "不予开放的明细"] {
        assert!(!ttl.text.contains(name) && !ld.text.contains(name));
    }
    // Still every open dataset, once.
    let listed = ttl.text.matches("\n    a dcat:Dataset ;").count();
    assert_eq!(listed, catalog.datasets.len());
}
both_backends!(opn_11_dcat_never_lists_data_not_open_or_obtained_by_sharing);
