//! AI actions on a project file: Explain, Fix, Document and Generate. Each reads the file
//! (and, for Fix, its analysis findings), asks the model through `aura_ai::Llm` as the
//! user and the project (so budgets and the ledger see both), streams the answer, and for
//! every action but Explain proposes a change: the whole file with the model's code put
//! in place of the selection (or of the whole file). Nothing is saved here; applying a
//! proposal is an ordinary save of a new revision.

use crate::{ProjectError, Projects};
use aura_ai::{CallContext, ChatRequest, Llm, LlmError, Message, Progress};
use aura_store::Principal;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Explain,
    Fix,
    Document,
    Generate { prompt: String },
}

impl Action {
    pub fn parse(name: &str, prompt: Option<String>) -> Option<Self> {
        Some(match name {
            "explain" => Action::Explain,
            "fix" => Action::Fix,
            "document" => Action::Document,
            "generate" => Action::Generate {
                prompt: prompt.filter(|p| !p.trim().is_empty())?,
            },
            _ => return None,
        })
    }
}

/// Lines `start..=end`, 1-based, of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub start: usize,
    pub end: usize,
}

/// One AI action on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistRequest {
    pub project_id: String,
    pub entry_id: String,
    pub action: Action,
    pub selection: Option<Selection>,
    /// The editor's text when it differs from the saved revision; the action (and its
    /// proposal) then works on what the user sees. Bounded like a saved file.
    pub content: Option<String>,
}

/// The answer and, for changing actions, the file as it would be.
#[derive(Debug, Clone, PartialEq)]
pub struct Assisted {
    pub text: String,
    /// The whole file with the change in place; none for Explain, or when the answer
    /// held no code block.
    pub proposal: Option<String>,
    /// The saved revision when the action ran. Without `content` in the request the
    /// proposal is based on it, and applying it saves on top of it; a client that sent
    /// its unsaved text saves on top of the revision that text came from.
    pub base_revision: i64,
    pub target: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_micros: i64,
    pub cached: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AssistError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Model(#[from] LlmError),
}

/// The alias a project action asks: `code` when there is one, else `default`; none when
/// neither is configured.
fn model_name(llm: &Llm) -> Option<&'static str> {
    let router = llm.models().current();
    ["code", "default"]
        .into_iter()
        .find(|wanted| router.aliases().any(|(alias, _)| alias == *wanted))
}

impl Projects {
    /// Runs `action` on a file, streaming the answer's text to `on_text`. When `stop`
    /// completes first the model call is abandoned (`LlmError::Stopped`).
    pub async fn assist(
        &self,
        llm: &Llm,
        principal: &Principal,
        request: &AssistRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
        stop: impl Future<Output = ()> + Send,
    ) -> Result<Assisted, AssistError> {
        let AssistRequest {
            project_id,
            entry_id,
            action,
            selection,
            content,
        } = request;
        let selection = *selection;
        let mut file = self.read_file(principal, project_id, entry_id).await?;
        if let Some(content) = content {
            self.check_content(content)?;
            file.content.clone_from(content);
        }
        let model = model_name(llm).ok_or_else(|| {
            AssistError::Model(LlmError::Route(aura_ai::RouteError::UnknownAlias(
                "default".into(),
            )))
        })?;
        let lines: Vec<&str> = file.content.split_inclusive('\n').collect();
        let selection = match selection {
            Some(s) if s.start >= 1 && s.start <= s.end && s.end <= lines.len().max(1) => Some(s),
            Some(_) => {
                return Err(AssistError::Invalid(format!(
                    "The selection must be lines 1 to {} of the file.",
                    lines.len().max(1)
                )));
            }
            None => None,
        };
        let selected: String = match selection {
            Some(s) => lines[s.start - 1..s.end].concat(),
            None => file.content.clone(),
        };
        let path = &file.entry.path;
        let language = path.rsplit_once('.').map_or("", |(_, ext)| ext);
        let findings = match (action, aura_analysis::Language::from_path(path)) {
            (Action::Fix, Some(lang)) => aura_analysis::analyze(lang, &file.content)
                .findings
                .into_iter()
                .filter(|f| selection.is_none_or(|s| f.line >= s.start && f.line <= s.end))
                .map(|f| format!("- line {}: {} ({}) {}", f.line, f.message, f.rule, f.hint))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let scope = match selection {
            Some(s) => format!("lines {} to {} of `{path}`", s.start, s.end),
            None => format!("the file `{path}`"),
        };
        let ask = match action {
            Action::Explain => format!("Explain what {scope} does, for a developer new to it."),
            Action::Fix => format!(
                "Fix the problems in {scope}.{}",
                if findings.is_empty() {
                    String::new()
                } else {
                    format!(" The analysis found:\n{}", findings.join("\n"))
                }
            ),
            Action::Document => format!("Add documentation comments to {scope}, changing no code."),
            Action::Generate { prompt } => format!("{prompt}\n\nWrite it to replace {scope}."),
        };
        let reply_shape = if *action == Action::Explain {
            "Answer in a few short paragraphs."
        } else {
            "Say in one or two sentences what you changed, then give the complete replacement code in one fenced code block, nothing after it."
        };
        let request = ChatRequest {
            system: Some(format!(
                "You are a careful senior engineer helping inside a code editor. {reply_shape}"
            )),
            messages: vec![Message::user(format!(
                "{ask}\n\n```{language}\n{selected}```"
            ))],
            temperature: Some(0.2),
            max_tokens: Some(4096),
            stream: true,
            ..ChatRequest::default()
        };
        let context = CallContext {
            user_id: principal.user_id().to_owned(),
            project_id: Some(project_id.clone()),
            source: "editor",
            ..CallContext::default()
        };
        let answer = llm
            .chat_until(
                &context,
                model,
                &request,
                None,
                &mut |progress| {
                    if let Progress::Text(text) = progress {
                        on_text(text);
                    }
                },
                stop,
            )
            .await?;
        let proposal = (*action != Action::Explain)
            .then(|| last_code_block(&answer.response.text))
            .flatten()
            .map(|code| match selection {
                Some(s) => {
                    let mut code = code;
                    // Keep the file's line structure: the replaced lines ended in a newline.
                    if lines[s.end - 1].ends_with('\n') && !code.ends_with('\n') {
                        code.push('\n');
                    }
                    [lines[..s.start - 1].concat(), code, lines[s.end..].concat()].concat()
                }
                None => code,
            });
        let usage = answer.response.usage.unwrap_or_default();
        Ok(Assisted {
            text: answer.response.text,
            proposal,
            base_revision: file.entry.current_revision,
            target: answer.target,
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cost_micros: answer.cost_micros,
            cached: answer.cached,
        })
    }
}

/// The last fenced code block of a Markdown answer, without its fences.
fn last_code_block(text: &str) -> Option<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(String::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push_str(line);
        }
    }
    blocks.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_code_block_is_the_proposal() {
        let text = "I renamed it.\n```rust\nfn a() {}\n```\nand\n```python\nx = 1\ny = 2\n```\n";
        assert_eq!(last_code_block(text).as_deref(), Some("x = 1\ny = 2\n"));
        assert_eq!(last_code_block("no code"), None);
        assert_eq!(Action::parse("generate", Some(" ".into())), None);
        assert_eq!(Action::parse("fix", None), Some(Action::Fix));
    }
}
