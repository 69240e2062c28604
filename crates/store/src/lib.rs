//! The `Store` port: models, the write set of a use case, and the trait both backends implement.
pub mod models;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gongshu_domain::audit::{AuditDraft, AuditRecord};
pub use models::*;

/// How [`DataPlane::write_rows`] meets the rows already in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowWrite<'a> {
    /// Appended as they are (into a replace's unindexed table; see `finish_table`).
    Append,
    /// A row replaces the row of an earlier load with its key. Only the columns
    /// `delivered` marks (by schema position) take the new values; the others keep
    /// what the row held, since an upsert's file may leave out optional items.
    Upsert { delivered: &'a [bool] },
}

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or foreign-key rule refused the write; names the constraint.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A conditional change found nothing to change (stale or missing row).
    #[error("not found: {0}")]
    NotFound(String),
    /// The database failed; the transaction was rolled back.
    #[error("database: {0}")]
    Database(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One write of a use case. A use case hands all its writes and its audit
/// record(s) to [`Store::commit`], which applies them in one transaction (DESIGN 3).
#[derive(Debug, Clone)]
pub enum Change {
    UpsertDivision(Division),
    InsertOrg(Organization),
    UpdateOrg(Organization),
    /// ORG-3: ends the current holder of a role (history is kept).
    EndOfficer {
        org_id: String,
        role: String,
        at: DateTime<Utc>,
    },
    InsertOfficer(Officer),
    InsertProcessor(ProcessorAuthorization),
    UpdateProcessor(ProcessorAuthorization),
    InsertUser(User),
    UpdateUser(User),
    InsertSession(Session),
    DeleteSession {
        id_hash: String,
    },
    DeleteUserSessions {
        user_id: String,
    },
    DeleteExpiredSessions {
        now: DateTime<Utc>,
    },
    InsertToken(ApiToken),
    RevokeToken {
        id: String,
        at: DateTime<Utc>,
    },
    InsertPerson(Person),
    InsertEntity(Entity),
    InsertCatalogEntry(CatalogEntry),
    /// Replaces the entry if it is still as the use case read it
    /// (`expected_updated_at`); otherwise the commit fails with NotFound.
    UpdateCatalogEntry {
        entry: CatalogEntry,
        expected_updated_at: DateTime<Utc>,
    },
    InsertCatalogReview(CatalogReview),
    /// CAT-3: records (or replaces) the one source of a datum.
    PutItemSource(ItemSource),
    InsertChangeRecord(CatalogChangeRecord),
    InsertScenario(ScenarioBundle),
    /// Inserts or replaces a demand.
    PutDemand(DataDemand),
    /// Inserts or replaces a project.
    PutItProject(ItProject),
    UpdateChangeRecord(CatalogChangeRecord),
    /// CAT-6: data is (or is no longer) mounted behind an entry.
    SetCatalogMounted {
        entry_id: String,
        mounted: bool,
    },
    /// COL-2: a load begins (status `running`) or its outcome is recorded.
    PutLoad(DatasetLoad),
    /// COL-2: inserts the dataset (`expected_version` None) or moves it to a new
    /// version if it is still at `expected_version`; otherwise NotFound.
    PutDataset {
        dataset: Dataset,
        expected_version: Option<i64>,
    },
    /// COL-9: the attributes of one base database, replacing the earlier build.
    ReplaceBaseAttributes {
        base: String,
        attributes: Vec<BaseAttribute>,
    },
    /// GOV-2: new discrepancies; one already open for the same subject, attribute
    /// and other resource is kept instead.
    InsertDiscrepancies(Vec<Discrepancy>),
    UpdateDiscrepancy(Discrepancy),
    /// COL-1: inserts or replaces a resource's pull connector.
    PutSource(DatasetSource),
    /// GOV-1: records each snapshot, replacing one of the same day and subject.
    PutQualitySnapshots(Vec<QualitySnapshot>),
    /// SHR-3 … SHR-7: inserts or replaces a share request.
    PutShareRequest(ShareRequest),
    /// SHR-8, SHR-9: inserts or replaces a grant.
    PutGrant(ShareGrant),
    /// GOV-5: appends egress-gate access records.
    InsertAccess(Vec<AccessRecord>),
    /// SHR-12: appends a consumer's use report.
    InsertUsageReport(UsageReport),
    /// OPN-3: inserts or replaces a developer key.
    PutDeveloperKey(DeveloperKey),
    /// OPN-4: inserts or replaces an application for conditional open data.
    PutOpenApplication(OpenApplication),
    /// OPN-9: inserts or replaces a report by the public.
    PutOpenFeedback(OpenFeedback),
    /// OPN-8: inserts a body's yearly plan (`expected_version` None), or replaces it
    /// if it is still at `expected_version`; otherwise NotFound.
    PutOpenPlan {
        plan: OpenPlan,
        expected_version: Option<i32>,
    },
    /// OPN-8: inserts or replaces the year's published priority domains.
    PutOpenPriorities(OpenPriorities),
    /// OPN-11 (JY 29): adds to open datasets' daily counters (page views; reads
    /// are counted with their access records by `InsertAccess`).
    AddOpenUsage(Vec<OpenUsageDay>),
    /// SUP-8: inserts or replaces a product built on open data.
    PutShowcase(OpenShowcase),
    /// OPN-1 (HZ 31): inserts or replaces a proposal to change an open type.
    PutOpenTypeProposal(OpenTypeProposal),
    /// OPN-5, OPN-6: inserts or replaces one version of a release.
    PutOpenRelease(OpenRelease),
    /// COL-8: inserts an agreement over social data and the entries it carries.
    InsertSocialDataAgreement(SocialDataAgreement),
    /// COL-7: writes what was reported of an entry. With `expected_updated_at` the row
    /// must still be as read (else NotFound); without, it must not exist yet (else
    /// Conflict): two report runs cannot both record the same entry.
    PutUpstreamReport {
        report: UpstreamReport,
        expected_updated_at: Option<DateTime<Utc>>,
    },
    /// COL-7: writes an entry a lower-level platform reported here. With
    /// `expected_received_at` the row must still be as read (else NotFound); without,
    /// it must not exist yet (else Conflict): two reports of one entry at once cannot
    /// both create it.
    PutReceivedReport {
        report: ReceivedReport,
        expected_received_at: Option<DateTime<Utc>>,
    },
    /// Changes nothing, but fails the commit with NotFound unless the entry still has
    /// `updated_at` and `social_agreements` agreements over it (COL-8: an agreement
    /// and an edit of its entry, or two agreements, checked against the same state
    /// cannot both land). Put it before any change to the entry in the same commit.
    ExpectEntryState {
        entry_id: String,
        updated_at: DateTime<Utc>,
        social_agreements: u32,
    },
    /// Changes nothing, but fails the commit with NotFound unless the record still
    /// has `status`. A decision or a deadline sweep writes back a record it read
    /// earlier; this keeps it from overwriting a decision taken meanwhile (two
    /// reviewers at once, or a sweep racing a reviewer).
    ExpectStatus {
        record: StatusRecord,
        id: String,
        status: String,
    },
}

impl Change {
    /// Whether this write changes what a public read is checked against: the open
    /// catalog's entries and datasets, a withholding report (OPN-9) or a developer
    /// key (OPN-3). A store counts such commits in [`Store::open_catalog_epoch`].
    pub fn alters_open_catalog(&self) -> bool {
        matches!(
            self,
            Change::InsertCatalogEntry(_)
                | Change::UpdateCatalogEntry { .. }
                | Change::SetCatalogMounted { .. }
                | Change::PutDataset { .. }
                | Change::PutDeveloperKey(_)
                | Change::PutOpenFeedback(_)
                | Change::InsertSocialDataAgreement(_)
        )
    }
}

/// The records with a workflow status that a commit can require ([`Change::ExpectStatus`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRecord {
    ShareRequest,
    OpenApplication,
    OpenFeedback,
    OpenTypeProposal,
}

