//! Working-day deadlines of REQUIREMENTS as a per-deployment policy.
//!
//! DESIGN principle 6: every deadline is a setting whose default is the strictest
//! one found in the seed regulations; a deployment may override any of them
//! (for example to follow its own region's rule). Days are working days counted
//! on [`WorkCalendar`], the day of receipt not counted.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::calendar::{CalendarError, WorkCalendar};

/// Largest accepted deadline, in working days.
const MAX_DAYS: u32 = 365;

/// One working-day deadline named by REQUIREMENTS.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// CAT-2: the data authority reviews a submitted or updated catalog entry (HZ 12: 5d).
    CatalogAuthorityReview,
    /// CAT-2: a department updates its catalog after a change of law or function (XJ 11, HZ 12: 15d).
    CatalogUpdateAfterChange,
    /// SHR-4, SHR-5: the platform's conformity check of a sharing request (XJ 21(1)(2): 3d).
    ShareConformityCheck,
    /// SHR-5: the source department answers a conditional sharing request (HZ 24: 2d; CZ 40 and XJ 21(2): 5d).
    ShareSourceAnswer,
    /// SHR-5: after agreeing, the source department delivers the data (HZ 24: 3d from the answer).
    ShareDelivery,
    /// SHR-7: the source confirms a demand for data not yet in the catalog (HZ 24: 5d).
    ShareDemandConfirmation,
    /// COL-4: business data is refreshed after it is produced (CZ 34: 5d).
    DataFreshness,
    /// GOV-2: feedback on inconsistent or wrong data found by cross-checking (CZ 41: 5d).
    CrossCheckFeedback,
    /// GOV-4: the source answers a user department's objection (HZ 28: 10d).
    ObjectionAnswer,
    /// GOV-4: a data subject's objection is checked and the data corrected or confirmed (HZ 28: 10d).
    SubjectObjectionCheck,
    /// OPN-4: answer to an application for conditionally open data (HZ 37: 20d).
    OpenConditionalAnswer,
    /// OPN-9: the source answers the public's report on open data (XJ 30 says "at
    /// once" without a count; 5d, as CZ 41 gives for feedback on wrong data).
    OpenFeedbackAnswer,
    /// DEV-4: the source reviews and answers a development-use data demand (ZY 8: 15d).
    DevelopmentReview,
    /// DEV-4: the one extension of that review, at most (ZY 8: 15d).
    DevelopmentReviewExtension,
}

/// Static facts of one deadline.
struct Spec {
    kind: DeadlineKind,
    key: &'static str,
    label_zh: &'static str,
    label_en: &'static str,
    requirement: &'static str,
    basis: &'static str,
    days: u32,
}

