//! Instance-wide settings, stored as key/value text.

use crate::audit::{NewAuditEvent, insert_audit};
use crate::{Store, StoreError, now_millis};

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(value,)| value))
    }

    /// Writes a setting and its audit event in one transaction.
    pub async fn put_setting(
        &self,
        key: &str,
        value: &str,
        updated_by: &str,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(key)
        .bind(value)
        .bind(now_millis())
        .bind(updated_by)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
