//! Settings: the user's API keys, and instance settings (admins change them): whether new
//! accounts may sign up, and how long finished workflow runs and audit events are kept.
//! Model providers and aliases have their own page (`models`).

mod keys;
pub mod models;
mod secrets;

use crate::auth::signup_open;
use crate::error::AppError;
use crate::shell::form::{BUTTON_CLASS, Field, FormAlert, action_error};
use crate::shell::toast::use_toasts;
use crate::shell::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;

#[server(prefix = "/api", endpoint = "settings/signup_open")]
pub async fn set_signup_open(open: bool) -> Result<bool, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        services()
            .accounts
            .set_signup_open(&principal, open)
            .await?;
        Ok(open)
    })
    .await
}

/// How long finished runs and audit events are kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetentionDays {
    pub run_days: u32,
    pub audit_days: u32,
}

/// The form values that name each retention (the settings keys).
const RUNS: &str = "run_retention_days";
const AUDIT: &str = "audit_retention_days";

#[server(prefix = "/api", endpoint = "settings/retention")]
pub async fn retention() -> Result<RetentionDays, AppError> {
    use crate::server::{principal, respond, services};
    use aura_auth::Retained;
    respond(async move {
        principal()?;
        let accounts = &services().accounts;
        Ok(RetentionDays {
            run_days: accounts.retention_days(Retained::Runs).await?,
            audit_days: accounts.retention_days(Retained::Audit).await?,
        })
    })
    .await
}

/// Sets one retention: `what` is `run_retention_days` or `audit_retention_days`.
#[server(prefix = "/api", endpoint = "settings/set_retention")]
pub async fn set_retention(what: String, days: String) -> Result<u32, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let invalid = AppError::invalid;
        let what = aura_auth::Retained::from_key(&what)
            .ok_or_else(|| invalid("what", "Choose runs or audit events."))?;
        let days: u32 = days
            .trim()
            .parse()
            .map_err(|_| invalid("days", "Enter a whole number of days."))?;
        services()
            .accounts
            .set_retention_days(&principal, what, days)
            .await?;
        Ok(days)
    })
    .await
}

#[component]
fn RetentionSection() -> AnyView {
    let user = use_current_user();
    let saved = RwSignal::new(0usize);
    let current = Resource::new(move || saved.get(), |_| retention());
    view! {
        <section aria-labelledby="settings-retention" class="mt-8 max-w-2xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="settings-retention" class="text-lg font-semibold">"History"</h2>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"Older records are deleted by a check that runs hourly."</p>
            <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let Ok(current) = current.await else {
                        return view! { <p class="mt-4 text-sm text-red-700 dark:text-red-400" role="alert">"Could not load the retention settings."</p> }.into_any();
                    };
                    let admin = user.get_untracked().is_admin;
                    view! {
                        <RetentionForm what=RUNS days=current.run_days admin saved
                            label="Keep finished runs for (days)"
                            describe="Finished runs, with their steps, events and logs"/>
                        <RetentionForm what=AUDIT days=current.audit_days admin saved
                            label="Keep audit events for (days)"
                            describe="Audit events (sign-ins, changes, refusals)"/>
                    }.into_any()
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// One retention: a form for admins, a sentence for everyone else.
#[component]
fn RetentionForm(
    what: &'static str,
    days: u32,
    admin: bool,
    /// Bumped after a save, so the section reloads.
    saved: RwSignal<usize>,
    label: &'static str,
    describe: &'static str,
) -> AnyView {
    let toasts = use_toasts();
    let save = ServerAction::<SetRetention>::new();
    let error = action_error(save);
    Effect::new(move |_| {
        if let Some(Ok(days)) = save.value().get() {
            toasts.show(format!("{describe} are now kept for {days} days."));
            saved.update(|n| *n += 1);
        }
    });
    if !admin {
        return view! {
            <p class="mt-4 text-sm" data-testid=what>{format!("{describe} are kept for {days} days.")}</p>
        }
        .into_any();
    }
    view! {
        <ActionForm action=save>
            <input type="hidden" name="what" value=what/>
            <div class="mt-4 flex items-end gap-3">
                <Field label name="days" id=what kind="number" value=days.to_string() error required=true/>
                <button type="submit" class=BUTTON_CLASS disabled=move || save.pending().get()>"Save"</button>
            </div>
            <div class="mt-3"><FormAlert error/></div>
        </ActionForm>
    }
    .into_any()
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let user = use_current_user();
    let toasts = use_toasts();
    let save = ServerAction::<SetSignupOpen>::new();
    let error = action_error(save);
    let current = Resource::new(move || save.version().get(), |_| signup_open());
    Effect::new(move |_| {
        if let Some(Ok(open)) = save.value().get() {
            toasts.show(if open {
                "Sign-up is now open."
            } else {
                "Sign-up is now closed."
            });
        }
    });
    view! {
        <Title text="Settings"/>
        <h1 class="text-2xl font-semibold">"Settings"</h1>
        <section aria-labelledby="settings-signup" class="mt-8 max-w-2xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="settings-signup" class="text-lg font-semibold">"Sign-up"</h2>
            <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let open = current.await.unwrap_or(true);
                    view! {
                        <p class="mt-2 text-sm text-slate-600 dark:text-slate-400" data-testid="signup-state">
                            {if open { "Anyone who can reach this instance can create an account." } else { "Sign-up is closed: only existing accounts can sign in." }}
                        </p>
                        {if user.get_untracked().is_admin {
                            view! {
                                <ActionForm action=save>
                                    <input type="hidden" name="open" value=(!open).to_string()/>
                                    <div class="mt-4 space-y-3">
                                        <FormAlert error/>
                                        <button type="submit" class=BUTTON_CLASS disabled=move || save.pending().get()>
                                            {if open { "Close sign-up" } else { "Open sign-up" }}
                                        </button>
                                    </div>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! { <p class="mt-4 text-sm text-slate-500">"Only administrators can change this."</p> }.into_any()
                        }}
                    }
                })}
            </Transition>
        </section>
        <RetentionSection/>
        <keys::KeysSection/>
        <secrets::SecretsSection/>
    }
}
