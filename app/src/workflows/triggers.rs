//! `/workflows/{id}/triggers`: what starts a workflow without a click. Webhooks (their URL
//! and secret shown once, regenerate, enable, disable, delete) and schedules (the rule in
//! words with its next fires shown while typing, before saving; last fire and its run).

// The create forms post one field per argument (ActionForm), and the server-function macro
// repeats the arguments in code an item-level `allow` does not reach.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::shell::form::{
    BUTTON_CLASS, FormAlert, INPUT_CLASS, SECONDARY_BUTTON_CLASS, action_error,
};
use crate::shell::toast::use_toasts;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub method: String,
    pub check: String,
    pub mode: String,
    pub enabled: bool,
    pub runs: i64,
    pub rejected: i64,
    pub last_run: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleItem {
    pub id: String,
    pub name: String,
    pub description: String,
    pub timezone: String,
    pub enabled: bool,
    pub overlap: String,
    pub next: Vec<String>,
    pub last: Option<String>,
    pub last_run: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub workflow: String,
    pub webhooks: Vec<HookRow>,
    pub schedules: Vec<ScheduleItem>,
}

/// What a new or regenerated webhook shows once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shown {
    pub name: String,
    pub path: Option<String>,
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub description: String,
    pub upcoming: Vec<String>,
}

#[server(prefix = "/api", endpoint = "triggers/overview")]
pub async fn trigger_overview(workflow: String) -> Result<Overview, AppError> {
    use crate::server::{format_millis, principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let s = services();
        let name = s.workflows.get(&principal, &workflow).await?.name;
        let webhooks = s.webhooks.list(&principal, &workflow).await?;
        let schedules = s.schedules.list(&principal, &workflow).await?;
        Ok(Overview {
            workflow: name,
            webhooks: webhooks
                .into_iter()
                .map(|h| HookRow {
                    last_run: h.last_run_id.zip(h.last_run_status),
                    id: h.id,
                    name: h.name,
                    prefix: h.token_prefix,
                    method: h.method,
                    check: match h.verification.as_str() {
                        "hmac" => "HMAC signature".into(),
                        "header" => "header token".into(),
                        _ => "URL only".into(),
                    },
                    mode: h.response_mode,
                    enabled: h.enabled,
                    runs: h.runs,
                    rejected: h.rejected,
                })
                .collect(),
            schedules: schedules
                .into_iter()
                .map(|sch| ScheduleItem {
                    last: sch.last_fire_at.map(|at| {
                        format!(
                            "{} {}",
                            format_millis(at),
                            sch.last_outcome.clone().unwrap_or_default()
                        )
                    }),
                    last_run: sch.last_run_id.zip(sch.last_run_status),
                    id: sch.id,
                    name: sch.name,
                    description: sch.description,
                    timezone: sch.timezone,
                    enabled: sch.enabled,
                    overlap: format!("{:?}", sch.overlap).to_lowercase(),
                    next: sch.upcoming.into_iter().map(|u| u.local).collect(),
                })
                .collect(),
        })
    })
    .await
}

/// Form text to an optional value: blank is "not given".
#[cfg(feature = "ssr")]
fn given(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The service names nested fields (`verification.secret`); the form's inputs are flat.
#[cfg(feature = "ssr")]
fn flat_fields(err: AppError) -> AppError {
    match err {
        AppError::Validation { fields, problems } => AppError::Validation {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.rsplit('.').next().unwrap_or(&k).to_owned(), v))
                .collect(),
            problems,
        },
        other => other,
    }
}

#[server(prefix = "/api", endpoint = "triggers/webhook_create")]
pub async fn create_webhook(
    workflow: String,
    name: String,
    method: String,
    check: String,
    // Fields the form shows only for some choices; absent otherwise.
    header: Option<String>,
    secret: Option<String>,
    timestamp_header: Option<String>,
    mode: String,
    step: Option<String>,
) -> Result<Shown, AppError> {
    use crate::server::{principal, respond, services};
    use aura_triggers::{Response, Verification, WebhookSpec};
    respond(async move {
        let header = header.unwrap_or_default();
        let secret = secret.unwrap_or_default();
        let timestamp_header = timestamp_header.unwrap_or_default();
        let step = step.unwrap_or_default();
        let verification = match check.as_str() {
            "hmac" => Verification::Hmac {
                header: given(&header),
                secret: given(&secret),
                timestamp_header: given(&timestamp_header),
                tolerance_secs: None,
            },
            "header" => Verification::Header {
                header: header.trim().to_owned(),
                token: given(&secret),
            },
            _ => Verification::None,
        };
        let response = if mode == "sync" {
            Response::Sync {
                step: given(&step),
                timeout_ms: None,
            }
        } else {
            Response::Async
        };
        let spec = WebhookSpec {
            name,
            method: given(&method),
            verification,
            response,
            max_body_kb: None,
            rate_per_minute: None,
            enabled: None,
        };
        let created = services()
            .webhooks
            .create(&principal()?, &workflow, spec)
            .await
            .map_err(|e| flat_fields(e.into()))?;
        Ok(Shown {
            name: created.webhook.name,
            path: created.token.map(|t| format!("/hooks/{t}")),
            secret: created.secret,
        })
    })
    .await
}

