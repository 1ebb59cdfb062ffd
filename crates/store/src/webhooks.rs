//! Webhook triggers as stored: token and header token as SHA-256, the HMAC secret sealed
//! by the caller. Every change is written with its audit event in one transaction.

use crate::audit::{NewAuditEvent, insert_audit};
use crate::{Store, StoreError, now_millis};

const COLUMNS: &str = "id, workflow_id, owner_id, name, token_prefix, method, verify, verify_header, \
     hmac_secret, header_token_hash, timestamp_header, tolerance_secs, response_mode, sync_step, \
     sync_timeout_ms, max_body_kb, rate_per_minute, enabled, rejected, last_rejected_at, \
     created_at, updated_at";

/// A webhook trigger as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: String,
    pub workflow_id: String,
    pub owner_id: String,
    pub name: String,
    /// The token's first characters, to tell triggers apart (the token is not kept).
    pub token_prefix: String,
    pub method: String,
    /// `none`, `hmac` or `header`.
    pub verify: String,
    pub verify_header: Option<String>,
    /// Sealed.
    pub hmac_secret: Option<String>,
    pub header_token_hash: Option<String>,
    pub timestamp_header: Option<String>,
    pub tolerance_secs: Option<i64>,
    /// `async` or `sync`.
    pub response_mode: String,
    pub sync_step: Option<String>,
    pub sync_timeout_ms: Option<i64>,
    pub max_body_kb: i64,
    pub rate_per_minute: i64,
    pub enabled: i64,
    /// Deliveries refused (bad signature or token, replays) since the trigger was made.
    pub rejected: i64,
    pub last_rejected_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A trigger's settings; the token (hash and prefix) is set separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    pub name: String,
    pub method: String,
    pub verify: String,
    pub verify_header: Option<String>,
    pub hmac_secret: Option<String>,
    pub header_token_hash: Option<String>,
    pub timestamp_header: Option<String>,
    pub tolerance_secs: Option<i64>,
    pub response_mode: String,
    pub sync_step: Option<String>,
    pub sync_timeout_ms: Option<i64>,
    pub max_body_kb: i64,
    pub rate_per_minute: i64,
    pub enabled: bool,
}

/// Deliveries, the last one, and the last run's status, per trigger.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookActivity {
    pub trigger_id: String,
    pub runs: i64,
    pub last_run_id: Option<String>,
    pub last_run_at: Option<i64>,
    pub last_run_status: Option<String>,
}

impl Store {
    pub async fn insert_webhook(
        &self,
        id: &str,
        workflow_id: &str,
        owner_id: &str,
        token: (&str, &str),
        settings: &WebhookSettings,
        audit: &NewAuditEvent,
    ) -> Result<WebhookRow, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        let sql = format!(
            "INSERT INTO webhook_triggers (id, workflow_id, owner_id, token_hash, token_prefix, name, method, \
             verify, verify_header, hmac_secret, header_token_hash, timestamp_header, tolerance_secs, \
             response_mode, sync_step, sync_timeout_ms, max_body_kb, rate_per_minute, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20) \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as(&sql)
            .bind(id)
            .bind(workflow_id)
            .bind(owner_id)
            .bind(token.0)
            .bind(token.1);
        let row = bind_settings(row, settings)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Replaces a trigger's settings; `None` when it is not the owner's.
    pub async fn update_webhook(
        &self,
        owner_id: &str,
        id: &str,
        settings: &WebhookSettings,
        audit: &NewAuditEvent,
    ) -> Result<Option<WebhookRow>, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let sql = format!(
            "UPDATE webhook_triggers SET name = $1, method = $2, verify = $3, verify_header = $4, \
             hmac_secret = $5, header_token_hash = $6, timestamp_header = $7, tolerance_secs = $8, \
             response_mode = $9, sync_step = $10, sync_timeout_ms = $11, max_body_kb = $12, \
             rate_per_minute = $13, enabled = $14, updated_at = $15 \
             WHERE id = $16 AND owner_id = $17 RETURNING {COLUMNS}"
        );
        let row: Option<WebhookRow> = bind_settings(sqlx::query_as(&sql), settings)
            .bind(now_millis())
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_some() {
            insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
        }
        Ok(row)
    }

