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
    let seeded = gongshu(Some(dir.path()), &["demo", "--seed-only", "--people", "10"]);
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
