//! The builder's document: a workflow's steps, where each is drawn, and the edges between
//! them, changed only by operations that keep it a graph the engine can run (no cycles,
//! no self-loops, a condition's edges each on a branch). Plain data with no signals, so
//! every operation and undo/redo is unit-tested without a browser; the canvas projects it
//! onto one signal per node.
//!
//! Steps are shared (`Arc`) between the current graph and the undo history, so a snapshot
//! of a 1,000-step workflow copies pointers, not configurations.

use aura_types::definition::{Edge, RetryPolicy, StepDefinition, WorkflowDefinition};
use aura_types::{NODE_HEIGHT, StepKind, StepPositions};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A point on the canvas, in canvas pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// One step as the builder holds it: the definition without its edges, and its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    pub kind: StepKind,
    pub config: Value,
    pub retry: Option<RetryPolicy>,
    pub timeout_ms: Option<u64>,
    /// The node's top-left corner.
    pub at: Point,
}

/// An edge; out of a `condition` it names the branch (`"true"` or `"false"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    pub from: String,
    pub to: String,
    pub branch: Option<String>,
}

/// Why an edit was refused, in words the builder shows as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("A step cannot lead to itself.")]
    SelfLoop,
    #[error("Those steps are already connected.")]
    Duplicate,
    #[error("That would make a loop: {to} already leads to {from}.")]
    Cycle { from: String, to: String },
    #[error("Choose the condition's branch: true or false.")]
    BranchNeeded,
    #[error("Only a condition's edges have a branch.")]
    NoBranch,
    #[error("There is no step {0:?}.")]
    Unknown(String),
    #[error("Use 1–64 lowercase letters, digits or underscores, starting with a letter.")]
    BadId,
    #[error("Another step already has the id {0:?}.")]
    TakenId(String),
}

/// The branches out of a condition, in the order the builder offers them.
pub const BRANCHES: [&str; 2] = ["true", "false"];

/// Vertical room between a node and one appended below it.
const APPEND_GAP: f64 = 56.0;
/// How far a paste or duplicate lands from the original.
const PASTE_OFFSET: f64 = 32.0;

/// Whether `id` is a step id the server accepts.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A starting configuration for a new step of `kind`: the required fields, empty where
/// the user must decide, so validation points at what is left to fill in.
pub fn starter_config(kind: StepKind) -> Value {
    use serde_json::json;
    match kind {
        StepKind::Template => json!({ "template": "" }),
        StepKind::Script => json!({ "code": "return input;" }),
        StepKind::Http => json!({ "method": "GET", "url": "" }),
        StepKind::Condition => json!({ "expression": "" }),
        StepKind::Map => {
            json!({ "items": "", "step": { "type": "template", "config": { "template": "{{ item }}" } } })
        }
        StepKind::Llm => json!({ "model": "", "prompt": "" }),
        StepKind::Analysis => json!({ "project": "", "paths": [] }),
        StepKind::Approval => json!({ "message": "" }),
        StepKind::Agent => json!({ "goal": "", "project": "", "model": "" }),
    }
}

/// Steps and edges, in the order the definition lists them: the first step is where a
/// run starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    pub nodes: Vec<Arc<Node>>,
    pub links: Vec<Link>,
}

impl Graph {
    /// The graph of `definition`, each step where `positions` puts it (or at the origin;
    /// the server lays out workflows saved without positions before the builder opens).
    pub fn from_definition(definition: &WorkflowDefinition, positions: &StepPositions) -> Self {
        let nodes = definition
            .steps
            .iter()
            .map(|s| {
                let [x, y] = positions.get(&s.id).copied().unwrap_or_default();
                Arc::new(Node {
                    id: s.id.clone(),
                    kind: s.kind,
                    config: s.config.clone(),
                    retry: s.retry.clone(),
                    timeout_ms: s.timeout_ms,
                    at: Point { x, y },
                })
            })
            .collect();
        let links = definition
            .steps
            .iter()
            .flat_map(|s| {
                s.next.iter().map(|e| Link {
                    from: s.id.clone(),
                    to: e.to.clone(),
                    branch: e.branch.clone(),
                })
            })
            .collect();
        Graph { nodes, links }
    }