/// Facts of every deadline, in [`DeadlineKind::all`] order.
const SPECS: [Spec; 14] = [
    Spec {
        kind: DeadlineKind::CatalogAuthorityReview,
        key: "catalog_authority_review",
        label_zh: "主管部门审定目录",
        label_en: "Catalog review by the data authority",
        requirement: "CAT-2",
        basis: "HZ 12",
        days: 5,
    },
    Spec {
        kind: DeadlineKind::CatalogUpdateAfterChange,
        key: "catalog_update_after_change",
        label_zh: "依据或职能变化后更新目录",
        label_en: "Catalog update after a change of law or function",
        requirement: "CAT-2",
        basis: "XJ 11; HZ 12",
        days: 15,
    },
    Spec {
        kind: DeadlineKind::ShareConformityCheck,
        key: "share_conformity_check",
        label_zh: "共享申请符合性审查",
        label_en: "Conformity check of a sharing request",
        requirement: "SHR-4",
        basis: "XJ 21(1); XJ 21(2)",
        days: 3,
    },
    Spec {
        kind: DeadlineKind::ShareSourceAnswer,
        key: "share_source_answer",
        label_zh: "数源部门答复有条件共享申请",
        label_en: "Source department's answer to a conditional sharing request",
        requirement: "SHR-5",
        basis: "HZ 24; CZ 40; XJ 21(2)",
        days: 2,
    },
    Spec {
        kind: DeadlineKind::ShareDelivery,
        key: "share_delivery",
        label_zh: "同意后完成共享实施",
        label_en: "Delivery of agreed shared data",
        requirement: "SHR-5",
        basis: "HZ 24",
        days: 3,
    },
    Spec {
        kind: DeadlineKind::ShareDemandConfirmation,
        key: "share_demand_confirmation",
        label_zh: "确认未编目数据的共享需求",
        label_en: "Confirmation of a demand for uncatalogued data",
        requirement: "SHR-7",
        basis: "HZ 24",
        days: 5,
    },
    Spec {
        kind: DeadlineKind::DataFreshness,
        key: "data_freshness",
        label_zh: "业务数据产生后更新",
        label_en: "Refresh of business data after it is produced",
        requirement: "COL-4",
        basis: "CZ 34",
        days: 5,
    },
    Spec {
        kind: DeadlineKind::CrossCheckFeedback,
        key: "cross_check_feedback",
        label_zh: "比对核查结果反馈",
        label_en: "Feedback on cross-check findings",
        requirement: "GOV-2",
        basis: "CZ 41",
        days: 5,
    },
    Spec {
        kind: DeadlineKind::ObjectionAnswer,
        key: "objection_answer",
        label_zh: "数源部门处理或答复数据异议",
        label_en: "Source department's answer to a data objection",
        requirement: "GOV-4",
        basis: "HZ 28",
        days: 10,
    },
    Spec {
        kind: DeadlineKind::SubjectObjectionCheck,
        key: "subject_objection_check",
        label_zh: "数据主体异议校核",
        label_en: "Check of a data subject's objection",
        requirement: "GOV-4",
        basis: "HZ 28",
        days: 10,
    },
    Spec {
        kind: DeadlineKind::OpenConditionalAnswer,
        key: "open_conditional_answer",
        label_zh: "答复有条件开放数据申请",
        label_en: "Answer to an application for conditionally open data",
        requirement: "OPN-4",
        basis: "HZ 37",
        days: 20,
    },
    Spec {
        kind: DeadlineKind::OpenFeedbackAnswer,
        key: "open_feedback_answer",
        label_zh: "核实并答复公众对开放数据的意见",
        label_en: "Check and answer the public's report on open data",
        requirement: "OPN-9",
        basis: "XJ 30, CZ 41",
        days: 5,
    },
    Spec {
        kind: DeadlineKind::DevelopmentReview,
        key: "development_review",
        label_zh: "开发利用数据需求审核答复",
        label_en: "Review of a development-use data demand",
        requirement: "DEV-4",
        basis: "ZY 8",
        days: 15,
    },
    Spec {
        kind: DeadlineKind::DevelopmentReviewExtension,
        key: "development_review_extension",
        label_zh: "开发利用审核延长期限（上限）",
        label_en: "Extension of a development-use review (maximum)",
        requirement: "DEV-4",
        basis: "ZY 8",
        days: 15,
    },
];

const ALL: [DeadlineKind; 14] = [
    DeadlineKind::CatalogAuthorityReview,
    DeadlineKind::CatalogUpdateAfterChange,
    DeadlineKind::ShareConformityCheck,
    DeadlineKind::ShareSourceAnswer,
    DeadlineKind::ShareDelivery,
    DeadlineKind::ShareDemandConfirmation,
    DeadlineKind::DataFreshness,
    DeadlineKind::CrossCheckFeedback,
    DeadlineKind::ObjectionAnswer,
    DeadlineKind::SubjectObjectionCheck,
    DeadlineKind::OpenConditionalAnswer,
    DeadlineKind::OpenFeedbackAnswer,
    DeadlineKind::DevelopmentReview,
    DeadlineKind::DevelopmentReviewExtension,
];

