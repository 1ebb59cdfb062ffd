//! The accounts service: sign-up, sign-in, profile, password change and instance settings
//! that govern accounts. Every security-relevant outcome is written to the audit log, in
//! the same transaction as the change it describes where there is one.

use crate::error::{AuthError, FieldErrors};
use crate::password;
use crate::throttle::{SignInThrottle, ThrottleLimits};
use aura_store::{
    AuditAction, AuditFilter, AuditPage, NewAuditEvent, NewUser, Origin, Outcome, Principal, Store,
    StoreError, User,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The setting that closes public sign-up once the first admin exists.
pub const SIGNUP_OPEN_SETTING: &str = "signup_open";
/// What the retention sweep deletes, each after its own number of days (instance
/// settings, changed by admins on /settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retained {
    /// Finished workflow runs, with their steps, events and logs.
    Runs,
    /// Audit events. A week at least: they are the evidence of what happened.
    Audit,
}

/// The longest anything is kept.
pub const MAX_RETENTION_DAYS: u32 = 3_650;

impl Retained {
    pub const ALL: [Retained; 2] = [Retained::Runs, Retained::Audit];

    /// The settings key, and the form value that names it.
    pub fn key(self) -> &'static str {
        match self {
            Retained::Runs => "run_retention_days",
            Retained::Audit => "audit_retention_days",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn default_days(self) -> u32 {
        match self {
            Retained::Runs => 30,
            Retained::Audit => 365,
        }
    }

    pub fn min_days(self) -> u32 {
        match self {
            Retained::Runs => 1,
            Retained::Audit => 7,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Retained::Runs => "runs",
            Retained::Audit => "audit events",
        }
    }

    /// The stored number of days, or the default when unset or out of range.
    pub fn days(self, stored: Option<&str>) -> u32 {
        stored
            .and_then(|s| s.parse().ok())
            .filter(|d| (self.min_days()..=MAX_RETENTION_DAYS).contains(d))
            .unwrap_or(self.default_days())
    }
}

/// Sign-up form input, as typed.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub email: String,
    pub display_name: String,
    pub password: String,
}

#[derive(Debug, Clone, Copy)]
pub struct AccountsConfig {
    pub account_limits: ThrottleLimits,
    pub ip_limits: ThrottleLimits,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            account_limits: ThrottleLimits {
                max_failures: 5,
                window: Duration::from_secs(15 * 60),
            },
            ip_limits: ThrottleLimits {
                max_failures: 50,
                window: Duration::from_secs(15 * 60),
            },
        }
    }
}

/// Cheap to clone; holds the store and the in-process throttle.
#[derive(Debug, Clone)]
pub struct Accounts {
    store: Store,
    throttle: Arc<SignInThrottle>,
}

const MAX_DISPLAY_NAME: usize = 80;

