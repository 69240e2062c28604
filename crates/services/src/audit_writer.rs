//! GOV-5, DESIGN 3: group commit for high-volume audit records. Many callers hand
//! their draft to one background task, which writes everything waiting in one
//! transaction of the hash chain and answers each caller only once that
//! transaction is durable; if the transaction fails, every caller of the batch
//! hears the error, so nothing is acknowledged that was not written.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use gongshu_domain::audit::{AuditDraft, AuditRecord};
use gongshu_store::{Change, Store};
use tokio::sync::{mpsc, oneshot};

use crate::error::{ErrorKind, ServiceError};

type Reply = oneshot::Sender<Result<AuditRecord, ServiceError>>;

/// One caller waiting for its record.
struct Pending {
    draft: AuditDraft,
    /// Rows committed with the record (GOV-5: an access record with its anchor).
    changes: Vec<Change>,
    reply: Reply,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    records: AtomicU64,
    failed_batches: AtomicU64,
}

/// What the writer has done so far (for metrics and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditWriterStats {
    /// Transactions committed.
    pub batches: u64,
    /// Records committed and acknowledged.
    pub records: u64,
    /// Transactions that failed; their callers got the error.
    pub failed_batches: u64,
}

impl AuditWriterStats {
    /// Records per committed transaction.
    pub fn mean_batch(&self) -> f64 {
        if self.batches == 0 {
            0.0
        } else {
            self.records as f64 / self.batches as f64
        }
    }
}

/// A cloneable handle to the group-commit task. The task ends once every handle
/// is dropped and the records already queued are written.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Pending>,
    counters: Arc<Counters>,
}

impl AuditWriter {
    /// Starts the background task on the current Tokio runtime; each transaction
    /// carries at most `max_batch` records (at least 1).
    pub fn spawn(store: Arc<dyn Store>, max_batch: usize) -> AuditWriter {
        let max_batch = max_batch.max(1);
        // Room for two batches: one being committed, the next gathering meanwhile.
        let (queue, rx) = mpsc::channel(max_batch.saturating_mul(2));
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(store, rx, max_batch, Arc::clone(&counters)));
        AuditWriter { queue, counters }
    }

    /// GOV-5: appends `draft` to the hash chain and returns its record once the
    /// transaction holding it is durable. An error means the caller must not
    /// proceed (fail closed): the record is not acknowledged.
    pub async fn append(&self, draft: AuditDraft) -> Result<AuditRecord, ServiceError> {
        self.append_with(draft, Vec::new()).await
    }

    /// Like [`append`](Self::append), committing `changes` in the same transaction.
    pub async fn append_with(
        &self,
        draft: AuditDraft,
        changes: Vec<Change>,
    ) -> Result<AuditRecord, ServiceError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending {
                draft,
                changes,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Counters since the writer started.
    pub fn stats(&self) -> AuditWriterStats {
        AuditWriterStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            records: self.counters.records.load(Ordering::Relaxed),
            failed_batches: self.counters.failed_batches.load(Ordering::Relaxed),
        }
    }
}

fn stopped() -> ServiceError {
    ServiceError::new(
        ErrorKind::Internal,
        "audit.unavailable",
        "审计记录无法写入，操作未执行",
        "the audit record could not be written; the action was refused",
    )
}

