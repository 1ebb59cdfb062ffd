//! A user's in-app notices: read them, mark them read, and count the unread ones (what the
//! bell shows). Notices are written where their causes commit (see `aura_store`).

use crate::WorkflowError;
use aura_store::{Notification, Principal, Store};

/// The most notices one list shows.
pub const MAX_LIST: i64 = 100;

#[derive(Debug, Clone)]
pub struct Notifications {
    store: Store,
}

/// A page of notices with the unread count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationList {
    pub items: Vec<Notification>,
    pub unread: i64,
}

impl Notifications {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The caller's latest notices (at most `limit`, up to [`MAX_LIST`]).
    pub async fn list(
        &self,
        principal: &Principal,
        limit: Option<i64>,
    ) -> Result<NotificationList, WorkflowError> {
        let limit = limit.unwrap_or(50);
        if !(1..=MAX_LIST).contains(&limit) {
            return Err(WorkflowError::Invalid(vec![crate::Problem {
                step: None,
                field: "limit".into(),
                message: format!("Use 1 to {MAX_LIST}."),
            }]));
        }
        let (items, unread) = self.store.notifications(principal.user_id(), limit).await?;
        Ok(NotificationList { items, unread })
    }

    pub async fn unread(&self, principal: &Principal) -> Result<i64, WorkflowError> {
        Ok(self.store.unread_notifications(principal.user_id()).await?)
    }

    /// Marks one of the caller's notices read (again is fine); another's is not found.
    pub async fn mark_read(&self, principal: &Principal, id: &str) -> Result<(), WorkflowError> {
        if !self
            .store
            .notification_exists(principal.user_id(), id)
            .await?
        {
            return Err(WorkflowError::NotFound);
        }
        self.store
            .mark_notifications_read(principal.user_id(), Some(id))
            .await?;
        Ok(())
    }

    /// Marks all the caller's notices read; returns how many were unread.
    pub async fn mark_all_read(&self, principal: &Principal) -> Result<u64, WorkflowError> {
        Ok(self
            .store
            .mark_notifications_read(principal.user_id(), None)
            .await?)
    }
}
