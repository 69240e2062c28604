//! Working-day calendar tests against the official 2025 and 2026 arrangements
//! (DESIGN principle 6).

use chrono::{Datelike, NaiveDate, Weekday};
use gongshu_domain::calendar::{CalendarError, WorkCalendar};
use proptest::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn national_day_break_2025_is_skipped() {
    let cal = WorkCalendar::official();
    assert_eq!(
        cal.add_workdays(date(2025, 9, 30), 1).unwrap(),
        date(2025, 10, 9)
    );
    assert_eq!(
        cal.add_workdays(date(2025, 9, 30), 0).unwrap(),
        date(2025, 9, 30)
    );
}

#[test]
fn adjusted_workdays_are_working_days() {
    let cal = WorkCalendar::official();
    for d in [
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ] {
        assert!(cal.is_workday(d).unwrap(), "{d} should be a working day");
        assert!(matches!(d.weekday(), Weekday::Sat | Weekday::Sun));
    }
}

#[test]
fn holidays_are_days_off() {
    let cal = WorkCalendar::official();
    for d in [
        date(2025, 1, 1),
        date(2025, 1, 28),
        date(2025, 2, 4),
        date(2025, 4, 4),
        date(2025, 5, 5),
        date(2025, 6, 2),
        date(2025, 10, 8),
        date(2026, 1, 2),
        date(2026, 2, 23),
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 5, 5),
        date(2026, 6, 19),
        date(2026, 9, 25),
        date(2026, 10, 7),
    ] {
        assert!(!cal.is_workday(d).unwrap(), "{d} should be a day off");
    }
    // Ordinary days around the breaks.
    assert!(cal.is_workday(date(2025, 2, 5)).unwrap());
    assert!(cal.is_workday(date(2026, 10, 8)).unwrap());
    assert!(!cal.is_workday(date(2026, 3, 7)).unwrap());
}

#[test]
fn working_days_per_year() {
    let cal = WorkCalendar::official();
    // 261 weekdays; 2025 takes 18 weekdays off and works 5 weekend days,
    // 2026 takes 19 off and works 6: both years have 248 working days.
    assert_eq!(
        cal.workdays_between(date(2024, 12, 31), date(2025, 12, 31))
            .unwrap(),
        248
    );
    assert_eq!(
        cal.workdays_between(date(2025, 12, 31), date(2026, 12, 31))
            .unwrap(),
        248
    );
    // From 2025-01-01 (a holiday, not counted anyway) to 2025-12-31.
    assert_eq!(
        cal.workdays_between(date(2025, 1, 1), date(2025, 12, 31))
            .unwrap(),
        248
    );
    assert_eq!(
        cal.workdays_between(date(2025, 12, 31), date(2025, 1, 1))
            .unwrap(),
        -248
    );
    assert_eq!(
        cal.workdays_between(date(2025, 5, 1), date(2025, 5, 1))
            .unwrap(),
        0
    );
}

#[test]
fn refuses_years_without_table() {
    let cal = WorkCalendar::official();
    assert_eq!(
        cal.is_workday(date(2027, 1, 4)),
        Err(CalendarError::NoTable { year: 2027 })
    );
    assert_eq!(
        cal.is_workday(date(2024, 12, 31)),
        Err(CalendarError::NoTable { year: 2024 })
    );
    assert_eq!(
        cal.add_workdays(date(2026, 12, 30), 5),
        Err(CalendarError::NoTable { year: 2027 })
    );
    assert_eq!(
        cal.workdays_between(date(2024, 12, 1), date(2025, 1, 10)),
        Err(CalendarError::NoTable { year: 2024 })
    );
    assert_eq!(
        cal.workdays_between(date(2026, 12, 1), date(2027, 1, 10)),
        Err(CalendarError::NoTable { year: 2027 })
    );
    let err = CalendarError::NoTable { year: 2027 };
    assert_eq!(err.code(), "calendar.no_table");
    assert_eq!(
        err.message_zh(),
        "没有 2027 年的工作日历表，无法计算；请加载该年的国务院节假日安排"
    );
    assert!(WorkCalendar::default().years().is_empty());
}

const SAMPLE_2027: &str = r#"
year = 2027
source = "示例：假设的 2027 年安排"
source_en = "Example: a hypothetical 2027 arrangement"

[[holidays]]
name = "元旦"
name_en = "New Year's Day"
start = 2027-01-01
end = 2027-01-03
adjusted_workdays = []
"#;

