//! The agent's loop: model → tool calls → results → model, until `finish`, a budget, or
//! the stuck detector ends it. Every model answer and tool result is committed to the
//! transcript as it happens; an attempt starts by replaying it, so a restart resumes at
//! the last committed entry without asking the model again for a turn it answered.

use super::transcript::{self, ModelTurn, Replay, Start, ToolResult};
use super::workbench::{Answer, BaseFile, Workbench, WorkbenchLimits};
use crate::definition::{AgentConfig, AgentTool};
use crate::exec::{Attempt, Executors};
use crate::http::HttpRequest;
use crate::step::StepFailure;
use crate::workspace::Workspace;
use aura_ai::{ChatRequest, Message, ToolCall, ToolSpec};
use serde_json::{Value, json};

/// The same call with the same answer this many times in a row, or this many failed edits
/// in a row, and the agent is stuck.
pub(crate) const STUCK_AFTER: usize = 3;

/// Where the agent works and for whom.
pub(crate) struct Session<'a> {
    pub config: &'a AgentConfig,
    pub goal: String,
    pub exec: &'a Executors,
    pub workspace: &'a Workspace,
    pub llm: &'a aura_ai::Llm,
    /// The step's attempt: its context, log, cancel flag and timeout (scripts use them).
    pub attempt: &'a Attempt<'a>,
    pub caller: &'a aura_ai::CallContext,
    pub run_id: &'a str,
    pub step_id: &'a str,
}

/// How the loop ended, for the step's output.
pub(crate) struct Finished {
    pub summary: String,
    pub replay: Replay,
    pub workbench: Workbench,
}

