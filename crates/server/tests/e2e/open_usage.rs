//! OPN-11 (JY 29), SUP-8 (XJ 41), OPN-10: the use of open data — each dataset's page
//! views, API calls, downloads and rows served, counted in the same transaction as
//! the public's reads and kept after the access records are purged; summed per
//! department and for the platform — and the products built on open data, submitted
//! by anyone and shown once the authority publishes them.
use std::sync::Arc;

use chrono::{Duration, Utc};
use gongshu_store::{AccessFilter, AuditFilter};
use serde_json::{json, Value};

use crate::common::{send, Resp, TestServer};

/// The demo region with its open datasets, the demo's use of them and its products.
async fn seeded(srv: &TestServer) -> crate::common::Demo {
    let demo = srv.seed_demo().await;
    gongshu_services::demo_open::seed_open(&srv.app)
        .await
        .expect("open demo datasets");
    demo
}

/// Unconditionally open, with rows; the demo neither reads it nor builds on it.
const DATASET: &str = "云川市公共图书馆信息";
/// Open on conditions (OPN-4): refused to a reader without an application.
const CONDITIONAL: &str = "云川市医疗机构门诊量统计数据";

/// The code of the open dataset named `name`, from the public search.
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

/// A dataset's counters as the public API gives them: (total, last 30 days).
async fn usage(srv: &TestServer, code: &str) -> (Value, Value) {
    let u = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}/usage"))
        .await
        .expect_status(200);
    assert_eq!(u["daily"].as_array().map(Vec::len), Some(30), "{u}");
    (
        u["dataset"]["total"].clone(),
        u["dataset"]["last_30_days"].clone(),
    )
}

