//! `aura secrets list|set|delete`: your workflow secrets, through the REST API. A value is
//! read from stdin (without echo on a terminal), never from the command line, and never
//! comes back.

use super::CliError;
use super::client::Client;
use super::output::{print_json, print_table, when};
use super::workflows::path_segment;
use serde::{Deserialize, Serialize};
use std::process::ExitCode;

#[derive(Debug, Serialize, Deserialize)]
struct Secret {
    name: String,
    updated_at: i64,
}

pub async fn list(json: bool) -> Result<ExitCode, CliError> {
    let client = Client::from_login()?;
    let secrets: Vec<Secret> = client.get("/secrets").await?;
    if json {
        print_json(&secrets);
    } else {
        let rows: Vec<Vec<String>> = secrets
            .iter()
            .map(|s| vec![s.name.clone(), when(s.updated_at)])
            .collect();
        print_table(
            &["NAME", "UPDATED (UTC)"],
            &rows,
            "No secrets yet. Add one with `aura secrets set NAME` (the value is read from stdin).",
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn set(name: &str, json: bool) -> Result<ExitCode, CliError> {
    let client = Client::from_login()?;
    let value = super::config::read_hidden(&format!("Value of {name}: "))?;
    let value = value.trim_end_matches(['\n', '\r']);
    let saved: Secret = client
        .put(
            &format!("/secrets/{}", path_segment(name)),
            &serde_json::json!({ "value": value }),
        )
        .await?;
    if json {
        print_json(&saved);
    } else {
        println!(
            "Saved secret {}. Templates read it as {{{{ secrets.{} }}}}.",
            saved.name, saved.name
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn delete(name: &str, json: bool) -> Result<ExitCode, CliError> {
    let client = Client::from_login()?;
    let deleted: serde_json::Value = client
        .data(client.request(
            reqwest::Method::DELETE,
            &format!("/secrets/{}", path_segment(name)),
        ))
        .await?;
    if json {
        print_json(&deleted);
    } else {
        println!("Deleted secret {name}.");
    }
    Ok(ExitCode::SUCCESS)
}
