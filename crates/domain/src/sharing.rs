//! SHR-3 … SHR-9: share requests between government bodies, the steps they pass on
//! working-day deadlines, and the grants they end in. No I/O.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::{FieldError, ShareMode, ShareType};
use crate::deadlines::DeadlineKind;
use crate::org::labelled_enum;

labelled_enum! {
    /// SHR-2, SHR-6: how a consumer receives shared data. Verification (核验) answers
    /// match / no match and never returns the data.
    AccessMode {
        Api => "api", "接口调用", "API";
        Download => "download", "文件下载", "Download";
        PageQuery => "page_query", "页面查询", "Page query";
        Verification => "verification", "核验", "Verification";
    }
}

impl AccessMode {
    /// The catalog's share mode this access mode needs, if any (verification needs none).
    pub fn catalog_mode(&self) -> Option<ShareMode> {
        match self {
            AccessMode::Api => Some(ShareMode::Api),
            AccessMode::Download => Some(ShareMode::Download),
            AccessMode::PageQuery => Some(ShareMode::PageQuery),
            AccessMode::Verification => None,
        }
    }
}

labelled_enum! {
    /// Where a share request stands.
    RequestStatus {
        ConformityCheck => "conformity_check", "待平台符合性审查", "Awaiting the platform's conformity check";
        SourceReview => "source_review", "待数源部门答复", "Awaiting the source department's answer";
        Negotiation => "negotiation", "协商备案中", "In negotiation, to be filed with the authority";
        Disputed => "disputed", "异议协调中", "Disputed, coordinated by the authority";
        Approved => "approved", "已批准", "Approved";
        Refused => "refused", "未通过", "Refused";
        Withdrawn => "withdrawn", "已撤回", "Withdrawn";
    }
}

impl RequestStatus {
    /// Whether the request still waits for someone.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            RequestStatus::ConformityCheck
                | RequestStatus::SourceReview
                | RequestStatus::Negotiation
                | RequestStatus::Disputed
        )
    }

    /// Who must act next: the platform operator, the source or the authority.
    pub fn responsible(&self) -> Option<Responsible> {
        match self {
            RequestStatus::ConformityCheck => Some(Responsible::Platform),
            RequestStatus::SourceReview => Some(Responsible::Source),
            RequestStatus::Negotiation | RequestStatus::Disputed => Some(Responsible::Authority),
            _ => None,
        }
    }
}

/// The party a request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Responsible {
    Platform,
    Source,
    Authority,
}

labelled_enum! {
    /// A step taken on a request.
    RequestAction {
        PassConformity => "pass_conformity", "符合性审查通过", "Conformity check passed";
        FailConformity => "fail_conformity", "符合性审查不通过", "Conformity check failed";
        Approve => "approve", "同意共享", "Approve";
        Refuse => "refuse", "不同意共享", "Refuse";
        Dispute => "dispute", "提出异议", "Dispute the refusal";
        Uphold => "uphold", "协调后同意共享", "Coordinated: share";
        Dismiss => "dismiss", "协调后维持不共享", "Coordinated: refusal stands";
        File => "file", "协商一致并备案", "Negotiated and filed";
        Withdraw => "withdraw", "撤回申请", "Withdraw";
    }
}

/// The outcome of a step: the new status, and the deadline the next step runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub status: RequestStatus,
    /// The deadline kind of the next step, if the request still waits.
    pub next_deadline: Option<DeadlineKind>,
    /// Whether the step ends in a grant.
    pub grants: bool,
}

/// A step that is not allowed now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} is not allowed while the request is {status}")]
pub struct StepRefused {
    pub status: RequestStatus,
    pub action: RequestAction,
}

impl StepRefused {
    pub fn code(&self) -> &'static str {
        "share.step_not_allowed"
    }
    pub fn message_zh(&self) -> String {
        format!(
            "申请处于“{}”，不能“{}”",
            self.status.label_zh(),
            self.action.label_zh()
        )
    }
    pub fn message_en(&self) -> String {
        format!(
            "cannot '{}' while the request is '{}'",
            self.action.label_en(),
            self.status.label_en()
        )
    }
}

