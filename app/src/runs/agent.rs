//! What a run's page shows of the coding agent: the transcript of an `agent` step (its
//! model turns, tool calls and results, and the budget used), which the page reloads as
//! the run's events arrive; and, on a waiting approval, the diff of each proposed file in
//! Monaco, fetched when the approver opens it.

use crate::error::AppError;
use crate::shell::form::SECONDARY_BUTTON_CLASS;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An agent step's transcript as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentTranscript {
    pub rows: Vec<TranscriptRow>,
    pub turns: u32,
    pub tokens: u64,
    pub cost_usd: f64,
}

/// One line of a transcript: `kind` is `goal`, `model`, `call`, `result`, `error` or
/// `running`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptRow {
    pub kind: String,
    pub label: String,
    pub text: String,
}

/// Longest text of one transcript row on the page.
#[cfg(feature = "ssr")]
const MAX_ROW_CHARS: usize = 2_000;

#[cfg(feature = "ssr")]
fn shortened(text: &str) -> String {
    let count = text.chars().count();
    if count <= MAX_ROW_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX_ROW_CHARS).collect();
    format!("{cut}\n… ({} more characters)", count - MAX_ROW_CHARS)
}

#[cfg(feature = "ssr")]
pub(super) fn transcript_of(entries: Vec<aura_engine::TranscriptEntry>) -> AgentTranscript {
    use aura_engine::TranscriptEntry;
    let mut transcript = AgentTranscript {
        rows: Vec::with_capacity(entries.len()),
        turns: 0,
        tokens: 0,
        cost_usd: 0.0,
    };
    let mut cost_micros = 0;
    let mut running = None;
    let row = |kind: &str, label: String, text: &str| TranscriptRow {
        kind: kind.to_owned(),
        label,
        text: shortened(text),
    };
    for entry in entries {
        match entry {
            TranscriptEntry::Goal { goal } => {
                transcript.rows.push(row("goal", "Goal".to_owned(), &goal))
            }
            TranscriptEntry::Model {
                text,
                calls,
                tokens,
                cost_micros: cost,
            } => {
                transcript.turns += 1;
                transcript.tokens += tokens;
                cost_micros += cost;
                transcript.rows.push(row(
                    "model",
                    format!("Turn {} · {tokens} tokens", transcript.turns),
                    &text,
                ));
                for call in calls {
                    let arguments =
                        serde_json::to_string_pretty(&call.arguments).unwrap_or_default();
                    transcript
                        .rows
                        .push(row("call", format!("→ {}", call.name), &arguments));
                }
            }
            TranscriptEntry::Started { call_id } => running = Some(call_id),
            TranscriptEntry::Result {
                name,
                content,
                is_error,
            } => {
                running = None;
                let (kind, label) = if is_error {
                    ("error", format!("✗ {name}"))
                } else {
                    ("result", format!("← {name}"))
                };
                transcript.rows.push(row(kind, label, &content));
            }
        }
    }
    if running.is_some() {
        transcript
            .rows
            .push(row("running", "Running a tool…".to_owned(), ""));
    }
    transcript.cost_usd = cost_micros as f64 / 1_000_000.0;
    transcript
}

