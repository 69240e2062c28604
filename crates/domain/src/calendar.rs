//! Chinese working-day calendar (工作日 and 调休) for deadlines counted in working days.
//!
//! DESIGN principle 6: every deadline of REQUIREMENTS ("Nd") is counted on the
//! official calendar, built from the State Council General Office's yearly notice
//! on public holidays. Tables are data files naming their source; the calendar
//! refuses to compute in a year it has no table for rather than guess.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc, Weekday};
use serde::Deserialize;

/// The day in China (UTC+8, no daylight saving) at `at`: the day deadlines and daily
/// quotas count by.
pub fn china_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive()
}

/// The embedded official tables, one TOML file per year.
const OFFICIAL_TABLES: [&str; 2] = [
    include_str!("../calendars/2025.toml"),
    include_str!("../calendars/2026.toml"),
];

/// Why a working-day computation or a year table was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// No table is loaded for a year the computation needs.
    #[error(
        "no working-day table for {year}; load the State Council holiday arrangement for that year"
    )]
    NoTable {
        /// The year without a table.
        year: i32,
    },
    /// The table text is not valid TOML of the expected shape.
    #[error("working-day table is malformed: {0}")]
    Parse(String),
    /// A required text field is empty.
    #[error("working-day table field '{field}' must not be empty")]
    EmptyField {
        /// Name of the field.
        field: String,
    },
    /// A date lies outside the table's year.
    #[error("date {date} lies outside the table's year {year}")]
    DateOutsideYear {
        /// The table's year.
        year: i32,
        /// The offending date.
        date: NaiveDate,
    },
    /// A holiday range ends before it starts.
    #[error("holiday '{name}' ends ({end}) before it starts ({start})")]
    ReversedRange {
        /// Holiday name.
        name: String,
        /// First day given.
        start: NaiveDate,
        /// Last day given.
        end: NaiveDate,
    },
    /// A date is listed both as a day off and as an adjusted working day.
    #[error("{date} is listed both as a holiday and as an adjusted working day")]
    WorkdayIsHoliday {
        /// The date listed twice.
        date: NaiveDate,
    },
    /// An adjusted working day falls on Monday to Friday, which are working days anyway.
    #[error("adjusted working day {date} is not a Saturday or Sunday")]
    WorkdayNotWeekend {
        /// The offending date.
        date: NaiveDate,
    },
}

impl CalendarError {
    /// Stable machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoTable { .. } => "calendar.no_table",
            Self::Parse(_) => "calendar.parse",
            Self::EmptyField { .. } => "calendar.empty_field",
            Self::DateOutsideYear { .. } => "calendar.date_outside_year",
            Self::ReversedRange { .. } => "calendar.reversed_range",
            Self::WorkdayIsHoliday { .. } => "calendar.workday_is_holiday",
            Self::WorkdayNotWeekend { .. } => "calendar.workday_not_weekend",
        }
    }

    /// Message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::NoTable { year } => {
                format!("没有 {year} 年的工作日历表，无法计算；请加载该年的国务院节假日安排")
            }
            Self::Parse(detail) => format!("工作日历表格式错误：{detail}"),
            Self::EmptyField { field } => format!("工作日历表字段 {field} 不能为空"),
            Self::DateOutsideYear { year, date } => {
                format!("日期 {date} 不在本表所属的 {year} 年内")
            }
            Self::ReversedRange { name, start, end } => {
                format!("节日“{name}”的结束日期 {end} 早于开始日期 {start}")
            }
            Self::WorkdayIsHoliday { date } => {
                format!("{date} 同时被列为放假日和调休上班日")
            }
            Self::WorkdayNotWeekend { date } => {
                format!("调休上班日 {date} 不是周六或周日")
            }
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

/// One year's official holiday arrangement.
#[derive(Debug, Clone)]
pub struct YearTable {
    /// Calendar year the table covers.
    pub year: i32,
    /// Title and document number of the notice, in Chinese.
    pub source: String,
    /// The same in English.
    pub source_en: String,
    /// Days off of every holiday range, weekend days included.
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days worked in exchange (调休上班).
    pub adjusted_workdays: BTreeSet<NaiveDate>,
}

impl YearTable {
    fn is_workday(&self, d: NaiveDate) -> bool {
        if self.holidays.contains(&d) {
            false
        } else if self.adjusted_workdays.contains(&d) {
            true
        } else {
            !is_weekend(d)
        }
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// File shape of a year table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    year: i32,
    source: String,
    source_en: String,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
}

/// File shape of one holiday range and the weekend days worked for it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    name_en: String,
    start: toml::value::Datetime,
    end: toml::value::Datetime,
    #[serde(default)]
    adjusted_workdays: Vec<toml::value::Datetime>,
}

fn to_date(value: &toml::value::Datetime) -> Result<NaiveDate, CalendarError> {
    let not_a_date = || CalendarError::Parse(format!("'{value}' is not a plain date (YYYY-MM-DD)"));
    match (&value.date, &value.time, &value.offset) {
        (Some(d), None, None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                .ok_or_else(not_a_date)
        }
        _ => Err(not_a_date()),
    }
}

