//! Rows as the store keeps them. Enumerations are stored by their domain key.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// ORG-1: a node of the administrative-division tree (GB/T 2260).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub level: String,
    pub parent_code: Option<String>,
    /// Whether this level runs its own platform node (XJ 13, HZ 26).
    pub hosts_node: bool,
}

/// ORG-2: a party of any kind, attached to a division.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub kind: String,
    pub division_code: String,
    pub credit_code: Option<String>,
    pub parent_id: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub kind: Option<String>,
    pub division_code: Option<String>,
    pub q: Option<String>,
}

/// ORG-3: one filed holder of an officer role; `ended_at` set when replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Officer {
    pub id: String,
    pub org_id: String,
    pub role: String,
    pub person_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub user_id: Option<String>,
    pub appointed_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub filed_by: String,
}

/// ORG-4: a department authorising a third party to collect or process data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProcessorAuthorization {
    pub id: String,
    pub org_id: String,
    pub processor_org_id: String,
    pub scope: String,
    pub purpose: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: String,
    pub filing_no: Option<String>,
    pub filed_at: Option<DateTime<Utc>>,
    pub filed_by: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub username: String,
    pub display_name: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub roles: Vec<String>,
    pub disabled: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
}

/// A console session; the cookie holds the secret, the store only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API token of a consumer system; the secret is shown once, the store keeps its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub org_id: String,
    pub name: String,
    #[serde(skip_serializing)]
    pub token_hash: String,
    /// The first characters of the secret, to recognise it in lists.
    pub prefix: String,
    pub permissions: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A synthetic natural person of the demo region (COL-3: keyed by citizen ID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    pub citizen_id: String,
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub division_code: String,
    pub synthetic: bool,
}

/// A synthetic legal entity of the demo region (COL-3: keyed by credit code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entity {
    pub credit_code: String,
    pub name: String,
    pub kind: String,
    pub division_code: String,
    pub registered_on: NaiveDate,
    pub synthetic: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub unique_key: String,
    pub run_at: DateTime<Utc>,
    pub status: String,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// The audit lookup tables cover records up to `upto_seq`. A record at or below the
/// mark without its entries would be hidden from filtered queries; an entry above
/// the mark, or one that disagrees with its record, would repeat a record or list
/// it under the wrong key. Both count as tampering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditIndexState {
    pub upto_seq: i64,
    /// Lookup entries missing for records at or below the mark (summed over tables).
    pub records_missing: i64,
    /// Lookup entries above the mark or not matching their record.
    pub entries_astray: i64,
}

impl AuditIndexState {
    pub fn consistent(&self) -> bool {
        self.records_missing == 0 && self.entries_astray == 0
    }
}

/// Filters of the audit trail; all optional, combined with AND. Also the query
/// string of the audit API and console page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// `user:<id>`, `token:<id>`, `cli`, `system`
    pub actor: Option<String>,
    pub org_id: Option<String>,
    /// Exact action, or a prefix ending in `.` (e.g. `user.`).
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub request_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Newest first, records with seq below this (for paging).
    pub before_seq: Option<i64>,
    /// At most this many records, 1–1000 (default 100).
    pub limit: Option<i64>,
}

