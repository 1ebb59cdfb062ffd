//! Where each step of a workflow goes on a canvas: a layered (Sugiyama) layout from the
//! `dagre` crate, top to bottom, every node the same size. Run pages draw it read-only;
//! the builder uses it for workflows saved without positions and for "Tidy up".

use crate::WorkflowDefinition;

pub use aura_types::{NODE_HEIGHT, NODE_WIDTH};

/// A step's box, by its top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedStep {
    pub id: String,
    pub kind: String,
    pub x: f64,
    pub y: f64,
}

/// An edge as a polyline from its source's bottom to its target's top.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedEdge {
    pub from: String,
    pub to: String,
    /// A condition's branch (`true`/`false`), shown on the edge.
    pub branch: Option<String>,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    pub steps: Vec<PlacedStep>,
    pub edges: Vec<PlacedEdge>,
    pub width: f64,
    pub height: f64,
}

/// Lays out `definition`'s steps and edges.
pub fn layout(definition: &WorkflowDefinition) -> Layout {
    use dagre::graph::{Graph, GraphOptions};
    use dagre::{EdgeLabel, LayoutOptions, NodeLabel};
    let mut graph = Graph::with_options(GraphOptions {
        directed: true,
        multigraph: true,
        compound: false,
    });
    for step in &definition.steps {
        let label = NodeLabel {
            width: NODE_WIDTH,
            height: NODE_HEIGHT,
            ..NodeLabel::default()
        };
        graph.set_node(step.id.clone(), Some(label));
    }
    let mut edges = Vec::new();
    for step in &definition.steps {
        for (i, edge) in step.next.iter().enumerate() {
            if definition.steps.iter().any(|s| s.id == edge.to) {
                let name = format!("{}:{i}", step.id);
                graph.set_edge(&step.id, &edge.to, Some(EdgeLabel::default()), Some(&name));
                edges.push((step.id.clone(), edge.to.clone(), edge.branch.clone(), name));
            }
        }
    }
    dagre::layout(
        &mut graph,
        Some(LayoutOptions {
            nodesep: 40.0,
            ranksep: 56.0,
            marginx: 16.0,
            marginy: 16.0,
            ..LayoutOptions::default()
        }),
    );
    let centre = |id: &str| {
        graph
            .node(id)
            .map(|n| (n.x.unwrap_or_default(), n.y.unwrap_or_default()))
            .unwrap_or_default()
    };
    let steps: Vec<PlacedStep> = definition
        .steps
        .iter()
        .map(|step| {
            let (x, y) = centre(&step.id);
            PlacedStep {
                id: step.id.clone(),
                kind: serde_json::to_value(step.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                x: x - NODE_WIDTH / 2.0,
                y: y - NODE_HEIGHT / 2.0,
            }
        })
        .collect();
    let edges = edges
        .into_iter()
        .map(|(from, to, branch, name)| {
            let (fx, fy) = centre(&from);
            let (tx, ty) = centre(&to);
            let bends: Vec<(f64, f64)> = graph
                .edge(&from, &to, Some(&name))
                .map(|e| e.points.iter().map(|p| (p.x, p.y)).collect())
                .unwrap_or_default();
            // Dagre's points run centre to centre; the line leaves the source's bottom
            // edge and enters the target's top edge.
            let inner = bends.get(1..bends.len().saturating_sub(1)).unwrap_or(&[]);
            let mut points = vec![(fx, fy + NODE_HEIGHT / 2.0)];
            points.extend_from_slice(inner);
            points.push((tx, ty - NODE_HEIGHT / 2.0));
            PlacedEdge {
                from,
                to,
                branch,
                points,
            }
        })
        .collect();
    let width = steps.iter().map(|s| s.x + NODE_WIDTH).fold(0.0, f64::max) + 16.0;
    let height = steps.iter().map(|s| s.y + NODE_HEIGHT).fold(0.0, f64::max) + 16.0;
    Layout {
        steps,
        edges,
        width,
        height,
    }
}

impl Layout {
    /// Each step's top-left corner, as the builder stores it.
    pub fn positions(&self) -> aura_types::StepPositions {
        self.steps
            .iter()
            .map(|s| (s.id.clone(), [s.x, s.y]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(value: serde_json::Value) -> WorkflowDefinition {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn steps_are_layered_by_their_edges_and_never_overlap() {
        // A condition fanning out to two branches that join again, plus a wide layer.
        let mut steps = vec![
            json!({ "id": "start", "type": "template", "config": { "template": "x" },
                    "next": [{ "to": "check" }] }),
            json!({ "id": "check", "type": "condition", "config": { "expression": "true" },
                    "next": [{ "to": "yes", "branch": "true" }, { "to": "no", "branch": "false" }] }),
            json!({ "id": "yes", "type": "template", "config": { "template": "y" }, "next": [{ "to": "end" }] }),
            json!({ "id": "no", "type": "template", "config": { "template": "n" }, "next": [{ "to": "end" }] }),
            json!({ "id": "end", "type": "template", "config": { "template": "e" } }),
        ];
        for i in 0..6 {
            steps.push(
                json!({ "id": format!("w{i}"), "type": "template", "config": { "template": "w" } }),
            );
            steps[0]["next"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "to": format!("w{i}") }));
        }
        let placed = layout(&definition(json!({ "steps": steps })));
        let at = |id: &str| placed.steps.iter().find(|s| s.id == id).unwrap();
        assert!(at("start").y < at("check").y);
        assert!(at("check").y < at("yes").y);
        assert_eq!(at("yes").y, at("no").y);
        assert!(at("yes").y < at("end").y);
        for (i, a) in placed.steps.iter().enumerate() {
            for b in &placed.steps[i + 1..] {
                let apart = a.x + NODE_WIDTH <= b.x
                    || b.x + NODE_WIDTH <= a.x
                    || a.y + NODE_HEIGHT <= b.y
                    || b.y + NODE_HEIGHT <= a.y;
                assert!(apart, "{} and {} overlap: {a:?} {b:?}", a.id, b.id);
            }
            assert!(a.x >= 0.0 && a.y >= 0.0);
            assert!(a.x + NODE_WIDTH <= placed.width && a.y + NODE_HEIGHT <= placed.height);
        }
        let branch = placed.edges.iter().find(|e| e.to == "no").unwrap();
        assert_eq!(branch.branch.as_deref(), Some("false"));
        // Edges run from the source's bottom to the target's top.
        let first = branch.points.first().unwrap();
        let last = branch.points.last().unwrap();
        assert_eq!(first.1, at("check").y + NODE_HEIGHT);
        assert_eq!(last.1, at("no").y);
        assert_eq!(placed.edges.len(), 11);
    }
}
