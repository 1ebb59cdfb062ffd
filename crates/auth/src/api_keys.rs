//! API keys: made and revoked by their user in the app, accepted on the REST API only.
//!
//! A key is `aura_` and 48 hex digits (192 bits from the OS). Only its SHA-256 is stored,
//! so a database leak yields no usable key; a fast hash is enough because the secret is
//! random, not chosen by a person. Creation, revocation and use from a new address are
//! audited.

use crate::error::{AuthError, FieldErrors};
use aura_store::{
    ApiKey, AuditAction, Credential, NewApiKey, NewAuditEvent, Origin, Outcome, Principal, Scope,
    Store, now_millis,
};
use sha2::{Digest, Sha256};

/// How every key starts, so it is recognisable in code, logs and secret scanners.
pub const KEY_PREFIX: &str = "aura_";
/// The most days a key may live; keys without an expiry live until revoked.
pub const MAX_KEY_DAYS: u32 = 3_650;
const MAX_NAME: usize = 80;
/// A key's use is written down at most this often (and always from a new address).
const TOUCH_EVERY_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// A new key: its stored form and the secret, shown once.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

#[derive(Debug, Clone)]
pub struct ApiKeys {
    store: Store,
}

impl ApiKeys {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Makes a key for the signed-in user. Keys are made from a browser session only: a
    /// key cannot mint more keys.
    pub async fn create(
        &self,
        principal: &Principal,
        name: &str,
        scopes: &[Scope],
        expires_in_days: Option<u32>,
    ) -> Result<CreatedKey, AuthError> {
        if principal.credential != Credential::Session {
            return Err(AuthError::Forbidden);
        }
        let mut errors = FieldErrors::new();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control)
        {
            errors.insert(
                "name".into(),
                format!("Name the key in 1 to {MAX_NAME} characters."),
            );
        }
        if scopes.is_empty() {
            errors.insert("scopes".into(), "Choose at least one scope.".into());
        } else if scopes.contains(&Scope::Admin) && !principal.is_admin() {
            errors.insert(
                "scopes".into(),
                "Only administrators can give a key the admin scope.".into(),
            );
        }
        if expires_in_days.is_some_and(|d| !(1..=MAX_KEY_DAYS).contains(&d)) {
            errors.insert(
                "expires_in_days".into(),
                format!("Let the key expire in 1 to {MAX_KEY_DAYS} days, or never."),
            );
        }
        if !errors.is_empty() {
            return Err(AuthError::Validation(errors));
        }
        let mut unique: Vec<Scope> = scopes.to_vec();
        unique.sort();
        unique.dedup();
        let secret = new_secret()?;
        let new = NewApiKey {
            user_id: principal.user_id().to_owned(),
            name: name.to_owned(),
            prefix: secret[..KEY_PREFIX.len() + 8].to_owned(),
            secret_hash: hash(&secret),
            scopes: unique.clone(),
            expires_at: expires_in_days.map(|d| now_millis() + i64::from(d) * DAY_MS),
        };
        let scope_names: Vec<&str> = unique.iter().map(|s| s.as_str()).collect();
        let audit = event(
            AuditAction::ApiKeyCreate,
            principal,
            &principal.origin,
            serde_json::json!({ "name": name, "scopes": scope_names, "prefix": new.prefix }),
        );
        let key = self.store.create_api_key(&new, &audit).await?;
        Ok(CreatedKey { key, secret })
    }

    /// The user's keys, newest first, revoked ones included.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<ApiKey>, AuthError> {
        Ok(self.store.list_api_keys(principal.user_id()).await?)
    }

    /// Revokes one of the user's keys; it stops working at once.
    pub async fn revoke(&self, principal: &Principal, id: &str) -> Result<(), AuthError> {
        let audit = event(
            AuditAction::ApiKeyRevoke,
            principal,
            &principal.origin,
            serde_json::json!({ "key_id": id }),
        );
        if self
            .store
            .revoke_api_key(principal.user_id(), id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(AuthError::NotFound)
        }
    }

    /// The principal a request's key stands for: its user, limited to its scopes.
    pub async fn authenticate(
        &self,
        secret: &str,
        origin: &Origin,
    ) -> Result<Principal, AuthError> {
        if !secret.starts_with(KEY_PREFIX) {
            return Err(AuthError::InvalidApiKey);
        }
        let Some((key, user)) = self.store.find_api_key(&hash(secret)).await? else {
            return Err(AuthError::InvalidApiKey);
        };
        let now = now_millis();
        if key.revoked_at.is_some() || key.expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::InvalidApiKey);
        }
        let principal = Principal {
            user,
            credential: Credential::ApiKey {
                key_id: key.id.clone(),
                scopes: key.scopes.clone(),
            },
            origin: origin.clone(),
        };
        let new_address = key.last_used_ip.as_deref() != Some(origin.ip.as_str());
        if new_address || key.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY_MS) {
            let audit = new_address.then(|| {
                event(
                    AuditAction::ApiKeyUse,
                    &principal,
                    origin,
                    serde_json::json!({ "key_id": key.id, "prefix": key.prefix }),
                )
            });
            self.store
                .touch_api_key(&key.id, &origin.ip, audit.as_ref())
                .await?;
        }
        Ok(principal)
    }
}

fn event(
    action: AuditAction,
    by: &Principal,
    origin: &Origin,
    detail: serde_json::Value,
) -> NewAuditEvent {
    NewAuditEvent {
        actor_id: Some(by.user.id.clone()),
        actor_email: Some(by.user.email.clone()),
        action: action.as_str().to_owned(),
        outcome: Some(Outcome::Success),
        ip: Some(origin.ip.clone()),
        user_agent: origin.user_agent.clone(),
        detail: Some(detail),
    }
}

fn new_secret() -> Result<String, AuthError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| AuthError::Unexpected(anyhow::anyhow!("no randomness: {e}")))?;
    let mut secret = String::from(KEY_PREFIX);
    for b in bytes {
        secret.push_str(&format!("{b:02x}"));
    }
    Ok(secret)
}

/// The stored form of a secret: SHA-256, hex.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_hex_and_hash_to_sha256() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert!(a.starts_with("aura_") && a.len() == 5 + 48, "{a}");
        assert_ne!(a, b);
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
