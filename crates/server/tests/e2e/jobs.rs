//! DESIGN 4: background jobs are claimed so that several nodes on one database never
//! run one twice (FOR UPDATE SKIP LOCKED on PostgreSQL; one writer on SQLite).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use gongshu_store::Store;

use crate::common::{Backend, TestServer};

const JOBS: usize = 40;

/// Claims and finishes jobs until none is due; returns the ids it claimed.
async fn claimer(store: Arc<dyn Store>, worker: String) -> Vec<i64> {
    let mut claimed = Vec::new();
    while let Some(job) = store.claim_job(&worker, Utc::now()).await.expect("claim") {
        assert_eq!(job.status, "running", "a claimed job is running: {job:?}");
        assert_eq!(job.claimed_by.as_deref(), Some(worker.as_str()));
        claimed.push(job.id);
        // Work long enough for the other claimers to overlap with this one.
        tokio::time::sleep(StdDuration::from_millis(5)).await;
        store
            .finish_job(job.id, None, Utc::now())
            .await
            .expect("finish");
    }
    claimed
}

async fn jobs_are_claimed_once_across_two_nodes(srv: Arc<TestServer>) {
    let node_a = srv.app.store.clone();
    let node_b = srv.other_node().await;
    let past = Utc::now() - Duration::hours(1);

    // Scheduling is idempotent per unique key.
    assert!(node_a
        .schedule_job("test.noop", "test.noop:dup", past)
        .await
        .expect("schedule"));
    assert!(!node_a
        .schedule_job("test.noop", "test.noop:dup", past)
        .await
        .expect("schedule"));
    assert!(!node_b
        .schedule_job("test.noop", "test.noop:dup", past + Duration::minutes(5))
        .await
        .expect("schedule"));
    assert_eq!(
        node_a.list_jobs(1000).await.expect("list").len(),
        1,
        "the same key inserts once"
    );
    for i in 1..JOBS {
        assert!(node_a
            .schedule_job("test.noop", &format!("test.noop:{i}"), past)
            .await
            .expect("schedule"));
    }
    // A job not yet due is not claimed.
    node_a
        .schedule_job(
            "test.noop",
            "test.noop:future",
            Utc::now() + Duration::hours(1),
        )
        .await
        .expect("schedule");

    // Two claimers on each node, all at once.
    let mut tasks = Vec::new();
    for (node, store) in [("a", &node_a), ("b", &node_b)] {
        for k in 0..2 {
            tasks.push((
                node,
                tokio::spawn(claimer(store.clone(), format!("node-{node}-{k}"))),
            ));
        }
    }
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    let mut claims: HashMap<i64, usize> = HashMap::new();
    for (node, task) in tasks {
        let ids = task.await.expect("claimer");
        *per_node.entry(node).or_default() += ids.len();
        for id in ids {
            *claims.entry(id).or_default() += 1;
        }
    }
    let total: usize = claims.values().sum();
    assert_eq!(
        total, JOBS,
        "every due job claimed, none twice: {per_node:?}"
    );
    assert_eq!(claims.len(), JOBS);
    assert!(
        claims.values().all(|n| *n == 1),
        "a job was claimed twice: {claims:?}"
    );
    if srv.backend == Backend::Postgres {
        assert!(
            per_node.values().all(|n| *n > 0),
            "both nodes took part: {per_node:?}"
        );
    }

    let jobs = node_b.list_jobs(1000).await.expect("list");
    assert_eq!(jobs.len(), JOBS + 1);
    for job in &jobs {
        if job.unique_key == "test.noop:future" {
            assert_eq!(
                (job.status.as_str(), job.attempts),
                ("queued", 0),
                "{job:?}"
            );
            continue;
        }
        assert_eq!(job.status, "done", "{job:?}");
        assert_eq!(job.attempts, 1, "claimed exactly once: {job:?}");
        assert!(
            job.finished_at.is_some() && job.claimed_at.is_some(),
            "{job:?}"
        );
        assert!(claims.contains_key(&job.id));
    }
    assert!(
        node_a
            .claim_job("late", Utc::now())
            .await
            .expect("claim")
            .is_none(),
        "nothing is left to claim"
    );
}
both_backends!(jobs_are_claimed_once_across_two_nodes);

/// DESIGN 3 and 4: two nodes committing at once still build one unbroken chain.
async fn gov_5_two_nodes_appending_at_once_keep_one_chain(srv: Arc<TestServer>) {
    const PER_TASK: usize = 25;
    let node_a = srv.app.store.clone();
    let node_b = srv.other_node().await;
    let mut tasks = Vec::new();
    for (n, store) in [
        node_a.clone(),
        node_b.clone(),
        node_a.clone(),
        node_b.clone(),
    ]
    .into_iter()
    .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..PER_TASK {
                let mut d = gongshu_domain::audit::AuditDraft::new(
                    format!("system:node{n}"),
                    "test.append",
                    "test",
                );
                d.object_id = Some(format!("{n}-{i}"));
                let records = store.commit(vec![], vec![d]).await.expect("commit");
                seqs.push(records[0].seq);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len(),
        4 * PER_TASK,
        "every append got its own sequence number"
    );
    let report = gongshu_services::audit::verify_chain(&srv.app)
        .await
        .expect("verify");
    assert!(report.ok, "{}", report.message_en);
    assert_eq!(report.checked as usize, 4 * PER_TASK);
}
both_backends!(gov_5_two_nodes_appending_at_once_keep_one_chain);
