//! Schedules and their fires. A fire is claimed in the same transaction that advances the
//! schedule (compare-and-set on `next_fire_at`), records `(schedule, fire time)` under a
//! unique key and inserts the run, so a fire starts one run or none, on any number of
//! instances, even if one dies mid-way.

use crate::audit::{NewAuditEvent, insert_audit};
use crate::runs::{NewRun, count_run_start, insert_run};
use crate::{Run, Store, StoreError, now_millis};

const COLUMNS: &str = "id, workflow_id, owner_id, name, kind, cron, every_count, every_unit, anchor_at, \
     timezone, input, enabled, overlap, catch_up, catch_up_window_secs, next_fire_at, created_at, updated_at";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    pub id: String,
    pub workflow_id: String,
    pub owner_id: String,
    pub name: String,
    /// `cron` or `every`.
    pub kind: String,
    pub cron: Option<String>,
    pub every_count: Option<i64>,
    /// `minutes` or `hours`.
    pub every_unit: Option<String>,
    pub anchor_at: i64,
    pub timezone: String,
    /// JSON object.
    pub input: String,
    pub enabled: i64,
    /// `skip`, `queue` or `allow`.
    pub overlap: String,
    /// `none` or `last`.
    pub catch_up: String,
    pub catch_up_window_secs: i64,
    pub next_fire_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A schedule's settings, as the service checked them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    pub name: String,
    pub kind: String,
    pub cron: Option<String>,
    pub every_count: Option<i64>,
    pub every_unit: Option<String>,
    pub anchor_at: i64,
    pub timezone: String,
    pub input: String,
    pub enabled: bool,
    pub overlap: String,
    pub catch_up: String,
    pub catch_up_window_secs: i64,
    pub next_fire_at: Option<i64>,
}

/// The latest fire of a schedule and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LastFire {
    pub fire_at: i64,
    pub outcome: String,
    pub run_id: Option<String>,
    pub run_status: Option<String>,
}

/// What claiming a fire did.
#[derive(Debug, Clone, PartialEq)]
pub enum FireClaim {
    /// This instance recorded the fire (and started `run`, if one was asked for).
    Fired(Option<Run>),
    /// Another instance advanced the schedule or recorded this fire first.
    Lost,
}

