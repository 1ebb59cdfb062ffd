//! The editor page in the browser: loads Monaco after hydration and drives it from the
//! page's signals. Monaco handles (editor, one model per open tab, the diff editors and
//! the leave-page guard) live in a [`Host`] owned by the page and dropped with it.

use super::super::api::{
    FileView, TreeView, analyze_file, create_entry as create_entry_fn, delete_entry,
    list_revisions, move_entry, read_file, read_revision, restore_revision, save_file,
};
use super::super::assist::{AiAction, Assist, AssistDone, NO_MODEL, Phase, Proposal};
use super::super::language_of;
use super::super::list::encode;
use super::super::monaco::{self, DiffEditor, Editor, EventPost, Marker, Model, NavigationGuard};
use super::{Choice, Conflict, DiffView, Readiness, Tab, Ui, confirmed};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

/// How long typing must pause before the text is analysed.
const ANALYSIS_DELAY: Duration = Duration::from_millis(400);

struct OpenModel {
    model: Model,
    /// The model's version when its text last matched the saved revision.
    saved_version: u64,
    analysis: Option<TimeoutHandle>,
}

impl Drop for OpenModel {
    fn drop(&mut self) {
        if let Some(timer) = self.analysis.take() {
            timer.clear();
        }
    }
}

#[derive(Default)]
struct Host {
    editor: Option<Editor>,
    models: HashMap<String, OpenModel>,
    diff: Option<DiffEditor>,
    conflict: Option<DiffEditor>,
    proposal: Option<DiffEditor>,
    /// The AI action's request while it streams (dropping it stops it).
    assist: Option<EventPost>,
    _guard: Option<NavigationGuard>,
    /// Files opened before Monaco was ready; they open when it is.
    pending: Vec<FileView>,
}

thread_local! {
    /// The Monaco handles of the editor page on screen (there is at most one).
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
}

/// Runs `f` on the host. Monaco calls back synchronously from some calls made inside
/// `f` (setting a model's text fires its change event); such nested calls find the host
/// busy and get `None`, and the outer call accounts for the change itself.
fn with_host<R>(f: impl FnOnce(&mut Host) -> R) -> Option<R> {
    HOST.with(|cell| {
        let mut host = cell.try_borrow_mut().ok()?;
        host.as_mut().map(f)
    })
}

/// The elements the diff editors are put in.
pub struct Dialogs {
    pub diff: NodeRef<leptos::html::Div>,
    pub conflict: NodeRef<leptos::html::Div>,
    pub proposal: NodeRef<leptos::html::Div>,
}

