//! The Runs pages: start a run, list runs by status, and a run's detail (its workflow
//! version on the read-only canvas, its steps and logs) following the run's event stream
//! live.

mod agent;
mod changes;

pub use changes::ChangesPage;

use crate::error::AppError;
use crate::shell::form::{
    BUTTON_CLASS, FormAlert, INPUT_CLASS, SECONDARY_BUTTON_CLASS, action_error,
};
use crate::workflows::RunCanvas;
use aura_types::{EventKind, RunStatus, StepStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: String,
    pub workflow: String,
    pub status: RunStatus,
    pub started: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunsView {
    pub runs: Vec<RunRow>,
    /// Where the next (older) page starts; none on the last page.
    pub next_cursor: Option<String>,
    /// `(id, name)` of the caller's workflows, for the start form.
    pub workflows: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRow {
    pub id: String,
    pub status: StepStatus,
    pub attempt: i64,
    pub error: Option<String>,
    pub output: Option<String>,
    pub log: String,
    /// While an `approval` step waits: what the approver is asked.
    pub approval: Option<ApprovalAsk>,
    /// An `agent` step's transcript, once it has begun.
    pub transcript: Option<agent::AgentTranscript>,
}

/// What a waiting `approval` step asks, and what happens if nobody answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalAsk {
    pub message: String,
    /// When the wait ends by itself, as text; none when it waits until someone decides.
    pub deadline: Option<String>,
    /// `reject`, `approve` or `fail`.
    pub on_timeout: String,
    /// The files an approval applies, each with what stands in its way.
    pub changes: Vec<ChangeRow>,
    /// What stands in the way of the whole change set (its step failed, a project gone).
    pub blocked: Vec<String>,
}

/// One file a waiting approval would write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub path: String,
    pub new_file: bool,
    pub conflict: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub id: String,
    pub workflow: String,
    pub version: i64,
    pub status: RunStatus,
    pub error: Option<String>,
    pub started: String,
    pub input: String,
    pub steps: Vec<StepRow>,
    /// The newest event already reflected here; the live stream continues after it.
    pub last_event_id: i64,
}

impl RunDetail {
    /// Each step's status, by step id, as the canvas shows them.
    pub fn statuses(&self) -> std::collections::HashMap<String, String> {
        self.steps
            .iter()
            .map(|s| (s.id.clone(), s.status.as_str().to_owned()))
            .collect()
    }
}

/// Longest output shown inline; the REST API has the whole value.
#[cfg(feature = "ssr")]
const MAX_OUTPUT_CHARS: usize = 4_000;

/// Runs a page to the Runs page shows.
pub const RUNS_PAGE: i64 = 50;

/// A page of runs, newest first: by `status` and `workflow` (empty for all), after
/// `cursor` (the `next_cursor` of the page before; empty for the first page).
#[server(prefix = "/api", endpoint = "runs/list")]
pub async fn list_runs(
    status: String,
    #[server(default)] workflow: String,
    #[server(default)] cursor: String,
) -> Result<RunsView, AppError> {
    use crate::server::{format_millis, principal, respond, services};
    respond(async move {
        let principal = principal()?;
        // Context is read before the first await: inside server-side rendering it is not
        // there after one.
        let services = services();
        let engine = services.engine;
        let before = match cursor.as_str() {
            "" => None,
            text => Some(
                aura_engine::RunPage::parse_cursor(text)
                    .ok_or_else(|| AppError::invalid("cursor", "Use the link to the next page."))?,
            ),
        };
        let filter = aura_store::RunFilter {
            status: RunStatus::parse(&status),
            workflow_id: (!workflow.is_empty()).then_some(workflow),
            before,
            limit: RUNS_PAGE,
        };
        let page = engine.page(&principal, &filter).await?;
        let runs = page
            .runs
            .into_iter()
            .map(|r| RunRow {
                id: r.id,
                workflow: r.workflow_name,
                status: r.status,
                started: format_millis(r.created_at),
                error: r.error,
            })
            .collect();
        let workflows = services
            .workflows
            .list(&principal)
            .await?
            .into_iter()
            .map(|w| (w.id, w.name))
            .collect();
        Ok(RunsView {
            runs,
            next_cursor: page.next_cursor,
            workflows,
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "runs/start")]
pub async fn start_run(workflow_id: String, input: String) -> Result<String, AppError> {
    use crate::server::{principal, redirect_plain_form, respond, services};
    respond(async move {
        let principal = principal()?;
        if workflow_id.is_empty() {
            return Err(AppError::invalid(
                "workflow_id",
                "Choose a workflow to run.",
            ));
        }
        let text = if input.trim().is_empty() {
            "{}"
        } else {
            input.trim()
        };
        let input: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| AppError::invalid("input", format!("This is not valid JSON: {e}.")))?;
        if !input.is_object() {
            return Err(AppError::invalid(
                "input",
                "The input must be a JSON object, like {\"name\": \"Ada\"}.",
            ));
        }
        let run = services()
            .engine
            .start(&principal, &workflow_id, &input)
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::NotFound => {
                    AppError::invalid("workflow_id", "That workflow no longer exists.")
                }
                other => other,
            })?;
        redirect_plain_form(&format!("/runs/{}", run.id));
        Ok(run.id)
    })
    .await
}

