//! The `gongshu` binary end to end: identifier checks, the calendar, organisation and
//! user administration, and audit verification against a hand-edited SQLite file.
use std::path::Path;
use std::process::{Command, Output};

fn gongshu(data_dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gongshu"));
    cmd.env_remove("GONGSHU_DATABASE_URL")
        .env_remove("GONGSHU_CONFIG")
        .env_remove("GONGSHU_DATA_DIR");
    if let Some(dir) = data_dir {
        cmd.arg("--data-dir").arg(dir);
    }
    cmd.args(args).output().expect("the gongshu binary runs")
}

/// A data directory holding the demo region, and what seeding printed.
fn seeded_data_dir() -> (tempfile::TempDir, Output) {
    let dir = tempfile::tempdir().unwrap();
    let seeded = gongshu(
        Some(dir.path()),
        &[
            "demo",
            "--seed-only",
            "--people",
            "10",
            "--data-people",
            "0",
            "--data-entities",
            "0",
        ],
    );
    assert_eq!(
        seeded.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    (dir, seeded)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn col_3_check_id_number_prints_valid_or_the_reason() {
    let ok = gongshu(None, &["check", "id-number", "11010519491231002X"]);
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(stdout(&ok).trim(), "valid");
    let bad = gongshu(None, &["check", "id-number", "110105194912310021"]);
    assert_eq!(bad.status.code(), Some(1));
    let text = stdout(&bad);
    assert!(text.starts_with("invalid"), "{text}");
    assert!(
        text.contains("校验"),
        "the reason is given in Chinese: {text}"
    );
}

#[test]
fn col_3_check_credit_code_prints_valid_or_the_reason() {
    let ok = gongshu(None, &["check", "credit-code", "91350100M000100Y43"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    let bad = gongshu(None, &["check", "credit-code", "91350100M000100Y44"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stdout(&bad).contains("invalid"));
}

#[test]
fn calendar_add_workdays_crosses_the_national_day_holiday() {
    let o = gongshu(None, &["calendar", "add-workdays", "2025-09-30", "1"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).trim(), "2025-10-09");
    let o = gongshu(
        None,
        &["calendar", "workdays-between", "2025-01-01", "2025-12-31"],
    );
    assert_eq!(stdout(&o).trim(), "248");
}

#[test]
fn calendar_refuses_a_year_without_a_table_and_loads_one_from_a_file() {
    let refused = gongshu(None, &["calendar", "add-workdays", "2026-12-30", "5"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("2027"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("2027.toml");
    std::fs::write(
        &file,
        "year = 2027\nsource = \"测试用日历表（非官方）\"\nsource_en = \"test table (not official)\"\n\n\
         [[holidays]]\nname = \"元旦\"\nname_en = \"New Year's Day\"\nstart = 2027-01-01\nend = 2027-01-01\nadjusted_workdays = []\n",
    )
    .unwrap();
    let o = gongshu(
        None,
        &[
            "calendar",
            "add-workdays",
            "2026-12-30",
            "2",
            "--calendar-file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // 12-31 (Thu) is the first working day, 2027-01-01 a holiday, 01-04 (Mon) the second.
    assert_eq!(stdout(&o).trim(), "2027-01-04");
}

#[test]
fn org_import_user_create_reset_and_disable_from_the_command_line() {
    let (dir, seeded) = seeded_data_dir();
    assert!(stdout(&seeded).contains("admin"));

    let csv = dir.path().join("orgs.csv");
    std::fs::write(
        &csv,
        "name,name_en,kind,division_code,credit_code,parent_id\n云川市档案局,Yunchuan Archives,government_department,830100,,\n云川市气象局,,government_department,830100,,\n",
    )
    .unwrap();
    let o = gongshu(Some(dir.path()), &["org", "import", csv.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let list = stdout(&gongshu(
        Some(dir.path()),
        &["org", "list", "--kind", "government_department"],
    ));
    assert!(
        list.contains("云川市档案局") && list.contains("云川市气象局"),
        "{list}"
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "name,name_en,kind,division_code,credit_code,parent_id\n好单位,,government_department,830100,,\n坏单位,,no_such_kind,830100,,\n").unwrap();
    let o = gongshu(Some(dir.path()), &["org", "import", bad.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0));
    let list = stdout(&gongshu(Some(dir.path()), &["org", "list"]));
    assert!(
        !list.contains("好单位"),
        "an import with a bad record imports nothing"
    );

    let o = gongshu(
        Some(dir.path()),
        &[
            "user",
            "create",
            "--org",
            "云川市档案局",
            "--username",
            "archive.admin",
            "--name",
            "档案局管理员",
            "--role",
            "org_admin",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout(&o).contains("初始密码"));
    let o = gongshu(
        Some(dir.path()),
        &["user", "reset-password", "archive.admin"],
    );
    assert_eq!(o.status.code(), Some(0));
    let o = gongshu(Some(dir.path()), &["user", "disable", "archive.admin"]);
    assert_eq!(o.status.code(), Some(0));
    let o = gongshu(
        Some(dir.path()),
        &[
            "user",
            "create",
            "--org",
            "no such org",
            "--username",
            "x1y",
            "--name",
            "x",
            "--role",
            "member",
        ],
    );
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn gov_5_hand_edited_audit_row_is_named_by_audit_verify() {
    let (dir, _) = seeded_data_dir();
    let ok = gongshu(Some(dir.path()), &["audit", "verify"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));

    // Edit one row by hand, as someone with the database file would.
    let db = dir.path().join("gongshu.db");
    let rt = tokio_runtime();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET after_summary = '{\"name\":\"改过\"}' WHERE seq = 7")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    let broken = gongshu(Some(dir.path()), &["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    let text = stdout(&broken);
    assert!(
        text.contains("#7"),
        "verify names the edited record: {text}"
    );
    assert!(!text.contains("#6 "), "{text}");
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// COL-1, COL-2: the demo mounts data through the loading pipeline; `gongshu
/// export` streams a resource's rows out and `gongshu ingest` loads them back as a
/// new version, with a summary.
#[test]
fn col_1_demo_mounts_data_and_ingest_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = gongshu(
        Some(dir.path()),
        &[
            "demo",
            "--seed-only",
            "--people",
            "10",
            "--data-people",
            "600",
            "--data-entities",
            "100",
        ],
    );
    let text = stdout(&seeded);
    assert_eq!(seeded.status.code(), Some(0), "{text}");
    // The household register: the first mounted resource the demo prints.
    let line = text
        .lines()
        .find(|l| l.contains("隔离"))
        .expect("the demo prints its loads");
    let code = line.trim().split(':').next().unwrap().to_string();
    let accepted: u64 = line
        .split("载入 ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("accepted count");
    assert!(text.contains("多源校核差异"), "{text}");
    // SHR-2: the README's one-line call is the one the demo prints for its consumer.
    let curl = text
        .lines()
        .find(|l| l.starts_with("curl "))
        .expect("the demo prints its consumer's curl line");
    assert!(
        include_str!("../../../README.md").contains(curl),
        "README.md shows the demo's call: {curl}"
    );
    assert!(text.contains("GONGSHU_DEMO_TOKEN=gs_"), "{text}");

    let out = dir.path().join("household.csv");
    let exported = gongshu(
        Some(dir.path()),
        &[
            "export",
            &code,
            "--format",
            "csv",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(exported.status.code(), Some(0), "{}", stdout(&exported));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count() as u64, accepted + 1, "header + rows");
    assert!(csv.starts_with("\u{feff}citizen_id,name,"));

    let loaded = gongshu(Some(dir.path()), &["ingest", &code, out.to_str().unwrap()]);
    let summary = stdout(&loaded);
    assert_eq!(loaded.status.code(), Some(0), "{summary}");
    assert!(
        summary.contains(&format!("接收 {accepted} 行")),
        "{summary}"
    );
    assert!(summary.contains("SM3 "), "{summary}");

    let json = gongshu(Some(dir.path()), &["export", &code, "--format", "json"]);
    let first = stdout(&json).lines().next().unwrap_or_default().to_string();
    let row: serde_json::Value = serde_json::from_str(&first).expect("one JSON object per line");
    assert_eq!(row["citizen_id"].as_str().map(str::len), Some(18));

    // Parquet: typed columns, as many rows as were loaded.
    let parquet_path = dir.path().join("household.parquet");
    let exported = gongshu(
        Some(dir.path()),
        &[
            "export",
            &code,
            "--format",
            "parquet",
            "-o",
            parquet_path.to_str().unwrap(),
        ],
    );
    assert_eq!(exported.status.code(), Some(0), "{}", stdout(&exported));
    {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let reader = SerializedFileReader::new(std::fs::File::open(&parquet_path).unwrap())
            .expect("Parquet");
        let meta = reader.metadata().file_metadata();
        assert_eq!(meta.num_rows() as u64, accepted);
        let fields = meta.schema_descr();
        assert_eq!(fields.column(0).name(), "citizen_id");
        assert_eq!(
            fields.column(3).physical_type(),
            parquet::basic::Type::INT32,
            "birth_date is a DATE"
        );
        let first = reader.get_row_iter(None).unwrap().next().unwrap().unwrap();
        assert_eq!(first.get_column_iter().count(), 7);
    }

    // A file whose headings are not the catalog's is refused with exit code 1.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "编号,备注\n1,x\n").unwrap();
    let refused = gongshu(Some(dir.path()), &["ingest", &code, bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    assert!(stdout(&refused).contains("备注"));
}

#[test]
fn two_processes_writing_the_same_store_wait_for_each_other_instead_of_failing() {
    // The CLI runs beside a serving process on one SQLite file; neither may see
    // "database is locked" while the other commits.
    let (dir, seeded) = seeded_data_dir();
    assert!(stdout(&seeded).contains("admin"));
    let writers: Vec<_> = ["admin", "auditor"]
        .into_iter()
        .map(|user| {
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || {
                (0..12)
                    .map(|_| gongshu(Some(&dir), &["user", "reset-password", user]))
                    .filter(|o| o.status.code() != Some(0))
                    .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let failures: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
}