impl AuditFilter {
    /// Empty text filters (blank form fields) mean "any".
    pub fn without_blanks(mut self) -> Self {
        for field in [
            &mut self.actor,
            &mut self.org_id,
            &mut self.action,
            &mut self.object_type,
            &mut self.object_id,
            &mut self.request_id,
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        self
    }
}

/// CAT-1, CAT-2: a catalog entry. `published` is what users see once the authority
/// has approved it; `working` is the copy being drafted or reviewed (a change to a
/// published entry goes through review while the published version stays visible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogEntry {
    pub id: String,
    /// Category digit, two-digit domain, six-digit sequence (`101-000042`), unique per node.
    pub code: String,
    /// The organisation that registers and answers for the entry.
    pub owner_org_id: String,
    pub category: String,
    pub domain: String,
    /// Of the visible version: the published one, else the working copy.
    pub name: String,
    pub source_org_id: String,
    pub share_type: String,
    pub open_type: String,
    #[schema(value_type = Option<Object>)]
    pub published: Option<gongshu_domain::catalog::EntryContent>,
    pub published_version: i32,
    pub published_at: Option<DateTime<Utc>>,
    /// CAT-2: taken offline (下架), with the reason.
    pub offline: bool,
    pub offline_reason: Option<String>,
    pub offline_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<Object>)]
    pub working: Option<gongshu_domain::catalog::EntryContent>,
    /// Review stage of the working copy (`draft`, `department_review`, `authority_review`).
    pub stage: Option<String>,
    /// Who submitted the working copy for review (the reviewer must be someone else).
    pub registrar_user_id: Option<String>,
    pub department_reviewer_user_id: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// CAT-2: the authority decides by this working day (HZ 12).
    pub authority_due: Option<NaiveDate>,
    /// Why the last review returned the working copy.
    pub return_reason: Option<String>,
    /// CAT-6: real data is mounted behind the entry.
    pub mounted: bool,
    /// CAT-2: the day the overdue job found the authority's review past its due day.
    pub overdue_since: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// CAT-2: one review step of an entry, as its history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogReview {
    pub id: String,
    pub entry_id: String,
    /// A review action key, or `create`, `update`, `offline`.
    pub action: String,
    pub actor_user_id: Option<String>,
    pub actor: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// Filters of a catalog listing; all optional, combined with AND.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogFilter {
    pub owner_org_id: Option<String>,
    pub source_org_id: Option<String>,
    /// A review stage, or `published`, `offline`, `unpublished`.
    pub status: Option<String>,
    pub category: Option<String>,
    pub domain: Option<String>,
    pub share_type: Option<String>,
    pub open_type: Option<String>,
    /// Part of the name or code.
    pub q: Option<String>,
    /// Only entries awaiting the authority whose due day is before this day.
    pub overdue_on: Option<NaiveDate>,
    /// CAT-6: only entries with (true) or without (false) data mounted behind them.
    pub mounted: Option<bool>,
    /// At most this many entries, 1–1000 (default 200).
    pub limit: Option<i64>,
    /// Skip this many entries (paging).
    pub offset: Option<i64>,
    /// Only entries whose code sorts after this one: paging that neither skips nor
    /// repeats an entry while others are registered.
    pub code_after: Option<String>,
    /// Only entries changed at or after this time (for harvesters and the search index).
    pub updated_since: Option<DateTime<Utc>>,
}

impl CatalogFilter {
    /// Empty text filters (blank form fields) mean "any".
    pub fn without_blanks(mut self) -> Self {
        for field in [
            &mut self.owner_org_id,
            &mut self.source_org_id,
            &mut self.status,
            &mut self.category,
            &mut self.domain,
            &mut self.share_type,
            &mut self.open_type,
            &mut self.q,
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        self
    }
}

/// CAT-3: one entry's registration of a data item with its source department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogItemClaim {
    pub item_key: String,
    pub item_name: String,
    pub source_org_id: String,
    pub entry_id: String,
    pub entry_code: String,
    pub entry_name: String,
    pub category: String,
    /// `published` or `working` (a draft or an entry in review).
    pub version: String,
}

/// CAT-3: the authority's decision on which department is the one source of a datum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemSource {
    pub item_key: String,
    pub source_org_id: String,
    pub note: String,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

/// CAT-2: a recorded change of law or function after which a department updates its
/// catalog within 15 working days (XJ 11, HZ 12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogChangeRecord {
    pub id: String,
    /// The department that must update its entries.
    pub org_id: String,
    pub description: String,
    /// The law, regulation or decision that changed.
    pub basis: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub due: NaiveDate,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_note: Option<String>,
    pub overdue_since: Option<NaiveDate>,
}

/// CAT-5: a scenario catalog: the resources one business scenario needs, requested
/// together later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScenarioBundle {
    pub id: String,
    pub name: String,
    /// The business scenario it serves.
    pub description: String,
    pub lead_org_id: String,
    pub entry_ids: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// CAT-11: a government IT project: the catalog entries it registered to be
/// approved, and whether their data was mounted when it was checked for acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItProject {
    pub id: String,
    pub name: String,
    pub org_id: String,
    /// The approval document's number.
    pub approval_ref: String,
    pub entry_ids: Vec<String>,
    pub approved_at: DateTime<Utc>,
    pub acceptance_checked_at: Option<DateTime<Utc>>,
    /// Entries whose data was not mounted at the last acceptance check.
    pub unmounted_entry_ids: Vec<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// COL-8 (HZ 17): social data services the project planned to buy itself.
    #[schema(value_type = Vec<String>)]
    #[serde(default)]
    pub social_data_kinds: Vec<gongshu_domain::social_data::SocialDataKind>,
}

/// COL-8 (HZ 17, JY 14, ZY 5): an agreement under which the data authority holds
/// social data for every department, and the catalog entries that carry the data.
/// Recorded once and never changed: a renewal is a new agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SocialDataAgreement {
    pub id: String,
    #[schema(value_type = String)]
    pub acquisition: gongshu_domain::social_data::SocialAcquisition,
    #[schema(value_type = String)]
    pub kind: gongshu_domain::social_data::SocialDataKind,
    pub name: String,
    /// The social party (社会力量) that supplies the data.
    pub supplier: String,
    /// The contract or authorisation document's number.
    pub contract_ref: String,
    /// What the data covers and how departments may use it.
    pub scope: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Whether the agreement lets the data be opened to the public.
    pub opening_allowed: bool,
    pub entry_ids: Vec<String>,
    /// The data authority that holds the agreement.
    pub org_id: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// COL-7 (XJ 13): what this node last reported of one catalog entry to the next
