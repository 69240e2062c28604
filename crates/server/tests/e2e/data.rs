//! COL-1 … COL-4, COL-9, GOV-1 … GOV-3: delivering data behind published catalog
//! entries, validation that loses nothing, versions and rollback, quality,
//! freshness, the base databases and cross-source discrepancies.
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use gongshu_domain::ids::{CitizenId, DivisionCode};
use gongshu_services::catalog::today_in_china;
use gongshu_services::Ctx;
use gongshu_store::{CatalogEntry, Change};
use serde_json::{json, Value};

use crate::common::{send, Resp, Session, TestServer};

/// The demo's five data resources, published, with the one source of each shared datum.
pub(crate) async fn data_resources(srv: &TestServer) -> HashMap<&'static str, CatalogEntry> {
    let ids = gongshu_services::demo::demo_org_ids(&srv.app)
        .await
        .expect("org ids");
    gongshu_services::demo_data::register_resources(&srv.app, &Ctx::cli(), &ids)
        .await
        .expect("register demo resources")
}

pub(crate) fn person(day: i64, sequence: u16) -> String {
    let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + Duration::days(day);
    CitizenId::synthesize(&DivisionCode::parse("830102").unwrap(), birth, sequence)
        .unwrap()
        .as_str()
        .to_string()
}

fn birth_of(id: &str) -> String {
    format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14])
}

fn sex_of(id: &str) -> &'static str {
    if CitizenId::parse(id).unwrap().is_female() {
        "女"
    } else {
        "男"
    }
}

async fn upload(who: &Session, resource: &str, query: &str, body: Vec<u8>) -> Resp {
    send(
        who.request(
            reqwest::Method::POST,
            &format!("/api/v1/datasets/{resource}/loads?{query}"),
        )
        .header("content-type", "application/octet-stream")
        .body(body),
    )
    .await
}

pub(crate) fn household_csv(ids: &[String], marital: &[&str]) -> Vec<u8> {
    let mut s = String::from("公民身份号码,姓名,性别,出生日期,户籍地行政区划,住址,婚姻状况\n");
    for (i, id) in ids.iter().enumerate() {
        s.push_str(&format!(
            "{id},居民{i},{},{},830102,示范省云川市湖滨路{i}号,{}\n",
            sex_of(id),
            birth_of(id),
            marital[i]
        ));
    }
    s.into_bytes()
}

