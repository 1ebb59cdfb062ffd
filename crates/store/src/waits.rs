//! Steps that wait for a person (`approval`): entering the wait, the decision that ends
//! it, and the timeout that ends it when nobody decides.
//!
//! A waiting step holds no lease and no worker: the wait is a row, so restarts and crashes
//! change nothing. Each transition commits with its events, its notice or its audit
//! record, and moves the run's status between `running` and `waiting`.

use crate::runs::{advance, count_run_end, end_failed_run, event};
use crate::{
    ChangeSet, ClaimedStep, Conflict, NewAuditEvent, NewNotification, Repeat, StepOutcome, Store,
    StoreError, now_millis,
};
use aura_types::EventKind;

/// A step entering its wait.
#[derive(Debug, Clone)]
pub struct NewWait<'a> {
    /// What the approver is shown (JSON text); it is the step's output while it waits.
    pub request: &'a str,
    /// When the wait ends by itself, if it does.
    pub until: Option<i64>,
    /// The notice for the person who decides.
    pub notice: NewNotification,
}

/// What became of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    Done,
    /// The step is not waiting (someone decided first, the run was cancelled).
    NotWaiting,
    /// The change set to apply meets these; nothing was written.
    Conflicts(Vec<Conflict>),
}

impl Store {
    /// Moves a running step to `waiting`, if `worker` still holds it; the run becomes
    /// `waiting` when nothing else of it is queued or running. `false` when the lease was
    /// lost (the step was cancelled, or taken over).
    pub async fn wait_step(
        &self,
        step: &ClaimedStep,
        worker: &str,
        wait: &NewWait<'_>,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        self.lock_run(&mut tx, &step.run_id).await?;
        let moved = sqlx::query(
            "UPDATE step_runs SET status = 'waiting', output = $1, wait_until = $2, lease_owner = NULL, \
             lease_expires_at = NULL WHERE run_id = $3 AND step_id = $4 AND status = 'running' \
             AND lease_owner = $5 AND attempt = $6",
        )
        .bind(wait.request)
        .bind(wait.until)
        .bind(&step.run_id)
        .bind(&step.step_id)
        .bind(worker)
        .bind(step.attempt)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Ok(false);
        }
        event(
            &mut tx,
            &step.run_id,
            EventKind::StepWaiting,
            Some(&step.step_id),
            Some(wait.request.to_owned()),
            now,
        )
        .await?;
        crate::runs::settle_waiting(&mut tx, &step.run_id, now).await?;
        crate::notifications::notify(&mut tx, &wait.notice, Repeat::Once).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends a wait with `output` (the decision): the step succeeds and its successors move
    /// on, with `audit` and the change set to `apply` (an approval of an agent's edits) in
    /// the same transaction: all of it is written, or none.
    pub async fn decide_step(
        &self,
        run_id: &str,
        step_id: &str,
        output: &str,
        outcome: &StepOutcome<'_>,
        audit: Option<&NewAuditEvent>,
        apply: Option<&ChangeSet<'_>>,
    ) -> Result<Decided, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        self.lock_run(&mut tx, run_id).await?;
        if !end_wait(
            &mut tx,
            run_id,
            step_id,
            "succeeded",
            Some(output),
            None,
            now,
        )
        .await?
        {
            return Ok(Decided::NotWaiting);
        }
        if let Some(set) = apply
            && let Err(conflicts) = crate::change_sets::apply(&mut tx, set).await?
        {
            return Ok(Decided::Conflicts(conflicts));
        }
        let ended = advance(
            &mut tx,
            run_id,
            step_id,
            outcome,
            Some(output.to_owned()),
            now,
        )
        .await?;
        if let Some(audit) = audit {
            crate::audit::insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        count_run_end(ended);
        Ok(Decided::Done)
    }

    /// Ends a wait as a failure (its timeout said so): the run fails like it does for any
    /// failed step. `false` when the step is not waiting.
    pub async fn fail_waiting_step(
        &self,
        run_id: &str,
        step_id: &str,
        error: &str,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        self.lock_run(&mut tx, run_id).await?;
        if !end_wait(&mut tx, run_id, step_id, "failed", None, Some(error), now).await? {
            return Ok(false);
        }
        let detail = serde_json::json!({ "error": error }).to_string();
        event(
            &mut tx,
            run_id,
            EventKind::StepFailed,
            Some(step_id),
            Some(detail),
            now,
        )
        .await?;
        let ended = end_failed_run(&mut tx, run_id, now).await?;
        tx.commit().await?;
        count_run_end(ended);
        Ok(true)
    }

    /// Waiting steps whose wait ended by itself by `now`, at most `limit`, as (run id,
    /// step id), the longest overdue first.
    pub async fn expired_waits(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT run_id, step_id FROM step_runs WHERE status = 'waiting' AND wait_until <= $1 \
             ORDER BY wait_until LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Moves a waiting step to `status` (`succeeded` with its output, or `failed` with its
/// error); `false` when it was not waiting, so a decision and a timeout cannot both end
/// one wait.
async fn end_wait(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    run_id: &str,
    step_id: &str,
    status: &str,
    output: Option<&str>,
    error: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let ended = sqlx::query(
        "UPDATE step_runs SET status = $1, output = COALESCE($2, output), error = $3, \
         finished_at = $4, wait_until = NULL \
         WHERE run_id = $5 AND step_id = $6 AND status = 'waiting'",
    )
    .bind(status)
    .bind(output)
    .bind(error)
    .bind(now)
    .bind(run_id)
    .bind(step_id)
    .execute(&mut **tx)
    .await?;
    Ok(ended.rows_affected() == 1)
}