/// level's platform, or why the entry is not reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpstreamReport {
    pub entry_id: String,
    /// Set when the entry's department works on a system the upper level built:
    /// its data reaches the upper level there, so it is not reported again (XJ 13).
    pub exemption: Option<UpstreamExemption>,
    /// The published version of the entry last accepted upstream (0: never).
    pub reported_version: i32,
    /// Whether the upper node was last told the entry is offline (下架).
    #[serde(default)]
    pub reported_offline: bool,
    /// The load (data version) last accepted upstream.
    pub reported_load_id: Option<String>,
    pub reported_rows: Option<i64>,
    /// The entry's code on the upper node.
    pub upper_code: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// `reported` or `failed`, of the last attempt.
    pub outcome: Option<String>,
    pub error: Option<String>,
    /// COL-6: when the secrecy review last reported was made.
    #[serde(default)]
    pub reported_review_at: Option<DateTime<Utc>>,
    /// A data version the upper node failed to store, and how many times in a row:
    /// its next upload goes under a fresh idempotency key.
    #[serde(default)]
    pub failed_upload_load: Option<String>,
    #[serde(default)]
    pub failed_uploads: u32,
    pub updated_at: DateTime<Utc>,
}

/// Why an entry is not reported upstream, and who said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpstreamExemption {
    /// The upper-level system the department uses.
    pub system: String,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

/// COL-7 (XJ 13): on the receiving node, an entry a lower-level platform reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceivedReport {
    /// The lower level's data authority, as an organisation of this node.
    pub reporter_org_id: String,
    /// The entry's code on the lower node.
    pub source_code: String,
    /// The entry on this node that holds what was reported.
    pub entry_id: String,
    /// The department that is the entry's source on the lower node.
    pub source_department: String,
    pub source_version: i32,
    pub received_at: DateTime<Utc>,
    /// The lower level has taken the entry offline.
    #[serde(default)]
    pub offline_below: bool,
    /// This level took its copy offline of its own accord: later reports do not
    /// bring it back.
    #[serde(default)]
    pub offline_here: bool,
    /// SHR-13: share grants on this node that keep the entry here in service after
    /// the lower level took it offline: counted then, and again when one of them is
    /// replaced or revoked and by the hourly sweep (0 when it followed the lower
    /// level offline, and once those grants are gone and it follows it after all).
    #[serde(default)]
    pub held_by_grants: i64,
}

/// CAT-7, SHR-7: a department's demand for data another department holds (or
/// should catalog); the source answers within 5 working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DataDemand {
    pub id: String,
    pub requester_org_id: String,
    pub source_org_id: String,
    pub title: String,
    /// The duty or business the data serves.
    pub purpose: String,
    /// The data items wanted, in words.
    pub items: String,
    /// `open`, `accepted` or `declined`.
    pub status: String,
    /// The catalog entry that provides the data, once the source names it.
    pub entry_id: Option<String>,
    pub answer: Option<String>,
    pub due: NaiveDate,
    pub answered_at: Option<DateTime<Utc>>,
    pub overdue_since: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// COL-2: a mounted resource: where its current rows are and how loads treat bad rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dataset {
    pub resource_id: String,
    /// The department that delivers the data.
    pub org_id: String,
    /// `quarantine` (accept valid rows, keep the others aside) or `reject` (refuse
    /// the whole load if any row is bad).
    pub policy: String,
    /// The table layout of the current version.
    #[schema(value_type = Object)]
    pub schema: gongshu_domain::dataset::TableSchema,
    /// Number of the last load applied (0 before the first).
    pub version: i64,
    pub current_load_id: Option<String>,
    pub current_table: Option<String>,
    /// Kept so the last load can be rolled back.
    pub previous_table: Option<String>,
    pub previous_load_id: Option<String>,
    pub row_count: i64,
    pub last_loaded_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// COL-6: the providing department's latest secrecy review; none, no loads.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub secrecy_review: Option<gongshu_domain::secrecy::SecrecyReview>,
}

impl Dataset {
    /// COL-6 (CZ 33): the providing department's latest secrecy review found state
    /// secrets, so the data already on the platform is served to no one.
    pub fn withheld_as_secret(&self) -> bool {
        gongshu_domain::secrecy::withholds_data(self.secrecy_review.as_ref())
    }
}

/// What the egress gate reads about a resource before it serves a row.
#[derive(Debug, Clone)]
pub struct ServedDataset {
    pub dataset: Dataset,
    /// SHR-13: the entry was taken offline.
    pub entry_offline: bool,
    /// COL-8: agreements over the entry's social data, and how many are in force.
    pub social_agreements: u32,
    pub social_agreements_in_force: u32,
}

