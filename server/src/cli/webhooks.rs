//! `aura webhooks`: a workflow's webhook triggers, through the REST API. A new URL (and a
//! generated secret) is printed once, when it is made; `regenerate` prints a new one.

use super::CliError;
use super::client::Client;
use super::output::{print_json, print_table, when};
use super::workflows::{path_segment, resolve};
use serde::Deserialize;
use serde_json::{Value, json};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A workflow's webhooks.
    #[command(after_help = "Example:\n  aura webhooks list review")]
    List {
        /// The workflow's id or exact name.
        workflow: String,
    },
    /// Make a webhook; prints its URL (and a generated secret) this once.
    #[command(after_help = "\
Examples:
  aura webhooks create review --name GitHub --hmac            a generated secret, GitHub's header
  printf %s \"$SECRET\" | aura webhooks create review --name GitHub --hmac --secret-stdin
  aura webhooks create review --name Stamped --hmac --header X-Signature --timestamp-header X-Timestamp
  aura webhooks create review --name Form --token-header X-Form-Token
  aura webhooks create review --name Reply --sync --step answer --timeout-ms 5000")]
    Create {
        /// The workflow's id or exact name.
        workflow: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// One webhook: its settings, runs started and last run.
    #[command(after_help = "Example:\n  aura webhooks show 0193a…")]
    Show { id: String },
    /// Give a webhook a new URL (printed once); the old one stops working at once.
    #[command(after_help = "Example:\n  aura webhooks regenerate 0193a…")]
    Regenerate { id: String },
    /// Let a webhook start runs again.
    Enable { id: String },
    /// Refuse a webhook's deliveries (403) until it is enabled.
    Disable { id: String },
    /// Delete a webhook; its URL answers 404 from then on.
    #[command(after_help = "Example:\n  aura webhooks delete 0193a…")]
    Delete { id: String },
}

