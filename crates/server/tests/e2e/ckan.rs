//! OPN-2: the CKAN Action API over the open catalog — both URL prefixes, GET and POST,
//! CKAN's envelope and error types, package search with Chinese words, filter
//! queries, facets, sorting and paging, datastore rows through the egress gate, and
//! nothing that is not open.
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use gongshu_services::open::OpenCatalog;
use gongshu_store::CatalogFilter;
use serde_json::{json, Value};

use crate::common::{send, Resp, TestServer};

/// The demo region with its catalog (which has entries not open) and its ~60 open
/// datasets with rows; the open catalog as the service sees it.
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

/// GET an action with query parameters (encoded by the client).
async fn get(srv: &TestServer, action: &str, query: &[(&str, &str)]) -> Resp {
    send(
        srv.anon()
            .request(reqwest::Method::GET, &format!("/api/3/action/{action}"))
            .query(query),
    )
    .await
}

/// POST an action with a JSON body, as `ckanapi` does.
async fn post(srv: &TestServer, prefix: &str, action: &str, body: Value) -> Resp {
    srv.anon().post(&format!("{prefix}/{action}"), body).await
}

/// Asserts CKAN's success envelope and returns `result`.
#[track_caller]
fn result(r: Resp) -> Value {
    assert_eq!(r.status, 200, "unexpected status; body: {}", r.text);
    assert_eq!(r.body["success"], true, "{}", r.text);
    let help = r.body["help"].as_str().unwrap_or_default();
    assert!(help.contains("/api/3/action/help_show?name="), "{}", r.text);
    r.body["result"].clone()
}

/// Asserts CKAN's error envelope with this status and `__type`; returns `error`.
#[track_caller]
fn ckan_error(r: &Resp, status: u16, kind: &str) -> Value {
    assert_eq!(r.status, status, "unexpected status; body: {}", r.text);
    assert_eq!(r.body["success"], false, "{}", r.text);
    assert!(r.body["help"].is_string(), "{}", r.text);
    assert_eq!(r.body["error"]["__type"], kind, "{}", r.text);
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.trim().is_empty(), "{}", r.text);
    r.body["error"].clone()
}

fn names(results: &Value) -> Vec<String> {
    results
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect()
}

/// The package name of the open dataset whose title contains `title`.
fn name_of(catalog: &OpenCatalog, title: &str) -> String {
    catalog
        .datasets
        .iter()
        .find(|d| d.content.name.contains(title))
        .unwrap_or_else(|| panic!("an open dataset named like {title}"))
        .code
        .to_ascii_lowercase()
}

