//! The signed-in layout: sidebar, header with breadcrumbs and user menu, error boundary.
//! Anonymous visitors are sent to `/login?next=…` (the server does the same with a real
//! redirect before any HTML is rendered; this covers client-side navigation).

use super::encode_query_value;
use super::form::navigate_hard;
use crate::auth::{CurrentUser, SignOut, fetch_current_user};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

/// The signed-in user, kept in a signal so a profile change shows everywhere at once.
pub fn use_current_user() -> RwSignal<CurrentUser> {
    expect_context::<RwSignal<CurrentUser>>()
}

#[component]
pub fn AppLayout() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| fetch_current_user());
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <p class="p-8 text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        provide_context(RwSignal::new(user));
                        view! { <SignedInFrame/> }.into_any()
                    }
                    Ok(None) => {
                        let here = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
                        let target = if here.is_empty() || here == "/" { "/login".to_owned() } else { format!("/login?next={}", encode_query_value(&here)) };
                        view! { <Redirect path=target/> }.into_any()
                    }
                    Err(err) => view! { <ErrorPanel message=err.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignedInFrame() -> impl IntoView {
    view! {
        <div class="flex min-h-screen flex-col bg-slate-50 text-slate-900 md:flex-row dark:bg-slate-950 dark:text-slate-100">
            <Sidebar/>
            <div class="flex min-w-0 flex-1 flex-col">
                <Header/>
                <main id="main" class="mx-auto w-full max-w-6xl flex-1 px-6 py-8">
                    <ErrorBoundary fallback=|errors| {
                        let message = move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ");
                        view! { <ErrorPanel message=message()/> }
                    }>
                        <Outlet/>
                    </ErrorBoundary>
                </main>
            </div>
        </div>
    }
}

const NAV: [(&str, &str, bool); 7] = [
    ("/", "Dashboard", false),
    ("/projects", "Projects", false),
    ("/workflows", "Workflows", false),
    ("/runs", "Runs", false),
    ("/models", "Models", true),
    ("/audit", "Audit", true),
    ("/settings", "Settings", false),
];

#[component]
fn Sidebar() -> impl IntoView {
    let user = use_current_user();
    let location = use_location();
    let is_current = move |href: &str| {
        let path = location.pathname.get();
        if href == "/" {
            path == "/"
        } else {
            path == href || path.starts_with(&format!("{href}/"))
        }
    };
    view! {
        <nav aria-label="Main" class="flex shrink-0 items-center gap-2 overflow-x-auto border-b border-slate-200 bg-white px-3 py-2 md:block md:w-56 md:border-r md:border-b-0 md:py-6 dark:border-slate-800 dark:bg-slate-900">
            <a href="/" class="flex items-center gap-2 px-3 text-lg font-bold tracking-tight text-indigo-600 md:mb-8 dark:text-indigo-400">"Aura"</a>
            <ul class="flex gap-1 md:block md:space-y-1">
                {NAV.into_iter()
                    .filter(move |(_, _, admin_only)| !admin_only || user.get_untracked().is_admin)
                    .map(|(href, label, _)| view! {
                        <li>
                            <A href=href attr:class=move || format!(
                                "block whitespace-nowrap rounded-md px-3 py-2 text-sm font-medium {}",
                                if is_current(href) { "bg-indigo-50 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300" }
                                else { "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800" }
                            )>{label}</A>
                        </li>
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

fn crumb_title(segment: &str) -> String {
    // Record ids (UUIDs) are shortened rather than title-cased: `01a201d1…`.
    if segment.len() == 36 && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return format!("{}…", &segment[..8]);
    }
    let mut chars = segment.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars)
            .collect::<String>()
            .replace(['-', '_'], " "),
        None => String::new(),
    }
}

#[component]
fn Header() -> impl IntoView {
    let location = use_location();
    let crumbs = move || {
        let path = location.pathname.get();
        let mut href = String::new();
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(|segment| {
                href.push('/');
                href.push_str(segment);
                (href.clone(), crumb_title(segment))
            })
            .collect::<Vec<_>>()
    };
    view! {
        <header class="flex h-14 items-center justify-between border-b border-slate-200 bg-white px-6 dark:border-slate-800 dark:bg-slate-900">
            <nav aria-label="Breadcrumb">
                <ol class="flex items-center gap-2 text-sm text-slate-500 dark:text-slate-400">
                    <li><A href="/" attr:class="hover:text-slate-900 dark:hover:text-white">"Home"</A></li>
                    {move || crumbs().into_iter().map(|(href, title)| view! {
                        <li aria-hidden="true">"/"</li>
                        <li><A href=href attr:class="font-medium text-slate-900 dark:text-white">{title}</A></li>
                    }).collect_view()}
                </ol>
            </nav>
            <div class="flex items-center gap-1">
                <super::bell::Bell/>
                <UserMenu/>
            </div>
        </header>
    }
}

#[component]
fn UserMenu() -> impl IntoView {
    let user = use_current_user();
    let sign_out = ServerAction::<SignOut>::new();
    // Close the menu whenever the page changes, so it never lingers over the next page.
    let menu = NodeRef::<leptos::html::Details>::new();
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        if let Some(details) = menu.get_untracked() {
            let _ = details.remove_attribute("open");
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(path)) = sign_out.value().get() {
            navigate_hard(&path);
        }
    });
    view! {
        <details class="relative" node_ref=menu>
            <summary class="cursor-pointer list-none rounded-md px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800">
                <span data-testid="user-name">{move || user.get().display_name}</span>
                <span aria-hidden="true">" ▾"</span>
            </summary>
            <div class="absolute right-0 z-20 mt-2 w-56 rounded-md border border-slate-200 bg-white py-1 shadow-lg dark:border-slate-700 dark:bg-slate-800">
                <p class="truncate px-4 py-2 text-xs text-slate-500 dark:text-slate-400">{move || user.get().email}</p>
                <A href="/profile" attr:class="block px-4 py-2 text-sm hover:bg-slate-100 dark:hover:bg-slate-700">"Profile"</A>
                <ActionForm action=sign_out>
                    <button type="submit" class="block w-full px-4 py-2 text-left text-sm hover:bg-slate-100 dark:hover:bg-slate-700">"Sign out"</button>
                </ActionForm>
            </div>
        </details>
    }
}

#[component]
pub fn ErrorPanel(message: String) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-lg border border-red-300 bg-red-50 p-6 text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
            <h2 class="font-semibold">"Something went wrong"</h2>
            <p class="mt-1 text-sm">{message}</p>
        </div>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="flex min-h-screen flex-col items-center justify-center gap-4 bg-slate-50 px-6 text-center dark:bg-slate-950">
            <p class="text-sm font-semibold text-indigo-600 dark:text-indigo-400">"404"</p>
            <h1 class="text-3xl font-bold text-slate-900 dark:text-white">"Page not found"</h1>
            <p class="text-slate-600 dark:text-slate-400">"The page you asked for does not exist or has moved."</p>
            <a href="/" class="text-sm font-semibold text-indigo-600 hover:underline dark:text-indigo-400">"Back to the dashboard"</a>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::crumb_title;

    #[test]
    fn crumbs_read_as_words_and_ids_are_shortened() {
        assert_eq!(crumb_title("audit-log"), "Audit log");
        assert_eq!(
            crumb_title("01a201d1-68e6-7574-bd9b-15b1d8180e08"),
            "01a201d1…"
        );
    }
}
