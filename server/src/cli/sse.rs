//! Reads a run's event stream (`text/event-stream`) as the CLI follows it: the parser
//! for the wire format, and a follower that reconnects with `Last-Event-ID` when the
//! connection drops before the run has finished.

use super::CliError;
use super::client::Client;
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

/// Splits a byte stream into server-sent events. Comments (keep-alives) and fields
/// other than `data` are skipped: the event's id and kind are also inside `data`.
#[derive(Debug, Default)]
pub struct Parser {
    buffer: Vec<u8>,
    data: Vec<String>,
}

impl Parser {
    /// Feeds bytes; returns the `data` of every event they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(self.data.join("\n"));
                    self.data.clear();
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                self.data
                    .push(value.strip_prefix(' ').unwrap_or(value).to_owned());
            }
        }
        events
    }
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

#[cfg(test)]
mod tests {
    use super::Parser;

    #[test]
    fn events_split_across_chunks_and_keep_alives_are_skipped() {
        let mut parser = Parser::default();
        assert!(
            parser
                .feed(b": keep-alive\n\nid: 1\nevent: run_q")
                .is_empty()
        );
        assert_eq!(
            parser.feed(b"ueued\ndata: {\"id\":1}\n\n"),
            vec!["{\"id\":1}".to_owned()]
        );
        assert_eq!(
            parser.feed(b"data: a\r\ndata:b\r\n\r\ndata: c\n"),
            vec!["a\nb".to_owned()]
        );
        assert_eq!(parser.feed(b"\n"), vec!["c".to_owned()]);
    }
}
