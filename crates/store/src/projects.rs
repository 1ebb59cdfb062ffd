//! Projects, their file trees and file revisions.
//!
//! Every write to a project's tree runs in one transaction that first touches the project
//! row (`updated_at`): on PostgreSQL that row lock serialises writers of one project, so
//! the size and entry caps checked inside the transaction hold under concurrency; SQLite
//! has one writer anyway. Folders are stored as entries, and every file's ancestors
//! exist as folder entries, so the unique `(project_id, path)` index alone keeps a file
//! and a folder from sharing a path.

use crate::{Store, StoreError, new_id, now_millis};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Project {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Name, slug and description, already validated.
#[derive(Debug, Clone)]
pub struct ProjectDraft {
    pub name: String,
    pub slug: String,
    pub description: String,
}

/// Which projects to list: newest first, optionally matching `query`, after a cursor.
#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    /// Matched case-insensitively against name, slug and description.
    pub query: Option<String>,
    /// `(created_at, id)` of the last project on the previous page.
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// A file or folder in a project's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Entry {
    pub id: String,
    pub project_id: String,
    pub path: String,
    pub kind: String,
    pub size: i64,
    pub current_revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Entry {
    pub fn is_folder(&self) -> bool {
        self.kind == "folder"
    }
}

/// A file with the content of its current revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContent {
    pub entry: Entry,
    pub content: String,
}

#[derive(sqlx::FromRow)]
struct FileRow {
    #[sqlx(flatten)]
    entry: Entry,
    content: String,
}

/// One saved revision, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RevisionMeta {
    pub revision: i64,
    pub size: i64,
    pub author_id: Option<String>,
    pub author_email: Option<String>,
    pub created_at: i64,
    /// Where the revision came from ("AI: Fix …", "Restored revision 3"); empty for a
    /// plain save.
    pub note: String,
}

/// Caps a project's writes must stay within.
#[derive(Debug, Clone, Copy)]
pub struct ProjectLimits {
    pub max_project_bytes: i64,
    pub max_entries: i64,
}

/// Why a tree write was refused, beyond not-found and unique conflicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeRefusal {
    /// The sum of the project's file sizes would exceed the cap.
    ProjectTooLarge { used: i64, adding: i64 },
    /// The project would hold more entries than allowed.
    TooManyEntries,
    /// An ancestor of the path is a file.
    ParentIsFile(String),
    /// Another entry already has the path.
    PathTaken(String),
    /// A folder cannot move inside itself.
    IntoItself,
    /// The client's base revision is not the current one.
    StaleRevision,
}

/// What a tree write returns: done, or refused for a reason the caller can show.
pub type TreeResult<T> = Result<Result<T, TreeRefusal>, StoreError>;

/// A file to create along with a new project.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub path: String,
    pub content: String,
}

const PROJECT_COLUMNS: &str = "id, owner_id, name, slug, description, created_at, updated_at";
pub(crate) const ENTRY_COLUMNS: &str =
    "id, project_id, path, kind, size, current_revision, created_at, updated_at";