/// The deadline that runs from the moment a request enters `status`.
pub fn deadline_of(status: RequestStatus) -> Option<DeadlineKind> {
    match status {
        RequestStatus::ConformityCheck => Some(DeadlineKind::ShareConformityCheck),
        RequestStatus::SourceReview => Some(DeadlineKind::ShareSourceAnswer),
        // The authority coordinates a dispute or files a negotiation on the source's answer clock.
        RequestStatus::Disputed | RequestStatus::Negotiation => {
            Some(DeadlineKind::ShareSourceAnswer)
        }
        _ => None,
    }
}

/// The status a new request starts in (SHR-4 … SHR-6): every request first passes the
/// platform's conformity check, except a not-shared resource's non-verification
/// request, which can only be negotiated and filed with the authority.
pub fn initial_status(share_type: ShareType, mode: AccessMode) -> RequestStatus {
    if share_type == ShareType::NotShared && mode != AccessMode::Verification {
        RequestStatus::Negotiation
    } else {
        RequestStatus::ConformityCheck
    }
}

/// SHR-4 … SHR-6: the request's next status after `action`.
pub fn step(
    status: RequestStatus,
    action: RequestAction,
    share_type: ShareType,
    mode: AccessMode,
) -> Result<Step, StepRefused> {
    use RequestAction as A;
    use RequestStatus as S;
    let to = |status: S, grants: bool| Step {
        status,
        next_deadline: deadline_of(status),
        grants,
    };
    let unconditional = share_type == ShareType::Unconditional
        // SHR-6: verification of not-shared data is answered without the source's decision on data.
        || (share_type == ShareType::NotShared && mode == AccessMode::Verification);
    let next = match (status, action) {
        (S::ConformityCheck, A::PassConformity) if unconditional => to(S::Approved, true),
        (S::ConformityCheck, A::PassConformity) => to(S::SourceReview, false),
        (S::ConformityCheck, A::FailConformity) => to(S::Refused, false),
        (S::SourceReview, A::Approve) => to(S::Approved, true),
        (S::SourceReview, A::Refuse) => to(S::Refused, false),
        (S::Refused, A::Dispute) => to(S::Disputed, false),
        (S::Disputed, A::Uphold) => to(S::Approved, true),
        (S::Disputed, A::Dismiss) => to(S::Refused, false),
        (S::Negotiation, A::File) => to(S::Approved, true),
        (S::Negotiation, A::Dismiss) => to(S::Refused, false),
        (s, A::Withdraw) if s.is_open() => to(S::Withdrawn, false),
        _ => return Err(StepRefused { status, action }),
    };
    Ok(next)
}

/// What the requester must fill in (SHR-3, SHR-8).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestDraft<'a> {
    pub purpose: &'a str,
    pub scenario: &'a str,
    pub legal_duty: &'a str,
    pub items: &'a [String],
    pub mode: AccessMode,
    pub end_date: NaiveDate,
    pub commitment_signed: bool,
}

/// The longest a grant may run: three years (the deployment's choice; SHR-8 only
/// requires an end date).
pub const MAX_GRANT_DAYS: i64 = 3 * 366;

