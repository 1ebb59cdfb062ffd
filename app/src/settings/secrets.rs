//! Workflow secrets on the settings page: every user adds, replaces and deletes their own.
//! Values go in through a password field and never come back.

use crate::error::AppError;
use crate::shell::form::{BUTTON_CLASS, Field, FormAlert, SECONDARY_BUTTON_CLASS, action_error};
use crate::shell::toast::use_toasts;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRow {
    pub name: String,
    pub updated: String,
}

#[server(prefix = "/api", endpoint = "secrets/list")]
pub async fn list_secrets() -> Result<Vec<SecretRow>, AppError> {
    use crate::server::{format_millis, principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let services = services();
        let secrets = services
            .engine
            .secrets()
            .ok_or(AppError::NotFound)?
            .list(&principal)
            .await?;
        Ok(secrets
            .into_iter()
            .map(|s| SecretRow {
                name: s.name,
                updated: format_millis(s.updated_at),
            })
            .collect())
    })
    .await
}

#[server(prefix = "/api", endpoint = "secrets/set")]
pub async fn set_secret(name: String, value: String) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let services = services();
        let saved = services
            .engine
            .secrets()
            .ok_or(AppError::NotFound)?
            .set(&principal, name.trim(), &value)
            .await?;
        Ok(saved.name)
    })
    .await
}

#[server(prefix = "/api", endpoint = "secrets/delete")]
pub async fn delete_secret(name: String) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let services = services();
        services
            .engine
            .secrets()
            .ok_or(AppError::NotFound)?
            .delete(&principal, &name)
            .await?;
        Ok(name)
    })
    .await
}

#[component]
pub fn SecretsSection() -> impl IntoView {
    let toasts = use_toasts();
    let save = ServerAction::<SetSecret>::new();
    let remove = ServerAction::<DeleteSecret>::new();
    let error = action_error(save);
    let remove_error = action_error(remove);
    let secrets = Resource::new(
        move || (save.version().get(), remove.version().get()),
        |_| list_secrets(),
    );
    Effect::new(move |_| {
        if let Some(Ok(name)) = save.value().get() {
            toasts.show(format!("Secret {name} saved."));
        }
    });
    view! {
        <section aria-labelledby="settings-secrets" class="mt-8 max-w-2xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="settings-secrets" class="text-lg font-semibold">"Secrets"</h2>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
                "Tokens your workflows use, read as " <code class="font-mono text-xs">"{{ secrets.NAME }}"</code>
                ". Values are encrypted, never shown again, and masked in every run."
            </p>
            <ActionForm action=save>
                <div class="mt-4 space-y-3">
                    <Field label="Secret name" name="name" id="secret-name" error required=true hint="Letters, digits and _, e.g. GITHUB_TOKEN"/>
                    <Field label="Secret value" name="value" id="secret-value" kind="password" autocomplete="off" error required=true/>
                    <FormAlert error/>
                    <button type="submit" class=BUTTON_CLASS disabled=move || save.pending().get()>"Save secret"</button>
                </div>
            </ActionForm>
            <div class="mt-3"><FormAlert error=remove_error/></div>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading secrets…"</p> }>
                {move || Suspend::new(async move {
                    match secrets.await {
                        Err(err) => view! { <p class="mt-4 text-sm text-red-700 dark:text-red-400" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="mt-4 text-sm text-slate-500">"No secrets yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-4 divide-y divide-slate-200 dark:divide-slate-800" aria-label="Your secrets">
                                {list.into_iter().map(|s| {
                                    let label = format!("Delete secret {}", s.name);
                                    view! {
                                        <li class="flex items-center justify-between gap-3 py-3">
                                            <div>
                                                <p class="font-mono text-sm">{s.name.clone()}</p>
                                                <p class="text-xs text-slate-500">{format!("updated {}", s.updated)}</p>
                                            </div>
                                            <ActionForm action=remove>
                                                <input type="hidden" name="name" value=s.name.clone()/>
                                                <button type="submit" class=SECONDARY_BUTTON_CLASS aria-label=label>"Delete"</button>
                                            </ActionForm>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
