//! The rules. Each has an id, a severity, a message and a fix hint; the README's
//! "Analysis rules" table lists them.

use crate::kinds;
use crate::metrics::FunctionMetrics;
use crate::{Finding, Language, Severity};
use regex::Regex;
use std::sync::LazyLock;
use tree_sitter::{Node, Point};

pub(crate) struct Context<'a> {
    pub language: Language,
    pub source: &'a str,
    lines: Vec<&'a str>,
}

impl<'a> Context<'a> {
    pub fn new(language: Language, source: &'a str) -> Self {
        Self {
            language,
            source,
            lines: source.split('\n').collect(),
        }
    }

    fn text(&self, node: Node<'_>) -> &'a str {
        node.utf8_text(self.source.as_bytes()).unwrap_or("")
    }

    /// 1-based line and character column of a tree-sitter point (whose column is bytes).
    fn position(&self, point: Point) -> (usize, usize) {
        let line = self.lines.get(point.row).copied().unwrap_or("");
        let mut byte = point.column.min(line.len());
        while !line.is_char_boundary(byte) {
            byte -= 1;
        }
        (point.row + 1, line[..byte].chars().count() + 1)
    }

    fn finding(
        &self,
        node: Node<'_>,
        rule: &'static str,
        severity: Severity,
        message: impl Into<String>,
        hint: &'static str,
    ) -> Finding {
        let (line, column) = self.position(node.start_position());
        let (end_line, end_column) = self.position(node.end_position());
        Finding {
            rule,
            severity,
            message: message.into(),
            hint,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

const MAX_SYNTAX_ERRORS: usize = 50;

/// `ERROR` and `MISSING` nodes, as syntax errors.
pub(crate) fn syntax(ctx: &Context<'_>, root: Node<'_>, out: &mut Vec<Finding>) {
    if !root.has_error() {
        return;
    }
    let mut count = 0;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if count >= MAX_SYNTAX_ERRORS {
            break;
        }
        if node.is_missing() {
            count += 1;
            out.push(ctx.finding(
                node,
                "syntax",
                Severity::Error,
                format!("Syntax error: missing `{}`.", node.kind()),
                "Add the missing token.",
            ));
            continue;
        }
        if node.is_error() {
            count += 1;
            let snippet: String = ctx.text(node).chars().take(30).collect();
            out.push(ctx.finding(
                node,
                "syntax",
                Severity::Error,
                format!("Syntax error near `{}`.", snippet.trim()),
                "Check brackets, quotes and punctuation around this point.",
            ));
            continue;
        }
        if node.has_error() {
            let mut cursor = node.walk();
            let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
}

/// A string literal with nothing interpolated into it.
fn is_plain_literal(ctx: &Context<'_>, node: Node<'_>) -> bool {
    if kinds::kinds(ctx.language).of(node) & kinds::STRING == 0 {
        return false;
    }
    let mut cursor = node.walk();
    let interpolated = node
        .named_children(&mut cursor)
        .any(|c| matches!(c.kind(), "interpolation" | "template_substitution"));
    !interpolated
}

fn call_parts<'t>(ctx: &Context<'_>, call: Node<'t>) -> Option<(String, Vec<Node<'t>>)> {
    let function = call
        .child_by_field_name("function")
        .or_else(|| call.child_by_field_name("constructor"))?;
    let args = call.child_by_field_name("arguments")?;
    let mut cursor = args.walk();
    let list = args
        .named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect();
    Some((ctx.text(function).to_owned(), list))
}

static SQL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from)\b")
        .expect("valid regex")
});

/// Structural rules for one syntax node (called for every node, in preorder, with its
/// kind flags): dynamic eval/exec, SQL built from pieces, shell commands from input,
/// `unsafe` in Rust.
pub(crate) fn node_rules(
    ctx: &Context<'_>,
    node: Node<'_>,
    flags: u8,
    parent: Option<Node<'_>>,
    out: &mut Vec<Finding>,
) {
    if flags & kinds::CALL != 0 {
        call_rules(ctx, node, out);
    }
    if flags & kinds::UNSAFE != 0 {
        out.push(ctx.finding(
            node,
            "rust.unsafe",
            Severity::Info,
            "`unsafe` block: the compiler no longer checks memory safety here.",
            "Keep it minimal and write down the invariant that makes it sound (a `// SAFETY:` comment).",
        ));
    }
    if flags & kinds::STRING != 0 && SQL.is_match(ctx.text(node)) && sql_is_built(ctx, node, parent)
    {
        out.push(ctx.finding(
            node,
            "security.sql-injection",
            Severity::Error,
            "SQL is built by concatenation or formatting; input can change the query.",
            "Use placeholders and bind the values (`$1`, `?`, `%s` with parameters).",
        ));
    }
}

/// Whether a string containing SQL gets other values spliced in.
fn sql_is_built(ctx: &Context<'_>, string: Node<'_>, parent: Option<Node<'_>>) -> bool {
    if !is_plain_literal(ctx, string) {
        return true; // f-string, template literal with `${}`
    }
    let Some(parent) = parent else {
        return false;
    };
    match parent.kind() {
        "binary_expression" | "binary_operator" => {
            let op = parent
                .child_by_field_name("operator")
                .map(|o| ctx.text(o))
                .unwrap_or("");
            matches!(op, "+" | "%")
        }
        // `"…{}…".format(x)` in Python.
        "attribute" => parent
            .child_by_field_name("attribute")
            .is_some_and(|a| ctx.text(a) == "format"),
        "arguments" | "argument_list" | "token_tree" => {
            let call = parent.parent();
            let callee = call
                .and_then(|c| {
                    c.child_by_field_name("function")
                        .or_else(|| c.child_by_field_name("macro"))
                })
                .map(|f| ctx.text(f))
                .unwrap_or("");
            let formats = [
                "format",
                "fmt.Sprintf",
                "Sprintf",
                "String.format",
                "sprintf",
            ];
            formats
                .iter()
                .any(|f| callee == *f || callee.ends_with(&format!(".{f}")))
                && {
                    let mut cursor = parent.walk();
                    parent.named_children(&mut cursor).count() > 1
                }
        }
        _ => false,
    }
}

fn call_rules(ctx: &Context<'_>, call: Node<'_>, out: &mut Vec<Finding>) {
    let Some((callee, args)) = call_parts(ctx, call) else {
        return;
    };
    let callee = callee.as_str();
    let first_dynamic = args.first().is_some_and(|a| !is_plain_literal(ctx, *a));
    let language = ctx.language;
    let eval = match language {
        Language::JavaScript | Language::TypeScript => {
            matches!(
                callee,
                "eval" | "Function" | "window.eval" | "globalThis.eval"
            )
        }
        Language::Python => matches!(callee, "eval" | "exec"),
        _ => false,
    };
    if eval && first_dynamic {
        out.push(ctx.finding(
            call,
            "security.eval",
            Severity::Error,
            format!("`{callee}` runs a string that is not a literal as code."),
            "Parse the data instead (JSON.parse, ast.literal_eval) or dispatch on known values.",
        ));
    }
    let shell = match language {
        Language::Python => {
            matches!(callee, "os.system" | "os.popen" | "commands.getoutput") && first_dynamic
                || callee.starts_with("subprocess.")
                    && args.iter().any(|a| {
                        a.kind() == "keyword_argument"
                            && ctx.text(*a).replace(' ', "") == "shell=True"
                    })
                    && first_dynamic
        }
        Language::JavaScript | Language::TypeScript => {
            (callee == "exec"
                || callee == "execSync"
                || callee.ends_with(".exec") && callee.contains("child_process")
                || callee.ends_with(".execSync"))
                && first_dynamic
        }
        Language::Go => {
            callee == "exec.Command"
                && args.len() >= 3
                && matches!(ctx.text(args[0]), "\"sh\"" | "\"bash\"")
                && ctx.text(args[1]) == "\"-c\""
                && !is_plain_literal(ctx, args[2])
        }
        Language::Rust => false,
    };
    if shell {
        out.push(ctx.finding(
            call,
            "security.shell-injection",
            Severity::Error,
            "A shell command is built from a value that is not a literal.",
            "Run the program directly with an argument list, without a shell.",
        ));
    }
}

static KNOWN_KEYS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"\bAKIA[0-9A-Z]{16}\b", "an AWS access key id"),
        (r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", "a GitHub token"),
        (r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b", "a Slack token"),
        (
            r"\bsk-(proj-)?[A-Za-z0-9_-]{20,}\b",
            "an OpenAI-style API key",
        ),
        (r"\bAIza[0-9A-Za-z_-]{35}\b", "a Google API key"),
        (
            r"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----",
            "a private key",
        ),
    ]
    .into_iter()
    .map(|(re, what)| (Regex::new(re).expect("valid regex"), what))
    .collect()
});

