//! The `aura` command line: `aura serve` (or bare `aura`) starts the server; every other
//! command is a client of a running server's REST API (`/api/v1`, with an API key), except
//! `aura analyze`, which runs the same analysis offline on local files.
//!
//! Each command prints a human table by default and the API's JSON with `--json`. Errors
//! go to stderr and end the process with a non-zero exit code (see [`CliError::exit_code`]).

mod analyze;
mod backup;
mod client;
mod config;
mod output;
mod projects;
mod runs;
mod schedules;
mod secrets;
mod sse;
mod webhooks;
mod workflows;

pub use client::CliError;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "aura",
    version,
    about = "Aura: durable AI and code workflows. Serve it, or drive a running server.",
    after_help = "\
Examples:
  aura serve                                  start the server (same as a bare `aura`)
  aura login --url https://aura.example.com   save the URL and an API key (read from stdin)
  aura workflows push review.json             create or update a workflow from a file
  aura runs start review --input @in.json --wait
  aura runs logs 0193a… --follow
  aura analyze src/ --format sarif > aura.sarif

Environment: AURA_URL and AURA_API_KEY override the saved login; AURA_CLI_CONFIG names the login
file (default ~/.config/aura/config.toml). NO_COLOR turns colour off."
)]
pub struct Cli {
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server (configuration: Leptos.toml, .env and the environment).
    #[command(after_help = "Example:\n  AURA_DATABASE_URL=sqlite://data/aura.db aura serve")]
    Serve,
    /// Print the REST API's OpenAPI document.
    #[command(after_help = "Example:\n  aura openapi > openapi.json")]
    Openapi,
    /// Save a server URL and API key for the other commands.
    #[command(after_help = "\
Examples:
  echo \"$KEY\" | aura login --url https://aura.example.com
  aura login --url http://localhost:3000 --key aura_0123…   (lands in shell history)

Make the key on the server's /settings page. The file is written with mode 0600.")]
    Login(config::LoginArgs),
    /// Forget the saved URL and API key.
    #[command(after_help = "Example:\n  aura logout")]
    Logout,
    /// Show who the saved key belongs to and its scopes.
    #[command(after_help = "Example:\n  AURA_API_KEY=aura_… aura whoami")]
    Whoami,
    /// List, show, push and pull workflows.
    #[command(
        subcommand,
        after_help = "Examples:\n  aura workflows list\n  aura workflows pull review -o review.json\n  aura workflows push review.json"
    )]
    Workflows(workflows::Command),
    /// Start, list, show, follow, cancel and resume runs.
    #[command(
        subcommand,
        after_help = "Examples:\n  aura runs start review --input @input.json --wait\n  aura runs list --status failed\n  aura runs logs RUN_ID --follow"
    )]
    Runs(runs::Command),
    /// List projects, push a directory to one, pull one to a directory.
    #[command(
        subcommand,
        after_help = "Examples:\n  aura projects list\n  aura projects push ./service\n  aura projects pull service ./service-copy"
    )]
    Projects(projects::Command),
    /// A workflow's webhook triggers: list, create, show, regenerate, enable, disable, delete.
    #[command(
        subcommand,
        after_help = "Examples:\n  aura webhooks create review --name GitHub --hmac\n  aura webhooks list review\n  aura webhooks regenerate WEBHOOK_ID"
    )]
    Webhooks(webhooks::Command),
    /// A workflow's schedules: list, preview, create, enable, disable, delete.
    #[command(
        subcommand,
        after_help = "Examples:\n  aura schedules preview --every '13 hours'\n  aura schedules create review --name Nightly --cron '0 2 * * *' --timezone Europe/Berlin\n  aura schedules list review"
    )]
    Schedules(schedules::Command),
    /// Analyse local files offline: syntax errors, security and style rules.
    Analyze(analyze::Args),
    /// Copy the SQLite database to FILE while Aura runs (never overwrites a file).
    #[command(after_help = "\
Example:
  aura backup /backups/aura-$(date +%F).db

Run it where the server runs, with the same configuration. The copy is consistent and
checked. Keep the secret key (data/secret.key or AURA_SECRET_KEY) with it: stored secrets
cannot be read without it. PostgreSQL: use pg_dump (see the README).")]
    Backup {
        /// Where to write the backup; must not exist yet.
        file: std::path::PathBuf,
    },
    /// Put a backup where the configured database belongs (only where there is none).
    #[command(after_help = "\
Example:
  AURA_DATABASE_URL=sqlite://data/aura.db aura restore /backups/aura-2026-11-23.db

