//! `aura runs`: start (optionally waiting for or following the run), list, show, logs,
//! cancel, resume, and approve or reject a waiting approval step. A run that fails or is cancelled while the command waits for it
//! ends the command with exit code 1.

use super::CliError;
use super::client::Client;
use super::output::{Spinner, Style, clock, print_json, print_table, took, when};
use super::sse::{self, RunEvent, Until};
use super::workflows;
use aura_types::{EventKind, RunStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Read;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Start a run of a workflow's current version.
    #[command(after_help = "\
Examples:
  aura runs start review --input @input.json --wait     prints the run's output
  aura runs start review --input '{\"repo\": \"aura\"}' --follow
  cat input.json | aura runs start review --input -

With --wait or --follow the exit code is 1 when the run fails or is cancelled.")]
    Start {
        /// The workflow's id or exact name.
        workflow: String,
        /// The input, a JSON object: inline, `@FILE`, or `-` for stdin (default `{}`).
        #[arg(long, short)]
        input: Option<String>,
        /// Wait for the run to end, then print its output.
        #[arg(long)]
        wait: bool,
        /// Print the run's events as they happen, then its output.
        #[arg(long, conflicts_with = "wait")]
        follow: bool,
    },
    /// Your runs, newest first.
    #[command(after_help = "Example:\n  aura runs list --workflow review --status failed")]
    List {
        /// Only runs of this workflow (id or name).
        #[arg(long, short)]
        workflow: Option<String>,
        /// Only runs with this status: queued, running, waiting, succeeded, failed or
        /// cancelled.
        #[arg(long, short)]
        status: Option<String>,
        /// How many runs (1 to 200).
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: i64,
    },
    /// One run: its steps, their status and errors, and its output.
    #[command(after_help = "Example:\n  aura runs show RUN_ID")]
    Show {
        /// The run's id.
        run: String,
    },
    /// A run's events and step logs.
    #[command(after_help = "Example:\n  aura runs logs 0193a… --follow")]
    Logs {
        /// The run's id.
        run: String,
        /// Keep printing events until the run ends.
        #[arg(long, short)]
        follow: bool,
    },
    /// Approve a run's waiting approval step; the run goes on.
    #[command(after_help = "Example:\n  aura runs approve RUN_ID review --comment 'Looks right'")]
    Approve {
        /// The run's id.
        run: String,
        /// The approval step's id.
        step: String,
        /// Why; later steps read it as `steps.<step>.output.comment`.
        #[arg(long, short, default_value = "")]
        comment: String,
    },
    /// Reject a run's waiting approval step; the run goes on with `approved` false.
    #[command(
        after_help = "Example:\n  aura runs reject RUN_ID review --comment 'Touches the schema'"
    )]
    Reject {
        /// The run's id.
        run: String,
        /// The approval step's id.
        step: String,
        /// Why; later steps read it as `steps.<step>.output.comment`.
        #[arg(long, short, default_value = "")]
        comment: String,
    },
    /// Stop a queued, running or waiting run.
    #[command(after_help = "Example:\n  aura runs cancel RUN_ID")]
    Cancel {
        /// The run's id.
        run: String,
    },
    /// Run a failed or cancelled run again from its failed steps.
    #[command(after_help = "Example:\n  aura runs resume RUN_ID && aura runs logs RUN_ID --follow")]
    Resume {
        /// The run's id.
        run: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Run {
    id: String,
    workflow_id: String,
    workflow_version: i64,
    status: RunStatus,
    #[serde(default)]
    input: Value,
    error: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Step {
    step_id: String,
    status: String,
    attempt: i64,
    #[serde(default)]
    output: Value,
    error: Option<String>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Detail {
    run: Run,
    steps: Vec<Step>,
    #[serde(default)]
    output: Value,
}

#[derive(Debug, Serialize, Deserialize)]
struct ListItem {
    id: String,
    workflow_id: String,
    workflow_name: String,
    workflow_version: i64,
    status: RunStatus,
    error: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Page {
    runs: Vec<ListItem>,
    next_cursor: Option<String>,
}

pub async fn run(command: Command, json: bool) -> Result<ExitCode, CliError> {
    let client = Client::from_login()?;
    match command {
        Command::Start {
            workflow,
            input,
            wait,
            follow,
        } => {
            let input = read_input(input.as_deref())?;
            let workflow = workflows::resolve(&client, &workflow).await?;
            let run: Run = client
                .post(
                    &format!("/workflows/{}/runs", workflow.id),
                    &serde_json::json!({ "input": input }),
                )
                .await?;
            if follow {
                return watch(&client, &run.id, Watch::Print, json).await;
            }
            if wait {
                return watch(&client, &run.id, Watch::Spinner, json).await;
            }
            if json {
                print_json(&run);
            } else {
                println!(
                    "Started run {} of {} (version {}). Follow it with `aura runs logs {} --follow`.",
                    run.id, workflow.name, run.workflow_version, run.id
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List {
            workflow,
            status,
            limit,
        } => list(&client, workflow, status, limit, json).await,
        Command::Show { run } => {
            let detail = detail(&client, &run).await?;
            if json {
                print_json(&detail);
            } else {
                print_detail(&detail);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Logs { run, follow } => {
            let until = if follow {
                Until::Finished
            } else {
                Until::CaughtUp
            };
            stream_events(&client, &run, until, true, json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Approve { run, step, comment } => {
            decide(&client, &run, &step, true, &comment, json).await
        }
        Command::Reject { run, step, comment } => {
            decide(&client, &run, &step, false, &comment, json).await
        }
        Command::Cancel { run } => control(&client, &run, "cancel", "Cancelled", json).await,
        Command::Resume { run } => control(&client, &run, "resume", "Resumed", json).await,
    }
}

/// The `--input` value as a JSON object.
pub(super) fn read_input(input: Option<&str>) -> Result<Value, CliError> {
    let (text, from) = match input {
        None => return Ok(Value::Object(Default::default())),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(CliError::io("could not read the input from stdin"))?;
            (text, "stdin".to_owned())
        }
        Some(value) => match value.strip_prefix('@') {
            Some(path) => (
                std::fs::read_to_string(path)
                    .map_err(CliError::io(format!("could not read {path}")))?,
                path.to_owned(),
            ),
            None => (value.to_owned(), "--input".to_owned()),
        },
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|err| CliError::Usage(format!("the input in {from} is not JSON: {err}")))?;
    if !value.is_object() {
        return Err(CliError::Usage(format!(
            "the input in {from} must be a JSON object, like {{\"name\": \"value\"}}"
        )));
    }
    Ok(value)
}

async fn detail(client: &Client, run_id: &str) -> Result<Detail, CliError> {
    client
        .get(&format!("/runs/{}", workflows::path_segment(run_id)))
        .await
}

enum Watch {
    Print,
    Spinner,
}

/// Waits for the run to end, printing its events or showing a spinner, then prints its
/// output (or its error, with exit code 1).
async fn watch(
    client: &Client,
    run_id: &str,
    how: Watch,
    json: bool,
) -> Result<ExitCode, CliError> {
    stream_events(
        client,
        run_id,
        Until::Finished,
        matches!(how, Watch::Print),
        json,
    )
    .await?;
    let detail = detail(client, run_id).await?;
    if json {
        match how {
            // One JSON document per line: the events, then the run.
            Watch::Print => println!("{}", serde_json::to_string(&detail).unwrap_or_default()),
            Watch::Spinner => print_json(&detail),
        }
    } else if detail.run.status == RunStatus::Succeeded {
        print_json(&detail.output);
    }
    if detail.run.status == RunStatus::Succeeded {
        return Ok(ExitCode::SUCCESS);
    }
    let stderr = Style::stderr();
    eprintln!(
        "{} run {} {}: {}",
        stderr.red("error:"),
        run_id,
        detail.run.status,
        detail.run.error.as_deref().unwrap_or("no reason given")
    );
    for step in detail.steps.iter().filter(|s| s.status == "failed") {
        eprintln!(
            "  step {} (attempt {}): {}",
            step.step_id,
            step.attempt,
            step.error.as_deref().unwrap_or("failed")
        );
    }
    Ok(ExitCode::FAILURE)
}

/// Follows the run's events until `until`, printing them when `print`. While the run is
/// followed live, a spinner on stderr (a terminal only) counts the steps done.
async fn stream_events(
    client: &Client,
    run_id: &str,
    until: Until,
    print: bool,
    json: bool,
) -> Result<(), CliError> {
    let style = Style::stdout();
    let spinner = matches!(until, Until::Finished).then(|| Spinner::start(format!("run {run_id}")));
    let mut done = 0_usize;
    sse::follow(client, run_id, until, |event| {
        if event.kind == EventKind::StepSucceeded.as_str() {
            done += 1;
        }
        if let Some(spinner) = &spinner {
            spinner.set(format!("run {run_id}: {done} steps done"));
        }
        if print {
            for line in event_lines(run_id, &event, &style, json) {
                match &spinner {
                    Some(spinner) => spinner.println(&line),
                    None => println!("{line}"),
                }
            }
        } else if !json && event.kind == EventKind::StepWaiting.as_str() {
            // `--wait` keeps stdout for the output; that the run now waits for a person
            // (and how to decide) is said on stderr.
            for line in event_lines(run_id, &event, &Style::stderr(), false) {
                match &spinner {
                    Some(spinner) => spinner.eprintln(&line),
                    None => eprintln!("{line}"),
                }
            }
        }
    })
    .await
}

/// One event as lines: its time, what happened, and the detail that matters (a log
/// chunk gives a line per line of text).
fn event_lines(run_id: &str, event: &RunEvent, style: &Style, json: bool) -> Vec<String> {
    if json {
        return vec![serde_json::to_string(event).unwrap_or_default()];
    }
    let at = style.dim(&clock(event.created_at));
    let step = event.step_id.as_deref().unwrap_or("");
    let Ok(kind) = EventKind::try_from(event.kind.clone()) else {
        return vec![format!("{at}  {} {step}", event.kind)];
    };
    let error = event.detail["error"].as_str().unwrap_or("");
    let attempt = event.detail["attempt"].as_i64().unwrap_or(1);
    let line = match kind {
        EventKind::StepLog => {
            let text = event.detail["text"].as_str().unwrap_or("");
            let prefix = style.dim(&format!("{step} │"));
            return text
                .lines()
                .map(|line| format!("{at}  {prefix} {line}"))
                .collect();
        }
        EventKind::RunQueued => "run queued".to_owned(),
        EventKind::RunResumed => "run resumed".to_owned(),
        EventKind::RunSucceeded => style.green("run succeeded"),
        EventKind::RunFailed => style.red("run failed"),
        EventKind::RunCancelled => format!(
            "{} {}",
            style.dim("run cancelled"),
            event.detail["reason"].as_str().unwrap_or("")
        ),
        EventKind::StepStarted => format!("step {} started (attempt {attempt})", style.bold(step)),
        EventKind::StepSucceeded => {
            format!("step {} {}", style.bold(step), style.green("succeeded"))
        }
        EventKind::StepFailed => {
            format!("step {} {}: {error}", style.bold(step), style.red("failed"))
        }
        EventKind::StepRetrying => format!(
            "step {} {} after attempt {attempt}: {error}",
            style.bold(step),
            style.yellow("will retry")
        ),
        EventKind::StepSkipped => format!("step {} {}", style.bold(step), style.dim("skipped")),
        EventKind::StepWaiting => format!(
            "step {} {}: {} (decide with `aura runs approve|reject {} {step}`)",
            style.bold(step),
            style.yellow("waits for a decision"),
            event.detail["message"].as_str().unwrap_or(""),
            run_id
        ),
    };
    vec![format!("{at}  {line}")]
}

fn print_detail(detail: &Detail) {
    let style = Style::stdout();
    let run = &detail.run;
    println!(
        "run {}  {}\nworkflow {} version {}\nstarted {} UTC, took {}",
        style.bold(&run.id),
        style.status(run.status.as_str()),
        run.workflow_id,
        run.workflow_version,
        when(run.created_at),
        took(Some(run.created_at), run.finished_at)
    );
    if let Some(error) = &run.error {
        println!("{} {error}", style.red("error:"));
    }
    println!();
    let rows: Vec<Vec<String>> = detail
        .steps
        .iter()
        .map(|s| {
            vec![
                s.step_id.clone(),
                style.status(&s.status),
                s.attempt.to_string(),
                took(s.started_at, s.finished_at),
                s.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print_table(
        &["STEP", "STATUS", "ATTEMPT", "TOOK", "ERROR"],
        &rows,
        "No steps.",
    );
    if !detail.output.is_null() {
        println!("\noutput:");
        print_json(&detail.output);
    }
}

async fn list(
    client: &Client,
    workflow: Option<String>,
    status: Option<String>,
    limit: i64,
    json: bool,
) -> Result<ExitCode, CliError> {
    let mut query = vec![("limit", limit.to_string())];
    if let Some(workflow) = workflow {
        query.push((
            "workflow_id",
            workflows::resolve(client, &workflow).await?.id,
        ));
    }
    if let Some(status) = status {
        query.push(("status", status));
    }
    let page: Page = client
        .data(client.request(reqwest::Method::GET, "/runs").query(&query))
        .await?;
    if json {
        print_json(&page);
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::stdout();
    let rows: Vec<Vec<String>> = page
        .runs
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                format!("{} v{}", r.workflow_name, r.workflow_version),
                style.status(r.status.as_str()),
                when(r.created_at),
                took(Some(r.created_at), r.finished_at),
            ]
        })
        .collect();
    print_table(
        &["ID", "WORKFLOW", "STATUS", "STARTED (UTC)", "TOOK"],
        &rows,
        "No runs match. Start one with `aura runs start WORKFLOW`.",
    );
    Ok(ExitCode::SUCCESS)
}

async fn control(
    client: &Client,
    run_id: &str,
    action: &str,
    done: &str,
    json: bool,
) -> Result<ExitCode, CliError> {
    let run: Run = client
        .post(
            &format!("/runs/{}/{action}", workflows::path_segment(run_id)),
            &serde_json::json!({}),
        )
        .await?;
    if json {
        print_json(&run);
    } else {
        println!("{done} run {} (now {}).", run.id, run.status);
    }
    Ok(ExitCode::SUCCESS)
}

async fn decide(
    client: &Client,
    run_id: &str,
    step: &str,
    approved: bool,
    comment: &str,
    json: bool,
) -> Result<ExitCode, CliError> {
    let run: Run = client
        .post(
            &format!(
                "/runs/{}/steps/{}/decision",
                workflows::path_segment(run_id),
                workflows::path_segment(step)
            ),
            &serde_json::json!({ "approved": approved, "comment": comment }),
        )
        .await?;
    if json {
        print_json(&run);
    } else {
        let verb = if approved { "Approved" } else { "Rejected" };
        println!("{verb} step {step} of run {} (now {}).", run.id, run.status);
    }
    Ok(ExitCode::SUCCESS)
}
