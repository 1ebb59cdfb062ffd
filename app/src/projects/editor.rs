//! The editor page: file tree, tabs, Monaco, status bar, Problems panel, revision history
//! with diffs and restore, and the dialog that resolves a save conflict.
//!
//! The server renders the tree and the file named by `?file=` read-only, so the page is
//! useful before any script runs. After hydration the browser loads Monaco and takes
//! over; the read-only copy is hidden once the editor is ready.

use super::api::{
    EntryRow, FileView, Problem, RenameProject, RevisionRow, TreeView, project_tree, read_file,
};
use super::assist::{AiToolbar, Assist, AssistPanel, Proposal, ProposalOverlay};
use super::language_of;
#[cfg(feature = "hydrate")]
use super::list::confirmed;
use super::list::encode;
use crate::shell::form::{
    BUTTON_CLASS, Field, FormAlert, INPUT_CLASS, SECONDARY_BUTTON_CLASS, action_error,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use std::collections::HashMap;

/// An open file.
#[derive(Debug, Clone, PartialEq)]
pub struct Tab {
    pub id: String,
    pub path: String,
    /// The revision the text was loaded from or last saved as.
    pub revision: i64,
    pub dirty: bool,
    pub saving: bool,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Readiness {
    Loading,
    Ready,
    Failed(String),
}

/// A save refused because someone saved first.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub entry: String,
    pub path: String,
    pub mine: String,
    pub theirs: FileView,
    /// The note the refused save carried (an AI change keeps saying so).
    pub note: String,
}

/// How the user settles a save conflict.
pub enum Choice {
    /// Close the dialog; the text stays in the editor, unsaved.
    Cancel,
    /// Load the saved version into the editor.
    TakeTheirs,
    /// Save the editor's text on top of the saved version.
    KeepMine,
}

/// An open revision diff.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffView {
    pub entry: String,
    pub path: String,
    pub revision: i64,
    pub old: String,
    pub current: FileView,
}

/// Everything the page shows, as signals (cheap to copy into handlers).
#[derive(Clone, Copy)]
pub struct Ui {
    pub project: Signal<String>,
    pub tabs: RwSignal<Vec<Tab>>,
    pub active: RwSignal<Option<String>>,
    pub cursor: RwSignal<(u32, u32)>,
    pub problems: RwSignal<HashMap<String, Vec<Problem>>>,
    pub status: RwSignal<String>,
    pub ready: RwSignal<Readiness>,
    pub conflict: RwSignal<Option<Conflict>>,
    pub history: RwSignal<Option<(String, Vec<RevisionRow>)>>,
    pub diff: RwSignal<Option<DiffView>>,
    pub tree_version: RwSignal<u32>,
    pub tree_error: RwSignal<Option<String>>,
    /// The AI action in the side panel.
    pub assist: RwSignal<Option<Assist>>,
    /// Generate's prompt, kept between runs.
    pub prompt: RwSignal<String>,
    /// A proposed change shown over the editor.
    pub proposal: RwSignal<Option<Proposal>>,
}

impl Ui {
    pub fn is_ready(&self) -> bool {
        self.ready.get() == Readiness::Ready
    }

