//! `/api/v1/models`: model providers and aliases (administrators, `admin` scope), and
//! "test connection". Keys go in and never come out: a provider shows `api_key_hint`.

use super::{ApiPath, ApiResult, Data, Deleted, Signed, bad_body, respond};
use crate::AppState;
use aura_ai::{KeyChange, ModelInput, Protocol, ProviderInput};
use aura_app::error::AppError;
use aura_app::server::ErrorBody;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(providers, create_provider))
        .routes(routes!(update_provider, delete_provider))
        .routes(routes!(aliases))
        .routes(routes!(save_alias, delete_alias))
        .routes(routes!(test))
        .routes(routes!(budgets, set_budget))
        .routes(routes!(delete_budget))
}

/// A model a provider offers and its price.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
struct ModelView {
    name: String,
    /// USD per million input tokens.
    input_per_million: f64,
    /// USD per million output tokens.
    output_per_million: f64,
}

#[derive(Debug, Serialize, ToSchema)]
struct ProviderView {
    id: String,
    name: String,
    /// `openai` (chat completions) or `anthropic` (Messages).
    protocol: String,
    base_url: String,
    /// `…` and the key's last four characters; null without a key.
    api_key_hint: Option<String>,
    models: Vec<ModelView>,
    /// `settings`, or `environment` for the read-only provider from `AURA_LLM_*`.
    source: String,
    updated_at: i64,
}

impl From<aura_ai::ProviderView> for ProviderView {
    fn from(p: aura_ai::ProviderView) -> Self {
        Self {
            protocol: protocol_name(p.protocol).into(),
            models: p
                .models
                .into_iter()
                .map(|m| ModelView {
                    name: m.name,
                    input_per_million: m.input_per_million,
                    output_per_million: m.output_per_million,
                })
                .collect(),
            id: p.id,
            name: p.name,
            base_url: p.base_url,
            api_key_hint: p.api_key_hint,
            source: p.source,
            updated_at: p.updated_at,
        }
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::OpenAi => "openai",
        Protocol::Anthropic => "anthropic",
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ModelBody {
    name: String,
    /// USD per million input tokens; Aura's price for well-known models when absent, else 0.
    #[serde(default)]
    input_per_million: Option<f64>,
    #[serde(default)]
    output_per_million: Option<f64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProviderBody {
    /// Letters, digits, `-`, `_`: the `provider/` of model names.
    name: String,
    /// `openai` or `anthropic`.
    protocol: String,
    base_url: String,
    /// A new key; absent keeps the stored one, `""` removes it.
    #[serde(default)]
    api_key: Option<String>,
    models: Vec<ModelBody>,
}

impl ProviderBody {
    fn into_input(self) -> Result<ProviderInput, AppError> {
        let protocol = match self.protocol.as_str() {
            "openai" => Protocol::OpenAi,
            "anthropic" => Protocol::Anthropic,
            _ => return Err(AppError::invalid("protocol", "Use openai or anthropic.")),
        };
        Ok(ProviderInput {
            name: self.name,
            protocol,
            base_url: self.base_url,
            api_key: match self.api_key {
                None => KeyChange::Keep,
                Some(key) if key.is_empty() => KeyChange::Remove,
                Some(key) => KeyChange::Set(key),
            },
            models: self
                .models
                .into_iter()
                .map(|m| ModelInput {
                    name: m.name,
                    input_per_million: m.input_per_million,
                    output_per_million: m.output_per_million,
                })
                .collect(),
        })
    }
}

/// Every provider: the one from the environment and the configured ones.
#[utoipa::path(get, operation_id = "models.providers", path = "/models/providers", tag = "models",
    responses((status = 200, description = "The providers", body = Data<Vec<ProviderView>>)))]
async fn providers(State(state): State<AppState>, Signed(principal): Signed) -> ApiResult {
    let all = state.services.models.providers(&principal).await?;
    Ok(respond(
        StatusCode::OK,
        all.into_iter().map(ProviderView::from).collect::<Vec<_>>(),
    ))
}

/// Adds a provider; its key is sealed before it is stored.
#[utoipa::path(post, operation_id = "models.create_provider", path = "/models/providers", tag = "models", request_body = ProviderBody,
    responses((status = 201, description = "Added", body = Data<ProviderView>),
        (status = 422, description = "A bad or taken name, URL, key or model list", body = ErrorBody)))]
