//! Decisions on `approval` steps: a person approves or rejects a waiting step (checked,
//! stored with who and when, audited in the same transaction), or its timeout decides.
//! The decision becomes the step's output, `{approved, comment, decided_by, decided_at,
//! timed_out}`, which later steps read.

use crate::definition::{ApprovalConfig, StepKind, TimeoutOutcome};
use crate::engine::Engine;
use crate::runner::taken_edges;
use crate::validate::Problem;
use crate::workflows::WorkflowError;
use aura_store::{
    AuditAction, ChangeSet, Conflict, Decided, FileChange, NewAuditEvent, NewNotification, NewWait,
    Principal, Run, StepOutcome, StepStatus,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The longest comment a decision keeps, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// How many expired waits one sweep ends.
const SWEEP_BATCH: i64 = 100;

/// What a step proposes to change (`output.changes`): files of one of the run owner's
/// projects, each with its new content and the revision it was based on.
#[derive(Debug, Clone, Deserialize)]
struct ProposedChanges {
    project: String,
    files: Vec<FileChange>,
}

/// What a waiting approval would apply: the files and their conflicts (a conflict with
/// no path stands in the way of the whole change set).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChanges {
    pub project_id: Option<String>,
    pub files: Vec<FileChange>,
    pub conflicts: Vec<Conflict>,
}

/// One file of a proposed change: the text it was based on and the text proposed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeDiff {
    pub path: String,
    pub base_revision: Option<i64>,
    /// The base revision's text; `None` for a new file or one deleted since.
    pub original: Option<String>,
    pub proposed: String,
}

/// A change set read from a run (or made by an agent with `apply: auto`), ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proposal {
    pub project_id: String,
    pub files: Vec<FileChange>,
    pub note: String,
}

/// A person's answer to a waiting `approval` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub approved: bool,
    pub comment: String,
}

