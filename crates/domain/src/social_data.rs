//! COL-8: social data (社会数据) the data authority buys once for every department
//! (统采共用, HZ 17) or connects under an authorisation (JY 14, ZY 5), and the
//! rules its agreement puts on the catalog entries that carry it.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::{OpenType, ShareType};
use crate::org::labelled_enum;

labelled_enum! {
    /// COL-8: how the platform came to hold the social data.
    SocialAcquisition {
        Purchase => "purchase", "统一采购（统采共用）", "Central purchase (bought once, shared to all)";
        Authorisation => "authorisation", "授权接入", "Connected under an authorisation";
    }
}

labelled_enum! {
    /// COL-8: the kinds of data service HZ 17 names, and the rest.
    SocialDataKind {
        Video => "video", "视频", "Video";
        IotSensing => "iot_sensing", "物联感知", "IoT sensing";
        Map => "map", "地图", "Map";
        RemoteSensing => "remote_sensing", "低空遥感影像", "Low-altitude remote-sensing imagery";
        Other => "other", "其他社会数据", "Other social data";
    }
}

labelled_enum! {
    /// COL-8: where an agreement's term stands on a day.
    TermState {
        NotStarted => "not_started", "未生效", "Not started";
        InForce => "in_force", "有效", "In force";
        Ended => "ended", "已到期", "Ended";
    }
}

impl TermState {
    /// Both end days belong to the term.
    pub fn of(starts_on: NaiveDate, ends_on: NaiveDate, today: NaiveDate) -> Self {
        if today < starts_on {
            TermState::NotStarted
        } else if today > ends_on {
            TermState::Ended
        } else {
            TermState::InForce
        }
    }
}

/// COL-8 (HZ 17 "统一采购"): the same data is bought once. Two terms that share a
/// day would pay twice for it; a renewal starts after the last day of the term it renews.
pub fn terms_overlap(a: (NaiveDate, NaiveDate), b: (NaiveDate, NaiveDate)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

/// A rule a catalog entry breaks while an agreement carries its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryConflict {
    /// HZ 17 "提供给各部门使用": bought for every department, so it cannot be not-shared.
    NotShared,
    /// HZ 32(4): the supplier's agreement does not allow opening it to the public.
    OpenedAgainstAgreement,
}

impl EntryConflict {
    pub fn code(&self) -> &'static str {
        match self {
            EntryConflict::NotShared => "social_data.shared_to_all",
            EntryConflict::OpenedAgainstAgreement => "social_data.not_openable",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            EntryConflict::NotShared => "share_type",
            EntryConflict::OpenedAgainstAgreement => "open_type",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            EntryConflict::NotShared => {
                "统一采购或授权接入的社会数据供各部门共同使用，不能设为不予共享（HZ 17）"
            }
            EntryConflict::OpenedAgainstAgreement => {
                "社会数据的采购或授权协议不允许向社会开放，开放类型须为不予开放（HZ 32 四）"
            }
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            EntryConflict::NotShared => {
                "social data bought or connected centrally is for every department and cannot be not-shared (HZ 17)"
            }
            EntryConflict::OpenedAgainstAgreement => {
                "the social data's purchase or authorisation agreement does not allow opening it; its open type must be not-open (HZ 32(4))"
            }
        }
    }
}

/// COL-8: what an entry carrying social data must keep to. `opening_allowed` is
/// whether any agreement over the entry lets it be opened to the public.
pub fn entry_conflicts(
    share_type: ShareType,
    open_type: OpenType,
    opening_allowed: bool,
) -> Vec<EntryConflict> {
    let mut out = Vec::new();
    if share_type == ShareType::NotShared {
        out.push(EntryConflict::NotShared);
    }
    if !opening_allowed && open_type != OpenType::NotOpen {
        out.push(EntryConflict::OpenedAgainstAgreement);
    }
    out
}

/// COL-8: data an agreement carries is served only while one of the agreements
/// over it is in force. `agreements` counts all of them, `in_force` those whose term
/// holds today ([`TermState::InForce`]); an entry under none is not social data.
pub fn serves_social_data(agreements: u32, in_force: u32) -> bool {
    agreements == 0 || in_force > 0
}

/// COL-8 (HZ 17): data services a department's IT project plans to buy from social
/// parties are bought by the data authority instead, so a project that declares any
/// fails the check; those an agreement in force already holds are named to it.
pub fn centrally_held(
    planned: &[SocialDataKind],
    in_force: &[SocialDataKind],
) -> Vec<SocialDataKind> {
    planned
        .iter()
        .copied()
        .filter(|k| in_force.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn col_8_term_states_include_both_end_days() {
        let (from, to) = (d("2026-01-01"), d("2026-12-31"));
        assert_eq!(
            TermState::of(from, to, d("2025-12-31")),
            TermState::NotStarted
        );
        assert_eq!(TermState::of(from, to, from), TermState::InForce);
        assert_eq!(TermState::of(from, to, to), TermState::InForce);
        assert_eq!(TermState::of(from, to, d("2027-01-01")), TermState::Ended);
    }

    #[test]
    fn col_8_a_renewal_starts_after_the_term_it_renews() {
        let year = (d("2026-01-01"), d("2026-12-31"));
        assert!(terms_overlap(year, (d("2026-12-31"), d("2027-12-31"))));
        assert!(terms_overlap(year, (d("2026-03-01"), d("2026-04-01"))));
        assert!(terms_overlap((d("2025-06-01"), d("2026-01-01")), year));
        assert!(!terms_overlap(year, (d("2027-01-01"), d("2027-12-31"))));
        assert!(!terms_overlap((d("2025-01-01"), d("2025-12-31")), year));
    }

    #[test]
    fn col_8_social_data_is_shared_and_opened_only_as_its_agreement_allows() {
        use EntryConflict::*;
        assert_eq!(
            entry_conflicts(ShareType::Unconditional, OpenType::NotOpen, false),
            vec![]
        );
        assert_eq!(
            entry_conflicts(ShareType::Conditional, OpenType::Conditional, true),
            vec![]
        );
        assert_eq!(
            entry_conflicts(ShareType::NotShared, OpenType::Unconditional, false),
            vec![NotShared, OpenedAgainstAgreement]
        );
        assert_eq!(
            entry_conflicts(ShareType::Unconditional, OpenType::Conditional, false),
            vec![OpenedAgainstAgreement]
        );
    }

    #[test]
    fn col_8_a_project_learns_which_planned_purchases_are_already_held() {
        use SocialDataKind::*;
        assert_eq!(centrally_held(&[Map, Video], &[Map, IotSensing]), vec![Map]);
        assert_eq!(centrally_held(&[], &[Map]), vec![]);
        assert_eq!(centrally_held(&[RemoteSensing], &[]), vec![]);
    }

    #[test]
    fn col_8_social_data_is_served_only_within_an_agreement_in_force() {
        assert!(serves_social_data(0, 0), "not social data at all");
        assert!(
            !serves_social_data(2, 0),
            "every agreement ended or not begun"
        );
        assert!(serves_social_data(3, 1));
    }
}