/// COL-2: the data plane — mounted datasets, their loads, and the typed tables
/// their rows live in. Writes of metadata go through [`Store::commit`] (with their
/// audit); rows are written here in batches before a load is committed.
#[async_trait]
pub trait DataPlane: Send + Sync + 'static {
    async fn get_dataset(&self, resource_id: &str) -> StoreResult<Option<Dataset>>;
    /// The dataset behind a catalog entry given by id or code, whether the entry is
    /// offline, and the social-data agreements over it on `today`, in one read (the
    /// egress gate resolves every call with it).
    async fn find_served_dataset(
        &self,
        id_or_code: &str,
        today: chrono::NaiveDate,
    ) -> StoreResult<Option<ServedDataset>>;
    /// Of one department when given.
    async fn list_datasets(&self, org_id: Option<&str>) -> StoreResult<Vec<Dataset>>;
    async fn get_load(&self, id: &str) -> StoreResult<Option<DatasetLoad>>;
    async fn find_load_by_key(
        &self,
        resource_id: &str,
        idempotency_key: &str,
    ) -> StoreResult<Option<DatasetLoad>>;
    /// Newest first.
    async fn list_loads(&self, filter: &LoadFilter) -> StoreResult<Vec<DatasetLoad>>;
    async fn insert_rejects(&self, rows: &[RejectedRow]) -> StoreResult<()>;
    async fn list_base_attributes(&self, base: Option<&str>) -> StoreResult<Vec<BaseAttribute>>;
    /// GOV-1: the daily quality of one subject (`scope` as in [`QualitySnapshot`])
    /// from `since` on, oldest first.
    async fn list_quality_snapshots(
        &self,
        scope: &str,
        subject_id: &str,
        since: chrono::NaiveDate,
    ) -> StoreResult<Vec<QualitySnapshot>>;
    async fn get_discrepancy(&self, id: i64) -> StoreResult<Option<Discrepancy>>;
    /// Oldest due first.
    async fn list_discrepancies(&self, filter: &DiscrepancyFilter)
        -> StoreResult<Vec<Discrepancy>>;
    async fn count_discrepancies(&self, filter: &DiscrepancyFilter) -> StoreResult<i64>;
    async fn get_source(&self, resource_id: &str) -> StoreResult<Option<DatasetSource>>;
    /// Scheduled sources whose next pull is due at `now`.
    async fn due_sources(&self, now: DateTime<Utc>) -> StoreResult<Vec<DatasetSource>>;

    /// Creates an empty table typed from `schema`; with `indexed`, also its unique
    /// key index and identifier indexes (else [`DataPlane::finish_table`] adds them).
    async fn create_table(
        &self,
        table: &str,
        schema: &gongshu_domain::dataset::TableSchema,
        indexed: bool,
    ) -> StoreResult<()>;
    /// After a bulk write into an unindexed table: removes every row whose key an
    /// earlier row holds (returning them, so they can be kept as rejected), then
    /// builds the indexes, with those [`DataPlane::index_for_comparison`] would
    /// build for the `compared` (key column, column) pairs. An identifier column
    /// that leads a comparison index gets no index of its own: that one serves.
    async fn finish_table(
        &self,
        table: &str,
        schema: &gongshu_domain::dataset::TableSchema,
        compared: &[(String, String)],
    ) -> StoreResult<Vec<StoredRow>>;
    /// Copies every row of `from` into `to`, both tables of `schema`; returns the count.
    async fn copy_rows(
        &self,
        from: &str,
        to: &str,
        schema: &gongshu_domain::dataset::TableSchema,
    ) -> StoreResult<i64>;
    async fn drop_table(&self, table: &str) -> StoreResult<()>;
    /// GOV-2: builds, where the backend's joins need one, the index that lets a
    /// comparison of `column` walk `table` in key order (none on PostgreSQL).
    /// Does nothing when it exists.
    async fn index_for_comparison(
        &self,
        table: &str,
        key_column: &str,
        column: &str,
    ) -> StoreResult<()>;
    /// Writes rows stamped with `load`, in one transaction, as `how` says. Returns
    /// the row numbers written: with an upsert, the others repeat a key of this load.
    async fn write_rows(
        &self,
        table: &str,
        schema: &gongshu_domain::dataset::TableSchema,
        load: i64,
        rows: Vec<(i64, Vec<gongshu_domain::dataset::Value>)>,
        how: RowWrite<'_>,
    ) -> StoreResult<Vec<i64>>;
    async fn count_rows(&self, table: &str) -> StoreResult<i64>;
}