/// The "Done when": a department uploads a GBK CSV with some bad rows; the
/// good rows are served, the bad ones are downloadable with reasons, quality
/// updates, the base database shows the attributes with their source, and a
/// difference against another department's data lands as a discrepancy with its
/// 5-working-day deadline — audited. GOV-3: the state of the data is visible
/// (quality per resource and department), its use traceable (the cross-check's
/// reads in the access log) and responsibility assignable (the discrepancy is the
/// source department's).
async fn col_1_col_9_gov_2_gov_3_gbk_upload_with_bad_rows_reaches_base_and_discrepancies(
    srv: Arc<TestServer>,
) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    let auditor = srv.login_demo(&demo, "auditor").await;
    let household = &resources["household"].code;
    let marriage = &resources["marriage"].code;
    let ids: Vec<String> = (0..3).map(|i| person(i * 400, 11)).collect();

    // 公安局 delivers its household register (UTF-8).
    let load = upload(
        &psb,
        household,
        "file_name=household.csv",
        household_csv(&ids, &["已婚", "已婚", "未婚"]),
    )
    .await
    .expect_status(201);
    assert_eq!(load["rows_accepted"], 3, "{load}");
    // Another department cannot deliver 公安局's data.
    upload(
        &civil,
        household,
        "",
        household_csv(&ids, &["已婚", "已婚", "未婚"]),
    )
    .await
    .expect_error(403, "auth.denied");

    // 民政局 delivers a GBK CSV: two good rows (one disagreeing with 公安局 on the
    // marital status), a bad check digit and a date that does not exist.
    let mut broken = ids[2].clone();
    broken.replace_range(17..18, if broken.ends_with('1') { "2" } else { "1" });
    let text = format!(
        "公民身份号码,姓名,婚姻状况,登记日期\n{},居民0,已婚,2010-05-01\n{},居民1,离婚,2012-06-01\n{broken},居民2,已婚,2015-01-01\n{},居民2,已婚,2015-02-30\n",
        ids[0], ids[1], ids[2]
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let file_sm3 = {
        use sm3::Digest;
        hex::encode(sm3::Sm3::digest(&gbk))
    };
    let load = upload(&civil, marriage, "file_name=婚姻.csv", gbk.into_owned())
        .await
        .expect_status(201);
    assert_eq!(load["status"], "applied");
    assert_eq!(load["rows_read"], 4);
    assert_eq!(load["rows_accepted"], 2);
    assert_eq!(load["rows_rejected"], 2);
    assert_eq!(
        load["encoding"], "gb18030",
        "GBK is detected (GB18030 is its superset)"
    );
    assert_eq!(
        load["checksum"],
        file_sm3.as_str(),
        "SM3 of the file as sent"
    );
    assert_eq!(load["quality"]["validity"], 0.5);
    let load_id = load["id"].as_str().unwrap().to_string();

    // The good rows are served to the delivering department.
    let rows = civil
        .get(&format!("/api/v1/datasets/{marriage}/rows"))
        .await
        .expect_status(200);
    let served: Vec<&str> = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"][0].as_str().unwrap())
        .collect();
    assert_eq!(served, [ids[0].as_str(), ids[1].as_str()]);

    // The bad rows, exactly as delivered, with row numbers and reasons.
    let rejects = civil
        .get(&format!("/api/v1/loads/{load_id}/rejects"))
        .await
        .expect_status(200);
    let rejects = rejects.as_array().unwrap();
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(rejects[0]["row_number"], 4);
    assert_eq!(rejects[0]["raw"][0], broken.as_str());
    assert_eq!(
        rejects[0]["errors"][0]["code"],
        "dataset.invalid_citizen_id"
    );
    assert_eq!(rejects[1]["row_number"], 5);
    assert_eq!(rejects[1]["errors"][0]["code"], "dataset.not_date");
    assert!(rejects[1]["errors"][0]["message_zh"]
        .as_str()
        .unwrap()
        .contains("登记日期"));
    let csv = send(civil.request(
        reqwest::Method::GET,
        &format!("/api/v1/loads/{load_id}/rejects.csv"),
    ))
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.contains("dataset.not_date") && csv.text.contains("2015-02-30"));
    let xlsx = send(civil.request(
        reqwest::Method::GET,
        &format!("/api/v1/loads/{load_id}/rejects.xlsx"),
    ))
    .await;
    assert_eq!(xlsx.status, 200);
    // Another department does not see them.
    psb.get(&format!("/api/v1/loads/{load_id}/rejects"))
        .await
        .expect_error(403, "auth.denied");

    // GOV-1: quality per resource and per department.
    let quality = admin.get("/api/v1/quality").await.expect_status(200);
    let of_marriage = quality["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_id"] == resources["marriage"].id.as_str())
        .expect("marriage scored")
        .clone();
    assert_eq!(of_marriage["scores"]["validity"], 0.5);
    assert_eq!(of_marriage["scores"]["uniqueness"], 1.0);
    assert!(quality["departments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["org_id"] == civil.org_id.as_str()));

    // COL-9: the population base, each attribute from its one source.
    let built = admin
        .post("/api/v1/bases/population/build", json!({}))
        .await
        .expect_status(200);
    let attrs = built["attributes"].as_array().unwrap();
    let source_of = |label: &str| {
        attrs
            .iter()
            .find(|a| a["label"] == label)
            .map(|a| a["source_org_id"].as_str().unwrap().to_string())
    };
    assert_eq!(source_of("婚姻状况"), Some(civil.org_id.clone()));
    assert_eq!(source_of("姓名"), Some(psb.org_id.clone()));
    assert_eq!(built["discrepancies_found"], 1, "{built}");
    // DESIGN 2: the cross-check read both departments' rows through the egress gate,
    // recorded as the platform's own reads.
    let reads = auditor
        .get("/api/v1/share/access?limit=1000")
        .await
        .expect_status(200);
    let checks: Vec<&Value> = reads
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operation"] == "cross_check" && r["actor"] == "system")
        .collect();
    for org in [&civil.org_id, &psb.org_id] {
        assert!(
            checks
                .iter()
                .any(|r| r["source_org_id"] == org.as_str() && r["mode"] == "internal"),
            "{reads}"
        );
    }

    let record = admin
        .get(&format!("/api/v1/bases/population/subjects/{}", ids[1]))
        .await
        .expect_status(200);
    let marital = record["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["label"] == "婚姻状况")
        .unwrap()
        .clone();
    assert_eq!(marital["source"]["value"], "离婚");
    assert_eq!(marital["source"]["org_id"], civil.org_id.as_str());
    assert_eq!(marital["source"]["load_id"], load_id.as_str());
    assert_eq!(marital["others"][0]["value"], "已婚");
    assert_eq!(marital["others"][0]["org_id"], psb.org_id.as_str());
    // Personal data of the base is only for the platform's governors.
    psb.get(&format!("/api/v1/bases/population/subjects/{}", ids[1]))
        .await
        .expect_error(403, "auth.denied");

    // GOV-2: the difference is the source department's to act on, in 5 working days.
    let page = civil
        .get("/api/v1/discrepancies?status=open")
        .await
        .expect_status(200);
    assert_eq!(page["total"], 1, "{page}");
    let d = &page["items"][0];
    assert_eq!(d["subject_key"], ids[1].as_str());
    assert_eq!(d["source_value"], "离婚");
    assert_eq!(d["other_value"], "已婚");
    assert_eq!(d["other_org_id"], psb.org_id.as_str());
    let due = srv
        .app
        .calendar
        .add_workdays(today_in_china(Utc::now()), 5)
        .unwrap();
    assert_eq!(d["due"], due.to_string(), "CZ 41: 5 working days");
    // 公安局 is not the source of the marital status: it sees none to act on.
    let psb_page = psb.get("/api/v1/discrepancies").await.expect_status(200);
    assert_eq!(psb_page["total"], 0);

    // The hourly job flags it once when its due day has passed.
    let later = Utc::now() + Duration::days(14);
    assert_eq!(
        gongshu_services::governance::flag_overdue(&srv.app, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        gongshu_services::governance::flag_overdue(&srv.app, later)
            .await
            .unwrap(),
        0
    );
    let id = d["id"].as_i64().unwrap();
    civil
        .post(
            &format!("/api/v1/discrepancies/{id}/resolve"),
            json!({"outcome": "confirmed", "note": ""}),
        )
        .await
        .expect_error(400, "discrepancy.note_required");
    let settled = civil
        .post(
            &format!("/api/v1/discrepancies/{id}/resolve"),
            json!({"outcome": "confirmed", "note": "经核对婚姻登记档案，离婚登记属实"}),
        )
        .await
        .expect_status(200);
    assert_eq!(settled["status"], "confirmed");

    let trail = auditor
        .get("/api/v1/audit?action=dataset.load")
        .await
        .expect_status(200);
    assert_eq!(trail.as_array().map(Vec::len), Some(2), "{trail}");
    for action in [
        "base.build",
        "governance.cross_check",
        "discrepancy.resolve",
        "base.view",
    ] {
        let found = auditor
            .get(&format!("/api/v1/audit?action={action}"))
            .await
            .expect_status(200);
        assert!(!found.as_array().unwrap().is_empty(), "{action} is audited");
    }
}
both_backends!(col_1_col_9_gov_2_gov_3_gbk_upload_with_bad_rows_reaches_base_and_discrepancies);

/// COL-2, COL-3: a refused load leaves the previous version whole; pushed batches
/// are applied once; the last load can be rolled back; headings must fit.
async fn col_2_versions_are_atomic_pushes_idempotent_and_rollback_restores(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = &resources["household"].code;
    let ids: Vec<String> = (0..3).map(|i| person(i * 300, 21)).collect();
    let count = |v: &Value| v["rows"].as_array().map(Vec::len).unwrap_or(0);
    let rows_path = format!("/api/v1/datasets/{household}/rows");

    upload(
        &psb,
        household,
        "",
        household_csv(&ids[..2], &["已婚", "未婚"]),
    )
    .await
    .expect_status(201);
    let policy = send(
        psb.request(
            reqwest::Method::PUT,
            &format!("/api/v1/datasets/{household}/policy"),
        )
        .json(&json!({"policy": "reject"})),
    )
    .await
    .expect_status(200);
    assert_eq!(policy["policy"], "reject");

    // One bad row: the whole load is refused, the previous rows stay served.
    let mut bad = household_csv(&ids, &["已婚", "未婚", "已婚"]);
    bad.extend_from_slice("123,无名,男,1990-01-01,830102,某地,已婚\n".as_bytes());
    let refused = upload(&psb, household, "", bad).await.expect_status(422);
    assert_eq!(refused["status"], "rejected");
    assert_eq!(refused["error_code"], "dataset.rejected_by_policy");
    assert_eq!(refused["rows_rejected"], 1);
    let rows = psb.get(&rows_path).await.expect_status(200);
    assert_eq!(count(&rows), 2, "the previous version is intact");

    // Headings that are not the catalog's items lose nothing: refused, named.
    let wrong = upload(
        &psb,
        household,
        "",
        "公民身份号码,姓名,备注\n".as_bytes().to_vec(),
    )
    .await
    .expect_status(422);
    assert_eq!(wrong["error_code"], "dataset.header_mismatch");
    assert!(wrong["error"].as_str().unwrap().contains("备注"), "{wrong}");

    // A pushed batch is applied once, however often it is retried.
    let batch = json!({
        "idempotency_key": "psb-node-0001",
        "mode": "upsert",
        "columns": ["citizen_id", "name", "sex", "birth_date", "marital_status"],
        "rows": [[ids[2], "居民2", sex_of(&ids[2]), birth_of(&ids[2]), "丧偶"]],
    });
    let first = psb
        .post(&format!("/api/v1/datasets/{household}/push"), batch.clone())
        .await
        .expect_status(201);
    assert_eq!(first["channel"], "push");
    let again = psb
        .post(&format!("/api/v1/datasets/{household}/push"), batch)
        .await
        .expect_status(200);
    assert_eq!(again["id"], first["id"]);
    let rows = psb.get(&rows_path).await.expect_status(200);
    assert_eq!(count(&rows), 3);
    let loads = psb
        .get(&format!("/api/v1/datasets/{household}/loads"))
        .await
        .expect_status(200);
    let statuses: Vec<&str> = loads
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["applied", "failed", "rejected", "applied"]);

    // Rollback puts the version before the push back.
    let back = psb
        .post(&format!("/api/v1/datasets/{household}/rollback"), json!({}))
        .await
        .expect_status(200);
    assert_eq!(back["row_count"], 2);
    let rows = psb.get(&rows_path).await.expect_status(200);
    assert_eq!(count(&rows), 2);
    psb.post(&format!("/api/v1/datasets/{household}/rollback"), json!({}))
        .await
        .expect_error(409, "dataset.no_previous_version");
}
both_backends!(col_2_versions_are_atomic_pushes_idempotent_and_rollback_restores);

/// COL-1, COL-2: what a department sends is never lost or swallowed. Loads of one
/// resource at the same moment each get a table of their own, so whichever commits
/// second is refused and the served version stays whole; a replace with no good
/// row leaves the served data alone; an upsert that leaves out optional items keeps
/// their stored values; and a pushed batch whose first attempt failed is loaded
/// when retried with its key, while one still running is not loaded twice.
async fn col_1_col_2_concurrent_loads_retries_and_partial_upserts_lose_nothing(
    srv: Arc<TestServer>,
) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = &resources["household"].code;
    let rows_path = format!("/api/v1/datasets/{household}/rows");
    let ids: Vec<String> = (0..400).map(|i| person(i * 7, 37)).collect();
    let marital = vec!["已婚"; ids.len()];

    // Two uploads at once.
    let (a, b) = tokio::join!(
        upload(&psb, household, "", household_csv(&ids, &marital)),
        upload(&psb, household, "", household_csv(&ids[..100], &marital)),
    );
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&201), "{} / {}", a.text, b.text);
    for r in [&a, &b] {
        if r.status != 201 {
            assert_eq!(r.status, 409, "{}", r.text);
            assert_eq!(r.body["code"], "dataset.concurrent_load", "{}", r.text);
        }
    }
    let dataset = psb
        .get(&format!("/api/v1/datasets/{household}"))
        .await
        .expect_status(200);
    let served = dataset["dataset"]["row_count"].as_i64().unwrap();
    assert!(served == 400 || served == 100, "{dataset}");
    let everything = psb
        .get(&format!("{rows_path}?limit=1000"))
        .await
        .expect_status(200);
    assert_eq!(
        everything["rows"].as_array().map(Vec::len),
        Some(served as usize)
    );

    // A replace whose every row is bad: refused, the rows kept with their reasons,
    // downloadable page after page (more rows than one page of the download).
    let mut bad = String::from("公民身份号码,姓名,性别,出生日期,户籍地行政区划,住址,婚姻状况\n");
    for n in 0..20_001 {
        bad.push_str(&format!("{n},无名,男,1990-01-01,830102,某地,已婚\n"));
    }
    let refused = upload(&psb, household, "", bad.into_bytes())
        .await
        .expect_status(422);
    assert_eq!(refused["status"], "rejected");
    assert_eq!(refused["error_code"], "dataset.no_valid_rows");
    assert_eq!(refused["rows_rejected"], 20_001);
    let csv = psb
        .get(&format!(
            "/api/v1/loads/{}/rejects.csv",
            refused["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(csv.status, 200);
    let mut numbers: Vec<i64> = csv
        .text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    numbers.dedup();
    assert_eq!(numbers.len(), 20_001);
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in row order");
    let after = psb
        .get(&format!("/api/v1/datasets/{household}"))
        .await
        .expect_status(200);
    assert_eq!(after["dataset"]["row_count"], served);
    let rejects = psb
        .get(&format!(
            "/api/v1/loads/{}/rejects",
            refused["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rejects.status, 200, "{}", rejects.text);
    assert!(rejects.text.contains("无名"), "{}", rejects.text);

    // An upsert without the address or the division keeps both.
    let person0 = &ids[0];
    let batch = |key: &str, columns: Value| {
        json!({
            "idempotency_key": key,
            "mode": "upsert",
            "columns": columns,
            "rows": [[person0, "居民0", sex_of(person0), birth_of(person0), "离婚"]],
        })
    };
    let push = format!("/api/v1/datasets/{household}/push");
    let partial = json!(["citizen_id", "name", "sex", "birth_date", "marital_status"]);
    let pushed = psb
        .post(&push, batch("psb-node-partial", partial.clone()))
        .await
        .expect_status(201);
    // GOV-1: the items it left out are not counted as missing.
    assert_eq!(pushed["quality"]["completeness"], 1.0, "{pushed}");
    let rows = psb
        .get(&format!("{rows_path}?limit=1000"))
        .await
        .expect_status(200);
    let values = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["values"])
        .find(|v| v[0] == person0.as_str())
        .expect("the pushed person's row");
    assert_eq!(values[6], "离婚", "{values}");
    assert_eq!(values[5], "示范省云川市湖滨路0号", "{values}");
    assert_eq!(values[4], "830102", "{values}");

    // A first attempt that failed (here its columns were wrong) swallows nothing:
    // the retry with the same key is loaded.
    let wrong = json!(["citizen_id", "name", "sex", "birth_date", "婚姻情况"]);
    let failed = psb
        .post(&push, batch("psb-node-retry", wrong))
        .await
        .expect_status(422);
    assert_eq!(failed["status"], "failed");
    let retried = psb
        .post(&push, batch("psb-node-retry", partial.clone()))
        .await
        .expect_status(201);
    assert_ne!(retried["id"], failed["id"]);
    // The retry is then the batch's answer.
    let replayed = psb
        .post(&push, batch("psb-node-retry", partial.clone()))
        .await
        .expect_status(200);
    assert_eq!(replayed["id"], retried["id"]);

    // A batch still being loaded is not loaded a second time meanwhile.
    let mut running: gongshu_store::DatasetLoad = serde_json::from_value(retried.clone()).unwrap();
    running.id = uuid::Uuid::now_v7().to_string();
    running.status = "running".into();
    running.idempotency_key = Some("psb-node-busy".into());
    srv.app
        .store
        .commit(vec![gongshu_store::Change::PutLoad(running)], vec![])
        .await
        .unwrap();
    psb.post(&push, batch("psb-node-busy", partial))
        .await
        .expect_error(409, "dataset.batch_in_progress");
}
both_backends!(col_1_col_2_concurrent_loads_retries_and_partial_upserts_lose_nothing);

/// Bad input: each file gets a clear error or quarantine, the previous version
/// stays, and the server keeps serving.
async fn col_3_bad_files_get_clear_errors_and_nothing_is_lost(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = &resources["household"].code;
    let ids: Vec<String> = (0..4).map(|i| person(i * 200, 31)).collect();
    upload(&psb, household, "", household_csv(&ids[..1], &["未婚"]))
        .await
        .expect_status(201);

    let mut invalid_utf8 = "公民身份号码,姓名\n".as_bytes().to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, b',', b'x', b'\n']);
    let r = upload(&psb, household, "encoding=utf-8", invalid_utf8)
        .await
        .expect_status(422);
    assert_eq!(r["error_code"], "input.invalid_utf8");

    let truncated = format!("公民身份号码,姓名\n{},\"居民", ids[1]).into_bytes();
    let r = upload(&psb, household, "", truncated)
        .await
        .expect_status(422);
    assert_eq!(r["error_code"], "input.truncated");

    // A BOM, ragged rows, embedded newlines and quotes, a duplicate key.
    let mut tricky = vec![0xEF, 0xBB, 0xBF];
    tricky.extend_from_slice(
        format!(
            "公民身份号码,姓名,住址\n{},\"居民\"\"甲\"\"\",\"湖滨路\n1号\"\n{},居民乙\n{},居民丙,东湖北路\n{},居民丁,重复\n",
            ids[1], ids[2], ids[3], ids[3]
        )
        .as_bytes(),
    );
    let r = upload(&psb, household, "", tricky).await.expect_status(201);
    assert_eq!(r["rows_read"], 4);
    assert_eq!(r["rows_accepted"], 2, "{r}");
    let rejects = psb
        .get(&format!(
            "/api/v1/loads/{}/rejects",
            r["id"].as_str().unwrap()
        ))
        .await
        .expect_status(200);
    let codes: Vec<&str> = rejects
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["errors"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["input.ragged_row", "dataset.duplicate_key"]);
    assert_eq!(r["quality"]["uniqueness"], 0.75);
    let rows = psb
        .get(&format!("/api/v1/datasets/{household}/rows"))
        .await
        .expect_status(200);
    let names: Vec<&str> = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"][1].as_str().unwrap())
        .collect();
    assert_eq!(names, ["居民\"甲\"", "居民丙"]);
    assert_eq!(rows["rows"][0]["values"][5], "湖滨路\n1号");

    let r = upload(&psb, household, "format=xlsx", b"not a zip".to_vec())
        .await
        .expect_status(422);
    assert_eq!(r["error_code"], "input.not_xlsx");
    upload(&psb, household, "format=parquet", b"x".to_vec())
        .await
        .expect_error(400, "dataset.format_unknown");
    let health = srv.anon().get("/healthz").await;
    assert_eq!(health.status, 200, "the server keeps serving");
}
both_backends!(col_3_bad_files_get_clear_errors_and_nothing_is_lost);

/// COL-4: a resource not refreshed within its period and 5 working days is listed
/// with its department and working days overdue.
async fn col_4_stale_resources_are_listed_with_days_overdue(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    let household = &resources["household"];
    let ids: Vec<String> = (0..1).map(|i| person(i, 41)).collect();
    upload(&psb, &household.code, "", household_csv(&ids, &["未婚"]))
        .await
        .expect_status(201);
    // The demo's other entries published weeks ago without data are listed
    // (below); the household, just loaded, is not.
    let listed = |list: &Value, code: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == code)
            .cloned()
    };
    let fresh = admin
        .get("/api/v1/freshness/stale")
        .await
        .expect_status(200);
    assert!(listed(&fresh, &household.code).is_none(), "{fresh}");
    assert!(fresh
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["last_loaded_at"].is_null()));

    // The daily household register was last loaded 20 days ago.
    let plane = srv.app.store.data_plane();
    let mut d = plane.get_dataset(&household.id).await.unwrap().unwrap();
    let expected = d.version;
    d.last_loaded_at = Some(Utc::now() - Duration::days(20));
    d.version += 1;
    srv.app
        .store
        .commit(
            vec![Change::PutDataset {
                dataset: d,
                expected_version: Some(expected),
            }],
            vec![],
        )
        .await
        .unwrap();
    let stale = admin
        .get("/api/v1/freshness/stale")
        .await
        .expect_status(200);
    let row = listed(&stale, &household.code).expect("the household is late");
    assert_eq!(row["org_id"], psb.org_id.as_str());
    let last = today_in_china(Utc::now() - Duration::days(20));
    let due = srv
        .app
        .calendar
        .add_workdays(last.succ_opt().unwrap(), 5)
        .unwrap();
    assert_eq!(row["due"], due.to_string());
    let late = srv
        .app
        .calendar
        .workdays_between(due, today_in_china(Utc::now()))
        .unwrap();
    assert_eq!(row["workdays_overdue"], late);
    // A department sees its own stale resources only if it reads quality.
    let psb_view = psb.get("/api/v1/freshness/stale").await.expect_status(200);
    assert!(listed(&psb_view, &household.code).is_some());
    assert!(psb_view
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["org_id"] == psb.org_id.as_str()));
    // GOV-1: its timeliness is no longer the punctual arrival of that load.
    let scores = resource_scores(&admin, &household.id).await;
    let aged = (1.0 - late as f64 / 20.0).max(0.0);
    assert_eq!(scores["timeliness"].as_f64(), Some(aged), "{scores}");

    // CAT-6: an entry published 20 days ago that no data ever came to is late too.
    let mut empty = unreviewed_resource(&srv, &resources).await;
    let read_at = empty.updated_at;
    empty.published_at = Some(Utc::now() - Duration::days(20));
    empty.updated_at = Utc::now();
    srv.app
        .store
        .commit(
            vec![Change::UpdateCatalogEntry {
                entry: empty.clone(),
                expected_updated_at: read_at,
            }],
            vec![],
        )
        .await
        .unwrap();
    let stale = psb.get("/api/v1/freshness/stale").await.expect_status(200);
    let never = listed(&stale, &empty.code).expect("the entry without data is listed");
    assert_eq!(never["last_loaded_at"], Value::Null);
    assert_eq!(never["org_id"], psb.org_id.as_str());
    assert_eq!(never["workdays_overdue"], late, "{never}");
    crate::data_pages::open(&admin, "/data/quality")
        .await
        .shows("never-loaded")
        .shows("发布后从未载入数据");
}

