//! The vault at start-up and `aura secrets rotate`.
//!
//! At start-up the key (`AURA_SECRET_KEY`, else the key file, created on first start) is
//! checked against the one the database's secrets are sealed with, so a wrong key stops
//! Aura with a message saying which key it needs, before anything reads a secret.
//!
//! Rotation seals every stored secret again under a new key in one transaction. With a
//! key file, the new key is written beside it first (`secret.key.new`) and moved into
//! place after the commit, so a crash at any point leaves the key the database needs on
//! disk.

use crate::config::Config;
use anyhow::{Context, bail};
use aura_store::{AuditAction, NewAuditEvent, Outcome, SealedValue, Store, VaultCheck};
use aura_vault::{KeySource, Vault, VaultError};

/// Where the key check is bound (its "row").
const CHECK_CONTEXT: &str = "vault.check_value:1";
const CHECK_TEXT: &str = "aura vault check";

/// The vault for this start, checked against the database.
pub async fn open_vault(config: &Config, store: &Store) -> anyhow::Result<Vault> {
    let (vault, source) = Vault::load(config.secret_key.as_deref(), &config.secret_key_file)
        .context("could not load the secret key")?;
    match source {
        KeySource::File { created: true } => tracing::warn!(
            file = %config.secret_key_file.display(),
            "created a new secret key; back it up with the database: without it stored secrets cannot be read"
        ),
        KeySource::File { created: false } => {}
        KeySource::Environment => {}
    }
    check(config, store, &vault).await?;
    Ok(vault)
}

async fn check(config: &Config, store: &Store, vault: &Vault) -> anyhow::Result<()> {
    let Some(check) = store.vault_check().await? else {
        let check = VaultCheck {
            key_id: vault.key_id().to_owned(),
            check_value: vault.seal(CHECK_TEXT, CHECK_CONTEXT)?,
        };
        if !store.init_vault_check(&check).await? {
            // Another instance recorded its key first: it must be ours too.
            return Box::pin(self::check(config, store, vault)).await;
        }
        return Ok(());
    };
    match vault.open(&check.check_value, CHECK_CONTEXT) {
        Ok(text) if text == CHECK_TEXT => Ok(()),
        Ok(_) | Err(VaultError::Corrupt(_)) => bail!("the database's vault check is damaged"),
        Err(VaultError::WrongKey {
            sealed_with,
            current,
        }) => bail!(
            "the secret key ({}) is key {current}, but this database's secrets are sealed with key {sealed_with}. \
             Start Aura with the key they were sealed with; to change keys, run `aura secrets rotate` with the old key in place.",
            key_source(config)
        ),
        Err(err) => Err(err.into()),
    }
}

/// Where the secret key comes from, as an operator would name it.
pub(crate) fn key_source(config: &Config) -> String {
    if config.secret_key.is_some() {
        "AURA_SECRET_KEY".into()
    } else {
        format!("{}", config.secret_key_file.display())
    }
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub old_key_id: String,
    pub new_key_id: String,
    pub secrets: usize,
    /// The new key, when it came from `AURA_SECRET_KEY` (the operator must set it).
    pub new_key_for_environment: Option<String>,
}

/// Seals every stored secret again under `new_key` (64 hex digits; a fresh random key
/// when `None`).
pub async fn rotate(config: &Config, new_key: Option<String>) -> anyhow::Result<Rotated> {
    let store = Store::connect(&config.database_url, &Default::default())
        .await
        .context("could not open the database (AURA_DATABASE_URL)")?;
    let old = open_vault(config, &store).await?;
    let new_hex = match new_key {
        Some(key) => key.trim().to_owned(),
        None => Vault::generate_hex()?,
    };
    let new = Vault::from_hex(&new_hex).context("the new key")?;
    if new.key_id() == old.key_id() {
        bail!("the new key is the key in use");
    }
    let mut values: Vec<SealedValue> = store.sealed_values().await?;
    for value in &mut values {
        let plain = old
            .open(&value.sealed, &value.context())
            .with_context(|| format!("could not open {}", value.context()))?;
        value.sealed = new.seal(&plain, &value.context())?;
    }
    let check = VaultCheck {
        key_id: new.key_id().to_owned(),
        check_value: new.seal(CHECK_TEXT, CHECK_CONTEXT)?,
    };
    let audit = NewAuditEvent {
        actor_id: None,
        actor_email: None,
        action: AuditAction::SecretsRotate.as_str().to_owned(),
        outcome: Some(Outcome::Success),
        ip: None,
        user_agent: Some("aura secrets rotate".into()),
        detail: Some(serde_json::json!({
            "from_key": old.key_id(), "to_key": new.key_id(), "secrets": values.len(),
        })),
    };
    let from_environment = config.secret_key.is_some();
    let staged = config.secret_key_file.with_extension("key.new");
    if !from_environment {
        let _ = std::fs::remove_file(&staged);
        aura_vault::write_key_file(&staged, &new_hex)
            .with_context(|| format!("could not write {}", staged.display()))?;
    }
    if let Err(err) = store.reseal(&values, &check, &audit).await {
        let _ = std::fs::remove_file(&staged);
        return Err(err).context("could not store the re-sealed secrets; nothing changed");
    }
    if !from_environment {
        let old_copy = config.secret_key_file.with_extension("key.old");
        std::fs::rename(&config.secret_key_file, &old_copy)
            .and_then(|()| std::fs::rename(&staged, &config.secret_key_file))
            .with_context(|| {
                format!(
                    "the secrets are sealed with the new key, which is in {}; move it to {}",
                    staged.display(),
                    config.secret_key_file.display()
                )
            })?;
    }
    store.close().await;
    Ok(Rotated {
        old_key_id: old.key_id().to_owned(),
        new_key_id: new.key_id().to_owned(),
        secrets: values.len(),
        new_key_for_environment: from_environment.then_some(new_hex),
    })
}
