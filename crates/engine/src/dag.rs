//! A workflow version as a graph: each step's successors and predecessors, built once per
//! version and shared by starting runs and running their steps.
//!
//! Validation keeps its own index-based graph, because it must describe definitions that
//! are not valid DAGs; a `Dag` is only ever built from a saved, valid version.

use crate::definition::{StepDefinition, WorkflowDefinition};
use std::collections::{HashMap, HashSet};

#[derive(Debug)]
pub struct Dag {
    definition: WorkflowDefinition,
    successors: HashMap<String, Vec<String>>,
    /// Distinct predecessors: two edges from one step (both branches of a condition) count
    /// once.
    predecessors: HashMap<String, HashSet<String>>,
}

impl Dag {
    pub fn new(definition: WorkflowDefinition) -> Self {
        let mut successors = HashMap::new();
        let mut predecessors: HashMap<String, HashSet<String>> = HashMap::new();
        for step in &definition.steps {
            predecessors.entry(step.id.clone()).or_default();
            successors.insert(
                step.id.clone(),
                step.next.iter().map(|e| e.to.clone()).collect(),
            );
            for edge in &step.next {
                predecessors
                    .entry(edge.to.clone())
                    .or_default()
                    .insert(step.id.clone());
            }
        }
        Self {
            definition,
            successors,
            predecessors,
        }
    }

    pub fn definition(&self) -> &WorkflowDefinition {
        &self.definition
    }

    pub fn step(&self, id: &str) -> Option<&StepDefinition> {
        self.definition.steps.iter().find(|s| s.id == id)
    }

    /// Every step's successors, as the store's completion walks them.
    pub fn successors(&self) -> &HashMap<String, Vec<String>> {
        &self.successors
    }

    /// Whether nothing follows step `id`: its output is part of the run's output.
    pub fn is_end(&self, id: &str) -> bool {
        self.successors.get(id).is_none_or(Vec::is_empty)
    }

    /// How many distinct steps must finish before `id` can run.
    pub fn predecessor_count(&self, id: &str) -> usize {
        self.predecessors.get(id).map_or(0, HashSet::len)
    }

    /// Whether any step leads to `id`: only then can its templates read upstream outputs.
    pub fn has_upstream(&self, id: &str) -> bool {
        self.predecessor_count(id) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predecessors_count_distinct_steps_and_successors_follow_edges() {
        let definition: WorkflowDefinition = serde_json::from_value(serde_json::json!({ "steps": [
            { "id": "check", "type": "condition", "config": { "expression": "true" },
              "next": [{ "to": "join", "branch": "true" }, { "to": "join", "branch": "false" }, { "to": "side", "branch": "true" }] },
            { "id": "side", "type": "template", "config": { "template": "x" }, "next": [{ "to": "join" }] },
            { "id": "join", "type": "template", "config": { "template": "y" } }
        ]}))
        .unwrap();
        let dag = Dag::new(definition);
        assert_eq!(dag.predecessor_count("check"), 0);
        assert!(!dag.has_upstream("check"));
        assert_eq!(dag.predecessor_count("join"), 2);
        assert_eq!(dag.successors()["check"], ["join", "join", "side"]);
        assert_eq!(dag.step("side").map(|s| s.id.as_str()), Some("side"));
        assert!(dag.step("nope").is_none());
    }
}