/// DESIGN 2: reading the rows of dataset tables. Kept apart from [`DataPlane`] so
/// that the one egress gate of the services can be the only holder: every read
/// of rows for a party is checked and recorded there.
#[async_trait]
pub trait RowReader: Send + Sync + 'static {
    async fn read_rows(
        &self,
        table: &str,
        schema: &gongshu_domain::dataset::TableSchema,
        query: &RowQuery,
    ) -> StoreResult<Vec<StoredRow>>;
    /// COL-3: a load's rejected rows as delivered, in row order, after `after_row`.
    async fn list_rejects(
        &self,
        load_id: &str,
        after_row: i64,
        limit: i64,
    ) -> StoreResult<Vec<RejectedRow>>;
    /// GOV-2: subjects in both tables whose values differ (the other side not empty),
    /// the `answered` ones counted but not listed.
    async fn compare_columns(
        &self,
        source: &ColumnRef,
        other: &ColumnRef,
        answered: Option<&AnsweredDifferences>,
        limit: i64,
    ) -> StoreResult<Comparison>;
}

/// OPN-2, OPN-3, OPN-9: what the open catalog is built from, summed up: any change
/// to a catalog entry, to a dataset's version or to the reports withholding
/// datasets changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenCatalogStamp {
    /// When a catalog entry last changed.
    pub catalog_updated_at: Option<DateTime<Utc>>,
    /// Datasets registered, the sum of their versions and their latest change.
    pub datasets: (i64, i64, Option<DateTime<Utc>>),
    /// The resources held out of the open catalog by a report (OPN-9), sorted.
    pub withheld: Vec<String>,
    /// COL-8: agreements over social data recorded so far.
    pub social_agreements: i64,
}

