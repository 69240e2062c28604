//! OPN-1, OPN-3, OPN-4, OPN-10, OPN-11: the rules of opening public data to society.
use chrono::NaiveDate;

use crate::catalog::{Domain, EntryContent, OpenType};
use crate::org::labelled_enum;
use serde::{Deserialize, Serialize};

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

labelled_enum! {
    /// OPN-4 (HZ 37): who may apply for data open on conditions — a natural person
    /// (citizen ID, GB 11643), a legal person or another organisation (credit code,
    /// GB 32100).
    ApplicantKind {
        NaturalPerson => "natural_person", "自然人", "Natural person";
        LegalPerson => "legal_person", "法人", "Legal person";
        Organisation => "organisation", "非法人组织", "Other organisation";
    }
}

labelled_enum! {
    /// OPN-4: where an application stands. The source reviews, the authority
    /// concurs (XJ 29), the applicant accepts the agreement (HZ 37), then the key
    /// unlocks the data until `ends_on`.
    OpenApplicationStatus {
        SourceReview => "source_review", "数源部门审核中", "Source reviewing";
        AuthorityReview => "authority_review", "主管部门会审中", "Authority reviewing";
        AwaitingAgreement => "awaiting_agreement", "待签订利用协议", "Awaiting the agreement";
        Active => "active", "已生效", "Active";
        Suspended => "suspended", "已中止", "Suspended";
        Rejected => "rejected", "未通过", "Refused";
        Expired => "expired", "已到期", "Expired";
    }
}

impl OpenApplicationStatus {
    /// Whether the platform still owes the applicant an answer (HZ 37 deadline runs).
    pub fn awaits_answer(self) -> bool {
        matches!(self, Self::SourceReview | Self::AuthorityReview)
    }
}

/// OPN-4: what the next review does to an application in `status`; None when no
/// review is due. A refusal ends it at once; an approval by the source passes it to
/// the authority, whose approval offers the agreement.
pub fn after_review(status: OpenApplicationStatus, approve: bool) -> Option<OpenApplicationStatus> {
    use OpenApplicationStatus::*;
    match (status, approve) {
        (SourceReview | AuthorityReview, false) => Some(Rejected),
        (SourceReview, true) => Some(AuthorityReview),
        (AuthorityReview, true) => Some(AwaitingAgreement),
        _ => None,
    }
}

/// OPN-4 (HZ 37): the version of the data use agreement the platform offers now.
pub const AGREEMENT_VERSION: &str = "2026-11-v1";

/// OPN-4 (HZ 37): the data use agreement for `dataset` (name and code) from `source`,
/// as offered to `party`, for use until `ends_on`. Chinese first, English after.
pub fn agreement_text(
    source: &str,
    dataset: (&str, &str),
    party: &str,
    purpose: &str,
    ends_on: NaiveDate,
) -> String {
    let (name, code) = dataset;
    let until_zh = ends_on.format("%Y年%m月%d日");
    let until_en = ends_on.format("%Y-%m-%d");
    format!(
        "公共数据利用协议（版本 {AGREEMENT_VERSION}）\n\n\
         提供方：{source}\n使用方：{party}\n数据：《{name}》（资源代码 {code}）\n用途：{purpose}\n有效期至：{until_zh}\n\n\
         一、使用方仅为上述用途使用数据，不向第三方转让、出售或提供原始数据。\n\
         二、使用方不得尝试重新识别数据中的个人或法人，不得将数据与其他数据关联以识别特定主体。\n\
         三、使用方采取与数据分级相当的安全措施，发现泄露立即告知提供方并采取补救措施。\n\
         四、基于数据形成的产品或成果注明数据来源及获取日期。\n\
         五、提供方可因违反本协议中止或终止使用方获取数据；到期后使用方停止获取，并按约定删除数据。\n\
         六、每次获取均被记录并留存审计。\n\n\
         Public data use agreement (version {AGREEMENT_VERSION})\n\
         Provider: {source}. User: {party}. Data: {name} ({code}). Purpose: {purpose}. Valid until {until_en}.\n\
         1. The user uses the data only for the stated purpose and does not transfer, sell or provide the raw data to third parties.\n\
         2. The user does not try to re-identify persons or legal entities in the data, nor link it with other data to do so.\n\
         3. The user protects the data as its grade requires, and reports any leak to the provider at once and remedies it.\n\
         4. Products or results built on the data cite its source and the date obtained.\n\
         5. The provider may suspend or end access for a breach; at the end the user stops obtaining the data and deletes it as agreed.\n\
         6. Every access is recorded and audited.\n"
    )
}

labelled_enum! {
    /// OPN-9 (XJ 30): what the public reports on an open dataset; a suspected leak
    /// withholds the dataset at once.
    FeedbackKind {
        Error => "error", "数据错误", "Error in the data";
        Objection => "objection", "异议", "Objection";
        Harm => "harm", "侵害合法权益", "Harm to lawful rights";
        SuspectedLeak => "suspected_leak", "疑似数据泄露", "Suspected leak";
    }
}