/// `regenerate`, `enable`, `disable` or `delete` a webhook.
#[server(prefix = "/api", endpoint = "triggers/webhook_action")]
pub async fn webhook_action(id: String, action: String) -> Result<Shown, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let hooks = &services().webhooks;
        Ok(match action.as_str() {
            "regenerate" => {
                let made = hooks.regenerate(&principal, &id).await?;
                Shown {
                    name: made.webhook.name,
                    path: made.token.map(|t| format!("/hooks/{t}")),
                    secret: None,
                }
            }
            "enable" | "disable" => {
                let hook = hooks
                    .set_enabled(&principal, &id, action == "enable")
                    .await?;
                Shown {
                    name: hook.name,
                    path: None,
                    secret: None,
                }
            }
            "delete" => {
                hooks.delete(&principal, &id).await?;
                Shown {
                    name: String::new(),
                    path: None,
                    secret: None,
                }
            }
            _ => return Err(AppError::invalid("action", "Unknown action.")),
        })
    })
    .await
}

#[cfg(feature = "ssr")]
fn schedule_spec(
    name: String,
    kind: &str,
    expression: &str,
    count: &str,
    unit: &str,
    timezone: &str,
) -> Result<aura_triggers::ScheduleSpec, AppError> {
    use aura_triggers::{Rule, Unit};
    let rule = if kind == "every" {
        let count = count
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("count", "Give a whole number."))?;
        Rule::Every {
            count,
            unit: if unit == "hours" {
                Unit::Hours
            } else {
                Unit::Minutes
            },
        }
    } else {
        Rule::Cron {
            expression: expression.trim().to_owned(),
        }
    };
    Ok(aura_triggers::ScheduleSpec {
        name,
        rule,
        timezone: given(timezone),
        input: None,
        enabled: None,
        overlap: None,
        catch_up: None,
        catch_up_window_secs: None,
    })
}

#[server(prefix = "/api", endpoint = "triggers/schedule_preview")]
pub async fn preview_schedule(
    kind: String,
    expression: String,
    count: String,
    unit: String,
    timezone: String,
) -> Result<PreviewRow, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        principal()?;
        let spec = schedule_spec(
            "preview".into(),
            &kind,
            &expression,
            &count,
            &unit,
            &timezone,
        )?;
        let preview = services()
            .schedules
            .preview(&spec, aura_store::now_millis())
            .map_err(|e| flat_fields(e.into()))?;
        Ok(PreviewRow {
            description: preview.description,
            upcoming: preview.upcoming.into_iter().map(|u| u.local).collect(),
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "triggers/schedule_create")]
pub async fn create_schedule(
    workflow: String,
    name: String,
    kind: String,
    expression: String,
    count: String,
    unit: String,
    timezone: String,
    input: String,
    overlap: String,
    catch_up: String,
) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    use aura_triggers::{CatchUp, Overlap};
    respond(async move {
        let mut spec = schedule_spec(name, &kind, &expression, &count, &unit, &timezone)?;
        if let Some(text) = given(&input) {
            spec.input =
                Some(serde_json::from_str(&text).map_err(|e| {
                    AppError::invalid("input", format!("The input is not JSON: {e}."))
                })?);
        }
        spec.overlap = Some(match overlap.as_str() {
            "queue" => Overlap::Queue,
            "allow" => Overlap::Allow,
            _ => Overlap::Skip,
        });
        spec.catch_up = Some(if catch_up == "last" {
            CatchUp::Last
        } else {
            CatchUp::None
        });
        let made = services()
            .schedules
            .create(&principal()?, &workflow, spec)
            .await
            .map_err(|e| flat_fields(e.into()))?;
        Ok(made.name)
    })
    .await
}

