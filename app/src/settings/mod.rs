//! Instance settings (admins change them): whether new accounts may sign up, and how long
//! finished workflow runs are kept.

use crate::auth::signup_open;
use crate::error::AppError;
use crate::shell::form::{BUTTON_CLASS, Field, FormAlert, action_error};
use crate::shell::toast::use_toasts;
use crate::shell::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;

#[server(prefix = "/api", endpoint = "settings/signup_open")]
pub async fn set_signup_open(open: bool) -> Result<bool, AppError> {
    use crate::server::{app_context, respond, signed_in};
    respond(async move {
        let (user, caller) = signed_in()?;
        app_context()
            .accounts
            .set_signup_open(&user, open, &caller.request_context())
            .await?;
        Ok(open)
    })
    .await
}

#[server(prefix = "/api", endpoint = "settings/run_retention")]
pub async fn run_retention() -> Result<u32, AppError> {
    use crate::server::{app_context, respond, signed_in};
    respond(async move {
        signed_in()?;
        Ok(app_context().accounts.run_retention_days().await?)
    })
    .await
}

#[server(prefix = "/api", endpoint = "settings/set_run_retention")]
pub async fn set_run_retention(days: String) -> Result<u32, AppError> {
    use crate::server::{app_context, respond, signed_in};
    respond(async move {
        let (user, caller) = signed_in()?;
        let days: u32 = days.trim().parse().map_err(|_| AppError::Validation {
            fields: [(
                "days".to_owned(),
                "Enter a whole number of days.".to_owned(),
            )]
            .into(),
        })?;
        app_context()
            .accounts
            .set_run_retention_days(&user, days, &caller.request_context())
            .await?;
        Ok(days)
    })
    .await
}

#[component]
fn RetentionSection() -> AnyView {
    let user = use_current_user();
    let toasts = use_toasts();
    let save = ServerAction::<SetRunRetention>::new();
    let error = action_error(save);
    let current = Resource::new(move || save.version().get(), |_| run_retention());
    Effect::new(move |_| {
        if let Some(Ok(days)) = save.value().get() {
            toasts.show(format!("Finished runs are now kept for {days} days."));
        }
    });
    view! {
        <section aria-labelledby="settings-retention" class="mt-8 max-w-2xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="settings-retention" class="text-lg font-semibold">"Run history"</h2>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"Finished runs, with their steps, events and logs, are deleted after this many days. The check runs hourly."</p>
            <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let days = current.await.unwrap_or(30);
                    if user.get_untracked().is_admin {
                        view! {
                            <ActionForm action=save>
                                <div class="mt-4 flex items-end gap-3">
                                    <Field label="Keep finished runs for (days)" name="days" kind="number" value=days.to_string() error required=true/>
                                    <button type="submit" class=BUTTON_CLASS disabled=move || save.pending().get()>"Save"</button>
                                </div>
                                <div class="mt-3"><FormAlert error/></div>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! { <p class="mt-4 text-sm" data-testid="retention-days">{format!("Finished runs are kept for {days} days.")}</p> }.into_any()
                    }
                })}
            </Transition>
        </section>
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
    }
}
