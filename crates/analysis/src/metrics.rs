//! Per-function metrics: lines, parameters, cyclomatic complexity, nesting depth.

use crate::Language;
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

pub(crate) fn is_function(language: Language, kind: &str) -> bool {
    match language {
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
    }
}

fn is_decision(node: Node<'_>) -> bool {
    match node.kind() {
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
        | "boolean_operator" => true,
        "binary_expression" => node
            .child_by_field_name("operator")
            .is_some_and(|op| matches!(op.kind(), "&&" | "||" | "??")),
        _ => false,
    }
}

fn is_nesting(node: Node<'_>, parent: Option<Node<'_>>) -> bool {
    let nests = matches!(
        node.kind(),
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
    );
    // `else if` continues a chain; it is not one level deeper.
    nests && !parent.is_some_and(|p| p.kind() == "else_clause" || p.kind() == "alternative")
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

/// Preorder walk with one cursor (node handles are cheap; cursors and `Node::parent`,
/// which searches down from the root, are not). `visit` gets the node and its parent and
/// says whether to descend.
pub(crate) fn walk<'t>(root: Node<'t>, mut visit: impl FnMut(Node<'t>, Option<Node<'t>>) -> bool) {
    let mut cursor = root.walk();
    let mut parents: Vec<Node<'t>> = Vec::new();
    loop {
        let node = cursor.node();
        if visit(node, parents.last().copied()) && cursor.goto_first_child() {
            parents.push(node);
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
            parents.pop();
        }
    }
}

/// Decision points and deepest nesting in a function body, not entering nested functions.
fn measure(language: Language, body: Node<'_>, parent: Node<'_>) -> (usize, usize) {
    let mut decisions = 0;
    let mut deepest = 0;
    // Nesting depth of each open ancestor, innermost last; walk() reports parents, so
    // the depth stack follows them by node id.
    let mut depths: Vec<(usize, usize)> = vec![(parent.id(), 0)];
    walk(body, |node, parent| {
        if is_function(language, node.kind()) {
            return false;
        }
        let parent_id = parent.map_or(depths[0].0, |p| p.id());
        while depths.len() > 1 && depths.last().is_some_and(|(id, _)| *id != parent_id) {
            depths.pop();
        }
        let depth = depths.last().map_or(0, |d| d.1);
        if is_decision(node) {
            decisions += 1;
        }
        let depth = if is_nesting(node, parent) {
            depth + 1
        } else {
            depth
        };
        deepest = deepest.max(depth);
        depths.push((node.id(), depth));
        true
    });
    (decisions, deepest)
}

pub(crate) fn functions(language: Language, source: &str, root: Node<'_>) -> Vec<FunctionMetrics> {
    let mut found = Vec::new();
    walk(root, |node, parent| {
        if is_function(language, node.kind()) {
            let (decisions, nesting) = node
                .child_by_field_name("body")
                .map_or((0, 0), |body| measure(language, body, node));
            found.push(FunctionMetrics {
                name: name_of(node, parent, source),
                line: node.start_position().row + 1,
                lines: node.end_position().row - node.start_position().row + 1,
                parameters: parameter_count(node),
                complexity: 1 + decisions,
                nesting,
            });
        }
        true
    });
    found
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
