//! OPN-3, OPN-4 (HZ 37, XJ 29): developer keys, applications for data open on
//! conditions reviewed by the source and then the authority within 20 working days,
//! the data use agreement, and the key unlocking the data at the egress gate.
use std::sync::Arc;

use gongshu_domain::deadlines::DeadlineKind;
use gongshu_domain::open::AGREEMENT_VERSION;
use gongshu_store::{AccessFilter, AuditFilter};
use serde_json::{json, Value};

use crate::common::{send, Resp, TestServer};

const CONDITIONAL: &str = "门诊量统计";

async fn seeded(srv: &TestServer) -> crate::common::Demo {
    let demo = srv.seed_demo().await;
    gongshu_services::demo_open::seed_open(&srv.app)
        .await
        .expect("open demo datasets");
    demo
}

async fn dataset(srv: &TestServer, q: &str) -> Value {
    let found = srv
        .anon()
        .get(&format!("/api/v1/open/datasets?q={q}&limit=100"))
        .await
        .expect_status(200);
    found["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["content"]["name"].as_str().unwrap_or("").contains(q))
        .unwrap_or_else(|| panic!("an open dataset named like {q}: {found}"))
        .clone()
}

async fn keyed_get(srv: &TestServer, secret: &str, path: &str) -> Resp {
    send(
        srv.anon()
            .request(reqwest::Method::GET, path)
            .header("x-api-key", secret),
    )
    .await
}

async fn keyed_post(srv: &TestServer, secret: &str, path: &str, body: Value) -> Resp {
    send(
        srv.anon()
            .request(reqwest::Method::POST, path)
            .header("x-api-key", secret)
            .json(&body),
    )
    .await
}

async fn issue_key(srv: &TestServer, name: &str, id_number: &str) -> (Value, String) {
    let issued = srv
        .anon()
        .post(
            "/api/v1/open/keys",
            json!({"holder_name": name, "holder_kind": "natural_person",
                   "identity_number": id_number, "contact": "dev@example.cn"}),
        )
        .await
        .expect_status(201);
    let secret = issued["secret"].as_str().expect("secret").to_string();
    (issued["key"].clone(), secret)
}

async fn opn_3_a_developer_key_checks_the_holders_identity_and_keeps_only_hashes(
    srv: Arc<TestServer>,
) {
    seeded(&srv).await;
    let bad = srv
        .anon()
        .post(
            "/api/v1/open/keys",
            json!({"holder_name": "张三", "holder_kind": "natural_person",
                   "identity_number": "110105194912310021", "contact": "z@example.cn"}),
        )
        .await;
    let err = bad.expect_error(400, "id.bad_check_character");
    assert_eq!(err["field"], "identity_number");
    srv.anon()
        .post(
            "/api/v1/open/keys",
            json!({"holder_name": "张三", "holder_kind": "company",
                   "identity_number": "11010519491231002X", "contact": "z@example.cn"}),
        )
        .await
        .expect_error(400, "open.unknown_applicant_kind");

    let (key, secret) = issue_key(&srv, "张三", "11010519491231002X").await;
    assert!(secret.starts_with("gk_") && secret.len() > 40, "{secret}");
    assert_eq!(key["identity_masked"], "110105********002X");
    assert!(key.get("key_hash").is_none(), "{key}");
    let stored = srv
        .app
        .store
        .get_developer_key(key["id"].as_str().unwrap())
        .await
        .expect("read")
        .expect("stored");
    assert_ne!(stored.key_hash, secret);
    assert!(!stored.identity_hash.contains("19491231"));

    // A key that is not ours is refused, never read as anonymous.
    let unconditional = dataset(&srv, "公交线路").await;
    let code = unconditional["code"].as_str().unwrap();
    keyed_get(
        &srv,
        "gk_not-a-key",
        &format!("/api/v1/open/datasets/{code}/records"),
    )
    .await
    .expect_error(401, "open.bad_key");
    // With our key the unconditional data reads as before, under the key's bucket.
    let page = keyed_get(
        &srv,
        &secret,
        &format!("/api/v1/open/datasets/{code}/records?limit=3"),
    )
    .await
    .expect_status(200);
    assert_eq!(page["rows"].as_array().unwrap().len(), 3);
}
both_backends!(opn_3_a_developer_key_checks_the_holders_identity_and_keeps_only_hashes);

async fn opn_4_an_application_is_reviewed_by_the_source_then_the_authority_and_the_agreement_unlocks_the_data(
    srv: Arc<TestServer>,
) {
    let demo = seeded(&srv).await;
    let ds = dataset(&srv, CONDITIONAL).await;
    assert_eq!(ds["content"]["open_type"], "conditional");
    let code = ds["code"].as_str().unwrap().to_string();
    let entry_id = ds["id"].as_str().unwrap().to_string();
    let (key, secret) = issue_key(&srv, "李四", "11010519491231002X").await;
    let apply_path = format!("/api/v1/open/datasets/{code}/applications");
    let body = json!({"purpose": "门诊服务研究", "intended_use": "发表论文，结果仅含汇总数"});

    srv.anon()
        .post(&apply_path, body.clone())
        .await
        .expect_error(401, "open.key_required");
    let unconditional = dataset(&srv, "公交线路").await;
    keyed_post(
        &srv,
        &secret,
        &format!(
            "/api/v1/open/datasets/{}/applications",
            unconditional["code"].as_str().unwrap()
        ),
        body.clone(),
    )
    .await
    .expect_error(409, "open.no_application_needed");
    keyed_post(
        &srv,
        &secret,
        &apply_path,
        json!({"purpose": " ", "intended_use": "x"}),
    )
    .await
    .expect_error(400, "input.required");

    let applied = keyed_post(&srv, &secret, &apply_path, body.clone())
        .await
        .expect_status(201);
    let id = applied["id"].as_str().unwrap().to_string();
    assert_eq!(applied["status"], "source_review");
    assert_eq!(applied["key_id"], key["id"]);
    // HZ 37: answered within 20 working days of receipt.
    let today = gongshu_services::catalog::today_in_china(chrono::Utc::now());
    let due = srv
        .app
        .deadlines
        .due(
            &srv.app.calendar,
            DeadlineKind::OpenConditionalAnswer,
            today,
        )
        .expect("due");
    assert_eq!(applied["due"], due.to_string());
    assert_eq!(
        srv.app.calendar.workdays_between(today, due).expect("days"),
        20
    );
    keyed_post(&srv, &secret, &apply_path, body.clone())
        .await
        .expect_error(409, "open.application_exists");

    // Until approved and the agreement accepted, the key reads nothing.
    let records = format!("/api/v1/open/datasets/{code}/records?limit=5");
    keyed_get(&srv, &secret, &records)
        .await
        .expect_error(403, "open.application_required");

    // Another department cannot review; the source must give reasons to refuse.
    let psb = srv.login_demo(&demo, "psb.admin").await;
    psb.post(
        &format!("/api/v1/open-applications/{id}/review"),
        json!({"approve": true}),
    )
    .await
    .expect_status(403);
    let health = srv.login_demo(&demo, "health.admin").await;
    let listed = health
        .get("/api/v1/open-applications?status=source_review")
        .await
        .expect_status(200);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == id.as_str()));
    assert!(psb
        .get("/api/v1/open-applications")
        .await
        .expect_status(200)
        .as_array()
        .unwrap()
        .is_empty());
    health
        .post(
            &format!("/api/v1/open-applications/{id}/review"),
            json!({"approve": false}),
        )
        .await
        .expect_error(400, "open.reason_required");
    let reviewed = health
        .post(
            &format!("/api/v1/open-applications/{id}/review"),
            json!({"approve": true}),
        )
        .await
        .expect_status(200);
    assert_eq!(reviewed["status"], "authority_review");
    // The source's approval alone unlocks nothing, and the source cannot concur.
    health
        .post(
            &format!("/api/v1/open-applications/{id}/review"),
            json!({"approve": true}),
        )
        .await
        .expect_status(403);
    keyed_get(&srv, &secret, &records)
        .await
        .expect_error(403, "open.application_required");
    let authority = srv.login_demo(&demo, "authority").await;
    let approved = authority
        .post(
            &format!("/api/v1/open-applications/{id}/review"),
            json!({"approve": true}),
        )
        .await
        .expect_status(200);
    assert_eq!(approved["status"], "awaiting_agreement");
    assert!(approved["ends_on"].is_string());
    keyed_get(&srv, &secret, &records)
        .await
        .expect_error(403, "open.application_required");

    // The applicant reads the agreement and accepts this very version.
    let view = keyed_get(&srv, &secret, &format!("/api/v1/open/applications/{id}"))
        .await
        .expect_status(200);
    let text = view["agreement"]["text"].as_str().expect("agreement text");
    assert!(
        text.contains("李四")
            && text.contains("门诊服务研究")
            && text.contains("云川市卫生健康委员会"),
        "{text}"
    );
    assert_eq!(view["agreement"]["version"], AGREEMENT_VERSION);
    let accept = format!("/api/v1/open/applications/{id}/agreement");
    keyed_post(
        &srv,
        &secret,
        &accept,
        json!({"version": AGREEMENT_VERSION, "accept": false}),
    )
    .await
    .expect_error(400, "open.agreement_not_accepted");
    keyed_post(
        &srv,
        &secret,
        &accept,
        json!({"version": "2020-old", "accept": true}),
    )
    .await
    .expect_error(409, "open.agreement_version_changed");
    let (_, other_secret) = issue_key(&srv, "王五", "11010519491231002X").await;
    keyed_post(
        &srv,
        &other_secret,
        &accept,
        json!({"version": AGREEMENT_VERSION, "accept": true}),
    )
    .await
    .expect_error(404, "not_found");
    let active = keyed_post(
        &srv,
        &secret,
        &accept,
        json!({"version": AGREEMENT_VERSION, "accept": true}),
    )
    .await
    .expect_status(200);
    assert_eq!(active["status"], "active");
    assert_eq!(active["agreement"]["version"], AGREEMENT_VERSION);
    assert!(active["agreement"]["party"]
        .as_str()
        .unwrap()
        .contains("李四"));
    assert_eq!(active["agreement"]["text_sm3"].as_str().unwrap().len(), 64);

    // Now the key reads the rows and the file; nobody else does.
    let page = keyed_get(&srv, &secret, &records).await.expect_status(200);
    assert_eq!(page["rows"].as_array().unwrap().len(), 5);
    let file = srv
        .anon()
        .request(
            reqwest::Method::GET,
            &format!("/open/datasets/{code}/data.csv"),
        )
        .header("x-api-key", &secret)
        .send()
        .await
        .expect("download");
    assert_eq!(file.status().as_u16(), 200);
    assert!(file.text().await.unwrap().lines().count() > 5);
    keyed_get(&srv, &other_secret, &records)
        .await
        .expect_error(403, "open.application_required");
    srv.anon()
        .get(&records)
        .await
        .expect_error(403, "open.application_required");

    let served: Vec<_> = srv
        .app
        .store
        .list_access(&AccessFilter {
            resource_id: Some(entry_id.clone()),
            outcome: Some("served".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("access")
        .into_iter()
        .collect();
    assert_eq!(served.len(), 2, "{served:?}");
    assert!(served
        .iter()
        .all(|r| r.application_id.as_deref() == Some(id.as_str())
            && r.token_id == key["id"].as_str().map(str::to_string)
            && r.purpose == "门诊服务研究"
            && r.mode == "open"));

    // The source suspends the application on misuse (reasons required), then resumes it.
    let suspend = format!("/api/v1/open-applications/{id}/suspend");
    psb.post(&suspend, json!({"reason": "滥用"}))
        .await
        .expect_status(403);
    health
        .post(&suspend, json!({"reason": " "}))
        .await
        .expect_error(400, "input.required");
    let suspended = health
        .post(&suspend, json!({"reason": "发现向第三方提供原始数据"}))
        .await
        .expect_status(200);
    assert_eq!(suspended["status"], "suspended");
    keyed_get(&srv, &secret, &records)
        .await
        .expect_error(403, "open.application_required");
    health
        .post(
            &format!("/api/v1/open-applications/{id}/resume"),
            json!({"reason": "已整改"}),
        )
        .await
        .expect_status(200);
    keyed_get(&srv, &secret, &records).await.expect_status(200);

    // A revoked key is refused everywhere: by its holder, or by the authority.
    keyed_post(
        &srv,
        &other_secret,
        "/api/v1/open/keys/revoke",
        json!({"reason": "不再使用"}),
    )
    .await
    .expect_status(200);
    keyed_get(&srv, &other_secret, &records)
        .await
        .expect_error(401, "open.bad_key");
    let revoke = format!("/api/v1/open-keys/{}/revoke", key["id"].as_str().unwrap());
    health
        .post(&revoke, json!({"reason": "滥用"}))
        .await
        .expect_status(403);
    authority
        .post(&revoke, json!({"reason": "违反数据利用协议"}))
        .await
        .expect_status(200);
    keyed_get(&srv, &secret, &records)
        .await
        .expect_error(401, "open.bad_key");

    for action in [
        "open.apply",
        "open.application_approve",
        "open.agreement_accept",
        "open.application_suspend",
    ] {
        let found = srv
            .app
            .store
            .list_audit(&AuditFilter {
                action: Some(action.into()),
                object_id: Some(id.clone()),
                limit: Some(10),
                ..Default::default()
            })
            .await
            .expect("audit");
        assert!(!found.is_empty(), "{action} audited");
    }
    let revoked = srv
        .app
        .store
        .list_audit(&AuditFilter {
            action: Some("open.key_revoke".into()),
            object_id: key["id"].as_str().map(str::to_string),
            limit: Some(10),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(revoked.len(), 1, "the authority's revocation is audited");
}
both_backends!(
    opn_4_an_application_is_reviewed_by_the_source_then_the_authority_and_the_agreement_unlocks_the_data
);

async fn opn_4_a_refusal_gives_reasons_the_applicant_reads_and_unlocks_nothing(
    srv: Arc<TestServer>,
) {
    let demo = seeded(&srv).await;
    let ds = dataset(&srv, CONDITIONAL).await;
    let code = ds["code"].as_str().unwrap();
    let (_, secret) = issue_key(&srv, "赵六", "11010519491231002X").await;
    let applied = keyed_post(
        &srv,
        &secret,
        &format!("/api/v1/open/datasets/{code}/applications"),
        json!({"purpose": "商业营销", "intended_use": "向患者推送广告"}),
    )
    .await
    .expect_status(201);
    let id = applied["id"].as_str().unwrap();
    let health = srv.login_demo(&demo, "health.admin").await;
    let refused = health
        .post(
            &format!("/api/v1/open-applications/{id}/review"),
            json!({"approve": false, "reason": "用途不符合开放条件：仅限科研用途"}),
        )
        .await
        .expect_status(200);
    assert_eq!(refused["status"], "rejected");
    let mine = keyed_get(&srv, &secret, "/api/v1/open/applications")
        .await
        .expect_status(200);
    assert_eq!(mine[0]["status"], "rejected");
    assert_eq!(
        mine[0]["source_review"]["reason"],
        "用途不符合开放条件：仅限科研用途"
    );
    let view = keyed_get(&srv, &secret, &format!("/api/v1/open/applications/{id}"))
        .await
        .expect_status(200);
    assert!(view["agreement"].is_null());
    keyed_post(
        &srv,
        &secret,
        &format!("/api/v1/open/applications/{id}/agreement"),
        json!({"version": AGREEMENT_VERSION, "accept": true}),
    )
    .await
    .expect_error(409, "open.agreement_not_offered");
    // A refused application may be followed by a new one.
    keyed_post(
        &srv,
        &secret,
        &format!("/api/v1/open/datasets/{code}/applications"),
        json!({"purpose": "门诊服务研究", "intended_use": "论文"}),
    )
    .await
    .expect_status(201);
}
both_backends!(opn_4_a_refusal_gives_reasons_the_applicant_reads_and_unlocks_nothing);

/// Rows as a CSV with the items as headings, every field quoted.
fn rows_csv(items: &[Value], rows: &[Value]) -> String {
    let quote = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => format!("\"{}\"", s.replace('"', "\"\"")),
        other => other.to_string(),
    };
    let mut csv: Vec<String> = vec![items.iter().map(quote).collect::<Vec<_>>().join(",")];
    for r in rows {
        let fields: Vec<String> = items
            .iter()
            .map(|i| quote(&r[i.as_str().unwrap()]))
            .collect();
        csv.push(fields.join(","));
    }
    csv.join("\n") + "\n"
}

async fn opn_3_a_page_read_again_is_recorded_again_and_follows_the_next_load(srv: Arc<TestServer>) {
    use sm3::{Digest, Sm3};
    seeded(&srv).await;
    let d = dataset(&srv, "公共图书馆信息").await;
    let (id, code) = (d["id"].as_str().unwrap(), d["code"].as_str().unwrap());
    let path = format!("/api/v1/open/datasets/{code}/records?limit=1000");
    let first = srv.anon().get(&path).await.expect_status(200);
    let again = srv.anon().get(&path).await.expect_status(200);
    let rows = first["rows"].as_array().expect("rows").clone();
    assert!(rows.len() > 2, "{first}");
    assert_eq!(first["rows"], again["rows"]);
    assert_eq!(first["response_hash"], again["response_hash"]);
    assert_eq!(
        first["response_hash"],
        hex::encode(Sm3::digest(first["rows"].to_string()))
    );
    // Each read is its own access record, however it was served.
    assert_ne!(first["access_id"], again["access_id"]);
    let records = srv
        .app
        .store
        .list_access(&AccessFilter {
            resource_id: Some(id.to_string()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    for read in [&first, &again] {
        let r = records
            .iter()
            .find(|r| r.id == read["access_id"].as_str().unwrap())
            .unwrap_or_else(|| panic!("the access record of {}", read["access_id"]));
        assert_eq!(
            (r.outcome.as_str(), r.row_count, r.response_hash.as_str()),
            (
                "served",
                rows.len() as i64,
                read["response_hash"].as_str().unwrap()
            )
        );
    }

    // The source loads its data again without the last row: the next read serves
    // the new version, not the page read before it.
    let dir = crate::common::TempDir::new();
    let file = dir.path().join("libraries.csv");
    let items = first["items"].as_array().unwrap();
    std::fs::write(&file, rows_csv(items, &rows[..rows.len() - 1])).unwrap();
    let opts = gongshu_services::datasets::LoadOptions::new(
        gongshu_services::datasets::Channel::Upload,
        gongshu_services::dataset_input::InputFormat::Csv,
    );
    let load = gongshu_services::datasets::load_file(
        &srv.app,
        &gongshu_services::Ctx::cli(),
        id,
        &file,
        opts,
    )
    .await
    .expect("loaded");
    assert_eq!(load.status, "applied", "{load:?}");
    let after = srv.anon().get(&path).await.expect_status(200);
    assert_eq!(after["rows"], json!(rows[..rows.len() - 1]));
    assert_ne!(after["response_hash"], first["response_hash"]);
}
both_backends!(opn_3_a_page_read_again_is_recorded_again_and_follows_the_next_load);

/// OPN-3: a node trusts the keys it read for at most `STAMP_MAX_AGE`: a revocation
/// committed here is refused on the next read; one committed by another node (on
/// PostgreSQL a second store on the same database) within that age. Reads, whose
/// access records are commits too, do not make the node read the keys again.
async fn opn_3_a_key_revoked_here_is_refused_at_once_and_by_another_node_within_the_stamp_age(
    srv: Arc<TestServer>,
) {
    use gongshu_store::{Change, DeveloperKey};
    seeded(&srv).await;
    let code = dataset(&srv, "公交线路").await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let records = format!("/api/v1/open/datasets/{code}/records?limit=2");
    let (_, here_secret) = issue_key(&srv, "张三", "11010519491231002X").await;
    let (there, there_secret) = issue_key(&srv, "李四", "110105198001010032").await;
    for secret in [&here_secret, &there_secret] {
        keyed_get(&srv, secret, &records).await.expect_status(200);
    }
    let epoch = srv.app.store.open_catalog_epoch();
    keyed_get(&srv, &here_secret, &records)
        .await
        .expect_status(200);
    assert_eq!(
        srv.app.store.open_catalog_epoch(),
        epoch,
        "a read is no catalog change"
    );

    keyed_post(
        &srv,
        &here_secret,
        "/api/v1/open/keys/revoke",
        json!({"reason": "不再使用"}),
    )
    .await
    .expect_status(200);
    assert!(srv.app.store.open_catalog_epoch() > epoch);
    keyed_get(&srv, &here_secret, &records)
        .await
        .expect_error(401, "open.bad_key");

    let node_b = srv.other_node().await;
    let id = there["id"].as_str().unwrap();
    let mut revoked: DeveloperKey = node_b
        .get_developer_key(id)
        .await
        .expect("read")
        .expect("key");
    revoked.status = "revoked".into();
    let audit = gongshu_domain::audit::AuditDraft::new(
        "user:authority",
        "open.key_revoke",
        "developer_key",
    );
    node_b
        .commit(vec![Change::PutDeveloperKey(revoked)], vec![audit])
        .await
        .expect("revoked on node b");
    tokio::time::sleep(
        gongshu_services::open::STAMP_MAX_AGE + std::time::Duration::from_millis(50),
    )
    .await;
    keyed_get(&srv, &there_secret, &records)
        .await
        .expect_error(401, "open.bad_key");
}
both_backends!(
    opn_3_a_key_revoked_here_is_refused_at_once_and_by_another_node_within_the_stamp_age
);
