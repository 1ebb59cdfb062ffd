//! Errors of the accounts service.

use std::collections::BTreeMap;

/// Messages per form field, e.g. `email → "This email is already registered."`.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid input")]
    Validation(FieldErrors),
    /// Wrong password or unknown email: deliberately the same error for both.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Unknown, revoked or expired: deliberately the same error for all three.
    #[error("invalid API key")]
    InvalidApiKey,
    #[error("too many attempts; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("sign-up is closed")]
    SignUpClosed,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AuthError {
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        AuthError::Validation(FieldErrors::from([(name.to_owned(), message.into())]))
    }
}

impl From<aura_store::StoreError> for AuthError {
    fn from(err: aura_store::StoreError) -> Self {
        match err {
            aura_store::StoreError::NotFound => AuthError::NotFound,
            other => AuthError::Unexpected(anyhow::Error::new(other)),
        }
    }
}