impl DeadlineKind {
    /// Every deadline, in declaration order.
    pub fn all() -> &'static [DeadlineKind] {
        &ALL
    }

    fn spec(&self) -> &'static Spec {
        &SPECS[*self as usize]
    }

    /// Snake-case key, the same as its serde form and its setting name.
    pub fn key(&self) -> &'static str {
        self.spec().key
    }

    /// Parses a snake-case key.
    pub fn parse(key: &str) -> Option<Self> {
        SPECS.iter().find(|s| s.key == key).map(|s| s.kind)
    }

    /// Chinese label.
    pub fn label_zh(&self) -> &'static str {
        self.spec().label_zh
    }

    /// English label.
    pub fn label_en(&self) -> &'static str {
        self.spec().label_en
    }

    /// The REQUIREMENTS ID the deadline serves, e.g. `"CAT-2"`.
    pub fn requirement(&self) -> &'static str {
        self.spec().requirement
    }

    /// Seed articles that set the deadline, e.g. `"XJ 11; HZ 12"`.
    pub fn basis(&self) -> &'static str {
        self.spec().basis
    }

    /// The strictest number of working days among the seeds.
    pub fn strictest_default(&self) -> u32 {
        self.spec().days
    }
}

impl std::fmt::Display for DeadlineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// Why a deadline setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    /// The setting names no known deadline.
    #[error("unknown deadline setting '{0}'; known settings: {known}", known = known_keys())]
    UnknownKey(String),
    /// The value is not a whole number of working days from 1 to 365.
    #[error("invalid value {reason} for deadline setting '{key}': must be a whole number of working days from 1 to 365")]
    Invalid {
        /// The setting's key.
        key: String,
        /// The rejected value, written as TOML.
        reason: String,
    },
    /// The settings text is not valid TOML.
    #[error("deadline settings are not valid TOML: {0}")]
    Parse(String),
}

fn known_keys() -> String {
    ALL.iter().map(|k| k.key()).collect::<Vec<_>>().join(", ")
}

impl DeadlineError {
    /// Stable machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownKey(_) => "deadline.unknown_key",
            Self::Invalid { .. } => "deadline.invalid",
            Self::Parse(_) => "deadline.parse",
        }
    }

    /// Message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Self::UnknownKey(key) => {
                format!("未知的截止期限设置“{key}”；可用的设置有：{}", known_keys())
            }
            Self::Invalid { key, reason } => {
                format!("截止期限设置“{key}”的取值 {reason} 无效：应为 1 至 365 之间的整数个工作日")
            }
            Self::Parse(detail) => format!("截止期限设置不是有效的 TOML：{detail}"),
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

/// The deadlines one deployment applies, in working days (DESIGN principle 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlinePolicy {
    days: BTreeMap<DeadlineKind, u32>,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        Self::strictest()
    }
}

impl DeadlinePolicy {
    /// Every deadline at its strictest seed value.
    pub fn strictest() -> Self {
        Self {
            days: SPECS.iter().map(|s| (s.kind, s.days)).collect(),
        }
    }