/// SHR-3, SHR-8: checks a draft against the catalog entry's items, share type and
/// modes. `resource_items` are the entry's item code names.
pub fn check_draft(
    draft: &RequestDraft<'_>,
    resource_items: &[String],
    share_type: ShareType,
    share_modes: &[ShareMode],
    today: NaiveDate,
) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (field, value, zh, en) in [
        ("purpose", draft.purpose, "请写明用途", "state the purpose"),
        (
            "scenario",
            draft.scenario,
            "请写明应用场景",
            "state the business scenario",
        ),
        (
            "legal_duty",
            draft.legal_duty,
            "请写明所履行的法定职责",
            "state the legal duty the data serves",
        ),
    ] {
        if value.trim().is_empty() {
            out.push(FieldError::new(field, "share.required", zh, en));
        }
    }
    if draft.items.is_empty() {
        out.push(FieldError::new(
            "items",
            "share.items_required",
            "请选择所需的信息项（最少够用）",
            "choose the data items needed (the fewest necessary)",
        ));
    }
    for item in draft.items {
        if !resource_items.contains(item) {
            out.push(FieldError::new(
                "items",
                "share.unknown_item",
                format!("资源没有信息项“{item}”"),
                format!("the resource has no data item '{item}'"),
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    if draft.items.iter().any(|i| !seen.insert(i)) {
        out.push(FieldError::new(
            "items",
            "share.duplicate_item",
            "信息项重复",
            "a data item is listed twice",
        ));
    }
    if let Some(needed) = draft.mode.catalog_mode() {
        if share_type != ShareType::NotShared && !share_modes.contains(&needed) {
            out.push(FieldError::new(
                "mode",
                "share.mode_not_offered",
                format!("该资源不提供“{}”方式", draft.mode.label_zh()),
                format!("the resource is not shared by '{}'", draft.mode.label_en()),
            ));
        }
    }
    if draft.end_date <= today {
        out.push(FieldError::new(
            "end_date",
            "share.end_in_past",
            "截止日期须晚于今天",
            "the end date must be after today",
        ));
    } else if (draft.end_date - today).num_days() > MAX_GRANT_DAYS {
        out.push(FieldError::new(
            "end_date",
            "share.end_too_far",
            "使用期限最长三年",
            "a grant runs three years at most",
        ));
    }
    if !draft.commitment_signed {
        out.push(FieldError::new(
            "commitment",
            "share.commitment_required",
            "须签署依法使用承诺",
            "the lawful-use commitment must be signed",
        ));
    }
    out
}

/// SHR-3: the lawful-use commitment the requester signs; its version is stored with
/// the request.
pub const COMMITMENT_VERSION: &str = "2026-1";
pub const COMMITMENT_ZH: &str =
    "本单位承诺：共享数据仅用于申请所述的职责和场景，按最少够用原则使用，\
不超范围使用，不向第三方提供或变相提供，按规定期限存储和销毁，并如实反馈使用情况。";
pub const COMMITMENT_EN: &str = "We undertake to use the shared data only for the duty and scenario stated, \
no more than necessary, never beyond the grant, never to pass it to a third party, to store and destroy it \
as required, and to report truthfully how it was used.";

labelled_enum! {
    /// A grant's lifecycle (SHR-8, SHR-9).
    GrantStatus {
        Active => "active", "有效", "Active";
        Suspended => "suspended", "已暂停", "Suspended";
        Revoked => "revoked", "已撤销", "Revoked";
    }
}

labelled_enum! {
    /// SHR-9: what the source or the authority does to a grant.
    GrantAction {
        Suspend => "suspend", "暂停", "Suspend";
        Resume => "resume", "恢复", "Resume";
        Revoke => "revoke", "撤销", "Revoke";
    }
}

/// SHR-9: a grant's status after `action`, if the action applies: an active grant
/// can be suspended at once, a suspended one resumed, either revoked for good.
pub fn grant_transition(current: GrantStatus, action: GrantAction) -> Option<GrantStatus> {
    match (current, action) {
        (GrantStatus::Active, GrantAction::Suspend) => Some(GrantStatus::Suspended),
        (GrantStatus::Suspended, GrantAction::Resume) => Some(GrantStatus::Active),
        (GrantStatus::Active | GrantStatus::Suspended, GrantAction::Revoke) => {
            Some(GrantStatus::Revoked)
        }
        _ => None,
    }
}

/// SHR-8: a row filter that limits a grant to some rows, e.g. the consumer's own
/// division (SHR-11 return flow by locality).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RowFilter {
    /// The column the filter reads.
    pub column: String,
    /// Rows whose value starts with this text (a division code prefix, say).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Rows whose value is exactly this text.
    #[serde(default)]
    pub equals: Option<String>,
}

impl RowFilter {
    /// Whether a row's value passes the filter.
    pub fn admits(&self, value: &str) -> bool {
        let prefix_ok = self.prefix.as_deref().is_none_or(|p| value.starts_with(p));
        let equals_ok = self.equals.as_deref().is_none_or(|e| value == e);
        prefix_ok && equals_ok
    }
}

/// Why the egress gate refused a call (every case is recorded as denied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    NoToken,
    BadToken,
    NoGrant,
    OtherConsumer,
    NotStarted,
    Expired,
    Suspended,
    Revoked,
    WrongMode,
    ItemNotGranted,
    OutsideFilter,
    QuotaExceeded,
    RateExceeded,
}

impl Denial {
    pub fn code(&self) -> &'static str {
        match self {
            Denial::NoToken => "egress.no_token",
            Denial::BadToken => "egress.bad_token",
            Denial::NoGrant => "egress.no_grant",
            Denial::OtherConsumer => "egress.other_consumer",
            Denial::NotStarted => "egress.grant_not_started",
            Denial::Expired => "egress.grant_expired",
            Denial::Suspended => "egress.grant_suspended",
            Denial::Revoked => "egress.grant_revoked",
            Denial::WrongMode => "egress.wrong_mode",
            Denial::ItemNotGranted => "egress.item_not_granted",
            Denial::OutsideFilter => "egress.outside_filter",
            Denial::QuotaExceeded => "egress.quota_exceeded",
            Denial::RateExceeded => "egress.rate_exceeded",
        }
    }
    pub fn message_zh(&self) -> &'static str {
        match self {
            Denial::NoToken => "未提供接口令牌",
            Denial::BadToken => "接口令牌无效、已吊销或已过期",
            Denial::NoGrant => "没有该资源的有效授权",
            Denial::OtherConsumer => "该授权不属于此调用方",
            Denial::NotStarted => "授权尚未生效",
            Denial::Expired => "授权已到期",
            Denial::Suspended => "授权已暂停",
            Denial::Revoked => "授权已撤销",
            Denial::WrongMode => "授权不允许此种使用方式",
            Denial::ItemNotGranted => "请求了未授权的信息项",
            Denial::OutsideFilter => "请求的数据超出授权范围",
            Denial::QuotaExceeded => "已用完授权的每日限额（调用次数，下载按行数）",
            Denial::RateExceeded => "调用过于频繁",
        }
    }
    pub fn message_en(&self) -> &'static str {
        match self {
            Denial::NoToken => "no API token was given",
            Denial::BadToken => "the API token is invalid, revoked or expired",
            Denial::NoGrant => "no grant covers this resource",
            Denial::OtherConsumer => "the grant belongs to another consumer",
            Denial::NotStarted => "the grant has not started",
            Denial::Expired => "the grant has expired",
            Denial::Suspended => "the grant is suspended",
            Denial::Revoked => "the grant was revoked",
            Denial::WrongMode => "the grant does not allow this mode of use",
            Denial::ItemNotGranted => "a data item outside the grant was asked for",
            Denial::OutsideFilter => "the rows asked for are outside the grant",
            Denial::QuotaExceeded => {
                "the grant's daily quota (calls, or rows for downloads) is used up"
            }
            Denial::RateExceeded => "too many calls",
        }
    }
}