labelled_enum! {
    /// OPN-9 (XJ 30): what the source does after checking a report.
    FeedbackAction {
        Withdraw => "withdraw", "撤回数据", "Withdraw the data";
        Suspend => "suspend", "中止开放", "Suspend opening";
        FixAndRepublish => "fix_and_republish", "依法处理后开放", "Fix and republish";
        Keep => "keep", "继续开放", "Keep open";
    }
}

impl FeedbackAction {
    /// Whether the dataset stays out of the open catalog after this action.
    pub fn withholds(self) -> bool {
        matches!(self, Self::Withdraw | Self::Suspend)
    }
}

labelled_enum! {
    /// OPN-9: where a report stands.
    FeedbackStatus {
        Received => "received", "待核实", "Received";
        Answered => "answered", "已答复", "Answered";
    }
}

/// OPN-9 (XJ 30): a report of a suspected leak withholds the dataset at once, before
/// anyone has checked it.
pub fn withheld_on_receipt(kind: FeedbackKind) -> bool {
    kind == FeedbackKind::SuspectedLeak
}

labelled_enum! {
    /// OPN-1 (HZ 31): the authority's proposal to change an entry's open type. The
    /// source agrees, or they disagree and the government of the level decides.
    ProposalStatus {
        Proposed => "proposed", "待数源部门答复", "Awaiting the source";
        Accepted => "accepted", "数源部门同意", "Accepted by the source";
        Disputed => "disputed", "意见不一致，报本级人民政府决定", "Disputed: for the government to decide";
        Decided => "decided", "本级人民政府已决定", "Decided by the government";
    }
}

/// OPN-1 (HZ 31): the open type a proposal ends with, once it has ended: the proposed
/// one when the source agreed, the government's when it decided; None while open.
pub fn proposal_outcome(
    status: ProposalStatus,
    proposed: OpenType,
    decided: Option<OpenType>,
) -> Option<OpenType> {
    match status {
        ProposalStatus::Accepted => Some(proposed),
        ProposalStatus::Decided => decided,
        ProposalStatus::Proposed | ProposalStatus::Disputed => None,
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
            open_reason: None,
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
    fn opn_1_a_proposal_ends_with_the_sources_agreement_or_the_governments_decision() {
        use OpenType::*;
        assert_eq!(
            proposal_outcome(ProposalStatus::Proposed, Unconditional, None),
            None
        );
        assert_eq!(
            proposal_outcome(ProposalStatus::Disputed, Unconditional, None),
            None
        );
        assert_eq!(
            proposal_outcome(ProposalStatus::Accepted, Unconditional, None),
            Some(Unconditional)
        );
        assert_eq!(
            proposal_outcome(ProposalStatus::Decided, Unconditional, Some(Conditional)),
            Some(Conditional)
        );
    }

    #[test]
    fn opn_4_source_then_authority_then_agreement() {
        use OpenApplicationStatus::*;
        assert_eq!(after_review(SourceReview, true), Some(AuthorityReview));
        assert_eq!(after_review(AuthorityReview, true), Some(AwaitingAgreement));
        assert_eq!(after_review(SourceReview, false), Some(Rejected));
        assert_eq!(after_review(AuthorityReview, false), Some(Rejected));
        for done in [AwaitingAgreement, Active, Suspended, Rejected, Expired] {
            assert_eq!(after_review(done, true), None, "{done:?}");
        }
        for s in OpenApplicationStatus::ALL {
            assert_eq!(OpenApplicationStatus::parse(s.key()), Some(*s));
        }
    }

    #[test]
    fn opn_4_agreement_names_the_parties_purpose_and_version() {
        let text = agreement_text(
            "云川市交通运输局",
            ("公交刷卡客流", "3301-JT-0009"),
            "张三（自然人）",
            "客流研究",
            NaiveDate::from_ymd_opt(2027, 11, 23).unwrap(),
        );
        for part in [
            "云川市交通运输局",
            "张三（自然人）",
            "客流研究",
            "2027年11月23日",
            AGREEMENT_VERSION,
        ] {
            assert!(text.contains(part), "{part} missing");
        }
    }

    #[test]
    fn opn_9_only_a_suspected_leak_withholds_on_receipt_and_withdraw_or_suspend_keep_it_out() {
        for k in FeedbackKind::ALL {
            assert_eq!(withheld_on_receipt(*k), *k == FeedbackKind::SuspectedLeak);
        }
        assert!(FeedbackAction::Withdraw.withholds());
        assert!(FeedbackAction::Suspend.withholds());
        assert!(!FeedbackAction::FixAndRepublish.withholds());
        assert!(!FeedbackAction::Keep.withholds());
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
