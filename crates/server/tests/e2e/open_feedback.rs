//! OPN-9 (XJ 30): the public reports a problem with an open dataset without an
//! account, the source department answers within five working days, and the
//! reporter reads the answer with a ticket; a suspected leak takes the dataset off
//! the portal, the API, downloads and CKAN at once, until the source acts.
use std::sync::Arc;

use chrono::Utc;
use gongshu_services::catalog::today_in_china;
use gongshu_store::AuditFilter;
use serde_json::{json, Value};

use crate::common::{send, Resp, TestServer};

/// The demo region with its open datasets (and the demo's own reports).
async fn seeded(srv: &TestServer) -> crate::common::Demo {
    let demo = srv.seed_demo().await;
    gongshu_services::demo_open::seed_open(&srv.app)
        .await
        .expect("open demo datasets");
    demo
}

/// The dataset the tests report on: unconditionally open, with rows, owned by
/// 卫健委 (whose demo administrator answers); the demo files no report on it.
const DATASET: &str = "云川市预防接种门诊信息";

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

async fn audit_of(
    srv: &TestServer,
    action: &str,
    object_id: &str,
) -> Vec<gongshu_domain::audit::AuditRecord> {
    srv.app
        .store
        .list_audit(&AuditFilter {
            action: Some(action.into()),
            object_id: Some(object_id.into()),
            ..Default::default()
        })
        .await
        .expect("audit")
}

/// Percent-encodes a form value.
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

async fn get_page(srv: &TestServer, path: &str) -> Resp {
    send(srv.anon().request(reqwest::Method::GET, path)).await
}

