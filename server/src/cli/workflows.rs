//! `aura workflows`: list, show, push a file, pull to a file. A workflow file is JSON:
//! `{"name", "description"?, "definition": {"steps": […]}, "id"?, "version"?}`; `pull`
//! writes exactly that, so a pulled file pushes back as the next version.

use super::CliError;
use super::client::{Client, is_not_found};
use super::output::{Style, print_json, print_table, when};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Your workflows, most recently changed first.
    #[command(
        after_help = "Examples:\n  aura workflows list\n  aura workflows list --json | jq '.[].name'"
    )]
    List,
    /// One workflow and its steps.
    #[command(after_help = "Example:\n  aura workflows show nightly-review")]
    Show {
        /// Its id or exact name.
        workflow: String,
    },
    /// Create a workflow from a file, or save the file as the next version of the
    /// workflow it names (by `id`, else by `name`).
    #[command(after_help = "\
Examples:
  aura workflows push review.json
  aura workflows pull review -o review.json && $EDITOR review.json && aura workflows push review.json

A file that carries `version` (as `pull` writes it) is refused with a conflict when
someone saved a newer version since; pull again, or drop `version` to overwrite.")]
    Push {
        /// The workflow file (JSON).
        file: PathBuf,
    },
    /// Write a workflow's current version as a file `push` takes back.
    #[command(after_help = "Example:\n  aura workflows pull review -o review.json")]
    Pull {
        /// Its id or exact name.
        workflow: String,
        /// The file to write (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// A workflow as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workflow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub current_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub definition: Value,
}

/// A workflow file.
#[derive(Debug, Serialize, Deserialize)]
struct WorkflowFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
    definition: Value,
}

pub async fn run(command: Command, json: bool) -> Result<ExitCode, CliError> {
    let client = Client::from_login()?;
    match command {
        Command::List => list(&client, json).await,
        Command::Show { workflow } => show(&client, &workflow, json).await,
        Command::Push { file } => push(&client, &file, json).await,
        Command::Pull { workflow, output } => pull(&client, &workflow, output, json).await,
    }
}

/// The workflow with this id, or else the one with this exact name.
pub async fn resolve(client: &Client, id_or_name: &str) -> Result<Workflow, CliError> {
    match client
        .get::<Workflow>(&format!("/workflows/{}", path_segment(id_or_name)))
        .await
    {
        Err(err) if is_not_found(&err) => {}
        other => return other,
    }
    let all: Vec<Workflow> = client.get("/workflows").await?;
    let mut named: Vec<Workflow> = all.into_iter().filter(|w| w.name == id_or_name).collect();
    match named.len() {
        0 => Err(CliError::Failed(format!(
            "no workflow of yours has the id or name `{id_or_name}`; `aura workflows list` shows them"
        ))),
        1 => Ok(named.remove(0)),
        n => Err(CliError::Failed(format!(
            "{n} workflows are named `{id_or_name}`; use the id (`aura workflows list`)"
        ))),
    }
}

/// A path segment: ids are URL-safe; a name given where an id may be is escaped.
pub fn path_segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

async fn list(client: &Client, json: bool) -> Result<ExitCode, CliError> {
    let all: Vec<Workflow> = client.get("/workflows").await?;
    if json {
        print_json(&all);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|w| {
            vec![
                w.id.clone(),
                w.name.clone(),
                w.current_version.to_string(),
                step_count(&w.definition).to_string(),
                when(w.updated_at),
            ]
        })
        .collect();
    print_table(
        &["ID", "NAME", "VERSION", "STEPS", "UPDATED (UTC)"],
        &rows,
        "No workflows yet. Create one with `aura workflows push FILE`.",
    );
    Ok(ExitCode::SUCCESS)
}

fn step_count(definition: &Value) -> usize {
    definition["steps"].as_array().map_or(0, Vec::len)
}

