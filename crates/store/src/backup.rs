//! Online backup and restore of the SQLite database (`aura backup`, `aura restore`).
//!
//! A backup is `VACUUM INTO` a hidden file beside the target: SQLite writes a compact copy
//! of one read transaction, so it is consistent while Aura keeps writing. The copy is
//! checked (`PRAGMA integrity_check`, an Aura schema this binary knows) before it is linked
//! to its final name, which never replaces an existing file. A restore checks the backup
//! the same way and puts it where the configured database belongs, only when nothing is
//! there. PostgreSQL has its own tools (`pg_dump`, `pg_restore`); see the README.

use crate::Backend;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Why a backup or restore did not happen. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "this database is PostgreSQL; back it up with pg_dump and restore it with pg_restore (see the README's Backup section)"
    )]
    Postgres,
    #[error("{0}")]
    Refused(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Database {
        context: String,
        source: sqlx::Error,
    },
}

/// What a backup file holds, read back from the file itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupSummary {
    pub path: PathBuf,
    pub bytes: u64,
    /// The newest migration applied to it.
    pub schema_version: i64,
    pub users: i64,
    pub workflows: i64,
    pub runs: i64,
    pub projects: i64,
    /// The key its stored secrets are sealed with, when it has any.
    pub vault_key_id: Option<String>,
}

/// Writes a consistent copy of the SQLite database at `database_url` to `target`, which must
/// not exist. Safe while Aura runs on the same file.
pub async fn backup_sqlite(
    database_url: &str,
    target: &Path,
) -> Result<BackupSummary, BackupError> {
    let source = sqlite_path(database_url)?;
    if !source.exists() {
        return Err(BackupError::Refused(format!(
            "there is no database at {}; check AURA_DATABASE_URL",
            source.display()
        )));
    }
    refuse_existing(target, "the backup file")?;
    let partial = partial_beside(target)?;
    let result = async {
        let mut conn = open(&source, false).await?;
        sqlx::query("VACUUM INTO $1")
            .bind(partial.to_string_lossy().as_ref())
            .execute(&mut conn)
            .await
            .map_err(database(format!("could not copy {}", source.display())))?;
        conn.close().await.ok();
        let mut summary = inspect(&partial).await?;
        sync_file(&partial)?;
        link_new(&partial, target)?;
        summary.path = target.to_owned();
        Ok(summary)
    }
    .await;
    let _ = std::fs::remove_file(&partial);
    result
}

/// Checks the backup at `source` and copies it to where `database_url` keeps its database,
/// which must hold no database yet (nor a write-ahead log of one).
pub async fn restore_sqlite(
    source: &Path,
    database_url: &str,
) -> Result<BackupSummary, BackupError> {
    let target = sqlite_path(database_url)?;
    if !source.is_file() {
        return Err(BackupError::Refused(format!(
            "there is no backup file at {}",
            source.display()
        )));
    }
    for path in [
        target.clone(),
        with_suffix(&target, "-wal"),
        with_suffix(&target, "-shm"),
    ] {
        if path.exists() {
            return Err(BackupError::Refused(format!(
                "{} already exists; a restore only goes where there is no database. \
                 Stop Aura and move the old database (and its -wal and -shm files) away first",
                path.display()
            )));
        }
    }
    let summary = inspect(source).await?;
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(io(format!("could not create {}", parent.display())))?;
    }
    let partial = partial_beside(&target)?;
    let result = (|| {
        std::fs::copy(source, &partial).map_err(io(format!(
            "could not copy {} to {}",
            source.display(),
            partial.display()
        )))?;
        sync_file(&partial)?;
        link_new(&partial, &target)
    })();
    let _ = std::fs::remove_file(&partial);
    result?;
    Ok(BackupSummary {
        path: target,
        ..summary
    })
}