    /// The definition to save: each step with its edges in the order they were made.
    pub fn to_definition(&self) -> WorkflowDefinition {
        let steps = self
            .nodes
            .iter()
            .map(|n| StepDefinition {
                id: n.id.clone(),
                kind: n.kind,
                config: n.config.clone(),
                retry: n.retry.clone(),
                timeout_ms: n.timeout_ms,
                next: self
                    .links
                    .iter()
                    .filter(|l| l.from == n.id)
                    .map(|l| Edge {
                        to: l.to.clone(),
                        branch: l.branch.clone(),
                    })
                    .collect(),
            })
            .collect();
        WorkflowDefinition { steps }
    }

    pub fn positions(&self) -> StepPositions {
        self.nodes
            .iter()
            .map(|n| (n.id.clone(), [n.at.x, n.at.y]))
            .collect()
    }

    pub fn node(&self, id: &str) -> Option<&Arc<Node>> {
        self.nodes.iter().find(|n| n.id == id)
    }

    fn node_mut(&mut self, id: &str) -> Option<&mut Node> {
        self.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .map(Arc::make_mut)
    }

    /// An id no step has, from `base` (`http`, `http_2`, …).
    pub fn fresh_id(&self, base: &str) -> String {
        let taken: HashSet<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
        if !taken.contains(base) {
            return base.to_owned();
        }
        (2..)
            .map(|n| format!("{base}_{n}"))
            .find(|id| !taken.contains(id.as_str()))
            .unwrap_or_default()
    }

    /// Adds a step of `kind` at `at`; returns its id.
    pub fn add(&mut self, kind: StepKind, at: Point) -> String {
        let id = self.fresh_id(kind.as_str());
        self.nodes.push(Arc::new(Node {
            id: id.clone(),
            kind,
            config: starter_config(kind),
            retry: None,
            timeout_ms: None,
            at,
        }));
        id
    }

    /// Adds a step of `kind` below `after` and connects them (out of a condition, on its
    /// first branch without an edge); with no `after`, below the lowest step.
    pub fn append(&mut self, kind: StepKind, after: Option<&str>) -> String {
        let below = |n: &Node| Point {
            x: n.at.x,
            y: n.at.y + NODE_HEIGHT + APPEND_GAP,
        };
        let Some(parent) = after.and_then(|id| self.node(id)).cloned() else {
            let at = self
                .nodes
                .iter()
                .max_by(|a, b| a.at.y.total_cmp(&b.at.y))
                .map(|n| below(n))
                .unwrap_or(Point { x: 40.0, y: 40.0 });
            return self.add(kind, at);
        };
        let siblings = self.links.iter().filter(|l| l.from == parent.id).count();
        let mut at = below(&parent);
        at.x += siblings as f64 * (aura_types::NODE_WIDTH + 24.0);
        let id = self.add(kind, at);
        let branch = (parent.kind == StepKind::Condition).then(|| {
            BRANCHES
                .into_iter()
                .find(|b| {
                    !self
                        .links
                        .iter()
                        .any(|l| l.from == parent.id && l.branch.as_deref() == Some(b))
                })
                .unwrap_or(BRANCHES[0])
                .to_owned()
        });
        // A new step has no edges yet, so this cannot make a loop.
        let _ = self.connect(&parent.id, &id, branch);
        id
    }

