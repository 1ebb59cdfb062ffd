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

/// Most rows a transcript shows: the goal and the newest ones (the page reloads it as the
/// run moves on, so it stays small however long the agent works).
#[cfg(feature = "ssr")]
const MAX_ROWS: usize = 150;

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
    if transcript.rows.len() > MAX_ROWS {
        let hidden = transcript.rows.len() - MAX_ROWS;
        let newest = transcript.rows.split_off(hidden + 1);
        transcript.rows.truncate(1);
        transcript.rows.push(row(
            "note",
            format!("{hidden} earlier entries are not shown"),
            "",
        ));
        transcript.rows.extend(newest);
    }
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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use aura_engine::TranscriptEntry;

    #[test]
    fn a_transcript_shows_calls_results_and_budget_and_keeps_the_goal_and_newest_rows() {
        let call = |n: usize| aura_ai::ToolCall {
            id: format!("c{n}"),
            name: "read_file".into(),
            arguments: serde_json::json!({ "path": format!("f{n}.py") }),
        };
        let mut entries = vec![TranscriptEntry::Goal {
            goal: "Fix it".into(),
        }];
        for n in 0..100 {
            entries.push(TranscriptEntry::Model {
                text: String::new(),
                calls: vec![call(n)],
                tokens: 10,
                cost_micros: 1_000,
            });
            entries.push(TranscriptEntry::Result {
                name: "read_file".into(),
                content: "x".repeat(if n == 99 { 5_000 } else { 1 }),
                is_error: n == 98,
            });
        }
        entries.push(TranscriptEntry::Started {
            call_id: "c100".into(),
        });
        let t = transcript_of(entries);
        assert_eq!((t.turns, t.tokens), (100, 1_000));
        assert!((t.cost_usd - 0.1).abs() < 1e-9);
        assert_eq!(t.rows.len(), MAX_ROWS + 1);
        assert_eq!(t.rows[0].text, "Fix it");
        assert_eq!(t.rows[1].label, "152 earlier entries are not shown");
        let last = t.rows.last().unwrap();
        assert_eq!(
            (last.kind.as_str(), last.label.as_str()),
            ("running", "Running a tool…")
        );
        let big = &t.rows[t.rows.len() - 2];
        assert!(
            big.text.ends_with("… (3000 more characters)"),
            "{}",
            big.text
        );
        assert_eq!(t.rows[t.rows.len() - 5].kind, "error");
        assert_eq!(t.rows[t.rows.len() - 4].label, "Turn 100 · 10 tokens");
        assert!(
            t.rows[t.rows.len() - 3]
                .text
                .contains("\"path\": \"f99.py\"")
        );
    }
}