/// GOV-1, GOV-3: what a resource or a department scored on one day (China time),
/// as the day's last measurement left it; the days together are its quality history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualitySnapshot {
    pub day: NaiveDate,
    /// [`QualitySnapshot::RESOURCE`] or [`QualitySnapshot::DEPARTMENT`].
    pub scope: String,
    /// The resource's id, or the department's.
    pub subject_id: String,
    pub org_id: String,
    /// The resources scored: 1 for a resource, those with data for a department.
    pub resources: i64,
    /// The rows served: a resource's, or the sum over a department's resources.
    pub rows: i64,
    pub scores: gongshu_domain::dataset::QualityScores,
    pub recorded_at: DateTime<Utc>,
}

impl QualitySnapshot {
    pub const RESOURCE: &'static str = "resource";
    pub const DEPARTMENT: &'static str = "department";
}

/// COL-1, COL-2: one delivery of data for a resource, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DatasetLoad {
    pub id: String,
    pub resource_id: String,
    pub org_id: String,
    pub version: i64,
    /// `replace` or `upsert`.
    pub mode: String,
    /// `upload`, `push`, `pull`, `offline` or `cli`.
    pub channel: String,
    /// `running`, `applied`, `rejected`, `failed`, `rolled_back`.
    pub status: String,
    pub table_name: String,
    pub file_name: Option<String>,
    pub format: Option<String>,
    pub encoding: Option<String>,
    pub bytes: i64,
    /// SM3 of the delivered bytes, hex.
    pub checksum: Option<String>,
    /// A pushed batch's key: the same key is never applied twice.
    pub idempotency_key: Option<String>,
    /// XJ 22: offline delivery is recorded with its filing.
    pub filing_no: Option<String>,
    pub filing_note: Option<String>,
    pub rows_read: i64,
    pub rows_accepted: i64,
    pub rows_rejected: i64,
    #[schema(value_type = Object)]
    pub tally: Option<gongshu_domain::dataset::LoadTally>,
    #[schema(value_type = Object)]
    pub quality: Option<gongshu_domain::dataset::QualityScores>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub loaded_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Which loads to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct LoadFilter {
    pub resource_id: Option<String>,
    pub org_id: Option<String>,
    /// Only loads in this status (`running`, `applied` …).
    pub status: Option<String>,
    /// Only loads of this version of the resource.
    pub version: Option<i64>,
    pub limit: Option<i64>,
}

/// COL-3: a delivered row that was not loaded, exactly as delivered, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectedRow {
    pub load_id: String,
    pub row_number: i64,
    /// The delivered values (or the raw text of a record that could not be read).
    pub raw: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<gongshu_domain::dataset::CellError>,
}

/// COL-9: one attribute of a base database and the one department it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BaseAttribute {
    /// `population` or `legal_entity`.
    pub base: String,
    /// CAT-3 item key.
    pub attribute: String,
    pub label: String,
    pub source_org_id: String,
    pub resource_id: String,
    pub column_name: String,
    pub built_at: DateTime<Utc>,
    pub built_by: String,
}

/// GOV-2: the same subject's attribute delivered differently by two departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Discrepancy {
    pub id: i64,
    pub base: String,
    pub subject_key: String,
    pub attribute: String,
    pub label: String,
    /// The attribute's source department, which must act.
    pub source_org_id: String,
    pub source_resource_id: String,
    pub source_value: String,
    pub other_org_id: String,
    pub other_resource_id: String,
    pub other_value: String,
    /// `open`, `corrected`, `confirmed` or `agreed` (the data now agrees).
    pub status: String,
    pub found_at: DateTime<Utc>,
    pub due: NaiveDate,
    pub overdue_since: Option<NaiveDate>,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Which discrepancies to list.
#[derive(Debug, Clone, Default)]
pub struct DiscrepancyFilter {
    pub source_org_id: Option<String>,
    pub status: Option<String>,
    pub subject_key: Option<String>,
    pub overdue_on: Option<NaiveDate>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// One stored dataset row: the load that wrote it, its row number there, its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRow {
    pub load: i64,
    pub row: i64,
    pub values: Vec<gongshu_domain::dataset::Value>,
}

/// Which rows of a dataset table to read, in (load, row) order.
#[derive(Debug, Clone, Default)]
pub struct RowQuery {
    /// Only rows meeting every condition (SHR-8 row filters and consumers' filters).
    pub conditions: Vec<RowCondition>,
    /// Keyset paging: rows after this (load, row).
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

/// A condition on one column's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowCondition {
    Equals { column: String, value: String },
    Prefix { column: String, prefix: String },
}

/// One side of a cross-source comparison: a table, its subject column, its value column.
#[derive(Debug, Clone)]
pub struct ColumnRef {
    pub table: String,
    pub key_column: String,
    pub column: String,
}

