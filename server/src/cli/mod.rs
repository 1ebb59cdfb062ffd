//! The `aura` command line: `aura serve` (or bare `aura`) starts the server; every other
//! command is a client of a running server's REST API (`/api/v1`, with an API key), except
//! `aura analyze`, which runs the same analysis offline on local files.
//!
//! Each command prints a human table by default and the API's JSON with `--json`. Errors
//! go to stderr and end the process with a non-zero exit code (see [`CliError::exit_code`]).

mod analyze;
mod client;
mod config;
mod output;
mod projects;
mod runs;
mod sse;
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

Environment: AURA_URL and AURA_API_KEY override the saved login; AURA_CONFIG names the
config file (default ~/.config/aura/config.toml). NO_COLOR turns colour off."
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
    /// Analyse local files offline: syntax errors, security and style rules.
    Analyze(analyze::Args),
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
        Command::Login(args) => block_on(config::login(args, json)),
        Command::Whoami => block_on(config::whoami(json)),
        Command::Workflows(command) => block_on(workflows::run(command, json)),
        Command::Runs(command) => block_on(runs::run(command, json)),
        Command::Projects(command) => block_on(projects::run(command, json)),
    };
    Some(report(result))
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
