//! OPN-8 (HZ 30, HZ 36, XJ 31, JY 26): yearly open plans and priority domains.
//!
//! Each public body, through its chief data officer, makes a yearly plan of the
//! datasets it will open — existing catalog entries, or ones still to be catalogued —
//! from the year's open priorities, names the department and person responsible, and
//! files it with the data authority of its level (HZ 36). The authority accepts the
//! plan or returns it with reasons, gathers the level's plans and publishes them
//! (HZ 36), and sets the year's priority domains after hearing the sectors and the
//! public (HZ 30, XJ 31). A planned dataset is done once it is in the open catalog.
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::catalog::{Domain, FieldError, OpenType};
use crate::org::labelled_enum;

labelled_enum! {
    /// OPN-8 (HZ 36): where a body's yearly plan stands.
    PlanStatus {
        Draft => "draft", "草稿", "Draft";
        Filed => "filed", "已报备待审核", "Filed, awaiting review";
        Accepted => "accepted", "已备案", "Accepted";
        Returned => "returned", "已退回", "Returned";
    }
}

labelled_enum! {
    /// OPN-8: what the authority decides on a filed plan.
    PlanDecision {
        Accept => "accept", "备案通过", "Accept";
        Return => "return", "退回修改", "Return";
    }
}

/// OPN-8: a change of state a plan cannot make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The plan is with the authority: it is answered before it changes again.
    #[error("the plan is under review")]
    UnderReview,
    /// Only a filed plan is reviewed.
    #[error("the plan is not filed")]
    NotFiled,
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::UnderReview => "open_plan.under_review",
            PlanError::NotFiled => "open_plan.not_filed",
        }
    }
    pub fn message_zh(&self) -> &'static str {
        match self {
            PlanError::UnderReview => "计划已报备，主管部门审核期间不能修改",
            PlanError::NotFiled => "只有已报备的计划可以审核",
        }
    }
    pub fn message_en(&self) -> &'static str {
        match self {
            PlanError::UnderReview => {
                "the plan is filed: it cannot change while the authority reviews it"
            }
            PlanError::NotFiled => "only a filed plan can be reviewed",
        }
    }
}

/// OPN-8: one dataset a body plans to open in the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The resource code of the catalog entry opened; None while the dataset is only
    /// planned (it is linked once catalogued).
    #[serde(default)]
    pub resource: Option<String>,
    pub name: String,
    pub domain: Domain,
    /// The intended open type: unconditional or conditional.
    pub open_type: OpenType,
    /// The quarter (1–4) it is to be opened by.
    #[serde(default)]
    pub quarter: Option<u8>,
    /// The day it is to be opened by, when one is set.
    #[serde(default)]
    pub target_date: Option<NaiveDate>,
    /// HZ 36 (责任清单): who answers for this dataset, when not the plan's
    /// responsible department.
    #[serde(default)]
    pub responsible: String,
    #[serde(default)]
    pub note: String,
}

/// The last day of `quarter` (1–4) of `year`.
pub fn quarter_end(year: i32, quarter: u8) -> Option<NaiveDate> {
    let (m, d) = match quarter {
        1 => (3, 31),
        2 => (6, 30),
        3 => (9, 30),
        4 => (12, 31),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, m, d)
}

/// The quarter (1–4) a day falls in.
pub fn quarter_of(day: NaiveDate) -> u8 {
    (day.month0() / 3 + 1) as u8
}

impl PlanItem {
    /// The day it is due: the target date, else the end of its quarter, else the
    /// end of the plan's year.
    pub fn due(&self, year: i32) -> Option<NaiveDate> {
        self.target_date
            .or_else(|| self.quarter.and_then(|q| quarter_end(year, q)))
            .or_else(|| NaiveDate::from_ymd_opt(year, 12, 31))
    }

    /// The same item with its catalog link taken away (to compare revisions).
    fn unlinked(&self) -> PlanItem {
        PlanItem {
            resource: None,
            ..self.clone()
        }
    }
}