/// GOV-1: the quality scores `/api/v1/quality` gives one resource.
async fn resource_scores(who: &Session, resource_id: &str) -> Value {
    let quality = who.get("/api/v1/quality").await.expect_status(200);
    quality["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_id"] == resource_id)
        .map(|r| r["scores"].clone())
        .expect("the resource is scored")
}

/// GOV-1: a resource's scores are those of the rows it serves: a small pushed batch
/// after a replace weighs by the rows it brought, not as the whole resource.
async fn gov_1_quality_scores_the_whole_table_not_its_last_batch(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    let household = &resources["household"];
    let ids: Vec<String> = (0..3).map(|i| person(i * 13, 43)).collect();
    let mut file = household_csv(&ids, &["未婚", "已婚", "离婚"]);
    file.extend_from_slice("123,无名,男,1990-01-01,830102,某地,已婚\n".as_bytes());
    upload(&psb, &household.code, "", file)
        .await
        .expect_status(201);
    let scores = resource_scores(&admin, &household.id).await;
    assert_eq!(scores["validity"].as_f64(), Some(0.75), "{scores}");
    let newcomer = person(500, 45);
    psb.post(
        &format!("/api/v1/datasets/{}/push", household.code),
        json!({
            "idempotency_key": "psb-node-quality",
            "columns": ["citizen_id", "name", "sex", "birth_date", "marital_status"],
            "rows": [[newcomer, "居民新", sex_of(&newcomer), birth_of(&newcomer), "未婚"]],
        }),
    )
    .await
    .expect_status(201);
    let scores = resource_scores(&admin, &household.id).await;
    // Four rows read at 0.75 and one at 1.0.
    assert_eq!(scores["validity"].as_f64(), Some(0.8), "{scores}");
}
both_backends!(gov_1_quality_scores_the_whole_table_not_its_last_batch);