pub fn start(
    ui: Ui,
    initial: Resource<Result<Option<FileView>, AppError>>,
    tree: Resource<Result<TreeView, AppError>>,
    editor_el: NodeRef<leptos::html::Div>,
    dialogs: Dialogs,
) {
    let Dialogs {
        diff: diff_el,
        conflict: conflict_el,
        proposal: proposal_el,
    } = dialogs;
    HOST.with(|cell| *cell.borrow_mut() = Some(Host::default()));
    on_cleanup(|| {
        // Dropped outside the borrow: disposing Monaco objects may call back.
        let host = HOST.with(|cell| cell.borrow_mut().take());
        drop(host);
    });

    // After hydration: load Monaco into the editor element, then open the file the
    // server rendered.
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        let Some(element) = editor_el.get() else {
            return false;
        };
        // Read here, inside the effect, where the hydrated resource is available.
        if let Some(Ok(Some(file))) = initial.get_untracked() {
            with_host(|h| h.pending.push(file));
        }
        spawn_local(async move {
            if let Err(message) = monaco::load().await {
                ui.ready.set(Readiness::Failed(message));
                return;
            }
            let mut editor = Editor::new(&element);
            editor.on_cursor(move |line, column| ui.cursor.set((line, column)));
            editor.on_save(move || save_active(ui));
            for (order, action) in AiAction::ALL.into_iter().enumerate() {
                editor.add_action(
                    &format!("aura.ai.{}", action.name()),
                    &format!("AI: {}", action.label()),
                    action.key(),
                    order as u32,
                    move || run_action(ui, action),
                );
            }
            let guard =
                NavigationGuard::new(move || ui.tabs.with_untracked(|t| t.iter().any(|t| t.dirty)));
            with_host(|h| {
                h.editor = Some(editor);
                h._guard = Some(guard);
            });
            ui.ready.set(Readiness::Ready);
            for file in with_host(|h| std::mem::take(&mut h.pending)).unwrap_or_default() {
                open_view(ui, file);
            }
        });
        true
    });

    // Ctrl/Cmd+S anywhere on the page saves the active file (the editor handles it
    // itself while focused).
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("s") {
            ev.prevent_default();
            save_active(ui);
        }
    });
    let keys = SendWrapper::new(keys);
    on_cleanup(move || keys.take().remove());

    // Tabs whose files were deleted (or moved away by a folder move) close with the tree.
    Effect::new(move |_| {
        let Some(Ok(t)) = tree.get() else { return };
        let gone: Vec<String> = ui.tabs.with_untracked(|tabs| {
            tabs.iter()
                .filter(|tab| !t.entries.iter().any(|e| e.id == tab.id))
                .map(|tab| tab.id.clone())
                .collect()
        });
        for id in gone {
            drop_tab(ui, &id);
        }
        // Renamed files keep their tab under the new path, highlighted for its extension.
        let renamed: Vec<(String, String)> = ui.tabs.with_untracked(|tabs| {
            tabs.iter()
                .filter_map(|tab| {
                    let e = t.entries.iter().find(|e| e.id == tab.id)?;
                    (e.path != tab.path).then(|| (tab.id.clone(), e.path.clone()))
                })
                .collect()
        });
        for (id, path) in renamed {
            with_host(|h| {
                if let Some(open) = h.models.get(&id) {
                    open.model.set_language(language_of(&path));
                }
            });
            ui.update_tab(&id, |tab| tab.path = path);
        }
    });

    // The diff editors are made the first time each is needed and kept (see DiffEditor).
    Effect::new(move |_| {
        let diff = ui.diff.get();
        show_in_diff(
            diff_el,
            |h| &mut h.diff,
            diff.as_ref()
                .map(|d| (d.old.as_str(), d.current.content.as_str(), d.path.as_str())),
        );
    });
    Effect::new(move |_| {
        let conflict = ui.conflict.get();
        show_in_diff(
            conflict_el,
            |h| &mut h.conflict,
            conflict
                .as_ref()
                .map(|c| (c.theirs.content.as_str(), c.mine.as_str(), c.path.as_str())),
        );
    });
    // A proposed change is a diff over the editor while it waits for Apply or Discard.
    Effect::new(move |_| {
        let proposal = ui.proposal.get();
        show_in_diff(
            proposal_el,
            |h| &mut h.proposal,
            proposal
                .as_ref()
                .map(|p| (p.original.as_str(), p.proposed.as_str(), p.path.as_str())),
        );
    });
}

/// Shows `(left, right, path)` in the diff editor `slot` (made in `element` the first
/// time), or empties it; then focuses the first button of the dialog or region around it.
fn show_in_diff(
    element: NodeRef<leptos::html::Div>,
    slot: fn(&mut Host) -> &mut Option<DiffEditor>,
    texts: Option<(&str, &str, &str)>,
) {
    let Some(element) = element.get_untracked() else {
        return;
    };
    with_host(|h| {
        let editor = slot(h);
        match (texts, editor.as_ref()) {
            (None, Some(diff)) => diff.clear(),
            (None, None) => {}
            (Some((left, right, path)), _) => editor
                .get_or_insert_with(|| DiffEditor::new(&element))
                .show(left, right, language_of(path)),
        }
    });
    if texts.is_some() {
        focus_first(&element);
    }
}

