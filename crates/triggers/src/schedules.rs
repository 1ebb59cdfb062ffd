//! Schedules: a cron expression in an IANA time zone, or "every N minutes/hours", that
//! starts runs of a workflow with a fixed input; and the scheduler every instance runs.
//!
//! - **Exactly once.** A fire is claimed in the transaction that advances the schedule,
//!   under a unique `(schedule, fire time)`, with its run; see `aura_store::schedules`.
//! - **Overlap** (the previous run still queued, running or waiting): `skip` (the default) records
//!   the fire as skipped; `queue` keeps one fire waiting and starts it when the previous
//!   run ends (later fires meanwhile are skipped); `allow` starts every fire.
//! - **Catch-up** after downtime (a fire more than [`LATE_AFTER_MS`] overdue): `none` (the
//!   default) skips what was missed; `last` fires the latest missed time once, when it is
//!   within the window. Never a burst of every missed fire.
//! - **Daylight saving** is the cron module's: a wall-clock time that does not exist does
//!   not fire, one that occurs twice fires once.
//!
//! The scheduler takes the time as an argument ([`Scheduler::tick`]), so tests drive it
//! with simulated instants instead of sleeping.

use crate::cron::Cron;
use aura_engine::{Engine, WorkflowError};
use aura_store::{
    AuditAction, Credential, FireClaim, NewAuditEvent, Principal, ScheduleRow, ScheduleSettings,
    Store, StoreError,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// A fire more overdue than this was missed (Aura was down), not merely late.
pub const LATE_AFTER_MS: i64 = 60_000;
/// The most schedules one workflow may have.
pub const MAX_PER_WORKFLOW: usize = 20;
/// The longest catch-up window: a week.
const MAX_WINDOW_SECS: u32 = 7 * 24 * 3600;
const PREVIEW: usize = 5;

/// How often a schedule fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Five fields (`minute hour day month weekday`) in the schedule's time zone.
    Cron { expression: String },
    /// Every `count` minutes or hours of real time, from when the schedule was saved.
    Every { count: u32, unit: Unit },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Minutes,
    Hours,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    Skip,
    Queue,
    Allow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    None,
    Last,
}

/// A schedule's settings as a caller gives them.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// 1 to 80 characters.
    pub name: String,
    pub rule: Rule,
    /// An IANA zone such as `Europe/Berlin` (default `UTC`); cron times are its wall clock.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The runs' input: a JSON object (default `{}`); each run also gets `schedule`.
    #[serde(default)]
    pub input: Option<Value>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// When the previous run is still going: `skip` (default), `queue` or `allow`.
    #[serde(default)]
    pub overlap: Option<Overlap>,
    /// After downtime: `none` (default) or `last` (the latest missed fire, once).
    #[serde(default)]
    pub catch_up: Option<CatchUp>,
    /// How old a missed fire `last` still runs (seconds, default 3600).
    #[serde(default)]
    pub catch_up_window_secs: Option<u32>,
}

/// A schedule as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Schedule {
    pub id: String,
    pub workflow_id: String,
    pub name: String,
    pub rule: Rule,
    /// The rule in words: "at 09:00 on Monday to Friday", "every 13 hours".
    pub description: String,
    pub timezone: String,
    pub input: Value,
    pub enabled: bool,
    pub overlap: Overlap,
    pub catch_up: CatchUp,
    pub catch_up_window_secs: u32,
    /// Milliseconds since the epoch; `None` when disabled or never again.
    pub next_fire_at: Option<i64>,
    /// The next fires, as instants and as the zone's wall-clock time.
    pub upcoming: Vec<Upcoming>,
    pub last_fire_at: Option<i64>,
    /// `started`, `skipped`, `queued`.
    pub last_outcome: Option<String>,
    pub last_run_id: Option<String>,
    pub last_run_status: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One coming fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Upcoming {
    pub at: i64,
    /// The zone's wall-clock time, e.g. `2026-03-30 09:00 CEST`.
    pub local: String,
}

