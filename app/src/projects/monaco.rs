//! Safe Rust bindings to the Monaco editor, through the small JavaScript shim in
//! `monaco.js`. Browser-only (feature `hydrate`).
//!
//! Monaco itself is not in the WASM bundle or in the first-load JavaScript: [`load`]
//! fetches its AMD build from `/monaco/vs` the first time an editor page asks for it.
//! Every handle here owns what it created and disposes of it when dropped, and keeps the
//! Rust closures it registered alive for exactly as long.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen(module = "/src/projects/monaco.js")]
extern "C" {
    #[wasm_bindgen(js_name = loadMonaco)]
    fn load_monaco(base: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = createEditor)]
    fn create_editor(element: &web_sys::HtmlElement) -> JsValue;
    #[wasm_bindgen(js_name = createModel)]
    fn create_model(value: &str, language: &str, path: &str) -> JsValue;
    #[wasm_bindgen(js_name = setModel)]
    fn set_model(editor: &JsValue, model: &JsValue);
    #[wasm_bindgen(js_name = focusEditor)]
    fn focus_editor(editor: &JsValue);
    #[wasm_bindgen(js_name = disposeModel)]
    fn dispose_model(model: &JsValue);
    #[wasm_bindgen(js_name = setModelLanguage)]
    fn set_model_language(model: &JsValue, language: &str);
    #[wasm_bindgen(js_name = modelValue)]
    fn model_value(model: &JsValue) -> String;
    #[wasm_bindgen(js_name = setModelValue)]
    fn set_model_value(model: &JsValue, value: &str);
    #[wasm_bindgen(js_name = modelVersion)]
    fn model_version(model: &JsValue) -> f64;
    #[wasm_bindgen(js_name = onModelChange)]
    fn on_model_change(model: &JsValue, callback: &Closure<dyn FnMut()>) -> JsValue;
    #[wasm_bindgen(js_name = onCursor)]
    fn on_cursor(editor: &JsValue, callback: &Closure<dyn FnMut(u32, u32)>) -> JsValue;
    #[wasm_bindgen(js_name = onSave)]
    fn on_save(editor: &JsValue, callback: &Closure<dyn FnMut()>);
    #[wasm_bindgen(js_name = addAction)]
    fn add_action(
        editor: &JsValue,
        id: &str,
        label: &str,
        key: &str,
        order: u32,
        callback: &Closure<dyn FnMut()>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = selectedLines)]
    fn selected_lines(editor: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = setMarkers)]
    fn set_markers(model: &JsValue, markers_json: &str);
    #[wasm_bindgen(js_name = revealPosition)]
    fn reveal_position(editor: &JsValue, line: u32, column: u32);
    #[wasm_bindgen(js_name = createDiff)]
    fn create_diff(element: &web_sys::HtmlElement) -> JsValue;
    #[wasm_bindgen(js_name = showDiff)]
    fn show_diff(diff: &JsValue, original: &str, modified: &str, language: &str);
    #[wasm_bindgen(js_name = clearDiff)]
    fn clear_diff(diff: &JsValue);
    #[wasm_bindgen(js_name = disposeDiff)]
    fn dispose_diff(diff: &JsValue);
    #[wasm_bindgen(js_name = dispose)]
    fn dispose(disposable: &JsValue);
    #[wasm_bindgen(js_name = guardNavigation)]
    fn guard_navigation(is_dirty: &Closure<dyn FnMut() -> bool>) -> JsValue;
    #[wasm_bindgen(js_name = uploadZip)]
    fn upload_zip(url: &str, input: &web_sys::HtmlElement) -> js_sys::Promise;
    #[wasm_bindgen(js_name = postEvents)]
    fn post_events(
        url: &str,
        body: &str,
        on_event: &Closure<dyn FnMut(String, String)>,
        on_end: &Closure<dyn FnMut(u16, String)>,
    ) -> JsValue;
}

/// Where the site serves Monaco's files (copied from the npm package at build time).
const MONACO_BASE: &str = "/monaco/vs";