async fn create_provider(
    State(state): State<AppState>,
    Signed(principal): Signed,
    body: Result<Json<ProviderBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let saved = state
        .services
        .models
        .save_provider(&principal, None, &body.into_input()?)
        .await?;
    Ok(respond(StatusCode::CREATED, ProviderView::from(saved)))
}

/// Changes a provider.
#[utoipa::path(put, operation_id = "models.update_provider", path = "/models/providers/{id}", tag = "models", params(("id" = String, Path)), request_body = ProviderBody,
    responses((status = 200, description = "Saved", body = Data<ProviderView>),
        (status = 404, description = "No such provider", body = ErrorBody),
        (status = 422, description = "A bad or taken name, URL, key or model list", body = ErrorBody)))]
async fn update_provider(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<ProviderBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let saved = state
        .services
        .models
        .save_provider(&principal, Some(&id), &body.into_input()?)
        .await?;
    Ok(respond(StatusCode::OK, ProviderView::from(saved)))
}

/// Removes a provider; aliases leading to it skip it.
#[utoipa::path(delete, operation_id = "models.delete_provider", path = "/models/providers/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 200, description = "Removed", body = Data<Deleted>),
        (status = 404, description = "No such provider", body = ErrorBody)))]
async fn delete_provider(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state
        .services
        .models
        .delete_provider(&principal, &id)
        .await?;
    Ok(respond(StatusCode::OK, Deleted { deleted: id }))
}

#[derive(Debug, Serialize, ToSchema)]
struct AliasView {
    name: String,
    /// `provider/model`, tried in this order.
    targets: Vec<String>,
    /// `settings`, or `environment` for `default` from `AURA_LLM_MODEL`.
    source: String,
}

impl From<aura_ai::AliasView> for AliasView {
    fn from(a: aura_ai::AliasView) -> Self {
        Self {
            name: a.name,
            targets: a.targets,
            source: a.source,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AliasBody {
    /// `provider/model`, first choice first (1 to 10).
    targets: Vec<String>,
}

/// Every alias and its targets.
#[utoipa::path(get, operation_id = "models.aliases", path = "/models/aliases", tag = "models",
    responses((status = 200, description = "The aliases", body = Data<Vec<AliasView>>)))]
async fn aliases(State(state): State<AppState>, Signed(principal): Signed) -> ApiResult {
    let all = state.services.models.aliases(&principal).await?;
    Ok(respond(
        StatusCode::OK,
        all.into_iter().map(AliasView::from).collect::<Vec<_>>(),
    ))
}

/// Creates or replaces an alias.
#[utoipa::path(put, operation_id = "models.save_alias", path = "/models/aliases/{name}", tag = "models", params(("name" = String, Path)), request_body = AliasBody,
    responses((status = 200, description = "Saved", body = Data<AliasView>),
        (status = 422, description = "A bad name, or a target that is not provider/model of a provider", body = ErrorBody)))]
async fn save_alias(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(name): ApiPath<String>,
    body: Result<Json<AliasBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let saved = state
        .services
        .models
        .save_alias(&principal, &name, &body.targets)
        .await?;
    Ok(respond(StatusCode::OK, AliasView::from(saved)))
}

/// Removes an alias.
#[utoipa::path(delete, operation_id = "models.delete_alias", path = "/models/aliases/{name}", tag = "models", params(("name" = String, Path)),
    responses((status = 200, description = "Removed", body = Data<Deleted>),
        (status = 404, description = "No such alias", body = ErrorBody)))]
