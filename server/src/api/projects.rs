//! `/api/v1/projects`: projects, their files and folders, revisions, zip import and
//! export, and code analysis.

use super::{ApiPath, ApiResult, Data, Deleted, Signed, bad_body, bad_query, respond};
use crate::AppState;
use aura_app::error::AppError;
use aura_app::projects::language_of;
use aura_app::server::ErrorBody;
use aura_projects::ProjectInput;
use aura_store::{Entry, FileContent, Project};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest zip upload accepted; what it unpacks to is capped separately.
const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    let (schemas, paths, import_route) = routes!(import);
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes((
            schemas,
            paths,
            import_route.layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        ))
        .routes(routes!(show, update, remove))
        .routes(routes!(export))
        .routes(routes!(analyze))
        .routes(routes!(tree, create_entry))
        .routes(routes!(read_file, save_file, move_entry, delete_entry))
        .routes(routes!(revisions))
        .routes(routes!(revision))
        .routes(routes!(restore))
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
}

/// A project.
#[derive(Debug, Serialize, ToSchema)]
struct ProjectView {
    id: String,
    owner_id: String,
    name: String,
    slug: String,
    description: String,
    created_at: i64,
    updated_at: i64,
}

impl From<Project> for ProjectView {
    fn from(p: Project) -> Self {
        ProjectView {
            id: p.id,
            owner_id: p.owner_id,
            name: p.name,
            slug: p.slug,
            description: p.description,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A page of projects; `next_cursor` fetches the next one.
#[derive(Debug, Serialize, ToSchema)]
struct ProjectPageView {
    items: Vec<ProjectView>,
    next_cursor: Option<String>,
}

/// One saved revision of a file.
#[derive(Debug, Serialize, ToSchema)]
struct RevisionView {
    revision: i64,
    size: i64,
    author_id: Option<String>,
    author_email: Option<String>,
    created_at: i64,
    /// Where the revision came from ("AI: Fix …", "Restored revision 3"); empty for a
    /// plain save.
    note: String,
}

/// A revision's content.
#[derive(Debug, Serialize, ToSchema)]
struct RevisionContent {
    revision: i64,
    content: String,
}

/// The outcome of a zip import.
#[derive(Debug, Serialize, ToSchema)]
struct ImportedView {
    project: ProjectView,
    files: usize,
    /// Files left out because they are not text.
    skipped: Vec<String>,
}

/// How many entries a delete removed (a folder takes its contents along).
#[derive(Debug, Serialize, ToSchema)]
struct DeletedCount {
    deleted: u64,
}

/// Findings and function metrics per analysed file.
#[derive(Debug, Serialize, ToSchema)]
struct AnalysisView {
    files: Vec<FileAnalysisView>,
}

#[derive(Debug, Serialize, ToSchema)]
struct FileAnalysisView {
    entry_id: String,
    path: String,
    language: String,
    /// `[{rule, severity, message, line, column, end_line, end_column}]`
    #[schema(value_type = Vec<Object>)]
    findings: serde_json::Value,
    /// `[{name, line, end_line, lines, complexity, parameters, nesting}]`
    #[schema(value_type = Vec<Object>)]
    functions: serde_json::Value,
}

/// A file or folder of a project.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    id: String,
    path: String,
    /// `file` or `folder`.
    kind: String,
    /// The editor language, for files of a known kind.
    #[schema(value_type = Option<String>)]
    language: Option<&'static str>,
    size: i64,
    revision: i64,
    updated_at: i64,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> Self {
        EntryView {
            language: (!e.is_folder()).then(|| language_of(&e.path)),
            id: e.id,
            path: e.path,
            kind: e.kind,
            size: e.size,
            revision: e.current_revision,
            updated_at: e.updated_at,
        }
    }
}

/// A file with its content.
#[derive(Debug, Serialize, ToSchema)]
struct FileView {
    #[serde(flatten)]
    entry: EntryView,
    content: String,
}

impl From<FileContent> for FileView {
    fn from(f: FileContent) -> Self {
        FileView {
            entry: EntryView::from(f.entry),
            content: f.content,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProjectBody {
    name: String,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    description: String,
}

impl From<ProjectBody> for ProjectInput {
    fn from(b: ProjectBody) -> Self {
        ProjectInput {
            name: b.name,
            slug: b.slug,
            description: b.description,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// Your projects, newest first, searched in name, slug and description.
#[utoipa::path(get, operation_id = "projects.list", path = "/projects", tag = "projects", params(ListQuery),
    responses((status = 200, description = "A page of projects", body = Data<ProjectPageView>),
        (status = 422, description = "A bad limit or cursor", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    Signed(principal): Signed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(bad_query)?;
    let page = state
        .services
        .projects
        .list(
            &principal,
            query.q.as_deref(),
            query.cursor.as_deref(),
            query.limit,
        )
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        ProjectPageView {
            items: page.items.into_iter().map(ProjectView::from).collect(),
            next_cursor: page.next_cursor,
        },
    ))
}

/// Creates a project; the slug comes from the name when absent.
#[utoipa::path(post, operation_id = "projects.create", path = "/projects", tag = "projects", request_body = ProjectBody,
    responses((status = 201, description = "Created", body = Data<ProjectView>),
        (status = 422, description = "A bad or taken name or slug", body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    Signed(principal): Signed,
    body: Result<Json<ProjectBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let project = state
        .services
        .projects
        .create(&principal, &body.into())
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::CREATED, ProjectView::from(project)))
}

/// One project.
#[utoipa::path(get, operation_id = "projects.show", path = "/projects/{id}", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, description = "The project", body = Data<ProjectView>),
        (status = 404, description = "No such project of yours", body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let project: Project = state
        .services
        .projects
        .get(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, ProjectView::from(project)))
}

/// Renames a project.
#[utoipa::path(patch, operation_id = "projects.update", path = "/projects/{id}", tag = "projects", params(("id" = String, Path)), request_body = ProjectBody,
    responses((status = 200, description = "Renamed", body = Data<ProjectView>),
        (status = 404, description = "No such project of yours", body = ErrorBody),
        (status = 422, description = "A bad or taken name or slug", body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<ProjectBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let project = state
        .services
        .projects
        .update(&principal, &id, &body.into())
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, ProjectView::from(project)))
}

/// Deletes a project with all its files and revisions.
#[utoipa::path(delete, operation_id = "projects.remove", path = "/projects/{id}", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Data<Deleted>),
        (status = 404, description = "No such project of yours", body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state
        .services
        .projects
        .delete(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, Deleted { deleted: id }))
}

/// Every file and folder of the project.
#[utoipa::path(get, operation_id = "projects.tree", path = "/projects/{id}/files", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, description = "The tree", body = Data<Vec<EntryView>>),
        (status = 404, description = "No such project of yours", body = ErrorBody)))]