/// Moves keyboard focus to the dialog around `inside` (its `data-focus-first` button), so
/// Escape and Tab work in it at once.
fn focus_first(inside: &web_sys::HtmlElement) {
    use wasm_bindgen::JsCast;
    let button = inside
        .closest("[role=dialog], [role=alertdialog], [data-testid=proposal]")
        .ok()
        .flatten()
        .and_then(|dialog| dialog.query_selector("[data-focus-first]").ok().flatten())
        .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(button) = button {
        let _ = button.focus();
    }
}

/// Opens a file in a tab (or switches to its tab).
pub fn open(ui: Ui, entry: String) {
    if ui.tab(&entry).is_some() {
        activate(ui, &entry);
        return;
    }
    let project = ui.project.get_untracked();
    spawn_local(async move {
        match read_file(project, entry).await {
            Ok(file) => open_view(ui, file),
            Err(err) => ui.status.set(err.to_string()),
        }
    });
}

fn open_view(ui: Ui, file: FileView) {
    if ui.ready.get_untracked() != Readiness::Ready {
        with_host(|h| h.pending.push(file));
        return;
    }
    if ui.tab(&file.id).is_some() {
        activate(ui, &file.id);
        return;
    }
    let mut model = Model::new(&file.content, language_of(&file.path), &file.id);
    let id = file.id.clone();
    model.on_change(move || changed(ui, &id));
    let saved_version = model.version();
    with_host(|h| {
        h.models.insert(
            file.id.clone(),
            OpenModel {
                model,
                saved_version,
                analysis: None,
            },
        )
    });
    ui.tabs.update(|tabs| {
        tabs.push(Tab {
            id: file.id.clone(),
            path: file.path.clone(),
            revision: file.revision,
            dirty: false,
            saving: false,
        })
    });
    activate(ui, &file.id);
    analyze_now(ui, file.id);
}

pub fn activate(ui: Ui, entry: &str) {
    with_host(|h| {
        if let (Some(editor), Some(open)) = (&h.editor, h.models.get(entry)) {
            editor.show(&open.model);
        }
    });
    ui.active.set(Some(entry.to_owned()));
    if ui
        .history
        .with_untracked(|h| h.as_ref().is_some_and(|(id, _)| id != entry))
    {
        ui.history.set(None);
    }
}

pub fn close(ui: Ui, entry: &str) {
    if ui.tab(entry).is_some_and(|t| t.dirty)
        && !confirmed("This file has unsaved changes. Close it and lose them?")
    {
        return;
    }
    drop_tab(ui, entry);
}

fn drop_tab(ui: Ui, entry: &str) {
    with_host(|h| h.models.remove(entry));
    if ui
        .proposal
        .with_untracked(|p| p.as_ref().is_some_and(|p| p.entry == entry))
    {
        ui.proposal.set(None);
    }
    ui.tabs.update(|tabs| tabs.retain(|t| t.id != entry));
    ui.problems.update(|p| {
        p.remove(entry);
    });
    if ui.active.get_untracked().as_deref() == Some(entry) {
        match ui.tabs.with_untracked(|t| t.last().map(|t| t.id.clone())) {
            Some(next) => activate(ui, &next),
            None => ui.active.set(None),
        }
    }
}

/// After every edit: recompute dirtiness, and analyse once typing pauses.
fn changed(ui: Ui, entry: &str) {
    let dirty = with_host(|h| {
        h.models
            .get(entry)
            .map(|open| open.model.version() != open.saved_version)
    })
    .flatten()
    .unwrap_or(false);
    if ui.tab(entry).is_some_and(|t| t.dirty != dirty) {
        ui.update_tab(entry, |t| t.dirty = dirty);
    }
    let id = entry.to_owned();
    let timer = set_timeout_with_handle(move || analyze_now(ui, id), ANALYSIS_DELAY).ok();
    with_host(|h| {
        if let Some(open) = h.models.get_mut(entry) {
            if let Some(previous) = open.analysis.take() {
                previous.clear();
            }
            open.analysis = timer;
        }
    });
}

