//! Errors the store reports to services.

/// What went wrong in the database layer, in terms a service can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint rejected the write; carries the constraint (index) name.
    #[error("conflict on {0}")]
    Conflict(String),
    #[error("record not found")]
    NotFound,
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(unique_constraint_name(db.as_ref()))
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Unexpected(anyhow::Error::new(err)),
        }
    }
}

/// PostgreSQL names the violated index; SQLite only names the columns
/// ("UNIQUE constraint failed: users.email"), so map those to our index names.
fn unique_constraint_name(db: &dyn sqlx::error::DatabaseError) -> String {
    if let Some(name) = db.constraint() {
        return name.to_owned();
    }
    let message = db.message();
    match message.rsplit_once(": ") {
        Some((_, "users.email")) => "users_email_key".to_owned(),
        Some((_, "projects.owner_id, projects.slug")) => "projects_owner_slug_key".to_owned(),
        Some((_, "project_entries.project_id, project_entries.path")) => {
            "project_entries_path_key".to_owned()
        }
        Some((_, "model_providers.name")) => "model_providers_name_key".to_owned(),
        Some((_, "workflow_secrets.owner_id, workflow_secrets.name")) => {
            "workflow_secrets_owner_name_key".to_owned()
        }
        Some((_, columns)) => columns.to_owned(),
        None => message.to_owned(),
    }
}
