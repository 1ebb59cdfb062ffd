//! Durable runs: the step queue, leases and the transitions that move a run forward.
//!
//! Every transition that belongs together commits in one transaction: a step's output,
//! its status, the queueing (or skipping) of its successors, the run's final status and
//! the events describing all of it. Claims are fenced by lease owner and attempt, so a
//! worker whose lease expired cannot overwrite the result of the worker that took over.

use crate::{Backend, Store, StoreError, new_id, now_millis};
use aura_types::{EventKind, RunStatus, StepStatus};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// A run about to start: which version it runs, its input (JSON text) and its steps.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub workflow_id: String,
    pub workflow_version: i64,
    pub owner_id: String,
    pub input: String,
    pub steps: Vec<NewStep>,
    /// What started it, when not a person: (`webhook` or `schedule`, its id).
    pub trigger: Option<(&'static str, String)>,
}

/// A step of a new run: how many distinct predecessors it waits for, and how many
/// attempts its retry policy allows (a lost worker's attempt counts too).
#[derive(Debug, Clone)]
pub struct NewStep {
    pub id: String,
    pub waiting_on: i64,
    pub max_attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Run {
    pub id: String,
    pub workflow_id: String,
    pub workflow_version: i64,
    pub owner_id: String,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub input: String,
    pub error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct StepRun {
    pub run_id: String,
    pub step_id: String,
    #[sqlx(try_from = "String")]
    pub status: StepStatus,
    pub attempt: i64,
    pub output: Option<String>,
    pub error: Option<String>,
    /// Token usage (JSON text) for steps that call a model.
    pub usage: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// A run in a listing, with its workflow's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RunSummary {
    pub id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub workflow_version: i64,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Which runs to list: newest first, optionally by workflow and status, before a cursor.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub workflow_id: Option<String>,
    pub status: Option<RunStatus>,
    /// `(created_at, id)` of the last run on the previous page.
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RunEvent {
    pub id: i64,
    pub run_id: String,
    #[sqlx(try_from = "String")]
    pub kind: EventKind,
    pub step_id: Option<String>,
    pub detail: Option<String>,
    pub created_at: i64,
}

/// A step a worker holds a lease on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedStep {
    pub run_id: String,
    pub step_id: String,
    pub attempt: i64,
}

/// A claimed step with its run, read in the claiming transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub step: ClaimedStep,
    pub run: Run,
}

/// Where a finished step's edges lead, and whether each was taken.
pub struct Outcome<'a> {
    pub edges: Vec<(String, bool)>,
    /// All successors of every step, to skip everything behind a branch not taken.
    pub successors: &'a HashMap<String, Vec<String>>,
}

const RUN_COLUMNS: &str =
    "id, workflow_id, workflow_version, owner_id, status, input, error, created_at, finished_at";