    /// Whether `to` can reach `from` along edges, so `from → to` would close a loop.
    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut next: HashMap<&str, Vec<&str>> = HashMap::new();
        for l in &self.links {
            next.entry(l.from.as_str()).or_default().push(l.to.as_str());
        }
        let mut seen = HashSet::new();
        let mut stack = vec![from];
        while let Some(at) = stack.pop() {
            if at == to {
                return true;
            }
            if seen.insert(at) {
                stack.extend(next.get(at).into_iter().flatten());
            }
        }
        false
    }

    /// The steps that always run before `id` (its ancestors), in definition order: what
    /// its templates may read as `steps.<id>.output`.
    pub fn upstream(&self, id: &str) -> Vec<String> {
        let mut before: HashMap<&str, Vec<&str>> = HashMap::new();
        for l in &self.links {
            before
                .entry(l.to.as_str())
                .or_default()
                .push(l.from.as_str());
        }
        let mut seen = HashSet::new();
        let mut stack = before.get(id).cloned().unwrap_or_default();
        while let Some(at) = stack.pop() {
            if seen.insert(at) {
                stack.extend(before.get(at).into_iter().flatten());
            }
        }
        self.nodes
            .iter()
            .filter(|n| seen.contains(n.id.as_str()))
            .map(|n| n.id.clone())
            .collect()
    }

    /// Adds the edge `from → to`, refusing loops, duplicates, and a branch that does not
    /// fit the source's type.
    pub fn connect(
        &mut self,
        from: &str,
        to: &str,
        branch: Option<String>,
    ) -> Result<(), EditError> {
        let source = self
            .node(from)
            .ok_or_else(|| EditError::Unknown(from.to_owned()))?;
        if self.node(to).is_none() {
            return Err(EditError::Unknown(to.to_owned()));
        }
        match (source.kind == StepKind::Condition, branch.as_deref()) {
            (true, Some(b)) if BRANCHES.contains(&b) => {}
            (true, _) => return Err(EditError::BranchNeeded),
            (false, Some(_)) => return Err(EditError::NoBranch),
            (false, None) => {}
        }
        if from == to {
            return Err(EditError::SelfLoop);
        }
        if self
            .links
            .iter()
            .any(|l| l.from == from && l.to == to && l.branch == branch)
        {
            return Err(EditError::Duplicate);
        }
        if self.reaches(to, from) {
            return Err(EditError::Cycle {
                from: from.to_owned(),
                to: to.to_owned(),
            });
        }
        self.links.push(Link {
            from: from.to_owned(),
            to: to.to_owned(),
            branch,
        });
        Ok(())
    }

    /// Removes one edge; `false` when there was none.
    pub fn disconnect(&mut self, link: &Link) -> bool {
        let before = self.links.len();
        self.links.retain(|l| l != link);
        self.links.len() != before
    }

    /// Removes the steps and every edge into or out of them.
    pub fn remove(&mut self, ids: &HashSet<String>) {
        self.nodes.retain(|n| !ids.contains(&n.id));
        self.links
            .retain(|l| !ids.contains(&l.from) && !ids.contains(&l.to));
    }

    /// Moves the steps by `(dx, dy)`.
    pub fn shift(&mut self, ids: &HashSet<String>, dx: f64, dy: f64) {
        for node in self.nodes.iter_mut().filter(|n| ids.contains(&n.id)) {
            let node = Arc::make_mut(node);
            node.at.x += dx;
            node.at.y += dy;
        }
    }

    /// Puts each step where `positions` says.
    pub fn place(&mut self, positions: &StepPositions) {
        for node in &mut self.nodes {
            if let Some(&[x, y]) = positions.get(&node.id) {
                let at = Point { x, y };
                if node.at != at {
                    Arc::make_mut(node).at = at;
                }
            }
        }
    }

    /// Replaces a step's settings (everything but its id, edges and position).
    pub fn set_step(
        &mut self,
        id: &str,
        config: Value,
        retry: Option<RetryPolicy>,
        timeout_ms: Option<u64>,
    ) -> Result<(), EditError> {
        let node = self
            .node_mut(id)
            .ok_or_else(|| EditError::Unknown(id.to_owned()))?;
        node.config = config;
        node.retry = retry;
        node.timeout_ms = timeout_ms;
        Ok(())
    }

    /// Renames a step and the edges that name it. Templates that read `steps.<old>` are
    /// left as written: validation then points at each one.
    pub fn rename(&mut self, old: &str, new: &str) -> Result<(), EditError> {
        if old == new {
            return Ok(());
        }
        if !is_valid_id(new) {
            return Err(EditError::BadId);
        }
        if self.node(new).is_some() {
            return Err(EditError::TakenId(new.to_owned()));
        }
        self.node_mut(old)
            .ok_or_else(|| EditError::Unknown(old.to_owned()))?
            .id = new.to_owned();
        for link in &mut self.links {
            if link.from == old {
                link.from = new.to_owned();
            }
            if link.to == old {
                link.to = new.to_owned();
            }
        }
        Ok(())
    }

    /// The steps `ids` and the edges among them, for the clipboard.
    pub fn copy(&self, ids: &HashSet<String>) -> Graph {
        Graph {
            nodes: self
                .nodes
                .iter()
                .filter(|n| ids.contains(&n.id))
                .cloned()
                .collect(),
            links: self
                .links
                .iter()
                .filter(|l| ids.contains(&l.from) && ids.contains(&l.to))
                .cloned()
                .collect(),
        }
    }

    /// Adds a copy of `clip`, offset so it does not cover the original, with fresh ids
    /// where they are taken. Returns the new ids.
    pub fn paste(&mut self, clip: &Graph) -> Vec<String> {
        let mut renamed = HashMap::new();
        let mut added = Vec::new();
        for node in &clip.nodes {
            let base = node
                .id
                .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
            let id = self.fresh_id(if is_valid_id(base) { base } else { "step" });
            renamed.insert(node.id.clone(), id.clone());
            let mut copy = Node::clone(node);
            copy.id = id.clone();
            copy.at.x += PASTE_OFFSET;
            copy.at.y += PASTE_OFFSET;
            self.nodes.push(Arc::new(copy));
            added.push(id);
        }
        for link in &clip.links {
            if let (Some(from), Some(to)) = (renamed.get(&link.from), renamed.get(&link.to)) {
                self.links.push(Link {
                    from: from.clone(),
                    to: to.clone(),
                    branch: link.branch.clone(),
                });
            }
        }
        added
    }
}