/// GOV-2: what comparing a column of two tables found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Subjects present in both with a value on the other side.
    pub linked: i64,
    pub differing_total: i64,
    /// Of those, the ones not among the [`AnsweredDifferences`] (all, without them).
    pub unanswered_total: i64,
    /// (subject, source value, other value) of the unanswered differences in
    /// subject order, at most the asked limit.
    pub differing: Vec<(String, String, String)>,
}

/// GOV-2: where the differences the source department already confirmed (its value
/// stands) are recorded: the discrepancies of `attribute` against the copy in
/// `other_resource_id`. A comparison leaves a difference out of its list while
/// both values are the ones confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredDifferences {
    pub attribute: String,
    pub other_resource_id: String,
}

/// COL-1: a resource's pull connector: where the platform reads its data from, on
/// the resource's update frequency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DatasetSource {
    pub resource_id: String,
    pub org_id: String,
    /// The connector description (kind, host, query or URL …), without secrets.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// The password or token, sealed with the deployment's key; never shown.
    #[serde(skip_serializing)]
    pub sealed_secret: Option<String>,
    /// Pulled on the update frequency (else only on demand).
    pub scheduled: bool,
    pub next_pull_at: Option<DateTime<Utc>>,
    pub last_pull_at: Option<DateTime<Utc>>,
    pub last_load_id: Option<String>,
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// SHR-3 … SHR-7: one step taken on a share request, kept in its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShareStep {
    /// A `RequestAction` key, or `submit`.
    pub action: String,
    pub actor: String,
    pub org_id: Option<String>,
    pub at: DateTime<Utc>,
    /// The status the request reached.
    pub status: String,
    #[serde(default)]
    pub note: String,
    /// SHR-5: a refusal's legal basis.
    #[serde(default)]
    pub legal_basis: String,
    /// Whether this step was taken after its deadline.
    #[serde(default)]
    pub late: bool,
}

/// SHR-3 … SHR-8: a department's request for another's resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShareRequest {
    pub id: String,
    pub requester_org_id: String,
    pub source_org_id: String,
    /// The catalog entry asked for.
    pub resource_id: String,
    pub resource_code: String,
    pub resource_name: String,
    /// The entry's share type when the request was made.
    pub share_type: String,
    /// A scenario bundle the request was made under, if any.
    pub scenario_id: Option<String>,
    pub purpose: String,
    pub scenario: String,
    pub legal_duty: String,
    /// Item code names, the fewest necessary.
    pub items: Vec<String>,
    /// An `AccessMode` key.
    pub mode: String,
    /// The consumer system (API token) the grant is for.
    pub token_id: Option<String>,
    pub end_date: NaiveDate,
    pub commitment_version: String,
    pub commitment_signed_at: DateTime<Utc>,
    /// Disaster or epidemic response: every step is due the next working day.
    pub emergency: bool,
    pub emergency_reason: String,
    pub status: String,
    /// When the current step is due (working days, DL-1).
    pub due: Option<NaiveDate>,
    /// The deadline kind of the current step.
    pub due_kind: Option<String>,
    pub overdue_since: Option<NaiveDate>,
    pub steps: Vec<ShareStep>,
    pub grant_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which share requests to list.
#[derive(Debug, Clone, Default)]
pub struct ShareRequestFilter {
    /// Requests made by or to this organisation.
    pub org_id: Option<String>,
    pub status: Option<String>,
    /// Only requests still waiting for someone.
    pub open_only: bool,
    pub limit: i64,
}

/// SHR-8, SHR-9: what a consumer may read of a resource, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShareGrant {
    pub id: String,
    pub request_id: String,
    pub consumer_org_id: String,
    pub token_id: Option<String>,
    pub source_org_id: String,
    pub resource_id: String,
    pub resource_code: String,
    pub resource_name: String,
    pub items: Vec<String>,
    pub purpose: String,
    pub scenario: String,
    pub mode: String,
    #[schema(value_type = Option<Object>)]
    pub row_filter: Option<gongshu_domain::sharing::RowFilter>,
    #[schema(value_type = Object)]
    pub masking: gongshu_domain::masking::MaskPolicy,
    /// Calls served per day; for a `download` grant, rows (0: no limit).
    pub daily_quota: i64,
    /// Calls per minute on one node (0: no limit).
    pub rate_per_minute: i64,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// A `GrantStatus` key.
    pub status: String,
    pub status_reason: String,
    /// SHR-13: the resource that replaced this grant's resource, offered to the consumer.
    #[serde(default)]
    pub successor_resource_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which grants to list.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    pub consumer_org_id: Option<String>,
    pub source_org_id: Option<String>,
    pub resource_id: Option<String>,
}

