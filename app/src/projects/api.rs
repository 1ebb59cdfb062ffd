//! Server functions for the projects pages and the editor. Each reads the caller and
//! calls one method of the projects service.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectPageView {
    pub items: Vec<ProjectRow>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRow {
    pub id: String,
    pub path: String,
    pub is_folder: bool,
    pub revision: i64,
}

impl EntryRow {
    /// The last component of the path.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// How deep in the tree the entry sits (0 at the root).
    pub fn depth(&self) -> usize {
        self.path.matches('/').count()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeView {
    pub project: ProjectRow,
    pub entries: Vec<EntryRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileView {
    pub id: String,
    pub path: String,
    pub revision: i64,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisionRow {
    pub revision: i64,
    pub author: String,
    pub saved: String,
    pub size: i64,
    pub note: String,
}

/// One finding, positioned for Monaco (1-based lines and columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub rule: String,
    pub severity: String,
    pub message: String,
    pub hint: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[cfg(feature = "ssr")]
mod glue {
    use super::*;
    use crate::server::{format_millis, services};

    pub fn projects() -> aura_projects::Projects {
        services().projects
    }

    pub fn project_row(p: aura_store::Project) -> ProjectRow {
        ProjectRow {
            created: format_millis(p.created_at),
            id: p.id,
            name: p.name,
            slug: p.slug,
            description: p.description,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<aura_store::FileContent> for FileView {
    fn from(f: aura_store::FileContent) -> Self {
        FileView {
            id: f.entry.id,
            path: f.entry.path,
            revision: f.entry.current_revision,
            content: f.content,
        }
    }
}

#[server(prefix = "/api", endpoint = "projects/list")]
pub async fn list_projects(
    q: Option<String>,
    cursor: Option<String>,
) -> Result<ProjectPageView, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let page = glue::projects()
            .list(&actor, q.as_deref(), cursor.as_deref(), Some(20))
            .await?;
        Ok(ProjectPageView {
            items: page.items.into_iter().map(glue::project_row).collect(),
            next_cursor: page.next_cursor,
        })
    })
    .await
}

/// Creates a project and answers with its id.
#[server(prefix = "/api", endpoint = "projects/create")]
pub async fn create_project(name: String, description: String) -> Result<String, AppError> {
    use crate::server::{redirect_plain_form, respond};
    respond(async move {
        let actor = crate::server::principal()?;
        let input = aura_projects::ProjectInput {
            name,
            slug: None,
            description,
        };
        let project = glue::projects().create(&actor, &input).await?;
        redirect_plain_form(&format!("/projects/{}", project.id));
        Ok(project.id)
    })
    .await
}

/// Renames a project (the slug stays) and replaces its description.
#[server(prefix = "/api", endpoint = "projects/rename")]
pub async fn rename_project(id: String, name: String, description: String) -> Result<(), AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let input = aura_projects::ProjectInput {
            name,
            slug: None,
            description,
        };
        glue::projects().update(&actor, &id, &input).await?;
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "projects/delete")]
pub async fn delete_project(id: String) -> Result<(), AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        Ok(glue::projects().delete(&actor, &id).await?)
    })
    .await
}

#[server(prefix = "/api", endpoint = "projects/tree")]
pub async fn project_tree(id: String) -> Result<TreeView, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let projects = glue::projects();
        let project = projects.get(&actor, &id).await?;
        let entries = projects.tree(&actor, &id).await?;
        Ok(TreeView {
            project: glue::project_row(project),
            entries: entries
                .into_iter()
                .map(|e| EntryRow {
                    is_folder: e.is_folder(),
                    id: e.id,
                    path: e.path,
                    revision: e.current_revision,
                })
                .collect(),
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "projects/file")]
pub async fn read_file(project: String, entry: String) -> Result<FileView, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let file = glue::projects().read_file(&actor, &project, &entry).await?;
        Ok(FileView::from(file))
    })
    .await
}