/// OPN-8 (HZ 36): what a body's yearly plan says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanContent {
    /// HZ 36: the chief data officer (首席数据官) who leads the body's opening work.
    #[serde(default)]
    pub chief_data_officer: String,
    /// HZ 36: the department and the person responsible.
    #[serde(default)]
    pub responsible_department: String,
    #[serde(default)]
    pub responsible_person: String,
    #[serde(default)]
    pub items: Vec<PlanItem>,
    #[serde(default)]
    pub notes: String,
}

/// OPN-8: whether `after` differs from `before` only by datasets now linked to their
/// catalog entries (a link set where there was none): such a revision records the
/// progress of an accepted plan and needs no new review.
pub fn links_only(before: &PlanContent, after: &PlanContent) -> bool {
    before.chief_data_officer == after.chief_data_officer
        && before.responsible_department == after.responsible_department
        && before.responsible_person == after.responsible_person
        && before.notes == after.notes
        && before.items.len() == after.items.len()
        && before.items.iter().zip(&after.items).all(|(b, a)| {
            b.unlinked() == a.unlinked() && (b.resource.is_none() || b.resource == a.resource)
        })
}

/// OPN-8 (HZ 36): the state after the body saves (`file` false) or files (`file`
/// true) its plan, from `status` (None: no plan yet). Saving keeps a draft and
/// takes an accepted or returned plan back to draft (the accepted version stays
/// published until a new one is accepted); filing hands it to the authority. A
/// filed plan waits for the authority's answer. A save that only links datasets to
/// their catalog entries keeps the state.
pub fn after_save(
    status: Option<PlanStatus>,
    before: Option<&PlanContent>,
    after: &PlanContent,
    file: bool,
) -> Result<PlanStatus, PlanError> {
    if let (Some(s), Some(b), false) = (status, before, file) {
        if links_only(b, after) {
            return Ok(s);
        }
    }
    match status {
        Some(PlanStatus::Filed) => Err(PlanError::UnderReview),
        _ if file => Ok(PlanStatus::Filed),
        _ => Ok(PlanStatus::Draft),
    }
}

/// OPN-8 (HZ 36): the state after the authority's decision on a plan in `status`.
pub fn after_review(status: PlanStatus, decision: PlanDecision) -> Result<PlanStatus, PlanError> {
    match (status, decision) {
        (PlanStatus::Filed, PlanDecision::Accept) => Ok(PlanStatus::Accepted),
        (PlanStatus::Filed, PlanDecision::Return) => Ok(PlanStatus::Returned),
        _ => Err(PlanError::NotFiled),
    }
}

/// The longest name of a planned dataset, in characters.
pub const NAME_MAX: usize = 100;
/// The longest free text (notes, reasons, hearing records), in characters.
pub const TEXT_MAX: usize = 4000;
/// The most datasets one plan lists.
pub const ITEMS_MAX: usize = 500;

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn too_long(out: &mut Vec<FieldError>, field: &str, text: &str, max: usize) {
    if text.chars().count() > max {
        out.push(FieldError::new(
            field,
            "open_plan.too_long",
            format!("内容过长：不能超过 {max} 个字"),
            format!("too long: at most {max} characters"),
        ));
    }
}

/// OPN-8: whether a plan may be made for `year` on `today`: this year, the next
/// (plans are made ahead), or the last (filed late at the turn of the year).
pub fn check_year(year: i32, today: NaiveDate) -> Option<FieldError> {
    let now = today.year();
    if (now - 1..=now + 1).contains(&year) {
        return None;
    }
    Some(FieldError::new(
        "year",
        "open_plan.year_out_of_range",
        format!("年度须在 {} 至 {} 年之间", now - 1, now + 1),
        format!("the year must be between {} and {}", now - 1, now + 1),
    ))
}