/// GOV-1, GOV-3: quality has a history per resource and per department: one point
/// a day, the day's last measurement replacing earlier ones, read over a range
/// by the department itself and by governors, not by another department.
async fn gov_1_gov_3_quality_history_keeps_a_point_a_day(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    let household = &resources["household"];
    let ids: Vec<String> = (0..3).map(|i| person(i * 17, 47)).collect();
    let mut file = household_csv(&ids, &["未婚", "已婚", "离婚"]);
    file.extend_from_slice("123,无名,男,1990-01-01,830102,某地,已婚\n".as_bytes());
    let load = upload(&psb, &household.code, "", file)
        .await
        .expect_status(201);
    let psb_org = load["org_id"].as_str().unwrap().to_string();
    let now = Utc::now();
    let two_days_ago = now - Duration::days(2);
    let record = |at| gongshu_services::governance::record_quality_day(&srv.app, None, at);
    assert!(
        record(two_days_ago).await.unwrap() >= 2,
        "a resource and its department"
    );
    record(now).await.unwrap();
    // The same day measured again after a clean replace: the later one stands.
    upload(
        &psb,
        &household.code,
        "",
        household_csv(&ids, &["未婚", "已婚", "离婚"]),
    )
    .await
    .expect_status(201);
    record(now).await.unwrap();

    let history = |who: &'static str, query: String| {
        let session = match who {
            "psb" => &psb,
            "civil" => &civil,
            _ => &admin,
        };
        async move {
            session
                .get(&format!("/api/v1/quality/history?{query}"))
                .await
        }
    };
    let of_resource = history("psb", format!("resource_id={}&days=7", household.id))
        .await
        .expect_status(200);
    let points = of_resource["points"].as_array().unwrap();
    let days: Vec<&str> = points.iter().map(|p| p["day"].as_str().unwrap()).collect();
    let (then, today) = (
        today_in_china(two_days_ago).to_string(),
        today_in_china(now).to_string(),
    );
    assert_eq!(days, [then.as_str(), today.as_str()], "{of_resource}");
    assert_eq!(points[0]["scores"]["validity"].as_f64(), Some(0.75));
    assert_eq!(points[0]["rows"], 3);
    assert_eq!(
        points[1]["scores"]["validity"].as_f64(),
        Some(1.0),
        "{of_resource}"
    );
    assert_eq!(points[1]["overall"].as_f64(), Some(1.0), "{of_resource}");
    // A range of one day holds today only.
    let recent = history("admin", format!("resource_id={}&days=1", household.id))
        .await
        .expect_status(200);
    assert_eq!(recent["points"].as_array().unwrap().len(), 1, "{recent}");
    assert_eq!(recent["since"], today.as_str());

    // The department's history, for the department and for governors.
    let of_department = history("admin", format!("org_id={psb_org}"))
        .await
        .expect_status(200);
    let points = of_department["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{of_department}");
    assert!(points.iter().all(|p| p["resources"].as_i64() >= Some(1)));
    history("psb", format!("org_id={psb_org}"))
        .await
        .expect_status(200);
    // Not for another department, its resources included.
    history("civil", format!("org_id={psb_org}"))
        .await
        .expect_error(403, "auth.denied");
    history("civil", format!("resource_id={}", household.id))
        .await
        .expect_error(403, "auth.denied");
    // Bad requests say what is wrong.
    history("admin", format!("org_id={psb_org}&days=0"))
        .await
        .expect_error(400, "quality.history_days");
    history(
        "admin",
        format!("org_id={psb_org}&resource_id={}", household.id),
    )
    .await
    .expect_error(400, "quality.history_subject");
    history("admin", "resource_id=no-such-resource".into())
        .await
        .expect_error(404, "not_found");

    // The console: linked from the quality page, a chart and a row per day.
    crate::data_pages::open(&admin, "/data/quality")
        .await
        .shows(&format!("/data/quality/history?resource={}", household.id));
    crate::data_pages::open(
        &psb,
        &format!("/data/quality/history?resource={}&days=7", household.id),
    )
    .await
    .shows("质量趋势")
    .shows("history-chart")
    .shows(&format!("id=\"history-{then}\""))
    .shows(&format!("id=\"history-{today}\""))
    .shows("75.0%");
}
both_backends!(gov_1_gov_3_quality_history_keeps_a_point_a_day);

/// DESIGN 2: the internal reads of `who`'s department's data of one `operation`,
/// newest first, from its access log.
async fn internal_reads(who: &Session, operation: &str) -> Vec<Value> {
    let log = who
        .get(&format!(
            "/api/v1/share/access?source_org_id={}",
            who.org_id
        ))
        .await
        .expect_status(200);
    log.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operation"] == operation)
        .cloned()
        .collect()
}

/// A file the gate records before sending: its bytes, its `X-Gongshu-Rows` and its
/// `Content-Disposition`, once its `X-Gongshu-Sm3` is checked against the bytes.
struct RecordedDownload {
    bytes: Vec<u8>,
    sm3: String,
    rows: String,
    disposition: String,
}

async fn recorded_download(who: &Session, path: &str) -> RecordedDownload {
    let sent = who
        .request(reqwest::Method::GET, path)
        .send()
        .await
        .expect("download");
    assert_eq!(sent.status().as_u16(), 200, "{path}");
    let header = |name: &str| sent.headers()[name].to_str().unwrap().to_string();
    let (sm3, rows, disposition) = (
        header("x-gongshu-sm3"),
        header("x-gongshu-rows"),
        header("content-disposition"),
    );
    let bytes = sent.bytes().await.unwrap().to_vec();
    let digest = {
        use sm3::Digest;
        hex::encode(sm3::Sm3::digest(&bytes))
    };
    assert_eq!(sm3, digest, "the SM3 of exactly the bytes sent: {path}");
    RecordedDownload {
        bytes,
        sm3,
        rows,
        disposition,
    }
}

/// COL-3, GOV-5, DESIGN 2: the rows a load rejected are data as delivered, so every
/// read of them — the API's page, the CSV and XLSX files and the console's load
/// page — goes through the egress gate and leaves an access record with the rows
/// and the hash of what was sent, anchored in the audit chain.
async fn gov_5_rejected_rows_are_read_through_the_gate_and_recorded(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let ids: Vec<String> = (0..2).map(|i| person(i * 19, 53)).collect();
    let mut file = household_csv(&ids, &["未婚", "已婚"]);
    file.extend_from_slice("123,无名,男,1990-01-01,830102,某地,已婚\n".as_bytes());
    let load = upload(&psb, &resources["household"].code, "", file)
        .await
        .expect_status(201);
    assert_eq!(load["rows_rejected"], 1);
    let load_id = load["id"].as_str().unwrap().to_string();
    let records = || internal_reads(&psb, "rejects");
    let anchored = || crate::upstream::audit_count(&srv, "dataset.rejects_read");
    assert!(records().await.is_empty());

    let page = psb
        .get(&format!("/api/v1/loads/{load_id}/rejects"))
        .await
        .expect_status(200);
    assert_eq!(page.as_array().unwrap().len(), 1);
    let recs = records().await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["purpose"], "rejects");
    assert_eq!(recs[0]["mode"], "internal");
    assert_eq!(recs[0]["row_count"], 1);
    assert_eq!(recs[0]["actor"], format!("user:{}", psb.user_id));
    assert_eq!(recs[0]["resource_id"], resources["household"].id.as_str());
    assert!(recs[0]["items"]
        .as_array()
        .unwrap()
        .contains(&json!("citizen_id")));
    assert_eq!(anchored().await, 1);

    // The files: the record keeps the SM3 of exactly the bytes sent.
    for (file, count) in [("rejects.csv", 2), ("rejects.xlsx", 3)] {
        let sent = recorded_download(&psb, &format!("/api/v1/loads/{load_id}/{file}")).await;
        assert_eq!(sent.rows, "1");
        if file.ends_with(".csv") {
            assert!(
                sent.bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
                "a UTF-8 BOM for Excel"
            );
        }
        let recs = records().await;
        assert_eq!(recs.len(), count, "{file}");
        assert_eq!(
            recs[0]["response_hash"],
            sent.sm3.as_str(),
            "newest first: {file}"
        );
    }

    // The console's load page lists them, and that read is recorded too.
    crate::data_pages::open(&psb, &format!("/data/loads/{load_id}"))
        .await
        .shows("无名");
    assert_eq!(records().await.len(), 4);
    assert_eq!(anchored().await, 4);

    // Another department reads nothing, and nothing is recorded.
    civil
        .get(&format!("/api/v1/loads/{load_id}/rejects"))
        .await
        .expect_error(403, "auth.denied");
    let refused = send(civil.request(
        reqwest::Method::GET,
        &format!("/api/v1/loads/{load_id}/rejects.csv"),
    ))
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(records().await.len(), 4);
}
both_backends!(gov_5_rejected_rows_are_read_through_the_gate_and_recorded);

/// COL-2, DESIGN 2: the delivering department downloads every current row of its
/// resource in each export format from the API and its console page; each
/// download is recorded with its rows and the SM3 of the file before it is sent.
async fn col_2_a_department_exports_its_current_rows_recorded_as_its_read(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let household = &resources["household"].code;
    let ids: Vec<String> = (0..3).map(|i| person(i * 23, 59)).collect();
    upload(
        &psb,
        household,
        "",
        household_csv(&ids, &["未婚", "已婚", "离婚"]),
    )
    .await
    .expect_status(201);
    let exports = || internal_reads(&psb, "export");
    let download = |format: &'static str| {
        let path = format!("/api/v1/datasets/{household}/export?format={format}");
        let psb = &psb;
        async move {
            let sent = recorded_download(psb, &path).await;
            assert_eq!(sent.rows, "3", "{format}");
            assert!(
                sent.disposition.contains(household.as_str()),
                "{}",
                sent.disposition
            );
            (sent.bytes, sent.sm3)
        }
    };
    let (csv, digest) = download("csv").await;
    let text = String::from_utf8(csv).unwrap();
    assert!(ids.iter().all(|id| text.contains(id.as_str())), "{text}");
    let recorded = exports().await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["row_count"], 3);
    assert_eq!(recorded[0]["response_hash"], digest.as_str());
    assert_eq!(recorded[0]["actor"], format!("user:{}", psb.user_id));
    let (ndjson, _) = download("ndjson").await;
    assert_eq!(String::from_utf8(ndjson).unwrap().lines().count(), 3);
    let (xlsx, _) = download("xlsx").await;
    assert!(xlsx.starts_with(b"PK"), "a zip container");
    let (parquet, _) = download("parquet").await;
    assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"));
    assert_eq!(exports().await.len(), 4);

    // What cannot be exported says why, and leaves no record.
    psb.get(&format!("/api/v1/datasets/{household}/export?format=pdf"))
        .await
        .expect_error(400, "dataset.bad_export_format");
    civil
        .get(&format!("/api/v1/datasets/{household}/export"))
        .await
        .expect_error(403, "auth.denied");
    civil
        .get(&format!(
            "/api/v1/datasets/{}/export",
            resources["marriage"].code
        ))
        .await
        .expect_error(409, "dataset.nothing_mounted");
    assert_eq!(exports().await.len(), 4);

    // The console's resource page links the four formats.
    crate::data_pages::open(&psb, &format!("/data/{household}"))
        .await
        .shows("export-parquet")
        .shows("export?format=xlsx");
}
both_backends!(col_2_a_department_exports_its_current_rows_recorded_as_its_read);
both_backends!(col_4_stale_resources_are_listed_with_days_overdue);