/// The folders above `path`, outermost first: `a/b/c.rs` → `a`, `a/b`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// `%`, `_` and `\` escaped for `LIKE … ESCAPE '\'`, lower-cased, wrapped in `%`.
fn like_pattern(query: &str) -> String {
    let mut pattern = String::from("%");
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    pub async fn create_project(
        &self,
        owner_id: &str,
        draft: &ProjectDraft,
    ) -> Result<Project, StoreError> {
        self.create_project_with_files(owner_id, draft, &[], &[])
            .await
            .map(|created| created.expect("no files, no refusal"))
    }

    /// Creates a project with folders and files (a zip import) in one transaction: either
    /// all of it exists afterwards or none of it.
    pub async fn create_project_with_files(
        &self,
        owner_id: &str,
        draft: &ProjectDraft,
        folders: &[String],
        files: &[NewFile],
    ) -> TreeResult<Project> {
        let id = new_id();
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO projects (id, owner_id, name, slug, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(&draft.name)
        .bind(&draft.slug)
        .bind(&draft.description)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut known = std::collections::HashSet::new();
        for folder in folders {
            if let Err(refusal) =
                ensure_folders(&mut tx, &id, folder, true, &mut known, now).await?
            {
                return Ok(Err(refusal));
            }
        }
        for file in files {
            if let Err(refusal) =
                ensure_folders(&mut tx, &id, &file.path, false, &mut known, now).await?
            {
                return Ok(Err(refusal));
            }
            if !known.insert(file.path.clone()) {
                return Ok(Err(TreeRefusal::PathTaken(file.path.clone())));
            }
            insert_file(&mut tx, &id, &file.path, &file.content, "", owner_id, now).await?;
        }
        tx.commit().await?;
        Ok(Ok(self
            .find_project(owner_id, &id)
            .await?
            .ok_or(StoreError::NotFound)?))
    }

    /// The owner's project; `None` for other users' projects, so existence does not leak.
    /// Whether a project with this id exists, whoever owns it (for administrators).
    pub async fn project_exists(&self, id: &str) -> Result<bool, StoreError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM projects WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    pub async fn find_project(
        &self,
        owner_id: &str,
        id: &str,
    ) -> Result<Option<Project>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1 AND owner_id = $2"
        ))
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The owner's project whose id or slug is `key` (workflow steps name projects by
    /// either); `None` when the owner has none.
    pub async fn find_project_by_key(
        &self,
        owner_id: &str,
        key: &str,
    ) -> Result<Option<Project>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE owner_id = $1 AND (id = $2 OR slug = $2) \
             ORDER BY id = $2 DESC LIMIT 1"
        ))
        .bind(owner_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn list_projects(
        &self,
        owner_id: &str,
        filter: &ProjectFilter,
    ) -> Result<Vec<Project>, StoreError> {
        let (before_at, before_id) = filter.before.clone().unwrap_or((i64::MAX, String::new()));
        let pattern = filter
            .query
            .as_deref()
            .map(like_pattern)
            .unwrap_or_default();
        Ok(sqlx::query_as(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE owner_id = $1 \
             AND ($2 = '' OR LOWER(name) LIKE $2 ESCAPE '\\' OR slug LIKE $2 ESCAPE '\\' \
                  OR LOWER(description) LIKE $2 ESCAPE '\\') \
             AND (created_at < $3 OR (created_at = $3 AND ($4 = '' OR id < $4))) \
             ORDER BY created_at DESC, id DESC LIMIT $5"
        ))
        .bind(owner_id)
        .bind(pattern)
        .bind(before_at)
        .bind(before_id)
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn update_project(
        &self,
        owner_id: &str,
        id: &str,
        draft: &ProjectDraft,
    ) -> Result<Project, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let updated: Option<Project> = sqlx::query_as(&format!(
            "UPDATE projects SET name = $1, slug = $2, description = $3, updated_at = $4 \
             WHERE id = $5 AND owner_id = $6 RETURNING {PROJECT_COLUMNS}"
        ))
        .bind(&draft.name)
        .bind(&draft.slug)
        .bind(&draft.description)
        .bind(now_millis())
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        updated.ok_or(StoreError::NotFound)
    }

    /// Deletes the project with its entries and revisions.
    pub async fn delete_project(&self, owner_id: &str, id: &str) -> Result<(), StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM projects WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Every entry of a project, sorted by path.
    pub async fn list_entries(&self, project_id: &str) -> Result<Vec<Entry>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM project_entries WHERE project_id = $1 ORDER BY path"
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn find_entry(
        &self,
        project_id: &str,
        entry_id: &str,
    ) -> Result<Option<Entry>, StoreError> {
        self.entry_by("id", project_id, entry_id).await
    }

    pub async fn find_entry_by_path(
        &self,
        project_id: &str,
        path: &str,
    ) -> Result<Option<Entry>, StoreError> {
        self.entry_by("path", project_id, path).await
    }

    /// The entry whose `column` (`id` or `path`, never user input) equals `value`.
    async fn entry_by(
        &self,
        column: &'static str,
        project_id: &str,
        value: &str,
    ) -> Result<Option<Entry>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM project_entries WHERE project_id = $1 AND {column} = $2"
        ))
        .bind(project_id)
        .bind(value)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A file with its current content; `None` for folders and unknown ids.
    pub async fn read_file(
        &self,
        project_id: &str,
        entry_id: &str,
    ) -> Result<Option<FileContent>, StoreError> {
        let Some(entry) = self.find_entry(project_id, entry_id).await? else {
            return Ok(None);
        };
        if entry.is_folder() {
            return Ok(None);
        }
        let content = self
            .read_revision(&entry.id, entry.current_revision)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Some(FileContent { entry, content }))
    }

    /// Every file of a project with its current content, sorted by path (for export and
    /// analysis).
    pub async fn read_all_files(&self, project_id: &str) -> Result<Vec<FileContent>, StoreError> {
        let rows: Vec<FileRow> = sqlx::query_as(
            "SELECT e.id, e.project_id, e.path, e.kind, e.size, e.current_revision, e.created_at, \
             e.updated_at, r.content FROM project_entries e JOIN file_revisions r \
             ON r.entry_id = e.id AND r.revision = e.current_revision \
             WHERE e.project_id = $1 AND e.kind = 'file' ORDER BY e.path",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| FileContent {
                entry: row.entry,
                content: row.content,
            })
            .collect())
    }

    /// Creates a file (revision 1) or a folder, with any missing ancestor folders.
    pub async fn create_entry(
        &self,
        project_id: &str,
        path: &str,
        content: Option<&str>,
        author_id: &str,
        limits: ProjectLimits,
    ) -> TreeResult<Entry> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        touch_project(&mut tx, project_id, now).await?;
        let (count, used) = usage(&mut tx, project_id).await?;
        let adding = content.map_or(0, |c| c.len() as i64);
        if used + adding > limits.max_project_bytes {
            return Ok(Err(TreeRefusal::ProjectTooLarge { used, adding }));
        }
        let mut known = std::collections::HashSet::new();
        if let Err(refusal) = ensure_folders(
            &mut tx,
            project_id,
            path,
            content.is_none(),
            &mut known,
            now,
        )
        .await?
        {
            return Ok(Err(refusal));
        }
        if content.is_some() {
            if exists(&mut tx, project_id, path).await? {
                return Ok(Err(TreeRefusal::PathTaken(path.to_owned())));
            }
            insert_file(
                &mut tx,
                project_id,
                path,
                content.unwrap_or_default(),
                "",
                author_id,
                now,
            )
            .await?;
        }
        let (after, _) = usage(&mut tx, project_id).await?;
        if after > limits.max_entries && after > count {
            return Ok(Err(TreeRefusal::TooManyEntries));
        }
        tx.commit().await?;
        Ok(Ok(self
            .find_entry_by_path(project_id, path)
            .await?
            .ok_or(StoreError::NotFound)?))
    }

    /// Saves `content` as the next revision if `base_revision` is still current; `note`
    /// says where it came from (empty for a plain save).
    #[allow(clippy::too_many_arguments)]
    pub async fn save_file(
        &self,
        project_id: &str,
        entry_id: &str,
        content: &str,
        base_revision: i64,
        note: &str,
        author_id: &str,
        limits: ProjectLimits,
    ) -> TreeResult<Entry> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        touch_project(&mut tx, project_id, now).await?;
        let Some(entry) = entry_in(&mut tx, project_id, entry_id).await? else {
            return Err(StoreError::NotFound);
        };
        if entry.is_folder() {
            return Err(StoreError::NotFound);
        }
        if entry.current_revision != base_revision {
            return Ok(Err(TreeRefusal::StaleRevision));
        }
        let (_, used) = usage(&mut tx, project_id).await?;
        let adding = content.len() as i64 - entry.size;
        if adding > 0 && used + adding > limits.max_project_bytes {
            return Ok(Err(TreeRefusal::ProjectTooLarge { used, adding }));
        }
        let moved = new_revision(&mut tx, &entry, content, note, author_id, now).await?;
        if !moved {
            return Ok(Err(TreeRefusal::StaleRevision));
        }
        tx.commit().await?;
        Ok(Ok(self
            .find_entry(project_id, entry_id)
            .await?
            .ok_or(StoreError::NotFound)?))
    }

    /// Renames or moves an entry; a folder takes everything inside it along.
    pub async fn move_entry(
        &self,
        project_id: &str,
        entry_id: &str,
        new_path: &str,
    ) -> TreeResult<Entry> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        touch_project(&mut tx, project_id, now).await?;
        let Some(entry) = entry_in(&mut tx, project_id, entry_id).await? else {
            return Err(StoreError::NotFound);
        };
        if entry.path == new_path {
            return Ok(Ok(entry));
        }
        let old_prefix = format!("{}/", entry.path);
        if entry.is_folder() && new_path.starts_with(&old_prefix) {
            return Ok(Err(TreeRefusal::IntoItself));
        }
        let mut known = std::collections::HashSet::new();
        if let Err(refusal) =
            ensure_folders(&mut tx, project_id, new_path, false, &mut known, now).await?
        {
            return Ok(Err(refusal));
        }
        if exists(&mut tx, project_id, new_path).await? {
            return Ok(Err(TreeRefusal::PathTaken(new_path.to_owned())));
        }
        sqlx::query("UPDATE project_entries SET path = $1, updated_at = $2 WHERE id = $3")
            .bind(new_path)
            .bind(now)
            .bind(&entry.id)
            .execute(&mut *tx)
            .await?;
        if entry.is_folder() {
            // Children are renamed one by one rather than with a string expression, which
            // the two databases spell differently. The prefix is compared exactly: LIKE
            // would be case-insensitive on SQLite (`SRC/` is not inside `src`).
            let children: Vec<(String, String)> = sqlx::query_as(
                "SELECT id, path FROM project_entries WHERE project_id = $1 \
                 AND substr(path, 1, $2) = $3",
            )
            .bind(project_id)
            .bind(old_prefix.chars().count() as i32)
            .bind(&old_prefix)
            .fetch_all(&mut *tx)
            .await?;
            for (id, path) in children {
                let moved = format!("{new_path}/{}", &path[old_prefix.len()..]);
                sqlx::query("UPDATE project_entries SET path = $1, updated_at = $2 WHERE id = $3")
                    .bind(moved)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Ok(self
            .find_entry(project_id, entry_id)
            .await?
            .ok_or(StoreError::NotFound)?))
    }

    /// Deletes an entry; a folder goes with everything inside it. Returns how many
    /// entries went.
    pub async fn delete_entry(&self, project_id: &str, entry_id: &str) -> Result<u64, StoreError> {
        let now = now_millis();
        let (_write, mut tx) = self.begin_write().await?;
        touch_project(&mut tx, project_id, now).await?;
        let Some(entry) = entry_in(&mut tx, project_id, entry_id).await? else {
            return Err(StoreError::NotFound);
        };
        // The folder's contents by exact prefix (LIKE is case-insensitive on SQLite).
        let prefix = format!("{}/", entry.path);
        let deleted = sqlx::query(
            "DELETE FROM project_entries WHERE project_id = $1 \
             AND (id = $2 OR ($3 = 'folder' AND substr(path, 1, $4) = $5))",
        )
        .bind(project_id)
        .bind(&entry.id)
        .bind(&entry.kind)
        .bind(prefix.chars().count() as i32)
        .bind(&prefix)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }

    /// A file's revisions, newest first, with their authors' emails.
    pub async fn list_revisions(&self, entry_id: &str) -> Result<Vec<RevisionMeta>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.revision, r.size, r.author_id, u.email AS author_email, r.created_at, r.note \
             FROM file_revisions r LEFT JOIN users u ON u.id = r.author_id \
             WHERE r.entry_id = $1 ORDER BY r.revision DESC",
        )
        .bind(entry_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn read_revision(
        &self,
        entry_id: &str,
        revision: i64,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT content FROM file_revisions WHERE entry_id = $1 AND revision = $2",
        )
        .bind(entry_id)
        .bind(revision)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(content,)| content))
    }

    /// Copies an old revision's content into a new revision. Returns `None` when the
    /// revision does not exist.
    pub async fn restore_revision(
        &self,
        project_id: &str,
        entry_id: &str,
        revision: i64,
        author_id: &str,
        limits: ProjectLimits,
    ) -> TreeResult<Option<Entry>> {
        let Some(content) = self.read_revision(entry_id, revision).await? else {
            return Ok(Ok(None));
        };
        let Some(entry) = self.find_entry(project_id, entry_id).await? else {
            return Ok(Ok(None));
        };
        // Restoring is itself a save on top of whatever is current now.
        Ok(self
            .save_file(
                project_id,
                entry_id,
                &content,
                entry.current_revision,
                &format!("Restored revision {revision}"),
                author_id,
                limits,
            )
            .await?
            .map(Some))
    }
}