#[component]
pub(super) fn Transcript(transcript: AgentTranscript) -> impl IntoView {
    let summary = format!(
        "{} turns · {} tokens · ${:.4}",
        transcript.turns, transcript.tokens, transcript.cost_usd
    );
    view! {
        <section class="mt-3" aria-label="Agent transcript">
            <div class="flex items-baseline justify-between gap-2">
                <h3 class="text-sm font-semibold">"Transcript"</h3>
                <span class="text-xs text-slate-500" data-testid="agent-budget">{summary}</span>
            </div>
            <ol class="mt-2 max-h-[32rem] space-y-2 overflow-auto rounded-md border border-slate-200 p-2 text-xs dark:border-slate-800" data-testid="transcript">
                {transcript.rows.into_iter().map(|r| {
                    let tone = match r.kind.as_str() {
                        "model" => "border-indigo-400",
                        "call" => "border-sky-400",
                        "error" => "border-red-500",
                        "running" => "border-amber-400",
                        _ => "border-slate-300 dark:border-slate-700",
                    };
                    view! {
                        <li class=format!("border-l-2 pl-2 {tone}") data-kind=r.kind>
                            <p class="font-medium text-slate-700 dark:text-slate-300">{r.label}</p>
                            {(!r.text.is_empty()).then(|| view! {
                                <pre class="mt-1 whitespace-pre-wrap break-words font-mono text-slate-800 dark:text-slate-200">{r.text}</pre>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

/// One proposed file: its text at the base revision and the proposed text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeDiffView {
    pub path: String,
    pub original: String,
    pub proposed: String,
    /// Monaco's language id.
    pub language: String,
    pub title: String,
}

/// The diff of one file a waiting approval would write.
#[server(prefix = "/api", endpoint = "runs/change_diff")]
pub async fn change_diff(
    run: String,
    step: String,
    path: String,
) -> Result<ChangeDiffView, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let diff = services()
            .engine
            .change_diff(&principal, &run, &step, &path)
            .await?;
        let title = match (diff.base_revision, &diff.original) {
            (None, _) => format!("{}: a new file", diff.path),
            (Some(revision), Some(_)) => {
                format!("{}: revision {revision} (left) and the proposal (right)", diff.path)
            }
            (Some(revision), None) => {
                format!("{}: revision {revision} is gone; the proposal (right)", diff.path)
            }
        };
        Ok(ChangeDiffView {
            language: crate::projects::language_of(&diff.path).to_owned(),
            original: diff.original.unwrap_or_default(),
            proposed: diff.proposed,
            path: diff.path,
            title,
        })
    })
    .await
}

/// A "Diff" button per proposed file; the chosen file's diff opens below in Monaco.
#[component]
pub(super) fn ChangeDiffs(run: String, step: String, paths: Vec<String>) -> impl IntoView {
    let chosen = RwSignal::new(None::<String>);
    let diff = Resource::new(
        move || chosen.get(),
        move |path| {
            let (run, step) = (run.clone(), step.clone());
            async move {
                match path {
                    Some(path) => change_diff(run, step, path).await.map(Some),
                    None => Ok(None),
                }
            }
        },
    );
    let host = NodeRef::<leptos::html::Div>::new();
    show_diff(host, diff);
    view! {
        <div class="mt-2 flex flex-wrap gap-2" role="group" aria-label="Show a diff">
            {paths.into_iter().map(|path| {
                let label = format!("Diff of {path}");
                let value = path.clone();
                view! {
                    <button type="button" class=SECONDARY_BUTTON_CLASS aria-label=label
                        aria-pressed=move || (chosen.get().as_deref() == Some(path.as_str())).to_string()
                        on:click=move |_| chosen.set(Some(value.clone()))>
                        {format!("Diff: {}", value_name(&value))}
                    </button>
                }
            }).collect_view()}
        </div>
        <Show when=move || chosen.get().is_some()>
            <div class="mt-2 rounded-md border border-slate-200 dark:border-slate-800">
                <div class="flex items-center justify-between gap-2 px-2 py-1 text-xs">
                    <span data-testid="diff-title">
                        {move || match diff.get() {
                            Some(Ok(Some(d))) => d.title,
                            Some(Err(e)) => e.to_string(),
                            _ => "Loading the diff…".to_owned(),
                        }}
                    </span>
                    <button type="button" class="text-slate-600 hover:underline dark:text-slate-400" on:click=move |_| chosen.set(None)>"Close"</button>
                </div>
            </div>
        </Show>
        <div node_ref=host class="h-80" class:hidden=move || chosen.get().is_none() data-testid="change-diff"></div>
    }
}

fn value_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// In the browser: loads Monaco once and shows the fetched diff in one diff editor,
/// made on first use and disposed with the panel.
#[cfg(feature = "hydrate")]
fn show_diff(
    host: NodeRef<leptos::html::Div>,
    diff: Resource<Result<Option<ChangeDiffView>, AppError>>,
) {
    use crate::projects::monaco::{self, DiffEditor};
    use send_wrapper::SendWrapper;
    let editor: StoredValue<Option<SendWrapper<DiffEditor>>> = StoredValue::new(None);
    Effect::new(move |_| {
        let Some(Ok(Some(view))) = diff.get() else {
            return;
        };
        let Some(element) = host.get() else {
            return;
        };
        leptos::task::spawn_local(async move {
            if monaco::load().await.is_err() {
                return;
            }
            editor.update_value(|slot| {
                slot.get_or_insert_with(|| SendWrapper::new(DiffEditor::new(&element)))
                    .show(&view.original, &view.proposed, &view.language)
            });
        });
    });
    on_cleanup(move || editor.set_value(None));
}

#[cfg(not(feature = "hydrate"))]
fn show_diff(
    _host: NodeRef<leptos::html::Div>,
    _diff: Resource<Result<Option<ChangeDiffView>, AppError>>,
) {
}