async fn delete_alias(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(name): ApiPath<String>,
) -> ApiResult {
    state
        .services
        .models
        .delete_alias(&principal, &name)
        .await?;
    Ok(respond(StatusCode::OK, Deleted { deleted: name }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TestBody {
    /// An alias or `provider/model`.
    model: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct TestView {
    ok: bool,
    /// The model's answer, or the provider's error.
    message: String,
    /// `provider/model` that was called.
    model: String,
    latency_ms: u64,
}

/// Makes one real, small call (no retries) and reports the answer or the provider's error.
#[utoipa::path(post, operation_id = "models.test", path = "/models/test", tag = "models", request_body = TestBody,
    responses((status = 200, description = "What the provider answered; `ok` false with its error", body = Data<TestView>)))]
async fn test(
    State(state): State<AppState>,
    Signed(principal): Signed,
    body: Result<Json<TestBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let outcome = state.services.models.test(&principal, &body.model).await?;
    Ok(respond(
        StatusCode::OK,
        TestView {
            ok: outcome.ok,
            message: outcome.message,
            model: outcome.model,
            latency_ms: outcome.latency_ms,
        },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
struct BudgetView {
    id: String,
    /// `user` or `project`.
    scope: String,
    subject_id: String,
    /// The user's email or the project's name.
    subject: String,
    max_tokens: Option<i64>,
    max_cost_usd: Option<f64>,
    /// Used this month (UTC).
    used_tokens: i64,
    used_cost_usd: f64,
    calls: i64,
    /// The start of the month counted (Unix milliseconds).
    since: i64,
}

impl From<aura_ai::BudgetView> for BudgetView {
    fn from(b: aura_ai::BudgetView) -> Self {
        Self {
            id: b.id,
            scope: b.scope,
            subject_id: b.subject_id,
            subject: b.subject,
            max_tokens: b.max_tokens,
            max_cost_usd: b.max_cost_usd,
            used_tokens: b.used_tokens,
            used_cost_usd: b.used_cost_usd,
            calls: b.calls,
            since: b.since,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BudgetBody {
    /// `user` or `project`.
    scope: String,
    /// The user's or project's id (a user may be given by email).
    subject_id: String,
    /// Tokens (input and output) a month.
    #[serde(default)]
    max_tokens: Option<i64>,
    /// US dollars a month.
    #[serde(default)]
    max_cost_usd: Option<f64>,
}

/// Monthly budgets and what was used of each this month.
#[utoipa::path(get, operation_id = "models.budgets", path = "/models/budgets", tag = "models",
    responses((status = 200, description = "The budgets", body = Data<Vec<BudgetView>>)))]
async fn budgets(State(state): State<AppState>, Signed(principal): Signed) -> ApiResult {
    let all = state.services.models.budgets(&principal).await?;
    Ok(respond(
        StatusCode::OK,
        all.into_iter().map(BudgetView::from).collect::<Vec<_>>(),
    ))
}

/// Sets the monthly budget of a user or project; calls past it are refused.
#[utoipa::path(put, operation_id = "models.set_budget", path = "/models/budgets", tag = "models", request_body = BudgetBody,
    responses((status = 200, description = "Set", body = Data<BudgetView>),
        (status = 422, description = "A bad scope, subject or limit", body = ErrorBody)))]
async fn set_budget(
    State(state): State<AppState>,
    Signed(principal): Signed,
    body: Result<Json<BudgetBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let budget = state
        .services
        .models
        .set_budget(
            &principal,
            &body.scope,
            &body.subject_id,
            body.max_tokens,
            body.max_cost_usd,
        )
        .await?;
    Ok(respond(StatusCode::OK, BudgetView::from(budget)))
}

/// Removes a budget.
#[utoipa::path(delete, operation_id = "models.delete_budget", path = "/models/budgets/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 200, description = "Removed", body = Data<Deleted>),
        (status = 404, description = "No such budget", body = ErrorBody)))]
async fn delete_budget(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state.services.models.delete_budget(&principal, &id).await?;
    Ok(respond(StatusCode::OK, Deleted { deleted: id }))
}
