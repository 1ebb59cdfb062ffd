//! Webhook triggers: `POST /hooks/{token}` (or the method the trigger names) starts a run of
//! the trigger's workflow, acting for its owner, with the request as the run's input.
//!
//! The URL is the credential (192 random bits, kept only as SHA-256 and shown once); a
//! trigger may also demand an HMAC-SHA256 signature of the raw body (GitHub's
//! `X-Hub-Signature-256` by default), optionally over a signed timestamp within a
//! tolerance, with each signature accepted once; or a static token in a header. Refused
//! deliveries are counted on the trigger and never become runs. Each trigger has a body
//! limit and a rate limit, both capped by the operator.

use crate::limiter::RateLimiter;
use crate::verify::{GITHUB_HEADER, hmac_matches, same, sha256_hex};
use aura_engine::{Engine, WorkflowError};
use aura_store::{
    AuditAction, Credential, NewAuditEvent, Origin, Principal, RunStatus, Store, StoreError,
    WebhookRow, WebhookSettings, sealed_context,
};
use aura_vault::{Vault, VaultError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How every token starts, so it is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "whk_";
/// The most triggers one workflow may have.
pub const MAX_PER_WORKFLOW: usize = 20;
const METHODS: &[&str] = &["POST", "PUT", "PATCH", "GET", "DELETE"];
const TABLE: &str = "webhook_triggers";
const COLUMN: &str = "hmac_secret";
const DEFAULT_BODY_KB: u32 = 256;
const DEFAULT_RATE: u32 = 60;
const DEFAULT_TOLERANCE_SECS: u32 = 300;
const DEFAULT_SYNC_TIMEOUT_MS: u32 = 10_000;
/// Headers never copied into a run's input: credentials of other kinds.
const DROPPED_HEADERS: &[&str] = &["cookie", "authorization", "proxy-authorization"];

/// The operator's ceilings (`AURA_WEBHOOK_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookLimits {
    pub max_body_kb: u32,
    pub max_rate_per_minute: u32,
    pub max_sync_timeout: Duration,
}

impl Default for WebhookLimits {
    fn default() -> Self {
        Self {
            max_body_kb: 1024,
            max_rate_per_minute: 600,
            max_sync_timeout: Duration::from_secs(30),
        }
    }
}

/// How a delivery proves it is genuine, besides knowing the URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Verification {
    /// The URL alone.
    None,
    /// HMAC-SHA256 of the raw body (or of `{timestamp}.{body}` with `timestamp_header`)
    /// in `header`, as `sha256=<hex>` or `<hex>`.
    Hmac {
        #[serde(default)]
        header: Option<String>,
        /// Kept when omitted on an update; generated (and shown once) on creation.
        #[serde(default)]
        secret: Option<String>,
        #[serde(default)]
        timestamp_header: Option<String>,
        #[serde(default)]
        tolerance_secs: Option<u32>,
    },
    /// A static token in `header`.
    Header {
        header: String,
        /// Kept when omitted on an update; generated (and shown once) on creation.
        #[serde(default)]
        token: Option<String>,
    },
}

/// What the caller gets back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Response {
    /// 202 with the run id, at once.
    Async,
    /// Wait for the run up to `timeout_ms`, then answer with `step`'s output (the run's
    /// output without one); 202 with the run id when the time is up.
    Sync {
        #[serde(default)]
        step: Option<String>,
        #[serde(default)]
        timeout_ms: Option<u32>,
    },
}

/// A trigger's settings as a caller gives them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// 1 to 80 characters.
    pub name: String,
    /// `POST` (the default), `PUT`, `PATCH`, `GET` or `DELETE`.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default = "no_verification")]
    pub verification: Verification,
    #[serde(default = "async_response")]
    pub response: Response,
    /// Largest body in KB (default 256), at most `AURA_WEBHOOK_MAX_BODY_KB`.
    #[serde(default)]
    pub max_body_kb: Option<u32>,
    /// Deliveries a minute (default 60), at most `AURA_WEBHOOK_MAX_RATE_PER_MINUTE`.
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

fn no_verification() -> Verification {
    Verification::None
}

fn async_response() -> Response {
    Response::Async
}

