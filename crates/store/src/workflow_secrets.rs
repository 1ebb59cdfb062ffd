//! Users' workflow secrets: names in the clear, values sealed by the caller.

use crate::audit::{NewAuditEvent, insert_audit};
use crate::{Store, StoreError, new_id, now_millis};

/// A secret as stored: its value is sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkflowSecretRow {
    pub id: String,
    pub name: String,
    pub value: String,
    pub updated_at: i64,
}

impl Store {
    /// A user's secrets, by name.
    pub async fn workflow_secrets(
        &self,
        owner_id: &str,
    ) -> Result<Vec<WorkflowSecretRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name, value, updated_at FROM workflow_secrets WHERE owner_id = $1 ORDER BY name",
        )
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The id a secret has, or the one it will get: sealing binds the value to it.
    pub async fn workflow_secret_id(
        &self,
        owner_id: &str,
        name: &str,
    ) -> Result<String, StoreError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM workflow_secrets WHERE owner_id = $1 AND name = $2")
                .bind(owner_id)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.map_or_else(new_id, |(id,)| id))
    }

    /// Creates or replaces a secret (by owner and name) with its audit event.
    pub async fn save_workflow_secret(
        &self,
        owner_id: &str,
        id: &str,
        name: &str,
        sealed: &str,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO workflow_secrets (id, owner_id, name, value, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (owner_id, name) DO UPDATE SET value = $4, updated_at = $5",
        )
        .bind(id)
        .bind(owner_id)
        .bind(name)
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_workflow_secret(
        &self,
        owner_id: &str,
        name: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM workflow_secrets WHERE owner_id = $1 AND name = $2")
            .bind(owner_id)
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if deleted {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