/// The group-commit loop: waits for the first caller, takes everyone else already
/// waiting (up to `max_batch`), commits them in one transaction, then answers.
async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Pending>,
    max_batch: usize,
    counters: Arc<Counters>,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut batch, max_batch).await > 0 {
        let mut changes = Vec::new();
        let mut drafts = Vec::with_capacity(batch.len());
        let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
        for p in batch.drain(..) {
            for change in p.changes {
                push_merging_access(&mut changes, change);
            }
            drafts.push(p.draft);
            replies.push(p.reply);
        }
        let n = drafts.len();
        match store.commit(changes, drafts).await {
            Ok(records) => {
                // The store returns one record per draft, in order; a caller left
                // without a record sees its reply dropped, which is an error.
                debug_assert_eq!(records.len(), n);
                counters.batches.fetch_add(1, Ordering::Relaxed);
                counters
                    .records
                    .fetch_add(records.len() as u64, Ordering::Relaxed);
                for (reply, record) in replies.into_iter().zip(records) {
                    // A caller that gave up still has its record written; nothing to do.
                    let _ = reply.send(Ok(record));
                }
            }
            Err(e) => {
                counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                let error = ServiceError::from(e);
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Adds `change` to a batch's changes; access records follow the ones before them
/// into one insert, so that a batch of reads costs one statement, not one each.
fn push_merging_access(changes: &mut Vec<Change>, change: Change) {
    match (changes.last_mut(), change) {
        (Some(Change::InsertAccess(earlier)), Change::InsertAccess(more)) => earlier.extend(more),
        (_, change) => changes.push(change),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use gongshu_store_sqlite::SqliteStore;

    use super::*;
    use crate::context::App;

    fn draft(i: usize) -> AuditDraft {
        let mut d = AuditDraft::new("token:bench", "share.rows.read", "resource");
        d.object_id = Some(format!("res-{i}"));
        d.after = Some(format!("{{\"rows\":{i}}}"));
        d.request_id = Some(format!("req-{i}"));
        d
    }

    async fn open(path: &std::path::Path) -> Arc<dyn Store> {
        let store = SqliteStore::open(path).await.unwrap();
        store.migrate().await.unwrap();
        Arc::new(store)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gov_5_group_commit_acknowledges_only_durable_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gongshu.db");
        let store = open(&path).await;
        let writer = AuditWriter::spawn(Arc::clone(&store), 256);

        let tasks: Vec<_> = (0..1000)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move { (i, writer.append(draft(i)).await) })
            })
            .collect();
        let mut seqs = HashSet::new();
        for t in tasks {
            let (i, result) = t.await.unwrap();
            let record = result.unwrap();
            assert_eq!(
                record.draft.request_id,
                draft(i).request_id,
                "each caller gets its own record"
            );
            assert!(
                seqs.insert(record.seq),
                "seq {} acknowledged twice",
                record.seq
            );
        }
        assert_eq!(seqs, (1..=1000).collect::<HashSet<i64>>());
        let stats = writer.stats();
        assert_eq!(stats.records, 1000);
        assert!(stats.batches < 1000, "records were grouped: {stats:?}");
        drop(writer);
        drop(store);

        // Everything acknowledged is on disk: a fresh open of the file sees the whole chain.
        let reopened = App::new(open(&path).await);
        let report = crate::audit::verify_chain(&reopened).await.unwrap();
        assert!(report.ok, "{}", report.message_en);
        assert_eq!(report.checked, 1000);
        assert_eq!(report.head_seq, Some(1000));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gov_5_group_commit_failure_acknowledges_nothing_of_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gongshu.db");
        let store = open(&path).await;
        // A trigger refuses one poisoned record, failing the whole transaction it is in.
        let raw = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new().filename(&path),
        )
        .await
        .unwrap();
        sqlx::query(
            "CREATE TRIGGER poison BEFORE INSERT ON audit_log WHEN NEW.action = 'poison'
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(&raw)
        .await
        .unwrap();
        raw.close().await;

        let writer = AuditWriter::spawn(Arc::clone(&store), 64);
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    let mut d = draft(i);
                    if i % 100 == 50 {
                        d.action = "poison".into();
                    }
                    (d.clone(), writer.append(d).await)
                })
            })
            .collect();
        let mut acknowledged = HashSet::new();
        let mut refused = HashSet::new();
        for t in tasks {
            let (d, result) = t.await.unwrap();
            let request = d.request_id.clone().unwrap();
            match result {
                Ok(record) => {
                    assert_ne!(d.action, "poison");
                    acknowledged.insert(request);
                    assert!(record.seq > 0);
                }
                Err(e) => {
                    assert_eq!(e.code, "store.unavailable");
                    refused.insert(request);
                }
            }
        }
        assert!(
            refused.contains("req-50")
                && refused.contains("req-150")
                && refused.contains("req-250")
        );
        let stats = writer.stats();
        assert!(stats.failed_batches >= 1, "{stats:?}");
        assert_eq!(stats.records as usize, acknowledged.len());

        // The store holds exactly the acknowledged records, and the chain holds.
        let stored: HashSet<String> = store
            .audit_page(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.draft.request_id.unwrap())
            .collect();
        assert_eq!(stored, acknowledged);
        assert!(stored.is_disjoint(&refused));
        // The writer keeps serving after a failed batch.
        let next = writer.append(draft(9999)).await.unwrap();
        assert_eq!(next.seq, acknowledged.len() as i64 + 1);
        let report = crate::audit::verify_chain(&App::new(store)).await.unwrap();
        assert!(report.ok, "{}", report.message_en);
        assert_eq!(report.checked as usize, acknowledged.len() + 1);
    }

    fn access(i: usize) -> gongshu_store::AccessRecord {
        gongshu_store::AccessRecord {
            id: format!("acc-{i}"),
            at: chrono::Utc::now(),
            actor: "anonymous".into(),
            consumer_org_id: None,
            token_id: None,
            grant_id: None,
            application_id: None,
            resource_id: Some(format!("res-{}", i % 3)),
            source_org_id: Some("org-1".into()),
            purpose: "open".into(),
            mode: "open".into(),
            operation: "query".into(),
            items: vec!["name".into()],
            request: String::new(),
            row_count: i as i64,
            response_hash: String::new(),
            outcome: "served".into(),
            denial: None,
        }
    }

    #[test]
    fn gov_5_access_records_of_a_batch_join_the_insert_before_them_in_order() {
        let expect = |id: &str| Change::ExpectStatus {
            record: gongshu_store::StatusRecord::OpenFeedback,
            id: id.into(),
            status: "open".into(),
        };
        let mut changes = Vec::new();
        for c in [
            Change::InsertAccess(vec![access(0)]),
            Change::InsertAccess(vec![access(1), access(2)]),
            expect("f-1"),
            Change::InsertAccess(vec![access(3)]),
        ] {
            push_merging_access(&mut changes, c);
        }
        let ids = |c: &Change| match c {
            Change::InsertAccess(r) => r.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
            other => vec![format!("{other:?}")],
        };
        assert_eq!(changes.len(), 3);
        assert_eq!(ids(&changes[0]), ["acc-0", "acc-1", "acc-2"]);
        assert!(matches!(&changes[1], Change::ExpectStatus { id, .. } if id == "f-1"));
        assert_eq!(ids(&changes[2]), ["acc-3"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gov_5_every_callers_access_record_is_written_with_its_anchor() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("gongshu.db")).await;
        let writer = AuditWriter::spawn(Arc::clone(&store), 64);
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .append_with(draft(i), vec![Change::InsertAccess(vec![access(i)])])
                        .await
                })
            })
            .collect();
        let mut anchors = HashSet::new();
        for t in tasks {
            anchors.insert(t.await.unwrap().expect("acknowledged").seq);
        }
        assert_eq!(anchors.len(), 300, "each caller has its own audit record");
        let chained = store
            .list_audit(&gongshu_store::AuditFilter {
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            chained.iter().filter(|r| anchors.contains(&r.seq)).count(),
            300
        );
        let stored = store
            .list_access(&gongshu_store::AccessFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut rows: Vec<i64> = stored.iter().map(|a| a.row_count).collect();
        rows.sort_unstable();
        assert_eq!(rows, (0..300).collect::<Vec<i64>>());
    }
}