/// GOV-5: one call at the egress gate, served or denied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessRecord {
    pub id: String,
    pub at: DateTime<Utc>,
    /// `token:<id>` or `user:<id>`, or `anonymous`.
    pub actor: String,
    pub consumer_org_id: Option<String>,
    /// The API token, or for the public's reads the developer key.
    pub token_id: Option<String>,
    pub grant_id: Option<String>,
    /// OPN-4: the open-data application a conditional read was served under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    pub resource_id: Option<String>,
    pub source_org_id: Option<String>,
    pub purpose: String,
    /// An `AccessMode` key, or what was attempted; `internal` for a read outside
    /// any grant (a department's own preview or export, the platform's governance).
    pub mode: String,
    /// `lookup`, `query`, `download`, `verify`; for `internal` reads `preview`,
    /// `export`, `base_view`, `cross_check` or `release` (OPN-6: a release reading its
    /// source); for `open` reads also `preview` (the rows shown on a dataset's portal
    /// page).
    pub operation: String,
    pub items: Vec<String>,
    /// The key or filter asked for, masked as the response was.
    pub request: String,
    pub row_count: i64,
    /// SM3 of the response body (hex); empty for a denied call.
    pub response_hash: String,
    /// `served` or `denied`.
    pub outcome: String,
    pub denial: Option<String>,
}

/// GOV-5: what a grant served in a period: calls, and rows returned (a download
/// grant's quota counts rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServedTally {
    pub calls: i64,
    pub rows: i64,
}

/// Which access records to list.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub source_org_id: Option<String>,
    pub consumer_org_id: Option<String>,
    pub grant_id: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// SHR-12, GOV-5 (XJ 15): how a consumer used data obtained by sharing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageReport {
    pub id: String,
    pub grant_id: String,
    pub consumer_org_id: String,
    pub scenario: String,
    pub effect: String,
    /// How and where the data is stored.
    pub storage: String,
    /// How and when it was or will be destroyed.
    pub destruction: String,
    pub reported_by: String,
    pub created_at: DateTime<Utc>,
}

/// OPN-3: a developer key a member of the public holds to call the open-data API
/// at a higher rate and, once an application is approved and its agreement
/// accepted, to read data open on conditions (OPN-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeveloperKey {
    pub id: String,
    /// SM3 of the secret; the secret itself is shown once, when the key is issued.
    pub key_hash: String,
    pub holder_name: String,
    /// An `ApplicantKind` key: natural person, legal person or other organisation.
    pub holder_kind: String,
    /// The holder's citizen ID or unified social credit code, masked.
    pub identity_masked: String,
    /// Keyed SM3 of the identity number: the same holder's keys are found by it
    /// without keeping the number.
    pub identity_hash: String,
    /// E-mail or telephone the holder gave.
    pub contact: String,
    /// `active` or `revoked`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// OPN-4: one reviewer's opinion on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenReview {
    pub by_user_id: String,
    pub by_org_id: String,
    pub at: DateTime<Utc>,
    pub approve: bool,
    /// Required for a refusal (HZ 37: reasons must be clear).
    pub reason: String,
}

/// OPN-4 (HZ 37): the data use agreement as the applicant accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreementAcceptance {
    /// The version of the agreement text.
    pub version: String,
    /// SM3 of the text accepted, so the very words can be shown later.
    pub text_sm3: String,
    pub accepted_at: DateTime<Utc>,
    /// The party: holder name, kind and masked identity.
    pub party: String,
}

/// OPN-4: an application by a member of the public for a dataset open on conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenApplication {
    pub id: String,
    pub key_id: String,
    pub holder_name: String,
    pub holder_kind: String,
    pub identity_masked: String,
    pub contact: String,
    pub resource_id: String,
    pub resource_code: String,
    pub resource_name: String,
    pub source_org_id: String,
    pub purpose: String,
    /// How the data will be used (product, research, service …).
    pub intended_use: String,
    /// An `OpenApplicationStatus` key.
    pub status: String,
    /// HZ 37: the answer is due 20 working days after receipt.
    pub due: NaiveDate,
    pub overdue_since: Option<NaiveDate>,
    pub source_review: Option<OpenReview>,
    pub authority_review: Option<OpenReview>,
    pub agreement: Option<AgreementAcceptance>,
    /// The last day the approved use runs to.
    pub ends_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which applications to list.
#[derive(Debug, Clone, Default)]
pub struct OpenApplicationFilter {
    pub key_id: Option<String>,
    pub source_org_id: Option<String>,
    pub resource_id: Option<String>,
    pub status: Option<String>,
    pub limit: i64,
}

