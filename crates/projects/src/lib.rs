//! The projects service: projects, their file trees, revisions with optimistic
//! concurrency, zip import and export, and code analysis of their files.
//!
//! Every input is validated here (names, slugs, paths, sizes) before the store sees it;
//! the store enforces the caps again inside its transactions, where concurrent writers
//! cannot slip past them.

pub mod archive;
pub mod paths;

mod assist;

pub use assist::{Action, AssistError, AssistRequest, Assisted, Selection};

use archive::{ImportLimits, human_bytes};
use aura_analysis::{Analysis, Language};
use aura_store::{
    AuditAction, Entry, FileContent, NewAuditEvent, NewFile, Outcome, Principal, Project,
    ProjectDraft, ProjectFilter, ProjectLimits, RevisionMeta, Store, StoreError, TreeRefusal,
};
use serde::Serialize;

/// One problem with the input, tied to the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("the input is not valid")]
    Invalid(Vec<FieldProblem>),
    /// Absent or someone else's: deliberately indistinguishable.
    #[error("not found")]
    NotFound,
    /// A name that must be unique is taken (a slug, a path).
    #[error("{message}")]
    Taken { field: String, message: String },
    /// The file changed since the editor loaded it; `current` is what is saved now.
    #[error("the file was changed since it was opened")]
    StaleRevision { current: Box<FileContent> },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ProjectError {
    fn field(field: &str, message: impl Into<String>) -> Self {
        ProjectError::Invalid(vec![FieldProblem {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

/// The longest note a revision keeps.
pub const MAX_NOTE_CHARS: usize = 200;

/// A revision note is one short line of text.
fn check_note(note: &str) -> Result<(), ProjectError> {
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(ProjectError::field(
            "note",
            format!("A note holds at most {MAX_NOTE_CHARS} characters."),
        ));
    }
    if note.chars().any(char::is_control) {
        return Err(ProjectError::field(
            "note",
            "A note is one line of text, without control characters.",
        ));
    }
    Ok(())
}

impl From<StoreError> for ProjectError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ProjectError::NotFound,
            StoreError::Conflict(c) if c == "projects_owner_slug_key" => ProjectError::Taken {
                field: "slug".into(),
                message: "You already have a project with this slug.".into(),
            },
            StoreError::Conflict(c) if c == "project_entries_path_key" => ProjectError::Taken {
                field: "path".into(),
                message: "Something else in the project already has this path.".into(),
            },
            other => ProjectError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// Size and count caps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: i64,
    pub max_project_bytes: i64,
    pub max_entries: i64,
    /// Entries an imported archive may hold.
    pub max_archive_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 1024 * 1024,
            max_project_bytes: 20 * 1024 * 1024,
            max_entries: 5_000,
            max_archive_entries: 2_000,
        }
    }
}

/// Name, description and (optionally) slug as the user typed them.
#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    pub name: String,
    /// Derived from the name when absent (on create) or kept (on update).
    pub slug: Option<String>,
    pub description: String,
}

/// A page of projects and the cursor of the next one.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectPage {
    pub items: Vec<Project>,
    pub next_cursor: Option<String>,
}

/// The outcome of a zip import.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub project: Project,
    pub files: usize,
    /// Files left out because they are not text.
    pub skipped: Vec<String>,
}

/// Findings for one file of a project.
#[derive(Debug, Clone, Serialize)]
pub struct FileAnalysis {
    pub entry_id: String,
    pub path: String,
    pub analysis: Analysis,
}

const MAX_NAME: usize = 120;
const MAX_SLUG: usize = 64;
const MAX_DESCRIPTION: usize = 2_000;
pub const MAX_PAGE: i64 = 100;

/// `My Project!` → `my-project`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let mut cut: String = slug.chars().take(MAX_SLUG - 4).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    if cut.is_empty() {
        "project".into()
    } else {
        cut
    }
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Checks name, slug and description; the slug is returned as given (or `None`).
fn check_input(input: &ProjectInput) -> Result<(String, Option<String>, String), ProjectError> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: &str| {
        problems.push(FieldProblem {
            field: field.into(),
            message: message.into(),
        })
    };
    let name = input.name.trim();
    if name.is_empty() {
        problem("name", "Give the project a name.");
    } else if name.chars().count() > MAX_NAME {
        problem("name", "Use at most 120 characters.");
    }
    let slug = input
        .slug
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(slug) = slug
        && !valid_slug(slug)
    {
        problem(
            "slug",
            "Use lowercase letters, digits and single hyphens, at most 64 characters.",
        );
    }
    if input.description.chars().count() > MAX_DESCRIPTION {
        problem("description", "Use at most 2,000 characters.");
    }
    if !problems.is_empty() {
        return Err(ProjectError::Invalid(problems));
    }
    Ok((
        name.to_owned(),
        slug.map(str::to_owned),
        input.description.trim().to_owned(),
    ))
}