#[derive(Debug, clap::Args)]
pub struct Settings {
    /// A name to tell it apart.
    #[arg(long)]
    name: String,
    /// POST (default), PUT, PATCH, GET or DELETE.
    #[arg(long)]
    method: Option<String>,
    /// Require an HMAC-SHA256 signature of the body (GitHub's X-Hub-Signature-256 by default).
    #[arg(long, conflicts_with = "token_header")]
    hmac: bool,
    /// The signature header (with --hmac).
    #[arg(long, requires = "hmac")]
    header: Option<String>,
    /// Read the HMAC secret from stdin instead of having one generated.
    #[arg(long, requires = "hmac")]
    secret_stdin: bool,
    /// Sign `{timestamp}.{body}` with the Unix time in this header, refusing old ones and replays.
    #[arg(long, requires = "hmac")]
    timestamp_header: Option<String>,
    /// Seconds a timestamp may be off (default 300).
    #[arg(long, requires = "timestamp_header")]
    tolerance_secs: Option<u32>,
    /// Require a static token in this header (generated and printed once).
    #[arg(long)]
    token_header: Option<String>,
    /// Wait for the run and answer with its output (or --step's), else 202 after the timeout.
    #[arg(long)]
    sync: bool,
    /// The step whose output a sync webhook answers with.
    #[arg(long, requires = "sync")]
    step: Option<String>,
    /// How long a sync webhook waits (default 10000).
    #[arg(long, requires = "sync")]
    timeout_ms: Option<u32>,
    /// Largest body in KB (default 256).
    #[arg(long)]
    max_body_kb: Option<u32>,
    /// Deliveries a minute (default 60).
    #[arg(long)]
    rate_per_minute: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct Webhook {
    id: String,
    name: String,
    token_prefix: String,
    method: String,
    verification: String,
    verify_header: Option<String>,
    timestamp_header: Option<String>,
    tolerance_secs: Option<u32>,
    response_mode: String,
    sync_step: Option<String>,
    sync_timeout_ms: Option<u32>,
    max_body_kb: u32,
    rate_per_minute: u32,
    enabled: bool,
    rejected: i64,
    runs: i64,
    last_run_at: Option<i64>,
    last_run_status: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    secret: Option<String>,
}

impl Webhook {
    /// The settings to send back unchanged (secrets left out are kept by the server).
    fn spec(&self, enabled: bool) -> Value {
        let verification = match self.verification.as_str() {
            "hmac" => json!({
                "kind": "hmac", "header": self.verify_header,
                "timestamp_header": self.timestamp_header, "tolerance_secs": self.tolerance_secs,
            }),
            "header" => json!({ "kind": "header", "header": self.verify_header }),
            _ => json!({ "kind": "none" }),
        };
        let response = if self.response_mode == "sync" {
            json!({ "mode": "sync", "step": self.sync_step, "timeout_ms": self.sync_timeout_ms })
        } else {
            json!({ "mode": "async" })
        };
        json!({
            "name": self.name, "method": self.method, "verification": verification,
            "response": response, "max_body_kb": self.max_body_kb,
            "rate_per_minute": self.rate_per_minute, "enabled": enabled,
        })
    }
}

pub async fn run(command: Command, json: bool) -> Result<ExitCode, CliError> {
    let client = Client::from_login()?;
    match command {
        Command::List { workflow } => {
            let workflow = resolve(&client, &workflow).await?;
            let raw: Value = client
                .get(&format!(
                    "/workflows/{}/webhooks",
                    path_segment(&workflow.id)
                ))
                .await?;
            if json {
                print_json(&raw);
                return Ok(ExitCode::SUCCESS);
            }
            let hooks: Vec<Webhook> = serde_json::from_value(raw).map_err(|err| {
                CliError::Failed(format!("unexpected answer from the server: {err}"))
            })?;
            let rows: Vec<Vec<String>> = hooks.iter().map(row).collect();
            print_table(
                &[
                    "ID",
                    "NAME",
                    "URL",
                    "METHOD",
                    "CHECK",
                    "MODE",
                    "ON",
                    "RUNS",
                    "REFUSED",
                    "LAST RUN (UTC)",
                ],
                &rows,
                &format!(
                    "No webhooks on {} yet. Make one with `aura webhooks create {} --name NAME`.",
                    workflow.name, workflow.name
                ),
            );
        }
        Command::Create { workflow, settings } => {
            let workflow = resolve(&client, &workflow).await?;
            let spec = spec(settings)?;
            let raw: Value = client
                .post(
                    &format!("/workflows/{}/webhooks", path_segment(&workflow.id)),
                    &spec,
                )
                .await?;
            print_made(raw, json, "Made webhook")?;
        }
        Command::Show { id } => {
            let raw: Value = client
                .get(&format!("/webhooks/{}", path_segment(&id)))
                .await?;
            if json {
                print_json(&raw);
                return Ok(ExitCode::SUCCESS);
            }
            let hook = parse(raw)?;
            print_table(
                &[
                    "ID",
                    "NAME",
                    "URL",
                    "METHOD",
                    "CHECK",
                    "MODE",
                    "ON",
                    "RUNS",
                    "REFUSED",
                    "LAST RUN (UTC)",
                ],
                &[row(&hook)],
                "",
            );
        }
        Command::Regenerate { id } => {
            let raw: Value = client
                .data(client.request(
                    reqwest::Method::POST,
                    &format!("/webhooks/{}/regenerate", path_segment(&id)),
                ))
                .await?;
            print_made(raw, json, "New URL for webhook")?;
        }
        Command::Enable { id } => set_enabled(&client, &id, true, json).await?,
        Command::Disable { id } => set_enabled(&client, &id, false, json).await?,
        Command::Delete { id } => {
            let deleted: Value = client
                .data(client.request(
                    reqwest::Method::DELETE,
                    &format!("/webhooks/{}", path_segment(&id)),
                ))
                .await?;
            if json {
                print_json(&deleted);
            } else {
                println!("Deleted webhook {id}; its URL answers 404 from now on.");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends a webhook's settings back with `enabled` changed.
async fn set_enabled(client: &Client, id: &str, enabled: bool, json: bool) -> Result<(), CliError> {
    let path = format!("/webhooks/{}", path_segment(id));
    let current = parse(client.get(&path).await?)?;
    let raw: Value = client.put(&path, &current.spec(enabled)).await?;
    if json {
        print_json(&raw);
        return Ok(());
    }
    let hook = parse(raw)?;
    println!(
        "Webhook {} ({}) is {}.",
        hook.name,
        hook.id,
        if hook.enabled { "enabled" } else { "disabled" }
    );
    Ok(())
}

fn parse(raw: Value) -> Result<Webhook, CliError> {
    serde_json::from_value(raw)
        .map_err(|err| CliError::Failed(format!("unexpected answer from the server: {err}")))
}

fn row(hook: &Webhook) -> Vec<String> {
    vec![
        hook.id.clone(),
        hook.name.clone(),
        format!("/hooks/{}…", hook.token_prefix),
        hook.method.clone(),
        hook.verification.clone(),
        hook.response_mode.clone(),
        if hook.enabled { "yes" } else { "no" }.into(),
        hook.runs.to_string(),
        hook.rejected.to_string(),
        match (hook.last_run_at, &hook.last_run_status) {
            (Some(at), Some(status)) => format!("{} {status}", when(at)),
            _ => "-".into(),
        },
    ]
}

fn print_made(raw: Value, json: bool, what: &str) -> Result<(), CliError> {
    if json {
        print_json(&raw);
        return Ok(());
    }
    let hook = parse(raw)?;
    println!("{what} {} ({}).", hook.name, hook.id);
    if let Some(url) = &hook.url {
        println!("URL (shown this once): {url}");
    }
    if let Some(secret) = &hook.secret {
        let what = if hook.verification == "hmac" {
            "HMAC secret"
        } else {
            "Header token"
        };
        println!("{what} (shown this once): {secret}");
    }
    Ok(())
}

fn spec(settings: Settings) -> Result<Value, CliError> {
    let verification = if settings.hmac {
        let secret = if settings.secret_stdin {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(CliError::io("could not read the secret from stdin"))?;
            Some(line.trim_end_matches(['\n', '\r']).to_owned())
        } else {
            None
        };
        json!({
            "kind": "hmac", "header": settings.header, "secret": secret,
            "timestamp_header": settings.timestamp_header, "tolerance_secs": settings.tolerance_secs,
        })
    } else if let Some(header) = settings.token_header {
        json!({ "kind": "header", "header": header })
    } else {
        json!({ "kind": "none" })
    };
    let response = if settings.sync {
        json!({ "mode": "sync", "step": settings.step, "timeout_ms": settings.timeout_ms })
    } else {
        json!({ "mode": "async" })
    };
    Ok(json!({
        "name": settings.name, "method": settings.method, "verification": verification,
        "response": response, "max_body_kb": settings.max_body_kb,
        "rate_per_minute": settings.rate_per_minute,
    }))
}