/// The facts of a grant the gate checks before it reads a row.
#[derive(Debug, Clone, Copy)]
pub struct GrantFacts<'a> {
    pub status: GrantStatus,
    pub consumer_org_id: &'a str,
    pub token_id: Option<&'a str>,
    pub mode: AccessMode,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// Who is calling, and how.
#[derive(Debug, Clone, Copy)]
pub struct CallFacts<'a> {
    pub org_id: &'a str,
    pub token_id: Option<&'a str>,
    pub mode: AccessMode,
    pub today: NaiveDate,
}

/// SHR-8, SHR-9: whether the grant admits this call (before items and rows).
pub fn admit(grant: &GrantFacts<'_>, call: &CallFacts<'_>) -> Result<(), Denial> {
    if grant.consumer_org_id != call.org_id {
        return Err(Denial::OtherConsumer);
    }
    // A page query (SHR-2) is a person in the console, never a system's token: the
    // grant's consumer system binds only calls made by systems.
    let by_system = call.mode != AccessMode::PageQuery;
    if let Some(bound) = grant.token_id.filter(|_| by_system) {
        if call.token_id != Some(bound) {
            return Err(Denial::OtherConsumer);
        }
    }
    match grant.status {
        GrantStatus::Revoked => return Err(Denial::Revoked),
        GrantStatus::Suspended => return Err(Denial::Suspended),
        GrantStatus::Active => {}
    }
    if call.today < grant.starts_on {
        return Err(Denial::NotStarted);
    }
    if call.today > grant.ends_on {
        return Err(Denial::Expired);
    }
    if grant.mode != call.mode {
        return Err(Denial::WrongMode);
    }
    Ok(())
}