#[server(prefix = "/api", endpoint = "runs/get")]
pub async fn get_run(id: String) -> Result<RunDetail, AppError> {
    use crate::server::{format_millis, principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let services = services();
        let engine = services.engine;
        let aura_engine::RunDetail { run, steps, .. } =
            engine.run_with_steps(&principal, &id).await?;
        let events = engine.events(&principal, &id, 0).await?;
        let workflow = services
            .workflows
            .get(&principal, &run.workflow_id)
            .await
            .map(|w| w.name)
            .unwrap_or_else(|_| "(deleted workflow)".into());
        let log_of = |step: &str| -> String {
            events
                .iter()
                .filter(|e| e.kind == EventKind::StepLog && e.step_id.as_deref() == Some(step))
                .filter_map(|e| e.detail.as_deref())
                .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                .filter_map(|d| d["text"].as_str().map(str::to_owned))
                .collect()
        };
        let pretty = |text: &str| {
            let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            if pretty.chars().count() > MAX_OUTPUT_CHARS {
                let cut: String = pretty.chars().take(MAX_OUTPUT_CHARS).collect();
                format!("{cut}\n… (truncated; the REST API has the full output)")
            } else {
                pretty
            }
        };
        let mut transcripts = engine.agent_transcripts(&principal, &id).await?;
        let mut asks = std::collections::HashMap::new();
        for step in steps.iter().filter(|s| s.status == StepStatus::Waiting) {
            let Some(mut ask) = approval_ask(step.output.as_deref()) else {
                continue;
            };
            if let Some(pending) = engine
                .pending_changes(&principal, &run.id, &step.step_id)
                .await?
            {
                (ask.changes, ask.blocked) = change_rows(pending);
            }
            asks.insert(step.step_id.clone(), ask);
        }
        Ok(RunDetail {
            steps: steps
                .into_iter()
                .map(|s| StepRow {
                    approval: asks.remove(&s.step_id),
                    transcript: transcripts.remove(&s.step_id).map(agent::transcript_of),
                    log: log_of(&s.step_id),
                    output: s.output.as_deref().map(pretty),
                    id: s.step_id,
                    status: s.status,
                    attempt: s.attempt,
                    error: s.error,
                })
                .collect(),
            last_event_id: events.last().map_or(0, |e| e.id),
            input: pretty(&run.input),
            id: run.id,
            workflow,
            version: run.workflow_version,
            status: run.status,
            error: run.error,
            started: format_millis(run.created_at),
        })
    })
    .await
}

/// Approves or rejects the run's waiting `approval` step: `decision` is `approve` or
/// `reject` (the button pressed).
#[server(prefix = "/api", endpoint = "runs/decide")]
pub async fn decide_step(
    run: String,
    step: String,
    decision: String,
    #[server(default)] comment: String,
) -> Result<RunStatus, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let approved = match decision.as_str() {
            "approve" => true,
            "reject" => false,
            _ => return Err(AppError::invalid("decision", "Use approve or reject.")),
        };
        let decision = aura_engine::Decision { approved, comment };
        let run = services()
            .engine
            .decide(&principal, &run, &step, &decision)
            .await?;
        Ok(run.status)
    })
    .await
}