/// A trigger as its owner sees it: never its token, secret or header token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: String,
    pub workflow_id: String,
    pub name: String,
    /// The token's first characters, to tell URLs apart.
    pub token_prefix: String,
    pub method: String,
    /// `none`, `hmac` or `header`.
    pub verification: String,
    pub verify_header: Option<String>,
    pub timestamp_header: Option<String>,
    pub tolerance_secs: Option<u32>,
    /// `async` or `sync`.
    pub response_mode: String,
    pub sync_step: Option<String>,
    pub sync_timeout_ms: Option<u32>,
    pub max_body_kb: u32,
    pub rate_per_minute: u32,
    pub enabled: bool,
    pub rejected: i64,
    pub last_rejected_at: Option<i64>,
    pub runs: i64,
    pub last_run_id: Option<String>,
    pub last_run_at: Option<i64>,
    pub last_run_status: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A trigger with what is shown only once: its URL's token, and a generated secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub webhook: Webhook,
    pub token: Option<String>,
    pub secret: Option<String>,
}

/// One request to `/hooks/{token}`, as the edge read it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub method: String,
    /// Lowercase names; repeated headers joined with ", ".
    pub headers: Vec<(String, String)>,
    pub query: Option<String>,
    pub body: Vec<u8>,
    pub origin: Origin,
}

/// A trigger found by its token, whose body may now be read up to `max_body_bytes`.
#[derive(Debug, Clone)]
pub struct Armed {
    row: WebhookRow,
    pub max_body_bytes: usize,
}