pub(crate) async fn touch_project(
    tx: &mut Transaction<'static, Any>,
    project_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let touched = sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(project_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// `(entries, bytes)` of a project.
pub(crate) async fn usage(
    tx: &mut Transaction<'static, Any>,
    project_id: &str,
) -> Result<(i64, i64), StoreError> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM project_entries WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_one(&mut **tx)
    .await?)
}

async fn entry_in(
    tx: &mut Transaction<'static, Any>,
    project_id: &str,
    entry_id: &str,
) -> Result<Option<Entry>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ENTRY_COLUMNS} FROM project_entries WHERE project_id = $1 AND id = $2"
    ))
    .bind(project_id)
    .bind(entry_id)
    .fetch_optional(&mut **tx)
    .await?)
}

async fn exists(
    tx: &mut Transaction<'static, Any>,
    project_id: &str,
    path: &str,
) -> Result<bool, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT kind FROM project_entries WHERE project_id = $1 AND path = $2")
            .bind(project_id)
            .bind(path)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.is_some())
}

/// Makes sure every folder above `path` exists (and `path` itself when `include_self`),
/// refusing when one of them is a file. `known` remembers folders already checked in this
/// transaction.
pub(crate) async fn ensure_folders(
    tx: &mut Transaction<'static, Any>,
    project_id: &str,
    path: &str,
    include_self: bool,
    known: &mut std::collections::HashSet<String>,
    now: i64,
) -> Result<Result<(), TreeRefusal>, StoreError> {
    let folders = ancestors(path).chain(include_self.then_some(path));
    for folder in folders {
        if known.contains(folder) {
            continue;
        }
        let kind: Option<(String,)> =
            sqlx::query_as("SELECT kind FROM project_entries WHERE project_id = $1 AND path = $2")
                .bind(project_id)
                .bind(folder)
                .fetch_optional(&mut **tx)
                .await?;
        match kind.as_ref().map(|(k,)| k.as_str()) {
            Some("folder") => {}
            Some(_) => return Ok(Err(TreeRefusal::ParentIsFile(folder.to_owned()))),
            None => {
                sqlx::query(
                    "INSERT INTO project_entries (id, project_id, path, kind, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'folder', $4, $4)",
                )
                .bind(new_id())
                .bind(project_id)
                .bind(folder)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
        }
        known.insert(folder.to_owned());
    }
    Ok(Ok(()))
}

pub(crate) async fn insert_file(
    tx: &mut Transaction<'static, Any>,
    project_id: &str,
    path: &str,
    content: &str,
    note: &str,
    author_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let id = new_id();
    let size = content.len() as i64;
    sqlx::query(
        "INSERT INTO project_entries (id, project_id, path, kind, size, current_revision, created_at, updated_at) \
         VALUES ($1, $2, $3, 'file', $4, 1, $5, $5)",
    )
    .bind(&id)
    .bind(project_id)
    .bind(path)
    .bind(size)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_revision(tx, &id, 1, content, note, author_id, now).await
}

async fn insert_revision(
    tx: &mut Transaction<'static, Any>,
    entry_id: &str,
    revision: i64,
    content: &str,
    note: &str,
    author_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO file_revisions (entry_id, revision, content, size, author_id, created_at, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entry_id)
    .bind(revision)
    .bind(content)
    .bind(content.len() as i64)
    .bind(author_id)
    .bind(now)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves the entry to a new revision holding `content`, if it is still at the revision
/// read. Returns whether it moved.
pub(crate) async fn new_revision(
    tx: &mut Transaction<'static, Any>,
    entry: &Entry,
    content: &str,
    note: &str,
    author_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let next = entry.current_revision + 1;
    let moved = sqlx::query(
        "UPDATE project_entries SET current_revision = $1, size = $2, updated_at = $3 \
         WHERE id = $4 AND current_revision = $5",
    )
    .bind(next)
    .bind(content.len() as i64)
    .bind(now)
    .bind(&entry.id)
    .bind(entry.current_revision)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Ok(false);
    }
    insert_revision(tx, &entry.id, next, content, note, author_id, now).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::{ancestors, like_pattern};

    #[test]
    fn ancestors_are_listed_outermost_first() {
        assert_eq!(ancestors("a/b/c.rs").collect::<Vec<_>>(), ["a", "a/b"]);
        assert!(ancestors("top.rs").next().is_none());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_A"), "%50\\%\\_a%");
    }
}