/// Whether the public can still find, read and download the dataset.
async fn visible(srv: &TestServer, code: &str) -> bool {
    let meta = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await;
    let page = get_page(srv, &format!("/open/datasets/{code}")).await;
    let csv = get_page(srv, &format!("/open/datasets/{code}/data.csv")).await;
    let found = srv
        .anon()
        .get(&format!(
            "/api/v1/open/datasets?q={}&limit=100",
            enc(DATASET)
        ))
        .await
        .expect_status(200);
    let listed = found["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == code);
    let ckan = srv
        .anon()
        .get(&format!(
            "/api/3/action/package_show?id={}",
            code.to_ascii_lowercase()
        ))
        .await;
    let all = [meta.status, page.status, csv.status, ckan.status];
    if all.iter().all(|s| *s == 200) && listed {
        return true;
    }
    assert!(
        all.iter().all(|s| *s == 404) && !listed,
        "the dataset is partly visible: {all:?}, listed {listed}"
    );
    meta.expect_error(404, "not_found");
    false
}

async fn opn_9_a_report_is_answered_by_its_source_and_read_with_the_ticket(srv: Arc<TestServer>) {
    let demo = seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    let health = srv.org_id("云川市卫生健康委员会").await;

    // Bad reports are refused with the reason, and nothing is filed.
    let path = format!("/api/v1/open/datasets/{code}/feedback");
    srv.anon()
        .post(&path, json!({"kind": "complaint", "description": "x"}))
        .await
        .expect_error(400, "open_feedback.unknown_kind");
    srv.anon()
        .post(&path, json!({"kind": "error", "description": "  "}))
        .await
        .expect_error(400, "open_feedback.description_required");
    srv.anon()
        .post(
            "/api/v1/open/datasets/no-such-code/feedback",
            json!({"kind": "error", "description": "电话打不通"}),
        )
        .await
        .expect_error(404, "not_found");

    // Anyone reports, without an account.
    let before = today_in_china(Utc::now());
    let filed = srv
        .anon()
        .post(
            &path,
            json!({
                "kind": "error",
                "description": "东湖区门诊的咨询电话已停用",
                "reporter": "李先生",
                "contact": "13900000003",
            }),
        )
        .await
        .expect_status(201);
    let id = filed["feedback"]["id"].as_str().unwrap().to_string();
    let ticket = filed["ticket"].as_str().unwrap().to_string();
    assert!(ticket.len() >= 32, "{filed}");
    assert!(filed["link"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/open/feedback/{id}?ticket={ticket}")));
    assert_eq!(filed["feedback"]["status"], "received");
    assert_eq!(filed["feedback"]["withheld"], false);
    assert!(filed["feedback"].get("ticket_hash").is_none(), "{filed}");
    // XJ 30: the answer is due five working days after receipt.
    let due: chrono::NaiveDate = serde_json::from_value(filed["feedback"]["due"].clone()).unwrap();
    let today = today_in_china(Utc::now());
    let expected = [before, today].map(|d| srv.app.calendar.add_workdays(d, 5).unwrap());
    assert!(expected.contains(&due), "due {due}, expected {expected:?}");
    assert_eq!(
        srv.app.calendar.workdays_between(today, due).unwrap(),
        5,
        "{today} → {due}"
    );
    // The ticket is kept only as its hash.
    let stored = srv.app.store.get_open_feedback(&id).await.unwrap().unwrap();
    assert_ne!(stored.ticket_hash, ticket);
    assert!(!stored.ticket_hash.is_empty());
    let submitted = audit_of(&srv, "open.feedback_submit", &id).await;
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].draft.org_id.as_deref(), Some(health.as_str()));
    assert!(!submitted[0]
        .draft
        .after
        .clone()
        .unwrap_or_default()
        .contains("13900000003"));

    // The reporter reads the status with the ticket; a wrong or missing ticket finds nothing.
    let read = srv
        .anon()
        .get(&format!("/api/v1/open/feedback/{id}?ticket={ticket}"))
        .await
        .expect_status(200);
    assert_eq!(read["status"], "received");
    assert_eq!(read["description"], "东湖区门诊的咨询电话已停用");
    for wrong in [
        format!("/api/v1/open/feedback/{id}?ticket=wrong"),
        format!("/api/v1/open/feedback/{id}"),
        format!("/api/v1/open/feedback/{id}?ticket={}", &ticket[1..]),
    ] {
        srv.anon().get(&wrong).await.expect_error(404, "not_found");
    }
    assert_eq!(
        get_page(&srv, &format!("/open/feedback/{id}?ticket=wrong"))
            .await
            .status,
        404
    );

    // Another department neither sees nor answers it.
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let theirs = civil.get("/api/v1/open-feedback").await.expect_status(200);
    assert!(theirs
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["id"] != id.as_str()));
    civil
        .post(
            &format!("/api/v1/open-feedback/{id}/answer"),
            json!({"action": "keep", "answer": "与我无关"}),
        )
        .await
        .expect_error(403, "auth.denied");
    srv.anon()
        .get("/api/v1/open-feedback")
        .await
        .expect_error(401, "auth.required");

    // Past its due day an unanswered report is marked overdue, against the source.
    let later = Utc::now() + chrono::Duration::days(30);
    gongshu_services::open_feedback::flag_overdue(&srv.app, later)
        .await
        .expect("overdue marked");
    let overdue = audit_of(&srv, "open.feedback_overdue", &id).await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].draft.org_id.as_deref(), Some(health.as_str()));

    // The source lists it with its due day and answers; the answer needs words.
    let source = srv.login_demo(&demo, "health.admin").await;
    let mine = source.get("/api/v1/open-feedback").await.expect_status(200);
    let listed = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id.as_str())
        .expect("the source lists the report")
        .clone();
    assert_eq!(listed["contact"], "13900000003");
    assert_eq!(listed["due"], due.to_string());
    assert!(listed["overdue_since"].is_string(), "{listed}");
    assert!(listed.get("ticket_hash").is_none());
    let answer = format!("/api/v1/open-feedback/{id}/answer");
    source
        .post(&answer, json!({"action": "keep", "answer": "  "}))
        .await
        .expect_error(400, "open_feedback.answer_required");
    source
        .post(&answer, json!({"action": "ignore", "answer": "已核实"}))
        .await
        .expect_error(400, "open_feedback.unknown_action");
    source
        .without_csrf
        .post(&answer, json!({"action": "keep", "answer": "已核实"}))
        .await
        .expect_error(403, "auth.csrf");
    let answered = source
        .post(
            &answer,
            json!({"action": "fix_and_republish", "answer": "经核实电话已变更，已更正并重新开放。"}),
        )
        .await
        .expect_status(200);
    assert_eq!(answered["status"], "answered");
    assert_eq!(answered["action"], "fix_and_republish");
    assert_eq!(answered["answerable"], false);
    source
        .post(&answer, json!({"action": "keep", "answer": "再答一次"}))
        .await
        .expect_error(409, "open_feedback.answered");
    let answered_audit = audit_of(&srv, "open.feedback_answer", &id).await;
    assert_eq!(answered_audit.len(), 1);
    assert_eq!(
        answered_audit[0].draft.org_id.as_deref(),
        Some(health.as_str())
    );
    assert_eq!(
        answered_audit[0].draft.actor,
        format!("user:{}", source.user_id)
    );

    // The reporter reads the answer, in the API and on the portal.
    let read = srv
        .anon()
        .get(&format!("/api/v1/open/feedback/{id}?ticket={ticket}"))
        .await
        .expect_status(200);
    assert_eq!(read["status"], "answered");
    assert_eq!(read["action"], "fix_and_republish");
    assert_eq!(read["answer"], "经核实电话已变更，已更正并重新开放。");
    let page = get_page(&srv, &format!("/open/feedback/{id}?ticket={ticket}")).await;
    assert_eq!(page.status, 200);
    for shown in [
        "经核实电话已变更",
        "依法处理后开放",
        "已答复",
        &due.to_string(),
    ] {
        assert!(page.text.contains(shown), "the page lacks {shown}");
    }

    // The authority sees every department's reports, the demo's among them.
    let authority = srv.login_demo(&demo, "authority").await;
    let all = authority
        .get("/api/v1/open-feedback")
        .await
        .expect_status(200);
    let all = all.as_array().unwrap();
    assert!(all.iter().any(|f| f["id"] == id.as_str()));
    let demo_kinds: Vec<&Value> = all.iter().filter(|f| f["id"] != id.as_str()).collect();
    for action in ["withdraw", "suspend", "fix_and_republish", "keep"] {
        assert!(
            demo_kinds.iter().any(|f| f["action"] == action),
            "the demo answers with {action}"
        );
    }
    assert!(demo_kinds
        .iter()
        .any(|f| f["kind"] == "suspected_leak" && f["withheld"] == true));
    authority
        .get("/api/v1/open-feedback?status=lost")
        .await
        .expect_error(400, "open_feedback.unknown_status");

    // The console page lists the source's reports with their due days.
    let console = source.get("/open-feedback").await;
    assert_eq!(console.status, 200);
    assert!(console.text.contains(DATASET), "{}", console.text);
    assert!(console.text.contains("东湖区门诊的咨询电话已停用"));
    let home = source.get("/").await;
    assert!(
        home.text.contains("/open-feedback"),
        "the console links the page"
    );
}
both_backends!(opn_9_a_report_is_answered_by_its_source_and_read_with_the_ticket);