fn n(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// The difference of two counters, per key.
fn delta(after: &Value, before: &Value) -> [i64; 4] {
    ["views", "api_calls", "downloads", "rows_served"].map(|k| n(after, k) - n(before, k))
}

async fn get_page(srv: &TestServer, path: &str) -> Resp {
    send(srv.anon().request(reqwest::Method::GET, path)).await
}

/// GET of a file; its status and the rows the gate says it served.
async fn download(srv: &TestServer, path: &str) -> (u16, i64) {
    let r = srv
        .anon()
        .request(reqwest::Method::GET, path)
        .send()
        .await
        .expect("download");
    let status = r.status().as_u16();
    let rows = r
        .headers()
        .get("x-gongshu-rows")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    let _ = r.bytes().await.expect("body");
    (status, rows)
}

async fn opn_11_reads_and_downloads_move_the_counters_by_exactly_what_was_done(
    srv: Arc<TestServer>,
) {
    seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    let meta = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200);
    let rows = meta["dataset"]["rows"].as_i64().unwrap();
    assert!(rows > 10, "{meta}");
    let (before, before_30) = usage(&srv, &code).await;

    // Three pages through the API, two files and a zipped Data Package.
    let mut served = 0;
    for limit in [2, 3, 4] {
        let page = srv
            .anon()
            .get(&format!(
                "/api/v1/open/datasets/{code}/records?limit={limit}"
            ))
            .await
            .expect_status(200);
        served += page["rows"].as_array().unwrap().len() as i64;
    }
    assert_eq!(served, 9);
    for file in ["data.csv", "data.ndjson"] {
        let (status, got) = download(&srv, &format!("/open/datasets/{code}/{file}")).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(got, rows, "{file}");
        served += got;
    }
    let (status, _) = download(&srv, &format!("/open/datasets/{code}/package-csv.zip")).await;
    assert_eq!(status, 200);
    served += rows;

    // Refused reads are recorded but serve nothing, and count nothing.
    srv.anon()
        .get(&format!(
            "/api/v1/open/datasets/{code}/records?where=no_such_item:1"
        ))
        .await
        .expect_error(400, "open.unknown_item");
    let conditional = code_of(&srv, CONDITIONAL).await;
    let (c_before, _) = usage(&srv, &conditional).await;
    srv.anon()
        .get(&format!("/api/v1/open/datasets/{conditional}/records"))
        .await
        .expect_error(403, "open.application_required");
    let (status, _) = download(&srv, &format!("/open/datasets/{conditional}/data.csv")).await;
    assert_eq!(status, 403);
    let (c_after, _) = usage(&srv, &conditional).await;
    assert_eq!(delta(&c_after, &c_before), [0, 0, 0, 0], "{c_after}");

    let (after, after_30) = usage(&srv, &code).await;
    assert_eq!(delta(&after, &before), [0, 3, 3, served], "{after}");
    assert_eq!(
        delta(&after_30, &before_30),
        [0, 3, 3, served],
        "{after_30}"
    );

    // The counters agree with the access records the gate left.
    let entry_id = meta["dataset"]["id"].as_str().unwrap().to_string();
    let records = srv
        .app
        .store
        .list_access(&AccessFilter {
            resource_id: Some(entry_id),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let open_served: Vec<_> = records
        .iter()
        .filter(|r| r.mode == "open" && r.outcome == "served")
        .collect();
    assert_eq!(
        open_served.iter().map(|r| r.row_count).sum::<i64>(),
        n(&after, "rows_served")
    );
    assert_eq!(
        open_served
            .iter()
            .filter(|r| r.operation == "query")
            .count() as i64,
        n(&after, "api_calls")
    );
    assert!(records
        .iter()
        .any(|r| r.outcome == "denied" && r.row_count == 0));

    // Today's bar of the daily series holds what was done today.
    let report = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}/usage"))
        .await
        .expect_status(200);
    let today = &report["daily"][29];
    assert_eq!(today["day"], report["today"]);
    assert_eq!(today["counts"]["api_calls"], 3, "{report}");
    assert_eq!(today["counts"]["downloads"], 3, "{report}");
}
both_backends!(opn_11_reads_and_downloads_move_the_counters_by_exactly_what_was_done);

async fn opn_11_a_page_view_counts_once_and_its_preview_is_not_an_api_call(srv: Arc<TestServer>) {
    seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    let (before, _) = usage(&srv, &code).await;
    for _ in 0..2 {
        let page = get_page(&srv, &format!("/open/datasets/{code}")).await;
        assert_eq!(page.status, 200);
        for shown in ["使用情况", "usage-views", "基于本数据的应用", "<svg"] {
            assert!(page.text.contains(shown), "the page lacks {shown}");
        }
    }
    let (after, _) = usage(&srv, &code).await;
    // Two views; each page's preview of 10 rows is served but is no API call.
    assert_eq!(delta(&after, &before), [2, 0, 0, 20], "{after}");

    // Writing the views this node counted changes no figure.
    gongshu_services::open_usage::flush_views(&srv.app)
        .await
        .expect("flush views");
    let (flushed, _) = usage(&srv, &code).await;
    assert_eq!(flushed, after);
    assert_eq!(
        gongshu_services::open_usage::flush_views(&srv.app)
            .await
            .unwrap(),
        0
    );
    // The store holds them now: another node reads the same figure.
    let today = gongshu_services::catalog::today_in_china(Utc::now());
    let stored = srv
        .other_node()
        .await
        .open_usage_totals(&gongshu_store::OpenUsageFilter::default(), today)
        .await
        .unwrap();
    let entry = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200);
    let id = entry["dataset"]["id"].as_str().unwrap();
    let row = stored
        .iter()
        .find(|t| t.resource_id == id)
        .expect("a counter row");
    assert_eq!(row.total.views, n(&after, "views"));

    // The home page ranks the most used datasets.
    let home = get_page(&srv, "/open").await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("最常使用"), "{}", home.text);
    assert!(home.text.contains("云川市公交站点信息"));
}
both_backends!(opn_11_a_page_view_counts_once_and_its_preview_is_not_an_api_call);

fn sum(datasets: &[Value], part: &str) -> [i64; 4] {
    let mut out = [0; 4];
    for d in datasets {
        for (i, k) in ["views", "api_calls", "downloads", "rows_served"]
            .iter()
            .enumerate()
        {
            out[i] += n(&d[part], k);
        }
    }
    out
}

fn counts(v: &Value) -> [i64; 4] {
    ["views", "api_calls", "downloads", "rows_served"].map(|k| n(v, k))
}