/// OPN-9: a report by the public on an open dataset, and the source's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenFeedback {
    pub id: String,
    pub resource_id: String,
    pub resource_code: String,
    pub resource_name: String,
    pub source_org_id: String,
    /// A `FeedbackKind` key: error, objection, harm or suspected leak.
    pub kind: String,
    pub description: String,
    /// Optional: who reported, and how to reach them.
    pub reporter: String,
    pub contact: String,
    /// SM3 of the ticket the reporter was given to read the answer.
    pub ticket_hash: String,
    /// A `FeedbackStatus` key.
    pub status: String,
    /// Whether the dataset is held out of the open catalog because of this report.
    pub withheld: bool,
    /// A `FeedbackAction` key, once the source has acted.
    pub action: Option<String>,
    pub answer: String,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub due: NaiveDate,
    pub overdue_since: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which feedback to list.
#[derive(Debug, Clone, Default)]
pub struct OpenFeedbackFilter {
    pub resource_id: Option<String>,
    pub source_org_id: Option<String>,
    pub status: Option<String>,
    pub limit: i64,
}

/// OPN-1 (HZ 31): the authority's proposal to change the open type of a published
/// entry, the source's answer, and, when they disagree, the government's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenTypeProposal {
    pub id: String,
    pub entry_id: String,
    pub entry_code: String,
    pub entry_name: String,
    pub source_org_id: String,
    /// The open type when proposed.
    pub current_type: String,
    pub proposed_type: String,
    /// An `OpenReason` key for a conditional or not-open proposal.
    pub proposed_reason: Option<String>,
    /// Why the authority proposes it.
    pub rationale: String,
    pub proposed_by: String,
    /// A `ProposalStatus` key.
    pub status: String,
    /// The source's answer: why it agrees or disagrees.
    pub response: Option<String>,
    pub responded_by: Option<String>,
    pub responded_at: Option<DateTime<Utc>>,
    /// The government's decision on a dispute: the open type it set.
    pub decided_type: Option<String>,
    /// The decision as written, with its document number.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// OPN-11 (JY 29): what the public did with open data: page views, API calls,
/// downloads, and the rows served by all reads (previews included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageCounts {
    /// Views of the dataset's page on the portal.
    pub views: i64,
    /// Served reads of rows by the API (and CKAN's `datastore_search`).
    pub api_calls: i64,
    /// Served downloads of files.
    pub downloads: i64,
    /// Rows served by every served read: API calls, downloads and page previews.
    pub rows_served: i64,
}

impl UsageCounts {
    /// Each time the public used the dataset: a view, a call or a download.
    pub fn uses(&self) -> i64 {
        self.views + self.api_calls + self.downloads
    }

    pub fn add(&mut self, other: &UsageCounts) {
        self.views += other.views;
        self.api_calls += other.api_calls;
        self.downloads += other.downloads;
        self.rows_served += other.rows_served;
    }

    pub fn is_zero(&self) -> bool {
        *self == UsageCounts::default()
    }
}

/// OPN-11 (JY 29): one dataset's counters of one day in China — a running total kept
/// beside the access records (which are purged after their retention period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenUsageDay {
    pub resource_id: String,
    pub source_org_id: String,
    pub day: NaiveDate,
    pub counts: UsageCounts,
}

/// OPN-11: one dataset's counters summed: all time, and since a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenUsageTotal {
    pub resource_id: String,
    pub source_org_id: String,
    pub total: UsageCounts,
    pub recent: UsageCounts,
}

/// Which counters to sum.
#[derive(Debug, Clone, Default)]
pub struct OpenUsageFilter {
    pub resource_id: Option<String>,
    pub source_org_id: Option<String>,
}

/// SUP-8 (XJ 41): an application, website, study or report built on open data,
/// submitted by anyone and shown on the portal once the authority publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenShowcase {
    pub id: String,
    pub name: String,
    pub description: String,
    pub url: String,
    /// A `ShowcaseKind` key.
    pub kind: String,
    /// The open datasets it uses: resource codes, as submitted.
    pub dataset_codes: Vec<String>,
    /// The same datasets by catalog entry id (the dataset pages look them up).
    pub resource_ids: Vec<String>,
    pub submitter: String,
    pub contact: String,
    /// A `ShowcaseStatus` key.
    pub status: String,
    /// Why the authority rejected or withdrew it.
    pub reason: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which showcase entries to list.
#[derive(Debug, Clone, Default)]
pub struct ShowcaseFilter {
    pub status: Option<String>,
    /// Those using this dataset (catalog entry id).
    pub resource_id: Option<String>,
    pub limit: i64,
}