async fn opn_9_a_suspected_leak_withholds_the_dataset_at_once_until_the_source_acts(
    srv: Arc<TestServer>,
) {
    let demo = seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    let entry = srv
        .app
        .store
        .get_catalog_entry_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert!(visible(&srv, &code).await);
    // The demo's own suspected leak keeps 云川市社会组织名录 off the portal.
    let found = srv
        .anon()
        .get(&format!("/api/v1/open/datasets?q={}", enc("社会组织名录")))
        .await
        .expect_status(200);
    assert!(
        found["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["content"]["name"] != "云川市社会组织名录"),
        "{found}"
    );

    // The dataset page carries the report form.
    let page = get_page(&srv, &format!("/open/datasets/{code}")).await;
    assert!(page.text.contains("报告问题"));
    assert!(page
        .text
        .contains(&format!("/open/datasets/{code}/feedback")));

    // A page on another site cannot post a report on its visitor's behalf.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let body = form(&[
        ("kind", "suspected_leak"),
        (
            "description",
            "“地址”一栏含有个人住宅门牌号，疑似泄露个人住址",
        ),
        ("reporter", ""),
        ("contact", ""),
    ]);
    let post = |site: Option<&'static str>| {
        let mut rb = no_redirects
            .post(srv.url(&format!("/open/datasets/{code}/feedback")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone());
        if let Some(site) = site {
            rb = rb.header("sec-fetch-site", site);
        }
        send(rb)
    };
    let empty = send(
        no_redirects
            .post(srv.url(&format!("/open/datasets/{code}/feedback")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("kind", "error"), ("description", " ")])),
    )
    .await;
    assert_eq!(empty.status, 400);
    assert!(empty.text.contains("请说明问题所在"), "{}", empty.text);
    let refused = post(Some("cross-site")).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(visible(&srv, &code).await);

    // Reported from the portal: the reporter is sent to the report's page with the ticket.
    let filed = post(Some("same-origin")).await;
    assert_eq!(filed.status, 303, "{}", filed.text);
    let location = filed.headers["location"].to_str().unwrap().to_string();
    let (id, ticket) = location
        .strip_prefix("/open/feedback/")
        .and_then(|rest| rest.split_once("?ticket="))
        .map(|(id, rest)| (id.to_string(), rest.trim_end_matches("&new=1").to_string()))
        .unwrap_or_else(|| panic!("unexpected location {location}"));
    let shown = get_page(&srv, &location).await;
    assert_eq!(shown.status, 200);
    assert!(shown.text.contains(&ticket), "the ticket is shown once");
    assert!(shown.text.contains("疑似数据泄露"));
    assert!(shown.text.contains("暂停开放"));

    // XJ 30: at once, the dataset is gone from the API, its page, its downloads,
    // the search and CKAN.
    assert!(!visible(&srv, &code).await);
    let withheld = audit_of(&srv, "open.dataset_withheld", &entry.id).await;
    assert_eq!(withheld.len(), 1, "{withheld:?}");
    assert!(withheld[0].draft.after.clone().unwrap().contains(&id));
    // The search's total and pages agree with what is shown.
    let all = srv
        .anon()
        .get("/api/v1/open/datasets?limit=100")
        .await
        .expect_status(200);
    assert_eq!(
        all["total"].as_u64().unwrap() as usize,
        all["datasets"].as_array().unwrap().len()
    );
    let read = srv
        .anon()
        .get(&format!("/api/v1/open/feedback/{id}?ticket={ticket}"))
        .await
        .expect_status(200);
    assert_eq!(read["kind"], "suspected_leak");
    assert_eq!(read["withheld"], true);

    // Suspending keeps it withheld; fixing and republishing brings it back.
    let source = srv.login_demo(&demo, "health.admin").await;
    let answer = format!("/api/v1/open-feedback/{id}/answer");
    // In the console: the answer form, CSRF-checked like every console form.
    let answer_form = |csrf: String| {
        send(
            source
                .without_csrf
                .request(
                    reqwest::Method::POST,
                    &format!("/open-feedback/{id}/answer"),
                )
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[
                    ("csrf", &csrf),
                    ("action", "suspend"),
                    ("answer", "已中止开放，正在核查。"),
                ])),
        )
    };
    assert_eq!(answer_form("wrong".into()).await.status, 403);
    let suspended = answer_form(source.csrf.clone()).await;
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    assert!(suspended.text.contains("id=\"done\""), "{}", suspended.text);
    let suspended = srv.app.store.get_open_feedback(&id).await.unwrap().unwrap();
    assert_eq!(suspended.action.as_deref(), Some("suspend"));
    assert!(suspended.withheld);
    assert!(!visible(&srv, &code).await);
    let fixed = source
        .post(
            &answer,
            json!({"action": "fix_and_republish", "answer": "已删除门牌号，重新开放。"}),
        )
        .await
        .expect_status(200);
    assert_eq!(fixed["withheld"], false);
    assert!(visible(&srv, &code).await);
    let released = audit_of(&srv, "open.dataset_released", &entry.id).await;
    assert_eq!(released.len(), 1);
    let read = srv
        .anon()
        .get(&format!("/api/v1/open/feedback/{id}?ticket={ticket}"))
        .await
        .expect_status(200);
    assert_eq!(read["withheld"], false);
    assert_eq!(read["answer"], "已删除门牌号，重新开放。");
}
both_backends!(opn_9_a_suspected_leak_withholds_the_dataset_at_once_until_the_source_acts);