fn require_text(field: &str, value: &str) -> Result<(), CalendarError> {
    if value.trim().is_empty() {
        Err(CalendarError::EmptyField {
            field: field.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// Working-day calendar made of yearly tables (DESIGN principle 6).
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearTable>,
}

impl WorkCalendar {
    /// The tables shipped with Gongshu (2025 and 2026), from the State Council notices.
    pub fn official() -> Self {
        let mut cal = Self::default();
        for text in OFFICIAL_TABLES {
            cal.load_year_toml(text)
                .expect("embedded calendar tables are valid");
        }
        cal
    }

    /// Parses and checks a year table in TOML: `year`, `source`, `source_en` and
    /// `[[holidays]]` entries with `name`, `name_en`, `start`, `end` (inclusive) and
    /// `adjusted_workdays`. Every date must lie in `year`; a day cannot be both off
    /// and an adjusted working day; adjusted working days must be weekend days.
    pub fn parse_year_table(text: &str) -> Result<YearTable, CalendarError> {
        let raw: RawTable = toml::from_str(text)
            .map_err(|e| CalendarError::Parse(e.to_string().trim().to_owned()))?;
        require_text("source", &raw.source)?;
        require_text("source_en", &raw.source_en)?;
        let year = raw.year;
        let in_year = |date: NaiveDate| {
            if date.year() == year {
                Ok(date)
            } else {
                Err(CalendarError::DateOutsideYear { year, date })
            }
        };
        let mut holidays = BTreeSet::new();
        let mut adjusted_workdays = BTreeSet::new();
        for h in &raw.holidays {
            require_text("name", &h.name)?;
            require_text("name_en", &h.name_en)?;
            let start = in_year(to_date(&h.start)?)?;
            let end = in_year(to_date(&h.end)?)?;
            if end < start {
                return Err(CalendarError::ReversedRange {
                    name: h.name.clone(),
                    start,
                    end,
                });
            }
            holidays.extend(start.iter_days().take_while(|d| *d <= end));
            for w in &h.adjusted_workdays {
                let date = in_year(to_date(w)?)?;
                if !is_weekend(date) {
                    return Err(CalendarError::WorkdayNotWeekend { date });
                }
                adjusted_workdays.insert(date);
            }
        }
        if let Some(date) = holidays.intersection(&adjusted_workdays).next() {
            return Err(CalendarError::WorkdayIsHoliday { date: *date });
        }
        Ok(YearTable {
            year,
            source: raw.source,
            source_en: raw.source_en,
            holidays,
            adjusted_workdays,
        })
    }

    /// Adds a table, replacing any table of the same year.
    pub fn insert(&mut self, table: YearTable) {
        self.years.insert(table.year, table);
    }

    /// Parses a TOML year table, inserts it and returns its year.
    pub fn load_year_toml(&mut self, text: &str) -> Result<i32, CalendarError> {
        let table = Self::parse_year_table(text)?;
        let year = table.year;
        self.insert(table);
        Ok(year)
    }

    /// Years with a table, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The table of `year`, if loaded.
    pub fn table(&self, year: i32) -> Option<&YearTable> {
        self.years.get(&year)
    }

    /// Whether `d` is a working day: Monday to Friday and not a day off, or an
    /// adjusted working day. Err(NoTable) if `d`'s year has no table.
    pub fn is_workday(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        self.table(d.year())
            .map(|t| t.is_workday(d))
            .ok_or(CalendarError::NoTable { year: d.year() })
    }

    /// The date `n` working days after `start` (start itself not counted; n = 0
    /// returns `start`). Err(NoTable) if the walk enters a year without a table.
    pub fn add_workdays(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut day = start;
        let mut counted = 0;
        while counted < n {
            day = day.succ_opt().ok_or(CalendarError::NoTable {
                year: day.year().saturating_add(1),
            })?;
            if self.is_workday(day)? {
                counted += 1;
            }
        }
        Ok(day)
    }

    /// Number of working days d with `from < d <= to`; if `to < from`, minus the
    /// number with `to < d <= from`. Err(NoTable) for any counted day's year
    /// without a table.
    pub fn workdays_between(&self, from: NaiveDate, to: NaiveDate) -> Result<i64, CalendarError> {
        if to < from {
            return self.workdays_between(to, from).map(|n| -n);
        }
        let mut count = 0;
        for day in from.iter_days().skip(1).take_while(|d| *d <= to) {
            if self.is_workday(day)? {
                count += 1;
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn official_tables_load() {
        let cal = WorkCalendar::official();
        assert_eq!(cal.years(), vec![2025, 2026]);
        let t = cal.table(2025).unwrap();
        assert!(t.source.contains("国办发明电〔2024〕12号"));
        assert_eq!(t.holidays.len(), 28);
        assert_eq!(t.adjusted_workdays.len(), 5);
        let t = cal.table(2026).unwrap();
        assert!(t.source.contains("国办发明电〔2025〕7号"));
        assert_eq!(t.holidays.len(), 33);
        assert_eq!(t.adjusted_workdays.len(), 6);
    }

    #[test]
    fn rejects_time_values() {
        let text = "year = 2030\nsource = \"s\"\nsource_en = \"s\"\n[[holidays]]\nname = \"x\"\nname_en = \"x\"\nstart = 2030-01-01T00:00:00\nend = 2030-01-01\n";
        assert_eq!(
            WorkCalendar::parse_year_table(text).unwrap_err().code(),
            "calendar.parse"
        );
    }

    #[test]
    fn weekday_of_samples() {
        let cal = WorkCalendar::official();
        assert!(cal.is_workday(date(2025, 1, 2)).unwrap());
        assert!(!cal.is_workday(date(2025, 1, 4)).unwrap());
        assert!(cal.is_workday(date(2025, 1, 26)).unwrap());
    }
}
