//! The retention job: deletes finished runs (their steps, events and logs go with them by
//! cascade) older than the `run_retention_days` setting, and audit events older than
//! `audit_retention_days`; both are shown and changed on /settings. Expired model answers
//! leave the response cache too.
//!
//! Deleted rows' pages are reused by later inserts (SQLite keeps them on its free list,
//! PostgreSQL's autovacuum marks them reusable), so the database stops growing once it
//! holds one retention window of runs.

use aura_auth::Retained;
use aura_store::Store;
use std::time::Duration;

const PERIOD: Duration = Duration::from_secs(3600);
/// The first sweep waits a little, so start-up is not slowed by it.
const FIRST_SWEEP: Duration = Duration::from_secs(60);
const DAY_MS: i64 = 24 * 3600 * 1000;

pub async fn run(store: Store) {
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + FIRST_SWEEP, PERIOD);
    loop {
        every.tick().await;
        match sweep(&store).await {
            Ok(Swept {
                runs: 0,
                audit_events: 0,
                cached_answers: 0,
            }) => {}
            Ok(swept) => tracing::info!(
                runs = swept.runs,
                audit_events = swept.audit_events,
                cached_answers = swept.cached_answers,
                "old runs, audit events and cached model answers removed"
            ),
            Err(err) => tracing::warn!(error = %err, "could not remove old runs or audit events"),
        }
    }
}

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub runs: u64,
    pub audit_events: u64,
    pub cached_answers: u64,
}

/// Deletes runs that ended, and audit events recorded, before their retention windows.
pub async fn sweep(store: &Store) -> Result<Swept, aura_store::StoreError> {
    let cutoff = async |what: Retained| -> Result<i64, aura_store::StoreError> {
        let days = what.days(store.setting(what.key()).await?.as_deref());
        Ok(aura_store::now_millis() - i64::from(days) * DAY_MS)
    };
    let runs = store
        .delete_runs_finished_before(cutoff(Retained::Runs).await?)
        .await?;
    let audit_events = store
        .delete_audit_events_before(cutoff(Retained::Audit).await?)
        .await?;
    let mut cached_answers = 0;
    loop {
        let batch = store.delete_expired_llm_cache(1000).await?;
        cached_answers += batch;
        if batch < 1000 {
            break;
        }
    }
    // Notices are kept as long as runs.
    store
        .delete_notifications_before(cutoff(Retained::Runs).await?)
        .await?;
    // Signatures past their trigger's tolerance can no longer be replayed.
    store.purge_webhook_signatures().await?;
    Ok(Swept {
        runs,
        audit_events,
        cached_answers,
    })
}
