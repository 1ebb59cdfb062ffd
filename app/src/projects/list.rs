//! The Projects page: search, pages of projects, create, import from a zip, delete.

use super::api::{CreateProject, DeleteProject, list_projects};
use crate::shell::form::{
    BUTTON_CLASS, Field, FormAlert, INPUT_CLASS, SECONDARY_BUTTON_CLASS, action_error,
    navigate_hard,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

const PANEL: &str =
    "mt-6 rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900";

/// The editor page loads with a full navigation: its content security policy differs
/// from the other pages' (Monaco injects styles and starts workers), and a policy only
/// changes with a document.
pub fn editor_href(project: &str) -> String {
    format!("/projects/{project}")
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateProject>::new();
    let remove = ServerAction::<DeleteProject>::new();
    let create_error = action_error(create);
    let remove_error = action_error(remove);
    let search = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let cursor = Memo::new(move |_| query.read().get("cursor").unwrap_or_default());
    let page = Resource::new(
        move || (search.get(), cursor.get(), remove.version().get()),
        |(q, cursor, _)| list_projects(Some(q), Some(cursor)),
    );
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate_hard(&editor_href(&id));
        }
    });
    let next_href = move |next: String| {
        let q = search.get();
        format!("/projects?q={}&cursor={}", encode(&q), encode(&next))
    };
    view! {
        <Title text="Projects"/>
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold">"Projects"</h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Code you edit, version and analyse. Every save is a revision."</p>
            </div>
            <Form method="GET" action="" attr:class="flex items-center gap-2" attr:role="search">
                <label for="project-search" class="sr-only">"Search projects"</label>
                <input id="project-search" type="search" name="q" placeholder="Search projects" class=INPUT_CLASS prop:value=move || search.get()/>
                <button type="submit" class=SECONDARY_BUTTON_CLASS>"Search"</button>
            </Form>
        </div>
        <FormAlert error=remove_error/>
        <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading projects…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.items.is_empty() => {
                        let text = if search.get_untracked().is_empty() {
                            "No projects yet. Create one below or import a zip.".to_owned()
                        } else {
                            format!("No projects match “{}”.", search.get_untracked())
                        };
                        view! { <p class=PANEL data-testid="projects-empty">{text}</p> }.into_any()
                    }
                    Ok(p) => view! {
                        <ul class=format!("{PANEL} divide-y divide-slate-100 dark:divide-slate-800") aria-label="Projects">
                            {p.items.into_iter().map(|project| {
                                let id = project.id.clone();
                                let name = project.name.clone();
                                let confirm_delete = move |ev: leptos::ev::SubmitEvent| {
                                    if !confirmed(&format!("Delete “{name}” with all its files and revisions?")) {
                                        ev.prevent_default();
                                    }
                                };
                                view! {
                                    <li class="flex flex-wrap items-center justify-between gap-3 py-3">
                                        <div>
                                            <a href=editor_href(&id) rel="external" class="font-medium text-indigo-700 hover:underline dark:text-indigo-300">{project.name.clone()}</a>
                                            <p class="text-xs text-slate-500">{format!("{} · created {}", project.slug, project.created)}</p>
                                            {(!project.description.is_empty()).then(|| view! { <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{project.description.clone()}</p> })}
                                        </div>
                                        <ActionForm action=remove on:submit=confirm_delete>
                                            <input type="hidden" name="id" value=id.clone()/>
                                            <button type="submit" class=SECONDARY_BUTTON_CLASS aria-label=format!("Delete {}", project.name)>"Delete"</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <nav class="mt-4 flex gap-3" aria-label="Pages">
                            {(!cursor.get_untracked().is_empty()).then(|| view! {
                                <a class=SECONDARY_BUTTON_CLASS href=format!("/projects?q={}", encode(&search.get_untracked()))>"First page"</a>
                            })}
                            {p.next_cursor.map(|next| view! {
                                <a class=SECONDARY_BUTTON_CLASS href=next_href(next)>"Next page"</a>
                            })}
                        </nav>
                    }.into_any(),
                    Err(err) => view! { <p role="alert" class="mt-6 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <div class="grid gap-6 lg:grid-cols-2">
            <section class=PANEL aria-labelledby="new-project">
                <h2 id="new-project" class="text-lg font-semibold">"New project"</h2>
                <ActionForm action=create>
                    <div class="mt-4 grid gap-4">
                        <Field label="Name" name="name" required=true error=create_error/>
                        <Field label="Description" name="description" error=create_error/>
                    </div>
                    <div class="mt-4 flex items-center gap-3">
                        <FormAlert error=create_error/>
                        <button type="submit" class=BUTTON_CLASS disabled=move || create.pending().get()>"Create project"</button>
                    </div>
                </ActionForm>
            </section>
            <ImportForm/>
        </div>
    }
}

/// Uploads a zip as a new project. Needs the hydrated page (the archive is sent as the
/// raw request body); before hydration the button is disabled.
#[component]
fn ImportForm() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let file_input = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        start_import(name.get_untracked(), file_input, error, busy);
    };
    view! {
        <section class=PANEL aria-labelledby="import-project">
            <h2 id="import-project" class="text-lg font-semibold">"Import a zip"</h2>
            <form on:submit=submit>
                <div class="mt-4 grid gap-4">
                    <div>
                        <label for="import-name" class="block text-sm font-medium">"Name"</label>
                        <input id="import-name" class=INPUT_CLASS required=true on:input=move |ev| name.set(event_target_value(&ev)) prop:value=name/>
                    </div>
                    <div>
                        <label for="import-file" class="block text-sm font-medium">"Archive"</label>
                        <input id="import-file" type="file" accept=".zip,application/zip" required=true node_ref=file_input class="mt-1 block text-sm"/>
                        <p class="mt-1 text-xs text-slate-500">"Text files are imported; binary files are skipped and listed. Paths with .. or a leading / are refused."</p>
                    </div>
                </div>
                <div class="mt-4 flex items-center gap-3">
                    <Show when=move || error.get().is_some()>
                        <div role="alert" class="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">{move || error.get()}</div>
                    </Show>
                    <button type="submit" class=BUTTON_CLASS disabled=move || busy.get() || !hydrated.get()>
                        {move || if busy.get() { "Importing…" } else { "Import" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

#[cfg(feature = "hydrate")]
fn start_import(
    name: String,
    file_input: NodeRef<leptos::html::Input>,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
) {
    let Some(input) = file_input.get_untracked() else {
        return;
    };
    busy.set(true);
    error.set(None);
    leptos::task::spawn_local(async move {
        let url = format!("/api/v1/projects/import?name={}", encode(&name));
        match super::monaco::upload(&url, &input).await {
            Ok((201, body)) => {
                let id = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["data"]["project"]["id"].as_str().map(str::to_owned));
                match id {
                    Some(id) => navigate_hard(&editor_href(&id)),
                    None => error.set(Some("The server answered without a project.".into())),
                }
            }
            Ok((_, body)) => {
                let message = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "The import failed.".into());
                error.set(Some(message));
            }
            Err(message) => error.set(Some(message)),
        }
        busy.set(false);
    });
}

#[cfg(not(feature = "hydrate"))]
fn start_import(
    _name: String,
    _file_input: NodeRef<leptos::html::Input>,
    _error: RwSignal<Option<String>>,
    _busy: RwSignal<bool>,
) {
}

/// Asks the user to confirm; always yes where there is no browser.
pub fn confirmed(message: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().confirm_with_message(message).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = message;
        true
    }
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