/// Tells the owner a fire was skipped because the previous run was still going.
async fn notify_skipped(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    schedule_id: &str,
    fire_at: i64,
) -> Result<(), StoreError> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT owner_id, name, workflow_id FROM schedules WHERE id = $1")
            .bind(schedule_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some((owner_id, name, workflow_id)) = row else {
        return Ok(());
    };
    let at = time::OffsetDateTime::from_unix_timestamp(fire_at / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default();
    crate::notifications::notify(
        tx,
        &crate::NewNotification {
            user_id: owner_id,
            kind: "schedule_skipped",
            subject: format!("schedule:{schedule_id}"),
            title: format!("Schedule {name} skipped a fire"),
            body: format!(
                "The fire at {at} was skipped: the previous run was still going (overlap: skip)."
            ),
            link: Some(format!("/workflows/{workflow_id}")),
        },
        crate::Repeat::CollapseWhileUnread,
    )
    .await
}

impl Store {
    pub async fn insert_schedule(
        &self,
        id: &str,
        workflow_id: &str,
        owner_id: &str,
        settings: &ScheduleSettings,
        audit: &NewAuditEvent,
    ) -> Result<ScheduleRow, StoreError> {
        let sql = format!(
            "INSERT INTO schedules (id, workflow_id, owner_id, name, kind, cron, every_count, every_unit, \
             anchor_at, timezone, input, enabled, overlap, catch_up, catch_up_window_secs, next_fire_at, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) \
             RETURNING {COLUMNS}"
        );
        let (_write, mut tx) = self.begin_write().await?;
        let row = sqlx::query_as(&sql)
            .bind(id)
            .bind(workflow_id)
            .bind(owner_id)
            .bind(&settings.name)
            .bind(&settings.kind)
            .bind(&settings.cron)
            .bind(settings.every_count)
            .bind(&settings.every_unit)
            .bind(settings.anchor_at)
            .bind(&settings.timezone)
            .bind(&settings.input)
            .bind(i64::from(settings.enabled))
            .bind(&settings.overlap)
            .bind(&settings.catch_up)
            .bind(settings.catch_up_window_secs)
            .bind(settings.next_fire_at)
            .bind(now_millis())
            .fetch_one(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn update_schedule(
        &self,
        owner_id: &str,
        id: &str,
        settings: &ScheduleSettings,
        audit: &NewAuditEvent,
    ) -> Result<Option<ScheduleRow>, StoreError> {
        let sql = format!(
            "UPDATE schedules SET name = $1, kind = $2, cron = $3, every_count = $4, every_unit = $5, \
             anchor_at = $6, timezone = $7, input = $8, enabled = $9, overlap = $10, catch_up = $11, \
             catch_up_window_secs = $12, next_fire_at = $13, updated_at = $14 \
             WHERE id = $15 AND owner_id = $16 RETURNING {COLUMNS}"
        );
        let (_write, mut tx) = self.begin_write().await?;
        let row: Option<ScheduleRow> = sqlx::query_as(&sql)
            .bind(&settings.name)
            .bind(&settings.kind)
            .bind(&settings.cron)
            .bind(settings.every_count)
            .bind(&settings.every_unit)
            .bind(settings.anchor_at)
            .bind(&settings.timezone)
            .bind(&settings.input)
            .bind(i64::from(settings.enabled))
            .bind(&settings.overlap)
            .bind(&settings.catch_up)
            .bind(settings.catch_up_window_secs)
            .bind(settings.next_fire_at)
            .bind(now_millis())
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_some() {
            insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
        }
        Ok(row)
    }

    pub async fn delete_schedule(
        &self,
        owner_id: &str,
        id: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM schedules WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if deleted {
            insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
        }
        Ok(deleted)
    }

    pub async fn find_schedule(
        &self,
        owner_id: &str,
        id: &str,
    ) -> Result<Option<ScheduleRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM schedules WHERE id = $1 AND owner_id = $2"
        ))
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn workflow_schedules(
        &self,
        owner_id: &str,
        workflow_id: &str,
    ) -> Result<Vec<ScheduleRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM schedules WHERE workflow_id = $1 AND owner_id = $2 ORDER BY created_at, id"
        ))
        .bind(workflow_id)
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Enabled schedules due at `now`, the longest-due first.
    pub async fn due_schedules(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ScheduleRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM schedules WHERE enabled = 1 AND next_fire_at <= $1 \
             ORDER BY next_fire_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The schedule's latest fire, with its run's status now.
    pub async fn last_schedule_fire(
        &self,
        schedule_id: &str,
    ) -> Result<Option<LastFire>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT f.fire_at, f.outcome, f.run_id, r.status AS run_status FROM schedule_fires f \
             LEFT JOIN runs r ON r.id = f.run_id WHERE f.schedule_id = $1 \
             ORDER BY f.fire_at DESC LIMIT 1",
        )
        .bind(schedule_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The status of the schedule's latest run (a fire that started one).
    pub async fn last_schedule_run_status(
        &self,
        schedule_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT r.status FROM schedule_fires f JOIN runs r ON r.id = f.run_id \
             WHERE f.schedule_id = $1 ORDER BY f.fire_at DESC LIMIT 1",
        )
        .bind(schedule_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(status,)| status))
    }

    /// Fires waiting for their schedule's previous run (the `queue` overlap policy).
    pub async fn queued_schedule_fires(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT schedule_id, fire_at FROM schedule_fires WHERE outcome = 'queued' ORDER BY fire_at LIMIT 100",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn has_queued_schedule_fire(&self, schedule_id: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT fire_at FROM schedule_fires WHERE schedule_id = $1 AND outcome = 'queued' LIMIT 1",
        )
        .bind(schedule_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Claims the fire of `schedule_id` at `fire_at`: moves `next_fire_at` from `due_at` to
    /// `next` (only if no one else did), records the fire with `outcome`, and inserts `run`,
    /// all in one transaction.
    pub async fn claim_schedule_fire(
        &self,
        schedule_id: &str,
        due_at: i64,
        next: Option<i64>,
        fire_at: Option<(i64, &str)>,
        run: Option<&NewRun>,
    ) -> Result<FireClaim, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let advanced = sqlx::query(
            "UPDATE schedules SET next_fire_at = $1 WHERE id = $2 AND next_fire_at = $3",
        )
        .bind(next)
        .bind(schedule_id)
        .bind(due_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if advanced == 0 {
            return Ok(FireClaim::Lost);
        }
        let Some((fire_at, outcome)) = fire_at else {
            tx.commit().await?;
            return Ok(FireClaim::Fired(None));
        };
        let run_id = match run {
            Some(run) => Some(insert_run(&mut tx, run).await?),
            None => None,
        };
        let recorded = sqlx::query(
            "INSERT INTO schedule_fires (schedule_id, fire_at, outcome, run_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (schedule_id, fire_at) DO NOTHING",
        )
        .bind(schedule_id)
        .bind(fire_at)
        .bind(outcome)
        .bind(&run_id)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if recorded == 0 {
            // Dropping the transaction rolls the run back with it.
            return Ok(FireClaim::Lost);
        }
        if outcome == "skipped" {
            notify_skipped(&mut tx, schedule_id, fire_at).await?;
        }
        tx.commit().await?;
        metrics::counter!("aura_schedule_fires_total", "outcome" => outcome.to_owned())
            .increment(1);
        let Some(run_id) = run_id else {
            return Ok(FireClaim::Fired(None));
        };
        if let Some(run) = run {
            count_run_start(run);
        }
        Ok(FireClaim::Fired(self.find_run(&run_id).await?))
    }

    /// Starts the run of a queued fire, once: the fire turns from `queued` to `started`.
    pub async fn start_queued_schedule_fire(
        &self,
        schedule_id: &str,
        fire_at: i64,
        run: &NewRun,
    ) -> Result<FireClaim, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let run_id = insert_run(&mut tx, run).await?;
        let claimed = sqlx::query(
            "UPDATE schedule_fires SET outcome = 'started', run_id = $1 \
             WHERE schedule_id = $2 AND fire_at = $3 AND outcome = 'queued'",
        )
        .bind(&run_id)
        .bind(schedule_id)
        .bind(fire_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(FireClaim::Lost);
        }
        tx.commit().await?;
        count_run_start(run);
        Ok(FireClaim::Fired(self.find_run(&run_id).await?))
    }

    /// Drops a queued fire that can no longer start (its schedule or workflow is gone).
    pub async fn drop_queued_schedule_fire(
        &self,
        schedule_id: &str,
        fire_at: i64,
    ) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "UPDATE schedule_fires SET outcome = 'skipped' WHERE schedule_id = $1 AND fire_at = $2 AND outcome = 'queued'",
        )
        .bind(schedule_id)
        .bind(fire_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A schedule by id alone, for the scheduler.
    pub async fn schedule_by_id(&self, id: &str) -> Result<Option<ScheduleRow>, StoreError> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM schedules WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