    fn active_tab(&self) -> Option<Tab> {
        let active = self.active.get()?;
        self.tabs
            .with(|t| t.iter().find(|t| t.id == active).cloned())
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn update_tab(&self, id: &str, f: impl FnOnce(&mut Tab)) {
        self.tabs.update(|tabs| {
            if let Some(tab) = tabs.iter_mut().find(|t| t.id == id) {
                f(tab);
            }
        });
    }

    /// The open tab for `id`; `None` also once the page is gone (a late response).
    pub fn tab(&self, id: &str) -> Option<Tab> {
        self.tabs
            .try_with_untracked(|t| t.iter().find(|t| t.id == id).cloned())
            .flatten()
    }
}

/// Sorts entries so that every folder is followed by its contents.
fn tree_order(entries: &mut [EntryRow]) {
    entries.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
}

const TREE_BUTTON: &str = "block w-full truncate rounded px-2 py-1 text-left text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:hover:bg-slate-800";
pub(super) const SMALL_BUTTON: &str = "rounded px-1.5 py-0.5 text-xs text-slate-500 hover:bg-slate-200 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:hover:bg-slate-700 dark:hover:text-white";

#[component]
pub fn EditorPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let project = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let ui = Ui {
        project: project.into(),
        tabs: RwSignal::new(Vec::new()),
        active: RwSignal::new(None),
        cursor: RwSignal::new((1, 1)),
        problems: RwSignal::new(HashMap::new()),
        status: RwSignal::new(String::new()),
        ready: RwSignal::new(Readiness::Loading),
        conflict: RwSignal::new(None),
        history: RwSignal::new(None),
        diff: RwSignal::new(None),
        tree_version: RwSignal::new(0),
        tree_error: RwSignal::new(None),
        assist: RwSignal::new(None),
        prompt: RwSignal::new(String::new()),
        proposal: RwSignal::new(None),
    };
    let tree = Resource::new(
        move || (project.get(), ui.tree_version.get()),
        |(id, _)| project_tree(id),
    );
    // The file named in the URL when the page was loaded; later files open in tabs.
    let requested = query.with_untracked(|q| q.get("file"));
    let initial = Resource::new(
        move || project.get(),
        move |id| {
            let requested = requested.clone();
            async move {
                match requested {
                    Some(entry) if !entry.is_empty() => read_file(id, entry).await.map(Some),
                    _ => Ok(None),
                }
            }
        },
    );
    let editor_el = NodeRef::<leptos::html::Div>::new();
    let diff_el = NodeRef::<leptos::html::Div>::new();
    let conflict_el = NodeRef::<leptos::html::Div>::new();
    let proposal_el = NodeRef::<leptos::html::Div>::new();
    client::start(
        ui,
        initial,
        tree,
        editor_el,
        client::Dialogs {
            diff: diff_el,
            conflict: conflict_el,
            proposal: proposal_el,
        },
    );
    let columns = move || {
        if ui.assist.with(Option::is_some) {
            "mt-4 grid min-h-[32rem] grid-cols-1 gap-4 lg:grid-cols-[16rem_1fr] xl:grid-cols-[16rem_1fr_24rem]"
        } else {
            "mt-4 grid min-h-[32rem] grid-cols-1 gap-4 lg:grid-cols-[16rem_1fr]"
        }
    };

