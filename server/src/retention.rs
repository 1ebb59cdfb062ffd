//! The retention job: deletes finished runs (their steps, events and logs go with them by
//! cascade) older than the `run_retention_days` setting, shown on /settings.
//!
//! Deleted rows' pages are reused by later inserts (SQLite keeps them on its free list,
//! PostgreSQL's autovacuum marks them reusable), so the database stops growing once it
//! holds one retention window of runs.

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
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "old runs removed"),
            Err(err) => tracing::warn!(error = %err, "could not remove old runs"),
        }
    }
}

/// Deletes runs that ended before the retention window; returns how many.
pub async fn sweep(store: &Store) -> Result<u64, aura_store::StoreError> {
    let stored = store.setting(aura_auth::RUN_RETENTION_SETTING).await?;
    let days = aura_auth::run_retention_days(stored.as_deref());
    let cutoff = aura_store::now_millis() - i64::from(days) * DAY_MS;
    store.delete_runs_finished_before(cutoff).await
}
