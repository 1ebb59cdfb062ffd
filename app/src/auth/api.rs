//! Server functions for accounts. Each reads the caller, calls one `Accounts` method and
//! maps the result; see `crate::server` for the shared plumbing.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::server::{
    SESSION_SIGNED_IN_AT, SESSION_USER_ID, current_principal, origin, principal,
    redirect_plain_form, respond, services, session,
};

/// The signed-in user as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
}

#[cfg(feature = "ssr")]
impl From<aura_store::User> for CurrentUser {
    fn from(user: aura_store::User) -> Self {
        CurrentUser {
            is_admin: user.role == aura_store::Role::Admin,
            id: user.id,
            email: user.email,
            display_name: user.display_name,
        }
    }
}

#[server(prefix = "/api", endpoint = "auth/me")]
pub async fn fetch_current_user() -> Result<Option<CurrentUser>, AppError> {
    Ok(current_principal().map(|p| CurrentUser::from(p.user)))
}

#[server(prefix = "/api", endpoint = "auth/signup_open")]
pub async fn signup_open() -> Result<bool, AppError> {
    respond(async { Ok(services().accounts.signup_open().await?) }).await
}

/// Starts a fresh session for `user`: a new session id (so a planted id is useless) and
/// the sign-in time that bounds the session's absolute lifetime.
#[cfg(feature = "ssr")]
async fn start_session(user: &aura_store::User) -> Result<(), AppError> {
    let session = session().await?;
    session.cycle_id().await?;
    session.insert(SESSION_USER_ID, &user.id).await?;
    session
        .insert(SESSION_SIGNED_IN_AT, aura_store::now_millis())
        .await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "auth/sign_up")]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
) -> Result<String, AppError> {
    respond(async move {
        let input = aura_auth::SignUp {
            email,
            display_name,
            password,
        };
        let user = services().accounts.sign_up(input, &origin()).await?;
        start_session(&user).await?;
        redirect_plain_form("/");
        Ok("/".to_owned())
    })
    .await
}

/// Returns the same-site path to land on.
#[server(prefix = "/api", endpoint = "auth/sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    respond(async move {
        let user = services()
            .accounts
            .sign_in(&email, &password, &origin())
            .await?;
        start_session(&user).await?;
        let next = super::safe_next(next.as_deref());
        redirect_plain_form(&next);
        Ok(next)
    })
    .await
}

#[server(prefix = "/api", endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<String, AppError> {
    respond(async move {
        let (accounts, signed_in) = (services().accounts, current_principal());
        let session = session().await?;
        // Deletes the server-side record, so the old cookie is worthless even if kept.
        session.flush().await?;
        if let Some(principal) = signed_in {
            accounts.record_sign_out(&principal).await?;
        }
        redirect_plain_form("/login");
        Ok("/login".to_owned())
    })
    .await
}

#[server(prefix = "/api", endpoint = "profile/display_name")]
pub async fn update_display_name(display_name: String) -> Result<CurrentUser, AppError> {
    respond(async move {
        let principal = principal()?;
        let updated = services()
            .accounts
            .update_display_name(&principal, &display_name)
            .await?;
        Ok(updated.into())
    })
    .await
}

/// Changes the password and ends every other session; returns how many were ended.
#[server(prefix = "/api", endpoint = "profile/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<u64, AppError> {
    respond(async move {
        let principal = principal()?;
        let keep = session().await?.id().map(|id| id.to_string());
        let ended = services()
            .accounts
            .change_password(
                &principal,
                &current_password,
                &new_password,
                keep.as_deref(),
            )
            .await?;
        Ok(ended)
    })
    .await
}