/// Items asked for must all be granted; none asked means all granted items.
pub fn project<'a>(granted: &'a [String], asked: &'a [String]) -> Result<Vec<&'a str>, Denial> {
    if asked.is_empty() {
        return Ok(granted.iter().map(String::as_str).collect());
    }
    asked
        .iter()
        .map(|a| {
            granted
                .iter()
                .find(|g| *g == a)
                .map(String::as_str)
                .ok_or(Denial::ItemNotGranted)
        })
        .collect()
}

/// SHR-13 (XJ 24): what is known of a resource and its proposed successor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacementFacts<'a> {
    pub old_id: &'a str,
    pub old_online: bool,
    pub successor_id: &'a str,
    pub successor_published: bool,
    pub successor_online: bool,
    /// Rows in the successor's current load: a successor with none does not work yet.
    pub successor_rows: i64,
}

/// Why a resource may not be replaced by the proposed successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplacementRefused {
    SameResource,
    OldNotOnline,
    SuccessorNotPublished,
    SuccessorNotWorking,
}

impl ReplacementRefused {
    pub fn code(&self) -> &'static str {
        match self {
            Self::SameResource => "share.successor_is_same",
            Self::OldNotOnline => "share.resource_not_online",
            Self::SuccessorNotPublished => "share.successor_not_published",
            Self::SuccessorNotWorking => "share.successor_not_working",
        }
    }
    pub fn message_zh(&self) -> &'static str {
        match self {
            Self::SameResource => "替代资源不能是被替换的资源本身",
            Self::OldNotOnline => "只有在架的资源可以被替换",
            Self::SuccessorNotPublished => "替代资源须已发布且在架",
            Self::SuccessorNotWorking => {
                "替代资源尚未挂接数据，须先能正常提供数据，旧资源才能下架（SHR-13）"
            }
        }
    }
    pub fn message_en(&self) -> &'static str {
        match self {
            Self::SameResource => "a resource cannot succeed itself",
            Self::OldNotOnline => "only a resource that is online can be replaced",
            Self::SuccessorNotPublished => "the successor must be published and online",
            Self::SuccessorNotWorking => {
                "the successor has no data yet; it must work before the old resource goes offline (SHR-13)"
            }
        }
    }
}