/// How one graph differs from another, step by step (positions aside).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// In both, with different settings or edges out.
    pub changed: Vec<String>,
}

impl StepDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// What changed from `old` to `new`.
pub fn diff(old: &Graph, new: &Graph) -> StepDiff {
    let out = |g: &Graph, id: &str| -> Vec<Link> {
        g.links.iter().filter(|l| l.from == id).cloned().collect()
    };
    let mut d = StepDiff::default();
    for n in &new.nodes {
        match old.node(&n.id) {
            None => d.added.push(n.id.clone()),
            Some(o) => {
                let same = o.kind == n.kind
                    && o.config == n.config
                    && o.retry == n.retry
                    && o.timeout_ms == n.timeout_ms
                    && out(old, &n.id) == out(new, &n.id);
                if !same {
                    d.changed.push(n.id.clone());
                }
            }
        }
    }
    d.removed = old
        .nodes
        .iter()
        .filter(|o| new.node(&o.id).is_none())
        .map(|o| o.id.clone())
        .collect();
    d
}

/// Undo and redo as snapshots of the whole graph (cheap: steps are shared).
#[derive(Debug, Clone, Default)]
pub struct History {
    past: Vec<Graph>,
    future: Vec<Graph>,
}

/// Edits kept for undo; older ones are forgotten.
const UNDO_DEPTH: usize = 200;

impl History {
    /// Remembers `before`, the graph as it was before an edit; a new edit forgets what
    /// was undone.
    pub fn record(&mut self, before: Graph) {
        if self.past.last() == Some(&before) {
            return;
        }
        if self.past.len() == UNDO_DEPTH {
            self.past.remove(0);
        }
        self.past.push(before);
        self.future.clear();
    }