async fn show(client: &Client, id_or_name: &str, json: bool) -> Result<ExitCode, CliError> {
    let workflow = resolve(client, id_or_name).await?;
    if json {
        print_json(&workflow);
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::stdout();
    println!(
        "{}  {}",
        style.bold(&workflow.name),
        style.dim(&workflow.id)
    );
    if !workflow.description.is_empty() {
        println!("{}", workflow.description);
    }
    println!(
        "version {}, updated {} UTC\n",
        workflow.current_version,
        when(workflow.updated_at)
    );
    let rows: Vec<Vec<String>> = workflow.definition["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| {
            let next: Vec<String> = step["next"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|edge| {
                    let to = edge["to"].as_str().unwrap_or("?");
                    match edge["branch"].as_str() {
                        Some(branch) => format!("{to} (if {branch})"),
                        None => to.to_owned(),
                    }
                })
                .collect();
            vec![
                step["id"].as_str().unwrap_or("?").to_owned(),
                step["type"].as_str().unwrap_or("?").to_owned(),
                if next.is_empty() {
                    "-".into()
                } else {
                    next.join(", ")
                },
            ]
        })
        .collect();
    print_table(&["STEP", "TYPE", "NEXT"], &rows, "No steps.");
    Ok(ExitCode::SUCCESS)
}

async fn push(client: &Client, path: &PathBuf, json: bool) -> Result<ExitCode, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(CliError::io(format!("could not read {}", path.display())))?;
    let file: WorkflowFile = serde_json::from_str(&text).map_err(|err| {
        CliError::Usage(format!(
            "{} is not a workflow file ({err}); it needs `name` and `definition: {{\"steps\": [...]}}`",
            path.display()
        ))
    })?;
    let body = serde_json::json!({
        "name": file.name,
        "description": file.description,
        "definition": file.definition,
        "expected_version": file.version,
    });
    let existing = match &file.id {
        Some(id) => Some(resolve(client, id).await?),
        None => {
            let all: Vec<Workflow> = client.get("/workflows").await?;
            let mut named: Vec<Workflow> =
                all.into_iter().filter(|w| w.name == file.name).collect();
            if named.len() > 1 {
                return Err(CliError::Failed(format!(
                    "{} workflows are named `{}`; add the one you mean as `\"id\"` to the file",
                    named.len(),
                    file.name
                )));
            }
            named.pop()
        }
    };
    let (saved, verb): (Workflow, &str) = match existing {
        Some(workflow) => (
            client
                .put(&format!("/workflows/{}", workflow.id), &body)
                .await
                .map_err(|err| stale_hint(err, path))?,
            "Saved",
        ),
        None => (client.post("/workflows", &body).await?, "Created"),
    };
    if json {
        print_json(&saved);
    } else {
        println!(
            "{verb} workflow {} ({}) at version {}.",
            saved.name, saved.id, saved.current_version
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A 409 on push: say how to get out of it.
fn stale_hint(err: CliError, path: &std::path::Path) -> CliError {
    match err {
        CliError::Api {
            status: 409,
            code,
            message,
            details,
            request_id,
        } => CliError::Api {
            status: 409,
            code,
            message: format!(
                "{message} Pull the current version (`aura workflows pull … -o {}`) and apply your change to it, or remove `version` from the file to overwrite.",
                path.display()
            ),
            details,
            request_id,
        },
        other => other,
    }
}

async fn pull(
    client: &Client,
    id_or_name: &str,
    output: Option<PathBuf>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let workflow = resolve(client, id_or_name).await?;
    let file = WorkflowFile {
        id: Some(workflow.id.clone()),
        name: workflow.name.clone(),
        description: workflow.description.clone(),
        version: Some(workflow.current_version),
        definition: workflow.definition.clone(),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|err| CliError::Failed(format!("could not write JSON: {err}")))?;
    match output {
        None => println!("{text}"),
        Some(path) => {
            std::fs::write(&path, format!("{text}\n"))
                .map_err(CliError::io(format!("could not write {}", path.display())))?;
            if json {
                print_json(&workflow);
            } else {
                eprintln!(
                    "Wrote {} version {} to {}.",
                    workflow.name,
                    workflow.current_version,
                    path.display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