fn analyze_now(ui: Ui, entry: String) {
    let Some(tab) = ui.tab(&entry) else { return };
    let Some(content) = with_host(|h| h.models.get(&entry).map(|m| m.model.value())).flatten()
    else {
        return;
    };
    let project = ui.project.get_untracked();
    spawn_local(async move {
        let Ok(problems) = analyze_file(project, tab.path.clone(), content).await else {
            // Analysis is advisory; a failed request leaves the last markers in place.
            return;
        };
        with_host(|h| {
            if let Some(open) = h.models.get(&entry) {
                let markers: Vec<Marker<'_>> = problems
                    .iter()
                    .map(|p| Marker {
                        line: p.line,
                        column: p.column,
                        end_line: p.end_line,
                        end_column: p.end_column,
                        severity: &p.severity,
                        message: &p.message,
                        rule: &p.rule,
                    })
                    .collect();
                open.model.set_markers(&markers);
            }
        });
        ui.problems.update(|p| {
            p.insert(entry, problems);
        });
    });
}

fn save_active(ui: Ui) {
    if let Some(active) = ui.active.get_untracked() {
        save(ui, active, None, String::new());
    }
}

/// Saves the tab's text on top of its revision (or on top of `over`, when the user chose
/// to keep their text in a conflict). `note` is kept with the revision.
fn save(ui: Ui, entry: String, over: Option<i64>, note: String) {
    let Some(tab) = ui.tab(&entry) else { return };
    if tab.saving {
        return;
    }
    let Some((content, version)) = with_host(|h| {
        h.models
            .get(&entry)
            .map(|m| (m.model.value(), m.model.version()))
    })
    .flatten() else {
        return;
    };
    ui.update_tab(&entry, |t| t.saving = true);
    ui.status.set(format!("Saving {}…", tab.path));
    let project = ui.project.get_untracked();
    let base = over.unwrap_or(tab.revision);
    spawn_local(async move {
        let result = save_file(project, entry.clone(), content.clone(), base, note.clone()).await;
        ui.update_tab(&entry, |t| t.saving = false);
        match result {
            Ok(revision) => {
                let dirty = with_host(|h| {
                    h.models.get_mut(&entry).map(|m| {
                        m.saved_version = version;
                        m.model.version() != version
                    })
                })
                .flatten()
                .unwrap_or(false);
                ui.update_tab(&entry, |t| {
                    t.revision = revision;
                    t.dirty = dirty;
                });
                ui.status
                    .set(format!("Saved {} as revision {revision}.", tab.path));
                analyze_now(ui, entry);
            }
            Err(AppError::StaleRevision {
                current: Some(current),
                ..
            }) => {
                ui.status.set(format!(
                    "{} was changed elsewhere; choose a version.",
                    tab.path
                ));
                ui.conflict.set(Some(Conflict {
                    entry,
                    path: tab.path,
                    mine: content,
                    theirs: current,
                    note,
                }));
            }
            Err(err) => ui.status.set(format!("Not saved: {err}")),
        }
    });
}

pub fn resolve(ui: Ui, choice: Choice) {
    let Some(conflict) = ui.conflict.get_untracked() else {
        return;
    };
    ui.conflict.set(None);
    match choice {
        // The text stays in the editor, still unsaved; the next save meets the conflict
        // again unless the user took theirs.
        Choice::Cancel => ui
            .status
            .set("Not saved; your text is still in the editor.".into()),
        Choice::KeepMine => save(
            ui,
            conflict.entry,
            Some(conflict.theirs.revision),
            conflict.note,
        ),
        Choice::TakeTheirs => {
            replace_text(ui, &conflict.entry, &conflict.theirs);
            ui.status.set(format!(
                "Loaded revision {} of {}.",
                conflict.theirs.revision, conflict.path
            ));
        }
    }
}

