//! `aura schedules`: a workflow's schedules, through the REST API. `preview` shows a
//! rule in words and its next fires without saving anything.

use super::CliError;
use super::client::Client;
use super::output::{print_json, print_table, when};
use super::workflows::{path_segment, resolve};
use serde::Deserialize;
use serde_json::{Value, json};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A workflow's schedules with their next and last fires.
    #[command(after_help = "Example:\n  aura schedules list review")]
    List {
        /// The workflow's id or exact name.
        workflow: String,
    },
    /// Show a rule in words and its next five fires, saving nothing.
    #[command(after_help = "\
Examples:
  aura schedules preview --cron '0 9 * * 1-5' --timezone Europe/Berlin
  aura schedules preview --every '13 hours'")]
    Preview {
        #[command(flatten)]
        rule: RuleArgs,
    },
    /// Make a schedule.
    #[command(after_help = "\
Examples:
  aura schedules create review --name Nightly --cron '0 2 * * *' --timezone Europe/Berlin
  aura schedules create review --name Poll --every '15 minutes' --input '{\"depth\": 1}' --overlap queue
  aura schedules create review --name Hourly --cron @hourly --catch-up last --catch-up-window-secs 1800")]
    Create {
        /// The workflow's id or exact name.
        workflow: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        rule: RuleArgs,
        /// The runs' input, a JSON object (or @file.json).
        #[arg(long)]
        input: Option<String>,
        /// When the previous run is still going: skip (default), queue or allow.
        #[arg(long)]
        overlap: Option<String>,
        /// After downtime: none (default) or last.
        #[arg(long)]
        catch_up: Option<String>,
        /// How old a missed fire `last` still runs (default 3600).
        #[arg(long)]
        catch_up_window_secs: Option<u32>,
        /// Save it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// Stop a schedule firing until it is enabled.
    Disable { id: String },
    /// Let a schedule fire again (from its next time after now).
    Enable { id: String },
    /// Delete a schedule; its runs stay.
    #[command(after_help = "Example:\n  aura schedules delete 0193a…")]
    Delete { id: String },
}

#[derive(Debug, clap::Args)]
pub struct RuleArgs {
    /// Five cron fields in the time zone's wall clock, or @hourly, @daily…
    #[arg(long, conflicts_with = "every", required_unless_present = "every")]
    cron: Option<String>,
    /// "N minutes" or "N hours" of real time.
    #[arg(long)]
    every: Option<String>,
    /// An IANA zone (default UTC).
    #[arg(long)]
    timezone: Option<String>,
}

impl RuleArgs {
    fn rule(&self) -> Result<Value, CliError> {
        if let Some(expression) = &self.cron {
            return Ok(json!({ "kind": "cron", "expression": expression }));
        }
        let every = self.every.as_deref().unwrap_or_default();
        let (count, unit) = every.trim().split_once(' ').unwrap_or((every, "minutes"));
        let count: u32 = count.trim().parse().map_err(|_| {
            CliError::Usage(format!(
                "--every takes \"N minutes\" or \"N hours\", not {every:?}"
            ))
        })?;
        let unit = match unit.trim().trim_end_matches('s') {
            "minute" | "min" | "m" => "minutes",
            "hour" | "h" => "hours",
            other => {
                return Err(CliError::Usage(format!(
                    "--every counts minutes or hours, not {other:?}"
                )));
            }
        };
        Ok(json!({ "kind": "every", "count": count, "unit": unit }))
    }
}

#[derive(Debug, Deserialize)]
struct Upcoming {
    local: String,
}

#[derive(Debug, Deserialize)]
struct Schedule {
    id: String,
    name: String,
    rule: Value,
    description: String,
    timezone: String,
    input: Value,
    enabled: bool,
    overlap: String,
    catch_up: String,
    catch_up_window_secs: u32,
    upcoming: Vec<Upcoming>,
    last_fire_at: Option<i64>,
    last_outcome: Option<String>,
    last_run_status: Option<String>,
}