/// COL-1: a pull connector reads a department's PostgreSQL table into a new
/// version; its secret is never shown; a source failing mid-pull leaves the
/// previous version served. (Needs the local PostgreSQL as the department's system.)
async fn col_1_pull_connector_loads_a_department_table_and_survives_a_failing_source(
    srv: Arc<TestServer>,
) {
    let Some(url) = crate::common::pg_url() else {
        eprintln!("skipped: GONGSHU_TEST_DATABASE_URL is not set");
        return;
    };
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = &resources["household"].code;

    // The department's own system: a table in another database.
    let table = format!("psb_household_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&url).await.expect("source database");
    sqlx::query(&format!(
        "CREATE TABLE {table} (citizen_id TEXT, name TEXT, sex TEXT, birth_date DATE, marital_status TEXT)"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let ids: Vec<String> = (0..3).map(|i| person(i * 100, 51)).collect();
    for (i, id) in ids.iter().enumerate() {
        sqlx::query(&format!(
            "INSERT INTO {table} VALUES ($1, $2, $3, $4::date, '未婚')"
        ))
        .bind(id)
        .bind(format!("居民{i}"))
        .bind(sex_of(id))
        .bind(birth_of(id))
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query(&format!(
        "INSERT INTO {table} VALUES ('123456', '错号', '男', '1990-01-01', '未婚')"
    ))
    .execute(&pool)
    .await
    .unwrap();

    let parsed = reqwest::Url::parse(&url).unwrap();
    let source = |query: Value| {
        json!({
            "source": {
                "kind": "postgres",
                "host": parsed.host_str().unwrap(),
                "port": parsed.port().unwrap_or(5432),
                "database": parsed.path().trim_start_matches('/'),
                "user": parsed.username(),
                "query": query,
            },
            "secret": "示例口令-not-shown",
        })
    };
    let saved = psb
        .put(
            &format!("/api/v1/datasets/{household}/source"),
            source(json!({"table": table})),
        )
        .await
        .expect_status(200);
    assert!(saved.get("sealed_secret").is_none(), "{saved}");
    // Saved as parsed: a source without the setting is stored with TLS `prefer`.
    assert_eq!(saved["config"]["tls"], "prefer", "{saved}");
    let shown = psb
        .get(&format!("/api/v1/datasets/{household}/source"))
        .await;
    assert!(!shown.text.contains("示例口令"), "{}", shown.text);
    let columns = psb
        .post(
            &format!("/api/v1/datasets/{household}/source/test"),
            json!({}),
        )
        .await
        .expect_status(200);
    assert!(columns
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "citizen_id"));

    // COL-1: with `verify_full` the server's certificate must come from a trusted
    // authority for the host name given: the local server's self-signed one
    // (or no TLS at all) is refused.
    let mut strict = source(json!({"table": table}));
    strict["source"]["tls"] = json!("verify_full");
    psb.put(&format!("/api/v1/datasets/{household}/source"), strict)
        .await
        .expect_status(200);
    psb.post(
        &format!("/api/v1/datasets/{household}/source/test"),
        json!({}),
    )
    .await
    .expect_error(400, "connector.tls_failed");
    let mut unknown = source(json!({"table": table}));
    unknown["source"]["tls"] = json!("sometimes");
    psb.put(&format!("/api/v1/datasets/{household}/source"), unknown)
        .await
        .expect_error(400, "connector.source_invalid");
    psb.put(
        &format!("/api/v1/datasets/{household}/source"),
        source(json!({"table": table})),
    )
    .await
    .expect_status(200);

    let load = psb
        .post(&format!("/api/v1/datasets/{household}/pull"), json!({}))
        .await
        .expect_status(201);
    assert_eq!(load["channel"], "pull");
    assert_eq!(load["rows_accepted"], 3);
    assert_eq!(load["rows_rejected"], 1);

    // The source breaks after two rows: nothing of the pull is applied.
    psb.put(&format!("/api/v1/datasets/{household}/source"), source(json!({"select": format!(
            "SELECT citizen_id, CASE WHEN 1 / (3 - ROW_NUMBER() OVER (ORDER BY citizen_id)) IS NULL THEN NULL ELSE name END AS name, sex, birth_date, marital_status FROM {table}"
        )})))
    .await
    .expect_status(200);
    let failed = psb
        .post(&format!("/api/v1/datasets/{household}/pull"), json!({}))
        .await
        .expect_status(422);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error_code"], "connector.source_failed_mid_pull");
    let rows = psb
        .get(&format!("/api/v1/datasets/{household}/rows"))
        .await
        .expect_status(200);
    assert_eq!(rows["rows"].as_array().map(Vec::len), Some(3));
    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&pool)
        .await
        .unwrap();
}
both_backends!(col_1_pull_connector_loads_a_department_table_and_survives_a_failing_source);

/// COL-1: a node that stops while it loads a resumable upload loses nothing: once
/// it starts again the upload is back, and its sender completes it.
async fn col_1_a_resumable_upload_cut_off_mid_load_completes_after_a_restart(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = &resources["household"].code;
    let ids: Vec<String> = (0..3).map(|i| person(i * 71, 67)).collect();
    let file = household_csv(&ids, &["未婚", "已婚", "离婚"]);
    let started = psb
        .post(
            &format!("/api/v1/datasets/{household}/uploads"),
            json!({"file_name": "household.csv", "size": file.len()}),
        )
        .await
        .expect_status(201);
    let id = started["id"].as_str().unwrap().to_string();
    send(
        psb.request(
            reqwest::Method::PUT,
            &format!("/api/v1/uploads/{id}?offset=0"),
        )
        .body(file.clone()),
    )
    .await
    .expect_status(200);
    // `complete` claimed it, and the process stopped during the load.
    let spool = srv.data_dir().join("spool");
    let description = spool.join("resumable").join(format!("{id}.json"));
    std::fs::rename(&description, description.with_extension("loading")).unwrap();
    psb.post(&format!("/api/v1/uploads/{id}/complete"), json!({}))
        .await
        .expect_error(404, "upload.not_found");

    // What the node does when it starts again, before it serves.
    let done = gongshu_server::spool::recover(&spool, std::time::SystemTime::now()).unwrap();
    assert_eq!(done.restored_claims, 1, "{done:?}");
    let state = psb
        .get(&format!("/api/v1/uploads/{id}"))
        .await
        .expect_status(200);
    assert_eq!(state["received"], file.len());
    let load = psb
        .post(&format!("/api/v1/uploads/{id}/complete"), json!({}))
        .await
        .expect_status(201);
    assert_eq!(load["rows_accepted"], 3);
}
both_backends!(col_1_a_resumable_upload_cut_off_mid_load_completes_after_a_restart);

/// COL-1: a resumable upload arrives in chunks; a chunk at the wrong offset is
/// refused with the offset to resume from; only its starter may add to it.
async fn col_1_resumable_upload_continues_where_it_stopped(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let household = &resources["household"].code;
    let ids: Vec<String> = (0..5).map(|i| person(i * 77, 61)).collect();
    let file = household_csv(&ids, &["未婚", "已婚", "离婚", "丧偶", "已婚"]);
    civil
        .post(
            &format!("/api/v1/datasets/{household}/uploads"),
            json!({"file_name": "household.csv"}),
        )
        .await
        .expect_error(403, "auth.denied");
    let sm3 = |bytes: &[u8]| hex::encode(<sm3::Sm3 as sm3::Digest>::digest(bytes));
    let started = psb
        .post(
            &format!("/api/v1/datasets/{household}/uploads"),
            json!({"file_name": "household.csv", "size": file.len(), "sm3": sm3(&file)}),
        )
        .await
        .expect_status(201);
    let id = started["id"].as_str().unwrap().to_string();
    let put = |who: &Session, offset: usize, bytes: Vec<u8>| {
        send(
            who.request(
                reqwest::Method::PUT,
                &format!("/api/v1/uploads/{id}?offset={offset}"),
            )
            .body(bytes),
        )
    };
    let half = file.len() / 2;
    let first = put(&psb, 0, file[..half].to_vec()).await.expect_status(200);
    assert_eq!(first["received"], half);
    // A retried chunk from a stale offset is refused; the client resumes.
    put(&psb, 0, file[..half].to_vec())
        .await
        .expect_error(409, "upload.offset_mismatch");
    put(&civil, half, file[half..].to_vec())
        .await
        .expect_error(404, "upload.not_found");
    let state = psb
        .get(&format!("/api/v1/uploads/{id}"))
        .await
        .expect_status(200);
    assert_eq!(state["received"], half);
    // Completing before every declared byte arrived is refused; nothing is lost.
    psb.post(&format!("/api/v1/uploads/{id}/complete"), json!({}))
        .await
        .expect_error(409, "upload.incomplete");
    // Nor does more than the declared size go in.
    let mut too_much = file[half..].to_vec();
    too_much.extend_from_slice(b"extra\n");
    put(&psb, half, too_much)
        .await
        .expect_error(409, "upload.past_declared_size");
    put(&psb, half, file[half..].to_vec())
        .await
        .expect_status(200);
    let load = psb
        .post(&format!("/api/v1/uploads/{id}/complete"), json!({}))
        .await
        .expect_status(201);
    assert_eq!(load["rows_accepted"], 5);
    assert_eq!(load["checksum"], sm3(&file).as_str());
    psb.get(&format!("/api/v1/uploads/{id}"))
        .await
        .expect_error(404, "upload.not_found");

    // A file damaged on the way does not hash to what its sender declared: its load
    // fails and the version before stays served.
    let declared = sm3(&file);
    let mut damaged = file.clone();
    let last = damaged.len() - 2;
    damaged[last] = b'X';
    let started = psb
        .post(
            &format!("/api/v1/datasets/{household}/uploads"),
            json!({"file_name": "household.csv", "sm3": declared}),
        )
        .await
        .expect_status(201);
    let id = started["id"].as_str().unwrap().to_string();
    send(
        psb.request(
            reqwest::Method::PUT,
            &format!("/api/v1/uploads/{id}?offset=0"),
        )
        .body(damaged.clone()),
    )
    .await
    .expect_status(200);
    let failed = psb
        .post(&format!("/api/v1/uploads/{id}/complete"), json!({}))
        .await
        .expect_status(422);
    assert_eq!(
        failed["error_code"], "dataset.checksum_mismatch",
        "{failed}"
    );
    let dataset = psb
        .get(&format!("/api/v1/datasets/{household}"))
        .await
        .expect_status(200);
    assert_eq!(dataset["dataset"]["current_load_id"], load["id"]);
    // The same check on a plain upload, and a checksum that is not one.
    upload(&psb, household, &format!("sm3={declared}"), damaged)
        .await
        .expect_status(422);
    upload(&psb, household, &format!("sm3={declared}"), file.clone())
        .await
        .expect_status(201);
    upload(&psb, household, "sm3=abc", file)
        .await
        .expect_error(400, "dataset.sm3_invalid");
}
both_backends!(col_1_resumable_upload_continues_where_it_stopped);

/// COL-2: a load interrupted by a stopped node (still `running` hours later) is
/// marked interrupted and its half-written table dropped; the current version
/// stays served.
async fn col_2_interrupted_load_is_swept_and_the_current_version_stays(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = &resources["household"];
    let ids: Vec<String> = (0..2).map(|i| person(i * 33, 71)).collect();
    let applied = upload(
        &psb,
        &household.code,
        "",
        household_csv(&ids, &["未婚", "已婚"]),
    )
    .await
    .expect_status(201);

    // What a node that stopped mid-load leaves behind: a running load and its table.
    let plane = srv.app.store.data_plane();
    let dataset = plane.get_dataset(&household.id).await.unwrap().unwrap();
    let mut orphan: gongshu_store::DatasetLoad =
        serde_json::from_value(applied.clone()).expect("a load");
    orphan.id = uuid::Uuid::now_v7().to_string();
    orphan.version = dataset.version + 1;
    orphan.status = "running".into();
    orphan.table_name = format!("{}_orphan", dataset.current_table.clone().unwrap());
    orphan.started_at = Utc::now() - Duration::hours(13);
    orphan.finished_at = None;
    plane
        .create_table(&orphan.table_name, &dataset.schema, false)
        .await
        .unwrap();
    srv.app
        .store
        .commit(vec![Change::PutLoad(orphan.clone())], vec![])
        .await
        .unwrap();

    let swept = gongshu_services::datasets::sweep_interrupted(&srv.app, Utc::now())
        .await
        .unwrap();
    assert_eq!(swept, 1);
    let load = psb
        .get(&format!("/api/v1/loads/{}", orphan.id))
        .await
        .expect_status(200);
    assert_eq!(load["status"], "interrupted");
    assert_eq!(load["error_code"], "dataset.interrupted");
    assert!(
        plane.count_rows(&orphan.table_name).await.is_err(),
        "dropped"
    );
    let rows = psb
        .get(&format!("/api/v1/datasets/{}/rows", household.code))
        .await
        .expect_status(200);
    assert_eq!(rows["rows"].as_array().map(Vec::len), Some(2));
}
both_backends!(col_2_interrupted_load_is_swept_and_the_current_version_stays);

fn marriage_csv(ids: &[String], marital: &[&str]) -> Vec<u8> {
    let mut s = String::from("公民身份号码,姓名,婚姻状况\n");
    for (i, id) in ids.iter().enumerate() {
        s.push_str(&format!("{id},居民{i},{}\n", marital[i]));
    }
    s.into_bytes()
}

/// A seeded demo where 公安局's household records and 民政局's marriage records of
/// the same two people each carry the marital status its department holds, and
/// the population base built from them.
struct TwoSources {
    resources: HashMap<&'static str, CatalogEntry>,
    psb: Session,
    civil: Session,
    admin: Session,
    ids: Vec<String>,
    /// The build's report.
    built: Value,
}

async fn population_from_two_sources(
    srv: &TestServer,
    sequence: u16,
    household_marital: [&str; 2],
    marriage_marital: [&str; 2],
) -> TwoSources {
    let ids: Vec<String> = (0..2).map(|i| person(i * 57, sequence)).collect();
    population_of(srv, ids, &household_marital, &marriage_marital).await
}

/// [`population_from_two_sources`] for any people, in `ids` order.
async fn population_of(
    srv: &TestServer,
    ids: Vec<String>,
    household_marital: &[&str],
    marriage_marital: &[&str],
) -> TwoSources {
    let demo = srv.seed_demo().await;
    let resources = data_resources(srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    upload(
        &psb,
        &resources["household"].code,
        "",
        household_csv(&ids, household_marital),
    )
    .await
    .expect_status(201);
    upload(
        &civil,
        &resources["marriage"].code,
        "",
        marriage_csv(&ids, marriage_marital),
    )
    .await
    .expect_status(201);
    let built = admin
        .post("/api/v1/bases/population/build", json!({}))
        .await
        .expect_status(200);
    TwoSources {
        resources,
        psb,
        civil,
        admin,
        ids,
        built,
    }
}

/// Runs the jobs due, as the worker would; returns how many were cross-checks.
async fn run_cross_checks(srv: &TestServer) -> usize {
    let mut ran = 0;
    while let Some(job) = srv.app.store.claim_job("test", Utc::now()).await.unwrap() {
        let error = gongshu_services::jobs::run_job(&srv.app, &job).await;
        srv.app
            .store
            .finish_job(job.id, error.as_deref(), Utc::now())
            .await
            .unwrap();
        if job.kind == gongshu_services::jobs::CROSS_CHECK {
            ran += 1;
        }
    }
    ran
}

/// GOV-2: a difference the source department confirmed (its value stands) is not
/// raised again by later cross-checks while both values stay as answered; a new
/// value is a new difference.
async fn gov_2_a_confirmed_difference_is_not_raised_again(srv: Arc<TestServer>) {
    let TwoSources {
        resources,
        psb,
        civil,
        ids,
        built,
        ..
    } = population_from_two_sources(&srv, 83, ["已婚", "已婚"], ["已婚", "离婚"]).await;
    assert_eq!(built["discrepancies_found"], 1);
    let open = civil
        .get("/api/v1/discrepancies?status=open")
        .await
        .expect_status(200);
    let id = open["items"][0]["id"]
        .as_i64()
        .expect("the open discrepancy");
    civil
        .post(
            &format!("/api/v1/discrepancies/{id}/resolve"),
            json!({"outcome": "confirmed", "note": "经核对婚姻登记档案，离婚登记属实"}),
        )
        .await
        .expect_status(200);

    // 公安局 loads the same records again: the answered difference stays answered.
    upload(
        &psb,
        &resources["household"].code,
        "",
        household_csv(&ids, &["已婚", "已婚"]),
    )
    .await
    .expect_status(201);
    assert_eq!(run_cross_checks(&srv).await, 1);
    let open_total = |v: Value| v["total"].as_i64().unwrap_or(-1);
    let reopened = civil.get("/api/v1/discrepancies?status=open").await;
    assert_eq!(open_total(reopened.expect_status(200)), 0);

    // A value nobody answered for is a new difference.
    upload(
        &psb,
        &resources["household"].code,
        "",
        household_csv(&ids, &["已婚", "丧偶"]),
    )
    .await
    .expect_status(201);
    assert_eq!(run_cross_checks(&srv).await, 1);
    let fresh = civil
        .get("/api/v1/discrepancies?status=open")
        .await
        .expect_status(200);
    assert_eq!(open_total(fresh.clone()), 1, "{fresh}");
    assert_eq!(fresh["items"][0]["subject_key"], ids[1].as_str());
}
both_backends!(gov_2_a_confirmed_difference_is_not_raised_again);

/// GOV-2: confirmed differences do not hold back the rest. With more of them than
/// one cross-check lists (5,000), all sorting before a new difference, the new one
/// is still raised, and it still closes by itself once the data agrees again.
async fn gov_2_confirmed_differences_past_the_list_cap_hide_nothing(srv: Arc<TestServer>) {
    const CONFIRMED: usize = 5_001;
    // In birth-date order, so in the order of the citizen IDs.
    let ids: Vec<String> = (0..=CONFIRMED as i64).map(|day| person(day, 97)).collect();
    let mut household = vec!["已婚"; ids.len()];
    let mut marriage = vec!["离婚"; CONFIRMED];
    marriage.push("已婚");
    let TwoSources {
        resources,
        psb,
        civil,
        built,
        ..
    } = population_of(&srv, ids.clone(), &household, &marriage).await;
    assert_eq!(
        built["discrepancies_found"], 5_000,
        "one cross-check lists 5,000"
    );
    let confirm_all_open = || async {
        let open = srv
            .app
            .store
            .data_plane()
            .list_discrepancies(&gongshu_store::DiscrepancyFilter {
                status: Some("open".into()),
                limit: Some(10_000),
                ..Default::default()
            })
            .await
            .unwrap();
        let changes = open
            .into_iter()
            .map(|mut d| {
                d.status = "confirmed".into();
                d.resolution = Some("婚姻登记档案属实".into());
                d.resolved_by = Some("civil.admin".into());
                d.resolved_at = Some(Utc::now());
                Change::UpdateDiscrepancy(d)
            })
            .collect::<Vec<_>>();
        let confirmed = changes.len();
        srv.app.store.commit(changes, vec![]).await.unwrap();
        confirmed
    };
    assert_eq!(confirm_all_open().await, 5_000);
    // The next cross-check reaches the one past the first list.
    upload(
        &civil,
        &resources["marriage"].code,
        "",
        marriage_csv(&ids, &marriage),
    )
    .await
    .expect_status(201);
    assert_eq!(run_cross_checks(&srv).await, 1);
    assert_eq!(confirm_all_open().await, 1, "the 5,001st difference");
    let open_total = || async {
        let open = civil.get("/api/v1/discrepancies?status=open").await;
        open.expect_status(200)["total"].as_i64().unwrap_or(-1)
    };
    assert_eq!(open_total().await, 0);

    // 公安局's copy of the last person changes: a new difference behind 5,001 confirmed ones.
    let last = ids.len() - 1;
    household[last] = "丧偶";
    upload(
        &psb,
        &resources["household"].code,
        "",
        household_csv(&ids, &household),
    )
    .await
    .expect_status(201);
    assert_eq!(run_cross_checks(&srv).await, 1);
    let fresh = civil
        .get("/api/v1/discrepancies?status=open")
        .await
        .expect_status(200);
    assert_eq!(fresh["total"], 1, "{fresh}");
    assert_eq!(fresh["items"][0]["subject_key"], ids[last].as_str());
    assert_eq!(fresh["items"][0]["other_value"], "丧偶");

    // The copy agrees again: the open difference closes, the confirmed ones stay.
    household[last] = "已婚";
    upload(
        &psb,
        &resources["household"].code,
        "",
        household_csv(&ids, &household),
    )
    .await
    .expect_status(201);
    assert_eq!(run_cross_checks(&srv).await, 1);
    assert_eq!(open_total().await, 0);
    let agreed = civil
        .get("/api/v1/discrepancies?status=agreed")
        .await
        .expect_status(200);
    assert_eq!(agreed["total"], 1, "{agreed}");
}
both_backends!(gov_2_confirmed_differences_past_the_list_cap_hide_nothing);

/// COL-8, COL-9, GOV-2: purchased social data feeds the legal-entity base and its
/// cross-check only while an agreement over it is in force, as the gate serves it
/// to no one otherwise: of two purchased copies disagreeing with the source
/// department, only the one in force raises a discrepancy or shows in a record.
async fn col_8_social_data_feeds_the_bases_only_within_its_agreement(srv: Arc<TestServer>) {
    use gongshu_domain::catalog::{DataItem, FieldType, ItemConstraints, KeyRole};
    use gongshu_domain::ids::CreditCode;
    use gongshu_domain::social_data::SocialDataKind;
    use gongshu_services::demo_social::{poi_content, seed_social_entry, SocialPurchase};

    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let market = srv.login_demo(&demo, "market.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    let division = DivisionCode::parse("830102").unwrap();
    let codes: Vec<String> = (0..2)
        .map(|i| {
            let code = CreditCode::synthesize('9', '1', &division, 7_100 + i).unwrap();
            code.as_str().to_string()
        })
        .collect();
    let entities = format!(
        "统一社会信用代码,单位名称,法定代表人,注册资本（万元）,成立日期,登记机关行政区划\n\
         {},云川示范科技有限公司,王强,100,2015-03-01,830102\n\
         {},云川示范商贸有限公司,李娜,50,2018-07-09,830102\n",
        codes[0], codes[1]
    );
    upload(
        &market,
        &resources["entities"].code,
        "",
        entities.into_bytes(),
    )
    .await
    .expect_status(201);

    // The authority buys enterprise data twice: one purchase in force, one from next month.
    let ids = gongshu_services::demo::demo_org_ids(&srv.app)
        .await
        .unwrap();
    let authority = ids["authority"].clone();
    let today = today_in_china(Utc::now());
    let item = |name: &str, code_name: &str, role, element: Option<&str>| DataItem {
        name: name.into(),
        code_name: code_name.into(),
        field_type: FieldType::String,
        length: None,
        meaning: String::new(),
        sensitive: false,
        key_role: role,
        element_code: element.map(str::to_string),
        constraints: ItemConstraints {
            required: true,
            ..Default::default()
        },
    };
    let mut bought = Vec::new();
    for (label, term) in [
        (
            "在期",
            (today - Duration::days(10), today + Duration::days(355)),
        ),
        (
            "未生效",
            (today + Duration::days(30), today + Duration::days(395)),
        ),
    ] {
        let mut content = poi_content(&authority);
        content.name = format!("企业登记信息（统一采购，{label}，演示数据）");
        content.items = vec![
            item("统一社会信用代码", "credit_code", KeyRole::CreditCode, None),
            item("单位名称", "entity_name", KeyRole::None, Some("DE0201")),
        ];
        let csv = format!(
            "统一社会信用代码,单位名称\n{},云川示范科技股份公司\n{},云川示范商贸有限公司\n",
            codes[0], codes[1]
        );
        let purchase = SocialPurchase {
            kind: SocialDataKind::Other,
            name: format!("企业登记信息采购（{label}）"),
            supplier: "示范企业信息服务有限公司（虚构）".into(),
            contract_ref: format!("云数采〔2026〕企{label}号"),
            scope: "全市企业登记信息，限政务部门履职使用".into(),
            term,
        };
        let seeded = seed_social_entry(&srv.app, &Ctx::cli(), &authority, content, &csv, purchase)
            .await
            .expect("the purchase");
        bought.push(seeded.entry);
    }

    let built = admin
        .post("/api/v1/bases/legal_entity/build", json!({}))
        .await
        .expect_status(200);
    assert_eq!(built["discrepancies_found"], 1, "{built}");
    let open = market
        .get("/api/v1/discrepancies?status=open")
        .await
        .expect_status(200);
    assert_eq!(open["total"], 1, "{open}");
    assert_eq!(open["items"][0]["other_resource_id"], bought[0].id.as_str());
    assert_eq!(open["items"][0]["subject_key"], codes[0].as_str());

    let record = admin
        .get(&format!("/api/v1/bases/legal_entity/subjects/{}", codes[0]))
        .await
        .expect_status(200);
    let holders: Vec<&str> = record["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["others"].as_array().unwrap())
        .map(|o| o["resource_id"].as_str().unwrap())
        .collect();
    assert!(holders.contains(&bought[0].id.as_str()), "{record}");
    assert!(!holders.contains(&bought[1].id.as_str()), "{record}");
}
both_backends!(col_8_social_data_feeds_the_bases_only_within_its_agreement);

/// COL-9: the base says when the data changed under it: a department's data mounted
/// after the build is listed as what a rebuild would take in, on the API and the
/// page, until the operator rebuilds.
async fn col_9_a_base_lists_what_a_rebuild_would_take_in(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    let ids: Vec<String> = (0..2).map(|i| person(i * 61, 91)).collect();
    upload(
        &psb,
        &resources["household"].code,
        "",
        household_csv(&ids, &["已婚", "未婚"]),
    )
    .await
    .expect_status(201);
    admin
        .post("/api/v1/bases/population/build", json!({}))
        .await
        .expect_status(200);
    let status = admin
        .get("/api/v1/bases/population")
        .await
        .expect_status(200);
    assert_eq!(status["pending"], json!([]), "{status}");
    assert!(!status["attributes"].as_array().unwrap().is_empty());

    // 民政局 mounts its marriage records: the marital status's source arrives.
    upload(
        &civil,
        &resources["marriage"].code,
        "",
        marriage_csv(&ids, &["已婚", "未婚"]),
    )
    .await
    .expect_status(201);
    let status = admin
        .get("/api/v1/bases/population")
        .await
        .expect_status(200);
    let marriage = resources["marriage"].id.as_str();
    assert!(
        status["pending"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["resource_id"] == marriage && a["source_org_id"] == civil.org_id.as_str()),
        "{status}"
    );
    crate::data_pages::open(&admin, "/data/bases")
        .await
        .shows("rebuild-due-population")
        .shows("重建后生效");
    psb.get("/api/v1/bases/population")
        .await
        .expect_error(403, "auth.denied");

    admin
        .post("/api/v1/bases/population/build", json!({}))
        .await
        .expect_status(200);
    let status = admin
        .get("/api/v1/bases/population")
        .await
        .expect_status(200);
    assert_eq!(status["pending"], json!([]), "{status}");
    crate::data_pages::open(&admin, "/data/bases")
        .await
        .lacks("rebuild-due-population");
}
both_backends!(col_9_a_base_lists_what_a_rebuild_would_take_in);

/// COL-9: a subject's record names the load that delivered each attribute, however
/// many loads (small pushed batches, here) came to the resource after it.
async fn col_9_a_subject_record_names_its_load_after_many_later_batches(srv: Arc<TestServer>) {
    let TwoSources {
        resources,
        psb,
        admin,
        ids,
        ..
    } = population_from_two_sources(&srv, 87, ["已婚", "已婚"], ["已婚", "已婚"]).await;
    let household = &resources["household"].code;
    let loads = psb
        .get(&format!("/api/v1/datasets/{household}/loads"))
        .await
        .expect_status(200);
    let first_load = loads[0]["id"].as_str().unwrap().to_string();
    let other = person(400, 89);
    for n in 0..55 {
        psb.post(
            &format!("/api/v1/datasets/{household}/push"),
            json!({
                "idempotency_key": format!("psb-node-{n}"),
                "columns": ["citizen_id", "name", "sex", "birth_date", "marital_status"],
                "rows": [[other, format!("居民{n}"), sex_of(&other), birth_of(&other), "未婚"]],
            }),
        )
        .await
        .expect_status(201);
    }
    let record = admin
        .get(&format!("/api/v1/bases/population/subjects/{}", ids[0]))
        .await
        .expect_status(200);
    let marital = record["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["label"] == "婚姻状况")
        .unwrap()
        .clone();
    let from_household = &marital["others"][0];
    assert_eq!(from_household["org_id"], psb.org_id.as_str(), "{marital}");
    assert_eq!(from_household["load_id"], first_load.as_str(), "{marital}");
}
both_backends!(col_9_a_subject_record_names_its_load_after_many_later_batches);

/// GOV-2: after the base is built, each new load queues a cross-check job; when
/// the source corrects its data, the job closes the discrepancy as agreed.
async fn gov_2_correcting_load_closes_the_discrepancy_through_the_job(srv: Arc<TestServer>) {
    let TwoSources {
        resources,
        civil,
        ids,
        built,
        ..
    } = population_from_two_sources(&srv, 81, ["已婚", "已婚"], ["已婚", "离婚"]).await;
    assert_eq!(built["discrepancies_found"], 1);

    // 民政局 finds 公安局 right after all and corrects its record.
    upload(
        &civil,
        &resources["marriage"].code,
        "",
        marriage_csv(&ids, &["已婚", "已婚"]),
    )
    .await
    .expect_status(201);
    let still = civil
        .get("/api/v1/discrepancies?status=open")
        .await
        .expect_status(200);
    assert_eq!(
        still["total"], 1,
        "the load does not wait for the comparison"
    );
    assert_eq!(run_cross_checks(&srv).await, 1, "one cross-check per load");
    let agreed = civil
        .get("/api/v1/discrepancies?status=agreed")
        .await
        .expect_status(200);
    assert_eq!(agreed["total"], 1, "{agreed}");
}
both_backends!(gov_2_correcting_load_closes_the_discrepancy_through_the_job);

/// GOV-2: a load readies for the cross-check exactly the columns it will compare:
/// base attributes held by two departments, whichever side is the source; a column
/// only one department holds (户籍住址 here) is left alone.
async fn gov_2_a_load_prepares_exactly_the_columns_the_cross_check_compares(srv: Arc<TestServer>) {
    let TwoSources { resources, .. } =
        population_from_two_sources(&srv, 83, ["已婚", "未婚"], ["已婚", "未婚"]).await;

    let plane = srv.app.store.data_plane();
    let mut compared = HashMap::new();
    for name in ["household", "marriage"] {
        let dataset = plane
            .get_dataset(&resources[name].id)
            .await
            .unwrap()
            .unwrap();
        let mut columns = gongshu_services::governance::compared_columns(
            &srv.app,
            &dataset.org_id,
            &dataset.resource_id,
            &dataset.schema,
        )
        .await
        .unwrap();
        columns.sort();
        compared.insert(name, columns);
    }
    let pairs = |columns: &[&str]| -> Vec<(String, String)> {
        columns
            .iter()
            .map(|c| ("citizen_id".to_string(), c.to_string()))
            .collect()
    };
    // 公安局 is the source of 姓名 and 民政局 of 婚姻状况; each holds the other's.
    assert_eq!(compared["household"], pairs(&["marital_status", "name"]));
    assert_eq!(compared["marriage"], pairs(&["marital_status", "name"]));
}
both_backends!(gov_2_a_load_prepares_exactly_the_columns_the_cross_check_compares);

/// 公安局's new resource (citizen ID and name), published, not yet secrecy-reviewed.
pub(crate) async fn unreviewed_resource(
    srv: &TestServer,
    resources: &HashMap<&'static str, CatalogEntry>,
) -> CatalogEntry {
    let template = &resources["household"];
    let mut content = template.published.clone().unwrap();
    content.name = "暂住人员登记".into();
    content
        .items
        .retain(|i| ["citizen_id", "name"].contains(&i.code_name.as_str()));
    gongshu_services::demo_catalog::publish_for_demo(
        &srv.app,
        &Ctx::cli(),
        &template.owner_org_id,
        content,
    )
    .await
    .expect("published")
}

/// COL-1, GOV-3: a pull that cannot even start a load (here, the department has
/// not yet done its secrecy review) is not lost in the server log: the source
/// shows when it was tried and why it failed, and the audit log has it.
async fn col_1_a_pull_refused_before_loading_is_shown_on_its_source(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let entry = unreviewed_resource(&srv, &resources).await;
    let path = format!("/api/v1/datasets/{}/source", entry.code);
    psb.put(
        &path,
        json!({"source": {"kind": "http_json", "url": "http://127.0.0.1:9/temporary"}}),
    )
    .await
    .expect_status(200);
    let refused = psb
        .post(&format!("/api/v1/datasets/{}/pull", entry.code), json!({}))
        .await
        .expect_status(409);
    let code = refused["code"].as_str().unwrap_or_default().to_string();
    assert!(code.starts_with("dataset.secrecy"), "{refused}");
    let source = psb.get(&path).await.expect_status(200);
    assert_eq!(source["last_status"], "failed", "{source}");
    assert!(source["last_pull_at"].is_string(), "{source}");
    assert!(
        source["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("保密审查")),
        "{source}"
    );
    assert_eq!(
        crate::upstream::audit_count(&srv, "dataset.pull_refused").await,
        1
    );
}
both_backends!(col_1_a_pull_refused_before_loading_is_shown_on_its_source);

/// COL-6 (CZ 33): data reaches the platform only after the providing department's
/// own secrecy review cleared every data item; another department cannot clear
/// it; a review that finds state secrets, or an item added after the review,
/// stops loads again; each review is audited with its reviewer.
async fn col_6_data_is_aggregated_only_after_the_providers_secrecy_review(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let auditor = srv.login_demo(&demo, "auditor").await;
    let entry = unreviewed_resource(&srv, &resources).await;
    let code = &entry.code;
    let review_path = format!("/api/v1/datasets/{code}/secrecy-review");
    let id = person(40, 31);
    let csv = || format!("公民身份号码,姓名\n{id},王五\n").into_bytes();

    let refused = upload(&psb, code, "", csv()).await;
    refused.expect_error(409, "dataset.secrecy_review_required");

    // Whoever provides is responsible: another department cannot clear it.
    civil
        .post(&review_path, json!({"conclusion": "cleared"}))
        .await
        .expect_error(403, "auth.denied");
    psb.post(&review_path, json!({"conclusion": "maybe"}))
        .await
        .expect_error(400, "dataset.secrecy_conclusion_invalid");

    let secret = psb
        .post(
            &review_path,
            json!({"conclusion": "state_secret", "note": "含涉密人员名单"}),
        )
        .await
        .expect_status(200);
    assert_eq!(secret["secrecy_review"]["conclusion"], "state_secret");
    assert_eq!(
        secret["secrecy_review"]["items"],
        json!(["citizen_id", "name"])
    );
    upload(&psb, code, "", csv())
        .await
        .expect_error(409, "dataset.secrecy_state_secret");

    let cleared = psb
        .post(
            &review_path,
            json!({"conclusion": "cleared", "note": "已删除涉密字段，不涉及国家秘密"}),
        )
        .await
        .expect_status(200);
    assert_eq!(
        cleared["secrecy_review"]["reviewed_by"],
        secret["secrecy_review"]["reviewed_by"]
    );
    let applied = upload(&psb, code, "", csv()).await.expect_status(201);
    assert_eq!(applied["status"], "applied");

    // The entry gains an item the review never saw: loads stop until it is reviewed.
    let mut changed = srv
        .app
        .store
        .get_catalog_entry(&entry.id)
        .await
        .unwrap()
        .unwrap();
    let expected = changed.updated_at;
    let published = changed.published.as_mut().unwrap();
    let mut phone = published.items[1].clone();
    phone.name = "联系电话".into();
    phone.code_name = "phone".into();
    phone.element_code = None;
    phone.constraints = Default::default();
    published.items.push(phone);
    changed.updated_at = Utc::now();
    srv.app
        .store
        .commit(
            vec![Change::UpdateCatalogEntry {
                entry: changed,
                expected_updated_at: expected,
            }],
            vec![],
        )
        .await
        .unwrap();
    let outdated = upload(&psb, code, "", csv()).await;
    let outdated = outdated.expect_error(409, "dataset.secrecy_review_outdated");
    assert!(
        outdated["message"].as_str().unwrap().contains("phone"),
        "{outdated}"
    );
    psb.post(&review_path, json!({"conclusion": "cleared"}))
        .await
        .expect_status(200);
    upload(&psb, code, "", csv()).await.expect_status(201);

    let trail = auditor
        .get(&format!(
            "/api/v1/audit?action=dataset.secrecy_review&object_id={}",
            entry.id
        ))
        .await
        .expect_status(200);
    let records: Vec<(String, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let after: Value = serde_json::from_str(r["after"].as_str().unwrap()).unwrap();
            assert_eq!(
                after["reviewed_by"], r["actor"],
                "the record names its reviewer"
            );
            (
                r["actor"].as_str().unwrap().to_string(),
                after["conclusion"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reviewer = format!("user:{}", psb.user_id);
    let expected: Vec<(String, String)> = ["cleared", "cleared", "state_secret"]
        .iter()
        .map(|c| (reviewer.clone(), c.to_string()))
        .collect();
    assert_eq!(records, expected, "newest first");
}
both_backends!(col_6_data_is_aggregated_only_after_the_providers_secrecy_review);