/// Puts a saved revision's text into the tab (undoable) and marks the tab clean.
fn replace_text(ui: Ui, entry: &str, file: &FileView) {
    with_host(|h| {
        if let Some(open) = h.models.get_mut(entry) {
            open.model.set_value(&file.content);
            open.saved_version = open.model.version();
        }
    });
    ui.update_tab(entry, |t| {
        t.revision = file.revision;
        t.dirty = false;
    });
    analyze_now(ui, entry.to_owned());
}

pub fn reveal(_ui: Ui, line: usize, column: usize) {
    with_host(|h| {
        if let Some(editor) = &h.editor {
            editor.reveal(line, column);
        }
    });
}

pub fn open_history(ui: Ui) {
    let Some(entry) = ui.active.get_untracked() else {
        return;
    };
    let project = ui.project.get_untracked();
    spawn_local(async move {
        match list_revisions(project, entry.clone()).await {
            Ok(rows) => ui.history.set(Some((entry, rows))),
            Err(err) => ui.status.set(err.to_string()),
        }
    });
}

pub fn show_diff(ui: Ui, entry: String, revision: i64) {
    let project = ui.project.get_untracked();
    spawn_local(async move {
        match read_revision(project, entry.clone(), revision).await {
            Ok((old, current)) => ui.diff.set(Some(DiffView {
                path: current.path.clone(),
                entry,
                revision,
                old,
                current,
            })),
            Err(err) => ui.status.set(err.to_string()),
        }
    });
}

pub fn restore(ui: Ui, entry: String, revision: i64) {
    if ui.tab(&entry).is_some_and(|t| t.dirty)
        && !confirmed("Restoring replaces your unsaved changes in this file. Continue?")
    {
        return;
    }
    let project = ui.project.get_untracked();
    spawn_local(async move {
        match restore_revision(project, entry.clone(), revision).await {
            Ok(file) => {
                ui.diff.set(None);
                if ui.tab(&entry).is_some() {
                    replace_text(ui, &entry, &file);
                } else {
                    open_view(ui, file.clone());
                }
                ui.status.set(format!(
                    "Restored revision {revision} as revision {}.",
                    file.revision
                ));
                open_history(ui);
            }
            Err(err) => ui.status.set(format!("Not restored: {err}")),
        }
    });
}