/// OPN-8 (HZ 36): the rules a plan of `year` meets. A draft may be incomplete; a
/// plan being filed lists at least one dataset and names the chief data officer and
/// the responsible department and person. Every dataset listed has a name, an open
/// type that opens it (not-open data is not planned for opening), and a quarter or
/// a target date within the year (in that quarter when both are given); no catalog
/// entry is listed twice.
pub fn check_plan(year: i32, plan: &PlanContent, filing: bool) -> Vec<FieldError> {
    let mut out = Vec::new();
    if filing {
        for (field, value, zh, en) in [
            (
                "chief_data_officer",
                &plan.chief_data_officer,
                "请填写统筹开放工作的首席数据官（HZ 36）",
                "name the chief data officer who leads the opening work (HZ 36)",
            ),
            (
                "responsible_department",
                &plan.responsible_department,
                "请填写具体责任部门（HZ 36）",
                "name the responsible department (HZ 36)",
            ),
            (
                "responsible_person",
                &plan.responsible_person,
                "请填写具体责任人员（HZ 36）",
                "name the responsible person (HZ 36)",
            ),
        ] {
            if blank(value) {
                out.push(FieldError::new(
                    field,
                    "open_plan.responsible_required",
                    zh,
                    en,
                ));
            }
        }
        if plan.items.is_empty() {
            out.push(FieldError::new(
                "items",
                "open_plan.items_required",
                "开放计划须列出至少一个拟开放的数据集",
                "the plan must list at least one dataset to open",
            ));
        }
    }
    for (field, value, max) in [
        ("chief_data_officer", &plan.chief_data_officer, NAME_MAX),
        (
            "responsible_department",
            &plan.responsible_department,
            NAME_MAX,
        ),
        ("responsible_person", &plan.responsible_person, NAME_MAX),
        ("notes", &plan.notes, TEXT_MAX),
    ] {
        too_long(&mut out, field, value, max);
    }
    if plan.items.len() > ITEMS_MAX {
        out.push(FieldError::new(
            "items",
            "open_plan.too_many_items",
            format!("一份计划最多列出 {ITEMS_MAX} 个数据集"),
            format!("a plan lists at most {ITEMS_MAX} datasets"),
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, item) in plan.items.iter().enumerate() {
        let at = |f: &str| format!("items[{i}].{f}");
        if blank(&item.name) {
            out.push(FieldError::new(
                at("name"),
                "open_plan.name_required",
                format!("第 {} 项：请填写数据集名称", i + 1),
                format!("item {}: the dataset's name is required", i + 1),
            ));
        }
        too_long(&mut out, &at("name"), &item.name, NAME_MAX);
        too_long(&mut out, &at("responsible"), &item.responsible, NAME_MAX);
        too_long(&mut out, &at("note"), &item.note, TEXT_MAX);
        if item.open_type == OpenType::NotOpen {
            out.push(FieldError::new(
                at("open_type"),
                "open_plan.not_open",
                format!("第 {} 项：开放计划只列拟无条件或有条件开放的数据", i + 1),
                format!(
                    "item {}: a plan lists only data to open, unconditionally or on conditions",
                    i + 1
                ),
            ));
        }
        match (item.quarter, item.target_date) {
            (None, None) => out.push(FieldError::new(
                at("quarter"),
                "open_plan.target_required",
                format!("第 {} 项：请填写计划开放的季度或日期", i + 1),
                format!("item {}: give the quarter or the day it opens by", i + 1),
            )),
            (Some(q), _) if !(1..=4).contains(&q) => out.push(FieldError::new(
                at("quarter"),
                "open_plan.bad_quarter",
                format!("第 {} 项：季度须为 1 至 4", i + 1),
                format!("item {}: the quarter is 1 to 4", i + 1),
            )),
            (_, Some(d)) if d.year() != year => out.push(FieldError::new(
                at("target_date"),
                "open_plan.date_outside_year",
                format!("第 {} 项：计划日期须在 {year} 年内", i + 1),
                format!("item {}: the target day must fall in {year}", i + 1),
            )),
            (Some(q), Some(d)) if quarter_of(d) != q => out.push(FieldError::new(
                at("target_date"),
                "open_plan.date_outside_quarter",
                format!("第 {} 项：计划日期不在第 {q} 季度", i + 1),
                format!("item {}: the target day is not in quarter {q}", i + 1),
            )),
            _ => {}
        }
        if let Some(r) = item.resource.as_deref() {
            if seen.contains(&r) {
                out.push(FieldError::new(
                    at("resource"),
                    "open_plan.duplicate_resource",
                    format!("第 {} 项：资源 {r} 已在计划中", i + 1),
                    format!("item {}: resource {r} is already in the plan", i + 1),
                ));
            }
            seen.push(r);
        }
    }
    out
}

/// OPN-8 (HZ 36): the reasons of a decision: required when the plan is returned,
/// so the body knows what to change.
pub fn check_review(decision: PlanDecision, reasons: &str) -> Option<FieldError> {
    if decision == PlanDecision::Return && blank(reasons) {
        return Some(FieldError::new(
            "reasons",
            "open_plan.reasons_required",
            "退回计划须写明理由",
            "returning a plan requires the reasons",
        ));
    }
    (reasons.chars().count() > TEXT_MAX).then(|| {
        FieldError::new(
            "reasons",
            "open_plan.too_long",
            format!("理由不能超过 {TEXT_MAX} 个字"),
            format!("the reasons may have at most {TEXT_MAX} characters"),
        )
    })
}

/// OPN-8 (HZ 30, XJ 31): the year's priority domains as the authority publishes
/// them, with what it heard from the sectors and the public.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priorities {
    pub domains: Vec<Domain>,
    /// HZ 30: what the sector authorities said (hearings, letters asked and answered).
    pub sector_hearing: String,
    /// HZ 30, XJ 31: what the public said (consultation, survey of demand).
    pub public_hearing: String,
    #[serde(default)]
    pub notes: String,
}

/// OPN-8 (HZ 30): the rules published priorities meet: at least one domain, none
/// twice, and the basis — both the sectors' and the public's opinions — recorded.
pub fn check_priorities(p: &Priorities) -> Vec<FieldError> {
    let mut out = Vec::new();
    if p.domains.is_empty() {
        out.push(FieldError::new(
            "domains",
            "open_priorities.domains_required",
            "请选择至少一个重点开放领域",
            "choose at least one priority domain",
        ));
    }
    for (i, d) in p.domains.iter().enumerate() {
        if p.domains[..i].contains(d) {
            out.push(FieldError::new(
                "domains",
                "open_priorities.duplicate_domain",
                format!("领域“{}”重复", d.label_zh()),
                format!("domain '{}' is listed twice", d.label_en()),
            ));
        }
    }
    if blank(&p.sector_hearing) {
        out.push(FieldError::new(
            "sector_hearing",
            "open_priorities.sector_hearing_required",
            "确定开放重点须听取相关行业主管部门的意见（HZ 30），请记录听取情况",
            "priorities are set after hearing the sector authorities (HZ 30): record what they said",
        ));
    }
    if blank(&p.public_hearing) {
        out.push(FieldError::new(
            "public_hearing",
            "open_priorities.public_hearing_required",
            "确定开放重点须听取社会公众的意见（HZ 30、XJ 31），请记录征求意见情况",
            "priorities are set after hearing the public (HZ 30, XJ 31): record what it said",
        ));
    }
    for (field, text) in [
        ("sector_hearing", &p.sector_hearing),
        ("public_hearing", &p.public_hearing),
        ("notes", &p.notes),
    ] {
        too_long(&mut out, field, text, TEXT_MAX);
    }
    out
}

/// OPN-8: how far a plan (or a level's plans) has come: datasets listed and
/// datasets in the open catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub items: usize,
    pub done: usize,
}

