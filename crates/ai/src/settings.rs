//! Model providers and aliases as administrators configure them, and the router built
//! from them. Provider API keys are sealed with the vault before they reach the store and
//! opened only to build the router; views show whether a key is set and its last four
//! characters, never the key.
//!
//! The provider from the environment (`AURA_LLM_*`) is always there, read-only, unless a
//! configured provider takes its name.

use crate::router::{Endpoint, Protocol, RetryPolicy, Router, Target, Timeouts};
use crate::{ChatRequest, Message, Usage};
use aura_store::{
    AuditAction, ModelProviderRow, NewAuditEvent, Principal, Store, StoreError, new_id, now_millis,
    sealed_context,
};
use aura_vault::{Vault, VaultError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The router in use and the prices of its models. Changing a provider or an alias builds
/// a new router and swaps it in; calls already running finish on the one they started with.
#[derive(Clone, Debug)]
pub struct Models(Arc<RwLock<Snapshot>>);

#[derive(Debug)]
struct Snapshot {
    router: Arc<Router>,
    /// USD per million (input, output) tokens, by `provider/model`.
    prices: HashMap<String, (f64, f64)>,
}

impl Models {
    pub fn new(router: Router) -> Self {
        Self::with_prices(router, HashMap::new())
    }

    fn with_prices(router: Router, prices: HashMap<String, (f64, f64)>) -> Self {
        Self(Arc::new(RwLock::new(Snapshot {
            router: Arc::new(router),
            prices,
        })))
    }

    pub fn current(&self) -> Arc<Router> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .router
            .clone()
    }

    /// What `usage` of `target` (`provider/model`) costs, in millionths of a US dollar:
    /// the configured price, else Aura's known price, else nothing.
    pub fn cost_micros(&self, target: &str, usage: Usage) -> i64 {
        let snapshot = self.0.read().unwrap_or_else(|e| e.into_inner());
        let price = snapshot.prices.get(target).copied().or_else(|| {
            target
                .split_once('/')
                .and_then(|(_, model)| known_price(model))
        });
        let Some((input, output)) = price else {
            return 0;
        };
        // USD per million tokens is exactly micro-USD per token.
        (usage.input_tokens as f64 * input + usage.output_tokens as f64 * output).round() as i64
    }

    fn replace(&self, router: Router, prices: HashMap<String, (f64, f64)>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Snapshot {
            router: Arc::new(router),
            prices,
        };
    }
}

/// A model a provider offers, with its price in USD per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    pub name: String,
    pub input_per_million: f64,
    pub output_per_million: f64,
}

/// Prices of well-known models (USD per million input and output tokens, as the vendors
/// published them in 2025). A model added without a price takes its price from here;
/// every price can be edited on the settings page.
pub const KNOWN_PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4.1", 2.0, 8.0),
    ("gpt-4.1-mini", 0.4, 1.6),
    ("gpt-4.1-nano", 0.1, 0.4),
    ("gpt-4o", 2.5, 10.0),
    ("gpt-4o-mini", 0.15, 0.6),
    ("o3-mini", 1.1, 4.4),
    ("o4-mini", 1.1, 4.4),
    ("claude-opus-4-0", 15.0, 75.0),
    ("claude-sonnet-4-0", 3.0, 15.0),
    ("claude-3-7-sonnet-latest", 3.0, 15.0),
    ("claude-3-5-haiku-latest", 0.8, 4.0),
];

/// The known price of `model`, if Aura ships one.
pub fn known_price(model: &str) -> Option<(f64, f64)> {
    KNOWN_PRICES
        .iter()
        .find(|(name, ..)| *name == model)
        .map(|(_, input, output)| (*input, *output))
}

/// A provider as the settings page and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub protocol: Protocol,
    pub base_url: String,
    /// `…` and the key's last four characters, when a key is set.
    pub api_key_hint: Option<String>,
    pub models: Vec<ModelPrice>,
    /// `settings`, or `environment` for the read-only provider from `AURA_LLM_*`.
    pub source: String,
    pub updated_at: i64,
}

