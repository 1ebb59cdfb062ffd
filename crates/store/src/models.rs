//! Model providers and aliases an administrator configures, and the vault's key check.
//! Secrets arrive sealed (aura-vault) and leave sealed: the store never sees a key.

use crate::audit::{NewAuditEvent, insert_audit};
use crate::{Store, StoreError, now_millis};

/// A provider as stored; `api_key` is sealed, `models` JSON.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ModelProviderRow {
    pub id: String,
    pub name: String,
    pub protocol: String,
    pub base_url: String,
    pub api_key: Option<String>,
    pub models: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ModelAliasRow {
    pub name: String,
    /// JSON: `["provider/model", …]`.
    pub targets: String,
    pub updated_at: i64,
}

/// Which key sealed the stored secrets, and a value sealed with it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VaultCheck {
    pub key_id: String,
    pub check_value: String,
}

/// One sealed value and where it lives, for re-sealing under a new key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub table: &'static str,
    pub column: &'static str,
    pub id: String,
    pub sealed: String,
}

impl SealedValue {
    /// What the value is bound to when sealed: `table.column:id`.
    pub fn context(&self) -> String {
        sealed_context(self.table, self.column, &self.id)
    }
}

/// The associated data a sealed column's value is bound to.
pub fn sealed_context(table: &str, column: &str, id: &str) -> String {
    format!("{table}.{column}:{id}")
}

/// Every column that holds sealed values: (table, id column, column).
const SEALED_COLUMNS: &[(&str, &str, &str)] = &[
    ("model_providers", "id", "api_key"),
    ("workflow_secrets", "id", "value"),
];

const PROVIDER_COLUMNS: &str =
    "id, name, protocol, base_url, api_key, models, created_at, updated_at";

impl Store {
    pub async fn vault_check(&self) -> Result<Option<VaultCheck>, StoreError> {
        Ok(
            sqlx::query_as("SELECT key_id, check_value FROM vault WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Records the key check when there is none yet; false when one was already there.
    pub async fn init_vault_check(&self, check: &VaultCheck) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO vault (id, key_id, check_value, updated_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&check.key_id)
        .bind(&check.check_value)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Every sealed value stored.
    pub async fn sealed_values(&self) -> Result<Vec<SealedValue>, StoreError> {
        let mut all = Vec::new();
        for (table, id_column, column) in SEALED_COLUMNS {
            let rows: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT {id_column}, {column} FROM {table} WHERE {column} IS NOT NULL"
            ))
            .fetch_all(&self.pool)
            .await?;
            all.extend(rows.into_iter().map(|(id, sealed)| SealedValue {
                table,
                column,
                id,
                sealed,
            }));
        }
        Ok(all)
    }

    /// Replaces sealed values (re-sealed under a new key) and the key check, with the
    /// audit event, in one transaction: either every secret moves to the new key or none.
    pub async fn reseal(
        &self,
        values: &[SealedValue],
        check: &VaultCheck,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        for value in values {
            let (_, id_column, _) = SEALED_COLUMNS
                .iter()
                .find(|(t, _, c)| *t == value.table && *c == value.column)
                .ok_or_else(|| anyhow::anyhow!("{}.{} is not sealed", value.table, value.column))?;
            sqlx::query(&format!(
                "UPDATE {} SET {} = $1 WHERE {id_column} = $2",
                value.table, value.column
            ))
            .bind(&value.sealed)
            .bind(&value.id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO vault (id, key_id, check_value, updated_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET key_id = $1, check_value = $2, updated_at = $3",
        )
        .bind(&check.key_id)
        .bind(&check.check_value)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn model_providers(&self) -> Result<Vec<ModelProviderRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {PROVIDER_COLUMNS} FROM model_providers ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Inserts or updates (by id) a provider, with its audit event.
    pub async fn save_model_provider(
        &self,
        row: &ModelProviderRow,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO model_providers (id, name, protocol, base_url, api_key, models, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET name = $2, protocol = $3, base_url = $4, api_key = $5, \
             models = $6, updated_at = $8",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.protocol)
        .bind(&row.base_url)
        .bind(&row.api_key)
        .bind(&row.models)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a provider with its audit event; false when there was none.
    pub async fn delete_model_provider(
        &self,
        id: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM model_providers WHERE id = $1")
            .bind(id)
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

    pub async fn model_aliases(&self) -> Result<Vec<ModelAliasRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT name, targets, updated_at FROM model_aliases ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn save_model_alias(
        &self,
        name: &str,
        targets: &str,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO model_aliases (name, targets, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET targets = $2, updated_at = $3",
        )
        .bind(name)
        .bind(targets)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_model_alias(
        &self,
        name: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM model_aliases WHERE name = $1")
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
