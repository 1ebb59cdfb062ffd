//! `/api/v1/projects`: projects, their files and folders, revisions, zip import and
//! export, and code analysis.

use super::{ApiResult, Signed, bad_body, bad_query, respond};
use crate::AppState;
use aura_app::error::AppError;
use aura_app::projects::language_of;
use aura_projects::ProjectInput;
use aura_store::{Entry, FileContent, Project};
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Largest zip upload accepted; what it unpacks to is capped separately.
const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route(
            "/projects/import",
            post(import).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/projects/{id}", get(show).patch(update).delete(remove))
        .route("/projects/{id}/export", get(export))
        .route("/projects/{id}/analyze", post(analyze))
        .route("/projects/{id}/files", get(tree).post(create_entry))
        .route(
            "/projects/{id}/files/{entry}",
            get(read_file)
                .put(save_file)
                .patch(move_entry)
                .delete(delete_entry),
        )
        .route("/projects/{id}/files/{entry}/revisions", get(revisions))
        .route(
            "/projects/{id}/files/{entry}/revisions/{revision}",
            get(revision),
        )
        .route(
            "/projects/{id}/files/{entry}/revisions/{revision}/restore",
            post(restore),
        )
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
}

#[derive(Debug, Serialize)]
pub struct EntryView {
    id: String,
    path: String,
    kind: String,
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

#[derive(Debug, Serialize)]
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

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

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
    Ok(respond(StatusCode::OK, page))
}

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
    Ok(respond(StatusCode::CREATED, project))
}

async fn show(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
) -> ApiResult {
    let project: Project = state
        .services
        .projects
        .get(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, project))
}

async fn update(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
    body: Result<Json<ProjectBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let project = state
        .services
        .projects
        .update(&principal, &id, &body.into())
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, project))
}

async fn remove(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
) -> ApiResult {
    state
        .services
        .projects
        .delete(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, json!({ "deleted": id })))
}

async fn tree(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
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

#[derive(Debug, Deserialize)]
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

async fn create_entry(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
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

async fn read_file(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path((id, entry)): Path<(String, String)>,
) -> ApiResult {
    let file = state
        .services
        .projects
        .read_file(&principal, &id, &entry)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, FileView::from(file)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveBody {
    content: String,
    /// The revision the client edited.
    base_revision: i64,
}

async fn save_file(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path((id, entry)): Path<(String, String)>,
    body: Result<Json<SaveBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let saved = state
        .services
        .projects
        .save_file(&principal, &id, &entry, &body.content, body.base_revision)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, EntryView::from(saved)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    path: String,
}

async fn move_entry(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path((id, entry)): Path<(String, String)>,
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

async fn delete_entry(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path((id, entry)): Path<(String, String)>,
) -> ApiResult {
    let count = state
        .services
        .projects
        .delete_entry(&principal, &id, &entry)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, json!({ "deleted": count })))
}

async fn revisions(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path((id, entry)): Path<(String, String)>,
) -> ApiResult {
    let list = state
        .services
        .projects
        .revisions(&principal, &id, &entry)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, list))
}

async fn revision(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path((id, entry, revision)): Path<(String, String, i64)>,
) -> ApiResult {
    let content = state
        .services
        .projects
        .revision(&principal, &id, &entry, revision)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        json!({ "revision": revision, "content": content }),
    ))
}

async fn restore(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path((id, entry, revision)): Path<(String, String, i64)>,
) -> ApiResult {
    let restored = state
        .services
        .projects
        .restore(&principal, &id, &entry, revision)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, EntryView::from(restored)))
}

#[derive(Debug, Deserialize)]
struct ImportQuery {
    name: String,
    slug: Option<String>,
    #[serde(default)]
    description: String,
}

/// The body is the zip archive itself (`Content-Type: application/zip`); name, slug and
/// description come in the query string.
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
    Ok(respond(StatusCode::CREATED, imported))
}

async fn export(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
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

async fn analyze(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
) -> ApiResult {
    let results = state
        .services
        .projects
        .analyze_project(&principal, &id)
        .await
        .map_err(AppError::from)?;
    let files: Vec<_> = results
        .into_iter()
        .map(|r| {
            json!({
                "entry_id": r.entry_id,
                "path": r.path,
                "language": r.analysis.language,
                "findings": r.analysis.findings,
                "functions": r.analysis.functions,
            })
        })
        .collect();
    Ok(respond(StatusCode::OK, json!({ "files": files })))
}