/// What happens to a provider's key when it is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "value")]
pub enum KeyChange {
    Keep,
    Set(String),
    Remove,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderInput {
    pub name: String,
    pub protocol: Protocol,
    pub base_url: String,
    pub api_key: KeyChange,
    /// Models without prices (`None`) take the known price, else 0.
    pub models: Vec<ModelInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInput {
    pub name: String,
    pub input_per_million: Option<f64>,
    pub output_per_million: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasView {
    pub name: String,
    /// `provider/model`, tried in this order.
    pub targets: Vec<String>,
    /// `settings`, or `environment` for `default` from `AURA_LLM_MODEL`.
    pub source: String,
}

/// What "Test connection" saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    pub ok: bool,
    /// The model's answer, or the provider's error.
    pub message: String,
    pub model: String,
    pub latency_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("only administrators manage model providers")]
    Forbidden,
    #[error("no such provider or alias")]
    NotFound,
    /// Field problems: (field, message).
    #[error("invalid: {0:?}")]
    Invalid(Vec<(String, String)>),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The provider from the environment and the `default` alias's model, and the bounds of
/// every call.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub endpoint: Option<Arc<Endpoint>>,
    pub default_model: Option<String>,
    pub timeouts: Timeouts,
    pub policy: RetryPolicy,
}

#[derive(Debug)]
pub struct ModelSettings {
    store: Store,
    vault: Vault,
    bootstrap: Bootstrap,
    models: Models,
}

const API_KEY: (&str, &str) = ("model_providers", "api_key");

impl ModelSettings {
    /// Loads the configured providers and aliases and builds the first router.
    pub async fn start(
        store: Store,
        vault: Vault,
        bootstrap: Bootstrap,
    ) -> Result<Self, SettingsError> {
        let (router, prices) = Self::build(&store, &vault, &bootstrap).await?;
        Ok(Self {
            store,
            vault,
            bootstrap,
            models: Models::with_prices(router, prices),
        })
    }

    /// The handle callers (the engine, editor actions) route their calls through.
    pub fn models(&self) -> Models {
        self.models.clone()
    }

    async fn build(
        store: &Store,
        vault: &Vault,
        bootstrap: &Bootstrap,
    ) -> Result<(Router, HashMap<String, (f64, f64)>), SettingsError> {
        let mut prices = HashMap::new();
        let mut router = Router::new(bootstrap.timeouts, bootstrap.policy)
            .map_err(|e| StoreError::Unexpected(anyhow::anyhow!("HTTP client: {e}")))?;
        let rows = store.model_providers().await?;
        if let Some(endpoint) = &bootstrap.endpoint
            && !rows.iter().any(|r| r.name == endpoint.name)
        {
            router = router.with_default_endpoint(endpoint.clone());
            if let Some(model) = &bootstrap.default_model {
                router = router.with_alias(
                    "default",
                    vec![Target {
                        endpoint: endpoint.clone(),
                        model: model.clone(),
                    }],
                );
            }
        }
        for row in &rows {
            let endpoint = Arc::new(Endpoint {
                name: row.name.clone(),
                protocol: parse_protocol(&row.protocol),
                base_url: row.base_url.clone(),
                api_key: open_key(vault, row)?,
            });
            let models: Vec<ModelPrice> = serde_json::from_str(&row.models).unwrap_or_default();
            for model in models {
                prices.insert(
                    format!("{}/{}", row.name, model.name),
                    (model.input_per_million, model.output_per_million),
                );
            }
            router = router.with_endpoint(endpoint);
        }
        for alias in store.model_aliases().await? {
            let names: Vec<String> = serde_json::from_str(&alias.targets).unwrap_or_default();
            let targets: Vec<Target> = names
                .iter()
                .filter_map(|name| router.target(name))
                .collect();
            router = router.with_alias(&alias.name, targets);
        }
        Ok((router, prices))
    }

