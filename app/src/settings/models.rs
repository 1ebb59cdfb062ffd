//! `/models` (administrators): model providers with their models and prices, a
//! "Test connection" per provider, and aliases. Keys go in through a password field and
//! come back only as `…` and their last four characters.

use crate::error::AppError;
use crate::shell::form::{
    BUTTON_CLASS, Field, FormAlert, INPUT_CLASS, SECONDARY_BUTTON_CLASS, action_error,
};
use crate::shell::toast::use_toasts;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// A provider as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderRow {
    pub id: String,
    pub name: String,
    pub protocol: String,
    pub base_url: String,
    pub key_hint: Option<String>,
    /// `name ($in / $out per million tokens)`.
    pub models: Vec<String>,
    pub first_model: Option<String>,
    /// Configured here (editable), or from the environment (read-only).
    pub editable: bool,
    /// `openai` or `anthropic`, for the edit form.
    pub protocol_id: String,
    /// The models as the form takes them: `name input output` a line.
    pub models_text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRow {
    pub name: String,
    pub targets: Vec<String>,
    pub editable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub ok: bool,
    pub message: String,
    pub model: String,
    pub latency_ms: u64,
}

#[server(prefix = "/api", endpoint = "models/providers")]
pub async fn list_providers() -> Result<Vec<ProviderRow>, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let providers = services().models.providers(&principal).await?;
        Ok(providers
            .into_iter()
            .map(|p| ProviderRow {
                first_model: p.models.first().map(|m| format!("{}/{}", p.name, m.name)),
                models: p
                    .models
                    .iter()
                    .map(|m| {
                        format!(
                            "{} (${} / ${} per million tokens)",
                            m.name, m.input_per_million, m.output_per_million
                        )
                    })
                    .collect(),
                editable: p.source == "settings",
                protocol_id: match p.protocol {
                    aura_ai::Protocol::OpenAi => "openai".into(),
                    aura_ai::Protocol::Anthropic => "anthropic".into(),
                },
                models_text: p
                    .models
                    .iter()
                    .map(|m| {
                        format!(
                            "{} {} {}",
                            m.name, m.input_per_million, m.output_per_million
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                protocol: match p.protocol {
                    aura_ai::Protocol::OpenAi => "OpenAI-compatible".into(),
                    aura_ai::Protocol::Anthropic => "Anthropic".into(),
                },
                id: p.id,
                name: p.name,
                base_url: p.base_url,
                key_hint: p.api_key_hint,
            })
            .collect())
    })
    .await
}

/// Adds a provider. `models` holds one model a line: `name`, or `name input output` with
/// prices in US dollars per million tokens.
#[server(prefix = "/api", endpoint = "models/add_provider")]
pub async fn add_provider(
    name: String,
    protocol: String,
    base_url: String,
    api_key: String,
    models: String,
) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let key = if api_key.trim().is_empty() {
            aura_ai::KeyChange::Remove
        } else {
            aura_ai::KeyChange::Set(api_key)
        };
        let input = provider_input(name, &protocol, base_url, key, &models)?;
        let saved = services()
            .models
            .save_provider(&principal, None, &input)
            .await?;
        Ok(saved.name)
    })
    .await
}

/// Changes a provider: an empty `api_key` keeps the stored key unless `remove_key` is set.
#[server(prefix = "/api", endpoint = "models/update_provider")]
pub async fn update_provider(
    id: String,
    name: String,
    protocol: String,
    base_url: String,
    api_key: String,
    remove_key: Option<String>,
    models: String,
) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let input = provider_input(
            name,
            &protocol,
            base_url,
            match (api_key.trim().is_empty(), remove_key.is_some()) {
                (false, _) => aura_ai::KeyChange::Set(api_key),
                (true, true) => aura_ai::KeyChange::Remove,
                (true, false) => aura_ai::KeyChange::Keep,
            },
            &models,
        )?;
        let saved = services()
            .models
            .save_provider(&principal, Some(&id), &input)
            .await?;
        Ok(saved.name)
    })
    .await
}

