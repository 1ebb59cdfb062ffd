//! Parsing step templates and expressions to learn what they read.
//!
//! Templates use minijinja with strict undefined variables, so a typo fails loudly at run
//! time; here we catch most of those at save time by listing each template's free
//! variables (`input.repo`, `steps.fetch.output.body`).

use crate::limits::vars;
use crate::step::StepFailure;
use minijinja::{Environment, UndefinedBehavior};
use std::collections::BTreeSet;

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

pub(crate) fn output_too_large(cap: usize, what: &str) -> StepFailure {
    StepFailure::fatal(format!(
        "The {what} is larger than the {cap}-byte cap ({}).",
        vars::OUTPUT
    ))
}

/// Rendered text that refuses to grow past its cap.
pub(crate) struct BoundedText {
    bytes: Vec<u8>,
    cap: usize,
    exceeded: bool,
}

impl BoundedText {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            bytes: Vec::new(),
            cap,
            exceeded: false,
        }
    }

    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded
    }

    pub(crate) fn into_string(self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

impl std::io::Write for BoundedText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
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
