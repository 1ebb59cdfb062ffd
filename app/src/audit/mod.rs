//! The audit log page (admins only): newest first, filter by actor and action, paged by
//! cursor so that new events arriving never shift a page.

use crate::error::AppError;
use crate::shell::encode_query_value;
use crate::shell::form::{INPUT_CLASS, SECONDARY_BUTTON_CLASS};
use aura_types::AuditAction;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    /// UTC, formatted on the server so the WASM bundle needs no date library.
    pub occurred_at: String,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub rows: Vec<AuditRow>,
    pub next_before: Option<i64>,
}

pub const PAGE_SIZE: u32 = 50;

#[server(prefix = "/api", endpoint = "audit/events")]
pub async fn audit_events(
    actor: String,
    action: String,
    before: Option<i64>,
) -> Result<AuditView, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        if !action.is_empty() && AuditAction::parse(&action).is_none() {
            return Err(AppError::invalid(
                "action",
                "Choose an action from the list.",
            ));
        }
        let filter = aura_store::AuditFilter {
            actor,
            action,
            before,
            limit: PAGE_SIZE,
        };
        let page = services().accounts.audit_log(&principal, &filter).await?;
        let rows = page
            .events
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                occurred_at: crate::server::format_millis(e.occurred_at),
                actor: e.actor_email.unwrap_or_else(|| "—".into()),
                action: e.action,
                outcome: e.outcome,
                ip: e.ip.unwrap_or_default(),
                user_agent: e.user_agent.unwrap_or_default(),
                detail: e.detail.unwrap_or_default(),
            })
            .collect();
        Ok(AuditView {
            rows,
            next_before: page.next_before,
        })
    })
    .await
}

#[component]
pub fn AuditPage() -> impl IntoView {
    if !crate::shell::use_current_user().get_untracked().is_admin {
        return view! {
            <Title text="Audit log"/>
            <h1 class="text-2xl font-semibold">"Audit log"</h1>
            <p role="alert" class="mt-6 rounded-xl border border-slate-200 bg-white p-6 text-sm text-slate-600 dark:border-slate-800 dark:bg-slate-900 dark:text-slate-400">
                "Only administrators can view the audit log."
            </p>
        }
        .into_any();
    }
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (
            q.get("actor").unwrap_or_default(),
            q.get("action").unwrap_or_default(),
            q.get("before").and_then(|b| b.parse::<i64>().ok()),
        )
    };
    let events = Resource::new(params, |(actor, action, before)| {
        audit_events(actor, action, before)
    });
    view! {
        <Title text="Audit log"/>
        <h1 class="text-2xl font-semibold">"Audit log"</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Security-relevant actions on this instance, newest first."</p>
        <form method="get" action="/audit" class="mt-6 flex flex-wrap items-end gap-4" role="search">
            <div>
                <label for="audit-actor" class="block text-sm font-medium">"Actor email"</label>
                <input id="audit-actor" name="actor" type="search" class=INPUT_CLASS prop:value=move || params().0/>
            </div>
            <div>
                <label for="audit-action" class="block text-sm font-medium">"Action"</label>
                <select id="audit-action" name="action" class=INPUT_CLASS prop:value=move || params().1>
                    <option value="">"All actions"</option>
                    {AuditAction::ALL.iter().map(|a| view! { <option value=a.as_str()>{a.as_str()}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class=SECONDARY_BUTTON_CLASS>"Filter"</button>
        </form>
        <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(view) => view! { <AuditTable view filter=params()/> }.into_any(),
                    Err(err) => view! { <p role="alert" class="mt-6 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn AuditTable(view: AuditView, filter: (String, String, Option<i64>)) -> impl IntoView {
    let (actor, action, before) = filter;
    let base = format!(
        "/audit?actor={}&action={}",
        encode_query_value(&actor),
        encode_query_value(&action)
    );
    let older = view.next_before.map(|id| format!("{base}&before={id}"));
    let newest = before.is_some().then(|| base.clone());
    if view.rows.is_empty() {
        return view! {
            <div class="mt-6 rounded-xl border border-dashed border-slate-300 p-10 text-center text-sm text-slate-600 dark:border-slate-700 dark:text-slate-400">
                "No events match these filters."
            </div>
        }.into_any();
    }
    view! {
        <div class="mt-6 overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <table class="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:bg-slate-800/50 dark:text-slate-400">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Time"</th>
                        <th scope="col" class="px-4 py-3">"Actor"</th>
                        <th scope="col" class="px-4 py-3">"Action"</th>
                        <th scope="col" class="px-4 py-3">"Outcome"</th>
                        <th scope="col" class="px-4 py-3">"IP"</th>
                        <th scope="col" class="px-4 py-3">"User agent"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {view.rows.into_iter().map(|row| {
                        let badge = if row.outcome == "success" { "rounded bg-emerald-100 px-2 py-0.5 text-xs text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300" } else { "rounded bg-red-100 px-2 py-0.5 text-xs text-red-800 dark:bg-red-950 dark:text-red-300" };
                        view! {
                        <tr title=row.detail>
                            <td class="whitespace-nowrap px-4 py-2 tabular-nums">{row.occurred_at}</td>
                            <td class="px-4 py-2">{row.actor}</td>
                            <td class="px-4 py-2 font-mono text-xs">{row.action}</td>
                            <td class="px-4 py-2">
                                <span class=badge>{row.outcome}</span>
                            </td>
                            <td class="px-4 py-2 font-mono text-xs">{row.ip}</td>
                            <td class="max-w-xs truncate px-4 py-2 text-xs text-slate-500 dark:text-slate-400">{row.user_agent}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
        <nav aria-label="Pagination" class="mt-4 flex justify-between text-sm">
            {newest.map(|href| view! { <a href=href class="font-semibold text-indigo-600 hover:underline dark:text-indigo-400">"← Newest"</a> })}
            <span></span>
            {older.map(|href| view! { <a href=href class="font-semibold text-indigo-600 hover:underline dark:text-indigo-400">"Older →"</a> })}
        </nav>
    }.into_any()
}