    /// Applies overrides from TOML such as `catalog_authority_review = 12`
    /// (working days, 1..=365). An unknown key or a bad value is an error.
    pub fn with_overrides_toml(self, text: &str) -> Result<Self, DeadlineError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| DeadlineError::Parse(e.to_string().trim().to_owned()))?;
        self.with_overrides_table(&table)
    }

    /// Applies overrides from an already parsed TOML table (e.g. the `[deadlines]`
    /// section of a configuration file), with the rules of [`Self::with_overrides_toml`].
    pub fn with_overrides_table(mut self, table: &toml::Table) -> Result<Self, DeadlineError> {
        for (key, value) in table {
            let kind =
                DeadlineKind::parse(key).ok_or_else(|| DeadlineError::UnknownKey(key.clone()))?;
            let days = value
                .as_integer()
                .and_then(|i| u32::try_from(i).ok())
                .ok_or_else(|| DeadlineError::Invalid {
                    key: key.clone(),
                    reason: value.to_string(),
                })?;
            self = self.with_override(kind, days)?;
        }
        Ok(self)
    }

    /// Sets one deadline (working days, 1..=365).
    pub fn with_override(mut self, kind: DeadlineKind, days: u32) -> Result<Self, DeadlineError> {
        if days == 0 || days > MAX_DAYS {
            return Err(DeadlineError::Invalid {
                key: kind.key().to_owned(),
                reason: days.to_string(),
            });
        }
        self.days.insert(kind, days);
        Ok(self)
    }

    /// Working days allowed for `kind`.
    pub fn days(&self, kind: DeadlineKind) -> u32 {
        self.days
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.strictest_default())
    }

    /// Every deadline and its working days, in [`DeadlineKind::all`] order.
    pub fn entries(&self) -> Vec<(DeadlineKind, u32)> {
        ALL.iter().map(|k| (*k, self.days(*k))).collect()
    }

    /// Due date of a `kind` deadline that starts on `start` (the day of receipt,
    /// not counted). Err(NoTable) when the count reaches a year without a table.
    pub fn due(
        &self,
        cal: &WorkCalendar,
        kind: DeadlineKind,
        start: NaiveDate,
    ) -> Result<NaiveDate, CalendarError> {
        cal.add_workdays(start, self.days(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn specs_follow_declaration_order() {
        for (i, kind) in ALL.iter().enumerate() {
            assert_eq!(SPECS[i].kind, *kind);
            assert_eq!(*kind as usize, i);
        }
    }

    #[test]
    fn keys_match_serde_and_round_trip() {
        for kind in DeadlineKind::all() {
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.key()));
            assert_eq!(DeadlineKind::parse(kind.key()), Some(*kind));
            assert!(!kind.label_zh().is_empty() && !kind.label_en().is_empty());
            assert!(!kind.basis().is_empty() && !kind.requirement().is_empty());
        }
        assert_eq!(DeadlineKind::parse("nope"), None);
    }

    #[test]
    fn strictest_defaults_follow_the_seeds() {
        let p = DeadlinePolicy::default();
        let expected = [
            (DeadlineKind::CatalogAuthorityReview, 5),
            (DeadlineKind::CatalogUpdateAfterChange, 15),
            (DeadlineKind::ShareConformityCheck, 3),
            (DeadlineKind::ShareSourceAnswer, 2),
            (DeadlineKind::ShareDelivery, 3),
            (DeadlineKind::ShareDemandConfirmation, 5),
            (DeadlineKind::DataFreshness, 5),
            (DeadlineKind::CrossCheckFeedback, 5),
            (DeadlineKind::ObjectionAnswer, 10),
            (DeadlineKind::SubjectObjectionCheck, 10),
            (DeadlineKind::OpenConditionalAnswer, 20),
            (DeadlineKind::OpenFeedbackAnswer, 5),
            (DeadlineKind::DevelopmentReview, 15),
            (DeadlineKind::DevelopmentReviewExtension, 15),
        ];
        assert_eq!(p.entries(), expected.to_vec());
    }

    #[test]
    fn cat_2_authority_review_deadline_counts_working_days() {
        let cal = WorkCalendar::official();
        let p = DeadlinePolicy::strictest();
        // Received Fri 2025-09-26: Sun 09-28 is worked (调休), 09-29, 09-30, then
        // the National Day break 10-01..10-08, then 10-09 and 10-10.
        let due = p
            .due(
                &cal,
                DeadlineKind::CatalogAuthorityReview,
                date(2025, 9, 26),
            )
            .unwrap();
        assert_eq!(due, date(2025, 10, 10));
    }

    #[test]
    fn cat_2_catalog_update_within_15_workdays() {
        let cal = WorkCalendar::official();
        let p = DeadlinePolicy::strictest();
        // Mon 2026-03-02 + 15 working days, no holiday in between: three weeks.
        let due = p
            .due(
                &cal,
                DeadlineKind::CatalogUpdateAfterChange,
                date(2026, 3, 2),
            )
            .unwrap();
        assert_eq!(due, date(2026, 3, 23));
    }

    #[test]
    fn shr_4_conformity_check_within_3_workdays_across_new_year() {
        let cal = WorkCalendar::official();
        let p = DeadlinePolicy::strictest();
        // Wed 2025-12-31: 2026-01-01..03 off, Sun 01-04 worked, then Mon 01-05, Tue 01-06.
        let due = p
            .due(&cal, DeadlineKind::ShareConformityCheck, date(2025, 12, 31))
            .unwrap();
        assert_eq!(due, date(2026, 1, 6));
    }

    #[test]
    fn shr_5_source_answer_defaults_to_hz_24_two_workdays() {
        let cal = WorkCalendar::official();
        let p = DeadlinePolicy::strictest();
        // Thu 2026-02-12: Fri 02-13, then Sat 02-14 is an adjusted working day.
        let due = p
            .due(&cal, DeadlineKind::ShareSourceAnswer, date(2026, 2, 12))
            .unwrap();
        assert_eq!(due, date(2026, 2, 14));
        // Delivery 3 working days after the answer: 02-15..02-23 are off.
        let delivered = p.due(&cal, DeadlineKind::ShareDelivery, due).unwrap();
        assert_eq!(delivered, date(2026, 2, 26));
    }

    #[test]
    fn shr_5_deployment_may_follow_xj_21_five_workdays() {
        let p = DeadlinePolicy::strictest()
            .with_overrides_toml("share_source_answer = 5\n")
            .unwrap();
        assert_eq!(p.days(DeadlineKind::ShareSourceAnswer), 5);
        assert_eq!(p.days(DeadlineKind::ShareDelivery), 3);
    }

    #[test]
    fn opn_4_conditional_open_answer_within_20_workdays() {
        let cal = WorkCalendar::official();
        let p = DeadlinePolicy::strictest();
        let start = date(2025, 9, 15);
        let due = p
            .due(&cal, DeadlineKind::OpenConditionalAnswer, start)
            .unwrap();
        assert_eq!(cal.workdays_between(start, due).unwrap(), 20);
        // 09-16..09-30 gives 12 (with Sun 09-28), then 10-09, 10-10, Sat 10-11, 10-13..10-17.
        assert_eq!(due, date(2025, 10, 17));
    }

    #[test]
    fn dev_4_review_and_extension_15_workdays_each() {
        let cal = WorkCalendar::official();
        let p = DeadlinePolicy::strictest();
        let first = p
            .due(&cal, DeadlineKind::DevelopmentReview, date(2026, 4, 1))
            .unwrap();
        let extended = p
            .due(&cal, DeadlineKind::DevelopmentReviewExtension, first)
            .unwrap();
        assert_eq!(
            cal.workdays_between(date(2026, 4, 1), extended).unwrap(),
            30
        );
    }

    #[test]
    fn due_refuses_a_year_without_table() {
        let cal = WorkCalendar::official();
        let p = DeadlinePolicy::strictest();
        let err = p
            .due(
                &cal,
                DeadlineKind::OpenConditionalAnswer,
                date(2026, 12, 20),
            )
            .unwrap_err();
        assert_eq!(err, CalendarError::NoTable { year: 2027 });
    }

    #[test]
    fn overrides_are_checked() {
        let p = DeadlinePolicy::strictest();
        let err = p
            .clone()
            .with_overrides_toml("no_such_deadline = 3")
            .unwrap_err();
        assert_eq!(err, DeadlineError::UnknownKey("no_such_deadline".into()));
        assert_eq!(err.code(), "deadline.unknown_key");
        let err = p
            .clone()
            .with_overrides_toml("data_freshness = 0")
            .unwrap_err();
        assert_eq!(
            err,
            DeadlineError::Invalid {
                key: "data_freshness".into(),
                reason: "0".into()
            }
        );
        assert_eq!(
            err.message_zh(),
            "截止期限设置“data_freshness”的取值 0 无效：应为 1 至 365 之间的整数个工作日"
        );
        assert!(p
            .clone()
            .with_overrides_toml("data_freshness = 366")
            .is_err());
        assert!(p
            .clone()
            .with_overrides_toml("data_freshness = -1")
            .is_err());
        assert!(p
            .clone()
            .with_overrides_toml("data_freshness = \"5\"")
            .is_err());
        assert_eq!(
            p.clone()
                .with_overrides_toml("data_freshness = ")
                .unwrap_err()
                .code(),
            "deadline.parse"
        );
        let q = p
            .clone()
            .with_overrides_toml("catalog_authority_review = 12\ndata_freshness = 365")
            .unwrap();
        assert_eq!(q.days(DeadlineKind::CatalogAuthorityReview), 12);
        assert_eq!(q.days(DeadlineKind::DataFreshness), 365);
        assert_ne!(q, p);
        assert_eq!(
            p.with_overrides_toml("").unwrap(),
            DeadlinePolicy::strictest()
        );
    }
}
