// The JavaScript side of Aura's Monaco bindings (see monaco.rs), plus three small browser
// helpers of the projects pages (a leave-page guard, a raw file upload, and a POST whose
// answer is read as server-sent events). It only loads Monaco on
// demand: nothing here touches Monaco until `loadMonaco` runs on an editor page, after
// hydration. Every function takes and returns plain values so the Rust side stays typed.

let loading = null;

/** Loads Monaco's AMD build from `base` (e.g. "/monaco/vs") once; resolves to `monaco`. */
export function loadMonaco(base) {
  if (loading) return loading;
  loading = new Promise((resolve, reject) => {
    const start = () => {
      globalThis.require.config({ paths: { vs: base } });
      globalThis.require(["vs/editor/editor.main"], () => {
        followColorScheme();
        quietTypeScript();
        resolve(globalThis.monaco);
      }, (err) => reject(new Error(`Monaco failed to load: ${err}`)));
    };
    if (globalThis.require && globalThis.require.config) {
      start();
      return;
    }
    const script = document.createElement("script");
    script.src = `${base}/loader.js`;
    script.onload = start;
    script.onerror = () => reject(new Error("Monaco's loader could not be fetched."));
    document.head.appendChild(script);
  });
  return loading;
}

function prefersDark() {
  return globalThis.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

function followColorScheme() {
  const apply = () => globalThis.monaco.editor.setTheme(prefersDark() ? "vs-dark" : "vs");
  apply();
  globalThis.matchMedia?.("(prefers-color-scheme: dark)").addEventListener("change", apply);
}

/** Aura's own analysis provides the markers for JavaScript and TypeScript; Monaco's
 *  TypeScript service would add a second, project-less set and download a 7 MB worker
 *  for every JS/TS file. Highlighting (Monarch) is unaffected. */
function quietTypeScript() {
  const ts = globalThis.monaco.languages.typescript ?? globalThis.monaco.typescript;
  for (const defaults of [ts?.javascriptDefaults, ts?.typescriptDefaults]) {
    defaults?.setModeConfiguration({});
    defaults?.setDiagnosticsOptions({ noSemanticValidation: true, noSyntaxValidation: true });
  }
}

const common = {
  automaticLayout: true,
  minimap: { enabled: false },
  fontSize: 13,
  scrollBeyondLastLine: false,
  tabSize: 4,
};

export function createEditor(element) {
  return globalThis.monaco.editor.create(element, { ...common, model: null });
}

export function createModel(value, language, path) {
  const uri = globalThis.monaco.Uri.from({ scheme: "aura", path: `/${path}` });
  const existing = globalThis.monaco.editor.getModel(uri);
  if (existing) existing.dispose();
  return globalThis.monaco.editor.createModel(value, language, uri);
}

export function setModel(editor, model) {
  editor.setModel(model);
  editor.focus();
}

export function focusEditor(editor) {
  editor.focus();
}

export function disposeModel(model) {
  model.dispose();
}

export function setModelLanguage(model, language) {
  globalThis.monaco.editor.setModelLanguage(model, language);
}

export function modelValue(model) {
  return model.getValue();
}

export function setModelValue(model, value) {
  // An edit rather than setValue, so the user can undo back to what they typed.
  model.pushEditOperations([], [{ range: model.getFullModelRange(), text: value }], () => null);
}

export function modelVersion(model) {
  return model.getAlternativeVersionId();
}

export function onModelChange(model, callback) {
  return model.onDidChangeContent(() => callback());
}

export function onCursor(editor, callback) {
  return editor.onDidChangeCursorPosition((e) => callback(e.position.lineNumber, e.position.column));
}

/** Ctrl+S / Cmd+S inside the editor. */
export function onSave(editor, callback) {
  const { KeyMod, KeyCode } = globalThis.monaco;
  editor.addCommand(KeyMod.CtrlCmd | KeyCode.KeyS, () => callback());
}

/** An editor action, in the command palette (F1) and the context menu, bound to the
 *  chord Ctrl/Cmd+K then `key` (a letter). Returns a disposable. */
export function addAction(editor, id, label, key, order, callback) {
  const { KeyMod, KeyCode } = globalThis.monaco;
  return editor.addAction({
    id,
    label,
    keybindings: [KeyMod.chord(KeyMod.CtrlCmd | KeyCode.KeyK, KeyCode[`Key${key.toUpperCase()}`])],
    contextMenuGroupId: "1_aura_ai",
    contextMenuOrder: order,
    run: () => callback(),
  });
}

/** The selected lines as [first, last] (1-based), or null when nothing is selected. A
 *  selection ending at the start of a line does not take that line. */
export function selectedLines(editor) {
  const s = editor.getSelection();
  if (!s || s.isEmpty()) return null;
  const last = s.endColumn === 1 && s.endLineNumber > s.startLineNumber ? s.endLineNumber - 1 : s.endLineNumber;
  return [s.startLineNumber, last];
}

const severities = { error: 8, warning: 4, info: 2 };

/** `markersJson`: JSON of [{line, column, end_line, end_column, severity, message, rule}]. */
export function setMarkers(model, markersJson) {
  const markers = JSON.parse(markersJson);
  globalThis.monaco.editor.setModelMarkers(
    model,
    "aura",
    markers.map((m) => ({
      startLineNumber: m.line,
      startColumn: m.column,
      endLineNumber: m.end_line,
      endColumn: Math.max(m.end_column, m.line === m.end_line ? m.column + 1 : 1),
      severity: severities[m.severity] ?? 2,
      message: m.message,
      code: m.rule,
      source: "aura",
    })),
  );
}

export function revealPosition(editor, line, column) {
  editor.revealPositionInCenter({ lineNumber: line, column });
  editor.setPosition({ lineNumber: line, column });
  editor.focus();
}

/** A read-only diff editor. Monaco's editors set a page-wide hover factory bound to the
 *  last editor made, so disposing a diff editor breaks hovers and the command palette of
 *  the editors left: each diff editor is made once per page and shown again with new
 *  models (`showDiff`), and disposed only with the page. */
export function createDiff(element) {
  return globalThis.monaco.editor.createDiffEditor(element, {
    ...common,
    readOnly: true,
    originalEditable: false,
  });
}

export function showDiff(diff, original, modified, language) {
  const old = diff.getModel();
  diff.updateOptions({ renderSideBySide: diff.getContainerDomNode().clientWidth > 700 });
  diff.setModel({
    original: globalThis.monaco.editor.createModel(original, language),
    modified: globalThis.monaco.editor.createModel(modified, language),
  });
  old?.original.dispose();
  old?.modified.dispose();
}

/** Empties a diff editor, freeing its texts. */
export function clearDiff(diff) {
  const old = diff.getModel();
  diff.setModel(null);
  old?.original.dispose();
  old?.modified.dispose();
}

export function disposeDiff(diff) {
  const model = diff.getModel();
  diff.dispose();
  model?.original.dispose();
  model?.modified.dispose();
}

export function dispose(disposable) {
  disposable.dispose();
}

/** Asks before leaving the page while `isDirty()`: reloads and closing (beforeunload) and
 *  clicks on links that would navigate elsewhere. Returns a disposable. */
export function guardNavigation(isDirty) {
  const beforeUnload = (event) => {
    if (isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  };
  const click = (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (!link || link.target === "_blank" || link.hasAttribute("download") || !isDirty()) return;
    const url = new URL(link.href, location.href);
    if (url.pathname === location.pathname) return;
    if (!confirm("You have unsaved changes. Leave this page and lose them?")) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  };
  addEventListener("beforeunload", beforeUnload);
  document.addEventListener("click", click, true);
  return {
    dispose() {
      removeEventListener("beforeunload", beforeUnload);
      document.removeEventListener("click", click, true);
    },
  };
}

/** POSTs the file chosen in `input` (an <input type=file>) as the request body. */
export async function uploadZip(url, input) {
  const file = input.files?.[0];
  if (!file) throw "Choose a zip file first.";
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/zip", accept: "application/json" },
    body: file,
  });
  return { status: response.status, body: await response.text() };
}

