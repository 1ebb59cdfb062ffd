//! Accounts and sign-in for Aura: the rules, not the transport.
//!
//! This crate owns the password policy, argon2id hashing, email normalisation, sign-in
//! throttling and the [`Accounts`] service that writes users and their audit events through
//! `aura-store`. It knows nothing about HTTP, cookies or Leptos: callers pass the
//! [`aura_store::Principal`] who acts (or, before sign-in, the request's
//! [`aura_store::Origin`]) and map [`AuthError`] to their own responses.

mod accounts;
mod api_keys;
mod email;
mod error;
pub mod password;
mod session_policy;
mod throttle;

pub use accounts::{Accounts, AccountsConfig, MAX_RETENTION_DAYS, Retained, SignUp};
pub use api_keys::{ApiKeys, CreatedKey, KEY_PREFIX, MAX_KEY_DAYS, hash as hash_api_key};
pub use email::normalise_email;
pub use error::{AuthError, FieldErrors};
pub use session_policy::SessionPolicy;
pub use throttle::{SignInThrottle, ThrottleLimits};