async fn tree(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let entries = state
        .services
        .projects
        .tree(&principal, &id)
        .await
        .map_err(AppError::from)?;
    let views: Vec<EntryView> = entries.into_iter().map(EntryView::from).collect();
    Ok(respond(StatusCode::OK, views))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewEntryBody {
    path: String,
    #[serde(default = "file_kind")]
    kind: String,
    #[serde(default)]
    content: String,
}

fn file_kind() -> String {
    "file".into()
}

/// Creates a file (`kind: file`, with `content`) or a folder; missing parents are created.
#[utoipa::path(post, operation_id = "projects.create_entry", path = "/projects/{id}/files", tag = "projects", params(("id" = String, Path)), request_body = NewEntryBody,
    responses((status = 201, description = "Created", body = Data<EntryView>),
        (status = 404, description = "No such project of yours", body = ErrorBody),
        (status = 422, description = "A bad or taken path, or content over the cap", body = ErrorBody)))]
async fn create_entry(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<NewEntryBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let content = match body.kind.as_str() {
        "file" => Some(body.content.as_str()),
        "folder" if body.content.is_empty() => None,
        "folder" => {
            return Err(AppError::invalid("content", "Folders have no content."));
        }
        _ => return Err(AppError::invalid("kind", "Use `file` or `folder`.")),
    };
    let entry = state
        .services
        .projects
        .create_entry(&principal, &id, &body.path, content)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::CREATED, EntryView::from(entry)))
}