/// Opens a finished copy and checks that it is whole and an Aura database this binary can
/// run: every migration in it applied successfully and known here.
async fn inspect(path: &Path) -> Result<BackupSummary, BackupError> {
    let context = || format!("{} is not a readable SQLite database", path.display());
    let mut conn = open(path, true).await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(database(context()))?;
    if integrity != "ok" {
        return Err(BackupError::Refused(format!(
            "{} is damaged: integrity check says {integrity}",
            path.display()
        )));
    }
    let migrations = sqlx::query(
        "SELECT COALESCE(MAX(version), 0) AS newest, \
                COALESCE(SUM(CASE WHEN success THEN 0 ELSE 1 END), 0) AS failed \
         FROM _sqlx_migrations",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|_| {
        BackupError::Refused(format!(
            "{} is not an Aura database (it has no migration history)",
            path.display()
        ))
    })?;
    let newest: i64 = migrations.get("newest");
    let failed: i64 = migrations.get("failed");
    let known = newest_known_migration();
    if failed > 0 {
        return Err(BackupError::Refused(format!(
            "{} has a failed migration; it cannot be restored",
            path.display()
        )));
    }
    if newest > known {
        return Err(BackupError::Refused(format!(
            "{} was made by a newer Aura (schema {newest}; this one knows up to {known}); restore it with that version",
            path.display()
        )));
    }
    let mut counts = [0_i64; 4];
    for (count, table) in counts
        .iter_mut()
        .zip(["users", "workflows", "runs", "projects"])
    {
        *count = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .map_err(database(context()))?;
    }
    let vault_key_id = sqlx::query_scalar("SELECT key_id FROM vault WHERE id = 1")
        .fetch_optional(&mut conn)
        .await
        .map_err(database(context()))?;
    conn.close().await.ok();
    let bytes = std::fs::metadata(path)
        .map_err(io(format!("could not read {}", path.display())))?
        .len();
    let [users, workflows, runs, projects] = counts;
    Ok(BackupSummary {
        path: path.to_owned(),
        bytes,
        schema_version: newest,
        users,
        workflows,
        runs,
        projects,
        vault_key_id,
    })
}

/// The newest SQLite migration built into this binary.
fn newest_known_migration() -> i64 {
    sqlx::migrate!("../../migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

async fn open(path: &Path, read_only: bool) -> Result<SqliteConnection, BackupError> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(database(format!("invalid path {}", path.display())))?
        .create_if_missing(false)
        .read_only(read_only)
        .busy_timeout(Duration::from_secs(30));
    SqliteConnection::connect_with(&options)
        .await
        .map_err(database(format!("could not open {}", path.display())))
}

/// The file behind a `sqlite:` URL; PostgreSQL is refused with the tools to use instead.
fn sqlite_path(database_url: &str) -> Result<PathBuf, BackupError> {
    match Backend::from_url(database_url) {
        Ok(Backend::Postgres) => return Err(BackupError::Postgres),
        Ok(Backend::Sqlite) => {}
        Err(reason) => {
            return Err(BackupError::Refused(format!("AURA_DATABASE_URL {reason}")));
        }
    }
    let rest = database_url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//");
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    if path.is_empty() || path == ":memory:" {
        return Err(BackupError::Refused(
            "AURA_DATABASE_URL names no database file".to_owned(),
        ));
    }
    Ok(PathBuf::from(path))
}

fn refuse_existing(path: &Path, what: &str) -> Result<(), BackupError> {
    if path.exists() {
        return Err(BackupError::Refused(format!(
            "{what} {} already exists; a backup never overwrites a file, so give a new name",
            path.display()
        )));
    }
    Ok(())
}

/// A hidden, unique name in the target's directory (so the final step is a link within
/// one file system).
fn partial_beside(target: &Path) -> Result<PathBuf, BackupError> {
    let name = target
        .file_name()
        .ok_or_else(|| BackupError::Refused(format!("{} is not a file name", target.display())))?;
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(BackupError::Refused(format!(
            "the directory {} does not exist",
            dir.display()
        )));
    }
    Ok(dir.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        crate::new_id()
    )))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io(format!("could not flush {} to disk", path.display())))
}

/// Gives `partial` its final name, failing rather than replacing a file that appeared
/// meanwhile.
fn link_new(partial: &Path, target: &Path) -> Result<(), BackupError> {
    match std::fs::hard_link(partial, target) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            refuse_existing(target, "the file")
        }
        Err(err) => Err(BackupError::Io {
            context: format!("could not create {}", target.display()),
            source: err,
        }),
    }
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> BackupError {
    move |source| BackupError::Io { context, source }
}

fn database(context: String) -> impl FnOnce(sqlx::Error) -> BackupError {
    move |source| BackupError::Database { context, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_point_at_pg_dump() {
        let err = sqlite_path("postgres://u@h/db").unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        let path = sqlite_path("sqlite://data/x/aura.db?mode=rwc").unwrap();
        assert_eq!(path, PathBuf::from("data/x/aura.db"));
    }

    #[test]
    fn wal_names_append_to_the_file_name() {
        assert_eq!(
            with_suffix(Path::new("data/aura.db"), "-wal"),
            PathBuf::from("data/aura.db-wal")
        );
    }
}
