//! REST API v1: JSON in, `{data, meta}` or `{error: {code, message, details}, meta}` out.
//!
//! Handlers are thin: they read the caller (resolved by middleware from the session),
//! call one service method and map the result. Errors are the edge's one [`AppError`]:
//! domain errors convert to it in `aura_app::server`, and it answers with the envelope.

mod assist;
mod me;
mod models;
mod notifications;
mod projects;
mod reference;
mod runs;
mod schedules;
mod secrets;
mod webhooks;
mod workflows;

pub use runs::EventStreams;

use crate::AppState;
use aura_app::error::AppError;
use aura_app::server::{ErrorBody, Meta};
use aura_store::{Principal, Scope};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::rejection::JsonRejection;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, Ref};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

/// The REST routes, mounted under `/api/v1`, and the OpenAPI document generated from
/// their handlers' annotations and types (every route is registered through
/// `utoipa_axum::routes!`, so none can be missing from the document).
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            workflows::routes()
                .merge(runs::routes())
                .merge(projects::routes())
                .merge(assist::routes())
                .merge(me::routes())
                .merge(models::routes())
                .merge(secrets::routes())
                .merge(webhooks::routes())
                .merge(schedules::routes())
                .merge(notifications::routes()),
        )
        .split_for_parts();
    // Each operation lists the errors every route can answer.
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            for (status, description) in ERRORS {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(*description)
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            )
                            .into()
                    });
            }
        }
    }
    let json = std::sync::Arc::new(doc.to_json().unwrap_or_default());
    let page = std::sync::Arc::new(reference::render(
        &serde_json::from_str(&json).unwrap_or_default(),
    ));
    let router = router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    json.as_str().to_owned(),
                )
            }),
        )
        .route(
            "/api/v1/reference",
            axum::routing::get(
                move || async move { axum::response::Html(page.as_str().to_owned()) },
            ),
        );
    (router, doc)
}

/// Errors any route may answer, with the `ErrorBody` envelope.
const ERRORS: &[(u16, &str)] = &[
    (
        400,
        "The body or query is not what the route takes (`bad_request`).",
    ),
    (
        401,
        "Not signed in, or the API key is unknown, revoked or expired (`unauthenticated`).",
    ),
    (
        403,
        "The API key lacks the scope, or a cross-site browser request (`forbidden`).",
    ),
    (
        429,
        "Too many requests of this kind (`throttled`); see `Retry-After`.",
    ),
    (500, "A bug; quote the request id (`internal`)."),
    (
        503,
        "The database is out of reach (`unavailable`); see `Retry-After`.",
    ),
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Aura REST API",
        version = "1",
        description = "Workflows, runs and projects. Authenticate with an API key from /settings (`Authorization: Bearer aura_…`) or a browser session. Every answer is `{data, meta}` or `{error, meta}`."
    ),
    components(schemas(ErrorBody, Meta)),
    modifiers(&Security),
    security(("api_key" = []), ("session" = [])),
    tags(
        (name = "workflows", description = "Workflows and their versions"),
        (name = "runs", description = "Runs, their steps and live events"),
        (name = "projects", description = "Projects, files, revisions, zip import and export, analysis"),
        (name = "me", description = "The caller and its credential"),
        (name = "models", description = "Model providers and aliases (administrators, `admin` scope)"),
        (name = "secrets", description = "Your workflow secrets: names only, values never come back"),
        (name = "notifications", description = "Your in-app notices and their unread count, live"),
        (name = "schedules", description = "Schedules: cron in a time zone, or every N minutes or hours, starting runs of a workflow"),
        (name = "webhooks", description = "Webhook triggers: URLs that start runs of a workflow (deliveries go to /hooks/{token}, outside this API)")
    )
)]
struct ApiDoc;

/// The two ways to authenticate.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("aura_…")
                    .description(Some("An API key made on /settings, limited to its scopes."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("aura_session"))),
        );
    }
}

/// A successful answer: `{"data": …, "meta": {"request_id": …}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Data<T> {
    pub data: T,
    pub meta: Meta,
}

