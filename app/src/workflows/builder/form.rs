//! A step's settings form, made from its type's configuration schema (JSON Schema, derived
//! on the server from the structs a save is checked with). No field is written by hand
//! per step type: a type added later gets its form from its schema.
//!
//! What the schema says decides the input: text (a text area for templates and code), a
//! number, a checkbox (or Default/Yes/No when the setting may be left unset), a choice
//! for an `enum`, a checkbox per choice for a list of `enum` values, one line per entry for
//! a map of strings, a nested group for an object with properties, and JSON for anything
//! else.

use leptos::either::{Either, EitherOf3, EitherOf7};
use leptos::prelude::*;
use serde_json::{Map, Value};

/// Where a field sits in the configuration: property names from the top.
type Path = Vec<String>;

/// `value` with the field at `path` set, or removed when `new` is `None`.
fn with_field(mut value: Value, path: &[String], new: Option<Value>) -> Value {
    let Some((last, parents)) = path.split_last() else {
        return new.unwrap_or(Value::Null);
    };
    let mut at = &mut value;
    for key in parents {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        at = at
            .as_object_mut()
            .map(|o| o.entry(key.clone()).or_insert(Value::Object(Map::new())))
            .expect("made an object above");
    }
    if !at.is_object() {
        *at = Value::Object(Map::new());
    }
    if let Some(o) = at.as_object_mut() {
        match new {
            Some(v) => {
                o.insert(last.clone(), v);
            }
            None => {
                o.remove(last);
            }
        }
    }
    value
}

fn field_at<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// `snake_case` as words: `max_tokens` → "Max tokens".
fn label_of(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// The schema `schema` refers to (`$ref` into the root's `$defs`), or itself.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs")?.get(name))
        .unwrap_or(schema)
}

/// The schema's type and whether the value may be left unset (`["integer", "null"]`).
fn type_of(schema: &Value) -> (Option<&str>, bool) {
    match schema.get("type") {
        Some(Value::String(t)) => (Some(t.as_str()), false),
        Some(Value::Array(ts)) => (
            ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
            ts.iter().any(|t| t == "null"),
        ),
        _ => (None, false),
    }
}

/// The properties of an object schema, required ones first (in schema order), then the
/// rest by name.
fn properties(schema: &Value) -> Vec<(String, Value, bool)> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out: Vec<(String, Value, bool)> = required
        .iter()
        .filter_map(|name| {
            props
                .get(*name)
                .map(|s| (name.to_string(), s.clone(), true))
        })
        .collect();
    out.extend(
        props
            .iter()
            .filter(|(name, _)| !required.contains(&name.as_str()))
            .map(|(name, s)| (name.clone(), s.clone(), false)),
    );
    out
}