/// Loads Monaco once; later calls return at once.
pub async fn load() -> Result<(), String> {
    wasm_bindgen_futures::JsFuture::from(load_monaco(MONACO_BASE))
        .await
        .map(|_| ())
        .map_err(|e| {
            e.as_string()
                .or_else(|| {
                    js_sys::Reflect::get(&e, &"message".into())
                        .ok()?
                        .as_string()
                })
                .unwrap_or_else(|| "Monaco failed to load.".into())
        })
}

/// A Monaco event subscription and the Rust closure it calls; dropping it unsubscribes
/// before the closure is freed.
struct Subscription<F: ?Sized> {
    handle: JsValue,
    _closure: Closure<F>,
}

impl<F: ?Sized> Drop for Subscription<F> {
    fn drop(&mut self) {
        dispose(&self.handle);
    }
}

/// A code editor in a page element. Shows one [`Model`] at a time.
pub struct Editor {
    raw: JsValue,
    _cursor: Option<Subscription<dyn FnMut(u32, u32)>>,
    _save: Option<Closure<dyn FnMut()>>,
    _actions: Vec<Subscription<dyn FnMut()>>,
}

impl Editor {
    pub fn new(element: &web_sys::HtmlElement) -> Self {
        Editor {
            raw: create_editor(element),
            _cursor: None,
            _save: None,
            _actions: Vec::new(),
        }
    }

    /// Adds an action to the command palette (F1) and the context menu, bound to the
    /// chord Ctrl/Cmd+K then `key`; `order` places it in the menu.
    pub fn add_action(
        &mut self,
        id: &str,
        label: &str,
        key: char,
        order: u32,
        f: impl FnMut() + 'static,
    ) {
        let closure = Closure::new(f);
        let handle = add_action(&self.raw, id, label, &key.to_string(), order, &closure);
        self._actions.push(Subscription {
            handle,
            _closure: closure,
        });
    }

    /// The selected lines, first and last (1-based); `None` when nothing is selected.
    pub fn selected_lines(&self) -> Option<(usize, usize)> {
        let lines = selected_lines(&self.raw);
        let array = lines.dyn_ref::<js_sys::Array>()?;
        let first = array.get(0).as_f64()? as usize;
        let last = array.get(1).as_f64()? as usize;
        Some((first, last))
    }

    pub fn show(&self, model: &Model) {
        set_model(&self.raw, &model.raw);
    }

    /// Calls `f(line, column)` whenever the cursor moves.
    pub fn on_cursor(&mut self, f: impl FnMut(u32, u32) + 'static) {
        let closure = Closure::new(f);
        self._cursor = Some(Subscription {
            handle: on_cursor(&self.raw, &closure),
            _closure: closure,
        });
    }

    /// Calls `f` on Ctrl+S / Cmd+S while the editor has focus.
    pub fn on_save(&mut self, f: impl FnMut() + 'static) {
        let closure = Closure::new(f);
        on_save(&self.raw, &closure);
        self._save = Some(closure);
    }

    pub fn focus(&self) {
        focus_editor(&self.raw);
    }

    /// Moves the cursor to a 1-based position, scrolls it into view and focuses.
    pub fn reveal(&self, line: usize, column: usize) {
        reveal_position(&self.raw, line as u32, column as u32);
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        self._cursor = None;
        self._actions.clear();
        dispose(&self.raw);
    }
}

/// The text of one open file, with its undo history.
pub struct Model {
    raw: JsValue,
    _change: Option<Subscription<dyn FnMut()>>,
}

/// A marker as [`Model::set_markers`] takes it; positions are 1-based.
#[derive(Serialize)]
pub struct Marker<'a> {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: &'a str,
    pub message: &'a str,
    pub rule: &'a str,
}

impl Model {
    /// `path` names the model (it must be unique among open models); `language` is a
    /// Monaco language id.
    pub fn new(value: &str, language: &str, path: &str) -> Self {
        Model {
            raw: create_model(value, language, path),
            _change: None,
        }
    }

    pub fn value(&self) -> String {
        model_value(&self.raw)
    }

    /// Highlights the text as another language (after a rename).
    pub fn set_language(&self, language: &str) {
        set_model_language(&self.raw, language);
    }

