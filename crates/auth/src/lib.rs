//! Accounts and sign-in for Aura: the rules, not the transport.
//!
//! This crate owns the password policy, argon2id hashing, email normalisation, sign-in
//! throttling and the [`Accounts`] service that writes users and their audit events through
//! `aura-store`. It knows nothing about HTTP, cookies or Leptos: callers pass a
//! [`RequestContext`] (IP, user agent) and map [`AuthError`] to their own responses.

mod accounts;
mod email;
mod error;
pub mod password;
mod session_policy;
mod throttle;

pub use accounts::{
    Accounts, AccountsConfig, DEFAULT_RUN_RETENTION_DAYS, MAX_RUN_RETENTION_DAYS,
    RUN_RETENTION_SETTING, RequestContext, SignUp, actions, run_retention_days,
};
pub use email::normalise_email;
pub use error::{AuthError, FieldErrors};
pub use session_policy::SessionPolicy;
pub use throttle::{SignInThrottle, ThrottleLimits};
