//! The engine's front door: starting, listing, cancelling and resuming runs, and the
//! in-process signal bus that wakes live event streams and cancels running steps.

use crate::dag::Dag;
use crate::definition::WorkflowDefinition;
use crate::exec::Executors;
use crate::runner::{Runner, RunnerConfig};
use crate::secrets::Secrets;
use crate::workflows::{WorkflowError, Workflows};
use aura_store::{
    NewRun, NewStep, Principal, Run, RunEvent, RunFilter, RunStatus, RunSummary, StepRun,
    StepStatus, Store, WorkflowVersion,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Something happened to a run: new events were stored, or it was cancelled.
/// A run, its steps, and its output (see [`Engine::run_with_steps`]).
#[derive(Debug, Clone)]
pub struct RunDetail {
    pub run: Run,
    pub steps: Vec<StepRun>,
    pub output: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSignal {
    pub run_id: String,
    pub cancelled: bool,
}

/// Graphs by (workflow id, version).
type DagCache = HashMap<(String, i64), Arc<Dag>>;
type LayoutCache = HashMap<(String, i64), Arc<aura_types::StepPositions>>;

/// Shared by every runner and request handler of a process. Cloning is cheap.
/// A page of runs, and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    pub next_cursor: Option<String>,
}

impl RunPage {
    /// `created_at.id` of a run: the next page starts after it.
    pub fn cursor_of(run: &RunSummary) -> String {
        format!("{}.{}", run.created_at, run.id)
    }

    /// A cursor back into [`RunFilter::before`]; `None` when it is not one.
    pub fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
        let (at, id) = cursor.split_once('.')?;
        Some((at.parse().ok()?, id.to_owned()))
    }
}

#[derive(Clone)]
pub struct Engine {
    store: Store,
    workflows: Workflows,
    executors: Arc<Executors>,
    signals: broadcast::Sender<RunSignal>,
    /// Each workflow version's graph, built once: versions never change.
    dags: Arc<Mutex<DagCache>>,
    /// Laid-out versions (those saved without positions), the most recent
    /// [`LAYOUTS_KEPT`], and the one permit that lets one layout compute at a time.
    layouts: Arc<(Mutex<LayoutCache>, tokio::sync::Semaphore)>,
    /// Users with a "Tidy up" queued or computing: one each, so nobody can fill the one
    /// layout slot's queue and make everyone else wait behind them.
    laying_out: Arc<Mutex<std::collections::HashSet<String>>>,
    /// Users' workflow secrets; without them, templates cannot read `secrets`.
    secrets: Option<Secrets>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// The layered layout of `definition`, off the async workers.
async fn lay_out(
    definition: WorkflowDefinition,
) -> Result<aura_types::StepPositions, WorkflowError> {
    tokio::task::spawn_blocking(move || crate::layout(&definition).positions())
        .await
        .map_err(|e| WorkflowError::Unexpected(e.into()))
}

/// A user's one layout in progress; dropping it frees their turn.
struct LayoutTurn {
    users: Arc<Mutex<std::collections::HashSet<String>>>,
    user: String,
}

impl LayoutTurn {
    fn take(
        users: &Arc<Mutex<std::collections::HashSet<String>>>,
        user: &str,
    ) -> Result<Self, WorkflowError> {
        let fresh = users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user.to_owned());
        if !fresh {
            return Err(WorkflowError::Busy(
                "A layout you asked for is still being made; try again in a moment.".to_owned(),
            ));
        }
        Ok(LayoutTurn {
            users: users.clone(),
            user: user.to_owned(),
        })
    }
}

impl Drop for LayoutTurn {
    fn drop(&mut self) {
        self.users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.user);
    }
}

/// How many drawn versions the engine keeps before it starts again.
const LAYOUTS_KEPT: usize = 256;

/// Largest page of runs a listing returns.
pub const MAX_PAGE: i64 = 100;

