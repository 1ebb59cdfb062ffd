//! The dashboard: the way into projects, workflows and runs.

use crate::shell::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Title text="Dashboard"/>
        <h1 class="text-2xl font-semibold">{move || format!("Welcome, {}", user.get().display_name)}</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Run charts, success rates and token costs will appear here once you have runs."</p>
        <div class="mt-8 grid gap-6 sm:grid-cols-3">
            <Card href="/projects" title="Projects" text="Code you edit and analyse."/>
            <Card href="/workflows" title="Workflows" text="DAGs of LLM, script and HTTP steps."/>
            <Card href="/runs" title="Runs" text="Durable executions, live."/>
        </div>
    }
}

#[component]
fn Card(href: &'static str, title: &'static str, text: &'static str) -> impl IntoView {
    view! {
        <A href=href attr:class="block rounded-xl border border-slate-200 bg-white p-6 shadow-sm transition hover:border-indigo-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-800 dark:bg-slate-900">
            <h2 class="font-semibold">{title}</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{text}</p>
        </A>
    }
}
