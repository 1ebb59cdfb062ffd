//! The model-call ledger, the response cache and the monthly budgets.

use crate::{Store, StoreError, new_id, now_millis};

/// One model call as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct LlmCall {
    pub id: String,
    pub occurred_at: i64,
    pub user_id: String,
    pub project_id: Option<String>,
    pub workflow_id: Option<String>,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    /// `step`, `editor`, `agent` or `test`.
    pub source: String,
    pub alias: String,
    /// `provider/model` that answered; none when no target did.
    pub target: Option<String>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Millionths of a US dollar.
    pub cost_micros: i64,
    pub cached: i64,
    pub latency_ms: i64,
    /// `ok`, `error`, `refused` (a budget said no) or `stopped` (the caller stopped it;
    /// tokens are estimated).
    pub outcome: String,
    pub error: Option<String>,
}

/// A monthly budget of a user or a project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LlmBudget {
    pub id: String,
    /// `user` or `project`.
    pub scope: String,
    pub subject_id: String,
    pub max_tokens: Option<i64>,
    pub max_cost_micros: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The user's email or the project's name, for lists.
    pub subject_label: Option<String>,
}

/// What a user or project used since a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LlmUsed {
    pub tokens: i64,
    pub cost_micros: i64,
    pub calls: i64,
}

const CALL_COLUMNS: &str = "id, occurred_at, user_id, project_id, workflow_id, run_id, step_id, \
    source, alias, target, input_tokens, output_tokens, cost_micros, cached, latency_ms, outcome, error";

impl Store {
    /// Records a call (its id and time are set here).
    pub async fn record_llm_call(&self, call: &LlmCall) -> Result<String, StoreError> {
        let id = new_id();
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO llm_calls ({CALL_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(&id)
        .bind(now_millis())
        .bind(&call.user_id)
        .bind(&call.project_id)
        .bind(&call.workflow_id)
        .bind(&call.run_id)
        .bind(&call.step_id)
        .bind(&call.source)
        .bind(&call.alias)
        .bind(&call.target)
        .bind(call.input_tokens)
        .bind(call.output_tokens)
        .bind(call.cost_micros)
        .bind(call.cached)
        .bind(call.latency_ms)
        .bind(&call.outcome)
        .bind(&call.error)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The ledger rows of a run, oldest first.
    pub async fn llm_calls_of_run(&self, run_id: &str) -> Result<Vec<LlmCall>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM llm_calls WHERE run_id = $1 ORDER BY occurred_at, id"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A user's ledger rows, newest first.
    pub async fn llm_calls_of_user(
        &self,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<LlmCall>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM llm_calls WHERE user_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2"
        ))
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// What a user (`scope` `user`) or project used since `since` (Unix milliseconds).
    pub async fn llm_used(
        &self,
        scope: &str,
        subject_id: &str,
        since: i64,
    ) -> Result<LlmUsed, StoreError> {
        let column = match scope {
            "project" => "project_id",
            _ => "user_id",
        };
        let (tokens, cost_micros, calls): (Option<i64>, Option<i64>, i64) = sqlx::query_as(&format!(
            "SELECT CAST(SUM(input_tokens + output_tokens) AS BIGINT), CAST(SUM(cost_micros) AS BIGINT), COUNT(*) \
             FROM llm_calls WHERE {column} = $1 AND occurred_at >= $2"
        ))
        .bind(subject_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(LlmUsed {
            tokens: tokens.unwrap_or(0),
            cost_micros: cost_micros.unwrap_or(0),
            calls,
        })
    }

    /// A cached answer for `key` that has not expired: (target, response JSON).
    pub async fn cached_llm_response(
        &self,
        key: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT target, response FROM llm_cache WHERE key = $1 AND expires_at > $2",
        )
        .bind(key)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn cache_llm_response(
        &self,
        key: &str,
        target: &str,
        response: &str,
        ttl_millis: i64,
    ) -> Result<(), StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO llm_cache (key, target, response, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key) DO UPDATE SET target = $2, response = $3, created_at = $4, expires_at = $5",
        )
        .bind(key)
        .bind(target)
        .bind(response)
        .bind(now)
        .bind(now + ttl_millis)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes expired cache entries (at most `batch`); how many went.
    pub async fn delete_expired_llm_cache(&self, batch: i64) -> Result<u64, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query(
            "DELETE FROM llm_cache WHERE key IN (SELECT key FROM llm_cache WHERE expires_at <= $1 LIMIT $2)",
        )
        .bind(now_millis())
        .bind(batch)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }

    /// The id of the account with this email.
    pub async fn user_id_by_email(&self, email: &str) -> Result<Option<String>, StoreError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(|(id,)| id))
    }

    pub async fn llm_budgets(&self) -> Result<Vec<LlmBudget>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT b.id, b.scope, b.subject_id, b.max_tokens, b.max_cost_micros, b.created_at, b.updated_at, \
             COALESCE(u.email, p.name) AS subject_label \
             FROM llm_budgets b \
             LEFT JOIN users u ON b.scope = 'user' AND u.id = b.subject_id \
             LEFT JOIN projects p ON b.scope = 'project' AND p.id = b.subject_id ORDER BY b.scope, b.subject_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The budgets that apply to a call by `user_id` (for `project_id`, if any).
    pub async fn llm_budgets_for(
        &self,
        user_id: &str,
        project_id: Option<&str>,
    ) -> Result<Vec<LlmBudget>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT b.id, b.scope, b.subject_id, b.max_tokens, b.max_cost_micros, b.created_at, b.updated_at, \
             COALESCE(u.email, p.name) AS subject_label \
             FROM llm_budgets b \
             LEFT JOIN users u ON b.scope = 'user' AND u.id = b.subject_id \
             LEFT JOIN projects p ON b.scope = 'project' AND p.id = b.subject_id WHERE (b.scope = 'user' AND b.subject_id = $1) OR (b.scope = 'project' AND b.subject_id = $2)",
        )
        .bind(user_id)
        .bind(project_id.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sets the budget of a user or project (one each).
    pub async fn set_llm_budget(
        &self,
        scope: &str,
        subject_id: &str,
        max_tokens: Option<i64>,
        max_cost_micros: Option<i64>,
        audit: &crate::NewAuditEvent,
    ) -> Result<LlmBudget, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO llm_budgets (id, scope, subject_id, max_tokens, max_cost_micros, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (scope, subject_id) DO UPDATE SET max_tokens = $4, max_cost_micros = $5, updated_at = $6",
        )
        .bind(new_id())
        .bind(scope)
        .bind(subject_id)
        .bind(max_tokens)
        .bind(max_cost_micros)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::audit::insert_audit(&mut tx, audit).await?;
        let budget: LlmBudget = sqlx::query_as(
            "SELECT b.id, b.scope, b.subject_id, b.max_tokens, b.max_cost_micros, b.created_at, b.updated_at, \
             COALESCE(u.email, p.name) AS subject_label \
             FROM llm_budgets b \
             LEFT JOIN users u ON b.scope = 'user' AND u.id = b.subject_id \
             LEFT JOIN projects p ON b.scope = 'project' AND p.id = b.subject_id WHERE b.scope = $1 AND b.subject_id = $2",
        )
        .bind(scope)
        .bind(subject_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(budget)
    }

    pub async fn delete_llm_budget(
        &self,
        id: &str,
        audit: &crate::NewAuditEvent,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM llm_budgets WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if deleted {
            crate::audit::insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