#[server(prefix = "/api", endpoint = "runs/control")]
pub async fn control_run(id: String, command: String) -> Result<RunStatus, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let engine = services().engine;
        let run = match command.as_str() {
            "cancel" => engine.cancel(&principal, &id).await?,
            "resume" => engine.resume(&principal, &id).await?,
            _ => {
                return Err(AppError::invalid("command", "Use cancel or resume."));
            }
        };
        Ok(run.status)
    })
    .await
}

/// A waiting approval's changes as rows (each file and its conflict), and what stands in
/// the way of the whole change set.
#[cfg(feature = "ssr")]
fn change_rows(pending: aura_engine::PendingChanges) -> (Vec<ChangeRow>, Vec<String>) {
    let rows = pending
        .files
        .iter()
        .map(|f| ChangeRow {
            path: f.path.clone(),
            new_file: f.base_revision.is_none(),
            conflict: pending
                .conflicts
                .iter()
                .find(|c| c.path == f.path)
                .map(|c| c.reason.clone()),
        })
        .collect();
    let blocked = pending
        .conflicts
        .into_iter()
        .filter(|c| c.path.is_empty())
        .map(|c| c.reason)
        .collect();
    (rows, blocked)
}

/// What a waiting step's stored request asks.
#[cfg(feature = "ssr")]
fn approval_ask(request: Option<&str>) -> Option<ApprovalAsk> {
    let request: serde_json::Value = serde_json::from_str(request?).ok()?;
    Some(ApprovalAsk {
        message: request["message"].as_str().unwrap_or_default().to_owned(),
        deadline: request["timeout_at"]
            .as_i64()
            .map(crate::server::format_millis),
        on_timeout: request["on_timeout"]
            .as_str()
            .unwrap_or("reject")
            .to_owned(),
        changes: Vec::new(),
        blocked: Vec::new(),
    })
}

const BADGE: &str = "inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium";

/// A run's or a step's status, as its string.
pub(crate) fn badge_class(status: &str) -> String {
    let colour = match status {
        "succeeded" => {
            "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200"
        }
        "failed" => "bg-red-100 text-red-800 dark:bg-red-900/60 dark:text-red-200",
        "running" => "bg-sky-100 text-sky-800 dark:bg-sky-900/60 dark:text-sky-200",
        "waiting" => "bg-violet-100 text-violet-800 dark:bg-violet-900/60 dark:text-violet-200",
        "cancelled" | "skipped" => {
            "bg-slate-200 text-slate-700 dark:bg-slate-700 dark:text-slate-200"
        }
        _ => "bg-amber-100 text-amber-800 dark:bg-amber-900/60 dark:text-amber-200",
    };
    format!("{BADGE} {colour}")
}

#[component]
fn StatusBadge(status: &'static str) -> impl IntoView {
    view! { <span class=badge_class(status) data-status=status>{status}</span> }
}

const PANEL: &str =
    "mt-6 rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900";