impl Session<'_> {
    fn store(&self) -> &aura_store::Store {
        self.workspace.store()
    }

    async fn append(
        &self,
        seq: &mut i64,
        kind: &str,
        body: &impl serde::Serialize,
    ) -> Result<(), StepFailure> {
        let body = serde_json::to_string(body).map_err(|e| StepFailure::fatal(e.to_string()))?;
        let appended = self
            .store()
            .append_agent_turn(self.run_id, self.step_id, *seq, kind, &body)
            .await
            .map_err(|e| StepFailure::retryable(format!("Could not save the transcript: {e}")))?;
        if !appended {
            return Err(StepFailure::retryable(
                "Another worker took this step over; this attempt stops.",
            ));
        }
        *seq += 1;
        Ok(())
    }

    /// Replays the transcript, or starts one: the goal and the files as found now.
    async fn resume(&self) -> Result<(Replay, Workbench), StepFailure> {
        let turns = self
            .store()
            .agent_turns(self.run_id, self.step_id)
            .await
            .map_err(|e| StepFailure::retryable(format!("Could not read the transcript: {e}")))?;
        let mut replay = Replay::of(&turns).map_err(StepFailure::fatal)?;
        if replay.start.is_none() {
            let project = self
                .workspace
                .project(&self.caller.user_id, &self.config.project)
                .await?;
            let files = self.workspace.files(&project.id).await?;
            let start = Start {
                goal: self.goal.clone(),
                project_id: project.id,
                base: files
                    .iter()
                    .map(|f| {
                        (
                            f.entry.path.clone(),
                            f.entry.id.clone(),
                            f.entry.current_revision,
                        )
                    })
                    .collect(),
                started_at: aura_store::now_millis(),
            };
            let mut seq = replay.next_seq;
            self.append(&mut seq, transcript::START, &start).await?;
            replay.start = Some(start);
            replay.next_seq = seq;
        }
        let start = replay
            .start
            .clone()
            .unwrap_or_else(|| unreachable!("start was written"));
        // Revisions never change: the files are exactly as the agent first saw them.
        let mut base = Vec::with_capacity(start.base.len());
        for (path, entry, revision) in &start.base {
            let content = self
                .store()
                .read_revision(entry, *revision)
                .await
                .map_err(|e| StepFailure::retryable(e.to_string()))?
                .unwrap_or_default();
            base.push(BaseFile {
                path: path.clone(),
                revision: *revision,
                content,
            });
        }
        let limits = WorkbenchLimits {
            max_total_bytes: usize::try_from(self.exec.project_limits.max_project_bytes)
                .unwrap_or(usize::MAX),
            ..WorkbenchLimits::default()
        };
        let mut workbench = Workbench::new(base, limits);
        for (call, result) in &replay.answered {
            if !result.is_error && matches!(call.name.as_str(), "edit_file" | "write_file") {
                let _ = apply_edit(&mut workbench, call);
            }
        }
        Ok((replay, workbench))
    }

    /// Runs the loop to its end.
    pub(crate) async fn run(&self) -> Result<Finished, StepFailure> {
        let (mut replay, mut workbench) = self.resume().await?;
        let mut seq = replay.next_seq;
        let tools = tool_specs(&self.config.tools);
        loop {
            // Calls of the last answer not answered yet; one started but never answered
            // (a restart in the middle) is answered as lost, never run again.
            if let Some(call) = replay.pending.first().cloned() {
                let (content, is_error) = if replay.started.contains(&call.id) {
                    (
                        "The result of this call was lost when the step's attempt ended (a \
                         restart or a timeout); it was not run again."
                            .to_owned(),
                        true,
                    )
                } else {
                    match self.call(&mut seq, &mut workbench, &call).await? {
                        Ok(text) => (text, false),
                        Err(text) => (text, true),
                    }
                };
                self.attempt.log.line(&format!(
                    "  {} {}: {}",
                    if is_error { "✗" } else { "←" },
                    call.name,
                    first_line(&content)
                ));
                let result = ToolResult {
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    content,
                    is_error,
                };
                self.append(&mut seq, transcript::TOOL_RESULT, &result)
                    .await?;
                replay.push_result(result);
                if call.name == "finish" {
                    let summary = call.arguments["summary"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    return Ok(Finished {
                        summary,
                        replay,
                        workbench,
                    });
                }
                if let Some(reason) = stuck(&replay.answered) {
                    return Err(StepFailure::fatal(reason));
                }
                continue;
            }
            self.check_budgets(&replay)?;
            let mut messages = vec![Message::user(self.goal.clone())];
            messages.extend(replay.messages.iter().cloned());
            let request = ChatRequest {
                system: Some(SYSTEM.to_owned()),
                messages,
                tools: tools.clone(),
                ..ChatRequest::default()
            };
            let answer = self
                .llm
                .chat(
                    self.caller,
                    &self.config.model,
                    &request,
                    Some(false),
                    &mut |_| {},
                )
                .await
                .map_err(crate::exec::model_failure)?;
            let usage = answer.response.usage.unwrap_or_default();
            let turn = ModelTurn {
                text: answer.response.text.clone(),
                tool_calls: answer.response.tool_calls.clone(),
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cost_micros: answer.cost_micros,
            };
            self.append(&mut seq, transcript::MODEL, &turn).await?;
            self.log_turn(&replay, &turn);
            let last_word = turn.tool_calls.is_empty().then(|| turn.text.clone());
            replay.push_model(turn);
            if let Some(summary) = last_word {
                // An answer without a call is the agent's last word.
                return Ok(Finished {
                    summary,
                    replay,
                    workbench,
                });
            }
        }
    }

    fn check_budgets(&self, replay: &Replay) -> Result<(), StepFailure> {
        let c = self.config;
        if replay.model_turns >= c.max_iterations {
            return Err(StepFailure::fatal(format!(
                "The agent used its {} iterations (max_iterations) without finishing.",
                c.max_iterations
            )));
        }
        if let Some(max) = c.max_tokens
            && replay.tokens >= max
        {
            return Err(StepFailure::fatal(format!(
                "The agent used {} tokens, its budget of {max} (max_tokens), without finishing.",
                replay.tokens
            )));
        }
        if let Some(max) = c.max_cost_usd
            && replay.cost_micros as f64 / 1e6 >= max
        {
            return Err(StepFailure::fatal(format!(
                "The agent spent {}, its budget of ${max:.2} (max_cost_usd), without finishing.",
                aura_ai::dollars(replay.cost_micros)
            )));
        }
        if let (Some(max), Some(start)) = (c.max_seconds, &replay.start) {
            let spent = (aura_store::now_millis() - start.started_at).max(0) as u64 / 1000;
            if spent >= max {
                return Err(StepFailure::fatal(format!(
                    "The agent ran for {spent} s, its budget of {max} s (max_seconds), without finishing."
                )));
            }
        }
        Ok(())
    }

    /// Whether the agent may use `tool`: the listed tools, or every tool but `http` when
    /// none are listed.
    fn allowed(&self, tool: AgentTool) -> bool {
        may_use(&self.config.tools, tool)
    }

    /// One line per model answer in the step's log (which the run page follows live):
    /// the turn, its text, the calls it makes and the budget used so far.
    fn log_turn(&self, before: &Replay, turn: &ModelTurn) {
        let tokens = before.tokens + turn.input_tokens + turn.output_tokens;
        let cost = before.cost_micros + turn.cost_micros;
        let mut line = format!(
            "turn {} ({tokens} tokens, {} so far)",
            before.model_turns + 1,
            aura_ai::dollars(cost)
        );
        if !turn.text.trim().is_empty() {
            line.push_str(&format!(": {}", first_line(&turn.text)));
        }
        self.attempt.log.line(&line);
        for call in &turn.tool_calls {
            let arguments = call.arguments.to_string();
            self.attempt
                .log
                .line(&format!("  → {}({})", call.name, first_line(&arguments)));
        }
    }

    /// The longest one script or request may take: half the attempt's timeout, so that
    /// one call never uses up the attempt and the agent can still answer the model.
    fn tool_time(&self) -> std::time::Duration {
        self.attempt.timeout / 2
    }

    /// Commits that a call with side effects is starting, so that a restart answers it as
    /// lost instead of running it a second time.
    async fn started(&self, seq: &mut i64, call: &ToolCall) -> Result<(), StepFailure> {
        let started = transcript::Started {
            call_id: call.id.clone(),
        };
        self.append(seq, transcript::TOOL_STARTED, &started).await
    }

    /// Runs one tool: the workbench's tools, or a script or HTTP request (each committed
    /// as started before it runs). `Err` only when the transcript cannot be written.
    async fn call(
        &self,
        seq: &mut i64,
        workbench: &mut Workbench,
        call: &ToolCall,
    ) -> Result<Answer, StepFailure> {
        let a = &call.arguments;
        let text = |key: &str| string_arg(a, key).map(str::to_owned);
        match call.name.as_str() {
            "run_script" if self.allowed(AgentTool::RunScript) => {
                let code = match text("code") {
                    Ok(code) => code,
                    Err(missing) => return Ok(Err(missing)),
                };
                self.started(seq, call).await?;
                let wall_time = self.tool_time().min(self.exec.limits.script_time);
                Ok(
                    match self.exec.script(&code, None, wall_time, self.attempt).await {
                        Ok(value) => Ok(workbench.cap(format!("The script returned: {value}"))),
                        Err(failure) => Err(workbench.cap(failure.message)),
                    },
                )
            }
            "http" if self.allowed(AgentTool::Http) => {
                let request = match http_request(a, self.exec.limits.http_max_response_bytes) {
                    Ok(request) => request,
                    Err(problem) => return Ok(Err(problem)),
                };
                self.started(seq, call).await?;
                let limit = self.tool_time();
                let sent = self.exec.http.send(&request, self.attempt.log);
                Ok(match tokio::time::timeout(limit, sent).await {
                    Ok(Ok(value)) => Ok(workbench.cap(value.to_string())),
                    Ok(Err(failure)) => Err(failure.message),
                    Err(_) => Err(format!(
                        "The request took longer than {} s and was stopped.",
                        limit.as_secs_f64()
                    )),
                })
            }
            _ => {
                // CPU work on the project's text (searches, analyses, edits): off the
                // async workers, at most as many at once as the analysis step may run.
                let _slot =
                    self.exec.analysis_slots.acquire().await.map_err(|_| {
                        StepFailure::retryable("The analysis pool is shutting down.")
                    })?;
                let (tools, call) = (self.config.tools.clone(), call.clone());
                let mut bench = std::mem::take(workbench);
                let (bench, answer) = tokio::task::spawn_blocking(move || {
                    let answer = tool(&tools, &mut bench, &call);
                    (bench, answer)
                })
                .await
                .map_err(|e| StepFailure::retryable(format!("A tool stopped unexpectedly: {e}")))?;
                *workbench = bench;
                Ok(answer)
            }
        }
    }
}