/// A map of strings as `Name: value` lines.
fn lines_of(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn map_of(text: &str) -> Value {
    Value::Object(
        text.lines()
            .filter_map(|line| {
                let (k, v) = line.split_once(':')?;
                let k = k.trim();
                (!k.is_empty()).then(|| (k.to_owned(), Value::String(v.trim().to_owned())))
            })
            .collect(),
    )
}

const FIELD: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100 aria-[invalid=true]:border-red-500";

/// The form for one step's configuration. `config` is read once; each change calls
/// `on_change` with the whole new configuration. `error_of(path)` is the server's
/// problem with a field, if it has one.
#[component]
pub fn ConfigForm(
    /// Makes element ids unique on the page.
    step: String,
    schema: Value,
    config: Value,
    on_change: Callback<Value>,
    error_of: Callback<String, Option<String>>,
    read_only: bool,
    /// What template fields offer as the user types: `input…` and upstream outputs.
    completions: Signal<Vec<String>>,
) -> impl IntoView {
    let current = StoredValue::new(config);
    let root = StoredValue::new(schema.clone());
    let set = move |path: Path, new: Option<Value>| {
        current.update_value(|v| *v = with_field(std::mem::take(v), &path, new));
        on_change.run(current.get_value());
    };
    let ctx = Context {
        root,
        current,
        error_of,
        read_only,
        completions,
    };
    fields(step, schema, ctx, set)
}

/// What every field of one form shares.
#[derive(Clone, Copy)]
struct Context {
    root: StoredValue<Value>,
    current: StoredValue<Value>,
    error_of: Callback<String, Option<String>>,
    read_only: bool,
    completions: Signal<Vec<String>>,
}

/// The form's fields; an object with properties (a map's `step`) is a group of fields
/// one level deep. Deeper objects are edited as JSON, which keeps the view types finite
/// (and out of `AnyView`, whose async hydration code would cost WASM).
fn fields(
    step: String,
    schema: Value,
    ctx: Context,
    set: impl Fn(Path, Option<Value>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    properties(&schema)
        .into_iter()
        .map(|(name, prop, required)| {
            let prop = ctx.root.with_value(|r| resolve(r, &prop).clone());
            let path = vec![name.clone()];
            if type_of(&prop).0 == Some("object") && prop.get("properties").is_some() {
                let id = format!("cfg-{step}-{name}-help");
                let described = id.clone();
                let description = prop
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let inner = properties(&prop)
                    .into_iter()
                    .map(|(child, child_prop, child_required)| {
                        let child_prop = ctx.root.with_value(|r| resolve(r, &child_prop).clone());
                        let mut child_path = path.clone();
                        child_path.push(child.clone());
                        field(
                            step.clone(),
                            child,
                            child_prop,
                            child_required,
                            child_path,
                            ctx,
                            set,
                        )
                    })
                    .collect_view();
                Either::Left(view! {
                    <fieldset class="mt-3 rounded-md border border-slate-200 p-3 dark:border-slate-700" aria-describedby=described>
                        <legend class="px-1 text-sm font-medium">{label_of(&name)}</legend>
                        <p id=id class="text-xs text-slate-500">{description}</p>
                        {inner}
                    </fieldset>
                })
            } else {
                Either::Right(field(step.clone(), name, prop, required, path, ctx, set))
            }
        })
        .collect_view()
}

fn field(
    step: String,
    name: String,
    prop: Value,
    required: bool,
    path: Path,
    ctx: Context,
    set: impl Fn(Path, Option<Value>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let Context {
        root,
        current,
        error_of,
        read_only,
        ..
    } = ctx;
    let dotted = path.join(".");
    let id = format!("cfg-{step}-{}", path.join("-"));
    let help_id = format!("{id}-help");
    let error_id = format!("{id}-error");
    let description = prop
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let label = format!(
        "{}{}",
        label_of(&name),
        if required { "" } else { " (optional)" }
    );
    let existing = current.with_value(|v| field_at(v, &path).cloned());
    let (kind, nullable) = type_of(&prop);
    let error = {
        let field = format!("config.{dotted}");
        move || error_of.run(field.clone())
    };
    let invalid = {
        let error = error.clone();
        move || error().is_some().to_string()
    };
    let describedby = format!("{help_id} {error_id}");
    let template = prop.get("x-template") == Some(&Value::Bool(true));
    let code = prop.get("x-code") == Some(&Value::Bool(true));
    let choices: Option<Vec<String>> = prop.get("enum").and_then(Value::as_array).map(|e| {
        e.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    });

    // A list of fixed choices (an agent's tools): a checkbox each.
    let item_choices: Option<Vec<String>> = prop
        .get("items")
        .filter(|_| kind == Some("array"))
        .and_then(|items| {
            root.with_value(|r| {
                resolve(r, items)
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|e| {
                        e.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
            })
        });
    if let Some(options) = item_choices {
        let chosen: Vec<String> = existing
            .as_ref()
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let all = options.clone();
        let boxes = options
            .into_iter()
            .map(|option| {
                let checked = chosen.contains(&option);
                let (path, all, value) = (path.clone(), all.clone(), option.clone());
                view! {
                    <label class="inline-flex items-center gap-1 text-sm">
                        <input type="checkbox" class="h-4 w-4 rounded border-slate-300" checked=checked disabled=read_only
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                let now: Vec<String> = current.with_value(|v| {
                                    field_at(v, &path)
                                        .and_then(Value::as_array)
                                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                                        .unwrap_or_default()
                                });
                                // In the schema's order; none chosen leaves it unset.
                                let next: Vec<Value> = all
                                    .iter()
                                    .filter(|o| if **o == value { on } else { now.contains(o) })
                                    .map(|o| Value::String(o.clone()))
                                    .collect();
                                set(path.clone(), (!next.is_empty()).then_some(Value::Array(next)));
                            }/>
                        <span class="font-mono">{option}</span>
                    </label>
                }
            })
            .collect_view();
        return Either::Left(view! {
            <div class="mt-3">
                <p id=id.clone() class="block text-sm font-medium">{label.clone()}</p>
                <div role="group" aria-labelledby=id aria-describedby=describedby class="mt-1 flex flex-wrap gap-x-4 gap-y-1">{boxes}</div>
                <p id=help_id class="mt-1 text-xs text-slate-500 dark:text-slate-400">{description}</p>
                <p id=error_id role="alert" class="mt-1 text-xs text-red-600 dark:text-red-400">{error}</p>
            </div>
        });
    }
    let input = match (kind, choices) {
        (_, Some(choices)) => {
            let now = existing
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let path = path.clone();
            EitherOf7::A(view! {
                <select id=id.clone() class=FIELD aria-describedby=describedby.clone() aria-invalid=invalid disabled=read_only
                    on:change=move |ev| set(path.clone(), Some(Value::String(event_target_value(&ev))))>
                    {choices.into_iter().map(|c| {
                        let selected = c == now;
                        view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                    }).collect_view()}
                </select>
            })
        }
        (Some("string"), None) => {
            let now = existing
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let typed = move |path: Path, text: String| {
                set(
                    path,
                    if text.is_empty() && nullable {
                        None
                    } else {
                        Some(Value::String(text))
                    },
                );
            };
            let on_input = {
                let path = path.clone();
                move |ev: leptos::ev::Event| typed(path.clone(), event_target_value(&ev))
            };
            EitherOf7::B(if template {
                let path = path.clone();
                let on_text = Callback::new(move |text: String| typed(path.clone(), text));

                EitherOf3::A(view! {
                    <TemplateArea id=id.clone() now describedby=describedby.clone() invalid=Signal::derive(invalid)
                        read_only on_text completions=ctx.completions/>
                })
            } else if code {
                EitherOf3::B(view! {
                    <textarea id=id.clone() rows="6" spellcheck="false" class=format!("{FIELD} font-mono") aria-describedby=describedby.clone()
                        aria-invalid=invalid readonly=read_only on:input=on_input prop:value=now.clone()>{now.clone()}</textarea>
                })
            } else {
                EitherOf3::C(view! {
                    <input id=id.clone() type="text" class=FIELD aria-describedby=describedby.clone() aria-invalid=invalid readonly=read_only
                        prop:value=now.clone() value=now on:input=on_input/>
                })
            })
        }
        (Some("integer" | "number"), None) => {
            let now = existing
                .as_ref()
                .filter(|v| v.is_number())
                .map(|v| v.to_string())
                .unwrap_or_default();
            let integer = kind == Some("integer");
            let path = path.clone();
            EitherOf7::C(view! {
                <input id=id.clone() type="number" step=if integer { "1" } else { "any" } min=prop.get("minimum").map(|m| m.to_string())
                    class=FIELD aria-describedby=describedby.clone() aria-invalid=invalid readonly=read_only value=now.clone() prop:value=now
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        let number = if integer {
                            text.trim().parse::<i64>().ok().map(Value::from)
                        } else {
                            text.trim().parse::<f64>().ok().and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                        };
                        // Half-typed numbers wait; a cleared field is unset.
                        if text.trim().is_empty() {
                            set(path.clone(), None);
                        } else if let Some(n) = number {
                            set(path.clone(), Some(n));
                        }
                    }/>
            })
        }
        (Some("boolean"), None) if !nullable => {
            let now = existing.as_ref().and_then(Value::as_bool).unwrap_or(false);
            let path = path.clone();
            EitherOf7::D(view! {
                <input id=id.clone() type="checkbox" class="mt-2 h-4 w-4 rounded border-slate-300" aria-describedby=describedby.clone()
                    checked=now disabled=read_only
                    on:change=move |ev| set(path.clone(), Some(Value::Bool(event_target_checked(&ev))))/>
            })
        }
        (Some("boolean"), None) => {
            let now = existing.as_ref().and_then(Value::as_bool);
            let path = path.clone();
            EitherOf7::E(view! {
                <select id=id.clone() class=FIELD aria-describedby=describedby.clone() disabled=read_only
                    on:change=move |ev| set(path.clone(), match event_target_value(&ev).as_str() {
                        "yes" => Some(Value::Bool(true)),
                        "no" => Some(Value::Bool(false)),
                        _ => None,
                    })>
                    <option value="" selected=now.is_none()>"Default"</option>
                    <option value="yes" selected=now == Some(true)>"Yes"</option>
                    <option value="no" selected=now == Some(false)>"No"</option>
                </select>
            })
        }
        (Some("object"), None)
            if prop
                .get("additionalProperties")
                .and_then(|a| a.get("type"))
                .and_then(Value::as_str)
                == Some("string") =>
        {
            let now = lines_of(existing.as_ref());
            let path = path.clone();
            EitherOf7::F(view! {
                <textarea id=id.clone() rows="3" spellcheck="false" placeholder="Name: value, one per line" class=format!("{FIELD} font-mono")
                    aria-describedby=describedby.clone() aria-invalid=invalid readonly=read_only prop:value=now.clone()
                    on:input=move |ev| set(path.clone(), Some(map_of(&event_target_value(&ev))))>{now.clone()}</textarea>
            })
        }
        _ => {
            // Anything the schema leaves open is edited as JSON; text that does not
            // parse yet is kept in the box and not applied.
            let now = existing
                .as_ref()
                .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
                .unwrap_or_default();
            let bad = RwSignal::new(false);
            let path = path.clone();
            EitherOf7::G(view! {
                <textarea id=id.clone() rows="4" spellcheck="false" class=format!("{FIELD} font-mono") aria-describedby=describedby.clone()
                    aria-invalid=move || bad.get().to_string() readonly=read_only prop:value=now.clone()
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        match serde_json::from_str::<Value>(&text) {
                            Ok(v) => { bad.set(false); set(path.clone(), Some(v)); }
                            Err(_) if text.trim().is_empty() => { bad.set(false); set(path.clone(), None); }
                            Err(_) => bad.set(true),
                        }
                    }>{now.clone()}</textarea>
                <p class="mt-1 text-xs text-amber-700 dark:text-amber-400" aria-live="polite">{move || bad.get().then_some("Not valid JSON yet; the last valid value is kept.")}</p>
            })
        }
    };
    Either::Right(view! {
        <div class="mt-3">
            <label for=id class="block text-sm font-medium">{label}</label>
            {input}
            <p id=help_id class="mt-1 text-xs text-slate-500 dark:text-slate-400">{description}</p>
            <p id=error_id role="alert" class="mt-1 text-xs text-red-600 dark:text-red-400">{error}</p>
        </div>
    })
}

/// The word being typed just before the caret: letters, digits, `_` and `.`.
fn word_before(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .last()
        .map_or(text.len(), |(i, _)| i);
    &text[start..]
}

/// A template field that offers `input…` and upstream steps' outputs as the user types:
/// arrows choose, Enter or Tab takes one, Escape closes the list.
#[component]
fn TemplateArea(
    id: String,
    now: String,
    describedby: String,
    invalid: Signal<String>,
    read_only: bool,
    on_text: Callback<String>,
    completions: Signal<Vec<String>>,
) -> impl IntoView {
    let area = NodeRef::<leptos::html::Textarea>::new();
    let matches = RwSignal::new(Vec::<String>::new());
    let active = RwSignal::new(0_usize);
    let list_id = format!("{id}-completions");
    let option_id = {
        let id = id.clone();
        move |i: usize| format!("{id}-option-{i}")
    };
    // The text before the caret (the caret counts UTF-16 units) and after it.
    let split = move || -> Option<(String, String)> {
        let el = area.get_untracked()?;
        let caret = el.selection_start().ok().flatten()? as usize;
        let units: Vec<u16> = el.value().encode_utf16().collect();
        let caret = caret.min(units.len());
        Some((
            String::from_utf16_lossy(&units[..caret]),
            String::from_utf16_lossy(&units[caret..]),
        ))
    };
    let refresh = move || {
        let found = split()
            .map(|(before, _)| {
                let word = word_before(&before).to_owned();
                if word.is_empty() {
                    return Vec::new();
                }
                completions.with(|all| {
                    all.iter()
                        .filter(|c| c.starts_with(&word) && **c != word)
                        .take(8)
                        .cloned()
                        .collect()
                })
            })
            .unwrap_or_default();
        matches.set(found);
        active.set(0);
    };
    let accept = move |choice: String| {
        let (Some(el), Some((before, after))) = (area.get_untracked(), split()) else {
            return;
        };
        let kept = &before[..before.len() - word_before(&before).len()];
        let text = format!("{kept}{choice}{after}");
        el.set_value(&text);
        let caret = (kept.encode_utf16().count() + choice.encode_utf16().count()) as u32;
        let _ = el.set_selection_range(caret, caret);
        matches.set(Vec::new());
        on_text.run(text);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = matches.with(Vec::len);
        if count == 0 {
            return;
        }
        match ev.key().as_str() {
            "ArrowDown" => active.update(|a| *a = (*a + 1) % count),
            "ArrowUp" => active.update(|a| *a = (*a + count - 1) % count),
            "Enter" | "Tab" => {
                if let Some(choice) = matches.with(|m| m.get(active.get_untracked()).cloned()) {
                    accept(choice);
                }
            }
            "Escape" => matches.set(Vec::new()),
            _ => return,
        }
        ev.prevent_default();
        ev.stop_propagation();
    };
    let active_option = {
        let option_id = option_id.clone();
        move || (!matches.with(Vec::is_empty)).then(|| option_id(active.get()))
    };
    view! {
        <div class="relative">
            <textarea id=id node_ref=area rows="3" spellcheck="false" class=format!("{FIELD} font-mono") aria-describedby=describedby
                aria-invalid=invalid readonly=read_only data-template="" role="combobox" aria-autocomplete="list"
                aria-expanded=move || (!matches.with(Vec::is_empty)).to_string() aria-controls=list_id.clone()
                aria-activedescendant=active_option
                on:input=move |ev| {
                    on_text.run(event_target_value(&ev));
                    refresh();
                }
                on:keydown=on_keydown
                on:blur=move |_| matches.set(Vec::new())
                prop:value=now.clone()>{now.clone()}</textarea>
            <ul id=list_id role="listbox" aria-label="Completions"
                class="absolute z-10 mt-1 max-h-48 w-full overflow-auto rounded-md border border-slate-200 bg-white py-1 font-mono text-xs shadow-lg empty:hidden dark:border-slate-700 dark:bg-slate-900">
                {move || matches.get().into_iter().enumerate().map(|(i, m)| {
                    let chosen = m.clone();
                    view! {
                        <li id=option_id(i) role="option" aria-selected=move || (active.get() == i).to_string()
                            class="cursor-pointer px-2 py-1 aria-selected:bg-indigo-100 dark:aria-selected:bg-indigo-900"
                            on:mousedown=move |ev| { ev.prevent_default(); accept(chosen.clone()); }>{m}</li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_set_and_removed_by_path() {
        let v = with_field(
            json!({ "a": 1 }),
            &["b".into(), "c".into()],
            Some(json!("x")),
        );
        assert_eq!(v, json!({ "a": 1, "b": { "c": "x" } }));
        let v = with_field(v, &["a".into()], None);
        assert_eq!(v, json!({ "b": { "c": "x" } }));
        assert_eq!(field_at(&v, &["b".into(), "c".into()]), Some(&json!("x")));
    }

    #[test]
    fn required_properties_come_first_and_nullable_types_are_read() {
        let schema = json!({
            "properties": { "a": { "type": ["integer", "null"] }, "z": { "type": "string" } },
            "required": ["z"],
        });
        let names: Vec<_> = properties(&schema).into_iter().map(|p| p.0).collect();
        assert_eq!(names, ["z", "a"]);
        assert_eq!(type_of(&schema["properties"]["a"]), (Some("integer"), true));
        assert_eq!(
            map_of("Accept: json\nbad line\n X-Y : 1 "),
            json!({ "Accept": "json", "X-Y": "1" })
        );
        assert_eq!(label_of("max_tokens"), "Max tokens");
    }

    #[test]
    fn the_word_before_the_caret_stops_at_spaces_and_braces() {
        assert_eq!(word_before("Hi {{ steps.fe"), "steps.fe");
        assert_eq!(word_before("{{input"), "input");
        assert_eq!(word_before("done "), "");
        assert_eq!(word_before("naïve x.y"), "x.y");
    }
}