    async fn reload(&self) -> Result<(), SettingsError> {
        let (router, prices) = Self::build(&self.store, &self.vault, &self.bootstrap).await?;
        self.models.replace(router, prices);
        Ok(())
    }

    fn admin(principal: &Principal) -> Result<(), SettingsError> {
        if principal.is_admin() {
            Ok(())
        } else {
            Err(SettingsError::Forbidden)
        }
    }

    pub async fn providers(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ProviderView>, SettingsError> {
        Self::admin(principal)?;
        let rows = self.store.model_providers().await?;
        let mut views = Vec::new();
        if let Some(endpoint) = &self.bootstrap.endpoint
            && !rows.iter().any(|r| r.name == endpoint.name)
        {
            views.push(ProviderView {
                id: format!("env:{}", endpoint.name),
                name: endpoint.name.clone(),
                protocol: endpoint.protocol,
                base_url: endpoint.base_url.clone(),
                api_key_hint: endpoint.api_key.as_deref().map(hint),
                models: self
                    .bootstrap
                    .default_model
                    .iter()
                    .map(|name| priced(name, None, None))
                    .collect(),
                source: "environment".into(),
                updated_at: 0,
            });
        }
        for row in rows {
            let key = open_key(&self.vault, &row)?;
            views.push(ProviderView {
                api_key_hint: key.as_deref().map(hint),
                models: serde_json::from_str(&row.models).unwrap_or_default(),
                protocol: parse_protocol(&row.protocol),
                id: row.id,
                name: row.name,
                base_url: row.base_url,
                source: "settings".into(),
                updated_at: row.updated_at,
            });
        }
        Ok(views)
    }

    /// Creates (`id` none) or changes a provider, sealing its key.
    pub async fn save_provider(
        &self,
        principal: &Principal,
        id: Option<&str>,
        input: &ProviderInput,
    ) -> Result<ProviderView, SettingsError> {
        Self::admin(principal)?;
        let rows = self.store.model_providers().await?;
        let existing = match id {
            Some(id) => Some(
                rows.iter()
                    .find(|r| r.id == id)
                    .ok_or(SettingsError::NotFound)?,
            ),
            None => None,
        };
        let mut problems = validate_provider(input);
        if rows
            .iter()
            .any(|r| r.name == input.name.trim() && Some(&r.id) != existing.map(|e| &e.id))
        {
            problems.push(("name".into(), "Another provider has this name.".into()));
        }
        if !problems.is_empty() {
            return Err(SettingsError::Invalid(problems));
        }
        let id = existing.map_or_else(new_id, |e| e.id.clone());
        let api_key = match &input.api_key {
            KeyChange::Keep => existing.and_then(|e| e.api_key.clone()),
            KeyChange::Remove => None,
            KeyChange::Set(key) => Some(
                self.vault
                    .seal(key.trim(), &sealed_context(API_KEY.0, API_KEY.1, &id))?,
            ),
        };
        let models: Vec<ModelPrice> = input
            .models
            .iter()
            .map(|m| priced(m.name.trim(), m.input_per_million, m.output_per_million))
            .collect();
        let now = now_millis();
        let row = ModelProviderRow {
            id: id.clone(),
            name: input.name.trim().to_owned(),
            protocol: protocol_name(input.protocol).into(),
            base_url: input.base_url.trim().trim_end_matches('/').to_owned(),
            api_key,
            models: serde_json::to_string(&models).unwrap_or_else(|_| "[]".into()),
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: now,
        };
        // The audit records what changed, never the key.
        let audit = NewAuditEvent::success_by(
            principal,
            AuditAction::ModelProviderSave,
            serde_json::json!({
                "provider": row.name, "id": id, "base_url": row.base_url,
                "key": match input.api_key { KeyChange::Keep => "kept", KeyChange::Set(_) => "set", KeyChange::Remove => "removed" },
                "models": models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
            }),
        );
        self.store.save_model_provider(&row, &audit).await?;
        self.reload().await?;
        self.providers(principal)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(SettingsError::NotFound)
    }

    pub async fn delete_provider(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(), SettingsError> {
        Self::admin(principal)?;
        let audit = NewAuditEvent::success_by(
            principal,
            AuditAction::ModelProviderDelete,
            serde_json::json!({ "id": id }),
        );
        if !self.store.delete_model_provider(id, &audit).await? {
            return Err(SettingsError::NotFound);
        }
        self.reload().await
    }

    pub async fn aliases(&self, principal: &Principal) -> Result<Vec<AliasView>, SettingsError> {
        Self::admin(principal)?;
        let mut views: Vec<AliasView> = self
            .store
            .model_aliases()
            .await?
            .into_iter()
            .map(|a| AliasView {
                targets: serde_json::from_str(&a.targets).unwrap_or_default(),
                name: a.name,
                source: "settings".into(),
            })
            .collect();
        if let (Some(endpoint), Some(model)) =
            (&self.bootstrap.endpoint, &self.bootstrap.default_model)
            && !views.iter().any(|a| a.name == "default")
        {
            views.insert(
                0,
                AliasView {
                    name: "default".into(),
                    targets: vec![format!("{}/{model}", endpoint.name)],
                    source: "environment".into(),
                },
            );
        }
        Ok(views)
    }

    /// Sets an alias to `targets` (`provider/model`, each naming a configured provider).
    pub async fn save_alias(
        &self,
        principal: &Principal,
        name: &str,
        targets: &[String],
    ) -> Result<AliasView, SettingsError> {
        Self::admin(principal)?;
        let name = name.trim();
        let mut problems = Vec::new();
        if !is_identifier(name) {
            problems.push((
                "name".into(),
                "Use 1 to 40 letters, digits, `-` or `_`.".into(),
            ));
        }
        let router = self.models.current();
        let targets: Vec<String> = targets.iter().map(|t| t.trim().to_owned()).collect();
        if targets.is_empty() || targets.len() > 10 {
            problems.push((
                "targets".into(),
                "List 1 to 10 targets, first choice first.".into(),
            ));
        }
        for target in &targets {
            if !target.contains('/') || router.target(target).is_none() {
                problems.push((
                    "targets".into(),
                    format!("`{target}` is not provider/model with a configured provider."),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(SettingsError::Invalid(problems));
        }
        let json = serde_json::to_string(&targets).unwrap_or_else(|_| "[]".into());
        let audit = NewAuditEvent::success_by(
            principal,
            AuditAction::ModelAliasSave,
            serde_json::json!({ "alias": name, "targets": targets }),
        );
        self.store.save_model_alias(name, &json, &audit).await?;
        self.reload().await?;
        Ok(AliasView {
            name: name.to_owned(),
            targets,
            source: "settings".into(),
        })
    }

    pub async fn delete_alias(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<(), SettingsError> {
        Self::admin(principal)?;
        let audit = NewAuditEvent::success_by(
            principal,
            AuditAction::ModelAliasDelete,
            serde_json::json!({ "alias": name }),
        );
        if !self.store.delete_model_alias(name, &audit).await? {
            return Err(SettingsError::NotFound);
        }
        self.reload().await
    }

    /// Makes one real, small call to `model` (an alias or `provider/model`) and reports the
    /// answer or the provider's error. Nothing is retried: the point is to see the error.
    pub async fn test(
        &self,
        principal: &Principal,
        model: &str,
    ) -> Result<TestOutcome, SettingsError> {
        Self::admin(principal)?;
        let request = ChatRequest {
            messages: vec![Message::user("Reply with the single word OK.")],
            max_tokens: Some(16),
            temperature: Some(0.0),
            ..ChatRequest::default()
        };
        let started = std::time::Instant::now();
        let result = self.models.current().test(model, &request).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        // A test is a paid call like any other: one ledger row.
        let mut row = aura_store::LlmCall {
            user_id: principal.user_id().to_owned(),
            source: "test".into(),
            alias: model.to_owned(),
            latency_ms: latency_ms as i64,
            ..aura_store::LlmCall::default()
        };
        match &result {
            Ok(route) => {
                let usage = route.response.usage.unwrap_or_default();
                row.target = Some(route.target.clone());
                row.input_tokens = usage.input_tokens as i64;
                row.output_tokens = usage.output_tokens as i64;
                row.cost_micros = self.models.cost_micros(&route.target, usage);
                row.outcome = "ok".into();
            }
            Err(err) => {
                row.outcome = "error".into();
                row.error = Some(err.to_string());
            }
        }
        self.store.record_llm_call(&row).await?;
        Ok(match result {
            Ok(route) => TestOutcome {
                ok: true,
                message: route.response.text.trim().to_owned(),
                model: route.target,
                latency_ms,
            },
            Err(err) => TestOutcome {
                ok: false,
                message: err.to_string(),
                model: model.to_owned(),
                latency_ms,
            },
        })
    }
}

/// A monthly budget with what was used of it this month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetView {
    pub id: String,
    /// `user` or `project`.
    pub scope: String,
    pub subject_id: String,
    /// The user's email or the project's name.
    pub subject: String,
    pub max_tokens: Option<i64>,
    pub max_cost_usd: Option<f64>,
    pub used_tokens: i64,
    pub used_cost_usd: f64,
    pub calls: i64,
    /// The start of the month counted (Unix milliseconds, UTC).
    pub since: i64,
}

impl ModelSettings {
    pub async fn budgets(&self, principal: &Principal) -> Result<Vec<BudgetView>, SettingsError> {
        Self::admin(principal)?;
        let mut views = Vec::new();
        for budget in self.store.llm_budgets().await? {
            views.push(self.budget_view(budget).await?);
        }
        Ok(views)
    }

    async fn budget_view(
        &self,
        budget: aura_store::LlmBudget,
    ) -> Result<BudgetView, SettingsError> {
        let since = crate::llm::month_start(now_millis());
        let used = self
            .store
            .llm_used(&budget.scope, &budget.subject_id, since)
            .await?;
        Ok(BudgetView {
            id: budget.id,
            scope: budget.scope,
            subject: budget
                .subject_label
                .unwrap_or_else(|| budget.subject_id.clone()),
            subject_id: budget.subject_id,
            max_tokens: budget.max_tokens,
            max_cost_usd: budget.max_cost_micros.map(|m| m as f64 / 1_000_000.0),
            used_tokens: used.tokens,
            used_cost_usd: used.cost_micros as f64 / 1_000_000.0,
            calls: used.calls,
            since,
        })
    }

    /// Sets the monthly budget of a user or project (replacing one it had).
    pub async fn set_budget(
        &self,
        principal: &Principal,
        scope: &str,
        subject_id: &str,
        max_tokens: Option<i64>,
        max_cost_usd: Option<f64>,
    ) -> Result<BudgetView, SettingsError> {
        Self::admin(principal)?;
        let mut problems = Vec::new();
        // A user may be named by email.
        let subject_id = match (scope, subject_id.contains('@')) {
            ("user", true) => self
                .store
                .user_id_by_email(subject_id)
                .await?
                .unwrap_or_else(|| subject_id.to_owned()),
            _ => subject_id.trim().to_owned(),
        };
        let subject_id = subject_id.as_str();
        let exists = match scope {
            "user" => self.store.find_user(subject_id).await?.is_some(),
            "project" => self.store.project_exists(subject_id).await?,
            _ => {
                problems.push(("scope".to_owned(), "Use user or project.".to_owned()));
                true
            }
        };
        if !exists {
            problems.push((
                "subject_id".to_owned(),
                format!(
                    "No {scope} has this id{}.",
                    if scope == "user" { " or email" } else { "" }
                ),
            ));
        }
        if max_tokens.is_none() && max_cost_usd.is_none() {
            problems.push((
                "max_tokens".to_owned(),
                "Set a token limit, a cost limit, or both.".to_owned(),
            ));
        }
        if max_tokens.is_some_and(|t| t < 0) {
            problems.push(("max_tokens".to_owned(), "Use 0 or more tokens.".to_owned()));
        }
        if max_cost_usd.is_some_and(|c| !c.is_finite() || !(0.0..=1_000_000.0).contains(&c)) {
            problems.push((
                "max_cost_usd".to_owned(),
                "Use 0 to 1000000 US dollars.".to_owned(),
            ));
        }
        if !problems.is_empty() {
            return Err(SettingsError::Invalid(problems));
        }
        let max_cost_micros = max_cost_usd.map(|c| (c * 1_000_000.0).round() as i64);
        let audit = NewAuditEvent::success_by(
            principal,
            AuditAction::BudgetSet,
            serde_json::json!({ "scope": scope, "subject_id": subject_id, "max_tokens": max_tokens, "max_cost_usd": max_cost_usd }),
        );
        let budget = self
            .store
            .set_llm_budget(scope, subject_id, max_tokens, max_cost_micros, &audit)
            .await?;
        self.budget_view(budget).await
    }

    pub async fn delete_budget(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(), SettingsError> {
        Self::admin(principal)?;
        let audit = NewAuditEvent::success_by(
            principal,
            AuditAction::BudgetDelete,
            serde_json::json!({ "id": id }),
        );
        if !self.store.delete_llm_budget(id, &audit).await? {
            return Err(SettingsError::NotFound);
        }
        Ok(())
    }
}

/// A provider's key, opened.
fn open_key(vault: &Vault, row: &ModelProviderRow) -> Result<Option<String>, VaultError> {
    row.api_key
        .as_deref()
        .map(|sealed| vault.open(sealed, &sealed_context(API_KEY.0, API_KEY.1, &row.id)))
        .transpose()
}

fn priced(name: &str, input: Option<f64>, output: Option<f64>) -> ModelPrice {
    let known = known_price(name);
    ModelPrice {
        name: name.to_owned(),
        input_per_million: input.or(known.map(|k| k.0)).unwrap_or(0.0),
        output_per_million: output.or(known.map(|k| k.1)).unwrap_or(0.0),
    }
}

/// `…` and the last four characters.
fn hint(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

fn is_identifier(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(crate) fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::OpenAi => "openai",
        Protocol::Anthropic => "anthropic",
    }
}

fn parse_protocol(text: &str) -> Protocol {
    match text {
        "anthropic" => Protocol::Anthropic,
        _ => Protocol::OpenAi,
    }
}

fn validate_provider(input: &ProviderInput) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut problem =
        |field: &str, message: &str| problems.push((field.to_owned(), message.to_owned()));
    if !is_identifier(input.name.trim()) {
        problem(
            "name",
            "Use 1 to 40 letters, digits, `-` or `_` (it is the `provider/` in model names).",
        );
    }
    let url = input.base_url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.len() < 10
        || url.len() > 500
        || url.contains(char::is_whitespace)
    {
        problem(
            "base_url",
            "Use the API root as an http:// or https:// URL, e.g. https://api.openai.com/v1.",
        );
    }
    if let KeyChange::Set(key) = &input.api_key
        && (key.trim().is_empty() || key.len() > 1000)
    {
        problem(
            "api_key",
            "Paste the provider's API key, or leave the key as it is.",
        );
    }
    if input.models.is_empty() || input.models.len() > 100 {
        problem("models", "List 1 to 100 models this provider offers.");
    }
    let mut seen = std::collections::HashSet::new();
    for model in &input.models {
        let name = model.name.trim();
        if name.is_empty() || name.len() > 200 {
            problem(
                "models",
                "Each model needs a name of at most 200 characters.",
            );
        } else if !seen.insert(name) {
            problem("models", &format!("`{name}` is listed twice."));
        }
        for price in [model.input_per_million, model.output_per_million]
            .into_iter()
            .flatten()
        {
            if !price.is_finite() || !(0.0..=10_000.0).contains(&price) {
                problem(
                    "models",
                    &format!("`{name}`: a price is USD per million tokens, 0 to 10000."),
                );
            }
        }
    }
    problems
}