#[cfg(feature = "ssr")]
fn provider_input(
    name: String,
    protocol: &str,
    base_url: String,
    api_key: aura_ai::KeyChange,
    models: &str,
) -> Result<aura_ai::ProviderInput, AppError> {
    let protocol = match protocol {
        "openai" => aura_ai::Protocol::OpenAi,
        "anthropic" => aura_ai::Protocol::Anthropic,
        _ => return Err(AppError::invalid("protocol", "Choose a protocol.")),
    };
    Ok(aura_ai::ProviderInput {
        name,
        protocol,
        base_url,
        api_key,
        models: parse_models(models)?,
    })
}

#[cfg(feature = "ssr")]
fn parse_models(text: &str) -> Result<Vec<aura_ai::ModelInput>, AppError> {
    let mut models = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let price = |word: &str| {
            word.trim_start_matches('$').parse::<f64>().map_err(|_| {
                AppError::invalid(
                    "models",
                    format!(
                        "Line {}: prices are numbers (US dollars per million tokens).",
                        number + 1
                    ),
                )
            })
        };
        match words.as_slice() {
            [] => {}
            [name] => models.push(aura_ai::ModelInput {
                name: (*name).to_owned(),
                input_per_million: None,
                output_per_million: None,
            }),
            [name, input, output] => models.push(aura_ai::ModelInput {
                name: (*name).to_owned(),
                input_per_million: Some(price(input)?),
                output_per_million: Some(price(output)?),
            }),
            _ => {
                return Err(AppError::invalid(
                    "models",
                    format!(
                        "Line {}: write a model name, or a name and its input and output prices.",
                        number + 1
                    ),
                ));
            }
        }
    }
    Ok(models)
}

#[server(prefix = "/api", endpoint = "models/delete_provider")]
pub async fn delete_provider(id: String) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        services().models.delete_provider(&principal, &id).await?;
        Ok(id)
    })
    .await
}

/// One real, small call to `model` (`provider/model` or an alias).
#[server(prefix = "/api", endpoint = "models/test")]
pub async fn test_model(model: String) -> Result<TestResult, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let outcome = services().models.test(&principal, &model).await?;
        Ok(TestResult {
            ok: outcome.ok,
            message: outcome.message,
            model: outcome.model,
            latency_ms: outcome.latency_ms,
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "models/aliases")]
pub async fn list_aliases() -> Result<Vec<AliasRow>, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let aliases = services().models.aliases(&principal).await?;
        Ok(aliases
            .into_iter()
            .map(|a| AliasRow {
                editable: a.source == "settings",
                name: a.name,
                targets: a.targets,
            })
            .collect())
    })
    .await
}

/// Sets an alias; `targets` holds one `provider/model` a line, first choice first.
#[server(prefix = "/api", endpoint = "models/save_alias")]
pub async fn save_alias(name: String, targets: String) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let targets: Vec<String> = targets
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        let saved = services()
            .models
            .save_alias(&principal, &name, &targets)
            .await?;
        Ok(saved.name)
    })
    .await
}

#[server(prefix = "/api", endpoint = "models/delete_alias")]
pub async fn delete_alias(name: String) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        services().models.delete_alias(&principal, &name).await?;
        Ok(name)
    })
    .await
}

/// A budget with this month's use, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetRow {
    pub id: String,
    /// `user ada@example.com` or `project Payments`.
    pub subject: String,
    /// `1,234 of 20,000 tokens · $0.12 of $5.00 this month`.
    pub usage: String,
    pub over: bool,
}

#[server(prefix = "/api", endpoint = "models/budgets")]
pub async fn list_budgets() -> Result<Vec<BudgetRow>, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let budgets = services().models.budgets(&principal).await?;
        Ok(budgets
            .into_iter()
            .map(|b| {
                let mut parts = Vec::new();
                if let Some(max) = b.max_tokens {
                    parts.push(format!("{} of {max} tokens", b.used_tokens));
                }
                if let Some(max) = b.max_cost_usd {
                    parts.push(format!("${:.2} of ${max:.2}", b.used_cost_usd));
                }
                BudgetRow {
                    over: b.max_tokens.is_some_and(|m| b.used_tokens >= m)
                        || b.max_cost_usd.is_some_and(|m| b.used_cost_usd >= m),
                    subject: format!("{} {}", b.scope, b.subject),
                    usage: format!("{} this month", parts.join(" · ")),
                    id: b.id,
                }
            })
            .collect())
    })
    .await
}