async fn opn_2_ckan_package_list_and_show_follow_the_open_catalog_only(srv: Arc<TestServer>) {
    let catalog = seeded(&srv).await;
    let mut expected: Vec<String> = catalog
        .datasets
        .iter()
        .map(|d| d.code.to_ascii_lowercase())
        .collect();
    expected.sort();
    assert!(expected.len() >= 60, "{}", expected.len());

    // Both prefixes, GET and POST (JSON, and CKAN's form), give the same list.
    let listed = result(srv.anon().get("/api/action/package_list").await);
    assert_eq!(listed, json!(expected));
    assert_eq!(result(get(&srv, "package_list", &[]).await), listed);
    assert_eq!(
        result(
            post(
                &srv,
                "/api/action",
                "package_list",
                json!({"include_private": false})
            )
            .await
        ),
        listed
    );
    let form = send(
        srv.anon()
            .request(reqwest::Method::POST, "/api/3/action/package_list")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("limit=5&offset=2"),
    )
    .await;
    assert_eq!(result(form), json!(expected[2..7]));

    // Entries that are published but not open never appear.
    let not_open: Vec<_> = srv
        .app
        .store
        .list_catalog_entries(&CatalogFilter {
            status: Some("published".into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .expect("published entries")
        .into_iter()
        .filter(|e| e.open_type == "not_open")
        .collect();
    assert!(
        !not_open.is_empty(),
        "the demo catalog has entries not open"
    );
    let everything = result(get(&srv, "package_search", &[("rows", "1000")]).await);
    assert_eq!(everything["count"], expected.len());
    let found: HashSet<String> = names(&everything["results"]).into_iter().collect();
    assert_eq!(found.len(), expected.len());
    for e in &not_open {
        let name = e.code.to_ascii_lowercase();
        assert!(
            !found.contains(&name) && !expected.contains(&name),
            "{name} is not open"
        );
        for id in [name.as_str(), e.id.as_str()] {
            let r = get(&srv, "package_show", &[("id", id)]).await;
            ckan_error(&r, 404, "Not Found Error");
        }
    }

    // package_show by name and by id, over both prefixes and POST.
    let name = name_of(&catalog, "公交线路信息");
    let ds = catalog.get(&name.to_ascii_uppercase()).expect("bus lines");
    let by_name = result(get(&srv, "package_show", &[("id", &name)]).await);
    let by_id = result(post(&srv, "/api/action", "package_show", json!({"id": ds.id})).await);
    assert_eq!(by_name, by_id);
    assert_eq!(by_name["name"], name);
    assert_eq!(by_name["id"], ds.id);
    assert_eq!(by_name["title"], ds.content.name);
    assert_eq!(by_name["notes"], ds.content.summary);
    assert_eq!(by_name["type"], "dataset");
    assert_eq!(by_name["state"], "active");
    assert_eq!(by_name["private"], false);
    assert_eq!(by_name["owner_org"], ds.owner_org_id);
    assert_eq!(by_name["organization"]["name"], ds.owner_org_id);
    assert_eq!(by_name["organization"]["title"], ds.source_org_name);
    assert_eq!(by_name["organization"]["is_organization"], true);
    assert_eq!(by_name["groups"][0]["name"], "transport");
    assert_eq!(by_name["groups"][0]["title"], "交通运输");
    let tags: Vec<&str> = by_name["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"交通运输"), "{tags:?}");
    assert_eq!(by_name["num_tags"], tags.len());
    let modified = by_name["metadata_modified"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(modified, "%Y-%m-%dT%H:%M:%S%.6f").is_ok()
            && modified.len() == 26,
        "CKAN's timestamp format: {modified}"
    );
    assert!(by_name["license_id"]
        .as_str()
        .is_some_and(|l| !l.is_empty()));
    assert!(by_name["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/open/datasets/{}", ds.code)));
    let extras: Vec<&str> = by_name["extras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    for key in [
        "open_type",
        "update_frequency",
        "source_department",
        "resource_code",
        "citation",
    ] {
        assert!(extras.contains(&key), "{key} in {extras:?}");
    }
    let resources = by_name["resources"].as_array().unwrap();
    assert_eq!(by_name["num_resources"], 4);
    let formats: Vec<(&str, &str)> = resources
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["format"].as_str().unwrap()))
        .collect();
    assert_eq!(
        formats,
        vec![
            (format!("{name}-csv").as_str(), "CSV"),
            (format!("{name}-ndjson").as_str(), "JSON"),
            (format!("{name}-xlsx").as_str(), "XLSX"),
            (format!("{name}-parquet").as_str(), "PARQUET"),
        ]
    );
    for r in resources {
        assert_eq!(r["package_id"], ds.id);
        assert!(r["url"].as_str().unwrap().starts_with("http"), "{r}");
        assert_eq!(r["datastore_active"], r["format"] == "CSV");
    }
    // resource_show gives the same resource; its URL downloads the file.
    let csv = result(get(&srv, "resource_show", &[("id", &format!("{name}-csv"))]).await);
    assert_eq!(csv, resources[0]);
    let file = send(srv.anon().request(
        reqwest::Method::GET,
        &format!("/open/datasets/{}/data.csv", ds.code),
    ))
    .await;
    assert_eq!(file.status, 200);
    assert!(csv["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/open/datasets/{}/data.csv", ds.code)));

    // Conditional datasets are listed, without an active datastore.
    let conditional = catalog
        .datasets
        .iter()
        .find(|d| !d.is_direct())
        .expect("a conditional dataset");
    let shown = result(get(&srv, "package_show", &[("id", &conditional.code)]).await);
    assert_eq!(shown["resources"][0]["datastore_active"], false);
    assert_eq!(shown["isopen"], false);

    // CKAN's errors: unknown package, unknown action, bad JSON, bad parameters.
    let missing = post(
        &srv,
        "/api/3/action",
        "package_show",
        json!({"id": "no-such-dataset"}),
    )
    .await;
    ckan_error(&missing, 404, "Not Found Error");
    let r = srv.anon().get("/api/action/package_create").await;
    ckan_error(&r, 400, "Bad request - Action name not known");
    let r = srv
        .anon()
        .post_raw("/api/action/package_show", "{\"id\": ")
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["success"], false);
    let r = get(&srv, "package_search", &[("rows", "many")]).await;
    let e = ckan_error(&r, 409, "Validation Error");
    assert!(e["rows"].is_array(), "{e}");
    let r = get(&srv, "package_show", &[]).await;
    ckan_error(&r, 409, "Validation Error");

    let status = result(get(&srv, "status_show", &[]).await);
    assert_eq!(status["ckan_version"], "2.10.0");
    assert_eq!(status["extensions"], json!([]));
    assert!(status["site_title"].is_string() && status["site_url"].is_string());
    assert_eq!(
        srv.anon().get("/api/3").await.expect_status(200)["version"],
        3
    );
}
both_backends!(opn_2_ckan_package_list_and_show_follow_the_open_catalog_only);