async fn opn_11_departments_sum_their_datasets_and_the_platform_sums_the_departments(
    srv: Arc<TestServer>,
) {
    let demo = seeded(&srv).await;
    // Some use of a dataset of 卫健委 besides the demo's.
    let code = code_of(&srv, "云川市预防接种门诊信息").await;
    get_page(&srv, &format!("/open/datasets/{code}")).await;
    srv.anon()
        .get(&format!("/api/v1/open/datasets/{code}/records?limit=7"))
        .await
        .expect_status(200);

    let platform = srv
        .anon()
        .get("/api/v1/open/usage?limit=1000")
        .await
        .expect_status(200);
    assert_eq!(platform["scope"], "platform");
    let datasets = platform["datasets"].as_array().unwrap();
    let departments = platform["departments"].as_array().unwrap();
    assert_eq!(
        datasets.len() as u64,
        platform["dataset_count"].as_u64().unwrap()
    );
    assert!(datasets.len() >= 55, "every open dataset is listed");
    assert!(counts(&platform["total"])[1] > 0, "the demo read some data");
    // The platform is the sum of its departments, each the sum of its datasets.
    assert_eq!(sum(departments, "total"), counts(&platform["total"]));
    assert_eq!(
        sum(departments, "last_30_days"),
        counts(&platform["last_30_days"])
    );
    for dep in departments {
        let own: Vec<Value> = datasets
            .iter()
            .filter(|d| d["source_org_id"] == dep["org_id"])
            .cloned()
            .collect();
        assert_eq!(sum(&own, "total"), counts(&dep["total"]), "{dep}");
        assert_eq!(
            own.iter().filter(|d| d["open"] == true).count() as u64,
            dep["open_datasets"].as_u64().unwrap()
        );
    }
    // Most used first.
    let uses = |d: &Value| {
        let c = counts(&d["total"]);
        c[0] + c[1] + c[2]
    };
    assert!(datasets.windows(2).all(|w| uses(&w[0]) >= uses(&w[1])));
    assert_eq!(
        platform["daily"].as_array().map(Vec::len),
        Some(30),
        "{platform}"
    );

    // One department's figures, all its datasets.
    let health = srv.login_demo(&demo, "health.admin").await;
    let one = srv
        .anon()
        .get(&format!(
            "/api/v1/open/usage?source_org_id={}",
            health.org_id
        ))
        .await
        .expect_status(200);
    assert_eq!(one["scope"], "department");
    let own = one["datasets"].as_array().unwrap();
    assert!(own.iter().any(|d| d["code"] == code.as_str()));
    assert!(own
        .iter()
        .all(|d| d["source_org_id"] == health.org_id.as_str()));
    assert_eq!(sum(own, "total"), counts(&one["department"]["total"]));
    assert_eq!(counts(&one["total"]), counts(&one["department"]["total"]));
    let listed = departments
        .iter()
        .find(|d| d["org_id"] == health.org_id.as_str())
        .unwrap();
    assert_eq!(counts(&listed["total"]), counts(&one["total"]));
    srv.anon()
        .get("/api/v1/open/usage?source_org_id=no-such-org")
        .await
        .expect_error(404, "not_found");

    // The console: the authority sees every department and exports them ...
    let authority = srv.login_demo(&demo, "authority").await;
    let page = send(authority.request(reqwest::Method::GET, "/open-usage")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("各部门排名"), "{}", page.text);
    assert!(page.text.contains("云川市卫生健康委员会"));
    let csv =
        send(authority.request(reqwest::Method::GET, "/api/v1/open-usage/departments.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), departments.len() + 2, "{}", csv.text);
    assert!(lines.iter().any(|l| l.contains("云川市卫生健康委员会")));
    // ... a source department sees its own, not another's ...
    let own_page = send(health.request(reqwest::Method::GET, "/open-usage")).await;
    assert_eq!(own_page.status, 200);
    assert!(own_page.text.contains("云川市预防接种门诊信息"));
    assert!(!own_page.text.contains("云川市公交线路信息"));
    assert!(!own_page.text.contains("各部门排名"));
    let psb = srv.org_id("云川市公安局").await;
    let other = send(health.request(reqwest::Method::GET, &format!("/open-usage?org={psb}"))).await;
    assert_eq!(other.status, 403);
    let csv = health.get("/api/v1/open-usage/departments.csv").await;
    csv.expect_error(403, "auth.denied");
    // ... and a member of neither sees nothing.
    let member = srv.login_demo(&demo, "developer").await;
    let denied = send(member.request(reqwest::Method::GET, "/open-usage")).await;
    assert_eq!(denied.status, 403);
}
both_backends!(opn_11_departments_sum_their_datasets_and_the_platform_sums_the_departments);

async fn opn_11_the_counters_survive_purging_the_access_records(srv: Arc<TestServer>) {
    seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    srv.anon()
        .get(&format!("/api/v1/open/datasets/{code}/records?limit=5"))
        .await
        .expect_status(200);
    let (status, _) = download(&srv, &format!("/open/datasets/{code}/data.csv")).await;
    assert_eq!(status, 200);
    let (dataset_before, _) = usage(&srv, &code).await;
    let platform_before = srv
        .anon()
        .get("/api/v1/open/usage")
        .await
        .expect_status(200);
    assert!(n(&dataset_before, "api_calls") >= 1);

    // GOV-5: every access record goes once past its retention period.
    let purged = srv
        .app
        .store
        .purge_access(Utc::now() + Duration::minutes(1))
        .await
        .unwrap();
    assert!(purged > 0);
    let left = srv
        .app
        .store
        .list_access(&AccessFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(left.is_empty());

    let (dataset_after, _) = usage(&srv, &code).await;
    assert_eq!(dataset_after, dataset_before);
    let platform_after = srv
        .anon()
        .get("/api/v1/open/usage")
        .await
        .expect_status(200);
    assert_eq!(platform_after["total"], platform_before["total"]);
    assert_eq!(
        platform_after["departments"],
        platform_before["departments"]
    );
}
both_backends!(opn_11_the_counters_survive_purging_the_access_records);

/// A valid submission using `codes`.
fn product(name: &str, codes: &[&str]) -> Value {
    json!({
        "name": name,
        "description": "在地图上查看图书馆和城市书房的开放时间。",
        "url": "https://library-map.example.cn/",
        "kind": "website",
        "datasets": codes,
        "submitter": "测试开发者",
        "contact": "tester@example.com",
        "cites_sources": true,
    })
}

async fn sup_8_a_submission_names_open_datasets_and_cites_them(srv: Arc<TestServer>) {
    seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    let path = "/api/v1/open/apps";
    srv.anon()
        .post(path, product("图书馆地图", &[&code, "999-999999"]))
        .await
        .expect_error(400, "showcase.unknown_dataset");
    srv.anon()
        .post(path, product("图书馆地图", &[]))
        .await
        .expect_error(400, "showcase.datasets_required");
    let mut uncited = product("图书馆地图", &[&code]);
    uncited["cites_sources"] = json!(false);
    srv.anon()
        .post(path, uncited)
        .await
        .expect_error(400, "showcase.citation_required");
    for bad in ["javascript:alert(1)", "library-map.example.cn", ""] {
        let mut p = product("图书馆地图", &[&code]);
        p["url"] = json!(bad);
        srv.anon()
            .post(path, p)
            .await
            .expect_error(400, "showcase.bad_url");
    }
    let mut kind = product("图书馆地图", &[&code]);
    kind["kind"] = json!("game");
    srv.anon()
        .post(path, kind)
        .await
        .expect_error(400, "showcase.unknown_kind");
    // Several problems at once are all named.
    let all_wrong = srv
        .anon()
        .post(
            path,
            json!({"name": "", "description": "", "url": "x", "kind": "x", "datasets": [],
                   "submitter": "", "contact": "", "cites_sources": false}),
        )
        .await;
    all_wrong.expect_error(400, "input.invalid");
    assert!(
        all_wrong.body["errors"].as_array().unwrap().len() >= 7,
        "{}",
        all_wrong.text
    );
    // Nothing refused was kept.
    assert!(srv
        .app
        .store
        .list_showcases(&gongshu_store::ShowcaseFilter {
            status: Some("pending".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .all(|s| s.name != "图书馆地图"));

    // A dataset open on conditions is in the open catalog too.
    let conditional = code_of(&srv, CONDITIONAL).await;
    let ok = srv
        .anon()
        .post(path, product("图书馆地图", &[&code, &conditional, &code]))
        .await
        .expect_status(201);
    assert_eq!(ok["status"], "pending");
    assert_eq!(ok["datasets"].as_array().unwrap().len(), 2, "{ok}");
    assert!(ok.get("contact").is_none());

    // The portal's form keeps what was typed when it is refused.
    let body = format!(
        "name={}&kind=app&url={}&description=x&datasets=999-999999&submitter=a&contact=b&cites_sources=1",
        "%E5%9B%BE%E4%B9%A6%E9%A6%86APP", "https%3A%2F%2Fa.example.cn%2F"
    );
    let refused = send(
        srv.anon()
            .request(reqwest::Method::POST, "/open/apps")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(refused.text.contains("999-999999"), "{}", refused.text);
    assert!(refused.text.contains("图书馆APP"));
    assert!(refused.text.contains("a.example.cn"));
}
both_backends!(sup_8_a_submission_names_open_datasets_and_cites_them);

async fn sup_8_submissions_are_limited_per_submitter_per_minute_and_a_refused_one_is_not_kept(
    srv: Arc<TestServer>,
) {
    use gongshu_services::open_showcase::{submit_at, NewShowcase, SUBMISSIONS_PER_MINUTE};
    seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    let pending = || async {
        srv.app
            .store
            .list_showcases(&gongshu_store::ShowcaseFilter {
                status: Some("pending".into()),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .len()
    };
    let before = pending().await;
    let product = |name: &str| {
        serde_json::from_value::<NewShowcase>(product(name, &[&code])).expect("a product")
    };
    let ctx = gongshu_services::Ctx::cli();
    // All within one minute: the limit is counted per minute.
    let now = Utc::now();
    let minute = now - Duration::seconds(now.timestamp() % 60);
    for i in 0..SUBMISSIONS_PER_MINUTE {
        submit_at(
            &srv.app,
            &ctx,
            "addr:192.0.2.1",
            product(&format!("应用{i}")),
            minute,
        )
        .await
        .unwrap_or_else(|e| panic!("submission {i} within the limit: {e:?}"));
    }
    let refused = submit_at(
        &srv.app,
        &ctx,
        "addr:192.0.2.1",
        product("多余的应用"),
        minute,
    )
    .await
    .expect_err("one submission more than the minute allows");
    assert_eq!(refused.code, "showcase.rate_exceeded");
    assert_eq!(pending().await, before + SUBMISSIONS_PER_MINUTE as usize);

    // Another submitter in the same minute, and the same one in the next minute,
    // are served.
    submit_at(
        &srv.app,
        &ctx,
        "addr:192.0.2.2",
        product("另一位开发者的应用"),
        minute,
    )
    .await
    .expect("another submitter");
    submit_at(
        &srv.app,
        &ctx,
        "addr:192.0.2.1",
        product("下一分钟的应用"),
        minute + Duration::seconds(60),
    )
    .await
    .expect("the next minute");
    assert_eq!(
        pending().await,
        before + SUBMISSIONS_PER_MINUTE as usize + 2
    );
}
both_backends!(
    sup_8_submissions_are_limited_per_submitter_per_minute_and_a_refused_one_is_not_kept
);

async fn sup_8_the_authority_publishes_and_only_published_products_are_shown(srv: Arc<TestServer>) {
    let demo = seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    let page_path = format!("/open/datasets/{code}");

    // The demo's published products are shown; its pending and rejected ones are not.
    let apps = get_page(&srv, "/open/apps").await;
    assert_eq!(apps.status, 200);
    assert!(apps.text.contains("云川公交到站"));
    assert!(apps.text.contains("XJ 32"), "the citation rule is reminded");
    assert!(!apps.text.contains("云川市养老服务可及性研究"));
    assert!(!apps.text.contains("云川优选商家推荐"));
    assert!(
        !apps.text.contains("demo0@example.com"),
        "no contact is shown"
    );
    let bus = code_of(&srv, "云川市公交线路信息").await;
    let bus_page = get_page(&srv, &format!("/open/datasets/{bus}")).await;
    assert!(bus_page.text.contains("云川公交到站"));

    // Anyone submits, through the API or the portal's form.
    let submitted = srv
        .anon()
        .post("/api/v1/open/apps", product("图书馆地图", &[&code]))
        .await
        .expect_status(201);
    let id = submitted["id"].as_str().unwrap().to_string();
    let form = format!(
        "name={}&kind=research&url={}&description={}&datasets={code}&submitter={}&contact=c%40example.com&cites_sources=1",
        "%E9%98%85%E8%AF%BB%E7%A9%BA%E9%97%B4%E7%A0%94%E7%A9%B6",
        "https%3A%2F%2Fstudy.example.edu.cn%2F",
        "%E7%A0%94%E7%A9%B6",
        "%E7%A0%94%E7%A9%B6%E7%BB%84",
    );
    let via_form = send(
        srv.anon()
            .request(reqwest::Method::POST, "/open/apps")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form),
    )
    .await;
    assert_eq!(via_form.status, 200, "{}", via_form.text);
    assert!(via_form.text.contains("待主管部门审核"));

    // Pending: shown nowhere.
    for path in ["/open/apps", page_path.as_str()] {
        let p = get_page(&srv, path).await;
        assert!(!p.text.contains("图书馆地图"), "{path}");
        assert!(!p.text.contains("阅读空间研究"), "{path}");
    }
    let public = srv
        .anon()
        .get(&format!("/api/v1/open/apps?dataset={code}"))
        .await
        .expect_status(200);
    assert_eq!(public.as_array().unwrap().len(), 0, "{public}");

    // Only the authority decides.
    let decision = format!("/api/v1/open-apps/{id}/decision");
    srv.anon()
        .post(&decision, json!({"action": "publish"}))
        .await
        .expect_error(401, "auth.required");
    let health = srv.login_demo(&demo, "health.admin").await;
    health
        .post(&decision, json!({"action": "publish"}))
        .await
        .expect_error(403, "auth.denied");
    health
        .get("/api/v1/open-apps")
        .await
        .expect_error(403, "auth.denied");
    let authority = srv.login_demo(&demo, "authority").await;
    let queue = authority
        .get("/api/v1/open-apps?status=pending")
        .await
        .expect_status(200);
    let mine = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .expect("the submission waits for review");
    assert_eq!(mine["contact"], "tester@example.com");
    let published = authority
        .post(&decision, json!({"action": "publish"}))
        .await
        .expect_status(200);
    assert_eq!(published["status"], "published");
    authority
        .post(&decision, json!({"action": "reject", "reason": "重复"}))
        .await
        .expect_error(409, "showcase.decided");

    // Published: on the portal's page and on the dataset's page; the other is not.
    let apps = get_page(&srv, "/open/apps").await;
    assert!(apps.text.contains("图书馆地图"));
    assert!(!apps.text.contains("阅读空间研究"));
    assert!(!apps.text.contains("tester@example.com"));
    let page = get_page(&srv, &page_path).await;
    assert!(page.text.contains("基于本数据的应用"));
    assert!(page.text.contains("图书馆地图"), "{}", page.text);
    assert!(!page.text.contains("阅读空间研究"));
    let public = srv
        .anon()
        .get(&format!("/api/v1/open/apps?dataset={code}"))
        .await
        .expect_status(200);
    let listed = public.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{public}");
    assert_eq!(listed[0]["name"], "图书馆地图");
    assert_eq!(listed[0]["datasets"][0]["code"], code.as_str());
    assert!(listed[0].get("contact").is_none());

    // A rejection gives its reason; the console shows the queue.
    let other = authority
        .get("/api/v1/open-apps?status=pending")
        .await
        .expect_status(200);
    let other_id = other
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "阅读空间研究")
        .expect("the form's submission")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_decision = format!("/api/v1/open-apps/{other_id}/decision");
    authority
        .post(&other_decision, json!({"action": "reject"}))
        .await
        .expect_error(400, "showcase.reason_required");
    let console = send(authority.request(reqwest::Method::GET, "/open-apps")).await;
    assert_eq!(console.status, 200);
    assert!(console.text.contains("阅读空间研究"));
    assert!(console.text.contains("c@example.com"));
    let rejected = authority
        .post(
            &other_decision,
            json!({"action": "reject", "reason": "地址无法访问"}),
        )
        .await
        .expect_status(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "地址无法访问");

    // Withdrawn: gone again.
    authority
        .post(
            &decision,
            json!({"action": "withdraw", "reason": "链接已失效"}),
        )
        .await
        .expect_status(200);
    assert!(!get_page(&srv, &page_path).await.text.contains("图书馆地图"));

    // Every step is in the audit trail; the contact is not.
    for action in [
        "open.showcase_submit",
        "open.showcase_publish",
        "open.showcase_withdraw",
    ] {
        let found = srv
            .app
            .store
            .list_audit(&AuditFilter {
                action: Some(action.into()),
                object_id: Some(id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{action}");
        assert!(!found[0]
            .draft
            .after
            .clone()
            .unwrap_or_default()
            .contains("tester@example.com"));
    }
}
both_backends!(sup_8_the_authority_publishes_and_only_published_products_are_shown);