fn encode_cursor(project: &Project) -> String {
    format!("{}_{}", project.created_at, project.id)
}

fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let (at, id) = cursor.split_once('_')?;
    Some((at.parse().ok()?, id.to_owned()))
}

/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Projects {
    store: Store,
    limits: Limits,
}

impl Projects {
    pub fn new(store: Store, limits: Limits) -> Self {
        Self { store, limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn store_limits(&self) -> ProjectLimits {
        ProjectLimits {
            max_project_bytes: self.limits.max_project_bytes,
            max_entries: self.limits.max_entries,
        }
    }

    async fn audit(&self, actor: &Principal, action: AuditAction, detail: serde_json::Value) {
        let event = NewAuditEvent {
            actor_id: Some(actor.user.id.clone()),
            actor_email: Some(actor.user.email.clone()),
            action: action.as_str().to_owned(),
            outcome: Some(Outcome::Success),
            ip: Some(actor.origin.ip.clone()),
            user_agent: actor.origin.user_agent.clone(),
            detail: Some(detail),
        };
        if let Err(err) = self.store.record_audit(&event).await {
            tracing::error!(error = ?err, action = action.as_str(), "could not record an audit event");
        }
    }

    /// Creates a project. Without a slug one is derived from the name, made unique among
    /// the owner's projects by a numeric suffix.
    pub async fn create(
        &self,
        actor: &Principal,
        input: &ProjectInput,
    ) -> Result<Project, ProjectError> {
        let (name, slug, description) = check_input(input)?;
        let project = self
            .create_with_slug(name, slug, description, |store, draft| async move {
                store.create_project(actor.user_id(), &draft).await.map(Ok)
            })
            .await?;
        self.audit(
            actor,
            AuditAction::ProjectCreate,
            serde_json::json!({ "project_id": project.id, "slug": project.slug }),
        )
        .await;
        Ok(project)
    }

    /// Tries `write` with the given slug, or with the derived slug and then `-2`, `-3`, …
    /// while the derived one is taken.
    async fn create_with_slug<F, Fut>(
        &self,
        name: String,
        slug: Option<String>,
        description: String,
        write: F,
    ) -> Result<Project, ProjectError>
    where
        F: Fn(Store, ProjectDraft) -> Fut,
        Fut: Future<Output = Result<Result<Project, TreeRefusal>, StoreError>>,
    {
        let explicit = slug.is_some();
        let base = slug.unwrap_or_else(|| slugify(&name));
        for attempt in 1..=50 {
            let slug = if attempt == 1 {
                base.clone()
            } else {
                format!("{base}-{attempt}")
            };
            let draft = ProjectDraft {
                name: name.clone(),
                slug,
                description: description.clone(),
            };
            match write(self.store.clone(), draft).await {
                Ok(Ok(project)) => return Ok(project),
                Ok(Err(refusal)) => return Err(self.refusal(refusal)),
                Err(StoreError::Conflict(c)) if c == "projects_owner_slug_key" && !explicit => {}
                Err(err) => return Err(err.into()),
            }
        }
        Err(ProjectError::Taken {
            field: "slug".into(),
            message: "Choose a slug; the one derived from the name is taken.".into(),
        })
    }

    pub async fn list(
        &self,
        actor: &Principal,
        query: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<ProjectPage, ProjectError> {
        let before = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                ProjectError::field("cursor", "This cursor is not one Aura handed out.")
            })?),
            None => None,
        };
        let limit = limit.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ProjectError::field("limit", "Use a number from 1 to 100."));
        }
        let query = query.map(str::trim).filter(|q| !q.is_empty());
        if query.is_some_and(|q| q.chars().count() > 200) {
            return Err(ProjectError::field("q", "Use at most 200 characters."));
        }
        let mut items = self
            .store
            .list_projects(
                actor.user_id(),
                &ProjectFilter {
                    query: query.map(str::to_owned),
                    before,
                    limit: limit + 1,
                },
            )
            .await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(encode_cursor)
        } else {
            None
        };
        Ok(ProjectPage { items, next_cursor })
    }

    pub async fn get(&self, actor: &Principal, id: &str) -> Result<Project, ProjectError> {
        self.store
            .find_project(actor.user_id(), id)
            .await?
            .ok_or(ProjectError::NotFound)
    }

    /// Renames a project or changes its slug or description.
    pub async fn update(
        &self,
        actor: &Principal,
        id: &str,
        input: &ProjectInput,
    ) -> Result<Project, ProjectError> {
        let (name, slug, description) = check_input(input)?;
        let current = self.get(actor, id).await?;
        let draft = ProjectDraft {
            name,
            slug: slug.unwrap_or(current.slug),
            description,
        };
        Ok(self
            .store
            .update_project(actor.user_id(), id, &draft)
            .await?)
    }

    pub async fn delete(&self, actor: &Principal, id: &str) -> Result<(), ProjectError> {
        let project = self.get(actor, id).await?;
        self.store.delete_project(actor.user_id(), id).await?;
        self.audit(
            actor,
            AuditAction::ProjectDelete,
            serde_json::json!({ "project_id": id, "slug": project.slug }),
        )
        .await;
        Ok(())
    }

    /// The project's entries, sorted by path.
    pub async fn tree(&self, actor: &Principal, id: &str) -> Result<Vec<Entry>, ProjectError> {
        self.get(actor, id).await?;
        Ok(self.store.list_entries(id).await?)
    }

    fn refusal(&self, refusal: TreeRefusal) -> ProjectError {
        match refusal {
            TreeRefusal::ProjectTooLarge { used, adding } => ProjectError::field(
                "content",
                format!(
                    "The project would grow past its {} limit ({} used, this adds {}).",
                    human_bytes(self.limits.max_project_bytes as u64),
                    human_bytes(used.max(0) as u64),
                    human_bytes(adding.max(0) as u64),
                ),
            ),
            TreeRefusal::TooManyEntries => ProjectError::field(
                "path",
                format!(
                    "A project holds at most {} files and folders.",
                    self.limits.max_entries
                ),
            ),
            TreeRefusal::ParentIsFile(parent) => {
                ProjectError::field("path", format!("`{parent}` is a file, not a folder."))
            }
            TreeRefusal::PathTaken(path) => ProjectError::Taken {
                field: "path".into(),
                message: format!("`{path}` already exists in this project."),
            },
            TreeRefusal::IntoItself => {
                ProjectError::field("path", "A folder cannot move inside itself.")
            }
            TreeRefusal::StaleRevision => ProjectError::Taken {
                field: "base_revision".into(),
                message: "The file changed since it was opened.".into(),
            },
        }
    }

    fn check_content(&self, content: &str) -> Result<(), ProjectError> {
        if content.len() as i64 > self.limits.max_file_bytes {
            return Err(ProjectError::field(
                "content",
                format!(
                    "A file can hold at most {}; this is {}.",
                    human_bytes(self.limits.max_file_bytes as u64),
                    human_bytes(content.len() as u64)
                ),
            ));
        }
        Ok(())
    }

    /// Creates a file with `content`, or a folder when `content` is `None`. Missing
    /// folders above it are created too.
    pub async fn create_entry(
        &self,
        actor: &Principal,
        project_id: &str,
        path: &str,
        content: Option<&str>,
    ) -> Result<Entry, ProjectError> {
        self.get(actor, project_id).await?;
        let path = paths::normalize(path).map_err(|m| ProjectError::field("path", m))?;
        if let Some(content) = content {
            self.check_content(content)?;
        }
        self.store
            .create_entry(
                project_id,
                &path,
                content,
                actor.user_id(),
                self.store_limits(),
            )
            .await?
            .map_err(|r| self.refusal(r))
    }

    pub async fn read_file(
        &self,
        actor: &Principal,
        project_id: &str,
        entry_id: &str,
    ) -> Result<FileContent, ProjectError> {
        self.get(actor, project_id).await?;
        self.store
            .read_file(project_id, entry_id)
            .await?
            .ok_or(ProjectError::NotFound)
    }

    /// Saves `content` as a new revision, if `base_revision` (the revision the editor
    /// loaded) is still current; otherwise `StaleRevision` with what is saved now. `note`
    /// says where the text came from ("AI: Fix …"); empty for a plain save.
    pub async fn save_file(
        &self,
        actor: &Principal,
        project_id: &str,
        entry_id: &str,
        content: &str,
        base_revision: i64,
        note: &str,
    ) -> Result<Entry, ProjectError> {
        self.get(actor, project_id).await?;
        self.check_content(content)?;
        check_note(note)?;
        let saved = self
            .store
            .save_file(
                project_id,
                entry_id,
                content,
                base_revision,
                note.trim(),
                actor.user_id(),
                self.store_limits(),
            )
            .await?;
        match saved {
            Ok(entry) => Ok(entry),
            Err(TreeRefusal::StaleRevision) => {
                let current = self
                    .store
                    .read_file(project_id, entry_id)
                    .await?
                    .ok_or(ProjectError::NotFound)?;
                Err(ProjectError::StaleRevision {
                    current: Box::new(current),
                })
            }
            Err(refusal) => Err(self.refusal(refusal)),
        }
    }

    /// Renames or moves a file or folder.
    pub async fn move_entry(
        &self,
        actor: &Principal,
        project_id: &str,
        entry_id: &str,
        new_path: &str,
    ) -> Result<Entry, ProjectError> {
        self.get(actor, project_id).await?;
        let path = paths::normalize(new_path).map_err(|m| ProjectError::field("path", m))?;
        self.store
            .move_entry(project_id, entry_id, &path)
            .await?
            .map_err(|r| self.refusal(r))
    }

    /// Deletes a file, or a folder with everything in it; returns how many entries went.
    pub async fn delete_entry(
        &self,
        actor: &Principal,
        project_id: &str,
        entry_id: &str,
    ) -> Result<u64, ProjectError> {
        self.get(actor, project_id).await?;
        Ok(self.store.delete_entry(project_id, entry_id).await?)
    }

    async fn file_entry(
        &self,
        actor: &Principal,
        project_id: &str,
        entry_id: &str,
    ) -> Result<Entry, ProjectError> {
        self.get(actor, project_id).await?;
        match self.store.find_entry(project_id, entry_id).await? {
            Some(entry) if !entry.is_folder() => Ok(entry),
            _ => Err(ProjectError::NotFound),
        }
    }

    pub async fn revisions(
        &self,
        actor: &Principal,
        project_id: &str,
        entry_id: &str,
    ) -> Result<Vec<RevisionMeta>, ProjectError> {
        let entry = self.file_entry(actor, project_id, entry_id).await?;
        Ok(self.store.list_revisions(&entry.id).await?)
    }

    pub async fn revision(
        &self,
        actor: &Principal,
        project_id: &str,
        entry_id: &str,
        revision: i64,
    ) -> Result<String, ProjectError> {
        let entry = self.file_entry(actor, project_id, entry_id).await?;
        self.store
            .read_revision(&entry.id, revision)
            .await?
            .ok_or(ProjectError::NotFound)
    }

    /// Makes an old revision's content current again, as a new revision.
    pub async fn restore(
        &self,
        actor: &Principal,
        project_id: &str,
        entry_id: &str,
        revision: i64,
    ) -> Result<Entry, ProjectError> {
        self.file_entry(actor, project_id, entry_id).await?;
        self.store
            .restore_revision(
                project_id,
                entry_id,
                revision,
                actor.user_id(),
                self.store_limits(),
            )
            .await?
            .map_err(|r| self.refusal(r))?
            .ok_or(ProjectError::NotFound)
    }

    /// Creates a project from a zip archive, all of it or nothing.
    pub async fn import_zip(
        &self,
        actor: &Principal,
        input: &ProjectInput,
        bytes: &[u8],
    ) -> Result<Imported, ProjectError> {
        let (name, slug, description) = check_input(input)?;
        let limits = ImportLimits {
            max_entries: self.limits.max_archive_entries,
            max_file_bytes: self.limits.max_file_bytes as u64,
            max_total_bytes: self.limits.max_project_bytes as u64,
        };
        let owned = bytes.to_vec();
        let unpacked = tokio::task::spawn_blocking(move || archive::unpack(&owned, limits))
            .await
            .map_err(anyhow::Error::new)?
            .map_err(|refusal| {
                let message = match &refusal.entry {
                    Some(entry) => format!("`{entry}`: {}", refusal.message),
                    None => refusal.message,
                };
                ProjectError::field("file", message)
            })?;
        let files: Vec<NewFile> = unpacked
            .files
            .into_iter()
            .map(|(path, content)| NewFile { path, content })
            .collect();
        let folders = unpacked.folders;
        let project = self
            .create_with_slug(name, slug, description, |store, draft| {
                let (folders, files) = (&folders, &files);
                async move {
                    store
                        .create_project_with_files(actor.user_id(), &draft, folders, files)
                        .await
                }
            })
            .await?;
        self.audit(
            actor,
            AuditAction::ProjectImport,
            serde_json::json!({
                "project_id": project.id,
                "files": files.len(),
                "skipped": unpacked.skipped.len(),
            }),
        )
        .await;
        Ok(Imported {
            project,
            files: files.len(),
            skipped: unpacked.skipped,
        })
    }

    /// The project as a zip archive, with its slug for the file name.
    pub async fn export_zip(
        &self,
        actor: &Principal,
        project_id: &str,
    ) -> Result<(String, Vec<u8>), ProjectError> {
        let project = self.get(actor, project_id).await?;
        let entries = self.store.list_entries(project_id).await?;
        let files = self.store.read_all_files(project_id).await?;
        // Only empty folders need their own entry; the others are implied by file paths.
        let folders: Vec<String> = entries
            .iter()
            .filter(|e| e.is_folder())
            .filter(|f| {
                let prefix = format!("{}/", f.path);
                !entries.iter().any(|e| e.path.starts_with(&prefix))
            })
            .map(|f| f.path.clone())
            .collect();
        let files: Vec<(String, String)> = files
            .into_iter()
            .map(|f| (f.entry.path, f.content))
            .collect();
        let count = files.len();
        let bytes = tokio::task::spawn_blocking(move || archive::pack(&folders, &files))
            .await
            .map_err(anyhow::Error::new)??;
        self.audit(
            actor,
            AuditAction::ProjectExport,
            serde_json::json!({ "project_id": project.id, "files": count }),
        )
        .await;
        Ok((project.slug, bytes))
    }

    /// Analyses every file of the project in a language Aura understands.
    pub async fn analyze_project(
        &self,
        actor: &Principal,
        project_id: &str,
    ) -> Result<Vec<FileAnalysis>, ProjectError> {
        self.get(actor, project_id).await?;
        let files = self.store.read_all_files(project_id).await?;
        let results = tokio::task::spawn_blocking(move || {
            files
                .into_iter()
                .filter_map(|f| {
                    let language = Language::from_path(&f.entry.path)?;
                    Some(FileAnalysis {
                        analysis: aura_analysis::analyze(language, &f.content),
                        entry_id: f.entry.id,
                        path: f.entry.path,
                    })
                })
                .collect()
        })
        .await
        .map_err(anyhow::Error::new)?;
        Ok(results)
    }

    /// Analyses unsaved text of one of the project's files (the editor's buffer). `None`
    /// when the file's language is not one Aura analyses.
    pub async fn analyze_source(
        &self,
        actor: &Principal,
        project_id: &str,
        path: &str,
        content: String,
    ) -> Result<Option<Analysis>, ProjectError> {
        self.get(actor, project_id).await?;
        self.check_content(&content)?;
        let Some(language) = Language::from_path(path) else {
            return Ok(None);
        };
        let analysis =
            tokio::task::spawn_blocking(move || aura_analysis::analyze(language, &content))
                .await
                .map_err(anyhow::Error::new)?;
        Ok(Some(analysis))
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_cursor, slugify, valid_slug};

    #[test]
    fn slugs_are_derived_from_names() {
        assert_eq!(slugify("My  Project!"), "my-project");
        assert_eq!(slugify("Ünïcode & more"), "n-code-more");
        assert_eq!(slugify("!!!"), "project");
        assert!(slugify(&"long name ".repeat(20)).len() <= 60);
        assert!(valid_slug(&slugify(&"long name ".repeat(20))));
    }

    #[test]
    fn slugs_are_checked() {
        assert!(valid_slug("api-v2"));
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", &"a".repeat(65)] {
            assert!(!valid_slug(bad), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor("12_abc"), Some((12, "abc".into())));
        assert_eq!(decode_cursor("x_abc"), None);
        assert_eq!(decode_cursor("nope"), None);
    }
}