/// One server-sent event as a `text/event-stream` answer carries it: its name, its data
/// (JSON text) and, where the stream can be resumed, its id.
#[derive(Serialize, ToSchema)]
pub(crate) struct SseEvent {
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

/// `{"deleted": id}`
#[derive(Serialize, ToSchema)]
pub(crate) struct Deleted {
    pub deleted: String,
}

type ApiResult = Result<Response, AppError>;

/// A successful answer: `{"data": …, "meta": {"request_id": …}}`. Errors answer through
/// [`AppError`]'s `IntoResponse`, the same type server functions return.
fn respond<T: Serialize>(status: StatusCode, data: T) -> Response {
    let body = Data {
        data,
        meta: Meta {
            request_id: aura_app::server::request_id(),
        },
    };
    (status, axum::Json(body)).into_response()
}

/// The caller of a REST request (the middleware put the [`Principal`] in the request),
/// holding the scope the route needs. Without a principal: 401; with an API key that
/// lacks the scope: 403 naming it. Both in the error envelope.
struct Signed(Principal);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(AppError::unauthenticated)?;
        let scope = required_scope(&parts.method, parts.uri.path());
        if !principal.allows(scope) {
            return Err(AppError::Forbidden {
                message: format!("This API key lacks the `{scope}` scope this request needs."),
            });
        }
        Ok(Signed(principal))
    }
}

/// The scope a REST request needs: model providers and aliases are `admin`; reading is
/// `read`; starting, cancelling and resuming runs, and deciding approvals, is `run`; analysing changes nothing and
/// is `read`; every other change is `write`.
/// (Paths are relative to `/api/v1`, as the nested router sees them.)
fn required_scope(method: &Method, path: &str) -> Scope {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    // Model providers hold keys and cost money: administrators only, even to read.
    if path == "/models" || path.starts_with("/models/") {
        return Scope::Admin;
    }
    if matches!(*method, Method::GET | Method::HEAD) {
        return Scope::Read;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["workflows", _, "runs"]
        | ["runs", _, "cancel" | "resume"]
        | ["runs", _, "steps", _, "decision"] => Scope::Run,
        ["projects", _, "analyze"] | ["schedules", "preview"] => Scope::Read,
        // An AI action changes nothing, but it is a paid model call, like a run.
        ["projects", _, "files", _, "assist"] => Scope::Run,
        _ => Scope::Write,
    }
}

/// Path parameters. A value that does not parse (an id past `i64`) is a 400 in the error
/// envelope; axum's own rejection would answer in plain text.
pub(crate) struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|rejection| AppError::BadRequest {
                message: rejection.body_text(),
            })
    }
}

/// A body that is not the JSON we expect.
fn bad_body(rejection: JsonRejection) -> AppError {
    AppError::BadRequest {
        message: format!("The request body is not valid: {}", rejection.body_text()),
    }
}

/// A query string that is not what the route expects.
fn bad_query(rejection: axum::extract::rejection::QueryRejection) -> AppError {
    AppError::BadRequest {
        message: rejection.body_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_needs_its_scope() {
        for (method, path, scope) in [
            (Method::GET, "/workflows", Scope::Read),
            (Method::GET, "/api/v1/runs/r1/events", Scope::Read),
            (Method::POST, "/workflows", Scope::Write),
            (Method::PUT, "/workflows/w1", Scope::Write),
            (Method::DELETE, "/projects/p1/files/e1", Scope::Write),
            (Method::POST, "/workflows/w1/runs", Scope::Run),
            (Method::POST, "/api/v1/runs/r1/cancel", Scope::Run),
            (Method::POST, "/runs/r1/resume", Scope::Run),
            (Method::POST, "/runs/r1/steps/review/decision", Scope::Run),
            (Method::POST, "/projects/p1/analyze", Scope::Read),
            (Method::POST, "/projects/p1/files/e1/assist", Scope::Run),
            (Method::POST, "/projects/import", Scope::Write),
            (Method::GET, "/models/providers", Scope::Admin),
            (Method::POST, "/api/v1/models/test", Scope::Admin),
            (Method::PUT, "/models/aliases/fast", Scope::Admin),
            (Method::GET, "/modelsx", Scope::Read),
        ] {
            assert_eq!(required_scope(&method, path), scope, "{method} {path}");
        }
    }
}
