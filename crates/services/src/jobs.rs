//! Background work: periodic jobs are scheduled under a unique key per period and
//! claimed one at a time, so several nodes on one PostgreSQL never run one twice.
use std::time::Duration as StdDuration;

use chrono::{Timelike, Utc};
use gongshu_store::{Change, Job};
use tokio::sync::watch;

use crate::context::{summary, App, Ctx};
use crate::error::ServiceResult;

pub const PURGE_SESSIONS: &str = "sessions.purge_expired";
pub const VERIFY_AUDIT: &str = "audit.verify";
pub const FLAG_CATALOG_OVERDUE: &str = "catalog.flag_overdue";
/// GOV-2: the cross-check after a load, off the load's request path
/// (unique key `governance.cross_check:<resource id>:<load id>`).
pub const CROSS_CHECK: &str = "governance.cross_check";
/// COL-1: scheduled pulls of departments' systems.
pub const PULL_SOURCES: &str = "dataset.pull_due";
/// OPN-6 (JY 28): re-runs published releases on their sources' update frequency.
pub const REFRESH_RELEASES: &str = "open.release_refresh";
/// GOV-1, GOV-3: the day's quality of every resource and department, hourly; the
/// last run of a day stands as that day's point of the quality history.
pub const RECORD_QUALITY: &str = "governance.quality_snapshot";
/// COL-7 (XJ 13): reports what changed to the next level's platform, hourly, on a
/// node with an upper node configured; a failed entry is tried again next hour.
pub const REPORT_UPSTREAM: &str = "upstream.report";

/// Enqueues the periodic jobs of the current period (idempotent across nodes).
pub async fn schedule_periodic(app: &App) -> ServiceResult<()> {
    let now = Utc::now();
    let hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    app.store
        .schedule_job(
            PURGE_SESSIONS,
            &format!("{PURGE_SESSIONS}:{}", hour.format("%Y-%m-%dT%H")),
            hour,
        )
        .await?;
    app.store
        .schedule_job(
            FLAG_CATALOG_OVERDUE,
            &format!("{FLAG_CATALOG_OVERDUE}:{}", hour.format("%Y-%m-%dT%H")),
            hour,
        )
        .await?;
    app.store
        .schedule_job(
            PULL_SOURCES,
            &format!("{PULL_SOURCES}:{}", hour.format("%Y-%m-%dT%H")),
            hour,
        )
        .await?;
    app.store
        .schedule_job(
            REFRESH_RELEASES,
            &format!("{REFRESH_RELEASES}:{}", hour.format("%Y-%m-%dT%H")),
            hour,
        )
        .await?;
    app.store
        .schedule_job(
            RECORD_QUALITY,
            &format!("{RECORD_QUALITY}:{}", hour.format("%Y-%m-%dT%H")),
            hour,
        )
        .await?;
    if app.upstream.get().is_some() {
        app.store
            .schedule_job(
                REPORT_UPSTREAM,
                &format!("{REPORT_UPSTREAM}:{}", hour.format("%Y-%m-%dT%H")),
                hour,
            )
            .await?;
    }
    let day = hour.with_hour(0).unwrap_or(hour);
    app.store
        .schedule_job(
            VERIFY_AUDIT,
            &format!("{VERIFY_AUDIT}:{}", day.format("%Y-%m-%d")),
            day,
        )
        .await?;
    Ok(())
}

