//! Per-function metrics: lines, parameters, cyclomatic complexity, nesting depth.

use crate::Language;
use crate::kinds::{self, Kinds};
use serde::{Deserialize, Serialize};
use tree_sitter::Node;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionMetrics {
    pub name: String,
    /// 1-based first line.
    pub line: usize,
    pub lines: usize,
    pub parameters: usize,
    /// 1 + the decision points (branches, loops, cases, `&&`/`||`, catches).
    pub complexity: usize,
    /// Deepest nesting of branches and loops inside the body.
    pub nesting: usize,
}

/// Whether `node` (with these kind flags) is a decision point.
fn is_decision(node: Node<'_>, flags: u8) -> bool {
    flags & kinds::DECISION != 0
        || flags & kinds::BINARY != 0
            && node
                .child_by_field_name("operator")
                .is_some_and(|op| matches!(op.kind(), "&&" | "||" | "??"))
}

fn name_of(node: Node<'_>, parent: Option<Node<'_>>, source: &str) -> String {
    let text = |n: Node<'_>| n.utf8_text(source.as_bytes()).unwrap_or("").to_owned();
    if let Some(name) = node.child_by_field_name("name") {
        return text(name);
    }
    // `const handler = () => …` names the arrow function after its variable.
    if let Some(parent) = parent
        && parent.kind() == "variable_declarator"
        && let Some(name) = parent.child_by_field_name("name")
    {
        return text(name);
    }
    "(anonymous)".to_owned()
}

fn parameter_count(node: Node<'_>) -> usize {
    let Some(params) = node
        .child_by_field_name("parameters")
        .or_else(|| node.child_by_field_name("parameter"))
    else {
        return 0;
    };
    if params.kind() == "identifier" {
        return 1;
    }
    let mut count = 0;
    let mut cursor = params.walk();
    for child in params.named_children(&mut cursor) {
        match child.kind() {
            "comment" => {}
            // Go declares several names per type: `a, b int`.
            "parameter_declaration" | "variadic_parameter_declaration" => {
                let mut inner = child.walk();
                let names = child
                    .children_by_field_name("name", &mut inner)
                    .count()
                    .max(1);
                count += names;
            }
            _ => count += 1,
        }
    }
    count
}

/// A function being measured during [`scan`].
struct Frame<'t> {
    /// Index of its entry in the result, filled in when the walk leaves the function.
    index: usize,
    body: Option<Node<'t>>,
    decisions: usize,
    deepest: usize,
}

/// A node on the path from the root to the current node.
struct Open<'t> {
    node: Node<'t>,
    flags: u8,
    /// Nesting depth inside the innermost function's body.
    depth: usize,
    /// Whether the node is (inside) the body of the innermost function.
    in_body: bool,
}

/// The state of one [`scan`].
struct Scanner<'t, 's> {
    kinds: &'static Kinds,
    source: &'s str,
    found: Vec<FunctionMetrics>,
    frames: Vec<Frame<'t>>,
    path: Vec<Open<'t>>,
}

impl<'t> Scanner<'t, '_> {
    fn enter(&mut self, node: Node<'t>, flags: u8, parent: Option<Node<'t>>) {
        if flags & kinds::FUNCTION != 0 {
            self.frames.push(Frame {
                index: self.found.len(),
                body: node.child_by_field_name("body"),
                decisions: 0,
                deepest: 0,
            });
            self.found.push(FunctionMetrics {
                name: name_of(node, parent, self.source),
                line: node.start_position().row + 1,
                lines: node.end_position().row - node.start_position().row + 1,
                parameters: parameter_count(node),
                complexity: 1,
                nesting: 0,
            });
            self.path.push(Open {
                node,
                flags,
                depth: 0,
                in_body: false,
            });
            return;
        }
        let (mut depth, mut in_body, parent_flags) = self
            .path
            .last()
            .map_or((0, false, 0), |o| (o.depth, o.in_body, o.flags));
        if let Some(frame) = self.frames.last_mut() {
            in_body = in_body || frame.body.is_some_and(|b| b.id() == node.id());
            if in_body {
                if is_decision(node, flags) {
                    frame.decisions += 1;
                }
                // `else if` continues a chain; it is not one level deeper.
                if flags & kinds::NESTING != 0 && parent_flags & kinds::ELSE == 0 {
                    depth += 1;
                }
                frame.deepest = frame.deepest.max(depth);
            }
        }
        self.path.push(Open {
            node,
            flags,
            depth,
            in_body,
        });
    }

    fn leave(&mut self) {
        let Some(open) = self.path.pop() else { return };
        if open.flags & kinds::FUNCTION != 0
            && let Some(frame) = self.frames.pop()
        {
            let metrics = &mut self.found[frame.index];
            metrics.complexity = 1 + frame.decisions;
            metrics.nesting = frame.deepest;
        }
    }
}

/// One preorder pass over the whole tree with one cursor: `visit(node, flags, parent)`
/// runs the node rules, and every function's metrics are gathered on the way. (Walking once
/// matters: moving a tree cursor costs more than anything the rules do per node.)
/// Returns the functions in source order.
pub(crate) fn scan<'t>(
    language: Language,
    source: &str,
    root: Node<'t>,
    mut visit: impl FnMut(Node<'t>, u8, Option<Node<'t>>),
) -> Vec<FunctionMetrics> {
    let kinds = kinds::kinds(language);
    let mut scanner = Scanner {
        kinds,
        source,
        found: Vec::new(),
        frames: Vec::new(),
        path: Vec::new(),
    };
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        let flags = scanner.kinds.of(node);
        let parent = scanner.path.last().map(|o| o.node);
        visit(node, flags, parent);
        scanner.enter(node, flags, parent);
        if cursor.goto_first_child() {
            continue;
        }
        scanner.leave();
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return scanner.found;
            }
            scanner.leave();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Language, analyze};

    #[test]
    fn metrics_count_branches_nesting_and_parameters() {
        let rust = "fn pick(a: i32, b: i32) -> i32 {\n    if a > 0 && b > 0 {\n        for i in 0..a {\n            if i == b { return i; }\n        }\n    }\n    match a { 1 => 1, _ => 0 }\n}\n";
        let f = &analyze(Language::Rust, rust).functions[0];
        assert_eq!((f.name.as_str(), f.parameters, f.lines), ("pick", 2, 8));
        // 1 + if + && + for + if + two match arms
        assert_eq!(f.complexity, 7);
        assert_eq!(f.nesting, 3);

        let py = "def f(x, y=1, *rest):\n    if x:\n        return 1\n    elif y:\n        return 2\n    return [i for i in rest if i]\n";
        let f = &analyze(Language::Python, py).functions[0];
        assert_eq!((f.parameters, f.complexity, f.nesting), (3, 4, 1));

        let go = "package m\nfunc add(a, b int, c string) int {\n\tfor a > 0 {\n\t\ta--\n\t}\n\treturn a + b\n}\n";
        let f = &analyze(Language::Go, go).functions[0];
        assert_eq!((f.name.as_str(), f.parameters, f.complexity), ("add", 3, 2));

        let ts = "const handler = (req: Req): number => req.ok ? 1 : 0;\nclass A { run(a: number) { while (a) { a--; } } }\n";
        let fns = analyze(Language::TypeScript, ts).functions;
        assert_eq!(fns[0].name, "handler");
        assert_eq!((fns[0].parameters, fns[0].complexity), (1, 2));
        assert_eq!(
            (fns[1].name.as_str(), fns[1].complexity, fns[1].nesting),
            ("run", 2, 1)
        );
    }
}
