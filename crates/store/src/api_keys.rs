//! API keys: stored as a SHA-256 of the secret, with the scopes they grant.

use crate::audit::{NewAuditEvent, insert_audit};
use crate::users::User;
use crate::{Store, StoreError, new_id, now_millis};
use aura_types::Scope;

/// A key as lists show it; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The key's first characters (`aura_1a2b3c4d`), to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<i64>,
}

/// A key about to be stored.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    user_id: String,
    name: String,
    prefix: String,
    scopes: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    last_used_ip: Option<String>,
    revoked_at: Option<i64>,
}

impl From<KeyRow> for ApiKey {
    fn from(row: KeyRow) -> Self {
        ApiKey {
            scopes: row
                .scopes
                .split_whitespace()
                .filter_map(Scope::parse)
                .collect(),
            id: row.id,
            user_id: row.user_id,
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            last_used_ip: row.last_used_ip,
            revoked_at: row.revoked_at,
        }
    }
}

const KEY_COLUMNS: &str = "id, user_id, name, prefix, scopes, created_at, expires_at, \
                           last_used_at, last_used_ip, revoked_at";

fn scope_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Store {
    /// Stores a new key and its audit event in one transaction.
    pub async fn create_api_key(
        &self,
        key: &NewApiKey,
        audit: &NewAuditEvent,
    ) -> Result<ApiKey, StoreError> {
        let id = new_id();
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&key.user_id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.secret_hash)
        .bind(scope_text(&key.scopes))
        .bind(now)
        .bind(key.expires_at)
        .execute(&mut *tx)
        .await?;
        let mut audit = audit.clone();
        if let Some(detail) = audit.detail.as_mut().and_then(|d| d.as_object_mut()) {
            detail.insert("key_id".into(), id.clone().into());
        }
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(ApiKey {
            id,
            user_id: key.user_id.clone(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            scopes: key.scopes.clone(),
            created_at: now,
            expires_at: key.expires_at,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
        })
    }

    /// A user's keys, newest first, revoked ones included.
    pub async fn list_api_keys(&self, user_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ApiKey::from).collect())
    }

    /// The key with this secret hash and its user.
    pub async fn find_api_key(
        &self,
        secret_hash: &str,
    ) -> Result<Option<(ApiKey, User)>, StoreError> {
        let row: Option<KeyRow> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = $1"
        ))
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key = ApiKey::from(row);
        Ok(self.find_user(&key.user_id).await?.map(|user| (key, user)))
    }

    /// Revokes one of the user's keys (with its audit event); false when the user has no
    /// such unrevoked key.
    pub async fn revoke_api_key(
        &self,
        user_id: &str,
        id: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_millis())
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if revoked {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Records a use of the key: when, from where, and the audit event of a new address.
    pub async fn touch_api_key(
        &self,
        id: &str,
        ip: &str,
        audit: Option<&NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query("UPDATE api_keys SET last_used_at = $1, last_used_ip = $2 WHERE id = $3")
            .bind(now_millis())
            .bind(ip)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
