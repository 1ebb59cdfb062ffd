//! API keys on the settings page: every user makes, lists and revokes their own. A new
//! key's secret is shown once, right after it is made.

use crate::error::AppError;
use crate::shell::form::{BUTTON_CLASS, Field, FormAlert, SECONDARY_BUTTON_CLASS, action_error};
use crate::shell::toast::use_toasts;
use aura_types::Scope;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A key as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created: String,
    pub expires: Option<String>,
    pub last_used: Option<String>,
    pub revoked: bool,
}

/// A key just made: its secret, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewKey {
    pub name: String,
    pub secret: String,
}

#[server(prefix = "/api", endpoint = "keys/list")]
pub async fn list_keys() -> Result<Vec<KeyRow>, AppError> {
    use crate::server::{format_millis, principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let keys = services().api_keys.list(&principal).await?;
        Ok(keys
            .into_iter()
            .map(|k| KeyRow {
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                scopes: k.scopes,
                created: format_millis(k.created_at),
                expires: k.expires_at.map(format_millis),
                last_used: k.last_used_at.map(|at| {
                    format!(
                        "{} from {}",
                        format_millis(at),
                        k.last_used_ip.unwrap_or_default()
                    )
                }),
                revoked: k.revoked_at.is_some(),
            })
            .collect())
    })
    .await
}

/// Makes a key. Each scope is a checkbox (`read`, `write`, `run`, `admin` present when
/// ticked); `expires_in_days` is empty for a key that lives until revoked.
#[server(prefix = "/api", endpoint = "keys/create")]
pub async fn create_key(
    name: String,
    read: Option<String>,
    write: Option<String>,
    run: Option<String>,
    admin: Option<String>,
    expires_in_days: String,
) -> Result<NewKey, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let scopes: Vec<Scope> = [
            (read, Scope::Read),
            (write, Scope::Write),
            (run, Scope::Run),
            (admin, Scope::Admin),
        ]
        .into_iter()
        .filter_map(|(ticked, scope)| ticked.map(|_| scope))
        .collect();
        let days = match expires_in_days.trim() {
            "" => None,
            text => Some(text.parse::<u32>().map_err(|_| {
                AppError::invalid(
                    "expires_in_days",
                    "Enter a whole number of days, or leave it empty.",
                )
            })?),
        };
        let created = services()
            .api_keys
            .create(&principal, &name, &scopes, days)
            .await?;
        Ok(NewKey {
            name: created.key.name,
            secret: created.secret,
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "keys/revoke")]
pub async fn revoke_key(id: String) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        services().api_keys.revoke(&principal, &id).await?;
        Ok(id)
    })
    .await
}

#[component]
pub fn KeysSection() -> impl IntoView {
    let toasts = use_toasts();
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let error = action_error(create);
    let revoke_error = action_error(revoke);
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_keys(),
    );
    Effect::new(move |_| {
        if let Some(Ok(_)) = revoke.value().get() {
            toasts.show("The key was revoked; it no longer works.");
        }
    });
    let is_admin = crate::shell::use_current_user().get_untracked().is_admin;
    let scope_boxes = Scope::ALL
        .iter()
        .filter(|s| **s != Scope::Admin || is_admin)
        .map(|scope| {
            let id = format!("key-scope-{scope}");
            let label_for = id.clone();
            view! {
                <label for=label_for class="inline-flex items-center gap-2 text-sm">
                    <input id=id type="checkbox" name=scope.as_str() checked={*scope == Scope::Read} class="h-4 w-4 rounded border-slate-300"/>
                    {scope.as_str()}
                </label>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="settings-keys" class="mt-8 max-w-2xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="settings-keys" class="text-lg font-semibold">"API keys"</h2>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
                "Keys let scripts and the CLI use the REST API as you, limited to their scopes. Send one as "
                <code class="font-mono text-xs">"Authorization: Bearer aura_…"</code>". "
                <a href="/api/v1/reference" rel="external" class="text-indigo-600 hover:underline dark:text-indigo-400">"API reference"</a>
                " · "
                <a href="/api/v1/openapi.json" rel="external" class="text-indigo-600 hover:underline dark:text-indigo-400">"OpenAPI document"</a>
            </p>
            <ActionForm action=create>
                <div class="mt-4 space-y-3">
                    <Field label="Name" name="name" error required=true/>
                    <fieldset>
                        <legend class="text-sm font-medium text-slate-700 dark:text-slate-300">"Scopes"</legend>
                        <div class="mt-1 flex flex-wrap gap-4">{scope_boxes}</div>
                        {move || error.get().and_then(|e| e.field("scopes")).map(|m| view! { <p class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{m}</p> })}
                    </fieldset>
                    <Field label="Expires in (days, empty for never)" name="expires_in_days" kind="number" error/>
                    <FormAlert error/>
                    <button type="submit" class=BUTTON_CLASS disabled=move || create.pending().get()>"Create key"</button>
                </div>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|key| view! {
                <div role="status" class="mt-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
                    <p>{format!("Your new key “{}”. Copy it now: it is not shown again.", key.name)}</p>
                    <code class="mt-2 block select-all break-all font-mono text-xs" data-testid="new-key">{key.secret}</code>
                </div>
            })}
            <div class="mt-3"><FormAlert error=revoke_error/></div>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Err(err) => view! { <p class="mt-4 text-sm text-red-700 dark:text-red-400" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="mt-4 text-sm text-slate-500" data-testid="keys-empty">"No keys yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-4 divide-y divide-slate-200 dark:divide-slate-800" aria-label="Your API keys">
                                {list.into_iter().map(|k| view! { <KeyItem key=k revoke/> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn KeyItem(key: KeyRow, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    let scopes = key
        .scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let details = format!(
        "{}… · {} · created {}{}{}",
        key.prefix,
        scopes,
        key.created,
        key.expires
            .map(|e| format!(" · expires {e}"))
            .unwrap_or_default(),
        key.last_used
            .map(|u| format!(" · last used {u}"))
            .unwrap_or_else(|| " · never used".into()),
    );
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid=format!("key-{}", key.prefix)>
            <div>
                <p class="text-sm font-medium">{key.name.clone()}{key.revoked.then_some(" (revoked)")}</p>
                <p class="text-xs text-slate-500">{details}</p>
            </div>
            {(!key.revoked).then(|| view! {
                <ActionForm action=revoke>
                    <input type="hidden" name="id" value=key.id.clone()/>
                    <button type="submit" class=SECONDARY_BUTTON_CLASS aria-label=format!("Revoke {}", key.name)>"Revoke"</button>
                </ActionForm>
            })}
        </li>
    }
}