/// What a delivery did.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivered {
    /// The run is queued (async mode, or sync mode that ran out of time).
    Queued { run_id: String },
    /// Sync mode: the run ended in time.
    Finished {
        run_id: String,
        status: RunStatus,
        output: Value,
        error: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no such webhook")]
    NotFound,
    /// (field, message)
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, String),
    #[error("this webhook is disabled")]
    Disabled,
    #[error("this webhook takes {0} requests")]
    MethodNotAllowed(String),
    /// A delivery that did not prove itself; the reason is safe to show.
    #[error("{0}")]
    Rejected(&'static str),
    #[error("the body is larger than this webhook's limit of {0} KB")]
    TooLarge(u32),
    #[error("too many deliveries to this webhook; try again in {0} s")]
    RateLimited(u64),
    /// A body that cannot become input.
    #[error("{0}")]
    BadBody(String),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Webhooks {
    store: Store,
    engine: Engine,
    vault: Vault,
    limits: WebhookLimits,
    limiter: Arc<RateLimiter>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    pub fn new(store: Store, engine: Engine, vault: Vault, limits: WebhookLimits) -> Self {
        Self {
            store,
            engine,
            vault,
            limits,
            limiter: Arc::default(),
        }
    }

    pub fn limits(&self) -> &WebhookLimits {
        &self.limits
    }

    /// A workflow's triggers.
    pub async fn list(
        &self,
        principal: &Principal,
        workflow_id: &str,
    ) -> Result<Vec<Webhook>, WebhookError> {
        self.engine.workflows().get(principal, workflow_id).await?;
        let rows = self
            .store
            .workflow_webhooks(principal.user_id(), workflow_id)
            .await?;
        self.views(rows).await
    }

    /// The caller's trigger; `NotFound` for anyone else's, so existence does not leak.
    async fn owned(&self, principal: &Principal, id: &str) -> Result<WebhookRow, WebhookError> {
        self.store
            .find_webhook(principal.user_id(), id)
            .await?
            .ok_or(WebhookError::NotFound)
    }

    pub async fn get(&self, principal: &Principal, id: &str) -> Result<Webhook, WebhookError> {
        let row = self.owned(principal, id).await?;
        Ok(self.views(vec![row]).await?.remove(0))
    }

    pub async fn create(
        &self,
        principal: &Principal,
        workflow_id: &str,
        spec: WebhookSpec,
    ) -> Result<Created, WebhookError> {
        self.engine.workflows().get(principal, workflow_id).await?;
        let existing = self
            .store
            .workflow_webhooks(principal.user_id(), workflow_id)
            .await?;
        if existing.len() >= MAX_PER_WORKFLOW {
            return Err(WebhookError::Invalid(
                "workflow",
                format!("A workflow has at most {MAX_PER_WORKFLOW} webhooks; delete one first."),
            ));
        }
        let id = aura_store::new_id();
        let (settings, secret) = self
            .settings(principal, workflow_id, &id, spec, None)
            .await?;
        let token = new_token()?;
        let row = self
            .store
            .insert_webhook(
                &id,
                workflow_id,
                principal.user_id(),
                (&sha256_hex(&token), &token[..TOKEN_PREFIX.len() + 8]),
                &settings,
                &audit(principal, AuditAction::WebhookCreate, &id, &settings.name),
            )
            .await?;
        Ok(Created {
            webhook: self.views(vec![row]).await?.remove(0),
            token: Some(token),
            secret,
        })
    }

    /// Replaces a trigger's settings; a secret or header token left out is kept.
    pub async fn update(
        &self,
        principal: &Principal,
        id: &str,
        spec: WebhookSpec,
    ) -> Result<Created, WebhookError> {
        let current = self.owned(principal, id).await?;
        let (settings, secret) = self
            .settings(principal, &current.workflow_id, id, spec, Some(&current))
            .await?;
        let row = self
            .store
            .update_webhook(
                principal.user_id(),
                id,
                &settings,
                &audit(principal, AuditAction::WebhookUpdate, id, &settings.name),
            )
            .await?
            .ok_or(WebhookError::NotFound)?;
        Ok(Created {
            webhook: self.views(vec![row]).await?.remove(0),
            token: None,
            secret,
        })
    }

    /// Turns a trigger on or off, keeping everything else.
    pub async fn set_enabled(
        &self,
        principal: &Principal,
        id: &str,
        enabled: bool,
    ) -> Result<Webhook, WebhookError> {
        let current = self.owned(principal, id).await?;
        let settings = WebhookSettings {
            enabled,
            name: current.name,
            method: current.method,
            verify: current.verify,
            verify_header: current.verify_header,
            hmac_secret: current.hmac_secret,
            header_token_hash: current.header_token_hash,
            timestamp_header: current.timestamp_header,
            tolerance_secs: current.tolerance_secs,
            response_mode: current.response_mode,
            sync_step: current.sync_step,
            sync_timeout_ms: current.sync_timeout_ms,
            max_body_kb: current.max_body_kb,
            rate_per_minute: current.rate_per_minute,
        };
        let row = self
            .store
            .update_webhook(
                principal.user_id(),
                id,
                &settings,
                &audit(principal, AuditAction::WebhookUpdate, id, &settings.name),
            )
            .await?
            .ok_or(WebhookError::NotFound)?;
        Ok(self.views(vec![row]).await?.remove(0))
    }

    /// A new URL; the old one stops working at once.
    pub async fn regenerate(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<Created, WebhookError> {
        let token = new_token()?;
        let current = self.owned(principal, id).await?;
        let row = self
            .store
            .replace_webhook_token(
                principal.user_id(),
                id,
                (&sha256_hex(&token), &token[..TOKEN_PREFIX.len() + 8]),
                &audit(principal, AuditAction::WebhookRegenerate, id, &current.name),
            )
            .await?
            .ok_or(WebhookError::NotFound)?;
        Ok(Created {
            webhook: self.views(vec![row]).await?.remove(0),
            token: Some(token),
            secret: None,
        })
    }

    pub async fn delete(&self, principal: &Principal, id: &str) -> Result<(), WebhookError> {
        let current = self.owned(principal, id).await?;
        if self
            .store
            .delete_webhook(
                principal.user_id(),
                id,
                &audit(principal, AuditAction::WebhookDelete, id, &current.name),
            )
            .await?
        {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// The trigger a URL's token names, if it takes `method` now and has room in its rate
    /// limit; the edge then reads the body up to [`Armed::max_body_bytes`].
    pub async fn arm(&self, token: &str, method: &str) -> Result<Armed, WebhookError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Err(WebhookError::NotFound);
        }
        let row = self
            .store
            .webhook_by_token(&sha256_hex(token))
            .await?
            .ok_or(WebhookError::NotFound)?;
        if row.enabled == 0 {
            return Err(WebhookError::Disabled);
        }
        if !method.eq_ignore_ascii_case(&row.method) {
            return Err(WebhookError::MethodNotAllowed(row.method));
        }
        if let Err(wait) = self.limiter.take(
            &row.id,
            u32::try_from(row.rate_per_minute).unwrap_or(u32::MAX),
            Instant::now(),
        ) {
            metrics::counter!("aura_webhook_rejections_total", "reason" => "rate_limited")
                .increment(1);
            return Err(WebhookError::RateLimited(wait));
        }
        let max_body_bytes = usize::try_from(row.max_body_kb).unwrap_or(0) * 1024;
        Ok(Armed {
            row,
            max_body_bytes,
        })
    }

    /// Verifies the delivery and starts the run; in sync mode, waits for it.
    pub async fn deliver(
        &self,
        armed: Armed,
        delivery: Delivery,
    ) -> Result<Delivered, WebhookError> {
        let row = armed.row;
        if let Err((code, reason)) = self.verify(&row, &delivery).await? {
            metrics::counter!("aura_webhook_rejections_total", "reason" => code).increment(1);
            if let Err(err) = self.store.count_webhook_rejection(&row.id).await {
                tracing::warn!(error = %err, trigger = %row.id, "could not count a refused delivery");
            }
            return Err(WebhookError::Rejected(reason));
        }
        let input = input(&row, &delivery)?;
        let owner = self
            .store
            .find_user(&row.owner_id)
            .await?
            .ok_or(WebhookError::NotFound)?;
        let principal = Principal {
            user: owner,
            credential: Credential::Trigger {
                trigger_id: row.id.clone(),
            },
            origin: delivery.origin,
        };
        // Subscribed before the start, so the run's end cannot pass unseen.
        let mut signals = self.engine.subscribe();
        let run = self
            .engine
            .start_by(
                &principal,
                &row.workflow_id,
                &input,
                Some(("webhook", row.id.clone())),
            )
            .await?;
        metrics::counter!("aura_webhook_deliveries_total").increment(1);
        if row.response_mode != "sync" {
            return Ok(Delivered::Queued { run_id: run.id });
        }
        let timeout =
            Duration::from_millis(u64::try_from(row.sync_timeout_ms.unwrap_or(0)).unwrap_or(0));
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let detail = self.engine.run_with_steps(&principal, &run.id).await?;
            if detail.run.status.is_finished() {
                let output = match &row.sync_step {
                    Some(step) => detail
                        .steps
                        .iter()
                        .find(|s| &s.step_id == step)
                        .and_then(|s| s.output.as_deref())
                        .and_then(|text| serde_json::from_str(text).ok())
                        .unwrap_or(Value::Null),
                    None => detail.output.unwrap_or(Value::Null),
                };
                return Ok(Delivered::Finished {
                    run_id: run.id,
                    status: detail.run.status,
                    output,
                    error: detail.run.error,
                });
            }
            // Wake on any news of this run (or a lagging receiver), or give up at the
            // deadline.
            let news = tokio::time::timeout_at(deadline, async {
                loop {
                    match signals.recv().await {
                        Ok(signal) if signal.run_id == run.id => return true,
                        Ok(_) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return true,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return false,
                    }
                }
            })
            .await;
            if !matches!(news, Ok(true)) {
                return Ok(Delivered::Queued { run_id: run.id });
            }
        }
    }

    /// `Ok(Err((metric label, reason)))` for a delivery that does not prove itself.
    async fn verify(
        &self,
        row: &WebhookRow,
        delivery: &Delivery,
    ) -> Result<Result<(), (&'static str, &'static str)>, WebhookError> {
        let header = |name: &str| {
            delivery
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        match row.verify.as_str() {
            "hmac" => {
                let secret = self.vault.open(
                    row.hmac_secret.as_deref().unwrap_or_default(),
                    &sealed_context(TABLE, COLUMN, &row.id),
                )?;
                let signature_header = row.verify_header.as_deref().unwrap_or(GITHUB_HEADER);
                let Some(signature) = header(signature_header) else {
                    return Ok(Err((
                        "missing_signature",
                        "the signature header is missing",
                    )));
                };
                let Some(timestamp_header) = row.timestamp_header.as_deref() else {
                    return Ok(if hmac_matches(&secret, &[&delivery.body], signature) {
                        Ok(())
                    } else {
                        Err(("signature", "the signature does not match the body"))
                    });
                };
                let Some(timestamp) =
                    header(timestamp_header).and_then(|t| t.trim().parse::<i64>().ok())
                else {
                    return Ok(Err((
                        "timestamp",
                        "the timestamp header is missing or not a number of seconds",
                    )));
                };
                let tolerance = row
                    .tolerance_secs
                    .unwrap_or(i64::from(DEFAULT_TOLERANCE_SECS));
                let now = aura_store::now_millis() / 1000;
                if (now - timestamp).abs() > tolerance {
                    return Ok(Err((
                        "timestamp",
                        "the timestamp is outside the tolerance (a replay, or a clock far off)",
                    )));
                }
                let stamp = timestamp.to_string();
                if !hmac_matches(
                    &secret,
                    &[stamp.as_bytes(), b".", &delivery.body],
                    signature,
                ) {
                    return Ok(Err((
                        "signature",
                        "the signature does not match the timestamp and body",
                    )));
                }
                let seen_until = (timestamp + tolerance + 1) * 1000;
                let signature_hash = sha256_hex(signature.trim());
                if !self
                    .store
                    .remember_webhook_signature(&row.id, &signature_hash, seen_until)
                    .await?
                {
                    return Ok(Err((
                        "replay",
                        "this signed delivery was already received (a replay)",
                    )));
                }
                Ok(Ok(()))
            }
            "header" => {
                let name = row.verify_header.as_deref().unwrap_or_default();
                let expected = row.header_token_hash.as_deref().unwrap_or_default();
                match header(name) {
                    Some(given) if same(&sha256_hex(given.trim()), expected) => Ok(Ok(())),
                    Some(_) => Ok(Err(("token", "the token header does not match"))),
                    None => Ok(Err(("token", "the token header is missing"))),
                }
            }
            _ => Ok(Ok(())),
        }
    }

    /// Checks a spec and turns it into stored settings, sealing a secret and hashing a
    /// header token; returns a generated secret or token to show once.
    async fn settings(
        &self,
        principal: &Principal,
        workflow_id: &str,
        id: &str,
        spec: WebhookSpec,
        current: Option<&WebhookRow>,
    ) -> Result<(WebhookSettings, Option<String>), WebhookError> {
        let name = spec.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(WebhookError::Invalid(
                "name",
                "Name the webhook in 1 to 80 characters.".into(),
            ));
        }
        let method = spec
            .method
            .as_deref()
            .unwrap_or("POST")
            .trim()
            .to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(WebhookError::Invalid(
                "method",
                format!("Use one of {}.", METHODS.join(", ")),
            ));
        }
        let max_body_kb = spec
            .max_body_kb
            .unwrap_or(DEFAULT_BODY_KB.min(self.limits.max_body_kb));
        if !(1..=self.limits.max_body_kb).contains(&max_body_kb) {
            return Err(WebhookError::Invalid(
                "max_body_kb",
                format!(
                    "Use 1 to {} KB (AURA_WEBHOOK_MAX_BODY_KB).",
                    self.limits.max_body_kb
                ),
            ));
        }
        let rate = spec
            .rate_per_minute
            .unwrap_or(DEFAULT_RATE.min(self.limits.max_rate_per_minute));
        if !(1..=self.limits.max_rate_per_minute).contains(&rate) {
            return Err(WebhookError::Invalid(
                "rate_per_minute",
                format!(
                    "Use 1 to {} a minute (AURA_WEBHOOK_MAX_RATE_PER_MINUTE).",
                    self.limits.max_rate_per_minute
                ),
            ));
        }
        let mut settings = WebhookSettings {
            name,
            method,
            verify: "none".into(),
            verify_header: None,
            hmac_secret: None,
            header_token_hash: None,
            timestamp_header: None,
            tolerance_secs: None,
            response_mode: "async".into(),
            sync_step: None,
            sync_timeout_ms: None,
            max_body_kb: i64::from(max_body_kb),
            rate_per_minute: i64::from(rate),
            enabled: spec.enabled.unwrap_or(true),
        };
        let mut shown_once = None;
        match spec.verification {
            Verification::None => {}
            Verification::Hmac {
                header,
                secret,
                timestamp_header,
                tolerance_secs,
            } => {
                settings.verify = "hmac".into();
                settings.verify_header = Some(
                    header_name("verification.header", header.as_deref())?
                        .unwrap_or_else(|| GITHUB_HEADER.into()),
                );
                let kept = current
                    .filter(|c| c.verify == "hmac")
                    .and_then(|c| c.hmac_secret.clone());
                settings.hmac_secret = Some(match (secret, kept) {
                    (Some(secret), _) => {
                        check_secret("verification.secret", &secret)?;
                        self.vault
                            .seal(&secret, &sealed_context(TABLE, COLUMN, id))?
                    }
                    (None, Some(kept)) => kept,
                    (None, None) => {
                        let secret = random_hex(24)?;
                        let sealed = self
                            .vault
                            .seal(&secret, &sealed_context(TABLE, COLUMN, id))?;
                        shown_once = Some(secret);
                        sealed
                    }
                });
                if let Some(timestamp) =
                    header_name("verification.timestamp_header", timestamp_header.as_deref())?
                {
                    let tolerance = tolerance_secs.unwrap_or(DEFAULT_TOLERANCE_SECS);
                    if !(1..=3600).contains(&tolerance) {
                        return Err(WebhookError::Invalid(
                            "verification.tolerance_secs",
                            "Use 1 to 3600 seconds.".into(),
                        ));
                    }
                    settings.timestamp_header = Some(timestamp);
                    settings.tolerance_secs = Some(i64::from(tolerance));
                } else if tolerance_secs.is_some() {
                    return Err(WebhookError::Invalid(
                        "verification.tolerance_secs",
                        "A tolerance needs a timestamp_header to check.".into(),
                    ));
                }
            }
            Verification::Header { header, token } => {
                settings.verify = "header".into();
                settings.verify_header = Some(
                    header_name("verification.header", Some(&header))?.ok_or_else(|| {
                        WebhookError::Invalid(
                            "verification.header",
                            "Name the header that carries the token.".into(),
                        )
                    })?,
                );
                if DROPPED_HEADERS.contains(&settings.verify_header.as_deref().unwrap_or("")) {
                    return Err(WebhookError::Invalid(
                        "verification.header",
                        "Use a header of its own, not Authorization or Cookie.".into(),
                    ));
                }
                let kept = current
                    .filter(|c| c.verify == "header")
                    .and_then(|c| c.header_token_hash.clone());
                settings.header_token_hash = Some(match (token, kept) {
                    (Some(token), _) => {
                        check_secret("verification.token", &token)?;
                        sha256_hex(token.trim())
                    }
                    (None, Some(kept)) => kept,
                    (None, None) => {
                        let token = random_hex(24)?;
                        let hash = sha256_hex(&token);
                        shown_once = Some(token);
                        hash
                    }
                });
            }
        }
        if let Response::Sync { step, timeout_ms } = spec.response {
            let max_ms =
                u32::try_from(self.limits.max_sync_timeout.as_millis()).unwrap_or(u32::MAX);
            let timeout = timeout_ms.unwrap_or(DEFAULT_SYNC_TIMEOUT_MS.min(max_ms));
            if !(1..=max_ms).contains(&timeout) {
                return Err(WebhookError::Invalid(
                    "response.timeout_ms",
                    format!("Use 1 to {max_ms} ms (AURA_WEBHOOK_MAX_SYNC_SECS)."),
                ));
            }
            if let Some(step) = &step {
                let workflow = self.engine.workflows().get(principal, workflow_id).await?;
                let definition: Value =
                    serde_json::from_str(&workflow.definition).unwrap_or(Value::Null);
                let known = definition["steps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|s| s["id"] == step.as_str());
                if !known {
                    return Err(WebhookError::Invalid(
                        "response.step",
                        format!("The workflow has no step `{step}`."),
                    ));
                }
            }
            settings.response_mode = "sync".into();
            settings.sync_step = step;
            settings.sync_timeout_ms = Some(i64::from(timeout));
        }
        Ok((settings, shown_once))
    }

    async fn views(&self, rows: Vec<WebhookRow>) -> Result<Vec<Webhook>, WebhookError> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let activity = self.store.webhook_activity(&ids).await?;
        Ok(rows
            .into_iter()
            .zip(activity)
            .map(|(row, activity)| Webhook {
                id: row.id,
                workflow_id: row.workflow_id,
                name: row.name,
                token_prefix: row.token_prefix,
                method: row.method,
                verification: row.verify,
                verify_header: row.verify_header,
                timestamp_header: row.timestamp_header,
                tolerance_secs: row.tolerance_secs.and_then(|t| u32::try_from(t).ok()),
                response_mode: row.response_mode,
                sync_step: row.sync_step,
                sync_timeout_ms: row.sync_timeout_ms.and_then(|t| u32::try_from(t).ok()),
                max_body_kb: u32::try_from(row.max_body_kb).unwrap_or(0),
                rate_per_minute: u32::try_from(row.rate_per_minute).unwrap_or(0),
                enabled: row.enabled != 0,
                rejected: row.rejected,
                last_rejected_at: row.last_rejected_at,
                runs: activity.runs,
                last_run_id: activity.last_run_id,
                last_run_at: activity.last_run_at,
                last_run_status: activity.last_run_status,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
            .collect())
    }
}

/// The run's input: `{method, headers, query, body, webhook}`; the body parsed as JSON
/// when it is JSON, as an object when it is a form, else kept as text.
fn input(row: &WebhookRow, delivery: &Delivery) -> Result<Value, WebhookError> {
    let content_type = delivery
        .headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let body = if delivery.body.is_empty() {
        Value::Null
    } else if content_type.contains("application/x-www-form-urlencoded") {
        Value::Object(pairs(&delivery.body))
    } else {
        let text = std::str::from_utf8(&delivery.body).map_err(|_| {
            WebhookError::BadBody("The body must be UTF-8 text, JSON or a URL-encoded form.".into())
        })?;
        if content_type.contains("json") {
            serde_json::from_str(text).map_err(|err| {
                WebhookError::BadBody(format!("The body is not valid JSON: {err}."))
            })?
        } else {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        }
    };
    let skip_header = |name: &str| {
        DROPPED_HEADERS.contains(&name)
            || (row.verify == "header" && row.verify_header.as_deref() == Some(name))
    };
    let headers: Map<String, Value> = delivery
        .headers
        .iter()
        .filter(|(name, _)| !skip_header(name))
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let query = delivery
        .query
        .as_deref()
        .map_or_else(Map::new, |q| pairs(q.as_bytes()));
    Ok(json!({
        "method": delivery.method,
        "headers": headers,
        "query": query,
        "body": body,
        "webhook": { "id": row.id, "name": row.name },
    }))
}

fn pairs(bytes: &[u8]) -> Map<String, Value> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

/// A header name: letters, digits and `-`, stored lowercase; `None` when not given.
fn header_name(field: &'static str, name: Option<&str>) -> Result<Option<String>, WebhookError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(WebhookError::Invalid(
            field,
            "Use a header name of letters, digits and - (at most 64).".into(),
        ));
    }
    Ok(Some(name.to_ascii_lowercase()))
}

fn check_secret(field: &'static str, secret: &str) -> Result<(), WebhookError> {
    if secret.trim().len() < 16 || secret.len() > 256 {
        return Err(WebhookError::Invalid(
            field,
            "Use 16 to 256 characters; leave it out to have one generated.".into(),
        ));
    }
    Ok(())
}

fn random_hex(bytes: usize) -> Result<String, WebhookError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        WebhookError::Workflow(WorkflowError::Unexpected(anyhow::anyhow!(
            "no randomness: {e}"
        )))
    })?;
    Ok(hex::encode(buf))
}

fn new_token() -> Result<String, WebhookError> {
    Ok(format!("{TOKEN_PREFIX}{}", random_hex(24)?))
}

fn audit(principal: &Principal, action: AuditAction, id: &str, name: &str) -> NewAuditEvent {
    NewAuditEvent::success_by(principal, action, json!({ "webhook": id, "name": name }))
}
