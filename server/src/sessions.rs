//! tower-sessions storage on Aura's own database, through `aura-store`.
//!
//! Unlike a generic store, it copies the signed-in user's id into an indexed column so that
//! a password change can end all of that user's other sessions in one statement.

use async_trait::async_trait;
use aura_app::server::SESSION_USER_ID;
use aura_store::Store;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    store: Store,
}

impl DbSessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn columns(record: &Record) -> Result<(String, Option<String>, String, i64), session_store::Error> {
    let user_id = record
        .data
        .get(SESSION_USER_ID)
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let data = serde_json::to_string(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok((
        record.id.to_string(),
        user_id,
        data,
        millis(record.expiry_date),
    ))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits, so a collision is practically impossible; still, never
        // overwrite someone else's session if one happens.
        loop {
            let (id, user_id, data, expires_at) = columns(record)?;
            if self
                .store
                .insert_session(&id, user_id.as_deref(), &data, expires_at)
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (id, user_id, data, expires_at) = columns(record)?;
        self.store
            .upsert_session(&id, user_id.as_deref(), &data, expires_at)
            .await
            .map_err(backend)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let now = aura_store::now_millis();
        let Some(row) = self
            .store
            .load_session(&session_id.to_string(), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(row.expires_at) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *session_id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.store
            .delete_session(&session_id.to_string())
            .await
            .map_err(backend)
    }
}
