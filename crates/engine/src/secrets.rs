//! Users' workflow secrets: named values (HTTP tokens, say) that templates read as
//! `{{ secrets.NAME }}`. Values are sealed with the vault before they are stored, never
//! shown again, and masked in every log, output, event and error of their owner's runs.

use crate::step::Masker;
use aura_store::{AuditAction, NewAuditEvent, Principal, Store, StoreError, sealed_context};
use aura_vault::{Vault, VaultError};

const TABLE: &str = "workflow_secrets";
const COLUMN: &str = "value";
/// The longest value: a long token, not a file.
const MAX_VALUE_BYTES: usize = 16 * 1024;
/// The most secrets one user keeps: each step that reads secrets opens all of its owner's.
pub const MAX_SECRETS_PER_USER: usize = 100;

/// A secret as lists show it: its name, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretName {
    pub name: String,
    pub updated_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no such secret")]
    NotFound,
    /// (field, message)
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, String),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Secrets {
    store: Store,
    vault: Vault,
}

impl Secrets {
    pub fn new(store: Store, vault: Vault) -> Self {
        Self { store, vault }
    }

    pub async fn list(&self, principal: &Principal) -> Result<Vec<SecretName>, SecretError> {
        Ok(self
            .store
            .workflow_secrets(principal.user_id())
            .await?
            .into_iter()
            .map(|row| SecretName {
                name: row.name,
                updated_at: row.updated_at,
            })
            .collect())
    }

    /// Creates or replaces the caller's secret `name`.
    pub async fn set(
        &self,
        principal: &Principal,
        name: &str,
        value: &str,
    ) -> Result<SecretName, SecretError> {
        let valid_name = (1..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err(SecretError::Invalid(
                "name",
                "Use 1 to 64 letters, digits and _, starting with a letter or _ (templates read it as secrets.NAME).".into(),
            ));
        }
        if value.len() < 4 || value.len() > MAX_VALUE_BYTES {
            return Err(SecretError::Invalid(
                "value",
                "A secret is 4 to 16384 bytes: shorter values could not be masked without hiding ordinary text.".into(),
            ));
        }
        let existing = self.store.workflow_secrets(principal.user_id()).await?;
        if existing.len() >= MAX_SECRETS_PER_USER && !existing.iter().any(|s| s.name == name) {
            return Err(SecretError::Invalid(
                "name",
                format!(
                    "You have {MAX_SECRETS_PER_USER} secrets, the most allowed; delete one first."
                ),
            ));
        }
        let id = self
            .store
            .workflow_secret_id(principal.user_id(), name)
            .await?;
        let sealed = self
            .vault
            .seal(value, &sealed_context(TABLE, COLUMN, &id))?;
        self.store
            .save_workflow_secret(
                principal.user_id(),
                &id,
                name,
                &sealed,
                &audit(principal, AuditAction::SecretSet, name),
            )
            .await?;
        Ok(SecretName {
            name: name.to_owned(),
            updated_at: aura_store::now_millis(),
        })
    }

    pub async fn delete(&self, principal: &Principal, name: &str) -> Result<(), SecretError> {
        if self
            .store
            .delete_workflow_secret(
                principal.user_id(),
                name,
                &audit(principal, AuditAction::SecretDelete, name),
            )
            .await?
        {
            Ok(())
        } else {
            Err(SecretError::NotFound)
        }
    }

    /// A run owner's secrets, opened: what templates read and what the masker hides.
    pub(crate) async fn values(
        &self,
        owner_id: &str,
    ) -> Result<Vec<(String, String)>, SecretError> {
        let mut values = Vec::new();
        for row in self.store.workflow_secrets(owner_id).await? {
            let value = self
                .vault
                .open(&row.value, &sealed_context(TABLE, COLUMN, &row.id))?;
            values.push((row.name, value));
        }
        Ok(values)
    }

    /// The masker for a run owner's secrets.
    pub(crate) fn masker(values: &[(String, String)]) -> Masker {
        Masker::new(values.iter().cloned())
    }
}

fn audit(principal: &Principal, action: AuditAction, name: &str) -> NewAuditEvent {
    NewAuditEvent::success_by(principal, action, serde_json::json!({ "name": name }))
}