fn field_message(err: &AppError) -> String {
    match err {
        AppError::Validation { fields, .. } => fields
            .iter()
            .map(|(field, message)| format!("{field}: {message}"))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

pub fn create_entry(ui: Ui, path: String, folder: bool, input: RwSignal<String>) {
    let project = ui.project.get_untracked();
    spawn_local(async move {
        match create_entry_fn(project, path, folder).await {
            Ok(id) => {
                ui.tree_error.set(None);
                input.set(String::new());
                ui.tree_version.update(|v| *v += 1);
                if !folder {
                    open(ui, id);
                }
            }
            Err(err) => ui.tree_error.set(Some(field_message(&err))),
        }
    });
}

pub fn rename(ui: Ui, entry: String, path: String) {
    let Ok(Some(new_path)) = window().prompt_with_message_and_default("New path", &path) else {
        return;
    };
    if new_path.trim().is_empty() || new_path == path {
        return;
    }
    let project = ui.project.get_untracked();
    spawn_local(async move {
        match move_entry(project, entry, new_path).await {
            Ok(_) => {
                ui.tree_error.set(None);
                ui.tree_version.update(|v| *v += 1);
            }
            Err(err) => ui.tree_error.set(Some(field_message(&err))),
        }
    });
}

pub fn delete(ui: Ui, entry: String, path: String) {
    if !confirmed(&format!(
        "Delete {path}? A folder goes with everything in it."
    )) {
        return;
    }
    let project = ui.project.get_untracked();
    spawn_local(async move {
        match delete_entry(project, entry).await {
            Ok(_) => {
                ui.tree_error.set(None);
                ui.tree_version.update(|v| *v += 1);
            }
            Err(err) => ui.tree_error.set(Some(field_message(&err))),
        }
    });
}

/// Starts an AI action on the active file: on the selected lines, or the whole file when
/// nothing is selected. Generate first asks for its prompt.
pub fn run_action(ui: Ui, action: AiAction) {
    let Some(entry) = ui.active.get_untracked() else {
        ui.status.set("Open a file first.".into());
        return;
    };
    let Some(tab) = ui.tab(&entry) else { return };
    let selection = with_host(|h| h.editor.as_ref().and_then(Editor::selected_lines)).flatten();
    let assist = Assist {
        entry,
        path: tab.path,
        action,
        selection,
        phase: Phase::Prompting,
        text: String::new(),
        done: None,
        outcome: None,
    };
    if action == AiAction::Generate {
        // Stops whatever was streaming; the prompt box takes focus.
        with_host(|h| h.assist = None);
        ui.proposal.set(None);
        ui.assist.set(Some(assist));
        return;
    }
    send_action(ui, assist, None);
}

/// Sends Generate once its prompt is written.
pub fn submit_prompt(ui: Ui) {
    let prompt = ui.prompt.get_untracked();
    let Some(assist) = ui.assist.get_untracked() else {
        return;
    };
    if prompt.trim().is_empty() || assist.phase != Phase::Prompting {
        return;
    }
    send_action(ui, assist, Some(prompt));
}

fn send_action(ui: Ui, mut assist: Assist, prompt: Option<String>) {
    // One action at a time: a new one stops the last.
    with_host(|h| h.assist = None);
    ui.proposal.set(None);
    let Some((text, dirty)) = with_host(|h| h.models.get(&assist.entry).map(|m| m.model.value()))
        .flatten()
        .map(|text| (text, ui.tab(&assist.entry).is_some_and(|t| t.dirty)))
    else {
        return;
    };
    let mut body = serde_json::json!({ "action": assist.action.name() });
    if let Some(prompt) = prompt {
        body["prompt"] = prompt.into();
    }
    if let Some((first, last)) = assist.selection {
        body["start_line"] = first.into();
        body["end_line"] = last.into();
    }
    // Unsaved text is what the user sees, so it is what the action works on.
    if dirty {
        body["content"] = text.clone().into();
    }
    let url = format!(
        "/api/v1/projects/{}/files/{}/assist",
        encode(&ui.project.get_untracked()),
        encode(&assist.entry)
    );
    assist.phase = Phase::Streaming;
    ui.assist.set(Some(assist.clone()));
    let (entry, path, action) = (assist.entry, assist.path, assist.action);
    let on_event = move |name: String, data: String| match name.as_str() {
        "delta" => {
            if let Ok(delta) = serde_json::from_str::<serde_json::Value>(&data)
                && let Some(piece) = delta["text"].as_str()
            {
                update_assist(ui, &entry, |a| a.text.push_str(piece));
            }
        }
        "done" => match serde_json::from_str::<AssistDone>(&data) {
            Ok(done) => {
                if let Some(proposed) = done.proposal.clone() {
                    ui.proposal.set(Some(Proposal {
                        entry: entry.clone(),
                        path: path.clone(),
                        original: text.clone(),
                        proposed,
                        note: format!("AI: {} ({})", action.label(), done.target),
                    }));
                }
                update_assist(ui, &entry, |a| {
                    a.text.clone_from(&done.text);
                    a.phase = Phase::Done;
                    a.done = Some(done);
                });
            }
            Err(err) => fail_assist(ui, &entry, format!("The answer could not be read: {err}")),
        },
        "error" => {
            let message = serde_json::from_str::<serde_json::Value>(&data)
                .ok()
                .and_then(|e| e["message"].as_str().map(str::to_owned))
                .unwrap_or(data);
            fail_assist(ui, &entry, message);
        }
        _ => {}
    };
    let entry = ui
        .assist
        .with_untracked(|a| a.as_ref().map(|a| a.entry.clone()))
        .unwrap_or_default();
    let on_end = move |status: u16, body: String| {
        let message = if status == 0 {
            format!("The server could not be reached: {body}")
        } else if !body.is_empty() {
            serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|e| e["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("The server answered {status}."))
        } else {
            // A stream that ended: fine when it said done or error.
            let streaming = ui
                .assist
                .try_with_untracked(|a| a.as_ref().map(|a| a.phase == Phase::Streaming))
                .flatten()
                .unwrap_or(false);
            if !streaming {
                return;
            }
            "The answer ended before it was complete. Try again.".to_owned()
        };
        fail_assist(ui, &entry, message);
    };
    let post = EventPost::start(&url, &body.to_string(), on_event, on_end);
    with_host(|h| h.assist = Some(post));
}

/// Changes the panel's action, if it is still the one for `entry` (and the page is here).
fn update_assist(ui: Ui, entry: &str, f: impl FnOnce(&mut Assist)) {
    let _ = ui.assist.try_update(|a| {
        if let Some(a) = a.as_mut().filter(|a| a.entry == entry) {
            f(a);
        }
    });
}

fn fail_assist(ui: Ui, entry: &str, message: String) {
    let no_model = message.starts_with(NO_MODEL);
    update_assist(ui, entry, |a| a.phase = Phase::Failed { message, no_model });
}

/// Stops the streaming action: the connection closes and the server stops the model.
pub fn stop_action(ui: Ui) {
    with_host(|h| h.assist = None);
    let _ = ui.assist.try_update(|a| {
        if let Some(a) = a.as_mut().filter(|a| a.phase == Phase::Streaming) {
            a.phase = Phase::Stopped;
        }
    });
}

/// Closes the panel, stopping the action and dropping an undecided proposal.
pub fn close_action(ui: Ui) {
    with_host(|h| h.assist = None);
    ui.proposal.set(None);
    ui.assist.set(None);
}

/// Puts the proposal into the editor (one undoable edit) and saves it as a new revision
/// with a note that the AI made it. Refused when the text changed since the model saw it.
pub fn apply_proposal(ui: Ui) {
    let Some(proposal) = ui.proposal.get_untracked() else {
        return;
    };
    let current = with_host(|h| h.models.get(&proposal.entry).map(|m| m.model.value())).flatten();
    if current.as_deref() != Some(proposal.original.as_str()) {
        ui.proposal.set(None);
        update_assist(ui, &proposal.entry, |a| {
            a.outcome = Some(
                "Not applied: the file changed after the AI read it. Run the action again.".into(),
            )
        });
        return;
    }
    with_host(|h| {
        if let Some(open) = h.models.get(&proposal.entry) {
            open.model.set_value(&proposal.proposed);
        }
    });
    // The nested change event found the host busy; account for the edit here.
    changed(ui, &proposal.entry);
    ui.proposal.set(None);
    activate(ui, &proposal.entry);
    update_assist(ui, &proposal.entry, |a| {
        a.outcome = Some("Applied; saving it as a new revision.".into())
    });
    save(ui, proposal.entry, None, proposal.note);
}

/// Drops the proposal; the file is left as it was.
pub fn discard_proposal(ui: Ui) {
    let Some(proposal) = ui.proposal.get_untracked() else {
        return;
    };
    ui.proposal.set(None);
    update_assist(ui, &proposal.entry, |a| {
        a.outcome = Some("Discarded; the file is unchanged.".into())
    });
    reveal_editor();
}

/// Gives the editor focus back after the proposal closes.
fn reveal_editor() {
    with_host(|h| {
        if let Some(editor) = &h.editor {
            editor.focus();
        }
    });
}