/// Sets a monthly budget; empty limits are none. `subject` is a user's email or id, or a
/// project's id.
#[server(prefix = "/api", endpoint = "models/set_budget")]
pub async fn set_budget(
    scope: String,
    subject: String,
    max_tokens: String,
    max_cost_usd: String,
) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let max_tokens = match max_tokens.trim() {
            "" => None,
            text => Some(text.parse::<i64>().map_err(|_| {
                AppError::invalid("max_tokens", "Enter a whole number of tokens, or nothing.")
            })?),
        };
        let max_cost_usd = match max_cost_usd.trim().trim_start_matches('$') {
            "" => None,
            text => Some(text.parse::<f64>().map_err(|_| {
                AppError::invalid("max_cost_usd", "Enter an amount in US dollars, or nothing.")
            })?),
        };
        let saved = services()
            .models
            .set_budget(&principal, &scope, &subject, max_tokens, max_cost_usd)
            .await?;
        Ok(saved.subject)
    })
    .await
}

#[server(prefix = "/api", endpoint = "models/delete_budget")]
pub async fn delete_budget(id: String) -> Result<String, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        services().models.delete_budget(&principal, &id).await?;
        Ok(id)
    })
    .await
}

#[component]
pub fn ModelsPage() -> impl IntoView {
    if !crate::shell::use_current_user().get_untracked().is_admin {
        return view! {
            <Title text="Models"/>
            <h1 class="text-2xl font-semibold">"Models"</h1>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">"Only administrators manage model providers and aliases."</p>
        }
        .into_any();
    }
    let toasts = use_toasts();
    let add = ServerAction::<AddProvider>::new();
    let remove = ServerAction::<DeleteProvider>::new();
    let update = ServerAction::<UpdateProvider>::new();
    let save_alias = ServerAction::<SaveAlias>::new();
    let remove_alias = ServerAction::<DeleteAlias>::new();
    let add_error = action_error(add);
    let alias_error = action_error(save_alias);
    let providers = Resource::new(
        move || {
            (
                add.version().get(),
                remove.version().get(),
                update.version().get(),
            )
        },
        |_| list_providers(),
    );
    let aliases = Resource::new(
        move || {
            (
                save_alias.version().get(),
                remove_alias.version().get(),
                remove.version().get(),
            )
        },
        |_| list_aliases(),
    );
    Effect::new(move |_| {
        if let Some(Ok(name)) = add.value().get() {
            toasts.show(format!("Provider “{name}” added."));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(name)) = update.value().get() {
            toasts.show(format!("Provider “{name}” saved."));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(name)) = save_alias.value().get() {
            toasts.show(format!("Alias “{name}” saved."));
        }
    });
    view! {
        <Title text="Models"/>
        <h1 class="text-2xl font-semibold">"Models"</h1>
        <p class="mt-2 max-w-2xl text-sm text-slate-600 dark:text-slate-400">
            "Providers answer the " <code class="font-mono text-xs">"llm"</code>
            " steps of workflows. Steps name a model as an alias, or as "
            <code class="font-mono text-xs">"provider/model"</code>
            ". Keys are encrypted before they are stored."
        </p>
        <section aria-labelledby="models-providers" class="mt-8 max-w-3xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="models-providers" class="text-lg font-semibold">"Providers"</h2>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading providers…"</p> }>
                {move || Suspend::new(async move {
                    match providers.await {
                        Err(err) => view! { <p class="mt-4 text-sm text-red-700 dark:text-red-400" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="mt-4 text-sm text-slate-500">"No providers yet. Add one below."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-4 divide-y divide-slate-200 dark:divide-slate-800" aria-label="Model providers">
                                {list.into_iter().map(|p| view! { <ProviderItem provider=p remove update/> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
            <h3 class="mt-6 text-base font-semibold">"Add a provider"</h3>
            <ActionForm action=add>
                <div class="mt-3 space-y-3">
                    <Field label="Name" name="name" error=add_error required=true hint="Letters, digits, - and _: the provider/ in model names."/>
                    <div>
                        <label for="field-protocol" class="block text-sm font-medium text-slate-700 dark:text-slate-300">"Protocol"</label>
                        <select id="field-protocol" name="protocol" class=INPUT_CLASS>
                            <option value="openai">"OpenAI-compatible (OpenAI, vLLM, Ollama, LiteLLM…)"</option>
                            <option value="anthropic">"Anthropic"</option>
                        </select>
                    </div>
                    <Field label="API root" name="base_url" kind="url" error=add_error required=true hint="For example https://api.openai.com/v1"/>
                    <Field label="API key" name="api_key" kind="password" autocomplete="off" error=add_error/>
                    <div>
                        <label for="field-models" class="block text-sm font-medium text-slate-700 dark:text-slate-300">"Models"</label>
                        <textarea id="field-models" name="models" rows="3" required class=INPUT_CLASS
                            aria-describedby="field-models-hint field-models-error"
                            aria-invalid=move || add_error.get().and_then(|e| e.field("models")).is_some().to_string()></textarea>
                        <p id="field-models-hint" class="mt-1 text-xs text-slate-500">"One a line: a name, or a name and its input and output prices in US dollars per million tokens. Well-known models get their published prices."</p>
                        <p id="field-models-error" class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{move || add_error.get().and_then(|e| e.field("models"))}</p>
                    </div>
                    <FormAlert error=add_error/>
                    <button type="submit" class=BUTTON_CLASS disabled=move || add.pending().get()>"Add provider"</button>
                </div>
            </ActionForm>
        </section>
        <section aria-labelledby="models-aliases" class="mt-8 max-w-3xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="models-aliases" class="text-lg font-semibold">"Aliases"</h2>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"An alias tries its targets in order: when one fails, the next answers."</p>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading aliases…"</p> }>
                {move || Suspend::new(async move {
                    match aliases.await {
                        Err(err) => view! { <p class="mt-4 text-sm text-red-700 dark:text-red-400" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="mt-4 text-sm text-slate-500">"No aliases yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-4 divide-y divide-slate-200 dark:divide-slate-800" aria-label="Model aliases">
                                {list.into_iter().map(|a| view! {
                                    <li class="flex flex-wrap items-center justify-between gap-3 py-3">
                                        <div>
                                            <p class="text-sm font-medium font-mono">{a.name.clone()}</p>
                                            <p class="text-xs text-slate-500">{a.targets.join(" → ")}{(!a.editable).then_some(" · from the environment")}</p>
                                        </div>
                                        {a.editable.then(|| view! {
                                            <ActionForm action=remove_alias>
                                                <input type="hidden" name="name" value=a.name.clone()/>
                                                <button type="submit" class=SECONDARY_BUTTON_CLASS aria-label=format!("Delete alias {}", a.name)>"Delete"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=save_alias>
                <div class="mt-4 space-y-3">
                    <Field label="Alias" name="name" id="alias-name" error=alias_error required=true hint="default, fast, code, or your own"/>
                    <div>
                        <label for="alias-targets" class="block text-sm font-medium text-slate-700 dark:text-slate-300">"Targets"</label>
                        <textarea id="alias-targets" name="targets" rows="2" required class=INPUT_CLASS aria-describedby="alias-targets-error"></textarea>
                        <p id="alias-targets-error" class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{move || alias_error.get().and_then(|e| e.field("targets"))}</p>
                    </div>
                    <FormAlert error=alias_error/>
                    <button type="submit" class=BUTTON_CLASS disabled=move || save_alias.pending().get()>"Save alias"</button>
                </div>
            </ActionForm>
        </section>
        <BudgetsSection/>
    }
    .into_any()
}

#[component]
fn BudgetsSection() -> impl IntoView {
    let toasts = use_toasts();
    let save = ServerAction::<SetBudget>::new();
    let remove = ServerAction::<DeleteBudget>::new();
    let error = action_error(save);
    let budgets = Resource::new(
        move || (save.version().get(), remove.version().get()),
        |_| list_budgets(),
    );
    Effect::new(move |_| {
        if let Some(Ok(subject)) = save.value().get() {
            toasts.show(format!("Budget for {subject} saved."));
        }
    });
    view! {
        <section aria-labelledby="models-budgets" class="mt-8 max-w-3xl rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h2 id="models-budgets" class="text-lg font-semibold">"Monthly budgets"</h2>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"Calls past a budget are refused until the next month (UTC), naming the budget."</p>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading budgets…"</p> }>
                {move || Suspend::new(async move {
                    match budgets.await {
                        Err(err) => view! { <p class="mt-4 text-sm text-red-700 dark:text-red-400" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="mt-4 text-sm text-slate-500">"No budgets: calls are not limited."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-4 divide-y divide-slate-200 dark:divide-slate-800" aria-label="Budgets">
                                {list.into_iter().map(|b| {
                                    let label = format!("Delete budget of {}", b.subject);
                                    view! {
                                        <li class="flex items-center justify-between gap-3 py-3">
                                            <div>
                                                <p class="text-sm font-medium">{b.subject.clone()}</p>
                                                <p class=if b.over { "text-xs text-red-700 dark:text-red-400" } else { "text-xs text-slate-500" }>
                                                    {b.usage.clone()}{b.over.then_some(" · used up")}
                                                </p>
                                            </div>
                                            <ActionForm action=remove>
                                                <input type="hidden" name="id" value=b.id.clone()/>
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
            <ActionForm action=save>
                <div class="mt-4 grid gap-3 sm:grid-cols-2">
                    <div>
                        <label for="budget-scope" class="block text-sm font-medium text-slate-700 dark:text-slate-300">"For"</label>
                        <select id="budget-scope" name="scope" class=INPUT_CLASS>
                            <option value="user">"A user"</option>
                            <option value="project">"A project"</option>
                        </select>
                    </div>
                    <Field label="User email, or project id" name="subject" id="budget-subject" error required=true/>
                    <Field label="Tokens a month" name="max_tokens" id="budget-tokens" kind="number" error/>
                    <Field label="US dollars a month" name="max_cost_usd" id="budget-cost" error/>
                </div>
                <div class="mt-3 space-y-3">
                    <p class="text-sm text-red-600 dark:text-red-400" role="alert">{move || error.get().and_then(|e| e.field("subject_id"))}</p>
                    <FormAlert error/>
                    <button type="submit" class=BUTTON_CLASS disabled=move || save.pending().get()>"Save budget"</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn ProviderItem(
    provider: ProviderRow,
    remove: ServerAction<DeleteProvider>,
    update: ServerAction<UpdateProvider>,
) -> impl IntoView {
    let test = ServerAction::<TestModel>::new();
    let editing = RwSignal::new(false);
    let update_error = action_error(update);
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            editing.set(false);
        }
    });
    let details = format!(
        "{} · {} · {}",
        provider.protocol,
        provider.base_url,
        provider
            .key_hint
            .clone()
            .map(|h| format!("key {h}"))
            .unwrap_or_else(|| "no key".into())
    );
    let name = provider.name.clone();
    let test_label = format!("Test connection to {name}");
    let delete_label = format!("Delete provider {name}");
    let edit_label = format!("Edit provider {name}");
    let form_id = format!("edit-{}", provider.id);
    let edit_form = provider.editable.then(|| {
        let p = provider.clone();
        let models_id = format!("{form_id}-models");
        let name_id = format!("{form_id}-name");
        let url_id = format!("{form_id}-url");
        let key_id = format!("{form_id}-key");
        let remove_id = format!("{form_id}-remove");
        view! {
            <div id=form_id.clone() hidden=move || !editing.get()>
                <ActionForm action=update attr:class="mt-3 space-y-3 rounded-md border border-slate-200 p-3 dark:border-slate-700">
                    <input type="hidden" name="id" value=p.id.clone()/>
                    <input type="hidden" name="protocol" value=p.protocol_id.clone()/>
                    <div>
                        <label for=name_id.clone() class="block text-sm font-medium">"Name"</label>
                        <input id=name_id.clone() name="name" value=p.name.clone() required class=INPUT_CLASS/>
                    </div>
                    <div>
                        <label for=url_id.clone() class="block text-sm font-medium">"API root"</label>
                        <input id=url_id.clone() name="base_url" type="url" value=p.base_url.clone() required class=INPUT_CLASS/>
                    </div>
                    <div>
                        <label for=key_id.clone() class="block text-sm font-medium">"New API key (empty keeps the current one)"</label>
                        <input id=key_id.clone() name="api_key" type="password" autocomplete="off" class=INPUT_CLASS/>
                    </div>
                    <label for=remove_id.clone() class="inline-flex items-center gap-2 text-sm">
                        <input id=remove_id.clone() name="remove_key" type="checkbox" class="h-4 w-4 rounded border-slate-300"/>
                        "Remove the key"
                    </label>
                    <div>
                        <label for=models_id.clone() class="block text-sm font-medium">"Models and prices"</label>
                        <textarea id=models_id.clone() name="models" rows="3" required class=INPUT_CLASS>{p.models_text.clone()}</textarea>
                    </div>
                    <p class="text-sm text-red-600 dark:text-red-400" role="alert">
                        {move || update_error.get().map(|e| e.to_string())}
                    </p>
                    <div class="flex gap-2">
                        <button type="submit" class=BUTTON_CLASS disabled=move || update.pending().get()>"Save changes"</button>
                        <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| editing.set(false)>"Cancel"</button>
                    </div>
                </ActionForm>
            </div>
        }
    });
    view! {
        <li class="py-3" data-testid=format!("provider-{name}")>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div>
                    <p class="text-sm font-medium">{provider.name.clone()}{(!provider.editable).then_some(" (from the environment)")}</p>
                    <p class="text-xs text-slate-500">{details}</p>
                    <p class="text-xs text-slate-500">{provider.models.join(", ")}</p>
                </div>
                <div class="flex gap-2">
                    {provider.first_model.clone().map(|model| view! {
                        <ActionForm action=test>
                            <input type="hidden" name="model" value=model/>
                            <button type="submit" class=SECONDARY_BUTTON_CLASS disabled=move || test.pending().get()
                                aria-label=test_label>
                                {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                            </button>
                        </ActionForm>
                    })}
                    {provider.editable.then(|| view! {
                        <button type="button" class=SECONDARY_BUTTON_CLASS aria-label=edit_label
                            aria-expanded=move || editing.get().to_string() aria-controls=form_id.clone()
                            on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button>
                    })}
                    {provider.editable.then(|| view! {
                        <ActionForm action=remove>
                            <input type="hidden" name="id" value=provider.id.clone()/>
                            <button type="submit" class=SECONDARY_BUTTON_CLASS aria-label=delete_label>"Delete"</button>
                        </ActionForm>
                    })}
                </div>
            </div>
            {edit_form}
            {move || test.value().get().map(|result| match result {
                Ok(r) if r.ok => view! {
                    <p role="status" class="mt-2 text-sm text-emerald-700 dark:text-emerald-400">
                        {format!("{} answered in {} ms: “{}”", r.model, r.latency_ms, r.message)}
                    </p>
                }.into_any(),
                Ok(r) => view! {
                    <p role="alert" class="mt-2 text-sm text-red-700 dark:text-red-400">{format!("{} failed: {}", r.model, r.message)}</p>
                }.into_any(),
                Err(err) => view! { <p role="alert" class="mt-2 text-sm text-red-700 dark:text-red-400">{err.to_string()}</p> }.into_any(),
            })}
        </li>
    }
}
