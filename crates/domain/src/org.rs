//! ORG-1..4: kinds of party, named officers, third-party processor authorisations.
use serde::{Deserialize, Serialize};

macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $key:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Stable key used in storage, the API and config.
            pub fn key(&self) -> &'static str { match self { $($name::$variant => $key),+ } }
            pub fn parse(key: &str) -> Option<Self> { match key { $($key => Some($name::$variant),)+ _ => None } }
            pub fn label_zh(&self) -> &'static str { match self { $($name::$variant => $zh),+ } }
            pub fn label_en(&self) -> &'static str { match self { $($name::$variant => $en),+ } }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.key()) }
        }
    };
}
pub(crate) use labelled_enum;

labelled_enum! {
    /// ORG-2: every kind of party the regulations name (JY 5, JY 33, ZY 3, HZ 6-8).
    OrgKind {
        DataAuthority => "data_authority", "公共数据主管部门", "Data authority";
        PlatformOperator => "platform_operator", "平台工作机构", "Platform operator";
        GovernmentDepartment => "government_department", "政务部门", "Government department";
        PublicServiceUnit => "public_service_unit", "公共服务部门", "Public service unit";
        DataOperator => "data_operator", "数据运营商", "Data operator";
        Developer => "developer", "数据开发利用者", "Developer";
        Purchaser => "purchaser", "数据购买方", "Purchaser";
        ThirdPartyProcessor => "third_party_processor", "受托第三方处理单位", "Authorised third-party processor";
        ResearchInstitution => "research_institution", "高校及科研机构", "University or research institution";
        LegalPerson => "legal_person", "法人", "Legal person";
        OtherOrganisation => "other_organisation", "其他组织", "Other organisation";
    }
}

impl OrgKind {
    /// Kinds that catalog and provide data as a source department (数源部门).
    pub fn is_data_source(&self) -> bool {
        matches!(
            self,
            OrgKind::DataAuthority
                | OrgKind::PlatformOperator
                | OrgKind::GovernmentDepartment
                | OrgKind::PublicServiceUnit
        )
    }
}

labelled_enum! {
    /// ORG-3: the responsible people a department files with the platform (CZ 47, JY 31, XJ 12, HZ 8, HZ 41).
    OfficerRole {
        DataResourceAdministrator => "data_resource_administrator", "数据资源管理员", "Data resource administrator";
        SecurityOfficer => "security_officer", "安全管理员", "Security officer";
        CatalogRegistrar => "catalog_registrar", "目录编报员", "Catalog registrar";
        CatalogReviewer => "catalog_reviewer", "目录审核员", "Catalog reviewer";
        ChiefDataOfficer => "chief_data_officer", "首席数据官", "Chief data officer";
    }
}

labelled_enum! {
    /// ORG-4: state of a third-party processor authorisation.
    ProcessorStatus {
        PendingFiling => "pending_filing", "待备案", "Awaiting filing";
        Filed => "filed", "已备案", "Filed";
        Revoked => "revoked", "已撤销", "Revoked";
    }
}

/// ORG-4: the authorisation is in force only once filed and within its term (JY 33).
pub fn processor_in_force(
    status: ProcessorStatus,
    starts_on: chrono::NaiveDate,
    ends_on: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> bool {
    status == ProcessorStatus::Filed && starts_on <= today && today <= ends_on
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_2_every_kind_round_trips_its_key() {
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.key()), Some(*k));
        }
        assert_eq!(OrgKind::ALL.len(), 11);
        assert_eq!(OrgKind::parse("nonsense"), None);
    }

    #[test]
    fn org_4_authorisation_in_force_only_when_filed_and_in_term() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (from, to) = (d("2026-01-01"), d("2026-12-31"));
        assert!(processor_in_force(
            ProcessorStatus::Filed,
            from,
            to,
            d("2026-06-01")
        ));
        assert!(!processor_in_force(
            ProcessorStatus::PendingFiling,
            from,
            to,
            d("2026-06-01")
        ));
        assert!(!processor_in_force(
            ProcessorStatus::Filed,
            from,
            to,
            d("2027-01-01")
        ));
        assert!(!processor_in_force(
            ProcessorStatus::Revoked,
            from,
            to,
            d("2026-06-01")
        ));
    }
}