/** POSTs `body` (JSON text) to `url` and reads the answer as server-sent events, calling
 *  `onEvent(name, data)` for each. When the answer is not an event stream (a refusal),
 *  `onEnd(status, text)` gets its status and body; after a stream, `onEnd(status, "")`.
 *  A failed connection is `onEnd(0, message)`. Returns `{ abort() }`: aborting closes the
 *  connection (the server then stops the work) and calls nothing further. */
export function postEvents(url, body, onEvent, onEnd) {
  const controller = new AbortController();
  let ended = false;
  const end = (status, text) => {
    ended = true;
    onEnd(status, text);
  };
  (async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body,
      signal: controller.signal,
    });
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok || !type.startsWith("text/event-stream")) {
      end(response.status, await response.text());
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let text = colon < 0 ? "" : line.slice(colon + 1);
          if (text.startsWith(" ")) text = text.slice(1);
          if (field === "event") name = text;
          else if (field === "data") data.push(text);
        }
        if (data.length > 0) onEvent(name, data.join("\n"));
      }
    }
    end(response.status, "");
  })().catch((err) => {
    if (!controller.signal.aborted) end(0, `${err?.message ?? err}`);
  });
  // Aborting an answer that has ended would only log a failed request.
  return { abort: () => ended || controller.abort() };
}
