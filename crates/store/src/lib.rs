//! The only place in Aura that writes SQL.
//!
//! `Store` wraps one sqlx `Any` pool that talks to SQLite (the embedded default) or
//! PostgreSQL (teams, several instances). Queries are written once in the portable subset
//! both understand (`$n` placeholders, `RETURNING`, integer millisecond timestamps, text
//! ids); only DDL differs, so migrations live per backend under `migrations/`. Callers get
//! plain Rust records and [`StoreError`]; they never see a SQL string or a sqlx type.

mod agent_turns;
mod api_keys;
mod audit;
pub mod backup;
mod change_sets;
mod dashboard;
mod error;
mod llm_usage;
mod models;
mod notifications;
mod principal;
mod projects;
mod runs;
mod schedules;
mod sessions;
mod settings;
mod users;
mod waits;
mod webhooks;
mod workflow_secrets;
mod workflows;

pub use agent_turns::AgentTurn;
pub use api_keys::{ApiKey, NewApiKey};
pub use audit::{AuditEvent, AuditFilter, AuditPage, NewAuditEvent, Outcome};
pub use aura_types::{AuditAction, EventKind, RunStatus, Scope, StepStatus};
pub use change_sets::{ChangeSet, Conflict, FileChange};
pub use dashboard::{BucketCount, BucketTokens, FailingWorkflow, RunDurations};
pub use error::StoreError;
pub use llm_usage::{LlmBudget, LlmCall, LlmUsed};
pub use models::{ModelAliasRow, ModelProviderRow, SealedValue, VaultCheck, sealed_context};
pub use notifications::{NewNotification, Notification, Repeat};
pub use principal::{Credential, Origin, Principal};
pub use projects::{
    Entry, FileContent, NewFile, Project, ProjectDraft, ProjectFilter, ProjectLimits, RevisionMeta,
    TreeRefusal, TreeResult,
};
pub use runs::{
    Claim, ClaimedStep, NewRun, NewStep, Outcome as StepOutcome, Run, RunEvent, RunFilter,
    RunSummary, StepRun,
};
pub use schedules::{FireClaim, LastFire, ScheduleRow, ScheduleSettings};
pub use sessions::SessionRow;
pub use users::{NewUser, Role, User};
pub use waits::{Decided, NewWait};
pub use webhooks::{WebhookActivity, WebhookRow, WebhookSettings};
pub use workflow_secrets::WorkflowSecretRow;
pub use workflows::{Workflow, WorkflowDraft, WorkflowVersion};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database engine a [`Store`] is connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Chooses the backend from a connection URL, or says why it cannot.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err("must start with sqlite: or postgres://".to_owned())
        }
    }
}

/// Handle to the application database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer; its busy handler makes waiting writers sleep and poll,
    /// which wastes most of the time when several runners commit at once. In-process
    /// writers queue here instead and start the moment the previous one commits. (Other
    /// processes on the same file still meet SQLite's own lock and busy timeout.)
    sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// How the connection pool is used; see [`Store::pool_stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// Pool sizing for [`Store::connect`].
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

impl Store {
    /// Begins a transaction that will write. On SQLite it first takes the in-process
    /// writer slot; keep the returned guard until the transaction has committed.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<
        (
            Option<tokio::sync::OwnedMutexGuard<()>>,
            sqlx::Transaction<'static, sqlx::Any>,
        ),
        StoreError,
    > {
        let guard = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        Ok((guard, self.pool.begin().await?))
    }

    /// Connects, applies per-connection settings and runs pending migrations.
    ///
    /// For SQLite the database file (and its directory) is created when missing, and every
    /// connection runs in WAL mode with foreign keys enforced and a busy timeout, so that
    /// concurrent writers wait instead of failing with `SQLITE_BUSY`.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).map_err(|e| StoreError::Config(e.to_owned()))?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("invalid database URL: {e}")))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time is all SQLite allows; a small pool keeps readers
                // concurrent without queueing many writers on the busy timeout.
                Backend::Sqlite => settings.max_connections.min(8),
                Backend::Postgres => settings.max_connections,
            })
            .acquire_timeout(settings.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let sqlite_writer =
            (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())));
        let store = Store {
            pool,
            backend,
            sqlite_writer,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("../../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../../migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unexpected(anyhow::anyhow!("migration failed: {e}")))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Round-trips a trivial query; used by `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Connections of the pool right now, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        let open = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(open);
        PoolStats {
            in_use: open.saturating_sub(idle),
            idle,
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Closes every pooled connection; used at shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Makes sure the SQLite file can be created: `mode=rwc` and an existing parent directory.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config(
            "in-memory SQLite is not supported; give a file path such as sqlite://data/aura.db"
                .to_owned(),
        ));
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::Config(format!("cannot create directory {}: {e}", parent.display()))
        })?;
    }
    let mut query = query.to_owned();
    if !query.contains("mode=") {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{query}"))
}

/// Current UTC time in milliseconds since the Unix epoch, the unit of every stored timestamp.
pub fn now_millis() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A fresh, time-ordered id that is safe to put in a URL.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("aura-url-{}", new_id()));
        let url = format!("sqlite://{}/x.db", dir.display());
        let prepared = prepare_sqlite_url(&url).unwrap();
        assert!(prepared.ends_with("x.db?mode=rwc"), "{prepared}");
        assert!(dir.is_dir());
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
    }

    #[test]
    fn backend_is_chosen_from_the_url() {
        assert_eq!(Backend::from_url("sqlite://a.db"), Ok(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgres://x/y"), Ok(Backend::Postgres));
        assert!(Backend::from_url("mysql://x").is_err());
    }
}