/// Runs one claimed job; returns its error text if it failed.
pub async fn run_job(app: &App, job: &Job) -> Option<String> {
    let ctx = Ctx::system();
    let result: ServiceResult<()> = async {
        match job.kind.as_str() {
            PURGE_SESSIONS => {
                let mut d = ctx.audit("sessions.purge_expired", "job", &job.id.to_string());
                d.after = summary(&serde_json::json!({"job": job.unique_key}));
                app.store.commit(vec![Change::DeleteExpiredSessions { now: Utc::now() }], vec![d]).await?;
            }
            VERIFY_AUDIT => {
                let report = crate::audit::verify_chain(app).await?;
                if !report.ok {
                    tracing::error!(message = %report.message_en, "scheduled audit verification found a fault");
                }
                let mut d = ctx.audit("audit.verify_scheduled", "job", &job.id.to_string());
                d.after = summary(&report);
                app.store.commit(vec![], vec![d]).await?;
            }
            FLAG_CATALOG_OVERDUE => {
                let now = Utc::now();
                // GOV-2 discrepancies run on working-day deadlines like the catalog's.
                let flagged = crate::catalog::flag_overdue(app, now).await?
                    + crate::demands::flag_overdue(app, now).await?
                    + crate::governance::flag_overdue(app, now).await?
                    // SHR-4 … SHR-7: share requests' steps run on the same calendar.
                    + crate::sharing::flag_overdue(app, now).await?
                    // OPN-4 (HZ 37): answers to open-data applications too.
                    + crate::open_access::flag_overdue(app, now).await?
                    // OPN-9 (XJ 30): answers to the public's reports.
                    + crate::open_feedback::flag_overdue(app, now).await?;
                // GOV-5: access records past the retention period go; anchors stay.
                crate::sharing::purge_expired_access(app, now).await?;
                // COL-7, SHR-13: held copies whose grants are settled follow the level below.
                let released = crate::upstream::release_held_copies(app, now).await?;
                if released > 0 {
                    tracing::info!(released, "reported copies taken offline after their grants");
                }
                if flagged > 0 {
                    tracing::info!(flagged, "catalog deadlines passed");
                }
            }
            CROSS_CHECK => {
                if let Some(resource) = job.unique_key.split(':').nth(1) {
                    crate::governance::after_load(app, resource).await?;
                }
            }
            PULL_SOURCES => {
                let swept = crate::datasets::sweep_interrupted(app, Utc::now()).await?;
                if swept > 0 {
                    tracing::warn!(swept, "interrupted loads marked");
                }
                let ran = crate::sources::pull_due(app, Utc::now()).await?;
                if ran > 0 {
                    tracing::info!(ran, "scheduled pulls ran");
                }
            }
            RECORD_QUALITY => {
                crate::governance::record_quality_day(app, None, Utc::now()).await?;
            }
            REFRESH_RELEASES => {
                let due = crate::releases::refresh_due(app, Utc::now()).await?;
                if due > 0 {
                    tracing::info!(due, "release refreshes ran");
                }
            }
            REPORT_UPSTREAM => {
                let run = crate::upstream::report_all(app, &ctx).await?;
                if run.reported + run.failed + run.not_tried > 0 {
                    tracing::info!(
                        reported = run.reported,
                        failed = run.failed,
                        not_tried = run.not_tried,
                        "reported to the upper node"
                    );
                }
            }
            other => tracing::warn!(kind = other, "unknown job kind"),
        }
        Ok(())
    }
    .await;
    result.err().map(|e| e.to_string())
}

/// Claims and runs due jobs until none is left; returns how many ran.
pub async fn drain(app: &App, worker: &str) -> ServiceResult<usize> {
    let mut ran = 0;
    while let Some(job) = app.store.claim_job(worker, Utc::now()).await? {
        let error = run_job(app, &job).await;
        app.store
            .finish_job(job.id, error.as_deref(), Utc::now())
            .await?;
        ran += 1;
    }
    Ok(ran)
}

/// The worker loop of a node, until `shutdown` turns true.
pub async fn run_worker(
    app: std::sync::Arc<App>,
    worker: String,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = schedule_periodic(&app).await {
            tracing::warn!(error = %e, "scheduling periodic jobs failed");
        }
        if let Err(e) = drain(&app, &worker).await {
            tracing::warn!(error = %e, "running jobs failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(StdDuration::from_secs(30)) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}