pub(crate) async fn event(
    tx: &mut Transaction<'static, Any>,
    run_id: &str,
    kind: EventKind,
    step_id: Option<&str>,
    detail: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO run_events (run_id, kind, step_id, detail, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(run_id)
        .bind(kind.as_str())
        .bind(step_id)
        .bind(detail)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts several events of one run in one statement, in order (ids follow it).
async fn events(
    tx: &mut Transaction<'static, Any>,
    run_id: &str,
    events: &[(EventKind, Option<&str>)],
    now: i64,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..events.len())
        .map(|i| format!("($1, ${}, ${}, NULL, $2)", 3 + 2 * i, 4 + 2 * i))
        .collect();
    let sql = format!(
        "INSERT INTO run_events (run_id, kind, step_id, detail, created_at) VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(run_id).bind(now);
    for (kind, step) in events {
        query = query.bind(kind.as_str()).bind(*step);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

impl Store {
    /// Stores the run and its steps, queueing those with no predecessors.
    pub async fn start_run(&self, run: &NewRun) -> Result<Run, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let id = insert_run(&mut tx, run).await?;
        tx.commit().await?;
        count_run_start(run);
        self.find_run(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn find_run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        Ok(
            sqlx::query_as(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn step_runs(&self, run_id: &str) -> Result<Vec<StepRun>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT run_id, step_id, status, attempt, output, error, usage, started_at, finished_at \
             FROM step_runs WHERE run_id = $1 ORDER BY started_at IS NULL, started_at, step_id",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Events of a run after `after_id`, oldest first.
    pub async fn run_events(
        &self,
        run_id: &str,
        after_id: i64,
    ) -> Result<Vec<RunEvent>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, run_id, kind, step_id, detail, created_at FROM run_events \
             WHERE run_id = $1 AND id > $2 ORDER BY id",
        )
        .bind(run_id)
        .bind(after_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Outputs of the run's succeeded steps (JSON text), for templates to read.
    pub async fn step_outputs(&self, run_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT step_id, output FROM step_runs WHERE run_id = $1 AND status = 'succeeded' AND output IS NOT NULL",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Steps ready to run and not yet claimed, on every instance, and when the oldest
    /// became ready (`None` when there are none), for `/metrics`.
    pub async fn queue_stats(&self) -> Result<(i64, Option<i64>), StoreError> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), MIN(available_at) FROM step_runs \
             WHERE status = 'queued' AND available_at <= $1",
        )
        .bind(now_millis())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Leases a ready step to `worker` until `now + lease_ms`, choosing fairly between
    /// users: among the users with ready steps and fewer than `max_running_per_user`
    /// running, the one with the fewest running goes first (the longest-waiting on a tie),
    /// and within a user the oldest step. On PostgreSQL, claims for one user take an
    /// advisory lock so that concurrent workers cannot pass the cap together; rows other
    /// workers hold are skipped. SQLite's single writer serialises claims anyway.
    pub async fn claim_step(
        &self,
        worker: &str,
        lease_ms: i64,
        max_running_per_user: i64,
    ) -> Result<Option<Claim>, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        // The users with queued steps, by a loose index scan (one index probe per user,
        // not one row per queued step), each with its oldest step and its running count.
        let candidates: Vec<(String,)> = sqlx::query_as(
            "WITH RECURSIVE owners(id) AS ( \
               SELECT MIN(owner_id) FROM step_runs WHERE status = 'queued' \
               UNION ALL \
               SELECT (SELECT MIN(q.owner_id) FROM step_runs q WHERE q.status = 'queued' AND q.owner_id > owners.id) \
               FROM owners WHERE owners.id IS NOT NULL) \
             SELECT id FROM ( \
               SELECT o.id AS id, \
                 (SELECT MIN(q.available_at) FROM step_runs q WHERE q.owner_id = o.id AND q.status = 'queued') AS head, \
                 (SELECT COUNT(*) FROM step_runs r WHERE r.owner_id = o.id AND r.status = 'running') AS busy \
               FROM owners o WHERE o.id IS NOT NULL) c \
             WHERE head <= $1 AND busy < $2 ORDER BY busy, head LIMIT 16",
        )
        .bind(now)
        .bind(max_running_per_user)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed: Option<(String, String, i64, i64)> = None;
        for (owner,) in candidates {
            if self.backend == Backend::Postgres {
                let (locked,): (bool,) = sqlx::query_as(
                    "SELECT pg_try_advisory_xact_lock(hashtext('aura.claim.' || $1))",
                )
                .bind(&owner)
                .fetch_one(&mut *tx)
                .await?;
                if !locked {
                    continue;
                }
                // Another worker may have claimed for this user since the list was read.
                let (busy,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM step_runs WHERE owner_id = $1 AND status = 'running'",
                )
                .bind(&owner)
                .fetch_one(&mut *tx)
                .await?;
                if busy >= max_running_per_user {
                    continue;
                }
            }
            let pick = match self.backend {
                Backend::Postgres => {
                    "SELECT run_id, step_id FROM step_runs WHERE owner_id = $4 AND status = 'queued' \
                     AND available_at <= $3 ORDER BY available_at LIMIT 1 FOR UPDATE SKIP LOCKED"
                }
                Backend::Sqlite => {
                    "SELECT run_id, step_id FROM step_runs WHERE owner_id = $4 AND status = 'queued' \
                     AND available_at <= $3 ORDER BY available_at LIMIT 1"
                }
            };
            claimed = sqlx::query_as(&format!(
                "UPDATE step_runs SET status = 'running', attempt = attempt + 1, lease_owner = $1, \
                 lease_expires_at = $2, started_at = $3, error = NULL \
                 WHERE status = 'queued' AND (run_id, step_id) = ({pick}) \
                 RETURNING run_id, step_id, attempt, available_at"
            ))
            .bind(worker)
            .bind(now + lease_ms)
            .bind(now)
            .bind(&owner)
            .fetch_optional(&mut *tx)
            .await?;
            if claimed.is_some() {
                break;
            }
        }
        let Some((run_id, step_id, attempt, available_at)) = claimed else {
            tx.commit().await?;
            return Ok(None);
        };
        let step = ClaimedStep {
            run_id,
            step_id,
            attempt,
        };
        // One statement moves the run to running (if it was queued) and returns it, so the
        // worker needs no separate read of the run.
        let run: Run = sqlx::query_as(&format!(
            "UPDATE runs SET status = CASE WHEN status IN ('queued', 'waiting') THEN 'running' ELSE status END, \
             updated_at = $1 WHERE id = $2 RETURNING {RUN_COLUMNS}"
        ))
        .bind(now)
        .bind(&step.run_id)
        .fetch_one(&mut *tx)
        .await?;
        {
            let detail =
                serde_json::json!({ "attempt": step.attempt, "worker": worker }).to_string();
            event(
                &mut tx,
                &step.run_id,
                EventKind::StepStarted,
                Some(&step.step_id),
                Some(detail),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        // From ready (queued, or its retry delay over) to claimed: the queue's wait.
        metrics::histogram!("aura_step_claim_wait_seconds")
            .record((now - available_at).max(0) as f64 / 1000.0);
        Ok(Some(Claim { step, run }))
    }

    /// Extends a lease; `false` when it was lost (expired and taken over, or the run ended).
    pub async fn heartbeat(
        &self,
        step: &ClaimedStep,
        worker: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE step_runs SET lease_expires_at = $1 WHERE run_id = $2 AND step_id = $3 \
             AND status = 'running' AND lease_owner = $4 AND attempt = $5",
        )
        .bind(now_millis() + lease_ms)
        .bind(&step.run_id)
        .bind(&step.step_id)
        .bind(worker)
        .bind(step.attempt)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Handles steps whose lease expired (their worker died or froze): each lost lease
    /// counts as an attempt, so the step goes back to the queue while it has attempts
    /// left, and otherwise fails, ending its run like any failed step. A step that kills
    /// its process therefore runs at most `max_attempts` times. Returns how many steps
    /// were handled.
    pub async fn requeue_expired_leases(&self) -> Result<u64, StoreError> {
        let now = now_millis();
        let expired: Vec<(String, String)> = sqlx::query_as(
            "SELECT run_id, step_id FROM step_runs WHERE status = 'running' AND lease_expires_at < $1 LIMIT 500",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut handled = 0;
        for (run_id, step_id) in expired {
            let (_write, mut tx) = self.begin_write().await?;
            self.lock_run(&mut tx, &run_id).await?;
            let lost: Option<(String, i64, i64)> = sqlx::query_as(
                "UPDATE step_runs SET \
                   status = CASE WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END, \
                   finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE $1 END, \
                   available_at = $1, lease_owner = NULL, lease_expires_at = NULL, \
                   leases_lost = leases_lost + 1 \
                 WHERE run_id = $2 AND step_id = $3 AND status = 'running' AND lease_expires_at < $1 \
                 RETURNING status, attempt, leases_lost",
            )
            .bind(now)
            .bind(&run_id)
            .bind(&step_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((status, attempt, leases_lost)) = lost else {
                continue;
            };
            handled += 1;
            let mut ended = None;
            if status == StepStatus::Queued.as_str() {
                let error = "The worker running this step was lost (its lease expired); \
                             the step is queued again.";
                let detail = serde_json::json!({ "attempt": attempt, "error": error }).to_string();
                event(
                    &mut tx,
                    &run_id,
                    EventKind::StepRetrying,
                    Some(&step_id),
                    Some(detail),
                    now,
                )
                .await?;
            } else {
                let error = if leases_lost == 1 {
                    format!(
                        "The worker running this step was lost (its lease expired) on attempt \
                         {attempt}, the last one allowed; the step is not run again."
                    )
                } else {
                    format!(
                        "The worker running this step was lost {leases_lost} times (its lease \
                         expired each time); after {attempt} attempts the step is not run again."
                    )
                };
                sqlx::query("UPDATE step_runs SET error = $1 WHERE run_id = $2 AND step_id = $3")
                    .bind(&error)
                    .bind(&run_id)
                    .bind(&step_id)
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({ "attempt": attempt, "error": error }).to_string();
                event(
                    &mut tx,
                    &run_id,
                    EventKind::StepFailed,
                    Some(&step_id),
                    Some(detail),
                    now,
                )
                .await?;
                ended = end_failed_run(&mut tx, &run_id, now).await?;
            }
            tx.commit().await?;
            metrics::counter!("aura_lease_expiries_total").increment(1);
            count_run_end(ended);
        }
        Ok(handled)
    }

    /// On PostgreSQL, steps of one run finishing at the same moment in different
    /// transactions would each see the other still running, and neither would close the
    /// run. Locking the run's row first serialises them, and each later statement sees what
    /// the previous one committed. (SQLite already runs one writer at a time.)
    pub(crate) async fn lock_run(
        &self,
        tx: &mut Transaction<'static, Any>,
        run_id: &str,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM runs WHERE id = $1 FOR UPDATE")
                .bind(run_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Records a step's output and moves its successors on, in one transaction, applying
    /// `apply` (an agent's change set with `apply: auto`) in it too. `Ok(false)` (and
    /// nothing changed) when the caller no longer holds the lease; `Err(conflicts)` (and
    /// nothing changed) when the change set cannot be applied.
    pub async fn complete_step(
        &self,
        step: &ClaimedStep,
        worker: &str,
        output: &str,
        usage: Option<&str>,
        outcome: &Outcome<'_>,
        apply: Option<&crate::ChangeSet<'_>>,
    ) -> Result<Result<bool, Vec<crate::Conflict>>, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        self.lock_run(&mut tx, &step.run_id).await?;
        let done = sqlx::query(
            "UPDATE step_runs SET status = 'succeeded', output = $1, finished_at = $2, lease_owner = NULL, \
             lease_expires_at = NULL, usage = $7 WHERE run_id = $3 AND step_id = $4 AND status = 'running' \
             AND lease_owner = $5 AND attempt = $6",
        )
        .bind(output)
        .bind(now)
        .bind(&step.run_id)
        .bind(&step.step_id)
        .bind(worker)
        .bind(step.attempt)
        .bind(usage)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(Ok(false));
        }
        if let Some(set) = apply
            && let Err(conflicts) = crate::change_sets::apply(&mut tx, set).await?
        {
            return Ok(Err(conflicts));
        }
        let ended = advance(&mut tx, &step.run_id, &step.step_id, outcome, None, now).await?;
        tx.commit().await?;
        count_run_end(ended);
        Ok(Ok(true))
    }

    /// Records a failed attempt: back in the queue at `retry_at`, or, when no retries are
    /// left, the step and the run fail and steps that have not started are cancelled.
    pub async fn fail_step(
        &self,
        step: &ClaimedStep,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        self.lock_run(&mut tx, &step.run_id).await?;
        let (status, available_at) = match retry_at {
            Some(at) => (StepStatus::Queued, at),
            None => (StepStatus::Failed, now),
        };
        let updated = sqlx::query(
            "UPDATE step_runs SET status = $1, error = $2, available_at = $3, lease_owner = NULL, \
             lease_expires_at = NULL, finished_at = CASE WHEN $1 = 'failed' THEN $4 ELSE NULL END \
             WHERE run_id = $5 AND step_id = $6 AND status = 'running' AND lease_owner = $7 AND attempt = $8",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(available_at)
        .bind(now)
        .bind(&step.run_id)
        .bind(&step.step_id)
        .bind(worker)
        .bind(step.attempt)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        let detail = serde_json::json!({ "attempt": step.attempt, "error": error }).to_string();
        if retry_at.is_some() {
            event(
                &mut tx,
                &step.run_id,
                EventKind::StepRetrying,
                Some(&step.step_id),
                Some(detail),
                now,
            )
            .await?;
        } else {
            event(
                &mut tx,
                &step.run_id,
                EventKind::StepFailed,
                Some(&step.step_id),
                Some(detail),
                now,
            )
            .await?;
            let ended = end_failed_run(&mut tx, &step.run_id, now).await?;
            tx.commit().await?;
            count_run_end(ended);
            return Ok(true);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Appends an event that changes no state (a step's log output); returns its id.
    pub async fn append_event(
        &self,
        run_id: &str,
        kind: EventKind,
        step_id: Option<&str>,
        detail: &str,
    ) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        event(
            &mut tx,
            run_id,
            kind,
            step_id,
            Some(detail.to_owned()),
            now_millis(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Cancels a queued, running or waiting run: the run and every step that has not finished
    /// become `cancelled`, which also fences off the results of steps still executing
    /// (their worker's lease no longer matches). `false` when the run had already ended.
    pub async fn cancel_run(&self, run_id: &str, reason: &str) -> Result<bool, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE runs SET status = 'cancelled', error = $1, finished_at = $2, updated_at = $2 \
             WHERE id = $3 AND status IN ('queued', 'running', 'waiting')",
        )
        .bind(reason)
        .bind(now)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE step_runs SET status = 'cancelled', finished_at = $1, lease_owner = NULL, \
             lease_expires_at = NULL WHERE run_id = $2 AND status IN ('pending', 'queued', 'running', 'waiting')",
        )
        .bind(now)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        event(
            &mut tx,
            run_id,
            EventKind::RunCancelled,
            None,
            Some(serde_json::json!({ "reason": reason }).to_string()),
            now,
        )
        .await?;
        tx.commit().await?;
        count_run_end(Some(EventKind::RunCancelled));
        Ok(true)
    }

    /// Resumes a failed or cancelled run from where it stopped: failed and cancelled
    /// steps go back to the queue (or to waiting, if their predecessors have not finished)
    /// with a fresh attempt budget; succeeded steps keep their outputs and never run
    /// again. `false` when the run is not failed or cancelled.
    pub async fn resume_run(&self, run_id: &str) -> Result<bool, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL, updated_at = $1 \
             WHERE id = $2 AND status IN ('failed', 'cancelled')",
        )
        .bind(now)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE step_runs SET status = CASE WHEN waiting_on = 0 THEN 'queued' ELSE 'pending' END, \
             attempt = 0, leases_lost = 0, error = NULL, started_at = NULL, finished_at = NULL, available_at = $1 \
             WHERE run_id = $2 AND status IN ('failed', 'cancelled')",
        )
        .bind(now)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        event(&mut tx, run_id, EventKind::RunResumed, None, None, now).await?;
        tx.commit().await?;
        metrics::counter!("aura_runs_resumed_total").increment(1);
        Ok(true)
    }

    /// Runs of `owner`, newest first.
    pub async fn list_runs(
        &self,
        owner_id: &str,
        filter: &RunFilter,
    ) -> Result<Vec<RunSummary>, StoreError> {
        let (before_at, before_id) = filter.before.clone().unwrap_or((i64::MAX, String::new()));
        Ok(sqlx::query_as(
            "SELECT r.id, r.workflow_id, w.name AS workflow_name, r.workflow_version, r.status, r.error, \
             r.created_at, r.finished_at FROM runs r JOIN workflows w ON w.id = r.workflow_id \
             WHERE r.owner_id = $1 AND ($2 = '' OR r.workflow_id = $2) AND ($3 = '' OR r.status = $3) \
             AND (r.created_at < $4 OR (r.created_at = $4 AND ($5 = '' OR r.id < $5))) \
             ORDER BY r.created_at DESC, r.id DESC LIMIT $6",
        )
        .bind(owner_id)
        .bind(filter.workflow_id.as_deref().unwrap_or(""))
        .bind(filter.status.map_or("", RunStatus::as_str))
        .bind(before_at)
        .bind(before_id)
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deletes runs (with their steps and events) that ended before `cutoff`, in batches
    /// so no transaction grows large. Returns how many runs went.
    pub async fn delete_runs_finished_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM runs WHERE id IN \
                 (SELECT id FROM runs WHERE finished_at IS NOT NULL AND finished_at < $1 LIMIT 500)",
            )
            .bind(cutoff)
            .execute(&self.pool)
            .await?
            .rows_affected();
            total += deleted;
            if deleted < 500 {
                return Ok(total);
            }
        }
    }
}

/// Inserts a run and its steps in `tx`, queueing those with no predecessors; returns its id.
pub(crate) async fn insert_run(
    tx: &mut Transaction<'static, Any>,
    run: &NewRun,
) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO runs (id, workflow_id, workflow_version, owner_id, status, input, created_at, updated_at, \
         trigger_kind, trigger_id) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&run.workflow_id)
    .bind(run.workflow_version)
    .bind(&run.owner_id)
    .bind(&run.input)
    .bind(now)
    .bind(run.trigger.as_ref().map(|(kind, _)| *kind))
    .bind(run.trigger.as_ref().map(|(_, id)| id.as_str()))
    .execute(&mut **tx)
    .await?;
    for step in &run.steps {
        sqlx::query(
            "INSERT INTO step_runs (run_id, step_id, status, waiting_on, available_at, owner_id, max_attempts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&step.id)
        .bind(if step.waiting_on == 0 {
            StepStatus::Queued.as_str()
        } else {
            StepStatus::Pending.as_str()
        })
        .bind(step.waiting_on)
        .bind(now)
        .bind(&run.owner_id)
        .bind(step.max_attempts)
        .execute(&mut **tx)
        .await?;
    }
    event(tx, &id, EventKind::RunQueued, None, None, now).await?;
    Ok(id)
}

/// After `step_id` succeeded: its successors are queued (or skipped, with everything only
/// they lead to, when no taken edge reaches them), the run ends if nothing can still run,
/// and the events say so, in order. `detail` goes on the step's success event.
pub(crate) async fn advance(
    tx: &mut Transaction<'static, Any>,
    run_id: &str,
    step_id: &str,
    outcome: &Outcome<'_>,
    detail: Option<String>,
    now: i64,
) -> Result<Option<EventKind>, StoreError> {
    // The events of this transition are written together at the end, in order.
    let mut skipped: Vec<String> = Vec::new();
    let mut pending: Vec<(String, bool)> = outcome.edges.clone();
    while let Some((child, taken)) = pending.pop() {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE step_runs SET waiting_on = waiting_on - 1, live_inputs = live_inputs + $1 \
             WHERE run_id = $2 AND step_id = $3 AND status = 'pending' RETURNING waiting_on, live_inputs",
        )
        .bind(i64::from(taken))
        .bind(run_id)
        .bind(&child)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((0, live)) = row else { continue };
        if live > 0 {
            sqlx::query(
                "UPDATE step_runs SET status = 'queued', available_at = $1 WHERE run_id = $2 AND step_id = $3",
            )
            .bind(now)
            .bind(run_id)
            .bind(&child)
            .execute(&mut **tx)
            .await?;
        } else {
            // Every way into this step was a branch not taken: skip it and, in turn,
            // everything that only it leads to.
            sqlx::query(
                "UPDATE step_runs SET status = 'skipped', finished_at = $1 WHERE run_id = $2 AND step_id = $3",
            )
            .bind(now)
            .bind(run_id)
            .bind(&child)
            .execute(&mut **tx)
            .await?;
            skipped.push(child.clone());
            for next in outcome.successors.get(&child).into_iter().flatten() {
                pending.push((next.clone(), false));
            }
        }
    }
    let ended = finish_run_if_done(tx, run_id, now).await?;
    let mut batch: Vec<(EventKind, Option<&str>)> = Vec::new();
    match detail {
        // The common case, a step's plain success, joins the one batched insert.
        None => batch.push((EventKind::StepSucceeded, Some(step_id))),
        Some(detail) => {
            event(
                tx,
                run_id,
                EventKind::StepSucceeded,
                Some(step_id),
                Some(detail),
                now,
            )
            .await?
        }
    }
    batch.extend(
        skipped
            .iter()
            .map(|id| (EventKind::StepSkipped, Some(id.as_str()))),
    );
    batch.extend(ended.map(|kind| (kind, None)));
    events(tx, run_id, &batch, now).await?;
    if ended.is_none() {
        settle_waiting(tx, run_id, now).await?;
    }
    Ok(ended)
}

/// A run whose only unfinished steps wait for a person is `waiting`; one with a step
/// queued or running again is `running`.
pub(crate) async fn settle_waiting(
    tx: &mut Transaction<'static, Any>,
    run_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE runs SET updated_at = $1, status = CASE WHEN EXISTS \
           (SELECT 1 FROM step_runs WHERE run_id = $2 AND status IN ('queued', 'running')) \
           THEN 'running' ELSE 'waiting' END \
         WHERE id = $2 AND status IN ('running', 'waiting') AND EXISTS \
           (SELECT 1 FROM step_runs WHERE run_id = $2 AND status = 'waiting')",
    )
    .bind(now)
    .bind(run_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Counts a committed run start (`aura_runs_started_total`) by what started it.
pub(crate) fn count_run_start(run: &NewRun) {
    let trigger = run.trigger.as_ref().map_or("manual", |(kind, _)| *kind);
    metrics::counter!("aura_runs_started_total", "trigger" => trigger).increment(1);
}

/// After a step failed for good: steps that have not started, and waits for a decision
/// that can no longer matter, are cancelled, and the run ends once its running steps are
/// done. Returns the run's ending when it did end.
pub(crate) async fn end_failed_run(
    tx: &mut Transaction<'static, Any>,
    run_id: &str,
    now: i64,
) -> Result<Option<EventKind>, StoreError> {
    sqlx::query(
        "UPDATE step_runs SET status = 'cancelled', finished_at = $1 \
         WHERE run_id = $2 AND status IN ('pending', 'queued', 'waiting')",
    )
    .bind(now)
    .bind(run_id)
    .execute(&mut **tx)
    .await?;
    let ended = finish_run_if_done(tx, run_id, now).await?;
    if let Some(kind) = ended {
        event(tx, run_id, kind, None, None, now).await?;
    }
    Ok(ended)
}

/// Counts a run's ending (`aura_runs_finished_total`), once its transaction committed.
pub(crate) fn count_run_end(ended: Option<EventKind>) {
    let status = match ended {
        Some(EventKind::RunSucceeded) => RunStatus::Succeeded,
        Some(EventKind::RunFailed) => RunStatus::Failed,
        Some(EventKind::RunCancelled) => RunStatus::Cancelled,
        _ => return,
    };
    metrics::counter!("aura_runs_finished_total", "status" => status.as_str()).increment(1);
}

/// When no step can still run, the run ends: failed if any step failed, else succeeded.
/// Returns the event kind to record when it did end.
async fn finish_run_if_done(
    tx: &mut Transaction<'static, Any>,
    run_id: &str,
    now: i64,
) -> Result<Option<EventKind>, StoreError> {
    // One statement: close the run only when no step can still run, choosing its status
    // from whether any step failed.
    let ended: Option<(String, String, String)> = sqlx::query_as(
        "UPDATE runs SET finished_at = $1, updated_at = $1, status = CASE WHEN EXISTS \
           (SELECT 1 FROM step_runs WHERE run_id = $2 AND status = 'failed') \
           THEN 'failed' ELSE 'succeeded' END \
         WHERE id = $2 AND status IN ('queued', 'running', 'waiting') AND NOT EXISTS \
           (SELECT 1 FROM step_runs WHERE run_id = $2 AND status IN ('pending', 'queued', 'running', 'waiting')) \
         RETURNING status, owner_id, workflow_id",
    )
    .bind(now)
    .bind(run_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((status, owner_id, workflow_id)) = ended else {
        return Ok(None);
    };
    if status != RunStatus::Failed.as_str() {
        return Ok(Some(EventKind::RunSucceeded));
    }
    notify_run_failed(tx, run_id, &owner_id, &workflow_id).await?;
    Ok(Some(EventKind::RunFailed))
}

/// Tells the owner their workflow's run failed; repeats collapse while unread.
async fn notify_run_failed(
    tx: &mut Transaction<'static, Any>,
    run_id: &str,
    owner_id: &str,
    workflow_id: &str,
) -> Result<(), StoreError> {
    let name: Option<(String,)> = sqlx::query_as("SELECT name FROM workflows WHERE id = $1")
        .bind(workflow_id)
        .fetch_optional(&mut **tx)
        .await?;
    let failed: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT step_id, error FROM step_runs WHERE run_id = $1 AND status = 'failed' \
         ORDER BY finished_at LIMIT 1",
    )
    .bind(run_id)
    .fetch_optional(&mut **tx)
    .await?;
    let name = name.map_or_else(|| "a workflow".to_owned(), |(n,)| n);
    let mut body = match failed {
        Some((step, Some(error))) => format!("Step `{step}` failed: {error}"),
        Some((step, None)) => format!("Step `{step}` failed."),
        None => "A step failed.".to_owned(),
    };
    if body.chars().count() > 300 {
        body = body.chars().take(299).collect::<String>() + "…";
    }
    crate::notifications::notify(
        tx,
        &crate::NewNotification {
            user_id: owner_id.to_owned(),
            kind: "run_failed",
            subject: format!("workflow:{workflow_id}"),
            title: format!("A run of {name} failed"),
            body,
            link: Some(format!("/runs/{run_id}")),
        },
        crate::Repeat::CollapseWhileUnread,
    )
    .await
}