async fn opn_2_ckan_package_search_finds_chinese_words_with_facets(srv: Arc<TestServer>) {
    let catalog = seeded(&srv).await;
    let total = catalog.datasets.len();
    let bus = name_of(&catalog, "公交线路信息");

    // Chinese words, with facets as CKAN's web front end asks for them.
    let facet_fields = r#"["organization","groups","tags","res_format","license_id"]"#;
    let found = result(
        get(
            &srv,
            "package_search",
            &[
                ("q", "公交"),
                ("facet.field", facet_fields),
                ("rows", "100"),
            ],
        )
        .await,
    );
    let count = found["count"].as_u64().unwrap() as usize;
    let hits = names(&found["results"]);
    assert!(count >= 1 && count == hits.len(), "{found}");
    assert!(hits.contains(&bus), "{hits:?}");
    assert!(count < total, "the words narrow the search");
    assert_eq!(found["sort"], "score desc, metadata_modified desc");
    let groups = &found["search_facets"]["groups"];
    assert_eq!(groups["title"], "groups");
    let transport = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "transport")
        .expect("the transport group among the facets");
    assert_eq!(transport["display_name"], "交通运输");
    assert_eq!(found["facets"]["groups"]["transport"], transport["count"]);
    let per_org: u64 = found["search_facets"]["organization"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["count"].as_u64().unwrap())
        .sum();
    assert_eq!(per_org as usize, count, "each dataset has one organization");
    assert_eq!(found["facets"]["res_format"]["CSV"], count);
    assert_eq!(found["facets"]["license_id"].as_object().unwrap().len(), 1);
    // The same search by POST with a JSON list, on the other prefix.
    let posted = result(
        post(
            &srv,
            "/api/action",
            "package_search",
            json!({"q": "公交", "facet.field": ["groups"], "rows": 100}),
        )
        .await,
    );
    assert_eq!(posted["count"], found["count"]);
    assert_eq!(
        posted["search_facets"]["groups"],
        found["search_facets"]["groups"]
    );

    // fq: a group; a group minus one organization; a date range; date math.
    let in_transport = result(
        get(
            &srv,
            "package_search",
            &[("fq", "groups:transport"), ("rows", "1000")],
        )
        .await,
    );
    let transport_names = names(&in_transport["results"]);
    assert_eq!(
        transport_names.len(),
        catalog
            .datasets
            .iter()
            .filter(|d| d.content.domain.key() == "transport")
            .count()
    );
    assert!(in_transport["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["groups"][0]["name"] == "transport"));
    let bus_org = catalog
        .get(&bus.to_ascii_uppercase())
        .unwrap()
        .owner_org_id
        .clone();
    let without = result(
        get(
            &srv,
            "package_search",
            &[
                ("fq", &format!("groups:transport -organization:{bus_org}")),
                ("rows", "1000"),
            ],
        )
        .await,
    );
    assert!(without["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["owner_org"] != bus_org.as_str()));
    let by_bus_org = catalog
        .datasets
        .iter()
        .filter(|d| d.content.domain.key() == "transport" && d.owner_org_id == bus_org)
        .count();
    assert!(by_bus_org > 0);
    assert_eq!(
        without["count"].as_u64().unwrap() as usize,
        transport_names.len() - by_bus_org
    );
    let words_and_filters = result(
        get(
            &srv,
            "package_search",
            &[
                ("q", "公交"),
                ("fq", &format!("-organization:\"{bus_org}\"")),
            ],
        )
        .await,
    );
    assert!(!names(&words_and_filters["results"]).contains(&bus));
    let since_2000 = result(
        get(
            &srv,
            "package_search",
            &[
                ("fq", "metadata_modified:[2000-01-01T00:00:00Z TO *]"),
                ("rows", "0"),
            ],
        )
        .await,
    );
    assert_eq!(since_2000["count"], total);
    assert_eq!(since_2000["results"], json!([]));
    let recent = result(
        get(
            &srv,
            "package_search",
            &[
                ("fq", "metadata_modified:[NOW-1DAY TO NOW+1DAY]"),
                ("rows", "0"),
            ],
        )
        .await,
    );
    assert_eq!(recent["count"], total, "the demo was just seeded");
    let future = result(
        get(
            &srv,
            "package_search",
            &[("fq", "metadata_modified:[NOW+1DAY TO *]")],
        )
        .await,
    );
    assert_eq!(future["count"], 0);
    let r = get(&srv, "package_search", &[("fq", "no_such_field:1")]).await;
    ckan_error(&r, 409, "Validation Error");
    let r = get(
        &srv,
        "package_search",
        &[("facet.field", r#"["maintainer"]"#)],
    )
    .await;
    ckan_error(&r, 409, "Validation Error");

    // Paging by rows and start walks every dataset once, in the order asked.
    let first = result(get(&srv, "package_search", &[]).await);
    assert_eq!(first["count"], total);
    assert_eq!(
        first["results"].as_array().unwrap().len(),
        10,
        "10 rows by default"
    );
    let mut walked = Vec::new();
    let mut start = 0;
    while start < total {
        let page = result(
            get(
                &srv,
                "package_search",
                &[
                    ("sort", "name asc"),
                    ("rows", "7"),
                    ("start", &start.to_string()),
                ],
            )
            .await,
        );
        assert_eq!(page["count"], total);
        let got = names(&page["results"]);
        assert_eq!(got.len(), 7.min(total - start));
        walked.extend(got);
        start += 7;
    }
    let mut sorted = walked.clone();
    sorted.sort();
    assert_eq!(walked, sorted, "sorted by name");
    assert_eq!(walked.iter().collect::<BTreeSet<_>>().len(), total);
    let past_the_end = result(get(&srv, "package_search", &[("start", &total.to_string())]).await);
    assert_eq!(past_the_end["results"], json!([]));
    let capped = result(get(&srv, "package_search", &[("rows", "5000")]).await);
    assert_eq!(capped["results"].as_array().unwrap().len(), total.min(1000));

    let by_modified = result(
        get(
            &srv,
            "package_search",
            &[("sort", "metadata_modified desc"), ("rows", "1000")],
        )
        .await,
    );
    let stamps: Vec<&str> = by_modified["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata_modified"].as_str().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "{stamps:?}");
    let by_title = result(
        get(
            &srv,
            "package_search",
            &[("sort", "title_string asc"), ("rows", "1000")],
        )
        .await,
    );
    let titles: Vec<&str> = by_title["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(titles.windows(2).all(|w| w[0] <= w[1]));
    let r = get(&srv, "package_search", &[("sort", "popularity desc")]).await;
    ckan_error(&r, 409, "Validation Error");
}
both_backends!(opn_2_ckan_package_search_finds_chinese_words_with_facets);

async fn opn_2_opn_3_ckan_datastore_search_reads_rows_through_the_gate(srv: Arc<TestServer>) {
    let catalog = seeded(&srv).await;
    let bus = name_of(&catalog, "公交线路信息");
    let ds = catalog.get(&bus.to_ascii_uppercase()).unwrap().clone();
    assert!(ds.rows > 12, "{}", ds.rows);
    let resource = format!("{bus}-csv");

    let page = result(
        get(
            &srv,
            "datastore_search",
            &[("resource_id", &resource), ("limit", "10")],
        )
        .await,
    );
    assert_eq!(page["total"], ds.rows);
    assert_eq!(page["total_was_estimated"], false);
    let records = page["records"].as_array().unwrap().clone();
    assert_eq!(records.len(), 10);
    assert_eq!(records[0]["_id"], 1);
    let fields: Vec<&str> = page["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(fields[0], "_id");
    assert!(fields.contains(&"operator"), "{fields:?}");
    assert!(page["_links"]["next"]
        .as_str()
        .unwrap()
        .contains("offset=10"));

    // offset walks the cursor: rows 4 and 5 are the same as in the first page.
    let later = result(
        post(
            &srv,
            "/api/action",
            "datastore_search",
            json!({"resource_id": resource, "limit": 2, "offset": 3}),
        )
        .await,
    );
    assert_eq!(later["records"], json!(records[3..5]));
    // fields keep the items asked for.
    let narrow = result(
        get(
            &srv,
            "datastore_search",
            &[
                ("resource_id", &resource),
                ("fields", "line_name,operator"),
                ("limit", "3"),
            ],
        )
        .await,
    );
    for r in narrow["records"].as_array().unwrap() {
        let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["_id", "line_name", "operator"]));
    }

    // filters: every row of one operator, counted like a full read would.
    let operator = records[0]["operator"].as_str().unwrap().to_string();
    let all = result(
        get(
            &srv,
            "datastore_search",
            &[("resource_id", &resource), ("limit", "1000")],
        )
        .await,
    );
    let expected = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operator"] == operator.as_str())
        .count();
    let filtered = result(
        get(
            &srv,
            "datastore_search",
            &[
                ("resource_id", &resource),
                ("filters", &json!({"operator": operator}).to_string()),
                ("limit", "1000"),
            ],
        )
        .await,
    );
    assert_eq!(filtered["total"], expected);
    assert_eq!(filtered["records"].as_array().unwrap().len(), expected);
    assert!(filtered["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["operator"] == operator.as_str()));
    let none = result(
        post(
            &srv,
            "/api/3/action",
            "datastore_search",
            json!({"resource_id": resource, "filters": {"operator": "没有这家公司"}}),
        )
        .await,
    );
    assert_eq!(none["total"], 0);
    assert_eq!(none["records"], json!([]));
    let r = get(
        &srv,
        "datastore_search",
        &[
            ("resource_id", &resource),
            ("filters", r#"{"no_such_item": "1"}"#),
        ],
    )
    .await;
    ckan_error(&r, 409, "Validation Error");

    // A conditional dataset's rows are refused by the gate, as CKAN refuses access.
    let conditional = catalog
        .datasets
        .iter()
        .find(|d| !d.is_direct() && d.has_data)
        .expect("a conditional dataset with rows");
    let r = get(
        &srv,
        "datastore_search",
        &[(
            "resource_id",
            &format!("{}-csv", conditional.code.to_ascii_lowercase()),
        )],
    )
    .await;
    let e = ckan_error(&r, 403, "Authorization Error");
    assert_eq!(e["code"], "open.application_required");
    // Only the csv resource is in the datastore; unknown resources are not found.
    for missing in [format!("{bus}-xlsx"), "no-such-csv".to_string()] {
        let r = get(&srv, "datastore_search", &[("resource_id", &missing)]).await;
        ckan_error(&r, 404, "Not Found Error");
    }
    // Each read went through the gate and was recorded.
    let served = srv
        .app
        .store
        .list_access(&gongshu_store::AccessFilter {
            resource_id: Some(ds.id.clone()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("access records");
    assert!(
        served.iter().filter(|r| r.outcome == "served").count() >= 5,
        "{served:?}"
    );
}
both_backends!(opn_2_opn_3_ckan_datastore_search_reads_rows_through_the_gate);

async fn opn_2_ckan_organizations_groups_and_tags_describe_the_catalog(srv: Arc<TestServer>) {
    let catalog = seeded(&srv).await;
    let publishers = catalog.publishers();
    let orgs = result(get(&srv, "organization_list", &[]).await);
    let listed: BTreeSet<&str> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        publishers
            .iter()
            .map(|p| p.id.as_str())
            .collect::<BTreeSet<_>>()
    );
    let full = result(get(&srv, "organization_list", &[("all_fields", "true")]).await);
    for o in full.as_array().unwrap() {
        let p = publishers.iter().find(|p| p.id == o["name"]).unwrap();
        assert_eq!(o["title"], p.name);
        assert_eq!(o["package_count"], p.datasets);
        assert_eq!(o["is_organization"], true);
    }

    let top = publishers.iter().max_by_key(|p| p.datasets).unwrap();
    let shown = result(
        post(
            &srv,
            "/api/action",
            "organization_show",
            json!({"id": top.id, "include_datasets": true}),
        )
        .await,
    );
    assert_eq!(shown["name"], top.id);
    assert_eq!(shown["title"], top.name);
    assert_eq!(shown["package_count"], top.datasets);
    let packages = shown["packages"].as_array().unwrap();
    assert_eq!(packages.len(), top.datasets);
    assert!(packages.iter().all(|p| p["owner_org"] == top.id.as_str()));
    let bare = result(get(&srv, "organization_show", &[("id", &top.id)]).await);
    assert!(bare.get("packages").is_none());
    let r = get(&srv, "organization_show", &[("id", "no-such-org")]).await;
    ckan_error(&r, 404, "Not Found Error");

    let groups = result(get(&srv, "group_list", &[("all_fields", "true")]).await);
    let groups = groups.as_array().unwrap();
    assert_eq!(groups.len(), 15, "the catalog's fifteen domains");
    let transport = groups.iter().find(|g| g["name"] == "transport").unwrap();
    assert_eq!(transport["title"], "交通运输");
    let in_transport = catalog
        .datasets
        .iter()
        .filter(|d| d.content.domain.key() == "transport")
        .count();
    assert_eq!(transport["package_count"], in_transport);
    let shown = result(
        get(
            &srv,
            "group_show",
            &[("id", "transport"), ("include_datasets", "True")],
        )
        .await,
    );
    assert_eq!(shown["packages"].as_array().unwrap().len(), in_transport);

    let tags = result(get(&srv, "tag_list", &[]).await);
    let tags: Vec<&str> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"交通运输"), "{tags:?}");
    let mut sorted = tags.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(tags, sorted);
    let tagged = result(
        get(
            &srv,
            "package_search",
            &[("fq", "tags:交通运输"), ("rows", "0")],
        )
        .await,
    );
    assert_eq!(tagged["count"], in_transport);

    let help = result(get(&srv, "help_show", &[("name", "package_search")]).await);
    assert!(help.as_str().unwrap().contains("fq"));
}
both_backends!(opn_2_ckan_organizations_groups_and_tags_describe_the_catalog);