/// What a spec would do, before saving it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub description: String,
    pub timezone: String,
    pub upcoming: Vec<Upcoming>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("no such schedule")]
    NotFound,
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, String),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A parsed rule with its zone: what computes fire times.
#[derive(Debug, Clone)]
struct Timing {
    rule: Rule,
    cron: Option<Cron>,
    tz: TimeZone,
    anchor_at: i64,
}

impl Timing {
    fn new(rule: &Rule, timezone: &str, anchor_at: i64) -> Result<Self, ScheduleError> {
        let tz = jiff::tz::db().get(timezone).map_err(|_| {
            ScheduleError::Invalid(
                "timezone",
                format!("`{timezone}` is not an IANA time zone (such as Europe/Berlin or America/New_York)."),
            )
        })?;
        let cron = match rule {
            Rule::Cron { expression } => Some(
                Cron::parse(expression)
                    .map_err(|e| ScheduleError::Invalid("rule.expression", format!("{e}.")))?,
            ),
            Rule::Every { count, unit } => {
                let minutes = minutes(*count, *unit);
                if *count == 0 || minutes > 366 * 24 * 60 {
                    return Err(ScheduleError::Invalid(
                        "rule.count",
                        "Use every 1 minute to every 8784 hours (a year).".into(),
                    ));
                }
                None
            }
        };
        Ok(Self {
            rule: rule.clone(),
            cron,
            tz,
            anchor_at,
        })
    }

    fn from_row(row: &ScheduleRow) -> Result<Self, ScheduleError> {
        Self::new(&rule_of(row), &row.timezone, row.anchor_at)
    }

    /// The first fire strictly after `after` (milliseconds).
    fn next_after(&self, after: i64) -> Option<i64> {
        match (&self.rule, &self.cron) {
            (Rule::Every { count, unit }, _) => {
                let period = minutes(*count, *unit) * 60_000;
                let steps = if after < self.anchor_at {
                    0
                } else {
                    (after - self.anchor_at) / period + 1
                };
                Some(self.anchor_at + steps * period)
            }
            (Rule::Cron { .. }, Some(cron)) => {
                let after = Timestamp::from_millisecond(after).ok()?;
                cron.next_after(&self.tz, after).map(|t| t.as_millisecond())
            }
            (Rule::Cron { .. }, None) => None,
        }
    }

    /// The latest fire at or before `at`, no earlier than `since`.
    fn last_between(&self, since: i64, at: i64) -> Option<i64> {
        let mut t = self.next_after(since - 1)?;
        if t > at {
            return None;
        }
        // Bounded by the window: at most a week of minutes.
        while let Some(next) = self.next_after(t) {
            if next > at {
                break;
            }
            t = next;
        }
        Some(t)
    }

    fn describe(&self) -> String {
        match (&self.rule, &self.cron) {
            (
                Rule::Every {
                    count: 1,
                    unit: Unit::Minutes,
                },
                _,
            ) => "every minute".into(),
            (
                Rule::Every {
                    count: 1,
                    unit: Unit::Hours,
                },
                _,
            ) => "every hour".into(),
            (
                Rule::Every {
                    count,
                    unit: Unit::Minutes,
                },
                _,
            ) => format!("every {count} minutes"),
            (
                Rule::Every {
                    count,
                    unit: Unit::Hours,
                },
                _,
            ) => format!("every {count} hours"),
            (Rule::Cron { .. }, Some(cron)) => cron.describe(),
            (Rule::Cron { expression }, None) => expression.clone(),
        }
    }

    fn upcoming(&self, after: i64, n: usize) -> Vec<Upcoming> {
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < n {
            let Some(next) = self.next_after(t) else {
                break;
            };
            out.push(Upcoming {
                at: next,
                local: Timestamp::from_millisecond(next)
                    .map(|ts| {
                        ts.to_zoned_datetime(self.tz.clone())
                            .strftime("%Y-%m-%d %H:%M %Z")
                            .to_string()
                    })
                    .unwrap_or_default(),
            });
            t = next;
        }
        out
    }
}

fn minutes(count: u32, unit: Unit) -> i64 {
    i64::from(count)
        * match unit {
            Unit::Minutes => 1,
            Unit::Hours => 60,
        }
}