/// The storage port. Both backends behave the same; the integration suite proves it.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Runs the embedded migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// COL-2: the data plane on the same database (metadata, loads, writes).
    fn data_plane(&self) -> std::sync::Arc<dyn DataPlane>;
    /// DESIGN 2: the rows of dataset tables. Only the egress gate of the services
    /// calls this (a lint there refuses every other caller).
    fn row_reader(&self) -> std::sync::Arc<dyn RowReader>;
    async fn ping(&self) -> StoreResult<()>;

    /// Applies `changes` and appends `audit` to the hash chain in one transaction;
    /// if any part fails, nothing is written (fail closed, DESIGN 3).
    async fn commit(
        &self,
        changes: Vec<Change>,
        audit: Vec<AuditDraft>,
    ) -> StoreResult<Vec<AuditRecord>>;

    // Divisions and organisations (ORG-1, ORG-2)
    async fn get_division(&self, code: &str) -> StoreResult<Option<Division>>;
    async fn list_divisions(&self) -> StoreResult<Vec<Division>>;
    async fn get_org(&self, id: &str) -> StoreResult<Option<Organization>>;
    async fn list_orgs(&self, filter: &OrgFilter) -> StoreResult<Vec<Organization>>;
    async fn count_orgs(&self) -> StoreResult<i64>;

    // Officers (ORG-3) and processors (ORG-4)
    async fn list_officers(&self, org_id: &str, include_history: bool)
        -> StoreResult<Vec<Officer>>;
    async fn get_processor(&self, id: &str) -> StoreResult<Option<ProcessorAuthorization>>;
    async fn list_processors(
        &self,
        org_id: Option<&str>,
    ) -> StoreResult<Vec<ProcessorAuthorization>>;

    // Users, sessions, tokens
    async fn get_user(&self, id: &str) -> StoreResult<Option<User>>;
    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self, org_id: Option<&str>) -> StoreResult<Vec<User>>;
    async fn get_session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    async fn get_token(&self, id: &str) -> StoreResult<Option<ApiToken>>;
    async fn get_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    /// The token with this hash if its organisation is not disabled, in one read (the
    /// data API authenticates every call with it).
    async fn get_token_of_active_org(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    async fn list_tokens(&self, org_id: Option<&str>) -> StoreResult<Vec<ApiToken>>;

    // Synthetic subjects of the demo
    async fn count_people(&self) -> StoreResult<i64>;
    async fn count_entities(&self) -> StoreResult<i64>;

    // Catalog (CAT-1 … CAT-6)
    async fn get_catalog_entry(&self, id: &str) -> StoreResult<Option<CatalogEntry>>;
    async fn get_catalog_entry_by_code(&self, code: &str) -> StoreResult<Option<CatalogEntry>>;
    /// In resource-code order.
    async fn list_catalog_entries(&self, filter: &CatalogFilter) -> StoreResult<Vec<CatalogEntry>>;
    /// When any entry last changed (the search index refreshes when this moves).
    async fn catalog_last_update(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// The highest code that starts with `prefix`, if any.
    async fn last_catalog_code(&self, prefix: &str) -> StoreResult<Option<String>>;
    /// Oldest first.
    async fn list_catalog_reviews(&self, entry_id: &str) -> StoreResult<Vec<CatalogReview>>;
    /// CAT-3: claims (not link keys) of every datum registered with more than one
    /// source department, ordered by key.
    async fn contested_catalog_items(&self) -> StoreResult<Vec<CatalogItemClaim>>;
    /// Claims (not link keys) of the given data items, by any entry.
    async fn catalog_item_claims(&self, item_keys: &[String])
        -> StoreResult<Vec<CatalogItemClaim>>;
    async fn list_item_sources(&self) -> StoreResult<Vec<ItemSource>>;
    async fn list_scenarios(&self) -> StoreResult<Vec<ScenarioBundle>>;
    async fn get_demand(&self, id: &str) -> StoreResult<Option<DataDemand>>;
    /// Newest first; those a department made or must answer when `org_id` is given.
    async fn list_demands(&self, org_id: Option<&str>) -> StoreResult<Vec<DataDemand>>;
    async fn get_share_request(&self, id: &str) -> StoreResult<Option<ShareRequest>>;
    /// Newest first.
    async fn list_share_requests(&self, f: &ShareRequestFilter) -> StoreResult<Vec<ShareRequest>>;
    async fn get_grant(&self, id: &str) -> StoreResult<Option<ShareGrant>>;
    /// Newest first.
    async fn list_grants(&self, f: &GrantFilter) -> StoreResult<Vec<ShareGrant>>;
    /// SHR-8: calls a grant served on `day` (in China), and the rows they returned:
    /// its quota meter, kept as a running total beside the access records.
    async fn grant_served_on(
        &self,
        grant_id: &str,
        day: chrono::NaiveDate,
    ) -> StoreResult<ServedTally>;
    /// SHR-8: the grants that may admit one call, each with what it served on `day`,
    /// in one read: the grant named (on this resource), or else the consumer's grants
    /// on the resource, newest first.
    async fn grants_for_call(
        &self,
        consumer_org_id: &str,
        resource_id: &str,
        grant_id: Option<&str>,
        day: chrono::NaiveDate,
    ) -> StoreResult<Vec<(ShareGrant, ServedTally)>>;
    /// Newest first.
    async fn list_access(&self, f: &AccessFilter) -> StoreResult<Vec<AccessRecord>>;
    /// GOV-5: removes access records older than the retention period; their audit
    /// anchors stay in the hash chain.
    async fn purge_access(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Newest first.
    async fn list_usage_reports(&self, grant_id: &str) -> StoreResult<Vec<UsageReport>>;
    async fn get_developer_key(&self, id: &str) -> StoreResult<Option<DeveloperKey>>;
    async fn get_developer_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<DeveloperKey>>;
    async fn get_open_application(&self, id: &str) -> StoreResult<Option<OpenApplication>>;
    /// Newest first.
    async fn list_open_applications(
        &self,
        f: &OpenApplicationFilter,
    ) -> StoreResult<Vec<OpenApplication>>;
    async fn get_open_feedback(&self, id: &str) -> StoreResult<Option<OpenFeedback>>;
    /// Newest first.
    async fn list_open_feedback(&self, f: &OpenFeedbackFilter) -> StoreResult<Vec<OpenFeedback>>;
    /// How many commits through this store value changed the open catalog or a
    /// developer key ([`Change::alters_open_catalog`]), counted in memory: a node
    /// that sees it unchanged knows that it wrote nothing of the kind itself since.
    /// Other nodes' writes are not counted; they show only in the store.
    fn open_catalog_epoch(&self) -> u64;
    /// OPN-2, OPN-3, OPN-9: in one read, what decides whether a node's open catalog
    /// snapshot is still current.
    async fn open_catalog_stamp(&self) -> StoreResult<OpenCatalogStamp>;
    /// OPN-3: the stamp and, in the same read, the developer key with this hash: the
    /// one read a keyed public request needs before it is served.
    async fn open_catalog_stamp_with_key(
        &self,
        key_hash: &str,
    ) -> StoreResult<(OpenCatalogStamp, Option<DeveloperKey>)>;
    async fn get_open_plan(&self, id: &str) -> StoreResult<Option<OpenPlan>>;
    /// OPN-8: the plan of one body for one year.
    async fn get_open_plan_of(&self, org_id: &str, year: i32) -> StoreResult<Option<OpenPlan>>;
    /// OPN-8: oldest first.
    async fn list_open_plans(&self, f: &OpenPlanFilter) -> StoreResult<Vec<OpenPlan>>;
    /// OPN-8: the priority domains published for `year`, if any.
    async fn get_open_priorities(&self, year: i32) -> StoreResult<Option<OpenPriorities>>;
    /// OPN-11 (JY 29): each dataset's counters, all time and since `since` (a day in
    /// China), of those the filter names.
    async fn open_usage_totals(
        &self,
        f: &OpenUsageFilter,
        since: chrono::NaiveDate,
    ) -> StoreResult<Vec<OpenUsageTotal>>;
    /// OPN-11: the counters the filter names summed per day from `since`, oldest
    /// first (`resource_id` and `source_org_id` are the filter's, or empty).
    async fn open_usage_daily(
        &self,
        f: &OpenUsageFilter,
        since: chrono::NaiveDate,
    ) -> StoreResult<Vec<OpenUsageDay>>;
    async fn get_showcase(&self, id: &str) -> StoreResult<Option<OpenShowcase>>;
    /// Newest first (published ones by when they were published).
    async fn list_showcases(&self, f: &ShowcaseFilter) -> StoreResult<Vec<OpenShowcase>>;
    async fn get_open_type_proposal(&self, id: &str) -> StoreResult<Option<OpenTypeProposal>>;
    /// Newest first; those on one source department's entries when given.
    async fn list_open_type_proposals(
        &self,
        source_org_id: Option<&str>,
    ) -> StoreResult<Vec<OpenTypeProposal>>;
    async fn get_open_release(&self, id: &str) -> StoreResult<Option<OpenRelease>>;
    /// OPN-5, OPN-6: newest first.
    async fn list_open_releases(&self, f: &OpenReleaseFilter) -> StoreResult<Vec<OpenRelease>>;
    async fn get_it_project(&self, id: &str) -> StoreResult<Option<ItProject>>;
    /// COL-8: newest term first.
    async fn list_social_data_agreements(&self) -> StoreResult<Vec<SocialDataAgreement>>;
    /// COL-8: the agreements that carry one catalog entry's data.
    async fn social_data_agreements_for_entry(
        &self,
        entry_id: &str,
    ) -> StoreResult<Vec<SocialDataAgreement>>;
    /// COL-7: what this node reported upstream, one row per entry ever considered.
    async fn list_upstream_reports(&self) -> StoreResult<Vec<UpstreamReport>>;
    async fn get_upstream_report(&self, entry_id: &str) -> StoreResult<Option<UpstreamReport>>;
    /// COL-7: entries lower-level platforms reported here, of one reporter when given.
    async fn list_received_reports(
        &self,
        reporter_org_id: Option<&str>,
    ) -> StoreResult<Vec<ReceivedReport>>;
    async fn get_received_report(
        &self,
        reporter_org_id: &str,
        source_code: &str,
    ) -> StoreResult<Option<ReceivedReport>>;
    async fn list_it_projects(&self) -> StoreResult<Vec<ItProject>>;
    async fn get_change_record(&self, id: &str) -> StoreResult<Option<CatalogChangeRecord>>;
    /// Newest first; of one organisation when given; only not completed when `open_only`.
    async fn list_change_records(
        &self,
        org_id: Option<&str>,
        open_only: bool,
    ) -> StoreResult<Vec<CatalogChangeRecord>>;

    // Audit (GOV-5)
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;
    /// Records with `seq > after_seq`, ascending, at most `limit` (for verification).
    async fn audit_page(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>>;
    /// The head the store recorded with the last append.
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
    /// Extends the audit lookup indexes over at most `max_records` records above the
    /// index mark, in one transaction; returns how many it covered (0: caught up).
    async fn index_audit(&self, max_records: i64) -> StoreResult<i64>;
    /// Where the index mark stands and whether every record agrees with it.
    async fn audit_index_state(&self) -> StoreResult<AuditIndexState>;

    // Background jobs, claimed so several nodes never run one twice.
    /// Inserts unless a job with the same `unique_key` exists; true when inserted.
    async fn schedule_job(
        &self,
        kind: &str,
        unique_key: &str,
        run_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Claims one due job for `worker` (FOR UPDATE SKIP LOCKED on PostgreSQL).
    async fn claim_job(&self, worker: &str, now: DateTime<Utc>) -> StoreResult<Option<Job>>;
    async fn finish_job(&self, id: i64, error: Option<&str>, now: DateTime<Utc>)
        -> StoreResult<()>;
    async fn list_jobs(&self, limit: i64) -> StoreResult<Vec<Job>>;
}
