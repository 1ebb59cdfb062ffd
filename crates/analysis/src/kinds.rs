//! Node kinds as flags, looked up by kind id. One table per language is built once from
//! the grammar's kind names, so the checks the tree walk makes for every node are an
//! array index instead of a row of string comparisons.

use crate::Language;
use std::sync::LazyLock;
use tree_sitter::Node;

pub(crate) const FUNCTION: u8 = 1;
/// Always a decision point (branch, loop, case, catch, ternary, `and`/`or`).
pub(crate) const DECISION: u8 = 1 << 1;
/// A decision point when its operator is `&&`, `||` or `??`.
pub(crate) const BINARY: u8 = 1 << 2;
/// Opens a nesting level (unless it continues an `else` chain).
pub(crate) const NESTING: u8 = 1 << 3;
/// An `else` clause: an `if` directly inside continues the chain.
pub(crate) const ELSE: u8 = 1 << 4;
pub(crate) const STRING: u8 = 1 << 5;
pub(crate) const CALL: u8 = 1 << 6;
pub(crate) const UNSAFE: u8 = 1 << 7;

fn classify(language: Language, kind: &str) -> u8 {
    let mut flags = 0;
    let function = match language {
        Language::Rust => kind == "function_item",
        Language::Python => kind == "function_definition",
        Language::JavaScript | Language::TypeScript => matches!(
            kind,
            "function_declaration"
                | "function_expression"
                | "function"
                | "generator_function_declaration"
                | "method_definition"
                | "arrow_function"
        ),
        Language::Go => matches!(kind, "function_declaration" | "method_declaration"),
    };
    if function {
        flags |= FUNCTION;
    }
    if matches!(
        kind,
        "if_expression"
            | "if_statement"
            | "elif_clause"
            | "while_expression"
            | "while_statement"
            | "for_expression"
            | "for_statement"
            | "for_in_statement"
            | "do_statement"
            | "match_arm"
            | "case_clause"
            | "switch_case"
            | "expression_case"
            | "type_case"
            | "communication_case"
            | "catch_clause"
            | "except_clause"
            | "ternary_expression"
            | "conditional_expression"
            | "if_clause"
            | "boolean_operator"
    ) {
        flags |= DECISION;
    }
    if kind == "binary_expression" {
        flags |= BINARY;
    }
    if matches!(
        kind,
        "if_expression"
            | "if_statement"
            | "while_expression"
            | "while_statement"
            | "for_expression"
            | "for_statement"
            | "for_in_statement"
            | "loop_expression"
            | "match_expression"
            | "switch_statement"
            | "expression_switch_statement"
            | "type_switch_statement"
            | "select_statement"
            | "try_statement"
            | "with_statement"
            | "do_statement"
    ) {
        flags |= NESTING;
    }
    if matches!(kind, "else_clause" | "alternative") {
        flags |= ELSE;
    }
    if matches!(
        kind,
        "string"
            | "string_literal"
            | "raw_string_literal"
            | "template_string"
            | "interpreted_string_literal"
            | "raw_string_literal_content"
            | "concatenated_string"
    ) {
        flags |= STRING;
    }
    if matches!(kind, "call_expression" | "call" | "new_expression") {
        flags |= CALL;
    }
    if language == Language::Rust && kind == "unsafe_block" {
        flags |= UNSAFE;
    }
    flags
}

/// The flags of every kind id of one language's grammar.
pub(crate) struct Kinds(Vec<u8>);

impl Kinds {
    fn build(language: Language) -> Self {
        let grammar = language.grammar();
        let flags = (0..grammar.node_kind_count())
            .map(|id| {
                u16::try_from(id)
                    .ok()
                    .and_then(|id| grammar.node_kind_for_id(id))
                    .map_or(0, |kind| classify(language, kind))
            })
            .collect();
        Kinds(flags)
    }

    pub(crate) fn of(&self, node: Node<'_>) -> u8 {
        self.0
            .get(usize::from(node.kind_id()))
            .copied()
            .unwrap_or(0)
    }
}

pub(crate) fn kinds(language: Language) -> &'static Kinds {
    static RUST: LazyLock<Kinds> = LazyLock::new(|| Kinds::build(Language::Rust));
    static PYTHON: LazyLock<Kinds> = LazyLock::new(|| Kinds::build(Language::Python));
    static JAVASCRIPT: LazyLock<Kinds> = LazyLock::new(|| Kinds::build(Language::JavaScript));
    static TYPESCRIPT: LazyLock<Kinds> = LazyLock::new(|| Kinds::build(Language::TypeScript));
    static GO: LazyLock<Kinds> = LazyLock::new(|| Kinds::build(Language::Go));
    match language {
        Language::Rust => &RUST,
        Language::Python => &PYTHON,
        Language::JavaScript => &JAVASCRIPT,
        Language::TypeScript => &TYPESCRIPT,
        Language::Go => &GO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_classify_kinds_by_name() {
        let rust = Kinds::build(Language::Rust);
        let grammar = Language::Rust.grammar();
        let id = |name: &str| usize::from(grammar.id_for_node_kind(name, true));
        assert_eq!(rust.0[id("function_item")] & FUNCTION, FUNCTION);
        assert_eq!(rust.0[id("unsafe_block")] & UNSAFE, UNSAFE);
        assert_eq!(
            rust.0[id("if_expression")] & (DECISION | NESTING),
            DECISION | NESTING
        );
        assert_eq!(rust.0[id("identifier")], 0);
    }
}