impl Engine {
    pub fn new(store: Store, mut executors: Executors) -> Self {
        executors.attach_store(store.clone());
        Self {
            workflows: Workflows::with_limits(store.clone(), executors.limits().clone()),
            store,
            executors: Arc::new(executors),
            signals: broadcast::channel(1024).0,
            dags: Arc::default(),
            layouts: Arc::new((Mutex::default(), tokio::sync::Semaphore::new(1))),
            laying_out: Arc::default(),
            secrets: None,
        }
    }

    /// The caps (the operator's, as the projects service has them) within which approved
    /// change sets must keep a project, and an agent's edits must stay. Set while the
    /// engine is built, before it is shared.
    pub fn with_project_limits(mut self, limits: aura_store::ProjectLimits) -> Self {
        Arc::get_mut(&mut self.executors)
            .expect("project limits are set before the engine is shared")
            .project_limits = limits;
        self
    }

    pub(crate) fn project_limits(&self) -> aura_store::ProjectLimits {
        self.executors.project_limits
    }

    /// Lets templates read their run owner's secrets (and masks them in what runs show).
    pub fn with_secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = Some(secrets);
        self
    }

    pub fn secrets(&self) -> Option<&Secrets> {
        self.secrets.as_ref()
    }

    pub fn runner(&self, config: RunnerConfig) -> Runner {
        Runner::new(self.clone(), config)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The workflows service, checking saves against this engine's ceilings.
    /// The step executors every runner of this engine shares.
    pub fn executors(&self) -> &Executors {
        &self.executors
    }

    pub fn workflows(&self) -> &Workflows {
        &self.workflows
    }

    /// Signals for every run; receivers filter for the runs they follow.
    pub fn subscribe(&self) -> broadcast::Receiver<RunSignal> {
        self.signals.subscribe()
    }

    /// Tells followers of the run (event streams, runners) that it has news.
    pub fn notify(&self, run_id: &str, cancelled: bool) {
        // No receivers is fine: nobody is watching.
        let _ = self.signals.send(RunSignal {
            run_id: run_id.to_owned(),
            cancelled,
        });
    }

    /// Starts a run of the workflow's current version with `input`.
    pub async fn start(
        &self,
        owner: &Principal,
        workflow_id: &str,
        input: &Value,
    ) -> Result<Run, WorkflowError> {
        self.start_by(owner, workflow_id, input, None).await
    }

    /// Starts a run as [`Engine::start`] does, recording what started it when that was a
    /// trigger (`webhook` or `schedule`, and its id) rather than a person.
    pub async fn start_by(
        &self,
        owner: &Principal,
        workflow_id: &str,
        input: &Value,
        trigger: Option<(&'static str, String)>,
    ) -> Result<Run, WorkflowError> {
        let run = self.new_run(owner, workflow_id, input, trigger).await?;
        let run = self.store.start_run(&run).await?;
        self.notify(&run.id, false);
        Ok(run)
    }

    /// A run of the workflow's current version, ready to insert: for callers that store it
    /// in a transaction of their own (a schedule's fire) and then call [`Engine::notify`].
    pub async fn new_run(
        &self,
        owner: &Principal,
        workflow_id: &str,
        input: &Value,
        trigger: Option<(&'static str, String)>,
    ) -> Result<NewRun, WorkflowError> {
        let workflow = self.workflows.get(owner, workflow_id).await?;
        let dag = self.cache_dag(
            &workflow.id,
            workflow.current_version,
            serde_json::from_str(&workflow.definition).map_err(anyhow::Error::new)?,
        );
        let steps = dag
            .definition()
            .steps
            .iter()
            .map(|s| NewStep {
                id: s.id.clone(),
                waiting_on: dag.predecessor_count(&s.id) as i64,
                max_attempts: i64::from(s.retry.clone().unwrap_or_default().max_attempts),
            })
            .collect();
        Ok(NewRun {
            workflow_id: workflow.id,
            workflow_version: workflow.current_version,
            owner_id: owner.user_id().to_owned(),
            input: input.to_string(),
            steps,
            trigger,
        })
    }

    /// The run, if it exists and belongs to `owner`.
    pub async fn run(&self, owner: &Principal, run_id: &str) -> Result<Run, WorkflowError> {
        match self.store.find_run(run_id).await? {
            Some(run) if run.owner_id == owner.user_id() => Ok(run),
            _ => Err(WorkflowError::NotFound),
        }
    }

    /// The run with its steps and, once it succeeded, its output.
    pub async fn run_with_steps(
        &self,
        owner: &Principal,
        run_id: &str,
    ) -> Result<RunDetail, WorkflowError> {
        let run = self.run(owner, run_id).await?;
        let steps = self.store.step_runs(&run.id).await?;
        let output = self.run_output(&run, &steps).await?;
        Ok(RunDetail { run, steps, output })
    }

    /// The run's output, once it succeeded: the output of each succeeded step that ends a
    /// path (nothing follows it). One such step gives its output itself; several give an
    /// object by step id. `None` until the run has succeeded.
    async fn run_output(
        &self,
        run: &Run,
        steps: &[StepRun],
    ) -> Result<Option<Value>, WorkflowError> {
        if run.status != RunStatus::Succeeded {
            return Ok(None);
        }
        let dag = self.dag(run).await?;
        let mut ends: Vec<(&str, serde_json::Value)> = steps
            .iter()
            .filter(|s| s.status == StepStatus::Succeeded && dag.is_end(&s.step_id))
            .map(|s| {
                let output = s
                    .output
                    .as_deref()
                    .and_then(|o| serde_json::from_str(o).ok())
                    .unwrap_or(serde_json::Value::Null);
                (s.step_id.as_str(), output)
            })
            .collect();
        Ok(Some(if ends.len() == 1 {
            ends.remove(0).1
        } else {
            serde_json::Value::Object(
                ends.into_iter()
                    .map(|(id, output)| (id.to_owned(), output))
                    .collect(),
            )
        }))
    }

    pub async fn list(
        &self,
        owner: &Principal,
        filter: &RunFilter,
    ) -> Result<Vec<RunSummary>, WorkflowError> {
        let mut filter = filter.clone();
        filter.limit = filter.limit.clamp(1, MAX_PAGE);
        Ok(self.store.list_runs(owner.user_id(), &filter).await?)
    }

    /// A page of `owner`'s runs, newest first, with the cursor of the next page when
    /// there may be one.
    pub async fn page(
        &self,
        owner: &Principal,
        filter: &RunFilter,
    ) -> Result<RunPage, WorkflowError> {
        let runs = self.list(owner, filter).await?;
        let next_cursor = (runs.len() as i64 == filter.limit.clamp(1, MAX_PAGE))
            .then(|| runs.last().map(RunPage::cursor_of))
            .flatten();
        Ok(RunPage { runs, next_cursor })
    }

    /// Events after `after_id`, for the owner only.
    pub async fn events(
        &self,
        owner: &Principal,
        run_id: &str,
        after_id: i64,
    ) -> Result<Vec<RunEvent>, WorkflowError> {
        self.run(owner, run_id).await?;
        Ok(self.store.run_events(run_id, after_id).await?)
    }

    /// Cancels a queued, running or waiting run; its running steps stop cooperatively.
    pub async fn cancel(&self, owner: &Principal, run_id: &str) -> Result<Run, WorkflowError> {
        let run = self.run(owner, run_id).await?;
        if !self
            .store
            .cancel_run(&run.id, "Cancelled by a user.")
            .await?
        {
            return Err(WorkflowError::InvalidState(format!(
                "The run has already ended ({}).",
                run.status
            )));
        }
        self.notify(&run.id, true);
        self.run(owner, run_id).await
    }

    /// Resumes a failed or cancelled run from its failed and cancelled steps.
    pub async fn resume(&self, owner: &Principal, run_id: &str) -> Result<Run, WorkflowError> {
        let run = self.run(owner, run_id).await?;
        if !self.store.resume_run(&run.id).await? {
            return Err(WorkflowError::InvalidState(format!(
                "Only failed or cancelled runs can be resumed; this one is {}.",
                run.status
            )));
        }
        self.notify(&run.id, false);
        self.run(owner, run_id).await
    }

    /// A workflow version with where each of its steps is drawn: the positions saved with
    /// it, and for steps without one, the layered layout's. Versions never change, so each
    /// is laid out once and kept. A 1,000-step layout takes about 0.2 s of CPU: it runs off
    /// the async workers, one at a time, so a big workflow's page cannot take every core
    /// from other users' requests.
    pub async fn drawing(
        &self,
        owner: &Principal,
        workflow_id: &str,
        version: i64,
    ) -> Result<
        (
            WorkflowVersion,
            WorkflowDefinition,
            aura_types::StepPositions,
        ),
        WorkflowError,
    > {
        let (row, definition) = self.workflows.version(owner, workflow_id, version).await?;
        let mut positions = crate::read_layout(row.layout.as_deref());
        if definition
            .steps
            .iter()
            .all(|s| positions.contains_key(&s.id))
        {
            return Ok((row, definition, positions));
        }
        let key = (workflow_id.to_owned(), version);
        let (kept, permits) = &*self.layouts;
        let cached = || {
            kept.lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned()
        };
        let laid = match cached() {
            Some(found) => found,
            None => {
                // No per-user turn here: one page render may ask twice at once, and a
                // drawing must not fail; each version is laid out once and kept.
                let _permit = permits
                    .acquire()
                    .await
                    .map_err(|e| WorkflowError::Unexpected(e.into()))?;
                // Another request may have laid it out while this one waited.
                match cached() {
                    Some(found) => found,
                    None => {
                        let laid = Arc::new(lay_out(definition.clone()).await?);
                        let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                        if kept.len() >= LAYOUTS_KEPT {
                            kept.clear();
                        }
                        kept.insert(key, laid.clone());
                        laid
                    }
                }
            }
        };
        for (step, at) in laid.iter() {
            positions.entry(step.clone()).or_insert(*at);
        }
        Ok((row, definition, positions))
    }

    /// Lays `definition` out for the builder ("Tidy up", and workflows saved without
    /// positions). Shares the run pages' single layout slot, and each user may have one
    /// of these queued or computing at a time (`Busy` otherwise).
    pub async fn tidy(
        &self,
        owner: &Principal,
        definition: WorkflowDefinition,
    ) -> Result<aura_types::StepPositions, WorkflowError> {
        if definition.steps.len() > crate::validate::MAX_STEPS {
            return Err(WorkflowError::Invalid(vec![crate::Problem {
                step: None,
                field: "steps".to_owned(),
                message: format!(
                    "A workflow can have at most {} steps.",
                    crate::validate::MAX_STEPS
                ),
            }]));
        }
        let _turn = LayoutTurn::take(&self.laying_out, owner.user_id())?;
        let (_, permits) = &*self.layouts;
        let _permit = permits
            .acquire()
            .await
            .map_err(|e| WorkflowError::Unexpected(e.into()))?;
        lay_out(definition).await
    }

    /// The graph of the version a run executes; built once per version.
    pub async fn dag(&self, run: &Run) -> Result<Arc<Dag>, WorkflowError> {
        let key = (run.workflow_id.clone(), run.workflow_version);
        if let Some(found) = self
            .dags
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(found.clone());
        }
        let (_, definition) = self
            .workflows
            .owned_version(&run.owner_id, &run.workflow_id, run.workflow_version)
            .await?;
        Ok(self.cache_dag(&run.workflow_id, run.workflow_version, definition))
    }

    fn cache_dag(
        &self,
        workflow_id: &str,
        version: i64,
        definition: WorkflowDefinition,
    ) -> Arc<Dag> {
        self.dags
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((workflow_id.to_owned(), version))
            .or_insert_with(|| Arc::new(Dag::new(definition)))
            .clone()
    }
}