static SECRET_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b\w*(secret|token|passw(or)?d|api_?key|private_?key|access_?key)\w*\b["']?\s*[:=]=?\s*[a-z&]*["'`]([^"'`\s]{16,})["'`]"#,
    )
    .expect("valid regex")
});

static WEAK_HASH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(md5|sha1)\b").expect("valid regex"));
static PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)passw(or)?d|\bpwd\b").expect("valid regex"));

static TLS_OFF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"verify\s*=\s*False|rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED\s*=\s*["']?0|InsecureSkipVerify\s*:\s*true|danger_accept_invalid_certs\s*\(\s*true|CERT_NONE"#,
    )
    .expect("valid regex")
});

static TODO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(TODO|FIXME|XXX)\b").expect("valid regex"));

pub const MAX_LINE_CHARS: usize = 120;
pub const MAX_FUNCTION_LINES: usize = 80;

/// Shannon entropy in bits per character.
fn entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let total = text.chars().count() as f64;
    for c in text.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// A rule that reads lines: its id, severity and fix hint.
struct LineRule {
    id: &'static str,
    severity: Severity,
    hint: &'static str,
}

const SECRET: LineRule = LineRule {
    id: "security.hardcoded-secret",
    severity: Severity::Error,
    hint: "Revoke it if it is real, then load it from the environment or a secret store.",
};
const WEAK_PASSWORD_HASH: LineRule = LineRule {
    id: "security.weak-password-hash",
    severity: Severity::Error,
    hint: "Hash passwords with argon2id, scrypt or bcrypt.",
};
const TLS_DISABLED: LineRule = LineRule {
    id: "security.tls-verification-disabled",
    severity: Severity::Error,
    hint: "Keep verification on; add the private CA to the trust store instead.",
};
const LINE_LENGTH: LineRule = LineRule {
    id: "style.line-length",
    severity: Severity::Info,
    hint: "Break the line.",
};
const TRAILING_WHITESPACE: LineRule = LineRule {
    id: "style.trailing-whitespace",
    severity: Severity::Info,
    hint: "Remove it (most editors can do this on save).",
};
const TODO_COMMENT: LineRule = LineRule {
    id: "style.todo",
    severity: Severity::Info,
    hint: "Do it, or track it in an issue and link it.",
};