fn rule_of(row: &ScheduleRow) -> Rule {
    match row.kind.as_str() {
        "every" => Rule::Every {
            count: u32::try_from(row.every_count.unwrap_or(1)).unwrap_or(1),
            unit: if row.every_unit.as_deref() == Some("hours") {
                Unit::Hours
            } else {
                Unit::Minutes
            },
        },
        _ => Rule::Cron {
            expression: row.cron.clone().unwrap_or_default(),
        },
    }
}

#[derive(Debug, Clone)]
pub struct Schedules {
    store: Store,
    engine: Engine,
}

impl Schedules {
    pub fn new(store: Store, engine: Engine) -> Self {
        Self { store, engine }
    }

    /// What `spec` would do from `now`: its description and next fires.
    pub fn preview(&self, spec: &ScheduleSpec, now: i64) -> Result<Preview, ScheduleError> {
        let timezone = spec.timezone.clone().unwrap_or_else(|| "UTC".into());
        let timing = Timing::new(&spec.rule, &timezone, anchor(now))?;
        Ok(Preview {
            description: timing.describe(),
            upcoming: timing.upcoming(now, PREVIEW),
            timezone,
        })
    }

    pub async fn list(
        &self,
        principal: &Principal,
        workflow_id: &str,
    ) -> Result<Vec<Schedule>, ScheduleError> {
        self.engine.workflows().get(principal, workflow_id).await?;
        let rows = self
            .store
            .workflow_schedules(principal.user_id(), workflow_id)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.view(row).await?);
        }
        Ok(out)
    }

    pub async fn get(&self, principal: &Principal, id: &str) -> Result<Schedule, ScheduleError> {
        let row = self
            .store
            .find_schedule(principal.user_id(), id)
            .await?
            .ok_or(ScheduleError::NotFound)?;
        self.view(row).await
    }

    pub async fn create(
        &self,
        principal: &Principal,
        workflow_id: &str,
        spec: ScheduleSpec,
    ) -> Result<Schedule, ScheduleError> {
        self.engine.workflows().get(principal, workflow_id).await?;
        let existing = self
            .store
            .workflow_schedules(principal.user_id(), workflow_id)
            .await?;
        if existing.len() >= MAX_PER_WORKFLOW {
            return Err(ScheduleError::Invalid(
                "workflow",
                format!("A workflow has at most {MAX_PER_WORKFLOW} schedules; delete one first."),
            ));
        }
        let settings = settings(spec, aura_store::now_millis())?;
        let id = aura_store::new_id();
        let row = self
            .store
            .insert_schedule(
                &id,
                workflow_id,
                principal.user_id(),
                &settings,
                &audit(principal, AuditAction::ScheduleCreate, &id, &settings.name),
            )
            .await?;
        self.view(row).await
    }

    /// Replaces a schedule's settings; its next fire is computed again from now.
    pub async fn update(
        &self,
        principal: &Principal,
        id: &str,
        spec: ScheduleSpec,
    ) -> Result<Schedule, ScheduleError> {
        let settings = settings(spec, aura_store::now_millis())?;
        let row = self
            .store
            .update_schedule(
                principal.user_id(),
                id,
                &settings,
                &audit(principal, AuditAction::ScheduleUpdate, id, &settings.name),
            )
            .await?
            .ok_or(ScheduleError::NotFound)?;
        self.view(row).await
    }

    /// Turns a schedule on (from its next time after now) or off, keeping the rest.
    pub async fn set_enabled(
        &self,
        principal: &Principal,
        id: &str,
        enabled: bool,
    ) -> Result<Schedule, ScheduleError> {
        let current = self.get(principal, id).await?;
        let spec = ScheduleSpec {
            name: current.name,
            rule: current.rule,
            timezone: Some(current.timezone),
            input: Some(current.input),
            enabled: Some(enabled),
            overlap: Some(current.overlap),
            catch_up: Some(current.catch_up),
            catch_up_window_secs: Some(current.catch_up_window_secs),
        };
        self.update(principal, id, spec).await
    }

    pub async fn delete(&self, principal: &Principal, id: &str) -> Result<(), ScheduleError> {
        let current = self
            .store
            .find_schedule(principal.user_id(), id)
            .await?
            .ok_or(ScheduleError::NotFound)?;
        if self
            .store
            .delete_schedule(
                principal.user_id(),
                id,
                &audit(principal, AuditAction::ScheduleDelete, id, &current.name),
            )
            .await?
        {
            Ok(())
        } else {
            Err(ScheduleError::NotFound)
        }
    }

    async fn view(&self, row: ScheduleRow) -> Result<Schedule, ScheduleError> {
        let timing = Timing::from_row(&row)?;
        let last = self.store.last_schedule_fire(&row.id).await?;
        let upcoming = match row.next_fire_at {
            Some(next) => timing.upcoming(next - 1, 3),
            None => Vec::new(),
        };
        Ok(Schedule {
            description: timing.describe(),
            rule: timing.rule,
            id: row.id,
            workflow_id: row.workflow_id,
            name: row.name,
            timezone: row.timezone,
            input: serde_json::from_str(&row.input).unwrap_or(Value::Null),
            enabled: row.enabled != 0,
            overlap: match row.overlap.as_str() {
                "queue" => Overlap::Queue,
                "allow" => Overlap::Allow,
                _ => Overlap::Skip,
            },
            catch_up: if row.catch_up == "last" {
                CatchUp::Last
            } else {
                CatchUp::None
            },
            catch_up_window_secs: u32::try_from(row.catch_up_window_secs).unwrap_or(0),
            next_fire_at: row.next_fire_at,
            upcoming,
            last_fire_at: last.as_ref().map(|l| l.fire_at),
            last_outcome: last.as_ref().map(|l| l.outcome.clone()),
            last_run_id: last.as_ref().and_then(|l| l.run_id.clone()),
            last_run_status: last.and_then(|l| l.run_status),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Intervals count from the next whole minute after saving.
fn anchor(now: i64) -> i64 {
    (now / 60_000 + 1) * 60_000
}

fn settings(spec: ScheduleSpec, now: i64) -> Result<ScheduleSettings, ScheduleError> {
    let name = spec.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(ScheduleError::Invalid(
            "name",
            "Name the schedule in 1 to 80 characters.".into(),
        ));
    }
    let timezone = spec
        .timezone
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "UTC".into());
    let anchor_at = anchor(now);
    let timing = Timing::new(&spec.rule, &timezone, anchor_at)?;
    let input = spec.input.unwrap_or_else(|| json!({}));
    if !input.is_object() {
        return Err(ScheduleError::Invalid(
            "input",
            "The input is a JSON object (its keys are what steps read as input.KEY).".into(),
        ));
    }
    let input = input.to_string();
    if input.len() > 64 * 1024 {
        return Err(ScheduleError::Invalid(
            "input",
            "The input is at most 64 KB.".into(),
        ));
    }
    let window = spec.catch_up_window_secs.unwrap_or(3600);
    if !(60..=MAX_WINDOW_SECS).contains(&window) {
        return Err(ScheduleError::Invalid(
            "catch_up_window_secs",
            format!("Use 60 to {MAX_WINDOW_SECS} seconds (a week)."),
        ));
    }
    let enabled = spec.enabled.unwrap_or(true);
    let next_fire_at = if enabled {
        let next = timing.next_after(now);
        if next.is_none() {
            return Err(ScheduleError::Invalid(
                "rule.expression",
                "This expression never fires (no such date in the next five years).".into(),
            ));
        }
        next
    } else {
        None
    };
    let (kind, cron, every_count, every_unit) = match &spec.rule {
        Rule::Cron { expression } => ("cron", Some(expression.trim().to_owned()), None, None),
        Rule::Every { count, unit } => (
            "every",
            None,
            Some(i64::from(*count)),
            Some(match unit {
                Unit::Minutes => "minutes".to_owned(),
                Unit::Hours => "hours".to_owned(),
            }),
        ),
    };
    Ok(ScheduleSettings {
        name,
        kind: kind.into(),
        cron,
        every_count,
        every_unit,
        anchor_at,
        timezone,
        input,
        enabled,
        overlap: match spec.overlap.unwrap_or(Overlap::Skip) {
            Overlap::Skip => "skip",
            Overlap::Queue => "queue",
            Overlap::Allow => "allow",
        }
        .into(),
        catch_up: match spec.catch_up.unwrap_or(CatchUp::None) {
            CatchUp::None => "none",
            CatchUp::Last => "last",
        }
        .into(),
        catch_up_window_secs: i64::from(window),
        next_fire_at,
    })
}

fn audit(principal: &Principal, action: AuditAction, id: &str, name: &str) -> NewAuditEvent {
    NewAuditEvent::success_by(principal, action, json!({ "schedule": id, "name": name }))
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    pub started: usize,
    pub skipped: usize,
    pub queued: usize,
}

/// Fires due schedules. Every instance runs one; the database decides who fires what.
#[derive(Debug, Clone)]
pub struct Scheduler {
    store: Store,
    engine: Engine,
}

impl Scheduler {
    pub fn new(store: Store, engine: Engine) -> Self {
        Self { store, engine }
    }

    /// Runs [`Scheduler::tick`] every `period` with the system clock until `shutdown`.
    pub async fn work(self, period: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(err) = self.tick(aura_store::now_millis()).await {
                tracing::warn!(error = %err, "the scheduler's tick failed");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(period) => {}
            }
        }
    }

    /// One pass at `now` (milliseconds): starts queued fires whose previous run ended,
    /// then fires every due schedule.
    pub async fn tick(&self, now: i64) -> Result<Tick, ScheduleError> {
        let mut tick = Tick::default();
        for (schedule_id, fire_at) in self.store.queued_schedule_fires().await? {
            self.start_queued(&schedule_id, fire_at, &mut tick).await?;
        }
        for row in self.store.due_schedules(now, 100).await? {
            if let Err(err) = self.fire(&row, now, &mut tick).await {
                tracing::warn!(schedule = %row.id, error = %err, "could not fire a schedule");
            }
        }
        Ok(tick)
    }

    async fn fire(
        &self,
        row: &ScheduleRow,
        now: i64,
        tick: &mut Tick,
    ) -> Result<(), ScheduleError> {
        let Some(due_at) = row.next_fire_at else {
            return Ok(());
        };
        let timing = Timing::from_row(row)?;
        let late = now - due_at > LATE_AFTER_MS;
        let (fire_at, next) = if late {
            let next = timing.next_after(now);
            let caught = (row.catch_up == "last")
                .then(|| timing.last_between(now - row.catch_up_window_secs * 1000, now))
                .flatten()
                .filter(|at| *at >= due_at);
            (caught, next)
        } else {
            (Some(due_at), timing.next_after(due_at))
        };
        let Some(fire_at) = fire_at else {
            // Missed during downtime, and not caught up: move on.
            self.store
                .claim_schedule_fire(&row.id, due_at, next, None, None)
                .await?;
            return Ok(());
        };
        let going = matches!(
            self.store
                .last_schedule_run_status(&row.id)
                .await?
                .as_deref(),
            Some("queued" | "running" | "waiting")
        );
        let outcome = match (row.overlap.as_str(), going) {
            (_, false) | ("allow", true) => "started",
            ("queue", true) if !self.store.has_queued_schedule_fire(&row.id).await? => "queued",
            _ => "skipped",
        };
        let run = if outcome == "started" {
            match self.new_run(row, fire_at).await {
                Ok(run) => Some(run),
                Err(ScheduleError::Workflow(WorkflowError::NotFound)) => None,
                Err(err) => return Err(err),
            }
        } else {
            None
        };
        let outcome = if outcome == "started" && run.is_none() {
            "skipped"
        } else {
            outcome
        };
        match self
            .store
            .claim_schedule_fire(
                &row.id,
                due_at,
                next,
                Some((fire_at, outcome)),
                run.as_ref(),
            )
            .await?
        {
            FireClaim::Fired(Some(run)) => {
                self.engine.notify(&run.id, false);
                tick.started += 1;
            }
            FireClaim::Fired(None) if outcome == "queued" => tick.queued += 1,
            FireClaim::Fired(None) => {
                tick.skipped += 1;
                tracing::info!(schedule = %row.id, fire_at, "schedule fire skipped: the previous run is still going");
            }
            FireClaim::Lost => {}
        }
        Ok(())
    }

    async fn start_queued(
        &self,
        schedule_id: &str,
        fire_at: i64,
        tick: &mut Tick,
    ) -> Result<(), ScheduleError> {
        let Some(row) = self.store.schedule_by_id(schedule_id).await? else {
            return Ok(());
        };
        if matches!(
            self.store
                .last_schedule_run_status(schedule_id)
                .await?
                .as_deref(),
            Some("queued" | "running" | "waiting")
        ) {
            return Ok(());
        }
        let run = match self.new_run(&row, fire_at).await {
            Ok(run) => run,
            Err(ScheduleError::Workflow(WorkflowError::NotFound)) => {
                self.store
                    .drop_queued_schedule_fire(schedule_id, fire_at)
                    .await?;
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        if let FireClaim::Fired(Some(run)) = self
            .store
            .start_queued_schedule_fire(schedule_id, fire_at, &run)
            .await?
        {
            self.engine.notify(&run.id, false);
            tick.started += 1;
        }
        Ok(())
    }

    /// The run of a fire: the schedule's input plus `schedule: {id, name, fire_at}`.
    async fn new_run(
        &self,
        row: &ScheduleRow,
        fire_at: i64,
    ) -> Result<aura_store::NewRun, ScheduleError> {
        let owner = self
            .store
            .find_user(&row.owner_id)
            .await?
            .ok_or(ScheduleError::NotFound)?;
        let principal = Principal {
            user: owner,
            credential: Credential::Trigger {
                trigger_id: row.id.clone(),
            },
            origin: aura_store::Origin {
                ip: "scheduler".into(),
                ..Default::default()
            },
        };
        let mut input: Value = serde_json::from_str(&row.input).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut input {
            let at = Timestamp::from_millisecond(fire_at)
                .map(|t| t.to_string())
                .unwrap_or_default();
            map.insert(
                "schedule".into(),
                json!({ "id": row.id, "name": row.name, "fire_at": at }),
            );
        }
        Ok(self
            .engine
            .new_run(
                &principal,
                &row.workflow_id,
                &input,
                Some(("schedule", row.id.clone())),
            )
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn every_n_hours_counts_real_time_from_the_anchor_and_reads_as_said() {
        let anchor = ms("2026-03-28T22:00:00Z");
        let timing = Timing::new(
            &Rule::Every {
                count: 13,
                unit: Unit::Hours,
            },
            "Europe/Berlin",
            anchor,
        )
        .unwrap();
        assert_eq!(timing.describe(), "every 13 hours", "not quietly */13");
        let fires: Vec<String> = timing
            .upcoming(anchor - 1, 3)
            .into_iter()
            .map(|u| u.local)
            .collect();
        // Across Berlin's spring-forward: 13 real hours apart each time.
        assert_eq!(
            fires,
            [
                "2026-03-28 23:00 CET",
                "2026-03-29 13:00 CEST",
                "2026-03-30 02:00 CEST"
            ]
        );
    }

    #[test]
    fn zones_are_names_from_the_database_never_paths() {
        let every = Rule::Every {
            count: 1,
            unit: Unit::Hours,
        };
        for bad in ["../../../etc/passwd", "/etc/localtime", "Mars/Olympus", ""] {
            assert!(Timing::new(&every, bad, 0).is_err(), "{bad:?}");
        }
        assert!(Timing::new(&every, "America/New_York", 0).is_ok());
    }

    #[test]
    fn the_last_missed_fire_is_found_within_a_window() {
        let timing = Timing::new(
            &Rule::Cron {
                expression: "0 * * * *".into(),
            },
            "UTC",
            0,
        )
        .unwrap();
        let now = ms("2026-06-01T05:20:00Z");
        assert_eq!(
            timing.last_between(now - 3_600_000, now),
            Some(ms("2026-06-01T05:00:00Z"))
        );
        assert_eq!(timing.last_between(now - 600_000, now), None);
    }
}