    view! {
        <Title text="Editor"/>
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading project…"</p> }>
            {move || Suspend::new(async move {
                match tree.await {
                    Ok(t) => view! { <Header tree=t ui/> }.into_any(),
                    Err(err) => view! { <p role="alert" class="text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <div class=columns>
            <aside class="rounded-xl border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900" aria-label="Files">
                <NewEntryForm ui/>
                <Show when=move || ui.tree_error.get().is_some()>
                    <p role="alert" class="mt-2 text-xs text-red-600 dark:text-red-400">{move || ui.tree_error.get()}</p>
                </Show>
                <Transition fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading files…"</p> }>
                    {move || Suspend::new(async move {
                        match tree.await {
                            Ok(t) => view! { <FileTree entries=t.entries ui/> }.into_any(),
                            Err(_) => ().into_any(),
                        }
                    })}
                </Transition>
            </aside>
            <section class="flex min-w-0 flex-col rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900" aria-label="Editor">
                <Tabs ui/>
                <AiToolbar ui/>
                <div class="relative min-h-[24rem] flex-1">
                    <ProposalOverlay ui proposal_el/>
                    <div node_ref=editor_el data-testid="monaco-host" class="absolute inset-0" class:invisible=move || ui.ready.get() != Readiness::Ready || ui.active.get().is_none()></div>
                    <Show when=move || ui.ready.get() != Readiness::Ready>
                        <ReadOnlyFallback initial ui/>
                    </Show>
                    <Show when=move || ui.ready.get() == Readiness::Ready && ui.active.get().is_none()>
                        <p class="p-6 text-sm text-slate-500" data-testid="no-file">"Open a file from the tree, or create one."</p>
                    </Show>
                </div>
                <StatusBar ui/>
                <ProblemsPanel ui/>
            </section>
            <AssistPanel ui/>
        </div>
        <HistoryPanel ui/>
        <DiffDialog ui diff_el/>
        <ConflictDialog ui conflict_el/>
    }
}

#[component]
fn Header(tree: TreeView, ui: Ui) -> impl IntoView {
    let export = format!("/api/v1/projects/{}/export", tree.project.id);
    let rename = ServerAction::<RenameProject>::new();
    let error = action_error(rename);
    let editing = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(())) = rename.value().get() {
            editing.set(false);
            ui.tree_version.update(|v| *v += 1);
        }
    });
    let project = StoredValue::new(tree.project.clone());
    view! {
        <Title text=tree.project.name.clone()/>
        <div class="flex flex-wrap items-end justify-between gap-3">
            <div>
                <h1 class="text-2xl font-semibold" data-testid="project-name">{tree.project.name.clone()}</h1>
                <p class="text-xs text-slate-500">{tree.project.slug.clone()}{(!tree.project.description.is_empty()).then(|| format!(" · {}", tree.project.description))}</p>
            </div>
            <div class="flex items-center gap-2">
                <button type="button" class=SECONDARY_BUTTON_CLASS aria-expanded=move || editing.get().to_string() on:click=move |_| editing.update(|e| *e = !*e)>"Rename"</button>
                <button type="button" class=SECONDARY_BUTTON_CLASS disabled=move || ui.active.get().is_none() on:click=move |_| client::open_history(ui)>"History"</button>
                <a href=export download="" class=SECONDARY_BUTTON_CLASS>"Export zip"</a>
            </div>
        </div>
        <Show when=move || editing.get()>
            <ActionForm action=rename attr:class="mt-3 grid gap-3 rounded-xl border border-slate-200 bg-white p-4 sm:grid-cols-[1fr_1fr_auto] sm:items-end dark:border-slate-800 dark:bg-slate-900">
                <input type="hidden" name="id" value=project.with_value(|p| p.id.clone())/>
                <Field label="Project name" name="name" value=project.with_value(|p| p.name.clone()) required=true error/>
                <Field label="Description" name="description" value=project.with_value(|p| p.description.clone()) error/>
                <div class="flex gap-2">
                    <FormAlert error/>
                    <button type="submit" class=BUTTON_CLASS disabled=move || rename.pending().get()>"Save name"</button>
                </div>
            </ActionForm>
        </Show>
    }
}

#[component]
fn NewEntryForm(ui: Ui) -> impl IntoView {
    let path = RwSignal::new(String::new());
    let create = move |folder: bool| {
        let value = path.get_untracked();
        client::create_entry(ui, value, folder, path);
    };
    view! {
        <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); create(false); }>
            <label for="new-path" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"New file or folder"</label>
            <input id="new-path" class=format!("{INPUT_CLASS} font-mono") placeholder="src/main.rs" prop:value=path on:input=move |ev| path.set(event_target_value(&ev))/>
            <div class="mt-2 flex gap-2">
                <button type="submit" class=SECONDARY_BUTTON_CLASS>"New file"</button>
                <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| create(true)>"New folder"</button>
            </div>
        </form>
    }
}

/// Whether any folder above `path` is collapsed.
fn hidden_by(collapsed: &std::collections::HashSet<String>, path: &str) -> bool {
    path.match_indices('/')
        .any(|(i, _)| collapsed.contains(&path[..i]))
}

