//! The editor page in the browser: loads Monaco after hydration and drives it from the
//! page's signals. Monaco handles (editor, one model per open tab, the diff editors and
//! the leave-page guard) live in a [`Host`] owned by the page and dropped with it.

use super::super::api::{
    FileView, TreeView, analyze_file, create_entry as create_entry_fn, delete_entry,
    list_revisions, move_entry, read_file, read_revision, restore_revision, save_file,
};
use super::super::language_of;
use super::super::monaco::{self, DiffEditor, Editor, Marker, Model, NavigationGuard};
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

pub fn start(
    ui: Ui,
    initial: Resource<Result<Option<FileView>, AppError>>,
    tree: Resource<Result<TreeView, AppError>>,
    editor_el: NodeRef<leptos::html::Div>,
    diff_el: NodeRef<leptos::html::Div>,
    conflict_el: NodeRef<leptos::html::Div>,
) {
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

    // The diff editor lives while a diff is open.
    Effect::new(move |_| {
        let diff = ui.diff.get();
        with_host(|h| h.diff = None);
        if let (Some(d), Some(element)) = (diff, diff_el.get_untracked()) {
            let editor =
                DiffEditor::new(&element, &d.old, &d.current.content, language_of(&d.path));
            with_host(|h| h.diff = Some(editor));
            focus_first(&element);
        }
    });
    Effect::new(move |_| {
        let conflict = ui.conflict.get();
        with_host(|h| h.conflict = None);
        if let (Some(c), Some(element)) = (conflict, conflict_el.get_untracked()) {
            let editor =
                DiffEditor::new(&element, &c.theirs.content, &c.mine, language_of(&c.path));
            with_host(|h| h.conflict = Some(editor));
            focus_first(&element);
        }
    });
}

/// Moves keyboard focus to the dialog around `inside` (its `data-focus-first` button), so
/// Escape and Tab work in it at once.
fn focus_first(inside: &web_sys::HtmlElement) {
    use wasm_bindgen::JsCast;
    let button = inside
        .closest("[role=dialog], [role=alertdialog]")
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
        save(ui, active, None);
    }
}

/// Saves the tab's text on top of its revision (or on top of `over`, when the user chose
/// to keep their text in a conflict).
fn save(ui: Ui, entry: String, over: Option<i64>) {
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
        let result = save_file(project, entry.clone(), content.clone(), base).await;
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
        Choice::KeepMine => save(ui, conflict.entry, Some(conflict.theirs.revision)),
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
