//! OPN-1, OPN-3, OPN-4, OPN-10, OPN-11: the rules of opening public data to society.
use chrono::NaiveDate;

use crate::catalog::{Domain, EntryContent, OpenType};

/// OPN-11 (HZ 36): whether a published entry belongs in the open catalog: it is open
/// (unconditionally or on conditions), online, and its owner is its source — data a
/// body obtained by sharing is never in that body's own open catalog.
pub fn in_open_catalog(owner_org_id: &str, offline: bool, content: &EntryContent) -> bool {
    !offline && content.open_type != OpenType::NotOpen && content.source_org_id == owner_org_id
}

/// OPN-8 (HZ 30): the domains opened first unless the authority publishes others —
/// public safety and health; natural resources, environment and transport;
/// licences and enterprise credit; livelihood (social security, education).
pub const PRIORITY_DOMAINS: &[Domain] = &[
    Domain::PublicSafety,
    Domain::Health,
    Domain::NaturalResources,
    Domain::Environment,
    Domain::Transport,
    Domain::ELicence,
    Domain::MarketRegulation,
    Domain::SocialSecurity,
    Domain::Education,
];

/// What a member of the public may take of a dataset in the open catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicAccess {
    /// OPN-3: unconditional data is taken directly, without an account.
    Direct,
    /// OPN-4: conditional data needs an approved application and a signed agreement.
    ApplicationRequired,
}

impl PublicAccess {
    /// None for a resource that is not open.
    pub fn of(open_type: OpenType) -> Option<Self> {
        match open_type {
            OpenType::Unconditional => Some(PublicAccess::Direct),
            OpenType::Conditional => Some(PublicAccess::ApplicationRequired),
            OpenType::NotOpen => None,
        }
    }
}

/// OPN-10 (XJ 32): how a product built on an open dataset cites it — the source
/// department, the dataset, where it was obtained and the date obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    pub zh: String,
    pub en: String,
}

/// OPN-10: the citation of `dataset` (name and code) by `source` (department
/// name), obtained from `url` on `obtained`.
pub fn citation(source: &str, dataset: (&str, &str), url: &str, obtained: NaiveDate) -> Citation {
    let (name, code) = dataset;
    Citation {
        zh: format!(
            "{source}.《{name}》（资源代码 {code}）[数据集]. 公共数据开放平台, {url}, 获取日期：{}.",
            obtained.format("%Y年%m月%d日")
        ),
        en: format!(
            "{source}. {name} (resource {code}) [dataset]. Public data open portal, {url}, obtained {}.",
            obtained.format("%Y-%m-%d")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Category, Grade, ResourceFormat, ShareType, UpdateFrequency};

    fn content(open_type: OpenType, source: &str) -> EntryContent {
        EntryContent {
            name: "公交线路".into(),
            summary: String::new(),
            category: Category::Business,
            domain: Domain::Transport,
            format: ResourceFormat::Database,
            source_org_id: source.into(),
            providing_org_id: None,
            approving_department: String::new(),
            co_builder_org_ids: Vec::new(),
            items: Vec::new(),
            share_type: ShareType::Unconditional,
            share_conditions: String::new(),
            share_scope: String::new(),
            share_modes: Vec::new(),
            legal_basis: String::new(),
            open_type,
            open_conditions: String::new(),
            open_basis: String::new(),
            update_frequency: UpdateFrequency::Monthly,
            timeliness: String::new(),
            grade: Grade::General,
            sensitivity: None,
            classified: false,
            release_date: None,
            related_codes: Vec::new(),
        }
    }

    #[test]
    fn opn_11_data_obtained_from_another_body_is_not_in_the_owners_open_catalog() {
        let own = content(OpenType::Unconditional, "transport");
        assert!(in_open_catalog("transport", false, &own));
        let obtained = content(OpenType::Unconditional, "transport");
        assert!(!in_open_catalog("city-bureau", false, &obtained));
    }

    #[test]
    fn opn_1_only_open_online_entries_are_in_the_open_catalog() {
        assert!(in_open_catalog(
            "t",
            false,
            &content(OpenType::Conditional, "t")
        ));
        assert!(!in_open_catalog(
            "t",
            false,
            &content(OpenType::NotOpen, "t")
        ));
        assert!(!in_open_catalog(
            "t",
            true,
            &content(OpenType::Unconditional, "t")
        ));
    }

    #[test]
    fn opn_3_opn_4_unconditional_is_direct_and_conditional_needs_an_application() {
        assert_eq!(
            PublicAccess::of(OpenType::Unconditional),
            Some(PublicAccess::Direct)
        );
        assert_eq!(
            PublicAccess::of(OpenType::Conditional),
            Some(PublicAccess::ApplicationRequired)
        );
        assert_eq!(PublicAccess::of(OpenType::NotOpen), None);
    }

    #[test]
    fn opn_10_citation_names_source_dataset_place_and_date_obtained() {
        let c = citation(
            "市交通运输局",
            ("公交线路", "301-000001"),
            "https://data.example/open/datasets/301-000001",
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        );
        assert!(c.zh.starts_with("市交通运输局.《公交线路》"));
        assert!(c.zh.contains("获取日期：2026年11月23日"));
        assert!(c.en.contains("obtained 2026-11-23"));
        assert!(c.en.contains("301-000001"));
    }
}
