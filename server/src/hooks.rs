//! `/hooks/{token}`: webhook deliveries. Outside the session, CSRF and API-key middleware:
//! the URL (and, when the trigger asks for one, the signature) is the credential, so a
//! cookie-less cross-origin POST is exactly what is expected here. Every other route keeps
//! the same-origin rule.
//!
//! The handler reads the caller → one service call → the answer: 202 with the run id,
//! or in sync mode the chosen step's output (200) or the failed run (502); errors are the
//! edge's `AppError` in its envelope.

use crate::AppState;
use aura_app::error::AppError;
use aura_triggers::{Delivered, Delivery};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/hooks/{token}", any(deliver))
}

async fn deliver(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let origin = crate::middleware::origin_of(&request, &state.config);
    aura_app::server::REQUEST_ID
        .scope(origin.request_id.clone(), async move {
            let mut response = match handle(&state, &token, origin, request).await {
                Ok(response) => response,
                Err(err) => err.into_response(),
            };
            // A sync answer is the workflow's text: never let a browser treat it as a page
            // of this origin.
            let headers = response.headers_mut();
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
            response
        })
        .await
}

async fn handle(
    state: &AppState,
    token: &str,
    origin: aura_store::Origin,
    request: Request,
) -> Result<Response, AppError> {
    let webhooks = &state.services.webhooks;
    let method = request.method().as_str().to_owned();
    let armed = webhooks.arm(token, &method).await?;
    let (parts, body) = request.into_parts();
    let limit = armed.max_body_bytes;
    let too_large = || aura_triggers::WebhookError::TooLarge((limit / 1024) as u32);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large().into());
    }
    // Read while counting: a body without a length (chunked) stops at the limit too.
    let body = axum::body::to_bytes(Body::new(body), limit)
        .await
        .map_err(|_| too_large())?;
    let delivery = Delivery {
        method,
        headers: headers(&parts.headers),
        query: parts.uri.query().map(str::to_owned),
        body: body.to_vec(),
        origin,
    };
    Ok(match webhooks.deliver(armed, delivery).await? {
        Delivered::Queued { run_id } => (
            StatusCode::ACCEPTED,
            [("x-aura-run-id", run_id.clone())],
            axum::Json(json!({ "run_id": run_id, "status": "queued" })),
        )
            .into_response(),
        Delivered::Finished {
            run_id,
            status: aura_store::RunStatus::Succeeded,
            output,
            ..
        } => {
            let run_header = [("x-aura-run-id", run_id)];
            match output {
                // Text is answered as text (a chat command's reply, say); anything else
                // as JSON.
                Value::String(text) => (StatusCode::OK, run_header, text).into_response(),
                other => (StatusCode::OK, run_header, axum::Json(other)).into_response(),
            }
        }
        Delivered::Finished {
            run_id,
            status,
            error,
            ..
        } => (
            StatusCode::BAD_GATEWAY,
            [("x-aura-run-id", run_id.clone())],
            axum::Json(json!({ "run_id": run_id, "status": status, "error": error })),
        )
            .into_response(),
    })
}

/// Request headers with lowercase names, repeated ones joined with ", ", non-text values
/// left out.
fn headers(map: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in map {
        let Ok(value) = value.to_str() else { continue };
        match out.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            None => out.push((name.as_str().to_owned(), value.to_owned())),
        }
    }
    out
}