    /// Replaces the text as one undoable edit.
    pub fn set_value(&self, value: &str) {
        set_model_value(&self.raw, value);
    }

    /// Changes with every edit and returns to an earlier value on undo, so comparing it
    /// with the version at the last save tells whether the text is dirty.
    pub fn version(&self) -> u64 {
        model_version(&self.raw) as u64
    }

    pub fn on_change(&mut self, f: impl FnMut() + 'static) {
        let closure = Closure::new(f);
        self._change = Some(Subscription {
            handle: on_model_change(&self.raw, &closure),
            _closure: closure,
        });
    }

    pub fn set_markers(&self, markers: &[Marker<'_>]) {
        let json = serde_json::to_string(markers).unwrap_or_else(|_| "[]".into());
        set_markers(&self.raw, &json);
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        self._change = None;
        dispose_model(&self.raw);
    }
}

/// A read-only side-by-side (or inline, when narrow) diff of two texts. Make one per place
/// a diff is shown and keep it for the page's life (see `createDiff` in monaco.js).
pub struct DiffEditor {
    raw: JsValue,
}

impl DiffEditor {
    pub fn new(element: &web_sys::HtmlElement) -> Self {
        DiffEditor {
            raw: create_diff(element),
        }
    }

    pub fn show(&self, original: &str, modified: &str, language: &str) {
        show_diff(&self.raw, original, modified, language);
    }

    /// Drops the texts shown.
    pub fn clear(&self) {
        clear_diff(&self.raw);
    }
}

impl Drop for DiffEditor {
    fn drop(&mut self) {
        dispose_diff(&self.raw);
    }
}

/// While alive, asks before the page is left (reload, close, links) when `is_dirty`
/// says there are unsaved changes.
pub struct NavigationGuard {
    raw: JsValue,
    _check: Closure<dyn FnMut() -> bool>,
}

impl NavigationGuard {
    pub fn new(is_dirty: impl FnMut() -> bool + 'static) -> Self {
        let check = Closure::new(is_dirty);
        NavigationGuard {
            raw: guard_navigation(&check),
            _check: check,
        }
    }
}

impl Drop for NavigationGuard {
    fn drop(&mut self) {
        dispose(&self.raw);
    }
}

/// Posts the file chosen in a file input to `url` as the raw request body. Resolves to
/// the response's JSON text with its status.
pub async fn upload(url: &str, input: &web_sys::HtmlElement) -> Result<(u16, String), String> {
    let result = wasm_bindgen_futures::JsFuture::from(upload_zip(url, input))
        .await
        .map_err(|e| e.as_string().unwrap_or_else(|| "The upload failed.".into()))?;
    let status = js_sys::Reflect::get(&result, &"status".into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0) as u16;
    let body = js_sys::Reflect::get(&result, &"body".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// A POST whose answer is read as server-sent events (see `postEvents` in monaco.js).
/// Dropping it aborts the request if it is still running, which closes the connection.
pub struct EventPost {
    raw: JsValue,
    _on_event: Closure<dyn FnMut(String, String)>,
    _on_end: Closure<dyn FnMut(u16, String)>,
}

impl EventPost {
    /// Sends `body` (JSON) to `url`. `on_event(name, data)` gets each event;
    /// `on_end(status, body)` gets the status once the answer ends, with the body when it
    /// was not an event stream (a refusal), or status 0 and a message when the connection
    /// failed. Neither is called after the post is dropped. Do not drop it from inside
    /// either callback.
    pub fn start(
        url: &str,
        body: &str,
        on_event: impl FnMut(String, String) + 'static,
        on_end: impl FnMut(u16, String) + 'static,
    ) -> Self {
        let on_event = Closure::new(on_event);
        let on_end = Closure::new(on_end);
        EventPost {
            raw: post_events(url, body, &on_event, &on_end),
            _on_event: on_event,
            _on_end: on_end,
        }
    }
}

impl Drop for EventPost {
    fn drop(&mut self) {
        if let Ok(abort) = js_sys::Reflect::get(&self.raw, &"abort".into())
            && let Some(abort) = abort.dyn_ref::<js_sys::Function>()
        {
            let _ = abort.call0(&self.raw);
        }
    }
}