/// Saves `content` on top of `base_revision`, the revision the editor loaded; answers with
/// the new revision. When someone saved first, the error is `StaleRevision` carrying what
/// they saved (a [`FileView`]), so the user can choose. `note` is kept with the revision
/// (empty, or absent, for a plain save; "AI: Fix …" when the text came from an AI action).
#[server(prefix = "/api", endpoint = "projects/save")]
pub async fn save_file(
    project: String,
    entry: String,
    content: String,
    base_revision: i64,
    #[server(default)] note: String,
) -> Result<i64, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let saved = glue::projects()
            .save_file(&actor, &project, &entry, &content, base_revision, &note)
            .await?;
        Ok(saved.current_revision)
    })
    .await
}

/// Creates an empty file or a folder; answers with the new entry's id.
#[server(prefix = "/api", endpoint = "projects/create-entry")]
pub async fn create_entry(project: String, path: String, folder: bool) -> Result<String, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let content = (!folder).then_some("");
        let entry = glue::projects()
            .create_entry(&actor, &project, &path, content)
            .await?;
        Ok(entry.id)
    })
    .await
}

#[server(prefix = "/api", endpoint = "projects/move-entry")]
pub async fn move_entry(project: String, entry: String, path: String) -> Result<String, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let moved = glue::projects()
            .move_entry(&actor, &project, &entry, &path)
            .await?;
        Ok(moved.path)
    })
    .await
}

#[server(prefix = "/api", endpoint = "projects/delete-entry")]
pub async fn delete_entry(project: String, entry: String) -> Result<u64, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        Ok(glue::projects()
            .delete_entry(&actor, &project, &entry)
            .await?)
    })
    .await
}

#[server(prefix = "/api", endpoint = "projects/revisions")]
pub async fn list_revisions(project: String, entry: String) -> Result<Vec<RevisionRow>, AppError> {
    use crate::server::{format_millis, respond};
    respond(async move {
        let actor = crate::server::principal()?;
        let revisions = glue::projects().revisions(&actor, &project, &entry).await?;
        Ok(revisions
            .into_iter()
            .map(|r| RevisionRow {
                revision: r.revision,
                author: r.author_email.unwrap_or_else(|| "deleted user".into()),
                saved: format_millis(r.created_at),
                size: r.size,
                note: r.note,
            })
            .collect())
    })
    .await
}

/// The content of one revision and of the current one, for a diff.
#[server(prefix = "/api", endpoint = "projects/revision")]
pub async fn read_revision(
    project: String,
    entry: String,
    revision: i64,
) -> Result<(String, FileView), AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let projects = glue::projects();
        let old = projects
            .revision(&actor, &project, &entry, revision)
            .await?;
        let current = projects.read_file(&actor, &project, &entry).await?;
        Ok((old, FileView::from(current)))
    })
    .await
}

/// Makes `revision` current again (as a new revision); answers with the file as it is now.
#[server(prefix = "/api", endpoint = "projects/restore")]
pub async fn restore_revision(
    project: String,
    entry: String,
    revision: i64,
) -> Result<FileView, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let projects = glue::projects();
        projects.restore(&actor, &project, &entry, revision).await?;
        Ok(FileView::from(
            projects.read_file(&actor, &project, &entry).await?,
        ))
    })
    .await
}

/// Analyses the editor's text for one file of the project (unsaved text included).
#[server(prefix = "/api", endpoint = "projects/analyze-file")]
pub async fn analyze_file(
    project: String,
    path: String,
    content: String,
) -> Result<Vec<Problem>, AppError> {
    use crate::server::respond;
    respond(async move {
        let actor = crate::server::principal()?;
        let analysis = glue::projects()
            .analyze_source(&actor, &project, &path, content)
            .await?;
        Ok(analysis
            .map(|a| {
                a.findings
                    .into_iter()
                    .map(|f| Problem {
                        rule: f.rule.to_owned(),
                        severity: match f.severity {
                            aura_analysis::Severity::Error => "error",
                            aura_analysis::Severity::Warning => "warning",
                            aura_analysis::Severity::Info => "info",
                        }
                        .to_owned(),
                        message: f.message,
                        hint: f.hint.to_owned(),
                        line: f.line,
                        column: f.column,
                        end_line: f.end_line,
                        end_column: f.end_column,
                    })
                    .collect()
            })
            .unwrap_or_default())
    })
    .await
}