/// OPN-8 (HZ 36): a body's yearly open plan, as filed with the authority and reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenPlan {
    pub id: String,
    /// The public body whose plan it is (one plan per body and year).
    pub org_id: String,
    pub year: i32,
    /// A `PlanStatus` key.
    pub status: String,
    /// The plan as the body last saved it.
    #[schema(value_type = Object)]
    pub content: gongshu_domain::open_plan::PlanContent,
    /// The version the authority accepted last: what the level plan publishes.
    #[schema(value_type = Option<Object>)]
    pub accepted: Option<gongshu_domain::open_plan::PlanContent>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub filed_at: Option<DateTime<Utc>>,
    pub filed_by: Option<String>,
    /// The authority's decisions, oldest first.
    pub reviews: Vec<OpenPlanReview>,
    /// Grows with every change; a write names the version it read.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// OPN-8: one decision of the authority on a filed plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenPlanReview {
    /// A `PlanDecision` key: accept or return.
    pub decision: String,
    /// Why it was returned (or the authority's remarks on acceptance).
    pub reasons: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Which plans to list.
#[derive(Debug, Clone, Default)]
pub struct OpenPlanFilter {
    pub year: Option<i32>,
    pub org_id: Option<String>,
    pub status: Option<String>,
}

/// OPN-8 (HZ 30, XJ 31): the year's priority domains as the authority published them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenPriorities {
    pub year: i32,
    #[schema(value_type = Object)]
    pub priorities: gongshu_domain::open_plan::Priorities,
    /// The authority that published them.
    pub org_id: Option<String>,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    /// 1 when first published, one more with each republication.
    pub version: i32,
}

/// OPN-5, OPN-6 (JY 27–28, XJ 26, HZ 33, HZ 35): one version of a release — a
/// derived, versioned dataset made from a source department's entry by
/// desensitisation (with the k-anonymity it reached) or on its subjects' consent,
/// published under a derived catalog entry of the same department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenRelease {
    pub id: String,
    /// The id of the series' first version: every version of one derived dataset shares it.
    pub series_id: String,
    /// 1, 2, … once published; 0 while it awaits the authority (or was returned).
    pub version: i32,
    /// The source department, which owns the source and the derived entry.
    pub org_id: String,
    pub source_entry_id: String,
    pub source_code: String,
    pub source_name: String,
    /// The derived catalog entry, once the series was first published.
    pub derived_entry_id: Option<String>,
    pub derived_code: Option<String>,
    /// The derived dataset's name.
    pub name: String,
    /// A `ReleaseBasis` key: `desensitised` or `consent`.
    pub basis: String,
    /// HZ 33 (1): who consented, to what, and the document recording it.
    pub consent: Option<ReleaseConsent>,
    /// The derived entry's open type, conditions and criterion.
    pub open_type: String,
    pub open_conditions: String,
    pub open_reason: Option<String>,
    /// Source item → rule (`keep`, `year_band:5`, `prefix:4`, `mask:name`, …); an
    /// item not named is not released.
    pub rules: std::collections::BTreeMap<String, String>,
    /// The released items k-anonymity is computed over.
    pub quasi_identifiers: Vec<String>,
    /// The k the release must reach (0: no k check, a consent release without
    /// quasi-identifiers).
    pub k_required: i64,
    /// The largest share of rows (percent) the release may drop to reach k.
    pub max_suppression_percent: i64,
    /// The k the released rows reached, their equivalence classes and count.
    pub k_achieved: i64,
    pub classes: i64,
    pub source_rows: i64,
    pub rows: i64,
    /// Rows dropped because their class was smaller than k.
    pub suppressed_rows: i64,
    /// The source's load the released rows were made from.
    pub source_load_id: Option<String>,
    /// The load of the derived dataset that holds the released rows.
    pub load_id: Option<String>,
    /// A `ReleaseStatus` key.
    pub status: String,
    /// Why the authority returned it, or why it was withdrawn.
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The authority's decision (or, for a refresh, the platform's).
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// OPN-6 (JY 28): when the refresh job next re-runs a published version.
    pub next_refresh_at: Option<DateTime<Utc>>,
    /// The last refresh attempted on this version, whatever its outcome.
    pub last_refresh: Option<ReleaseRefresh>,
    pub updated_at: DateTime<Utc>,
}

/// HZ 33 (1): the consent a release on consent rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseConsent {
    /// Who consented (the data subjects, or their number and kind).
    pub subjects: String,
    /// What they consented to open, and to whom.
    pub scope: String,
    /// The document recording the consent (reference or number).
    pub document: String,
}

/// OPN-6: one refresh of a published release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseRefresh {
    pub at: DateTime<Utc>,
    /// `published` (a new version), `unchanged` (the source had no new load) or
    /// `refused` (the new rows failed a check; the previous version stays).
    pub outcome: String,
    pub version: Option<i32>,
    pub k_achieved: Option<i64>,
    pub error_code: Option<String>,
    pub message: Option<String>,
}

/// Which release versions to list.
#[derive(Debug, Clone, Default)]
pub struct OpenReleaseFilter {
    pub org_id: Option<String>,
    pub series_id: Option<String>,
    pub source_entry_id: Option<String>,
    pub status: Option<String>,
    pub limit: i64,
}
