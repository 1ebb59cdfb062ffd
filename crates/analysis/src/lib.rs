//! Code analysis for the editor and the `analysis` workflow step: syntax errors,
//! per-function metrics, security rules and style rules, for Rust, Python, JavaScript,
//! TypeScript and Go. Parsing is tree-sitter with the grammars from their crates; rules
//! look at the syntax tree where the question is structural (is this `eval` argument a
//! literal?) and at lines where it is textual (trailing whitespace).
//!
//! Server-only: no I/O, no database, no Leptos. [`analyze`] is a pure function of the
//! language and the text.

mod kinds;
mod metrics;
mod rules;

use serde::{Deserialize, Serialize};

pub use metrics::FunctionMetrics;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Go,
}

impl Language {
    /// The language of a file, from its extension.
    pub fn from_path(path: &str) -> Option<Self> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "rs" => Language::Rust,
            "py" | "pyi" => Language::Python,
            "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
            "ts" | "mts" | "cts" | "tsx" => Language::TypeScript,
            "go" => Language::Go,
            _ => return None,
        })
    }

    fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One problem, at 1-based line and column (columns count characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub hint: &'static str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub language: Language,
    /// Sorted by position.
    pub findings: Vec<Finding>,
    pub functions: Vec<FunctionMetrics>,
}

/// Above this size the line rules run on a second thread while the tree is parsed and
/// scanned; below it a thread costs more than it saves.
const PARALLEL_LINE_RULES_BYTES: usize = 64 * 1024;

/// Analyses one file.
pub fn analyze(language: Language, source: &str) -> Analysis {
    let (mut findings, functions, line_findings) = if source.len() >= PARALLEL_LINE_RULES_BYTES {
        std::thread::scope(|scope| {
            let lines = scope.spawn(|| {
                let mut out = Vec::new();
                rules::line_rules(language, source, &mut out);
                out
            });
            let (findings, functions) = tree_analysis(language, source);
            let line_findings = lines
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (findings, functions, line_findings)
        })
    } else {
        let (findings, functions) = tree_analysis(language, source);
        let mut line_findings = Vec::new();
        rules::line_rules(language, source, &mut line_findings);
        (findings, functions, line_findings)
    };
    findings.extend(line_findings);
    findings.sort_by_key(|f| (f.line, f.column, f.rule));
    Analysis {
        language,
        findings,
        functions,
    }
}

/// Parses `source` and runs everything that needs the syntax tree.
fn tree_analysis(language: Language, source: &str) -> (Vec<Finding>, Vec<FunctionMetrics>) {
    let mut findings = Vec::new();
    let Some(tree) = parse(language, source) else {
        return (findings, Vec::new());
    };
    let ctx = rules::Context::new(language, source);
    rules::syntax(&ctx, tree.root_node(), &mut findings);
    let functions = metrics::scan(language, source, tree.root_node(), |node, flags, parent| {
        rules::node_rules(&ctx, node, flags, parent, &mut findings)
    });
    rules::long_functions(&functions, &mut findings);
    (findings, functions)
}

thread_local! {
    /// One parser per language and thread, reused: a parser keeps its allocations.
    static PARSERS: std::cell::RefCell<std::collections::HashMap<Language, tree_sitter::Parser>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn parse(language: Language, source: &str) -> Option<tree_sitter::Tree> {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = parsers.entry(language).or_insert_with(|| {
            let mut parser = tree_sitter::Parser::new();
            // The grammars are compiled in and match the tree-sitter version; failure here
            // would be a build error, not bad input.
            parser
                .set_language(&language.grammar())
                .expect("grammar matches the tree-sitter version");
            parser
        });
        parser.parse(source, None)
    })
}
