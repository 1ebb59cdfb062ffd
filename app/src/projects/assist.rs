//! AI actions in the editor: the toolbar, the side panel the answer streams into, and the
//! bar above a proposed change. The browser side (the request, Monaco's diff, applying)
//! is in `editor_client.rs`; the server side is `POST /api/v1/projects/{id}/files/{entry}/assist`.

use super::editor::{SMALL_BUTTON, Ui, client};
use crate::shell::form::{BUTTON_CLASS, INPUT_CLASS, SECONDARY_BUTTON_CLASS};
use leptos::prelude::*;
use serde::Deserialize;

/// The start of the refusal when no model is configured; the panel links to /models then.
pub const NO_MODEL: &str = "No model is configured for AI actions";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiAction {
    Explain,
    Fix,
    Document,
    Generate,
}

impl AiAction {
    pub const ALL: [AiAction; 4] = [
        AiAction::Explain,
        AiAction::Fix,
        AiAction::Document,
        AiAction::Generate,
    ];

    /// The name the REST endpoint takes.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn name(self) -> &'static str {
        match self {
            AiAction::Explain => "explain",
            AiAction::Fix => "fix",
            AiAction::Document => "document",
            AiAction::Generate => "generate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AiAction::Explain => "Explain",
            AiAction::Fix => "Fix",
            AiAction::Document => "Document",
            AiAction::Generate => "Generate",
        }
    }

    /// The letter after Ctrl/Cmd+K.
    pub fn key(self) -> char {
        match self {
            AiAction::Explain => 'e',
            AiAction::Fix => 'f',
            AiAction::Document => 'd',
            AiAction::Generate => 'g',
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            AiAction::Explain => "Explain the selection, or the whole file",
            AiAction::Fix => "Fix the selection or file, with its analysis findings",
            AiAction::Document => "Add documentation comments",
            AiAction::Generate => "Write code from a prompt in place of the selection",
        }
    }

    /// The shortcut as `aria-keyshortcuts` spells it.
    pub fn aria_shortcut(self) -> String {
        format!("Control+K {}", self.key().to_ascii_uppercase())
    }
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Phase {
    /// Generate waits for its prompt.
    Prompting,
    Streaming,
    Done,
    Stopped,
    Failed {
        message: String,
        no_model: bool,
    },
}

/// The `done` event of the assist stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AssistDone {
    pub text: String,
    pub proposal: Option<String>,
    pub target: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    pub cached: bool,
}

/// The action in the panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Assist {
    pub entry: String,
    pub path: String,
    pub action: AiAction,
    /// Lines first..=last, or `None` for the whole file.
    pub selection: Option<(usize, usize)>,
    pub phase: Phase,
    pub text: String,
    pub done: Option<AssistDone>,
    /// What became of the proposal: applied or discarded.
    pub outcome: Option<String>,
}

impl Assist {
    pub fn scope(&self) -> String {
        match self.selection {
            Some((first, last)) if first == last => format!("line {first}"),
            Some((first, last)) => format!("lines {first}–{last}"),
            None => "whole file".to_owned(),
        }
    }
}

/// A proposed change, shown as a diff over the editor until applied or discarded.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub entry: String,
    pub path: String,
    /// The text the model saw; applying checks the editor still holds it.
    pub original: String,
    pub proposed: String,
    /// Kept with the revision the proposal is saved as.
    pub note: String,
}

/// "40 in · 12 out · $0.000123 · openai/gpt-4o-mini".
pub fn usage_line(done: &AssistDone) -> String {
    let cost = if done.cached {
        "from the cache, no cost".to_owned()
    } else {
        format!("${:.6}", done.cost_usd)
    };
    format!(
        "{} in · {} out tokens · {cost} · {}",
        done.input_tokens, done.output_tokens, done.target
    )
}

/// The AI buttons above the editor.
#[component]
pub fn AiToolbar(ui: Ui) -> impl IntoView {
    let disabled = move || ui.active.get().is_none() || !ui.is_ready();
    view! {
        <div class="flex flex-wrap items-center gap-1 border-b border-slate-200 px-2 py-1 dark:border-slate-800" role="toolbar" aria-label="AI actions">
            <span class="mr-1 text-xs font-semibold uppercase tracking-wide text-slate-500">"AI"</span>
            {AiAction::ALL.into_iter().map(|action| view! {
                <button type="button" class=SMALL_BUTTON disabled=disabled
                    title=format!("{} (Ctrl/Cmd+K {})", action.hint(), action.key().to_ascii_uppercase())
                    aria-keyshortcuts=action.aria_shortcut()
                    on:click=move |_| client::run_action(ui, action)>
                    {action.label()}
                </button>
            }).collect_view()}
            <span class="ml-auto hidden text-xs text-slate-400 sm:inline">"Ctrl/Cmd+K then E, F, D or G · F1 lists them"</span>
        </div>
    }
}