/// A file with its content and current revision.
#[utoipa::path(get, operation_id = "projects.read_file", path = "/projects/{id}/files/{entry}", tag = "projects", params(("id" = String, Path), ("entry" = String, Path)),
    responses((status = 200, description = "The file", body = Data<FileView>),
        (status = 404, description = "No such file", body = ErrorBody)))]
async fn read_file(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, entry)): ApiPath<(String, String)>,
) -> ApiResult {
    let file = state
        .services
        .projects
        .read_file(&principal, &id, &entry)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, FileView::from(file)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SaveBody {
    content: String,
    /// The revision the client edited.
    base_revision: i64,
    /// Where the text came from, kept with the revision (one line, at most 200
    /// characters); e.g. "AI: Fix".
    #[serde(default)]
    note: Option<String>,
}

/// Saves `content` on top of `base_revision`; a stale base is a 409 carrying what is saved now.
#[utoipa::path(put, operation_id = "projects.save_file", path = "/projects/{id}/files/{entry}", tag = "projects", params(("id" = String, Path), ("entry" = String, Path)), request_body = SaveBody,
    responses((status = 200, description = "Saved as a new revision", body = Data<EntryView>),
        (status = 404, description = "No such file", body = ErrorBody),
        (status = 409, description = "`stale_revision`: `details.current` is the file as saved now", body = ErrorBody),
        (status = 422, description = "Content over the cap, or a bad note", body = ErrorBody)))]
async fn save_file(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, entry)): ApiPath<(String, String)>,
    body: Result<Json<SaveBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let saved = state
        .services
        .projects
        .save_file(
            &principal,
            &id,
            &entry,
            &body.content,
            body.base_revision,
            body.note.as_deref().unwrap_or_default(),
        )
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, EntryView::from(saved)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    path: String,
}

/// Renames or moves a file, or a folder with its contents.
#[utoipa::path(patch, operation_id = "projects.move_entry", path = "/projects/{id}/files/{entry}", tag = "projects", params(("id" = String, Path), ("entry" = String, Path)), request_body = MoveBody,
    responses((status = 200, description = "Moved", body = Data<EntryView>),
        (status = 404, description = "No such entry", body = ErrorBody),
        (status = 422, description = "A bad or taken path", body = ErrorBody)))]
async fn move_entry(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, entry)): ApiPath<(String, String)>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let moved = state
        .services
        .projects
        .move_entry(&principal, &id, &entry, &body.path)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, EntryView::from(moved)))
}

/// Deletes a file, or a folder with everything in it.
#[utoipa::path(delete, operation_id = "projects.delete_entry", path = "/projects/{id}/files/{entry}", tag = "projects", params(("id" = String, Path), ("entry" = String, Path)),
    responses((status = 200, description = "Deleted", body = Data<DeletedCount>),
        (status = 404, description = "No such entry", body = ErrorBody)))]
async fn delete_entry(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, entry)): ApiPath<(String, String)>,
) -> ApiResult {
    let count = state
        .services
        .projects
        .delete_entry(&principal, &id, &entry)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, DeletedCount { deleted: count }))
}

/// A file's revisions, newest first.
#[utoipa::path(get, operation_id = "projects.revisions", path = "/projects/{id}/files/{entry}/revisions", tag = "projects", params(("id" = String, Path), ("entry" = String, Path)),
    responses((status = 200, description = "The revisions", body = Data<Vec<RevisionView>>),
        (status = 404, description = "No such file", body = ErrorBody)))]
async fn revisions(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, entry)): ApiPath<(String, String)>,
) -> ApiResult {
    let list = state
        .services
        .projects
        .revisions(&principal, &id, &entry)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        list.into_iter()
            .map(|r| RevisionView {
                revision: r.revision,
                size: r.size,
                author_id: r.author_id,
                author_email: r.author_email,
                created_at: r.created_at,
                note: r.note,
            })
            .collect::<Vec<_>>(),
    ))
}