fn check_display_name(input: &str) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() {
        return Err("Enter a display name.".into());
    }
    if name.chars().count() > MAX_DISPLAY_NAME {
        return Err(format!("Use at most {MAX_DISPLAY_NAME} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("Display names cannot contain control characters.".into());
    }
    Ok(name.to_owned())
}

impl Accounts {
    pub fn new(store: Store, config: AccountsConfig) -> Self {
        // Compute the dummy hash now so the first unknown-email sign-in is not faster.
        let _ = password::dummy_hash();
        Self {
            store,
            throttle: Arc::new(SignInThrottle::new(config.account_limits, config.ip_limits)),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn event(&self, action: AuditAction, outcome: Outcome, origin: &Origin) -> NewAuditEvent {
        NewAuditEvent {
            action: action.as_str().to_owned(),
            outcome: Some(outcome),
            ip: Some(origin.ip.clone()),
            user_agent: origin.user_agent.clone(),
            ..NewAuditEvent::default()
        }
    }

    /// An event about something a signed-in caller did.
    fn event_by(&self, action: AuditAction, outcome: Outcome, by: &Principal) -> NewAuditEvent {
        NewAuditEvent {
            actor_id: Some(by.user.id.clone()),
            actor_email: Some(by.user.email.clone()),
            ..self.event(action, outcome, &by.origin)
        }
    }

    pub async fn signup_open(&self) -> Result<bool, AuthError> {
        Ok(self.store.setting(SIGNUP_OPEN_SETTING).await?.as_deref() != Some("false"))
    }

    pub async fn sign_up(&self, input: SignUp, origin: &Origin) -> Result<User, AuthError> {
        let mut errors = FieldErrors::new();
        let email = normalise_or_record(&input.email, &mut errors);
        match check_display_name(&input.display_name) {
            Ok(_) => {}
            Err(e) => {
                errors.insert("display_name".into(), e);
            }
        }
        if let Err(e) = password::check_policy(&input.password, email.as_deref().unwrap_or("")) {
            errors.insert("password".into(), e);
        }
        if !errors.is_empty() {
            return Err(AuthError::Validation(errors));
        }
        let email = email.unwrap_or_default();
        if !self.signup_open().await? {
            return Err(AuthError::SignUpClosed);
        }
        let password_hash = password::hash(input.password).await?;
        let new_user = NewUser {
            email: email.clone(),
            display_name: check_display_name(&input.display_name).unwrap_or_default(),
            password_hash,
        };
        let mut audit = self.event(AuditAction::SignUp, Outcome::Success, origin);
        audit.actor_email = Some(email);
        match self.store.create_user(&new_user, audit).await {
            Ok(user) => Ok(user),
            Err(StoreError::Conflict(c)) if c == "users_email_key" => Err(AuthError::field(
                "email",
                "An account with this email already exists. Sign in instead.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks credentials. Unknown emails are verified against a dummy hash so they take as
    /// long as a wrong password, and both give `InvalidCredentials`.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        origin: &Origin,
    ) -> Result<User, AuthError> {
        let email = email.trim().to_lowercase();
        let mut failure = self.event(AuditAction::SignIn, Outcome::Failure, origin);
        failure.actor_email = Some(email.clone());
        if let Err(refusal) = self.throttle.reserve(&email, &origin.ip, Instant::now()) {
            // One audit row when the throttle engages, not one per refused attempt: a
            // flood must not become a flood of writes.
            if refusal.first {
                failure.detail = Some(serde_json::json!({ "reason": "throttled" }));
                self.store.record_audit(&failure).await?;
            }
            let wait = refusal.wait;
            // Round up: telling a client to come back early only earns it another 429.
            let retry_after_secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            return Err(AuthError::Throttled { retry_after_secs });
        }
        let found = self.store.find_user_credentials(&email).await?;
        let (user, ok) = match found {
            Some((user, hash)) => {
                let ok = password::verify(password.to_owned(), hash).await?;
                (Some(user), ok)
            }
            None => {
                password::verify(password.to_owned(), password::dummy_hash().to_owned()).await?;
                (None, false)
            }
        };
        match user {
            Some(user) if ok => {
                self.throttle.record_success(&email, &origin.ip);
                let mut success = self.event(AuditAction::SignIn, Outcome::Success, origin);
                success.actor_id = Some(user.id.clone());
                success.actor_email = Some(user.email.clone());
                self.store.record_audit(&success).await?;
                Ok(user)
            }
            user => {
                // The attempt was counted when it was reserved.
                failure.actor_id = user.map(|u| u.id);
                failure.detail = Some(serde_json::json!({ "reason": "invalid_credentials" }));
                self.store.record_audit(&failure).await?;
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    pub async fn record_sign_out(&self, principal: &Principal) -> Result<(), AuthError> {
        let event = self.event_by(AuditAction::SignOut, Outcome::Success, principal);
        self.store.record_audit(&event).await?;
        Ok(())
    }

    pub async fn user(&self, user_id: &str) -> Result<Option<User>, AuthError> {
        Ok(self.store.find_user(user_id).await?)
    }

    pub async fn update_display_name(
        &self,
        principal: &Principal,
        display_name: &str,
    ) -> Result<User, AuthError> {
        let name =
            check_display_name(display_name).map_err(|e| AuthError::field("display_name", e))?;
        let updated = self
            .store
            .update_display_name(principal.user_id(), &name)
            .await?;
        let event = self.event_by(AuditAction::ProfileUpdate, Outcome::Success, principal);
        self.store.record_audit(&event).await?;
        Ok(updated)
    }

    /// Changes the password after re-checking the current one, and ends every other
    /// session of the user. Returns how many sessions were ended.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<u64, AuthError> {
        let user = &principal.user;
        let stored = self.store.password_hash(&user.id).await?;
        let mut event = self.event_by(AuditAction::PasswordChange, Outcome::Failure, principal);
        if !password::verify(current.to_owned(), stored).await? {
            event.detail = Some(serde_json::json!({ "reason": "wrong_current_password" }));
            self.store.record_audit(&event).await?;
            return Err(AuthError::field(
                "current_password",
                "Your current password is not correct.",
            ));
        }
        password::check_policy(new, &user.email)
            .map_err(|e| AuthError::field("new_password", e))?;
        if new == current {
            return Err(AuthError::field(
                "new_password",
                "Choose a password different from the current one.",
            ));
        }
        let hash = password::hash(new.to_owned()).await?;
        event.outcome = Some(Outcome::Success);
        let ended = self
            .store
            .change_password(&user.id, &hash, keep_session, &event)
            .await?;
        Ok(ended)
    }

    pub async fn set_signup_open(&self, admin: &Principal, open: bool) -> Result<(), AuthError> {
        if !admin.is_admin() {
            return Err(AuthError::Forbidden);
        }
        let mut event = self.event_by(AuditAction::SettingChange, Outcome::Success, admin);
        event.detail = Some(serde_json::json!({ "key": SIGNUP_OPEN_SETTING, "value": open }));
        self.store
            .put_setting(
                SIGNUP_OPEN_SETTING,
                if open { "true" } else { "false" },
                admin.user_id(),
                &event,
            )
            .await?;
        Ok(())
    }

    pub async fn retention_days(&self, what: Retained) -> Result<u32, AuthError> {
        let stored = self.store.setting(what.key()).await?;
        Ok(what.days(stored.as_deref()))
    }

    pub async fn set_retention_days(
        &self,
        admin: &Principal,
        what: Retained,
        days: u32,
    ) -> Result<(), AuthError> {
        if !admin.is_admin() {
            return Err(AuthError::Forbidden);
        }
        if !(what.min_days()..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(AuthError::field(
                "days",
                format!(
                    "Keep {} for {} to {MAX_RETENTION_DAYS} days.",
                    what.noun(),
                    what.min_days()
                ),
            ));
        }
        let mut event = self.event_by(AuditAction::SettingChange, Outcome::Success, admin);
        event.detail = Some(serde_json::json!({ "key": what.key(), "value": days }));
        self.store
            .put_setting(what.key(), &days.to_string(), admin.user_id(), &event)
            .await?;
        Ok(())
    }

    pub async fn audit_log(
        &self,
        viewer: &Principal,
        filter: &AuditFilter,
    ) -> Result<AuditPage, AuthError> {
        if !viewer.is_admin() {
            return Err(AuthError::Forbidden);
        }
        Ok(self.store.list_audit_events(filter).await?)
    }
}

fn normalise_or_record(input: &str, errors: &mut FieldErrors) -> Option<String> {
    match crate::email::normalise_email(input) {
        Ok(email) => Some(email),
        Err(e) => {
            errors.insert("email".into(), e.to_owned());
            None
        }
    }
}
