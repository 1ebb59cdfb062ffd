//! In-app notices. Written in the transaction of what they report (a run failing, a fire
//! skipped), so a notice exists exactly when its cause committed.

use crate::{Store, StoreError, new_id, now_millis};
use sqlx::{Any, Transaction};

/// A notice as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    /// How many events it stands for (repeats collapse while it is unread).
    pub count: i64,
    pub read_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A notice to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: String,
    /// `run_failed`, `schedule_skipped`, `budget_nearly_used`.
    pub kind: &'static str,
    /// What it is about (`workflow:ID`, `schedule:ID`, `budget:ID:MONTH`): repeats about one
    /// subject collapse.
    pub subject: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
}

/// How a repeat about the same subject is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Into the unread notice about it (its count goes up, its text is the latest), else
    /// a new notice.
    CollapseWhileUnread,
    /// Never again once there was one, read or not.
    Once,
}

const COLUMNS: &str =
    "id, kind, subject, title, body, link, count, read_at, created_at, updated_at";

/// Writes `notice` in `tx`.
pub(crate) async fn notify(
    tx: &mut Transaction<'static, Any>,
    notice: &NewNotification,
    repeat: Repeat,
) -> Result<(), StoreError> {
    let now = now_millis();
    match repeat {
        Repeat::CollapseWhileUnread => {
            let collapsed = sqlx::query(
                "UPDATE notifications SET count = count + 1, title = $1, body = $2, link = $3, updated_at = $4 \
                 WHERE user_id = $5 AND subject = $6 AND read_at IS NULL",
            )
            .bind(&notice.title)
            .bind(&notice.body)
            .bind(&notice.link)
            .bind(now)
            .bind(&notice.user_id)
            .bind(&notice.subject)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if collapsed > 0 {
                return Ok(());
            }
        }
        Repeat::Once => {
            let seen: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM notifications WHERE user_id = $1 AND subject = $2 LIMIT 1",
            )
            .bind(&notice.user_id)
            .bind(&notice.subject)
            .fetch_optional(&mut **tx)
            .await?;
            if seen.is_some() {
                return Ok(());
            }
        }
    }
    sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, subject, title, body, link, count, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
    )
    .bind(new_id())
    .bind(&notice.user_id)
    .bind(notice.kind)
    .bind(&notice.subject)
    .bind(&notice.title)
    .bind(&notice.body)
    .bind(&notice.link)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    metrics::counter!("aura_notifications_total", "kind" => notice.kind).increment(1);
    Ok(())
}

impl Store {
    /// Writes a notice on its own (for causes outside a transaction of the store's).
    pub async fn notify(&self, notice: &NewNotification, repeat: Repeat) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        notify(&mut tx, notice, repeat).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A user's notices, the latest first, and how many are unread.
    pub async fn notifications(
        &self,
        user_id: &str,
        limit: i64,
    ) -> Result<(Vec<Notification>, i64), StoreError> {
        let rows = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2"
        ))
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows, self.unread_notifications(user_id).await?))
    }

    pub async fn unread_notifications(&self, user_id: &str) -> Result<i64, StoreError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }

    /// Marks one notice (`Some(id)`) or all of the user's as read; returns how many changed.
    pub async fn mark_notifications_read(
        &self,
        user_id: &str,
        id: Option<&str>,
    ) -> Result<u64, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let changed = match id {
            Some(id) => sqlx::query(
                "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND id = $3 AND read_at IS NULL",
            )
            .bind(now_millis())
            .bind(user_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => sqlx::query(
                "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
            )
            .bind(now_millis())
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        tx.commit().await?;
        Ok(changed)
    }

    /// Whether the notice exists and is the user's.
    pub async fn notification_exists(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT id FROM notifications WHERE user_id = $1 AND id = $2")
                .bind(user_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Deletes notices last touched before `cutoff` (the retention sweep).
    pub async fn delete_notifications_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM notifications WHERE updated_at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }
}
