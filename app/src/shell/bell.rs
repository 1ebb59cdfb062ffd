//! The notification bell in the header: the unread count, kept live by the server's
//! event stream (`/api/v1/notifications/events`), and a panel with the latest notices,
//! each marked read when opened, and "Mark all as read".

use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeRow {
    pub id: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub count: i64,
    pub read: bool,
    pub when: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeList {
    pub items: Vec<NoticeRow>,
    pub unread: i64,
}

/// The caller's latest notices, after marking `read` (one notice's id, or `all`) read.
/// One server function for the bell's three needs keeps its code small: it is on every
/// page.
#[server(prefix = "/api", endpoint = "notifications/list")]
pub async fn notifications(read: Option<String>) -> Result<NoticeList, AppError> {
    use crate::server::{format_millis, principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let notices = &services().notifications;
        match read.as_deref() {
            Some("all") => {
                notices.mark_all_read(&principal).await?;
            }
            Some(id) => notices.mark_read(&principal, id).await?,
            None => {}
        }
        let page = notices.list(&principal, Some(20)).await?;
        Ok(NoticeList {
            unread: page.unread,
            items: page
                .items
                .into_iter()
                .map(|n| NoticeRow {
                    id: n.id,
                    title: n.title,
                    body: n.body,
                    link: n.link,
                    count: n.count,
                    read: n.read_at.is_some(),
                    when: format_millis(n.updated_at),
                })
                .collect(),
        })
    })
    .await
}

/// Marks `read` read (if any) and loads the latest notices into `list`.
fn load(list: RwSignal<Option<Result<NoticeList, AppError>>>, read: Option<String>) {
    leptos::task::spawn_local(async move {
        let page = notifications(read).await;
        list.try_set(Some(page));
    });
}

#[component]
pub fn Bell() -> impl IntoView {
    let unread = RwSignal::new(0_i64);
    let open = RwSignal::new(false);
    // Plain signals and tasks rather than a resource and actions: the bell is on every
    // page, so its code is in the module every visitor downloads.
    let list = RwSignal::new(None::<Result<NoticeList, AppError>>);
    follow_unread(unread, move || {
        if open.get_untracked() {
            load(list, None);
        }
    });
    let toggle = move |_| {
        let now_open = !open.get_untracked();
        open.set(now_open);
        if now_open {
            list.set(None);
            load(list, None);
        }
    };
    let read_all = move |_| load(list, Some("all".to_owned()));
    let label = move || match unread.get() {
        0 => "Notifications, none unread".to_owned(),
        1 => "Notifications, 1 unread".to_owned(),
        n => format!("Notifications, {n} unread"),
    };
    let close_on_escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            open.set(false);
        }
    };
    let panel = move || {
        let content = match list.get() {
            None => view! { <p class="px-4 py-6 text-sm text-slate-500">"Loading…"</p> }.into_any(),
            Some(Ok(page)) if page.items.is_empty() => view! {
                <p class="px-4 py-6 text-sm text-slate-500 dark:text-slate-400">
                    "No notifications yet. Failed runs, skipped schedule fires and budgets nearly used show here."
                </p>
            }.into_any(),
            Some(Ok(page)) => view! {
                <ul class="max-h-96 divide-y divide-slate-100 overflow-y-auto dark:divide-slate-700" data-testid="notices">
                    {page.items.into_iter().map(|n| notice(n, open, list)).collect_view()}
                </ul>
            }.into_any(),
            Some(Err(err)) => view! { <p role="alert" class="px-4 py-6 text-sm text-red-700">{err.to_string()}</p> }.into_any(),
        };
        view! {
            <div
                id="notifications-panel"
                role="region"
                aria-label="Notifications"
                class="absolute right-0 z-30 mt-2 w-96 max-w-[90vw] rounded-md border border-slate-200 bg-white shadow-lg dark:border-slate-700 dark:bg-slate-800"
            >
                <div class="flex items-center justify-between border-b border-slate-200 px-4 py-2 dark:border-slate-700">
                    <h2 class="text-sm font-semibold">"Notifications"</h2>
                    <button
                        type="button"
                        class="text-xs font-medium text-indigo-600 hover:underline disabled:text-slate-400 dark:text-indigo-400"
                        disabled=move || unread.get() == 0
                        on:click=read_all
                    >"Mark all as read"</button>
                </div>
                {content}
            </div>
        }
    };
    view! {
        <div class="relative" on:keydown=close_on_escape>
            <button
                type="button"
                data-testid="bell"
                aria-haspopup="true"
                aria-expanded=move || open.get().to_string()
                aria-controls="notifications-panel"
                aria-label=label
                on:click=toggle
                class="relative rounded-md p-2 text-slate-600 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-300 dark:hover:bg-slate-800"
            >
                <svg aria-hidden="true" viewBox="0 0 24 24" class="h-5 w-5" fill="none" stroke="currentColor" stroke-width="1.8">
                    <path d="M15 17h5l-1.4-1.4A2 2 0 0 1 18 14.2V11a6 6 0 1 0-12 0v3.2c0 .5-.2 1-.6 1.4L4 17h5m6 0a3 3 0 0 1-6 0"/>
                </svg>
                <span
                    data-testid="bell-count"
                    class=move || {
                        if unread.get() > 0 {
                            "absolute -right-0.5 -top-0.5 min-w-5 rounded-full bg-red-600 px-1 text-center text-xs font-semibold leading-5 text-white"
                        } else {
                            "hidden"
                        }
                    }
                >
                    {move || unread.get().to_string()}
                </span>
            </button>
            {move || open.get().then(panel)}
        </div>
    }
}

