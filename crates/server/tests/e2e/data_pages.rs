//! The console pages of the data plane (COL-1 … COL-4, COL-9, GOV-1 … GOV-3): a
//! department uploads through the page's multipart form and reads its load, its
//! rejected rows and quality; governors build a base, look a subject up and the
//! source department settles a discrepancy — all by what the pages show.
use std::sync::Arc;

use crate::common::{Session, TestServer};
use crate::data::{data_resources, person};

fn household_csv(ids: &[String], marital: &[&str]) -> String {
    String::from_utf8(crate::data::household_csv(ids, marital)).expect("UTF-8")
}

/// The same ID with a wrong check digit.
fn broken(id: &str) -> String {
    let mut b = id.to_string();
    b.replace_range(17..18, if id.ends_with('1') { "2" } else { "1" });
    b
}

/// A page as the browser gets it: status, final path (after redirects) and HTML.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) path: String,
    pub(crate) text: String,
}

impl Page {
    #[track_caller]
    pub(crate) fn shows(&self, what: &str) -> &Self {
        assert!(
            self.text.contains(what),
            "{} should show {what:?}; page:\n{}",
            self.path,
            self.text
        );
        self
    }

    #[track_caller]
    pub(crate) fn lacks(&self, what: &str) -> &Self {
        assert!(
            !self.text.contains(what),
            "{} should not show {what:?}",
            self.path
        );
        self
    }
}

async fn page_of(resp: reqwest::Response) -> Page {
    let status = resp.status().as_u16();
    let url = resp.url().clone();
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let text = resp.text().await.expect("page body");
    Page { status, path, text }
}

pub(crate) async fn open(who: &Session, path: &str) -> Page {
    page_of(
        who.without_csrf
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("page"),
    )
    .await
}

pub(crate) async fn submit(who: &Session, path: &str, form: &[(&str, &str)]) -> Page {
    page_of(
        who.without_csrf
            .request(reqwest::Method::POST, path)
            .form(form)
            .send()
            .await
            .expect("form"),
    )
    .await
}