fn line_finding(
    line: usize,
    text: &str,
    (start, end): (usize, usize),
    rule: &LineRule,
    message: impl Into<String>,
) -> Finding {
    let column = text[..start].chars().count() + 1;
    let end_column = text[..end].chars().count() + 1;
    Finding {
        rule: rule.id,
        severity: rule.severity,
        message: message.into(),
        hint: rule.hint,
        line,
        column,
        end_line: line,
        end_column,
    }
}

/// Rules that read lines: secrets, weak password hashing, disabled TLS checks, style.
pub(crate) fn line_rules(language: Language, source: &str, out: &mut Vec<Finding>) {
    let comment = match language {
        Language::Python => "#",
        _ => "//",
    };
    for (i, text) in source.split('\n').enumerate() {
        let line = i + 1;
        let text = text.strip_suffix('\r').unwrap_or(text);
        for (re, what) in KNOWN_KEYS.iter() {
            if let Some(m) = re.find(text) {
                let message = format!("This looks like {what} committed in the code.");
                out.push(line_finding(
                    line,
                    text,
                    (m.start(), m.end()),
                    &SECRET,
                    message,
                ));
            }
        }
        if let Some(c) = SECRET_ASSIGNMENT.captures(text) {
            let value = c.get(3).map_or("", |m| m.as_str());
            if entropy(value) >= 3.5 && !value.contains("${") && !value.starts_with('{') {
                let m = c.get(0).expect("whole match");
                let message = "A random-looking value is assigned to a secret-like name.";
                out.push(line_finding(
                    line,
                    text,
                    (m.start(), m.end()),
                    &SECRET,
                    message,
                ));
            }
        }
        if let Some(m) = WEAK_HASH.find(text)
            && PASSWORD.is_match(text)
        {
            let message = format!(
                "`{}` is used with a password; it is fast and broken for this.",
                m.as_str()
            );
            let range = (m.start(), m.end());
            out.push(line_finding(
                line,
                text,
                range,
                &WEAK_PASSWORD_HASH,
                message,
            ));
        }
        if let Some(m) = TLS_OFF.find(text) {
            let message = "TLS certificate verification is turned off; anyone on the path can \
                           read and change the traffic.";
            out.push(line_finding(
                line,
                text,
                (m.start(), m.end()),
                &TLS_DISABLED,
                message,
            ));
        }
        let chars = text.chars().count();
        if chars > MAX_LINE_CHARS {
            let message = format!("Line is {chars} characters long (limit {MAX_LINE_CHARS}).");
            out.push(line_finding(
                line,
                text,
                (0, text.len()),
                &LINE_LENGTH,
                message,
            ));
        }
        let trimmed = text.trim_end();
        if trimmed.len() < text.len() {
            let range = (trimmed.len(), text.len());
            out.push(line_finding(
                line,
                text,
                range,
                &TRAILING_WHITESPACE,
                "Trailing whitespace.",
            ));
        }
        if let Some(pos) = text.find(comment)
            && let Some(m) = TODO.find(&text[pos..])
        {
            let message = format!("`{}` left in a comment.", m.as_str());
            let range = (pos + m.start(), pos + m.end());
            out.push(line_finding(line, text, range, &TODO_COMMENT, message));
        }
    }
}

pub(crate) fn long_functions(functions: &[FunctionMetrics], out: &mut Vec<Finding>) {
    for f in functions.iter().filter(|f| f.lines > MAX_FUNCTION_LINES) {
        out.push(Finding {
            rule: "style.long-function",
            severity: Severity::Warning,
            message: format!(
                "`{}` is {} lines long (limit {MAX_FUNCTION_LINES}).",
                f.name, f.lines
            ),
            hint: "Split it into smaller functions with names that say what each part does.",
            line: f.line,
            column: 1,
            end_line: f.line,
            end_column: 1,
        });
    }
}
