//! Parsing step templates and expressions to learn what they read.
//!
//! Templates use minijinja with strict undefined variables, so a typo fails loudly at run
//! time; here we catch most of those at save time by listing each template's free
//! variables (`input.repo`, `steps.fetch.output.body`).

use crate::exec::StepFailure;
use crate::limits::vars;
use minijinja::{Environment, UndefinedBehavior};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

/// The dotted variable paths a template reads, or the syntax error.
pub(crate) fn template_references(
    env: &Environment<'static>,
    source: &str,
) -> Result<BTreeSet<String>, String> {
    let template = env.template_from_str(source).map_err(|e| describe(&e))?;
    Ok(template.undeclared_variables(true).into_iter().collect())
}

/// The dotted variable paths an expression reads, or the syntax error.
pub(crate) fn expression_references(
    env: &Environment<'static>,
    source: &str,
) -> Result<BTreeSet<String>, String> {
    let expression = env.compile_expression(source).map_err(|e| describe(&e))?;
    Ok(expression.undeclared_variables(true).into_iter().collect())
}

fn describe(err: &minijinja::Error) -> String {
    match (err.detail(), err.line()) {
        (Some(detail), Some(line)) => format!("{detail} (line {line})"),
        (Some(detail), None) => detail.to_owned(),
        (None, _) => err.to_string(),
    }
}

/// Rendering and evaluating at run time, bounded: each evaluation gets the step's fuel
/// (instructions it may execute) and rendered text stops at the output cap. Evaluations run
/// on the blocking pool, never on an async worker, so a step's timeout and cancellation end
/// the step at once; fuel bounds how long the abandoned evaluation can go on.
pub(crate) struct Evaluator {
    /// One environment per fuel level in use (fuel is a setting of the environment).
    environments: std::sync::Mutex<std::collections::HashMap<u64, Arc<Environment<'static>>>>,
    max_output_bytes: usize,
}

impl Evaluator {
    pub(crate) fn new(max_output_bytes: usize) -> Self {
        Self {
            environments: Default::default(),
            max_output_bytes,
        }
    }

    fn environment(&self, fuel: u64) -> Arc<Environment<'static>> {
        let mut environments = self.environments.lock().unwrap_or_else(|e| e.into_inner());
        environments
            .entry(fuel)
            .or_insert_with(|| {
                let mut env = environment();
                env.set_fuel(Some(fuel));
                Arc::new(env)
            })
            .clone()
    }

    /// Renders `source` against `context`.
    pub(crate) async fn render(
        &self,
        source: &str,
        context: minijinja::Value,
        fuel: u64,
    ) -> Result<String, StepFailure> {
        let env = self.environment(fuel);
        let source = source.to_owned();
        let cap = self.max_output_bytes;
        off_runtime(move |stop| {
            let mut out = BoundedText::new(cap, stop);
            let rendered = env
                .template_from_str(&source)
                .and_then(|t| t.render_captured_to(context, &mut out).map(|_| ()));
            match rendered {
                Ok(()) => Ok(String::from_utf8_lossy(&out.bytes).into_owned()),
                Err(_) if out.exceeded => Err(output_too_large(cap, "template's output")),
                Err(_) if out.stopped() => Err(StepFailure::fatal("The template was stopped.")),
                Err(e) => Err(failure("Template", &e, fuel)),
            }
        })
        .await
    }

    /// Evaluates an expression against `context`.
    pub(crate) async fn eval(
        &self,
        expression: &str,
        context: minijinja::Value,
        fuel: u64,
    ) -> Result<minijinja::Value, StepFailure> {
        let env = self.environment(fuel);
        let expression = expression.to_owned();
        off_runtime(move |_| {
            env.compile_expression(&expression)
                .and_then(|e| e.eval(context))
                .map_err(|e| failure("Expression", &e, fuel))
        })
        .await
    }
}

/// Runs `work` on the blocking pool. When the caller stops waiting (the step timed out or
/// was cancelled), the flag handed to `work` is raised; rendering checks it at every write.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce(Arc<AtomicBool>) -> Result<T, StepFailure> + Send + 'static,
) -> Result<T, StepFailure> {
    struct RaiseOnDrop(Arc<AtomicBool>);
    impl Drop for RaiseOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let _raise = RaiseOnDrop(stop.clone());
    tokio::task::spawn_blocking(move || work(stop))
        .await
        .unwrap_or_else(|e| {
            Err(StepFailure::fatal(format!(
                "Template evaluation failed: {e}"
            )))
        })
}

fn failure(what: &str, err: &minijinja::Error, fuel: u64) -> StepFailure {
    if err.kind() == minijinja::ErrorKind::OutOfFuel {
        StepFailure::fatal(format!(
            "{what} stopped: it used up its fuel of {fuel} instructions ({}).",
            vars::TEMPLATE_FUEL
        ))
    } else {
        StepFailure::fatal(format!("{what} failed: {err}"))
    }
}

pub(crate) fn output_too_large(cap: usize, what: &str) -> StepFailure {
    StepFailure::fatal(format!(
        "The {what} is larger than the {cap}-byte cap ({}).",
        vars::OUTPUT
    ))
}

/// Rendered text that refuses to grow past its cap, or at all once its step was stopped.
struct BoundedText {
    bytes: Vec<u8>,
    cap: usize,
    exceeded: bool,
    stop: Arc<AtomicBool>,
}

impl BoundedText {
    fn new(cap: usize, stop: Arc<AtomicBool>) -> Self {
        Self {
            bytes: Vec::new(),
            cap,
            exceeded: false,
            stop,
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

impl std::io::Write for BoundedText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stopped() {
            return Err(std::io::Error::other("the step was stopped"));
        }
        if self.bytes.len() + buf.len() > self.cap {
            self.exceeded = true;
            return Err(std::io::Error::other("output cap reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
