//! Follows a run's event stream (`text/event-stream`, parsed by `aura_ai::sse`, the
//! parser model streams use too), reconnecting with `Last-Event-ID` when the connection
//! drops before the run has finished.

use super::CliError;
use super::client::Client;
use aura_ai::sse::Parser;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One run event, as the stream's `data` carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunEvent {
    pub id: i64,
    pub kind: String,
    pub step_id: Option<String>,
    #[serde(default)]
    pub detail: Value,
    pub created_at: i64,
}

/// When the server ends the stream (the API's `until`).
#[derive(Debug, Clone, Copy)]
pub enum Until {
    CaughtUp,
    Finished,
}

impl Until {
    fn as_str(self) -> &'static str {
        match self {
            Until::CaughtUp => "caught_up",
            Until::Finished => "finished",
        }
    }
}

/// Calls `on_event` for each of the run's events after `after`, until the server ends
/// the stream as `until` asks. A dropped connection is retried (up to 5 times in a row,
/// with growing pauses) from the last event seen.
pub async fn follow(
    client: &Client,
    run_id: &str,
    until: Until,
    mut on_event: impl FnMut(RunEvent),
) -> Result<(), CliError> {
    let mut last_id = 0_i64;
    let mut failures = 0_u32;
    loop {
        let request = client
            .request(Method::GET, &format!("/runs/{run_id}/events"))
            .query(&[("until", until.as_str())])
            .header("Last-Event-ID", last_id.to_string())
            .header("Accept", "text/event-stream");
        let outcome = async {
            let mut response = client.send(request).await?;
            let mut parser = Parser::default();
            while let Some(chunk) = response.chunk().await.map_err(|e| client.transport(e))? {
                failures = 0;
                for data in parser.feed(&chunk) {
                    let event: RunEvent = serde_json::from_str(&data).map_err(|err| {
                        CliError::Failed(format!(
                            "the server sent an event this CLI cannot read: {err}"
                        ))
                    })?;
                    last_id = last_id.max(event.id);
                    on_event(event);
                }
            }
            Ok::<(), CliError>(())
        }
        .await;
        match outcome {
            // The server ended the stream: caught up, or the run finished. It also ends
            // streams on its own (a restart); then the run is not finished yet.
            Ok(()) => {
                if matches!(until, Until::CaughtUp) || run_finished(client, run_id).await? {
                    return Ok(());
                }
            }
            Err(err @ (CliError::Transport { .. } | CliError::Api { status: 503, .. })) => {
                failures += 1;
                if failures > 5 {
                    return Err(err);
                }
            }
            Err(err) => return Err(err),
        }
        tokio::time::sleep(std::time::Duration::from_millis(250 << failures.min(5))).await;
    }
}

async fn run_finished(client: &Client, run_id: &str) -> Result<bool, CliError> {
    #[derive(Deserialize)]
    struct Detail {
        run: Run,
    }
    #[derive(Deserialize)]
    struct Run {
        status: aura_types::RunStatus,
    }
    let detail: Detail = client.get(&format!("/runs/{run_id}")).await?;
    Ok(detail.run.status.is_finished())
}
