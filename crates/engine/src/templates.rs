//! Parsing step templates and expressions to learn what they read.
//!
//! Templates use minijinja with strict undefined variables, so a typo fails loudly at run
//! time; here we catch most of those at save time by listing each template's free
//! variables (`input.repo`, `steps.fetch.output.body`).

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
