//! What a run's page shows of the coding agent: the transcript of an `agent` step (its
//! model turns, tool calls and results, and the budget used), which the page reloads as
//! the run's events arrive.

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