#[component]
fn FileTree(entries: Vec<EntryRow>, ui: Ui) -> impl IntoView {
    let mut entries = entries;
    tree_order(&mut entries);
    if entries.is_empty() {
        return view! { <p class="mt-3 text-sm text-slate-500" data-testid="tree-empty">"No files yet."</p> }.into_any();
    }
    let project = ui.project.get_untracked();
    let collapsed = RwSignal::new(std::collections::HashSet::<String>::new());
    view! {
        <ul class="mt-3 space-y-0.5" role="tree" aria-label="Project files">
            {entries.into_iter().map(|entry| {
                let indent = format!("padding-left: {}rem", entry.depth() as f32 * 0.75);
                let id = entry.id.clone();
                let name = entry.name().to_owned();
                let path = entry.path.clone();
                let (rename_id, delete_id, rename_path, delete_path) = (id.clone(), id.clone(), path.clone(), path.clone());
                let hidden = {
                    let path = path.clone();
                    move || collapsed.with(|c| hidden_by(c, &path))
                };
                let is_active = {
                    let id = id.clone();
                    move || ui.active.get().as_deref() == Some(id.as_str())
                };
                let body = if entry.is_folder {
                    let (key, toggle_key) = (path.clone(), path.clone());
                    let open = Memo::new(move |_| !collapsed.with(|c| c.contains(&key)));
                    view! {
                        <button type="button" class=format!("{TREE_BUTTON} font-medium text-slate-600 dark:text-slate-300") aria-expanded=move || open.get().to_string()
                            on:click=move |_| collapsed.update(|c| if !c.remove(&toggle_key) { c.insert(toggle_key.clone()); })>
                            <span aria-hidden="true">{move || if open.get() { "▾ " } else { "▸ " }}</span>{name.clone()}
                        </button>
                    }.into_any()
                } else {
                    let href = format!("/projects/{project}?file={}", encode(&id));
                    let open_id = id.clone();
                    view! {
                        <a href=href class=TREE_BUTTON class:font-semibold=is_active data-path=path.clone()
                            on:click=move |ev| {
                                if ui.ready.get_untracked() == Readiness::Ready {
                                    ev.prevent_default();
                                    client::open(ui, open_id.clone());
                                }
                            }>{name.clone()}</a>
                    }.into_any()
                };
                view! {
                    <li role="treeitem" class="group flex items-center justify-between" class:hidden=hidden style=indent>
                        <div class="min-w-0 flex-1">{body}</div>
                        <div class="flex shrink-0 opacity-60 group-hover:opacity-100 group-focus-within:opacity-100">
                            <button type="button" class=SMALL_BUTTON aria-label=format!("Rename {path}") on:click=move |_| client::rename(ui, rename_id.clone(), rename_path.clone())>"Rename"</button>
                            <button type="button" class=SMALL_BUTTON aria-label=format!("Delete {path}") on:click=move |_| client::delete(ui, delete_id.clone(), delete_path.clone())>"Delete"</button>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }.into_any()
}

#[component]
fn Tabs(ui: Ui) -> impl IntoView {
    view! {
        <div role="tablist" aria-label="Open files" class="flex min-h-10 items-end gap-1 overflow-x-auto border-b border-slate-200 px-2 pt-2 dark:border-slate-800">
            <For each=move || ui.tabs.get() key=|t| (t.id.clone(), t.path.clone(), t.dirty) let:tab>
                {
                    let (select_id, close_id) = (tab.id.clone(), tab.id.clone());
                    let id = tab.id.clone();
                    let selected = Memo::new(move |_| ui.active.get().as_deref() == Some(id.as_str()));
                    let name = tab.path.rsplit('/').next().unwrap_or(&tab.path).to_owned();
                    view! {
                        <div class="flex items-center rounded-t-md border border-b-0 border-slate-200 text-sm dark:border-slate-700"
                            class=("bg-slate-100", selected) class=("dark:bg-slate-800", selected)>
                            <button type="button" role="tab" aria-selected=move || selected.get().to_string() title=tab.path.clone()
                                class="px-3 py-1.5 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                                on:click=move |_| client::activate(ui, &select_id)>
                                {name}
                                {tab.dirty.then(|| view! { <span class="ml-1 text-amber-600" title="Unsaved changes" data-testid="dirty-indicator">"●"<span class="sr-only">" (unsaved)"</span></span> })}
                            </button>
                            <button type="button" class=SMALL_BUTTON aria-label=format!("Close {}", tab.path) on:click=move |_| client::close(ui, &close_id)>"×"</button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}

#[component]
fn ReadOnlyFallback(
    initial: Resource<Result<Option<FileView>, crate::error::AppError>>,
    ui: Ui,
) -> impl IntoView {
    view! {
        <div class="absolute inset-0 overflow-auto">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let failed = match ui.ready.get() {
                        Readiness::Failed(message) => Some(message),
                        _ => None,
                    };
                    let notice = match &failed {
                        Some(message) => format!("The editor could not load ({message}); showing the file read-only."),
                        None => "Loading the editor…".to_owned(),
                    };
                    match initial.await {
                        Ok(Some(file)) => view! {
                            <p class="border-b border-slate-200 px-4 py-1 text-xs text-slate-500 dark:border-slate-800" role="status">{notice}</p>
                            <pre class="p-4 font-mono text-[13px] leading-5" data-testid="readonly-content" aria-label=format!("{} (read-only)", file.path)>{file.content}</pre>
                        }.into_any(),
                        Ok(None) => view! { <p class="p-6 text-sm text-slate-500">{notice}</p> }.into_any(),
                        Err(err) => view! { <p role="alert" class="p-6 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn StatusBar(ui: Ui) -> impl IntoView {
    let language = move || {
        ui.active_tab()
            .map(|t| language_of(&t.path).to_owned())
            .unwrap_or_default()
    };
    let save_state = move || match ui.active_tab() {
        Some(t) if t.saving => "Saving…".to_owned(),
        Some(t) if t.dirty => "Unsaved changes".to_owned(),
        Some(t) => format!("Revision {}", t.revision),
        None => String::new(),
    };
    view! {
        <div class="flex flex-wrap items-center gap-4 border-t border-slate-200 px-3 py-1 text-xs text-slate-600 dark:border-slate-800 dark:text-slate-400" data-testid="status-bar">
            <span data-testid="cursor-position">{move || { let (l, c) = ui.cursor.get(); format!("Ln {l}, Col {c}") }}</span>
            <span data-testid="language">{language}</span>
            <span data-testid="save-state">{save_state}</span>
            <span class="ml-auto" role="status" aria-live="polite" data-testid="status-message">{move || ui.status.get()}</span>
            <span class="text-slate-400">"Ctrl/Cmd+S saves"</span>
        </div>
    }
}

#[component]
fn ProblemsPanel(ui: Ui) -> impl IntoView {
    let problems = move || {
        let active = ui.active.get()?;
        ui.problems.with(|p| p.get(&active).cloned())
    };
    view! {
        <section class="max-h-48 overflow-auto border-t border-slate-200 dark:border-slate-800" aria-labelledby="problems-title">
            <h2 id="problems-title" class="sticky top-0 bg-white px-3 py-1 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:bg-slate-900">
                {move || match problems() { Some(p) => format!("Problems ({})", p.len()), None => "Problems".to_owned() }}
            </h2>
            {move || match problems() {
                None => view! { <p class="px-3 pb-2 text-xs text-slate-500">"Open a file to see its problems."</p> }.into_any(),
                Some(p) if p.is_empty() => view! { <p class="px-3 pb-2 text-xs text-slate-500" data-testid="no-problems">"No problems found."</p> }.into_any(),
                Some(p) => view! {
                    <ul data-testid="problems">
                        {p.into_iter().map(|problem| {
                            let (line, column) = (problem.line, problem.column);
                            let colour = match problem.severity.as_str() {
                                "error" => "text-red-600 dark:text-red-400",
                                "warning" => "text-amber-600 dark:text-amber-400",
                                _ => "text-sky-600 dark:text-sky-400",
                            };
                            view! {
                                <li>
                                    <button type="button" class="flex w-full items-baseline gap-2 px-3 py-1 text-left text-xs hover:bg-slate-100 focus:outline-none focus-visible:bg-slate-100 dark:hover:bg-slate-800 dark:focus-visible:bg-slate-800"
                                        title=problem.hint.clone()
                                        on:click=move |_| client::reveal(ui, line, column)>
                                        <span class=format!("font-semibold uppercase {colour}")>{problem.severity.clone()}</span>
                                        <span class="flex-1">{problem.message.clone()}</span>
                                        <span class="text-slate-400">{problem.rule.clone()}</span>
                                        <span class="font-mono text-slate-500">{format!("{line}:{column}")}</span>
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn HistoryPanel(ui: Ui) -> impl IntoView {
    view! {
        <Show when=move || ui.history.get().is_some()>
            <section class="mt-4 rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900" aria-labelledby="history-title" data-testid="history">
                <div class="flex items-center justify-between">
                    <h2 id="history-title" class="font-semibold">{move || ui.history.get().and_then(|(id, _)| ui.tab(&id)).map(|t| format!("History of {}", t.path)).unwrap_or_default()}</h2>
                    <button type="button" class=SMALL_BUTTON on:click=move |_| ui.history.set(None)>"Close"</button>
                </div>
                <ul class="mt-2 divide-y divide-slate-100 text-sm dark:divide-slate-800">
                    {move || ui.history.get().map(|(entry, rows)| rows.into_iter().map(|r| {
                        let (diff_entry, restore_entry) = (entry.clone(), entry.clone());
                        let revision = r.revision;
                        view! {
                            <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                                <span>
                                    {format!("Revision {} · {} · {} · {} bytes", r.revision, r.author, r.saved, r.size)}
                                    {(!r.note.is_empty()).then(|| view! { <span class="ml-2 rounded bg-indigo-50 px-1.5 py-0.5 text-xs text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300" data-testid="revision-note">{r.note.clone()}</span> })}
                                </span>
                                <span class="flex gap-2">
                                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| client::show_diff(ui, diff_entry.clone(), revision)>{format!("Compare {revision}")}</button>
                                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| client::restore(ui, restore_entry.clone(), revision)>{format!("Restore {revision}")}</button>
                                </span>
                            </li>
                        }
                    }).collect_view())}
                </ul>
            </section>
        </Show>
    }
}

const DIALOG: &str = "fixed inset-0 z-40 flex items-center justify-center bg-slate-900/50 p-4";
const DIALOG_BOX: &str =
    "flex h-[80vh] w-full max-w-6xl flex-col rounded-xl bg-white p-4 shadow-xl dark:bg-slate-900";

#[component]
fn DiffDialog(ui: Ui, diff_el: NodeRef<leptos::html::Div>) -> impl IntoView {
    view! {
        <div class=DIALOG class:hidden=move || ui.diff.get().is_none() role="dialog" aria-modal="true" aria-labelledby="diff-title"
            on:keydown=move |ev| if ev.key() == "Escape" { ui.diff.set(None) }>
            <div class=DIALOG_BOX>
                <div class="flex flex-wrap items-center justify-between gap-2">
                    <h2 id="diff-title" class="font-semibold">{move || ui.diff.get().map(|d| format!("{}: revision {} (left) and the current revision {} (right)", d.path, d.revision, d.current.revision)).unwrap_or_default()}</h2>
                    <div class="flex gap-2">
                        <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| if let Some(d) = ui.diff.get_untracked() { client::restore(ui, d.entry, d.revision) }>
                            {move || ui.diff.get().map(|d| format!("Restore revision {}", d.revision)).unwrap_or_default()}
                        </button>
                        <button type="button" class=SECONDARY_BUTTON_CLASS data-focus-first="" on:click=move |_| ui.diff.set(None)>"Close"</button>
                    </div>
                </div>
                <div node_ref=diff_el class="mt-3 min-h-0 flex-1" data-testid="diff-editor"></div>
            </div>
        </div>
    }
}

#[component]
fn ConflictDialog(ui: Ui, conflict_el: NodeRef<leptos::html::Div>) -> impl IntoView {
    view! {
        <div class=DIALOG class:hidden=move || ui.conflict.get().is_none() role="alertdialog"
            on:keydown=move |ev| if ev.key() == "Escape" { client::resolve(ui, Choice::Cancel) } aria-modal="true" aria-labelledby="conflict-title" aria-describedby="conflict-text" data-testid="conflict-dialog">
            <div class=DIALOG_BOX>
                <h2 id="conflict-title" class="font-semibold">{move || ui.conflict.get().map(|c| format!("{} was changed since you opened it", c.path)).unwrap_or_default()}</h2>
                <p id="conflict-text" class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                    {move || ui.conflict.get().map(|c| format!("Left: revision {} as saved by someone else. Right: your text. Nothing is saved until you choose.", c.theirs.revision)).unwrap_or_default()}
                </p>
                <div node_ref=conflict_el class="mt-3 min-h-0 flex-1"></div>
                <div class="mt-3 flex flex-wrap justify-end gap-2">
                    <button type="button" class=SECONDARY_BUTTON_CLASS data-focus-first="" on:click=move |_| client::resolve(ui, Choice::Cancel)>"Keep editing"</button>
                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| client::resolve(ui, Choice::TakeTheirs)>"Use their version"</button>
                    <button type="button" class="inline-flex items-center justify-center rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500" on:click=move |_| client::resolve(ui, Choice::KeepMine)>"Save mine over theirs"</button>
                </div>
            </div>
        </div>
    }
}

#[cfg(feature = "hydrate")]
#[path = "editor_client.rs"]
pub(super) mod client;

/// Without a browser there is nothing to drive: the server renders the read-only page.
#[cfg(not(feature = "hydrate"))]
pub(super) mod client {
    use super::super::assist::AiAction;
    use super::*;
    use crate::error::AppError;

    #[allow(dead_code)]
    pub struct Dialogs {
        pub diff: NodeRef<leptos::html::Div>,
        pub conflict: NodeRef<leptos::html::Div>,
        pub proposal: NodeRef<leptos::html::Div>,
    }

    pub fn start(
        _ui: Ui,
        _initial: Resource<Result<Option<FileView>, AppError>>,
        _tree: Resource<Result<TreeView, AppError>>,
        _editor: NodeRef<leptos::html::Div>,
        _dialogs: Dialogs,
    ) {
    }
    pub fn run_action(_ui: Ui, _action: AiAction) {}
    pub fn submit_prompt(_ui: Ui) {}
    pub fn stop_action(_ui: Ui) {}
    pub fn close_action(_ui: Ui) {}
    pub fn apply_proposal(_ui: Ui) {}
    pub fn discard_proposal(_ui: Ui) {}
    pub fn open(_ui: Ui, _entry: String) {}
    pub fn activate(_ui: Ui, _entry: &str) {}
    pub fn close(_ui: Ui, _entry: &str) {}
    pub fn reveal(_ui: Ui, _line: usize, _column: usize) {}
    pub fn open_history(_ui: Ui) {}
    pub fn show_diff(_ui: Ui, _entry: String, _revision: i64) {}
    pub fn restore(_ui: Ui, _entry: String, _revision: i64) {}
    pub fn resolve(_ui: Ui, _choice: Choice) {}
    pub fn create_entry(_ui: Ui, _path: String, _folder: bool, _input: RwSignal<String>) {}
    pub fn rename(_ui: Ui, _entry: String, _path: String) {}
    pub fn delete(_ui: Ui, _entry: String, _path: String) {}
}