async fn opn_9_reports_are_limited_per_reporter_per_minute_and_a_refused_one_is_not_filed(
    srv: Arc<TestServer>,
) {
    use gongshu_services::open_feedback::{submit_at, NewFeedback, REPORTS_PER_MINUTE};
    seeded(&srv).await;
    let code = code_of(&srv, DATASET).await;
    let resource_id = srv
        .anon()
        .get(&format!("/api/v1/open/datasets/{code}"))
        .await
        .expect_status(200)["dataset"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let filed = || async {
        srv.app
            .store
            .list_open_feedback(&gongshu_store::OpenFeedbackFilter {
                resource_id: Some(resource_id.clone()),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .len()
    };
    let before = filed().await;
    let report = || NewFeedback {
        kind: "error".into(),
        description: "门诊时间有误".into(),
        reporter: String::new(),
        contact: String::new(),
    };
    let ctx = gongshu_services::Ctx::cli();
    // All within one minute: the limit is counted per minute.
    let now = Utc::now();
    let minute = now - chrono::Duration::seconds(now.timestamp() % 60);
    for i in 0..REPORTS_PER_MINUTE {
        submit_at(&srv.app, &ctx, "addr:192.0.2.1", &code, report(), minute)
            .await
            .unwrap_or_else(|e| panic!("report {i} within the limit: {e:?}"));
    }
    let refused = submit_at(&srv.app, &ctx, "addr:192.0.2.1", &code, report(), minute)
        .await
        .expect_err("one report more than the minute allows");
    assert_eq!(refused.code, "open_feedback.rate_exceeded");
    assert_eq!(filed().await, before + REPORTS_PER_MINUTE as usize);

    // Another reporter in the same minute, and the same one in the next minute,
    // are served.
    submit_at(&srv.app, &ctx, "addr:192.0.2.2", &code, report(), minute)
        .await
        .expect("another reporter");
    let next = minute + chrono::Duration::seconds(60);
    submit_at(&srv.app, &ctx, "addr:192.0.2.1", &code, report(), next)
        .await
        .expect("the next minute");
    assert_eq!(filed().await, before + REPORTS_PER_MINUTE as usize + 2);
}
both_backends!(opn_9_reports_are_limited_per_reporter_per_minute_and_a_refused_one_is_not_filed);