#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let status = move || param("status");
    let start = ServerAction::<StartRun>::new();
    let error = action_error(start);
    let runs = Resource::new(
        move || {
            (
                status(),
                param("workflow"),
                param("cursor"),
                start.version().get(),
            )
        },
        |(s, w, c, _)| list_runs(s, w, c),
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/runs/{id}"), Default::default());
        }
    });
    view! {
        <Title text="Runs"/>
        <h1 class="text-2xl font-semibold">"Runs"</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Start a workflow and follow its steps as they run."</p>
        <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading runs…"</p> }>
            {move || Suspend::new(async move {
                match runs.await {
                    Ok(view) => view! {
                        <StartForm start error workflows=view.workflows.clone()/>
                        <RunList view status=status() workflow=param("workflow") paged=!param("cursor").is_empty()/>
                    }.into_any(),
                    Err(err) => view! { <p role="alert" class="mt-6 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StartForm(
    start: ServerAction<StartRun>,
    error: crate::shell::form::ActionError,
    workflows: Vec<(String, String)>,
) -> impl IntoView {
    if workflows.is_empty() {
        return view! {
            <section class=PANEL aria-labelledby="start-run">
                <h2 id="start-run" class="text-lg font-semibold">"Start a run"</h2>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
                    "You have no workflows yet. Create one with "
                    <code class="rounded bg-slate-100 px-1 dark:bg-slate-800">"POST /api/v1/workflows"</code>
                    "; the visual builder arrives in a later release."
                </p>
            </section>
        }
        .into_any();
    }
    let field_error = move |name: &'static str| move || error.get().and_then(|e| e.field(name));
    view! {
        <section class=PANEL aria-labelledby="start-run">
            <h2 id="start-run" class="text-lg font-semibold">"Start a run"</h2>
            <ActionForm action=start>
                <div class="mt-4 grid gap-4 md:grid-cols-[16rem_1fr]">
                    <div>
                        <label for="run-workflow" class="block text-sm font-medium">"Workflow"</label>
                        <select id="run-workflow" name="workflow_id" class=INPUT_CLASS required=true>
                            {workflows.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                        </select>
                        <p class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{field_error("workflow_id")}</p>
                    </div>
                    <div>
                        <label for="run-input" class="block text-sm font-medium">"Input (JSON object)"</label>
                        <textarea id="run-input" name="input" rows="3" class=format!("{INPUT_CLASS} font-mono")
                            aria-invalid=move || field_error("input")().is_some().to_string()
                            aria-describedby="run-input-error">"{}"</textarea>
                        <p id="run-input-error" class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{field_error("input")}</p>
                    </div>
                </div>
                <div class="mt-4 flex items-center gap-3">
                    <FormAlert error/>
                    <button type="submit" class=BUTTON_CLASS disabled=move || start.pending().get()>
                        {move || if start.pending().get() { "Starting…" } else { "Start run" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn RunList(view: RunsView, status: String, workflow: String, paged: bool) -> impl IntoView {
    let RunsView {
        runs,
        next_cursor,
        workflows,
    } = view;
    // Ids and cursors are URL-safe: letters, digits, `-` and `.`.
    let link = {
        let workflow = workflow.clone();
        move |status: &str, workflow_too: bool, cursor: Option<&str>| {
            let parts: Vec<String> = [
                (!status.is_empty()).then(|| format!("status={status}")),
                (workflow_too && !workflow.is_empty()).then(|| format!("workflow={workflow}")),
                cursor.map(|c| format!("cursor={c}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if parts.is_empty() {
                "/runs".to_owned()
            } else {
                format!("/runs?{}", parts.join("&"))
            }
        }
    };
    let workflow_name = workflows
        .iter()
        .find(|(id, _)| *id == workflow)
        .map(|(_, name)| name.clone());
    let filters = std::iter::once("").chain(RunStatus::ALL.iter().map(|s| s.as_str())).map(|s| {
        let href = link(s, true, None);
        let current = s == status;
        let label = if s.is_empty() { "All" } else { s };
        view! {
            <A href=href attr:class=if current { "rounded-md bg-indigo-600 px-2 py-1 text-white" } else { "rounded-md px-2 py-1 hover:bg-slate-100 dark:hover:bg-slate-800" }
               attr:aria-current=current.then_some("page")>{label}</A>
        }
    }).collect_view();
    let empty = runs.is_empty();
    let newest = paged.then(|| link(&status, true, None));
    let older = next_cursor.map(|cursor| link(&status, true, Some(&cursor)));
    let all_workflows = link(&status, false, None);
    view! {
        <section class=PANEL aria-labelledby="run-list">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 id="run-list" class="text-lg font-semibold">"Runs"</h2>
                <nav aria-label="Filter by status" class="flex flex-wrap gap-1 text-sm">{filters}</nav>
            </div>
            {(!workflow.is_empty()).then(|| view! {
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-400" data-testid="workflow-filter">
                    {format!("Runs of {}. ", workflow_name.unwrap_or_else(|| "a workflow of yours".into()))}
                    <A href=all_workflows attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"Show every workflow"</A>
                </p>
            })}
            {if empty {
                view! { <p class="mt-4 text-sm text-slate-500" data-testid="runs-empty">{if paged { "No older runs." } else { "No runs here yet." }}</p> }.into_any()
            } else {
                view! {
                    <table class="mt-4 w-full text-left text-sm">
                        <thead class="text-xs uppercase text-slate-500">
                            <tr><th class="py-2">"Workflow"</th><th>"Status"</th><th>"Started"</th><th><span class="sr-only">"Open"</span></th></tr>
                        </thead>
                        <tbody>
                            {runs.into_iter().map(|r| view! {
                                <tr class="border-t border-slate-100 dark:border-slate-800">
                                    <td class="py-2">{r.workflow}</td>
                                    <td><StatusBadge status=r.status.as_str()/></td>
                                    <td class="text-slate-500">{r.started}</td>
                                    <td class="text-right"><A href=format!("/runs/{}", r.id) attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"Open"</A></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {(newest.is_some() || older.is_some()).then(|| view! {
                <nav aria-label="Pages" class="mt-4 flex justify-between text-sm">
                    <span>{newest.map(|href| view! { <A href=href attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"← Newest runs"</A> })}</span>
                    <span>{older.map(|href| view! { <A href=href attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"Older runs →"</A> })}</span>
                </nav>
            })}
        </section>
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let version = RwSignal::new(0u64);
    let control = ServerAction::<ControlRun>::new();
    let decide = ServerAction::<DecideStep>::new();
    let run = Resource::new(
        move || {
            (
                id(),
                version.get(),
                control.version().get(),
                decide.version().get(),
            )
        },
        |(id, ..)| get_run(id),
    );
    follow_live(
        Signal::derive(move || run.get().and_then(Result::ok).map(|d| Following::of(&d))),
        version,
    );
    let control_error = action_error(control);
    let statuses = Signal::derive(move || {
        run.with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(RunDetail::statuses)
                .unwrap_or_default()
        })
    });
    view! {
        <Title text="Run"/>
        <p class="text-sm"><A href="/runs" attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"← All runs"</A></p>
        <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading run…"</p> }>
            {move || Suspend::new(async move {
                match run.await {
                    Ok(detail) => view! { <RunView detail control control_error/> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <h1 class="mt-4 text-2xl font-semibold">"Run not found"</h1>
                        <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"It may have been deleted by the retention policy."</p>
                    }.into_any(),
                    Err(err) => view! { <p role="alert" class="mt-6 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        // Drawn once per run; the statuses follow the run's events.
        {move || view! { <RunCanvas run=id() statuses/> }}
        <Transition>
            {move || Suspend::new(async move {
                run.await.ok().map(|detail| view! {
                    <ol class="mt-6 space-y-3" aria-label="Steps">
                        {detail.steps.into_iter().map(|s| view! { <StepItem step=s run=detail.id.clone() decide/> }).collect_view()}
                    </ol>
                })
            })}
        </Transition>
    }
}

#[component]
fn RunView(
    detail: RunDetail,
    control: ServerAction<ControlRun>,
    control_error: crate::shell::form::ActionError,
) -> impl IntoView {
    let finished = detail.status.is_finished();
    let resumable = matches!(detail.status, RunStatus::Failed | RunStatus::Cancelled);
    let command = if resumable { "resume" } else { "cancel" };
    view! {
        <div class="mt-4 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold">{detail.workflow.clone()}</h1>
            <span data-testid="run-status"><StatusBadge status=detail.status.as_str()/></span>
        </div>
        <p class="mt-1 text-sm text-slate-500">{format!("Version {} · started {} · run {}", detail.version, detail.started, detail.id)}</p>
        {detail.error.clone().map(|e| view! { <p role="alert" class="mt-3 text-sm text-red-700 dark:text-red-300">{e}</p> })}
        {(resumable || !finished).then(|| view! {
            <ActionForm action=control attr:class="mt-4 flex items-center gap-3">
                <input type="hidden" name="id" value=detail.id.clone()/>
                <input type="hidden" name="command" value=command/>
                <button type="submit" class=SECONDARY_BUTTON_CLASS disabled=move || control.pending().get()>
                    {if resumable { "Resume from failed steps" } else { "Cancel run" }}
                </button>
                <FormAlert error=control_error/>
            </ActionForm>
        })}
        <details class="mt-4 text-sm">
            <summary class="cursor-pointer text-slate-600 dark:text-slate-400">"Input"</summary>
            <pre class="mt-2 overflow-x-auto rounded-md bg-slate-100 p-3 text-xs dark:bg-slate-800">{detail.input.clone()}</pre>
        </details>
    }
}

#[component]
fn StepItem(step: StepRow, run: String, decide: ServerAction<DecideStep>) -> impl IntoView {
    let approval = step
        .approval
        .clone()
        .map(|ask| view! { <ApprovalPanel ask run step=step.id.clone() decide/> });
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
            data-testid=format!("step-{}", step.id) data-status=step.status.as_str()>
            <div class="flex flex-wrap items-center gap-3">
                <span class="font-mono text-sm font-semibold">{step.id.clone()}</span>
                <StatusBadge status=step.status.as_str()/>
                {(step.attempt > 1).then(|| view! { <span class="text-xs text-slate-500">{format!("attempt {}", step.attempt)}</span> })}
            </div>
            {step.error.map(|e| view! { <p class="mt-2 text-sm text-red-700 dark:text-red-300">{e}</p> })}
            {approval}
            {step.transcript.map(|transcript| view! { <agent::Transcript transcript/> })}
            {(!step.log.is_empty()).then(|| view! {
                <pre class="mt-2 max-h-64 overflow-auto rounded-md bg-slate-950 p-3 text-xs text-slate-100" aria-label="Log">{step.log.clone()}</pre>
            })}
            {step.output.map(|o| view! {
                <details class="mt-2 text-sm">
                    <summary class="cursor-pointer text-slate-600 dark:text-slate-400">"Output"</summary>
                    <pre class="mt-2 overflow-x-auto rounded-md bg-slate-100 p-3 text-xs dark:bg-slate-800">{o}</pre>
                </details>
            })}
        </li>
    }
}

/// A waiting approval: what is asked, a comment, and the two answers. Either button
/// submits the form with its own `decision`.
#[component]
fn ApprovalPanel(
    ask: ApprovalAsk,
    run: String,
    step: String,
    decide: ServerAction<DecideStep>,
) -> impl IntoView {
    let label = format!("Approval for {step}");
    let conflicted = !ask.blocked.is_empty() || ask.changes.iter().any(|c| c.conflict.is_some());
    // A full page load: the review page's Monaco needs the editor's style policy.
    let review = (!ask.changes.is_empty()).then(|| {
        view! {
            <a href=format!("/runs/{run}/changes/{step}") rel="external" data-testid="review-changes"
                class="mt-2 inline-block text-indigo-700 hover:underline dark:text-indigo-300">
                "Review the diff →"
            </a>
        }
    });
    let changes = (!ask.changes.is_empty() || !ask.blocked.is_empty()).then(|| {
        view! {
            <div class="mt-2 text-sm">
                <p class="font-medium">"Approving writes these files:"</p>
                <ul class="mt-1 space-y-1" aria-label="Proposed changes">
                    {ask.changes.iter().map(|c| view! {
                        <li class="font-mono text-xs" data-conflict=c.conflict.is_some().to_string()>
                            {c.path.clone()}
                            {c.new_file.then(|| view! { <span class="ml-2 text-emerald-700 dark:text-emerald-300">"(new)"</span> })}
                            {c.conflict.clone().map(|why| view! {
                                <span class="ml-2 font-sans text-red-700 dark:text-red-300">{format!("Conflict: {why}")}</span>
                            })}
                        </li>
                    }).collect_view()}
                </ul>
                {ask.blocked.iter().map(|why| view! {
                    <p class="mt-1 text-red-700 dark:text-red-300">{why.clone()}</p>
                }).collect_view()}
                {conflicted.then(|| view! {
                    <p class="mt-1 text-red-700 dark:text-red-300" role="status">
                        {CONFLICTED}
                    </p>
                })}
                {review}
            </div>
        }
    });
    let timeout = match (&ask.deadline, ask.on_timeout.as_str()) {
        (None, _) => "It waits until someone decides.".to_owned(),
        (Some(at), "approve") => format!("If nobody decides by {at}, it is approved."),
        (Some(at), "fail") => format!("If nobody decides by {at}, the run fails."),
        (Some(at), _) => format!("If nobody decides by {at}, it is rejected."),
    };
    view! {
        <section class="mt-3 rounded-lg border border-violet-300 bg-violet-50 p-3 dark:border-violet-800 dark:bg-violet-950/40"
            aria-label=label>
            <h3 class="text-sm font-semibold text-violet-900 dark:text-violet-100">"Waiting for your decision"</h3>
            <p class="mt-1 whitespace-pre-wrap text-sm" data-testid="approval-message">{ask.message}</p>
            <p class="mt-1 text-xs text-slate-600 dark:text-slate-400">{timeout}</p>
            {changes}
            <DecisionForm run step decide conflicted/>
        </section>
    }
}

/// Said when a change set cannot be applied.
const CONFLICTED: &str =
    "These changes cannot be applied without overwriting newer work; reject them.";

/// A comment and the two answers to a waiting approval. Either button submits the form
/// with its own `decision`; Approve is disabled while the changes conflict.
#[component]
fn DecisionForm(
    run: String,
    step: String,
    decide: ServerAction<DecideStep>,
    conflicted: bool,
) -> impl IntoView {
    let error = action_error(decide);
    let comment_error = move || error.get().and_then(|e| e.field("comment"));
    let comment_id = format!("comment-{step}");
    view! {
        <ActionForm action=decide attr:class="mt-3 space-y-2">
            <input type="hidden" name="run" value=run/>
            <input type="hidden" name="step" value=step/>
            <label for=comment_id.clone() class="block text-sm font-medium text-slate-700 dark:text-slate-300">"Comment (optional)"</label>
            <textarea id=comment_id name="comment" rows="2" maxlength="2000" class=INPUT_CLASS
                aria-invalid=move || comment_error().is_some().to_string()></textarea>
            <p class="text-sm text-red-600 dark:text-red-400" role="alert">{comment_error}</p>
            <div class="flex flex-wrap items-center gap-3">
                <button type="submit" name="decision" value="approve" class=BUTTON_CLASS disabled=move || conflicted || decide.pending().get()>"Approve"</button>
                <button type="submit" name="decision" value="reject" class=SECONDARY_BUTTON_CLASS disabled=move || decide.pending().get()>"Reject"</button>
            </div>
            <FormAlert error/>
        </ActionForm>
    }
}

/// Which run to follow and where its page is: the stream continues after
/// `last_event_id`, and stops once the run has finished.
#[derive(Debug, Clone, PartialEq)]
pub struct Following {
    pub run_id: String,
    pub finished: bool,
    pub last_event_id: i64,
}

impl Following {
    pub fn of(detail: &RunDetail) -> Self {
        Following {
            run_id: detail.id.clone(),
            finished: detail.status.is_finished(),
            last_event_id: detail.last_event_id,
        }
    }
}

/// In the browser: while the run is unfinished, follow its event stream and bump
/// `version` when events arrive (bursts coalesce into one bump), so the page reloads
/// what it shows of the run.
#[cfg(feature = "hydrate")]
pub fn follow_live(run: Signal<Option<Following>>, version: RwSignal<u64>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    struct Follow {
        run_id: String,
        source: web_sys::EventSource,
        // `dyn FnMut()`, the signature the editor's closures have: the run and builder
        // pages are lazily loaded chunks, and wasm-bindgen 0.2.130 cannot bind a closure
        // signature that only a chunk uses (see `chunks`). The listener ignores the event.
        _listener: Closure<dyn FnMut()>,
    }
    impl Drop for Follow {
        fn drop(&mut self) {
            self.source.close();
        }
    }
    let current: StoredValue<Option<SendWrapper<Follow>>> = StoredValue::new(None);
    let reload_pending = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(detail) = run.get() else {
            current.set_value(None);
            return;
        };
        let following = current.with_value(|f| f.as_ref().map(|f| f.run_id.clone()));
        if detail.finished {
            current.set_value(None);
            return;
        }
        if following.as_deref() == Some(detail.run_id.as_str()) {
            return;
        }
        // The server ends the stream once the run has finished, so closing it here never
        // cuts a request short.
        let url = format!(
            "/api/v1/runs/{}/events?after={}&until=finished",
            detail.run_id, detail.last_event_id
        );
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        let listener = Closure::<dyn FnMut()>::new(move || {
            if reload_pending.get_value() {
                return;
            }
            reload_pending.set_value(true);
            set_timeout(
                move || {
                    if reload_pending.try_set_value(false).is_none() {
                        version.try_update(|v| *v += 1);
                    }
                },
                std::time::Duration::from_millis(150),
            );
        });
        for kind in EventKind::ALL {
            let _ = source
                .add_event_listener_with_callback(kind.as_str(), listener.as_ref().unchecked_ref());
        }
        current.set_value(Some(SendWrapper::new(Follow {
            run_id: detail.run_id.clone(),
            source,
            _listener: listener,
        })));
    });
    on_cleanup(move || current.set_value(None));
}

#[cfg(not(feature = "hydrate"))]
pub fn follow_live(_run: Signal<Option<Following>>, _version: RwSignal<u64>) {}
