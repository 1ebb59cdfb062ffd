//! Who is calling, and from where: the one value every service takes to know its caller.
//!
//! The server's edge makes it once per request (from the session cookie, later from an
//! API key) and hands it to REST handlers and server functions alike; services read the
//! user's id and role from it for ownership and permission, and the origin for throttling
//! and the audit log.

use crate::users::{Role, User};
use aura_types::Scope;

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The client's address (the right-most untrusted `X-Forwarded-For` entry behind a
    /// trusted proxy).
    pub ip: String,
    pub user_agent: Option<String>,
    pub request_id: String,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The browser's session cookie: everything the user may do.
    Session,
    /// An API key (REST only), limited to its scopes.
    ApiKey { key_id: String, scopes: Vec<Scope> },
    /// A trigger (a webhook's URL and signature, or a schedule): it may start runs of its
    /// workflow only, acting for the trigger's owner.
    Trigger { trigger_id: String },
}

/// A signed-in caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    pub credential: Credential,
    pub origin: Origin,
}

impl Principal {
    /// A caller signed in with a session.
    pub fn session(user: User, origin: Origin) -> Self {
        Self {
            user,
            credential: Credential::Session,
            origin,
        }
    }

    pub fn user_id(&self) -> &str {
        &self.user.id
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// Whether the credential grants `scope`: a session grants every scope, a key only
    /// its own (and `admin` only while its user is an admin).
    pub fn allows(&self, scope: Scope) -> bool {
        match &self.credential {
            Credential::Session => true,
            Credential::ApiKey { scopes, .. } => {
                scopes.contains(&scope) && (scope != Scope::Admin || self.is_admin())
            }
            Credential::Trigger { .. } => scope == Scope::Run,
        }
    }
}
