//! `aura backup FILE` and `aura restore FILE`: run where the server runs, with its
//! configuration. SQLite only; PostgreSQL is backed up with `pg_dump` (see the README).

use super::CliError;
use super::output::{Style, print_json};
use crate::secrets::key_source;
use aura_store::backup::{BackupError, BackupSummary, backup_sqlite, restore_sqlite};
use aura_vault::Vault;
use std::path::Path;
use std::process::ExitCode;

pub async fn backup(file: &Path, json: bool) -> Result<ExitCode, CliError> {
    let config = load_config()?;
    let summary = backup_sqlite(&config.database_url, file)
        .await
        .map_err(failed)?;
    if json {
        print_json(&summary);
    } else {
        println!(
            "{} {} ({}).",
            Style::stdout().green("Backed up to"),
            summary.path.display(),
            describe(&summary)
        );
        println!(
            "Keep the secret key ({}) with it: stored secrets cannot be read without it.",
            key_source(&config)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(file: &Path, json: bool) -> Result<ExitCode, CliError> {
    let config = load_config()?;
    let restored = restore_sqlite(file, &config.database_url)
        .await
        .map_err(failed)?;
    if json {
        print_json(&restored);
    } else {
        println!(
            "{} {} to {} ({}).",
            Style::stdout().green("Restored"),
            file.display(),
            restored.path.display(),
            describe(&restored)
        );
    }
    if let Some(warning) = key_mismatch(&config, &restored) {
        eprintln!("{} {warning}", Style::stderr().yellow("warning:"));
    }
    Ok(ExitCode::SUCCESS)
}

/// Says so when the configured secret key is not the one the restored secrets are sealed
/// with: Aura would refuse to start until it is.
fn key_mismatch(config: &crate::config::Config, restored: &BackupSummary) -> Option<String> {
    let needed = restored.vault_key_id.as_deref()?;
    let have_key = config.secret_key.is_some() || config.secret_key_file.exists();
    if !have_key {
        return Some(format!(
            "its secrets are sealed with key {needed}; put that key at {} (or in AURA_SECRET_KEY) before starting Aura",
            config.secret_key_file.display()
        ));
    }
    match Vault::load(config.secret_key.as_deref(), &config.secret_key_file) {
        Ok((vault, _)) if vault.key_id() == needed => None,
        Ok((vault, _)) => Some(format!(
            "its secrets are sealed with key {needed}, but {} is key {}; Aura will not start until it has key {needed}",
            key_source(config),
            vault.key_id()
        )),
        Err(err) => Some(format!("could not read the secret key: {err}")),
    }
}

fn describe(summary: &BackupSummary) -> String {
    format!(
        "{} bytes, schema {}: {} users, {} workflows, {} runs, {} projects",
        summary.bytes,
        summary.schema_version,
        summary.users,
        summary.workflows,
        summary.runs,
        summary.projects
    )
}

/// The configuration the server would start with.
pub(super) fn load_config() -> Result<crate::config::Config, CliError> {
    let sources =
        crate::config::Sources::from_process().map_err(|err| CliError::Usage(err.to_string()))?;
    crate::config::Config::load(&sources).map_err(|err| CliError::Usage(err.to_string()))
}

fn failed(err: BackupError) -> CliError {
    match err {
        BackupError::Postgres => CliError::Usage(err.to_string()),
        other => CliError::Failed(other.to_string()),
    }
}
