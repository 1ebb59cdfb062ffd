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

#[server(prefix = "/api", endpoint = "notifications/list")]
pub async fn list_notifications() -> Result<NoticeList, AppError> {
    use crate::server::{format_millis, principal, respond, services};
    respond(async move {
        let page = services()
            .notifications
            .list(&principal()?, Some(20))
            .await?;
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

#[server(prefix = "/api", endpoint = "notifications/read")]
pub async fn mark_notification_read(id: String) -> Result<(), AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        services()
            .notifications
            .mark_read(&principal()?, &id)
            .await?;
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "notifications/read_all")]
pub async fn mark_all_notifications_read() -> Result<u64, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        Ok(services()
            .notifications
            .mark_all_read(&principal()?)
            .await?)
    })
    .await
}

#[component]
pub fn Bell() -> impl IntoView {
    let unread = RwSignal::new(0_i64);
    let open = RwSignal::new(false);
    let version = RwSignal::new(0_u64);
    let list = Resource::new(
        move || (open.get(), version.get()),
        |(open, _)| async move {
            if open {
                list_notifications().await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    follow_unread(unread, version);
    let read_all = Action::new(|_: &()| mark_all_notifications_read());
    let read_one = Action::new(|id: &String| mark_notification_read(id.clone()));
    Effect::new(move |_| {
        if read_all.value().get().is_some() || read_one.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
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
    view! {
        <div class="relative" on:keydown=close_on_escape>
            <button
                type="button"
                data-testid="bell"
                aria-haspopup="true"
                aria-expanded=move || open.get().to_string()
                aria-controls="notifications-panel"
                aria-label=label
                on:click=move |_| open.update(|o| *o = !*o)
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
            <Show when=move || open.get()>
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
                            on:click=move |_| { read_all.dispatch(()); }
                        >"Mark all as read"</button>
                    </div>
                    <Transition fallback=|| view! { <p class="px-4 py-6 text-sm text-slate-500">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match list.await {
                                Ok(Some(page)) if page.items.is_empty() => view! {
                                    <p class="px-4 py-6 text-sm text-slate-500 dark:text-slate-400">
                                        "No notifications yet. Failed runs, skipped schedule fires and budgets nearly used show here."
                                    </p>
                                }.into_any(),
                                Ok(Some(page)) => view! {
                                    <ul class="max-h-96 divide-y divide-slate-100 overflow-y-auto dark:divide-slate-700" data-testid="notices">
                                        {page.items.into_iter().map(|n| notice(n, read_one, open)).collect_view()}
                                    </ul>
                                }.into_any(),
                                Ok(None) => ().into_any(),
                                Err(err) => view! { <p role="alert" class="px-4 py-6 text-sm text-red-700">{err.to_string()}</p> }.into_any(),
                            }
                        })}
                    </Transition>
                </div>
            </Show>
        </div>
    }
}

fn notice(
    n: NoticeRow,
    read_one: Action<String, Result<(), AppError>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let id = n.id.clone();
    let unread = !n.read;
    let mark = move || {
        if unread {
            read_one.dispatch(id.clone());
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

/// Keeps `unread` in step with the server's count, live; bumps `version` when it changes
/// so an open list reloads.
#[cfg(feature = "hydrate")]
fn follow_unread(unread: RwSignal<i64>, version: RwSignal<u64>) {
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
            let count = event
                .data()
                .as_string()
                .and_then(|data| serde_json::from_str::<serde_json::Value>(&data).ok())
                .and_then(|value| value["unread"].as_i64());
            if let Some(count) = count
                && unread.try_get_untracked() != Some(count)
            {
                unread.try_set(count);
                version.try_update(|v| *v += 1);
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
fn follow_unread(_unread: RwSignal<i64>, _version: RwSignal<u64>) {}