/// SHR-13: a resource goes offline for a successor only once the successor is
/// published, online and serving rows.
pub fn check_replacement(f: &ReplacementFacts<'_>) -> Result<(), ReplacementRefused> {
    if f.old_id == f.successor_id {
        return Err(ReplacementRefused::SameResource);
    }
    if !f.old_online {
        return Err(ReplacementRefused::OldNotOnline);
    }
    if !f.successor_published || !f.successor_online {
        return Err(ReplacementRefused::SuccessorNotPublished);
    }
    if f.successor_rows <= 0 {
        return Err(ReplacementRefused::SuccessorNotWorking);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn shr_4_unconditional_request_is_granted_after_the_conformity_check() {
        let s = initial_status(ShareType::Unconditional, AccessMode::Api);
        assert_eq!(s, RequestStatus::ConformityCheck);
        let next = step(
            s,
            RequestAction::PassConformity,
            ShareType::Unconditional,
            AccessMode::Api,
        )
        .unwrap();
        assert_eq!(next.status, RequestStatus::Approved);
        assert!(next.grants);
    }

    #[test]
    fn shr_5_conditional_request_goes_to_the_source_then_may_be_disputed() {
        let (t, m) = (ShareType::Conditional, AccessMode::Api);
        let s = step(
            RequestStatus::ConformityCheck,
            RequestAction::PassConformity,
            t,
            m,
        )
        .unwrap();
        assert_eq!(s.status, RequestStatus::SourceReview);
        assert_eq!(s.next_deadline, Some(DeadlineKind::ShareSourceAnswer));
        let refused = step(s.status, RequestAction::Refuse, t, m).unwrap();
        assert_eq!(refused.status, RequestStatus::Refused);
        let disputed = step(refused.status, RequestAction::Dispute, t, m).unwrap();
        assert_eq!(disputed.status, RequestStatus::Disputed);
        let upheld = step(disputed.status, RequestAction::Uphold, t, m).unwrap();
        assert!(upheld.grants);
        assert!(step(RequestStatus::Approved, RequestAction::Approve, t, m).is_err());
        assert!(step(
            RequestStatus::SourceReview,
            RequestAction::PassConformity,
            t,
            m
        )
        .is_err());
    }

    #[test]
    fn shr_6_not_shared_only_negotiates_or_verifies() {
        assert_eq!(
            initial_status(ShareType::NotShared, AccessMode::Api),
            RequestStatus::Negotiation
        );
        let v = step(
            RequestStatus::ConformityCheck,
            RequestAction::PassConformity,
            ShareType::NotShared,
            AccessMode::Verification,
        )
        .unwrap();
        assert_eq!(v.status, RequestStatus::Approved);
        assert!(step(
            RequestStatus::Negotiation,
            RequestAction::Approve,
            ShareType::NotShared,
            AccessMode::Api
        )
        .is_err());
        assert!(
            step(
                RequestStatus::Negotiation,
                RequestAction::File,
                ShareType::NotShared,
                AccessMode::Api
            )
            .unwrap()
            .grants
        );
    }

    #[test]
    fn shr_3_draft_needs_purpose_scenario_duty_items_and_commitment() {
        let items = vec!["name".to_string(), "ghost".to_string()];
        let draft = RequestDraft {
            purpose: " ",
            scenario: "",
            legal_duty: "",
            items: &items,
            mode: AccessMode::Download,
            end_date: d(2026, 1, 1),
            commitment_signed: false,
        };
        let problems = check_draft(
            &draft,
            &["name".into()],
            ShareType::Conditional,
            &[ShareMode::Api],
            d(2026, 6, 1),
        );
        let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            vec![
                "share.required",
                "share.required",
                "share.required",
                "share.unknown_item",
                "share.mode_not_offered",
                "share.end_in_past",
                "share.commitment_required"
            ]
        );
    }

    #[test]
    fn shr_9_gate_admits_only_an_active_grant_in_time_for_its_consumer_and_mode() {
        let grant = GrantFacts {
            status: GrantStatus::Active,
            consumer_org_id: "b",
            token_id: Some("tok"),
            mode: AccessMode::Api,
            starts_on: d(2026, 1, 1),
            ends_on: d(2026, 12, 31),
        };
        let call = CallFacts {
            org_id: "b",
            token_id: Some("tok"),
            mode: AccessMode::Api,
            today: d(2026, 6, 1),
        };
        assert_eq!(admit(&grant, &call), Ok(()));
        let other = CallFacts {
            token_id: Some("x"),
            ..call
        };
        assert_eq!(admit(&grant, &other), Err(Denial::OtherConsumer));
        let late = CallFacts {
            today: d(2027, 1, 1),
            ..call
        };
        assert_eq!(admit(&grant, &late), Err(Denial::Expired));
        let verify = CallFacts {
            mode: AccessMode::Verification,
            ..call
        };
        assert_eq!(admit(&grant, &verify), Err(Denial::WrongMode));
        let suspended = GrantFacts {
            status: GrantStatus::Suspended,
            ..grant
        };
        assert_eq!(admit(&suspended, &call), Err(Denial::Suspended));
        // A person's page query is not bound to the consumer system's token, but
        // still needs a page-query grant of its own department.
        let page = GrantFacts {
            mode: AccessMode::PageQuery,
            ..grant
        };
        let person = CallFacts {
            token_id: None,
            mode: AccessMode::PageQuery,
            ..call
        };
        assert_eq!(admit(&page, &person), Ok(()));
        assert_eq!(admit(&grant, &person), Err(Denial::WrongMode));
        let stranger = CallFacts {
            org_id: "c",
            ..person
        };
        assert_eq!(admit(&page, &stranger), Err(Denial::OtherConsumer));
    }

    #[test]
    fn shr_9_revoked_grant_stays_revoked() {
        use GrantAction::*;
        use GrantStatus::*;
        assert_eq!(grant_transition(Active, Suspend), Some(Suspended));
        assert_eq!(grant_transition(Suspended, Resume), Some(Active));
        assert_eq!(grant_transition(Suspended, Revoke), Some(Revoked));
        assert_eq!(grant_transition(Active, Resume), None);
        assert_eq!(grant_transition(Revoked, Resume), None);
        assert_eq!(grant_transition(Revoked, Suspend), None);
    }

    #[test]
    fn shr_8_projection_refuses_items_outside_the_grant() {
        let granted = vec!["name".to_string(), "citizen_id".to_string()];
        assert_eq!(project(&granted, &[]).unwrap(), vec!["name", "citizen_id"]);
        assert_eq!(project(&granted, &["name".into()]).unwrap(), vec!["name"]);
        assert_eq!(
            project(&granted, &["phone".into()]),
            Err(Denial::ItemNotGranted)
        );
        let f = RowFilter {
            column: "division".into(),
            prefix: Some("3301".into()),
            equals: None,
        };
        assert!(f.admits("330102"));
        assert!(!f.admits("110101"));
    }

    #[test]
    fn shr_13_successor_must_be_published_online_and_serving_rows() {
        let ok = ReplacementFacts {
            old_id: "a",
            old_online: true,
            successor_id: "b",
            successor_published: true,
            successor_online: true,
            successor_rows: 10,
        };
        assert_eq!(check_replacement(&ok), Ok(()));
        let empty = ReplacementFacts {
            successor_rows: 0,
            ..ok.clone()
        };
        assert_eq!(
            check_replacement(&empty),
            Err(ReplacementRefused::SuccessorNotWorking)
        );
        let offline = ReplacementFacts {
            successor_online: false,
            ..ok.clone()
        };
        assert_eq!(
            check_replacement(&offline),
            Err(ReplacementRefused::SuccessorNotPublished)
        );
        let itself = ReplacementFacts {
            successor_id: "a",
            ..ok.clone()
        };
        assert_eq!(
            check_replacement(&itself),
            Err(ReplacementRefused::SameResource)
        );
        let gone = ReplacementFacts {
            old_online: false,
            ..ok
        };
        assert_eq!(
            check_replacement(&gone),
            Err(ReplacementRefused::OldNotOnline)
        );
    }
}