impl Schedule {
    fn spec(&self, enabled: bool) -> Value {
        json!({
            "name": self.name, "rule": self.rule, "timezone": self.timezone, "input": self.input,
            "enabled": enabled, "overlap": self.overlap, "catch_up": self.catch_up,
            "catch_up_window_secs": self.catch_up_window_secs,
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
                    "/workflows/{}/schedules",
                    path_segment(&workflow.id)
                ))
                .await?;
            if json {
                print_json(&raw);
                return Ok(ExitCode::SUCCESS);
            }
            let schedules: Vec<Schedule> = parse(raw)?;
            let rows: Vec<Vec<String>> = schedules
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.name.clone(),
                        format!("{} ({})", s.description, s.timezone),
                        if s.enabled { "yes" } else { "no" }.into(),
                        s.upcoming.first().map_or("-".into(), |u| u.local.clone()),
                        match (s.last_fire_at, &s.last_outcome) {
                            (Some(at), Some(outcome)) => format!(
                                "{} {outcome}{}",
                                when(at),
                                s.last_run_status
                                    .as_deref()
                                    .map(|st| format!(", run {st}"))
                                    .unwrap_or_default()
                            ),
                            _ => "-".into(),
                        },
                    ]
                })
                .collect();
            print_table(
                &["ID", "NAME", "WHEN", "ON", "NEXT", "LAST (UTC)"],
                &rows,
                &format!(
                    "No schedules on {} yet. Make one with `aura schedules create {} --name NAME --cron '0 2 * * *'`.",
                    workflow.name, workflow.name
                ),
            );
        }
        Command::Preview { rule } => {
            let spec =
                json!({ "name": "preview", "rule": rule.rule()?, "timezone": rule.timezone });
            let raw: Value = client.post("/schedules/preview", &spec).await?;
            if json {
                print_json(&raw);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{} ({})",
                raw["description"].as_str().unwrap_or_default(),
                raw["timezone"].as_str().unwrap_or_default()
            );
            for next in raw["upcoming"].as_array().into_iter().flatten() {
                println!("  {}", next["local"].as_str().unwrap_or_default());
            }
        }
        Command::Create {
            workflow,
            name,
            rule,
            input,
            overlap,
            catch_up,
            catch_up_window_secs,
            disabled,
        } => {
            let workflow = resolve(&client, &workflow).await?;
            let input = super::runs::read_input(input.as_deref())?;
            let spec = json!({
                "name": name, "rule": rule.rule()?, "timezone": rule.timezone, "input": input,
                "enabled": !disabled, "overlap": overlap, "catch_up": catch_up,
                "catch_up_window_secs": catch_up_window_secs,
            });
            let raw: Value = client
                .post(
                    &format!("/workflows/{}/schedules", path_segment(&workflow.id)),
                    &spec,
                )
                .await?;
            if json {
                print_json(&raw);
                return Ok(ExitCode::SUCCESS);
            }
            let schedule: Schedule = parse(raw)?;
            println!(
                "Made schedule {} ({}): {} ({}).",
                schedule.name, schedule.id, schedule.description, schedule.timezone
            );
            for next in &schedule.upcoming {
                println!("  next: {}", next.local);
            }
        }
        Command::Enable { id } => set_enabled(&client, &id, true, json).await?,
        Command::Disable { id } => set_enabled(&client, &id, false, json).await?,
        Command::Delete { id } => {
            let deleted: Value = client
                .data(client.request(
                    reqwest::Method::DELETE,
                    &format!("/schedules/{}", path_segment(&id)),
                ))
                .await?;
            if json {
                print_json(&deleted);
            } else {
                println!("Deleted schedule {id}.");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_enabled(client: &Client, id: &str, enabled: bool, json: bool) -> Result<(), CliError> {
    let path = format!("/schedules/{}", path_segment(id));
    let current: Schedule = parse(client.get(&path).await?)?;
    let raw: Value = client.put(&path, &current.spec(enabled)).await?;
    if json {
        print_json(&raw);
        return Ok(());
    }
    let schedule: Schedule = parse(raw)?;
    println!(
        "Schedule {} ({}) is {}.",
        schedule.name,
        schedule.id,
        if schedule.enabled {
            "enabled"
        } else {
            "disabled"
        }
    );
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(raw: Value) -> Result<T, CliError> {
    serde_json::from_value(raw)
        .map_err(|err| CliError::Failed(format!("unexpected answer from the server: {err}")))
}