fn notice(
    n: NoticeRow,
    open: RwSignal<bool>,
    list: RwSignal<Option<Result<NoticeList, AppError>>>,
) -> impl IntoView {
    let id = n.id.clone();
    let unread = !n.read;
    let mark = move || {
        if unread {
            load(list, Some(id.clone()));
        }
        open.set(false);
    };
    let title = if n.count > 1 {
        format!("{} ({}×)", n.title, n.count)
    } else {
        n.title
    };
    let class = if n.read {
        "block px-4 py-3 text-sm hover:bg-slate-50 dark:hover:bg-slate-700"
    } else {
        "block border-l-4 border-indigo-500 px-4 py-3 text-sm hover:bg-slate-50 dark:hover:bg-slate-700"
    };
    let body = view! {
        <p class="font-medium">{title}</p>
        <p class="mt-0.5 text-slate-600 dark:text-slate-300">{n.body}</p>
        <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">{n.when}</p>
    };
    view! {
        <li data-unread=unread.to_string()>
            {match n.link {
                Some(link) => view! { <A href=link attr:class=class on:click=move |_| mark()>{body}</A> }.into_any(),
                None => view! { <button type="button" class=format!("{class} w-full text-left") on:click=move |_| mark()>{body}</button> }.into_any(),
            }}
        </li>
    }
}

/// Keeps `unread` in step with the server's count, live; calls `changed` when it changes
/// (an open list reloads).
#[cfg(feature = "hydrate")]
fn follow_unread(unread: RwSignal<i64>, changed: impl Fn() + 'static) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    struct Stream {
        source: web_sys::EventSource,
        _listener: Closure<dyn FnMut(web_sys::MessageEvent)>,
    }
    impl Drop for Stream {
        fn drop(&mut self) {
            self.source.close();
        }
    }
    let Ok(source) = web_sys::EventSource::new("/api/v1/notifications/events") else {
        return;
    };
    let listener =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            // The data is `{"unread":N}`; its digits are all there is to read.
            let count = event.data().as_string().and_then(|data| {
                data.chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .parse::<i64>()
                    .ok()
            });
            if let Some(count) = count
                && unread.try_get_untracked() != Some(count)
            {
                unread.try_set(count);
                changed();
            }
        });
    let _ = source.add_event_listener_with_callback("unread", listener.as_ref().unchecked_ref());
    let stream = StoredValue::new(SendWrapper::new(Stream {
        source,
        _listener: listener,
    }));
    on_cleanup(move || {
        stream.dispose();
    });
}

#[cfg(not(feature = "hydrate"))]
fn follow_unread(_unread: RwSignal<i64>, _changed: impl Fn() + 'static) {}