/// One revision's content.
#[utoipa::path(get, operation_id = "projects.revision", path = "/projects/{id}/files/{entry}/revisions/{revision}", tag = "projects",
    params(("id" = String, Path), ("entry" = String, Path), ("revision" = i64, Path)),
    responses((status = 200, description = "The revision", body = Data<RevisionContent>),
        (status = 404, description = "No such revision", body = ErrorBody)))]
async fn revision(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, entry, revision)): ApiPath<(String, String, i64)>,
) -> ApiResult {
    let content = state
        .services
        .projects
        .revision(&principal, &id, &entry, revision)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        RevisionContent { revision, content },
    ))
}

/// Makes an old revision current again, as a new revision.
#[utoipa::path(post, operation_id = "projects.restore", path = "/projects/{id}/files/{entry}/revisions/{revision}/restore", tag = "projects",
    params(("id" = String, Path), ("entry" = String, Path), ("revision" = i64, Path)),
    responses((status = 200, description = "Restored", body = Data<EntryView>),
        (status = 404, description = "No such revision", body = ErrorBody)))]
async fn restore(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, entry, revision)): ApiPath<(String, String, i64)>,
) -> ApiResult {
    let restored = state
        .services
        .projects
        .restore(&principal, &id, &entry, revision)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, EntryView::from(restored)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    name: String,
    slug: Option<String>,
    #[serde(default)]
    description: String,
}

/// The body is the zip archive itself (`Content-Type: application/zip`); name, slug and
/// description come in the query string.
/// Imports a zip archive (the request body, up to 32 MiB) as a new project.
#[utoipa::path(post, operation_id = "projects.import", path = "/projects/import", tag = "projects", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/zip", description = "The zip archive"),
    responses((status = 201, description = "Imported", body = Data<ImportedView>),
        (status = 422, description = "Not a zip, unsafe paths, over the caps, or a bad name", body = ErrorBody)))]
async fn import(
    State(state): State<AppState>,
    Signed(principal): Signed,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Bytes,
) -> ApiResult {
    let Query(query) = query.map_err(bad_query)?;
    if body.is_empty() {
        return Err(AppError::invalid(
            "file",
            "Upload a zip archive as the request body.",
        ));
    }
    let input = ProjectInput {
        name: query.name,
        slug: query.slug,
        description: query.description,
    };
    let imported = state
        .services
        .projects
        .import_zip(&principal, &input, &body)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::CREATED,
        ImportedView {
            project: ProjectView::from(imported.project),
            files: imported.files,
            skipped: imported.skipped,
        },
    ))
}

/// The project as a zip archive.
#[utoipa::path(get, operation_id = "projects.export", path = "/projects/{id}/export", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, description = "The zip archive", content_type = "application/zip", body = Vec<u8>),
        (status = 404, description = "No such project of yours", body = ErrorBody)))]
async fn export(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let (slug, bytes) = state
        .services
        .projects
        .export_zip(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{slug}.zip\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Findings and function metrics for every file in a supported language.
#[utoipa::path(post, operation_id = "projects.analyze", path = "/projects/{id}/analyze", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, description = "The analysis", body = Data<AnalysisView>),
        (status = 404, description = "No such project of yours", body = ErrorBody)))]
async fn analyze(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let results = state
        .services
        .projects
        .analyze_project(&principal, &id)
        .await
        .map_err(AppError::from)?;
    let files = results
        .into_iter()
        .map(|r| FileAnalysisView {
            entry_id: r.entry_id,
            path: r.path,
            language: serde_json::to_value(r.analysis.language)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            findings: serde_json::to_value(r.analysis.findings).unwrap_or_default(),
            functions: serde_json::to_value(r.analysis.functions).unwrap_or_default(),
        })
        .collect();
    Ok(respond(StatusCode::OK, AnalysisView { files }))
}
