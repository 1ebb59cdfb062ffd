//! The `analysis` step: Aura's code analysis over a project's files (chosen by globs) or
//! over text an earlier step produced, with the findings' severities counted and
//! `fail_on` deciding whether they fail the step.
//!
//! Analysis is CPU work: it runs off the async workers, at most a few at once in the
//! process, and stops between files once the step's attempt is dropped (timeout,
//! cancellation), so one user's large project cannot hold the cores.

use crate::definition::{AnalysisConfig, FailOn};
use crate::step::StepFailure;
use crate::workspace::{PathFilter, Workspace};
use aura_analysis::{Analysis, Language, Severity};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// One text to analyse: where it came from and what it says.
struct Source {
    path: String,
    language: Language,
    content: String,
}

/// The language named by `name`: `python`, or a file name whose extension says it.
pub(crate) fn language_named(name: &str) -> Option<Language> {
    let name = name.trim().to_ascii_lowercase();
    serde_json::from_value(Value::String(name.clone()))
        .ok()
        .or_else(|| Language::from_path(&name))
        .or_else(|| Language::from_path(&format!("x.{name}")))
}

/// Sets its flag when dropped: the blocking analysis sees that the attempt is gone.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs the step. `text` is the rendered `text` field, when the step analyses text.
pub(crate) async fn run(
    config: &AnalysisConfig,
    text: Option<String>,
    owner_id: &str,
    workspace: Option<&Workspace>,
    slots: &tokio::sync::Semaphore,
) -> Result<Value, StepFailure> {
    let (sources, project) = match (text, config.project.as_deref()) {
        (Some(content), _) => {
            let name = config.language.as_deref().unwrap_or_default();
            let language = language_named(name).ok_or_else(|| {
                StepFailure::fatal(format!(
                    "`{name}` is not a language Aura analyses (language); use rust, python, \
                     javascript, typescript or go."
                ))
            })?;
            let source = Source {
                path: "text".to_owned(),
                language,
                content,
            };
            (vec![source], Value::Null)
        }
        (None, Some(key)) => {
            let workspace = workspace.ok_or_else(|| {
                StepFailure::fatal("Projects are not available to steps on this server.")
            })?;
            let project = workspace.project(owner_id, key).await?;
            let filter = PathFilter::new(&config.paths).map_err(StepFailure::fatal)?;
            let sources = workspace
                .files(&project.id)
                .await?
                .into_iter()
                .filter(|f| filter.matches(&f.entry.path))
                .filter_map(|f| {
                    Some(Source {
                        language: Language::from_path(&f.entry.path)?,
                        path: f.entry.path,
                        content: f.content,
                    })
                })
                .collect();
            (sources, json!({ "id": project.id, "slug": project.slug }))
        }
        (None, None) => {
            return Err(StepFailure::fatal(
                "Name a project (project) or give text to analyse (text).",
            ));
        }
    };
    let _slot = slots
        .acquire()
        .await
        .map_err(|_| StepFailure::retryable("The analysis pool is shutting down."))?;
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(stop.clone());
    let analyses = tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(sources.len());
        for source in sources {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let analysis = aura_analysis::analyze(source.language, &source.content);
            out.push((source.path, analysis));
        }
        out
    })
    .await
    .map_err(|e| StepFailure::retryable(format!("The analysis stopped unexpectedly: {e}")))?;
    let output = report(&analyses, project);
    if let Some(fail_on) = config.fail_on {
        check_fail_on(&analyses, fail_on)?;
    }
    Ok(output)
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn threshold(fail_on: FailOn) -> Severity {
    match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    }
}

/// The step's output: each file's findings and functions, and the counts.
fn report(analyses: &[(String, Analysis)], project: Value) -> Value {
    let mut counts = [0usize; 3];
    let mut functions = 0;
    let files: Vec<Value> = analyses
        .iter()
        .map(|(path, analysis)| {
            for finding in &analysis.findings {
                counts[finding.severity as usize] += 1;
            }
            functions += analysis.functions.len();
            json!({
                "path": path,
                "language": analysis.language,
                "findings": analysis.findings,
                "functions": analysis.functions,
            })
        })
        .collect();
    json!({
        "project": project,
        "files": files,
        "summary": {
            "files": analyses.len(),
            "findings": counts.iter().sum::<usize>(),
            "error": counts[Severity::Error as usize],
            "warning": counts[Severity::Warning as usize],
            "info": counts[Severity::Info as usize],
            "functions": functions,
        },
    })
}

/// Fails when a finding is at least as severe as `fail_on`, naming the first few.
fn check_fail_on(analyses: &[(String, Analysis)], fail_on: FailOn) -> Result<(), StepFailure> {
    let least = threshold(fail_on);
    let hits: Vec<String> = analyses
        .iter()
        .flat_map(|(path, analysis)| {
            analysis
                .findings
                .iter()
                .filter(|f| f.severity >= least)
                .map(move |f| {
                    format!(
                        "{path}:{}:{} {} ({}): {}",
                        f.line,
                        f.column,
                        f.rule,
                        severity_name(f.severity),
                        f.message
                    )
                })
        })
        .collect();
    if hits.is_empty() {
        return Ok(());
    }
    let level = severity_name(least);
    let shown: Vec<&str> = hits.iter().take(5).map(String::as_str).collect();
    let more = hits.len().saturating_sub(shown.len());
    Err(StepFailure::fatal(format!(
        "The analysis found {} finding{} at {level} or above (fail_on: {level}): {}{}",
        hits.len(),
        if hits.len() == 1 { "" } else { "s" },
        shown.join("; "),
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_named_or_taken_from_a_file_name() {
        assert_eq!(language_named("Python"), Some(Language::Python));
        assert_eq!(language_named("main.rs"), Some(Language::Rust));
        assert_eq!(language_named("ts"), Some(Language::TypeScript));
        assert_eq!(language_named("cobol"), None);
    }
}