impl Engine {
    /// Records `decision` on the run's waiting `step_id`, by `actor` (the run's owner), and
    /// lets the run go on. `InvalidState` when the step is not waiting.
    pub async fn decide(
        &self,
        actor: &Principal,
        run_id: &str,
        step_id: &str,
        decision: &Decision,
    ) -> Result<Run, WorkflowError> {
        let comment = decision.comment.trim();
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(WorkflowError::Invalid(vec![Problem {
                step: None,
                field: "comment".to_owned(),
                message: format!("A comment can have at most {MAX_COMMENT_CHARS} characters."),
            }]));
        }
        let run = self.run(actor, run_id).await?;
        let dag = self.dag(&run).await?;
        let Some(step) = dag.step(step_id).filter(|s| s.kind == StepKind::Approval) else {
            return Err(WorkflowError::NotFound);
        };
        let waiting = self
            .store()
            .step_runs(&run.id)
            .await?
            .into_iter()
            .find(|s| s.step_id == step_id)
            .map(|s| s.status);
        if waiting != Some(StepStatus::Waiting) {
            return Err(not_waiting(waiting));
        }
        let config: ApprovalConfig = serde_json::from_value(step.config.clone())
            .map_err(|e| WorkflowError::Unexpected(e.into()))?;
        let proposal = match (&config.apply, decision.approved) {
            (Some(source), true) => Some(self.proposal(&run, step_id, source).await?),
            _ => None,
        };
        let output = json!({
            "approved": decision.approved,
            "comment": comment,
            "decided_by": actor.user.email,
            "decided_by_id": actor.user.id,
            "decided_at": aura_store::now_millis(),
            "timed_out": false,
            "applied": applied(proposal.as_ref()),
        });
        let audit = NewAuditEvent::success_by(
            actor,
            AuditAction::ApprovalDecide,
            json!({
                "run_id": run.id, "step_id": step_id,
                "approved": decision.approved, "comment": comment,
            }),
        );
        match self
            .record_decision(&run, &dag, step, &output, Some(&audit), proposal.as_ref())
            .await?
        {
            Decided::Done => {}
            Decided::NotWaiting => {
                // Between the read and the write: a timeout, a cancel, or another tab.
                let now = self.store().step_runs(&run.id).await?;
                return Err(not_waiting(
                    now.into_iter()
                        .find(|s| s.step_id == step_id)
                        .map(|s| s.status),
                ));
            }
            Decided::Conflicts(conflicts) => {
                return Err(WorkflowError::InvalidState(format!(
                    "The changes cannot be applied, and nothing was: {}. Reject them, or run \
                     the workflow again on the current files.",
                    describe(&conflicts)
                )));
            }
        }
        self.notify(&run.id, false);
        self.run(actor, run_id).await
    }

    /// Ends the waits whose timeout passed, as each step's `on_timeout` says. Every runner
    /// calls this as it sweeps; each wait ends once, whoever gets there first. Returns how
    /// many ended.
    pub async fn end_expired_waits(&self) -> Result<usize, WorkflowError> {
        let now = aura_store::now_millis();
        let expired = self.store().expired_waits(now, SWEEP_BATCH).await?;
        let mut ended = 0;
        for (run_id, step_id) in expired {
            let Some(run) = self.store().find_run(&run_id).await? else {
                continue;
            };
            let dag = self.dag(&run).await?;
            let Some(step) = dag.step(&step_id) else {
                continue;
            };
            let config: ApprovalConfig = serde_json::from_value(step.config.clone())
                .map_err(|e| WorkflowError::Unexpected(e.into()))?;
            let minutes = config.timeout_minutes.unwrap_or_default();
            let done = match config.on_timeout {
                TimeoutOutcome::Fail => {
                    let error = format!(
                        "Nobody decided within {} (timeout_minutes), and the step is set to fail \
                         then (on_timeout).",
                        minutes_text(minutes)
                    );
                    self.store()
                        .fail_waiting_step(&run_id, &step_id, &error)
                        .await?
                }
                outcome => {
                    let approved = outcome == TimeoutOutcome::Approve;
                    let proposal = match (&config.apply, approved) {
                        (Some(source), true) => match self.proposal(&run, &step_id, source).await {
                            Ok(p) => Some(p),
                            Err(WorkflowError::InvalidState(why)) => {
                                self.fail_expired(&run_id, &step_id, &why).await?;
                                ended += 1;
                                continue;
                            }
                            Err(err) => return Err(err),
                        },
                        _ => None,
                    };
                    let output = json!({
                        "approved": approved,
                        "comment": format!(
                            "Nobody decided within {}; the timeout {} it.",
                            minutes_text(minutes),
                            if approved { "approved" } else { "rejected" }
                        ),
                        "decided_by": Value::Null,
                        "decided_by_id": Value::Null,
                        "decided_at": now,
                        "timed_out": true,
                        "applied": applied(proposal.as_ref()),
                    });
                    match self
                        .record_decision(&run, &dag, step, &output, None, proposal.as_ref())
                        .await?
                    {
                        Decided::Done => true,
                        Decided::NotWaiting => false,
                        Decided::Conflicts(conflicts) => {
                            let why = format!(
                                "The timeout approved, but the changes cannot be applied: {}.",
                                describe(&conflicts)
                            );
                            self.fail_expired(&run_id, &step_id, &why).await?
                        }
                    }
                }
            };
            if done {
                ended += 1;
                self.notify(&run_id, false);
            }
        }
        Ok(ended)
    }

    /// Ends the wait of `step` with `output`, applying `proposal` and recording `audit`
    /// in the same transaction, and moves the run on.
    async fn record_decision(
        &self,
        run: &Run,
        dag: &crate::Dag,
        step: &crate::StepDefinition,
        output: &Value,
        audit: Option<&NewAuditEvent>,
        proposal: Option<&Proposal>,
    ) -> Result<Decided, WorkflowError> {
        let outcome = StepOutcome {
            edges: taken_edges(step, None),
            successors: dag.successors(),
        };
        let set = proposal.map(|p| self.change_set(p, &run.owner_id));
        Ok(self
            .store()
            .decide_step(
                &run.id,
                &step.id,
                &output.to_string(),
                &outcome,
                audit,
                set.as_ref(),
            )
            .await?)
    }

    async fn fail_expired(
        &self,
        run_id: &str,
        step_id: &str,
        why: &str,
    ) -> Result<bool, WorkflowError> {
        Ok(self.store().fail_waiting_step(run_id, step_id, why).await?)
    }

    /// The change set `source` (an earlier step of the run) proposed, checked to be in one
    /// of the run owner's projects: a step's output is the workflow's to shape, and must
    /// never reach someone else's files.
    async fn proposal(
        &self,
        run: &Run,
        step_id: &str,
        source: &str,
    ) -> Result<Proposal, WorkflowError> {
        let outputs = self.store().step_outputs(&run.id).await?;
        let output = outputs
            .iter()
            .find(|(id, _)| id == source)
            .map(|(_, output)| output.as_str())
            .ok_or_else(|| {
                WorkflowError::InvalidState(format!(
                    "Step `{source}`, whose changes this approves, did not succeed."
                ))
            })?;
        let changes = serde_json::from_str::<Value>(output)
            .ok()
            .and_then(|o| serde_json::from_value::<ProposedChanges>(o["changes"].clone()).ok())
            .ok_or_else(|| {
                WorkflowError::InvalidState(format!(
                    "Step `{source}` proposed no changes (its output has no `changes` with a \
                     project and files)."
                ))
            })?;
        let project = self
            .store()
            .find_project(&run.owner_id, &changes.project)
            .await?
            .ok_or_else(|| {
                WorkflowError::InvalidState(format!(
                    "The changes are for a project that is not among the run owner's: `{}`.",
                    changes.project
                ))
            })?;
        let mut note = format!("Run {}, step {source}, approved at {step_id}", run.id);
        note.truncate(200);
        Ok(Proposal {
            project_id: project.id,
            files: changes.files,
            note,
        })
    }

    pub(crate) fn change_set<'a>(
        &self,
        proposal: &'a Proposal,
        author_id: &'a str,
    ) -> ChangeSet<'a> {
        ChangeSet {
            project_id: &proposal.project_id,
            files: &proposal.files,
            note: &proposal.note,
            author_id,
            limits: self.project_limits(),
        }
    }

    /// The changes a waiting approval would apply, and what stands in the way of each
    /// (for the approver to see before deciding). `None` when it applies nothing.
    pub async fn pending_changes(
        &self,
        owner: &Principal,
        run_id: &str,
        step_id: &str,
    ) -> Result<Option<PendingChanges>, WorkflowError> {
        let run = self.run(owner, run_id).await?;
        let dag = self.dag(&run).await?;
        let Some(step) = dag.step(step_id).filter(|s| s.kind == StepKind::Approval) else {
            return Err(WorkflowError::NotFound);
        };
        let config: ApprovalConfig = serde_json::from_value(step.config.clone())
            .map_err(|e| WorkflowError::Unexpected(e.into()))?;
        let Some(source) = config.apply else {
            return Ok(None);
        };
        Ok(Some(match self.proposal(&run, step_id, &source).await {
            Ok(p) => PendingChanges {
                conflicts: self
                    .store()
                    .change_set_conflicts(&p.project_id, &p.files)
                    .await?,
                project_id: Some(p.project_id),
                files: p.files,
            },
            Err(WorkflowError::InvalidState(reason)) => PendingChanges {
                project_id: None,
                files: Vec::new(),
                conflicts: vec![Conflict {
                    path: String::new(),
                    reason,
                }],
            },
            Err(err) => return Err(err),
        }))
    }

    /// One file a waiting approval would write: its text at the revision the change was
    /// based on (none for a new file, or one gone since) and the proposed text, for the
    /// approver's diff. `NotFound` when the approval proposes no such file.
    pub async fn change_diff(
        &self,
        owner: &Principal,
        run_id: &str,
        step_id: &str,
        path: &str,
    ) -> Result<ChangeDiff, WorkflowError> {
        let pending = self
            .pending_changes(owner, run_id, step_id)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        let project = pending.project_id.ok_or(WorkflowError::NotFound)?;
        let file = pending
            .files
            .into_iter()
            .find(|f| f.path == path)
            .ok_or(WorkflowError::NotFound)?;
        let original = match file.base_revision {
            Some(revision) => match self.store().find_entry_by_path(&project, path).await? {
                Some(entry) => self.store().read_revision(&entry.id, revision).await?,
                None => None,
            },
            None => None,
        };
        Ok(ChangeDiff {
            path: file.path,
            base_revision: file.base_revision,
            original,
            proposed: file.content,
        })
    }

    /// Every agent transcript of the run, by step id (in the order of their entries).
    pub async fn agent_transcripts(
        &self,
        owner: &Principal,
        run_id: &str,
    ) -> Result<std::collections::BTreeMap<String, Vec<crate::TranscriptEntry>>, WorkflowError>
    {
        let run = self.run(owner, run_id).await?;
        let mut by_step: std::collections::BTreeMap<String, Vec<aura_store::AgentTurn>> =
            Default::default();
        for (step, turn) in self.store().agent_turns_of_run(&run.id).await? {
            by_step.entry(step).or_default().push(turn);
        }
        by_step
            .into_iter()
            .map(|(step, turns)| {
                crate::agent::transcript::entries(&turns)
                    .map(|entries| (step, entries))
                    .map_err(|e| WorkflowError::Unexpected(anyhow::anyhow!(e)))
            })
            .collect()
    }

    /// What a step that starts waiting records: the request it shows, when the wait ends
    /// by itself, and the notice that tells the run's owner.
    pub(crate) async fn wait_of<'a>(
        &self,
        run: &Run,
        step_id: &str,
        request: &'a str,
        until: Option<i64>,
    ) -> Result<NewWait<'a>, WorkflowError> {
        let name = self
            .store()
            .find_workflow(&run.owner_id, &run.workflow_id)
            .await?
            .map_or_else(|| "a workflow".to_owned(), |w| w.name);
        let message = serde_json::from_str::<Value>(request)
            .ok()
            .and_then(|r| r["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut body = message.trim().to_owned();
        if body.chars().count() > 300 {
            body = body.chars().take(299).collect::<String>() + "…";
        }
        Ok(NewWait {
            request,
            until,
            notice: NewNotification {
                user_id: run.owner_id.clone(),
                kind: "approval_waiting",
                subject: format!("approval:{}:{step_id}", run.id),
                title: format!("A run of {name} waits for your approval"),
                body,
                link: Some(format!("/runs/{}", run.id)),
            },
        })
    }
}

/// What an approval applied, for its output: the project and the files.
pub(crate) fn applied(proposal: Option<&Proposal>) -> Value {
    proposal.map_or(Value::Null, |p| {
        json!({
            "project": p.project_id,
            "files": p.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        })
    })
}

/// Conflicts in one sentence: `a.py: It changed since …; b.py: …`.
pub(crate) fn describe(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(|c| {
            if c.path.is_empty() {
                c.reason.trim_end_matches('.').to_owned()
            } else {
                format!("{}: {}", c.path, c.reason.trim_end_matches('.'))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn not_waiting(status: Option<StepStatus>) -> WorkflowError {
    WorkflowError::InvalidState(match status {
        Some(status) => format!("This step is not waiting for a decision; it is {status}."),
        None => "This step has not started yet.".to_owned(),
    })
}

fn minutes_text(minutes: u32) -> String {
    match minutes {
        1 => "1 minute".to_owned(),
        m if m % (24 * 60) == 0 => format!("{} day(s)", m / (24 * 60)),
        m if m % 60 == 0 => format!("{} hour(s)", m / 60),
        m => format!("{m} minutes"),
    }
}