/// Runs one of the workbench's tools, if `tools` allows it (no side effects: replaying
/// them is safe).
fn tool(tools: &[AgentTool], workbench: &mut Workbench, call: &ToolCall) -> Answer {
    let allowed = |tool: AgentTool| may_use(tools, tool);
    let a = &call.arguments;
    let text = |key: &str| string_arg(a, key).map(str::to_owned);
    let line = |key: &str| a[key].as_u64().map(|n| n as usize);
    match call.name.as_str() {
        "finish" => Ok("Finished.".to_owned()),
        "list_files" if allowed(AgentTool::ListFiles) => workbench.list_files(a["folder"].as_str()),
        "read_file" if allowed(AgentTool::ReadFile) => {
            workbench.read_file(&text("path")?, line("start_line"), line("end_line"))
        }
        "search" if allowed(AgentTool::Search) => {
            workbench.search(&text("pattern")?, a["paths"].as_str())
        }
        "edit_file" | "write_file"
            if allowed(if call.name == "edit_file" {
                AgentTool::EditFile
            } else {
                AgentTool::WriteFile
            }) =>
        {
            apply_edit(workbench, call)
        }
        "analyze" if allowed(AgentTool::Analyze) => {
            let path = text("path")?;
            let source = workbench
                .text(&path)
                .ok_or_else(|| format!("There is no file {path}."))?;
            let language = aura_analysis::Language::from_path(&path)
                .ok_or_else(|| format!("Aura does not analyse files like {path}."))?;
            let analysis = aura_analysis::analyze(language, source);
            Ok(if analysis.findings.is_empty() {
                format!("{path}: no findings.")
            } else {
                analysis
                    .findings
                    .iter()
                    .map(|f| format!("{path}:{}:{} {}: {}", f.line, f.column, f.rule, f.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        other => Err(format!("`{other}` is not a tool this agent may use.")),
    }
}

/// Whether an agent with `listed` tools may use `tool`: every tool but `http` when none
/// are listed.
fn may_use(listed: &[AgentTool], tool: AgentTool) -> bool {
    if listed.is_empty() {
        tool != AgentTool::Http
    } else {
        listed.contains(&tool)
    }
}

/// The first line of `text`, at most 160 characters, for the log.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut short: String = line.chars().take(160).collect();
    if short.len() < line.len() || text.lines().nth(1).is_some() {
        short.push('…');
    }
    short
}

/// An `http` call's arguments as a request: `method` (GET when absent), `url`, string
/// `headers` and a string `body`. The egress guard checks the address when it is sent.
fn http_request(a: &Value, max_response_bytes: u64) -> Result<HttpRequest, String> {
    let url = a["url"]
        .as_str()
        .ok_or("`url` is missing; give it as a string.")?
        .to_owned();
    let mut headers = std::collections::BTreeMap::new();
    if let Some(given) = a.get("headers").filter(|h| !h.is_null()) {
        let given = given
            .as_object()
            .ok_or("`headers` must be an object of strings.")?;
        for (name, value) in given {
            let value = value
                .as_str()
                .ok_or_else(|| format!("Header `{name}` must be a string."))?;
            headers.insert(name.clone(), value.to_owned());
        }
    }
    let body = match a.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(body)) => Some(body.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(HttpRequest {
        method: a["method"].as_str().unwrap_or("GET").to_owned(),
        url,
        headers,
        body,
        max_response_bytes,
    })
}

/// A call's string argument `key`, or what the model must fix.
fn string_arg<'a>(arguments: &'a Value, key: &str) -> Result<&'a str, String> {
    arguments[key]
        .as_str()
        .ok_or_else(|| format!("`{key}` is missing; give it as a string."))
}

/// An edit or write from a call's arguments.
fn apply_edit(workbench: &mut Workbench, call: &ToolCall) -> Result<String, String> {
    let get = |key: &str| string_arg(&call.arguments, key);
    match call.name.as_str() {
        "edit_file" => workbench.edit_file(get("path")?, get("search")?, get("replace")?),
        _ => workbench.write_file(get("path")?, get("content")?),
    }
}

/// Why the agent is stuck, if it is: the same call with the same answer, or failed
/// edits, [`STUCK_AFTER`] times in a row.
fn stuck(answered: &[(ToolCall, ToolResult)]) -> Option<String> {
    let last: Vec<_> = answered.iter().rev().take(STUCK_AFTER).collect();
    if last.len() < STUCK_AFTER {
        return None;
    }
    let (call, result) = last[0];
    if last.iter().all(|(c, r)| {
        c.name == call.name && c.arguments == call.arguments && r.content == result.content
    }) {
        return Some(format!(
            "The agent is stuck: it called `{}` with the same arguments and got the same answer {STUCK_AFTER} times in a row.",
            call.name
        ));
    }
    if last
        .iter()
        .all(|(c, r)| c.name == "edit_file" && r.is_error)
    {
        return Some(format!(
            "The agent is stuck: {STUCK_AFTER} edits in a row failed; the last said: {}",
            result.content
        ));
    }
    None
}

const SYSTEM: &str = "You are a careful coding agent working on a project through tools. \
Read before you edit. Edit with edit_file, giving search text copied exactly from the file. \
Your edits are proposals a person reviews; when the goal is met, call finish with a short summary.";

/// The tools offered to the model.
fn tool_specs(allowed: &[AgentTool]) -> Vec<ToolSpec> {
    let spec = |name: &str, description: &str, parameters: Value| ToolSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters,
    };
    let string = json!({ "type": "string" });
    let mut all = vec![
        (
            AgentTool::ListFiles,
            spec(
                "list_files",
                "List the project's files, optionally under a folder.",
                json!({ "type": "object", "properties": { "folder": string } }),
            ),
        ),
        (
            AgentTool::ReadFile,
            spec(
                "read_file",
                "Read a file, optionally lines start_line to end_line (1-based).",
                json!({ "type": "object", "properties": { "path": string, "start_line": { "type": "integer" }, "end_line": { "type": "integer" } }, "required": ["path"] }),
            ),
        ),
        (
            AgentTool::Search,
            spec(
                "search",
                "Find lines matching a regular expression, optionally in paths matching a glob.",
                json!({ "type": "object", "properties": { "pattern": string, "paths": string }, "required": ["pattern"] }),
            ),
        ),
        (
            AgentTool::EditFile,
            spec(
                "edit_file",
                "Replace text that occurs exactly once in a file.",
                json!({ "type": "object", "properties": { "path": string, "search": string, "replace": string }, "required": ["path", "search", "replace"] }),
            ),
        ),
        (
            AgentTool::WriteFile,
            spec(
                "write_file",
                "Create a file or replace its whole content.",
                json!({ "type": "object", "properties": { "path": string, "content": string }, "required": ["path", "content"] }),
            ),
        ),
        (
            AgentTool::Analyze,
            spec(
                "analyze",
                "Run Aura's code analysis on a file as it is now.",
                json!({ "type": "object", "properties": { "path": string }, "required": ["path"] }),
            ),
        ),
        (
            AgentTool::RunScript,
            spec(
                "run_script",
                "Run JavaScript in Aura's sandbox (no files, no network): the code is a function body whose `return` value is the answer. The run's input is `input`, earlier steps' outputs `steps`.",
                json!({ "type": "object", "properties": { "code": string }, "required": ["code"] }),
            ),
        ),
        (
            AgentTool::Http,
            spec(
                "http",
                "Send an HTTP request (public addresses only) and get its status, headers and body.",
                json!({ "type": "object", "properties": { "method": string, "url": string, "headers": { "type": "object", "additionalProperties": string }, "body": string }, "required": ["url"] }),
            ),
        ),
    ];
    all.retain(|(tool, _)| may_use(allowed, *tool));
    let mut specs: Vec<ToolSpec> = all.into_iter().map(|(_, s)| s).collect();
    specs.push(spec(
        "finish",
        "Stop: the goal is met (or cannot be). Say what you did.",
        json!({ "type": "object", "properties": { "summary": string }, "required": ["summary"] }),
    ));
    specs
}