/// Posts the upload form as a browser does: multipart, `csrf` first, then the file.
async fn upload_form(
    who: &Session,
    resource_id: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Page {
    let boundary = "gongshu-e2e-7MA4YWxkTrZu0gW";
    let mut body: Vec<u8> = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    let (name, bytes) = file.unwrap_or(("", b""));
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    page_of(
        who.without_csrf
            .request(
                reqwest::Method::POST,
                &format!("/data/{resource_id}/upload"),
            )
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload"),
    )
    .await
}

async fn org_name(srv: &TestServer, id: &str) -> String {
    srv.app
        .store
        .get_org(id)
        .await
        .expect("org")
        .expect("org exists")
        .name
}

/// COL-1, COL-3, GOV-1, COL-9: 公安局 finds its published entry without data on
/// /data, uploads a CSV through the console, lands on the load's page with the
/// counts, the rejected row's 中文 reason and the six quality dimensions; the
/// platform admin builds the population base from /data/bases and looks a person up.
async fn col_1_gov_1_console_upload_shows_load_rejects_and_quality(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    let household = &resources["household"];
    let psb_name = org_name(&srv, &psb.org_id).await;

    // The entry waits for data, with a way to upload.
    let overview = open(&psb, "/data").await;
    assert_eq!(overview.status, 200);
    overview
        .shows("id=\"nav-data\"")
        .shows("pending-table")
        .lacks("id=\"bases-link\"")
        .shows(&household.code)
        .shows(&format!("href=\"/data/{}\"", household.id));
    let page = open(&psb, &format!("/data/{}", household.code)).await;
    assert_eq!(page.status, 200);
    page.shows("id=\"upload-form\"")
        .shows("citizen_id")
        .shows("公民身份号码")
        .shows("尚无数据");

    // Bad forms come back with the reason next to the field, the input kept.
    let csrf = psb.csrf.as_str();
    let no_file = upload_form(&psb, &household.id, &[("csrf", csrf)], None).await;
    assert_eq!(no_file.status, 400);
    no_file
        .shows("id=\"file-error\"")
        .shows("请选择要上传的文件");
    let ids: Vec<String> = (0..3).map(|i| person(i * 500, 31)).collect();
    let mut csv = household_csv(&ids, &["已婚", "未婚", "已婚"]);
    let bad = broken(&ids[2]);
    csv.push_str(&format!(
        "{bad},居民9,男,1990-01-01,830102,示范省云川市湖滨路9号,未婚\n"
    ));
    let unfiled = upload_form(
        &psb,
        &household.id,
        &[
            ("csrf", csrf),
            ("format", "auto"),
            ("encoding", "auto"),
            ("mode", "replace"),
            ("filing_no", ""),
            ("filing_note", "光盘交付"),
        ],
        Some(("household.csv", csv.as_bytes())),
    )
    .await;
    assert_eq!(unfiled.status, 400);
    unfiled
        .shows("id=\"filing-no-error\"")
        .shows("备案编号")
        .shows("value=\"光盘交付\"");
    let forged = upload_form(
        &psb,
        &household.id,
        &[("csrf", "forged")],
        Some(("household.csv", csv.as_bytes())),
    )
    .await;
    assert_eq!(forged.status, 403);

    // The upload: three good rows and a citizen ID with a wrong check digit.
    let load = upload_form(
        &psb,
        &household.id,
        &[
            ("csrf", csrf),
            ("format", "auto"),
            ("encoding", "auto"),
            ("mode", "replace"),
            ("filing_no", ""),
            ("filing_note", ""),
        ],
        Some(("household.csv", csv.as_bytes())),
    )
    .await;
    assert_eq!(load.status, 200, "{}", load.text);
    assert!(
        load.path.starts_with("/data/loads/"),
        "the upload lands on its load: {}",
        load.path
    );
    load.shows("文件已载入")
        .shows("已生效")
        .shows("id=\"rows-read\">4<")
        .shows("id=\"rows-accepted\">3<")
        .shows("id=\"rows-rejected\">1<")
        .shows("不符合 GB 11643")
        .shows(&bad)
        .shows("dataset.invalid_citizen_id")
        .shows("household.csv")
        .shows("完整性")
        .shows("规范性")
        .shows("唯一性")
        .shows("75.0%")
        .shows("<svg id=\"quality-chart\"");
    let load_id = load
        .path
        .trim_start_matches("/data/loads/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let rejects_link = format!("/api/v1/loads/{load_id}/rejects.csv");
    load.shows(&rejects_link)
        .shows(&format!("/api/v1/loads/{load_id}/rejects.xlsx"));
    let download = open(&psb, &rejects_link).await;
    assert_eq!(
        download.status, 200,
        "the session cookie opens the download"
    );
    download.shows("dataset.invalid_citizen_id").shows(&bad);

    // The resource now has a version, a history and the department's first rows.
    let page = open(&psb, &format!("/data/{}", household.id)).await;
    page.shows("id=\"current-version\">v1")
        .shows("id=\"row-count\">3<")
        .shows("网页上传")
        .shows(&format!("href=\"/data/loads/{load_id}\""))
        .shows("preview-table")
        .shows(&ids[0])
        .shows("居民1");
    let overview = open(&psb, "/data").await;
    overview.shows("datasets-table").shows("已生效");

    // GOV-1, GOV-3: quality by department and resource; COL-4 freshness below.
    let quality = open(&psb, "/data/quality").await;
    assert_eq!(quality.status, 200);
    quality
        .shows(&psb_name)
        .shows(&household.code)
        .shows("75.0%")
        .shows("准确性")
        .shows("时效性")
        .shows("stale-table");
    let quality = open(&admin, "/data/quality").await;
    quality.shows(&psb_name).shows("department-chart");

    // COL-9: the population base, built from the console.
    assert_eq!(
        open(&psb, "/data/bases").await.status,
        403,
        "the base databases are for the platform's governors"
    );
    let bases = open(&admin, "/data/bases").await;
    assert_eq!(bases.status, 200);
    bases
        .shows("人口基础库")
        .shows("法人基础库")
        .shows("尚未构建")
        .shows("id=\"build-population\"");
    let built = submit(
        &admin,
        "/data/bases/population/build",
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(built.status, 200, "{}", built.text);
    built
        .shows("id=\"build-report\"")
        .shows("id=\"report-discrepancies\">0<")
        .shows("姓名")
        .shows("出生日期")
        .shows(&psb_name)
        .shows(&household.code);
    let bad_key = open(&admin, "/data/bases?base=population&key=123").await;
    assert_eq!(bad_key.status, 400);
    bad_key.shows("id=\"lookup-error\"").shows("value=\"123\"");
    let record = open(
        &admin,
        &format!("/data/bases?base=population&key={}", ids[1]),
    )
    .await;
    assert_eq!(record.status, 200, "{}", record.text);
    record
        .shows("id=\"subject-record\"")
        .shows(&ids[1])
        .shows("居民1")
        .shows(&format!("href=\"/data/loads/{load_id}\""));
    let checked = submit(&admin, "/data/cross-check", &[("csrf", &admin.csrf)]).await;
    assert_eq!(checked.status, 200);
    checked.shows("id=\"cross-report\"");

    // GOV-2: nothing disagrees yet.
    let discrepancies = open(&admin, "/data/discrepancies").await;
    assert_eq!(discrepancies.status, 200);
    discrepancies
        .shows("多源校核差异")
        .shows("id=\"no-discrepancies\"");
    let own = open(&psb, "/data/discrepancies?status=all").await;
    assert_eq!(own.status, 200);
    own.shows("id=\"no-discrepancies\"").lacks("filter-org");

    // The English switch: the same pages, labels and reasons in English.
    let english = open(&psb, &format!("/lang/en?next=/data/loads/{load_id}")).await;
    assert_eq!(english.status, 200);
    english
        .shows("Rows accepted")
        .shows("Completeness")
        .shows("Validity")
        .shows("is not a GB 11643 citizen ID number")
        .lacks("不合格行数");
    for path in [
        "/data".to_string(),
        format!("/data/{}", household.id),
        "/data/quality".to_string(),
        "/data/discrepancies".to_string(),
    ] {
        let page = open(&psb, &path).await;
        assert_eq!(page.status, 200, "{path}");
        page.shows("lang=\"en\"").lacks("页面渲染失败");
    }
    open(&admin, "/lang/en?next=/data/bases")
        .await
        .shows("Population base")
        .shows("Run the cross-check now");
}
both_backends!(col_1_gov_1_console_upload_shows_load_rejects_and_quality);

/// COL-2, COL-3: the bad-row policy is switched from the page; a refused load
/// leaves the data as it was; the last load is rolled back once confirmed.
async fn col_2_col_3_console_policy_refusal_and_confirmed_rollback(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let household = &resources["household"];
    let csrf = psb.csrf.as_str();
    let ids: Vec<String> = (0..3).map(|i| person(i * 700, 41)).collect();
    let form = [
        ("csrf", csrf),
        ("format", "csv"),
        ("encoding", "utf-8"),
        ("mode", "replace"),
    ];

    let first = household_csv(&ids[..2], &["已婚", "未婚"]);
    let v1 = upload_form(
        &psb,
        &household.id,
        &form,
        Some(("v1.csv", first.as_bytes())),
    )
    .await;
    v1.shows("id=\"rows-accepted\">2<");

    let switched = submit(
        &psb,
        &format!("/data/{}/policy", household.id),
        &[("csrf", csrf), ("policy", "reject")],
    )
    .await;
    assert_eq!(switched.status, 200);
    switched
        .shows("已更新不合格行处理策略")
        .shows("有不合格行则整批拒收");

    let mut with_bad = household_csv(&ids, &["已婚", "未婚", "已婚"]);
    with_bad.push_str(&format!(
        "{},居民9,男,1990-01-01,830102,示范省云川市湖滨路9号,未婚\n",
        broken(&ids[0])
    ));
    let refused = upload_form(
        &psb,
        &household.id,
        &form,
        Some(("v2.csv", with_bad.as_bytes())),
    )
    .await;
    assert!(refused.path.starts_with("/data/loads/"), "{}", refused.path);
    refused
        .shows("本次数据未生效")
        .shows("id=\"load-error\"")
        .shows("整批拒收")
        .shows("id=\"rows-rejected\">1<");
    let page = open(&psb, &format!("/data/{}", household.id)).await;
    page.shows("id=\"row-count\">2<")
        .shows("整批拒收")
        .lacks(&ids[2]);

    // Quarantine again; a good v2 replaces v1, then v1 is brought back.
    submit(
        &psb,
        &format!("/data/{}/policy", household.id),
        &[("csrf", csrf), ("policy", "quarantine")],
    )
    .await;
    let good = household_csv(&ids, &["已婚", "未婚", "离婚"]);
    upload_form(
        &psb,
        &household.id,
        &form,
        Some(("v3.csv", good.as_bytes())),
    )
    .await
    .shows("id=\"rows-accepted\">3<");
    let page = open(&psb, &format!("/data/{}", household.id)).await;
    page.shows("id=\"row-count\">3<")
        .shows("id=\"rollback-form\"");

    let unconfirmed = submit(
        &psb,
        &format!("/data/{}/rollback", household.id),
        &[("csrf", csrf)],
    )
    .await;
    assert_eq!(unconfirmed.status, 400);
    unconfirmed
        .shows("id=\"rollback-error\"")
        .shows("请勾选确认后再回退");
    let rolled = submit(
        &psb,
        &format!("/data/{}/rollback", household.id),
        &[("csrf", csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(rolled.status, 200);
    rolled
        .shows("已回退到上一版本")
        .shows("id=\"row-count\">2<")
        .shows("已回退");
    let again = submit(
        &psb,
        &format!("/data/{}/rollback", household.id),
        &[("csrf", csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(again.status, 409);
    again.shows("没有可回退的上一版本");
}
both_backends!(col_2_col_3_console_policy_refusal_and_confirmed_rollback);

/// GOV-2: a difference between 民政局's and 公安局's marital status lands on
/// 民政局's discrepancy page with its due day; a resolution without a note comes
/// back with the reason, then is accepted; 公安局 has nothing to act on.
async fn gov_2_console_discrepancy_settled_by_source_department(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let admin = srv.login_demo(&demo, "admin").await;
    let civil_name = org_name(&srv, &civil.org_id).await;
    let psb_name = org_name(&srv, &psb.org_id).await;
    let ids: Vec<String> = (0..2).map(|i| person(i * 900, 51)).collect();

    let household = household_csv(&ids, &["已婚", "已婚"]);
    upload_form(
        &psb,
        &resources["household"].id,
        &[("csrf", &psb.csrf)],
        Some(("household.csv", household.as_bytes())),
    )
    .await
    .shows("id=\"rows-accepted\">2<");
    let marriage = format!(
        "公民身份号码,姓名,婚姻状况,登记日期\n{},居民0,已婚,2010-05-01\n{},居民1,离婚,2012-06-01\n",
        ids[0], ids[1]
    );
    upload_form(
        &civil,
        &resources["marriage"].id,
        &[("csrf", &civil.csrf)],
        Some(("婚姻.csv", marriage.as_bytes())),
    )
    .await
    .shows("id=\"rows-accepted\">2<");

    let built = submit(
        &admin,
        "/data/bases/population/build",
        &[("csrf", &admin.csrf)],
    )
    .await;
    built
        .shows("id=\"report-discrepancies\">1<")
        .shows("婚姻状况")
        .shows(&civil_name);

    let list = open(&civil, "/data/discrepancies").await;
    assert_eq!(list.status, 200);
    list.shows("id=\"total\">共 1 条")
        .shows(&ids[1])
        .shows("离婚")
        .shows("已婚")
        .shows(&psb_name)
        .shows("待处理");
    let page = civil
        .get("/api/v1/discrepancies?status=open")
        .await
        .expect_status(200);
    let id = page["items"][0]["id"].as_i64().expect("discrepancy id");
    list.shows(&format!("id=\"resolve-{id}\""));
    let admin_list = open(&admin, "/data/discrepancies").await;
    admin_list.shows(&ids[1]).shows("filter-org");

    let psb_list = open(&psb, "/data/discrepancies").await;
    psb_list.shows("id=\"no-discrepancies\"");
    let not_psbs = submit(
        &psb,
        &format!("/data/discrepancies/{id}/resolve"),
        &[
            ("csrf", &psb.csrf),
            ("outcome", "confirmed"),
            ("note", "不是我们的"),
        ],
    )
    .await;
    assert_eq!(not_psbs.status, 403);

    let no_note = submit(
        &civil,
        &format!("/data/discrepancies/{id}/resolve"),
        &[
            ("csrf", &civil.csrf),
            ("outcome", "confirmed"),
            ("note", " "),
        ],
    )
    .await;
    assert_eq!(no_note.status, 400);
    no_note
        .shows("id=\"resolve-error\"")
        .shows("请说明处理情况");
    let settled = submit(
        &civil,
        &format!("/data/discrepancies/{id}/resolve"),
        &[
            ("csrf", &civil.csrf),
            ("outcome", "confirmed"),
            ("note", "经核对婚姻登记档案，离婚登记属实"),
        ],
    )
    .await;
    assert_eq!(settled.status, 200);
    settled
        .shows("已处理该差异")
        .shows("id=\"no-discrepancies\"");
    let confirmed = open(&civil, "/data/discrepancies?status=confirmed").await;
    confirmed
        .shows("确认数源无误")
        .shows("经核对婚姻登记档案，离婚登记属实")
        .lacks(&format!("id=\"resolve-{id}\""));
}
both_backends!(gov_2_console_discrepancy_settled_by_source_department);

/// COL-1: the console's pull-source page: a department saves where the platform
/// reads its system, the password never comes back, a bad port is named, and a
/// connection test against a source that does not answer says so in 中文.
async fn col_1_console_pull_source_is_saved_tested_and_never_shows_its_secret(
    srv: Arc<TestServer>,
) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let civil = srv.login_demo(&demo, "civil.admin").await;
    let household = &resources["household"];
    let path = format!("/data/{}/source", household.id);
    let page = open(&psb, &path).await;
    assert_eq!(page.status, 200);
    page.shows("数据源（定时拉取）").shows("source-form");
    assert_eq!(open(&civil, &path).await.status, 403);

    let bad = submit(
        &psb,
        &path,
        &[
            ("csrf", psb.csrf.as_str()),
            ("kind", "postgres"),
            ("host", "127.0.0.1"),
            ("port", "五四三二"),
            ("database", "psb"),
            ("user", "reader"),
            ("table", "household"),
        ],
    )
    .await;
    assert_eq!(bad.status, 400);
    bad.shows("端口须为").shows("五四三二");

    // COL-1: a database source's TLS setting is chosen on the form and shown.
    let database = submit(
        &psb,
        &path,
        &[
            ("csrf", psb.csrf.as_str()),
            ("kind", "postgres"),
            ("host", "10.20.0.5"),
            ("port", "5432"),
            ("database", "psb"),
            ("user", "reader"),
            ("tls", "require"),
            ("table", "household"),
        ],
    )
    .await;
    assert_eq!(database.status, 200);
    database
        .shows("已保存数据源")
        .shows(r#"id="source-summary-tls">require<"#)
        .shows(r#"<option value="require" selected>"#);

    let saved = submit(
        &psb,
        &path,
        &[
            ("csrf", psb.csrf.as_str()),
            ("kind", "http_json"),
            ("url", "http://127.0.0.1:9/household"),
            ("records_path", "data"),
            ("page_param", "page"),
            ("auth_header", "Authorization"),
            ("secret", "Bearer 绝密令牌-e2e"),
            ("scheduled", "yes"),
        ],
    )
    .await;
    assert_eq!(saved.status, 200);
    assert!(saved.path.ends_with("done=saved"), "{}", saved.path);
    saved
        .shows("已保存数据源")
        .shows("http_json")
        .lacks("绝密令牌");

    let tested = submit(
        &psb,
        &format!("{path}/test"),
        &[("csrf", psb.csrf.as_str())],
    )
    .await;
    assert_eq!(tested.status, 400);
    tested.shows("source-error").lacks("绝密令牌");
}
both_backends!(col_1_console_pull_source_is_saved_tested_and_never_shows_its_secret);

/// COL-6: a resource not yet reviewed says on its page why loads wait; its
/// department records the review there, and the page then names the conclusion,
/// the reviewer and the opinion, with nothing left blocking.
async fn col_6_console_records_the_secrecy_review_loads_wait_for(srv: Arc<TestServer>) {
    let demo = srv.seed_demo().await;
    let resources = data_resources(&srv).await;
    let psb = srv.login_demo(&demo, "psb.admin").await;
    let entry = crate::data::unreviewed_resource(&srv, &resources).await;
    let page_path = format!("/data/{}", entry.id);

    let page = open(&psb, &page_path).await;
    page.shows("name=\"items\" value=\"citizen_id,name\"")
        .shows("id=\"secrecy-blocked\"")
        .shows("尚无审查记录")
        .shows("id=\"secrecy-form\"");
    let id = person(50, 41);
    let csv = format!("公民身份号码,姓名\n{id},赵六\n");
    let waiting = upload_form(
        &psb,
        &entry.id,
        &[("csrf", &psb.csrf)],
        Some(("people.csv", csv.as_bytes())),
    )
    .await;
    assert_eq!(waiting.status, 409);
    waiting.shows("id=\"upload-error\"").shows("保密审查");

    let bad = submit(
        &psb,
        &format!("/data/{}/secrecy-review", entry.id),
        &[("csrf", &psb.csrf), ("conclusion", "")],
    )
    .await;
    assert_eq!(bad.status, 400);
    bad.shows("id=\"secrecy-error\"");

    let recorded = submit(
        &psb,
        &format!("/data/{}/secrecy-review", entry.id),
        &[
            ("csrf", &psb.csrf),
            ("conclusion", "cleared"),
            ("note", "经保密办审查，不涉及国家秘密"),
            ("items", "citizen_id,name"),
        ],
    )
    .await;
    assert_eq!(recorded.status, 200);
    assert!(
        recorded.path.ends_with("?done=secrecy"),
        "{}",
        recorded.path
    );
    recorded
        .shows("<span class=\"tag\" id=\"secrecy-conclusion\">不涉及国家秘密，同意汇聚</span>")
        .shows("<span id=\"secrecy-reviewer\">公安局 管理员 张警 (psb.admin)</span>")
        .shows("经保密办审查，不涉及国家秘密")
        .lacks("id=\"secrecy-blocked\"");
    let loaded = upload_form(
        &psb,
        &entry.id,
        &[("csrf", &psb.csrf)],
        Some(("people.csv", csv.as_bytes())),
    )
    .await;
    assert_eq!(loaded.status, 200, "{}", loaded.text);
    assert!(loaded.path.starts_with("/data/loads/"), "{}", loaded.path);
}
both_backends!(col_6_console_records_the_secrecy_review_loads_wait_for);
