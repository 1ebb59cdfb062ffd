//! Server-side session records for tower-sessions.
//!
//! The session payload is opaque JSON to the store, but the signed-in user's id is kept in
//! its own indexed column so that "end every other session of this user" is one DELETE.

use crate::{Store, StoreError};

/// A stored session: its JSON payload and absolute expiry (UTC ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub data: String,
    pub expires_at: i64,
}

impl Store {
    /// Inserts a brand-new session. Returns `false` when the id is already taken, so the
    /// caller can draw another id instead of overwriting someone else's session.
    pub async fn insert_session(
        &self,
        id: &str,
        user_id: Option<&str>,
        data: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(user_id)
        .bind(data)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn upsert_session(
        &self,
        id: &str,
        user_id: Option<&str>,
        data: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(user_id)
        .bind(data)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session with this id, unless it has expired at `now` (UTC ms).
    /// The user a session that has not expired belongs to; `None` once it was ended
    /// (signed out, password changed) or expired.
    pub async fn session_user(&self, id: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT user_id FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(user,)| user))
    }

    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(data, expires_at)| SessionRow { data, expires_at }))
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether a session row with this id exists (expired or not); used by tests and ops.
    pub async fn session_exists(&self, id: &str) -> Result<bool, StoreError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }

    /// Number of live sessions of a user at `now`.
    pub async fn count_user_sessions(&self, user_id: &str, now: i64) -> Result<i64, StoreError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2")
                .bind(user_id)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
        Ok(count)
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}