    /// Gives a trigger a new token; the old URL stops working at once.
    pub async fn replace_webhook_token(
        &self,
        owner_id: &str,
        id: &str,
        token: (&str, &str),
        audit: &NewAuditEvent,
    ) -> Result<Option<WebhookRow>, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let row: Option<WebhookRow> = sqlx::query_as(&format!(
            "UPDATE webhook_triggers SET token_hash = $1, token_prefix = $2, updated_at = $3 \
             WHERE id = $4 AND owner_id = $5 RETURNING {COLUMNS}"
        ))
        .bind(token.0)
        .bind(token.1)
        .bind(now_millis())
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_some() {
            insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
        }
        Ok(row)
    }

    pub async fn delete_webhook(
        &self,
        owner_id: &str,
        id: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM webhook_triggers WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if deleted {
            insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
        }
        Ok(deleted)
    }

    pub async fn find_webhook(
        &self,
        owner_id: &str,
        id: &str,
    ) -> Result<Option<WebhookRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM webhook_triggers WHERE id = $1 AND owner_id = $2"
        ))
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The trigger a delivery's URL names.
    pub async fn webhook_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<WebhookRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM webhook_triggers WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A workflow's triggers, oldest first.
    pub async fn workflow_webhooks(
        &self,
        owner_id: &str,
        workflow_id: &str,
    ) -> Result<Vec<WebhookRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM webhook_triggers WHERE workflow_id = $1 AND owner_id = $2 \
             ORDER BY created_at, id"
        ))
        .bind(workflow_id)
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many runs each trigger started, and its latest run.
    pub async fn webhook_activity(
        &self,
        trigger_ids: &[String],
    ) -> Result<Vec<WebhookActivity>, StoreError> {
        let mut out = Vec::with_capacity(trigger_ids.len());
        for id in trigger_ids {
            let (runs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM runs WHERE trigger_id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
            let last: Option<(String, i64, String)> = sqlx::query_as(
                "SELECT id, created_at, status FROM runs WHERE trigger_id = $1 \
                 ORDER BY created_at DESC LIMIT 1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            out.push(WebhookActivity {
                trigger_id: id.clone(),
                runs,
                last_run_id: last.as_ref().map(|l| l.0.clone()),
                last_run_at: last.as_ref().map(|l| l.1),
                last_run_status: last.map(|l| l.2),
            });
        }
        Ok(out)
    }

    /// Counts a refused delivery.
    pub async fn count_webhook_rejection(&self, id: &str) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "UPDATE webhook_triggers SET rejected = rejected + 1, last_rejected_at = $1 WHERE id = $2",
        )
        .bind(now_millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Remembers a signature until `expires_at`; `false` when it was already seen (a
    /// replay), on any instance.
    pub async fn remember_webhook_signature(
        &self,
        trigger_id: &str,
        signature: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let now = now_millis();
        // An expired entry for the same signature is old enough to be a new delivery's.
        sqlx::query(
            "DELETE FROM webhook_replays WHERE trigger_id = $1 AND signature = $2 AND expires_at < $3",
        )
        .bind(trigger_id)
        .bind(signature)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO webhook_replays (trigger_id, signature, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (trigger_id, signature) DO NOTHING",
        )
        .bind(trigger_id)
        .bind(signature)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Forgets signatures whose window has passed; returns how many.
    pub async fn purge_webhook_signatures(&self) -> Result<u64, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let purged = sqlx::query("DELETE FROM webhook_replays WHERE expires_at < $1")
            .bind(now_millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(purged)
    }
}

fn bind_settings<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    s: &'q WebhookSettings,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&s.name)
        .bind(&s.method)
        .bind(&s.verify)
        .bind(&s.verify_header)
        .bind(&s.hmac_secret)
        .bind(&s.header_token_hash)
        .bind(&s.timestamp_header)
        .bind(s.tolerance_secs)
        .bind(&s.response_mode)
        .bind(&s.sync_step)
        .bind(s.sync_timeout_ms)
        .bind(s.max_body_kb)
        .bind(s.rate_per_minute)
        .bind(i64::from(s.enabled))
}