/// The side panel: the prompt for Generate, the streamed answer, Stop, tokens and cost.
#[component]
pub fn AssistPanel(ui: Ui) -> impl IntoView {
    let prompt_el = NodeRef::<leptos::html::Textarea>::new();
    // Generate's prompt box takes focus when it appears.
    Effect::new(move |_| {
        if ui
            .assist
            .with(|a| a.as_ref().is_some_and(|a| a.phase == Phase::Prompting))
            && let Some(el) = prompt_el.get()
        {
            let _ = el.focus();
        }
    });
    let title = move || {
        ui.assist
            .with(|a| {
                a.as_ref()
                    .map(|a| format!("{} · {} ({})", a.action.label(), a.path, a.scope()))
            })
            .unwrap_or_default()
    };
    let phase = move || ui.assist.with(|a| a.as_ref().map(|a| a.phase.clone()));
    let submit = move || client::submit_prompt(ui);
    view! {
        <aside class="flex min-h-[24rem] min-w-0 flex-col rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900"
            class:hidden=move || ui.assist.with(Option::is_none) aria-labelledby="assist-title" data-testid="assist-panel"
            on:keydown=move |ev| if ev.key() == "Escape" && phase() == Some(Phase::Streaming) { client::stop_action(ui) }>
            <div class="flex items-start justify-between gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
                <h2 id="assist-title" class="min-w-0 break-words text-sm font-semibold">{title}</h2>
                <button type="button" class=SMALL_BUTTON aria-label="Close the AI panel" on:click=move |_| client::close_action(ui)>"×"</button>
            </div>
            <Show when=move || phase() == Some(Phase::Prompting)>
                <form class="border-b border-slate-200 p-3 dark:border-slate-800" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit(); }>
                    <label for="assist-prompt" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"What should it write?"</label>
                    <textarea id="assist-prompt" node_ref=prompt_el rows="4" class=INPUT_CLASS prop:value=ui.prompt
                        placeholder="A function that parses ISO dates and returns None on bad input"
                        on:input=move |ev| ui.prompt.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) { ev.prevent_default(); submit(); }></textarea>
                    <div class="mt-2 flex items-center justify-between gap-2">
                        <span class="text-xs text-slate-500">"Ctrl/Cmd+Enter"</span>
                        <button type="submit" class=BUTTON_CLASS disabled=move || ui.prompt.with(|p| p.trim().is_empty())>"Generate"</button>
                    </div>
                </form>
            </Show>
            <div class="min-h-0 flex-1 overflow-auto p-3">
                <Show when=move || phase() == Some(Phase::Streaming) && ui.assist.with(|a| a.as_ref().is_some_and(|a| a.text.is_empty()))>
                    <p class="text-sm text-slate-500" role="status">"Waiting for the model…"</p>
                </Show>
                <div class="whitespace-pre-wrap break-words text-sm leading-6" data-testid="assist-answer" aria-live="polite">
                    {move || ui.assist.with(|a| a.as_ref().map(|a| a.text.clone()).unwrap_or_default())}
                </div>
                {move || match phase() {
                    Some(Phase::Failed { message, no_model }) => view! {
                        <div role="alert" class="mt-3 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-700 dark:border-red-900 dark:bg-red-950 dark:text-red-300" data-testid="assist-error">
                            <p>{message}</p>
                            {no_model.then(|| view! { <a href="/models" class="mt-2 inline-block font-semibold underline">"Configure a model provider"</a> })}
                        </div>
                    }.into_any(),
                    Some(Phase::Stopped) => view! { <p class="mt-3 text-sm text-slate-500" role="status">"Stopped. Nothing was changed."</p> }.into_any(),
                    _ => ().into_any(),
                }}
            </div>
            <div class="border-t border-slate-200 px-3 py-2 text-xs text-slate-600 dark:border-slate-800 dark:text-slate-400">
                <Show when=move || phase() == Some(Phase::Streaming)>
                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| client::stop_action(ui)>"Stop"</button>
                </Show>
                <p data-testid="assist-usage">{move || ui.assist.with(|a| a.as_ref().and_then(|a| a.done.as_ref()).map(usage_line))}</p>
                <p data-testid="assist-outcome">{move || ui.assist.with(|a| a.as_ref().and_then(|a| {
                    let done = a.done.as_ref()?;
                    if let Some(outcome) = &a.outcome {
                        Some(outcome.clone())
                    } else if a.action == AiAction::Explain {
                        None
                    } else if done.proposal.is_some() {
                        Some("Review the proposed change over the editor: Apply saves it as a new revision, Discard drops it.".to_owned())
                    } else {
                        Some("The answer held no code to apply.".to_owned())
                    }
                }))}</p>
            </div>
        </aside>
    }
}

/// The bar above a proposed change's diff, over the editor.
#[component]
pub fn ProposalOverlay(ui: Ui, proposal_el: NodeRef<leptos::html::Div>) -> impl IntoView {
    view! {
        <div class="absolute inset-0 z-10 flex flex-col bg-white dark:bg-slate-900" class:hidden=move || ui.proposal.with(Option::is_none)
            role="region" aria-label="Proposed change" data-testid="proposal"
            on:keydown=move |ev| if ev.key() == "Escape" { client::discard_proposal(ui) }>
            <div class="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
                <p class="text-sm">{move || ui.proposal.with(|p| p.as_ref().map(|p| format!("Proposed change to {}: current text left, proposal right.", p.path)))}</p>
                <div class="flex gap-2">
                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| client::discard_proposal(ui)>"Discard"</button>
                    <button type="button" class=BUTTON_CLASS data-focus-first="" on:click=move |_| client::apply_proposal(ui)>"Apply"</button>
                </div>
            </div>
            <div node_ref=proposal_el class="min-h-0 flex-1" data-testid="proposal-diff"></div>
        </div>
    }
}