The backup is checked first (integrity, an Aura schema this version knows). Nothing is
overwritten: stop Aura and move the old database (and its -wal, -shm files) away first.")]
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Your workflow secrets; and, on the server, the key that seals stored secrets.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

#[derive(Debug, Subcommand)]
enum SecretsCommand {
    /// Your secrets' names.
    #[command(after_help = "Example:\n  aura secrets list")]
    List,
    /// Create or replace a secret; the value is read from stdin, never the command line.
    #[command(after_help = "\
Examples:
  aura secrets set GITHUB_TOKEN                  prompts for the value (not echoed)
  printf %s \"$TOKEN\" | aura secrets set GITHUB_TOKEN

Templates read it as {{ secrets.GITHUB_TOKEN }}; runs show [secret GITHUB_TOKEN] instead.")]
    Set {
        /// Letters, digits and _.
        name: String,
    },
    /// Delete a secret.
    #[command(after_help = "Example:\n  aura secrets delete GITHUB_TOKEN")]
    Delete { name: String },
    /// Seal every stored secret again under a new key, in one transaction.
    #[command(after_help = "\
Examples:
  aura secrets rotate                       a new random key replaces data/secret.key
  openssl rand -hex 32 | aura secrets rotate --new-key-stdin

Run it where the server runs, with the same configuration (database and current key).
With a key file, the old key is kept as secret.key.old; with AURA_SECRET_KEY, the new key
is printed and must replace AURA_SECRET_KEY before the next start.")]
    Rotate {
        /// Read the new key (64 hex digits) from stdin instead of generating one.
        #[arg(long)]
        new_key_stdin: bool,
    },
}

/// Runs a client command. `None` means the caller should start the server.
pub fn run(cli: Cli) -> Option<ExitCode> {
    let json = cli.json;
    let result = match cli.command? {
        Command::Serve => return None,
        Command::Openapi => {
            println!("{}", crate::openapi_json());
            return Some(ExitCode::SUCCESS);
        }
        Command::Analyze(args) => return Some(report(analyze::run(args, json))),
        Command::Logout => config::logout(),
        Command::Backup { file } => block_on(backup::backup(&file, json)),
        Command::Restore { file } => block_on(backup::restore(&file, json)),
        Command::Secrets(SecretsCommand::Rotate { new_key_stdin }) => {
            block_on(rotate_secrets(new_key_stdin, json))
        }
        Command::Secrets(SecretsCommand::List) => block_on(secrets::list(json)),
        Command::Secrets(SecretsCommand::Set { name }) => block_on(secrets::set(&name, json)),
        Command::Secrets(SecretsCommand::Delete { name }) => block_on(secrets::delete(&name, json)),
        Command::Login(args) => block_on(config::login(args, json)),
        Command::Whoami => block_on(config::whoami(json)),
        Command::Workflows(command) => block_on(workflows::run(command, json)),
        Command::Runs(command) => block_on(runs::run(command, json)),
        Command::Projects(command) => block_on(projects::run(command, json)),
        Command::Webhooks(command) => block_on(webhooks::run(command, json)),
        Command::Schedules(command) => block_on(schedules::run(command, json)),
    };
    Some(report(result))
}

async fn rotate_secrets(new_key_stdin: bool, json: bool) -> Result<ExitCode, CliError> {
    let new_key = if new_key_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(CliError::io("could not read the new key from stdin"))?;
        Some(line)
    } else {
        None
    };
    let config = backup::load_config()?;
    let rotated = crate::secrets::rotate(&config, new_key)
        .await
        .map_err(|err| CliError::Failed(format!("{err:#}")))?;
    if json {
        output::print_json(&serde_json::json!({
            "old_key_id": rotated.old_key_id,
            "new_key_id": rotated.new_key_id,
            "secrets": rotated.secrets,
            "new_key": rotated.new_key_for_environment,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Sealed {} secrets again: key {} replaces key {}.",
        rotated.secrets, rotated.new_key_id, rotated.old_key_id
    );
    match rotated.new_key_for_environment {
        Some(key) => println!("Set AURA_SECRET_KEY={key} before the next start."),
        None => println!(
            "The new key is in {}; the old one in {}.",
            config.secret_key_file.display(),
            config.secret_key_file.with_extension("key.old").display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn block_on<F: Future<Output = Result<ExitCode, CliError>>>(
    future: F,
) -> Result<ExitCode, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            context: "could not start the async runtime".into(),
            source,
        })?
        .block_on(future)
}

fn report(result: Result<ExitCode, CliError>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}", err.render(&output::Style::stderr()));
            ExitCode::from(err.exit_code())
        }
    }
}