/// `enable`, `disable` or `delete` a schedule.
#[server(prefix = "/api", endpoint = "triggers/schedule_action")]
pub async fn schedule_action(id: String, action: String) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let schedules = &services().schedules;
        match action.as_str() {
            "enable" | "disable" => Ok(schedules
                .set_enabled(&principal, &id, action == "enable")
                .await?
                .name),
            "delete" => {
                schedules.delete(&principal, &id).await?;
                Ok(String::new())
            }
            _ => Err(AppError::invalid("action", "Unknown action.")),
        }
    })
    .await
}

const SELECT_CLASS: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-600 dark:bg-slate-900";
const LABEL_CLASS: &str = "block text-sm font-medium text-slate-700 dark:text-slate-300";

#[component]
pub fn TriggersPage() -> impl IntoView {
    let params = use_params_map();
    let workflow = move || params.read().get("id").unwrap_or_default();
    let hook_made = ServerAction::<CreateWebhook>::new();
    let hook_act = ServerAction::<WebhookAction>::new();
    let schedule_made = ServerAction::<CreateSchedule>::new();
    let schedule_act = ServerAction::<ScheduleAction>::new();
    let overview = Resource::new(
        move || {
            (
                workflow(),
                hook_made.version().get(),
                hook_act.version().get(),
                schedule_made.version().get(),
                schedule_act.version().get(),
            )
        },
        |(id, ..)| trigger_overview(id),
    );
    // What is shown once: a new URL (and a generated secret).
    let shown = RwSignal::new(None::<Shown>);
    Effect::new(move |_| {
        if let Some(Ok(made)) = hook_made.value().get() {
            shown.set(Some(made));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(made)) = hook_act.value().get()
            && made.path.is_some()
        {
            shown.set(Some(made));
        }
    });
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(name)) = schedule_made.value().get() {
            toasts.show(format!("Schedule {name} saved."));
        }
    });
    view! {
        <Title text="Triggers"/>
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading triggers…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Err(err) => view! { <p role="alert" class="text-sm text-red-700 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                    Ok(o) => {
                        let id = workflow();
                        view! {
                            <div class="flex flex-wrap items-baseline gap-3">
                                <h1 class="text-2xl font-semibold">{format!("Triggers of {}", o.workflow)}</h1>
                                <A href=format!("/workflows/{id}") attr:class="text-sm text-indigo-600 hover:underline dark:text-indigo-400">"Open in the builder"</A>
                            </div>
                            <WebhookList hooks=o.webhooks act=hook_act/>
                            <ScheduleList schedules=o.schedules act=schedule_act/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <ShownOnce shown/>
        <NewWebhook workflow=Signal::derive(workflow) action=hook_made/>
        <NewSchedule workflow=Signal::derive(workflow) action=schedule_made/>
    }
}

#[component]
fn ShownOnce(shown: RwSignal<Option<Shown>>) -> impl IntoView {
    let origin = move || {
        #[cfg(feature = "hydrate")]
        {
            window().location().origin().unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        String::new()
    };
    view! {
        {move || shown.get().map(|s| view! {
            <div role="status" data-testid="shown-once" class="mt-6 rounded-lg border border-emerald-300 bg-emerald-50 p-4 text-sm dark:border-emerald-800 dark:bg-emerald-950">
                <p class="font-semibold">{format!("Webhook {}: copy this now, it is not shown again.", s.name)}</p>
                {s.path.map(|path| view! {
                    <p class="mt-2">"URL: " <code class="break-all font-mono" data-testid="hook-url">{format!("{}{path}", origin())}</code></p>
                })}
                {s.secret.map(|secret| view! {
                    <p class="mt-1">"Secret: " <code class="break-all font-mono" data-testid="hook-secret">{secret}</code></p>
                })}
                <button type="button" class=format!("{SECONDARY_BUTTON_CLASS} mt-3") on:click=move |_| shown.set(None)>"Done"</button>
            </div>
        })}
    }
}

/// The triggers of one kind: a heading, the last action's error, and a row each, or what
/// to do when there are none.
#[component]
fn TriggerList(
    /// `webhooks` or `schedules`: the heading's id and the list's label.
    kind: &'static str,
    title: &'static str,
    empty: &'static str,
    error: crate::shell::form::ActionError,
    rows: Vec<AnyView>,
) -> impl IntoView {
    let heading_id = format!("{kind}-title");
    let labelled_by = heading_id.clone();
    view! {
        <section aria-labelledby=labelled_by class="mt-8">
            <h2 id=heading_id class="text-lg font-semibold">{title}</h2>
            <FormAlert error/>
            {if rows.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-3 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900" aria-label=title>
                        {rows.into_iter().map(|row| view! { <li class="flex flex-wrap items-center gap-3 px-4 py-3 text-sm">{row}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// A trigger's name, marked when it is disabled.
#[component]
fn TriggerName(name: String, enabled: bool) -> impl IntoView {
    view! {
        <p class="font-medium">{name} {(!enabled).then(|| view! { <span class="ml-2 rounded bg-slate-200 px-1.5 text-xs dark:bg-slate-700">"disabled"</span> })}</p>
    }
}

#[component]
fn WebhookList(hooks: Vec<HookRow>, act: ServerAction<WebhookAction>) -> impl IntoView {
    let rows = hooks
        .into_iter()
        .map(|h| {
            let toggle = if h.enabled { "disable" } else { "enable" };
            let name = h.name.clone();
            view! {
                <div class="min-w-0 flex-1">
                    <TriggerName name=h.name.clone() enabled=h.enabled/>
                    <p class="text-xs text-slate-500">{format!("{} /hooks/{}… · {} · {} · {} · {} refused", h.method, h.prefix, h.check, h.mode, if h.runs == 1 { "1 run".to_owned() } else { format!("{} runs", h.runs) }, h.rejected)}</p>
                    {h.last_run.map(|(run, status)| view! {
                        <p class="text-xs">"Last run: " <A href=format!("/runs/{run}") attr:class="text-indigo-600 hover:underline dark:text-indigo-400">{status}</A></p>
                    })}
                </div>
                {["regenerate", toggle, "delete"].into_iter().map(|what| {
                    let label = format!("{} webhook {name}", capitalised(what));
                    let id = h.id.clone();
                    view! {
                        <ActionForm action=act>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value=what/>
                            <button type="submit" class=SECONDARY_BUTTON_CLASS aria-label=label>{capitalised(if what == "regenerate" { "new URL" } else { what })}</button>
                        </ActionForm>
                    }
                }).collect_view()}
            }
            .into_any()
        })
        .collect();
    view! {
        <TriggerList kind="webhooks" title="Webhooks" error=action_error(act) rows
            empty="No webhooks yet: make one below to start runs from GitHub, a form or curl."/>
    }
}

#[component]
fn ScheduleList(schedules: Vec<ScheduleItem>, act: ServerAction<ScheduleAction>) -> impl IntoView {
    let rows = schedules
        .into_iter()
        .map(|s| {
            let toggle = if s.enabled { "disable" } else { "enable" };
            let name = s.name.clone();
            view! {
                <div class="min-w-0 flex-1">
                    <TriggerName name=s.name.clone() enabled=s.enabled/>
                    <p class="text-xs text-slate-600 dark:text-slate-300">{format!("{} ({}) · overlap: {}", s.description, s.timezone, s.overlap)}</p>
                    <p class="text-xs text-slate-500">{match s.next.first() { Some(next) => format!("Next: {next}"), None => "No next fire".into() }}</p>
                    <p class="text-xs text-slate-500">
                        {format!("Last fire: {}", s.last.unwrap_or_else(|| "none yet".into()))}
                        {s.last_run.map(|(run, status)| view! { " · run " <A href=format!("/runs/{run}") attr:class="text-indigo-600 hover:underline dark:text-indigo-400">{status}</A> })}
                    </p>
                </div>
                {[toggle, "delete"].into_iter().map(|what| {
                    let label = format!("{} schedule {name}", capitalised(what));
                    let id = s.id.clone();
                    view! {
                        <ActionForm action=act>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value=what/>
                            <button type="submit" class=SECONDARY_BUTTON_CLASS aria-label=label>{capitalised(what)}</button>
                        </ActionForm>
                    }
                }).collect_view()}
            }
            .into_any()
        })
        .collect();
    view! {
        <TriggerList kind="schedules" title="Schedules" error=action_error(act) rows
            empty="No schedules yet: make one below to run this workflow on a timetable."/>
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A labelled text input whose message is the action's error for `name`.
#[component]
fn Input(
    /// The form it belongs to: ids are `{form}-{name}`.
    form: &'static str,
    label: &'static str,
    name: &'static str,
    error: Signal<Option<AppError>>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] kind: &'static str,
    #[prop(optional, into)] on_value: Option<Callback<String>>,
    #[prop(optional)] value: &'static str,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let error_id = format!("{id}-error");
    let message = move || error.get().and_then(|e| e.field(name));
    view! {
        <div>
            <label for=id.clone() class=LABEL_CLASS>{label}</label>
            <input id=id name=name type=if kind.is_empty() { "text" } else { kind } placeholder=placeholder value=value
                aria-invalid=move || message().is_some().to_string() aria-describedby=error_id.clone() class=INPUT_CLASS
                on:input=move |ev| if let Some(cb) = on_value { cb.run(event_target_value(&ev)) }/>
            <p id=error_id class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{message}</p>
        </div>
    }
}

#[component]
fn NewWebhook(workflow: Signal<String>, action: ServerAction<CreateWebhook>) -> impl IntoView {
    let error = action_error(action);
    let check = RwSignal::new("hmac".to_owned());
    let mode = RwSignal::new("async".to_owned());
    view! {
        <section aria-labelledby="new-webhook" class="mt-8 rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="new-webhook" class="text-lg font-semibold">"New webhook"</h2>
            <ActionForm action>
                <input type="hidden" name="workflow" value=move || workflow.get()/>
                <div class="mt-4 grid gap-4 md:grid-cols-2">
                    <Input form="hook" label="Webhook name" name="name" error placeholder="GitHub pushes"/>
                    <div>
                        <label for="trigger-method" class=LABEL_CLASS>"Method"</label>
                        <select id="trigger-method" name="method" class=SELECT_CLASS>
                            {["POST", "PUT", "PATCH", "GET", "DELETE"].map(|m| view! { <option value=m>{m}</option> })}
                        </select>
                    </div>
                    <div>
                        <label for="trigger-check" class=LABEL_CLASS>"Proof besides the URL"</label>
                        <select id="trigger-check" name="check" class=SELECT_CLASS on:change=move |ev| check.set(event_target_value(&ev))>
                            <option value="hmac">"HMAC-SHA256 signature (GitHub)"</option>
                            <option value="header">"A token in a header"</option>
                            <option value="none">"None: the URL alone"</option>
                        </select>
                    </div>
                    <Show when=move || check.get() != "none">
                        <Input form="hook" label="Header (blank for HMAC: X-Hub-Signature-256)" name="header" error placeholder="X-Hub-Signature-256"/>
                        <Input form="hook" label="Secret (blank: generate one)" name="secret" kind="password" error/>
                    </Show>
                    <Show when=move || check.get() == "hmac">
                        <Input form="hook" label="Timestamp header (optional, refuses replays)" name="timestamp_header" error placeholder="X-Timestamp"/>
                    </Show>
                    <div>
                        <label for="trigger-mode" class=LABEL_CLASS>"Answer"</label>
                        <select id="trigger-mode" name="mode" class=SELECT_CLASS on:change=move |ev| mode.set(event_target_value(&ev))>
                            <option value="async">"At once: 202 with the run id"</option>
                            <option value="sync">"Wait for the run and answer with a step's output"</option>
                        </select>
                    </div>
                    <Show when=move || mode.get() == "sync">
                        <Input form="hook" label="Step whose output answers (blank: the run's output)" name="step" error/>
                    </Show>
                </div>
                <div class="mt-4"><FormAlert error/></div>
                <button type="submit" class=format!("{BUTTON_CLASS} mt-4") disabled=move || action.pending().get()>"Make webhook"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn NewSchedule(workflow: Signal<String>, action: ServerAction<CreateSchedule>) -> impl IntoView {
    let error = action_error(action);
    let kind = RwSignal::new("cron".to_owned());
    let expression = RwSignal::new(String::new());
    let count = RwSignal::new(String::new());
    let unit = RwSignal::new("minutes".to_owned());
    let timezone = RwSignal::new("UTC".to_owned());
    // The rule in words and its next fires, before saving: asked again as the form changes.
    let preview = Resource::new(
        move || {
            (
                kind.get(),
                expression.get(),
                count.get(),
                unit.get(),
                timezone.get(),
            )
        },
        |(kind, expression, count, unit, timezone)| async move {
            let empty = if kind == "every" {
                count.trim().is_empty()
            } else {
                expression.trim().is_empty()
            };
            if empty {
                return None;
            }
            Some(preview_schedule(kind, expression, count, unit, timezone).await)
        },
    );
    view! {
        <section aria-labelledby="new-schedule" class="mt-8 rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="new-schedule" class="text-lg font-semibold">"New schedule"</h2>
            <ActionForm action>
                <input type="hidden" name="workflow" value=move || workflow.get()/>
                <div class="mt-4 grid gap-4 md:grid-cols-2">
                    <Input form="schedule" label="Schedule name" name="name" error placeholder="Nightly review"/>
                    <div>
                        <label for="trigger-kind" class=LABEL_CLASS>"Runs"</label>
                        <select id="trigger-kind" name="kind" class=SELECT_CLASS on:change=move |ev| kind.set(event_target_value(&ev))>
                            <option value="cron">"On a cron timetable"</option>
                            <option value="every">"Every N minutes or hours"</option>
                        </select>
                    </div>
                    <Show when=move || kind.get() == "cron" fallback=move || view! {
                        <input type="hidden" name="expression" value=""/>
                        <div class="flex gap-2">
                            <div class="flex-1"><Input form="schedule" label="Every" name="count" kind="number" error on_value=Callback::new(move |v| count.set(v))/></div>
                            <div>
                                <label for="trigger-unit" class=LABEL_CLASS>"Unit"</label>
                                <select id="trigger-unit" name="unit" class=SELECT_CLASS on:change=move |ev| unit.set(event_target_value(&ev))>
                                    <option value="minutes">"minutes"</option>
                                    <option value="hours">"hours"</option>
                                </select>
                            </div>
                        </div>
                    }>
                        <input type="hidden" name="count" value=""/>
                        <input type="hidden" name="unit" value="minutes"/>
                        <Input form="schedule" label="Cron expression (minute hour day month weekday)" name="expression" error placeholder="0 9 * * 1-5"
                            on_value=Callback::new(move |v| expression.set(v))/>
                    </Show>
                    <Input form="schedule" label="Time zone" name="timezone" error value="UTC" placeholder="Europe/Berlin" on_value=Callback::new(move |v| timezone.set(v))/>
                    <div class="md:col-span-2">
                        <label for="trigger-input" class=LABEL_CLASS>"Input (a JSON object, optional)"</label>
                        <textarea id="trigger-input" name="input" rows="2" class=format!("{INPUT_CLASS} font-mono") placeholder="{\"depth\": 2}"></textarea>
                        <p class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{move || error.get().and_then(|e| e.field("input"))}</p>
                    </div>
                    <div>
                        <label for="trigger-overlap" class=LABEL_CLASS>"When the previous run is still going"</label>
                        <select id="trigger-overlap" name="overlap" class=SELECT_CLASS>
                            <option value="skip">"Skip this fire"</option>
                            <option value="queue">"Queue one fire"</option>
                            <option value="allow">"Start it anyway"</option>
                        </select>
                    </div>
                    <div>
                        <label for="trigger-catch-up" class=LABEL_CLASS>"After downtime"</label>
                        <select id="trigger-catch-up" name="catch_up" class=SELECT_CLASS>
                            <option value="none">"Skip missed fires"</option>
                            <option value="last">"Run the last missed fire (within an hour)"</option>
                        </select>
                    </div>
                </div>
                <div class="mt-4 rounded-md bg-slate-50 p-3 text-sm dark:bg-slate-800" aria-live="polite" data-testid="schedule-preview">
                    <Transition fallback=|| view! { <span class="text-slate-500">"…"</span> }>
                        {move || Suspend::new(async move {
                            match preview.await {
                                None => view! { <span class="text-slate-500">"The next fires show here as you type."</span> }.into_any(),
                                Some(Ok(p)) => view! {
                                    <p class="font-medium">{p.description}</p>
                                    <ul class="mt-1 text-xs text-slate-600 dark:text-slate-300">
                                        {p.upcoming.into_iter().map(|u| view! { <li>{u}</li> }).collect_view()}
                                    </ul>
                                }.into_any(),
                                Some(Err(err)) => {
                                    let text = match &err {
                                        AppError::Validation { fields, .. } => fields.values().cloned().collect::<Vec<_>>().join(" "),
                                        other => other.to_string(),
                                    };
                                    view! { <p class="text-red-700 dark:text-red-400">{text}</p> }.into_any()
                                }
                            }
                        })}
                    </Transition>
                </div>
                <div class="mt-4"><FormAlert error/></div>
                <button type="submit" class=format!("{BUTTON_CLASS} mt-4") disabled=move || action.pending().get()>"Save schedule"</button>
            </ActionForm>
        </section>
    }
}