    /// The graph before the last edit, given the current one; `None` with nothing to undo.
    pub fn undo(&mut self, current: Graph) -> Option<Graph> {
        let previous = self.past.pop()?;
        self.future.push(current);
        Some(previous)
    }

    pub fn redo(&mut self, current: Graph) -> Option<Graph> {
        let next = self.future.pop()?;
        self.past.push(current);
        Some(next)
    }

    pub fn can_undo(&self) -> bool {
        !self.past.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(steps: Value) -> Graph {
        let definition: WorkflowDefinition =
            serde_json::from_value(json!({ "steps": steps })).unwrap();
        Graph::from_definition(&definition, &StepPositions::new())
    }

    fn ids(list: &[&str]) -> HashSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn chain() -> Graph {
        graph(json!([
            { "id": "a", "type": "template", "config": { "template": "a" }, "next": [{ "to": "b" }] },
            { "id": "b", "type": "condition", "config": { "expression": "true" },
              "next": [{ "to": "c", "branch": "true" }] },
            { "id": "c", "type": "template", "config": { "template": "c" } },
        ]))
    }

    #[test]
    fn a_definition_round_trips_through_the_graph() {
        let definition: WorkflowDefinition = serde_json::from_value(json!({ "steps": [
            { "id": "a", "type": "http", "config": { "method": "GET", "url": "u" },
              "retry": { "max_attempts": 5 }, "timeout_ms": 900, "next": [{ "to": "b" }] },
            { "id": "b", "type": "template", "config": { "template": "b" } },
        ]}))
        .unwrap();
        let positions: StepPositions = [("a".to_owned(), [10.0, 20.0])].into();
        let g = Graph::from_definition(&definition, &positions);
        assert_eq!(g.to_definition(), definition);
        assert_eq!(g.node("a").unwrap().at, Point { x: 10.0, y: 20.0 });
        assert_eq!(g.node("b").unwrap().at, Point::default());
    }

    #[test]
    fn connecting_refuses_loops_duplicates_and_misplaced_branches() {
        let mut g = chain();
        assert_eq!(
            g.connect("c", "a", None),
            Err(EditError::Cycle {
                from: "c".into(),
                to: "a".into()
            })
        );
        assert_eq!(g.connect("a", "a", None), Err(EditError::SelfLoop));
        assert_eq!(g.connect("a", "b", None), Err(EditError::Duplicate));
        assert_eq!(g.connect("b", "a", None), Err(EditError::BranchNeeded));
        assert_eq!(
            g.connect("a", "c", Some("true".into())),
            Err(EditError::NoBranch)
        );
        assert_eq!(
            g.connect("b", "nope", Some("false".into())),
            Err(EditError::Unknown("nope".into()))
        );
        // The same pair on the other branch is a different edge.
        g.connect("b", "c", Some("false".into())).unwrap();
        g.connect("a", "c", None).unwrap();
        assert_eq!(g.links.len(), 4);
        let out_of_b: Vec<_> = g.to_definition().steps[1]
            .next
            .iter()
            .map(|e| e.branch.clone().unwrap())
            .collect();
        assert_eq!(out_of_b, ["true", "false"]);
    }

    #[test]
    fn upstream_steps_are_the_ancestors_in_definition_order() {
        let mut g = chain();
        g.append(StepKind::Http, None);
        assert_eq!(g.upstream("c"), ["a", "b"]);
        assert!(g.upstream("a").is_empty());
        assert!(g.upstream("http").is_empty());
    }

    #[test]
    fn deleting_a_step_takes_its_edges_with_it() {
        let mut g = chain();
        g.remove(&ids(&["b"]));
        assert_eq!(g.nodes.len(), 2);
        assert!(g.links.is_empty());
        // What remains still saves: no edge points at the deleted step.
        assert!(g.to_definition().steps.iter().all(|s| s.next.is_empty()));
    }

    #[test]
    fn appending_connects_below_the_selected_step_on_a_free_branch() {
        let mut g = chain();
        let id = g.append(StepKind::Http, Some("b"));
        assert_eq!(id, "http");
        let link = g.links.iter().find(|l| l.to == "http").unwrap();
        assert_eq!(
            (link.from.as_str(), link.branch.as_deref()),
            ("b", Some("false"))
        );
        assert!(g.node("http").unwrap().at.y > g.node("b").unwrap().at.y);
        assert_eq!(g.append(StepKind::Http, None), "http_2");
        assert_eq!(
            g.node("http_2").unwrap().config,
            starter_config(StepKind::Http)
        );
    }

    #[test]
    fn renaming_follows_the_edges_and_refuses_bad_or_taken_ids() {
        let mut g = chain();
        assert_eq!(g.rename("b", "Bad id"), Err(EditError::BadId));
        assert_eq!(g.rename("b", "c"), Err(EditError::TakenId("c".into())));
        g.rename("b", "check").unwrap();
        assert!(g.links.iter().all(|l| l.from != "b" && l.to != "b"));
        assert_eq!(
            g.links
                .iter()
                .filter(|l| l.to == "check" || l.from == "check")
                .count(),
            2
        );
    }

    #[test]
    fn paste_gives_fresh_ids_and_keeps_the_edges_among_the_copies() {
        let mut g = chain();
        let clip = g.copy(&ids(&["a", "b"]));
        assert_eq!(clip.links.len(), 1);
        let added = g.paste(&clip);
        assert_eq!(added, ["a_2", "b_2"]);
        assert!(g.links.contains(&Link {
            from: "a_2".into(),
            to: "b_2".into(),
            branch: None
        }));
        let copy = g.node("a_2").unwrap();
        assert_eq!(
            copy.at,
            Point {
                x: PASTE_OFFSET,
                y: PASTE_OFFSET
            }
        );
        assert_eq!(g.nodes.len(), 5);
    }

    #[test]
    fn a_diff_names_added_removed_and_changed_steps_but_not_moves() {
        let old = chain();
        let mut new = old.clone();
        new.shift(&ids(&["a"]), 100.0, 0.0);
        assert!(diff(&old, &new).is_empty());
        new.remove(&ids(&["c"]));
        new.append(StepKind::Http, Some("a"));
        let n = new.node("b").unwrap().clone();
        new.set_step(
            "b",
            json!({ "expression": "false" }),
            n.retry.clone(),
            n.timeout_ms,
        )
        .unwrap();
        let d = diff(&old, &new);
        assert_eq!(d.added, ["http"]);
        assert_eq!(d.removed, ["c"]);
        // `a` gained an edge; `b` changed its expression and lost its edge to `c`.
        assert_eq!(d.changed, ["a", "b"]);
    }

    #[test]
    fn undo_and_redo_walk_the_edits_and_a_new_edit_forgets_the_redo() {
        let mut g = chain();
        let mut history = History::default();
        let original = g.clone();

        history.record(g.clone());
        g.remove(&ids(&["c"]));
        let after_delete = g.clone();
        history.record(g.clone());
        g.shift(&ids(&["a"]), 10.0, 5.0);

        g = history.undo(g).unwrap();
        assert_eq!(g, after_delete);
        g = history.undo(g).unwrap();
        assert_eq!(g, original);
        assert!(!history.can_undo());
        g = history.redo(g).unwrap();
        assert_eq!(g, after_delete);

        // A fresh edit after an undo drops the undone future.
        history.record(g.clone());
        g.append(StepKind::Template, Some("a"));
        assert!(!history.can_redo());
        g = history.undo(g).unwrap();
        assert_eq!(g, after_delete);
        // Unchanged steps are shared with the snapshots, not copied.
        assert!(Arc::ptr_eq(&g.nodes[0], &after_delete.nodes[0]));
    }
}
