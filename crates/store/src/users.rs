//! Users: sign-up, lookup, profile and password updates.

use crate::audit::{NewAuditEvent, insert_audit};
use crate::{Backend, Store, StoreError, new_id, now_millis};
use serde::{Deserialize, Serialize};

/// What an account may do. The first account becomes `Admin`; everyone else starts as `Member`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(StoreError::Unexpected(anyhow::anyhow!(
                "unknown role {other:?}"
            ))),
        }
    }
}

/// A stored account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: i64,
}

/// An account about to be created; the email is already normalised and the password hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    role: String,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            role: Role::parse(&row.role)?,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            created_at: row.created_at,
        })
    }
}

const USER_COLUMNS: &str = "id, email, display_name, role, created_at";

impl Store {
    /// Creates an account and its sign-up audit event in one transaction.
    ///
    /// The role is decided inside the INSERT, and sign-ups are serialised, so two
    /// simultaneous first sign-ups cannot both become admin. A duplicate email fails with
    /// `StoreError::Conflict("users_email_key")`.
    pub async fn create_user(
        &self,
        user: &NewUser,
        mut audit: NewAuditEvent,
    ) -> Result<User, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Under READ COMMITTED two concurrent first sign-ups could both see an empty
            // table; serialise sign-ups so exactly one becomes admin. (SQLite already
            // serialises writers.)
            sqlx::query("SELECT pg_advisory_xact_lock(4242001)")
                .execute(&mut *tx)
                .await?;
        }
        let row: UserRow = sqlx::query_as(&format!(
            "INSERT INTO users (id, email, display_name, password_hash, role, created_at, updated_at) \
             SELECT $1, $2, $3, $4, \
                    CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member' ELSE 'admin' END, $5, $5 \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(new_id())
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let created = User::try_from(row)?;
        audit.actor_id = Some(created.id.clone());
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// The account with this (normalised) email and its password hash.
    pub async fn find_user_credentials(
        &self,
        email: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((User::try_from(r.user)?, r.password_hash)))
            .transpose()
    }

    pub async fn find_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(User::try_from).transpose()
    }

    pub async fn password_hash(&self, user_id: &str) -> Result<String, StoreError> {
        let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(hash)
    }

    pub async fn update_display_name(
        &self,
        user_id: &str,
        display_name: &str,
    ) -> Result<User, StoreError> {
        let row: UserRow = sqlx::query_as(&format!(
            "UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3 RETURNING {USER_COLUMNS}"
        ))
        .bind(display_name)
        .bind(now_millis())
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        User::try_from(row)
    }

    /// Stores a new password hash, ends every session of the user except `keep_session`,
    /// and records the audit event, all in one transaction. Returns how many sessions ended.
    pub async fn change_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep_session: Option<&str>,
        audit: &NewAuditEvent,
    ) -> Result<u64, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let updated =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(now_millis())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(ended)
    }
}