#[test]
fn loading_a_year_table_extends_the_calendar() {
    let mut cal = WorkCalendar::official();
    assert_eq!(cal.load_year_toml(SAMPLE_2027).unwrap(), 2027);
    assert_eq!(cal.years(), vec![2025, 2026, 2027]);
    assert!(!cal.is_workday(date(2027, 1, 1)).unwrap());
    assert!(cal.is_workday(date(2027, 1, 4)).unwrap());
    // Wed 2026-12-30: Thu 12-31, then 2027-01-01..03 off, Mon 01-04.
    assert_eq!(
        cal.add_workdays(date(2026, 12, 30), 2).unwrap(),
        date(2027, 1, 4)
    );
    // Replacing a year drops its old days.
    let mut table = WorkCalendar::parse_year_table(SAMPLE_2027).unwrap();
    table.holidays.clear();
    cal.insert(table);
    assert!(cal.is_workday(date(2027, 1, 1)).unwrap());
    assert_eq!(
        cal.table(2027).unwrap().source_en,
        "Example: a hypothetical 2027 arrangement"
    );
}

#[test]
fn invalid_tables_are_refused_with_precise_errors() {
    let with = |from: &str, to: &str| SAMPLE_2027.replace(from, to);
    let code = |text: &str| WorkCalendar::parse_year_table(text).unwrap_err().code();

    assert_eq!(code("year = "), "calendar.parse");
    assert_eq!(
        code(&with("end = 2027-01-03", "end = \"2027-01-03\"")),
        "calendar.parse"
    );
    assert_eq!(code(&with("name_en", "title_en")), "calendar.parse");
    assert_eq!(
        code(&with("start = 2027-01-01", "start = 2026-12-31")),
        "calendar.date_outside_year"
    );
    assert_eq!(
        code(&with("end = 2027-01-03", "end = 2026-12-31")),
        "calendar.date_outside_year"
    );
    assert_eq!(
        code(&with("start = 2027-01-01", "start = 2027-01-05")),
        "calendar.reversed_range"
    );
    // 2027-01-02 is a Saturday inside the range.
    assert_eq!(
        code(&with(
            "adjusted_workdays = []",
            "adjusted_workdays = [2027-01-02]"
        )),
        "calendar.workday_is_holiday"
    );
    // 2027-01-06 is a Wednesday.
    let err = WorkCalendar::parse_year_table(&with(
        "adjusted_workdays = []",
        "adjusted_workdays = [2027-01-06]",
    ))
    .unwrap_err();
    assert_eq!(
        err,
        CalendarError::WorkdayNotWeekend {
            date: date(2027, 1, 6)
        }
    );
    assert_eq!(err.message_zh(), "调休上班日 2027-01-06 不是周六或周日");
    assert_eq!(
        code(&with(
            "adjusted_workdays = []",
            "adjusted_workdays = [2028-01-08]"
        )),
        "calendar.date_outside_year"
    );
    assert_eq!(
        code(&with(
            "source = \"示例：假设的 2027 年安排\"",
            "source = \" \""
        )),
        "calendar.empty_field"
    );
    let mut cal = WorkCalendar::official();
    assert!(cal.load_year_toml("year = 2027").is_err());
    assert_eq!(cal.years(), vec![2025, 2026]);
}

fn table_day() -> impl Strategy<Value = NaiveDate> {
    let first = date(2025, 1, 1);
    (0i64..(365 + 365 - 300)).prop_map(move |n| first + chrono::Duration::days(n))
}

proptest! {
    #[test]
    fn workdays_between_inverts_add_workdays(d in table_day(), n in 0u32..200) {
        let cal = WorkCalendar::official();
        let due = cal.add_workdays(d, n).unwrap();
        prop_assert_eq!(cal.workdays_between(d, due).unwrap(), i64::from(n));
        prop_assert_eq!(cal.workdays_between(due, d).unwrap(), -i64::from(n));
        if n > 0 {
            prop_assert!(cal.is_workday(due).unwrap());
            prop_assert!(due > d);
        }
    }

    #[test]
    fn workdays_between_is_additive(a in table_day(), b in table_day(), c in table_day()) {
        let cal = WorkCalendar::official();
        let ab = cal.workdays_between(a, b).unwrap();
        let bc = cal.workdays_between(b, c).unwrap();
        prop_assert_eq!(cal.workdays_between(a, c).unwrap(), ab + bc);
    }
}

#[test]
fn china_day_turns_at_midnight_beijing_time() {
    use chrono::{TimeZone, Utc};
    use gongshu_domain::calendar::china_day;
    let before = Utc.with_ymd_and_hms(2026, 9, 30, 15, 59, 59).unwrap();
    let after = Utc.with_ymd_and_hms(2026, 9, 30, 16, 0, 0).unwrap();
    assert_eq!(china_day(before).to_string(), "2026-09-30");
    assert_eq!(china_day(after).to_string(), "2026-10-01");
}