impl Progress {
    /// The share done, in whole percent rounded down (0 for an empty plan).
    pub fn percent(&self) -> u32 {
        (self.done * 100).checked_div(self.items).unwrap_or(0) as u32
    }
}

impl std::ops::Add for Progress {
    type Output = Progress;

    fn add(self, other: Progress) -> Progress {
        Progress {
            items: self.items + other.items,
            done: self.done + other.done,
        }
    }
}

/// OPN-8: whether a planned dataset is done: linked to a catalog entry that
/// `in_open_catalog` finds in the body's open catalog.
pub fn item_done(item: &PlanItem, in_open_catalog: impl Fn(&str) -> bool) -> bool {
    item.resource.as_deref().is_some_and(in_open_catalog)
}

/// OPN-8: the progress of a plan's datasets against the open catalog.
pub fn progress(items: &[PlanItem], in_open_catalog: impl Fn(&str) -> bool) -> Progress {
    Progress {
        items: items.len(),
        done: items
            .iter()
            .filter(|i| item_done(i, &in_open_catalog))
            .count(),
    }
}

/// OPN-8: whether a dataset not yet open is past the day it was due.
pub fn overdue(item: &PlanItem, year: i32, done: bool, today: NaiveDate) -> bool {
    !done && item.due(year).is_some_and(|d| d < today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn item(name: &str, resource: Option<&str>) -> PlanItem {
        PlanItem {
            resource: resource.map(str::to_string),
            name: name.into(),
            domain: Domain::Transport,
            open_type: OpenType::Unconditional,
            quarter: Some(2),
            target_date: None,
            responsible: String::new(),
            note: String::new(),
        }
    }

    fn plan(items: Vec<PlanItem>) -> PlanContent {
        PlanContent {
            chief_data_officer: "张首席".into(),
            responsible_department: "信息中心".into(),
            responsible_person: "李明".into(),
            items,
            notes: String::new(),
        }
    }

    #[test]
    fn opn_8_progress_counts_linked_datasets_in_the_open_catalog() {
        let open = ["410-000001", "410-000002"];
        let is_open = |r: &str| open.contains(&r);
        let p = plan(vec![
            item("公交线路", Some("410-000001")),
            item("公交站点", Some("410-000002")),
            item("停车场", Some("410-000009")),
            item("充电桩", None),
        ]);
        let got = progress(&p.items, is_open);
        assert_eq!(got, Progress { items: 4, done: 2 });
        assert_eq!(got.percent(), 50);
        assert_eq!(Progress { items: 3, done: 2 }.percent(), 66);
        assert_eq!(Progress::default().percent(), 0);
        assert_eq!(
            got + Progress { items: 1, done: 1 },
            Progress { items: 5, done: 3 }
        );
        // A planned dataset is done once it is opened: its entry enters the catalog.
        let later = ["410-000001", "410-000002", "410-000009"];
        assert_eq!(progress(&p.items, |r| later.contains(&r)).done, 3);
    }

    #[test]
    fn opn_8_draft_filed_then_accepted_or_returned() {
        use PlanStatus::*;
        let p = plan(vec![item("公交线路", None)]);
        assert_eq!(after_save(None, None, &p, false), Ok(Draft));
        assert_eq!(after_save(None, None, &p, true), Ok(Filed));
        assert_eq!(after_save(Some(Draft), Some(&p), &p, true), Ok(Filed));
        assert_eq!(
            after_save(Some(Filed), Some(&p), &p, true),
            Err(PlanError::UnderReview)
        );
        assert_eq!(after_review(Filed, PlanDecision::Accept), Ok(Accepted));
        assert_eq!(after_review(Filed, PlanDecision::Return), Ok(Returned));
        for s in [Draft, Accepted, Returned] {
            assert_eq!(
                after_review(s, PlanDecision::Accept),
                Err(PlanError::NotFiled)
            );
        }
        // A returned plan is revised and filed again.
        let mut revised = p.clone();
        revised.items[0].quarter = Some(3);
        assert_eq!(
            after_save(Some(Returned), Some(&p), &revised, false),
            Ok(Draft)
        );
        assert_eq!(
            after_save(Some(Returned), Some(&p), &revised, true),
            Ok(Filed)
        );
        // Revising an accepted plan takes it back to draft.
        assert_eq!(
            after_save(Some(Accepted), Some(&p), &revised, false),
            Ok(Draft)
        );
        for s in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(s.key()), Some(*s));
        }
    }

    #[test]
    fn opn_8_linking_a_planned_dataset_keeps_an_accepted_plan_accepted() {
        let before = plan(vec![
            item("公交线路", Some("410-000001")),
            item("充电桩", None),
        ]);
        let mut linked = before.clone();
        linked.items[1].resource = Some("410-000007".into());
        assert!(links_only(&before, &linked));
        assert_eq!(
            after_save(Some(PlanStatus::Accepted), Some(&before), &linked, false),
            Ok(PlanStatus::Accepted)
        );
        // Even while filed: a link records progress, not a new plan.
        assert_eq!(
            after_save(Some(PlanStatus::Filed), Some(&before), &linked, false),
            Ok(PlanStatus::Filed)
        );
        // Changing a link already set, or anything else, is a revision.
        let mut relinked = linked.clone();
        relinked.items[0].resource = Some("410-000099".into());
        assert!(!links_only(&linked, &relinked));
        let mut renamed = linked.clone();
        renamed.items[1].name = "公共充电设施".into();
        assert!(!links_only(&linked, &renamed));
        let mut more = linked.clone();
        more.items.push(item("加油站", None));
        assert!(!links_only(&linked, &more));
    }

    #[test]
    fn opn_8_filing_needs_responsible_people_datasets_and_targets_in_the_year() {
        let empty = PlanContent::default();
        assert!(
            check_plan(2026, &empty, false).is_empty(),
            "a draft may be empty"
        );
        let codes: Vec<&str> = check_plan(2026, &empty, true)
            .iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(
            codes
                .iter()
                .filter(|c| **c == "open_plan.responsible_required")
                .count(),
            3
        );
        assert!(codes.contains(&"open_plan.items_required"));

        assert!(check_plan(2026, &plan(vec![item("公交线路", None)]), true).is_empty());
        let mut bad = item("", Some("410-000001"));
        bad.open_type = OpenType::NotOpen;
        bad.quarter = Some(1);
        bad.target_date = Some(day(2026, 5, 1));
        let mut late = item("停车场", Some("410-000001"));
        late.quarter = None;
        late.target_date = Some(day(2027, 1, 5));
        let mut none = item("充电桩", None);
        none.quarter = None;
        let errors = check_plan(2026, &plan(vec![bad, late, none]), true);
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        for expected in [
            ("items[0].name", "open_plan.name_required"),
            ("items[0].open_type", "open_plan.not_open"),
            ("items[0].target_date", "open_plan.date_outside_quarter"),
            ("items[1].target_date", "open_plan.date_outside_year"),
            ("items[1].resource", "open_plan.duplicate_resource"),
            ("items[2].quarter", "open_plan.target_required"),
        ] {
            assert!(
                found.contains(&expected),
                "{expected:?} missing from {found:?}"
            );
        }
    }

    #[test]
    fn opn_8_due_days_and_overdue() {
        let mut i = item("公交线路", None);
        assert_eq!(i.due(2026), Some(day(2026, 6, 30)));
        i.target_date = Some(day(2026, 5, 20));
        assert_eq!(i.due(2026), Some(day(2026, 5, 20)));
        assert!(overdue(&i, 2026, false, day(2026, 5, 21)));
        assert!(!overdue(&i, 2026, true, day(2026, 5, 21)));
        assert!(!overdue(&i, 2026, false, day(2026, 5, 20)));
        assert_eq!(quarter_of(day(2026, 10, 1)), 4);
        assert_eq!(quarter_end(2026, 5), None);
    }

    #[test]
    fn opn_8_returning_needs_reasons_and_years_are_near() {
        assert!(check_review(PlanDecision::Return, "  ").is_some());
        assert!(check_review(PlanDecision::Return, "未列入交通领域重点数据").is_none());
        assert!(check_review(PlanDecision::Accept, "").is_none());
        let today = day(2026, 11, 23);
        assert!(check_year(2026, today).is_none());
        assert!(check_year(2027, today).is_none());
        assert!(check_year(2025, today).is_none());
        assert!(check_year(2024, today).is_some());
        assert!(check_year(2028, today).is_some());
    }

    #[test]
    fn opn_8_priorities_are_set_after_hearing_the_sectors_and_the_public() {
        let mut p = Priorities {
            domains: vec![Domain::Transport, Domain::Health],
            sector_hearing: "2026年1月征求交通、卫健等12个部门意见".into(),
            public_hearing: "门户网站公开征求意见30日，收到建议56条".into(),
            notes: String::new(),
        };
        assert!(check_priorities(&p).is_empty());
        p.public_hearing.clear();
        p.domains.push(Domain::Transport);
        let codes: Vec<&str> = check_priorities(&p).iter().map(|e| e.code).collect();
        assert!(codes.contains(&"open_priorities.public_hearing_required"));
        assert!(codes.contains(&"open_priorities.duplicate_domain"));
        p.domains.clear();
        p.sector_hearing.clear();
        let codes: Vec<&str> = check_priorities(&p).iter().map(|e| e.code).collect();
        assert!(codes.contains(&"open_priorities.domains_required"));
        assert!(codes.contains(&"open_priorities.sector_hearing_required"));
    }
}
