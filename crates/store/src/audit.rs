//! The append-only audit log of security-relevant actions.

use crate::{Store, StoreError, now_millis};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

/// Whether the audited action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// An event to record. `actor_email` is kept even when no account matches (a failed
/// sign-in for an unknown address), so that attacks on one address can be filtered.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEvent {
    pub actor_id: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub outcome: Option<Outcome>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<serde_json::Value>,
}

impl NewAuditEvent {
    /// A successful action by a signed-in caller, from where they called.
    pub fn success_by(
        by: &crate::Principal,
        action: aura_types::AuditAction,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            actor_id: Some(by.user.id.clone()),
            actor_email: Some(by.user.email.clone()),
            action: action.as_str().to_owned(),
            outcome: Some(Outcome::Success),
            ip: Some(by.origin.ip.clone()),
            user_agent: by.origin.user_agent.clone(),
            detail: Some(detail),
        }
    }
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: i64,
    pub actor_id: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// Filters for [`Store::list_audit_events`]; empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Substring of the actor's email, case-insensitive.
    pub actor: String,
    /// Exact action name, such as `auth.sign_in`.
    pub action: String,
    /// Only events with an id below this one (the cursor of the previous page).
    pub before: Option<i64>,
    pub limit: u32,
}

/// One page of events, newest first, and the cursor of the next page if there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next_before: Option<i64>,
}

/// Limits on what a client can make us store; longer values are cut, not rejected,
/// because an audit write must not fail on a hostile User-Agent.
const MAX_TEXT: usize = 512;

fn clip(value: &Option<String>) -> Option<String> {
    value
        .as_ref()
        .map(|v| match v.char_indices().nth(MAX_TEXT) {
            Some((cut, _)) => v[..cut].to_owned(),
            None => v.clone(),
        })
}

pub(crate) async fn insert_audit(
    tx: &mut Transaction<'static, Any>,
    event: &NewAuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events \
         (occurred_at, actor_id, actor_email, action, outcome, ip, user_agent, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now_millis())
    .bind(&event.actor_id)
    .bind(clip(&event.actor_email))
    .bind(&event.action)
    .bind(event.outcome.unwrap_or(Outcome::Success).as_str())
    .bind(clip(&event.ip))
    .bind(clip(&event.user_agent))
    .bind(event.detail.as_ref().map(|d| d.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn record_audit(&self, event: &NewAuditEvent) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        insert_audit(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A page of events, newest first, using the id as a keyset cursor.
    pub async fn list_audit_events(&self, filter: &AuditFilter) -> Result<AuditPage, StoreError> {
        let limit = filter.limit.clamp(1, 200);
        let actor = filter
            .actor
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let mut events: Vec<AuditEvent> = sqlx::query_as(
            "SELECT id, occurred_at, actor_id, actor_email, action, outcome, ip, user_agent, detail \
             FROM audit_events \
             WHERE ($1 = '' OR actor_email LIKE '%' || $1 || '%' ESCAPE '\\') \
               AND ($2 = '' OR action = $2) \
               AND id < $3 \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(&actor)
        .bind(filter.action.trim())
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let next_before = if events.len() > limit as usize {
            events.truncate(limit as usize);
            events.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_before,
        })
    }

    /// Deletes audit events older than `cutoff`, in batches; returns how many went.
    pub async fn delete_audit_events_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let (_write, mut tx) = self.begin_write().await?;
            let deleted = sqlx::query(
                "DELETE FROM audit_events WHERE id IN \
                 (SELECT id FROM audit_events WHERE occurred_at < $1 LIMIT 1000)",
            )
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            total += deleted;
            if deleted < 1000 {
                return Ok(total);
            }
        }
    }
}
