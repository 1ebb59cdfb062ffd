//! `/api/v1/me`: who the caller is and what its credential may do. `aura login` calls it
//! to check a key before saving it.

use super::{ApiResult, Data, Signed, respond};
use aura_store::Credential;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<crate::AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
struct MeView {
    id: String,
    email: String,
    display_name: String,
    /// `admin` or `member`.
    role: String,
    /// `session` or `api_key`.
    credential: String,
    /// The API key's id, for a key.
    key_id: Option<String>,
    /// What the credential may do: a key's scopes, or all of them for a session.
    scopes: Vec<String>,
}

/// The signed-in user and the credential's scopes.
#[utoipa::path(get, operation_id = "me.show", path = "/me", tag = "me",
    responses((status = 200, description = "The caller", body = Data<MeView>)))]
async fn me(Signed(principal): Signed) -> ApiResult {
    let (credential, key_id, scopes) = match &principal.credential {
        Credential::Session => (
            "session",
            None,
            aura_store::Scope::ALL
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        Credential::ApiKey { key_id, scopes } => (
            "api_key",
            Some(key_id.clone()),
            scopes.iter().map(|s| s.to_string()).collect(),
        ),
        // Never reached: a webhook's principal only exists inside its delivery.
        Credential::Trigger { .. } => ("trigger", None, vec!["run".to_owned()]),
    };
    let user = principal.user;
    Ok(respond(
        StatusCode::OK,
        MeView {
            role: if user.role == aura_store::Role::Admin {
                "admin".into()
            } else {
                "member".into()
            },
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            credential: credential.into(),
            key_id,
            scopes,
        },
    ))
}
